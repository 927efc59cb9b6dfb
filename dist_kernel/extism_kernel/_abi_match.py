"""The ABI matcher: a module's description against the spec, as typed problems. Pure.

One place answers "does this module match the ABI?": `check-kernel` (`_check.py`), `check-plugin`
(`_plugin_check.py`), and the host's kernel and plugin linking (`host/_kernel_exports.py`,
`host/_link.py`) all call it, so the same fault gets the same words everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from extism_kernel._problems import Problem

if TYPE_CHECKING:
    from extism_kernel._abi import AbiSpec, FuncSig, Function
    from extism_kernel._wasm import ExternDesc, ModuleDesc

# WASI is not part of the Extism ABI spec: these are the WASI preview 1 module names a host
# satisfies when WASI is enabled (`wasi_unstable` is the pre-snapshot spelling).
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")


def sig_matches(found: FuncSig | None, want: FuncSig) -> bool:
    """Whether a function's signature is `want`'s: same parameter and result types."""
    return (
        found is not None
        and found.param_types == want.param_types
        and found.results == want.results
    )


def _func_problems(spec: AbiSpec, exports: dict[str, ExternDesc], *, strict: bool) -> list[Problem]:
    problems = []
    for func in (*spec.functions, *spec.extensions):
        found = exports.get(func.name)
        if found is None and func in spec.extensions and not strict:
            continue  # extensions are ours: other kernels need not have them
        if found is None:
            msg = f"missing export `{func.name}`: expected {func.sig}"
            problems.append(Problem("error", "missing-export", func.name, msg))
        elif not sig_matches(found.sig, func.sig):
            msg = f"export `{func.name}`: expected {func.sig} but found {found.render_type()}"
            problems.append(Problem("error", "wrong-type", func.name, msg))
    return problems


def _memory_problems(spec: AbiSpec, exports: dict[str, ExternDesc]) -> list[Problem]:
    found = exports.get(spec.memory.name)
    if found is None:
        msg = f"missing export `{spec.memory.name}`: expected memory"
        return [Problem("error", "missing-export", spec.memory.name, msg)]
    if found.kind != "memory":
        msg = f"export `{spec.memory.name}`: expected memory but found {found.render_type()}"
        return [Problem("error", "wrong-type", spec.memory.name, msg)]
    return []


def _variant_problems(spec: AbiSpec, exports: dict[str, ExternDesc], variant: str) -> list[Problem]:
    """The optional exports `variant` must have, and those of other variants it must not."""
    try:
        want = spec.variant(variant)
    except KeyError as exc:
        return [Problem("error", "unknown-variant", variant, str(exc.args[0]))]
    problems = []
    for name in want.exports:
        if name not in exports:
            msg = f"missing export `{name}`: variant `{variant}` exports it"
            problems.append(Problem("error", "missing-export", name, msg))
    others = {n for v in spec.variants for n in v.exports} - set(want.exports)
    for name in sorted(others & set(exports)):
        msg = f"export `{name}`: variant `{variant}` must not have it (other variants do)"
        problems.append(Problem("error", "variant-export", name, msg))
    return problems


def kernel_problems(
    desc: ModuleDesc, spec: AbiSpec, *, strict: bool, variant: str | None = None
) -> list[Problem]:
    """Compare a kernel's imports and exports with the spec.

    Missing exports and wrong types are errors. An export the spec does not name is an error
    when `strict` (our own build) and a warning otherwise; the spec's optional exports are
    accepted when their type matches. The spec's extensions must be present when `strict` and
    well-typed when present. Any import is an error: a kernel imports nothing.

    With a `variant` (the spec's first, `default`, when `strict` and none is named), the
    optional exports that variant lists are required, and those only other variants list are
    errors.
    """
    exports = {e.name: e for e in desc.exports}
    problems = _func_problems(spec, exports, strict=strict) + _memory_problems(spec, exports)
    if variant is None and strict and spec.variants:
        variant = spec.variants[0].name
    if variant is not None:
        problems += _variant_problems(spec, exports, variant)
    known = set(spec.function_names) | {f.name for f in spec.extensions} | {spec.memory.name}
    optional = {o.name: o for o in spec.optional_exports}
    for name, found in exports.items():
        if name in known:
            continue
        want = optional.get(name)
        if want is not None and found.kind == want.kind and found.global_type == want.type:
            continue
        msg = f"extra export `{name}`: {found.render_type()} is not in the ABI spec"
        problems.append(Problem("error" if strict else "warning", "extra-export", name, msg))
    for imp in desc.imports:
        subject = f"{imp.module}::{imp.name}"
        msg = f"import `{subject}`: a kernel must import nothing but found {imp.render_type()}"
        problems.append(Problem("error", "unexpected-import", subject, msg))
    return problems


ImportStatus = Literal["ok", "unknown", "wrong-type", "not-a-function"]


@dataclass(frozen=True)
class ImportMatch:
    """How one import from the kernel module matched the spec."""

    status: ImportStatus
    expected: str | None = None
    hint: str | None = None
    problem: Problem | None = None


def _hint(name: str, known: list[str]) -> str | None:
    close = difflib.get_close_matches(name, known, n=1)
    return close[0] if close else None


def match_kernel_import(
    imp: ExternDesc,
    known: Mapping[str, Function],
    extensions: AbstractSet[str],
    *,
    legacy: bool = False,
) -> ImportMatch:
    """Check one import whose module is the kernel module (or a legacy `extism_` name).

    `known` maps the importable names to their spec functions, `extensions` names this kernel's
    host-side extensions (which are never importable).
    """
    subject = f"{imp.module or ''}::{imp.name}"
    found = imp.render_type()
    want = known.get(imp.name)
    expected = str(want.sig) if want is not None else None
    if imp.kind != "func":
        msg = (
            f"import `{subject}`: expected a function but found {found}"
            " (hosts link only the kernel's functions into this module)"
        )
        return ImportMatch(
            "not-a-function", expected, problem=Problem("error", "not-a-function", subject, msg)
        )
    if want is None and imp.name in extensions:
        msg = (
            f"import `{subject}`: `{imp.name}` is a host-side extension of this kernel;"
            " hosts do not link it into plugins"
        )
        return ImportMatch("unknown", problem=Problem("error", "unknown-import", subject, msg))
    if want is None:
        hint = _hint(imp.name, sorted(known))
        suffix = f" (did you mean `{hint}`?)" if hint else ""
        which = "the Extism 0.x ABI" if legacy else "the ABI spec"
        msg = f"import `{subject}`: not in {which}{suffix}"
        return ImportMatch(
            "unknown", hint=hint, problem=Problem("error", "unknown-import", subject, msg)
        )
    if not sig_matches(imp.sig, want.sig):
        msg = f"import `{subject}`: expected {want.sig} but found {found}"
        return ImportMatch(
            "wrong-type", expected, problem=Problem("error", "wrong-type", subject, msg)
        )
    return ImportMatch("ok", expected)
