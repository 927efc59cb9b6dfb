"""The validator commands end to end: exit codes, one-line errors, JSON against the schema.

Also the acceptance checks of issue 4: `check-kernel` passes the official kernel and ours, and
the Python API returns the same typed reports the CLI prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import extism_kernel
import jsonschema
import pytest
import wasmtime
from extism_kernel import (
    KernelReport,
    PluginReport,
    check_kernel,
    check_plugin,
    load_abi,
    report_schema,
)
from extism_kernel._cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_PROBLEMS, main

SPEC = load_abi()


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def plugin_wat(imports: list[tuple[str, str, str]]) -> bytes:
    """A plugin importing (module, name, wat func type) and exporting one callable `run`."""
    lines = [f'(import "{m}" "{n}" (func {t}))' for m, n, t in imports]
    body = "\n".join(lines)
    return bytes(
        wasmtime.wat2wasm(f'(module {body} (func (export "run") (result i32) i32.const 0))')
    )


def wat_type(name: str) -> str:
    sig = SPEC.env_imports[name].sig
    params = " ".join(t.value for t in sig.param_types)
    results = " ".join(t.value for t in sig.results)
    return (f"(param {params})" if params else "") + (f" (result {results})" if results else "")


@pytest.fixture
def kernels(tmp_path: Path, kernel_wasm: bytes, official_kernel_wasm: bytes) -> dict[str, Path]:
    paths = {"ours": tmp_path / "ours.wasm", "official": tmp_path / "official.wasm"}
    paths["ours"].write_bytes(kernel_wasm)
    paths["official"].write_bytes(official_kernel_wasm)
    return paths


# --- check-kernel ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ours", "official"])
def test_check_kernel_passes_both_kernels(
    which: str, kernels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["check-kernel", str(kernels[which])], capsys)
    assert (code, out, err) == (EXIT_OK, f"kernel `{kernels[which]}`: ok\n", "")


def test_check_kernel_strict_passes_ours(
    kernels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--strict is for our own build: the spec's extensions are required, extra exports errors."""
    code, out, _ = run_cli(["check-kernel", "--strict", str(kernels["ours"])], capsys)
    assert (code, out) == (EXIT_OK, f"kernel `{kernels['ours']}`: ok\n")


def test_check_kernel_strict_on_official_wants_the_extensions(
    kernels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The official kernel lacks only our extensions; its extra globals are optional exports."""
    code, out, _ = run_cli(["check-kernel", "--strict", "--json", str(kernels["official"])], capsys)
    report = json.loads(out)
    assert code == (EXIT_PROBLEMS if SPEC.extensions else EXIT_OK)
    assert [(p["code"], p["subject"]) for p in report["problems"]] == [
        ("missing-export", f.name) for f in SPEC.extensions
    ]


@pytest.mark.parametrize("which", ["ours", "official"])
def test_check_kernel_json(
    which: str, kernels: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(["check-kernel", "--json", str(kernels[which])], capsys)
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert code == EXIT_OK
    assert report == {
        "report": "kernel",
        "source": str(kernels[which]),
        "ok": True,
        "errors": 0,
        "warnings": 0,
        "problems": [],
    }


def test_check_kernel_api_is_typed(kernel_wasm: bytes, official_kernel_wasm: bytes) -> None:
    for wasm in (kernel_wasm, official_kernel_wasm):
        report = check_kernel(wasm, source="k.wasm")
        assert isinstance(report, KernelReport)
        assert report.ok
        assert report.problems == ()
        assert report.to_json()["source"] == "k.wasm"


def test_a_plugin_is_not_a_kernel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "plugin.wasm"
    path.write_bytes(plugin_wat([]))
    code, out, err = run_cli(["check-kernel", str(path)], capsys)
    assert code == EXIT_PROBLEMS
    assert err == ""
    assert out.splitlines()[0] == f"kernel `{path}`: {len(SPEC.functions) + 1} errors, 1 warning"


# --- check-plugin ------------------------------------------------------------------------


def test_check_plugin_every_kernel_function_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plugin importing every name of the spec, with its spec type, is fine."""
    imports = [(SPEC.kernel_module, name, wat_type(name)) for name in SPEC.env_imports]
    path = tmp_path / "all.wasm"
    path.write_bytes(plugin_wat(imports))
    code, out, _ = run_cli(["check-plugin", "--json", str(path)], capsys)
    report = json.loads(out)
    jsonschema.validate(report, report_schema())
    assert code == EXIT_OK
    assert [i["name"] for i in report["kernel_imports"]] == list(SPEC.env_imports)
    assert {i["status"] for i in report["kernel_imports"]} == {"ok"}
    assert [e["name"] for e in report["callable_exports"]] == ["run"]


@pytest.mark.parametrize("name", sorted(SPEC.legacy_imports))
def test_check_plugin_legacy_names(name: str) -> None:
    """Every legacy name links with its spec type and marks the plugin as legacy."""
    func = SPEC.legacy_imports[name]
    wasm = plugin_wat([(SPEC.legacy.module, name, wat_type(func.name))])
    report = check_plugin(wasm)
    assert isinstance(report, PluginReport)
    assert report.ok
    assert report.legacy
    assert [p.code for p in report.problems] == ["legacy-plugin"]


def test_check_plugin_typo_hint() -> None:
    name = SPEC.function_names[0]
    typo = name[:-1] + name[-1] * 2
    report = check_plugin(plugin_wat([(SPEC.kernel_module, typo, "")]), source="p.wasm")
    assert not report.ok
    (problem,) = report.errors
    assert problem.code == "unknown-import"
    assert problem.message.endswith(f"(did you mean `{name}`?)")
    assert report.kernel_imports[0].hint == name


def test_check_plugin_user_and_wasi_imports() -> None:
    wasm = plugin_wat(
        [
            (SPEC.user_module, "hello", "(param i64) (result i64)"),
            ("wasi_snapshot_preview1", "fd_write", "(param i32 i32 i32 i32) (result i32)"),
        ]
    )
    report = check_plugin(wasm)
    assert report.ok
    assert report.needs_wasi
    assert [(i.module, i.name, i.type) for i in report.host_imports] == [
        (SPEC.user_module, "hello", "(i64) -> i64")
    ]


def test_check_plugin_exit_1_on_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.wasm"
    path.write_bytes(plugin_wat([(SPEC.kernel_module, "no_such_function", "")]))
    code, out, err = run_cli(["check-plugin", str(path)], capsys)
    assert code == EXIT_PROBLEMS
    assert err == ""
    assert f"error: import `{SPEC.kernel_module}::no_such_function`: not in the ABI spec" in out


def test_check_plugin_on_the_kernels(kernel_wasm: bytes, official_kernel_wasm: bytes) -> None:
    """A kernel imports nothing, so as a plugin it links; its `() -> ()` exports are callable."""
    for wasm in (kernel_wasm, official_kernel_wasm):
        report = check_plugin(wasm)
        assert report.ok
        assert report.kernel_imports == ()
        assert report.host_imports == report.wasi_imports == ()


# --- exit code 2: unreadable input or not wasm ---------------------------------------------


@pytest.mark.parametrize("command", ["check-kernel", "check-plugin"])
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\0asm\x01\0\0\0\x05", "unexpected end-of-file"),
        (b"\0asm\x02\0\0\0", "unknown binary version"),
        (b"hello", "expected `(`"),
        (b"", "not a valid WebAssembly module"),
    ],
    ids=["truncated", "bad-version", "text", "empty"],
)
def test_not_wasm_is_exit_2(
    command: str, content: bytes, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.wasm"
    path.write_bytes(content)
    code, out, err = run_cli([command, "--json", str(path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: `{path}`: not a valid WebAssembly module")
    assert reason in err


@pytest.mark.parametrize("command", ["check-kernel", "check-plugin"])
def test_missing_file_is_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "missing.wasm"
    code, out, err = run_cli([command, str(path)], capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == f"error: `{path}`: No such file or directory\n"


def test_directory_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["check-plugin", str(tmp_path)], capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.startswith("error: ")
    assert err.count("\n") == 1


def test_api_exported_sorted() -> None:
    assert extism_kernel.__all__ == sorted(extism_kernel.__all__)
    for name in (
        "check_plugin",
        "PluginReport",
        "KernelImport",
        "PluginImport",
        "PluginExport",
        "diff_abi",
        "AbiDiff",
        "report_schema",
        "UnreadableInputError",
    ):
        assert name in extism_kernel.__all__


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(report_schema())


# --- the host suite's test plugins ---------------------------------------------------------


def test_check_plugin_on_every_test_plugin() -> None:
    """Every plugin of tests/plugins/ links against a host of the ABI (some with a warning)."""
    from tests.host_plugins import PLUGINS, plugin_wasm  # noqa: PLC0415 (tests/ is on sys.path)

    names = sorted(p.stem for p in PLUGINS.glob("*.wat") if "(module" in p.read_text("utf-8"))
    assert names
    for name in names:
        report = check_plugin(plugin_wasm(name), source=f"{name}.wat")
        assert report.ok, report.render()
        # a library module of a multi-module manifest has nothing to call: a warning, not an error
        assert {p.code for p in report.warnings} <= {"legacy-plugin", "no-callable-export"}


def test_check_plugin_says_who_provides_each_import(capsys: pytest.CaptureFixture[str]) -> None:
    """http.wasm needs only Extism builtins (provided by every host) and kernel functions;
    host_fn.wasm needs two user host functions; wasi.wasm needs WASI."""
    from tests.host_plugins import plugin_wasm  # noqa: PLC0415

    http = check_plugin(plugin_wasm("http"), source="http.wasm")
    providers = {name: provider for provider, name, _ in http.imports()}
    assert providers["extism:host/env::http_request"] == "builtin"
    assert providers["extism:host/env::alloc"] == "kernel"
    assert http.summary == "links with any Extism host"
    user = check_plugin(plugin_wasm("host_fn"), source="host_fn.wasm")
    assert user.summary == ("links with `extism:host/user::to_upper`, `host::add` provided")
    wasi = check_plugin(plugin_wasm("wasi"), source="wasi.wasm")
    assert wasi.summary == "links with WASI on"
    assert {p for p, _, _ in wasi.imports()} == {"kernel", "wasi"}
    legacy = check_plugin(plugin_wasm("legacy"), source="legacy.wasm")
    legacy_providers = {name: p for p, name, _ in legacy.imports()}
    assert legacy_providers["env::extism_config_get"] == "builtin"
    assert legacy_providers["env::extism_alloc"] == "kernel"


def test_check_plugin_takes_several_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.host_plugins import plugin_wasm  # noqa: PLC0415

    paths = []
    for name in ("http", "host_fn", "wasi"):
        path = tmp_path / f"{name}.wasm"
        path.write_bytes(plugin_wasm(name))
        paths.append(str(path))
    assert main(["check-plugin", *paths, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, report_schema())
    assert [d["source"] for d in data] == paths
    assert [d["summary"] for d in data] == [
        "links with any Extism host",
        "links with `extism:host/user::to_upper`, `host::add` provided",
        "links with WASI on",
    ]
    assert main(["check-plugin", *paths]) == 0
    text = capsys.readouterr().out
    assert text.count("plugin `") == 3
    assert "Extism builtins (every Extism host provides these):" in text
