"""The users page and the new-case form in a real browser (Debian's Chromium through
Playwright), against the test app served by uvicorn in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.rules import Role
from cordon.db import transaction
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.conftest import PASSWORD, UserMaker
from tests.helpers import id_number, make_actor, person

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]


@pytest.fixture
def served(app: object) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(served: str) -> Iterator[Any]:
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        tab.set_default_timeout(20_000)
        yield tab
        browser.close()


def log_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_admin_creates_and_disables_a_user_in_the_browser(
    page: Any, served: str, make_user: UserMaker
) -> None:
    make_user("boss", Role.ADMIN, "4506")
    log_in(page, served, "boss")
    page.click("nav >> text=用户管理")
    page.fill("#f-username", "zhou.gw")
    page.fill("#f-display_name", "周网格")
    page.select_option("#f-role", "grid_worker")
    page.select_option("#f-jurisdiction", "450681")
    page.click("text=创建用户")
    password = page.locator("#issued-password strong").inner_text()
    assert len(password) >= 10
    page.click("#user-table >> text=zhou.gw")
    page.click("#disable-user")
    assert page.locator("#user-disabled").is_visible()
    page.click("#reset-password")
    assert len(page.locator("#issued-password strong").inner_text()) >= 10


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_epidemiologist_registers_a_case_from_the_new_case_button(
    page: Any,
    served: str,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    with transaction(session_factory) as s:
        data = PersonIn.model_validate(person(name="黄志明"))
        people_service.create_person(session=s, actor=make_actor(), cipher=cipher, data=data)
    make_user("epi", Role.EPIDEMIOLOGIST, "450681")
    log_in(page, served, "epi")
    page.goto(f"{served}/cases")
    page.click("#new-case-button")
    page.fill("#f-q", id_number())
    page.click("text=查找人员")
    page.select_option("#f-kind", "confirmed")
    page.select_option("#f-found_by", "symptoms")
    page.click("#new-case >> button[type=submit]")  # nothing dated: the form says what is missing
    assert "请填写发病日期或采样时间" in page.locator(".alert.error").inner_text()
    page.fill("#f-onset_date", "2021-12-18")
    page.click("#new-case >> button[type=submit]")
    page.wait_for_url("**/cases/*?saved=1")
    assert "黄志明" in page.locator("#case-person").inner_text()
