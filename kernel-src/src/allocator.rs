//! Blocks, the block table, free bins, split and coalesce, and the heap's reset. No exports.
//!
//! Every block is described by an `Entry` in the block table. The entries, not the inline
//! headers, are the truth: sizes, states and the address-order links live only in the table,
//! which plugins cannot write. The inline header holds just the block's table index, so a
//! handle is checked in O(1) by `handle::validate` and a scribbled header can only make its own
//! block unrecognisable, never corrupt another.

//!
//! Safety contract of the `unsafe fn`s here: `root` is the kernel's root record (`root::peek`),
//! set up by `reset`, and every entry index passed in is below `root.fresh`, so its entry lies
//! inside the table block. Entries are reached through `entry`, one at a time: a reference to
//! an entry is not kept across a call that may take another reference to the same entry.

use crate::layout::{
    align_up, copy, ensure_memory, fast_start, heap_start, write_u32, zero, ADDRESS_SPACE, BINS,
    ENTRY_SIZE, FIRST_FIT_BUDGET, HEADER, MIN_SPLIT, NIL, TABLE_INITIAL,
};
use crate::root::Root;

/// What a block-table entry describes.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// On the spare list, describing no block (the table's memory starts zeroed: `Unused`).
    Unused = 0,
    /// A block handed out by `alloc`.
    Active = 1,
    /// A released block, in a free bin.
    Free = 2,
    /// The block that holds the block table.
    Table = 3,
}

/// One row of the block table.
#[repr(C)]
pub struct Entry {
    /// Address of the block's data: the handle.
    pub start: u32,
    /// Data capacity in bytes, a multiple of `ALIGN`.
    pub cap: u32,
    /// Bytes requested by `alloc` (what `length` returns).
    pub used: u32,
    /// What the entry describes.
    pub state: State,
    /// Entry of the block just below in memory, NIL for the lowest.
    pub prev: u32,
    /// Entry of the block just above in memory, NIL for the highest.
    pub next: u32,
    /// Free-bin list links (`Free`), or the spare list link (`Unused`, `link_next` only).
    pub link_prev: u32,
    pub link_next: u32,
}

/// The entry at `index` (no bounds check).
///
/// # Safety
/// `index` is below `root.fresh` (inside the table block, whose entries below `fresh` have all
/// been written), and no other reference to the same entry is live while this one is used.
#[inline(always)]
pub unsafe fn entry(root: &Root, index: u32) -> &'static mut Entry {
    let addr = root.table as usize + index as usize * ENTRY_SIZE as usize;
    &mut *(addr as *mut Entry)
}

/// Point the root at a table of `cap` entries at `table`.
fn set_table(root: &mut Root, table: u64, cap: u32) {
    root.table = table as u32;
    root.table_cap = cap;
    root.refresh_limits();
}

/// The root record as `init` leaves it, while the table has never grown: `reset` copies it back
/// instead of laying out the heap again.
static mut PRISTINE: Root = Root::EMPTY;

/// Forget every block, the input, the output and the error, in time proportional to the memory
/// used since the last reset (that memory is zeroed, so no data outlives its call).
///
/// # Safety
/// `root` is the kernel's root record, and no reference to a table entry is live.
pub unsafe fn reset(root: &mut Root) {
    // Only data needs zeroing. A table that never grew still sits where `init` puts it, and
    // its entries are rewritten before they are read: skip it (most calls never grow it).
    let table_kept = root.table_cap == TABLE_INITIAL;
    let start = if table_kept { fast_start() } else { heap_start() };
    zero(start, root.high_water);
    let pristine = &mut *core::ptr::addr_of_mut!(PRISTINE);
    if table_kept && pristine.initialized != 0 {
        // The heap as `init` left it, but for the table block's link to the blocks above it.
        core::ptr::copy_nonoverlapping(pristine as *const Root, root as *mut Root, 1);
        entry(root, root.table_entry).next = NIL;
        return;
    }
    core::ptr::write_bytes(root as *mut Root, 0, 1);
    root.initialized = 1;
    init(root);
    core::ptr::copy_nonoverlapping(root as *const Root, pristine as *mut Root, 1);
}

/// Lay out an empty heap: one block holding the initial table.
unsafe fn init(root: &mut Root) {
    let table = heap_start() + HEADER as u64;
    let bytes = TABLE_INITIAL * ENTRY_SIZE;
    if !ensure_memory(table + bytes as u64) {
        core::arch::wasm32::unreachable();
    }
    set_table(root, table, TABLE_INITIAL);
    root.fresh = 1;
    root.top = table;
    let index = take_entry(root);
    place_block(root, index, bytes, State::Table);
    root.table_entry = index;
}

/// Allocate a block of `n` bytes (1 ≤ n ≤ `MAX_ALLOC`); its entry, or NIL when out of memory.
///
/// # Safety
/// The module's contract: `root` is set up, `index` (if any) is a live table index.
pub unsafe fn alloc(root: &mut Root, n: u32) -> u32 {
    if available(root) < 2 && !grow_table(root) {
        return NIL;
    }
    alloc_block(root, n)
}

/// Release the block of entry `index` (`Active` or `Table`): coalesce with free neighbours,
/// give the memory back to `top` when it is the highest block, else file it in a bin.
///
/// # Safety
/// The module's contract: `root` is set up, `index` (if any) is a live table index.
pub unsafe fn free(root: &mut Root, mut index: u32) {
    let e = entry(root, index);
    e.state = State::Free;
    e.used = 0;
    let next = e.next;
    if next != NIL && entry(root, next).state == State::Free {
        unbin(root, next);
        absorb_next(root, index);
    }
    let prev = entry(root, index).prev;
    if prev != NIL && entry(root, prev).state == State::Free {
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

unsafe fn alloc_block(root: &mut Root, n: u32) -> u32 {
    let cap = align_up(n as u64) as u32;
    let index = match take_free(root, cap) {
        NIL => {
            let start = root.top + HEADER as u64;
            let end = start + cap as u64;
            if end > ADDRESS_SPACE || !reach(root, end) {
                return NIL;
            }
            let index = take_entry(root);
            place_block(root, index, cap, State::Active);
            index
        }
        index => {
            // Free memory is plugin-writable: restore the header a stray store may have hit.
            let e = entry(root, index);
            e.state = State::Active;
            write_u32(e.start as u64 - HEADER as u64, index);
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
unsafe fn place_block(root: &mut Root, index: u32, cap: u32, state: State) {
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
    write_u32(start - HEADER as u64, index);
}

/// Take a free block of at least `cap` bytes out of the bins, split off the excess; NIL if none.
unsafe fn take_free(root: &mut Root, cap: u32) -> u32 {
    let class = size_class(cap);
    if root.nonempty & (u32::MAX << class) == 0 {
        return NIL; // no bin of this class or above holds a block: the usual case of a fresh call
    }
    let mut found = NIL;
    let mut candidate = root.bins[class];
    let mut budget = FIRST_FIT_BUDGET;
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
unsafe fn split(root: &mut Root, index: u32, cap: u32) {
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
        state: State::Free,
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
    write_u32(rest_start - HEADER as u64, rest);
    bin(root, rest);
}

/// Merge the block above `index` into it (both out of the bins) and release its entry.
unsafe fn absorb_next(root: &mut Root, index: u32) {
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
unsafe fn grow_table(root: &mut Root) -> bool {
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
    copy(old_table, new_table, old_cap as u64 * ENTRY_SIZE as u64);
    set_table(root, new_table, old_cap * 2);
    root.table_entry = index;
    entry(root, index).state = State::Table;
    free(root, old_entry);
    true
}

/// Entries that can still be taken without growing the table.
#[inline(always)]
fn available(root: &Root) -> u32 {
    root.spare_count + (root.table_cap - root.fresh)
}

unsafe fn take_entry(root: &mut Root) -> u32 {
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

unsafe fn release_entry(root: &mut Root, index: u32) {
    let spare = root.spare;
    let e = entry(root, index);
    e.state = State::Unused;
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
unsafe fn bin(root: &mut Root, index: u32) {
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
unsafe fn unbin(root: &mut Root, index: u32) {
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
