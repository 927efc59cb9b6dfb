"""`extism-kernel check-kernel KERNEL.wasm`: is a module a valid kernel for the ABI spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._abi import load_abi
from extism_kernel._check import check_kernel

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check-kernel` subcommand."""
    parser = sub.add_parser(
        "check-kernel",
        help="check a kernel module's exports against the ABI spec",
        description="Report every missing export, wrong type, extra export (a warning) and import."
        " Exit 0 when the kernel is valid, 1 when it has errors, 2 when it is not wasm.",
    )
    parser.add_argument("kernel", type=Path, help="the kernel module (.wasm)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="treat exports the spec does not name as errors, and check the variant's exports"
        " (the default variant unless --variant names another)",
    )
    parser.add_argument(
        "--variant",
        choices=load_abi().variant_names,
        help="require the optional exports this kernel variant has, and no other variant's",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the kernel and print the report; 1 when it has errors."""
    path: Path = args.kernel
    report = check_kernel(
        path.read_bytes(), source=str(path), strict=args.strict, variant=args.variant
    )
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render(), end="")
    return 0 if report.ok else 1
