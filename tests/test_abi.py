"""The ABI spec: its invariants, and exact messages for malformed specs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from extism_kernel import AbiSpecError, ValType, load_abi, read_spec
from extism_kernel._abi import parse_spec, spec_text

RAW: dict[str, Any] = json.loads(spec_text())


def test_spec_covers_the_extism_1x_abi() -> None:
    spec = load_abi()
    assert spec.abi_version == 1
    assert len(spec.functions) == 20
    assert len(spec.host_functions) == 12
    assert spec.memory.kind == "memory"
    assert len(spec.env_imports) == 32  # the whitelist of Extism 1.x hosts
    assert all(t in (ValType.I32, ValType.I64) for f in spec.functions for t in f.sig.param_types)


def test_legacy_names_are_derived_from_the_spec() -> None:
    spec = load_abi()
    legacy = spec.legacy_imports
    assert all(name.startswith(spec.legacy.prefix) for name in legacy)
    assert {f.name for f in legacy.values()} <= set(spec.env_imports)
    assert len(legacy) == 28  # 19 kernel functions + 9 host functions existed in 0.x


def test_every_function_has_a_doc() -> None:
    spec = load_abi()
    assert all(f.doc.strip() for f in (*spec.functions, *spec.host_functions))


def test_function_lookup_names_the_unknown_export() -> None:
    with pytest.raises(KeyError, match="no kernel export `nope`"):
        load_abi().function("nope")


def _mutate(path: list[object], value: object) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["abi_verison"], 1, "abi.json: unknown key `abi_verison` (did you mean `abi_version`?)"),
        (["abi_version"], KeyError, "abi.json: missing key `abi_version`"),
        (["abi_version"], "1", "abi.json: `abi_version` must be int but found str"),
        (
            ["exports", 1, "results"],
            ["i65"],
            "abi.json: exports[1] `alloc`: unknown value type `i65`",
        ),
        (
            ["exports", 1, "parms"],
            [],
            "abi.json: exports[1] `alloc`: unknown key `parms` (did you mean `params`?)",
        ),
        (
            ["exports", 2, "params"],
            ["h"],
            "abi.json: exports[2] `free`: each param must be [name, type] but found 'h'",
        ),
        (["exports", 0, "kind"], "table", "abi.json: exports[0] `memory`: unknown kind `table`"),
        (["exports", 3, "name"], "alloc", "abi.json: duplicate name `alloc`"),
        (
            ["host_functions", 0, "doc"],
            KeyError,
            "abi.json: host_functions[0] `config_get`: missing key `doc`",
        ),
        (["legacy", "prefix"], KeyError, "abi.json: legacy: missing key `prefix`"),
    ],
)
def test_malformed_spec_messages(path: list[object], value: object, message: str) -> None:
    with pytest.raises(AbiSpecError) as info:
        parse_spec(_mutate(path, value))
    assert str(info.value).startswith(message)


def test_spec_without_memory_is_rejected() -> None:
    data = copy.deepcopy(RAW)
    data["exports"] = [e for e in data["exports"] if e["kind"] != "memory"]
    with pytest.raises(AbiSpecError, match="no memory export"):
        parse_spec(data)


def test_read_spec_names_the_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "abi.json"
    bad.write_text("{not json")
    with pytest.raises(AbiSpecError, match=f"`{bad}`: cannot read the ABI spec"):
        read_spec(bad)
    bad.write_text("[]")
    with pytest.raises(AbiSpecError, match="must be a JSON object"):
        read_spec(bad)
