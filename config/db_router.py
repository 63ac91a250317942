"""Which database a read goes to: the primary, unless its caller said it may lag and a replica is configured.

The `replica` alias (REPLICA_DATABASE_URL) is a streaming standby of the primary: seconds behind at worst,
read-only. Reads are sent there by their caller, never by model: the same coupon table is read by the till
(which must see the redemption it just wrote) and by an export (which can be a few seconds old). So the
router routes nothing by itself; three places opt in:
- `reads_may_lag()` around a service's reads (export runs, the liability report), whose ORM reads the router
  then sends to the replica, and whose raw SQL uses the alias it yields;
- `LaggingChangelistAdminMixin` on an admin class, for its changelist pages (GET only);
- anything else that wants the replica says so with `using(replica_alias())`.
Writes always go to the primary, and so does every read made inside a transaction on the primary: a
transaction reads its own writes and locks rows there, so it can never be served by the standby.
"""

import contextlib
import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_reads_may_lag = contextvars.ContextVar("reads_may_lag", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_alias() -> str:
    """The alias for a read that may lag: the replica when there is one and no transaction is open on the primary."""
    if replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextlib.contextmanager
def reads_may_lag():
    """Send this block's ORM reads to the replica (when there is one); yields the alias for its raw SQL."""
    token = _reads_may_lag.set(True)
    try:
        yield replica_alias()
    finally:
        _reads_may_lag.reset(token)


class LaggingReadsRouter:
    def db_for_read(self, model, **hints):
        if _reads_may_lag.get():
            return replica_alias()
        return None  # the instance's own database when there is one (a row read from the replica), else default

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the primary's rows: a row read from either (or not saved yet) may point at one read
        # from the other.
        if {obj1._state.db, obj2._state.db} <= {None, DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The standby replays the primary's WAL, schema included; nothing is ever migrated on it.
        return db != REPLICA


class LaggingChangelistAdminMixin:
    """An admin class's list pages read the replica; its actions, edits and change pages use the primary.

    The whole GET is rendered inside the block, so the template's lazy reads (related rows, counts) go to the
    replica too. A POST to the changelist (an action, list_editable) is a write and stays on the primary.
    """

    def changelist_view(self, request, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return super().changelist_view(request, extra_context)
        with reads_may_lag():
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response
