"""Two independent builds of the same commit give byte-identical kernel, wheel and sdist.

Each build runs in its own copy of the source tree (own cargo target dir, own temp paths), with
`SOURCE_DATE_EPOCH` from the last commit and the same toolchain. The first copy is the session's
shared build (also used by test_packaging and test_publish_e2e), the second is made here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dist_builder import Dists, build_copy, shared_build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dists, Dists]:
    first = shared_build(tmp_path_factory)
    # the same source files as the first copy (the checkout may have changed since)
    second = build_copy(tmp_path_factory.mktemp("second-build"), origin=first)
    return first, second


def test_builds_ran_in_different_folders(two_builds: tuple[Dists, Dists]):
    first, second = two_builds
    assert first.source != second.source
    assert first.kernel.is_file()
    assert second.kernel.is_file()


@pytest.mark.parametrize("artifact", ["kernel", "wheel", "sdist"])
def test_byte_identical(two_builds: tuple[Dists, Dists], artifact: str):
    first, second = two_builds
    a: Path = getattr(first, artifact)
    b: Path = getattr(second, artifact)
    assert a.read_bytes() == b.read_bytes(), (
        f"{artifact}: {first.sha256()[artifact]} != {second.sha256()[artifact]}"
    )


def test_the_wheel_ships_the_kernel_that_was_built(two_builds: tuple[Dists, Dists]):
    for dists in two_builds:
        assert dists.wheel_kernel() == dists.kernel.read_bytes()


def test_no_build_paths_in_the_kernel(two_builds: tuple[Dists, Dists]):
    for dists in two_builds:
        wasm = dists.kernel.read_bytes()
        assert str(dists.source).encode() not in wasm
        assert b"/home/" not in wasm
        assert b"/root/" not in wasm


def test_report_sha256(two_builds: tuple[Dists, Dists], record_property):
    """Record the sha256 of both builds (pytest -rA / junit properties show them)."""
    first, second = two_builds
    for name, dists in (("first", first), ("second", second)):
        for artifact, digest in dists.sha256().items():
            record_property(f"{name}-{artifact}-sha256", digest)
    assert first.sha256() == second.sha256()
