//! The root record: allocator bookkeeping plus the input, output and error slots of the call.

use crate::layout::{fast_start, heap_start, memory_end, BINS, HEADER};

/// Everything the kernel knows that is not in the block table. Lives in the kernel's static data
/// (below `__heap_base`), which `store_*`/`load_*` refuse to touch. The fields the hot paths read
/// come first: the kernel's statics start at address 16, so their offsets fit one LEB128 byte.
#[repr(C)]
pub struct Root {
    /// End of the highest block: everything from here to the end of memory is unused.
    pub top: u64,
    /// While the fast path of `alloc` is open, the end of mapped memory: no block it places
    /// may end past it. Equal to `top` while it is closed (see fast.rs).
    pub fast_limit: u64,
    /// Every `p` in `[fast_start(), fast_start() + fast_count)` starts a u64 that lies in the
    /// heap, below the end of memory and clear of the table: the one-compare path of
    /// `load_u64`/`store_u64`. The stretch above the initial table, up to the table if it moved.
    pub fast_count: u64,
    /// `mapped_end - 8 - heap_start()`: the highest offset from the heap start a u64 access may
    /// begin at. Cached because `memory.size` costs more than a load in the `load_u64`/`store_u64`
    /// hot path; memory only grows, so it is never too large.
    pub word_limit: u64,
    /// End of memory as of the last `refresh_limits`: blocks placed below it need no refresh.
    pub mapped_end: u64,
    /// Highest `top` before it last went down (set when it goes down): with `top`, the end of
    /// what `reset` must zero.
    pub high_water: u64,
    // The call-state record (`call_state` export): these five stay together, in this order.
    pub input_offset: u64,
    pub input_length: u64,
    pub output_offset: u64,
    pub output_length: u64,
    pub error: u64,
    /// Address of entry 0 of the block table.
    pub table: u32,
    /// Next never-used table row (a byte offset, like every row); rows `[fresh, table_bytes)`
    /// are free for the taking.
    pub fresh: u32,
    /// Rows below this the fast path may take: all but the slow path's reserve (fast.rs).
    pub fast_rows: u32,
    /// Bytes of the table: room for `table_bytes / ENTRY_SIZE` entries.
    pub table_bytes: u32,
    /// Row of the highest block in memory (the block that ends at `top`), NIL when none.
    /// Behind by the blocks the fast path placed until `fast::settle`.
    pub last: u32,
    /// First row the fast path placed since the last `fast::refresh` (rows up to `fresh`):
    /// their links, and `last`, wait for `fast::settle`.
    pub run_from: u32,
    /// Bitmap of non-empty free bins.
    pub nonempty: u32,
    /// Head of the list of released entries (linked through `Entry::link_next`).
    pub spare: u32,
    /// Bytes of the rows on the `spare` list.
    pub spare_bytes: u32,
    /// Head entry of each free bin.
    pub bins: [u32; BINS],
}

static mut ROOT: Root = Root::EMPTY;

/// The kernel's root record. Exports that change the heap first make sure it is set up
/// (`table` is 0 until then, see lib.rs).
///
/// # Safety
/// The caller holds no other reference to the root record while this one is used. The kernel
/// runs one export at a time (a wasm instance is single-threaded and exports never call each
/// other), and each export takes this reference once.
#[inline(always)]
pub unsafe fn peek() -> &'static mut Root {
    &mut *core::ptr::addr_of_mut!(ROOT)
}

impl Root {
    /// All zero: nothing set up yet (`table` is 0).
    pub const EMPTY: Root = Root {
        top: 0,
        fast_limit: 0,
        fast_count: 0,
        word_limit: 0,
        mapped_end: 0,
        high_water: 0,
        input_offset: 0,
        input_length: 0,
        output_offset: 0,
        output_length: 0,
        error: 0,
        table: 0,
        fresh: 0,
        fast_rows: 0,
        table_bytes: 0,
        last: 0,
        run_from: 0,
        nonempty: 0,
        spare: 0,
        spare_bytes: 0,
        bins: [0; BINS],
    };

    /// True when `[start, start + len)` lies in the heap below `top` and outside the block table.
    #[inline(always)]
    pub fn is_heap_range(&self, start: u64, len: u64) -> bool {
        self.is_public(start, len, self.top)
    }

    /// True when `[p, p + 8)` lies in the heap below the end of memory, outside the table.
    /// The hot path of `load_u64`/`store_u64`: inlined, no call (even an untaken one costs).
    #[inline(always)]
    pub fn is_addressable_u64(&self, p: u64) -> bool {
        if p.wrapping_sub(fast_start()) < self.fast_count {
            return true;
        }
        // [heap_start, end - 8] as one unsigned compare against the cached limit; then
        // [p, p + 8) misses [table - HEADER, table + span) iff p + 15 - table >= span + 15.
        let heap = heap_start();
        let table = self.table as u64;
        let span = self.table_bytes as u64;
        p.wrapping_sub(heap) <= self.word_limit && (p + 15).wrapping_sub(table) >= span + 15
    }

    /// Recompute the cached bounds; called when a block is placed past `mapped_end` (memory
    /// grew) and whenever the table moves.
    #[inline(never)]
    pub fn refresh_limits(&mut self) {
        let end = memory_end();
        self.mapped_end = end;
        self.word_limit = end - 8 - heap_start();
        let fast = fast_start();
        let table_high = self.table as u64 + self.table_bytes as u64;
        // The window ends at the end of memory, or below the table once it moved above `fast`
        // (empty while a grown table straddles `fast`).
        let stop =
            if table_high <= fast { end } else { fast.max(self.table as u64 - HEADER as u64) };
        self.fast_count = (stop + 1).saturating_sub(fast + 8);
    }

    /// True when the byte at `p` lies in the heap below the cached end of memory, outside the
    /// table, for `load_u8`/`store_u8`: the window of `is_addressable_u64` (which leaves out its
    /// last 7 bytes), else the full check.
    #[inline(always)]
    pub fn is_addressable_byte(&self, p: u64) -> bool {
        p.wrapping_sub(fast_start()) < self.fast_count || self.is_public(p, 1, self.mapped_end)
    }

    /// True when `[start, start + len)` lies in `[heap_start, end)` and does not touch the table.
    #[inline(never)]
    fn is_public(&self, start: u64, len: u64, end: u64) -> bool {
        let stop = match start.checked_add(len) {
            Some(stop) => stop,
            None => return false,
        };
        if start < heap_start() || stop > end {
            return false;
        }
        // The table's bytes, its header included; empty before set-up (table and cap are 0).
        let table = self.table as u64;
        stop + HEADER as u64 <= table || start >= table + self.table_bytes as u64
    }
}
