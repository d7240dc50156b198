"""numpy's polynomial functions (coefficients highest power first, as np.polyval takes
them), built on the op table's primitives.

Each is a composite of getitem, concatenate, arithmetic and (polymul) convolve, so its
gradients, of any order, follow from theirs. numpy's semantics are kept exactly:

* polyval evaluates by Horner's rule from zeros shaped like x, as numpy does;
* polyadd and polysub pad the shorter coefficient array with leading zeros and keep every
  leading zero they are given; polyder and polyint keep them too;
* polymul, as numpy, reads each argument as a `np.poly1d`: leading zeros are trimmed
  (found on the data, so it does not run on Dask arrays), an all-zero polynomial keeping
  its constant term; trimmed coefficients get no gradient;
* result dtypes are numpy's (polyder and polyint multiply and divide by integers: float32
  coefficients give float64, as numpy);
* a np.poly1d argument is read as its coefficients, and the result is a Value of
  coefficients (numpy would return a poly1d, which cannot hold Values); polyval refuses a
  poly1d x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import check_shape
from ..value import Value, raw, value_or_array
from .shape import concatenate, getitem, reshape
from .signal import _cast, _dtype, _filter
from .table import ALL_DTYPES, declare

__all__ = ["polyadd", "polyder", "polyint", "polymul", "polysub", "polyval"]


# --------------------------------------------------------------------------- helpers


def _at_least_1d(a: Any) -> Any:
    a = value_or_array(a)
    return reshape(a, (1,)) if np.ndim(raw(a)) == 0 else a


def _length(a: Any) -> int:
    """len(a), with Python's error for a 0-d array, as numpy's functions call len()."""
    shape = np.shape(raw(a))
    if not shape:
        raise TypeError("len() of unsized object")
    return shape[0]


def _zeros_before(a: Any, count: int) -> Any:
    """`count` zeros of a's dtype joined before a (numpy's padding of the shorter one)."""
    if count == 0:
        return a
    return concatenate([np.zeros(count, dtype=_dtype(a)), a])


def _leading_zeros_trimmed(a: Any) -> Any:
    """a as np.poly1d reads it: 1-D, its leading zeros dropped (an all-zero or empty one as
    its constant term, [0])."""
    a = _at_least_1d(a)
    if np.ndim(raw(a)) > 1:
        raise ValueError("Polynomial must be 1d only.")
    data = np.asarray(raw(a))
    if data.size == 0:
        return np.zeros(1, dtype=data.dtype)
    nonzero = np.flatnonzero(data != 0)
    start = int(nonzero[0]) if nonzero.size else data.size - 1
    return getitem(a, slice(start, None)) if start else a


# --------------------------------------------------------------------------- polyval


def _polyval_cases(gen):
    p = gen.array((gen.integer(1, 4),))
    return (p, gen.array(gen.shape())), {}


@declare("polyval", numpy=np.polyval, group="polynomials", cases=_polyval_cases,
         dtypes=ALL_DTYPES,
         domain="p's coefficients highest power first (rows of a 2-D p broadcast against "
                "x, as numpy); x any shape (not a np.poly1d)")
def polyval(p: Any, x: Any) -> Any:
    """p[0]·xⁿ⁻¹ + … + p[n−1] by Horner's rule, as np.polyval  ·  ∂/∂x = p′(x),
    ∂/∂p[k] = xⁿ⁻¹⁻ᵏ"""
    if isinstance(x, np.poly1d):
        raise TypeError("x as a np.poly1d is not supported on Values (compose with "
                        "polymul, or evaluate at an array)")
    p, x = value_or_array(p), value_or_array(x)
    for operand in (p, x):
        check_shape(raw(operand), "polyval")  # (Dask data of unknown chunk sizes: refused)
    if np.ndim(raw(p)) == 0:
        raise TypeError("iteration over a 0-d array")
    count = np.shape(raw(p))[0]
    if count == 0:  # numpy's zeros shaped like x, in x's dtype
        zeros = np.zeros_like(raw(x))
        return Value(zeros, requires_grad=False) if isinstance(x, Value) else zeros
    # numpy's first step promotes to the common dtype, in which the rest is computed
    dtype = np.result_type(_dtype(x), _dtype(p))
    x, p = _cast(x, dtype), _cast(p, dtype)
    y: Any = np.zeros_like(raw(x))
    for k in range(count):
        y = y * x + getitem(p, k)
    return y


# --------------------------------------------------------------------------- polyadd


def _two_polynomials_cases(gen, domain="any"):
    return (gen.array((gen.integer(1, 4),), domain), gen.array((gen.integer(1, 4),), domain)), {}


def _combined(a1: Any, a2: Any, subtract: bool) -> Any:
    a1, a2 = _at_least_1d(a1), _at_least_1d(a2)
    shorter = _length(a2) - _length(a1)
    if shorter > 0:
        a1 = _zeros_before(a1, shorter)
    elif shorter < 0:
        a2 = _zeros_before(a2, -shorter)
    result = a1 - a2 if subtract else a1 + a2
    return _cast(result, np.result_type(_dtype(a1), _dtype(a2)))


@declare("polyadd", numpy=np.polyadd, group="polynomials", cases=_two_polynomials_cases,
         dtypes=ALL_DTYPES,
         domain="the shorter padded with leading zeros; leading zeros kept, as numpy")
def polyadd(a1: Any, a2: Any) -> Any:
    """The coefficients of a1(x) + a2(x), as np.polyadd  ·  ∂/∂a1 = ∂/∂a2 = 1 (aligned at
    the constant term)"""
    return _combined(a1, a2, subtract=False)


@declare("polysub", numpy=np.polysub, group="polynomials", cases=_two_polynomials_cases,
         dtypes=ALL_DTYPES,
         domain="the shorter padded with leading zeros; leading zeros kept, as numpy")
def polysub(a1: Any, a2: Any) -> Any:
    """The coefficients of a1(x) − a2(x), as np.polysub  ·  ∂/∂a1 = 1, ∂/∂a2 = −1 (aligned
    at the constant term)"""
    return _combined(a1, a2, subtract=True)


# --------------------------------------------------------------------------- polymul


@declare("polymul", numpy=np.polymul, group="polynomials",
         cases=lambda gen: _two_polynomials_cases(gen, "nonzero"), dtypes=ALL_DTYPES,
         dask=False,
         domain="1-D coefficients, leading zeros trimmed as np.poly1d does (an all-zero "
                "polynomial is [0]); trimmed coefficients get no gradient",
         notes="trimming leading zeros looks at the data: not lazy on Dask arrays")
def polymul(a1: Any, a2: Any) -> Any:
    """The coefficients of a1(x) · a2(x), the full convolution of the two, as np.polymul  ·
    bilinear: ∂/∂a1 is the correlation of the cotangent with a2"""
    return _filter(np.convolve, _leading_zeros_trimmed(a1), _leading_zeros_trimmed(a2),
                   "full", convolution=True)


# --------------------------------------------------------------------------- polyder


def _polyder_cases(gen):
    return (gen.array((gen.integer(1, 5),)),), {"m": gen.choice([0, 1, 1, 2, 3])}


@declare("polyder", numpy=np.polyder, group="polynomials", cases=_polyder_cases,
         dtypes=ALL_DTYPES,
         domain="m ≥ 0 (an order beyond the degree leaves an empty array, as numpy)")
def polyder(p: Any, m: Any = 1) -> Any:
    """The coefficients of dᵐp/dxᵐ, as np.polyder  ·  linear: coefficient k is scaled by
    its power"""
    m = int(m)
    if m < 0:
        raise ValueError("Order of derivative must be positive (see polyint)")
    p = value_or_array(p)
    for _ in range(m):
        power = _length(p) - 1
        p = getitem(p, slice(None, -1)) * np.arange(power, 0, -1)
    return p


# --------------------------------------------------------------------------- polyint


def _polyint_cases(gen):
    p = gen.array((gen.integer(1, 4),))
    m = gen.choice([0, 1, 1, 2, 3])
    k = gen.choice(["none", "number", "one", "all"])
    if k == "number":
        return (p, m), {"k": 0.5}
    if k == "one":  # one constant for every integration
        return (p, m, gen.array((1,))), {}
    if k == "all":
        return (p, m, gen.array((max(m, 1),))), {}
    return (p, m), {}


@declare("polyint", numpy=np.polyint, group="polynomials", cases=_polyint_cases,
         dtypes=ALL_DTYPES,
         domain="m ≥ 0; k: None (zeros), a number or one per integration (differentiable "
                "when given as a Value)")
def polyint(p: Any, m: Any = 1, k: Any = None) -> Any:
    """The coefficients of the m-th antiderivative of p with integration constants k, as
    np.polyint  ·  linear in p (coefficient k divided by its new power) and in k"""
    m = int(m)
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    constants = np.zeros(m, dtype=float) if k is None else _at_least_1d(k)
    if _length(constants) == 1 and m > 1:
        constants = getitem(constants, 0) * np.ones(m, dtype=float)
    if _length(constants) < m:
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or >m.")
    p = value_or_array(p)
    for i in range(m):
        divided = p / np.arange(_length(p), 0, -1)
        p = concatenate([divided, getitem(constants, slice(i, i + 1))])
    return p
