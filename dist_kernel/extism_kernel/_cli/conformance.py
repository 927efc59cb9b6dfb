"""`extism-kernel conformance`: run the conformance suite on the reference host, print a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._conformance import export_suite
from extism_kernel._runtimes import RUNTIMES
from extism_kernel.host._conformance_runner import run_suite

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `conformance` subcommand."""
    parser = sub.add_parser(
        "conformance",
        help="run the ABI conformance suite on the reference host",
        description="Run every case of the shipped conformance suite (plugins + cases.json) on"
        " the reference host and print a pass/fail table. Exit 0 when all pass, 1 when one"
        " fails, 2 when the kernel file is unreadable or not wasm. --export writes the compiled"
        " plugins and cases.json for a host in another language (see docs/conformance.md).",
    )
    parser.add_argument(
        "--kernel", type=Path, help="run on this kernel module (default: the shipped kernel)"
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help="the host's WebAssembly runtime (default: $EXTISM_KERNEL_RUNTIME or wasmtime;"
        " pywasm: pure Python, slow; wasm3: C interpreter)",
    )
    parser.add_argument("-k", dest="select", help="only cases whose name contains this text")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--export", type=Path, metavar="DIR", help="write the plugins (.wasm) and cases.json to DIR"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run (or export) the suite; 1 when a case fails."""
    if args.export is not None:
        for path in export_suite(args.export):
            print(path)
        return 0
    kernel = args.kernel.read_bytes() if args.kernel is not None else None
    name = str(args.kernel) if args.kernel is not None else "extism-kernel"
    report = run_suite(kernel, kernel_name=name, select=args.select, runtime=args.runtime)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render(), end="")
    return 0 if report.ok else 1
