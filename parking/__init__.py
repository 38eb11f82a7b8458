"""parking-guide: real-time parking guidance for hospitals and the streets around them."""

__version__ = "0.1.0"
