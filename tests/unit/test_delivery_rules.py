"""Delivery rules without a database: shipping templates, carriers' tracking numbers, Kuaidi100 pushes, promises."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.logistics import carriers, rules
from app.logistics.providers import InvalidPush, kuaidi100
from app.orders import rules as order_rules

PIECE = rules.Template("piece", rules.Rate(first=1, first_fee=1_000, each=1, each_fee=500))
WEIGHT = rules.Template("weight", rules.Rate(first=1_000, first_fee=1_200, each=500, each_fee=400))


def test_by_piece_first_and_each_further_piece() -> None:
    assert rules.quote(PIECE, "浙江省", [rules.Parcel(1, 5_000)]) == 1_000
    assert rules.quote(PIECE, "浙江省", [rules.Parcel(2, 5_000), rules.Parcel(1, 900)]) == 2_000


def test_by_weight_counts_each_started_block() -> None:
    # 2 × 800 g = 1,600 g: the first kilo, then 600 g is two started 500 g blocks
    assert rules.quote(WEIGHT, "江苏省", [rules.Parcel(2, 9_000, weight=800)]) == 1_200 + 2 * 400
    assert rules.quote(WEIGHT, "江苏省", [rules.Parcel(1, 9_000, weight=1_000)]) == 1_200


def test_by_volume() -> None:
    template = rules.Template("volume", rules.Rate(first=10_000, first_fee=800, each=5_000, each_fee=300))
    assert rules.quote(template, "上海", [rules.Parcel(3, 100, volume=6_000)]) == 800 + 2 * 300


def test_free_from_an_amount_or_a_count() -> None:
    template = rules.Template("piece", PIECE.rate, free_over_amount=9_900, free_over_count=5)
    assert rules.quote(template, "北京", [rules.Parcel(1, 9_899)]) == 1_000
    assert rules.quote(template, "北京", [rules.Parcel(1, 9_900)]) == 0
    assert rules.quote(template, "北京", [rules.Parcel(5, 100)]) == 0


def test_remote_province_priced_apart_and_left_out_of_free_shipping() -> None:
    remote = rules.Region(("新疆", "西藏自治区"), rules.Rate(1, 2_500, 1, 1_500))
    template = rules.Template("piece", PIECE.rate, regions=(remote,), free_over_amount=9_900)
    assert rules.quote(template, "新疆维吾尔自治区", [rules.Parcel(2, 20_000)]) == 4_000
    assert rules.quote(template, "西藏", [rules.Parcel(1, 100)]) == 2_500
    assert rules.quote(template, "广东省", [rules.Parcel(2, 20_000)]) == 0


def test_a_province_not_delivered_to_is_refused() -> None:
    template = rules.Template("piece", PIECE.rate, excluded=("新疆",))
    with pytest.raises(rules.Undeliverable):
        rules.quote(template, "新疆维吾尔自治区", [rules.Parcel(1, 100)])


def test_untemplated_lines_keep_the_flat_fee_beside_a_template() -> None:
    quote = rules.DeliveryQuote("浙江省", (rules.LineSpec("t1"), rules.LineSpec(None)), {"t1": PIECE},
                                lambda amount: order_rules.shipping_fee("delivery", amount))
    assert quote([(2, 5_000), (1, 5_000)]) == 1_500 + 1_000  # template, then ¥10 below ¥99
    assert quote([(1, 5_000), (1, 9_900)]) == 1_000  # free from ¥99 as before


def test_province_keys() -> None:
    assert {rules.province_key(p) for p in ("新疆", "新疆维吾尔自治区")} == {"新疆"}
    assert rules.province_key("黑龙江省") == "黑龙江" and rules.province_key("内蒙古自治区") == "内蒙古"
    assert len({rules.province_key(p) for p in rules.PROVINCES}) == len(rules.PROVINCES)


@pytest.mark.parametrize("carrier", carriers.CARRIERS, ids=lambda c: c.code)
def test_every_carrier_accepts_its_numbers_and_refuses_others(carrier: carriers.Carrier) -> None:
    assert carriers.tracking_refusal(carrier.code, carrier.example) is None
    assert carriers.tracking_refusal(carrier.code, carrier.example.lower()) is None  # as typed
    for wrong in ("123", carrier.example + "9", "X" + carrier.example[1:]):
        refusal = carriers.tracking_refusal(carrier.code, wrong)
        assert refusal is not None and refusal[0] == "tracking_no", wrong


def test_carrier_codes_and_names() -> None:
    refusal = carriers.tracking_refusal("UPSX", "1Z999")
    assert refusal is not None and refusal[0] == "carrier" and "SF" in refusal[1]
    assert carriers.lookup("顺丰") is carriers.BY_CODE["SF"] and carriers.lookup("中通快递") is carriers.BY_CODE["ZTO"]
    assert carriers.lookup("sf") is carriers.BY_CODE["SF"] and carriers.lookup("某某物流") is None


def _push(state: str, steps: list[tuple[str, str]], number: str = "SF1234567890123") -> dict[str, str]:
    param = json.dumps({"status": "polling", "message": "", "lastResult": {
        "com": "shunfeng", "nu": number, "state": state, "ischeck": "1" if state == "3" else "0",
        "data": [{"context": c, "ftime": t, "time": t} for t, c in steps]}}, ensure_ascii=False)
    return {"param": param, "sign": kuaidi100.sign(param, "salt")}


def test_kuaidi100_push_is_verified_and_read() -> None:
    push = kuaidi100.PROVIDER.read(_push("3", [("2026-03-01 23:59:00", "已签收"), ("2026-03-01 08:00:00", "派件中")]),
                                   "salt")
    assert push.carrier == "SF" and push.tracking_no == "SF1234567890123"
    assert push.signed_at == datetime(2026, 3, 1, 15, 59, tzinfo=UTC)  # Beijing time read as such
    assert [e.state for e in push.events] == ["signed", "in_transit"]
    with pytest.raises(InvalidPush):
        kuaidi100.PROVIDER.read(_push("3", [("2026-03-01 23:59:00", "已签收")]), "another salt")
    forged = _push("0", [("2026-03-01 08:00:00", "运输中")])
    forged["param"] = forged["param"].replace("运输中", "已签收")
    with pytest.raises(InvalidPush):
        kuaidi100.PROVIDER.read(forged, "salt")


def test_kuaidi100_states() -> None:
    assert [kuaidi100.state_of(c) for c in ("0", "1", "3", "301", "5", "14", "x")] == [
        "in_transit", "collected", "signed", "signed", "delivering", "returned", "in_transit"]


def test_late_shipments() -> None:
    promise = datetime(2026, 3, 3, tzinfo=UTC)
    before, after = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
    assert rules.is_late(promised_ship_by=promise, shipped_at=after, status="shipped", now=after)
    assert not rules.is_late(promised_ship_by=promise, shipped_at=before, status="shipped", now=after)
    assert rules.is_late(promised_ship_by=promise, shipped_at=None, status="paid", now=after)
    assert not rules.is_late(promised_ship_by=promise, shipped_at=None, status="paid", now=before)
    assert not rules.is_late(promised_ship_by=promise, shipped_at=None, status="cancelled", now=after)
