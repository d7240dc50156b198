"""nn losses: values against direct numpy formulas, gradients against finite differences,
reductions, numerical stability, second derivatives and the error messages."""

import numpy as np
import pytest

import autodiff
import nn
from autodiff import Value

RNG = np.random.default_rng(42)


def numeric_gradient(f, x, step=1e-6):
    """Central differences of the scalar function f at array x."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        shifted = x.copy()
        shifted[index] += step
        up = f(shifted)
        shifted[index] -= 2 * step
        grad[index] = (up - f(shifted)) / (2 * step)
    return grad


def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def reference(loss, prediction, target, reduction):
    """Each loss written directly from its textbook formula."""
    if loss == "mse_loss":
        per_element = (prediction - target.reshape(prediction.shape)) ** 2
    elif loss == "cross_entropy":
        per_element = -log_softmax(prediction)[np.arange(len(target)), target]
    elif loss == "binary_cross_entropy_with_logits":
        p = 1 / (1 + np.exp(-prediction))
        t = target.reshape(prediction.shape)
        per_element = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    else:
        per_element = np.maximum(0, 1 - target.reshape(prediction.shape) * prediction)
    return per_element.mean() if reduction == "mean" else per_element.sum()


def example(loss, shape=(6, 3)):
    prediction = RNG.normal(size=shape)
    if loss == "cross_entropy":
        target = RNG.integers(0, shape[1], size=shape[0])
    elif loss == "mse_loss":
        target = RNG.normal(size=shape)
    elif loss == "binary_cross_entropy_with_logits":
        target = RNG.uniform(size=shape)
    else:
        target = RNG.choice([-1.0, 1.0], size=shape)
    return prediction, target


LOSSES = {
    "mse_loss": nn.mse_loss,
    "cross_entropy": nn.cross_entropy,
    "binary_cross_entropy_with_logits": nn.binary_cross_entropy_with_logits,
    "hinge_loss": nn.hinge_loss,
}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss", LOSSES)
def test_value_and_gradient(loss, reduction):
    prediction, target = example(loss)
    x = Value(prediction)
    out = LOSSES[loss](x, target, reduction=reduction)
    assert out.op == loss and out.shape == ()
    assert out.item() == pytest.approx(reference(loss, prediction, target, reduction), rel=1e-12)
    out.backward()
    expected = numeric_gradient(lambda p: reference(loss, p, target, reduction), prediction)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", LOSSES)
def test_mean_is_sum_over_count(loss):
    prediction, target = example(loss, shape=(5, 4))
    mean = LOSSES[loss](prediction, target, reduction="mean")
    total = LOSSES[loss](prediction, target, reduction="sum")
    count = 5 if loss == "cross_entropy" else 20
    assert float(mean) == pytest.approx(float(total) / count, rel=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_plain_arrays_give_a_plain_number(loss):
    prediction, target = example(loss)
    out = LOSSES[loss](prediction, target)
    assert not isinstance(out, Value)
    assert float(out) == pytest.approx(reference(loss, prediction, target, "mean"))


@pytest.mark.parametrize("loss", LOSSES)
def test_unknown_reduction_is_rejected(loss):
    prediction, target = example(loss)
    with pytest.raises(ValueError, match=f"^{loss}: reduction must be 'mean' or 'sum'; got 'max'"):
        LOSSES[loss](Value(prediction), target, reduction="max")


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits", "hinge_loss"])
def test_one_output_column_pairs_with_flat_targets(loss):
    prediction, target = example(loss, shape=(8, 1))
    x = Value(prediction)
    out = LOSSES[loss](x, target[:, 0])
    assert out.item() == pytest.approx(reference(loss, prediction, target, "mean"))
    out.backward()
    assert x.grad.shape == (8, 1)


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits", "hinge_loss"])
def test_other_shape_differences_are_errors_not_broadcasts(loss):
    prediction, target = example(loss, shape=(8, 2))
    kind = "label" if loss == "hinge_loss" else "target"
    with pytest.raises(ValueError, match=rf"^{loss}: predictions have shape \(8, 2\) but "
                                         rf"{kind}s have shape \(8,\)$"):
        LOSSES[loss](Value(prediction), target[:, 0])


def test_mse_gradient_reaches_a_value_target():
    prediction, target = Value(np.array([1.0, 2.0])), Value(np.array([0.0, 4.0]))
    nn.mse_loss(prediction, target).backward()
    np.testing.assert_allclose(prediction.grad, [1.0, -2.0])
    np.testing.assert_allclose(target.grad, [-1.0, 2.0])


def test_cross_entropy_is_stable_for_huge_logits():
    logits = Value(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = nn.cross_entropy(logits, np.array([0, 2]), reduction="sum")
        loss.backward()
    assert loss.item() == pytest.approx(np.log(2))
    np.testing.assert_allclose(logits.grad, [[0, 0, 0], [0, 0.5, -0.5]], atol=1e-12)


def test_binary_cross_entropy_is_stable_for_huge_logits():
    logits = Value(np.array([800.0, -800.0, 800.0]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = nn.binary_cross_entropy_with_logits(logits, np.array([1.0, 0.0, 0.0]), "sum")
        loss.backward()
    assert loss.item() == pytest.approx(800.0)
    np.testing.assert_allclose(logits.grad, [0.0, 0.0, 1.0])


def test_binary_cross_entropy_target_gradient():
    logits, targets = Value(np.array([0.3, -1.2])), Value(np.array([0.2, 0.9]))
    nn.binary_cross_entropy_with_logits(logits, targets, reduction="sum").backward()
    np.testing.assert_allclose(targets.grad, [-0.3, 1.2])


def test_cross_entropy_float32_stays_float32():
    logits = Value(RNG.normal(size=(4, 3)).astype(np.float32))
    loss = nn.cross_entropy(logits, np.array([0, 1, 2, 1]))
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


def test_cross_entropy_backward_twice_through_one_graph():
    """The saved softmax is used once; a second pass recomputes it and agrees."""
    logits, labels = RNG.normal(size=(5, 4)), RNG.integers(0, 4, size=5)
    x = Value(logits)
    loss = nn.cross_entropy(x, labels)
    loss.backward()
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-14)


def test_cross_entropy_second_derivative():
    """The hessian of mean cross-entropy in the logits is (diag(p) − p pᵀ) / batch, per row."""
    logits = RNG.normal(size=(2, 3))
    labels = np.array([2, 0])
    hessian = autodiff.hessian(lambda z: nn.cross_entropy(z, labels))(logits)
    hessian = np.asarray(hessian).reshape(6, 6)
    expected = np.zeros((6, 6))
    for row in range(2):
        p = np.exp(log_softmax(logits))[row]
        expected[3 * row:3 * row + 3, 3 * row:3 * row + 3] = (np.diag(p) - np.outer(p, p)) / 2
    np.testing.assert_allclose(hessian, expected, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_second_derivative_of_elementwise_losses(loss):
    x0 = RNG.normal(size=4)
    target = RNG.uniform(size=4)
    hessian = np.asarray(autodiff.hessian(lambda x: LOSSES[loss](x, target, "sum"))(x0))
    if loss == "mse_loss":
        expected = 2 * np.eye(4)
    else:
        p = 1 / (1 + np.exp(-x0))
        expected = np.diag(p * (1 - p))
    np.testing.assert_allclose(hessian, expected, atol=1e-12)


@pytest.mark.parametrize(("label", "position"), [(3, 1), (-1, 2)])
def test_cross_entropy_label_out_of_range(label, position):
    labels = np.array([0, 1, 2])
    labels[position] = label
    with pytest.raises(ValueError) as caught:
        nn.cross_entropy(Value(np.zeros((3, 3))), labels)
    assert str(caught.value) == (
        f"cross_entropy: label {label} at position {position} is out of range for 3 classes "
        "(labels must lie in 0..2)"
    )


def test_cross_entropy_rejects_float_labels_and_bad_shapes():
    with pytest.raises(TypeError, match="labels must be integer class indices; got an array of "
                                        "dtype float64"):
        nn.cross_entropy(Value(np.zeros((2, 3))), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"logits have shape \(2, 3\), so labels must have shape "
                                         r"\(2,\); got \(3,\)"):
        nn.cross_entropy(Value(np.zeros((2, 3))), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits must have shape \(batch, classes\); got shape "
                                         r"\(3,\)"):
        nn.cross_entropy(Value(np.zeros(3)), np.array([0]))


def test_cross_entropy_accepts_label_lists():
    loss = nn.cross_entropy(Value(np.zeros((2, 4))), [1, 3])
    assert loss.item() == pytest.approx(np.log(4))


def test_hinge_labels_must_be_plus_or_minus_one():
    with pytest.raises(ValueError, match=r"^hinge_loss: labels must be -1 or \+1; found 0"):
        nn.hinge_loss(Value(np.zeros(3)), np.array([1, 0, -1]))
    out = nn.hinge_loss(Value(np.array([2.0, 0.5, -0.5])), np.array([1, 1, 1]), "sum")
    assert out.item() == pytest.approx(0.0 + 0.5 + 1.5)


def test_hinge_gradient_is_zero_where_the_margin_holds():
    scores = Value(np.array([2.0, 0.5, -3.0, 0.2]))
    nn.hinge_loss(scores, np.array([1.0, 1.0, -1.0, -1.0]), reduction="sum").backward()
    np.testing.assert_allclose(scores.grad, [0.0, -1.0, 0.0, 1.0])


def test_binary_cross_entropy_targets_must_be_probabilities():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: targets must lie in "
                                         r"\[0, 1\]"):
        nn.binary_cross_entropy_with_logits(Value(np.zeros(2)), np.array([0.0, 2.0]))


def test_empty_batch_mean_is_an_error():
    with pytest.raises(ValueError, match="cannot average over an empty batch"):
        nn.mse_loss(Value(np.zeros((0, 2))), np.zeros((0, 2)))
