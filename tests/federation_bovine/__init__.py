"""Independent ActivityPub peers (own virtualenvs, separate processes) for interop tests."""
