"""The page shell at a common desktop size (1440×900) in Chromium: the navigation keeps to one
row, the overview names the user's jurisdiction, a round's progress bar spans its card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cordon.db import transaction
from cordon.security.crypto import FieldCipher
from tests.conftest import PASSWORD, UserMaker
from tests.screening.fixtures import scan, village
from tests.web.live import browser_page, needs_chromium, served

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


@needs_chromium
def test_navigation_one_row_jurisdiction_named_progress_full_width(
    app: Any,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    make_user("chief", "admin", "45")
    with transaction(session_factory) as s:
        screened = village(s, cipher, people=2)
        for person in screened.people:
            scan(s, cipher, screened, person, f"T{person:04d}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(app) as base, browser_page(1440, 900) as page:
        _log_in(page, base, "chief")
        page.screenshot(path=str(SHOTS / "overview-1440.png"))
        lead = page.locator("main .lead").first.inner_text()
        assert "广西壮族自治区" in lead and "（45）" not in lead
        tops = page.eval_on_selector_all(
            ".mainnav li", "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(tops) >= 8 and len(set(tops)) == 1, tops
        header = page.eval_on_selector(".topbar", "h => h.getBoundingClientRect().height")
        assert header < 80, header  # one row of brand, menu and tools

        page.goto(f"{base}/?lang=en")
        page.screenshot(path=str(SHOTS / "overview-1440-en.png"))
        tops = page.eval_on_selector_all(
            ".mainnav li", "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
        )
        assert len(set(tops)) == 1, ("English", tops)
        page.goto(f"{base}/screening/rounds/{screened.round_id}?lang=zh_CN")
        page.screenshot(path=str(SHOTS / "round-1440.png"))
        bar, room = page.eval_on_selector(
            "#round-progress progress",
            """p => {
                const box = getComputedStyle(p.parentElement);
                const inner = p.parentElement.clientWidth
                    - parseFloat(box.paddingLeft) - parseFloat(box.paddingRight);
                return [p.getBoundingClientRect().width, inner];
            }""",
        )
        assert abs(bar - room) < 2, (bar, room)
