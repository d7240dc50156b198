"""Reductions over axes (numpy's `axis`/`keepdims`) and the softmax family.

The gradient of a reduction is the output cotangent put back on the reduced axes
(`_restore`) and broadcast over them. `max`/`min` share the gradient evenly among tied
maxima. softmax, log_softmax and logsumexp subtract the maximum first, so inputs of ±1000
stay finite and raise no warnings. `axis` may be an int, a numpy integer or a tuple of them.
Over zero elements: the sum is 0, the mean nan (with numpy's warning), logsumexp −inf, and
softmax of a zero-length axis is empty; the gradient of an empty input is empty.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..backend import any_, is_duck, is_lazy
from ..engine import astype, broadcast_to, primitive
from ..value import Value, raw
from .arithmetic import where as _select
from .elementwise import exp
from .table import ALL_DTYPES, declare, reduction

__all__ = ["log_softmax", "logsumexp", "max_", "mean", "min_", "softmax", "sum_"]


def refuse(name: Any, **unsupported: Any) -> Any:
    """Raise for numpy keywords that would write elsewhere or change what is computed."""
    for key, value in unsupported.items():
        if value is not None and value is not np._NoValue:
            raise TypeError(f"{name}: {key}= is not supported on Values (got {value!r})"
                            + ("; results are new Values" if key == "out" else ""))


def _mask(where: Any, shape: tuple, name: str) -> np.ndarray | None:
    """numpy's `where=` as a boolean mask of `shape` (None: every element takes part)."""
    if where is np._NoValue or where is None or where is True:
        return None
    if isinstance(where, Value) and where.requires_grad:
        raise TypeError(f"{name}: where= is a constant mask; got a Value that requires grad")
    mask = raw(where)
    mask = mask if is_duck(mask) else np.asarray(mask)  # (a Dask mask stays lazy)
    if mask.dtype != bool:
        raise TypeError(f"{name}: where= must be a boolean mask; got dtype {mask.dtype}")
    return np.broadcast_to(mask, shape)


def real_dtype(x: Any) -> np.dtype:
    """The real dtype of x's numbers (float64 for complex128, x's own for real x)."""
    return np.empty(0, np.result_type(raw(x))).real.dtype


def _axes(axis, ndim):
    """`axis` as a tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    parts = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not ndim:
        return tuple(operator.index(a) for a in parts)
    return normalize_axis_tuple(parts, ndim)  # (AxisError out of range, as numpy)


def _kept_shape(shape, axis):
    """`shape` with the reduced axes kept as length 1 (numpy's keepdims=True shape)."""
    axes = set(_axes(axis, len(shape)))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _restore(g, x, axis, keepdims):
    """Give a reduction's cotangent back its reduced axes, as length-1 axes."""
    shape = np.shape(raw(x))
    if keepdims or not shape:
        return g
    kept = _kept_shape(shape, axis)
    return np.full(kept, g) if type(g) is float else g.reshape(kept)


def _spread(g, x, axis, keepdims):
    """The cotangent of a sum: g copied to every element that was summed (for Dask data, in
    x's own chunks, so each chunk of the backward pass needs only its own piece)."""
    data = raw(x)
    if type(data) is not np.ndarray and is_lazy(data) and not isinstance(g, Value):
        return np.ones_like(data) * _restore(g, x, axis, keepdims)
    return broadcast_to(_restore(g, x, axis, keepdims), np.shape(data))


def _reduce(method, x, axis, keepdims):
    """ndarray methods are about twice as fast as numpy's module-level reductions."""
    if type(x) is np.ndarray:
        return getattr(x, method)(axis=axis, keepdims=keepdims)
    return getattr(np, method)(x, axis=axis, keepdims=keepdims)


@primitive(name="sum")
def _sum(x, axis=None, keepdims=False):
    """Σ x over `axis`  ·  ∂/∂xᵢ = 1"""
    return _reduce("sum", x, axis, keepdims)


_sum.defvjp(lambda g, out, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))


def _count(x, axis):
    """How many elements each output of a reduction over `axis` summarises."""
    shape = np.shape(raw(x))
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


@primitive(name="mean")
def _mean(x, axis=None, keepdims=False):
    """(1/n) Σ x over `axis`  ·  ∂/∂xᵢ = 1/n"""
    return _reduce("mean", x, axis, keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = _count(x, axis)
    if count == 0:  # an empty input: its gradient is empty too
        return np.zeros(np.shape(raw(x)), dtype=np.result_type(raw(x)))
    return _spread(g / count, x, axis, keepdims)


_mean.defvjp(_mean_vjp)


def _tie_share(out, x, axis, keepdims):
    """1/k at each of the k elements equal to the extremum, 0 elsewhere (a constant)."""
    x = raw(x)
    hit = np.equal(x, _restore(raw(out), x, axis, keepdims))
    return hit / _reduce("sum", hit, axis, True)


@primitive(name="max")
def _max(x, axis=None, keepdims=False):
    """max x over `axis`  ·  the gradient goes to the maximum, shared evenly among ties"""
    return _reduce("max", x, axis, keepdims)


_max.defvjp(lambda g, out, x, axis=None, keepdims=False:
            _restore(g, x, axis, keepdims) * _tie_share(out, x, axis, keepdims))


@primitive(name="min")
def _min(x, axis=None, keepdims=False):
    """min x over `axis`  ·  the gradient goes to the minimum, shared evenly among ties"""
    return _reduce("min", x, axis, keepdims)


_min.defvjp(lambda g, out, x, axis=None, keepdims=False:
            _restore(g, x, axis, keepdims) * _tie_share(out, x, axis, keepdims))


def _stable_shift(x, axis):
    """The maximum along `axis` (kept), with infinities replaced by 0 so x − m is safe;
    zeros where the axis has no elements."""
    if math.prod(np.shape(x)) == 0:
        return np.zeros(_kept_shape(np.shape(x), axis), dtype=np.result_type(x))
    m = _reduce("max", x, axis, True)
    infinite = ~np.isfinite(m)
    return np.where(infinite, 0, m) if any_(infinite) else m


@declare("logsumexp", method="logsumexp", group="reductions", cases=reduction(),
         torch="torch.logsumexp")
@primitive(name="logsumexp")
def logsumexp(x: Any, axis: Any = None, keepdims: Any = False) -> Any:
    """log Σ eˣ over `axis`  ·  ∂/∂xᵢ = softmax(x)ᵢ"""
    if type(x) is not np.ndarray and not is_duck(x):
        x = np.asarray(x)
    m = _stable_shift(x, axis)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    if axis is None:
        return out.reshape(())
    return np.squeeze(out, axis=_axes(axis, x.ndim))


logsumexp.defvjp(lambda g, out, x, axis=None, keepdims=False:
                 _restore(g, x, axis, keepdims) * exp(x - _restore(out, x, axis, keepdims)))


@declare("softmax", method="softmax", group="activations",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=1)),), {"axis": -1}),
         torch="torch.softmax")
@primitive(name="softmax")
def softmax(x: Any, axis: Any = -1) -> Any:
    """eˣ / Σ eˣ along `axis`  ·  vjp: s ⊙ (g − Σ g⊙s)"""
    e = np.exp(x - _stable_shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


def _sum_kept(x: Any, axis: Any) -> Any:
    """x summed over `axis`, the axis kept; a Python float (0-d float64 data) is its own sum
    (numpy reduces a 0-d array over axis 0 or −1 to itself)."""
    return x if type(x) is float else x.sum(axis=axis, keepdims=True)


softmax.defvjp(lambda g, out, x, axis=-1: out * (g - _sum_kept(g * out, axis)))


@declare("log_softmax", method="log_softmax", group="activations",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=1)),), {"axis": -1}),
         torch="torch.log_softmax")
@primitive(name="log_softmax")
def log_softmax(x: Any, axis: Any = -1) -> Any:
    """x − log Σ eˣ along `axis`  ·  vjp: g − softmax(x) Σ g"""
    shifted = x - _stable_shift(x, axis)
    if type(x) is not float and x.size == 0:  # empty: no log of an empty sum (a warning)
        return shifted
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


log_softmax.defvjp(lambda g, out, x, axis=-1: g - exp(out) * _sum_kept(g, axis))


# --------------------------------------------------------------------------- numpy signatures


def _cast(result, dtype):
    return result if dtype is None else astype(result, dtype)


@declare("sum", numpy=np.sum, method="sum", group="reductions", cases=reduction(),
         dtypes=ALL_DTYPES, torch="torch.sum")
def sum_(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False,
         initial: Any = None, where: Any = None) -> Any:
    """Σ a over `axis` (the elements `where` selects), as np.sum  ·  ∂/∂aᵢ = 1 (0 where
    masked)"""
    refuse("sum", out=out)
    if where is not None:  # (the usual call pays no shape look-up)
        mask = _mask(where, np.shape(raw(a)), "sum")
        if mask is not None:
            a = _select(mask, a, 0)
    result = _sum(_cast(a, dtype), axis=axis, keepdims=bool(keepdims))  # summed in dtype
    return result if initial is None else result + initial


@declare("mean", numpy=np.mean, method="mean", group="reductions", cases=reduction(),
         dtypes=ALL_DTYPES, torch="torch.mean")
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = False, *,
         where: Any = None) -> Any:
    """(1/n) Σ a over `axis` (the n elements `where` selects), as np.mean  ·  ∂/∂aᵢ = 1/n
    (0 where masked)"""
    refuse("mean", out=out)
    x = _cast(a, dtype)
    mask = None if where is None else _mask(where, np.shape(raw(x)), "mean")
    if mask is None:
        return _mean(x, axis=axis, keepdims=bool(keepdims))
    count = np.sum(mask, axis=axis, keepdims=bool(keepdims))
    return _sum(_select(mask, x, 0), axis=axis, keepdims=bool(keepdims)) / \
        count.astype(real_dtype(x))


@declare("max", numpy=(np.max, np.amax), method="max", group="reductions",
         cases=reduction("distinct"), domain="ties share the gradient evenly",
         torch="torch.amax")
def max_(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False, initial: Any = None,
         where: Any = None) -> Any:
    """max a over `axis`, as np.max  ·  the gradient goes to the maximum (shared by ties)"""
    refuse("max", out=out, initial=initial, where=where)
    return _max(a, axis=axis, keepdims=bool(keepdims))


@declare("min", numpy=(np.min, np.amin), method="min", group="reductions",
         cases=reduction("distinct"), domain="ties share the gradient evenly",
         torch="torch.amin")
def min_(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False, initial: Any = None,
         where: Any = None) -> Any:
    """min a over `axis`, as np.min  ·  the gradient goes to the minimum (shared by ties)"""
    refuse("min", out=out, initial=initial, where=where)
    return _min(a, axis=axis, keepdims=bool(keepdims))
