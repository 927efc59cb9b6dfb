"""Check a plugin module against the ABI spec: will it link against a host of this ABI.

`check_plugin(wasm)` sorts every import and export of a plugin into a typed `PluginReport`:

- imports from the kernel module (and the legacy Extism 0.x module with its name prefix),
  each checked against the spec: an unknown name or a wrong type is an error with a
  "did you mean" hint, a non-function import from the kernel module is an error, and legacy
  imports make the plugin a "legacy Extism 0.x plugin" (a warning: 1.x hosts do not link them);
- user host imports: what the host author must provide (module, name, type);
- WASI imports: the plugin needs a host with WASI enabled (`wasi=True`);
- callable exports (the Extism call signature `() -> i32`, or `() -> ()` meaning 0) and the
  other exports.

No printing: `PluginReport.render()` gives the text the CLI prints, `to_json()` the JSON object
that `report.schema.json` describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from extism_kernel._abi import AbiSpec, FuncSig, ValType, load_abi
from extism_kernel._abi_match import (
    WASI_MODULES,
    ImportMatch,
    ImportStatus,
    match_kernel_import,
)
from extism_kernel._problems import Problem, ProblemReport, count_summary
from extism_kernel._wasm import ExternDesc, describe_module

# The WASI reactor initialiser: the host calls it once after instantiation, never by name.
WASI_INITIALIZER = "_initialize"
# Extism call signatures: `() -> i32` (the return code) or `() -> ()` (meaning 0).
CALL_SIGNATURES = (FuncSig((), (ValType.I32,)), FuncSig((), ()))


# Who provides an import: the kernel (its exports), the host's Extism builtins (config, vars,
# HTTP, logs), the host author (a user host function), the host's WASI, or nobody (unknown).
Provider = Literal["kernel", "builtin", "user", "wasi", "unknown"]
PROVIDER_TEXT = {
    "kernel": "kernel functions (the kernel provides these)",
    "builtin": "Extism builtins (every Extism host provides these)",
    "user": "user host functions (the host must provide these)",
    "wasi": "WASI (the host must enable it)",
    "unknown": "unknown to the ABI (no host provides these)",
}


@dataclass(frozen=True)
class KernelImport:
    """One import from the kernel module (or the legacy module), checked against the spec."""

    module: str
    name: str
    kind: str
    type: str
    status: ImportStatus
    legacy: bool
    expected: str | None = None
    hint: str | None = None
    provider: Provider = "unknown"

    def to_json(self) -> dict[str, Any]:
        """Return the import as a JSON object (`kernel_import` in the report schema)."""
        return {
            "module": self.module,
            "name": self.name,
            "kind": self.kind,
            "type": self.type,
            "status": self.status,
            "legacy": self.legacy,
            "expected": self.expected,
            "hint": self.hint,
            "provider": self.provider,
        }


@dataclass(frozen=True)
class PluginImport:
    """An import the ABI spec does not describe: a user host function or a WASI function."""

    module: str
    name: str
    kind: str
    type: str

    def to_json(self) -> dict[str, Any]:
        """Return the import as a JSON object (`import` in the report schema)."""
        return {"module": self.module, "name": self.name, "kind": self.kind, "type": self.type}


@dataclass(frozen=True)
class PluginExport:
    """An export of the plugin."""

    name: str
    kind: str
    type: str

    def to_json(self) -> dict[str, Any]:
        """Return the export as a JSON object (`export` in the report schema)."""
        return {"name": self.name, "kind": self.kind, "type": self.type}


@dataclass(frozen=True)
class PluginReport(ProblemReport):
    """What `check_plugin` found about one plugin module."""

    source: str
    problems: tuple[Problem, ...] = ()
    kernel_imports: tuple[KernelImport, ...] = ()
    host_imports: tuple[PluginImport, ...] = ()
    wasi_imports: tuple[PluginImport, ...] = ()
    callable_exports: tuple[PluginExport, ...] = ()
    other_exports: tuple[PluginExport, ...] = field(default_factory=tuple)

    @property
    def legacy(self) -> bool:
        """True for a legacy Extism 0.x plugin (it imports from the legacy module)."""
        return any(i.legacy for i in self.kernel_imports)

    @property
    def needs_wasi(self) -> bool:
        """True when the plugin imports WASI, so the host must enable it (`wasi=True`)."""
        return bool(self.wasi_imports)

    def imports(self) -> list[tuple[Provider, str, str]]:
        """Every import as (provider, `module::name`, type), in the order of the sections."""
        out: list[tuple[Provider, str, str]] = [
            (i.provider, f"{i.module}::{i.name}", i.type) for i in self.kernel_imports
        ]
        out += [("user", f"{i.module}::{i.name}", i.type) for i in self.host_imports]
        out += [("wasi", f"{i.module}::{i.name}", i.type) for i in self.wasi_imports]
        order = list(PROVIDER_TEXT)
        return sorted(out, key=lambda item: order.index(item[0]))

    @property
    def summary(self) -> str:
        """One line: whether it links, and what a host needs for it to."""
        if not self.ok:
            n = len(self.errors)
            return f"does not link: {n} error{'' if n == 1 else 's'} below"
        needs = []
        if self.needs_wasi:
            needs.append("WASI on")
        user = [f"`{i.module}::{i.name}`" for i in self.host_imports]
        if user:
            needs.append(", ".join(user) + " provided")
        return "links with " + " and ".join(needs) if needs else "links with any Extism host"

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object (`plugin` in the report schema)."""
        return {
            **self._json_head("plugin"),
            "summary": self.summary,
            "imports": [
                {"provider": provider, "import": name, "type": ty}
                for provider, name, ty in self.imports()
            ],
            "legacy": self.legacy,
            "needs_wasi": self.needs_wasi,
            "problems": [p.to_json() for p in self.problems],
            "kernel_imports": [i.to_json() for i in self.kernel_imports],
            "host_imports": [i.to_json() for i in self.host_imports],
            "wasi_imports": [i.to_json() for i in self.wasi_imports],
            "callable_exports": [e.to_json() for e in self.callable_exports],
            "other_exports": [e.to_json() for e in self.other_exports],
        }

    def render(self) -> str:
        """Render the report as text: a summary, one section per non-empty list, the problems."""
        lines = [f"plugin `{self.source}`: {count_summary(self.problems)}", self.summary]
        status = {f"{i.module}::{i.name}": i.status for i in self.kernel_imports}
        section = None
        for provider, name, ty in self.imports():
            if provider != section:
                section = provider
                lines.append(PROVIDER_TEXT[provider] + ":")
            mark = status.get(name, "ok")
            lines.append(f"  {name} {ty}" if mark == "ok" else f"  {mark:<14} {name} {ty}")
        if self.callable_exports:
            lines.append("callable exports:")
            lines += [f"  {e.name} {e.type}" for e in self.callable_exports]
        if self.other_exports:
            lines.append("other exports:")
            lines += [f"  {e.name} {e.type}" for e in self.other_exports]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines) + "\n"


def _kernel_entry(
    imp: ExternDesc,
    match: ImportMatch,
    builtins: set[str],
    *,
    legacy: bool = False,
    prefix: str = "",
) -> tuple[KernelImport, Problem | None]:
    provider: Provider = "unknown"
    if match.status in ("ok", "wrong-type"):
        provider = "builtin" if imp.name.removeprefix(prefix) in builtins else "kernel"
    entry = KernelImport(
        imp.module or "",
        imp.name,
        imp.kind,
        imp.render_type(),
        match.status,
        legacy,
        match.expected,
        match.hint,
        provider,
    )
    return entry, match.problem


def _legacy_problem(spec: AbiSpec, count: int) -> Problem:
    module = spec.legacy.module
    noun = "import" if count == 1 else "imports"
    msg = (
        f"legacy Extism 0.x plugin: {count} {noun} from `{module}` with the"
        f" `{spec.legacy.prefix}` prefix; Extism 1.x hosts do not provide them"
        f" (they link `{spec.kernel_module}`)"
    )
    return Problem("warning", "legacy-plugin", module, msg)


def _classify_imports(
    imports: tuple[ExternDesc, ...], spec: AbiSpec
) -> tuple[list[KernelImport], list[PluginImport], list[PluginImport], list[Problem]]:
    kernel: list[KernelImport] = []
    host: list[PluginImport] = []
    wasi: list[PluginImport] = []
    problems: list[Problem] = []
    env, legacy = spec.env_imports, spec.legacy_imports
    builtins = set(spec.host_function_names)
    extensions = {f.name for f in spec.extensions}
    legacy_extensions = {spec.legacy.prefix + name for name in extensions}
    legacy_count = 0
    for imp in imports:
        module = imp.module or ""
        if module == spec.kernel_module:
            match = match_kernel_import(imp, env, extensions)
            checked, problem = _kernel_entry(imp, match, builtins)
        elif module == spec.legacy.module and imp.name.startswith(spec.legacy.prefix):
            legacy_count += 1
            match = match_kernel_import(imp, legacy, legacy_extensions, legacy=True)
            prefix = spec.legacy.prefix
            checked, problem = _kernel_entry(imp, match, builtins, legacy=True, prefix=prefix)
        else:
            desc = PluginImport(module, imp.name, imp.kind, imp.render_type())
            (wasi if module in WASI_MODULES else host).append(desc)
            if module not in WASI_MODULES and imp.name in env:
                subject = f"{module}::{imp.name}"
                msg = (
                    f"import `{subject}`: `{imp.name}` is an ABI function, which hosts provide"
                    f" in `{spec.kernel_module}` (the host must provide this one itself)"
                )
                problems.append(Problem("warning", "misplaced-import", subject, msg))
            continue
        kernel.append(checked)
        if problem is not None:
            problems.append(problem)
    if legacy_count:
        problems.append(_legacy_problem(spec, legacy_count))
    return kernel, host, wasi, problems


def _classify_exports(
    exports: tuple[ExternDesc, ...],
) -> tuple[list[PluginExport], list[PluginExport], list[Problem]]:
    callable_: list[PluginExport] = []
    other: list[PluginExport] = []
    for exp in exports:
        desc = PluginExport(exp.name, exp.kind, exp.render_type())
        is_call = (
            exp.sig is not None
            and exp.sig.param_types == ()
            and any(exp.sig.results == s.results for s in CALL_SIGNATURES)
        )
        (callable_ if is_call and exp.name != WASI_INITIALIZER else other).append(desc)
    problems = []
    if not callable_:
        want = " or ".join(str(s) for s in CALL_SIGNATURES)
        msg = f"no callable export: an Extism plugin exports functions of type {want}"
        problems.append(Problem("warning", "no-callable-export", "exports", msg))
    return callable_, other, problems


def check_plugin(
    wasm: bytes, *, source: str = "<plugin>", spec: AbiSpec | None = None
) -> PluginReport:
    """Check that the plugin `wasm` links against a host of the ABI spec, and describe it.

    Raises `InvalidWasmError` naming `source` when the bytes are not a valid module and
    `MissingDependencyError` when wasmtime is not installed.
    """
    spec = spec or load_abi()
    desc = describe_module(wasm, source)
    kernel, host, wasi, import_problems = _classify_imports(desc.imports, spec)
    callable_, other, export_problems = _classify_exports(desc.exports)
    return PluginReport(
        source=source,
        problems=tuple(import_problems + export_problems),
        kernel_imports=tuple(kernel),
        host_imports=tuple(host),
        wasi_imports=tuple(wasi),
        callable_exports=tuple(callable_),
        other_exports=tuple(other),
    )
