"""Link-time checks and ordering, runtime-neutral: who provides each import of each module.

The providers, in the Rust runtime's order: the kernel module (`extism:host/env`: kernel exports
plus builtins, functions only), its legacy 0.x aliases (`env::extism_*`), WASI when enabled, user
host functions by namespace (they may shadow a builtin), and the other modules of the manifest by
name. An import nobody provides fails the load with a `LinkError` naming `module::name` and type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from extism_kernel._abi import AbiSpec, FuncSig, ValType
from extism_kernel._errors import LinkError
from extism_kernel._wasm import ExternDesc, ModuleDesc

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")


def _sig_key(sig: FuncSig) -> tuple[tuple[ValType, ...], tuple[ValType, ...]]:
    return sig.param_types, sig.results


def _render(params: Sequence[ValType], results: Sequence[ValType]) -> str:
    return (
        f"({', '.join(t.value for t in params)}) -> {', '.join(t.value for t in results) or '()'}"
    )


_SPEC_PROVIDERS: dict[int, tuple[AbiSpec, dict[tuple[str, str], ExternDesc]]] = {}


def _spec_providers(spec: AbiSpec) -> dict[tuple[str, str], ExternDesc]:
    """The kernel module's functions and their legacy aliases (computed once per spec)."""
    known = _SPEC_PROVIDERS.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    out: dict[tuple[str, str], ExternDesc] = {}
    for name, func in spec.env_imports.items():
        out[spec.kernel_module, name] = ExternDesc(spec.kernel_module, name, "func", sig=func.sig)
    for name, func in spec.legacy_imports.items():
        out[spec.legacy.module, name] = ExternDesc(spec.legacy.module, name, "func", sig=func.sig)
    _SPEC_PROVIDERS[id(spec)] = (spec, out)  # the spec is kept alive, so its id stays its own
    return out


def providers(
    spec: AbiSpec,
    user: Iterable[tuple[str, str, Sequence[ValType], Sequence[ValType]]],
    modules: Mapping[str, ModuleDesc],
) -> dict[tuple[str, str], ExternDesc]:
    """Every (module, name) a plugin may import, with the type it is provided at."""
    out = dict(_spec_providers(spec))
    for namespace, name, params, results in user:
        if namespace == spec.kernel_module and name not in spec.env_imports:
            continue  # a user function may shadow a builtin, not add a name (as in Rust)
        sig = FuncSig(tuple((f"p{i}", t) for i, t in enumerate(params)), tuple(results))
        out[namespace, name] = ExternDesc(namespace, name, "func", sig=sig)
    for module_name, desc in modules.items():
        for export in desc.exports:
            out[module_name, export.name] = export
    return out


def _import_problem(
    imp: ExternDesc, provided: Mapping[tuple[str, str], ExternDesc], *, spec: AbiSpec, wasi: bool
) -> str:
    """What is wrong with one import, as the tail of a message; "" when it links."""
    module = imp.module or ""
    if module in WASI_MODULES:
        return "" if wasi else " needs WASI (pass `wasi=True`)"
    if module == spec.kernel_module and imp.kind != "func":
        return ": plugins may import only functions from the kernel module"
    have = provided.get((module, imp.name))
    if have is None:
        return " is not provided by the kernel, the host or the manifest"
    if have.kind != imp.kind:
        return f": expected {have.render_type()}"
    if have.sig is not None and imp.sig is not None and _sig_key(have.sig) != _sig_key(imp.sig):
        return f": expected {_render(*_sig_key(have.sig))}"
    return ""


def check_imports(
    module_name: str,
    desc: ModuleDesc,
    provided: Mapping[tuple[str, str], ExternDesc],
    *,
    spec: AbiSpec,
    wasi: bool,
) -> None:
    """Raise `LinkError` listing every import of `module_name` that is missing or mistyped."""
    problems: list[str] = []
    for imp in desc.imports:
        problem = _import_problem(imp, provided, spec=spec, wasi=wasi)
        if problem:
            module = imp.module or ""
            where = f"module `{module_name}`: import `{module}::{imp.name}`"
            problems.append(f"{where} of type {imp.render_type()}{problem}")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        msg = f"cannot link `{module_name}`: {problems[0]}" + (
            f"\n{lines}" if len(problems) > 1 else ""
        )
        raise LinkError(msg)


def link_order(modules: Mapping[str, ModuleDesc], main: str) -> list[str]:
    """Non-main module names, each after the manifest modules it imports (depth first)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for imp in modules[name].imports:
            if imp.module is not None and imp.module in modules and imp.module != name:
                visit(imp.module)
        if name != main:
            order.append(name)

    for name in modules:
        visit(name)
    return order
