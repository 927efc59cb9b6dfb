"""The builtin host functions: config, vars, logging and HTTP (against a real local server)."""

from __future__ import annotations

import ast
import contextlib
import hashlib
import http.server
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import extism
import extism_kernel.host
import pytest
from extism_kernel import load_abi
from extism_kernel._runtimes import LOG_LEVEL_OFF, TRACE
from extism_kernel.host import ManifestError, Plugin, PluginError
from extism_kernel.host._host_functions import BUILTINS, host_allowed

from tests.host_plugins import plugin_wasm

pytestmark = pytest.mark.usefixtures("host_runtime")  # every test on each runtime

LOGGER = "extism_kernel.plugin"


def test_registry_keys_are_the_spec_host_functions():
    assert list(BUILTINS) == list(load_abi().host_function_names)


# config -------------------------------------------------------------------------------------
def test_config_get(kernel):
    manifest = {
        "wasm": [{"data": plugin_wasm("config")}],
        "config": {"greeting": "hi", "empty": ""},
    }
    plugin = Plugin(manifest, kernel=kernel, config={"extra": "from kwarg"})
    assert plugin.call("get_config", "greeting") == b"hi"
    assert plugin.call("get_config", "extra") == b"from kwarg"
    assert plugin.call("get_config", "missing") == b""
    assert plugin.call("get_config", "empty") == b""


def test_config_matches_official_sdk(kernel):
    manifest = {"wasm": [{"data": plugin_wasm("config")}], "config": {"k": "value ☃"}}
    with extism.Plugin(manifest, functions=[]) as theirs:
        expected = bytes(theirs.call("get_config", "k"))
    assert Plugin(manifest, kernel=kernel).call("get_config", "k") == expected == "value ☃".encode()


# vars ---------------------------------------------------------------------------------------
def test_vars_persist_across_calls(kernel):
    plugin = Plugin(plugin_wasm("vars"), kernel=kernel)
    assert [plugin.call("count") for _ in range(3)] == [b"1", b"2", b"3"]
    plugin.call("forget")
    assert plugin.call("count") == b"1"


def test_vars_are_per_plugin(kernel):
    first, second = (
        Plugin(plugin_wasm("vars"), kernel=kernel),
        Plugin(plugin_wasm("vars"), kernel=kernel),
    )
    first.call("count")
    first.call("count")
    assert second.call("count") == b"1"


def test_vars_match_official_sdk(kernel):
    with extism.Plugin(plugin_wasm("vars"), functions=[]) as theirs:
        expected = [bytes(theirs.call("count", b"")) for _ in range(3)]
    plugin = Plugin(plugin_wasm("vars"), kernel=kernel)
    assert [plugin.call("count") for _ in range(3)] == expected


def test_var_store_limit(kernel):
    """Rust counts 48 bytes per entry plus key and value, the replaced entry included."""
    manifest = {"wasm": [{"data": plugin_wasm("vars")}], "memory": {"max_var_bytes": 200}}
    plugin = Plugin(manifest, kernel=kernel)
    plugin.call("big", b"x" * 49)  # 48 + len("big") + 49 = 100
    with pytest.raises(PluginError, match="variable store is full: 201 bytes") as info:
        plugin.call("big", b"x" * 50)  # 100 (the old entry) + 101
    assert info.value.code == -1
    plugin.call("big", b"x" * 48)  # 100 + 99 = 199: fits, and the plugin still works


def test_replacing_a_var_frees_its_old_size(kernel):
    manifest = {"wasm": [{"data": plugin_wasm("vars")}], "memory": {"max_var_bytes": 200}}
    plugin = Plugin(manifest, kernel=kernel)
    for size in (49, 10, 49, 10, 49):  # 100, then 100 + 61, then 61 + 100, ...: all fit
        plugin.call("big", b"x" * size)


def test_var_set_never_walks_the_store(kernel):
    """The store's size is kept as vars change: a set costs O(1), not a sum over every var."""

    class NoWalk(dict[str, bytes]):
        def items(self):
            raise AssertionError("var_set walked the store")

        values = items
        __iter__ = items

    plugin = Plugin(plugin_wasm("vars"), kernel=kernel)
    plugin.call("count")
    env = plugin._session.env
    env.vars = NoWalk(env.vars)
    assert [plugin.call("count") for _ in range(3)] == [b"2", b"3", b"4"]
    plugin.call("forget")
    assert env.var_bytes == 0


def test_a_var_store_of_exactly_max_var_bytes_fits(kernel):
    manifest = {"wasm": [{"data": plugin_wasm("vars")}], "memory": {"max_var_bytes": 200}}
    plugin = Plugin(manifest, kernel=kernel)
    plugin.call("big", b"x" * 49)  # 48 + 3 + 49 = 100
    plugin.call("big", b"x" * 49)  # 100 (the old entry) + 100 = 200: exactly the limit
    with pytest.raises(PluginError, match="variable store is full: 201 bytes"):
        plugin.call("big", b"x" * 50)


@pytest.mark.parametrize(
    ("function", "lengths"),
    [("var_set", b"0,0"), ("var_remove", b"0,0"), ("config_get", b"0,24")],
)
def test_builtins_free_the_handles_they_take(kernel, function, lengths):
    """var_set frees key and value, config_get frees key (the plugin owns the result)."""
    plugin = Plugin(
        {
            "wasm": [{"data": plugin_wasm("ownership")}],
            "config": {"key": "a value of 24 bytes long"},
        },
        kernel=kernel,
    )
    assert plugin.call(function) == lengths


def test_vars_disabled(kernel):
    manifest = {"wasm": [{"data": plugin_wasm("vars")}], "memory": {"max_var_bytes": 0}}
    with pytest.raises(PluginError, match="vars are disabled"):
        Plugin(manifest, kernel=kernel).call("count")


# logging ------------------------------------------------------------------------------------
def test_logs_go_to_python_logging(kernel, caplog):
    caplog.set_level(TRACE, logger=LOGGER)
    plugin = Plugin(plugin_wasm("logger"), kernel=kernel)
    assert plugin.call("log_all", "a message") == b"0"  # trace is enabled
    records = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]
    levels = [TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    assert records == [(level, "a message") for level in levels]


def test_log_level_filters_and_is_reported(kernel, caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    plugin = Plugin(plugin_wasm("logger"), kernel=kernel)
    assert plugin.call("log_all", "filtered") == b"3"
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [
        logging.WARNING,
        logging.ERROR,
    ]


def test_log_level_off(kernel):
    logger = logging.getLogger("extism_kernel.test.silent")
    logger.setLevel(logging.CRITICAL + 1)
    assert (
        Plugin(plugin_wasm("logger"), kernel=kernel, logger=logger).call("log_all", "x")
        == str(LOG_LEVEL_OFF).encode()
    )


# HTTP ---------------------------------------------------------------------------------------
class Handler(http.server.BaseHTTPRequestHandler):
    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Test", "yes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/hello":
            self._reply(200, b"hello from the server")
        elif self.path == "/big":
            self._reply(200, b"b" * 1000)
        elif self.path == "/slow":
            time.sleep(1)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the host gave up
                self._reply(200, b"too late")
        elif self.path == "/echo.wasm":
            self._reply(200, plugin_wasm("echo"))
        elif self.path == "/header":
            self._reply(200, self.headers.get("X-Plugin", "").encode())
        else:
            self._reply(404, b"no such page")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._reply(200, b"got " + body + b" via " + self.command.encode())

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def http_plugin(kernel: bytes, hosts: list[str] | None = None, **memory: int) -> Plugin:
    manifest: dict[str, object] = {"wasm": [{"data": plugin_wasm("http")}]}
    if hosts is not None:
        manifest["allowed_hosts"] = hosts
    if memory:
        manifest["memory"] = memory
    return Plugin(manifest, kernel=kernel, http_response_headers=True)


def request(url: str, **extra: object) -> str:
    return json.dumps({"url": url, **extra})


def test_http_get(kernel, server):
    plugin = http_plugin(kernel, ["127.0.0.1"])
    assert plugin.call("fetch", request(f"{server}/hello")) == b"hello from the server"
    assert plugin.call("status", request(f"{server}/hello")) == b"200"


def test_http_get_matches_official_sdk(kernel, server):
    manifest = {"wasm": [{"data": plugin_wasm("http")}], "allowed_hosts": ["127.0.0.1"]}
    with extism.Plugin(manifest, functions=[]) as theirs:
        expected = bytes(theirs.call("fetch", request(f"{server}/hello")))
    assert http_plugin(kernel, ["127.0.0.1"]).call("fetch", request(f"{server}/hello")) == expected


def test_http_non_2xx_is_not_an_error(kernel, server):
    plugin = http_plugin(kernel, ["127.0.0.1"])
    assert plugin.call("fetch", request(f"{server}/missing")) == b"no such page"
    assert plugin.call("status", request(f"{server}/missing")) == b"404"


def test_http_post_with_body_and_headers(kernel, server):
    plugin = http_plugin(kernel, ["127.0.0.*"])
    assert plugin.call("post", request(f"{server}/echo", method="post")) == b"got ping via POST"
    sent = request(f"{server}/header", headers={"X-Plugin": "kernel"})
    assert plugin.call("fetch", sent) == b"kernel"


def test_http_response_headers(kernel, server):
    headers = json.loads(http_plugin(kernel, ["*"]).call("headers", request(f"{server}/hello")))
    assert headers["x-test"] == "yes"
    assert headers["content-length"] == "21"


def test_http_headers_disabled_by_default(kernel, server):
    manifest = {"wasm": [{"data": plugin_wasm("http")}], "allowed_hosts": ["*"]}
    assert Plugin(manifest, kernel=kernel).call("headers", request(f"{server}/hello")) == b""


@pytest.mark.parametrize("hosts", [None, [], ["example.com"], ["*.127.0.0.1"]])
def test_http_host_not_allowed(kernel, server, hosts):
    plugin = http_plugin(kernel, hosts)
    url = f"{server}/hello"
    with pytest.raises(PluginError, match=f"http request to `{url}` is not allowed") as info:
        plugin.call("fetch", request(url))
    assert info.value.kind == "host"


def test_http_response_limit(kernel, server):
    plugin = http_plugin(kernel, ["127.0.0.1"], max_http_response_bytes=999)
    with pytest.raises(PluginError, match="exceeds the configured maximum number of bytes: 999"):
        plugin.call("fetch", request(f"{server}/big"))
    assert (
        http_plugin(kernel, ["127.0.0.1"], max_http_response_bytes=1000).call(
            "fetch", request(f"{server}/big")
        )
        == b"b" * 1000
    )


def test_http_bad_request_json(kernel):
    plugin = http_plugin(kernel, ["*"])
    with pytest.raises(PluginError, match="http request: unknown key `body`"):
        plugin.call("fetch", json.dumps({"url": "http://127.0.0.1/", "body": "x"}))
    with pytest.raises(PluginError, match="http request: invalid JSON"):
        plugin.call("fetch", b"{not json")


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("example.com", ["example.com"], True),
        ("a.b.example.com", ["*.example.com"], True),
        ("example.com", ["*.example.com"], False),
        ("anything.org", ["*"], True),
        ("example.com", None, False),
        ("example.com", [], False),
        ("exampleXcom", ["example.com"], False),
        ("host1", ["host?"], True),
    ],
)
def test_allowed_hosts_globs(host, patterns, allowed):
    assert host_allowed(host, None if patterns is None else tuple(patterns)) is allowed


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("config_get", "(i64.const 12345)", "invalid handle offset for config key: 12345"),
        ("var_get", "(i64.const 12345)", "invalid handle offset for var key: 12345"),
        ("log_error", "(i64.const 12345)", "invalid handle offset for log message: 12345"),
        (
            "http_request",
            "(i64.const 12345) (i64.const 0)",
            "invalid handle offset for http request: 12345",
        ),
    ],
)
def test_bad_handles_fail_the_call(kernel, name, params, message):
    spec = load_abi().env_imports[name].sig
    sig = f"(param {' '.join(t.value for t in spec.param_types)})"
    sig += f" (result {spec.results[0].value})" if spec.results else ""
    drop = "drop" if spec.results else ""
    wat = f"""(module (import "extism:host/env" "{name}" (func $f {sig}))
                      (func (export "bad") (result i32) (call $f {params}) {drop} (i32.const 0)))"""
    with pytest.raises(PluginError) as info:
        Plugin(wat.encode(), kernel=kernel).call("bad")
    assert (info.value.message, info.value.code, info.value.kind) == (message, -1, "host")


def test_no_abi_name_is_a_string_literal_in_the_host():
    """STYLE §9: ABI names come from abi.json, never typed as literals in the host's code."""
    spec = load_abi()
    names = set(spec.env_imports) | set(spec.legacy_imports)  # (`memory` is a manifest key too)
    folder = Path(extism_kernel.host.__file__).parent
    found = [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for path in sorted(folder.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in names
    ]
    assert found == []


def test_manifest_wasm_from_url(kernel, server):
    wasm = plugin_wasm("echo")
    source = {"url": f"{server}/echo.wasm", "hash": hashlib.sha256(wasm).hexdigest()}
    plugin = Plugin({"wasm": [source]}, kernel=kernel)
    assert plugin.call("echo", b"fetched") == b"fetched"
    with pytest.raises(ManifestError, match="hash mismatch"):
        Plugin({"wasm": [{**source, "hash": "0" * 64}]}, kernel=kernel)


def test_http_request_gets_the_remaining_timeout(kernel, server, host_runtime):
    if host_runtime == "pywasm":
        pytest.skip("no timeouts on pywasm: see test_host_limits.py")
    manifest = {"wasm": [{"data": plugin_wasm("http")}], "allowed_hosts": ["*"], "timeout_ms": 200}
    plugin = Plugin(manifest, kernel=kernel)
    with pytest.raises(PluginError, match=r"^timeout$") as info:
        plugin.call("fetch", request(f"{server}/slow"))
    assert info.value.kind == "host"
    assert plugin.call("fetch", request(f"{server}/hello")) == b"hello from the server"
