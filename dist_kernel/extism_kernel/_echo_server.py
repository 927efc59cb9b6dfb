"""The HTTP echo server the conformance suite's HTTP cases talk to (127.0.0.1, a free port).

It answers every request with its own shape, so a case can check what the plugin sent:
`METHOD PATH`, then the `x-conformance-*` headers, a blank line, and the body. A path
`/status/NNN` answers with that status code.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ECHO_HEADER_PREFIX = "x-conformance-"
STATUS_PATH = "/status/"


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Answer every request with its own shape: `METHOD PATH`, x-conformance-* headers, body."""

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = sorted(
            (k.lower(), v)
            for k, v in self.headers.items()
            if k.lower().startswith(ECHO_HEADER_PREFIX)
        )
        text = f"{self.command} {self.path}\n" + "".join(f"{k}: {v}\n" for k, v in headers)
        payload = text.encode() + b"\n" + body
        status = 200
        route = self.path.split("?")[0]
        if route.startswith(STATUS_PATH) and route[len(STATUS_PATH) :].isdigit():
            status = int(route[len(STATUS_PATH) :])
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _echo  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet: the suite reports results, not requests."""


@contextmanager
def echo_server() -> Iterator[str]:
    """Run the HTTP echo server on 127.0.0.1 (a free port) and yield its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
