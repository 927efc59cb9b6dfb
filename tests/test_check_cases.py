"""Validator cases: tests/cases/<case>/{module.wat, expected.txt[, args]}.

Each case compiles `module.wat`, runs the CLI on it and compares exit code, stdout and stderr
with `expected.txt`. A directory named `plugin-*` runs `check-plugin`, any other `check-kernel`;
an optional `args` file holds extra arguments (e.g. `--strict`). The `--json` report of every
case that is valid wasm is checked against the shipped `report.schema.json`.
`pytest --bless` rewrites `expected.txt` after a deliberate change: review the diff.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import jsonschema
import pytest
import wasmtime
from extism_kernel import report_schema
from extism_kernel._cli import EXIT_BAD_INPUT, main

CASES_DIR = Path(__file__).parent / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "module.wat").is_file())
MODULE = "module.wasm"


def command_of(case: Path) -> list[str]:
    """The CLI arguments of a case: the check its name asks for, the module, then `args`."""
    command = "check-plugin" if case.name.startswith("plugin-") else "check-kernel"
    args_file = case / "args"
    extra = shlex.split(args_file.read_text(encoding="utf-8")) if args_file.is_file() else []
    return [command, MODULE, *extra]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def render(argv: list[str], code: int, out: str, err: str) -> str:
    return f"$ extism-kernel {shlex.join(argv)}\nexit {code}\n--- stdout\n{out}--- stderr\n{err}"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # messages name `module.wasm`, never a temporary path
    return tmp_path


def test_cases_exist() -> None:
    assert len(CASES) >= 20
    assert any(c.startswith("plugin-") for c in CASES)


@pytest.mark.parametrize("name", CASES)
def test_case(
    name: str, in_tmp: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    case = CASES_DIR / name
    (in_tmp / MODULE).write_bytes(wasmtime.wat2wasm((case / "module.wat").read_text("utf-8")))
    argv = command_of(case)
    code, out, err = run_cli(argv, capsys)
    actual = render(argv, code, out, err)
    expected_file = case / "expected.txt"
    if request.config.getoption("--bless"):
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.is_file(), f"{name}: no expected.txt; run pytest --bless"
    assert actual == expected_file.read_text(encoding="utf-8")
    if code == EXIT_BAD_INPUT:
        assert out == ""
        assert len(err.splitlines()) == 1
        assert err.startswith("error: ")
        return
    json_code, json_out, json_err = run_cli([*argv, "--json"], capsys)
    assert (json_code, json_err) == (code, "")
    report = json.loads(json_out)
    jsonschema.validate(report, report_schema())
    assert report["ok"] is (code == 0)
