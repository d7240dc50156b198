"""Regressions for nn: each test here failed before the trust review of nn was closed.

A silent wrong number is the worst defect nn can have, then an internal crash in place of
a clear error, then a lost model; every way the review found to get one is pinned down by
name.
"""

from __future__ import annotations

import numpy as np
import pytest

import nn

# --------------------------------------------------------------------------- 1. layers


@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.complex128, "U3"])
def test_linear_refuses_a_dtype_that_is_not_floating_point(dtype):
    # integer weights were Xavier numbers truncated to all zeros; bool ones all ones
    with pytest.raises(TypeError, match=r"Linear: dtype must be a floating-point type; got"):
        nn.Linear(3, 4, rng=0, dtype=dtype)


def test_mlp_refuses_a_dtype_that_is_not_floating_point():
    with pytest.raises(TypeError, match=r"dtype must be a floating-point type; got int64"):
        nn.MLP(2, [3, 1], rng=0, dtype=np.int64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, "float32"])
def test_linear_keeps_every_floating_point_dtype(dtype):
    layer = nn.Linear(3, 4, rng=0, dtype=dtype)
    assert layer.W.dtype == np.dtype(dtype) and layer.b.dtype == np.dtype(dtype)
    assert np.count_nonzero(layer.W.data) == 12


@pytest.mark.parametrize("size", [True, False])
def test_linear_refuses_bool_sizes(size):
    with pytest.raises(ValueError, match=r"Linear: nin must be a positive integer; got"):
        nn.Linear(size, 2, rng=0)


def test_mlp_with_a_single_output_size_instead_of_a_list_says_so():
    # was: TypeError: 'int' object is not iterable
    with pytest.raises(TypeError, match=r"MLP: sizes must be a sequence of layer widths "
                                        r"such as \[16, 1\]; got 1"):
        nn.MLP(2, 1)
