"""Background jobs: long work off the request path, with progress, cancel and resume."""
