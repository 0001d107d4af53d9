//! A 16550 UART, transmit side: enough for a polled console.
//!
//! Registers are named constants, dispatched by offset (the vm-superio
//! shape). The transmitter is always ready: LSR reads THRE|TEMT (0x60,
//! what QEMU's idle LSR shows), and every THR byte goes straight out.

use softmmu::{BusCtx, MmioDevice};
use std::io::Write;

const THR: u64 = 0; // transmit holding (write) / receive buffer (read), DLL when DLAB
const IER: u64 = 1; // interrupt enable, DLM when DLAB
const IIR: u64 = 2; // interrupt identification (read) / FCR (write)
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const LCR_DLAB: u8 = 0x80;
const LSR_THRE_TEMT: u8 = 0x60;
const IIR_NONE: u8 = 0x01;

/// A 16550 whose output goes to a host writer.
pub struct Uart16550 {
    out: Box<dyn Write + Send>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fcr: u8,
}

impl std::fmt::Debug for Uart16550 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uart16550").field("lcr", &self.lcr).finish_non_exhaustive()
    }
}

impl Uart16550 {
    /// A UART writing to `out` (flushed at every newline).
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self { out, ier: 0, lcr: 0, mcr: 0, scr: 0, dll: 0, dlm: 0, fcr: 0 }
    }
}

impl MmioDevice for Uart16550 {
    fn read(&mut self, offset: u64, _size: u32, _ctx: &mut BusCtx) -> u64 {
        let dlab = self.lcr & LCR_DLAB != 0;
        let v = match offset {
            THR if dlab => self.dll,
            THR => 0,
            IER if dlab => self.dlm,
            IER => self.ier,
            IIR => IIR_NONE | if self.fcr & 1 != 0 { 0xc0 } else { 0 },
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => LSR_THRE_TEMT,
            MSR => 0xb0,
            SCR => self.scr,
            _ => 0xff,
        };
        v as u64
    }

    fn write(&mut self, offset: u64, _size: u32, value: u64, _ctx: &mut BusCtx) {
        let v = value as u8;
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            THR if dlab => self.dll = v,
            THR => {
                // A closed stdout must not stop the guest: output is best effort.
                let _ = self.out.write_all(&[v]);
                if v == b'\n' {
                    let _ = self.out.flush();
                }
            }
            IER if dlab => self.dlm = v,
            IER => self.ier = v & 0x0f,
            IIR => self.fcr = v,
            LCR => self.lcr = v,
            MCR => self.mcr = v & 0x1f,
            SCR => self.scr = v,
            _ => {}
        }
    }
}

impl Drop for Uart16550 {
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn thr_writes_reach_the_host_and_lsr_is_always_ready() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        assert_eq!(u.read(LSR, 1, &mut BusCtx::default()), 0x60);
        u.write(THR, 1, b'h' as u64, &mut BusCtx::default());
        u.write(THR, 1, b'i' as u64, &mut BusCtx::default());
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"hi");
    }

    #[test]
    fn divisor_latch_hides_thr_and_ier() {
        let sink = Sink::default();
        let mut u = Uart16550::new(Box::new(sink.clone()));
        u.write(LCR, 1, 0x83, &mut BusCtx::default());
        u.write(THR, 1, 3, &mut BusCtx::default());
        u.write(IER, 1, 0, &mut BusCtx::default());
        assert_eq!(u.read(THR, 1, &mut BusCtx::default()), 3);
        u.write(LCR, 1, 0x03, &mut BusCtx::default());
        assert!(sink.0.lock().unwrap().is_empty());
        u.write(IER, 1, 0xff, &mut BusCtx::default());
        assert_eq!(u.read(IER, 1, &mut BusCtx::default()), 0x0f, "IER keeps only 4 bits");
    }
}
