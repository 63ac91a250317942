"""`GET /api/v1/certificate-codes/{code}/image`: a certificate code as a QR or Code 128, read back by a scanner."""

import pytest
from django.test import override_settings

from tests.code_images import decode_png, decode_svg
from tests.rewards.factories import CertificateCodeFactory

pytestmark = pytest.mark.django_db

SCANNED_AS = {"qr": "QR Code", "code128": "Code 128"}


def image_url(code, query=""):
    return f"/api/v1/certificate-codes/{code}/image{query}"


@pytest.mark.parametrize("symbology", ["qr", "code128"])
@pytest.mark.parametrize("image_format", ["png", "svg"])
@pytest.mark.parametrize("code", ["gift-Card-0042", "x" + "aB9-" * 15 + "zzz"], ids=["mixed case", "longest"])
def test_certificate_code_image_scans_back_to_the_exact_code(member_care, symbology, image_format, code):
    CertificateCodeFactory(code=code)  # imported codes keep their case: the image must too
    response = member_care.get(image_url(code, f"?symbology={symbology}&format={image_format}"))
    assert response.status_code == 200
    decode = decode_png if image_format == "png" else decode_svg
    assert decode(response.content) == [(SCANNED_AS[symbology], code)]


def test_certificate_code_image_matches_the_code_exactly(member_care):
    CertificateCodeFactory(code="gift-Card-0042")
    assert member_care.get(image_url("GIFT-CARD-0042")).status_code == 404


def test_certificate_code_image_for_a_till_is_of_a_code_a_member_holds(pos, marketer):
    held = CertificateCodeFactory(assigned=True)
    unused = CertificateCodeFactory()
    bank = CertificateCodeFactory(reward=None)
    assert decode_png(pos.get(image_url(held.code, "?format=png")).content) == [("QR Code", held.code)]
    assert [pos.get(image_url(code.code)).status_code for code in (unused, bank)] == [404, 404]
    assert [marketer.get(image_url(code.code)).status_code for code in (unused, bank)] == [200, 200]


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=1)
def test_certificate_code_image_unknown_codes_from_a_till_count_as_guesses(pos):
    held = CertificateCodeFactory(assigned=True)
    assert pos.get(image_url("GUESS")).status_code == 404
    blocked = pos.get(image_url(held.code))
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_unknown_codes")


def test_certificate_code_image_bad_query_is_400_and_unknown_code_404(marketer, anonymous):
    code = CertificateCodeFactory()
    bad = marketer.get(image_url(code.code, "?symbology=pdf417&format=bmp"))
    assert (bad.status_code, set(bad.json()["errors"])) == (400, {"symbology", "format"})
    assert marketer.get(image_url("NOPE")).status_code == 404
    assert anonymous.get(image_url(code.code)).status_code == 401
