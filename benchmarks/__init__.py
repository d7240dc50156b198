"""Side-by-side benchmarks of `autodiff` against the systems users would pick instead.

Run `python -m benchmarks` (see benchmarks/README.md). Every workload times all of its
contestants interleaved in one process run, several repeats after a warm-up, and reports
the median and the ratio to the reference (the hand-written numpy floor, or the fastest).
"""
