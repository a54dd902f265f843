"""Product photos for the demo, drawn rather than shipped: a soft studio backdrop and a simple
package silhouette per unit (bottle, jar, box, bag, hat), in the colours of the product. They go
through the real pipeline (media store + normalization), so the demo shows real renditions."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

PALETTE = {1: (196, 120, 52), 2: (120, 40, 48), 3: (70, 130, 60), 4: (150, 60, 120), 5: (190, 160, 90),
           6: (60, 110, 160)}


def _shape(draw: ImageDraw.ImageDraw, unit: str, colour: tuple[int, int, int], size: int) -> None:
    c = size // 2
    dark = tuple(max(0, v - 50) for v in colour)
    if unit in ("chai", "lọ"):
        draw.rounded_rectangle((c - 130, c - 160, c + 130, c + 380), 60, fill=colour)
        draw.rectangle((c - 45, c - 330, c + 45, c - 150), fill=colour)
        draw.rectangle((c - 55, c - 370, c + 55, c - 320), fill=dark)
        draw.rectangle((c - 110, c + 20, c + 110, c + 200), fill=(245, 238, 220))
    elif unit in ("hũ",):
        draw.rounded_rectangle((c - 200, c - 120, c + 200, c + 330), 70, fill=colour)
        draw.rectangle((c - 210, c - 190, c + 210, c - 110), fill=dark)
        draw.rectangle((c - 150, c + 20, c + 150, c + 180), fill=(245, 238, 220))
    elif unit in ("cái",):
        draw.polygon([(c, c - 330), (c - 420, c + 200), (c + 420, c + 200)], fill=colour)
        draw.line([(c - 300, c + 60), (c + 300, c + 60)], fill=dark, width=10)
    elif unit in ("gói", "túi", "bịch"):
        draw.rounded_rectangle((c - 260, c - 300, c + 260, c + 340), 40, fill=colour)
        draw.rectangle((c - 260, c - 300, c + 260, c - 230), fill=dark)
        draw.ellipse((c - 140, c - 100, c + 140, c + 180), fill=(245, 238, 220))
    else:  # hộp, kg and the rest: a box
        draw.polygon([(c - 300, c - 120), (c, c - 260), (c + 300, c - 120), (c, c + 20)], fill=dark)
        draw.polygon([(c - 300, c - 120), (c, c + 20), (c, c + 360), (c - 300, c + 220)], fill=colour)
        draw.polygon([(c + 300, c - 120), (c, c + 20), (c, c + 360), (c + 300, c + 220)],
                     fill=tuple(min(255, v + 30) for v in colour))


def product_photo(name: str, unit: str, group: int, size: int = 1200) -> bytes:
    """A 1200×1200 JPEG; deterministic per product name."""
    rng = random.Random(name)
    colour = tuple(min(255, max(0, v + rng.randint(-25, 25))) for v in PALETTE.get(group, (150, 150, 150)))
    im = Image.new("RGB", (size, size), (248, 246, 241))
    backdrop = ImageDraw.Draw(im)
    for y in range(size // 2, size, 4):  # the table top, slightly darker towards the front
        shade = 236 - (y - size // 2) // 20
        backdrop.rectangle((0, y, size, y + 4), fill=(shade, shade - 4, shade - 10))
    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((size // 2 - 380, size // 2 + 300, size // 2 + 380, size // 2 + 420), fill=120)
    im.paste((150, 145, 135), mask=shadow.filter(ImageFilter.GaussianBlur(30)))
    _shape(ImageDraw.Draw(im), unit, colour, size)  # type: ignore[arg-type]
    out = io.BytesIO()
    im.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()
