//! The soft-TLB: a direct-mapped cache from guest virtual page to host memory.
//!
//! Translated code and the interpreter probe it on every load and store:
//! index by page, compare the tag, add the addend. The tag comparison also
//! checks alignment: the probe compares `addr & (!0xfff | (size - 1))` with
//! the page-aligned tag, so a misaligned address never hits and takes the
//! slow path, which raises Address Error. The invalid tag has bits 3..12
//! set, which no probe value has, so it never matches.
//!
//! Only RAM is ever cached here; MMIO and pages that hold translated code
//! (for stores) always miss.

/// log2 of the number of entries.
pub const SOFT_TLB_BITS: u32 = 10;
/// Number of entries (each maps one 4 KiB guest page).
pub const SOFT_TLB_SIZE: usize = 1 << SOFT_TLB_BITS;

const INVALID_TAG: u32 = u32::MAX;

/// One entry. The layout is part of the JIT ABI (see `offsets`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SoftTlbEntry {
    /// Page-aligned guest virtual address that loads may use, or invalid.
    pub read_tag: u32,
    /// Page-aligned guest virtual address that stores may use, or invalid.
    pub write_tag: u32,
    /// `host_address - guest_virtual_address` for this page (wrapping).
    pub addend: usize,
}

/// Byte offsets of [`SoftTlbEntry`] fields, for generated code.
pub mod offsets {
    use super::SoftTlbEntry;
    use std::mem::{offset_of, size_of};
    /// Offset of `read_tag`.
    pub const READ_TAG: i32 = offset_of!(SoftTlbEntry, read_tag) as i32;
    /// Offset of `write_tag`.
    pub const WRITE_TAG: i32 = offset_of!(SoftTlbEntry, write_tag) as i32;
    /// Offset of `addend`.
    pub const ADDEND: i32 = offset_of!(SoftTlbEntry, addend) as i32;
    /// log2 of the entry size.
    pub const ENTRY_SHIFT: u32 = size_of::<SoftTlbEntry>().trailing_zeros();
    const _: () = assert!(size_of::<SoftTlbEntry>() == 1 << ENTRY_SHIFT);
}

const EMPTY: SoftTlbEntry = SoftTlbEntry { read_tag: INVALID_TAG, write_tag: INVALID_TAG, addend: 0 };

/// The soft-TLB for one CPU.
#[derive(Debug)]
pub struct SoftTlb {
    entries: Box<[SoftTlbEntry; SOFT_TLB_SIZE]>,
}

impl Default for SoftTlb {
    fn default() -> Self {
        Self { entries: Box::new([EMPTY; SOFT_TLB_SIZE]) }
    }
}

/// The index of the entry for `addr`.
#[inline]
pub fn index(addr: u32) -> usize {
    ((addr >> 12) as usize) & (SOFT_TLB_SIZE - 1)
}

impl SoftTlb {
    /// Pointer to the first entry, for translated code. Stable for the
    /// lifetime of `self` (the entries are boxed).
    pub fn as_ptr(&self) -> *const SoftTlbEntry {
        self.entries.as_ptr()
    }

    /// The host address for a `size`-byte load at `addr`, on a hit.
    #[inline]
    pub fn probe_read(&self, addr: u32, size: u32) -> Option<usize> {
        let e = &self.entries[index(addr)];
        (e.read_tag == addr & (!0xfff | (size - 1))).then(|| e.addend.wrapping_add(addr as usize))
    }

    /// The host address for a `size`-byte store at `addr`, on a hit.
    #[inline]
    pub fn probe_write(&self, addr: u32, size: u32) -> Option<usize> {
        let e = &self.entries[index(addr)];
        (e.write_tag == addr & (!0xfff | (size - 1))).then(|| e.addend.wrapping_add(addr as usize))
    }

    /// Maps the page of `addr` to the host page at `host_page`.
    /// `writable` is false for ROM and for pages holding translated code.
    pub fn fill(&mut self, addr: u32, host_page: *mut u8, writable: bool) {
        let page = addr & !0xfff;
        let tag_w = if writable { page } else { INVALID_TAG };
        self.entries[index(addr)] =
            SoftTlbEntry { read_tag: page, write_tag: tag_w, addend: (host_page as usize).wrapping_sub(page as usize) };
    }

    /// Forgets every entry (on a mode change or a guest TLB write).
    pub fn flush(&mut self) {
        self.entries.fill(EMPTY);
    }

    /// Forgets entry `i`.
    pub fn invalidate_index(&mut self, i: usize) {
        self.entries[i & (SOFT_TLB_SIZE - 1)] = EMPTY;
    }

    /// Forgets the entry for the guest page holding `addr`, if it maps that page.
    pub fn invalidate_page(&mut self, addr: u32) {
        let e = &mut self.entries[index(addr)];
        if e.read_tag == addr & !0xfff {
            *e = EMPTY;
        }
    }

    /// Stops stores through any entry that maps host page `host_page`:
    /// translated code now lives there.
    pub fn protect_host_page(&mut self, host_page: usize) {
        for e in self.entries.iter_mut() {
            if e.write_tag != INVALID_TAG && e.addend.wrapping_add(e.write_tag as usize) == host_page {
                e.write_tag = INVALID_TAG;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_miss_and_alignment() {
        let mut tlb = SoftTlb::default();
        let mut page = vec![0u8; 4096];
        let host = page.as_mut_ptr();
        assert_eq!(tlb.probe_read(0x8000_1000, 4), None);
        tlb.fill(0x8000_1234, host, true);
        assert_eq!(tlb.probe_read(0x8000_1004, 4), Some(host as usize + 4));
        assert_eq!(tlb.probe_write(0x8000_1ffe, 2), Some(host as usize + 0xffe));
        // misaligned accesses miss so the slow path can raise Address Error
        assert_eq!(tlb.probe_read(0x8000_1002, 4), None);
        assert_eq!(tlb.probe_read(0x8000_1001, 2), None);
        assert_eq!(tlb.probe_read(0x8000_1003, 1), Some(host as usize + 3));
        // another page with the same index misses
        assert_eq!(tlb.probe_read(0x8000_1000 + (SOFT_TLB_SIZE as u32) * 4096, 4), None);
    }

    #[test]
    fn invalid_tag_never_matches_any_probe() {
        let tlb = SoftTlb::default();
        for addr in [0xffff_f000u32, 0xffff_ffff, 0xffff_fffc, 0xffff_fffe] {
            for size in [1, 2, 4] {
                assert_eq!(tlb.probe_read(addr, size), None);
            }
        }
    }

    #[test]
    fn read_only_and_protected_pages_refuse_stores() {
        let mut tlb = SoftTlb::default();
        let mut page = vec![0u8; 4096];
        tlb.fill(0x8000_0000, page.as_mut_ptr(), false);
        assert!(tlb.probe_write(0x8000_0000, 4).is_none());
        tlb.fill(0xa000_0000, page.as_mut_ptr(), true);
        assert!(tlb.probe_write(0xa000_0000, 4).is_some());
        tlb.protect_host_page(page.as_mut_ptr() as usize);
        assert!(tlb.probe_write(0xa000_0000, 4).is_none());
        assert!(tlb.probe_read(0xa000_0000, 4).is_some());
    }
}
