"""Test plugins of the host suite: WAT sources in tests/plugins/, compiled once per session.

Each plugin file is a module whose `;; @include pdk.wat` line is replaced by `pdk.wat`, the
helpers a PDK would link in (input/output through the kernel, a bump allocator, itoa).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import wasmtime

PLUGINS = Path(__file__).resolve().parent / "plugins"
INCLUDE = ";; @include pdk.wat"
KERNELS = ("ours", "official")


@cache
def wat_source(name: str) -> str:
    """The complete WAT text of plugin `name` (tests/plugins/<name>.wat)."""
    text = (PLUGINS / f"{name}.wat").read_text(encoding="utf-8")
    return text.replace(INCLUDE, (PLUGINS / "pdk.wat").read_text(encoding="utf-8"))


@cache
def plugin_wasm(name: str) -> bytes:
    """Plugin `name` compiled to wasm bytes."""
    return bytes(wasmtime.wat2wasm(wat_source(name)))
