"""The ways to pay, by name. A provider is a package of its own (`app/payments/<name>/`: gateway, notification
routes, settings, whether it is prepaid) and one entry in `PROVIDERS`; nothing else names a provider.

What is offered follows the platform's settings: a provider whose settings are missing is neither accepted at
checkout nor shown to buyers, and its notification routes answer 404.
"""

from __future__ import annotations

from pydantic import AfterValidator, WithJsonSchema

from app.config import Settings
from app.core.errors import field_error
from app.payments import alipay, cod, stripe, terms, wechatpay
from app.payments.base import Gateway, Provider

PROVIDERS: dict[str, Provider] = {p.name: p for p in (cod.PROVIDER, terms.PROVIDER, stripe.PROVIDER, alipay.PROVIDER,
                                                      wechatpay.PROVIDER)}


def provider(name: str) -> Provider:
    """A registered provider (KeyError for another name: payment methods are checked when requests are parsed)."""
    return PROVIDERS[name]


def prepaid(name: str) -> bool:
    """Whether orders paid this way wait for the money before they go further (`pending_payment`)."""
    return PROVIDERS[name].prepaid


def names(channel: str) -> list[str]:
    """The providers a channel may offer, whatever the settings (the enum of its `payment_method`)."""
    return sorted(p.name for p in PROVIDERS.values() if channel in p.channels)


def accepts(channel: str) -> tuple[AfterValidator, WithJsonSchema]:
    """The metadata of a channel's payment-method field, `Annotated[str, *accepts("retail")]`: the channel's
    providers, checked when the request is parsed (422 naming them) and listed as the field's enum."""
    choices = names(channel)

    def check(name: str) -> str:
        if name not in choices:
            raise ValueError(f"one of: {', '.join(choices)}")
        return name

    return AfterValidator(check), WithJsonSchema({"type": "string", "enum": choices})


def offered(settings: Settings, channel: str) -> list[Provider]:
    """The providers buyers of `channel` can choose on this platform (configured ones), in the registry's order."""
    return [p for p in PROVIDERS.values() if channel in p.channels and p.gateway(settings) is not None]


def gateway(settings: Settings, name: str, *, field: str = "payment_method") -> Gateway:
    """The gateway of a provider the platform is configured for; 422 on `field` otherwise."""
    found = PROVIDERS[name].gateway(settings) if name in PROVIDERS else None
    if found is None:
        raise field_error(field, f"{name!r} is not offered on this platform")
    return found
