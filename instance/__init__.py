"""Gapo's server: everything that knows about *this* instance."""

__version__ = "0.1.0"
