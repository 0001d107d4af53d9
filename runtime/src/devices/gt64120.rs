//! The GT-64120 system controller's internal registers (malta-boot.md §3.3),
//! as the boot stub leaves them: the PCI I/O window at 0x18000000, memory
//! windows at 0x10000000 and 0x18200000. Registers the kernel only stores
//! to (or never touches) are plain storage. The two registers that reach
//! other devices, PCI0_IACK and PCI0_CFGDATA, are served by the board,
//! which owns the interrupt controller and the PCI functions.

/// PCI 0 I/O window low decode address.
pub const PCI0_IO_LD: u64 = 0x048;
/// PCI 0 I/O window high decode address.
pub const PCI0_IO_HD: u64 = 0x050;
/// PCI 0 memory window 0 low decode address.
pub const PCI0_M0_LD: u64 = 0x058;
/// PCI 0 memory window 0 high decode address.
pub const PCI0_M0_HD: u64 = 0x060;
/// Internal space decode (where these registers are).
pub const ISD: u64 = 0x068;
/// PCI 0 memory window 1 low decode address.
pub const PCI0_M1_LD: u64 = 0x080;
/// PCI 0 memory window 1 high decode address.
pub const PCI0_M1_HD: u64 = 0x088;
/// PCI 0 I/O window remap.
pub const PCI0_IO_REMAP: u64 = 0x0f0;
/// PCI 0 memory window 0 remap.
pub const PCI0_M0_REMAP: u64 = 0x0f8;
/// PCI 0 memory window 1 remap.
pub const PCI0_M1_REMAP: u64 = 0x100;
/// PCI 0 command (byte-swap control).
pub const PCI0_CMD: u64 = 0xc00;
/// Interrupt cause; writes clear the bits written as 0.
pub const INTR_CAUSE: u64 = 0xc18;
/// PCI 0 interrupt acknowledge: a read is an i8259 INTA cycle.
pub const PCI0_IACK: u64 = 0xc34;
/// PCI 0 configuration address.
pub const PCI0_CFG_ADDR: u64 = 0xcf8;
/// PCI 0 configuration data (the four bytes 0xcfc..0xcff).
pub const PCI0_CFG_DATA: u64 = 0xcfc;
/// Size of the register block.
pub const GT_REGS_SIZE: u64 = 0x1000;

const CFG_ENABLE: u32 = 0x8000_0000;

/// The register file.
#[derive(Clone, Debug)]
pub struct Gt64120 {
    regs: Vec<u32>,
}

impl Default for Gt64120 {
    fn default() -> Self {
        Self::new()
    }
}

fn word_index(off: u64) -> usize {
    ((off & (GT_REGS_SIZE - 1)) >> 2) as usize
}

fn size_mask(size: u32) -> u64 {
    if size >= 8 { u64::MAX } else { (1u64 << (8 * size)) - 1 }
}

impl Gt64120 {
    /// The registers as QEMU's boot stub leaves them.
    pub fn new() -> Self {
        let mut gt = Self { regs: vec![0; (GT_REGS_SIZE / 4) as usize] };
        for (off, v) in [
            (PCI0_IO_LD, 0xc0),
            (PCI0_IO_HD, 0x40),
            (PCI0_M0_LD, 0x80),
            (PCI0_M0_HD, 0x3f),
            (PCI0_M1_LD, 0xc1),
            (PCI0_M1_HD, 0x5e),
            (ISD, 0xdf),
            (PCI0_CMD, 0x0001_0001),
        ] {
            gt.write_word(off, v);
        }
        gt
    }

    /// The 32-bit register at `off` (rounded down to a word).
    pub fn word(&self, off: u64) -> u32 {
        self.regs.get(word_index(off)).copied().unwrap_or(0)
    }

    fn set(&mut self, off: u64, v: u32) {
        if let Some(r) = self.regs.get_mut(word_index(off)) {
            *r = v;
        }
    }

    /// Writes a whole register, with the side effects the hardware has.
    pub fn write_word(&mut self, off: u64, v: u32) {
        let off = off & (GT_REGS_SIZE - 4);
        match off {
            // A low decode write also sets the window's remap register.
            PCI0_IO_LD | PCI0_M0_LD | PCI0_M1_LD => {
                self.set(off, v & 0x7fff);
                let remap = match off {
                    PCI0_IO_LD => PCI0_IO_REMAP,
                    PCI0_M0_LD => PCI0_M0_REMAP,
                    _ => PCI0_M1_REMAP,
                };
                self.set(remap, v & 0x7ff);
            }
            PCI0_IO_HD | PCI0_M0_HD | PCI0_M1_HD => self.set(off, v & 0x7f),
            PCI0_IO_REMAP | PCI0_M0_REMAP | PCI0_M1_REMAP => self.set(off, v & 0x7ff),
            INTR_CAUSE => self.set(off, self.word(off) & v),
            PCI0_CFG_ADDR => self.set(off, v & 0x80ff_fffc),
            PCI0_IACK => {}
            _ => self.set(off, v),
        }
    }

    /// Reads `size` bytes at `off`, from the little-endian register word.
    pub fn read(&self, off: u64, size: u32) -> u64 {
        (u64::from(self.word(off)) >> (8 * (off & 3))) & size_mask(size)
    }

    /// Writes `size` bytes at `off` into the little-endian register word.
    pub fn write(&mut self, off: u64, size: u32, value: u64) {
        let shift = 8 * (off & 3);
        let lanes = (size_mask(size) << shift) as u32;
        let merged = (self.word(off) & !lanes) | ((value << shift) as u32 & lanes);
        self.write_word(off, merged);
    }

    /// The configuration cycle PCI0_CFGADDR selects: `(bus, device,
    /// function, register)`, or `None` while its enable bit is clear.
    pub fn config_address(&self) -> Option<(u8, u8, u8, usize)> {
        let a = self.word(PCI0_CFG_ADDR);
        (a & CFG_ENABLE != 0).then_some((
            (a >> 16) as u8,
            ((a >> 11) & 0x1f) as u8,
            ((a >> 8) & 7) as u8,
            (a & 0xfc) as usize,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_registers_hold_the_stub_values() {
        let gt = Gt64120::new();
        let regs: Vec<u32> = [0x048, 0x050, 0x058, 0x060, 0x080, 0x088, 0x068, 0x0f0, 0x0f8, 0x100, 0xc00]
            .iter()
            .map(|&o| gt.word(o))
            .collect();
        assert_eq!(regs, [0xc0, 0x40, 0x80, 0x3f, 0xc1, 0x5e, 0xdf, 0xc0, 0x80, 0xc1, 0x0001_0001]);
        // get_gt_port_base: the I/O window starts at 0x18000000.
        assert_eq!((gt.word(PCI0_IO_LD) & 0xffff) << 21, 0x1800_0000);
    }

    #[test]
    fn remap_follows_low_decode_and_can_be_rewritten() {
        let mut gt = Gt64120::new();
        // prom_init's "Atlas fix": start & map != 0, so map &= !start.
        let (start, map) = (gt.word(PCI0_IO_LD), gt.word(PCI0_IO_REMAP));
        assert_ne!(start & map, 0);
        gt.write(PCI0_IO_REMAP, 4, u64::from(map & !start));
        assert_eq!(gt.word(PCI0_IO_REMAP), 0);
        gt.write(PCI0_M1_LD, 4, 0xffff_ffff);
        assert_eq!((gt.word(PCI0_M1_LD), gt.word(PCI0_M1_REMAP)), (0x7fff, 0x7ff));
    }

    #[test]
    fn intr_cause_writes_and_clear() {
        let mut gt = Gt64120::new();
        gt.set(INTR_CAUSE, 0x000c_0001);
        gt.write(INTR_CAUSE, 4, 0xfff3_ffff);
        assert_eq!(gt.word(INTR_CAUSE), 0x0000_0001);
        gt.write(INTR_CAUSE, 1, 0xfe);
        assert_eq!(gt.word(INTR_CAUSE), 0, "a byte write clears only its own lane's zeros");
    }

    #[test]
    fn config_address_fields() {
        let mut gt = Gt64120::new();
        assert_eq!(gt.config_address(), None);
        gt.write(PCI0_CFG_ADDR, 4, 0x8000_5347);
        assert_eq!(gt.word(PCI0_CFG_ADDR), 0x8000_5344);
        assert_eq!(gt.config_address(), Some((0, 10, 3, 0x44)));
        assert_eq!(gt.read(PCI0_CFG_ADDR + 1, 2), 0x0053);
    }
}
