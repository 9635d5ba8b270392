"""Signed QR tokens: verified offline with the public key; altered, expired, unsigned or
foreign tokens are refused with a message saying which."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cordon.codes import tokens
from tests.codes.facts import day

SEED = bytes(range(32))
PUBLIC = tokens.load_public_key(tokens.public_key_pem(SEED))


def _token(minutes: int = 60) -> str:
    return tokens.issue(
        SEED,
        colour="yellow",
        name="黄*明",
        id_number="450681********1234",
        pack="guangxi-2021-12",
        now=day(1),
        minutes=minutes,
    )


def test_a_token_verifies_with_the_public_key_alone() -> None:
    claims = tokens.verify(_token(), PUBLIC, now=day(1) + timedelta(minutes=30))
    assert (claims.colour, claims.name, claims.id_number) == (
        "yellow",
        "黄*明",
        "450681********1234",
    )
    assert claims.expires_at == day(1) + timedelta(minutes=60)


@pytest.mark.parametrize("position", [5, 20, -3])
def test_altering_one_byte_fails(position: int) -> None:
    token = _token()
    swapped = "A" if token[position] != "A" else "B"
    altered = token[:position] + swapped + token[position + 1 :]
    with pytest.raises(tokens.TokenRefused, match=r"altered|not a Cordon"):
        tokens.verify(altered, PUBLIC, now=day(1))


def test_a_forged_colour_fails() -> None:
    prefix, _body, signature = _token().split(".")
    other = tokens.issue(
        SEED, colour="green", name="x", id_number="x", pack="p", now=day(1), minutes=60
    )
    with pytest.raises(tokens.TokenRefused, match="signature does not match"):
        tokens.verify(f"{prefix}.{other.split('.')[1]}.{signature}", PUBLIC, now=day(1))


def test_an_expired_token_fails_with_its_expiry() -> None:
    with pytest.raises(tokens.TokenRefused, match="expired at 2021-12-16 03:00 UTC"):
        tokens.verify(_token(minutes=60), PUBLIC, now=day(1) + timedelta(hours=2))


def test_unsigned_and_foreign_tokens_fail() -> None:
    prefix, body, _signature = _token().split(".")
    with pytest.raises(tokens.TokenRefused, match="unsigned"):
        tokens.verify(f"{prefix}.{body}", PUBLIC, now=day(1))
    with pytest.raises(tokens.TokenRefused, match="unsigned"):
        tokens.verify(f"{prefix}.{body}.", PUBLIC, now=day(1))
    other_key = tokens.load_public_key(tokens.public_key_pem(bytes(32)))
    with pytest.raises(tokens.TokenRefused, match="another key"):
        tokens.verify(_token(), other_key, now=day(1))
    with pytest.raises(tokens.TokenRefused, match="not a Cordon"):
        tokens.verify("hello", PUBLIC, now=day(1))


def test_every_single_character_change_fails() -> None:
    token = _token()
    for position in range(len(token)):
        for replacement in "AB":
            if token[position] == replacement:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(tokens.TokenRefused):
                tokens.verify(altered, PUBLIC, now=day(1))
