"""Workload 8: the gradient of a logistic-regression loss over a Dask array larger than
memory, through autodiff against the same gradient written by hand in Dask; and numpy in
memory, through autodiff, at the largest size that fits comfortably, for reference.

    python -m benchmarks.dask_w8 [--rows 1e8] [--numpy-rows 2e7] [--repeats 2]

The data, X (rows, 16) float64 standard normal and y = [X·t + ½ noise > 0], is generated
lazily from a seeded generator in chunks (`--chunk-rows`), so it is never held whole: each
gradient is one pass that generates it chunk by chunk. Each measurement runs in its own
child process, whose peak resident memory (the process high-water mark, imports included)
is reported with the median time of its repeats.

    loss(w) = mean(log(1 + e^z) − y·z),  z = X w
    ∇loss   = Xᵀ(σ(z) − y) / n            (the hand-written Dask gradient)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

FEATURES = 16
KINDS = ("autodiff", "by hand", "numpy")


def _data(rows: int, chunk_rows: int):
    import dask.array as da

    generator = da.random.default_rng(0)
    X = generator.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    noise = generator.standard_normal(rows, chunks=chunk_rows)
    y = (X @ np.linspace(-1.0, 1.0, FEATURES) + 0.5 * noise > 0).astype(np.float64)
    return X, y


def _loss(w, X, y):
    z = X @ w
    return (np.logaddexp(0.0, z) - y * z).mean()


def gradient(kind: str, X, y, w: np.ndarray) -> np.ndarray:
    """∇loss at w, by `kind`: "autodiff" or "numpy" (autodiff.grad) or "by hand" (Dask)."""
    if kind == "by hand":
        import dask

        z = X @ w
        (g,) = dask.compute(X.T @ (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0])
        return g
    import autodiff

    return autodiff.grad(lambda w: _loss(w, X, y))(w)


def child(kind: str, rows: int, chunk_rows: int, repeats: int) -> dict[str, Any]:
    """Time `repeats` gradients of one kind in this process; its peak memory."""
    import dask

    dask.config.set(scheduler="threads")
    X, y = _data(rows, chunk_rows)
    if kind == "numpy":
        X, y = dask.compute(X, y)
    w = np.linspace(-0.5, 0.5, FEATURES)
    times, g = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        g = gradient(kind, X, y, w)
        times.append(time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"kind": kind, "rows": rows, "times": times, "median_s": statistics.median(times),
            "peak_mb": peak_kb / 1024, "grad": np.asarray(g).tolist()}


def run_child(kind: str, rows: int, chunk_rows: int, repeats: int) -> dict[str, Any]:
    """`child` in a fresh Python process (so that peak memory is this measurement's own)."""
    command = [sys.executable, "-m", "benchmarks.dask_w8", "--child", kind, "--rows", str(rows),
               "--chunk-rows", str(chunk_rows), "--repeats", str(repeats)]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(),
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if done.returncode != 0:
        return {"kind": kind, "rows": rows, "status": "failed",
                "reason": done.stderr.strip().splitlines()[-1:] or ["no output"]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["status"] = "ok"
    return result


def measure(rows: int, numpy_rows: int, chunk_rows: int, repeats: int) -> dict[str, Any]:
    """The three measurements, and how they compare."""
    runs = {kind: run_child(kind, rows if kind != "numpy" else numpy_rows, chunk_rows,
                            repeats) for kind in KINDS}
    ours, hand = runs["autodiff"], runs["by hand"]
    ok = ours["status"] == hand["status"] == "ok"
    ratio = ours["median_s"] / hand["median_s"] if ok else None
    difference = (float(np.max(np.abs(np.subtract(ours["grad"], hand["grad"]))))
                  if ok else None)
    return {"runs": runs, "ratio": ratio, "max_abs_difference": difference,
            "peak_mb": ours.get("peak_mb")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=lambda s: int(float(s)), default=100_000_000)
    parser.add_argument("--numpy-rows", type=lambda s: int(float(s)), default=20_000_000)
    parser.add_argument("--chunk-rows", type=lambda s: int(float(s)), default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.chunk_rows, args.repeats)))
        return 0
    print(json.dumps(measure(args.rows, args.numpy_rows, args.chunk_rows, args.repeats),
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
