"""The batch evaluator: every person's rule states at once, vectorised over the facts table.

It gives exactly the states ``rules.evaluate.match_states`` gives person by person (a property
test holds it to that), and shares ``assemble`` for the words. DuckDB reads the Arrow facts
table once, matching each rule's conditions on the JSON attributes in parallel; the phase walk
is numpy over sorted (person, time) keys: "the first fact of a kind at or after t" and "how many
negative tests since t" are binary searches, so the cost grows with facts, not people squared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from cordon.codes.rules.evaluate import Decision, MatchState, assemble, seconds
from cordon.codes.rules.model import DAY, Pack, Phase, Rule, Where

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
LOW = np.int64(0xFFFFFFFF)
NONE = np.int64(-1)  # no end yet: the phase ends on a fact not yet on record
COLOUR_CODES = {"green": 0, "yellow": 1, "red": 2}
COLOUR_NAMES = ("green", "yellow", "red")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _condition(kind: str, where: Where, slot: dict[str, int]) -> str:
    parts = [f"kind = {_lit(kind)}"]
    for name, allowed in where:
        value = f"v[{slot[name]}]"
        values = [v for v in allowed if v is not None]
        either = [f"{value} IN ({', '.join(_lit(v) for v in values)})"] if values else []
        if None in allowed:  # the attribute may be absent (as the pure evaluator reads None)
            either.append(f"{value} IS NULL")
        parts.append("(" + " OR ".join(either) + ")")
    return "(" + " AND ".join(parts) + ")"


@dataclass
class _Columns:
    person: Ints
    t: Ints
    flags: dict[str, Bools]
    values: dict[str, Ints]  # per attribute shared with an anchor: a code per value, -1: none


def _columns(table: pa.Table, now: int, pack: Pack) -> _Columns:
    """Person, time (whole seconds) and one flag per condition, for facts dated up to now.

    Each fact's JSON is parsed once for all the attributes the pack names (a list of paths),
    then every rule's condition is a comparison on that list."""
    names = sorted({n for used in pack.attributes_used().values() for n in used})
    slot = {name: i + 1 for i, name in enumerate(names)}  # DuckDB lists count from 1
    flags = {"negative": f"(kind = 'test' AND v[{slot['result']}] = 'negative')"}
    same: set[str] = set()
    for i, rule in enumerate(pack.rules):
        flags[f"r{i}"] = _condition(rule.fact, rule.where, slot)
        for j, phase in enumerate(rule.phases):
            if phase.until is not None:
                flags[f"u{i}_{j}"] = _condition(phase.until.fact, phase.until.where, slot)
                same.update(phase.until.same)
    if len(flags) > 62:
        raise ValueError("a pack may hold at most 62 conditions")  # one bit each in a BIGINT
    # All conditions as bits of one integer: one column to move out of DuckDB, not dozens.
    bits = " + ".join(
        f"(CASE WHEN {sql} THEN {1 << k} ELSE 0 END)" for k, sql in enumerate(flags.values())
    )
    selects = [f"({bits})::BIGINT AS flags"]
    selects += [f"v[{slot[name]}] AS v_{name}" for name in sorted(same)]
    # Names come from the validated facts catalogue (plain identifiers); values are quoted.
    paths = ", ".join(_lit("$." + name) for name in names)
    # Whole seconds, floored, as the pure evaluator counts them.
    seconds_sql = 'floor(epoch_us("at") / 1000000)::BIGINT'
    query = (
        f"SELECT person_id, t, {', '.join(selects)} FROM ("
        f"SELECT person_id, kind, {seconds_sql} AS t, json_extract_string(attrs, [{paths}]) AS v "
        f"FROM facts WHERE {seconds_sql} <= {int(now)} AND kind IN "
        f"({', '.join(_lit(k) for k in _kinds(pack))}))"
    )
    con = duckdb.connect()
    try:
        con.register("facts", table)
        result = con.sql(query).to_arrow_table()
    finally:
        con.close()
    mask = result.column("flags").to_numpy().astype(np.int64)
    return _Columns(
        person=result.column("person_id").to_numpy().astype(np.int64),
        t=result.column("t").to_numpy().astype(np.int64),
        flags={name: (mask & (1 << k)) != 0 for k, name in enumerate(flags)},
        values={name: _codes(result.column(f"v_{name}")) for name in same},
    )


def _codes(column: pa.ChunkedArray) -> Ints:
    """Equal texts get equal codes (Arrow's dictionary encoding, no Python objects); -1: null."""
    indices = pc.dictionary_encode(column).combine_chunks().indices
    return pc.fill_null(indices.cast(pa.int64()), -1).to_numpy()


def _kinds(pack: Pack) -> list[str]:
    return sorted(pack.attributes_used())


class _Index:
    """Facts of one kind as sorted keys (group << 32 | time) for binary searches."""

    def __init__(self, group: Ints, t: Ints) -> None:
        self.keys = np.sort((group << 32) | t)

    def first_after(self, group: Ints, lo: Ints) -> Ints:
        """The time of the group's first fact at or after lo, or NONE."""
        i = np.searchsorted(self.keys, (group << 32) | lo, side="left")
        found = i < len(self.keys)
        hit = self.keys[np.minimum(i, len(self.keys) - 1)] if len(self.keys) else np.zeros_like(i)
        found &= (hit >> 32) == group
        return np.where(found, hit & LOW, NONE)

    def group_end(self, group: Ints) -> Ints:
        """Position after each group's last fact (for counting several windows per group)."""
        return np.searchsorted(self.keys, (group + 1) << 32, side="left").astype(np.int64)

    def count_since(self, group: Ints, lo: Ints, end: Ints) -> Ints:
        start = np.searchsorted(self.keys, (group << 32) | lo, side="left")
        return end - start


class _Pairs:
    """For two-negative phases: the earliest second test of a qualifying pair from t on."""

    def __init__(self, negatives: _Index, gap: int, window: int) -> None:
        keys = negatives.keys
        self.keys = keys
        group, t = keys >> 32, keys & LOW
        j = np.searchsorted(keys, (group << 32) | (t + gap), side="left")
        j_clipped = np.minimum(j, max(len(keys) - 1, 0))
        ok = (j < len(keys)) & ((keys[j_clipped] >> 32) == group)
        ok &= (keys[j_clipped] & LOW) <= t + window
        self.end = np.where(ok, keys[j_clipped] & LOW, NONE)
        # The earliest pair end from position i on is the first qualifying one (second tests
        # only move later as the first moves later), so keep the next qualifying index.
        index = np.where(ok, np.arange(len(keys)), len(keys))
        self.next = np.minimum.accumulate(index[::-1])[::-1] if len(keys) else index

    def end_from(self, group: Ints, lo: Ints) -> Ints:
        n = len(self.keys)
        if n == 0:
            return np.full(len(group), NONE)
        i = np.searchsorted(self.keys, (group << 32) | lo, side="left")
        k = np.where(i < n, self.next[np.minimum(i, n - 1)], n)
        kc = np.minimum(k, n - 1)
        valid = (k < n) & ((self.keys[kc] >> 32) == group)
        return np.where(valid, self.end[kc], NONE)


@dataclass
class States:
    """Every rule state at ``now`` as columns (one row per rule and anchoring fact)."""

    person: Ints
    rule: Ints
    anchor: Ints
    phase: Ints
    start: Ints
    end: Ints
    missing: Ints  # bit k: the phase's k-th required test day has no negative test yet

    def __len__(self) -> int:
        return len(self.person)


def _missing(phase: Phase, group: Ints, start: Ints, negatives: _Index) -> Ints:
    """Bit k set when required day k is not covered (see evaluate.missing_tests)."""
    used = np.zeros(len(group), dtype=np.int64)
    bits = np.zeros(len(group), dtype=np.int64)
    if not phase.tests:
        return bits
    end = negatives.group_end(group)
    for k in range(len(phase.tests) - 1, -1, -1):
        since = start + (phase.tests[k] - 1) * DAY
        covered = negatives.count_since(group, since, end) > used
        used += covered
        bits |= np.where(covered, 0, 1 << k)
    return bits


class _Context:
    def __init__(self, columns: _Columns, pack: Pack) -> None:
        self.columns = columns
        neg = columns.flags["negative"]
        self.negatives = _Index(columns.person[neg], columns.t[neg])
        self.pairs: dict[tuple[int, int], _Pairs] = {}

    def pairs_for(self, phase: Phase) -> _Pairs:
        key = (phase.min_hours_apart * 3600, phase.within_hours * 3600)
        if key not in self.pairs:
            self.pairs[key] = _Pairs(self.negatives, *key)
        return self.pairs[key]


def _same_groups(
    columns: _Columns, names: tuple[str, ...], anchor: Bools, target: Bools
) -> tuple[Ints, Ints]:
    """Group ids of (person, values of the shared attributes) for anchors and for targets.
    A fact lacking a value gets -1: such an anchor finds no target, such a target counts for
    no anchor (as in the pure evaluator)."""
    rows = anchor | target
    group = columns.person[rows].astype(np.int64)
    known = np.ones(len(group), dtype=bool)
    for name in names:
        code = columns.values[name][rows]
        known &= code >= 0
        # Person ids and value codes are below 2**31, so the pair fits one int64.
        _, group = np.unique((group << 31) | np.maximum(code, 0), return_inverse=True)
        group = group.astype(np.int64).reshape(-1)
    full = np.full(len(columns.person), -1, dtype=np.int64)
    full[rows] = np.where(known, group, -1)
    return full[anchor], full[target]


def _rule_states(index: int, rule: Rule, ctx: _Context, now: int) -> States:
    columns = ctx.columns
    anchor = columns.flags[f"r{index}"]
    person, at = columns.person[anchor], columns.t[anchor]
    n = len(person)
    start = at.copy()
    phase_of = np.full(n, -1, dtype=np.int64)
    state_start = np.zeros(n, dtype=np.int64)
    state_end = np.full(n, NONE, dtype=np.int64)
    missing = np.zeros(n, dtype=np.int64)
    walking = np.ones(n, dtype=bool)
    for j, phase in enumerate(rule.phases):
        if not walking.any():
            break
        if phase.kind == "days":
            end = start + phase.days * DAY
            bits = _missing(phase, person, start, ctx.negatives)
            holds = walking & ((now < end) | (bits != 0))
            ended = end
        else:
            if phase.kind == "until" and phase.until is not None:
                target = columns.flags[f"u{index}_{j}"]
                if phase.until.same:
                    groups, targets = _same_groups(columns, phase.until.same, anchor, target)
                    usable = targets >= 0
                    found = _Index(targets[usable], columns.t[target][usable])
                    ended = found.first_after(groups, start + 1)
                else:
                    ended = _Index(columns.person[target], columns.t[target]).first_after(
                        person, start + 1
                    )
            else:
                ended = ctx.pairs_for(phase).end_from(person, start)
            bits = np.zeros(n, dtype=np.int64)
            end = np.full(n, NONE, dtype=np.int64)
            holds = walking & (ended == NONE)
        phase_of = np.where(holds, j, phase_of)
        state_start = np.where(holds, start, state_start)
        state_end = np.where(holds, end, state_end)
        missing = np.where(holds, bits, missing)
        walking &= ~holds
        start = np.where(walking, ended, start)
    keep = phase_of >= 0
    return States(
        person=person[keep],
        rule=np.full(int(keep.sum()), index, dtype=np.int64),
        anchor=at[keep],
        phase=phase_of[keep],
        start=state_start[keep],
        end=state_end[keep],
        missing=missing[keep],
    )


def match_states(table: pa.Table, now: datetime, pack: Pack) -> States:
    """The rule states of everyone in the facts table (``facts.service.live_table``)."""
    at_now = seconds(now)
    ctx = _Context(_columns(table, at_now, pack), pack)
    parts = [_rule_states(i, rule, ctx, at_now) for i, rule in enumerate(pack.rules)]
    return States(
        *(
            np.concatenate([getattr(p, f) for p in parts])
            for f in ("person", "rule", "anchor", "phase", "start", "end", "missing")
        )
    )


@dataclass
class Colours:
    """Each person with a rule state, and the colour the top-ranked state gives."""

    person: Ints
    colour: npt.NDArray[np.int8]


def colours(states: States, pack: Pack) -> Colours:
    """The colour per person, vectorised: the highest priority, then the most severe, wins."""
    if len(states) == 0:
        return Colours(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    priority = np.array([r.priority for r in pack.rules], dtype=np.int64)
    colour_of = np.full((len(pack.rules), max(len(r.phases) for r in pack.rules)), 0, np.int8)
    for i, rule in enumerate(pack.rules):
        for j, phase in enumerate(rule.phases):
            colour_of[i, j] = COLOUR_CODES[phase.colour]
    colour = colour_of[states.rule, states.phase]
    order = np.lexsort((-colour.astype(np.int64), -priority[states.rule], states.person))
    person = states.person[order]
    first = np.ones(len(person), dtype=bool)
    first[1:] = person[1:] != person[:-1]
    return Colours(person[first], colour[order][first])


PLACE_CODES = {"home": 1, "central": 2}
PLACE_NAMES = (None, "home", "central")


@dataclass
class Places:
    person: Ints
    place: npt.NDArray[np.int8]  # a code of PLACE_NAMES


def places(states: States, pack: Pack) -> Places:
    """Where each person's current phases hold them (``PLACE_NAMES``: 0 none, 1 home,
    2 central): central when any phase says so, else home when one does."""
    if len(states) == 0:
        return Places(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8))
    place_of = np.zeros((len(pack.rules), max(len(r.phases) for r in pack.rules)), np.int8)
    for i, rule in enumerate(pack.rules):
        for j, phase in enumerate(rule.phases):
            place_of[i, j] = PLACE_CODES.get(phase.place or "", 0)
    place = place_of[states.rule, states.phase]
    people, at = np.unique(states.person, return_inverse=True)
    held = np.zeros(len(people), dtype=np.int8)
    np.maximum.at(held, at.reshape(-1), place)
    return Places(people.astype(np.int64), held)


def state_rows(states: States, pack: Pack) -> Iterator[tuple[int, list[MatchState]]]:
    """States grouped per person, as the pure evaluator's MatchState objects."""
    if len(states) == 0:
        return
    order = np.argsort(states.person, kind="stable")
    person = states.person[order]
    cut = np.flatnonzero(np.diff(person)) + 1
    bounds = np.concatenate([[0], cut, [len(person)]]).astype(np.int64)
    columns = [
        getattr(states, f)[order].tolist()
        for f in ("rule", "anchor", "phase", "start", "end", "missing")
    ]
    people = person.tolist()
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        found = []
        for k in range(a, b):
            rule = pack.rules[columns[0][k]]
            phase = rule.phases[columns[2][k]]
            bits = columns[5][k]
            found.append(
                MatchState(
                    rule_id=rule.id,
                    anchor_at=columns[1][k],
                    phase=columns[2][k],
                    phase_start=columns[3][k],
                    phase_end=None if columns[4][k] == NONE else columns[4][k],
                    missing=tuple(d for i, d in enumerate(phase.tests) if bits >> i & 1),
                )
            )
        yield people[a], found


def decisions(table: pa.Table, now: datetime, pack: Pack, tz: tzinfo) -> dict[int, Decision]:
    """Decisions for everyone held by a rule; people not in the result are green."""
    states = match_states(table, now, pack)
    return {person: assemble(found, now, pack, tz) for person, found in state_rows(states, pack)}
