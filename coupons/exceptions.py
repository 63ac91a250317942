from config.errors import DomainError, InvalidInputError


class CouponSeriesError(DomainError):
    code = "coupon_series_error"
    title = "The coupon series forbids this"


class CouponSeriesInvalidError(InvalidInputError):
    code = "invalid"
    title = "Invalid coupon series settings"


class SettingLockedError(DomainError):
    code = "setting_locked"
    title = "This setting can no longer change"


class CouponIssueError(DomainError):
    code = "coupon_not_issued"
    title = "The coupon cannot be issued to this member"


class CouponTransitionError(DomainError):
    code = "illegal_transition"
    title = "The coupon cannot move to that status"


class UploadError(DomainError):
    code = "upload_not_allowed"
    title = "This upload is not allowed"


class RedemptionError(DomainError):
    code = "coupon_not_redeemable"
    title = "The coupon cannot be redeemed"


class ExchangeRateMissingError(DomainError):
    code = "exchange_rate_missing"
    title = "No exchange rate for the coupon's currency"


class TransferError(DomainError):
    code = "coupon_not_transferable"
    title = "The coupon cannot be transferred"


class ResendError(DomainError):
    code = "coupon_not_resendable"
    title = "The coupon cannot be resent"


class ConfirmationRequiredError(InvalidInputError):
    code = "confirmation_required"
    title = "Confirmation required"


class UploadTransitionError(DomainError):
    code = "illegal_transition"
    title = "The upload cannot move to that status"


class SeriesRevokeJobTransitionError(DomainError):
    code = "illegal_transition"
    title = "The revoke job cannot move to that status"


class BulkIssueJobTransitionError(DomainError):
    code = "illegal_transition"
    title = "The bulk issuance job cannot move to that status"
