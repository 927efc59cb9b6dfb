"""The Node runner of the exported conformance suite agrees with the reference host's runner.

`conformance/runners/node/run.mjs` runs `extism-kernel conformance --export` output on Node's
own WebAssembly; it must pass the cases the Python runner passes (skipping, with a reason, only
what it cannot do) and keep the CLI's exit codes. Without `node` these tests skip, except in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import extism_kernel
import pytest
from extism_kernel._cli import main
from extism_kernel.host._conformance_runner import run_suite

RUNNER = Path(extism_kernel.__file__).parent / "conformance" / "runners" / "node" / "run.mjs"


def _node() -> str:
    """The `node` executable; skip without it (fail in CI, which must have it)."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI")
        pytest.skip("node is not installed")
    return node


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [_node(), str(RUNNER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _table(stdout: str) -> dict[str, tuple[str, str]]:
    """The runner's table as {case: (verdict, detail)}, read with the header's column width."""
    lines = stdout.splitlines()
    width = len(lines[1].split("  ")[0])
    rows = {}
    for line in lines[2:-1]:
        verdict, _, detail = line[width + 2 :].partition("  ")
        rows[line[:width].rstrip()] = (verdict, detail)
    return rows


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite as `extism-kernel conformance --export` writes it."""
    dest = tmp_path_factory.mktemp("suite")
    assert main(["conformance", "--export", str(dest)]) == 0
    return dest


def test_the_node_runner_passes_what_the_reference_host_passes(suite: Path) -> None:
    proc = _run(suite)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _table(proc.stdout)
    report = run_suite()
    assert list(rows) == [r.name for r in report.results]
    passed = {name for name, (verdict, _) in rows.items() if verdict == "pass"}
    skipped = {name: detail for name, (verdict, detail) in rows.items() if verdict == "skip"}
    assert passed == {r.name for r in report.results if r.passed} - set(skipped)
    assert all(detail for detail in skipped.values())
    assert all(name.startswith("http/") for name in skipped)  # only requests it cannot make
    summary = f"kernel `extism-kernel`: {len(passed)} passed, 0 failed, {len(skipped)} skipped"
    assert proc.stdout.splitlines()[-1] == summary


def test_a_kernel_that_is_not_wasm_exits_2_with_one_error_line(suite: Path, tmp_path: Path) -> None:
    kernel = tmp_path / "kernel.wasm"
    kernel.write_bytes(b"not wasm")
    proc = _run(suite, "--kernel", kernel)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: kernel `")
    assert "is not wasm" in line


def test_a_failing_case_exits_1_and_is_named(suite: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "suite"
    shutil.copytree(suite, tampered)
    cases = tampered / "cases.json"
    data = json.loads(cases.read_text(encoding="utf-8"))
    (case,) = (c for c in data["cases"] if c["name"] == "config/present")
    case["steps"][0]["expect"]["output"] = {"text": "tampered"}
    cases.write_text(json.dumps(data), encoding="utf-8")
    proc = _run(tampered)
    assert proc.returncode == 1
    verdict, detail = _table(proc.stdout)["config/present"]
    assert verdict == "FAIL"
    assert detail.startswith('step 1 `get`: expected output "tampered" but found')
    assert " passed, 1 failed, " in proc.stdout.splitlines()[-1]


def test_echo_rate_checks_every_output_and_prints_calls_per_second(suite: Path) -> None:
    proc = _run(suite, "--echo-rate", "0.2")
    assert proc.returncode == 0, proc.stderr
    rate, _, engine = proc.stdout.removeprefix("echo 10 B: ").partition(" calls/s ")
    assert int(rate) > 0
    assert engine.startswith("(V8 ")


def test_echo_rate_needs_a_positive_duration(suite: Path) -> None:
    proc = _run(suite, "--echo-rate", "soon")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "error: --echo-rate takes a positive number of seconds\n"
