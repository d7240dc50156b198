"""The table of built-in operations: each defined once, forward beside its VJP rules,
with the same `primitive`/`defvjp` mechanism a user has for custom operations.

Modules build on each other in one direction: arithmetic → elementwise → reductions;
shape and linalg need only the engine.
"""

from ..engine import astype, conj, sum_to

# numpy's functions, by group; each module declares its operations in the op table.
from . import (  # noqa: F401
    arrays,
    complex,
    contractions,
    fft,
    linear_algebra,
    polynomials,
    signal,
    statistics,
    table,
    ufuncs,
)
from .arithmetic import add, divide, maximum, minimum, multiply, negative, subtract, where
from .elementwise import (
    absolute,
    clip,
    cos,
    exp,
    log,
    power,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
)
from .linalg import matmul
from .reductions import log_softmax, logsumexp, mean, softmax
from .reductions import max_ as max
from .reductions import min_ as min
from .reductions import sum_ as sum
from .shape import (
    broadcast_to,
    concatenate,
    getitem,
    reshape,
    scatter_add,
    stack,
    swapaxes,
    transpose,
)

__all__ = [
    "absolute",
    "add",
    "astype",
    "broadcast_to",
    "clip",
    "concatenate",
    "conj",
    "cos",
    "divide",
    "exp",
    "getitem",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "negative",
    "power",
    "relu",
    "reshape",
    "scatter_add",
    "sigmoid",
    "sin",
    "softmax",
    "sqrt",
    "stack",
    "subtract",
    "sum",
    "sum_to",
    "swapaxes",
    "table",
    "tanh",
    "transpose",
    "where",
]
