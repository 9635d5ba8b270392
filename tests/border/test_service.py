from sqlalchemy.orm import Session

from cordon.border import service
from cordon.geo import service as geo_service


def test_vessels_are_registered_with_their_ids(session: Session) -> None:
    geo_service.add_places_bulk(
        session=session,
        rows=[
            {
                "id": 0,
                "kind": "harbour",
                "name": "竹山港",
                "lon": 108.0,
                "lat": 21.53,
                "cell_id": 1,
                "division_code": "450681100001",
                "grid_code": None,
                "capacity": 100,
            }
        ],
    )
    rows = [
        {
            "id": 1,
            "name": "桂东渔10001",
            "registration": "GDY10001",
            "owner_person_id": None,
            "home_place_id": 0,
            "beidou": True,
            "three_no": False,
            "crew_size": 4,
            "division_code": "450681100001",
        },
        {
            "id": 2,
            "name": "",
            "registration": None,
            "owner_person_id": None,
            "home_place_id": 0,
            "beidou": False,
            "three_no": True,
            "crew_size": 2,
            "division_code": "450681100001",
        },
    ]
    assert service.add_vessels(session=session, rows=rows) == 2
    assert service.count_vessels(session=session) == 2
