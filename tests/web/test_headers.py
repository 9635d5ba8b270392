"""Security headers on pages, API answers and early refusals; no-store wherever personal data
may be; the policy allows what the pages load (checked in Chromium in tests/test_browser.py)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cordon.web.headers import POLICY

COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def _secure(headers: object) -> None:
    for name, value in COMMON.items():
        assert headers[name] == value, name  # type: ignore[index]
    policy = headers["content-security-policy"]  # type: ignore[index]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_pages_and_personal_answers_carry_security_headers_and_no_store(
    client: TestClient, token_for: Callable[..., dict[str, str]]
) -> None:
    login = client.get("/login")
    _secure(login.headers)
    assert login.headers["cache-control"] == "no-store"
    admin = token_for("admin")
    people = client.get("/api/v1/people", headers=admin)
    assert people.status_code == 200
    _secure(people.headers)
    assert people.headers["cache-control"] == "no-store"
    lookup = client.post(
        "/api/v1/screening/lookup", json={"id_number": "450681199001011234", "name": "某"}
    )
    _secure(lookup.headers)
    assert lookup.headers["cache-control"] == "no-store"
    missing = client.get("/no-such-page")
    _secure(missing.headers)


def test_static_files_may_be_cached_and_early_refusals_are_covered(client: TestClient) -> None:
    css = client.get("/static/css/cordon.css")
    assert css.status_code == 200
    assert css.headers.get("cache-control") != "no-store"
    assert css.headers["x-content-type-options"] == "nosniff"
    too_big = client.post("/api/v1/people/import?x=%00", content=b"x")
    assert too_big.status_code == 400
    _secure(too_big.headers)
    # The refusal page links home, not to a javascript: URL the policy would block.
    page = client.get("/people?x=%00")
    assert "javascript:" not in page.text


def test_the_openapi_viewer_has_its_own_policy(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] != POLICY
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
