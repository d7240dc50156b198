"""Regressions beyond the single-op table: each test here failed before the engine's trust
review (transforms, Values and their conventions, custom primitives, the testing helpers).

A silent wrong number is the worst defect this library can have, then an internal crash
instead of a clear error at the user's call; every way the review found to get one is
pinned down by name.
"""

from __future__ import annotations

import numpy as np
import pytest

from autodiff import grad, hessian, jacobian, jvp, value_and_grad

# --------------------------------------------------------------------------- 1. transforms


def test_jvp_refuses_an_array_given_as_its_primals_instead_of_unpacking_it():
    # (3., 4.) as two primals of a two-argument f would silently be jvp at x=3, y=4
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple or list.*ndarray"):
        jvp(lambda x, y: x * y, np.array([3.0, 4.0]), np.array([1.0, 1.0]))
    with pytest.raises(TypeError, match=r"jvp: tangents must be a tuple or list.*float"):
        jvp(lambda x: x * x, (3.0,), 1.0)
    with pytest.raises(TypeError, match=r"jvp: primals must be a tuple or list.*\(x,\)"):
        jvp(lambda x: x * x, 3.0, 1.0)


def test_jvp_refuses_a_complex_tangent_for_a_real_primal():
    # a real argument only moves along real directions: the imaginary part was dropped
    # silently (d/dt (3 + i t)² = 6i came back as 0)
    with pytest.raises(ValueError, match=r"jvp: tangent 0 is complex .* primal is real"):
        jvp(lambda x: x * x, (3.0,), (1j,))
    _, tangent = jvp(lambda z: z * z, (3.0 + 0j,), (1j,))
    assert tangent == 6j


@pytest.mark.parametrize("bad", ["a", None, {"x": 1.0}])
def test_jvp_names_a_tangent_that_is_not_numbers(bad):
    with pytest.raises(TypeError, match=r"jvp: tangent 0"):
        jvp(lambda x: x * x, (3.0,), (bad,))


def test_jacobian_of_a_complex_output_is_refused_instead_of_keeping_its_real_part():
    # d(x(1+2i))/dx is (1+2i)·I; the real part, I, came back without a word
    with pytest.raises(ValueError, match=r"jacobian: f returned a complex output"):
        jacobian(lambda x: x * (1 + 2j))(np.array([1.0, 2.0]))
    # a complex argument and a real output: rows are gradients, as in PyTorch
    J = jacobian(lambda z: np.abs(z))(np.array([3.0 + 4.0j, 2.0 + 0j]))
    np.testing.assert_allclose(J, [[0.6 + 0.8j, 0.0], [0.0, 1.0]])


def test_hessian_of_a_function_of_a_complex_argument_is_refused():
    # the gradient of a complex argument is complex: its Jacobian lost ∂/∂y silently
    with pytest.raises(ValueError, match=r"jacobian: f returned a complex output"):
        hessian(lambda z: (z.real ** 2 * z.imag).sum())(np.array([1.0 + 1.0j]))


def test_jacobian_takes_argnums_as_grad_does():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    f = lambda x, y: x * y * y
    np.testing.assert_array_equal(jacobian(f, argnums=1)(x, y), np.diag(2 * x * y))
    np.testing.assert_array_equal(jacobian(f, -1)(x, y), np.diag(2 * x * y))
    Jx, Jy = jacobian(f, (0, 1))(x, y)
    np.testing.assert_array_equal(Jx, np.diag(y * y))
    np.testing.assert_array_equal(Jy, np.diag(2 * x * y))
    (Hxx, Hxy), (Hyx, Hyy) = hessian(lambda x, y: (x * y * y).sum(), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(Hxx, np.zeros((2, 2)))
    np.testing.assert_array_equal(Hxy, np.diag(2 * y))
    np.testing.assert_array_equal(Hyx, np.diag(2 * y))
    np.testing.assert_array_equal(Hyy, np.diag(2 * x))


@pytest.mark.parametrize("argnum", [1.0, "a", True, (0, "b")])
def test_jacobian_and_hessian_name_a_bad_argnum(argnum):
    with pytest.raises(TypeError, match=r"jacobian: argnums? must be"):
        jacobian(lambda x: x, argnum)
    with pytest.raises(TypeError, match=r"hessian: argnums? must be"):
        hessian(lambda x: x, argnum)


def test_grad_passes_keyword_arguments_to_f_without_differentiating_them():
    f = lambda x, scale=1.0: (x * x * scale).sum()
    np.testing.assert_array_equal(grad(f)(np.ones(2), scale=3.0), [6.0, 6.0])
    value, gradient = value_and_grad(f)(np.ones(2), scale=3.0)
    assert value == 6.0
    np.testing.assert_array_equal(gradient, [6.0, 6.0])
    np.testing.assert_array_equal(jacobian(lambda x, k=1.0: x * k)(np.ones(2), k=2.0),
                                  2 * np.eye(2))
    np.testing.assert_array_equal(hessian(f)(np.ones(2), scale=3.0), 6 * np.eye(2))
