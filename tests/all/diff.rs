//! Differential testing of the two tiers: the interpreter
//! (`JitMode::Never`) is the reference, and the Cranelift tier
//! (`JitMode::Always`) must end every run in exactly the same state: exit
//! reason, GPRs, HI/LO, PC, the whole of CP0, the instruction count, the LL
//! bit and the compared RAM (vectors, exception log, code, scratch, stack),
//! and the FPU (FPRs, FCSR), which `fpu_diff.rs` exercises on a 24Kf.
//!
//! Programs come from the seeded generator in `gen.rs`. Environment:
//! - `MIPSJIT_DIFF_PROGRAMS=N`: random programs per byte order (default
//!   5,000), and N/5 random byte buffers per byte order (default 1,000);
//! - `MIPSJIT_DIFF_SEED=S`: base seed (program `i` uses seed `S + i`).
//!
//! A failure prints the seed, the byte order, the disassembly and the
//! fields that differ, and says how to rerun exactly that program
//! (`MIPSJIT_DIFF_SEED=<seed> MIPSJIT_DIFF_PROGRAMS=1`).
//!
//! Machines are reused across programs (building a board and a JIT per
//! program costs more than running it): before each program the CPU is
//! replaced by a fresh one over the same RAM, and every page that held
//! decoded code is handed to the machine as written, so its block cache
//! (and every chain into it) is dropped before the next run. Only the
//! exception handlers' blocks are kept, while their page is unchanged. A
//! failure is rerun on a brand-new pair of machines, and the report says
//! whether it reproduces there.

use crate::mipsgen::fpu::FpuState;
use crate::mipsgen::{self as g, CODE, Program, S0, SCRATCH_BASE, T0, T1, T2, T3, ZERO, phys};
use frontend::{decode, disasm};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runtime::cp0::Cp0;
use runtime::devices::malta;
use runtime::fpu::Fpu;
use runtime::{Cpu, CpuModel, Exit, JitMode, Machine};
use std::fmt::Write as _;
use std::time::Instant;

/// Register names, for reports.
const REG_NAMES: [&str; 32] = [
    "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "s0", "s1", "s2",
    "s3", "s4", "s5", "s6", "s7", "t8", "t9", "k0", "k1", "gp", "sp", "fp", "ra",
];

/// Default number of random programs per byte order.
const DEFAULT_PROGRAMS: u64 = 5_000;
/// Default base seed.
const DEFAULT_SEED: u64 = 0x6d69_7073_6a69_7400;
/// Programs run on one pair of machines before both are rebuilt.
const REUSE: usize = 500;
/// Failures reported in detail before the test gives up.
pub(crate) const MAX_REPORTS: usize = 3;

pub(crate) fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

// ---- state ---------------------------------------------------------------------

/// The architectural state after a run, minus memory.
#[derive(Debug, PartialEq)]
pub(crate) struct Regs {
    pub(crate) exit: Exit,
    pc: u32,
    icount: u64,
    /// CP0 Count (derived from the instruction count and the last mtc0).
    count: u32,
    llbit: bool,
    hi: u32,
    lo: u32,
    pub(crate) gpr: [u32; 32],
    pub(crate) cp0: Cp0,
    /// The FPU registers, FIR and FCSR (all zero on the 24Kc).
    pub(crate) fpu: Fpu,
}

/// Everything the two tiers must agree on.
#[derive(PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) regs: Regs,
    pub(crate) mem: Vec<u8>,
}

fn snapshot(m: &Machine, exit: Exit) -> Snapshot {
    let cpu = &m.cpu;
    let regs = Regs {
        exit,
        pc: cpu.s.pc,
        icount: cpu.icount(),
        count: cpu.count(),
        llbit: cpu.llbit,
        hi: cpu.s.hi,
        lo: cpu.s.lo,
        gpr: cpu.s.gpr,
        cp0: cpu.cp0.clone(),
        fpu: cpu.fpu.clone(),
    };
    let mut mem = vec![0; (g::COMPARED_PHYS.end - g::COMPARED_PHYS.start) as usize];
    cpu.phys.read_bytes(g::COMPARED_PHYS.start, &mut mem).expect("compared range is RAM");
    Snapshot { regs, mem }
}

/// The fields of `a` (interpreter) and `b` (JIT) that differ.
fn describe_diff(a: &Snapshot, b: &Snapshot) -> String {
    let mut out = String::new();
    let (x, y) = (&a.regs, &b.regs);
    let mut field = |name: &str, p: String, q: String| {
        if p != q {
            let _ = writeln!(out, "  {name}: interp {p} | jit {q}");
        }
    };
    field("exit", format!("{:x?}", x.exit), format!("{:x?}", y.exit));
    field("pc", format!("{:#010x}", x.pc), format!("{:#010x}", y.pc));
    field("icount", x.icount.to_string(), y.icount.to_string());
    field("count", x.count.to_string(), y.count.to_string());
    field("llbit", x.llbit.to_string(), y.llbit.to_string());
    field("hi", format!("{:#010x}", x.hi), format!("{:#010x}", y.hi));
    field("lo", format!("{:#010x}", x.lo), format!("{:#010x}", y.lo));
    for (r, name) in REG_NAMES.iter().enumerate() {
        field(&format!("gpr[{r}] ${name}"), format!("{:#010x}", x.gpr[r]), format!("{:#010x}", y.gpr[r]));
    }
    field("fcsr", format!("{:#010x}", x.fpu.fcsr), format!("{:#010x}", y.fpu.fcsr));
    for r in 0..32 {
        field(&format!("fpr[{r}]"), format!("{:#018x}", x.fpu.fpr[r]), format!("{:#018x}", y.fpu.fpr[r]));
    }
    // `{:#x?}` prints one CP0 field per line, arrays one element per line.
    for (p, q) in format!("{:#x?}", x.cp0).lines().zip(format!("{:#x?}", y.cp0).lines()) {
        if p != q {
            let _ = writeln!(out, "  cp0: interp {} | jit {}", p.trim(), q.trim());
        }
    }
    let mut shown = 0;
    for (i, (x, y)) in a.mem.iter().zip(&b.mem).enumerate() {
        if x != y {
            if shown < 16 {
                let pa = g::COMPARED_PHYS.start + i as u64;
                let _ = writeln!(out, "  mem phys {pa:#07x}: interp {x:#04x} | jit {y:#04x}");
            }
            shown += 1;
        }
    }
    if shown > 16 {
        let _ = writeln!(out, "  ... {} differing bytes in all", shown);
    }
    out
}

// ---- loading and running ----------------------------------------------------------

/// What one run starts from.
pub(crate) struct Setup<'a> {
    pub(crate) words: &'a [u32],
    pub(crate) gpr: [u32; 32],
    pub(crate) hi: u32,
    pub(crate) lo: u32,
    /// Seed of the random bytes in the scratch and stack areas.
    pub(crate) fill: u64,
    /// Fill the empty RAM around the code (phys 0x4000..0x20000, and from
    /// 0x40000 to the end) with
    /// `j` to a reset stub at [`PAD_STUB`] instead of zeros (nops), so that
    /// arbitrary code landing there ends at once instead of compiling a
    /// long sled of nop blocks.
    pub(crate) pad: bool,
    /// A 24Kf starting from this FPU state and Status; `None`: a 24Kc with
    /// Status 0.
    pub(crate) fpu: Option<FpuState>,
}

/// The reset stub for padded runs, on the otherwise empty page 1.
const PAD_STUB: u32 = 0x8000_1000;

fn new_machine(big_endian: bool, mode: JitMode) -> Machine {
    new_machine_with(big_endian, mode, None)
}

/// [`new_machine`] with Cranelift's optimiser for loops forced on or off.
fn new_machine_with(big_endian: bool, mode: JitMode, optimize_loops: Option<bool>) -> Machine {
    let phys = malta::build(g::RAM_BYTES, big_endian, Box::new(std::io::sink())).expect("board");
    Machine::with_loop_optimizer(Cpu::new(phys, big_endian), mode, optimize_loops).expect("machine")
}

fn guest_bytes(words: &[u32], big_endian: bool) -> Vec<u8> {
    words.iter().flat_map(|w| if big_endian { w.to_be_bytes() } else { w.to_le_bytes() }).collect()
}

/// Page 0 as every run starts it: the handler at both vectors.
fn vectors_page(big_endian: bool) -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    let handler = guest_bytes(&g::handler(), big_endian);
    for v in [g::REFILL_VECTOR, g::GENERAL_VECTOR] {
        page[phys(v) as usize..][..handler.len()].copy_from_slice(&handler);
    }
    page
}

/// The random bytes of the scratch and stack areas for fill seed `seed`.
fn fill_bytes(seed: u64) -> Vec<u8> {
    let mut fill = vec![0u8; (g::RANDOM_PHYS.end - g::RANDOM_PHYS.start) as usize];
    StdRng::seed_from_u64(seed).fill(&mut fill[..]);
    fill
}

/// Puts a fresh CPU into `m` with `s` loaded (`fill` from [`fill_bytes`]),
/// dropping `m`'s cached code: all of it, except the handlers' blocks when
/// page 0 is still exactly as loaded (recompiling them for every program
/// would cost more than the program).
fn load(m: &mut Machine, s: &Setup<'_>, fill: &[u8]) {
    let be = m.cpu.big_endian;
    let vectors = vectors_page(be);
    let mut now = vec![0u8; 4096];
    m.cpu.phys.read_bytes(0, &mut now).expect("RAM");
    let keep_vectors = now == vectors && !m.cpu.dirty_code.iter().any(|&(p, _)| p == 0);
    // Every page that holds decoded blocks, or did until a store the
    // dispatcher has not processed yet: the machine drops their blocks (and
    // chains into them) at the start of the next slice.
    let mut stale: Vec<u32> = m.cpu.code_pages.keys().copied().filter(|&p| !(keep_vectors && p == 0)).collect();
    stale.extend(m.cpu.dirty_code.iter().map(|&(p, _)| p));
    // Kept blocks stay guarded: stores to their code still drop them.
    let kept = m.cpu.code_pages.get(&0).copied().filter(|_| keep_vectors);
    let ram = std::mem::take(&mut m.cpu.phys);
    let model = if s.fpu.is_some() { CpuModel::Mips24Kf } else { CpuModel::Mips24Kc };
    let mut cpu = Cpu::with_model(ram, be, model);
    let p = &mut cpu.phys;
    p.write_bytes(0, &vec![0; g::COMPARED_PHYS.end as usize]).expect("RAM");
    p.write_bytes(0, &vectors).expect("RAM");
    p.write_bytes(g::RANDOM_PHYS.start, fill).expect("RAM");
    if s.pad {
        let pad = guest_bytes(&[g::j(PAD_STUB), g::NOP], be).repeat((g::RAM_BYTES - 0x40000) / 8);
        p.write_bytes(0x4000, &pad[..0x20000 - 0x4000]).expect("RAM");
        p.write_bytes(0x40000, &pad).expect("RAM");
        p.write_bytes(phys(PAD_STUB), &guest_bytes(&g::reset_stub(), be)).expect("RAM");
    }
    p.write_bytes(phys(CODE), &guest_bytes(s.words, be)).expect("RAM");
    cpu.s.gpr = s.gpr;
    cpu.s.gpr[0] = 0;
    cpu.s.hi = s.hi;
    cpu.s.lo = s.lo;
    cpu.s.pc = CODE;
    // Kernel mode, EXL = 0, BEV = 0: exceptions go to EBase (0x8000_0000).
    cpu.cp0.status = 0;
    cpu.cp0.ebase = 0x8000_0000;
    if let Some(f) = &s.fpu {
        cpu.cp0.status = f.status;
        cpu.fpu.fcsr = f.fcsr;
        cpu.fpu.fpr = f.fpr;
    }
    if let Some(chunks) = kept {
        cpu.code_pages.insert(0, chunks);
    }
    cpu.dirty_code = stale.into_iter().map(|p| (p, u128::MAX)).collect();
    *m.cpu = cpu;
}

/// An interpreter and a JIT machine of one byte order.
pub(crate) struct Rig {
    big_endian: bool,
    interp: Machine,
    jit: Machine,
    /// The Cranelift tier with the optimiser on for loops, as user mode
    /// compiles them (system mode compiles them without it).
    jit_opt: Machine,
    /// `auto` mode compiling on the spot after two interpreted runs: code
    /// shaped by the interpreter's profile (register-jump targets inside
    /// regions), which `always` mode never has.
    jit_auto: Machine,
    uses: usize,
}

/// The outcome of one program on both tiers.
pub(crate) struct Outcome {
    pub(crate) interp: Snapshot,
    pub(crate) jit: Snapshot,
    /// Blocks the JIT machine ran in the interpreter (0 when every block compiled).
    pub(crate) jit_interp_blocks: u64,
    /// Regions (loops of several blocks in one function) the JIT compiled.
    pub(crate) regions: u64,
    /// Register jumps those regions follow inside (see `Stats::region_jumps`).
    pub(crate) region_jumps: u64,
}

impl Outcome {
    pub(crate) fn agree(&self) -> bool {
        self.interp == self.jit
    }
}

impl Rig {
    pub(crate) fn new(big_endian: bool) -> Self {
        Self {
            big_endian,
            interp: new_machine(big_endian, JitMode::Never),
            jit: new_machine(big_endian, JitMode::Always),
            jit_opt: new_machine_with(big_endian, JitMode::Always, Some(true)),
            jit_auto: {
                let mut m = new_machine(big_endian, JitMode::Auto);
                m.compile_now_after = Some(2);
                m
            },
            uses: 0,
        }
    }

    pub(crate) fn run(&mut self, s: &Setup<'_>, limit: u64) -> Outcome {
        self.uses += 1;
        if self.uses > REUSE {
            *self = Self::new(self.big_endian);
            self.uses = 1;
        }
        let fill = fill_bytes(s.fill);
        load(&mut self.interp, s, &fill);
        let exit = self.interp.run(Some(limit));
        let interp = snapshot(&self.interp, exit);
        // Programs take turns: with and without the optimiser for loops,
        // and compiled as if the interpreter had seen only kseg0 RAM
        // accesses (no inline soft-TLB probe, the helper for everything
        // else, as `auto` mode compiles most kernel code) or not; or in
        // `auto` mode, with the interpreter's own profile.
        let auto = self.uses % 6 >= 4;
        let m = match self.uses % 6 {
            0 | 1 => &mut self.jit,
            2 | 3 => &mut self.jit_opt,
            _ => &mut self.jit_auto,
        };
        load(m, s, &fill);
        m.assumed_profile = if self.uses.is_multiple_of(2) && !auto { Some(0) } else { None };
        // Blocks that finish a slice in the interpreter (compiled code
        // stops where its longest run might pass the limit) are by design,
        // as are cold blocks in `auto` mode, and blocks whose inline FPU
        // code met Status.CU1 clear (the interpreter raises Coprocessor
        // Unusable) or another Status.FR (translated again).
        let interpreted = |m: &Machine| {
            if auto { 0 } else { m.stats.interp_blocks - m.stats.slice_tail_blocks - m.stats.exits.fpu_mode }
        };
        let (before, regions, region_jumps) = (interpreted(m), m.stats.regions, m.stats.region_jumps);
        let exit = m.run(Some(limit));
        let jit = snapshot(m, exit);
        let (regions, region_jumps) = (m.stats.regions - regions, m.stats.region_jumps - region_jumps);
        Outcome { interp, jit, jit_interp_blocks: interpreted(m) - before, regions, region_jumps }
    }
}

fn listing(words: &[u32]) -> String {
    let mut out = String::new();
    for (i, &w) in words.iter().enumerate() {
        let pc = CODE + 4 * i as u32;
        let _ = writeln!(out, "  {pc:08x}: {w:08x}  {}", disasm(decode(w), pc));
    }
    out
}

pub(crate) fn report(
    what: &str,
    s: &Setup<'_>,
    limit: u64,
    big_endian: bool,
    o: &Outcome,
    fresh: Option<bool>,
) -> String {
    let mut out = String::new();
    let order = if big_endian { "big" } else { "little" };
    let _ = writeln!(out, "=== {what}, {order}-endian, limit {limit}");
    if let Some(f) = fresh {
        let _ = writeln!(out, "reproduces on a fresh pair of machines: {f}");
    }
    let _ = writeln!(out, "exit: interp {:?} | jit {:?}", o.interp.regs.exit, o.jit.regs.exit);
    let _ = writeln!(out, "differences:\n{}", describe_diff(&o.interp, &o.jit));
    let _ = writeln!(out, "initial gpr: {:08x?}\ninitial hi/lo: {:08x} {:08x}", s.gpr, s.hi, s.lo);
    if let Some(f) = &s.fpu {
        let _ = writeln!(out, "initial status {:#010x}, fcsr {:#010x}\ninitial fpr: {:016x?}", f.status, f.fcsr, f.fpr);
    }
    let _ = writeln!(out, "program at {CODE:#x}:\n{}", listing(s.words));
    out
}

/// Runs `setup` on a brand-new pair of machines: does the mismatch reproduce?
pub(crate) fn reproduces_fresh(s: &Setup<'_>, limit: u64, big_endian: bool) -> bool {
    !Rig::new(big_endian).run(s, limit).agree()
}

// ---- random programs ------------------------------------------------------------

/// Program `seed`: its code, registers, limit and memory fill.
fn random_program(seed: u64) -> (Program, u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = rng.gen_range(4..=36);
    let mut p = g::program(&mut rng, len);
    // One run in ten loops longer and stops at an instruction limit, mid-program.
    if rng.gen_bool(0.1) {
        p.gpr[g::FP as usize] = rng.gen_range(10..=60);
        p.limit = rng.gen_range(1..=1500);
    }
    (p, rng.r#gen())
}

fn random_programs(big_endian: bool) {
    let count = env_u64("MIPSJIT_DIFF_PROGRAMS").unwrap_or(DEFAULT_PROGRAMS);
    let base = env_u64("MIPSJIT_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let start = Instant::now();
    let mut rig = Rig::new(big_endian);
    let (mut failures, mut reports) = (0u64, Vec::new());
    let (mut exceptions, mut insns, mut interrupts, mut self_modified) = (0u64, 0u64, 0u64, 0u64);
    let (mut regions, mut region_jumps) = (0u64, 0u64);
    let mut exits = std::collections::BTreeMap::<String, u64>::new();
    for i in 0..count {
        let seed = base.wrapping_add(i);
        let (p, fill) = random_program(seed);
        let s = Setup { words: &p.words, gpr: p.gpr, hi: p.hi, lo: p.lo, fill, pad: false, fpu: None };
        let o = rig.run(&s, p.limit);
        let n_exc = word_at(&o.interp, g::EXC_COUNT, big_endian);
        exceptions += n_exc as u64;
        interrupts +=
            (1..=n_exc.min(64)).filter(|&k| (exc_record(&o.interp, k, big_endian).1 >> 2) & 31 == 0).count() as u64;
        let code = &o.interp.mem[(phys(CODE) - g::COMPARED_PHYS.start) as usize..][..4 * p.words.len()];
        self_modified += (code != guest_bytes(&p.words, big_endian)) as u64;
        insns += o.interp.regs.icount;
        regions += o.regions;
        region_jumps += o.region_jumps;
        *exits
            .entry(format!("{:?}", o.interp.regs.exit).chars().take_while(|c| c.is_alphanumeric()).collect())
            .or_default() += 1;
        let uncompiled = o.jit_interp_blocks != 0;
        if !o.agree() || uncompiled {
            failures += 1;
            if reports.len() < MAX_REPORTS {
                let fresh = reproduces_fresh(&s, p.limit, big_endian);
                let what = format!("seed {seed:#x} (rerun: MIPSJIT_DIFF_SEED={seed:#x} MIPSJIT_DIFF_PROGRAMS=1)");
                let mut r = report(&what, &s, p.limit, big_endian, &o, Some(fresh));
                if uncompiled {
                    let _ =
                        writeln!(r, "the JIT machine interpreted {} blocks (compile failure?)", o.jit_interp_blocks);
                }
                reports.push(r);
            }
        }
    }
    eprintln!(
        "diff: {count} random programs ({}-endian) in {:.2?}: {insns} instructions, {exceptions} exceptions \
         ({interrupts} interrupts), {self_modified} programs modified their code, {regions} regions compiled \
         ({region_jumps} register jumps inside them), \
         exits {exits:?}",
        if big_endian { "big" } else { "little" },
        start.elapsed()
    );
    assert!(
        failures == 0,
        "{failures} of {count} programs diverged (base seed {base:#x}; rerun one with \
         MIPSJIT_DIFF_SEED=<seed> MIPSJIT_DIFF_PROGRAMS=1):\n{}",
        reports.join("\n")
    );
    // The generator must keep exercising what it is meant to.
    if count >= 1000 {
        assert!(exceptions > count, "too few exceptions: {exceptions}");
        assert!(exits.get("InstructionLimit").copied().unwrap_or(0) > count / 1000, "too few limits hit: {exits:?}");
        assert!(
            interrupts > 0 && self_modified > count / 200,
            "{interrupts} interrupts, {self_modified} self-modified"
        );
        assert!(exits.get("Reset").copied().unwrap_or(0) > count / 2, "too few programs ran to the end: {exits:?}");
        assert!(regions > count / 20, "too few loops compiled as regions: {regions}");
        assert!(region_jumps > count / 200, "too few register jumps inside regions: {region_jumps}");
    }
}

#[test]
fn random_programs_agree_little_endian() {
    random_programs(false);
}

#[test]
fn random_programs_agree_big_endian() {
    random_programs(true);
}

// ---- arbitrary bytes as code -------------------------------------------------------

/// Distinguishes byte-buffer seeds from program seeds.
const BYTES_SEED_KEY: u64 = 0xb17e5;

fn arbitrary_bytes(big_endian: bool) {
    let count = env_u64("MIPSJIT_DIFF_PROGRAMS").map_or(1_000, |n| (n / 5).max(1));
    let base = env_u64("MIPSJIT_DIFF_SEED").unwrap_or(DEFAULT_SEED) ^ BYTES_SEED_KEY;
    let mut rig = Rig::new(big_endian);
    let mut reports = Vec::new();
    let (mut failures, mut partly_interpreted) = (0, 0);
    for i in 0..count {
        let seed = base.wrapping_add(i);
        let mut rng = StdRng::seed_from_u64(seed);
        let n = rng.gen_range(1..=32);
        let mut words: Vec<u32> = (0..n).map(|_| rng.r#gen()).collect();
        // Falling off the end resets the board.
        words.extend(g::reset_stub());
        let mut gpr = [0u32; 32];
        for r in gpr.iter_mut() {
            *r = g::interesting(&mut rng);
        }
        gpr[g::S0 as usize] = SCRATCH_BASE;
        gpr[g::SP as usize] = g::STACK_BASE;
        let s = Setup { words: &words, gpr, hi: rng.r#gen(), lo: rng.r#gen(), fill: rng.r#gen(), pad: true, fpu: None };
        let o = rig.run(&s, 10_000);
        // Only a branch in the last word of a page stays interpreted.
        partly_interpreted += (o.jit_interp_blocks != 0) as u64;
        if !o.agree() {
            failures += 1;
            if reports.len() < MAX_REPORTS {
                let fresh = reproduces_fresh(&s, 10_000, big_endian);
                let what = format!(
                    "random bytes, seed {seed:#x} (rerun: MIPSJIT_DIFF_SEED={:#x} MIPSJIT_DIFF_PROGRAMS=1)",
                    seed ^ BYTES_SEED_KEY
                );
                reports.push(report(&what, &s, 10_000, big_endian, &o, Some(fresh)));
            }
        }
    }
    assert!(failures == 0, "{failures} of {count} byte buffers diverged:\n{}", reports.join("\n"));
    assert!(
        partly_interpreted * 20 < count,
        "the JIT machine interpreted blocks in {partly_interpreted} of {count} runs: is its compiler thread dead?"
    );
}

#[test]
fn arbitrary_bytes_as_code_never_crash_the_host_and_agree_little_endian() {
    arbitrary_bytes(false);
}

#[test]
fn arbitrary_bytes_as_code_never_crash_the_host_and_agree_big_endian() {
    arbitrary_bytes(true);
}

// ---- targeted tests ---------------------------------------------------------------

/// Runs `words` (with the reset stub appended) on both tiers from `gpr`,
/// asserts that they agree, and returns the interpreter's snapshot.
/// `words` followed by a jump to the reset stub (so the program ends the
/// run), and the stub.
pub(crate) fn ending_in_reset(words: &[u32]) -> Vec<u32> {
    let mut words = words.to_vec();
    let stub = CODE + 4 * (words.len() as u32 + 2);
    words.extend([g::j(stub), g::NOP]);
    words.extend(g::reset_stub());
    words
}

/// Runs `s` on a fresh interpreter and on `jit` (a fresh machine set up
/// as the test needs), 100,000 instructions at most: (the interpreter's
/// snapshot, `jit`'s), which must agree.
fn beside_the_interpreter(s: &Setup<'_>, big_endian: bool, jit: &mut Machine) -> (Snapshot, Snapshot) {
    let fill = fill_bytes(s.fill);
    let mut interp = new_machine(big_endian, JitMode::Never);
    load(&mut interp, s, &fill);
    let exit = interp.run(Some(100_000));
    let want = snapshot(&interp, exit);
    load(jit, s, &fill);
    let exit = jit.run(Some(100_000));
    let got = snapshot(jit, exit);
    assert!(want == got, "{}", describe_diff(&want, &got));
    (want, got)
}

fn run_both(words: &[u32], gpr: [u32; 32], limit: u64, big_endian: bool) -> Snapshot {
    let words = ending_in_reset(words);
    let s = Setup { words: &words, gpr, hi: 0x1111_1111, lo: 0x2222_2222, fill: 7, pad: false, fpu: None };
    let o = Rig::new(big_endian).run(&s, limit);
    assert!(o.agree(), "{}", report("targeted test", &s, limit, big_endian, &o, None));
    o.interp
}

fn base_gpr() -> [u32; 32] {
    let mut gpr = [0u32; 32];
    gpr[S0 as usize] = SCRATCH_BASE;
    gpr[g::S1 as usize] = SCRATCH_BASE | 0x2000_0000;
    gpr[g::S2 as usize] = 0x0040_0000;
    gpr[g::SP as usize] = g::STACK_BASE;
    gpr
}

pub(crate) fn word_at(s: &Snapshot, vaddr: u32, big_endian: bool) -> u32 {
    let b: [u8; 4] = s.mem[(phys(vaddr) - g::COMPARED_PHYS.start) as usize..][..4].try_into().unwrap();
    if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
}

/// Log record `n` (1-based, as the handler counts) of the exception handler.
pub(crate) fn exc_record(s: &Snapshot, n: u32, be: bool) -> (u32, u32, u32) {
    let rec = g::EXC_LOG + 16 * (n & 63);
    (word_at(s, rec, be), word_at(s, rec + 4, be), word_at(s, rec + 8, be))
}

#[test]
fn an_exception_in_a_delay_slot_records_the_branch_as_epc_and_sets_cause_bd() {
    // (slot instruction, ExcCode, refill vector?)
    let cases: [(u32, u32, &str); 9] = [
        (g::lw(T0, 1, S0), 4, "misaligned lw: AdEL"),
        (g::sw(T0, 0, g::S2), 3, "kuseg sw: TLB refill (TLBS)"),
        (g::SYSCALL, 8, "syscall"),
        (13, 9, "break"),
        (g::r_type(ZERO, ZERO, 0, 0, 52), 13, "teq $0,$0: trap"),
        (g::r_type(T1, T1, T2, 0, 32), 12, "add overflow"),
        (0x4400_0000, 11, "mfc1: Coprocessor Unusable"),
        (g::beq(ZERO, ZERO, 1), 10, "branch in a delay slot: RI"),
        (0x7400_0000, 10, "jalx: RI"),
    ];
    for be in [false, true] {
        for (slot, code, what) in cases {
            for branch in [g::beq(ZERO, ZERO, 2), g::bne(ZERO, ZERO, 2), g::bnel(T3, ZERO, 2)] {
                let mut gpr = base_gpr();
                gpr[T1 as usize] = 0x7fff_ffff;
                gpr[T3 as usize] = 1;
                let words = [branch, slot, g::addiu(T2, ZERO, 7), g::addiu(g::V0, ZERO, 9)];
                let s = run_both(&words, gpr, 1000, be);
                assert_eq!(s.regs.exit, Exit::Reset, "{what}");
                assert_eq!(word_at(&s, g::EXC_COUNT, be), 1, "{what}: one exception");
                let (epc, cause, _) = exc_record(&s, 1, be);
                assert_eq!(epc, CODE, "{what}: EPC is the branch");
                assert!(cause & 1 << 31 != 0, "{what}: Cause.BD");
                assert_eq!((cause >> 2) & 31, code, "{what}: ExcCode");
                // The handler resumes after the slot: index 2 runs.
                assert_eq!(s.regs.gpr[T2 as usize], 7, "{what}");
                assert_eq!(s.regs.gpr[g::V0 as usize], 9, "{what}");
            }
        }
    }
}

#[test]
fn a_not_taken_branch_likely_annuls_its_delay_slot() {
    for be in [false, true] {
        let words = [
            g::bnel(ZERO, ZERO, 1),       // 0: not taken
            g::addiu(T0, T0, 1),          // 1: annulled
            g::i_type(20, ZERO, ZERO, 2), // 2: beql taken -> 5
            g::addiu(T0, T0, 16),         // 3: runs
            g::addiu(T0, T0, 256),        // 4: skipped by the branch
            g::i_type(22, T3, 0, 1),      // 5: blezl 1: not taken
            g::lw(T1, 1, S0),             // 6: annulled (would fault)
        ];
        let mut gpr = base_gpr();
        gpr[T3 as usize] = 1;
        let s = run_both(&words, gpr, 1000, be);
        assert_eq!(s.regs.gpr[T0 as usize], 16);
        assert_eq!(word_at(&s, g::EXC_COUNT, be), 0, "the annulled lw never faulted");
        // Retired: 0, 2, 3, 5, j, nop, and the 5 words of the reset stub.
        assert_eq!(s.regs.icount, 11, "annulled slots do not retire");
    }
}

#[test]
fn sc_fails_after_an_eret() {
    for be in [false, true] {
        let words = [
            g::ll(T0, 0, S0),
            g::SYSCALL, // the handler's eret clears LLbit
            g::sc(T1, 0, S0),
            g::ll(T2, 4, S0),
            g::addiu(T3, ZERO, 0x55),
            g::sc(T3, 4, S0),
        ];
        let mut gpr = base_gpr();
        gpr[T1 as usize] = 0x1234;
        let s = run_both(&words, gpr, 1000, be);
        assert_eq!(s.regs.gpr[T1 as usize], 0, "sc after eret fails");
        assert_eq!(word_at(&s, SCRATCH_BASE, be), s.regs.gpr[T0 as usize], "failed sc stored nothing");
        assert_eq!(s.regs.gpr[T3 as usize], 1, "sc right after ll succeeds");
        assert_eq!(word_at(&s, SCRATCH_BASE + 4, be), 0x55);
    }
}

/// An endless loop of a few blocks with loads, stores and a conditional.
fn endless_loop() -> Vec<u32> {
    vec![
        g::addiu(T0, T0, 1),       // 0
        g::andi(T1, T0, 3),        // 1
        g::beq(T1, ZERO, 2),       // 2 -> 5
        g::addu(T2, T2, T0),       // 3
        g::sw(T2, 0, S0),          // 4
        g::lw(T3, 0, S0),          // 5
        g::bne(T0, ZERO, -7),      // 6 -> 0
        g::addiu(g::V0, g::V0, 1), // 7
    ]
}

/// Nested loops whose inner loop comes first, as compilers lay out
/// `for (i...) for (j...)`: a region headed at the inner loop's block has
/// the outer loop come back to it too, so the translator lowers that
/// block twice (see `jit::lower::inner_loop_copies`). Every limit on the
/// way stops both tiers at the same instruction.
#[test]
fn nested_loops_sharing_their_head_agree_at_every_limit() {
    for be in [false, true] {
        let words = [
            g::addiu(T0, ZERO, 4), // 0
            g::addiu(T1, ZERO, 5), // 1: A, outer loop
            g::addu(T2, T2, T0),   // 2: H, inner loop
            g::sw(T2, 0, S0),      // 3
            g::addiu(T1, T1, -1),  // 4
            g::bne(T1, ZERO, -4),  // 5 -> 2
            g::lw(T3, 0, S0),      // 6
            g::addiu(T0, T0, -1),  // 7: B
            g::bne(T0, ZERO, -8),  // 8 -> 1
            g::addu(T3, T3, T0),   // 9
        ];
        let s = run_both(&words, base_gpr(), 10_000, be);
        assert_eq!(s.regs.exit, Exit::Reset);
        assert_eq!(s.regs.gpr[T2 as usize], 5 * (4 + 3 + 2 + 1));
        assert_eq!(s.regs.gpr[T3 as usize], 50);
        for limit in (1..=130).chain([131, 150, 170]) {
            let s = run_both(&words, base_gpr(), limit, be);
            assert!(s.regs.icount <= limit, "ran past the limit: {} > {limit}", s.regs.icount);
        }
    }
}

#[test]
fn the_instruction_limit_stops_both_tiers_at_the_same_count() {
    for be in [false, true] {
        let words = endless_loop();
        let mut limits: Vec<u64> = (1..=40).collect();
        limits.extend([63, 64, 65, 127, 128, 129, 130, 131, 132, 133, 257, 1000, 4097, 65_537]);
        let mut last = 0;
        for &limit in &limits {
            let s = run_both(&words, base_gpr(), limit, be);
            assert_eq!(s.regs.exit, Exit::InstructionLimit);
            // Exact to the block: never past the limit, short of it only by
            // less than the block that did not fit (4 instructions here).
            assert!(s.regs.icount <= limit, "ran past the limit: {} > {limit}", s.regs.icount);
            assert!(limit - s.regs.icount < 4, "stopped too early: {} for {limit}", s.regs.icount);
            assert!(s.regs.icount >= last, "a larger limit ran fewer instructions");
            last = s.regs.icount;
        }
        // Resuming: many short runs on the same machines stay in step.
        let s = Setup { words: &words, gpr: base_gpr(), hi: 0, lo: 0, fill: 3, pad: false, fpu: None };
        let mut rig = Rig::new(be);
        let fill = fill_bytes(s.fill);
        load(&mut rig.interp, &s, &fill);
        load(&mut rig.jit, &s, &fill);
        for k in [1, 5, 17, 130, 131, 3, 999, 2, 64] {
            let a = rig.interp.run(Some(k));
            let b = rig.jit.run(Some(k));
            let (a, b) = (snapshot(&rig.interp, a), snapshot(&rig.jit, b));
            let o = Outcome { interp: a, jit: b, jit_interp_blocks: 0, regions: 0, region_jumps: 0 };
            assert!(o.agree(), "after run(Some({k})):\n{}", describe_diff(&o.interp, &o.jit));
        }
    }
}

#[test]
fn self_modifying_code_runs_the_new_instruction_after_a_jump() {
    use g::{T5, T6, T7, T8, T9};
    let new = g::addiu(T0, T0, 100);
    for be in [false, true] {
        // Back to the patched word through a register (jr) or a direct
        // branch; the store through kseg0 or through the kseg1 alias.
        for (via_jr, alias) in [(true, false), (false, false), (true, true), (false, true)] {
            let x = CODE + 4 * 6;
            let store_to = if alias { x | 0x2000_0000 } else { x };
            let back = if via_jr { g::jr(T9) } else { g::beq(ZERO, ZERO, -7) };
            let words = [
                g::lui(T7, store_to >> 16), // 0
                g::ori(T7, T7, store_to & 0xffff),
                g::lui(T8, new >> 16),
                g::ori(T8, T8, new & 0xffff),
                g::lui(T9, x >> 16),
                g::ori(T9, T9, x & 0xffff),
                g::addiu(T0, T0, 1),   // 6: X, patched below
                g::addiu(T5, T5, 1),   // 7: passes
                g::addiu(T6, ZERO, 2), // 8
                g::beq(T5, T6, 4),     // 9 -> 14: done after pass 2
                g::NOP,                // 10
                g::sw(T8, 0, T7),      // 11: overwrite X
                back,                  // 12: back to X
                g::NOP,                // 13
            ];
            let s = run_both(&words, base_gpr(), 10_000, be);
            let how = format!("via_jr {via_jr}, kseg1 alias {alias}, big-endian {be}");
            assert_eq!(s.regs.exit, Exit::Reset, "{how}");
            assert_eq!(s.regs.gpr[T5 as usize], 2, "{how}");
            assert_eq!(s.regs.gpr[T0 as usize], 101, "{how}: the second pass ran the new instruction");
        }
    }
}

#[test]
fn the_generator_covers_every_operation_it_is_meant_to() {
    use frontend::Op::*;
    const WANTED: &[frontend::Op] = &[
        Sll, Srl, Rotr, Sra, Sllv, Srlv, Rotrv, Srav, Jr, Jalr, Movz, Movn, Syscall, Break, Sync, Mfhi, Mthi, Mflo,
        Mtlo, Mult, Multu, Div, Divu, Add, Addu, Sub, Subu, And, Or, Xor, Nor, Slt, Sltu, Tge, Tgeu, Tlt, Tltu, Teq,
        Tne, Bltz, Bgez, Bltzl, Bgezl, Tgei, Tgeiu, Tlti, Tltiu, Teqi, Tnei, Bltzal, Bgezal, Bltzall, Bgezall, Synci,
        J, Jal, Beq, Bne, Blez, Bgtz, Addi, Addiu, Slti, Sltiu, Andi, Ori, Xori, Lui, Beql, Bnel, Blezl, Bgtzl, Lb, Lh,
        Lwl, Lw, Lbu, Lhu, Lwr, Sb, Sh, Swl, Sw, Swr, Cache, Ll, Pref, Sc, Madd, Maddu, Mul, Msub, Msubu, Clz, Clo,
        Sdbbp, Ext, Ins, Wsbh, Seb, Seh, Rdhwr, Mfc0, Mtc0, Wait, Mfc1, Mtc1, FAdd, Lwc1, Swc1, Ldc1, Lwc2, Cop2, Bc1f,
        Bc1t, Bc1fl, Reserved,
    ];
    let mut seen = std::collections::HashSet::new();
    for seed in 0..2000 {
        let (p, _) = random_program(seed);
        seen.extend(p.words.iter().map(|&w| decode(w).op));
    }
    let missing: Vec<_> = WANTED.iter().filter(|op| !seen.contains(op)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

#[test]
fn a_timer_interrupt_arrives_at_the_same_instruction_in_both_tiers() {
    use g::{T5, T6};
    for be in [false, true] {
        for delay in [1, 2, 3, 7, 20, 64, 65, 100, 131, 500] {
            let words = [
                g::mfc0(T0, 9),           // 0: Count
                g::addiu(T0, T0, delay),  // 1
                g::mtc0(T0, 11),          // 2: Compare = Count + delay
                g::ori(T1, ZERO, 0x8001), // 3: IM7 | IE
                g::mtc0(T1, 12),          // 4
                g::addiu(T2, T2, 1),      // 5: loop
                g::sw(T2, 0, S0),         // 6
                g::andi(T3, T2, 7),       // 7
                g::beq(T3, ZERO, 2),      // 8 -> 11
                g::addu(T5, T5, T2),      // 9
                g::addiu(T6, T6, 3),      // 10
                g::bne(T2, ZERO, -7),     // 11 -> 5
                g::NOP,                   // 12
            ];
            // Count ticks every 6 instructions: delay 500 needs 3000.
            let s = run_both(&words, base_gpr(), 4000, be);
            let n = word_at(&s, g::EXC_COUNT, be);
            assert!(n > 0, "delay {delay}: no interrupt");
            let (_, cause, _) = exc_record(&s, 1, be);
            assert_eq!((cause >> 2) & 31, 0, "delay {delay}: the first exception is the interrupt");
        }
    }
}

#[test]
fn count_is_exact_inside_a_block_in_both_tiers() {
    // Count ticks once per 6 instructions of virtual time. Two reads 60
    // instructions apart in one block differ by exactly 10, in both tiers:
    // a block is charged when it starts, and the instructions not yet run
    // must not count (a long block once made Count run backwards between
    // blocks, and Linux's timer probe gave up).
    use g::T1;
    for be in [false, true] {
        let mut words = vec![g::mfc0(T0, 9)];
        words.extend(std::iter::repeat_n(g::NOP, 59));
        words.push(g::mfc0(T1, 9));
        let s = run_both(&words, base_gpr(), 10_000, be);
        let (a, b) = (s.regs.gpr[T0 as usize], s.regs.gpr[T1 as usize]);
        assert_eq!(b.wrapping_sub(a), 10, "Count {a:#x} then {b:#x}");
    }
}

#[test]
fn a_register_jump_with_many_targets_stays_inside_its_region() {
    // An interpreter's dispatch: `jr` to one of eight handlers, picked by
    // a counter, each coming back. `auto` mode profiles the targets; the
    // region then tests for each and enters it like a direct edge, and
    // must run as the interpreter does.
    use g::{S0, S1, S2, T0, T1, T8};
    let handler = |k: u32, at: usize| {
        let check = 41i32;
        [
            g::addiu(S1, S1, k as i32 + 1),
            g::i_type(4, 0, 0, check - (at as i32 + 1)), // b check
            g::r_type(S2, S1, S2, 0, 0x21),              // addu $s2, $s2, $s1 (slot)
            g::NOP,
        ]
    };
    let mut words = vec![
        g::addiu(S0, g::ZERO, 300),
        g::lui(T8, CODE >> 16),
        g::ori(T8, T8, (CODE & 0xffff) + 9 * 4),
        g::addiu(S1, g::ZERO, 0),
        g::i_type(12, S0, T0, 7),       // dispatch: andi $t0, $s0, 7
        g::r_type(0, T0, T0, 4, 0),     // sll $t0, $t0, 4
        g::r_type(T8, T0, T1, 0, 0x21), // addu $t1, $t8, $t0
        g::jr(T1),
        g::NOP,
    ];
    for k in 0..8 {
        let at = words.len();
        words.extend(handler(k, at + 1));
    }
    assert_eq!(words.len(), 41);
    words.extend([g::addiu(S0, S0, -1), g::bgtz(S0, 4 - 43), g::NOP]); // check
    let words = ending_in_reset(&words);
    let s = Setup { words: &words, gpr: base_gpr(), hi: 0, lo: 0, fill: 3, pad: false, fpu: None };
    for be in [false, true] {
        let mut auto = new_machine(be, JitMode::Auto);
        auto.compile_now_after = Some(20);
        let (want, _) = beside_the_interpreter(&s, be, &mut auto);
        assert_eq!(want.regs.exit, Exit::Reset);
        assert!(auto.stats.region_jumps >= 4, "the region follows the jumps: {:?}", auto.stats);
        assert!(auto.stats.blocks_compiled > 0 && auto.stats.interp_blocks < 400, "{:?}", auto.stats);
    }
}

#[test]
fn code_with_an_fpu_instruction_off_its_path_runs_translated_while_the_fpu_is_off() {
    // A loop whose region holds an add.d on a path never taken, on a 24Kf
    // with Status.CU1 clear (a process the kernel's lazy FPU switch has
    // not given the FPU): the translated code must run, not go back to
    // the interpreter at every entry; only reaching the add.d may.
    use g::{S1, T0};
    let add_d = 0x4620_0000 | 2 << 16 | 4 << 6; // add.d $f4, $f0, $f2
    let words = ending_in_reset(&[
        g::addiu(S0, ZERO, 200),
        g::addiu(S1, S1, 1), // 1: loop
        g::regimm(S0, 0, 6), // bltz $s0, 9
        g::NOP,
        g::addiu(S0, S0, -1), // 4
        g::bgtz(S0, -5),      // bgtz $s0, 1
        g::NOP,
        g::beq(ZERO, ZERO, 4), // b 12
        g::NOP,
        add_d,                  // 9: never reached
        g::beq(ZERO, ZERO, -7), // b 4
        g::NOP,
        g::addiu(T0, ZERO, 1), // 12
    ]);
    let fpu = Some(FpuState { status: 0, fcsr: 0, fpr: [0; 32] });
    let s = Setup { words: &words, gpr: base_gpr(), hi: 0, lo: 0, fill: 3, pad: false, fpu };
    for be in [false, true] {
        let mut jit = new_machine(be, JitMode::Always);
        let (want, _) = beside_the_interpreter(&s, be, &mut jit);
        assert_eq!(want.regs.exit, Exit::Reset);
        let passes = want.regs.gpr[S1 as usize].wrapping_sub(base_gpr()[S1 as usize]);
        assert_eq!((passes, want.regs.gpr[T0 as usize]), (200, 1));
        let st = &jit.stats;
        assert_eq!((st.exits.fpu_mode, st.interp_blocks - st.slice_tail_blocks), (0, 0), "{st:?}");
    }
}
