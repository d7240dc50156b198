"""Draw the pictures in docs/: a small network's graph after backward, plain and coloured by
gradient, the tutorial's worked example, and an `explain` excerpt.

    python -m examples.graphs [output_dir]      # default: docs/

`main(output_dir)` is what the showcase calls; it returns the paths it wrote. Rendering
needs the Graphviz `dot` program (Debian: `apt-get install graphviz`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nn
import nn.worked_example
from autodiff import Value
from autodiff.viz import draw, explain

DOCS = Path(__file__).resolve().parent.parent / "docs"


def small_network_loss() -> Value:
    """A 2-4-2 tanh MLP's cross-entropy on 8 points of the two moons, after backward."""
    model = nn.MLP(2, [4, 2], activation="tanh", rng=0)
    features, labels = nn.data.make_moons(8, noise=0.1, rng=0)
    loss = nn.cross_entropy(model(features), labels)
    loss.name = "loss"
    loss.backward()
    return loss


def worked_example_error() -> Value:
    """E_total of the step-by-step backpropagation tutorial's network, after backward."""
    values = nn.worked_example.scalar_network()
    values["E_total"].backward()
    return values["E_total"]


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def main(output_dir: str | Path = DOCS) -> list[Path]:
    """Write graph.svg, graph_grad.svg, worked_example.svg and explain_w5.txt into
    `output_dir` (created if missing); return their paths.

    Without Graphviz's `dot` program the pictures are written as their DOT sources
    (graph.gv, ...), which any Graphviz viewer renders, and a note says how to install it.
    """
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    loss = small_network_loss()
    error = worked_example_error()
    pictures = {
        "graph": draw(loss, rankdir="TB"),
        "graph_grad": draw(loss, rankdir="TB", color_by="grad"),
        "worked_example": draw(error, rankdir="LR", color_by="grad"),
    }
    can_render = shutil.which("dot") is not None
    if not can_render:
        print("Graphviz's `dot` program is not installed (Debian/Ubuntu: apt-get install "
              "graphviz; macOS: brew install graphviz): writing DOT sources instead of SVG.")
    written = [
        _write(output / f"{stem}.svg", picture.pipe(format="svg")) if can_render
        else _write(output / f"{stem}.gv", picture.source)
        for stem, picture in pictures.items()
    ]
    return [*written, _write(output / "explain_w5.txt", str(explain(error, wrt="w5")))]


if __name__ == "__main__":
    for written in main(sys.argv[1] if len(sys.argv) > 1 else DOCS):
        print(written)
