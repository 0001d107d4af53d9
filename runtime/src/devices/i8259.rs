//! The PIIX4's cascaded i8259 interrupt controllers (malta-boot.md §3.6).
//!
//! Only what the Malta kernel uses: the ICW1..ICW4 sequence, IMR, specific
//! and non-specific EOI, the OCW3 ISR/IRR read select (and poll), edge
//! triggering, fixed priority with the slave on master IR2, and the
//! interrupt-acknowledge cycle that the GT-64120's IACK register performs.
//! Level triggering (ELCR), rotation and special mask mode are left out: the
//! kernel never enables them.

/// One 8259A.
#[derive(Clone, Debug, Default)]
struct Pic {
    irr: u8,
    isr: u8,
    imr: u8,
    /// Input line levels, so that only a rising edge latches IRR.
    lines: u8,
    /// 0 when initialised; otherwise the ICW (2, 3 or 4) the chip waits for.
    want_icw: u8,
    icw4_needed: bool,
    single: bool,
    vector_base: u8,
    read_isr: bool,
    poll: bool,
    auto_eoi: bool,
}

fn lowest_bit(bits: u8) -> Option<u8> {
    (bits != 0).then(|| bits.trailing_zeros() as u8)
}

impl Pic {
    fn set_line(&mut self, line: u8, high: bool) {
        let m = 1u8 << (line & 7);
        if high {
            if self.lines & m == 0 {
                self.irr |= m;
            }
            self.lines |= m;
        } else {
            // An edge-triggered request stays latched when the line drops
            // (as QEMU does), so a short pulse is not lost.
            self.lines &= !m;
        }
    }

    /// The request the chip would signal now: the highest-priority unmasked
    /// one above everything in service.
    fn pending(&self) -> Option<u8> {
        let req = lowest_bit(self.irr & !self.imr)?;
        match lowest_bit(self.isr) {
            Some(serving) if serving <= req => None,
            _ => Some(req),
        }
    }

    fn ack(&mut self, irq: u8) {
        let m = 1u8 << (irq & 7);
        if !self.auto_eoi {
            self.isr |= m;
        }
        self.irr &= !m;
    }

    fn poll_read(&mut self) -> u8 {
        self.poll = false;
        match self.pending() {
            Some(irq) => {
                self.ack(irq);
                0x80 | irq
            }
            None => 0,
        }
    }

    fn read(&mut self, a0: bool) -> u8 {
        if self.poll {
            return self.poll_read();
        }
        match (a0, self.read_isr) {
            (true, _) => self.imr,
            (false, true) => self.isr,
            (false, false) => self.irr,
        }
    }

    fn write(&mut self, a0: bool, v: u8) {
        if !a0 {
            if v & 0x10 != 0 {
                // ICW1 restarts initialisation; the input levels are wires,
                // not state, so they survive.
                *self = Pic {
                    lines: self.lines,
                    want_icw: 2,
                    icw4_needed: v & 0x01 != 0,
                    single: v & 0x02 != 0,
                    ..Pic::default()
                };
            } else if v & 0x08 != 0 {
                // OCW3.
                if v & 0x04 != 0 {
                    self.poll = true;
                }
                if v & 0x02 != 0 {
                    self.read_isr = v & 0x01 != 0;
                }
            } else {
                // OCW2: the rotate variants end the interrupt the same way,
                // without rotating (the kernel uses fixed priority).
                match v >> 5 {
                    1 | 5 => {
                        if let Some(irq) = lowest_bit(self.isr) {
                            self.isr &= !(1 << irq);
                        }
                    }
                    3 | 7 => self.isr &= !(1u8 << (v & 7)),
                    _ => {}
                }
            }
            return;
        }
        match self.want_icw {
            2 => {
                self.vector_base = v & 0xf8;
                self.want_icw = match (self.single, self.icw4_needed) {
                    (false, _) => 3,
                    (true, true) => 4,
                    (true, false) => 0,
                };
            }
            3 => self.want_icw = if self.icw4_needed { 4 } else { 0 },
            4 => {
                self.auto_eoi = v & 0x02 != 0;
                self.want_icw = 0;
            }
            _ => self.imr = v,
        }
    }
}

/// The master/slave pair: IRQs 0..7 on the master, 8..15 on the slave,
/// whose output drives master IR2. The master's output is CPU IP2.
#[derive(Clone, Debug, Default)]
pub struct PicPair {
    master: Pic,
    slave: Pic,
}

impl PicPair {
    /// A pair in the reset state (all unmasked, as QEMU starts it).
    pub fn new() -> Self {
        Self::default()
    }

    fn cascade(&mut self) {
        let slave_out = self.slave.pending().is_some();
        self.master.set_line(2, slave_out);
    }

    /// Drives input `irq` (0..15) to `high`; a rising edge latches a request.
    pub fn set_irq(&mut self, irq: u8, high: bool) {
        match irq {
            0..8 => self.master.set_line(irq, high),
            8..16 => {
                self.slave.set_line(irq - 8, high);
                self.cascade();
            }
            _ => {}
        }
    }

    /// Whether the master's INT output (CPU IP2) is high.
    pub fn int_output(&self) -> bool {
        self.master.pending().is_some()
    }

    /// An interrupt-acknowledge cycle: returns the vector of the request
    /// being serviced (IRQ number with the kernel's bases 0 and 8), moving it
    /// from IRR to ISR; with nothing pending, the spurious vector of IR7
    /// (of the slave, if the master did select IR2), with ISR untouched.
    pub fn iack(&mut self) -> u8 {
        let vector = match self.master.pending() {
            Some(2) => {
                let irq = match self.slave.pending() {
                    Some(irq) => {
                        self.slave.ack(irq);
                        irq
                    }
                    None => 7,
                };
                // The slave drops its output before the master's IR2 is
                // acknowledged, so a request still pending there needs a
                // fresh edge, as in QEMU.
                self.cascade();
                self.master.ack(2);
                self.slave.vector_base.wrapping_add(irq)
            }
            Some(irq) => {
                self.master.ack(irq);
                self.master.vector_base.wrapping_add(irq)
            }
            None => self.master.vector_base.wrapping_add(7),
        };
        self.cascade();
        vector
    }

    /// Reads I/O port `port` (0x20, 0x21, 0xa0 or 0xa1); others read 0xff.
    pub fn read_port(&mut self, port: u16) -> u8 {
        let v = match port {
            0x20 | 0x21 => self.master.read(port & 1 != 0),
            0xa0 | 0xa1 => self.slave.read(port & 1 != 0),
            _ => 0xff,
        };
        self.cascade();
        v
    }

    /// Writes I/O port `port` (0x20, 0x21, 0xa0 or 0xa1); others are ignored.
    pub fn write_port(&mut self, port: u16, v: u8) {
        match port {
            0x20 | 0x21 => self.master.write(port & 1 != 0, v),
            0xa0 | 0xa1 => self.slave.write(port & 1 != 0, v),
            _ => {}
        }
        self.cascade();
    }
}

/// The port writes of Linux's `init_8259A` (reference/malta-boot.md §3.6),
/// ending with every line masked but the cascade; for tests here and in
/// the board.
#[cfg(test)]
pub(crate) const LINUX_INIT: [(u16, u8); 13] = [
    (0x21, 0xff),
    (0xa1, 0xff),
    (0x20, 0x11),
    (0x21, 0x00),
    (0x21, 0x04),
    (0x21, 0x01),
    (0xa0, 0x11),
    (0xa1, 0x08),
    (0xa1, 0x02),
    (0xa1, 0x01),
    (0x21, 0xff),
    (0xa1, 0xff),
    (0x21, 0xfb),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel_init() -> PicPair {
        let mut p = PicPair::new();
        for (port, v) in LINUX_INIT {
            p.write_port(port, v);
        }
        p
    }

    fn read_isr(p: &mut PicPair, port: u16) -> u8 {
        p.write_port(port, 0x0b);
        p.read_port(port)
    }

    #[test]
    fn reset_state_is_unmasked() {
        let mut p = PicPair::new();
        assert_eq!(p.read_port(0x21), 0);
        p.set_irq(3, true);
        assert!(p.int_output());
    }

    #[test]
    fn uart_irq_is_acknowledged_and_ended_like_the_kernel_does() {
        let mut p = kernel_init();
        assert_eq!(p.read_port(0x21), 0xfb, "IMR read back");
        p.set_irq(4, true);
        assert!(!p.int_output(), "IRQ4 is masked");
        p.write_port(0x21, 0xeb); // enable_8259A_irq(4)
        assert!(p.int_output(), "a request latched while masked is signalled on unmask");
        // mask_and_ack_8259A: mask, then specific EOI after the IACK.
        assert_eq!(p.iack(), 4);
        assert!(!p.int_output());
        assert_eq!(read_isr(&mut p, 0x20), 0x10);
        p.write_port(0x20, 0x0a);
        assert_eq!(p.read_port(0x20), 0, "IRR cleared by the acknowledge");
        // The line is still high: no new edge, so no new request.
        p.write_port(0x20, 0x64);
        assert_eq!(read_isr(&mut p, 0x20), 0);
        assert!(!p.int_output());
        // A fresh edge is a fresh request.
        p.set_irq(4, false);
        p.set_irq(4, true);
        assert!(p.int_output());
    }

    #[test]
    fn in_service_irq_blocks_lower_priority_until_eoi() {
        let mut p = kernel_init();
        p.write_port(0x21, 0x00);
        p.set_irq(3, true);
        assert_eq!(p.iack(), 3);
        p.set_irq(5, true);
        assert!(!p.int_output(), "IRQ5 waits for IRQ3's EOI");
        p.set_irq(1, true);
        assert!(p.int_output(), "IRQ1 preempts IRQ3");
        assert_eq!(p.iack(), 1);
        p.write_port(0x20, 0x20); // non-specific EOI ends IRQ1, the highest
        assert_eq!(read_isr(&mut p, 0x20), 0x08);
        assert!(!p.int_output());
        p.write_port(0x20, 0x63);
        assert_eq!(p.iack(), 5);
    }

    #[test]
    fn nothing_pending_gives_spurious_irq7_without_isr() {
        let mut p = kernel_init();
        assert!(!p.int_output());
        assert_eq!(p.iack(), 7);
        assert_eq!(read_isr(&mut p, 0x20), 0, "the kernel's spurious check needs ISR7 clear");
    }

    #[test]
    fn slave_irq_cascades_through_ir2() {
        let mut p = kernel_init();
        p.write_port(0xa1, 0xfe); // unmask IRQ8
        p.set_irq(8, true);
        assert!(p.int_output());
        assert_eq!(p.iack(), 8);
        assert_eq!(read_isr(&mut p, 0x20), 0x04);
        assert_eq!(read_isr(&mut p, 0xa0), 0x01);
        assert!(!p.int_output());
        p.write_port(0xa0, 0x60);
        p.write_port(0x20, 0x62);
        assert_eq!(read_isr(&mut p, 0x20), 0);
        assert_eq!(read_isr(&mut p, 0xa0), 0);
        // A slave request that goes away before the acknowledge leaves
        // master IR2 latched: the slave answers with its spurious vector.
        p.set_irq(8, false);
        p.write_port(0xa1, 0xff);
        p.write_port(0xa1, 0xfd);
        p.set_irq(9, true);
        p.write_port(0xa1, 0xff);
        assert!(p.int_output());
        assert_eq!(p.iack(), 15);
    }

    #[test]
    fn poll_command_acknowledges() {
        let mut p = kernel_init();
        p.write_port(0x21, 0x00);
        p.set_irq(6, true);
        p.write_port(0x20, 0x0c);
        assert_eq!(p.read_port(0x20), 0x86);
        assert_eq!(read_isr(&mut p, 0x20), 0x40);
    }

    #[test]
    fn out_of_range_inputs_are_ignored() {
        let mut p = PicPair::new();
        p.set_irq(200, true);
        assert!(!p.int_output());
        assert_eq!(p.read_port(0x22), 0xff);
    }
}
