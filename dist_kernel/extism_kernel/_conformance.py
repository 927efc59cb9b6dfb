"""The conformance suite: small plugins, a data file of cases, and a runner on the reference host.

The suite ships in the package under `conformance/`: one WAT source per plugin (each exercising
one part of the ABI, sharing the helpers of `pdk.wat`) and `cases.json`. The case format is
language-neutral and documented in docs/conformance.md, so an SDK author can run the same cases
on another host: `export_suite(dir)` writes the compiled `.wasm` plugins beside `cases.json`.

`run_suite()` runs every case on this package's reference host (`extism_kernel.host`) with our
kernel or any other, against a local HTTP echo server, and returns a typed report; no printing.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from extism_kernel._check import check_kernel
from extism_kernel._echo_server import echo_server
from extism_kernel._errors import ExtismKernelError, MissingDependencyError

RUNTIME_ENV = "EXTISM_KERNEL_RUNTIME"  # as in host._runtime_api (the core never imports host)

if TYPE_CHECKING:
    from pathlib import Path

SUITE_DIR = "conformance"
CASES_FILE = "cases.json"
INCLUDE = ";; @include pdk.wat"
PDK_FILE = "pdk.wat"
HTTP_PLACEHOLDER = "$HTTP"
SUITE_FORMAT = 1
LOG_LEVELS = ("trace", "debug", "info", "warn", "error", "off")

ExpectKind = Literal["output", "error", "fails"]


class ConformanceError(ExtismKernelError):
    """The conformance data is malformed: the message names the case and key at fault."""


@dataclass(frozen=True)
class Step:
    """One call of a case: function, input, and what must come out."""

    function: str
    input: bytes
    expect: ExpectKind
    output: bytes | None = None  # for expect == "output"
    error: str | None = None  # for expect == "error"
    logs: tuple[tuple[str, str], ...] | None = None  # (level, message); None: not checked


@dataclass(frozen=True)
class Case:
    """A named sequence of calls on one instance of one plugin."""

    name: str
    plugin: str
    doc: str
    steps: tuple[Step, ...]
    config: dict[str, str] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] | None = None
    log_level: str = "info"
    wasi: bool = False


@dataclass(frozen=True)
class Suite:
    """The cases and the plugin sources they use."""

    plugins: dict[str, str]
    cases: tuple[Case, ...]


@dataclass(frozen=True)
class CaseResult:
    """How one case went: `detail` says what differed when it failed."""

    name: str
    passed: bool
    detail: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON object."""
        return {
            "name": self.name,
            "passed": self.passed,
            "detail": self.detail,
            "seconds": round(self.seconds, 4),
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
        return tuple(r for r in self.results if not r.passed)

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
            "passed": len(self.results) - len(self.failed),
            "failed": len(self.failed),
            "results": [r.to_json() for r in self.results],
        }

    def render(self) -> str:
        """Render the pass/fail table, then a summary line."""
        width = max((len(r.name) for r in self.results), default=4)
        lines = [f"{'case':<{width}}  result", f"{'-' * width}  ------"]
        for r in self.results:
            verdict = "pass" if r.passed else f"FAIL  {r.detail}"
            lines.append(f"{r.name:<{width}}  {verdict}")
        passed = len(self.results) - len(self.failed)
        where = f"kernel `{self.kernel}`"
        if self.runtime != "wasmtime":
            where += f" on runtime `{self.runtime}`"
        lines.append(f"{where}: {passed} passed, {len(self.failed)} failed")
        return "\n".join(lines) + "\n"


# --- the data file ---------------------------------------------------------------------------


def decode_data(value: object, where: str) -> bytes:
    """Bytes from a data object: `{"text": s}`, `{"hex": s}`, `{"base64": s}` or `{"pattern": n}`.

    `{"pattern": n}` is n bytes where byte i is `i % 251`. Raises `ConformanceError`.
    """
    if not isinstance(value, dict) or len(value) != 1:
        msg = f"{where}: expected one of text, hex, base64, pattern but found {value!r}"
        raise ConformanceError(msg)
    ((kind, data),) = value.items()
    try:
        if kind == "text" and isinstance(data, str):
            return data.encode()
        if kind == "hex" and isinstance(data, str):
            return bytes.fromhex(data)
        if kind == "base64" and isinstance(data, str):
            return base64.b64decode(data, validate=True)
        if kind == "pattern" and isinstance(data, int) and data >= 0:
            return bytes(i % 251 for i in range(data))
    except ValueError as exc:
        msg = f"{where}: bad `{kind}` data: {exc}"
        raise ConformanceError(msg) from None
    msg = f"{where}: expected one of text, hex, base64, pattern but found {value!r}"
    raise ConformanceError(msg)


def _step(obj: dict[str, Any], where: str) -> Step:
    expect = obj.get("expect")
    if not isinstance(obj.get("function"), str) or not isinstance(expect, dict):
        msg = f"{where}: a step needs `function` (string) and `expect` (object)"
        raise ConformanceError(msg)
    data = decode_data(obj["input"], f"{where}: input") if "input" in obj else b""
    logs = expect.get("logs")
    parsed_logs = None if logs is None else tuple((str(lv), str(m)) for lv, m in logs)
    if "output" in expect:
        out = decode_data(expect["output"], f"{where}: expect.output")
        return Step(obj["function"], data, "output", output=out, logs=parsed_logs)
    if isinstance(expect.get("error"), str):
        return Step(obj["function"], data, "error", error=expect["error"], logs=parsed_logs)
    if expect.get("fails") is True:
        return Step(obj["function"], data, "fails", logs=parsed_logs)
    msg = f"{where}: `expect` needs `output`, `error` or `fails: true`"
    raise ConformanceError(msg)


def _case(obj: dict[str, Any], plugins: dict[str, str], where: str) -> Case:
    name = obj.get("name")
    if not isinstance(name, str):
        msg = f"{where}: a case needs a `name`"
        raise ConformanceError(msg)
    where = f"case `{name}`"
    plugin = obj.get("plugin")
    if plugin not in plugins:
        msg = f"{where}: unknown plugin `{plugin}`"
        raise ConformanceError(msg)
    level = obj.get("log_level", "info")
    if level not in LOG_LEVELS:
        msg = f"{where}: `log_level` must be one of {', '.join(LOG_LEVELS)}"
        raise ConformanceError(msg)
    hosts = obj.get("allowed_hosts")
    steps = tuple(_step(s, f"{where}: steps[{i}]") for i, s in enumerate(obj.get("steps", [])))
    if not steps:
        msg = f"{where}: no steps"
        raise ConformanceError(msg)
    return Case(
        name=name,
        plugin=plugin,
        doc=str(obj.get("doc", "")),
        steps=steps,
        config=dict(obj.get("config", {})),
        allowed_hosts=None if hosts is None else tuple(hosts),
        log_level=level,
        wasi=bool(obj.get("wasi", False)),
    )


def parse_suite(data: dict[str, Any]) -> Suite:
    """Build a `Suite` from the decoded `cases.json`; raise `ConformanceError` naming the fault."""
    if data.get("format") != SUITE_FORMAT:
        msg = f"{CASES_FILE}: expected format {SUITE_FORMAT} but found {data.get('format')!r}"
        raise ConformanceError(msg)
    plugins = dict(data.get("plugins", {}))
    cases = tuple(
        _case(c, plugins, f"{CASES_FILE}: cases[{i}]") for i, c in enumerate(data["cases"])
    )
    names = [c.name for c in cases]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        msg = f"{CASES_FILE}: duplicate case `{dupes[0]}`"
        raise ConformanceError(msg)
    return Suite(plugins, cases)


def _suite_file(name: str) -> str:
    return resources.files("extism_kernel").joinpath(SUITE_DIR).joinpath(name).read_text("utf-8")


@cache
def load_suite() -> Suite:
    """Return the conformance suite shipped in this package."""
    return parse_suite(json.loads(_suite_file(CASES_FILE)))


def plugin_source(name: str) -> str:
    """Return the complete WAT text of suite plugin `name` (its `pdk.wat` include spliced in)."""
    source = load_suite().plugins[name]
    return _suite_file(source).replace(INCLUDE, _suite_file(PDK_FILE))


@cache
def plugin_wasm(name: str) -> bytes:
    """Return suite plugin `name` compiled to wasm (needs wasmtime, the `host` extra)."""
    try:
        import wasmtime  # noqa: PLC0415 (optional dependency)
    except ImportError:
        msg = "the conformance suite needs wasmtime: pip install 'extism-kernel[host]'"
        raise MissingDependencyError(msg) from None
    return bytes(wasmtime.wat2wasm(plugin_source(name)))


def export_suite(dest: Path) -> list[Path]:
    """Write every suite plugin as `<name>.wasm` and `cases.json` into `dest`; return the paths.

    The exported `cases.json` names the `.wasm` files, so another host needs nothing else.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    data = json.loads(_suite_file(CASES_FILE))
    for name in sorted(load_suite().plugins):
        path = dest / f"{name}.wasm"
        path.write_bytes(plugin_wasm(name))
        data["plugins"][name] = path.name
        written.append(path)
    cases = dest / CASES_FILE
    cases.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(cases)
    return written


def default_runtime() -> str:
    """The runtime a `Plugin` created without `runtime=` uses."""
    return os.environ.get(RUNTIME_ENV) or "wasmtime"


# --- the runner ------------------------------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self, names: dict[int, str]) -> None:
        super().__init__(logging.NOTSET)
        self.names = names
        self.records: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((self.names.get(record.levelno, record.levelname), record.getMessage()))


def _logger(case: Case, trace: int) -> tuple[logging.Logger, _Capture]:
    levels = {
        "trace": trace,
        "debug": logging.DEBUG,
        "info": logging.INFO,
        "warn": logging.WARNING,
        "error": logging.ERROR,
        "off": logging.CRITICAL + 10,
    }
    names = {v: k for k, v in levels.items() if k != "off"}
    logger = logging.getLogger(f"extism_kernel.conformance.{case.name}")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(levels[case.log_level])
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
    from extism_kernel._errors import PluginError  # noqa: PLC0415
    from extism_kernel.host import Manifest, Plugin  # noqa: PLC0415 (needs the host extra)
    from extism_kernel.host._host_functions import TRACE  # noqa: PLC0415

    start = time.perf_counter()
    logger, capture = _logger(case, TRACE)
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
) -> ConformanceReport:
    """Run the suite (cases whose name contains `select`, or all) on the reference host.

    `kernel` is the kernel module to run on (default: this package's), `runtime` the host's
    WebAssembly runtime (`wasmtime` or `pywasm`; default: `$EXTISM_KERNEL_RUNTIME` or wasmtime).
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
    with echo_server() as base:
        results = tuple(run_case(c, kernel=kernel, http_base=base, runtime=runtime) for c in cases)
    return ConformanceReport(kernel_name, results, runtime or default_runtime())
