"""`extism-kernel call`: run one export of a plugin on the reference host; output to stdout.

The plugin is a wasm or WAT file or a JSON manifest; the options override the manifest's config,
allowed hosts, timeout and memory limit. Plugin errors are one line on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from pathlib import Path

from extism_kernel._errors import LinkError, MissingDependencyError, PluginError
from extism_kernel._runtimes import LOG_LEVEL_NAMES, RUNTIMES, log_level


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        msg = f"expected KEY=VALUE but found `{text}`"
        raise argparse.ArgumentTypeError(msg)
    return key, value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `call` subcommand."""
    parser = sub.add_parser("call", help="call a plugin function on the reference host")
    parser.add_argument("plugin", type=Path, help="wasm or WAT file, or a JSON manifest")
    parser.add_argument("function", help="the export to call")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", default="", help="the input, as text")
    source.add_argument("--input-file", type=Path, help="read the input from a file (- for stdin)")
    parser.add_argument(
        "--config",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config entry (repeatable)",
    )
    parser.add_argument("--wasi", action="store_true", help="enable WASI")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="allow HTTP requests to HOST, a glob (repeatable)",
    )
    parser.add_argument("--timeout-ms", type=int, help="stop the call after this many ms")
    parser.add_argument(
        "--max-pages",
        type=int,
        help="64 KiB pages for every memory of the plugin together, the kernel's included",
    )
    parser.add_argument("--kernel", type=Path, help="run on this kernel .wasm instead of ours")
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help="the host's WebAssembly runtime (default: $EXTISM_KERNEL_RUNTIME or wasmtime;"
        " pywasm: pure Python, slow, no timeouts or cancel handles;"
        " wasm3: C interpreter, no timeouts, cancel handles or WASI)",
    )
    parser.add_argument(
        "--http-response-headers",
        action="store_true",
        help="let the plugin read the headers of its HTTP responses (http_headers)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (ok, output as text and base64, or the error) on stdout",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVEL_NAMES,
        default="off",
        help="print the plugin's logs at this level and above on stderr",
    )
    parser.set_defaults(run=run)


def _logger(level: str) -> tuple[logging.Logger, logging.Handler]:
    """The plugin's logger for this run, printing `LEVEL: message` lines on the current stderr."""
    logger = logging.getLogger("extism_kernel.cli.plugin")
    logger.setLevel(log_level(level).python)
    logger.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger.addHandler(handler)
    return logger, handler


def run(args: argparse.Namespace) -> int:
    """Call the function and write its output bytes to stdout."""
    try:
        from extism_kernel.host import Plugin  # noqa: PLC0415 (needs the host extra)
        from extism_kernel.host._manifest import load_manifest  # noqa: PLC0415
    except ImportError:
        msg = "`call` needs the reference host: pip install 'extism-kernel[host]'"
        raise MissingDependencyError(msg) from None
    if args.input_file is None:
        data = args.input.encode()
    elif str(args.input_file) == "-":
        data = sys.stdin.buffer.read()
    else:
        data = args.input_file.read_bytes()
    manifest = load_manifest(args.plugin).with_limits(
        timeout_ms=args.timeout_ms, max_pages=args.max_pages, allowed_hosts=tuple(args.allow_host)
    )
    kernel = args.kernel.read_bytes() if args.kernel else None
    logger, handler = _logger(args.log_level)
    try:
        with Plugin(
            manifest,
            wasi=args.wasi,
            config=dict(args.config),
            kernel=kernel,
            logger=logger,
            runtime=args.runtime,
            http_response_headers=args.http_response_headers,
        ) as plugin:
            output = plugin.call(args.function, data)  # a PluginError becomes one line, exit 1
    except LinkError as exc:  # the command line's spelling of the WASI hint
        raise LinkError(str(exc).replace("pass `wasi=True`", "pass `--wasi`")) from None
    except PluginError as exc:
        if not args.json:
            raise
        print(json.dumps(_failure_json(exc)))
        return 1
    finally:
        logger.removeHandler(handler)
    if args.json:
        print(json.dumps(_output_json(output)))
        return 0
    sys.stdout.buffer.write(output)
    sys.stdout.buffer.flush()
    return 0


def _output_json(output: bytes) -> dict[str, object]:
    try:
        text: str | None = output.decode()
    except UnicodeDecodeError:
        text = None
    return {"ok": True, "output": text, "output_base64": base64.b64encode(output).decode()}


def _failure_json(exc: PluginError) -> dict[str, object]:
    return {"ok": False, "error": exc.message, "kind": exc.kind, "code": exc.code}
