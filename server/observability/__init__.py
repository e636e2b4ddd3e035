"""Metrics, logs and the request line: how the service is watched in operation."""
