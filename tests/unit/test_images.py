"""Picture processing without a database: what is accepted, what is refused, and what a rendition keeps."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.catalog.media import images
from app.core.errors import InvalidInput, PayloadTooLarge
from tests import pictures

LIMITS = {"max_bytes": 10 * 1024 * 1024, "max_pixels": 40_000_000}


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _refusal(data: bytes) -> str:
    with pytest.raises(InvalidInput) as caught:
        images.process(data, **LIMITS)
    (error,) = caught.value.extra["errors"]
    assert error["field"] == "file"
    return str(error["message"])


def test_a_phone_photo_is_turned_upright_and_loses_its_gps_position() -> None:
    # Stored landscape with orientation 6: the camera was turned a quarter clockwise.
    data = pictures.jpeg(orientation=6, gps=True)
    assert b"PhoneMaker" in data
    picture = images.process(data, **LIMITS)
    assert (picture.width, picture.height) == (480, 640)
    thumb, _, large = picture.renditions
    assert [r.label for r in picture.renditions] == ["thumb", "medium", "large"]
    assert (large.width, large.height) == (480, 640) and (thumb.width, thumb.height) == (200, 267)
    for rendition in picture.renditions:
        img = _open(rendition.data)
        assert img.format == "WEBP"
        assert not img.getexif() and "exif" not in img.info and "xmp" not in img.info
        assert b"Exif" not in rendition.data and b"PhoneMaker" not in rendition.data
    upright = _open(large.data).convert("RGB")
    # Turned a quarter clockwise, the blue bottom-left quadrant is now top-left and red top-right.
    assert _near(upright.getpixel((20, 20)), (0, 0, 255))
    assert _near(upright.getpixel((460, 20)), (255, 0, 0))


def _near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=False))


def test_renditions_are_never_wider_than_the_picture_and_equal_ones_share_a_key() -> None:
    picture = images.process(pictures.png(pictures.quadrants(500, 300)), **LIMITS)
    thumb, medium, large = picture.renditions
    assert (thumb.width, medium.width, large.width) == (200, 500, 500)
    assert medium.key == large.key and thumb.key != large.key
    big = images.process(pictures.jpeg(pictures.quadrants(3000, 2000)), **LIMITS)
    assert [(r.width, r.height) for r in big.renditions] == [(200, 133), (600, 400), (1200, 800)]


def test_the_same_file_gives_the_same_names() -> None:
    data = pictures.png()
    first, second = images.process(data, **LIMITS), images.process(data, **LIMITS)
    assert first.sha256 == second.sha256 == images.source_hash(data)
    assert [r.key for r in first.renditions] == [r.key for r in second.renditions]


def test_a_gif_gives_its_first_frame() -> None:
    picture = images.process(pictures.gif_two_frames(), **LIMITS)
    assert picture.format == "GIF"
    assert _near(_open(picture.renditions[-1].data).convert("RGB").getpixel((10, 10)), (255, 0, 0))


def test_transparency_is_kept() -> None:
    img = pictures.quadrants(100, 100, mode="RGBA")
    img.putpixel((0, 0), (0, 0, 0, 0))
    large = images.process(pictures.png(img), **LIMITS).renditions[-1]
    assert _open(large.data).mode == "RGBA"


def test_a_webp_upload_is_accepted() -> None:
    out = io.BytesIO()
    pictures.quadrants(300, 200).save(out, "WEBP")
    assert images.process(out.getvalue(), **LIMITS).format == "WEBP"


def test_refused_files_say_why() -> None:
    assert "not a JPEG, PNG, WebP or GIF" in _refusal(b"just some text, named photo.png\n" * 10)
    assert "not a JPEG, PNG, WebP or GIF" in _refusal(b"%PDF-1.7\n" + b"0" * 100)
    bmp = io.BytesIO()
    pictures.quadrants(10, 10).save(bmp, "BMP")  # a real picture, of a kind we do not take
    assert "not a JPEG, PNG, WebP or GIF" in _refusal(bmp.getvalue())
    photo = pictures.jpeg(pictures.quadrants(1600, 1200))
    assert "damaged" in _refusal(photo[: len(photo) // 2])
    assert "empty" in _refusal(b"")


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    assert "megapixels" in _refusal(pictures.png_bomb())
    # Just over the limit, below Pillow's own bomb guard: our check, before any pixel is decoded.
    assert "megapixels" in _refusal(pictures.png_bomb(8_000, 5_001))


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        images.process(b"\xff\xd8\xff" + b"\x00" * (12 * 1024 * 1024), **LIMITS)
    assert caught.value.extra["errors"] == [{"field": "file", "message": "larger than 10 MB"}]
