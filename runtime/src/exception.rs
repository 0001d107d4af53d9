//! Guest exceptions: codes and the architectural side effects of entry
//! (MIPS32 PRA, "Exception Processing").

/// Cause.ExcCode values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExcCode {
    /// Interrupt.
    Int = 0,
    /// TLB modification.
    Mod = 1,
    /// TLB miss/invalid on load or fetch.
    TlbL = 2,
    /// TLB miss/invalid on store.
    TlbS = 3,
    /// Address error on load or fetch.
    AdEL = 4,
    /// Address error on store.
    AdES = 5,
    /// Bus error on fetch.
    Ibe = 6,
    /// Bus error on data.
    Dbe = 7,
    /// Syscall.
    Sys = 8,
    /// Breakpoint.
    Bp = 9,
    /// Reserved instruction.
    Ri = 10,
    /// Coprocessor unusable.
    CpU = 11,
    /// Integer overflow.
    Ov = 12,
    /// Trap.
    Tr = 13,
    /// Floating point.
    Fpe = 15,
}

impl ExcCode {
    /// The code for a raw ExcCode value that the JIT passes to `raise`.
    pub fn from_u32(v: u32) -> Option<Self> {
        use ExcCode::*;
        Some(match v {
            0 => Int,
            1 => Mod,
            2 => TlbL,
            3 => TlbS,
            4 => AdEL,
            5 => AdES,
            6 => Ibe,
            7 => Dbe,
            8 => Sys,
            9 => Bp,
            10 => Ri,
            11 => CpU,
            12 => Ov,
            13 => Tr,
            15 => Fpe,
            _ => return None,
        })
    }
}

/// A pending guest exception, with what entry must record besides ExcCode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Cause.ExcCode.
    pub code: ExcCode,
    /// BadVAddr for address and TLB exceptions.
    pub bad_vaddr: Option<u32>,
    /// Cause.CE for Coprocessor Unusable.
    pub coprocessor: u32,
    /// TLB refill (no matching entry): uses the refill vector when EXL=0.
    pub refill: bool,
}

impl Exception {
    /// An exception with no address.
    pub const fn new(code: ExcCode) -> Self {
        Self { code, bad_vaddr: None, coprocessor: 0, refill: false }
    }
    /// An address or TLB exception at `addr`.
    pub const fn at(code: ExcCode, addr: u32) -> Self {
        Self { code, bad_vaddr: Some(addr), coprocessor: 0, refill: false }
    }
    /// Coprocessor `n` unusable.
    pub const fn cpu(n: u32) -> Self {
        Self { code: ExcCode::CpU, bad_vaddr: None, coprocessor: n, refill: false }
    }
}
