import pytest
from django.db import connection

from coupons.models import Coupon
from coupons.selectors import code_lookup, coupon_by_code
from tests.coupons.factories import CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_coupon_by_code_finds_unique_and_common_codes_case_insensitively():
    from config.actors import Actor
    from coupons.issuance.services import coupon_issue

    member = MemberFactory()
    issued = coupon_issue(series=CouponSeriesFactory(), member=member, actor=Actor.system())
    assert coupon_by_code(code=f" {issued.coupon.code.lower()} ").pk == issued.coupon.pk
    assert coupon_by_code(code="NO-SUCH-CODE") is None


@pytest.mark.postgres
def test_code_lookup_uses_the_partial_unique_indexes():
    with connection.cursor() as cursor:
        # Planned with rows and statistics: on an empty table the planner may as well walk the primary key
        # backwards, which on the partitioned table, (id, code), holds the code too.
        cursor.execute(
            "INSERT INTO coupons_coupon (series_id, code, is_common, member_id, status, is_reversed,"
            " last_status_change_on, created_at)"
            " SELECT 1, 'FILL' || n, false, n, 'issued', false, now(), now() FROM generate_series(1, 2000) n"
        )
        cursor.execute("ANALYZE coupons_coupon")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = Coupon.objects.filter(code_lookup("ABC123")).order_by("-id")[:1].explain()
    assert "coupons_coupon_code_unique" in plan
    assert "coupons_coupon_common_once_per_member" in plan
