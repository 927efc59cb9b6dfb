"""Compare two ABIs: what breaks hosts and plugins built for the old one, and what is new.

Each side is an ABI spec (`abi.json`), a kernel module (`.wasm`), or a wheel of this package
(its `extism_kernel/abi.json`, and its version from the wheel metadata). `diff_abi(old, new)`
returns an `AbiDiff` of `AbiChange`s, each one of:

- `breaking`: a removed kernel export or host function, a changed type, a changed module name
  or legacy prefix, a name no longer offered to legacy plugins, a changed ownership rule;
- `additive`: a new kernel export or host function, a name newly offered to legacy plugins;
- `compatible`: changes no host or plugin depends on (optional exports such as `extism_context`,
  a removed kernel extension: hosts fall back to the standard exports when one is absent).

Kernel extensions (`extensions` in the spec: exports only this kernel has, for hosts) are their
own category: added is additive, a changed type breaking, removed compatible.

A kernel module carries only its exports, so host functions, module names, legacy names and
ownership are compared only when both sides are specs or wheels; the diff notes what was skipped.
A module's function exports that the current spec lists as extensions count as extensions.
No printing: `AbiDiff.render()` gives the CLI's text and `to_json()` the schema's JSON.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from typing import TYPE_CHECKING, Any, Literal

from extism_kernel._abi import SPEC_FILE, AbiSpec, OtherExport, load_abi, parse_spec
from extism_kernel._check import Finding
from extism_kernel._errors import AbiSpecError, UnreadableInputError
from extism_kernel._wasm import describe_module

if TYPE_CHECKING:
    from pathlib import Path

ChangeSeverity = Literal["breaking", "additive", "compatible"]
Origin = Literal["spec", "kernel", "wheel"]

WASM_MAGIC = b"\0asm"
ZIP_MAGIC = b"PK\x03\x04"
PACKAGE = "extism_kernel"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class AbiSurface:
    """One side of a diff: the names and types an ABI offers, from a spec, kernel or wheel.

    `host_functions`, `modules`, `legacy_names` and `ownership` are None when the source
    cannot tell (a kernel module).
    """

    source: str
    origin: Origin
    exports: dict[str, str]
    optional_exports: dict[str, str]
    extensions: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    abi_version: int | None = None
    host_functions: dict[str, str] | None = None
    modules: dict[str, str] | None = None
    legacy_names: frozenset[str] | None = None
    ownership: dict[str, str | None] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the side as a JSON object (`abi_side` in the report schema)."""
        return {
            "source": self.source,
            "origin": self.origin,
            "version": self.version,
            "abi_version": self.abi_version,
        }


@dataclass(frozen=True)
class AbiChange(Finding):
    """One difference between two ABIs."""

    severity: ChangeSeverity


@dataclass(frozen=True)
class AbiDiff:
    """Every change from `old` to `new`, breaking first."""

    old: AbiSurface
    new: AbiSurface
    changes: tuple[AbiChange, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def of(self, severity: ChangeSeverity) -> tuple[AbiChange, ...]:
        """Return the changes of one severity."""
        return tuple(c for c in self.changes if c.severity == severity)

    @property
    def breaking(self) -> bool:
        """True when a host or plugin built for `old` may fail with `new`."""
        return bool(self.of("breaking"))

    @property
    def major_bump(self) -> bool | None:
        """Whether `new`'s version is a major bump over `old`'s; None when a version is unknown."""
        if self.old.version is None or self.new.version is None:
            return None
        try:
            return is_major_bump(self.old.version, self.new.version)
        except ValueError:  # not X.Y.Z: unknown
            return None

    def to_json(self) -> dict[str, Any]:
        """Return the diff as a JSON object (`abi-diff` in the report schema)."""
        return {
            "report": "abi-diff",
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "breaking": self.breaking,
            "major_bump": self.major_bump,
            "counts": {s: len(self.of(s)) for s in ("breaking", "additive", "compatible")},
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """Render the diff as text: a summary line, one line per change, then the notes."""
        counts = ", ".join(f"{len(self.of(s))} {s}" for s in ("breaking", "additive", "compatible"))
        verdict = "breaking" if self.breaking else "compatible"
        lines = [f"abi `{self.old.source}` -> `{self.new.source}`: {verdict} ({counts})"]
        lines += [str(c) for c in self.changes]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def version_key(version: str) -> tuple[int, ...]:
    """Return the part of an X.Y.Z version a breaking change must raise (Cargo semver).

    `1.4.2` → `(1,)`; before 1.0 the minor number is the major one: `0.3.1` → `(0, 3)`.
    Raises `ValueError` naming the version when it is not X.Y.Z.
    """
    match = _VERSION.match(version)
    if match is None:
        msg = f"version `{version}`: expected X.Y.Z"
        raise ValueError(msg)
    major, minor = int(match[1]), int(match[2])
    return (major,) if major else (0, minor)


def is_major_bump(old: str, new: str) -> bool:
    """Tell whether `new` may break `old`'s ABI: its major (pre-1.0: minor) number is higher."""
    return version_key(new) > version_key(old)


def _render_other(export: OtherExport) -> str:
    if export.kind == "global" and export.type is not None:
        return f"global {'mut ' if export.mutable else ''}{export.type.value}"
    return export.kind


def surface_from_spec(
    spec: AbiSpec, source: str, *, origin: Origin = "spec", version: str | None = None
) -> AbiSurface:
    """Return the ABI a spec describes."""
    exports = {f.name: str(f.sig) for f in spec.functions}
    exports[spec.memory.name] = _render_other(spec.memory)
    everything = (*spec.functions, *spec.extensions, *spec.host_functions)
    return AbiSurface(
        source=source,
        origin=origin,
        exports=exports,
        optional_exports={o.name: _render_other(o) for o in spec.optional_exports},
        extensions={f.name: str(f.sig) for f in spec.extensions},
        version=version,
        abi_version=spec.abi_version,
        host_functions={f.name: str(f.sig) for f in spec.host_functions},
        modules={
            "kernel module": spec.kernel_module,
            "user module": spec.user_module,
            "legacy module": spec.legacy.module,
            "legacy prefix": spec.legacy.prefix,
        },
        legacy_names=frozenset(f.name for f in everything if f.legacy),
        ownership={f.name: f.ownership for f in everything},
    )


def surface_from_kernel(wasm: bytes, source: str) -> AbiSurface:
    """Return the ABI a kernel module offers: functions and memories; other exports are optional.

    Raises `InvalidWasmError` naming `source` when the bytes are not a valid module.
    """
    desc = describe_module(wasm, source)
    known_extensions = {f.name for f in load_abi().extensions}
    exports, optional, extensions = {}, {}, {}
    for exp in desc.exports:
        if exp.kind not in {"func", "memory"}:
            optional[exp.name] = exp.render_type()
        elif exp.name in known_extensions:
            extensions[exp.name] = exp.render_type()
        else:
            exports[exp.name] = exp.render_type()
    return AbiSurface(source, "kernel", exports, optional, extensions)


def _spec_from_text(text: str, source: str) -> AbiSpec:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"`{source}`: not an ABI spec, a wasm module or a wheel: {exc}"
        raise UnreadableInputError(msg) from None
    if not isinstance(data, dict):
        msg = f"`{source}`: not an ABI spec: expected a JSON object"
        raise UnreadableInputError(msg)
    try:
        return parse_spec(data, source)
    except AbiSpecError as exc:
        raise UnreadableInputError(str(exc)) from None


def surface_from_wheel(path: Path) -> AbiSurface:
    """Return the ABI of a wheel of this package: its spec, and its version from its metadata.

    Raises `UnreadableInputError` naming the wheel when it is not a zip or has no spec.
    """
    source = str(path)
    try:
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            spec_name = f"{PACKAGE}/{SPEC_FILE}"
            if spec_name not in names:
                msg = f"`{source}`: the wheel has no `{spec_name}`"
                raise UnreadableInputError(msg)
            text = wheel.read(spec_name).decode("utf-8")
            meta = [n for n in names if n.endswith(".dist-info/METADATA")]
            version = None
            if meta:
                headers = HeaderParser().parsestr(wheel.read(meta[0]).decode("utf-8"))
                version = headers.get("Version")
    except (zipfile.BadZipFile, UnicodeDecodeError) as exc:
        msg = f"`{source}`: not a readable wheel: {exc}"
        raise UnreadableInputError(msg) from None
    spec = _spec_from_text(text, f"{source}!{spec_name}")
    return surface_from_spec(spec, source, origin="wheel", version=version)


def load_surface(path: Path, *, version: str | None = None) -> AbiSurface:
    """Read one side of a diff from a spec file, a kernel module or a wheel (told by content).

    Raises `OSError` when the file cannot be read, `InvalidWasmError` for a broken module, and
    `UnreadableInputError` for anything else that is not a spec, a module or a wheel.
    """
    data = path.read_bytes()
    if data.startswith(WASM_MAGIC):
        surface = surface_from_kernel(data, str(path))
    elif data.startswith(ZIP_MAGIC):
        surface = surface_from_wheel(path)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            msg = f"`{path}`: not an ABI spec, a wasm module or a wheel"
            raise UnreadableInputError(msg) from None
        surface = surface_from_spec(_spec_from_text(text, str(path)), str(path))
    if version is not None:
        surface = AbiSurface(**{**surface.__dict__, "version": version})
    return surface


def _diff_named(  # noqa: PLR0913
    what: str,
    old: dict[str, str],
    new: dict[str, str],
    *,
    removed: ChangeSeverity = "breaking",
    changed: ChangeSeverity = "breaking",
    added: ChangeSeverity = "additive",
    elsewhere: frozenset[str] = frozenset(),
) -> list[AbiChange]:
    """Removed, retyped and added names of one category; `elsewhere`: names moved out of it."""
    code = what.replace(" ", "-")
    changes = []
    for name in sorted(old.keys() - new.keys() - elsewhere):
        msg = f"removed {what} `{name}` {old[name]}"
        changes.append(AbiChange(removed, f"removed-{code}", name, msg))
    for name in sorted(old.keys() & new.keys()):
        if old[name] != new[name]:
            msg = f"{what} `{name}`: type changed from {old[name]} to {new[name]}"
            changes.append(AbiChange(changed, "changed-type", name, msg))
    for name in sorted(new.keys() - old.keys()):
        msg = f"added {what} `{name}` {new[name]}"
        changes.append(AbiChange(added, f"added-{code}", name, msg))
    return changes


def _diff_spec_only(old: AbiSurface, new: AbiSurface) -> list[AbiChange]:
    """List the changes only specs and wheels show: host functions, modules, legacy, ownership."""
    changes = []
    if old.abi_version != new.abi_version:
        msg = f"abi version changed from {old.abi_version} to {new.abi_version}"
        changes.append(AbiChange("breaking", "changed-abi-version", "abi_version", msg))
    for key, value in (old.modules or {}).items():
        other = (new.modules or {}).get(key)
        if other != value:
            msg = f"{key} changed from `{value}` to `{other}`"
            changes.append(AbiChange("breaking", "changed-module", key, msg))
    changes += _diff_named("host function", old.host_functions or {}, new.host_functions or {})
    old_legacy, new_legacy = old.legacy_names or frozenset(), new.legacy_names or frozenset()
    offered = set(new.exports.keys() | new.extensions.keys() | (new.host_functions or {}).keys())
    for name in sorted(old_legacy - new_legacy):
        if name in offered:  # a removed name is reported once, above
            msg = f"`{name}` is no longer offered to legacy Extism 0.x plugins"
            changes.append(AbiChange("breaking", "removed-legacy", name, msg))
    for name in sorted(new_legacy - old_legacy):
        msg = f"`{name}` is now offered to legacy Extism 0.x plugins"
        changes.append(AbiChange("additive", "added-legacy", name, msg))
    old_own, new_own = old.ownership or {}, new.ownership or {}
    for name in sorted(old_own.keys() & new_own.keys()):
        if old_own[name] != new_own[name]:
            msg = f"`{name}`: ownership changed from {old_own[name]!r} to {new_own[name]!r}"
            changes.append(AbiChange("breaking", "changed-ownership", name, msg))
    return changes


_ORDER = {"breaking": 0, "additive": 1, "compatible": 2}


def diff_abi(old: AbiSurface, new: AbiSurface) -> AbiDiff:
    """Every change from `old` to `new`, breaking first, then additive, then compatible."""
    changes = _diff_named("export", old.exports, new.exports)
    changes += _diff_named(
        "extension",
        old.extensions,
        new.extensions,
        removed="compatible",
        elsewhere=frozenset(new.exports),  # promoted to a standard export: reported there
    )
    changes += _diff_named(
        "optional export",
        old.optional_exports,
        new.optional_exports,
        removed="compatible",
        changed="compatible",
        added="compatible",
    )
    notes = []
    if old.host_functions is not None and new.host_functions is not None:
        changes += _diff_spec_only(old, new)
    else:
        kernel = old.source if old.host_functions is None else new.source
        notes.append(
            f"`{kernel}` is a kernel module: host functions, module names, legacy names and"
            " ownership were not compared"
        )
    changes.sort(key=lambda c: _ORDER[c.severity])  # stable: keeps each group's order
    return AbiDiff(old, new, tuple(changes), tuple(notes))
