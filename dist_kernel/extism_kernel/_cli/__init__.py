"""The `extism-kernel` command: argument parsing, printing and exit codes, nothing else.

Each subcommand lives in its own module exposing `register(subparsers)`, which adds a parser
whose `run(args) -> int` default does the work. Exit codes, shared by all commands:
0 fine, 1 problems found, 2 input unreadable or not wasm (errors are one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from extism_kernel import __version__
from extism_kernel._cli import (
    abi_diff,
    call,
    check_kernel,
    check_plugin,
    conformance,
    info,
    vendor,
)
from extism_kernel._errors import (
    AbiMismatchError,
    ExtismKernelError,
    InvalidWasmError,
    UnreadableInputError,
)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2

COMMANDS = (info, check_kernel, check_plugin, abi_diff, call, conformance, vendor)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="extism-kernel",
        description="The Extism kernel: info, ABI checks and a reference host.",
    )
    parser.add_argument("--version", action="version", version=f"extism-kernel {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def fail(message: str) -> None:
    """Print one `error: …` line on stderr."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"error: {first}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (InvalidWasmError, UnreadableInputError) as exc:
        fail(str(exc))
        return EXIT_BAD_INPUT
    except OSError as exc:
        fail(f"`{exc.filename}`: {exc.strerror}" if exc.filename else str(exc))
        return EXIT_BAD_INPUT
    except AbiMismatchError as exc:  # every problem, one a line
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ExtismKernelError as exc:
        fail(str(exc))
        return EXIT_PROBLEMS
    except Exception as exc:  # noqa: BLE001  # never a traceback: say what it was, in one line
        fail(f"unexpected {type(exc).__name__}: {exc}")
        return EXIT_PROBLEMS
