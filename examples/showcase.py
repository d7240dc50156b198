"""The showcase: backpropagation by hand and by the engine, then two trained MLPs.

Run from the repository root:

    python -m examples.showcase [--output DIR]

1. The worked example of "A Step by Step Backpropagation Example": its chain-rule steps,
   and the published figures beside those computed with scalar Values and with `nn`.
2. Classical delta-rule backpropagation (`nn.backprop`) beside reverse-mode autodiff on
   MLPs of every activation and loss: the same gradients.
3. An MLP trained on the two moons; its decision boundary is drawn to DIR/moons_boundary.png.
4. An MLP trained on the 8×8 digits, evaluated on held-out images, saved, reloaded and
   evaluated again. Both loss curves go to DIR/loss_curves.png.
5. Graphs drawn after backward (DIR/graph.svg, DIR/graph_grad.svg coloured by gradient,
   DIR/worked_example.svg) and the chain-rule report of `autodiff.explain` for w5.
6. The worked example's forward and backward pass as a step-by-step page
   (`autodiff.walkthrough`), DIR/backprop.html: open it in a browser.

DIR defaults to `output/`. Each section is a function called from `main()`.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import autodiff
import nn
from autodiff.extend import missing_extra

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tqdm import tqdm
except ImportError as error:
    raise ModuleNotFoundError(missing_extra(error.name or "matplotlib", "the showcase"),
                              name=error.name) from error
from autodiff.walkthrough import walkthrough
from examples import graphs
from nn import worked_example

SEED = 0


def heading(title: str) -> None:
    print(f"\n{title}\n{'─' * len(title)}")


# --------------------------------------------------------------------------- 1. worked example


def worked_example_section() -> dict[str, float]:
    """Reproduce the tutorial's numbers with scalar Values and with nn; print them side by side.

    Returns every computed figure by the tutorial's name.
    """
    heading("1. Backpropagation, step by step (the tutorial's worked example)")
    values, scalar_weights = worked_example.scalar_update()
    steps = worked_example.chain_rule_steps(values)
    nn_error, nn_weights = worked_example.nn_update()

    computed = {name: values[name].data for name in (
        "net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2", "E_o1", "E_o2", "E_total")}
    computed.update({step.name: step.value for step in steps})
    computed.update(scalar_weights)

    print("Forward pass (sigmoid everywhere, E = Σ ½(target − out)²):")
    for name in ("net_h1", "out_h1", "out_h2", "net_o1", "out_o1", "out_o2",
                 "E_o1", "E_o2", "E_total"):
        print(_comparison(name, computed[name]))

    print("\nChain rule, output layer then hidden layer:")
    for step in steps:
        line = f"  {step.name:<18} = {step.formula:<48} = {step.value:+.9f}"
        if step.name in worked_example.PUBLISHED:
            line += f"   (published {worked_example.PUBLISHED[step.name]})"
        print(line)
    print(f"  reverse accumulation gives dE_total/dw5 = {values['w5'].grad:+.9f}, "
          f"dE_total/dw1 = {values['w1'].grad:+.9f}")

    print(f"\nAfter one step of gradient descent (lr = {worked_example.LEARNING_RATE}, "
          "biases fixed):")
    for name in worked_example.WEIGHT_NAMES:
        print(_comparison(name, scalar_weights[name], also=("nn", nn_weights[name])))
    print(f"  nn.Sequential gives E_total = {nn_error:.9f} before the step")

    every = [name for name in worked_example.PUBLISHED if name in computed]
    agree = all(worked_example.matches_published(computed[n], worked_example.PUBLISHED[n])
                for n in every)
    agree = agree and all(worked_example.matches_published(nn_weights[n],
                                                           worked_example.PUBLISHED[n])
                          for n in worked_example.WEIGHT_NAMES)
    print(f"\nAll {len(every)} published figures reproduced to their printed precision: "
          f"{'yes' if agree else 'NO'}")
    return computed


def _comparison(name: str, value: float, also: tuple[str, float] | None = None) -> str:
    published = worked_example.PUBLISHED.get(name, "")
    mark = ""
    if published:
        mark = "✓" if worked_example.matches_published(value, published) else "✗"
    line = f"  {name:<8} computed {value:.9f}   published {published:<12} {mark}"
    if also is not None:
        line += f"   ({also[0]}: {also[1]:.9f})"
    return line


# --------------------------------------------------------------------------- 2. the same, as arrays


def backprop_section() -> float:
    """Delta-rule backpropagation (nn.backprop, plain numpy) against reverse-mode autodiff.

    For an MLP of each activation and each loss, on a batch of digits, prints the largest
    relative difference between the two sets of gradients; returns the largest of all.
    """
    heading("2. Classical backpropagation is reverse-mode autodiff (MLP 64 → 32 → 16 → 10)")
    X, y = nn.data.load_digits()
    rng = np.random.default_rng(SEED)
    batch = rng.choice(len(X), size=32, replace=False)
    X, y = X[batch], y[batch]
    losses = {
        "mse_loss": (nn.mse_loss, np.eye(10)[y]),
        "cross_entropy": (nn.cross_entropy, y),
        "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits, np.eye(10)[y]),
        "hinge_loss": (nn.hinge_loss, 2 * np.eye(10)[y] - 1),
    }
    worst = 0.0
    for activation in nn.backprop.ACTIVATIONS:
        differences = []
        for name, (loss_function, target) in losses.items():
            model = nn.MLP(64, [32, 16, 10], activation=activation, rng=rng)
            loss_function(model(X), target).backward()
            _, weight_grads, bias_grads = nn.backprop.loss_and_gradients(
                [layer.W.data for layer in model.layers], [layer.b.data for layer in model.layers],
                X, target, activation=activation, loss=name,
            )
            references = []  # in the order of model.parameters(): W, b of each layer
            for dW, db in zip(weight_grads, bias_grads, strict=True):
                references += [dW, db]
            for parameter, reference in zip(model.parameters(), references, strict=True):
                scale = max(np.abs(reference).max(), 1e-300)
                differences.append(np.abs(parameter.grad - reference).max() / scale)
        worst = max(worst, *differences)
        print(f"  {activation:<8} all four losses: largest relative difference "
              f"{max(differences):.1e}")
    print(f"The delta rule and reverse accumulation agree to {worst:.1e} (float64).")
    return worst


# --------------------------------------------------------------------------- training


@dataclass
class History:
    """Per-epoch mean training loss and accuracy."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def predict(model: nn.Module, X: np.ndarray) -> np.ndarray:
    """Class predictions: the argmax of the logits (the sign for a single output)."""
    with autodiff.no_grad():
        logits = np.asarray(model(X).data)
    if logits.ndim == 1 or logits.shape[1] == 1:
        return (logits.reshape(-1) > 0).astype(np.int64)
    return logits.argmax(axis=1)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predict(model, X) == y))


def train(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    loss_function: Callable,
    optimizer: nn.Optimizer,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    description: str,
) -> History:
    """Mini-batch training with a progress bar showing the loss and accuracy of each epoch."""
    history = History()
    bar = tqdm(range(epochs), desc=description, unit="epoch", leave=True)
    for _ in bar:
        total, count = 0.0, 0
        model.train()
        for X_batch, y_batch in nn.data.batches(X, y, batch_size, rng=rng):
            loss = loss_function(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(X_batch)
            count += len(X_batch)
        model.eval()
        history.loss.append(total / count)
        history.accuracy.append(accuracy(model, X, y))
        bar.set_postfix(loss=f"{history.loss[-1]:.4f}", acc=f"{history.accuracy[-1]:.3f}",
                        refresh=False)
    bar.close()
    return history


# --------------------------------------------------------------------------- 3. moons


def moons_section(output: Path) -> tuple[nn.MLP, History]:
    """Train a small MLP on the two moons and draw its decision boundary."""
    heading("3. Two moons: MLP(2 → 16 → 16 → 1), tanh, binary cross-entropy, Adam")
    rng = np.random.default_rng(SEED)
    X, y = nn.data.make_moons(200, noise=0.1, rng=rng)
    model = nn.MLP(2, [16, 16, 1], activation="tanh", rng=rng)
    optimizer = nn.Adam(model.parameters(), lr=0.02)
    history = train(model, X, y, nn.binary_cross_entropy_with_logits, optimizer,
                    epochs=100, batch_size=32, rng=rng, description="moons")
    print(f"Training accuracy on the moons: {history.accuracy[-1]:.1%}")
    path = output / "moons_boundary.png"
    plot_decision_boundary(model, X, y, path)
    print(f"Decision boundary written to {path}")
    return model, history


def plot_decision_boundary(model: nn.Module, X: np.ndarray, y: np.ndarray, path: Path) -> None:
    """Shade the plane by the model's predicted probability and scatter the data over it."""
    (x_lo, y_lo), (x_hi, y_hi) = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    grid_x, grid_y = np.meshgrid(np.linspace(x_lo, x_hi, 300), np.linspace(y_lo, y_hi, 300))
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    with autodiff.no_grad():
        probability = autodiff.sigmoid(model(points)).data.reshape(grid_x.shape)
    figure, axes = plt.subplots(figsize=(6, 5))
    shading = axes.contourf(grid_x, grid_y, probability, levels=20, cmap="RdBu_r", alpha=0.8)
    axes.contour(grid_x, grid_y, probability, levels=[0.5], colors="black", linewidths=1.5)
    axes.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="black", s=20)
    figure.colorbar(shading, ax=axes, label="P(class 1)")
    axes.set_title("Two moons: decision boundary of the trained MLP")
    axes.set_xlabel("x₁")
    axes.set_ylabel("x₂")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# --------------------------------------------------------------------------- 4. digits


DIGITS_SIZES = (128, 10)


def digits_section(output: Path) -> tuple[float, float, History]:
    """Train on 80% of the digits, test on the rest, save, reload and test again.

    Returns (held-out accuracy, held-out accuracy after reloading, history).
    """
    heading("4. Handwritten digits: MLP(64 → 128 → 10), ReLU, cross-entropy, Adam")
    rng = np.random.default_rng(SEED)
    X, y = nn.data.load_digits()
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, 0.2, rng=rng)
    print(f"{len(X_train)} training and {len(X_test)} held-out images of 8×8 pixels")
    model = nn.MLP(64, DIGITS_SIZES, activation="relu", rng=rng)
    optimizer = nn.Adam(model.parameters(), lr=3e-3)
    started = time.perf_counter()
    history = train(model, X_train, y_train, nn.cross_entropy, optimizer,
                    epochs=30, batch_size=32, rng=rng, description="digits")
    seconds = time.perf_counter() - started
    held_out = accuracy(model, X_test, y_test)
    print(f"Trained in {seconds:.1f} s; held-out accuracy {held_out:.2%}")

    path = output / "digits_mlp.npz"
    model.save(path)
    reloaded = nn.MLP(64, DIGITS_SIZES, activation="relu", rng=SEED + 1).load(path)
    reloaded_accuracy = accuracy(reloaded, X_test, y_test)
    same = "the same" if reloaded_accuracy == held_out else "DIFFERENT"
    print(f"Saved to {path}, reloaded into a fresh MLP: held-out accuracy "
          f"{reloaded_accuracy:.2%} ({same})")
    return held_out, reloaded_accuracy, history


def plot_loss_curves(histories: dict[str, History], path: Path) -> None:
    """Training loss per epoch, one panel per data set."""
    figure, panels = plt.subplots(1, len(histories), figsize=(5 * len(histories), 4))
    for axes, (name, history) in zip(np.atleast_1d(panels), histories.items(), strict=True):
        epochs = np.arange(1, len(history.loss) + 1)
        axes.plot(epochs, history.loss, color="tab:blue")
        axes.set_yscale("log")
        axes.set_title(f"{name}: training loss")
        axes.set_xlabel("epoch")
        axes.set_ylabel("mean loss")
        axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# --------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.showcase", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--output", type=Path, default=Path("output"),
                        help="folder for the pictures and the saved model (default: output/)")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- 5. graphs


def graphs_section(output: Path) -> list[Path]:
    """Draw a small network's graph after backward (plain and coloured by gradient) and the
    worked example's, and print the chain-rule report for w5."""
    heading("5. Seeing the graph: autodiff.draw and autodiff.explain")
    written = graphs.main(output)
    for path in written:
        print(f"  wrote {path}")
    print()
    print((output / "explain_w5.txt").read_text(encoding="utf-8"))
    return written


# --------------------------------------------------------------------------- 6. walkthrough


def walkthrough_section(output: Path) -> Path | None:
    """Write the worked example's step-by-step forward and backward pass to
    DIR/backprop.html (needs Graphviz's `dot`; without it, say so and write nothing)."""
    heading("6. Watching backpropagation happen: autodiff.walkthrough")
    if shutil.which("dot") is None:
        print("  Graphviz's `dot` program is not installed (Debian/Ubuntu: apt-get install "
              "graphviz; macOS: brew install graphviz): no walkthrough page.")
        return None
    values = worked_example.scalar_network()
    page = walkthrough(values["E_total"], forward=True)
    path = page.save(output / "backprop.html")
    w5 = page.step_of("w5")
    print(f"  wrote {path}: {len(page)} steps, forward then backward; open it in a browser and "
          f"press → (or use the slider).")
    print(f"  At step {w5 + 1}, w5's gradient is complete: {page.steps[w5]['result']}")
    return path


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run every section; returns the headline numbers."""
    arguments = parse_arguments(argv)
    output: Path = arguments.output
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"Pictures and the saved model go to {output}/")

    worked = worked_example_section()
    agreement = backprop_section()
    _, moons_history = moons_section(output)
    held_out, reloaded, digits_history = digits_section(output)

    curves = output / "loss_curves.png"
    plot_loss_curves({"two moons": moons_history, "digits": digits_history}, curves)
    print(f"\nLoss curves written to {curves}")

    graphs_section(output)
    walkthrough_section(output)
    print(f"Done in {time.perf_counter() - started:.1f} s")
    return {
        "E_total": worked["E_total"],
        "backprop_relative_difference": agreement,
        "moons_accuracy": moons_history.accuracy[-1],
        "digits_accuracy": held_out,
        "digits_reloaded_accuracy": reloaded,
    }


if __name__ == "__main__":
    main()
