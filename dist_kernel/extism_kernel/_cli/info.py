"""`extism-kernel info`: version, sha256, size, ABI version and rustc of the shipped kernel."""

from __future__ import annotations

import argparse
import json

from extism_kernel import __version__, build_info, kernel_sha256, load_abi


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `info` subcommand."""
    parser = sub.add_parser("info", help="describe the kernel shipped in this package")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the kernel's facts."""
    info = build_info()
    facts = {
        "version": __version__,
        "sha256": kernel_sha256(),
        "size": info.size,
        "abi_version": load_abi().abi_version,
        "rustc": info.rustc,
        "optimizer": info.optimizer,
    }
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        width = max(len(k) for k in facts)
        for key, value in facts.items():
            print(f"{key:<{width}}  {value}")
    return 0
