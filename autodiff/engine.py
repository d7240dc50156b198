"""The engine core: primitives that record the graph, and reverse accumulation.

* A `Primitive` is a numpy function paired with one vector-Jacobian product (VJP) rule per
  argument. Calling it on Values computes the output and records a node: which primitive,
  which inputs, which keyword parameters. Nothing else is captured, so a node never refers
  to itself and graphs are freed by reference counting alone.
* `backprop` visits the nodes reachable from an output in reverse creation order (every
  node is created after its inputs, so that is a reverse topological order) and applies
  the chain rule: each node's cotangent is pushed through the VJP rule of each input and
  summed where paths meet. It is a loop, not a recursion: depth is limited by memory only.

The built-in operations in `autodiff.ops` use exactly the public `primitive`/`defvjp`
mechanism defined here; `Value` (in `autodiff.value`) is the node type.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .value import Value, _data, _shape_of, as_data, next_node_id

__all__ = [
    "Primitive", "Value", "backprop", "is_grad_enabled", "no_grad", "primitive",
    "reachable_nodes",
]

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


# --------------------------------------------------------------------------- primitives


class Primitive:
    """A numpy function that Values can flow through, with its vector-Jacobian products.

    A VJP rule is `rule(g, out, *args, **params) -> cotangent for that argument`: `g` is the
    cotangent of the output, `out` the forward result and `args` the forward inputs. During
    an ordinary backward pass they are plain numpy data; with `create_graph=True` they are
    Values, so a rule written with differentiable operations gives higher derivatives for
    free. A rule may return a cotangent of the broadcast output's shape: the engine sums it
    back to the argument's shape. Return None for "no gradient" (e.g. integer indices).
    Called with no Value among its arguments, a primitive is just its numpy function.

    `defvjp(rule0, rule1, ...)` gives one rule per argument. `defvjp_argnums(rule)` gives
    one rule for all of them, `rule(argnums, g, out, *args, **params)` returning one
    cotangent per position in `argnums` (those that need one): for variadic primitives,
    and for fused ones whose cotangents share work.
    """

    __slots__ = ("__dict__", "forward", "name", "vjp_argnums", "vjps")

    def __init__(self, forward: Callable, name: str | None = None) -> None:
        self.forward = forward
        self.name = name or forward.__name__
        self.__name__ = self.name
        self.__doc__ = forward.__doc__
        self.vjps: tuple | None = None
        self.vjp_argnums: Callable | None = None

    def defvjp(self, *rules: Callable | None) -> Primitive:
        """Attach VJP rules, one per positional argument (None: not differentiable)."""
        self.vjps = rules
        return self

    def defvjp_argnums(self, rule: Callable) -> Primitive:
        """Attach one rule for all arguments: `rule(argnums, g, out, *args, **params)`."""
        self.vjp_argnums = rule
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
            out = self.forward(*raw, **params) if params else self.forward(*raw)
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
        node._id = next_node_id()
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
        return self.vjp_all((argnum,), g, out, args, params)[0]

    def vjp_all(self, argnums: tuple, g: Any, out: Any, args: tuple, params: dict | None):
        """Cotangents for the arguments at `argnums`, by the all-arguments rule."""
        if self.vjp_argnums is None:
            raise NotImplementedError(f"{self.name}: no VJP rule defined (use defvjp)")
        return self.vjp_argnums(argnums, g, out, *args, **(params or {}))


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
    if grad is None and not create_graph and type(root.data) is float:
        return 1.0  # the common case: a float64 scalar loss
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


def _accumulate(grads: dict, parent: Value, cotangent: Any) -> None:
    """grads[parent] += cotangent, fitted to the parent's shape and dtype."""
    cotangent = _fit(cotangent, parent.data)
    previous = grads.get(parent)
    grads[parent] = cotangent if previous is None else previous + cotangent


def reachable_nodes(
    root: Value, include_constants: bool = False, include_leaves: bool = True
) -> list[Value]:
    """The tracked Values `root` depends on, `root` first, in reverse creation order
    (with `include_constants`, also the constant Values fed to its operations; without
    `include_leaves`, only the Values made by operations).

    Every node is created after its inputs, so reverse creation order is a reverse
    topological order: a node comes before everything it was computed from.
    """
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop()._args:
            if (isinstance(parent, Value) and (parent._op is not None or include_leaves)
                    and (parent.requires_grad or include_constants) and parent not in seen):
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
    recording = _grad_mode.enabled
    _grad_mode.enabled = create_graph  # rules record a graph only for higher order
    try:
        # Leaves have nothing further back: only the operations are visited.
        for node in reachable_nodes(root, include_leaves=False):
            g = grads.get(node)
            if g is None:
                continue  # tracked, but no path from root carries a gradient here
            op, args = node._op, node._args
            if create_graph:
                out, inputs = node, args
            else:
                out = node.data
                inputs = [a.data if isinstance(a, Value) else a for a in args]  # _data, inlined
            params = node._params
            rules = op.vjps
            if rules is None:  # one rule for all the arguments that need a cotangent
                argnums = tuple(i for i, a in enumerate(args)
                                if isinstance(a, Value) and a.requires_grad)
                cotangents = op.vjp_all(argnums, g, out, inputs, params)
                for argnum, cotangent in zip(argnums, cotangents, strict=True):
                    if cotangent is not None:
                        _accumulate(grads, args[argnum], cotangent)
                continue
            for rule, parent in zip(rules, args):  # noqa: B905  (args beyond rules get none)
                if rule is None or not (isinstance(parent, Value) and parent.requires_grad):
                    continue
                cotangent = rule(g, out, *inputs, **params) if params else rule(g, out, *inputs)
                if cotangent is None:
                    continue
                # The hot case without a call: the first cotangent to arrive, an exact fit
                # (`is`: comparing dtypes with == costs more than the rest of this test).
                data, kind = parent.data, type(cotangent)
                if parent not in grads and ((kind is float and type(data) is float) or (
                    kind is np.ndarray and type(data) is np.ndarray
                    and cotangent.shape == data.shape and cotangent.dtype is data.dtype
                )):
                    grads[parent] = cotangent
                else:
                    _accumulate(grads, parent, cotangent)
    finally:
        _grad_mode.enabled = recording
    return grads


from . import ops as _ops  # noqa: E402  (broadcasting a cotangent uses the op table)
