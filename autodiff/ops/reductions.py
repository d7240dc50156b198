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

import numpy as np

from ..engine import broadcast_to, primitive
from ..value import raw
from .elementwise import exp

__all__ = ["log_softmax", "logsumexp", "max_", "mean", "min_", "softmax", "sum_"]


def _axes(axis, ndim):
    """`axis` as a tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    parts = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(operator.index(a) % ndim if ndim else operator.index(a) for a in parts)


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
    """The cotangent of a sum: g copied to every element that was summed."""
    return broadcast_to(_restore(g, x, axis, keepdims), np.shape(raw(x)))


def _reduce(method, x, axis, keepdims):
    """ndarray methods are about twice as fast as numpy's module-level reductions."""
    if type(x) is np.ndarray:
        return getattr(x, method)(axis=axis, keepdims=keepdims)
    return getattr(np, method)(x, axis=axis, keepdims=keepdims)


@primitive(name="sum")
def sum_(x, axis=None, keepdims=False):
    """Σ x over `axis`  ·  ∂/∂xᵢ = 1"""
    return _reduce("sum", x, axis, keepdims)


sum_.defvjp(lambda g, out, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))


def _count(x, axis):
    """How many elements each output of a reduction over `axis` summarises."""
    shape = np.shape(raw(x))
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


@primitive(name="mean")
def mean(x, axis=None, keepdims=False):
    """(1/n) Σ x over `axis`  ·  ∂/∂xᵢ = 1/n"""
    return _reduce("mean", x, axis, keepdims)


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = _count(x, axis)
    if count == 0:  # an empty input: its gradient is empty too
        return np.zeros(np.shape(raw(x)), dtype=np.result_type(raw(x)))
    return _spread(g / count, x, axis, keepdims)


mean.defvjp(_mean_vjp)


def _tie_share(out, x, axis, keepdims):
    """1/k at each of the k elements equal to the extremum, 0 elsewhere (a constant)."""
    x = raw(x)
    hit = np.equal(x, _restore(raw(out), x, axis, keepdims))
    return hit / _reduce("sum", hit, axis, True)


@primitive(name="max")
def max_(x, axis=None, keepdims=False):
    """max x over `axis`  ·  the gradient goes to the maximum, shared evenly among ties"""
    return _reduce("max", x, axis, keepdims)


max_.defvjp(lambda g, out, x, axis=None, keepdims=False:
            _restore(g, x, axis, keepdims) * _tie_share(out, x, axis, keepdims))


@primitive(name="min")
def min_(x, axis=None, keepdims=False):
    """min x over `axis`  ·  the gradient goes to the minimum, shared evenly among ties"""
    return _reduce("min", x, axis, keepdims)


min_.defvjp(lambda g, out, x, axis=None, keepdims=False:
            _restore(g, x, axis, keepdims) * _tie_share(out, x, axis, keepdims))


def _stable_shift(x, axis):
    """The maximum along `axis` (kept), with infinities replaced by 0 so x − m is safe;
    zeros where the axis has no elements."""
    if np.size(x) == 0:
        return np.zeros(_kept_shape(np.shape(x), axis), dtype=np.result_type(x))
    m = _reduce("max", x, axis, True)
    return m if np.isfinite(m).all() else np.where(np.isfinite(m), m, 0)


@primitive(name="logsumexp")
def logsumexp(x, axis=None, keepdims=False):
    """log Σ eˣ over `axis`  ·  ∂/∂xᵢ = softmax(x)ᵢ"""
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


@primitive(name="softmax")
def softmax(x, axis=-1):
    """eˣ / Σ eˣ along `axis`  ·  vjp: s ⊙ (g − Σ g⊙s)"""
    e = np.exp(x - _stable_shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


softmax.defvjp(lambda g, out, x, axis=-1:
               out * (g - (g * out).sum(axis=axis, keepdims=True)))


@primitive(name="log_softmax")
def log_softmax(x, axis=-1):
    """x − log Σ eˣ along `axis`  ·  vjp: g − softmax(x) Σ g"""
    shifted = x - _stable_shift(x, axis)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


log_softmax.defvjp(lambda g, out, x, axis=-1:
                   g - exp(out) * g.sum(axis=axis, keepdims=True))
