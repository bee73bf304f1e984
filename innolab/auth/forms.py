"""Forms of this blueprint."""
