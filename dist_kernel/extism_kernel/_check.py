"""Check a kernel module against the ABI spec. Returns typed reports; never prints.

Every report has `to_json()` (a dict matching `report.schema.json`, shipped beside this module)
and `render()` (the text the CLI prints). The comparison itself is the ABI matcher's
(`_abi_match.py`), shared with the host's link-time checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from extism_kernel._abi import AbiSpec, load_abi
from extism_kernel._abi_match import kernel_problems
from extism_kernel._problems import Finding, Problem, ProblemReport, count_summary
from extism_kernel._wasm import describe_module

REPORT_SCHEMA_FILE = "report.schema.json"
__all__ = ["Finding", "KernelReport", "Problem", "check_kernel", "report_schema"]


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
    problems = kernel_problems(desc, spec or load_abi(), strict=strict, variant=variant)
    return KernelReport(source, tuple(problems))


def report_schema() -> dict[str, Any]:
    """Return the JSON schema of every report's `to_json()` (`report.schema.json`, shipped)."""
    text = resources.files("extism_kernel").joinpath(REPORT_SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
