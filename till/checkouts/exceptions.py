from config.errors import DomainError


class CheckoutError(DomainError):
    code = "checkout_refused"
    title = "The checkout cannot go ahead"


class CheckoutTransitionError(DomainError):
    code = "illegal_transition"
    title = "The checkout cannot move to that status"


class HoldExpiredError(DomainError):
    code = "hold_expired"
    title = "The checkout's holds have lapsed"
