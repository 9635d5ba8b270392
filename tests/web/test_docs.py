"""/docs works without the internet: Swagger UI is served from the vendored files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.web.live import browser_page, needs_chromium, served


def test_docs_page_loads_swagger_ui_from_our_static_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "/static/vendor/swagger-ui/swagger-ui.css" in page.text
    for path in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert client.get(f"/static/vendor/swagger-ui/{path}").status_code == 200


@needs_chromium
def test_docs_render_the_operations_offline(app: Any, tmp_path: Path) -> None:
    with served(app) as base, browser_page() as page:
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        operations = page.locator(".opblock").count()
        assert operations > 20
        page.screenshot(path=str(tmp_path / "docs.png"))
        assert page.get_by_text("/api/v1/auth/token", exact=True).count() >= 1
