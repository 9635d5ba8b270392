"""Schemas of every lake table: the contract between the simulator (writer) and the tracing,
screening, border and command slices (readers). Documented column by column in docs/lake.md;
``SCHEMA_VERSION`` changes whenever a table or the layout changes incompatibly (2: the
place-ordered copy of stays and cell-ordered copy of cell records that tracing reads; 3: places
split into sections, with the site they belong to; 4: tracing's index of memory-mapped Arrow
files replaces the place- and cell-ordered Parquet copies; 5: the index in segments of many
days, with a place (cell) and time key; 6: people who live elsewhere — residence code and
address, and the purpose of a visitor's visits).

Conventions: ids are dense integers from 0; times are UTC instants (``timestamp[s, UTC]``;
pages show them in Asia/Shanghai); ``day`` is the simulation day index (0 = the scenario's
start date, Asia/Shanghai calendar), also the partition key of the large tables; lon/lat are
WGS84 degrees; cells are the 800 m grid of ``cordon.geo.cells``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

SCHEMA_VERSION = 6
TZ = ZoneInfo("Asia/Shanghai")  # lake days are its calendar days (no daylight saving)


def day_start(start_date: date, day: int) -> int:
    """Epoch seconds of the local midnight that begins day ``day`` of a lake."""
    local = datetime.combine(start_date + timedelta(days=day), time(0), tzinfo=TZ)
    return int(local.timestamp())


TIME = pa.timestamp("s", tz="UTC")

# --- registry tables (one file each) -------------------------------------------------------

PEOPLE = pa.schema(
    [
        ("person_id", pa.int32()),
        ("household_id", pa.int32()),
        ("name", pa.string()),
        ("id_number", pa.string()),  # valid GB 11643 number, synthetic
        ("phone", pa.string()),  # nullable: children have none
        ("sex", pa.string()),  # "M" | "F"
        ("birth_date", pa.date32()),
        ("age", pa.int16()),  # in whole years on the start date
        ("role", pa.string()),  # see ROLES
        ("home_place_id", pa.int32()),
        ("work_place_id", pa.int32()),  # nullable: workplace, school or harbour for fishers
        ("class_id", pa.int32()),  # nullable: school class of a student
        ("village_code", pa.string()),  # 12-digit division code of home
        ("grid_code", pa.string()),  # 15-digit grid code of home
        # Where the person lives: the village of the home for residents, a county elsewhere
        # for visitors (their home in the city is where they lodge).
        ("residence_code", pa.string()),
        ("residence_address", pa.string()),  # nullable: a visitor's address at home
        ("visitor", pa.string()),  # nullable: purpose of a visitor's visits, see VISIT_PURPOSES
    ]
)
VISIT_PURPOSES = ("trader", "truck_driver", "business", "tourist")
ROLES = ("child", "student", "worker", "trader", "fisher", "elderly", "unemployed", "health_worker")

HOUSEHOLDS = pa.schema(
    [
        ("household_id", pa.int32()),
        ("home_place_id", pa.int32()),
        ("size", pa.int16()),
        ("village_code", pa.string()),
        ("grid_code", pa.string()),
    ]
)

PLACES = pa.schema(
    [
        ("place_id", pa.int32()),
        ("kind", pa.string()),  # see PLACE_KINDS
        ("name", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("cell_id", pa.int64()),
        ("village_code", pa.string()),
        ("grid_code", pa.string()),  # nullable for places outside residential grids
        ("compound_id", pa.int32()),  # nullable: the residential compound of a home
        ("capacity", pa.int32()),
        # The site a section belongs to (the id of its first section); a place that is not
        # split into sections is its own site.
        ("site_id", pa.int32()),
    ]
)
PLACE_KINDS = (
    "home",
    "workplace",
    "school",
    "market",
    "restaurant",
    "shop",
    "hospital",
    "clinic",
    "border_crossing",
    "port",
    "harbour",
    "treatment_centre",
    "vessel",
    "outside_city",
)

GRIDS = pa.schema(
    [
        ("grid_code", pa.string()),
        ("name", pa.string()),
        ("village_code", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
    ]
)

# --- movement (partitioned by day) ---------------------------------------------------------

STAYS = pa.schema(
    [
        ("day", pa.int16()),
        ("person_id", pa.int32()),
        ("place_id", pa.int32()),
        ("start", TIME),
        ("end", TIME),  # exclusive; a person's stays never overlap
        ("setting", pa.string()),  # see SETTINGS: the transmission setting of the stay
        ("cell_id", pa.int64()),  # the place's 800 m cell
    ]
)
SETTINGS = ("household", "work", "class", "venue", "health", "transit", "vessel", "outside")

CHECKINS = pa.schema(
    [
        ("day", pa.int16()),
        ("person_id", pa.int32()),
        ("place_id", pa.int32()),
        ("time", TIME),  # the scan, at or shortly after the stay's start
    ]
)

CELL_RECORDS = pa.schema(
    [
        ("day", pa.int16()),
        ("person_id", pa.int32()),
        (
            "cell_id",
            pa.int64(),
        ),  # the cell of the serving tower: usually the stay's, sometimes a neighbour
        ("start", TIME),
        ("end", TIME),
    ]
)

JOURNEYS = pa.schema(
    [
        ("person_id", pa.int32()),
        ("depart", TIME),
        ("return", TIME),
        ("destination_code", pa.string()),  # division code of the destination (outside Dongxing)
    ]
)

# --- vessels --------------------------------------------------------------------------------

VESSELS = pa.schema(
    [
        ("vessel_id", pa.int32()),
        ("place_id", pa.int32()),  # the vessel as a place (kind "vessel") for crew stays
        ("name", pa.string()),
        ("registration", pa.string()),  # nullable: "three-no" boats have none
        ("owner_person_id", pa.int32()),
        ("home_harbour_place_id", pa.int32()),
        ("beidou", pa.bool_()),  # carries a BeiDou terminal
        ("three_no", pa.bool_()),  # no name, no certificate, no registration
        ("crew_size", pa.int16()),
    ]
)

CREW = pa.schema([("vessel_id", pa.int32()), ("person_id", pa.int32())])

SEA_TRIPS = pa.schema(
    [
        ("trip_id", pa.int32()),
        ("vessel_id", pa.int32()),
        ("depart", TIME),
        ("return", TIME),
        ("met_foreign_vessel", pa.bool_()),  # ground truth of a rendezvous at sea
        ("rendezvous_time", TIME),  # nullable
        ("rendezvous_lon", pa.float64()),
        ("rendezvous_lat", pa.float64()),
    ]
)

VESSEL_FIXES = pa.schema(
    [
        ("day", pa.int16()),
        ("vessel_id", pa.int32()),
        ("time", TIME),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("speed_knots", pa.float32()),
    ]
)

# --- outbreak ground truth --------------------------------------------------------------------

INFECTIONS = pa.schema(
    [
        ("infectee", pa.int32()),
        ("infector", pa.int32()),  # nullable for imports
        ("time", TIME),
        ("place_id", pa.int32()),  # nullable for imports
        ("setting", pa.string()),  # a SETTINGS value, or "import"
        ("import_kind", pa.string()),  # nullable; "border" | "sea"
        ("generation", pa.int16()),  # 0 for imports
    ]
)

DISEASE = pa.schema(
    [
        ("person_id", pa.int32()),
        ("infected_at", TIME),
        ("symptomatic", pa.bool_()),
        ("onset", TIME),  # nullable: asymptomatic infections
        ("detected_at", TIME),  # nullable: not (yet) found
        ("detection", pa.string()),  # nullable; "routine_test" | "symptoms"
        ("isolated_at", TIME),  # nullable
    ]
)

ROUTINE_TESTS = pa.schema(
    [
        ("person_id", pa.int32()),
        ("sampled_at", TIME),
        ("group", pa.string()),  # why tested: "border", "port", "fisher", "health_worker", …
        ("positive", pa.bool_()),
        ("result_at", TIME),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "people": PEOPLE,
    "households": HOUSEHOLDS,
    "places": PLACES,
    "grids": GRIDS,
    "stays": STAYS,
    "checkins": CHECKINS,
    "cell_records": CELL_RECORDS,
    "journeys": JOURNEYS,
    "vessels": VESSELS,
    "crew": CREW,
    "sea_trips": SEA_TRIPS,
    "vessel_fixes": VESSEL_FIXES,
    "infections": INFECTIONS,
    "disease": DISEASE,
    "routine_tests": ROUTINE_TESTS,
}
# Written one partition per day (``stays/day=3/part-0.parquet``); the others as one file.
BY_DAY = frozenset({"stays", "checkins", "cell_records", "vessel_fixes"})
