"""A hostile plugin against the reference host's limits: each test tries to escape one of them.

Timeouts (every call path, a machine busy with Python threads), HTTP (one deadline for the whole
request, redirects, sizes), host errors kept with their own call and thread. On wasmtime, the
runtime with every feature.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from extism_kernel.host import ManifestError, Plugin, PluginError, _manifest, host_fn

from tests.host_plugins import plugin_wasm

LOOP_FOREVER = "(loop $l (br $l))"
BUSY_THREADS = 8
STRESS_TRIES = 1000


def manifest(wasm: bytes, **extra: object) -> dict[str, object]:
    return {"wasm": [{"data": wasm}], **extra}


def module_with(body: str) -> bytes:
    """A plugin whose `run` returns 0, plus `body` (start functions, initialisers)."""
    return f'(module {body} (func (export "run") (result i32) i32.const 0))'.encode()


def failure_within(plugin: Plugin, function: str, seconds: float = 20) -> PluginError:
    """The `PluginError` of calling `function`; fails (instead of hanging) if it never returns."""
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            plugin.call(function, b"x")
        except BaseException as exc:  # noqa: BLE001  # handed back to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"`{function}` still running after {seconds} s: a lost timeout"
    (exc,) = outcome
    assert isinstance(exc, PluginError), exc
    return exc


# timeouts ------------------------------------------------------------------------------------
def test_a_timeout_of_zero_stops_the_call_at_once() -> None:
    plugin = Plugin(manifest(plugin_wasm("loop"), timeout_ms=0), functions=[])
    error = failure_within(plugin, "loop_forever", seconds=5)
    assert (error.message, error.kind) == ("timeout", "timeout")


@pytest.mark.parametrize(
    "body",
    [
        f"(func $spin {LOOP_FOREVER}) (start $spin)",
        f'(func (export "_initialize") {LOOP_FOREVER})',
        f'(func (export "__wasm_call_ctors") {LOOP_FOREVER})',
    ],
    ids=["start-section", "_initialize", "__wasm_call_ctors"],
)
def test_a_loop_in_an_initialiser_times_out(body: str) -> None:
    plugin = Plugin(manifest(module_with(body), timeout_ms=200), functions=[])
    assert failure_within(plugin, "run").kind == "timeout"


def test_a_loop_in_another_modules_start_times_out() -> None:
    lib = f'(module (func $spin {LOOP_FOREVER}) (start $spin) (func (export "f")))'.encode()
    main = b'(module (import "lib" "f" (func)) (func (export "run") (result i32) i32.const 0))'
    source = {"wasm": [{"data": lib, "name": "lib"}, {"data": main}], "timeout_ms": 200}
    plugin = Plugin(source, functions=[])  # loading runs no plugin code
    assert failure_within(plugin, "run").kind == "timeout"


def test_cancel_stops_a_start_function() -> None:
    plugin = Plugin(module_with(f"(func $spin {LOOP_FOREVER}) (start $spin)"), functions=[])
    handle = plugin.cancel_handle()
    cancelled: list[bool] = []
    timer = threading.Timer(0.2, lambda: cancelled.append(handle.cancel()))
    timer.start()
    assert failure_within(plugin, "run").message == "cancelled"
    timer.join()
    assert cancelled == [True]


@contextlib.contextmanager
def busy_python_threads(count: int) -> Iterator[None]:
    """`count` threads spinning in Python: the timer thread must compete for the GIL."""
    stop = threading.Event()

    def spin() -> None:
        n = 0
        while not stop.is_set():
            n += 1

    threads = [threading.Thread(target=spin, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join()


def test_no_timeout_is_lost_on_a_busy_machine(
    record_property: Callable[[str, object], None], request: pytest.FixtureRequest
) -> None:
    """1,000 calls of an endless loop with a 1 ms timeout, 8 Python threads spinning: each one
    ends with `timeout` (a lost timer would hang the test, which the deadline below catches)."""
    plugin = Plugin(manifest(plugin_wasm("loop"), timeout_ms=1), functions=[])
    kinds: dict[str, int] = {}
    start = time.monotonic()
    # GIL hand-offs every 0.5 ms instead of 5: the same contention, ten times the tries a second
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    request.addfinalizer(lambda: sys.setswitchinterval(interval))
    with busy_python_threads(BUSY_THREADS):
        for _ in range(STRESS_TRIES):
            kind = failure_within(plugin, "loop_forever").kind
            kinds[kind] = kinds.get(kind, 0) + 1
    record_property("stress_seconds", round(time.monotonic() - start, 1))
    record_property("lost_timeouts", STRESS_TRIES - kinds.get("timeout", 0))
    assert kinds == {"timeout": STRESS_TRIES}


# HTTP ----------------------------------------------------------------------------------------
class Hostile(http.server.BaseHTTPRequestHandler):
    """/drip: a byte every 0.2 s; /big: 4 KiB; /redirect?code&to: a redirect; else 'ok'."""

    def _head(self, status: int, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the host gave up
            if path == "/drip":
                self._head(200, 100)
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif path == "/big":
                self._head(200, 4096)
                self.wfile.write(b"b" * 4096)
            elif path == "/redirect":
                code, _, target = query.partition("&")
                self._head(int(code), 0, {"Location": target})
            else:
                self._head(200, 2)
                self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[tuple[str, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_address[1]
    server.shutdown()
    server.server_close()


def http_plugin(hosts: list[str], **extra: object) -> Plugin:
    return Plugin(manifest(plugin_wasm("http"), allowed_hosts=hosts, **extra), functions=[])


def test_a_dripping_server_cannot_outlast_the_call_timeout(
    hostile_server: tuple[str, int],
) -> None:
    host, port = hostile_server
    plugin = http_plugin([host], timeout_ms=1000)
    start = time.monotonic()
    with pytest.raises(PluginError, match="timeout"):
        plugin.call("fetch", json.dumps({"url": f"http://{host}:{port}/drip"}))
    assert time.monotonic() - start < 3  # the server would drip for 20 s


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_to_a_host_that_is_not_allowed_is_refused(
    hostile_server: tuple[str, int], code: int
) -> None:
    host, port = hostile_server
    plugin = http_plugin([host])
    target = f"http://localhost:{port}/ok"  # the same server, by a name that is not allowed
    url = f"http://{host}:{port}/redirect?{code}&{target}"
    with pytest.raises(PluginError, match=r"redirect to `http://localhost:\d+/ok` is not allowed"):
        plugin.call("fetch", json.dumps({"url": url}))
    both = http_plugin([host, "localhost"])
    assert both.call("fetch", json.dumps({"url": url})) == b"ok"


def test_a_manifest_download_has_one_deadline(
    hostile_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_manifest, "URL_TIMEOUT_S", 1.0)
    host, port = hostile_server
    start = time.monotonic()
    with pytest.raises(ManifestError, match=r"cannot fetch .*: timeout"):
        Plugin({"wasm": [{"url": f"http://{host}:{port}/drip"}]}, functions=[])
    assert time.monotonic() - start < 3


def test_a_manifest_download_has_a_size_limit(
    hostile_server: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_manifest, "MAX_MODULE_BYTES", 1024)
    host, port = hostile_server
    with pytest.raises(ManifestError, match=r"exceeds the configured maximum .* 1024"):
        Plugin({"wasm": [{"url": f"http://{host}:{port}/big"}]}, functions=[])


# host errors stay with their call --------------------------------------------------------------
def test_host_errors_never_cross_between_plugins_on_two_threads(
    restore_host_fn_registry: None, record_property: Callable[[str, object], None]
) -> None:
    @host_fn(name="to_upper")
    def failing(text: str) -> str:
        raise RuntimeError("A failed: " + text)

    @host_fn(name="add", namespace="host")
    def add(a: int, b: int) -> int:
        return a + b

    raising = Plugin(plugin_wasm("host_fn"), functions=[failing, add])
    trapping = Plugin(plugin_wasm("fail"), functions=[])
    seen: dict[str, list[str]] = {"A": [], "B": []}
    stop = time.monotonic() + 3

    def run(name: str, plugin: Plugin, function: str) -> None:
        while time.monotonic() < stop:
            try:
                plugin.call(function, b"x")
            except PluginError as exc:  # noqa: PERF203  # one call a turn is the point
                seen[name].append(exc.message)

    threads = [
        threading.Thread(target=run, args=("A", raising, "upper")),
        threading.Thread(target=run, args=("B", trapping, "trap")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    crosstalk = sum("A failed" in m for m in seen["B"]) + sum(
        "A failed" not in m for m in seen["A"]
    )
    record_property("crosstalk", crosstalk)
    assert seen["A"]
    assert seen["B"]
    assert crosstalk == 0
