"""Elementwise functions. A float64 scalar takes the `math` module's path (much faster than
numpy on one number); where `math` refuses (overflow, domain), numpy's answer is used, so
results match numpy's: inf, nan, −inf.

Conventions at kinks: relu'(0) = 0, abs'(0) = 0, and clip passes the gradient on the
closed interval [lo, hi].
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import any_
from ..engine import conj, primitive
from ..value import raw
from .arithmetic import divide, where
from .table import ALL_DTYPES, declare, unary

__all__ = ["absolute", "clip", "cos", "exp", "log", "power", "relu", "sigmoid", "sin", "sqrt",
           "tanh"]


def _on_float(math_function, numpy_function, x):
    """A float64 scalar through `math`, numpy's answer where `math` refuses. (The forwards
    test for a float themselves: an array costs no Python call besides numpy's.)"""
    try:
        return math_function(x)
    except (ValueError, OverflowError):
        pass
    with np.errstate(all="ignore"):
        return float(numpy_function(x))


@declare("relu", method="relu", group="activations", cases=unary("nonzero"), domain="relu'(0) = 0",
         torch="torch.relu")
@primitive(name="relu")
def relu(x: Any) -> Any:
    """max(x, 0)  ·  d/dx = 1 if x > 0 else 0 (0 at the kink)"""
    if type(x) is float:
        return 0.0 if x <= 0.0 else x
    return np.maximum(x, 0.0)


relu.defvjp(lambda g, out, x: g * (raw(x) > 0.0))


@declare("tanh", numpy=np.tanh, method="tanh", group="hyperbolic", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.tanh")
@primitive(name="tanh")
def tanh(x: Any) -> Any:
    """tanh x  ·  d/dx = 1 − tanh² x"""
    return math.tanh(x) if type(x) is float else np.tanh(x)


tanh.defvjp(lambda g, out, x: g * (1 - out * out))


def _sigmoid_array(x):
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@declare("sigmoid", method="sigmoid", group="activations", cases=unary(), torch="torch.sigmoid")
@primitive(name="sigmoid")
def sigmoid(x: Any) -> Any:
    """σ(x) = 1 / (1 + e^−x)  ·  d/dx = σ(x)(1 − σ(x))  (stable for large |x|)"""
    if type(x) is float:
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    return _sigmoid_array(x)


sigmoid.defvjp(lambda g, out, x: g * out * (1 - out))


@declare("exp", numpy=np.exp, method="exp", group="exponential", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.exp")
@primitive(name="exp")
def exp(x: Any) -> Any:
    """e^x  ·  d/dx = e^x"""
    return np.exp(x) if type(x) is not float else _on_float(math.exp, np.exp, x)


exp.defvjp(lambda g, out, x: g * out)


@declare("log", numpy=np.log, method="log", group="exponential", cases=unary("positive"),
         dtypes=ALL_DTYPES, domain="x > 0 (complex: off the branch cut x ≤ 0)", torch="torch.log")
@primitive(name="log")
def log(x: Any) -> Any:
    """ln x  ·  d/dx = 1/x"""
    return np.log(x) if type(x) is not float else _on_float(math.log, np.log, x)


log.defvjp(lambda g, out, x: divide(g, x))


def _power_cases(gen):
    a, b = gen.shapes(2)
    return (gen.array(a, "positive"), gen.array(b, "any")), {}


@declare("power", numpy=np.power, group="powers", cases=_power_cases, dtypes=ALL_DTYPES,
         domain="x > 0 for a real exponent; any x for an integer constant exponent",
         torch="torch.pow")
@primitive(name="power")
def power(x: Any, y: Any) -> Any:
    """x ** y  ·  ∂/∂x = y·x^(y−1), ∂/∂y = x^y·log x  (a negative base with a fractional
    exponent gives nan, as in numpy)"""
    if type(x) is float and type(y) in (float, int):
        try:
            result = x ** y
            if type(result) is float:
                return result
        except (OverflowError, ZeroDivisionError):
            pass
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(x), y))
    return np.power(x, y)


def _power_vjp_base(g, out, x, y):
    """g·y·x^(y−1), taken as 0 where y = 0 and x^(y−1) is not finite (x = 0, a subnormal
    x, nan): x ** 0 = 1 for every x, so ∂/∂x = 0 there, where the formula reads 0·∞."""
    zero_exponent = np.equal(raw(y), 0)
    if any_(zero_exponent):
        with np.errstate(all="ignore"):
            blows = zero_exponent & ~np.isfinite(np.power(raw(x), raw(y) - 1))
        if any_(blows):
            # Elsewhere it stays a function of x and y (for order 2); at those points both
            # are held at 1, so higher orders see a constant 0 too.
            return g * where(blows, 0.0,
                             y * power(where(blows, 1.0, x), where(blows, 1.0, y - 1)))
    return g * y * power(x, y - 1)


power.defvjp(_power_vjp_base,
             # log x at x = 0 is replaced by 0 so that 0 ** y has a finite y-derivative
             lambda g, out, x, y: g * out * log(where(raw(x) == 0, 1.0, x)))


@declare("sqrt", numpy=np.sqrt, method="sqrt", group="powers", cases=unary("positive"),
         dtypes=ALL_DTYPES, domain="x > 0 (complex: off the branch cut x ≤ 0)", torch="torch.sqrt")
@primitive(name="sqrt")
def sqrt(x: Any) -> Any:
    """√x  ·  d/dx = 1 / (2√x)"""
    return np.sqrt(x) if type(x) is not float else _on_float(math.sqrt, np.sqrt, x)


sqrt.defvjp(lambda g, out, x: divide(g, 2 * out))


@declare("abs", numpy=(np.absolute,), method="abs", group="complex", cases=unary("nonzero"),
         dtypes=ALL_DTYPES, domain="abs'(0) = 0; complex: z̄/|z|", torch="torch.abs")
@primitive(name="abs")
def absolute(x: Any) -> Any:
    """|x|  ·  d/dx = sign x (0 at the kink); for complex z the cotangent is g·z̄/|z|"""
    return abs(x) if type(x) is float else np.abs(x)


def _abs_vjp(g, out, x):
    data = raw(x)
    if not np.iscomplexobj(data):
        return g * np.sign(data)
    return g * divide(conj(x), where(raw(out) == 0, 1.0, out))  # z̄/|z|, 0 at z = 0


absolute.defvjp(_abs_vjp)


@declare("sin", numpy=np.sin, method="sin", group="trigonometric", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.sin")
@primitive(name="sin")
def sin(x: Any) -> Any:
    """sin x  ·  d/dx = cos x"""
    return np.sin(x) if type(x) is not float else _on_float(math.sin, np.sin, x)


sin.defvjp(lambda g, out, x: g * cos(x))


@declare("cos", numpy=np.cos, method="cos", group="trigonometric", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.cos")
@primitive(name="cos")
def cos(x: Any) -> Any:
    """cos x  ·  d/dx = −sin x"""
    return np.cos(x) if type(x) is not float else _on_float(math.cos, np.cos, x)


cos.defvjp(lambda g, out, x: -g * sin(x))


def _inside(x, lo, hi):
    x = raw(x)
    mask = np.ones_like(x, dtype=bool)  # in x's own kind of array
    if lo is not None:
        mask = mask & (x >= raw(lo))
    if hi is not None:
        mask = mask & (x <= raw(hi))
    return mask


@primitive(name="clip")
def _clip(x, lo=None, hi=None):
    """min(max(x, lo), hi)  ·  d/dx = 1 on [lo, hi], 0 outside; d/dlo = 1 below lo,
    d/dhi = 1 above hi"""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    return np.clip(x, lo, hi)


_clip.defvjp(lambda g, out, x, lo=None, hi=None: g * _inside(x, lo, hi),
            lambda g, out, x, lo=None, hi=None: g * np.less(raw(x), raw(lo)),
            lambda g, out, x, lo=None, hi=None: g * np.greater(raw(x), raw(hi)))


def _clip_cases(gen):
    x = gen.array(gen.shape(), "smooth")
    return (x, -1.0, 0.5), {}  # bounds on the half-integers "smooth" keeps away from


@declare("clip", numpy=np.clip, group="selection", cases=_clip_cases,
         domain="d/dx = 1 on [lo, hi]; lo and hi may be Values", torch="torch.clamp")
def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,
         max: Any = None,
         **kwargs: Any) -> Any:
    """min(max(a, lo), hi), as np.clip (a_min/a_max or min/max)"""
    _refuse_out("clip", out)
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    return _clip(a, lo, hi)


def _refuse_out(name, out):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Values (results are new Values)")
