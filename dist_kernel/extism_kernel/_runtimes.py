"""The runtime registry: engine-free facts about the host's WebAssembly runtimes.

The names, the environment variable that picks the default, the log-level table, and a lazy
factory. Importing this module imports no engine; `new_runtime` imports the one asked for and
turns a missing package into `MissingDependencyError` naming the extra to install.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from extism_kernel._errors import MissingDependencyError, UnknownRuntimeError

if TYPE_CHECKING:
    from extism_kernel.host._runtime_api import Runtime

RuntimeName = Literal["wasmtime", "pywasm", "wasm3"]
RUNTIMES: tuple[RuntimeName, ...] = ("wasmtime", "pywasm", "wasm3")
DEFAULT_RUNTIME: RuntimeName = "wasmtime"
RUNTIME_ENV = "EXTISM_KERNEL_RUNTIME"  # the runtime of a `Plugin` created without `runtime=`

# runtime name -> (module of its adapter, class, the package it needs, the extra that brings it)
_ADAPTERS: dict[str, tuple[str, str, str, str]] = {
    "wasmtime": ("extism_kernel.host._runtime_wasmtime", "WasmtimeRuntime", "wasmtime", "host"),
    "pywasm": ("extism_kernel.host._runtime_pywasm", "PywasmRuntime", "pywasm", "pywasm"),
    "wasm3": ("extism_kernel.host._runtime_wasm3", "Wasm3Runtime", "wasm3", "wasm3"),
}

TRACE = 5  # Python has no TRACE level: just below DEBUG
LOG_LEVEL_OFF = 2**31 - 1  # what `get_log_level` returns when logging is off (i32::MAX)


@dataclass(frozen=True)
class LogLevel:
    """One Extism log level: its name, Python's level for it, and Extism's number for it."""

    name: str
    python: int
    extism: int


# Extism's levels, lowest first; "off" is above every level a plugin can log at.
LOG_LEVELS: tuple[LogLevel, ...] = (
    LogLevel("trace", TRACE, 0),
    LogLevel("debug", logging.DEBUG, 1),
    LogLevel("info", logging.INFO, 2),
    LogLevel("warn", logging.WARNING, 3),
    LogLevel("error", logging.ERROR, 4),
    LogLevel("off", logging.CRITICAL + 10, LOG_LEVEL_OFF),
)
LOG_LEVEL_NAMES = tuple(level.name for level in LOG_LEVELS)


def log_level(name: str) -> LogLevel:
    """The log level called `name`; `ValueError` listing the names when unknown."""
    for level in LOG_LEVELS:
        if level.name == name:
            return level
    msg = f"log level `{name}`: expected one of {', '.join(LOG_LEVEL_NAMES)}"
    raise ValueError(msg)


def default_runtime() -> str:
    """The runtime of a `Plugin` made without `runtime=`: `$EXTISM_KERNEL_RUNTIME` or wasmtime."""
    return os.environ.get(RUNTIME_ENV) or DEFAULT_RUNTIME


def new_runtime(name: str | None = None) -> Runtime:
    """A fresh runtime object of the named implementation (its engine imported on use).

    Raises `UnknownRuntimeError` (a `ValueError`) for an unknown name and
    `MissingDependencyError` when the engine's package is not installed.
    """
    name = name or default_runtime()
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        msg = f"runtime `{name}`: expected one of {', '.join(RUNTIMES)}"
        raise UnknownRuntimeError(msg)
    module_name, class_name, package, extra = adapter
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name != package:
            raise
        msg = f"runtime `{name}` needs {package}: pip install 'extism-kernel[{extra}]'"
        raise MissingDependencyError(msg) from None
    runtime: Runtime = getattr(module, class_name)()
    return runtime
