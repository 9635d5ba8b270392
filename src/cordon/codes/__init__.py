"""Health codes: red/yellow/green decided from the facts ledger under a versioned rule pack."""
