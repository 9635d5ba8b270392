"""Tracing on a simulated city, measured against the simulator's ground truth."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cordon.errors import ValidationFailed
from cordon.lake.reader import read_table
from cordon.protocols import packs
from cordon.sim import service as sim
from cordon.trace.duckdb_store import DuckDBStore
from cordon.trace.engine import trace
from cordon.trace.rules import IndexCase, NoStartOfWindow

IMPORTS = {
    "outbreak": {
        "imports": [{"day": 0, "kind": "border", "count": 8}, {"day": 1, "kind": "sea", "count": 2}]
    }
}
DAYS = 10


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trace") / "lake"
    sim.run(sim.RunRequest("dongxing-2021", 4_000, DAYS, 11, out, overrides=IMPORTS))
    return out


def seconds(value: object) -> int | None:
    return None if pd.isna(value) else int(pd.Timestamp(value).timestamp())  # type: ignore[arg-type]


def index_cases(lake: Path) -> list[IndexCase]:
    """Everyone infected who infected others and whose window can open (onset or a positive
    routine sample), isolated when the simulator isolated them or at the lake's end."""
    disease = read_table(lake, "disease").to_pandas()
    tests = read_table(lake, "routine_tests").to_pandas()
    sampled = tests[tests["positive"]].groupby("person_id")["sampled_at"].min()
    end = int(read_table(lake, "stays").to_pandas()["end"].max().timestamp())
    infectors = set(read_table(lake, "infections").to_pandas()["infector"].dropna().astype(int))
    cases = []
    for row in disease.itertuples():
        if row.person_id not in infectors:
            continue
        onset, sample = seconds(row.onset), seconds(sampled.get(row.person_id))
        if onset is None and sample is None:
            continue
        isolated = seconds(row.isolated_at) or end
        if (onset if onset is not None else sample) >= isolated:  # type: ignore[operator]
            continue  # onset after the lake ends: nothing to trace yet
        cases.append(IndexCase(row.person_id, onset, sample, isolated))
    return cases


def test_traced_contacts_find_the_true_infections(lake: Path) -> None:
    cases = index_cases(lake)
    assert len(cases) >= 3, "the seeded city needs cases that infected others"
    store = DuckDBStore(lake)
    infections = read_table(lake, "infections").to_pandas()
    found = missed = listed = 0
    for pack_name in ("guangxi-2021-12", "e9-2022-06"):
        pack = packs.load(pack_name)
        for case in cases:
            contacts = trace([case], pack, store)
            named = {c.person_id for c in contacts if c.kind in ("close", "secondary")}
            start = (case.onset if case.onset is not None else case.sampled) - (  # type: ignore[operator]
                pack.look_back.days_before_onset * 86_400
            )
            truly = infections[
                (infections["infector"] == case.person_id)
                & (infections["setting"] != "import")
                & (infections["time"].map(lambda t: t.timestamp()) >= start)
                & (infections["time"].map(lambda t: t.timestamp()) < case.isolated)
            ]
            hits = sum(int(p) in named for p in truly["infectee"])
            found, missed = found + hits, missed + len(truly) - hits
            listed += len(named)
    assert found + missed > 0
    assert found / (found + missed) >= 0.95, (found, missed)


def test_contacts_carry_their_evidence(lake: Path) -> None:
    case = index_cases(lake)[0]
    contacts = trace([case], packs.load(), DuckDBStore(lake))
    assert contacts
    kinds = {c.kind for c in contacts}
    assert "close" in kinds
    for contact in contacts:
        assert contact.evidence and contact.case_ids == {case.person_id}
        for e in contact.evidence:
            assert e.end > e.start and e.rule.startswith(e.kind)
            if e.kind != "companion":
                assert e.place_id is not None


def test_a_case_without_onset_or_sample_cannot_be_traced(lake: Path) -> None:
    with pytest.raises(NoStartOfWindow):
        trace([IndexCase(1, None, None, 2_000_000_000)], packs.load(), DuckDBStore(lake))


def test_missing_or_foreign_lakes_are_refused(tmp_path: Path, lake: Path) -> None:
    with pytest.raises(ValidationFailed):
        DuckDBStore(tmp_path)
    other = tmp_path / "old"
    other.mkdir()
    (other / "manifest.json").write_text('{"schema_version": 0}')
    with pytest.raises(ValidationFailed) as caught:
        DuckDBStore(other)
    assert caught.value.problems[0].field == "lake"
