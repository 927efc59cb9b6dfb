//! Blocks, the block table, free bins, split and coalesce, and the heap's reset. No exports.
//!
//! Every block is described by an `Entry` (entry.rs) in the block table. The entries, not the
//! inline headers, are the truth: sizes, states and the address-order links live only in the
//! table, which plugins cannot write. The inline header holds just the block's table row, so a
//! handle is checked in O(1) by `handle::validate` and a scribbled header can only make its own
//! block unrecognisable, never corrupt another.

//!
//! Safety contract of the `unsafe fn`s here: `root` is the kernel's root record (`root::peek`),
//! set up by `reset` and settled (`fast::settle`), and every entry row passed in is below
//! `root.fresh`, so its entry lies inside the table block. Entries are reached through `entry`,
//! one at a time: a reference to an entry is not kept across a call that may take another
//! reference to the same entry.

use crate::entry::{entry, write_entry, State};
use crate::fast;
use crate::layout::{
    align_up, copy, ensure_memory, fast_start, heap_start, write_u32, zero, BINS, ENTRY_SIZE,
    HEADER, MIN_SPLIT, NIL, TABLE_INITIAL,
};
use crate::root::Root;

/// Point the root at a table of `bytes` bytes at `table`.
fn set_table(root: &mut Root, table: u64, bytes: u32) {
    root.table = table as u32;
    root.table_bytes = bytes;
    root.refresh_limits();
}

/// Forget every block, the input, the output and the error, in time proportional to the memory
/// used since the last reset (that memory is zeroed, so no data outlives its call).
///
/// # Safety
/// `root` is the kernel's root record, and no reference to a table entry is live.
pub unsafe fn reset(root: &mut Root) {
    // Only data needs zeroing. While the table stayed at the heap start all call, the memory
    // below `fast_start` was table (private) all along, and its entries are rewritten before
    // they are read: skip it. A table that grew was retired there, and a retired table is
    // ordinary memory a plugin may have written: zero it. (The fast path does not raise
    // `high_water`: `top` counts too.)
    let unmoved = root.table as u64 == heap_start() + HEADER as u64;
    let start = if unmoved { fast_start() } else { heap_start() };
    zero(start, root.high_water.max(root.top));
    // The table keeps the size it grew to: the next call of a long-lived instance is likely to
    // need as many rows, and growing costs a copy and leaves the old table's memory unused.
    let bytes = root.table_bytes.max(TABLE_INITIAL);
    core::ptr::write_bytes(root as *mut Root, 0, 1);
    init(root, bytes);
    fast::refresh(root);
}

/// Lay out an empty heap: one block holding a table of `bytes` bytes.
unsafe fn init(root: &mut Root, bytes: u32) {
    let table = heap_start() + HEADER as u64;
    if !ensure_memory(table + bytes as u64) {
        core::arch::wasm32::unreachable();
    }
    set_table(root, table, bytes);
    root.fresh = 2 * ENTRY_SIZE; // row 0 is NIL; row 1 describes the table block
    root.top = heap_start(); // the table block's header, then the table
    place_block(root, ENTRY_SIZE, bytes, State::Table);
}

/// The slow path of `alloc`: a block of `n` bytes (1 ≤ n ≤ `MAX_ALLOC`) reused from the bins
/// or placed at `top`; its entry, or NIL when out of memory. Reopens the fast path.
///
/// # Safety
/// The module's contract (the root is settled here).
pub unsafe fn alloc(root: &mut Root, n: u32) -> u32 {
    fast::settle(root);
    let row = if available(root) < 2 * ENTRY_SIZE && !grow_table(root) {
        NIL
    } else {
        alloc_block(root, n)
    };
    fast::refresh(root);
    row
}

/// Release the block of entry `row` (`Active`): coalesce with free neighbours, give the
/// memory back to `top` when it is the highest block, else file it in a bin. Reopens the fast
/// path.
///
/// # Safety
/// The module's contract (the root is settled here).
pub unsafe fn free(root: &mut Root, row: u32) {
    fast::settle(root);
    let top = root.top;
    release_block(root, row);
    if root.top == top {
        // The block went to a bin: the fast path closes (freed memory is reused first).
        root.fast_limit = top;
    } else {
        fast::refresh(root); // `top` came down: the bins may be empty again
    }
}

/// `free` without the fast path's bookkeeping.
#[inline(always)]
unsafe fn release_block(root: &mut Root, mut row: u32) {
    let e = entry(root, row);
    e.state = State::Free;
    e.used = 0;
    let next = entry(root, row).next;
    if next != NIL && entry(root, next).state == State::Free {
        unbin(root, next);
        absorb_next(root, row);
    }
    let prev = entry(root, row).prev;
    if prev != NIL && entry(root, prev).state == State::Free {
        unbin(root, prev);
        absorb_next(root, prev);
        row = prev;
    }
    if row == root.last {
        let below = entry(root, row).prev;
        if root.top > root.high_water {
            root.high_water = root.top; // `top` goes down: remember what `reset` must zero
        }
        root.top = entry(root, row).start as u64 - HEADER as u64;
        root.last = below;
        if below != NIL {
            entry(root, below).next = NIL;
        }
        release_entry(root, row);
    } else {
        bin(root, row);
    }
}

#[inline(never)]
unsafe fn alloc_block(root: &mut Root, n: u32) -> u32 {
    let cap = align_up(n as u64) as u32;
    let row = match take_free(root, cap) {
        NIL => {
            let start = root.top + HEADER as u64;
            let end = start + cap as u64;
            if !reach(root, end) {
                return NIL;
            }
            let row = take_entry(root);
            place_block(root, row, cap, State::Active);
            row
        }
        row => {
            // Free memory is plugin-writable: restore the header a stray store may have hit.
            let e = entry(root, row);
            e.state = State::Active;
            write_u32(e.start as u64 - HEADER as u64, row);
            row
        }
    };
    entry(root, row).used = n;
    row
}

/// Make `[0, end)` addressable and inside the cached bounds; false when memory cannot grow
/// (past 4 GiB it never can: `memory.grow` refuses).
fn reach(root: &mut Root, end: u64) -> bool {
    if end <= root.mapped_end {
        return true;
    }
    if !ensure_memory(end) {
        return false;
    }
    root.refresh_limits();
    true
}

/// Append a block of capacity `cap` at `top` (memory already ensured) described by `row`.
#[inline(never)]
unsafe fn place_block(root: &mut Root, row: u32, cap: u32, state: State) {
    let start = root.top + HEADER as u64;
    let last = root.last;
    write_entry(root, row, start, cap, state, last);
    if last != NIL {
        entry(root, last).next = row;
    }
    root.last = row;
    root.top = start + cap as u64;
    write_u32(start - HEADER as u64, row);
}

/// Take a free block of at least `cap` bytes out of the bins, split off the excess; NIL if none.
///
/// One of the first two blocks of the request's own size class if it is large enough, else the
/// head of the smallest larger class that holds a block (every block there is large enough).
unsafe fn take_free(root: &mut Root, cap: u32) -> u32 {
    let class = size_class(cap);
    // The first two blocks of the request's own class, when they are large enough (row 0, NIL,
    // is never written: its capacity and links read as 0).
    let head = root.bins[class];
    let second = entry(root, head).link_next;
    let found = if entry(root, head).cap >= cap {
        head
    } else if entry(root, second).cap >= cap {
        second
    } else {
        // `class + 1` is at most 32 (when `cap` is 2^31 or more): no larger class then.
        let larger = root.nonempty & u32::MAX.checked_shl(class as u32 + 1).unwrap_or(0);
        if larger == 0 {
            return NIL;
        }
        root.bins[larger.trailing_zeros() as usize & (BINS - 1)]
    };
    unbin(root, found);
    let excess = entry(root, found).cap - cap;
    if excess >= HEADER + MIN_SPLIT {
        split(root, found, cap);
    }
    found
}

/// Cut block `row` to `cap` bytes; the rest becomes a new free block just above it.
unsafe fn split(root: &mut Root, row: u32, cap: u32) {
    let rest = take_entry(root);
    let next = entry(root, row).next;
    let e = entry(root, row);
    let rest_start = e.start as u64 + cap as u64 + HEADER as u64;
    let rest_cap = e.cap - cap - HEADER;
    e.cap = cap;
    write_entry(root, rest, rest_start, rest_cap, State::Free, row);
    entry(root, rest).next = next;
    entry(root, row).next = rest;
    if next != NIL {
        entry(root, next).prev = rest;
    } else {
        root.last = rest;
    }
    write_u32(rest_start - HEADER as u64, rest);
    bin(root, rest);
}

/// Merge the block above `row` into it (both out of the bins) and release its entry.
#[inline(never)]
unsafe fn absorb_next(root: &mut Root, row: u32) {
    let next = entry(root, row).next;
    let after = entry(root, next).next;
    let next_cap = entry(root, next).cap;
    let e = entry(root, row);
    e.cap += HEADER + next_cap;
    e.next = after;
    if after != NIL {
        entry(root, after).prev = row;
    } else {
        root.last = row;
    }
    release_entry(root, next);
}

/// Double the block table: copy it into a new block; the old one is retired (see below).
unsafe fn grow_table(root: &mut Root) -> bool {
    let old_bytes = root.table_bytes;
    let new_bytes = old_bytes as u64 * 2;
    if new_bytes > u32::MAX as u64 {
        return false;
    }
    let row = alloc_block(root, new_bytes as u32);
    if row == NIL {
        return false;
    }
    let old_table = root.table as u64;
    let new_table = entry(root, row).start as u64;
    copy(old_table, new_table, old_bytes as u64);
    set_table(root, new_table, old_bytes * 2);
    entry(root, row).state = State::Table;
    // The old table stays a `Table` block until `reset`: freed, it would be a hole that closes
    // the fast path (free blocks are reused first) and is only carved up by the slow path.
    true
}

/// Bytes of the rows that can be taken without growing the table: spare and never used.
#[inline(always)]
fn available(root: &Root) -> u32 {
    root.spare_bytes + (root.table_bytes - root.fresh)
}

#[inline(never)]
unsafe fn take_entry(root: &mut Root) -> u32 {
    if root.spare != NIL {
        let row = root.spare;
        root.spare = entry(root, row).link_next;
        root.spare_bytes -= ENTRY_SIZE;
        row
    } else {
        root.fresh += ENTRY_SIZE;
        root.fresh - ENTRY_SIZE
    }
}

#[inline(never)]
unsafe fn release_entry(root: &mut Root, row: u32) {
    let e = entry(root, row);
    e.state = State::Unused; // `validate` wants `Active`: the stale `start` is never read
    if row + ENTRY_SIZE == root.fresh {
        root.fresh = row; // the newest entry: give it back to `fresh`, keeping rows in order
        return;
    }
    e.link_next = root.spare;
    root.spare = row;
    root.spare_bytes += ENTRY_SIZE;
}

#[inline(always)]
fn size_class(cap: u32) -> usize {
    // The mask proves the row in range, so no bounds check (and no panic path) is compiled.
    (31 - cap.leading_zeros()) as usize & (BINS - 1)
}

/// Put free block `row` at the head of its bin.
#[inline(never)]
unsafe fn bin(root: &mut Root, row: u32) {
    let class = size_class(entry(root, row).cap);
    let head = root.bins[class];
    let e = entry(root, row);
    e.link_prev = NIL;
    e.link_next = head;
    if head != NIL {
        entry(root, head).link_prev = row;
    }
    root.bins[class] = row;
    root.nonempty |= 1 << class;
}

/// Take free block `row` out of its bin.
#[inline(never)]
unsafe fn unbin(root: &mut Root, row: u32) {
    let class = size_class(entry(root, row).cap);
    let (prev, next) = {
        let e = entry(root, row);
        (e.link_prev, e.link_next)
    };
    if prev != NIL {
        entry(root, prev).link_next = next;
    } else {
        root.bins[class] = next;
        if next == NIL {
            root.nonempty &= !(1 << class);
        }
    }
    if next != NIL {
        entry(root, next).link_prev = prev;
    }
}
