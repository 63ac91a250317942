"""The till's cross-app records; each sub-domain keeps its models in its own package and they are gathered here."""
