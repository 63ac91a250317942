from config.errors import DomainError

RETURN_EXCEEDS_PURCHASE = "return_exceeds_purchase"
RETURN_WINDOW_CLOSED = "return_window_closed"
RETURN_ID_REUSED = "return_id_reused"
PURCHASE_NOT_FOUND = "purchase_not_found"


class ReturnError(DomainError):
    code = "return_error"
    title = "The return cannot be recorded"
