"""Sampling into pooled tubes, lab results and what a positive pool sets in motion."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from cordon.errors import Conflict, ValidationFailed
from cordon.facts import service as facts_service
from cordon.screening import coverage, labs, service
from cordon.screening.schemas import ScanIn
from cordon.security.crypto import FieldCipher
from tests.helpers import xlsx
from tests.screening.fixtures import GRID, START, Village, scan, village

FIVE = {"other": 5}


def lab_csv(*rows: tuple[str, str]) -> bytes:
    lines = ["管码,检测结果,报告时间,检测机构"]
    lines += [f"{tube},{result},2021-12-21 20:00:00,东兴市人民医院" for tube, result in rows]
    return ("\n".join(lines) + "\n").encode()


def fill(session: Session, cipher: FieldCipher, v: Village, tubes: int, size: int = 5) -> None:
    for t in range(tubes):
        for i in range(size):
            scan(session, cipher, v, v.people[t * size + i], f"T{t:04d}", minute=t)


def facts_of(session: Session, v: Village, person_id: int) -> list[tuple[str, dict[str, object]]]:
    found = facts_service.of_person(session=session, actor=v.actor, person_id=person_id)
    return [(f.kind, dict(f.attrs)) for f in found]


def test_a_pool_tube_closes_at_its_size_and_refuses_more(
    session: Session, cipher: FieldCipher
) -> None:
    v = village(session, cipher, pooling=FIVE)
    for i in range(5):
        out = scan(session, cipher, v, v.people[i], "T0001")
    assert out.tube_closed and out.tube_filled == 5  # type: ignore[attr-defined]
    with pytest.raises(Conflict) as caught:
        scan(session, cipher, v, v.people[5], "T0001")
    assert "tube T0001" in caught.value.message and "5 of 5" in caught.value.message


def test_a_person_is_sampled_once_per_round(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    scan(session, cipher, v, v.people[0], "T0001")
    with pytest.raises(Conflict) as caught:
        scan(session, cipher, v, v.people[0], "T0002")
    message = caught.value.message
    assert "居民100" in message and "东郊采样点" in message and "T0001" in message
    assert v.numbers[v.people[0]] not in message  # the identity number is masked


def test_a_tube_barcode_is_used_in_one_round_only(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    scan(session, cipher, v, v.people[0], "T0001")
    other = village(session, cipher, people=0, pooling=FIVE)
    with pytest.raises(Conflict, match="T0001: barcode already used in round"):
        service.register_sample(
            session=session,
            actor=other.actor,
            cipher=cipher,
            round_id=other.round_id,
            scan=ScanIn(site_id=other.site_id, tube="T0001", id_number=v.numbers[v.people[1]]),
        )


def test_sealed_zones_get_single_tubes(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, zones={GRID: "sealed"})
    out = scan(session, cipher, v, v.people[0], "S0001")
    assert out.tube_capacity == 1 and out.tube_closed  # type: ignore[attr-defined]


def test_a_positive_pool_flags_exactly_its_members(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=3)
    report = labs.import_results(
        session=session,
        actor=v.actor,
        round_id=v.round_id,
        filename="lab.csv",
        data=lab_csv(("T0000", "阴性"), ("T0001", "阳性"), ("T0002", "阴性")),
    )
    assert report.positive_tubes == ["T0001"] and report.flagged_people == 5
    members = set(v.people[5:10])
    tasks = coverage.list_tasks(session=session, actor=v.actor, cipher=cipher, round_id=v.round_id)
    assert {(t.kind, t.person_id) for t in tasks} == {
        (kind, p) for kind in ("retest", "isolate") for p in members
    }
    assert all(t.grid_code == GRID and t.tube_barcode == "T0001" for t in tasks)
    for pid in v.people[:15]:
        kinds = [k for k, _a in facts_of(session, v, pid)]
        assert kinds == (["pool_positive"] if pid in members else ["test"])
    assert facts_of(session, v, v.people[0])[0][1]["result"] == "negative"
    by_grid = coverage.coverage(session=session, actor=v.actor, round_id=v.round_id)
    assert (by_grid[0].sampled, by_grid[0].resulted, by_grid[0].positive) == (15, 15, 5)
    assert by_grid[0].flagged == 5 and by_grid[0].expected == 25


def test_a_negative_retest_clears_the_pool_flag(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=1)
    labs.import_results(
        session=session,
        actor=v.actor,
        round_id=v.round_id,
        filename="a.csv",
        data=lab_csv(("T0000", "阳性")),
    )
    # A second scan of a flagged person is the single-tube retest, not a duplicate.
    for i, pid in enumerate(v.people[:5]):
        out = scan(session, cipher, v, pid, f"R{i:04d}", minute=30)
        assert out.purpose == "retest" and out.tube_capacity == 1  # type: ignore[attr-defined]
    with pytest.raises(Conflict):  # the retest is taken once
        scan(session, cipher, v, v.people[0], "R9999")
    report = labs.import_results(
        session=session,
        actor=v.actor,
        round_id=v.round_id,
        filename="b.csv",
        data=lab_csv(*[(f"R{i:04d}", "阴性") for i in range(4)], ("R0004", "阳性")),
    )
    assert report.cleared == 4 and report.proposals_created == 1
    cleared = facts_of(session, v, v.people[0])
    assert [k for k, _a in cleared] == ["pool_positive", "test"]
    assert cleared[1][1] == {
        "tube": "R0000",
        "round_id": v.round_id,
        "result": "negative",
        "method": "single",
        "lab": "东兴市人民医院",
    }
    left = coverage.list_tasks(session=session, actor=v.actor, cipher=cipher, round_id=v.round_id)
    assert {(t.kind, t.person_id) for t in left} == {("isolate", v.people[4])}
    row = coverage.coverage(session=session, actor=v.actor, round_id=v.round_id)[0]
    assert (row.flagged, row.cleared) == (1, 4)
    proposals = coverage.list_proposals(session=session, actor=v.actor)
    assert [(p.person_id, p.tube_barcode) for p in proposals] == [(v.people[4], "R0004")]
    accepted = coverage.accept_proposal(
        session=session, actor=v.actor, cipher=cipher, proposal_id=proposals[0].id
    )
    assert accepted.status == "accepted" and accepted.case_id is not None


def test_the_same_lab_file_twice_changes_nothing(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=2)
    data = xlsx(
        [
            ["tube", "result", "resulted_at"],
            ["T0000", "negative", "2021-12-21 20:00"],
            ["T0001", "positive", "2021-12-21 20:00"],
        ]
    )
    first = labs.import_results(
        session=session, actor=v.actor, round_id=v.round_id, filename="r.xlsx", data=data
    )
    again = labs.import_results(
        session=session, actor=v.actor, round_id=v.round_id, filename="r.xlsx", data=data
    )
    assert (first.changed, again.changed, again.unchanged) == (2, 0, 2)
    assert again.import_id is None and again.tasks_created == 0 and again.flagged_people == 0
    tasks = coverage.list_tasks(session=session, actor=v.actor, cipher=cipher, round_id=v.round_id)
    assert len(tasks) == 10


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("T0000", "阴性"), ("T9999", "阴性")], [(3, "tube", "unknown tube T9999")]),
        ([("T0000", "maybe")], [(2, "result", "tube T0000: 'maybe' is not 阴性/阳性")]),
        (
            [("T0000", "阴性"), ("T0000", "阳性")],
            [(3, "tube", "tube T0000 has another result in row 2")],
        ),
    ],
)
def test_a_half_valid_lab_file_writes_nothing(
    session: Session,
    cipher: FieldCipher,
    rows: list[tuple[str, str]],
    expected: list[tuple[int, str, str]],
) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=1)
    with pytest.raises(ValidationFailed) as caught:
        labs.import_results(
            session=session,
            actor=v.actor,
            round_id=v.round_id,
            filename="x.csv",
            data=lab_csv(*rows),
        )
    got = [(p.row, p.field, p.message) for p in caught.value.problems]
    assert [(r, f) for r, f, _m in got] == [(r, f) for r, f, _m in expected]
    assert all(m.startswith(e[2]) for (_r, _f, m), e in zip(got, expected, strict=True))
    assert coverage.progress(session=session, actor=v.actor, round_id=v.round_id).resulted == 0
    assert facts_of(session, v, v.people[0]) == []


def test_a_malformed_lab_file_is_refused(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    with pytest.raises(ValidationFailed, match="missing columns: result"):
        labs.import_results(
            session=session,
            actor=v.actor,
            round_id=v.round_id,
            filename="x.csv",
            data=b"tube,foo\nT1,1\n",
        )
    with pytest.raises(ValidationFailed, match="not a readable XLSX"):
        labs.import_results(
            session=session,
            actor=v.actor,
            round_id=v.round_id,
            filename="x.xlsx",
            data=b"PK\x03\x04junk",
        )


def test_missing_people_export_lists_who_has_not_come(
    session: Session, cipher: FieldCipher, tmp_path: Path
) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=4)
    out = tmp_path / "missing.xlsx"
    rows = coverage.write_missing_xlsx(
        session=session,
        actor=v.actor,
        cipher=cipher,
        round_id=v.round_id,
        grid_code=GRID,
        path=out,
    )
    assert rows == 5
    sheet = load_workbook(out).worksheets[0]
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f"居民{100 + i}" for i in range(20, 25)]


def test_turnaround_is_measured_from_sampling(session: Session, cipher: FieldCipher) -> None:
    v = village(session, cipher, pooling=FIVE)
    fill(session, cipher, v, tubes=2)
    labs.import_results(
        session=session,
        actor=v.actor,
        round_id=v.round_id,
        filename="a.csv",
        data=lab_csv(("T0000", "阴性"), ("T0001", "阴性")),
    )
    done = coverage.progress(session=session, actor=v.actor, round_id=v.round_id, now=START)
    # Sampled at 01:00 and 01:01 UTC, reported 20:00 CST = 12:00 UTC.
    assert done.turnaround_max_hours == 11.0 and done.within_target == 1.0
