"""numpy's differentiable math ufuncs beyond the basic ones of `arithmetic` and `elementwise`:
trigonometric and hyperbolic functions and their inverses, exponentials and logarithms in
other bases, powers, two-argument functions (hypot, arctan2, logaddexp), remainders,
rounding, angle conversions and nan-ignoring max/min; and the ufuncs whose results are
constants (comparisons, tests, logical operations, floor_divide).

Conventions follow PyTorch: rounding and sign have zero derivative (their results are still
recorded, so the graph stays connected); fabs'(0) = 0; the remainders have ∂/∂x = 1 and
∂/∂y = −floor(x/y) (−trunc(x/y) for fmod); fmax/fmin split ties evenly, as maximum does, and
send the gradient to the operand that is not nan. A float64 scalar takes the `math` module's
path where it has the function; where `math` refuses, numpy's answer is used.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..backend import check_shape
from ..engine import Primitive, astype, primitive
from ..value import Value, raw, value_or_array
from .arithmetic import divide, where
from .complex import imag, real
from .elementwise import exp, power, sqrt
from .table import ALL_DTYPES, binary, constant, declare, unary

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cbrt", "ceil",
    "copysign", "cosh", "deg2rad", "divmod_", "exp2", "expm1", "fabs", "float_power", "floor",
    "fmax", "fmin", "fmod", "heaviside", "hypot", "log1p", "log2", "log10", "logaddexp",
    "logaddexp2", "nan_to_num", "positive", "rad2deg", "reciprocal", "remainder", "rint",
    "round_", "sign", "sinc", "sinh", "square", "tan", "trunc",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _on_floats(math_function: Any, numpy_function: Any, *args: Any) -> Any:
    """numpy_function(*args), through math_function when the first argument is a Python
    float and the others floats or ints (numpy's answer where math refuses)."""
    if type(args[0]) is float and all(type(a) in (float, int) for a in args[1:]):
        if math_function is not None:
            try:
                return float(math_function(*args))
            except (ValueError, OverflowError, ZeroDivisionError):
                pass
        with np.errstate(all="ignore"):
            return float(numpy_function(*args))
    return numpy_function(*args)


def _zero(g: Any, out: Any, *args: Any) -> np.ndarray:
    """The zero cotangent of a piecewise-constant function (a constant: zero, not None, so
    that .grad is 0 as in PyTorch)."""
    return np.zeros_like(raw(g))  # in g's own kind of array


def _holomorphic_cases(real: str, complex_: str) -> Any:
    """Unary cases in domain `real` for real dtypes and `complex_` for complex ones (where a
    wider real domain would reach a branch cut or a pole)."""
    def cases(gen):
        domain = complex_ if gen.dtype.kind == "c" else real
        return (gen.array(gen.shape(), domain),), {}

    return cases


# --------------------------------------------------------------------------- trigonometric


@declare("tan", numpy=np.tan, group="trigonometric", cases=unary("unit"), dtypes=ALL_DTYPES,
         domain="x ≠ π/2 + kπ", torch="torch.tan")
@primitive(name="tan")
def tan(x: Any) -> Any:
    """tan x  ·  d/dx = 1 + tan² x"""
    return _on_floats(math.tan, np.tan, x)


tan.defvjp(lambda g, out, x: g * (1 + out * out))


@declare("arcsin", numpy=np.arcsin, group="trigonometric", cases=unary("unit"),
         dtypes=ALL_DTYPES, domain="−1 < x < 1 (complex: off the cuts |x| ≥ 1 of the real axis)",
         torch="torch.asin")
@primitive(name="arcsin")
def arcsin(x: Any) -> Any:
    """arcsin x  ·  d/dx = 1 / √(1 − x²)"""
    return _on_floats(math.asin, np.arcsin, x)


arcsin.defvjp(lambda g, out, x: divide(g, sqrt(1 - x * x)))


@declare("arccos", numpy=np.arccos, group="trigonometric", cases=unary("unit"),
         dtypes=ALL_DTYPES, domain="−1 < x < 1 (complex: off the cuts |x| ≥ 1 of the real axis)",
         torch="torch.acos")
@primitive(name="arccos")
def arccos(x: Any) -> Any:
    """arccos x  ·  d/dx = −1 / √(1 − x²)"""
    return _on_floats(math.acos, np.arccos, x)


arccos.defvjp(lambda g, out, x: divide(-g, sqrt(1 - x * x)))


@declare("arctan", numpy=np.arctan, group="trigonometric",
         cases=_holomorphic_cases("any", "unit"), dtypes=ALL_DTYPES,
         domain="all reals (complex: off the cuts |Im x| ≥ 1 of the imaginary axis)",
         torch="torch.atan")
@primitive(name="arctan")
def arctan(x: Any) -> Any:
    """arctan x  ·  d/dx = 1 / (1 + x²)"""
    return _on_floats(math.atan, np.arctan, x)


arctan.defvjp(lambda g, out, x: divide(g, 1 + x * x))


@declare("arctan2", numpy=np.arctan2, group="trigonometric", cases=binary("nonzero", "any"),
         domain="(y, x) ≠ (0, 0); the gradient is taken as 0 there; jumps on y = 0, x < 0",
         torch="torch.atan2")
@primitive(name="arctan2")
def arctan2(y: Any, x: Any) -> Any:
    """atan2(y, x), the angle of (x, y)  ·  ∂/∂y = x / (x² + y²), ∂/∂x = −y / (x² + y²)
    (computed as x/r/r with r = hypot(x, y), which neither overflows nor underflows early)"""
    return _on_floats(math.atan2, np.arctan2, y, x)


def _over_r2(numerator: Any, y: Any, x: Any) -> Any:
    """numerator / (x² + y²) as numerator/r/r with r = hypot(x, y); 0 where r = 0."""
    r = hypot(x, y)
    r = where(raw(r) == 0, 1.0, r)
    return divide(divide(numerator, r), r)


arctan2.defvjp(lambda g, out, y, x: _over_r2(g * x, y, x),
               lambda g, out, y, x: _over_r2(-g * y, y, x))


@declare("hypot", numpy=np.hypot, group="trigonometric", cases=binary("nonzero", "any"),
         domain="the gradient at (0, 0) is taken as 0 (as abs'(0))", torch="torch.hypot")
@primitive(name="hypot")
def hypot(x: Any, y: Any) -> Any:
    """√(x² + y²) without overflow  ·  ∂/∂x = x / hypot, ∂/∂y = y / hypot"""
    return _on_floats(math.hypot, np.hypot, x, y)


def _over_hypot(g: Any, out: Any, a: Any) -> Any:
    return g * divide(a, where(raw(out) == 0, 1.0, out))


hypot.defvjp(lambda g, out, x, y: _over_hypot(g, out, x),
             lambda g, out, x, y: _over_hypot(g, out, y))


@declare("deg2rad", numpy=(np.deg2rad, np.radians), group="trigonometric", cases=unary(),
         torch="torch.deg2rad")
@primitive(name="deg2rad")
def deg2rad(x: Any) -> Any:
    """x · π/180  ·  d/dx = π/180"""
    return _on_floats(math.radians, np.deg2rad, x)


deg2rad.defvjp(lambda g, out, x: g * (math.pi / 180.0))


@declare("rad2deg", numpy=(np.rad2deg, np.degrees), group="trigonometric", cases=unary(),
         torch="torch.rad2deg")
@primitive(name="rad2deg")
def rad2deg(x: Any) -> Any:
    """x · 180/π  ·  d/dx = 180/π"""
    return _on_floats(math.degrees, np.rad2deg, x)


rad2deg.defvjp(lambda g, out, x: g * (180.0 / math.pi))


# --------------------------------------------------------------------------- sinc
#
# With t = πx and s(t) = sin t / t, sinc's n-th derivative is πⁿ s⁽ⁿ⁾(t). Differentiating
# t·s(t) = sin t n times (Leibniz) gives t s⁽ⁿ⁾ + n s⁽ⁿ⁻¹⁾ = sin(t + nπ/2), so
# s⁽ⁿ⁾ = (sin(t + nπ/2) − n s⁽ⁿ⁻¹⁾) / t: exact, but it cancels as t → 0 (its error grows
# like ε/tⁿ⁺¹). For |t| < 1 the Taylor series s⁽ⁿ⁾(t) = Σ_{2k ≥ n} (−1)ᵏ t^(2k−n) /
# ((2k−n)!·(2k+1)) is used instead: all its terms shrink at least as fast as 1/m!, so a
# fixed number of them is exact to rounding. The forward is numpy's formula (1 at 0).

_SINC_SERIES_BELOW = 1.0  # |πx| under which the derivatives are summed as a series
_SINC_SERIES_TERMS = 12   # powers t^m up to m = 23: 1/23! ≈ 4e-23, far below ε


@functools.cache
def _sinc_coefficients(n: int) -> tuple[float, ...]:
    """The Taylor coefficients of s⁽ⁿ⁾(t) = t^(n mod 2) · Σ_j c_j (t²)^j (s(t) = sin t / t)."""
    coefficients = []
    for j in range(_SINC_SERIES_TERMS):
        m = n % 2 + 2 * j  # the power of t: 2k − n
        k = (m + n) // 2
        coefficients.append((-1) ** k / (math.factorial(m) * (2 * k + 1)))
    return tuple(coefficients)


def _sinc_series(t: Any, n: int) -> Any:
    """s⁽ⁿ⁾(t) by its Taylor series about 0 (Horner's scheme in t²), for |t| < 1."""
    coefficients = _sinc_coefficients(n)
    u = t * t
    total = coefficients[-1] * u + coefficients[-2]
    for c in reversed(coefficients[:-2]):
        total = total * u + c
    return total * t if n % 2 else total


def _sinc_closed(t: Any, n: int) -> Any:
    """s⁽ⁿ⁾(t) by the recurrence s⁽ᵏ⁾ = (sin(t + kπ/2) − k s⁽ᵏ⁻¹⁾) / t, for t away from 0."""
    sin_t, cos_t = np.sin(t), np.cos(t)
    turns = (sin_t, cos_t, -sin_t, -cos_t)  # sin(t + kπ/2) for k mod 4
    s = sin_t / t
    for k in range(1, n + 1):
        s = (turns[k % 4] - k * s) / t
    return s


def _scalar_if_float(x: Any, result: Any) -> Any:
    """`result` as a Python float where the input x was one (numpy gives a 0-d array)."""
    return float(result) if type(x) is float else result


@primitive(name="sinc_derivative")
def _sinc_derivative(x, order):
    """dⁿ/dxⁿ sinc x = πⁿ s⁽ⁿ⁾(πx) for n = order ≥ 1 (a series near 0)  ·  d/dx = the
    derivative of the next order"""
    t = np.pi * x
    near = np.abs(t) < _SINC_SERIES_BELOW
    away = np.where(near, 1.0, t)  # (a harmless stand-in where the series is used)
    result = np.where(near, _sinc_series(t, order), _sinc_closed(away, order))
    return _scalar_if_float(x, result * np.pi ** order)


_sinc_derivative.defvjp(lambda g, out, x, order: g * _sinc_derivative(x, order=order + 1))


@declare("sinc", numpy=np.sinc, group="trigonometric", cases=unary(), dtypes=ALL_DTYPES,
         domain="all reals (and complex numbers); sinc(0) = 1, sinc'(0) = 0 and every "
                "derivative is finite and accurate near 0 (a Taylor series for |πx| < 1)",
         torch="torch.sinc")
@primitive(name="sinc")
def sinc(x: Any) -> Any:
    """sin(πx)/(πx), 1 at x = 0, as np.sinc  ·  d/dx = (cos(πx) − sinc x)/x, 0 at 0 (its
    Taylor series for |πx| < 1, where that difference cancels)"""
    t = np.pi * x
    at_zero = t == 0
    safe = np.where(at_zero, 1.0, t)  # (no 0/0 where the limit 1 is taken)
    return _scalar_if_float(x, np.where(at_zero, 1.0, np.sin(safe) / safe))


sinc.defvjp(lambda g, out, x: g * _sinc_derivative(x, order=1))


# --------------------------------------------------------------------------- hyperbolic


@declare("sinh", numpy=np.sinh, group="hyperbolic", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.sinh")
@primitive(name="sinh")
def sinh(x: Any) -> Any:
    """sinh x  ·  d/dx = cosh x"""
    return _on_floats(math.sinh, np.sinh, x)


@declare("cosh", numpy=np.cosh, group="hyperbolic", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.cosh")
@primitive(name="cosh")
def cosh(x: Any) -> Any:
    """cosh x  ·  d/dx = sinh x"""
    return _on_floats(math.cosh, np.cosh, x)


sinh.defvjp(lambda g, out, x: g * cosh(x))
cosh.defvjp(lambda g, out, x: g * sinh(x))


@declare("arcsinh", numpy=np.arcsinh, group="hyperbolic",
         cases=_holomorphic_cases("any", "unit"), dtypes=ALL_DTYPES,
         domain="all reals (complex: off the cuts |Im x| ≥ 1 of the imaginary axis)",
         torch="torch.asinh")
@primitive(name="arcsinh")
def arcsinh(x: Any) -> Any:
    """arsinh x  ·  d/dx = 1 / √(1 + x²)"""
    return _on_floats(math.asinh, np.arcsinh, x)


arcsinh.defvjp(lambda g, out, x: divide(g, sqrt(1 + x * x)))


@declare("arccosh", numpy=np.arccosh, group="hyperbolic", cases=unary("above_one"),
         dtypes=ALL_DTYPES, domain="x > 1 (complex: off the cut x < 1 of the real axis)",
         torch="torch.acosh")
@primitive(name="arccosh")
def arccosh(x: Any) -> Any:
    """arcosh x  ·  d/dx = 1 / (√(x − 1)·√(x + 1))  (numpy's branch for complex x)"""
    return _on_floats(math.acosh, np.arccosh, x)


arccosh.defvjp(lambda g, out, x: divide(g, sqrt(x - 1) * sqrt(x + 1)))


@declare("arctanh", numpy=np.arctanh, group="hyperbolic", cases=unary("unit"),
         dtypes=ALL_DTYPES, domain="−1 < x < 1 (complex: off the cuts |x| ≥ 1 of the real axis)",
         torch="torch.atanh")
@primitive(name="arctanh")
def arctanh(x: Any) -> Any:
    """artanh x  ·  d/dx = 1 / (1 − x²)"""
    return _on_floats(math.atanh, np.arctanh, x)


arctanh.defvjp(lambda g, out, x: divide(g, 1 - x * x))


# --------------------------------------------------------------------------- exponential


@declare("exp2", numpy=np.exp2, group="exponential", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.exp2")
@primitive(name="exp2")
def exp2(x: Any) -> Any:
    """2^x  ·  d/dx = 2^x · ln 2"""
    return _on_floats(math.exp2, np.exp2, x)


exp2.defvjp(lambda g, out, x: g * out * _LN2)


@declare("expm1", numpy=np.expm1, group="exponential", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.expm1")
@primitive(name="expm1")
def expm1(x: Any) -> Any:
    """e^x − 1, accurate near 0  ·  d/dx = e^x"""
    return _on_floats(math.expm1, np.expm1, x)


expm1.defvjp(lambda g, out, x: g * exp(x))


@declare("log2", numpy=np.log2, group="exponential", cases=unary("positive"), dtypes=ALL_DTYPES,
         domain="x > 0 (complex: off the branch cut x ≤ 0)", torch="torch.log2")
@primitive(name="log2")
def log2(x: Any) -> Any:
    """log₂ x  ·  d/dx = 1 / (x ln 2)"""
    return _on_floats(math.log2, np.log2, x)


log2.defvjp(lambda g, out, x: divide(g, x * _LN2))


@declare("log10", numpy=np.log10, group="exponential", cases=unary("positive"),
         dtypes=ALL_DTYPES, domain="x > 0 (complex: off the branch cut x ≤ 0)",
         torch="torch.log10")
@primitive(name="log10")
def log10(x: Any) -> Any:
    """log₁₀ x  ·  d/dx = 1 / (x ln 10)"""
    return _on_floats(math.log10, np.log10, x)


log10.defvjp(lambda g, out, x: divide(g, x * _LN10))


@declare("log1p", numpy=np.log1p, group="exponential", cases=unary("unit"), dtypes=ALL_DTYPES,
         domain="x > −1 (complex: off the branch cut x ≤ −1)", torch="torch.log1p")
@primitive(name="log1p")
def log1p(x: Any) -> Any:
    """ln(1 + x), accurate near 0  ·  d/dx = 1 / (1 + x)"""
    return _on_floats(math.log1p, np.log1p, x)


log1p.defvjp(lambda g, out, x: divide(g, 1 + x))


def _logaddexp_floats(x: float, y: float) -> float:
    if x == y:
        return x + _LN2  # also right for ±inf
    m = max(x, y)
    return m + math.log1p(math.exp(-abs(x - y)))


@declare("logaddexp", numpy=np.logaddexp, group="exponential", cases=binary(),
         torch="torch.logaddexp")
@primitive(name="logaddexp")
def logaddexp(x: Any, y: Any) -> Any:
    """ln(e^x + e^y), without overflow  ·  ∂/∂x = e^(x − out), ∂/∂y = e^(y − out)"""
    return _on_floats(_logaddexp_floats, np.logaddexp, x, y)


logaddexp.defvjp(lambda g, out, x, y: g * exp(x - out),
                 lambda g, out, x, y: g * exp(y - out))


def _logaddexp2_floats(x: float, y: float) -> float:
    if x == y:
        return x + 1.0
    m = max(x, y)
    return m + math.log1p(math.exp2(-abs(x - y))) / _LN2


@declare("logaddexp2", numpy=np.logaddexp2, group="exponential", cases=binary(),
         torch="torch.logaddexp2")
@primitive(name="logaddexp2")
def logaddexp2(x: Any, y: Any) -> Any:
    """log₂(2^x + 2^y), without overflow  ·  ∂/∂x = 2^(x − out), ∂/∂y = 2^(y − out)"""
    return _on_floats(_logaddexp2_floats, np.logaddexp2, x, y)


logaddexp2.defvjp(lambda g, out, x, y: g * exp2(x - out),
                  lambda g, out, x, y: g * exp2(y - out))


# --------------------------------------------------------------------------- powers


def _to_double(a: Any) -> Any:
    """a in float64 (complex128 if complex), as np.float_power computes."""
    if isinstance(a, Value):
        target = np.complex128 if a.dtype.kind == "c" else np.float64
        return a if a.dtype == target else astype(a, target)
    if type(a) in (float, int):
        return float(a)
    a = np.asarray(a)
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64, copy=False)


def _power_cases(gen):
    # exponent away from 0: power's second derivative is off at y = 0 exactly (its rule
    # for x has a y = 0 special case; reported, not this module's)
    a, b = gen.shapes(2)
    return (gen.array(a, "positive"), gen.array(b, "nonzero")), {}


@declare("float_power", numpy=np.float_power, group="powers", cases=_power_cases,
         dtypes=ALL_DTYPES, domain="x > 0 for a real exponent (as power); computed in float64",
         torch="torch.float_power")
def float_power(x: Any, y: Any) -> Any:
    """x ** y in float64 (complex128 for complex input), as power after the cast"""
    return power(_to_double(x), _to_double(y))


@declare("square", numpy=np.square, group="powers", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.square")
@primitive(name="square")
def square(x: Any) -> Any:
    """x²  ·  d/dx = 2x"""
    return x * x if type(x) is float else np.square(x)


square.defvjp(lambda g, out, x: g * (2 * x))


@declare("reciprocal", numpy=np.reciprocal, group="powers", cases=unary("nonzero"),
         dtypes=ALL_DTYPES, domain="x ≠ 0", torch="torch.reciprocal")
@primitive(name="reciprocal")
def reciprocal(x: Any) -> Any:
    """1/x  ·  d/dx = −1/x²"""
    return _on_floats(lambda a: 1.0 / a, np.reciprocal, x)


reciprocal.defvjp(lambda g, out, x: -g * out * out)


@declare("cbrt", numpy=np.cbrt, group="powers", cases=unary("nonzero"),
         domain="real x ≠ 0 (infinite slope at 0)")
@primitive(name="cbrt")
def cbrt(x: Any) -> Any:
    """∛x (real, odd)  ·  d/dx = 1 / (3 ∛x²)"""
    return _on_floats(math.cbrt, np.cbrt, x)


cbrt.defvjp(lambda g, out, x: divide(g, 3 * out * out))


@declare("positive", numpy=np.positive, group="arithmetic", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.positive")
@primitive(name="positive")
def positive(x: Any) -> Any:
    """+x (a copy)  ·  d/dx = 1"""
    return x if type(x) is float else np.positive(x)


positive.defvjp(lambda g, out, x: g)


# --------------------------------------------------------------------------- remainders


def _remainder_cases(gen):
    """y away from 0 and x = q·y with q away from integers (and half-integers): no jumps."""
    a, b = gen.shapes(2)
    y = gen.array(b, "nonzero")
    q = gen.array(a, "smooth")
    return ((q * y).astype(gen.dtype), y), {}


@declare("remainder", numpy=np.remainder, group="arithmetic",
         cases=_remainder_cases, torch="torch.remainder", dtypes=("float64",),
         domain="y ≠ 0; jumps where x/y is an integer; the sign of y (np.mod, x % y)")
@primitive(name="remainder")
def remainder(x: Any, y: Any) -> Any:
    """x − floor(x/y)·y  ·  ∂/∂x = 1, ∂/∂y = −floor(x/y)"""
    return _on_floats(lambda a, b: a % b, np.remainder, x, y)


remainder.defvjp(lambda g, out, x, y: g,
                 lambda g, out, x, y: g * -np.floor_divide(raw(x), raw(y)))


@declare("fmod", numpy=np.fmod, group="arithmetic", cases=_remainder_cases, torch="torch.fmod",
         domain="y ≠ 0; jumps where x/y is a nonzero integer; the sign of x (C's fmod)")
@primitive(name="fmod")
def fmod(x: Any, y: Any) -> Any:
    """x − trunc(x/y)·y  ·  ∂/∂x = 1, ∂/∂y = −trunc(x/y)"""
    return _on_floats(math.fmod, np.fmod, x, y)


def _fmod_quotient(x: Any, y: Any) -> Any:
    with np.errstate(all="ignore"):
        return np.trunc(np.divide(raw(x), raw(y)))


fmod.defvjp(lambda g, out, x, y: g,
            lambda g, out, x, y: g * -_fmod_quotient(x, y))


@declare("divmod", numpy=np.divmod, group="arithmetic",
         domain="y ≠ 0; as remainder",
         notes="returns a tuple (quotient, remainder): the quotient floor(x/y) is a constant "
               "(plain numpy, as np.floor_divide on Values), the remainder a Value with "
               "remainder's gradient; checked in tests/test_numpy_ufuncs.py (the table's "
               "property tests expect a single Value)")
def divmod_(x: Any, y: Any) -> tuple[Any, Any]:
    """(floor(x/y), x − floor(x/y)·y): the quotient is a constant, the remainder as remainder"""
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.floor_divide(raw(x), raw(y))
    return quotient, remainder(x, y)


# --------------------------------------------------------------------------- rounding, sign


@declare("fabs", numpy=np.fabs, group="rounding", cases=unary("nonzero"),
         domain="real x; fabs'(0) = 0", torch="torch.abs")
@primitive(name="fabs")
def fabs(x: Any) -> Any:
    """|x| for real x  ·  d/dx = sign x (0 at the kink)"""
    return abs(x) if type(x) is float else np.fabs(x)


fabs.defvjp(lambda g, out, x: g * np.sign(raw(x)))


@declare("copysign", numpy=np.copysign, group="rounding", cases=binary("nonzero", "nonzero"),
         domain="∂/∂x = ±1 (0 at x = 0, as PyTorch); ∂/∂y = 0", torch="torch.copysign")
@primitive(name="copysign")
def copysign(x: Any, y: Any) -> Any:
    """|x| with the sign of y  ·  ∂/∂x = sign(x)·sign(y) (0 at x = 0), ∂/∂y = 0"""
    return _on_floats(math.copysign, np.copysign, x, y)


copysign.defvjp(lambda g, out, x, y: g * (np.sign(raw(x)) * np.copysign(1.0, raw(y))),
                _zero)


def _zero_derivative(name: str, numpy_function: Any, cases: str, jumps: str, torch: str,
                     doc: str) -> Primitive:
    """A recorded piecewise-constant ufunc with derivative 0 (the graph stays connected)."""
    def forward(x):
        if type(x) is float:
            return float(numpy_function(x))
        return numpy_function(x)

    forward.__doc__ = doc
    operation = primitive(forward, name=name)
    operation.defvjp(_zero)
    return declare(name, numpy=numpy_function, group="rounding", cases=unary(cases),
                   domain=f"derivative 0, as PyTorch (jumps at {jumps})", torch=torch)(operation)


sign: Primitive = _zero_derivative("sign", np.sign, "nonzero", "0", "torch.sign",
                                   "sign x ∈ {−1, 0, 1}  ·  d/dx = 0")
floor: Primitive = _zero_derivative("floor", np.floor, "smooth", "the integers",
                                    "torch.floor", "⌊x⌋  ·  d/dx = 0")
ceil: Primitive = _zero_derivative("ceil", np.ceil, "smooth", "the integers", "torch.ceil",
                                   "⌈x⌉  ·  d/dx = 0")
trunc: Primitive = _zero_derivative("trunc", np.trunc, "smooth", "the nonzero integers",
                                    "torch.trunc", "x rounded towards 0  ·  d/dx = 0")
rint: Primitive = _zero_derivative("rint", np.rint, "smooth", "the half-integers", "torch.round",
                                   "x rounded to the nearest integer, half to even  ·  d/dx = 0")


@primitive(name="round")
def _round(x, decimals=0):
    """x rounded to `decimals` digits, half to even  ·  d/dx = 0"""
    if type(x) is float:
        return float(np.round(x, decimals))
    return np.round(x, decimals)


_round.defvjp(lambda g, out, x, decimals=0: _zero(g, out, x))


@declare("round", numpy=(np.round, np.around), method="round", group="rounding",
         cases=unary("smooth", decimals=0),  # (other decimals jump closer than a step)
         domain="derivative 0, as PyTorch (jumps halfway between the rounded values)",
         torch="torch.round")
def round_(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """a rounded to `decimals` digits, half to even, as np.round  ·  d/dx = 0"""
    if out is not None:
        raise TypeError("round: out= is not supported on Values (results are new Values)")
    return _round(a, decimals=int(decimals))


def _heaviside_cases(gen):
    """x1 in two kinds: floats away from the step (differentiated: the step is never within
    reach of finite differences), or a constant array of −1, 0 and 1, whose zeros pass the
    gradient to x2."""
    a, b = gen.shapes(2)
    if gen.boolean():
        x1 = gen.array(a, "nonzero")
    else:
        steps = [gen.integer(-1, 1) for _ in range(math.prod(a))]
        x1 = np.array(steps, dtype=np.int8).reshape(a)  # (int8: x2's dtype is the result's)
    return (x1, gen.array(b)), {}


@declare("heaviside", numpy=np.heaviside, group="rounding", cases=_heaviside_cases,
         domain="∂/∂x1 = 0 (the step jumps at x1 = 0); ∂/∂x2 = 1 exactly where x1 = 0, "
                "else 0",
         notes="torch.heaviside takes the same arguments but has no derivative (PyTorch "
               "raises in backward): no torch cross-check")
@primitive(name="heaviside")
def heaviside(x1: Any, x2: Any) -> Any:
    """H(x1): 0 for x1 < 0, x2 at x1 = 0, 1 for x1 > 0 (nan for nan), as np.heaviside  ·
    ∂/∂x1 = 0, ∂/∂x2 = 1 where x1 = 0 and 0 elsewhere"""
    if type(x1) is float and type(x2) in (float, int):
        return float(np.heaviside(x1, x2))
    return np.heaviside(x1, x2)


heaviside.defvjp(_zero, lambda g, out, x1, x2: g * (raw(x1) == 0))


# --------------------------------------------------------------------------- fmax, fmin


def _nan_ignoring_share(x: Any, y: Any, wins: Any) -> np.ndarray:
    """x's share of the gradient of fmax(x, y) (wins = np.greater) or fmin(x, y) (np.less):
    1 where x wins or y alone is nan, ½ on ties, 0 where y wins or x is nan. Where both are
    nan the result is x's nan, so x gets the gradient; the shares of x and y add up to 1."""
    x, y = raw(x), raw(y)
    x_nan, y_nan = np.isnan(x), np.isnan(y)
    return wins(x, y) + 0.5 * np.equal(x, y) + (y_nan & ~x_nan) + (x_nan & y_nan)


def _second_share(x: Any, y: Any, wins: Any) -> np.ndarray:
    """y's share: 1 − x's share."""
    x, y = raw(x), raw(y)
    x_nan, y_nan = np.isnan(x), np.isnan(y)
    return wins(y, x) + 0.5 * np.equal(x, y) + (x_nan & ~y_nan)


def _apart(gen):
    """x and y of broadcastable shapes, |x − y| ≥ 0.5 everywhere (no ties)."""
    a, b = gen.shapes(2)
    x = gen.array(a)
    return (x, x + gen.array(b, "nonzero")), {}


@declare("fmax", numpy=np.fmax, group="arithmetic", cases=_apart, torch="torch.fmax",
         domain="nan-ignoring maximum: the gradient goes to the operand that is not nan; "
                "ties split it evenly (as maximum)")
@primitive(name="fmax")
def fmax(x: Any, y: Any) -> Any:
    """max(x, y) ignoring nan  ·  the gradient goes to the larger (or non-nan) input, split
    evenly on ties"""
    return np.fmax(x, y)


fmax.defvjp(lambda g, out, x, y: g * _nan_ignoring_share(x, y, np.greater),
            lambda g, out, x, y: g * _second_share(x, y, np.greater))


@declare("fmin", numpy=np.fmin, group="arithmetic", cases=_apart, torch="torch.fmin",
         domain="nan-ignoring minimum: the gradient goes to the operand that is not nan; "
                "ties split it evenly (as minimum)")
@primitive(name="fmin")
def fmin(x: Any, y: Any) -> Any:
    """min(x, y) ignoring nan  ·  the gradient goes to the smaller (or non-nan) input, split
    evenly on ties"""
    return np.fmin(x, y)


fmin.defvjp(lambda g, out, x, y: g * _nan_ignoring_share(x, y, np.less),
            lambda g, out, x, y: g * _second_share(x, y, np.less))


# --------------------------------------------------------------------------- nan_to_num


def _nan_to_num_cases(gen):
    """x with up to two elements (or, complex, parts) made nan, inf or −inf in place (so
    that x stays the array the graphs know), finite replacements for all three."""
    x = gen.array(gen.shape())
    for _ in range(gen.integer(0, 2)):
        i = gen.integer(0, x.size - 1)
        special = gen.choice([np.nan, np.inf, -np.inf])
        if x.dtype.kind == "c":
            z = complex(x.flat[i])
            x.flat[i] = complex(special, z.imag) if gen.boolean() else complex(z.real, special)
        else:
            x.flat[i] = special
    return (x,), {"nan": gen.choice([0.0, 1.5]), "posinf": gen.choice([2.5, 1.0]),
                  "neginf": gen.choice([-2.5, -1.0])}


def _replacement(name: str, value: Any, default: Any, dtype: np.dtype[Any],
                 shape: tuple[int, ...]) -> Any:
    """A replacement of nan_to_num (`name` its keyword) in the real dtype `dtype`: numpy
    stores it into x, so it must be real and broadcast to x's shape."""
    if value is None:
        return dtype.type(default)
    value = value_or_array(value)
    data = raw(value)
    if np.iscomplexobj(data):
        raise TypeError(f"nan_to_num: {name}= must be real (it replaces the real and the "
                        f"imaginary part alike), got the complex {np.result_type(data)}")
    if np.result_type(data).kind not in "biuf":
        raise TypeError(f"nan_to_num: {name}= must be a number or an array of numbers, got "
                        f"{type(value).__name__}")
    given = np.shape(data)
    if given and np.broadcast_shapes(given, shape) != shape:  # (raises where none fits)
        raise ValueError(f"nan_to_num: {name}= of shape {given} does not broadcast to x's "
                         f"shape {shape} (it is stored into x)")
    if isinstance(value, Value):
        return value if value.dtype == dtype else astype(value, dtype)
    with np.errstate(over="ignore"):  # (a finite replacement beyond float32 is inf there)
        return data.astype(dtype)


def _replaced(x: Any, nan: Any, posinf: Any, neginf: Any) -> Any:
    """Real x with its nan, +inf and −inf elements replaced."""
    data = raw(x)
    infinite = np.isinf(data)
    result = where(np.isnan(data), nan, x)
    result = where(infinite & (data > 0), posinf, result)
    return where(infinite & (data < 0), neginf, result)


@declare("nan_to_num", numpy=np.nan_to_num, group="selection", cases=_nan_to_num_cases,
         dtypes=ALL_DTYPES, torch="torch.nan_to_num",
         domain="∂/∂x = 1 where x is finite, 0 at nan and ±inf (complex x: each part on its "
                "own, as numpy replaces them); nan=, posinf= and neginf= may be Values (or "
                "arrays that broadcast to x's shape): each gets the gradient of the elements "
                "it replaced",
         notes="copy=False (replacing in place) is refused on Values: the result is always a "
               "new Value. PyTorch has no derivative for complex input: the table's "
               "cross-check runs for real input only")
def nan_to_num(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None,
               neginf: Any = None) -> Any:
    """x with nan replaced by `nan`, +inf by `posinf` and −inf by `neginf` (by default 0 and
    the largest and smallest finite numbers of x's dtype), each part of complex x on its
    own, as np.nan_to_num  ·  ∂/∂x = 1 where x is finite, 0 elsewhere; each replacement
    gets the gradient of the elements it replaced"""
    if not copy:
        raise TypeError("nan_to_num: copy=False (replacing in place) is not supported on "
                        "Values: the result is always a new Value; drop copy= and use the "
                        "result")
    x = value_or_array(x)
    for operand in (x, nan, posinf, neginf):
        check_shape(raw(operand), "nan_to_num")  # (Dask data of unknown chunk sizes: refused)
    dtype = np.result_type(raw(x))
    if dtype.kind not in "fc":  # (integers and booleans have none to replace, as numpy)
        return np.array(x, copy=True)
    part = np.finfo(dtype).dtype  # the real dtype of each part
    shape = np.shape(raw(x))
    finite = np.finfo(part)
    nan = _replacement("nan", nan, 0.0, part, shape)
    posinf = _replacement("posinf", posinf, finite.max, part, shape)
    neginf = _replacement("neginf", neginf, finite.min, part, shape)
    if dtype.kind == "c":
        return (_replaced(real(x), nan, posinf, neginf)
                + _replaced(imag(x), nan, posinf, neginf) * 1j)
    return _replaced(x, nan, posinf, neginf)


# --------------------------------------------------------------------------- constants

constant(
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.isfinite, np.isnan, np.isinf, np.signbit,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.floor_divide,  # integer-valued; PyTorch's floor_divide has no gradient either
    np.spacing,  # the distance to the next float: a property of the representation
)
