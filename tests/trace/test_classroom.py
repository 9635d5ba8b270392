"""At school the close-contact setting is the classroom: pupils of other classes are not close
contacts by sharing the building; staff without a class meet everyone there."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cordon.protocols import packs
from cordon.trace.engine import _meeting

CASE, CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE = range(5)


def test_only_classmates_and_staff_are_close_contacts_at_school() -> None:
    overlaps = pa.table(
        {
            "person_id": [CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE],
            "source_id": [CASE, CASE, CASE, CASE],
            "place_id": [7, 7, 7, 9],
            "setting": ["class", "class", "class", "work"],
            "start": [0, 0, 0, 0],
            "end": [3600, 3600, 3600, 3600],
        }
    )
    classes = np.array([1, 1, 2, -1, 3])  # the colleague's class does not matter at work
    meets = _meeting(overlaps, packs.load().close_contact, classes)
    assert meets.tolist() == [True, False, True, True]
    # Without class data (a lake of movements only) the building counts, as before.
    assert _meeting(overlaps, packs.load().close_contact, np.zeros(0, int)).all()
