"""`extism-kernel check-plugin PLUGIN.wasm`: will a plugin link against a host of the ABI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._plugin_check import check_plugin

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `check-plugin` subcommand."""
    parser = sub.add_parser(
        "check-plugin",
        help="check a plugin's imports against the ABI spec and list what the host must provide",
        description="Sort every import by who provides it (the kernel, the Extism builtins, the"
        " host author, WASI, or nobody), check those from the kernel module (and the legacy 0.x"
        " module) against the ABI, and say in one line what a host needs. Exit 0 when every"
        " plugin links, 1 when one has errors, 2 when a file is not wasm.",
    )
    parser.add_argument("plugins", nargs="+", type=Path, help="plugin modules (.wasm)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the report as JSON (an array of reports for several files)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check each plugin and print its report; 1 when any has errors."""
    paths: list[Path] = args.plugins
    reports = [check_plugin(path.read_bytes(), source=str(path)) for path in paths]
    if args.json:
        data = [r.to_json() for r in reports]
        print(json.dumps(data if len(data) > 1 else data[0], indent=2))
    else:
        print("\n".join(r.render() for r in reports), end="")
    return 0 if all(r.ok for r in reports) else 1
