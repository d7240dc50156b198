"""How a Value shows in a notebook: `Value._repr_html_` (attached in `autodiff/__init__.py`).

A small card: the name, shape, dtype and where the Value came from (the operation that made
it, a leaf, or a constant), then its data and its gradient as numpy prints them (under
numpy's print options), summarised for arrays of more than `MAX_ELEMENTS` elements: the
first and last elements, and the minimum, mean, maximum and norm. Every piece of text is
HTML-escaped (names are the user's).
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from .backend import is_duck
from .explain import _mean, _norm
from .value import Value, _describe_lazy

__all__ = ["MAX_ELEMENTS", "summary", "value_html"]

#: Arrays of more elements than this are summarised rather than printed in full.
MAX_ELEMENTS = 100

_STYLE = (
    "font-family: var(--jp-code-font-family, monospace); font-size: 12px; "
    "border: 1px solid #ccc; border-radius: 4px; padding: 4px 8px; display: inline-block; "
    "max-width: 100%; overflow-x: auto;"
)


def summary(x: Any) -> str:
    """An array as numpy prints it, or, beyond `MAX_ELEMENTS` elements, its corners and
    min / mean / max / norm (nan and inf included as numpy computes them)."""
    if isinstance(x, Value):  # a gradient kept as a Value (backward(create_graph=True))
        return f"Value of shape {x.shape}: {summary(x.data)}"
    if is_duck(x):  # lazy (Dask): described, never computed
        return _describe_lazy(x)
    array = np.asarray(x)
    if array.size <= MAX_ELEMENTS:
        return np.array2string(array, separator=", ", threshold=MAX_ELEMENTS)
    corners = np.array2string(array, separator=", ", threshold=0, edgeitems=2)
    if array.size and np.issubdtype(array.dtype, np.number):
        magnitude = np.abs(array) if np.iscomplexobj(array) else array
        with np.errstate(all="ignore"):
            stats = (f"min {np.min(magnitude):.6g}, mean {_mean(array):.6g}, "
                     f"max {np.max(magnitude):.6g}, norm {_norm(array):.6g}")
        if np.iscomplexobj(array):
            stats = stats.replace("min", "min |·|", 1).replace("max", "max |·|", 1)
        return f"{corners}\n{stats}"
    return corners


def _origin(value: Value) -> str:
    if value.op is not None:
        return f"made by <b>{html.escape(value.op)}</b>"
    return "leaf" if value.requires_grad else "constant (requires_grad=False)"


def value_html(value: Value) -> str:
    """The notebook display of a Value: name, shape, dtype, origin, data, gradient."""
    name = (f"<b>{html.escape(value.name)}</b> " if value.name else "")
    shape = "scalar" if value.shape == () else f"shape {value.shape}"
    dtype = html.escape(str(value.dtype))
    head = f"Value {name}· {html.escape(shape)} · {dtype} · {_origin(value)}"
    data = html.escape(summary(value.data))
    if value.grad is None:
        grad = "None" if value.requires_grad else "None (constant)"
    else:
        grad = html.escape(summary(value.grad))
    row = ('<tr><th style="text-align: left; vertical-align: top; padding-right: 8px;">{}</th>'
           '<td style="text-align: left;"><pre style="margin: 0;">{}</pre></td></tr>')
    return (f'<div class="autodiff-value" style="{_STYLE}"><div>{head}</div>'
            f'<table style="margin: 0;">{row.format("data", data)}{row.format("grad", grad)}'
            f"</table></div>")
