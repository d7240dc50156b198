"""Every operation of the op table, checked the same way: its gradient (and its second
derivative, to the order the table declares) against finite differences, in each dtype
it declares, on shapes, axes and broadcasting drawn by hypothesis; and its numpy dispatch.

Nothing here names an operation: adding one to the table adds it to these tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff  # noqa: F401  (registers every operation)
from autodiff import Value
from autodiff.ops.table import TABLE
from autodiff.testing import check_grad
from autodiff.testing.strategies import op_cases

ENTRIES = [entry for entry in TABLE.values() if entry.cases is not None]
CASES = [(entry.name, dtype) for entry in ENTRIES for dtype in entry.dtypes]


def _split(args):
    """Positions of the array arguments (differentiated) and a caller for them."""
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind in "fc"]
    return arrays


def test_every_operation_has_cases_or_says_why():
    missing = [entry.name for entry in TABLE.values() if entry.cases is None and not entry.notes]
    assert not missing, f"no property-test cases for {missing}"


@pytest.mark.parametrize(("name", "dtype"), CASES, ids=[f"{n}-{d}" for n, d in CASES])
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_gradients_match_finite_differences(name, dtype, data):
    entry = TABLE[name]
    args, kwargs = data.draw(op_cases(entry, dtype))
    lists = [i for i, a in enumerate(args) if isinstance(a, list)]
    if lists:  # a sequence argument (concatenate, stack, einsum operands...): flatten it
        (position,) = lists
        items = args[position]

        def f(*xs):
            rebuilt = list(args)
            rebuilt[position] = list(xs)
            return entry.implementation(*rebuilt, **kwargs)

        check_grad(f, *items, order=min(entry.order, 2))
        return
    positions = [i for i, a in enumerate(args)
                 if isinstance(a, np.ndarray) and a.dtype.kind in "fc"]

    def g(*xs):
        rebuilt = list(args)
        for i, x in zip(positions, xs, strict=True):
            rebuilt[i] = x
        return entry.implementation(*rebuilt, **kwargs)

    check_grad(g, *[args[i] for i in positions], order=min(entry.order, 2))


NUMPY_CASES = [(entry.name, function) for entry in ENTRIES for function in entry.numpy]


@pytest.mark.parametrize(("name", "function"), NUMPY_CASES,
                         ids=[f"{n}-{getattr(f, '__name__', f)}" for n, f in NUMPY_CASES])
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_numpy_dispatch_computes_numpys_result(name, function, data):
    entry = TABLE[name]
    args, kwargs = data.draw(op_cases(entry, entry.dtypes[0]))
    wrapped = [[Value(x) for x in a] if isinstance(a, list) else
               Value(a) if isinstance(a, np.ndarray) and a.dtype.kind in "fc" else a
               for a in args]
    expected = function(*args, **kwargs)
    got = function(*wrapped, **kwargs)
    assert isinstance(got, Value), f"{function} returned {type(got).__name__}, not a Value"
    np.testing.assert_allclose(got.data, expected, rtol=1e-6, atol=1e-9)
