"""nn.data: generated data sets, the digits, splitting and mini-batches."""

import numpy as np
import pytest

from nn import data


def test_moons_shapes_labels_and_reproducibility():
    X, y = data.make_moons(101, noise=0.1, rng=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.sum(y == 0) == 51 and np.sum(y == 1) == 50
    X2, y2 = data.make_moons(101, noise=0.1, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, data.make_moons(101, noise=0.1, rng=4)[0])


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = data.make_moons(60, noise=0.0, rng=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)


def test_moons_noise_has_the_requested_spread():
    X, _ = data.make_moons(4000, noise=0.2, rng=0)
    # distance to the nearer of the two unit half circles: about |N(0, 0.2)| on average
    radius_upper = np.hypot(X[:, 0], X[:, 1])
    radius_lower = np.hypot(X[:, 0] - 1.0, X[:, 1] - 0.5)
    deviation = np.minimum(np.abs(radius_upper - 1), np.abs(radius_lower - 1))
    assert 0.08 < deviation.mean() < 0.2
    quiet, _ = data.make_moons(4000, noise=0.02, rng=0)
    radius_upper = np.hypot(quiet[:, 0], quiet[:, 1])
    radius_lower = np.hypot(quiet[:, 0] - 1.0, quiet[:, 1] - 0.5)
    assert np.minimum(np.abs(radius_upper - 1), np.abs(radius_lower - 1)).mean() < 0.02


def test_spirals():
    X, y = data.make_spirals(301, classes=3, noise=0.0, rng=0)
    assert X.shape == (301, 2) and sorted(np.unique(y)) == [0, 1, 2]
    assert [np.sum(y == k) for k in range(3)] == [101, 100, 100]
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == pytest.approx(0.0) and radius.max() == pytest.approx(1.0)
    # without noise, arm k at radius r sits at angle 2π(k/3 + r): check it for every point
    angle = np.arctan2(X[:, 0], X[:, 1])
    expected = 2 * np.pi * (y / 3 + radius)
    difference = np.angle(np.exp(1j * (angle - expected)))
    assert np.all(np.abs(difference[radius > 1e-9]) < 1e-9)
    X2, _ = data.make_spirals(301, classes=3, noise=0.3, rng=5)
    np.testing.assert_array_equal(X2, data.make_spirals(301, classes=3, noise=0.3, rng=5)[0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.make_moons(0), "make_moons: n must be a positive integer; got 0"),
        (lambda: data.make_moons(10, noise=-1), "make_moons: noise must be >= 0; got -1"),
        (lambda: data.make_spirals(10, classes=0), "make_spirals: classes must be a positive"),
        (lambda: data.make_spirals(2.5), "make_spirals: n must be a positive integer"),
    ],
)
def test_generator_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_digits():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(np.unique(y)) == list(range(10))
    assert np.all(np.bincount(y) > 170)
    X32, _ = data.load_digits(dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(X32, X, rtol=1e-7)


def test_train_test_split():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, 0.3, rng=0)
    assert len(X_test) == 3 and len(X_train) == 7
    assert sorted(np.concatenate([y_train, y_test])) == list(range(10))
    np.testing.assert_array_equal(X_train[:, 0] / 2, y_train)
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0, 1\)"):
        data.train_test_split(X, y, 1.0)


def test_batches_without_shuffle_are_consecutive_views():
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7)
    got = list(data.batches(X, y, 3, shuffle=False))
    assert [len(b) for b, _ in got] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([labels for _, labels in got]), y)
    assert np.shares_memory(got[0][0], X)


def test_batches_with_shuffle_cover_everything_once_and_are_reproducible():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    first = list(data.batches(X, y, 4, rng=1))
    assert [len(labels) for _, labels in first] == [4, 4, 2]
    seen = np.concatenate([labels for _, labels in first])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for features, labels in first:
        np.testing.assert_array_equal(features[:, 0] / 2, labels)  # rows stay paired
    again = np.concatenate([labels for _, labels in data.batches(X, y, 4, rng=1)])
    np.testing.assert_array_equal(seen, again)
    generator = np.random.default_rng(2)
    one = np.concatenate([labels for _, labels in data.batches(X, y, 4, rng=generator)])
    two = np.concatenate([labels for _, labels in data.batches(X, y, 4, rng=generator)])
    assert list(one) != list(two)  # a shared generator gives a new order each epoch


def test_batches_check_their_arguments_at_the_call():
    with pytest.raises(ValueError, match=r"batches: X and y need the same number of samples; "
                                         r"got shapes \(3, 2\) and \(4,\)"):
        data.batches(np.zeros((3, 2)), np.zeros(4), 2)
    with pytest.raises(ValueError, match="batches: batch_size must be a positive integer; got 0"):
        data.batches(np.zeros((3, 2)), np.zeros(3), 0)
