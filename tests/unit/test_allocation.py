from app.inventory.allocation import Need, Take, plan_delivery, plan_pickup

KINDS = {"wh": "warehouse", "s1": "store", "s2": "store", "pp": "pickup_point"}


def test_single_location_that_serves_everything_wins_and_warehouses_come_first() -> None:
    available = {("wh", "a"): 5, ("wh", "b"): 5, ("s1", "a"): 50, ("s1", "b"): 50}
    plan = plan_delivery([Need("a", 2), Need("b", 1)], available, KINDS)
    assert plan.takes == (Take("a", "wh", 2), Take("b", "wh", 1)) and plan.short == ()


def test_a_store_serves_the_whole_order_when_the_warehouse_cannot() -> None:
    available = {("wh", "a"): 1, ("wh", "b"): 9, ("s1", "a"): 3, ("s1", "b"): 3}
    plan = plan_delivery([Need("a", 2), Need("b", 2)], available, KINDS)
    assert {t.location_id for t in plan.takes} == {"s1"}


def test_split_by_most_stock_when_no_single_location_can() -> None:
    available = {("wh", "a"): 3, ("s1", "a"): 4, ("s2", "a"): 1}
    plan = plan_delivery([Need("a", 6)], available, KINDS)
    assert plan.takes == (Take("a", "s1", 4), Take("a", "wh", 2))


def test_pickup_points_never_ship_and_short_lines_are_named() -> None:
    available = {("pp", "a"): 100, ("wh", "b"): 1}
    plan = plan_delivery([Need("a", 1), Need("b", 2)], available, KINDS)
    assert set(plan.short) == {"a", "b"}


def test_pickup_reserves_only_at_the_chosen_store() -> None:
    available = {("wh", "a"): 100, ("s1", "a"): 1}
    assert plan_pickup([Need("a", 2)], available, "s1").short == ("a",)
    assert plan_pickup([Need("a", 1)], available, "s1").takes == (Take("a", "s1", 1),)
