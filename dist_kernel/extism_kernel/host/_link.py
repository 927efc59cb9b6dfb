"""Link-time checks and ordering, runtime-neutral: who provides each import of each module.

The providers, in the Rust runtime's order: the kernel module (`extism:host/env`: kernel exports
plus builtins, functions only), its legacy 0.x aliases (`env::extism_*`), WASI when enabled, user
host functions by namespace (they may shadow a builtin), and the other modules of the manifest by
name. Imports from the kernel module are judged by the ABI matcher (`_abi_match.py`), in the words
`check-plugin` uses. An import nobody provides fails the load with a `LinkError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from extism_kernel._abi import AbiSpec, FuncSig, ValType
from extism_kernel._abi_match import WASI_MODULES, match_kernel_import, sig_matches
from extism_kernel._errors import LinkError
from extism_kernel._wasm import ExternDesc, ModuleDesc
from extism_kernel.host._limits import memory_minimums


def providers(
    spec: AbiSpec,
    user: Iterable[tuple[str, str, Sequence[ValType], Sequence[ValType]]],
    modules: Mapping[str, ModuleDesc],
) -> dict[tuple[str, str], ExternDesc]:
    """What the host itself provides beside the spec: user host functions and manifest modules.

    Imports from the kernel module (and the legacy module) are checked against the spec by the
    ABI matcher; a user function there shadows a builtin of the same name (as in Rust), never
    adds a name.
    """
    out: dict[tuple[str, str], ExternDesc] = {}
    for namespace, name, params, results in user:
        if namespace == spec.kernel_module and name not in spec.env_imports:
            continue
        sig = FuncSig(tuple((f"p{i}", t) for i, t in enumerate(params)), tuple(results))
        out[namespace, name] = ExternDesc(namespace, name, "func", sig=sig)
    for module_name, desc in modules.items():
        for export in desc.exports:
            out[module_name, export.name] = export
    return out


def _import_problem(
    imp: ExternDesc, provided: Mapping[tuple[str, str], ExternDesc], *, spec: AbiSpec, wasi: bool
) -> str:
    """What is wrong with one import, as a message; "" when it links."""
    module = imp.module or ""
    subject = f"import `{module}::{imp.name}`"
    if module in WASI_MODULES:
        return "" if wasi else f"{subject}: needs WASI (pass `wasi=True`)"
    have = provided.get((module, imp.name))
    if (
        have is not None
        and have.kind == imp.kind
        and (have.sig is None or sig_matches(imp.sig, have.sig))
    ):
        return ""  # a user function (possibly shadowing a builtin) or a manifest module's export
    extensions = {f.name for f in spec.extensions}
    if module == spec.kernel_module:
        match = match_kernel_import(imp, spec.env_imports, extensions)
    elif module == spec.legacy.module and imp.name.startswith(spec.legacy.prefix):
        legacy_extensions = {spec.legacy.prefix + name for name in extensions}
        match = match_kernel_import(imp, spec.legacy_imports, legacy_extensions, legacy=True)
    elif have is None:
        return f"{subject} of type {imp.render_type()}: not provided by the host or the manifest"
    else:
        return f"{subject}: expected {have.render_type()} but found {imp.render_type()}"
    return "" if match.problem is None else match.problem.message


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
            problems.append(f"module `{module_name}`: {problem}")
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


@dataclass(frozen=True)
class LinkPlan:
    """Everything decided once per plugin: what to instantiate, in which order, and with what.

    A `Session` builds each instance of the plugin from the plan; nothing in it changes.
    """

    compiled: Mapping[str, object]  # module name -> compiled module; "" is the kernel
    order: tuple[str, ...]  # the non-main modules, each after the modules it imports
    imports: frozenset[tuple[str, str]]  # every (module, name) the modules import
    main_exports: Mapping[str, ExternDesc]
    memory_minimums: Mapping[str, int]  # each memory's owner ("" the kernel) -> minimum pages
    wasi: bool
    allowed_paths: Mapping[str, str] | None


def plan_link(  # noqa: PLR0913
    spec: AbiSpec,
    compiled: Mapping[str, object],
    descs: Mapping[str, ModuleDesc],
    kernel: ModuleDesc,
    user: Iterable[tuple[str, str, Sequence[ValType], Sequence[ValType]]],
    *,
    main: str,
    wasi: bool,
    allowed_paths: Mapping[str, str] | None,
) -> LinkPlan:
    """Check every module's imports and fix the link order; `LinkError` when one cannot link.

    `compiled` and `descs` hold the manifest's modules by name and `compiled[""]` the kernel,
    described by `kernel`; `user` lists the user host functions as (namespace, name, params,
    results).
    """
    provided = providers(spec, user, descs)
    for name, desc in descs.items():
        check_imports(name, desc, provided, spec=spec, wasi=wasi)
    return LinkPlan(
        compiled=dict(compiled),
        order=tuple(link_order(descs, main)),
        imports=frozenset((i.module or "", i.name) for d in descs.values() for i in d.imports),
        main_exports={e.name: e for e in descs[main].exports},
        memory_minimums=memory_minimums(descs, kernel),
        wasi=wasi,
        allowed_paths=allowed_paths,
    )
