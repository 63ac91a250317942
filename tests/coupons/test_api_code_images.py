"""`GET /api/v1/coupons/{code}/image`: the coupon's code as a QR or Code 128 that a scanner reads back."""

import pytest
from django.test import override_settings

from tests.code_images import decode_png, decode_svg, svg_texts
from tests.coupons.factories import CouponFactory, CouponSeriesFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db

SCANNED_AS = {"qr": "QR Code", "code128": "Code 128"}
LONGEST = "A1-" * 21 + "Z"  # 64 characters, the longest code a coupon holds, mixing the Code 128 sets


def image_url(code, **query):
    params = "&".join(f"{name}={value}" for name, value in query.items())
    return f"/api/v1/coupons/{code}/image" + (f"?{params}" if params else "")


@pytest.mark.parametrize("symbology", ["qr", "code128"])
@pytest.mark.parametrize("image_format", ["png", "svg"])
@pytest.mark.parametrize("code", ["CPN-7Q2X9", LONGEST, "0123456789"], ids=["dash", "longest", "digits"])
def test_coupon_image_scans_back_to_the_code(pos, symbology, image_format, code):
    CouponFactory(code=code)
    response = pos.get(image_url(code, symbology=symbology, format=image_format))
    assert response.status_code == 200
    assert response["Content-Type"] == {"png": "image/png", "svg": "image/svg+xml"}[image_format]
    decode = decode_png if image_format == "png" else decode_svg
    assert decode(response.content) == [(SCANNED_AS[symbology], code)]


def test_coupon_image_code128_carries_the_code_in_words_under_the_bars(member_care):
    CouponFactory(code="CPN-HUMAN1")
    svg = member_care.get(image_url("CPN-HUMAN1", symbology="code128", format="svg")).content
    assert svg_texts(svg) == ["CPN-HUMAN1"]


def test_coupon_image_defaults_to_a_qr_svg(marketer):
    CouponFactory(code="CPN-DEFAULT")
    response = marketer.get(image_url("CPN-DEFAULT"))
    assert response["Content-Type"] == "image/svg+xml"
    assert decode_svg(response.content) == [("QR Code", "CPN-DEFAULT")]


def test_coupon_image_is_found_as_the_coupon_is_case_and_common_code_alike(pos):
    series = CouponSeriesFactory(common=True)
    first, second = MemberFactory(), MemberFactory()
    CouponFactory(series=series, code="SAVE10", is_common=True, member=first)
    CouponFactory(series=series, code="SAVE10", is_common=True, member=second)
    CouponFactory(code="CPN-UPPER")
    lower = pos.get(image_url("cpn-upper", format="png"))
    assert decode_png(lower.content) == [("QR Code", "CPN-UPPER")]  # codes are upper case; a till may send either
    common = pos.get(image_url("SAVE10", format="png") + f"&member={second.external_id}")
    assert decode_png(common.content) == [("QR Code", "SAVE10")]


def test_coupon_image_is_cached_privately_for_good_and_revalidated_by_etag(pos):
    CouponFactory(code="CPN-CACHE")
    first = pos.get(image_url("CPN-CACHE", format="png"))
    cache_control = {part.strip() for part in first["Cache-Control"].split(",")}
    assert cache_control == {"private", "max-age=31536000", "immutable"}
    assert "Authorization" in first["Vary"]
    again = pos.get(image_url("CPN-CACHE", format="png"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])
    other = pos.get(image_url("CPN-CACHE", format="svg"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert other.status_code == 200 and other["ETag"] != first["ETag"]


def test_coupon_image_is_served_whatever_the_client_accepts(pos):
    CouponFactory(code="CPN-ACCEPT")
    for accept in ("image/png", "image/*", "application/json", "text/html"):
        response = pos.get(image_url("CPN-ACCEPT", format="png"), HTTP_ACCEPT=accept)
        assert (response.status_code, response["Content-Type"]) == (200, "image/png"), accept


@pytest.mark.parametrize(
    "query",
    [
        {"symbology": "ean13"},
        {"format": "gif"},
        {"symbology": "QR"},
        {"format": ""},
        {"symbology": "qr%C3%A9"},
        {"format": "%FF%FE"},
        {"symbology": "q" * 5000},
    ],
)
def test_coupon_image_bad_symbology_or_format_is_400_naming_it(pos, query):
    CouponFactory(code="CPN-BAD")
    response = pos.get(image_url("CPN-BAD", **query))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert set(response.json()["errors"]) == set(query)


def test_coupon_image_nul_in_the_query_or_path_is_400(pos):
    assert pos.get("/api/v1/coupons/CPN%00X/image").status_code == 400
    assert pos.get(image_url("CPN-X", format="png%00")).status_code == 400


@pytest.mark.parametrize("code", ["NOPE", "X" * 300, "%C3%A9t%C3%A9", "%FF", str(2**63), "-1"])
def test_coupon_image_unknown_code_is_404_problem(member_care, code):
    response = member_care.get(image_url(code))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_coupon_image_needs_a_token(anonymous):
    CouponFactory(code="CPN-ANON")
    assert anonymous.get(image_url("CPN-ANON")).status_code == 401


@override_settings(COUPON_UNKNOWN_CODES_PER_MINUTE=2)
def test_coupon_image_unknown_codes_from_a_till_count_as_guesses(pos, member_care):
    CouponFactory(code="CPN-KNOWN")
    assert pos.get(image_url("CPN-KNOWN", symbology="fax")).status_code == 400  # refused before any lookup
    assert [pos.get(image_url(code)).status_code for code in ("GUESS1", "GUESS2")] == [404, 404]
    blocked = pos.get(image_url("CPN-KNOWN"))
    assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_unknown_codes")
    assert pos.get("/api/v1/coupons/CPN-KNOWN").status_code == 429  # one allowance with the coupon read
    # staff lookups are not guarded
    assert [member_care.get(image_url(f"NOPE{n}")).status_code for n in range(3)] == [404] * 3
    assert member_care.get(image_url("CPN-KNOWN")).status_code == 200
