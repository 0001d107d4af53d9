//! The PIIX4 south bridge as PCI device 00:0a (malta-boot.md §3.4, §3.11):
//! function 0, the ISA bridge (its multifunction header makes the kernel
//! look further), and function 3, power management, whose I/O block holds
//! PM1_CNT, the register `poweroff` writes. The IDE and USB functions are
//! absent: the kernel does not need them.

use softmmu::{BusCtx, DeviceAction};

/// PCI slot of the PIIX4 on Malta.
pub const PIIX4_SLOT: u8 = 0x0a;

/// One PCI function's 256-byte configuration space. Bytes outside `wmask`
/// are read-only, so BARs a function does not have read back 0 after the
/// kernel's sizing write of all-ones.
#[derive(Clone)]
pub struct PciFunction {
    cfg: [u8; 256],
    wmask: [u8; 256],
}

impl std::fmt::Debug for PciFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PciFunction").field("id", &format_args!("{:08x}", self.dword(0))).finish_non_exhaustive()
    }
}

impl PciFunction {
    /// A header-type-0 function with the given identity, whose command
    /// byte, cache line, latency timer, interrupt line and device-specific
    /// registers (0x40..0xff) are writable.
    pub fn new(vendor: u16, device: u16, class: u32, revision: u8) -> Self {
        let mut f = Self { cfg: [0; 256], wmask: [0; 256] };
        f.set(0x00, 2, vendor.into());
        f.set(0x02, 2, device.into());
        f.set(0x08, 4, (class << 8) | u32::from(revision));
        // Fast back-to-back capable, medium DEVSEL timing.
        f.set(0x06, 2, 0x0280);
        f.wmask[0x04] = 0xff;
        f.wmask[0x05] = 0x03;
        f.wmask[0x0c] = 0xff;
        f.wmask[0x0d] = 0xff;
        f.wmask[0x3c] = 0xff;
        f.wmask[0x40..].fill(0xff);
        f
    }

    /// Sets `size` bytes at `reg` regardless of the write mask.
    pub fn set(&mut self, reg: usize, size: usize, value: u32) {
        for i in 0..size {
            if let Some(b) = self.cfg.get_mut(reg + i) {
                *b = (value >> (8 * i)) as u8;
            }
        }
    }

    /// Makes `size` bytes at `reg` writable only where `mask` has ones.
    pub fn set_wmask(&mut self, reg: usize, size: usize, mask: u32) {
        for i in 0..size {
            if let Some(b) = self.wmask.get_mut(reg + i) {
                *b = (mask >> (8 * i)) as u8;
            }
        }
    }

    fn dword(&self, reg: usize) -> u32 {
        self.read(reg, 4) as u32
    }

    /// Reads `size` bytes at `reg`, little-endian; past the end reads ones.
    pub fn read(&self, reg: usize, size: u32) -> u64 {
        (0..size.min(8) as usize).fold(0, |v, i| v | u64::from(*self.cfg.get(reg + i).unwrap_or(&0xff)) << (8 * i))
    }

    /// Writes `size` bytes at `reg` through the write mask.
    pub fn write(&mut self, reg: usize, size: u32, value: u64) {
        for i in 0..size.min(8) as usize {
            if let (Some(b), Some(&m)) = (self.cfg.get_mut(reg + i), self.wmask.get(reg + i)) {
                *b = (*b & !m) | ((value >> (8 * i)) as u8 & m);
            }
        }
    }
}

const PM1_STS: u16 = 0;
const PM1_EN: u16 = 2;
const PM1_CNT: u16 = 4;
const PM_TMR: u16 = 8;
const PM_SIZE: u16 = 64;
const CNT_SLP_EN: u16 = 1 << 13;
/// SLP_TYP values that mean "power off" on QEMU's PIIX4: 0 (soft off) and
/// 2 (S4, which QEMU also treats as shutdown).
const SLP_TYP_OFF: [u16; 2] = [0, 2];
const PM_TMR_HZ: u128 = 3_579_545;

const PMBA: usize = 0x40;
const PMREGMISC: usize = 0x80;
const SMBBA: usize = 0x90;

/// The PIIX4 functions 0 and 3 and the power-management I/O block.
#[derive(Clone, Debug)]
pub struct Piix4 {
    isa: PciFunction,
    pm: PciFunction,
    pm1_sts: u16,
    pm1_en: u16,
    pm1_cnt: u16,
}

impl Default for Piix4 {
    fn default() -> Self {
        Self::new()
    }
}

impl Piix4 {
    /// Both functions in their reset state.
    pub fn new() -> Self {
        let mut isa = PciFunction::new(0x8086, 0x7110, 0x06_01_00, 0);
        isa.set(0x0e, 1, 0x80);
        isa.set(0x04, 2, 0x0007);
        // QEMU's reset values for the Malta board; the PIRQ routes are the
        // ones the Malta manual gives (A, B → IRQ 10; C, D → IRQ 11).
        for (reg, v) in [
            (0x4c, 0x4d),
            (0x4e, 0x03),
            (0x60, 0x0a),
            (0x61, 0x0a),
            (0x62, 0x0b),
            (0x63, 0x0b),
            (0x69, 0x02),
            (0x70, 0x80),
            (0x76, 0x0c),
            (0x77, 0x0c),
            (0x78, 0x02),
            (0xa0, 0x08),
            (0xa8, 0x0f),
        ] {
            isa.set(reg, 1, v);
        }
        let mut pm = PciFunction::new(0x8086, 0x7113, 0x06_80_00, 3);
        pm.set(0x3d, 1, 1);
        // PMBA: an I/O BAR-like register whose bit 0 reads 1; base bits 15:6.
        pm.set(PMBA, 4, 1);
        pm.set_wmask(PMBA, 4, 0xffc0);
        pm.set_wmask(PMREGMISC, 1, 0x01);
        pm.set(SMBBA, 4, 0x1101);
        pm.set_wmask(SMBBA, 4, 0xfff0);
        Self { isa, pm, pm1_sts: 0x0001, pm1_en: 0, pm1_cnt: 0 }
    }

    fn function(&mut self, bus: u8, dev: u8, func: u8) -> Option<&mut PciFunction> {
        match (bus, dev, func) {
            (0, PIIX4_SLOT, 0) => Some(&mut self.isa),
            (0, PIIX4_SLOT, 3) => Some(&mut self.pm),
            _ => None,
        }
    }

    /// A configuration read; `None` if no function answers there.
    pub fn config_read(&mut self, bus: u8, dev: u8, func: u8, reg: usize, size: u32) -> Option<u64> {
        self.function(bus, dev, func).map(|f| f.read(reg, size))
    }

    /// A configuration write; to an absent function it goes nowhere.
    pub fn config_write(&mut self, bus: u8, dev: u8, func: u8, reg: usize, size: u32, value: u64) {
        if let Some(f) = self.function(bus, dev, func) {
            f.write(reg, size, value)
        }
    }

    /// The I/O port of the PM block, while PMREGMISC enables it. A base of
    /// 0 is treated as unprogrammed, so that it cannot shadow the PICs.
    pub fn pm_base(&self) -> Option<u16> {
        let base = self.pm.read(PMBA, 2) as u16 & 0xffc0;
        (self.pm.read(PMREGMISC, 1) & 1 != 0 && base != 0).then_some(base)
    }

    /// The offset into the PM block of I/O port `port`, if it is there.
    pub fn pm_offset(&self, port: u64) -> Option<u16> {
        let base = u64::from(self.pm_base()?);
        port.checked_sub(base).filter(|&o| o < u64::from(PM_SIZE)).map(|o| o as u16)
    }

    fn pm_byte(&self, off: u16, now_ns: u64) -> u8 {
        let word = |w: u16| (w >> (8 * (off & 1))) as u8;
        match off & !1 {
            PM1_STS => word(self.pm1_sts),
            PM1_EN => word(self.pm1_en),
            PM1_CNT => word(self.pm1_cnt),
            PM_TMR | 0x0a => {
                let ticks = (u128::from(now_ns) * PM_TMR_HZ / 1_000_000_000) as u32 & 0x00ff_ffff;
                (ticks >> (8 * (off - PM_TMR))) as u8
            }
            _ => 0,
        }
    }

    /// Reads `size` bytes at `off` in the PM block.
    pub fn pm_read(&self, off: u16, size: u32, now_ns: u64) -> u64 {
        (0..size.min(8) as u16)
            .fold(0, |v, i| v | u64::from(self.pm_byte(off.wrapping_add(i), now_ns)) << (8 * u32::from(i)))
    }

    /// Writes `size` bytes at `off` in the PM block; setting SLP_EN with a
    /// soft-off sleep type asks the machine to power off.
    pub fn pm_write(&mut self, off: u16, size: u32, value: u64, ctx: &mut BusCtx) {
        let mut cnt_written = false;
        for i in 0..size.min(8) as u16 {
            let o = off.wrapping_add(i);
            let b = u16::from((value >> (8 * i)) as u8);
            let shift = 8 * (o & 1);
            let lane = 0xff << shift;
            match o & !1 {
                PM1_STS => self.pm1_sts &= !(b << shift),
                PM1_EN => self.pm1_en = (self.pm1_en & !lane) | b << shift,
                PM1_CNT => {
                    self.pm1_cnt = (self.pm1_cnt & !lane) | b << shift;
                    cnt_written = true;
                }
                _ => {}
            }
        }
        if cnt_written && self.pm1_cnt & CNT_SLP_EN != 0 {
            // SLP_EN is write-only: it starts the transition and reads 0.
            self.pm1_cnt &= !CNT_SLP_EN;
            if SLP_TYP_OFF.contains(&((self.pm1_cnt >> 10) & 7)) {
                ctx.action = DeviceAction::PowerOff;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_and_headers() {
        let mut p = Piix4::new();
        assert_eq!(p.config_read(0, 10, 0, 0, 4), Some(0x7110_8086));
        assert_eq!(p.config_read(0, 10, 0, 0x0e, 1), Some(0x80), "multifunction");
        assert_eq!(p.config_read(0, 10, 0, 0x08, 4), Some(0x0601_0000));
        assert_eq!(p.config_read(0, 10, 3, 0, 4), Some(0x7113_8086));
        assert_eq!(p.config_read(0, 10, 3, 0x08, 4), Some(0x0680_0003));
        assert_eq!(p.config_read(0, 10, 3, 0x0e, 1), Some(0));
        assert_eq!(p.config_read(0, 10, 3, 0x3d, 1), Some(1));
        assert_eq!(p.config_read(0, 10, 3, 0x90, 4), Some(0x1101));
        assert_eq!(p.config_read(0, 10, 1, 0, 4), None);
        assert_eq!(p.config_read(1, 10, 0, 0, 4), None);
    }

    #[test]
    fn absent_bars_read_zero_after_sizing() {
        let mut p = Piix4::new();
        for f in [0, 3] {
            for bar in (0x10..=0x24).step_by(4).chain([0x30]) {
                p.config_write(0, 10, f, bar, 4, 0xffff_ffff);
                assert_eq!(p.config_read(0, 10, f, bar, 4), Some(0), "fn {f} BAR {bar:#x}");
            }
        }
        p.config_write(0, 10, 0, 0, 4, 0);
        assert_eq!(p.config_read(0, 10, 0, 0, 4), Some(0x7110_8086), "IDs are read-only");
    }

    #[test]
    fn pm_block_follows_pmba_and_pmregmisc() {
        let mut p = Piix4::new();
        assert_eq!(p.config_read(0, 10, 3, PMBA, 4), Some(1));
        p.config_write(0, 10, 3, PMBA, 4, 0x1000);
        assert_eq!(p.config_read(0, 10, 3, PMBA, 4), Some(0x1001));
        assert_eq!(p.pm_offset(0x1004), None, "not enabled yet");
        p.config_write(0, 10, 3, PMREGMISC, 1, 1);
        assert_eq!(p.pm_offset(0x1004), Some(4));
        assert_eq!(p.pm_offset(0x1040), None);
        assert_eq!(p.pm_read(PM1_STS, 2, 0), 0x0001);
        let mut ctx = BusCtx::default();
        p.pm_write(PM1_STS, 2, 0x0001, &mut ctx);
        assert_eq!(p.pm_read(PM1_STS, 2, 0), 0, "write-one-to-clear");
        p.pm_write(PM1_CNT, 2, 0x0001, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::None);
        p.pm_write(PM1_CNT, 2, 0x0401 | u64::from(CNT_SLP_EN), &mut ctx);
        assert_eq!(ctx.action, DeviceAction::None, "SLP_TYP 1 is suspend, not off");
        assert_eq!(p.pm_read(PM1_CNT, 2, 0), 0x0401, "SLP_EN reads 0");
        p.pm_write(PM1_CNT + 1, 1, 0x24, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::None);
        p.pm_write(PM1_CNT + 1, 1, 0x28, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::PowerOff, "a byte write of SLP_EN|SLP_TYP 2");
    }

    #[test]
    fn pm_timer_counts_at_3_58_mhz() {
        let p = Piix4::new();
        assert_eq!(p.pm_read(PM_TMR, 4, 1_000_000_000), 3_579_545);
        assert_eq!(p.pm_read(PM_TMR, 4, 5_000_000_000), 17_897_725 & 0xff_ffff);
    }
}
