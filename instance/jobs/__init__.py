"""The persistent job queue and its runner: deliveries, inbox processing, fetches."""
