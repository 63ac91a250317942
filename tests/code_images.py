"""Read rendered code images back, as a scanner would: zxing-cpp decodes the pixels.

A PNG is decoded as it is. An SVG is first drawn into pixels here, from its own shapes (segno's QR is one path
of horizontal strokes, python-barcode's Code 128 is one rectangle a bar), so the test reads what the SVG
says rather than trusting the library that wrote it.
"""

import io
import re
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image, ImageDraw

SVG = "{http://www.w3.org/2000/svg}"
PIXELS_PER_UNIT = 4


def decoded(image: Image.Image) -> list[tuple[str, str]]:
    """(symbology, text) of every code zxing-cpp finds."""
    return [(str(found.format), found.text) for found in zxingcpp.read_barcodes(image)]


def decode_png(content: bytes) -> list[tuple[str, str]]:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    return decoded(image)


def decode_svg(content: bytes) -> list[tuple[str, str]]:
    root = ET.fromstring(content)
    path = root.find(f"{SVG}path")
    image = _qr_path_pixels(root, path) if path is not None else _bar_pixels(root)
    return decoded(image)


def svg_texts(content: bytes) -> list[str]:
    return [text.text for text in ET.fromstring(content).iter(f"{SVG}text")]


def _blank(width: float, height: float) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (round(width * PIXELS_PER_UNIT), round(height * PIXELS_PER_UNIT)), 255)
    return image, ImageDraw.Draw(image)


def _qr_path_pixels(root, path) -> Image.Image:
    """segno's path: `M x y` then `h n` (a stroke n modules long) and `m dx dy` moves, strokes 1 module high
    centred on y (so y is a row's middle). A `scale` transform only multiplies every unit."""
    scale = float(re.search(r"scale\(([\d.]+)\)", path.get("transform", "scale(1)")).group(1))
    width, height = float(root.get("width")) / scale, float(root.get("height")) / scale
    image, draw = _blank(width, height)
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHhVv])([-\d.\s]*)", path.get("d")):
        values = [float(value) for value in re.findall(r"-?[\d.]+", numbers)]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            left, x = x, x + values[0]
            top, unit = y - 0.5, PIXELS_PER_UNIT
            draw.rectangle([left * unit, top * unit, x * unit - 1, (top + 1) * unit - 1], fill=0)
        else:
            raise AssertionError(f"unexpected path command {command}")
    return image


def _bar_pixels(root) -> Image.Image:
    """python-barcode's SVG: a white background rectangle, then one black rectangle a bar, in millimetres."""

    def mm(value: str) -> float:
        return float(value.removesuffix("mm"))

    image, draw = _blank(mm(root.get("width")) * 10, mm(root.get("height")) * 10)
    for rect in root.iter(f"{SVG}rect"):
        if "black" not in (rect.get("style") or ""):
            continue
        x, y, w, h = (mm(rect.get(name)) * 10 * PIXELS_PER_UNIT for name in ("x", "y", "width", "height"))
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=0)
    return image
