"""Typed loader of the ABI spec, `abi.json`: the one list of kernel exports and host functions."""

from __future__ import annotations

import difflib
import enum
import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from extism_kernel._errors import AbiSpecError

SPEC_FILE = "abi.json"


class ValType(enum.Enum):
    """A WebAssembly value type, spelled as in the text format."""

    I32 = "i32"
    I64 = "i64"
    F32 = "f32"
    F64 = "f64"
    EXTERNREF = "externref"
    V128 = "v128"
    FUNC_REF = "funcref"
    # the official Python SDK's spellings (aliases): a pointer is an i64 handle
    PTR = "i64"  # noqa: PIE796  # an alias on purpose
    EXTERN_REF = "externref"  # noqa: PIE796


@dataclass(frozen=True)
class FuncSig:
    """Parameter names and types and result types of a function."""

    params: tuple[tuple[str, ValType], ...]
    results: tuple[ValType, ...]

    @cached_property
    def param_types(self) -> tuple[ValType, ...]:
        """The parameter types alone."""
        return tuple(t for _, t in self.params)

    def __str__(self) -> str:
        """Render as `(i64, i64) -> i64`, or `-> ()` for no result."""
        params = ", ".join(t.value for t in self.param_types)
        results = ", ".join(t.value for t in self.results) or "()"
        return f"({params}) -> {results}"


@dataclass(frozen=True)
class Function:
    """A kernel export or host function of kind func."""

    name: str
    sig: FuncSig
    doc: str
    ownership: str | None
    legacy: bool


@dataclass(frozen=True)
class OtherExport:
    """A kernel export that is not a function: the memory or a global."""

    name: str
    kind: str
    doc: str
    min_pages: int | None = None
    type: ValType | None = None
    mutable: bool | None = None


@dataclass(frozen=True)
class Variant:
    """One build of the kernel: its file in the package and the optional exports it has."""

    name: str
    file: str
    exports: tuple[str, ...]
    features: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class Legacy:
    """How Extism 0.x plugins spelled the ABI: one module, one name prefix."""

    module: str
    prefix: str
    doc: str


@dataclass(frozen=True)
class AbiSpec:
    """The whole ABI: what a kernel exports and what a host provides beside it."""

    abi_version: int
    kernel_module: str
    user_module: str
    legacy: Legacy
    functions: tuple[Function, ...]
    memory: OtherExport
    optional_exports: tuple[OtherExport, ...]
    host_functions: tuple[Function, ...]
    extensions: tuple[Function, ...] = ()
    variants: tuple[Variant, ...] = ()

    def function(self, name: str) -> Function:
        """The kernel function export called `name`; raise KeyError naming it when unknown."""
        for func in self.functions:
            if func.name == name:
                return func
        msg = f"no kernel export `{name}` in the ABI spec"
        raise KeyError(msg)

    def variant(self, name: str) -> Variant:
        """The kernel variant called `name`; raise KeyError listing the known ones when unknown."""
        for variant in self.variants:
            if variant.name == name:
                return variant
        known = ", ".join(v.name for v in self.variants)
        msg = f"no kernel variant `{name}` (known: {known})"
        raise KeyError(msg)

    @property
    def variant_names(self) -> tuple[str, ...]:
        """Names of the kernel variants, the default first."""
        return tuple(v.name for v in self.variants)

    @property
    def function_names(self) -> tuple[str, ...]:
        """Names of the kernel's function exports, in spec order."""
        return tuple(f.name for f in self.functions)

    @property
    def host_function_names(self) -> tuple[str, ...]:
        """Names of the host functions of the kernel module, in spec order."""
        return tuple(f.name for f in self.host_functions)

    def wat_imports(self) -> str:
        """Every kernel function as a WAT import line from `kernel_module`, `$name` bound.

        For hand-written test and benchmark plugins: `(import "extism:host/env" "alloc" (func
        $alloc (param i64) (result i64)))`, one a line.
        """
        lines = []
        for func in self.functions:
            params = " ".join(t.value for t in func.sig.param_types)
            results = " ".join(t.value for t in func.sig.results)
            sig = (f" (param {params})" if params else "") + (
                f" (result {results})" if results else ""
            )
            lines.append(f'(import "{self.kernel_module}" "{func.name}" (func ${func.name}{sig}))')
        return "\n".join(lines)

    @cached_property
    def env_imports(self) -> dict[str, Function]:
        """Every function a plugin may import from `kernel_module`, by name."""
        return {f.name: f for f in (*self.functions, *self.host_functions)}

    @cached_property
    def legacy_imports(self) -> dict[str, Function]:
        """Functions an Extism 0.x plugin may import from the legacy module, by prefixed name."""
        return {
            self.legacy.prefix + f.name: f
            for f in (*self.functions, *self.host_functions)
            if f.legacy
        }


def _reject_unknown(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in obj:
        if key not in allowed:
            hint = difflib.get_close_matches(key, sorted(allowed), n=1)
            suffix = f" (did you mean `{hint[0]}`?)" if hint else ""
            msg = f"{where}: unknown key `{key}`{suffix}"
            raise AbiSpecError(msg)


def _require(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:  # noqa: ANN401
    if key not in obj:
        msg = f"{where}: missing key `{key}`"
        raise AbiSpecError(msg)
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"{where}: `{key}` must be {kind.__name__} but found {type(value).__name__}"
        raise AbiSpecError(msg)
    return value


def _valtype(text: object, where: str) -> ValType:
    try:
        return ValType(text)
    except ValueError:
        known = ", ".join(v.value for v in ValType)
        msg = f"{where}: unknown value type `{text}` (known: {known})"
        raise AbiSpecError(msg) from None


_FUNC_KEYS = {"name", "kind", "params", "results", "doc", "ownership", "legacy"}


def _function(obj: dict[str, Any], where: str) -> Function:
    name = _require(obj, "name", str, where)
    where = f"{where} `{name}`"
    _reject_unknown(obj, _FUNC_KEYS, where)
    params = []
    for param in _require(obj, "params", list, where):
        if not (isinstance(param, list) and len(param) == 2 and isinstance(param[0], str)):
            msg = f"{where}: each param must be [name, type] but found {param!r}"
            raise AbiSpecError(msg)
        params.append((param[0], _valtype(param[1], where)))
    results = tuple(_valtype(r, where) for r in _require(obj, "results", list, where))
    ownership = obj.get("ownership")
    if ownership is not None and not isinstance(ownership, str):
        msg = f"{where}: `ownership` must be str"
        raise AbiSpecError(msg)
    return Function(
        name=name,
        sig=FuncSig(tuple(params), results),
        doc=_require(obj, "doc", str, where),
        ownership=ownership,
        legacy=bool(obj.get("legacy", False)),
    )


def _strings(obj: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _require(obj, key, list, where)
    if not all(isinstance(v, str) for v in values):
        msg = f"{where}: `{key}` must be a list of strings"
        raise AbiSpecError(msg)
    return tuple(values)


def _variant(obj: dict[str, Any], where: str, optional: set[str]) -> Variant:
    _reject_unknown(obj, {"name", "file", "exports", "features", "doc"}, where)
    name = _require(obj, "name", str, where)
    where = f"{where} `{name}`"
    exports = _strings(obj, "exports", where)
    unknown = sorted(set(exports) - optional)
    if unknown:
        msg = f"{where}: export `{unknown[0]}` is not one of the spec's optional exports"
        raise AbiSpecError(msg)
    return Variant(
        name=name,
        file=_require(obj, "file", str, where),
        exports=exports,
        features=_strings(obj, "features", where),
        doc=_require(obj, "doc", str, where),
    )


def _other_export(obj: dict[str, Any], where: str) -> OtherExport:
    _reject_unknown(obj, {"name", "kind", "doc", "min_pages", "type", "mutable"}, where)
    name = _require(obj, "name", str, where)
    kind = _require(obj, "kind", str, f"{where} `{name}`")
    if kind == "memory":
        return OtherExport(
            name, kind, _require(obj, "doc", str, where), min_pages=obj.get("min_pages", 0)
        )
    if kind == "global":
        return OtherExport(
            name,
            kind,
            _require(obj, "doc", str, where),
            type=_valtype(_require(obj, "type", str, where), f"{where} `{name}`"),
            mutable=bool(obj.get("mutable", False)),
        )
    msg = f"{where} `{name}`: unknown kind `{kind}` (known: func, memory, global)"
    raise AbiSpecError(msg)


def parse_spec(data: dict[str, Any], source: str = SPEC_FILE) -> AbiSpec:
    """Build an AbiSpec from decoded JSON.

    Raises `AbiSpecError` naming the entry and key at fault for any unknown key, missing key,
    wrong type, unknown value type or duplicate name.
    """
    top_keys = {
        "extensions",
        "abi_version",
        "kernel_module",
        "user_module",
        "legacy",
        "exports",
        "optional_exports",
        "host_functions",
        "variants",
    }
    _reject_unknown(data, top_keys, source)
    legacy_obj = _require(data, "legacy", dict, source)
    _reject_unknown(legacy_obj, {"module", "prefix", "doc"}, f"{source}: legacy")
    functions: list[Function] = []
    memory: OtherExport | None = None
    for i, obj in enumerate(_require(data, "exports", list, source)):
        where = f"{source}: exports[{i}]"
        if _require(obj, "kind", str, where) == "func":
            functions.append(_function(obj, where))
        else:
            other = _other_export(obj, where)
            if other.kind != "memory":
                msg = f"{where}: a required export must be a func or the memory"
                raise AbiSpecError(msg)
            memory = other
    if memory is None:
        msg = f"{source}: exports: no memory export"
        raise AbiSpecError(msg)
    host = tuple(
        _function(obj, f"{source}: host_functions[{i}]")
        for i, obj in enumerate(_require(data, "host_functions", list, source))
    )
    optional = tuple(
        _other_export(obj, f"{source}: optional_exports[{i}]")
        for i, obj in enumerate(data.get("optional_exports", []))
    )
    extensions = tuple(
        _function(obj, f"{source}: extensions[{i}]")
        for i, obj in enumerate(data.get("extensions", []))
    )
    variants = tuple(
        _variant(obj, f"{source}: variants[{i}]", {o.name for o in optional})
        for i, obj in enumerate(data.get("variants", []))
    )
    variant_names = [v.name for v in variants]
    if len(set(variant_names)) != len(variant_names):
        msg = f"{source}: variants: duplicate variant name"
        raise AbiSpecError(msg)
    names = [f.name for f in (*functions, *extensions)] + [memory.name] + [h.name for h in host]
    names += [o.name for o in optional]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{source}: duplicate name `{dupes[0]}`"
        raise AbiSpecError(msg)
    return AbiSpec(
        abi_version=_require(data, "abi_version", int, source),
        kernel_module=_require(data, "kernel_module", str, source),
        user_module=_require(data, "user_module", str, source),
        legacy=Legacy(
            module=_require(legacy_obj, "module", str, f"{source}: legacy"),
            prefix=_require(legacy_obj, "prefix", str, f"{source}: legacy"),
            doc=_require(legacy_obj, "doc", str, f"{source}: legacy"),
        ),
        functions=tuple(functions),
        memory=memory,
        optional_exports=optional,
        host_functions=host,
        extensions=extensions,
        variants=variants,
    )


def read_spec(path: Path) -> AbiSpec:
    """Load an ABI spec from a file; raise `AbiSpecError` naming the file when it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"`{path}`: cannot read the ABI spec: {exc}"
        raise AbiSpecError(msg) from None
    if not isinstance(data, dict):
        msg = f"`{path}`: the ABI spec must be a JSON object"
        raise AbiSpecError(msg)
    return parse_spec(data, str(path))


def spec_text() -> str:
    """The shipped `abi.json`, as text."""
    return resources.files("extism_kernel").joinpath(SPEC_FILE).read_text(encoding="utf-8")


def spec_bytes() -> bytes:
    """The shipped `abi.json`, byte for byte."""
    return resources.files("extism_kernel").joinpath(SPEC_FILE).read_bytes()


@cache
def load_abi() -> AbiSpec:
    """The ABI spec shipped in this package (parsed once)."""
    return parse_spec(json.loads(spec_text()))
