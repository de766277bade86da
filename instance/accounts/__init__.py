"""Accounts: sign-up, login, sessions, passwords, profiles and key pairs."""
