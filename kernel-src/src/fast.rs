//! The fast path of `alloc`: a bump at `top` behind three compares, and the bookkeeping it
//! defers.
//!
//! `refresh` runs at the end of every operation that changes the heap (slow `alloc`, `free`,
//! `reset`). While the path is open, `Root::fast_limit` is the end of mapped memory; while it
//! is closed, it is `top`, which no block placed at `top` can end at or below. It is open only
//! when nothing else needs doing: no free block waits (freed memory is reused first), and the
//! highest block is row `fresh - ENTRY_SIZE`, so the rows the path takes from `fresh` are in
//! address order. Separately, `Root::fast_rows` keeps the table's last row for the slow path,
//! which needs one to place the grown table's block.
//!
//! The fast path writes each row's position, size and state, nothing else. `settle` runs first
//! in every other operation that reads rows' links (slow `alloc`, `free`) and writes the links
//! of the rows placed since `refresh`, and `root.last`: each row once, so amortized O(1) per
//! `alloc`, however long the run. (`high_water` is raised only when `top` goes down, so the
//! blocks of the fast path need no care there.)

use crate::entry::entry;
use crate::layout::{write_u32, write_u64, ENTRY_SIZE, HEADER, MAX_ALLOC, NIL};
use crate::root::Root;

/// Table bytes kept back from the fast path: the row the slow path needs to grow the table (it
/// grows it while fewer than two rows are left, so it never runs out either).
const RESERVED: u32 = ENTRY_SIZE;
/// Offset of `Entry::prev` (then `next`) in a row.
const LINKS: u64 = 16;

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
    write_u64(addr + 8, n); // used; state 0: active (links: `settle`)
    write_u32(top, row);
    root.top = end;
    start
}

/// Write the links of the rows the fast path placed since the last `refresh`, and `last`.
///
/// Linear in those rows, each written once: amortized O(1) per `alloc`.
///
/// # Safety
/// `root` is the kernel's root record; no reference to a table row is live.
#[inline(always)]
pub unsafe fn settle(root: &mut Root) {
    if root.run_from != root.fresh {
        settle_run(root);
    }
}

#[inline(never)]
unsafe fn settle_run(root: &mut Root) {
    let (from, end) = (root.run_from, root.fresh);
    if from < end {
        // Rows `from..end` are blocks placed one above the other, the first just above the
        // highest block when the fast path opened (row `from - ENTRY_SIZE`).
        entry(root, from - ENTRY_SIZE).next = from;
        let mut row = from;
        while row < end {
            // prev and next are adjacent u32s: one store
            let links = (row - ENTRY_SIZE) as u64 | ((row + ENTRY_SIZE) as u64) << 32;
            write_u64(root.table as u64 + row as u64 + LINKS, links);
            row += ENTRY_SIZE;
        }
        entry(root, end - ENTRY_SIZE).next = NIL;
        root.last = end - ENTRY_SIZE;
    }
    // (`fresh` below `run_from`: a `free` gave the newest rows back, and nothing is to settle.)
    root.run_from = end;
}

/// Open the fast path if it may run, else close it (see the module note).
///
/// # Safety
/// `root` is set up and settled; no reference to a table row is live.
#[inline(never)]
pub unsafe fn refresh(root: &mut Root) {
    let open = root.nonempty == 0 && root.last + ENTRY_SIZE == root.fresh;
    root.run_from = root.fresh;
    root.fast_rows = root.table_bytes - RESERVED;
    root.fast_limit = if open { root.mapped_end } else { root.top };
}
