"""Signed health-code tokens for QR codes, verifiable offline with the public key.

A token is ``CDN1.<claims>.<signature>``: the claims (colour, masked name and identity number,
issue and expiry times, pack) as base64url JSON, signed with Ed25519. A checkpoint holding the
public key checks the signature and the expiry without calling home; any altered byte, another
key, or an expired token is refused with a message saying which.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cordon import clock

PREFIX = "CDN1"
CLOCK_SKEW = timedelta(minutes=2)  # a checkpoint's clock may run a little ahead or behind


class TokenRefused(Exception):
    """The token must not be trusted; the message says why (a catalog key with params)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params)
        self.template = message
        self.params = params


@dataclass(frozen=True)
class Claims:
    colour: str
    name: str  # masked
    id_number: str  # masked
    issued_at: datetime
    expires_at: datetime
    pack: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    """Strict: a text that is not the canonical encoding of its bytes (stray padding bits, other
    characters) is refused, so no character of a token can change without failing."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


@lru_cache(maxsize=4)
def private_key(seed: bytes) -> Ed25519PrivateKey:
    """The signing key of a seed, built once per process (every lookup signs with it)."""
    return Ed25519PrivateKey.from_private_bytes(seed[:32])


def public_key_pem(seed: bytes) -> str:
    key = private_key(seed).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise TokenRefused("the public key is not a PEM Ed25519 public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise TokenRefused("the public key is not an Ed25519 key")
    return key


def expiry(now: datetime, minutes: int) -> datetime:
    """When a token issued at ``now`` expires (whole seconds, as the token carries it)."""
    return datetime.fromtimestamp(int((now + timedelta(minutes=minutes)).timestamp()), UTC)


def issue(
    seed: bytes,
    *,
    colour: str,
    name: str,
    id_number: str,
    pack: str,
    now: datetime,
    minutes: int,
) -> str:
    claims = {
        "c": colour,
        "n": name,
        "i": id_number,
        "p": pack,
        "iat": int(now.timestamp()),
        "exp": int(expiry(now, minutes).timestamp()),
    }
    body = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    signed = f"{PREFIX}.{body}"
    return f"{signed}.{_b64(private_key(seed).sign(signed.encode()))}"


def verify(token: str, public_key: Ed25519PublicKey, *, now: datetime | None = None) -> Claims:
    """The token's claims if it is authentic and current; TokenRefused otherwise."""
    moment = now or clock.now()
    parts = token.strip().split(".")
    if len(parts) == 2 and parts[0] == PREFIX:
        raise TokenRefused("the token is unsigned: it carries no signature")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenRefused(
            "not a Cordon health-code token (expected %(prefix)s.<claims>.<signature>)",
            prefix=PREFIX,
        )
    if not parts[2]:
        raise TokenRefused("the token is unsigned: it carries no signature")
    try:
        signature = _unb64(parts[2])
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise TokenRefused(
            "the signature does not match: the token was altered or signed by another key"
        ) from exc
    try:
        data = json.loads(_unb64(parts[1]))
        claims = Claims(
            colour=str(data["c"]),
            name=str(data["n"]),
            id_number=str(data["i"]),
            pack=str(data["p"]),
            issued_at=datetime.fromtimestamp(int(data["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(data["exp"]), UTC),
        )
    except (ValueError, KeyError, TypeError) as exc:  # signed by us, so should not happen
        raise TokenRefused("the token's claims cannot be read") from exc
    if moment > claims.expires_at + CLOCK_SKEW:
        raise TokenRefused(
            "the token expired at %(expired)s UTC; show a fresh code",
            expired=f"{claims.expires_at:%Y-%m-%d %H:%M}",
        )
    if claims.issued_at > moment + CLOCK_SKEW:
        raise TokenRefused("the token is issued in the future: check the checkpoint's clock")
    return claims
