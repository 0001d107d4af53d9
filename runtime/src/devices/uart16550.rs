//! A 16550A UART with a 16-byte receive FIFO (malta-boot.md §3.8).
//!
//! Transmission is instantaneous, as in QEMU: a THR byte goes straight to
//! the host writer, so LSR always shows THRE|TEMT (0x60 when idle) and the
//! THRE interrupt re-arms as soon as a byte is written. Received bytes come
//! from an optional host channel, taken only while the FIFO has room so that
//! nothing typed is lost. The interrupt output is a level; the board feeds
//! it to i8259 input 4. Baud-rate pacing, the character-timeout interrupt
//! (data below the trigger level is reported as "data available" at once)
//! and modem-status change interrupts are left out.

use softmmu::{BusCtx, MmioDevice};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::mpsc::Receiver;

const RBR: u8 = 0; // receive buffer (read) / THR (write), DLL when DLAB
const IER: u8 = 1; // DLM when DLAB
const IIR: u8 = 2; // IIR (read) / FCR (write)
const LCR: u8 = 3;
const MCR: u8 = 4;
const LSR: u8 = 5;
const MSR: u8 = 6;
const SCR: u8 = 7;

const LCR_DLAB: u8 = 0x80;
const IER_RDI: u8 = 0x01;
const IER_THRI: u8 = 0x02;
const IER_RLSI: u8 = 0x04;
const FCR_ENABLE: u8 = 0x01;
const FCR_CLEAR_RX: u8 = 0x02;
const FCR_CLEAR_TX: u8 = 0x04;
const MCR_LOOP: u8 = 0x10;
const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE_TEMT: u8 = 0x60;
const IIR_NONE: u8 = 0x01;
const IIR_THRE: u8 = 0x02;
const IIR_RDA: u8 = 0x04;
const IIR_RLS: u8 = 0x06;
const IIR_FIFO: u8 = 0xc0;
/// DCD|DSR|CTS: what QEMU shows with a stdio backend.
const MSR_IDLE: u8 = 0xb0;
const FIFO_LEN: usize = 16;

/// A 16550A whose output goes to a host writer and whose input, if any,
/// comes from a host channel.
pub struct Uart16550 {
    out: Box<dyn Write + Send>,
    input: Option<Receiver<u8>>,
    rx: VecDeque<u8>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fcr: u8,
    /// Overrun, sticky until LSR is read (the only line error we produce).
    lsr_errors: u8,
    thr_ipending: bool,
    /// The output went low during the last access (a THR write), so the
    /// edge-triggered PIC must see a fresh rising edge even though the level
    /// is high again at the end of the access.
    dipped: bool,
    unflushed: bool,
}

impl std::fmt::Debug for Uart16550 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uart16550")
            .field("ier", &self.ier)
            .field("lcr", &self.lcr)
            .field("mcr", &self.mcr)
            .field("fcr", &self.fcr)
            .field("rx", &self.rx.len())
            .finish_non_exhaustive()
    }
}

impl Uart16550 {
    /// A UART writing to `out`, with no input.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self::with_input(out, None)
    }

    /// A UART writing to `out` and receiving what `input` delivers.
    pub fn with_input(out: Box<dyn Write + Send>, input: Option<Receiver<u8>>) -> Self {
        Self {
            out,
            input,
            rx: VecDeque::with_capacity(FIFO_LEN),
            ier: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            dll: 0,
            dlm: 0,
            fcr: 0,
            lsr_errors: 0,
            thr_ipending: false,
            dipped: false,
            unflushed: false,
        }
    }

    fn fifo_capacity(&self) -> usize {
        if self.fcr & FCR_ENABLE != 0 { FIFO_LEN } else { 1 }
    }

    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }

    /// The interrupt identification, by priority: line status, received
    /// data, THR empty (modem status never changes here).
    fn interrupt_id(&self) -> u8 {
        if self.ier & IER_RLSI != 0 && self.lsr_errors != 0 {
            IIR_RLS
        } else if self.ier & IER_RDI != 0 && !self.rx.is_empty() {
            IIR_RDA
        } else if self.ier & IER_THRI != 0 && self.thr_ipending {
            IIR_THRE
        } else {
            IIR_NONE
        }
    }

    /// Whether the interrupt output is high now.
    pub fn irq_level(&self) -> bool {
        self.interrupt_id() != IIR_NONE
    }

    /// Whether the output went low and back up during an access since the
    /// last call; the caller must then show its interrupt controller a low
    /// level before the current one.
    pub fn take_irq_dip(&mut self) -> bool {
        std::mem::take(&mut self.dipped)
    }

    fn receive(&mut self, b: u8) {
        if self.rx.len() < self.fifo_capacity() {
            self.rx.push_back(b);
        } else {
            self.lsr_errors |= LSR_OE;
            // Without a FIFO the new byte replaces the unread one; a full
            // FIFO keeps its contents.
            if self.fcr & FCR_ENABLE == 0 {
                self.rx.pop_back();
                self.rx.push_back(b);
            }
        }
    }

    /// Moves host input into the FIFO while it has room. In loopback the
    /// receiver hears only the transmitter, so host input waits.
    fn fill_from_host(&mut self) {
        if self.loopback() {
            return;
        }
        let cap = self.fifo_capacity();
        if let Some(input) = &self.input {
            while self.rx.len() < cap {
                match input.try_recv() {
                    Ok(b) => self.rx.push_back(b),
                    Err(_) => break,
                }
            }
        }
    }

    fn transmit(&mut self, v: u8) {
        self.thr_ipending = false;
        if !self.irq_level() {
            self.dipped = true;
        }
        if self.loopback() {
            self.receive(v);
        } else {
            // A closed stdout must not stop the guest: output is best effort.
            let _ = self.out.write_all(&[v]);
            if v == b'\n' {
                let _ = self.out.flush();
                self.unflushed = false;
            } else {
                self.unflushed = true;
            }
        }
        // The byte left at once: THR is empty again.
        self.thr_ipending = true;
    }

    /// Reads register `reg` (0..7).
    pub fn read_reg(&mut self, reg: u8) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match reg & 7 {
            RBR if dlab => self.dll,
            RBR => {
                let v = self.rx.pop_front().unwrap_or(0);
                self.fill_from_host();
                v
            }
            IER if dlab => self.dlm,
            IER => self.ier,
            IIR => {
                let id = self.interrupt_id();
                if id == IIR_THRE {
                    self.thr_ipending = false;
                }
                id | if self.fcr & FCR_ENABLE != 0 { IIR_FIFO } else { 0 }
            }
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => {
                let dr = if self.rx.is_empty() { 0 } else { LSR_DR };
                let v = LSR_THRE_TEMT | self.lsr_errors | dr;
                self.lsr_errors = 0;
                v
            }
            MSR if self.loopback() => {
                // The modem inputs are wired to the modem outputs:
                // RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD.
                let m = self.mcr;
                ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x0c) << 4)
            }
            MSR => MSR_IDLE,
            SCR => self.scr,
            _ => 0xff,
        }
    }

    /// Writes register `reg` (0..7).
    pub fn write_reg(&mut self, reg: u8, v: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match reg & 7 {
            RBR if dlab => self.dll = v,
            RBR => self.transmit(v),
            IER if dlab => self.dlm = v,
            IER => {
                let v = v & 0x0f;
                let changed = (self.ier ^ v) & IER_THRI;
                self.ier = v;
                // QEMU re-raises THRE on every THRI 0→1 edge (THR is always
                // empty here) and drops it when THRI is turned off.
                if changed != 0 {
                    self.thr_ipending = v & IER_THRI != 0;
                }
            }
            IIR => {
                let mut v = v;
                if (v ^ self.fcr) & FCR_ENABLE != 0 {
                    v |= FCR_CLEAR_RX | FCR_CLEAR_TX;
                }
                if v & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
                if v & FCR_CLEAR_TX != 0 {
                    self.thr_ipending = true;
                }
                // Enable, DMA mode and trigger level stick; bit 5 (64-byte
                // FIFO) does not, so the kernel does not take us for a 16750.
                self.fcr = v & 0xc9;
                self.fill_from_host();
            }
            LCR => self.lcr = v,
            MCR => {
                self.mcr = v & 0x1f;
                self.fill_from_host();
            }
            SCR => self.scr = v,
            // LSR and MSR are read-only.
            _ => {}
        }
    }

    /// Takes host input and flushes pending output (so that a prompt
    /// without a newline appears).
    pub fn service(&mut self) {
        self.fill_from_host();
        if self.unflushed {
            let _ = self.out.flush();
            self.unflushed = false;
        }
    }
}

impl MmioDevice for Uart16550 {
    fn read(&mut self, offset: u64, _size: u32, _ctx: &mut BusCtx) -> u64 {
        self.read_reg((offset & 7) as u8) as u64
    }

    fn write(&mut self, offset: u64, _size: u32, value: u64, _ctx: &mut BusCtx) {
        self.write_reg((offset & 7) as u8, value as u8)
    }

    fn poll(&mut self, _ctx: &mut BusCtx) {
        self.service();
    }
}

impl Drop for Uart16550 {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    /// A writer the test can look into, counting flushes.
    #[derive(Clone, Default)]
    pub(crate) struct Sink(pub(crate) Arc<Mutex<(Vec<u8>, usize)>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.0.lock().unwrap().1 += 1;
            Ok(())
        }
    }
    impl Sink {
        pub(crate) fn bytes(&self) -> Vec<u8> {
            self.0.lock().unwrap().0.clone()
        }
        fn flushes(&self) -> usize {
            self.0.lock().unwrap().1
        }
    }

    #[test]
    fn thr_writes_reach_the_host_and_lsr_is_always_ready() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        assert_eq!(u.read(LSR as u64, 1, &mut BusCtx::default()), 0x60);
        u.write(RBR as u64, 1, b'h' as u64, &mut BusCtx::default());
        u.write(RBR as u64, 1, b'i' as u64, &mut BusCtx::default());
        assert_eq!(sink.bytes(), b"hi");
        assert_eq!(u.read_reg(LSR), 0x60);
    }

    #[test]
    fn output_is_flushed_at_newline_and_on_service() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        u.write_reg(RBR, b'a');
        assert_eq!(sink.flushes(), 0);
        u.write_reg(RBR, b'\n');
        assert_eq!(sink.flushes(), 1);
        u.service();
        assert_eq!(sink.flushes(), 1, "nothing new to flush");
        u.write_reg(RBR, b'$');
        u.service();
        assert_eq!(sink.flushes(), 2, "a prompt without newline is flushed by the poll");
    }

    #[test]
    fn divisor_latch_hides_thr_and_ier() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        u.write_reg(LCR, 0x83);
        u.write_reg(RBR, 3);
        u.write_reg(IER, 0);
        assert_eq!(u.read_reg(RBR), 3);
        u.write_reg(LCR, 0x03);
        assert!(sink.bytes().is_empty());
        u.write_reg(IER, 0xff);
        assert_eq!(u.read_reg(IER), 0x0f, "IER keeps only 4 bits");
    }

    #[test]
    fn autoconfig_probes_see_a_16550a() {
        let mut u = Uart16550::new(Box::new(Sink::default()));
        u.write_reg(IER, 0);
        assert_eq!(u.read_reg(IER), 0);
        u.write_reg(IER, 0x0f);
        assert_eq!(u.read_reg(IER), 0x0f);
        u.write_reg(IER, 0);
        assert_eq!(u.read_reg(IIR), 0x01, "no FIFO yet");
        u.write_reg(IIR, 0x21);
        assert_eq!(u.read_reg(IIR) & 0x20, 0, "not a 16750");
        u.write_reg(IIR, 0x01);
        assert_eq!(u.read_reg(IIR), 0xc1, "FIFO enabled: 16550A");
        assert_eq!(u.read_reg(MSR), 0xb0);
        u.write_reg(SCR, 0x5a);
        assert_eq!(u.read_reg(SCR), 0x5a);
    }

    #[test]
    fn thre_interrupt_follows_qemu() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        u.write_reg(IIR, 0x07);
        assert!(!u.irq_level());
        u.write_reg(IER, IER_THRI);
        assert!(u.irq_level(), "THRI 0→1 with THR empty raises the line");
        assert_eq!(u.read_reg(IIR), 0xc2);
        assert!(!u.irq_level(), "the IIR read that reports THRE clears it");
        assert_eq!(u.read_reg(IIR), 0xc1);
        // A THR write re-arms it, with a dip the PIC sees as an edge.
        u.write_reg(RBR, b'x');
        assert!(u.irq_level());
        assert!(u.take_irq_dip());
        assert!(!u.take_irq_dip());
        assert_eq!(u.read_reg(IIR), 0xc2);
        // Rewriting IER with THRI already set is no edge.
        u.write_reg(IER, IER_THRI | IER_RDI);
        assert!(!u.irq_level());
        // THRI off then on is.
        u.write_reg(IER, IER_RDI);
        u.write_reg(IER, IER_RDI | IER_THRI);
        assert_eq!(u.read_reg(IIR), 0xc2);
        // With THRI off, THR writes raise nothing.
        u.write_reg(IER, 0);
        u.write_reg(RBR, b'y');
        assert!(!u.irq_level());
        assert_eq!(sink.bytes(), b"xy");
    }

    #[test]
    fn received_bytes_raise_data_available() {
        let (tx, rx) = mpsc::channel();
        let mut u = Uart16550::with_input(Box::new(Sink::default()), Some(rx));
        u.write_reg(IIR, 0x01);
        u.write_reg(IER, IER_RDI | IER_RLSI);
        assert_eq!(u.read_reg(LSR), 0x60);
        for b in 0..20u8 {
            tx.send(b).unwrap();
        }
        assert!(!u.irq_level(), "input arrives only when polled");
        u.poll(&mut BusCtx::default());
        assert!(u.irq_level());
        assert_eq!(u.read_reg(LSR), 0x61);
        assert_eq!(u.read_reg(IIR), 0xc4);
        let mut got = Vec::new();
        while u.read_reg(LSR) & LSR_DR != 0 {
            got.push(u.read_reg(RBR));
        }
        assert_eq!(got, (0..20).collect::<Vec<u8>>(), "nothing lost beyond the 16-byte FIFO");
        assert!(!u.irq_level());
        assert_eq!(u.read_reg(IIR), 0xc1);
    }

    #[test]
    fn fifo_clear_drops_received_bytes() {
        let (tx, rx) = mpsc::channel();
        let mut u = Uart16550::with_input(Box::new(Sink::default()), Some(rx));
        u.write_reg(IIR, 0x01);
        tx.send(b'a').unwrap();
        u.service();
        assert_eq!(u.read_reg(LSR) & LSR_DR, 1);
        u.write_reg(IIR, 0x03);
        assert_eq!(u.read_reg(LSR) & LSR_DR, 0);
    }

    #[test]
    fn loopback_fills_the_fifo_and_reports_overrun() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        u.write_reg(IIR, 0x07);
        u.write_reg(MCR, MCR_LOOP | 0x0b);
        assert_eq!(u.read_reg(MSR), 0xb0, "DTR|RTS|OUT2 → DSR|CTS|DCD");
        for b in 0..20u8 {
            u.write_reg(RBR, b);
        }
        assert!(sink.bytes().is_empty(), "loopback does not reach the host");
        assert_eq!(u.read_reg(LSR), 0x63, "data ready and overrun");
        let mut n = 0;
        while u.read_reg(LSR) & LSR_DR != 0 && n < 100 {
            assert_eq!(u.read_reg(RBR), n);
            n += 1;
        }
        assert_eq!(n, 16, "size_fifo measures a 16-byte FIFO");
    }
}
