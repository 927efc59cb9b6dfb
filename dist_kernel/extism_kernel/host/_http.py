"""One HTTP fetch for the host: a deadline for the whole request, every hop checked, a size cap.

`http_request` (the builtin) and manifest `url` downloads both go through `fetch`:
- one deadline covers connecting, the headers, every redirect and the body: a server that drips
  a byte at a time cannot keep the call alive past it;
- every redirect's host is checked with `allowed` before it is followed;
- the body is read in chunks and refused once it passes `limit` bytes.
The request runs on a worker thread so that the caller can stop waiting at the deadline; the
worker notices at its next chunk (or socket timeout) and ends.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHUNK = 64 * 1024


class FetchError(Exception):
    """The request failed; the message says why, in the host's words."""


@dataclass
class Response:
    """A finished request: status, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Outcome:
    response: Response | None = None
    error: BaseException | None = None
    stop: threading.Event = field(default_factory=threading.Event)


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an allowed host (each hop, so no chain escapes the check)."""

    def __init__(self, allowed: Callable[[str], bool] | None) -> None:
        self.allowed = allowed

    def redirect_request(  # noqa: PLR0913, PLR0917  # urllib's signature
        self,
        req: urllib.request.Request,
        fp: Any,  # noqa: ANN401
        code: int,
        msg: str,
        headers: Any,  # noqa: ANN401
        newurl: str,
    ) -> urllib.request.Request | None:
        """The next hop's request, once its host is allowed; `FetchError` otherwise."""
        host = urllib.parse.urlsplit(newurl).hostname or ""
        if self.allowed is not None and not self.allowed(host):
            fp.close()  # the redirect response is not followed: release its connection
            text = f"redirect to `{newurl}` is not allowed (host `{host}` is not in allowed_hosts)"
            raise FetchError(text)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read(resp: Any, limit: int, outcome: _Outcome) -> bytes:  # noqa: ANN401
    chunks: list[bytes] = []
    size = 0
    while not outcome.stop.is_set():
        chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            msg = f"response exceeds the configured maximum number of bytes: {limit}"
            raise FetchError(msg)
        chunks.append(chunk)
    return b""


def _work(
    request: urllib.request.Request,
    timeout_s: float | None,
    limit: int,
    allowed: Callable[[str], bool] | None,
    outcome: _Outcome,
) -> None:
    opener = urllib.request.build_opener(_CheckedRedirects(allowed))
    try:
        try:
            with opener.open(request, timeout=timeout_s) as resp:
                body = _read(resp, limit, outcome)
                status, items = resp.status, resp.headers.items()
        except urllib.error.HTTPError as resp:
            body = _read(resp, limit, outcome)
            status, items = resp.code, resp.headers.items()
        headers = {k.lower(): v for k, v in items}
        outcome.response = Response(int(status), headers, body)
    except BaseException as exc:  # noqa: BLE001  # handed to the waiting caller
        outcome.error = exc


def fetch(
    request: urllib.request.Request,
    *,
    timeout_s: float | None,
    limit: int,
    allowed: Callable[[str], bool] | None = None,
) -> Response:
    """Perform `request` within `timeout_s` (None: no deadline); its response.

    Raises `FetchError` on a timeout ("timeout"), a redirect to a host `allowed` refuses, a
    body over `limit` bytes, or a transport error (its message).
    """
    if timeout_s is not None and timeout_s <= 0:
        raise FetchError("timeout")
    outcome = _Outcome()
    worker = threading.Thread(
        target=_work, args=(request, timeout_s, limit, allowed, outcome), daemon=True
    )
    started = time.monotonic()
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        outcome.stop.set()  # the worker stops at its next chunk or socket timeout
        raise FetchError("timeout")
    if isinstance(outcome.error, FetchError):
        raise outcome.error
    if isinstance(outcome.error, TimeoutError) or (
        outcome.error is not None
        and timeout_s is not None
        and time.monotonic() - started >= timeout_s
    ):
        raise FetchError("timeout")
    if outcome.error is not None:
        reason = getattr(outcome.error, "reason", None) or outcome.error
        raise FetchError(f"{reason}")
    assert outcome.response is not None
    return outcome.response
