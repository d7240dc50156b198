"""Contractions: einsum and the products numpy builds from it (dot, vdot, inner, outer,
tensordot, kron), and the diagonal family (trace, diagonal, diag), and cross.

One primitive does the work: `_einsum`, on explicit subscripts (ellipses expanded into
letters). Its VJP for operand k is another einsum, of the output cotangent with the other
operands, onto operand k's subscripts: a letter repeated in operand k (a diagonal it reads)
gets a fresh letter tied to the first by an identity matrix, so the cotangent lands on that
diagonal; a letter only operand k has (summed away) gets a vector of ones, so the cotangent
is broadcast back along it. The rules are einsums again, so every order differentiates.

Complex data: rules are plain transposes (no conjugation); vdot conjugates its first
argument by definition, with the `conj` primitive, whose rule conjugates the cotangent.
"""

from __future__ import annotations

import math
import operator
import string
from collections import Counter
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..backend import is_lazy
from ..engine import astype, conj, primitive
from ..value import raw
from .linalg import matmul
from .reductions import sum_
from .shape import getitem, reshape, scatter_add, stack, transpose
from .table import ALL_DTYPES, declare

__all__ = ["cross", "diag", "diagonal", "dot", "einsum", "inner", "kron", "linalg_cross", "outer",
           "tensordot", "trace", "vdot"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # in numpy's (ASCII) order


def _refuse_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")


# --------------------------------------------------------------------------- einsum


@primitive(name="einsum")
def _einsum(*operands, subscripts, optimize=False):
    """Σ over the letters not in the output of the product of the operands (explicit
    subscripts)  ·  ∂/∂operand k = einsum of g with the other operands"""
    if "..." not in subscripts and any(is_lazy(o) for o in operands):
        # Dask contracts block by block: every axis of one letter needs the same chunks
        from dask.array.core import unify_chunks

        letters = subscripts.split("->")[0].split(",")
        operands = [_repeats_alike(x, s) for x, s in zip(operands, letters, strict=True)]
        _, operands = unify_chunks(*(x for pair in zip(operands, letters, strict=True)
                                     for x in pair))
    return np.einsum(subscripts, *operands, optimize=optimize)


def _repeats_alike(x: Any, letters: str) -> Any:
    """A Dask operand with the axes of a repeated letter (a diagonal, 'ii') in the chunks
    of the letter's first axis (unify_chunks aligns letters across operands only)."""
    if not is_lazy(x):
        return x
    first: dict[str, int] = {}
    chunks = {}
    for axis, letter in enumerate(letters):
        if letter in first:
            chunks[axis] = x.chunks[first[letter]]
        else:
            first[letter] = axis
    return x.rechunk(chunks) if chunks else x


def _einsum_vjp(argnums, g, out, *operands, subscripts, optimize=False):
    inputs, output = subscripts.split("->")
    parts = inputs.split(",")
    shapes = [np.shape(raw(x)) for x in operands]
    used = set(subscripts)
    fresh = iter(c for c in _LETTERS if c not in used)
    dtype = np.result_type(raw(g))
    cotangents = []
    for k in argnums:
        target = parts[k]
        elsewhere = set(output).union(*(parts[j] for j in range(len(parts)) if j != k))
        terms = [g] + [operands[j] for j in range(len(parts)) if j != k]
        subs = [output] + [parts[j] for j in range(len(parts)) if j != k]
        first: dict[str, int] = {}
        result = ""
        for position, letter in enumerate(target):
            size = shapes[k][position]
            if letter in first:  # a diagonal of operand k: scatter back onto it
                tied = next(fresh)
                terms.append(np.eye(shapes[k][first[letter]], size, dtype=dtype))
                subs.append(letter + tied)
                result += tied
                continue
            first[letter] = position
            result += letter
            if letter not in elsewhere or (size != 1 and _stretched(letter, size, subs, terms)):
                # summed away in operand k alone, or a length-1 axis elsewhere that the
                # forward stretched to operand k's length: broadcast back
                terms.append(np.ones(size, dtype=dtype))
                subs.append(letter)
        cotangents.append(_einsum(*terms, subscripts=",".join(subs) + "->" + result,
                                  optimize=optimize))
    return cotangents


def _stretched(letter: str, size: int, subs: list[str], terms: list[Any]) -> bool:
    """True if every other occurrence of `letter` has length 1 (so einsum stretched it)."""
    lengths = [np.shape(raw(t))[sub.index(letter)] for sub, t in zip(subs, terms, strict=True)
               if letter in sub]
    return all(n == 1 for n in lengths)


_einsum.defvjp_argnums(_einsum_vjp)


def _from_sublists(operands: tuple) -> tuple[str, tuple]:
    """numpy's interleaved form einsum(op0, sublist0, op1, sublist1, ..., [sublistout])."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else _LETTERS[operator.index(s)] for s in sublist)

    arrays, subs = list(operands[0::2]), [letters(s) for s in operands[1::2]]
    output = None
    if len(operands) % 2:  # the last item is the output sublist
        arrays, output = arrays[:-1], letters(operands[-1])
    spec = ",".join(subs) + ("" if output is None else "->" + output)
    return spec, tuple(arrays)


def _explicit(subscripts: str, shapes: list[tuple]) -> str:
    """Explicit subscripts with every ellipsis replaced by letters (right-aligned, as numpy
    broadcasts them), and the implicit output spelled out."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    parts = inputs.split(",")
    if len(parts) != len(shapes):
        raise ValueError(f"einsum: {len(parts)} operand subscripts for {len(shapes)} operands")
    for c in subscripts.replace("...", "").replace(",", "").replace("->", ""):
        if c not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {c!r} in {subscripts!r}")
    spare = [c for c in _LETTERS if c not in subscripts]
    widths = []
    for part, shape in zip(parts, shapes, strict=True):
        named = len(part.replace("...", ""))
        width = len(shape) - named if "..." in part else 0
        if width < 0 or ("..." not in part and named != len(shape)):
            raise ValueError(f"einsum: subscripts {part!r} do not fit an operand of shape "
                             f"{shape}")
        widths.append(width)
    ellipsis = "".join(spare[:max(widths, default=0)])
    expanded = [part.replace("...", ellipsis[len(ellipsis) - width:]) if "..." in part
                else part for part, width in zip(parts, widths, strict=True)]
    if not arrow:
        counts = Counter("".join(p.replace("...", "") for p in parts))
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    elif "..." in output:
        output = output.replace("...", ellipsis)
    elif ellipsis:
        raise ValueError("einsum: the output has no '...' but the operands' ellipses cover "
                         "axes; add '...' to the output")
    return ",".join(expanded) + "->" + output


def _einsum_cases(gen):
    specs = [("ij,jk->ik", "ij", "jk"), ("ii->i", "ii"), ("ii", "ii"), ("ij->", "ij"),
             ("...ij,...jk", "Bij", "Bjk"), ("i,i", "i", "i"), ("ijk,ik->j", "ijk", "ik"),
             ("ij,kl->ijkl", "ij", "kl"), ("iij->ji", "iij"), ("ij,j", "ij", "j"),
             ("ij,jk,kl->il", "ij", "jk", "kl"), ("ba", "ba"), ("i,j->", "i", "j")]
    spec, *shapes = gen.choice(specs)
    size = {c: gen.integer(1, 3) for c in "ijklab"}
    size["B"] = 2
    return (spec, *[gen.array(tuple(size[c] for c in s)) for s in shapes]), {}


@declare("einsum", numpy=np.einsum, group="contractions", cases=_einsum_cases,
         dtypes=ALL_DTYPES, torch="torch.einsum",
         domain="explicit or implicit subscripts, repeated letters, '...'; any operands")
def einsum(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None,
           order: str = "K", casting: Any = "safe") -> Any:
    """Einstein summation, as np.einsum  ·  ∂/∂operand k = einsum(g, other operands)"""
    _refuse_out("einsum", out)
    if not operands:
        raise TypeError("einsum: no operands given")
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0], operands[1:]
    else:
        subscripts, arrays = _from_sublists(operands)
    spec = _explicit(subscripts, [np.shape(raw(a)) for a in arrays])
    if dtype is not None:
        for a in arrays:  # numpy casts the operands to dtype under `casting` ('safe')
            if not np.can_cast(np.result_type(raw(a)), dtype, casting=casting):
                raise TypeError(f"einsum: cannot cast an operand of dtype "
                                f"{np.result_type(raw(a))} to {np.dtype(dtype)} according to "
                                f"the rule {casting!r} (as numpy refuses it)")
    result = _einsum(*arrays, subscripts=spec, optimize=optimize)
    return result if dtype is None else result.astype(dtype)


# --------------------------------------------------------------------------- products


def _tensordot_spec(a_ndim: int, b_ndim: int, axes: Any) -> str:
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(a_ndim - axes, a_ndim)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ValueError("tensordot: shape-mismatch for sum (the two axes lists differ in "
                         "length)")
    a = list(_LETTERS[:a_ndim])
    b = list(_LETTERS[a_ndim:a_ndim + b_ndim])
    axes_a = list(normalize_axis_tuple(axes_a, a_ndim, "axes"))  # (range and repeats checked)
    axes_b = list(normalize_axis_tuple(axes_b, b_ndim, "axes"))
    for i, j in zip(axes_a, axes_b, strict=True):
        b[j] = a[i]
    contracted = set(a) & set(b)
    output = [c for c in a if c not in contracted] + [c for c in b if c not in contracted]
    return "".join(a) + "," + "".join(b) + "->" + "".join(output)


def _tensordot_cases(gen):
    n, k, m = gen.integer(1, 3), gen.integer(1, 3), gen.integer(1, 3)
    shapes, axes = gen.choice([(((n, k), (k, m)), 1), (((n, k), (n, k)), 2),
                               (((2, n, k), (k, 2, m)), ([2], [0])),
                               (((n, k), (m, n)), ([0], [1])), (((n,), (m,)), 0)])
    return (gen.array(shapes[0]), gen.array(shapes[1])), {"axes": axes}


@declare("tensordot", numpy=(np.tensordot, np.linalg.tensordot), group="contractions",
         cases=_tensordot_cases, dtypes=ALL_DTYPES, torch="torch.tensordot")
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Σ over the paired axes of a ⊗ b, as np.tensordot  ·  an einsum"""
    spec = _tensordot_spec(np.ndim(raw(a)), np.ndim(raw(b)), axes)
    _paired_axes_match("tensordot", spec, np.shape(raw(a)), np.shape(raw(b)))
    return _einsum(a, b, subscripts=spec)


def _paired_axes_match(name: str, spec: str, a_shape: tuple, b_shape: tuple) -> None:
    """The axes a contraction sums over pair up exactly, as numpy's dot, inner and
    tensordot require (the einsum underneath would stretch a length-1 axis instead)."""
    left, right = spec.split("->")[0].split(",")
    for i, letter in enumerate(left):
        j = right.find(letter)
        if j >= 0 and a_shape[i] != b_shape[j]:
            raise ValueError(f"{name}: shape mismatch for sum: axis {i} of the first input "
                             f"has length {a_shape[i]}, axis {j} of the second {b_shape[j]} "
                             f"(shapes {a_shape} and {b_shape})")


def _dot_cases(gen):
    n, k, m = gen.integer(1, 3), gen.integer(1, 3), gen.integer(1, 3)
    left, right = gen.choice([((), (n, k)), ((k,), (k,)), ((n, k), (k,)), ((k,), (k, m)),
                              ((n, k), (k, m)), ((2, n, k), (k,)), ((2, n, k), (3, k, m)),
                              ((n, k), (2, k, m))])
    return (gen.array(left), gen.array(right)), {}


@declare("dot", numpy=np.dot, group="contractions", cases=_dot_cases, dtypes=ALL_DTYPES)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """Σ a[..., k] b[..., k, :], as np.dot (products of scalars, vectors, matrices, stacks)"""
    _refuse_out("dot", out)
    a_ndim, b_ndim = np.ndim(raw(a)), np.ndim(raw(b))
    if a_ndim == 0 or b_ndim == 0:
        return a * b
    if a_ndim <= 2 and b_ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [0 if b_ndim == 1 else -2]))


@declare("vdot", numpy=np.vdot, group="contractions",
         cases=lambda gen: (_same_pair(gen), {}),
         dtypes=ALL_DTYPES, torch="torch.vdot",
         domain="conjugates its first argument (non-holomorphic in it)")
def vdot(a: Any, b: Any) -> Any:
    """Σ conj(a)ᵢ bᵢ over the flattened arrays  ·  ∂/∂b = conj(a); a's cotangent conj(g b)"""
    sizes = math.prod(np.shape(raw(a))), math.prod(np.shape(raw(b)))
    if sizes[0] != sizes[1]:
        raise ValueError(f"vdot: size mismatch: the inputs have {sizes[0]} and {sizes[1]} "
                         f"elements (shapes {np.shape(raw(a))} and {np.shape(raw(b))}); vdot "
                         "flattens both and needs the same number")
    return _einsum(conj(reshape(a, -1)), reshape(b, -1), subscripts="i,i->")


def _same_pair(gen):
    shape = gen.shape(min_dims=1)
    return (gen.array(shape), gen.array(shape))


def _inner_cases(gen):
    k = gen.integer(1, 3)
    left, right = gen.choice([((), (2, k)), ((k,), (k,)), ((2, k), (k,)), ((2, k), (3, k)),
                              ((2, 2, k), (3, k))])
    return (gen.array(left), gen.array(right)), {}


@declare("inner", numpy=np.inner, group="contractions", cases=_inner_cases,
         dtypes=ALL_DTYPES, torch="torch.inner")
def inner(a: Any, b: Any) -> Any:
    """Σ a[..., k] b[..., k] over the last axes, as np.inner"""
    if np.ndim(raw(a)) == 0 or np.ndim(raw(b)) == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@declare("outer", numpy=np.outer, group="contractions",
         cases=lambda gen: ((gen.array(gen.shape(min_dims=1, max_dims=2)),
                             gen.array(gen.shape(min_dims=1, max_dims=1))), {}),
         dtypes=ALL_DTYPES, torch="torch.outer")
def outer(a: Any, b: Any, out: Any = None) -> Any:
    """aᵢ bⱼ of the flattened arrays, as np.outer"""
    _refuse_out("outer", out)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


@declare("kron", numpy=np.kron, group="contractions",
         cases=lambda gen: ((gen.array(gen.shape(max_dims=2, max_side=3)),
                             gen.array(gen.shape(max_dims=3, max_side=3))), {}),
         dtypes=ALL_DTYPES, torch="torch.kron")
def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: blocks a[i…] · b, as np.kron"""
    a_shape, b_shape = np.shape(raw(a)), np.shape(raw(b))
    ndim = max(len(a_shape), len(b_shape))
    if ndim == 0:
        return a * b
    a_shape = (1,) * (ndim - len(a_shape)) + a_shape
    b_shape = (1,) * (ndim - len(b_shape)) + b_shape
    spread_a = reshape(a, tuple(n for side in a_shape for n in (side, 1)))
    spread_b = reshape(b, tuple(n for side in b_shape for n in (1, side)))
    return reshape(spread_a * spread_b, tuple(p * q for p, q in zip(a_shape, b_shape,
                                                                     strict=True)))


# --------------------------------------------------------------------------- diagonals


def _moveaxis(x: Any, source: int, destination: int) -> Any:
    ndim = np.ndim(raw(x))
    source = normalize_axis_index(source, ndim)
    destination = normalize_axis_index(destination, ndim)
    if source == destination:
        return x
    order = [i for i in range(ndim) if i != source]
    order.insert(destination, source)
    return transpose(x, tuple(order))


def _diagonal_cases(gen):
    x = gen.array(gen.shape(min_dims=2))
    axis1, axis2 = gen.choice([(0, 1), (1, 0), (-1, -2), (0, -1)])
    return (x,), {"offset": gen.integer(-1, 1), "axis1": axis1, "axis2": axis2}


@declare("diagonal", numpy=np.diagonal, method="diagonal", group="contractions",
         cases=_diagonal_cases, dtypes=ALL_DTYPES, torch="torch.diagonal")
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """a[..., i, i + offset] over axes (axis1, axis2), moved last, as np.diagonal  ·  the
    gradient is scattered back onto the diagonal"""
    shape = np.shape(raw(a))
    ndim = len(shape)
    if ndim < 2:
        raise ValueError("diagonal: a needs at least two axes")
    axis1, axis2 = normalize_axis_index(axis1, ndim), normalize_axis_index(axis2, ndim)
    if axis1 == axis2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    order = (*tuple(i for i in range(ndim) if i not in (axis1, axis2)), axis1, axis2)
    moved = a if order == tuple(range(ndim)) else transpose(a, order)
    rows, cols, offset = shape[axis1], shape[axis2], operator.index(offset)
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    index = np.arange(length)
    return getitem(moved, (Ellipsis, index + max(-offset, 0), index + max(offset, 0)))


def _trace_cases(gen):
    x = gen.array(gen.shape(min_dims=2))
    axis1, axis2 = gen.choice([(0, 1), (1, 0), (-1, -2), (0, -1)])
    return (x,), {"offset": gen.integer(-1, 1), "axis1": axis1, "axis2": axis2}


@declare("trace", numpy=np.trace, method="trace", group="contractions", cases=_trace_cases,
         dtypes=ALL_DTYPES, torch="torch.trace")
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Any:
    """Σᵢ a[..., i, i + offset], as np.trace  ·  ∂/∂a = g on the diagonal"""
    _refuse_out("trace", out)
    return sum_(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def _diag_cases(gen):
    n = gen.integer(1, 3)
    return (gen.array(gen.choice([(n,), (n, gen.integer(1, 3))])),), {"k": gen.integer(-1, 1)}


@declare("diag", numpy=np.diag, group="contractions", cases=_diag_cases, dtypes=ALL_DTYPES,
         torch="torch.diag")
def diag(v: Any, k: int = 0) -> Any:
    """A 1-D v placed on the k-th diagonal of a square matrix, or the k-th diagonal of a 2-D
    v, as np.diag"""
    shape = np.shape(raw(v))
    k = operator.index(k)
    if len(shape) == 2:
        return diagonal(v, k)
    if len(shape) != 1:
        raise ValueError("diag: input must be 1- or 2-d")
    n = shape[0] + abs(k)
    index = np.arange(shape[0])
    return scatter_add(v, (index + max(-k, 0), index + max(k, 0)), (n, n))


def _dtype(x: Any) -> np.dtype:
    data = raw(x)
    return data.dtype if hasattr(data, "dtype") else np.asarray(data).dtype


def _in_common_dtype(a: Any, b: Any) -> tuple[Any, Any]:
    """a and b cast to numpy's promoted dtype of the two, as np.cross computes: its 0-d
    float64 components would otherwise be Python floats, pulled to float32 by the other's."""
    dtype = np.promote_types(_dtype(a), _dtype(b))
    a = a if _dtype(a) == dtype else astype(a, dtype)
    b = b if _dtype(b) == dtype else astype(b, dtype)
    return a, b


def _cross_cases(gen):
    batch = gen.choice([(), (2,)])
    left, right = gen.choice([((3,), (3,)), ((*batch, 3), (3,)), ((3,), (*batch, 3)),
                              ((*batch, 3), (*batch, 3))])
    return (gen.array(left), gen.array(right)), {}


def _linalg_cross_cases(gen):
    batch = gen.choice([(), (2,)])
    return (gen.array((*batch, 3)), gen.array((*batch, 3))), {}


@declare("linalg.cross", numpy=np.linalg.cross, group="contractions", cases=_linalg_cross_cases,
         dtypes=ALL_DTYPES, torch="torch.linalg.cross")
def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """x1 × x2 of 3-vectors along `axis`, broadcast, as np.linalg.cross"""
    for x in (x1, x2):
        shape = np.shape(raw(x))
        if not shape or shape[axis] != 3:
            raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, but "
                             f"they are {np.shape(raw(x1))[axis:] or ()} and "
                             f"{np.shape(raw(x2))[axis:] or ()} dimensional instead.")
    return cross(x1, x2, axis=axis)


@declare("cross", numpy=np.cross, group="contractions", cases=_cross_cases,
         dtypes=ALL_DTYPES, torch="torch.linalg.cross")
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """a × b of 3-vectors (2-vectors have a zero third component), broadcast, as np.cross"""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _in_common_dtype(a, b)
    a, b = _moveaxis(a, axisa, -1), _moveaxis(b, axisb, -1)
    sizes = np.shape(raw(a))[-1], np.shape(raw(b))[-1]
    if any(n not in (2, 3) for n in sizes):
        raise ValueError("cross: incompatible dimensions for cross product (dimension must "
                         "be 2 or 3)")
    a0, a1 = getitem(a, (Ellipsis, 0)), getitem(a, (Ellipsis, 1))
    b0, b1 = getitem(b, (Ellipsis, 0)), getitem(b, (Ellipsis, 1))
    z = a0 * b1 - a1 * b0
    if sizes == (2, 2):
        return z
    if sizes[0] == 3 and sizes[1] == 3:
        a2, b2 = getitem(a, (Ellipsis, 2)), getitem(b, (Ellipsis, 2))
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif sizes[0] == 3:  # b has no third component
        a2 = getitem(a, (Ellipsis, 2))
        x, y = -a2 * b1, a2 * b0
    else:
        b2 = getitem(b, (Ellipsis, 2))
        x, y = a1 * b2, -a0 * b2
    return _moveaxis(stack([x, y, z], axis=-1), -1, axisc)
