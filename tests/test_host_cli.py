"""`extism-kernel call`: output bytes on stdout, one error line on stderr, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from extism_kernel._cli import main

from tests.host_plugins import KERNELS, plugin_wasm

pytestmark = pytest.mark.usefixtures("host_runtime")  # every test on each runtime


@pytest.fixture(params=KERNELS)
def kernel_file(
    request: pytest.FixtureRequest, tmp_path: Path, kernel_wasm: bytes, official_kernel_wasm: bytes
) -> Path:
    path = tmp_path / f"{request.param}-kernel.wasm"
    path.write_bytes(kernel_wasm if request.param == "ours" else official_kernel_wasm)
    return path


def plugin_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.wasm"
    path.write_bytes(plugin_wasm(name))
    return path


def test_call_writes_output(tmp_path, kernel_file, capsysbinary):
    code = main(
        [
            "call",
            str(plugin_file(tmp_path, "count_vowels")),
            "count_vowels",
            "--input",
            "hello world",
            "--kernel",
            str(kernel_file),
        ]
    )
    out = capsysbinary.readouterr()
    assert (code, out.out, out.err) == (0, b'{"count":3}', b"")


def test_input_file_and_config(tmp_path, kernel_file, capsysbinary):
    key = tmp_path / "key.txt"
    key.write_bytes(b"greeting")
    code = main(
        [
            "call",
            str(plugin_file(tmp_path, "config")),
            "get_config",
            "--input-file",
            str(key),
            "--config",
            "greeting=hi there",
            "--kernel",
            str(kernel_file),
        ]
    )
    assert (code, capsysbinary.readouterr().out) == (0, b"hi there")


def test_plugin_error_is_one_line(tmp_path, kernel_file, capsysbinary):
    code = main(["call", str(plugin_file(tmp_path, "fail")), "fail", "--kernel", str(kernel_file)])
    out = capsysbinary.readouterr()
    assert (code, out.out, out.err) == (1, b"", b"error: something went wrong\n")


def test_timeout(tmp_path, kernel_file, capsysbinary, host_runtime):
    code = main(
        [
            "call",
            str(plugin_file(tmp_path, "loop")),
            "loop_forever",
            "--timeout-ms",
            "50",
            "--kernel",
            str(kernel_file),
        ]
    )
    if host_runtime == "pywasm":
        expected = (
            b"error: runtime `pywasm`: timeouts and cancel handles not supported by this runtime\n"
        )
    else:
        expected = b"error: timeout\n"
    assert (code, capsysbinary.readouterr().err) == (1, expected)


def test_wasi_flag(tmp_path, capsysbinary):
    wasi = str(plugin_file(tmp_path, "wasi"))
    assert main(["call", wasi, "initialized", "--wasi"]) == 0
    assert capsysbinary.readouterr().out == b"1"
    assert main(["call", wasi, "initialized"]) == 1
    assert b"needs WASI" in capsysbinary.readouterr().err


def test_log_level(tmp_path, capsysbinary):
    code = main(
        [
            "call",
            str(plugin_file(tmp_path, "logger")),
            "log_all",
            "--input",
            "note",
            "--log-level",
            "warn",
        ]
    )
    out = capsysbinary.readouterr()
    assert (code, out.out, out.err) == (0, b"3", b"WARNING: note\nERROR: note\n")


def test_manifest_file_and_allow_host(tmp_path, capsysbinary):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"wasm": [{"path": str(plugin_file(tmp_path, "http"))}]}))
    request = json.dumps({"url": "http://example.invalid/"})
    assert main(["call", str(manifest), "fetch", "--input", request]) == 1
    err = capsysbinary.readouterr().err
    assert err == b"error: http request to `http://example.invalid/` is not allowed\n"


def test_missing_plugin_file(tmp_path, capsysbinary):
    missing = tmp_path / "nope.wasm"
    assert main(["call", str(missing), "f"]) == 2  # unreadable input (the README's exit codes)
    err = capsysbinary.readouterr().err
    assert (
        err
        == f"error: plugin: cannot read wasm file `{missing}`: No such file or directory\n".encode()
    )


def test_console_entry_point(tmp_path):
    proc = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "extism_kernel",
            "call",
            str(plugin_file(tmp_path, "reverse")),
            "reverse",
            "--input-file",
            "-",
        ],
        input=b"stdin bytes",
        capture_output=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"setyb nidts", b"")
