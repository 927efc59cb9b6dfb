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
        description="Check each import from the kernel module (and the legacy 0.x module), list"
        " the user host imports, the WASI imports and the callable exports. Exit 0 when the"
        " plugin links, 1 when it has errors, 2 when it is not wasm.",
    )
    parser.add_argument("plugin", type=Path, help="the plugin module (.wasm)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the plugin and print the report; 1 when it has errors."""
    path: Path = args.plugin
    report = check_plugin(path.read_bytes(), source=str(path))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.render(), end="")
    return 0 if report.ok else 1
