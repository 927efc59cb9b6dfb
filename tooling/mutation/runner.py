"""Run mutants: plant one, rebuild the kernel if its source changed, run the area's tests, restore.

A mutant is `killed` when the tests fail (or time out), `survived` when they pass, and
`stillborn` when the kernel no longer builds or passes its build check. The planted file and
the built kernel files are restored whatever happens, Ctrl-C included.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Literal

from extism_kernel._errors import ExtismKernelError
from extism_kernel._kernel import BUILD_INFO_FILE

from tooling import CRATE_DIR, PACKAGE_DIR, REPO
from tooling.kernel_build import KernelBuildError, build_kernel
from tooling.mutation.catalogue import Catalogue, Mutant

Outcome = Literal["killed", "survived", "stillborn"]
PYTEST_FAILED = 1
TEST_TIMEOUT_S = 180  # a mutant can make the kernel loop forever: that counts as caught


@dataclass(frozen=True)
class MutantResult:
    """How one mutant fared, and how long it took."""

    mutant: Mutant
    outcome: Outcome
    seconds: float
    detail: str = ""


class MutationRunError(RuntimeError):
    """The run could not judge a mutant (pytest itself failed); nothing is counted."""


def _kernel_files() -> list[str]:
    from extism_kernel._abi import load_abi  # noqa: PLC0415

    return [v.file for v in load_abi().variants] + [BUILD_INFO_FILE]


def _run_tests(args: tuple[str, ...]) -> tuple[Outcome, str]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args]
    try:
        proc = subprocess.run(  # noqa: S603
            cmd, cwd=REPO, capture_output=True, text=True, timeout=TEST_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        return "killed", f"the tests timed out after {TEST_TIMEOUT_S} s"
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode == 0:
        return "survived", last
    if proc.returncode == PYTEST_FAILED:
        failed = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
        return "killed", (failed or [last])[0]
    msg = f"pytest exited {proc.returncode}: {last or proc.stderr.strip()[-300:]}"
    raise MutationRunError(msg)


def run_mutant(mutant: Mutant, catalogue: Catalogue) -> MutantResult:
    """Plant `mutant`, judge it, restore everything; `MutationRunError` if it cannot be judged."""
    start = time.perf_counter()
    rebuild = mutant.path.is_relative_to(CRATE_DIR)
    saved = {name: (PACKAGE_DIR / name).read_bytes() for name in _kernel_files()} if rebuild else {}
    original = mutant.apply()
    try:
        if rebuild:
            try:
                build_kernel()
            except (KernelBuildError, ExtismKernelError) as exc:  # not built, or not a kernel
                first = str(exc).strip().splitlines()[0]
                return MutantResult(mutant, "stillborn", time.perf_counter() - start, first)
        outcome, detail = _run_tests(catalogue.areas[mutant.area])
        return MutantResult(mutant, outcome, time.perf_counter() - start, detail)
    finally:
        mutant.path.write_text(original, encoding="utf-8")
        for name, data in saved.items():
            (PACKAGE_DIR / name).write_bytes(data)
