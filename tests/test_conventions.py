"""`.item()`, `.numpy()`, `.tolist()` and printing, as PyTorch users expect them."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
from autodiff import Value

# --------------------------------------------------------------------------- item


@pytest.mark.parametrize("data, expected, kind", [
    (2.5, 2.5, float),
    ([4.0], 4.0, float),
    (np.array([[2.0]], dtype=np.float32), 2.0, float),
    (np.float32(0.1), float(np.float32(0.1)), float),   # float32's value, as torch gives it
    (np.array([1 + 2j]), 1 + 2j, complex),
])
def test_item_is_the_one_element_as_a_python_number(data, expected, kind):
    got = Value(data).item()
    assert type(got) is kind and got == expected


def test_item_of_a_result_and_inside_a_transform_is_a_constant():
    x = Value(np.array([3.0]))
    assert type((x * 2).sum().item()) is float
    assert autodiff.grad(lambda x: x * x.item())(3.0) == 3.0


@pytest.mark.parametrize("shape", [(2,), (2, 3), (0,)])
def test_item_of_more_or_fewer_elements_raises(shape):
    with pytest.raises(ValueError, match=r"one-element.*\.tolist\(\)"):
        Value(np.ones(shape)).item()


# --------------------------------------------------------------------------- numpy


def test_numpy_of_a_value_that_requires_grad_raises_saying_detach():
    for v in (Value(np.ones(3)), Value(2.0), Value(np.ones(3)) * 2):
        with pytest.raises(RuntimeError, match=r"requires grad.*\.detach\(\)\.numpy\(\)"):
            v.numpy()


def test_numpy_of_a_constant_or_detached_value_shares_memory():
    a = np.arange(3.0)
    assert Value(a, requires_grad=False).numpy() is a
    v = Value(a)
    assert v.detach().numpy() is a and v.numpy(force=True) is a
    with autodiff.no_grad():
        w = v * 2
    assert isinstance(w.numpy(), np.ndarray) and w.numpy().tolist() == [0.0, 2.0, 4.0]
    assert Value(2.0, requires_grad=False).numpy() == np.array(2.0)
    assert Value(2.0, requires_grad=False).numpy().shape == ()


def test_gradients_are_arrays_already():
    v = Value(np.ones(2))
    (v * 3).sum().backward()
    assert type(v.grad) is np.ndarray and v.grad.tolist() == [3.0, 3.0]


# --------------------------------------------------------------------------- tolist


def test_tolist_is_nested_python_numbers_and_works_with_grad():
    v = Value(np.arange(6.0).reshape(2, 3))      # requires grad: tolist is allowed, as in torch
    assert v.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert type(v.tolist()[0][0]) is float
    assert Value(2.5).tolist() == 2.5 and type(Value(2.5).tolist()) is float
    assert type(Value(np.array(1.5, dtype=np.float32)).tolist()) is float
    assert Value(np.array([1j])).tolist() == [1j]


# --------------------------------------------------------------------------- printing


def test_printing_tells_tanh_9_from_1():
    t = Value(9.0).tanh()
    assert repr(t) == "Value(0.99999997)" and str(t) == repr(t) and f"{t}" == repr(t)
    assert repr(Value(np.array([9.0, 0.0])).tanh()) == "Value([0.99999997, 0.        ])"
    assert repr(Value(1.0)) == "Value(1.)"


def test_printing_follows_numpys_print_options():
    t = Value(9.0).tanh()
    with np.printoptions(precision=3):
        assert repr(t) == "Value(1.)"
    with np.printoptions(precision=12):
        assert repr(t) == "Value(0.99999996954)"
    x = Value(np.float32(1 / 3))
    assert repr(x) == "Value(0.33333334)"   # float32's digits, as numpy prints it


def test_printing_shows_the_gradient_with_the_same_digits():
    x = Value(9.0)
    x.tanh().backward()
    assert repr(x) == "Value(9., grad=6.09199171e-08)"
