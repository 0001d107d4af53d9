//! Placeholder: the table-driven decoder lands here.
use crate::insn::{Insn, Op};

/// Decodes one instruction word. Never fails: unknown words become [`Op::Reserved`].
pub fn decode(word: u32) -> Insn {
    Insn { op: Op::Reserved, word }
}
