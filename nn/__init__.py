"""nn: multilayer perceptrons built on autodiff's public API.

    >>> import nn
    >>> model = nn.MLP(2, [16, 16, 2], activation="relu", rng=0)
    >>> X, y = nn.data.make_moons(64, noise=0.1, rng=0)
    >>> optimizer = nn.Adam(model.parameters(), lr=0.01)
    >>> loss = nn.cross_entropy(model(X), y)
    >>> optimizer.zero_grad(); loss.backward(); optimizer.step()

`nn.backprop` is the same network's gradient by classical, layer-by-layer backpropagation
in plain numpy; the tests check that the two agree.
"""

from . import backprop, data
from .layers import MLP, Linear, ReLU, Sequential, Sigmoid, Tanh
from .losses import binary_cross_entropy_with_logits, cross_entropy, hinge_loss, mse_loss
from .module import Module, load_state, save_state
from .optim import SGD, Adam, Optimizer

__all__ = [
    "MLP", "SGD", "Adam", "Linear", "Module", "Optimizer", "ReLU", "Sequential", "Sigmoid",
    "Tanh", "backprop", "binary_cross_entropy_with_logits", "cross_entropy", "data",
    "hinge_loss", "load_state", "mse_loss", "save_state",
]
