"""A coupon's or certificate code's code as a scannable image: QR (segno) or Code 128 (python-barcode).

The image is a pure function of the code, the symbology and the format, so it never changes: the API
serves it with long private caching and an ETag derived from those inputs and `RENDERING_VERSION`
(bump it when the drawing options below change, so clients fetch the new drawing).
"""

import hashlib
import io
from dataclasses import dataclass

import segno
from barcode import Code128
from barcode.writer import ImageWriter, SVGWriter

from config.errors import DomainError

SYMBOLOGIES = ("qr", "code128")
FORMATS = ("svg", "png")
CONTENT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
RENDERING_VERSION = "1"

# QR: medium error correction survives a creased print-out or a scratched phone screen; a 4-module
# quiet zone is what the standard asks for. A full QR symbol always: Micro QR, which segno picks for short
# data by default, is not read by most phone cameras and tills.
QR_ERROR = "m"
QR_BORDER = 4
QR_PNG_SCALE = 8  # pixels a module: about 260 px for a 16-character code
QR_SVG_SCALE = 4  # user units a module; an SVG scales anyway
# Code 128: 0.33 mm bars at 300 dpi (4 px a module) stay readable by laser and camera scanners; the quiet
# zone is more than the 10 modules the standard asks for; the code is printed under the bars.
CODE128_OPTIONS = {
    "module_width": 0.33,
    "module_height": 15.0,
    "quiet_zone": 6.5,
    "font_size": 10,
    "text_distance": 5.0,
    "dpi": 300,
    "write_text": True,
}


class CodeImageError(DomainError):
    """A code the asked symbology cannot carry (Code 128 holds ASCII only)."""

    code = "code_not_encodable"
    http_status = 409
    title = "The code cannot be drawn in this symbology"


@dataclass(frozen=True)
class CodeImage:
    content: bytes
    content_type: str
    filename: str
    etag: str


def code_image(*, code: str, symbology: str, image_format: str) -> CodeImage:
    """The code drawn as `symbology` (`qr`, `code128`) in `image_format` (`svg`, `png`)."""
    if symbology not in SYMBOLOGIES or image_format not in FORMATS:
        raise ValueError(f"unknown symbology or format: {symbology!r}, {image_format!r}")
    draw = _qr if symbology == "qr" else _code128
    return CodeImage(
        content=draw(code, image_format),
        content_type=CONTENT_TYPES[image_format],
        filename=f"{code}-{symbology}.{image_format}",
        etag=code_image_etag(code=code, symbology=symbology, image_format=image_format),
    )


def code_image_etag(*, code: str, symbology: str, image_format: str) -> str:
    """The image's ETag without drawing it: the inputs decide the drawing."""
    fingerprint = hashlib.sha256(f"{RENDERING_VERSION}\n{symbology}\n{image_format}\n{code}".encode()).hexdigest()
    return f'"{fingerprint[:32]}"'


def _qr(code: str, image_format: str) -> bytes:
    symbol = segno.make_qr(code, error=QR_ERROR)
    out = io.BytesIO()
    scale = QR_PNG_SCALE if image_format == "png" else QR_SVG_SCALE
    symbol.save(out, kind=image_format, scale=scale, border=QR_BORDER)
    return out.getvalue()


def _code128(code: str, image_format: str) -> bytes:
    if not code.isascii() or not code.isprintable():
        raise CodeImageError("Code 128 carries printable ASCII characters only; use the QR symbology for this code.")
    writer = ImageWriter(format="PNG") if image_format == "png" else SVGWriter()
    out = io.BytesIO()
    Code128(code, writer=writer).write(out, options=CODE128_OPTIONS)
    return out.getvalue()
