"""Assist letters go to where the person is: the region a contact lives in (visitors from
elsewhere) or the one a journey has taken them to (residents who travelled away)."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest
from docx import Document
from docx.document import Document as Docx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cordon import clock
from cordon.cli import app
from cordon.config import Settings
from cordon.db import transaction
from cordon.geo.service import packaged_divisions
from cordon.lake.reader import read_table
from cordon.security.crypto import FieldCipher
from cordon.sim import service as sim
from cordon.trace import letters
from cordon.trace import service as trace_service
from tests.conftest import UserMaker
from tests.helpers import make_actor
from tests.trace.first_case import register_first_detected

# A small city with many visitors and travellers, so that one case's contacts surely hold both.
OVERRIDES = {
    "outbreak": {"imports": [{"day": 0, "kind": "border", "count": 8}]},
    "city": {"visitor_share": 0.25},
    "movement": {"journey_probability": 0.05},
}
runner = CliRunner()
DIVISIONS = {r["code"]: r for r in packaged_divisions()}


def expected_name(code: str) -> str:
    """The addressee as a reader of the division list would write it."""
    county = DIVISIONS[code]
    prefecture = DIVISIONS[county["parent_code"]]
    province = "" if code.startswith("45") else DIVISIONS[code[:2]]["name"]
    return province + prefecture["name"] + county["name"]


def test_region_names_from_the_prefecture_down_and_the_province_when_another() -> None:
    def known(code: str) -> tuple[str, str | None] | None:
        row = DIVISIONS.get(code)
        return (row["name"], row["parent_code"] or None) if row else None

    assert letters.region_name("450103", known, own_province="45") == "南宁市青秀区"
    assert letters.region_name("450603", known, own_province="45") == "防城港市防城区"
    assert letters.region_name("440803", known, own_province="45") == "广东省湛江市霞山区"
    assert letters.region_name("450681101", known, own_province="45") == "防城港市东兴市江平镇"
    assert letters.region_name("999999", known, own_province="45") == "999999"


def _letters_in(folder: Path) -> dict[str, Docx]:
    return {p.stem.rsplit("-", 1)[1]: Document(str(p)) for p in sorted(folder.glob("*.docx"))}


def _rows(document: Docx) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in document.tables[0].rows[1:]]


def test_letters_reach_visitors_homes_and_travellers_destinations(
    settings: Settings,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
    make_user: UserMaker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake: Path = settings.lake_dir
    sim.run(sim.RunRequest("dongxing-2021", 3_000, 8, 11, lake, overrides=OVERRIDES))
    with transaction(session_factory) as s:
        sim.load(session=s, cipher=cipher, folder=lake)
    case_id, detected = register_first_detected(lake, session_factory, cipher)
    make_user("epi", "epidemiologist", "450681")
    with transaction(session_factory) as s:
        traced = trace_service.trace_case(
            session=s, actor=make_actor(), case_id=case_id, lake=lake, now=detected
        )
    contact_ids = {c.person_id for c in traced.contacts}
    people = read_table(lake, "people").to_pandas().set_index("person_id")
    visitors = [pid for pid in contact_ids if isinstance(people.visitor[pid - 1], str)]
    assert visitors, "some of the case's contacts live elsewhere"

    # A resident contact who leaves the city after the case is found: at the letter's time
    # they are in another city.
    journeys = read_table(lake, "journeys").to_pandas()
    residents = {pid - 1 for pid in contact_ids} - {pid - 1 for pid in visitors}
    leaving = journeys[
        journeys.person_id.isin(residents)
        & (journeys.depart > detected)
        & (journeys["return"] - journeys.depart > timedelta(hours=6))
    ].sort_values("depart")
    assert len(leaving), "a resident contact travels away after the case is found"
    trip = leaving.iloc[0]
    traveller = int(trip.person_id) + 1
    at = (trip.depart + timedelta(hours=3)).to_pydatetime().astimezone(UTC)
    away_now = set(
        journeys[(journeys.depart <= at) & (journeys["return"] > at)].person_id.map(int) + 1
    )
    with transaction(session_factory) as s:  # the contacts as a trace at the letter's time has them
        retraced = trace_service.trace_case(
            session=s, actor=make_actor(), case_id=case_id, lake=lake, now=at
        )
    contact_ids = {c.person_id for c in retraced.contacts}
    visitors = [pid for pid in contact_ids if isinstance(people.visitor[pid - 1], str)]
    at_home_elsewhere = sorted(pid for pid in visitors if pid not in away_now)

    monkeypatch.setenv("CORDON_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CORDON_FIELD_KEY", "22" * 32)
    monkeypatch.setenv("CORDON_LOOKUP_KEY", "33" * 32)
    out = settings.data_dir / "letters"
    clock.bind(clock.path_in(settings.data_dir))  # the command follows the data folder's clock
    clock.set_scenario(at, pinned=True)
    try:
        written = runner.invoke(
            app,
            [
                "trace",
                "letters",
                str(case_id),
                "--user",
                "epi",
                "--out",
                str(out),
                "--data-dir",
                str(settings.data_dir),
            ],
        )
    finally:
        clock.reset()
        clock.bind(None)
    assert written.exit_code == 0, written.output
    made = _letters_in(out)
    assert made and all(len(code) == 6 and not code.startswith("450681") for code in made)

    # A visitor's letter goes to the command of the county they live in, named in Chinese,
    # and lists them with the full identity number and phone the receiving region needs.
    visitor = at_home_elsewhere[0]
    home = str(people.residence_code[visitor - 1])
    letter = made[home]
    assert letter.paragraphs[0].text == "新冠肺炎疫情协查函"
    assert letter.paragraphs[1].text == f"{expected_name(home)}疫情防控指挥部："
    row = next(r for r in _rows(letter) if r[1] == people.name[visitor - 1])
    assert row[2] == people.id_number[visitor - 1] and "*" not in row[2]
    phone = people.phone[visitor - 1]
    assert row[3] == (phone if isinstance(phone, str) else "")
    assert row[4] == people.residence_address[visitor - 1]
    assert row[5] == ""  # at home: no journey to report

    # The traveller's letter goes to where they have gone, saying when they left.
    destination = str(trip.destination_code)
    gone = made[destination]
    assert gone.paragraphs[1].text == f"{expected_name(destination)}疫情防控指挥部："
    row = next(r for r in _rows(gone) if r[1] == people.name[traveller - 1])
    local = trip.depart.tz_convert("Asia/Shanghai")
    assert row[5] == f"{local.month}月{local.day}日前往{expected_name(destination)}"

    # Exactly the contacts who are elsewhere at that time are in the letters, each once.
    elsewhere = {pid for pid in contact_ids if pid in away_now or pid in visitors}
    listed = [r[2] for doc in made.values() for r in _rows(doc)]
    assert len(listed) == len(set(listed)) == len(elsewhere)
    wanted = set(people.id_number[[pid - 1 for pid in elsewhere]])
    assert set(listed) == wanted
    with transaction(session_factory) as s:
        listed_ids = s.execute(
            text("SELECT ids FROM audit_entries WHERE action = 'assist_letter'")
        ).scalars()
        audited = {int(p) for ids in listed_ids for p in (ids or "").split(",") if p}
    assert audited == elsewhere  # one entry per letter request, naming every person listed
    assert pc.sum(pc.is_valid(read_table(lake, "people").column("visitor"))).as_py() > 0
