"""Keys from settings: PEM text, the bare base64 that the providers' key tools print, or ``@path`` to a file."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["InvalidKey", "resolve_pem"]


class InvalidKey(ValueError):
    """A configured key is neither PEM, base64 DER nor a readable file of either."""


def resolve_pem(value: str, *, kind: Literal["private", "public"], setting: str) -> str:
    """The RSA key in ``value`` as PEM text (``PRIVATE KEY`` / ``PUBLIC KEY``), checked to load.

    ``value`` is PEM text, a bare base64 body, or ``@path`` (read now, so a missing file fails at start-up
    rather than at the first payment).
    """
    text = value.strip()
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidKey(f"{setting}: cannot read {text[1:]!r}: {exc}") from exc
    data = text.encode("ascii", "replace")
    try:
        if kind == "private":
            private = (serialization.load_pem_private_key(data, password=None) if text.startswith("-----")
                       else serialization.load_der_private_key(_der(text), password=None))
            if not isinstance(private, rsa.RSAPrivateKey):
                raise TypeError("an RSA key is needed")
            return private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
        public = (serialization.load_pem_public_key(data) if text.startswith("-----")
                  else serialization.load_der_public_key(_der(text)))
        if not isinstance(public, rsa.RSAPublicKey):
            raise TypeError("an RSA key is needed")
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    except (ValueError, TypeError) as exc:
        raise InvalidKey(f"{setting}: not a {kind} key ({exc})") from exc


def _der(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"neither PEM nor base64: {exc}") from exc
