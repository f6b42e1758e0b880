"""Picture files for upload tests, made here (nothing downloaded): photos with EXIF, GIFs, broken and hostile files."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
# Shanghai, as a phone writes it.
GPS = {1: "N", 2: (31.0, 14.0, 6.5), 3: "E", 4: (121.0, 28.0, 12.25), 5: 0, 6: 4.0}


def quadrants(width: int = 640, height: int = 480, mode: str = "RGB") -> Image.Image:
    """Four colours, one per quadrant (red top-left, green top-right, blue bottom-left, white bottom-right),
    so a test can tell which way up a rendition is."""
    img = Image.new(mode, (width, height))
    w, h = width // 2, height // 2
    for box, colour in (((0, 0, w, h), (255, 0, 0)), ((w, 0, width, h), (0, 255, 0)),
                        ((0, h, w, height), (0, 0, 255)), ((w, h, width, height), (255, 255, 255))):
        img.paste(colour if mode == "RGB" else (*colour, 255), box)
    return img


def jpeg(img: Image.Image | None = None, *, orientation: int | None = None, gps: bool = False,
         quality: int = 90) -> bytes:
    img = img or quadrants()
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = GPS
        exif[0x010F] = "PhoneMaker"  # camera make
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png(img: Image.Image | None = None) -> bytes:
    out = io.BytesIO()
    (img or quadrants()).save(out, "PNG")
    return out.getvalue()


def gif_two_frames() -> bytes:
    """An animated GIF: a red frame, then a blue one."""
    red, blue = Image.new("RGB", (120, 80), (255, 0, 0)), Image.new("RGB", (120, 80), (0, 0, 255))
    out = io.BytesIO()
    red.save(out, "GIF", save_all=True, append_images=[blue], duration=200, loop=0)
    return out.getvalue()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG of width × height black pixels (1 bit each) that compresses to a few tens of kilobytes:
    decoded, it would take gigabytes. Written chunk by chunk, never held decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * ((width + 7) // 8)  # filter byte, then the packed bits
    squeeze = zlib.compressobj(9)
    data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
