"""numpy's reductions and statistics: products, variances, cumulative sums and products,
the nan-ignoring reductions, weighted averages, medians and quantiles; and the numpy
functions whose results are constants (indices, counts, masks, shapes).

Conventions (PyTorch's where it has one):

* `prod` and `cumprod` give the exact gradient when x has zeros: the product of the other
  elements, never out/x (out/x is used only when no element is zero, where it is exact).
* `std` at zero variance: its gradient is 0 there, as in PyTorch (the plain chain rule
  through √var would give ∞ · 0 = nan).
* median, percentile and quantile sort the data (a constant permutation) and gather: the
  gradient goes to the sorted elements the result interpolates, with numpy's default
  linear interpolation. Ties: the gradient goes to the tied element a stable sort puts at
  that position. The median of an even count is numpy's mean of the two middle values
  (PyTorch's `median` returns the lower one): each gets half the gradient.
* The nan-functions ignore nan: their gradient is 0 at nan entries.
* `where=` is a constant mask (numpy's meaning: masked elements take no part).
"""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..backend import any_, is_lazy
from ..engine import astype, broadcast_to, conj, primitive
from ..value import Value, raw, value_or_array
from .arithmetic import divide
from .arithmetic import where as _select
from .arrays import _along
from .elementwise import clip, sqrt
from .reductions import (
    _axes,
    _cast,
    _mask,
    _restore,
    max_,
    mean,
    min_,
    real_dtype,
    refuse,
    sum_,
)
from .shape import concatenate, getitem, reshape, transpose
from .table import ALL_DTYPES, constant, declare, reduction

__all__ = ["average", "corrcoef", "cov", "cumprod", "cumsum", "diff", "median", "nanmax",
           "nanmean", "nanmin", "nansum", "percentile", "prod", "ptp", "quantile", "std",
           "trapezoid", "var"]

_NO = np._NoValue


# --------------------------------------------------------------------------- helpers


def _given(value: Any) -> bool:
    return value is not None and value is not _NO


def _keep(keepdims: Any) -> bool:
    return False if keepdims is _NO else bool(keepdims)


def _dtype_of(x: Any) -> np.dtype:
    return np.result_type(raw(x))


def _to_last(x: Any, axes: tuple) -> tuple[Any, tuple, tuple]:
    """x with the axes `axes` moved to the end and flattened into one: (x', batch shape,
    permutation used)."""
    shape = np.shape(raw(x))
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = tuple(kept) + tuple(axes)
    moved = transpose(x, perm) if perm != tuple(range(len(shape))) else x
    batch = tuple(shape[i] for i in kept)
    n = math.prod(shape[i] for i in axes)
    return reshape(moved, (*batch, n)), batch, perm


def _from_last(y: Any, shape: tuple, perm: tuple) -> Any:
    """The inverse of `_to_last` for an array of x's size."""
    moved = reshape(y, tuple(shape[i] for i in perm))
    if perm == tuple(range(len(shape))):
        return moved
    return transpose(moved, tuple(int(i) for i in np.argsort(perm)))


def _flip(x: Any, axis: int) -> Any:
    """x reversed along `axis` (differentiable: a basic-indexing getitem)."""
    ndim = np.ndim(raw(x))
    return getitem(x, (slice(None),) * (axis % ndim) + (slice(None, None, -1),))


def _slice(x: Any, axis: int, start: int | None, stop: int | None) -> Any:
    ndim = np.ndim(raw(x))
    return getitem(x, (slice(None),) * (axis % ndim) + (slice(start, stop),))


def _exclusive_cumprod(x: Any, axis: int) -> Any:
    """Π_{k<j} x_k along `axis` (1 at the first position), without division."""
    shape = list(np.shape(raw(x)))
    shape[axis] = 1
    ones = np.ones(shape, dtype=_dtype_of(x))
    shifted = concatenate([ones, _slice(x, axis, None, -1)], axis=axis)
    return _cumprod(shifted, axis)


def _reverse_cumsum(g: Any, axis: int) -> Any:
    """Σ_{i≥j} g_i along `axis`."""
    return _flip(_cumsum(_flip(g, axis), axis), axis)


def _int_axis(axis: Any, name: str) -> int:
    """axis as numpy reads one axis: an integer (operator.index, never truncated), no bool."""
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{name}: axis must be an int or None; got {axis!r}")
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{name}: an integer is required for the axis; got {axis!r}")
    try:
        return operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an int or None; got {axis!r}") from None


# --------------------------------------------------------------------------- prod


@primitive(name="prod")
def _prod(x, axis=None, keepdims=False):
    """Π x over `axis`  ·  ∂/∂xᵢ = Π_{j≠i} xⱼ"""
    return np.prod(x, axis=axis, keepdims=keepdims)


def _others(x, axis):
    """Π_{j≠i} xⱼ over the reduced axes, at each i: exact when x has zeros (no division)."""
    shape = np.shape(raw(x))
    axes = _axes(axis, len(shape))
    flat, _, perm = _to_last(x, axes)
    left = _exclusive_cumprod(flat, -1)
    right = _flip(_exclusive_cumprod(_flip(flat, -1), -1), -1)
    return _from_last(left * right, shape, perm)


def _prod_vjp(g, out, x, axis=None, keepdims=False):
    g = _restore(g, x, axis, keepdims)
    if math.prod(np.shape(raw(x))) == 0:
        return np.zeros(np.shape(raw(x)), dtype=_dtype_of(x))
    if type(x) is not Value and not any_(raw(x) == 0):
        # out / x: accurate away from zeros, at first order. Its derivative is not: at a
        # small xᵢ, ∂(out/xᵢ)/∂xᵢ is two large terms cancelling, so higher orders take
        # the products of the others.
        return divide(g * _restore(out, x, axis, keepdims), x)
    return g * _others(x, axis)


_prod.defvjp(_prod_vjp)


@declare("prod", numpy=np.prod, method="prod", group="reductions", cases=reduction(),
         dtypes=ALL_DTYPES, torch="torch.prod",
         domain="exact at zeros: ∂/∂xᵢ is the product of the others")
def prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NO,
         initial: Any = _NO, where: Any = _NO) -> Any:
    """Π a over `axis`, as np.prod  ·  ∂/∂aᵢ = Π_{j≠i} aⱼ (exact with zeros)"""
    refuse("prod", out=out)
    x = _cast(value_or_array(a), dtype)
    mask = _mask(where, np.shape(raw(x)), "prod")
    if mask is not None:
        x = _select(mask, x, 1)
    result = _prod(x, axis=axis, keepdims=_keep(keepdims))
    return result * raw(initial) if _given(initial) else result


# --------------------------------------------------------------------------- cumsum, cumprod


@primitive(name="cumsum")
def _cumsum(x, axis):
    """Σ_{k≤i} x_k along `axis`  ·  vjp: Σ_{i≥j} g_i (a reversed cumulative sum)"""
    return np.cumsum(x, axis=axis)


_cumsum.defvjp(lambda g, out, x, axis: _reverse_cumsum(g, axis))


def _flatten_for_cumulative(a, axis, dtype, name):
    x = _cast(value_or_array(a), dtype)
    if axis is None:
        return reshape(x, (-1,)), 0
    axis = _int_axis(axis, name)
    ndim = np.ndim(raw(x))
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return (reshape(x, (1,)) if ndim == 0 else x), axis


@declare("cumsum", numpy=np.cumsum, method="cumsum", group="reductions",
         cases=lambda gen: _cumulative_cases(gen, "any"), dtypes=ALL_DTYPES,
         torch="torch.cumsum", domain="axis=None flattens first, as numpy")
def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Σ_{k≤i} a_k along `axis` (flattened when None), as np.cumsum  ·  vjp: reversed
    cumulative sum"""
    refuse("cumsum", out=out)
    x, axis = _flatten_for_cumulative(a, axis, dtype, "cumsum")
    return _cumsum(x, axis)


def _diff_cases(gen):
    x = gen.array(gen.shape(min_dims=1, min_side=3))  # (n ≤ 2 leaves a difference)
    params = {"n": gen.choice([1, 1, 2]), "axis": gen.choice(list(range(-x.ndim, x.ndim)))}
    if gen.boolean():
        params["prepend"] = gen.choice([0.5, gen.array(())])
    return (x,), params


@declare("diff", numpy=np.diff, group="reductions", cases=_diff_cases, dtypes=ALL_DTYPES,
         torch="torch.diff")
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NO, append: Any = _NO) -> Any:
    """a[i+1] − a[i] along `axis`, n times, with `prepend`/`append` joined first, as np.diff
    ·  the gradient of each difference goes +g to a[i+1] and −g to a[i]"""
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    ndim = np.ndim(raw(a))
    if ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, ndim)
    parts = []
    for name, extra in (("prepend", prepend), (None, a), ("append", append)):
        if extra is _NO:
            continue
        if name is not None and np.ndim(raw(extra)) == 0:  # a number: one slice of it
            shape = list(np.shape(raw(a)))
            shape[axis] = 1
            extra = broadcast_to(extra, tuple(shape)) if isinstance(extra, Value) else \
                np.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    later, earlier = _along(axis, slice(1, None)), _along(axis, slice(None, -1))
    for _ in range(n):
        a = getitem(a, later) - getitem(a, earlier)
    return a


def _cov_cases(gen, domain="any"):
    m = gen.array((gen.integer(1, 3), gen.integer(3, 5)), domain)
    rowvar = gen.boolean()
    params = {"rowvar": rowvar, "bias": gen.boolean()}
    return ((m if rowvar else m.T),), params


def _corrcoef_cases(gen):
    """Variables away from perfect correlation: at r = ±1 the result meets numpy's clip to
    [−1, 1], a kink (a draw such as one variable the negative of another lands there)."""
    (m,), params = _cov_cases(gen, "distinct")
    rowvar = params["rowvar"]
    rows = m if rowvar else m.T  # variables × observations
    r = np.corrcoef(rows.astype(np.float64))
    if rows.shape[0] > 1 and np.max(np.abs(r - np.diag(np.diag(r)))) > 0.95:
        bends = np.arange(1, rows.shape[0] + 1)[:, None] * np.arange(rows.shape[1]) ** 2
        rows = (rows + 0.5 * bends).astype(m.dtype)  # a different curvature per variable
    return ((rows if rowvar else rows.T),), {"rowvar": rowvar}


def _observations(name: str, m: Any, y: Any, rowvar: bool) -> Any:
    """The variables as the rows of one matrix, as np.cov reads m and y."""
    parts = []
    for x in (m, y):
        if x is None:
            continue
        ndim = np.ndim(raw(x))
        if ndim > 2:
            raise ValueError(f"{name}: m has more than 2 dimensions")
        if ndim < 2:
            x = reshape(x, (1, -1))
        elif not rowvar:
            x = transpose(x)
        parts.append(x)
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=0)


@declare("cov", numpy=np.cov, group="reductions", cases=_cov_cases, dtypes=ALL_DTYPES,
         torch="torch.cov")
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """The covariance matrix of the variables (rows of m, and of y), as np.cov  ·
    C = X̃ X̃ᴴ / (N − ddof), X̃ the observations less their means"""
    if fweights is not None or aweights is not None:
        raise TypeError("cov: fweights= and aweights= are not supported on Values")
    x = _cast(_observations("cov", m, y, rowvar), dtype)
    n = np.shape(raw(x))[1]
    dof = n - (ddof if ddof is not None else (0 if bias else 1))
    if dof <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    centred = x - mean(x, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (centred @ transpose(conj(centred))) / np.asarray(max(dof, 0), dtype=real_dtype(x))
    return reshape(c, ()) if np.shape(raw(c)) == (1, 1) else c


@declare("corrcoef", numpy=np.corrcoef, group="reductions",
         cases=lambda gen: _corrcoef_cases(gen),
         domain="real variables of nonzero variance; gradients where |r| < 1 (numpy clips "
                "to [−1, 1])", torch="torch.corrcoef")
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, bias: Any = _NO, ddof: Any = _NO, *,
             dtype: Any = None) -> Any:
    """Pearson correlation coefficients, as np.corrcoef  ·  R = C / √(diag C diag Cᵀ)"""
    if any(np.iscomplexobj(raw(v)) for v in (x, y) if v is not None):
        raise TypeError("corrcoef: complex variables are not supported on Values")
    c = cov(x, y, rowvar, dtype=dtype)
    if np.ndim(raw(c)) == 0:
        return c / c
    spread = sqrt(getitem(c, (np.arange(np.shape(raw(c))[0]),) * 2))
    return clip(c / reshape(spread, (-1, 1)) / reshape(spread, (1, -1)), -1, 1)


def _trapezoid_cases(gen):
    y = gen.array(gen.shape(min_dims=1, min_side=2))
    axis = gen.choice(list(range(-y.ndim, y.ndim)))
    if gen.boolean():
        return (y,), {"axis": axis, "dx": 0.5}
    return (y, np.sort(gen.array((y.shape[axis],)).real)), {"axis": axis}


@declare("trapezoid", numpy=np.trapezoid, group="reductions", cases=_trapezoid_cases,
         dtypes=ALL_DTYPES, torch="torch.trapezoid")
def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Any:
    """∫ y dx by the trapezoidal rule along `axis`, at sample points x (spacing dx when x is
    None), as np.trapezoid  ·  linear in y (and in the spacings)"""
    ndim = np.ndim(raw(y))
    axis = normalize_axis_index(axis, ndim)
    if x is None:
        step: Any = dx
    else:
        step = diff(x, axis=-1 if np.ndim(raw(x)) == 1 else axis)
        if np.ndim(raw(x)) == 1:  # spacings along `axis`: shaped to broadcast there
            shape = [1] * ndim
            shape[axis] = np.shape(raw(step))[0]
            step = reshape(step, tuple(shape))
    later, earlier = _along(axis, slice(1, None)), _along(axis, slice(None, -1))
    return sum_(step * (getitem(y, later) + getitem(y, earlier)) / 2.0, axis=axis)


@primitive(name="cumprod")
def _cumprod(x, axis):
    """Π_{k≤i} x_k along `axis`  ·  ∂out_i/∂x_j = Π_{k≤i, k≠j} x_k for j ≤ i"""
    return np.cumprod(x, axis=axis)


def _cumprod_vjp(g, out, x, axis):
    data = raw(x)
    if math.prod(np.shape(data)) == 0:
        return np.zeros(np.shape(data), dtype=_dtype_of(x))
    if not any_(data == 0):  # Σ_{i≥j} g_i out_i / x_j: exact away from zeros
        return divide(_reverse_cumsum(g * out, axis), x)
    # Exact with zeros: vjp_j = (Π_{k<j} x_k) · S_j, where S_j = Σ_{i≥j} g_i Π_{j<k≤i} x_k
    # obeys S_j = g_j + x_{j+1} S_{j+1}: one step per element of the axis, no division.
    n = np.shape(data)[axis]
    ndim = np.ndim(data)
    lead = (slice(None),) * (axis % ndim)
    g = broadcast_to(g, np.shape(data)) if np.shape(raw(g)) != np.shape(data) else g
    s = [None] * n
    s[n - 1] = getitem(g, (*lead, slice(n - 1, n)))
    for j in range(n - 2, -1, -1):
        s[j] = (getitem(g, (*lead, slice(j, j + 1)))
                + getitem(x, (*lead, slice(j + 1, j + 2))) * s[j + 1])
    total = concatenate(s, axis=axis) if n > 1 else s[0]
    return _exclusive_cumprod(x, axis) * total


_cumprod.defvjp(_cumprod_vjp)


def _cumulative_cases(gen, domain):
    x = gen.array(gen.shape(), domain)
    axes = [None, *range(-x.ndim, x.ndim)]
    return (x,), {"axis": gen.choice(axes)}


@declare("cumprod", numpy=np.cumprod, method="cumprod", group="reductions",
         cases=lambda gen: _cumulative_cases(gen, "nonzero"), dtypes=ALL_DTYPES,
         torch="torch.cumprod",
         domain="axis=None flattens first; exact at zeros (products of the others, no "
                "division)")
def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Π_{k≤i} a_k along `axis` (flattened when None), as np.cumprod  ·  ∂out_i/∂a_j =
    Π_{k≤i, k≠j} a_k"""
    refuse("cumprod", out=out)
    x, axis = _flatten_for_cumulative(a, axis, dtype, "cumprod")
    return _cumprod(x, axis)


# --------------------------------------------------------------------------- var, std, ptp


def _ddof(ddof: Any, correction: Any, name: str) -> Any:
    if _given(correction):
        if ddof != 0:
            raise ValueError(f"{name}: ddof and correction can't be provided simultaneously.")
        return correction
    return ddof


def _real_square(d: Any) -> Any:
    """|d|² (d·d̄ for complex data, as a real array)."""
    if _dtype_of(d).kind != "c":
        return d * d
    return astype(d * conj(d), real_dtype(d))


def _variance(name, a, axis, dtype, out, ddof, keepdims, where, mean_, correction):
    refuse(name, out=out)
    if _given(mean_):
        raise TypeError(f"{name}: mean= (a precomputed mean) is not supported on Values; "
                        "drop it")
    ddof = raw(_ddof(ddof, correction, name))
    a = value_or_array(a)
    if dtype is not None and np.dtype(dtype).kind == "f" and _dtype_of(a).kind == "c":
        raise TypeError(f"{name}: a real dtype ({np.dtype(dtype)}) for complex input is not "
                        "supported on Values: numpy takes the mean of the real parts only "
                        "(with a ComplexWarning), giving neither variance; cast the input, "
                        "or pass a complex dtype")
    x = _cast(a, dtype)
    shape = np.shape(raw(x))
    keepdims = _keep(keepdims)
    mask = _mask(where, shape, name)
    real = real_dtype(x)
    if mask is None:
        if not shape and axis is not None:  # (numpy's own reductions accept this; var not)
            raise np.exceptions.AxisError(
                f"{name}: axis {axis} is out of bounds for array of dimension 0")
        n = np.asarray(math.prod(shape[i] for i in _axes(axis, len(shape))))
        d = x - mean(x, axis=axis, keepdims=True)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = mean(x, axis=axis, keepdims=True, where=mask)
        d = _select(mask, x - centre, 0)
        n = np.sum(mask, axis=axis, keepdims=keepdims)
    dof = np.maximum(n - ddof, 0)
    if not is_lazy(dof) and np.any(dof <= 0):  # (a lazy count is not computed to warn)
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        return sum_(_real_square(d), axis=axis, keepdims=keepdims) / dof.astype(real)


def _in_complex_dtype(result: Any, dtype: Any) -> Any:
    """A var or std (real) as numpy returns it for a complex dtype=: in that dtype."""
    if dtype is None or np.dtype(dtype).kind != "c":
        return result
    return astype(result, dtype)


def _var_cases(gen):
    """Distinct elements (a nonzero variance), at least two per slice (ddof 0 or 1)."""
    x = gen.array(gen.shape(min_dims=1), "distinct")
    axis = gen.axis(x.ndim)
    if math.prod(x.shape[i] for i in _axes(axis, x.ndim)) < 2:
        axis = None
        if x.size < 2:
            x = np.concatenate([x.reshape(-1), x.reshape(-1) + 1]).astype(x.dtype)
    return (x,), {"axis": axis, "keepdims": gen.boolean(), "ddof": gen.choice([0, 1])}


@declare("var", numpy=np.var, method="var", group="statistics", cases=_var_cases,
         dtypes=ALL_DTYPES, torch="torch.var",
         domain="ddof (or correction) as numpy; complex: mean of |x − mean|²")
def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: Any = _NO, *,
        where: Any = _NO, mean: Any = _NO,
        correction: Any = _NO) -> Any:
    """Σ |a − ā|² / (n − ddof) over `axis`, as np.var  ·  ∂/∂aᵢ = 2(aᵢ − ā)/(n − ddof)"""
    return _in_complex_dtype(
        _variance("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction), dtype)


@primitive(name="std_sqrt")
def _std_sqrt(v):
    """√v of a variance  ·  d/dv = 1/(2√v), taken as 0 at v = 0 (PyTorch's std)"""
    return np.sqrt(v)


def _std_sqrt_vjp(g, out, v):
    zero = raw(out) == 0
    if not any_(zero):
        return divide(g, 2 * out)
    return _select(zero, 0, divide(g, 2 * _select(zero, 1, out)))


_std_sqrt.defvjp(_std_sqrt_vjp)


@declare("std", numpy=np.std, method="std", group="statistics", cases=_var_cases,
         dtypes=ALL_DTYPES, torch="torch.std",
         domain="zero variance: the gradient is 0 (as PyTorch)",
         notes="std = √var, with d√v/dv taken as 0 at zero variance, as PyTorch does (the "
               "plain chain rule would give ∞ · 0 = nan)")
def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: Any = _NO, *,
        where: Any = _NO, mean: Any = _NO,
        correction: Any = _NO) -> Any:
    """√var(a), as np.std  ·  ∂/∂aᵢ = (aᵢ − ā) / ((n − ddof)·std), 0 at zero variance"""
    return _in_complex_dtype(_std_sqrt(_variance("std", a, axis, dtype, out, ddof, keepdims,
                                                 where, mean, correction)), dtype)


@declare("ptp", numpy=np.ptp, method="ptp", group="statistics", cases=reduction("distinct"),
         domain="max − min: ties share the gradient evenly")
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NO) -> Any:
    """max a − min a over `axis`, as np.ptp  ·  +1 at the maximum, −1 at the minimum"""
    refuse("ptp", out=out)
    a = value_or_array(a)
    keepdims = _keep(keepdims)
    return max_(a, axis=axis, keepdims=keepdims) - min_(a, axis=axis, keepdims=keepdims)


# --------------------------------------------------------------------------- average


def _average_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    if gen.boolean():
        axis = gen.axis(x.ndim)
        weights = gen.array(x.shape, "positive")
    else:
        axis = gen.integer(-x.ndim, x.ndim - 1)
        weights = gen.array((x.shape[axis],), "positive")
    return (x, axis, weights), {"keepdims": gen.boolean()}


def _average_dtype(a: Any, w: Any) -> np.dtype:
    """numpy's dtype for a weighted average: of a and w, at least float64 for integer a."""
    a_dtype, w_dtype = _dtype_of(a), _dtype_of(w)
    if a_dtype.kind in "biu":
        return np.result_type(a_dtype, w_dtype, np.float64)
    return np.result_type(a_dtype, w_dtype)


def _cast_to(x: Any, dtype: np.dtype) -> Any:
    """x in `dtype` (differentiable: the gradient comes back in x's own dtype)."""
    return x if _dtype_of(x) == dtype else astype(x, dtype)


@declare("average", numpy=np.average, group="statistics", cases=_average_cases,
         dtypes=ALL_DTYPES, domain="Σ w·a / Σ w (Σ w ≠ 0); differentiable in a and weights")
def average(a: Any, axis: Any = None, weights: Any = None, returned: Any = False, *,
            keepdims: Any = _NO) -> Any:
    """Σ w·a / Σ w over `axis`, as np.average  ·  ∂/∂aᵢ = wᵢ/Σw, ∂/∂wᵢ = (aᵢ − avg)/Σw"""
    a = value_or_array(a)
    keepdims = _keep(keepdims)
    shape = np.shape(raw(a))
    if isinstance(axis, list):  # numpy normalizes axis to a tuple first (np.mean takes no list)
        axis = tuple(axis)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        count = math.prod(shape[i] for i in _axes(axis, len(shape)))
        scale = np.full(np.shape(raw(avg)), count, dtype=_dtype_of(avg))
    else:
        w = value_or_array(weights)
        # In numpy's result dtype, as np.average: a 0-d float64 intermediate is a Python
        # float, which a float32 array would otherwise pull down to float32.
        result = _average_dtype(a, w)
        a, w = _cast_to(a, result), _cast_to(w, result)
        w_shape = np.shape(raw(w))
        if w_shape != shape:
            if axis is None:
                raise TypeError("average: axis must be specified when shapes of a and weights "
                                "differ")
            axes = _axes(axis, len(shape))
            if w_shape != tuple(shape[i] for i in axes):
                raise ValueError("average: shape of weights must be consistent with shape of "
                                 f"a along specified axis (a {shape}, weights {w_shape}, "
                                 f"axis {axis})")
            if list(axes) != sorted(axes):
                w = transpose(w, tuple(int(i) for i in np.argsort(axes)))
            w = reshape(w, tuple(shape[i] if i in axes else 1 for i in range(len(shape))))
        scale = sum_(broadcast_to(w, np.broadcast_shapes(np.shape(raw(w)), shape)),
                     axis=axis, keepdims=keepdims)
        if not is_lazy(raw(scale)) and np.any(raw(scale) == 0.0):  # lazy: inf/nan
            raise ZeroDivisionError("average: weights sum to zero, can't be normalized")
        avg = sum_(a * w, axis=axis, keepdims=keepdims) / scale
    if not returned:
        return avg
    if np.shape(raw(scale)) != np.shape(raw(avg)):
        scale = broadcast_to(scale, np.shape(raw(avg)))
    return avg, scale


# --------------------------------------------------------------------------- nan-functions


def _nan_reduction_cases(gen):
    """One nan, in an array whose reduced slices hold at least two elements (none all-nan)."""
    x = gen.array(gen.shape(min_dims=1), "distinct")
    axis = gen.axis(x.ndim)
    if math.prod(x.shape[i] for i in _axes(axis, x.ndim)) >= 2:
        x = x.copy()
        x.reshape(-1)[gen.integer(0, x.size - 1)] = np.nan
    return (x,), {"axis": axis, "keepdims": gen.boolean()}


def _not_nan(x: Any, where: Any, name: str) -> Any:
    """The entries a nan-ignoring reduction counts: not nan, and inside `where` if given."""
    keep = ~np.isnan(raw(x))
    mask = _mask(where, np.shape(raw(x)), name)
    return keep if mask is None else keep & mask


@declare("nansum", numpy=np.nansum, group="reductions", cases=_nan_reduction_cases,
         dtypes=ALL_DTYPES, torch="torch.nansum", domain="nan entries count as 0 (gradient 0)")
def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NO,
           initial: Any = _NO, where: Any = _NO) -> Any:
    """Σ a over `axis`, nan taken as 0, as np.nansum  ·  ∂/∂aᵢ = 1 (0 at nan)"""
    refuse("nansum", out=out)
    x = _cast(value_or_array(a), dtype)
    keep = _not_nan(x, where, "nansum")
    result = sum_(_select(keep, x, 0), axis=axis, keepdims=_keep(keepdims))
    return result + raw(initial) if _given(initial) else result


@declare("nanmean", numpy=np.nanmean, group="reductions", cases=_nan_reduction_cases,
         dtypes=ALL_DTYPES, torch="torch.nanmean",
         domain="mean of the non-nan entries (gradient 0 at nan; all-nan: nan)")
def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NO, *,
            where: Any = _NO) -> Any:
    """Σ a / n over the non-nan entries, as np.nanmean  ·  ∂/∂aᵢ = 1/n (0 at nan)"""
    refuse("nanmean", out=out)
    x = _cast(value_or_array(a), dtype)
    keep = _not_nan(x, where, "nanmean")
    keepdims = _keep(keepdims)
    count = np.sum(keep, axis=axis, keepdims=keepdims)
    if not is_lazy(count) and np.any(count == 0):  # (lazy: nan, without the warning)
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    total = sum_(_select(keep, x, 0), axis=axis, keepdims=keepdims)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / count.astype(real_dtype(x))


def _nan_extremum(name, reduce, fill, a, axis, out, keepdims, initial, where):
    refuse(name, out=out, initial=None if initial is _NO else initial,
           where=None if where is _NO or where is True else where)
    x = value_or_array(a)
    nan = np.isnan(raw(x))
    keepdims = _keep(keepdims)
    if not any_(nan):
        return reduce(x, axis=axis, keepdims=keepdims)
    result = reduce(_select(nan, fill, x), axis=axis, keepdims=keepdims)
    all_nan = np.all(nan, axis=axis, keepdims=keepdims)
    if is_lazy(all_nan):  # nan where a slice is all nan, without the warning (lazy)
        return _select(all_nan, np.nan, result)
    if np.any(all_nan):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        result = _select(all_nan, np.nan, result)
    return result


@declare("nanmax", numpy=np.nanmax, group="reductions", cases=_nan_reduction_cases,
         domain="max of the non-nan entries (ties share the gradient; 0 at nan)")
def nanmax(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NO, initial: Any = _NO,
           where: Any = _NO) -> Any:
    """max a over `axis`, ignoring nan, as np.nanmax  ·  the gradient goes to the maximum"""
    return _nan_extremum("nanmax", max_, -np.inf, a, axis, out, keepdims, initial, where)


@declare("nanmin", numpy=np.nanmin, group="reductions", cases=_nan_reduction_cases,
         domain="min of the non-nan entries (ties share the gradient; 0 at nan)")
def nanmin(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _NO, initial: Any = _NO,
           where: Any = _NO) -> Any:
    """min a over `axis`, ignoring nan, as np.nanmin  ·  the gradient goes to the minimum"""
    return _nan_extremum("nanmin", min_, np.inf, a, axis, out, keepdims, initial, where)


# --------------------------------------------------------------------------- order statistics


def _sorted_gather(x, axis):
    """(gather, batch, n, has_nan, axes): the reduced axes of x flattened into one of n
    elements, and the m = Π batch slices that leaves. `gather(positions)` picks, in each
    slice, the elements at the given sorted positions: a (len(positions), m) array,
    differentiable. has_nan (m,) marks slices holding a nan."""
    shape = np.shape(raw(x))
    axes = _axes(axis, len(shape))
    flat, batch, _ = _to_last(x, axes)
    n = np.shape(raw(flat))[-1]
    if n == 0:
        raise ValueError("cannot take a quantile or median of an empty axis")
    m = math.prod(batch)
    flat = reshape(flat, (m, n))
    data = np.asarray(raw(flat))
    order = np.argsort(data, axis=-1, kind="stable")
    has_nan = np.isnan(data).any(axis=-1) if data.dtype.kind in "fc" else None
    rows = np.arange(m).reshape(m, 1)

    def gather(positions):
        positions = np.asarray(positions, dtype=np.intp).reshape(-1)
        return transpose(getitem(flat, (rows, order[:, positions])), (1, 0))

    return gather, batch, n, has_nan, axes


def _finish(result, q_shape, batch_shape, x_shape, axes, keepdims, has_nan):
    """Shape an order statistic ((len(q), m) or (m,)) as numpy does: q's axes first, then
    the kept axes; nan where the slice holds a nan."""
    if has_nan is not None and has_nan.any():
        result = _select(has_nan, np.nan, result)
    if keepdims:
        kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
        return reshape(result, q_shape + kept)
    return reshape(result, q_shape + batch_shape)


def _refuse_order_keywords(name, out, method, weights, interpolation):
    refuse(name, out=out)
    if interpolation is not None:
        raise TypeError(f"{name}: interpolation= is deprecated in numpy; use method=")
    if weights is not None:
        raise TypeError(f"{name}: weights= is not supported on Values")
    if method != "linear":
        raise NotImplementedError(
            f"{name}: method={method!r} is not supported on Values; only numpy's default "
            "method='linear' (interpolating between the two nearest sorted elements)")


def _quantile(name, a, q, axis, keepdims):
    if isinstance(q, Value) and q.requires_grad:
        raise TypeError(f"{name}: q is a constant here; got a Value that requires grad "
                        "(pass q.data)")
    x = value_or_array(a)
    q = np.asarray(raw(q), dtype=np.float64)
    if not np.all((q >= 0) & (q <= 1)):
        raise ValueError("Quantiles must be in the range [0, 1]" if name == "quantile"
                         else "Percentiles must be in the range [0, 100]")
    x_shape = np.shape(raw(x))
    gather, batch, n, has_nan, axes = _sorted_gather(x, axis)
    # numpy's method="linear": virtual index q(n − 1), between its floor and the next one
    virtual = q * (n - 1)
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    t = (virtual - below).astype(_dtype_of(x)).reshape(-1, 1)
    lo, hi = gather(below), gather(above)
    diff = hi - lo
    # numpy's _lerp: a + (b − a)·t below t = ½, b − (b − a)(1 − t) from there (exact ends)
    result = _select(t >= 0.5, hi - diff * (1 - t), lo + diff * t)
    return _finish(result, q.shape, batch, x_shape, axes, keepdims, has_nan)


def _tuples(q):
    return tuple(_tuples(item) for item in q) if isinstance(q, list) else q


def _quantile_cases(gen, scale):
    """q as a float or nested tuples (a constant: arrays are differentiated, and lists
    are read as sequences of arrays)."""
    x = gen.array(gen.shape(min_dims=1), "distinct")
    q = gen.choice([0.0, 0.3, 0.5, 1.0, (0.25, 0.9), ((0.1,), (0.6,))])
    q = _tuples((np.asarray(q) * scale).tolist())
    return (x, q), {"axis": gen.axis(x.ndim), "keepdims": gen.boolean()}


@declare("quantile", dask=False, numpy=np.quantile, group="statistics",
         cases=lambda gen: _quantile_cases(gen, 1.0), torch="torch.quantile",
         domain="q in [0, 1] (constant); linear interpolation between sorted elements; ties: "
                "the element a stable sort puts at that position")
def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
             method: Any = "linear",
             keepdims: Any = False, *, weights: Any = None, interpolation: Any = None) -> Any:
    """the q-th quantile of a over `axis`, as np.quantile (method="linear")  ·  the
    gradient goes to the two sorted elements interpolated, weighted 1 − t and t"""
    _refuse_order_keywords("quantile", out, method, weights, interpolation)
    return _quantile("quantile", a, q, axis, keepdims)


@declare("percentile", dask=False, numpy=np.percentile, group="statistics",
         cases=lambda gen: _quantile_cases(gen, 100.0),
         domain="q in [0, 100] (constant); as quantile(a, q / 100)",
         notes="torch has no percentile: torch.quantile(x, q / 100) matches")
def percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
               method: Any = "linear",
               keepdims: Any = False, *, weights: Any = None, interpolation: Any = None) -> Any:
    """the q-th percentile of a over `axis`, as np.percentile (method="linear")  ·  the
    gradient goes to the two sorted elements interpolated"""
    _refuse_order_keywords("percentile", out, method, weights, interpolation)
    if isinstance(q, Value) and q.requires_grad:
        raise TypeError("percentile: q is a constant here; got a Value that requires grad "
                        "(pass q.data)")
    q = np.true_divide(np.asarray(raw(q), dtype=np.float64), 100)
    return _quantile("percentile", a, q, axis, keepdims)


@declare("median", dask=False, numpy=np.median, group="statistics", cases=reduction("distinct"),
         domain="even counts: the mean of the two middle values, each getting half the "
                "gradient; ties: the element a stable sort puts in the middle",
         notes="numpy's median averages the two middle values of an even count, where "
               "torch.median returns the lower one: no torch cross-check")
def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: Any = False,
           keepdims: Any = False) -> Any:
    """the middle value of sorted a over `axis` (mean of the two middle ones for an even
    count), as np.median  ·  the gradient goes to the middle element(s)"""
    refuse("median", out=out)
    x = value_or_array(a)
    x_shape = np.shape(raw(x))
    gather, batch, n, has_nan, axes = _sorted_gather(x, axis)
    middle = gather([(n - 1) // 2, n // 2])
    result = (getitem(middle, 0) + getitem(middle, 1)) * 0.5
    return _finish(result, (), batch, x_shape, axes, bool(keepdims), has_nan)


# --------------------------------------------------------------------------- constants

# Results that are indices, counts, masks or shapes: computed on the data, recording
# nothing. Left out on purpose: np.histogram (its bin edges move with the data's min and
# max, and it is linear in weights=) and np.bincount (linear in weights=; Values can't be its
# integer input). np.unique returns values, a selection of the data: it has its own entry
# (autodiff/ops/arrays.py).
constant(
    np.argmax, np.argmin, np.nanargmax, np.nanargmin, np.argsort, np.argpartition,
    np.nonzero, np.flatnonzero, np.argwhere, np.searchsorted, np.count_nonzero,
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.isclose, np.allclose, np.array_equal, np.array_equiv, np.digitize,
    np.result_type, np.can_cast, np.min_scalar_type, np.may_share_memory, np.shares_memory,
)
