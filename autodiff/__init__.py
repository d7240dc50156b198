"""autodiff: reverse-mode automatic differentiation for Python scalars and numpy arrays.

    >>> from autodiff import Value
    >>> a, b = Value(-4.0), Value(2.0)
    >>> d = a * b + b ** 3
    >>> d.backward()
    >>> a.grad, b.grad
    (2.0, 8.0)

Layout: `value` (the Value type), `engine` (primitives and reverse accumulation), `ops`
(the table of built-in operations, each forward beside its vector-Jacobian products),
`functional` (grad, vjp, jvp, jacobian, hessian), `viz` and `explain` (pictures and
chain-rule reports), `testing` (gradient checking and hypothesis strategies).
"""

from .value import Value  # noqa: I001  (first: the op table is built on Value)
from .engine import Primitive, backprop, is_grad_enabled, no_grad, primitive
from .explain import explain
from .functional import grad, hessian, jacobian, jvp, value_and_grad, vjp
from .ops import (
                  absolute,
                  clip,
                  concatenate,
                  cos,
                  exp,
                  log,
                  log_softmax,
                  logsumexp,
                  matmul,
                  maximum,
                  mean,
                  minimum,
                  relu,
                  sigmoid,
                  sin,
                  softmax,
                  sqrt,
                  stack,
                  tanh,
                  where,
)
from .viz import draw

__version__ = "0.1.0"

__all__ = [
    "Primitive", "Value", "absolute", "backprop", "clip", "concatenate", "cos", "draw", "exp",
    "explain", "grad", "hessian", "is_grad_enabled", "jacobian", "jvp", "log", "log_softmax",
    "logsumexp", "matmul", "maximum", "mean", "minimum", "no_grad", "primitive", "relu",
    "sigmoid", "sin", "softmax", "sqrt", "stack", "tanh", "value_and_grad", "vjp", "where",
]
