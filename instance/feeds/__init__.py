"""Feeds: the home feed, local and federated timelines, notifications."""
