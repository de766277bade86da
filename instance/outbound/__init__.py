"""Outbound federation: rows to ActivityPub documents (`to_ap`), the outbox, fan-out and delivery."""
