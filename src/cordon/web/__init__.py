"""The web shell: dependencies, templates, static files and translations shared by slices."""
