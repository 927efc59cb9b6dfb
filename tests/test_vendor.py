"""`extism-kernel vendor DEST` and `vendor --check DEST`, and `extism-kernel --version`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import extism_kernel
import pytest
from extism_kernel._abi import spec_bytes
from extism_kernel._cli import main

DEFAULT = "extism-runtime.wasm"
NO_REF = "extism-runtime-no-reference-types.wasm"
LOCK = "extism-kernel.lock"
VERSION = extism_kernel.__version__


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def vendored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A directory freshly vendored with both variants."""
    dest = tmp_path / "sdk"
    code, _, _ = run(
        ["vendor", str(dest), "--variant", "default", "--variant", "no-reference-types"], capsys
    )
    assert code == 0
    return dest


def edit_lock(dest: Path, **changes: object) -> None:
    lock = json.loads((dest / LOCK).read_text())
    lock.update(changes)
    (dest / LOCK).write_text(json.dumps(lock))


# --- vendor -------------------------------------------------------------------------------


def test_vendor_writes_the_default_kernel_abi_and_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "a" / "b"
    code, out, err = run(["vendor", str(dest)], capsys)
    assert (code, err) == (0, "")
    assert sorted(p.name for p in dest.iterdir()) == sorted([DEFAULT, "abi.json", LOCK])
    wasm = extism_kernel.kernel_bytes()
    assert (dest / DEFAULT).read_bytes() == wasm
    assert (dest / "abi.json").read_bytes() == spec_bytes()
    sha = hashlib.sha256(wasm).hexdigest()
    assert f"wrote {dest / DEFAULT} ({len(wasm)} bytes, sha256 {sha})" in out.splitlines()
    assert len(out.splitlines()) == 3


def test_the_lock_is_sorted_json_with_every_hash(
    vendored: Path,
) -> None:
    text = (vendored / LOCK).read_text()
    assert text.endswith("}\n")
    lock = json.loads(text)
    assert text == json.dumps(lock, indent=2, sort_keys=True) + "\n"
    assert lock["package"] == "extism-kernel"
    assert lock["version"] == VERSION
    assert lock["abi_version"] == extism_kernel.load_abi().abi_version
    assert lock["abi_sha256"] == hashlib.sha256(spec_bytes()).hexdigest()
    assert lock["kernels"] == {
        name: {
            "file": file,
            "sha256": extism_kernel.kernel_sha256(name),
            "size": len(extism_kernel.kernel_bytes(name)),
        }
        for name, file in [("default", DEFAULT), ("no-reference-types", NO_REF)]
    }
    assert (vendored / NO_REF).read_bytes() == extism_kernel.kernel_bytes("no-reference-types")


def test_vendoring_fewer_variants_removes_the_dropped_file(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["vendor", str(vendored)], capsys)
    assert code == 0
    assert f"removed {vendored / NO_REF}" in out
    assert not (vendored / NO_REF).exists()
    assert run(["vendor", "--check", str(vendored)], capsys)[0] == 0


def test_unknown_variant_is_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "sdk"
    code, out, err = run(["vendor", str(dest), "--variant", "wasm3"], capsys)
    assert (code, out) == (2, "")
    assert err == "error: no kernel variant `wasm3` (known: default, no-reference-types)\n"
    assert not dest.exists()


def test_dest_is_a_file_is_exit_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "sdk"
    dest.write_bytes(b"not a directory")
    code, out, err = run(["vendor", str(dest)], capsys)
    assert (code, out) == (2, "")
    assert err == f"error: `{dest}`: not a directory\n"
    assert dest.read_bytes() == b"not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sdk"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    vendored: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p.name: p.read_bytes() for p in vendored.iterdir()}
    (vendored / DEFAULT).write_bytes(b"old kernel")

    def broken_replace(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device", str(self))  # as os.replace: the source

    monkeypatch.setattr(Path, "replace", broken_replace)
    code, _, err = run(["vendor", str(vendored)], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert err == f"error: `{vendored / DEFAULT}`: cannot write: No space left on device\n"
    assert (vendored / DEFAULT).read_bytes() == b"old kernel"
    assert sorted(p.name for p in vendored.iterdir()) == sorted(before)


# --- vendor --check -----------------------------------------------------------------------


def test_round_trip_matches(vendored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["vendor", "--check", str(vendored)], capsys)
    assert (code, err) == (0, "")
    sha = extism_kernel.kernel_sha256()
    abi = extism_kernel.load_abi().abi_version
    assert out.startswith(f"{vendored}: matches extism-kernel {VERSION} (ABI {abi}): ")
    assert f"{DEFAULT} sha256 {sha}" in out
    assert out.count("\n") == 1


def test_check_json_when_it_matches(vendored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["vendor", "--check", str(vendored), "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["dest"] == str(vendored)
    assert report["version"] == VERSION
    assert report["differences"] == []


def _tamper_kernel(dest: Path) -> str:
    data = bytearray((dest / DEFAULT).read_bytes())
    data[100] ^= 1
    (dest / DEFAULT).write_bytes(data)
    return DEFAULT


def _tamper_abi(dest: Path) -> str:
    (dest / "abi.json").write_bytes(spec_bytes() + b" ")
    return "abi.json"


def _remove_kernel(dest: Path) -> str:
    (dest / NO_REF).unlink()
    return NO_REF


def _remove_abi(dest: Path) -> str:
    (dest / "abi.json").unlink()
    return "abi.json"


def _stale_version(dest: Path) -> str:
    edit_lock(dest, version="0.0.1")
    return LOCK


def _stale_abi_version(dest: Path) -> str:
    edit_lock(dest, abi_version=0)
    return LOCK


def _unknown_variant(dest: Path) -> str:
    lock = json.loads((dest / LOCK).read_text())
    lock["kernels"]["wasm3"] = {**lock["kernels"]["default"], "file": "extism-runtime-wasm3.wasm"}
    (dest / LOCK).write_text(json.dumps(lock))
    return LOCK


def _extra_kernel(dest: Path) -> str:
    (dest / "extism-runtime-old.wasm").write_bytes(b"\0asm")
    return "extism-runtime-old.wasm"


def _lock_hash(dest: Path) -> str:
    lock = json.loads((dest / LOCK).read_text())
    lock["kernels"]["default"]["sha256"] = "0" * 64
    (dest / LOCK).write_text(json.dumps(lock))
    return LOCK


def _lock_size(dest: Path) -> str:
    lock = json.loads((dest / LOCK).read_text())
    lock["kernels"]["default"]["size"] = -5
    (dest / LOCK).write_text(json.dumps(lock))
    return LOCK


def _symlinked_kernel(dest: Path) -> str:
    real = dest.parent / "elsewhere.wasm"
    real.write_bytes((dest / DEFAULT).read_bytes())
    (dest / DEFAULT).unlink()
    (dest / DEFAULT).symlink_to(real)
    return DEFAULT


DIFFERENCES = {
    "tampered-kernel": (_tamper_kernel, "but extism-kernel"),
    "tampered-abi": (_tamper_abi, "but extism-kernel"),
    "lock-size": (_lock_size, "records size -5 for `extism-runtime.wasm`"),
    "symlinked-kernel": (_symlinked_kernel, "a symbolic link"),
    "missing-kernel": (_remove_kernel, "missing"),
    "missing-abi": (_remove_abi, "missing"),
    "stale-version": (_stale_version, f"pins extism-kernel 0.0.1 but extism-kernel {VERSION}"),
    "stale-abi-version": (_stale_abi_version, "pins ABI 0"),
    "unknown-variant": (_unknown_variant, "pins variant `wasm3`"),
    "extra-kernel": (_extra_kernel, "a kernel file the lock does not name"),
    "lock-hash": (_lock_hash, "records sha256 000000000000"),
}


@pytest.mark.parametrize(("change", "fragment"), DIFFERENCES.values(), ids=DIFFERENCES)
def test_each_difference_is_one_line_naming_the_file(
    vendored: Path, capsys: pytest.CaptureFixture[str], change: Callable[[Path], str], fragment: str
) -> None:
    name = change(vendored)
    code, out, err = run(["vendor", "--check", str(vendored)], capsys)
    assert (code, err) == (1, "")
    assert out.count("\n") == 1
    assert out.startswith(f"{vendored / name}: ")
    assert fragment in out


def test_tampered_kernel_names_both_hashes(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper_kernel(vendored)
    actual = hashlib.sha256((vendored / DEFAULT).read_bytes()).hexdigest()
    _, out, _ = run(["vendor", "--check", str(vendored)], capsys)
    shipped = extism_kernel.kernel_sha256()
    assert out == (
        f"{vendored / DEFAULT}: sha256 {actual[:12]}… but extism-kernel {VERSION} ships"
        f" {shipped[:12]}…\n"
    )


def test_check_json_lists_every_difference(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tamper_kernel(vendored)
    _tamper_abi(vendored)
    _stale_version(vendored)
    code, out, err = run(["vendor", "--check", str(vendored), "--json"], capsys)
    assert (code, err) == (1, "")
    report = json.loads(out)
    assert report["ok"] is False
    assert report["locked_version"] == "0.0.1"
    paths = [d["path"] for d in report["differences"]]
    assert paths == [str(vendored / LOCK), str(vendored / DEFAULT), str(vendored / "abi.json")]
    assert all(set(d) == {"path", "problem"} for d in report["differences"])
    code, out, _ = run(["vendor", "--check", str(vendored)], capsys)
    assert code == 1
    assert out.rstrip("\n").endswith("(and 2 more; --json lists them all)")


def _no_dir(dest: Path) -> str:
    return "no such directory"


def _a_file(dest: Path) -> str:
    dest.write_bytes(b"x")
    return "not a directory"


def _no_lock(dest: Path) -> str:
    dest.mkdir()
    return "no lock file"


def _bad_json(dest: Path) -> str:
    dest.mkdir()
    (dest / LOCK).write_text("{not json")
    return "not valid JSON"


def _not_object(dest: Path) -> str:
    dest.mkdir()
    (dest / LOCK).write_text("[]")
    return "must be a JSON object"


def _no_kernels(dest: Path) -> str:
    dest.mkdir()
    (dest / LOCK).write_text(json.dumps({"package": "extism-kernel", "version": VERSION}))
    return "missing key `kernels`"


def _bad_file_name(dest: Path) -> str:
    dest.mkdir()
    lock = {
        "package": "extism-kernel",
        "version": VERSION,
        "abi_version": 1,
        "abi_sha256": "0" * 64,
        "kernels": {"default": {"file": "../escape.wasm", "sha256": "0" * 64, "size": 1}},
    }
    (dest / LOCK).write_text(json.dumps(lock))
    return "plain file name"


UNREADABLE = {
    "missing-dir": _no_dir,
    "file": _a_file,
    "no-lock": _no_lock,
    "bad-json": _bad_json,
    "not-object": _not_object,
    "no-kernels": _no_kernels,
    "bad-file-name": _bad_file_name,
}


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("make", UNREADABLE.values(), ids=UNREADABLE)
def test_unreadable_is_exit_2_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Callable[[Path], str], as_json: bool
) -> None:
    dest = tmp_path / "sdk"
    fragment = make(dest)
    code, out, err = run(["vendor", "--check", str(dest), *(["--json"] if as_json else [])], capsys)
    assert (code, out) == (2, "")  # as `check-kernel --json`: nothing on stdout
    assert err.startswith(f"error: `{dest}")
    assert err.count("\n") == 1
    assert fragment in err
    assert "Traceback" not in err


def test_check_refuses_variant(vendored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["vendor", "--check", str(vendored), "--variant", "default"], capsys)
    assert (code, out) == (2, "")
    assert "drop --variant" in err


# --- --version ----------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"extism-kernel {VERSION}\n"


def test_vendor_removes_only_kernel_files_an_old_lock_named(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lock edited to name another file of the SDK never gets that file deleted."""
    (vendored / "go.mod").write_text("module example\n")
    lock = json.loads((vendored / LOCK).read_text())
    lock["kernels"]["wasm3"] = {**lock["kernels"]["default"], "file": "go.mod"}
    (vendored / LOCK).write_text(json.dumps(lock))
    code, out, _ = run(["vendor", str(vendored)], capsys)
    assert code == 0
    assert (vendored / "go.mod").read_text() == "module example\n"
    assert f"removed {vendored / NO_REF} (no longer vendored)" in out.splitlines()
    assert "go.mod" not in out


def test_new_files_are_world_readable_and_replaced_ones_keep_their_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "sdk"
    assert run(["vendor", str(dest)], capsys)[0] == 0
    assert {p.name: p.stat().st_mode & 0o777 for p in dest.iterdir()} == {
        DEFAULT: 0o644,
        "abi.json": 0o644,
        LOCK: 0o644,
    }
    (dest / DEFAULT).chmod(0o664)
    assert run(["vendor", str(dest)], capsys)[0] == 0
    assert (dest / DEFAULT).stat().st_mode & 0o777 == 0o664


def test_a_write_error_names_the_destination_not_a_temporary_file(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (vendored / "abi.json").unlink()
    (vendored / "abi.json").mkdir()
    code, _, err = run(["vendor", str(vendored)], capsys)
    assert code == 2
    assert err.startswith(f"error: `{vendored / 'abi.json'}`: cannot write: ")
    assert ".tmp" not in err
    assert not [p for p in vendored.iterdir() if p.name.endswith(".tmp")]


def test_a_deeply_nested_lock_is_malformed_exit_2(
    vendored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (vendored / LOCK).write_text("[" * 100_000)
    code, _, err = run(["vendor", "--check", str(vendored)], capsys)
    assert code == 2
    assert err.startswith(f"error: `{vendored / LOCK}`: not valid JSON")
