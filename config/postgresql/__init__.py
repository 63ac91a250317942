"""Django's PostgreSQL backend, with integer parameters that are never truncated on their way to the server."""
