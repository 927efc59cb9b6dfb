"""The shape of the code: no import cycle, no oversized module, documented unsafe Rust.

The import graph is read from the source (every `import`, including those inside functions;
`if TYPE_CHECKING:` blocks are left out, since they never run).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON_ROOTS = {
    "extism_kernel": REPO / "dist_kernel" / "extism_kernel",
    "tooling": REPO / "tooling",
    "benchmarks": REPO / "benchmarks",
}
MAX_LINES = 500
KERNEL_SRC = REPO / "kernel-src" / "src"


def _modules() -> dict[str, Path]:
    out = {}
    for package, root in PYTHON_ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules of `known` that `module` imports (at run time)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for stmt in node.orelse:
                visit(stmt)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package (its own, for an __init__)
                parts = module.split(".")
                keep = len(parts) - node.level + (path.name == "__init__.py")
                base = ".".join([*parts[:keep], base] if base else parts[:keep])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {name for name in found if name in known and name != module}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of more than one module that reach each other through imports."""
    reach = {node: _reach(graph, node) for node in graph}
    groups = {
        tuple(sorted({node} | {o for o in reach[node] if node in reach[o]}))
        for node in graph
        if node in reach[node]
    }
    return sorted(list(g) for g in groups)


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of this project it imports (a package counts as its __init__)."""
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def test_the_import_graph_is_read() -> None:
    graph = import_graph()
    assert "extism_kernel._abi" in graph["extism_kernel._check"]
    assert "extism_kernel._abi_match" in graph["extism_kernel.host._link"]
    assert "extism_kernel.host._runtime_wasmtime" not in graph["extism_kernel._runtimes"]


def test_no_import_cycle() -> None:
    assert _cycles(import_graph()) == []


def test_a_cycle_would_be_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_no_module_over_500_lines() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_unsafe_block_in_the_kernel_says_why_it_is_sound() -> None:
    missing = []
    for path in sorted(KERNEL_SRC.glob("*.rs")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if re.search(r"\bunsafe \{", line) and not any(
                "SAFETY:" in previous for previous in lines[max(0, i - 3) : i + 1]
            ):
                missing.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert missing == []


def test_every_public_unsafe_fn_in_the_kernel_has_a_safety_section() -> None:
    header = re.compile(r"((?:\s*(?:///[^\n]*|#\[[^\n]*\]))*)\s*pub unsafe fn (\w+)")
    missing = [
        f"{path.name}: {match.group(2)}"
        for path in sorted(KERNEL_SRC.glob("*.rs"))
        for match in header.finditer(path.read_text(encoding="utf-8"))
        if "# Safety" not in match.group(1)
    ]
    assert missing == []


def test_no_function_returns_a_static_mut_reference_without_being_unsafe() -> None:
    found = [
        f"{path.name}: {m.group(0).strip()}"
        for path in sorted(KERNEL_SRC.glob("*.rs"))
        for m in re.finditer(
            r"^\s*(?:pub )?fn \w+\([^)]*\) -> &'static mut", path.read_text(), re.MULTILINE
        )
    ]
    assert found == []
