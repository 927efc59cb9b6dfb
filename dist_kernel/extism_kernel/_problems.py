"""Typed findings of the checks: one problem, and what every report built from problems shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


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
