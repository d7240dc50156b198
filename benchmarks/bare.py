"""The least a pure-Python scalar engine can cost: a reference for workloads 1 and 2.

`Node` is reverse-mode autodiff for `+`, `*` and `relu` on Python floats and nothing else:
one object per operation (the operands in slots, no tuple), an iterative walk, one reverse
loop that writes gradients straight into `.grad`. It has none of autodiff's guarantees
(no stale-graph checks, no dtypes, no numpy, no higher order, no thread-local no_grad, no
errors for bad input), so its time is a floor under any engine of Python objects, on this
interpreter and this machine: what a target stated as a multiple of micrograd allows.

It is a benchmark reference, not part of the library; tests check that its gradients equal
autodiff's on the moons loss (tests/test_benchmarks_smoke.py).
"""

from __future__ import annotations

import itertools
from typing import Any

ADD, MULTIPLY, RELU = 1, 2, 3

_new = object.__new__
_tick = itertools.count().__next__


class Node:
    """A float, its gradient, and the operation and operands that made it."""

    __slots__ = ("a", "b", "data", "grad", "key", "op")

    def __init__(self, data: float) -> None:
        self.data = float(data)
        self.grad = self.op = self.a = self.b = None
        self.key = _tick()

    def __add__(self, other: Any) -> Node:
        node = _new(Node)
        node.data = self.data + (other.data if type(other) is Node else other)
        node.grad = None
        node.op = ADD
        node.a = self
        node.b = other
        node.key = _tick()
        return node

    __radd__ = __add__

    def __mul__(self, other: Any) -> Node:
        node = _new(Node)
        node.data = self.data * (other.data if type(other) is Node else other)
        node.grad = None
        node.op = MULTIPLY
        node.a = self
        node.b = other
        node.key = _tick()
        return node

    __rmul__ = __mul__

    def relu(self) -> Node:
        node = _new(Node)
        x = self.data
        node.data = x if x > 0.0 else 0.0
        node.grad = None
        node.op = RELU
        node.a = self
        node.b = None
        node.key = _tick()
        return node

    def backward(self) -> None:
        """d(self)/d(leaf) added to every leaf's `.grad`; operation nodes get this pass's."""
        found = {self.key: self}
        stack = [self]
        while stack:
            node = stack.pop()
            for parent in (node.a, node.b):
                if type(parent) is Node and parent.op is not None and parent.key not in found:
                    found[parent.key] = parent
                    stack.append(parent)
        order = [found[key] for key in sorted(found, reverse=True)]
        for node in order:
            node.grad = None
        self.grad = 1.0
        for node in order:
            g = node.grad
            if g is None:
                continue
            a, b = node.a, node.b
            if node.op is MULTIPLY:
                if type(b) is Node:
                    c = g * b.data
                    a.grad = c if a.grad is None else a.grad + c
                    c = g * a.data
                    b.grad = c if b.grad is None else b.grad + c
                else:
                    c = g * b
                    a.grad = c if a.grad is None else a.grad + c
            elif node.op is ADD:
                a.grad = g if a.grad is None else a.grad + g
                if type(b) is Node:
                    b.grad = g if b.grad is None else b.grad + g
            elif a.data > 0.0:  # RELU
                a.grad = g if a.grad is None else a.grad + g
