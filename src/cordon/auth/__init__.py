"""Users, roles and permissions, jurisdictions, sessions and API tokens."""
