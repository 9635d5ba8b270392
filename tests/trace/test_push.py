"""A traced case's cost preview, then the push of its tiers, on a loaded simulated city.

Acceptance (issue 14): the cost preview of a traced case equals what codes then do when its
tiers are pushed — per tier, who turns red or yellow and who is held in central or home
quarantine — first for tier 1, then for every tier and the companions; tiers not pushed keep
their codes; a push is recorded with who, when and what; pushing a tier again changes nothing;
bad input names its field and changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cordon.auth.rules import Role
from cordon.auth.schemas import Actor
from cordon.cases import service as cases_service
from cordon.codes import jobs as codes_jobs
from cordon.codes import service as codes_service
from cordon.codes.models import DirtyPerson, HealthCode
from cordon.config import Settings
from cordon.db import transaction
from cordon.errors import CordonError, Forbidden, NotFound, ValidationFailed
from cordon.facts import service as facts_service
from cordon.trace import push, service
from cordon.trace.models import Contact, ContactPush
from cordon.trace.schemas import PushPreview
from tests.helpers import make_actor
from tests.page_helpers import login, page_token
from tests.trace.test_stored import city, loaded  # noqa: F401  (fixtures)

Tokens = Callable[..., dict[str, str]]
COMMANDER = make_actor(Role.COMMANDER, "450681", username="commander")
SYSTEM = codes_jobs.SYSTEM


def _trace(factory: sessionmaker[Session], settings: Settings, case_id: int) -> datetime:
    """Trace and store the case as an epidemiologist; returns a moment a day after isolation."""
    epi = make_actor(Role.EPIDEMIOLOGIST, "450681", username="epi")
    with transaction(factory) as s:
        case = cases_service.get_case(session=s, actor=epi, case_id=case_id)
        assert case.isolated_at is not None
        now = case.isolated_at + timedelta(days=1)
        service.trace_case(session=s, actor=epi, case_id=case_id, lake=settings.lake_dir, now=now)
    return now


def _tiers(factory: sessionmaker[Session], case_id: int) -> dict[int, str]:
    """Each contact's tier key ("1", "2", ... or "companion"), from the stored contacts."""
    with transaction(factory) as s:
        rows = s.execute(
            select(Contact.person_id, Contact.kind, Contact.tier).where(Contact.case_id == case_id)
        ).all()
    return {p: "companion" if kind == "companion" else str(tier) for p, kind, tier in rows}


def _codes(factory: sessionmaker[Session], now: datetime) -> dict[int, HealthCode]:
    """Decide the marked people's codes as the refresh job does, and read every stored code."""
    with transaction(factory) as s:
        while codes_service.refresh_dirty(session=s, actor=SYSTEM, now=now)[0]:
            pass
        codes = {c.person_id: c for c in s.scalars(select(HealthCode))}
        for code in codes.values():
            s.expunge(code)
    return codes


def _observed(
    before: dict[int, HealthCode], after: dict[int, HealthCode], people: list[int]
) -> dict[str, int]:
    """What the codes did to these people: turned red, turned yellow, held where (the reasons
    name the quarantine of every phase holding them)."""
    out = {"people": len(people), "red": 0, "yellow": 0, "central": 0, "home": 0}
    for person in people:
        was = before[person].colour if person in before else "green"
        now = after[person].colour if person in after else "green"
        out["red"] += now == "red" and was != "red"
        out["yellow"] += now == "yellow" and was == "green"
        words = " ".join(r["zh"] for r in after[person].reasons) if person in after else ""
        if "集中隔离" in words:
            out["central"] += 1
        elif "居家隔离" in words:
            out["home"] += 1
    return out


def _contact_facts(session: Session) -> list[dict[str, object]]:
    return [
        f for f in facts_service.live_table(session=session).to_pylist() if f["kind"] == "contact"
    ]


def _row(cost: PushPreview, key: str) -> dict[str, int]:
    found = next(
        t for t in cost.tiers if (t.tier is None and key == "companion") or str(t.tier) == key
    )
    return {k: getattr(found, k) for k in ("people", "red", "yellow", "central", "home")}


def test_the_preview_of_a_traced_case_is_what_codes_do_when_its_tiers_are_pushed(
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    case_id = loaded[0]
    now = _trace(session_factory, settings, case_id)
    with transaction(session_factory) as s:
        assert _contact_facts(s) == [], "a trace writes no facts: codes wait for a push"
        codes_service.recompute(session=s, actor=SYSTEM, now=now, full=True)
    tier_of = _tiers(session_factory, case_id)
    people: dict[str, list[int]] = defaultdict(list)
    for person, key in tier_of.items():
        people[key].append(person)
    assert {"1", "2", "3", "companion"} <= set(people), "the city gives every tier"
    start = _codes(session_factory, now)

    # Tier 1 first: what the preview says is what the codes do, and no other tier moves.
    with transaction(session_factory) as s:
        first = push.preview(session=s, actor=COMMANDER, case_ids=[case_id], tiers=[1], now=now)
        done = push.push(session=s, actor=COMMANDER, case_ids=[case_id], tiers=[1], now=now)
    assert done.preview == first and done.people == len(people["1"])
    assert (done.pushed_by, done.pushed_at, done.tiers, done.companions) == (
        "commander",
        now,
        [1],
        False,
    )
    after_first = _codes(session_factory, now)
    assert _row(first, "1") == _observed(start, after_first, people["1"])
    assert _row(first, "1")["red"] == _row(first, "1")["central"] > 0
    assert (first.people, first.red, first.central) == (
        len(people["1"]),
        _row(first, "1")["red"],
        _row(first, "1")["central"],
    )
    assert first.rooms == first.central and first.staff > 0
    for key in ("2", "3", "companion"):
        assert _observed(start, after_first, people[key])["red"] == 0
        assert all(
            (start[p].colour if p in start else None)
            == (after_first[p].colour if p in after_first else None)
            for p in people[key]
        ), f"tier {key} was not pushed: its codes stay"

    # Then everything: tier 1 is already pushed (nobody left to turn), the rest turn as said.
    with transaction(session_factory) as s:
        every = push.preview(
            session=s,
            actor=COMMANDER,
            case_ids=[case_id],
            tiers=[1, 2, 3],
            companions=True,
            now=now,
        )
        push.push(
            session=s,
            actor=COMMANDER,
            case_ids=[case_id],
            tiers=[1, 2, 3],
            companions=True,
            now=now,
        )
    after_all = _codes(session_factory, now)
    assert _row(every, "1")["red"] == 0
    for key in ("1", "2", "3", "companion"):
        assert _row(every, key) == _observed(after_first, after_all, people[key]), key
    assert _row(every, "2")["home"] > 0 and _row(every, "3")["yellow"] > 0
    assert every.people == len(tier_of) and every.red == sum(
        _row(every, k)["red"] for k in ("1", "2", "3", "companion")
    )
    with transaction(session_factory) as s:
        unpushed = s.scalar(
            select(func.count()).select_from(Contact).where(Contact.push_id.is_(None))
        )
        records = list(s.scalars(select(ContactPush).order_by(ContactPush.id)))
    assert unpushed == 0
    assert [(r.tiers, r.companions, r.pushed_by, r.jurisdiction) for r in records] == [
        ([1], False, "commander", "450681"),
        ([1, 2, 3], True, "commander", "450681"),
    ]
    assert records[1].people == len(tier_of) - len(people["1"])


def test_a_second_push_of_a_tier_changes_nothing_and_a_retrace_keeps_it(
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    case_id = loaded[0]
    now = _trace(session_factory, settings, case_id)
    with transaction(session_factory) as s:
        push.push(session=s, actor=COMMANDER, case_ids=[case_id], tiers=[1], now=now)
        while codes_service.refresh_dirty(session=s, actor=SYSTEM, now=now)[0]:
            pass
        facts = _contact_facts(s)
        marks = dict(s.execute(select(Contact.id, Contact.push_id)).all())
    tier_1 = [p for p, key in _tiers(session_factory, case_id).items() if key == "1"]
    assert sorted(f["person_id"] for f in facts) == sorted(tier_1)
    assert all('"action": "central"' in f["attrs"] and '"tier": 1' in f["attrs"] for f in facts)

    with transaction(session_factory) as s:
        again = push.push(session=s, actor=COMMANDER, case_ids=[case_id], tiers=[1], now=now)
        assert again.people == 0 and again.preview.red == 0
        assert _contact_facts(s) == facts
        assert dict(s.execute(select(Contact.id, Contact.push_id)).all()) == marks
        assert s.scalar(select(func.count()).select_from(DirtyPerson)) == 0, "no code to redo"

    # A re-trace stores a new list; the tier pushed for the case applies to it.
    _trace(session_factory, settings, case_id)
    with transaction(session_factory) as s:
        refound = _contact_facts(s)
        pushed = s.scalars(select(Contact.person_id).where(Contact.push_id.is_not(None))).all()
    assert sorted(pushed) == sorted(tier_1) == sorted(f["person_id"] for f in refound)


def test_bad_input_names_its_field_and_changes_nothing(
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    traced, untraced = loaded[0], loaded[1]
    now = _trace(session_factory, settings, traced)

    def refused(
        error: type[CordonError],
        tiers: list[int],
        cases: list[int] | None = None,
        actor: Actor = COMMANDER,
    ) -> list[str]:
        with transaction(session_factory) as s, pytest.raises(error) as caught:
            push.push(session=s, actor=actor, case_ids=cases or [traced], tiers=tiers, now=now)
        return [p.field for p in caught.value.problems]

    assert refused(ValidationFailed, [7]) == ["tiers"]
    assert refused(ValidationFailed, []) == ["tiers"]
    assert refused(ValidationFailed, [1], [traced, untraced]) == ["case_ids"]
    assert refused(NotFound, [1], [999_999]) == ["case_ids"]
    elsewhere = make_actor(Role.COMMANDER, "450602", username="elsewhere")
    assert refused(NotFound, [1], actor=elsewhere) == ["case_ids"]
    assert refused(Forbidden, [1], actor=make_actor(Role.EPIDEMIOLOGIST, "450681")) == []
    with transaction(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(ContactPush)) == 0
        assert _contact_facts(s) == []


def test_preview_push_and_pushes_over_the_api(
    client: TestClient,
    token_for: Tokens,
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    case_id = loaded[0]
    _trace(session_factory, settings, case_id)
    chief = token_for("chief", "commander", "450681")
    epi = token_for("epi2", "epidemiologist", "450681")
    body = {"case_ids": [case_id], "tiers": [1, 2]}
    cost = client.post("/api/v1/trace/preview", json=body, headers=epi)
    assert cost.status_code == 200, cost.text
    shown = cost.json()
    assert [t["action"] for t in shown["tiers"]] == ["central", "home", "notify", "companion"]
    assert shown["areas"] and shown["areas"][0]["division_name"] == "东兴镇"
    assert shown["rooms"] == shown["central"] and shown["chosen"] == [1, 2]
    assert client.post("/api/v1/trace/push", json=body, headers=epi).status_code == 403
    unknown = client.post("/api/v1/trace/push", json={**body, "tiers": [5]}, headers=chief)
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "tiers"
    done = client.post("/api/v1/trace/push", json=body, headers=chief)
    assert done.status_code == 201, done.text
    pushed = done.json()
    assert pushed["pushed_by"] == "chief" and pushed["tiers"] == [1, 2]
    assert pushed["preview"]["red"] == shown["red"]
    listed = client.get(f"/api/v1/trace/pushes?case_id={case_id}", headers=epi).json()
    assert [p["id"] for p in listed] == [pushed["id"]]
    town = token_for("jp", "commander", "450681101")
    assert client.get(f"/api/v1/trace/pushes?case_id={case_id}", headers=town).status_code == 404


def test_the_preview_and_push_commands(
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
    make_user: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from typer.testing import CliRunner

    from cordon.cli import app

    case_id = loaded[0]
    _trace(session_factory, settings, case_id)
    make_user("chief", "commander", "450681")
    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    common = ["--user", "chief", "--data-dir", str(settings.data_dir)]
    runner = CliRunner()
    shown = runner.invoke(app, ["trace", "preview", str(case_id), "--tier", "1", *common])
    assert shown.exit_code == 0, shown.output
    cost = json.loads(shown.output)
    done = runner.invoke(app, ["trace", "push", str(case_id), "--tier", "1", *common])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["preview"]["red"] == cost["red"] > 0
    bad = runner.invoke(app, ["trace", "push", str(case_id), "--tier", "8", *common])
    assert bad.exit_code != 0 and "tiers" in bad.output


def test_the_panel_previews_the_ticked_tiers_and_pushes_them(
    client: TestClient,
    make_user: Callable[..., str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    case_id = loaded[0]
    _trace(session_factory, settings, case_id)
    hx = {"HX-Request": "true"}
    make_user("epi3", "epidemiologist", "450681")
    login(client, "epi3")
    panel = client.get(f"/trace/cases/{case_id}/panel", headers=hx).text
    assert 'id="cost-table"' in panel and "推送前的名单成本预估" in panel
    assert 'id="push-1" name="tiers" value="1" checked disabled' in panel, "epidemiologists see"
    assert 'id="push-button"' not in panel
    token = page_token(client, f"/cases/{case_id}")
    refused = client.post(
        f"/trace/cases/{case_id}/push", data={"csrf_token": token, "tiers": "1"}, headers=hx
    )
    assert refused.status_code == 403

    make_user("chief2", "commander", "450681")
    login(client, "chief2")
    token = page_token(client, f"/cases/{case_id}")
    panel = client.get(f"/trace/cases/{case_id}/panel", headers=hx).text
    assert 'id="push-1" name="tiers" value="1" checked>' in panel  # central: ticked
    assert 'id="push-2" name="tiers" value="2">' in panel and 'id="push-button"' in panel
    ticked = client.post(
        f"/trace/cases/{case_id}/preview",
        data={"csrf_token": token, "tiers": ["1", "2"]},
        headers=hx,
    )
    assert ticked.status_code == 200 and "<html" not in ticked.text
    assert 'id="push-2" name="tiers" value="2" checked>' in ticked.text
    nothing = client.post(f"/trace/cases/{case_id}/push", data={"csrf_token": token}, headers=hx)
    assert nothing.status_code == 200 and "请至少选择一个分级或时空伴随者" in nothing.text
    done = client.post(
        f"/trace/cases/{case_id}/push",
        data={"csrf_token": token, "tiers": ["1", "2"]},
        headers=hx,
    )
    assert done.status_code == 200 and 'id="push-done"' in done.text
    assert "chief2 于" in done.text and "1 级 · 2 级" in done.text
    assert 'id="push-1"' not in done.text and 'id="push-3"' in done.text  # pushed: a badge
    assert done.text.count("已推送") == 2 and 'id="push-history"' in done.text
    without_htmx = client.post(
        f"/trace/cases/{case_id}/push",
        data={"csrf_token": token, "tiers": "3"},
        follow_redirects=False,
    )
    assert without_htmx.status_code == 303
    assert without_htmx.headers["location"] == f"/cases/{case_id}#tracing"
    english = client.get(f"/trace/cases/{case_id}/panel?lang=en", headers=hx).text
    assert "Cost of the list before it is pushed" in english and "Tier 3" in english


def test_the_panel_shows_the_cost_of_a_list_stored_while_it_was_reading(
    client: TestClient,
    make_user: Callable[..., str],
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A trace job that commits its list between the panel's first count and its list (SQLite
    reads outside a transaction see each commit, seen in the demo walk under load): the panel
    still shows the list's cost, not a list without one."""
    from cordon.trace import contacts as stored_contacts

    case_id = loaded[0]
    _trace(session_factory, settings, case_id)
    counted = stored_contacts.count
    calls: list[int] = []

    def before_the_commit(**kwargs: object) -> int:  # the first read misses the new list
        calls.append(1)
        return 0 if len(calls) == 1 else counted(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stored_contacts, "count", before_the_commit)
    make_user("chief5", "commander", "450681")
    login(client, "chief5")
    panel = client.get(f"/trace/cases/{case_id}/panel", headers={"HX-Request": "true"}).text
    assert 'id="stored-counts"' in panel and 'id="cost-table"' in panel


def test_a_batch_counts_each_person_once_in_their_highest_tier(
    settings: Settings,
    session_factory: sessionmaker[Session],
    loaded: list[int],  # noqa: F811
) -> None:
    """Cases traced apart may list one person twice: the batch's preview counts them once, in
    their highest tier, and pushing that tier writes the facts of all their rows."""
    first, second = loaded[0], loaded[1]
    now = _trace(session_factory, settings, first)
    _trace(session_factory, settings, second)
    listed = {case: _tiers(session_factory, case) for case in (first, second)}
    rows = [(p, key, case) for case, tiers in listed.items() for p, key in tiers.items()]
    rank = {"1": 1, "2": 2, "3": 3, "companion": 9}
    best: dict[int, str] = {}
    for person, key, _case in rows:
        if person not in best or rank[key] < rank[best[person]]:
            best[person] = key
    assert len(rows) > len(best), "the two cases share contacts"
    with transaction(session_factory) as s:
        batch = {"case_ids": [first, second], "tiers": [1], "now": now}
        cost = push.preview(session=s, actor=COMMANDER, **batch)  # type: ignore[arg-type]
        push.push(session=s, actor=COMMANDER, **batch)  # type: ignore[arg-type]
        written = _contact_facts(s)
    for key in ("1", "2", "3", "companion"):
        assert _row(cost, key)["people"] == sum(k == key for k in best.values()), key
    assert sum(sum(a.people.values()) for a in cost.areas) == len(best)
    top = {p for p, key in best.items() if key == "1"}
    assert sorted((f["person_id"], f["source"]) for f in written) == sorted(
        (p, f"trace:case:{case}") for p, _key, case in rows if p in top
    )
