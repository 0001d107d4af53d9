//! Coprocessor 0: the registers of the 24Kc as QEMU models it, with their
//! reset values and writable masks (see ../shared/reference/malta-boot.md §1),
//! and of the 24Kf, which adds an FPU.

use crate::cpu::CpuModel;

/// Status register bits.
pub mod status {
    /// Interrupt enable.
    pub const IE: u32 = 1 << 0;
    /// Exception level.
    pub const EXL: u32 = 1 << 1;
    /// Error level.
    pub const ERL: u32 = 1 << 2;
    /// Kernel/supervisor/user mode field.
    pub const KSU: u32 = 3 << 3;
    /// KSU value for user mode.
    pub const KSU_USER: u32 = 2 << 3;
    /// Interrupt mask IM7..IM0.
    pub const IM: u32 = 0xff << 8;
    /// Bootstrap exception vectors.
    pub const BEV: u32 = 1 << 22;
    /// Coprocessor 0 usable in user mode.
    pub const CU0: u32 = 1 << 28;
    /// Coprocessor 1 usable.
    pub const CU1: u32 = 1 << 29;
    /// FPU registers are 64 bits wide (else doubles are even/odd pairs).
    pub const FR: u32 = 1 << 26;
    /// Bits a `mtc0` may change on the 24Kc (CU1, FR, MX, KX/SX/UX are fixed).
    pub const WRITABLE: u32 = 0x1278_ff1f;
    /// Bits a `mtc0` may change on the 24Kf: the 24Kc's, CU1 and FR.
    pub const WRITABLE_24KF: u32 = WRITABLE | CU1 | FR;
}

/// Cause register bits.
pub mod cause {
    /// Exception code field shift.
    pub const EXC_SHIFT: u32 = 2;
    /// Exception code field.
    pub const EXC_MASK: u32 = 0x1f << 2;
    /// Pending interrupts IP7..IP0.
    pub const IP: u32 = 0xff << 8;
    /// Interrupts on the special vector (offset 0x200).
    pub const IV: u32 = 1 << 23;
    /// Disable Count.
    pub const DC: u32 = 1 << 27;
    /// Coprocessor number for Coprocessor Unusable.
    pub const CE_SHIFT: u32 = 28;
    /// Timer interrupt pending.
    pub const TI: u32 = 1 << 30;
    /// Exception in a branch delay slot.
    pub const BD: u32 = 1 << 31;
    /// Bits a `mtc0` may change: IP1..IP0, IV, WP, DC.
    pub const WRITABLE: u32 = 0x0300 | IV | (1 << 22) | DC;
}

/// The CP0 register file (the parts the 24Kc without TLB work needs).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs, reason = "fields are the MIPS32 CP0 registers of the same name")]
pub struct Cp0 {
    pub index: u32,
    pub random: u32,
    pub entry_lo0: u32,
    pub entry_lo1: u32,
    pub context: u32,
    pub page_mask: u32,
    pub wired: u32,
    pub hwrena: u32,
    pub bad_vaddr: u32,
    pub entry_hi: u32,
    pub compare: u32,
    pub status: u32,
    pub int_ctl: u32,
    pub srs_ctl: u32,
    pub cause: u32,
    pub epc: u32,
    pub prid: u32,
    pub ebase: u32,
    pub config0: u32,
    pub config1: u32,
    pub config2: u32,
    pub config3: u32,
    pub config7: u32,
    pub lladdr: u32,
    pub watch_lo: [u32; 8],
    pub watch_hi: [u32; 8],
    pub err_ctl: u32,
    pub error_epc: u32,
    pub desave: u32,
}

/// Config1.FP: an FPU is attached.
const CONFIG1_FP: u32 = 1;

impl Cp0 {
    /// Reset values of a 24Kc (QEMU's `-cpu 24Kc`), little- or big-endian.
    pub fn reset_24kc(big_endian: bool) -> Self {
        Self::reset(CpuModel::Mips24Kc, big_endian)
    }

    /// Reset values of `model` (QEMU's `-cpu 24Kc` or `-cpu 24Kf`, which
    /// differ only in Config1.FP), little- or big-endian.
    pub fn reset(model: CpuModel, big_endian: bool) -> Self {
        let mut watch_hi = [0x8000_0000; 8];
        watch_hi[7] = 0;
        Self {
            index: 0,
            random: 15,
            entry_lo0: 0,
            entry_lo1: 0,
            context: 0,
            page_mask: 0,
            wired: 0,
            hwrena: 0,
            bad_vaddr: 0,
            entry_hi: 0,
            compare: 0,
            status: status::BEV,
            int_ctl: 0xe000_0000,
            srs_ctl: 0,
            cause: 0,
            epc: 0,
            prid: 0x0001_9300,
            ebase: 0x8000_0000,
            config0: 0x8000_0482 | if big_endian { 1 << 15 } else { 0 },
            config1: 0x9e19_0c8e | if model.has_fpu() { CONFIG1_FP } else { 0 },
            config2: 0x8000_0000,
            config3: 0,
            config7: 0,
            lladdr: 0,
            watch_lo: [0; 8],
            watch_hi,
            err_ctl: 0,
            error_epc: 0,
            desave: 0,
        }
    }

    /// Whether the CPU runs in user mode (KSU=user, EXL=0, ERL=0).
    pub fn user_mode(&self) -> bool {
        self.status & (status::KSU | status::EXL | status::ERL) == status::KSU_USER
    }

    /// Whether an unmasked interrupt is pending and interrupts are enabled.
    pub fn interrupt_pending(&self) -> bool {
        self.status & (status::IE | status::EXL | status::ERL) == status::IE
            && self.cause & self.status & status::IM != 0
    }
}
