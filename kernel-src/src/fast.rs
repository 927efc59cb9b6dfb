//! The fast path of `alloc`: a bump at `top` behind three compares, and the bookkeeping it
//! defers.
//!
//! `refresh` runs at the end of every operation that changes the heap (slow `alloc`, `free`,
//! `reset`). While the path is open, `Root::fast_limit` is the end of mapped memory; while it
//! is closed, it is `top`, which no block placed at `top` can end at or below. It is open only
//! when nothing else needs doing: no free block waits (freed memory is reused first), and the
//! highest block is row `fresh - ENTRY_SIZE`, so the new row's links can be implied. Separately,
//! `Root::fast_rows` keeps the last two rows of the table for the slow path (a block and a
//! split), which grows the table when it needs them.
//!
//! What the fast path skips, `settle` catches up on before any other operation reads it:
//! `root.last` (the highest row is `fresh - ENTRY_SIZE`). (`high_water` is raised only when `top`
//! goes down, so the blocks of the fast path need no care there.)

use crate::entry::imply_next;
use crate::layout::{write_u32, write_u64, ENTRY_SIZE, HEADER, MAX_ALLOC};
use crate::root::Root;

/// Table bytes kept back from the fast path: the slow path may need two rows (a block and a
/// split) before it can grow the table.
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
    let row = root.fresh;
    if n.wrapping_sub(1) >= MAX_ALLOC || end > root.fast_limit || row >= root.fast_rows {
        return 0;
    }
    // The path is open, so the heap is set up and row `fresh` lies inside the table.
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
    let open = root.nonempty == 0 && root.last + ENTRY_SIZE == root.fresh;
    root.fast_open = open as u32;
    root.fast_limit = root.top;
    root.fast_rows = root.table_bytes - RESERVED;
    if open {
        root.fast_limit = root.mapped_end;
        imply_next(root, root.last);
    }
}
