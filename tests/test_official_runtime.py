"""Our kernel inside the official runtime: libextism with our kernel written over its own.

The official `extism` SDK runs the same scenarios (the conformance suite, the shapes of
tests/plugins, user host functions, host contexts, timeouts and errors) twice, in two
processes: once on the unmodified libextism and once on a copy with our default kernel in
place of the official one. Every call must end the same way. Skips, with one line, only when
`extism-sys` cannot be downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import extism_kernel
import pytest
from extism_kernel._conformance import Step, export_suite, load_suite
from extism_kernel._echo_server import echo_server

from tests.host_plugins import plugin_wasm
from tooling.official_kernel import OfficialKernelError
from tooling.official_runtime import OfficialRuntimeError, fit_kernel, install_runtime

DRIVER = Path(__file__).with_name("official_sdk_driver.py")
PLUGINS = (
    *("echo", "reverse", "count_vowels", "config", "vars", "fail", "hog", "http", "lib"),
    *("uses_lib", "legacy", "wasi", "command", "host_fn", "loop", "vowels"),
)
SIDES = ("official", "ours")


def _runtimes(root: Path) -> dict[str, Path]:
    """libextism as shipped, and with our default kernel written in place."""
    try:
        install_runtime(root / "official")
        install_runtime(root / "ours", extism_kernel.kernel_bytes())
    except OfficialKernelError as exc:
        if isinstance(exc, OfficialRuntimeError):
            raise
        pytest.skip(f"extism-sys could not be downloaded: {exc}")
    return {"official": root / "official", "ours": root / "ours"}


def _run_driver(runtime: Path, job: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(runtime)}
    proc = subprocess.run(  # noqa: S603
        [sys.executable, str(DRIVER), str(job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results: dict[str, Any] = json.loads(proc.stdout)
    return results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Both sides' results, by side, then by scenario."""
    root = tmp_path_factory.mktemp("official-runtime")
    runtimes = _runtimes(root)
    plugins = {}
    for name in PLUGINS:
        path = root / f"{name}.wasm"
        path.write_bytes(plugin_wasm(name))
        plugins[name] = str(path)
    export_suite(root / "suite")
    with echo_server() as http:
        job = root / "job.json"
        job.write_text(json.dumps({"suite": str(root / "suite"), "plugins": plugins, "http": http}))
        return {side: _run_driver(runtimes[side], job) for side in SIDES}


def test_each_side_loaded_its_own_library(results: dict[str, dict[str, Any]]) -> None:
    libraries = {side: results[side]["runtime"]["library"] for side in SIDES}
    assert libraries["official"] != libraries["ours"]
    for side in SIDES:
        assert f"{os.sep}{side}{os.sep}extism_sys{os.sep}" in libraries[side]


def _scenarios() -> list[str]:
    suite = [f"conformance/{c.name}" for c in load_suite().cases]
    shapes = (
        "echo reverse count_vowels vowels config vars vars-limit fail hog-kernel http http-denied"
        " multi-module legacy wasi command host-functions"
    )
    return [
        *suite,
        *(f"plugin/{s}" for s in shapes.split()),
        "host-context/per-call",
        "limits/timeout",
        "limits/cancel",
    ]


BEYOND_REFERENCE = {f"conformance/{c.name}": c for c in load_suite().cases if c.beyond_reference}


@pytest.mark.parametrize("scenario", _scenarios())
def test_same_outcome_on_both_kernels(results: dict[str, dict[str, Any]], scenario: str) -> None:
    official, ours = results["official"][scenario], results["ours"][scenario]
    case = BEYOND_REFERENCE.get(scenario)
    if case is not None:  # a rule only this kernel keeps: ours must meet the suite's expectation
        assert all(_meets_expectation(s, got) for s, got in zip(case.steps, ours, strict=True))
        return
    assert ours == official


def test_host_context_reaches_the_host_function(results: dict[str, dict[str, Any]]) -> None:
    """The case that failed before `extism_context` was added: the global must be there."""
    outputs = [bytes.fromhex(o["output"]) for o in results["ours"]["host-context/per-call"]]
    assert outputs == [b"one:ctx", b"two:ctx"]


def test_results_are_real_calls(results: dict[str, dict[str, Any]]) -> None:
    """Spot checks that the compared outcomes are the plugins' real answers."""
    ours = results["ours"]
    assert ours["plugin/reverse"] == [{"output": b"dlrow ,olleh".hex()}]
    assert ours["plugin/host-functions"][0] == {"output": b"SHOUT".hex()}
    assert bytes.fromhex(ours["plugin/count_vowels"][0]["output"]) == b'{"count":3}'
    assert bytes.fromhex(ours["plugin/vowels"][0]["output"]) == b'{"count":3,"total":3}'
    assert "error" in ours["limits/timeout"][0]
    assert ours["limits/timeout"][1] == {"output": b"alive".hex()}
    assert "error" in ours["plugin/http-denied"][0]
    assert bytes.fromhex(ours["plugin/http"][0]["output"]).startswith(b"GET /hello\n")
    assert ours["plugin/http"][1] == {"output": b"404".hex()}
    assert ours["plugin/vars-limit"][0] == {"output": ""}
    assert "error" in ours["plugin/vars-limit"][1]
    assert ours["plugin/hog-kernel"] == [{"error": "oom"}, {"output": b"after".hex()}]
    assert [bytes.fromhex(o["output"]) for o in ours["plugin/vars"]] == [b"1", b"2", b"", b"1"]


def _meets_expectation(step: Step, got: dict[str, Any]) -> bool:
    if step.expect == "output":
        return got.get("output") == (step.output or b"").hex()
    if step.expect == "error":
        return got.get("error") == step.error
    return "error" in got


def test_conformance_counts_are_the_same_on_both_kernels(
    results: dict[str, dict[str, Any]],
) -> None:
    """How many suite cases meet the suite's own expectations inside the official runtime.

    Cases that check logs or host-specific messages may differ from the suite's expectation on
    libextism; what matters is that both kernels give the same count, and that most pass.
    """
    counts = {}
    for side in SIDES:
        counts[side] = sum(
            not case.beyond_reference
            and all(
                _meets_expectation(step, got)
                for step, got in zip(
                    case.steps, results[side][f"conformance/{case.name}"], strict=True
                )
            )
            for case in load_suite().cases
        )
    assert counts["ours"] == counts["official"]
    assert counts["ours"] >= len(load_suite().cases) * 3 // 4, counts


def test_a_kernel_over_the_budget_is_refused_clearly() -> None:
    too_big = extism_kernel.kernel_bytes() + bytes(3474)
    with pytest.raises(OfficialRuntimeError, match=rf"{len(too_big)} bytes, but libextism embeds"):
        fit_kernel(too_big, 3474)


def test_padding_fills_the_official_size_exactly() -> None:
    padded = fit_kernel(extism_kernel.kernel_bytes(), 3474)
    assert len(padded) == 3474
    assert extism_kernel.check_kernel(padded, strict=True).ok
