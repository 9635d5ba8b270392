"""Tracing one case or a batch: close contacts from co-presence in the case's window,
secondary contacts from each close contact's own window, companions from phone cells."""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow as pa

from cordon.protocols.packs import ContactRule, Pack
from cordon.trace.backend import MovementStore
from cordon.trace.rules import (
    DAY,
    KIND_ORDER,
    Contact,
    Exposure,
    IndexCase,
    look_back_window,
    merge,
)


def _as_sources(stays: pa.Table) -> pa.Table:
    return pa.table(
        {
            "source_id": stays.column("person_id"),
            "place_id": stays.column("place_id"),
            "start": stays.column("start"),
            "end": stays.column("end"),
            "setting": stays.column("setting"),
        }
    )


def _minimums(rule: ContactRule) -> dict[str, int]:
    return {s: rule.min_overlap_minutes[s] for s in rule.settings}


def _meeting(overlaps: pa.Table, rule: ContactRule, classes: np.ndarray) -> np.ndarray:
    """Rows whose overlap meets the rule's minimum for their setting (0 means any overlap).

    At school the setting is the classroom (E8: the same class), not the building: two pupils
    of different classes are not close contacts by being at the same school. Staff (no class)
    still meet everyone there."""
    settings = overlaps.column("setting").combine_chunks().dictionary_encode()
    minutes = (overlaps.column("end").to_numpy() - overlaps.column("start").to_numpy()) / 60
    names = settings.dictionary.to_pylist()
    by_setting = [rule.min_overlap_minutes.get(s, np.inf) for s in names]
    codes = settings.indices.to_numpy()
    need = np.array(by_setting, dtype=float)[codes]
    meets = (minutes > 0) & (minutes >= need)
    if CLASS_SETTING in names and classes.size:
        in_class = codes == names.index(CLASS_SETTING)
        mine = _class_of(classes, overlaps.column("person_id").to_numpy())
        theirs = _class_of(classes, overlaps.column("source_id").to_numpy())
        meets &= ~(in_class & (mine >= 0) & (theirs >= 0) & (mine != theirs))
    return meets


def _class_of(classes: np.ndarray, people: np.ndarray) -> np.ndarray:
    inside = (people >= 0) & (people < classes.size)
    return np.where(inside, classes[np.clip(people, 0, max(classes.size - 1, 0))], -1)


def _exposures(
    overlaps: pa.Table, keep: np.ndarray, *, kind: str, case_of: dict[int, int], rule: ContactRule
) -> list[Exposure]:
    kept = overlaps.filter(pa.array(keep))
    # Column by column: a crowded place gives tens of thousands of rows, and building a dict
    # per row (Table.to_pylist) costs several times more than zipping the columns.
    people, sources, places, settings, starts, ends = (
        kept.column(name).to_pylist()
        for name in ("person_id", "source_id", "place_id", "setting", "start", "end")
    )
    rules = {s: f"{kind}: {s} >= {m} min" for s, m in rule.min_overlap_minutes.items()}
    return [
        Exposure(
            contact_id=person,
            kind=kind,
            index_id=source,
            case_id=case_of[source],
            place_id=place,
            cell_id=None,
            setting=setting,
            start=start,
            end=end,
            rule=rules[setting],
        )
        for person, source, place, setting, start, end in zip(
            people, sources, places, settings, starts, ends, strict=True
        )
    ]


KINDS = frozenset(KIND_ORDER)
# Evidence kept per close contact when tracing a batch of cases (one case: the store's own few).
EVIDENCE_PER_CONTACT = 5
CLASS_SETTING = "class"


@contextmanager
def _bulk() -> Iterator[None]:
    """No garbage collection while a trace builds its objects: a surge makes hundreds of
    thousands of exposures (none in a reference cycle), and each batch of new objects would
    otherwise set off collections that walk every object alive, over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def trace(
    cases: list[IndexCase],
    pack: Pack,
    store: MovementStore,
    *,
    until: int | None = None,
    kinds: Collection[str] = KINDS,
) -> list[Contact]:
    """Contacts of these cases under ``pack``. ``until`` is when close contacts are taken as
    isolated (default: the latest case isolation), closing their secondary-contact window.
    ``kinds`` narrows the search (e.g. close contacts only, for a first list in a surge); the
    contacts found are the same as a full trace would find of those kinds."""
    with _bulk():
        return _trace(cases, pack, store, until=until, kinds=kinds)


def _trace(
    cases: list[IndexCase],
    pack: Pack,
    store: MovementStore,
    *,
    until: int | None,
    kinds: Collection[str],
) -> list[Contact]:
    windows = [
        look_back_window(
            case,
            days_before_onset=pack.look_back.days_before_onset,
            days_before_sampling=pack.look_back.days_before_sampling,
        )
        for case in cases
    ]
    exposures: list[Exposure] = []
    met: dict[int, set[int]] = {}  # close contact -> every case met, beyond the evidence
    if "close" in kinds or "secondary" in kinds:
        exposures, met = _close(cases, windows, pack.close_contact, store)
    if "companion" in kinds:
        for case, (start, end) in zip(cases, windows, strict=True):
            exposures += _companions(case, start, end, pack, store)
    # close contact -> (first exposure, case); on a tie the case listed first.
    rank = {c.person_id: i for i, c in reversed(list(enumerate(cases)))}
    first: dict[int, tuple[int, int, int]] = {}
    for e in exposures:
        if e.kind == "close":
            seen = (e.start, rank[e.case_id], e.case_id)
            if e.contact_id not in first or seen < first[e.contact_id]:
                first[e.contact_id] = seen
    close_first = {p: (start, case) for p, (start, _rank, case) in first.items()}
    if "secondary" in kinds and pack.secondary_contact is not None and close_first:
        closing = until if until is not None else max(c.isolated for c in cases)
        exposures += _secondary(close_first, closing, pack.secondary_contact, store)
    if "close" not in kinds:
        exposures, met = [e for e in exposures if e.kind != "close"], {}
    contacts = merge(exposures, exclude={c.person_id for c in cases})
    for contact in contacts:
        contact.case_ids |= met.get(contact.person_id, set())
    return contacts


def _close(
    cases: list[IndexCase], windows: list[tuple[int, int]], rule: ContactRule, store: MovementStore
) -> tuple[list[Exposure], dict[int, set[int]]]:
    """Close contacts of all cases in one question to the store: each case's own stays in its
    window become the sources. One case keeps the store's earliest few overlaps per contact as
    evidence. A batch asks for each contact's earliest overlap with each case, keeps the
    earliest few of those as evidence and returns the other cases each contact met (for
    ``case_ids``): kind, first exposure and cases are what tracing each case alone gives, with
    less evidence (a thousand cases at a market are millions of contact-case pairs)."""
    people = [c.person_id for c in cases]
    if len(set(people)) < len(people):
        # The same person twice (two windows): each window on its own, as separate cases.
        found: list[Exposure] = []
        for case, window in zip(cases, windows, strict=True):
            found += _close([case], [window], rule, store)[0]
        return found, {}
    start = min(w[0] for w in windows)
    end = max(w[1] for w in windows)
    own = store.stays_of(people, start, end)
    opens = dict(zip(people, (w[0] for w in windows), strict=True))
    closes = dict(zip(people, (w[1] for w in windows), strict=True))
    person = own.column("person_id").to_numpy()
    own = _clip(
        own,
        np.array([opens[int(p)] for p in person], dtype=np.int64),
        np.array([closes[int(p)] for p in person], dtype=np.int64),
    )
    case_of = {p: p for p in people}
    if len(cases) == 1:
        overlaps = store.co_present(_as_sources(own), _minimums(rule))
        alone = _exposures(
            overlaps,
            _meeting(overlaps, rule, store.class_ids()),
            kind="close",
            case_of=case_of,
            rule=rule,
        )
        return alone, {}
    overlaps = store.co_present(_as_sources(own), _minimums(rule), first_per_source=True)
    overlaps = overlaps.filter(pa.array(_meeting(overlaps, rule, store.class_ids())))
    contact = overlaps.column("person_id").to_numpy()
    source = overlaps.column("source_id").to_numpy()
    order_of_case = np.argsort(np.asarray(people))
    rank = order_of_case[np.searchsorted(np.asarray(people)[order_of_case], source)]
    order = np.lexsort((rank, overlaps.column("start").to_numpy(), contact))
    contact, source = contact[order], source[order]
    first = np.r_[True, contact[1:] != contact[:-1]] if contact.size else np.zeros(0, bool)
    index = np.arange(contact.size)
    position = index - np.maximum.accumulate(np.where(first, index, 0))
    keep = order[position < EVIDENCE_PER_CONTACT]
    shown = overlaps.take(pa.array(keep))
    found = _exposures(shown, np.ones(len(keep), bool), kind="close", case_of=case_of, rule=rule)
    more: dict[int, set[int]] = {}
    crowded = np.unique(contact[position >= EVIDENCE_PER_CONTACT])
    if crowded.size:
        mask = np.isin(contact, crowded)
        groups = np.split(source[mask], np.flatnonzero(first[mask])[1:])
        for who, met in zip(contact[mask][first[mask]], groups, strict=True):
            more[int(who)] = set(met.tolist())
    return found, more


def _clip(stays: pa.Table, start: np.ndarray | int, end: np.ndarray | int) -> pa.Table:
    if stays.num_rows == 0:
        return stays
    starts = np.maximum(stays.column("start").to_numpy(), start)
    ends = np.minimum(stays.column("end").to_numpy(), end)
    keep = ends > starts
    clipped = stays.set_column(stays.schema.get_field_index("start"), "start", pa.array(starts))
    clipped = clipped.set_column(clipped.schema.get_field_index("end"), "end", pa.array(ends))
    return clipped.filter(pa.array(keep))


def _secondary(
    close_first: dict[int, tuple[int, int]], until: int, rule: ContactRule, store: MovementStore
) -> list[Exposure]:
    """Everyone who shared a secondary setting with a close contact between that contact's
    first exposure and ``until`` (when the close contact is isolated)."""
    ids = sorted(close_first)
    earliest = min(first for first, _case in close_first.values())
    if until <= earliest:
        return []
    stays = store.stays_of(ids, earliest, until)
    if stays.num_rows == 0:
        return []
    person = stays.column("person_id").to_numpy()
    opens = np.array([close_first[int(p)][0] for p in person])
    starts = np.maximum(stays.column("start").to_numpy(), opens)
    ends = np.minimum(stays.column("end").to_numpy(), until)
    windowed = _as_sources(stays)
    windowed = windowed.set_column(2, "start", pa.array(starts)).set_column(
        3, "end", pa.array(ends)
    )
    windowed = windowed.filter(pa.array(ends > starts))
    overlaps = store.co_present(windowed, _minimums(rule))
    return _exposures(
        overlaps,
        _meeting(overlaps, rule, store.class_ids()),
        kind="secondary",
        case_of={cid: case for cid, (_first, case) in close_first.items()},
        rule=rule,
    )


def _not_residents(
    kept: pa.Table, case: IndexCase, end: int, hours: float, days: int, store: MovementStore
) -> pa.Table:
    """Drop companions in a cell where either phone spent more than ``hours`` in the ``days``
    before the case's window closes: people who live or work there, not passers-by."""
    cells = kept.column("cell_id").to_numpy()
    people = kept.column("person_id").to_numpy()
    pairs = pa.table(
        {
            "person_id": pa.array(np.r_[people, np.full(np.unique(cells).size, case.person_id)]),
            "cell_id": pa.array(np.r_[cells, np.unique(cells)]),
        }
    )
    spent = store.hours_in_cells(pairs, end - days * DAY, end).to_pydict()
    resident = {
        (int(p), int(c))
        for p, c, h in zip(spent["person_id"], spent["cell_id"], spent["hours"], strict=True)
        if h > hours
    }
    keep = [
        (int(p), int(c)) not in resident and (case.person_id, int(c)) not in resident
        for p, c in zip(people, cells, strict=True)
    ]
    return kept.filter(pa.array(keep, pa.bool_()))


def _companions(
    case: IndexCase, start: int, end: int, pack: Pack, store: MovementStore
) -> list[Exposure]:
    overlaps = store.co_cell([case.person_id], start, end)
    if overlaps.num_rows == 0:
        return []
    minutes = (overlaps.column("end").to_numpy() - overlaps.column("start").to_numpy()) / 60
    kept = overlaps.filter(pa.array(minutes > pack.companion.min_minutes))
    rule = f"companion: same {pack.companion.cell_metres} m cell > {pack.companion.min_minutes} min"
    residency = pack.companion.residency_filter
    if residency is not None and kept.num_rows:
        kept = _not_residents(kept, case, end, residency.min_hours, residency.within_days, store)
        rule += f", neither phone > {residency.min_hours:g} h there in {residency.within_days} d"
    people, cells, starts, ends = (
        kept.column(name).to_pylist() for name in ("person_id", "cell_id", "start", "end")
    )
    return [
        Exposure(
            contact_id=person,
            kind="companion",
            index_id=case.person_id,
            case_id=case.person_id,
            place_id=None,
            cell_id=cell,
            setting="cell",
            start=start,
            end=end,
            rule=rule,
        )
        for person, cell, start, end in zip(people, cells, starts, ends, strict=True)
    ]
