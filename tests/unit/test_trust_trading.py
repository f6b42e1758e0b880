from app.trust.trading import INDIVIDUAL_YEARLY_LIMIT, TRADING_MODELS, enabled_models, model_refusal, over_limit

ALL = list(TRADING_MODELS)


def test_five_models_and_the_setting() -> None:
    assert ALL == ["b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"]
    assert enabled_models("c2c, b2c_mall,nonsense") == ["b2c_mall", "c2c"]
    assert enabled_models("") == []


def test_who_may_trade_under_which_model() -> None:
    assert model_refusal(model="c2c", enabled=ALL, kind="individual", registration="unregistered") is None
    assert model_refusal(model="b2c_mall", enabled=ALL, kind="individual", registration="registered") is None
    assert model_refusal(model="b2c_mall", enabled=ALL, kind="individual", registration="unregistered")
    assert model_refusal(model="c2c", enabled=ALL, kind="enterprise", registration="registered")
    assert "does not run" in str(model_refusal(model="b2b_own", enabled=["c2c"], kind="enterprise",
                                               registration="registered"))


def test_the_yearly_limit_is_exceeded_only_above_100k() -> None:
    assert INDIVIDUAL_YEARLY_LIMIT == 100_000 * 100
    assert not over_limit(6_000_000 + 4_000_000)
    assert over_limit(6_000_000 + 4_000_100)
