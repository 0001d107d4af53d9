//! Integration tests, one binary (one link) for all: decoder against objdump,
//! guest programs against QEMU, interpreter against JIT, the CLI.
mod boot;
mod cli;
mod decode;
mod diff;
mod fpu_diff;
mod guest;
#[path = "gen.rs"] // `gen` is a keyword in Rust 2024
mod mipsgen;
mod user;
