//! One row of the block table, and the address-order links between rows.
//!
//! The fast path of `alloc` (fast.rs) writes a row as two u64 stores: `start | cap << 32` and
//! `used` (whose upper half, `meta`, is then 0: active, both links implicit). An implicit link
//! means "the neighbouring row": the block below row `i` is row `i - 1`, and the block above it
//! is row `i + 1`, or none when `i` is the highest block (`root.last`). Every other placement
//! writes its links explicitly and flags them in `meta`, so the links read through `prev_of` and
//! `next_of` are always the truth.
//!
//! Safety contract of the `unsafe fn`s here: `root` is set up and settled (`fast::settle`), and
//! every row passed in is below `root.fresh`, so its row lies inside the table block. Rows are
//! reached through `entry`, one at a time.

use crate::layout::{ENTRY_SIZE, NIL};
use crate::root::Root;

/// What a row describes: the low two bits of `Entry::meta`.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// A block handed out by `alloc` (0, so the fast path's zero `meta` means active).
    Active = 0,
    /// A released block, in a free bin.
    Free = 1,
    /// The block that holds the block table.
    Table = 2,
    /// On the spare list (or released), describing no block.
    Unused = 3,
}

/// `meta` bits: the state, and which links are stored rather than implied.
const STATE_MASK: u32 = 3;
const PREV_STORED: u32 = 4;
const NEXT_STORED: u32 = 8;

/// One row of the block table.
#[repr(C)]
pub struct Entry {
    /// Address of the block's data: the handle.
    pub start: u32,
    /// Data capacity in bytes, a multiple of `ALIGN`.
    pub cap: u32,
    /// Bytes requested by `alloc` (what `length` returns).
    pub used: u32,
    /// The state (`STATE_MASK`) and the stored-link flags.
    pub meta: u32,
    /// Row of the block just below in memory, when `PREV_STORED`.
    pub prev: u32,
    /// Row of the block just above in memory, when `NEXT_STORED`.
    pub next: u32,
    /// Free-bin list links (`Free`), or the spare list link (`Unused`, `link_next` only).
    pub link_prev: u32,
    pub link_next: u32,
}

impl Entry {
    #[inline(always)]
    pub fn state(&self) -> u32 {
        self.meta & STATE_MASK
    }

    #[inline(always)]
    pub fn is(&self, state: State) -> bool {
        self.state() == state as u32
    }

    #[inline(always)]
    pub fn set_state(&mut self, state: State) {
        self.meta = (self.meta & !STATE_MASK) | state as u32;
    }
}

/// The row at `row` (no bounds check).
///
/// # Safety
/// `row` is below `root.fresh` (inside the table block, whose rows below `fresh` have all
/// been written), and no other reference to the same row is live while this one is used.
#[inline(always)]
pub unsafe fn entry(root: &Root, row: u32) -> &'static mut Entry {
    let addr = root.table as usize + row as usize;
    &mut *(addr as *mut Entry)
}

/// Describe a new block in row `row`: at `start`, of capacity `cap`, below it `prev`'s block.
/// The link up is left to the caller (`set_next`), or to the rule for the highest block; the
/// bin links are written when the block is binned.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn write_entry(root: &Root, row: u32, start: u64, cap: u32, state: State, prev: u32) {
    let e = entry(root, row);
    e.start = start as u32;
    e.cap = cap;
    e.used = 0;
    e.meta = state as u32 | PREV_STORED;
    e.prev = prev;
}

/// The row of the block just below `row`'s block, NIL for the lowest.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn prev_of(root: &Root, row: u32) -> u32 {
    let e = entry(root, row);
    if e.meta & PREV_STORED != 0 {
        e.prev
    } else {
        row - ENTRY_SIZE
    }
}

/// The row of the block just above `row`'s block, NIL for the highest.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn next_of(root: &Root, row: u32) -> u32 {
    let e = entry(root, row);
    if row == root.last {
        NIL
    } else if e.meta & NEXT_STORED != 0 {
        e.next
    } else {
        row + ENTRY_SIZE
    }
}

/// Record that the block below `row`'s block is `prev`'s.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn set_prev(root: &Root, row: u32, prev: u32) {
    let e = entry(root, row);
    e.prev = prev;
    e.meta |= PREV_STORED;
}

/// Record that the block above `row`'s block is `next`'s.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn set_next(root: &Root, row: u32, next: u32) {
    let e = entry(root, row);
    e.next = next;
    e.meta |= NEXT_STORED;
}

/// Let the block above `row` (now the highest) be implied again: the fast path places row
/// `row + 1` there without touching row `row`.
///
/// # Safety
/// The module's contract.
#[inline(always)]
pub unsafe fn imply_next(root: &Root, row: u32) {
    entry(root, row).meta &= !NEXT_STORED;
}
