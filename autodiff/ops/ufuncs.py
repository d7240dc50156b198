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

import math
from typing import Any

import numpy as np

from ..engine import Primitive, astype, primitive
from ..value import Value, raw
from .arithmetic import divide, where
from .elementwise import exp, power, sqrt
from .table import ALL_DTYPES, binary, constant, declare, unary

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cbrt", "ceil",
    "copysign", "cosh", "deg2rad", "divmod_", "exp2", "expm1", "fabs", "float_power", "floor",
    "fmax", "fmin", "fmod", "hypot", "log1p", "log2", "log10", "logaddexp", "logaddexp2",
    "positive", "rad2deg", "reciprocal", "remainder", "rint", "round_", "sign", "sinh", "square",
    "tan", "trunc",
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


# --------------------------------------------------------------------------- constants

constant(
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.isfinite, np.isnan, np.isinf, np.signbit,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
    np.floor_divide,  # integer-valued; PyTorch's floor_divide has no gradient either
    np.spacing,  # the distance to the next float: a property of the representation
)
