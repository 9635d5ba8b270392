"""Acceptance in a real browser: `make demo` serves; the printed admin logs in and sees the map.

Drives Debian's Chromium through Playwright (never a downloaded browser) against `make demo`
itself, given a free port and a temporary data folder through DEMO_ARGS.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.english import ALLOWED, english_on_page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_LINE = re.compile(r"username=(\S+) password=(\S+)\s*$")  # the same in every language
START_TIMEOUT = 90.0
STEP_TIMEOUT_MS = 30_000
LETTERS_TIMEOUT_MS = 180_000  # a job: trace the case again, then write a letter per region

# CI sets CORDON_REQUIRE_BROWSER so that a missing browser fails the run instead of skipping.
REQUIRED = bool(os.environ.get("CORDON_REQUIRE_BROWSER"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not REQUIRED,
        reason="Debian's Chromium is not installed (/usr/bin/chromium)",
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Output:
    """Collects the demo's output in a thread, so its pipe never fills, and finds the login."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.login: tuple[str, str] | None = None
        self.found = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        if process.stdout is None:
            return
        for line in process.stdout:
            self.lines.append(line)
            matched = ADMIN_LINE.search(line)
            if matched and self.login is None:
                self.login = (matched.group(1), matched.group(2))
                self.found.set()
        self.found.set()  # the process ended: stop waiting

    def admin(self) -> tuple[str, str]:
        self.found.wait(START_TIMEOUT)
        if self.login is None:
            raise AssertionError("the demo printed no admin login:\n" + self.text())
        return self.login

    def text(self) -> str:
        return "".join(self.lines)


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{base}/healthz did not answer")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """`make demo` on a free port: yields (base URL, username, password)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORDON_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"  # keep the login line on one line whatever the terminal
    if shutil.which("make") is None:
        pytest.fail("make is needed to run `make demo`")
    # A smaller city than the default 200,000 keeps the test quick; the flow is the same.
    demo_args = f"--port {port} --data-dir {tmp_path / 'var'} --people 20000"
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "demo", f"DEMO_ARGS={demo_args}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # make → uv → cordon: stop the whole group at the end
    )
    output = Output(process)
    try:
        username, password = output.admin()
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        yield base, username, password
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        output.thread.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        # Shown by pytest with a failing test's captured output.
        print("demo output:\n" + output.text())


def test_admin_logs_in_and_sees_the_overview_map(
    demo: tuple[str, str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, username, password = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # Whatever the Content-Security-Policy blocks (an inline style or script) is a bug.
            page.on(
                "console",
                lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
            )
            # A new user meets no 4xx or 5xx on the way (a failed fetch is a silent failure).
            refused: list[str] = []
            page.on(
                "response",
                lambda r: (
                    refused.append(f"{r.status} {r.request.method} {r.url}")
                    if r.status >= 400 and r.url.startswith(base)
                    else None
                ),
            )
            page.goto(f"{base}/")
            expect(page).to_have_url(re.compile(r"/login\?next=/$"))
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            page.fill("#username", username)
            page.fill("#password", password)
            # Generous timeouts: CI's two cores also run the server and hash the password.
            with page.expect_response(
                lambda r: r.request.method == "POST" and r.url == f"{base}/login",
                timeout=STEP_TIMEOUT_MS,
            ) as posted:
                page.click("button[type=submit]")
            assert posted.value.status == 303, posted.value.text()
            expect(page).to_have_url(f"{base}/", timeout=STEP_TIMEOUT_MS)
            canvas = page.locator("#overview-map canvas").first
            expect(canvas).to_be_visible(timeout=STEP_TIMEOUT_MS)
            box = canvas.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 300
            # The simulated outbreak's status is on the overview too.
            expect(page.locator("#outbreak-status")).to_be_visible()
            town = page.locator("#town-table tr", has_text="东兴镇")
            expect(town).to_have_count(1)
            count = town.locator("td.num").inner_text()
            assert int(count.replace(",", "")) > 0
            page.wait_for_timeout(500)  # let the map finish its entry animation
            page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

            # Acceptance (tracing): the first case the city found, traced from its page.
            page.goto(f"{base}/cases")
            expect(page.locator("#overdue-count")).to_be_visible()
            page.locator("#case-table tbody tr a").first.click()
            case_url = page.url
            trajectory = page.locator("#trajectory-map canvas").first
            expect(trajectory).to_be_visible(timeout=STEP_TIMEOUT_MS)
            expect(page.locator("#timeline li").first).to_be_visible()
            page.click("#trace-run button[type=submit]")
            expect(page.locator("#panel-contacts")).to_be_visible(timeout=STEP_TIMEOUT_MS)
            expect(page.locator("#stored-counts a").first).to_be_visible()
            push_tiers(page, tmp_path)
            page.locator("#stored-counts a", has_text="传播关系网络").click()
            expect(page.locator("#network-graph canvas").first).to_be_visible(
                timeout=STEP_TIMEOUT_MS
            )
            page.screenshot(path=str(tmp_path / "network.png"), full_page=True)
            words = ALLOWED | {username}  # the header names the user
            assert english_on_page(page.content(), words) == []
            letters_and_codes(page, case_url, tmp_path, words)
            screening_round(page, base)
            assert errors == []
            assert refused == []
        finally:
            browser.close()


def push_tiers(page: Any, folder: Path) -> None:
    """Acceptance (issue 14): after the trace the panel shows what the list costs per tier,
    with tier 1 (central quarantine) ticked; ticking tier 2 as well updates the totals, and
    the push is recorded with who pushed what."""
    from playwright.sync_api import expect

    # The panel comes back once the trace job has stored the list and the preview has run a
    # dry run of the codes over it: on CI's two cores, beside the suite, that can take a while.
    expect(page.locator("#cost-table")).to_be_visible(timeout=3 * STEP_TIMEOUT_MS)
    assert page.locator("#push-1").is_checked() and not page.locator("#push-2").is_checked()
    people = page.locator("#cost-chosen td.num").first
    one = int(people.inner_text().replace(",", ""))
    assert one == int(page.locator("#cost-1 td.num").first.inner_text().replace(",", "")) > 0
    with page.expect_response(lambda r: r.url.endswith("/preview"), timeout=STEP_TIMEOUT_MS):
        page.check("#push-2")
    both = int(page.locator("#cost-chosen td.num").first.inner_text().replace(",", ""))
    assert both >= one and page.locator("#push-2").is_checked()
    with page.expect_response(lambda r: r.url.endswith("/push"), timeout=STEP_TIMEOUT_MS):
        page.click("#push-button")
    expect(page.locator("#push-done")).to_be_visible(timeout=STEP_TIMEOUT_MS)
    expect(page.locator("#cost-1 .badge")).to_be_visible()
    expect(page.locator("#push-history tbody tr")).to_have_count(1)
    page.screenshot(path=str(folder / "push.png"), full_page=True)


def letters_and_codes(page: Any, case_url: str, folder: Path, words: set[str]) -> None:
    """Acceptance (letters and codes): from the traced case, assist letters for the contacts
    living elsewhere come as a job whose ZIP downloads (the trace runs again and keeps the
    tiers pushed); a pushed contact's health code has turned red by itself (nobody
    pressed recompute); every page is in Chinese."""
    from playwright.sync_api import expect

    page.goto(case_url)
    expect(page.locator("#panel-contacts")).to_be_visible(timeout=STEP_TIMEOUT_MS)
    assert english_on_page(page.content(), words) == []
    pushed = ", ".join(f"#panel-contacts tr[data-tier='{t}'] a.person" for t in (1, 2))
    contact = page.locator(pushed).first
    person = contact.get_attribute("href").rsplit("/", 1)[-1]
    page.click("#panel-letters button[type=submit]")
    ready = page.locator(".job-progress.job-done a[href$='/download']").first
    expect(ready).to_be_visible(timeout=LETTERS_TIMEOUT_MS)
    with page.expect_download(timeout=STEP_TIMEOUT_MS) as letters:
        ready.click()
    assert letters.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(letters.value.path()) as archive:
        names = archive.namelist()
    assert names and all(n.startswith("协查函") and n.endswith(".docx") for n in names)

    code = page.locator(".code-badge").first
    for _attempt in range(20):  # the codes of changed people are decided within seconds
        page.goto(f"{case_url.split('/cases/')[0]}/codes/people/{person}")
        if "code-red" in (code.get_attribute("class") or ""):
            break
        page.wait_for_timeout(1000)
    assert "code-red" in (code.get_attribute("class") or "")
    page.screenshot(path=str(folder / "contact-code.png"), full_page=True)
    assert english_on_page(page.content(), words) == []


def screening_round(page: Any, base: str) -> None:
    """A screening round opened from its form shows the coverage map, and a grid's missing
    list downloads as Excel."""
    from playwright.sync_api import expect

    page.goto(f"{base}/screening")
    page.fill("#f-name", "东兴镇第一轮")
    page.fill("#f-division_code", "450681100")
    page.fill("#f-starts_at", "2021-12-21T08:00")
    page.fill("#f-ends_at", "2021-12-22T08:00")
    page.click("#new-round button[type=submit]")
    expect(page).to_have_url(re.compile(r"/screening/rounds/\d+$"), timeout=STEP_TIMEOUT_MS)
    expect(page.locator("#coverage-map canvas").first).to_be_visible(timeout=STEP_TIMEOUT_MS)
    expect(page.locator("#plan-table tbody tr").first).to_be_visible()
    with page.expect_download(timeout=STEP_TIMEOUT_MS) as download:
        page.locator("#grid-table a[href*='missing.xlsx']").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")
