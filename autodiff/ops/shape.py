"""Operations that move elements without changing them: reshaping, transposing,
broadcasting, indexing, joining. Their gradients move the cotangent back."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..backend import is_dask, is_duck
from ..engine import broadcast_to as _broadcast_to
from ..engine import primitive
from ..value import raw
from .table import ALL_DTYPES, declare

__all__ = ["broadcast_to", "concatenate", "getitem", "reshape", "scatter_add", "stack",
           "swapaxes", "transpose"]


@primitive(name="reshape")
def _reshape(x, shape):
    """x with a new shape  ·  the gradient is reshaped back"""
    return np.reshape(x, shape)


_reshape.defvjp(lambda g, out, x, shape: _reshape(g, np.shape(raw(x))))


def _reshape_cases(gen):
    x = gen.array(gen.shape())
    return (x, gen.choice([(-1,), (x.size, 1), (1, -1)])), {}


@declare("reshape", numpy=np.reshape, group="shape", cases=_reshape_cases, dtypes=ALL_DTYPES,
         torch="torch.reshape")
def reshape(a: Any, shape: Any = None, order: Any = "C", *, newshape: Any = None,
            copy: Any = None) -> Any:
    """a with a new shape (C order), as np.reshape  ·  the gradient is reshaped back"""
    shape = newshape if shape is None else shape
    if order != "C":
        raise TypeError("reshape: only order='C' is supported on Values")
    return _reshape(a, (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))


def _transpose_cases(gen):
    x = gen.array(gen.shape())
    return (x,), {"axes": gen.choice([None, tuple(reversed(range(x.ndim)))])}


@declare("transpose", numpy=np.transpose, group="shape", cases=_transpose_cases,
         dtypes=ALL_DTYPES, torch="torch.permute")
@primitive(name="transpose")
def transpose(x: Any, axes: Any = None) -> Any:
    """x with its axes permuted (reversed by default)  ·  the gradient is permuted back"""
    return np.transpose(x, axes)


def _inverse_permutation(axes: Any, ndim: int) -> tuple[int, ...] | None:
    """The axes that undo `np.transpose(·, axes)` (negative axes counted from the end)."""
    return None if axes is None else tuple(int(i) for i in np.argsort([a % ndim for a in axes]))


transpose.defvjp(lambda g, out, x, axes=None:
                 transpose(g, _inverse_permutation(axes, np.ndim(raw(x)))))


@declare("swapaxes", numpy=np.swapaxes, method="swapaxes", group="shape",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=2)), 0, -1), {}), dtypes=ALL_DTYPES,
         torch="torch.swapaxes")
@primitive(name="swapaxes")
def swapaxes(x: Any, axis1: Any, axis2: Any) -> Any:
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
def getitem(x: Any, index: Any) -> Any:
    """x[index]  ·  the gradient is scattered back, repeated indices accumulating"""
    if type(x) is float:
        return np.asarray(x)[index]
    if type(x) is not np.ndarray and not _is_basic(index) and is_duck(x):
        return _gather_lazy(x, index)
    return x[index]


def _gather_lazy(x, index):
    """x[index] for a duck array and a fancy index: its own indexing where it has it (Dask
    indexes with one array at a time), else one lazy task indexing the whole of x as numpy
    does (Dask's vindex orders the result's axes differently)."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [np.ndim(p) for p in parts if isinstance(p, (np.ndarray, list))]
    if arrays == [1] and _advanced_together(parts):  # Dask's own, chunked, indexing
        try:
            return x[tuple(np.asarray(p) if isinstance(p, list) else p for p in parts)]
        except NotImplementedError:
            pass
    import dask
    import dask.array as da

    shape = np.broadcast_to(np.empty((), dtype=bool), x.shape)[index].shape  # no copy of x
    return da.from_delayed(dask.delayed(operator.getitem)(x, index), shape, dtype=x.dtype)


def _advanced_together(parts: tuple[Any, ...]) -> bool:
    """Whether the index's advanced parts (arrays, and integers, which numpy counts with
    them) sit next to each other: numpy then keeps their result where they are, as Dask
    does; separated by a slice, None or Ellipsis (x[0, :, [0, 1]]), numpy moves it to the
    front and Dask does not."""
    advanced = [i for i, p in enumerate(parts)
                if isinstance(p, (np.ndarray, list, int, np.integer)) and not isinstance(p, bool)]
    return not advanced or advanced[-1] - advanced[0] == len(advanced) - 1


getitem.defvjp(lambda g, out, x, index: scatter_add(g, index, np.shape(raw(x))))


@primitive(name="scatter_add")
def scatter_add(g: Any, index: Any, shape: Any) -> Any:
    """zeros(shape) with g added at [index] (repeats accumulate)  ·  the gradient is g̅[index]"""
    if type(g) is not np.ndarray and is_duck(g):
        return _scatter_add_lazy(g, index, shape)
    g = np.asarray(g)
    result = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


scatter_add.defvjp(lambda g, out, x, index, shape: getitem(g, index))


def _scatter_add_lazy(g, index, shape):
    """scatter_add of a duck array, lazily: item assignment for a basic index (each element
    written once), else one task adding the whole of g at the index (np.add.at has no
    chunked form; the result is one chunk)."""
    basic = _is_basic(index)
    if basic or not is_dask(g):
        result = np.zeros_like(g, shape=shape)  # in g's own kind of array
        if 0 in np.shape(g):  # an empty slice adds nothing (Dask's assignment refuses it)
            return result
        if basic:
            index, g = _without_new_axes(index, g, len(shape))
            result[index] = g
        else:
            np.add.at(result, index, g)
        return result
    import dask
    import dask.array as da

    def scatter(block):
        out = np.zeros(shape, dtype=block.dtype)
        np.add.at(out, index, block)
        return out

    return da.from_delayed(dask.delayed(scatter)(g), shape, dtype=g.dtype)


def _without_new_axes(index: Any, g: Any, ndim: int) -> tuple[Any, Any]:
    """A basic index without its None entries, and g without the length-1 axes they made
    (Dask's item assignment takes no None; numpy's reads it the same way)."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(p is None for p in parts):
        return index, g
    consumed = sum(1 for p in parts if p is not None and p is not Ellipsis)
    new_axes, kept, axis = [], [], 0  # axis: the position in x[index]
    for p in parts:
        if p is None:
            new_axes.append(axis)
            axis += 1
            continue
        kept.append(p)
        if p is Ellipsis:
            axis += ndim - consumed
        elif isinstance(p, slice):
            axis += 1
    return tuple(kept), np.squeeze(g, axis=tuple(new_axes))


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


def _join_cases(gen):
    shape = gen.shape(min_dims=1)
    return ([gen.array(shape) for _ in range(gen.integer(1, 3))],), {"axis": 0}


@declare("concatenate", numpy=np.concatenate, group="joining", cases=_join_cases,
         dtypes=ALL_DTYPES, torch="torch.cat")
def concatenate(arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None,
                casting: Any = "same_kind") -> Any:
    """Join Values (or arrays) along an existing axis, as np.concatenate."""
    _refuse_out("concatenate", out)
    _refuse_cast("concatenate", arrays, dtype, casting)
    if axis is None:
        arrays = [_reshape(a, (-1,)) for a in arrays]
        axis = 0
    joined = _concatenate(*arrays, axis=axis)
    return joined if dtype is None else joined.astype(dtype)


@declare("stack", numpy=np.stack, group="joining", cases=_join_cases, dtypes=ALL_DTYPES,
         torch="torch.stack")
def stack(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
          casting: Any = "same_kind") -> Any:
    """Join Values (or arrays) along a new axis, as np.stack."""
    _refuse_out("stack", out)
    _refuse_cast("stack", arrays, dtype, casting)
    joined = _stack(*arrays, axis=axis)
    return joined if dtype is None else joined.astype(dtype)


@declare("broadcast_to", numpy=np.broadcast_to, group="shape",
         cases=lambda gen: ((gen.array((3, 1)), (2, 3, 4)), {}), dtypes=ALL_DTYPES,
         torch="torch.broadcast_to")
def broadcast_to(array: Any, shape: Any, subok: Any = False) -> Any:
    """array repeated along broadcast axes, as np.broadcast_to  ·  the gradient is summed"""
    return _broadcast_to(array, (shape,) if isinstance(shape, (int, np.integer))
                         else tuple(shape))


def _refuse_cast(name: str, arrays: Any, dtype: Any, casting: Any) -> None:
    """TypeError, as numpy's, if an input cannot be cast to the result's dtype under
    `casting` (complex to real drops the imaginary part: same_kind refuses it)."""
    if dtype is None and casting in ("same_kind", "safe", "unsafe"):
        return  # the promoted dtype takes every input under these rules
    dtypes = [np.result_type(raw(a)) for a in arrays]
    target = np.dtype(dtype) if dtype is not None else np.result_type(*dtypes)
    for d in dtypes:
        if not np.can_cast(d, target, casting=casting):
            raise TypeError(f"{name}: cannot cast {d} to {target} according to the rule "
                            f"{casting!r} (as numpy refuses it)")


def _refuse_out(name, out):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")
