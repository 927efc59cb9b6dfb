//! The fast path of `alloc`: a bump at `top` gated by one compare, and the bookkeeping it defers.
//!
//! `Root::fast_limit` is set by `refresh` at the end of every operation that changes the heap
//! (slow `alloc`, `free`, `reset`). While the fast path is open, it is the highest address a
//! block placed by it may end at; while it is closed, it is `top`, below the end of any block.
//! The path is open only
//! when nothing else needs doing: no free block could be reused (reuse comes first), the
//! highest block is row `fresh - 1` (so the new row's links can be implied), and rows and mapped
//! memory are there. The limit also bounds the rows: every block takes at least `MIN_BLOCK`
//! bytes, so the path can place at most `(limit - top) / MIN_BLOCK` blocks before it closes.
//!
//! What the fast path skips, `settle` catches up on before any other operation reads it:
//! `root.last` (the highest row is `fresh - 1`). (`high_water` is raised only when `top` goes
//! down, so the blocks of the fast path need no care there.)

use crate::entry::imply_next;
use crate::layout::{write_u32, write_u64, ENTRY_SIZE, HEADER, MAX_ALLOC};
use crate::root::Root;

/// Bytes of the smallest block: a header and 8 bytes of data.
const MIN_BLOCK: u64 = 16;
/// Table bytes kept back from the fast path: the slow path may need two rows (a block and a
/// split).
const RESERVED: u32 = 2 * ENTRY_SIZE;

/// Place a block of `n` bytes at `top`, or return 0 when the fast path is closed or `n` does
/// not fit in it (the caller then takes the slow path).
///
/// # Safety
/// `root` is the kernel's root record.
#[inline(always)]
pub unsafe fn try_alloc(root: &mut Root, n: u64) -> u64 {
    let top = root.top;
    let cap = (n + 7) & !7;
    let start = top + HEADER as u64;
    let end = start + cap; // no overflow once `n <= MAX_ALLOC`
    if n.wrapping_sub(1) >= MAX_ALLOC || end > root.fast_limit {
        return 0;
    }
    // The path is open, so the heap is set up and row `fresh` lies inside the table.
    let row = root.fresh;
    root.fresh = row + ENTRY_SIZE;
    let addr = root.table as u64 + row as u64;
    write_u64(addr, start | cap << 32); // start, cap
    write_u64(addr + 8, n); // used; meta 0: active, links implied
    write_u32(top, row);
    root.top = end;
    start
}

/// Catch up on what the fast path left: the highest row.
#[inline(always)]
pub fn settle(root: &mut Root) {
    if root.fast_open != 0 {
        root.last = root.fresh - ENTRY_SIZE;
    }
}

/// Open the fast path if it may run, else close it (see the module note).
///
/// # Safety
/// `root` is set up and settled; no reference to a table row is live.
#[inline(never)]
pub unsafe fn refresh(root: &mut Root) {
    // Table bytes beyond the reserve (`fresh <= table_bytes` always holds).
    let spare = root.table_bytes - root.fresh;
    let open = root.nonempty == 0 && root.last + ENTRY_SIZE == root.fresh && spare > RESERVED;
    root.fast_open = open as u32;
    root.fast_limit = root.top;
    if open {
        // A limit below `top + MIN_BLOCK` admits no block: open in name only, which is harmless.
        let end = root.top + ((spare - RESERVED) / ENTRY_SIZE) as u64 * MIN_BLOCK;
        root.fast_limit = root.mapped_end.min(end);
        imply_next(root, root.last);
    }
}
