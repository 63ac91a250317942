"""Server-side binding cursors that convert a fixed statement's placeholders once, whatever its parameter count.

psycopg turns `%s` placeholders into `$n` by parsing the statement's text, and keeps the result only for statements
of at most 50 parameters (and 4 kB): a guard against ORM statements whose text changes with the number of values.
The till's redemption is one statement of fixed text with more parameters than that (the coupon's move, its event,
the redemption row, the webhook event and the Idempotency-Key), so psycopg parsed its 2.5 kB again on every
redemption: about a tenth of the request's Python time. Statements of fixed text up to `MAX_CACHED_PARAMS`
parameters now keep their conversion too; longer or larger ones are converted each time, as psycopg does.
"""

from django.db.backends.postgresql.base import ServerBindingCursor as DjangoServerBindingCursor
from psycopg import _queries

MAX_CACHED_PARAMS = 200


class PostgresQuery(_queries.PostgresQuery):
    def convert(self, query, vars):
        if (
            vars is not None
            and isinstance(query, (bytes, str))
            and _queries.MAX_CACHED_STATEMENT_PARAMS < len(vars) <= MAX_CACHED_PARAMS
        ):
            query = self._ensure_bytes(query)
            if len(query) <= _queries.MAX_CACHED_STATEMENT_LENGTH:
                self.query, self._want_formats, self._order, self._parts = _queries._query2pg(query, self._tx.encoding)
                self.dump(vars)
                return
        super().convert(query, vars)


class ServerBindingCursor(DjangoServerBindingCursor):
    _query_cls = PostgresQuery
