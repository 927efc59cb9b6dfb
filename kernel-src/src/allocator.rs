//! Blocks, the block table, free bins, split and coalesce. No exports here.
//!
//! Every block is described by an `Entry` in the block table. The entries, not the inline
//! headers, are the truth: sizes, states and the address-order links live only in the table,
//! which plugins cannot write. The inline header holds just the block's table index, so a
//! handle is checked in O(1) by `handle::validate` and a scribbled header can only make its own
//! block unrecognisable, never corrupt another.

use crate::layout::{
    align_up, copy, ensure_memory, heap_start, write_u32, ADDRESS_SPACE, BINS, ENTRY_SIZE, HEADER,
    MIN_SPLIT, NIL, TABLE_INITIAL,
};
use crate::root::Root;

/// Entry on the spare list (not describing any block).
pub const UNUSED: u32 = 0;
/// A block handed out by `alloc`.
pub const ACTIVE: u32 = 1;
/// A released block, in a free bin.
pub const FREE: u32 = 2;
/// The block that holds the block table.
pub const TABLE: u32 = 3;

/// One row of the block table.
#[repr(C)]
pub struct Entry {
    /// Address of the block's data: the handle.
    pub start: u32,
    /// Data capacity in bytes, a multiple of `ALIGN`.
    pub cap: u32,
    /// Bytes requested by `alloc` (what `length` returns).
    pub used: u32,
    /// `UNUSED`, `ACTIVE`, `FREE` or `TABLE`.
    pub state: u32,
    /// Entry of the block just below in memory, NIL for the lowest.
    pub prev: u32,
    /// Entry of the block just above in memory, NIL for the highest.
    pub next: u32,
    /// Free-bin list links (`FREE`), or the spare list link (`UNUSED`, `link_next` only).
    pub link_prev: u32,
    pub link_next: u32,
}

/// The entry at `index` (no bounds check: callers pass indices below `root.fresh`).
#[inline(always)]
pub fn entry(root: &Root, index: u32) -> &'static mut Entry {
    let addr = root.table as usize + index as usize * ENTRY_SIZE as usize;
    unsafe { &mut *(addr as *mut Entry) }
}

/// Point the root at a table of `cap` entries at `table`.
fn set_table(root: &mut Root, table: u64, cap: u32) {
    root.table = table as u32;
    root.table_cap = cap;
    root.refresh_limits();
}

/// Lay out an empty heap: one block holding the initial table.
pub fn init(root: &mut Root) {
    let table = heap_start() + HEADER as u64;
    let bytes = TABLE_INITIAL * ENTRY_SIZE;
    if !ensure_memory(table + bytes as u64) {
        core::arch::wasm32::unreachable();
    }
    set_table(root, table, TABLE_INITIAL);
    root.fresh = 1;
    root.top = table;
    let index = take_entry(root);
    place_block(root, index, bytes, TABLE);
    root.table_entry = index;
}

/// Allocate a block of `n` bytes (1 ≤ n ≤ `MAX_ALLOC`); its entry, or NIL when out of memory.
pub fn alloc(root: &mut Root, n: u32) -> u32 {
    if available(root) < 2 && !grow_table(root) {
        return NIL;
    }
    alloc_block(root, n)
}

/// Release the block of entry `index` (`ACTIVE` or `TABLE`): coalesce with free neighbours,
/// give the memory back to `top` when it is the highest block, else file it in a bin.
pub fn free(root: &mut Root, mut index: u32) {
    let e = entry(root, index);
    e.state = FREE;
    e.used = 0;
    let next = e.next;
    if next != NIL && entry(root, next).state == FREE {
        unbin(root, next);
        absorb_next(root, index);
    }
    let prev = entry(root, index).prev;
    if prev != NIL && entry(root, prev).state == FREE {
        unbin(root, prev);
        absorb_next(root, prev);
        index = prev;
    }
    if index == root.last {
        let e = entry(root, index);
        root.top = e.start as u64 - HEADER as u64;
        root.last = e.prev;
        if e.prev != NIL {
            entry(root, e.prev).next = NIL;
        }
        release_entry(root, index);
    } else {
        bin(root, index);
    }
}

fn alloc_block(root: &mut Root, n: u32) -> u32 {
    let cap = align_up(n as u64) as u32;
    let index = match take_free(root, cap) {
        NIL => {
            let start = root.top + HEADER as u64;
            let end = start + cap as u64;
            if end > ADDRESS_SPACE || !reach(root, end) {
                return NIL;
            }
            let index = take_entry(root);
            place_block(root, index, cap, ACTIVE);
            index
        }
        index => {
            // Free memory is plugin-writable: restore the header a stray store may have hit.
            let e = entry(root, index);
            e.state = ACTIVE;
            unsafe { write_u32(e.start as u64 - HEADER as u64, index) };
            index
        }
    };
    entry(root, index).used = n;
    index
}

/// Make `[0, end)` addressable and inside the cached bounds; false when memory cannot grow.
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

/// Append a block of capacity `cap` at `top` (memory already ensured) described by `index`.
fn place_block(root: &mut Root, index: u32, cap: u32, state: u32) {
    let start = root.top + HEADER as u64;
    let last = root.last;
    let e = entry(root, index);
    *e = Entry {
        start: start as u32,
        cap,
        used: 0,
        state,
        prev: last,
        next: NIL,
        link_prev: NIL,
        link_next: NIL,
    };
    if last != NIL {
        entry(root, last).next = index;
    }
    root.last = index;
    root.top = start + cap as u64;
    if root.top > root.high_water {
        root.high_water = root.top;
    }
    unsafe { write_u32(start - HEADER as u64, index) };
}

/// Take a free block of at least `cap` bytes out of the bins, split off the excess; NIL if none.
fn take_free(root: &mut Root, cap: u32) -> u32 {
    let class = size_class(cap);
    if root.nonempty & (u32::MAX << class) == 0 {
        return NIL; // no bin of this class or above holds a block: the usual case of a fresh call
    }
    let mut found = NIL;
    let mut candidate = root.bins[class];
    let mut budget = 8;
    while candidate != NIL && budget > 0 {
        let e = entry(root, candidate);
        if e.cap >= cap {
            found = candidate;
            break;
        }
        candidate = e.link_next;
        budget -= 1;
    }
    if found == NIL {
        let larger = if class + 1 >= BINS { 0 } else { root.nonempty & (u32::MAX << (class + 1)) };
        if larger == 0 {
            return NIL;
        }
        found = root.bins[larger.trailing_zeros() as usize & (BINS - 1)];
    }
    unbin(root, found);
    let excess = entry(root, found).cap - cap;
    if excess >= HEADER + MIN_SPLIT {
        split(root, found, cap);
    }
    found
}

/// Cut block `index` to `cap` bytes; the rest becomes a new free block just above it.
fn split(root: &mut Root, index: u32, cap: u32) {
    let rest = take_entry(root);
    let e = entry(root, index);
    let rest_start = e.start as u64 + cap as u64 + HEADER as u64;
    let rest_cap = e.cap - cap - HEADER;
    let next = e.next;
    e.cap = cap;
    e.next = rest;
    *entry(root, rest) = Entry {
        start: rest_start as u32,
        cap: rest_cap,
        used: 0,
        state: FREE,
        prev: index,
        next,
        link_prev: NIL,
        link_next: NIL,
    };
    if next != NIL {
        entry(root, next).prev = rest;
    } else {
        root.last = rest;
    }
    unsafe { write_u32(rest_start - HEADER as u64, rest) };
    bin(root, rest);
}

/// Merge the block above `index` into it (both out of the bins) and release its entry.
fn absorb_next(root: &mut Root, index: u32) {
    let next = entry(root, index).next;
    let (next_cap, after) = {
        let n = entry(root, next);
        (n.cap, n.next)
    };
    let e = entry(root, index);
    e.cap += HEADER + next_cap;
    e.next = after;
    if after != NIL {
        entry(root, after).prev = index;
    } else {
        root.last = index;
    }
    release_entry(root, next);
}

/// Double the block table: copy it into a new block, then free the old one.
fn grow_table(root: &mut Root) -> bool {
    let old_cap = root.table_cap;
    let new_bytes = old_cap as u64 * 2 * ENTRY_SIZE as u64;
    if new_bytes > u32::MAX as u64 {
        return false;
    }
    let index = alloc_block(root, new_bytes as u32);
    if index == NIL {
        return false;
    }
    let old_entry = root.table_entry;
    let old_table = root.table as u64;
    let new_table = entry(root, index).start as u64;
    unsafe { copy(old_table, new_table, old_cap as u64 * ENTRY_SIZE as u64) };
    set_table(root, new_table, old_cap * 2);
    root.table_entry = index;
    entry(root, index).state = TABLE;
    free(root, old_entry);
    true
}

/// Entries that can still be taken without growing the table.
#[inline(always)]
fn available(root: &Root) -> u32 {
    root.spare_count + (root.table_cap - root.fresh)
}

fn take_entry(root: &mut Root) -> u32 {
    if root.spare != NIL {
        let index = root.spare;
        root.spare = entry(root, index).link_next;
        root.spare_count -= 1;
        index
    } else {
        root.fresh += 1;
        root.fresh - 1
    }
}

fn release_entry(root: &mut Root, index: u32) {
    let spare = root.spare;
    let e = entry(root, index);
    e.state = UNUSED;
    e.start = 0;
    e.link_next = spare;
    root.spare = index;
    root.spare_count += 1;
}

#[inline(always)]
fn size_class(cap: u32) -> usize {
    // The mask proves the index in range, so no bounds check (and no panic path) is compiled.
    (31 - cap.leading_zeros()) as usize & (BINS - 1)
}

/// Put free block `index` at the head of its bin.
fn bin(root: &mut Root, index: u32) {
    let class = size_class(entry(root, index).cap);
    let head = root.bins[class];
    let e = entry(root, index);
    e.link_prev = NIL;
    e.link_next = head;
    if head != NIL {
        entry(root, head).link_prev = index;
    }
    root.bins[class] = index;
    root.nonempty |= 1 << class;
}

/// Take free block `index` out of its bin.
fn unbin(root: &mut Root, index: u32) {
    let class = size_class(entry(root, index).cap);
    let (prev, next) = {
        let e = entry(root, index);
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
