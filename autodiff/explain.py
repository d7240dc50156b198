"""`explain(root)`: the backward pass written out step by step, like a hand-worked example.

For every Value the output depends on, from the output back to the inputs (reverse
topological order), the report gives the chain-rule product that produced its gradient:

    ∂E_total/∂w5 = ∂E_total/∂net_o1 × ∂net_o1/∂w5 = 0.138498562 × 0.593269992 = 0.082167041

i.e. upstream gradient × local derivative = gradient, summed over every Value that used it.
Local derivatives come from each primitive's own VJP rule. When some intermediate Values
carry names, the report speaks of named Values (and leaves) only: a run of unnamed
intermediate operations between two named Values (`0.5 * (target - out) ** 2`) is one
step, whose local derivative is the product along that run. Otherwise every operation is
a step, unnamed Values called v1, v2, ... in creation order.

The bookkeeping is done once, by `backward_steps`, which returns it as data (a
`BackwardPass`: one `BackwardStep` per Value, each with its `Contribution`s); `explain`
writes that data as text, and `autodiff.walkthrough` turns the same data into a page.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import value as _value
from .engine import _creation_order, backprop, reachable_nodes
from .value import FROZEN_BY_ENGINE, UNGUARDED, Value, freeze

__all__ = ["BackwardPass", "BackwardStep", "Contribution", "Explanation", "backward_steps",
           "explain", "format_number"]


class Explanation(str):
    """The text of `explain`: a str that a notebook shows as formatted math (Markdown with
    LaTeX: each chain rule as a product of fractions ∂a/∂b). `markdown` holds that form."""

    markdown: str

    def __new__(cls, text: str, markdown: str | None = None) -> Explanation:
        self = super().__new__(cls, text)
        self.markdown = markdown if markdown is not None else f"```text\n{text}\n```"
        return self

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:  # the REPL shows the report itself, not a quoted string
        return str(self)


def format_number(x: Any, digits: int = 9) -> str:
    """x as hand-worked examples print it: `digits` decimal places from 0.01 up to 1e6
    (0.082167041), `digits` significant digits below 0.01 (0.000438567734) and scientific
    notation below 1e-6 or from 1e6 up (1.23456789e-07); trailing zeros dropped. A complex
    number prints as its real and imaginary parts so written: `1+2j`, `0.6-0.8j`."""
    if np.iscomplexobj(x):
        return _complex_text(complex(x), lambda part: format_number(part, digits))
    x = float(x)
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    size = abs(x)
    if 1e-6 <= size < 1e6:
        decimals = digits if size >= 1e-2 else digits - 1 - math.floor(math.log10(size))
        text = f"{x:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def _complex_text(z: complex, number: Any) -> str:
    """`1+2j` as Python writes complex numbers, each part written by `number`; a number
    with no imaginary part as a real one."""
    if z.imag == 0:
        return number(z.real)
    imaginary = number(z.imag)
    sign = "" if imaginary.startswith("-") else "+"
    return f"{number(z.real)}{sign}{imaginary}j"


def _is_scalar(x: Any) -> bool:
    return np.size(x) == 1


@contextmanager
def _leaf_guards_kept() -> Iterator[None]:
    """Leaf arrays the engine keeps read-only (a graph waits for backward) stay read-only:
    the `thaw_all` that ends each inner `backprop` is undone for them."""
    frozen = [leaf for ref in _value._frozen_leaves
              if (leaf := ref()) is not None and leaf._frozen == FROZEN_BY_ENGINE]
    try:
        yield
    finally:
        for leaf in frozen:
            if leaf._frozen != FROZEN_BY_ENGINE:  # thawed by an inner backprop
                leaf._frozen = UNGUARDED  # (freeze does nothing to a leaf marked otherwise)
                freeze(leaf)


# --------------------------------------------------------------------------- the bookkeeping


@dataclass(frozen=True, eq=False)
class Contribution:
    """One term of a Value's chain rule: what the shown Value `consumer`, which used it,
    passed back to it.

    `upstream` is ∂root/∂consumer; `local` the local derivative ∂consumer/∂value for a
    one-element consumer (seeded with 1), None for an array consumer (then only the
    vector-Jacobian product is meant); `ops` the names of the operations on the way, in
    data-flow order; `path` the Values those operations made (creation order, `consumer`
    last); `value` this term's share of the gradient (upstream × local, or the VJP).
    """

    consumer: Value
    upstream: Any
    local: Any
    ops: tuple[str, ...]
    path: tuple[Value, ...]
    value: Any


@dataclass(frozen=True, eq=False)
class BackwardStep:
    """One Value of the backward pass: its gradient and the terms it is the sum of.

    `gradient` is ∂root/∂node (None when no gradient reaches it), `terms` the
    `Contribution`s of the Values that used it, in their creation order (none for the
    root, whose gradient is the seed 1). `pushed` is what processing this Value passes
    back: every Value below it up to the next shown ones (shown inputs and the unshown
    intermediate Values in between) with its share, in creation order.
    """

    node: Value
    label: str
    gradient: Any
    terms: tuple[Contribution, ...]
    pushed: tuple[tuple[Value, Any], ...]


@dataclass(frozen=True, eq=False)
class BackwardPass:
    """The backward pass from `root` as data: what `explain` writes and
    `autodiff.walkthrough` shows.

    `steps` lists the Values of the report, `root` first, in reverse topological order
    (restricted to the paths down to `wrt` when it is given). `nodes` are all the Values
    that require grad in the graph (root first, reverse creation order), `shown` those
    that are steps when not restricted (named Values, leaves and the root when some
    intermediate Value is named, `collapsed`; otherwise all), `on_path` the Values on the
    paths to `wrt` (None without `wrt`), `labels` what each Value is called and
    `gradients` every Value's gradient from one `backprop`.
    """

    root: Value
    wrt: Any
    nodes: tuple[Value, ...]
    shown: frozenset[Value]
    on_path: frozenset[Value] | None
    collapsed: bool
    labels: dict[Value, str]
    gradients: dict[Value, Any]
    steps: tuple[BackwardStep, ...]

    def title(self, digits: int = 9) -> str:
        """The report's first paragraph."""
        return _title(self.root, self.labels, self.wrt, digits, self.collapsed)

    def lines(self, step: BackwardStep, digits: int = 9) -> list[str]:
        """The report's paragraph for one step: its value, local derivatives, gradient."""
        return _block(step, self.root, self.labels, digits)

    def text(self, digits: int = 9) -> str:
        """The whole report, as `explain` returns it."""
        lines = [self.title(digits), ""]
        for step in self.steps:
            lines.extend(self.lines(step, digits))
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def markdown(self, digits: int = 9) -> str:
        """The whole report as Markdown with LaTeX math, as a notebook shows `explain`."""
        paragraphs = [_markdown_escape(self.title(digits).replace("\n", " "))]
        for step in self.steps:
            paragraphs.append("  \n".join(_tex_block(step, self.root, self.labels, digits)))
        return "\n\n".join(paragraphs) + "\n"


def _push(consumer: Value, seed: Any, shown: set[Value]
          ) -> tuple[dict[Value, tuple[Any, list[Value]]], dict[Value, Any]]:
    """Push the cotangent `seed` of `consumer` back through its operation and any unshown
    intermediate Values, until shown Values (or leaves) are reached: one `backprop` that
    stops at the shown Values. Returns (shown input → (cotangent, the Values made by the
    operations on the way, in data-flow order), unshown intermediate Value → cotangent)."""
    grads = backprop(consumer, seed, stop_at=shown)  # (the consumer itself is the root)
    region = sorted((n for n in grads if n is consumer or (n._op is not None and n not in shown)),
                    key=_creation_order)
    inside = set(region)
    reached = {}
    for parent, cotangent in grads.items():
        if parent is consumer or not (parent in shown or parent._op is None):
            continue
        leads_there: set[Value] = set()  # region nodes with a path down to parent
        for node in region:  # inputs before the Values made from them
            if any(a is parent or (a in inside and a in leads_there) for a in node._args
                   if type(a) is Value):
                leads_there.add(node)
        reached[parent] = (cotangent, [n for n in region if n in leads_there])
    between = {n: grads[n] for n in region if n is not consumer}
    return reached, between


def _complex_push(consumer: Value, upstream: Any, shown: set[Value]
                  ) -> tuple[dict[Value, tuple[Any, list[Value]]], dict[Value, Any],
                             dict[Value, Any]]:
    """`_push` from a one-element complex `consumer`, whose backward needs a seed: the
    shares are the VJPs of its gradient `upstream`; an input's local derivative (the seed
    1+0j, PyTorch's convention: conj f'(x) for holomorphic f) is returned only when upstream
    × it is that share (None where the operations on the way are not holomorphic)."""
    reached, between = _push(consumer, np.asarray(upstream).astype(consumer.dtype), shown)
    ones, _ = _push(consumer, np.ones_like(consumer.data), shown)
    locals_ = {}
    for parent, (cotangent, _path) in reached.items():
        local = ones[parent][0]
        with np.errstate(all="ignore"):
            if np.allclose(upstream * local, cotangent, rtol=1e-9, atol=0):
                locals_[parent] = local
    return reached, between, locals_


def _check_root(root: Any, caller: str) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"{caller}(root): root must be an autodiff Value, got "
                        f"{type(root).__name__}")
    if root.size != 1:
        raise ValueError(f"{caller}: the output must have one element (a loss); this one has "
                         f"shape {root.shape}. Reduce it first, e.g. with .sum().")
    if not root.requires_grad:
        verb = "explain" if caller == "explain" else "show"
        raise ValueError(f"{caller}: the output does not require grad (a constant, or "
                         f"computed under no_grad()), so there is no backward pass to "
                         f"{verb}.")


def backward_steps(root: Value, wrt: Any = None, *,
                   _caller: str = "backward_steps") -> BackwardPass:
    """The chain-rule bookkeeping of the backward pass from `root`, once, as data.

    For each Value that `explain` reports on, from `root` back to the inputs: the Values
    that used it (consumers), their gradients (upstream), the local derivative or a VJP
    marker, the operations on the way, the summed gradient, and what the Value passes back
    in turn. Arguments and errors as for `explain`; nothing reads or writes any `.grad`, and
    leaf arrays kept read-only for a pending backward stay so.
    """
    _check_root(root, _caller)
    with _leaf_guards_kept():
        return _backward_steps(root, wrt, _caller)


def _backward_steps(root: Value, wrt: Any, _caller: str) -> BackwardPass:
    nodes = reachable_nodes(root)  # root first, every Value before its inputs
    gradients = backprop(root)

    # Collapse only when the user named some intermediate Value: naming parameters alone
    # (as `nn` does) keeps every operation as a step.
    named = any(node.name for node in nodes if node._op is not None and node is not root)
    if named:
        shown = {node for node in nodes if node.name or node is root or node._op is None}
    else:
        shown = set(nodes)
    labels = _labels(nodes, root, named)

    on_path = _on_paths(nodes, wrt, _caller) if wrt is not None else None

    terms: dict[Value, list[Contribution]] = {}
    pushed: dict[Value, list[tuple[Value, Any]]] = {}
    for consumer in nodes:
        if consumer not in shown or consumer._op is None:
            continue
        if on_path is not None and consumer not in on_path:
            continue
        upstream = gradients.get(consumer)
        if upstream is None:
            continue
        # A one-element consumer gets its local derivative (seed 1); an array consumer
        # only a vector-Jacobian product of its upstream gradient.
        local_wanted = _is_scalar(consumer.data)
        seed = None if local_wanted else upstream
        if local_wanted and np.iscomplexobj(consumer.data):
            reached, between, locals_ = _complex_push(consumer, upstream, shown)
            local_wanted = False  # the shares are the VJPs themselves
        else:
            reached, between = _push(consumer, seed, shown)
            locals_ = {}
        shares = []
        for parent, (cotangent, path) in reached.items():
            local = cotangent if local_wanted else locals_.get(parent)
            value = upstream * cotangent if local_wanted else cotangent
            ops = tuple(n._op.name for n in path)
            terms.setdefault(parent, []).append(
                Contribution(consumer, upstream, local, ops, tuple(path), value))
            shares.append((parent, value))
        for node, cotangent in between.items():
            shares.append((node, upstream * cotangent if local_wanted else cotangent))
        pushed[consumer] = sorted(shares, key=lambda share: _creation_order(share[0]))

    steps = []
    for node in nodes:
        if node not in shown or (on_path is not None and node not in on_path):
            continue
        node_terms = sorted(terms.get(node, []), key=lambda term: term.consumer._id)
        steps.append(BackwardStep(node, labels[node], gradients.get(node), tuple(node_terms),
                                   tuple(pushed.get(node, ()))))
    return BackwardPass(
        root=root, wrt=wrt, nodes=tuple(nodes), shown=frozenset(shown),
        on_path=None if on_path is None else frozenset(on_path), collapsed=named,
        labels=labels, gradients=gradients, steps=tuple(steps),
    )


# --------------------------------------------------------------------------- the report


def explain(root: Value, wrt: Any = None, *, digits: int = 9) -> Explanation:
    """The backward pass from `root` as a step-by-step report (a str; Markdown in notebooks).

    For each Value, from `root` back to the inputs (reverse topological order): the chain
    rule ∂root/∂x = Σ_c ∂root/∂c × ∂c/∂x over the Values c that used x, first in symbols,
    then with numbers, then the result. Local derivatives ∂c/∂x come from each primitive's
    VJP rule (seeded with 1). If some intermediate Value is named, runs of unnamed
    intermediate operations between named Values are collapsed into one step (its local
    derivative is their product, and the operations are listed); otherwise every operation
    is a step, and unnamed Values are called v1, v2, ... in creation order.

    Scalars print with `digits` decimal places (9: 0.082167041) or, below 0.01 and from 1e6
    up, `digits` significant digits (see `format_number`). For array Values the report gives
    shape and Frobenius norm ‖·‖ instead of the elements, and `×` stands for the vector-
    Jacobian product of the operations between.

    The gradients are computed for the report by `autodiff.engine.backprop`: it neither
    needs `root.backward()` nor reads or writes any `.grad`. `wrt` (a name, a Value, or a
    list of them) restricts the report to the Values on the paths from `root` down to
    those Values. `root` must have a single element. The numbers come from
    `backward_steps`, which `autodiff.walkthrough` shares.
    """
    _check_root(root, "explain")
    _check_digits(digits, "explain")
    steps = backward_steps(root, wrt, _caller="explain")
    return Explanation(steps.text(digits), steps.markdown(digits))


def _check_digits(digits: Any, caller: str) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
        raise ValueError(f"{caller}: digits must be a positive integer, got {digits!r}")


# --------------------------------------------------------------------------- helpers


def _labels(nodes: list[Value], root: Value, named: bool) -> dict[Value, str]:
    """What each Value is called in the report."""
    labels = {}
    for number, node in enumerate(reversed(nodes), start=1):
        if node.name:
            labels[node] = node.name
        elif named and node is root:
            labels[node] = "output"
        else:
            labels[node] = f"v{number}"
    return labels


def _on_paths(nodes: list[Value], wrt: Any, caller: str = "explain") -> set[Value]:
    """The Values on some path from the root down to one of `wrt`."""
    wanted = wrt if isinstance(wrt, (list, tuple, set)) else [wrt]
    if not wanted:
        raise ValueError(f"{caller}: wrt is empty, so there is no path to follow; give a name, "
                         f"a Value or a list of them (or leave wrt out for the whole graph)")
    targets: set[Value] = set()
    names = {node.name for node in nodes if node.name}
    in_graph = set(nodes)
    for item in wanted:
        if isinstance(item, Value):
            if item not in in_graph:
                raise ValueError(
                    f"{caller}: wrt={item!r} is not in the graph of this output (or does not "
                    f"require grad)"
                )
            targets.add(item)
        elif isinstance(item, str):
            matches = [node for node in nodes if node.name == item]
            if not matches:
                known = ", ".join(sorted(names)[:20]) or "none"
                raise ValueError(
                    f"{caller}: no Value named {item!r} in this graph; names present: {known}"
                )
            targets.update(matches)
        else:
            raise TypeError(f"{caller}: wrt must be a name, a Value or a list of them, got "
                            f"{type(item).__name__}")
    on_path: set[Value] = set()
    for node in reversed(nodes):  # inputs before the Values made from them
        if node in targets or any(
            isinstance(a, Value) and a in on_path for a in node._args
        ):
            on_path.add(node)
    return on_path


def _norm(x: Any) -> float:
    """The Frobenius norm sqrt(Σ|x|²), of the magnitudes for complex data, scaled by the
    largest magnitude m (m·‖x/m‖) so that neither 1e200 nor 1e-200 leaves float64 range."""
    magnitudes = np.abs(np.asarray(x)).astype(np.float64).reshape(-1)
    if magnitudes.size == 0:
        return 0.0
    largest = float(np.max(magnitudes))
    if largest == 0 or not math.isfinite(largest):
        return largest  # 0, inf or nan, as the norm itself
    if 1e-150 < largest < 1e150:  # the squares stay normal floats: no scaling needed
        return float(np.linalg.norm(magnitudes))
    return largest * float(np.linalg.norm(magnitudes / largest))


def _mean(x: Any) -> Any:
    """The mean in float64 (complex128 for complex data) that does not overflow when the
    sum would: [1e308, 1e308] → 1e308 (the mean of x/m, times m = max|x|)."""
    array = np.asarray(x)
    dtype = np.complex128 if np.iscomplexobj(array) else np.float64
    with np.errstate(all="ignore"):
        average = np.mean(array, dtype=dtype)
        if not np.isfinite(average) and array.size and np.all(np.isfinite(array)):
            largest = float(np.max(np.abs(array)))
            average = np.mean(array / largest, dtype=dtype) * largest
    return average


def _quantity(x: Any, digits: int) -> str:
    """A number for one element, `[shape ‖·‖ norm]` for an array."""
    if _is_scalar(x):
        return format_number(np.asarray(x).reshape(()), digits)
    return f"[{tuple(np.shape(x))} ‖·‖ {format_number(_norm(x), digits)}]"


def _factor(x: Any, digits: int) -> str:
    """A quantity ready to sit in a product: negative and complex numbers in parentheses."""
    text = _quantity(x, digits)
    return f"({text})" if text.startswith("-") or _is_complex_text(text) else text


def _is_complex_text(text: str) -> bool:
    """Whether `format_number` wrote a number with real and imaginary parts (`1+2j`)."""
    return text.endswith("j") and ("+" in text[1:] or "-" in text[1:].replace("e-", ""))


def _title(root: Value, labels: dict[Any, Any], wrt: Any, digits: int, named: bool) -> str:
    head = (f"Backward pass of {labels[root]} = {_quantity(root.data, digits)}, in reverse "
            f"topological order: upstream gradient × local derivative = gradient.")
    if wrt is not None:
        wanted = wrt if isinstance(wrt, (list, tuple, set)) else [wrt]
        names = ", ".join(w if isinstance(w, str) else labels.get(w, "?") for w in wanted)
        head += f" Only the paths down to {names}."
    if named:
        head += (" Unnamed intermediate operations between named Values are collapsed into"
                 " one local derivative.")
    return textwrap.fill(head, width=92, break_long_words=False, break_on_hyphens=False)


def _ops_text(ops: list[str] | tuple[str, ...]) -> str:
    """`a → b → c`, three or more repeats folded (`multiply (5 times)`), long lists
    shortened around `…`."""
    runs: list[list[Any]] = []
    for name in ops:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    parts = []
    for name, count in runs:
        parts += [f"{name} ({count} times)"] if count >= 3 else [name] * count
    if len(parts) > 8:
        parts = [*parts[:3], f"… {len(ops)} operations in all …", *parts[-3:]]
    return " → ".join(parts)


def _derivative(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


def _describe(node: Value, root: Value, labels: dict[Any, Any], digits: int) -> str:
    if node is root:
        role = "output"
    elif node._op is None:
        role = "leaf"
    else:
        role = f"made by {node._op.name}"
    if _is_scalar(node.data):
        return f"{labels[node]} = {_quantity(node.data, digits)}   ({role})"
    return (f"{labels[node]}: shape {node.shape} {node.dtype}, ‖·‖ "
            f"{format_number(_norm(node.data), digits)}   ({role})")


def _block(step: BackwardStep, root: Value, labels: dict[Any, Any], digits: int) -> list[str]:
    """The lines of one Value: its value, its local derivatives, its gradient."""
    node = step.node
    out = labels[root]
    lines = [_describe(node, root, labels, digits)]
    if node is root:
        lines.append(f"  {_derivative(out, out)} = 1   (the seed of the backward pass)")
        return lines
    if step.gradient is None or not step.terms:
        lines.append(f"  {_derivative(out, labels[node])}: no gradient reaches this Value")
        return lines
    for term in step.terms:
        through = _ops_text(term.ops)
        local = _derivative(labels[term.consumer], labels[node])
        if term.local is not None:
            lines.append(f"  {local} = {_quantity(term.local, digits)}   "
                         f"(local derivative of {through})")
        else:
            lines.append(f"  {local}: vector-Jacobian product of {through}")
    symbols = " + ".join(
        f"{_derivative(out, labels[t.consumer])} × {_derivative(labels[t.consumer], labels[node])}"
        for t in step.terms
    )
    numbers = " + ".join(
        f"{_factor(t.upstream, digits)} × {'J' if t.local is None else _factor(t.local, digits)}"
        for t in step.terms
    )
    gradient_text = _quantity(step.gradient, digits)
    lines.append(f"  {_derivative(out, labels[node])} = {symbols} = {numbers} = {gradient_text}")
    return lines


# --------------------------------------------------------------------------- as math

_TEX_ESCAPES = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\wedge{}",
                "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&", "~": r"\sim{}", "<": r"\lt{}",
                ">": r"\gt{}", "*": r"\ast{}", "|": r"\vert{}"}


def _tex_text(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(char, char) for char in text)


def _tex_name(label: str) -> str:
    """A Value's name as a math symbol: `E_total` → E with subscript total."""
    base, _, sub = label.partition("_")
    if base and sub:
        return rf"\mathit{{{_tex_text(base)}}}_{{\mathit{{{_tex_text(sub)}}}}}"
    return rf"\mathit{{{_tex_text(label)}}}"


def _tex_derivative(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {_tex_name(top)}}}{{\partial {_tex_name(bottom)}}}"


def _tex_number(text: str) -> str:
    """`format_number`'s text in math: `1.2e-07` → 1.2 × 10⁻⁷."""
    mantissa, e, exponent = text.partition("e")
    if not e:
        return text
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def _tex_quantity(x: Any, digits: int, factor: bool = False) -> str:
    if _is_scalar(x):
        number = np.asarray(x).reshape(())
        if np.iscomplexobj(number) and number.imag != 0:
            text = _complex_text(complex(number), lambda part: _tex_number(
                format_number(part, digits)))[:-1] + "i"
            return rf"\left({text}\right)" if factor else text
        text = _tex_number(format_number(number, digits))
        return rf"\left({text}\right)" if factor and text.startswith("-") else text
    shape = ", ".join(str(n) for n in np.shape(x)) + ("," if np.ndim(x) == 1 else "")
    return (rf"\left[({shape})\ \lVert\cdot\rVert\ "
            rf"{_tex_number(format_number(_norm(x), digits))}\right]")


def _markdown_escape(text: str) -> str:
    return "".join("\\" + char if char in "\\`*_[]<>$#|" else char for char in text)


def _tex_block(step: BackwardStep, root: Value, labels: dict[Any, Any], digits: int) -> list[str]:
    """One Value's paragraph, as `_block` writes it, in Markdown with inline math."""
    node = step.node
    out = labels[root]
    if node is root:
        role = "output"
    elif node._op is None:
        role = "leaf"
    else:
        role = f"made by {node._op.name}"
    name = _tex_name(labels[node])
    if _is_scalar(node.data):
        head = f"${name} = {_tex_quantity(node.data, digits)}$"
    else:
        head = (f"${name}$: shape {node.shape} {node.dtype}, "
                f"$\\lVert\\cdot\\rVert = {_tex_number(format_number(_norm(node.data), digits))}$")
    lines = [f"{head} ({_markdown_escape(role)})"]
    if node is root:
        lines.append(f"${_tex_derivative(out, out)} = 1$ (the seed of the backward pass)")
        return lines
    if step.gradient is None or not step.terms:
        lines.append(f"${_tex_derivative(out, labels[node])}$: no gradient reaches this Value")
        return lines
    for term in step.terms:
        through = _markdown_escape(_ops_text(term.ops))
        local = _tex_derivative(labels[term.consumer], labels[node])
        if term.local is not None:
            lines.append(f"${local} = {_tex_quantity(term.local, digits)}$ "
                         f"(local derivative of {through})")
        else:
            lines.append(f"${local}$: vector-Jacobian product of {through}")
    symbols = " + ".join(
        rf"{_tex_derivative(out, labels[t.consumer])} \cdot "
        rf"{_tex_derivative(labels[t.consumer], labels[node])}"
        for t in step.terms
    )
    numbers = " + ".join(
        rf"{_tex_quantity(t.upstream, digits, True)} \times "
        rf"{'J' if t.local is None else _tex_quantity(t.local, digits, True)}"
        for t in step.terms
    )
    gradient = _tex_quantity(step.gradient, digits)
    lines.append(f"$\\displaystyle {_tex_derivative(out, labels[node])} = {symbols} = {numbers} "
                 f"= {gradient}$")
    return lines
