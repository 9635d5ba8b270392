"""The simulated city's first detected case registered as the demo does (confirmed with its
onset when symptomatic, sampled at its first positive routine test), for tracing tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from cordon.cases import service as cases_service
from cordon.cases.schemas import CaseIn
from cordon.db import transaction
from cordon.lake.reader import read_table
from cordon.security.crypto import FieldCipher
from tests.helpers import make_actor


def register_first_detected(
    lake: Path, factory: sessionmaker[Session], cipher: FieldCipher
) -> tuple[int, datetime]:
    """Register the first case the city found; returns its id and when it was detected."""
    disease = read_table(lake, "disease").to_pandas()
    first = disease[disease["detected_at"].notna()].sort_values("detected_at").iloc[0]
    tests = read_table(lake, "routine_tests").to_pandas()
    sampled = tests[(tests["person_id"] == first["person_id"]) & tests["positive"]]["sampled_at"]
    with transaction(factory) as s:
        case = cases_service.register_case(
            session=s,
            actor=make_actor(),
            cipher=cipher,
            data=CaseIn(
                person_id=int(first["person_id"]) + 1,
                kind="confirmed" if first["symptomatic"] else "asymptomatic",
                onset_date=first["onset"].tz_convert("Asia/Shanghai").date()
                if first["symptomatic"]
                else None,
                sampled_at=sampled.min().to_pydatetime(),
                found_by="routine_test",
                isolated_at=first["isolated_at"].to_pydatetime(),
            ),
        )
    return case.id, first["detected_at"].to_pydatetime()
