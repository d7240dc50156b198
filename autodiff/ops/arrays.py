"""numpy's shape, joining, splitting, tiling (and meshgrid), flipping, indexing, sorting
and unique functions.

Each moves elements without changing them, so each is built from the lean primitives of
`.shape` (reshape, transpose, getitem and its scatter-add VJP, concatenate, stack,
broadcast_to) and `where`, and its gradient moves the cotangent back: repeated elements
(tile, repeat, take with repeated indices, pad's edge/reflect/wrap modes) accumulate.
Two primitives of its own: `pad` with a constant (the gradient is the interior slice) and
a permutation along an axis (sort, partition: the gradient is the inverse permutation).
Indices, masks, repeats and sort orders are constants computed on the data; so are
unique's indices, inverse and counts, its values a gather of the first occurrences.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..backend import check_shape
from ..engine import primitive
from ..value import Value, raw, value_or_array
from .arithmetic import where
from .shape import (
    _reshape,
    _stack,
    broadcast_to,
    concatenate,
    getitem,
    transpose,
)
from .table import ALL_DTYPES, declare

__all__ = [
    "array_split", "atleast_1d", "atleast_2d", "atleast_3d", "choose", "column_stack", "copy",
    "dsplit", "dstack", "expand_dims", "flip", "fliplr", "flipud", "hsplit", "hstack",
    "meshgrid", "moveaxis", "pad", "partition", "ravel", "repeat", "roll", "rot90", "select",
    "sort", "split", "squeeze", "take", "take_along_axis", "tile", "tril", "triu", "unique",
    "unique_all", "unique_counts", "unique_inverse", "unique_values", "vsplit", "vstack",
]


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(raw(x))


def _ndim(x: Any) -> int:
    return np.ndim(raw(x))


def _refuse_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")


def _shape_after(function: Any, shape: tuple[int, ...], *args: Any) -> tuple[int, ...]:
    """The shape numpy's `function` (squeeze, expand_dims, ...) gives an array of `shape`,
    with numpy's own errors, computed on a zero-stride placeholder (no data copied)."""
    return function(np.broadcast_to(np.empty((), dtype=bool), shape), *args).shape


def _indices(index: Any, name: str) -> np.ndarray:
    """A constant integer index array (booleans become 0/1, as np.take reads them)."""
    if isinstance(index, Value):
        raise TypeError(f"{name}: indices must be integer (or boolean) numpy arrays, not a "
                        f"Value (Values hold floats: pass .data.astype(int))")
    index = np.asarray(index)
    if index.dtype == bool:
        return index.astype(np.intp)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, not {index.dtype}")
    return index


def _along(axis: int, index: Any) -> tuple:
    """The index that applies `index` to axis `axis` and takes every other axis whole."""
    return (slice(None),) * axis + (index,)


# --------------------------------------------------------------------------- shape


@primitive(name="copy")
def _copy(a):
    """a in memory of its own  ·  the gradient passes through"""
    return a.copy() if hasattr(a, "copy") else a  # (a lazy array's own copy stays lazy)


_copy.defvjp(lambda g, out, a: g)


@declare("copy", numpy=np.copy, group="shape", dtypes=ALL_DTYPES, torch="torch.clone",
         cases=lambda gen: ((gen.array(gen.shape()),), {}))
def copy(a: Any, order: str = "K", subok: bool = False) -> Any:
    """a new Value equal to a, in memory of its own, as np.copy (`order` is only a memory
    layout, which Values leave to numpy)  ·  the gradient passes through"""
    if order not in ("K", "A", "C", "F"):
        raise ValueError(f"copy: order must be one of 'K', 'A', 'C', 'F'; got {order!r}")
    if subok:
        raise TypeError("copy: subok=True is not supported on Values (the copy is a Value)")
    return _copy(a)


def _ravel_cases(gen):
    return (gen.array(gen.shape()),), {}


@declare("ravel", numpy=np.ravel, method="ravel", group="shape", cases=_ravel_cases,
         dtypes=ALL_DTYPES, torch="torch.ravel")
def ravel(a: Any, order: str = "C") -> Any:
    """a flattened to one axis (C order), as np.ravel  ·  the gradient is reshaped back"""
    if order != "C":
        raise TypeError("ravel: only order='C' is supported on Values (they have no memory "
                        "layout)")
    return _reshape(a, (-1,))


def _squeeze_cases(gen):
    shape = tuple(gen.choice([1, n]) for n in gen.shape(min_dims=1, max_dims=4, max_side=3))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = gen.choice([None, *ones, *[i - len(shape) for i in ones]])
    if len(ones) >= 2 and gen.boolean():
        axis = tuple(ones[:2])
    return (gen.array(shape),), {"axis": axis}


@declare("squeeze", numpy=np.squeeze, method="squeeze", group="shape", cases=_squeeze_cases,
         dtypes=ALL_DTYPES, torch="torch.squeeze")
def squeeze(a: Any, axis: Any = None) -> Any:
    """a without its axes of length one (all of them, or those named)  ·  gradient reshaped"""
    return _reshape(a, _shape_after(np.squeeze, _shape(a), axis))


def _expand_dims_cases(gen):
    x = gen.array(gen.shape())
    ndim = x.ndim + 1
    axis = gen.integer(-ndim, ndim - 1)
    if gen.boolean():
        axis = (0, -1)
    return (x,), {"axis": axis}


@declare("expand_dims", numpy=np.expand_dims, group="shape", cases=_expand_dims_cases,
         dtypes=ALL_DTYPES, torch="torch.unsqueeze")
def expand_dims(a: Any, axis: Any) -> Any:
    """a with new axes of length one at `axis` (an int or a tuple)  ·  gradient reshaped"""
    return _reshape(a, _shape_after(np.expand_dims, _shape(a), axis))


def _moveaxis_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    d = x.ndim
    if d >= 2 and gen.boolean():
        return (x, (0, -1), (-1, 0)), {}
    return (x, gen.integer(-d, d - 1), gen.integer(-d, d - 1)), {}


@declare("moveaxis", numpy=np.moveaxis, group="shape", cases=_moveaxis_cases,
         dtypes=ALL_DTYPES, torch="torch.moveaxis")
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """a with axes `source` moved to `destination`, as np.moveaxis  ·  gradient moved back"""
    ndim = _ndim(a)
    source = normalize_axis_tuple(source, ndim, "source")
    destination = normalize_axis_tuple(destination, ndim, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same number of "
                         "elements")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose(a, tuple(order))


def _at_least(a: Any, ndim: int) -> Any:
    shape = _shape(a)
    if len(shape) >= ndim:
        return a
    if ndim == 3 and len(shape) == 1:
        return _reshape(a, (1, shape[0], 1))
    if ndim == 3 and len(shape) == 2:
        return _reshape(a, (*shape, 1))
    return _reshape(a, (1,) * (ndim - len(shape)) + shape)


def _at_least_all(arys: tuple, ndim: int) -> Any:
    results = tuple(_at_least(a, ndim) for a in arys)
    return results[0] if len(results) == 1 else results


def _atleast_cases(gen):
    return (gen.array(gen.shape()),), {}


@declare("atleast_1d", numpy=np.atleast_1d, group="shape", cases=_atleast_cases,
         dtypes=ALL_DTYPES, torch="torch.atleast_1d")
def atleast_1d(*arys: Any) -> Any:
    """Each input with at least one axis (a scalar becomes shape (1,)); one result, or a
    tuple of them, as np.atleast_1d  ·  gradient reshaped"""
    return _at_least_all(arys, 1)


@declare("atleast_2d", numpy=np.atleast_2d, group="shape", cases=_atleast_cases,
         dtypes=ALL_DTYPES, torch="torch.atleast_2d")
def atleast_2d(*arys: Any) -> Any:
    """Each input with at least two axes ((N,) becomes (1, N)), as np.atleast_2d"""
    return _at_least_all(arys, 2)


@declare("atleast_3d", numpy=np.atleast_3d, group="shape", cases=_atleast_cases,
         dtypes=ALL_DTYPES, torch="torch.atleast_3d")
def atleast_3d(*arys: Any) -> Any:
    """Each input with at least three axes ((N,) → (1, N, 1), (M, N) → (M, N, 1)), as
    np.atleast_3d"""
    return _at_least_all(arys, 3)


# --------------------------------------------------------------------------- joining


def _sequence(tup: Any, name: str) -> list:
    if not isinstance(tup, (list, tuple)):
        raise TypeError(f"{name}: arrays to stack must be passed as a sequence (a list or "
                        f"tuple), not {type(tup).__name__}")
    return list(tup)


def _joined_cases(axis_of, min_dims=0):
    """Cases for hstack/vstack/dstack: inputs of one shape except along the joining axis
    (which `axis_of(ndim)` names, or None when the shapes must be equal)."""

    def cases(gen):
        shape = gen.shape(min_dims=min_dims)
        axis = axis_of(len(shape))
        arrays = []
        for _ in range(gen.integer(1, 3)):
            s = list(shape)
            if axis is not None:
                s[axis] = gen.integer(1, 3)
            arrays.append(gen.array(tuple(s)))
        return (arrays,), {}

    return cases


@declare("hstack", numpy=np.hstack, group="joining", dtypes=ALL_DTYPES, torch="torch.hstack",
         cases=_joined_cases(lambda d: (1 if d >= 2 else 0) if d else None))
def hstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Join along the second axis (the first for 1-D inputs), as np.hstack"""
    arrays = [_at_least(a, 1) for a in _sequence(tup, "hstack")]
    axis = 0 if arrays and _ndim(arrays[0]) == 1 else 1
    return concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


@declare("vstack", numpy=np.vstack, group="joining", dtypes=ALL_DTYPES, torch="torch.vstack",
         cases=_joined_cases(lambda d: 0 if d >= 2 else None))
def vstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """Join along the first axis after making inputs at least 2-D, as np.vstack"""
    arrays = [_at_least(a, 2) for a in _sequence(tup, "vstack")]
    return concatenate(arrays, axis=0, dtype=dtype, casting=casting)


@declare("dstack", numpy=np.dstack, group="joining", dtypes=ALL_DTYPES, torch="torch.dstack",
         cases=_joined_cases(lambda d: 2 if d >= 3 else None))
def dstack(tup: Sequence[Any]) -> Any:
    """Join along the third axis after making inputs at least 3-D, as np.dstack"""
    arrays = [_at_least(a, 3) for a in _sequence(tup, "dstack")]
    return concatenate(arrays, axis=2)


def _column_stack_cases(gen):
    n = gen.integer(1, 4)
    return ([gen.array(gen.choice([(n,), (n, gen.integer(1, 3))]))
             for _ in range(gen.integer(1, 3))],), {}


@declare("column_stack", numpy=np.column_stack, group="joining", cases=_column_stack_cases,
         dtypes=ALL_DTYPES, torch="torch.column_stack")
def column_stack(tup: Sequence[Any]) -> Any:
    """1-D inputs as columns, 2-D inputs as they are, joined along the second axis"""
    arrays = []
    for a in _sequence(tup, "column_stack"):
        shape = _shape(a)
        arrays.append(_reshape(a, (-1, 1) if shape else (1, 1)) if len(shape) < 2 else a)
    return concatenate(arrays, axis=1)


# --------------------------------------------------------------------------- splitting

_SPLIT_NOTES = ("returns a list of Values (one getitem each), so the table's single-output "
                "property tests skip it; tests/test_numpy_arrays.py checks it")


@declare("array_split", numpy=np.array_split, group="splitting", dtypes=ALL_DTYPES,
         torch="torch.tensor_split", notes=_SPLIT_NOTES)
def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Split into a list of pieces along `axis`: at the given indices, or into that many
    nearly equal pieces (the first ones one longer), as np.array_split"""
    axis = normalize_axis_index(axis, _ndim(ary))
    total = _shape(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)) or np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extras = divmod(total, sections)
        sizes = [0] + extras * [each + 1] + (sections - extras) * [each]
        points = np.cumsum(sizes).tolist()
    else:
        points = [0, *(int(i) for i in indices_or_sections), total]
    return [getitem(ary, _along(axis, slice(start, end)))
            for start, end in itertools.pairwise(points)]


@declare("split", numpy=np.split, group="splitting", dtypes=ALL_DTYPES,
         torch="torch.tensor_split", notes=_SPLIT_NOTES)
def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Split into a list of equal pieces (or at the given indices) along `axis`, as
    np.split  ·  each piece's gradient is scattered back into place"""
    if isinstance(indices_or_sections, (int, np.integer)) or np.ndim(indices_or_sections) == 0:
        total = _shape(ary)[normalize_axis_index(axis, _ndim(ary))]
        if total % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


@declare("hsplit", numpy=np.hsplit, group="splitting", dtypes=ALL_DTYPES,
         torch="torch.hsplit", notes=_SPLIT_NOTES)
def hsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """split along the second axis (the first for 1-D input), as np.hsplit"""
    if _ndim(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if _ndim(ary) > 1 else 0)


@declare("vsplit", numpy=np.vsplit, group="splitting", dtypes=ALL_DTYPES,
         torch="torch.vsplit", notes=_SPLIT_NOTES)
def vsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """split along the first axis of an array of two or more axes, as np.vsplit"""
    if _ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


@declare("dsplit", numpy=np.dsplit, group="splitting", dtypes=ALL_DTYPES,
         torch="torch.dsplit", notes=_SPLIT_NOTES)
def dsplit(ary: Any, indices_or_sections: Any) -> list[Any]:
    """split along the third axis of an array of three or more axes, as np.dsplit"""
    if _ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


# --------------------------------------------------------------------------- tiling


def _tile_cases(gen):
    x = gen.array(gen.shape())
    reps = gen.choice([gen.integer(1, 3), tuple(gen.integer(1, 3)
                                                 for _ in range(gen.integer(1, 3)))])
    return (x, reps), {}


@declare("tile", numpy=np.tile, group="tiling", cases=_tile_cases, dtypes=ALL_DTYPES,
         torch="torch.tile")
def tile(A: Any, reps: Any) -> Any:
    """A repeated reps[i] times along each axis, as np.tile  ·  the copies' gradients add up

    Built as reshape → broadcast → reshape: (a₁, a₂) becomes (1, a₁, 1, a₂), broadcast to
    (r₁, a₁, r₂, a₂), then (r₁a₁, r₂a₂); the gradient is a sum over the broadcast axes."""
    reps = tuple(int(r) for r in np.atleast_1d(np.asarray(reps)).tolist())
    shape = _shape(A)
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: negative repetitions {reps}")
    spread = tuple(n for s in shape for n in (1, s))
    target = tuple(n for r, s in zip(reps, shape, strict=True) for n in (r, s))
    tiled = broadcast_to(_reshape(A, spread), target)
    return _reshape(tiled, tuple(r * s for r, s in zip(reps, shape, strict=True)))


def _repeat_cases(gen):
    x = gen.array(gen.shape())
    axis = gen.choice([None, *range(-x.ndim, x.ndim)])
    length = x.size if axis is None else x.shape[axis]
    repeats = gen.choice([gen.integer(0, 3),
                          np.array([gen.integer(0, 3) for _ in range(length)], dtype=int)])
    return (x, repeats), {"axis": axis}


@declare("repeat", numpy=np.repeat, method="repeat", group="tiling", cases=_repeat_cases,
         dtypes=ALL_DTYPES, torch="torch.repeat_interleave")
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Each element repeated (an int, or one count per element along `axis`; flattened when
    axis is None), as np.repeat  ·  the copies' gradients add up"""
    if axis is None:
        a, axis = _reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, _ndim(a))
    index = np.repeat(np.arange(_shape(a)[axis]), _indices(repeats, "repeat"))
    return getitem(a, _along(axis, index))


@declare("meshgrid", numpy=np.meshgrid, group="tiling", dtypes=ALL_DTYPES,
         domain="each input is flattened; outputs keep their input's dtype; inputs that are "
                "not Values give plain numpy arrays (constants), as numpy gives them",
         notes="returns a tuple of Values (one per input), as np.meshgrid does (a list for "
               "sparse=True, copy=False, as numpy's), so the table's single-output property "
               "tests skip it; "
               "tests/test_numpy_extras_elementwise.py checks it. torch.meshgrid defaults to "
               "indexing='ij' and has no copy= or sparse=: no torch cross-check")
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False,
             indexing: str = "xy") -> tuple[Any, ...] | list[Any]:
    """Coordinate arrays of a grid, as np.meshgrid: input i (flattened) runs along axis i of
    the grid (axes 0 and 1 swapped for indexing='xy'), repeated along the other axes (a
    single step along them when sparse)  ·  each output's gradient is summed back onto its
    input"""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', not {indexing!r}")
    arrays = [value_or_array(x) for x in xi]
    for a in arrays:
        check_shape(raw(a), "meshgrid")  # (Dask data of unknown chunk sizes: refused)
    axes = list(range(len(arrays)))
    if indexing == "xy" and len(axes) > 1:
        axes[0], axes[1] = 1, 0
    sizes = [math.prod(_shape(a)) for a in arrays]
    grid = [1] * len(arrays)
    for axis, size in zip(axes, sizes, strict=True):
        grid[axis] = size
    outputs = []
    for a, axis, size in zip(arrays, axes, sizes, strict=True):
        shape = [1] * len(arrays)
        shape[axis] = size
        out = _reshape(a, tuple(shape))
        if not sparse:
            out = broadcast_to(out, tuple(grid))
        outputs.append(_copy(out) if copy else out)
    # numpy's container: a tuple, except a list for sparse views (sparse=True, copy=False)
    return outputs if sparse and not copy else tuple(outputs)


# --------------------------------------------------------------------------- pad


@primitive(name="pad")
def _pad_constant(x, pad_width, constant_values=0):
    """x surrounded by a constant  ·  the gradient is the interior slice"""
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


_pad_constant.defvjp(lambda g, out, x, pad_width, constant_values=0: getitem(g, tuple(
    slice(before, before + n) for (before, _), n in zip(pad_width, np.shape(raw(x)),
                                                         strict=True))), None)

_COPYING_MODES = ("edge", "wrap", "reflect", "symmetric")


def _pad_pairs(pad_width: Any, ndim: int) -> tuple:
    """pad_width in numpy's forms (n, (before, after), one pair per axis) as one
    (before, after) pair per axis."""
    width = np.asarray(pad_width)
    if width.size and not np.issubdtype(width.dtype, np.integer):
        raise TypeError("`pad_width` must be of integral type.")
    pairs = np.broadcast_to(width.astype(np.intp), (ndim, 2))
    if (pairs < 0).any():
        raise ValueError("index can't contain negative values")
    return tuple((int(b), int(a)) for b, a in pairs)


def _pad_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    mode = gen.choice(["constant", *_COPYING_MODES])
    width = gen.choice([gen.integer(0, 2), (gen.integer(0, 2), gen.integer(0, 3)),
                        tuple((gen.integer(0, 2), gen.integer(0, 2)) for _ in range(x.ndim)),
                        ((gen.integer(0, 2), gen.integer(0, 2)),)])
    kwargs = {"constant_values": gen.choice([0, 1.5])} if mode == "constant" else {}
    return (x, width), {"mode": mode, **kwargs}


@declare("pad", numpy=np.pad, group="tiling", cases=_pad_cases, dtypes=ALL_DTYPES,
         torch="torch.nn.functional.pad",
         domain="modes constant (constant_values a constant), edge, wrap, reflect and "
                "symmetric (reflect_type='even'); the others are refused")
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """array padded along each axis, as np.pad  ·  the gradient of the padding is dropped
    (constant mode) or added to the elements it copies (edge, wrap, reflect, symmetric)"""
    ndim = _ndim(array)
    pairs = _pad_pairs(pad_width, ndim)
    if mode == "constant":
        unknown = set(kwargs) - {"constant_values"}
        values = kwargs.get("constant_values", 0)
        if isinstance(values, Value):
            if values.requires_grad:
                raise TypeError("pad: constant_values= is a constant, not differentiated; "
                                "pass .data (or pad with 0 and add the Value where needed)")
            values = values.data
    elif mode in _COPYING_MODES:
        unknown = set(kwargs) - {"reflect_type"}
        if kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError("pad: reflect_type='odd' is not supported on Values "
                                      "(only modes that copy elements are)")
    else:
        raise NotImplementedError(
            f"pad: mode={mode!r} is not supported on Values; supported modes are "
            f"'constant', {', '.join(repr(m) for m in _COPYING_MODES)}")
    if unknown:
        raise TypeError(f"pad: unsupported keyword(s) for mode {mode!r}: {sorted(unknown)}")
    if mode == "constant":
        return _pad_constant(array, pairs, constant_values=values)
    shape = _shape(array)
    index = np.pad(np.arange(math.prod(shape)).reshape(shape), pairs, mode=mode)
    return getitem(_reshape(array, (-1,)), index)


# --------------------------------------------------------------------------- flipping


def _flip_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    return (x,), {"axis": gen.axis(x.ndim)}


@declare("flip", numpy=np.flip, group="flipping", cases=_flip_cases, dtypes=ALL_DTYPES,
         torch="torch.flip")
def flip(m: Any, axis: Any = None) -> Any:
    """m reversed along the given axes (all of them by default)  ·  gradient reversed back"""
    ndim = _ndim(m)
    axes = range(ndim) if axis is None else normalize_axis_tuple(axis, ndim)
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(ndim)))


@declare("fliplr", numpy=np.fliplr, group="flipping", dtypes=ALL_DTYPES, torch="torch.fliplr",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=2)),), {}))
def fliplr(m: Any) -> Any:
    """m reversed along its second axis, as np.fliplr"""
    if _ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@declare("flipud", numpy=np.flipud, group="flipping", dtypes=ALL_DTYPES, torch="torch.flipud",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=1)),), {}))
def flipud(m: Any) -> Any:
    """m reversed along its first axis, as np.flipud"""
    if _ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def _roll_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    axis = gen.choice([None, *range(-x.ndim, x.ndim)])
    if x.ndim >= 2 and gen.boolean():
        return (x, (gen.integer(-5, 5), gen.integer(-5, 5))), {"axis": (0, -1)}
    return (x, gen.integer(-5, 5)), {"axis": axis}


@declare("roll", numpy=np.roll, group="flipping", cases=_roll_cases, dtypes=ALL_DTYPES,
         torch="torch.roll")
def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """a shifted cyclically by `shift` along `axis` (flattened when None), as np.roll  ·
    the gradient is shifted back"""
    if axis is None:
        return _reshape(roll(_reshape(a, (-1,)), shift, 0), _shape(a))
    ndim = _ndim(a)
    axes = normalize_axis_tuple(axis, ndim, allow_duplicate=True)
    pairs = np.broadcast(shift, axes)
    if pairs.ndim > 1:
        raise ValueError("'shift' and 'axis' should be scalars or 1D sequences")
    shifts = dict.fromkeys(range(ndim), 0)
    for s, ax in pairs:
        shifts[ax] += int(s)
    shape = _shape(a)
    for ax, s in shifts.items():
        cut = shape[ax] - s % shape[ax] if shape[ax] else 0
        if 0 < cut < shape[ax]:
            a = concatenate([getitem(a, _along(ax, slice(cut, None))),
                             getitem(a, _along(ax, slice(None, cut)))], axis=ax)
    return a


def _rot90_cases(gen):
    x = gen.array(gen.shape(min_dims=2))
    axes = gen.choice([(0, 1), (1, 0), (-1, -2), (0, x.ndim - 1)])
    return (x,), {"k": gen.integer(-3, 5), "axes": axes}


@declare("rot90", numpy=np.rot90, group="flipping", cases=_rot90_cases, dtypes=ALL_DTYPES,
         torch="torch.rot90")
def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    """m rotated by k quarter turns in the plane of `axes` (from the first towards the
    second), as np.rot90  ·  the gradient is rotated back"""
    axes = tuple(axes)
    ndim = _ndim(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    if axes[0] == axes[1] or abs(axes[0] - axes[1]) == ndim:
        raise ValueError("Axes must be different.")
    if not all(-ndim <= ax < ndim for ax in axes):
        raise ValueError(f"Axes={axes} out of range for array of ndim={ndim}.")
    k %= 4
    if k == 0:
        return getitem(m, (slice(None),))
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    order = list(range(ndim))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), tuple(order))
    return flip(transpose(m, tuple(order)), axes[1])


def _triangle_cases(gen):
    return (gen.array(gen.shape(min_dims=1)),), {"k": gen.integer(-2, 2)}


def _triangle_shape(name: str, m: Any) -> tuple[int, ...]:
    shape = _shape(m)
    if not shape:
        raise ValueError(f"{name}: the input needs at least 1 dimension (a 1-D input is a "
                         "row repeated); got a 0-d array")
    return shape


@declare("triu", numpy=np.triu, group="selection", cases=_triangle_cases, dtypes=ALL_DTYPES,
         torch="torch.triu")
def triu(m: Any, k: int = 0) -> Any:
    """m with the elements below the k-th diagonal zeroed (of the last two axes; a 1-D
    input is a row repeated), as np.triu  ·  the gradient is masked the same way"""
    shape = _triangle_shape("triu", m)
    below = np.tri(*shape[-2:], k=k - 1, dtype=bool)
    return where(below, np.zeros((), dtype=np.result_type(raw(m))), m)


@declare("tril", numpy=np.tril, group="selection", cases=_triangle_cases, dtypes=ALL_DTYPES,
         torch="torch.tril")
def tril(m: Any, k: int = 0) -> Any:
    """m with the elements above the k-th diagonal zeroed, as np.tril  ·  gradient masked"""
    shape = _triangle_shape("tril", m)
    keep = np.tri(*shape[-2:], k=k, dtype=bool)
    return where(keep, m, np.zeros((), dtype=np.result_type(raw(m))))


# --------------------------------------------------------------------------- indexing


def _take_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    axis = gen.choice([None, *range(-x.ndim, x.ndim)])
    n = x.size if axis is None else x.shape[axis]
    mode = gen.choice(["raise", "wrap", "clip"])
    low, high = (-n, n - 1) if mode == "raise" else (-2 * n, 2 * n)
    index = np.array([gen.integer(low, high) for _ in range(gen.integer(1, 5))], dtype=int)
    if gen.boolean():
        index = index.reshape(-1, 1)
    return (x, index), {"axis": axis, "mode": mode}


@declare("take", numpy=np.take, method="take", group="indexing", cases=_take_cases,
         dtypes=ALL_DTYPES, torch="torch.take",
         domain="indices are constant integer (or boolean) arrays")
def take(a: Any, indices: Any, axis: int | None = None, out: Any = None,
         mode: str = "raise") -> Any:
    """Elements at `indices` along `axis` (of the flattened array when None), as np.take
    (mode 'raise', 'wrap' or 'clip')  ·  the gradient is scattered back, repeats adding"""
    _refuse_out("take", out)
    if axis is None:
        a, axis = _reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, _ndim(a))
    indices = _indices(indices, "take")
    n = _shape(a)[axis]
    if mode == "wrap":
        indices = indices % n if n else indices
    elif mode == "clip":
        indices = np.clip(indices, 0, max(n - 1, 0))
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', not {mode!r}")
    return getitem(a, _along(axis, indices))


def _along_axis_index(shape: tuple, indices: np.ndarray, axis: int) -> tuple:
    """The fancy index that picks indices[..., i, ...] along `axis` (np.take_along_axis)."""
    if indices.ndim != len(shape):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    ones = (1,) * indices.ndim
    return tuple(indices if dim == axis else
                 np.arange(n).reshape((*ones[:dim], -1, *ones[dim + 1:]))
                 for dim, n in enumerate(shape))


def _take_along_axis_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    axis = gen.integer(-x.ndim, x.ndim - 1)
    shape = list(x.shape)
    n, shape[axis] = shape[axis], gen.integer(1, 4)
    index = np.array([gen.integer(-n, n - 1) for _ in range(math.prod(shape))], dtype=int)
    return (x, index.reshape(shape)), {"axis": axis}


@declare("take_along_axis", numpy=np.take_along_axis, group="indexing",
         cases=_take_along_axis_cases, dtypes=ALL_DTYPES, torch="torch.take_along_dim",
         domain="indices are a constant integer array")
def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """arr[..., indices[..., i, ...], ...] along `axis` (of the flattened array when None),
    as np.take_along_axis  ·  the gradient is scattered back, repeats adding"""
    indices = _indices(indices, "take_along_axis")
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr, axis = _reshape(arr, (-1,)), 0
    axis = normalize_axis_index(axis, _ndim(arr))
    return getitem(arr, _along_axis_index(_shape(arr), indices, axis))


def _select_cases(gen):
    shapes = gen.shapes(3)
    count = gen.integer(1, 2)
    conditions = tuple(gen.array(shapes[0]) > 0 for _ in range(count))
    choices = [gen.array(shapes[1 + i % 2]) for i in range(count)]
    return (conditions, choices), {"default": gen.choice([0, -1.5])}


@declare("select", numpy=np.select, group="selection", cases=_select_cases, dtypes=ALL_DTYPES,
         domain="conditions are constant boolean arrays")
def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """choicelist[i] where condlist[i] first holds, else default, as np.select  ·  the
    gradient follows the branch taken"""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conditions = []
    for i, condition in enumerate(condlist):
        condition = None if isinstance(condition, Value) else np.asarray(condition)
        if condition is None or condition.dtype != bool:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
        conditions.append(condition)
    result = default
    for condition, choice in zip(reversed(conditions), reversed(list(choicelist)),
                                 strict=True):
        result = where(condition, choice, result)
    return result


def _choose_cases(gen):
    shapes = gen.shapes(3)
    count = gen.integer(1, 3)
    choices = [gen.array(shapes[1 + i % 2]) for i in range(count)]
    index = np.array([gen.integer(0, count - 1) for _ in range(math.prod(shapes[0]))],
                     dtype=int).reshape(shapes[0])
    return (index, choices), {}


@declare("choose", numpy=np.choose, group="selection", cases=_choose_cases, dtypes=ALL_DTYPES,
         domain="the index array a is a constant integer array")
def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """choices[a[i]][i] elementwise (all broadcast together), as np.choose (mode 'raise',
    'wrap' or 'clip')  ·  the gradient goes to the choice taken"""
    _refuse_out("choose", out)
    a = _indices(a, "choose")
    count = len(choices)
    if mode == "wrap":
        a = a % count
    elif mode == "clip":
        a = np.clip(a, 0, count - 1)
    elif mode != "raise":
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', not {mode!r}")
    elif a.size and (a.min() < 0 or a.max() >= count):
        raise ValueError("invalid entry in choice array")
    if isinstance(choices, (Value, np.ndarray)):
        shape = np.broadcast_shapes(a.shape, _shape(choices)[1:])
        stacked = broadcast_to(choices, (count, *shape))
    else:
        shape = np.broadcast_shapes(a.shape, *(_shape(c) for c in choices))
        stacked = _stack(*(broadcast_to(c, shape) for c in choices), axis=0)
    grid = np.indices(shape, sparse=True) if shape else ()
    return getitem(stacked, (np.broadcast_to(a, shape), *grid))


# --------------------------------------------------------------------------- sorting


@primitive(name="permute_along")
def _permute_along(x, order, inverse, axis):
    """x rearranged along `axis` by a permutation, x[..., order, ...]  ·  the gradient is
    rearranged back by the inverse permutation"""
    return np.take_along_axis(x, order, axis=axis)


_permute_along.defvjp(lambda g, out, x, order, inverse, axis:
                      _permute_along(g, inverse, order, axis), None, None, None)


def _permuted(a: Any, order: np.ndarray, axis: int) -> Any:
    """a[..., order, ...] along `axis`, for a permutation `order` of that axis."""
    inverse = np.empty_like(order)
    ones = [1] * order.ndim
    ones[axis] = -1
    np.put_along_axis(inverse, order, np.arange(order.shape[axis]).reshape(ones), axis)
    return _permute_along(a, order, inverse, axis)


def _sort_cases(gen):
    x = gen.array(gen.shape(min_dims=1), "distinct")
    return (x,), {"axis": gen.choice([None, *range(-x.ndim, x.ndim)])}


@declare("sort", dask=False, numpy=np.sort, method="sort", group="sorting", cases=_sort_cases,
         dtypes=ALL_DTYPES, torch="torch.sort",
         domain="ties keep their order (stable): the first of equal elements in the input "
                "gets the first place and its gradient; complex numbers sort by real part, "
                "then imaginary part",
         notes="the method v.sort() returns a new sorted Value (as JAX arrays do); it "
               "never sorts in place")
def sort(a: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
         stable: bool | None = None) -> Any:
    """a sorted along `axis` (flattened when None), as np.sort; a new Value, never in
    place  ·  the gradient goes back through the (stable) sorting permutation"""
    if order is not None:
        raise TypeError("sort: order= (fields of structured arrays) does not apply to Values")
    if axis is None:
        a, axis = _reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, _ndim(a))
    return _permuted(a, np.argsort(raw(a), axis=axis, kind="stable"), axis)


def _partition_cases(gen):
    x = gen.array(gen.shape(min_dims=1), "distinct")
    axis = gen.choice([None, *range(-x.ndim, x.ndim)])
    n = x.size if axis is None else x.shape[axis]
    kth = gen.choice([gen.integer(-n, n - 1), (0, n - 1)])
    return (x, kth), {"axis": axis}


@declare("partition", dask=False, numpy=np.partition, method="partition", group="sorting",
         cases=_partition_cases, dtypes=ALL_DTYPES,
         domain="the values are numpy's; among equal elements the first in the input takes "
                "the first of their places (and its gradient), as a stable sort would",
         notes="the method v.partition(kth) returns a new Value; it never works in place")
def partition(a: Any, kth: Any, axis: int | None = -1, kind: str = "introselect",
              order: Any = None) -> Any:
    """a rearranged so the kth element is where sorting would put it, smaller ones before
    and larger ones after (in numpy's order), as np.partition  ·  the gradient goes back
    through the permutation"""
    if order is not None:
        raise TypeError("partition: order= (fields of structured arrays) does not apply to "
                        "Values")
    if axis is None:
        a, axis = _reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, _ndim(a))
    data = np.asarray(raw(a))
    values = np.partition(data, kth, axis=axis, kind=kind)
    # Which input element goes to which place: the j-th smallest input (equal ones in input
    # order) to the place of the j-th smallest output (equal ones in output order).
    places = np.argsort(values, axis=axis, kind="stable")
    sources = np.argsort(data, axis=axis, kind="stable")
    permutation = np.empty_like(sources)
    np.put_along_axis(permutation, places, sources, axis)
    return _permuted(a, permutation, axis)


# --------------------------------------------------------------------------- unique
#
# The unique values are a gather of the input: each is the first occurrence of its value
# (the element return_index names), which takes its gradient; the other copies get none.
# numpy computes everything on the data (values, indices, inverse, counts, in numpy's own
# order and structure); the values are then gathered from the input at those indices.

_UNIQUE_DOMAIN = ("each unique value is the first occurrence of its value in the input (the "
                  "element return_index names), which gets its gradient; later copies get "
                  "none; indices, inverse and counts are constant integer arrays")


def _first_occurrences(data: np.ndarray, values: np.ndarray, axis: int | None,
                       equal_nan: bool) -> np.ndarray:
    """For each of numpy's unique `values` of `data` (along `axis`, or of the flattened data
    for None), in numpy's order (sorted or not), the index of its first occurrence."""
    _, first = np.unique(data, return_index=True, axis=axis, equal_nan=equal_nan)
    # `first` follows numpy's sorted order (a stable sort: first occurrences); where the
    # values came in another order (sorted=False), sorting them gives the way back
    _, order = np.unique(values, return_index=True, axis=axis, equal_nan=equal_nan)
    if order.shape != first.shape:  # pragma: no cover - numpy's unique disagrees with itself
        raise RuntimeError("unique: numpy's unique values could not be matched to the input")
    index = np.empty_like(first)
    index[order] = first
    return index


def _gathered(ar: Any, index: np.ndarray, axis: int | None) -> Any:
    """ar's elements (slices along `axis`) at `index`: the unique values, differentiable."""
    if axis is None:
        return getitem(_reshape(ar, (-1,)), index)
    return getitem(ar, _along(normalize_axis_index(axis, _ndim(ar)), index))


def _unique_data(ar: Any) -> np.ndarray:
    return np.asarray(raw(ar))


def _unique_cases(gen):
    x = gen.array(gen.shape(), "distinct")  # (a tie breaks when either copy moves)
    return (x,), {"axis": gen.choice([None, *range(-x.ndim, x.ndim)])}


@declare("unique", dask=False, numpy=np.unique, group="sorting", cases=_unique_cases,
         dtypes=ALL_DTYPES, domain=_UNIQUE_DOMAIN,
         notes="the gradient of each unique value goes to the first occurrence of its value "
               "(the element return_index names), none to later copies. With return_index, "
               "return_inverse or return_counts it returns numpy's tuple: the values (a "
               "Value), then constant integer arrays. The property tests draw distinct "
               "elements (finite differences break a tie); ties, the flags, axis, equal_nan "
               "and sorted are checked in tests/test_numpy_extras_elementwise.py. "
               "torch.unique has no return_index and no gradient: no torch cross-check")
def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, *, equal_nan: bool = True,
           sorted: bool = True) -> Any:
    """The unique elements of ar (slices along `axis`), as np.unique, with the indices of
    their first occurrences, the inverse and the counts as numpy returns them  ·  each
    unique value's gradient goes to the first occurrence of its value"""
    data = _unique_data(ar)
    keywords: dict[str, Any] = {"axis": axis, "equal_nan": equal_nan}
    if not sorted:  # (numpy ≥ 2.3 has sorted=; only False needs saying)
        keywords["sorted"] = False
    result = np.unique(data, return_index, return_inverse, return_counts, **keywords)
    if not (return_index or return_inverse or return_counts):
        return _gathered(ar, _first_occurrences(data, result, axis, equal_nan), axis)
    values, *rest = result
    index = rest[0] if return_index else _first_occurrences(data, values, axis, equal_nan)
    return (_gathered(ar, index, axis), *rest)


_UNIQUE_TUPLE_NOTES = ("returns numpy's named tuple with the values a Value (the other fields "
                       "constant integer arrays), so the table's single-output property tests "
                       "skip it; tests/test_numpy_extras_elementwise.py checks it")


@declare("unique_all", dask=False, numpy=np.unique_all, group="sorting", dtypes=ALL_DTYPES,
         domain=_UNIQUE_DOMAIN + "; nan values are all distinct (equal_nan=False, as numpy)",
         notes=_UNIQUE_TUPLE_NOTES)
def unique_all(x: Any) -> Any:
    """(values, indices, inverse_indices, counts) of the flattened x, as np.unique_all  ·
    each unique value's gradient goes to its first occurrence"""
    result = np.unique_all(_unique_data(x))
    return result._replace(values=_gathered(x, result.indices, None))


def _values_gathered(x: Any, function: Any) -> Any:
    """numpy's named tuple `function(x)` with its `values` gathered from x's first
    occurrences (nan values all distinct, as the unique_* functions count them)."""
    data = _unique_data(x)
    result = function(data)
    index = _first_occurrences(data, result.values, None, equal_nan=False)
    return result._replace(values=_gathered(x, index, None))


@declare("unique_counts", dask=False, numpy=np.unique_counts, group="sorting",
         dtypes=ALL_DTYPES,
         domain=_UNIQUE_DOMAIN + "; nan values are all distinct (equal_nan=False, as numpy)",
         notes=_UNIQUE_TUPLE_NOTES)
def unique_counts(x: Any) -> Any:
    """(values, counts) of the flattened x, as np.unique_counts  ·  each unique value's
    gradient goes to its first occurrence"""
    return _values_gathered(x, np.unique_counts)


@declare("unique_inverse", dask=False, numpy=np.unique_inverse, group="sorting",
         dtypes=ALL_DTYPES,
         domain=_UNIQUE_DOMAIN + "; nan values are all distinct (equal_nan=False, as numpy)",
         notes=_UNIQUE_TUPLE_NOTES)
def unique_inverse(x: Any) -> Any:
    """(values, inverse_indices) of x, as np.unique_inverse  ·  each unique value's gradient
    goes to its first occurrence"""
    return _values_gathered(x, np.unique_inverse)


@declare("unique_values", dask=False, numpy=np.unique_values, group="sorting",
         dtypes=ALL_DTYPES,
         domain=_UNIQUE_DOMAIN + "; nan values are all distinct (equal_nan=False, as numpy)",
         notes="numpy does not promise an order (it may come from a hash table and change "
               "with the values, which finite differences would trip over): no property "
               "tests; tests/test_numpy_extras_elementwise.py checks it")
def unique_values(x: Any) -> Any:
    """The unique elements of the flattened x in numpy's order, as np.unique_values  ·  each
    one's gradient goes to its first occurrence"""
    data = _unique_data(x)
    values = np.unique_values(data)
    return _gathered(x, _first_occurrences(data, values, None, equal_nan=False), None)
