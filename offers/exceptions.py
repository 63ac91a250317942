from config.errors import DomainError


class OfferError(DomainError):
    code = "offer_error"
    title = "Offer rule violated"


class ActivationError(DomainError):
    code = "activation_error"
    title = "The offer cannot be activated"


class TransactionError(DomainError):
    code = "transaction_error"
    title = "The transaction cannot be recorded"
