"""MkDocs hook: the pages that are generated rather than written (see mkdocs.yml).

* `index.md` and `tutorial/*.md`: the README's opening, its install section and its first
  hour (one page per section), with links rewritten for the site;
* `worked-example.md`: the worked example of `nn.worked_example` computed now, beside the
  tutorial's published figures, with its graph (docs/worked_example.svg, drawn by
  `python -m examples.graphs`) and `autodiff.explain`'s report;
* `reference/*.md`: one API page per module, rendered by mkdocstrings from the docstrings.

Nothing is written into docs/: the pages exist only in the build.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# README section title → the tutorial page it becomes (in this order).
TUTORIAL = {
    "A first gradient": "tutorial/first-gradient.md",
    "Differentiate your numpy code": "tutorial/numpy-code.md",
    "Tensors and broadcasting": "tutorial/tensors.md",
    "Higher order and functional transforms": "tutorial/higher-order.md",
    "Drawing a graph": "tutorial/drawing.md",
    "Training an MLP": "tutorial/training.md",
    "Backpropagation is a special case of reverse mode": "tutorial/backprop.md",
    "Your own primitive, property-tested": "tutorial/custom-primitives.md",
    "Conventions": "tutorial/conventions.md",
}

REFERENCE = [
    "autodiff", "autodiff.functional", "autodiff.explain", "autodiff.viz",
    "autodiff.walkthrough", "autodiff.display", "autodiff.extend", "autodiff.engine",
    "autodiff.testing", "autodiff.testing.strategies",
    "nn", "nn.module", "nn.layers", "nn.losses", "nn.optim", "nn.data", "nn.backprop",
    "nn.worked_example",
]


def slug(title: str) -> str:
    """GitHub's anchor for a heading: `Your own primitive, property-tested` →
    `your-own-primitive-property-tested`."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def readme_sections(text: str) -> dict[str, str]:
    """The README's `## ` sections by title (each with its `### ` subsections), and its
    opening (before the first `## `) under ""."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    sections = {"": parts[0]}
    for title, body in zip(parts[1::2], parts[2::2], strict=True):
        sections[title.strip()] = body
    return sections


def _relative(target: str, page: str) -> str:
    depth = page.count("/")
    return "../" * depth + target


def rewrite_links(markdown: str, page: str, anchors: dict[str, str]) -> str:
    """README links made right for the site page `page`: `docs/x` → the file x of the site,
    `#section` → the page holding it, other files of the repository → their path as code
    (they are not part of the site), web addresses unchanged."""

    def target_of(target: str) -> str | None:
        if re.match(r"[a-z]+:", target):
            return target
        if target.startswith("#"):
            where = anchors.get(target[1:])
            return None if where is None else _relative(where, page)
        if target.startswith("docs/"):
            return _relative(target[len("docs/"):], page)
        return None

    def link(match: re.Match) -> str:
        bang, text, target = match.group(1), match.group(2), match.group(3)
        if bang:  # an image: its inner text is alt text
            new = target_of(target)
            return f"![{text}]({new})" if new else f"`{target}`"
        inner = LINK.sub(link, text)  # an image inside a link
        new = target_of(target)
        if new is not None:
            return f"[{inner}]({new})"
        return inner if target.startswith("#") else f"{inner} (`{target}`)"

    return LINK.sub(link, markdown)


LINK = re.compile(r"(!?)\[((?:[^\[\]]|!?\[[^\]]*\]\([^)]*\))*)\]\(([^)\s]+)\)")


def tutorial_pages(readme: str) -> dict[str, str]:
    """`index.md` and the tutorial pages from the README's text."""
    sections = readme_sections(readme)
    anchors = {slug(title): page for title, page in TUTORIAL.items()}
    anchors.update({slug(sub): page for title, page in TUTORIAL.items()
                    for sub in re.findall(r"^### (.+)$", sections[title], re.M)})
    anchors["install"] = "index.md"
    pages = {}
    for title, page in TUTORIAL.items():
        body = re.sub(r"^### ", "## ", sections[title], flags=re.M)
        pages[page] = rewrite_links(f"# {title}\n{body}", page, anchors)

    opening = sections[""]
    intro = opening[opening.index("**autodiff** is"):].split("\n\nContents:")[0]
    intro = rewrite_links(intro.strip(), "index.md", anchors)
    install = rewrite_links(sections["Install"].strip(), "index.md", anchors)
    tutorial = "\n".join(f"{n}. [{title}]({page})"
                         for n, (title, page) in enumerate(TUTORIAL.items(), 1))
    pages["index.md"] = f"""# autodiff

{intro}

## Install

{install}

## The first hour

{tutorial}

Then [the worked example](worked-example.md), step by step, and the list of
[every function autodiff differentiates](functions.md). The notebook
[first-hour.ipynb](first-hour.ipynb) shows the same in Jupyter (a Value, a gradient,
`explain`, `draw`, a small MLP). The [API reference](reference/autodiff.md) is generated
from the docstrings.

This site is built from the repository with `make docs` (MkDocs; `mkdocs serve` to browse).
"""
    return pages


def worked_example_page() -> str:
    """The worked example computed now by `nn.worked_example`, beside the published figures."""
    import autodiff
    from nn import worked_example as we

    values, scalar_weights = we.scalar_update()
    steps = we.chain_rule_steps(values)
    nn_error, nn_weights = we.nn_update()

    def mark(value: float, name: str) -> str:
        published = we.PUBLISHED.get(name)
        if published is None:
            return "", ""
        return published, "✓" if we.matches_published(value, published) else "✗ differs"

    forward = ["| Value | computed | published | |", "|---|---|---|---|"]
    for name in ("net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2", "E_o1", "E_o2",
                 "E_total"):
        value = values[name].data
        forward.append(f"| `{name}` | {value:.9f} | {' | '.join(mark(value, name))} |")
    chain = ["| derivative | formula | computed | published | |", "|---|---|---|---|---|"]
    for step in steps:
        chain.append(f"| `{step.name}` | {step.formula} | {step.value:+.9f} | "
                     f"{' | '.join(mark(step.value, step.name))} |")
    update = ["| weight | scalar Values | `nn.Sequential` | published | |",
              "|---|---|---|---|---|"]
    for name in we.WEIGHT_NAMES:
        value = scalar_weights[name]
        update.append(f"| `{name}` | {value:.9f} | {nn_weights[name]:.9f} | "
                      f"{' | '.join(mark(value, name))} |")
    report = autodiff.explain(values["E_total"], wrt="w5")
    docstring = (we.__doc__ or "").strip()
    lines = docstring.splitlines()
    intro = lines[0]
    network = "\n".join(lines[1:]).strip()
    return f"""# The worked example

{intro} This page is generated when the documentation is built: every number below is
computed by `nn.worked_example` (with scalar `Value`s and with `nn`) and compared with the
figure printed in the tutorial.

{network}

## Forward pass

{chr(10).join(forward)}

## Chain rule, output layer then hidden layer

{chr(10).join(chain)}

Reverse accumulation (`E_total.backward()`) gives ∂E_total/∂w5 =
{values["w5"].grad:.9f} and ∂E_total/∂w1 = {values["w1"].grad:.9f}.

## After one step of gradient descent

Learning rate {we.LEARNING_RATE}, biases held fixed. `nn.Sequential` gives E_total =
{nn_error:.9f} before the step.

{chr(10).join(update)}

## The graph

Drawn by `autodiff.draw(E_total, rankdir="LR", color_by="grad")` (`python -m
examples.graphs` writes it):

![The worked example's graph after backward, coloured by gradient](worked_example.svg)

## The backward pass as `explain` writes it

`autodiff.explain(E_total, wrt="w5")`:

```text
{report.rstrip()}
```
"""


# Modules whose classes get methods attached at import (Value's operators and methods come
# from the op table, autodiff/methods.py): documented by importing them, not from source.
INSPECTED = {"autodiff"}


def reference_pages() -> dict[str, str]:
    pages = {}
    for module in REFERENCE:
        options = "    options:\n      force_inspection: true\n" if module in INSPECTED else ""
        pages[f"reference/{module}.md"] = f"# `{module}`\n\n::: {module}\n{options}"
    return pages


def pages() -> dict[str, str]:
    """Every generated page: site path → Markdown."""
    return {**tutorial_pages(README.read_text(encoding="utf-8")),
            "worked-example.md": worked_example_page(), **reference_pages()}


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for path, content in pages().items():
        files.append(File.generated(config, path, content=content))
    return files
