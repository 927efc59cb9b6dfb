"""The conformance suite's data: small plugins and a language-neutral file of cases.

The suite ships in the package under `conformance/`: one WAT source per plugin (each exercising
one part of the ABI, sharing the helpers of `pdk.wat`) and `cases.json`. The case format is
documented in docs/conformance.md, so an SDK author can run the same cases on another host:
`export_suite(dir)` writes the compiled `.wasm` plugins beside `cases.json`. The runner on this
package's reference host is `extism_kernel.host._conformance_runner`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from extism_kernel._errors import ExtismKernelError, MissingDependencyError
from extism_kernel._runtimes import LOG_LEVEL_NAMES

if TYPE_CHECKING:
    from pathlib import Path

SUITE_DIR = "conformance"
CASES_FILE = "cases.json"
INCLUDE = ";; @include pdk.wat"
PDK_FILE = "pdk.wat"
HTTP_PLACEHOLDER = "$HTTP"
SUITE_FORMAT = 1

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
    beyond_reference: bool = False  # a rule of this kernel the reference kernel does not keep


@dataclass(frozen=True)
class Suite:
    """The cases and the plugin sources they use."""

    plugins: dict[str, str]
    cases: tuple[Case, ...]


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
    if level not in LOG_LEVEL_NAMES:
        msg = f"{where}: `log_level` must be one of {', '.join(LOG_LEVEL_NAMES)}"
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
        beyond_reference=bool(obj.get("beyond_reference", False)),
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
