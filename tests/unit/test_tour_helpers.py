"""The tour's plain helpers and its error reporting, without a server (httpx's mock transport)."""

import httpx
import pytest

from app.core.uscc import uscc_is_valid
from app.tour.cast import fake_uscc
from app.tour.client import Api, TourFailed, problem_text
from app.tour.sections import percent, yuan


def test_money_and_share_read_like_a_report() -> None:
    assert yuan(183_728_80) == "¥183,728.80"
    assert percent(0.05) == "5.00 %"
    assert percent(None).startswith("n/a")


def test_merchants_the_tour_signs_up_have_valid_credit_codes() -> None:
    assert all(uscc_is_valid(fake_uscc()) for _ in range(50))


def test_problem_text_names_the_bad_fields() -> None:
    response = httpx.Response(422, json={"title": "invalid input", "detail": "the product cannot be listed",
                                         "errors": [{"field": "description", "message": "forbidden clause"}]})
    assert problem_text(response) == "the product cannot be listed [description: forbidden clause]"
    assert problem_text(httpx.Response(500, text="boom")) == "boom"


def test_an_unexpected_answer_stops_the_tour_naming_the_step() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ok":
            assert request.headers["authorization"] == "Bearer t" and request.headers["idempotency-key"]
            return httpx.Response(201, json={"id": "x"})
        return httpx.Response(409, json={"detail": "out of stock: SKU-1"})

    api = Api("http://shop.test", transport=httpx.MockTransport(answer))
    assert api.call("POST", "/ok", step="place", token="t", idempotent=True) == {"id": "x"}
    with pytest.raises(TourFailed, match=r"^wholesale order: POST /v1/x answered 409 \(expected 200 or 201\): "
                                         r"out of stock: SKU-1$"):
        api.call("POST", "/v1/x", step="wholesale order")
    assert api.calls == 2
