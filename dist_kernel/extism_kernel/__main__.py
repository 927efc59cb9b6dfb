"""`python -m extism_kernel` is the `extism-kernel` command."""

from extism_kernel._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
