"""The event types other systems can subscribe to (API_CONTRACT.md, "Outbound events")."""

COUPON_ISSUED = "coupon.issued"
COUPON_REDEEMED = "coupon.redeemed"
COUPON_REVERSED = "coupon.reversed"
COUPON_EXPIRED = "coupon.expired"
COUPON_REVOKED = "coupon.revoked"
OFFER_RESPONSE_CREATED = "offer_response.created"
OFFER_RESPONSE_STATUS_CHANGED = "offer_response.status_changed"
REWARD_REDEEMED = "reward.redeemed"
REWARD_AWARDED = "reward.awarded"
TRANSACTION_RECORDED = "transaction.recorded"
RETURN_RECORDED = "return.recorded"
UPLOAD_FINISHED = "upload.finished"
BULK_ISSUE_FINISHED = "bulk_issue.finished"
EXPORT_RUN_FINISHED = "export_run.finished"

EVENT_TYPES = (
    COUPON_ISSUED,
    COUPON_REDEEMED,
    COUPON_REVERSED,
    COUPON_EXPIRED,
    COUPON_REVOKED,
    OFFER_RESPONSE_CREATED,
    OFFER_RESPONSE_STATUS_CHANGED,
    REWARD_REDEEMED,
    REWARD_AWARDED,
    TRANSACTION_RECORDED,
    RETURN_RECORDED,
    UPLOAD_FINISHED,
    BULK_ISSUE_FINISHED,
    EXPORT_RUN_FINISHED,
)
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]
