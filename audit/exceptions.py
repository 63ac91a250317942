from config.errors import DomainError


class HistoryKeptError(DomainError):
    """A delete that would remove append-only history (events, ledger lines, redemptions, audit rows)."""

    code = "history_kept"
    title = "The object has history that is kept"
