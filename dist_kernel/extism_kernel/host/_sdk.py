"""The official Python SDK's module-level API, for code that moves to this host unchanged.

    import extism_kernel.host as extism

`Error` (every error this package raises), `Function` (an explicit host function), log set-up
(`set_log_file`, `set_log_custom`) and `extism_version`. The SDK configures libextism's global
logger; here the same calls configure the Python logger every `Plugin` logs to by default
(`extism_kernel.plugin`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal

from extism_kernel._abi import ValType
from extism_kernel._errors import ExtismKernelError
from extism_kernel._runtimes import log_level
from extism_kernel.host._user_functions import HostFunction, host_fn

Error = ExtismKernelError  # `except extism.Error` catches every failure, as with the SDK
PLUGIN_LOGGER = "extism_kernel.plugin"
DEFAULT_LEVEL = "error"  # libextism's, when no level is given
Level = Literal["trace", "debug", "info", "warn", "error"]

_installed: list[logging.Handler] = []


def _install(handler: logging.Handler, level: str | None) -> None:
    """Make `handler` the one SDK-configured handler of the plugin logger, at `level`."""
    logger = logging.getLogger(PLUGIN_LOGGER)
    for old in _installed:
        logger.removeHandler(old)
        old.close()
    _installed[:] = [handler]
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(log_level(level or DEFAULT_LEVEL).python)


def set_log_file(file: str, level: Level | None = None) -> None:
    """Send plugin logs at `level` and above to `file` (`stdout` and `stderr` mean the streams)."""
    streams = {"stdout": sys.stdout, "stderr": sys.stderr}
    handler: logging.Handler
    if file in streams:
        handler = logging.StreamHandler(streams[file])
    else:
        handler = logging.FileHandler(file, encoding="utf-8")
    _install(handler, level)


class CustomLogger(logging.Handler):
    """Buffers plugin log lines until `drain()` hands each one to the callback."""

    def __init__(self, callback: Callable[[str], Any]) -> None:
        super().__init__(logging.NOTSET)
        self.callback = callback
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one formatted line."""
        self.lines.append(self.format(record))

    def drain(self) -> None:
        """Call the callback with every buffered line, oldest first, and forget them."""
        lines, self.lines = self.lines, []
        for line in lines:
            self.callback(line)


def set_log_custom(f: Callable[[str], Any], level: Level | None = None) -> CustomLogger:
    """Buffer plugin logs at `level` and above; `drain()` on the result passes them to `f`."""
    logger = CustomLogger(f)
    _install(logger, level)
    return logger


def extism_version() -> str:
    """The version of this host (the `extism-kernel` package)."""
    from extism_kernel import __version__  # noqa: PLC0415  # the package imports this module

    return __version__


def Function(  # noqa: N802  # the SDK's class name, its argument order
    namespace: str | None,
    name: str,
    args: Sequence[ValType],
    returns: Sequence[ValType],
    f: Callable[..., Any],
    *user_data: Any,  # noqa: ANN401
) -> HostFunction:
    """An explicit-signature host function, as the SDK's `Function(...)` makes one.

    `f(current_plugin, params, results, *user_data)` sets `results[i].value`. Unlike
    `@host_fn`, it is not added to the registry.
    """
    from extism_kernel.host._user_functions import HOST_FN_REGISTRY  # noqa: PLC0415

    before = len(HOST_FN_REGISTRY)
    fn = host_fn(name, namespace, (args, returns), list(user_data) or None)(f)
    del HOST_FN_REGISTRY[before:]
    return fn
