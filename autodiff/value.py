"""`Value`: one type for Python scalars and numpy arrays, with its gradient and its origin.

A Value holds `data` (a Python float for a float64 scalar, a numpy array otherwise) and,
after a backward pass reaches it, `grad` of the same shape and dtype. A Value made by an
operation also remembers which primitive made it (`_op`), from which inputs (`_args`: the
Values and constants it was called with) and with which keyword parameters (`_params`).
The operators and methods here only name the primitive they call; each primitive's
forward computation and derivative live together in `autodiff.ops`.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Value", "as_data"]

_node_ids = itertools.count()  # creation order; a node's id is larger than its inputs'
next_node_id = _node_ids.__next__


# --------------------------------------------------------------------------- data


def as_data(data: Any) -> float | np.ndarray:
    """Normalise user data: numbers and lists → float64, floating arrays keep their dtype.

    A float64 scalar is stored as a Python float (fast scalar arithmetic); every other
    value is a numpy array. Integer and bool arrays become float64; str, object and
    complex data raise TypeError.
    """
    if type(data) is float:
        return data
    if isinstance(data, Value):
        return data.data
    if isinstance(data, numbers.Real) and not isinstance(data, np.generic):
        return float(data)
    if isinstance(data, (complex, np.complexfloating)):
        raise TypeError(f"Value data must be real; got complex {data!r}")
    if isinstance(data, (str, bytes)):
        raise TypeError(f"Value data must be a number, list or numpy array; got str {data!r}")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged lists and the like
        raise TypeError(f"Value data must be a number, list or numpy array: {error}") from None
    kind = array.dtype.kind
    if kind == "f":
        if not isinstance(data, (np.ndarray, np.generic)):
            array = array.astype(np.float64)
    elif kind in "iub":
        array = array.astype(np.float64)
    else:
        raise TypeError(
            f"Value data must be real numbers; got {type(data).__name__} of dtype {array.dtype}"
        )
    if array.ndim == 0 and array.dtype == np.float64:
        return float(array)
    return array


def _shape_of(x: Any) -> tuple[int, ...]:
    return np.shape(_data(x))


# --------------------------------------------------------------------------- Value


class Value:
    """A node of a computation graph: numpy data, its gradient, and how it was made.

    `Value(data, requires_grad=True, name=None)`. Numbers and lists become float64;
    floating arrays keep their dtype; integer and bool arrays become float64.
    """

    __slots__ = ("__weakref__", "_args", "_id", "_op", "_params", "data", "grad", "name",
                 "requires_grad")

    # numpy defers to Value for `array + v`, `array @ v`, ... (reflected operators).
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        self.data = as_data(data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = None
        self._args = ()
        self._params = None
        self._id = next_node_id()

    # -- attributes -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        data = self.data
        return () if type(data) is float else data.shape

    @property
    def ndim(self) -> int:
        data = self.data
        return 0 if type(data) is float else data.ndim

    @property
    def size(self) -> int:
        data = self.data
        return 1 if type(data) is float else data.size

    @property
    def dtype(self) -> np.dtype:
        data = self.data
        return np.dtype(np.float64) if type(data) is float else data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for Values made by the user rather than by an operation."""
        return self._op is None

    @property
    def op(self) -> str | None:
        """Name of the primitive that produced this Value (None for a leaf)."""
        return None if self._op is None else self._op.name

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The Values this one was computed from (constants left out)."""
        return tuple(a for a in self._args if isinstance(a, Value))

    @property
    def _raw(self) -> tuple:
        """The raw data of this node's inputs, constants included (what VJP rules receive)."""
        return tuple(_data(a) for a in self._args)

    def item(self) -> float:
        """The single element as a Python float."""
        if self.size != 1:
            raise ValueError(f"item() needs a one-element Value; this one has shape {self.shape}")
        data = self.data
        return data if type(data) is float else float(data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shares memory with the Value for arrays)."""
        return np.asarray(self.data)

    def detach(self) -> Value:
        """A constant Value sharing this one's data; nothing flows back through it."""
        return Value(self.data, requires_grad=False, name=self.name)

    def zero_grad(self) -> None:
        """Forget the gradient (sets `grad` to None)."""
        self.grad = None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Value]:
        for index in range(len(self)):
            yield self[index]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return self.item()

    def __repr__(self) -> str:
        parts = []
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        data = self.data
        if type(data) is float or data.size <= 8:
            parts.insert(0, _short(data))
            if self.grad is not None:
                parts.append(f"grad={_short(self.grad)}")
        else:
            parts.insert(0, f"shape={data.shape}")
            parts.append(f"dtype={data.dtype}")
            if self.grad is not None:
                parts.append("grad=…")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # -- backward -------------------------------------------------------------------
    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (the chain rule, in reverse).

        A one-element output is seeded with 1; a larger one needs `grad`, its cotangent.
        Leaves accumulate across calls; intermediates hold this pass's gradient. With
        `create_graph=True` the gradients are Values that can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a Value that does not require grad (a constant, a detached "
                "Value, or one computed under no_grad())"
            )
        for node, g in backprop(self, grad, create_graph=create_graph).items():
            if type(g) is np.ndarray:
                if not g.ndim:
                    g = g[()]  # 0-d: a numpy scalar of the data's dtype
                elif g.base is not None and node._op is None and not g.flags.writeable:
                    g = g.copy()  # a broadcast view: give the leaf an array it owns
            if node._op is None and node.grad is not None:
                g = node.grad + g  # leaves accumulate
            node.grad = g

    # -- operators (each delegates to one primitive in autodiff.ops) -------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        return _ops.getitem(self, _index_data(index))

    # Comparisons look at the data, return plain numpy booleans and record nothing.
    # `==` and hashing stay identity-based so Values can sit in sets and dicts.
    def __lt__(self, other):
        return np.less(self.data, _data(other))

    def __le__(self, other):
        return np.less_equal(self.data, _data(other))

    def __gt__(self, other):
        return np.greater(self.data, _data(other))

    def __ge__(self, other):
        return np.greater_equal(self.data, _data(other))

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    # -- methods ------------------------------------------------------------------------
    def relu(self):
        return _ops.relu(self)

    def tanh(self):
        return _ops.tanh(self)

    def sigmoid(self):
        return _ops.sigmoid(self)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def abs(self):
        return _ops.absolute(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def sum(self, axis=None, keepdims=False):
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis=-1):
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis=-1):
        return _ops.log_softmax(self, axis=axis)

    def clip(self, lo=None, hi=None):
        return _ops.clip(self, lo, hi)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return _ops.swapaxes(self, axis1, axis2)

    def astype(self, dtype):
        return _ops.astype(self, dtype)

    @property
    def T(self):
        return _ops.transpose(self)


def _data(x: Any) -> Any:
    """The raw data of a Value; anything else unchanged."""
    return x.data if isinstance(x, Value) else x


def _index_data(index: Any) -> Any:
    """Check an index: Values (which hold floats) cannot index; use numpy arrays."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, Value):
            raise TypeError(
                "getitem: index with ints, slices, None, ..., integer or boolean numpy arrays; "
                f"got a Value of shape {part.shape} (Values hold floats: pass .data.astype(int) "
                "or a comparison such as v > 0, which gives a boolean array)"
            )
    return index


def _short(x: Any) -> str:
    if type(x) is float or isinstance(x, np.generic):
        return f"{float(x):.6g}"
    if isinstance(x, Value):
        return "Value(...)"
    return np.array2string(np.asarray(x), precision=4, separator=", ", threshold=8)


from . import ops as _ops  # noqa: E402  (the op table is built on Value)
from .engine import backprop  # noqa: E402
