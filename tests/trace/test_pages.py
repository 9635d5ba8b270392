"""Tracing pages on a loaded simulated city: the case page with its tracing panel (trajectory,
timeline, stored contacts), tracing from the page, the contact list and the network."""

from __future__ import annotations

import io
import json
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import UserMaker
from tests.helpers import wait_for_job
from tests.page_helpers import login, page_token
from tests.trace.test_stored import city, loaded  # noqa: F401  (fixtures)


def test_the_case_page_traces_and_shows_trajectory_contacts_and_network(
    client: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
) -> None:
    make_user("epi", "epidemiologist", "450681")
    assert login(client, "epi").status_code == 303
    case_id = loaded[0]
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert f'hx-get="/trace/cases/{case_id}/panel"' in page.text
    assert "调查时限" in page.text or "流调时限" in page.text  # zh-CN by default

    panel = client.get(f"/trace/cases/{case_id}/panel", headers={"HX-Request": "true"})
    assert panel.status_code == 200 and "<html" not in panel.text
    assert 'id="trajectory-map"' in panel.text
    data = json.loads(
        re.search(r'id="trajectory-data">(.*?)</script>', panel.text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert data["stops"] and data["stops"][0]["lon"] is not None
    assert panel.text.count("<li>") == len(data["stops"])  # the timeline lists every stay

    token = page_token(client, f"/cases/{case_id}")
    ran = client.post(
        f"/trace/cases/{case_id}/run",
        data={"csrf_token": token, "pack": "guangxi-2021-12"},
        follow_redirects=False,
    )
    assert ran.status_code == 303 and ran.headers["location"].startswith(f"/cases/{case_id}")
    job_id = int(ran.headers["location"].split("job=")[1].split("#")[0])
    assert wait_for_job(client, job_id)["status"] == "done"  # traced by a background job
    stored = client.get(f"/trace/cases/{case_id}/panel")
    assert "<html" in stored.text and 'id="panel-contacts"' in stored.text

    listing = client.get(f"/trace/contacts?case_id={case_id}&kind=close")
    assert listing.status_code == 200 and 'id="contact-table"' in listing.text
    assert "密切接触者" in listing.text
    bad = client.get("/trace/contacts?grid=abc")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    sheet = client.get(f"/api/v1/trace/contacts.xlsx?case_id={case_id}&kind=close")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) > 1 and {r[0] for r in rows[1:]} == {"密切接触者"}  # in the UI language

    graph = client.get(f"/trace/network?case_id={case_id}")
    assert graph.status_code == 200 and 'id="network-graph"' in graph.text
    chart = json.loads(
        re.search(r'id="network-data">(.*?)</script>', graph.text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert any(n["kind"] == "case" for n in chart["nodes"]) and chart["links"]


def test_case_list_flags_overdue_and_forms_record_transfers_and_plans(
    client: TestClient,
    make_user: UserMaker,
    loaded: list[int],  # noqa: F811
) -> None:
    make_user("epi", "epidemiologist", "450681")
    login(client, "epi")
    listing = client.get("/cases")
    assert listing.status_code == 200 and 'id="overdue-count"' in listing.text
    case_id = loaded[0]
    token = page_token(client, f"/cases/{case_id}")
    moved = client.post(
        f"/cases/{case_id}/transfers",
        data={"csrf_token": token, "to_facility": "定点医院", "at": "2021-12-21T10:00"},
        follow_redirects=True,
    )
    assert moved.status_code == 200 and 'id="transfer-table"' in moved.text
    wrong = client.post(
        f"/cases/{case_id}/transfers",
        data={"csrf_token": token, "to_facility": "方舱", "at": "tomorrow"},
    )
    assert wrong.status_code == 422
    planned = client.post(
        f"/cases/{case_id}/plan",
        data={"csrf_token": token, "text": "对症治疗"},
        follow_redirects=True,
    )
    assert "对症治疗" in planned.text
    done = client.post(
        f"/cases/{case_id}/investigation",
        data={"csrf_token": token, "stage": "full"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert 'id="full-done"' in done.text and 'id="core-done"' in done.text
    stopped = client.get(f"/api/v1/cases/{case_id}").json()
    assert stopped["full_done_at"] is not None
    # Finished years after the report: still flagged, as late, not as open.
    assert stopped["full_overdue"] is True


def test_pages_need_a_login(client: TestClient) -> None:
    assert client.get("/cases", follow_redirects=False).status_code in (302, 303)
    assert client.get("/trace/contacts", follow_redirects=False).status_code in (302, 303)
