//! Devices of the Malta board that bare-metal guests use.

pub mod malta;
pub mod uart16550;
