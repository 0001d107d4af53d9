//! The Cranelift tier: lowering decoded guest blocks to host code.
//!
//! Stage two of the pipeline. [`abi`] is the contract with the runtime (the
//! state layout, helper table and exit codes); `lower.rs` and
//! `lower_ops.rs` turn a [`frontend::GuestBlock`] into Cranelift IR; the
//! engine compiles on a background thread into one code arena and enters
//! code through a trampoline. Blocks chain by tail calls through exit slots
//! that the runtime fills in, so no machine code is ever patched.
#![deny(missing_docs)]

pub mod abi;
mod code_memory;
mod engine;
mod fault;
mod lower;
mod lower_fpu;
mod lower_ops;

pub use engine::{CompiledCode, GuestConfig, Jit, JitError, Kseg0Ram, Reply};
pub use fault::{GuestFault, catch_guest_faults, take_guest_fault};
pub use lower::compilable;
