"""`extism-kernel abi-diff OLD NEW`: breaking and additive changes between two ABIs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._abi_diff import diff_abi, load_surface

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `abi-diff` subcommand."""
    parser = sub.add_parser(
        "abi-diff",
        help="compare two ABIs (spec files, kernel modules or wheels)",
        description="List breaking changes (removed export or host function, changed type)"
        " and additive ones. Exit 0 when nothing breaks, 1 on a breaking change (unless"
        " --allow-major and NEW's version is a major bump), 2 when an input is unreadable.",
    )
    parser.add_argument("old", type=Path, help="the old ABI: abi.json, a kernel .wasm or a wheel")
    parser.add_argument("new", type=Path, help="the new ABI: abi.json, a kernel .wasm or a wheel")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--old-version", help="version of OLD (a wheel carries its own)")
    parser.add_argument("--new-version", help="version of NEW (a wheel carries its own)")
    parser.add_argument(
        "--allow-major",
        action="store_true",
        help="exit 0 on breaking changes when NEW's version is a major bump over OLD's",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Diff the two ABIs and print the report; 1 on a breaking change."""
    old = load_surface(args.old, version=args.old_version)
    new = load_surface(args.new, version=args.new_version)
    diff = diff_abi(old, new)
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print(diff.render(), end="")
    if diff.breaking and not (args.allow_major and diff.major_bump):
        return 1
    return 0
