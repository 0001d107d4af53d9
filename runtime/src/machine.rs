//! The execution loop: block cache, tier selection, dispatch, time.

use crate::clock::TimeMode;
use crate::cp0::status;
use crate::cpu::{Cpu, StopRequest};
use crate::exception::{ExcCode, Exception};
use crate::helpers;
use crate::interp::{Flow, branch_op, exec, exec_memory_hit, exec_other, exec_register_op};
use frontend::{GuestBlock, decode, scan_block};
use hashbrown::HashMap;
use jit::abi::{ExitReason, pc_bd};
use jit::{CompiledCode, GuestConfig, Jit, JitError, Kseg0Ram};
use softmmu::Access;
use std::time::Duration;

/// Which tier runs guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JitMode {
    /// Interpreter only.
    Never,
    /// Compile every block before its first run (synchronously).
    Always,
    /// Interpret, and compile blocks in the background once they are hot.
    #[default]
    Auto,
}

/// Why [`Machine::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest asked for a board reset (Malta SOFTRES).
    Reset,
    /// The guest powered the board off.
    PowerOff,
    /// `wait` with nothing that could ever wake the CPU.
    Halted,
    /// An `sdbbp` at this PC.
    DebugBreakpoint(u32),
    /// User-mode emulation: the guest raised an exception (a system call,
    /// a fault), recorded in `Cpu::user_exception`; `pc` is its instruction.
    GuestException,
    /// The instruction limit given to `run` was reached: exactly that many
    /// instructions retired, or fewer when the next block would not fit.
    InstructionLimit,
}

/// Executions after which `auto` mode compiles a block (the environment
/// variable `MIPSJIT_HOT_THRESHOLD` overrides it, for tuning).
pub const HOT_THRESHOLD: u32 = 1000;

/// What the JIT may assume about `cpu`'s guest: its byte order and, in
/// user-mode emulation, where kuseg lives in host memory (it must be one
/// RAM region covering all of it, as `linux_user` maps it).
/// `checked`: user-mode accesses check the guest's page permissions
/// ([`Cpu::user_pages`]) themselves, rather than leave it to the host.
fn guest_config(cpu: &Cpu, optimize_loops: Option<bool>, checked: bool) -> GuestConfig {
    let ram_at = |gpa: u64| match cpu.phys.lookup(gpa) {
        softmmu::Target::Ram { host_page, writable: true } => Some(host_page as usize),
        _ => None,
    };
    let flat_user_base = match (cpu.linux_user, ram_at(0), ram_at(0x7fff_f000)) {
        (true, Some(base), Some(top)) if top == base + 0x7fff_f000 => Some(base),
        _ => None,
    };
    // kseg0 shows physical 0..512 MiB; the fast path covers the largest
    // power-of-two prefix of it that is writable RAM.
    let kseg0_ram = match (cpu.phys.ram_region(0), cpu.phys.code_map(0)) {
        (Some((base, 0, len)), Some(code_map)) if !cpu.linux_user && len >= 4096 && ram_at(0).is_some() => {
            let len = len.min(0x2000_0000);
            let len = 1usize << (usize::BITS - 1 - len.leading_zeros());
            Some(Kseg0Ram { base: base as usize, len, code_map: code_map as usize })
        }
        _ => None,
    };
    // The optimiser for loops pays in user mode only (see the field's
    // doc); `MIPSJIT_OPTIMIZE_LOOPS=0|1` overrides, and so does the caller.
    let env = std::env::var("MIPSJIT_OPTIMIZE_LOOPS").ok().map(|v| v != "0");
    let optimize_loops = optimize_loops.or(env).unwrap_or(flat_user_base.is_some());
    let flat_user_perms = (checked && !cpu.user_pages.is_empty()).then_some(cpu.user_pages.as_ptr() as usize);
    GuestConfig { big_endian: cpu.big_endian, flat_user_base, flat_user_perms, kseg0_ram, optimize_loops }
}

fn hot_threshold() -> u32 {
    static T: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *T.get_or_init(|| std::env::var("MIPSJIT_HOT_THRESHOLD").ok().and_then(|v| v.parse().ok()).unwrap_or(HOT_THRESHOLD))
}
/// Longest slice between dispatcher checks (interrupts, timer, limits,
/// device polling): about 0.1-1 ms of guest time.
const MAX_SLICE: i32 = 1 << 18;
/// Shortest slice: longer than any block, so every block can start.
const MIN_SLICE: i32 = 2 * frontend::MAX_BLOCK_INSNS as i32 + 2;

/// Most guest blocks compiled into one function (a region: a block and
/// the blocks it reaches on its page by direct jumps, and by register
/// jumps to targets the interpreter saw them take).
const MAX_REGION_BLOCKS: usize = 12;

/// [`MAX_REGION_BLOCKS`], or fewer if the environment variable
/// `MIPSJIT_REGION_BLOCKS` says so (1 compiles single blocks; for tuning).
fn region_blocks() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        let env = std::env::var("MIPSJIT_REGION_BLOCKS").ok().and_then(|v| v.parse().ok());
        env.unwrap_or(MAX_REGION_BLOCKS).clamp(1, MAX_REGION_BLOCKS)
    })
}
/// Most instructions in a region.
const MAX_REGION_INSNS: usize = 160;

/// Where a region may go from block `g`: its constant successors, then
/// where its register jump went when interpreted (most often first).
fn region_edges(g: &GuestBlock) -> impl Iterator<Item = u32> + '_ {
    g.successors().into_iter().flatten().chain(g.indirect_targets.iter().copied())
}

/// In user mode, a branch in the last word of a page gets its delay slot
/// from the next page, if that is mapped, so the block can be compiled
/// (the JIT needs the delay slot inside the block). The flat user address
/// space maps both pages the same for the block's whole life (unmapping
/// or remapping either drops the code registered on it); in system mode
/// the TLB may map the next page anywhere, so the interpreter fetches the
/// slot itself there, and raises any fault on it with Cause.BD set.
fn with_next_page_delay_slot(cpu: &Cpu, mut g: GuestBlock) -> GuestBlock {
    let (next, n) = (g.end(), g.insns.len());
    // The block's own branch, not one in another's delay slot.
    let branch_last = n > 0 && g.insns[n - 1].has_delay_slot() && (n < 2 || !g.insns[n - 2].has_delay_slot());
    if cpu.linux_user
        && next & 0xfff == 0
        && branch_last
        && let Ok(pa) = cpu.translate(next, Access::Fetch)
        && let Ok(word) = cpu.fetch_phys(pa)
    {
        g.insns.push(decode(word));
    }
    g
}

struct Block {
    key: u64,
    /// The decoded block; its `mapped_access` is the interpreter's profile,
    /// empty until the block runs there.
    guest: GuestBlock,
    /// Physical pages the block's instructions came from.
    pages: [Option<u32>; 2],
    /// The 32-byte chunks of `pages[0]` its code (and, once compiled as a
    /// region's head, the region's code) came from.
    chunks: u128,
    /// Unique for the machine's lifetime (slab indices are reused).
    serial: u64,
    runs: u32,
    code: Option<CompiledCode>,
    compile_pending: bool,
    /// Exit slots: code addresses of successor blocks for the two direct
    /// exits of each guest block of the compiled region, or 0 to return to
    /// the dispatcher. Boxed: JIT code holds their address.
    slots: Box<[usize; 2 * MAX_REGION_BLOCKS]>,
    /// For a block ending in `jr`/`jalr`: where the jump went while
    /// interpreted, with counts (the first [`MAX_JUMP_TARGETS`] distinct).
    jumps: Vec<(u32, u32)>,
    /// [`GuestBlock::ends_in_register_jump`], worked out once: the
    /// interpreter asks after every run.
    register_jump: bool,
}

/// Translations of one block for a new Status.FR before it gets code
/// without inline FPU instructions, which runs in any mode.
const MAX_FPU_RETRANSLATIONS: u32 = 3;

/// Most register-jump targets profiled per block.
const MAX_JUMP_TARGETS: usize = 16;

impl Block {
    /// The block as the translator gets it: with the interpreter's profile
    /// if it ran there, else none (every access gets the full fast path).
    fn for_translator(&self) -> GuestBlock {
        let mut g = self.guest.clone();
        if self.runs == 0 {
            g.mapped_access = u64::MAX;
        }
        let mut jumps = self.jumps.clone();
        jumps.sort_by_key(|&(t, n)| (std::cmp::Reverse(n), t));
        g.indirect_targets = jumps.into_iter().map(|(t, _)| t).collect();
        g
    }

    /// Counts a run of the block's register jump to `target`.
    fn count_jump(&mut self, target: u32) {
        if let Some(j) = self.jumps.iter_mut().find(|j| j.0 == target) {
            j.1 = j.1.saturating_add(1);
        } else if self.jumps.len() < MAX_JUMP_TARGETS {
            self.jumps.push((target, 1));
        }
    }
}

/// Counters a benchmark or a curious user can read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Blocks decoded.
    pub blocks_decoded: u64,
    /// Blocks compiled.
    pub blocks_compiled: u64,
    /// Of those, compiled as a region with more blocks (loops).
    pub regions: u64,
    /// Register-jump edges (`jr`, `jalr`) compiled to stay inside their
    /// region: targets the interpreter saw the jump take, tested for
    /// before the jump cache (switch dispatch, interpreter loops).
    pub region_jumps: u64,
    /// Block executions in the interpreter.
    pub interp_blocks: u64,
    /// Of those, at the end of a slice: compiled code stopped where its
    /// longest run might not fit, and the interpreter ran what did.
    pub slice_tail_blocks: u64,
    /// Entries into translated code from the dispatcher.
    pub jit_entries: u64,
    /// Exit slots filled (chains made).
    pub chains: u64,
    /// Blocks dropped because their code was written.
    pub invalidations: u64,
    /// Blocks the translator failed on (they stay interpreted); not 0 means a bug.
    pub compile_failures: u64,
    /// Guest time spent idle in `wait`, in nanoseconds: slept through in
    /// real time, skipped in deterministic time.
    pub idle_ns: u64,
    /// Returns from translated code, by reason: jumps the code could not
    /// follow itself (mode changes, jump-cache misses), exceptions, empty
    /// exit slots, and budget (end of a time slice).
    pub exits: ExitCounts,
}

/// Returns from translated code to the dispatcher, by [`ExitReason`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitCounts {
    /// [`ExitReason::Jump`].
    pub jump: u64,
    /// [`ExitReason::Exception`].
    pub exception: u64,
    /// [`ExitReason::ChainMiss`].
    pub chain_miss: u64,
    /// [`ExitReason::Budget`] and [`ExitReason::Stop`].
    pub budget_or_stop: u64,
    /// [`ExitReason::Interpret`].
    pub interpret: u64,
    /// [`ExitReason::HostFault`].
    pub host_fault: u64,
    /// [`ExitReason::FpuMode`].
    pub fpu_mode: u64,
}

/// A CPU, its memory and devices, and the two execution tiers.
pub struct Machine {
    /// The CPU and its memory.
    pub cpu: Box<Cpu>,
    mode: JitMode,
    jit: Option<Jit>,
    /// When `auto` mode compiles a block.
    hot_threshold: u32,
    blocks: Vec<Option<Block>>,
    free: Vec<usize>,
    map: HashMap<u64, usize>,
    /// A direct-mapped cache in front of `map`, indexed by the PC's word
    /// bits: the dispatcher's lookup without hashing or probing, for the
    /// blocks it meets most. Entries of dropped blocks are cleared.
    lookup_cache: Box<[(u64, usize)]>,
    /// Indices of the blocks that have code: only their exit slots can
    /// hold chains to clear when code is dropped.
    compiled: hashbrown::HashSet<usize>,
    by_page: HashMap<u32, Vec<usize>>,
    /// Background compilations in flight: request id → (block index, serial).
    pending: HashMap<u64, (usize, u64)>,
    next_serial: u64,
    /// Counters.
    pub stats: Stats,
    /// When set, the profile every translated block gets instead of the
    /// interpreter's (`GuestBlock::mapped_access`): lets the differential
    /// tests, which compile before anything is interpreted, exercise code
    /// without the inline soft-TLB probe (`Some(0)`).
    pub assumed_profile: Option<u64>,
    /// When set, `auto` mode compiles a block on the dispatcher's thread,
    /// once it has run this many times in the interpreter, instead of on
    /// the compiler thread at the hot threshold: the same profile-guided
    /// code, at a point that does not depend on timing, for the
    /// differential tests.
    pub compile_now_after: Option<u32>,
    /// See [`with_loop_optimizer`](Self::with_loop_optimizer); kept for the
    /// JIT a forked child starts.
    optimize_loops: Option<bool>,
    /// See [`check_user_memory`](Self::check_user_memory).
    checked_memory: bool,
    /// Blocks (by key) translated again because Status.FR was not the
    /// one their inline FPU code assumed, and how often: one that keeps
    /// meeting both modes gets no inline FPU code.
    fpu_retranslated: HashMap<u64, u32>,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine").field("pc", &self.cpu.s.pc).field("mode", &self.mode).finish_non_exhaustive()
    }
}

impl Machine {
    /// A machine running `cpu` with the given tier policy.
    pub fn new(cpu: Cpu, mode: JitMode) -> Result<Self, JitError> {
        Self::with_loop_optimizer(cpu, mode, None)
    }

    /// [`new`](Self::new), with Cranelift's optimiser for loops on or off
    /// whatever the default for this guest (`None`: the default). The
    /// differential tests use it to check both kinds of code.
    pub fn with_loop_optimizer(cpu: Cpu, mode: JitMode, optimize_loops: Option<bool>) -> Result<Self, JitError> {
        let guest = guest_config(&cpu, optimize_loops, false);
        let jit = match mode {
            JitMode::Never => None,
            _ => Some(Jit::new(helpers::table(), guest)?),
        };
        let mut cpu = Box::new(cpu);
        cpu.attach_pointers();
        cpu.kseg0_ram = guest.kseg0_ram;
        cpu.user_ram = guest.flat_user_base;
        Ok(Self {
            cpu,
            mode,
            jit,
            hot_threshold: hot_threshold(),
            blocks: Vec::new(),
            free: Vec::new(),
            map: HashMap::new(),
            lookup_cache: vec![(NO_KEY, 0); LOOKUP_CACHE_SIZE].into_boxed_slice(),
            compiled: hashbrown::HashSet::new(),
            by_page: HashMap::new(),
            pending: HashMap::new(),
            next_serial: 0,
            stats: Stats::default(),
            assumed_profile: None,
            compile_now_after: None,
            optimize_loops,
            checked_memory: false,
            fpu_retranslated: HashMap::new(),
        })
    }

    /// The block-cache key of the code at `pc` (physical address `pa`):
    /// the same virtual address means other code in another address space.
    fn key(&self, pc: u32, pa: u64) -> u64 {
        pc as u64 | (pa >> 12) << 32 | (self.cpu.cp0.user_mode() as u64) << 63
    }

    /// Makes the machine usable in the child of a host `fork()`: only the
    /// forking thread survives there, so the JIT's compiler thread is gone.
    /// The old `Jit` is leaked (dropping it would join a thread that does
    /// not exist), every block goes back to the interpreter, and a new
    /// `Jit` with its own thread compiles from now on. If none can be
    /// started, the child interprets.
    pub fn after_fork(&mut self) {
        let Some(old) = self.jit.take() else { return };
        std::mem::forget(old);
        self.restart_jit();
    }

    /// From now on, translated user-mode code checks each access against
    /// the guest's page permissions ([`Cpu::user_pages`]) in software, so
    /// that a fault is precise: a guest that handles `SIGSEGV` needs that.
    /// By default it relies on the host's protection of guest memory
    /// ([`jit::catch_guest_faults`]), which is free but only good for
    /// dying of the fault. Drops all translated code.
    pub fn check_user_memory(&mut self) {
        if self.checked_memory {
            return;
        }
        self.checked_memory = true;
        if let Some(old) = self.jit.take() {
            drop(old);
            self.restart_jit();
        }
    }

    /// Drops all translated code and starts a new JIT for the current
    /// configuration (the old one is gone); if none can be started, the
    /// machine interprets.
    fn restart_jit(&mut self) {
        self.pending.clear();
        self.compiled.clear();
        for b in self.blocks.iter_mut().flatten() {
            b.code = None;
            b.compile_pending = false;
            b.runs = 0;
            b.slots.fill(0);
        }
        for e in self.cpu.jump_caches.iter_mut().flat_map(|c| c.iter_mut()) {
            *e = Default::default();
        }
        match Jit::new(helpers::table(), guest_config(&self.cpu, self.optimize_loops, self.checked_memory)) {
            Ok(j) => self.jit = Some(j),
            Err(_) => self.mode = JitMode::Never,
        }
    }

    /// Runs until the guest stops the machine or `limit` instructions retire.
    pub fn run(&mut self, limit: Option<u64>) -> Exit {
        let end = limit.map(|l| self.cpu.icount().saturating_add(l));
        loop {
            if let Some(why) = self.cpu.stop.take() {
                return match why {
                    StopRequest::Reset => Exit::Reset,
                    StopRequest::PowerOff => Exit::PowerOff,
                    StopRequest::Halted => Exit::Halted,
                    StopRequest::DebugBreakpoint(pc) => Exit::DebugBreakpoint(pc),
                    StopRequest::GuestException => Exit::GuestException,
                };
            }
            let left = end.map_or(u64::MAX, |e| e.saturating_sub(self.cpu.icount()));
            if left == 0 {
                return Exit::InstructionLimit;
            }
            if self.cpu.waiting {
                self.idle();
                continue;
            }
            let before = self.cpu.icount();
            self.start_slice(left);
            self.run_slice();
            self.end_slice();
            // The next block does not fit in what the limit leaves: stop
            // short of it rather than run past the limit.
            if left < MIN_SLICE as u64 && self.cpu.icount() == before && self.cpu.stop.is_none() {
                return Exit::InstructionLimit;
            }
        }
    }

    /// The CPU sleeps in `wait`: move time to the next timer interrupt
    /// (deterministic mode), or sleep on the host until it or device input
    /// arrives (real time, so an idle guest costs no host CPU).
    fn idle(&mut self) {
        self.poll_devices();
        if !self.cpu.cp0.interrupt_pending() {
            let to_timer = self.cpu.ns_to_timer();
            let before = self.cpu.now_ns();
            match self.cpu.clock.mode() {
                TimeMode::Deterministic => self.cpu.clock.warp_to(self.cpu.icount(), before + to_timer),
                TimeMode::RealTime => std::thread::sleep(Duration::from_nanos(to_timer.min(2_000_000))),
            }
            self.stats.idle_ns += self.cpu.now_ns().saturating_sub(before);
            self.poll_devices();
        }
        if self.cpu.cp0.interrupt_pending() {
            self.cpu.waiting = false;
        }
    }

    /// Lets devices run up to now, and updates the interrupt lines.
    fn poll_devices(&mut self) {
        let cpu = &mut *self.cpu;
        let mut ctx = cpu.bus_ctx();
        cpu.phys.poll(&mut ctx);
        cpu.after_mmio(ctx);
        cpu.update_timer();
    }

    fn start_slice(&mut self, left: u64) {
        self.drop_dirty_blocks();
        self.poll_devices();
        if self.cpu.cp0.interrupt_pending() {
            let pc = self.cpu.s.pc;
            self.cpu.raise(Exception::new(ExcCode::Int), pc_bd(pc, false));
        }
        // Stop near the next timer match, so Cause.TI is raised on time
        // (in real-time mode an instruction is about a nanosecond, and
        // the check at the slice end catches up).
        let to_timer = self.cpu.ns_to_timer();
        // A limit is exact (blocks that do not fit are not started); the
        // timer only needs block precision, and every block must fit.
        let slice = if left < MIN_SLICE as u64 {
            left as i32
        } else {
            left.min(to_timer).clamp(MIN_SLICE as u64, MAX_SLICE as u64) as i32
        };
        let cpu = &mut *self.cpu;
        cpu.slice = slice;
        cpu.s.budget = slice;
        cpu.deferred_budget = 0;
    }

    fn end_slice(&mut self) {
        let cpu = &mut *self.cpu;
        cpu.s.budget += cpu.deferred_budget;
        cpu.deferred_budget = 0;
        cpu.retired += (cpu.slice - cpu.s.budget) as u64;
        cpu.slice = 0;
        cpu.s.budget = 0;
        cpu.update_timer();
    }

    fn run_slice(&mut self) {
        while self.cpu.s.budget > 0 && self.cpu.stop.is_none() && !self.cpu.code_dirty() {
            if !self.pending.is_empty() && self.jit.as_ref().is_some_and(|j| j.has_results()) {
                self.install_compiled();
            }
            let pc = self.cpu.s.pc;
            let Some(idx) = self.lookup_or_decode(pc) else {
                // The fetch faulted and the exception was taken. Charge it
                // as a step: a guest whose vector cannot be fetched faults
                // forever (as on hardware), and must still reach limits.
                self.cpu.s.budget -= 1;
                continue;
            };
            let reason = match self.blocks[idx].as_ref().and_then(|b| b.code) {
                Some(code) => {
                    // The kernel's jump cache holds unmapped code only (kseg0
                    // and kseg1 never remap); the user one is emptied by a
                    // new generation whenever the guest TLB or ASID changes.
                    if unmapped(pc) || self.cpu.cp0.user_mode() {
                        self.cpu.cache_jump_target(pc, code.addr());
                    }
                    match self.run_compiled(code) {
                        ExitReason::Interpret => self.run_slow_path(),
                        ExitReason::FpuMode => {
                            self.fpu_mode_changed();
                            self.run_slow_path()
                        }
                        // Compiled code stops where its longest run might
                        // not fit; the slice's last blocks run here, each
                        // as far as the budget allows, as in the interpreter.
                        ExitReason::Budget if self.cpu.s.budget > 0 => {
                            self.stats.slice_tail_blocks += 1;
                            self.run_slow_path()
                        }
                        r => r,
                    }
                }
                None => self.run_interpreted(idx),
            };
            if reason == ExitReason::Budget {
                return;
            }
            if self.cpu.cp0.interrupt_pending() {
                return;
            }
        }
    }

    fn run_compiled(&mut self, code: CompiledCode) -> ExitReason {
        self.stats.jit_entries += 1;
        let jit = self.jit.as_ref().expect("compiled blocks exist only with a JIT");
        // SAFETY: `code` came from this JIT for a block still in the cache,
        // the state pointer is the live CPU (JitState first in repr(C)
        // Cpu), and its soft_tlb pointer is the CPU's own soft-TLB.
        let raw = unsafe { jit.enter(&mut self.cpu.s, code) };
        self.cpu.s.pending = 0;
        let reason = ExitReason::try_from(raw).unwrap_or(ExitReason::Stop);
        let e = &mut self.stats.exits;
        match reason {
            ExitReason::Jump => e.jump += 1,
            ExitReason::Exception => e.exception += 1,
            ExitReason::ChainMiss => {
                e.chain_miss += 1;
                self.fill_slot();
            }
            ExitReason::Budget | ExitReason::Stop => e.budget_or_stop += 1,
            ExitReason::Interpret => e.interpret += 1,
            ExitReason::FpuMode => e.fpu_mode += 1,
            ExitReason::HostFault => {
                e.host_fault += 1;
                // The handler always records one; should it not, the guest
                // still dies rather than run the faulting code forever.
                let f = jit::take_guest_fault().unwrap_or(jit::GuestFault { addr: 0, write: false });
                self.cpu.host_fault(f);
                return ExitReason::Stop;
            }
        }
        reason
    }

    /// Runs the block at `pc` in the interpreter, never its compiled code:
    /// translated code left with [`ExitReason::Interpret`] because `pc`
    /// needs a path it does not have (a user-mode access that faults or
    /// is misaligned), so entering it again would only leave again; or
    /// with [`ExitReason::Budget`] while some budget is left, which the
    /// interpreter spends block by block.
    fn run_slow_path(&mut self) -> ExitReason {
        let Some(idx) = self.lookup_or_decode(self.cpu.s.pc) else {
            // The fetch faulted and the exception was taken (see `run_slice`).
            self.cpu.s.budget -= 1;
            return ExitReason::Exception;
        };
        self.stats.interp_blocks += 1;
        let Some(b) = self.blocks[idx].as_mut() else { return ExitReason::Jump };
        interpret_block(&mut self.cpu, &mut b.guest)
    }

    /// A compiled block left through an empty exit slot: if its target is
    /// compiled too, point the slot there so the next run chains directly.
    fn fill_slot(&mut self) {
        let slot = self.cpu.s.exit_slot;
        if slot.is_null() || self.cpu.code_dirty() {
            return;
        }
        let target = self.cpu.s.pc;
        // A chain skips the dispatcher's address translation, so it may
        // only lead to code whose mapping cannot differ from when the
        // source block was entered: unmapped code, or the same page, or any
        // page in user-mode emulation, where kuseg never remaps.
        let from = self.cpu.s.exit_from;
        if !unmapped(target) && target >> 12 != from >> 12 && !self.cpu.linux_user {
            return;
        }
        let Ok(pa) = self.cpu.translate(target, Access::Fetch) else { return };
        let key = self.key(target, pa);
        if let Some(code) = self.map.get(&key).and_then(|&i| self.blocks[i].as_ref()).and_then(|b| b.code) {
            // SAFETY: exit slots live in boxed arrays owned by blocks that are
            // still cached (no invalidation happened since the exit).
            unsafe { *slot = code.addr() };
            self.stats.chains += 1;
        }
    }

    fn lookup_or_decode(&mut self, pc: u32) -> Option<usize> {
        let translated =
            if pc & 3 != 0 { Err(Exception::at(ExcCode::AdEL, pc)) } else { self.cpu.translate(pc, Access::Fetch) };
        let pa = match translated {
            Ok(pa) => pa,
            Err(e) => {
                self.cpu.raise_at(e, pc, false);
                return None;
            }
        };
        let key = self.key(pc, pa);
        let slot = lookup_slot(pc);
        if self.lookup_cache[slot].0 == key {
            return Some(self.lookup_cache[slot].1);
        }
        if let Some(&idx) = self.map.get(&key) {
            self.lookup_cache[slot] = (key, idx);
            return Some(idx);
        }
        let cpu = &mut *self.cpu;
        // The block stays within the page of `pc`, so `pa` locates all of it.
        let page_pa = pa & !0xfff;
        let guest = match scan_block(pc, |a| cpu.fetch_phys(page_pa | (a & 0xfff) as u64)) {
            // The interpreter's profile starts empty (see `for_translator`).
            Ok(b) => GuestBlock { mapped_access: 0, ..with_next_page_delay_slot(cpu, b) },
            Err(e) => {
                cpu.raise_at(e, pc, false);
                return None;
            }
        };
        let [first, second] = cpu.mark_code(pc, guest.end().wrapping_sub(1));
        let chunks = match guest.end().wrapping_sub(1) {
            last if last >> 12 == pc >> 12 => crate::cpu::code_chunks(pc, last),
            // Across two pages: what the block covers on either (a superset
            // for each, as a write must only never miss it).
            last => crate::cpu::code_chunks(pc, pc | 0xfff) | crate::cpu::code_chunks(last & !0xfff, last),
        };
        self.next_serial += 1;
        let register_jump = guest.ends_in_register_jump();
        let block = Block {
            key,
            guest,
            serial: self.next_serial,
            pages: [first, second],
            chunks,
            runs: 0,
            code: None,
            compile_pending: false,
            slots: Box::new([0; 2 * MAX_REGION_BLOCKS]),
            jumps: Vec::new(),
            register_jump,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.blocks[i] = Some(block);
                i
            }
            None => {
                self.blocks.push(Some(block));
                self.blocks.len() - 1
            }
        };
        for p in [first, second].into_iter().flatten() {
            self.by_page.entry(p).or_default().push(idx);
        }
        self.map.insert(key, idx);
        self.lookup_cache[slot] = (key, idx);
        self.stats.blocks_decoded += 1;
        if self.mode == JitMode::Always {
            self.compile(idx, false);
        }
        Some(idx)
    }

    /// The region to compile for block `idx`: the block, then the blocks
    /// its successors lead to on the same page (see [`region_edges`]),
    /// breadth first. With `executed_only`, only blocks the guest has run
    /// (so cold paths are not compiled); otherwise blocks are decoded from
    /// memory as needed.
    fn region(&mut self, idx: usize, executed_only: bool) -> Vec<GuestBlock> {
        let Some(head) = self.blocks[idx].as_ref() else { return Vec::new() };
        let mut region = vec![head.for_translator()];
        // Inline FPU code for the FR the block is about to run with (see
        // `ExitReason::FpuMode`); none on a core without an FPU.
        let retranslated = self.fpu_retranslated.get(&head.key).copied().unwrap_or(0);
        region[0].fpu_mode = if !self.cpu.model.has_fpu() || retranslated >= MAX_FPU_RETRANSLATIONS {
            frontend::FPU_MODE_ANY
        } else {
            self.cpu.cp0.status & status::FR
        };
        if !jit::compilable(&head.guest) {
            return region;
        }
        let (key, start) = (head.key, head.guest.start);
        let page_pa = (key >> 32 & 0x7fff_ffff) << 12;
        let mut queue: std::collections::VecDeque<u32> = region_edges(&region[0]).collect();
        let mut insns = head.guest.insns.len();
        while let Some(t) = queue.pop_front() {
            if region.len() >= region_blocks() || t >> 12 != start >> 12 || region.iter().any(|g| g.start == t) {
                continue;
            }
            // The same page, mode and mapping as the head.
            let known = self.map.get(&(t as u64 | (key & !0xffff_ffff))).and_then(|&i| self.blocks[i].as_ref());
            let guest = match known {
                Some(b) if !executed_only || b.runs > 0 || b.code.is_some() => b.for_translator(),
                Some(_) => continue,
                None if executed_only => continue,
                None => {
                    let cpu = &mut *self.cpu;
                    match scan_block(t, |a| cpu.fetch_phys(page_pa | (a & 0xfff) as u64)) {
                        Ok(g) => g,
                        Err(_) => continue,
                    }
                }
            };
            // A block ending on the next page (see `with_next_page_delay_slot`)
            // stays out: the region's code is marked on the head's page only.
            let crosses = guest.end().wrapping_sub(1) >> 12 != start >> 12;
            if !jit::compilable(&guest) || crosses || insns + guest.insns.len() > MAX_REGION_INSNS {
                continue;
            }
            insns += guest.insns.len();
            queue.extend(region_edges(&guest));
            region.push(guest);
        }
        // Keep only the loops through the head: blocks from which the head
        // can be reached inside the region. Paths that leave (calls, error
        // handling) would only make every entry load, and every exit store,
        // more registers.
        let mut keep = vec![false; region.len()];
        keep[0] = true;
        let mut changed = true;
        while changed {
            changed = false;
            for j in 1..region.len() {
                if !keep[j]
                    && region.iter().zip(&keep).any(|(g, &k)| k && region_edges(&region[j]).any(|t| t == g.start))
                {
                    (keep[j], changed) = (true, true);
                }
            }
        }
        if region.iter().any(|g| region_edges(g).any(|t| t == start)) {
            let mut k = keep.into_iter();
            region.retain(|_| k.next().unwrap_or(false));
        } else {
            region.truncate(1);
        }
        if region.len() > 1 {
            let inside = |t: &&u32| region.iter().any(|h| h.start == **t);
            let edges: usize = region.iter().map(|g| g.indirect_targets.iter().filter(inside).count()).sum();
            self.stats.region_jumps += edges as u64;
        }
        // A store into any of the region's code must drop the head (the
        // head's own code is marked already).
        for g in &region[1..] {
            self.cpu.mark_code_at(page_pa, g.start, g.end().wrapping_sub(1));
        }
        let chunks = region.iter().fold(0, |m, g| m | crate::cpu::code_chunks(g.start, g.end().wrapping_sub(1)));
        if let Some(b) = self.blocks[idx].as_mut() {
            b.chunks |= chunks;
        }
        if let Some(p) = self.assumed_profile {
            for g in &mut region {
                g.mapped_access = p;
            }
        }
        region
    }

    /// Compiles block `idx` now (`always` mode, or
    /// [`compile_now_after`](Self::compile_now_after)); `executed_only` as
    /// for [`region`](Self::region).
    fn compile(&mut self, idx: usize, executed_only: bool) {
        let region = self.region(idx, executed_only);
        self.stats.regions += (region.len() > 1) as u64;
        let (Some(jit), Some(b)) = (self.jit.as_mut(), self.blocks[idx].as_mut()) else { return };
        b.compile_pending = true;
        if !jit::compilable(&b.guest) {
            return;
        }
        // A block the translator fails on stays in the interpreter.
        match jit.compile_region(&region, &mut b.slots[..]) {
            Ok(code) => {
                b.code = Some(code);
                self.compiled.insert(idx);
                self.stats.blocks_compiled += 1;
            }
            Err(_) => self.stats.compile_failures += 1,
        }
    }

    /// Queues block `idx` for the compiler thread (`auto` mode).
    fn compile_in_background(&mut self, idx: usize) {
        let region = self.region(idx, true);
        self.stats.regions += (region.len() > 1) as u64;
        let (Some(jit), Some(b)) = (self.jit.as_mut(), self.blocks[idx].as_mut()) else { return };
        b.compile_pending = true;
        if !jit::compilable(&b.guest) {
            return;
        }
        match jit.submit_region(&region, &mut b.slots[..]) {
            Ok(id) => drop(self.pending.insert(id, (idx, b.serial))),
            Err(_) => self.stats.compile_failures += 1,
        }
    }

    /// Installs code the compiler thread has finished, unless its block was
    /// dropped meanwhile (then the code is simply never run).
    fn install_compiled(&mut self) {
        let Some(jit) = self.jit.as_mut() else { return };
        while let Some((id, result)) = jit.try_recv() {
            let Some((idx, serial)) = self.pending.remove(&id) else { continue };
            if result.is_err() {
                self.stats.compile_failures += 1;
            }
            if let (Some(b), Ok(code)) = (self.blocks[idx].as_mut(), result)
                && b.serial == serial
            {
                b.code = Some(code);
                self.compiled.insert(idx);
                self.stats.blocks_compiled += 1;
            }
        }
    }

    fn run_interpreted(&mut self, idx: usize) -> ExitReason {
        self.stats.interp_blocks += 1;
        let Some(b) = self.blocks[idx].as_mut() else { return ExitReason::Jump };
        b.runs += 1;
        let threshold = self.compile_now_after.unwrap_or(self.hot_threshold);
        let hot = self.mode == JitMode::Auto && b.runs >= threshold && !b.compile_pending;
        let reason = interpret_block(&mut self.cpu, &mut b.guest);
        if reason == ExitReason::Jump && b.register_jump {
            b.count_jump(self.cpu.s.pc);
        }
        if hot && self.compile_now_after.is_some() {
            self.compile(idx, true);
        } else if hot {
            self.compile_in_background(idx);
        }
        reason
    }

    /// Translated code left with [`ExitReason::FpuMode`] at `pc`: with
    /// CU1 clear, an FPU instruction is about to fault (nothing to do);
    /// else Status.FR is not the one its inline FPU code was compiled for,
    /// and the code is dropped to be translated again: now in `always`
    /// mode, else once it is hot again.
    fn fpu_mode_changed(&mut self) {
        if self.cpu.cp0.status & status::CU1 == 0 {
            return;
        }
        let Some(idx) = self.lookup_or_decode(self.cpu.s.pc) else { return };
        let Some(b) = self.blocks[idx].as_mut() else { return };
        *self.fpu_retranslated.entry(b.key).or_default() += 1;
        let Some(code) = b.code.take() else { return };
        (b.runs, b.compile_pending) = (0, false);
        self.compiled.remove(&idx);
        self.unlink(&[code.addr()]);
        if self.mode == JitMode::Always {
            self.compile(idx, false);
        }
    }

    /// Drops every block whose code was written, and every chain into them.
    fn drop_dirty_blocks(&mut self) {
        let written = std::mem::take(&mut self.cpu.dirty_code);
        if written.is_empty() {
            return;
        }
        let mut dropped_code = Vec::new();
        for (page, chunks) in written {
            let Some(on_page) = self.by_page.remove(&page) else { continue };
            let mut kept = Vec::new();
            for idx in on_page {
                // Its chunks on this page (all of them, if it is its second).
                let mine = match self.blocks[idx].as_ref() {
                    Some(b) if b.pages[0] == Some(page) => b.chunks,
                    Some(_) => u128::MAX,
                    None => continue,
                };
                if mine & chunks == 0 {
                    kept.push(idx);
                    continue;
                }
                let Some(b) = self.blocks[idx].take() else { continue };
                self.map.remove(&b.key);
                let slot = lookup_slot(b.guest.start);
                if self.lookup_cache[slot] == (b.key, idx) {
                    self.lookup_cache[slot] = (NO_KEY, 0);
                }
                for p in b.pages.into_iter().flatten() {
                    if p != page
                        && let Some(v) = self.by_page.get_mut(&p)
                    {
                        v.retain(|&i| i != idx);
                    }
                }
                if let Some(code) = b.code {
                    dropped_code.push(code.addr());
                    self.compiled.remove(&idx);
                }
                self.free.push(idx);
                self.stats.invalidations += 1;
            }
            if !kept.is_empty() {
                self.by_page.insert(page, kept);
            }
        }
        if !dropped_code.is_empty() {
            self.unlink(&dropped_code);
        }
    }

    /// Removes the code at `dropped` from the jump caches and from the
    /// exit slots chained to it.
    fn unlink(&mut self, dropped: &[usize]) {
        self.cpu.forget_jump_targets(dropped);
        for &i in &self.compiled {
            for s in self.blocks[i].iter_mut().flat_map(|b| b.slots.iter_mut()) {
                if dropped.contains(s) {
                    *s = 0;
                }
            }
        }
    }
}

/// Entries in [`Machine`]'s lookup cache (a power of two).
const LOOKUP_CACHE_SIZE: usize = 1 << 15;
/// A key no block has (its PC would be misaligned).
const NO_KEY: u64 = u64::MAX;

/// The lookup-cache entry for a block at `pc`.
fn lookup_slot(pc: u32) -> usize {
    (pc as usize >> 2) & (LOOKUP_CACHE_SIZE - 1)
}

/// Whether `pc` is in kseg0 or kseg1, whose mapping never changes.
fn unmapped(pc: u32) -> bool {
    pc >> 30 == 2
}

/// Runs one decoded block in the interpreter, with the budget rules of the
/// JIT ABI (see `jit::abi`): the whole block is charged on entry and what
/// did not retire is refunded on an early exit. Adds the instructions that
/// accessed memory outside kseg0 RAM to `b.mapped_access`.
pub fn interpret_block(cpu: &mut Cpu, b: &mut GuestBlock) -> ExitReason {
    let r = run_block(cpu, b);
    cpu.s.pending = 0;
    r
}

/// Bit `idx` of a [`GuestBlock::mapped_access`] profile.
fn profile_bit(idx: usize) -> u64 {
    1 << idx.min(63)
}

fn run_block(cpu: &mut Cpu, b: &mut GuestBlock) -> ExitReason {
    let n = b.insns.len() as i32;
    if cpu.s.budget < n {
        return ExitReason::Budget;
    }
    cpu.s.budget -= n;
    let mut idx = 0usize;
    while idx < b.insns.len() {
        let pc = b.start.wrapping_add(4 * idx as u32);
        let insn = b.insns[idx];
        if exec_register_op(cpu, insn) {
            idx += 1;
            continue;
        }
        cpu.outside_kseg0 = false;
        if exec_memory_hit(cpu, insn) {
            if cpu.outside_kseg0 {
                b.mapped_access |= profile_bit(idx);
            }
            idx += 1;
            continue;
        }
        let flow = match branch_op(cpu, insn, pc) {
            Some(flow) => flow,
            None => {
                cpu.s.pending = n - idx as i32;
                exec_other(cpu, insn, pc, false)
            }
        };
        if cpu.outside_kseg0 {
            b.mapped_access |= profile_bit(idx);
        }
        match flow {
            Flow::Next => idx += 1,
            Flow::Exit(r) => {
                let retired = r == ExitReason::Jump;
                cpu.s.budget += n - idx as i32 - retired as i32;
                return r;
            }
            Flow::Branch { taken, target } => {
                let slot_pc = pc.wrapping_add(4);
                let after = if taken { target } else { pc.wrapping_add(8) };
                let slot = if idx + 1 < b.insns.len() {
                    b.insns[idx + 1]
                } else {
                    // The delay slot is on the next page: fetch it now.
                    cpu.s.budget -= 1;
                    match cpu.fetch(slot_pc) {
                        Ok(w) => decode(w),
                        Err(e) => {
                            cpu.raise(e, pc_bd(slot_pc, true));
                            cpu.s.budget += 1;
                            return ExitReason::Exception;
                        }
                    }
                };
                let in_block = idx + 1 < b.insns.len();
                let rest = n - idx as i32 - 1 - in_block as i32;
                if !taken && insn.is_likely() {
                    cpu.s.budget += rest + 1;
                    cpu.s.pc = after;
                    return ExitReason::Jump;
                }
                cpu.s.pending = if in_block { n - idx as i32 - 1 } else { 1 };
                cpu.outside_kseg0 = false;
                let flow = exec(cpu, slot, slot_pc, true);
                if cpu.outside_kseg0 {
                    b.mapped_access |= profile_bit(idx + 1);
                }
                return match flow {
                    Flow::Exit(r) => {
                        cpu.s.budget += rest + (r != ExitReason::Jump) as i32;
                        r
                    }
                    _ => {
                        cpu.s.budget += rest;
                        cpu.s.pc = after;
                        ExitReason::Jump
                    }
                };
            }
        }
    }
    cpu.s.pc = b.end();
    ExitReason::Jump
}
