"""Running GraphQL operations: one runner for HTTP, the command line and the tests."""
