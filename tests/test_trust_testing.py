"""Regressions: each test here failed on the gradient-testing tools (check_grad and the
hypothesis strategies) before their trust review was closed.

check_grad exists to validate hand-written gradients, so a wrong rule that passes is the
worst defect it can have; every way the review found to get one is pinned down by name.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import autodiff
from autodiff import primitive
from autodiff.extend import raw
from autodiff.testing import check_grad
from autodiff.testing.strategies import CaseGenerator, arrays, graphs, op_cases

fast = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def _scaled_rule(name, factor, derivative):
    """A primitive computing `function` whose rule is its derivative times `factor`."""
    functions = {"triple": lambda x: 3 * x, "sin": np.sin}
    wrong = primitive(functions[name], name=f"{name}_times_{factor}")
    wrong.defvjp(lambda g, out, x: g * derivative(x) * factor)
    return wrong


def _points(n, dtype=np.float32):
    return np.random.default_rng(0).uniform(-1.5, 1.5, n).astype(dtype)


# --------------------------------------------------------------------------- 1. float32 noise


@pytest.mark.parametrize(("n", "factor"), [(100, 1.03), (1000, 1.3), (5000, 2.0)])
def test_float32_arguments_do_not_widen_the_check_with_the_size_of_the_output(n, factor):
    """With a float32 argument the differences' noise was taken as float32's, ε32·Σ|uᵢfᵢ|,
    though they are evaluated in float64: a rule 3% wrong passed at 100 elements, 30% at
    1000 and 100% at 5000."""
    triple = _scaled_rule("triple", factor, lambda x: 3)
    with pytest.raises(AssertionError, match="disagrees with central finite differences"):
        check_grad(lambda x: (triple(x) + 10).sum(), _points(n))


def test_float32_arguments_do_not_widen_forward_mode_or_second_order_checks():
    """The same allowance hid a sine rule 10% too large in forward mode at 3000 elements,
    and at order 2 a rule written with raw numpy, which has no second derivative at all."""
    sine = _scaled_rule("sin", 1.1, np.cos)
    with pytest.raises(AssertionError, match="forward-mode derivative"):
        check_grad(lambda x: (sine(x) + 10).sum(), _points(3000), modes="fwd")
    flat = _scaled_rule("sin", 1.0, lambda x: np.cos(raw(x)))
    with pytest.raises(AssertionError, match="second derivative"):
        check_grad(lambda x: flat(x).sum(), _points(1000), order=2)
    # correct rules still pass: large float32 inputs, and functions that cast back to float32
    # inside (their float64 evaluation rounds like float32: the measured rounding sees it)
    x = _points(1000)
    check_grad(lambda v: (np.sin(v) + 10).sum(), x, order=2, modes=("rev", "fwd"))
    check_grad(lambda v: v.astype(np.float32) * v, x[:50], order=2, modes=("rev", "fwd"))
    check_grad(lambda v: np.sin(v.astype(np.float32)) * 3, x[:300].astype(np.float64),
               order=2, modes=("rev", "fwd"))


def test_forward_mode_compares_each_output_element_with_its_own_rounding():
    """Forward mode compares output elements one by one, yet each was allowed the rounding
    of their whole weighted sum: for a function computing in float32, a sine rule 10% too
    large passed at 3000 elements."""
    sine = _scaled_rule("sin", 1.1, np.cos)
    with pytest.raises(AssertionError, match="forward-mode derivative"):
        check_grad(lambda x: sine(x.astype(np.float32)), _points(3000, np.float64),
                   modes="fwd")


_FFT_REAL_PARTS = np.array([-1.9958704, -0.9979352, 0.0, -0.9979352], np.float32)


def _float32_fmod(x):
    """fmod(3.8, b(x)) over 32 float32 elements: fmod multiplies the rounding of its
    divisor b by the quotient (up to 5 here), so f's float32 rounding is several times
    ε·|f|."""
    shifted = _FFT_REAL_PARTS.reshape(4, 1, 1) + np.zeros((4, 2, 4), np.float32)
    divisor = 0.7 * np.tanh((shifted + 0.5 * np.tanh(x)) / 2.0) + 1.25
    return np.fmod(np.full((4, 2, 4), 3.8, np.float32), divisor)


def test_float32_differences_allow_for_rounding_that_f_amplifies():
    """A random graph in CI: the float32 differences of a correct rule were 1% off (their
    own rounding, amplified by fmod), while the rounding measured a few float32 units apart
    was a third of that: check_grad called the correct gradient wrong."""
    check_grad(_float32_fmod, np.array(-2.0, np.float32), order=2, modes=("rev", "fwd"))
    wrong = _scaled_rule("sin", 1.1, np.cos)  # still caught in the same setting
    with pytest.raises(AssertionError, match="disagrees"):
        check_grad(lambda x: _float32_fmod(wrong(x)), np.array(-2.0, np.float32))


def test_float32_arguments_are_checked_at_the_precision_f_rounds_in_not_refused():
    """A random graph in CI: f computes in float32 inside and returns float64; its
    float32-step second differences are coarse, and check_grad refused a float32 argument
    as 'cannot be checked', where a float32 output is excused as documented."""
    def f(x):
        inner = np.real(np.fft.fft(np.array([-2.0], np.float32), n=3)) + 0.5 * np.tanh(x)
        return np.float_power(1.2 * np.tanh(inner / 2.0) + 1.75, np.float32(-2.0))

    check_grad(f, np.array(-2.0, np.float32), order=2, modes=("rev", "fwd"))



def test_float32_second_differences_allow_for_a_float32_staircase_over_their_own_step():
    """A random graph in CI: f rounds a slowly changing part to float32 (here 2 + 3e-5·x,
    one float32 step every 8e-3 of x), which the rounding measured over the order-1 step
    missed, while the order-2 differences, four times wider, crossed a step: 7e-3 off."""
    def f(x):
        return 0.01 * np.sin(x) + (np.full(3, 2.0, np.float32) + 3e-5 * x.sum())

    for x in np.linspace(-1.0, 1.0, 21):
        check_grad(f, np.array([x], np.float32), order=2)

# --------------------------------------------------------------------------- 2. float64 noise


def test_noise_half_as_large_as_the_derivatives_is_refused_not_added_to_atol():
    """Just below the old guard (noise as large as the derivatives) the noise was added to
    atol without a word: with f + 1e8, a rule 50% too large passed."""
    triple = _scaled_rule("triple", 1.5, lambda x: 3)
    x = np.linspace(-1, 1, 100)
    with pytest.raises(AssertionError, match="cannot be checked here") as failure:
        check_grad(lambda v: (triple(v) + 1e8).sum(), x)
    assert "above 0.1 of the largest derivative compared" in str(failure.value)
    with pytest.raises(AssertionError, match="disagrees"):  # with a smaller constant
        check_grad(lambda v: (triple(v) + 1e4).sum(), x)
    check_grad(lambda v: (3 * v + 1e4).sum(), x)


# --------------------------------------------------------------------------- 3. scalar outputs


def test_a_rule_that_ignores_its_incoming_gradient_is_caught_for_a_scalar_output():
    """The cotangent of a scalar output was always 1, so a rule that forgot `g *` passed,
    at first and second order."""
    softplus = primitive(lambda x: np.logaddexp(0.0, x), name="softplus_without_g")
    softplus.defvjp(lambda g, out, x: autodiff.sigmoid(x))  # forgot g *
    x = np.array([0.3, -1.2, 2.0])
    for order in (1, 2):
        with pytest.raises(AssertionError, match=r"reverse-mode gradient .* disagrees") as failure:
            check_grad(lambda v: softplus(v).sum(), x, order=order)
        assert "taken with the cotangent g =" in str(failure.value)
    # the numbers reported are f's own gradient, not scaled by the cotangent
    with pytest.raises(AssertionError, match=r"finite differences: +0\.8807970") as failure:
        check_grad(lambda v: softplus(v).sum(), x)
    softplus.defvjp(lambda g, out, x: g * autodiff.sigmoid(x))
    check_grad(lambda v: softplus(v).sum(), x, order=2, modes=("rev", "fwd"))


# --------------------------------------------------------------------------- 4. matrices


def _matrix_from(a, kind, dtype=np.float64):
    """CaseGenerator.matrix built on the drawn array `a`."""
    return CaseGenerator(lambda strategy: np.asarray(a, dtype), dtype).matrix(len(a), kind=kind)


def test_an_invertible_matrix_is_never_singular():
    """a + 3I with a in [−2, 2] could be exactly singular: [[1, −2], [−0.5, 1]] from the
    drawn [[−2, −2], [−0.5, −2]]."""
    m = _matrix_from([[-2.0, -2.0], [-0.5, -2.0]], "invertible")
    assert abs(np.linalg.det(m)) > 1.0
    assert np.linalg.cond(m, np.inf) < 10


@fast
@given(data=st.data(), n=st.integers(1, 4),
       dtype=st.sampled_from([np.float64, np.float32, np.complex128]))
def test_invertible_matrices_are_diagonally_dominant_and_well_conditioned(data, n, dtype):
    """The docstring promised well conditioned; 3I did not make it so for any draw."""
    m = data.draw(st.composite(lambda draw: CaseGenerator(draw, dtype).matrix(
        n, kind="invertible"))())
    assert m.shape == (n, n) and m.dtype == dtype
    magnitudes = np.abs(m.astype(np.complex128))
    off_diagonal = magnitudes.sum(axis=1) - np.diag(magnitudes)
    assert np.all(np.diag(magnitudes) - off_diagonal >= 1.0)
    assert np.linalg.cond(m.astype(np.complex128), np.inf) < 50


def test_an_unknown_matrix_kind_is_refused():
    """"posdef" or "orthogonal" silently returned a symmetric matrix."""
    for kind in ("posdef", "orthogonal"):
        with pytest.raises(ValueError, match=r"unknown kind .*choose from"):
            _matrix_from([[1.0, 0.5], [0.25, 1.0]], kind)


# --------------------------------------------------------------------------- 5. complex graphs


def test_complex_graphs_are_refused_up_front_naming_graphs():
    """graphs(dtype=np.complex128) was accepted, then every draw failed inside the test with
    "arrays: dtype must be a floating dtype"."""
    refused = r"graphs: .*inputs are real: give a floating dtype; got complex128"
    with pytest.raises(ValueError, match=refused):
        graphs(dtype=np.complex128)
    with pytest.raises(ValueError, match=refused):
        find(graphs(ops="exp", dtype=st.just(np.dtype(np.complex128))), lambda g: True,
             settings=settings(database=None, phases=[Phase.generate]))


# --------------------------------------------------------------------------- 6. clear errors


def test_graphs_take_a_single_op_name_as_one_op():
    """graphs(ops="exp") read the string as its letters: "unknown ops ['e', 'p', 'x']"."""
    graph = find(graphs(ops="exp", max_depth=2), lambda g: True,
                 settings=settings(database=None, phases=[Phase.generate]))
    assert set(graph.ops) == {"exp"}


def test_op_cases_take_an_op_name_and_refuse_anything_else_clearly():
    """op_cases("exp", ...) raised AttributeError: 'str' object has no attribute 'cases',
    inside the test."""
    args, _ = find(op_cases("exp", np.float64), lambda case: True,
                   settings=settings(database=None, phases=[Phase.generate]))
    assert isinstance(args[0], np.ndarray) and args[0].dtype == np.float64
    with pytest.raises(ValueError, match="op_cases: unknown op 'frobnicate'"):
        op_cases("frobnicate", np.float64)
    with pytest.raises(TypeError, match="op_cases: entry must be an op table entry"):
        op_cases(3, np.float64)


@pytest.mark.parametrize(("shape", "error", "words"), [
    (-1, ValueError, "sizes must be at least 0"),      # numpy's error inside the test
    ((2, -1), ValueError, "sizes must be at least 0"),
    (2.5, TypeError, "must be an int or a tuple of ints"),  # 'float' object is not iterable
    ("3", TypeError, "must be an int or a tuple of ints"),  # was the shape ('3',)
])
def test_arrays_refuse_a_bad_shape_when_the_strategy_is_built(shape, error, words):
    """A negative or non-integer shape failed only when drawn, inside the test, with
    numpy's or Python's error."""
    with pytest.raises(error, match=f"arrays: shape {words}"):
        arrays(shape)


@fast
@given(x=arrays(6, low=-1e308, high=1e308))
def test_arrays_between_huge_bounds_are_finite(x):
    """high − low overflowed to inf, and so did the draws, though the docstring promises
    finite values."""
    assert np.all(np.isfinite(x)) and np.all(np.abs(x) <= 1e308)


@fast
@given(x=arrays(5, low=-1e308, high=1e308, avoid=(0.0,), margin=1e307, distinct=True))
def test_arrays_between_huge_bounds_keep_their_avoided_points_and_ties(x):
    """The same overflow, with avoided points and distinct elements."""
    assert np.all(np.isfinite(x)) and np.all(np.abs(x) >= 1e307)
    assert np.min(np.diff(np.sort(x))) > 0


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_graphs_keep_remainders_away_from_their_jumps(data):
    """A remainder's divisor fed with an earlier value (the dividend stays the drawn
    constant) could sit next to a jump: fmod(3.3, 0.7·tanh(x/2) + 1.25) at x = −1.4 is
    0.009 from one, and the float32 differences crossed it (1090 against 0.04)."""
    graph = data.draw(graphs(ops=("fmod", "remainder"), max_depth=2))
    rng = np.random.default_rng(0)
    signs = [rng.choice((-1.0, 1.0), size=np.shape(x)) for x in graph.args]
    near = [np.asarray(raw(graph(*[autodiff.Value(x + k * 0.04 * s, requires_grad=False)
                                   for x, s in zip(graph.args, signs, strict=True)])))
            for k in (-1, 0, 1)]
    assert np.all(np.abs(near[0] - 2 * near[1] + near[2]) < 0.1), graph


def _through_a_float32_staircase(x0, x1):
    """A random graph from a sweep (float32 constants and arguments): at float64 points it
    rounds a slowly changing value to float32 (t4: eigenvalues of a float32 matrix plus the
    mean of a float64 array, a Python float), a staircase in x."""
    def combine(result, head):
        try:
            np.broadcast_shapes(np.shape(result), np.shape(head))
        except ValueError:
            return result + np.mean(np.tanh(head))
        return result + 0.5 * np.tanh(head)

    f32 = np.float32
    t1 = combine(autodiff.logsumexp(1.9 * np.tanh(x1 / 2.0), axis=None, keepdims=True), x0)
    t2 = combine(np.fft.irfftn(np.array([[[1.678842]], [[-1.8]], [[-2.0]]], f32),
                               norm="forward", axes=(0, 1), s=(3, 2)), t1)
    t3 = combine(np.tanh(np.array(
        [[[1.4847977, -1.2522308, -1.2522308, -1.2522308],
          [-1.2522308, -1.2522308, -1.9999, -1.2522308],
          [-1.2522308, -0.60759217, -2.0, -1.2522308]],
         [[-0.8365876, 1.2298884, -1.1557392, 0.8223748],
          [-0.47264645, 1.3425633, -1.2522308, 0.6929483],
          [-1.1392528, -1.2522308, -2.0, -2.0]]], f32)), t2)
    t4 = combine(np.linalg.eigvals(np.array([[5.4371104, 0.7764254], [1.9944029, 4.91848]],
                                            f32)), t3)
    t5 = combine(np.cross(np.array([[-2.0, -0.29387584, -2.0], [1.0592332, 1.9032574, 0.49725673]],
                                   f32), np.array([0.719167, -0.6920176, -0.9], f32)), t4)
    t6 = combine(np.real(np.fft.ifftn(np.array([[0.97608095, 1.8773302], [0.7083394, -1.0651196],
                                                [-2.0, 0.01]], f32), axes=(0, 1), s=(3, 2))), t5)
    return combine(np.fft.irfftn(1.9 * np.tanh(t2 / 2.0), norm="ortho", axes=(-1, 0)), t6)


def test_float32_differences_allow_for_a_staircase_that_one_stencil_crosses():
    """Rounding measured at a few points cannot foresee a float32 step that one stencil of
    the differences crosses (here 5% off at order 2, on a correct gradient): float32
    differences are also taken at twice the step, and the gap between the two is allowed."""
    x0 = np.array([[[1.5503, -0.35], [-1.2033356, -1.8565204]],
                   [[0.67149436, 1.25], [0.2817139, -0.66639704]],
                   [[-0.95, 1.7854483], [-1.6129043, 0.98807424]]], np.float32)
    x1 = np.array([[[-0.41110662]], [[-1.2482215]], [[1.5258211]]], np.float32)
    check_grad(_through_a_float32_staircase, x0, x1, order=2)
