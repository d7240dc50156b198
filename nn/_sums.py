"""Sums as BLAS products with a vector of ones: over an axis of a 2-d array, or all of a 1-d one.

numpy's reductions carry a fixed cost of a microsecond or two per call, which at the
batch sizes `nn` trains with is as much as the arithmetic; `a @ 1` does the same sum in
one BLAS call. Anything else (a Value, when a rule is differentiated again) takes the
ordinary `.sum`.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.lru_cache(maxsize=64)
def _ones(length: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(length, dtype=dtype)
    ones.flags.writeable = False  # shared between calls
    return ones


def column_sums(a: Any) -> Any:
    """Σ_i a[i, j]: the sum over the rows (axis 0), e.g. a bias gradient over the batch."""
    if type(a) is np.ndarray and a.ndim == 2:
        return np.dot(_ones(a.shape[0], a.dtype), a)
    return a.sum(axis=0)


def row_sums(a: Any) -> Any:
    """Σ_j a[i, j]: the sum along each row (axis 1)."""
    if type(a) is np.ndarray and a.ndim == 2:
        return np.dot(a, _ones(a.shape[1], a.dtype))
    return a.sum(axis=1)


def total(a: Any) -> Any:
    """Σ_i a[i] of a 1-d array, a numpy scalar of its dtype."""
    if type(a) is np.ndarray and a.ndim == 1:
        return np.dot(a, _ones(a.shape[0], a.dtype))
    return a.sum()
