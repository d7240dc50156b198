"""Value's operators and methods, attached above the op table: each names the primitive it
calls (`x + y` is `ops.add(x, y)`), so the node type itself knows no operation.

Also here, because they need the engine's per-thread state:

* In-place operators `+= -= *= /=`. Under `no_grad()` they change the data in place (a new
  version: graphs that read the old data refuse backward). On a leaf that requires grad,
  outside `no_grad()`, they raise, as PyTorch does. On a Value that does not require grad
  they work in place as well. On an operation's result, outside `no_grad()`, they compute
  a new Value (`y += 1` is `y = y + 1`, as for JAX arrays) and the old one is unchanged.
* Conversions to Python numbers (`float`, `int`, `bool`, `math.*`): inside a transform
  (grad, vjp, ...) a traced Value would silently leave the graph, so they raise; outside
  transforms `float(loss)` works for printing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from . import ops
from .engine import _state, backward
from .value import FROZEN_BY_ENGINE, Value, mark_written, raw, thaw

__all__: list[str] = []


def _index(index: Any) -> Any:
    """Check an index: Values (which hold floats) cannot index; use numpy arrays."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, Value):
            raise TypeError(
                "getitem: index with ints, slices, None, ..., integer or boolean numpy arrays; "
                f"got a Value of shape {part.shape} (Values hold floats: pass .data.astype(int) "
                "or a comparison such as v > 0, which gives a boolean array)"
            )
    return index


# --------------------------------------------------------------------------- conversions


def _refuse_traced(value: Value, conversion: str) -> None:
    if _state.depth and _state.recording and value.requires_grad:
        raise TypeError(
            f"{conversion}() of a traced Value inside a transform (grad, vjp, jvp, jacobian, "
            f"...): the result would be a constant, so its derivative would silently be 0. "
            f"Use autodiff operations instead (for math.sin(x), use autodiff.sin(x) or "
            f"x.sin()); call .item() only where a constant is meant."
        )


def _float(self: Value) -> float:
    _refuse_traced(self, "float")
    return self.item()


def _int(self: Value) -> int:
    _refuse_traced(self, "int")
    return int(self.item())


def _bool(self: Value) -> bool:
    _refuse_traced(self, "bool")
    return bool(self._data)


def _iter(self: Value) -> Iterator[Value]:
    for index in range(len(self)):
        yield ops.getitem(self, index)


# --------------------------------------------------------------------------- in-place


def _in_place(name: str, function: Any, primitive: Any) -> Any:
    def operator(self: Value, other: Any) -> Value:
        if _state.recording and self.requires_grad:
            if self._op is not None:
                return primitive(self, other)  # a new Value, as `y = y op other`
            raise RuntimeError(
                f"x {name}= ... on a leaf Value that requires grad (shape {self.shape}"
                f"{', name ' + repr(self.name) if self.name else ''}) outside no_grad(): the "
                f"change would not be recorded. Write it under `with autodiff.no_grad():` (as "
                f"an optimiser step does), or `x = x {name} ...` to make a new Value."
            )
        update_in_place(self, function, raw(other), name)
        return self

    operator.__name__ = f"__i{function.__name__}__"
    return operator


def update_in_place(value: Value, function: Any, other: Any, name: str) -> None:
    """value.data ← function(value.data, other), in place when the array allows it, with a
    new version. Float scalars are replaced; read-only arrays the engine did not freeze
    (broadcast views, the caller's read-only arrays) are replaced by a new array."""
    data = value._data
    if type(data) is float:
        result = function(np.float64(data), other)
        if np.shape(result) != ():
            raise ValueError(f"x {name}= y: y of shape {np.shape(other)} does not fit x of "
                             f"shape ()")
        value._data = float(result)
    else:
        shape = getattr(other, "shape", None)
        if shape is None:
            shape = np.shape(other)
        if shape != data.shape and shape != () and not _fits(shape, data.shape):
            raise ValueError(f"x {name}= y: y of shape {np.shape(other)} does not fit x of "
                             f"shape {data.shape}")
        if value._frozen == FROZEN_BY_ENGINE:
            thaw(value)
        try:
            function(data, other, out=data)
        except ValueError:  # read-only: a new array instead
            if data.flags.writeable:
                raise
            value._data = function(data, other).astype(data.dtype, copy=False)
    mark_written(value)


def _fits(shape: tuple, target: tuple) -> bool:
    """True if an operand of `shape` broadcasts to exactly `target`."""
    try:
        return np.broadcast_shapes(target, shape) == target
    except ValueError:
        return False


# --------------------------------------------------------------------------- attach


def _binary(primitive: Any, reflected: bool = False) -> Any:
    if reflected:
        return lambda self, other: primitive(other, self)
    return lambda self, other: primitive(self, other)


def _reduction(primitive: Any) -> Any:
    def method(self: Value, axis: Any = None, keepdims: bool = False) -> Value:
        return primitive(self, axis=axis, keepdims=keepdims)

    method.__doc__ = primitive.__doc__
    return method


def _reshape(self: Value, *shape: Any) -> Value:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return ops.reshape(self, shape)


def _transpose(self: Value, *axes: Any) -> Value:
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return ops.transpose(self, axes or None)


def _backward(self: Value, grad: Any = None, create_graph: bool = False, *,
              intermediate_grads: bool = True) -> None:
    backward(self, grad, create_graph, intermediate_grads=intermediate_grads)


_backward.__doc__ = backward.__doc__

_METHODS: dict[str, Any] = {
    "__add__": _binary(ops.add), "__radd__": _binary(ops.add, True),
    "__sub__": _binary(ops.subtract), "__rsub__": _binary(ops.subtract, True),
    "__mul__": _binary(ops.multiply), "__rmul__": _binary(ops.multiply, True),
    "__truediv__": _binary(ops.divide), "__rtruediv__": _binary(ops.divide, True),
    "__pow__": _binary(ops.power), "__rpow__": _binary(ops.power, True),
    "__matmul__": _binary(ops.matmul), "__rmatmul__": _binary(ops.matmul, True),
    "__iadd__": _in_place("+", np.add, ops.add),
    "__isub__": _in_place("-", np.subtract, ops.subtract),
    "__imul__": _in_place("*", np.multiply, ops.multiply),
    "__itruediv__": _in_place("/", np.true_divide, ops.divide),
    "__neg__": lambda self: ops.negative(self),
    "__pos__": lambda self: self,
    "__getitem__": lambda self, index: ops.getitem(self, _index(index)),
    "__iter__": _iter,
    "__float__": _float, "__int__": _int, "__bool__": _bool,
    # Comparisons look at the data, return plain numpy booleans and record nothing.
    "__lt__": lambda self, other: np.less(self._data, raw(other)),
    "__le__": lambda self, other: np.less_equal(self._data, raw(other)),
    "__gt__": lambda self, other: np.greater(self._data, raw(other)),
    "__ge__": lambda self, other: np.greater_equal(self._data, raw(other)),
    "relu": lambda self: ops.relu(self),
    "tanh": lambda self: ops.tanh(self),
    "sigmoid": lambda self: ops.sigmoid(self),
    "exp": lambda self: ops.exp(self),
    "log": lambda self: ops.log(self),
    "sqrt": lambda self: ops.sqrt(self),
    "abs": lambda self: ops.absolute(self),
    "sin": lambda self: ops.sin(self),
    "cos": lambda self: ops.cos(self),
    "sum": _reduction(ops.sum),
    "mean": _reduction(ops.mean),
    "max": _reduction(ops.max),
    "min": _reduction(ops.min),
    "logsumexp": _reduction(ops.logsumexp),
    "softmax": lambda self, axis=-1: ops.softmax(self, axis=axis),
    "log_softmax": lambda self, axis=-1: ops.log_softmax(self, axis=axis),
    "clip": lambda self, lo=None, hi=None: ops.clip(self, lo, hi),
    "reshape": _reshape,
    "transpose": _transpose,
    "swapaxes": lambda self, axis1, axis2: ops.swapaxes(self, axis1, axis2),
    "astype": lambda self, dtype: ops.astype(self, dtype),
    "T": property(lambda self: ops.transpose(self)),
    "backward": _backward,
}

for _name, _method in _METHODS.items():
    setattr(Value, _name, _method)
