"""The reference host: run Extism plugins on the kernel, from Python, on wasmtime, pywasm or wasm3.

    >>> from extism_kernel.host import Plugin
    >>> with Plugin(open("count_vowels.wasm", "rb").read()) as plugin:
    ...     plugin.call("count_vowels", "hello world")

Needs the `host` extra (`pip install 'extism-kernel[host]'`, which brings wasmtime), or the
`pywasm` extra for `Plugin(..., runtime="pywasm")`, the pure-Python runtime, or the `wasm3` extra
for `Plugin(..., runtime="wasm3")`, a C interpreter (docs/runtimes.md).
The API is the official `extism` Python SDK's (everything in its `__all__`: code written for it
runs after `import extism_kernel.host as extism`), plus `kernel=` to run on any kernel bytes,
`runtime=` and `Manifest`; see docs/host.md.
"""

from __future__ import annotations

from extism_kernel._abi import ValType
from extism_kernel._errors import (
    LinkError,
    ManifestError,
    PluginError,
    UnknownRuntimeError,
    UnsupportedFeatureError,
)
from extism_kernel.host._manifest import Manifest, MemoryLimits, WasmSource
from extism_kernel.host._plugin import CancelHandle, Plugin
from extism_kernel.host._sdk import (
    CustomLogger,
    Error,
    Function,
    extism_version,
    set_log_custom,
    set_log_file,
)
from extism_kernel.host._user_functions import (
    Codec,
    CurrentPlugin,
    HostFunction,
    Json,
    Memory,
    Pickle,
    Val,
    host_fn,
)

__all__ = [
    "CancelHandle",
    "Codec",
    "CurrentPlugin",
    "CustomLogger",
    "Error",
    "Function",
    "HostFunction",
    "Json",
    "LinkError",
    "Manifest",
    "ManifestError",
    "Memory",
    "MemoryLimits",
    "Pickle",
    "Plugin",
    "PluginError",
    "UnknownRuntimeError",
    "UnsupportedFeatureError",
    "Val",
    "ValType",
    "WasmSource",
    "extism_version",
    "host_fn",
    "set_log_custom",
    "set_log_file",
]
