//! The FPU side of the random program generator: COP1 and COP1X
//! instructions mixed into the integer programs of `gen.rs`, interesting
//! operand values (signed zeros, denormals, infinities, legacy NaNs, the
//! edges of the integer conversions), and random FCSR settings so that
//! every rounding mode and the Floating Point exception get exercised.
//!
//! A program starts with Status.CU1 set and Status.FR random; sequences
//! in the body rewrite FCSR (`ctc1`), load constants into FPRs and
//! sometimes flip Status.FR or clear CU1 (`mtc0`).

use super::{Gen, Program, S0, S1, S2, SP, ZERO, i_type, lui, mtc0, ori, r_type};
use frontend::{Op, decode};
use rand::Rng;
use rand::rngs::StdRng;

/// Status.CU1.
pub const CU1: u32 = 1 << 29;
/// Status.FR.
pub const FR: u32 = 1 << 26;

/// Index registers of `lwxc1` and friends (`$a0`..`$a3`): small offsets.
const INDEX: [u32; 4] = [4, 5, 6, 7];
/// GPRs that start with FP bit patterns (`$t4`..`$t7`), for `mtc1`.
const FP_PATTERNS: [u32; 4] = [12, 13, 14, 15];

/// The FPU state a program starts from.
#[derive(Clone, Debug)]
pub struct FpuState {
    /// CP0 Status (CU1, maybe FR; kernel mode, interrupts off).
    pub status: u32,
    /// FCSR.
    pub fcsr: u32,
    /// The registers.
    pub fpr: [u64; 32],
}

/// An interesting single (bit pattern).
pub fn single(rng: &mut StdRng) -> u32 {
    const CORNERS: [u32; 34] = [
        0x0000_0000, // +0
        0x8000_0000, // -0
        0x3f80_0000, // 1
        0xbf80_0000, // -1
        0x3f00_0000, // 0.5
        0x3fc0_0000, // 1.5
        0x4020_0000, // 2.5
        0xc020_0000, // -2.5
        0x3eff_ffff, // 0.49999997
        0x0000_0001, // smallest denormal
        0x007f_ffff, // largest denormal
        0x8000_0001,
        0x0080_0000, // smallest normal
        0x0080_0001,
        0x7f7f_ffff, // largest
        0xff7f_ffff,
        0x7f80_0000, // inf
        0xff80_0000, // -inf
        0x7fbf_ffff, // quiet NaN (legacy: top fraction bit clear)
        0x7f80_0001, // quiet NaN
        0xffbf_ffff,
        0x7fc0_0000, // signalling NaN (legacy: top fraction bit set)
        0xffc0_0000,
        0x7fff_ffff,
        0x4f00_0000, // 2^31
        0xcf00_0000, // -2^31
        0x4eff_ffff, // 2^31 - 128
        0xcf00_0001,
        0x5f00_0000, // 2^63
        0xdf00_0000, // -2^63
        0x5eff_ffff,
        0x4b80_0000, // 2^24
        0x4b80_0001,
        0x3400_0000, // 2^-23
    ];
    match rng.gen_range(0..10) {
        0..=4 => CORNERS[rng.gen_range(0..CORNERS.len())],
        // Moderate magnitudes, where arithmetic stays finite a while.
        5..=7 => (rng.gen_range(0x70..0x90u32) << 23) | rng.gen_range(0..1 << 23) | (rng.r#gen::<u32>() & 1 << 31),
        // Near the bottom of the range: underflow and flushing.
        8 => (rng.gen_range(0..3u32) << 23) | rng.gen_range(0..1 << 23) | (rng.r#gen::<u32>() & 1 << 31),
        _ => rng.r#gen(),
    }
}

/// An interesting double (bit pattern).
pub fn double(rng: &mut StdRng) -> u64 {
    const CORNERS: [u64; 38] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_0000_0000, // 1
        0xbff0_0000_0000_0000,
        0x3fe0_0000_0000_0000, // 0.5
        0x4004_0000_0000_0000, // 2.5
        0xc004_0000_0000_0000,
        0x3ff8_0000_0000_0000, // 1.5
        0x0000_0000_0000_0001, // smallest denormal
        0x000f_ffff_ffff_ffff,
        0x8000_0000_0000_0001,
        0x0010_0000_0000_0000, // smallest normal
        0x7fef_ffff_ffff_ffff, // largest
        0xffef_ffff_ffff_ffff,
        0x7ff0_0000_0000_0000, // inf
        0xfff0_0000_0000_0000,
        0x7ff7_ffff_ffff_ffff, // quiet NaN (legacy)
        0x7ff0_0000_0000_0001,
        0x7ff8_0000_0000_0000, // signalling NaN (legacy)
        0xfff8_0000_0000_0000,
        0x41e0_0000_0000_0000, // 2^31
        0x41df_ffff_ffc0_0000, // 2^31 - 1
        0x41df_ffff_ffe0_0000, // 2^31 - 0.5
        0xc1e0_0000_0000_0000, // -2^31
        0xc1e0_0000_0010_0000, // -2^31 - 0.5
        0xc1e0_0000_0020_0000, // -2^31 - 1
        0x43e0_0000_0000_0000, // 2^63
        0xc3e0_0000_0000_0000,
        0x43df_ffff_ffff_ffff,
        0x47ef_ffff_e000_0000, // largest single
        0x47ef_ffff_f000_0000, // halfway above it
        0x47f0_0000_0000_0000,
        0x3810_0000_0000_0000, // smallest normal single
        0x36a0_0000_0000_0000, // smallest denormal single
        0x3690_0000_0000_0000, // half of it
        0x380f_ffff_f000_0000,
        0x4340_0000_0000_0001, // 2^53 + 2
        0x3ca0_0000_0000_0000, // 2^-53
    ];
    match rng.gen_range(0..10) {
        0..=4 => CORNERS[rng.gen_range(0..CORNERS.len())],
        5..=7 => (rng.gen_range(0x3c0..0x440u64) << 52) | rng.gen_range(0..1 << 52) | (rng.r#gen::<u64>() & 1 << 63),
        8 => (rng.gen_range(0..3u64) << 52) | rng.gen_range(0..1 << 52) | (rng.r#gen::<u64>() & 1 << 63),
        _ => rng.r#gen(),
    }
}

/// An interesting 64-bit integer (for `cvt.*.l`; its low word for `.w`).
fn long(rng: &mut StdRng) -> u64 {
    const CORNERS: [i64; 12] = [
        0,
        1,
        -1,
        i32::MAX as i64,
        i32::MIN as i64,
        16_777_217,
        -16_777_217,
        i64::MAX,
        i64::MIN,
        1 << 53,
        (1 << 53) + 1,
        3,
    ];
    if rng.gen_bool(0.6) {
        CORNERS[rng.gen_range(0..CORNERS.len())] as u64
    } else {
        rng.gen_range(-1000i64..1000) as u64
    }
}

/// A random FCSR: any rounding mode, enables usually off (so results
/// land) but sometimes on (so the Floating Point exception happens),
/// flush-to-zero sometimes, random flags and condition codes; `cause`:
/// also a random Cause field, which traps when it meets an enable.
pub fn fcsr(rng: &mut StdRng, cause: bool) -> u32 {
    let rm = if rng.gen_bool(0.5) { 0 } else { rng.gen_range(0..4) };
    let enables = match rng.gen_range(0..20) {
        0..=11 => 0,
        12..=16 => 1 << rng.gen_range(0..5),
        _ => rng.gen_range(0..32),
    };
    let flags = if rng.gen_bool(0.5) { rng.gen_range(0..32) } else { 0 };
    let fs = rng.gen_bool(0.15) as u32;
    let cc = rng.r#gen::<u32>() & 0xfe80_0000;
    let cause = if cause && rng.gen_bool(0.1) { rng.gen_range(0..64) } else { 0 };
    rm | flags << 2 | enables << 7 | cause << 12 | fs << 24 | cc
}

/// The registers: doubles (whole registers with FR=1, even/odd pairs
/// with FR=0), singles, words and longs, with random junk in halves no
/// value uses.
fn registers(rng: &mut StdRng, fr: bool) -> [u64; 32] {
    let mut fpr = [0u64; 32];
    for r in (0..32).step_by(2) {
        if !fr && rng.gen_bool(0.5) {
            let v = if rng.gen_bool(0.8) { double(rng) } else { long(rng) };
            fpr[r] = (rng.r#gen::<u64>() << 32) | (v & 0xffff_ffff);
            fpr[r + 1] = (rng.r#gen::<u64>() << 32) | v >> 32;
            continue;
        }
        for x in &mut fpr[r..r + 2] {
            *x = match rng.gen_range(0..10) {
                0..=3 => double(rng),
                4..=7 => (rng.r#gen::<u64>() << 32) | single(rng) as u64,
                _ => long(rng),
            };
        }
    }
    fpr
}

/// A program with FPU instructions, and the FPU state it starts from.
pub fn program(rng: &mut StdRng, len: usize) -> (Program, FpuState) {
    let status = CU1 | if rng.gen_bool(0.5) { FR } else { 0 };
    let mut p = super::program_with(rng, len, Some(status));
    for r in INDEX {
        p.gpr[r as usize] = [0, 4, 8, 16, -8i32 as u32, 0x100, 3, 0x7ff8][rng.gen_range(0..8)];
    }
    for r in FP_PATTERNS {
        p.gpr[r as usize] = single(rng);
    }
    let fpu = FpuState { status, fcsr: fcsr(rng, false), fpr: registers(rng, status & FR != 0) };
    (p, fpu)
}

/// A format for arithmetic: S or D, rarely one the operation lacks (W,
/// L, PS: Reserved Instruction).
fn arith_fmt(rng: &mut StdRng) -> u32 {
    if rng.gen_bool(0.04) { [20, 21, 22][rng.gen_range(0..3)] } else { [16, 17][rng.gen_range(0..2)] }
}

/// An FPR: usually even (an FR=0 double needs one), sometimes odd.
fn freg(rng: &mut StdRng) -> u32 {
    if rng.gen_bool(0.8) { rng.gen_range(0..16) * 2 } else { rng.gen_range(0..32) }
}

/// COP1 arithmetic: `fmt ft fs fd funct`.
fn cop1(fmt: u32, ft: u32, fs: u32, fd: u32, funct: u32) -> u32 {
    0x4600_0000 | (fmt & 0x1f) << 21 | ft << 16 | fs << 11 | fd << 6 | funct
}

/// COP1X: `base/fr index/ft fs fd funct`.
fn cop1x(rs: u32, rt: u32, fs: u32, fd: u32, funct: u32) -> u32 {
    0x4c00_0000 | rs << 21 | rt << 16 | fs << 11 | fd << 6 | funct
}

/// COP1 moves: `mfc1` (0), `cfc1` (2), `mfhc1` (3), `mtc1` (4), `ctc1`
/// (6), `mthc1` (7).
pub fn cop1_move(sub: u32, rt: u32, fs: u32) -> u32 {
    0x4400_0000 | sub << 21 | rt << 16 | fs << 11
}

/// An FCR number for `cfc1`/`ctc1`: the real ones, mostly.
fn fcr(rng: &mut StdRng) -> u32 {
    [0, 25, 26, 28, 31, 31, 1, 5, rng.gen_range(0..32)][rng.gen_range(0..9)]
}

/// One random FPU instruction (not a branch).
pub(super) fn insn(g: &mut Gen<'_>) -> (u32, Op) {
    let w = loop {
        let w = word(g);
        if !decode(w).has_delay_slot() {
            break w;
        }
    };
    (w, decode(w).op)
}

fn word(g: &mut Gen<'_>) -> u32 {
    let (fs, ft, fd) = (freg(g.rng), freg(g.rng), freg(g.rng));
    let k = g.rng.gen_range(0..100);
    match k {
        // add, sub, mul, div
        0..=17 => cop1(arith_fmt(g.rng), ft, fs, fd, g.rng.gen_range(0..4)),
        // sqrt, abs, mov, neg, recip, rsqrt
        18..=27 => cop1(arith_fmt(g.rng), 0, fs, fd, [4, 5, 6, 7, 21, 22][g.rng.gen_range(0..6)]),
        // round/trunc/ceil/floor .l (8..11) and .w (12..15), cvt.w (36),
        // cvt.l (37) from S or D; cvt.s (32) and cvt.d (33) from the others.
        28..=37 => {
            let funct = [8, 9, 10, 11, 12, 13, 14, 15, 12, 13, 14, 15, 36, 37, 32, 33][g.rng.gen_range(0..16)];
            let fmt = match funct {
                32 => [17, 20, 21][g.rng.gen_range(0..3)],
                33 => [16, 20, 21][g.rng.gen_range(0..3)],
                _ => arith_fmt(g.rng),
            };
            cop1(fmt, 0, fs, fd, funct)
        }
        // c.cond.fmt cc
        38..=47 => {
            let (cc, cond) = (g.rng.gen_range(0..8), g.rng.gen_range(0..16));
            cop1(arith_fmt(g.rng), ft, fs, cc << 2, 0x30 | cond)
        }
        // movf/movt.fmt, movz/movn.fmt, movf/movt
        48..=53 => {
            let (cc, tf) = (g.rng.gen_range(0..8), g.rng.gen_range(0..2));
            match g.rng.gen_range(0..3) {
                0 => cop1(arith_fmt(g.rng), cc << 2 | tf, fs, fd, 17),
                1 => {
                    let rt = g.src();
                    cop1(arith_fmt(g.rng), rt, fs, fd, g.rng.gen_range(18..20))
                }
                _ => {
                    let (rs, rd) = (g.src(), g.dest());
                    r_type(rs, cc << 2 | tf, rd, 0, 1)
                }
            }
        }
        // madd, msub, nmadd, nmsub .s/.d (rarely .ps)
        54..=61 => {
            let op = [32, 40, 48, 56][g.rng.gen_range(0..4)];
            let fmt = if g.rng.gen_bool(0.05) { 6 } else { g.rng.gen_range(0..2) };
            cop1x(freg(g.rng), ft, fs, fd, op | fmt)
        }
        // lwc1, ldc1, swc1, sdc1
        62..=73 => {
            let (opc, size) = [(49, 4), (53, 8), (57, 4), (61, 8)][g.rng.gen_range(0..4)];
            let base = if g.rng.gen_bool(0.1) { S2 } else { g.good_base() };
            let off = g.offset(size);
            i_type(opc, base, ft, off)
        }
        // lwxc1, ldxc1, luxc1, swxc1, sdxc1, suxc1
        74..=81 => {
            let funct = [0, 1, 5, 8, 9, 13][g.rng.gen_range(0..6)];
            let base = [S0, S0, S1, SP, S2][g.rng.gen_range(0..5)];
            let index = if g.rng.gen_bool(0.2) { ZERO } else { INDEX[g.rng.gen_range(0..4)] };
            if funct < 8 { cop1x(base, index, 0, fd, funct) } else { cop1x(base, index, fs, 0, funct) }
        }
        // mfc1, mfhc1, mtc1, mthc1, cfc1, ctc1
        82..=93 => match g.rng.gen_range(0..7) {
            0 => cop1_move(0, g.dest(), fs),
            1 => cop1_move(3, g.dest(), fs),
            2 | 3 => {
                let rt = if g.rng.gen_bool(0.5) { FP_PATTERNS[g.rng.gen_range(0..4)] } else { g.src() };
                cop1_move(4 + 3 * g.rng.gen_range(0..2), rt, fs)
            }
            4 => {
                let rt = g.dest();
                cop1_move(2, rt, fcr(g.rng))
            }
            // ctc1 of a register's value: usually to the FCRs that set
            // only some fields.
            _ => {
                let fcr = if g.rng.gen_bool(0.8) { [25, 26, 28][g.rng.gen_range(0..3)] } else { fcr(g.rng) };
                cop1_move(6, g.src(), fcr)
            }
        },
        94..=95 => {
            let base = g.good_base();
            cop1x(base, INDEX[g.rng.gen_range(0..4)], g.rng.gen_range(0..32), 0, 15)
        }
        // Anything in COP1 or COP1X.
        _ => {
            let top = if g.rng.gen_bool(0.7) { 0x4400_0000 } else { 0x4c00_0000 };
            top | g.rng.gen_range(0..1 << 26)
        }
    }
}

/// A multi-word sequence: a constant into an FPR (`lui`, `ori`, `mtc1`,
/// and maybe `mthc1`), a new FCSR (`ctc1`), or a new Status (FR flipped,
/// rarely CU1 cleared). Needs room for 6 words.
pub(super) fn sequence(g: &mut Gen<'_>) {
    let d = g.dest();
    let mut first = true;
    let mut push = |g: &mut Gen<'_>, w: u32| {
        g.push(w, decode(w).op, first);
        first = false;
    };
    let mut constant = |g: &mut Gen<'_>, v: u32, then: u32| {
        push(g, lui(d, v >> 16));
        push(g, ori(d, d, v & 0xffff));
        push(g, then);
    };
    match g.rng.gen_range(0..10) {
        0..=4 => {
            let f = freg(g.rng);
            if g.rng.gen_bool(0.5) {
                let v = single(g.rng);
                constant(g, v, cop1_move(4, d, f));
            } else {
                let v = double(g.rng);
                constant(g, v as u32, cop1_move(4, d, f));
                // mthc1: the high word (with FR=0, into the odd register).
                constant(g, (v >> 32) as u32, cop1_move(7, d, f));
            }
        }
        5..=7 => {
            let v = fcsr(g.rng, true);
            constant(g, v, cop1_move(6, d, 31));
        }
        _ => {
            let cu1 = if g.rng.gen_bool(0.9) { CU1 } else { 0 };
            let fr = if g.rng.gen_bool(0.5) { FR } else { 0 };
            constant(g, cu1 | fr, mtc0(d, 12));
        }
    }
}
