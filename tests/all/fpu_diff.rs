//! Differential testing of the FPU: random programs mixing COP1/COP1X
//! instructions with the integer ones (`gen_fpu.rs`) run on a 24Kf in the
//! interpreter and in the Cranelift tier, which must agree on everything
//! `diff.rs` compares plus every FPR and FCSR.
//!
//! Environment (as in `diff.rs`):
//! - `MIPSJIT_FPU_DIFF_PROGRAMS=N`: programs per byte order (default 1,500);
//! - `MIPSJIT_FPU_DIFF_SEED=S`: base seed (program `i` uses seed `S + i`).

use crate::diff::{
    MAX_REPORTS, Outcome, Rig, Setup, ending_in_reset, env_u64, exc_record, report, reproduces_fresh, word_at,
};
use crate::mipsgen::fpu::{self, CU1, FR};
use crate::mipsgen::{self as g, Program};
use frontend::{Op, decode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runtime::Exit;
use std::collections::BTreeMap;

/// Default number of random programs per byte order.
const DEFAULT_PROGRAMS: u64 = 1_500;
/// Default base seed.
const DEFAULT_SEED: u64 = 0x6670_7564_6966_6600;

/// ExcCode of the Floating Point exception.
const FPE: u32 = 15;
/// ExcCode of Reserved Instruction.
const RI: u32 = 10;

/// Program `seed`: code, registers, FPU state, limit and memory fill.
fn random_program(seed: u64) -> (Program, fpu::FpuState, u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let len = rng.gen_range(4..=40);
    let (mut p, f) = fpu::program(&mut rng, len);
    if rng.gen_bool(0.1) {
        p.gpr[g::FP as usize] = rng.gen_range(10..=60);
        p.limit = rng.gen_range(1..=1500);
    }
    (p, f, rng.r#gen())
}

/// What the runs exercised, so that a generator slip that stops testing
/// something fails loudly.
#[derive(Default, Debug)]
struct Coverage {
    /// Exceptions by ExcCode.
    exceptions: BTreeMap<u32, u64>,
    /// Runs that ended with FR = 1 and with FR = 0.
    fr: [u64; 2],
    /// Runs whose final FCSR has a non-zero Flags field.
    flags: u64,
    /// Runs whose FPRs changed.
    fpr_changed: u64,
    /// Runs that reached the reset stub.
    finished: u64,
}

fn random_programs(big_endian: bool) {
    let count = env_u64("MIPSJIT_FPU_DIFF_PROGRAMS").unwrap_or(DEFAULT_PROGRAMS);
    let base = env_u64("MIPSJIT_FPU_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let mut rig = Rig::new(big_endian);
    let (mut failures, mut reports) = (0u64, Vec::new());
    let mut cov = Coverage::default();
    for i in 0..count {
        let seed = base.wrapping_add(i);
        let (p, f, fill) = random_program(seed);
        let initial_fpr = f.fpr;
        let s = Setup { words: &p.words, gpr: p.gpr, hi: p.hi, lo: p.lo, fill, pad: false, fpu: Some(f) };
        let o = rig.run(&s, p.limit);
        tally(&mut cov, &o, &initial_fpr, big_endian);
        if !o.agree() || o.jit_interp_blocks != 0 {
            failures += 1;
            if reports.len() < MAX_REPORTS {
                let fresh = reproduces_fresh(&s, p.limit, big_endian);
                let what =
                    format!("FPU seed {seed:#x} (rerun: MIPSJIT_FPU_DIFF_SEED={seed:#x} MIPSJIT_FPU_DIFF_PROGRAMS=1)");
                let mut r = report(&what, &s, p.limit, big_endian, &o, Some(fresh));
                if o.jit_interp_blocks != 0 {
                    r.push_str(&format!("the JIT machine interpreted {} blocks\n", o.jit_interp_blocks));
                }
                reports.push(r);
            }
        }
    }
    assert!(failures == 0, "{failures} of {count} FPU programs diverged:\n{}", reports.join("\n"));
    eprintln!("fpu diff ({}-endian): {count} programs, {cov:?}", if big_endian { "big" } else { "little" });
    if count >= 1000 {
        let exc = |code| cov.exceptions.get(&code).copied().unwrap_or(0);
        assert!(exc(FPE) > count / 10, "too few Floating Point exceptions: {cov:?}");
        assert!(exc(RI) > count / 20, "too few Reserved Instruction exceptions: {cov:?}");
        assert!(exc(11) > 0, "no Coprocessor Unusable: {cov:?}");
        assert!(cov.fr[0] > count / 5 && cov.fr[1] > count / 5, "FR=0 and FR=1 unbalanced: {cov:?}");
        assert!(cov.flags > count / 2 && cov.fpr_changed > count * 3 / 4, "FPU state rarely changed: {cov:?}");
        assert!(cov.finished > count / 2, "too few programs ran to the end: {cov:?}");
    }
}

fn tally(cov: &mut Coverage, o: &Outcome, initial_fpr: &[u64; 32], be: bool) {
    let r = &o.interp.regs;
    let n = word_at(&o.interp, g::EXC_COUNT, be);
    for k in 1..=n.min(64) {
        *cov.exceptions.entry((exc_record(&o.interp, k, be).1 >> 2) & 31).or_default() += 1;
    }
    let status = r.cp0.status;
    cov.fr[(status & FR != 0) as usize] += 1;
    cov.flags += (r.fpu.fcsr & 0x7c != 0) as u64;
    cov.fpr_changed += (r.fpu.fpr != *initial_fpr) as u64;
    cov.finished += (r.exit == Exit::Reset) as u64;
}

#[test]
fn random_fpu_programs_agree_little_endian() {
    random_programs(false);
}

#[test]
fn random_fpu_programs_agree_big_endian() {
    random_programs(true);
}

#[test]
fn the_fpu_generator_covers_every_operation_it_is_meant_to() {
    use frontend::Op::*;
    const WANTED: &[Op] = &[
        FAdd, FSub, FMul, FDiv, FSqrt, FAbs, FNeg, FMov, FCvtS, FCvtD, FCvtW, FCvtL, FRoundW, FTruncW, FCeilW, FFloorW,
        FRoundL, FTruncL, FCeilL, FFloorL, FCmp, Bc1t, Bc1f, Bc1tl, Bc1fl, FMovcf, Movci, FMovz, FMovn, FMadd, FMsub,
        FNmadd, FNmsub, FRecip, FRsqrt, Lwc1, Swc1, Ldc1, Sdc1, Lwxc1, Ldxc1, Swxc1, Sdxc1, Luxc1, Suxc1, Mfc1, Mtc1,
        Mfhc1, Mthc1, Cfc1, Ctc1, Prefx, Mtc0,
    ];
    let mut seen = std::collections::HashSet::new();
    let (mut fr, mut status_writes) = (0, 0);
    for seed in 0..500 {
        let (p, f, _) = random_program(seed);
        seen.extend(p.words.iter().map(|&w| decode(w).op));
        fr += (f.status & FR != 0) as u32;
        assert!(f.status & CU1 != 0, "programs start with the FPU usable");
        status_writes += p.words.iter().filter(|&&w| decode(w).op == Mtc0 && w >> 11 & 31 == 12).count() as u32;
    }
    let missing: Vec<_> = WANTED.iter().filter(|op| !seen.contains(op)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    assert!(fr > 100 && fr < 400, "FR=1 in {fr} of 500 programs");
    assert!(status_writes > 50, "{status_writes} Status writes");
}

// ---- targeted tests -------------------------------------------------------------

/// Runs `words` (plus the ending) on a 24Kf from `fpu` on both tiers,
/// asserts they agree and returns the interpreter's final FPU state and GPRs.
fn run_fpu(words: &[u32], gpr: [u32; 32], f: fpu::FpuState, be: bool) -> crate::diff::Snapshot {
    let words = ending_in_reset(words);
    let s = Setup { words: &words, gpr, hi: 0, lo: 0, fill: 5, pad: false, fpu: Some(f) };
    let o = Rig::new(be).run(&s, 10_000);
    assert!(o.agree(), "{}", report("targeted FPU test", &s, 10_000, be, &o, None));
    o.interp
}

#[test]
fn an_fpu_branch_sees_a_compare_in_the_same_block() {
    // c.eq.s $f0,$f2 sets cc 3; bc1t/bc1f on it, in one block, both ways.
    let ceq_cc3 = 0x4602_0000 | 3 << 8 | 0x32;
    for be in [false, true] {
        for (a, b, taken) in [(0x3f80_0000u64, 0x3f80_0000u64, true), (0x3f80_0000, 0x4000_0000, false)] {
            let mut fpr = [0u64; 32];
            fpr[0] = a;
            fpr[2] = b;
            let f = fpu::FpuState { status: CU1, fcsr: 0, fpr };
            let words = [
                ceq_cc3,
                0x4500_0000 | 3 << 18 | 1 << 16 | 2, // bc1t $fcc3, +2
                g::addiu(g::T0, g::ZERO, 1),         // slot
                g::addiu(g::T1, g::ZERO, 1),         // skipped when taken
                g::addiu(g::T2, g::ZERO, 1),
            ];
            let s = run_fpu(&words, [0; 32], f, be);
            assert_eq!(s.regs.exit, Exit::Reset);
            assert_eq!(s.regs.gpr[g::T0 as usize], 1);
            assert_eq!(s.regs.gpr[g::T1 as usize], !taken as u32);
            assert_eq!(s.regs.gpr[g::T2 as usize], 1);
        }
    }
}

#[test]
fn inline_fpu_loads_stores_and_moves_check_cu1_alignment_and_fr() {
    use g::{S0, SCRATCH_BASE, T0};
    let (ldc1, sdc1, lwc1) = (
        |ft, off| g::i_type(53, S0, ft, off),
        |ft, off| g::i_type(61, S0, ft, off),
        |ft, off| g::i_type(49, S0, ft, off),
    );
    let mov_d = |fd: u32, fs: u32| 0x4620_0006 | fs << 11 | fd << 6;
    let words = [
        ldc1(3, 0),               // FR=0: the pair $f2/$f3
        sdc1(3, 16),              // back, 16 bytes on
        ldc1(4, 4),               // misaligned: AdEL
        lwc1(5, 8),               //
        fpu::cop1_move(0, T0, 5), // mfc1 $t0, $f5
        mov_d(6, 3),              // odd with FR=0: RI
        fpu::cop1_move(4, T0, 7), // mtc1 $t0, $f7
    ];
    // (Status, exceptions by ExcCode: AdEL 4, RI 10, CpU 11)
    let cases = [(CU1, vec![4, 10]), (CU1 | FR, vec![4]), (0, vec![11; 7])];
    for be in [false, true] {
        for (status, want) in &cases {
            let mut gpr = [0; 32];
            gpr[S0 as usize] = SCRATCH_BASE;
            let f = fpu::FpuState { status: *status, fcsr: 0, fpr: [0x1111_2222_3333_4444; 32] };
            let s = run_fpu(&words, gpr, f, be);
            let n = word_at(&s, g::EXC_COUNT, be);
            let got: Vec<u32> = (1..=n).map(|k| (exc_record(&s, k, be).1 >> 2) & 31).collect();
            assert_eq!(&got, want, "status {status:#x}, big-endian {be}");
            if *status & CU1 != 0 {
                let (a, b) = (word_at(&s, SCRATCH_BASE, be), word_at(&s, SCRATCH_BASE + 4, be));
                assert_eq!((word_at(&s, SCRATCH_BASE + 16, be), word_at(&s, SCRATCH_BASE + 20, be)), (a, b));
                assert_eq!(s.regs.gpr[T0 as usize], word_at(&s, SCRATCH_BASE + 8, be), "mfc1 of lwc1");
                assert_eq!(s.regs.fpu.fpr[7] as u32, s.regs.gpr[T0 as usize], "mtc1");
            }
        }
    }
}

#[test]
fn inline_fpu_arithmetic_agrees_at_the_edges() {
    // add, sub, mul and div are inline only in the common case; at each
    // edge below both tiers must give the interpreter's result and FCSR.
    // Single operands sit in the low words, doubles fill the register
    // (FR=1).
    // op.fmt $f4, $f0, $f2
    let arith = |fmt: u32, funct: u32| 0x4400_0000 | fmt << 21 | 2 << 16 | 4 << 6 | funct;
    let min_s = 0x0080_0000u64;
    let cases: &[(u32, u64, u64, u32, u32)] = &[
        // (format, fs, ft, fcsr, exceptions the multiplication must raise)
        (16, min_s, 0x3f7f_ffff, 0, 0b11), // mul.s: rounds to 2^-126, still tiny (U, I)
        (16, min_s + 1, 0x3f7f_ffff, 0, 0b01), // just above: I
        (16, 0x7f7f_ffff, 0x4000_0000, 0, 0b101), // MAX·2: O, I
        (16, 0x0000_0001, 0x3f80_0000, 0, 0), // a subnormal operand
        (16, 0x7fbf_ffff, 0x3f80_0000, 0, 0), // a quiet NaN (legacy)
        (16, 0x0080_0000, 0x0080_0000, 0, 0b11), // underflow to zero
        (16, 0x3f80_0001, 0x3f80_0001, 1, 0b01), // toward zero
        (16, 0x3f80_0001, 0x3f80_0001, 1 << 7, 0b01), // Inexact enabled: FPE
        (17, 0x1a70_0000_0000_0000, 0x1a70_0000_0000_0000, 0, 0b11), // 2^-600 squared: U, I
        (17, 0x0010_0000_0000_0000, 0x3fef_ffff_ffff_ffff, 0, 0b11), // rounds to the smallest normal: U, I
        (17, 0x2000_0000_0000_0000, 0x2000_0000_0000_0000, 0, 0), // 2^-511 squared: exactly 2^-1022
        (17, 0x7fef_ffff_ffff_ffff, 0x4000_0000_0000_0000, 0, 0b101),
        (17, 0x3ff0_0000_0000_0001, 0x3ff0_0000_0000_0001, 0, 0b01),
        (17, 0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0, 0),
        (17, 0x3ff0_0000_0000_0001, 0x3ff0_0000_0000_0001, 3, 0b01), // toward -inf
        // Subnormal and infinite operands with results well inside the
        // normal range (translated code takes sums and products of those
        // inline, the interpreter in software).
        (16, 0x0000_0001, 0x7e80_0000, 0, 0),    // 2^-149·2^126: exact
        (16, 0x0000_0003, 0x7f7f_ffff, 0, 0b01), // I
        (16, 0x7f80_0000, 0x3f80_0000, 0, 0),    // inf·1
        (17, 0x0000_0000_0000_0001, 0x7fe0_0000_0000_0000, 0, 0), // 2^-1074·2^1023: exact
        (17, 0x0000_0000_0000_0003, 0x7fef_ffff_ffff_ffff, 0, 0b01), // I
        (17, 0x000f_ffff_ffff_ffff, 0x3ff0_0000_0000_0000, 0, 0), // a subnormal times 1
        (17, 0x7ff0_0000_0000_0000, 0x0000_0000_0000_0000, 0, 0b10000), // inf·0: V
    ];
    for be in [false, true] {
        for &(fmt, a, b, fcsr, want_mul) in cases {
            for funct in 0..4 {
                let mut fpr = [0u64; 32];
                (fpr[0], fpr[2]) = (a, b);
                let f = fpu::FpuState { status: CU1 | FR, fcsr, fpr };
                let s = run_fpu(&[arith(fmt, funct)], [0; 32], f, be);
                if funct == 2 && fcsr & (1 << 7) == 0 {
                    let cause = s.regs.fpu.fcsr >> 12 & 0x3f;
                    assert_eq!(cause, want_mul, "mul fmt {fmt} {a:#x}·{b:#x}: cause {cause:#b}");
                }
            }
        }
    }
}

#[test]
fn inline_fpu_code_follows_fr_when_it_changes_under_it() {
    // A loop whose body reads doubles and their halves (add.d, mfc1,
    // mfhc1) flips Status.FR at the end of each pass: its translated code
    // was compiled for one FR, meets the other on entry, is translated
    // again (up to three times, then without inline FPU code), and must
    // still read what the interpreter reads in every pass.
    use g::{T0, T1, T2, T3, T5, T6};
    let add_d = 0x4620_0000 | 2 << 16 | 4 << 6; // add.d $f4, $f0, $f2
    let words = [
        g::addiu(T0, g::ZERO, 6),
        add_d,                          // loop:
        fpu::cop1_move(0, T1, 4),       // mfc1 $t1, $f4
        fpu::cop1_move(3, T2, 4),       // mfhc1 $t2, $f4
        g::r_type(T3, T1, T3, 0, 0x21), // addu $t3, $t3, $t1
        g::r_type(T3, T2, T3, 0, 0x21), // addu $t3, $t3, $t2
        g::cop0(0, T5, 12, 0),          // mfc0 $t5, Status
        g::i_type(15, 0, T6, 0x0400),   // lui $t6, 0x400 (FR)
        g::r_type(T5, T6, T5, 0, 0x26), // xor $t5, $t5, $t6
        g::cop0(4, T5, 12, 0),          // mtc0 $t5, Status
        g::addiu(T0, T0, -1),
        g::i_type(5, T0, g::ZERO, -11), // bne $t0, $zero, loop
        g::NOP,
    ];
    let mut fpr = [0u64; 32];
    // With FR=1, $f0 and $f2 are whole doubles; with FR=0 the pairs
    // $f0/$f1 and $f2/$f3.
    fpr[0] = 0x4000_0000_0000_0001; // 2 (+ulp); its low word under FR=0
    fpr[1] = 0x0000_0000_3ff8_0000; // under FR=0, the high word of $f0: 1.5
    fpr[2] = 0x3ff0_0000_0000_0000; // 1
    fpr[3] = 0x1234_5678_4010_0000; // under FR=0: 4
    for be in [false, true] {
        for status in [CU1, CU1 | FR] {
            let f = fpu::FpuState { status, fcsr: 0, fpr };
            let words = ending_in_reset(&words);
            let s = Setup { words: &words, gpr: [0; 32], hi: 0, lo: 0, fill: 5, pad: false, fpu: Some(f) };
            let o = Rig::new(be).run(&s, 10_000);
            assert!(o.agree(), "{}", report("FR flips", &s, 10_000, be, &o, None));
            assert_eq!(o.interp.regs.exit, Exit::Reset);
            assert_eq!(o.interp.regs.gpr[T0 as usize], 0, "all six passes ran");
            assert_eq!(o.jit_interp_blocks, 0, "blocks interpreted other than for the FPU mode");
        }
    }
}
