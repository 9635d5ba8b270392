"""Small vectorised sampling helpers shared by the city and movement generators."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def cumulative(weights: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Cumulative weights with a leading 0 (length len(weights) + 1), for ``pick_in_ranges``."""
    w = np.asarray(weights, dtype=np.float64)
    return np.concatenate([[0.0], np.cumsum(w)])


def pick_in_ranges(
    rng: np.random.Generator, cum: npt.NDArray[np.float64], lo: IntArray, hi: IntArray
) -> IntArray:
    """One index per draw from the contiguous range [lo, hi) of the items behind ``cum``,
    with probability proportional to their weights. Ranges must be non-empty."""
    u = cum[lo] + rng.random(len(lo)) * (cum[hi] - cum[lo])
    picked = np.searchsorted(cum, u, side="right") - 1
    return np.clip(picked, lo, hi - 1).astype(np.int64)


def ranks_within(keys: IntArray, tiebreak: npt.NDArray[np.float64]) -> IntArray:
    """The 0-based rank of each item among the items with the same key, ordered by
    ``tiebreak``."""
    order = np.lexsort((tiebreak, keys))
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys)) - run_start
    return rank
