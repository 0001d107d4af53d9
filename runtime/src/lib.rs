//! The runtime: CPU semantics, the interpreter, the execution loop, the
//! helpers translated code calls, devices, the Malta board and loaders.
//!
//! Stage three of the pipeline: `frontend` decodes, `jit` lowers, and this
//! crate runs guest code in one of two tiers and keeps them honest.
#![deny(missing_docs)]

pub mod boot;
pub mod clock;
pub mod cp0;
pub mod cpu;
pub mod devices;
pub mod exception;
pub mod fpu;
mod helpers;
pub mod interp;
pub mod linux_user;
pub mod loader;
pub mod machine;
pub mod vm;

pub use cpu::{Cpu, CpuModel};
pub use machine::{Exit, JitMode, Machine, Stats};
