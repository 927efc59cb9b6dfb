"""Plain data that crosses the runtime seam: features, faults and the shapes of callables.

Imported by the Protocols (`_runtime_api.py`), the adapters and the host; imports no engine.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from extism_kernel._errors import UnsupportedFeatureError

# A host function as the runtime sees it: raw wasm arguments in, None / one value / a sequence out.
HostCallback = Callable[..., Any]
# A bound wasm function: raw integer arguments in, the first result (0 when none) out.
WasmCall = Callable[..., int]


class Feature(enum.Enum):
    """An optional capability of a runtime; `Runtime.features` lists those it has."""

    INTERRUPT = "interrupt"  # stop a running call from another thread: timeouts, cancel handles
    WASI = "wasi"  # WASI preview 1 imports for the plugin
    MEMORY_LIMIT = "memory-limit"  # cap every memory of the store at a number of bytes


FEATURE_TEXT = {
    Feature.INTERRUPT: "timeouts and cancel handles",
    Feature.WASI: "WASI",
    Feature.MEMORY_LIMIT: "memory limits (`max_pages`)",
}


@dataclass(frozen=True)
class Fault:
    """What a runtime exception means: `kind` is `trap`, `interrupt`, `exit` or `error`.

    `message` is the cause on one line (no backtrace); `code` is the exit status for `exit`.
    """

    kind: Literal["trap", "interrupt", "exit", "error"]
    message: str
    code: int = 0


@dataclass(frozen=True)
class StoreLimits:
    """Limits of one store: each memory's size, how many memories, each table's elements."""

    memory_bytes: int | None = None
    memories: int | None = None
    table_elements: int | None = None


class HasFeatures(Protocol):
    """What `require` needs of a runtime: its name and its features."""

    name: str
    features: frozenset[Feature]


def require(runtime: HasFeatures, feature: Feature) -> None:
    """Raise `UnsupportedFeatureError` when `runtime` lacks `feature`."""
    if feature not in runtime.features:
        msg = f"runtime `{runtime.name}`: {FEATURE_TEXT[feature]} not supported by this runtime"
        raise UnsupportedFeatureError(msg, runtime=runtime.name, feature=feature.value)


CACHE_MAX = 64  # modules each runtime remembers by sha256 (the oldest is forgotten first)


def remember(cache: dict[bytes, Any], key: bytes, value: object) -> None:
    """Store `value` under `key` in a runtime's per-process cache of at most `CACHE_MAX` entries."""
    if len(cache) >= CACHE_MAX:
        cache.pop(next(iter(cache)))
    cache[key] = value
