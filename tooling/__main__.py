"""`python -m tooling <command>`: the maintainer's entry points (build, codegen, checks)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from extism_kernel._errors import ExtismKernelError

from tooling import codegen, publish_check, rust_web
from tooling.kernel_build import KernelBuildError, build_kernel
from tooling.mutation import cli as mutation_cli
from tooling.toolchain import ToolchainNotFoundError

FAILURES = (ToolchainNotFoundError, KernelBuildError, ExtismKernelError, rust_web.RustWebError)


def _build(_args: argparse.Namespace) -> int:
    info = build_kernel()
    for kernel in info.variants.values():
        print(f"built {kernel.file}: {kernel.size} bytes, sha256 {kernel.sha256}")
    return 0


def _codegen(args: argparse.Namespace) -> int:
    return codegen.main(check=args.check)


def _rust_web_check(_args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="extism-kernel-rust-web-") as tmp:
        return rust_web.check(Path(tmp))


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": _build,
    "codegen": _codegen,
    "publish_check": publish_check.run,
    "mutate": mutation_cli.run,
    "rust_web_check": _rust_web_check,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tooling")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the kernel into dist_kernel/extism_kernel/")
    gen = sub.add_parser("codegen", help="regenerate files derived from abi.json")
    gen.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    publish_check.add_arguments(
        sub.add_parser("publish_check", help="upload to an index, install from it, run it")
    )
    mutation_cli.add_arguments(
        sub.add_parser("mutate", help="plant the catalogue's bugs one by one; are they caught?")
    )
    sub.add_parser(
        "rust_web_check",
        help="build with Debian's rustc-web (a current Rust), check it, run the suite on it",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a tooling command; errors are printed as `error: …` with exit code 1."""
    args = _parser().parse_args(argv)
    try:
        return HANDLERS[args.command](args)
    except FAILURES as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
