"""The security team's console at /console: policy matrix, explain, diff, reload and seal status, access-log search."""
