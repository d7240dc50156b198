"""The gradient checker and the hypothesis strategies themselves: the checker must pass
correct rules, catch wrong ones with a readable message, and the strategies must draw what
they promise."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import Value, primitive
from autodiff.testing import check_grad, default_tolerances
from autodiff.testing.strategies import (
    DOMAINS,
    GRAPH_OPS,
    Graph,
    arrays,
    broadcastable_shapes,
    graphs,
    values,
)

fast = settings(max_examples=30, deadline=None, derandomize=True)


# --------------------------------------------------------------------------- check_grad passes


def test_passes_correct_functions_of_several_arrays_with_vector_output():
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    error = check_grad(lambda x, W, b: (x @ W + b).tanh(), x, W, b, order=2,
                       modes=("rev", "fwd"))
    assert 0.0 <= error < 1e-6


def test_returns_largest_absolute_error():
    error = check_grad(lambda v: v.exp().sum(), np.array([0.5, 1.0]))
    assert isinstance(error, float)
    assert 0.0 < error < 1e-6  # finite differences are never exact


def test_accepts_numbers_values_and_passes_non_float_arguments_through():
    def f(x, axis, scale, mask):
        return (x[mask] * scale).sum(axis=axis)

    x = Value(np.arange(6.0).reshape(2, 3) / 4, name="x")
    mask = np.array([[True, False, True], [True, True, False]])
    assert check_grad(f, x, 0, 1.5, mask) < 1e-6  # the int axis and the mask are constants


def test_float32_arguments_get_looser_default_tolerances():
    rtol64, atol64 = default_tolerances(np.float64)
    rtol32, atol32 = default_tolerances(np.float32)
    assert rtol32 > rtol64 and atol32 > atol64
    x = np.linspace(-1, 1, 5).astype(np.float32)
    check_grad(lambda v: (v * v).sigmoid().sum(), x, order=2)


def test_function_that_computes_in_float32_by_itself():
    x = np.linspace(0.5, 1.5, 4)
    check_grad(lambda v: v.astype(np.float32).log() * 3, x, order=2, modes=("rev", "fwd"))


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        check_grad(lambda v: v, 1.0, order=3)
    with pytest.raises(ValueError, match="modes"):
        check_grad(lambda v: v, 1.0, modes=("backward",))
    with pytest.raises(ValueError, match="no floating argument"):
        check_grad(lambda n: Value(float(n)), 3)


# --------------------------------------------------------------------------- check_grad fails


def test_wrong_custom_vjp_is_caught_with_a_readable_message():
    @primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, out, x: g * 2 * x ** 2)  # wrong: d(x³)/dx = 3x²

    x = np.array([[0.5, -1.0], [1.5, 2.0]])
    with pytest.raises(AssertionError) as failure:
        check_grad(lambda v: cube(v).sum(), Value(x, name="weights"))
    message = str(failure.value)
    assert "reverse-mode gradient of argument 0 ('weights')" in message
    assert "shape (2, 2), dtype float64" in message
    # the worst element is the largest |x|, where 2x² and 3x² differ most: x = 2.0 at [1, 1]
    assert "worst element at index [1, 1]" in message
    assert re.search(r"autodiff:\s+8\b", message)
    assert re.search(r"finite differences:\s+12(\.0+\d*)?\b", message)
    assert "absolute error 4" in message
    assert "relative error 0.333" in message
    assert "4 of 4 elements out of tolerance" in message


def test_wrong_rule_for_second_argument_names_that_argument():
    @primitive
    def scaled(x, y):
        return x * y

    scaled.defvjp(lambda g, out, x, y: g * y, lambda g, out, x, y: g * x * 1.01)

    with pytest.raises(AssertionError, match=r"gradient of argument 1\b"):
        check_grad(scaled, np.array([1.0, 2.0]), np.array([3.0, 4.0]))


def test_wrong_rule_is_caught_in_forward_mode():
    @primitive
    def square(x):
        return x * x

    square.defvjp(lambda g, out, x: g * x)  # wrong: 2x

    with pytest.raises(AssertionError, match=r"forward-mode derivative .* argument 0"):
        check_grad(square, np.array([1.0, -2.0, 3.0]), modes=("fwd",))


def test_rule_right_at_first_order_but_not_differentiable_is_caught_at_order_two():
    @primitive
    def cube(x):
        return x ** 3

    # correct values, but computed from raw data: the second derivative is lost
    cube.defvjp(lambda g, out, x: g * 3 * (x.data if isinstance(x, Value) else x) ** 2)

    x = np.array([0.5, 1.5])
    assert check_grad(cube, x) < 1e-5  # first order is fine
    for mode in ("rev", "fwd"):
        with pytest.raises(AssertionError, match=r"second derivative .*argument 0") as failure:
            check_grad(cube, x, order=2, modes=(mode,))
        assert "autodiff:           0\n" in str(failure.value)


def test_nan_gradient_is_reported_not_passed():
    @primitive
    def identity(x):
        return x

    identity.defvjp(lambda g, out, x: g * np.nan)
    with pytest.raises(AssertionError, match=r"autodiff: +nan"):
        check_grad(identity, np.array([1.0, 2.0]))


def test_tolerances_can_be_loosened():
    @primitive
    def almost(x):
        return 2 * x

    almost.defvjp(lambda g, out, x: g * 2.001)
    with pytest.raises(AssertionError):
        check_grad(almost, np.array([1.0]))
    check_grad(almost, np.array([1.0]), rtol=1e-3)


# --------------------------------------------------------------------------- without hypothesis


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, timeout=120)


def test_import_autodiff_does_not_import_hypothesis():
    result = run_python(
        "import sys, autodiff, autodiff.testing\n"
        "print('hypothesis' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_check_grad_works_without_hypothesis_installed():
    blocked = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'hypothesis' or name.startswith('hypothesis.'):\n"
        "            raise ModuleNotFoundError('no hypothesis', name='hypothesis')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np\n"
        "from autodiff.testing import check_grad\n"
        "print(check_grad(lambda v: v.sin().sum(), np.array([0.1, 0.2]), order=2) < 1e-5)\n"
        "try:\n"
        "    import autodiff.testing.strategies\n"
        "except ModuleNotFoundError as error:\n"
        "    print('strategies need', error.name)\n"
    )
    result = run_python(blocked)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["True", "strategies need hypothesis"]


# --------------------------------------------------------------------------- strategies


@fast
@given(broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shape_triple):
    assert len(shape_triple) == 3
    np.broadcast_shapes(*shape_triple)


@fast
@given(arrays((4, 3), np.float32, low=-1.0, high=3.0, avoid=(0.0, 1.0), margin=0.2))
def test_arrays_respect_range_and_avoided_points(x):
    assert x.shape == (4, 3) and x.dtype == np.float32
    assert np.all((x >= -1.0) & (x <= 3.0))
    assert np.all(np.abs(x - 0.0) >= 0.2 - 1e-6)
    assert np.all(np.abs(x - 1.0) >= 0.2 - 1e-6)


@fast
@given(arrays((3, 4), distinct=True, avoid=(0.0,)))
def test_distinct_arrays_have_no_near_ties(x):
    ordered = np.sort(x.reshape(-1))
    allowed_length = 4.0 - 2 * 0.1
    assert np.min(np.diff(ordered)) >= allowed_length / (2 * x.size) - 1e-12


@fast
@given(arrays(st.just((2,)), elements=st.floats(5, 6)))
def test_arrays_with_explicit_elements(x):
    assert x.shape == (2,) and np.all((x >= 5) & (x <= 6))


@fast
@given(values(shape=st.sampled_from([(), (2, 3)]), dtype=st.sampled_from(["float32",
                                                                          "float64"])))
def test_values_are_values_of_the_requested_kind(v):
    assert isinstance(v, Value) and v.requires_grad
    assert v.shape in ((), (2, 3)) and v.dtype in (np.float32, np.float64)
    assert np.all(np.isfinite(v.detach().numpy()))


def test_empty_allowed_range_is_an_error_at_construction():
    with pytest.raises(ValueError, match="nothing left"):
        arrays(low=-0.1, high=0.1, avoid=(0.0,), margin=0.5)
    with pytest.raises(ValueError, match="unknown ops"):
        graphs(ops=("relu", "frobnicate"))


def _inside(x: np.ndarray, domain: str) -> bool:
    """x lies in the op table's named array domain (DOMAINS), with its margins."""
    spec = DOMAINS[domain]
    x = np.asarray(x, dtype=np.float64)
    if np.any(x < spec["low"] - 1e-6) or np.any(x > spec["high"] + 1e-6):
        return False
    if any(np.any(np.abs(x - point) < spec.get("margin", 0.1) - 1e-6)
           for point in spec.get("avoid", ())):
        return False
    return not spec.get("distinct") or x.size < 2 or np.min(np.diff(np.sort(x, None))) > 0


@fast
@given(graphs(ops=("log", "sqrt", "relu", "abs", "max", "clip", "maximum", "sin", "multiply"),
              min_depth=2, max_depth=5))
def test_graphs_keep_domains_valid(graph):
    """Every argument fed from an earlier value lies in the domain its array was drawn from."""
    assert isinstance(graph, Graph)
    assert set(graph.ops) <= {"log", "sqrt", "relu", "abs", "max", "clip", "maximum", "sin",
                              "multiply"}
    env = graph.intermediates(*graph.args)
    for step in graph.steps:
        for feed in step.feeds:
            fed = np.asarray(feed(env).data)
            if feed.domain in DOMAINS:
                assert _inside(fed, feed.domain), (step.text, feed.domain, fed)


@fast
@given(graphs(ops=("sin", "exp", "tanh", "matmul"), min_depth=3, max_depth=3))
def test_every_step_reads_the_previous_result(graph):
    """Fed in as an argument, or combined with the step's result."""
    assert len(graph.steps) == 3
    for previous, step in zip(graph.steps, graph.steps[1:], strict=False):
        assert step.operands[0] == previous.target
        assert (step.combine == previous.target) != any(
            feed.source == previous.target for feed in step.feeds)


def test_graphs_feed_the_previous_result_into_the_next_operation():
    graph = find(graphs(ops=("sin", "exp"), min_depth=3, max_depth=3),
                 lambda g: all(step.combine is None for step in g.steps),
                 settings=settings(max_examples=100, deadline=None, derandomize=True,
                                   database=None, phases=[Phase.generate]))
    assert repr(graph).count("np.tanh(t") == 2  # t1 squashed into t2's argument, t2 into t3's


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(graphs(max_depth=3))
def test_graph_repr_is_a_program_that_rebuilds_it(graph):
    text = repr(graph)
    assert text.startswith("def graph(x0")
    namespace = {"np": np, "autodiff": autodiff, "array": np.array}
    exec(text, namespace)
    rebuilt = namespace["graph"](*[Value(namespace[f"x{i}"], requires_grad=False)
                                   for i in range(len(graph.args))])
    np.testing.assert_allclose(np.asarray(rebuilt.data), np.asarray(graph(*graph.args).data))


def test_graph_ops_are_the_op_tables_entries_with_cases():
    from autodiff.ops.table import TABLE

    assert set(GRAPH_OPS) == {name for name, entry in TABLE.items()
                              if entry.cases is not None and "float64" in entry.dtypes}
    assert {"add", "sin", "sum", "matmul", "concatenate", "where"} <= set(GRAPH_OPS)


@pytest.mark.parametrize("op", GRAPH_OPS)
@settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_graphs_can_draw_every_op(op, data):
    graph = data.draw(graphs(ops=(op,), max_depth=1))  # never a graph without it
    assert graph.ops == (op,)


def _cancelling_float32_chain(x0):
    """Four tanh layers whose last subtraction cancels: the output (−0.017) is a hundred
    times smaller than the values it is computed from, and so is ε·|output| against the
    rounding its finite differences carry."""
    shift = np.array(-2.0, dtype=np.float32)
    t1 = np.add(1.9 * np.tanh(x0 / 2.0), shift)
    t2 = np.subtract(1.9 * np.tanh(t1 / 2.0), shift)
    t3 = np.add(1.9 * np.tanh(t2 / 2.0), shift)
    return np.subtract(np.array(-1.375, dtype=np.float32), 1.9 * np.tanh(t3 / 2.0))


def test_check_grad_in_float32_measures_the_rounding_of_a_result_that_cancels():
    """Its second derivative is right (float64 gives the same to 7 digits); the float32
    finite differences were off by 7%, and their noise, estimated from the output alone,
    was 0.00008: check_grad blamed autodiff."""
    x0 = np.array(-2.0, dtype=np.float32)
    exact = autodiff.grad(autodiff.grad(_cancelling_float32_chain))(x0.astype(np.float64))
    second = autodiff.grad(autodiff.grad(_cancelling_float32_chain))(x0)
    assert second == pytest.approx(exact, rel=1e-5)
    check_grad(_cancelling_float32_chain, x0, order=2)


def test_check_grad_in_float32_still_catches_a_wrong_rule_in_a_chain_that_cancels():
    @primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, out, x: g * 3.3 * x ** 2)  # 10% too large
    with pytest.raises(AssertionError, match="disagrees"):
        check_grad(lambda x: _cancelling_float32_chain(cube(x)), np.array(-0.9, np.float32))


def test_second_order_check_of_a_function_constant_in_a_complex_argument_warns_nothing():
    # Where f does not depend on an argument, its gradient there is a plain array of zeros,
    # and the check took its real part with astype: numpy's ComplexWarning, for a number
    # that was right all along.
    z = np.array([-2.0 - 1.0j, 0.5 + 3.0j])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        error = check_grad(lambda v: np.linalg.norm(v, ord=0) * 2.0, z, order=2)
    assert error == 0.0


def test_check_grad_moves_the_elements_of_a_transposed_argument():
    # was: the finite differences stepped a copy (reshape of a non-C-ordered array), so they
    # read 0 everywhere: a correct gradient was reported wrong, and a rule returning zeros
    # passed
    m = np.random.default_rng(0).standard_normal((3, 5)).T
    assert check_grad(lambda v: (v * v * v).sum(), m) < 1e-6

    @primitive
    def cube(x):
        return x**3

    cube.defvjp(lambda g, out, x: 0 * x)  # wrong: zero
    with pytest.raises(AssertionError, match="disagrees with central finite differences"):
        check_grad(lambda v: cube(v).sum(), m)
