"""Build timings: `python -m build` cold and warm, and the kernel alone (`python -m tooling build`).

Everything happens in a temporary copy of the committed tree (`git archive HEAD`), never in the
checkout: its dist/, dist_kernel/ and kernel-src/target/ are not touched.

* cold: a fresh copy, so no cargo target dir and no built kernel; then `python -m build`
  (sdist, then the wheel from the sdist) with outputs in a temp dir.
* warm: `python -m build` again in the same copy (cargo's target dir and pip's cache are warm;
  the wheel is still built from a freshly unpacked sdist, whose cargo build starts from nothing).
* kernel alone: `python -m tooling build` in another fresh copy (cold), then again (warm).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def _copy_tree(dest: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"],  # noqa: S607
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)  # noqa: S603, S607


def _timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd} (exit {proc.returncode}):\n{tail}")
    return elapsed


def run(log: Callable[[str], None] = print) -> dict[str, Any]:
    """Wall times in seconds; on a failure the figure is replaced by the error message."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ek-bench-build-") as tmp:
        root = Path(tmp)
        src, out, ksrc = root / "src", root / "out", root / "ksrc"
        for d in (src, out, ksrc):
            d.mkdir()
        try:
            _copy_tree(src)
            build = [sys.executable, "-m", "build", "--outdir", str(out)]
            log("build: python -m build, cold ...")
            result["build_cold_s"] = _timed(build, src)
            log("build: python -m build, warm ...")
            result["build_warm_s"] = _timed(build, src)
            result["artifacts"] = sorted(p.name for p in out.iterdir())
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            result["build_error"] = str(exc)
            log(f"build: failed: {exc}")
        try:
            _copy_tree(ksrc)
            kernel = [sys.executable, "-m", "tooling", "build"]
            log("build: python -m tooling build, cold ...")
            result["kernel_cold_s"] = _timed(kernel, ksrc)
            log("build: python -m tooling build, warm ...")
            result["kernel_warm_s"] = _timed(kernel, ksrc)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            result["kernel_error"] = str(exc)
            log(f"build: kernel build failed: {exc}")
    return result
