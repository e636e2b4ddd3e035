"""Authentication: users, sessions, access tokens, API keys, throttling and auth events."""
