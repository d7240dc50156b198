"""The showcase (`python -m examples.showcase`) runs end to end and keeps its promises."""

import subprocess
import sys
from pathlib import Path

import numpy as np

import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `examples` is run from the checkout, not installed

from examples import showcase  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_showcase_end_to_end(tmp_path, capsys):
    results = showcase.main(["--output", str(tmp_path / "pictures")])
    printed = capsys.readouterr().out

    assert abs(results["E_total"] - 0.298371109) <= 5e-10
    assert "All 24 published figures reproduced to their printed precision: yes" in printed
    assert "dE_total/dw5" in printed and "published 0.082167041" in printed
    assert results["backprop_relative_difference"] <= 1e-10
    assert "The delta rule and reverse accumulation agree to" in printed
    assert results["moons_accuracy"] >= 0.95
    assert results["digits_accuracy"] >= 0.97
    assert results["digits_reloaded_accuracy"] == results["digits_accuracy"]
    assert "(the same)" in printed

    folder = tmp_path / "pictures"
    for name in ("moons_boundary.png", "loss_curves.png"):
        assert (folder / name).read_bytes()[:8] == PNG
        assert (folder / name).stat().st_size > 10_000
    state = nn.load_state(folder / "digits_mlp.npz")
    assert list(state) == ["layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    assert state["layers.0.W"].shape == (64, 128)
    assert str(folder) in printed


def test_prediction_helpers():
    model = nn.MLP(2, [1], rng=0)
    model.layers[0].W.data = np.array([[1.0], [0.0]])
    X = np.array([[-1.0, 5.0], [2.0, -3.0]])
    np.testing.assert_array_equal(showcase.predict(model, X), [0, 1])
    assert showcase.accuracy(model, X, np.array([0, 0])) == 0.5
    two = nn.MLP(2, [2], rng=0)
    two.layers[0].W.data = np.array([[1.0, -1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(showcase.predict(two, X), [1, 0])


def test_default_output_folder_and_module_entry_point():
    assert showcase.parse_arguments([]).output == Path("output")
    result = subprocess.run(
        [sys.executable, "-m", "examples.showcase", "--help"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert text.startswith("usage: python -m examples.showcase [-h] [--output OUTPUT]")
    assert "(default: output/)" in text
