from config.errors import DomainError

TRANSACTION_ID_REUSED = "transaction_id_reused"


class OfferError(DomainError):
    code = "offer_error"
    title = "Offer rule violated"


class ActivationError(DomainError):
    code = "activation_error"
    title = "The offer cannot be activated"


class TransactionError(DomainError):
    code = "transaction_error"
    title = "The transaction cannot be recorded"


class OfferResponseError(DomainError):
    code = "offer_response_error"
    title = "The offer response cannot change this way"
