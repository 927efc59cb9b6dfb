"""The docs' command-line examples are what the program does: every `console` block is run.

A block holds `$ extism-kernel …` lines, each followed by what it prints (stdout, then stderr).
They run in a folder holding the test plugins (`tests/plugins/*.wat`) as `<name>.wasm`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.host_plugins import PLUGINS, plugin_wasm

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str, str]]:
    """(where, command, expected output) for every `$ extism-kernel` line of the docs."""
    found = []
    for doc in DOCS:
        for block in BLOCK.findall(doc.read_text(encoding="utf-8")):
            for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
                command, _, output = chunk.partition("\n")
                found.append((f"{doc.name}: {command}", command, output))
    return found


EXAMPLES = examples()


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doc-plugins")
    for path in sorted(PLUGINS.glob("*.wat")):
        if path.stem != "pdk":
            (root / f"{path.stem}.wasm").write_bytes(plugin_wasm(path.stem))
    return root


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(
    ("command", "expected"), [(c, o) for _, c, o in EXAMPLES], ids=[w for w, _, _ in EXAMPLES]
)
def test_a_docs_example_prints_what_the_docs_say(
    plugins_dir: Path, command: str, expected: str
) -> None:
    argv = shlex.split(command)
    assert argv[0] == "extism-kernel"
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "extism_kernel", *argv[1:]],
        cwd=plugins_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (proc.stdout + proc.stderr).rstrip("\n") == expected.rstrip(
        "\n"
    )  # raw output: no final newline
