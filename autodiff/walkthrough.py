"""`walkthrough(root)`: watch backpropagation happen, one step at a time, in a browser or a
notebook.

The result is one self-contained HTML page: the graph as `autodiff.draw` lays it out
(rendered to inline SVG by Graphviz's `dot`), a panel with the chain rule of the current
step, and buttons, a slider and the ←/→ keys to move through the backward pass in reverse
topological order. At each step the Value whose gradient is now complete is highlighted
with the edges its gradient came back along, the panel shows its chain-rule lines exactly
as `autodiff.explain` writes them, and every Value shows the gradient accumulated so far.
With `forward=True` a first phase steps through the forward pass, showing each value as
it is computed.

The numbers come from `autodiff.explain.backward_steps`, the same bookkeeping `explain`
writes as text, so the page and the report cannot disagree. The page holds its steps as
JSON (`<script type="application/json" id="steps">`), refers to nothing outside itself
(no network, no fonts, no CDN) and works from a file:// URL or inside a notebook's iframe.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from .engine import reachable_nodes
from .explain import (
    BackwardPass,
    BackwardStep,
    _check_digits,
    _check_root,
    _derivative,
    _factor,
    _is_scalar,
    _norm,
    _ops_text,
    _quantity,
    backward_steps,
    format_number,
)
from .value import Value
from .viz import _RANKDIRS, _constant_text, _number, _op_label, _shape_text, draw

__all__ = ["Walkthrough", "walkthrough"]

# Forward-pass formulas: operations written between their operands, with a precedence
# (Python's: × / @ bind tighter than + −, unary − tighter still, ** tightest).
_INFIX = {"add": ("+", 1), "subtract": ("−", 1), "multiply": ("×", 2), "divide": ("/", 2),
          "matmul": ("@", 2)}
_NEGATIVE, _POWER = 3, 4  # precedences of −x and x ** y
_ATOM = 9  # precedence of a name or a number: never parenthesised
_MAX_FORMULA_OPS = 10  # longer unnamed runs are summarised as `op → op → … of inputs`
_SUPERSCRIPTS = {2: "²", 3: "³"}


class Walkthrough:
    """A step-by-step backward-pass page: `.save(path)` writes it, a notebook shows it.

    `html` is the whole page (inline SVG, CSS, JavaScript and the steps as JSON; nothing
    is loaded from anywhere), `steps` the steps it walks through (dicts, as embedded in the
    page: `phase` "forward" or "backward", `node` the SVG id of the highlighted Value,
    `label`, `lines`: for the backward phase the paragraph `explain` writes for that Value,
    `result`, `edges`, `updates`, ...). In a notebook the page is shown in an iframe, so
    its script runs apart from the notebook's.
    """

    def __init__(self, page: str, steps: list[dict[str, Any]], root_label: str) -> None:
        self._page = page
        self._steps = steps
        self._root_label = root_label

    @property
    def html(self) -> str:
        """The page: one self-contained HTML document."""
        return self._page

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The steps the page walks through, as embedded in it."""
        return json.loads(json.dumps(self._steps))

    def __len__(self) -> int:
        return len(self._steps)

    def step_of(self, label: str, phase: str = "backward") -> int:
        """The index (from 0) of the step of `phase` whose highlighted Value is `label`."""
        for index, step in enumerate(self._steps):
            if step["phase"] == phase and step["label"] == label:
                return index
        raise KeyError(f"walkthrough: no {phase} step for a Value called {label!r}")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to `path` (UTF-8); returns the path. Open it in any browser."""
        path = Path(path)
        path.write_text(self._page, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        # srcdoc: the page runs in its own document, its script isolated from the notebook.
        return (f'<iframe srcdoc="{html.escape(self._page, quote=True)}" '
                f'title="backward pass of {html.escape(self._root_label)}, step by step" '
                f'style="width: 100%; height: 760px; border: 1px solid #ccc;" '
                f'sandbox="allow-scripts"></iframe>')

    def __repr__(self) -> str:
        forward = sum(step["phase"] == "forward" for step in self._steps)
        return (f"<Walkthrough of {self._root_label}: {len(self._steps)} steps "
                f"({forward} forward, {len(self._steps) - forward} backward); "
                f".save('backprop.html') writes the page>")


def walkthrough(
    root: Value,
    wrt: Any = None,
    *,
    forward: bool = False,
    max_nodes: int = 500,
    rankdir: str = "LR",
    digits: int = 9,
) -> Walkthrough:
    """The backward pass from `root` as an interactive page, one step per Value.

    Steps run in reverse topological order over the Values `explain(root, wrt)` reports
    on (named Values and leaves when some intermediate Value is named, otherwise every
    Value), `root` first with the seed 1. At step k the page highlights the Value whose
    gradient is now complete and the edges (through any unnamed operations in between)
    its gradient came back along, outlines the Values it came from, and shows its chain
    rule with numbers: upstream gradient × local derivative = gradient, summed where paths
    meet, in exactly `explain`'s lines. Each Value's box shows the gradient accumulated so
    far (amber while contributions are still to come, green once complete; none before the
    first one arrives). One-element Values show numbers; arrays show shape and ‖·‖, min and
    max, and every Value's data (and gradient so far) shows on hover.

    `wrt` (a name, a Value or a list of them) restricts the walk to the paths from `root`
    down to those Values, as in `explain`; the rest of the graph is drawn faded.
    `forward=True` first steps through the forward pass in topological order, one step per
    Value of the report, showing each value as it is computed (with its formula and, for
    one-element Values, the numbers). `max_nodes` is `draw`'s size guard: a graph with
    more Values is refused with a ValueError giving the count to pass instead. `rankdir`
    is the layout direction of `draw`; `digits` the precision of `explain`.

    Needs the `graphviz` Python package and Graphviz's `dot` program (the graph is laid out
    and rendered to SVG when the page is made). The gradients come from
    `autodiff.explain.backward_steps`, one `backprop` of its own: `.grad` is neither read
    nor written, and `root.backward()` is not needed. `root` must have a single element.
    """
    _check_root(root, "walkthrough")
    _check_digits(digits, "walkthrough")
    if not isinstance(forward, bool):
        raise TypeError(f"walkthrough: forward must be True or False, got {forward!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"walkthrough: max_nodes must be a positive integer, got {max_nodes!r}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"walkthrough: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")

    drawn = reachable_nodes(root, include_constants=True)[::-1]  # creation order, as draw
    if len(drawn) > max_nodes:
        raise ValueError(
            f"walkthrough: the graph of this Value has {len(drawn)} Values, more than "
            f"max_nodes={max_nodes}. Pass max_nodes={len(drawn)} (or more) to walk through it "
            f"anyway (the page gets large and slow to lay out), or walk through a smaller part "
            f"of the computation (a smaller batch or network, or wrt= to follow fewer paths)."
        )
    trace = backward_steps(root, wrt, _caller="walkthrough")
    page = _Page(trace, drawn, digits)
    dot = draw(root, rankdir=rankdir, max_nodes=max_nodes, grads=trace.gradients)
    page.address(dot)
    steps = (page.forward_steps() if forward else []) + page.backward_steps()
    values = page.values()
    svg = _svg_text(dot.pipe(format="svg").decode("utf-8"), page, values)
    data = {
        "title": trace.title(digits),
        "root": trace.labels[root],
        "wrt": None if wrt is None else _wrt_text(wrt, trace),
        "forward": forward,
        "values": values,
        "faded": page.faded(),
    }
    return Walkthrough(_html(svg, steps, data), steps, trace.labels[root])


# --------------------------------------------------------------------------- the steps


class _Page:
    """What the page needs from a traced graph: ids, step records, texts."""

    def __init__(self, trace: BackwardPass, drawn: list[Value], digits: int) -> None:
        self.trace = trace
        self.drawn = drawn
        self.digits = digits
        self.number = {node: index for index, node in enumerate(drawn)}
        self.edges: dict[tuple[str, str], list[str]] = {}
        self.out = trace.labels[trace.root]

    # ids: draw names Values v<n> and operations op<n>, n the position in creation order
    def vid(self, node: Value) -> str:
        return f"v{self.number[node]}"

    def opid(self, node: Value) -> str:
        return f"op{self.number[node]}"

    def label(self, node: Value) -> str:
        return self.trace.labels.get(node) or node.name or "constant"

    def address(self, dot: Any) -> None:
        """Give every node and edge of `draw`'s Digraph an `id`, which the SVG carries."""
        node_line = re.compile(r"^(\t+)((?:v|op)\d+) \[")
        edge_line = re.compile(r"^(\t+)((?:v|op)\d+) -> ((?:v|op)\d+)( \[)?")
        body = []
        for line in dot.body:
            match = edge_line.match(line)
            if match:
                edge = f"e{sum(len(ids) for ids in self.edges.values())}"
                self.edges.setdefault((match[2], match[3]), []).append(edge)
                if match[4]:
                    line = line[:match.end()] + f"id={edge} " + line[match.end():]
                else:
                    line = line.rstrip("\n") + f" [id={edge}]\n"
            else:
                match = node_line.match(line)
                if match:
                    line = line[:match.end()] + f"id={match[2]} " + line[match.end():]
            body.append(line)
        dot.body[:] = body

    def path_edges(self, path: list[Value], start: set[Value]) -> tuple[list[str], list[str]]:
        """Edges and operation nodes that carry values from `start` through `path` (Values
        made by operations, creation order): argument → operation → result."""
        inside = set(path)
        edges, ops = [], []
        for node in path:
            op = self.opid(node)
            ops.append(op)
            for argument in dict.fromkeys(a for a in node._args if type(a) is Value):
                if argument in start or argument in inside:
                    edges += self.edges.get((self.vid(argument), op), [])
            edges += self.edges.get((op, self.vid(node)), [])
        return edges, ops

    # texts
    def short(self, x: Any) -> str:
        """The text in a Value's box: a number, or ‖·‖, min and max of an array."""
        array = np.asarray(x)
        if array.size == 1:
            return _number(array.reshape(()))
        if array.size == 0:
            return "empty"
        magnitudes, kind = (np.abs(array), "|·| ") if np.iscomplexobj(array) else (array, "")
        with np.errstate(all="ignore"):
            return (f"‖·‖ {_number(_norm(array))}, {kind}min {_number(np.min(magnitudes))}, "
                    f"max {_number(np.max(magnitudes))}")

    def full(self, x: Any) -> str:
        """The text on hover: the number, or the array's elements (summarised if many)."""
        if _is_scalar(x):
            return format_number(np.asarray(x).reshape(()), self.digits)
        array = np.asarray(x)
        elements = np.array2string(array, precision=4, threshold=64, max_line_width=72)
        return f"‖·‖ {format_number(_norm(array), self.digits)}\n{elements}"

    def values(self) -> dict[str, dict[str, Any]]:
        """Per drawn Value: what its box and its hover text say."""
        on_path = self.trace.on_path
        values = {}
        for node in self.drawn:
            if node is self.trace.root:
                role = "output"
            elif node._op is None:
                role = "leaf" if node.requires_grad else "constant"
            else:
                role = f"made by {node._op.name}"
            name = self.trace.labels.get(node) or node.name
            head = f"{name or 'unnamed'}: {_shape_text(node)}, {role}"
            values[self.vid(node)] = {
                "label": name or "",
                "data": "data " + self.short(node.data),
                "hover": f"{head}\ndata = {self.full(node.data)}",
                "leaf": node._op is None,
                "grad": bool(node.requires_grad),
                "off": bool(on_path is not None and node not in on_path),
            }
        return values

    def faded(self) -> list[str]:
        """Operations and edges off the paths to `wrt` (drawn faded in the backward pass)."""
        on_path = self.trace.on_path
        if on_path is None:
            return []
        off = {self.vid(n) for n in self.drawn if n not in on_path}
        off |= {self.opid(n) for n in self.drawn if n._op is not None and n not in on_path}
        faded = sorted(off - {self.vid(n) for n in self.drawn})
        for (source, target), ids in self.edges.items():
            if source in off or target in off:
                faded += ids
        return faded

    # backward
    def backward_steps(self) -> list[dict[str, Any]]:
        trace = self.trace
        on_path = trace.on_path
        expected: dict[Value, int] = {}
        for step in trace.steps:
            for target, _ in step.pushed:
                expected[target] = expected.get(target, 0) + 1
        received: dict[Value, int] = {}
        sums: dict[Value, Any] = {}
        steps = []
        for step in trace.steps:
            node = step.node
            record = self._backward_record(step)
            updates = [self._update(node, step.gradient, "done")]
            for target, share in step.pushed:
                if on_path is not None and target not in on_path:
                    continue
                sums[target] = share if target not in sums else sums[target] + share
                received[target] = received.get(target, 0) + 1
                if received[target] == expected[target]:  # every contribution is in
                    updates.append(self._update(target, trace.gradients.get(target), "done"))
                else:
                    count = f"{received[target]} of {expected[target]}"
                    updates.append(self._update(target, sums[target], "partial", count))
            record["updates"] = updates
            steps.append(record)
        return steps

    def _update(self, node: Value, gradient: Any, state: str, count: str = "") -> list[str]:
        """[SVG id, text in the box, state, text on hover] of a Value's gradient."""
        if gradient is None:
            return [self.vid(node), "grad: none reaches it", state, "no gradient reaches it"]
        if state == "partial":
            return [self.vid(node), f"grad so far {self.short(gradient)}", state,
                    f"grad so far ({count} contributions) = {self.full(gradient)}"]
        return [self.vid(node), f"grad {self.short(gradient)}", state,
                f"grad = {self.full(gradient)}"]

    def _backward_record(self, step: BackwardStep) -> dict[str, Any]:
        node, trace, digits = step.node, self.trace, self.digits
        derivative = _derivative(self.out, step.label)
        edges: list[str] = []
        ops: list[str] = []
        for term in step.terms:
            more_edges, more_ops = self.path_edges(list(term.path), {node})
            edges += more_edges
            ops += more_ops
        if step.gradient is None or (node is not trace.root and not step.terms):
            result = f"{derivative}: no gradient reaches {step.label}"
        else:
            result = f"{derivative} = {_quantity(step.gradient, digits)}"
        return {
            "phase": "backward",
            "node": self.vid(node),
            "label": step.label,
            "lines": trace.lines(step, digits),
            "result": result,
            "note": self._note(step),
            "terms": [
                {
                    "from": trace.labels[term.consumer],
                    "upstream": _factor(term.upstream, digits),
                    "local": None if term.local is None else _factor(term.local, digits),
                    "ops": _ops_text(term.ops),
                    "share": _quantity(term.value, digits),
                }
                for term in step.terms
            ],
            "edges": list(dict.fromkeys(edges)),
            "ops": list(dict.fromkeys(ops)),
            "sources": list(dict.fromkeys(self.vid(term.consumer) for term in step.terms)),
            "computed": [],
        }

    def _note(self, step: BackwardStep) -> str:
        """One sentence saying what happens at this step."""
        label, out = step.label, self.out
        if step.node is self.trace.root:
            return (f"The backward pass starts at the output: {_derivative(out, out)} = 1. "
                    f"Each step below completes one more gradient, from the output back to "
                    f"the inputs.")
        if step.gradient is None or not step.terms:
            return f"No gradient reaches {label}: nothing that used it passes one back."
        users = [self.trace.labels[term.consumer] for term in step.terms]
        if len(users) == 1:
            text = (f"{label} was used by {users[0]}: its gradient is the upstream gradient "
                    f"{_derivative(out, users[0])} times the local derivative "
                    f"{_derivative(users[0], label)}.")
        else:
            text = (f"{label} was used by {', '.join(users[:-1])} and {users[-1]}: the "
                    f"gradient is the sum of one upstream × local product per use, where the "
                    f"paths meet.")
        if any(term.local is None for term in step.terms):
            text += (" For arrays, × J is the vector-Jacobian product of the operations on "
                     "the way (no Jacobian is formed).")
        return text

    # forward
    def forward_steps(self) -> list[dict[str, Any]]:
        trace = self.trace
        shown = [node for node in reversed(trace.nodes) if node in trace.shown
                 and node._op is not None]
        assigned: set[Value] = set()
        steps = []
        for node in shown:  # creation order: a topological order
            region = [node]
            stack = [node]
            while stack:  # the unnamed operations computed on the way to this Value
                for argument in stack.pop()._args:
                    if (type(argument) is Value and argument._op is not None
                            and argument not in trace.shown and argument not in assigned):
                        assigned.add(argument)
                        region.append(argument)
                        stack.append(argument)
            region.sort(key=lambda n: n._id)
            sources = {a for n in region for a in n._args if type(a) is Value} - set(region)
            edges, ops = self.path_edges(region, sources)
            lines = self._formula(node, region)
            steps.append({
                "phase": "forward",
                "node": self.vid(node),
                "label": trace.labels[node],
                "lines": lines,
                "result": f"{trace.labels[node]} = {_quantity(node.data, self.digits)}",
                "note": self._forward_note(node, region),
                "terms": [],
                "edges": edges,
                "ops": ops,
                "sources": [self.vid(a) for a in sorted(sources, key=lambda n: n._id)],
                "computed": [self.vid(n) for n in region],
                "updates": [],
            })
        return steps

    def _forward_note(self, node: Value, region: list[Value]) -> str:
        label = self.trace.labels[node]
        if len(region) == 1:
            return f"Forward pass: {label} is computed by {node._op.name} from its inputs."
        return (f"Forward pass: {label} is computed from its inputs by "
                f"{_ops_text([n._op.name for n in region])}.")

    def _formula(self, node: Value, region: list[Value]) -> list[str]:
        """`label = formula`, then with numbers for one-element operands, then the value."""
        label = self.trace.labels[node]
        pad = " " * len(label)
        value = f"{pad} = {_quantity(node.data, self.digits)}"
        inside = set(region) - {node}
        if len(region) > _MAX_FORMULA_OPS:
            inputs = dict.fromkeys(a for n in region for a in n._args
                                   if type(a) is Value and a not in inside and a is not node)
            names = ", ".join(self._operand(a, False)[0] for a in inputs)
            return [f"{label} = {_ops_text([n._op.name for n in region])} of {names}", value]
        symbols, _ = self._expression(node, inside, numbers=False)
        lines = [f"{label} = {symbols}"]
        operands = [a for n in region for a in n._args if type(a) is Value and a not in inside]
        if all(_is_scalar(a.data) for a in operands):
            numbers, _ = self._expression(node, inside, numbers=True)
            if numbers != symbols:
                lines.append(f"{pad} = {numbers}")
        lines.append(value)
        return lines

    def _operand(self, value: Value, numbers: bool) -> tuple[str, int]:
        if numbers and _is_scalar(value.data):
            return _factor(value.data, self.digits), _ATOM
        if value in self.trace.labels or value.name:
            return self.label(value), _ATOM
        return _quantity(value.data, self.digits), _ATOM

    def _expression(self, node: Value, inside: set[Value], numbers: bool) -> tuple[str, int]:
        """The formula of `node`, expanding the unnamed operations in `inside`, with the
        parentheses Python would need to compute it (and its precedence)."""
        text, precedence, _ = self._term(node, inside, numbers)
        return text, precedence

    def _term(self, node: Value, inside: set[Value], numbers: bool) -> tuple[str, int, str]:
        """`_expression`, and the name of the operation written outermost ("" for atoms)."""
        operands = []
        for argument in node._args:
            if type(argument) is Value:
                if argument in inside:
                    operands.append(self._term(argument, inside, numbers))
                else:
                    operands.append((*self._operand(argument, numbers), ""))
            elif isinstance(argument, (int, float, np.integer, np.floating)) and not isinstance(
                    argument, bool):
                operands.append((_factor(argument, self.digits), _ATOM, ""))
            else:
                operands.append((_constant_text(argument), _ATOM, ""))
        params = [f"{key}={_constant_text(value)}" for key, value in (node._params or {}).items()
                  if value is not None and value is not False and not isinstance(value, dict)]
        name = node._op.name
        if name in _INFIX and len(operands) == 2 and not params:
            symbol, precedence = _INFIX[name]
            (left, left_precedence, left_name), (right, right_precedence, _) = operands
            # `(u × A) @ v` and `(A @ v) × u`: × and @ are never mixed unparenthesised
            mixed = left_precedence == precedence and (left_name == "matmul") != (
                name == "matmul")
            if left_precedence < precedence or mixed:
                left = f"({left})"
            if right_precedence <= precedence:  # `a − (b − c)`, `u × (A @ v)`
                right = f"({right})"
            return f"{left} {symbol} {right}", precedence, name
        if name == "power" and len(operands) == 2 and not params:
            (base, base_precedence, _), (exponent, exponent_precedence, _) = operands
            if base_precedence < _ATOM:
                base = f"({base})"
            power = node._args[1]
            if (type(power) is not Value and isinstance(power, (int, float))
                    and power in _SUPERSCRIPTS):
                return f"{base}{_SUPERSCRIPTS[int(power)]}", _POWER, name
            if exponent_precedence < _ATOM:
                exponent = f"({exponent})"
            return f"{base} ** {exponent}", _POWER, name
        if name == "negative" and len(operands) == 1 and not params:
            operand, precedence, _ = operands[0]
            return (f"−{operand if precedence > _NEGATIVE else f'({operand})'}", _NEGATIVE,
                    name)
        return f"{name}({', '.join([text for text, _, _ in operands] + params)})", _ATOM, ""


def _wrt_text(wrt: Any, trace: BackwardPass) -> str:
    wanted = wrt if isinstance(wrt, (list, tuple, set)) else [wrt]
    return ", ".join(w if isinstance(w, str) else trace.labels.get(w, "?") for w in wanted)


# --------------------------------------------------------------------------- the page


def _svg_text(svg: str, page: _Page, values: dict[str, dict[str, Any]]) -> str:
    """Graphviz's SVG, ready to sit inside the page: no XML prolog, doctype or comments;
    hover titles that describe each Value and operation."""
    svg = re.sub(r"<\?xml.*?\?>", "", svg, flags=re.S)
    svg = re.sub(r"<!DOCTYPE.*?>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    hovers: dict[str, str] = {}
    for node in page.drawn:
        hovers[page.vid(node)] = values[page.vid(node)]["hover"]
        if node._op is not None:
            hovers[page.opid(node)] = f"operation {_op_label(node)}"
    names = {page.vid(node): page.label(node) for node in page.drawn}
    names.update({page.opid(node): node._op.name for node in page.drawn if node._op is not None})
    for (source, target), ids in page.edges.items():
        for edge in ids:
            hovers[edge] = f"{names.get(source, source)} → {names.get(target, target)}"

    def title(match: re.Match[str]) -> str:
        text = hovers.get(match[2], "")
        return f"{match[1]}{html.escape(text, quote=False)}{match[3]}"

    svg = re.sub(r'(<g id="([^"]+)" class="(?:node|edge)">\s*<title>).*?(</title>)', title, svg,
                 flags=re.S)
    return svg.replace("<svg ", '<svg id="graph-svg" ', 1).strip()


def _json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _html(svg: str, steps: list[dict[str, Any]], data: dict[str, Any]) -> str:
    root = html.escape(data["root"])
    subtitle = "forward pass, then backward pass" if data["forward"] else "backward pass"
    if data["wrt"]:
        subtitle += f", only the paths down to {html.escape(data['wrt'])}"
    off_legend = ("" if not data["wrt"] else
                  '<li><span class="key off"></span>not on a path down to '
                  f'{html.escape(data["wrt"])}</li>')
    forward_legend = ("" if not data["forward"] else
                      '<li><span class="key computed"></span>forward pass: value computed</li>')
    fills = {"ROOT": root, "SUBTITLE": subtitle, "LAST": str(len(steps) - 1),
             "COUNT": str(len(steps)), "LEGEND_FORWARD": forward_legend,
             "LEGEND_OFF": off_legend, "SVG": svg, "STEPS": _json(steps), "DATA": _json(data)}
    # One pass: text put in (a Value named "%SVG%") is never searched for placeholders again.
    return _PLACEHOLDER.sub(lambda match: fills[match[1]], _TEMPLATE)


_PLACEHOLDER = re.compile(
    r"%(ROOT|SUBTITLE|LAST|COUNT|LEGEND_FORWARD|LEGEND_OFF|SVG|STEPS|DATA)%")


_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Backpropagation step by step: %ROOT%</title>
<style>
  :root {
    --focus: #d9480f; --focus-fill: #ffe3cc; --source: #6741d9; --done: #d3f0cf;
    --partial: #fff1b8; --computed: #dbeafe; --ink: #1f2328; --muted: #656d76;
    --line: #d0d7de; --panel: #f6f8fa;
  }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; }
  body {
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
      "Noto Sans", "DejaVu Sans", sans-serif;
    color: var(--ink); display: flex; flex-direction: column; background: white;
  }
  header { padding: 10px 16px 8px; border-bottom: 1px solid var(--line); }
  h1 { font-size: 19px; margin: 0 0 6px; font-weight: 600; }
  h1 small { font-weight: 400; color: var(--muted); font-size: 15px; margin-left: 6px; }
  .controls { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  button {
    font: inherit; font-size: 14px; padding: 4px 11px; border: 1px solid #afb8c1;
    border-radius: 6px; background: #f6f8fa; color: var(--ink); cursor: pointer;
  }
  button:hover:not(:disabled) { background: #eaeef2; }
  button:disabled { color: #8c959f; cursor: default; }
  #slider { flex: 1 1 220px; min-width: 140px; accent-color: var(--focus); }
  #counter { font-variant-numeric: tabular-nums; min-width: 110px; font-weight: 600; }
  .phase {
    font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em;
    padding: 2px 8px; border-radius: 10px; color: white; background: var(--focus);
  }
  .phase.forward { background: #1c7ed6; }
  .zoom { margin-left: auto; display: flex; gap: 4px; align-items: center; color: var(--muted);
    font-size: 13px; }
  .zoom button { padding: 2px 9px; }
  main { flex: 1; display: flex; min-height: 0; }
  #graph { flex: 1; overflow: auto; min-width: 0; position: relative; outline: none; }
  #graph svg { display: block; margin: 12px; }
  #panel {
    width: 440px; flex: none; overflow: auto; padding: 14px 16px; background: var(--panel);
    border-left: 1px solid var(--line);
  }
  @media (max-width: 900px) {
    main { flex-direction: column; }
    #graph { flex: none; height: 58vh; }
    #panel { width: auto; flex: 1; border-left: none; border-top: 1px solid var(--line); }
  }
  #panel h2 { font-size: 22px; margin: 0; }
  #panel h2 .what { font-size: 13px; font-weight: 400; color: var(--muted); margin-left: 6px; }
  #note { color: var(--muted); font-size: 14px; margin: 6px 0 10px; }
  .mono, #lines {
    font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas,
      "Liberation Mono", monospace;
    font-size: 13.5px;
  }
  #lines { background: white; border: 1px solid var(--line); border-radius: 6px;
    padding: 8px 10px; }
  #lines .line { white-space: pre-wrap; overflow-wrap: anywhere; }
  #lines .line.head { font-weight: 600; margin-bottom: 2px; }
  #lines .line.local { color: #3d444d; }
  #lines .eq { margin-top: 4px; }
  #lines .eq div { white-space: pre-wrap; overflow-wrap: anywhere; }
  #lines .eq div + div { padding-left: 1.5em; }
  #result {
    margin: 12px 0 6px; padding: 8px 12px; border-radius: 6px; font-size: 17px;
    font-weight: 600; background: var(--focus-fill); border: 2px solid var(--focus);
    overflow-wrap: anywhere;
  }
  #result.forward { background: var(--computed); border-color: #1c7ed6; }
  #terms { width: 100%; border-collapse: collapse; margin: 8px 0 4px; font-size: 13px; }
  #terms th { text-align: left; color: var(--muted); font-weight: 500; padding: 2px 4px; }
  #terms td { padding: 3px 4px; border-top: 1px solid var(--line); vertical-align: top; }
  #terms td.num { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
  .legend { margin-top: 14px; font-size: 13px; color: var(--muted); }
  .legend ul { list-style: none; padding: 0; margin: 4px 0 0; }
  .legend li { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
  .key { width: 26px; height: 14px; border-radius: 3px; border: 1px solid #8c959f; flex: none; }
  .key.focus { background: var(--focus-fill); border: 2.5px solid var(--focus); }
  .key.edge { height: 0; border: none; border-top: 3px solid var(--focus); border-radius: 0; }
  .key.source { background: white; border: 2.5px solid var(--source); }
  .key.done { background: var(--done); }
  .key.partial { background: var(--partial); }
  .key.none { background: white; }
  .key.off { background: white; opacity: .3; }
  .key.computed { background: var(--computed); }
  .hint { font-size: 12.5px; color: var(--muted); margin-top: 10px; }
  kbd { border: 1px solid #afb8c1; border-bottom-width: 2px; border-radius: 4px;
    padding: 0 4px; font-size: 11.5px; background: white; }
  /* the graph */
  g.node, g.edge { transition: opacity .15s; }
  g.node.wt-done > polygon { fill: var(--done); }
  g.node.wt-partial > polygon { fill: var(--partial); }
  g.node.wt-computed > polygon { fill: var(--computed); }
  g.node.wt-source > path { stroke: var(--source); stroke-width: 7px; }
  g.node.wt-focus > polygon { fill: var(--focus-fill); }
  g.node.wt-focus > path { stroke: var(--focus); stroke-width: 8px; stroke-dasharray: none; }
  g.node.wt-op > ellipse { fill: var(--focus-fill); stroke: var(--focus); stroke-width: 2px; }
  g.edge.wt-edge > path { stroke: var(--focus); stroke-width: 3px; }
  g.edge.wt-edge > polygon { fill: var(--focus); stroke: var(--focus); }
  g.wt-off { opacity: .28; }
  text.wt-empty { fill: #8c959f; }
  text.wt-grad-partial { font-style: italic; }
</style>
</head>
<body>
<header>
  <h1>Backpropagation, step by step: %ROOT% <small>%SUBTITLE%</small></h1>
  <div class="controls">
    <button id="first" type="button" title="first step (Home)">« first</button>
    <button id="prev" type="button" title="previous step (←)">◀ prev</button>
    <input id="slider" type="range" min="0" max="%LAST%" value="0" step="1"
      aria-label="step">
    <button id="next" type="button" title="next step (→)">next ▶</button>
    <button id="last" type="button" title="last step (End)">last »</button>
    <span id="counter" aria-live="polite">step 1 of %COUNT%</span>
    <span id="phase" class="phase">backward</span>
    <span class="zoom">zoom
      <button id="zoom-out" type="button" title="smaller">−</button>
      <button id="zoom-fit" type="button" title="fit the whole graph">fit</button>
      <button id="zoom-in" type="button" title="larger">+</button>
    </span>
  </div>
</header>
<main>
  <section id="graph" tabindex="0" aria-label="computation graph">
%SVG%
  </section>
  <aside id="panel">
    <h2 id="step-title"></h2>
    <div id="note"></div>
    <div id="lines"></div>
    <div id="result"></div>
    <table id="terms"></table>
    <div class="legend">
      <strong>Legend</strong>
      <ul>
        <li><span class="key focus"></span><span data-backward="this step: the Value whose
          chain rule is shown" data-forward="this step: the Value just computed">this step:
          the Value whose chain rule is shown</span></li>
        <li><span class="key edge"></span><span data-backward="the way its gradient came
          back" data-forward="the operations that computed it">the way its gradient came
          back</span></li>
        <li><span class="key source"></span><span data-backward="the Values it came from
          (upstream)" data-forward="its inputs">the Values it came from (upstream)</span></li>
        <li><span class="key done"></span>gradient complete</li>
        <li><span class="key partial"></span>gradient accumulated so far (more to come)</li>
        <li><span class="key none"></span>no gradient yet</li>
        %LEGEND_FORWARD%
        %LEGEND_OFF%
      </ul>
    </div>
    <div class="hint">Keys: <kbd>←</kbd> <kbd>→</kbd> previous / next,
      <kbd>Home</kbd> <kbd>End</kbd> first / last. Hover over a Value to see its data.</div>
  </aside>
</main>
<script type="application/json" id="steps">%STEPS%</script>
<script type="application/json" id="graph-data">%DATA%</script>
<script>
(function () {
  "use strict";
  var steps = JSON.parse(document.getElementById("steps").textContent);
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.getElementById("graph-svg");
  var graph = document.getElementById("graph");
  var slider = document.getElementById("slider");
  var n = steps.length;
  var current = -1;
  var scale = 1;
  var box = svg.viewBox.baseVal;

  // Each Value's box: the SVG group, its data and grad rows, its hover title.
  var boxes = {};
  Object.keys(data.values).forEach(function (id) {
    var group = document.getElementById(id);
    if (!group) { return; }
    var texts = group.querySelectorAll("text");
    var info = { group: group, value: data.values[id], data: null, grad: null,
                 title: group.querySelector("title") };
    for (var i = 0; i < texts.length; i++) {
      var content = texts[i].textContent;
      if (content.indexOf("data ") === 0) { info.data = row(texts[i]); }
      if (content.indexOf("grad ") === 0) { info.grad = row(texts[i]); }
    }
    boxes[id] = info;
  });

  // A row of a Value's table: centred in its cell, squeezed if a text is too long.
  function row(text) {
    var cell = text.previousElementSibling;
    while (cell && cell.tagName.toLowerCase() !== "polygon") {
      cell = cell.previousElementSibling;
    }
    var width = 0;
    if (cell) {
      var b = cell.getBBox();
      width = b.width;
      text.setAttribute("x", String(b.x + b.width / 2));
      text.setAttribute("text-anchor", "middle");
    }
    return { text: text, width: width };
  }

  function setRow(r, content, cls) {
    if (!r) { return; }
    r.text.textContent = content;
    r.text.setAttribute("class", cls || "");
    r.text.removeAttribute("textLength");
    r.text.removeAttribute("lengthAdjust");
    if (r.width > 0 && r.text.getComputedTextLength() > r.width - 6) {
      r.text.setAttribute("textLength", String(r.width - 6));
      r.text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  function element(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function clearMarks() {
    var marked = svg.querySelectorAll(".wt-focus, .wt-edge, .wt-source, .wt-op");
    for (var i = 0; i < marked.length; i++) {
      marked[i].classList.remove("wt-focus", "wt-edge", "wt-source", "wt-op");
    }
  }

  function mark(ids, cls) {
    ids.forEach(function (id) {
      var e = document.getElementById(id);
      if (e) { e.classList.add(cls); }
    });
  }

  function show(k) {
    k = Math.max(0, Math.min(n - 1, k));
    current = k;
    var step = steps[k];
    var backward = step.phase === "backward";
    // What every Value shows at step k: its data once computed, its gradient so far.
    var computed = {};
    var grads = {};
    for (var j = 0; j <= k; j++) {
      steps[j].computed.forEach(function (id) { computed[id] = true; });
      steps[j].updates.forEach(function (u) { grads[u[0]] = u; });
    }
    Object.keys(boxes).forEach(function (id) {
      var b = boxes[id];
      var known = !data.forward || backward || b.value.leaf || computed[id];
      setRow(b.data, known ? b.value.data : "data —", known ? "" : "wt-empty");
      var u = grads[id];
      if (b.value.grad) {
        if (u) {
          setRow(b.grad, u[1], u[2] === "partial" ? "wt-grad-partial" : "");
        } else {
          setRow(b.grad, "grad —", "wt-empty");
        }
      }
      var g = b.group.classList;
      g.toggle("wt-done", !!u && u[2] === "done");
      g.toggle("wt-partial", !!u && u[2] === "partial");
      g.toggle("wt-computed", !backward && !!computed[id]);
      g.toggle("wt-off", backward && b.value.off);
      if (b.title) {
        b.title.textContent = known ? b.value.hover : b.value.hover.split("\n")[0] +
          "\n(not computed yet)";
        if (u) { b.title.textContent += "\n" + u[3]; }
      }
    });
    data.faded.forEach(function (id) {
      var e = document.getElementById(id);
      if (e) { e.classList.toggle("wt-off", backward); }
    });
    clearMarks();
    mark(step.edges, "wt-edge");
    mark(step.ops, "wt-op");
    mark(step.sources, "wt-source");
    mark([step.node], "wt-focus");
    renderPanel(step);
    slider.value = String(k);
    document.getElementById("counter").textContent = "step " + (k + 1) + " of " + n;
    var legend = document.querySelectorAll(".legend [data-backward]");
    for (var i = 0; i < legend.length; i++) {
      legend[i].textContent = legend[i].getAttribute(backward ? "data-backward" : "data-forward")
        .replace(/\s+/g, " ");
    }
    var phase = document.getElementById("phase");
    phase.textContent = backward ? "backward pass" : "forward pass";
    phase.className = "phase " + step.phase;
    document.getElementById("first").disabled = k === 0;
    document.getElementById("prev").disabled = k === 0;
    document.getElementById("next").disabled = k === n - 1;
    document.getElementById("last").disabled = k === n - 1;
    reveal(step);
  }

  function renderPanel(step) {
    var backward = step.phase === "backward";
    var title = document.getElementById("step-title");
    title.textContent = "";
    var label = element("span", "", step.label);
    label.id = "step-label";
    title.appendChild(label);
    title.appendChild(document.createTextNode(" "));
    title.appendChild(element("span", "what", backward ? "gradient complete" : "computed"));
    document.getElementById("note").textContent = step.note;
    var lines = document.getElementById("lines");
    lines.textContent = "";
    step.lines.forEach(function (line, i) {
      var last = i === step.lines.length - 1;
      var parts = line.split(" = ");
      if (backward && last && i > 0 && parts.length >= 3) {
        // the gradient line, one `= ...` per row: symbols, numbers, result
        var eq = element("div", "eq line");
        eq.setAttribute("data-line", line);
        parts.forEach(function (part, p) {
          eq.appendChild(element("div", "", (p === 0 ? "" : "= ") + part.trim()));
        });
        lines.appendChild(eq);
      } else {
        lines.appendChild(element("div", "line" + (i === 0 ? " head" : " local"), line));
      }
    });
    var result = document.getElementById("result");
    result.textContent = step.result;
    result.className = backward ? "" : "forward";
    var table = document.getElementById("terms");
    table.textContent = "";
    if (step.terms.length) {
      var head = element("tr");
      ["from", "upstream", "× local", "= share"].forEach(function (h) {
        head.appendChild(element("th", "", h));
      });
      table.appendChild(head);
      step.terms.forEach(function (t) {
        var tr = element("tr");
        var from = element("td", "", t.from);
        from.title = "through " + t.ops;
        tr.appendChild(from);
        tr.appendChild(element("td", "num mono", t.upstream));
        tr.appendChild(element("td", "num mono", t.local === null ? "J (VJP)" : t.local));
        tr.appendChild(element("td", "num mono", t.share));
        table.appendChild(tr);
      });
    }
  }

  // Keep the highlighted Value in view, with the way its gradient came if there is room.
  function reveal(step) {
    var focus = document.getElementById(step.node);
    if (!focus) { return; }
    var g = graph.getBoundingClientRect();
    var margin = 30;
    var t = focus.getBoundingClientRect();
    var all = { left: t.left, right: t.right, top: t.top, bottom: t.bottom };
    step.edges.concat(step.sources).forEach(function (id) {
      var e = document.getElementById(id);
      if (!e) { return; }
      var r = e.getBoundingClientRect();
      all = { left: Math.min(all.left, r.left), right: Math.max(all.right, r.right),
              top: Math.min(all.top, r.top), bottom: Math.max(all.bottom, r.bottom) };
    });
    if (all.right - all.left <= g.width - 2 * margin &&
        all.bottom - all.top <= g.height - 2 * margin) {
      t = all;
    }
    if (t.left < g.left + margin || t.right > g.right - margin ||
        t.top < g.top + margin || t.bottom > g.bottom - margin) {
      graph.scrollLeft += (t.left + t.right) / 2 - (g.left + g.width / 2);
      graph.scrollTop += (t.top + t.bottom) / 2 - (g.top + g.height / 2);
    }
  }

  // Zoom: Graphviz sizes are in points (4/3 px).
  function zoom(s) {
    scale = Math.max(0.15, Math.min(3, s));
    svg.setAttribute("width", String(box.width * 4 / 3 * scale));
    svg.setAttribute("height", String(box.height * 4 / 3 * scale));
    if (current >= 0) { reveal(steps[current]); }
  }
  function fitScale() {
    return Math.min((graph.clientWidth - 24) / (box.width * 4 / 3),
                    (graph.clientHeight - 24) / (box.height * 4 / 3));
  }

  document.getElementById("first").onclick = function () { show(0); };
  document.getElementById("prev").onclick = function () { show(current - 1); };
  document.getElementById("next").onclick = function () { show(current + 1); };
  document.getElementById("last").onclick = function () { show(n - 1); };
  document.getElementById("zoom-in").onclick = function () { zoom(scale * 1.25); };
  document.getElementById("zoom-out").onclick = function () { zoom(scale / 1.25); };
  document.getElementById("zoom-fit").onclick = function () { zoom(fitScale()); };
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.target === slider) { return; }  // the slider moves itself
    var keys = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: n - 1 };
    if (event.key in keys) {
      event.preventDefault();
      show(keys[event.key]);
    }
  });

  // The address may choose the step and the zoom: page.html#step=12&zoom=0.8
  function follow(first) {
    var hash = window.location.hash || "";
    var chosen = /[#&]zoom=([0-9.]+)/.exec(hash);
    var fit = fitScale();
    if (chosen || first) {
      zoom(chosen ? parseFloat(chosen[1]) : fit >= 1 ? Math.min(fit, 1.6) : 1);
    }
    var start = /[#&]step=(\d+)/.exec(hash);
    if (start || first) { show(start ? parseInt(start[1], 10) - 1 : 0); }
  }
  window.addEventListener("hashchange", function () { follow(false); });
  follow(true);
  document.body.setAttribute("data-ready", "true");
})();
</script>
</body>
</html>
"""
