"""Check a kernel module against the ABI spec. Returns typed reports; never prints.

Every report has `to_json()` (a dict matching `report.schema.json`, shipped beside this module)
and `render()` (the text the CLI prints).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from extism_kernel._abi import AbiSpec, load_abi
from extism_kernel._wasm import ExternDesc, describe_module

Severity = Literal["error", "warning"]
REPORT_SCHEMA_FILE = "report.schema.json"


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its severity, a stable code, what it is about, and a message."""

    severity: str
    code: str
    subject: str
    message: str

    def __str__(self) -> str:
        """`<severity>: <message>`."""
        return f"{self.severity}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """Return the finding as a JSON object (`problem` / `change` in the report schema)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
        }


@dataclass(frozen=True)
class Problem(Finding):
    """One difference between a module and the ABI spec."""

    severity: Severity


def count_summary(problems: tuple[Problem, ...]) -> str:
    """`ok`, `ok (1 warning)` or `2 errors, 1 warning`."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if not errors:
        return f"ok ({plural(warnings, 'warning')})" if warnings else "ok"
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


class ProblemReport:
    """What every check report shares: a source and its problems, split by severity."""

    source: str
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Problems of severity error."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems of severity warning."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def _json_head(self, kind: str) -> dict[str, Any]:
        """The JSON fields every report starts with (`report` names the schema's kind)."""
        return {
            "report": kind,
            "source": self.source,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }


@dataclass(frozen=True)
class KernelReport(ProblemReport):
    """What `check_kernel` found."""

    source: str
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object (`kernel` in the report schema)."""
        return {
            **self._json_head("kernel"),
            "problems": [p.to_json() for p in self.problems],
        }

    def render(self) -> str:
        """Render the report as text: a summary line, then one line per problem."""
        lines = [f"kernel `{self.source}`: {count_summary(self.problems)}"]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines) + "\n"


def _func_problems(spec: AbiSpec, exports: dict[str, ExternDesc], *, strict: bool) -> list[Problem]:
    problems = []
    for func in (*spec.functions, *spec.extensions):
        found = exports.get(func.name)
        if found is None and func in spec.extensions and not strict:
            continue  # extensions are ours: other kernels need not have them
        if found is None:
            msg = f"missing export `{func.name}`: expected {func.sig}"
            problems.append(Problem("error", "missing-export", func.name, msg))
        elif (
            found.sig is None
            or found.sig.param_types != func.sig.param_types
            or (found.sig.results != func.sig.results)
        ):
            msg = f"export `{func.name}`: expected {func.sig} but found {found.render_type()}"
            problems.append(Problem("error", "wrong-type", func.name, msg))
    return problems


def _memory_problems(spec: AbiSpec, exports: dict[str, ExternDesc]) -> list[Problem]:
    found = exports.get(spec.memory.name)
    if found is None:
        msg = f"missing export `{spec.memory.name}`: expected memory"
        return [Problem("error", "missing-export", spec.memory.name, msg)]
    if found.kind != "memory":
        msg = f"export `{spec.memory.name}`: expected memory but found {found.render_type()}"
        return [Problem("error", "wrong-type", spec.memory.name, msg)]
    return []


def _variant_problems(spec: AbiSpec, exports: dict[str, ExternDesc], variant: str) -> list[Problem]:
    """The optional exports `variant` must have, and those of other variants it must not."""
    try:
        want = spec.variant(variant)
    except KeyError as exc:
        return [Problem("error", "unknown-variant", variant, str(exc.args[0]))]
    problems = []
    for name in want.exports:
        if name not in exports:
            msg = f"missing export `{name}`: variant `{variant}` exports it"
            problems.append(Problem("error", "missing-export", name, msg))
    others = {n for v in spec.variants for n in v.exports} - set(want.exports)
    for name in sorted(others & set(exports)):
        msg = f"export `{name}`: variant `{variant}` must not have it (other variants do)"
        problems.append(Problem("error", "variant-export", name, msg))
    return problems


def check_kernel_exports(
    desc_imports: tuple[ExternDesc, ...],
    desc_exports: tuple[ExternDesc, ...],
    spec: AbiSpec,
    *,
    strict: bool,
    variant: str | None = None,
) -> list[Problem]:
    """Compare a kernel's imports and exports with the spec.

    Missing exports and wrong types are errors. An export the spec does not name is an error
    when `strict` (our own build) and a warning otherwise; the spec's optional exports are
    accepted when their type matches. The spec's extensions must be present when `strict` and
    well-typed when present. Any import is an error: a kernel imports nothing.

    With a `variant` (the spec's first, `default`, when `strict` and none is named), the
    optional exports that variant lists are required, and those only other variants list are
    errors.
    """
    exports = {e.name: e for e in desc_exports}
    problems = _func_problems(spec, exports, strict=strict) + _memory_problems(spec, exports)
    if variant is None and strict and spec.variants:
        variant = spec.variants[0].name
    if variant is not None:
        problems += _variant_problems(spec, exports, variant)
    known = set(spec.function_names) | {f.name for f in spec.extensions} | {spec.memory.name}
    optional = {o.name: o for o in spec.optional_exports}
    for name, found in exports.items():
        if name in known:
            continue
        want = optional.get(name)
        if want is not None and found.kind == want.kind and found.global_type == want.type:
            continue
        msg = f"extra export `{name}`: {found.render_type()} is not in the ABI spec"
        problems.append(Problem("error" if strict else "warning", "extra-export", name, msg))
    for imp in desc_imports:
        subject = f"{imp.module}::{imp.name}"
        msg = f"import `{subject}`: a kernel must import nothing but found {imp.render_type()}"
        problems.append(Problem("error", "unexpected-import", subject, msg))
    return problems


def check_kernel(
    wasm: bytes,
    *,
    source: str = "<kernel>",
    spec: AbiSpec | None = None,
    strict: bool = False,
    variant: str | None = None,
) -> KernelReport:
    """Check that `wasm` is a valid kernel for the ABI spec (and for `variant`, when named).

    Raises `InvalidWasmError` when the bytes are not a valid module and `MissingDependencyError`
    when wasmtime is not installed.
    """
    desc = describe_module(wasm, source)
    problems = check_kernel_exports(
        desc.imports, desc.exports, spec or load_abi(), strict=strict, variant=variant
    )
    return KernelReport(source, tuple(problems))


def report_schema() -> dict[str, Any]:
    """Return the JSON schema of every report's `to_json()` (`report.schema.json`, shipped)."""
    text = resources.files("extism_kernel").joinpath(REPORT_SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
