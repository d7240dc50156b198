"""Add your own operation to autodiff and property-test its gradients."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff
from autodiff.testing import check_grad
from autodiff.testing.strategies import arrays, broadcastable_shapes


@autodiff.primitive
def softplus(x):
    """log(1 + eˣ), computed without overflow."""
    return np.logaddexp(0.0, x)


# d softplus/dx = σ(x). Written with autodiff's own ops, so it can be differentiated again.
softplus.defvjp(lambda g, out, x: g * autodiff.sigmoid(x))


@settings(max_examples=25, deadline=None)
@given(arrays(low=-5.0, high=5.0))  # any shape up to 3-D, float64
def test_softplus_first_and_second_derivatives(x):
    check_grad(softplus, x, order=2, modes=("rev", "fwd"))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_softplus_inside_a_model_with_broadcasting(data):
    shape_x, shape_w = data.draw(broadcastable_shapes(2))  # e.g. (4, 3) and (3,)
    x = data.draw(arrays(shape_x, np.float32))
    w = data.draw(arrays(shape_w, np.float32))
    check_grad(lambda x, w: softplus(x * w - 1.0).mean(), x, w, order=2)
