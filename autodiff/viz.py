"""Drawing computation graphs with Graphviz: `draw(root)` → a `graphviz.Digraph`.

Each Value becomes a small table (its name, shape and dtype, data and grad); each
operation becomes a small oval between the Values it reads and the Value it makes, so the
edges run in data-flow order, inputs first. Constants an operation was called with
(numbers, arrays, shapes, axes) are written inside the operation's oval, in argument order,
with `•` standing for each Value argument: `subtract(0.01, •)` is `0.01 - x`.

Only `draw` needs the `graphviz` Python package (`pip install 'autodiff-numpy[viz]'`), and
it is imported when `draw` is called, so `import autodiff` needs numpy alone. Building the graph
and reading its DOT `source` need nothing more; rendering a file (`render`, `pipe`, `view`,
or the picture a notebook shows) needs Graphviz's `dot` program, and without it raises
`GraphvizNotFoundError` saying how to install it.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._extras import missing_extra
from .backend import is_dask
from .engine import reachable_nodes
from .explain import Explanation, _complex_text, _mean, _norm, explain
from .value import Value, raw

if TYPE_CHECKING:  # pragma: no cover - type checkers only; graphviz is imported lazily
    import graphviz

__all__ = ["GRAD_BANDS", "Explanation", "draw", "explain", "fit_to_width", "grad_to_data_ratio"]

_INSTALL_GRAPHVIZ = (
    "Rendering needs the Graphviz `dot` program, which was not found on PATH. "
    "Install Graphviz and make sure `dot` is on PATH: `apt-get install graphviz` "
    "(Debian/Ubuntu), `dnf install graphviz` (Fedora), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or the installers at "
    "https://graphviz.org/download/. Building the graph and its DOT text (`.source`) "
    "work without it."
)

# Colour bands of `color_by="grad"`: (upper bound of r = rms(grad) / rms(data), label,
# fill colour, font colour). A diverging palette: blue for vanishing, red for exploding.
GRAD_BANDS: tuple[tuple[float, str, str, str], ...] = (
    (1e-4, "vanishing: r < 1e-4", "#4575b4", "white"),
    (1e-2, "small: 1e-4 ≤ r < 1e-2", "#abd9e9", "black"),
    (1.0, "moderate: 1e-2 ≤ r < 1", "#ffffbf", "black"),
    (1e2, "large: 1 ≤ r < 100", "#fdae61", "black"),
    (math.inf, "exploding: r ≥ 100", "#d73027", "white"),
)
_NO_GRAD_BAND = ("no gradient", "#eeeeee", "#555555")
_NOT_FINITE_BAND = ("nan or inf in grad", "#000000", "white")

_RANKDIRS = ("LR", "RL", "TB", "BT")
_FONT = "Helvetica"


# --------------------------------------------------------------------------- graphviz glue

_classes: dict[str, type] = {}


def _graphviz_classes() -> tuple[type, type]:
    """The Digraph subclass `draw` returns and its missing-`dot` error, made on first use."""
    if not _classes:
        try:
            import graphviz
        except ImportError as error:
            raise ModuleNotFoundError(
                missing_extra("graphviz", "autodiff.draw",
                              "Rendering files also needs the Graphviz `dot` program."),
                name="graphviz",
            ) from error

        class GraphvizNotFoundError(graphviz.ExecutableNotFound):
            """The Graphviz `dot` program is missing; the message says how to install it."""

            def __init__(self, message: str) -> None:
                RuntimeError.__init__(self, message)

        def _explained(method_name: str):
            method = getattr(graphviz.Digraph, method_name)

            def call(self, *args, **kwargs):
                try:
                    return method(self, *args, **kwargs)
                except GraphvizNotFoundError:
                    raise
                except graphviz.ExecutableNotFound as error:
                    raise GraphvizNotFoundError(f"{_INSTALL_GRAPHVIZ} ({error})") from error

            call.__name__ = method_name
            call.__doc__ = method.__doc__
            return call

        namespace = {
            "__doc__": "A graphviz.Digraph of an autodiff graph whose rendering methods say "
                       "how to install Graphviz when `dot` is missing.",
            "__module__": __name__,
        }
        for name in ("render", "pipe", "view", "unflatten", "_repr_mimebundle_"):
            if hasattr(graphviz.Digraph, name):
                namespace[name] = _explained(name)
        render_with_advice = namespace["render"]

        def render(self, filename=None, *args, format=None, **kwargs):
            """Graphviz's `render`; a filename ending in the format (`graph.svg`) is the file
            written, with no DOT file left beside it."""
            if filename is not None and not args and "outfile" not in kwargs:
                suffix = os.path.splitext(os.fspath(filename))[1].lower().lstrip(".")
                if suffix in graphviz.FORMATS and format in (None, suffix):
                    kwargs.setdefault("cleanup", True)
                    return render_with_advice(self, outfile=filename, format=suffix, **kwargs)
            return render_with_advice(self, filename, *args, format=format, **kwargs)

        namespace["render"] = render

        if hasattr(graphviz.Digraph, "_repr_image_svg_xml"):
            svg_for_notebook = graphviz.Digraph._repr_image_svg_xml

            def _repr_image_svg_xml(self):
                """The SVG a notebook shows, scaled down to the cell when wider than it."""
                return fit_to_width(svg_for_notebook(self))

            namespace["_repr_image_svg_xml"] = _repr_image_svg_xml
        _classes["Digraph"] = type("GraphDrawing", (graphviz.Digraph,), namespace)
        _classes["error"] = GraphvizNotFoundError
        globals()["GraphvizNotFoundError"] = GraphvizNotFoundError
    return _classes["Digraph"], _classes["error"]


def _graphviz_module():
    _graphviz_classes()  # raises the ImportError that names the extra
    import graphviz

    return graphviz


def fit_to_width(svg: str) -> str:
    """An SVG document whose picture shrinks to its container's width when wider (keeping
    its proportions through the viewBox) and keeps its own size otherwise."""
    fit = "max-width: 100%; height: auto;"
    def add_style(match: re.Match[str]) -> str:
        tag = match.group(0)
        if re.search(r'\sstyle="', tag):
            return re.sub(r'(\sstyle=")', rf"\g<1>{fit} ", tag, count=1)
        return tag[:-1] + f' style="{fit}">'
    return re.sub(r"<svg\b[^>]*>", add_style, svg, count=1)


def __getattr__(name: str) -> Any:
    # `autodiff.viz.GraphvizNotFoundError` exists once graphviz is importable.
    if name == "GraphvizNotFoundError":
        return _graphviz_classes()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- text


def _number(x: Any) -> str:
    """A number in 4 significant digits (the drawing is for the eye; explain() has more);
    a complex one as `1+2j`."""
    if np.iscomplexobj(x):
        return _complex_text(complex(x), _number)
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.4g}"


def _summary(x: Any) -> str:
    """A number for one element; min/mean/max for an array (of the magnitudes |·| for
    complex data, which says so); "lazy" for a Dask array (a drawing never computes one)."""
    if type(x) is not np.ndarray and is_dask(x):
        return "lazy (Dask, not computed)"
    array = np.asarray(x)
    if array.size == 1:
        return _number(array.reshape(()))
    if array.size == 0:
        return "empty"
    kind = ""
    if np.iscomplexobj(array):
        array, kind = np.abs(array), "|·| "
    with np.errstate(all="ignore"):
        low, average, high = np.min(array), _mean(array), np.max(array)
        if abs(average) < 1e-10 * max(abs(float(low)), abs(float(high))):
            average = 0.0  # rounding residue of a mean that is zero (e.g. softmax gradients)
    return f"{kind}min {_number(low)}, mean {_number(average)}, max {_number(high)}"


def _shape_text(node: Value) -> str:
    shape = node.shape
    shape_text = "scalar" if shape == () else str(shape)
    data = node.data
    if type(data) is not float and is_dask(data):  # its chunks: the largest, and how many
        blocks = math.prod(data.numblocks)
        return (f"{shape_text} {node.dtype}, dask chunks {data.chunksize}"
                f"{f' ×{blocks}' if blocks > 1 else ''}")
    return f"{shape_text} {node.dtype}"


def _constant_text(x: Any) -> str:
    """A constant argument of an operation, short enough to sit inside its oval."""
    if x is None:
        return "None"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, float, np.integer, np.floating)):
        return _number(x)
    if isinstance(x, np.ndarray):
        if x.size <= 3 and x.ndim <= 1:
            return "[" + ", ".join(_number(v) for v in x.reshape(-1)) + "]"
        return "array(" + ", ".join(str(n) for n in x.shape) + ")"
    if isinstance(x, np.dtype) or (isinstance(x, type) and issubclass(x, np.generic)):
        return np.dtype(x).name
    if is_dask(x):
        return "dask(" + ", ".join(str(n) for n in x.shape) + ")"
    if isinstance(x, slice):
        parts = ["" if p is None else str(p) for p in (x.start, x.stop, x.step)]
        return ":".join(parts[:2] if x.step is None else parts)
    if isinstance(x, (tuple, list)):
        inner = ", ".join(_constant_text(item) for item in x)
        text = f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    else:
        text = repr(x)
    return text if len(text) <= 24 else text[:21] + "..."


def _op_label(node: Value) -> str:
    """`name` or `name(constants and •)` for an operation node."""
    name = node._op.name
    arguments = node._args
    has_constants = any(not isinstance(a, Value) for a in arguments)
    params = [f"{key}={_constant_text(value)}" for key, value in (node._params or {}).items()
              if value is not None and value is not False]
    if not has_constants and not params:
        return name
    numbered = sum(isinstance(a, Value) for a in arguments) > 1
    parts, position = [], 0
    for argument in arguments:
        if isinstance(argument, Value):
            position += 1
            parts.append(f"•{position}" if numbered else "•")
        else:
            parts.append(_constant_text(argument))
    return f"{name}({', '.join(parts + params)})"


def grad_to_data_ratio(node: Value) -> float | None:
    """r = rms(grad) / rms(data), with rms(data) taken as 1 when the data is all zeros.

    None when the Value has no gradient. rms(x) = sqrt(mean(x²)), so the ratio compares a
    typical gradient element with a typical data element whatever the shape.
    """
    return _ratio(node.grad, node.data)


def _ratio(grad: Any, data: Any) -> float | None:
    if grad is None or is_dask(grad) or is_dask(data):  # lazy: never computed for a picture
        return None
    with np.errstate(all="ignore"):  # rms = ‖x‖ / sqrt(n): of the magnitudes, scaled
        grad, data = np.asarray(raw(grad)), np.asarray(data)
        grad_rms = _norm(grad) / math.sqrt(grad.size) if grad.size else 0.0
        data_rms = _norm(data) / math.sqrt(data.size) if data.size else 0.0
    if not math.isfinite(grad_rms):
        return math.inf if not math.isnan(grad_rms) else math.nan
    return grad_rms / (data_rms if data_rms > 0 and math.isfinite(data_rms) else 1.0)


def _band(node: Value, grad: Any) -> tuple[str, str, str]:
    """(label, fill, font colour) of a Value with gradient `grad` under color_by="grad"."""
    ratio = _ratio(grad, node.data)
    if ratio is None:
        return _NO_GRAD_BAND
    grad = np.asarray(grad)
    if not np.all(np.isfinite(grad)):
        return _NOT_FINITE_BAND
    for upper, label, fill, font in GRAD_BANDS:
        if ratio < upper:
            return label, fill, font
    return GRAD_BANDS[-1][1:]


def _value_label(node: Value, show_data: bool, show_grad: bool,
                 fill: str, font: str, grad: Any) -> str:
    """An HTML-like Graphviz label: a one-column table of the Value's facts."""
    rows = []
    if node.name is not None:
        rows.append(f"<B>{html.escape(_printable(node.name))}</B>")
    rows.append(f'<FONT POINT-SIZE="9">{html.escape(_shape_text(node))}</FONT>')
    if show_data:
        rows.append("data " + html.escape(_summary(node.data)))
    if show_grad:
        if not node.requires_grad:
            rows.append('<FONT POINT-SIZE="9"><I>constant: no grad</I></FONT>')
        else:
            rows.append("grad " + html.escape("—" if grad is None else _summary(grad)))
    cells = "".join(f'<TR><TD><FONT COLOR="{font}">{row}</FONT></TD></TR>' for row in rows)
    return (f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{fill}">{cells}</TABLE>>')


def _legend_label() -> str:
    rows = ['<TR><TD COLSPAN="1"><B>r = rms(grad) / rms(data)</B></TD></TR>']
    bands = [(label, fill, font) for _, label, fill, font in GRAD_BANDS]
    bands += [_NOT_FINITE_BAND, _NO_GRAD_BAND]
    for label, fill, font in bands:
        rows.append(f'<TR><TD BGCOLOR="{fill}"><FONT COLOR="{font}">'
                    f'{html.escape(label)}</FONT></TD></TR>')
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            + "".join(rows) + "</TABLE>>")


# --------------------------------------------------------------------------- draw

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """`text` fit for DOT: control characters, which can end a DOT line (a newline in a
    comment) or be refused (NUL), as spaces (tabs, line breaks) or U+FFFD."""
    return _CONTROL_CHARACTERS.sub(
        lambda match: " " if match[0] in "\t\n\r\v\f" else "\ufffd", text)


def _gradients_of(nodes: list[Value], grads: Any) -> Any:
    """The gradient `draw` shows for a Value, as plain data: its `.grad`, or its entry in
    `grads` (checked: a mapping, each gradient of its Value's shape)."""
    if grads is None:
        return lambda node: raw(node.grad)  # (a Value after backward(create_graph=True))
    if not isinstance(grads, Mapping):
        raise TypeError(f"draw: grads must be a mapping Value → gradient (such as "
                        f"autodiff.engine.backprop(root) returns), got {type(grads).__name__}")
    for node in nodes:
        gradient = grads.get(node)
        if gradient is not None and np.shape(raw(gradient)) != node.shape:
            raise ValueError(
                f"draw: grads gives {node.name or 'a Value'} of shape {node.shape} a gradient "
                f"of shape {np.shape(raw(gradient))}")
    return lambda node: raw(grads.get(node))


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    max_nodes: int = 500,
    color_by: str | None = None,
    grads: Mapping[Value, Any] | None = None,
) -> graphviz.Digraph:
    """The computation graph that produced `root`, as a `graphviz.Digraph`.

    One table per Value (name if given; shape and dtype; data and grad as a number for a
    single element, min/mean/max for arrays; constant Values, which need no gradient, say
    so and have a dashed border) and one oval per operation, with the constants it was called with
    written inside (`•` marks each Value argument). Edges run in data-flow order; when an
    operation reads two or more Values, its incoming edges are numbered in argument order
    (and so are the marks: `linear(array(8, 2), •1, •2)`). Values whose names contain
    dots (`layers.0.W`, as `nn` names parameters) are grouped into one labelled cluster
    per prefix (`layers.0`).

    `color_by="grad"` fills each Value by r = rms(grad) / rms(data), rms(x) = sqrt(mean(x²))
    (rms(data) taken as 1 when the data is all zeros), in bands of `GRAD_BANDS`: r < 1e-4
    vanishing (blue), < 1e-2 small, < 1 moderate, < 100 large, ≥ 100 exploding (red); black
    for nan/inf gradients, grey for Values no backward pass reached. A legend node explains
    the colours. It reads `.grad`, so call `root.backward()` first.

    `grads` (a mapping Value → gradient, such as `autodiff.engine.backprop(root)` returns)
    is shown and coloured by instead of `.grad`; Values missing from it have none.

    The walk over the graph is iterative and linear in its size. A graph with more than
    `max_nodes` Values is refused with a ValueError that gives the count to pass instead.
    Keyword parameters show as `key=value`, except None, False and dicts (caches).
    `rankdir` is Graphviz's layout direction: "LR" (left to right), "RL", "TB" or "BT".
    The result renders with `.render("graph.svg")` (the format read from the suffix; or
    Graphviz's own `.render(stem, format="png")`, which also leaves the DOT file `stem`) and
    shows itself in a notebook; both need the Graphviz `dot` program, and raise
    GraphvizNotFoundError explaining how to install it when `dot` is missing. `.source` is
    the DOT text.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw(root): root must be an autodiff Value, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if color_by not in (None, "grad"):
        raise ValueError(f"draw: color_by must be None or 'grad', got {color_by!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be a positive integer, got {max_nodes!r}")

    nodes = reachable_nodes(root, include_constants=True)[::-1]  # creation order
    if len(nodes) > max_nodes:
        raise ValueError(
            f"draw: the graph of this Value has {len(nodes)} Values, more than "
            f"max_nodes={max_nodes}. Pass max_nodes={len(nodes)} (or more) to draw it anyway, "
            f"or draw a smaller part of the computation (e.g. one layer, or a smaller batch "
            f"of operations)."
        )
    grad_of = _gradients_of(nodes, grads)
    if color_by == "grad" and not any(grad_of(n) is not None for n in nodes):
        raise ValueError(
            "draw(color_by='grad') colours Values by their gradients, but no Value in this "
            "graph has one: call root.backward() first."
        )

    # Graphviz ids follow creation order within this graph, so the same computation
    # always gives the same DOT text and SVG.
    number = {node: index for index, node in enumerate(nodes)}
    digraph_class, _ = _graphviz_classes()
    title = _printable(root.name or "autodiff graph")
    graphviz_escape = _graphviz_module().escape

    def escape(text: str) -> str:  # plain text: no HTML, backslashes kept as written
        return graphviz_escape(_printable(text))

    dot = digraph_class(name=escape(title), comment=f"computation graph of {title}")
    dot.attr(rankdir=rankdir, nodesep="0.2", ranksep="0.3", fontname=_FONT, fontsize="11")
    dot.attr("node", fontname=_FONT, fontsize="10")
    dot.attr("edge", arrowsize="0.6", fontname=_FONT, fontsize="8")

    clusters: dict[str, list[Value]] = {}
    for node in nodes:
        if node.name and "." in node.name:
            clusters.setdefault(node.name.rsplit(".", 1)[0], []).append(node)
    in_cluster = {id(n) for members in clusters.values() for n in members}

    def add_value(graph, node: Value) -> None:
        if color_by == "grad" and node.requires_grad:
            _, fill, font = _band(node, grad_of(node))
        else:
            fill, font = "white", "black"
        style = "dashed" if not node.requires_grad else "solid"
        label = _value_label(node, show_data, show_grad, fill, font, grad_of(node))
        graph.node(f"v{number[node]}", label=label,
                   shape="box", style=f"rounded,{style}", margin="0")

    for prefix, members in clusters.items():
        with dot.subgraph(name=escape(f"cluster_{prefix}")) as cluster:
            cluster.attr(label=escape(prefix), style="rounded,filled", fillcolor="#f4f4f4",
                         color="#999999", fontname=_FONT, fontsize="11")
            for node in members:
                add_value(cluster, node)

    for node in nodes:
        if id(node) not in in_cluster:
            add_value(dot, node)
        if node._op is None:
            continue
        op_id = f"op{number[node]}"
        dot.node(op_id, label=escape(_op_label(node)), shape="oval", height="0.25", fontsize="9",
                 style="filled", fillcolor="#e8e8e8", color="#888888", margin="0.04,0.02")
        value_arguments = [a for a in node._args if isinstance(a, Value)]
        numbered = len(value_arguments) > 1
        position = 0
        for argument in node._args:
            if not isinstance(argument, Value):
                continue
            position += 1
            label = str(position) if numbered else None
            if label is None:
                dot.edge(f"v{number[argument]}", op_id)
            else:
                dot.edge(f"v{number[argument]}", op_id, label=label)
        dot.edge(op_id, f"v{number[node]}")

    if color_by == "grad":
        with dot.subgraph(name="cluster_legend") as legend:
            legend.attr(label="colour by gradient", style="rounded", color="#999999",
                        fontname=_FONT, fontsize="10")
            legend.node("legend", label=_legend_label(), shape="plaintext", margin="0")
    return dot

