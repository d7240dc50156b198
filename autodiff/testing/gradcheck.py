"""`check_grad`: compare autodiff's derivatives with central finite differences.

The check reduces any function to a scalar with a fixed random cotangent u,
s(x) = ⟨u, f(x)⟩, whose gradient is exactly the vector-Jacobian product uᵀ ∂f/∂x. Then

* order 1, reverse mode: ∂s/∂xᵢ ≈ (s(x + h eᵢ) − s(x − h eᵢ)) / 2h, element by element;
* order 1, forward mode: ∂f/∂x · t ≈ (f(x + h t) − f(x − h t)) / 2h, for a random tangent t
  in one argument at a time;
* order 2: the Hessian-vector product (∇²s · v)ᵢ, obtained by differentiating autodiff's own
  gradient again (reverse over reverse, or forward over reverse), against the four-point
  difference (s(x+heᵢ+hv) − s(x+heᵢ−hv) − s(x−heᵢ+hv) + s(x−heᵢ−hv)) / 4h².

Complex arguments and outputs. A complex output is reduced with a random complex u as
s(z) = Σ Re(ūᵢ fᵢ(z)) (the pairing `backward(grad=u)` differentiates), and a complex argument
z = x + iy is checked along its real and imaginary parts separately: autodiff's gradient,
in PyTorch's convention ∂s/∂x + i ∂s/∂y, must have the differences along x as its real part
and those along y as its imaginary part. Directions (tangents, Hessian-vector directions)
are complex for complex arguments, and the second derivative pairs the gradient G with a
direction v as Σ Re(G v̄) = ∇s·v. Forward mode differentiates f(x + iy) as a function of
the real pair (x, y), so that `autodiff.jvp` sees real primals only.

Finite differences are always evaluated in float64 (complex128 for complex arguments),
whatever the dtype of the arguments, so the reference is as accurate as the function
allows. Nothing here needs hypothesis.

Tolerance model. The allowed error is |autodiff − fd| ≤ atol + rtol·|fd| + noise. rtol and
atol follow the arguments' dtype (the gradient under test is computed in it; looser where f
computes in float32 by itself), while noise is the differences' own rounding error, one
evaluation's divided by h (h² at order 2). That rounding is that of the precision f
computes in at the float64 points (float32 only where f returns float32 there, whatever
the arguments' dtype), ε·‖u∘f(x)‖₂, or the rounding measured near the point (second
differences over tiny steps: a result that cancels, a cast to float32 inside f; with a
float32 argument or output, also fourth differences over each order's own step, where
rounding that f amplifies, or a float32 value stepping to the next, shows), whichever is
larger; in forward mode, where output elements are compared one by one, each element's
own. With float32 steps the differences are taken at twice the step as well, and 4/3 of
the gap between the two is allowed on each element: a float32 value inside f that steps
to the next float32 number within one stencil shows there and nowhere else.
It does not grow with the size of the output. Where the noise is above a tenth of the
largest derivative compared and above ten times atol, a wrong gradient of that size would
pass: check_grad says the point cannot be checked rather than widening atol silently. (The
differences taken with float32 steps, for a float32 argument or a function that computes
in float32, are coarse by nature, ε/h² is 0.5% of |s| at order 2; their noise is excused,
as are their looser default tolerances. Check in float64 for a tight answer.)

A scalar output is reduced with a random cotangent too (not 1), so that a rule ignoring its
incoming gradient g is caught; its derivatives are divided by that cotangent before they
are compared and reported, so the numbers shown are those of f itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import autodiff
from autodiff import Value
from autodiff.extend import raw

__all__ = ["check_grad", "default_tolerances"]

_MODES = ("rev", "fwd")

# (rtol, atol) by working precision and derivative order. The reference is computed in
# float64; the gradient under test is computed in the arguments' own dtype, so float32
# tolerances reflect float32 rounding in the function and its derivative rules.
_TOLERANCES = {
    ("float64", 1): (1e-5, 1e-6),
    ("float64", 2): (1e-4, 1e-5),
    ("float32", 1): (2e-3, 2e-4),
    ("float32", 2): (1e-2, 1e-3),
}
# Finite-difference step by order and by the precision the function may compute in:
# float32 when any argument is float32 (the function may cast back to its inputs' dtype
# inside, so its float64 evaluation can still carry float32 rounding) or when it returns
# float32 for float64 arguments. The larger float32 steps keep that rounding small
# against the step while the truncation error stays O(h²). (The noise allowance does not
# follow the steps: it is that of the precision f computes in, and the measured rounding.)
_STEPS = {("float64", 1): 1e-6, ("float64", 2): 1e-4, ("float32", 1): 1e-3, ("float32", 2): 5e-3}
# float64 arguments, but a function that computes in float32 by itself: its differences
# are noisier than its gradient, so both are compared loosely.
_NOISY_FD_TOLERANCES = {1: (1e-2, 1e-3), 2: (5e-2, 5e-3)}
# Noise above this fraction of the largest derivative compared (and above ten times atol,
# so more than atol's own scale) means a wrong gradient of that size could pass: the point
# cannot be checked.
_NOISE_FRACTION = 0.1


def default_tolerances(dtype: Any, order: int = 1) -> tuple[float, float]:
    """(rtol, atol) that `check_grad` uses by default for arguments of `dtype` at `order`."""
    return _TOLERANCES[(_precision(np.dtype(dtype)), order)]


def _precision(dtype: np.dtype) -> str:
    dtype = np.dtype(dtype)
    itemsize = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
    return "float64" if itemsize >= 8 else "float32"


@dataclass(frozen=True)
class _Tolerance:
    rtol: float
    atol: float  # without the differences' noise, which comes with each comparison
    floor: float  # noise within ten times this is atol's scale: atol or the default one
    # float32 steps: their noise is excused (float64 steps: noise too large is an error),
    # and the differences are taken at h and at 2h too, 4/3 of their gap added to each
    # element's noise (see `_with_doubled_step`)
    float32_steps: bool
    scale: float = 1.0  # the cotangent of a scalar output, divided out before comparing


@dataclass
class _Argument:
    position: int
    data: np.ndarray  # the argument as given (its own dtype)
    is_float_scalar: bool  # a Python float or float64 0-d: handed to f as a float
    name: str | None

    @property
    def label(self) -> str:
        named = f" ({self.name!r})" if self.name else ""
        return f"argument {self.position}{named}"

    @property
    def is_complex(self) -> bool:
        return self.data.dtype.kind == "c"

    @property
    def wide(self) -> np.dtype:
        """The dtype finite differences evaluate in: float64, or complex128."""
        return np.dtype(np.complex128 if self.is_complex else np.float64)

    def as_input(self, data: np.ndarray, dtype: Any = None) -> Any:
        data = np.asarray(data, dtype=dtype or self.data.dtype)
        return float(data) if self.is_float_scalar and data.dtype == np.float64 else data


def _is_differentiable(x: Any) -> bool:
    if isinstance(x, Value):
        return True
    if isinstance(x, (bool, int, np.integer, np.bool_)) or x is None:
        return False
    if isinstance(x, (float, complex, np.floating, np.complexfloating)):
        return True
    if isinstance(x, (np.ndarray, list, tuple)):
        try:
            return np.asarray(x).dtype.kind in "fc"
        except (ValueError, TypeError):
            return False
    return False


def _describe_mode(mode: str, order: int) -> str:
    if order == 1:
        return {"rev": "reverse-mode gradient", "fwd": "forward-mode derivative"}[mode]
    return {
        "rev": "second derivative (Hessian-vector product, reverse over reverse)",
        "fwd": "second derivative (Hessian-vector product, forward over reverse)",
    }[mode]


def _format_index(index: tuple[int, ...]) -> str:
    return "()" if not index else "[" + ", ".join(str(i) for i in index) + "]"


def _compare(
    computed: Any, reference: np.ndarray, tol: _Tolerance, noise: Any, what: str,
    shape_of: str
) -> float:
    """Raise AssertionError describing the worst element unless
    |c − r| ≤ atol + noise + rtol·|r| (for complex values, |·| is the modulus). `noise`, the
    differences' own rounding error (a number, or one per element), is added to atol; where
    it is above a tenth of the largest derivative compared and far above atol (ten times
    `tol.floor`), a wrong gradient of that size would pass: nothing is checked, and that is
    an AssertionError too (unless `tol.float32_steps`: their noise is excused)."""
    rtol = tol.rtol
    kind = np.complex128 if np.iscomplexobj(computed) or np.iscomplexobj(reference) \
        else np.float64
    computed = np.asarray(computed, dtype=kind)
    reference = np.asarray(reference, dtype=kind)
    if computed.shape != reference.shape:
        raise AssertionError(
            f"check_grad: {what} has shape {computed.shape} but finite differences give "
            f"{reference.shape}"
        )
    if computed.size == 0:
        return 0.0
    magnitudes = np.abs(np.concatenate([computed.ravel(), reference.ravel()]))
    signal = float(np.max(magnitudes, initial=0.0, where=np.isfinite(magnitudes)))
    noise = np.broadcast_to(np.asarray(noise, dtype=np.float64), reference.shape)
    loudest = float(np.max(noise))
    if not tol.float32_steps and loudest > max(_NOISE_FRACTION * signal, 10 * tol.floor):
        raise AssertionError(
            f"check_grad: {what} cannot be checked here: the finite differences' rounding "
            f"error (about {loudest:.3g}) is above {_NOISE_FRACTION:g} of the largest "
            f"derivative compared ({signal:.3g}), so a wrong gradient of that size would "
            f"pass\n  {shape_of}\n"
            "  f's output is large against its change over a step (or f computes in "
            "float32): choose a larger eps, take a constant part out of f, or check it in "
            "float64"
        )
    error = np.abs(computed - reference)
    error = np.where(np.isnan(computed) != np.isnan(reference), np.inf, error)
    error = np.where(np.isnan(computed) & np.isnan(reference), 0.0, error)
    atol = tol.atol + noise
    allowed = atol + rtol * np.abs(reference)
    excess = error / allowed
    bad = ~(error <= allowed)
    if not bad.any():
        return float(np.max(error))
    ranked = np.where(bad, np.nan_to_num(excess, nan=np.inf, posinf=np.inf), -1.0)
    worst = np.unravel_index(int(np.argmax(ranked)), error.shape)
    c, r = computed[worst], reference[worst]
    e = abs(c - r)  # nan when exactly one side is nan
    relative = e / abs(r) if r != 0 else (np.nan if np.isnan(e) else np.inf)
    raise AssertionError(
        f"check_grad: {what} disagrees with central finite differences\n"
        f"  {shape_of}\n"
        f"  worst element at index {_format_index(tuple(int(i) for i in worst))}:\n"
        f"    autodiff:           {_number(c)}\n"
        f"    finite differences: {_number(r)}\n"
        f"    absolute error {e:.3g}, relative error {relative:.3g} "
        f"(allowed: atol={atol[worst]:.3g} + rtol={rtol:.3g} × |finite difference|)\n"
        f"  {int(bad.sum())} of {bad.size} elements out of tolerance"
    )


def _number(x: Any) -> str:
    if np.iscomplexobj(x):
        return f"{x.real:.10g}{x.imag:+.10g}j"
    return f"{x:.10g}"


def _unit_random(rng: np.random.Generator, shape: tuple[int, ...],
                 complex_: bool = False) -> np.ndarray:
    """Normal draws scaled to max-norm 1 (so a step of h moves no element more than h);
    complex ones (independent real and imaginary parts) for a complex argument."""
    draw = rng.standard_normal(shape)
    if complex_:
        draw = draw + 1j * rng.standard_normal(shape)
    peak = np.max(np.abs(draw)) if draw.size else 0.0
    return draw / peak if peak > 0 else draw


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    order: int = 1,
    modes: Sequence[str] = ("rev",),
    seed: int = 0,
) -> float:
    """Check f's derivatives against central finite differences; raise AssertionError if off.

    ∂⟨u, f(x)⟩/∂x from autodiff must match (s(x+h) − s(x−h)) / 2h element by element, for
    every floating or complex argument (numbers, float or complex arrays, Values; integers,
    booleans, integer or boolean arrays and other objects are passed through unchanged as
    constants). A complex argument z = x + iy is checked along x and along y: autodiff's
    gradient ∂s/∂x + i ∂s/∂y (PyTorch's convention) against both differences; a complex
    output is reduced as s = Σ Re(ū f) with a random complex u. A scalar output gets a
    random u too (±[0.5, 2]), divided out again before comparing: the numbers compared and
    reported are f's own derivatives, and a rule that ignores its incoming gradient fails.

    Args:
        f: written with Value-aware code; called with Values, returns a Value (any shape).
        *args: the point to check at.
        eps: finite-difference step (default: 1e-6 at order 1 and 1e-4 at order 2; 1e-3
            and 5e-3 when an argument is float32 or f returns float32 for float64 input).
        rtol: relative tolerance. With `atol`, the allowed error is
            |autodiff − fd| ≤ atol + rtol·|fd| + noise, where noise is the rounding error
            of the differences themselves, one evaluation's divided by h^order: the larger
            of ε·‖u∘f(x)‖₂ (ε of float32 when f returns float32 for float64 arguments, else
            of float64: the differences are evaluated in float64 whatever the arguments'
            dtype) and the rounding measured near the point; per output element in forward
            mode. Defaults depend on the arguments' dtype (see `default_tolerances`):
            float32 is checked more loosely, because the gradient under test is computed
            in float32.
        atol: absolute tolerance (see `rtol`).
        order: 1 checks first derivatives; 2 checks first and second derivatives.
        modes: "rev" (reverse mode: `autodiff.vjp`, `grad` of a gradient) and/or "fwd"
            (forward mode: `autodiff.jvp`, and `jvp` of a gradient at order 2).
        seed: seeds the random cotangent and directions, so a check is reproducible.

    Returns:
        The largest absolute error |autodiff − finite differences| over all checked
        elements (useful to see how much room the tolerance leaves).

    Raises:
        AssertionError: naming the derivative, the argument, the worst element's index,
            both values, and the absolute and relative error; also when float64
            differences are too noisy to check the derivatives (their rounding error above
            a tenth of the largest and ten times atol, as for f(x) + 1e8 summed over 100
            elements): a wrong gradient of that size would pass.
        ValueError: for a bad `order` or `modes`, or when no argument is floating.
    """
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, not {order!r}")
    if not callable(f):
        raise TypeError(f"check_grad: f must be callable; got {type(f).__name__} {f!r}")
    if eps is not None and not (math.isfinite(eps) and eps != 0):
        raise ValueError(f"check_grad: eps, the finite-difference step, must be a finite "
                         f"nonzero number; got {eps!r}")
    for label, tolerance in (("rtol", rtol), ("atol", atol)):
        if tolerance is not None and not tolerance >= 0:
            raise ValueError(f"check_grad: {label} must be at least 0; got {tolerance!r}")
    if isinstance(modes, str):
        modes = (modes,)
    unknown = [m for m in modes if m not in _MODES]
    if unknown or not modes:
        raise ValueError(f"check_grad: modes must be a non-empty subset of {_MODES}, got {modes!r}")

    slots: list[Any] = list(args)
    arguments: list[_Argument] = []
    for position, arg in enumerate(args):
        if not _is_differentiable(arg):
            continue
        name = arg.name if isinstance(arg, Value) else None
        data_of_arg = raw(arg)
        keep_dtype = isinstance(data_of_arg, (np.ndarray, np.generic))
        default = np.complex128 if np.iscomplexobj(data_of_arg) else np.float64
        data = np.array(data_of_arg, dtype=None if keep_dtype else default)
        is_float_scalar = data.ndim == 0 and data.dtype == np.float64
        arguments.append(_Argument(position, data, is_float_scalar, name))
    if not arguments:
        raise ValueError(
            "check_grad: no floating argument to differentiate (give numbers, float arrays "
            "or Values)"
        )

    def call(*differentiable: Any) -> Any:
        full = list(slots)
        for argument, x in zip(arguments, differentiable, strict=True):
            full[argument.position] = x
        out = f(*full)
        if not isinstance(out, (Value, float, int, np.ndarray, np.floating)):
            raise TypeError(
                f"check_grad: f must return a Value (or a number/array); it returned "
                f"{type(out).__name__}"
            )
        return out

    # Evaluate once in the arguments' own dtype: the output's shape and dtype.
    # (Arguments go in as constant Values rather than under no_grad(), so that an f that
    # runs a backward pass of its own, a gradient penalty say, still works.)
    point = [a.as_input(a.data) for a in arguments]
    out = call(*[Value(x, requires_grad=False) for x in point])
    out_data = np.asarray(raw(out))
    rng = np.random.default_rng(seed)
    if out_data.dtype.kind == "c":  # s = Σ Re(ū f): a random complex u
        cotangent = (rng.standard_normal(out_data.shape)
                     + 1j * rng.standard_normal(out_data.shape)).astype(out_data.dtype)
    else:
        # a scalar output gets a random cotangent too (±[0.5, 2], not 1): a rule that
        # ignores its incoming gradient g is off by that factor
        cotangent = (np.asarray(rng.uniform(0.5, 2.0) * rng.choice((-1.0, 1.0)))
                     if out_data.ndim == 0 else rng.standard_normal(out_data.shape))
        cotangent = cotangent.astype(out_data.dtype if out_data.dtype.kind == "f"
                                     else np.float64)
    # derivatives of s = u·f for a real scalar f are divided by u before they are compared,
    # so that tolerances and messages are about f's own derivatives
    scale = float(cotangent) if cotangent.ndim == 0 and cotangent.dtype.kind == "f" else 1.0

    def output64(xs: Sequence[np.ndarray]) -> np.ndarray:
        """f at float64 (complex128) arguments, as given by f (its dtype shows f's own
        precision)."""
        result = call(*[Value(a.as_input(x, a.wide), requires_grad=False)
                        for a, x in zip(arguments, xs, strict=True)])
        return np.asarray(raw(result))

    def reduced(value: np.ndarray) -> float:
        """s = Σ Re(ū f) of an output f."""
        if value.dtype.kind == "c" or cotangent.dtype.kind == "c":
            return float(np.sum((np.conj(cotangent) * value).real))
        return float(np.sum(value.astype(np.float64) * cotangent))

    def reduced64(xs: Sequence[np.ndarray]) -> float:
        """s(x) = Σ Re(ū f(x)) evaluated with float64 (complex128) arguments."""
        return reduced(output64(xs))

    base64 = [a.data.astype(a.wide) for a in arguments]
    out64 = output64(base64)
    if out64.dtype.kind in "fc" and not np.isfinite(out64).all():
        where = np.argwhere(~np.isfinite(out64))
        first = tuple(int(i) for i in where[0]) if out64.ndim else ()
        raise AssertionError(
            f"check_grad: f is not finite at the point given ({out64[first]} at index "
            f"{_format_index(first)} of its output, {len(where)} of {out64.size} elements); finite "
            "differences need a point where f is finite: choose another point"
        )
    # The gradient under test is float32 work if any argument is float32. The finite
    # differences take float32-sized steps if f returns float32 even for float64
    # arguments, and for float32 arguments too (f may cast back to its inputs' dtype).
    computes_in_float32 = out64.dtype.kind in "fc" and _precision(out64.dtype) == "float32"
    precision = "float64"
    if any(_precision(a.data.dtype) == "float32" for a in arguments):
        precision = "float32"
    fd_precision = "float32" if computes_in_float32 or precision == "float32" else "float64"
    # The reference's own rounding error, one evaluation's, divided by h at order 1 and by
    # h² at order 2, and added to atol. It is that of the precision f computes in at the
    # float64 points (not of the arguments: the differences are evaluated in float64),
    # ε·‖u∘f(x)‖₂ (u is random, so the elements' errors add up as a root sum of squares),
    # or the rounding measured near the point where that is larger (a result that cancels,
    # a cast to float32 inside f). Forward mode compares output elements one by one, each
    # with its own: ε·|fᵢ(x)|, or measured.
    unit = float(np.finfo(np.float32 if computes_in_float32 else np.float64).eps)
    wide_out = out64.astype(np.result_type(out64, np.float64))
    weighted = np.abs(wide_out * cotangent)
    step = abs(eps) if eps is not None else _STEPS[(fd_precision, 1)]
    measured, measured_elements = _measured_rounding(
        arguments, base64, wide_out, reduced(out64), output64, reduced,
        np.random.default_rng(0), step, at_step=fd_precision == "float32")
    rounding = max(unit * float(np.sqrt(np.sum(weighted ** 2))), measured)
    rounding_elements = np.maximum(unit * np.abs(wide_out), measured_elements)

    worst = 0.0
    for current in range(1, order + 1):
        h = eps if eps is not None else _STEPS[(fd_precision, current)]
        default_rtol, default_atol = (
            _NOISY_FD_TOLERANCES[current] if computes_in_float32 and precision == "float64"
            else _TOLERANCES[(precision, current)]
        )
        chosen_atol = default_atol if atol is None else atol
        tol = _Tolerance(default_rtol if rtol is None else rtol, chosen_atol,
                         max(chosen_atol, default_atol), fd_precision == "float32", scale)
        if current == 2 and fd_precision == "float32" and abs(h) != step:
            # float32 steps: the rounding over this order's own (larger) step, where a
            # value that f rounds to float32 can step from one float32 number to the next
            rounding = max(rounding, _measured_rounding(
                arguments, base64, wide_out, reduced(out64), output64, reduced,
                np.random.default_rng(1), abs(h), at_step=True)[0])
        noise = rounding / abs(h) ** current
        for mode in modes:
            if current == 1 and mode == "rev":
                worst = max(worst, _check_reverse(call, arguments, point, base64, cotangent,
                                                  reduced64, h, tol, noise))
            elif current == 1:
                worst = max(worst, _check_forward(
                    call, arguments, point, base64,
                    lambda xs: output64(xs).astype(np.result_type(out64, np.float64)),
                    rng, h, tol, rounding_elements / abs(h)))
            else:
                worst = max(worst, _check_second(call, arguments, point, base64, cotangent,
                                                 reduced64, rng, h, tol, noise, mode))
    return worst


def _measured_rounding(arguments: Sequence[_Argument], base: list[np.ndarray],
                       output: np.ndarray, centre: float,
                       evaluate: Callable[[Sequence[np.ndarray]], np.ndarray],
                       reduce: Callable[[np.ndarray], float], rng: np.random.Generator,
                       h: float, at_step: bool = False, samples: int = 4
                       ) -> tuple[float, np.ndarray]:
    """The rounding error of s, and of each element of f's output, near the point,
    measured: second differences over steps of h/64 along random directions hold rounding
    alone, about twice one evaluation's error; their largest is returned (output near zero
    after a cancellation: ε·|s| underestimates it). h is the order-1 step, so the curvature
    term s''·(h/64)² stays far below the derivatives compared at either order; with the
    float32 step, h/64 is several float32 units of the arguments, so that a cast to float32
    inside f shows. With `at_step` (float32 differences), fourth differences over steps of
    h itself are measured too, each about the same random point near x (moved by up to h/2
    along its direction, so that the samples differ even for a scalar argument): a few
    float32 units apart, roundings are alike and partly cancel, while over the step the
    differences take they are independent, and an f that amplifies its own rounding (fmod
    by a small divisor, a difference of large terms) shows it. A fourth difference of
    independent errors is about 8.4 times one evaluation's (√70); half the largest of four
    is taken, a few times one evaluation's error, so that the differences' own error (a
    random number of that size) rarely exceeds it. The curvature term (the fourth
    derivative times h⁴) is far below float32 rounding. `output` and `centre`: f (as float64
    or complex128) and s at `base`; `evaluate` gives f, `reduce` s of it."""
    largest = 0.0
    elements = np.zeros(output.shape)

    def note(total: float, combined: np.ndarray, divisor: float) -> None:
        nonlocal largest, elements
        largest = max(largest, abs(total) / divisor)
        with np.errstate(all="ignore"):
            per_element = np.abs(combined) / divisor
        elements = np.maximum(elements, np.where(np.isfinite(per_element), per_element, 0.0))

    def along(direction: list[np.ndarray], shift: float, weights: Sequence[float],
              delta: float) -> tuple[float, np.ndarray]:
        """Σₖ wₖ s(x + (shift + k·delta)·v) and the same sum of f, k = −K..K."""
        reach = len(weights) // 2
        total, combined = 0.0, np.zeros(output.shape, dtype=output.dtype)
        for k, weight in zip(range(-reach, reach + 1), weights, strict=True):
            if k == 0 and shift == 0:
                value, reduced_value = output, centre
            else:
                value = evaluate([x + (shift + k * delta) * v
                                  for x, v in zip(base, direction, strict=True)])
                reduced_value = reduce(value)
            total += weight * reduced_value
            if value.shape == combined.shape:
                with np.errstate(all="ignore"):
                    combined = combined + weight * value.astype(output.dtype)
        return total, combined

    for sample in range(samples):
        directions = [_unit_random(rng, a.data.shape, a.is_complex) for a in arguments]
        note(*along(directions, 0.0, (1.0, -2.0, 1.0), h / 64), 1.0)
        if at_step:
            shift = 0.0 if sample == 0 else float(rng.uniform(-h / 2, h / 2))
            note(*along(directions, shift, (1.0, -4.0, 6.0, -4.0, 1.0), h), 2.0)
    return (largest if math.isfinite(largest) else 0.0), elements


def _shape_note(argument: _Argument) -> str:
    return f"{argument.label}: shape {argument.data.shape}, dtype {argument.data.dtype}"


def _scale_note(tol: _Tolerance) -> str:
    """For a scalar output: how its derivatives were taken (the numbers shown are f's)."""
    if tol.scale == 1.0:
        return ""
    return (f"\n  f's output is a scalar: autodiff's derivatives are taken with the cotangent "
            f"g = {tol.scale:.6g} and divided by it (a rule that ignores g is off by that "
            "factor)")


def _nudged(base: list[np.ndarray], which: int, flat_index: int, step: complex) \
        -> list[np.ndarray]:
    """A copy of `base` with one element of one argument moved by `step` (h, or i·h along
    the imaginary part of a complex argument)."""
    # C-ordered copies (0-d stays an array): reshape(-1) of any other order is a copy, and
    # the step would move the copy rather than the argument
    moved = [np.array(x, order="C") for x in base]
    moved[which].reshape(-1)[flat_index] += step
    return moved


def _parts(argument: _Argument) -> tuple[complex, ...]:
    """The unit steps along an argument's coordinates: 1, and i for a complex argument."""
    return (1, 1j) if argument.is_complex else (1,)


def _real_pairs(call: Callable[..., Any], arguments: list[_Argument]) -> Callable[..., Any]:
    """`call` as a function of real arguments: each complex argument z as its pair (x, y),
    z = x + iy (forward mode differentiates through this)."""

    def call_with_pairs(*parts: Any) -> Any:
        rebuilt, position = [], 0
        for argument in arguments:
            if argument.is_complex:
                x, y = parts[position], parts[position + 1]
                rebuilt.append(x + y * 1j)
                position += 2
            else:
                rebuilt.append(parts[position])
                position += 1
        return call(*rebuilt)

    return call_with_pairs


def _split_pairs(arguments: list[_Argument], xs: Sequence[Any]) -> list[Any]:
    """Arrays for `_real_pairs`: each complex one split into its real and imaginary parts."""
    split: list[Any] = []
    for argument, x in zip(arguments, xs, strict=True):
        if argument.is_complex:
            x = np.asarray(x)
            split += [np.array(x.real), np.array(x.imag)]
        else:
            split.append(x)
    return split


def _jvp(call: Callable[..., Any], arguments: list[_Argument], point: list[Any],
         tangents: list[Any]) -> Any:
    """autodiff.jvp of `call`; complex arguments go in as real pairs (x, y)."""
    if not any(a.is_complex for a in arguments):
        return autodiff.jvp(call, point, tangents)[1]
    return autodiff.jvp(_real_pairs(call, arguments), _split_pairs(arguments, point),
                        _split_pairs(arguments, tangents))[1]


def _check_reverse(call, arguments, point, base64, cotangent, reduced64, h, tol,
                   noise) -> float:
    _, pullback = autodiff.vjp(call, *point)
    gradients = pullback(cotangent)
    worst = 0.0
    for which, argument in enumerate(arguments):

        def differences(step: float, which: int = which, argument: _Argument = argument
                        ) -> np.ndarray:
            reference = np.zeros(argument.data.size, dtype=argument.wide)
            for unit in _parts(argument):
                for k in range(argument.data.size):
                    up = reduced64(_nudged(base64, which, k, unit * step))
                    down = reduced64(_nudged(base64, which, k, -unit * step))
                    reference[k] += unit * (up - down) / (2 * step)
            return reference.reshape(argument.data.shape)

        reference, own_noise = _with_doubled_step(differences, h, noise, tol)
        computed = np.asarray(gradients[which]) / tol.scale
        what = f"{_describe_mode('rev', 1)} of {argument.label}"
        worst = max(worst, _compare(computed, reference / tol.scale, tol,
                                    own_noise / abs(tol.scale), what,
                                    _shape_note(argument) + _scale_note(tol)))
    return worst


def _with_doubled_step(differences: Callable[[float], np.ndarray], h: float, noise: Any,
                       tol: _Tolerance) -> tuple[np.ndarray, Any]:
    """The differences at step h, and the noise to allow them. With float32 steps
    (`tol.float32_steps`) they are taken at 2h as well, and 4/3 of the gap between the two is
    added, element by element: rounding that f does in float32 can step from one float32
    number to the next inside one stencil and not another (a slowly changing value rounded
    to float32 is a staircase), which no measurement at a few points foresees, while the
    gap shows it where it happens. For a smooth f the gap is the truncation error's, three
    times that at h: 4/3 of it covers it."""
    reference = differences(h)
    if not tol.float32_steps:
        return reference, noise
    with np.errstate(all="ignore"):
        gap = np.abs(reference - differences(2 * h))
    return reference, noise + np.where(np.isfinite(gap), gap * (4 / 3), 0.0)


def _check_forward(call, arguments, point, base64, output64, rng, h, tol, noise) -> float:
    worst = 0.0
    for which, argument in enumerate(arguments):
        direction = _unit_random(rng, argument.data.shape, argument.is_complex)
        tangents = [np.zeros(a.data.shape, dtype=a.wide) for a in arguments]
        tangents[which] = direction
        computed = _jvp(call, arguments, point,
                        [a.as_input(t) for a, t in zip(arguments, tangents, strict=True)])

        def differences(step: float, tangents: list[np.ndarray] = tangents) -> np.ndarray:
            up = output64([x + step * t for x, t in zip(base64, tangents, strict=True)])
            down = output64([x - step * t for x, t in zip(base64, tangents, strict=True)])
            return (up - down) / (2 * step)

        reference, own_noise = _with_doubled_step(differences, h, noise, tol)
        what = (f"{_describe_mode('fwd', 1)} along a random direction in {argument.label} "
                f"(index is into the output)")
        worst = max(worst, _compare(computed, reference, tol, own_noise, what,
                                    _shape_note(argument)))
    return worst


def _check_second(call, arguments, point, base64, cotangent, reduced64, rng, h, tol,
                  noise, mode) -> float:
    directions = [_unit_random(rng, a.data.shape, a.is_complex) for a in arguments]

    def gradient(*xs: Any) -> tuple[Any, ...]:
        _, pullback = autodiff.vjp(call, *xs)
        return pullback(cotangent)

    if mode == "rev":

        def directional(*xs: Any) -> Any:
            total = Value(0.0, requires_grad=False)
            for g, v, a in zip(gradient(*xs), directions, arguments, strict=True):
                # Σ Re(G v̄) = ∇s·v (G is an array, not a Value, where s is constant in a)
                product = (g * np.conj(v).astype(a.data.dtype)).sum()
                total = total + np.real(product).astype(np.float64)
            return total

        _, pullback = autodiff.vjp(directional, *point)
        products = pullback(1.0)
    else:
        tangents = [a.as_input(v) for a, v in zip(arguments, directions, strict=True)]
        products = []
        for which in range(len(arguments)):
            products.append(_jvp(lambda *xs, which=which: gradient(*xs)[which], arguments,
                                 point, tangents))

    worst = 0.0
    for which, argument in enumerate(arguments):

        def differences(step: float, which: int = which, argument: _Argument = argument
                        ) -> np.ndarray:
            shifted_up = [x + step * v for x, v in zip(base64, directions, strict=True)]
            shifted_down = [x - step * v for x, v in zip(base64, directions, strict=True)]
            reference = np.zeros(argument.data.size, dtype=argument.wide)
            for unit in _parts(argument):
                for k in range(argument.data.size):
                    reference[k] += unit * (
                        reduced64(_nudged(shifted_up, which, k, unit * step))
                        - reduced64(_nudged(shifted_down, which, k, unit * step))
                        - reduced64(_nudged(shifted_up, which, k, -unit * step))
                        + reduced64(_nudged(shifted_down, which, k, -unit * step))
                    ) / (4 * step * step)
            return reference.reshape(argument.data.shape)

        reference, own_noise = _with_doubled_step(differences, h, noise, tol)
        computed = np.asarray(raw(products[which])) / tol.scale
        what = f"{_describe_mode(mode, 2)} of {argument.label}"
        worst = max(worst, _compare(computed, reference / tol.scale, tol,
                                    own_noise / abs(tol.scale), what,
                                    _shape_note(argument)
                                    + " (∇²s·v for a random direction v over all arguments)"
                                    + _scale_note(tol)))
    return worst
