"""ABI diff: breaking vs additive changes, the CLI, and the release gate against the last release.

The gate: `tooling/released/abi-X.Y.Z.json` is the spec of the last released version. If the
current spec breaks it, the package version (`extism_kernel.__version__`, set in
kernel-src/Cargo.toml) must be a major bump over X.Y.Z (pre-1.0: a minor bump).
"""

from __future__ import annotations

import copy
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import extism_kernel
import jsonschema
import pytest
from extism_kernel import AbiDiff, diff_abi, load_abi, load_surface, report_schema
from extism_kernel._abi import parse_spec, spec_text
from extism_kernel._abi_diff import is_major_bump, surface_from_spec, version_key
from extism_kernel._cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEMS, main

REPO = Path(__file__).resolve().parent.parent
RELEASED_DIR = REPO / "tooling" / "released"
RELEASED_NAME = re.compile(r"^abi-(\d+\.\d+\.\d+)\.json$")
SPEC = load_abi()
FIRST = SPEC.functions[0].name
HOST = SPEC.host_functions[0].name
NOT_LEGACY = next(f.name for f in SPEC.functions if not f.legacy)
LEGACY = next(f.name for f in SPEC.functions if f.legacy)
OWNED = next(f.name for f in SPEC.functions if f.ownership)


def current_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(spec_text())
    return data


def entry(data: dict[str, Any], name: str) -> dict[str, Any]:
    everything = ("exports", "extensions", "host_functions", "optional_exports")
    for obj in (o for key in everything for o in data.get(key, [])):
        if obj["name"] == name:
            return obj  # type: ignore[no-any-return]
    raise KeyError(name)


def diff_of(mutate: Any) -> AbiDiff:
    old = current_data()
    new = copy.deepcopy(old)
    mutate(new)
    return diff_abi(
        surface_from_spec(parse_spec(old, "old.json"), "old.json"),
        surface_from_spec(parse_spec(new, "new.json"), "new.json"),
    )


def _remove(key: str, name: str) -> Any:
    return lambda d: d.__setitem__(key, [o for o in d[key] if o["name"] != name])


def _set(name: str, field: str, value: object) -> Any:
    return lambda d: entry(d, name).__setitem__(field, value)


def _add(key: str, obj: dict[str, Any]) -> Any:
    return lambda d: d[key].append(obj)


NEW_FUNC = {"name": "brand_new", "kind": "func", "params": [], "results": ["i64"], "doc": "new"}
NEW_HOST = {"name": "brand_new_host", "params": [], "results": [], "doc": "new"}

# (id, mutation of the current spec, expected [(severity, code, subject)])
CHANGES = [
    ("nothing", lambda d: None, []),
    ("doc-only", _set(FIRST, "doc", "reworded"), []),
    ("remove-export", _remove("exports", FIRST), [("breaking", "removed-export", FIRST)]),
    (
        "change-result-type",
        _set(FIRST, "results", ["i32"]),
        [("breaking", "changed-type", FIRST)],
    ),
    (
        "change-param-type",
        _set(FIRST, "params", [["n", "i32"]]),
        [("breaking", "changed-type", FIRST)],
    ),
    ("rename-param-only", _set(FIRST, "params", [["size", "i64"]]), []),
    ("add-export", _add("exports", NEW_FUNC), [("additive", "added-export", "brand_new")]),
    (
        "remove-host-function",
        _remove("host_functions", HOST),
        [("breaking", "removed-host-function", HOST)],
    ),
    (
        "change-host-function-type",
        _set(HOST, "results", []),
        [("breaking", "changed-type", HOST)],
    ),
    (
        "add-host-function",
        _add("host_functions", NEW_HOST),
        [("additive", "added-host-function", "brand_new_host")],
    ),
    (
        "rename-kernel-module",
        lambda d: d.__setitem__("kernel_module", "extism:host/env2"),
        [("breaking", "changed-module", "kernel module")],
    ),
    (
        "change-legacy-prefix",
        lambda d: d["legacy"].__setitem__("prefix", "ext_"),
        [("breaking", "changed-module", "legacy prefix")],
    ),
    (
        "abi-version",
        lambda d: d.__setitem__("abi_version", 2),
        [("breaking", "changed-abi-version", "abi_version")],
    ),
    ("drop-legacy", _set(LEGACY, "legacy", value=False), [("breaking", "removed-legacy", LEGACY)]),
    (
        "add-legacy",
        _set(NOT_LEGACY, "legacy", value=True),
        [("additive", "added-legacy", NOT_LEGACY)],
    ),
    (
        "change-ownership",
        _set(OWNED, "ownership", "the caller frees it"),
        [("breaking", "changed-ownership", OWNED)],
    ),
    (
        "remove-optional-export",
        lambda d: d.update(optional_exports=[], variants=[]),
        [
            ("compatible", "removed-optional-export", o.name)
            for o in sorted(SPEC.optional_exports, key=lambda o: o.name)
        ],
    ),
    *(
        [
            (
                "remove-extension",
                _remove("extensions", SPEC.extensions[0].name),
                [("compatible", "removed-extension", SPEC.extensions[0].name)],
            ),
            (
                "change-extension-type",
                _set(SPEC.extensions[0].name, "results", []),
                [("breaking", "changed-type", SPEC.extensions[0].name)],
            ),
            (
                "promote-extension",
                lambda d: (
                    d["exports"].append({**d["extensions"][0], "kind": "func"}),
                    d["extensions"].pop(0),
                ),
                [("additive", "added-export", SPEC.extensions[0].name)],
            ),
        ]
        if SPEC.extensions
        else []
    ),
    (
        "remove-and-add",
        lambda d: (_remove("exports", FIRST)(d), _add("exports", NEW_FUNC)(d)),
        [("breaking", "removed-export", FIRST), ("additive", "added-export", "brand_new")],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES]
)
def test_diff_classifies(mutate: Any, expected: list[tuple[str, str, str]]) -> None:
    diff = diff_of(mutate)
    assert [(c.severity, c.code, c.subject) for c in diff.changes] == expected
    assert diff.breaking is any(e[0] == "breaking" for e in expected)
    jsonschema.validate(diff.to_json(), report_schema())


def test_messages() -> None:
    diff = diff_of(_set(FIRST, "results", ["i32"]))
    want = str(SPEC.function(FIRST).sig)
    found = want.replace("-> i64", "-> i32")
    assert [str(c) for c in diff.changes] == [
        f"breaking: export `{FIRST}`: type changed from {want} to {found}"
    ]


@pytest.mark.parametrize(
    ("old", "new", "major"),
    [
        ("0.1.0", "0.1.1", False),
        ("0.1.0", "0.2.0", True),
        ("0.9.3", "1.0.0", True),
        ("1.2.3", "1.9.0", False),
        ("1.2.3", "2.0.0", True),
        ("2.0.0", "1.0.0", False),
        ("1.0.0", "1.0.0rc1", False),
    ],
)
def test_is_major_bump(old: str, new: str, major: bool) -> None:
    assert is_major_bump(old, new) is major


def test_version_key_rejects_garbage() -> None:
    with pytest.raises(ValueError, match=re.escape("version `latest`: expected X.Y.Z")):
        version_key("latest")


# --- the release gate ---------------------------------------------------------------------


def released_specs() -> list[tuple[str, Path]]:
    found = []
    for path in RELEASED_DIR.iterdir():
        match = RELEASED_NAME.match(path.name)
        assert match, f"`{path.name}`: released specs are named abi-X.Y.Z.json"
        found.append((match[1], path))
    return sorted(found, key=lambda vp: tuple(int(x) for x in vp[0].split(".")))


def test_released_spec_is_kept() -> None:
    assert released_specs(), "tooling/released/ must hold the spec of the last release"


def test_current_spec_does_not_break_the_last_release() -> None:
    """Fails when abi.json breaks the last released spec without a major version bump."""
    version, path = released_specs()[-1]
    current = extism_kernel.__version__
    assert version_key(current) >= version_key(version), (
        f"package version {current} is older than the last release {version}"
    )
    diff = diff_abi(
        load_surface(path, version=version),
        surface_from_spec(SPEC, "abi.json", version=current),
    )
    if diff.breaking:
        breaking = "\n".join(str(c) for c in diff.of("breaking"))
        assert diff.major_bump, (
            f"abi.json breaks the ABI of release {version} but the version {current} is not a"
            f" major bump (set it in kernel-src/Cargo.toml):\n{breaking}"
        )


def test_released_spec_parses_with_todays_loader() -> None:
    for _, path in released_specs():
        assert load_surface(path).abi_version == SPEC.abi_version


# --- the command --------------------------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def write_spec(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_wheel(path: Path, data: dict[str, Any], version: str) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("extism_kernel/abi.json", json.dumps(data))
        meta = f"Metadata-Version: 2.4\nName: extism-kernel\nVersion: {version}\n"
        wheel.writestr(f"extism_kernel-{version}.dist-info/METADATA", meta)
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    data = current_data()
    data["exports"] = [o for o in data["exports"] if o["name"] != FIRST]
    return write_spec(tmp_path / "broken.json", data)


def test_cli_same_spec_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path / "abi.json", current_data())
    code, out, err = run_cli(["abi-diff", str(spec), str(spec)], capsys)
    assert (code, err) == (EXIT_OK, "")
    assert out == (f"abi `{spec}` -> `{spec}`: compatible (0 breaking, 0 additive, 0 compatible)\n")


def test_cli_breaking_exit_1(
    tmp_path: Path, broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path / "abi.json", current_data())
    code, out, _ = run_cli(["abi-diff", str(spec), str(broken)], capsys)
    assert code == EXIT_PROBLEMS
    assert f"breaking: removed export `{FIRST}`" in out
    code, out, _ = run_cli(["abi-diff", str(broken), str(spec)], capsys)
    assert code == EXIT_OK
    assert f"additive: added export `{FIRST}`" in out


def test_cli_allow_major(tmp_path: Path, broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = write_wheel(tmp_path / "old.whl", current_data(), "0.1.0")
    argv = ["abi-diff", "--allow-major", str(old), str(broken)]
    assert run_cli([*argv, "--new-version", "0.1.5"], capsys)[0] == EXIT_PROBLEMS
    assert run_cli([*argv, "--new-version", "0.2.0"], capsys)[0] == EXIT_OK
    assert run_cli(argv, capsys)[0] == EXIT_PROBLEMS  # NEW's version unknown


def test_cli_json_from_wheels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = current_data()
    old = write_wheel(tmp_path / "old.whl", data, "0.1.0")
    data["host_functions"].append(NEW_HOST)
    new = write_wheel(tmp_path / "new.whl", data, "0.1.1")
    code, out, _ = run_cli(["abi-diff", "--json", str(old), str(new)], capsys)
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert code == EXIT_OK
    assert report["old"] == {
        "source": str(old),
        "origin": "wheel",
        "version": "0.1.0",
        "abi_version": SPEC.abi_version,
    }
    assert report["major_bump"] is False
    assert report["counts"] == {"breaking": 0, "additive": 1, "compatible": 0}


def test_cli_kernels(
    tmp_path: Path,
    kernel_wasm: bytes,
    official_kernel_wasm: bytes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Official kernel -> ours: only the optional `extism_context` global goes; spec -> both: ok."""
    ours, official = tmp_path / "ours.wasm", tmp_path / "official.wasm"
    ours.write_bytes(kernel_wasm)
    official.write_bytes(official_kernel_wasm)
    spec = write_spec(tmp_path / "abi.json", current_data())
    code, out, _ = run_cli(["abi-diff", "--json", str(official), str(ours)], capsys)
    report = json.loads(out)
    assert code == EXIT_OK
    assert not report["breaking"]
    additive = {c["subject"] for c in report["changes"] if c["severity"] == "additive"}
    compatible = {c["subject"] for c in report["changes"] if c["severity"] == "compatible"}
    assert additive == {f.name for f in SPEC.extensions}  # ours adds its extensions
    assert compatible <= {o.name for o in SPEC.optional_exports}  # and drops optional globals
    assert len(report["notes"]) == 1
    for kernel in (ours, official):
        assert run_cli(["abi-diff", str(spec), str(kernel)], capsys)[0] == EXIT_OK
        assert run_cli(["abi-diff", str(kernel), str(spec)], capsys)[0] == EXIT_OK


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "not an ABI spec, a wasm module or a wheel"),
        ("list.json", b"[1, 2]", "not an ABI spec: expected a JSON object"),
        ("bad.json", b'{"abi_version": 1}', "unknown key"),
        ("broken.whl", b"PK\x03\x04garbage", "not a readable wheel"),
        ("binary.bin", b"\xff\xfe\x00", "not an ABI spec, a wasm module or a wheel"),
        ("broken.wasm", b"\0asm\x01\0\0\0\x05", "not a valid WebAssembly module"),
        ("missing.json", None, "No such file or directory"),
    ],
)
def test_cli_unreadable_exit_2(
    name: str,
    content: bytes | None,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    spec = write_spec(tmp_path / "abi.json", current_data())
    code, out, err = run_cli(["abi-diff", str(spec), str(path)], capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert message in err or "missing key" in err


def test_wheel_without_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("other/__init__.py", "")
    code, _, err = run_cli(["abi-diff", str(path), str(path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"error: `{path}`: the wheel has no `extism_kernel/abi.json`\n"
