//! Inline lowering of the commonest FPU instructions: the loads and stores
//! (`lwc1`, `swc1`, `ldc1`, `sdc1`, through the soft-TLB like the integer
//! ones), `mfc1`/`mtc1` and `mov.s`/`mov.d`, which are bit copies between
//! guest memory, GPRs and FPRs and leave FCSR alone; and `add`, `sub`,
//! `mul` and `div` in S and D format, in the common case the runtime's
//! FPU also takes the host's arithmetic for (`runtime::fpu`, its module
//! doc): round to nearest, no exception enabled, operands normal or zero
//! and a result well inside the normal range (or an exact zero). There
//! the host's result is the answer, Inexact (from an exact error term) the
//! only exception, and FCSR's Cause becomes Inexact or nothing while its
//! Flags gather it. Any other case goes to `exec`.
//!
//! Each one checks at run time what the interpreter (`runtime::fpu`)
//! checks, and hands the instruction to the `exec` helper (a cold path)
//! when the check fails, so faults come from one place: Status.CU1 clear
//! (Coprocessor Unusable), a misaligned doubleword (Address Error), and
//! `mov.d` of an odd register with Status.FR = 0 (Reserved Instruction).
//! Status.FR decides where a double lives: the whole register (FR=1), or
//! the low halves of an even/odd pair (FR=0).

use crate::abi::{FP_FAST_EXPONENTS, FpuSlots};
use crate::lower::Lower;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use frontend::{Insn, Op};

const I32: types::Type = types::I32;
const I64: types::Type = types::I64;
/// Status.CU1 and Status.FR.
const CU1: i64 = 1 << 29;
const FR: i64 = 1 << 26;
/// Where the low 32 bits of a `u64` register sit in host memory.
const LOW: i32 = if cfg!(target_endian = "big") { 4 } else { 0 };
const HIGH: i32 = 4 - LOW;

/// Lowers `i` (lwc1, swc1, ldc1, sdc1, mfc1, mtc1 or mov.fmt) inline, or
/// through `exec` when the runtime gave no FPU layout.
pub(crate) fn lower(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let Some(slots) = l.fpu_slots() else {
        return l.exec_helper(i, pcbd, idx);
    };
    let status = l.load_state(slots.status);
    let cu1 = l.ins().band_imm_s(status, CU1);
    let usable = l.ins().icmp_imm_s(IntCC::NotEqual, cu1, 0);
    match i.op {
        // MFC1 rt, fs / MTC1 rt, fs: the low word of fs.
        Op::Mfc1 => l.fast_or_exec(usable, i, pcbd, idx, |l| {
            let v = l.load_state(single(slots, i.fs()));
            l.set_reg(i.rt(), v);
        }),
        Op::Mtc1 => l.fast_or_exec(usable, i, pcbd, idx, |l| {
            let v = l.rt(i);
            l.store_state(v, single(slots, i.fs()));
        }),
        // LWC1 ft, offset(base) / SWC1 ft, offset(base)
        Op::Lwc1 | Op::Swc1 => {
            let addr = l.address(i);
            l.fast_or_exec(usable, i, pcbd, idx, |l| {
                if i.op == Op::Lwc1 {
                    let v = l.load(addr, 4, false, pcbd, idx);
                    l.store_state(v, single(slots, i.ft()));
                } else {
                    let v = l.load_state(single(slots, i.ft()));
                    l.store(addr, v, 4, pcbd, idx);
                }
            })
        }
        // LDC1 ft, offset(base) / SDC1 ft, offset(base): two words, the
        // high one first in big-endian memory (as the interpreter does).
        Op::Ldc1 | Op::Sdc1 => {
            let addr = l.address(i);
            let misaligned = l.ins().band_imm_s(addr, 7);
            let aligned = l.ins().icmp_imm_s(IntCC::Equal, misaligned, 0);
            let ok = l.ins().band(usable, aligned);
            l.fast_or_exec(ok, i, pcbd, idx, |l| {
                let (lo, hi) = double_halves(l, slots, status, i.ft());
                let second = l.ins().iadd_imm_s(addr, 4);
                let big = l.is_big_endian();
                if i.op == Op::Ldc1 {
                    let a = l.load(addr, 4, false, pcbd, idx);
                    let b = l.load(second, 4, false, pcbd, idx);
                    let (low, high) = if big { (b, a) } else { (a, b) };
                    l.ins().store(MemFlagsData::trusted(), low, lo, 0);
                    l.ins().store(MemFlagsData::trusted(), high, hi, 0);
                } else {
                    let low = l.ins().load(I32, MemFlagsData::trusted(), lo, 0);
                    let high = l.ins().load(I32, MemFlagsData::trusted(), hi, 0);
                    let (a, b) = if big { (high, low) } else { (low, high) };
                    l.store(addr, a, 4, pcbd, idx);
                    l.store(second, b, 4, pcbd, idx);
                }
            })
        }
        // MOV.S fd, fs
        Op::FMov if i.fmt() == 16 => l.fast_or_exec(usable, i, pcbd, idx, |l| {
            let v = l.load_state(single(slots, i.fs()));
            l.store_state(v, single(slots, i.fd()));
        }),
        // MOV.D fd, fs: odd registers need FR=1.
        Op::FMov if i.fmt() == 17 => {
            let ok = if (i.fs() | i.fd()) & 1 != 0 {
                let fr = l.ins().band_imm_s(status, FR);
                let fr = l.ins().icmp_imm_s(IntCC::NotEqual, fr, 0);
                l.ins().band(usable, fr)
            } else {
                usable
            };
            l.fast_or_exec(ok, i, pcbd, idx, |l| {
                let (from_lo, from_hi) = double_halves(l, slots, status, i.fs());
                let (to_lo, to_hi) = double_halves(l, slots, status, i.fd());
                let low = l.ins().load(I32, MemFlagsData::trusted(), from_lo, 0);
                let high = l.ins().load(I32, MemFlagsData::trusted(), from_hi, 0);
                l.ins().store(MemFlagsData::trusted(), low, to_lo, 0);
                l.ins().store(MemFlagsData::trusted(), high, to_hi, 0);
            })
        }
        // Double products and quotients need a fused multiply-add for
        // their error terms: the host's, or a library call it is not.
        Op::FAdd | Op::FSub | Op::FMul | Op::FDiv
            if i.fmt() == 16 || (i.fmt() == 17 && (matches!(i.op, Op::FAdd | Op::FSub) || host_fma())) =>
        {
            arith(l, slots, status, usable, i, pcbd, idx)
        }
        _ => l.exec_helper(i, pcbd, idx),
    }
}

/// Whether the host has a fused multiply-add instruction (Cranelift's
/// native ISA flags then use it).
fn host_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        cfg!(target_arch = "aarch64")
    }
}

/// FCSR bits that must be clear for the inline arithmetic: the rounding
/// mode (nearest is 0) and the Enables.
const FCSR_RM_AND_ENABLES: i64 = 0x3 | 0x1f << 7;
/// FCSR's Cause field, and where Inexact sits in it and in Flags.
const FCSR_CAUSE: i64 = 0x3f << 12;
const CAUSE_INEXACT: u32 = 12;
const FLAGS_INEXACT: u32 = 2;

/// `add`, `sub`, `mul` or `div` in S or D format (see the module doc).
fn arith(l: &mut Lower<'_, '_>, slots: FpuSlots, status: Value, usable: Value, i: Insn, pcbd: u32, idx: usize) {
    use types::{F32, F64};
    let double = i.fmt() == 17;
    let (fs, ft, fd) = (i.fs(), i.ft(), i.fd());
    let fcsr = l.load_state(slots.fcsr);
    let modes = l.ins().band_imm_s(fcsr, FCSR_RM_AND_ENABLES);
    let nearest = l.ins().icmp_imm_s(IntCC::Equal, modes, 0);
    let mut ok = l.ins().band(usable, nearest);
    if double && (fs | ft | fd) & 1 != 0 {
        // An odd register holds a double only with FR=1.
        let fr = l.ins().band_imm_s(status, FR);
        let fr = l.ins().icmp_imm_s(IntCC::NotEqual, fr, 0);
        ok = l.ins().band(ok, fr);
    }
    let (ty, int, exp_bits, frac_bits) = if double { (F64, I64, 11, 52) } else { (F32, I32, 8, 23) };
    let load = |l: &mut Lower<'_, '_>, r: usize| -> Value {
        if double {
            let (lo, hi) = double_halves(l, slots, status, r);
            let lo = l.ins().load(I32, MemFlagsData::trusted(), lo, 0);
            let hi = l.ins().load(I32, MemFlagsData::trusted(), hi, 0);
            let lo = l.ins().uextend(I64, lo);
            let hi = l.ins().uextend(I64, hi);
            let hi = l.ins().ishl_imm_s(hi, 32);
            l.ins().bor(hi, lo)
        } else {
            l.load_state(single(slots, r))
        }
    };
    // The biased exponent of the bit pattern `v`.
    let exponent = |l: &mut Lower<'_, '_>, v: Value| {
        let e = l.ins().ushr_imm_s(v, frac_bits);
        l.ins().band_imm_s(e, (1 << exp_bits) - 1)
    };
    let is_zero = |l: &mut Lower<'_, '_>, v: Value| {
        let magnitude = l.ins().ishl_imm_s(v, 1);
        l.ins().icmp_imm_s(IntCC::Equal, magnitude, 0)
    };
    // Normal or zero: exponent 1..=max-1, or all of it zero.
    let plain = |l: &mut Lower<'_, '_>, v: Value| {
        let e = exponent(l, v);
        let e = l.ins().iadd_imm_s(e, -1);
        let normal = l.ins().icmp_imm_s(IntCC::UnsignedLessThan, e, (1 << exp_bits) - 2);
        let zero = is_zero(l, v);
        l.ins().bor(normal, zero)
    };
    let (a_bits, b_bits) = (load(l, fs), load(l, ft));
    let (a_plain, b_plain) = (plain(l, a_bits), plain(l, b_bits));
    ok = l.ins().band(ok, a_plain);
    ok = l.ins().band(ok, b_plain);
    let (a, b) = (l.ins().bitcast(ty, MemFlagsData::new(), a_bits), l.ins().bitcast(ty, MemFlagsData::new(), b_bits));
    let r = match i.op {
        Op::FAdd => l.ins().fadd(a, b),
        Op::FSub => l.ins().fsub(a, b),
        Op::FMul => l.ins().fmul(a, b),
        _ => l.ins().fdiv(a, b),
    };
    let r_bits = l.ins().bitcast(int, MemFlagsData::new(), r);
    // The result well inside the normal range (see FP_FAST_EXPONENTS).
    let (low, top) = FP_FAST_EXPONENTS[double as usize];
    let (low, top) = (low as i64, top as i64);
    let e = exponent(l, r_bits);
    let e = l.ins().iadd_imm_s(e, -low);
    let inside = l.ins().icmp_imm_s(IntCC::UnsignedLessThan, e, top - low);
    // Or an exact zero: any zero sum; a product with a zero factor; a
    // quotient of zero. (Not a zero divisor.)
    let a_zero = is_zero(l, a_bits);
    let b_zero = is_zero(l, b_bits);
    let zero_ok = match i.op {
        Op::FAdd | Op::FSub => l.ins().iconst(types::I8, 1),
        Op::FMul => l.ins().bor(a_zero, b_zero),
        _ => a_zero,
    };
    let r_zero = is_zero(l, r_bits);
    let exact_zero = l.ins().band(r_zero, zero_ok);
    let in_range = l.ins().bor(inside, exact_zero);
    ok = l.ins().band(ok, in_range);
    if i.op == Op::FDiv {
        let b_nonzero = l.ins().bnot(b_zero);
        ok = l.ins().band(ok, b_nonzero);
        if double {
            // The remainder is about ulp(a): a must be well inside too.
            let ea = exponent(l, a_bits);
            let ea = l.ins().iadd_imm_s(ea, -low);
            let a_inside = l.ins().icmp_imm_s(IntCC::UnsignedLessThan, ea, top + 1 - low);
            let a_fine = l.ins().bor(a_inside, a_zero);
            ok = l.ins().band(ok, a_fine);
        }
    }
    let inexact = inexact(l, i.op, double, a, b, r);
    l.fast_or_exec(ok, i, pcbd, idx, |l| {
        if double {
            let (lo, hi) = double_halves(l, slots, status, fd);
            let low = l.ins().ireduce(I32, r_bits);
            let high = l.ins().ushr_imm_s(r_bits, 32);
            let high = l.ins().ireduce(I32, high);
            l.ins().store(MemFlagsData::trusted(), low, lo, 0);
            l.ins().store(MemFlagsData::trusted(), high, hi, 0);
        } else {
            l.store_state(r_bits, single(slots, fd));
        }
        // Cause := Inexact or nothing; Flags |= it.
        let bit = l.ins().uextend(I32, inexact);
        let cause = l.ins().ishl_imm_s(bit, CAUSE_INEXACT as i64);
        let flag = l.ins().ishl_imm_s(bit, FLAGS_INEXACT as i64);
        let kept = l.ins().band_imm_s(fcsr, !FCSR_CAUSE);
        let v = l.ins().bor(kept, cause);
        let v = l.ins().bor(v, flag);
        l.store_state(v, slots.fcsr);
    });
}

/// Whether `r`, the host's round-to-nearest `a op b`, is inexact: an exact
/// error term is not zero (TwoSum for sums; for single products and
/// quotients the exact double product; for doubles a fused multiply-add).
fn inexact(l: &mut Lower<'_, '_>, op: Op, double: bool, a: Value, b: Value, r: Value) -> Value {
    use cranelift_codegen::ir::condcodes::FloatCC;
    use types::F64;
    let zero = if double { l.ins().f64const(0.0) } else { l.ins().f32const(0.0) };
    let err = match op {
        Op::FAdd | Op::FSub => {
            let y = if op == Op::FSub { l.ins().fneg(b) } else { b };
            // TwoSum: (a - (r - (r - a))) + (y - (r - a)).
            let yy = l.ins().fsub(r, a);
            let xx = l.ins().fsub(r, yy);
            let ex = l.ins().fsub(a, xx);
            let ey = l.ins().fsub(y, yy);
            l.ins().fadd(ex, ey)
        }
        _ if !double => {
            let (a, b, r) = (l.ins().fpromote(F64, a), l.ins().fpromote(F64, b), l.ins().fpromote(F64, r));
            let (p, q) = if op == Op::FMul { (l.ins().fmul(a, b), r) } else { (l.ins().fmul(r, b), a) };
            return l.ins().fcmp(FloatCC::NotEqual, p, q);
        }
        Op::FMul => {
            let neg = l.ins().fneg(r);
            l.ins().fma(a, b, neg)
        }
        _ => {
            let neg = l.ins().fneg(a);
            l.ins().fma(r, b, neg)
        }
    };
    l.ins().fcmp(FloatCC::NotEqual, err, zero)
}

/// The state offset of the single (or word) in FPR `r`.
fn single(slots: FpuSlots, r: usize) -> i32 {
    slots.fpr + 8 * (r as i32 & 31) + LOW
}

/// Host addresses of the low and high words of the double in FPR `r`,
/// given Status (`status`): with FR=1 the two halves of `r`, with FR=0
/// the low halves of the pair `r & 30`, `r | 1`.
fn double_halves(l: &mut Lower<'_, '_>, slots: FpuSlots, status: Value, r: usize) -> (Value, Value) {
    let fr = l.ins().band_imm_s(status, FR);
    let fr = l.ins().icmp_imm_s(IntCC::NotEqual, fr, 0);
    let (even, odd) = (r & 30, r | 1);
    let lo_fr1 = l.ins().iconst(I64, (slots.fpr + 8 * r as i32 + LOW) as i64);
    let lo_fr0 = l.ins().iconst(I64, (slots.fpr + 8 * even as i32 + LOW) as i64);
    let hi_fr1 = l.ins().iconst(I64, (slots.fpr + 8 * r as i32 + HIGH) as i64);
    let hi_fr0 = l.ins().iconst(I64, (slots.fpr + 8 * odd as i32 + LOW) as i64);
    let lo = l.ins().select(fr, lo_fr1, lo_fr0);
    let hi = l.ins().select(fr, hi_fr1, hi_fr0);
    let state = l.state;
    (l.ins().iadd(state, lo), l.ins().iadd(state, hi))
}
