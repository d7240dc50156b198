"""The engine core: the `Value` node, the `Primitive` that records it, and reverse accumulation.

Everything else in `autodiff` is built from the three ideas in this file:

* A `Value` holds `data` (a Python float for a float64 scalar, a numpy array otherwise)
  and, after a backward pass reaches it, `grad` of the same shape and dtype.
* A `Primitive` is a numpy function paired with one vector-Jacobian product (VJP) rule per
  argument. Calling it on Values computes the output and records the node: which
  primitive, which inputs, which keyword parameters. Nothing else is captured, so a node
  never refers to itself and graphs are freed by reference counting alone.
* `backprop` visits the nodes reachable from an output in reverse creation order (every
  node is created after its inputs, so that is a reverse topological order) and applies
  the chain rule: each node's cotangent is pushed through the VJP rule of each input.

The built-in operations in `autodiff.ops` use exactly the public `primitive`/`defvjp`
mechanism defined here.
"""

from __future__ import annotations

import itertools
import numbers
import operator
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["Primitive", "Value", "backprop", "is_grad_enabled", "no_grad", "primitive"]

_node_ids = itertools.count()  # creation order; a node's id is larger than its inputs'
_next_id = _node_ids.__next__
_new_value = object.__new__


# --------------------------------------------------------------------------- grad mode


class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()`."""
    return _grad_mode.enabled


class no_grad:
    """Context manager and decorator: operations inside record no graph (per thread)."""

    def __enter__(self) -> None:
        self._previous = _grad_mode.enabled
        _grad_mode.enabled = False

    def __exit__(self, *exc: object) -> None:
        _grad_mode.enabled = self._previous

    def __call__(self, function: Callable) -> Callable:
        import functools

        @functools.wraps(function)
        def without_grad(*args, **kwargs):
            with no_grad():
                return function(*args, **kwargs)

        return without_grad


class _enable_grad(no_grad):
    """Recording on, whatever the surrounding mode (used while building higher-order graphs)."""

    def __enter__(self) -> None:
        self._previous = _grad_mode.enabled
        _grad_mode.enabled = True


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


def _wrap_output(out: Any) -> float | np.ndarray:
    """Bring a primitive's forward result to the engine's storage convention."""
    kind = type(out)
    if kind is float:
        return out
    if kind is np.ndarray:
        if out.ndim == 0 and out.dtype == np.float64:
            return float(out)
        return out
    if kind is np.float64 or isinstance(out, (int, bool)):
        return float(out)
    return np.asarray(out)


def _shape_of(x: Any) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Value) else x)


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
        self._id = next(_node_ids)

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
        grads = backprop(self, grad, create_graph=create_graph)
        for node, g in grads.items():
            if type(g) is np.ndarray and g.ndim == 0:
                g = g[()]  # 0-d: a numpy scalar of the data's dtype
            if node._op is None:
                if node.grad is not None:
                    g = node.grad + g
                elif type(g) is np.ndarray and not g.flags.writeable:
                    g = g.copy()  # a broadcast view: give the user an array they own
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
    """An index with any Values in it (masks, integer arrays) replaced by their data."""
    if isinstance(index, tuple):
        return tuple(_data(i) for i in index)
    return _data(index)


def _short(x: Any) -> str:
    if type(x) is float or isinstance(x, np.generic):
        return f"{float(x):.6g}"
    if isinstance(x, Value):
        return "Value(...)"
    return np.array2string(np.asarray(x), precision=4, separator=", ", threshold=8)


# --------------------------------------------------------------------------- primitives


class Primitive:
    """A numpy function that Values can flow through, with one VJP rule per argument.

    A VJP rule is `rule(g, out, *args, **params) -> cotangent for that argument`: `g` is the
    cotangent of the output, `out` the forward result and `args` the forward inputs. During
    an ordinary backward pass they are plain numpy data; with `create_graph=True` they are
    Values, so a rule written with differentiable operations gives higher derivatives for
    free. A rule may return a cotangent of the broadcast output's shape: the engine sums it
    back to the argument's shape. Return None for "no gradient" (e.g. integer indices).
    Called with no Value among its arguments, a primitive is just its numpy function.
    """

    __slots__ = ("__dict__", "forward", "name", "vjp_argnum", "vjps")

    def __init__(self, forward: Callable, name: str | None = None) -> None:
        self.forward = forward
        self.name = name or forward.__name__
        self.__name__ = self.name
        self.__doc__ = forward.__doc__
        self.vjps: tuple | None = None
        self.vjp_argnum: Callable | None = None

    def defvjp(self, *rules: Callable | None) -> Primitive:
        """Attach VJP rules, one per positional argument (None: not differentiable)."""
        self.vjps = rules
        return self

    def defvjp_argnum(self, rule: Callable) -> Primitive:
        """Attach one rule `rule(argnum, g, out, *args, **params)` for variadic primitives."""
        self.vjp_argnum = rule
        return self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args: Any, **params: Any) -> Any:
        raw = []
        found_value = tracked = False
        for a in args:
            if isinstance(a, Value):
                raw.append(a.data)
                found_value = True
                tracked = tracked or a.requires_grad
            else:
                raw.append(a)
        try:
            out = self.forward(*raw, **params)
        except (ValueError, IndexError) as error:
            raise _shape_error(self.name, args, error) from None
        if not found_value:
            return out  # plain numpy in, plain numpy out
        kind = type(out)
        if kind is not float and (kind is not np.ndarray or out.ndim == 0):
            out = _wrap_output(out)
        node = _new_value(Value)
        node.data = out
        node.grad = node.name = None
        node._id = _next_id()
        if tracked and _grad_mode.enabled:
            node.requires_grad = True
            node._op = self
            node._args = args
            node._params = params or None
        else:
            node.requires_grad = False
            node._op = node._params = None
            node._args = ()
        return node

    def vjp(self, argnum: int, g: Any, out: Any, args: tuple, params: dict | None) -> Any:
        """Cotangent for argument `argnum`, by this primitive's rule."""
        params = params or {}
        rules = self.vjps
        if rules is not None:
            rule = rules[argnum] if argnum < len(rules) else None
            return None if rule is None else rule(g, out, *args, **params)
        if self.vjp_argnum is not None:
            return self.vjp_argnum(argnum, g, out, *args, **params)
        raise NotImplementedError(f"{self.name}: no VJP rule defined (use defvjp)")


def primitive(forward: Callable | None = None, *, name: str | None = None):
    """Make a numpy function differentiable: decorate it, then give its VJP rules.

        @primitive
        def cube(x):
            return x ** 3
        cube.defvjp(lambda g, out, x: g * 3 * x ** 2)
    """
    if forward is None:
        return lambda f: Primitive(f, name=name)
    return Primitive(forward, name=name)


def _shape_error(name: str, args: tuple, error: Exception) -> Exception:
    shapes = [_shape_of(a) for a in args if isinstance(a, (Value, np.ndarray, list))]
    described = " and ".join(str(s) for s in shapes) or "(no arrays)"
    message = f"{name}: incompatible input shapes {described}: {error}"
    if isinstance(error, IndexError) and not isinstance(error, ValueError):
        return IndexError(message)
    return ValueError(message)


# --------------------------------------------------------------------------- reverse mode


def _ones_like(data: Any) -> Any:
    return 1.0 if type(data) is float else np.ones_like(data)


def _seed(root: Value, grad: Any, create_graph: bool) -> Any:
    shape = root.shape
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward() without grad needs a one-element output; this one has shape "
                f"{shape}. Pass grad= of shape {shape} (or reduce it, e.g. with .sum())."
            )
        seed = _ones_like(root.data)
    else:
        seed = grad if isinstance(grad, Value) else as_data(grad)
        if isinstance(seed, Value):
            if not create_graph:
                seed = seed.data
        if _shape_of(seed) != shape:
            raise ValueError(
                f"backward(): grad has shape {_shape_of(seed)} but the output has shape {shape}"
            )
    if create_graph and not isinstance(seed, Value):
        seed = Value(seed, requires_grad=False)
    return _fit(seed, root.data)


def _fit(g: Any, data: Any) -> Any:
    """Sum a broadcast cotangent back to the shape of `data` and give it data's dtype."""
    if type(data) is float:  # float64 scalar
        if type(g) is float:
            return g
        if isinstance(g, Value):
            if g.ndim:
                g = g.sum()
            return g if g.dtype == np.float64 else g.astype(np.float64)
        return float(np.sum(g))
    shape = data.shape
    g_shape = np.shape(g.data) if isinstance(g, Value) else np.shape(g)
    if g_shape != shape:
        lead = len(g_shape) - len(shape)
        if lead >= 0:
            kept = tuple(
                lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1
            )
            if kept:
                g = g.sum(axis=tuple(range(lead)) + kept, keepdims=True)
                if lead:
                    g = g.reshape(shape)
            elif lead:
                g = g.sum(axis=tuple(range(lead)))
        if np.shape(_data(g)) != shape:
            g = _ops.broadcast_to(g, shape)
    if isinstance(g, Value):
        return g if g.dtype == data.dtype else g.astype(data.dtype)
    if type(g) is not np.ndarray:
        g = np.asarray(g, dtype=data.dtype)
    elif g.dtype != data.dtype:
        g = g.astype(data.dtype)
    return g


def reachable_nodes(root: Value) -> list[Value]:
    """The tracked Values `root` depends on, `root` first, in reverse creation order.

    Every node is created after its inputs, so reverse creation order is a reverse
    topological order: a node comes before everything it was computed from.
    """
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._args:
            if isinstance(parent, Value) and parent.requires_grad and parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(seen, key=_creation_order, reverse=True)


_creation_order = operator.attrgetter("_id")


def backprop(root: Value, grad: Any = None, create_graph: bool = False) -> dict[Value, Any]:
    """Cotangents d(root)/d(node) for every tracked node `root` depends on (the chain rule).

    Returns a dict node → gradient (shape and dtype of the node's data). Nothing is
    written to `.grad`; `Value.backward` does that.
    """
    grads: dict[Value, Any] = {root: _seed(root, grad, create_graph)}
    with _enable_grad() if create_graph else no_grad():
        for node in reachable_nodes(root):
            op = node._op
            if op is None:
                continue  # a leaf: nothing further back
            g = grads[node]
            args = node._args
            if create_graph:
                out, inputs = node, args
            else:
                out = node.data
                inputs = [a.data if isinstance(a, Value) else a for a in args]
            params = node._params
            rules = op.vjps
            for argnum, parent in enumerate(args):
                if not (isinstance(parent, Value) and parent.requires_grad):
                    continue
                if rules is None or params:
                    cotangent = op.vjp(argnum, g, out, inputs, params)
                else:  # the common case, without the indirection
                    rule = rules[argnum] if argnum < len(rules) else None
                    cotangent = None if rule is None else rule(g, out, *inputs)
                if cotangent is None:
                    continue
                data = parent.data
                kind = type(cotangent)
                if not (kind is float and type(data) is float) and not (
                    kind is np.ndarray and type(data) is np.ndarray
                    and cotangent.shape == data.shape and cotangent.dtype == data.dtype
                ):
                    cotangent = _fit(cotangent, data)
                previous = grads.get(parent)
                grads[parent] = cotangent if previous is None else previous + cotangent
    return grads


from . import ops as _ops  # noqa: E402  (the op table needs Value and primitive defined)
