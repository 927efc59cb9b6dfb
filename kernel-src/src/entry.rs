//! One row of the block table, and the address-order links between rows.
//!
//! The fast path of `alloc` (fast.rs) writes a row as two u64 stores: `start | cap << 32` and
//! `used` (whose upper half, `state`, is then 0: active). It leaves `prev` and `next` to
//! `fast::settle`, which writes them for every row the fast path placed before any other
//! operation reads them: outside the fast path, the links of every row are stored.
//!
//! Safety contract of the `unsafe fn`s here: `root` is set up and settled (`fast::settle`), and
//! every row passed in is below `root.fresh`, so it lies inside the table block. Rows are
//! reached through `entry`, one at a time.

use crate::layout::NIL;
use crate::root::Root;

/// What a row describes.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// A block handed out by `alloc` (0, so the fast path's zero upper half means active).
    Active = 0,
    /// A released block, in a free bin.
    Free = 1,
    /// A block that holds the block table, or held it before the table grew.
    Table = 2,
    /// On the spare list (or released), describing no block.
    Unused = 3,
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
    /// What the row describes.
    pub state: State,
    /// Row of the block just below in memory, NIL for the lowest.
    pub prev: u32,
    /// Row of the block just above in memory, NIL for the highest.
    pub next: u32,
    /// Free-bin list links (`Free`), or the spare list link (`Unused`, `link_next` only).
    pub link_prev: u32,
    pub link_next: u32,
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

/// Describe a new block in row `row`: at `start`, of capacity `cap`, the highest block, with
/// `prev`'s block just below it. The bin links are written when the block is binned.
///
/// # Safety
/// The module's contract.
#[inline(never)]
pub unsafe fn write_entry(root: &Root, row: u32, start: u64, cap: u32, state: State, prev: u32) {
    let e = entry(root, row);
    e.start = start as u32;
    e.cap = cap;
    e.used = 0;
    e.state = state;
    e.prev = prev;
    e.next = NIL;
}
