//! The Malta board (../shared/reference/malta-boot.md §3, §4, §6, §7): RAM
//! at physical 0, one device for everything between RAM and the boot ROM
//! (the ISA I/O window, the GT-64120, the FPGA), and the boot ROM with its
//! board-ID word.
//!
//! One device covers the whole window because its parts are wired to each
//! other: the UART interrupts through the i8259 pair, whose acknowledge
//! cycle is a GT-64120 register, and the PM I/O block moves where PCI
//! configuration writes put it.

use super::gt64120::{self, Gt64120};
use super::i8259::PicPair;
use super::mc146818::Mc146818;
use super::piix4::Piix4;
use super::uart16550::Uart16550;
use softmmu::{BusCtx, DeviceAction, MmioDevice, PhysMap, PhysMapError};
use std::io::Write;
use std::sync::mpsc::Receiver;

/// Physical base of the window [`MaltaIo`] covers, and of the PCI/ISA I/O
/// space in it: port p is at `ISA_IO_BASE + p`.
pub const ISA_IO_BASE: u64 = 0x1800_0000;
/// Size of the I/O space.
pub const ISA_IO_SIZE: u64 = 0x20_0000;
/// The console UART's I/O port.
pub const UART0_PORT: u64 = 0x3f8;
/// The console UART's i8259 input.
pub const UART0_IRQ: u8 = 4;
/// Physical base of the GT-64120 registers (where the boot stub moved them).
pub const GT_BASE: u64 = 0x1be0_0000;
/// Physical base of the FPGA register window.
pub const FPGA_BASE: u64 = 0x1f00_0000;
/// Size of the FPGA register window.
pub const FPGA_SIZE: u64 = 0x10_0000;
/// Offset of SOFTRES in the FPGA window: writing 0x42 resets the board.
pub const SOFTRES: u64 = 0x500;
/// Physical base of the boot ROM (4 MiB; kseg1 0xbfc00000).
pub const BOOT_ROM_BASE: u64 = 0x1fc0_0000;
/// The most RAM the board maps at physical 0: the PCI memory window follows.
pub const MAX_RAM_BYTES: usize = 0x1000_0000;

/// The CPU interrupt line the i8259 pair drives (IP2).
const PIC_CPU_LINE: u8 = 1 << 2;

const FPGA_STATUS: u64 = 0x208;

fn ones(size: u32) -> u64 {
    if size >= 8 { u64::MAX } else { (1u64 << (8 * size)) - 1 }
}

/// Everything from 0x18000000 up to the boot ROM: the ISA I/O ports (i8259
/// pair, RTC, UART0, PIIX4 PM block), the GT-64120 with PCI configuration
/// and interrupt acknowledge, and the FPGA. Unclaimed I/O ports read
/// all-ones; other unclaimed addresses read 0 (the GT's "empty slot"), and
/// writes to either are ignored.
#[derive(Debug)]
pub struct MaltaIo {
    uart: Uart16550,
    pic: PicPair,
    rtc: Mc146818,
    piix4: Piix4,
    gt: Gt64120,
}

impl MaltaIo {
    /// The devices in their reset state; the UART writes to `console` and
    /// reads `input`; the RTC starts at `rtc_base_unix_secs`.
    pub fn new(console: Box<dyn Write + Send>, input: Option<Receiver<u8>>, rtc_base_unix_secs: u64) -> Self {
        Self {
            uart: Uart16550::with_input(console, input),
            pic: PicPair::new(),
            rtc: Mc146818::new(rtc_base_unix_secs),
            piix4: Piix4::new(),
            gt: Gt64120::new(),
        }
    }

    /// Passes the UART's interrupt output to the PIC; a dip during the last
    /// access becomes the edge the PIC latches.
    fn sync_irqs(&mut self) {
        if self.uart.take_irq_dip() {
            self.pic.set_irq(UART0_IRQ, false);
        }
        self.pic.set_irq(UART0_IRQ, self.uart.irq_level());
    }

    fn port_read_byte(&mut self, port: u64, ctx: &mut BusCtx) -> u8 {
        match port {
            0x20 | 0x21 | 0xa0 | 0xa1 => self.pic.read_port(port as u16),
            0x70 | 0x71 => self.rtc.read(port - 0x70, 1, ctx) as u8,
            0x3f8..=0x3ff => self.uart.read_reg((port - UART0_PORT) as u8),
            // The PIT is a stub (the CP0 timer carries the tick), and
            // everything else is unclaimed: both read as a floating bus.
            _ => 0xff,
        }
    }

    fn port_write_byte(&mut self, port: u64, v: u8, ctx: &mut BusCtx) {
        match port {
            0x20 | 0x21 | 0xa0 | 0xa1 => self.pic.write_port(port as u16, v),
            0x70 | 0x71 => self.rtc.write(port - 0x70, 1, v.into(), ctx),
            0x3f8..=0x3ff => self.uart.write_reg((port - UART0_PORT) as u8, v),
            _ => {}
        }
    }

    /// An I/O port access wider than a byte is split into byte accesses,
    /// lowest port in the low byte, as on the ISA bus; only the PM block
    /// takes 16- and 32-bit accesses whole.
    fn port_read(&mut self, port: u64, size: u32, ctx: &mut BusCtx) -> u64 {
        if let Some(off) = self.piix4.pm_offset(port) {
            return self.piix4.pm_read(off, size, ctx.now_ns);
        }
        (0..u64::from(size.min(8))).fold(0, |v, i| v | u64::from(self.port_read_byte(port + i, ctx)) << (8 * i))
    }

    fn port_write(&mut self, port: u64, size: u32, value: u64, ctx: &mut BusCtx) {
        if let Some(off) = self.piix4.pm_offset(port) {
            return self.piix4.pm_write(off, size, value, ctx);
        }
        for i in 0..u64::from(size.min(8)) {
            self.port_write_byte(port + i, (value >> (8 * i)) as u8, ctx);
        }
    }

    fn gt_read(&mut self, off: u64, size: u32) -> u64 {
        match off & !3 {
            gt64120::PCI0_IACK => u64::from(self.pic.iack()) & ones(size),
            gt64120::PCI0_CFG_DATA => {
                let cycle = self.gt.config_address();
                let data = cycle.and_then(|(bus, dev, func, reg)| {
                    self.piix4.config_read(bus, dev, func, reg + (off & 3) as usize, size)
                });
                data.unwrap_or(ones(size))
            }
            _ => self.gt.read(off, size),
        }
    }

    fn gt_write(&mut self, off: u64, size: u32, value: u64) {
        match off & !3 {
            gt64120::PCI0_CFG_DATA => {
                if let Some((bus, dev, func, reg)) = self.gt.config_address() {
                    self.piix4.config_write(bus, dev, func, reg + (off & 3) as usize, size, value);
                }
            }
            _ => self.gt.write(off, size, value),
        }
    }
}

impl MmioDevice for MaltaIo {
    fn read(&mut self, offset: u64, size: u32, ctx: &mut BusCtx) -> u64 {
        let gt = GT_BASE - ISA_IO_BASE;
        let fpga = FPGA_BASE - ISA_IO_BASE;
        let v = match offset {
            o if o < ISA_IO_SIZE => self.port_read(o, size, ctx),
            o if (gt..gt + gt64120::GT_REGS_SIZE).contains(&o) => self.gt_read(o - gt, size),
            o if (fpga..fpga + FPGA_SIZE).contains(&o) => {
                // STATUS 0x10 is what QEMU shows a little-endian guest.
                // SWITCH and JMPRS (33 MHz PCI clock, read once by the
                // kernel) read 0, like everything else here.
                let reg = if (o - fpga) & !3 == FPGA_STATUS { 0x10u64 } else { 0 };
                (reg >> (8 * (o & 3))) & ones(size)
            }
            _ => 0,
        };
        self.sync_irqs();
        v
    }

    fn write(&mut self, offset: u64, size: u32, value: u64, ctx: &mut BusCtx) {
        let gt = GT_BASE - ISA_IO_BASE;
        let fpga = FPGA_BASE - ISA_IO_BASE;
        match offset {
            o if o < ISA_IO_SIZE => self.port_write(o, size, value, ctx),
            o if (gt..gt + gt64120::GT_REGS_SIZE).contains(&o) => self.gt_write(o - gt, size, value),
            o if o == fpga + SOFTRES && value & ones(size) == 0x42 => ctx.action = DeviceAction::Reset,
            _ => {}
        }
        self.sync_irqs();
    }

    fn irq_lines(&self) -> u8 {
        if self.pic.int_output() { PIC_CPU_LINE } else { 0 }
    }

    fn poll(&mut self, _ctx: &mut BusCtx) {
        self.uart.service();
        self.sync_irqs();
    }
}

/// What a Malta board is built from.
pub struct BoardConfig {
    /// RAM at physical 0, at most [`MAX_RAM_BYTES`], a multiple of 4 KiB.
    pub ram_bytes: usize,
    /// Whether the guest is big-endian (for the boot ROM's board-ID word).
    pub big_endian: bool,
    /// Where UART0 output goes.
    pub console: Box<dyn Write + Send>,
    /// Bytes for UART0 to receive, if any.
    pub input: Option<Receiver<u8>>,
    /// The RTC's time at power-on, in seconds since 1970 (UTC): the wall
    /// clock for real-time runs, a constant for reproducible ones.
    pub rtc_base_unix_secs: u64,
}

impl std::fmt::Debug for BoardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoardConfig")
            .field("ram_bytes", &self.ram_bytes)
            .field("big_endian", &self.big_endian)
            .field("input", &self.input.is_some())
            .field("rtc_base_unix_secs", &self.rtc_base_unix_secs)
            .finish_non_exhaustive()
    }
}

/// Builds the physical map of a Malta board. More than [`MAX_RAM_BYTES`] of
/// RAM is refused as overlapping the PCI memory window.
pub fn build_board(cfg: BoardConfig) -> Result<PhysMap, PhysMapError> {
    if cfg.ram_bytes > MAX_RAM_BYTES {
        return Err(PhysMapError::Overlap(MAX_RAM_BYTES as u64, (cfg.ram_bytes - MAX_RAM_BYTES) as u64));
    }
    let mut m = PhysMap::default();
    m.add_ram(0, cfg.ram_bytes, true)?;
    let io = MaltaIo::new(cfg.console, cfg.input, cfg.rtc_base_unix_secs);
    m.add_device(ISA_IO_BASE, BOOT_ROM_BASE - ISA_IO_BASE, Box::new(io))?;
    m.add_ram(BOOT_ROM_BASE, 0x40_0000, false)?;
    // The board-ID word: CoreLV with a GT-64120 system controller.
    let id = 0x0000_0420u32;
    m.write_bytes(BOOT_ROM_BASE + 0x10, &if cfg.big_endian { id.to_be_bytes() } else { id.to_le_bytes() })?;
    Ok(m)
}

/// Builds the physical map of a Malta board with `ram_bytes` of RAM whose
/// console writes to `console`, with no console input and the RTC starting
/// at 1970-01-01 (so that runs are reproducible).
pub fn build(ram_bytes: usize, big_endian: bool, console: Box<dyn Write + Send>) -> Result<PhysMap, PhysMapError> {
    build_board(BoardConfig { ram_bytes, big_endian, console, input: None, rtc_base_unix_secs: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::uart16550::tests::Sink;
    use std::sync::mpsc;

    const GT: u64 = GT_BASE - ISA_IO_BASE;
    const FPGA: u64 = FPGA_BASE - ISA_IO_BASE;

    fn board() -> (MaltaIo, Sink) {
        let sink = Sink::default();
        (MaltaIo::new(Box::new(sink.clone()), None, 0), sink)
    }

    fn outb(io: &mut MaltaIo, port: u64, v: u8) {
        io.write(port, 1, v.into(), &mut BusCtx::default());
    }

    fn inb(io: &mut MaltaIo, port: u64) -> u8 {
        io.read(port, 1, &mut BusCtx::default()) as u8
    }

    fn gt_read(io: &mut MaltaIo, reg: u64) -> u32 {
        io.read(GT + reg, 4, &mut BusCtx::default()) as u32
    }

    fn gt_write(io: &mut MaltaIo, reg: u64, v: u32) {
        io.write(GT + reg, 4, v.into(), &mut BusCtx::default());
    }

    fn cfg_read(io: &mut MaltaIo, dev: u32, func: u32, reg: u32) -> u32 {
        gt_write(io, gt64120::PCI0_CFG_ADDR, 0x8000_0000 | dev << 11 | func << 8 | reg);
        gt_read(io, gt64120::PCI0_CFG_DATA)
    }

    fn cfg_write(io: &mut MaltaIo, dev: u32, func: u32, reg: u32, v: u32) {
        gt_write(io, gt64120::PCI0_CFG_ADDR, 0x8000_0000 | dev << 11 | func << 8 | reg);
        gt_write(io, gt64120::PCI0_CFG_DATA, v);
    }

    fn init_8259(io: &mut MaltaIo) {
        for (port, v) in super::super::i8259::LINUX_INIT {
            outb(io, port as u64, v);
        }
    }

    #[test]
    fn unclaimed_ports_read_ones_and_empty_slots_read_zero() {
        let (mut io, _) = board();
        let mut ctx = BusCtx::default();
        assert_eq!(io.read(0x60, 1, &mut ctx), 0xff, "no i8042");
        assert_eq!(io.read(0x2f8, 1, &mut ctx), 0xff, "no UART1");
        assert_eq!(io.read(0x1040, 2, &mut ctx), 0xffff);
        assert_eq!(io.read(0x1f_fffc, 4, &mut ctx), 0xffff_ffff);
        assert_eq!(io.read(0x43, 1, &mut ctx), 0xff, "PIT stub");
        io.write(0x43, 1, 0x34, &mut ctx);
        assert_eq!(io.read(0x40, 1, &mut ctx), 0xff);
        assert_eq!(io.read(0x20_0000, 4, &mut ctx), 0, "PCI MEM1");
        assert_eq!(io.read(0x0600_0000, 4, &mut ctx), 0, "flash is absent");
        assert_eq!(io.read(FPGA + 0x900, 4, &mut ctx), 0, "no CBUS UART");
        io.write(0x0600_0000, 4, 1, &mut ctx);
        assert_eq!(ctx, BusCtx::default());
    }

    #[test]
    fn fpga_registers_and_softres() {
        let (mut io, _) = board();
        let mut ctx = BusCtx::default();
        assert_eq!(io.read(FPGA + 0x200, 4, &mut ctx), 0);
        assert_eq!(io.read(FPGA + 0x208, 4, &mut ctx), 0x10);
        assert_eq!(io.read(FPGA + 0x210, 4, &mut ctx), 0);
        assert_eq!(io.read(FPGA + SOFTRES, 4, &mut ctx), 0);
        io.write(FPGA + SOFTRES, 4, 0x41, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::None);
        io.write(FPGA + SOFTRES, 4, 0x42, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::Reset);
    }

    #[test]
    fn uart0_output_and_idle_lsr() {
        let (mut io, sink) = board();
        assert_eq!(inb(&mut io, 0x3fd), 0x60);
        for &b in b"ok\n" {
            outb(&mut io, 0x3f8, b);
        }
        assert_eq!(sink.bytes(), b"ok\n");
    }

    #[test]
    fn gt_registers_config_and_iack_path() {
        let (mut io, _) = board();
        assert_eq!(gt_read(&mut io, gt64120::PCI0_IO_LD), 0xc0);
        assert_eq!(gt_read(&mut io, gt64120::PCI0_CMD), 0x0001_0001);
        gt_write(&mut io, 0x400, 0x1234_5678);
        assert_eq!(gt_read(&mut io, 0x400), 0x1234_5678, "other registers are storage");
        assert_eq!(cfg_read(&mut io, 10, 0, 0), 0x7110_8086);
        assert_eq!((cfg_read(&mut io, 10, 0, 0x0c) >> 16) & 0xff, 0x80, "multifunction header");
        assert_eq!(cfg_read(&mut io, 10, 3, 0), 0x7113_8086);
        assert_eq!(cfg_read(&mut io, 10, 1, 0), 0xffff_ffff, "no IDE");
        assert_eq!(cfg_read(&mut io, 0, 0, 0), 0xffff_ffff, "no GT function");
        assert_eq!(cfg_read(&mut io, 5, 0, 0), 0xffff_ffff);
        // Sub-word accesses to CFGDATA pick the byte lanes 0xcfc..0xcff.
        gt_write(&mut io, gt64120::PCI0_CFG_ADDR, 0x8000_5308);
        let mut ctx = BusCtx::default();
        assert_eq!(io.read(GT + 0xcfe, 2, &mut ctx), 0x0680);
        assert_eq!(io.read(GT + 0xcfc, 1, &mut ctx), 0x03);
        gt_write(&mut io, gt64120::PCI0_CFG_ADDR, 0x0000_5300);
        assert_eq!(gt_read(&mut io, gt64120::PCI0_CFG_DATA), 0xffff_ffff, "enable bit clear");
        // INTRCAUSE never reports an abort for the kernel's checks.
        gt_write(&mut io, gt64120::INTR_CAUSE, 0xfff3_ffff);
        assert_eq!(gt_read(&mut io, gt64120::INTR_CAUSE) & 0x000c_0000, 0);
    }

    #[test]
    fn poweroff_through_the_pm_block() {
        let (mut io, _) = board();
        let mut ctx = BusCtx::default();
        assert_eq!(io.read(0x1000, 2, &mut ctx), 0xffff, "PM block not mapped at reset");
        // malta_piix_func3_base_fixup, then quirk_piix4_acpi's read.
        cfg_write(&mut io, 10, 3, 0x40, 0x1000);
        cfg_write(&mut io, 10, 3, 0x80, 1);
        assert_eq!(cfg_read(&mut io, 10, 3, 0x40), 0x1001);
        assert_eq!(cfg_read(&mut io, 10, 3, 0x90), 0x1101);
        // piix4_poweroff.
        assert_eq!(io.read(0x1000, 2, &mut ctx), 0x0001);
        io.write(0x1004, 2, 0x2000, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::PowerOff);
    }

    #[test]
    fn uart_interrupt_reaches_cpu_ip2_and_iack_returns_4() {
        let (mut io, _) = board();
        init_8259(&mut io);
        assert_eq!(io.irq_lines(), 0);
        outb(&mut io, 0x3f9, 0x02); // IER.THRI
        assert_eq!(io.irq_lines(), 0, "IRQ4 masked");
        outb(&mut io, 0x21, 0xeb);
        assert_eq!(io.irq_lines(), PIC_CPU_LINE);
        assert_eq!(gt_read(&mut io, gt64120::PCI0_IACK), 4);
        assert_eq!(io.irq_lines(), 0, "IRQ4 in service");
        assert_eq!(inb(&mut io, 0x3fa) & 0x0f, 0x02, "THRE");
        outb(&mut io, 0x3f8, b'a'); // re-arms THRE: a new edge
        outb(&mut io, 0x20, 0x64);
        assert_eq!(io.irq_lines(), PIC_CPU_LINE, "the re-armed THRE is pending after EOI");
        assert_eq!(gt_read(&mut io, gt64120::PCI0_IACK), 4);
        outb(&mut io, 0x3f9, 0x00);
        outb(&mut io, 0x20, 0x64);
        assert_eq!(io.irq_lines(), 0);
        assert_eq!(gt_read(&mut io, gt64120::PCI0_IACK), 7, "spurious");
    }

    #[test]
    fn rtc_through_the_ports_and_warp_hint() {
        let mut io = MaltaIo::new(Box::new(Sink::default()), None, 1_709_251_198);
        let mut ctx = BusCtx { now_ns: 1_500_000_000, ..BusCtx::default() };
        io.write(0x70, 1, 0x04, &mut ctx);
        assert_eq!(io.read(0x71, 1, &mut ctx), 0x23);
        io.write(0x70, 1, 0x8a, &mut ctx);
        for _ in 0..4 {
            io.read(0x71, 1, &mut ctx);
        }
        assert_eq!(ctx.warp_to_ns, Some(1_999_756_000));
    }

    #[test]
    fn received_input_interrupts_through_the_pic() {
        let (tx, rx) = mpsc::channel();
        let mut io = MaltaIo::new(Box::new(Sink::default()), Some(rx), 0);
        init_8259(&mut io);
        outb(&mut io, 0x21, 0xeb);
        outb(&mut io, 0x3fa, 0x01);
        outb(&mut io, 0x3f9, 0x05);
        tx.send(b'q').unwrap();
        assert_eq!(io.irq_lines(), 0);
        io.poll(&mut BusCtx::default());
        assert_eq!(io.irq_lines(), PIC_CPU_LINE);
        assert_eq!(gt_read(&mut io, gt64120::PCI0_IACK), 4);
        assert_eq!(inb(&mut io, 0x3fa), 0xc4);
        assert_eq!(inb(&mut io, 0x3fd), 0x61);
        assert_eq!(inb(&mut io, 0x3f8), b'q');
        assert_eq!(inb(&mut io, 0x3fa), 0xc1);
    }

    #[test]
    fn random_guest_accesses_do_not_panic() {
        let (tx, rx) = mpsc::channel();
        let mut io = MaltaIo::new(Box::new(Sink::default()), Some(rx), u64::MAX);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut ctx = BusCtx::default();
        // Program the PM block so that its ports are reachable too.
        cfg_write(&mut io, 10, 3, 0x40, 0x1000);
        cfg_write(&mut io, 10, 3, 0x80, 1);
        let hot = [0x20, 0x21, 0xa0, 0xa1, 0x70, 0x71, 0x3f8, 0x3fc, 0x1000, 0x1004, 0x1008, 0x1f_fffe];
        for i in 0..200_000u64 {
            let r = next();
            let size = [1, 2, 4][(r % 3) as usize];
            let offset = match (r >> 8) % 4 {
                0 => hot[((r >> 16) % hot.len() as u64) as usize] + (r >> 40) % 4,
                1 => GT + (r >> 16) % gt64120::GT_REGS_SIZE,
                2 => FPGA + (r >> 16) % 0x1000,
                _ => (r >> 16) % (BOOT_ROM_BASE - ISA_IO_BASE),
            };
            ctx.now_ns = ctx.now_ns.wrapping_add((r >> 50) * 1000);
            if r & 0x80 != 0 {
                io.write(offset, size, next(), &mut ctx);
            } else {
                io.read(offset, size, &mut ctx);
            }
            if i % 1000 == 0 {
                let _ = tx.send(r as u8);
                io.poll(&mut ctx);
            }
        }
        ctx.now_ns = u64::MAX;
        for port in 0..0x2000 {
            io.read(port, 4, &mut ctx);
        }
    }

    #[test]
    fn build_maps_ram_window_and_board_id() {
        let mut m = build(1 << 20, false, Box::new(Sink::default())).unwrap();
        let mut id = [0; 4];
        m.read_bytes(BOOT_ROM_BASE + 0x10, &mut id).unwrap();
        assert_eq!(u32::from_le_bytes(id), 0x420);
        let softmmu::Target::Mmio { device, offset } = m.lookup(FPGA_BASE + SOFTRES) else { panic!("no FPGA") };
        let mut ctx = BusCtx::default();
        m.mmio_write(device, offset, 4, 0x42, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::Reset);
        assert!(matches!(m.lookup(0x1fbf_fffc), softmmu::Target::Mmio { .. }));
        let big = BoardConfig {
            ram_bytes: 512 << 20,
            big_endian: true,
            console: Box::new(Sink::default()),
            input: None,
            rtc_base_unix_secs: 0,
        };
        assert!(build_board(big).is_err());
    }
}
