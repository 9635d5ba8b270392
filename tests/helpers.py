"""Small builders shared by tests."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook

from cordon.auth.rules import Role, permissions_of
from cordon.auth.schemas import Actor
from cordon.people.rules import with_check_digit


def make_actor(
    role: Role = Role.ADMIN, jurisdiction: str = "45", username: str = "tester"
) -> Actor:
    return Actor(
        user_id=None,
        username=username,
        role=role.value,
        jurisdiction=jurisdiction,
        permissions=permissions_of(role.value),
        client_addr="test",
    )


def id_number(region: str = "450681", born: date = date(1990, 1, 1), order: int = 123) -> str:
    """A valid identity number; odd ``order`` means male."""
    return with_check_digit(f"{region}{born:%Y%m%d}{order:03d}")


def person(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "黄志明",
        "id_number": id_number(),
        "phone": "13812345678",
        "address": "东兴镇东郊社区1号",
        "grid_code": "450681100001001",
    }
    data.update(overrides)
    return data


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def wait_for_job(client: Any, job_id: int, headers: dict[str, str] | None = None) -> Any:
    """Poll a background job (through the API) until it has finished; returns its JSON."""
    import time

    for _ in range(600):
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers or {}).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")
