"""Pure checks of identity numbers (GB 11643-1999) and phone numbers.

Identity numbers are checked with python-stdnum's ``cn.ric`` parts, one part at a time, so the
error says which part is wrong: length, format, region code, birth date or check digit.

Historical region codes: a number keeps the region code of the place that issued it for the
holder's whole life, even after that code is retired or the county renamed (452101 凭祥市 was
renumbered 451481 in 2003; people still carry 452101…). So a region code is accepted when it
was ever a county-level code in stdnum's table of GB/T 2260 codes, whatever the birth year.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import phonenumbers
from stdnum import numdb
from stdnum.cn import ric

from cordon import clock
from cordon.errors import Invalid, Problem


class IdNumberError(ValueError):
    """An identity number that fails one named part of the standard."""

    def __init__(self, part: str, message: str, **params: object) -> None:
        text = message % params
        super().__init__(text)
        self.part = part
        self.message = text
        self.template = message  # the catalog key, filled with params
        self.params = params

    def as_problem(self, field: str = "id_number") -> Problem:
        """The error named by its part ("identity number checksum: …"), keyed whole (the keys
        are listed in web.messages)."""
        return Problem(
            field,
            f"identity number {self.part}: {self.message}",
            template=f"identity number {self.part}: {self.template}",
            params=self.params,
        )


@dataclass(frozen=True)
class IdNumber:
    number: str
    region_code: str
    birth_date: date
    sex: str  # "M" or "F", from the parity of the 17th digit


def _region_known(region: str) -> bool:
    parts = numdb.get("cn/loc").info(region)
    info = {key: value for _part, props in parts for key, value in props.items()}
    return "county" in info


def parse_id_number(value: str, *, today: date | None = None) -> IdNumber:
    number = ric.compact(value)
    if len(number) != 18:
        raise IdNumberError("length", "must have 18 characters, has %(length)s", length=len(number))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("format", "must be 17 digits followed by a digit or X")
    if not _region_known(number[:6]):
        raise IdNumberError(
            "region_code", "region code %(region)s is not a GB/T 2260 code", region=number[:6]
        )
    try:
        birth = ric.get_birth_date(number)
    except ric.ValidationError as exc:
        raise IdNumberError(
            "birth_date", "birth date %(date)s is not a date", date=number[6:14]
        ) from exc
    limit = today or clock.today()
    if birth > limit or birth.year < 1900:
        raise IdNumberError(
            "birth_date", "birth date %(date)s is out of range", date=birth.isoformat()
        )
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise IdNumberError(
            "checksum",
            "check digit is %(digit)s, should be %(expected)s",
            digit=number[17],
            expected=expected,
        )
    sex = "M" if int(number[16]) % 2 else "F"
    return IdNumber(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def with_check_digit(first17: str) -> str:
    """Complete 17 digits with their check digit (used to make demo and test people)."""
    return first17 + ric.calc_check_digit(first17 + "0")


class PhoneError(Invalid):
    pass


_SEPARATORS = re.compile(r"[\s\-()]")


def normalise_phone(value: str) -> str:
    """A valid Chinese mobile or fixed-line number in national digits (e.g. 13812345678,
    07703212345), checked with Google's libphonenumber data."""
    text = _SEPARATORS.sub("", value)
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError("'%(phone)s' is not a phone number", params=dict(phone=value)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("'%(phone)s' is not a valid number", params=dict(phone=value))
    if parsed.country_code != 86:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _SEPARATORS.sub("", national)


def id_number_error(value: str) -> IdNumberError | None:
    """What is wrong with an identity number (length, format, region, birth date or check
    digit, with the values, so a page can say it in the user's language), or None."""
    try:
        parse_id_number(value)
    except IdNumberError as exc:
        return exc
    return None


def id_number_problem(value: str, translate: Callable[[str], str]) -> str | None:
    """Why ``value`` is not a valid identity number, in the language ``translate`` speaks, or
    None when it is valid (or blank)."""
    wrong = id_number_error(value) if value.strip() else None
    if wrong is None:
        return None
    return translate(wrong.template) % wrong.params
