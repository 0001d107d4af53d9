//! The floating-point unit of the 24Kf: CP1 and COP1X, as QEMU's
//! `-cpu 24Kf` models them (target/mips/tcg/fpu_helper.c and the CP1 parts
//! of translate.c are the reference for every corner below).
//!
//! # State
//! Thirty-two 64-bit registers. A single (or word) lives in the low half
//! of its register whatever Status.FR says; with FR=1 a double (or long) is
//! the whole register, with FR=0 it is the pair `$f(2n)` (low word) and
//! `$f(2n+1)` (high word), each in the low half of its register. So
//! switching FR reinterprets the registers without moving data, as on
//! QEMU. FR=0 and an odd register in a D/L operation is Reserved
//! Instruction where QEMU checks it (`check_cp1_registers`), and the pair
//! of the even register below where it does not (`mov.d`, `ldc1`, ...).
//!
//! # Arithmetic
//! IEEE results in every rounding mode, with their exception flags, come
//! from `rustc_apfloat` (the Rust port of LLVM's APFloat). Around it, this
//! module supplies what is MIPS (or QEMU) rather than IEEE:
//! - legacy NaNs (NAN2008=0): a NaN with the top fraction bit *set* is
//!   signalling; any NaN result is the default NaN (0x7fbfffff,
//!   0x7ff7ffffffffffff), since QEMU runs legacy mode in softfloat's
//!   default-NaN mode; only a signalling operand (or an invalid operation)
//!   raises Invalid;
//! - tininess is detected after rounding with an unbounded exponent (and
//!   Underflow needs Inexact), and FCSR.FS flushes a result below the
//!   normal range to zero with no flag at all. APFloat rounds subnormals
//!   with the bounded exponent, so results at or below the smallest normal
//!   number are recomputed in a wider format to decide (see
//!   `Env::finish`);
//! - float to integer conversions that are invalid (NaN, out of range)
//!   give 2^31-1 or 2^63-1 with only Invalid set;
//! - square root is computed exactly with integer arithmetic (APFloat has
//!   none) and rounded once;
//! - madd/msub/nmadd/nmsub are not fused on the 24Kf: the product is
//!   rounded, then the sum, and nmadd/nmsub negate even a NaN.
//!
//! APFloat is exact but slow (it dominated FP-heavy programs: 8x
//! qemu-mipsel's time on a matrix multiply). The common case takes the
//! host's arithmetic instead (`Format::host`): in round-to-nearest, with
//! operands that are normal or zero and a result that is normal (or an
//! exact zero), the host's IEEE result is the result and Inexact is the
//! only exception possible; an exact error term (TwoSum, or a product
//! that is exact in double or fused) says whether it is raised.
//! Everything else (NaNs, infinities, subnormals, results near the edges
//! of the range, directed rounding) stays with APFloat.
//!
//! Every arithmetic instruction writes FCSR.Cause with its own exceptions;
//! an enabled one raises the Floating Point exception with Cause set and
//! neither the destination nor FCSR.Flags changed; otherwise Flags
//! accumulate. Unimplemented Operation (E) is never produced by arithmetic
//! (QEMU computes every case), but a `ctc1` that leaves E in Cause traps.
//! Moves, loads, stores, abs and neg (bit operations in legacy mode) do
//! not touch Cause.

use crate::cp0::status;
use crate::cpu::Cpu;
use crate::exception::{ExcCode, Exception};
use crate::interp::Flow;
use frontend::{Insn, Op};
use jit::abi::{ExitReason, FP_FAST_EXPONENTS, pc_bd};
use rustc_apfloat::ieee::{Double, Quad, Single};
use rustc_apfloat::{ExpInt, Float, FloatConvert, Round, Status, StatusAnd};

/// FIR (FCR0) of the 24Kf: F64, L, W, D and S formats, implementation
/// 0x93 (no paired single, no MIPS-3D).
pub const FIR_24KF: u32 = 0x0073_9300;

/// FCSR (FCR31) fields.
pub mod fcsr {
    /// Rounding mode: 0 nearest, 1 toward zero, 2 toward +inf, 3 toward -inf.
    pub const RM: u32 = 3;
    /// Where the Flags field (V Z O U I) starts.
    pub const FLAGS_SHIFT: u32 = 2;
    /// Where the Enables field (V Z O U I) starts.
    pub const ENABLES_SHIFT: u32 = 7;
    /// Where the Cause field (E V Z O U I) starts.
    pub const CAUSE_SHIFT: u32 = 12;
    /// The Cause field.
    pub const CAUSE: u32 = 0x3f << CAUSE_SHIFT;
    /// Flush results below the normal range to zero.
    pub const FS: u32 = 1 << 24;
    /// Bits `ctc1` may write: NAN2008, ABS2008 and the bits beside them
    /// are read-only (legacy NaNs and abs/neg).
    pub const WRITABLE: u32 = 0xff83_ffff;

    /// The FCSR bit of condition code `cc` (0..8): FCC0 is bit 23, the
    /// others are bits 25..31.
    pub const fn cc_bit(cc: u32) -> u32 {
        if cc == 0 { 1 << 23 } else { 1 << (24 + (cc & 7)) }
    }
}

/// The IEEE exceptions, as bits of the Flags, Enables and Cause fields
/// (shifted down to bit 0).
pub mod exc {
    /// Inexact.
    pub const INEXACT: u32 = 1;
    /// Underflow.
    pub const UNDERFLOW: u32 = 2;
    /// Overflow.
    pub const OVERFLOW: u32 = 4;
    /// Division by zero.
    pub const DIV0: u32 = 8;
    /// Invalid operation.
    pub const INVALID: u32 = 16;
    /// Unimplemented operation (Cause only; it cannot be disabled).
    pub const UNIMPLEMENTED: u32 = 32;
}

/// The FPU registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fpu {
    /// The 32 floating-point registers (see the module comment for how
    /// singles and FR=0 doubles sit in them).
    pub fpr: [u64; 32],
    /// FIR (FCR0), read-only.
    pub fir: u32,
    /// FCSR (FCR31).
    pub fcsr: u32,
}

impl Fpu {
    /// An FPU at reset: registers and FCSR zero.
    pub fn new(fir: u32) -> Self {
        Self { fpr: [0; 32], fir, fcsr: 0 }
    }

    /// The single (or word) in register `r`.
    pub fn single(&self, r: usize) -> u32 {
        self.fpr[r & 31] as u32
    }

    /// Writes the single (or word) in register `r`; the high half keeps
    /// its value (UNPREDICTABLE in the architecture; QEMU keeps it).
    pub fn set_single(&mut self, r: usize, v: u32) {
        let r = &mut self.fpr[r & 31];
        *r = (*r & !0xffff_ffff) | v as u64;
    }

    /// The double (or long) in register `r` with Status.FR = `fr`.
    pub fn double(&self, r: usize, fr: bool) -> u64 {
        if fr {
            self.fpr[r & 31]
        } else {
            let even = r & 30;
            (self.single(even + 1) as u64) << 32 | self.single(even) as u64
        }
    }

    /// Writes the double (or long) in register `r` with Status.FR = `fr`.
    pub fn set_double(&mut self, r: usize, v: u64, fr: bool) {
        if fr {
            self.fpr[r & 31] = v;
        } else {
            let even = r & 30;
            self.set_single(even, v as u32);
            self.set_single(even + 1, (v >> 32) as u32);
        }
    }

    /// The high word of the double in `r` (`mfhc1`).
    pub fn high(&self, r: usize, fr: bool) -> u32 {
        if fr { (self.fpr[r & 31] >> 32) as u32 } else { self.single(r | 1) }
    }

    /// Writes the high word of the double in `r` (`mthc1`).
    pub fn set_high(&mut self, r: usize, v: u32, fr: bool) {
        if fr {
            let r = &mut self.fpr[r & 31];
            *r = (*r & 0xffff_ffff) | (v as u64) << 32;
        } else {
            self.set_single(r | 1, v);
        }
    }

    /// Condition code `cc`.
    pub fn cc(&self, cc: u32) -> bool {
        self.fcsr & fcsr::cc_bit(cc) != 0
    }

    fn set_cc(&mut self, cc: u32, v: bool) {
        let bit = fcsr::cc_bit(cc);
        self.fcsr = if v { self.fcsr | bit } else { self.fcsr & !bit };
    }

    /// `cfc1` of control register `reg`: FIR (0), FCCR (25), FEXR (26),
    /// FENR (28), FCSR (31). UFR (1) and UNFR/FRE (5) read 0: the 24Kf has
    /// neither; every other number reads FCSR, as on QEMU.
    pub fn cfc1(&self, reg: usize) -> u32 {
        let f = self.fcsr;
        match reg {
            0 => self.fir,
            1 | 5 => 0,
            25 => ((f >> 24) & 0xfe) | ((f >> 23) & 1),
            26 => f & 0x0003_f07c,
            28 => (f & 0x0000_0f83) | ((f >> 22) & 4),
            _ => f,
        }
    }

    /// `ctc1` to control register `reg`. Returns whether FCSR was written
    /// (only then can the write raise an exception). A value with bits set
    /// where the register has none is ignored, as QEMU does.
    pub fn ctc1(&mut self, reg: usize, v: u32) -> bool {
        let f = self.fcsr;
        self.fcsr = match reg {
            25 if v & 0xffff_ff00 == 0 => (f & 0x017f_ffff) | (v & 0xfe) << 24 | (v & 1) << 23,
            26 if v & 0x007c_0000 == 0 => (f & 0xfffc_0f83) | (v & 0x0003_f07c),
            28 if v & 0x007c_0000 == 0 => (f & 0xfeff_f07c) | (v & 0x0000_0f83) | (v & 4) << 22,
            31 => (v & fcsr::WRITABLE) | (f & !fcsr::WRITABLE),
            _ => return false,
        };
        true
    }

    /// Whether Cause holds an exception that traps: an enabled one, or
    /// Unimplemented Operation, which is always enabled.
    pub fn cause_traps(&self) -> bool {
        let enables = (self.fcsr >> fcsr::ENABLES_SHIFT) & 0x1f | exc::UNIMPLEMENTED;
        (self.fcsr >> fcsr::CAUSE_SHIFT) & enables & 0x3f != 0
    }

    /// Ends an arithmetic instruction that raised `flags`: Cause becomes
    /// `flags`; an enabled one is a Floating Point exception (the caller
    /// then leaves the destination alone), otherwise Flags accumulate.
    pub fn commit(&mut self, flags: u32) -> Result<(), Exception> {
        self.fcsr = (self.fcsr & !fcsr::CAUSE) | flags << fcsr::CAUSE_SHIFT;
        if self.cause_traps() {
            return Err(Exception::new(ExcCode::Fpe));
        }
        self.fcsr |= flags << fcsr::FLAGS_SHIFT;
        Ok(())
    }
}

// ---- arithmetic -------------------------------------------------------------

/// A binary operation [`Format::host`] may carry out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// TwoSum's error term: `x + y - s` exactly, where `s` is `x + y`
/// rounded to nearest (no overflow).
fn two_sum_error<T>(x: T, y: T, s: T) -> T
where
    T: Copy + std::ops::Add<Output = T> + std::ops::Sub<Output = T>,
{
    let yy = s - x;
    let xx = s - yy;
    (x - xx) + (y - yy)
}

/// A binary format (single or double) and the wider format used to decide
/// tininess and flushing exactly.
trait Format: Float + FloatConvert<Self::Wide> {
    /// A format with at least 2p+2 bits of precision and a wider exponent
    /// range: products are exact in it, quotients and square roots round
    /// innocuously, and nothing near this format's normal range is tiny.
    type Wide: Float + FloatConvert<Self>;
    /// The legacy-mode default NaN.
    const DEFAULT_NAN: u128;
    /// Bit pattern width.
    const WIDTH: u32;
    /// The host's float type of this format.
    type Host: HostFloat;
    /// `a op b` rounded to nearest by the host, and whether it is inexact,
    /// when that is the whole answer (see the module doc): operands
    /// normal or zero, the result normal or an exact zero. `None`: the
    /// case is APFloat's.
    fn host(op: Arith, a: Self, b: Self) -> Option<(Self, bool)> {
        let (x, y) = (Self::Host::from_bits(a.to_bits()), Self::Host::from_bits(b.to_bits()));
        host_arith(op, x, y).map(|(r, inexact)| (Self::from_bits(r.to_bits()), inexact))
    }
    /// The same for the square root.
    fn host_sqrt(a: Self) -> Option<(Self, bool)> {
        host_sqrt(Self::Host::from_bits(a.to_bits())).map(|(r, inexact)| (Self::from_bits(r.to_bits()), inexact))
    }
}

impl Format for Single {
    type Wide = Double;
    const DEFAULT_NAN: u128 = 0x7fbf_ffff;
    const WIDTH: u32 = 32;
    type Host = f32;
}

impl Format for Double {
    type Wide = Quad;
    const DEFAULT_NAN: u128 = 0x7ff7_ffff_ffff_ffff;
    const WIDTH: u32 = 64;
    type Host = f64;
}

/// A host float type the host path computes in: what differs between
/// singles and doubles.
trait HostFloat:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    const ZERO: Self;
    /// The smallest magnitude the path takes in a result (and, for
    /// doubles, in a dividend or a square root's operand), and the
    /// magnitude results must stay below: `jit::abi::FP_FAST_EXPONENTS`,
    /// which the JIT's inline arithmetic uses too.
    const LOW: Self;
    const TOP: Self;
    /// From the low bits of an APFloat bit pattern.
    fn from_bits(bits: u128) -> Self;
    /// As an APFloat bit pattern.
    fn to_bits(self) -> u128;
    fn is_normal(self) -> bool;
    fn abs(self) -> Self;
    fn sqrt(self) -> Self;
    /// Whether `r`, `x·y` (or with `quotient`, `x/y`) rounded to
    /// nearest, is inexact: an exact error term is not zero.
    fn inexact_product(x: Self, y: Self, r: Self, quotient: bool) -> bool;
}

/// Implements [`HostFloat`] for `$t`, whose exponent field starts at bit
/// `$frac`, with bounds `FP_FAST_EXPONENTS[$which]` and the error term
/// `$inexact`.
macro_rules! host_float {
    ($t:ty, $bits:ty, $frac:expr, $which:expr, $inexact:expr) => {
        impl HostFloat for $t {
            const ZERO: Self = 0.0;
            const LOW: Self = <$t>::from_bits((FP_FAST_EXPONENTS[$which].0 as $bits) << $frac);
            const TOP: Self = <$t>::from_bits((FP_FAST_EXPONENTS[$which].1 as $bits) << $frac);
            fn from_bits(bits: u128) -> Self {
                <$t>::from_bits(bits as $bits)
            }
            fn to_bits(self) -> u128 {
                <$t>::to_bits(self) as u128
            }
            fn is_normal(self) -> bool {
                self.is_normal()
            }
            fn abs(self) -> Self {
                self.abs()
            }
            fn sqrt(self) -> Self {
                self.sqrt()
            }
            fn inexact_product(x: Self, y: Self, r: Self, quotient: bool) -> bool {
                $inexact(x, y, r, quotient)
            }
        }
    };
}

// Products of singles are exact in double.
host_float!(f32, u32, 23, 0, |x: f32, y: f32, r: f32, quotient: bool| if quotient {
    r as f64 * y as f64 != x as f64
} else {
    x as f64 * y as f64 != r as f64
});
// Fused error terms: exact above LOW (a quotient's remainder is about ulp(x)).
host_float!(f64, u64, 52, 1, |x: f64, y: f64, r: f64, quotient: bool| if quotient {
    r.mul_add(y, -x) != 0.0
} else {
    r != 0.0 && x.mul_add(y, -r) != 0.0
});

/// Normal or zero: an operand the host path takes.
fn plain<T: HostFloat>(x: T) -> bool {
    x.is_normal() || x == T::ZERO
}

/// [`Format::host`] in the host's type.
fn host_arith<T: HostFloat>(op: Arith, x: T, y: T) -> Option<(T, bool)> {
    let tiny = |v: T| v != T::ZERO && v.abs() < T::LOW;
    if !plain(x) || !plain(y) || (op == Arith::Div && (y == T::ZERO || tiny(x))) {
        return None;
    }
    let r = match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => x / y,
    };
    // A zero is exact from a sum, or from a zero operand; a product or
    // quotient of non-zeros that rounds to zero underflowed.
    let exact_zero = r == T::ZERO && (matches!(op, Arith::Add | Arith::Sub) || x == T::ZERO || y == T::ZERO);
    // The extremes of the normal range have their own Underflow and
    // Overflow rules (`Env::finish`).
    let inside = r.abs() >= T::LOW && r.abs() < T::TOP;
    if !(inside || exact_zero) {
        return None;
    }
    let inexact = match op {
        Arith::Add => two_sum_error(x, y, r) != T::ZERO,
        Arith::Sub => two_sum_error(x, -y, r) != T::ZERO,
        Arith::Mul => T::inexact_product(x, y, r, false),
        Arith::Div => T::inexact_product(x, y, r, true),
    };
    Some((r, inexact))
}

/// [`Format::host_sqrt`] in the host's type: exact when r·r is x.
fn host_sqrt<T: HostFloat>(x: T) -> Option<(T, bool)> {
    if !plain(x) || x < T::ZERO || (x != T::ZERO && x < T::LOW) {
        return None;
    }
    let r = x.sqrt();
    Some((r, T::inexact_product(r, r, x, false)))
}

/// How far [`Env::finish`] scales a wide result into the normal range of
/// the narrow format (both formats hold every value it scales exactly).
const SCALE: ExpInt = 64;

fn default_nan<F: Format>() -> F {
    F::from_bits(F::DEFAULT_NAN)
}

/// A signalling NaN in the legacy encoding: the top fraction bit is set,
/// which is what APFloat (IEEE 754-2008) calls quiet.
fn is_snan<F: Float>(x: F) -> bool {
    x.is_nan() && !x.is_signaling()
}

/// APFloat's status as MIPS exception bits.
fn flags_of(s: Status) -> u32 {
    [
        (Status::INEXACT, exc::INEXACT),
        (Status::UNDERFLOW, exc::UNDERFLOW),
        (Status::OVERFLOW, exc::OVERFLOW),
        (Status::DIV_BY_ZERO, exc::DIV0),
        (Status::INVALID_OP, exc::INVALID),
    ]
    .iter()
    .filter(|(s2, _)| s.contains(*s2))
    .fold(0, |f, (_, m)| f | m)
}

fn widen<F: Format>(x: F) -> F::Wide {
    // Exact: the wide format holds every value of the narrow one.
    <F as FloatConvert<F::Wide>>::convert(x, &mut false).value
}

/// The rounding mode FCSR.RM selects.
fn rounding(fcsr: u32) -> Round {
    match fcsr & fcsr::RM {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardZero,
        2 => Round::TowardPositive,
        _ => Round::TowardNegative,
    }
}

/// The arithmetic environment of one instruction: the rounding mode and
/// flush mode from FCSR, and the exceptions raised so far.
#[derive(Debug)]
struct Env {
    round: Round,
    flush: bool,
    flags: u32,
    /// Whether [`Format::host`] may answer (off to test APFloat against it).
    host: bool,
}

impl Env {
    fn new(fcsr: u32) -> Self {
        Self { round: rounding(fcsr), flush: fcsr & fcsr::FS != 0, flags: 0, host: true }
    }

    /// If any operand is a NaN: Invalid when one is signalling, and the
    /// default NaN as the result (QEMU's default-NaN mode).
    fn nan_operands<F: Format>(&mut self, ops: &[F]) -> Option<F> {
        if !ops.iter().any(|x| x.is_nan()) {
            return None;
        }
        if ops.iter().any(|&x| is_snan(x)) {
            self.flags |= exc::INVALID;
        }
        Some(default_nan())
    }

    /// Accepts the result `r` of an operation whose value `wide(round)`
    /// computes in the wide format: a NaN result (an invalid operation)
    /// becomes the default NaN, and a result at the bottom of the normal
    /// range gets QEMU's flush-to-zero and underflow rules.
    fn finish<F: Format>(&mut self, r: StatusAnd<F>, wide: impl Fn(Round) -> StatusAnd<F::Wide>) -> F {
        let StatusAnd { status, value } = r;
        if value.is_nan() {
            self.flags |= flags_of(status);
            return default_nan();
        }
        let inexact = status.contains(Status::INEXACT);
        let min = F::smallest_normalized();
        let at_min = value.abs().bitwise_eq(min);
        // APFloat reports no Overflow when a directed rounding gives the
        // largest finite number: decide from the exponent-unbounded result.
        if inexact && value.abs().bitwise_eq(F::largest()) {
            let scaled = wide(self.round).value.scalbn(-SCALE);
            let rounded: F = scaled.convert_r(self.round, &mut false).value;
            let overflow = rounded.abs() > F::largest().scalbn(-SCALE);
            self.flags |= flags_of(status) | if overflow { exc::OVERFLOW } else { 0 };
            return value;
        }
        if !(value.is_denormal() || (inexact && (value.is_zero() || at_min))) {
            self.flags |= flags_of(status);
            return value;
        }
        // Round toward zero is monotonic and the smallest normal is
        // representable, so this says whether the exact result is below it.
        let exact_rz = wide(Round::TowardZero).value;
        if self.flush && exact_rz.abs() < widen(min) {
            return if exact_rz.is_negative() { -F::ZERO } else { F::ZERO };
        }
        // Tiny after rounding = rounding to this precision with an
        // unbounded exponent gives less than the smallest normal: scaling
        // up makes the wide value normal here, so plain conversion does it.
        let mut status = status - Status::UNDERFLOW;
        if inexact {
            let scaled = wide(self.round).value.scalbn(SCALE);
            let rounded: F = scaled.convert_r(self.round, &mut false).value;
            if rounded.abs() < min.scalbn(SCALE) {
                status |= Status::UNDERFLOW;
            }
        }
        self.flags |= flags_of(status);
        value
    }

    /// [`Format::host`] in round-to-nearest, raising Inexact if it was.
    fn host<T>(&mut self, r: Option<(T, bool)>) -> Option<T> {
        if !self.host || self.round != Round::NearestTiesToEven {
            return None;
        }
        let (r, inexact) = r?;
        if inexact {
            self.flags |= exc::INEXACT;
        }
        Some(r)
    }

    fn add<F: Format>(&mut self, a: F, b: F) -> F {
        if let Some(r) = self.host(F::host(Arith::Add, a, b)) {
            return r;
        }
        if let Some(n) = self.nan_operands(&[a, b]) {
            return n;
        }
        let (wa, wb) = (widen(a), widen(b));
        self.finish(a.add_r(b, self.round), |r| wa.add_r(wb, r))
    }

    fn sub<F: Format>(&mut self, a: F, b: F) -> F {
        if let Some(r) = self.host(F::host(Arith::Sub, a, b)) {
            return r;
        }
        if let Some(n) = self.nan_operands(&[a, b]) {
            return n;
        }
        let (wa, wb) = (widen(a), widen(b));
        self.finish(a.sub_r(b, self.round), |r| wa.sub_r(wb, r))
    }

    fn mul<F: Format>(&mut self, a: F, b: F) -> F {
        if let Some(r) = self.host(F::host(Arith::Mul, a, b)) {
            return r;
        }
        if let Some(n) = self.nan_operands(&[a, b]) {
            return n;
        }
        let (wa, wb) = (widen(a), widen(b));
        self.finish(a.mul_r(b, self.round), |r| wa.mul_r(wb, r))
    }

    fn div<F: Format>(&mut self, a: F, b: F) -> F {
        if let Some(r) = self.host(F::host(Arith::Div, a, b)) {
            return r;
        }
        if let Some(n) = self.nan_operands(&[a, b]) {
            return n;
        }
        let (wa, wb) = (widen(a), widen(b));
        self.finish(a.div_r(b, self.round), |r| wa.div_r(wb, r))
    }

    fn sqrt<F: Format>(&mut self, a: F) -> F {
        if let Some(r) = self.host(F::host_sqrt(a)) {
            return r;
        }
        if let Some(n) = self.nan_operands(&[a]) {
            return n;
        }
        // A square root is never tiny, nor too large.
        let StatusAnd { status, value } = sqrt_r(a, self.round);
        self.flags |= flags_of(status);
        if value.is_nan() { default_nan() } else { value }
    }

    /// Conversion between single and double.
    fn convert<F, T>(&mut self, a: F) -> T
    where
        F: Format + FloatConvert<T> + FloatConvert<T::Wide>,
        T: Format,
    {
        if a.is_nan() {
            if is_snan(a) {
                self.flags |= exc::INVALID;
            }
            return default_nan();
        }
        let r = <F as FloatConvert<T>>::convert_r(a, self.round, &mut false);
        let exact: T::Wide = <F as FloatConvert<T::Wide>>::convert(a, &mut false).value;
        self.finish(r, |_| Status::OK.and(exact))
    }

    /// Integer to float (never tiny, never a NaN).
    fn int_to_float<T: Format>(&mut self, v: i64) -> T {
        let r = T::from_i128_r(v as i128, self.round);
        self.flags |= flags_of(r.status);
        r.value
    }

    /// Float to a `width`-bit integer, rounding with `round`: a NaN or an
    /// out-of-range value is Invalid (alone) and gives the largest positive
    /// integer, as legacy MIPS does.
    fn float_to_int<F: Format>(&mut self, a: F, width: usize, round: Round) -> u64 {
        let invalid = (1u64 << (width - 1)) - 1;
        if a.is_nan() {
            self.flags |= exc::INVALID;
            return invalid;
        }
        let r = a.to_i128_r(width, round, &mut true);
        if r.status.contains(Status::INVALID_OP) {
            self.flags |= exc::INVALID;
            return invalid;
        }
        self.flags |= flags_of(r.status);
        r.value as u64 & (u64::MAX >> (64 - width))
    }

    /// c.cond.fmt: bit 0 of `cond` is "true if unordered", bit 1 "if
    /// equal", bit 2 "if less", bit 3 makes NaNs signal Invalid (quiet
    /// predicates signal only for a signalling NaN).
    fn compare<F: Format>(&mut self, a: F, b: F, cond: u32) -> bool {
        if a.is_nan() || b.is_nan() {
            if cond & 8 != 0 || is_snan(a) || is_snan(b) {
                self.flags |= exc::INVALID;
            }
            return cond & 1 != 0;
        }
        match a.partial_cmp(&b) {
            Some(std::cmp::Ordering::Less) => cond & 4 != 0,
            Some(std::cmp::Ordering::Equal) => cond & 2 != 0,
            _ => false,
        }
    }
}

/// The correctly rounded square root of `x` (not a NaN): the integer
/// square root of the significand, widened to far more bits than the
/// format has and with a sticky bit for a non-zero remainder, rounded once.
fn sqrt_r<F: Float>(x: F, round: Round) -> StatusAnd<F> {
    if x.is_zero() || x.is_nan() || (x.is_infinite() && !x.is_negative()) {
        return Status::OK.and(x);
    }
    if x.is_negative() {
        return Status::INVALID_OP.and(F::NAN);
    }
    let p = F::PRECISION as ExpInt;
    debug_assert!(p <= 60, "the significand must leave room for the extra bits");
    // x = m·2^e with the integer m < 2^p (exact: a scaling by a power of two).
    let e = x.ilogb() - (p - 1);
    let m = x.scalbn(-e).to_u128_r(128, Round::TowardZero, &mut true).value;
    // Widen m so that e is even and the root has 62+ bits (>= p + 2).
    let mut shift = 126 - p;
    if (e - shift).rem_euclid(2) != 0 {
        shift -= 1;
    }
    let wide = m << shift;
    let root = wide.isqrt();
    let sticky = (root * root != wide) as u128;
    F::from_u128_r(root | sticky, round).map(|r| r.scalbn((e - shift) / 2))
}

// ---- instructions -------------------------------------------------------------

/// Executes `i`, an FPU instruction (COP1, COP1X, lwc1/ldc1/swc1/sdc1, movf/movt
/// or an undefined COP1/COP1X encoding) at `pc`.
pub fn exec(cpu: &mut Cpu, i: Insn, pc: u32, bd: bool) -> Flow {
    let usable = cpu.model.has_fpu() && cpu.cp0.status & status::CU1 != 0;
    let r = if usable { step(cpu, i, pc) } else { Err(Exception::cpu(1)) };
    r.unwrap_or_else(|e| {
        cpu.raise(e, pc_bd(pc, bd));
        Flow::Exit(ExitReason::Exception)
    })
}

fn reserved() -> Exception {
    Exception::new(ExcCode::Ri)
}

/// QEMU's `check_cp1_registers`: with FR=0, an odd register in a 64-bit
/// operand is Reserved Instruction.
fn pairs(fr: bool, regs: usize) -> Result<(), Exception> {
    if !fr && regs & 1 != 0 { Err(reserved()) } else { Ok(()) }
}

/// QEMU's `check_cp1_64bitmode`: L-format operations (and luxc1/suxc1)
/// need FR=1.
fn need_fr(fr: bool) -> Result<(), Exception> {
    if fr { Ok(()) } else { Err(reserved()) }
}

fn set_gpr(cpu: &mut Cpu, r: usize, v: u32) {
    if r != 0 {
        cpu.s.gpr[r] = v;
    }
}

fn load64(cpu: &mut Cpu, addr: u32) -> Result<u64, Exception> {
    if addr & 7 != 0 {
        return Err(Exception::at(ExcCode::AdEL, addr));
    }
    let (first, second) = (cpu.load(addr, 4)? as u64, cpu.load(addr | 4, 4)? as u64);
    // Big-endian memory holds the high word first.
    Ok(if cpu.big_endian { first << 32 | second } else { second << 32 | first })
}

fn store64(cpu: &mut Cpu, addr: u32, v: u64) -> Result<(), Exception> {
    if addr & 7 != 0 {
        return Err(Exception::at(ExcCode::AdES, addr));
    }
    let (hi, lo) = ((v >> 32) as u32, v as u32);
    let (first, second) = if cpu.big_endian { (hi, lo) } else { (lo, hi) };
    // Both words are in one page: if the first store passes, so does the second.
    cpu.store(addr, 4, first)?;
    cpu.store(addr | 4, 4, second)
}

/// The format of a COP1 arithmetic instruction (`fmt` field), or of a
/// COP1X one (the low 3 bits of `funct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fmt {
    S,
    D,
    W,
    L,
    /// Paired single, or a format no instruction has.
    Other,
}

fn fmt_of(i: Insn) -> Fmt {
    let f = if i.word >> 26 == 0x13 { i.funct() & 7 | 16 } else { i.fmt() };
    match f {
        16 => Fmt::S,
        17 => Fmt::D,
        20 => Fmt::W,
        21 => Fmt::L,
        _ => Fmt::Other,
    }
}

fn step(cpu: &mut Cpu, i: Insn, pc: u32) -> Result<Flow, Exception> {
    let fr = cpu.cp0.status & status::FR != 0;
    let (rs, rt) = (cpu.s.gpr[i.rs()], cpu.s.gpr[i.rt()]);
    let fpu = &mut cpu.fpu;
    match i.op {
        Op::Mfc1 => {
            let v = fpu.single(i.fs());
            set_gpr(cpu, i.rt(), v);
        }
        Op::Mfhc1 => {
            let v = fpu.high(i.fs(), fr);
            set_gpr(cpu, i.rt(), v);
        }
        Op::Cfc1 => {
            let v = fpu.cfc1(i.fs());
            set_gpr(cpu, i.rt(), v);
        }
        Op::Mtc1 => fpu.set_single(i.fs(), rt),
        Op::Mthc1 => fpu.set_high(i.fs(), rt, fr),
        Op::Ctc1 => {
            // The write stays even when it traps (QEMU raises afterwards).
            if fpu.ctc1(i.fs(), rt) && fpu.cause_traps() {
                return Err(Exception::new(ExcCode::Fpe));
            }
        }
        Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl => {
            let taken = fpu.cc(i.cc()) == i.tf();
            return Ok(Flow::Branch { taken, target: i.branch_target(pc) });
        }
        Op::Movci => {
            if fpu.cc(i.cc()) == i.tf() {
                set_gpr(cpu, i.rd(), rs);
            }
        }
        Op::Lwc1 | Op::Lwxc1 => {
            let addr = if i.op == Op::Lwc1 { rs.wrapping_add(i.simm() as u32) } else { rs.wrapping_add(rt) };
            let v = cpu.load(addr, 4)?;
            let r = if i.op == Op::Lwc1 { i.ft() } else { i.fd() };
            cpu.fpu.set_single(r, v);
        }
        Op::Swc1 | Op::Swxc1 => {
            let (addr, r) = if i.op == Op::Swc1 {
                (rs.wrapping_add(i.simm() as u32), i.ft())
            } else {
                (rs.wrapping_add(rt), i.fs())
            };
            let v = fpu.single(r);
            cpu.store(addr, 4, v)?;
        }
        Op::Ldc1 | Op::Ldxc1 | Op::Luxc1 => {
            let (addr, r) = match i.op {
                Op::Ldc1 => (rs.wrapping_add(i.simm() as u32), i.ft()),
                Op::Ldxc1 => {
                    pairs(fr, i.fd())?;
                    (rs.wrapping_add(rt), i.fd())
                }
                _ => {
                    need_fr(fr)?;
                    (rs.wrapping_add(rt) & !7, i.fd())
                }
            };
            let v = load64(cpu, addr)?;
            cpu.fpu.set_double(r, v, fr);
        }
        Op::Sdc1 | Op::Sdxc1 | Op::Suxc1 => {
            let (addr, r) = match i.op {
                Op::Sdc1 => (rs.wrapping_add(i.simm() as u32), i.ft()),
                Op::Sdxc1 => {
                    pairs(fr, i.fs())?;
                    (rs.wrapping_add(rt), i.fs())
                }
                _ => {
                    need_fr(fr)?;
                    (rs.wrapping_add(rt) & !7, i.fs())
                }
            };
            let v = fpu.double(r, fr);
            store64(cpu, addr, v)?;
        }
        // A hint: no caches are modelled.
        Op::Prefx => {}
        Op::FMov | Op::FAbs | Op::FNeg | Op::FMovcf | Op::FMovz | Op::FMovn => move_op(cpu, i, fr, rt)?,
        _ => arith(cpu, i, fr)?,
    }
    Ok(Flow::Next)
}

/// mov, abs, neg and the conditional moves: bit copies that leave FCSR alone.
fn move_op(cpu: &mut Cpu, i: Insn, fr: bool, rt: u32) -> Result<(), Exception> {
    let fpu = &mut cpu.fpu;
    let (fs, fd) = (i.fs(), i.fd());
    let go = match i.op {
        Op::FMovcf => fpu.cc(i.cc()) == i.tf(),
        // With rt = $0, movz always moves and movn never does.
        Op::FMovz => rt == 0,
        Op::FMovn => rt != 0,
        _ => true,
    };
    // Only the unconditional forms check register pairs (as QEMU does).
    let sign = match fmt_of(i) {
        Fmt::S => 1u64 << 31,
        Fmt::D => {
            if matches!(i.op, Op::FMov | Op::FAbs | Op::FNeg) {
                pairs(fr, fs | fd)?;
            }
            1u64 << 63
        }
        _ => return Err(reserved()),
    };
    if !go {
        return Ok(());
    }
    let v = if sign == 1 << 31 { fpu.single(fs) as u64 } else { fpu.double(fs, fr) };
    let v = match i.op {
        Op::FAbs => v & !sign,
        Op::FNeg => v ^ sign,
        _ => v,
    };
    if sign == 1 << 31 {
        fpu.set_single(fd, v as u32);
    } else {
        fpu.set_double(fd, v, fr);
    }
    Ok(())
}

/// Where an arithmetic result goes once FCSR says it may.
enum Out {
    Single(usize, u32),
    Double(usize, u64),
    Cc(u32, bool),
}

fn s_bits(x: Single) -> u32 {
    x.to_bits() as u32
}

fn d_bits(x: Double) -> u64 {
    x.to_bits() as u64
}

/// The instructions that compute: they set FCSR.Cause and may trap.
fn arith(cpu: &mut Cpu, i: Insn, fr: bool) -> Result<(), Exception> {
    use Fmt::{D, L, S, W};
    let fpu = &cpu.fpu;
    let (fs, ft, fd, fmt) = (i.fs(), i.ft(), i.fd(), fmt_of(i));
    let s = |r: usize| Single::from_bits(fpu.single(r) as u128);
    let d = |r: usize| Double::from_bits(fpu.double(r, fr) as u128);
    let word = |r: usize| fpu.single(r) as i32 as i64;
    let long = |r: usize| fpu.double(r, fr) as i64;
    let mut env = Env::new(fpu.fcsr);
    let e = &mut env;
    // The rounding of round/trunc/ceil/floor, or FCSR.RM for cvt.
    let to_int_round = match i.op {
        Op::FRoundL | Op::FRoundW => Round::NearestTiesToEven,
        Op::FTruncL | Op::FTruncW => Round::TowardZero,
        Op::FCeilL | Op::FCeilW => Round::TowardPositive,
        Op::FFloorL | Op::FFloorW => Round::TowardNegative,
        _ => e.round,
    };
    let out = match (i.op, fmt) {
        (Op::FAdd | Op::FSub | Op::FMul | Op::FDiv, S) => {
            let host = host_arith(arith_op(i.op), f32::from_bits(fpu.single(fs)), f32::from_bits(fpu.single(ft)));
            match e.host(host) {
                Some(r) => Out::Single(fd, r.to_bits()),
                None => Out::Single(fd, s_bits(binary(e, i.op, s(fs), s(ft)))),
            }
        }
        (Op::FAdd | Op::FSub | Op::FMul | Op::FDiv, D) => {
            pairs(fr, fs | ft | fd)?;
            let host =
                host_arith(arith_op(i.op), f64::from_bits(fpu.double(fs, fr)), f64::from_bits(fpu.double(ft, fr)));
            match e.host(host) {
                Some(r) => Out::Double(fd, r.to_bits()),
                None => Out::Double(fd, d_bits(binary(e, i.op, d(fs), d(ft)))),
            }
        }
        (Op::FSqrt, S) => match e.host(host_sqrt(f32::from_bits(fpu.single(fs)))) {
            Some(r) => Out::Single(fd, r.to_bits()),
            None => Out::Single(fd, s_bits(unary(e, i.op, s(fs)))),
        },
        (Op::FSqrt, D) if fr || (fs | fd) & 1 == 0 => match e.host(host_sqrt(f64::from_bits(fpu.double(fs, fr)))) {
            Some(r) => Out::Double(fd, r.to_bits()),
            None => Out::Double(fd, d_bits(unary(e, i.op, d(fs)))),
        },
        (Op::FRecip | Op::FRsqrt, S) => Out::Single(fd, s_bits(unary(e, i.op, s(fs)))),
        (Op::FSqrt | Op::FRecip | Op::FRsqrt, D) => {
            pairs(fr, fs | fd)?;
            Out::Double(fd, d_bits(unary(e, i.op, d(fs))))
        }
        (Op::FRoundW | Op::FTruncW | Op::FCeilW | Op::FFloorW | Op::FCvtW, S) => {
            Out::Single(fd, e.float_to_int(s(fs), 32, to_int_round) as u32)
        }
        (Op::FRoundW | Op::FTruncW | Op::FCeilW | Op::FFloorW | Op::FCvtW, D) => {
            pairs(fr, fs)?;
            Out::Single(fd, e.float_to_int(d(fs), 32, to_int_round) as u32)
        }
        (Op::FRoundL | Op::FTruncL | Op::FCeilL | Op::FFloorL | Op::FCvtL, S) => {
            need_fr(fr)?;
            Out::Double(fd, e.float_to_int(s(fs), 64, to_int_round))
        }
        (Op::FRoundL | Op::FTruncL | Op::FCeilL | Op::FFloorL | Op::FCvtL, D) => {
            need_fr(fr)?;
            Out::Double(fd, e.float_to_int(d(fs), 64, to_int_round))
        }
        (Op::FCvtS, D) => {
            pairs(fr, fs)?;
            Out::Single(fd, s_bits(e.convert::<Double, Single>(d(fs))))
        }
        (Op::FCvtS, W) => Out::Single(fd, s_bits(e.int_to_float(word(fs)))),
        (Op::FCvtS, L) => {
            need_fr(fr)?;
            Out::Single(fd, s_bits(e.int_to_float(long(fs))))
        }
        (Op::FCvtD, S) => {
            pairs(fr, fd)?;
            Out::Double(fd, d_bits(e.convert::<Single, Double>(s(fs))))
        }
        (Op::FCvtD, W) => {
            pairs(fr, fd)?;
            Out::Double(fd, d_bits(e.int_to_float(word(fs))))
        }
        (Op::FCvtD, L) => {
            need_fr(fr)?;
            Out::Double(fd, d_bits(e.int_to_float(long(fs))))
        }
        (Op::FCmp, S) => Out::Cc(i.cc(), e.compare(s(fs), s(ft), i.fp_cond())),
        (Op::FCmp, D) => {
            pairs(fr, fs | ft)?;
            Out::Cc(i.cc(), e.compare(d(fs), d(ft), i.fp_cond()))
        }
        (Op::FMadd | Op::FMsub | Op::FNmadd | Op::FNmsub, S) => {
            let (a, b, c) = (s(fs), s(ft), s(i.fr()));
            Out::Single(fd, s_bits(multiply_add(e, i.op, a, b, c)))
        }
        (Op::FMadd | Op::FMsub | Op::FNmadd | Op::FNmsub, D) => {
            pairs(fr, fd | fs | ft | i.fr())?;
            let (a, b, c) = (d(fs), d(ft), d(i.fr()));
            Out::Double(fd, d_bits(multiply_add(e, i.op, a, b, c)))
        }
        // Paired single (the 24Kf has none), and Reserved encodings.
        _ => return Err(reserved()),
    };
    let flags = env.flags;
    let fpu = &mut cpu.fpu;
    fpu.commit(flags)?;
    match out {
        Out::Single(r, v) => fpu.set_single(r, v),
        Out::Double(r, v) => fpu.set_double(r, v, fr),
        Out::Cc(cc, v) => fpu.set_cc(cc, v),
    }
    Ok(())
}

/// The [`Arith`] of add.fmt, sub.fmt, mul.fmt or div.fmt.
fn arith_op(op: Op) -> Arith {
    match op {
        Op::FAdd => Arith::Add,
        Op::FSub => Arith::Sub,
        Op::FMul => Arith::Mul,
        _ => Arith::Div,
    }
}

fn binary<F: Format>(e: &mut Env, op: Op, a: F, b: F) -> F {
    match op {
        Op::FAdd => e.add(a, b),
        Op::FSub => e.sub(a, b),
        Op::FMul => e.mul(a, b),
        _ => e.div(a, b),
    }
}

/// sqrt, and recip and rsqrt as QEMU computes them: 1/x, and 1/sqrt(x)
/// with two roundings.
fn unary<F: Format>(e: &mut Env, op: Op, a: F) -> F {
    let one = F::from_u128(1).value;
    match op {
        Op::FSqrt => e.sqrt(a),
        Op::FRecip => e.div(one, a),
        _ => {
            let root = e.sqrt(a);
            e.div(one, root)
        }
    }
}

/// madd (fs·ft + fr), msub (fs·ft - fr) and their negations, unfused.
fn multiply_add<F: Format>(e: &mut Env, op: Op, a: F, b: F, c: F) -> F {
    let product = e.mul(a, b);
    let r = if matches!(op, Op::FMadd | Op::FNmadd) { e.add(product, c) } else { e.sub(product, c) };
    // The negation flips the sign of whatever came out, NaN included.
    if matches!(op, Op::FNmadd | Op::FNmsub) { F::from_bits(r.to_bits() ^ 1 << (F::WIDTH - 1)) } else { r }
}

#[cfg(test)]
mod tests;
