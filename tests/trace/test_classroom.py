"""At school the close-contact setting is the classroom: pupils of other classes are not close
contacts by sharing the building; staff without a class meet everyone there. Decided in the
co-presence join itself (the scan path's SQL is held equal to it in test_indexed_store)."""

from __future__ import annotations

import numpy as np

from cordon.trace import intervals

CASE, CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE = range(5)
SCHOOL, OFFICE = 7, 9
DAY = 1_638_288_000


def met(classes: dict[int, int]) -> set[int]:
    """Who the case meets: an hour at school (class setting), an hour at the office (work)."""

    def class_of(people: list[int]) -> np.ndarray:
        return np.array([classes.get(p, -1) for p in people], dtype=np.int64)

    sources = intervals.Sources(
        source=np.array([CASE, CASE]),
        place=np.array([SCHOOL, OFFICE]),
        start=np.array([DAY + 8 * 3600, DAY + 14 * 3600]),
        end=np.array([DAY + 9 * 3600, DAY + 15 * 3600]),
        day_start=np.array([DAY, DAY]),
        need=np.array([900, 900]),
        class_id=np.array([classes.get(CASE, -1), -1]),  # a class only for the classroom stay
        setting=np.array([0, 1]),
        settings=["class", "work"],
    )
    people = [CASE, CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE, CASE]
    place = [SCHOOL, SCHOOL, SCHOOL, SCHOOL, OFFICE, OFFICE]
    start = [8, 8, 8, 8, 14, 14]
    order = np.lexsort((start, place))  # the index's order: place, then start
    others = intervals.Others(
        person=np.array(people)[order],
        place=np.array(place)[order],
        start=(DAY + 3600 * np.array(start))[order],
        end=(DAY + 3600 * (np.array(start) + 1))[order],
        class_id=class_of(people)[order],
        day_start=DAY,
    )
    found = intervals.co_present(sources, [others], evidence=5, per_source=False)
    return set(found.column("person_id").to_pylist())


def test_only_classmates_and_staff_are_close_contacts_at_school() -> None:
    # The colleague's class does not matter at work.
    classes = {CASE: 1, CLASSMATE: 1, OTHER_CLASS: 2, COLLEAGUE: 3}
    assert met(classes) == {CLASSMATE, TEACHER, COLLEAGUE}


def test_without_class_data_the_building_counts() -> None:
    assert met({}) == {CLASSMATE, OTHER_CLASS, TEACHER, COLLEAGUE}
