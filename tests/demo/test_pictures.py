"""The demo's drawn pictures: deterministic, one per kind and colour, and accepted like any upload."""

from __future__ import annotations

from app.catalog.media import images
from app.demo import data, pictures


def test_pictures_are_deterministic_and_pass_the_upload_checks() -> None:
    sketches = {pictures.sketch_for(p.category, p.variants[0].sku.split("-")[1], v.attributes.get("colour"))
                for m in data.merchants() for p in m.products for v in p.variants}
    assert {s.shape for s in sketches} == set(pictures.SHAPES)
    assert 50 <= len(sketches) <= 200  # shared by kind and colour: the demo stays quick to load
    some = sorted(sketches, key=lambda s: (s.shape, s.colour))[::10]
    for sketch in some:
        drawn = pictures.draw(sketch)
        assert drawn == pictures.draw(sketch)
        picture = images.process(drawn, max_bytes=10 * 1024 * 1024, max_pixels=40_000_000)
        assert (picture.width, picture.height) == (pictures.SIZE, pictures.SIZE)


def test_a_colour_option_picks_its_colour() -> None:
    red = pictures.sketch_for("apparel", "DJ", "红色")
    navy = pictures.sketch_for("apparel", "DJ", "藏青")
    assert red.shape == navy.shape == "top" and red.colour != navy.colour
    assert pictures.sketch_for("apparel", "JN", "红色").shape == "trousers"
    assert pictures.sketch_for("agri", "APL", None) == pictures.sketch_for("agri", "APL", None)
