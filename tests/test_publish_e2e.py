"""Publishing for real: a local package index, twine upload, pip install in a fresh venv, run.

pypiserver runs on 127.0.0.1 (a free port) in a temp dir; the check itself is the maintainer's
command `python -m tooling publish_check --repository-url URL`, run here as a subprocess.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.dist_builder import PACKAGE, REPO, Dists, shared_build, version
from tooling.publish_check import index_url_for, local_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dists, dict[str, Any], Path]:
    dists = shared_build(tmp_path_factory)
    root = tmp_path_factory.mktemp("publish")
    packages = root / "packages"
    with local_index(packages) as url:
        proc = subprocess.run(  # noqa: S603
            [
                sys.executable, "-m", "tooling", "publish_check",
                "--repository-url", url,
                "--dist", str(dists.wheel.parent),
                "--work-dir", str(root / "work"),
                "--json",
            ],
            capture_output=True, text=True, check=False, cwd=REPO, timeout=600,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dists, json.loads(proc.stdout), packages


def test_index_holds_exactly_the_uploaded_files(published: tuple[Dists, dict[str, Any], Path]):
    dists, report, packages = published
    assert sorted(p.name for p in packages.iterdir()) == sorted(
        [dists.sdist.name, dists.wheel.name]
    )
    for built in (dists.sdist, dists.wheel):
        assert (packages / built.name).read_bytes() == built.read_bytes()
    assert report["files"] == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (dists.sdist, dists.wheel)
    }


def test_installed_command_reports_the_built_kernel(published: tuple[Dists, dict[str, Any], Path]):
    dists, report, _ = published
    kernel_sha = hashlib.sha256(dists.kernel.read_bytes()).hexdigest()
    assert report["ok"] is True
    assert report["kernel_sha256"] == kernel_sha
    assert report["info"]["variants"]["default"]["sha256"] == kernel_sha
    assert report["info"]["version"] == version()
    assert report["info"]["variants"]["default"]["size"] == dists.kernel.stat().st_size
    installed = Path(report["installed_from"]).resolve()
    assert "site-packages" in installed.parts
    assert REPO.resolve() not in installed.parents


def test_host_smoke_call(published: tuple[Dists, dict[str, Any], Path]):
    dists, report, _ = published
    if not (dists.source / PACKAGE / "host" / "__init__.py").is_file():
        assert report["host"] == "skipped: this version has no extism_kernel.host"
        pytest.skip("extism_kernel.host is not in this build yet")
    assert report["host"] == "ok"


@pytest.mark.parametrize(
    ("upload", "index"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/simple/"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/simple/"),
        ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
        ("https://upload.example.org/legacy", "https://upload.example.org/simple/"),
    ],
)
def test_index_url_for(upload: str, index: str):
    assert index_url_for(upload) == index
