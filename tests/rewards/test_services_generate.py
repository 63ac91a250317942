import string

import pytest

from config.actors import Actor
from rewards import services
from rewards.exceptions import CodeGenerationError
from rewards.models import CertificateCode
from tests.rewards.factories import CertificateCodeFactory, RewardFactory

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_certificate_codes_generate_creates_unused_codes_of_the_shape_asked():
    reward = RewardFactory()

    created = services.certificate_codes_generate(count=500, reward=reward, length=8, charset="numeric", actor=ACTOR)

    codes = list(CertificateCode.objects.values_list("code", "status", "reward_id"))
    assert created == 500 and len(codes) == 500
    assert {status for _, status, _ in codes} == {"unused"}
    assert {reward_id for _, _, reward_id in codes} == {reward.pk}
    assert all(len(code) == 8 and set(code) <= set(string.digits) for code, _, _ in codes)


def test_certificate_codes_generate_without_reward_fills_the_bank():
    services.certificate_codes_generate(count=20, reward=None, length=10, charset="unambiguous", actor=ACTOR)
    assert CertificateCode.objects.filter(reward__isnull=True, status="unused").count() == 20
    assert not CertificateCode.objects.filter(code__regex=r"[01OIL]").exists()


def test_certificate_codes_generate_tops_up_codes_that_collide_with_existing_ones(monkeypatch):
    CertificateCodeFactory(code="TAKEN00001", reward=None)
    CertificateCodeFactory(code="TAKEN00002", reward=None)
    draws = iter([["TAKEN00001", "TAKEN00002", "FRESH00001"], ["FRESH00002", "FRESH00003"]])
    calls = []

    def fake_random_codes(*, alphabet, length, count):
        calls.append(count)
        return next(draws)

    monkeypatch.setattr(services, "random_codes", fake_random_codes)

    created = services.certificate_codes_generate(count=3, reward=None, length=10, charset="alphanumeric", actor=ACTOR)

    assert created == 3
    assert calls == [3, 2]  # the second draw asks only for the shortfall
    assert set(CertificateCode.objects.filter(code__startswith="FRESH").values_list("code", flat=True)) == {
        "FRESH00001",
        "FRESH00002",
        "FRESH00003",
    }
    assert CertificateCode.objects.count() == 5


def test_certificate_codes_generate_gives_up_when_draws_keep_colliding(monkeypatch):
    CertificateCodeFactory(code="TAKEN00001", reward=None)
    monkeypatch.setattr(services, "random_codes", lambda **kwargs: ["TAKEN00001"])
    with pytest.raises(CodeGenerationError) as caught:
        services.certificate_codes_generate(count=1, reward=None, length=10, charset="alphanumeric", actor=ACTOR)
    assert caught.value.code == "code_space_exhausted"
    assert CertificateCode.objects.count() == 1


def test_certificate_codes_generate_uses_a_constant_number_of_queries(django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        services.certificate_codes_generate(count=5000, reward=None, length=12, charset="alphanumeric", actor=ACTOR)
    assert CertificateCode.objects.count() == 5000


@pytest.mark.parametrize(
    ("count", "length", "charset", "field"),
    [
        (0, 10, "alphanumeric", "count"),
        (10, 3, "alphanumeric", "length"),
        (10, 40, "alphanumeric", "length"),
        (10, 10, "emoji", "charset"),
        (200_000, 8, "numeric", "length"),  # 10^8 codes: too dense for 200k live ones
    ],
)
def test_certificate_codes_generate_refuses_a_request_the_code_space_cannot_hold(count, length, charset, field):
    with pytest.raises(CodeGenerationError) as caught:
        services.certificate_codes_generate(count=count, reward=None, length=length, charset=charset, actor=ACTOR)
    assert caught.value.http_status == 400 and field in caught.value.errors
    assert not CertificateCode.objects.exists()


def test_random_codes_are_distinct_and_drawn_from_the_alphabet():
    codes = services.random_codes(alphabet="AB", length=12, count=1000)
    assert len(set(codes)) == 1000 and all(set(code) <= {"A", "B"} for code in codes)


def test_certificate_codes_generate_100k_in_one_call_without_per_code_queries(django_assert_max_num_queries):
    reward = RewardFactory()
    with django_assert_max_num_queries(10):
        created = services.certificate_codes_generate(
            count=100_000, reward=reward, length=12, charset="alphanumeric", actor=ACTOR
        )
    assert created == 100_000
    assert CertificateCode.objects.filter(reward=reward).values("code").distinct().count() == 100_000
