"""Read a module's imports and exports through wasmtime, as plain data (no wasmtime types leak)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extism_kernel._abi import FuncSig, ValType
from extism_kernel._errors import InvalidWasmError, MissingDependencyError

if TYPE_CHECKING:
    import wasmtime


@dataclass(frozen=True)
class ExternDesc:
    """One import or export: its kind and type, rendered for messages."""

    module: str | None
    name: str
    kind: str  # "func", "memory", "global" or "table"
    sig: FuncSig | None = None
    global_type: ValType | None = None
    mutable: bool | None = None
    min_pages: int | None = None

    def render_type(self) -> str:
        """The type as messages show it, e.g. `(i64) -> i64` or `global mut i32`."""
        if self.sig is not None:
            return str(self.sig)
        if self.kind == "global" and self.global_type is not None:
            return f"global {'mut ' if self.mutable else ''}{self.global_type.value}"
        return self.kind


@dataclass(frozen=True)
class ModuleDesc:
    """The imports and exports of a validated module."""

    imports: tuple[ExternDesc, ...]
    exports: tuple[ExternDesc, ...]


def _wasmtime() -> object:
    try:
        import wasmtime  # noqa: PLC0415 (optional dependency, imported on use)
    except ImportError:
        msg = "reading wasm modules needs wasmtime: pip install 'extism-kernel[host]'"
        raise MissingDependencyError(msg) from None
    return wasmtime


def _valtype(wt: wasmtime.ValType) -> ValType:
    import wasmtime  # noqa: PLC0415

    for ours, theirs in (
        (ValType.I32, wasmtime.ValType.i32()),
        (ValType.I64, wasmtime.ValType.i64()),
        (ValType.F32, wasmtime.ValType.f32()),
        (ValType.F64, wasmtime.ValType.f64()),
        (ValType.EXTERNREF, wasmtime.ValType.externref()),
    ):
        if wt == theirs:
            return ours
    msg = f"unsupported value type `{wt}`"
    raise InvalidWasmError(msg)


def describe_extern(module: str | None, name: str, ty: object) -> ExternDesc:
    """One wasmtime import or export type as an `ExternDesc`."""
    import wasmtime  # noqa: PLC0415

    if isinstance(ty, wasmtime.FuncType):
        params = tuple((f"p{i}", _valtype(t)) for i, t in enumerate(ty.params))
        sig = FuncSig(params, tuple(_valtype(t) for t in ty.results))
        return ExternDesc(module, name, "func", sig=sig)
    if isinstance(ty, wasmtime.MemoryType):
        return ExternDesc(module, name, "memory", min_pages=ty.limits.min)
    if isinstance(ty, wasmtime.GlobalType):
        return ExternDesc(
            module, name, "global", global_type=_valtype(ty.content), mutable=ty.mutable
        )
    return ExternDesc(module, name, "table")


def error_cause(message: str) -> str:
    """The root cause of a wasmtime error or trap message, on one line, without the backtrace.

    wasmtime puts the context first (`failed to compile: wasm[0]::function[0]`, or `error while
    executing at wasm backtrace: …`) and the causes last, under `Caused by:` (`0: …`, `1: …`):
    the last cause is kept (`type mismatch: expected i32, found i64`, `wasm trap: …`).
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "invalid module"
    if "Caused by:" in lines[:-1]:
        return re.sub(r"^\d+: ", "", lines[-1])
    return lines[0]


def describe_module(wasm: bytes, source: str) -> ModuleDesc:
    """Validate `wasm` and list its imports and exports.

    Raises `InvalidWasmError` naming `source` when the bytes are not a valid module.
    """
    wt = _wasmtime()
    engine = wt.Engine()  # type: ignore[attr-defined]
    try:
        module = wt.Module(engine, wasm)  # type: ignore[attr-defined]
    except wt.WasmtimeError as exc:  # type: ignore[attr-defined]
        msg = f"`{source}`: not a valid WebAssembly module: {error_cause(str(exc))}"
        raise InvalidWasmError(msg) from None
    return describe_compiled(module)


def describe_compiled(module: wasmtime.Module) -> ModuleDesc:
    """The imports and exports of a module wasmtime has compiled."""
    return ModuleDesc(
        imports=tuple(describe_extern(i.module, i.name or "", i.type) for i in module.imports),
        exports=tuple(describe_extern(None, e.name, e.type) for e in module.exports),
    )
