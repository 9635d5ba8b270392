"""Pure tracing rules: windows, thresholds and how exposures become one list of contacts.

Times are epoch seconds (UTC). An exposure is one piece of evidence: two people at the same
place (or phones in the same cell) over an overlap; a contact is a person with all their
exposures, classified by the strongest rule they meet (close > secondary > companion), with the
earliest exposure of that kind deciding its time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter

DAY = 86_400
KIND_ORDER = {"close": 0, "secondary": 1, "companion": 2}


@dataclass(frozen=True)
class IndexCase:
    person_id: int
    onset: int | None  # epoch seconds of symptom onset
    sampled: int | None  # epoch seconds of the positive sample (asymptomatic cases)
    isolated: int  # when the case stopped exposing others (or "now" if still at large)


class NoStartOfWindow(ValueError):
    """A case with neither onset nor sampling time cannot be traced."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params)
        self.template = message  # a catalog key, filled with params
        self.params = params


def look_back_window(
    case: IndexCase, *, days_before_onset: int, days_before_sampling: int
) -> tuple[int, int]:
    """[start, end) of the case's infectious window under the pack in force: from the look-back
    before onset, or before the positive sample when that comes first (a case found before
    symptoms, or without any)."""
    starts = []
    if case.onset is not None:
        starts.append(case.onset - days_before_onset * DAY)
    if case.sampled is not None:
        starts.append(case.sampled - days_before_sampling * DAY)
    if not starts:
        raise NoStartOfWindow(
            "case %(case)s has neither onset nor sampling time", case=case.person_id
        )
    start = min(starts)
    if case.isolated <= start:
        raise NoStartOfWindow(
            "case %(case)s was isolated before its window opens", case=case.person_id
        )
    return start, case.isolated


@dataclass(frozen=True)
class Exposure:
    contact_id: int
    kind: str  # close | secondary | companion
    index_id: int  # the case (for close, companion) or the close contact (for secondary)
    case_id: int  # the case the chain starts from
    place_id: int | None  # None for companions (a cell, not a place)
    cell_id: int | None
    setting: str
    start: int
    end: int
    rule: str  # what matched, e.g. "close: work >= 15 min"

    @property
    def overlap_minutes(self) -> float:
        return (self.end - self.start) / 60


@dataclass
class Contact:
    person_id: int
    kind: str
    first_exposure: int
    case_ids: set[int] = field(default_factory=set)
    evidence: list[Exposure] = field(default_factory=list)


def merge(exposures: list[Exposure], *, exclude: set[int]) -> list[Contact]:
    """One contact per person: the strongest kind wins, then the earliest exposure of that kind;
    every exposure is kept as evidence. Cases themselves (``exclude``) are not contacts."""
    # One sort by (person, kind, start) puts each person's evidence in order, strongest kind
    # and earliest exposure first: a single pass then builds the contacts (a surge lists
    # hundreds of thousands of exposures, so no per-person min/sort).
    ordered = sorted(
        (e for e in exposures if e.contact_id not in exclude),
        key=lambda e: (e.contact_id, KIND_ORDER[e.kind], e.start),
    )
    contacts = []
    for person_id, group in groupby(ordered, key=attrgetter("contact_id")):
        evidence = list(group)
        head = evidence[0]
        cases = {e.case_id for e in evidence}
        contacts.append(Contact(person_id, head.kind, head.start, cases, evidence))
    contacts.sort(key=lambda c: (KIND_ORDER[c.kind], c.first_exposure, c.person_id))
    return contacts
