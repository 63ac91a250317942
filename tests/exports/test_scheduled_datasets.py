import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from config.actors import Actor
from exports import services
from exports.datasets import dataset_get
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory
from tests.offers.factories import OfferResponseFactory
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def export(dataset, *, columns, filters=None):
    definition = services.export_definition_create(name=dataset, dataset=dataset, columns=columns,
                                                   filters=filters or {}, actor=ACTOR)  # fmt: skip
    run = services.export_run_create(definition=definition, actor=ACTOR)
    run = services.export_run_execute(run_id=run.pk, actor=ACTOR)
    assert run.status == "succeeded", run.error
    with default_storage.open(run.file.name, "rb") as handle:
        rows = list(csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline="")))
    assert run.rows == len(rows) - 1
    return rows


def test_export_datasets_offer_responses_coupons_and_certificate_codes_are_registered():
    for name in ("offer_responses", "coupons", "certificate_codes", "coupon_redemptions"):
        assert dataset_get(name) is not None, name


def test_export_offer_responses_with_a_status_filter():
    series = CouponSeriesFactory(offer__external_id="OF-1", offer__name="Früh")
    member = MemberFactory(external_id="M-RESP")
    OfferResponseFactory(member=member, offer=series.offer, one_open_only=False)
    OfferResponseFactory(member=member, offer=series.offer, one_open_only=False, completed=True)

    rows = export("offer_responses", columns=["offer_external_id", "offer_name", "member_external_id", "status"],
                  filters={"status": "completed"})  # fmt: skip

    assert rows == [["offer_external_id", "offer_name", "member_external_id", "status"],
                    ["OF-1", "Früh", "M-RESP", "completed"]]  # fmt: skip


def test_export_coupons_with_series_and_status_filters():
    series = CouponSeriesFactory(name="Winter")
    member = MemberFactory(external_id="M-CPN")
    expires = datetime(2026, 12, 31, tzinfo=UTC)
    CouponFactory(series=series, member=member, code="WIN-1", expires_at=expires)
    CouponFactory(series=series, member=member, code="WIN-2", expired=True)
    CouponFactory(code="OTHER-1")

    rows = export("coupons", columns=["code", "series_name", "member_external_id", "status", "expires_at"],
                  filters={"series": series.pk, "status": "issued"})  # fmt: skip

    assert rows[0] == ["code", "series_name", "member_external_id", "status", "expires_at"]
    assert [row[:4] for row in rows[1:]] == [["WIN-1", "Winter", "M-CPN", "issued"]]
    assert rows[1][4].startswith("2026-12-31")


def test_export_certificate_codes_including_unassociated_ones():
    reward = RewardFactory(external_id="RW-1", name="Spa day")
    CertificateCodeFactory(code="CC-1", reward=reward)
    CertificateCodeFactory(code="CC-2", reward=None)

    rows = export("certificate_codes", columns=["code", "reward_external_id", "reward_name", "status"])

    assert rows == [["code", "reward_external_id", "reward_name", "status"],
                    ["CC-1", "RW-1", "Spa day", "unused"],
                    ["CC-2", "", "", "unused"]]  # fmt: skip


def test_export_coupon_redemptions_with_reversal_flag(pos, store):
    from tests.coupons.redemption.test_api import body

    coupon = CouponFactory(series=CouponSeriesFactory(name="Spring"), code="SPR-1")
    redeemed = pos.post("/api/v1/coupons/redeem", body(coupon, store), format="json")
    assert redeemed.status_code == 201, redeemed.content
    pos.post(f"/api/v1/coupon-redemptions/{redeemed.json()['redemption_id']}/reverse")

    rows = export("coupon_redemptions", columns=["code", "series_name", "store", "bill_amount", "is_reversed"])

    assert rows[0] == ["code", "series_name", "store", "bill_amount", "is_reversed"]
    assert len(rows) == 2
    assert rows[1][:3] == ["SPR-1", "Spring", store.code]
    # COPY writes PostgreSQL's own boolean text; the cursor path elsewhere writes Python's.
    assert rows[1][4] == ("t" if connection.vendor == "postgresql" else "True")
