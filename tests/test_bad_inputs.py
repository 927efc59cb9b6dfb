"""Every bad input gets one clear error of the right class (API) or exit code (CLI), no traceback.

Table-driven: malformed manifests and plugin sources through `Plugin(...)`, and bad invocations
of every CLI command, each with the class or exit code and a fragment of the one line it must
say.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from extism_kernel import AbiMismatchError
from extism_kernel._errors import ExtismKernelError, UnknownRuntimeError
from extism_kernel.host import LinkError, ManifestError, Plugin, PluginError

from tests.host_plugins import plugin_wasm

ECHO = base64.b64encode(plugin_wasm("echo")).decode()
HERE = Path(__file__)


def echo(**extra: Any) -> dict[str, Any]:
    return {"wasm": [{"data": ECHO}], **extra}


MANIFESTS: list[tuple[str, object, type[Exception], str]] = [
    ("empty", {}, ManifestError, "`wasm` lists no module"),
    ("no-modules", {"wasm": []}, ManifestError, "`wasm` lists no module"),
    ("wasm-not-list", {"wasm": "x"}, ManifestError, "`wasm` must be list but found str"),
    ("wasm-entry-int", {"wasm": [1]}, ManifestError, "wasm[0]: expected an object"),
    ("wasm-entry-empty", {"wasm": [{}]}, ManifestError, "needs one of `path`, `data` or `url`"),
    ("data-int", {"wasm": [{"data": 5}]}, ManifestError, "`data` must be base64 text or bytes"),
    ("data-not-base64", {"wasm": [{"data": "%%%"}]}, ManifestError, "not valid base64"),
    ("path-int", {"wasm": [{"path": 5}]}, ManifestError, "`path` must be str but found int"),
    ("path-missing", {"wasm": [{"path": "/no/such.wasm"}]}, ManifestError, "cannot read wasm"),
    ("url-ftp", {"wasm": [{"url": "ftp://x/y.wasm"}]}, ManifestError, "must be http or https"),
    ("url-malformed", {"wasm": [{"url": "http://[::1"}]}, ManifestError, "cannot fetch"),
    ("url-nul", {"wasm": [{"url": "http://127.0.0.1:9/\x00"}]}, ManifestError, "cannot fetch"),
    ("url-control", {"wasm": [{"url": "http://127.0.0.1:9/a\nb"}]}, ManifestError, "cannot"),
    ("url-refused", {"wasm": [{"url": "http://127.0.0.1:9/x"}]}, ManifestError, "cannot fetch"),
    (
        "url-headers-int",
        {"wasm": [{"url": "http://x/", "headers": {"a": 1}}]},
        ManifestError,
        "maps strings",
    ),
    ("hash-mismatch", {"wasm": [{"data": ECHO, "hash": "0" * 64}]}, ManifestError, "hash mismatch"),
    ("hash-int", {"wasm": [{"data": ECHO, "hash": 5}]}, ManifestError, "`hash` must be str"),
    ("name-int", {"wasm": [{"data": ECHO, "name": 5}]}, ManifestError, "`name` must be str"),
    (
        "wasm-unknown-key",
        {"wasm": [{"data": ECHO, "size": 1}]},
        ManifestError,
        "unknown key `size`",
    ),
    ("top-unknown-key", echo(invalid_manifest=True), ManifestError, "unknown key"),
    ("memory-not-dict", echo(memory=[]), ManifestError, "`memory` must be dict"),
    ("memory-unknown", echo(memory={"max_page": 1}), ManifestError, "unknown key `max_page`"),
    ("pages-negative", echo(memory={"max_pages": -1}), ManifestError, "must not be negative"),
    ("pages-2^64", echo(memory={"max_pages": 2**64}), ManifestError, "at most 65536"),
    ("pages-str", echo(memory={"max_pages": "4"}), ManifestError, "must be int but found str"),
    ("pages-bool", echo(memory={"max_pages": True}), ManifestError, "must be int but found bool"),
    ("pages-float", echo(memory={"max_pages": 1.5}), ManifestError, "must be int but found float"),
    ("pages-too-few", echo(memory={"max_pages": 1}), ManifestError, "shared by 2 memories"),
    ("var-negative", echo(memory={"max_var_bytes": -1}), ManifestError, "must not be negative"),
    ("http-str", echo(memory={"max_http_response_bytes": "x"}), ManifestError, "must be int"),
    ("timeout-negative", echo(timeout_ms=-5), ManifestError, "must not be negative"),
    ("timeout-1e13", echo(timeout_ms=10**13), ManifestError, "`timeout_ms` must be at most"),
    ("timeout-float", echo(timeout_ms=1.5), ManifestError, "must be int but found float"),
    ("timeout-str", echo(timeout_ms="5"), ManifestError, "must be int but found str"),
    ("config-list", echo(config=[]), ManifestError, "`config` must be dict"),
    ("config-value-int", echo(config={"k": 1}), ManifestError, "maps strings to strings"),
    ("hosts-str", echo(allowed_hosts="x"), ManifestError, "`allowed_hosts` must be list"),
    ("hosts-none-int", echo(allowed_hosts=[None, 1]), ManifestError, "host names (strings)"),
    ("paths-list", echo(allowed_paths=[]), ManifestError, "`allowed_paths` must be dict"),
    ("paths-missing", echo(allowed_paths={"/no/such/dir": "/d"}), ManifestError, "not a directory"),
    ("paths-file", echo(allowed_paths={str(HERE): "/d"}), ManifestError, "not a directory"),
    ("paths-ro-missing", echo(allowed_paths={"ro:/no/such": "/d"}), ManifestError, "not a dir"),
    ("paths-value-int", echo(allowed_paths={str(HERE.parent): 1}), ManifestError, "maps strings"),
    (
        "duplicate-names",
        {"wasm": [{"data": ECHO, "name": "a"}, {"data": ECHO, "name": "a"}, {"data": ECHO}]},
        ManifestError,
        "duplicate",
    ),
    ("source-int", 42, ManifestError, "expected bytes, a path, a dict or a Manifest"),
    ("source-missing-path", "missing-plugin.wasm", ManifestError, "no such file"),
    ("source-missing-dir", "/no/such/dir/p.wasm", ManifestError, "no such file"),
    ("source-garbage", b"\x01\x02garbage", ManifestError, "not wasm, WAT or a JSON manifest"),
    ("source-bad-json", "{not json", ManifestError, "not wasm, WAT or a JSON manifest"),
    ("source-json-list", "[1, 2]", ManifestError, "expected a JSON object but found list"),
    ("source-bad-wasm", b"\0asm\x01\0\0\0\x01", PluginError, "not a valid WebAssembly module"),
    ("source-bad-wat", b"(module (func (export", PluginError, "not a valid WebAssembly module"),
    (
        "import-unknown",
        b'(module (import "extism:host/env" "nope" (func)) (func (export "f")))',
        LinkError,
        "not in the ABI spec",
    ),
    (
        "import-user-missing",
        b'(module (import "host" "nope" (func)) (func (export "f")))',
        LinkError,
        "not provided by the host or the manifest",
    ),
    (
        "import-needs-wasi",
        b'(module (import "wasi_snapshot_preview1" "fd_close" (func (param i32) (result i32))))',
        LinkError,
        "needs WASI",
    ),
]


@pytest.mark.parametrize(
    ("source", "error", "fragment"),
    [pytest.param(s, e, f, id=name) for name, s, e, f in MANIFESTS],
)
def test_a_bad_plugin_source_is_one_clear_error(
    source: object, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        Plugin(source, functions=[])
    message = str(info.value)
    assert fragment in message
    assert "Traceback" not in message


def test_a_plugin_given_as_the_kernel_lists_every_problem() -> None:
    with pytest.raises(AbiMismatchError) as info:
        Plugin(plugin_wasm("echo"), kernel=plugin_wasm("echo"), functions=[])
    problems = info.value.problems
    assert any("import `extism:host/env::" in p for p in problems)
    assert any("missing export `alloc`" in p for p in problems)


def test_kernel_bytes_that_are_not_wasm() -> None:
    with pytest.raises(PluginError, match="`kernel`: not a valid WebAssembly module"):
        Plugin(plugin_wasm("echo"), kernel=b"not wasm", functions=[])


def test_an_unknown_runtime() -> None:
    with pytest.raises(UnknownRuntimeError, match="runtime `nope`: expected one of"):
        Plugin(plugin_wasm("echo"), runtime="nope", functions=[])


class Garbage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.wfile.write(b"this is not HTTP\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_manifest_url_on_a_server_that_does_not_speak_http(garbage_server: str) -> None:
    with pytest.raises(ManifestError, match=r"cannot fetch `http://127\.0\.0\.1:\d+/x\.wasm`"):
        Plugin({"wasm": [{"url": f"{garbage_server}/x.wasm"}]}, functions=[])


# the command line ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad-cli")
    out = {"plugin": root / "echo.wasm", "garbage": root / "garbage.wasm", "dir": root}
    out["plugin"].write_bytes(plugin_wasm("echo"))
    out["garbage"].write_bytes(b"garbage")
    out["bad-json"] = root / "bad.json"
    out["bad-json"].write_text("{not json")
    out["paths"] = root / "paths.json"
    manifest = {"wasm": [{"path": str(out["plugin"])}], "allowed_paths": {"/no/such/dir": "/d"}}
    out["paths"].write_text(json.dumps(manifest))
    return out


CLI: list[tuple[str, list[str], int, str]] = [
    ("call-missing-plugin", ["call", "{dir}/missing.wasm", "echo"], 2, "No such file"),
    ("call-garbage-plugin", ["call", "{garbage}", "echo"], 1, "not wasm, WAT or a JSON"),
    ("call-bad-json", ["call", "{bad-json}", "echo"], 1, "not wasm, WAT or a JSON manifest"),
    ("call-missing-function", ["call", "{plugin}", "nope"], 1, "function `nope` not found"),
    ("call-kernel-is-plugin", ["call", "{plugin}", "echo", "--kernel", "{plugin}"], 1, "ABI spec"),
    ("call-kernel-missing", ["call", "{plugin}", "echo", "--kernel", "{dir}/k.wasm"], 2, "k.wasm"),
    ("call-kernel-garbage", ["call", "{plugin}", "echo", "--kernel", "{garbage}"], 1, "valid"),
    ("call-timeout-negative", ["call", "{plugin}", "echo", "--timeout-ms", "-5"], 1, "negative"),
    (
        "call-timeout-huge",
        ["call", "{plugin}", "echo", "--timeout-ms", "10000000000000"],
        1,
        "most",
    ),
    ("call-timeout-text", ["call", "{plugin}", "echo", "--timeout-ms", "soon"], 2, "invalid int"),
    ("call-pages-huge", ["call", "{plugin}", "echo", "--max-pages", str(2**64)], 1, "at most"),
    ("call-pages-negative", ["call", "{plugin}", "echo", "--max-pages", "-1"], 1, "negative"),
    ("call-pages-too-few", ["call", "{plugin}", "echo", "--max-pages", "1"], 1, "shared by"),
    ("call-runtime-unknown", ["call", "{plugin}", "echo", "--runtime", "nope"], 2, "choice"),
    ("call-config-no-equals", ["call", "{plugin}", "echo", "--config", "k"], 2, "KEY=VALUE"),
    ("call-input-missing", ["call", "{plugin}", "echo", "--input-file", "{dir}/in"], 2, "in"),
    ("call-paths-missing", ["call", "{paths}", "echo"], 1, "not a directory"),
    ("call-no-function", ["call", "{plugin}"], 2, "required"),
    ("check-kernel-missing", ["check-kernel", "{dir}/missing.wasm"], 2, "missing.wasm"),
    ("check-kernel-garbage", ["check-kernel", "{garbage}"], 2, "not a valid WebAssembly"),
    ("check-kernel-variant", ["check-kernel", "{plugin}", "--variant", "x"], 2, "choice"),
    ("check-plugin-missing", ["check-plugin", "{dir}/missing.wasm"], 2, "missing.wasm"),
    ("check-plugin-garbage", ["check-plugin", "{garbage}"], 2, "not a valid WebAssembly"),
    ("abi-diff-missing", ["abi-diff", "{dir}/a.json", "{dir}/b.json"], 2, "a.json"),
    ("abi-diff-garbage", ["abi-diff", "{garbage}", "{garbage}"], 2, "garbage.wasm"),
    ("conformance-kernel-missing", ["conformance", "--kernel", "{dir}/k.wasm"], 2, "k.wasm"),
    ("conformance-kernel-garbage", ["conformance", "--kernel", "{garbage}"], 2, "not a valid"),
    ("conformance-kernel-plugin", ["conformance", "--kernel", "{plugin}"], 1, "not a kernel"),
    ("vendor-unknown-variant", ["vendor", "{dir}/v", "--variant", "x"], 2, "known: default"),
    ("vendor-into-a-file", ["vendor", "{garbage}"], 2, "not a directory"),
    ("vendor-check-missing", ["vendor", "--check", "{dir}/nope"], 2, "no such directory"),
    ("vendor-check-no-lock", ["vendor", "--check", "{dir}"], 2, "no lock file"),
    ("info-extra-argument", ["info", "extra"], 2, "unrecognized arguments"),
    ("no-command", [], 2, "required"),
    ("unknown-command", ["frobnicate"], 2, "invalid choice"),
]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"), [pytest.param(a, c, f, id=n) for n, a, c, f in CLI]
)
def test_a_bad_invocation_is_one_clear_line(
    files: dict[str, Path], argv: list[str], code: int, fragment: str
) -> None:
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "extism_kernel", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "unexpected" not in proc.stderr
    assert fragment in proc.stderr


def test_the_tables_are_large_enough() -> None:
    assert len(MANIFESTS) + len(CLI) >= 60
    assert all(issubclass(e, ExtismKernelError) for _, _, e, _ in MANIFESTS)


BLOCK_WASMTIME = """
import sys
class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name == "wasmtime" or name.startswith("wasmtime."):
            raise ImportError(f"No module named '{name}'", name=name)
        return None
sys.meta_path.insert(0, _Blocked())
"""


@pytest.mark.parametrize(
    "code",
    [
        "from extism_kernel.host import Plugin; Plugin(b'(module)', functions=[])",
        "import extism_kernel; extism_kernel.check_kernel(b'\\\\0asm\\\\1\\\\0\\\\0\\\\0')",
        "from extism_kernel._cli import main; raise SystemExit(main(['call', 'x.wasm', 'f']))",
    ],
    ids=["Plugin", "check_kernel", "cli-call"],
)
def test_without_wasmtime_the_error_names_the_extra(tmp_path: Path, code: str) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_WASMTIME)
    (tmp_path / "x.wasm").write_bytes(b'(module (func (export "f")))')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert "pip install 'extism-kernel[host]'" in output, output
    assert "ModuleNotFoundError" not in output
