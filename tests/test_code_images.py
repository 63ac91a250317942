"""The drawing itself (`config.code_images`), for what no stored code can reach through the API."""

import pytest

from config.code_images import CodeImageError, code_image
from tests.code_images import decode_png


def test_code128_refuses_what_it_cannot_carry_and_qr_draws_it():
    with pytest.raises(CodeImageError) as refused:
        code_image(code="CAFÉ-1", symbology="code128", image_format="png")
    assert refused.value.code == "code_not_encodable"
    assert decode_png(code_image(code="CAFÉ-1", symbology="qr", image_format="png").content) == [("QR Code", "CAFÉ-1")]


def test_a_short_code_is_a_full_qr_symbol_not_micro_qr():
    assert decode_png(code_image(code="A", symbology="qr", image_format="png").content) == [("QR Code", "A")]


def test_the_etag_follows_code_symbology_and_format():
    tags = {
        code_image(code=code, symbology=symbology, image_format=image_format).etag
        for code in ("A1", "A2")
        for symbology in ("qr", "code128")
        for image_format in ("png", "svg")
    }
    assert len(tags) == 8
    assert (
        code_image(code="A1", symbology="qr", image_format="png").etag
        == code_image(code="A1", symbology="qr", image_format="png").etag
    )
