"""Arithmetic with numpy broadcasting: each forward beside its vector-Jacobian products.

Rules divide with `divide` rather than `/`, so that Python-float scalars follow numpy's
rules at zero (±inf, nan) instead of raising ZeroDivisionError.

Rules receive the output cotangent `g`, the forward result `out` and the inputs; a rule
may return a cotangent of the broadcast shape (the engine sums it back to the input's).
Masks that do not depend smoothly on the inputs are computed from their raw data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import primitive
from ..value import raw
from .table import ALL_DTYPES, binary, declare, unary

__all__ = ["add", "divide", "maximum", "minimum", "multiply", "negative", "subtract", "where"]


def _apart(gen):
    """x and y of broadcastable shapes, |x − y| ≥ 0.5 everywhere (no ties)."""
    a, b = gen.shapes(2)
    x = gen.array(a)
    return (x, x + gen.array(b, "nonzero")), {}


@declare("add", numpy=np.add, group="arithmetic", cases=binary(), dtypes=ALL_DTYPES,
         torch="torch.add")
@primitive(name="add")
def add(x: Any, y: Any) -> Any:
    """x + y  ·  ∂/∂x = 1, ∂/∂y = 1"""
    return x + y


add.defvjp(lambda g, out, x, y: g,
           lambda g, out, x, y: g)


@declare("subtract", numpy=np.subtract, group="arithmetic", cases=binary(), dtypes=ALL_DTYPES,
         torch="torch.sub")
@primitive(name="subtract")
def subtract(x: Any, y: Any) -> Any:
    """x − y  ·  ∂/∂x = 1, ∂/∂y = −1"""
    return x - y


subtract.defvjp(lambda g, out, x, y: g,
                lambda g, out, x, y: -g)


@declare("multiply", numpy=np.multiply, group="arithmetic", cases=binary(), dtypes=ALL_DTYPES,
         torch="torch.mul")
@primitive(name="multiply")
def multiply(x: Any, y: Any) -> Any:
    """x · y  ·  ∂/∂x = y, ∂/∂y = x"""
    return x * y


multiply.defvjp(lambda g, out, x, y: g * y,
                lambda g, out, x, y: g * x)


@declare("divide", numpy=np.divide, group="arithmetic", cases=binary("any", "nonzero"),
         domain="y ≠ 0", dtypes=ALL_DTYPES, torch="torch.div")
@primitive(name="divide")
def divide(x: Any, y: Any) -> Any:
    """x / y  ·  ∂/∂x = 1/y, ∂/∂y = −x/y²  (division by zero gives ±inf or nan, as in numpy)"""
    try:
        return x / y
    except ZeroDivisionError:  # Python numbers; numpy semantics instead (a float stays one)
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = np.divide(np.complex128(x) if type(x) is complex else np.float64(x), y)
        return float(quotient) if type(quotient) is np.float64 else quotient


divide.defvjp(lambda g, out, x, y: divide(g, y),
              lambda g, out, x, y: divide(-g * out, y))


@declare("negative", numpy=np.negative, group="arithmetic", cases=unary(), dtypes=ALL_DTYPES,
         torch="torch.neg")
@primitive(name="negative")
def negative(x: Any) -> Any:
    """−x  ·  d/dx = −1"""
    return -x


negative.defvjp(lambda g, out, x: -g)


def _share_max(x, y):
    """1 where x wins, ½ on ties: the gradient of max(x, y) with respect to x."""
    x, y = raw(x), raw(y)
    return (np.greater(x, y) + 0.5 * np.equal(x, y))


@declare("maximum", numpy=np.maximum, group="arithmetic", cases=_apart,
         domain="ties split the gradient evenly", torch="torch.maximum")
@primitive(name="maximum")
def maximum(x: Any, y: Any) -> Any:
    """max(x, y) elementwise  ·  the gradient goes to the larger input, split evenly on ties"""
    return np.maximum(x, y)


maximum.defvjp(lambda g, out, x, y: g * _share_max(x, y),
               lambda g, out, x, y: g * _share_max(y, x))


@declare("minimum", numpy=np.minimum, group="arithmetic", cases=_apart,
         domain="ties split the gradient evenly", torch="torch.minimum")
@primitive(name="minimum")
def minimum(x: Any, y: Any) -> Any:
    """min(x, y) elementwise  ·  the gradient goes to the smaller input, split evenly on ties"""
    return np.minimum(x, y)


minimum.defvjp(lambda g, out, x, y: g * _share_max(y, x),
               lambda g, out, x, y: g * _share_max(x, y))


@primitive(name="where")
def _where(condition, x, y):
    """x where condition holds, else y  ·  the gradient follows the branch taken"""
    return np.where(raw(condition), x, y)


_where.defvjp(None,
              lambda g, out, c, x, y: _where(raw(c), g, 0),
              lambda g, out, c, x, y: _where(raw(c), 0, g))


def _where_cases(gen):
    a, b, c = gen.shapes(3)
    return (gen.array(c, "any") > 0, gen.array(a), gen.array(b)), {}


@declare("where", numpy=np.where, group="selection", cases=_where_cases, dtypes=ALL_DTYPES,
         torch="torch.where", domain="condition is a constant mask")
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """x where condition holds, else y (the gradient follows the branch taken); with the
    condition alone, the indices where it holds (a constant, as np.where)."""
    if x is None and y is None:
        return np.nonzero(raw(condition))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    return _where(condition, x, y)
