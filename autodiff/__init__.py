"""autodiff: reverse-mode automatic differentiation for Python scalars and numpy arrays.

    >>> from autodiff import Value
    >>> a, b = Value(-4.0), Value(2.0)
    >>> d = a * b + b ** 3
    >>> d.backward()
    >>> a.grad, b.grad
    (2.0, 8.0)

Layers, each importing only those before it: `value` (the node type), `engine` (primitives,
reverse accumulation, per-thread state), `ops` (the table of built-in operations, each
forward beside its vector-Jacobian products), `methods` (Value's operators and methods,
attached from the op table), then what is built on them: `functional` (grad, vjp, jvp,
jacobian, hessian), `explain` and `viz` (chain-rule reports and pictures), `display` (how a
Value shows in a notebook), `extend` (for writing primitives), `testing` (gradient checking
and hypothesis strategies).
"""

from . import methods as _methods  # noqa: F401  (gives Value its operators)
from .display import value_html as _value_html
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
from .scalar import backward
from .value import Value
from .viz import draw
from .walkthrough import Walkthrough, walkthrough

Value._repr_html_ = _value_html  # how a Value shows in a notebook (autodiff/display.py)

__version__ = "0.1.0"

__all__ = [
    "Primitive",
    "Value",
    "Walkthrough",
    "absolute",
    "backprop",
    "backward",
    "clip",
    "concatenate",
    "cos",
    "draw",
    "exp",
    "explain",
    "grad",
    "hessian",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "no_grad",
    "primitive",
    "relu",
    "sigmoid",
    "sin",
    "softmax",
    "sqrt",
    "stack",
    "tanh",
    "value_and_grad",
    "vjp",
    "walkthrough",
    "where",
]
