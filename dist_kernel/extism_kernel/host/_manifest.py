"""The Extism manifest: where the wasm comes from, config, limits, allowed hosts and paths.

Runtime-neutral: parsing only, no wasm engine. Keys and defaults follow the Extism 1.x manifest
(`manifest/schema.json`): unknown keys are errors, `data` is base64 in JSON but may be raw bytes in
a dict (as the official Python SDK accepts), `hash` is a lowercase sha256, and module names follow
the Rust runtime (one entry is always `main`; otherwise the entry named `main`, else the last).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from extism_kernel._errors import ManifestError, UnreadablePluginError
from extism_kernel.host._http import FetchError, fetch

MAIN_MODULE = "main"
DEFAULT_MAX_VAR_BYTES = 1024 * 1024
DEFAULT_MAX_HTTP_RESPONSE_BYTES = 50 * 1024 * 1024
WASM_MAGIC = b"\0asm"
WAT_PREFIXES = (b"(module", b";;", b"(;")
URL_TIMEOUT_S = 30.0  # one deadline for a whole `url` download: connect, headers, body
MAX_MODULE_BYTES = 256 * 1024 * 1024  # the largest module a `url` may download
MAX_PAGES = 65536  # a 32-bit memory's 4 GiB
MAX_TIMEOUT_MS = int(threading.TIMEOUT_MAX * 1000)  # the longest wait Python's timers allow
READ_ONLY_PREFIX = "ro:"

_TOP_KEYS = {"wasm", "memory", "config", "allowed_hosts", "allowed_paths", "timeout_ms"}
_WASM_KEYS = {"path", "data", "url", "headers", "method", "name", "hash"}
_MEMORY_KEYS = {"max_pages", "max_http_response_bytes", "max_var_bytes"}


@dataclass(frozen=True)
class WasmSource:
    """One module of a manifest, already loaded: its bytes, its link name and where it came from."""

    data: bytes
    name: str | None = None
    origin: str = "data"


@dataclass(frozen=True)
class MemoryLimits:
    """The `memory` object of a manifest; `None` means the Extism default."""

    max_pages: int | None = None
    max_http_response_bytes: int | None = None
    max_var_bytes: int | None = DEFAULT_MAX_VAR_BYTES

    @property
    def http_response_bytes(self) -> int:
        """The effective HTTP response limit (50 MiB when unset)."""
        if self.max_http_response_bytes is None:
            return DEFAULT_MAX_HTTP_RESPONSE_BYTES
        return self.max_http_response_bytes

    @property
    def var_bytes(self) -> int:
        """The effective var store limit (1 MiB when unset; 0 disables vars)."""
        return DEFAULT_MAX_VAR_BYTES if self.max_var_bytes is None else self.max_var_bytes


@dataclass(frozen=True)
class Manifest:
    """An Extism manifest with every wasm source loaded and checked."""

    wasm: tuple[WasmSource, ...]
    config: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] | None = None
    allowed_paths: Mapping[str, str] | None = None
    memory: MemoryLimits = field(default_factory=MemoryLimits)
    timeout_ms: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Parse a decoded manifest; raise `ManifestError` naming the key at fault."""
        _reject_unknown(data, _TOP_KEYS, "manifest")
        entries = _typed(data, "wasm", list, "manifest") or []
        if not entries:
            msg = "manifest: `wasm` lists no module"
            raise ManifestError(msg)
        memory = _typed(data, "memory", dict, "manifest") or {}
        _reject_unknown(memory, _MEMORY_KEYS, "manifest: memory")
        limits = MemoryLimits(
            max_pages=_at_most(memory, "max_pages", MAX_PAGES, "manifest: memory"),
            max_http_response_bytes=_typed(
                memory, "max_http_response_bytes", int, "manifest: memory"
            ),
            max_var_bytes=_typed(memory, "max_var_bytes", int, "manifest: memory"),
        )
        hosts = _typed(data, "allowed_hosts", list, "manifest")
        if hosts is not None and not all(isinstance(h, str) for h in hosts):
            bad = next(h for h in hosts if not isinstance(h, str))
            msg = f"manifest: `allowed_hosts` lists host names (strings) but found {bad!r}"
            raise ManifestError(msg)
        paths = _optional_str_map(data, "allowed_paths")
        for host in paths or {}:
            _check_directory(host)
        return cls(
            wasm=tuple(_wasm_source(e, f"manifest: wasm[{i}]") for i, e in enumerate(entries)),
            config=_str_map(_typed(data, "config", dict, "manifest") or {}, "config"),
            allowed_hosts=None if hosts is None else tuple(hosts),
            allowed_paths=paths,
            memory=limits,
            timeout_ms=_at_most(data, "timeout_ms", MAX_TIMEOUT_MS, "manifest"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Parse a manifest from JSON text; raise `ManifestError` when it is not JSON."""
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            msg = f"manifest: not wasm, WAT or a JSON manifest: {exc}"
            raise ManifestError(msg) from None
        if not isinstance(data, dict):
            msg = f"manifest: expected a JSON object but found {type(data).__name__}"
            raise ManifestError(msg)
        return cls.from_dict(data)

    def with_config(self, config: Mapping[str, str] | None) -> Manifest:
        """A copy whose config is this one's merged with `config` (later keys win)."""
        if not config:
            return self
        merged = {**self.config, **_str_map(config, "config")}
        return Manifest(
            self.wasm, merged, self.allowed_hosts, self.allowed_paths, self.memory, self.timeout_ms
        )

    def with_limits(
        self,
        *,
        timeout_ms: int | None = None,
        max_pages: int | None = None,
        allowed_hosts: tuple[str, ...] = (),
    ) -> Manifest:
        """A copy with these limits set (or hosts added), checked as the manifest's keys are."""
        timeout = _at_most({"timeout_ms": timeout_ms}, "timeout_ms", MAX_TIMEOUT_MS, "manifest")
        pages = _at_most({"max_pages": max_pages}, "max_pages", MAX_PAGES, "manifest: memory")
        memory = self.memory if pages is None else replace(self.memory, max_pages=pages)
        hosts = self.allowed_hosts
        if allowed_hosts:
            hosts = (*(hosts or ()), *allowed_hosts)
        return replace(
            self,
            timeout_ms=self.timeout_ms if timeout is None else timeout,
            memory=memory,
            allowed_hosts=hosts,
        )

    def named_modules(self) -> list[tuple[str, WasmSource]]:
        """Each module with its link name; the main module comes last.

        Raises `ManifestError` on a duplicate name.
        """
        if len(self.wasm) == 1:
            return [(MAIN_MODULE, self.wasm[0])]
        names: list[str] = []
        for i, src in enumerate(self.wasm):
            name = src.name or MAIN_MODULE
            if i == len(self.wasm) - 1 and MAIN_MODULE not in names:
                name = MAIN_MODULE
            if name in names:
                msg = f"manifest: duplicate module name `{name}`"
                raise ManifestError(msg)
            names.append(name)
        pairs = list(zip(names, self.wasm, strict=True))
        return sorted(pairs, key=lambda p: p[0] == MAIN_MODULE)


def load_manifest(plugin: object) -> Manifest:
    """Turn any accepted plugin source into a Manifest.

    Accepts a Manifest, a dict, wasm or WAT bytes, JSON manifest bytes or text, or a path (str
    or `os.PathLike`) to any of those. Raises `ManifestError` naming the source at fault.
    """
    if isinstance(plugin, Manifest):
        return plugin
    if isinstance(plugin, Mapping):
        return Manifest.from_dict(plugin)
    if isinstance(plugin, os.PathLike) or (isinstance(plugin, str) and _is_file(plugin)):
        path = Path(plugin)
        return _from_bytes(_read_path(path, "plugin"), str(path))
    if isinstance(plugin, str):
        if _looks_like_path(plugin):
            msg = f"plugin: cannot read `{plugin}`: no such file"
            raise UnreadablePluginError(msg)
        return _from_bytes(plugin.encode(), "plugin")
    if isinstance(plugin, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(plugin), "plugin")
    msg = f"plugin: expected bytes, a path, a dict or a Manifest but found {type(plugin).__name__}"
    raise ManifestError(msg)


def _looks_like_path(text: str) -> bool:
    """A one-line str that is no manifest or WAT text: meant as a path to a plugin."""
    head = text.lstrip()
    return (
        "\n" not in text
        and not head.startswith(("{", "(", ";;"))
        and (text.endswith((".wasm", ".wat", ".json")) or os.sep in text)
    )


def _is_file(text: str) -> bool:
    try:
        return len(text) < 4096 and Path(text).is_file()
    except (OSError, ValueError):
        return False


def _from_bytes(data: bytes, origin: str) -> Manifest:
    head = data.lstrip()
    if data.startswith(WASM_MAGIC) or head.startswith(WAT_PREFIXES):
        return Manifest(wasm=(WasmSource(data, None, origin),))
    return Manifest.from_json(data)


def _read_path(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        msg = f"{where}: cannot read wasm file `{path}`: {exc.strerror or exc}"
        raise UnreadablePluginError(msg) from None


def _wasm_source(entry: object, where: str) -> WasmSource:
    if not isinstance(entry, Mapping):
        msg = f"{where}: expected an object but found {type(entry).__name__}"
        raise ManifestError(msg)
    _reject_unknown(entry, _WASM_KEYS, where)
    name = _typed(entry, "name", str, where)
    if "path" in entry:
        path = Path(_typed(entry, "path", str, where))
        data, origin = _read_path(path, where), str(path)
    elif "data" in entry:
        data, origin = _decode_data(entry["data"], where), "data"
    elif "url" in entry:
        url = _typed(entry, "url", str, where)
        data, origin = _fetch(url, entry, where), url
    else:
        msg = f"{where}: needs one of `path`, `data` or `url`"
        raise ManifestError(msg)
    expected = _typed(entry, "hash", str, where)
    if expected is not None:
        found = hashlib.sha256(data).hexdigest()
        if found != expected:
            msg = f"{where}: hash mismatch for `{origin}`: found {found} but expected {expected}"
            raise ManifestError(msg)
    return WasmSource(data, name, origin)


def _decode_data(value: object, where: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            msg = f"{where}: `data` is not valid base64"
            raise ManifestError(msg) from None
    msg = f"{where}: `data` must be base64 text or bytes but found {type(value).__name__}"
    raise ManifestError(msg)


def _fetch(url: str, entry: Mapping[str, Any], where: str) -> bytes:
    if not url.startswith(("http://", "https://")):
        msg = f"{where}: `url` must be http or https but found `{url}`"
        raise ManifestError(msg)
    headers = _str_map(_typed(entry, "headers", dict, where) or {}, f"{where} headers")
    method = (_typed(entry, "method", str, where) or "GET").upper()
    try:
        request = urllib.request.Request(url, headers=dict(headers), method=method)  # noqa: S310
        response = fetch(request, timeout_s=URL_TIMEOUT_S, limit=MAX_MODULE_BYTES)
    except (FetchError, ValueError) as exc:  # ValueError: a malformed URL or header
        msg = f"{where}: cannot fetch `{url}`: {exc}"
        raise ManifestError(msg) from None
    if response.status >= 400:  # the HTTP error range
        msg = f"{where}: cannot fetch `{url}`: HTTP status {response.status}"
        raise ManifestError(msg)
    return response.body


def _reject_unknown(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            msg = f"{where}: unknown key `{key}`"
            raise ManifestError(msg)


def _typed(obj: Mapping[str, Any], key: str, kind: type, where: str) -> Any:  # noqa: ANN401
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"{where}: `{key}` must be {kind.__name__} but found {type(value).__name__}"
        raise ManifestError(msg)
    if isinstance(value, int) and value < 0:
        msg = f"{where}: `{key}` must not be negative but found {value}"
        raise ManifestError(msg)
    return value


def _at_most(obj: Mapping[str, Any], key: str, limit: int, where: str) -> int | None:
    value: int | None = _typed(obj, key, int, where)
    if value is not None and value > limit:
        msg = f"{where}: `{key}` must be at most {limit} but found {value}"
        raise ManifestError(msg)
    return value


def _check_directory(host: str) -> None:
    path = host.removeprefix(READ_ONLY_PREFIX)
    try:
        is_dir = Path(path).is_dir()
    except (OSError, ValueError):
        is_dir = False
    if not is_dir:
        msg = f"manifest: `allowed_paths`: `{path}` is not a directory on this host"
        raise ManifestError(msg)


def _str_map(obj: Mapping[str, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, str):
            msg = f"manifest: `{where}` maps strings to strings but found {key!r}: {value!r}"
            raise ManifestError(msg)
        out[key] = value
    return out


def _optional_str_map(data: Mapping[str, Any], key: str) -> dict[str, str] | None:
    value = _typed(data, key, dict, "manifest")
    return None if value is None else _str_map(value, key)
