//! The CPU: architectural state, exception entry, CP0 access and the
//! memory slow path that both tiers share.

use crate::clock::{Clock, NS_PER_COUNT, TimeMode};
use crate::cp0::{Cp0, cause, status};
use crate::exception::{ExcCode, Exception};
use crate::fpu::{FIR_24KF, Fpu};
use hashbrown::HashMap;
use jit::abi::{Cp0Slot, JUMP_CACHE_BITS, JitState, JumpCacheEntry, jump_cache_index};
use softmmu::segment::{Segment, classify};
use softmmu::{Access, BusCtx, DeviceAction, GuestTlb, PhysMap, SoftTlb, Target, TlbEntry};

/// Entries in the guest TLB of the 24Kc (Config1.MMUSize + 1).
pub const TLB_ENTRIES: usize = 16;
/// The most TLB entries Config1.MMUSize can describe.
pub const MAX_TLB_ENTRIES: usize = 64;

/// CP0 registers that translated kernel code reads and writes inline, with
/// their places in [`Cpu`] and the masks [`Cpu::mtc0`] applies (a unit test
/// holds the two to the same behaviour). Which registers, and why: the
/// table in `frontend::cp0`.
pub const CP0_INLINE: &[Cp0Slot] = {
    const fn slot(reg: u8, sel: u8, offset: usize, write_mask: u32) -> Cp0Slot {
        Cp0Slot { reg, sel, offset: offset as i32, write_mask }
    }
    use std::mem::offset_of as at;
    &[
        slot(0, 0, at!(Cpu, cp0.index), 0),
        slot(2, 0, at!(Cpu, cp0.entry_lo0), 0x3fff_ffff),
        slot(3, 0, at!(Cpu, cp0.entry_lo1), 0x3fff_ffff),
        slot(4, 0, at!(Cpu, cp0.context), 0xff80_0000),
        slot(5, 0, at!(Cpu, cp0.page_mask), 0x1fff_e000),
        slot(6, 0, at!(Cpu, cp0.wired), 0),
        slot(7, 0, at!(Cpu, cp0.hwrena), 0xf),
        slot(8, 0, at!(Cpu, cp0.bad_vaddr), 0),
        slot(10, 0, at!(Cpu, cp0.entry_hi), 0),
        slot(11, 0, at!(Cpu, cp0.compare), 0),
        slot(12, 0, at!(Cpu, cp0.status), 0),
        slot(12, 1, at!(Cpu, cp0.int_ctl), 0x3e0),
        slot(12, 2, at!(Cpu, cp0.srs_ctl), 0),
        slot(14, 0, at!(Cpu, cp0.epc), u32::MAX),
        slot(15, 0, at!(Cpu, cp0.prid), 0),
        slot(15, 1, at!(Cpu, cp0.ebase), 0x3fff_f000),
        slot(16, 0, at!(Cpu, cp0.config0), 7),
        slot(16, 1, at!(Cpu, cp0.config1), 0),
        slot(16, 2, at!(Cpu, cp0.config2), 0),
        slot(16, 3, at!(Cpu, cp0.config3), 0),
        slot(16, 7, at!(Cpu, cp0.config7), 0),
        slot(26, 0, at!(Cpu, cp0.err_ctl), 0),
        slot(30, 0, at!(Cpu, cp0.error_epc), u32::MAX),
        slot(31, 0, at!(Cpu, cp0.desave), u32::MAX),
    ]
};

/// Cause.IP bits that devices drive (IP2..IP6); IP7 is the CP0 timer.
const DEVICE_IP: u32 = 0x7c00;

/// Which MIPS32r2 core the CPU is: QEMU's `-cpu 24Kc` or `-cpu 24Kf`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CpuModel {
    /// The 24Kc: no FPU (Config1.FP=0, Status.CU1 fixed at 0), so every
    /// floating-point instruction is Coprocessor Unusable and the kernel
    /// emulates it.
    #[default]
    Mips24Kc,
    /// The 24Kf: the 24Kc with an FPU (single, double, word and long
    /// formats; no paired single), usable once software sets Status.CU1.
    Mips24Kf,
}

impl CpuModel {
    /// Whether the core has an FPU.
    pub const fn has_fpu(self) -> bool {
        matches!(self, Self::Mips24Kf)
    }

    /// Status bits `mtc0` may change.
    pub const fn status_writable(self) -> u32 {
        if self.has_fpu() { status::WRITABLE_24KF } else { status::WRITABLE }
    }
}

/// Why the CPU wants the run loop to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopRequest {
    /// A device asked for a board reset.
    Reset,
    /// A device asked for power-off.
    PowerOff,
    /// `wait` with no interrupt that could ever wake the CPU.
    Halted,
    /// An `sdbbp` debug breakpoint.
    DebugBreakpoint(u32),
    /// An exception in user-mode emulation ([`Cpu::linux_user`]): the
    /// host handles it (see [`Cpu::user_exception`]).
    GuestException,
}

/// The bits of [`Cpu::user_pages`].
pub mod page_perm {
    /// Loads and instruction fetches may use the page (MIPS32 without
    /// RI/XI cannot forbid one without the other).
    pub const READ: u8 = jit::abi::PAGE_READ;
    /// Stores may use the page.
    pub const WRITE: u8 = jit::abi::PAGE_WRITE;
    /// The page is mapped, whatever its protection: a fault there is an
    /// access error, not a mapping error.
    pub const MAPPED: u8 = 4;
}

/// An exception recorded instead of taken, in user-mode emulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserException {
    /// The exception code.
    pub code: ExcCode,
    /// The instruction that raised it.
    pub pc: u32,
    /// Whether that instruction is in a branch delay slot.
    pub bd: bool,
    /// The faulting address, for address and TLB exceptions.
    pub bad_vaddr: Option<u32>,
    /// Caught by the host in translated code ([`Cpu::host_fault`]): `pc`
    /// is only where that code was entered, and the registers are those
    /// of an earlier exit. Enough to die of, not to handle.
    pub inexact: bool,
}

/// A MIPS32 CPU with its memory.
///
/// `repr(C)` with [`JitState`] first: helpers called from translated code
/// get a `*mut JitState` and turn it back into the `Cpu` (see `helpers.rs`).
#[repr(C)]
#[derive(Debug)]
pub struct Cpu {
    /// The state translated code reads and writes.
    pub s: JitState,
    /// Coprocessor 0.
    pub cp0: Cp0,
    /// The LL bit: set by `ll`, cleared by `eret`; `sc` stores only when set.
    pub llbit: bool,
    /// The word the last `ll` read: `sc` stores only if memory still holds
    /// it (see [`Cpu::store_conditional`]).
    pub llval: u32,
    /// Guest byte order.
    pub big_endian: bool,
    /// Instructions retired before the current slice (see [`Cpu::icount`]).
    pub retired: u64,
    /// The virtual clock.
    pub clock: Clock,
    /// Count minus what the clock alone would give.
    pub count_base: u32,
    /// Count when the timer was last checked against Compare.
    pub timer_count: u32,
    /// The guest executed `wait` and sleeps until an interrupt.
    pub waiting: bool,
    /// Exceptions taken, by ExcCode (TLB refills are counted apart: 2 and
    /// 3 count only TLB Invalid exceptions).
    pub exceptions: [u64; 32],
    /// TLB refill exceptions taken.
    pub tlb_refills: u64,
    /// The guest TLB.
    pub tlb: GuestTlb,
    /// Generation of the user-mode jump cache: bumped by everything that
    /// may remap user code (TLB writes, ASID changes), which empties it.
    /// The kernel's jump cache holds only unmapped code, so it never needs
    /// this.
    pub user_jump_generation: u64,
    /// State of the generator behind `tlbwr`'s random index.
    pub random_seed: u32,
    /// Count's value while Cause.DC stops it.
    pub count_frozen: Option<u32>,
    /// Budget the current slice started with.
    pub slice: i32,
    /// Budget taken away from the slice by a helper that wants the block
    /// chain to return to the dispatcher soon (added back there).
    pub deferred_budget: i32,
    /// Soft-TLBs for kernel (0) and user (1) mode: a mode switch (every
    /// exception from user mode) swaps pointers instead of flushing.
    pub soft_tlbs: [SoftTlb; 2],
    /// Indices of soft-TLB entries filled from the guest TLB (mapped
    /// segments), per soft-TLB: an ASID change drops only these.
    pub mapped_fills: [Vec<u16>; 2],
    /// Jump caches for kernel (0) and user (1) mode; `s.jump_cache` points
    /// at the one for the current mode. Filled by the dispatcher.
    pub jump_caches: [Box<[JumpCacheEntry]>; 2],
    /// Guest physical memory.
    pub phys: PhysMap,
    /// Physical pages (number = address >> 12) that hold decoded blocks,
    /// each with a map of its 32-byte chunks that do: a store elsewhere in
    /// the page (data next to code) does not drop the page's blocks.
    pub code_pages: HashMap<u32, u128>,
    /// Code written since the dispatcher last looked, as (physical page,
    /// 32-byte chunks): only the blocks on those chunks go, so patching one
    /// instruction (static keys, ftrace) spares its neighbours. A whole page
    /// is `u128::MAX`.
    pub dirty_code: Vec<(u32, u128)>,
    /// Set when the run loop must stop.
    pub stop: Option<StopRequest>,
    /// Which core this is (24Kc or 24Kf).
    pub model: CpuModel,
    /// The FPU registers (used only when `model` has an FPU).
    pub fpu: Fpu,
    /// User-mode emulation (`mipsjit user`): kuseg maps 1:1 onto physical
    /// memory, and exceptions stop the run loop (with
    /// [`StopRequest::GuestException`]) instead of vectoring.
    pub linux_user: bool,
    /// The last exception in user-mode emulation.
    pub user_exception: Option<UserException>,
    /// In user-mode emulation, what the guest may do with each kuseg page
    /// (a byte per page, [`page_perm`] bits), as its mappings say: the
    /// slow-path walk checks it, so the soft-TLB only ever holds allowed
    /// pages. Empty: every page may be read and written. Allocated once:
    /// translated code that checks permissions holds its address.
    pub user_pages: Box<[u8]>,
    /// The UserLocal register (`rdhwr $29`), the thread pointer that
    /// `set_thread_area` sets.
    pub user_local: u32,
    /// RAM seen through kseg0, as the JIT sees it (set by `Machine::new`):
    /// kernel-mode loads and stores there skip the soft-TLB, which a
    /// kernel's large working set would otherwise keep refilling.
    pub kseg0_ram: Option<jit::Kseg0Ram>,
    /// In user-mode emulation, the host address of guest address 0 when
    /// all of kuseg is one host mapping (set by `Machine::new`, as the
    /// JIT's `flat_user_base`): the interpreter's loads and stores then
    /// check [`user_pages`](Self::user_pages) and go straight there, as
    /// translated code does, instead of through the soft-TLB, which a
    /// program's working set of megabytes keeps refilling.
    pub user_ram: Option<usize>,
    /// Set by a load or store outside kseg0 RAM: how the interpreter
    /// profiles which instructions need the soft-TLB inline once compiled
    /// (see `frontend::GuestBlock::mapped_access`).
    pub outside_kseg0: bool,
    /// Accesses to mapped memory by translated instructions compiled
    /// without the soft-TLB probe, since the last block was sent back to
    /// be profiled again (see [`Cpu::uninlined_access`]).
    pub uninlined: u32,
}

impl Cpu {
    /// A 24Kc at reset with the given memory.
    pub fn new(phys: PhysMap, big_endian: bool) -> Self {
        Self::with_model(phys, big_endian, CpuModel::default())
    }

    /// Gives the TLB `n` entries (1..=64; Config1.MMUSize follows), as a
    /// CPU option: more entries mean fewer TLB refills for big working sets.
    pub fn set_tlb_entries(&mut self, n: usize) {
        let n = n.clamp(1, MAX_TLB_ENTRIES);
        self.tlb = GuestTlb::new(n);
        self.cp0.config1 = (self.cp0.config1 & !(0x3f << 25)) | ((n as u32 - 1) << 25);
        self.cp0.random = n as u32 - 1;
        self.flush_mapped();
        self.remapped();
    }

    /// A CPU of the given model at reset with the given memory.
    pub fn with_model(phys: PhysMap, big_endian: bool, model: CpuModel) -> Self {
        let mut cpu = Self {
            s: JitState::default(),
            cp0: Cp0::reset(model, big_endian),
            llbit: false,
            llval: 0,
            big_endian,
            retired: 0,
            clock: Clock::new(TimeMode::Deterministic),
            count_base: 0,
            timer_count: 0,
            waiting: false,
            exceptions: [0; 32],
            tlb_refills: 0,
            tlb: GuestTlb::new(TLB_ENTRIES),
            user_jump_generation: 1,
            random_seed: 1,
            count_frozen: None,
            slice: 0,
            deferred_budget: 0,
            soft_tlbs: Default::default(),
            mapped_fills: Default::default(),
            jump_caches: std::array::from_fn(|_| vec![JumpCacheEntry::default(); 1 << JUMP_CACHE_BITS].into()),
            phys,
            code_pages: HashMap::new(),
            dirty_code: Vec::new(),
            stop: None,
            model,
            fpu: Fpu::new(if model.has_fpu() { FIR_24KF } else { 0 }),
            linux_user: false,
            user_exception: None,
            user_pages: Box::new([]),
            user_local: 0,
            kseg0_ram: None,
            user_ram: None,
            outside_kseg0: false,
            uninlined: 0,
        };
        cpu.s.pc = 0xbfc0_0000;
        cpu.attach_pointers();
        cpu
    }

    /// Points the JIT-visible state at this CPU's soft-TLB and at the jump
    /// cache of the current mode (after a move, or a mode change).
    pub fn attach_pointers(&mut self) {
        self.s.soft_tlb = self.soft_tlbs[self.mode()].as_ptr();
        self.s.jump_cache = self.jump_caches[self.cp0.user_mode() as usize].as_ptr();
        self.s.jump_generation = if self.cp0.user_mode() { self.user_jump_generation << 32 } else { 0 };
    }

    /// Index of the current mode's soft-TLB and jump cache: 0 kernel, 1 user.
    pub fn mode(&self) -> usize {
        self.cp0.user_mode() as usize
    }

    /// Instructions retired so far, plus instruction fetches that faulted
    /// (each costs one step). Exact at every instruction: a block is
    /// charged when it starts, and `s.pending` says how much of it has not
    /// retired yet.
    pub fn icount(&self) -> u64 {
        self.retired + (self.slice - self.s.budget - self.deferred_budget - self.s.pending) as u64
    }

    /// Makes the current block chain return to the dispatcher at the next
    /// block boundary, without losing budget.
    pub fn request_exit(&mut self) {
        if self.s.budget > 0 {
            self.deferred_budget += self.s.budget;
            self.s.budget = 0;
        }
    }

    /// CP0 Count: it follows the virtual clock at 166.67 MHz, from wherever
    /// software last set it; Cause.DC freezes it.
    pub fn count(&self) -> u32 {
        self.count_frozen.unwrap_or_else(|| self.clock_count().wrapping_add(self.count_base))
    }

    fn clock_count(&self) -> u32 {
        (self.now_ns() / NS_PER_COUNT) as u32
    }

    fn set_count(&mut self, v: u32) {
        match &mut self.count_frozen {
            Some(f) => *f = v,
            None => self.count_base = v.wrapping_sub(self.clock_count()),
        }
    }

    /// Raises the timer interrupt (Cause.TI and IP7) if Count passed
    /// Compare since the last check. Called whenever software could see
    /// the difference: reads of Cause, and between blocks.
    pub fn update_timer(&mut self) {
        let (old, new) = (self.timer_count, self.count());
        if self.cp0.compare.wrapping_sub(old).wrapping_sub(1) < new.wrapping_sub(old) {
            self.cp0.cause |= cause::TI | (1 << 15);
        }
        self.timer_count = new;
    }

    /// Nanoseconds of virtual time until Count reaches Compare (a full
    /// wrap if it is there now).
    pub fn ns_to_timer(&self) -> u64 {
        let counts = match self.cp0.compare.wrapping_sub(self.count()) {
            0 => 1u64 << 32,
            d => d as u64,
        };
        counts * NS_PER_COUNT
    }

    /// Copies the device interrupt lines into Cause.IP2..IP6, and makes
    /// translated code return to the dispatcher if one is now pending.
    pub fn sync_irq_lines(&mut self) {
        let lines = (self.phys.irq_lines() as u32) << 8 & DEVICE_IP;
        self.cp0.cause = (self.cp0.cause & !DEVICE_IP) | lines;
        if self.cp0.interrupt_pending() {
            self.request_exit();
        }
    }

    /// Takes exception `e` for the instruction at `pc_bd` (bit 0: in a delay
    /// slot) and moves `pc` to the vector.
    pub fn raise(&mut self, e: Exception, pc_bd: u32) {
        self.raise_at(e, pc_bd & !3, pc_bd & 1 != 0);
    }

    /// Takes exception `e` for the instruction at `pc` (`bd`: in a delay
    /// slot). `pc` may be misaligned: an instruction fetch from a bad
    /// address reports that address in EPC, as QEMU and the 24K do.
    pub fn raise_at(&mut self, e: Exception, pc: u32, bd: bool) {
        if trace_exceptions() {
            eprintln!(
                "mipsjit: exception {:?} at pc {pc:#010x}{} badvaddr {:x?} status {:#010x} icount {}",
                e.code,
                if bd { " (delay slot)" } else { "" },
                e.bad_vaddr,
                self.cp0.status,
                self.icount()
            );
        }
        if e.refill {
            self.tlb_refills += 1;
        } else {
            self.exceptions[e.code as usize & 31] += 1;
        }
        if self.linux_user {
            self.user_exception = Some(UserException { code: e.code, pc, bd, bad_vaddr: e.bad_vaddr, inexact: false });
            self.s.pc = pc;
            self.stop_with(StopRequest::GuestException);
            return;
        }
        let exl = self.cp0.status & status::EXL != 0;
        let was_user = self.cp0.user_mode();
        if !exl {
            self.cp0.epc = if bd { pc.wrapping_sub(4) } else { pc };
            self.cp0.cause = (self.cp0.cause & !cause::BD) | if bd { cause::BD } else { 0 };
        }
        if let Some(addr) = e.bad_vaddr {
            self.cp0.bad_vaddr = addr;
            if matches!(e.code, ExcCode::TlbL | ExcCode::TlbS | ExcCode::Mod) {
                self.cp0.context = (self.cp0.context & 0xff80_0000) | ((addr >> 9) & 0x007f_fff0);
                self.cp0.entry_hi = (addr & 0xffff_e000) | (self.cp0.entry_hi & 0xff);
            }
        }
        self.cp0.cause = (self.cp0.cause & !cause::EXC_MASK) | ((e.code as u32) << cause::EXC_SHIFT);
        if e.code == ExcCode::CpU {
            // CE is UNPREDICTABLE for other exceptions; like QEMU, keep it.
            self.cp0.cause = (self.cp0.cause & !(3 << cause::CE_SHIFT)) | (e.coprocessor << cause::CE_SHIFT);
        }
        self.cp0.status |= status::EXL;
        let base = if self.cp0.status & status::BEV != 0 { 0xbfc0_0200 } else { self.cp0.ebase & 0xffff_f000 };
        let offset = if e.refill && !exl {
            0
        } else if e.code == ExcCode::Int && self.cp0.cause & cause::IV != 0 {
            0x200
        } else {
            0x180
        };
        self.s.pc = base.wrapping_add(offset);
        self.waiting = false;
        if was_user {
            self.mode_changed();
        }
    }

    /// Something changed the effective privilege mode: switch soft-TLB and
    /// jump cache.
    pub fn mode_changed(&mut self) {
        self.attach_pointers();
        self.request_exit();
    }

    fn check_user_mode_change<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        let before = (self.cp0.user_mode(), self.cp0.status & status::ERL);
        let r = f(self);
        let after = (self.cp0.user_mode(), self.cp0.status & status::ERL);
        if after.1 != before.1 {
            // ERL unmaps kuseg: kernel-mode fills of kuseg are stale.
            self.soft_tlbs[0].flush();
            self.mapped_fills[0].clear();
        }
        if after != before {
            self.mode_changed();
        }
        r
    }

    /// `eret`: return from exception or error level, clearing the LL bit.
    pub fn eret(&mut self) {
        self.check_user_mode_change(|cpu| {
            if cpu.cp0.status & status::ERL != 0 {
                cpu.s.pc = cpu.cp0.error_epc;
                cpu.cp0.status &= !status::ERL;
            } else {
                cpu.s.pc = cpu.cp0.epc;
                cpu.cp0.status &= !status::EXL;
            }
        });
        self.llbit = false;
    }

    /// Writes Status (mtc0, di, ei), honouring its writable mask.
    pub fn set_status(&mut self, value: u32) {
        self.check_user_mode_change(|cpu| {
            let mask = cpu.model.status_writable();
            cpu.cp0.status = (cpu.cp0.status & !mask) | (value & mask);
        });
        self.request_exit();
    }

    /// `mfc0 rt, reg, sel`. A register this CPU does not have reads as 0,
    /// as on the 24K.
    pub fn mfc0(&mut self, reg: usize, sel: u32) -> u32 {
        if (reg, sel) == (13, 0) {
            self.update_timer();
        }
        let c = &self.cp0;
        match (reg, sel) {
            (0, 0) => c.index,
            (1, 0) => self.random(),
            (2, 0) => c.entry_lo0,
            (3, 0) => c.entry_lo1,
            (4, 0) => c.context,
            (5, 0) => c.page_mask,
            (6, 0) => c.wired,
            (7, 0) => c.hwrena,
            (8, 0) => c.bad_vaddr,
            (9, 0) => self.count(),
            (10, 0) => c.entry_hi,
            (11, 0) => c.compare,
            (12, 0) => c.status,
            (12, 1) => c.int_ctl,
            (12, 2) => c.srs_ctl,
            (13, 0) => c.cause, // see `mfc0_cause` for the timer
            (14, 0) => c.epc,
            (15, 0) => c.prid,
            (15, 1) => c.ebase,
            (16, 0) => c.config0,
            (16, 1) => c.config1,
            (16, 2) => c.config2,
            (16, 3) => c.config3,
            (16, 7) => c.config7,
            (17, 0) => c.lladdr >> 4,
            (18, s) => c.watch_lo[s as usize],
            (19, s) => c.watch_hi[s as usize],
            (23, 0) => (1 << 25) | (1 << 15),
            (26, 0) => c.err_ctl,
            (30, 0) => c.error_epc,
            (31, 0) => c.desave,
            _ => 0,
        }
    }

    /// `mtc0 rt, reg, sel`. Writes to read-only or absent registers are ignored.
    pub fn mtc0(&mut self, reg: usize, sel: u32, v: u32) {
        let index_mask = self.tlb.len().next_power_of_two() as u32 - 1;
        let c = &mut self.cp0;
        match (reg, sel) {
            (0, 0) => c.index = (c.index & 0x8000_0000) | (v & index_mask),
            (2, 0) => c.entry_lo0 = v & 0x3fff_ffff,
            (3, 0) => c.entry_lo1 = v & 0x3fff_ffff,
            (4, 0) => c.context = (c.context & 0x007f_fff0) | (v & 0xff80_0000),
            (5, 0) => c.page_mask = v & 0x1fff_e000,
            (6, 0) => c.wired = v & index_mask,
            (7, 0) => c.hwrena = v & 0xf,
            (10, 0) => self.set_entry_hi(v),
            (11, 0) => {
                self.update_timer();
                let c = &mut self.cp0;
                c.compare = v;
                c.cause &= !(cause::TI | (1 << 15));
                self.request_exit();
            }
            (12, 0) => self.set_status(v),
            (12, 1) => c.int_ctl = (c.int_ctl & !0x3e0) | (v & 0x3e0),
            (9, 0) => self.set_count(v),
            (13, 0) => {
                let count = self.count();
                let c = &mut self.cp0;
                c.cause = (c.cause & !cause::WRITABLE) | (v & cause::WRITABLE);
                let stopped = c.cause & cause::DC != 0;
                if stopped != self.count_frozen.is_some() {
                    self.count_frozen = None;
                    self.set_count(count);
                    if stopped {
                        self.count_frozen = Some(count);
                    }
                }
                self.request_exit();
            }
            (14, 0) => c.epc = v,
            (15, 1) => c.ebase = (c.ebase & 0xc000_0000) | (v & 0x3fff_f000),
            (16, 0) => c.config0 = (c.config0 & !7) | (v & 7),
            (18, s) => c.watch_lo[s as usize] = v & !7,
            (19, s) => c.watch_hi[s as usize] = (c.watch_hi[s as usize] & 0x8000_0000) | (v & 0x40ff_0ff8),
            (30, 0) => c.error_epc = v,
            (31, 0) => c.desave = v,
            _ => {}
        }
    }

    /// Guest virtual → guest physical for an access of `access` kind.
    pub fn translate(&self, addr: u32, access: Access) -> Result<u64, Exception> {
        self.walk(addr, access).map(|(pa, _)| pa)
    }

    /// The slow-path walk: segment rules, then the guest TLB. Returns the
    /// physical address and, for mapped pages, whether stores may go there
    /// without a Modified exception (`None` for unmapped segments).
    fn walk(&self, addr: u32, access: Access) -> Result<(u64, Option<bool>), Exception> {
        let user = self.cp0.user_mode();
        match classify(addr, user) {
            Segment::Kseg0(pa) | Segment::Kseg1(pa) => Ok((pa as u64, None)),
            Segment::AddressError => Err(Exception::at(Self::ade(access), addr)),
            // Error level unmaps kuseg (MIPS32 PRA 4.3).
            Segment::Mapped if addr < 0x8000_0000 && self.cp0.status & status::ERL != 0 => Ok((addr as u64, None)),
            // User-mode emulation: kuseg is physical memory, as the
            // guest's mappings allow.
            Segment::Mapped if self.linux_user => self.user_walk(addr, access),
            Segment::Mapped => {
                let store = access == Access::Store;
                let code = if store { ExcCode::TlbS } else { ExcCode::TlbL };
                match self.tlb.lookup(addr, self.cp0.entry_hi as u8) {
                    None => Err(Exception { refill: true, ..Exception::at(code, addr) }),
                    Some(h) if !h.valid => Err(Exception::at(code, addr)),
                    Some(h) if store && !h.dirty => Err(Exception::at(ExcCode::Mod, addr)),
                    Some(h) => Ok((h.pa, Some(h.dirty))),
                }
            }
        }
    }

    /// [`walk`](Self::walk) in user-mode emulation: `addr` itself, if
    /// [`user_pages`](Self::user_pages) allows the access. Faults as
    /// Linux on MIPS sees them: a TLB miss where nothing is mapped, a
    /// TLB Modified exception for a store to a mapped read-only page.
    fn user_walk(&self, addr: u32, access: Access) -> Result<(u64, Option<bool>), Exception> {
        let Some(&p) = self.user_pages.get((addr >> 12) as usize) else {
            return Ok((addr as u64, Some(true)));
        };
        let store = access == Access::Store;
        if p & if store { page_perm::WRITE } else { page_perm::READ } != 0 {
            return Ok((addr as u64, Some(p & page_perm::WRITE != 0)));
        }
        let code = match (store, p & page_perm::MAPPED != 0) {
            (true, true) => ExcCode::Mod,
            (true, false) => ExcCode::TlbS,
            (false, _) => ExcCode::TlbL,
        };
        Err(Exception::at(code, addr))
    }

    /// Fills the current mode's soft-TLB for `addr`.
    fn fill_soft_tlb(&mut self, addr: u32, host_page: *mut u8, writable: bool, mapped: bool) {
        let m = self.mode();
        self.soft_tlbs[m].fill(addr, host_page, writable);
        // Past one per entry the list says nothing more: `flush_mapped`
        // then flushes the whole soft-TLB, so it stops growing there.
        if mapped && self.mapped_fills[m].len() < softmmu::SOFT_TLB_SIZE {
            self.mapped_fills[m].push(softmmu::soft_tlb::index(addr) as u16);
        }
    }

    /// User code may be mapped differently now: empty the user jump cache.
    fn remapped(&mut self) {
        self.user_jump_generation = (self.user_jump_generation + 1) & 0xffff_ffff;
        if self.user_jump_generation == 0 {
            // After 2^32 generations, old tags could match again.
            self.jump_caches[1].fill(JumpCacheEntry::default());
            self.user_jump_generation = 1;
        }
        self.attach_pointers();
    }

    /// Drops every soft-TLB entry that came from the guest TLB (an ASID
    /// change, or a TLB write too big to track page by page).
    pub fn flush_mapped(&mut self) {
        for m in 0..2 {
            let fills = std::mem::take(&mut self.mapped_fills[m]);
            if fills.len() >= softmmu::SOFT_TLB_SIZE {
                self.soft_tlbs[m].flush();
            } else {
                for i in fills {
                    self.soft_tlbs[m].invalidate_index(i as usize);
                }
            }
        }
    }

    /// Drops soft-TLB entries for the pages a guest TLB entry covers.
    fn forget_tlb_entry(&mut self, e: TlbEntry) {
        self.remapped();
        let (lo, hi) = e.range();
        if hi - lo >= 64 * 4096 {
            self.flush_mapped();
            return;
        }
        for page in (lo..=hi).step_by(4096) {
            for t in &mut self.soft_tlbs {
                t.invalidate_page(page);
            }
        }
    }

    /// Writes EntryHi; a new ASID selects another address space.
    pub fn set_entry_hi(&mut self, v: u32) {
        let old = self.cp0.entry_hi;
        self.cp0.entry_hi = v & 0xffff_e0ff;
        if old as u8 != v as u8 {
            self.flush_mapped();
            self.remapped();
        }
    }

    /// The Random register: an index between Wired and the last entry.
    pub fn random(&self) -> u32 {
        let (wired, n) = (self.cp0.wired, self.tlb.len() as u32);
        if wired >= n { n - 1 } else { wired + self.random_seed % (n - wired) }
    }

    /// `tlbwi` (`random == false`) or `tlbwr`.
    pub fn tlb_write(&mut self, random: bool) {
        let i = if random {
            let i = self.random();
            // Linear congruential steps: deterministic, and never the same
            // index twice in a row when there is a choice (as QEMU does).
            if (self.tlb.len() as u32).saturating_sub(self.cp0.wired) > 1 {
                while self.random() == i {
                    self.random_seed = self.random_seed.wrapping_mul(1_103_515_245).wrapping_add(12345) >> 1;
                }
            }
            i
        } else {
            self.cp0.index & 0x7fff_ffff
        };
        let c = &self.cp0;
        let (pm, hi, lo0, lo1) = (c.page_mask, c.entry_hi, c.entry_lo0, c.entry_lo1);
        if random {
            // The evicted entry usually lives on as a shadow: its
            // translations stay valid (see `softmmu::guest_tlb`).
            if let Some(old) = self.tlb.write_random(i as usize, pm, hi, lo0, lo1) {
                self.forget_tlb_entry(old);
            }
        } else {
            let old = self.tlb.write(i as usize, pm, hi, lo0, lo1);
            self.forget_tlb_entry(old);
            if self.tlb.drop_shadows() {
                self.flush_mapped();
            }
        }
        let new = self.tlb.entry(i as usize);
        self.forget_tlb_entry(new);
    }

    /// `tlbr`: loads EntryHi, EntryLo0/1 and PageMask from entry Index.
    pub fn tlb_read(&mut self) {
        let e = self.tlb.entry((self.cp0.index & 0x7fff_ffff) as usize);
        let g = e.g as u32;
        self.cp0.page_mask = e.page_mask;
        self.cp0.entry_lo0 = e.lo0 | g;
        self.cp0.entry_lo1 = e.lo1 | g;
        self.set_entry_hi(e.entry_hi);
    }

    /// `tlbp`: Index = the matching entry, or the P bit set on a miss.
    pub fn tlb_probe(&mut self) {
        match self.tlb.probe(self.cp0.entry_hi) {
            Some(i) => self.cp0.index = i as u32,
            None => self.cp0.index |= 0x8000_0000,
        }
    }

    fn ade(access: Access) -> ExcCode {
        if access == Access::Store { ExcCode::AdES } else { ExcCode::AdEL }
    }

    /// Fetches the instruction word at `pc` (no soft-TLB: blocks are decoded once).
    pub fn fetch(&self, pc: u32) -> Result<u32, Exception> {
        if pc & 3 != 0 {
            return Err(Exception::at(ExcCode::AdEL, pc));
        }
        let pa = self.translate(pc, Access::Fetch)?;
        self.fetch_phys(pa)
    }

    /// Fetches the instruction word at physical address `pa`.
    pub fn fetch_phys(&self, pa: u64) -> Result<u32, Exception> {
        match self.phys.lookup(pa) {
            Target::Ram { host_page, .. } => {
                let off = (pa & 0xfff) as usize;
                // SAFETY: `host_page` is the start of a 4 KiB page of guest RAM
                // and `off + 4 <= 4096` (aligned word within the page).
                let raw = unsafe { std::ptr::read_unaligned(host_page.add(off) as *const u32) };
                Ok(if self.big_endian { u32::from_be(raw) } else { u32::from_le(raw) })
            }
            _ => Err(Exception::new(ExcCode::Ibe)),
        }
    }

    /// Loads `size` (1, 2, 4) bytes at `addr`, zero-extended; raises nothing
    /// itself: the caller raises the returned exception.
    pub fn load(&mut self, addr: u32, size: u32) -> Result<u32, Exception> {
        match self.load_fast(addr, size) {
            Some(v) => Ok(v),
            None => self.load_slow(addr, size),
        }
    }

    /// [`load`](Self::load) when it is a plain RAM read (kseg0 RAM, or a
    /// soft-TLB hit), which can raise nothing; `None` otherwise.
    #[inline(always)]
    pub fn load_fast(&mut self, addr: u32, size: u32) -> Option<u32> {
        if let Some(host) = self.kseg0_host(addr, size) {
            // SAFETY: `kseg0_host` returns addresses inside the RAM region,
            // aligned for `size`.
            return Some(unsafe { self.read_host(host, size) });
        }
        self.outside_kseg0 = true;
        if let Some(host) = self.user_host(addr, size, page_perm::READ) {
            // SAFETY: `user_host` returns addresses inside the kuseg mapping,
            // aligned for `size`, on a page the guest may read; the host
            // protects guest pages no tighter than `user_pages` (linux_user's
            // `mm` keeps the two in step), as the soft-TLB path relies on too.
            return Some(unsafe { self.read_host(host, size) });
        }
        let host = self.soft_tlbs[self.mode()].probe_read(addr, size)?;
        // SAFETY: a soft-TLB hit means `host` points into a guest RAM page
        // filled by `load_slow`, and the access is aligned within it.
        Some(unsafe { self.read_host(host, size) })
    }

    /// The host address of an aligned access to kuseg in flat user-mode
    /// memory ([`user_ram`](Self::user_ram)) that [`user_pages`](Self::user_pages)
    /// allows (`perm`: a [`page_perm`] bit); `None` sends it through the
    /// slow path, which faults or fills the soft-TLB as before.
    #[inline(always)]
    fn user_host(&self, addr: u32, size: u32, perm: u8) -> Option<usize> {
        let base = self.user_ram?;
        if addr & (0x8000_0000 | (size - 1)) != 0 {
            return None;
        }
        if !self.user_pages.is_empty() && self.user_pages.get((addr >> 12) as usize)? & perm == 0 {
            return None;
        }
        Some(base + addr as usize)
    }

    /// The host address of an aligned kernel-mode access to kseg0 RAM, the
    /// same window the JIT's fast path uses; `None` sends the access
    /// through the soft-TLB (other segments, user mode, misalignment).
    #[inline(always)]
    fn kseg0_host(&self, addr: u32, size: u32) -> Option<usize> {
        let k = self.kseg0_ram?;
        let off = addr ^ 0x8000_0000;
        if off & (!(k.len as u32 - 1) | (size - 1)) != 0 || self.cp0.user_mode() {
            return None;
        }
        Some(k.base + off as usize)
    }

    /// # Safety
    /// `host` must point at `size` readable bytes of guest RAM.
    #[inline(always)]
    unsafe fn read_host(&self, host: usize, size: u32) -> u32 {
        let p = host as *const u8;
        // SAFETY: guaranteed by the caller.
        unsafe {
            match (size, self.big_endian) {
                (1, _) => *p as u32,
                (2, false) => u16::from_le(std::ptr::read_unaligned(p as *const u16)) as u32,
                (2, true) => u16::from_be(std::ptr::read_unaligned(p as *const u16)) as u32,
                (_, false) => u32::from_le(std::ptr::read_unaligned(p as *const u32)),
                (_, true) => u32::from_be(std::ptr::read_unaligned(p as *const u32)),
            }
        }
    }

    /// # Safety
    /// `host` must point at `size` writable bytes of guest RAM.
    #[inline(always)]
    unsafe fn write_host(&self, host: usize, size: u32, v: u32) {
        let p = host as *mut u8;
        // SAFETY: guaranteed by the caller.
        unsafe {
            match (size, self.big_endian) {
                (1, _) => *p = v as u8,
                (2, false) => std::ptr::write_unaligned(p as *mut u16, (v as u16).to_le()),
                (2, true) => std::ptr::write_unaligned(p as *mut u16, (v as u16).to_be()),
                (_, false) => std::ptr::write_unaligned(p as *mut u32, v.to_le()),
                (_, true) => std::ptr::write_unaligned(p as *mut u32, v.to_be()),
            }
        }
    }

    /// The load slow path: alignment, segments, then RAM (filling the
    /// soft-TLB) or a device.
    pub fn load_slow(&mut self, addr: u32, size: u32) -> Result<u32, Exception> {
        if addr & (size - 1) != 0 {
            return Err(Exception::at(ExcCode::AdEL, addr));
        }
        let (pa, mapped) = self.walk(addr, Access::Load)?;
        match self.phys.lookup(pa) {
            Target::Ram { host_page, writable } => {
                let code = self.code_pages.contains_key(&((pa >> 12) as u32));
                let dirty = mapped.unwrap_or(true);
                self.fill_soft_tlb(addr, host_page, writable && !code && dirty, mapped.is_some());
                let host = host_page as usize + (pa & 0xfff) as usize;
                // SAFETY: `host_page` is a RAM page and the aligned access of
                // `size` bytes at offset `pa & 0xfff` stays inside it.
                Ok(unsafe { self.read_host(host, size) })
            }
            Target::Mmio { device, offset } => {
                let mut ctx = self.bus_ctx();
                let v = self.phys.mmio_read(device, offset, size, &mut ctx) as u32;
                self.after_mmio(ctx);
                Ok(v)
            }
            // Nothing decodes the address: a bus error, as on the Malta
            // for addresses outside the system controller's windows.
            Target::Unassigned => Err(Exception::new(ExcCode::Dbe)),
        }
    }

    /// Stores the low `size` bytes of `v` at `addr`.
    pub fn store(&mut self, addr: u32, size: u32, v: u32) -> Result<(), Exception> {
        if self.store_fast(addr, size, v) { Ok(()) } else { self.store_slow(addr, size, v) }
    }

    /// [`store`](Self::store) when it is a plain RAM write (kseg0 RAM or a
    /// soft-TLB hit, on a page without translated code), which can raise
    /// nothing; returns whether it did it.
    #[inline(always)]
    pub fn store_fast(&mut self, addr: u32, size: u32, v: u32) -> bool {
        if let Some((host, k)) = self.kseg0_host(addr, size).zip(self.kseg0_ram) {
            let page = (addr ^ 0x8000_0000) as usize >> 12;
            // SAFETY: the code map has a byte for every page of the region,
            // and `page` is in it since `kseg0_host` accepted the address.
            if unsafe { *(k.code_map as *const u8).add(page) } == 0 {
                // SAFETY: as in `load_fast`; the page holds no translated code.
                unsafe { self.write_host(host, size, v) };
                return true;
            }
        } else {
            self.outside_kseg0 = true;
        }
        if let Some(host) = self.user_host(addr, size, page_perm::WRITE) {
            // SAFETY: as in `load_fast`, on a page the guest may write. The
            // store does not look for decoded code on the page: in user mode
            // the guest flushes the instruction cache after writing code
            // (see `jit::GuestConfig::flat_user_base`), in both tiers.
            unsafe { self.write_host(host, size, v) };
            return true;
        }
        if let Some(host) = self.soft_tlbs[self.mode()].probe_write(addr, size) {
            // SAFETY: a write hit means `host` is in a writable RAM page that
            // holds no translated code, and the access is aligned.
            unsafe { self.write_host(host, size, v) };
            return true;
        }
        false
    }

    /// The store slow path; also where self-modifying code is noticed.
    pub fn store_slow(&mut self, addr: u32, size: u32, v: u32) -> Result<(), Exception> {
        self.store_slow_with(addr, size, v, |cpu, host| {
            // SAFETY: as in `load_slow`; the page is writable RAM.
            unsafe { cpu.write_host(host, size, v) };
            true
        })
        .map(|_| ())
    }

    /// `sc`'s store of `v` at `addr` (the LL bit set): whether it was made.
    /// In user-mode emulation other processes may share the word (a
    /// MAP_SHARED mapping across `fork`) and run at the same time, so the
    /// store is a host compare-and-swap with `expected`, the value `ll`
    /// read: it fails if the word changed since (as QEMU does; a change
    /// and back passes). Otherwise there is one CPU: a plain store.
    pub fn store_conditional(&mut self, addr: u32, expected: u32, v: u32) -> Result<bool, Exception> {
        if !self.linux_user {
            return self.store(addr, 4, v).map(|_| true);
        }
        if let Some(host) = self.soft_tlbs[self.mode()].probe_write(addr, 4) {
            // SAFETY: a write hit: an aligned word of writable RAM.
            return Ok(unsafe { self.swap_host(host, expected, v) });
        }
        self.store_slow_with(addr, 4, v, |cpu, host| {
            // SAFETY: as in `load_slow`; the page is writable RAM and the
            // word aligned.
            unsafe { cpu.swap_host(host, expected, v) }
        })
    }

    /// Replaces the guest word at `host` with `v` if it holds `expected`,
    /// atomically; whether it did.
    ///
    /// # Safety
    /// `host` is an aligned, writable word of guest RAM.
    unsafe fn swap_host(&self, host: usize, expected: u32, v: u32) -> bool {
        let (expected, v) = if self.big_endian { (expected.to_be(), v.to_be()) } else { (expected.to_le(), v.to_le()) };
        // SAFETY: guaranteed by the caller; guest RAM is only ever accessed
        // through raw pointers, and this access is atomic.
        let word = unsafe { std::sync::atomic::AtomicU32::from_ptr(host as *mut u32) };
        word.compare_exchange(expected, v, std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst)
            .is_ok()
    }

    /// [`store_slow`](Self::store_slow), the RAM write done by `write`
    /// (given the host address; it says whether it wrote): whether it did.
    fn store_slow_with(
        &mut self,
        addr: u32,
        size: u32,
        v: u32,
        write: impl FnOnce(&Self, usize) -> bool,
    ) -> Result<bool, Exception> {
        if addr & (size - 1) != 0 {
            return Err(Exception::at(ExcCode::AdES, addr));
        }
        let (pa, mapped) = self.walk(addr, Access::Store)?;
        let mapped = mapped.is_some();
        match self.phys.lookup(pa) {
            Target::Ram { host_page, writable } => {
                if !writable {
                    return Ok(true); // ROM: writes are ignored
                }
                let page = (pa >> 12) as u32;
                let written = code_chunks(addr, addr + size - 1);
                match self.code_pages.get(&page) {
                    Some(&chunks) if chunks & written != 0 => {
                        // Decoded code was written: the dispatcher drops the
                        // blocks on those chunks before running anything else
                        // (the rest of this block may run stale, as on a CPU
                        // whose I-cache is not coherent with stores). The page
                        // stays protected while other chunks hold code.
                        let left = chunks & !written;
                        self.dirty_code.push((page, chunks & written));
                        self.request_exit();
                        if left == 0 {
                            self.code_pages.remove(&page);
                            self.phys.set_code_page(pa, false);
                            self.fill_soft_tlb(addr, host_page, true, mapped);
                        } else {
                            self.code_pages.insert(page, left);
                        }
                    }
                    // Data beside code: store, and keep the page protected.
                    Some(_) => {}
                    None => self.fill_soft_tlb(addr, host_page, true, mapped),
                }
                let host = host_page as usize + (pa & 0xfff) as usize;
                return Ok(write(self, host));
            }
            Target::Mmio { device, offset } => {
                let mut ctx = self.bus_ctx();
                self.phys.mmio_write(device, offset, size, v as u64, &mut ctx);
                self.after_mmio(ctx);
            }
            Target::Unassigned => return Err(Exception::new(ExcCode::Dbe)),
        }
        Ok(true)
    }

    /// The bus context for a device access now.
    pub fn bus_ctx(&self) -> BusCtx {
        BusCtx { now_ns: self.now_ns(), ..BusCtx::default() }
    }

    /// The virtual clock in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        self.clock.now(self.icount())
    }

    /// Carries out what a device asked for during an access.
    pub fn after_mmio(&mut self, ctx: BusCtx) {
        match ctx.action {
            DeviceAction::None => {}
            DeviceAction::Reset => self.stop_with(StopRequest::Reset),
            DeviceAction::PowerOff => self.stop_with(StopRequest::PowerOff),
        }
        if let Some(t) = ctx.warp_to_ns {
            self.clock.warp_to(self.icount(), t);
            self.request_exit();
        }
        self.sync_irq_lines();
    }

    /// Records a fault the host caught in translated code (user mode):
    /// a TLB exception at the guest address, marked inexact (see
    /// [`UserException::inexact`]), and stops the machine.
    pub fn host_fault(&mut self, f: jit::GuestFault) {
        let code = if f.write { ExcCode::TlbS } else { ExcCode::TlbL };
        let (pc, bad_vaddr) = (self.s.pc, Some(f.addr));
        self.user_exception = Some(UserException { code, pc, bd: false, bad_vaddr, inexact: true });
        self.stop_with(StopRequest::GuestException);
    }

    /// Asks the run loop to stop after this instruction.
    pub fn stop_with(&mut self, why: StopRequest) {
        self.stop.get_or_insert(why);
        self.request_exit();
    }

    /// Remembers that the block at `pc` (current mode) has code `code`, for
    /// indirect jumps from translated code.
    pub fn cache_jump_target(&mut self, pc: u32, code: usize) {
        let tag = self.s.jump_generation | pc as u64;
        let cache = &mut self.jump_caches[self.cp0.user_mode() as usize];
        cache[jump_cache_index(pc)] = JumpCacheEntry { tag, code };
    }

    /// Forgets jump-cache entries that lead to any of `dropped` code addresses.
    pub fn forget_jump_targets(&mut self, dropped: &[usize]) {
        if dropped.is_empty() {
            return;
        }
        for e in self.jump_caches.iter_mut().flat_map(|c| c.iter_mut()) {
            if dropped.contains(&e.code) {
                *e = JumpCacheEntry::default();
            }
        }
    }

    /// Marks the guest code `first_pc..=last_pc` (at most two pages) as
    /// decoded: stores to its pages now take the slow path, and stores to
    /// its bytes drop the page's blocks. Returns the physical pages.
    pub fn mark_code(&mut self, first_pc: u32, last_pc: u32) -> [Option<u32>; 2] {
        let mut pages = [None, None];
        let ranges = if first_pc >> 12 == last_pc >> 12 {
            [(first_pc, last_pc), (1, 0)]
        } else {
            [(first_pc, first_pc | 0xfff), (last_pc & !0xfff, last_pc)]
        };
        for (k, (a, b)) in ranges.into_iter().enumerate().filter(|(_, (a, b))| a <= b) {
            let Ok(pa) = self.translate(a, Access::Fetch) else { continue };
            pages[k] = Some(self.mark_code_at(pa, a, b));
        }
        pages
    }

    /// The guest wrote to physical pages `first..=last` behind the soft-MMU's
    /// back (a system call, `cacheflush`, `synci`): translations from them
    /// are dropped before the dispatcher runs another block.
    pub fn code_written(&mut self, first: u32, last: u32) {
        if self.code_pages.is_empty() {
            return;
        }
        for page in first..=last {
            if self.code_pages.remove(&page).is_some() {
                self.phys.set_code_page((page as u64) << 12, false);
                self.dirty_code.push((page, u128::MAX));
            }
        }
    }

    /// A translated access without its soft-TLB probe (compiled from a
    /// profile that saw it reach kseg0 RAM only) went to `addr`. Reaching
    /// mapped memory that way now and then is fine; when such accesses add
    /// up, the block of the one at `pc_bd` is dropped like written code, so
    /// that it is interpreted, profiled and compiled again, this time with
    /// the probe. (`memcpy` and `__copy_user` share their loops in Linux:
    /// the boot trains them on kernel memory, user programs then copy
    /// through them to user memory.)
    pub fn uninlined_access(&mut self, addr: u32, pc_bd: u32) {
        /// Mapped accesses between two such drops.
        const LIMIT: u32 = 256;
        if addr >> 29 == 4 || addr >> 29 == 5 {
            return; // kseg0 or kseg1: the inline path's miss, or a device
        }
        self.uninlined += 1;
        if self.uninlined < LIMIT {
            return;
        }
        self.uninlined = 0;
        let pc = pc_bd & !1;
        if let Ok(pa) = self.translate(pc, Access::Fetch) {
            self.dirty_code.push(((pa >> 12) as u32, code_chunks(pc, pc)));
            self.request_exit();
        }
    }

    /// Whether code was written since the dispatcher last dropped blocks.
    pub fn code_dirty(&self) -> bool {
        !self.dirty_code.is_empty()
    }

    /// Marks the code at `first_pc..=last_pc`, on one page whose physical
    /// address is `pa` (its low 12 bits are ignored), as
    /// [`mark_code`](Self::mark_code) does; returns the physical page number.
    pub fn mark_code_at(&mut self, pa: u64, first_pc: u32, last_pc: u32) -> u32 {
        let page = (pa >> 12) as u32;
        let chunks = self.code_pages.entry(page).or_insert(0);
        let first = *chunks == 0;
        *chunks |= code_chunks(first_pc, last_pc);
        if first && let Target::Ram { host_page, .. } = self.phys.lookup(pa & !0xfff) {
            self.phys.set_code_page(pa, true);
            for t in &mut self.soft_tlbs {
                t.protect_host_page(host_page as usize);
            }
        }
        page
    }
}

/// Whether `MIPSJIT_TRACE_EXCEPTIONS` asks for every exception on stderr.
fn trace_exceptions() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("MIPSJIT_TRACE_EXCEPTIONS").is_some())
}

/// Bytes per bit of a code page's chunk map.
const CODE_CHUNK: u32 = 32;

/// The chunk bits of a page covering the addresses `a..=b` (same page).
pub(crate) fn code_chunks(a: u32, b: u32) -> u128 {
    let (lo, hi) = ((a & 0xfff) / CODE_CHUNK, (b & 0xfff) / CODE_CHUNK);
    (u128::MAX >> (127 - hi)) & (u128::MAX << lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu() -> Cpu {
        let mut phys = PhysMap::default();
        phys.add_ram(0, 1 << 16, true).unwrap();
        Cpu::new(phys, false)
    }

    /// The word at `offset` bytes into the CPU, as translated code reads it.
    fn peek(cpu: &Cpu, offset: i32) -> u32 {
        // SAFETY: the offsets come from offset_of! on Cpu's u32 fields.
        unsafe { std::ptr::read((cpu as *const Cpu as *const u8).add(offset as usize) as *const u32) }
    }

    #[test]
    fn uninlined_accesses_to_mapped_memory_send_their_block_back_to_profiling() {
        let mut c = cpu();
        let pc = 0x8000_1044 | 1; // in a delay slot
        // kseg0 and kseg1 are what such code was compiled for: no count.
        for _ in 0..1000 {
            c.uninlined_access(0x8000_2000, pc);
            c.uninlined_access(0xa000_2000, pc);
        }
        assert!(!c.code_dirty());
        // Mapped memory: the 256th access drops the code around pc.
        for _ in 0..255 {
            c.uninlined_access(0x0040_0000, pc);
        }
        assert!(!c.code_dirty());
        c.uninlined_access(0xc000_0000, pc);
        assert_eq!(c.dirty_code, vec![(1, code_chunks(0x8000_1044, 0x8000_1044))]);
        assert_eq!(c.uninlined, 0, "counting starts again");
    }

    #[test]
    fn a_store_into_code_flags_only_the_chunks_it_wrote() {
        let mut c = cpu();
        // Code at 0x80001000..0x80001010 and 0x80001040..0x80001050 (kseg0).
        c.mark_code(0x8000_1000, 0x8000_100c);
        c.mark_code(0x8000_1040, 0x8000_104c);
        let map = c.phys.code_map(0).unwrap();
        // SAFETY: the code map has a byte for each of the RAM's 16 pages.
        let code_page = |p: usize| unsafe { map.add(p).read() };
        assert_eq!((code_page(0), code_page(1)), (0, 1), "translated stores must see the code");
        c.store(0x8000_1020, 4, 7).unwrap(); // data between them
        assert!(!c.code_dirty());
        c.store(0x8000_1044, 4, 0).unwrap();
        assert_eq!(c.dirty_code, vec![(1, 1 << 2)]);
        assert_eq!(c.code_pages.get(&1), Some(&1), "the first block's chunk stays protected");
        c.store(0x8000_1008, 4, 0).unwrap();
        assert_eq!(c.dirty_code, vec![(1, 1 << 2), (1, 1)]);
        assert_eq!(c.code_pages.get(&1), None, "no code left on the page");
        assert_eq!(code_page(1), 0, "so translated stores may go straight to it");
    }

    #[test]
    fn inline_cp0_slots_behave_like_mfc0_and_mtc0() {
        for slot in CP0_INLINE {
            let (reg, sel) = (slot.reg as usize, slot.sel as u32);
            let row = frontend::cp0::cp0_reg(reg as u32, sel).expect("every slot has a table row");
            for v in [0u32, u32::MAX, 0x5555_5555, 0xaaaa_aaaa, 0x8000_2003] {
                let mut c = cpu();
                c.cp0.status &= !status::BEV; // keep Status writes from moving vectors
                if row.read == frontend::cp0::Cp0Path::Inline {
                    assert_eq!(peek(&c, slot.offset), c.mfc0(reg, sel), "{} read", row.name);
                }
                if row.write == frontend::cp0::Cp0Path::Inline {
                    let old = peek(&c, slot.offset);
                    c.mtc0(reg, sel, v);
                    let want = (old & !slot.write_mask) | (v & slot.write_mask);
                    assert_eq!(peek(&c, slot.offset), want, "{} write {v:#x}", row.name);
                    assert_eq!(c.mfc0(reg, sel), want, "{} read back", row.name);
                }
            }
        }
    }

    #[test]
    fn tlb_refill_sets_context_entryhi_and_uses_offset_zero() {
        let mut c = cpu();
        c.cp0.status = 0; // BEV=0, kernel mode
        c.cp0.entry_hi = 0x0000_0042;
        c.cp0.context = 0x8080_0000;
        let e = c.translate(0x0040_3abc, Access::Load).unwrap_err();
        assert_eq!((e.code, e.refill), (ExcCode::TlbL, true));
        c.raise(e, 0x8000_1000);
        assert_eq!(c.s.pc, 0x8000_0000);
        assert_eq!(c.cp0.bad_vaddr, 0x0040_3abc);
        assert_eq!(c.cp0.context, 0x8080_0000 | (0x0040_3abc >> 13) << 4);
        assert_eq!(c.cp0.entry_hi, 0x0040_2042, "VPN2 from the address, ASID kept");
        // A second miss with EXL set goes to the general vector.
        let e = c.translate(0x0050_0000, Access::Store).unwrap_err();
        c.raise(e, 0x8000_0004);
        assert_eq!(c.s.pc, 0x8000_0180);
        assert_eq!(c.cp0.epc, 0x8000_1000, "EPC is not overwritten while EXL=1");
    }

    #[test]
    fn tlb_entries_translate_and_protect() {
        let mut c = cpu();
        c.cp0.status = 0;
        c.cp0.entry_hi = 0x0040_2005;
        c.cp0.entry_lo0 = (0x3 << 6) | 0b110; // PFN 3, D, V
        c.cp0.entry_lo1 = (0x4 << 6) | 0b010; // PFN 4, V, not dirty
        c.cp0.page_mask = 0;
        c.cp0.index = 7;
        c.tlb_write(false);
        c.store(0x0040_2010, 4, 0xdead_beef).unwrap();
        assert_eq!(c.load(0x0040_2010, 4).unwrap(), 0xdead_beef);
        let mut b = [0u8; 4];
        c.phys.read_bytes(0x3010, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 0xdead_beef);
        assert_eq!(c.store(0x0040_3000, 4, 1).unwrap_err().code, ExcCode::Mod);
        c.set_entry_hi(0x0040_2006);
        assert!(c.load(0x0040_2010, 4).unwrap_err().refill, "another ASID misses, even after a soft-TLB fill");
        c.set_entry_hi(0x0040_2005);
        assert_eq!(c.load(0x0040_2010, 4).unwrap(), 0xdead_beef);
        // Overwriting the entry drops the soft-TLB's copy of it.
        c.cp0.entry_lo0 = 0;
        c.tlb_write(false);
        let e = c.load(0x0040_2010, 4).unwrap_err();
        assert_eq!((e.code, e.refill), (ExcCode::TlbL, false), "invalid, not a refill");
        c.cp0.entry_hi = 0x0040_3005;
        c.tlb_probe();
        assert_eq!(c.cp0.index, 7);
        c.cp0.entry_hi = 0x0090_0005;
        c.tlb_probe();
        assert_eq!(c.cp0.index, 0x8000_0007);
    }

    #[test]
    fn linux_user_maps_kuseg_one_to_one_and_records_exceptions() {
        let mut c = cpu();
        c.linux_user = true;
        c.cp0.status = status::KSU_USER;
        c.attach_pointers();
        c.store(0x1234, 4, 0xcafe_f00d).unwrap();
        assert_eq!(c.load(0x1234, 4).unwrap(), 0xcafe_f00d);
        let mut b = [0u8; 4];
        c.phys.read_bytes(0x1234, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 0xcafe_f00d, "kuseg is physical memory");
        let e = c.load(0x8000_0000, 4).unwrap_err();
        assert_eq!(e.code, ExcCode::AdEL, "kseg0 is still out of bounds for user mode");
        c.raise(e, 0x0040_0104 | 1);
        let want = UserException {
            code: ExcCode::AdEL,
            pc: 0x0040_0104,
            bd: true,
            bad_vaddr: Some(0x8000_0000),
            inexact: false,
        };
        assert_eq!(c.user_exception, Some(want));
        assert_eq!(c.stop, Some(StopRequest::GuestException));
        assert_eq!(c.s.pc, 0x0040_0104, "no vectoring");
        assert!(c.cp0.user_mode(), "still in user mode");
    }

    #[test]
    fn the_tlb_size_is_a_cpu_option_seen_in_config1() {
        let mut c = cpu();
        assert_eq!((c.cp0.config1 >> 25) & 0x3f, 15);
        c.set_tlb_entries(64);
        assert_eq!((c.cp0.config1 >> 25) & 0x3f, 63);
        c.mtc0(0, 0, 40);
        assert_eq!(c.mfc0(0, 0), 40);
        c.set_tlb_entries(16);
        c.mtc0(0, 0, 40);
        assert_eq!(c.mfc0(0, 0), 40 & 15, "Index keeps only the bits the TLB size needs");
    }

    #[test]
    fn tlbwr_stays_between_wired_and_the_last_entry() {
        let mut c = cpu();
        c.mtc0(6, 0, 12);
        let mut seen = std::collections::HashSet::new();
        let mut last = None;
        for _ in 0..200 {
            let r = c.random();
            assert!((12..16).contains(&r));
            assert_ne!(Some(r), last, "no repeats");
            last = Some(r);
            seen.insert(r);
            c.tlb_write(true);
        }
        assert_eq!(seen.len(), 4);
    }
}
