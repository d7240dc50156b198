"""Scalar workloads: micrograd's moons-demo MLP (workload 1) and deep chains (workload 2).

Both contestants run the very same expression code below, written once against the
operators both `Value` classes share (+, *, relu), so they build identical graphs.
Run as `python -m benchmarks.scalar chain LIBRARY N REPEATS` it is the child process of
workload 2: a crash or RecursionError there cannot take the harness down.
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import Contestant, require, run_as_child

LAYERS = (2, 16, 16, 1)
POINTS = 16  # as in the speed issue's measurements: 10,979 scalar operations
ALPHA = 1e-4  # L2 weight of the demo's loss


# The scalar libraries workloads 1 and 2 race ("bare": the reference floor of
# `benchmarks.bare`, not a contestant).
LIBRARIES = ("autodiff", "micrograd", "bare")


def shown(library: str) -> str:
    """A library's name in the reports."""
    return "pure-Python floor (reference)" if library == "bare" else library


def value_class(library: str) -> type:
    """The scalar Value class of `library` ("autodiff", "micrograd", or "bare": the
    reference floor of `benchmarks.bare`)."""
    if library == "autodiff":
        return require("autodiff").Value
    if library == "micrograd":
        return require("micrograd.engine", "micrograd").Value
    if library == "bare":
        from .bare import Node

        return Node
    raise ValueError(f"unknown scalar library {library!r}")


def moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, n points, labels ±1 (the moons demo's data)."""
    rng = np.random.default_rng(seed)
    upper = n // 2
    angles = rng.uniform(0, math.pi, n)
    x = np.where(np.arange(n) < upper, np.cos(angles), 1 - np.cos(angles))
    y = np.where(np.arange(n) < upper, np.sin(angles), 0.5 - np.sin(angles))
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    labels = np.where(np.arange(n) < upper, -1.0, 1.0)
    return points, labels


def scalar_mlp(value: type, seed: int = 0) -> list[tuple[list[list[Any]], list[Any]]]:
    """Layers of (weights[j][i], biases[j]) as scalar Values, uniform(−1, 1) weights."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(LAYERS):
        weights = [[value(float(w)) for w in rng.uniform(-1, 1, n_in)] for _ in range(n_out)]
        layers.append((weights, [value(0.0) for _ in range(n_out)]))
    return layers


def parameters(layers) -> list[Any]:
    return [p for weights, biases in layers for row in weights for p in row] + [
        b for _, biases in layers for b in biases]


def moons_loss(layers, points: list[list[float]], labels: list[float]):
    """Mean hinge loss relu(1 − y·score) over the points + α Σ θ², scores from the MLP."""
    last = len(layers) - 1
    losses = []
    for point, label in zip(points, labels, strict=True):
        h = point
        for index, (weights, biases) in enumerate(layers):
            outputs = []
            for row, bias in zip(weights, biases, strict=True):
                total = bias
                for w, xi in zip(row, h, strict=True):
                    total = total + w * xi
                outputs.append(total.relu() if index < last else total)
            h = outputs
        losses.append((h[0] * -label + 1.0).relu())
    data_loss = losses[0]
    for term in losses[1:]:
        data_loss = data_loss + term
    data_loss = data_loss * (1.0 / len(losses))
    squares = [p * p for p in parameters(layers)]
    reg = squares[0]
    for term in squares[1:]:
        reg = reg + term
    return data_loss + reg * ALPHA


def count_ops(root) -> int:
    """Operations (non-leaf nodes) in an autodiff graph, through the public API."""
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().inputs:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sum(1 for node in seen if not node.is_leaf)


def mlp_contestant(library: str, gc_off: bool = False) -> Contestant:
    """Workload 1 for one library: build the loss graph, zero the grads, backward. With
    `gc_off`, Python's cyclic garbage collector is paused during the timed call (what it
    leaves, micrograd's reference cycles, is collected between calls)."""

    def make():
        value = value_class(library)
        layers = scalar_mlp(value)
        params = parameters(layers)
        points, labels = moons(POINTS)
        points, labels = points.tolist(), labels.tolist()
        zero = 0.0 if library == "micrograd" else None

        def step():
            loss = moons_loss(layers, points, labels)
            for p in params:
                p.grad = zero
            loss.backward()
            return loss

        if not gc_off:
            return step

        def step_without_gc():
            gc.disable()
            try:
                return step()
            finally:
                gc.enable()

        return step_without_gc

    return Contestant(f"{shown(library)}{' (GC off)' if gc_off else ''}", make)


def moons_op_count() -> int:
    value = value_class("autodiff")
    points, labels = moons(POINTS)
    return count_ops(moons_loss(scalar_mlp(value), points.tolist(), labels.tolist()))


# --------------------------------------------------------------------------- deep chains

CHAIN_FACTOR, CHAIN_STEP = 0.999999, 1e-6


def chain_once(value: type, n_ops: int) -> tuple[float, float]:
    """n_ops alternating y·c and y + d from one leaf, backward; returns (seconds, ∂y/∂x)."""
    start = time.perf_counter()
    x = value(0.5)
    y = x
    for i in range(n_ops):
        y = y * CHAIN_FACTOR if i % 2 == 0 else y + CHAIN_STEP
    y.backward()
    seconds = time.perf_counter() - start
    grad = float(x.grad)
    del y  # freeing the chain is part of surviving it, not of its time
    return seconds, grad


def _chain_child(library: str, n_ops: int, repeats: int) -> dict[str, Any]:
    value = value_class(library)
    times = []
    grad = None
    for _ in range(repeats):
        seconds, grad = chain_once(value, n_ops)
        times.append(seconds)
    expected = CHAIN_FACTOR ** ((n_ops + 1) // 2)
    return {"times": times, "grad_ok": bool(abs(grad - expected) <= 1e-9 * expected)}


def _limit_child(library: str, high: int) -> dict[str, Any]:
    """Largest chain length ≤ high whose backward succeeds (bisection, in this process)."""
    value = value_class(library)

    def survives(n):
        try:
            chain_once(value, n)
            return True
        except RecursionError:
            return False

    if survives(high):
        return {"limit": high, "bounded": False, "recursion_limit": sys.getrecursionlimit()}
    low = 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if survives(middle) else (low, middle)
    return {"limit": low, "bounded": True, "recursion_limit": sys.getrecursionlimit()}


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run `python -m benchmarks.scalar ARGS` and read its JSON; a crash becomes a record."""
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.scalar", *args], cwd=root,
            capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"survived": False, "reason": f"timed out after {timeout:.0f} s"}
    if done.returncode == 0:
        try:
            return {"survived": True, **json.loads(done.stdout.strip().splitlines()[-1])}
        except (ValueError, IndexError):
            pass
    lines = (done.stderr or done.stdout).strip().splitlines()
    last = lines[-1] if lines else ""
    if done.returncode < 0:
        reason = f"killed by signal {-done.returncode}"
    elif last.startswith("benchmarks.common.Missing") or "Missing:" in last:
        return {"survived": None, "missing": True, "reason": last.split(":", 1)[-1].strip()}
    else:
        reason = last or f"exit status {done.returncode}"
    return {"survived": False, "reason": reason[:300]}


def main(argv: list[str]) -> int:
    kind, library = argv[0], argv[1]
    if kind == "chain":
        result = _chain_child(library, int(argv[2]), int(argv[3]))
    elif kind == "limit":
        result = _limit_child(library, int(argv[2]))
    else:
        raise SystemExit(f"unknown child task {kind!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    run_as_child(main)
