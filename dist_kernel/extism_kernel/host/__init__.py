"""The reference host: run Extism plugins on the kernel, from Python, on wasmtime or pywasm.

    >>> from extism_kernel.host import Plugin
    >>> with Plugin(open("count_vowels.wasm", "rb").read()) as plugin:
    ...     plugin.call("count_vowels", "hello world")

Needs the `host` extra (`pip install 'extism-kernel[host]'`, which brings wasmtime), or the
`pywasm` extra for `Plugin(..., runtime="pywasm")`, the pure-Python runtime (docs/runtimes.md).
The API follows the official `extism` Python SDK (Plugin, host_fn, CurrentPlugin, Manifest),
plus a `kernel=` keyword to run on any kernel bytes; see docs/host.md.
"""

from __future__ import annotations

from extism_kernel._errors import (
    LinkError,
    ManifestError,
    PluginError,
    UnknownRuntimeError,
    UnsupportedFeatureError,
)
from extism_kernel.host._manifest import Manifest, MemoryLimits, WasmSource
from extism_kernel.host._plugin import CancelHandle, Plugin
from extism_kernel.host._user_functions import CurrentPlugin, HostFunction, Val, host_fn

__all__ = [
    "CancelHandle",
    "CurrentPlugin",
    "HostFunction",
    "LinkError",
    "Manifest",
    "ManifestError",
    "MemoryLimits",
    "Plugin",
    "PluginError",
    "UnknownRuntimeError",
    "UnsupportedFeatureError",
    "Val",
    "WasmSource",
    "host_fn",
]
