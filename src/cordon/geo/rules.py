"""Pure rules about division codes.

Codes are kept at the lengths of the statistics data (2/4/6/9/12 digits for province,
prefecture, county, town, village; grids add 3 more), so a division's code is a prefix of
every code below it and "inside a jurisdiction" is a prefix test.
"""

from __future__ import annotations

import re

from cordon.errors import Invalid

LEVELS = {2: "province", 4: "prefecture", 6: "county", 9: "town", 12: "village", 15: "grid"}
_DIGITS = re.compile(r"^\d+$")


class BadDivisionCode(Invalid):
    pass


def normalise_code(code: str) -> str:
    """Accept GB/T 2260 six-digit forms (450000, 450600) and return the prefix form (45, 4506)."""
    text = code.strip()
    if not _DIGITS.match(text):
        raise BadDivisionCode(
            "division code must be digits, got '%(code)s'", params=dict(code=code)
        )
    if len(text) == 6:
        if text.endswith("0000"):
            text = text[:2]
        elif text.endswith("00"):
            text = text[:4]
    if len(text) not in LEVELS:
        raise BadDivisionCode(
            "division code '%(code)s' has %(digits)s digits",
            params=dict(code=code, digits=len(text)),
        )
    return text


def level_of(code: str) -> str:
    return LEVELS[len(code)]


def is_within(code: str, jurisdiction: str) -> bool:
    """True when ``code`` lies inside (or is) the division ``jurisdiction``."""
    return code.startswith(jurisdiction)


def ancestors(code: str) -> list[str]:
    """The codes of every division containing ``code``, outermost first, itself last."""
    return [code[:n] for n in sorted(LEVELS) if n <= len(code)]


def grid_code(village_code: str, number: int) -> str:
    if len(village_code) != 12 or not 1 <= number <= 999:
        raise BadDivisionCode(
            "no grid %(number)s under '%(village)s'",
            params=dict(number=number, village=village_code),
        )
    return f"{village_code}{number:03d}"
