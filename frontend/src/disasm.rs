//! Placeholder: the objdump-syntax disassembler lands here.
use crate::insn::Insn;
use std::fmt;

impl fmt::Display for Insn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".word\t0x{:x}", self.word)
    }
}
