"""What the till's route tests send: the two endpoints and a request body."""

VALIDATE, REDEEM = "/api/v1/coupons/validate", "/api/v1/coupons/redeem"


def body(coupon, store, **overrides):
    return {"code": coupon.code, "member": coupon.member.external_id, "store": store.code, "bill_amount": "50.00",
            **overrides}  # fmt: skip
