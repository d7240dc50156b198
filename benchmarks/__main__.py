"""`python -m benchmarks`: run the benchmark harness."""

from .run import main

raise SystemExit(main())
