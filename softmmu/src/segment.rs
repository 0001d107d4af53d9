//! MIPS32 fixed segments (MIPS32 PRA, "Virtual Memory": Table 4.1).

/// Where a guest virtual address goes, before any TLB lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Translated by the TLB (kuseg, kseg2, kseg3).
    Mapped,
    /// kseg0: unmapped, physical = address - 0x8000_0000, cacheable.
    Kseg0(u32),
    /// kseg1: unmapped, physical = address - 0xa000_0000, uncached.
    Kseg1(u32),
    /// Not accessible in the current mode: Address Error.
    AddressError,
}

/// Classifies `addr` for an access in user (`user == true`) or kernel mode.
///
/// User mode may reach only kuseg (below 0x8000_0000); kernel mode reaches
/// everything. Supervisor mode is not modelled (the 24K has none).
pub fn classify(addr: u32, user: bool) -> Segment {
    if user {
        return if addr < 0x8000_0000 { Segment::Mapped } else { Segment::AddressError };
    }
    match addr >> 29 {
        4 => Segment::Kseg0(addr - 0x8000_0000),
        5 => Segment::Kseg1(addr - 0xa000_0000),
        _ => Segment::Mapped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_segments_map_to_low_physical_memory() {
        assert_eq!(classify(0x8000_1000, false), Segment::Kseg0(0x1000));
        assert_eq!(classify(0xbfc0_0000, false), Segment::Kseg1(0x1fc0_0000));
        assert_eq!(classify(0x0040_0000, false), Segment::Mapped);
        assert_eq!(classify(0xc000_0000, false), Segment::Mapped);
    }

    #[test]
    fn user_mode_cannot_reach_kernel_segments() {
        assert_eq!(classify(0x7fff_fffc, true), Segment::Mapped);
        assert_eq!(classify(0x8000_0000, true), Segment::AddressError);
        assert_eq!(classify(0xffff_ffff, true), Segment::AddressError);
    }
}
