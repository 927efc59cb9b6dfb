"""Exact contents of the wheel and the sdist, the wheel's metadata, and a rebuild from the sdist.

The package's own files are derived from the source tree (every source file under
dist_kernel/extism_kernel plus the two files the build hook generates), so adding a module needs
no edit here; everything else (dist-info, the sdist's top level) is asserted literally.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from datetime import datetime, timezone
from email.message import Message
from email.parser import Parser
from importlib import metadata
from pathlib import Path
from typing import Any

import extism_kernel
import pytest
from extism_kernel import check_kernel, load_abi
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # `build` (in the test extra) brings tomli on 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
from tests.dist_builder import (
    GENERATED,
    PACKAGE,
    REPO,
    Dists,
    build,
    console_script,
    shared_build,
    version,
)

DIST_INFO_FILES = {  # besides the SBOMs, checked by their own test
    "METADATA",
    "WHEEL",
    "entry_points.txt",
    "RECORD",
    "licenses/LICENSE",
}
SDIST_TOP_LEVEL = {".gitignore", "LICENSE", "README.md", "pyproject.toml", "PKG-INFO"}
SDIST_CRATE_FILES = {
    "kernel-src/Cargo.toml",
    "kernel-src/Cargo.lock",
    "kernel-src/.cargo/config.toml",
}
CLASSIFIERS = [
    "Development Status :: 3 - Alpha",
    "Intended Audience :: Developers",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Programming Language :: Rust",
    "Topic :: Software Development :: Libraries",
    "Typing :: Typed",
]
PROJECT_URLS = [
    "Homepage, https://github.com/extism-kernel/extism-kernel",
    "Source, https://github.com/extism-kernel/extism-kernel",
    "Issues, https://github.com/extism-kernel/extism-kernel/issues",
    "Documentation, https://github.com/extism-kernel/extism-kernel/tree/main/docs",
]


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    return shared_build(tmp_path_factory)


def _package_files(dists: Dists) -> set[str]:
    """Source files under dist_kernel/extism_kernel, relative to it, plus the generated two."""
    prefix = f"{PACKAGE.as_posix()}/"
    files = {f.removeprefix(prefix) for f in dists.source_files if f.startswith(prefix)}
    return files | set(GENERATED)


def _wheel_names(dists: Dists) -> list[str]:
    with zipfile.ZipFile(dists.wheel) as zf:
        return zf.namelist()


def _sdist_names(dists: Dists) -> list[str]:
    with tarfile.open(dists.sdist) as tf:
        return [m.name for m in tf.getmembers() if m.isfile()]


def _dist_info(dists: Dists) -> str:
    return f"extism_kernel-{version()}.dist-info"


def _pyproject(dists: Dists) -> dict[str, Any]:
    with (dists.source / "pyproject.toml").open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    return data


def _metadata(dists: Dists) -> Message:
    with zipfile.ZipFile(dists.wheel) as zf:
        text = zf.read(f"{_dist_info(dists)}/METADATA").decode()
    return Parser().parsestr(text)


@pytest.mark.slow
def test_dist_file_names(dists: Dists):
    v = version()
    assert sorted(p.name for p in dists.wheel.parent.iterdir()) == [
        f"extism_kernel-{v}-py3-none-any.whl",
        f"extism_kernel-{v}.tar.gz",
    ]


@pytest.mark.slow
def test_wheel_file_list_is_exact(dists: Dists):
    names = _wheel_names(dists)
    assert len(names) == len(set(names)), "duplicate entries in the wheel"
    dist_info = _dist_info(dists)
    package = {n.removeprefix("extism_kernel/") for n in names if n.startswith("extism_kernel/")}
    meta = {n.removeprefix(f"{dist_info}/") for n in names if n.startswith(f"{dist_info}/")}
    other = [n for n in names if not n.startswith(("extism_kernel/", f"{dist_info}/"))]
    assert other == []
    assert package == _package_files(dists)
    assert {m for m in meta if not m.startswith("sboms/")} == DIST_INFO_FILES
    assert {m for m in meta if m.startswith("sboms/")} == {"sboms/extism-kernel.cdx.json"}


@pytest.mark.slow
def test_nothing_from_tests_or_tooling_in_the_wheel(dists: Dists):
    leaks = [
        n
        for n in _wheel_names(dists)
        if n.startswith(("tests/", "tooling/", "kernel-src/", "dist_kernel/"))
        or "__pycache__" in n
        or n.endswith((".pyc", ".rs", "conftest.py"))
        or Path(n).name.startswith("test_")
    ]
    assert leaks == []


@pytest.mark.slow
def test_wheel_kernel_matches_its_build_info(dists: Dists):
    with zipfile.ZipFile(dists.wheel) as zf:
        info = json.loads(zf.read("extism_kernel/build_info.json"))
        kernels = {n: zf.read(f"extism_kernel/{v['file']}") for n, v in info["variants"].items()}
    assert sorted(kernels) == sorted(load_abi().variant_names)
    for name, wasm in kernels.items():
        assert wasm[:4] == b"\0asm"
        assert info["variants"][name]["sha256"] == hashlib.sha256(wasm).hexdigest()
        assert info["variants"][name]["size"] == len(wasm)
        assert check_kernel(wasm, strict=True, variant=name).ok
    assert info["version"] == version()
    assert kernels["default"] == dists.kernel.read_bytes()


@pytest.mark.slow
def test_wheel_sbom_lists_the_build_inputs(dists: Dists):
    """PEP 770: a CycloneDX SBOM of the kernel's build inputs in .dist-info/sboms/."""
    with zipfile.ZipFile(dists.wheel) as zf:
        bom = json.loads(zf.read(f"{_dist_info(dists)}/sboms/extism-kernel.cdx.json"))
        info = json.loads(zf.read("extism_kernel/build_info.json"))
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["purl"] == f"pkg:pypi/extism-kernel@{version()}"
    stamp = datetime.fromtimestamp(int(dists.epoch), tz=timezone.utc)
    assert bom["metadata"]["timestamp"] == stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    tools = {c["name"]: c for c in bom["metadata"]["tools"]["components"]}
    assert info["rustc"].split()[1] == tools["rustc"]["version"]
    assert "hatchling" in tools
    assert "wasm-tools" not in tools  # it only checks the bytes, so a build without it is the same
    files = {c["name"]: c for c in bom["components"] if c["type"] == "file"}
    assert len(files) == len(info["variants"])
    for built in info["variants"].values():
        kernel = files[f"extism_kernel/{built['file']}"]
        assert kernel["hashes"] == [{"alg": "SHA-256", "content": built["sha256"]}]
    lock = (dists.source / "kernel-src" / "Cargo.lock").read_text(encoding="utf-8")
    crates = sorted(c["purl"] for c in bom["components"] if c["type"] == "library")
    locked = sorted(
        f"pkg:cargo/{name}@{ver}"
        for name, ver in re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', lock)
    )
    assert crates == locked


@pytest.mark.slow
def test_wheel_metadata(dists: Dists):
    meta = _metadata(dists)
    assert meta["Name"] == "extism-kernel"
    assert meta["Version"] == version()
    assert tuple(int(x) for x in meta["Metadata-Version"].split(".")) >= (2, 4)
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert meta["Requires-Python"] == ">=3.10"
    assert meta.get_all("Classifier") == CLASSIFIERS
    assert meta.get_all("Project-URL") == PROJECT_URLS
    assert meta["Description-Content-Type"] == "text/markdown"
    readme = (dists.source / "README.md").read_text(encoding="utf-8")
    payload = meta.get_payload()
    assert isinstance(payload, str)
    assert payload.replace("\r\n", "\n").strip() == readme.strip()
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"host", "test"} <= extras
    assert extras == set(_pyproject(dists)["project"]["optional-dependencies"])
    requires = meta.get_all("Requires-Dist") or []
    assert [r for r in requires if "extra ==" not in r] == [], "the core has no dependencies"
    by_extra: dict[str, set[tuple[str, str]]] = {extra: set() for extra in extras}
    for line in requires:
        req = Requirement(line)
        (extra,) = [e for e in extras if req.marker and req.marker.evaluate({"extra": e})]
        by_extra[extra].add((canonicalize_name(req.name), str(req.specifier)))
    declared = _pyproject(dists)["project"]["optional-dependencies"]
    assert by_extra == {
        extra: {(canonicalize_name(r.name), str(r.specifier)) for r in map(Requirement, reqs)}
        for extra, reqs in declared.items()
    }
    assert "wasmtime" in {name for name, _ in by_extra["host"]}
    test_tools = {
        "pytest",
        "wasmtime",
        "check-jsonschema",
        "zizmor",
        "pypiserver",
        "twine",
        "build",
    }
    assert test_tools <= {name for name, _ in by_extra["test"]}


@pytest.mark.slow
def test_wheel_tag_and_entry_point(dists: Dists):
    with zipfile.ZipFile(dists.wheel) as zf:
        wheel = Parser().parsestr(zf.read(f"{_dist_info(dists)}/WHEEL").decode())
        entry_points = zf.read(f"{_dist_info(dists)}/entry_points.txt").decode()
    assert wheel.get_all("Tag") == ["py3-none-any"]
    assert wheel["Root-Is-Purelib"] == "true"
    assert wheel["Wheel-Version"] == "1.0"
    assert wheel["Generator"].startswith("hatchling ")
    assert entry_points.split() == [
        "[console_scripts]",
        "extism-kernel",
        "=",
        "extism_kernel._cli:main",
    ]


@pytest.mark.slow
def test_sdist_file_list_is_exact(dists: Dists):
    prefix = f"extism_kernel-{version()}/"
    names = _sdist_names(dists)
    assert all(n.startswith(prefix) for n in names)
    files = {n.removeprefix(prefix) for n in names}
    assert len(files) == len(names), "duplicate entries in the sdist"

    package = f"{PACKAGE.as_posix()}/"
    assert {f.removeprefix(package) for f in files if f.startswith("dist_kernel/")} == (
        _package_files(dists)
    )
    tree = dists.source_files
    assert {f for f in files if f.startswith("tooling/")} == {
        f for f in tree if f.startswith("tooling/")
    }
    assert {f for f in files if f.startswith("kernel-src/")} == SDIST_CRATE_FILES | {
        f for f in tree if f.startswith("kernel-src/src/")
    }
    assert {f for f in files if "/" not in f} == SDIST_TOP_LEVEL
    assert {f for f in files if f.startswith("docs/")} == {f for f in tree if f.startswith("docs/")}
    assert {f.split("/")[0] for f in files if "/" in f} == {
        "dist_kernel",
        "docs",
        "kernel-src",
        "tooling",
    }


@pytest.mark.slow
def test_sdist_rebuilds_the_same_wheel(dists: Dists, tmp_path: Path):
    """Unpack the sdist (no git, no target/) and build a wheel from it: same bytes."""
    with tarfile.open(dists.sdist) as tf:
        tf.extractall(tmp_path / "unpacked", filter="data")
    (root,) = (tmp_path / "unpacked").iterdir()
    assert not (root / ".git").exists()
    build(root, tmp_path / "out", "--wheel", epoch=dists.epoch)
    rebuilt = tmp_path / "out" / dists.wheel.name
    assert rebuilt.read_bytes() == dists.wheel.read_bytes()


@pytest.mark.slow
def test_the_publish_actions_twine_accepts_the_dists(dists: Dists):
    """`twine check --strict` with the twine and packaging the pinned publish action bundles.

    The action checks the metadata with its own twine before uploading; a twine that does not know
    the wheel's metadata version (2.5 needs twine 7 on packaging 26) fails the release there.
    """
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "twine", "check", "--strict", str(dists.sdist), str(dists.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bundle = json.loads((REPO / ".github" / "publish-action.json").read_text(encoding="utf-8"))
    installed = {name: metadata.version(name) for name in bundle["bundles"]}
    assert installed == bundle["bundles"], (
        "this check must run with the publish action's versions: "
        "pip install -c dev-constraints.txt twine packaging"
    )


@pytest.mark.slow
def test_check_wheel_contents(dists: Dists):
    proc = subprocess.run(  # noqa: S603
        [console_script("check-wheel-contents"), str(dists.wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(
    os.environ.get("EXTISM_KERNEL_TEST_INSTALLED") != "1",
    reason="only where the built wheel is installed (CI matrix: EXTISM_KERNEL_TEST_INSTALLED=1)",
)
def test_tests_run_against_the_installed_wheel():
    here = Path(extism_kernel.__file__).resolve()
    purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert purelib in here.parents, f"extism_kernel imported from {here}, not {purelib}"
    assert REPO.resolve() not in here.parents
    assert extism_kernel.kernel_bytes()[:4] == b"\0asm"


README_LINK = re.compile(r"\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
REPO_BLOB = "https://github.com/extism-kernel/extism-kernel/blob/main/"


def test_readme_links_are_absolute_and_name_files_of_the_tree():
    """PyPI shows the README without the repository around it: a relative link would be dead."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = [a or b for a, b in README_LINK.findall(readme)]
    assert links, "no links found: the pattern is stale"
    assert [link for link in links if not link.startswith(("https://", "http://"))] == []
    for link in links:
        if link.startswith(REPO_BLOB):
            path = link.removeprefix(REPO_BLOB).split("#")[0]
            assert (REPO / path).is_file(), f"README links to `{path}`, which is not in the tree"
