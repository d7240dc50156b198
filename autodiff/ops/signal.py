"""numpy's signal-style functions: convolutions, correlations, interpolation and numerical
gradients, built on the op table's primitives.

* `convolve` and `correlate` are one primitive, the full correlation without conjugation
  (numpy's convolution, O(n + m) memory), sliced to numpy's modes; its VJPs are the same
  primitive on the cotangent (a convolution or correlation with the other signal), so
  every order is differentiable. On Dask data they are a composite instead, kept lazy and
  chunked: the shorter signal's taps times slices of the longer one, zero-padded.

The others are composites, so their gradients (of any order) follow from those of getitem,
concatenate, where and arithmetic:

* `interp` evaluates the segment each x lies in, found on the data (a constant index);
  its knots `xp` and `period` are constants. At a knot the x-gradient is the slope to its
  right (numpy evaluates the segment [xp[j], xp[j+1]) there), 0 at and beyond the last
  knot (where the result is fp[-1], then `right`) and before the first (`left`).
* `gradient` follows numpy's second-order finite-difference formulas (uniform spacings or
  coordinate arrays, first- or second-order edges), linear in f; spacings and coordinates
  given as Values are differentiated too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..backend import is_duck
from ..engine import astype, conj, primitive
from ..value import Value, raw, value_or_array
from .arithmetic import where
from .arrays import _along, pad
from .shape import concatenate, getitem, reshape
from .table import ALL_DTYPES, declare

__all__ = ["convolve", "correlate", "gradient", "interp"]


# --------------------------------------------------------------------------- helpers


def _dtype(a: Any) -> np.dtype:
    return np.result_type(raw(a))


def _cast(a: Any, dtype: np.dtype) -> Any:
    """`a` in `dtype` (a Value through the differentiable astype)."""
    if _dtype(a) == dtype:
        return a
    if isinstance(a, Value):
        return astype(a, dtype)
    return raw(a).astype(dtype)


def _placeholder(shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """Zeros of `shape` with every side cut to at most 1: what numpy's own function needs to
    raise the error it raises for arguments of that shape, without the data."""
    return np.zeros(tuple(min(n, 1) for n in shape), dtype=dtype)


# --------------------------------------------------------------------------- convolve


_MODES = ("valid", "same", "full")


def _mode(function: Any, mode: Any) -> str:
    """numpy's mode argument ('valid', 'same', 'full', or 0, 1, 2) as its name; anything
    else gets numpy's own error."""
    if isinstance(mode, str) and mode in _MODES:
        return mode
    if isinstance(mode, (int, np.integer)) and not isinstance(mode, (bool, np.bool_)) \
            and 0 <= mode <= 2:
        return _MODES[int(mode)]
    function(np.zeros(1), np.zeros(1), mode)  # raises numpy's error for this mode
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full'; got {mode!r}")


def _signals(function: Any, a: Any, v: Any, promote_scalars: bool) -> tuple[Any, Any]:
    """The two 1-D, non-empty signals (numbers as length-1 signals where numpy allows it);
    numpy's own error otherwise."""
    a, v = value_or_array(a), value_or_array(v)
    if promote_scalars:
        a, v = (reshape(x, (1,)) if np.ndim(raw(x)) == 0 else x for x in (a, v))
    shapes = (np.shape(raw(a)), np.shape(raw(v)))
    if any(len(s) != 1 or s[0] == 0 for s in shapes):
        function(_placeholder(shapes[0]), _placeholder(shapes[1]))  # numpy's error
        raise ValueError("both arguments must be non-empty 1-D sequences")
    return a, v


@primitive(name="correlate_full")
def _full(x, w):
    """c[i] = Σ_j x[i + j − (m − 1)] w[j] (x zero outside, m = len(w)), the full
    correlation without conjugation  ·  vjp (the transposed Jacobian, bilinear): ∂/∂x =
    (g ∗ w)[m − 1 : m − 1 + n], ∂/∂w = c(g, x) read backwards from n + m − 2 to n − 1"""
    return np.convolve(x, w[::-1])


def _full_vjp_x(g, out, x, w):
    n, m = np.shape(raw(x))[0], np.shape(raw(w))[0]
    return getitem(_full(g, getitem(w, slice(None, None, -1))), slice(m - 1, m - 1 + n))


def _full_vjp_w(g, out, x, w):
    n, m = np.shape(raw(x))[0], np.shape(raw(w))[0]
    return getitem(getitem(_full(g, x), slice(n - 1, n + m - 1)), slice(None, None, -1))


_full.defvjp(_full_vjp_x, _full_vjp_w)


def _shifted_sum(x: Any, w: Any, start: int, length: int) -> Any:
    """Entries start … start + length − 1 of the correlation c(x, w) as Σ_j w[j] times x
    (zero-padded) shifted by j: lazy and chunked on Dask data (pad, slices and products
    keep x's chunks), m slices of length `length` and no index array; for the longer signal
    as x (the same sums read from the other end otherwise)."""
    n, m = np.shape(raw(x))[0], np.shape(raw(w))[0]
    if n < m:  # c(x, w)[i] = c(w, x)[n + m − 2 − i]
        flipped = _shifted_sum(w, x, n + m - 1 - start - length, length)
        return getitem(flipped, slice(None, None, -1))
    padded = pad(x, ((m - 1, m - 1),)) if start < m - 1 or start + length > n else None
    offset = 0 if padded is not None else m - 1  # (no window reaches the padding)
    source = padded if padded is not None else x
    total = None
    for j in range(m):
        first = start + j - offset
        term = getitem(source, slice(first, first + length)) * getitem(w, j)
        total = term if total is None else total + term
    return total


def _correlation(x: Any, w: Any, start: int, length: int) -> Any:
    """Entries start … start + length − 1 of the full correlation c(x, w) (no conjugation):
    numpy's convolution for numpy data, windows for Dask data (kept lazy)."""
    if is_duck(raw(x)) or is_duck(raw(w)):
        return _shifted_sum(x, w, start, length)
    full = _full(x, w)
    n, m = np.shape(raw(x))[0], np.shape(raw(w))[0]
    return full if length == n + m - 1 else getitem(full, slice(start, start + length))


def _filter(function: Any, a: Any, v: Any, mode: Any, convolution: bool) -> Any:
    """np.convolve (convolution) or np.correlate (v conjugated), in `mode`."""
    mode = _mode(function, mode)
    a, v = _signals(function, a, v, promote_scalars=convolution)
    n, m = np.shape(raw(a))[0], np.shape(raw(v))[0]
    if convolution:
        w = getitem(v, slice(None, None, -1))
    else:
        w = conj(v) if _dtype(v).kind == "c" else v
    short, long = min(n, m), max(n, m)
    if mode == "full":
        start, length = 0, n + m - 1
    elif mode == "valid":
        start, length = short - 1, long - short + 1
    else:  # numpy centres 'same' so; correlate with the shorter signal first, one later
        start = (short - 1) // 2 if convolution or n >= m else n // 2
        length = long
    return _correlation(a, w, start, length)


def _filter_cases(gen):
    a = gen.array(gen.shape(min_dims=1, max_dims=1))
    v = gen.array(gen.shape(min_dims=1, max_dims=1))
    return (a, v), {"mode": gen.choice(["full", "same", "valid"])}


@declare("convolve", numpy=np.convolve, group="signal", cases=_filter_cases,
         dtypes=ALL_DTYPES,
         domain="1-D signals (numbers as length-1 signals, as numpy); modes 'full', 'same', "
                "'valid' (or 2, 1, 0)")
def convolve(a: Any, v: Any, mode: Any = "full") -> Any:
    """(a ∗ v)[k] = Σ_i a[i] v[k − i], as np.convolve  ·  bilinear: ∂/∂a is the correlation of
    the cotangent with v, ∂/∂v with a"""
    return _filter(np.convolve, a, v, mode, convolution=True)


@declare("correlate", numpy=np.correlate, group="signal", cases=_filter_cases,
         dtypes=ALL_DTYPES,
         domain="1-D signals; modes 'valid', 'same', 'full' (or 0, 1, 2); v is conjugated "
                "for complex input, as numpy")
def correlate(a: Any, v: Any, mode: Any = "valid") -> Any:
    """c[k] = Σ_n a[n + k] · conj(v[n]), as np.correlate  ·  linear in a and in conj(v)"""
    return _filter(np.correlate, a, v, mode, convolution=False)


# --------------------------------------------------------------------------- interp


def _constant(name: str, what: str, x: Any) -> Any:
    """The data of a constant argument; a Value that requires grad is refused (its gradient
    would silently be dropped)."""
    if isinstance(x, Value):
        if x.requires_grad:
            raise TypeError(f"{name}: {what} is a constant, not differentiated; pass its "
                            ".data (or a Value that does not require grad)")
        return x.data
    return x


def _interp_checked(x: Any, xp: np.ndarray, fp: Any, period: Any) -> None:
    """numpy's errors for sample points and values of the wrong shapes, and for complex x."""
    if _dtype(x).kind == "c" or xp.dtype.kind == "c":
        raise TypeError("x and xp must be real (numpy converts them to float64)")
    fp_shape = np.shape(raw(fp))
    if xp.ndim != 1 or len(fp_shape) != 1 or xp.shape[0] != fp_shape[0] or xp.shape[0] == 0:
        np.interp(np.zeros(()), np.zeros(xp.shape), np.zeros(fp_shape), period=period)
        raise ValueError("xp and fp must be non-empty 1-D sequences of the same length")


def _interp_cases(gen):
    x = gen.array(gen.shape(), "smooth")  # away from the integer knots below
    if x.dtype.kind == "c":
        x = np.ascontiguousarray(x.real)
    xp = gen.choice([np.array([-1, 0, 1]), np.array([-2, -1, 1, 2]), np.array([0, 1]),
                     np.array([1, -1, 0]) if gen.boolean() else np.array([-1, 0, 2])])
    if xp[0] > xp[-1]:  # (unsorted knots only with a period, which sorts them)
        return (x, xp, gen.array(xp.shape)), {"period": gen.choice([3, -4])}
    args = [x, xp, gen.array(xp.shape)]
    extra = gen.integer(0, 2)  # left, right: 0-d arrays (differentiated), or complex numbers
    args += [gen.array(()) if gen.dtype.kind == "f" else complex(gen.array(()))
             for _ in range(extra)]
    return tuple(args), ({"period": 3} if extra == 0 and gen.boolean() else {})


@declare("interp", numpy=np.interp, group="signal", cases=_interp_cases, dtypes=ALL_DTYPES,
         dask=False,
         domain="differentiable in x, fp, left and right; the knots xp and period are "
                "constants (Values that require grad are refused); real x, real or complex "
                "fp; float64 (complex128) results, as numpy",
         notes="at a knot the x-gradient is the slope of the segment to its right (the one "
               "numpy evaluates), 0 at and past the last knot and before the first")
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Any:
    """The piecewise-linear interpolant through (xp, fp) at x, as np.interp  ·  ∂/∂x = the
    segment's slope, ∂/∂fp = the two hat-function weights of x's segment"""
    xp = np.asarray(_constant("interp", "xp", xp))
    period = _constant("interp", "period", period)
    x, fp = value_or_array(x), value_or_array(fp)
    _interp_checked(x, xp, fp, period)
    dtype = np.dtype(np.complex128 if _dtype(fp).kind == "c" else np.float64)
    x, fp, xp = _cast(x, np.dtype(np.float64)), _cast(fp, dtype), xp.astype(np.float64)
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None  # numpy ignores them with a period
        x = x % period
        xp = xp % period
        order = np.argsort(xp)
        xp = np.concatenate((xp[order][-1:] - period, xp[order], xp[order][:1] + period))
        fp = getitem(fp, np.concatenate((order[-1:], order, order[:1])))
    for name, bound in (("left", left), ("right", right)):
        if bound is not None and np.ndim(raw(bound)) != 0:
            raise TypeError(f"{name} must be a number (numpy converts it to a Python scalar); "
                            f"got an array of shape {np.shape(raw(bound))}")
        if bound is not None and dtype.kind == "f" and _dtype(bound).kind == "c":
            raise TypeError(f"{name} must be real for real fp (numpy converts it to float64)")
    left = getitem(fp, 0) if left is None else _cast(value_or_array(left), dtype)
    right = getitem(fp, -1) if right is None else _cast(value_or_array(right), dtype)
    data = np.asarray(raw(x))
    n = xp.shape[0]
    if n == 1:
        inside = getitem(fp, np.zeros(data.shape, dtype=np.intp))
    else:
        j = np.clip(np.searchsorted(xp, data, side="right") - 1, 0, n - 2)
        x0, x1 = xp[j], xp[j + 1]
        width = np.where(x1 == x0, 1.0, x1 - x0)  # (0 only where a mask below takes over)
        f0, f1 = getitem(fp, j), getitem(fp, j + 1)
        with np.errstate(invalid="ignore"):  # (numpy's interp is silent about infinite fp)
            slope = (f1 - f0) / width
            inside = slope * (x - x0) + f0
            unsettled = np.isnan(raw(inside)) & ~np.isnan(data)  # from infinite fp
            if unsettled.any():  # numpy's fallbacks: from the segment's other end, then fp[j]
                inside = where(unsettled, slope * (x - x1) + f1, inside)
                flat = np.isnan(raw(inside)) & (raw(f0) == raw(f1))
                inside = where(unsettled & flat, f0, inside)
                # an exact hit on a knot is fp[j] in numpy before any of those
                inside = where(unsettled & (data == x0), f0, inside)
    result = where(data == xp[-1], getitem(fp, -1), inside)
    result = where(data > xp[-1], right, result)
    return where(data < xp[0], left, result)


# --------------------------------------------------------------------------- gradient


def _spacings(varargs: tuple[Any, ...], axes: tuple[int, ...],
              shape: tuple[int, ...]) -> list[Any]:
    """The spacing along each of `axes`, as numpy reads varargs: a scalar (uniform), or the
    differences of a coordinate array (a constant uniform one as its scalar step, as numpy
    does; a Value's differences are kept, to be differentiated)."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(raw(varargs[0])) == 0:
        return [value_or_array(varargs[0])] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    steps = []
    for axis, distances in zip(axes, varargs, strict=True):
        distances = value_or_array(distances)
        ndim = np.ndim(raw(distances))
        if ndim == 0:
            steps.append(distances)
            continue
        if ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if np.shape(raw(distances))[0] != shape[axis]:
            raise ValueError("when 1d, distances must match the length of the corresponding "
                             "dimension")
        if _dtype(distances).kind in "iu":
            distances = _cast(distances, np.dtype(np.float64))
        step = getitem(distances, slice(1, None)) - getitem(distances, slice(None, -1))
        if type(step) is np.ndarray and (step == step[0]).all():
            step = step[0]
        steps.append(step)
    return steps


def _derivative(f: Any, axis: int, dx: Any, edge_order: int) -> Any:
    """∂f/∂x along `axis`: central differences inside, one-sided ones of `edge_order` at the
    two ends (numpy's formulas, for a uniform step or the steps between coordinates)."""
    shape = np.shape(raw(f))
    if shape[axis] < edge_order + 1:
        raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                         "least (edge_order + 1) elements are required.")

    def at(part: Any) -> Any:
        return getitem(f, _along(axis, part))

    def along(step: Any) -> Any:  # the steps of a coordinate array, shaped to broadcast
        return reshape(step, tuple(-1 if i == axis else 1 for i in range(len(shape))))

    uniform = np.ndim(raw(dx)) == 0
    if uniform:
        inner = (at(slice(2, None)) - at(slice(None, -2))) / (2.0 * dx)
    else:
        h1, h2 = along(getitem(dx, slice(None, -1))), along(getitem(dx, slice(1, None)))
        inner = (-h2 / (h1 * (h1 + h2)) * at(slice(None, -2))
                 + (h2 - h1) / (h1 * h2) * at(slice(1, -1))
                 + h1 / (h2 * (h1 + h2)) * at(slice(2, None)))
    if edge_order == 1:
        first_step = dx if uniform else along(getitem(dx, slice(0, 1)))
        last_step = dx if uniform else along(getitem(dx, slice(-1, None)))
        first = (at(slice(1, 2)) - at(slice(0, 1))) / first_step
        last = (at(slice(-1, None)) - at(slice(-2, -1))) / last_step
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
        else:
            h1, h2 = along(getitem(dx, slice(0, 1))), along(getitem(dx, slice(1, 2)))
            a = -(2.0 * h1 + h2) / (h1 * (h1 + h2))
            b = (h1 + h2) / (h1 * h2)
            c = -h1 / (h2 * (h1 + h2))
        first = a * at(slice(0, 1)) + b * at(slice(1, 2)) + c * at(slice(2, 3))
        if uniform:
            a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            h1, h2 = along(getitem(dx, slice(-2, -1))), along(getitem(dx, slice(-1, None)))
            a = h2 / (h1 * (h1 + h2))
            b = -(h2 + h1) / (h1 * h2)
            c = (2.0 * h2 + h1) / (h2 * (h1 + h2))
        last = a * at(slice(-3, -2)) + b * at(slice(-2, -1)) + c * at(slice(-1, None))
    pieces = [first, inner, last] if shape[axis] > 2 else [first, last]
    return concatenate(pieces, axis=axis)


def _gradient_cases(gen):
    f = gen.array(gen.shape(min_dims=1, min_side=3))
    axis = gen.choice(list(range(-f.ndim, f.ndim)))
    kwargs: dict[str, Any] = {"edge_order": gen.choice([1, 2])}
    if f.ndim == 1:
        form = gen.choice([None, 0, -1, (0,)])
        if form is not None:
            kwargs["axis"] = form
    else:
        kwargs["axis"] = gen.choice([axis, (axis,), [axis]])
    spacing = gen.choice(["none", "number", "array", "coordinates"])
    if spacing == "number":
        return (f, 0.5), kwargs
    if spacing == "array":  # a 0-d step, differentiated
        return (f, gen.array((), "positive")), kwargs
    if spacing == "coordinates":  # increasing, at least 0.5 apart
        n = f.shape[axis]
        return (f, np.sort(np.real(gen.array((n,), "distinct")))), kwargs
    return (f,), kwargs


@declare("gradient", numpy=np.gradient, group="signal", cases=_gradient_cases,
         dtypes=ALL_DTYPES,
         domain="uniform spacings (scalars) or coordinate arrays, per axis or one for all; "
                "edge_order 1 or 2; any axis form; differentiable in f and in spacings or "
                "coordinates given as Values",
         notes="a Value where numpy returns one array (one axis), a tuple of Values where it "
               "returns a tuple; an edge_order other than 1 or 2 is refused (numpy silently "
               "takes its second-order edges for one below 1)")
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """∂f/∂xₖ by second-order central differences inside and one-sided differences of
    `edge_order` at the ends, along each axis, as np.gradient  ·  linear in f"""
    f = value_or_array(f)
    shape = np.shape(raw(f))
    axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(axis, len(shape))
    steps = _spacings(varargs, axes, shape)
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    if edge_order not in (1, 2):
        raise ValueError(f"edge_order must be 1 or 2; got {edge_order!r}")
    dtype = _dtype(f)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
        if _dtype(f).kind in "iu":
            f = _cast(f, dtype)
    results = tuple(_cast(_derivative(f, ax, dx, int(edge_order)), dtype)
                    for ax, dx in zip(axes, steps, strict=True))
    return results[0] if len(results) == 1 else results
