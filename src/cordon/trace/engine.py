"""Tracing one case or a batch: close contacts from co-presence in the case's window,
secondary contacts from each close contact's own window, companions from phone cells."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cordon.protocols.packs import ContactRule, Pack
from cordon.trace.backend import MovementStore
from cordon.trace.rules import Contact, Exposure, IndexCase, look_back_window, merge


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


def _meeting(overlaps: pa.Table, rule: ContactRule) -> np.ndarray:
    """Rows whose overlap meets the rule's minimum for their setting (0 means any overlap)."""
    settings = overlaps.column("setting").to_numpy(zero_copy_only=False)
    minutes = (overlaps.column("end").to_numpy() - overlaps.column("start").to_numpy()) / 60
    need = np.array([rule.min_overlap_minutes.get(s, np.inf) for s in settings], dtype=float)
    return (minutes > 0) & (minutes >= need)


def _exposures(
    overlaps: pa.Table, keep: np.ndarray, *, kind: str, case_of: dict[int, int], rule: ContactRule
) -> list[Exposure]:
    rows = overlaps.filter(pa.array(keep)).to_pylist()
    return [
        Exposure(
            contact_id=row["person_id"],
            kind=kind,
            index_id=row["source_id"],
            case_id=case_of[row["source_id"]],
            place_id=row["place_id"],
            cell_id=None,
            setting=row["setting"],
            start=row["start"],
            end=row["end"],
            rule=f"{kind}: {row['setting']} >= {rule.min_overlap_minutes[row['setting']]} min",
        )
        for row in rows
    ]


def trace(
    cases: list[IndexCase], pack: Pack, store: MovementStore, *, until: int | None = None
) -> list[Contact]:
    """Contacts of these cases under ``pack``. ``until`` is when close contacts are taken as
    isolated (default: the latest case isolation), closing their secondary-contact window."""
    exposures: list[Exposure] = []
    close_first: dict[int, tuple[int, int]] = {}  # close contact -> (first exposure, case)
    for case in cases:
        start, end = look_back_window(
            case,
            days_before_onset=pack.look_back.days_before_onset,
            days_before_sampling=pack.look_back.days_before_sampling,
        )
        own = store.stays_of([case.person_id], start, end)
        own = _clip(own, start, end)
        overlaps = store.co_present(_as_sources(own), _minimums(pack.close_contact))
        found = _exposures(
            overlaps,
            _meeting(overlaps, pack.close_contact),
            kind="close",
            case_of={case.person_id: case.person_id},
            rule=pack.close_contact,
        )
        exposures += found
        for e in found:
            known = close_first.get(e.contact_id)
            if known is None or e.start < known[0]:
                close_first[e.contact_id] = (e.start, case.person_id)
        exposures += _companions(case, start, end, pack, store)
    if pack.secondary_contact is not None and close_first:
        closing = until if until is not None else max(c.isolated for c in cases)
        exposures += _secondary(close_first, closing, pack.secondary_contact, store)
    return merge(exposures, exclude={c.person_id for c in cases})


def _clip(stays: pa.Table, start: int, end: int) -> pa.Table:
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
        _meeting(overlaps, rule),
        kind="secondary",
        case_of={cid: case for cid, (_first, case) in close_first.items()},
        rule=rule,
    )


def _companions(
    case: IndexCase, start: int, end: int, pack: Pack, store: MovementStore
) -> list[Exposure]:
    overlaps = store.co_cell([case.person_id], start, end)
    if overlaps.num_rows == 0:
        return []
    minutes = (overlaps.column("end").to_numpy() - overlaps.column("start").to_numpy()) / 60
    rows = overlaps.filter(pa.array(minutes > pack.companion.min_minutes)).to_pylist()
    return [
        Exposure(
            contact_id=row["person_id"],
            kind="companion",
            index_id=case.person_id,
            case_id=case.person_id,
            place_id=None,
            cell_id=row["cell_id"],
            setting="cell",
            start=row["start"],
            end=row["end"],
            rule=f"companion: same {pack.companion.cell_metres} m cell > "
            f"{pack.companion.min_minutes} min",
        )
        for row in rows
    ]
