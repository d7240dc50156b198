"""Property-testing gradients.

* `check_grad(f, *args, order=1, modes=("rev",))` compares autodiff's first (and second)
  derivatives of `f` at `args` with central finite differences computed in float64, and
  raises `AssertionError` naming the argument, the worst element, both values and the
  error. It needs only numpy.
* `autodiff.testing.strategies` holds hypothesis strategies (`arrays`, `broadcastable_shapes`,
  `values`, `graphs`) that draw well-conditioned inputs and random compositions of the
  built-in operations. It needs hypothesis (`pip install 'autodiff-numpy[testing]'`) and is not
  imported by this package, so `import autodiff.testing` works without it.
"""

from .gradcheck import check_grad, default_tolerances

__all__ = ["check_grad", "default_tolerances"]
