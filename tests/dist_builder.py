"""Build the sdist and the wheel from a copy of the source tree, in temp dirs only.

Shared by test_packaging, test_reproducible and test_publish_e2e: the first caller in a session
builds (about 8 s), later callers reuse the same files. Nothing is written to the repo's dist/.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tooling.kernel_build import crate_version

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path("dist_kernel") / "extism_kernel"
GENERATED = ("extism-kernel.wasm", "extism-kernel-no-reference-types.wasm", "build_info.json")


@dataclass(frozen=True)
class Dists:
    """The files of one build: source copy, sdist, wheel and the kernel the hook wrote."""

    source: Path
    sdist: Path
    wheel: Path

    @property
    def epoch(self) -> str:
        """The `SOURCE_DATE_EPOCH` this build used (the checkout may have new commits since)."""
        return (self.source.parent / "source-date-epoch.txt").read_text(encoding="utf-8").strip()

    @property
    def source_files(self) -> list[str]:
        """The files copied into `source` before the build (posix paths, sorted)."""
        text = (self.source.parent / "source-files.txt").read_text(encoding="utf-8")
        return text.splitlines()

    @property
    def kernel(self) -> Path:
        """The kernel that the build hook wrote into the copy of the source tree."""
        return self.source / PACKAGE / "extism-kernel.wasm"

    def sha256(self) -> dict[str, str]:
        """The sha256 of kernel, wheel and sdist."""
        return {
            name: hashlib.sha256(path.read_bytes()).hexdigest()
            for name, path in (
                ("kernel", self.kernel),
                ("wheel", self.wheel),
                ("sdist", self.sdist),
            )
        }

    def wheel_kernel(self) -> bytes:
        """The kernel bytes inside the wheel."""
        with zipfile.ZipFile(self.wheel) as zf:
            return zf.read("extism_kernel/extism-kernel.wasm")


def version() -> str:
    """The package version, set only in kernel-src/Cargo.toml."""
    return crate_version()


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("the source-tree tests need a git checkout (not an unpacked sdist)")
    return subprocess.run(  # noqa: S603
        [git, *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout


def source_date_epoch() -> str:
    """`SOURCE_DATE_EPOCH`: the time of the last commit."""
    return _git("log", "-1", "--format=%ct").strip()


def source_files() -> list[str]:
    """The checkout's files as git sees them: tracked plus untracked-but-not-ignored (posix)."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    return sorted({f for f in listed if f and (REPO / f).is_file()})


def copy_source_tree(dest: Path, *, origin: Dists | None = None) -> Path:
    """Copy the checkout's source files (no .git, target/, dist/ or built kernel) to `dest`.

    With `origin`, copy the files that were copied for that earlier build, from its copy (the
    build writes none of them), so both builds see the same sources even while the checkout
    changes. The list of copied files is kept beside `dest`, in source-files.txt.
    """
    files = source_files() if origin is None else origin.source_files
    root = REPO if origin is None else origin.source
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    (dest.parent / "source-files.txt").write_text("\n".join(files) + "\n", encoding="utf-8")
    return dest


def build(source: Path, outdir: Path, *args: str, epoch: str, python: str = sys.executable) -> None:
    """`python -m build` (isolated, as in CI) with the given `SOURCE_DATE_EPOCH` and Python."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(  # noqa: S603
        [python, "-m", "build", "--outdir", str(outdir), *args, str(source)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        pytest.fail(f"`python -m build` failed in {source} (exit {proc.returncode}):\n{tail}")


def build_copy(root: Path, *, origin: Dists | None = None, python: str = sys.executable) -> Dists:
    """Copy the source tree under `root`/src and build its sdist and wheel into `root`/dist.

    `SOURCE_DATE_EPOCH` is the last commit's time, or with `origin` the one that build used:
    both builds are of the same commit and the same files. `python` runs `build`.
    """
    epoch = source_date_epoch() if origin is None else origin.epoch
    source = copy_source_tree(root / "src", origin=origin)
    (root / "source-date-epoch.txt").write_text(f"{epoch}\n", encoding="utf-8")
    out = root / "dist"
    build(source, out, epoch=epoch, python=python)
    v = version()
    return Dists(
        source=source,
        sdist=out / f"extism_kernel-{v}.tar.gz",
        wheel=out / f"extism_kernel-{v}-py3-none-any.whl",
    )


def shared_build(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The session's one build, made by whichever test needs it first."""
    root = tmp_path_factory.getbasetemp() / "shared-build"
    done = root / "done"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        dists = build_copy(root)
        done.write_text("ok\n", encoding="utf-8")
        return dists
    v = version()
    return Dists(
        source=root / "src",
        sdist=root / "dist" / f"extism_kernel-{v}.tar.gz",
        wheel=root / "dist" / f"extism_kernel-{v}-py3-none-any.whl",
    )


def console_script(name: str) -> str:
    """The console script `name`, preferring the one installed beside this Python."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / name, scripts / f"{name}.exe"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"`{name}` is not installed: pip install '.[test]' brings it")
    return found
