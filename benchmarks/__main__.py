"""`python -m benchmarks` (from the repository root): see benchmarks/run.py."""

from benchmarks.run import main

raise SystemExit(main())
