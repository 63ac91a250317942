from config.errors import DomainError

BATCH_ID_REUSED = "batch_id_reused"
MEMBER_NOT_FOUND = "member_not_found"
MALFORMED_ROW = "malformed_row"


class OfflineBatchError(DomainError):
    code = "offline_batch_error"
    title = "The offline batch cannot be taken"
