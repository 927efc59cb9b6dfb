"""`extism-kernel info`: the package version, ABI version, rustc, and each kernel variant."""

from __future__ import annotations

import argparse
import json

from extism_kernel import __version__, build_info, kernel_path, kernel_sha256, load_abi


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `info` subcommand."""
    parser = sub.add_parser("info", help="describe the kernels shipped in this package")
    parser.add_argument("--json", action="store_true", help="print a JSON object")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the package's facts, then one block per kernel variant (the default first)."""
    info = build_info()
    spec = load_abi()
    facts: dict[str, object] = {
        "version": __version__,
        "abi_version": spec.abi_version,
        "rustc": info.rustc,
        "optimizer": info.optimizer,
    }
    variants = {
        name: {
            "sha256": kernel_sha256(name),
            "size": info.variants[name].size,
            "path": str(kernel_path(name)),
            "exports": list(spec.variant(name).exports),
            "features": list(spec.variant(name).features),
        }
        for name in spec.variant_names
    }
    if args.json:
        print(json.dumps({**facts, "variants": variants}, indent=2))
        return 0
    width = max(len(k) for k in (*facts, *next(iter(variants.values()))))
    for key, value in facts.items():
        print(f"{key:<{width}}  {value}")
    for name, variant in variants.items():
        print(f"\nvariant {name}{' (default)' if name == spec.variant_names[0] else ''}")
        for key, value in variant.items():
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            print(f"  {key:<{width}}  {shown or '-'}")
    return 0
