//! The Cranelift tier: lowering decoded guest blocks to host code.
#![deny(missing_docs)]

pub mod abi;
