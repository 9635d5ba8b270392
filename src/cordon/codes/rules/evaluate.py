"""The pure evaluator: a person's facts and a moment in, a ``Decision`` out.

Two steps, so the batch evaluator can share the second: ``match_states`` finds, for every
rule and every fact that anchors it, the phase the person is in at ``now``;
``assemble`` turns those states into the colour, the reasons and the next conversion. Times
are whole seconds since the Unix epoch (floored), the same resolution the batch evaluator uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple, Protocol

from cordon.codes.rules.model import DAY, SEVERITY, Colour, Pack, Phase, Rule, Text, Where
from cordon.codes.rules.text import conversion_text, green_reason, reason_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NEGATIVE = "negative"


class FactLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def attrs(self) -> Mapping[str, object]: ...


def seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return (moment - EPOCH) // timedelta(seconds=1)


def moment(value: int) -> datetime:
    return EPOCH + timedelta(seconds=value)


@dataclass(frozen=True)
class MatchState:
    """Where one anchoring fact has put the person under one rule at ``now``."""

    rule_id: str
    anchor_at: int
    phase: int
    phase_start: int
    phase_end: int | None  # None: the phase ends on a fact not yet on record
    missing: tuple[int, ...]  # required test days of the phase without a negative test


@dataclass(frozen=True)
class Reason:
    rule_id: str
    zh: str
    en: str


@dataclass(frozen=True)
class Conversion:
    colour: Colour
    at: datetime | None  # None: when a fact arrives (a discharge, tests), not a date
    zh: str
    en: str


@dataclass(frozen=True)
class Decision:
    colour: Colour
    rules: tuple[str, ...]
    reasons: tuple[Reason, ...]
    conversion: Conversion | None
    states: tuple[MatchState, ...] = ()


@dataclass(frozen=True)
class _Fact:
    kind: str
    at: int
    attrs: Mapping[str, str]


def _normalise(facts: Iterable[FactLike], now: int) -> list[_Fact]:
    out = []
    for f in facts:
        at = seconds(f.at)
        if at <= now:  # a fact dated after `now` has not happened yet
            attrs = {k: str(v) for k, v in f.attrs.items() if v is not None}
            out.append(_Fact(f.kind, at, attrs))
    out.sort(key=lambda f: f.at)
    return out


def _matches(fact: _Fact, where: Where) -> bool:
    # A missing attribute is None: it matches where the rule allows None.
    return all(fact.attrs.get(name) in allowed for name, allowed in where)


def missing_tests(phase: Phase, start: int, negatives: Sequence[int]) -> tuple[int, ...]:
    """Required days of a phase not yet covered by a negative test.

    The test for day d is any negative sampled from the start of day d on; each test covers one
    day, so a missed day is made up by a later test. Filling days from the last one back, day d
    is covered when more negatives were sampled since its start than later days have used.
    """
    used, missing = 0, []
    for day in reversed(phase.tests):
        since = start + (day - 1) * DAY
        if sum(1 for t in negatives if t >= since) > used:
            used += 1
        else:
            missing.append(day)
    return tuple(sorted(missing))


def _pair_end(phase: Phase, start: int, negatives: Sequence[int]) -> int | None:
    """When a second negative test at least ``min_hours_apart`` after a first one (taken at or
    after ``start``), and within ``within_hours`` of it, was taken; None if never."""
    best: int | None = None
    gap, window = phase.min_hours_apart * 3600, phase.within_hours * 3600
    for first in negatives:
        if first < start:
            continue
        second = next((t for t in negatives if t >= first + gap), None)
        if second is not None and second <= first + window and (best is None or second < best):
            best = second
    return best


def _until_end(
    rule: Rule, phase: Phase, anchor: _Fact, start: int, facts: Sequence[_Fact]
) -> int | None:
    until = phase.until
    if until is None:
        return None
    for fact in facts:
        if fact.kind != until.fact or fact.at <= start or not _matches(fact, until.where):
            continue
        if all(
            anchor.attrs.get(name) is not None and fact.attrs.get(name) == anchor.attrs.get(name)
            for name in until.same
        ):
            return fact.at
    return None


def _state(
    rule: Rule, anchor: _Fact, facts: Sequence[_Fact], negatives: Sequence[int], now: int
) -> MatchState | None:
    start = anchor.at
    for index, phase in enumerate(rule.phases):
        if phase.kind == "days":
            end = start + phase.days * DAY
            missing = missing_tests(phase, start, negatives)
            if now < end or missing:
                return MatchState(rule.id, anchor.at, index, start, end, missing)
            start = end
            continue
        ended = (
            _until_end(rule, phase, anchor, start, facts)
            if phase.kind == "until"
            else _pair_end(phase, start, negatives)
        )
        if ended is None:
            return MatchState(rule.id, anchor.at, index, start, None, ())
        start = ended
    return None


def match_states(facts: Iterable[FactLike], now: datetime, pack: Pack) -> list[MatchState]:
    """Every (rule, anchoring fact) still holding the person at ``now``."""
    at_now = seconds(now)
    known = _normalise(facts, at_now)
    negatives = [f.at for f in known if f.kind == "test" and f.attrs.get("result") == NEGATIVE]
    states = []
    for rule in pack.rules:
        for fact in known:
            if fact.kind == rule.fact and _matches(fact, rule.where):
                state = _state(rule, fact, known, negatives, at_now)
                if state is not None:
                    states.append(state)
    return states


def _colour(pack: Pack, state: MatchState) -> Colour:
    return pack.rule(state.rule_id).phases[state.phase].colour


def _rank(pack: Pack, state: MatchState) -> tuple[int, int, int, int]:
    rule = pack.rule(state.rule_id)
    return (
        -rule.priority,
        -SEVERITY[_colour(pack, state)],
        pack.rule_index[state.rule_id],
        state.anchor_at,
    )


def _order(pack: Pack, state: MatchState) -> tuple[object, ...]:
    """A total order on states, so equal-ranked ones list the same way however they came."""
    end = -1 if state.phase_end is None else state.phase_end
    return (*_rank(pack, state), state.phase, state.phase_start, end, state.missing)


class _Segment(NamedTuple):  # a tuple: built many times per person in a full recompute
    start: int
    end: int | None
    colour: Colour
    rank: tuple[int, int, int, int]
    state: MatchState
    phase: int


def _segments(pack: Pack, state: MatchState, now: int) -> list[_Segment]:
    """The state's phases from now on, assuming required tests are taken on time."""
    rule = pack.rule(state.rule_id)
    rank = _rank(pack, state)
    current = rule.phases[state.phase]
    overdue = state.phase_end is not None and state.phase_end <= now
    end = None if overdue else state.phase_end
    out = [_Segment(now, end, current.colour, rank, state, state.phase)]
    for index in range(state.phase + 1, len(rule.phases)):
        if end is None:
            break
        phase = rule.phases[index]
        start = end
        end = start + phase.days * DAY if phase.kind == "days" else None
        # A later phase ranks like its rule, with its own colour's severity.
        out.append(
            _Segment(
                start,
                end,
                phase.colour,
                (rank[0], -SEVERITY[phase.colour], *rank[2:]),
                state,
                index,
            )
        )
    return out


def _colour_at(segments: Sequence[_Segment], at: int) -> Colour:
    covering = [s for s in segments if s.start <= at and (s.end is None or at < s.end)]
    return min(covering, key=lambda s: s.rank).colour if covering else "green"


def _conversion(
    pack: Pack, states: Sequence[MatchState], now: int, colour: Colour, tz: tzinfo
) -> Conversion | None:
    segments = [seg for s in states for seg in _segments(pack, s, now)]
    for at in sorted({s.end for s in segments if s.end is not None and s.end > now}):
        after = _colour_at(segments, at)
        if after != colour:
            ending = [
                s for s in segments if s.end is not None and now <= s.start < at and s.end <= at
            ]
            needs = sorted(
                {(pack.rule(s.state.rule_id).id, d) for s in ending for d in _needed(pack, s)},
            )
            zh, en = conversion_text(after, moment(at), tz, [d for _, d in needs], None)
            return Conversion(after, moment(at), zh, en)
    # No date changes the colour: a fact must (a discharge, a lifted zone, overdue tests).
    top = min(states, key=lambda s: _rank(pack, s))
    rule = pack.rule(top.rule_id)
    phase = rule.phases[top.phase]
    then_days, index = 0, top.phase + 1
    while (
        index < len(rule.phases)
        and rule.phases[index].colour == colour
        and rule.phases[index].kind == "days"
    ):
        then_days += rule.phases[index].days
        index += 1
    others = [seg for seg in segments if seg.state is not top]
    if index < len(rule.phases):
        nxt = rule.phases[index]
        rank = (-rule.priority, -SEVERITY[nxt.colour], pack.rule_index[rule.id], top.anchor_at)
        others.append(_Segment(now, None, nxt.colour, rank, top, index))
    after = _colour_at(others, now)
    if after == colour:
        return None
    zh, en = conversion_text(after, None, tz, list(top.missing), _ends_when(phase), then_days)
    return Conversion(after, None, zh, en)


def _needed(pack: Pack, segment: _Segment) -> tuple[int, ...]:
    if segment.phase == segment.state.phase:
        return segment.state.missing
    return pack.rule(segment.state.rule_id).phases[segment.phase].tests


def _ends_when(phase: Phase) -> Text | None:
    if phase.kind == "days":
        return None
    if phase.kind == "two_negatives":
        return Text(
            f"两次核酸阴性（间隔≥{phase.min_hours_apart}小时、{phase.within_hours}小时内）",
            f"two negative tests ≥ {phase.min_hours_apart} h apart within {phase.within_hours} h",
        )
    return phase.ends_when or phase.label


def assemble(states: Sequence[MatchState], now: datetime, pack: Pack, tz: tzinfo) -> Decision:
    """The decision for one person from their rule states."""
    if not states:
        zh, en = green_reason()
        return Decision("green", (), (Reason("", zh, en),), None, ())
    at_now = seconds(now)
    ordered = sorted(states, key=lambda s: _order(pack, s))
    colour = _colour(pack, ordered[0])
    reasons = []
    for state in ordered:
        rule = pack.rule(state.rule_id)
        zh, en = reason_text(
            rule,
            state.phase,
            moment(state.anchor_at),
            moment(state.phase_start),
            None if state.phase_end is None else moment(state.phase_end),
            state.missing,
            moment(at_now),
            tz,
        )
        reasons.append(Reason(rule.id, zh, en))
    rules = tuple(dict.fromkeys(s.rule_id for s in ordered))
    conversion = _conversion(pack, ordered, at_now, colour, tz)
    return Decision(colour, rules, tuple(reasons), conversion, tuple(ordered))


def decide(facts: Iterable[FactLike], now: datetime, pack: Pack, tz: tzinfo = UTC) -> Decision:
    """A person's health code at ``now`` under ``pack``, with reasons and next conversion."""
    return assemble(match_states(facts, now, pack), now, pack, tz)
