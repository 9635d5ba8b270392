"""A test app served over real HTTP in a thread, and Debian's Chromium to look at it.

For browser checks that need no demo data (the API docs, the page shell's layout); the
acceptance test in tests/test_browser.py drives `make demo` itself.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, REQUIRED


def needs_chromium(test: Any) -> Any:
    """Mark a test as a browser test, skipped with the reason where Chromium is absent."""
    skip = pytest.mark.skipif(
        not CHROMIUM.exists() and not REQUIRED,
        reason="Debian's Chromium is not installed (/usr/bin/chromium)",
    )
    return pytest.mark.browser(skip(test))


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port for the block; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def browser_page(width: int = 1440, height: int = 900, offline: bool = True) -> Iterator[Any]:
    """A Chromium page of the given size; offline, every request off loopback is refused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            if offline:
                context.route(
                    "**/*",
                    lambda route: (
                        route.continue_()
                        if route.request.url.startswith("http://127.0.0.1:")
                        else route.abort()
                    ),
                )
            yield context.new_page()
        finally:
            browser.close()
