"""Driving the HTML pages in tests: logging in through the form, reading CSRF tokens."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx2
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(html)
    if found is None:
        raise LookupError("no csrf_token field in the page")
    return found.group(1)


def login(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx2.Response:
    """Log in through the form as a browser would; returns the answer to the POST."""
    form = client.get(f"/login?next={quote(next_path)}")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(form.text),
            "next": next_path,
        },
        follow_redirects=False,
    )


def page_token(client: TestClient, path: str = "/") -> str:
    """The logged-in session's CSRF token, as a page hands it to its forms."""
    return csrf_token(client.get(path).text)
