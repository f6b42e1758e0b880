"""Pictures a merchant uploads, made safe and small: pure functions over bytes (no database, no I/O).

- Accepted by what they contain, never by their name: JPEG, PNG, WebP and GIF (its first frame).
- At most `max_bytes` and `max_pixels`. The pixel count comes from the header and is refused before a
  single pixel is decoded, so a small file that would unpack to gigabytes (a decompression bomb) costs
  nothing.
- Turned upright (EXIF orientation), then stripped of every piece of metadata: phones write the GPS
  position into EXIF.
- Stored as WebP renditions (`RENDITIONS`), never wider than the picture itself, each named by the
  SHA-256 of its own bytes: the same picture is stored once however often it is uploaded.

`process` is CPU work of up to a second for a large photo: callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.core.errors import InvalidInput, PayloadTooLarge

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
RENDITIONS: tuple[tuple[str, int], ...] = (("thumb", 200), ("medium", 600), ("large", 1200))
WEBP_QUALITY = 82
# EXIF orientations that turn the picture a quarter: its stored width is its upright height.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
_ORIENTATION = 0x0112


@dataclass(frozen=True, slots=True)
class Rendition:
    label: str
    width: int
    height: int
    data: bytes

    @property
    def key(self) -> str:
        """Where it is stored: named by its content, so equal renditions are one object."""
        digest = hashlib.sha256(self.data).hexdigest()
        return f"{digest[:2]}/{digest}.webp"


@dataclass(frozen=True, slots=True)
class Picture:
    sha256: str  # of the file as uploaded
    format: str  # JPEG | PNG | WEBP | GIF
    width: int  # upright
    height: int
    renditions: tuple[Rendition, ...]  # in `RENDITIONS` order


def file_error(message: str) -> InvalidInput:
    return InvalidInput(f"file: {message}", errors=[{"field": "file", "message": message}])


def too_large(max_bytes: int) -> PayloadTooLarge:
    message = f"larger than {max_bytes // (1024 * 1024)} MB" if max_bytes >= 1024 * 1024 else \
        f"larger than {max_bytes} bytes"
    return PayloadTooLarge(f"file: {message}", extra={"errors": [{"field": "file", "message": message}]})


def source_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process(data: bytes, *, max_bytes: int, max_pixels: int) -> Picture:
    """Check an uploaded file and make its renditions; `InvalidInput` (on `file`) says why one is refused."""
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    if not data:
        raise file_error("the file is empty")
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise file_error(f"{width} × {height} pixels is more than {max_pixels // 1_000_000} megapixels")
            fmt = str(img.format)
            upright = _upright(img)
    except UnidentifiedImageError:
        raise file_error("not a JPEG, PNG, WebP or GIF picture") from None
    except Image.DecompressionBombError:
        raise file_error(f"more than {max_pixels // 1_000_000} megapixels") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError):
        # Pillow's ways of saying the data ends early or does not decode.
        raise file_error("the picture is damaged or cut short") from None
    return Picture(source_hash(data), fmt, upright.width, upright.height, _renditions(upright))


def _upright(img: Image.Image) -> Image.Image:
    """The first frame, decoded, turned upright, in RGB(A), with no metadata left."""
    img.seek(0)
    orientation = img.getexif().get(_ORIENTATION, 1)
    if img.format == "JPEG":
        # Decode at the smallest 1/2, 1/4 or 1/8 scale that still covers the large rendition: far less work
        # and memory for a big photo than decoding every pixel.
        shown_width = img.height if orientation in _QUARTER_TURNS else img.width
        scale = min(1.0, RENDITIONS[-1][1] / shown_width)
        img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
    img.load()
    upright = ImageOps.exif_transpose(img) or img
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    mode = "RGBA" if has_alpha else "RGB"
    if upright.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float greys: scale to 8 bits first
        upright = upright.convert("I").point(lambda v: v / 256).convert("L")
    clean = upright.convert(mode) if upright.mode != mode else upright.copy()
    clean.info = {}  # EXIF, XMP, ICC, comments: none of it reaches a rendition
    return clean


def _renditions(img: Image.Image) -> tuple[Rendition, ...]:
    """Largest first, each made from the one before (cheaper than from the original every time)."""
    made: list[Rendition] = []
    current = img
    for label, width in reversed(RENDITIONS):
        if made and current.width <= width:  # a small picture: this rendition is the one before (one object)
            made.append(Rendition(label, current.width, current.height, made[-1].data))
            continue
        if current.width > width:
            height = max(1, round(current.height * width / current.width))
            current = current.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=2.0)
        buffer = io.BytesIO()
        current.save(buffer, "WEBP", quality=WEBP_QUALITY)
        made.append(Rendition(label, current.width, current.height, buffer.getvalue()))
    return tuple(reversed(made))
