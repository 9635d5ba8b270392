"""Setting the clock from the API, the page and the CLI (operators only, audited), the scenario
time in every page header, and what the scenario clock changes for cases, codes and what-ifs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon import clock
from cordon.audit.models import AuditEntry
from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.cli import app as cli_app
from cordon.codes import packs
from cordon.db import transaction
from cordon.facts import service as facts_service
from cordon.facts.schemas import FactIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person
from tests.page_helpers import login, page_token

TZ = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2021, 12, 27, 20, 0, tzinfo=TZ)
ADMIN = make_actor()
Headers = Callable[..., dict[str, str]]


def test_anyone_reads_the_clock_operators_set_it_and_it_is_audited(
    client: TestClient, token_for: Headers, session_factory: sessionmaker[Session]
) -> None:
    analyst = token_for("ana", "analyst", "450681")
    assert client.get("/api/v1/clock", headers=analyst).json()["mode"] == "real"
    body = {"mode": "pinned", "at": "2021-12-27T20:00"}  # no zone: Beijing time
    assert client.put("/api/v1/clock", json=body, headers=analyst).status_code == 403
    commander = token_for("cmd", "commander", "450681")
    answer = client.put("/api/v1/clock", json=body, headers=commander)
    assert answer.status_code == 200, answer.text
    assert answer.json()["mode"] == "pinned"
    assert datetime.fromisoformat(answer.json()["now"]) == EVENING
    shown = client.get("/api/v1/clock", headers=analyst).json()
    assert datetime.fromisoformat(shown["now"]) == EVENING
    with transaction(session_factory) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "clock")).one()
        assert (entry.username, entry.action, entry.entity_id) == ("cmd", "update", "pinned")
        assert entry.detail["before"]["mode"] == "real"
    back = client.put("/api/v1/clock", json={"mode": "real"}, headers=commander)
    assert back.json()["mode"] == "real"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "running"}, "at"),
        ({"mode": "pinned", "at": "yesterday"}, "at"),
        ({"mode": "running", "at": "2021-12-27T20:00", "rate": 0}, "rate"),
        ({"mode": "stopped", "at": "2021-12-27T20:00"}, "mode"),
    ],
)
def test_a_bad_setting_is_refused_and_changes_nothing(
    client: TestClient, token_for: Headers, body: dict[str, object], field: str
) -> None:
    answer = client.put("/api/v1/clock", json=body, headers=token_for("adm"))
    assert answer.status_code == 422
    assert field in answer.text
    assert clock.current().mode == "real"


def test_the_setting_reaches_a_process_sharing_the_data_folder(
    client: TestClient, token_for: Headers, settings: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"mode": "pinned", "at": "2021-12-27T20:00+08:00"}
    assert client.put("/api/v1/clock", json=body, headers=token_for("adm")).status_code == 200
    shared = clock.path_in(settings.data_dir)  # type: ignore[attr-defined]
    clock.bind(None)
    clock.reset()  # as a fresh worker: nothing in memory
    clock.bind(shared)
    assert clock.now() == EVENING


def test_pages_show_the_scenario_time_and_operators_set_it(
    client: TestClient, make_user: UserMaker
) -> None:
    make_user("adm")
    login(client, "adm")
    assert "scenario-clock" not in client.get("/").text  # the real clock: nothing to say
    token = page_token(client, "/clock")
    form = {"csrf_token": token, "mode": "running", "at": "2021-12-27T20:00"}
    assert client.post("/clock", data=form, follow_redirects=False).status_code == 303
    home = client.get("/").text
    assert "情景时间" in home and "2021-12-27 20:0" in home
    english = client.get("/?lang=en").text
    assert "Scenario time" in english
    spans = {"csrf_token": token, "span": "1d"}
    assert client.post("/clock/advance", data=spans, follow_redirects=False).status_code == 303
    assert "2021-12-28 20:0" in client.get("/clock").text
    bad = client.post("/clock/advance", data={"csrf_token": token, "span": "soon"})
    assert bad.status_code == 422 and "2h, 30m" in bad.text
    client.post("/clock", data={"csrf_token": token, "mode": "real"})
    assert clock.current().mode == "real"


def test_the_clock_page_is_for_operators(client: TestClient, make_user: UserMaker) -> None:
    make_user("ana", "analyst", "450681")
    login(client, "ana")
    assert client.get("/clock").status_code == 403


def test_cli_sets_shows_advances_and_releases_the_clock(
    settings: object,
    session_factory: sessionmaker[Session],
    make_user: UserMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_user("adm")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)  # type: ignore[attr-defined]
    folder = ["--data-dir", str(settings.data_dir)]  # type: ignore[attr-defined]
    runner = CliRunner()
    done = runner.invoke(
        cli_app, ["clock", "set", "2021-12-27T20:00", "--pin", "--user", "adm", *folder]
    )
    assert done.exit_code == 0, done.output
    assert "2021-12-27 20:00:00 Asia/Shanghai (已固定)" in done.output
    moved = runner.invoke(cli_app, ["clock", "advance", "2h", "--user", "adm", *folder])
    assert "2021-12-27 22:00:00" in moved.output
    assert "(pinned)" in runner.invoke(cli_app, ["--lang", "en", "clock", "show", *folder]).output
    bad = runner.invoke(cli_app, ["clock", "advance", "later", "--user", "adm", *folder])
    assert bad.exit_code == 2 and "错误：请输入时长，如 2h、30m 或 1d6h" in bad.output
    released = runner.invoke(cli_app, ["clock", "real", "--user", "adm", *folder])
    assert "(实际时间)" in released.output
    real = runner.invoke(cli_app, ["clock", "advance", "1h", "--user", "adm", *folder])
    assert real.exit_code == 2 and "当前为实际时间；请先设置情景时间再推进" in real.output
    with transaction(session_factory) as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.entity == "clock")).all()) == 3


def _demo_like(session: Session, cipher: FieldCipher) -> tuple[int, int]:
    """A case reported in the evening of 26 Dec 2021 and a close contact it met on 18 Dec,
    tested negative every day since, as the demo's data looks: eight days in, red under the
    pack in force (14 days) and yellow under the 9th edition (7 days central, then home)."""
    people = [
        people_service.create_person(
            session=session,
            actor=ADMIN,
            cipher=cipher,
            data=PersonIn(**person(id_number=id_number(order=order))),
        ).id
        for order in (201, 203)
    ]
    reported = datetime(2021, 12, 26, 19, 0, tzinfo=TZ)
    case = cases_service.register_case(
        session=session,
        actor=ADMIN,
        cipher=cipher,
        now=reported,
        data=CaseIn(
            person_id=people[0],
            kind="asymptomatic",
            sampled_at=reported - timedelta(hours=6),
            found_by="routine_test",
        ),
    )
    contact = people[1]
    facts = [
        FactIn(
            person_id=contact,
            kind="contact",
            at=reported - timedelta(days=8),
            source="trace:case:1",
            attrs={"contact_kind": "close", "case_id": case.id},
        )
    ]
    facts += [
        FactIn(
            person_id=contact,
            kind="test",
            at=reported - timedelta(days=8) + timedelta(hours=1 + 24 * d),
            source=f"lab:{d}",
            attrs={"result": "negative", "method": "single"},
        )
        for d in range(9)
    ]
    facts_service.record(session=session, actor=ADMIN, facts=facts)
    return case.id, contact


def test_at_the_scenario_time_clocks_codes_and_the_whatif_follow_the_scenario(
    client: TestClient,
    token_for: Headers,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    with transaction(session_factory) as s:
        case_id, contact = _demo_like(s, cipher)
    headers = token_for("adm")
    overdue = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()
    assert overdue["core_overdue"] and overdue["full_overdue"]  # today: years overdue
    body = {"mode": "pinned", "at": "2021-12-26T21:00+08:00"}
    assert client.put("/api/v1/clock", json=body, headers=headers).status_code == 200
    case = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()
    assert not case["core_overdue"] and not case["full_overdue"]
    code = client.get(f"/api/v1/codes/people/{contact}", headers=headers).json()
    assert (
        datetime.fromisoformat(code["current"]["at"]).astimezone(TZ).date().isoformat()
        == "2021-12-26"
    )
    assert code["current"]["colour"] == "red"
    draft = packs.pack_text("e9-2022-06").encode()
    plain = {**headers, "Content-Type": "text/plain"}
    report = client.post("/api/v1/codes/whatif", content=draft, headers=plain).json()
    assert report["changed"] == 1 and report["transitions"] == {"red→yellow": 1}
    assert datetime.fromisoformat(report["at"]) == datetime(2021, 12, 26, 13, 0, tzinfo=UTC)
    # "as of" another time: two days after the exposure both packs say red, nothing changes.
    early = client.post("/api/v1/codes/whatif?at=2021-12-20T12:00", content=draft, headers=plain)
    assert early.status_code == 200 and early.json()["changed"] == 0
    assert datetime.fromisoformat(early.json()["at"]) == datetime(2021, 12, 20, 12, 0, tzinfo=TZ)


def test_the_whatif_page_takes_an_as_of_time(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    with transaction(session_factory) as s:
        _demo_like(s, cipher)
    clock.set_scenario(datetime(2021, 12, 26, 21, 0, tzinfo=TZ), pinned=True)
    make_user("adm")
    login(client, "adm")
    form = client.get("/codes/whatif").text
    assert 'value="2021-12-26T21:00"' in form  # defaults to the clock's now
    token = page_token(client, "/codes/whatif")
    report = client.post("/codes/whatif", data={"csrf_token": token, "pack": "e9-2022-06"})
    assert report.status_code == 200 and "截至 2021-12-26 21:00" in report.text
    assert "有记录的 2 人中，1 人的赋码颜色将改变" in report.text
    bad = client.post(
        "/codes/whatif", data={"csrf_token": token, "pack": "e9-2022-06", "as_of": "soon"}
    )
    assert bad.status_code == 422


def test_expiry_brakes_and_the_audit_log_keep_real_time_under_a_scenario_clock(
    client: TestClient, token_for: Headers, session_factory: sessionmaker[Session]
) -> None:
    """A pinned clock must not make sessions immortal, lock a failed login out for good or let
    an operator backdate the audit log: those follow the wall clock."""
    from cordon.auth.models import AuthToken, LoginFailure

    clock.set_scenario(EVENING, pinned=True)
    headers = token_for("adm")
    client.post("/api/v1/auth/token", json={"username": "adm", "password": "wrong password!"})
    client.get("/api/v1/clock", headers=headers)
    client.put("/api/v1/clock", json={"mode": "pinned", "at": "2021-12-20T08:00"}, headers=headers)
    real = datetime.now(UTC)
    with transaction(session_factory) as s:
        token = s.scalars(select(AuthToken)).one()
        assert real < token.expires_at < real + timedelta(days=2)
        failure = s.scalars(select(LoginFailure)).one()
        assert abs(failure.at - real) < timedelta(minutes=5)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity == "clock")).one()
        assert abs(entry.at - real) < timedelta(minutes=5)
    assert clock.now() == datetime(2021, 12, 20, 8, 0, tzinfo=TZ)
