"""The overview page: the map's element and data, and the tables of counts."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cordon.config import Settings
from cordon.db import transaction
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from cordon.sim import service
from tests.conftest import UserMaker
from tests.helpers import id_number, make_actor, person
from tests.page_helpers import login


def register(factory: sessionmaker[Session], cipher: FieldCipher) -> None:
    """Two people in 东兴镇, one in 江平镇, one in 防城区."""
    places = [
        ("450681100001001", None, "450681"),
        ("450681100001001", None, "450681"),
        ("450681101201001", None, "450681"),
        (None, "450603", "450603"),
    ]
    with transaction(factory) as s:
        for order, (grid, division, region) in enumerate(places, start=1):
            people_service.create_person(
                session=s,
                actor=make_actor(),
                cipher=cipher,
                data=PersonIn(
                    **person(
                        id_number=id_number(region=region, order=order),
                        grid_code=grid,
                        division_code=division,
                    )
                ),
            )


def chart_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="overview-data">(.*?)</script>', html)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_overview_counts_people_per_county_and_town(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    register(session_factory, cipher)
    make_user("wang")
    login(client, "wang")
    page = client.get("/").text
    assert '<div id="overview-map"' in page
    assert "/static/vendor/echarts/echarts.min.js" in page
    data = chart_data(page)
    assert {c["code"]: c["count"] for c in data["counties"]} == {
        "450602": 0,
        "450603": 1,
        "450621": 0,
        "450681": 3,
    }
    assert {t["name"]: t["count"] for t in data["towns"]} == {"东兴镇": 2, "江平镇": 1, "马路镇": 0}
    towns = re.search(r'<table class="data" id="town-table">.*?</table>', page, re.S)
    assert towns is not None
    assert re.search(r"东兴镇</th><td>450681100</td><td class=\"num\">2</td>", towns.group(0))


def test_overview_counts_only_the_users_jurisdiction(
    client: TestClient,
    make_user: UserMaker,
    session_factory: sessionmaker[Session],
    cipher: FieldCipher,
) -> None:
    register(session_factory, cipher)
    make_user("gw", "grid_worker", "450681101")
    login(client, "gw")
    data = chart_data(client.get("/").text)
    assert {t["name"]: t["count"] for t in data["towns"]} == {"东兴镇": 0, "江平镇": 1, "马路镇": 0}
    assert sum(c["count"] for c in data["counties"]) == 1


def test_map_outlines_are_the_four_counties(client: TestClient, make_user: UserMaker) -> None:
    make_user("wang")
    login(client, "wang")
    outlines = client.get("/overview/boundaries.json").json()
    names = {f["properties"]["name"] for f in outlines["features"]}
    assert names == {"港口区", "防城区", "上思县", "东兴市"}
    client.cookies.clear()
    assert client.get("/overview/boundaries.json", follow_redirects=False).status_code == 303


def test_the_simulated_outbreak_is_shown_when_a_lake_exists(
    client: TestClient, make_user: UserMaker, settings: Settings
) -> None:
    make_user("wang")
    login(client, "wang")
    assert 'id="outbreak-status"' not in client.get("/").text
    service.run(service.RunRequest("dongxing-2021", 500, 2, 7, settings.lake_dir))
    page = client.get("/").text
    panel = re.search(
        r'<section class="card outbreak" id="outbreak-status".*?</section>', page, re.S
    )
    assert panel is not None
    assert "截至 2021-12-01，已发现" in panel.group(0)
