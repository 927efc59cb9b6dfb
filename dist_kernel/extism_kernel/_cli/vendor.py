"""`extism-kernel vendor DEST`: copy the kernel into another SDK's tree; `--check` it is current."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from extism_kernel._kernel import UnknownVariantError
from extism_kernel._vendor import LOCK_FILE, check_vendored, vendor

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `vendor` subcommand."""
    parser = sub.add_parser(
        "vendor",
        help="write the kernel into another SDK's tree (extism-runtime.wasm), or --check it",
        description="Write each chosen kernel variant as extism-runtime[-VARIANT].wasm, abi.json"
        f" and {LOCK_FILE} into DEST. With --check, compare DEST with this package instead:"
        " exit 0 when it matches, 1 on a difference, 2 when DEST or its lock is unreadable.",
    )
    parser.add_argument("dest", type=Path, metavar="DEST", help="the directory to write or check")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="a kernel variant to write (repeatable; default: the default variant)",
    )
    parser.add_argument(
        "--check", action="store_true", help="check DEST against its lock and this package"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    """Vendor or check; 1 when a checked directory differs, 2 on unreadable input."""
    if args.check:
        if args.variant:
            return _error("--check reads the variants from DEST's lock: drop --variant")
        return _check(args.dest, as_json=args.json)
    try:
        written, removed = vendor(args.dest, args.variant)
    except UnknownVariantError as exc:
        return _error(str(exc))
    if args.json:
        files = [{"path": str(w.path), "size": w.size, "sha256": w.sha256} for w in written]
        report = {"dest": str(args.dest), "written": files, "removed": list(map(str, removed))}
        print(json.dumps(report, indent=2))
        return 0
    for w in written:
        print(f"wrote {w.path} ({w.size} bytes, sha256 {w.sha256})")
    for path in removed:
        print(f"removed {path} (no longer vendored)")
    return 0


def _check(dest: Path, *, as_json: bool) -> int:
    result = check_vendored(dest)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    elif result.ok:
        pinned = ", ".join(f"{k.file} sha256 {k.sha256}" for k in result.kernels.values())
        print(
            f"{dest}: matches extism-kernel {result.version} (ABI {result.abi_version}): {pinned}"
        )
    else:
        more = len(result.differences) - 1
        suffix = f" (and {more} more; --json lists them all)" if more else ""
        print(f"{result.differences[0]}{suffix}")
    return 0 if result.ok else 1
