"""Logging that never writes identity numbers or phone numbers in full.

Access logs carry request paths and query strings, and a search by identity number puts the
number in the query string; so every record is masked on its way to a handler."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from cordon.security.masking import mask_id_number, mask_phone

# 18-character identity numbers and 11-digit mainland mobiles, not inside longer digit runs.
_ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9Xx](?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_text(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                mask_text(a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        return True


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """Uvicorn's own logging set-up with the masking filter on every handler."""
    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"mask": {"()": "cordon.logs.MaskingFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["mask"]
    for logger in config["loggers"].values():
        logger["level"] = level.upper()
    config["loggers"]["cordon"] = {"handlers": ["default"], "level": level.upper()}
    return config
