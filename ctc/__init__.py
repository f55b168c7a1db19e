"""Coat Tail Capital: crypto market anomaly detectors as declarative YAML specs."""

__version__ = "0.1.0"
