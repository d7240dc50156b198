"""Functional transforms over plain functions: grad, value_and_grad, vjp, jvp, jacobian,
hessian. They are thin layers over one reverse pass (`backprop`).

A function given to them is written with Value-aware code (Value methods, operators and
`autodiff` functions). Every call traces fresh inputs: a new leaf for a number or an
array, and a new node over a Value that requires grad (so a Value that is also reached
through a closure is told apart from the argument: no perturbation confusion).

Each running transform is one level on a per-thread record (`transform_depth`). A
transform called inside another one, or with Values that require grad, differentiates
with `create_graph=True` and returns Values connected to the outer graph, so the outer
transform differentiates through it (`grad(lambda x: x * grad(lambda y: x * y)(1.0))`).
Called at the top level with numbers or arrays, it returns plain numpy results.

Dask: a function may close over Dask arrays (or take them as arguments); its graph stays
lazy. A gradient comes back in its argument's kind: a Dask argument gets a lazy Dask
gradient, a numpy (or number) argument a numpy one, all such gradients of one call computed
by a single `dask.compute` (one pass over the data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .backend import compute, is_dask, is_duck
from .engine import backprop, primitive, reachable_nodes, transform_depth, transform_scope
from .ops import stack
from .value import Value, as_data, raw, tick

__all__ = ["grad", "hessian", "jacobian", "jvp", "value_and_grad", "vjp"]


@primitive(name="trace_input")
def _trace_input(x: Any) -> Any:
    """x itself, as a new node: a transform's argument  ·  the gradient passes through"""
    return x


_trace_input.defvjp(lambda g, out, x: g)


def _is_traced(x: Any) -> bool:
    return isinstance(x, Value) and x.requires_grad


def _trace_inputs(args: Sequence[Any], name: str) -> list[Value]:
    """Fresh Values to differentiate with respect to, one per argument (data that is not
    numbers is refused naming the transform and the argument)."""
    return [_trace_input(a) if _is_traced(a) else
            Value(as_data(raw(a), caller=f"{name}: argument {i}")) for i, a in enumerate(args)]


def _zeros_like(x: Value) -> Any:
    data = x._data
    if type(data) is float:
        return 0.0
    return np.zeros_like(data) if is_duck(data) else np.zeros(x.shape, dtype=x.dtype)


def _in_kind(cotangents: list[Any], inputs: list[Value]) -> list[Any]:
    """Lazy (Dask) cotangents of inputs that are not lazy themselves, computed together by
    one dask.compute: a gradient comes back in its argument's kind."""
    eager = [i for i, (c, x) in enumerate(zip(cotangents, inputs, strict=True))
             if type(c) is not np.ndarray and type(c) is not float and is_dask(c)
             and not is_dask(x._data)]
    if not eager:
        return cotangents
    done = compute(*(cotangents[i] for i in eager))
    cotangents = list(cotangents)
    for i, c in zip(eager, done, strict=True):
        cotangents[i] = float(c) if type(inputs[i]._data) is float else c
    return cotangents


def _as_result(x: Any, nested: bool) -> Any:
    return x if nested else raw(x)


def _trace(f: Callable[..., Any], args: Sequence[Any], name: str,
           kwargs: dict[str, Any] | None = None) -> tuple[Value, list[Value], bool]:
    """Run f on fresh traced inputs: (output as a Value, inputs, nested). `name`: the
    transform, for the error when f returns something that is not an array. `kwargs` go to
    f as they are, not differentiated (as in JAX)."""
    kwargs = kwargs or {}
    nested = (transform_depth() > 0 or any(_is_traced(a) for a in args)
              or any(_is_traced(a) for a in kwargs.values()))
    start = tick()  # Values made from here on are f's own
    with transform_scope():
        inputs = _trace_inputs(args, name)
        out = f(*inputs, **kwargs)
    if not nested and isinstance(out, Value) and out.requires_grad:
        nested = _closes_over_tracked(out, start)
    if not isinstance(out, Value):
        try:  # a constant output (a number or an array): zero derivatives
            out = Value(out, requires_grad=False)
        except TypeError:
            raise TypeError(
                f"{name}: f must return a Value or an array of numbers; it returned "
                f"{type(out).__name__} {_short(out)}. Transforms differentiate one output: "
                "return one Value (combine several, e.g. with np.stack, or take them one at "
                "a time)"
            ) from None
    return out, inputs, nested


def _closes_over_tracked(out: Value, start: int) -> bool:
    """True if `out` depends on a leaf that requires grad made before f ran (`start`): one f
    closes over, to which the results must stay connected, as Values."""
    return any(v._op is None and v._id < start for v in reachable_nodes(out))


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _pullback(out: Value, inputs: list[Value], nested: bool,
              create_graph: bool = False, keep_lazy: bool = False) -> Callable[..., Any]:
    """g ↦ d⟨g, out⟩/d(input) for each input (zeros where out does not depend on it); with
    `keep_lazy`, lazy cotangents of eager inputs are left for the caller to compute."""

    def vjp_fn(g: Any) -> tuple[Any, ...]:
        higher = create_graph or nested or _is_traced(g)
        if not out.requires_grad:
            cotangents = [_zeros_like(x) for x in inputs]
        else:
            with transform_scope():
                grads = backprop(out, g, create_graph=higher, wrt=inputs)
            cotangents = [grads.get(x, _zeros_like(x)) for x in inputs]
            if not higher and not keep_lazy:
                cotangents = _in_kind(cotangents, inputs)
        return tuple(_as_result(c, higher) for c in cotangents)

    return vjp_fn


def vjp(f: Callable[..., Any], *args: Any) -> tuple[Any, Callable[..., Any]]:
    """(f(*args), vjp_fn) where vjp_fn(g) = gᵀ ∂f/∂args, one cotangent per argument."""
    out, inputs, nested = _trace(f, args, "vjp")
    return _as_result(out, nested), _pullback(out, inputs, nested)


def _argnums(name: str, argnum: Any, argnums: Any) -> int | tuple[int, ...]:
    if argnums is not None:
        if argnum != 0:
            raise TypeError(f"{name}: give argnum or argnums, not both")
        argnum = argnums
    if isinstance(argnum, (list, tuple)):
        if not all(_is_int(a) for a in argnum):
            raise TypeError(f"{name}: argnums must be ints; got {argnum!r}")
        return tuple(int(a) for a in argnum)
    if not _is_int(argnum):
        raise TypeError(f"{name}: argnum must be an int or a tuple of ints; got {argnum!r}")
    return int(argnum)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _check_argnums(name: str, argnum: int | tuple[int, ...], count: int) -> None:
    for a in argnum if isinstance(argnum, tuple) else (argnum,):
        if not -count <= a < count:
            raise ValueError(
                f"{name}: argnum {a} is out of range: f was called with {count} positional "
                f"argument{'s' if count != 1 else ''} (valid: {-count}..{count - 1})"
            )


def value_and_grad(f: Callable[..., Any], argnum: int | Sequence[int] = 0, *,
                   argnums: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """x ↦ (f(x), ∇f(x)) for a scalar-valued f; `argnum` (or `argnums`) picks the
    argument(s): an int gives one gradient, a tuple a tuple of them. Keyword arguments go
    to f undifferentiated."""
    which = _argnums("grad", argnum, argnums)

    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        _check_argnums("grad", which, len(args))
        out, inputs, nested = _trace(f, args, "grad", kwargs)
        if out.size != 1:
            raise ValueError(
                f"grad: f must return one element; it returned shape {out.shape} "
                "(use jacobian or vjp for vector outputs)"
            )
        cotangents = _pullback(out, inputs, nested)(None)
        if isinstance(which, int):
            return _as_result(out, nested), cotangents[which]
        return _as_result(out, nested), tuple(cotangents[i] for i in which)

    return value_and_gradient


def grad(f: Callable[..., Any], argnum: int | Sequence[int] = 0, *,
         argnums: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """x ↦ ∇f(x) for a scalar-valued f, with the shape and dtype of x."""
    value_and_gradient = value_and_grad(f, argnum, argnums=argnums)

    def gradient(*args: Any, **kwargs: Any) -> Any:
        return value_and_gradient(*args, **kwargs)[1]

    return gradient


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(x), ∂f/∂x · t): forward-mode directional derivative.

    Computed by transposing the VJP, which is linear in its cotangent u:
    ∂f·t = ∂/∂u ⟨vjp(u), t⟩.
    """
    primals, tangents = _arguments("primals", primals), _arguments("tangents", tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for i, (p, t) in enumerate(zip(primals, tangents, strict=True)):
        if not isinstance(t, Value):
            as_data(t, caller=f"jvp: tangent {i}")  # numbers, or a clear error
        if np.shape(raw(p)) != np.shape(raw(t)):
            raise ValueError(
                f"jvp: tangent {i} has shape {np.shape(raw(t))} but its primal has shape "
                f"{np.shape(raw(p))}"
            )
        if np.iscomplexobj(raw(t)) and not np.iscomplexobj(raw(p)):
            raise ValueError(
                f"jvp: tangent {i} is complex but its primal is real: a real argument moves "
                "along real directions only (the imaginary part would be dropped). Make the "
                "primal complex (x + 0j) to differentiate along complex directions"
            )
    out, inputs, nested = _trace(f, primals, "jvp")
    nested = nested or any(_is_traced(t) for t in tangents)
    with transform_scope():
        # Any u will do (the VJP is linear in it); ones, not zeros, so that a rule that
        # reads plain data (and so cuts the dependence on u) shows, and is refused by name.
        u = Value(_zeros_like(out) + 1)
        cotangents = _pullback(out, inputs, nested, create_graph=True)(u)
        pairing = Value(0.0, requires_grad=False)
        for c, t in zip(cotangents, tangents, strict=True):
            if isinstance(c, Value):
                if c.dtype.kind == "c":  # Re⟨c, t̄⟩: the real pairing (a real t of a complex
                    # primal is a direction along the real axis)
                    term = (c * np.conj(t)).sum()
                    term = term.astype(np.float64) if term.dtype.kind == "c" else term
                else:
                    term = (c * t).sum()
                pairing = pairing + term
    if not pairing.requires_grad:
        return _as_result(out, nested), _as_result(Value(_zeros_like(out)), nested)
    with transform_scope():
        tangent_out = backprop(pairing, None, create_graph=nested, wrt=[u]).get(u)
    if tangent_out is None:
        tangent_out = _zeros_like(out)
    return _as_result(out, nested), _as_result(tangent_out, nested)


def _arguments(what: str, xs: Any) -> tuple[Any, ...]:
    """jvp's primals or tangents as a tuple: one entry per argument of f."""
    if not isinstance(xs, (tuple, list)):
        raise TypeError(
            f"jvp: {what} must be a tuple or list with one entry per argument of f; got "
            f"{type(xs).__name__} (for a function of one argument x, write (x,))"
        )
    return tuple(xs)


def jacobian(f: Callable[..., Any], argnum: int | Sequence[int] = 0, *,
             argnums: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """x ↦ ∂f/∂x, of shape f(x).shape + x.shape (one reverse pass per output element);
    `argnum` (or `argnums`) as for `grad`: a tuple gives a tuple of Jacobians. Keyword
    arguments go to f undifferentiated. A complex output is refused (as in PyTorch and
    JAX): its Jacobian is not one real-linear map per element."""
    which = _argnums("jacobian", argnum, argnums)

    def jacobian_at(*args: Any, **kwargs: Any) -> Any:
        _check_argnums("jacobian", which, len(args))
        out, inputs, nested = _trace(f, args, "jacobian", kwargs)
        if out.dtype.kind == "c":
            raise ValueError(
                f"jacobian: f returned a complex output ({out.dtype}, shape {out.shape}); "
                "its Jacobian is not defined (as in PyTorch and JAX): take the Jacobians of "
                "its .real and .imag, or use jvp and vjp"
            )
        vjp_fn = _pullback(out, inputs, nested, keep_lazy=True)
        picked = which if isinstance(which, tuple) else (which,)
        rows: list[list[Any]] = [[] for _ in picked]
        for k in range(out.size):
            basis = np.zeros(out.size, dtype=out.dtype)
            basis[k] = 1
            cotangents = vjp_fn(basis.reshape(out.shape))
            for row, i in zip(rows, picked, strict=True):
                row.append(cotangents[i])
        if not nested:  # every row of every Jacobian in its argument's kind, by one compute
            flat = _in_kind([r for row in rows for r in row],
                            [inputs[i] for row, i in zip(rows, picked, strict=True)
                             for _ in row])
            rows = [flat[j * out.size:(j + 1) * out.size] for j in range(len(picked))]
        jacobians = tuple(_assembled(r, out.shape, inputs[i], nested)
                          for r, i in zip(rows, picked, strict=True))
        return jacobians if isinstance(which, tuple) else jacobians[0]

    return jacobian_at


def _assembled(rows: list[Any], out_shape: tuple[int, ...], x: Value, nested: bool) -> Any:
    """The Jacobian of shape out_shape + x.shape from its rows (one per output element)."""
    if not rows:  # a zero-size output: an empty Jacobian
        empty = np.zeros(out_shape + x.shape, dtype=x.dtype)
        return Value(empty, requires_grad=False) if nested else empty
    if nested:
        rows = [r if isinstance(r, Value) else Value(r, requires_grad=False) for r in rows]
        return stack(rows).reshape(out_shape + x.shape)
    if any(is_duck(r) for r in rows):  # a Dask argument: its Jacobian stays lazy
        return np.stack(rows).reshape(out_shape + x.shape)
    return np.stack([np.asarray(r) for r in rows]).reshape(out_shape + x.shape)


def hessian(f: Callable[..., Any], argnum: int | Sequence[int] = 0, *,
            argnums: int | Sequence[int] | None = None) -> Callable[..., Any]:
    """x ↦ ∂²f/∂x², of shape x.shape + x.shape, for a scalar-valued f; a tuple of argnums
    gives the blocks ((∂²f/∂x∂x, ∂²f/∂x∂y), (∂²f/∂y∂x, ∂²f/∂y∂y)), as in JAX."""
    which = _argnums("hessian", argnum, argnums)

    def hessian_at(*args: Any, **kwargs: Any) -> Any:
        _check_argnums("hessian", which, len(args))
        for i in which if isinstance(which, tuple) else (which,):
            if np.iscomplexobj(raw(args[i])):
                raise ValueError(
                    f"hessian: argument {i} is complex ({np.result_type(raw(args[i]))}); the "
                    "second derivatives of a real function of complex numbers are not one "
                    "complex matrix (as in PyTorch and JAX): pass the real and imaginary "
                    "parts as real arguments"
                )
        if isinstance(which, int):
            return jacobian(grad(f, which), which)(*args, **kwargs)
        return tuple(jacobian(grad(f, i), which)(*args, **kwargs) for i in which)

    return hessian_at
