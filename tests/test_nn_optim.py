"""nn optimisers: the update formulas, state across steps, non-finite gradients, errors."""

import numpy as np
import pytest

import nn
from autodiff import Value


def parameters_with_grads(*pairs):
    values = []
    for data, grad in pairs:
        value = Value(np.array(data, dtype=float))
        value.grad = np.array(grad, dtype=float)
        values.append(value)
    return values


def test_sgd_plain_step():
    w, b = parameters_with_grads(([1.0, 2.0], [0.5, -1.0]), ([3.0], [2.0]))
    nn.SGD([w, b], lr=0.1).step()
    np.testing.assert_allclose(w.data, [0.95, 2.1])
    np.testing.assert_allclose(b.data, [2.8])


def test_sgd_momentum_and_weight_decay_over_steps():
    (w,) = parameters_with_grads(([1.0, -2.0], [0.0, 0.0]))
    optimizer = nn.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    expected, velocity = w.data.copy(), np.zeros(2)
    for gradient in ([1.0, 2.0], [0.5, -0.5], [-1.0, 0.25]):
        w.grad = np.array(gradient)
        g = np.array(gradient) + 0.01 * expected
        velocity = 0.9 * velocity + g
        expected = expected - 0.1 * velocity
        optimizer.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-14)


def test_adam_matches_its_formula_over_steps():
    (w,) = parameters_with_grads(([0.5, -1.5, 2.0], [0.0, 0.0, 0.0]))
    lr, b1, b2, eps, decay = 0.01, 0.8, 0.99, 1e-6, 0.1
    optimizer = nn.Adam([w], lr=lr, betas=(b1, b2), eps=eps, weight_decay=decay)
    expected, m, v = w.data.copy(), np.zeros(3), np.zeros(3)
    rng = np.random.default_rng(0)
    for t in range(1, 6):
        gradient = rng.normal(size=3)
        w.grad = gradient.copy()
        g = gradient + decay * expected
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        optimizer.step()
        np.testing.assert_allclose(w.data, expected, rtol=1e-13)


def test_adam_first_step_moves_each_weight_by_about_lr():
    (w,) = parameters_with_grads(([0.0, 0.0], [1e-3, -50.0]))
    nn.Adam([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [-0.1, 0.1], rtol=1e-4)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.5),
                                  lambda ps: nn.Adam(ps, lr=0.1)])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_gradient_raises_and_changes_nothing(make, bad):
    model = nn.MLP(2, [3, 2], rng=0)
    optimizer = make(model.parameters())
    nn.cross_entropy(model(np.ones((4, 2))), np.array([0, 1, 0, 1])).backward()
    optimizer.step()  # state (momentum, moments) exists now
    before = model.state_dict()
    model.layers[1].W.grad = model.layers[1].W.grad.copy()
    model.layers[1].W.grad[0, 1] = bad
    with pytest.raises(FloatingPointError) as caught:
        optimizer.step()
    assert "gradient of parameter layers.1.W (shape (3, 2)) contains nan or inf" in str(
        caught.value)
    assert "no parameter was updated" in str(caught.value)
    for name, value in model.named_parameters():  # layers.0.* come first and were not touched
        np.testing.assert_array_equal(value.data, before[name])


def test_non_finite_gradient_of_an_unnamed_parameter_gives_its_index():
    values = parameters_with_grads(([1.0], [1.0]), ([1.0], [np.nan]))
    with pytest.raises(FloatingPointError, match=r"SGD\.step: the gradient of parameter #1 "
                                                 r"\(unnamed\)"):
        nn.SGD(values, lr=0.1).step()


def test_huge_finite_gradients_are_not_mistaken_for_overflow():
    (w,) = parameters_with_grads(([0.0, 0.0], [1e308, 1e308]))  # their sum overflows
    nn.SGD([w], lr=1e-10).step()
    np.testing.assert_allclose(w.data, [-1e298, -1e298])


def test_parameters_without_gradient_are_skipped():
    w, b = parameters_with_grads(([1.0], [1.0]), ([5.0], [1.0]))
    b.grad = None
    nn.SGD([w, b], lr=0.5).step()
    assert w.data[0] == 0.5 and b.data[0] == 5.0


def test_zero_grad_clears_gradients():
    values = parameters_with_grads(([1.0], [1.0]), ([2.0], [3.0]))
    optimizer = nn.Adam(values)
    optimizer.zero_grad()
    assert all(v.grad is None for v in values)


def test_scalar_parameters_stay_python_floats():
    for optimizer_class in (nn.SGD, nn.Adam):
        w = Value(2.0)
        (w * w).backward()
        optimizer_class([w], lr=0.1).step()
        assert type(w.data) is float and w.data < 2.0


def test_float32_parameters_stay_float32_and_keep_their_array():
    model = nn.MLP(3, [4, 2], dtype=np.float32, rng=0)
    arrays = [p.data for p in model.parameters()]
    optimizer = nn.Adam(model.parameters(), lr=0.01)
    nn.cross_entropy(model(np.ones((2, 3), dtype=np.float32)), np.array([0, 1])).backward()
    optimizer.step()
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert all(p.data is a for p, a in zip(model.parameters(), arrays, strict=True))


def test_read_only_parameter_data_is_replaced_not_written():
    frozen = np.ones(2)
    frozen.flags.writeable = False
    w = Value(frozen)
    w.grad = np.ones(2)
    nn.SGD([w], lr=0.5).step()
    np.testing.assert_allclose(w.data, [0.5, 0.5])
    np.testing.assert_allclose(frozen, [1.0, 1.0])


def test_training_reduces_the_loss():
    X, y = nn.data.make_moons(100, noise=0.1, rng=0)
    for optimizer_class, lr in ((nn.SGD, 0.5), (nn.Adam, 0.02)):
        model = nn.MLP(2, [16, 2], activation="tanh", rng=1)
        optimizer = optimizer_class(model.parameters(), lr=lr)
        first = None
        for _ in range(100):
            loss = nn.cross_entropy(model(X), y)
            first = loss.item() if first is None else first
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert loss.item() < 0.5 * first


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nn.SGD([], lr=0.1), "SGD: got an empty list of parameters"),
        (lambda: nn.SGD([Value(1.0)], lr=0.0), "SGD: lr must be positive; got 0.0"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=1.0),
         r"SGD: momentum must lie in \[0, 1\); got 1.0"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, weight_decay=-1),
         "SGD: weight_decay must be >= 0; got -1"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), r"Adam: betas must lie in \[0, 1\)"),
        (lambda: nn.Adam([Value(1.0)], eps=0), "Adam: eps must be positive; got 0"),
    ],
)
def test_bad_settings_are_rejected(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_non_values_are_rejected():
    with pytest.raises(TypeError, match="Adam: parameter 1 is a ndarray, not a Value"):
        nn.Adam([Value(1.0), np.ones(2)])
