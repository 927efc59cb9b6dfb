"""The ABI spec is the only list of ABI names: no Python code types one as a string literal."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from extism_kernel import load_abi

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "dist_kernel").rglob("*.py")) + sorted((REPO / "tooling").rglob("*.py"))


def _abi_names() -> set[str]:
    spec = load_abi()
    return set(spec.env_imports) | set(spec.legacy_imports) | {f.name for f in spec.extensions}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_abi_name_as_a_string_literal(path: Path) -> None:
    names = _abi_names()
    found = [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    ]
    assert found == [], "read ABI names from extism_kernel.load_abi()"


def test_the_scan_sees_the_package() -> None:
    assert any(p.name == "_abi.py" for p in SOURCES)
    assert len(_abi_names()) == 32 + 28 + 2
