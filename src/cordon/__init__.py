"""Cordon: an outbreak command platform for border cities."""

__version__ = "0.1.0"
