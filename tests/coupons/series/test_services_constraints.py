"""Series set-up: each database constraint refusing a write is reported as the setting it holds, and only that."""

import pytest
from django.db import IntegrityError

from config.actors import Actor
from coupons.exceptions import CouponSeriesInvalidError
from coupons.models import CouponSeries
from coupons.series import services
from tests.coupons.factories import CouponSeriesFactory, OfferFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system()
PREFIX_CLASH = {"code_generation": ["The sample code's first half must be unique in the program."]}


def randomized(name, sample_code, offer=None):
    return services.series_create(actor=ACTOR, offer=offer or OfferFactory(expiring=True), name=name,
                                  code_mode="randomized_common", sample_code=sample_code)  # fmt: skip


@pytest.fixture
def unchecked(monkeypatch):
    """The settings' own checks off, so the write reaches the database's constraints."""
    monkeypatch.setattr(services, "series_validate", lambda series, **kwargs: None)


def test_create_with_a_sample_codes_fixed_part_taken_is_the_clash():
    randomized("A", "TEST12345")
    with pytest.raises(CouponSeriesInvalidError) as refused:
        randomized("B", "TEST99999")
    assert refused.value.errors == PREFIX_CLASH
    assert CouponSeries.objects.count() == 1


def test_update_to_a_sample_codes_fixed_part_taken_is_the_clash_not_a_server_error():
    randomized("A", "TEST12345")
    series = CouponSeriesFactory()  # unique codes, none made yet: its code generation may still change
    with pytest.raises(CouponSeriesInvalidError) as refused:
        services.series_update(series=series, actor=ACTOR, sample_code="TEST99999")
    assert refused.value.errors == PREFIX_CLASH
    assert CouponSeries.objects.get(pk=series.pk).code_prefix is None


def test_a_check_constraint_is_reported_as_its_setting_not_as_the_clash(unchecked):
    with pytest.raises(CouponSeriesInvalidError) as refused:
        services.series_create(actor=ACTOR, offer=OfferFactory(expiring=True), name="Bills", code_mode="unique",
                               code_length=8, code_charset="numeric", min_bill=10, max_bill=5)  # fmt: skip
    assert refused.value.errors == {"redemption": ["max_bill is below min_bill."]}
    series = CouponSeriesFactory()
    with pytest.raises(CouponSeriesInvalidError) as refused:
        services.series_update(series=series, actor=ACTOR, code_length=30)
    assert refused.value.errors == {"code_generation": ["length: 4 to 16 characters."]}
    assert CouponSeries.objects.get(pk=series.pk).code_length == 8


def test_any_other_integrity_error_is_not_reported_as_a_clash(unchecked):
    with pytest.raises(IntegrityError):
        services.series_create(actor=ACTOR, offer=OfferFactory(expiring=True), name=None, code_mode="unique",
                               code_length=8, code_charset="numeric")  # fmt: skip
    assert not CouponSeries.objects.exists()
