"""Drive app.payments.stripe.gateway through the real stripe SDK against the local FakeStripe."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from app.payments.stripe import gateway as gw
from app.payments.stripe.gateway import InvalidWebhook, PaymentGatewayError, StripeConfig
from tests.fakes.stripe_server import FakeStripe, parse_form, sign_payload

API_KEY = "sk_test_liutong_gateway"
WHSEC = "whsec_liutong_test_secret"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeStripe) -> FakeStripe:
    server.reset()
    return server


@pytest.fixture
def config(fake: FakeStripe) -> StripeConfig:
    return StripeConfig(api_key=API_KEY, webhook_secret=WHSEC, api_base=fake.url)


async def _paid_intent(config: StripeConfig, fake: FakeStripe, amount: int = 5000) -> str:
    pi_id, _ = await gw.create_payment_intent(
        config, amount=amount, currency="EUR", metadata={}, idempotency_key=f"create-{time.time_ns()}"
    )
    fake.succeed(pi_id)
    return pi_id


# --------------------------------------------------------------------------- payment intents


async def test_create_payment_intent_reaches_stripe(config: StripeConfig, fake: FakeStripe) -> None:
    pi_id, secret = await gw.create_payment_intent(
        config,
        amount=12345,
        currency="USD",
        metadata={"order_id": "ord_1", "merchant": "m-7"},
        idempotency_key="k-1",
    )

    assert pi_id.startswith("pi_")
    assert secret.startswith(f"{pi_id}_secret_")
    stored = fake.payment_intents[pi_id]
    assert stored["amount"] == 12345
    assert stored["currency"] == "usd"
    assert stored["metadata"] == {"order_id": "ord_1", "merchant": "m-7"}
    assert stored["client_secret"] == secret
    assert stored["status"] == "requires_payment_method"

    [request] = fake.requests_to("POST", "/v1/payment_intents")
    assert request.params == {
        "amount": "12345",
        "currency": "usd",
        "metadata": {"order_id": "ord_1", "merchant": "m-7"},
    }
    assert request.headers["idempotency-key"] == "k-1"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


async def test_create_retry_with_same_key_returns_same_intent(config: StripeConfig, fake: FakeStripe) -> None:
    kwargs: dict[str, Any] = {"amount": 900, "currency": "cny", "metadata": {"order_id": "o-9"}}
    first = await gw.create_payment_intent(config, idempotency_key="order-o-9", **kwargs)
    again = await gw.create_payment_intent(config, idempotency_key="order-o-9", **kwargs)
    other = await gw.create_payment_intent(config, idempotency_key="order-o-10", **kwargs)

    assert again == first
    assert other[0] != first[0]
    assert len(fake.payment_intents) == 2


async def test_same_key_different_params_is_an_error(config: StripeConfig, fake: FakeStripe) -> None:
    await gw.create_payment_intent(config, amount=100, currency="usd", metadata={}, idempotency_key="dup")
    with pytest.raises(PaymentGatewayError) as info:
        await gw.create_payment_intent(config, amount=200, currency="usd", metadata={}, idempotency_key="dup")
    assert info.value.http_status == 400
    assert "idempotent" in str(info.value)


async def test_concurrent_creates(config: StripeConfig, fake: FakeStripe) -> None:
    results = await asyncio.gather(
        *(
            gw.create_payment_intent(
                config, amount=100 + i, currency="usd", metadata={}, idempotency_key=f"c{i}"
            )
            for i in range(8)
        )
    )
    assert len({pi_id for pi_id, _ in results}) == 8
    assert sorted(pi["amount"] for pi in fake.payment_intents.values()) == [100 + i for i in range(8)]


async def test_invalid_amount_or_currency_is_rejected_locally(config: StripeConfig, fake: FakeStripe) -> None:
    with pytest.raises(ValueError):
        await gw.create_payment_intent(config, amount=0, currency="usd", metadata={}, idempotency_key="z")
    with pytest.raises(ValueError):
        await gw.create_payment_intent(
            config, amount=100, currency="dollars", metadata={}, idempotency_key="z"
        )
    assert fake.requests == []


async def test_cancel_payment_intent(config: StripeConfig, fake: FakeStripe) -> None:
    pi_id, _ = await gw.create_payment_intent(
        config, amount=100, currency="usd", metadata={}, idempotency_key="x"
    )
    await gw.cancel_payment_intent(config, payment_intent_id=pi_id)
    assert fake.payment_intents[pi_id]["status"] == "canceled"

    with pytest.raises(PaymentGatewayError) as info:
        await gw.cancel_payment_intent(config, payment_intent_id=pi_id)
    assert info.value.code == "payment_intent_unexpected_state"


async def test_unknown_intent_is_a_gateway_error(config: StripeConfig) -> None:
    with pytest.raises(PaymentGatewayError) as info:
        await gw.cancel_payment_intent(config, payment_intent_id="pi_does_not_exist")
    assert info.value.code == "resource_missing"
    assert info.value.http_status == 404
    assert info.value.request_id is not None and info.value.request_id.startswith("req_")


async def test_bad_api_key_is_a_gateway_error(fake: FakeStripe) -> None:
    config = StripeConfig(api_key="sk_live_not_for_tests", webhook_secret=WHSEC, api_base=fake.url)
    with pytest.raises(PaymentGatewayError) as info:
        await gw.create_payment_intent(config, amount=100, currency="usd", metadata={}, idempotency_key="a")
    assert info.value.http_status == 401


async def test_transient_server_error_is_retried_by_the_sdk(config: StripeConfig, fake: FakeStripe) -> None:
    fake.inject_error(500, count=1)
    pi_id, _ = await gw.create_payment_intent(
        config, amount=100, currency="usd", metadata={}, idempotency_key="retry-me"
    )
    attempts = fake.requests_to("POST", "/v1/payment_intents")
    assert len(attempts) == 2
    assert {r.headers["idempotency-key"] for r in attempts} == {"retry-me"}
    assert list(fake.payment_intents) == [pi_id]


def test_client_is_cached_and_stripe_globals_untouched(config: StripeConfig) -> None:
    assert gw._client(config) is gw._client(config)
    assert stripe.api_key is None
    assert stripe.api_base == "https://api.stripe.com"
    assert API_KEY not in repr(config) and WHSEC not in repr(config)


# --------------------------------------------------------------------------- refunds


async def test_full_refund(config: StripeConfig, fake: FakeStripe) -> None:
    pi_id = await _paid_intent(config, fake, amount=5000)
    refund_id = await gw.refund(config, payment_intent_id=pi_id, amount=5000, idempotency_key="r-full")

    assert refund_id.startswith("re_")
    stored = fake.refunds[refund_id]
    assert (stored["amount"], stored["currency"], stored["payment_intent"], stored["status"]) == (
        5000,
        "eur",
        pi_id,
        "succeeded",
    )

    with pytest.raises(PaymentGatewayError) as info:
        await gw.refund(config, payment_intent_id=pi_id, amount=1, idempotency_key="r-again")
    assert info.value.code == "charge_already_refunded"


async def test_partial_refunds_and_over_refund(config: StripeConfig, fake: FakeStripe) -> None:
    pi_id = await _paid_intent(config, fake, amount=5000)
    first = await gw.refund(config, payment_intent_id=pi_id, amount=1500, idempotency_key="r-1")
    second = await gw.refund(config, payment_intent_id=pi_id, amount=2000, idempotency_key="r-2")
    assert first != second
    assert fake.refunded_amount(pi_id) == 3500

    with pytest.raises(PaymentGatewayError) as info:
        await gw.refund(config, payment_intent_id=pi_id, amount=1501, idempotency_key="r-3")
    assert info.value.code == "amount_too_large"
    assert info.value.http_status == 400
    assert fake.refunded_amount(pi_id) == 3500

    last = await gw.refund(config, payment_intent_id=pi_id, amount=1500, idempotency_key="r-4")
    assert fake.refunds[last]["amount"] == 1500
    assert fake.refunded_amount(pi_id) == 5000


async def test_refund_retry_with_same_key_does_not_refund_twice(
    config: StripeConfig, fake: FakeStripe
) -> None:
    pi_id = await _paid_intent(config, fake, amount=3000)
    first = await gw.refund(config, payment_intent_id=pi_id, amount=1000, idempotency_key="refund-ret-1")
    again = await gw.refund(config, payment_intent_id=pi_id, amount=1000, idempotency_key="refund-ret-1")
    assert again == first
    assert len(fake.refunds) == 1


async def test_refund_of_unpaid_intent_fails(config: StripeConfig, fake: FakeStripe) -> None:
    pi_id, _ = await gw.create_payment_intent(
        config, amount=100, currency="usd", metadata={}, idempotency_key="u"
    )
    with pytest.raises(PaymentGatewayError):
        await gw.refund(config, payment_intent_id=pi_id, amount=100, idempotency_key="u-r")
    with pytest.raises(ValueError):
        await gw.refund(config, payment_intent_id=pi_id, amount=-5, idempotency_key="u-r")


# --------------------------------------------------------------------------- webhooks


def _signed(fake: FakeStripe, secret: str = WHSEC, **kwargs: Any) -> tuple[bytes, str, dict[str, Any]]:
    obj = {"id": "pi_123", "object": "payment_intent", "amount": 5000, "metadata": {"order_id": "o1"}}
    event = fake.event("payment_intent.succeeded", obj)
    payload = json.dumps(event).encode()
    return payload, sign_payload(payload, secret, **kwargs), event


def test_webhook_with_right_secret_parses(config: StripeConfig, fake: FakeStripe) -> None:
    payload, header, event = _signed(fake)
    parsed = gw.parse_webhook(config, payload=payload, signature=header)
    assert parsed == {
        "id": event["id"],
        "type": "payment_intent.succeeded",
        "object": {
            "id": "pi_123",
            "object": "payment_intent",
            "amount": 5000,
            "metadata": {"order_id": "o1"},
        },
    }
    assert type(parsed["object"]) is dict
    assert type(parsed["object"]["metadata"]) is dict


def test_webhook_for_an_intent_from_the_fake(config: StripeConfig, fake: FakeStripe) -> None:
    pi = fake.payment_intents.setdefault("pi_x", {"id": "pi_x", "object": "payment_intent", "amount": 1})
    payload, header = fake.webhook("payment_intent.payment_failed", pi, WHSEC)
    assert gw.parse_webhook(config, payload=payload, signature=header)["object"]["id"] == "pi_x"


def test_sign_payload_matches_the_sdk(fake: FakeStripe) -> None:
    payload, header, _ = _signed(fake, timestamp=1_700_000_000)
    expected = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), WHSEC, timestamp=1_700_000_000
    )
    assert header == expected


def test_webhook_with_wrong_secret(config: StripeConfig, fake: FakeStripe) -> None:
    payload, header, _ = _signed(fake, secret="whsec_someone_else")
    with pytest.raises(InvalidWebhook):
        gw.parse_webhook(config, payload=payload, signature=header)


def test_webhook_with_tampered_payload(config: StripeConfig, fake: FakeStripe) -> None:
    payload, header, _ = _signed(fake)
    tampered = payload.replace(b'"amount": 5000', b'"amount": 1')
    assert tampered != payload
    with pytest.raises(InvalidWebhook):
        gw.parse_webhook(config, payload=tampered, signature=header)


@pytest.mark.parametrize("signature", [None, "", "garbage", "t=abc,v1=00", "t=1700000000"])
def test_webhook_with_missing_or_malformed_header(
    config: StripeConfig, fake: FakeStripe, signature: str | None
) -> None:
    payload, _, _ = _signed(fake)
    with pytest.raises(InvalidWebhook):
        gw.parse_webhook(config, payload=payload, signature=signature)


def test_webhook_with_stale_timestamp(config: StripeConfig, fake: FakeStripe) -> None:
    payload, header, _ = _signed(fake, timestamp=int(time.time()) - 3600)
    with pytest.raises(InvalidWebhook):
        gw.parse_webhook(config, payload=payload, signature=header)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[1, 2]", b'"event"', b'{"id": "evt_1", "object": "event"}', b"\xff\xfe{}"],
)
def test_webhook_correctly_signed_but_malformed(config: StripeConfig, payload: bytes) -> None:
    with pytest.raises(InvalidWebhook):
        gw.parse_webhook(config, payload=payload, signature=sign_payload(payload, WHSEC))


# --------------------------------------------------------------------------- the fake itself


def test_parse_form_bracket_notation() -> None:
    parsed = parse_form(
        [
            ("amount", "100"),
            ("metadata[order_id]", "o1"),
            ("metadata[0]", "zero"),
            ("payment_method_types[0]", "card"),
            ("payment_method_types[1]", "alipay"),
            ("automatic_payment_methods[enabled]", "true"),
            ("line[items][0][name]", "tea"),
        ]
    )
    assert parsed == {
        "amount": "100",
        "metadata": {"order_id": "o1", "0": "zero"},
        "payment_method_types": ["card", "alipay"],
        "automatic_payment_methods": {"enabled": "true"},
        "line": {"items": [{"name": "tea"}]},
    }


def _raw_request(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=b"amount=100&currency=usd", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_fake_requires_a_test_key(fake: FakeStripe) -> None:
    status, body = _raw_request(f"{fake.url}/v1/payment_intents", {})
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    status, body = _raw_request(
        f"{fake.url}/v1/payment_intents", {"Authorization": "Bearer sk_live_123456789abc"}
    )
    assert status == 401
    status, body = _raw_request(f"{fake.url}/v1/payment_intents", {"Authorization": f"Bearer {API_KEY}"})
    assert status == 200 and body["object"] == "payment_intent" and body["livemode"] is False


def test_fake_sdk_round_trip(fake: FakeStripe) -> None:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 700,
            "currency": "usd",
            "allowed_payment_method_types": ["card"],
            "capture_method": "manual",
        }
    )
    assert intent.payment_method_types == ["card"] and intent.automatic_payment_methods is None
    assert client.v1.payment_intents.confirm(intent.id).status == "requires_capture"
    captured = client.v1.payment_intents.capture(intent.id)
    assert (captured.status, captured.amount_received, captured.latest_charge is not None) == (
        "succeeded",
        700,
        True,
    )
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})  # amount defaults to the rest
    assert client.v1.refunds.retrieve(refund.id).amount == 700
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.refunds.retrieve("re_missing")
    assert info.value.code == "resource_missing"


def test_fake_rejects_request_options_sent_as_params(fake: FakeStripe) -> None:
    """v16 params TypedDicts inherit RequestOptions, so this type-checks -- but it's sent as a form field."""
    client = stripe.StripeClient(API_KEY, base_addresses={"api": fake.url})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.create(params={"amount": 1, "currency": "usd", "idempotency_key": "oops"})
    assert info.value.code == "parameter_unknown"
    assert fake.payment_intents == {}
