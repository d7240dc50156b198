"""Gradient descent over data larger than memory: a logistic regression and a small MLP fit
by full-batch gradient descent on a Dask array generated lazily (never held in memory).

Run from the repository root:

    python -m examples.dask_fit                          # 2e6 rows, threaded scheduler
    python -m examples.dask_fit --rows 100_000_000       # 1e8 × 16 float64: 12.8 GB
    python -m examples.dask_fit --cluster                # a dask.distributed LocalCluster
    python -m examples.dask_fit --cluster tcp://host:8786   # an existing cluster

The data: X is (rows, 16) standard normal, made chunk by chunk from a seeded generator;
the label is 1 where a fixed linear function of X plus noise is positive. Every step is one
pass over the data: the loss and every parameter's gradient are built lazily (autodiff
keeps Dask arrays lazy forward and backward) and computed together by one `dask.compute`;
the update itself is numpy (the parameters are small). A progress bar follows the steps.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator

import dask
import dask.array as da
import numpy as np
from tqdm import tqdm

import autodiff  # noqa: F401  (Values and their numpy dispatch)
import nn
from autodiff.extend import compute

FEATURES = 16


def make_data(rows: int, chunk_rows: int, seed: int = 0) -> tuple[da.Array, da.Array]:
    """X (rows, 16) standard normal and y in {0, 1}, both lazy Dask arrays."""
    generator = da.random.default_rng(seed)
    X = generator.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    truth = np.linspace(-1.0, 1.0, FEATURES)
    noise = generator.standard_normal(rows, chunks=chunk_rows)
    y = (X @ truth + 0.5 * noise > 0).astype(np.float64)
    return X, y


def fit(model: nn.Module, X: da.Array, y: da.Array, steps: int, lr: float,
        label: str) -> list[float]:
    """Full-batch gradient descent: each step one pass over the data (one dask.compute)."""
    parameters = model.parameters()
    optimizer = nn.SGD(parameters, lr=lr)
    losses = []
    with tqdm(range(steps), desc=label, unit="step") as bar:
        for _ in bar:
            optimizer.zero_grad()
            logits = model(X)
            loss = nn.binary_cross_entropy_with_logits(logits.reshape(-1), y)
            loss.backward()
            # The loss and the gradients together: one pass over the data, not two.
            value, *grads = compute(loss.data, *(p.grad for p in parameters))
            for p, g in zip(parameters, grads, strict=True):
                p.grad = g
            optimizer.step()  # numpy gradients now: no further computing
            losses.append(float(value))
            bar.set_postfix(loss=f"{float(value):.4f}")
    return losses


def accuracy(model: nn.Module, X: da.Array, y: da.Array) -> float:
    """The fraction of samples classified right (one more pass)."""
    from autodiff import no_grad

    with no_grad():
        logits = model(X)
    hits = ((logits.data.reshape(-1) > 0) == (y > 0.5)).mean()
    return float(hits.compute())


@contextlib.contextmanager
def scheduler(cluster: str | None, workers: int) -> Iterator[str]:
    """The threaded scheduler, or a dask.distributed client (a LocalCluster, or the
    scheduler at the given address) for the duration."""
    if cluster is None:
        with dask.config.set(scheduler="threads"):
            yield "threaded scheduler"
        return
    from distributed import Client, LocalCluster

    if cluster == "local":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as local, \
                Client(local) as client:
            yield f"LocalCluster of {workers} worker processes ({client.dashboard_link})"
    else:
        with Client(cluster) as client:
            yield f"the cluster at {cluster}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=lambda s: int(float(s)), default=2_000_000,
                        help="samples (default 2e6; 1e8 is 12.8 GB of float64)")
    parser.add_argument("--chunk-rows", type=lambda s: int(float(s)), default=500_000,
                        help="rows per chunk (default 5e5: 64 MB)")
    parser.add_argument("--steps", type=int, default=8, help="gradient steps per model")
    parser.add_argument("--model", choices=("logistic", "mlp", "both"), default="both")
    parser.add_argument("--cluster", nargs="?", const="local", default=None,
                        help="run on dask.distributed: a LocalCluster (no value) or the "
                        "scheduler at this address")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    args = parser.parse_args(argv)

    X, y = make_data(args.rows, args.chunk_rows)
    size = X.nbytes / 1e9
    with scheduler(args.cluster, args.workers) as where:
        print(f"{args.rows:,} × {FEATURES} float64 ({size:.2f} GB, generated lazily in "
              f"chunks of {args.chunk_rows:,} rows) on the {where}")
        models = []
        if args.model in ("logistic", "both"):
            models.append(("logistic regression", nn.Linear(FEATURES, 1, rng=0), 2.0))
        if args.model in ("mlp", "both"):
            models.append(("MLP 16-8-1 (tanh)",
                           nn.MLP(FEATURES, [8, 1], activation="tanh", rng=0), 1.0))
        for label, model, lr in models:
            start = time.perf_counter()
            losses = fit(model, X, y, args.steps, lr, label)
            seconds = time.perf_counter() - start
            print(f"{label}: loss {losses[0]:.4f} → {losses[-1]:.4f} in {args.steps} steps, "
                  f"{seconds / args.steps:.2f} s per step; accuracy "
                  f"{accuracy(model, X, y):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
