"""The built-in form kinds, one TOML file per kind (read by models.template)."""
