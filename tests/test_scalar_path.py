"""The float64 scalar path (autodiff.scalar): one meaning per derivative, and every
guarantee of the generic engine.

The scalar path restates each operation's forward and VJP rule. Here every one of them is
checked against the op table's own rule, run by the generic engine (`autodiff.backprop`),
at random points and at the edge cases, to 1e-15 relative; whole programs (micrograd's
moons loss, the worked example) give bit-identical gradients by both paths.
"""

from __future__ import annotations

import copy
import gc
import math
import threading
import weakref

import numpy as np
import pytest

import autodiff
from autodiff import Value, backprop, no_grad
from autodiff import scalar as scalar_path
from benchmarks import scalar as moons

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-300, -1e300, 710.0, math.inf, -math.inf,
         math.nan]
RANDOM = np.random.default_rng(7).uniform(-3, 3, 24).tolist()
POINTS = EDGES + RANDOM


def _same(a, b) -> bool:
    """Equal to 1e-15 relative, nan matching nan, infinities matching exactly."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-15 * max(abs(a), abs(b)) or a == b


def _fast_and_generic(build, *numbers):
    """Gradients of build(*leaves) by the scalar path (backward) and by the generic engine
    (backprop over the same graph), and the two outputs."""
    leaves = [Value(x) for x in numbers]
    out = build(*leaves)
    assert scalar_path.takes_scalar_path(out), "the scalar path was not taken"
    generic = backprop(out)
    out.backward()
    return ([leaf.grad for leaf in leaves], [generic.get(leaf, 0.0) for leaf in leaves])


UNARY = {
    "negative": lambda x: -x,
    "relu": lambda x: x.relu(),
    "tanh": lambda x: x.tanh(),
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sigmoid": lambda x: x.sigmoid(),
    "square": lambda x: x ** 2,
    "cube": lambda x: x ** 3,
    "reciprocal": lambda x: x ** -1,
    "half power": lambda x: x ** 0.5,
    "zeroth power": lambda x: x ** 0,
}

BINARY = {
    "add": lambda x, y: x + y,
    "subtract": lambda x, y: x - y,
    "multiply": lambda x, y: x * y,
    "divide": lambda x, y: x / y,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_each_unary_branch_matches_the_table_rule(name):
    build = UNARY[name]
    for x in POINTS:
        with np.errstate(all="ignore"):
            if name in ("half power",) and x < 0:
                continue  # a complex result: not the scalar path
            fast, generic = _fast_and_generic(build, x)
        assert _same(fast[0], generic[0]), (name, x, fast, generic)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_each_binary_branch_matches_the_table_rule(name):
    build = BINARY[name]
    pairs = [(x, y) for x in EDGES for y in EDGES] + list(zip(RANDOM, RANDOM[::-1],
                                                             strict=True))
    pairs += [(x, x) for x in RANDOM[:4]]  # ties
    for x, y in pairs:
        with np.errstate(all="ignore"):
            fast, generic = _fast_and_generic(build, x, y)
            # a constant on either side, folded into the node
            fast_left, generic_left = _fast_and_generic(lambda a, y=y: build(a, y), x)
            fast_right, generic_right = _fast_and_generic(lambda b, x=x: build(x, b), y)
        assert _same(fast[0], generic[0]) and _same(fast[1], generic[1]), (name, x, y)
        assert _same(fast_left[0], generic_left[0]), (name, x, y)
        assert _same(fast_right[0], generic_right[0]), (name, x, y)


def test_a_value_exponent_matches_the_table_rule():
    for x in [0.0, 0.5, 2.0, 3.5] + [abs(r) + 0.1 for r in RANDOM[:6]]:
        for y in [0.0, 1.0, 2.0, -1.5, 0.3]:
            with np.errstate(all="ignore"):
                fast, generic = _fast_and_generic(lambda a, b: autodiff.ops.power(a, b), x, y)
            assert _same(fast[0], generic[0]) and _same(fast[1], generic[1]), (x, y)


def test_every_branch_is_tested_here():
    tested = {autodiff.ops.add, autodiff.ops.subtract, autodiff.ops.multiply,
              autodiff.ops.divide, autodiff.ops.negative, autodiff.ops.power, autodiff.ops.relu,
              autodiff.ops.tanh, autodiff.ops.exp, autodiff.ops.log, autodiff.ops.sigmoid}
    assert scalar_path.SCALAR_OPS == tested


def test_forward_values_equal_the_table_forward():
    for x in POINTS:
        v = Value(x)
        with np.errstate(all="ignore"):
            for name, op in [("tanh", autodiff.tanh), ("exp", autodiff.exp),
                             ("sigmoid", autodiff.sigmoid), ("relu", autodiff.relu)]:
                assert _same(getattr(v, name)().data, op(v).data), (name, x)
            if x > 0:
                assert _same(v.log().data, autodiff.log(v).data)
            for y in EDGES:
                assert _same((v / y).data, autodiff.ops.divide(v, y).data), (x, y)
                assert _same((v * y).data, autodiff.ops.multiply(v, y).data), (x, y)


def test_a_numpy_float64_constant_is_folded_as_a_float():
    x = Value(2.0)
    y = x * np.float64(3.0)
    assert type(y.data) is float and y._args[1] == 3.0
    y.backward()
    assert type(x.grad) is float and x.grad == 3.0


def test_division_by_zero_gives_numpys_answer():
    with np.errstate(all="ignore"):
        assert (Value(1.0) / 0.0).data == math.inf
        assert math.isnan((Value(0.0) / Value(0.0)).data)
        assert (Value(-1.0) / Value(0.0)).data == -math.inf
        assert (Value(0.0) ** -1).data == math.inf


def _moons_grads(points: int = 8) -> tuple[float, list[float]]:
    layers = moons.scalar_mlp(Value)
    params = moons.parameters(layers)
    x, y = moons.moons(points)
    loss = moons.moons_loss(layers, x.tolist(), y.tolist())
    return loss, params


def test_the_moons_loss_gives_identical_gradients_by_both_paths():
    loss, params = _moons_grads()
    generic = backprop(loss)
    loss.backward()
    assert all(p.grad == generic[p] for p in params)


def test_the_worked_example_gives_identical_gradients_by_both_paths():
    from nn import worked_example

    values = worked_example.scalar_network()
    root = values["E_total"]
    assert scalar_path.takes_scalar_path(root)
    generic = backprop(root)
    root.backward()
    for name, value in values.items():
        if value.requires_grad:
            assert value.grad == generic[value], name


def test_leaves_accumulate_as_old_plus_this_pass():
    x = Value(0.1)
    (x * 3.0 + x * 7.0).backward()
    first = x.grad
    (x * 3.0 + x * 7.0).backward()
    assert x.grad == first + (3.0 + 7.0)


def test_intermediate_grads_false_leaves_intermediates_untouched():
    x = Value(2.0)
    y = x * x
    z = y.tanh()
    y.grad = "before"
    z.backward(intermediate_grads=False)
    assert y.grad == "before" and z.grad is None
    assert x.grad == pytest.approx(2 * 2.0 * (1 - math.tanh(4.0) ** 2))
    z.backward()
    assert y.grad == pytest.approx(1 - math.tanh(4.0) ** 2) and z.grad == 1.0


def test_a_stale_graph_is_refused_and_leaves_grads_untouched():
    x, w = Value(1.0), Value(2.0)
    w.grad = 5.0
    loss = (x * w).relu()
    with no_grad():
        w -= 0.5
    with pytest.raises(RuntimeError, match="multiply"):
        loss.backward()
    assert w.grad == 5.0 and x.grad is None


def test_mixed_graphs_take_the_generic_path():
    s = Value(2.0)
    a = Value(np.array([1.0, 2.0, 3.0]))
    out = (a * s).sum() * s
    assert not scalar_path.takes_scalar_path(out)
    out.backward()
    assert np.allclose(a.grad, 2 * 2.0)
    assert s.grad == pytest.approx(2 * 6.0 * 2.0)  # d(6 s²)/ds


def test_a_0d_float32_leaf_keeps_its_dtype():
    s = Value(np.array(2.0, dtype=np.float32))
    out = (s * 3.0) * Value(1.0)
    out.backward()
    assert isinstance(s.grad, np.float32) and s.grad == 3.0


def test_constants_get_no_gradient():
    c = Value(2.0, requires_grad=False)
    x = Value(3.0)
    (c * x + c).backward()
    assert c.grad is None and x.grad == 2.0
    assert not (c * c).requires_grad


def test_no_grad_records_nothing_and_is_per_thread():
    x = Value(3.0)
    with no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.is_leaf
    entered, release, recorded = threading.Event(), threading.Event(), []

    def hold_no_grad():
        with no_grad():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold_no_grad)
    thread.start()
    entered.wait(5)
    try:
        recorded.append((x * 2.0).requires_grad)  # this thread still records
    finally:
        release.set()
        thread.join()
    assert recorded == [True]


def test_a_deep_chain_needs_no_recursion_and_frees_by_reference_counting():
    gc.disable()
    try:
        x = Value(0.5)
        y = x
        for i in range(100_000):
            y = y * 0.999999 if i % 2 == 0 else y + 1e-6
        y.backward()
        assert x.grad == pytest.approx(0.999999 ** 50_000)
        probe = weakref.ref(y._args[0])
        del y
        assert probe() is None
    finally:
        gc.enable()


def test_scalar_nodes_are_ordinary_nodes():
    x = Value(1.5, name="x")
    y = (x * 2.0 + 1.0).tanh()
    assert y.op == "tanh" and y.inputs[0].op == "add"
    assert "tanh" in autodiff.explain(y)
    (gx,) = autodiff.grad(lambda v: (v * 2.0 + 1.0).tanh())(1.5),
    assert gx == pytest.approx(2 * (1 - math.tanh(4.0) ** 2))
    second = autodiff.grad(autodiff.grad(lambda v: v * v * v))(2.0)
    assert second == pytest.approx(12.0)


def test_a_refused_backward_leaves_every_gradient_as_it_was():
    # The scalar walk meets an array node (so the generic engine takes the graph), and the
    # generic engine then refuses the stale graph: the failed call changes no `.grad`.
    x = Value(2.0)
    v = Value(np.array([1.0, 2.0]))
    y = x * 3.0
    out = y * (v * 2.0).sum()
    out.backward()
    before = {name: value.grad for name, value in (("x", x), ("y", y), ("out", out))}
    before_v = v.grad.copy()
    v.data = np.array([5.0, 6.0])
    with pytest.raises(RuntimeError):
        out.backward()
    assert {"x": x.grad, "y": y.grad, "out": out.grad} == before
    np.testing.assert_array_equal(v.grad, before_v)


def test_a_scalar_op_allocates_one_object_the_cyclic_collector_tracks():
    # The node keeps its operands in two slots rather than a tuple: half the allocations
    # the collector counts, and half the objects each of its passes walks in a big graph.
    x = Value(0.5)
    kept = []
    gc.disable()
    try:
        before = gc.get_count()[0]
        y = x
        for _ in range(200):
            y = (y * 0.999).relu() + x
            kept.append(y)
        allocated = gc.get_count()[0] - before
    finally:
        gc.enable()
    assert allocated <= 3 * 200 + 10  # three ops a round, a Value each (+ the list's growth)
    assert y.op == "add" and y._args == (y.inputs[0], x)
    assert y.inputs[0].op == "relu" and y.inputs[0]._args == (y.inputs[0].inputs[0],)


def test_a_scalar_node_recorded_by_the_generic_path_joins_the_scalar_pass():
    x = Value(0.3)
    inner = autodiff.tanh(x * 2.0)  # the op table's primitive, called directly
    out = inner * x
    args_before = inner._args
    assert scalar_path.takes_scalar_path(out)
    out.backward()
    assert inner._args == args_before
    t = math.tanh(0.6)
    assert x.grad == pytest.approx(t + 0.3 * 2 * (1 - t * t), rel=1e-15)


def test_release_graph_frees_the_operands_of_scalar_nodes():
    x = Value(0.5)
    hidden = (x * 3.0).tanh()
    probe = weakref.ref(hidden)
    out = hidden * 2.0
    del hidden
    assert probe() is not None  # held by out's node
    out.backward(release_graph=True)
    assert probe() is None and out._args == ()
    assert x.grad == pytest.approx(2 * 3 * (1 - math.tanh(1.5) ** 2))


def test_a_deep_copy_of_a_scalar_graph_differentiates_like_the_original():
    # the mark of a one-operand node must stay the one mark through a copy: a copied
    # tanh node was read as having two operands, and its rule raised TypeError
    x = Value(0.5, name="x")
    y = (x * 3.0).tanh() + x.exp()
    twin = copy.deepcopy(y)
    assert scalar_path.takes_scalar_path(twin)
    twin.backward()
    y.backward()
    (twin_x,) = {leaf for leaf in autodiff.engine.reachable_nodes(twin) if leaf.is_leaf}
    assert twin_x is not x and twin_x.grad == x.grad
    assert x.grad == pytest.approx(3 * (1 - math.tanh(1.5) ** 2) + math.exp(0.5), rel=1e-15)
