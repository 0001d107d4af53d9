//! The MIPS32 front end: decoding, disassembly and block discovery.
//!
//! This is stage one of the pipeline (decode → interpret or lower →
//! execute). It knows nothing of Cranelift, memory or CPU state:
//!
//! - [`decode`] turns a word into an [`Insn`] by one table of encodings
//!   (`decode.rs`); words no row claims become [`Op::Reserved`].
//! - [`Insn`]'s `Display` prints objdump syntax (`disasm.rs`).
//! - [`scan_block`] finds a guest basic block: up to a branch and its delay
//!   slot, an instruction that changes mode, a page end or a length cap.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod block;
pub mod cp0;
mod decode;
mod disasm;
mod insn;

pub use block::{FPU_MODE_ANY, GuestBlock, INLINE_INSNS, Insns, MAX_BLOCK_INSNS, scan_block};
pub use decode::{decode, decode_hint, decode_with_hint};
pub use disasm::{Disasm, disasm};
pub use insn::{Insn, Op};
