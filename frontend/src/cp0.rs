//! How translated code reaches each CP0 register: the one table that says
//! which `mfc0`/`mtc0` become plain loads and stores into the CPU state
//! ("trap and replace", from KVM on MIPS) and which call the interpreter
//! ("trap and emulate"), and why.
//!
//! A register goes inline when reading or writing it has no effect beyond
//! the stored bits (a write keeps the register's writable mask). Everything
//! else calls the `exec` helper; a `mtc0` that may change the mode, the
//! translation, the timer or pending interrupts also ends its block, so the
//! dispatcher sees the new state before the next instruction.
//!
//! Inline accesses are used only in blocks that can run only in kernel
//! mode (kseg0 and above), where CP0 is always usable; elsewhere the
//! helper also checks for Coprocessor Unusable.

/// The path of one direction (read or write) of one register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cp0Path {
    /// A load or (masked) store into the CPU state.
    Inline,
    /// The interpreter, through the `exec` helper; the block goes on.
    Helper,
    /// The interpreter, and the block ends after the instruction.
    HelperEndsBlock,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Cp0Reg {
    /// Register number (`rd`).
    pub reg: u8,
    /// Select.
    pub sel: u8,
    /// Architectural name.
    pub name: &'static str,
    /// How `mfc0` reads it.
    pub read: Cp0Path,
    /// How `mtc0` writes it.
    pub write: Cp0Path,
    /// Why.
    pub why: &'static str,
}

use Cp0Path::{Helper, HelperEndsBlock as End, Inline};

const fn r(reg: u8, sel: u8, name: &'static str, read: Cp0Path, write: Cp0Path, why: &'static str) -> Cp0Reg {
    Cp0Reg { reg, sel, name, read, write, why }
}

/// Every CP0 register of the 24Kc, with its paths. Registers not listed
/// read as 0 and ignore writes, through the helper.
pub const CP0_REGS: &[Cp0Reg] = &[
    r(0, 0, "Index", Inline, Helper, "read: storage; a write is masked by the TLB size, a CPU option"),
    r(1, 0, "Random", Helper, Helper, "computed from Wired and the TLB size; read-only"),
    r(2, 0, "EntryLo0", Inline, Inline, "staging for tlbwi/tlbwr; the TLB refill handler writes it"),
    r(3, 0, "EntryLo1", Inline, Inline, "staging for tlbwi/tlbwr; the TLB refill handler writes it"),
    r(4, 0, "Context", Inline, Inline, "PTEBase is storage; BadVPN2 is set by exceptions, not mtc0"),
    r(5, 0, "PageMask", Inline, Inline, "staging for tlbwi/tlbwr"),
    r(6, 0, "Wired", Inline, Helper, "read: storage; a write is masked by the TLB size, a CPU option"),
    r(7, 0, "HWREna", Inline, Inline, "checked by rdhwr when it executes (in the interpreter)"),
    r(8, 0, "BadVAddr", Inline, Helper, "set by exceptions; read-only to software"),
    r(9, 0, "Count", Helper, End, "derived from the virtual clock; a write moves the timer deadline"),
    r(10, 0, "EntryHi", Inline, End, "a new ASID selects another address space: soft-TLB entries go"),
    r(11, 0, "Compare", Inline, End, "a write clears the timer interrupt and moves the deadline"),
    r(12, 0, "Status", Inline, End, "mode, interrupt enable and masks: the dispatcher must look"),
    r(12, 1, "IntCtl", Inline, Inline, "only VS is writable, and vectored interrupts are not offered"),
    r(12, 2, "SRSCtl", Inline, Helper, "one shadow set: nothing is writable"),
    r(13, 0, "Cause", Helper, End, "a read must see a timer interrupt that is due; IV, DC and IP1:0 writes act"),
    r(14, 0, "EPC", Inline, Inline, "storage until eret"),
    r(15, 0, "PRId", Inline, Helper, "constant"),
    r(15, 1, "EBase", Inline, Inline, "vectors are computed when an exception is taken"),
    r(16, 0, "Config", Inline, Inline, "only K0 is writable, and caches are not modelled"),
    r(16, 1, "Config1", Inline, Helper, "constant"),
    r(16, 2, "Config2", Inline, Helper, "constant"),
    r(16, 3, "Config3", Inline, Helper, "constant"),
    r(16, 7, "Config7", Inline, Helper, "constant"),
    r(17, 0, "LLAddr", Helper, Helper, "stored as a physical address, shifted on read"),
    r(26, 0, "ErrCtl", Inline, Helper, "no parity logic: reads 0"),
    r(30, 0, "ErrorEPC", Inline, Inline, "storage until eret"),
    r(31, 0, "DESAVE", Inline, Inline, "scratch storage for debug handlers"),
];

/// The row for register `reg`, select `sel`.
pub fn cp0_reg(reg: u32, sel: u32) -> Option<&'static Cp0Reg> {
    CP0_REGS.iter().find(|r| r.reg as u32 == reg && r.sel as u32 == sel)
}

/// Whether `mtc0` to `reg`/`sel` must end its block.
pub fn mtc0_ends_block(reg: u32, sel: u32) -> bool {
    cp0_reg(reg, sel).is_some_and(|r| r.write == Cp0Path::HelperEndsBlock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_register_appears_once() {
        for (i, a) in CP0_REGS.iter().enumerate() {
            assert!(CP0_REGS[i + 1..].iter().all(|b| (a.reg, a.sel) != (b.reg, b.sel)), "{} twice", a.name);
        }
    }

    #[test]
    fn registers_with_side_effects_end_blocks() {
        for (reg, sel) in [(9, 0), (10, 0), (11, 0), (12, 0), (13, 0)] {
            assert!(mtc0_ends_block(reg, sel), "{reg},{sel}");
        }
        for (reg, sel) in [(2, 0), (14, 0), (4, 0), (31, 0), (25, 0)] {
            assert!(!mtc0_ends_block(reg, sel), "{reg},{sel}");
        }
    }
}
