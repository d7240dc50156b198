"""Every op-table entry that names a `torch=` function, cross-checked against PyTorch: the
same inputs (drawn by the entry's own `cases`) give the same result, and the same
cotangent gives the same gradients, in each dtype the entry declares (complex128 included:
both follow PyTorch's convention z.grad = ∂L/∂x + i ∂L/∂y for L = Σ Re(ū · out)).

Arguments are mapped generically (axis → dim, keepdims → keepdim, axes → dim, arrays →
tensors); entries whose conventions differ further are mapped in ADAPTERS or listed in
EXCLUDED with the reason. torch is installed in CI (the `bench` extra); elsewhere these
tests are skipped when it is missing.
"""

from __future__ import annotations

import importlib
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodiff  # noqa: F401  (registers every operation)
from autodiff import Value
from autodiff.ops.table import TABLE
from autodiff.testing.strategies import op_cases

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

pytestmark = pytest.mark.skipif(
    torch is None and not os.environ.get("CI"),
    reason="torch is not installed (pip install -e '.[bench]'); CI runs these",
)

# name, or (name, dtype) → why the torch function cannot be called with numpy's arguments.
EXCLUDED: dict[str | tuple[str, str], str] = {
    ("imag", "float64"): "torch.imag refuses real tensors (numpy gives zeros)",
    ("imag", "float32"): "torch.imag refuses real tensors (numpy gives zeros)",
    ("sort", "complex128"): "torch.sort refuses complex tensors (numpy orders by real, "
                            "then imaginary part)",
    ("nansum", "complex128"): "torch.nansum refuses complex tensors on the CPU",
    ("nanmean", "complex128"): "torch.nanmean refuses complex tensors on the CPU",
    ("nan_to_num", "complex128"): "torch.nan_to_num has no derivative for complex input",
    ("linalg.eigvals", "float64"): "torch.linalg.eigvals is always complex and refuses the "
                                   "real cotangent of numpy's real eigenvalues",
    ("linalg.eigvals", "float32"): "torch.linalg.eigvals is always complex and refuses the "
                                   "real cotangent of numpy's real eigenvalues",
    "pad": "numpy's modes (symmetric, edge, wrap, ...) and per-axis widths have no direct "
           "torch.nn.functional.pad equivalent (reversed width order, other mode names)",
}

# Functions of a symmetric (Hermitian) matrix that read one triangle: numpy reads the lower
# one, so autodiff's gradient lives there, while PyTorch symmetrises it. Both give the same
# derivative along every symmetric direction: their symmetric parts are compared.
SYMMETRIC_INPUT = {"linalg.cholesky", "linalg.eigvalsh", "linalg.eigh"}


def _all_axes(x, axis):
    return tuple(range(x.ndim)) if axis is None else axis


def _reduce(function):
    def call(args, kwargs):
        (x,) = args
        dim = _all_axes(x, kwargs.get("axis"))
        return function(x, dim=dim, keepdim=bool(kwargs.get("keepdims", False)))

    return call


def _axes_tuple(axis):
    return tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)


def _matrix(x):
    """numpy's tril/triu of a vector: of the matrix repeating it in every row."""
    return x.expand(x.shape[0], x.shape[0]) if x.ndim == 1 else x


def _prod(args, kwargs):
    """torch.prod takes one int dim: reduce axis by axis."""
    (x,), keepdims = args, bool(kwargs.get("keepdims", False))
    axes = sorted(a % max(x.ndim, 1) for a in _axes_tuple(_all_axes(x, kwargs.get("axis"))))
    for ax in axes:
        x = torch.prod(x, dim=ax, keepdim=True)
    return x if keepdims else x.reshape([n for i, n in enumerate(x.shape) if i not in axes])


def _cumulative(function):
    def call(args, kwargs):
        (x,), axis = args, kwargs.get("axis")
        return function(x.reshape(-1), dim=0) if axis is None else function(x, dim=axis)

    return call


def _moments(function):
    def call(args, kwargs):
        (x,) = args
        return function(x, dim=kwargs.get("axis"), correction=kwargs.get("ddof", 0),
                        keepdim=bool(kwargs.get("keepdims", False)))

    return call


def _quantile(args, kwargs):
    """torch takes q of at most one axis and one int dim: q flattened, the reduced axes
    moved last and merged, the result's axes restored."""
    x, q = args
    q = torch.as_tensor(np.asarray(q), dtype=x.real.dtype)
    axes = sorted(a % max(x.ndim, 1) for a in _axes_tuple(_all_axes(x, kwargs.get("axis"))))
    kept = [n for i, n in enumerate(x.shape) if i not in axes]
    merged = x.movedim(axes, list(range(x.ndim - len(axes), x.ndim))).reshape((*kept, -1))
    result = torch.quantile(merged, q.reshape(-1), dim=-1)
    if kwargs.get("keepdims"):
        result = result.reshape((-1, *[1 if i in axes else n for i, n in enumerate(x.shape)]))
    return result.reshape((*q.shape, *result.shape[1:]))


def _cond(args, kwargs):
    """numpy's definition (torch.linalg.cond trips over its own in-place inverse on 1×1)."""
    (a,), p = args, kwargs.get("p")
    if p in (None, 2, -2):
        s = torch.linalg.svdvals(a)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    return torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(torch.linalg.inv(a), p)


def _qr(args, kwargs):
    mode = kwargs.get("mode", "reduced")  # torch differentiates R only when Q is computed
    q, r = torch.linalg.qr(args[0], mode="reduced" if mode == "r" else mode)
    return r if mode == "r" else (q, r)


def _expand_dims(args, kwargs):
    (x,), axis = args, kwargs.get("axis", args[1] if len(args) > 1 else None)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = x.ndim + len(axes)
    for ax in sorted(a % ndim for a in axes):
        x = x.unsqueeze(ax)
    return x


def _take(args, kwargs):
    x, index = args
    axis, mode = kwargs.get("axis"), kwargs.get("mode", "raise")
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    n = x.shape[axis]
    index = index % n if mode == "wrap" else index.clamp(0, n - 1) if mode == "clip" \
        else index % n
    picked = torch.index_select(x, axis, index.reshape(-1))
    return picked.reshape(*x.shape[:axis], *index.shape, *x.shape[axis + 1:])


def _sort(args, kwargs):
    (x,), axis = args, kwargs.get("axis", -1)
    return torch.sort(x.reshape(-1) if axis is None else x, dim=-1 if axis is None else axis)


def _angle(args, kwargs):
    scale = 180 / math.pi if kwargs.get("deg") else 1.0
    return torch.angle(args[0]) * scale


def _tile(args, kwargs):
    x, reps = args
    return torch.tile(x, (reps,) if isinstance(reps, int) else tuple(reps))


# name → (tensor args, numpy's keyword arguments) ↦ torch's result, where the generic
# renaming (axis → dim, keepdims → keepdim, axes → dim) is not enough.
def _diff(a, k):
    """torch.diff takes dim, and prepend/append as tensors of the input's rank (numpy also
    takes a number, one slice of it): constants here, as on the autodiff side."""
    x, axis = a[0], k.get("axis", -1)
    joined = {}
    for key in ("prepend", "append"):
        if key in k:
            extra = torch.as_tensor(np.asarray(k[key]), dtype=x.dtype)
            if extra.ndim == 0:
                shape = list(x.shape)
                shape[axis] = 1
                extra = extra.expand(shape)
            joined[key] = extra
    return torch.diff(x, n=k.get("n", 1), dim=axis, **joined)


def _variables(a, k):
    """torch.cov and torch.corrcoef take variables as rows (numpy's rowvar=True)."""
    return a[0] if k.get("rowvar", True) else a[0].T


ADAPTERS = {
    "diff": _diff,
    "cov": lambda a, k: torch.cov(_variables(a, k), correction=0 if k.get("bias") else 1),
    "corrcoef": lambda a, k: torch.corrcoef(_variables(a, k)),
    "transpose": lambda a, k: a[0].permute(tuple(range(a[0].ndim))[::-1]
                                           if k.get("axes") is None else tuple(k["axes"])),
    "angle": _angle,
    "sum": _reduce(torch.sum) if torch else None,
    "mean": _reduce(torch.mean) if torch else None,
    "logsumexp": _reduce(torch.logsumexp) if torch else None,
    "expand_dims": _expand_dims,
    "flip": lambda a, k: torch.flip(a[0], _axes_tuple(_all_axes(a[0], k.get("axis")))),
    "roll": lambda a, k: torch.roll(a[0], a[1] if len(a) > 1 else k["shift"], k.get("axis")),
    "rot90": lambda a, k: torch.rot90(a[0], k.get("k", 1), k.get("axes", (0, 1))),
    "tile": _tile,
    "tril": lambda a, k: torch.tril(_matrix(a[0]), k.get("k", 0)),
    "triu": lambda a, k: torch.triu(_matrix(a[0]), k.get("k", 0)),
    "diag": lambda a, k: torch.diag(a[0], k.get("k", 0)),
    "diagonal": lambda a, k: torch.diagonal(a[0], k.get("offset", 0), k.get("axis1", 0),
                                            k.get("axis2", 1)),
    "trace": lambda a, k: torch.diagonal(a[0], k.get("offset", 0), k.get("axis1", 0),
                                         k.get("axis2", 1)).sum(-1),
    "outer": lambda a, k: torch.outer(a[0].reshape(-1), a[1].reshape(-1)),
    "vdot": lambda a, k: torch.vdot(a[0].reshape(-1), a[1].reshape(-1)),
    "tensordot": lambda a, k: torch.tensordot(a[0], a[1], dims=k.get("axes", 2)),
    "take": _take,
    "prod": _prod,
    "cumsum": _cumulative(torch.cumsum) if torch else None,
    "cumprod": _cumulative(torch.cumprod) if torch else None,
    "var": _moments(torch.var) if torch else None,
    "std": _moments(torch.std) if torch else None,
    "linalg.qr": _qr,
    "linalg.cond": _cond,
    "quantile": _quantile,
    "sort": _sort,
    "cross": lambda a, k: torch.linalg.cross(*torch.broadcast_tensors(a[0], a[1]),
                                             dim=k.get("axis", -1)),
    "linalg.svd": lambda a, k: (torch.linalg.svdvals(a[0]) if not k.get("compute_uv", True)
                                else torch.linalg.svd(a[0], k.get("full_matrices", True))),
}


def _torch_function(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _to_torch(x, leaves):
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fc":
            tensor = torch.tensor(x, requires_grad=True)
            leaves.append(tensor)
            return tensor
        return torch.tensor(x)
    if isinstance(x, list):
        return [_to_torch(item, leaves) for item in x]
    if isinstance(x, tuple):
        return tuple(_to_torch(item, leaves) for item in x)
    return x


_RENAMED = {"axis": "dim", "keepdims": "keepdim", "axes": "dim"}


def _as_array(x):
    """numpy scalars (a 0-d case drawn by arithmetic) as 0-d arrays, like the others."""
    return np.asarray(x) if isinstance(x, np.generic) and x.dtype.kind in "fcb" else x


def _torch_call(entry, args, kwargs):
    """(output tensor, leaf tensors in the order of the differentiated arrays)."""
    leaves: list = []
    targs = [_to_torch(a, leaves) for a in args]
    adapter = ADAPTERS.get(entry.name)
    if adapter is not None:
        out = adapter(targs, kwargs)
    else:
        tkwargs = {_RENAMED.get(k, k): _to_torch(v, leaves) for k, v in kwargs.items()
                   if v is not None}
        out = _torch_function(entry.torch)(*targs, **tkwargs)
    if isinstance(out, tuple):  # (values, indices) and the like: the values
        out = out[0]
    return out, leaves


def _differentiated(args):
    """The arrays the autodiff side differentiates, in order (lists flattened)."""
    flat = []
    for a in args:
        items = a if isinstance(a, list) else [a]
        flat += [x for x in items if isinstance(x, np.ndarray) and x.dtype.kind in "fc"]
    return flat


def _autodiff_call(entry, args, kwargs, xs):
    it = iter(xs)

    def swap(a):
        if isinstance(a, list):
            return [swap(item) for item in a]
        if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
            return next(it)
        return a

    return entry.implementation(*[swap(a) for a in args], **kwargs)


CROSS = [(entry.name, dtype) for entry in TABLE.values()
         if entry.torch and entry.cases is not None and entry.name not in EXCLUDED
         for dtype in entry.dtypes if (entry.name, dtype) not in EXCLUDED]


def _symmetric_part(g):
    return (g + np.conj(np.swapaxes(g, -1, -2))) / 2


def _numpy(tensor):
    return tensor.detach().resolve_conj().resolve_neg().numpy()


def test_exclusions_name_entries_of_the_table():
    stale = [key for key in EXCLUDED
             if (name := key[0] if isinstance(key, tuple) else key) not in TABLE
             or not TABLE[name].torch
             or (isinstance(key, tuple) and key[1] not in TABLE[name].dtypes)]
    assert not stale, f"EXCLUDED names entries that are gone or name no torch function: {stale}"
    assert set(ADAPTERS) <= set(TABLE) and SYMMETRIC_INPUT <= set(TABLE)


@pytest.mark.parametrize(("name", "dtype"), CROSS, ids=[f"{n}-{d}" for n, d in CROSS])
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_gradients_match_pytorch(name, dtype, data):
    entry = TABLE[name]
    args, kwargs = data.draw(op_cases(entry, dtype))
    args = [[_as_array(x) for x in a] if isinstance(a, list) else _as_array(a) for a in args]
    arrays = _differentiated(args)
    values = [Value(x) for x in arrays]
    out = _autodiff_call(entry, args, kwargs, values)
    if isinstance(out, tuple):  # (Q, R) and the like: the first
        out = out[0]
    t_out, leaves = _torch_call(entry, args, kwargs)
    expected = _numpy(t_out)
    assert out.shape == expected.shape, f"{name}: shape {out.shape}, torch {expected.shape}"
    rtol, atol = (1e-4, 1e-5) if dtype == "float32" else (1e-9, 1e-10)
    np.testing.assert_allclose(np.asarray(out.data), expected, rtol=rtol, atol=atol,
                               err_msg=f"{name}: values differ from torch")
    if not values or not t_out.requires_grad:
        return
    if not out.requires_grad:  # a constant (a count, say): torch's gradient must vanish
        out = out + 0 * sum(np.real(np.sum(v)) for v in values)
    rng = np.random.default_rng(0)
    u = rng.standard_normal(out.shape)
    if np.iscomplexobj(out.data):
        u = u + 1j * rng.standard_normal(out.shape)
    u = np.asarray(u, dtype=out.dtype)
    out.backward(u)
    t_out.backward(torch.tensor(u))
    assert len(leaves) == len(values)
    for i, (v, t) in enumerate(zip(values, leaves, strict=True)):
        ours = np.zeros(v.shape, v.dtype) if v.grad is None else np.asarray(v.grad)
        theirs = np.zeros(v.shape, v.dtype) if t.grad is None else _numpy(t.grad)
        if name in SYMMETRIC_INPUT and i == 0:
            ours, theirs = (_symmetric_part(ours), _symmetric_part(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=10 * rtol, atol=10 * atol,
                                   err_msg=f"{name}: gradient of array {i} differs from torch")
