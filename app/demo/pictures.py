"""Pictures for the demo's products, drawn here with Pillow: nothing downloaded, nothing to license.

Each picture is a flat illustration of the kind of goods (a jacket, trousers, a shoe, a fruit, a book, an
appliance ...) in the product's colour on a soft background. Products of one kind and colour share a picture,
so the whole catalogue needs about a hundred, and a product with a colour option shows one per colour.
Pure and deterministic: the same arguments always give the same bytes (so a second `shop demo` finds them
stored already).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

SIZE = 600

COLOURS: dict[str, tuple[int, int, int]] = {
    "黑色": (40, 40, 46), "白色": (236, 236, 232), "藏青": (30, 48, 92), "灰色": (128, 130, 136),
    "卡其": (189, 165, 120), "红色": (196, 40, 48), "米色": (226, 212, 186), "墨绿": (34, 84, 60),
    "雾蓝": (120, 150, 186), "粉色": (236, 160, 176), "奶油色": (244, 232, 204), "银灰": (176, 180, 186),
}
# A tint per category for goods that come in one colour, picked by the item's code.
_PALETTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "agri": ((214, 64, 52), (236, 160, 40), (96, 160, 64), (150, 90, 50), (230, 200, 80)),
    "fresh": ((220, 70, 60), (240, 180, 60), (110, 170, 80), (240, 230, 210), (200, 120, 140)),
    "appliances": ((70, 80, 96), (200, 204, 210), (180, 60, 60), (60, 120, 170)),
    "books-media": ((150, 40, 40), (40, 80, 140), (60, 120, 90), (200, 150, 60), (90, 70, 120)),
    "daily-goods": ((80, 160, 200), (230, 120, 150), (120, 190, 120), (240, 190, 90)),
    "production-materials": ((176, 132, 84), (150, 150, 150), (70, 110, 160), (200, 170, 110)),
    "home": ((200, 170, 130), (120, 150, 180), (160, 110, 90), (110, 150, 110)),
    "services": ((60, 140, 200), (90, 170, 120), (230, 150, 60)),
    "apparel": ((40, 40, 46), (30, 48, 92), (128, 130, 136)),
}
_APPAREL_SHAPES = {"JN": "trousers", "CH": "trousers", "PJ": "trousers", "DR": "dress", "SK": "dress",
                   "SN": "shoe", "CS": "shoe", "SC": "scarf"}
_CATEGORY_SHAPES = {"agri": "fruit", "fresh": "fruit", "appliances": "appliance", "books-media": "book",
                    "daily-goods": "bottle", "production-materials": "carton", "home": "cushion",
                    "services": "badge"}


@dataclass(frozen=True, slots=True)
class Sketch:
    """What a picture shows: a shape in a colour."""

    shape: str
    colour: tuple[int, int, int]


def sketch_for(category: str, code: str, colour_name: str | None) -> Sketch:
    """The picture of an item (`code`: the SKU's item code, such as DJ) in a colour, or its own tint."""
    shape = _APPAREL_SHAPES.get(code, "top") if category == "apparel" else _CATEGORY_SHAPES.get(category, "badge")
    if colour_name in COLOURS:
        return Sketch(shape, COLOURS[colour_name])
    palette = _PALETTES.get(category, _PALETTES["services"])
    return Sketch(shape, palette[int(hashlib.sha256(code.encode()).hexdigest(), 16) % len(palette)])


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, round(c * factor))) for c in colour)
    return (r, g, b)


def draw(sketch: Sketch) -> bytes:
    """The picture as PNG bytes."""
    c = sketch.colour
    light = sum(c) > 600  # pale goods on a darker background, so they stand out
    base = (208, 212, 218) if light else (246, 244, 240)
    img = Image.new("RGB", (SIZE, SIZE), base)
    d = ImageDraw.Draw(img)
    for y in range(0, SIZE, 8):  # a soft vertical gradient
        d.rectangle((0, y, SIZE, y + 8), fill=_shade(base, 1.0 - 0.08 * y / SIZE))
    d.ellipse((120, 520, 520, 580), fill=_shade(base, 0.82))  # the shadow it stands on
    outline = _shade(c, 0.6)
    SHAPES[sketch.shape](d, c, outline)
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


Colour = tuple[int, int, int]


def _top(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.polygon([(230, 120), (270, 105), (370, 105), (410, 120), (520, 200), (480, 280), (430, 250), (430, 540),
               (210, 540), (210, 250), (160, 280), (120, 200)], fill=c, outline=o, width=4)
    d.arc((270, 80, 370, 150), 20, 160, fill=o, width=5)
    d.line((320, 150, 320, 530), fill=_shade(c, 0.85), width=3)


def _trousers(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.polygon([(220, 100), (420, 100), (450, 540), (350, 540), (320, 240), (290, 540), (190, 540)], fill=c,
              outline=o, width=4)
    d.rectangle((220, 100, 420, 130), fill=_shade(c, 0.8))


def _dress(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.polygon([(270, 100), (370, 100), (390, 240), (480, 540), (160, 540), (250, 240)], fill=c, outline=o, width=4)
    d.rectangle((250, 230, 390, 255), fill=_shade(c, 0.8))


def _shoe(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.polygon([(140, 300), (260, 280), (330, 360), (500, 400), (520, 480), (140, 480)], fill=c, outline=o, width=4)
    d.rectangle((130, 470, 530, 510), fill=(240, 240, 236), outline=o, width=3)
    for x in range(270, 340, 20):
        d.line((x, 320 + (x - 270), x + 30, 310 + (x - 270)), fill=(245, 245, 245), width=4)


def _scarf(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.rounded_rectangle((180, 120, 460, 320), radius=60, fill=c, outline=o, width=4)
    d.rectangle((330, 280, 400, 540), fill=c, outline=o, width=4)
    for x in range(335, 400, 12):
        d.line((x, 540, x, 560), fill=o, width=3)


def _fruit(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.ellipse((170, 170, 470, 500), fill=c, outline=o, width=4)
    d.ellipse((230, 220, 290, 290), fill=_shade(c, 1.25))
    d.line((320, 180, 330, 120), fill=(110, 80, 40), width=8)
    d.ellipse((330, 110, 420, 160), fill=(90, 160, 70))


def _appliance(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.rounded_rectangle((170, 130, 470, 530), radius=24, fill=c, outline=o, width=4)
    d.ellipse((230, 250, 410, 430), fill=_shade(c, 0.7), outline=o, width=4)
    d.rectangle((200, 160, 440, 200), fill=_shade(c, 0.85))
    d.ellipse((400, 168, 424, 192), fill=(90, 200, 120))


def _book(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.rectangle((200, 120, 460, 520), fill=(250, 248, 240), outline=o, width=3)
    d.rectangle((180, 110, 440, 510), fill=c, outline=o, width=4)
    d.rectangle((180, 110, 210, 510), fill=_shade(c, 0.7))
    d.rectangle((250, 200, 400, 240), fill=_shade(c, 1.4))


def _bottle(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.rectangle((290, 100, 350, 170), fill=_shade(c, 0.7), outline=o, width=3)
    d.rounded_rectangle((220, 170, 420, 530), radius=50, fill=c, outline=o, width=4)
    d.rectangle((240, 300, 400, 400), fill=(250, 250, 250))


def _carton(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.polygon([(160, 220), (320, 160), (480, 220), (320, 280)], fill=_shade(c, 1.15), outline=o, width=4)
    d.polygon([(160, 220), (320, 280), (320, 520), (160, 450)], fill=c, outline=o, width=4)
    d.polygon([(480, 220), (320, 280), (320, 520), (480, 450)], fill=_shade(c, 0.8), outline=o, width=4)
    d.line((240, 190, 400, 250), fill=(230, 220, 180), width=12)


def _cushion(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.rounded_rectangle((140, 200, 500, 500), radius=70, fill=c, outline=o, width=4)
    d.line((160, 350, 480, 350), fill=_shade(c, 0.85), width=4)
    d.ellipse((300, 330, 340, 370), fill=_shade(c, 0.7))


def _badge(d: ImageDraw.ImageDraw, c: Colour, o: Colour) -> None:
    d.ellipse((170, 130, 470, 430), fill=c, outline=o, width=6)
    d.polygon([(250, 400), (220, 540), (290, 500), (320, 540), (320, 420)], fill=_shade(c, 0.8))
    d.polygon([(390, 400), (420, 540), (350, 500), (320, 540), (320, 420)], fill=_shade(c, 0.8))
    d.line((240, 290, 300, 350, 410, 220), fill=(255, 255, 255), width=18)


SHAPES = {"top": _top, "trousers": _trousers, "dress": _dress, "shoe": _shoe, "scarf": _scarf, "fruit": _fruit,
           "appliance": _appliance, "book": _book, "bottle": _bottle, "carton": _carton, "cushion": _cushion,
           "badge": _badge}
