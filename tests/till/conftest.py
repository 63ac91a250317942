import pytest

from tests.members.factories import MemberFactory


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def basket(member, store):
    """A basket body for `member` at the POS's store: three lines (10.00, 20.00, 30.00)."""

    def make(coupon_codes=(), offer_response_ids=(), lines=None, **extra):
        return {
            "member": member.external_id,
            "store": store.code,
            "lines": lines
            if lines is not None
            else [
                {"line_ref": "1", "sku": "MILK", "quantity": 1, "unit_price": "10.00"},
                {"line_ref": "2", "sku": "BREAD", "quantity": 2, "unit_price": "10.00"},
                {"line_ref": "3", "sku": "WINE", "quantity": 1, "unit_price": "30.00"},
            ],
            "coupon_codes": list(coupon_codes),
            "offer_response_ids": list(offer_response_ids),
            **extra,
        }

    return make
