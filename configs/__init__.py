"""TOML configurations: `default.toml` holds every default (read by `models.config`)."""
