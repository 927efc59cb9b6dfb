"""The builtin host functions of `extism:host/env`: config, vars, HTTP and logging.

Runtime-neutral: each builtin is a plain function `(env, *args) -> int | None` that reaches the
kernel only through `env.kernel` (alloc, free, length, read_block, new_block). The Python name of
each function is its ABI spec name, so the registry `BUILTINS` is keyed by spec name without
repeating a name as text; a test asserts that its keys equal the spec's host functions.
Semantics follow the Rust runtime (ABI-FACTS.md section 2): the host frees every handle it is
given, returns new blocks the plugin owns, and fails the call (rc -1) on a bad handle.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from extism_kernel._errors import HostFunctionError
from extism_kernel._runtimes import LOG_LEVEL_OFF, LOG_LEVELS, TRACE
from extism_kernel.host._http import FetchError, fetch

VAR_ENTRY_OVERHEAD = 48  # what the Rust runtime counts per entry (a String and a Vec<u8>)
_REQUEST_KEYS = {"url", "headers", "method"}


class Kernel(Protocol):
    """What the builtins need from a bound kernel (see `KernelExports`)."""

    def alloc(self, n: int) -> int: ...
    def free(self, handle: int) -> None: ...
    def length(self, handle: int) -> int: ...
    def read_block(self, handle: int) -> bytes: ...
    def new_block(self, data: bytes) -> int: ...
    def read(self, offset: int, n: int) -> bytes: ...
    def write(self, offset: int, data: bytes) -> None: ...


@dataclass(frozen=True)
class HostSettings:
    """What the builtins of one plugin are allowed to do: fixed for the plugin's life."""

    config: Mapping[str, str] = field(default_factory=dict)
    max_var_bytes: int = 1024 * 1024
    allowed_hosts: tuple[str, ...] | None = None
    max_http_response_bytes: int = 50 * 1024 * 1024
    http_response_headers: bool = False
    logger: logging.Logger = field(
        default_factory=lambda: logging.getLogger("extism_kernel.plugin")
    )


@dataclass
class HostEnv:
    """The state the builtins of one plugin instance share; made with the instance's kernel.

    Vars live as long as the instance: a call to `_start` makes a new instance, and so a new
    `HostEnv`, as the Rust runtime resets its store.
    """

    kernel: Kernel
    settings: HostSettings
    deadline: float | None = None  # time.monotonic() at which the current call times out
    host_context: Any = None  # the running call's `host_context` (CurrentPlugin.host_context)
    vars: dict[str, bytes] = field(default_factory=dict)
    var_bytes: int = 0  # the store's size as counted against max_var_bytes: kept, never re-summed
    http_status: int = 0
    http_headers: dict[str, str] = field(default_factory=dict)


def _key(env: HostEnv, handle: int, what: str) -> str:
    """Read a UTF-8 key block; 0 is the empty key, a handle that is no block is an error."""
    if not handle:
        return ""
    data = env.kernel.read_block(handle)  # a live block is never empty (alloc(0) is 0)
    if not data:
        msg = f"invalid handle offset for {what}: {handle}"
        raise HostFunctionError(msg)
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        msg = f"{what} at handle {handle} is not UTF-8: {exc}"
        raise HostFunctionError(msg) from None


def config_get(env: HostEnv, key: int) -> int:
    """Return the config value of `key` as a new block (0 if missing or empty); free `key`."""
    name = _key(env, key, "config key")
    env.kernel.free(key)
    return env.kernel.new_block(env.settings.config.get(name, "").encode())


def var_get(env: HostEnv, key: int) -> int:
    """Return the var `key` as a new block (0 if missing or empty); free `key`."""
    name = _key(env, key, "var key")
    env.kernel.free(key)
    return env.kernel.new_block(env.vars.get(name, b""))


def var_set(env: HostEnv, key: int, value: int) -> None:
    """Set var `key` to the bytes of block `value` (0 removes it); free both handles.

    Raises `HostFunctionError` when vars are disabled (`max_var_bytes` 0), a handle is not a
    block, or the store would exceed `max_var_bytes` (counted as the Rust runtime does).
    """
    if env.settings.max_var_bytes == 0:
        msg = "vars are disabled by this host (`max_var_bytes` is 0)"
        raise HostFunctionError(msg)
    name = _key(env, key, "var key")
    if not value:
        old = env.vars.pop(name, None)
        if old is not None:
            env.var_bytes -= _var_size(name, old)
        env.kernel.free(key)
        return
    data = env.kernel.read_block(value)
    if not data:
        msg = f"invalid handle offset for var value: {value}"
        raise HostFunctionError(msg)
    size = _var_size(name, data) + env.var_bytes  # the replaced entry counts, as in Rust
    limit = env.settings.max_var_bytes
    if size > limit:
        msg = f"variable store is full: {size} bytes is over `max_var_bytes` {limit}"
        raise HostFunctionError(msg)
    old = env.vars.get(name)
    env.var_bytes = size - (0 if old is None else _var_size(name, old))
    env.vars[name] = data
    env.kernel.free(value)
    env.kernel.free(key)


def _var_size(name: str, data: bytes) -> int:
    """What one var counts against `max_var_bytes`, as the Rust runtime counts it."""
    return VAR_ENTRY_OVERHEAD + len(name) + len(data)


def host_allowed(host: str, allowed: tuple[str, ...] | None) -> bool:
    """Whether `host` matches one of the `allowed_hosts` globs (none means deny all).

    `*` matches any run of characters, dots included, as the Rust runtime's glob does, so
    `*.example.com` matches `a.b.example.com` but not `example.com`.
    """
    return any(fnmatch.fnmatchcase(host, pattern) or host == pattern for pattern in allowed or ())


def _parse_request(env: HostEnv, handle: int) -> tuple[str, str, dict[str, str]]:
    text = env.kernel.read_block(handle)
    if not text:
        msg = f"invalid handle offset for http request: {handle}"
        raise HostFunctionError(msg)
    try:
        req = json.loads(text)
    except ValueError as exc:
        msg = f"http request: invalid JSON: {exc}"
        raise HostFunctionError(msg) from None
    if not isinstance(req, dict) or not isinstance(req.get("url"), str):
        msg = "http request: expected an object with a string `url`"
        raise HostFunctionError(msg)
    unknown = sorted(set(req) - _REQUEST_KEYS)
    if unknown:
        msg = f"http request: unknown key `{unknown[0]}`"
        raise HostFunctionError(msg)
    headers = req.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        msg = "http request: `headers` must map strings to strings"
        raise HostFunctionError(msg)
    method = req.get("method") or "GET"
    if not isinstance(method, str):
        msg = "http request: `method` must be a string"
        raise HostFunctionError(msg)
    return req["url"], method.upper(), headers


def http_request(env: HostEnv, request: int, body: int) -> int:
    """Perform the request described by the JSON block `request`; return the body as a block.

    The body (block `body`, if non-zero) is sent as is. Non-2xx statuses are not errors; the
    status and headers are kept for `http_status_code` and `http_headers`. Frees both handles.
    Raises `HostFunctionError` on bad JSON, a host not in `allowed_hosts`, a transport
    error, a timeout, or a response over `max_http_response_bytes`.
    """
    env.http_status = 0
    env.http_headers = {}
    url, method, headers = _parse_request(env, request)
    env.kernel.free(request)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"invalid url `{url}`"
        raise HostFunctionError(msg)
    if not host_allowed(parts.hostname, env.settings.allowed_hosts):
        msg = f"http request to `{url}` is not allowed"
        raise HostFunctionError(msg)
    data = env.kernel.read_block(body) if body else None
    if body:
        env.kernel.free(body)
    timeout = None if env.deadline is None else env.deadline - time.monotonic()
    req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    allowed = env.settings.allowed_hosts
    try:
        response = fetch(
            req,
            timeout_s=timeout,
            limit=env.settings.max_http_response_bytes,
            allowed=lambda host: host_allowed(host, allowed),
        )
    except FetchError as exc:
        message = str(exc)
        if message == "timeout" or message.startswith("response exceeds"):
            msg = message if message == "timeout" else f"http {message}"
        else:
            msg = f"http request to `{url}` failed: {message}"
        raise HostFunctionError(msg) from None
    env.http_status = response.status
    env.http_headers = response.headers
    payload = response.body
    return env.kernel.new_block(payload)


def http_status_code(env: HostEnv) -> int:
    """Status of the last `http_request` (0 before any, or after a transport error)."""
    return env.http_status


def http_headers(env: HostEnv) -> int:
    """Headers of the last response as a JSON object block; 0 unless enabled for the plugin."""
    if not env.settings.http_response_headers:
        return 0
    return env.kernel.new_block(json.dumps(dict(sorted(env.http_headers.items()))).encode())


def _log(env: HostEnv, level: int, message: int) -> None:
    enabled = env.settings.logger.isEnabledFor(level)
    if enabled:
        text = env.kernel.read_block(message)
        if message and not text:
            msg = f"invalid handle offset for log message: {message}"
            raise HostFunctionError(msg)
        env.settings.logger.log(level, "%s", text.decode(errors="replace"))
    env.kernel.free(message)


def log_trace(env: HostEnv, message: int) -> None:
    """Log block `message` at TRACE (Python level 5); free it."""
    _log(env, TRACE, message)


def log_debug(env: HostEnv, message: int) -> None:
    """Log block `message` at DEBUG; free it."""
    _log(env, logging.DEBUG, message)


def log_info(env: HostEnv, message: int) -> None:
    """Log block `message` at INFO; free it."""
    _log(env, logging.INFO, message)


def log_warn(env: HostEnv, message: int) -> None:
    """Log block `message` at WARNING; free it."""
    _log(env, logging.WARNING, message)


def log_error(env: HostEnv, message: int) -> None:
    """Log block `message` at ERROR; free it."""
    _log(env, logging.ERROR, message)


def get_log_level(env: HostEnv) -> int:
    """The plugin logger's level as Extism numbers it: 0 trace .. 4 error, i32::MAX when off."""
    level = env.settings.logger.getEffectiveLevel()
    return next((lv.extism for lv in LOG_LEVELS if level <= lv.python), LOG_LEVEL_OFF)


Builtin = Callable[..., "int | None"]

BUILTINS: dict[str, Builtin] = {
    f.__name__: f
    for f in (
        config_get,
        var_get,
        var_set,
        http_request,
        http_status_code,
        http_headers,
        log_trace,
        log_debug,
        log_info,
        log_warn,
        log_error,
        get_log_level,
    )
}
