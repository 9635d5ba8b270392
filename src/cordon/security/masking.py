"""How personal identifiers are shown to people who may not see them in full."""

from __future__ import annotations


def mask_id_number(value: str) -> str:
    """``450681199001011234`` → ``450681********1234``: region kept, birth date hidden."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """``张三丰`` → ``张*丰``; two characters → ``张*``."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
