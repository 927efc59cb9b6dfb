"""Run plugins through the official `extism` Python SDK and print what happened, as JSON.

Run as `python tests/official_sdk_driver.py JOB.json` with a libextism package first on
`PYTHONPATH` (tooling/official_runtime.py makes one with any kernel inside). The job names the
exported conformance suite, the compiled test plugins and the HTTP echo server; the output maps
each scenario to the outcome of every call, so that two runs (the official kernel and ours)
can be compared scenario by scenario. Only the SDK's documented API is used.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extism
import extism_sys

HTTP_PLACEHOLDER = "$HTTP"
Outcome = dict[str, Any]


def outcome(call: Callable[[], Any]) -> Outcome:
    """`{"output": hex}` or `{"error": message}` for one call."""
    try:
        result = call()
    except extism.Error as exc:
        return {"error": str(exc)}
    if isinstance(result, (bytes, bytearray, memoryview)):
        return {"output": bytes(result).hex()}
    return {"value": result}


def pattern(n: int) -> bytes:
    """The suite's `{"pattern": n}` data."""
    return bytes(i % 251 for i in range(n))


def data_of(value: dict[str, Any], http: str) -> bytes:
    """Bytes of a suite data object (text, hex or pattern), `$HTTP` replaced."""
    ((kind, data),) = value.items()
    if kind == "text":
        raw = str(data).encode()
    elif kind == "hex":
        raw = bytes.fromhex(str(data))
    else:
        raw = pattern(int(data))
    return raw.replace(HTTP_PLACEHOLDER.encode(), http.encode())


def conformance(job: dict[str, Any]) -> dict[str, list[Outcome]]:
    """Every case of the exported conformance suite, call by call."""
    suite_dir = Path(job["suite"])
    suite = json.loads((suite_dir / "cases.json").read_text(encoding="utf-8"))
    results = {}
    for case in suite["cases"]:
        manifest: dict[str, Any] = {
            "wasm": [{"path": str(suite_dir / suite["plugins"][case["plugin"]])}],
            "config": case.get("config", {}),
        }
        if "allowed_hosts" in case:
            manifest["allowed_hosts"] = case["allowed_hosts"]
        steps = []
        with extism.Plugin(manifest, wasi=case.get("wasi", False), functions=[]) as plugin:
            for step in case["steps"]:
                data = data_of(step["input"], job["http"]) if "input" in step else b""
                steps.append(outcome(functools.partial(plugin.call, step["function"], data)))
        results[f"conformance/{case['name']}"] = steps
    return results


@extism.host_fn(name="to_upper")
def to_upper(text: str) -> str:
    """User host function of host_fn.wasm, with types inferred by the SDK."""
    return text.upper()


@extism.host_fn(
    name="add", namespace="host", signature=([extism.ValType.I64] * 2, [extism.ValType.I64])
)
def add(_plugin: Any, params: list[Any], results: list[Any]) -> None:
    """Explicit-signature host function in another namespace."""
    results[0].value = params[0].value + params[1].value


def host_contexts(plugins: dict[str, str]) -> dict[str, list[Outcome]]:
    """`call(..., host_context=)` read back with `CurrentPlugin.host_context()`."""

    @extism.host_fn(name="to_upper", signature=([extism.ValType.I64], [extism.ValType.I64]))
    def with_context(plugin: Any, params: list[Any], results: list[Any]) -> None:
        context = plugin.host_context()
        text = plugin.input_string(params[0])
        plugin.return_string(results[0], f"{context['prefix']}{text}")

    with extism.Plugin(plugins["host_fn"], functions=[with_context, add]) as plugin:
        out = [
            outcome(functools.partial(plugin.call, "upper", b"ctx", host_context={"prefix": p}))
            for p in ("one:", "two:")
        ]
    return {"host-context/per-call": out}


def plugin_shapes(plugins: dict[str, str], http: str) -> dict[str, list[Outcome]]:
    """The shapes of tests/plugins: I/O, config, vars, HTTP, failures, WASI, modules, legacy."""
    scenarios: dict[str, tuple[Any, dict[str, Any], list[tuple[str, bytes]]]] = {
        "echo": (plugins["echo"], {}, [("echo", b""), ("echo", b"a" * 70_000)]),
        "reverse": (plugins["reverse"], {}, [("reverse", b"hello, world")]),
        "count_vowels": (
            plugins["count_vowels"],
            {},
            [("count_vowels", b"Hello, World!"), ("count_vowels", pattern(1 << 20))],
        ),
        "vowels": (
            {"wasm": [{"path": plugins["vowels"]}], "config": {"vowels": "aeiou"}},
            {},
            [("count_vowels", b"Hello, World!"), ("count_vowels", pattern(70_000))],
        ),
        "config": (
            {"wasm": [{"path": plugins["config"]}], "config": {"k": "v", "empty": ""}},
            {},
            [("get_config", b"k"), ("get_config", b"empty"), ("get_config", b"missing")],
        ),
        "vars": (
            plugins["vars"],
            {},
            [("count", b""), ("count", b""), ("forget", b""), ("count", b"")],
        ),
        "vars-limit": (
            {"wasm": [{"path": plugins["vars"]}], "memory": {"max_var_bytes": 100}},
            {},
            [("big", b"x" * 16), ("big", b"x" * 200)],
        ),
        "fail": (
            plugins["fail"],
            {},
            [
                ("fail", b""),
                ("fail_rc0", b""),
                ("code", b""),
                ("trap", b""),
                ("trap_with_error", b""),
                ("ok", b"still usable"),
                ("no_such_function", b""),
            ],
        ),
        "hog-kernel": (
            {"wasm": [{"path": plugins["hog"]}], "memory": {"max_pages": 40}},
            {},
            [("kernel", b""), ("ok", b"after")],
        ),
        "http": (
            {"wasm": [{"path": plugins["http"]}], "allowed_hosts": ["127.0.0.1"]},
            {},
            [
                ("fetch", json.dumps({"url": f"{http}/hello"}).encode()),
                ("status", json.dumps({"url": f"{http}/status/404"}).encode()),
                ("post", json.dumps({"url": f"{http}/echo", "method": "POST"}).encode()),
            ],
        ),
        "http-denied": (
            plugins["http"],
            {},
            [("fetch", json.dumps({"url": f"{http}/hello"}).encode())],
        ),
        "multi-module": (
            {"wasm": [{"path": plugins["lib"], "name": "lib"}, {"path": plugins["uses_lib"]}]},
            {},
            [("twice21", b"")],
        ),
        "legacy": (
            {"wasm": [{"path": plugins["legacy"]}], "config": {"k": "legacy value"}},
            {},
            [("echo", b"old abi"), ("config", b"k")],
        ),
        "wasi": (plugins["wasi"], {"wasi": True}, [("initialized", b""), ("exit3", b"")]),
        "command": (plugins["command"], {"wasi": True}, [("bump", b""), ("bump", b"")]),
        "host-functions": (
            plugins["host_fn"],
            {"functions": [to_upper, add]},
            [
                ("upper", b"shout"),
                ("add", b""),
            ],
        ),
    }
    results = {}
    for name, (source, options, calls) in scenarios.items():
        functions = options.get("functions", [])
        try:
            plugin = extism.Plugin(source, wasi=options.get("wasi", False), functions=functions)
        except extism.Error as exc:
            results[f"plugin/{name}"] = [{"load-error": str(exc)}]
            continue
        with plugin:
            results[f"plugin/{name}"] = [
                outcome(functools.partial(plugin.call, f, d)) for f, d in calls
            ]
    return results


def timeouts(plugins: dict[str, str]) -> dict[str, list[Outcome]]:
    """`timeout_ms` and a cancel handle stop a plugin that never returns; it stays usable."""
    manifest = {"wasm": [{"path": plugins["loop"]}], "timeout_ms": 200}
    with extism.Plugin(manifest, functions=[]) as plugin:
        timed_out = outcome(lambda: plugin.call("loop_forever", b""))
        after = outcome(lambda: plugin.call("ok", b"alive"))
    with extism.Plugin(plugins["loop"], functions=[]) as plugin:
        handle = plugin.cancel_handle()
        timer = threading.Timer(0.2, handle.cancel)
        timer.start()
        start = time.monotonic()
        cancelled = outcome(lambda: plugin.call("loop_forever", b""))
        stopped = {"stopped": time.monotonic() - start < 30}
        timer.join()
    return {"limits/timeout": [timed_out, after], "limits/cancel": [cancelled, stopped]}


def main(argv: list[str]) -> int:
    """Run every scenario of the job and print the results as one JSON object."""
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    plugins: dict[str, str] = job["plugins"]
    results: dict[str, Any] = {"runtime": {"library": extism_sys.__file__}}
    results.update(conformance(job))
    results.update(plugin_shapes(plugins, job["http"]))
    results.update(host_contexts(plugins))
    results.update(timeouts(plugins))
    print(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
