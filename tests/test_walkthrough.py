"""Tests of `walkthrough`: the step-by-step backward-pass page, without a browser (its
steps, its numbers against `explain` and the tutorial, its SVG, its self-containment).
tests/test_walkthrough_browser.py drives the page in headless Chromium."""

from __future__ import annotations

import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import requires_dot

import nn
import nn.worked_example
from autodiff import Value
from autodiff.engine import backprop, reachable_nodes
from autodiff.explain import backward_steps, explain
from autodiff.viz import draw
from autodiff.walkthrough import Walkthrough, walkthrough

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = nn.worked_example.PUBLISHED
SVG = "{http://www.w3.org/2000/svg}"

pytestmark = requires_dot  # every page is laid out by Graphviz's `dot`


def worked_example() -> dict[str, Value]:
    return nn.worked_example.scalar_network()


def small_mlp() -> Value:
    model = nn.MLP(2, [4, 2], activation="tanh", rng=0)
    features, labels = nn.data.make_moons(8, noise=0.1, rng=0)
    loss = nn.cross_entropy(model(features), labels)
    loss.name = "loss"
    return loss


def embedded(page: Walkthrough, element_id: str):
    """The JSON the page carries in <script type="application/json" id=...>."""
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      page.html, re.S)
    assert match is not None, element_id
    return json.loads(match.group(1))


def svg_of(page: Walkthrough) -> ET.Element:
    match = re.search(r"<svg .*?</svg>", page.html, re.S)
    assert match is not None
    return ET.fromstring(match.group(0))


def step(page: Walkthrough, label: str, phase: str = "backward") -> dict:
    return page.steps[page.step_of(label, phase)]


def state_after(page: Walkthrough, index: int) -> dict[str, list[str]]:
    """What each Value's box shows after step `index`, replaying the updates as the page's
    script does: SVG id → [id, text, state, hover text]."""
    shown: dict[str, list[str]] = {}
    for record in page.steps[: index + 1]:
        for update in record["updates"]:
            shown[update[0]] = update
    return shown


def ids_of(page: Walkthrough) -> dict[str, str]:
    """Label → SVG id of the Values the page knows by a label."""
    values = embedded(page, "graph-data")["values"]
    return {value["label"]: vid for vid, value in values.items() if value["label"]}


# --------------------------------------------------------------------------- one source of numbers


@pytest.mark.parametrize("wrt", [None, "w5", "w1", ["w5", "w8"]])
def test_the_pages_steps_are_explains_report_line_for_line(wrt):
    v = worked_example()
    page = walkthrough(v["E_total"], wrt=wrt)
    data = embedded(page, "graph-data")
    steps = embedded(page, "steps")
    assert steps == page.steps
    rebuilt = data["title"] + "\n\n" + "\n\n".join("\n".join(s["lines"]) for s in steps) + "\n"
    assert rebuilt == str(explain(v["E_total"], wrt=wrt))


def test_tensor_pages_and_forward_phases_carry_explains_lines_too():
    loss = small_mlp()
    page = walkthrough(loss, forward=True, digits=5)
    backward = [s for s in page.steps if s["phase"] == "backward"]
    data = embedded(page, "graph-data")
    rebuilt = data["title"] + "\n\n" + "\n\n".join("\n".join(s["lines"]) for s in backward)
    assert rebuilt + "\n" == str(explain(loss, digits=5))
    assert [s["phase"] for s in page.steps] == ["forward"] * 4 + ["backward"] * 8


def test_explain_and_the_page_share_one_bookkeeping():
    v = worked_example()
    trace = backward_steps(v["E_total"], wrt="w5")
    assert trace.text() == str(explain(v["E_total"], wrt="w5"))
    assert [s.label for s in trace.steps] == ["E_total", "E_o1", "out_o1", "net_o1", "w5"]
    (term,) = trace.steps[-1].terms
    assert term.consumer is v["net_o1"]
    assert term.ops == ("multiply", "add", "add")
    assert term.upstream * term.local == pytest.approx(0.082167041, abs=5e-10)
    assert term.value == pytest.approx(0.082167041, abs=5e-10)
    assert [n.op for n in term.path] == ["multiply", "add", "add"]
    assert term.path[-1] is v["net_o1"]
    # what net_o1 passes back: w5, out_h1, w6, out_h2 and the unnamed Values in between
    pushed = dict(trace.steps[3].pushed)
    assert {v["w5"], v["out_h1"], v["w6"], v["out_h2"]} <= set(pushed)
    assert pushed[v["w5"]] == pytest.approx(0.082167041, abs=5e-10)


# --------------------------------------------------------------------------- the tutorial


def test_w5_completes_with_the_tutorials_number():
    v = worked_example()
    page = walkthrough(v["E_total"])
    ids = ids_of(page)
    w5 = step(page, "w5")
    assert w5["node"] == ids["w5"]
    assert w5["result"] == "∂E_total/∂w5 = 0.082167041"
    assert w5["lines"][-1] == ("  ∂E_total/∂w5 = ∂E_total/∂net_o1 × ∂net_o1/∂w5"
                               " = 0.138498562 × 0.593269992 = 0.082167041")
    assert w5["sources"] == [ids["net_o1"]]
    assert w5["terms"] == [{"from": "net_o1", "upstream": "0.138498562", "local": "0.593269992",
                            "ops": "multiply → add → add", "share": "0.082167041"}]
    # the highlighted edges: w5 → multiply → · → add → · → add → net_o1
    assert len(w5["edges"]) == 6 and len(w5["ops"]) == 3
    assert state_after(page, page.step_of("w5"))[ids["w5"]][1:3] == ["grad 0.08217", "done"]


def test_every_intermediate_number_of_the_tutorial_is_shown_at_its_step():
    v = worked_example()
    page = walkthrough(v["E_total"], forward=True)

    def shows(record: dict, printed: str) -> bool:
        text = "\n".join(record["lines"]) + "\n" + json.dumps(record["terms"], ensure_ascii=False)
        numbers = [float(n) for n in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]
        return any(nn.worked_example.matches_published(n, printed) for n in numbers)

    for name in ("net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2", "E_o1", "E_o2",
                 "E_total"):
        value = float(step(page, name, "forward")["lines"][-1].split("= ")[1])
        assert nn.worked_example.matches_published(value, PUBLISHED[name]), name
    at = {  # the tutorial's chain-rule figures and the backward step that shows each
        "dE_total/dout_o1": "out_o1", "dout_o1/dnet_o1": "net_o1", "dE_total/dw5": "w5",
        "dE_o1/dout_h1": "out_h1", "dE_total/dout_h1": "out_h1", "dout_h1/dnet_h1": "net_h1",
        "dE_total/dw1": "w1",
    }
    for figure, label in at.items():
        assert shows(step(page, label), PUBLISHED[figure]), figure
    assert step(page, "out_h1")["terms"][0]["share"] == "0.055399425"  # ∂E_o1/∂out_h1
    assert step(page, "w1")["result"] == "∂E_total/∂w1 = 0.000438567734"


def test_the_forward_phase_writes_each_formula_with_its_numbers():
    v = worked_example()
    page = walkthrough(v["E_total"], forward=True)
    forward = [s for s in page.steps if s["phase"] == "forward"]
    assert [s["label"] for s in forward] == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1",
                                             "out_o1", "net_o2", "out_o2", "E_o1", "E_o2",
                                             "E_total"]
    assert step(page, "net_h1", "forward")["lines"] == [
        "net_h1 = w1 × i1 + w2 × i2 + b1",
        "       = 0.15 × 0.05 + 0.2 × 0.1 + 0.35",
        "       = 0.3775",
    ]
    assert step(page, "E_o1", "forward")["lines"] == [
        "E_o1 = 0.5 × (target_o1 − out_o1)²",
        "     = 0.5 × (0.01 − 0.75136507)²",
        "     = 0.274811083",
    ]
    ids = ids_of(page)
    out_h1 = step(page, "out_h1", "forward")
    assert out_h1["computed"] == [ids["out_h1"]] and out_h1["sources"] == [ids["net_h1"]]
    net_h1 = step(page, "net_h1", "forward")
    assert ids["net_h1"] in net_h1["computed"] and len(net_h1["computed"]) == 4  # ×, ×, +, +
    assert all(not s["updates"] for s in forward)  # no gradient before the backward pass


def test_gradients_accumulate_where_paths_meet():
    """out_h1 feeds net_o1 and net_o2: its box shows one contribution, then the sum."""
    v = worked_example()
    page = walkthrough(v["E_total"])
    out_h1 = ids_of(page)["out_h1"]
    order = [s["label"] for s in page.steps]
    assert order.index("net_o2") < order.index("net_o1") < order.index("out_h1")
    assert out_h1 not in state_after(page, order.index("out_o2"))  # not reached yet
    text, state, hover = state_after(page, order.index("net_o2"))[out_h1][1:]
    assert state == "partial" and text == "grad so far -0.01905"
    assert "1 of 2 contributions" in hover
    text, state, _ = state_after(page, order.index("net_o1"))[out_h1][1:]
    assert state == "done" and text == "grad 0.03635"  # 0.055399425 − 0.019049118


# --------------------------------------------------------------------------- wrt, tensors, SVG


def test_wrt_restricts_the_walk_and_fades_the_rest():
    v = worked_example()
    page = walkthrough(v["E_total"], wrt="w5")
    assert [s["label"] for s in page.steps] == ["E_total", "E_o1", "out_o1", "net_o1", "w5"]
    data = embedded(page, "graph-data")
    ids = ids_of(page)
    assert data["wrt"] == "w5"
    assert data["values"][ids["w1"]]["off"] and data["values"][ids["out_h1"]]["off"]
    assert not data["values"][ids["w5"]]["off"] and not data["values"][ids["net_o1"]]["off"]
    assert data["faded"]  # the operations and edges off the path
    touched = {u[0] for s in page.steps for u in s["updates"]}
    assert ids["w5"] in touched and ids["out_h1"] not in touched  # off the path: no gradient
    assert "only the paths down to w5" in page.html


def test_tensor_values_show_shape_norm_min_max_and_their_data_on_hover():
    loss = small_mlp()
    page = walkthrough(loss)
    data = embedded(page, "graph-data")
    ids = ids_of(page)
    weight = data["values"][ids["layers.0.W"]]
    assert re.fullmatch(r"data ‖·‖ \S+, min \S+, max \S+", weight["data"])
    assert weight["hover"].startswith("layers.0.W: (2, 4) float64, leaf\ndata = ‖·‖ ")
    assert "[[" in weight["hover"]  # the elements
    final = state_after(page, len(page) - 1)[ids["layers.0.W"]]
    assert re.fullmatch(r"grad ‖·‖ \S+, min \S+, max \S+", final[1]) and final[2] == "done"
    assert "[[" in final[3]
    svg = svg_of(page)
    titles = {g.get("id"): g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g")
              if g.get("class") == "node"}
    assert titles[ids["layers.0.W"]] == weight["hover"]  # the SVG <title>: shown on hover
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "(2, 4) float64" in texts and "tanh" in texts


def test_every_id_a_step_names_is_in_the_svg():
    for root, forward in ((worked_example()["E_total"], True), (small_mlp(), True)):
        page = walkthrough(root, forward=forward)
        ids = {g.get("id") for g in svg_of(page).iter(f"{SVG}g")}
        for record in page.steps:
            named = ([record["node"]] + record["edges"] + record["ops"] + record["sources"]
                     + record["computed"] + [u[0] for u in record["updates"]])
            assert set(named) <= ids, record["label"]


def test_the_size_guard_of_draw_applies():
    v = worked_example()
    count = len(reachable_nodes(v["E_total"], include_constants=True))  # as draw counts
    with pytest.raises(ValueError, match=rf"has {count} Values.*Pass max_nodes={count}"):
        walkthrough(v["E_total"], max_nodes=20)
    assert len(walkthrough(v["E_total"], max_nodes=count)) == 19


# --------------------------------------------------------------------------- the page itself


def test_the_page_is_self_contained():
    page = walkthrough(worked_example()["E_total"], forward=True)
    text = page.html
    urls = set(re.findall(r"https?://[^\s\"'<>)]*", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    for outside in ("<link", "@import", "url(", " src=", "href=", "<!DOCTYPE svg", "<?xml"):
        assert outside not in text, outside
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    for control in ('id="first"', 'id="prev"', 'id="next"', 'id="last"', 'id="slider"',
                    "step 1 of 30", "Legend"):
        assert control in text, control


def test_save_and_notebook_display(tmp_path):
    page = walkthrough(worked_example()["E_total"])
    path = page.save(tmp_path / "backprop.html")
    assert path == tmp_path / "backprop.html"
    assert path.read_text(encoding="utf-8") == page.html
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=\"") and 'sandbox="allow-scripts"' in frame
    srcdoc = re.search(r'srcdoc="(.*?)"', frame, re.S).group(1)
    assert '"' not in srcdoc and html.unescape(srcdoc) == page.html
    assert "19 steps (0 forward, 19 backward)" in repr(page)


def test_gradients_are_computed_for_the_page_and_grad_is_left_alone():
    v = worked_example()
    page = walkthrough(v["E_total"])
    assert all(value.grad is None for value in v.values())
    v["E_total"].backward()
    v["E_total"].backward()  # leaves hold twice the gradient now
    assert walkthrough(v["E_total"]).steps == page.steps
    assert v["w5"].grad == pytest.approx(2 * 0.082167041, abs=1e-9)


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match=r"walkthrough\(root\).*autodiff Value"):
        walkthrough(1.0)
    with pytest.raises(ValueError, match=r"walkthrough: the output must have one element"):
        walkthrough(Value(np.ones(3)) * 2.0)
    with pytest.raises(ValueError, match="walkthrough: the output does not require grad"):
        walkthrough(Value(1.0, requires_grad=False) * 2.0)
    root = worked_example()["E_total"]
    with pytest.raises(ValueError, match=r"walkthrough: no Value named 'w9'"):
        walkthrough(root, wrt="w9")
    for bad in ({"max_nodes": 0}, {"digits": 0}, {"rankdir": "XY"}):
        with pytest.raises(ValueError, match="walkthrough"):
            walkthrough(root, **bad)
    with pytest.raises(TypeError, match="forward"):
        walkthrough(root, forward="yes")
    with pytest.raises(KeyError, match="w9"):
        walkthrough(root).step_of("w9")


def test_draw_can_show_gradients_it_is_given():
    v = worked_example()
    gradients = backprop(v["E_total"])
    source = draw(v["E_total"], grads=gradients).source
    assert "grad 0.08217" in source  # w5, without backward()
    assert v["w5"].grad is None
    assert "grad 0.08217" not in draw(v["E_total"]).source


def test_the_showcase_writes_the_page(tmp_path, capsys):
    sys.path.insert(0, str(ROOT))
    from examples import showcase

    path = showcase.walkthrough_section(tmp_path)
    printed = capsys.readouterr().out
    assert path == tmp_path / "backprop.html"
    text = path.read_text(encoding="utf-8")
    assert "∂E_total/∂w5 = 0.082167041" in text
    assert "backprop.html" in printed and "0.082167041" in printed
