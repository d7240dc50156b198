"""The engine core: primitives that record the graph, and reverse accumulation.

* A `Primitive` is a numpy function paired with one vector-Jacobian product (VJP) rule per
  argument. Calling it on Values computes the output and records a node: which primitive,
  which arguments, their data at that moment, which keyword parameters, and whatever the
  forward pass left for the rules (residuals). Nothing else is captured, so a node never
  refers to itself and graphs are freed by reference counting alone.
* `backprop` visits the operation nodes reachable from an output in reverse creation order
  (every node is created after its inputs, so that is a reverse topological order), taking
  them from a heap of the nodes a cotangent has reached so far, and applies the chain
  rule: each node's cotangent is pushed through the VJP rule of each argument and summed
  where paths meet (`fit` sums a broadcast cotangent back to the argument's shape). It is
  a loop, not a recursion: depth is limited by memory only.
* Backprop refuses a stale graph: data changed by the library after an operation read it
  (see the versions in `autodiff.value`), checked for each node it reaches (and, with
  `wrt` or `stop_at`, or on the scalar path, before any rule runs). Leaf arrays a graph has read
  are kept read-only until the next backward pass, so raw numpy writes into them are
  refused too.
* Per-thread state: whether operations record (`no_grad`), and how many transforms
  (`grad`, `vjp`, ...) are active, so that a transform knows it runs inside another one.

This module knows only the node type. The op table (`autodiff.ops`) is built on it with
exactly the public `primitive`/`defvjp` mechanism a user has for custom operations.
"""

from __future__ import annotations

import functools
import math
import operator
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from . import value as _value
from .backend import is_duck
from .value import Value, as_data, freeze, init_node, new_value, operation_node, raw, thaw_all

_ndarray = np.ndarray

if TYPE_CHECKING:
    _T = TypeVar("_T")

__all__ = [
    "Primitive", "backprop", "backward", "fit", "is_grad_enabled", "no_grad", "primitive",
    "reachable_nodes", "transform_depth",
]


# --------------------------------------------------------------------------- per-thread state


class _ThreadState(threading.local):
    recording = True  # operations record a graph (False inside no_grad())
    depth = 0  # how many transforms (grad, vjp, jvp, ...) are running on this thread


_state = _ThreadState()

# How many threads have recording switched off. While it is 0 (always, outside no_grad and
# backward), every thread records, and the hot paths skip the thread-local lookup:
# `not _not_recording[0] or _state.recording` is the test.
_not_recording = [0]
_count_lock = threading.Lock()


def _set_recording(flag: bool) -> bool:
    """Switch recording on or off for this thread; returns the previous setting."""
    previous = _state.recording
    if previous != flag:
        with _count_lock:
            _not_recording[0] += -1 if flag else 1
        _state.recording = flag
    return previous


def is_grad_enabled() -> bool:
    """True unless this thread is inside `no_grad()`."""
    return not _not_recording[0] or _state.recording


def transform_depth() -> int:
    """How many transforms (grad, vjp, jvp, jacobian, ...) are active on this thread."""
    return _state.depth


class no_grad:
    """Context manager and decorator: operations inside record no graph (per thread)."""

    def __enter__(self) -> None:
        self._previous = _set_recording(False)

    def __exit__(self, *exc: object) -> None:
        _set_recording(self._previous)

    def __call__(self, function: Callable[..., _T]) -> Callable[..., _T]:
        @functools.wraps(function)
        def without_grad(*args: Any, **kwargs: Any) -> _T:
            with no_grad():
                return function(*args, **kwargs)

        return without_grad


class transform_scope:
    """Marks a running transform: one level deeper, and operations record inside it."""

    def __enter__(self) -> int:
        self._previous = _set_recording(True)
        _state.depth += 1
        return _state.depth

    def __exit__(self, *exc: object) -> None:
        _state.depth -= 1
        _set_recording(self._previous)


def refuse_traced(value: Value, conversion: str) -> None:
    """TypeError if `value` is traced by a running transform on this thread: converting it
    to a number, or to a new leaf, would make a constant whose derivative is silently 0."""
    if _state.depth and value.requires_grad and (not _not_recording[0] or _state.recording):
        raise TypeError(
            f"{conversion}() of a traced Value inside a transform (grad, vjp, jvp, jacobian, "
            f"...): the result would be a constant, so its derivative would silently be 0. "
            f"Use autodiff operations instead (for math.sin(x), use autodiff.sin(x) or "
            f"x.sin(); a Value is used as it is, without Value(x) or a copy); call .item() or "
            f".detach() only where a constant is meant."
        )


_value.refuse_traced[0] = refuse_traced  # (Value(v) and copies of a leaf ask it)


# --------------------------------------------------------------------------- primitives


class Primitive:
    """A numpy function that Values can flow through, with its vector-Jacobian products.

    A VJP rule is `rule(g, out, *args, **params) -> cotangent for that argument`: `g` is the
    cotangent of the output, `out` the forward result and `args` the forward arguments.
    During an ordinary backward pass they are plain numpy data; with `create_graph=True`
    they are Values, so a rule written with differentiable operations gives higher
    derivatives for free. A rule may return a cotangent of the broadcast output's shape:
    the engine sums it back to the argument's shape (any other shape, a tuple or a
    non-numeric array is an error naming the primitive). Return None for "no gradient".
    Called with no Value among its arguments, a primitive is just its numpy function.

    `defvjp(rule0, rule1, ...)` gives one rule per positional argument; an explicit None
    marks an argument as not differentiable, and differentiating through an argument that
    has no rule raises NotImplementedError. `defvjp_argnums(rule)` gives one rule for all
    of them, `rule(argnums, g, out, *args, **params)` returning one cotangent per position
    in `argnums`: for variadic primitives, and for fused ones whose cotangents share work.

    With `residuals=True` the forward returns `(output, residuals)`: what its rules need
    besides the output (as JAX's `custom_vjp` forward does). The node keeps them for the
    first-order backward pass, which hands them to the rules as `residuals=` and then frees
    them; a later pass, or one with `create_graph=True`, gets `residuals=None` and the rule
    recomputes what it needs (with differentiable operations, for higher order).
    """

    __slots__ = ("__dict__", "forward", "has_residuals", "name", "vjp_argnums", "vjps")

    def __init__(self, forward: Callable[..., Any], name: str | None = None,
                 residuals: bool = False) -> None:
        if not callable(forward):
            raise TypeError(f"primitive: forward must be callable; got "
                            f"{type(forward).__name__} {forward!r}")
        self.forward: Callable[..., Any] = forward
        self.name: str = name or forward.__name__
        self.__name__: str = self.name
        self.__doc__ = forward.__doc__
        self.__module__ = getattr(forward, "__module__", None) or __name__  # (for pickle)
        self.has_residuals: bool = bool(residuals)
        self.vjps: tuple[Callable[..., Any] | None, ...] | None = None
        self.vjp_argnums: Callable[..., Any] | None = None

    def defvjp(self, *rules: Callable[..., Any] | None) -> Primitive:
        """Attach VJP rules, one per positional argument (None: not differentiable)."""
        for index, rule in enumerate(rules):
            if rule is not None and not callable(rule):
                raise TypeError(f"{self.name}.defvjp: rule {index} is not callable: {rule!r}")
        self.vjps = rules
        self.vjp_argnums = None  # (the later definition wins)
        return self

    def defvjp_argnums(self, rule: Callable[..., Any]) -> Primitive:
        """Attach one rule for all arguments: `rule(argnums, g, out, *args, **params)`."""
        if not callable(rule):
            raise TypeError(f"{self.name}.defvjp_argnums: rule is not callable: {rule!r}")
        self.vjp_argnums = rule
        self.vjps = None  # (the later definition wins)
        return self

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    # A primitive is a definition, as a function is: a copy of a graph shares it.
    def __copy__(self) -> Primitive:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Primitive:
        return self

    def __reduce__(self) -> str:
        """Pickled by reference, as a function is: its module and the name it lives under
        there (its forward's qualified name, or its own name)."""
        module = self.__module__
        qualname = getattr(self.forward, "__qualname__", None)
        home = sys.modules.get(module)
        for name in (qualname, self.name):
            found: Any = home
            for part in (name or "").split("."):
                found = getattr(found, part, None)
            if found is self and name:
                return name
        for name, found in vars(home).items() if home is not None else ():
            if found is self:  # (`softplus = primitive(_softplus)`)
                return name
        raise TypeError(
            f"pickle: the operation {self.name} is not reachable by its name at module level "
            f"({module}.{qualname}), so it cannot be pickled; define it at module level to "
            "pickle what holds it"
        )

    def __call__(self, *args: Any, **params: Any) -> Any:
        # The lean path: one or two positional arguments, no keywords (elementwise math,
        # arithmetic, matmul): no loop, no lists, one call to the forward.
        if not params:
            count = len(args)
            if count == 1:
                a = args[0]
                if type(a) is Value:
                    x = a._data
                    try:
                        out = self.forward(x)
                    except _FORWARD_ERRORS as error:
                        raise _call_error(self.name, args, error) from None
                    return self._record(out, args, (x,), a.requires_grad,
                                        (a,) if a._op is None and not a._frozen else None)
                # Plain data (a rule's `cos(x)` in a first-order backward): `_unrecorded`,
                # inlined, one Python call fewer for a plain numpy call.
                try:
                    out = self.forward(a)
                except _FORWARD_ERRORS as error:
                    raise _call_error(self.name, args, error) from None
                return self._split(out)[0] if self.has_residuals else out
            elif count == 2:
                a, b = args
                if type(a) is Value:
                    x = a._data
                    unguarded: Sequence[Value] | None = \
                        (a,) if a._op is None and not a._frozen else None
                    if type(b) is Value:
                        y = b._data
                        tracked = a.requires_grad or b.requires_grad
                        if b._op is None and not b._frozen:
                            unguarded = (b,) if unguarded is None else (a, b)
                    else:
                        y = b if type(b) is float or type(b) is np.ndarray \
                            else _plain(b, self.name)
                        tracked = a.requires_grad
                elif type(b) is Value:
                    x = a if type(a) is float or type(a) is np.ndarray \
                        else _plain(a, self.name)
                    y = b._data
                    tracked = b.requires_grad
                    unguarded = (b,) if b._op is None and not b._frozen else None
                else:
                    return self._unrecorded(args)
                try:
                    out = self.forward(x, y)
                except _FORWARD_ERRORS as error:
                    raise _call_error(self.name, args, error) from None
                return self._record(out, args, (x, y), tracked, unguarded)
        raw_args = []
        found_value = tracked = False
        leaves: list[Value] | None = None  # leaf arrays no graph has guarded yet (`freeze`)
        for a in args:
            if type(a) is Value:
                raw_args.append(a._data)
                found_value = True
                if a.requires_grad:
                    tracked = True
                if not a._frozen:
                    if leaves is None:
                        leaves = [a]
                    else:
                        leaves.append(a)
            else:
                raw_args.append(a if type(a) is float or type(a) is np.ndarray
                                else _plain(a, self.name))
        if params:
            params = _plain_params(self.name, params)
        if not found_value:
            return self._unrecorded(args, params)
        try:
            out = self.forward(*raw_args, **params) if params else self.forward(*raw_args)
        except _FORWARD_ERRORS as error:
            raise _call_error(self.name, args, error) from None
        return self._record(out, args, tuple(raw_args), tracked, leaves, params or None)

    def _unrecorded(self, args: tuple[Any, ...], params: dict[str, Any] | None = None) -> Any:
        """No Value among the arguments: plain numpy in, plain numpy out."""
        try:
            out = self.forward(*args, **params) if params else self.forward(*args)
        except _FORWARD_ERRORS as error:
            raise _call_error(self.name, args, error) from None
        return self._split(out)[0] if self.has_residuals else out

    def _split(self, out: Any) -> tuple[Any, Any]:
        """(output, residuals) from a forward with residuals=True, which must return that
        pair (an array would otherwise be unpacked along its first axis)."""
        if type(out) is not tuple or len(out) != 2:
            described = f"{type(out).__name__}" + (
                f" of length {len(out)}" if isinstance(out, (tuple, list)) else
                f" of shape {np.shape(out)}" if hasattr(out, "shape") else "")
            raise TypeError(f"{self.name}: with residuals=True the forward must return "
                            f"(output, residuals); it returned {described}")
        return out

    def _record(self, out: Any, args: tuple[Any, ...], raw_args: tuple[Any, ...],
                tracked: bool, unguarded: Sequence[Value] | None,
                params: dict[str, Any] | None = None) -> Value:
        """The Value of a forward result: a node of the graph if an argument is tracked and
        this thread records, a constant otherwise."""
        residuals = None
        if self.has_residuals:
            out, residuals = self._split(out)
        kind = type(out)
        # The storage convention (`as_data`), skipped for the common real results.
        if kind is _ndarray:
            if not out.ndim or out.dtype not in _REAL_DTYPES:
                out = as_data(out, caller=self.name)
            elif out is raw_args[0]:  # (real, conj of real data, astype to its own dtype)
                out = out.view()  # a Value of its own: see `update_in_place` on views
        elif kind is not float:
            out = as_data(out, caller=self.name)
        if tracked and (not _not_recording[0] or _state.recording):
            if unguarded is not None:
                for a in unguarded:
                    freeze(a)
            if params is None and residuals is None:
                return operation_node(out, self, args, raw_args)
            return init_node(new_value(), out, True, self, args, raw_args, params, residuals)
        return init_node(new_value(), out, False)


# Results stored as they are; any other (complex ones included: `as_data` notes that
# complex numbers are in use, which backprop's conjugation relies on) goes through as_data.
_REAL_DTYPES = frozenset(np.dtype(t) for t in (np.float16, np.float32, np.float64,
                                               np.longdouble))


@overload
def primitive(forward: Callable[..., Any], *, name: str | None = None,
              residuals: bool = False) -> Primitive: ...
@overload
def primitive(forward: None = None, *, name: str | None = None,
              residuals: bool = False) -> Callable[[Callable[..., Any]], Primitive]: ...
def primitive(forward: Callable[..., Any] | None = None, *, name: str | None = None,
              residuals: bool = False) -> Primitive | Callable[[Callable[..., Any]], Primitive]:
    """Make a numpy function differentiable: decorate it, then give its VJP rules.

        @primitive
        def cube(x):
            return x ** 3
        cube.defvjp(lambda g, out, x: g * 3 * x ** 2)
    """
    if forward is None:
        return lambda f: Primitive(f, name=name, residuals=residuals)
    return Primitive(forward, name=name, residuals=residuals)


def _plain(constant: Any, name: str = "operation") -> Any:
    """A constant as the forward and the rules see it: an ndarray subclass as a plain
    ndarray view (np.matrix's `*` is a matrix product; operations on Values are numpy's
    functions, elementwise), anything else as it is. A masked array is refused: its mask
    would be dropped."""
    if isinstance(constant, np.ndarray) and type(constant) is not np.ndarray:
        if isinstance(constant, np.ma.MaskedArray):
            raise TypeError(f"{name}: a masked array operand is not supported with Values "
                            "(its mask would be dropped); fill the masked elements first "
                            "(m.filled(...)) or pass the compressed data")
        return constant.view(np.ndarray)
    return constant


def _plain_params(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Keyword parameters as the forward and the rules see them: a constant Value as its
    data (as a positional one); one that requires grad is refused (not differentiated)."""
    if not any(isinstance(value, Value) for value in params.values()):
        return params
    _refuse_value_params(name, params)
    return {key: raw(value) for key, value in params.items()}


def _refuse_value_params(name: str, params: dict[str, Any]) -> None:
    for key, value in params.items():
        if isinstance(value, Value) and value.requires_grad:
            raise TypeError(
                f"{name}: keyword argument {key}= is a Value that requires grad, but keyword "
                "arguments are not differentiated; pass it positionally, or pass .data if it "
                "is meant as a constant"
            )


# The errors of a forward that are about its inputs: raised again naming the operation.
_FORWARD_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


# What numpy's broadcasting and core-dimension errors say (other ValueErrors are not about
# the shapes: a custom forward's own "needs positive input").
_SHAPE_WORDS = ("broadcast", "shape", "dimension", "mismatch", "size")


def _call_error(name: str, args: tuple[Any, ...], error: Exception) -> Exception:
    """The error of a failed forward, naming the operation and its inputs' shapes."""
    message = str(error)
    shapes = [np.shape(raw(a)) for a in args if isinstance(a, (Value, np.ndarray, list))]
    described = " and ".join(str(s) for s in shapes) or "(no arrays)"
    if message.startswith(f"{name}:"):  # already names the operation and what was wrong
        text = f"{message} (input shapes {described})"
    elif type(error) is ValueError and any(word in message for word in _SHAPE_WORDS):
        text = f"{name}: incompatible input shapes {described}: {message}"  # (numpy's)
    else:
        text = f"{name}: {message} (input shapes {described})"
    try:
        return type(error)(text)
    except Exception:  # an exception type with another constructor signature
        return ValueError(text)


# --------------------------------------------------------------------------- the engine's own ops


@primitive(name="sum_to")
def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x summed over the axes broadcasting added or stretched, back to `shape`  ·  the
    gradient is broadcast back"""
    return _sum_to_data(x, shape)


@primitive(name="broadcast_to")
def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x repeated along broadcast axes  ·  the gradient is summed back"""
    if math.prod(shape) <= _SMALL and (type(x) is np.ndarray or not is_duck(x)):
        result = np.empty(shape, dtype=np.result_type(x))
        result[...] = x
        return result
    return np.broadcast_to(x, shape)


_SMALL = 4096  # below this many elements a fresh array is cheaper than a broadcast view

sum_to.defvjp(lambda g, out, x, shape: broadcast_to(g, np.shape(raw(x))))
broadcast_to.defvjp(lambda g, out, x, shape: sum_to(g, np.shape(raw(x))))


@primitive(name="astype")
def astype(x: Any, dtype: Any) -> Any:
    """x converted to another floating or complex dtype (complex → real keeps the real
    part)  ·  the gradient converts back"""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise TypeError(f"astype: Values hold floating or complex data; cannot convert to "
                        f"{dtype}")
    if dtype.kind == "f" and np.iscomplexobj(x):
        x = np.real(x)
    if type(x) is not np.ndarray and is_duck(x):
        return x.astype(dtype)  # lazy, in its own kind of array
    return np.asarray(x, dtype=dtype)


astype.defvjp(lambda g, out, x, dtype: astype(g, np.result_type(raw(x))))


@primitive(name="conj")
def conj(x: Any) -> Any:
    """complex conjugate x̄  ·  the cotangent is conjugated (x itself for real data)"""
    return np.conj(x) if np.iscomplexobj(x) else x


conj.defvjp(lambda g, out, x: conj(g))


def _sum_to_data(g: Any, shape: tuple[int, ...]) -> Any:
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    if lead < 0 or isinstance(g, (tuple, list)):
        raise _misfit(g, shape)  # not `shape` broadcast: a rule's mistake
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1)
    total = np.sum(g, axis=tuple(range(lead)) + stretched, keepdims=True)
    if total.shape[lead:] != shape:  # an axis of g that `shape` does not broadcast to
        raise _misfit(g, shape)
    return total.reshape(shape)


def _misfit(g: Any, shape: tuple[int, ...]) -> Exception:
    """The error of a cotangent that is not `shape` broadcast (a VJP rule's mistake)."""
    if isinstance(g, (tuple, list)):
        return TypeError(
            f"a VJP rule returned a {type(g).__name__} where one cotangent of shape {shape} "
            "belongs (a rule gives the cotangent of its own argument; one rule for several "
            "arguments is defvjp_argnums)"
        )
    return ValueError(
        f"a VJP rule returned a cotangent of shape {np.shape(g)} for an argument of shape "
        f"{shape}: it must have the argument's shape, or one the argument broadcasts to"
    )


def fit(g: Any, data: Any) -> Any:
    """Sum a broadcast cotangent back to the shape of `data` and give it data's dtype (the
    real part, for a real `data` reached by a complex cotangent)."""
    if type(data) is float:  # a float64 scalar
        if type(g) is float:
            return g
        if isinstance(g, Value):
            if g.shape != ():
                g = sum_to(g, ())
            return g if g.dtype == np.float64 else astype(g, np.float64)
        if isinstance(g, (tuple, list)):
            raise _misfit(g, ())
        total = np.sum(g)
        total = total.real if np.iscomplexobj(total) else total
        if type(total) is not np.float64 and is_duck(total):
            return total.astype(np.float64)  # lazy: a 0-d array, computed when asked
        return float(total)
    shape, dtype = data.shape, data.dtype
    if isinstance(g, Value):
        if g.shape != shape:
            g = sum_to(g, shape)
        return g if g.dtype == dtype else astype(g, dtype)
    if np.shape(g) != shape:
        g = _sum_to_data(g, shape)
    if type(g) is not np.ndarray and not is_duck(g):
        g = np.asarray(g)
    if g.dtype == dtype:
        return g
    if g.dtype.kind == "c" and dtype.kind != "c":
        g = g.real
    elif g.dtype.kind not in "fiubc":  # (complex128 → complex64 narrows as float64 → float32)
        raise TypeError(f"a VJP rule returned a cotangent of dtype {g.dtype} for an argument "
                        f"of dtype {dtype}: cotangents are numbers")
    return g.astype(dtype)


# --------------------------------------------------------------------------- reverse mode


def _seed(root: Value, grad: Any, create_graph: bool) -> Any:
    if grad is None and not create_graph and type(root._data) is float:
        return 1.0  # the common case: a float64 scalar loss
    shape = root.shape
    is_complex = root.dtype.kind == "c"
    if grad is None:
        if is_complex:
            raise ValueError(
                "backward() without grad needs a real output (a loss); this one is complex. "
                "Reduce it to a real number first (abs, real, ...) or pass grad=."
            )
        if root.size != 1:
            raise ValueError(
                f"backward() without grad needs a one-element output; this one has shape "
                f"{shape}. Pass grad= of shape {shape} (or reduce it, e.g. with .sum())."
            )
        seed = 1.0 if type(root._data) is float else np.ones_like(root._data)
    else:
        seed = grad if isinstance(grad, Value) and create_graph else as_data(
            grad, caller="backward(grad=...)")
        if np.shape(raw(seed)) != shape:
            raise ValueError(
                f"backward(): grad has shape {np.shape(raw(seed))} but the output has shape "
                f"{shape}"
            )
        if not is_complex and np.iscomplexobj(raw(seed)):
            raise ValueError(
                f"backward(): grad is complex but the output is real ({root.dtype}): the "
                "imaginary part would be dropped. Pass a real grad, or make the output "
                "complex"
            )
    if create_graph and not isinstance(seed, Value):
        seed = Value(seed, requires_grad=False)
    seed = fit(seed, root._data)
    # Gradients of complex Values follow PyTorch (∂L/∂x + i ∂L/∂y, so z -= lr * z.grad
    # descends). Rules are written as plain transposes (g · f'(z) for holomorphic f), whose
    # cotangents are the conjugates of those: conjugate on the way in and on the way out.
    return conj(seed) if is_complex else seed


_creation_order = operator.attrgetter("_id")


def _as_set(values: Iterable[Value] | None) -> set[Value] | frozenset[Value]:
    """`values` as a set, a given set itself (not copied: an inspection tool passes the
    same large set of stops to one small pass per Value)."""
    if isinstance(values, (set, frozenset)):
        return values
    return set(values) if values else set()


def reachable_nodes(
    root: Value, include_constants: bool = False, include_leaves: bool = True,
    stop_at: Iterable[Value] | None = None,
) -> list[Value]:
    """The tracked Values `root` depends on, `root` first, in reverse creation order
    (with `include_constants`, also the constant Values fed to its operations; without
    `include_leaves`, only the Values made by operations; Values in `stop_at` are listed
    but not looked through, as if they were leaves).

    Every node is created after its inputs, so reverse creation order is a reverse
    topological order: a node comes before everything it was computed from.
    """
    stops = _as_set(stop_at)
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        if node in stops and node is not root:
            continue
        for parent in node._args:
            if (type(parent) is Value and parent not in seen
                    and (parent.requires_grad or include_constants)):
                seen.add(parent)
                stack.append(parent)
    nodes = sorted(seen, key=_creation_order, reverse=True)
    if not include_leaves:
        nodes = [n for n in nodes if n._op is not None and (n not in stops or n is root)]
    return nodes


def _operation_nodes(root: Value) -> list[Value]:
    """The tracked operation nodes `root` depends on, in reverse creation order (the lean
    case of `reachable_nodes`: leaves are not collected)."""
    if root._op is None:
        return []
    seen = {root._id: root}
    stack = [root]
    while stack:
        for parent in stack.pop()._args:
            if type(parent) is Value and parent._op is not None and parent.requires_grad:
                key = parent._id
                if key not in seen:
                    seen[key] = parent
                    stack.append(parent)
    return [seen[key] for key in sorted(seen, reverse=True)]


def _on_paths(nodes: list[Value], targets: set[Value]) -> list[Value]:
    """The nodes (reverse creation order) on some path down to one of `targets`."""
    reaching = set(targets)
    for node in reversed(nodes):  # inputs before the Values made from them
        if any(type(a) is Value and a in reaching for a in node._args):
            reaching.add(node)
    return [node for node in nodes if node in reaching and node not in targets]


def _refuse_stale(nodes: Sequence[Value]) -> None:
    """Raise if any node's data, or data it read, was changed by the library after it was
    recorded (a newer stamp than the node's own)."""
    for node in nodes:
        created = node._id
        if node._writes is not None and node._writes[1] > created:
            _raise_stale(node, node, created)
        for a in node._args:
            if type(a) is Value and a._writes is not None and a._writes[1] > created:
                _raise_stale(node, a, created)


def _raise_stale(node: Value, changed: Value, created: int) -> None:
    label = repr(changed.name) if changed.name else "(unnamed)"
    role = "its output" if changed is node else "an input"
    name = node._op.name
    raise RuntimeError(
        f"backward through {name}: {role}, Value {label} of shape {changed.shape}, was "
        f"changed after {name} used it (it is now at version {changed.version}; {name} saw "
        f"version {_version_at(changed, created)}). Its gradient would be computed from the "
        "new data. Recompute the output after changing the data, or change the data only "
        "after backward."
    )


def _version_at(value: Value, stamp: int) -> str:
    """The version `value` had at time `stamp`, from its recent write stamps."""
    version, recent = value._writes[0], value._writes[2:]  # type: ignore[index]  # changed, so not None
    later = sum(1 for s in recent if s > stamp)
    if later == _value.STAMPS_KEPT:
        return f"{version - later} or earlier"
    return str(version - later)


def backprop(root: Value, grad: Any = None, create_graph: bool = False, *,
             wrt: Iterable[Value] | None = None,
             stop_at: Iterable[Value] | None = None, release: bool = False) -> dict[Value, Any]:
    """Cotangents d⟨grad, root⟩/d(node) for the tracked nodes `root` depends on (the chain
    rule, in reverse topological order).

    Returns a dict node → gradient (shape and dtype of the node's data). Nothing is
    written to `.grad`; `backward` does that. `wrt` limits the pass to the paths that reach
    those Values; `stop_at` Values receive their cotangent but pass nothing further back
    (a set given as `stop_at` is used as it is, not copied: one pass costs the part of the
    graph it walks, not the size of the set).
    With `release`, each operation node lets go of its inputs and its cotangent as soon as
    its rules ran (activations are freed during the pass; the dict keeps only the leaves'
    gradients), and the graph cannot be differentiated again.
    """
    if release and create_graph:
        raise ValueError("backward: release_graph=True cannot be combined with "
                         "create_graph=True (the new graph refers to the old one)")
    grads: dict[Value, Any] = {root: _seed(root, grad, create_graph)}
    only: set[Value] | None = None  # the operation nodes the pass goes through (None: all)
    if stop_at or wrt is not None:
        if stop_at:
            stops = _as_set(stop_at)
            nodes = reachable_nodes(root, include_leaves=False, stop_at=stops)
            nodes = [n for n in nodes if n not in stops or n is root]
        else:
            nodes = _operation_nodes(root)
        if wrt is not None:
            nodes = _on_paths(nodes, set(wrt))
        if nodes and _value.last_write[0] > nodes[-1]._id:
            _refuse_stale(nodes)  # some Value was written after this graph began
        only = set(nodes)
    # The operation nodes a cotangent has reached and that are not yet done, in a heap by
    # creation order, newest first: every node is created after its inputs, so a node comes
    # up only after everything computed from it (the graph needs no collecting first).
    pending: list[tuple[int, Value]] = [(-root._id, root)] if root._op is not None else []
    newest_write = _value.last_write[0]  # a node made after it cannot be stale
    recording = _set_recording(create_graph)  # rules record a graph only for higher order
    node = root  # (named by an error a rule raises)
    try:
        try:
            while pending:
                node = heappop(pending)[1]
                if only is not None and node not in only:
                    continue
                if node._id < newest_write:
                    _refuse_stale((node,))  # some Value was written after this node was made
                g = grads.pop(node) if release else grads[node]
                op, args = node._op, node._inputs
                if args is None:  # a scalar-path node: its operands in slots
                    args = node._args
                inputs: Sequence[Any] | None
                if create_graph:
                    out, inputs = node, args
                else:
                    out, inputs = node._data, node._raw
                    if inputs is None:  # (the scalar path keeps no copy: see autodiff.value)
                        inputs = [a._data if type(a) is Value else a for a in args]
                params = node._params
                if op.has_residuals:
                    params = dict(params or {})
                    params["residuals"] = None if create_graph else node._residuals
                    node._residuals = None  # used once: a later pass recomputes
                if release:
                    _release(node)
                rules = op.vjps
                if rules is None:  # one rule for all the arguments that need a cotangent
                    _apply_argnums_rule(grads, pending, args, op, g, out, inputs, params)
                    continue
                count = len(args)
                if count > len(rules):
                    _refuse_missing_rules(node, rules)
                for rule, parent in zip(rules, args):  # noqa: B905  (checked just above)
                    if rule is None or type(parent) is not Value or not parent.requires_grad:
                        continue
                    # One and two inputs by a fixed-arity call: no argument tuple to build.
                    if params:
                        cotangent = rule(g, out, *inputs, **params)
                    elif count == 1:
                        cotangent = rule(g, out, inputs[0])
                    elif count == 2:
                        cotangent = rule(g, out, inputs[0], inputs[1])
                    else:
                        cotangent = rule(g, out, *inputs)
                    # The hot case without a call: the first cotangent to arrive, an exact fit
                    # (`is`: comparing dtypes with == costs more than the rest of this test).
                    kind = type(cotangent)
                    if kind is _ndarray:
                        if create_graph:
                            _refuse_plain_cotangent(node._op.name, cotangent)
                        data = parent._data
                        fits = (type(data) is _ndarray and cotangent.shape == data.shape
                                and cotangent.dtype is data.dtype)
                    elif cotangent is None:
                        continue
                    else:
                        if create_graph and kind is not Value:
                            _refuse_plain_cotangent(node._op.name, cotangent)
                        fits = kind is float and type(parent._data) is float
                    if fits and parent not in grads:
                        grads[parent] = cotangent
                        if parent._op is not None:
                            heappush(pending, (-parent._id, parent))
                    else:
                        _accumulate(grads, pending, parent, cotangent)
        except (ValueError, IndexError, TypeError, ArithmeticError) as error:
            named = _backward_error(node, error)
            if named is error:
                raise
            raise named from error
        if _value.complex_seen[0]:
            for node, g in grads.items():
                if (g.dtype.kind if isinstance(g, (Value, np.ndarray, np.generic))
                        or is_duck(g) else "f") == "c":
                    grads[node] = conj(g)
    finally:
        _set_recording(recording)
        thaw_all()
    return grads


def with_message(error: Exception, text: str) -> Exception | None:
    """An exception of `error`'s type whose message is `text`; None if the type is built
    from other arguments (or words its message otherwise)."""
    try:
        renamed = type(error)(text)
    except Exception:  # an exception type with another constructor signature
        return None
    return renamed if str(renamed) == text else None


def _backward_error(node: Value, error: Exception) -> Exception:
    """An error a rule raised during backward, naming the operation being differentiated
    ("backward through det: inv: Singular matrix"); `error` itself if it says already."""
    text = str(error)
    if text.startswith("backward"):
        return error
    return with_message(error, f"backward through {node._op.name}: {text}") or error


def _refuse_released(argnums: Any, g: Any, out: Any, *args: Any, **params: Any) -> Any:
    raise RuntimeError(
        "backward through a graph that an earlier backward(release_graph=True) released: "
        "its operations have let go of their inputs. Recompute the output, or leave "
        "release_graph out where the graph is needed again."
    )


# What a node's operation becomes once backward(release_graph=True) has used it.
RELEASED = Primitive(_refuse_released, name="released").defvjp_argnums(_refuse_released)


def _release(node: Value) -> None:
    """Cut a used node loose from its inputs (its own data stays)."""
    node._op = RELEASED
    node._inputs = ()
    node._a = node._b = None
    node._raw = node._params = None
    if node._residuals is not None:
        node._residuals = None


def _accumulate(grads: dict[Value, Any], pending: list[tuple[int, Value]], parent: Value,
                cotangent: Any) -> None:
    """grads[parent] += cotangent, fitted to the parent's shape and dtype (an operation
    node reached for the first time joins the pending ones)."""
    cotangent = fit(cotangent, parent._data)
    previous = grads.get(parent)
    if previous is not None:
        grads[parent] = previous + cotangent
        return
    grads[parent] = cotangent
    if parent._op is not None:
        heappush(pending, (-parent._id, parent))


def _apply_argnums_rule(grads: dict[Value, Any], pending: list[tuple[int, Value]],
                        args: Sequence[Any], op: Primitive, g: Any, out: Any, inputs: Any,
                        params: dict[str, Any] | None) -> None:
    argnums = tuple(i for i, a in enumerate(args) if type(a) is Value and a.requires_grad)
    if op.vjp_argnums is None:
        raise NotImplementedError(
            f"{op.name}: no VJP rule defined; give one with {op.name}.defvjp(...)"
        )
    params = params or {}
    cotangents = op.vjp_argnums(argnums, g, out, *inputs, **params)
    if isinstance(cotangents, (dict, set, frozenset)):
        raise TypeError(
            f"{op.name}: its defvjp_argnums rule must return a sequence of {len(argnums)} "
            f"cotangents, in the order of argnums {argnums}; it returned a "
            f"{type(cotangents).__name__}"
        )
    if type(cotangents) is not list and type(cotangents) is not tuple:
        if cotangents is None or isinstance(cotangents, (np.ndarray, Value, str)) \
                or not hasattr(cotangents, "__iter__"):
            cotangents = [cotangents]  # (named below: one where several belong)
        else:
            cotangents = list(cotangents)  # a generator
    if len(cotangents) != len(argnums):
        raise TypeError(
            f"{op.name}: its defvjp_argnums rule must return {len(argnums)} cotangents, one "
            f"for each of argnums {argnums} (None for no gradient); it returned "
            f"{_short_description(cotangents)}"
        )
    higher = isinstance(g, Value)  # (create_graph)
    for argnum, cotangent in zip(argnums, cotangents, strict=True):
        if cotangent is not None:
            if higher and not isinstance(cotangent, Value):
                _refuse_plain_cotangent(op.name, cotangent)
            _accumulate(grads, pending, args[argnum], cotangent)


def _short_description(cotangents: list[Any]) -> str:
    if len(cotangents) == 1 and not isinstance(cotangents[0], (tuple, list)):
        one = cotangents[0]
        return "None" if one is None else f"one {type(one).__name__}" + (
            f" of shape {np.shape(raw(one))}" if hasattr(one, "shape") else "")
    return f"a sequence of {len(cotangents)}"


def _refuse_plain_cotangent(name: str, cotangent: Any) -> None:
    """With create_graph, a rule given a Value cotangent returned plain nonzero numbers: it
    read the data (`raw`, `.data`) and its result no longer depends on the cotangent or the
    inputs, so every higher derivative through it would be silently 0. (Plain zeros, a
    constant derivative of 0, are fine.)"""
    if isinstance(cotangent, (np.ndarray, np.generic, float, int, complex)) and \
            not np.any(cotangent != 0):
        return
    raise TypeError(
        f"backward(create_graph=True) through {name}: its VJP rule returned plain numbers "
        f"({type(cotangent).__name__}), not a Value, so higher derivatives through it (and "
        "jvp, hessian, grad of grad) would be silently 0. Write the rule with autodiff's "
        "operations on its arguments (they are Values here), not on their .data or raw()"
    )


def _refuse_missing_rules(node: Value, rules: tuple[Any, ...]) -> None:
    for argnum in range(len(rules), len(node._args)):
        parent = node._args[argnum]
        if type(parent) is Value and parent.requires_grad:
            name = node._op.name
            raise NotImplementedError(
                f"{name}: no VJP rule for argument {argnum} (it has {len(rules)} rule(s)); "
                f"differentiating through it needs {name}.defvjp(...) with a rule at position "
                f"{argnum}, or None there if it is not differentiable"
            )


# --------------------------------------------------------------------------- backward


_grad_lock = threading.Lock()  # accumulation into .grad is atomic across threads


def backward(root: Value, grad: Any = None, create_graph: bool = False, *,
             intermediate_grads: bool = True, release_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's `.grad` (the chain rule, in reverse).

    A one-element output is seeded with 1; a larger one needs `grad`, its cotangent.
    Leaves accumulate across calls; intermediates hold this pass's gradient (unless
    `intermediate_grads=False`, which leaves them untouched: less memory for training).
    `release_graph=True` (training) also frees the graph as the pass goes: each operation
    lets go of its inputs once used, so activations do not outlive backward (nor survive
    into the optimiser's step); intermediates get no gradient, and backward through the
    same graph again raises. With `create_graph=True` the gradients are Values that can
    be differentiated again. Every Value gets a gradient array of its own.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a Value that does not require grad (a constant, a detached "
            "Value, or one computed under no_grad())"
        )
    grads = backprop(root, grad, create_graph=create_graph, release=release_graph)
    # A leaf's .grad is always an array of its own: copied if the pass shares it with
    # another node (add passes its cotangent on unchanged), with the caller's seed, or if it
    # is a view or read-only. Intermediates' arrays, a read-out of this pass, are not copied.
    shared = None
    leaves: list[tuple[Value, Any]] = []
    keep = intermediate_grads and not release_graph
    with _grad_lock:
        for node, g in grads.items():
            if node._op is not None:
                if keep:
                    if g is grad and type(g) is _ndarray:
                        g = g.copy()  # the caller's own seed array: not shared with it
                    node.grad = g if type(g) is not _ndarray or g.ndim else g[()]
                continue
            if type(g) is np.ndarray:
                if not g.ndim:
                    g = g[()]  # 0-d: a numpy scalar of the data's dtype
                else:
                    if shared is None:  # how many nodes hold each array, and the seed
                        shared = Counter(map(id, grads.values()))
                        shared[id(grad)] += 2
                    if shared[id(g)] > 1 or g.base is not None or not g.flags.writeable:
                        g = g.copy()
            leaves.append((node, g))
        # Leaves accumulate; all sums are formed before any is stored, so a refused one
        # leaves every .grad as it was.
        sums = [(leaf, g if leaf.grad is None else _accumulated(leaf, g)) for leaf, g in leaves]
        for leaf, g in sums:
            leaf.grad = g


def _accumulated(leaf: Value, g: Any) -> Any:
    """leaf.grad + g; a .grad of another shape (the data was replaced by one of another
    shape since, or .grad was set by hand) is refused: it would broadcast."""
    old_shape, new_shape = getattr(leaf.grad, "shape", ()), getattr(g, "shape", ())
    if old_shape != new_shape:
        label = repr(leaf.name) if leaf.name else "a Value"
        raise ValueError(
            f"backward: {label} has a .grad of shape {old_shape} but its gradient now has "
            f"shape {new_shape} (was its data replaced by one of another shape?): set "
            ".grad = None (zero_grad) first"
        )
    return leaf.grad + g
