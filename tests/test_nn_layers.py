"""nn layers: Linear, the activations, Sequential and MLP."""

import numpy as np
import pytest

import autodiff
import nn
from autodiff import Value


def test_linear_computes_x_w_plus_b_for_arrays_and_values():
    layer = nn.Linear(3, 2, rng=0)
    layer.b.data = np.array([0.5, -1.0])
    x = np.arange(12.0).reshape(4, 3)
    expected = x @ layer.W.data + layer.b.data
    out = layer(x)
    assert isinstance(out, Value) and out.shape == (4, 2)
    np.testing.assert_allclose(out.data, expected)
    np.testing.assert_allclose(layer(Value(x)).data, expected)
    np.testing.assert_allclose(layer(x.tolist()).data, expected)
    np.testing.assert_allclose(layer(x[0]).data, expected[0])  # one sample, shape (nin,)


def test_linear_gradients_for_batches_single_samples_and_inputs():
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 2, rng=rng)
    x = Value(rng.normal(size=(5, 3)))
    upstream = rng.normal(size=(5, 2))
    layer(x).backward(upstream)
    np.testing.assert_allclose(layer.W.grad, x.data.T @ upstream)
    np.testing.assert_allclose(layer.b.grad, upstream.sum(axis=0))
    np.testing.assert_allclose(x.grad, upstream @ layer.W.data.T)

    layer.zero_grad()
    single = Value(rng.normal(size=3))
    layer(single).backward(upstream[0])
    np.testing.assert_allclose(layer.W.grad, np.outer(single.data, upstream[0]))
    np.testing.assert_allclose(layer.b.grad, upstream[0])
    np.testing.assert_allclose(single.grad, layer.W.data @ upstream[0])


def test_linear_second_derivative_through_the_fused_rule():
    rng = np.random.default_rng(1)
    layer = nn.Linear(2, 1, rng=rng)

    def f(x):
        return autodiff.tanh(layer(x)).sum()

    x0 = rng.normal(size=(1, 2))
    hessian = autodiff.hessian(f)(x0).data  # (a Value: f closes over the layer's parameters)
    w = layer.W.data[:, 0]
    z = (x0 @ layer.W.data + layer.b.data).item()
    t = np.tanh(z)
    expected = (-2 * t * (1 - t * t)) * np.outer(w, w)
    np.testing.assert_allclose(np.asarray(hessian).reshape(2, 2), expected, rtol=1e-10)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False, rng=0)
    assert layer.b is None
    assert [name for name, _ in layer.named_parameters()] == ["W"]
    x = np.ones((2, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.W.data)


@pytest.mark.parametrize(
    ("given", "shape_text"), [((5, 4), "(5, 4)"), ((4,), "(4,)"), ((2, 3, 3), "(2, 3, 3)")]
)
def test_wrong_feature_count_names_the_layer_and_both_shapes(given, shape_text):
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError) as caught:
        layer(np.ones(given))
    assert str(caught.value) == (
        f"Linear: expected input of shape (batch, 3), got shape {shape_text}"
    )


def test_wrong_feature_count_inside_a_model_gives_the_layer_path():
    model = nn.MLP(4, [8, 8, 2])
    model.layers[1] = nn.Linear(5, 8)  # a mistake in the middle of the network
    model.name_parameters()
    with pytest.raises(ValueError, match=r"^Linear 'layers\.1': expected input of shape "
                                         r"\(batch, 5\), got shape \(10, 8\)$"):
        model(np.ones((10, 4)))
    with pytest.raises(ValueError, match=r"Linear 'layers\.0'.*\(batch, 4\).*\(10, 3\)"):
        model(Value(np.ones((10, 3))))


def test_linear_rejects_bad_sizes_and_init():
    with pytest.raises(ValueError, match="nin must be a positive integer"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="nout must be a positive integer"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match="init must be 'he' or 'xavier'"):
        nn.Linear(2, 2, init="zeros")
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        nn.Linear(2, 2, rng="seed")


def test_seeded_layers_are_reproducible():
    a, b = nn.Linear(5, 4, rng=3), nn.Linear(5, 4, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, nn.Linear(5, 4, rng=4).W.data)
    np.testing.assert_array_equal(nn.MLP(3, [4, 2], rng=9).layers[1].W.data,
                                  nn.MLP(3, [4, 2], rng=9).layers[1].W.data)
    assert np.all(a.b.data == 0)


def test_he_and_xavier_initialisation_statistics():
    nin, nout = 400, 300
    he = nn.Linear(nin, nout, init="he", rng=0).W.data
    assert he.std() == pytest.approx(np.sqrt(2 / nin), rel=0.02)
    assert he.mean() == pytest.approx(0, abs=0.003)
    xavier = nn.Linear(nin, nout, init="xavier", rng=0).W.data
    limit = np.sqrt(6 / (nin + nout))
    assert np.abs(xavier).max() <= limit
    assert np.abs(xavier).max() > 0.99 * limit
    assert xavier.var() == pytest.approx(2 / (nin + nout), rel=0.02)


def test_mlp_uses_he_for_relu_hidden_layers_and_xavier_elsewhere():
    relu = nn.MLP(400, [300, 300], activation="relu", rng=0)
    assert relu.layers[0].W.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    limit = np.sqrt(6 / 600)  # the linear output layer: Xavier, bounded
    assert np.abs(relu.layers[1].W.data).max() <= limit
    tanh = nn.MLP(400, [300, 300], activation="tanh", rng=0)
    assert np.abs(tanh.layers[0].W.data).max() <= np.sqrt(6 / 700)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_forward_matches_numpy_with_a_linear_last_layer(activation):
    functions = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
                 "sigmoid": lambda z: 1 / (1 + np.exp(-z))}
    rng = np.random.default_rng(2)
    model = nn.MLP(3, [6, 5, 4], activation=activation, rng=rng)
    for layer in model.layers:
        layer.b.data = rng.normal(size=layer.b.shape)
    x = rng.normal(size=(7, 3))
    a = x
    for index, layer in enumerate(model.layers):
        a = a @ layer.W.data + layer.b.data
        if index < 2:
            a = functions[activation](a)
    out = model(x)
    np.testing.assert_allclose(out.data, a, rtol=1e-12)
    assert np.any(out.data < 0)  # nothing squashes the output
    assert len(model.layers) == 3
    assert [(layer.nin, layer.nout) for layer in model.layers] == [(3, 6), (6, 5), (5, 4)]


def test_mlp_rejects_unknown_activation_and_empty_sizes():
    with pytest.raises(ValueError, match="activation must be one of relu, tanh, sigmoid"):
        nn.MLP(2, [3, 1], activation="gelu")
    with pytest.raises(ValueError, match="sizes must list at least the output size"):
        nn.MLP(2, [])


def test_mlp_float32_stays_float32():
    model = nn.MLP(3, [4, 2], dtype=np.float32, rng=0)
    out = model(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32
    loss = nn.cross_entropy(out, np.array([0, 1]))
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_activation_modules():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(nn.ReLU()(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(nn.Tanh()(Value(x)).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(Value(x)).data, 1 / (1 + np.exp(-x)))
    assert nn.ReLU().parameters() == []


def test_sequential_applies_modules_in_order_and_indexes():
    first, second = nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    seq = nn.Sequential(first, nn.Sigmoid(), second)
    assert len(seq) == 3 and seq[0] is first and seq[2] is second
    x = np.array([[0.5, -0.5]])
    expected = second(autodiff.sigmoid(first(x))).data
    np.testing.assert_allclose(seq(x).data, expected)
    with pytest.raises(TypeError, match="Sequential: argument 1 is a function, not a Module"):
        nn.Sequential(first, lambda v: v)


def test_a_slice_of_a_sequential_is_a_sequential_sharing_its_modules():
    # was: a plain list, which cannot be called on data (PyTorch gives a Sequential)
    first, second = nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    seq = nn.Sequential(first, nn.Tanh(), second)
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is first
    x = np.array([[0.5, -0.5]])
    np.testing.assert_allclose(head(x).data, np.tanh(first(x).data))
    assert head.parameters() == first.parameters()
    assert [m for m in seq[::-1]] == [second, seq[1], first]
