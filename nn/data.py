"""Small data sets for the examples and tests, and mini-batching.

`make_moons` and `make_spirals` generate 2-D classification problems; `load_digits` returns
the 1,797 8×8 handwritten digits that scikit-learn ships inside its package (nothing is
downloaded). Features are float64 arrays of shape (n, features); labels are int64 class
indices of shape (n,).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from autodiff.extend import compute, import_optional, is_lazy

from .layers import as_rng, floating_dtype

__all__ = ["batches", "load_digits", "make_moons", "make_spirals", "train_test_split"]


def _positive(name: str, label: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: {label} must be a positive integer; got {value!r}")
    return int(value)


def _real(name: str, label: str, value: Any) -> float:
    """`value` as a float if it is a real number (not bool); else TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {label} must be a real number; got {value!r}")
    return float(value)


def _finite(name: str, label: str, value: Any) -> float:
    """`value` as a float if it is a finite real number (not bool); else TypeError/ValueError."""
    number = _real(name, label, value)
    if not math.isfinite(number):
        raise ValueError(f"{name}: {label} must be finite; got {value!r}")
    return number


def _noise_level(name: str, noise: float) -> float:
    if not _real(name, "noise", noise) >= 0:  # nan too
        raise ValueError(f"{name}: noise must be >= 0; got {noise!r}")
    return _finite(name, "noise", noise)


def make_moons(
    n: int = 200, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 is (cos t, sin t), class 1 is
    (1 − cos t, ½ − sin t), t ∈ [0, π], plus Gaussian noise of standard deviation `noise`.

    Returns X of shape (n, 2) and labels y in {0, 1} (⌈n/2⌉ of class 0), shuffled.
    """
    n = _positive("make_moons", "n", n)
    noise = _noise_level("make_moons", noise)
    generator = as_rng(rng)
    n_upper = n - n // 2
    upper = np.linspace(0.0, np.pi, n_upper)
    lower = np.linspace(0.0, np.pi, n // 2)
    X = np.concatenate([
        np.column_stack([np.cos(upper), np.sin(upper)]),
        np.column_stack([1.0 - np.cos(lower), 0.5 - np.sin(lower)]),
    ])
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n // 2, dtype=np.int64)])
    X = X + generator.normal(0.0, noise, size=X.shape)
    order = generator.permutation(n)
    return X[order], y[order]


def make_spirals(
    n: int = 300,
    classes: int = 3,
    noise: float = 0.2,
    turns: float = 1.0,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` interleaved spiral arms around the origin.

    Arm k holds points at radius r ∈ [0, 1] and angle 2π(k/classes + turns·r) plus Gaussian
    angular noise of standard deviation `noise` (radians), i.e. (r sin θ, r cos θ).
    Returns X of shape (n, 2) and labels y in 0..classes−1, shuffled.
    """
    n = _positive("make_spirals", "n", n)
    classes = _positive("make_spirals", "classes", classes)
    noise = _noise_level("make_spirals", noise)
    turns = _finite("make_spirals", "turns", turns)
    generator = as_rng(rng)
    counts = np.full(classes, n // classes)
    counts[: n % classes] += 1
    points, labels = [], []
    for arm, count in enumerate(counts):
        radius = np.linspace(0.0, 1.0, count)
        angle = 2 * np.pi * (arm / classes + turns * radius)
        angle = angle + generator.normal(0.0, noise, size=count)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(count, arm, dtype=np.int64))
    X, y = np.concatenate(points), np.concatenate(labels)
    order = generator.permutation(n)
    return X[order], y[order]


def load_digits(dtype: Any = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The 8×8 handwritten digits (1,797 images, classes 0–9) shipped with scikit-learn.

    Returns X of shape (1797, 64), pixel intensities scaled from 0..16 to [0, 1], in `dtype`
    (a floating-point type: TypeError otherwise, as the scaled intensities are fractions),
    and y of shape (1797,) with the digit shown.
    """
    dtype = floating_dtype("load_digits", dtype)
    datasets = import_optional("sklearn.datasets", "nn.data.load_digits",
                               "scikit-learn ships the digits images.")
    digits = datasets.load_digits()
    X = np.asarray(digits.data, dtype=dtype) / np.asarray(16.0, dtype=dtype)
    return X, np.asarray(digits.target, dtype=np.int64)


def _check_pair(name: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"{name}: X and y need the same number of samples; got shapes {X.shape} and {y.shape}"
        )
    return X, y


def train_test_split(
    X: Any, y: Any, test_fraction: float = 0.2, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random split into (X_train, X_test, y_train, y_test), `test_fraction` held out
    (rounded, at least one sample; at least one sample must be left to train on)."""
    X, y = _check_pair("train_test_split", X, y)
    if not 0 < _real("train_test_split", "test_fraction", test_fraction) < 1:
        raise ValueError(f"train_test_split: test_fraction must lie in (0, 1); got {test_fraction}")
    if len(X) < 2:
        raise ValueError(f"train_test_split: needs at least 2 samples to split; got {len(X)}")
    n_test = max(1, round(test_fraction * len(X)))
    if n_test >= len(X):
        raise ValueError(
            f"train_test_split: holding out {n_test} of {len(X)} samples (test_fraction "
            f"{test_fraction}) leaves none to train on"
        )
    order = as_rng(rng).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def batches(
    X: Any,
    y: Any,
    batch_size: int,
    shuffle: bool = True,
    rng: np.random.Generator | int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """An iterator of (X_batch, y_batch) covering every sample once; the last may be smaller.

    With `shuffle` the order is a fresh random permutation (from `rng`) on each call;
    without it, the batches are consecutive slices (views, no copies).

    Dask arrays (X, y or both) are streamed chunk by chunk: one chunk of rows is computed
    at a time (X's and y's together, by one dask.compute) and cut into numpy batches, rows
    left over carried into the next chunk's, so memory holds about one chunk. With
    `shuffle`, the chunks come in a random order and the rows within each are permuted (a
    shuffle local to chunks: rechunk first for a wider one).
    """
    batch_size = _positive("batches", "batch_size", batch_size)
    if is_lazy(X) or is_lazy(y):
        return _stream(X, y, batch_size, as_rng(rng) if shuffle else None)
    X, y = _check_pair("batches", X, y)
    order = as_rng(rng).permutation(len(X)) if shuffle else None
    return _batches(X, y, batch_size, order)


def _stream(X: Any, y: Any, batch_size: int,
            rng: np.random.Generator | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches of Dask (or numpy) X and y, one chunk of rows computed at a time."""
    n_x, n_y = np.shape(X)[:1], np.shape(y)[:1]
    for what, samples, array in (("X", n_x, X), ("y", n_y, y)):
        if samples and math.isnan(samples[0]):
            raise ValueError(
                f"batches: the number of samples in {what} is unknown: it is a Dask array "
                f"of shape {np.shape(array)} whose chunk sizes are unknown (as after boolean "
                f"indexing); call {what}.compute_chunk_sizes() first"
            )
    if not n_x or not n_y or n_x != n_y:
        raise ValueError(f"batches: X and y need the same number of samples; got shapes "
                         f"{np.shape(X)} and {np.shape(y)}")
    lazy = X if is_lazy(X) else y
    bounds = np.cumsum((0, *lazy.chunks[0]))  # the row chunks of the first Dask array
    pieces = list(range(len(bounds) - 1))
    if rng is not None:
        pieces = list(rng.permutation(pieces))
    return _streamed(X, y, batch_size, rng, [(bounds[i], bounds[i + 1]) for i in pieces])


def _streamed(X: Any, y: Any, batch_size: int, rng: Any, spans: list[tuple[int, int]],
              ) -> Iterator[tuple[Any, Any]]:
    left_X: Any = None
    left_y: Any = None
    for start, stop in spans:
        block_X, block_y = compute(X[start:stop], y[start:stop])
        block_X, block_y = np.asarray(block_X), np.asarray(block_y)
        if rng is not None:
            order = rng.permutation(len(block_X))
            block_X, block_y = block_X[order], block_y[order]
        if left_X is not None:
            block_X = np.concatenate([left_X, block_X])
            block_y = np.concatenate([left_y, block_y])
        whole = len(block_X) - len(block_X) % batch_size
        for first in range(0, whole, batch_size):
            yield block_X[first:first + batch_size], block_y[first:first + batch_size]
        left_X, left_y = block_X[whole:], block_y[whole:]
    if left_X is not None and len(left_X):
        yield left_X, left_y


def _batches(
    X: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(X), batch_size):
        if order is None:
            yield X[start:start + batch_size], y[start:start + batch_size]
        else:
            chosen = order[start:start + batch_size]
            yield X[chosen], y[chosen]
