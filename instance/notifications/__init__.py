"""Notifications of local people: the one writer every action calls."""
