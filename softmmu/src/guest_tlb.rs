//! The guest's own TLB: the MIPS32 joint TLB (first translation stage,
//! guest virtual → guest physical).
//!
//! Each entry maps an even/odd pair of pages (VPN2) of a size given by its
//! PageMask, for one ASID or for all (G). The CPU's CP0 registers
//! (EntryHi, EntryLo0/1, PageMask, Index) are the interface: `tlbp`,
//! `tlbr`, `tlbwi` and `tlbwr` move data between them and an entry.
//! Duplicate matching entries are allowed and raise no machine check (the
//! first one wins), as in QEMU: Linux relies on that at boot, when all
//! entries are zero.
//!
//! Like QEMU, the TLB keeps *shadows* of entries that `tlbwr` evicts and
//! still translates through them, until a `tlbwi` drops them all. Software
//! cannot tell: `tlbwr` picks its victim at random, so an entry that stays
//! a little longer is one the hardware could have spared, and `tlbp` and
//! `tlbr` never see shadows. Linux invalidates mappings with `tlbwi`, so a
//! stale shadow never outlives a page-table change. It spares the guest
//! most TLB refills: with 16 entries, a working set of a few hundred KiB
//! otherwise takes a refill every hundred instructions.

/// EntryLo bits.
pub mod entry_lo {
    /// Global: the entry matches every ASID (both halves must have it).
    pub const G: u32 = 1 << 0;
    /// Valid.
    pub const V: u32 = 1 << 1;
    /// Dirty: stores are allowed.
    pub const D: u32 = 1 << 2;
    /// Page frame number field (bits 29:6), physical address bits 35:12.
    pub const PFN_MASK: u32 = 0x3fff_ffc0;
}

/// One TLB entry as software sees it through CP0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlbEntry {
    /// PageMask (bits 28:13 set for bigger pages).
    pub page_mask: u32,
    /// EntryHi: VPN2 (bits 31:13, already masked by PageMask) and ASID (7:0).
    pub entry_hi: u32,
    /// EntryLo0 (even page), without G.
    pub lo0: u32,
    /// EntryLo1 (odd page), without G.
    pub lo1: u32,
    /// Global.
    pub g: bool,
}

impl TlbEntry {
    /// Bytes of virtual address covered by one half (the page size) minus one.
    pub fn page_offset_mask(&self) -> u32 {
        (self.page_mask | 0x1fff) >> 1
    }

    /// The virtual address range the entry covers (both halves).
    pub fn range(&self) -> (u32, u32) {
        let vpn2_mask = !(self.page_mask | 0x1fff);
        let base = self.entry_hi & vpn2_mask;
        (base, base | !vpn2_mask)
    }

    fn matches(&self, vaddr: u32, asid: u8) -> bool {
        let vpn2_mask = !(self.page_mask | 0x1fff);
        (self.entry_hi ^ vaddr) & vpn2_mask == 0 && (self.g || self.entry_hi as u8 == asid)
    }
}

/// A successful stage-one lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlbHit {
    /// The guest physical address.
    pub pa: u64,
    /// The page is valid (V).
    pub valid: bool,
    /// Stores are allowed (D).
    pub dirty: bool,
}

/// Shadow entries kept beside the architectural ones (QEMU keeps up to
/// 128 entries in all).
pub const MAX_SHADOWS: usize = 112;

/// The joint TLB.
#[derive(Clone, Debug)]
pub struct GuestTlb {
    entries: Vec<TlbEntry>,
    shadows: Vec<TlbEntry>,
}

impl GuestTlb {
    /// A TLB of `n` entries (1..=64), all zero as at reset.
    pub fn new(n: usize) -> Self {
        Self { entries: vec![TlbEntry::default(); n.clamp(1, 64)], shadows: Vec::new() }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: a TLB has at least one entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i` (modulo the size, as the hardware ignores high Index bits).
    pub fn entry(&self, i: usize) -> TlbEntry {
        self.entries[i % self.entries.len()]
    }

    /// Writes entry `i` (modulo the size) from CP0 values, as `tlbwi`/`tlbwr`
    /// do; returns the entry it replaced.
    pub fn write(&mut self, i: usize, page_mask: u32, entry_hi: u32, lo0: u32, lo1: u32) -> TlbEntry {
        // A PageMask with an odd bit pattern is UNPREDICTABLE; keep pairs of
        // bits as the 24K does (each size step is a factor of 4).
        let page_mask = page_mask & 0x1fff_e000;
        let new = TlbEntry {
            page_mask,
            entry_hi: entry_hi & !(page_mask | 0x1f00),
            lo0: lo0 & !entry_lo::G,
            lo1: lo1 & !entry_lo::G,
            g: lo0 & lo1 & entry_lo::G != 0,
        };
        let n = self.entries.len();
        std::mem::replace(&mut self.entries[i % n], new)
    }

    /// `tlbwr`'s write: like [`GuestTlb::write`], but the evicted entry
    /// lives on as a shadow while there is room. Returns the evicted entry
    /// if it is gone for good.
    pub fn write_random(&mut self, i: usize, page_mask: u32, entry_hi: u32, lo0: u32, lo1: u32) -> Option<TlbEntry> {
        let old = self.write(i, page_mask, entry_hi, lo0, lo1);
        let valid = (old.lo0 | old.lo1) & entry_lo::V != 0;
        if !valid {
            return None;
        }
        if self.shadows.len() < MAX_SHADOWS {
            self.shadows.push(old);
            None
        } else {
            Some(old)
        }
    }

    /// Drops every shadow (`tlbwi`); returns whether there were any.
    pub fn drop_shadows(&mut self) -> bool {
        let any = !self.shadows.is_empty();
        self.shadows.clear();
        any
    }

    /// `tlbp`: the index of the first entry matching `entry_hi`'s VPN2 and ASID.
    pub fn probe(&self, entry_hi: u32) -> Option<usize> {
        self.entries.iter().position(|e| e.matches(entry_hi, entry_hi as u8))
    }

    /// Looks `vaddr` up for address space `asid`: `None` is a TLB miss
    /// (refill); a hit says whether the half is valid and dirty.
    pub fn lookup(&self, vaddr: u32, asid: u8) -> Option<TlbHit> {
        let e = self.entries.iter().chain(&self.shadows).find(|e| e.matches(vaddr, asid))?;
        let off = e.page_offset_mask();
        let lo = if vaddr & (off + 1) != 0 { e.lo1 } else { e.lo0 };
        let frame = ((lo & entry_lo::PFN_MASK) as u64) << 6;
        Some(TlbHit {
            pa: (frame & !(off as u64)) | (vaddr & off) as u64,
            valid: lo & entry_lo::V != 0,
            dirty: lo & entry_lo::D != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VD: u32 = entry_lo::V | entry_lo::D;

    #[test]
    fn four_kib_pairs_pick_the_even_or_odd_half() {
        let mut t = GuestTlb::new(16);
        t.write(3, 0, 0x0040_2005, (0x1234 << 6) | VD, (0x5678 << 6) | entry_lo::V);
        let even = t.lookup(0x0040_2abc, 5).unwrap();
        assert_eq!(even, TlbHit { pa: 0x0123_4abc, valid: true, dirty: true });
        let odd = t.lookup(0x0040_3ffc, 5).unwrap();
        assert_eq!(odd, TlbHit { pa: 0x0567_8ffc, valid: true, dirty: false });
        assert_eq!(t.lookup(0x0040_2000, 6), None, "another ASID misses");
        assert_eq!(t.lookup(0x0040_4000, 5), None);
        assert_eq!(t.probe(0x0040_3005), Some(3));
        assert_eq!(t.probe(0x0040_3006), None);
    }

    #[test]
    fn global_needs_g_in_both_halves() {
        let mut t = GuestTlb::new(16);
        t.write(0, 0, 0xc000_0001, VD | entry_lo::G, VD);
        assert_eq!(t.lookup(0xc000_0000, 2), None);
        t.write(0, 0, 0xc000_0001, VD | entry_lo::G, VD | entry_lo::G);
        assert!(t.lookup(0xc000_1000, 2).is_some());
        assert!(t.entry(0).g);
        assert_eq!(t.entry(0).lo0 & entry_lo::G, 0, "G lives in the entry, not the halves");
    }

    #[test]
    fn big_pages_mask_vpn2_and_offset() {
        let mut t = GuestTlb::new(16);
        // 16 MiB pages: PageMask 0x01ffe000; VPN2 bits below 25 are ignored.
        t.write(1, 0x01ff_e000, 0x1234_5678, (0x2000 << 6) | VD, (0x3000 << 6) | entry_lo::V);
        assert_eq!(t.entry(1).entry_hi, 0x1200_0078);
        let (lo, hi) = t.entry(1).range();
        assert_eq!((lo, hi), (0x1200_0000, 0x13ff_ffff));
        assert_eq!(t.lookup(0x12ab_cdef, 0x78).unwrap().pa, 0x02ab_cdef);
        assert_eq!(t.lookup(0x13ab_cdef, 0x78).unwrap().pa, 0x03ab_cdef);
    }

    #[test]
    fn invalid_halves_and_duplicates() {
        let mut t = GuestTlb::new(16);
        // Reset state: every entry is VPN2 0, ASID 0, invalid — all duplicates.
        assert_eq!(t.lookup(0x0000_0000, 0), Some(TlbHit { pa: 0, valid: false, dirty: false }));
        assert_eq!(t.probe(0), Some(0), "the first duplicate wins");
        t.write(0, 0, 0x0000_0000, (1 << 6) | VD, 0);
        assert!(t.lookup(0x10, 0).unwrap().valid);
        assert!(!t.lookup(0x1010, 0).unwrap().valid);
    }

    #[test]
    fn evicted_entries_shadow_until_tlbwi() {
        let mut t = GuestTlb::new(2);
        assert_eq!(t.write_random(0, 0, 0x0040_0001, (1 << 6) | VD, 0), None);
        assert_eq!(t.write_random(0, 0, 0x0080_0001, (2 << 6) | VD, 0), None, "the evicted entry is kept");
        assert_eq!(t.lookup(0x0040_0010, 1).unwrap().pa, 0x1010, "translated through the shadow");
        assert_eq!(t.probe(0x0040_0001), None, "tlbp does not see shadows");
        assert!(t.lookup(0x0040_0010, 2).is_none(), "shadows keep their ASID");
        assert!(t.drop_shadows());
        assert!(t.lookup(0x0040_0010, 1).is_none());
        assert_eq!(t.lookup(0x0080_0010, 1).unwrap().pa, 0x2010);
    }

    #[test]
    fn index_wraps_and_size_is_clamped() {
        let mut t = GuestTlb::new(100);
        assert_eq!(t.len(), 64);
        t.write(64 + 2, 0, 0x2000, VD, VD);
        assert_eq!(t.entry(2).entry_hi, 0x2000);
    }
}
