//! Devices of the Malta board (../shared/reference/malta-boot.md §3).

pub mod gt64120;
pub mod i8259;
pub mod malta;
pub mod mc146818;
pub mod piix4;
pub mod uart16550;
