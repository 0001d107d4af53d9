//! The Malta board's address map for bare-metal guests: RAM at physical 0,
//! the ISA I/O window with the console UART, the FPGA's SOFTRES register,
//! and the boot ROM's board-ID word (../shared/reference/malta-boot.md §3).

use super::uart16550::Uart16550;
use softmmu::{BusCtx, DeviceAction, MmioDevice, PhysMap, PhysMapError};
use std::io::Write;

/// Physical base of the PCI/ISA I/O window: port p is at `ISA_IO_BASE + p`.
pub const ISA_IO_BASE: u64 = 0x1800_0000;
/// Size of the I/O window.
pub const ISA_IO_SIZE: u64 = 0x20_0000;
/// The console UART's I/O port.
pub const UART0_PORT: u64 = 0x3f8;
/// Physical base of the FPGA register window.
pub const FPGA_BASE: u64 = 0x1f00_0000;
/// Offset of SOFTRES in the FPGA window: writing 0x42 resets the board.
pub const SOFTRES: u64 = 0x500;
/// Physical base of the boot ROM (4 MiB; kseg1 0xbfc00000).
pub const BOOT_ROM_BASE: u64 = 0x1fc0_0000;

/// The ISA I/O window: UART0 at 0x3f8; unclaimed ports read all-ones.
struct IsaIo {
    uart: Uart16550,
}

impl MmioDevice for IsaIo {
    fn read(&mut self, offset: u64, size: u32, ctx: &mut BusCtx) -> u64 {
        match offset.checked_sub(UART0_PORT) {
            Some(r @ 0..8) => self.uart.read(r, size, ctx),
            _ => u64::MAX >> (64 - 8 * size),
        }
    }
    fn write(&mut self, offset: u64, size: u32, value: u64, ctx: &mut BusCtx) {
        if let Some(r @ 0..8) = offset.checked_sub(UART0_PORT) {
            self.uart.write(r, size, value, ctx)
        }
    }
}

/// The FPGA registers: SOFTRES, and reads of 0 elsewhere (as QEMU).
struct Fpga;

impl MmioDevice for Fpga {
    fn read(&mut self, _offset: u64, _size: u32, _ctx: &mut BusCtx) -> u64 {
        0
    }
    fn write(&mut self, offset: u64, _size: u32, value: u64, ctx: &mut BusCtx) {
        if offset == SOFTRES && value as u32 == 0x42 {
            ctx.action = DeviceAction::Reset;
        }
    }
}

/// Builds the physical map of a Malta board with `ram_bytes` of RAM whose
/// console writes to `console`.
pub fn build(ram_bytes: usize, big_endian: bool, console: Box<dyn Write + Send>) -> Result<PhysMap, PhysMapError> {
    let mut m = PhysMap::default();
    m.add_ram(0, ram_bytes, true)?;
    m.add_device(ISA_IO_BASE, ISA_IO_SIZE, Box::new(IsaIo { uart: Uart16550::new(console) }))?;
    m.add_device(FPGA_BASE, 0x10_0000, Box::new(Fpga))?;
    m.add_ram(BOOT_ROM_BASE, 0x40_0000, false)?;
    // The board-ID word: CoreLV with a GT-64120 system controller.
    let id = 0x0000_0420u32;
    m.write_bytes(BOOT_ROM_BASE + 0x10, &if big_endian { id.to_be_bytes() } else { id.to_le_bytes() })?;
    Ok(m)
}

/// Board options (temporary shim until the full device set lands).
#[allow(missing_debug_implementations)]
pub struct BoardConfig {
    /// RAM bytes at physical 0.
    pub ram_bytes: usize,
    /// Guest byte order.
    pub big_endian: bool,
    /// Where the console UART writes.
    pub console: Box<dyn Write + Send>,
    /// Host input for the console UART.
    pub input: Option<std::sync::mpsc::Receiver<u8>>,
    /// Wall-clock seconds at power-on for the RTC.
    pub rtc_base_unix_secs: u64,
}

/// Builds the board from `cfg`.
pub fn build_board(cfg: BoardConfig) -> Result<PhysMap, PhysMapError> {
    build(cfg.ram_bytes, cfg.big_endian, cfg.console)
}
