"""`python -m tooling build|codegen|publish_check`: the maintainer's entry points."""

from __future__ import annotations

import argparse
import sys

from extism_kernel._errors import ExtismKernelError

from tooling import codegen, publish_check
from tooling.kernel_build import KernelBuildError, build_kernel
from tooling.mutation import cli as mutation_cli
from tooling.toolchain import ToolchainNotFoundError


def main(argv: list[str] | None = None) -> int:
    """Run a tooling command; errors are printed as `error: …` with exit code 1."""
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
    args = parser.parse_args(argv)
    if args.command == "publish_check":
        return publish_check.run(args)
    if args.command == "mutate":
        return mutation_cli.run(args)
    try:
        if args.command == "build":
            info = build_kernel()
            for kernel in info.variants.values():
                print(f"built {kernel.file}: {kernel.size} bytes, sha256 {kernel.sha256}")
            return 0
        return codegen.main(check=args.check)
    except (ToolchainNotFoundError, KernelBuildError, ExtismKernelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
