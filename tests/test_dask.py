"""Dask arrays through the engine: every operation of the op table that declares Dask
support keeps Dask data lazy in the forward and the backward pass and gives numpy's
gradients (to 1e-12) on several chunkings; the operations that do not support it refuse
Dask data naming themselves; the transforms, backward, draw and nn on Dask data.

"Lazy" is checked, not assumed: the forward and backward passes run under a Dask scheduler
that raises if anything is computed.

These tests need the `dask` extra (dask[array], distributed); CI installs it and must not
skip them.
"""

from __future__ import annotations

import inspect
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

if os.environ.get("CI"):  # CI installs the dask extra: a missing one is a failure there
    import dask
    import dask.array as da
else:
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
from dask.callbacks import Callback

import autodiff
import nn
from autodiff import Value
from autodiff.engine import backprop
from autodiff.ops.table import TABLE, dask_not_lazy
from autodiff.testing.strategies import op_cases


class Computed(AssertionError):
    """Raised by the scheduler of `no_compute`: something asked for Dask data."""


def _refuse(dsk, keys, **kwargs):
    raise Computed("Dask data was computed where it must stay lazy")


def no_compute():
    """A context in which computing any Dask collection raises `Computed`."""
    return dask.config.set(scheduler=_refuse)


class CountComputes(Callback):
    """Counts the times Dask computes something (each dask.compute is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def _start(self, dsk) -> None:
        self.count += 1


# --------------------------------------------------------------------------- the op table

LAZY = [e for e in TABLE.values() if e.dask and e.cases is not None]
LAZY_CASES = [(e.name, dtype) for e in LAZY for dtype in e.dtypes
              if dtype in ("float64", "complex128")]


def _chunked(draw, array: np.ndarray) -> da.Array:
    """`array` as a Dask array, each axis in one chunk, halves, or chunks of one."""
    chunks = tuple(draw(st.sampled_from(sorted({n, max(1, -(-n // 2)), 1}))) if n else 1
                   for n in array.shape)
    return da.from_array(array, chunks=chunks)


def _map_arrays(args, function):
    """args with every floating or complex array, numpy or Dask (inside lists too),
    replaced."""
    def one(a):
        if isinstance(a, (np.ndarray, da.Array)) and a.dtype.kind in "fc":
            return function(a)
        return a
    return [[one(x) for x in a] if isinstance(a, list) else one(a) for a in args]


def _leaves(out):
    if isinstance(out, Value):
        return [out]
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _leaves(item)]
    return []


def _forward_backward(entry, args, kwargs, seed):
    """The outputs' data, and the gradients of Σ⟨output, c⟩ (c fixed random) with respect
    to every array argument."""
    inputs = []

    def wrap(a):
        inputs.append(Value(a))
        return inputs[-1]

    outs = _leaves(entry.implementation(*_map_arrays(args, wrap), **kwargs))
    rng = np.random.default_rng(seed)
    total = None
    for out in outs:
        term = (out * rng.standard_normal(out.shape)).sum()
        term = np.real(term) if term.dtype.kind == "c" else term
        total = term if total is None else total + term
    grads = backprop(total, wrt=inputs) if total is not None and total.requires_grad else {}
    return [o.data for o in outs], [grads.get(x) for x in inputs]


@pytest.mark.parametrize(("name", "dtype"), LAZY_CASES, ids=[f"{n}-{d}" for n, d in LAZY_CASES])
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_lazy_operations_match_numpy_on_dask(name, dtype, data):
    entry = TABLE[name]
    args, kwargs = data.draw(op_cases(entry, dtype))
    expected_out, expected_grads = _forward_backward(entry, args, kwargs, 0)
    chunked = _map_arrays(args, lambda a: _chunked(data.draw, a))
    with no_compute():
        try:
            outs, grads = _forward_backward(entry, chunked, kwargs, 0)
        except NotImplementedError as error:  # a documented refusal of some arguments
            assert str(error).split(":")[0].startswith(name), error
            assert "Dask arrays are not supported" in str(error)
            assert "on Dask arrays" in entry.notes, f"{name}: refusal not documented"
            assume(False)
        for out in outs:
            assert isinstance(out, da.Array), f"{name}: output is {type(out).__name__}"
        for g in grads:
            assert g is None or isinstance(g, da.Array), f"{name}: gradient is {type(g)}"
    outs, grads = dask.compute(outs, grads)
    for got, want in zip(outs, expected_out, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_list_without_dask_support_comes_from_the_table():
    names = dask_not_lazy()
    assert names == sorted(e.name for e in TABLE.values() if not e.dask)
    assert {"linalg.inv", "fft.fft", "sort", "median"} <= set(names)
    assert "matmul" not in names and "sum" not in names
    from autodiff import docs_table

    text = docs_table.render()
    section = text[text.index("## Without lazy Dask support"):]
    assert all(f"`{name}`" in section.split("## Constant")[0] for name in names)


def _required(function) -> int:
    """How many positional arguments `function` requires."""
    parameters = inspect.signature(function).parameters.values()
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in parameters)


@pytest.mark.parametrize("name", dask_not_lazy())
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_operations_without_dask_support_refuse_it_by_name(name, data):
    entry = TABLE[name]
    if entry.cases is not None:
        args, kwargs = data.draw(op_cases(entry, "float64"))
        args = _map_arrays(args, lambda a: Value(da.from_array(a)))
    else:  # refused before its arguments are looked at
        count = max(_required(f) for f in entry.numpy if f is not None)
        args, kwargs = [Value(da.eye(3, chunks=3) + 2.0)] * count, {}
    with no_compute(), pytest.raises(NotImplementedError) as error:
        entry.implementation(*args, **kwargs)
    message = str(error.value)
    assert message.startswith(f"{name}: Dask arrays are not supported") and ".compute()" in message
    for function in entry.numpy:  # numpy's name dispatches to the same refusal
        if function is not None:
            with no_compute(), pytest.raises(NotImplementedError, match="Dask"):
                function(*args, **kwargs)


def test_matrix_norms_through_singular_values_refuse_dask():
    x = Value(da.ones((3, 3), chunks=2))
    with no_compute(), pytest.raises(NotImplementedError, match=r"linalg\.norm.*Dask"):
        np.linalg.norm(x, 2)


# --------------------------------------------------------------------------- engine


def _logistic(w, X, y):
    z = X @ w
    return (np.logaddexp(0.0, z) - y * z).mean()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((600, 5))
    y = (rng.random(600) < 0.5).astype(np.float64)
    return X, y, da.from_array(X, chunks=(128, 5)), da.from_array(y, chunks=128)


def test_grad_of_a_numpy_argument_is_numpy_computed_once(data):
    X, y, dX, dy = data
    w = np.linspace(-1, 1, 5)
    counter = CountComputes()
    with counter:
        g = autodiff.grad(lambda w: _logistic(w, dX, dy))(w)
    assert type(g) is np.ndarray and counter.count == 1
    np.testing.assert_allclose(g, autodiff.grad(lambda w: _logistic(w, X, y))(w),
                               rtol=1e-12, atol=1e-15)
    counter = CountComputes()
    with counter:  # a pytree of gradients (here two arguments): still one compute
        gw, gb = autodiff.grad(lambda w, b: _logistic(w, dX, dy) + b * dX.sum(), (0, 1))(w, 0.5)
    assert counter.count == 1 and type(gw) is np.ndarray and type(gb) is float
    assert math.isclose(gb, float(X.sum()), rel_tol=1e-12)


def test_grad_of_a_dask_argument_is_lazy(data):
    X, y, dX, dy = data
    w = da.from_array(np.linspace(-1, 1, 5), chunks=2)
    with no_compute():
        g = autodiff.grad(lambda w: _logistic(w, dX, dy))(w)
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), autodiff.grad(lambda w: _logistic(w, X, y))(
        np.linspace(-1, 1, 5)), rtol=1e-12)


def test_backward_leaves_lazy_grads_one_compute_evaluates(data):
    X, y, dX, dy = data
    w, b = Value(np.zeros(5), name="w"), Value(0.25, name="b")
    with no_compute():
        z = Value(dX, requires_grad=False) @ w + b
        loss = (np.logaddexp(0.0, z) - dy * z).mean()
        loss.backward()
        assert isinstance(loss.data, da.Array) and isinstance(w.grad, da.Array)
        assert isinstance(b.grad, da.Array) and b.grad.shape == ()
        text = repr(loss) + repr(w) + repr(z)  # printing a Value's shape never computes
    assert "dask.array<shape=(600,)" in text and "chunksize=(128,)" in text
    counter = CountComputes()
    with counter:
        gw, gb = dask.compute(w.grad, b.grad)
    assert counter.count == 1
    def numpy_loss(w, b):
        z = X @ w + b
        return (np.logaddexp(0.0, z) - y * z).mean()

    expected = autodiff.grad(numpy_loss, (0, 1))(np.zeros(5), 0.25)
    np.testing.assert_allclose(gw, expected[0], rtol=1e-12)
    assert math.isclose(float(gb), expected[1], rel_tol=1e-12)
    assert math.isclose(loss.item(), float(np.mean(np.logaddexp(0, X @ np.zeros(5) + 0.25)
                                                   - y * 0.25)), rel_tol=1e-12)


def test_draw_shows_shape_dtype_and_chunks_without_computing(data):
    _, _, dX, dy = data
    w = Value(np.zeros(5), name="w")
    with no_compute():
        loss = _logistic(w, Value(dX, name="X", requires_grad=False), dy)
        loss.backward()
        source = autodiff.draw(loss).source
    assert "(600, 5) float64, dask chunks (128, 5) ×5" in source
    assert "lazy (Dask, not computed)" in source


def test_unknown_chunk_sizes_are_refused_at_the_operation():
    x = da.from_array(np.arange(12.0).reshape(6, 2), chunks=3)
    filtered = x[x[:, 0] > 4]  # nan row count
    with pytest.raises(ValueError, match=r"Value: a Dask array of unknown chunk sizes"):
        Value(filtered)
    w = Value(np.ones(2))
    with pytest.raises(ValueError, match=r"multiply: a Dask array of unknown chunk sizes"):
        w * filtered


def test_mixing_numpy_and_dask_operands_follows_dask():
    a = Value(np.arange(3.0))
    b = da.from_array(np.ones(3), chunks=1)
    with no_compute():
        out = a * b + np.float64(2.0)
        assert isinstance(out.data, da.Array)
        out.sum().backward()
    assert isinstance(a.grad, da.Array)
    np.testing.assert_array_equal(a.grad.compute(), np.ones(3))


def test_in_place_update_with_a_lazy_operand_computes_it():
    p = Value(np.ones(3), requires_grad=False)
    p -= da.from_array(np.full(3, 0.5), chunks=1)
    assert type(p.data) is np.ndarray and p.version == 1
    np.testing.assert_array_equal(p.data, np.full(3, 0.5))
    q = Value(da.ones(3, chunks=1), requires_grad=False)
    with no_compute():
        q += 1.0  # lazy data: a new lazy array, never written into
    assert isinstance(q.data, da.Array) and q.version == 1
    np.testing.assert_array_equal(q.data.compute(), np.full(3, 2.0))


def test_an_in_place_update_of_lazy_data_keeps_its_shape_and_dtype():
    """`c += y` on lazy data replaced it by the broadcast result: (2, 3) became (4, 2, 3),
    and `+= 1j` dropped the imaginary part, where numpy data refuses both."""
    c = Value(da.ones((2, 3), chunks=1), requires_grad=False)
    with pytest.raises(ValueError, match=r"y of shape \(4, 1, 3\) does not fit x of shape"):
        c += np.ones((4, 1, 3))
    with pytest.raises(TypeError, match="complex128 and x holds float64"):
        c += 1j
    assert c.shape == (2, 3) and c.dtype == np.float64 and c.version == 0
    with no_compute():
        c *= np.full((1, 3), 2.0)  # broadcasts to x's own shape: fine
    np.testing.assert_array_equal(c.data.compute(), np.full((2, 3), 2.0))


@pytest.mark.parametrize("index", [(slice(None), None), (None, 0, 1), (None,), (1, None),
                                   (None, Ellipsis, 1)], ids=str)
def test_backward_through_new_axes_of_lazy_data(index):
    """Indexing lazy data with None worked forward, but backward raised an internal error
    (Dask's item assignment takes no None)."""
    data = np.arange(6.0).reshape(2, 3)
    weights = np.random.default_rng(0).standard_normal(np.empty((2, 3))[index].shape)
    expected = Value(data)
    (expected[index] * weights).sum().backward()
    x = Value(da.from_array(data, chunks=1))
    with no_compute():
        (x[index] * weights).sum().backward()
    np.testing.assert_allclose(x.grad.compute(), expected.grad, rtol=1e-12)


# --------------------------------------------------------------------------- the matmul rule


def test_matrix_vector_gradient_builds_no_matrix_sized_temporary():
    import tracemalloc

    rng = np.random.default_rng(0)
    A = rng.standard_normal((100_000, 16))  # 12.8 MB
    v = Value(rng.standard_normal(16))
    out = Value(A, requires_grad=False) @ v
    g = rng.standard_normal(100_000)
    tracemalloc.start()
    try:
        grads = backprop(out, g)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(grads[v], (g[:, None] * A).sum(axis=0), rtol=1e-10)
    assert peak < A.nbytes / 4, f"backward allocated {peak} bytes for a {A.nbytes}-byte A"


def test_batched_matrix_vector_gradient_matches_the_outer_product_form():
    rng = np.random.default_rng(1)
    A, b, g = rng.standard_normal((3, 4, 5)), rng.standard_normal(5), rng.standard_normal((3, 4))
    grads = backprop(Value(A, requires_grad=False) @ (bv := Value(b)), g)
    np.testing.assert_allclose(grads[bv], (g[..., None] * A).sum(axis=(0, 1)), rtol=1e-12)


# --------------------------------------------------------------------------- nn


LOSSES = [
    ("mse_loss", lambda r: r.standard_normal((200, 3)), lambda r: r.standard_normal((200, 3))),
    ("binary_cross_entropy_with_logits", lambda r: r.standard_normal(200),
     lambda r: (r.random(200) < 0.5).astype(np.float64)),
    ("hinge_loss", lambda r: r.standard_normal(200),
     lambda r: np.where(r.random(200) < 0.5, -1.0, 1.0)),
    ("cross_entropy", lambda r: r.standard_normal((200, 4)), lambda r: r.integers(0, 4, 200)),
]


@pytest.mark.parametrize(("name", "make_prediction", "make_target"), LOSSES,
                         ids=[loss[0] for loss in LOSSES])
def test_losses_on_dask_predictions_and_targets(name, make_prediction, make_target):
    rng = np.random.default_rng(2)
    prediction, target = make_prediction(rng), make_target(rng)
    loss = getattr(nn, name)
    p = Value(prediction)
    expected = loss(p, target)
    expected.backward()
    chunks = (64, *prediction.shape[1:])
    q = Value(da.from_array(prediction, chunks=chunks))
    with no_compute():
        got = loss(q, da.from_array(target, chunks=64))
        got.backward()
    assert math.isclose(got.item(), expected.item(), rel_tol=1e-12)
    np.testing.assert_allclose(q.grad.compute(), p.grad, rtol=1e-12, atol=1e-15)


def test_layers_keep_dask_inputs_lazy(data):
    _, _, dX, _ = data
    model = nn.MLP(5, [4, 1], activation="tanh", rng=0)
    with no_compute():
        out = model(dX)
        out.sum().backward()
    assert isinstance(out.data, da.Array)
    assert all(isinstance(p.grad, da.Array) for p in model.parameters())


def test_lazy_targets_out_of_range_give_nan_not_a_wrong_number():
    logits = Value(da.from_array(np.zeros((4, 3)), chunks=2))
    loss = nn.cross_entropy(logits, da.from_array(np.array([0, 1, 3, 2]), chunks=2))
    assert math.isnan(loss.item())
    bce = nn.binary_cross_entropy_with_logits(Value(np.zeros(2)),
                                              da.from_array(np.array([0.0, 2.0])))
    assert math.isnan(bce.item())


@pytest.mark.parametrize("optimizer", [nn.SGD, nn.Adam])
def test_optimizers_step_on_lazy_gradients_in_one_compute(optimizer, data):
    X, y, dX, dy = data
    twins = []
    for features, targets in ((X, y), (dX, dy)):
        model = nn.Linear(5, 1, rng=0)
        opt = optimizer(model.parameters(), lr=0.1)
        loss = nn.binary_cross_entropy_with_logits(model(features), targets)
        loss.backward()
        counter = CountComputes()
        with counter:
            opt.step()
        twins.append((model, counter.count))
    (numpy_model, _), (dask_model, computes) = twins
    assert computes == 1
    for a, b in zip(numpy_model.parameters(), dask_model.parameters(), strict=True):
        assert type(b.data) is np.ndarray
        np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=1e-15)


def test_optimizer_refuses_a_lazy_gradient_with_nan():
    p = Value(np.ones(3), name="w")
    p.grad = da.from_array(np.array([1.0, np.nan, 0.0]), chunks=1)
    with pytest.raises(FloatingPointError, match="w"):
        nn.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, np.ones(3))


def test_batches_stream_a_dask_array_chunk_by_chunk():
    X = np.arange(50.0).reshape(25, 2)
    y = np.arange(25)
    dX, dy = da.from_array(X, chunks=(10, 2)), da.from_array(y, chunks=10)
    for shuffle in (False, True):
        counter = CountComputes()
        with counter:
            got = list(nn.data.batches(dX, dy, 4, shuffle=shuffle, rng=0))
        assert counter.count == 3  # one per chunk of rows
        assert [len(b) for b, _ in got] == [4] * 6 + [1]
        rows = np.concatenate([b for b, _ in got])
        labels = np.concatenate([t for _, t in got])
        assert all(type(b) is np.ndarray for b, _ in got)
        np.testing.assert_array_equal(rows[:, 0] / 2, labels)  # pairs stay together
        assert sorted(labels.tolist()) == list(range(25))
        if not shuffle:
            np.testing.assert_array_equal(rows, X)
    with pytest.raises(ValueError, match="same number of samples"):
        list(nn.data.batches(dX, dy[:5], 4))


# --------------------------------------------------------------------------- distributed


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed") if not os.environ.get("CI") else \
        __import__("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None,
                                  timeout=60) as cluster, \
            distributed.Client(cluster, timeout=60, set_as_default=False) as client:
        # (not the default client: the tests after these keep the local scheduler, whose
        # computations the CountComputes and no_compute checks see)
        yield client


def test_the_gradient_on_a_local_cluster_equals_the_threaded_one(cluster_client, data):
    _, _, dX, dy = data
    w = Value(np.linspace(-1, 1, 5))
    loss = _logistic(w, dX, dy)
    loss.backward()
    threaded = dask.compute(w.grad, scheduler="threads")[0]
    on_cluster = cluster_client.compute(w.grad).result(timeout=60)
    assert len(cluster_client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(on_cluster, threaded)


def test_the_example_fits_both_models_and_the_loss_falls(capsys):
    from examples import dask_fit

    assert dask_fit.main(["--rows", "4000", "--chunk-rows", "1000", "--steps", "3"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " → " in line]
    assert [line.split(":")[0] for line in lines] == ["logistic regression",
                                                       "MLP 16-8-1 (tanh)"]
    for line in lines:
        first, last = (float(x) for x in line.split("loss ")[1].split(" in ")[0].split(" → "))
        assert last < first, line


@pytest.mark.parametrize("index", [
    (0, slice(None), [0, 1, 2]), (1, Ellipsis, [0, 2]), (0, None, slice(None), [0, 1]),
    (0, slice(None), np.array([True, False, True])), (np.int64(1), slice(None), [2, 0]),
], ids=["int-slice-list", "int-ellipsis-list", "int-none-slice-list", "int-slice-mask",
        "npint-slice-list"])
def test_an_index_with_an_integer_and_an_array_apart_follows_numpy_on_dask(index):
    """Dask keeps the advanced axis where it is when an integer and an index array are
    separated by a slice; numpy moves it to the front. x[0, :, [0, 1, 2]] came out
    transposed (a square result: a silently wrong loss, 204 for 180) and its gradient was
    scattered by numpy's rule."""
    x = np.arange(18.0).reshape(2, 3, 3)
    lazy, eager = Value(da.from_array(x, chunks=(1, 2, 2))), Value(x)
    got, want = lazy[index], eager[index]
    weights = np.arange(want.size, dtype=float).reshape(want.shape)
    (got * weights).sum().backward()
    (want * weights).sum().backward()
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got.data), want.data)
    np.testing.assert_array_equal(np.asarray(lazy.grad), eager.grad)


def test_the_notebook_display_of_a_lazy_value_computes_nothing():
    """The notebook card summarised data and gradient through np.asarray: showing a Dask
    Value computed all of it (twice with its gradient), where repr describes it."""
    v = Value(da.ones((1000, 16), chunks=100))
    (v * 2.0).sum().backward()
    with no_compute():
        card = v._repr_html_()
    assert "shape=(1000, 16)" in card and "chunksize=(100, 16)" in card


@pytest.mark.parametrize("function", [np.sum, np.mean, np.prod, np.nansum, np.nanmean, np.var,
                                      np.std], ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_a_dask_where_mask_stays_lazy(function, axis):
    """A Dask where= mask went through np.asarray: the reductions computed it silently."""
    x = np.random.default_rng(0).standard_normal((6, 4))
    mask = x > -0.3
    lazy, eager = Value(da.from_array(x, chunks=(2, 3))), Value(x)
    with no_compute():
        got = function(lazy, axis=axis, where=da.from_array(mask, chunks=(2, 3)))
        got.sum().backward()
    want = function(eager, axis=axis, where=mask)
    want.sum().backward()
    np.testing.assert_allclose(np.asarray(got.data), want.data, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lazy.grad), eager.grad, rtol=1e-12, atol=1e-15)


def test_empty_slices_of_dask_values_have_zero_gradients():
    """Backward through an empty basic slice of a 2-d Dask Value crashed in Dask's item
    assignment (so did np.array_split into more parts than rows)."""
    v = Value(da.from_array(np.arange(12.0).reshape(3, 4), chunks=2))
    v[:, 2:2].sum().backward()
    np.testing.assert_array_equal(np.asarray(v.grad), np.zeros((3, 4)))
    w = Value(da.from_array(np.arange(12.0).reshape(3, 4), chunks=2))
    sum(part.sum() for part in np.array_split(w, 5)).backward()
    np.testing.assert_array_equal(np.asarray(w.grad), np.ones((3, 4)))


def test_multi_dot_refuses_unknown_chunk_sizes_by_name():
    """multi_dot's cheapest order compared nan costs and recursed forever."""
    data = da.from_array(np.arange(24.0).reshape(6, 4), chunks=2)
    filtered = data[data[:, 0] > 3]
    with pytest.raises(ValueError, match=r"linalg\.multi_dot: a Dask array of unknown chunk"):
        np.linalg.multi_dot([Value(np.ones((2, 4))), filtered.T, filtered])


@pytest.mark.parametrize("data", [np.ones((4, 3)), da.ones((4, 3), chunks=2)],
                         ids=["numpy", "dask"])
def test_a_dask_index_array_is_refused_by_name(data):
    """A Dask index array was computed silently, and backward then crashed in np.add.at."""
    index = da.from_array(np.array([0, 2]), chunks=1)
    with pytest.raises(TypeError, match="getitem: index with numpy arrays; got a dask array"):
        Value(data)[index]


def test_jacobian_over_dask_data_computes_once_and_keeps_a_dask_argument_lazy():
    """jacobian computed each row on its own (30 passes over the data for 30 outputs), and
    returned numpy for a Dask argument, where the transforms promise one dask.compute and a
    gradient in its argument's kind."""
    x = np.random.default_rng(0).standard_normal((30, 4))
    lazy = da.from_array(x, chunks=(10, 4))
    want = autodiff.jacobian(lambda w: np.tanh(x @ w))(np.ones(4))
    counter = CountComputes()  # (on the local scheduler: a client left by another test
    with dask.config.set(scheduler="threads"), counter:  # would not report to callbacks)
        eager_argument = autodiff.jacobian(lambda w: np.tanh(lazy @ w))(np.ones(4))
    assert counter.count == 1 and type(eager_argument) is np.ndarray
    with no_compute():
        lazy_argument = autodiff.jacobian(lambda w: np.tanh(lazy @ w))(da.ones(4, chunks=2))
    assert isinstance(lazy_argument, da.Array)
    np.testing.assert_allclose(eager_argument, want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lazy_argument), want, rtol=1e-12)
    counter = CountComputes()  # hessian is jacobian of grad: one pass too (it made 4)
    with dask.config.set(scheduler="threads"), counter:
        hessian = autodiff.hessian(lambda w: np.tanh(lazy @ w).sum())(np.ones(4))
    assert counter.count == 1
    np.testing.assert_allclose(hessian, autodiff.hessian(lambda w: np.tanh(x @ w).sum())(
        np.ones(4)), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda v, unknown: np.polyval(unknown, v), lambda v, unknown: np.polyval(v, unknown),
    lambda v, unknown: np.meshgrid(v, unknown), lambda v, unknown: np.nan_to_num(v, nan=unknown),
], ids=["polyval-p", "polyval-x", "meshgrid", "nan_to_num"])
def test_new_functions_refuse_unknown_chunk_sizes_by_name(call):
    """They raised "'float' object cannot be interpreted as an integer" from inside."""
    data = da.from_array(np.arange(12.0), chunks=4)
    with pytest.raises(ValueError, match="a Dask array of unknown chunk sizes"):
        call(Value(np.ones(3)), data[data > 3])
