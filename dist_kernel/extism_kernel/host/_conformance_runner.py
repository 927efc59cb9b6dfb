"""The conformance suite's runner on the reference host: every case, one typed report.

`run_suite()` runs the cases of `extism_kernel._conformance` on this package's host with our
kernel or any other, against a local HTTP echo server, and returns a typed report; no printing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from extism_kernel._check import check_kernel
from extism_kernel._conformance import (
    HTTP_PLACEHOLDER,
    Case,
    ConformanceError,
    Step,
    load_suite,
    plugin_wasm,
)
from extism_kernel._echo_server import echo_server
from extism_kernel._errors import ExtismKernelError, PluginError
from extism_kernel._kernel import kernel_bytes, kernel_variants
from extism_kernel._runtimes import LOG_LEVELS, default_runtime
from extism_kernel.host._manifest import Manifest
from extism_kernel.host._plugin import Plugin


@dataclass(frozen=True)
class CaseResult:
    """How one case went: `detail` says what differed when it failed."""

    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0
    skipped: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON object."""
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "seconds": round(self.seconds, 4),
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class ConformanceReport:
    """Every case's result on one kernel."""

    kernel: str
    results: tuple[CaseResult, ...]
    runtime: str = "wasmtime"

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        """The cases that failed."""
        return tuple(r for r in self.results if not r.passed and not r.skipped)

    @property
    def skipped(self) -> tuple[CaseResult, ...]:
        """The cases not run (a rule beyond the reference, on another kernel)."""
        return tuple(r for r in self.results if r.skipped)

    @property
    def ok(self) -> bool:
        """True when every case passed."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object."""
        return {
            "report": "conformance",
            "kernel": self.kernel,
            "ok": self.ok,
            "passed": len(self.results) - len(self.failed) - len(self.skipped),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "results": [r.to_json() for r in self.results],
        }

    def render(self) -> str:
        """Render the pass/fail table, then a summary line."""
        width = max((len(r.name) for r in self.results), default=4)
        lines = [f"{'case':<{width}}  result", f"{'-' * width}  ------"]
        for r in self.results:
            verdict = (
                f"skip  {r.detail}" if r.skipped else "pass" if r.passed else f"FAIL  {r.detail}"
            )
            lines.append(f"{r.name:<{width}}  {verdict}")
        passed = len(self.results) - len(self.failed) - len(self.skipped)
        where = f"kernel `{self.kernel}`"
        if self.runtime != "wasmtime":
            where += f" on runtime `{self.runtime}`"
        summary = f"{where}: {passed} passed, {len(self.failed)} failed"
        lines.append(summary + (f", {len(self.skipped)} skipped" if self.skipped else ""))
        return "\n".join(lines) + "\n"


class _Capture(logging.Handler):
    def __init__(self, names: dict[int, str]) -> None:
        super().__init__(logging.NOTSET)
        self.names = names
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((self.names.get(record.levelno, record.levelname), record.getMessage()))


def _logger(case: Case) -> tuple[logging.Logger, _Capture]:
    names = {lv.python: lv.name for lv in LOG_LEVELS if lv.name != "off"}
    logger = logging.getLogger(f"extism_kernel.conformance.{case.name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(next(lv.python for lv in LOG_LEVELS if lv.name == case.log_level))
    capture = _Capture(names)
    logger.addHandler(capture)
    return logger, capture


def _show(data: bytes) -> str:
    text = data[:24].decode(errors="replace")
    return repr(text) + (f"… ({len(data)} bytes)" if len(data) > 24 else "")


def _check_step(step: Step, output: bytes | None, failure: Exception | None) -> str:
    """Compare one call's outcome with its expectation; return what differed, or ''."""
    if step.expect == "output":
        if failure is not None:
            return f"expected output {_show(step.output or b'')} but the call failed: {failure}"
        if output != step.output:
            return f"expected output {_show(step.output or b'')} but found {_show(output or b'')}"
    elif failure is None:
        return f"expected the call to fail but it returned {_show(output or b'')}"
    elif step.expect == "error" and getattr(failure, "message", str(failure)) != step.error:
        return f"expected error {step.error!r} but found {getattr(failure, 'message', failure)!r}"
    return ""


def run_case(
    case: Case, *, kernel: bytes | None, http_base: str, runtime: str | None = None
) -> CaseResult:
    """Run one case on the reference host (on `runtime`); a failure is a result, not an error."""
    start = time.perf_counter()
    logger, capture = _logger(case)
    manifest: dict[str, Any] = {"wasm": [{"data": plugin_wasm(case.plugin)}]}
    if case.config:
        manifest["config"] = case.config
    if case.allowed_hosts is not None:
        manifest["allowed_hosts"] = list(case.allowed_hosts)
    try:
        plugin = Plugin(
            Manifest.from_dict(manifest),
            wasi=case.wasi,
            kernel=kernel,
            logger=logger,
            functions=[],
            runtime=runtime,
        )
    except ExtismKernelError as exc:
        return CaseResult(case.name, passed=False, detail=f"plugin did not load: {exc}")
    with plugin:
        for i, step in enumerate(case.steps):
            data = step.input.replace(HTTP_PLACEHOLDER.encode(), http_base.encode())
            capture.records.clear()
            output: bytes | None = None
            failure: Exception | None = None
            try:
                output = plugin.call(step.function, data)
            except PluginError as exc:
                failure = exc
            problem = _check_step(step, output, failure)
            if not problem and step.logs is not None and tuple(capture.records) != step.logs:
                problem = f"expected logs {list(step.logs)} but found {capture.records}"
            if problem:
                detail = f"step {i + 1} `{step.function}`: {problem}"
                return CaseResult(
                    case.name, passed=False, detail=detail, seconds=time.perf_counter() - start
                )
    return CaseResult(case.name, passed=True, seconds=time.perf_counter() - start)


def run_suite(
    kernel: bytes | None = None,
    *,
    kernel_name: str = "extism-kernel",
    select: str | None = None,
    runtime: str | None = None,
    built_from_source: bool = False,
) -> ConformanceReport:
    """Run the suite (cases whose name contains `select`, or all) on the reference host.

    `kernel` is the kernel module to run on (default: this package's), `runtime` the host's
    WebAssembly runtime (`wasmtime`, `pywasm` or `wasm3`; default: `$EXTISM_KERNEL_RUNTIME` or
    wasmtime).
    Cases of rules beyond the reference kernel run on this package's kernels and, with
    `built_from_source`, on `kernel` as a build of this source; on other kernels they are skipped.
    Raises `MissingDependencyError` without wasmtime, `InvalidWasmError` when `kernel` is not
    wasm and `ConformanceError` when it is not a kernel of the ABI spec.
    """
    if kernel is not None:
        report = check_kernel(kernel, source=kernel_name)
        if not report.ok:
            more = len(report.errors) - 1
            suffix = f" (and {more} more: run check-kernel)" if more else ""
            msg = f"`{kernel_name}` is not a kernel of the ABI spec: {report.errors[0].message}"
            raise ConformanceError(msg + suffix)
    cases = [c for c in load_suite().cases if select is None or select in c.name]
    shipped = {kernel_bytes(v) for v in kernel_variants()}
    ours = built_from_source or kernel is None or kernel in shipped
    skip = "a rule of this kernel beyond the reference, skipped on another kernel"
    with echo_server() as base:
        results = tuple(
            CaseResult(c.name, passed=False, detail=skip, skipped=True)
            if c.beyond_reference and not ours
            else run_case(c, kernel=kernel, http_base=base, runtime=runtime)
            for c in cases
        )
    return ConformanceReport(kernel_name, results, runtime or default_runtime())
