"""Tests of `draw`: the Digraph it builds, the SVG Graphviz renders from it, and its errors."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest
from conftest import requires_dot

import autodiff
from autodiff import Value, viz
from autodiff.viz import GRAD_BANDS, draw, grad_to_data_ratio

SVG = "{http://www.w3.org/2000/svg}"


def small_network() -> Value:
    """The tutorial's first output neuron and its error, with names."""
    out_h1 = Value(0.593269992, name="out_h1")
    out_h2 = Value(0.596884378, name="out_h2")
    w5, w6, b2 = Value(0.40, name="w5"), Value(0.45, name="w6"), Value(0.60, name="b2")
    net_o1 = w5 * out_h1 + w6 * out_h2 + b2
    net_o1.name = "net_o1"
    out_o1 = net_o1.sigmoid()
    out_o1.name = "out_o1"
    error = 0.5 * (0.01 - out_o1) ** 2
    error.name = "E_o1"
    return error


def two_layer_mlp(seed: int = 0) -> Value:
    """A 2-4-1 tanh network on a batch of 8, parameters named as `nn` names them."""
    rng = np.random.default_rng(seed)
    x = Value(rng.normal(size=(8, 2)), requires_grad=False, name="x")
    w0 = Value(rng.normal(size=(2, 4)), name="layers.0.W")
    b0 = Value(np.zeros(4), name="layers.0.b")
    w1 = Value(rng.normal(size=(4, 1)), name="layers.1.W")
    b1 = Value(np.zeros(1), name="layers.1.b")
    prediction = (x @ w0 + b0).tanh() @ w1 + b1
    loss = ((prediction - rng.normal(size=(8, 1))) ** 2).mean()
    loss.name = "loss"
    return loss


def render_svg(dot: graphviz.Digraph, tmp_path, name: str = "graph") -> ET.Element:
    """Render with the real `dot` program and parse the SVG (it must be well-formed XML)."""
    path = dot.render(tmp_path / name, format="svg", cleanup=True)
    return ET.parse(path).getroot()


def svg_texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in svg.iter(f"{SVG}text")]


def node_id(value: Value, graph: list[Value]) -> str:
    """The Graphviz id of `value`: its position in `graph`, listed in creation order."""
    return f"v{graph.index(value)}"


# --------------------------------------------------------------------------- structure


def test_draw_returns_a_digraph_with_a_record_per_value_and_a_node_per_operation():
    error = small_network()
    dot = draw(error)
    assert isinstance(dot, graphviz.Digraph)
    source = dot.source
    for name in ("w5", "w6", "b2", "out_h1", "out_h2", "net_o1", "out_o1", "E_o1"):
        assert f"<B>{name}</B>" in source
    # 5 leaves + 2 multiply + 2 add + sigmoid + subtract + power + multiply = 13 Values
    value_nodes = re.findall(r"^\s*v\d+ \[label=<", source, flags=re.M)
    op_nodes = re.findall(r"^\s*op\d+ \[label=", source, flags=re.M)
    assert len(value_nodes) == 13
    assert len(op_nodes) == 8
    for op in ("multiply", "add", "sigmoid"):
        assert re.search(rf"op\d+ \[label={op} ", source), op


def test_edges_run_in_data_flow_order_and_are_numbered_by_argument():
    a, b = Value(3.0, name="a"), Value(5.0, name="b")
    c = a - b
    source = draw(c).source
    graph = [a, b, c]
    op = "op2"
    assert f"{node_id(a, graph)} -> {op} [label=1]" in source
    assert f"{node_id(b, graph)} -> {op} [label=2]" in source
    assert f"{op} -> {node_id(c, graph)}" in source
    assert f"{node_id(c, graph)} -> {op}" not in source
    assert re.search(r"op2 \[label=subtract ", source)  # marks only beside constants


def test_a_value_used_twice_by_one_operation_gets_two_numbered_edges():
    x = Value(3.0, name="x")
    square = x * x
    source = draw(square).source
    assert "v0 -> op1 [label=1]" in source
    assert "v0 -> op1 [label=2]" in source


def test_the_same_computation_always_gives_the_same_source():
    first, second = draw(small_network()).source, draw(small_network()).source
    assert first == second


def test_constants_are_written_inside_the_operation_in_argument_order():
    x = Value(0.75, name="out")
    error = 0.5 * (0.01 - x) ** 2
    source = draw(error).source
    assert "subtract(0.01, •)" in source
    assert "power(•, 2)" in source
    assert "multiply(0.5, •)" in source
    total = Value(np.ones((2, 3)), name="m").sum(axis=1)
    assert "sum(•, axis=1)" in draw(total).source


def test_single_operand_ops_with_no_constants_are_just_named():
    x = Value(0.3, name="x")
    y = x.tanh()
    assert re.search(r"op1 \[label=tanh ", draw(y).source)


def test_scalars_show_numbers_and_arrays_show_shape_and_min_mean_max():
    x = Value(np.array([[1.0, 2.0, 6.0]], dtype=np.float32), name="x")
    y = (x * 2.0).sum()
    y.backward()
    source = draw(y).source
    assert "(1, 3) float32" in source
    assert "data min 1, mean 3, max 6" in source
    assert "grad min 2, mean 2, max 2" in source
    assert "scalar float32" in source  # the sum of a float32 array stays float32
    assert "data 18" in source


def test_a_mean_that_is_rounding_residue_shows_as_zero():
    x = Value(np.array([1.0, -1.0 + 1e-17, 3e-17]), name="x")
    assert "data min -1, mean 0, max 1" in draw(x * 1.0).source


def test_show_data_and_show_grad_switch_rows_off():
    error = small_network()
    error.backward()
    full = draw(error).source
    assert "data 0.4" in full and "grad " in full
    no_data = draw(error, show_data=False).source
    assert "data " not in no_data and "grad " in no_data
    no_grad = draw(error, show_grad=False).source
    assert "grad " not in no_grad and "data 0.4" in no_grad


def test_gradients_not_yet_computed_show_a_dash():
    x = Value(2.0, name="x")
    y = x * 3.0
    assert "grad —" in draw(y).source
    y.backward()
    source = draw(y).source
    assert "grad —" not in source and "grad 3" in source


def test_constant_values_have_a_dashed_border_and_no_grad_row():
    x = Value(np.arange(4.0), requires_grad=False, name="inputs")
    w = Value(np.ones(4), name="w")
    y = (x * w).sum()
    y.backward()
    source = draw(y).source
    line = next(line for line in source.splitlines() if "<B>inputs</B>" in line)
    assert "dashed" in line
    assert "constant: no grad" in line and "grad " not in line
    w_line = next(line for line in source.splitlines() if "<B>w</B>" in line)
    assert "solid" in w_line and "grad min 0, mean 1.5, max 3" in w_line


def test_dotted_names_are_grouped_into_one_labelled_cluster_per_layer():
    loss = two_layer_mlp()
    source = draw(loss).source
    for prefix in ("layers.0", "layers.1"):
        block = re.search(rf'subgraph "cluster_{re.escape(prefix)}" {{(.*?)}}', source, re.S)
        assert block, prefix
        body = block.group(1)
        assert f"label={prefix}" in body or f'label="{prefix}"' in body
        assert f"<B>{prefix}.W</B>" in body and f"<B>{prefix}.b</B>" in body
    assert "<B>loss</B>" not in "".join(re.findall(r"subgraph .*?}", source, re.S))


def test_rankdir_reaches_the_graph_and_is_validated():
    x = Value(1.0)
    y = x.exp()
    assert "rankdir=TB" in draw(y, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        draw(y, rankdir="sideways")


def test_bad_arguments_are_refused_with_clear_messages():
    y = Value(1.0).exp()
    with pytest.raises(TypeError, match="autodiff Value"):
        draw(np.ones(3))
    with pytest.raises(ValueError, match="color_by"):
        draw(y, color_by="data")
    with pytest.raises(ValueError, match="max_nodes"):
        draw(y, max_nodes=0)


# --------------------------------------------------------------------------- size limits


def chain(length: int) -> Value:
    y = Value(0.5, name="start")
    for _ in range(length):
        y = y * 1.0001
    return y


def test_more_values_than_max_nodes_is_refused_with_how_to_raise_the_limit():
    y = chain(600)  # 601 Values
    with pytest.raises(ValueError) as raised:
        draw(y)
    message = str(raised.value)
    assert "601 Values" in message and "max_nodes=500" in message
    assert "max_nodes=601" in message
    dot = draw(y, max_nodes=601)
    assert len(re.findall(r"^\s*v\d+ \[label=<", dot.source, flags=re.M)) == 601


def test_a_graph_deeper_than_the_recursion_limit_is_walked_without_recursion():
    depth = sys.getrecursionlimit() + 500
    y = chain(depth)
    with pytest.raises(ValueError, match=f"{depth + 1} Values"):
        draw(y)
    dot = draw(y, max_nodes=depth + 1, show_grad=False)
    assert len(re.findall(r"^\s*op\d+ \[label=", dot.source, flags=re.M)) == depth


# --------------------------------------------------------------------------- colours


def test_grad_to_data_ratio_is_rms_grad_over_rms_data():
    x = Value(np.array([3.0, 4.0]))
    assert grad_to_data_ratio(x) is None
    x.grad = np.array([0.3, 0.4])
    assert grad_to_data_ratio(x) == pytest.approx(0.1)
    zero = Value(np.zeros(2))
    zero.grad = np.array([2.0, 2.0])
    assert grad_to_data_ratio(zero) == pytest.approx(2.0)  # rms(data) taken as 1


@pytest.mark.parametrize(
    ("scale", "band"),
    [(1e-6, 0), (1e-3, 1), (0.5, 2), (10.0, 3), (1e4, 4)],
)
def test_color_by_grad_puts_each_value_in_its_band(scale, band):
    x = Value(1.0, name="x")
    y = x * scale
    y.backward()  # x.grad = scale, so r = scale for x
    source = draw(y, color_by="grad").source
    x_line = next(line for line in source.splitlines() if "<B>x</B>" in line)
    assert f'BGCOLOR="{GRAD_BANDS[band][2]}"' in x_line
    assert sum(f'BGCOLOR="{b[2]}"' in x_line for b in GRAD_BANDS) == 1


def test_color_by_grad_marks_non_finite_gradients_and_unreached_values():
    x = Value(1.0, name="x")
    y = x * 2.0
    x.grad = float("nan")
    source = draw(y, color_by="grad").source
    x_line = next(line for line in source.splitlines() if "<B>x</B>" in line)
    assert 'BGCOLOR="#000000"' in x_line
    z = Value(2.0, name="z")
    z.grad = 1.0
    w = z * 2.0
    w.name = "w"  # w never got a gradient
    w_line = next(line for line in draw(w, color_by="grad").source.splitlines()
                  if "<B>w</B>" in line)
    assert 'BGCOLOR="#eeeeee"' in w_line


def test_color_by_grad_has_a_legend_and_needs_a_backward_pass():
    error = small_network()
    with pytest.raises(ValueError, match=r"backward\(\)"):
        draw(error, color_by="grad")
    error.backward()
    source = draw(error, color_by="grad").source
    assert "cluster_legend" in source
    for _, label, fill, _font in GRAD_BANDS:
        assert fill in source
        assert label.replace("<", "&lt;") in source
    assert "cluster_legend" not in draw(error).source


# --------------------------------------------------------------------------- rendering


@requires_dot
def test_rendered_svg_holds_names_ops_and_numbers(tmp_path):
    error = small_network()
    error.backward()
    svg = render_svg(draw(error), tmp_path)
    assert svg.tag == f"{SVG}svg"
    texts = svg_texts(svg)
    for name in ("w5", "w6", "b2", "net_o1", "out_o1", "E_o1"):
        assert name in texts, name
    for op in ("multiply", "add", "sigmoid", "subtract(0.01, •)", "power(•, 2)"):
        assert op in texts, op
    assert "data 0.4" in texts  # w5
    assert "grad 0.08217" in texts  # ∂E_o1/∂w5, the tutorial's 0.082167041
    assert "grad 0.7414" in texts  # ∂E_o1/∂out_o1 = 0.74136507


@requires_dot
def test_rendered_svg_of_a_network_has_clusters_and_array_summaries(tmp_path):
    loss = two_layer_mlp()
    loss.backward()
    svg = render_svg(draw(loss, color_by="grad"), tmp_path)
    clusters = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]
    titles = {"".join(g.find(f"{SVG}title").itertext()) for g in clusters}
    assert {"cluster_layers.0", "cluster_layers.1", "cluster_legend"} <= titles
    texts = svg_texts(svg)
    assert "layers.0" in texts and "layers.0.W" in texts and "(2, 4) float64" in texts
    assert any(re.fullmatch(r"data min \S+, mean \S+, max \S+", t) for t in texts)
    assert "r = rms(grad) / rms(data)" in texts
    fills = {p.get("fill") for p in svg.iter() if p.get("fill")}
    assert GRAD_BANDS[2][2] in fills  # the moderate band's colour is really drawn


@requires_dot
def test_awkward_names_and_op_names_render_as_written(tmp_path):
    double = autodiff.primitive(lambda x: 2 * x)  # a primitive named "<lambda>"
    double.defvjp(lambda g, out, x: 2 * g)
    x = Value(1.0, name='a<b>&"c\\n')
    y = double(x)
    y.name = 'layer."one\\.out'
    texts = svg_texts(render_svg(draw(y), tmp_path))
    assert 'a<b>&"c\\n' in texts
    assert "<lambda>" in texts
    assert 'layer."one\\.out' in texts and 'layer."one\\' in texts  # record and cluster


@requires_dot
def test_render_png_and_pdf_write_real_files(tmp_path):
    dot = draw(small_network())
    png = dot.render(tmp_path / "g", format="png", cleanup=True)
    with open(png, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = dot.render(tmp_path / "g", format="pdf", cleanup=True)
    with open(pdf, "rb") as file:
        assert file.read(5) == b"%PDF-"


@requires_dot
def test_render_to_a_path_with_the_formats_suffix_writes_just_that_file(tmp_path):
    dot = draw(small_network())
    written = dot.render(tmp_path / "graph.svg")
    assert written == str(tmp_path / "graph.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]
    assert "E_o1" in svg_texts(ET.parse(written).getroot())
    dot.render(tmp_path / "stem", format="png")  # Graphviz's own convention still holds
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg", "stem", "stem.png"]


@requires_dot
def test_notebook_display_is_an_svg_image():
    bundle = draw(small_network())._repr_mimebundle_()
    ET.fromstring(bundle["image/svg+xml"])


# --------------------------------------------------------------------------- missing pieces


def test_without_dot_the_source_works_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    dot = draw(small_network())
    assert dot.source.startswith("// computation graph of E_o1")
    with pytest.raises(viz.GraphvizNotFoundError) as raised:
        dot.render(tmp_path / "g", format="svg")
    message = str(raised.value)
    assert "Install Graphviz" in message and "apt-get install graphviz" in message
    assert isinstance(raised.value, graphviz.ExecutableNotFound)
    with pytest.raises(viz.GraphvizNotFoundError, match="Install Graphviz"):
        dot.render(tmp_path / "g.svg")
    with pytest.raises(viz.GraphvizNotFoundError, match="Install Graphviz"):
        dot.pipe(format="svg")
    with pytest.raises(viz.GraphvizNotFoundError, match="Install Graphviz"):
        dot._repr_mimebundle_()


def test_without_the_graphviz_package_draw_names_the_extra(monkeypatch):
    monkeypatch.setattr(viz, "_classes", {})
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    with pytest.raises(ImportError, match=r"pip install 'autodiff-numpy\[viz\]'"):
        draw(Value(1.0).exp())


def test_importing_autodiff_does_not_import_graphviz():
    code = ("import sys, autodiff, autodiff.viz; "
            "assert 'graphviz' not in sys.modules, 'graphviz imported'; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"

