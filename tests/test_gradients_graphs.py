"""Random compositions of built-in operations, and higher order through
`backward(create_graph=True)`, against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value
from autodiff.testing import check_grad
from autodiff.testing.strategies import GRAPH_OPS, arrays, graphs, shapes

graph_settings = settings(
    max_examples=100, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
dtype_param = pytest.mark.parametrize("dtype", [np.float64, np.float32],
                                      ids=["float64", "float32"])


@dtype_param
@graph_settings
@given(data=st.data())
def test_random_graphs_match_finite_differences(dtype, data):
    graph = data.draw(graphs(max_depth=4, dtype=dtype))
    check_grad(graph, *graph.args, order=2, modes=("rev", "fwd"))


@dtype_param
@graph_settings
@given(data=st.data())
def test_deep_random_graphs_match_finite_differences(dtype, data):
    graph = data.draw(graphs(min_depth=4, max_depth=7, dtype=dtype))
    check_grad(graph, *graph.args, order=2)


@pytest.mark.parametrize("op", GRAPH_OPS)
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_each_op_inside_random_graphs(op, data):
    """Each op composed with a few smooth ones, so every op meets non-trivial upstream
    gradients and broadcast partners."""
    graph = data.draw(graphs(ops=(op, "tanh", "multiply", "sum"), min_depth=2, max_depth=4))
    check_grad(graph, *graph.args, order=2)


# --------------------------------------------------------------------------- create_graph

def finite_difference_hvp(f, xs, vs, h=1e-4):
    """(∇²f · v) for scalar f of several float64 arrays, by four-point differences."""
    def at(shifts):
        return f(*[Value(x + s, requires_grad=False) for x, s in zip(xs, shifts, strict=True)])

    results = []
    for which, x in enumerate(xs):
        column = np.empty(x.size)
        for k in range(x.size):
            e = [np.zeros_like(y) for y in xs]
            e[which].reshape(-1)[k] = h
            terms = [
                sign_e * sign_v * at([se * sign_e + h * v * sign_v
                                      for se, v in zip(e, vs, strict=True)]).item()
                for sign_e in (1, -1) for sign_v in (1, -1)
            ]
            column[k] = sum(terms) / (4 * h * h)
        results.append(column.reshape(x.shape))
    return results


@graph_settings
@given(data=st.data())
def test_backward_create_graph_gives_hessian_vector_products(data):
    graph = data.draw(graphs(max_depth=4, dtype=np.float64))
    xs = [np.array(x, dtype=np.float64) for x in graph.args]
    weights = np.random.default_rng(0).standard_normal(np.shape(graph(*xs).data))

    def scalar(*vs):
        return (graph(*vs) * weights).sum()

    leaves = [Value(x) for x in xs]
    directions = [np.cos(np.arange(x.size)).reshape(x.shape) for x in xs]
    scalar(*leaves).backward(create_graph=True)
    first = [leaf.grad for leaf in leaves]
    pairing = Value(0.0, requires_grad=False)
    for g, v in zip(first, directions, strict=True):
        if isinstance(g, Value):
            pairing = pairing + (g * v).sum()
    for leaf in leaves:
        leaf.zero_grad()
    if not pairing.requires_grad:  # the function is linear in every input
        expected = finite_difference_hvp(scalar, xs, directions)
        assert all(np.allclose(e, 0, atol=1e-5) for e in expected)
        return
    pairing.backward()
    expected = finite_difference_hvp(scalar, xs, directions)
    for leaf, want in zip(leaves, expected, strict=True):
        got = np.zeros_like(want) if leaf.grad is None else np.asarray(leaf.grad)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(x=st.floats(-2.0, 2.0))
def test_third_derivative_by_repeated_create_graph(x):
    """f = eˣ sin x: f' = eˣ(sin x + cos x), f'' = 2eˣ cos x, f''' = 2eˣ(cos x − sin x)."""
    v = Value(x)
    (v.exp() * v.sin()).backward(create_graph=True)
    first = v.grad
    v.zero_grad()
    first.backward(create_graph=True)
    second = v.grad
    v.zero_grad()
    second.backward()
    third = v.grad
    e = np.exp(x)
    assert first.item() == pytest.approx(e * (np.sin(x) + np.cos(x)), rel=1e-12, abs=1e-12)
    assert second.item() == pytest.approx(2 * e * np.cos(x), rel=1e-12, abs=1e-12)
    assert third == pytest.approx(2 * e * (np.cos(x) - np.sin(x)), rel=1e-12, abs=1e-12)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data())
def test_gradient_of_gradient_norm_matches_finite_differences(data):
    """A gradient penalty, as in regularised training: ∂‖∇ₓ L‖²/∂W through create_graph."""
    x = data.draw(arrays((3, 2)))
    w = data.draw(arrays((2, 2)))

    def penalty(W):
        inputs = Value(x)
        loss = (inputs @ W).tanh().sum()
        loss.backward(create_graph=True)
        return (inputs.grad ** 2).sum()

    check_grad(penalty, w)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(data=st.data())
def test_nested_functional_transforms_match_finite_differences(data):
    x = data.draw(arrays(shapes(min_dims=1, max_dims=1, max_side=3)))

    def gradient_norm(v):
        return (autodiff.grad(lambda u: (u.sin() * u).sum())(v) ** 2).sum()

    check_grad(gradient_norm, x, order=2, modes=("rev", "fwd"))
