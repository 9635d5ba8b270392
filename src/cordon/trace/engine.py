"""Tracing one case or a batch: close contacts from co-presence in the case's window,
secondary contacts from each close contact's own window, companions from phone cells.

Evidence stays in Arrow tables from the store to the merged contacts (``evidence.py``): a case
in a dense city has hundreds of thousands of companions."""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cordon.protocols.packs import CompanionRule, ContactRule, Pack
from cordon.trace import evidence, score
from cordon.trace.backend import MovementStore, Residency
from cordon.trace.evidence import Traced
from cordon.trace.rules import KIND_ORDER, Contact, IndexCase, look_back_window


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


def _within(rule: ContactRule) -> dict[str, str]:
    return {s: rule.within[s] for s in rule.settings}


def _rules(kind: str, rule: ContactRule) -> dict[str, str]:
    """What matched, per setting, as evidence says it (``web.messages.rule_text`` words it)."""
    minimum, within = rule.min_overlap_minutes, rule.within
    return {s: f"{kind}: {s}, same {within[s]} >= {minimum[s]} min" for s in rule.settings}


def _companion_rule(rule: CompanionRule) -> str:
    said = f"companion: same {rule.cell_metres} m cell > {rule.min_minutes} min"
    residency = rule.residency_filter
    if residency is not None:
        said += f", neither phone > {residency.min_hours:g} h there in {residency.within_days} d"
    return said


def _residency(rule: CompanionRule) -> Residency | None:
    found = rule.residency_filter
    return None if found is None else Residency(found.min_hours, found.within_days)


KINDS = frozenset(KIND_ORDER)
# Evidence kept per close contact when tracing a batch of cases (one case: the store's own few).
EVIDENCE_PER_CONTACT = 5


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
    """Contacts of these cases under ``pack``, as objects (see ``trace_columns``)."""
    found = trace_columns(cases, pack, store, until=until, kinds=kinds)
    with _bulk():
        return found.to_contacts()


def trace_columns(
    cases: list[IndexCase],
    pack: Pack,
    store: MovementStore,
    *,
    until: int | None = None,
    kinds: Collection[str] = KINDS,
) -> Traced:
    """Contacts of these cases under ``pack``. ``until`` is when close contacts are taken as
    isolated (default: the latest case isolation), closing their secondary-contact window.
    ``kinds`` narrows the search (e.g. close contacts only, for a first list in a surge); the
    contacts found are the same as a full trace would find of those kinds."""
    windows = [
        look_back_window(
            case,
            days_before_onset=pack.look_back.days_before_onset,
            days_before_sampling=pack.look_back.days_before_sampling,
        )
        for case in cases
    ]
    # Companions (phone cells) and close contacts (places) read different files: on two cores
    # they are found at the same time (numpy and the compiled loops release the GIL). A batch's
    # companions are the bulk of the work: its cases are split in parts, which this thread
    # helps with once its own work is done.
    helper = ThreadPoolExecutor(max_workers=1) if "companion" in kinds else None
    try:
        companions = (
            _Shared(helper, _companion_jobs(cases, windows, pack, store)) if helper else None
        )
        close, met = evidence.empty(), evidence.no_met()
        if "close" in kinds or "secondary" in kinds:
            close, met = _close(cases, windows, pack.close_contact, store)
        secondary, secondary_met = evidence.empty(), evidence.no_met()
        if "secondary" in kinds and pack.secondary_contact is not None and close.num_rows:
            closing = until if until is not None else max(c.isolated for c in cases)
            sources = _close_traced_further(close, met, cases, pack)
            if sources.num_rows:
                first, case_of_first = _first_exposures(sources, cases)
                secondary, secondary_met = _secondary(
                    first, case_of_first, closing, pack.secondary_contact, store
                )
        if "close" not in kinds:
            close, met = evidence.empty(), evidence.no_met()
        found, also = [close, secondary], [met, secondary_met]
        if companions is not None:
            companion, companion_met = _companions_found(cases, pack, companions.results())
            found.insert(1, companion)  # close, companions, secondary: the order ties keep
            also.append(companion_met)
    finally:
        if helper is not None:
            helper.shutdown()
    merged, met = pa.concat_tables(found), pa.concat_tables(also)
    return evidence.merge(merged, met, exclude={c.person_id for c in cases})


def _close_traced_further(
    close: pa.Table, met: pa.Table, cases: list[IndexCase], pack: Pack
) -> pa.Table:
    """The close contacts' evidence whose secondary contacts are traced: of every close contact,
    or where the pack says so only of those whose exposures at places score at least its
    ``secondary_from_score`` (a household member, not a passer-by at a market stall: each
    close contact brings their household and their team, and a list of half the city protects
    no one). The score reads evidence and pack only (``score.py``)."""
    floor = pack.secondary_from_score
    if floor is None or close.num_rows == 0:
        return close
    found = evidence.merge(close, met, exclude={c.person_id for c in cases})
    scored = score.score_traced(found, pack, score.onsets_of(cases))
    chosen = found.contacts.column("person_id").to_numpy()[scored.score >= floor]
    return close.filter(pc.is_in(close.column("contact_id"), value_set=pa.array(chosen)))


def _first_exposures(close: pa.Table, cases: list[IndexCase]) -> tuple[pa.Table, np.ndarray]:
    """Each close contact's first exposure (contact_id sorted, start) and its case: on a tie,
    the case listed first."""
    rank_of = {c.person_id: i for i, c in reversed(list(enumerate(cases)))}
    case = close.column("case_id").to_numpy()
    ids = np.fromiter(rank_of, np.int64, len(rank_of))
    ranks = np.fromiter(rank_of.values(), np.int64, len(rank_of))
    order_ids = np.argsort(ids)
    rank = ranks[order_ids][np.searchsorted(ids[order_ids], case)]
    contact = close.column("contact_id").to_numpy()
    start = close.column("start").to_numpy()
    order = np.lexsort((case, rank, start, contact))
    head = order[evidence.first_in_group(contact[order])]
    first = pa.table({"contact_id": pa.array(contact[head]), "start": pa.array(start[head])})
    return first, case[head]


def _close(
    cases: list[IndexCase], windows: list[tuple[int, int]], rule: ContactRule, store: MovementStore
) -> tuple[pa.Table, pa.Table]:
    """Close contacts of all cases: each case's own stays in its window become the sources.
    The evidence is the store's earliest few overlaps per contact (with any of the cases, for a
    batch: what the exposure score adds up); a batch also asks for each contact's earliest
    overlap with each case, to return every (contact, case) met (a thousand cases at a market
    are millions of contact-case pairs): kind, first exposure and cases are what tracing each
    case alone gives."""
    people = [c.person_id for c in cases]
    if len(set(people)) < len(people):
        # The same person twice (two windows): each window on its own, as separate cases.
        parts = [_close([c], [w], rule, store)[0] for c, w in zip(cases, windows, strict=True)]
        return pa.concat_tables(parts), evidence.no_met()
    start = min(w[0] for w in windows)
    end = max(w[1] for w in windows)
    own = store.stays_of(people, start, end)
    case = _place_in(people, own.column("person_id").to_numpy())
    bounds = np.asarray(windows, np.int64)
    own = _clip(own, bounds[case, 0], bounds[case, 1])
    rules = _rules("close", rule)
    if len(cases) == 1:
        overlaps = store.co_present(_as_sources(own), _minimums(rule), within=_within(rule))
        source = overlaps.column("source_id").to_numpy()
        return evidence.of_overlaps(
            overlaps, kind="close", case_id=source, rules=rules
        ), evidence.no_met()
    # Evidence as one case gets it (each person's earliest overlaps with any of the cases: what
    # the exposure score adds up), and every (contact, case) met from each pair's first overlap.
    shown = store.co_present(_as_sources(own), _minimums(rule), within=_within(rule))
    found = evidence.of_overlaps(
        shown, kind="close", case_id=shown.column("source_id").to_numpy(), rules=rules
    )
    firsts = store.co_present(
        _as_sources(own), _minimums(rule), within=_within(rule), first_per_source=True
    )
    met = evidence.met(firsts.column("person_id").to_numpy(), firsts.column("source_id").to_numpy())
    return found, met


def _earliest_with_each(
    overlaps: pa.Table, rank: np.ndarray, case_id: np.ndarray, kind: str, rules: dict[str, str]
) -> tuple[pa.Table, pa.Table]:
    """A batch's evidence from each person's earliest overlap with each source: the earliest
    few per person (ties by the source's ``rank``), and every (contact, case) met."""
    contact = overlaps.column("person_id").to_numpy()
    start = overlaps.column("start").to_numpy()
    keep = evidence.earliest_few(contact, start, rank, EVIDENCE_PER_CONTACT)
    shown = overlaps.take(pa.array(keep))
    found = evidence.of_overlaps(shown, kind=kind, case_id=case_id[keep], rules=rules)
    return found, evidence.met(contact, case_id)


def _place_in(people: list[int], ids: np.ndarray) -> np.ndarray:
    """Each id's place in ``people`` (distinct; every id is one of them)."""
    listed = np.asarray(people, np.int64)
    by_id = np.argsort(listed)
    return by_id[np.searchsorted(listed[by_id], ids)]


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
    first: pa.Table, case_of_first: np.ndarray, until: int, rule: ContactRule, store: MovementStore
) -> tuple[pa.Table, pa.Table]:
    """Everyone who shared a secondary setting with a close contact between that contact's
    first exposure and ``until`` (when the close contact is isolated). ``first``: each close
    contact (sorted) and its first exposure; ``case_of_first``: its case. As for a batch's
    close contacts: each one's earliest overlap with each close contact met, the earliest few
    of those as evidence, and every (contact, case) met."""
    ids = first.column("contact_id").to_numpy()
    opens_of = first.column("start").to_numpy()
    earliest = int(opens_of.min())
    if until <= earliest:
        return evidence.empty(), evidence.no_met()
    stays = store.stays_of(ids.tolist(), earliest, until)
    if stays.num_rows == 0:
        return evidence.empty(), evidence.no_met()
    person = stays.column("person_id").to_numpy()
    opens = opens_of[np.searchsorted(ids, person)]
    windowed = _clip(_as_sources(stays), opens, until)
    overlaps = store.co_present(
        windowed, _minimums(rule), within=_within(rule), first_per_source=True
    )
    close = np.searchsorted(ids, overlaps.column("source_id").to_numpy())
    rules = _rules("secondary", rule)
    return _earliest_with_each(overlaps, close, case_of_first[close], "secondary", rules)


def _earliest_per_person(table: pa.Table, count: int, rank: np.ndarray) -> pa.Table:
    """Each person's ``count`` earliest rows; ties by ``rank`` (so that the answer does not
    depend on the order the store returned rows in)."""
    person = table.column("person_id").to_numpy()
    start = table.column("start").to_numpy()
    return table.take(pa.array(evidence.earliest_few(person, start, rank, count)))


def _windows(people: list[int], windows: list[tuple[int, int]]) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array(people, pa.int64()),
            "start": pa.array([w[0] for w in windows], pa.int64()),
            "end": pa.array([w[1] for w in windows], pa.int64()),
        }
    )


class _Shared:
    """Jobs a helper thread works through from the first while this thread does other work;
    then this thread takes over the jobs not yet started, from the last."""

    def __init__(self, helper: ThreadPoolExecutor, jobs: list[Callable[[], pa.Table]]) -> None:
        self.jobs = jobs
        self.futures = [helper.submit(job) for job in jobs]

    def results(self) -> list[pa.Table]:
        done: dict[int, pa.Table] = {}
        for at in reversed(range(len(self.jobs))):
            if not self.futures[at].cancel():
                break  # started: so are all before it
            done[at] = self.jobs[at]()
        return [done[at] if at in done else f.result() for at, f in enumerate(self.futures)]


COMPANION_PARTS = 4  # a batch's cases, for companions, in this many parts


def _shared_batch(cases: list[IndexCase]) -> bool:
    """Whether a batch's companions are found together (else case by case: a person listed
    twice is two windows)."""
    return len(cases) > 1 and len({c.person_id for c in cases}) == len(cases)


def _companion_jobs(
    cases: list[IndexCase], windows: list[tuple[int, int]], pack: Pack, store: MovementStore
) -> list[Callable[[], pa.Table]]:
    """A batch: each part's (person, case) earliest overlaps (parts never share a case, so
    their answers add up). One case, or a batch asked case by case: one job of evidence."""
    if not _shared_batch(cases):
        return [partial(_companions, cases, windows, pack, store)]
    rule = pack.companion
    people = [c.person_id for c in cases]
    size = -(-len(cases) // COMPANION_PARTS)
    return [
        partial(
            store.co_cell,
            _windows(people[at : at + size], windows[at : at + size]),
            longer_than_minutes=rule.min_minutes,
            earliest_per="source",
            residency=_residency(rule),
        )
        for at in range(0, len(cases), size)
    ]


def _companions_found(
    cases: list[IndexCase], pack: Pack, answers: list[pa.Table]
) -> tuple[pa.Table, pa.Table]:
    """Companion evidence and the (contact, case) pairs met beyond it, from the jobs' answers:
    a batch's earliest overlaps with each case, of which each person's earliest few are kept
    as evidence."""
    if not _shared_batch(cases):
        return pa.concat_tables(answers), evidence.no_met()  # evidence already (_companions)
    firsts = pa.concat_tables(answers).combine_chunks()
    source = firsts.column("source_id").to_numpy()
    case = _place_in([c.person_id for c in cases], source)
    kept = _earliest_per_person(firsts, EVIDENCE_PER_CONTACT, case)
    met = evidence.met(firsts.column("person_id").to_numpy(), source)
    said = _companion_rule(pack.companion)
    return evidence.of_cells(kept, case_id=kept.column("source_id").to_numpy(), rule=said), met


def _companions(
    cases: list[IndexCase], windows: list[tuple[int, int]], pack: Pack, store: MovementStore
) -> pa.Table:
    """Companion evidence of one case (its earliest few overlaps, the residency filter
    applied in the store), or of a batch case by case."""
    if len(cases) > 1:
        parts = [_companions([c], [w], pack, store) for c, w in zip(cases, windows, strict=True)]
        return pa.concat_tables(parts)
    rule = pack.companion
    kept = store.co_cell(
        _windows([cases[0].person_id], windows),
        longer_than_minutes=rule.min_minutes,
        earliest_per="person",
        residency=_residency(rule),
    )
    case_id = np.full(kept.num_rows, cases[0].person_id, np.int64)
    return evidence.of_cells(kept, case_id=case_id, rule=_companion_rule(rule))
