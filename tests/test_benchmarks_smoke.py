"""Correctness of the benchmark harness (never its timing): every contestant computes what
the hand-written numpy floor computes, and absent peers are reported, not raised."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ is not an installed package: import it from the checkout, however pytest is run.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common, contestants, floor, scalar
from benchmarks.run import markdown

SIZES = [5, 7, 6, 3]  # no square layer, so a model's weight layout is unambiguous
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-4}
PEERS = {contestants.HipsAutograd: "autograd", contestants.TorchEager: "torch",
         contestants.JaxEager: "jax"}


def build_or_skip(kind):
    instance, why = contestants.try_build(kind)
    if instance is None:
        assert why.startswith("missing: "), why  # absent is fine, broken is not
        pytest.skip(f"{kind.name}: {why} (install the bench extras to compare it)")
    return instance


def relative_error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def test_floor_gradients_match_central_differences():
    params = floor.init_params(SIZES, np.float64, seed=3)
    x, y = floor.make_batch(SIZES[0], SIZES[-1], 4, np.float64, seed=4)
    _, grads = floor.loss_and_grads([p.copy() for p in params], x, y)
    step = 1e-6
    for p, g in zip(params, grads, strict=True):
        numeric = np.zeros_like(p)
        for index in np.ndindex(p.shape):
            saved = p[index]
            p[index] = saved + step
            up = floor.loss_and_grads([q.copy() for q in params], x, y)[0]
            p[index] = saved - step
            down = floor.loss_and_grads([q.copy() for q in params], x, y)[0]
            p[index] = saved
            numeric[index] = (up - down) / (2 * step)
        assert relative_error(g, numeric) < 1e-6


def test_floor_loss_is_the_mean_cross_entropy():
    params = floor.init_params(SIZES, np.float64)
    x, y = floor.make_batch(SIZES[0], SIZES[-1], 6, np.float64)
    h = x
    for layer in range(3):
        h = h @ params[2 * layer] + params[2 * layer + 1]
        h = np.maximum(h, 0) if layer < 2 else h
    probabilities = np.exp(h) / np.exp(h).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probabilities[np.arange(6), y]))
    assert floor.loss_and_grads(params, x, y)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", contestants.TENSOR_CONTESTANTS, ids=lambda k: k.__name__)
def test_tensor_contestant_matches_floor(kind, dtype):
    contestant = build_or_skip(kind)
    params = floor.init_params(SIZES, dtype)
    x, y = floor.make_batch(SIZES[0], SIZES[-1], 4, dtype)
    loss_ref, grads_ref = floor.loss_and_grads([p.copy() for p in params], x, y)
    loss, grads = contestant.loss_and_grads(params, x, y)
    assert loss == pytest.approx(loss_ref, rel=TOLERANCE[dtype])
    assert len(grads) == len(grads_ref)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert g.shape == g_ref.shape
        assert g.dtype == dtype
        assert relative_error(g, g_ref) < TOLERANCE[dtype]


@pytest.mark.parametrize("kind", [*contestants.TENSOR_CONTESTANTS, contestants.NnBackprop],
                         ids=lambda k: k.__name__)
def test_training_step_moves_parameters_like_the_floor(kind):
    """Steps through `trainer` follow the floor's steps: same loss at every step."""
    contestant = build_or_skip(kind)
    params = floor.init_params(SIZES, np.float64)
    x, y = floor.make_batch(SIZES[0], SIZES[-1], 8, np.float64)
    ours, reference = contestant.trainer(params, 0.5), floor.trainer(params, 0.5)
    losses = [(as_float(ours(x, y)), reference(x, y)) for _ in range(3)]
    for got, expected in losses:
        assert got == pytest.approx(expected, rel=1e-9)
    assert losses[2][1] < losses[0][1]  # the updates happened, and went downhill


def as_float(loss) -> float:
    """A loss as a Python float, whatever scalar type the contestant returned."""
    return float(loss.item() if hasattr(loss, "item") else loss)


@pytest.mark.parametrize("kind", contestants.TENSOR_CONTESTANTS, ids=lambda k: k.__name__)
def test_per_op_chain_gradient_matches_floor(kind):
    contestant = build_or_skip(kind)
    x = np.linspace(-1.0, 1.0, 10)
    ops = floor.chain_ops(12)
    _, expected = floor.chain_value_and_grad(x, ops)
    result = contestant.chain(x, ops)()
    if isinstance(result, tuple):  # value_and_grad-style peers return (value, grad)
        result = result[1]
    got = result.numpy() if hasattr(result, "numpy") and not isinstance(result, np.ndarray) \
        else np.asarray(result)
    assert relative_error(got, expected) < 1e-10


def test_floor_chain_gradient_matches_central_differences():
    x = np.linspace(-1.0, 1.0, 10)
    ops = floor.chain_ops(12)
    _, grad = floor.chain_value_and_grad(x, ops)
    step = 1e-6
    numeric = [(floor.chain_value_and_grad(x + step * e, ops)[0]
                - floor.chain_value_and_grad(x - step * e, ops)[0]) / (2 * step)
               for e in np.eye(10)]
    assert relative_error(grad, numeric) < 1e-6


def test_scalar_mlp_same_loss_and_gradients_in_both_libraries():
    pytest.importorskip("micrograd", reason="micrograd (bench extra) not installed")
    points, labels = scalar.moons(6)
    results = []
    for library in ("autodiff", "micrograd"):
        value = scalar.value_class(library)
        layers = scalar.scalar_mlp(value, seed=2)
        loss = scalar.moons_loss(layers, points.tolist(), labels.tolist())
        loss.backward()
        results.append((loss.data, [p.grad for p in scalar.parameters(layers)]))
    (loss_a, grads_a), (loss_m, grads_m) = results
    assert loss_a == pytest.approx(loss_m, rel=1e-12)
    assert np.allclose(grads_a, grads_m, rtol=1e-12, atol=1e-15)
    assert any(g != 0 for g in grads_a)


def test_the_pure_python_floor_gives_autodiffs_loss_and_gradients_exactly():
    # A reference that computed something else would time something else.
    points, labels = scalar.moons(6)
    results = []
    for library in ("autodiff", "bare"):
        layers = scalar.scalar_mlp(scalar.value_class(library), seed=2)
        loss = scalar.moons_loss(layers, points.tolist(), labels.tolist())
        loss.backward()
        params = scalar.parameters(layers)
        results.append((loss.data, [p.grad for p in params]))
        for p in params:  # a second pass accumulates into the leaves
            p.grad = None
        loss.backward()
        assert loss.grad == 1.0
    (loss_a, grads_a), (loss_b, grads_b) = results
    assert loss_a == loss_b and grads_a == grads_b
    assert sum(g != 0 for g in grads_a) > 10
    for library in ("autodiff", "bare"):
        _, grad = scalar.chain_once(scalar.value_class(library), 2001)
        assert grad == pytest.approx(scalar.CHAIN_FACTOR ** 1001, rel=1e-12)


def test_workload_1_reports_the_pure_python_floor_beside_micrograd():
    pytest.importorskip("micrograd", reason="micrograd (bench extra) not installed")
    from benchmarks import run

    settings = run.Settings(repeats=1, min_time=0.001, warmup=1, chain_repeats=1,
                            growth_steps=1, peak_steps=1, quick=True)
    result = run.workload_1(settings)
    names = [row[0] for row in result["table"]]
    assert names == ["autodiff (GC off)", "micrograd (GC off)",
                     "pure-Python floor (reference) (GC off)", "autodiff", "micrograd",
                     "pure-Python floor (reference)"]
    assert "pure-Python floor" in result["summary"]
    assert [t["target"] for t in result["targets"]] == [
        "W1: ≥ 5× faster than micrograd, GC paused", "W1: ≥ 10× faster than micrograd, default GC"]


def test_deep_chain_gradient_is_exact():
    value = scalar.value_class("autodiff")
    _, grad = scalar.chain_once(value, 2001)
    assert grad == pytest.approx(scalar.CHAIN_FACTOR ** 1001, rel=1e-12)


def test_moons_graph_counts_every_operation():
    assert scalar.moons_op_count() > 10_000  # 16 points through 2-16-16-1, hinge, L2


def test_missing_peer_is_reported_not_raised(monkeypatch):
    real_import = importlib.import_module

    def without_torch(name, *args):
        if name.split(".")[0] == "torch":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_torch)
    instance, why = contestants.try_build(contestants.TorchEager)
    assert instance is None
    assert why.startswith("missing: torch not installed")


def test_race_reports_missing_and_failed_contestants():
    def missing():
        raise common.Missing("somelib not installed")

    def broken():
        def step():
            raise RuntimeError("boom")
        return step

    calls = []
    rows = common.race(
        [common.Contestant("fine", lambda: lambda: calls.append(1)),
         common.Contestant("absent", missing), common.Contestant("broken", broken)],
        repeats=3, warmup=1, min_time=0.0)
    fine, absent, failed = rows
    assert fine.status == "ok" and len(fine.times) == 3 and fine.seconds is not None
    assert (absent.status, absent.reason) == ("missing", "somelib not installed")
    assert failed.status == "failed" and "RuntimeError: boom" in failed.reason
    assert len(calls) == 1 + 3 * fine.calls_per_repeat


def test_a_mirrored_race_runs_each_repeat_forward_then_backward():
    order = []

    def recording(name):
        return common.Contestant(name, lambda: lambda: order.append(name))

    rows = common.race([recording("a"), recording("b")], repeats=2, warmup=1, min_time=0.0,
                       mirrored=True)
    warmup, repeat_0, repeat_1 = ["a", "b"], ["a", "b", "b", "a"], ["b", "a", "a", "b"]
    assert order == [*warmup, *repeat_0, *repeat_1]
    assert [len(row.times) for row in rows] == [2, 2]


def test_markdown_report_is_self_contained():
    meta = {"date": "2026-01-01 00:00 UTC", "commit": "abc", "cpu": "Some CPU",
            "logical_cpus": 2, "memory_gib": 8.0, "os": "Linux", "load_average": [0.1, 0.2],
            "numpy_blas": [{"user_api": "blas", "internal_api": "openblas", "version": "0.3",
                            "num_threads": 2, "architecture": "Haswell"}],
            "versions": {"numpy": "2.0", "torch": None}, "environment": {"X": None},
            "method": "interleaved"}
    result = {"title": "T", "what": "W", "columns": ["a", "b"], "table": [["1", "2|3"]],
              "summary": "S.", "targets": [{"target": "t", "measured": 1.5, "met": False}]}
    text = markdown(meta, {1: result})
    for expected in ("Some CPU", "2026-01-01", "openblas 0.3 (2 threads", "| 1 | 2/3 |",
                     "not installed: torch", "**Where autodiff stands:** S.",
                     "| t | 1.5 | **no** |"):
        assert expected in text


def test_workload_8_gradients_agree():
    """W8's two contestants compute the same logistic-regression gradient (and numpy's)."""
    if not os.environ.get("CI"):  # CI installs the dask extra and runs this
        pytest.importorskip("dask.array")
    import dask

    from benchmarks import dask_w8

    X, y = dask_w8._data(5000, 1000)
    w = np.linspace(-0.5, 0.5, dask_w8.FEATURES)
    ours = dask_w8.gradient("autodiff", X, y, w)
    by_hand = dask_w8.gradient("by hand", X, y, w)
    in_memory = dask_w8.gradient("numpy", *dask.compute(X, y), w)
    assert type(ours) is np.ndarray
    np.testing.assert_allclose(ours, by_hand, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(in_memory, by_hand, rtol=1e-12, atol=1e-15)


def test_workload_10_reports_numpys_protocol_beside_the_dispatch_cost():
    from benchmarks import run

    settings = run.Settings(repeats=1, min_time=0.001, warmup=1, chain_repeats=1,
                            growth_steps=1, peak_steps=1, quick=True)
    result = run.workload_10(settings)
    spellings = [row[1] for row in result["table"]]
    assert spellings == ["v.sin()", "np.sin(v)"] * 2 + ["o.sin()", "np.sin(o)"] * 2
    assert [row[0] for row in result["table"][4::2]] == [
        "numpy's protocol alone", "numpy's protocol alone, beside v.sin() + backward"]
    assert "override protocol alone" in result["summary"]
    assert "With backward after each call" in result["summary"]
    (target,) = result["targets"]
    per_call = result["rows"][1]["extra_us"]  # np.sin(v) against v.sin(), forward
    assert target["measured"] == per_call
    assert target["met"] == (per_call <= 1.0)
