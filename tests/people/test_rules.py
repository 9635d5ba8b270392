from datetime import date

import pytest

from cordon.people.rules import (
    IdNumberError,
    PhoneError,
    normalise_phone,
    parse_id_number,
    with_check_digit,
)
from tests.helpers import id_number


def test_valid_number_gives_region_birth_date_and_sex() -> None:
    parsed = parse_id_number(id_number(born=date(1985, 6, 30), order=124))
    assert parsed.region_code == "450681"
    assert parsed.birth_date == date(1985, 6, 30)
    assert parsed.sex == "F"


def test_lowercase_x_check_digit_is_accepted_and_normalised() -> None:
    # Find an order number whose check digit is X.
    number = next(
        n for n in (with_check_digit(f"45068119900101{i:03d}") for i in range(1000)) if n[-1] == "X"
    )
    assert parse_id_number(number.lower()).number == number


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("4506811990010112", "length"),
        ("4506811990010112345", "length"),
        ("45068119900A01123X", "format"),
        ("45068119900101123Y", "format"),
        (with_check_digit("99999919900101123"), "region_code"),
        (with_check_digit("45068119901301123"), "birth_date"),
        (with_check_digit("45068119900230123"), "birth_date"),
        (with_check_digit("45068121000101123"), "birth_date"),
        (with_check_digit("45068118500101123"), "birth_date"),
    ],
)
def test_each_wrong_part_is_named(value: str, part: str) -> None:
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(value)
    assert caught.value.part == part


def test_wrong_check_digit_says_which_it_should_be() -> None:
    good = id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(IdNumberError) as caught:
        parse_id_number(bad)
    assert caught.value.part == "checksum"
    assert f"should be {good[-1]}" in caught.value.message


def test_historical_region_codes_stay_valid_for_life() -> None:
    # 452101 (凭祥市 before 2003) and 东兴市 numbers issued to people born before 1996.
    assert (
        parse_id_number(id_number(region="452101", born=date(1980, 1, 1))).region_code == "452101"
    )
    assert (
        parse_id_number(id_number(region="450681", born=date(1950, 1, 1))).birth_date.year == 1950
    )


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("138 1234 5678", "13812345678"),
        ("0770-3212345", "07703212345"),
        ("+84 912 345 678", "+84912345678"),
    ],
)
def test_phone_numbers_are_normalised(raw: str, normal: str) -> None:
    assert normalise_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12345", "1381234567", "abc", "99912345678"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(PhoneError):
        normalise_phone(raw)
