"""Operations that move elements without changing them: reshaping, transposing,
broadcasting, indexing, joining. Their gradients move the cotangent back."""

from __future__ import annotations

import numpy as np

from ..engine import broadcast_to, primitive
from ..value import raw

__all__ = ["broadcast_to", "concatenate", "getitem", "reshape", "scatter_add", "stack",
           "swapaxes", "transpose"]


@primitive(name="reshape")
def reshape(x, shape):
    """x with a new shape  ·  the gradient is reshaped back"""
    return np.reshape(x, shape)


reshape.defvjp(lambda g, out, x, shape: reshape(g, np.shape(raw(x))))


@primitive(name="transpose")
def transpose(x, axes=None):
    """x with its axes permuted (reversed by default)  ·  the gradient is permuted back"""
    return np.transpose(x, axes)


transpose.defvjp(lambda g, out, x, axes=None:
                 transpose(g, None if axes is None else tuple(np.argsort(axes))))


@primitive(name="swapaxes")
def swapaxes(x, axis1, axis2):
    """x with two axes exchanged  ·  the gradient exchanges them back"""
    return np.swapaxes(x, axis1, axis2)


swapaxes.defvjp(lambda g, out, x, axis1, axis2: swapaxes(g, axis1, axis2))


def _is_basic(index) -> bool:
    """True if indexing with `index` selects each element at most once (no fancy indexing)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts
    )


@primitive(name="getitem")
def getitem(x, index):
    """x[index]  ·  the gradient is scattered back, repeated indices accumulating"""
    return np.asarray(x)[index]


getitem.defvjp(lambda g, out, x, index: scatter_add(g, index, np.shape(raw(x))))


@primitive(name="scatter_add")
def scatter_add(g, index, shape):
    """zeros(shape) with g added at [index] (repeats accumulate)  ·  the gradient is g̅[index]"""
    g = np.asarray(g)
    result = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


scatter_add.defvjp(lambda g, out, x, index, shape: getitem(g, index))


def _concatenate_vjp(argnums, g, out, *xs, axis=0):
    """The slice of g that came from each input: offsets computed once (linear in the
    number of inputs)."""
    axis = axis % np.ndim(raw(out))
    ends = np.cumsum([np.shape(raw(x))[axis] for x in xs])
    lead = (slice(None),) * axis
    return [getitem(g, (*lead, slice(int(ends[i]) - np.shape(raw(xs[i]))[axis], int(ends[i]))))
            for i in argnums]


@primitive(name="concatenate")
def _concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


_concatenate.defvjp_argnums(_concatenate_vjp)


@primitive(name="stack")
def _stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


_stack.defvjp_argnums(lambda argnums, g, out, *xs, axis=0: [
    getitem(g, (slice(None),) * (axis % np.ndim(raw(out))) + (i,)) for i in argnums])


def concatenate(values, axis: int = 0):
    """Join Values (or arrays) along an existing axis, as numpy.concatenate."""
    return _concatenate(*values, axis=axis)


def stack(values, axis: int = 0):
    """Join Values (or arrays) along a new axis, as numpy.stack."""
    return _stack(*values, axis=axis)
