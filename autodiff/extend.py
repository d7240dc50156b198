"""For people who write primitives: everything a custom operation needs, and nothing else.

    from autodiff.extend import primitive, raw, sum_to

    @primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, out, x: g * 3 * x ** 2)

* `primitive` / `Primitive`: a numpy function plus its vector-Jacobian products
  (`defvjp`, one rule per argument, an explicit None for "not differentiable";
  `defvjp_argnums` for one rule over all arguments; `residuals=True` for a forward pass
  that hands extra results to its rules).
* `raw(x)`: the data of a Value, anything else unchanged (for masks and shapes in rules,
  which see Values when differentiated again).
* `sum_to(g, shape)`: a broadcast cotangent summed back to `shape` (the engine does this
  for a rule's result; call it for intermediate steps).
* `is_grad_enabled`, `no_grad`, `transform_depth`: the per-thread state a rule or a
  training loop may need.
* `import_optional(module, needed_by)` and `missing_extra(module, needed_by)`: an optional
  dependency imported, or an error (its message) naming the extra of this distribution,
  `DISTRIBUTION`, that installs it.
* `is_lazy(x)`, `compute(*xs)`: whether data is a lazy Dask array (a rule must not look
  at it: no `if np.any(...)` on it), and every Dask array among `xs` computed by a single
  `dask.compute` (one pass over the data), the rest unchanged.

The built-in operations in `autodiff.ops` are declared with exactly these.
"""

from ._extras import DISTRIBUTION, import_optional, missing_extra
from .backend import compute, is_lazy
from .engine import Primitive, is_grad_enabled, no_grad, primitive, sum_to, transform_depth
from .value import Value, raw

__all__ = ["DISTRIBUTION", "Primitive", "Value", "compute", "import_optional",
           "is_grad_enabled", "is_lazy", "missing_extra", "no_grad", "primitive", "raw",
           "sum_to", "transform_depth"]
