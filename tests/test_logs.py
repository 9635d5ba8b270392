import logging

import pytest

from cordon.logs import MaskingFilter, mask_text, uvicorn_log_config
from tests.helpers import id_number

NUMBER = id_number()


def test_identity_numbers_and_mobiles_are_masked_in_text() -> None:
    line = f'"GET /api/v1/people?id_number={NUMBER}&phone=13812345678 HTTP/1.1" 200'
    masked = mask_text(line)
    assert NUMBER not in masked and "13812345678" not in masked
    assert f"{NUMBER[:6]}********{NUMBER[-4:]}" in masked and "138****5678" in masked
    # Other numbers (ids, grid codes, timestamps) are left alone.
    assert mask_text("grid 450681100001001 person 12345") == "grid 450681100001001 person 12345"


def test_access_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    handler = caplog.handler
    handler.addFilter(MaskingFilter())
    try:
        logger.warning(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/people?q={NUMBER}", "1.1", 200
        )
    finally:
        handler.removeFilter(handler.filters[-1])
    assert NUMBER not in caplog.text
    assert f"{NUMBER[:6]}********{NUMBER[-4:]}" in caplog.text


def test_every_server_handler_masks() -> None:
    config = uvicorn_log_config()
    assert all(h["filters"] == ["mask"] for h in config["handlers"].values())
