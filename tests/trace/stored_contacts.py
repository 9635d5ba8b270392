"""A small traced case with stored contacts of known scores, tiers and exposures, written as a
trace writes them (cordon.trace.contacts.replace_contacts), for list, export, network, person
page and what-if tests that need exact orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.people import service as people_service
from cordon.people.schemas import PersonIn
from cordon.security.crypto import FieldCipher
from cordon.trace import contacts
from tests.helpers import id_number, make_actor, person

ADMIN = make_actor()
T0 = datetime(2021, 12, 20, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# name, kind, score, tier, hours after T0 of the first exposure, minutes, days, index name
CONTACTS = [
    ("李一", "close", 0.30, 1, 2, 240.0, 2, None),
    ("王二", "close", 0.02, 2, 1, 30.0, 1, None),
    ("张三", "secondary", 0.30, 1, 1, 600.0, 3, "赵七"),  # ties 李一's score, met earlier
    ("刘四", "secondary", 0.004, 3, 5, 45.0, 1, "李一"),
    ("陈五", "companion", 0.50, None, 0, 900.0, 4, None),  # the highest score: still apart
    ("杨六", "companion", 0.0005, None, 3, 20.0, 1, None),
    ("赵七", "close", 0.08, 1, 4, 120.0, 1, None),
]
QUARANTINE_ORDER = ["张三", "李一", "赵七", "王二", "刘四"]
COMPANION_ORDER = ["陈五", "杨六"]


@dataclass(frozen=True)
class Traced:
    case_id: int
    case_person: int
    people: dict[str, int]  # name -> person id


def _evidence(kind: str, index: int, start: datetime, minutes: float, hazard: float) -> dict:
    return {
        "kind": kind,
        "index_person_id": index,
        "place_id": None,
        "cell_id": 4242 if kind == "companion" else None,
        "setting": "cell" if kind == "companion" else "household",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=minutes)).isoformat(),
        "overlap_minutes": minutes,
        "rule": f"{kind}:household>=15",
        "infectiousness": 0.8,
        "weight": 0.25,
        "hazard": hazard,
    }


def store_contacts(session: Session, cipher: FieldCipher, start: int = 300) -> Traced:
    """A case and its seven contacts (``CONTACTS``), stored."""
    names = ["病例甲"] + [c[0] for c in CONTACTS]
    ids = {
        name: people_service.create_person(
            session=session,
            actor=ADMIN,
            cipher=cipher,
            data=PersonIn(**person(name=name, id_number=id_number(order=start + i))),
        ).id
        for i, name in enumerate(names)
    }
    case = cases_service.register_case(
        session=session,
        actor=ADMIN,
        cipher=cipher,
        data=CaseIn(
            person_id=ids["病例甲"], kind="asymptomatic", sampled_at=T0, found_by="routine_test"
        ),
        now=T0,
    )
    homes = people_service.residences(session=session, person_ids=list(ids.values()))
    rows = []
    for name, kind, score, tier, hours, minutes, days, index in CONTACTS:
        first = T0 + timedelta(hours=hours)
        pid = ids[name]
        rows.append(
            {
                "case_id": case.id,
                "person_id": pid,
                "kind": kind,
                "first_exposure": first,
                "division_code": homes[pid][0],
                "grid_code": homes[pid][1],
                "case_division_code": case.division_code,
                "case_ids": [case.id],
                "evidence": [
                    _evidence(kind, ids[index or "病例甲"], first, minutes, score / 2),
                    _evidence(kind, ids[index or "病例甲"], first + timedelta(days=1), 15, 0.01),
                ],
                "pack": "guangxi-2021-12",
                "traced_at": T0 + timedelta(days=1),
                "score": score,
                "tier": tier,
                "exposed_minutes": minutes,
                "days_exposed": days,
                "push_id": None,
            }
        )
    contacts.replace_contacts(session=session, case_ids=[case.id], rows=rows)
    return Traced(case.id, ids["病例甲"], ids)
