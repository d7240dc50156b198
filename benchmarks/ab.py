"""A/B timing of two checkouts of this project, side by side in one run.

    python -m benchmarks.ab --base /tmp/base --head . [--threads 1] [--repeats 15]
                            [--workloads 1,3,5] [--json PATH]

What it measures: workloads 1, 3 and 5 of `benchmarks/run.py`, built from the very same
definitions (`benchmarks.scalar`, `benchmarks.floor`, `benchmarks.contestants`), once with
the `autodiff` and `nn` of the *base* checkout and once with those of the *head* checkout:

* **W1** — micrograd's moons demo on scalar Values: MLP 2-16-16-1 on 16 points, forward of
  the loss (mean hinge loss + 1e-4·Σθ²), zero the grads, backward. Measured twice: with
  the cyclic GC on (the default, as `run.py` measures it) and with the GC disabled during
  the timed calls (the graph is still freed by reference counting; the difference between
  the two rows is what the collector costs).
* **W3** — one SGD training step of a 64-128-128-10 ReLU MLP with mean softmax
  cross-entropy through `nn.MLP`, `nn.cross_entropy`, `nn.SGD` (zero_grad, backward,
  step), batch 64, float64 and float32.
* **W5** — per-op overhead: ×0.9, +0.1, tanh, sin repeated to 100 ops on a 10-element
  float64 Value, sum, backward; reported in µs per op (call time / 100).

How: each checkout runs in its own long-lived child process (`sys.executable`, working
directory and PYTHONPATH set to the checkout, so it imports that checkout's `autodiff`
and `nn`; the workload code itself always comes from this harness, so both sides run
identical benchmark code). With `--threads N` each child gets OPENBLAS/OMP/MKL_NUM_THREADS=N
and threadpoolctl limits its BLAS to N as well. The parent asks the children, over JSON
lines on their stdin/stdout, to "run workload X for k calls"; only one child runs at a
time, and the two alternate within every repeat (order swapped each repeat), so a burst of
load elsewhere on the machine falls on both. Each child warms up first (3 calls), then
estimates its time per call; k is chosen from the faster side so that one repeat lasts at
least 0.1 s on both sides, and the same k is used for both. As in `run.py`, each timed
batch of k calls starts with `gc.collect()` and runs with the GC enabled (except the W1
"gc off" row). The first call's result (loss, or the gradient's sum for W5) is compared
between the sides, so that a fast but wrong engine is flagged.

How to read it: "base" and "head" are the median time per call over the repeats (µs per
op for W5). "head/base" is the median of the per-repeat ratios head time / base time —
below 1 means head is faster. Pairing the two sides within a repeat cancels slow drifts
in machine load, so this ratio is steadier than a ratio of the two medians. "min–max" is
the range of the per-repeat ratios and "head faster" counts the repeats in which head
won. A difference is real when the count is near all (or none) of the repeats, the range
stays mostly on one side of 1, and it repeats in a second run; on a busy 2-core machine a
median within several percent of 1 can be noise. Run base against itself (`--head` the
same path as `--base`) to see the noise floor of the machine at that moment; `--pin CPU`
puts both children on one core, so that they at least share the same core's contention.
The raw repeat times are written with `--json PATH`. Exit status 0 when every row was
measured, 1 if a child failed (its error is printed, naming the checkout), 2 on bad
arguments.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS_PACKAGE = Path(__file__).resolve().parent  # this harness's `benchmarks` directory
SIDES = ("base", "head")
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
CHAIN_LENGTH = 100  # W5: ops per call

# The child's entry point. With `-c`, sys.path[0] is the working directory (the checkout),
# so `autodiff` and `nn` come from there; `benchmarks` is registered from this harness's
# directory before anything imports it, so the benchmark code is the same on both sides.
_BOOT = """\
import importlib.util, sys
package = sys.argv[1]
spec = importlib.util.spec_from_file_location(
    "benchmarks", package + "/__init__.py", submodule_search_locations=[package])
module = importlib.util.module_from_spec(spec)
sys.modules["benchmarks"] = module
spec.loader.exec_module(module)
from benchmarks.ab import child_main
raise SystemExit(child_main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Spec:
    """One row of the report: a workload state (`key`, built once per child) timed one way."""

    workload: int
    key: str
    label: str
    gc_off: bool = False
    ops: int = 0  # > 0: also report time per op (W5)


SPECS = [
    Spec(1, "w1", "W1 moons MLP 2-16-16-1, 16 pts — gc on"),
    Spec(1, "w1", "W1 moons MLP 2-16-16-1, 16 pts — gc off in timed calls", gc_off=True),
    Spec(3, "w3-float64", "W3 train step 64-128-128-10, batch 64, float64"),
    Spec(3, "w3-float32", "W3 train step 64-128-128-10, batch 64, float32"),
    Spec(5, "w5", "W5 per-op chain, 100 ops on 10 float64 (per op)", ops=CHAIN_LENGTH),
]


# --------------------------------------------------------------------------- child side


def _as_float(out: Any) -> float:
    """A number summarising a workload's result (loss value, or sum of a gradient)."""
    import numpy as np

    data = getattr(out, "data", out)
    return float(np.sum(np.asarray(data, dtype=np.float64)))


def _build(key: str):
    """The callable to time for `key`, from the shared benchmark definitions."""
    import numpy as np

    from benchmarks import contestants, floor, scalar
    from benchmarks.run import LR

    if key == "w1":
        return scalar.mlp_contestant("autodiff").make()
    if key.startswith("w3-"):
        dtype = np.dtype(key[3:])
        sizes = [64, 128, 128, 10]
        params = floor.init_params(sizes, dtype)
        x, y = floor.make_batch(sizes[0], sizes[-1], 64, dtype)
        step = contestants.Autodiff(use_nn=True).trainer(params, LR)
        return lambda: step(x, y)
    if key == "w5":
        x = np.linspace(-1.0, 1.0, 10)
        return contestants.Autodiff(use_nn=False).chain(x, floor.chain_ops(CHAIN_LENGTH))
    raise ValueError(f"unknown workload key {key!r}")


def _hello(checkout: Path, threads: int) -> dict[str, Any]:
    """Import the checkout's packages (and check they are the checkout's) and limit threads."""
    import numpy as np

    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    import autodiff
    import nn

    where = {}
    for module in (autodiff, nn):
        path = Path(module.__file__).resolve()
        if checkout not in path.parents:
            raise ImportError(f"{module.__name__} was imported from {path}, not from {checkout}")
        where[module.__name__] = str(path)
    try:
        from threadpoolctl import threadpool_info

        blas = sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
    except ImportError:
        blas = []
    return {"ok": True, "pid": os.getpid(), "numpy": np.__version__, "blas_threads": blas,
            **where}


def _serve(request: dict[str, Any], steps: dict[str, Any]) -> dict[str, Any]:
    command = request["cmd"]
    if command == "setup":
        key = request["key"]
        step = steps[key] = _build(key)
        check = _as_float(step())  # the first call's result, compared between the sides
        for _ in range(max(0, request["warmup"] - 1)):
            step()
        gc.collect()
        calls, start = 0, time.perf_counter()
        while True:  # estimate the time per call over at least `probe` seconds
            step()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= request["probe"]:
                break
        return {"ok": True, "check": check, "once": elapsed / calls}
    if command == "time":
        step, calls = steps[request["key"]], request["calls"]
        gc.collect()
        if request["gc_off"]:
            gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(calls):
                step()
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        return {"ok": True, "seconds": elapsed / calls}
    raise ValueError(f"unknown command {command!r}")


def child_main(argv: list[str]) -> int:
    """Serve requests (one JSON object per line on stdin, one answer per line on stdout)."""
    checkout, threads = Path(argv[0]).resolve(), int(argv[1])
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed by the code under test goes to stderr, not the protocol

    def send(message: dict[str, Any]) -> None:
        answers.write(json.dumps(message) + "\n")
        answers.flush()

    try:
        send(_hello(checkout, threads))
    except BaseException:
        send({"ok": False, "fatal": True, "error": traceback.format_exc()})
        return 1
    steps: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["cmd"] == "quit":
            return 0
        try:
            send(_serve(request, steps))
        except Exception:
            send({"ok": False, "error": traceback.format_exc()})
    return 0


# --------------------------------------------------------------------------- parent side


class ChildError(Exception):
    """A child failed: `fatal` when the process is gone (or unusable), else one request."""

    def __init__(self, message: str, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


class Child:
    """One checkout measured in its own long-lived process."""

    def __init__(self, side: str, checkout: Path, threads: int | None, timeout: float,
                 pin: int | None = None) -> None:
        self.side, self.checkout, self.timeout = side, checkout, timeout
        self.dead: str | None = None
        env = os.environ.copy()
        env["PYTHONPATH"] = str(checkout)
        if threads:
            env.update({name: str(threads) for name in THREAD_VARIABLES})
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(HARNESS_PACKAGE), str(checkout), str(threads or 0)],
            cwd=checkout, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.stderr, text=True, bufsize=1,
            preexec_fn=None if pin is None else lambda: os.sched_setaffinity(0, {pin}))
        self.hello = self._read()

    @property
    def name(self) -> str:
        return f"{self.side} checkout ({self.checkout})"

    def _stderr_tail(self, lines: int = 25) -> str:
        self.stderr.seek(0)
        text = self.stderr.read().decode(errors="replace").rstrip()
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, what: str) -> ChildError:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        code = self.process.returncode
        status = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        tail = self._stderr_tail()
        self.dead = f"{self.name}: {what} ({status})" + (f"\n{tail}" if tail else "")
        return ChildError(self.dead, fatal=True)

    def _read(self) -> dict[str, Any]:
        ready, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        if not ready:
            raise self._fail(f"no answer within {self.timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise self._fail("the child process crashed")
        try:
            answer = json.loads(line)
        except ValueError:
            raise self._fail(f"garbled answer {line[:200]!r}") from None
        if not answer.get("ok"):
            error = answer.get("error", "?").rstrip()
            if answer.get("fatal"):
                self.process.wait(timeout=self.timeout)
                self.dead = f"{self.name} failed to start:\n{error}"
                raise ChildError(self.dead, fatal=True)
            raise ChildError(f"{self.name} failed:\n{error}", fatal=False)
        return answer

    def ask(self, **request: Any) -> dict[str, Any]:
        if self.dead:
            raise ChildError(f"skipped: {self.name} is no longer running (see the first error)",
                             fatal=True)
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._fail("the child process is gone") from None
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.stderr.close()


@dataclass
class Result:
    spec: Spec
    calls: int = 0
    times: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    check: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def ratios(self) -> list[float]:
        return [h / b for b, h in zip(self.times["base"], self.times["head"], strict=False)]

    def as_dict(self) -> dict[str, Any]:
        ratios = self.ratios()
        medians = {s: statistics.median(t) if t else None for s, t in self.times.items()}
        return {
            "workload": self.spec.workload, "key": self.spec.key, "label": self.spec.label,
            "gc_off": self.spec.gc_off, "ops_per_call": self.spec.ops or None,
            "calls_per_repeat": self.calls, "check": self.check, "error": self.error,
            "times": self.times, "median_seconds": medians, "ratios": ratios,
            "median_ratio": statistics.median(ratios) if ratios else None,
        }


def _same(a: float, b: float, key: str) -> bool:
    tolerance = 1e-4 if key.endswith("float32") else 1e-7
    return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def measure(children: dict[str, Child], spec: Spec, args: argparse.Namespace,
            setups: dict[tuple[str, str], dict[str, Any]]) -> Result:
    result = Result(spec)
    once = {}
    for side in SIDES:
        if (side, spec.key) not in setups:
            setups[side, spec.key] = children[side].ask(
                cmd="setup", key=spec.key, warmup=args.warmup, probe=args.min_time / 2)
        once[side] = setups[side, spec.key]["once"]
        result.check[side] = setups[side, spec.key]["check"]
    result.calls = max(1, math.ceil(args.min_time / max(min(once.values()), 1e-9)))
    for repeat in range(args.repeats):
        for side in SIDES if repeat % 2 == 0 else SIDES[::-1]:
            answer = children[side].ask(cmd="time", key=spec.key, calls=result.calls,
                                        gc_off=spec.gc_off)
            result.times[side].append(answer["seconds"])
    return result


def fmt_time(seconds: float | None, ops: int = 0) -> str:
    if seconds is None:
        return "—"
    if ops:
        return f"{seconds / ops * 1e6:.2f} µs/op"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def git_state(path: Path) -> str:
    """Short commit of a checkout, and whether autodiff/ or nn/ differ from it (read-only)."""
    def git(*words: str) -> str:
        done = subprocess.run(["git", "--no-optional-locks", *words], cwd=path,
                              capture_output=True, text=True, timeout=30)
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "autodiff", "nn")
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    if not commit:
        return "not a git checkout"
    return commit + (" + uncommitted changes in autodiff/ or nn/" if dirty else "")


def report(meta: dict[str, Any], results: list[Result]) -> str:
    lines = [
        "# A/B: head against base", "",
        *(f"- **{side}:** `{meta[side]['path']}` ({meta[side]['git']}); autodiff from "
          f"`{meta[side].get('autodiff', '?')}`, BLAS threads {meta[side].get('blas_threads')}"
          for side in SIDES),
        f"- **Threads:** {meta['threads_note']}",
        f"- **Method:** {meta['method']}",
        f"- **Load average** (1 min) {meta['load_before'][0]} at start, "
        f"{meta['load_after'][0]} at end; {meta['elapsed_s']} s in all",
        "",
        "| workload | base | head | head/base (median) | min–max | head faster | "
        "calls × repeats | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        spec, ratios = result.spec, result.ratios()
        if result.error or not ratios:
            text = (result.error or "not measured").strip().splitlines()
            cell = text[0] if len(text) == 1 else f"{text[0]} … {text[-1]}"
            cell = cell.replace("|", "/")
            lines.append(f"| {spec.label} | — | — | — | — | — | — | failed: {cell} |")
            continue
        note = ""
        if not _same(result.check["base"], result.check["head"], spec.key):
            note = (f"**results differ**: base {result.check['base']:.9g}, "
                    f"head {result.check['head']:.9g}")
        wins = sum(r < 1 for r in ratios)
        lines.append(
            f"| {spec.label} | {fmt_time(statistics.median(result.times['base']), spec.ops)} "
            f"| {fmt_time(statistics.median(result.times['head']), spec.ops)} "
            f"| {statistics.median(ratios):.3f}× | {min(ratios):.3f}–{max(ratios):.3f}× "
            f"| {wins}/{len(ratios)} | {result.calls} × {len(ratios)} | {note} |")
    lines += ["", "head/base below 1 means head is faster; see `python -m benchmarks.ab --help` "
              "and the module docstring for how to read the spread."]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ab",
        description="Time workloads 1, 3 and 5 on two checkouts side by side in one run "
        "(each in its own child process, interleaved repeat by repeat).")
    parser.add_argument("--base", required=True, type=Path, help="checkout to compare against")
    parser.add_argument("--head", required=True, type=Path, help="checkout being measured")
    parser.add_argument("--threads", type=int, help="limit each child's BLAS/OpenMP threads to N")
    parser.add_argument("--repeats", "-r", type=int, default=15, help="timed repeats (15)")
    parser.add_argument("--workloads", "-w", default="1,3,5",
                        help="comma-separated subset of 1,3,5 (default: all)")
    parser.add_argument("--min-time", type=float, default=0.1,
                        help="seconds one repeat lasts at least, on both sides (0.1)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up calls per side (3)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for any one answer of a child (600)")
    parser.add_argument("--pin", type=int, metavar="CPU",
                        help="run both children on this one CPU (Linux sched_setaffinity)")
    parser.add_argument("--json", type=Path, help="also write the raw repeat times here")
    args = parser.parse_args(argv)
    try:
        args.workloads = sorted({int(w) for w in args.workloads.split(",") if w.strip()})
    except ValueError:
        parser.error(f"--workloads: not a list of numbers: {args.workloads!r}")
    if not args.workloads or not set(args.workloads) <= {1, 3, 5}:
        parser.error("--workloads takes a subset of 1,3,5")
    if args.repeats < 1 or args.warmup < 1 or args.min_time <= 0:
        parser.error("--repeats and --warmup must be at least 1, --min-time positive")
    if args.pin is not None and args.pin not in os.sched_getaffinity(0):
        parser.error(f"--pin {args.pin}: not one of the CPUs this process may use")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    for side in SIDES:
        path = getattr(args, side).resolve()
        if not (path / "autodiff" / "__init__.py").is_file():
            parser.error(f"--{side} {path}: no autodiff package there")
        setattr(args, side, path)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "threads": args.threads, "repeats": args.repeats, "min_time": args.min_time,
        "warmup": args.warmup, "python": sys.executable,
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "pin": args.pin,
        "threads_note": (f"{args.threads} per child ({', '.join(THREAD_VARIABLES)} and "
                         "threadpoolctl)" if args.threads else
                         "as the environment has them (no --threads)"),
        "method": (f"one child process per checkout, {args.warmup} warm-up calls, "
                   f"{args.repeats} repeats of ≥ {args.min_time} s per side, sides alternated "
                   "(order swapped each repeat), same calls per repeat on both sides, "
                   "gc.collect() before each repeat"
                   + (f", both children pinned to CPU {args.pin}" if args.pin is not None
                      else "")),
    }
    for side in SIDES:
        meta[side] = {"path": str(getattr(args, side)), "git": git_state(getattr(args, side))}
    children: dict[str, Child] = {}
    failures: list[str] = []
    results: list[Result] = []
    try:
        for side in SIDES:
            print(f"[ab] starting the {side} child in {getattr(args, side)}", file=sys.stderr)
            try:
                children[side] = Child(side, getattr(args, side), args.threads, args.timeout,
                                       args.pin)
                meta[side].update({k: v for k, v in children[side].hello.items() if k != "ok"})
            except ChildError as error:
                print(f"\n[ab] ERROR: {error}", file=sys.stderr)
                return 1
        setups: dict[tuple[str, str], dict[str, Any]] = {}
        for spec in (s for s in SPECS if s.workload in args.workloads):
            print(f"[ab] {spec.label}", file=sys.stderr, flush=True)
            try:
                results.append(measure(children, spec, args, setups))
            except ChildError as error:
                results.append(Result(spec, error=str(error)))
                if not str(error).startswith("skipped: "):
                    failures.append(f"{spec.label}: {error}")
                    text = str(error).strip().splitlines()
                    print(f"[ab] ERROR: {text[0]}" + (f" … {text[-1]}" if len(text) > 1 else ""),
                          file=sys.stderr, flush=True)
    finally:
        for child in children.values():
            child.close()
    meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
    meta["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(report(meta, results))
    if failures:
        print("\n## Errors\n", *(f"\n```\n{text}\n```" for text in failures), sep="")
    if args.json:
        payload = {"meta": meta, "rows": [r.as_dict() for r in results]}
        args.json.write_text(json.dumps(payload, indent=1, default=str) + "\n")
        print(f"[ab] wrote {args.json}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
