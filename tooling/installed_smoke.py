"""Run inside a fresh environment by the publish check: where the package comes from, and a call.

    python installed_smoke.py PLUGIN.wat IMPORTS_MARKER PAYLOAD host|no-host

Prints one JSON object: the installed package's file, the environment's purelib, and `host`:
"ok" when the installed reference host echoed PAYLOAD through the plugin, else why not. Imports
only the installed package and the standard library (never this repository).
"""

from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path

import extism_kernel


def _plugin_wasm(wat_text: str, marker: str) -> bytes:
    """The smoke plugin with its kernel imports generated from the installed ABI spec."""
    import wasmtime  # noqa: PLC0415  # the host extra brings it

    imports = extism_kernel.load_abi().wat_imports()
    return bytes(wasmtime.wat2wasm(wat_text.replace(marker, imports, 1)))


def main(argv: list[str]) -> int:
    """Print where the package is installed and the result of the host smoke call."""
    wat_path, marker, payload, host = argv[1], argv[2], argv[3].encode(), argv[4]
    out = {"file": extism_kernel.__file__, "purelib": sysconfig.get_paths()["purelib"]}
    if host == "no-host":
        out["host"] = "skipped: --no-host"
    else:
        from extism_kernel.host import Plugin  # noqa: PLC0415

        wasm = _plugin_wasm(Path(wat_path).read_text(encoding="utf-8"), marker)
        got = Plugin(wasm).call("echo", payload)
        out["host"] = "ok" if got == payload else f"echo returned {got!r}, expected {payload!r}"
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
