"""Vendoring the kernel into another SDK's tree, and checking a vendored copy is current.

A vendored directory holds each chosen kernel variant under the name SDKs use
(`extism-runtime.wasm`, `extism-runtime-<variant>.wasm`), the ABI spec `abi.json`, and a lock
`extism-kernel.lock` recording the package version and every file's sha256. No printing here.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from extism_kernel import __version__
from extism_kernel._abi import SPEC_FILE, load_abi, spec_bytes
from extism_kernel._errors import VendoredDirError
from extism_kernel._kernel import (
    DEFAULT_VARIANT,
    kernel_bytes,
    kernel_sha256,
    kernel_variants,
    variant_file,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

PACKAGE = "extism-kernel"
LOCK_FILE = "extism-kernel.lock"
KERNEL_STEM = "extism-runtime"
SHIPPED_STEM = "extism-kernel"
FILE_MODE = 0o644  # a new file; a replaced one keeps its mode
KERNEL_GLOB = f"{KERNEL_STEM}*.wasm"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def vendored_name(variant: str = DEFAULT_VARIANT) -> str:
    """The file name SDKs give kernel `variant`: the package's name with `extism-runtime` for stem.

    `extism-kernel.wasm` → `extism-runtime.wasm`, `extism-kernel-<variant>.wasm` →
    `extism-runtime-<variant>.wasm`. `UnknownVariantError` for a variant the package lacks.
    """
    return KERNEL_STEM + variant_file(variant).removeprefix(SHIPPED_STEM)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Written:
    """A file `vendor` wrote: its path, size and sha256."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Difference:
    """One way a vendored directory differs from the installed package."""

    path: Path
    problem: str

    def __str__(self) -> str:
        """`path: problem`, one line."""
        return f"{self.path}: {self.problem}"


@dataclass(frozen=True)
class VendorCheck:
    """The outcome of `check_vendored`: every difference, in the order found."""

    dest: Path
    version: str
    abi_version: int
    locked_version: str
    kernels: dict[str, LockedKernel]
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        """True when the directory matches the installed package."""
        return not self.differences

    def to_json(self) -> dict[str, Any]:
        """The JSON form printed by `vendor --check --json`."""
        return {
            "ok": self.ok,
            "dest": str(self.dest),
            "version": self.version,
            "abi_version": self.abi_version,
            "locked_version": self.locked_version,
            "kernels": {name: dict(k.__dict__) for name, k in self.kernels.items()},
            "differences": [{"path": str(d.path), "problem": d.problem} for d in self.differences],
        }


def _unique_variants(variants: Iterable[str]) -> tuple[str, ...]:
    """The variants in order, once each, validated (`UnknownVariantError` for an unknown one)."""
    chosen = tuple(dict.fromkeys(variants)) or (DEFAULT_VARIANT,)
    for name in chosen:
        variant_file(name)
    return chosen


def lock_for(variants: Sequence[str]) -> dict[str, Any]:
    """The lock the installed package writes for `variants`."""
    kernels = {}
    for name in variants:
        kernels[name] = {
            "file": vendored_name(name),
            "sha256": kernel_sha256(name),
            "size": len(kernel_bytes(name)),
        }
    return {
        "package": PACKAGE,
        "version": __version__,
        "abi_version": load_abi().abi_version,
        "kernels": kernels,
        "abi_sha256": _sha256(spec_bytes()),
    }


def _write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    A replaced file keeps its permission bits; a new one gets `FILE_MODE`. `VendoredDirError`
    names `path` when it cannot be written.
    """
    try:
        mode = path.stat().st_mode & 0o777 if path.is_file() else FILE_MODE
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        msg = f"`{path}`: cannot write: {exc.strerror}"
        raise VendoredDirError(msg) from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(mode)  # mkstemp makes 0600 whatever the umask
        tmp.replace(path)  # atomic: os.replace
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        msg = f"`{path}`: cannot write: {exc.strerror}"
        raise VendoredDirError(msg) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _prepare_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        msg = f"`{dest}`: not a directory"
        raise VendoredDirError(msg)
    dest.mkdir(parents=True, exist_ok=True)


def _previous_files(dest: Path) -> set[str]:
    """Kernel files an earlier lock in `dest` names (empty when there is none to trust).

    Only regular files named like a kernel (`extism-runtime*.wasm`): a lock edited to name
    another file never gets that file removed.
    """
    try:
        named = {entry.file for entry in read_lock(dest).kernels.values()}
    except VendoredDirError:
        return set()
    return {
        name
        for name in named
        if fnmatch.fnmatchcase(name, KERNEL_GLOB)
        and (dest / name).is_file()
        and not (dest / name).is_symlink()
    }


def vendor(dest: Path, variants: Iterable[str] = ()) -> tuple[list[Written], list[Path]]:
    """Write the kernel `variants` (default: the default one), `abi.json` and the lock to `dest`.

    Every file is written atomically; the lock last. Kernel files an earlier lock named that
    this one does not are removed. Returns (written files, removed files).
    """
    chosen = _unique_variants(variants)
    lock = lock_for(chosen)
    contents = {vendored_name(name): kernel_bytes(name) for name in chosen}
    contents[SPEC_FILE] = spec_bytes()
    contents[LOCK_FILE] = (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode()
    _prepare_dest(dest)
    stale = sorted(_previous_files(dest) - set(contents))
    written = []
    for name, data in contents.items():
        _write_atomic(dest / name, data)
        written.append(Written(dest / name, len(data), _sha256(data)))
    removed = []
    for name in stale:
        path = dest / name
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return written, removed


@dataclass(frozen=True)
class LockedKernel:
    """One kernel a lock pins."""

    file: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Lock:
    """A parsed `extism-kernel.lock`."""

    version: str
    abi_version: int
    kernels: dict[str, LockedKernel]
    abi_sha256: str


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:  # noqa: ANN401
    if key not in obj:
        msg = f"{where}: missing key `{key}`"
        raise VendoredDirError(msg)
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        msg = f"{where}: `{key}` must be {kind.__name__} but found {type(value).__name__}"
        raise VendoredDirError(msg)
    return value


def _hex(obj: dict[str, Any], key: str, where: str) -> str:
    value: str = _field(obj, key, str, where)
    if not _HEX64.fullmatch(value):
        msg = f"{where}: `{key}` must be 64 lower-case hex digits"
        raise VendoredDirError(msg)
    return value


def _locked_kernel(obj: object, where: str) -> LockedKernel:
    if not isinstance(obj, dict):
        msg = f"{where}: must be a JSON object"
        raise VendoredDirError(msg)
    file = _field(obj, "file", str, where)
    if file in {"", ".", ".."} or Path(file).name != file or "\\" in file:
        msg = f"{where}: `file` must be a plain file name but is {file!r}"
        raise VendoredDirError(msg)
    return LockedKernel(file, _hex(obj, "sha256", where), _field(obj, "size", int, where))


def read_lock(dest: Path) -> Lock:
    """Parse `dest`'s lock; `VendoredDirError` naming the path and the fault when it cannot."""
    if not dest.is_dir():
        msg = f"`{dest}`: {'not a directory' if dest.exists() else 'no such directory'}"
        raise VendoredDirError(msg)
    path = dest / LOCK_FILE
    where = f"`{path}`"
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        msg = f"{where}: no lock file (not vendored yet? run `extism-kernel vendor {dest}`)"
        raise VendoredDirError(msg) from None
    except OSError as exc:
        msg = f"{where}: cannot read the lock: {exc.strerror}"
        raise VendoredDirError(msg) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        msg = f"{where}: not valid JSON: {exc}"
        raise VendoredDirError(msg) from None
    if not isinstance(data, dict):
        msg = f"{where}: the lock must be a JSON object"
        raise VendoredDirError(msg)
    package = _field(data, "package", str, where)
    if package != PACKAGE:
        msg = f"{where}: `package` is {package!r}, not {PACKAGE!r}"
        raise VendoredDirError(msg)
    kernels = _field(data, "kernels", dict, where)
    if not kernels:
        msg = f"{where}: `kernels` names no kernel"
        raise VendoredDirError(msg)
    return Lock(
        version=_field(data, "version", str, where),
        abi_version=_field(data, "abi_version", int, where),
        kernels={
            name: _locked_kernel(v, f"{where}: kernels.{name}") for name, v in kernels.items()
        },
        abi_sha256=_hex(data, "abi_sha256", where),
    )


def _short(digest: str) -> str:
    return f"{digest[:12]}…"


def _shipped() -> str:
    return f"{PACKAGE} {__version__}"


def _file_differences(path: Path, expected: bytes) -> list[Difference]:
    """A file's bytes against what the package ships (missing, unreadable, other sha256).

    A symbolic link is a difference too: a vendored copy is the file itself.
    """
    if path.is_symlink():
        return [Difference(path, "a symbolic link, not the vendored file")]
    try:
        actual = _sha256(path.read_bytes())
    except FileNotFoundError:
        return [Difference(path, "missing (the lock pins it)")]
    except OSError as exc:
        return [Difference(path, f"cannot read it: {exc.strerror}")]
    wanted = _sha256(expected)
    if actual != wanted:
        return [
            Difference(path, f"sha256 {_short(actual)} but {_shipped()} ships {_short(wanted)}")
        ]
    return []


def _lock_differences(lock: Lock, path: Path) -> list[Difference]:
    """The lock's version and ABI version against the installed package's."""
    found = []
    if lock.version != __version__:
        found.append(
            Difference(path, f"pins {PACKAGE} {lock.version} but {_shipped()} is installed")
        )
    abi_version = load_abi().abi_version
    if lock.abi_version != abi_version:
        problem = f"pins ABI {lock.abi_version} but {_shipped()} has ABI {abi_version}"
        found.append(Difference(path, problem))
    return found


def _kernel_differences(name: str, entry: LockedKernel, dest: Path) -> list[Difference]:
    """One pinned kernel: a variant the package ships, its file name, bytes and recorded sha256."""
    lock_path = dest / LOCK_FILE
    known = kernel_variants()
    if name not in known:
        problem = f"pins variant `{name}`, which {_shipped()} does not ship"
        return [Difference(lock_path, f"{problem} (known: {', '.join(known)})")]
    found = []
    if entry.file != vendored_name(name):
        problem = f"names `{entry.file}` for variant `{name}`, not `{vendored_name(name)}`"
        found.append(Difference(lock_path, problem))
    wasm, digest = kernel_bytes(name), kernel_sha256(name)
    found += _file_differences(dest / entry.file, wasm)
    if entry.sha256 != digest:
        problem = f"records sha256 {_short(entry.sha256)} for `{entry.file}`"
        found.append(Difference(lock_path, f"{problem} but {_shipped()} ships {_short(digest)}"))
    if entry.size != len(wasm):
        problem = f"records size {entry.size} for `{entry.file}`"
        found.append(Difference(lock_path, f"{problem} but {_shipped()} ships {len(wasm)} bytes"))
    return found


def check_vendored(dest: Path) -> VendorCheck:
    """Compare `dest` (the files its lock names, `abi.json`, the lock) with this package."""
    lock = read_lock(dest)
    lock_path = dest / LOCK_FILE
    found = _lock_differences(lock, lock_path)
    for name, entry in lock.kernels.items():
        found += _kernel_differences(name, entry, dest)
    abi = spec_bytes()
    found += _file_differences(dest / SPEC_FILE, abi)
    if lock.abi_sha256 != _sha256(abi):
        problem = f"records {SPEC_FILE} sha256 {_short(lock.abi_sha256)}"
        shipped = f"{_shipped()} ships {_short(_sha256(abi))}"
        found.append(Difference(lock_path, f"{problem} but {shipped}"))
    locked_files = {entry.file for entry in lock.kernels.values()}
    for path in sorted(dest.glob(KERNEL_GLOB)):
        if path.name not in locked_files:
            found.append(Difference(path, "a kernel file the lock does not name"))
    abi_version = load_abi().abi_version
    return VendorCheck(dest, __version__, abi_version, lock.version, lock.kernels, tuple(found))
