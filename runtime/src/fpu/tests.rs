use super::*;
use crate::cpu::CpuModel;
use crate::interp;
use softmmu::PhysMap;

const I: u32 = exc::INEXACT;
const U: u32 = exc::UNDERFLOW;
const O: u32 = exc::OVERFLOW;
const Z: u32 = exc::DIV0;
const V: u32 = exc::INVALID;

const RN: u32 = 0;
const RZ: u32 = 1;
const RP: u32 = 2;
const RM: u32 = 3;

fn s(bits: u32) -> Single {
    Single::from_bits(bits as u128)
}

fn d(bits: u64) -> Double {
    Double::from_bits(bits as u128)
}

/// Runs `f` in rounding mode `rm` (plus FCSR bits `extra`); returns its
/// result and the exceptions it raised.
fn with<T>(fcsr: u32, f: impl FnOnce(&mut Env) -> T) -> (T, u32) {
    let mut e = Env::new(fcsr);
    let r = f(&mut e);
    (r, e.flags)
}

fn s_op(rm: u32, f: impl FnOnce(&mut Env) -> Single) -> (u32, u32) {
    let (r, flags) = with(rm, f);
    (s_bits(r), flags)
}

fn d_op(rm: u32, f: impl FnOnce(&mut Env) -> Double) -> (u64, u32) {
    let (r, flags) = with(rm, f);
    (d_bits(r), flags)
}

#[test]
fn division_rounds_in_all_four_modes() {
    let (one, three) = (s(0x3f80_0000), s(0x4040_0000));
    let cases = [(RN, 0x3eaa_aaab), (RZ, 0x3eaa_aaaa), (RP, 0x3eaa_aaab), (RM, 0x3eaa_aaaa)];
    for (rm, want) in cases {
        assert_eq!(s_op(rm, |e| e.div(one, three)), (want, I), "1/3 in mode {rm}");
        // -1/3: toward +inf rounds the magnitude down, toward -inf up.
        let want_neg = match rm {
            RP => 0xbeaa_aaaa,
            RM => 0xbeaa_aaab,
            _ => want | 0x8000_0000,
        };
        assert_eq!(s_op(rm, |e| e.div(-one, three)), (want_neg, I), "-1/3 in mode {rm}");
    }
    let (a, b) = (d(0x3fb9_9999_9999_999a), d(0x3fc9_9999_9999_999a)); // 0.1, 0.2
    assert_eq!(d_op(RN, |e| e.add(a, b)), (0x3fd3_3333_3333_3334, I));
    assert_eq!(d_op(RZ, |e| e.add(a, b)), (0x3fd3_3333_3333_3333, I));
    assert_eq!(d_op(RM, |e| e.add(a, b)), (0x3fd3_3333_3333_3333, I));
    assert_eq!(d_op(RP, |e| e.add(a, b)), (0x3fd3_3333_3333_3334, I));
}

#[test]
fn ties_go_to_even_only_in_nearest() {
    // 1 + 2^-24 is halfway between 1 and the next single.
    let (one, half_ulp) = (s(0x3f80_0000), s(0x3380_0000));
    assert_eq!(s_op(RN, |e| e.add(one, half_ulp)), (0x3f80_0000, I));
    assert_eq!(s_op(RP, |e| e.add(one, half_ulp)), (0x3f80_0001, I));
    assert_eq!(s_op(RZ, |e| e.add(one, half_ulp)), (0x3f80_0000, I));
    // 1 + 3·2^-24 is halfway between two odd/even neighbours: to even, up.
    let three_halves = s(0x3440_0000);
    assert_eq!(s_op(RN, |e| e.add(one, three_halves)), (0x3f80_0002, I));
    // Exact results raise nothing, and x - x is -0 only toward -inf.
    assert_eq!(s_op(RN, |e| e.sub(one, one)), (0, 0));
    assert_eq!(s_op(RM, |e| e.sub(one, one)), (0x8000_0000, 0));
}

#[test]
fn square_roots_are_correctly_rounded() {
    let two = s(0x4000_0000);
    assert_eq!(s_op(RN, |e| e.sqrt(two)), (0x3fb5_04f3, I));
    assert_eq!(s_op(RZ, |e| e.sqrt(two)), (0x3fb5_04f3, I));
    assert_eq!(s_op(RP, |e| e.sqrt(two)), (0x3fb5_04f4, I));
    assert_eq!(s_op(RN, |e| e.sqrt(s(0x4080_0000))), (0x4000_0000, 0), "sqrt(4) is exact");
    assert_eq!(s_op(RN, |e| e.sqrt(s(0x8000_0000))), (0x8000_0000, 0), "sqrt(-0) = -0");
    assert_eq!(s_op(RN, |e| e.sqrt(s(0xbf80_0000))), (0x7fbf_ffff, V), "sqrt(-1)");
    assert_eq!(s_op(RN, |e| e.sqrt(s(0x7f80_0000))), (0x7f80_0000, 0), "sqrt(+inf)");
    assert_eq!(s_op(RN, |e| e.sqrt(s(0x0000_0001))), (0x1a35_04f3, I), "a subnormal operand");
    // Against the host (correctly rounded to nearest) and, for the
    // directed modes, against the sign of r² - x (exact with an FMA).
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Positive doubles from 2^-900 to 2^1023, so that r² - x cannot underflow.
        let bits = (x >> 1) % (0x7fe0_0000_0000_0000 - 0x07b0_0000_0000_0000) + 0x07b0_0000_0000_0000;
        let v = f64::from_bits(bits);
        let (rn, fl) = d_op(RN, |e| e.sqrt(d(bits)));
        let host = v.sqrt();
        assert_eq!(rn, host.to_bits(), "sqrt({v:e})");
        let residual = host.mul_add(host, -v);
        assert_eq!(fl, if residual == 0.0 { 0 } else { I }, "sqrt({v:e}) flags");
        let below = if residual > 0.0 { f64::from_bits(host.to_bits() - 1) } else { host };
        let above = if residual < 0.0 { f64::from_bits(host.to_bits() + 1) } else { host };
        assert_eq!(d_op(RZ, |e| e.sqrt(d(bits))).0, below.to_bits(), "RZ sqrt({v:e})");
        assert_eq!(d_op(RM, |e| e.sqrt(d(bits))).0, below.to_bits(), "RM sqrt({v:e})");
        assert_eq!(d_op(RP, |e| e.sqrt(d(bits))).0, above.to_bits(), "RP sqrt({v:e})");
        let f = f32::from_bits((bits >> 33) as u32);
        assert_eq!(s_op(RN, |e| e.sqrt(s(f.to_bits()))).0, f.sqrt().to_bits(), "sqrt({f:e})");
    }
}

#[test]
fn nan_results_are_the_legacy_default_nan() {
    let (one, qnan, snan) = (s(0x3f80_0000), s(0x7f80_0001), s(0x7fc0_0000));
    assert_eq!(s_op(RN, |e| e.add(qnan, one)), (0x7fbf_ffff, 0), "a quiet NaN propagates as the default NaN");
    assert_eq!(s_op(RN, |e| e.mul(one, snan)), (0x7fbf_ffff, V), "a signalling NaN is Invalid");
    let inf = s(0x7f80_0000);
    assert_eq!(s_op(RN, |e| e.sub(inf, inf)), (0x7fbf_ffff, V));
    assert_eq!(s_op(RN, |e| e.mul(inf, s(0))), (0x7fbf_ffff, V));
    assert_eq!(s_op(RN, |e| e.div(s(0), s(0))), (0x7fbf_ffff, V));
    assert_eq!(s_op(RN, |e| e.div(one, s(0))), (0x7f80_0000, Z));
    assert_eq!(s_op(RN, |e| e.div(-one, s(0))), (0xff80_0000, Z));
    let (dq, ds) = (d(0x7ff0_0000_0000_0001), d(0x7ff8_0000_0000_0000));
    assert_eq!(d_op(RN, |e| e.add(dq, dq)), (0x7ff7_ffff_ffff_ffff, 0));
    assert_eq!(d_op(RN, |e| e.div(d(0x3ff0_0000_0000_0000), ds)), (0x7ff7_ffff_ffff_ffff, V));
    // Conversions of NaNs give the other format's default NaN.
    assert_eq!(d_op(RN, |e| e.convert::<Single, Double>(qnan)), (0x7ff7_ffff_ffff_ffff, 0));
    assert_eq!(d_op(RN, |e| e.convert::<Single, Double>(snan)), (0x7ff7_ffff_ffff_ffff, V));
    assert_eq!(s_op(RN, |e| e.convert::<Double, Single>(dq)), (0x7fbf_ffff, 0));
    assert_eq!(s_op(RN, |e| e.convert::<Double, Single>(ds)), (0x7fbf_ffff, V));
    // nmadd negates the default NaN too.
    let (r, flags) = with(RN, |e| multiply_add(e, Op::FNmadd, qnan, one, one));
    assert_eq!((s_bits(r), flags), (0xffbf_ffff, 0));
}

#[test]
fn conversions_to_integers_at_the_edges() {
    let w = |rm: u32, x: Single, round: Round| with(rm, |e| e.float_to_int(x, 32, round));
    let near = Round::NearestTiesToEven;
    assert_eq!(w(RN, s(0x4f00_0000), near), (0x7fff_ffff, V), "2^31");
    assert_eq!(w(RN, s(0xcf00_0000), near), (0x8000_0000, 0), "-2^31");
    assert_eq!(w(RN, s(0x7fc0_0000), near), (0x7fff_ffff, V), "sNaN");
    assert_eq!(w(RN, s(0x7f80_0001), near), (0x7fff_ffff, V), "qNaN");
    assert_eq!(w(RN, s(0x7f80_0000), near), (0x7fff_ffff, V), "+inf");
    assert_eq!(w(RN, s(0xff80_0000), near), (0x7fff_ffff, V), "-inf");
    assert_eq!(w(RN, s(0xbfc0_0000), Round::TowardZero), (0xffff_ffff, I), "trunc(-1.5)");
    assert_eq!(w(RN, s(0xbfc0_0000), near), (0xffff_fffe, I), "round(-1.5)");
    assert_eq!(w(RN, s(0x3fc0_0000), Round::TowardPositive), (2, I), "ceil(1.5)");
    assert_eq!(w(RN, s(0xbf00_0000), Round::TowardNegative), (0xffff_ffff, I), "floor(-0.5)");
    assert_eq!(w(RN, s(0x8000_0000), near), (0, 0), "-0");
    let wd = |x: f64, round: Round| with(RN, |e| e.float_to_int(d(x.to_bits()), 32, round));
    assert_eq!(wd(-2147483649.0, Round::TowardZero), (0x7fff_ffff, V), "-2^31-1");
    assert_eq!(wd(-2147483648.9, Round::TowardZero), (0x8000_0000, I));
    assert_eq!(wd(-2147483648.9, Round::TowardNegative), (0x7fff_ffff, V));
    assert_eq!(wd(2147483647.4, near), (0x7fff_ffff, I));
    assert_eq!(wd(2147483647.5, near), (0x7fff_ffff, V), "rounds to 2^31");
    let l = |x: f64, round: Round| with(RN, |e| e.float_to_int(d(x.to_bits()), 64, round));
    assert_eq!(l(9.223_372_036_854_776e18, near), (0x7fff_ffff_ffff_ffff, V), "2^63");
    assert_eq!(l(-9.223_372_036_854_776e18, near), (0x8000_0000_0000_0000, 0), "-2^63");
    assert_eq!(l(-1.0, near), (u64::MAX, 0));
    assert_eq!(with(RN, |e| e.float_to_int(d(0x7ff0_0000_0000_0001), 64, near)), (0x7fff_ffff_ffff_ffff, V));
    // cvt.w uses FCSR.RM.
    assert_eq!(with(RM, |e| e.float_to_int(s(0x3fc0_0000), 32, e.round)), (1, I));
    assert_eq!(with(RP, |e| e.float_to_int(s(0x3fc0_0000), 32, e.round)), (2, I));
}

#[test]
fn conversions_from_integers_round() {
    // 2^24 + 1 is not a single: it rounds by FCSR.RM.
    assert_eq!(s_op(RN, |e| e.int_to_float(0x0100_0001)), (0x4b80_0000, I));
    assert_eq!(s_op(RP, |e| e.int_to_float(0x0100_0001)), (0x4b80_0001, I));
    assert_eq!(s_op(RN, |e| e.int_to_float(-1)), (0xbf80_0000, 0));
    assert_eq!(d_op(RN, |e| e.int_to_float(i32::MIN as i64)), (0xc1e0_0000_0000_0000, 0));
    assert_eq!(d_op(RZ, |e| e.int_to_float(i64::MAX)), (0x43df_ffff_ffff_ffff, I));
    assert_eq!(d_op(RN, |e| e.int_to_float(i64::MAX)), (0x43e0_0000_0000_0000, I));
}

#[test]
fn overflow_and_underflow_follow_qemu() {
    let (max, two) = (s(0x7f7f_ffff), s(0x4000_0000));
    assert_eq!(s_op(RN, |e| e.mul(max, two)), (0x7f80_0000, O | I));
    assert_eq!(s_op(RZ, |e| e.mul(max, two)), (0x7f7f_ffff, O | I), "max, still Overflow");
    assert_eq!(s_op(RM, |e| e.mul(max, two)), (0x7f7f_ffff, O | I));
    assert_eq!(s_op(RM, |e| e.mul(-max, two)), (0xff80_0000, O | I));
    // max + half an ulp rounds down to max without overflowing.
    assert_eq!(s_op(RZ, |e| e.add(max, s(0x7300_0000))), (0x7f7f_ffff, I));
    assert_eq!(s_op(RZ, |e| e.convert::<Double, Single>(d(0x47ef_ffff_f000_0000))).1, I);
    assert_eq!(s_op(RZ, |e| e.convert::<Double, Single>(d(0x47f0_0000_0000_0000))), (0x7f7f_ffff, O | I));
    let (min, half) = (s(0x0080_0000), s(0x3f00_0000));
    assert_eq!(s_op(RN, |e| e.mul(min, half)), (0x0040_0000, 0), "an exact subnormal is no underflow");
    assert_eq!(s_op(RN, |e| e.mul(s(0x0080_0001), half)), (0x0040_0000, U | I));
    assert_eq!(s_op(RN, |e| e.mul(s(0x0000_0001), half)), (0, U | I));
    assert_eq!(s_op(RP, |e| e.mul(s(0x0000_0001), half)), (1, U | I));
    // Tininess after rounding: just below 2^-126 but rounding to it.
    let cvt = |rm, bits| s_op(rm, |e| e.convert::<Double, Single>(d(bits)));
    assert_eq!(cvt(RN, 0x380f_ffff_ffc0_0000), (0x0080_0000, I));
    assert_eq!(cvt(RN, 0x380f_ffff_e000_0000), (0x0080_0000, U | I), "rounds up only with the bounded exponent");
    assert_eq!(cvt(RN, 0x380f_ffff_e800_0000), (0x0080_0000, U | I), "2^-126 - 0.75 ulp");
    assert_eq!(cvt(RZ, 0x380f_ffff_ffc0_0000), (0x007f_ffff, U | I));
    assert_eq!(cvt(RP, 0x380f_ffff_ffc0_0000), (0x0080_0000, I));
    // FS flushes everything below the normal range to zero, with no flag.
    let fs = fcsr::FS;
    assert_eq!(s_op(fs, |e| e.mul(min, half)), (0, 0));
    assert_eq!(s_op(fs, |e| e.mul(-min, half)), (0x8000_0000, 0));
    assert_eq!(s_op(fs | RP, |e| e.mul(s(0x0000_0001), half)), (0, 0));
    assert_eq!(s_op(fs, |e| e.convert::<Double, Single>(d(0x380f_ffff_ffc0_0000))), (0, 0));
    assert_eq!(s_op(fs, |e| e.add(min, s(0))), (0x0080_0000, 0), "the smallest normal stays");
}

#[test]
fn the_sixteen_comparisons() {
    let (one, two, qnan, snan) = (s(0x3f80_0000), s(0x4000_0000), s(0x7f80_0001), s(0x7fc0_0000));
    // Rows: cond; columns: 1 vs 2 (less), 2 vs 1 (greater), 1 vs 1, -0 vs +0, qNaN vs 1.
    let truth = [
        (0, "f", [false, false, false, false, false]),
        (1, "un", [false, false, false, false, true]),
        (2, "eq", [false, false, true, true, false]),
        (3, "ueq", [false, false, true, true, true]),
        (4, "olt", [true, false, false, false, false]),
        (5, "ult", [true, false, false, false, true]),
        (6, "ole", [true, false, true, true, false]),
        (7, "ule", [true, false, true, true, true]),
    ];
    for signalling in [0, 8] {
        for (cond, name, want) in truth {
            let cond = cond | signalling;
            let pairs = [(one, two), (two, one), (one, one), (s(0x8000_0000), s(0)), (qnan, one)];
            for ((a, b), want) in pairs.into_iter().zip(want) {
                let (got, flags) = with(RN, |e| e.compare(a, b, cond));
                assert_eq!(got, want, "c.{name} (cond {cond})");
                let nan = a.is_nan();
                assert_eq!(flags, if nan && signalling != 0 { V } else { 0 }, "c.{name} flags (cond {cond})");
            }
            // A signalling NaN is Invalid for every predicate.
            assert_eq!(with(RN, |e| e.compare(one, snan, cond)), (want[4], V));
            let (dn, dx) = (d(0x7ff0_0000_0000_0001), d(0x3ff0_0000_0000_0000));
            assert_eq!(with(RN, |e| e.compare(dn, dx, cond)).0, want[4], "double c.{name}");
        }
    }
}

#[test]
fn madd_is_not_fused() {
    // (1 + 2^-12)² = 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11; fused, the
    // sum below would be 2^-24, unfused it is 0.
    let a = s(0x3f80_0800);
    let c = s(0xbf80_1000);
    assert_eq!(with(RN, |e| s_bits(multiply_add(e, Op::FMadd, a, a, c))), (0, I));
    assert_eq!(with(RN, |e| s_bits(multiply_add(e, Op::FMsub, a, a, -c))), (0, I));
    assert_eq!(with(RN, |e| s_bits(multiply_add(e, Op::FNmadd, a, a, c))), (0x8000_0000, I));
}

// ---- instructions on a whole CPU ----------------------------------------------

const PC: u32 = 0x8000_1000;
const DATA: u32 = 0x8000_0100;

fn cpu(model: CpuModel, big_endian: bool) -> Cpu {
    let mut phys = PhysMap::default();
    phys.add_ram(0, 1 << 16, true).unwrap();
    let mut c = Cpu::with_model(phys, big_endian, model);
    c.cp0.status = 0; // kernel mode, BEV=0
    c.set_status(status::CU1);
    c
}

fn run(c: &mut Cpu, word: u32) -> Flow {
    interp::exec(c, frontend::decode(word), PC, false)
}

fn exc_code(c: &Cpu) -> u32 {
    (c.cp0.cause >> 2) & 0x1f
}

const fn cop1(fmt: u32, ft: usize, fs: usize, fd: usize, funct: u32) -> u32 {
    0x11 << 26 | fmt << 21 | (ft as u32) << 16 | (fs as u32) << 11 | (fd as u32) << 6 | funct
}
const fn mov(op: u32, rt: usize, fs: usize) -> u32 {
    cop1(op, rt, fs, 0, 0)
}
const MFC1: u32 = 0;
const CFC1: u32 = 2;
const MFHC1: u32 = 3;
const MTC1: u32 = 4;
const CTC1: u32 = 6;
const MTHC1: u32 = 7;
const S: u32 = 16;
const D: u32 = 17;

fn mtc1(c: &mut Cpu, f: usize, v: u32) {
    c.s.gpr[8] = v;
    assert_eq!(run(c, mov(MTC1, 8, f)), Flow::Next);
}

fn mfc1(c: &mut Cpu, f: usize) -> u32 {
    assert_eq!(run(c, mov(MFC1, 9, f)), Flow::Next);
    c.s.gpr[9]
}

#[test]
fn without_an_fpu_or_cu1_everything_is_coprocessor_unusable() {
    let mut c = cpu(CpuModel::Mips24Kc, false);
    assert_eq!(c.cp0.status & status::CU1, 0, "CU1 is not writable on the 24Kc");
    assert_eq!(c.cp0.config1 & 1, 0);
    for word in [mov(MTC1, 8, 0), cop1(S, 2, 1, 0, 0), 0xc500_0000, 0x4c00_0002, 0x0001_0801] {
        assert_eq!(run(&mut c, word), Flow::Exit(ExitReason::Exception), "{word:08x}");
        assert_eq!((exc_code(&c), c.cp0.cause >> 28 & 3), (11, 1), "{word:08x}");
        c.cp0.status = status::CU1; // (ignored by the model, but not by a buggy check)
    }
    let mut c = cpu(CpuModel::Mips24Kf, false);
    assert_eq!(c.cp0.config1 & 1, 1);
    assert_eq!(c.fpu.cfc1(0), 0x0073_9300);
    c.set_status(0);
    assert_eq!(run(&mut c, mov(CFC1, 8, 31)), Flow::Exit(ExitReason::Exception));
    assert_eq!(exc_code(&c), 11);
    // With CU1, undefined COP1/COP1X encodings are Reserved Instruction.
    let mut c = cpu(CpuModel::Mips24Kf, false);
    for word in [0x4680_0000, 0x4c00_0002, cop1(22, 0, 0, 0, 0)] {
        assert_eq!(run(&mut c, word), Flow::Exit(ExitReason::Exception), "{word:08x}");
        assert_eq!(exc_code(&c), 10, "{word:08x}");
    }
}

#[test]
fn fr0_pairs_registers_and_fr1_does_not() {
    let mut c = cpu(CpuModel::Mips24Kf, false);
    mtc1(&mut c, 0, 0);
    mtc1(&mut c, 1, 0x3ff0_0000); // f0:f1 = 1.0
    c.s.gpr[8] = 0x4000_0000;
    run(&mut c, mov(MTHC1, 8, 2)); // FR=0: writes f3
    mtc1(&mut c, 2, 0); // f2:f3 = 2.0
    assert_eq!(run(&mut c, cop1(D, 2, 0, 4, 0)), Flow::Next); // add.d f4, f0, f2
    assert_eq!((mfc1(&mut c, 4), mfc1(&mut c, 5)), (0, 0x4008_0000));
    run(&mut c, mov(MFHC1, 10, 4));
    assert_eq!(c.s.gpr[10], 0x4008_0000);
    // An odd register in a double operation is Reserved Instruction...
    assert_eq!(run(&mut c, cop1(D, 2, 0, 5, 0)), Flow::Exit(ExitReason::Exception));
    assert_eq!(exc_code(&c), 10);
    // ...and so is a long format with FR=0.
    assert_eq!(run(&mut c, cop1(D, 0, 0, 6, 0x25)), Flow::Exit(ExitReason::Exception));
    assert_eq!(exc_code(&c), 10);
    // FR=1: every register holds a whole double.
    c.set_status(status::CU1 | status::FR);
    assert_eq!(c.cp0.status & status::FR, status::FR);
    assert_eq!(c.fpu.double(1, true) >> 32, 0, "the registers did not move");
    c.fpu.fpr[1] = 0x4014_0000_0000_0000; // 5.0
    assert_eq!(run(&mut c, cop1(D, 1, 1, 3, 0)), Flow::Next); // add.d f3, f1, f1
    assert_eq!(c.fpu.fpr[3], 0x4024_0000_0000_0000);
    assert_eq!(run(&mut c, cop1(D, 0, 3, 6, 0x25)), Flow::Next); // cvt.l.d f6, f3
    assert_eq!(c.fpu.fpr[6], 10);
}

#[test]
fn enabled_exceptions_trap_and_leave_the_destination() {
    let mut c = cpu(CpuModel::Mips24Kf, false);
    mtc1(&mut c, 0, 0xbf80_0000); // -1
    mtc1(&mut c, 2, 0x1234_5678);
    // Disabled: the default NaN, Cause and Flags say Invalid.
    assert_eq!(run(&mut c, cop1(S, 0, 0, 4, 4)), Flow::Next); // sqrt.s f4, f0
    assert_eq!(mfc1(&mut c, 4), 0x7fbf_ffff);
    assert_eq!(c.fpu.fcsr, V << 12 | V << 2);
    // A later exact operation clears Cause but not Flags.
    assert_eq!(run(&mut c, cop1(S, 0, 0, 4, 0)), Flow::Next);
    assert_eq!(c.fpu.fcsr, V << 2);
    // Enabled: Floating Point exception, f2 unchanged, Flags unchanged.
    c.s.gpr[8] = V << 7;
    assert_eq!(run(&mut c, mov(CTC1, 8, 31)), Flow::Next);
    assert_eq!(run(&mut c, cop1(S, 0, 0, 2, 4)), Flow::Exit(ExitReason::Exception));
    assert_eq!(exc_code(&c), 15);
    assert_eq!(c.cp0.epc, PC);
    assert_eq!(mfc1(&mut c, 2), 0x1234_5678);
    assert_eq!(c.fpu.fcsr, V << 12 | V << 7);
    // ctc1 leaving an enabled cause (or E, always enabled) traps after writing.
    c.s.gpr[8] = exc::UNIMPLEMENTED << 12;
    assert_eq!(run(&mut c, mov(CTC1, 8, 31)), Flow::Exit(ExitReason::Exception));
    assert_eq!(c.fpu.fcsr, exc::UNIMPLEMENTED << 12);
    // Writes to FCSR's read-only bits are dropped; FCCR/FEXR/FENR views.
    c.s.gpr[8] = !(0x3f << 12);
    run(&mut c, mov(CTC1, 8, 31));
    assert_eq!(c.fpu.fcsr, 0xff80_0fff);
    for (reg, want) in [(25, 0xff), (26, 0x7c), (28, 0xf87)] {
        run(&mut c, mov(CFC1, 9, reg));
        assert_eq!(c.s.gpr[9], want, "cfc1 ${reg}");
    }
    c.s.gpr[8] = 0x0000_0001;
    run(&mut c, mov(CTC1, 8, 25)); // FCCR: only FCC0 set
    assert_eq!(c.fpu.fcsr & 0xfe80_0000, 0x0080_0000);
}

#[test]
fn doubles_in_memory_keep_the_word_order_of_the_byte_order() {
    for be in [false, true] {
        let mut c = cpu(CpuModel::Mips24Kf, be);
        c.s.gpr[4] = DATA;
        c.store(DATA, 4, 0x4000_0000).unwrap();
        c.store(DATA + 4, 4, 0).unwrap();
        assert_eq!(run(&mut c, 0xd482_0000), Flow::Next); // ldc1 f2, 0(a0)
        let want = if be { 0x4000_0000_0000_0000 } else { 0x4000_0000 };
        assert_eq!(c.fpu.double(2, false), want, "big-endian: {be}");
        assert_eq!(run(&mut c, 0xf482_0008), Flow::Next); // sdc1 f2, 8(a0)
        assert_eq!((c.load(DATA + 8, 4).unwrap(), c.load(DATA + 12, 4).unwrap()), (0x4000_0000, 0));
        // 8-byte alignment: AdEL/AdES with BadVAddr.
        assert_eq!(run(&mut c, 0xd482_0004), Flow::Exit(ExitReason::Exception));
        assert_eq!((exc_code(&c), c.cp0.bad_vaddr), (4, DATA + 4));
        assert_eq!(run(&mut c, 0xf482_000c), Flow::Exit(ExitReason::Exception));
        assert_eq!((exc_code(&c), c.cp0.bad_vaddr), (5, DATA + 12));
        // luxc1 rounds the address down instead (and needs FR=1).
        c.set_status(status::CU1 | status::FR);
        c.s.gpr[5] = 4;
        assert_eq!(run(&mut c, 0x4c85_0105), Flow::Next); // luxc1 f4, a1(a0)
        assert_eq!(c.fpu.fpr[4], want);
    }
}

#[test]
fn compares_set_condition_codes_that_branches_and_moves_read() {
    let mut c = cpu(CpuModel::Mips24Kf, false);
    mtc1(&mut c, 0, 0x3f80_0000);
    mtc1(&mut c, 1, 0x4000_0000);
    // c.lt.s $fcc3, f0, f1
    assert_eq!(run(&mut c, 0x11 << 26 | S << 21 | 1 << 16 | 3 << 8 | 0x3c), Flow::Next);
    assert!(c.fpu.cc(3) && !c.fpu.cc(0));
    assert_eq!(c.fpu.fcsr, 1 << 27);
    // bc1t $fcc3 / bc1f $fcc3 / bc1tl $fcc0
    let target = PC + 4 + 16;
    assert_eq!(run(&mut c, 0x450d_0004), Flow::Branch { taken: true, target });
    assert_eq!(run(&mut c, 0x450c_0004), Flow::Branch { taken: false, target });
    assert_eq!(run(&mut c, 0x4503_0004), Flow::Branch { taken: false, target });
    // movt v0, a0, $fcc3 / movf v1, a0, $fcc3
    c.s.gpr[4] = 77;
    run(&mut c, 0x008d_1001);
    run(&mut c, 0x008c_1801);
    assert_eq!((c.s.gpr[2], c.s.gpr[3]), (77, 0));
    // movt.s f4, f1, $fcc3; movz.s f5, f1, $0 (always); movn.s f6, f1, $0 (never)
    run(&mut c, cop1(S, 13, 1, 4, 0x11));
    run(&mut c, cop1(S, 0, 1, 5, 0x12));
    run(&mut c, cop1(S, 0, 1, 6, 0x13));
    assert_eq!((mfc1(&mut c, 4), mfc1(&mut c, 5), mfc1(&mut c, 6)), (0x4000_0000, 0x4000_0000, 0));
}

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A double with a random significand and an exponent in ±`range`.
    fn double(&mut self, range: u64) -> f64 {
        let r = self.next();
        let exp = 1023 - range + (r >> 52) % (2 * range + 1);
        f64::from_bits((r & 0x800f_ffff_ffff_ffff) | exp << 52)
    }
}

fn next_up(x: f64) -> f64 {
    if x >= 0.0 { f64::from_bits(x.to_bits() + 1) } else { f64::from_bits(x.to_bits() - 1) }
}

fn next_down(x: f64) -> f64 {
    -next_up(-x)
}

#[test]
fn directed_rounding_agrees_with_error_free_transformations() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..50_000 {
        let (a, b) = (rng.double(60), rng.double(60));
        // TwoSum and the FMA residual give the exact error of the host's
        // round-to-nearest result; its sign says where the exact value is.
        let sum = a + b;
        let bb = sum - a;
        let sum_err = (a - (sum - bb)) + (b - bb);
        let prod = a * b;
        let prod_err = a.mul_add(b, -prod);
        for (op, near, err) in [(Op::FAdd, sum, sum_err), (Op::FMul, prod, prod_err)] {
            let down = if err < 0.0 { next_down(near) } else { near };
            let up = if err > 0.0 { next_up(near) } else { near };
            let zero = if near >= 0.0 { down } else { up };
            let flags = if err == 0.0 { 0 } else { I };
            for (rm, want) in [(RN, near), (RZ, zero), (RP, up), (RM, down)] {
                let got = d_op(rm, |e| binary(e, op, d(a.to_bits()), d(b.to_bits())));
                assert_eq!(got, (want.to_bits(), flags), "{op:?} {a:e} {b:e} in mode {rm}");
            }
        }
    }
}

#[test]
fn nearest_results_agree_with_the_host_everywhere() {
    // Arbitrary bit patterns: subnormals, infinities, NaNs and overflow
    // included. The host rounds to nearest; its NaNs are not MIPS's.
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..100_000 {
        let (x, y) = (rng.next(), rng.next());
        let (a, b) = (f64::from_bits(x), f64::from_bits(y));
        let (fa, fb) = (f32::from_bits(x as u32), f32::from_bits(y as u32));
        for op in [Op::FAdd, Op::FSub, Op::FMul, Op::FDiv] {
            let host = match op {
                Op::FAdd => (a + b, fa + fb),
                Op::FSub => (a - b, fa - fb),
                Op::FMul => (a * b, fa * fb),
                _ => (a / b, fa / fb),
            };
            let want_d = if host.0.is_nan() { 0x7ff7_ffff_ffff_ffff } else { host.0.to_bits() };
            let want_s = if host.1.is_nan() { 0x7fbf_ffff } else { host.1.to_bits() };
            assert_eq!(d_op(RN, |e| binary(e, op, d(x), d(y))).0, want_d, "{op:?} {a:e} {b:e}");
            assert_eq!(s_op(RN, |e| binary(e, op, s(x as u32), s(y as u32))).0, want_s, "{op:?} {fa:e} {fb:e}");
        }
        let host = (a as f32).to_bits();
        let want = if a.is_nan() { 0x7fbf_ffff } else { host };
        assert_eq!(s_op(RN, |e| e.convert::<Double, Single>(d(x))).0, want, "cvt.s.d {a:e}");
    }
}

#[test]
fn random_fpu_instructions_never_panic_the_host() {
    // Every COP1/COP1X encoding (and the FPU loads, stores and movci), on
    // registers full of corner values, with random FCSR and FR: whatever
    // happens, it is an architectural outcome, and a trap leaves an enabled
    // (or unimplemented) cause behind.
    const CORNERS: [u64; 12] = [
        0,
        0x8000_0000_0000_0000,
        0x3ff0_0000_3f80_0000,
        0x7ff0_0000_7f80_0000,
        0x7ff8_0000_7fc0_0000,
        0x7ff0_0000_0000_0001,
        0x0000_0000_0000_0001,
        0x7fef_ffff_7f7f_ffff,
        0x0010_0000_0080_0000,
        0x41e0_0000_4f00_0000,
        0xc3e0_0000_cf00_0000,
        0x4330_0000_0000_0001,
    ];
    let mut rng = Rng(0x6d69_7073_6a69_7401);
    for be in [false, true] {
        let mut c = cpu(CpuModel::Mips24Kf, be);
        for n in 0..200_000u32 {
            if n % 64 == 0 {
                for r in 0..32 {
                    let v = rng.next();
                    c.fpu.fpr[r] = if v & 1 == 0 { CORNERS[(v >> 1) as usize % CORNERS.len()] } else { v };
                    c.s.gpr[r] = if v & 2 == 0 { DATA + (v >> 8) as u32 % 64 } else { (v >> 32) as u32 };
                }
                c.s.gpr[0] = 0;
                let fr = if rng.next() & 1 == 0 { status::FR } else { 0 };
                c.set_status(status::CU1 | fr);
                c.fpu.fcsr = rng.next() as u32 & fcsr::WRITABLE & !fcsr::CAUSE;
            }
            let r = rng.next() as u32;
            let word = match r % 8 {
                0..=3 => 0x11 << 26 | (r >> 3) & 0x03ff_ffff,
                4 => 0x11 << 26 | [16, 17, 20, 21][(r >> 3) as usize % 4] << 21 | (r >> 5) & 0x001f_ffff,
                5 => 0x13 << 26 | (r >> 3) & 0x03ff_ffff,
                6 => [0x31, 0x35, 0x39, 0x3d][(r >> 3) as usize % 4] << 26 | (r >> 5) & 0x03ff_ffff,
                _ => (r >> 3) & 0x03ff_f800 | 1,
            };
            c.cp0.status &= !status::EXL;
            let fcsr_before = c.fpu.fcsr;
            if run(&mut c, word) == Flow::Exit(ExitReason::Exception) && exc_code(&c) == 15 {
                assert!(c.fpu.cause_traps(), "{word:08x}: FPE without an enabled cause");
                assert_eq!(c.fpu.fcsr & 0x7c, fcsr_before & 0x7c, "{word:08x}: a trap changed Flags");
            }
        }
    }
}

/// Operands for [`the_host_path_agrees_with_apfloat`]: raw bits, nearby
/// exponents (cancellation, exact sums), small integers (exact
/// products and quotients), and the edges of the range.
fn operand(x: &mut u64, double: bool) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    let r = *x;
    let (exp_bits, frac_bits) = if double { (11, 52) } else { (8, 23) };
    let frac = r & ((1 << frac_bits) - 1);
    let sign = (r >> 63) << (exp_bits + frac_bits);
    let bias = (1u64 << (exp_bits - 1)) - 1;
    let max_exp = (1u64 << exp_bits) - 1;
    let exp = match (r >> 56) & 7 {
        0 => (r >> 20) & max_exp,
        1 | 2 => bias + ((r >> 20) & 3),
        3 => 1 + ((r >> 20) & 3),
        4 => max_exp - 1 - ((r >> 20) & 3),
        5 => {
            // A small integer: its bits at the top of the fraction.
            let n = (r >> 24) & 0xff;
            let f = if double { (n as f64).to_bits() } else { (n as f32).to_bits() as u64 };
            return f | sign;
        }
        _ => (bias + ((r >> 20) & 63).wrapping_sub(32)) & max_exp,
    };
    sign | exp << frac_bits | frac
}

#[test]
fn a_result_rounded_up_to_the_smallest_normal_can_still_be_tiny() {
    // (2^-126)(1 - 2^-24) = 2^-126 - 2^-150: rounds to 2^-126 in the
    // format, but to 2^-126 - 2^-150 with an unbounded exponent, which is
    // tiny: Underflow, though the result is normal (the host path leaves
    // such results to APFloat).
    assert_eq!(s_op(RN, |e| e.mul(s(0x0080_0000), s(0x3f7f_ffff))), (0x0080_0000, U | I));
    // Just above it there is no underflow.
    assert_eq!(s_op(RN, |e| e.mul(s(0x0080_0001), s(0x3f7f_ffff))), (0x0080_0000, I));
}

#[test]
fn the_host_path_agrees_with_apfloat() {
    // Format::host answers in round-to-nearest where it can; APFloat
    // (Env without the host) must give the same bits and flags everywhere.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let run = |host: bool, f: &dyn Fn(&mut Env) -> u64| {
        let mut e = Env::new(RN);
        e.host = host;
        let r = f(&mut e);
        (r, e.flags)
    };
    for i in 0..400_000 {
        let double = i & 1 == 0;
        let (a, b) = (operand(&mut x, double), operand(&mut x, double));
        for op in 0..5 {
            let f = |e: &mut Env| -> u64 {
                if double {
                    let (a, b) = (d(a), d(b));
                    d_bits(match op {
                        0 => e.add(a, b),
                        1 => e.sub(a, b),
                        2 => e.mul(a, b),
                        3 => e.div(a, b),
                        _ => e.sqrt(a),
                    })
                } else {
                    let (a, b) = (s(a as u32), s(b as u32));
                    s_bits(match op {
                        0 => e.add(a, b),
                        1 => e.sub(a, b),
                        2 => e.mul(a, b),
                        3 => e.div(a, b),
                        _ => e.sqrt(a),
                    }) as u64
                }
            };
            assert_eq!(run(true, &f), run(false, &f), "op {op} double={double} a={a:#x} b={b:#x}");
        }
    }
}
