"""`max_pages` as a total budget for every memory of a plugin, and the table limit.

The rule: the kernel's memory and every module's memory together never hold more than
`max_pages` pages. The store holds `n` memories (the kernel's, and one for every module that
does not import its memory: wasmtime's multi-memory is off, and the store refuses an n+1-th);
each may grow to `max_pages // n` pages, so their total never passes `max_pages`. A plugin with
a memory whose declared minimum is over that share is refused at load, with the numbers: a
declared minimum cannot raise anyone's limit. Tables hold at most `TABLE_ELEMENTS` elements
each. (The Rust runtime counts only growth, in one budget the memories share, and sets no table
limit: a plugin it loads with a small `max_pages` may need a larger one here.)
"""

from __future__ import annotations

from collections.abc import Mapping

from extism_kernel._errors import ManifestError
from extism_kernel._wasm import ModuleDesc
from extism_kernel.host._runtime_types import StoreLimits

PAGE = 65536
TABLE_ELEMENTS = 65_536  # per table: 512 KiB of references; real plugins use a few thousand


def memory_minimums(modules: Mapping[str, ModuleDesc], kernel: ModuleDesc) -> dict[str, int]:
    """The memories a store of these modules holds, by owner ("" for the kernel).

    Each with its declared minimum in pages (0 when the module does not export its memory).
    """
    out = {"": _declared(kernel)}
    for name, desc in modules.items():
        if not any(i.kind == "memory" for i in desc.imports):  # an imported memory is not new
            out[name] = _declared(desc)
    return out


def _declared(desc: ModuleDesc) -> int:
    return max((e.min_pages or 0 for e in desc.exports if e.kind == "memory"), default=0)


def store_limits(max_pages: int | None, minimums: Mapping[str, int]) -> StoreLimits:
    """The store's limits for `max_pages`; `ManifestError` when a memory needs more than its share.

    `minimums` maps each memory's owner ("" for the kernel) to its declared minimum in pages.
    """
    if max_pages is None:
        return StoreLimits(table_elements=TABLE_ELEMENTS)
    share = max_pages // len(minimums)
    over = {name or "the kernel": pages for name, pages in minimums.items() if pages > share}
    if over:
        (name, pages), *_ = over.items()
        msg = (
            f"manifest: memory: `max_pages` {max_pages} is shared by {len(minimums)} memories,"
            f" {share} pages each, but `{name}` declares {pages} pages at instantiation"
        )
        raise ManifestError(msg)
    return StoreLimits(
        memory_bytes=share * PAGE, memories=len(minimums), table_elements=TABLE_ELEMENTS
    )
