"""Option rules without a database: deriving options, checking variants, the matrix, picking, new SKUs."""

from __future__ import annotations

from app.catalog import options

COLOUR = {"name": "颜色", "values": ["红色", "黑色"]}
SIZE = {"name": "尺码", "values": ["M", "L", "XL"]}


def test_options_are_read_off_consistent_attributes() -> None:
    rows = [{"颜色": "红色", "尺码": "M"}, {"颜色": "黑色", "尺码": "M"}, {"尺码": "L", "颜色": "红色"}]
    assert options.derive(rows) == [{"name": "颜色", "values": ["红色", "黑色"]},
                                    {"name": "尺码", "values": ["M", "L"]}]
    assert options.derive([{"a": "1"}, {"b": "2"}]) == []
    assert options.derive([{}]) == [] and options.derive([]) == []
    assert options.derive([{"a": "1", "b": "1", "c": "1", "d": "1"}]) == []  # at most three options


def test_the_matrix_and_its_checks() -> None:
    combos = options.combinations([COLOUR, SIZE])
    assert len(combos) == 6 and combos[0] == {"颜色": "红色", "尺码": "M"}
    assert combos[-1] == {"颜色": "黑色", "尺码": "XL"}
    bad = options.mismatches([COLOUR, SIZE], [
        {"颜色": "红色", "尺码": "M"}, {"颜色": "蓝色", "尺码": "M"}, {"颜色": "红色", "尺码": "M"},
        {"颜色": "红色", "尺码": "M", "材质": "棉"}])
    assert [(i, field) for i, field, _ in bad] == [(1, "attributes"), (2, "attributes"), (3, "attributes")]
    assert "颜色" in bad[0][2] and "variant 0" in bad[1][2] and "材质" in bad[2][2]


def test_picking_a_variant_by_its_values() -> None:
    variants = [{"id": "a", "attributes": {"颜色": "红色", "尺码": "M"}},
                {"id": "b", "attributes": {"颜色": "黑色", "尺码": "M"}}]
    assert options.pick(variants, {"颜色": "黑色", "尺码": "M"}) == variants[1]
    assert options.pick(variants, {"颜色": "黑色", "尺码": "L"}) is None


def test_new_skus_use_ascii_values_or_the_values_place() -> None:
    assert options.sku_for("TS-01", {"颜色": "黑色", "尺码": "XL"}, [COLOUR, SIZE]) == "TS-01-V2-XL"
    assert options.sku_for("TS-01", {"规格": "5kg/箱"}, [{"name": "规格", "values": ["5kg/箱"]}]) == "TS-01-5KG"
