"""The float64 scalar path: micrograd-style code, kept to the engine's guarantees.

Scalar code (a neuron's `w * x + b`, a loss written with Python floats) builds graphs of
many tiny nodes, where the generic machinery (`Primitive.__call__`, a rule call per edge,
a dict of cotangents) costs far more than the arithmetic. This module gives Value's
operators a path for the case where every operand is a Python float or a Value holding
one, and `backward` a loop for graphs made only of such nodes:

* Forward: `x * y` computes `x._data * y._data` directly and records an ordinary node
  (the op table's own primitive, its arguments, their data), exactly what the generic path
  records, so explain, draw, create_graph, the transforms and the stale-graph checks see no
  difference. A float or int constant is stored in the node as it is, never wrapped.
* Backward: one reverse loop with one branch per operation, writing gradients straight
  into `.grad`. Each branch restates its operation's VJP rule from the op table; a test
  checks every branch against the table's rule (tests/test_scalar_path.py).

Anything else (arrays, a 0-d float32, complex, a custom primitive, `create_graph=True`, a
`grad=` seed) takes the generic path, and a graph mixing both kinds of node is handled by
the generic `backprop`, so this module only ever makes things faster, never different.
"""

from __future__ import annotations

import math
import operator as _operator
from typing import Any

import numpy as np

from . import ops
from . import value as _value
from .engine import (
    _REAL_DTYPES,
    _accumulated,
    _creation_order,
    _grad_lock,
    _not_recording,
    _refuse_stale,
    _state,
)
from .engine import backward as _generic_backward
from .value import Value, freeze, init_node, thaw_all

__all__ = ["backward"]

ADD, SUBTRACT, MULTIPLY, DIVIDE = ops.add, ops.subtract, ops.multiply, ops.divide
NEGATIVE, POWER, RELU, TANH = ops.negative, ops.power, ops.relu, ops.tanh
EXP, LOG, SIGMOID = ops.exp, ops.log, ops.sigmoid

# The operations `backward`'s loop has a branch for.
SCALAR_OPS = frozenset((ADD, SUBTRACT, MULTIPLY, DIVIDE, NEGATIVE, POWER, RELU, TANH, EXP,
                        LOG, SIGMOID))

_exp, _log, _sigmoid = EXP.forward, LOG.forward, SIGMOID.forward
_divide, _power = DIVIDE.forward, POWER.forward


# --------------------------------------------------------------------------- forward
#
# The hottest code of scalar programs: each operator computes on the floats directly and
# records the node itself (no `Primitive.__call__`).

_new = object.__new__
_tick = _value.tick
_ONE_OPERAND = _value.ONE_OPERAND
_float64 = np.float64
_ndarray = np.ndarray


def _binary(op: Any, compute: Any, reflected: bool) -> Any:
    """The operator `self ∘ other` (`other ∘ self` if reflected) with the scalar path and
    the lean array path; anything else goes to the primitive itself."""
    generic = op.__call__

    def operator(self: Value, other: Any) -> Value:
        x = self._data
        kind = type(other)
        if type(x) is float:
            # The hot cases first, each with as few tests as it needs: a Value holding a
            # float, then a float constant (folded into the node, never wrapped).
            if kind is Value:
                y = other._data
                if type(y) is not float or reflected:
                    return generic(other, self) if reflected else generic(self, other)
                tracked = self.requires_grad or other.requires_grad
            elif kind is float or kind is int:
                y = other
                tracked = self.requires_grad
            elif kind is _float64:  # (it would make the result one too: folded as a float)
                y = other = float(other)
                tracked = self.requires_grad
            else:
                return _generic_call(generic, self, other, reflected)
            try:
                data = compute(y, x) if reflected else compute(x, y)
            except (ZeroDivisionError, OverflowError):  # numpy's answer instead
                return generic(other, self) if reflected else generic(self, other)
            raw_args = None  # (immutable floats: read from the arguments, see init_node)
        elif type(x) is _ndarray and x.ndim and x.dtype in _REAL_DTYPES:
            # The lean array path: a float constant, or an operand of the same shape and
            # dtype, so no broadcasting and no conversion to check (numpy's warnings and
            # answers, as the generic path).
            if kind is float or kind is int:
                y = other
                tracked = self.requires_grad
            elif kind is Value and type(other._data) is _ndarray and \
                    other._data.shape == x.shape and other._data.dtype is x.dtype:
                y = other._data
                tracked = self.requires_grad or other.requires_grad
            else:
                return _generic_call(generic, self, other, reflected)
            data = compute(y, x) if reflected else compute(x, y)
            raw_args = (y, x) if reflected else (x, y)
        else:
            return _generic_call(generic, self, other, reflected)
        if not tracked or (_not_recording[0] and not _state.recording):
            return init_node(_new(Value), data, False)
        if raw_args is not None:  # arrays: leaf arrays the graph reads are guarded
            if self._op is None and not self._frozen:
                freeze(self)
            if kind is Value and other._op is None and not other._frozen:
                freeze(other)
        # `operation_node`, inlined: the call costs an eighth of a scalar program's forward
        node = _new(Value)
        node._data = data
        node.grad = node._params = None
        node.requires_grad = True
        node._op = op
        if raw_args is None:  # a scalar node: its operands in two slots, no tuple
            node._inputs = None
            if reflected:
                node._a = other
                node._b = self
            else:
                node._a = self
                node._b = other
        else:
            node._inputs = (other, self) if reflected else (self, other)
        node._raw = raw_args
        node._id = _tick()
        return node

    operator.__name__ = f"__{'r' if reflected else ''}{op.name}__"
    return operator


def _generic_call(generic: Any, self: Value, other: Any, reflected: bool) -> Value:
    """The operator by the primitive itself, a list or tuple operand read as numpy reads it."""
    other = as_operand(other)
    return generic(other, self) if reflected else generic(self, other)


def as_operand(x: Any) -> Any:
    """A list or tuple operand as the array numpy reads it (a constant); anything else as it
    is. A sequence holding Values is left for the operation to refuse by name."""
    if (type(x) is list or type(x) is tuple) and not any(isinstance(p, Value) for p in x):
        return np.asarray(x)
    return x


def _unary(op: Any, compute: Any) -> Any:
    """The operation `op(self)` with the scalar path."""
    generic = op.__call__

    def operator(self: Value) -> Value:
        x = self._data
        if type(x) is not float:
            return generic(self)
        if not (self.requires_grad and (not _not_recording[0] or _state.recording)):
            return init_node(_new(Value), compute(x), False)
        node = _new(Value)  # (`operation_node`, inlined as in `_binary`)
        node._data = compute(x)
        node.grad = node._raw = node._params = node._inputs = None
        node.requires_grad = True
        node._op = op
        node._a = self
        node._b = _ONE_OPERAND
        node._id = _tick()
        return node

    operator.__name__ = op.name
    return operator


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x


OPERATORS: dict[str, Any] = {
    "__add__": _binary(ADD, _operator.add, False),
    "__radd__": _binary(ADD, _operator.add, True),
    "__sub__": _binary(SUBTRACT, _operator.sub, False),
    "__rsub__": _binary(SUBTRACT, _operator.sub, True),
    "__mul__": _binary(MULTIPLY, _operator.mul, False),
    "__rmul__": _binary(MULTIPLY, _operator.mul, True),
    "__truediv__": _binary(DIVIDE, _operator.truediv, False),
    "__rtruediv__": _binary(DIVIDE, _operator.truediv, True),
    "__pow__": _binary(POWER, _power, False),  # (numpy's answer where ** would raise)
    "__neg__": _unary(NEGATIVE, _operator.neg),
    "relu": _unary(RELU, _relu),
    "tanh": _unary(TANH, math.tanh),
    "exp": _unary(EXP, _exp),
    "log": _unary(LOG, _log),
    "sigmoid": _unary(SIGMOID, _sigmoid),
}


# --------------------------------------------------------------------------- backward

# What `.grad` holds during a scalar pass for a Value the pass has reached and no cotangent
# has yet: the mark doubles as the "seen" test of the graph walk (no dict of seen nodes).
_REACHED = type("Reached", (), {"__slots__": (), "__repr__": lambda self: "<reached>"})()


def backward(root: Value, grad: Any = None, create_graph: bool = False, *,
             intermediate_grads: bool = True, release_graph: bool = False) -> None:
    if (grad is None and not create_graph and not release_graph and type(root) is Value
            and root._op in SCALAR_OPS and root.requires_grad and type(root._data) is float):
        with _grad_lock:
            done = _scalar_backward(root, intermediate_grads)
        if done:
            thaw_all()
            return
    _generic_backward(root, grad, create_graph, intermediate_grads=intermediate_grads,
                      release_graph=release_graph)


backward.__doc__ = _generic_backward.__doc__


class _Pass:
    """The Values one scalar pass reached (their `.grad` set to `_REACHED`) and the
    gradients they held before it."""

    __slots__ = ("earlier", "leaves", "nodes", "previous")

    def __init__(self) -> None:
        self.nodes: list[Value] = []  # operation nodes, the root first
        self.leaves: list[Value] = []
        self.previous: list[tuple[Value, Any]] = []  # operation nodes' gradients before
        self.earlier: list[tuple[Value, Any]] = []  # leaves' gradients before

    def undo(self) -> None:
        """Every reached Value's `.grad` back to what it was before the pass."""
        for value in self.nodes:
            value.grad = None
        for value in self.leaves:
            value.grad = None
        for value, old in self.previous:
            value.grad = old
        for value, old in self.earlier:
            value.grad = old


def _reach(root: Value, reached: _Pass) -> bool:
    """Mark the tracked Values `root` depends on as reached and list them in `reached`,
    operation nodes newest first (an order in which every node comes after all the nodes
    computed from it). False, with nothing marked, if some tracked Value does not hold a
    Python float, some operation has no branch in `_reverse_loop`, or some constant is not a
    Python number."""
    nodes, leaves = reached.nodes, reached.leaves
    mark, scalar_ops, one = _REACHED, SCALAR_OPS, _ONE_OPERAND
    if root.grad is not None:
        reached.previous.append((root, root.grad))
    root.grad = mark
    nodes.append(root)
    stack = [root]
    while stack:
        node = stack.pop()
        if node._op not in scalar_ops or type(node._data) is not float:
            reached.undo()
            return False
        if node._inputs is not None:  # recorded by the generic path (`ops.tanh(x)`)
            _into_slots(node)
        parent, second = node._a, node._b  # (a loop over both without a tuple)
        while True:
            kind = type(parent)
            if kind is Value:
                old = parent.grad
                if old is not mark and parent.requires_grad:
                    if parent._op is not None:
                        stack.append(parent)
                        nodes.append(parent)
                        if old is not None:
                            reached.previous.append((parent, old))
                    else:
                        if type(parent._data) is not float:
                            reached.undo()
                            return False
                        leaves.append(parent)
                        if old is not None:
                            reached.earlier.append((parent, old))
                    parent.grad = mark
            elif kind is not float and kind is not int and parent is not one:
                reached.undo()  # a constant of another type
                return False
            if second is one:
                break
            parent, second = second, one
    nodes.sort(key=_creation_order, reverse=True)
    return True


def _into_slots(node: Value) -> None:
    """Move a scalar operation's one or two arguments from its tuple into `_a` and `_b`,
    where `_reverse_loop` reads them (the node's `_args` stay the same)."""
    args = node._inputs
    assert args is not None
    node._a = args[0]
    node._b = args[1] if len(args) == 2 else _ONE_OPERAND
    node._inputs = None


def takes_scalar_path(root: Value) -> bool:
    """True if `root.backward()` would run the scalar loop (changes nothing)."""
    reached = _Pass()
    try:
        return _reach(root, reached)
    finally:
        reached.undo()


def _scalar_backward(root: Value, intermediate_grads: bool) -> bool:
    """The scalar pass, gradients written into `.grad`; False (nothing changed) if the graph
    is not made only of scalar nodes. The caller holds `_grad_lock`.

    Leaves that held a gradient get old + this pass's sum at the end (the sum associated as
    in the generic path and in PyTorch); intermediates get this pass's gradient, or keep
    their old one with `intermediate_grads=False`."""
    reached = _Pass()
    nodes = reached.nodes
    try:
        if not _reach(root, reached):
            return False
        if _value.last_write[0] > nodes[-1]._id:
            _refuse_stale(nodes)  # some Value was written after this graph began
        root.grad = 1.0
        _reverse_loop(nodes)
    except BaseException:
        reached.undo()
        raise
    mark = _REACHED
    for leaf in reached.leaves:
        if leaf.grad is mark:
            leaf.grad = None
    earlier = reached.earlier
    for leaf, old in earlier:
        if type(old) is not float and getattr(old, "shape", ()) != () \
                and leaf.grad is not None:
            g = leaf.grad  # a .grad of another shape (set by hand, or the data replaced)
            reached.undo()
            _accumulated(leaf, g)  # refuses it, as the generic path: it would broadcast
    for leaf, old in earlier:
        leaf.grad = old if leaf.grad is None else old + leaf.grad
    if not intermediate_grads:
        for node in nodes:
            node.grad = None
        for node, old in reached.previous:
            node.grad = old
    return True


def _reverse_loop(nodes: list[Value]) -> None:
    """One branch per operation: each restates the VJP rule declared in the op table
    (`x.grad` accumulates `g · ∂out/∂x`, starting from the mark `_REACHED`; constants and
    Values not requiring grad get nothing)."""
    mark = _REACHED
    for node in nodes:
        g = node.grad
        if g is mark:  # no cotangent reached it
            node.grad = None
            continue
        op = node._op
        if op is MULTIPLY:
            x = node._a
            y = node._b
            if type(x) is Value:
                a = x._data
                if type(y) is Value:
                    b = y._data
                    if x.requires_grad:
                        c = g * b
                        x.grad = c if x.grad is mark else x.grad + c
                    if y.requires_grad:
                        c = g * a
                        y.grad = c if y.grad is mark else y.grad + c
                elif x.requires_grad:
                    c = g * y
                    x.grad = c if x.grad is mark else x.grad + c
            elif y.requires_grad:
                c = g * x
                y.grad = c if y.grad is mark else y.grad + c
        elif op is ADD:
            x = node._a
            y = node._b
            if type(x) is Value and x.requires_grad:
                x.grad = g if x.grad is mark else x.grad + g
            if type(y) is Value and y.requires_grad:
                y.grad = g if y.grad is mark else y.grad + g
        elif op is RELU:
            x = node._a
            if not x.requires_grad:
                continue
            c = g * (x._data > 0.0)
            x.grad = c if x.grad is mark else x.grad + c
        elif op is SUBTRACT:
            x = node._a
            y = node._b
            if type(x) is Value and x.requires_grad:
                x.grad = g if x.grad is mark else x.grad + g
            if type(y) is Value and y.requires_grad:
                c = -g
                y.grad = c if y.grad is mark else y.grad + c
        elif op is TANH:
            x = node._a
            if not x.requires_grad:
                continue
            out = node._data
            c = g * (1 - out * out)
            x.grad = c if x.grad is mark else x.grad + c
        elif op is DIVIDE:
            x = node._a
            y = node._b
            b = y._data if type(y) is Value else y
            if type(x) is Value and x.requires_grad:
                c = _divide(g, b)
                x.grad = c if x.grad is mark else x.grad + c
            if type(y) is Value and y.requires_grad:
                c = _divide(-g * node._data, b)
                y.grad = c if y.grad is mark else y.grad + c
        elif op is NEGATIVE:
            x = node._a
            if not x.requires_grad:
                continue
            c = -g
            x.grad = c if x.grad is mark else x.grad + c
        elif op is POWER:
            x = node._a
            y = node._b
            a = x._data if type(x) is Value else x
            b = y._data if type(y) is Value else y
            if type(x) is Value and x.requires_grad:
                c = _power(a, b - 1)
                c = 0.0 * g if b == 0 and not math.isfinite(c) else g * b * c
                x.grad = c if x.grad is mark else x.grad + c
            if type(y) is Value and y.requires_grad:
                c = g * node._data * _log(1.0 if a == 0 else float(a))
                y.grad = c if y.grad is mark else y.grad + c
        elif op is EXP:
            x = node._a
            if not x.requires_grad:
                continue
            c = g * node._data
            x.grad = c if x.grad is mark else x.grad + c
        elif op is LOG:
            x = node._a
            if not x.requires_grad:
                continue
            c = _divide(g, x._data)
            x.grad = c if x.grad is mark else x.grad + c
        else:  # SIGMOID
            x = node._a
            if not x.requires_grad:
                continue
            out = node._data
            c = g * out * (1 - out)
            x.grad = c if x.grad is mark else x.grad + c
