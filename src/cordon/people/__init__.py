"""The people registry: persons and households, with their identity data protected."""
