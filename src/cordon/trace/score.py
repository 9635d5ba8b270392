"""Exposure scores and priority tiers: a pure function of a trace's evidence and the pack.

Each piece of evidence is an exposure of the contact to an index person (the case, or for a
secondary contact a close contact) over an overlap. It adds a hazard

    weight[setting] × hours × relative infectiousness of the index at the overlap's middle

and, for a secondary exposure, × the close contact's own score (the chance it was infected at
all). A contact's score is 1 - exp(-total hazard): 0 to 1, more for a longer, closer (a
setting with a higher weight: a home or a market section against a phone cell) or more
infectious exposure, and for more days of it. Tiers cut the score at the pack's thresholds;
companions are a list of their own (yellow code and tests), not tiered.

Infectiousness is the pack's published profile relative to symptom onset (the positive
sample for a case without symptoms, or found before them); a close contact's onset, for its
secondary contacts, is estimated as its first exposure plus the pack's incubation period. No
ground truth is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cordon.protocols.packs import ExposureScore, Infectiousness, Pack, Tier
from cordon.trace.evidence import KINDS, Traced
from cordon.trace.rules import IndexCase

DAY = 86_400
LOCAL_OFFSET = 8 * 3_600  # days exposed are counted in local (Asia/Shanghai) days
CLOSE, SECONDARY, COMPANION = (KINDS.index(k) for k in ("close", "secondary", "companion"))
NO_TIER = 0  # companions: their own list
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def relative_infectiousness(days_since_onset: F64, profile: Infectiousness) -> F64:
    """The profile's density at these days from onset, relative to its peak (0 before it
    starts)."""
    x = np.asarray(days_since_onset, np.float64) + profile.shift_days
    k, rate = profile.shape, profile.rate
    mode = (k - 1) / rate
    out = np.zeros(x.shape)
    on = x > 0
    # log density minus log density at the mode: the normalising constants cancel.
    out[on] = np.exp((k - 1) * np.log(x[on] / mode) - rate * (x[on] - mode))
    return out


def score_of_hazard(hazard: F64) -> F64:
    return -np.expm1(-np.asarray(hazard, np.float64))


def tier_of(score: F64, tiers: list[Tier]) -> npt.NDArray[np.int8]:
    """The first tier (highest first) whose minimum the score reaches."""
    out = np.full(np.shape(score), tiers[-1].tier, np.int8)
    for tier in reversed(tiers[:-1]):
        out[np.asarray(score) >= tier.min_score] = tier.tier
    return out


@dataclass(frozen=True)
class Scored:
    """Per evidence row (in ``Traced.evidence`` order): the index's relative infectiousness,
    the weight per hour applied (the setting's, times the close contact's score for a
    secondary exposure) and the hazard it adds. Per contact (in ``Traced.contacts`` order): the
    score, the tier (``NO_TIER`` for companions), minutes and local days exposed."""

    infectiousness: F64
    weight: F64
    hazard: F64
    score: F64
    tier: npt.NDArray[np.int8]
    minutes: F64
    days: I64


def _owner_of_rows(first: I64, count: I64) -> I64:
    """Each evidence row's contact: contacts own contiguous runs of rows."""
    by_row = np.argsort(first, kind="stable")
    return np.repeat(by_row, count[by_row]).astype(np.int64)


def _weights(settings: pa.Array, rule: ExposureScore) -> F64:
    encoded = (
        settings.dictionary_encode() if not pa.types.is_dictionary(settings.type) else settings
    )
    names = encoded.dictionary.to_pylist()
    per_name = np.array([rule.weight_per_hour.get(n, 0.0) for n in names], np.float64)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return per_name[codes] if codes.size else np.zeros(0)


def onsets_of(cases: list[IndexCase]) -> dict[int, int]:
    """Each case's reference time for infectiousness: its onset, or its positive sample when
    that came first or there are no symptoms. A case found by a routine test before symptoms
    was infectious when sampled (the look-back opens before the sample for the same reason);
    timing its infectiousness from a later onset would call its earliest exposures harmless."""
    out = {}
    for case in cases:
        known = [t for t in (case.onset, case.sampled) if t is not None]
        if known:
            out[case.person_id] = min(known)
    return out


def score_traced(found: Traced, pack: Pack, onsets: Mapping[int, int]) -> Scored:
    """Scores of every contact of a trace. ``onsets``: each case's (lake person id) onset, or
    its positive sample when it had no symptoms (epoch seconds)."""
    rule = pack.exposure_score
    ev, contacts = found.evidence, found.contacts
    n = contacts.num_rows
    first = contacts.column("first_evidence").to_numpy().astype(np.int64)
    count = contacts.column("evidence_count").to_numpy().astype(np.int64)
    owner = _owner_of_rows(first, count)
    kind = ev.column("kind").to_numpy()
    index = ev.column("index_id").to_numpy()
    start = ev.column("start").to_numpy().astype(np.int64)
    end = ev.column("end").to_numpy().astype(np.int64)
    hours = (end - start) / 3_600
    middle = (start + end) / 2
    weight = _weights(ev.column("setting").combine_chunks(), rule)

    # Direct exposures (to a case): close and companion evidence.
    case_ids = np.fromiter(onsets, np.int64, len(onsets))
    case_onsets = np.fromiter(onsets.values(), np.int64, len(onsets))
    direct = kind != SECONDARY
    onset = np.zeros(ev.num_rows)
    if case_ids.size:
        by_id = np.argsort(case_ids)
        at = np.minimum(np.searchsorted(case_ids[by_id], index), case_ids.size - 1)
        is_case = case_ids[by_id][at] == index
        onset = np.where(is_case, case_onsets[by_id][at], 0).astype(np.float64)
    else:
        is_case = np.zeros(ev.num_rows, bool)
    infectious = np.zeros(ev.num_rows)
    known = direct & is_case
    infectious[known] = relative_infectiousness(
        (middle[known] - onset[known]) / DAY, rule.infectiousness
    )
    infectious[direct & ~is_case] = 1.0  # an index that is not a traced case: assume the peak
    hazard = weight * hours * infectious
    total = np.bincount(owner[direct], hazard[direct], minlength=n).astype(np.float64)
    direct_score = score_of_hazard(total)

    # Secondary exposures (to a close contact): its estimated onset and its own score.
    secondary = ~direct
    if secondary.any():
        person = contacts.column("person_id").to_numpy().astype(np.int64)
        firsts = contacts.column("first_exposure").to_numpy().astype(np.int64)
        by_person = np.argsort(person)
        at = np.minimum(np.searchsorted(person[by_person], index[secondary]), max(n - 1, 0))
        listed = person[by_person][at] == index[secondary]
        close = by_person[at]
        estimated = firsts[close] + rule.incubation_days * DAY
        relative = relative_infectiousness(
            (middle[secondary] - estimated) / DAY, rule.infectiousness
        )
        infectious[secondary] = np.where(listed, relative, 1.0)
        weight[secondary] *= np.where(listed, direct_score[close], 1.0)
        hazard[secondary] = weight[secondary] * hours[secondary] * infectious[secondary]

    score = score_of_hazard(np.bincount(owner, hazard, minlength=n).astype(np.float64))
    tier = tier_of(score, pack.tiers)
    tier[contacts.column("kind").to_numpy() == COMPANION] = NO_TIER
    minutes = np.bincount(owner, hours * 60, minlength=n).astype(np.float64)
    local_day = (start + LOCAL_OFFSET) // DAY
    pairs = np.unique(owner * (1 << 20) + (local_day - local_day.min(initial=0)))
    days = np.bincount(pairs >> 20, minlength=n).astype(np.int64)
    return Scored(infectious, weight, hazard, score, tier, minutes, days)
