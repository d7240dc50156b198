"""numpy.fft: discrete Fourier transforms with numpy's `n`, `axis`/`axes`, `s` and `norm`
("backward", "ortho", "forward"), and fftshift/ifftshift.

Every transform is linear, so its rule is its transpose (the engine's plain-transpose
convention for complex numbers, see autodiff/engine.py), itself a transform of g and so
differentiable again:

* The DFT matrix is symmetric, so a complex transform (fft, ifft, fftn, ...) is its own
  transpose under the same `norm`; `n`/`s` pad with zeros or truncate the input first, and
  the transpose of padding is truncation (and back): `_resize`.
* rfft (real → the n//2 + 1 bins of the Hermitian half) is fft followed by keeping those
  bins; its transpose keeps the real part of fft of g padded with zeros, computed as
  irfft(ḡ / d) with the opposite `norm`, where d = 2 on the bins that stand for two
  (all but DC and, for even n, Nyquist), which irfft doubles.
* irfft (half spectrum → real) reads Re of DC and Nyquist and doubles the other bins; its
  transpose is d · conj(rfft(g)) with the opposite `norm` (for the real cotangents a real
  output gets; d · ifft(g) in general).
* hfft and ihfft are numpy's own compositions of these with conj; rfftn and irfftn chain
  a real transform with complex ones over the other axes, as numpy does.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..engine import conj, primitive
from ..value import raw
from .table import ALL_DTYPES, declare

__all__ = ["fft", "fft2", "fftn", "fftshift", "hfft", "ifft", "ifft2", "ifftn", "ifftshift",
           "ihfft", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftn"]

_NORMS = ("backward", "ortho", "forward")
_DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _norm(name, norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'{name}: invalid norm value {norm!r}; should be "backward", "ortho" '
                         f'or "forward"')
    return norm


def _refuse_out(name, out):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")


def _length(name, n, default, bool_ok=False, whole=None):
    """n as numpy reads a transform length: an integer (operator.index, never truncated),
    at least 1; `default` when None, `whole` when -1 (the n-D transforms). numpy takes True
    only where the length it writes is not n itself (rfft's n//2 + 1): `bool_ok` there."""
    if n is None:
        length = default
    else:
        is_bool = isinstance(n, (bool, np.bool_))
        try:
            length = int(n) if is_bool else operator.index(n)
        except TypeError:
            raise TypeError(f"{name}: the number of FFT data points must be an integer; "
                            f"got {n!r}") from None
        if length == -1 and whole is not None:
            length = whole
        if is_bool and length == 1 and not bool_ok:
            raise TypeError(f"{name}: the number of FFT data points must be an integer; "
                            f"got {n!r}")
    if length < 1:
        raise ValueError(f"{name}: invalid number of FFT data points ({length}) specified")
    return length


# --------------------------------------------------------------------------- primitives


@primitive(name="fft_resize")
def _resize(x, shape):
    """x zero-padded or truncated (at the end of each axis) to `shape`  ·  the transpose
    resizes back"""
    x = np.asarray(x)
    result = np.zeros(shape, dtype=x.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(x.shape, shape, strict=True))
    result[common] = x[common]
    return result


_resize.defvjp(lambda g, out, x, shape: _resize(g, np.shape(raw(x))))


def _fit(x, shape):
    shape = tuple(shape)
    return x if np.shape(raw(x)) == shape else _resize(x, shape)


def _along(shape, axis, length):
    return (*shape[:axis], length, *shape[axis + 1:])


@primitive(name="fft_c2c")
def _c2c(x, s, axes, norm, inverse):
    """the complex DFT (inverse: its inverse) of x over `axes`, padded or truncated to `s`
    · the DFT matrix is symmetric: the transpose is the same transform of g, resized back"""
    if len(axes) == 1:
        transform = np.fft.ifft if inverse else np.fft.fft
        return transform(x, s[0], axes[0], norm)
    transform = np.fft.ifftn if inverse else np.fft.fftn
    return transform(x, s, axes, norm)


def _c2c_vjp(g, out, x, s, axes, norm, inverse):
    shape = np.shape(raw(x))
    if len(set(axes)) == len(axes):
        return _fit(_c2c(g, s, axes, norm, inverse), shape)
    # An axis transformed several times (numpy allows it), last entry first: transpose
    # the 1-D steps in the opposite order, each resized to the length it was given.
    for ii, axis in enumerate(axes):
        g = _c2c(g, (s[ii],), (axis,), norm, inverse)
        before = [s[jj] for jj in range(ii + 1, len(axes)) if axes[jj] == axis]
        g = _fit(g, _along(np.shape(raw(g)), axis, before[0] if before else shape[axis]))
    return g


_c2c.defvjp(_c2c_vjp)


def _doubling(n, axis, ndim, dtype):
    """How many bins of a full spectrum of length n each of the n//2 + 1 half-spectrum bins
    stands for (1 for DC and, n even, Nyquist; 2 for the others), shaped to broadcast."""
    d = np.full(n // 2 + 1, 2.0, dtype=dtype)
    d[0] = 1.0
    if n % 2 == 0:
        d[-1] = 1.0
    return d.reshape(_along((1,) * ndim, axis, n // 2 + 1))


def _real_dtype(x):
    return np.finfo(np.result_type(raw(x), np.float32)).dtype


@primitive(name="fft_rfft")
def _rfft(x, n, axis, norm):
    """the n//2 + 1 non-negative-frequency bins of the DFT of real x  ·  transpose: the
    real part of fft(g zero-padded to n), i.e. irfft(ḡ/d) with the opposite norm"""
    return np.fft.rfft(x, n, axis, norm)


def _rfft_vjp(g, out, x, n, axis, norm):
    shape = np.shape(raw(x))
    halve = 1 / _doubling(n, axis, len(shape), _real_dtype(g))
    return _fit(_irfft(conj(g) * halve, n, axis, _DUAL[norm]), shape)


_rfft.defvjp(_rfft_vjp)


@primitive(name="fft_irfft")
def _irfft(x, n, axis, norm):
    """the real signal of length n whose DFT has the half spectrum x (Hermitian symmetry)
    · transpose: d · conj(rfft(g)) with the opposite norm"""
    return np.fft.irfft(x, n, axis, norm)


def _irfft_vjp(g, out, x, n, axis, norm):
    shape = np.shape(raw(x))
    d = _doubling(n, axis, len(shape), _real_dtype(g))
    if np.iscomplexobj(raw(g)):  # (real outputs get real cotangents; for completeness)
        half = _fit(_c2c(g, (n,), (axis,), norm, True), _along(np.shape(raw(g)), axis,
                                                               n // 2 + 1))
    else:
        half = conj(_rfft(g, n, axis, _DUAL[norm]))
    return _fit(half * d, shape)


_irfft.defvjp(_irfft_vjp)


@primitive(name="fftshift")
def _roll(x, shifts, axes):
    """x rolled by `shifts` along `axes`  ·  the gradient is rolled back"""
    return np.roll(x, shifts, axes)


_roll.defvjp(lambda g, out, x, shifts, axes: _roll(g, tuple(-k for k in shifts), axes))


# --------------------------------------------------------------------------- numpy signatures


def _axis(a, axis):
    return normalize_axis_index(axis, np.ndim(raw(a)))


def _cook(name, a, s, axes, kind="c2c"):
    """(s, axes) as numpy's n-dimensional transforms resolve them: axes non-negative, every
    length explicit. No s: the input's lengths (irfftn's last: 2(m − 1)); -1 in s: the
    input's length; None in s: the axis's length when its step runs, in numpy's order (an
    axis may repeat): complex steps last to first, rfftn's real step (to n//2 + 1) before
    them, irfftn's (default 2(m − 1)) after them, first to last."""
    shape = np.shape(raw(a))
    if axes is None:
        axes = range(len(shape)) if s is None else range(-len(s), 0)
    axes = tuple(normalize_axis_index(ax, len(shape)) for ax in axes)
    lengths = [shape[ax] for ax in axes] if s is None else list(s)
    if len(lengths) != len(axes):
        raise ValueError(f"{name}: shape and axes have different lengths ({len(lengths)} and "
                         f"{len(axes)})")
    if s is None and kind == "c2r" and axes:  # (numpy's default: from the input's shape)
        lengths[-1] = 2 * (shape[axes[-1]] - 1)
    last = len(axes) - 1
    if kind == "c2c":
        steps = list(range(last, -1, -1))
    elif kind == "r2c":
        steps = [last, *range(last - 1, -1, -1)] if axes else []
    else:
        steps = list(range(len(axes)))
    current = list(shape)
    cooked = [0] * len(axes)
    for i in steps:
        ax = axes[i]
        real = kind != "c2c" and i == last
        default = 2 * (current[ax] - 1) if real and kind == "c2r" else current[ax]
        cooked[i] = _length(name, lengths[i], default, bool_ok=real and kind == "r2c",
                            whole=shape[ax])
        current[ax] = cooked[i] // 2 + 1 if real and kind == "r2c" else cooked[i]
    return tuple(cooked), axes


def _complex_1d(name, a, n, axis, norm, out, inverse):
    _refuse_out(name, out)
    axis = _axis(a, axis)
    n = _length(name, n, np.shape(raw(a))[axis])
    return _c2c(a, (n,), (axis,), _norm(name, norm), inverse)


def _complex_nd(name, a, s, axes, norm, out, inverse):
    _refuse_out(name, out)
    s, axes = _cook(name, a, s, axes)
    return _c2c(a, s, axes, _norm(name, norm), inverse)


def _rfftn(name, a, s, axes, norm, out):
    _refuse_out(name, out)
    s, axes = _cook(name, a, s, axes, kind="r2c")
    if not axes:
        raise ValueError(f"{name}: needs at least one axis")
    norm = _norm(name, norm)
    result = _rfft(a, s[-1], axes[-1], norm)
    return _c2c(result, s[:-1], axes[:-1], norm, False) if len(axes) > 1 else result


def _irfftn(name, a, s, axes, norm, out):
    _refuse_out(name, out)
    s, axes = _cook(name, a, s, axes, kind="c2r")
    if not axes:
        raise ValueError(f"{name}: needs at least one axis")
    norm = _norm(name, norm)
    if len(set(axes[:-1])) == len(axes) - 1:
        if len(axes) > 1:
            a = _c2c(a, s[:-1], axes[:-1], norm, True)
    else:  # a repeated axis: numpy's order, first to last
        for n, axis in zip(s[:-1], axes[:-1], strict=True):
            a = _c2c(a, (n,), (axis,), norm, True)
    return _irfft(a, s[-1], axes[-1], norm)


# --------------------------------------------------------------------------- test cases


def _some_norm(gen):
    return gen.choice([None, "backward", "ortho", "forward"])


def _cases_1d(kind):
    """x of 1..3 axes; a length n that pads, truncates or is the default; any axis."""

    def cases(gen):
        x = gen.array(gen.shape(min_dims=1))
        axis = gen.integer(-x.ndim, x.ndim - 1)
        m = x.shape[axis]
        if kind == "c2r":  # half spectra: the default n is 2(m − 1)
            options = [2 * m - 1, m + 1] + ([None, 2 * m - 2] if m >= 2 else [])
        else:
            options = [None, m + 2, max(1, m - 1)]
        return (x,), {"n": gen.choice(options), "axis": axis, "norm": _some_norm(gen)}

    return cases


def _cases_nd(kind, two=False):
    """x of 2..3 axes; axes (all, or some), lengths s (default, or padding/truncating)."""

    def cases(gen):
        x = gen.array(gen.shape(min_dims=2, max_dims=3, max_side=3))
        if two:
            axes = gen.choice([(-2, -1), (-1, -2), (0, 1)])
        else:
            axes = gen.choice([None, (0, 1), (-1, 0), tuple(range(x.ndim))])
        kwargs = {"norm": _some_norm(gen)}
        if axes != (-2, -1) or not two:
            kwargs["axes"] = axes
        chosen = tuple(range(x.ndim)) if axes is None else axes
        if gen.boolean():
            kwargs["s"] = tuple(max(x.shape[ax] + gen.integer(-1, 1), 2) for ax in chosen)
            kwargs["axes"] = chosen  # (numpy deprecates s without axes)
        elif kind == "c2r" and x.shape[chosen[-1]] < 2:
            kwargs["s"] = tuple(x.shape[ax] for ax in chosen)  # the default would be 0
            kwargs["axes"] = chosen
        return (x,), kwargs

    return cases


def _shift_cases(gen):
    x = gen.array(gen.shape(min_dims=1))
    return (x,), {"axes": gen.choice([None, -1, (0,), tuple(range(x.ndim))])}


def _fft_entry(name, dask=False, **kwargs):
    """The transforms do not run lazily on Dask arrays (Dask's fft wants the transformed
    axes in one chunk); the shifts, which are rolls, do."""
    return declare(f"fft.{name}", numpy=getattr(np.fft, name), group="fft",
                   torch=f"torch.fft.{name}", dask=dask, **kwargs)


# --------------------------------------------------------------------------- 1-D


@_fft_entry("fft", cases=_cases_1d("c2c"), dtypes=ALL_DTYPES, domain="linear: all inputs")
def fft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the DFT Σₜ aₜ e^(−2πikt/n) along `axis`, as np.fft.fft  ·  transpose: fft of g"""
    return _complex_1d("fft", a, n, axis, norm, out, False)


@_fft_entry("ifft", cases=_cases_1d("c2c"), dtypes=ALL_DTYPES, domain="linear: all inputs")
def ifft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the inverse DFT (1/n) Σₖ aₖ e^(2πikt/n) along `axis`, as np.fft.ifft  ·  transpose:
    ifft of g"""
    return _complex_1d("ifft", a, n, axis, norm, out, True)


@_fft_entry("rfft", cases=_cases_1d("r2c"), domain="linear; real input (as numpy)")
def rfft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the n//2 + 1 non-negative-frequency bins of the DFT of real a, as np.fft.rfft  ·
    transpose: Re fft(g zero-padded to n)"""
    _refuse_out("rfft", out)
    axis = _axis(a, axis)
    n = _length("rfft", n, np.shape(raw(a))[axis], bool_ok=True)
    return _rfft(a, n, axis, _norm("rfft", norm))


@_fft_entry("irfft", cases=_cases_1d("c2r"), dtypes=ALL_DTYPES,
            domain="linear; reads Re of the DC (and, n even, Nyquist) bin, so the imaginary "
                   "parts there get a zero gradient")
def irfft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the real signal of length n (default 2(m − 1)) with half spectrum a, as np.fft.irfft
    · transpose: d · conj(rfft(g)), d = 2 off DC and Nyquist"""
    _refuse_out("irfft", out)
    axis = _axis(a, axis)
    n = _length("irfft", n, 2 * (np.shape(raw(a))[axis] - 1))
    return _irfft(a, n, axis, _norm("irfft", norm))


@_fft_entry("hfft", cases=_cases_1d("c2r"), dtypes=ALL_DTYPES,
            domain="linear; as irfft of the conjugate")
def hfft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the real DFT of a signal with Hermitian symmetry given by its first half, as
    np.fft.hfft: irfft(conj(a), n) with the opposite norm"""
    _refuse_out("hfft", out)
    axis = _axis(a, axis)
    n = _length("hfft", n, 2 * (np.shape(raw(a))[axis] - 1))
    return _irfft(conj(a), n, axis, _DUAL[_norm("hfft", norm)])


@_fft_entry("ihfft", cases=_cases_1d("r2c"), domain="linear; real input (as numpy)")
def ihfft(a: Any, n: Any = None, axis: Any = -1, norm: Any = None, out: Any = None) -> Any:
    """the inverse of hfft for real a, as np.fft.ihfft: conj(rfft(a, n)) with the opposite
    norm"""
    _refuse_out("ihfft", out)
    axis = _axis(a, axis)
    n = _length("ihfft", n, np.shape(raw(a))[axis], bool_ok=True)
    return conj(_rfft(a, n, axis, _DUAL[_norm("ihfft", norm)]))


# --------------------------------------------------------------------------- 2-D and n-D


@_fft_entry("fft2", cases=_cases_nd("c2c", two=True), dtypes=ALL_DTYPES,
            domain="linear: all inputs")
def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """the 2-D DFT over `axes`, as np.fft.fft2  ·  transpose: fft2 of g"""
    return _complex_nd("fft2", a, s, axes, norm, out, False)


@_fft_entry("ifft2", cases=_cases_nd("c2c", two=True), dtypes=ALL_DTYPES,
            domain="linear: all inputs")
def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """the 2-D inverse DFT over `axes`, as np.fft.ifft2  ·  transpose: ifft2 of g"""
    return _complex_nd("ifft2", a, s, axes, norm, out, True)


@_fft_entry("fftn", cases=_cases_nd("c2c"), dtypes=ALL_DTYPES, domain="linear: all inputs")
def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """the n-D DFT over `axes` (all by default), as np.fft.fftn  ·  transpose: fftn of g"""
    return _complex_nd("fftn", a, s, axes, norm, out, False)


@_fft_entry("ifftn", cases=_cases_nd("c2c"), dtypes=ALL_DTYPES, domain="linear: all inputs")
def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """the n-D inverse DFT over `axes`, as np.fft.ifftn  ·  transpose: ifftn of g"""
    return _complex_nd("ifftn", a, s, axes, norm, out, True)


@_fft_entry("rfft2", cases=_cases_nd("r2c", two=True), domain="linear; real input")
def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """rfft over the last of `axes`, then fft over the other, as np.fft.rfft2"""
    return _rfftn("rfft2", a, s, axes, norm, out)


@_fft_entry("irfft2", cases=_cases_nd("c2r", two=True), dtypes=ALL_DTYPES,
            domain="linear; as irfft along the last axis")
def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Any:
    """ifft over the first of `axes`, then irfft over the last, as np.fft.irfft2"""
    return _irfftn("irfft2", a, s, axes, norm, out)


@_fft_entry("rfftn", cases=_cases_nd("r2c"), domain="linear; real input")
def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """rfft over the last of `axes`, then fft over the others, as np.fft.rfftn"""
    return _rfftn("rfftn", a, s, axes, norm, out)


@_fft_entry("irfftn", cases=_cases_nd("c2r"), dtypes=ALL_DTYPES,
            domain="linear; as irfft along the last axis")
def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Any:
    """ifft over all but the last of `axes`, then irfft over the last, as np.fft.irfftn"""
    return _irfftn("irfftn", a, s, axes, norm, out)


# --------------------------------------------------------------------------- shifts


def _shifts(x, axes, sign):
    shape = np.shape(raw(x))
    if axes is None:
        axes = tuple(range(len(shape)))
    elif isinstance(axes, (int, np.integer)):
        axes = (int(axes),)
    axes = tuple(normalize_axis_index(ax, len(shape)) for ax in axes)
    return tuple(sign * (shape[ax] // 2) for ax in axes), axes


@_fft_entry("fftshift", dask=True, cases=_shift_cases, dtypes=ALL_DTYPES, domain="a permutation")
def fftshift(x: Any, axes: Any = None) -> Any:
    """x rolled by n//2 along `axes` (zero frequency to the centre), as np.fft.fftshift  ·
    the gradient is rolled back"""
    shifts, axes = _shifts(x, axes, 1)
    return _roll(x, shifts, axes)


@_fft_entry("ifftshift", dask=True, cases=_shift_cases, dtypes=ALL_DTYPES, domain="a permutation")
def ifftshift(x: Any, axes: Any = None) -> Any:
    """x rolled by −(n//2) along `axes` (undoes fftshift), as np.fft.ifftshift  ·  the
    gradient is rolled back"""
    shifts, axes = _shifts(x, axes, -1)
    return _roll(x, shifts, axes)
