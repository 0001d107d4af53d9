//! The embedding API, shaped like a KVM virtual machine: a [`Vm`] owns guest
//! physical memory and devices; a [`Vcpu`] made from it runs until
//! something the host must handle, and returns a [`VcpuExit`].
//!
//! ```no_run
//! use runtime::vm::{Vm, VcpuConfig, VcpuExit};
//! let mut vm = Vm::new(false);
//! vm.add_ram(0, 16 << 20).unwrap();
//! vm.write_phys(0x1000, &[0x0d, 0x00, 0x00, 0x00]).unwrap(); // break
//! let mut vcpu = vm.create_vcpu(VcpuConfig::default()).unwrap();
//! vcpu.set_pc(0x8000_1000);
//! match vcpu.run(Some(1_000_000)) {
//!     VcpuExit::PowerOff => println!("guest powered off"),
//!     other => println!("stopped: {other:?}"),
//! }
//! ```

use crate::clock::{Clock, TimeMode};
use crate::cpu::{Cpu, CpuModel};
use crate::machine::{Exit, JitMode, Machine, Stats};
use jit::JitError;
use softmmu::{MmioDevice, PhysMap, PhysMapError};

/// Why [`Vcpu::run`] returned.
pub type VcpuExit = Exit;

/// How a vCPU executes and keeps time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuConfig {
    /// Which execution tier runs guest code.
    pub jit: JitMode,
    /// Deterministic (instruction-driven) or real time.
    pub time: TimeMode,
    /// Guest TLB entries (0: the model's 16; at most 64).
    pub tlb_entries: usize,
    /// The core: the 24Kc (no FPU) or the 24Kf.
    pub model: CpuModel,
}

/// A virtual machine under construction: memory and devices.
#[derive(Debug)]
pub struct Vm {
    phys: PhysMap,
    big_endian: bool,
}

impl Vm {
    /// An empty machine whose CPU is big- or little-endian.
    pub fn new(big_endian: bool) -> Self {
        Self { phys: PhysMap::default(), big_endian }
    }

    /// A machine around an already built physical map (a board).
    pub fn from_phys(phys: PhysMap, big_endian: bool) -> Self {
        Self { phys, big_endian }
    }

    /// Adds `len` bytes of zeroed RAM at guest physical `gpa` (4 KiB aligned).
    pub fn add_ram(&mut self, gpa: u64, len: usize) -> Result<(), PhysMapError> {
        self.phys.add_ram(gpa, len, true)
    }

    /// Adds read-only memory (guest stores are ignored).
    pub fn add_rom(&mut self, gpa: u64, len: usize) -> Result<(), PhysMapError> {
        self.phys.add_ram(gpa, len, false)
    }

    /// Maps `device` at `gpa..gpa + len`.
    pub fn add_device(&mut self, gpa: u64, len: u64, device: Box<dyn MmioDevice>) -> Result<(), PhysMapError> {
        self.phys.add_device(gpa, len, device)
    }

    /// Copies `data` into guest RAM or ROM at `gpa`.
    pub fn write_phys(&mut self, gpa: u64, data: &[u8]) -> Result<(), PhysMapError> {
        self.phys.write_bytes(gpa, data)
    }

    /// Reads guest RAM at `gpa`.
    pub fn read_phys(&self, gpa: u64, buf: &mut [u8]) -> Result<(), PhysMapError> {
        self.phys.read_bytes(gpa, buf)
    }

    /// Whether the CPU is big-endian.
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// Creates the (single) vCPU, at its reset state, taking the memory.
    pub fn create_vcpu(self, cfg: VcpuConfig) -> Result<Vcpu, JitError> {
        let mut cpu = Cpu::with_model(self.phys, self.big_endian, cfg.model);
        cpu.clock = Clock::new(cfg.time);
        if cfg.tlb_entries != 0 {
            cpu.set_tlb_entries(cfg.tlb_entries);
        }
        Ok(Vcpu { machine: Machine::new(cpu, cfg.jit)? })
    }
}

/// A virtual CPU with its machine.
#[derive(Debug)]
pub struct Vcpu {
    machine: Machine,
}

impl Vcpu {
    /// Runs until the guest stops the machine, or `max_insns` more
    /// instructions retire.
    pub fn run(&mut self, max_insns: Option<u64>) -> VcpuExit {
        self.machine.run(max_insns)
    }

    /// General register `r` (0..32).
    pub fn gpr(&self, r: usize) -> u32 {
        self.machine.cpu.s.gpr[r % 32]
    }

    /// Sets general register `r` (writes to `$0` are ignored).
    pub fn set_gpr(&mut self, r: usize, v: u32) {
        let r = r % 32;
        if r != 0 {
            self.machine.cpu.s.gpr[r] = v;
        }
    }

    /// The program counter.
    pub fn pc(&self) -> u32 {
        self.machine.cpu.s.pc
    }

    /// Sets the program counter (where `run` starts).
    pub fn set_pc(&mut self, pc: u32) {
        self.machine.cpu.s.pc = pc;
    }

    /// Reads CP0 register `reg`, select `sel`, as `mfc0` would.
    pub fn cp0(&mut self, reg: usize, sel: u32) -> u32 {
        self.machine.cpu.mfc0(reg % 32, sel % 8)
    }

    /// Writes CP0 register `reg`, select `sel`, as `mtc0` would.
    pub fn set_cp0(&mut self, reg: usize, sel: u32, v: u32) {
        self.machine.cpu.mtc0(reg % 32, sel % 8, v);
    }

    /// Instructions retired so far.
    pub fn icount(&self) -> u64 {
        self.machine.cpu.icount()
    }

    /// The virtual clock, in nanoseconds since power-on.
    pub fn now_ns(&self) -> u64 {
        self.machine.cpu.now_ns()
    }

    /// Execution counters.
    pub fn stats(&self) -> Stats {
        self.machine.stats
    }

    /// Reads guest RAM at physical `gpa`.
    pub fn read_phys(&self, gpa: u64, buf: &mut [u8]) -> Result<(), PhysMapError> {
        self.machine.cpu.phys.read_bytes(gpa, buf)
    }

    /// The machine underneath, for tests and tools that need more.
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.machine
    }
}
