"""The audit log: who read or changed which personal record, when and from where."""
