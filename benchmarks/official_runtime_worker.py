"""Worker of `python -m benchmarks.official_runtime`: times plugin calls through the `extism` SDK.

Started with one libextism package first on `PYTHONPATH` (the official one, or a copy with our
kernel inside). Reads `PLUGIN_PATH INPUT_BYTES CALLS` lines on stdin and answers each with the
seconds that many calls took (and the last output's length, as a check), until stdin closes.
The plugin and its input are made once per line; only the calls are timed.
"""

from __future__ import annotations

import sys
import time
from functools import cache

import extism

CONFIG = {"vowels": "aeiouAEIOU"}
TEXT = b"Hello, World! The quick brown fox jumps over the lazy dog. "


@cache
def plugin(path: str) -> extism.Plugin:
    """One plugin instance per path (warm after its first call), as an application keeps it."""
    return extism.Plugin({"wasm": [{"path": path}], "config": CONFIG}, functions=[])


def payload(size: int) -> bytes:
    """`size` bytes of text with vowels in it."""
    return (TEXT * (size // len(TEXT) + 1))[:size]


def main() -> int:
    """Answer timing requests until stdin closes."""
    for line in sys.stdin:
        path, function, size, calls = line.split()
        instance, data = plugin(path), payload(int(size))
        out = b""
        start = time.perf_counter()
        for _ in range(int(calls)):
            out = instance.call(function, data)
        elapsed = time.perf_counter() - start
        print(f"{elapsed} {len(out)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
