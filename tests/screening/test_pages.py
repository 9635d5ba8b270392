"""The screening pages as a commander, a sampler and a grid worker use them in the browser."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.rules import Role
from cordon.db import transaction
from cordon.geo.models import Grid
from tests.conftest import UserMaker
from tests.helpers import id_number, person, wait_for_job
from tests.page_helpers import login, page_token
from tests.screening.fixtures import GRID


def add_people(client: TestClient, headers: dict[str, str], n: int) -> list[str]:
    numbers = [id_number(order=300 + i) for i in range(n)]
    for i, number in enumerate(numbers):
        made = client.post(
            "/api/v1/people",
            json=person(name=f"居民{i}", id_number=number, phone=None),
            headers=headers,
        )
        assert made.status_code == 201, made.text
    return numbers


def test_a_round_from_the_form_to_the_missing_list(
    client: TestClient,
    token_for: Callable[..., dict[str, str]],
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
) -> None:
    with transaction(session_factory) as s:  # the grid's centre, as a loaded city has it
        s.execute(update(Grid).where(Grid.code == GRID).values(lon=107.97, lat=21.55))
    numbers = add_people(client, token_for("api-admin"), 4)
    make_user("cmd", Role.COMMANDER, "450681")
    assert login(client, "cmd").status_code == 303
    token = page_token(client, "/screening")
    created = client.post(
        "/screening",
        data={
            "csrf_token": token,
            "name": "东郊第一轮",
            "division_code": "450681100001",
            "starts_at": "2021-12-21T08:00",
            "ends_at": "2021-12-22T08:00",
            "pool_controlled": "10",
            "pool_other": "2",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    dashboard_url = created.headers["location"]
    page = client.get(dashboard_url)
    assert page.status_code == 200 and "东郊第一轮" in page.text
    plan = re.search(r'<table class="data" id="plan-table">.*?</table>', page.text, re.S)
    assert plan is not None and "采样点" in plan.group(0)
    data = json.loads(re.search(r'id="coverage-data">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert [p["code"] for p in data["points"]] == [GRID]
    assert data["points"][0]["value"][2] == 0

    desk_url = f"{dashboard_url}/desk"
    desk = client.get(desk_url)
    site = re.search(r'<option value="(\d+)"', desk.text).group(1)  # type: ignore[union-attr]
    for i in range(3):
        answer = client.post(
            desk_url,
            data={
                "csrf_token": token,
                "site_id": site,
                "id_number": numbers[i],
                "tube": f"D{i // 2:04d}",
            },
        )
        assert answer.status_code == 200 and 'id="scan-done"' in answer.text
    twice = client.post(
        desk_url,
        data={"csrf_token": token, "site_id": site, "id_number": numbers[0], "tube": "D0009"},
    )
    assert twice.status_code == 409 and "居民0" in twice.text and "D0000" in twice.text

    results_url = f"{dashboard_url}/results"
    bad = client.post(
        results_url,
        data={"csrf_token": token},
        files={"file": ("lab.csv", "管码,检测结果\nD0000,阳性\nD0404,阴性\n".encode(), "text/csv")},
    )
    assert bad.status_code == 422 and "试管 D0404 不存在" in bad.text
    good = client.post(
        results_url,
        data={"csrf_token": token},
        files={"file": ("lab.csv", "管码,检测结果\nD0000,阳性\nD0001,阴性\n".encode(), "text/csv")},
    )
    assert good.status_code == 200 and "D0000" in good.text

    page = client.get(dashboard_url)
    data = json.loads(re.search(r'id="coverage-data">(.*?)</script>', page.text, re.S).group(1))  # type: ignore[union-attr]
    assert data["points"][0]["value"][2] == 75.0
    missing = re.search(r'href="(/screening/rounds/\d+/missing\.xlsx\?grid_code=\d+)"', page.text)
    assert missing is not None
    sheet = load_workbook(io.BytesIO(client.get(missing.group(1)).content)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["居民3"]
    # The whole round's list (no grid) is a file too, from the page and from the API.
    for url in (f"{dashboard_url}/missing.xlsx", f"/api/v1{dashboard_url}/missing.xlsx"):
        whole = client.get(url)
        assert whole.status_code == 200, whole.text
        assert whole.headers["content-type"].startswith("application/vnd.openxml")
        rows = load_workbook(io.BytesIO(whole.content)).worksheets[0].iter_rows(values_only=True)
        assert [r[0] for r in list(rows)[1:]] == ["居民3"]
    # Longer than a direct export: a job whose page offers the file (never a 422).
    client.app.state.settings.export_direct_rows = 0  # type: ignore[attr-defined]
    started = client.get(f"{dashboard_url}/missing.xlsx")
    assert started.status_code == 200 and "/jobs/" in str(started.url)
    job_id = int(str(started.url).rsplit("/", 1)[1])
    assert wait_for_job(client, job_id)["result"]["rows"] == 1
    sheet = load_workbook(io.BytesIO(client.get(f"/jobs/{job_id}/download").content)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["居民3"]
    assert f'id="job-{job_id}"' in client.get(dashboard_url).text

    tasks = client.get("/screening/tasks")
    assert tasks.status_code == 200 and tasks.text.count("D0000") == 4  # retest + isolate, 2 people


def test_the_planner_page_says_how_many_lab_days(client: TestClient, make_user: UserMaker) -> None:
    make_user("ana", Role.ANALYST, "450681")
    login(client, "ana")
    page = client.get(
        "/screening/planner?prevalence=0.001&max_pool=20&people=200000&lab_per_day=2000"
    )
    assert page.status_code == 200 and 'id="lab-days"' in page.text
    assert client.get("/screening/planner?prevalence=abc").status_code == 422


def test_operators_only_at_the_desk(client: TestClient, make_user: UserMaker) -> None:
    make_user("gw", Role.GRID_WORKER, "450681100001")
    login(client, "gw")
    assert client.get("/screening").status_code == 200
    assert client.get("/screening/rounds/1/desk").status_code == 403


def test_an_analyst_sees_tasks_without_names(client: TestClient, make_user: UserMaker) -> None:
    make_user("ana", Role.ANALYST, "450681")
    login(client, "ana")
    assert client.get("/screening/tasks").status_code == 200
