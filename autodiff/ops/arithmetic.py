"""Arithmetic with numpy broadcasting: each forward beside its vector-Jacobian products.

Rules divide with `divide` rather than `/`, so that Python-float scalars follow numpy's
rules at zero (±inf, nan) instead of raising ZeroDivisionError.

Rules receive the output cotangent `g`, the forward result `out` and the inputs; a rule
may return a cotangent of the broadcast shape (the engine sums it back to the input's).
Masks that do not depend smoothly on the inputs are computed from their raw data.
"""

from __future__ import annotations

import numpy as np

from ..engine import primitive
from ..value import raw

__all__ = ["add", "divide", "maximum", "minimum", "multiply", "negative", "subtract", "where"]


@primitive(name="add")
def add(x, y):
    """x + y  ·  ∂/∂x = 1, ∂/∂y = 1"""
    return x + y


add.defvjp(lambda g, out, x, y: g,
           lambda g, out, x, y: g)


@primitive(name="subtract")
def subtract(x, y):
    """x − y  ·  ∂/∂x = 1, ∂/∂y = −1"""
    return x - y


subtract.defvjp(lambda g, out, x, y: g,
                lambda g, out, x, y: -g)


@primitive(name="multiply")
def multiply(x, y):
    """x · y  ·  ∂/∂x = y, ∂/∂y = x"""
    return x * y


multiply.defvjp(lambda g, out, x, y: g * y,
                lambda g, out, x, y: g * x)


@primitive(name="divide")
def divide(x, y):
    """x / y  ·  ∂/∂x = 1/y, ∂/∂y = −x/y²  (division by zero gives ±inf or nan, as in numpy)"""
    try:
        return x / y
    except ZeroDivisionError:  # Python floats; numpy semantics instead
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(np.float64(x), y)


divide.defvjp(lambda g, out, x, y: divide(g, y),
              lambda g, out, x, y: divide(-g * out, y))


@primitive(name="negative")
def negative(x):
    """−x  ·  d/dx = −1"""
    return -x


negative.defvjp(lambda g, out, x: -g)


def _share_max(x, y):
    """1 where x wins, ½ on ties: the gradient of max(x, y) with respect to x."""
    x, y = raw(x), raw(y)
    return (np.greater(x, y) + 0.5 * np.equal(x, y))


@primitive(name="maximum")
def maximum(x, y):
    """max(x, y) elementwise  ·  the gradient goes to the larger input, split evenly on ties"""
    return np.maximum(x, y)


maximum.defvjp(lambda g, out, x, y: g * _share_max(x, y),
               lambda g, out, x, y: g * _share_max(y, x))


@primitive(name="minimum")
def minimum(x, y):
    """min(x, y) elementwise  ·  the gradient goes to the smaller input, split evenly on ties"""
    return np.minimum(x, y)


minimum.defvjp(lambda g, out, x, y: g * _share_max(y, x),
               lambda g, out, x, y: g * _share_max(x, y))


@primitive(name="where")
def where(condition, x, y):
    """x where condition holds, else y  ·  the gradient follows the branch taken"""
    return np.where(raw(condition), x, y)


where.defvjp(None,
             lambda g, out, c, x, y: where(raw(c), g, 0),
             lambda g, out, c, x, y: where(raw(c), 0, g))
