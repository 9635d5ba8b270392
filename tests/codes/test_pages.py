"""Health-code pages: the colour map and tables, a person's history, the what-if report, a
resident's code with its QR, and the checkpoint check."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.db import transaction
from cordon.facts import service as facts_service
from cordon.security.crypto import FieldCipher
from tests.codes.facts import day
from tests.codes.test_api import NUMBER, _contact
from tests.codes.test_service import _close_contact
from tests.conftest import UserMaker
from tests.helpers import make_actor, wait_for_job
from tests.page_helpers import csrf_token, login
from tests.trace.stored_contacts import store_contacts


def test_staff_see_colours_history_and_whatif(
    client: TestClient,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
) -> None:
    pid = _contact(session_factory, cipher)
    make_user("cmd", "commander", "450681")
    login(client, "cmd")
    page = client.get("/codes")
    assert page.status_code == 200 and "健康码" in page.text
    started = client.post(
        "/codes/recompute", data={"csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
    assert started.status_code == 303 and started.headers["location"].startswith("/codes?job=")
    job_id = int(started.headers["location"].split("=")[1])
    assert wait_for_job(client, job_id)["status"] == "done"
    done = client.get(started.headers["location"])
    assert done.status_code == 200 and "已重新计算" in done.text
    assert 'id="code-towns"' in done.text and "东兴镇" in done.text
    person = client.get(f"/codes/people/{pid}")
    assert person.status_code == 200
    assert "密切接触者" in person.text and 'id="code-history"' in person.text
    english = client.get(f"/codes/people/{pid}?lang=en")
    assert "close contact" in english.text and "Next:" in english.text
    form = client.get("/codes/whatif")
    report = client.post(
        "/codes/whatif",
        data={"csrf_token": csrf_token(form.text), "pack": "e9-2022-06", "draft": ""},
    )
    assert report.status_code == 200 and 'id="whatif-report"' in report.text
    bad = client.post(
        "/codes/whatif",
        data={"csrf_token": csrf_token(form.text), "pack": "", "draft": "name: x\nrules: []\n"},
    )
    assert bad.status_code == 422 and "rules" in bad.text


def test_a_resident_sees_their_code_and_a_checkpoint_checks_it(
    client: TestClient, session_factory: sessionmaker[Session], cipher: FieldCipher
) -> None:
    _contact(session_factory, cipher)
    shown = client.post("/codes/lookup", data={"id_number": NUMBER, "name": "黄志明"})
    assert shown.status_code == 200
    assert 'id="code-result"' in shown.text and "<svg" in shown.text and "黄*明" in shown.text
    assert NUMBER not in shown.text  # masked
    token = client.post(
        "/api/v1/codes/lookup", json={"id_number": NUMBER, "name": "黄志明"}
    ).json()["token"]
    checked = client.post("/codes/check", data={"token": token})
    assert checked.status_code == 200 and 'id="check-valid"' in checked.text
    forged = client.post(
        "/codes/check", data={"token": token[:-1] + ("A" if token[-1] != "A" else "B")}
    )
    assert forged.status_code == 422 and 'id="check-refused"' in forged.text
    wrong = client.post("/codes/lookup", data={"id_number": NUMBER, "name": "李四"})
    assert wrong.status_code == 404
    malformed = client.post("/codes/lookup", data={"id_number": "123", "name": ""})
    assert malformed.status_code == 422


def test_the_whatif_page_lists_the_riskiest_contacts_first_with_their_tier(
    client: TestClient,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
) -> None:
    with transaction(session_factory) as s:
        traced = store_contacts(s, cipher)
        for name in ("王二", "李一"):
            facts_service.record(
                session=s,
                actor=make_actor(),
                facts=_close_contact(traced.people[name], [0.2 + d for d in range(10)]),
            )
    make_user("cmd", "commander", "450681")
    login(client, "cmd")
    form = client.get("/codes/whatif")
    report = client.post(
        "/codes/whatif",
        data={
            "csrf_token": csrf_token(form.text),
            "pack": "e9-2022-06",
            "draft": "",
            "as_of": day(8).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    examples = report.text[report.text.index('id="whatif-examples"') :]
    assert examples.index("李一") < examples.index("王二")
    assert "1 级" in examples and "30.0%" in examples and "2 级" in examples
