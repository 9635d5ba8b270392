"""At school the close-contact setting is the classroom: pupils of other classes are not close
contacts by sharing the building; staff without a class meet everyone there. Decided in the
co-presence join itself (the scan path's SQL is held equal to it in test_indexed_store)."""

from __future__ import annotations

import numpy as np

from cordon.lake.index import KEY_BITS, Segment
from cordon.trace import intervals

CASE, CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE = range(5)
SCHOOL, OFFICE = 7, 9
DAY = 1_638_288_000


def met(classes_of: dict[int, int]) -> set[int]:
    """Who the case meets: an hour at school (class setting), an hour at the office (work)."""
    sources = intervals.Sources(
        source=np.array([CASE, CASE]),
        place=np.array([SCHOOL, OFFICE]),
        start=np.array([DAY + 8 * 3600, DAY + 14 * 3600]),
        end=np.array([DAY + 9 * 3600, DAY + 15 * 3600]),
        day_start=np.array([DAY, DAY]),
        need=np.array([900, 900]),
        class_id=np.array([classes_of.get(CASE, -1), -1]),  # a class only for the classroom stay
        team=np.array([-1, -1]),  # anyone at the office, not only who works there
        setting=np.array([0, 1]),  # class, work
    )
    people = [CASE, CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE, CASE]
    place = np.array([SCHOOL, SCHOOL, SCHOOL, SCHOOL, OFFICE, OFFICE])
    start = DAY + 3600 * np.array([8, 8, 8, 8, 14, 14])
    order = np.lexsort((start, place))  # the index's order: place, then start
    segment = Segment(
        first_day=0,
        last_day=0,
        start=DAY,
        columns={
            "person_id": np.array(people)[order],
            "place_id": place[order],
            "start": start[order],
            "end": (start + 3600)[order],
            "key": ((place << KEY_BITS) | (start - DAY))[order],
        },
        names={},
    )
    classes = np.full(len(people), -1)
    for person, class_id in classes_of.items():
        classes[person] = class_id
    found = intervals.co_present(
        sources, [segment], where="place_id", classes=classes, evidence=5, per="person"
    )
    return set(found.person.tolist())


def test_only_classmates_and_staff_are_close_contacts_at_school() -> None:
    # The colleague's class does not matter at work.
    classes = {CASE: 1, CLASSMATE: 1, OTHER_CLASS: 2, COLLEAGUE: 3}
    assert met(classes) == {CLASSMATE, TEACHER, COLLEAGUE}


def test_without_class_data_the_building_counts() -> None:
    assert met({}) == {CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE}
