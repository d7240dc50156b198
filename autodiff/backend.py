"""Arrays other than numpy's: what the engine needs to know about a duck array (a Dask
array, a CuPy array: anything that speaks numpy's `__array_function__` protocol) to keep it
as it is instead of converting it to numpy.

This module is the bottom layer: it imports numpy only (Dask is imported when a Dask array
is first met, never before), and every check is meant to run *after* the cheap tests for
the common case (`type(x) is float`, `type(x) is np.ndarray`), so numpy code pays nothing.

* `is_duck(x)`: an array-like to keep as it is (not a numpy array, not a number).
* `is_dask(x)`: a Dask collection (a Dask array).
* `namespace(x)`: the module whose functions make arrays like `x` (numpy, dask.array, cupy).
* `check_shape(x, caller)`: refuses a Dask array of unknown chunk sizes (nan shape), naming
  the operation.
* `compute(*xs)`: every Dask array among `xs` computed by one `dask.compute` (one pass over
  the data, shared work computed once); anything else returned unchanged.
* `not_lazy(name, x)`: the error an operation without lazy Dask support raises.
* `any_(mask)`: np.any for numpy data; True, uncomputed, for a lazy array (rules whose fast
  branch needs a look at the data take their general branch, exact everywhere, instead).
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

__all__ = ["any_", "check_shape", "compute", "is_dask", "is_duck", "is_lazy", "namespace",
           "not_lazy"]


def is_duck(x: Any) -> bool:
    """True for an array that is not numpy's but follows its protocols (Dask, CuPy): one the
    engine keeps as it is. False for numpy arrays and scalars, numbers, lists, Values."""
    kind = type(x)
    if kind is np.ndarray or kind is float or isinstance(x, (np.generic, np.ndarray)):
        return False  # (an ndarray subclass, np.matrix say, is made a plain ndarray)
    return (hasattr(kind, "__array_function__") and hasattr(x, "shape")
            and hasattr(x, "dtype") and not kind.__module__.startswith("autodiff"))


def is_dask(x: Any) -> bool:
    """True for a Dask collection (a Dask array): it has a task graph."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "__dask_graph__")


def is_lazy(x: Any) -> bool:
    """True for a Dask array: data that must not be looked at (computed) by a rule."""
    kind = type(x)
    return kind is not np.ndarray and kind is not float and is_dask(x)


def any_(mask: Any) -> bool:
    """Whether any element of `mask` is true: np.any for numpy data; True for a lazy array,
    without computing it (so a rule takes its general branch, correct for every input)."""
    if type(mask) is not np.ndarray and is_duck(mask) and is_dask(mask):
        return True
    return bool(np.any(mask))


def namespace(x: Any) -> Any:
    """The array module of `x`: dask.array for a Dask array, cupy for a CuPy array, numpy
    for anything else (its creation functions make arrays of x's kind)."""
    kind = type(x)
    if kind is np.ndarray or kind is float:
        return np
    module = getattr(x, "__array_namespace__", None)
    if is_dask(x):
        import dask.array

        return dask.array
    if module is not None:
        try:
            return module()
        except Exception:  # an array API namespace it cannot give: numpy's functions then
            return np
    return sys.modules.get(kind.__module__.split(".")[0], np)


def check_shape(x: Any, caller: str) -> Any:
    """`x` itself, unless it is a Dask array of unknown chunk sizes: ValueError naming the
    operation (every operation and its gradient need shapes). Anything without a shape (a
    number, None) passes."""
    shape = getattr(x, "shape", ())
    if any(isinstance(n, float) and math.isnan(n) for n in shape):
        raise ValueError(
            f"{caller}: a Dask array of unknown chunk sizes (shape {shape}), as boolean "
            "indexing or a filter leaves it; operations and their gradients need shapes. "
            "Call x.compute_chunk_sizes() (or give the sizes: x.reshape / da.from_delayed "
            "with shape=) first."
        )
    return x


def compute(*xs: Any) -> tuple[Any, ...]:
    """`xs` with every Dask array among them computed, by a single `dask.compute` (so work
    they share, such as reading the data, is done once); the rest unchanged."""
    lazy = [i for i, x in enumerate(xs) if is_dask(x)]
    if not lazy:
        return xs
    import dask

    done = dask.compute(*(xs[i] for i in lazy))  # type: ignore[attr-defined,no-untyped-call]  # (dask is untyped)
    result = list(xs)
    for i, value in zip(lazy, done, strict=True):
        result[i] = value
    return tuple(result)


def not_lazy(name: str, x: Any) -> NotImplementedError:
    """The error of an operation that cannot run lazily on a Dask array."""
    return NotImplementedError(
        f"{name}: Dask arrays are not supported by this operation (it cannot run lazily; "
        f"got a Dask array of shape {x.shape}); compute the data first (x.compute(), or "
        f"dask.compute) to use it on numpy arrays, or see docs/functions.md for the "
        f"operations that run lazily on Dask"
    )
