"""Follows, blocks and mutes between accounts, local and remote."""
