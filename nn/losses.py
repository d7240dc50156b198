"""Loss functions, each one fused primitive: one graph node, with a VJP rule per input.

Every loss takes `reduction="mean"` (average over the elements, or over the samples for
`cross_entropy`) or `reduction="sum"`. Predictions are `Value`s (or numpy arrays, giving a
plain number); targets are numpy arrays or `Value`s. A prediction of shape `(n, 1)` is
paired with a target of shape `(n,)` (and the reverse), as a one-output MLP produces;
any other shape difference raises `ValueError`.

The VJP rules are written with operators and `autodiff` functions, so the losses can be
differentiated again (`backward(create_graph=True)`, `autodiff.hessian`). The
cross-entropy's forward pass hands the softmax it computed to its backward pass (through a
dict given as a keyword parameter), so a training step computes it once.

A loss is a number of its inputs' dtype; float16 inputs are computed and summed in float32
(2,000 squared errors of 100 sum past float16's 65,504, though their mean is 100) and the
result rounded to float16.

Dask: predictions and targets may be Dask arrays (or Values holding them); the loss and its
gradient stay lazy. The checks of target values that would need the data (labels in range,
probabilities in [0, 1], hinge labels ±1) become nan instead: a lazy target out of range
makes the loss and its gradient nan (which an optimiser step refuses), never a silently
wrong number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff
from autodiff import Value
from autodiff.extend import is_lazy, primitive, raw

from ._sums import row_sums, total

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "hinge_loss", "mse_loss"]


def _as_input(loss: str, what: str, x: Any) -> Value | np.ndarray:
    """A Value as is; anything else as a floating numpy array. TypeError for anything but
    real numbers (complex, text, objects): a loss is real, and a cast would drop data."""
    array = x if isinstance(x, Value) or is_lazy(x) else np.asarray(x)
    _check_real(loss, what, array.dtype)
    if isinstance(array, Value) or array.dtype.kind == "f":
        return array
    return array.astype(np.float64)


def _check_real(loss: str, what: str, dtype: np.dtype) -> None:
    """TypeError unless `dtype` holds real numbers (bool, integer or floating point)."""
    if dtype.kind not in "biuf":
        raise TypeError(f"{loss}: {what} must hold real numbers; got dtype {dtype}")


def _scale(loss: str, reduction: str, count: int) -> float:
    """The factor applied to the summed loss: 1/count for "mean", 1 for "sum"."""
    if reduction == "mean":
        if count == 0:
            raise ValueError(f"{loss}: cannot average over an empty batch")
        return 1.0 / count
    if reduction == "sum":
        return 1.0
    raise ValueError(f"{loss}: reduction must be 'mean' or 'sum'; got {reduction!r}")


def _size(x: Any) -> int:
    return math.prod(np.shape(raw(x)))


def _scaled_sum(terms: Any, scale: float, *inputs: Any, add: Any = np.sum) -> Any:
    """scale · Σ terms(*inputs) (`add` sums), a number of the inputs' dtype; float16 inputs
    computed and summed in float32 and the result rounded to float16 (2,000 squared errors
    of 100 summed in float16 are inf, past 65,504, though their mean is 100; numpy's mean
    accumulates float16 in float32 too)."""
    for x in inputs:
        if getattr(x, "dtype", None) is _HALF:
            wide = (x.astype(np.float32) if hasattr(x, "astype") else x for x in inputs)
            return (add(terms(*wide)) * scale).astype(_HALF)
    return add(terms(*inputs)) * scale


_HALF = np.dtype(np.float16)


def _same(x: Any) -> Any:
    return x


def _nan_unless(valid: Any, x: Any) -> Any:
    """x where `valid` holds, nan elsewhere (a lazy check: the data is never looked at)."""
    return np.where(valid, x, np.nan)


def _paired(loss: str, prediction: Any, target: Any, what: str = "target") -> Any:
    """`target` with the prediction's shape; (n, 1) and (n,) are paired, else ValueError."""
    p_shape, t_shape = np.shape(raw(prediction)), np.shape(raw(target))
    if p_shape == t_shape:
        return target
    if (p_shape == (*t_shape, 1)) or (t_shape == (*p_shape, 1)):
        return target.reshape(p_shape)
    raise ValueError(
        f"{loss}: predictions have shape {p_shape} but {what}s have shape {t_shape}"
    )


# --------------------------------------------------------------------------- mean squared error


@primitive(name="mse_loss")
def _squared_error(prediction, target, scale):
    """scale · Σ (prediction − target)²  ·  ∂/∂prediction = 2·scale·(prediction − target)"""
    return _scaled_sum(_squared_differences, scale, prediction, target)


def _squared_differences(prediction, target):
    difference = prediction - target
    return difference * difference


_squared_error.defvjp(
    lambda g, out, prediction, target, scale: g * (2.0 * scale) * (prediction - target),
    lambda g, out, prediction, target, scale: g * (-2.0 * scale) * (prediction - target),
)


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> Value:
    """Squared error Σ (prediction − target)², averaged over all elements for "mean"."""
    prediction = _as_input("mse_loss", "predictions", prediction)
    target = _as_input("mse_loss", "targets", target)
    target = _paired("mse_loss", prediction, target)
    scale = _scale("mse_loss", reduction, _size(prediction))
    return _squared_error(prediction, target, scale=scale)


# --------------------------------------------------------------------------- cross-entropy


def _class_labels(loss: str, labels: Any, batch: int, classes: int) -> np.ndarray:
    labels = labels if type(labels) is np.ndarray else np.asarray(raw(labels))
    dtype = labels.dtype
    if dtype.kind not in "iu":
        raise TypeError(
            f"{loss}: labels must be integer class indices; got an array of dtype {dtype}"
        )
    if labels.shape != (batch,):
        raise ValueError(
            f"{loss}: logits have shape ({batch}, {classes}), so labels must have shape "
            f"({batch},); got {labels.shape}"
        )
    # Read as unsigned, a negative label is huge: one maximum finds both kinds of mistake.
    if batch and labels.view(_unsigned(dtype)).max() >= classes:
        position = int(np.flatnonzero((labels < 0) | (labels >= classes))[0])
        raise ValueError(
            f"{loss}: label {int(labels[position])} at position {position} is out of range "
            f"for {classes} classes (labels must lie in 0..{classes - 1})"
        )
    return labels


def _unsigned(dtype: np.dtype) -> np.dtype:
    """The unsigned integer dtype of the same size and byte order."""
    twin = _UNSIGNED.get(dtype)
    if twin is None:
        twin = _UNSIGNED[dtype] = np.dtype(dtype.str.replace("i", "u"))
    return twin


_UNSIGNED: dict[np.dtype, np.dtype] = {}


@primitive(name="cross_entropy", residuals=True)
def _softmax_cross_entropy(logits, labels, scale):
    """scale · Σᵢ (log Σⱼ e^zᵢⱼ − zᵢ,yᵢ)  ·  ∂/∂z = scale · (softmax(z) − onehot(y))

    The forward pass leaves softmax(z) and the row indices to the backward pass as
    residuals.
    """
    rows = np.arange(labels.shape[0])
    shifted = logits - logits.max(axis=1, keepdims=True)
    picked = shifted[rows, labels]
    probabilities = np.exp(shifted, out=shifted)
    normaliser = row_sums(probabilities)
    probabilities /= normaliser[:, None]
    losses = np.log(normaliser)
    losses -= picked
    return _scaled_sum(_same, scale, losses, add=total), (probabilities, rows)


def _cross_entropy_vjp(g, out, logits, labels, scale, residuals):
    if residuals is None:  # a later pass, or differentiating again: recompute
        rows = np.arange(np.shape(raw(labels))[0])
        onehot = np.zeros(np.shape(raw(logits)), dtype=np.result_type(raw(logits)))
        onehot[rows, raw(labels)] = 1
        return g * scale * (autodiff.softmax(logits, axis=1) - onehot)
    # The first backward pass takes the saved softmax over and edits it in place.
    probabilities, rows = residuals
    probabilities[rows, labels] -= 1
    probabilities *= g * scale
    return probabilities


_softmax_cross_entropy.defvjp(_cross_entropy_vjp, None)


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Value:
    """−log softmax(logits)[label] per sample, computed stably through log-softmax.

    `logits` has shape (batch, classes); `labels` holds integer classes in
    0..classes−1 (a label out of range raises ValueError). "mean" averages over the batch.
    """
    logits = _as_input("cross_entropy", "logits", logits)
    shape = logits.shape
    if len(shape) != 2:
        raise ValueError(
            f"cross_entropy: logits must have shape (batch, classes); got shape {shape}"
        )
    batch, classes = shape
    if not classes:
        raise ValueError(
            f"cross_entropy: logits have shape {shape}: there must be at least one class"
        )
    scale = _scale("cross_entropy", reduction, batch)
    if is_lazy(raw(logits)) or is_lazy(raw(labels)):
        return _lazy_cross_entropy(logits, raw(labels), batch, classes, scale)
    labels = _class_labels("cross_entropy", labels, batch, classes)
    return _softmax_cross_entropy(logits, labels, scale=scale)


def _lazy_cross_entropy(logits: Any, labels: Any, batch: int, classes: int,
                        scale: float) -> Value:
    """The cross-entropy of Dask logits or labels, lazily: −scale · Σ log_softmax(z) ⊙
    onehot(y), row by row as the chunks come (a label out of range gives nan). Labels
    that are not lazy (a list or tuple too) are read as a numpy array."""
    if not is_lazy(labels):
        labels = np.asarray(labels)
    if np.shape(labels) != (batch,):
        raise ValueError(
            f"cross_entropy: logits have shape ({batch}, {classes}), so labels must have "
            f"shape ({batch},); got {np.shape(labels)}"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: labels must be integer class indices; got an "
                        f"array of dtype {labels.dtype}")
    onehot = labels[:, None] == np.arange(classes)
    valid = (labels >= 0) & (labels < classes)
    onehot = _nan_unless(valid[:, None], onehot.astype(np.result_type(raw(logits))))
    if not isinstance(logits, Value):
        logits = Value(logits, requires_grad=False)
    picked = autodiff.log_softmax(logits, axis=1) * onehot
    if picked.dtype == np.float16:  # summed in float32: a float16 sum overflows at 65,504
        return (picked.sum(dtype=np.float32) * -scale).astype(np.float16)
    return picked.sum() * -scale


# --------------------------------------------------------------------------- binary cross-entropy


@primitive(name="binary_cross_entropy_with_logits")
def _sigmoid_cross_entropy(logits, targets, scale):
    """scale · Σ (max(z, 0) − z·t + log(1 + e^−|z|))  ·  ∂/∂z = scale · (σ(z) − t)"""
    return _scaled_sum(_sigmoid_cross_entropies, scale, logits, targets)


def _sigmoid_cross_entropies(logits, targets):
    return np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))


_sigmoid_cross_entropy.defvjp(
    lambda g, out, logits, targets, scale: g * scale * (autodiff.sigmoid(logits) - targets),
    lambda g, out, logits, targets, scale: g * (-scale) * logits,
)


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Value:
    """−[t log σ(z) + (1 − t) log(1 − σ(z))], computed stably from the logits z.

    Targets are probabilities in [0, 1] (usually the labels 0 and 1).
    """
    loss = "binary_cross_entropy_with_logits"
    logits, targets = _as_input(loss, "logits", logits), _as_input(loss, "targets", targets)
    targets = _paired(loss, logits, targets)
    raw_targets = raw(targets)
    if is_lazy(raw_targets):
        targets = _nan_unless((raw_targets >= 0) & (raw_targets <= 1), raw_targets)
    elif np.any((raw_targets < 0) | (raw_targets > 1)) or np.any(np.isnan(raw_targets)):
        raise ValueError(f"{loss}: targets must lie in [0, 1]")
    scale = _scale(loss, reduction, _size(logits))
    return _sigmoid_cross_entropy(logits, targets, scale=scale)


# --------------------------------------------------------------------------- hinge


@primitive(name="hinge_loss")
def _hinge(scores, labels, scale):
    """scale · Σ max(0, 1 − y·s)  ·  ∂/∂s = −scale · y where 1 − y·s > 0, else 0"""
    return _scaled_sum(_hinges, scale, scores, labels)


def _hinges(scores, labels):
    return np.maximum(1 - labels * scores, 0)


def _hinge_vjp(g, out, scores, labels, scale):
    active = (1 - labels * raw(scores)) > 0
    return g * (-scale) * (labels * active)


_hinge.defvjp(_hinge_vjp, None)


def hinge_loss(scores: Any, labels: Any, reduction: str = "mean") -> Value:
    """max(0, 1 − y·s) per element, for labels y in {−1, +1} (a margin classifier's loss)."""
    scores = _as_input("hinge_loss", "scores", scores)
    labels = raw(labels)
    labels = labels if is_lazy(labels) else np.asarray(labels)
    _check_real("hinge_loss", "labels", labels.dtype)
    labels = _paired("hinge_loss", scores, labels, what="label")
    if is_lazy(labels):
        labels = _nan_unless((labels == 1) | (labels == -1), labels)
    elif not np.all((labels == 1) | (labels == -1)):
        bad = labels[(labels != 1) & (labels != -1)].ravel()[0].item()
        raise ValueError(f"hinge_loss: labels must be -1 or +1; found {bad!r}")
    labels = labels.astype(raw(scores).dtype if np.ndim(raw(scores)) else np.float64)
    scale = _scale("hinge_loss", reduction, _size(scores))
    return _hinge(scores, labels, scale=scale)
