from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from .operations import DatabaseOperations

if is_psycopg3:
    from .queries import ServerBindingCursor


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self):
        params = super().get_connection_params()
        if is_psycopg3 and params.get("cursor_factory") is base.ServerBindingCursor:
            params["cursor_factory"] = ServerBindingCursor
        return params
