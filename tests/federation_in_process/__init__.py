"""App-level federation tests: the Quart app against fake remote peers on loopback."""
