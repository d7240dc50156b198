"""The pictures in docs/ come from `examples.graphs`, and say what they should."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import requires_dot

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# examples/ is a folder of scripts, not an installed package: load the script from its file.
_spec = importlib.util.spec_from_file_location("examples_graphs", ROOT / "examples" / "graphs.py")
graphs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graphs)


def texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


@requires_dot
def test_main_writes_the_pictures_and_the_excerpt(tmp_path):
    written = graphs.main(tmp_path / "out")
    names = [path.name for path in written]
    assert names == ["graph.svg", "graph_grad.svg", "worked_example.svg", "explain_w5.txt"]

    plain = texts(tmp_path / "out" / "graph.svg")
    for label in ("layers.0", "layers.1", "layers.0.W", "layers.1.b", "loss", "tanh",
                  "linear(array(8, 2), •1, •2)", "(2, 4) float64"):
        assert label in plain, label
    assert "r = rms(grad) / rms(data)" not in plain

    coloured = texts(tmp_path / "out" / "graph_grad.svg")
    assert "r = rms(grad) / rms(data)" in coloured
    assert set(plain) < set(coloured)

    worked = texts(tmp_path / "out" / "worked_example.svg")
    for label in ("w5", "net_o1", "out_o1", "E_total", "sigmoid", "grad 0.08217"):
        assert label in worked, label

    excerpt = (tmp_path / "out" / "explain_w5.txt").read_text(encoding="utf-8")
    assert excerpt.rstrip().endswith("= 0.138498562 × 0.593269992 = 0.082167041")


@requires_dot
def test_the_committed_pictures_are_what_the_code_draws(tmp_path):
    """docs/ is regenerated with `python -m examples.graphs`; its labels must match."""
    graphs.main(tmp_path)
    stale = "docs/ is out of date: regenerate it with `python -m examples.graphs`"
    for name in ("graph.svg", "graph_grad.svg", "worked_example.svg"):
        assert sorted(texts(DOCS / name)) == sorted(texts(tmp_path / name)), f"{name}: {stale}"
    committed = (DOCS / "explain_w5.txt").read_text(encoding="utf-8")
    assert committed == (tmp_path / "explain_w5.txt").read_text(encoding="utf-8"), stale


def test_the_committed_pictures_stay_readable():
    for name in ("graph.svg", "graph_grad.svg"):
        svg = ET.parse(DOCS / name).getroot()
        width, height = (float(svg.get(side).removesuffix("pt")) for side in ("width", "height"))
        assert width <= 1000 and height <= 1100, (name, width, height)
        assert (DOCS / name).stat().st_size < 50_000


def test_without_dot_main_writes_the_dot_sources_and_says_how_to_install(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    written = graphs.main(tmp_path / "out")
    assert [path.name for path in written] == [
        "graph.gv", "graph_grad.gv", "worked_example.gv", "explain_w5.txt"
    ]
    assert "apt-get install graphviz" in capsys.readouterr().out
    source = (tmp_path / "out" / "graph_grad.gv").read_text(encoding="utf-8")
    assert "digraph" in source and "layers.0.W" in source and "rms(grad)" in source
