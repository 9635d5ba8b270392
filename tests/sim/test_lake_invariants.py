"""Acceptance 2 of the simulator, checked on a whole lake written by `service.run`: stays never
overlap and sit at their places' cells inside the city; every infection has an infectious,
co-present infector or is a recorded import; check-ins and cell records agree with stays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from cordon.geo import service as geo_service
from cordon.geo.cells import ROW_SPAN
from cordon.lake.reader import read_table
from cordon.sim import service

IMPORTS = {
    "outbreak": {
        "imports": [{"day": 0, "kind": "border", "count": 8}, {"day": 1, "kind": "sea", "count": 2}]
    }
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("invariants") / "lake"
    service.run(service.RunRequest("dongxing-2021", 4_000, 6, 11, out, overrides=IMPORTS))
    return out


def frame(lake: Path, name: str) -> pd.DataFrame:
    return read_table(lake, name).to_pandas()


def test_stays_never_overlap_and_never_cross_midnight(lake: Path) -> None:
    stays = frame(lake, "stays").sort_values(["person_id", "start"])
    same = stays["person_id"].to_numpy()[1:] == stays["person_id"].to_numpy()[:-1]
    gaps = stays["start"].to_numpy()[1:] - stays["end"].to_numpy()[:-1]
    assert (gaps[same] >= np.timedelta64(0, "s")).all()
    assert (stays["end"] > stays["start"]).all()
    start_day = stays["start"].dt.tz_convert("Asia/Shanghai").dt.normalize()
    end_day = (stays["end"] - pd.Timedelta(seconds=1)).dt.tz_convert("Asia/Shanghai").dt.normalize()
    assert (start_day == end_day).all()


def test_stays_are_at_their_places_cells_inside_the_boundary(lake: Path) -> None:
    stays = frame(lake, "stays").merge(frame(lake, "places"), on="place_id", suffixes=("", "_p"))
    assert (stays["cell_id"] == stays["cell_id_p"]).all()
    ashore = stays[~stays["kind"].isin(["outside_city", "vessel"])]
    boundary = shapely.geometry.shape(
        geo_service.boundary_geojson("dongxing.geojson")["features"][0]["geometry"]
    )
    assert shapely.contains_xy(boundary, ashore["lon"], ashore["lat"]).all()


def test_every_infection_is_an_import_or_from_an_infectious_co_present_person(lake: Path) -> None:
    infections = frame(lake, "infections")
    assert len(infections) >= 10
    imports = infections[infections["infector"].isna()]
    assert (imports["setting"] == "import").all() and imports["import_kind"].notna().all()
    local = infections[infections["infector"].notna()].copy()
    assert len(local) > 0, "no local transmission to check"
    local["infector"] = local["infector"].astype("int32")
    infected_at = infections.set_index("infectee")["time"]
    assert (local["infector"].map(infected_at) < local["time"]).all()
    stays = frame(lake, "stays")
    pairs = local.merge(
        stays, left_on=["infectee", "place_id"], right_on=["person_id", "place_id"]
    ).merge(
        stays,
        left_on=["infector", "place_id"],
        right_on=["person_id", "place_id"],
        suffixes=("_e", "_r"),
    )
    inside = pairs[
        (pairs["start_e"] <= pairs["time"])
        & (pairs["time"] < pairs["end_e"])
        & (pairs["start_r"] <= pairs["time"])
        & (pairs["time"] < pairs["end_r"])
    ]
    assert set(inside["infectee"]) == set(local["infectee"])
    assert infections["infectee"].is_unique


def test_checkins_and_cell_records_agree_with_stays(lake: Path) -> None:
    stays = frame(lake, "stays")
    checkins = frame(lake, "checkins").merge(stays, on=["day", "person_id", "place_id"])
    checkins["inside"] = (checkins["start"] <= checkins["time"]) & (
        checkins["time"] < checkins["end"]
    )
    matched = checkins.groupby(["person_id", "time"])["inside"].any()
    assert matched.all()
    cells = frame(lake, "cell_records").merge(stays, on=["day", "person_id"], suffixes=("", "_s"))
    within = cells[(cells["start_s"] <= cells["start"]) & (cells["end"] <= cells["end_s"])]
    near = (within["cell_id"] // ROW_SPAN - within["cell_id_s"] // ROW_SPAN).abs().le(1) & (
        within["cell_id"] % ROW_SPAN - within["cell_id_s"] % ROW_SPAN
    ).abs().le(1)
    per_record = within.assign(near=near).groupby(["person_id", "start", "cell_id"])["near"].any()
    assert len(per_record) == len(frame(lake, "cell_records"))
    assert per_record.all()


def test_manifest_counts_the_imports(lake: Path) -> None:
    manifest = json.loads((lake / "manifest.json").read_text())
    assert manifest["parameters"]["outbreak"]["imports"][0]["count"] == 8


def test_detected_cases_are_what_a_command_centre_would_register(lake: Path) -> None:
    disease = frame(lake, "disease")
    found = service.detected_cases(lake)
    assert len(found) == int(disease["detected_at"].notna().sum()) > 0
    assert [c.detected_at for c in found] == sorted(c.detected_at for c in found)
    for case in found:
        row = disease[disease["person_id"] == case.person_id - 1].iloc[0]
        assert case.symptomatic == bool(row["symptomatic"])
        assert (case.onset is not None) == case.symptomatic
        assert case.sampled_at is not None and case.sampled_at <= case.detected_at
        assert case.found_by in ("routine_test", "symptoms")
    assert service.detected_cases(lake.parent / "nothing") == []
