"""Epidemiological investigation: close, secondary and companion contacts from movement data."""
