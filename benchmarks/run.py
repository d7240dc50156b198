"""The runner: `python -m benchmarks [--quick] [--workload N ...] [--repeats K]`.

Prints one Markdown report (machine, date, one table and one sentence per workload) and
writes it with the raw numbers as `benchmarks/results/<name>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import contestants as tensor
from . import digits, floor, memory, scalar
from .common import Contestant, Row, install_hint, race
from .machine import describe

RESULTS = Path(__file__).resolve().parent / "results"
LR = 1e-3  # small, so that the weights barely move over the timed steps


@dataclass
class Settings:
    repeats: int
    min_time: float
    warmup: int
    chain_repeats: int
    growth_steps: int
    peak_steps: int
    quick: bool
    max_wait: float = 120.0
    w8_rows: int = 100_000_000
    w8_numpy_rows: int = 20_000_000


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def status_cell(row: Row) -> str:
    return row.status if row.status == "ok" else f"{row.status}: {row.reason}"


def _ratio(row: Row, reference: Row | None) -> float | None:
    """Median over repeats of (row's time / reference's time in the same repeat).

    Contestants of one repeat run back to back, so pairing them cancels slow drifts in
    machine load that a ratio of two medians would keep.
    """
    if row.seconds is None or reference is None or reference.seconds is None:
        return None
    if len(row.times) == len(reference.times):
        return statistics.median(a / b for a, b in zip(row.times, reference.times, strict=True))
    return row.seconds / reference.seconds


def _find(rows: list[Row], name: str) -> Row | None:
    return next((r for r in rows if r.name == name), None)


def _target(text: str, measured: float | None, met: bool | None) -> dict[str, Any]:
    return {"target": text, "measured": measured, "met": met}


def _build_one(kind: type) -> tuple[Any, str, str]:
    """(instance or None, display name, note or why it is absent) for one contestant."""
    instance, why = tensor.try_build(kind)
    name = getattr(instance, "name", None) or kind.name
    return instance, name, getattr(instance, "note", "") if instance else why


def _tensor_contestants() -> list[tuple[Any, str, str]]:
    """`_build_one` for every tensor peer."""
    return [_build_one(kind) for kind in tensor.TENSOR_CONTESTANTS]


def _absent_contestant(name: str, why: str) -> Contestant:
    def make():
        from .common import Missing

        if why.startswith("missing: "):
            raise Missing(why[len("missing: "):])
        raise RuntimeError(why)

    return Contestant(name, make)


def _contestants(built, runner) -> list[Contestant]:
    """One Contestant per built entry: `runner(instance)` returns the callable to time (the
    race calls it once, before timing, so its setup is not timed); an absent one says why."""
    return [
        _absent_contestant(name, why) if instance is None
        else Contestant(name, lambda instance=instance: runner(instance))
        for instance, name, why in built
    ]


# --------------------------------------------------------------------------- workload 1


def workload_1(settings: Settings) -> dict[str, Any]:
    n_ops = scalar.moons_op_count()
    libraries = scalar.LIBRARIES
    entries = [scalar.mlp_contestant(library, gc_off)
               for gc_off in (True, False) for library in libraries]
    rows = race(entries, repeats=settings.repeats, warmup=settings.warmup,
                min_time=settings.min_time)
    table, speedups, floors = [], {}, {}
    n = len(libraries)
    for gc_off, group in ((True, rows[:n]), (False, rows[n:])):
        ours, theirs, bare = group
        speedups[gc_off] = _ratio(theirs, ours)
        floors[gc_off] = _ratio(theirs, bare)
        for row in group:
            row.extra["ops_per_second"] = n_ops / row.seconds if row.seconds else None
            row.extra["ratio_to_micrograd"] = _ratio(theirs, row)
            table.append([row.name, fmt_time(row.seconds), fmt_time(min(row.times, default=None)),
                          f"{row.extra['ops_per_second'] / 1e6:.2f} M" if row.seconds else "—",
                          fmt_ratio(row.extra["ratio_to_micrograd"]), status_cell(row)])
    off, on = speedups[True], speedups[False]
    if off is None or on is None:
        sentence = "micrograd or autodiff was not measured, so there is no ratio."
    else:
        sentence = (f"autodiff does one forward+backward of the moons loss {off:.2f}× as fast "
                    f"as micrograd with the cyclic GC paused during the call (target ≥ 5×: "
                    f"{'met' if off >= 5 else 'missed'}) and {on:.2f}× with the default GC "
                    f"(target ≥ 10×: {'met' if on >= 10 else 'missed'}).")
        bare_off, bare_on = floors[True], floors[False]
        if bare_off is not None and bare_on is not None:
            sentence += (f" The pure-Python floor, an engine of + · relu with none of "
                         f"autodiff's guarantees (benchmarks/bare.py), is {bare_off:.2f}× and "
                         f"{bare_on:.2f}× as fast as micrograd: the room any engine that makes "
                         "one Python object per operation has here.")
    return {
        "title": f"Scalar MLP 2-16-16-1 on {scalar.POINTS} moons points (micrograd's demo)",
        "what": (f"One forward pass of the demo's loss (mean hinge loss relu(1 − y·score) "
                 f"+ 1e-4·Σθ², {n_ops:,} scalar operations, identical expression code for "
                 "all), zeroing the parameter grads, and the backward pass; once with "
                 "Python's cyclic garbage collector paused during the timed call, once with "
                 "the default GC. Ops/s = operations in the graph / time. The pure-Python "
                 "floor is a reference, not a contestant: the same graph in an engine that "
                 "does nothing but the arithmetic, one object per operation "
                 "(benchmarks/bare.py)."),
        "columns": ["contestant", "median time", "best time", "scalar ops/s",
                    "time ratio (micrograd / this)", "status"],
        "table": table, "rows": [r.as_dict() for r in rows], "scalar_ops": n_ops,
        "summary": sentence,
        "targets": [
            _target("W1: ≥ 5× faster than micrograd, GC paused", off,
                    None if off is None else off >= 5),
            _target("W1: ≥ 10× faster than micrograd, default GC", on,
                    None if on is None else on >= 10)],
    }


# --------------------------------------------------------------------------- workload 2


def workload_2(settings: Settings) -> dict[str, Any]:
    sizes = [10**4, 10**5, 10**6]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for n in sizes:
        repeats = settings.chain_repeats if n < 10**6 else max(1, settings.chain_repeats - 1)
        for repeat in range(repeats):
            for library in scalar.LIBRARIES:
                record = results.setdefault((library, n), {"times": []})
                if record.get("survived") is False or record.get("missing"):
                    continue  # a failure is deterministic: do not repeat it
                outcome = scalar.run_child(["chain", library, str(n), "1"],
                                           timeout=600 if repeat == 0 else 300)
                if outcome.get("survived"):
                    record["survived"] = True
                    record["times"] += outcome["times"]
                    record["grad_ok"] = outcome["grad_ok"]
                else:
                    record.update({k: v for k, v in outcome.items() if k != "times"})
    limit = scalar.run_child(["limit", "micrograd", "10000"], timeout=600)
    table, rows = [], []
    for n in sizes:
        for library in scalar.LIBRARIES:
            record = results[(library, n)]
            median = statistics.median(record["times"]) if record["times"] else None
            record["seconds"] = median
            rows.append({"name": library, "ops": n, **record})
            if record.get("missing"):
                survived = f"missing: {record['reason']}"
            elif record.get("survived"):
                survived = "yes" + ("" if record.get("grad_ok") else " (wrong gradient!)")
            else:
                survived = f"no: {record.get('reason', '?')}"
            table.append([f"{n:,}", scalar.shown(library), survived, fmt_time(median),
                          "—" if median is None else f"{median / n * 1e6:.2f} µs"])
    ours = results[("autodiff", 10**6)]
    survives = bool(ours.get("survived")) and bool(ours.get("grad_ok"))
    per_op = ours["seconds"] / 10**6 * 1e6 if survives and ours.get("seconds") else None
    if limit.get("survived"):
        bound = ("no failure up to 10,000 ops" if not limit["bounded"] else
                 f"its backward fails beyond {limit['limit']:,} chained ops (Python's "
                 f"recursion limit {limit['recursion_limit']})")
    else:
        bound = f"its limit could not be measured ({limit.get('reason', '?')})"
    sentence = (f"autodiff {'survives' if survives else 'does NOT survive'} a chain of "
                f"10^6 scalar ops ({fmt_time(ours.get('seconds'))} build + backward); "
                f"micrograd: {bound}.")
    bare = results[("bare", 10**6)]
    if bare.get("survived") and bare.get("seconds"):
        bare_per_op = bare["seconds"] / 10**6 * 1e6
        sentence += (f" The pure-Python floor (benchmarks/bare.py) takes {bare_per_op:.2f} µs "
                     "per op at 10^6 ops, Python's default garbage collector walking the "
                     "growing graph as it does autodiff's.")
    return {
        "title": "Deep chain of scalar ops (each run in a child process)",
        "what": ("y ← y·0.999999 and y ← y + 1e-6 alternately, n ops from one leaf, then "
                 "backward; time covers building and backward, and the gradient is checked "
                 "against 0.999999^(n/2). micrograd's limit is found by bisection."),
        "columns": ["ops", "contestant", "survived", "median time", "time per op"],
        "table": table, "rows": rows, "micrograd_limit": limit, "summary": sentence,
        "targets": [_target("W2: 10^6 survives", float(survives), survives),
                    _target("W2: ≤ 1 µs per op at 10^6 ops (µs)", per_op,
                            None if per_op is None else per_op <= 1.0)],
    }


# --------------------------------------------------------------------------- workloads 3, 4


def _training_race(sizes, batch, dtype, settings, built, min_time=None) -> list[Row]:
    params = floor.init_params(sizes, dtype)
    x, y = floor.make_batch(sizes[0], sizes[-1], batch, dtype)

    def timed_step(instance):
        step = instance.trainer(params, LR)
        return lambda: step(x, y)

    return race(_contestants(built, timed_step), repeats=settings.repeats, warmup=settings.warmup,
                min_time=min_time or settings.min_time)


def _tensor_table(rows: list[Row], built, prefix: list[str]) -> list[list[str]]:
    reference = _find(rows, tensor.Floor.name)
    notes = {name: note for _, name, note in built}
    table = []
    for row in rows:
        row.extra["ratio_to_floor"] = _ratio(row, reference)
        row.extra["note"] = notes.get(row.name, "")
        table.append([*prefix, row.name, fmt_time(row.seconds),
                      fmt_time(min(row.times, default=None)),
                      fmt_ratio(row.extra["ratio_to_floor"]),
                      row.extra["note"] if row.status == "ok" else status_cell(row)])
    return table


def workload_3(settings: Settings, built) -> dict[str, Any]:
    sizes = [64, 128, 128, 10]
    table, configs = [], []
    for dtype in (np.float64, np.float32):
        for batch in (64, 512):
            quiet = wait_for_quiet(settings.max_wait)
            rows = _training_race(sizes, batch, dtype, settings, built)
            table += _tensor_table(rows, built, [str(batch), np.dtype(dtype).name])
            configs.append({"batch": batch, "dtype": np.dtype(dtype).name, "quiet_check": quiet,
                            "probe_after_us": blas_probe(), "rows": [r.as_dict() for r in rows]})
    main = next(c for c in configs if c["batch"] == 64 and c["dtype"] == "float64")
    single = next((c for c in configs if c["batch"] == 64 and c["dtype"] == "float32"), None)
    by_name = {r["name"]: r for r in main["rows"]}
    ours = by_name.get("autodiff", {})
    ratio = ours.get("ratio_to_floor")
    ratio32 = next((r.get("ratio_to_floor") for r in (single or {}).get("rows", [])
                    if r["name"] == "autodiff"), None)
    beaten = {}
    for peer in ("HIPS autograd", "torch eager"):
        other = by_name.get(peer, {})
        if ours.get("seconds") and other.get("seconds"):
            beaten[peer] = _ratio(Row(peer, seconds=other["seconds"], times=other["times"]),
                                  Row("autodiff", seconds=ours["seconds"], times=ours["times"]))
    parts = [f"at batch 64 float64 autodiff takes {fmt_ratio(ratio)} the floor's time "
             f"(target ≤ 1.1×: {'met' if ratio and ratio <= 1.1 else 'missed'})",
             f"at batch 64 float32 {fmt_ratio(ratio32)} "
             f"(target ≤ 1.2×: {'met' if ratio32 and ratio32 <= 1.2 else 'missed'})"]
    for peer, factor in beaten.items():
        parts.append(f"{'faster' if factor > 1 else 'slower'} than {peer} "
                     f"({peer} / autodiff = {factor:.2f}×)")
    targets = [_target("W3: ≤ 1.1× floor at batch 64 float64", ratio,
                       None if ratio is None else ratio <= 1.1),
               _target("W3: ≤ 1.2× floor at batch 64 float32", ratio32,
                       None if ratio32 is None else ratio32 <= 1.2)]
    for peer in ("HIPS autograd", "torch eager"):
        factor = beaten.get(peer)
        targets.append(_target(f"W3: faster than {peer} at batch 64 float64", factor,
                               None if factor is None else factor > 1))
    return {
        "title": "Tensor MLP training step 64-128-128-10 (ReLU, softmax cross-entropy)",
        "what": ("One SGD training step on a fixed batch: forward, mean cross-entropy, "
                 "backward (every weight and bias), update. The floor is hand-written numpy "
                 f"backprop; autodiff runs {built[1][2] or 'as available'}."),
        "columns": ["batch", "dtype", "contestant", "median step", "best step", "ratio to floor",
                    "note"],
        "table": table, "configs": configs, "summary": "; ".join(parts) + ".",
        "targets": targets,
    }


def workload_4(settings: Settings, built) -> dict[str, Any]:
    rows = _training_race([784, 1024, 1024, 10], 256, np.float32, settings, built,
                          min_time=max(settings.min_time, 0.5 if not settings.quick else 0.1))
    table = _tensor_table(rows, built, [])
    ours = _find(rows, "autodiff")
    ratio = ours.extra.get("ratio_to_floor") if ours else None
    ranking = sorted((r for r in rows if r.seconds), key=lambda r: r.seconds)
    place = next((i + 1 for i, r in enumerate(ranking) if r.name == "autodiff"), None)
    sentence = (f"On the large step autodiff takes {fmt_ratio(ratio)} the floor's time "
                f"(target ≤ 1.03×: {'met' if ratio and ratio <= 1.03 else 'missed'}), "
                f"place {place} of {len(ranking)} measured contestants.")
    return {
        "title": "Large training step 784-1024-1024-10, batch 256, float32",
        "what": "As workload 3 on a network where matrix products dominate.",
        "columns": ["contestant", "median step", "best step", "ratio to floor", "note"],
        "table": table, "rows": [r.as_dict() for r in rows], "summary": sentence,
        "targets": [_target("W4: ≤ 1.03× floor", ratio,
                            None if ratio is None else ratio <= 1.03)],
    }


# --------------------------------------------------------------------------- workload 5


def workload_5(settings: Settings, built) -> dict[str, Any]:
    length = 100
    ops = floor.chain_ops(length)
    x = np.linspace(-1.0, 1.0, 10)
    entries = _contestants(built, lambda instance: instance.chain(x, ops))
    rows = race(entries, repeats=settings.repeats, warmup=settings.warmup,
                min_time=settings.min_time)
    reference = _find(rows, tensor.Floor.name)
    table = []
    for row in rows:
        row.extra["us_per_op"] = row.seconds / length * 1e6 if row.seconds else None
        row.extra["ratio_to_floor"] = _ratio(row, reference)
        table.append([row.name, "—" if row.seconds is None else f"{row.extra['us_per_op']:.2f}",
                      fmt_ratio(row.extra["ratio_to_floor"]), status_cell(row)])
    engines = sorted((r for r in rows if r.seconds and r.name != tensor.Floor.name),
                     key=lambda r: r.seconds)
    lowest = bool(engines) and engines[0].name == "autodiff"
    ours = _find(rows, "autodiff")
    runner_up = next((r for r in engines if r.name != "autodiff"), None)
    ours_ratio = ours.extra.get("ratio_to_floor") if ours else None
    sentence = (f"autodiff costs {ours.extra.get('us_per_op') or float('nan'):.2f} µs per op "
                f"(forward+backward); "
                + ("the lowest of the engines" if lowest else "NOT the lowest of the engines")
                + (f" measured ({len(engines)} of {len(rows) - 1})"
                   if len(engines) < len(rows) - 1 else "")
                + (f" (next: {runner_up.name}, {runner_up.extra['us_per_op']:.2f} µs)"
                   if runner_up else "")
                + " — target: lowest except the floor: " + ("met." if lowest else "missed."))
    return {
        "title": "Per-op overhead: 100 elementwise ops on a 10-element float64 tensor",
        "what": ("×0.9, +0.1, tanh, sin repeated 25 times, then sum and backward to the input; "
                 "µs per op = (forward+backward time) / 100."),
        "columns": ["contestant", "µs per op", "ratio to floor", "status"],
        "table": table, "rows": [r.as_dict() for r in rows], "summary": sentence,
        "targets": [_target("W5: lowest per-op overhead except the floor",
                            ours.extra.get("us_per_op") if ours else None, lowest),
                    _target("W5: ≤ 2× the floor", ours_ratio,
                            None if ours_ratio is None else ours_ratio <= 2.0)],
    }


# --------------------------------------------------------------------------- workload 6


def workload_6(settings: Settings, built) -> dict[str, Any]:
    keys = list(memory.KEYS)
    names = {key: kind.name for key, kind in memory.KEYS.items()}
    peak = {key: memory.run_child("peak", key, settings.peak_steps) for key in keys}
    growth = {key: memory.run_child("growth", key, settings.growth_steps) for key in keys}
    table = []
    for key in keys:
        p, g = peak[key], growth[key]
        if p["status"] != "ok" and g["status"] != "ok":
            table.append([names[key], "—", "—", "—", f"{p['status']}: {p['reason']}"])
            continue
        table.append([
            names[key],
            f"{p['peak_mb']:.0f} MB" if p["status"] == "ok" else p["status"],
            f"{p['peak_mb'] - p['baseline_mb']:.0f} MB" if p["status"] == "ok" else "—",
            f"{g['growth_mb']:+.1f} MB" if g["status"] == "ok" else g["status"],
            "ok" if p["status"] == g["status"] == "ok" else
            f"{p.get('reason', '')} {g.get('reason', '')}".strip(),
        ])
    ours_p, ours_g = peak["autodiff"], growth["autodiff"]
    flat = ours_g["status"] == "ok" and ours_g["growth_mb"] < 5.0
    floor_p = peak["floor"]
    peak_ratio = ours_p["peak_mb"] / floor_p["peak_mb"] \
        if ours_p["status"] == floor_p["status"] == "ok" else None
    extra = (ours_p["peak_mb"] - ours_p["baseline_mb"]) if ours_p["status"] == "ok" else None
    floor_extra = (floor_p["peak_mb"] - floor_p["baseline_mb"]) if floor_p["status"] == "ok" \
        else None
    sentence = (f"Over {settings.peak_steps} large steps autodiff's resident memory peaks at "
                f"{ours_p['peak_mb']:.0f} MB against the floor's {floor_p['peak_mb']:.0f} MB "
                f"({peak_ratio:.2f}×, target ≤ 1.2×: {'met' if peak_ratio <= 1.2 else 'missed'}"
                f"), {extra:.0f} MB above its memory once the model and data exist (floor: "
                f"{floor_extra:.0f} MB; memory freed during setup and kept by the process counts "
                f"in the start); over "
                f"{settings.growth_steps:,} steps of workload 3 its memory grows by "
                f"{ours_g.get('growth_mb', float('nan')):+.1f} MB ("
                + ("flat" if flat else "NOT flat") + ").") \
        if extra is not None and peak_ratio is not None else \
        "autodiff's memory could not be measured."
    return {
        "title": "Memory (each contestant in its own child process)",
        "what": (f"Peak resident memory (process high-water mark, imports included) over "
                 f"{settings.peak_steps} steps of workload 4, and the same minus the memory "
                 f"once the model and data exist; growth of resident memory over "
                 f"{settings.growth_steps:,} steps of workload 3 (batch 64, float64) after "
                 "100 warm-up steps."),
        "columns": ["contestant", "peak RSS", "peak above start", "growth", "status"],
        "table": table, "peak": peak, "growth": growth, "summary": sentence,
        "targets": [_target(f"W6: flat memory over {settings.growth_steps} steps",
                            ours_g.get("growth_mb"), flat),
                    _target("W6: peak memory of workload 4 ≤ 1.2× the floor's", peak_ratio,
                            None if peak_ratio is None else peak_ratio <= 1.2)],
    }


# --------------------------------------------------------------------------- digits


def workload_7(settings: Settings, built) -> dict[str, Any]:
    images, labels, source = digits.load_digits()
    batches = digits.epoch_batches(images, labels)
    built = [*built, _build_one(tensor.NnBackprop)]
    entries = _contestants(built, lambda instance: digits.epoch_runner(instance, batches))
    rows = race(entries, repeats=settings.repeats, warmup=1, min_time=settings.min_time)
    table = _tensor_table(rows, built, [])
    for row, line in zip(rows, table, strict=True):
        row.extra["samples_per_second"] = len(labels) / row.seconds if row.seconds else None
        line.insert(3, "—" if not row.seconds else f"{row.extra['samples_per_second']:,.0f}")
    ours = _find(rows, "autodiff")
    ratio = ours.extra.get("ratio_to_floor") if ours else None
    delta_rule = _find(rows, tensor.NnBackprop.name)
    versus_delta_rule = _ratio(ours, delta_rule) if ours and delta_rule else None
    sentence = (f"autodiff trains one digits epoch at "
                f"{(ours.extra.get('samples_per_second') or 0):,.0f} samples/s, "
                f"{fmt_ratio(ratio)} the floor's time (target ≤ 1.3×: "
                f"{'met' if ratio and ratio <= 1.3 else 'missed'}) and "
                f"{fmt_ratio(versus_delta_rule)} the time of the project's own delta-rule "
                "backprop, nn.backprop.")
    return {
        "title": (f"Digits throughput: MLP {'-'.join(map(str, digits.SIZES))}, batch "
                  f"{digits.BATCH}, {np.dtype(digits.DTYPE).name}, one epoch"),
        "what": (f"One epoch of SGD over the {len(labels):,} digit images ({source}), "
                 "same shuffled batches for everyone; samples/s = images / epoch time."),
        "columns": ["contestant", "median epoch", "best epoch", "samples/s", "ratio to floor",
                    "note"],
        "table": table, "rows": [r.as_dict() for r in rows], "summary": sentence,
        "targets": [_target("Digits: ≤ 1.3× floor", ratio,
                            None if ratio is None else ratio <= 1.3)],
    }


# --------------------------------------------------------------------------- workload 9


def _joining(function_name: str, count: int) -> Contestant:
    """concatenate or stack `count` one-element Values, then backward to every one."""
    import autodiff

    join = getattr(autodiff, function_name)

    def make():
        leaves = [autodiff.Value(np.array([float(i)])) for i in range(count)]
        weights = np.arange(count, dtype=np.float64)

        def run():
            for leaf in leaves:
                leaf.grad = None
            (join(leaves).reshape(count) * weights).sum().backward()

        return run

    return Contestant(f"{function_name} of {count:,}", make)


def workload_9(settings: Settings) -> dict[str, Any]:
    sizes = [10**3, 10**4, 10**5]
    entries = [_joining(name, n) for name in ("concatenate", "stack") for n in sizes]
    rows = race(entries, repeats=max(3, settings.repeats // 3), warmup=1,
                min_time=settings.min_time)
    table = []
    per_input = {}
    for row in rows:
        name, count = row.name.split(" of ")
        n = int(count.replace(",", ""))
        per_input[(name, n)] = row.seconds / n * 1e6 if row.seconds else None
        row.extra["us_per_input"] = per_input[(name, n)]
        table.append([name, f"{n:,}", fmt_time(row.seconds),
                      "—" if not row.seconds else f"{per_input[(name, n)]:.2f} µs",
                      status_cell(row)])
    growth = {name: (per_input[(name, sizes[-1])] or 0) / (per_input[(name, sizes[0])] or 1)
              for name in ("concatenate", "stack")}
    linear = all(g <= 3.0 for g in growth.values())
    sentence = ("Cost per input from 10^3 to 10^5 inputs grows "
                + ", ".join(f"{g:.2f}× for {name}" for name, g in growth.items())
                + (" (linear: met)." if linear else " (NOT linear).")
                )
    return {
        "title": "Joining many Values: concatenate and stack of n one-element Values + backward",
        "what": ("n leaves of shape (1,), joined, weighted by 0..n−1, summed, backward; "
                 "a linear backward keeps the time per input flat as n grows."),
        "columns": ["function", "inputs", "median time", "per input", "status"],
        "table": table, "rows": [r.as_dict() for r in rows], "summary": sentence,
        "targets": [_target("W9: concatenate/stack backward linear in the inputs",
                            max(growth.values()), linear)],
    }


# --------------------------------------------------------------------------- workload 10


def _sine(spelling: str, backward: bool) -> Contestant:
    """`np.sin(v)` or `v.sin()` on a (10,) float64 Value, optionally with backward."""
    import autodiff

    def make():
        leaf = autodiff.Value(np.linspace(-1.0, 1.0, 10))
        seed = np.ones(10)
        sine = np.sin if spelling == "np.sin(v)" else autodiff.Value.sin

        if not backward:
            return lambda: sine(leaf)

        def run():
            leaf.grad = None
            sine(leaf).backward(seed)

        return run

    return Contestant(f"{spelling}{' + backward' if backward else ''}", make)


def _paired_difference(row: Row, reference: Row) -> float | None:
    """Median over repeats of (row's time − reference's time in the same repeat)."""
    if row.seconds is None or reference.seconds is None:
        return None
    if len(row.times) == len(reference.times):
        return statistics.median(a - b for a, b in zip(row.times, reference.times, strict=True))
    return row.seconds - reference.seconds


class _Bare:
    """numpy's override protocol alone: an object whose `__array_ufunc__` returns at once,
    and a method that does the same (what `np.sin(x)` costs before autodiff runs)."""

    __slots__ = ("__dict__", "__weakref__")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> None:
        return None

    def sin(self) -> None:
        return None


def _bare(spelling: str, beside_backward: bool = False) -> Contestant:
    """numpy's protocol alone, `np.sin(o)` or `o.sin()`; `beside_backward`: each call
    followed by `v.sin()` with backward, as in the forward + backward pair."""
    def make():
        bare = _Bare()
        alone = (lambda: np.sin(bare)) if spelling == "np.sin(o)" else (lambda: bare.sin())
        if not beside_backward:
            return alone
        sine = _sine("v.sin()", backward=True).make()

        def run():
            alone()
            sine()

        return run

    beside = " + v.sin() + backward" if beside_backward else ""
    return Contestant(f"{spelling}{beside} (protocol alone)", make)


def workload_10(settings: Settings) -> dict[str, Any]:
    pairs = [[_sine(spelling, backward) for spelling in ("v.sin()", "np.sin(v)")]
             for backward in (False, True)]
    pairs += [[_bare("o.sin()", beside), _bare("np.sin(o)", beside)]
              for beside in (False, True)]
    # Differences of under a microsecond between calls of 2 to 40 µs, on a machine whose
    # speed drifts: each pair races alone, its two spellings back to back and mirrored
    # (A B B A), in many short repeats whose paired differences give a settled median.
    rows = [row for pair in pairs
            for row in race(pair, repeats=settings.repeats if settings.quick
                            else max(61, 5 * settings.repeats),
                            warmup=max(100, settings.warmup),
                            min_time=min(settings.min_time, 0.03), mirrored=True)]
    passes = ("forward", "forward + backward", "numpy's protocol alone",
              "numpy's protocol alone, beside v.sin() + backward")
    us: dict[str, float | None] = {}  # each pass's paired difference, in µs
    table = []
    for index, pass_ in enumerate(passes):
        method, dispatched = rows[2 * index:2 * index + 2]
        difference = _paired_difference(dispatched, method)
        us[pass_] = dispatched.extra["extra_us"] = \
            None if difference is None else difference * 1e6
        for row in (method, dispatched):
            cost = "—" if row is method or us[pass_] is None else f"{us[pass_]:+.2f} µs"
            table.append([pass_, row.name.split(" (")[0].split(" + ")[0], fmt_time(row.seconds),
                          cost, status_cell(row)])
    # The target is the cost of the call itself: np.sin(v) against v.sin(), forward.
    per_call, protocol, with_backward, protocol_beside = (us[p] for p in passes)
    met = None if per_call is None else per_call <= 1.0
    sentence = (
        "numpy dispatch costs " + ("not measured" if per_call is None else f"{per_call:+.2f} µs")
        + " per call of np.sin(v) over v.sin()" + {True: " (target ≤ 1 µs: met)",
                                                   False: " (target ≤ 1 µs: NOT met)",
                                                   None: ""}[met] + "."
    )
    if protocol is not None:
        sentence += (f" numpy's override protocol alone (an object whose __array_ufunc__ "
                     f"returns at once) costs {protocol:+.2f} µs of that.")
    if with_backward is not None and protocol_beside is not None:
        sentence += (f" With backward after each call the difference is "
                     f"{with_backward:+.2f} µs, and numpy's protocol alone "
                     f"costs {protocol_beside:+.2f} µs in that same loop "
                     "(the same loop, without autodiff's dispatch): the extra is numpy's "
                     "protocol's, not the backward pass's.")
    return {
        "title": "numpy dispatch: np.sin(v) against v.sin() on a (10,) float64 Value",
        "what": ("The same operation spelled through numpy (`__array_ufunc__` and the op "
                 "table) and as the Value method, per call, forward only and with "
                 "`backward(ones)`; the extra cost is the median of per-repeat differences, "
                 "each pair timed alone and mirrored (A B B A). The last rows time numpy's "
                 "override protocol by itself, on an object whose `__array_ufunc__` does "
                 "nothing: alone, and beside the forward + backward of `v.sin()`."),
        "columns": ["pass", "spelling", "median time", "extra per call", "status"],
        "table": table, "rows": [r.as_dict() for r in rows], "summary": sentence,
        "targets": [_target("W10: np.sin(v) at most 1 µs slower per call than v.sin()",
                            per_call, met)],
    }


# --------------------------------------------------------------------------- dask


def workload_8(settings: Settings) -> dict[str, Any]:
    from . import dask_w8

    rows, numpy_rows = settings.w8_rows, settings.w8_numpy_rows
    repeats = 1 if settings.quick else 2
    chunk_rows = 1_000_000 if rows >= 10_000_000 else max(1, rows // 8)
    result = dask_w8.measure(rows, numpy_rows, chunk_rows, repeats)
    names = {"autodiff": "autodiff on Dask", "by hand": "Dask by hand",
             "numpy": "autodiff on numpy (in memory)"}
    table = []
    for kind, run in result["runs"].items():
        if run["status"] != "ok":
            table.append([names[kind], f"{run['rows']:,}", "—", "—", f"failed: {run['reason']}"])
            continue
        table.append([names[kind], f"{run['rows']:,}", fmt_time(run["median_s"]),
                      f"{run['peak_mb']:,.0f} MB", "ok"])
    ratio, peak = result["ratio"], result["peak_mb"]
    fast = ratio is not None and ratio <= 1.2
    small = peak is not None and peak <= 1536
    sentence = (f"autodiff's gradient over {rows:,} × 16 float64 on Dask takes "
                f"{fmt_ratio(ratio)} the hand-written Dask gradient's time (target ≤ 1.2×: "
                f"{'met' if fast else 'missed'}) with a {peak or 0:,.0f} MB peak (target "
                f"≤ 1.5 GB: {'met' if small else 'missed'}); the two gradients differ by at "
                f"most {result['max_abs_difference'] or float('nan'):.1e}.")
    return {
        "title": f"Logistic-regression gradient over {rows:,} × 16 float64 on Dask",
        "what": ("One gradient, autodiff.grad of mean(log(1 + e^z) − y·z) with z = X w, "
                 "against Xᵀ(σ(z) − y)/n written by hand in Dask, both on the threaded "
                 f"scheduler over data generated lazily in chunks of {chunk_rows:,} rows; numpy "
                 "in memory for reference. Each in its own process (peak = its resident high-water "
                 "mark); median of the repeats."),
        "columns": ["contestant", "rows", "median time", "peak RSS", "status"],
        "table": table, "result": result, "summary": sentence,
        "targets": [_target("W8: autodiff on Dask / Dask by hand ≤ 1.2×", ratio,
                            None if ratio is None else fast),
                    _target("W8: peak resident memory ≤ 1.5 GB (MB)", peak,
                            None if peak is None else small)],
    }


WORKLOADS = {1: workload_1, 2: workload_2, 3: workload_3, 4: workload_4, 5: workload_5,
             6: workload_6, 7: workload_7, 8: workload_8, 9: workload_9, 10: workload_10}
NEEDS_TENSOR = {3, 4, 5, 6, 7}


# --------------------------------------------------------------------------- report


def markdown(meta: dict[str, Any], results: dict[int, dict[str, Any]]) -> str:
    blas = ", ".join(
        f"{p.get('internal_api', '?')} {p.get('version', '')} ({p.get('num_threads', '?')} "
        f"threads, {p.get('architecture', '?')})" for p in meta["numpy_blas"]
        if p.get("user_api") == "blas") or "unknown"
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v)
    missing = ", ".join(k for k, v in meta["versions"].items() if not v)
    env = ", ".join(f"{k}={v}" for k, v in meta["environment"].items() if v is not None)
    lines = [
        "# autodiff benchmarks",
        "",
        f"- **Date:** {meta['date']}" + (f" (commit {meta['commit']})" if meta["commit"] else ""),
        f"- **Machine:** {meta['cpu']}, {meta['logical_cpus']} logical CPUs, "
        f"{meta['memory_gib']} GiB, {meta['os']}; load average at start "
        f"{' / '.join(map(str, meta.get('load_average', [])))} (1 / 5 / 15 min)",
        f"- **numpy BLAS:** {blas}; torch intra-op threads set to the same count",
        f"- **Versions:** {versions}" + (f"; not installed: {missing}" if missing else ""),
        f"- **Environment:** {env or 'no OPENBLAS_*/OMP/MKL/XLA variables set'}",
        f"- **Method:** {meta['method']}",
        "",
    ]
    targets = [t for r in results.values() for t in r.get("targets", [])]
    if targets:
        lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
        for t in targets:
            measured = "—" if t["measured"] is None else f"{t['measured']:.3g}"
            met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
            lines.append(f"| {t['target']} | {measured} | {met} |")
        lines.append("")
    for number, result in sorted(results.items()):
        lines += [f"## Workload {number}: {result['title']}", "", result["what"], ""]
        lines.append("| " + " | ".join(result["columns"]) + " |")
        lines.append("|" + "---|" * len(result["columns"]))
        for cells in result["table"]:
            lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        lines += ["", f"**Where autodiff stands:** {result['summary']}", ""]
        if "blas_probe_us" in result:
            before, after = result["blas_probe_us"]
            loads = result["load_average"]
            check = result.get("quiet_check", {})
            waited = ""
            if check.get("checked"):
                waited = (f" Waited {check['waited_s']} s for a quiet machine"
                          + ("." if check["quiet"] else ", in vain: measured on a busy one."))
            lines += [f"<sub>Machine gauge: BLAS probe {before} µs before, {after} µs after; "
                      f"1-min load average {loads['before'][0]} → {loads['after'][0]}."
                      f"{waited}</sub>", ""]
    return "\n".join(lines)


def blas_probe() -> float:
    """µs for one (64×128)·(128×128) float64 product, median of 5 runs of 50: a gauge of how
    much of the machine this process gets. Other load on a small machine stalls numpy's
    multi-threaded BLAS, and this product slows down by the same factor."""
    import time

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 128)), rng.standard_normal((128, 128))
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(50):
            a @ b
        runs.append((time.perf_counter() - start) / 50)
    return round(statistics.median(runs) * 1e6, 2)


def wait_for_quiet(max_wait: float) -> dict[str, Any]:
    """Wait (up to `max_wait` s) until numpy's BLAS runs at its single-thread speed or better.

    Another process holding a core makes every multi-threaded BLAS call wait for the
    scheduler (milliseconds instead of microseconds), while a single-threaded call only
    shares its core. So the gauge with the environment's threads, compared with the same
    product limited to one thread, tells a busy machine from a quiet one on any machine.
    Nothing about the measurement itself changes: the environment stays as it is.
    """
    import time

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return {"checked": False}
    start = time.perf_counter()
    while True:
        threaded = blas_probe()
        with threadpool_limits(limits=1):
            single = blas_probe()
        quiet = threaded <= 2 * single
        waited = time.perf_counter() - start
        if quiet or waited >= max_wait:
            return {"checked": True, "quiet": quiet, "waited_s": round(waited, 1),
                    "probe_us": threaded, "single_thread_probe_us": single}
        time.sleep(3)


def _load() -> list[float]:
    import os

    return [round(x, 2) for x in os.getloadavg()]


def _limit_threads(count: int) -> None:
    """numpy's BLAS, OpenMP and torch limited to `count` threads, in this process and in
    the child processes it starts."""
    import os

    if count < 1:
        raise SystemExit("--threads must be at least 1")
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(count)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SystemExit(install_hint("threadpoolctl", "--threads")) from None
    threadpool_limits(limits=count)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="autodiff against micrograd, HIPS autograd, "
        "PyTorch and JAX, side by side in one run.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and shorter runs (a smoke run, not for quoting)")
    parser.add_argument("--workload", "-w", type=int, action="append", choices=sorted(WORKLOADS),
                        help="run only this workload (repeatable); 7 is the digits throughput")
    parser.add_argument("--repeats", "-r", type=int, help="timed repeats per contestant")
    parser.add_argument("--out", help="results name under benchmarks/results/ (default: "
                        "'latest' for a full run, 'partial' otherwise)")
    parser.add_argument("--threads", type=int,
                        help="limit numpy's BLAS (and so torch) to this many threads; default: "
                        "as the environment has it, as CI runs")
    parser.add_argument("--max-wait", type=float, default=None,
                        help="seconds to wait for a quiet machine before each workload "
                        "(default 120, quick 10)")
    parser.add_argument("--no-write", action="store_true", help="print only, write no files")
    parser.add_argument("--w8-rows", type=lambda s: int(float(s)), default=None,
                        help="rows of workload 8's Dask data (default 1e8; quick 2e6)")
    parser.add_argument("--w8-numpy-rows", type=lambda s: int(float(s)), default=None,
                        help="rows of workload 8's numpy reference (default 2e7; quick 1e6)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quick = args.quick
    settings = Settings(
        repeats=args.repeats or (3 if quick else 15), min_time=0.05 if quick else 0.1,
        warmup=1 if quick else 3, chain_repeats=1 if quick else 3,
        growth_steps=500 if quick else 2000, peak_steps=10 if quick else 50, quick=quick,
        max_wait=args.max_wait if args.max_wait is not None else (10 if quick else 120),
        w8_rows=args.w8_rows or (2_000_000 if quick else 100_000_000),
        w8_numpy_rows=args.w8_numpy_rows or (1_000_000 if quick else 20_000_000))
    if settings.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    chosen = sorted(set(args.workload or WORKLOADS))
    if args.threads is not None:
        _limit_threads(args.threads)
    meta = describe()
    meta["method"] = (
        f"every contestant of a workload interleaved in one process run (order rotated per "
        f"repeat), {settings.warmup} warm-up calls, {settings.repeats} timed repeats of "
        f"≥ {settings.min_time} s each; the median time is reported, and ratios are medians "
        f"of per-repeat ratios" + (" (quick mode)" if quick else ""))
    meta["settings"] = {**vars(settings), "threads": args.threads}
    built = _tensor_contestants() if NEEDS_TENSOR & set(chosen) else []
    if built:
        meta["torch_threads"] = next(
            (i.torch.get_num_threads() for i, n, _ in built if i and n == "torch eager"), None)
        meta["autodiff_path"] = built[1][2]
    results: dict[int, dict[str, Any]] = {}
    for number in chosen:
        print(f"[workload {number}] running...", file=sys.stderr, flush=True)
        function = WORKLOADS[number]
        results_quiet = wait_for_quiet(settings.max_wait)
        load_before, probe_before = _load(), blas_probe()
        results[number] = (function(settings) if number in (1, 2, 8, 9, 10)
                           else function(settings, built))
        results[number]["load_average"] = {"before": load_before, "after": _load()}
        results[number]["blas_probe_us"] = [probe_before, blas_probe()]
        results[number]["quiet_check"] = results_quiet
    report = markdown(meta, results)
    print(report)
    if not args.no_write:
        name = args.out or ("latest" if not quick and not args.workload else "partial")
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"{name}.md").write_text(report + "\n")
        payload = {"meta": meta, "workloads": {str(k): v for k, v in results.items()}}
        (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
        print(f"wrote benchmarks/results/{name}.md and .json", file=sys.stderr)
    return 0
