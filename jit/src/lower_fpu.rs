//! Inline lowering of the commonest FPU instructions: the loads and stores
//! (`lwc1`, `swc1`, `ldc1`, `sdc1`, through the soft-TLB like the integer
//! ones; a doubleword in one access in user mode), `mfc1`/`mtc1`,
//! `mfhc1`/`mthc1`, and `mov`, `abs`, `neg`, `movz`, `movn`, `movf` and
//! `movt` in S and D format, which are bit copies between guest memory,
//! GPRs and FPRs and leave FCSR alone;
//! `bc1t`/`bc1f` on FCSR's condition codes; `add`, `sub`, `mul` and `div`
//! in S and D format, in the common case the runtime's FPU also takes the
//! host's arithmetic for (`runtime::fpu`, its module doc): round to
//! nearest, no exception enabled, and a result well inside the normal
//! range (or an exact zero). There the host's result is the answer,
//! Inexact (from an exact error term) the only exception, and FCSR's Cause
//! becomes Inexact or nothing while its Flags gather it. Likewise `c.cond`
//! of operands that are not NaNs, `cvt.d.w` and `cvt.d.s` (exact),
//! `cvt.s.w` and `trunc.w` in range, and `sqrt` as the interpreter's host
//! path takes it. Any other case goes to `exec`.
//!
//! Each one checks at run time what the interpreter (`runtime::fpu`)
//! checks, and hands the instruction to the `exec` helper (a cold path)
//! when the check fails, so faults come from one place: a misaligned
//! doubleword (Address Error), and a rounding mode, enabled exception or
//! operand the fast arithmetic does not take. With the FPU unusable
//! (Status.CU1 clear) the block leaves for the interpreter at the
//! instruction, which raises Coprocessor Unusable (a lazy FPU switch).
//! Status changes only between translated blocks (a `mtc0` to it ends its
//! block), so the function reads CU1 once, on entry (in user mode, where
//! it is never clear, the entry checks it instead).
//!
//! Where a double lives depends on Status.FR (the whole register with
//! FR=1, the low halves of an even/odd pair with FR=0), which changes only
//! when a program asks (`prctl(PR_SET_FP_MODE)`, or the kernel switching
//! to a process of the other mode): a function with inline FPU code is
//! compiled for the FR the runtime saw when it asked
//! (`GuestBlock::fpu_mode`) and checks it on entry; with the other, it
//! goes back to the runtime with [`ExitReason::FpuMode`] (see
//! [`entry_mask`]).
//!
//! [`ExitReason::FpuMode`]: crate::abi::ExitReason::FpuMode
//!
//! These instructions work on variables, not on the state in memory: the
//! FPRs (see [`FP_VARS`]) and FCSR a function's inline FPU instructions
//! use are loaded on its entry and stored at its exits (see [`cached`]),
//! like the GPRs, and around `exec` calls, which work on memory. A loop's
//! accumulator and FCSR then stay in host registers; through memory, each
//! `add.d` waited on the store of the one before.

use crate::abi::{FP_FAST_EXPONENTS, FpuSlots};
use crate::lower::Lower;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use frontend::{Insn, Op};

const I32: types::Type = types::I32;
const I64: types::Type = types::I64;
/// Status.FR.
const FR: u32 = 1 << 26;
/// Status.CU1: whether the FPU is usable.
pub(crate) const CU1: u32 = 1 << 29;

/// The Status bits a function with inline FPU code compares on entry
/// with the ones it was compiled for ([`entry_mode`]): FR, and in user
/// mode (`flat`), where the emulated kernel never clears it, CU1 too.
/// Elsewhere each FPU instruction tests CU1 (a lazy FPU switch clears it
/// in processes that have not used the FPU lately).
pub(crate) fn entry_mask(flat: bool) -> u32 {
    FR | if flat { CU1 } else { 0 }
}

/// The Status bits, under [`entry_mask`], that inline FPU code compiled
/// for FR = `fr` runs with.
pub(crate) fn entry_mode(fr: bool, flat: bool) -> u32 {
    (if fr { FR } else { 0 }) | if flat { CU1 } else { 0 }
}

/// Whether `GuestBlock::fpu_mode` asks for FR=1.
pub(crate) fn mode_fr(fpu_mode: u32) -> bool {
    fpu_mode & FR != 0
}

/// Where the low 32 bits of a `u64` register sit in host memory.
const LOW: i32 = if cfg!(target_endian = "big") { 4 } else { 0 };
const HIGH: i32 = 4 - LOW;

/// Lowers FPU instruction `i` inline where [`takes`] says so (Status.FR
/// as [`Lower::fpu_fr`] says: the function's entry checked it), else
/// through `exec`. With Status.CU1 clear, the interpreter runs it (and
/// raises Coprocessor Unusable).
pub(crate) fn lower(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let fr = l.fpu_fr();
    if !l.fpu_inline() || !takes(i, fr) {
        return l.exec_helper(i, pcbd, idx);
    }
    l.leave_unless_fpu_usable(pcbd, idx);
    inline(l, fr, i, pcbd, idx);
}

/// Whether [`inline`] lowers `i` with Status.FR = `fr`: the operations it
/// has, in formats whose registers exist (with FR=0 a double names an
/// even register, or `exec` raises Reserved Instruction).
fn takes(i: Insn, fr: bool) -> bool {
    let pairs = |regs: usize| fr || regs & 1 == 0;
    let (fmt, fs, ft, fd) = (i.fmt(), i.fs(), i.ft(), i.fd());
    match i.op {
        Op::Mfc1 | Op::Mtc1 | Op::Lwc1 | Op::Swc1 | Op::Ldc1 | Op::Sdc1 | Op::Mfhc1 | Op::Mthc1 => true,
        Op::FMov | Op::FAbs | Op::FNeg => fmt == 16 || (fmt == 17 && pairs(fs | fd)),
        // The conditional moves do not check pairs (as QEMU, and the
        // interpreter): an odd double is its pair's.
        Op::FMovz | Op::FMovn | Op::FMovcf => matches!(fmt, 16 | 17),
        Op::FCmp => fmt == 16 || (fmt == 17 && pairs(fs | ft)),
        // From a word or a single.
        Op::FCvtD => matches!(fmt, 16 | 20) && pairs(fd),
        // From a word.
        Op::FCvtS => fmt == 20,
        Op::FTruncW => fmt == 16 || (fmt == 17 && pairs(fs)),
        // Double square roots, products and quotients need a fused
        // multiply-add for their error terms: the host's, or a library
        // call it is not.
        Op::FSqrt => fmt == 16 || (fmt == 17 && pairs(fs | fd) && host_fma()),
        Op::FAdd | Op::FSub | Op::FMul | Op::FDiv => {
            fmt == 16 || (fmt == 17 && pairs(fs | ft | fd) && (matches!(i.op, Op::FAdd | Op::FSub) || host_fma()))
        }
        _ => false,
    }
}

/// `i`, which [`takes`] takes, with the FPU usable.
fn inline(l: &mut Lower<'_, '_>, fr: bool, i: Insn, pcbd: u32, idx: usize) {
    match i.op {
        // MFC1 rt, fs / MTC1 rt, fs: the low word of fs.
        Op::Mfc1 => {
            let v = get_single(l, fr, i.fs());
            l.set_reg(i.rt(), v);
        }
        Op::Mtc1 => {
            let v = l.rt(i);
            put_single(l, fr, i.fs(), v);
        }
        // LWC1 ft, offset(base) / SWC1 ft, offset(base)
        Op::Lwc1 => {
            let addr = l.address(i);
            let v = l.load(addr, 4, false, pcbd, idx);
            put_single(l, fr, i.ft(), v);
        }
        Op::Swc1 => {
            let addr = l.address(i);
            let v = get_single(l, fr, i.ft());
            l.store(addr, v, 4, pcbd, idx);
        }
        // LDC1 ft, offset(base) / SDC1 ft, offset(base): two words, the
        // high one first in big-endian memory (as the interpreter does);
        // in flat user memory one host access.
        Op::Ldc1 if l.is_flat() => {
            let addr = l.address(i);
            let v = l.load_double(addr, pcbd, idx);
            put_double(l, fr, i.ft(), v);
        }
        Op::Sdc1 if l.is_flat() => {
            let addr = l.address(i);
            let v = get_double(l, fr, i.ft());
            l.store_double(addr, v, pcbd, idx);
        }
        Op::Ldc1 | Op::Sdc1 => {
            let addr = l.address(i);
            let misaligned = l.ins().band_imm_s(addr, 7);
            let aligned = l.ins().icmp_imm_s(IntCC::Equal, misaligned, 0);
            l.fast_or_exec(aligned, i, pcbd, idx, |l| {
                let second = l.ins().iadd_imm_s(addr, 4);
                let big = l.is_big_endian();
                if i.op == Op::Ldc1 {
                    let a = l.load(addr, 4, false, pcbd, idx);
                    let b = l.load(second, 4, false, pcbd, idx);
                    let (lo, hi) = if big { (b, a) } else { (a, b) };
                    let v = join_words(l, lo, hi);
                    put_double(l, fr, i.ft(), v);
                } else {
                    let v = get_double(l, fr, i.ft());
                    let (lo, hi) = split_words(l, v);
                    let (a, b) = if big { (hi, lo) } else { (lo, hi) };
                    l.store(addr, a, 4, pcbd, idx);
                    l.store(second, b, 4, pcbd, idx);
                }
            })
        }
        // MOV, ABS, NEG .fmt fd, fs: bit copies (legacy MIPS, as QEMU:
        // no exception even for a NaN), FCSR untouched.
        Op::FMov | Op::FAbs | Op::FNeg => {
            let single = i.fmt() == 16;
            let v = if single { get_single(l, fr, i.fs()) } else { get_double(l, fr, i.fs()) };
            let sign = if single { 1i64 << 31 } else { i64::MIN };
            let v = match i.op {
                Op::FAbs => l.ins().band_imm_s(v, !sign),
                Op::FNeg => l.ins().bxor_imm_s(v, sign),
                _ => v,
            };
            if single { put_single(l, fr, i.fd(), v) } else { put_double(l, fr, i.fd(), v) }
        }
        // MOVZ.fmt / MOVN.fmt fd, fs, rt; MOVF.fmt / MOVT.fmt fd, fs, cc.
        Op::FMovz | Op::FMovn | Op::FMovcf => {
            let go = match i.op {
                Op::FMovz | Op::FMovn => {
                    let rt = l.rt(i);
                    let cc = if i.op == Op::FMovz { IntCC::Equal } else { IntCC::NotEqual };
                    l.ins().icmp_imm_s(cc, rt, 0)
                }
                _ => condition_code(l, i),
            };
            let single = i.fmt() == 16;
            let (new, old) = if single {
                (get_single(l, fr, i.fs()), get_single(l, fr, i.fd()))
            } else {
                (get_double(l, fr, i.fs()), get_double(l, fr, i.fd()))
            };
            let v = l.ins().select(go, new, old);
            if single { put_single(l, fr, i.fd(), v) } else { put_double(l, fr, i.fd(), v) }
        }
        // MFHC1 rt, fs / MTHC1 rt, fs: the high word of double fs (with
        // FR=0, the odd register of its pair).
        Op::Mfhc1 => {
            let v = get_double(l, fr, i.fs());
            let v = l.ins().ushr_imm_s(v, 32);
            let v = l.ins().ireduce(I32, v);
            l.set_reg(i.rt(), v);
        }
        Op::Mthc1 => {
            let v = l.rt(i);
            let old = get_double(l, fr, i.fs());
            let kept = l.ins().band_imm_s(old, 0xffff_ffff);
            let v = l.ins().uextend(I64, v);
            let v = l.ins().ishl_imm_s(v, 32);
            let v = l.ins().bor(kept, v);
            put_double(l, fr, i.fs(), v);
        }
        Op::FCmp => compare(l, fr, i, pcbd, idx),
        // CVT.D.W, CVT.D.S: exact.
        Op::FCvtD => {
            let v = get_single(l, fr, i.fs());
            if i.fmt() == 20 {
                let r = l.ins().fcvt_from_sint(types::F64, v);
                let r = l.ins().bitcast(I64, MemFlagsData::new(), r);
                put_double(l, fr, i.fd(), r);
                clear_cause(l);
            } else {
                // A NaN (quieted, or Invalid) goes to `exec`.
                let a = l.ins().bitcast(types::F32, MemFlagsData::new(), v);
                let ordered = l.ins().fcmp(FloatCC::Ordered, a, a);
                l.fast_or_exec(ordered, i, pcbd, idx, |l| {
                    let r = l.ins().fpromote(types::F64, a);
                    let r = l.ins().bitcast(I64, MemFlagsData::new(), r);
                    put_double(l, fr, i.fd(), r);
                    clear_cause(l);
                })
            }
        }
        // CVT.S.W: rounds to nearest (FCSR.RM) beyond 2^24.
        Op::FCvtS => {
            let fcsr = l.fp_get(FCSR);
            let modes = l.ins().band_imm_s(fcsr, FCSR_RM_AND_ENABLES);
            let ok = l.ins().icmp_imm_s(IntCC::Equal, modes, 0);
            let v = get_single(l, fr, i.fs());
            l.fast_or_exec(ok, i, pcbd, idx, |l| {
                let r = l.ins().fcvt_from_sint(types::F32, v);
                let wide = l.ins().fpromote(types::F64, r);
                let exact = l.ins().fcvt_from_sint(types::F64, v);
                let inexact = l.ins().fcmp(FloatCC::NotEqual, wide, exact);
                let r = l.ins().bitcast(I32, MemFlagsData::new(), r);
                put_single(l, fr, i.fd(), r);
                set_inexact(l, fcsr, inexact);
            })
        }
        Op::FSqrt => square_root(l, fr, i, pcbd, idx),
        // TRUNC.W.S, TRUNC.W.D: in range, only Inexact can happen.
        Op::FTruncW => truncate(l, fr, i, pcbd, idx),
        Op::FAdd | Op::FSub | Op::FMul | Op::FDiv => arith(l, fr, i, pcbd, idx),
        // Not reached (`takes` filters); `exec` is right for anything.
        _ => l.exec_helper(i, pcbd, idx),
    }
}

/// FCSR.Cause := nothing (an operation that raised no exception).
fn clear_cause(l: &mut Lower<'_, '_>) {
    let fcsr = l.fp_get(FCSR);
    let v = l.ins().band_imm_s(fcsr, !FCSR_CAUSE);
    l.fp_put(FCSR, v);
}

/// FCSR (whose value was `fcsr`) := Cause Inexact or nothing, as `inexact`
/// says, and Flags gather it (no exception is enabled).
fn set_inexact(l: &mut Lower<'_, '_>, fcsr: Value, inexact: Value) {
    let bit = l.ins().uextend(I32, inexact);
    let cause = l.ins().ishl_imm_s(bit, CAUSE_INEXACT as i64);
    let flag = l.ins().ishl_imm_s(bit, FLAGS_INEXACT as i64);
    let kept = l.ins().band_imm_s(fcsr, !FCSR_CAUSE);
    let v = l.ins().bor(kept, cause);
    let v = l.ins().bor(v, flag);
    l.fp_put(FCSR, v);
}

/// c.cond.fmt of operands that are not NaNs: no exception, so Cause
/// clears, and the condition code is the comparison (a NaN goes to `exec`,
/// which raises Invalid as the predicate says).
fn compare(l: &mut Lower<'_, '_>, fr: bool, i: Insn, pcbd: u32, idx: usize) {
    let (a, b) = if i.fmt() == 17 {
        let (a, b) = (get_double(l, fr, i.fs()), get_double(l, fr, i.ft()));
        (l.ins().bitcast(types::F64, MemFlagsData::new(), a), l.ins().bitcast(types::F64, MemFlagsData::new(), b))
    } else {
        let (a, b) = (get_single(l, fr, i.fs()), get_single(l, fr, i.ft()));
        (l.ins().bitcast(types::F32, MemFlagsData::new(), a), l.ins().bitcast(types::F32, MemFlagsData::new(), b))
    };
    let ordered = l.ins().fcmp(FloatCC::Ordered, a, b);
    l.fast_or_exec(ordered, i, pcbd, idx, |l| {
        // Bit 2 of the condition: true if less; bit 1: if equal.
        let holds = match i.fp_cond() & 6 {
            0 => l.ins().iconst(types::I8, 0),
            2 => l.ins().fcmp(FloatCC::Equal, a, b),
            4 => l.ins().fcmp(FloatCC::LessThan, a, b),
            _ => l.ins().fcmp(FloatCC::LessThanOrEqual, a, b),
        };
        let bit = cc_bit(i.cc());
        let fcsr = l.fp_get(FCSR);
        let cleared = l.ins().band_imm_s(fcsr, !(FCSR_CAUSE | bit as i64));
        let set = l.ins().bor_imm_s(cleared, bit as i64);
        let v = l.ins().select(holds, set, cleared);
        l.fp_put(FCSR, v);
    })
}

/// sqrt.fmt of zero, or of a positive number whose exponent is at least
/// the fast path's lowest (see [`FP_FAST_EXPONENTS`]): the host's root,
/// Inexact unless it squares back exactly (with round to nearest and no
/// exception enabled, as the interpreter's host path).
fn square_root(l: &mut Lower<'_, '_>, fr: bool, i: Insn, pcbd: u32, idx: usize) {
    use types::{F32, F64};
    let double = i.fmt() == 17;
    let fcsr = l.fp_get(FCSR);
    let modes = l.ins().band_imm_s(fcsr, FCSR_RM_AND_ENABLES);
    let mut ok = l.ins().icmp_imm_s(IntCC::Equal, modes, 0);
    let (ty, int, frac_bits, max_exp) = if double { (F64, I64, 52, 2047) } else { (F32, I32, 23, 255) };
    let bits = if double { get_double(l, fr, i.fs()) } else { get_single(l, fr, i.fs()) };
    // The sign and the exponent: a positive number in [low, max).
    let low = FP_FAST_EXPONENTS[double as usize].0 as i64;
    let top = l.ins().ushr_imm_s(bits, frac_bits);
    let top = l.ins().iadd_imm_s(top, -low);
    let fine = l.ins().icmp_imm_s(IntCC::UnsignedLessThan, top, max_exp - low);
    let magnitude = l.ins().ishl_imm_s(bits, 1);
    let zero = l.ins().icmp_imm_s(IntCC::Equal, magnitude, 0);
    let takes = l.ins().bor(fine, zero);
    ok = l.ins().band(ok, takes);
    l.fast_or_exec(ok, i, pcbd, idx, |l| {
        let x = l.ins().bitcast(ty, MemFlagsData::new(), bits);
        let r = l.ins().sqrt(x);
        let inexact = if double {
            let neg = l.ins().fneg(x);
            let err = l.ins().fma(r, r, neg);
            let zero = l.ins().f64const(0.0);
            l.ins().fcmp(FloatCC::NotEqual, err, zero)
        } else {
            // The square of a single is exact in a double.
            let wide = l.ins().fpromote(F64, r);
            let square = l.ins().fmul(wide, wide);
            let x = l.ins().fpromote(F64, x);
            l.ins().fcmp(FloatCC::NotEqual, square, x)
        };
        let r = l.ins().bitcast(int, MemFlagsData::new(), r);
        if double {
            put_double(l, fr, i.fd(), r);
        } else {
            put_single(l, fr, i.fd(), r);
        }
        set_inexact(l, fcsr, inexact);
    })
}

/// trunc.w.fmt: a value whose truncation fits in 32 bits converts with at
/// most Inexact (with no exception enabled); NaNs, out-of-range values
/// (Invalid) and enabled exceptions go to `exec`.
fn truncate(l: &mut Lower<'_, '_>, fr: bool, i: Insn, pcbd: u32, idx: usize) {
    use types::{F32, F64};
    let fcsr = l.fp_get(FCSR);
    let enables = l.ins().band_imm_s(fcsr, FCSR_ENABLES);
    let mut ok = l.ins().icmp_imm_s(IntCC::Equal, enables, 0);
    let a = if i.fmt() == 17 {
        let a = get_double(l, fr, i.fs());
        l.ins().bitcast(F64, MemFlagsData::new(), a)
    } else {
        let a = get_single(l, fr, i.fs());
        let a = l.ins().bitcast(F32, MemFlagsData::new(), a);
        l.ins().fpromote(F64, a)
    };
    // -2^31 - 1 < a < 2^31: false for NaNs too.
    let (low, high) = (l.ins().f64const(-2_147_483_649.0), l.ins().f64const(2_147_483_648.0));
    let above = l.ins().fcmp(FloatCC::GreaterThan, a, low);
    let below = l.ins().fcmp(FloatCC::LessThan, a, high);
    ok = l.ins().band(ok, above);
    ok = l.ins().band(ok, below);
    l.fast_or_exec(ok, i, pcbd, idx, |l| {
        let r = l.ins().fcvt_to_sint_sat(I32, a);
        let back = l.ins().fcvt_from_sint(F64, r);
        let inexact = l.ins().fcmp(FloatCC::NotEqual, back, a);
        put_single(l, fr, i.fd(), r);
        set_inexact(l, fcsr, inexact);
    })
}

/// The FCSR bit of condition code `cc`: FCC0 is bit 23, the others bits
/// 25..31.
fn cc_bit(cc: u32) -> u32 {
    if cc == 0 { 1 << 23 } else { 1 << (24 + (cc & 7)) }
}

/// The condition of bc1f/bc1t (and their likely forms) at `pc`, index
/// `idx`: condition code `cc` against the instruction's true/false sense,
/// from FCSR's variable (with CU1 clear, the interpreter runs the branch
/// and raises Coprocessor Unusable). None when the function has no inline
/// FPU code.
pub(crate) fn branch_condition(l: &mut Lower<'_, '_>, i: Insn, pc: u32, idx: usize) -> Option<Value> {
    if !l.fpu_inline() {
        return None;
    }
    l.leave_unless_fpu_usable(crate::abi::pc_bd(pc, false), idx);
    Some(condition_code(l, i))
}

/// Whether condition code `cc` of `i` (bc1x, movf/movt.fmt) is what its
/// true/false bit asks for, from FCSR's variable.
fn condition_code(l: &mut Lower<'_, '_>, i: Insn) -> Value {
    let fcsr = l.fp_get(FCSR);
    let bit = l.ins().band_imm_s(fcsr, cc_bit(i.cc()) as i64);
    let cc = if i.tf() { IntCC::NotEqual } else { IntCC::Equal };
    l.ins().icmp_imm_s(cc, bit, 0)
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
/// FCSR's Enables.
const FCSR_ENABLES: i64 = 0x1f << 7;
/// FCSR's Cause field, and where Inexact sits in it and in Flags.
const FCSR_CAUSE: i64 = 0x3f << 12;
const CAUSE_INEXACT: u32 = 12;
const FLAGS_INEXACT: u32 = 2;

/// `add`, `sub`, `mul` or `div` in S or D format (see the module doc),
/// with Status.FR = `fr`.
fn arith(l: &mut Lower<'_, '_>, fr: bool, i: Insn, pcbd: u32, idx: usize) {
    use types::{F32, F64};
    let double = i.fmt() == 17;
    let (fs, ft, fd) = (i.fs(), i.ft(), i.fd());
    let fcsr = l.fp_get(FCSR);
    let modes = l.ins().band_imm_s(fcsr, FCSR_RM_AND_ENABLES);
    let mut ok = l.ins().icmp_imm_s(IntCC::Equal, modes, 0);
    let (ty, int, exp_bits, frac_bits) = if double { (F64, I64, 11, 52) } else { (F32, I32, 8, 23) };
    let load =
        |l: &mut Lower<'_, '_>, r: usize| -> Value { if double { get_double(l, fr, r) } else { get_single(l, fr, r) } };
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
    // Sums and products need no check of their operands (unlike the
    // interpreter's host path): an infinite or NaN operand gives an
    // infinite or NaN result, or an inexact zero from a product, which
    // the result's checks below send to `exec`; a denormal one computes
    // as the interpreter's soft path does (IEEE), its error term exact
    // when the result is well inside the normal range. A quotient's
    // error term needs normal operands.
    if i.op == Op::FDiv {
        let (a_plain, b_plain) = (plain(l, a_bits), plain(l, b_bits));
        ok = l.ins().band(ok, a_plain);
        ok = l.ins().band(ok, b_plain);
    }
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
    if i.op == Op::FDiv {
        // Not a zero divisor.
        let b_zero = is_zero(l, b_bits);
        let b_nonzero = l.ins().bnot(b_zero);
        ok = l.ins().band(ok, b_nonzero);
        if double {
            // The remainder is about ulp(a): a must be well inside too
            // (or zero).
            let ea = exponent(l, a_bits);
            let ea = l.ins().iadd_imm_s(ea, -low);
            let a_inside = l.ins().icmp_imm_s(IntCC::UnsignedLessThan, ea, top + 1 - low);
            let a_zero = is_zero(l, a_bits);
            let a_fine = l.ins().bor(a_inside, a_zero);
            ok = l.ins().band(ok, a_fine);
        }
    }
    let inexact = inexact(l, i.op, double, a, b, r);
    let hot = l.ins().band(ok, inside);
    // Or, off the hot path, an exact zero: any zero sum; a product with a
    // zero factor; a quotient of zero.
    let exact_zero = |l: &mut Lower<'_, '_>| {
        let r_zero = is_zero(l, r_bits);
        let zero_ok = match i.op {
            Op::FAdd | Op::FSub => r_zero,
            Op::FMul => {
                let (a_zero, b_zero) = (is_zero(l, a_bits), is_zero(l, b_bits));
                let either = l.ins().bor(a_zero, b_zero);
                l.ins().band(r_zero, either)
            }
            _ => {
                let a_zero = is_zero(l, a_bits);
                l.ins().band(r_zero, a_zero)
            }
        };
        l.ins().band(ok, zero_ok)
    };
    l.fast_or_exec_either(hot, exact_zero, i, pcbd, idx, |l| {
        if double {
            put_double(l, fr, fd, r_bits);
        } else {
            put_single(l, fr, fd, r_bits);
        }
        set_inexact(l, fcsr, inexact);
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

/// How many FPU variables a function has: 32 "units" of 64 bits, then
/// FCSR. With FR=1 unit `r` is FPR `r`; with FR=0 unit `p` is the pair of
/// FPRs `2p` (its low word) and `2p + 1` (its high word), that is, the
/// double `2p`, and the FPRs' high halves (which only `mfhc1`/`mthc1`,
/// run by `exec`, reach) are not cached. Doubles thus stay whole in one
/// host register whatever the mode.
pub(crate) const FP_VARS: usize = 33;
/// FCSR's variable.
const FCSR: usize = 32;

/// Where an FPU variable lives in the state.
pub(crate) enum VarLayout {
    /// A 32-bit word (FCSR).
    Word(i32),
    /// A 64-bit unit: its low and high words.
    Pair(i32, i32),
}

/// Where FPU variable `k` lives, with Status.FR = `fr`.
pub(crate) fn var_layout(slots: FpuSlots, fr: bool, k: usize) -> VarLayout {
    let reg = |r: usize| slots.fpr + 8 * r as i32;
    match k {
        FCSR => VarLayout::Word(slots.fcsr),
        k if fr => VarLayout::Pair(reg(k) + LOW, reg(k) + HIGH),
        k => VarLayout::Pair(reg(2 * k) + LOW, reg(2 * k + 1) + LOW),
    }
}

/// The type of FPU variable `k`.
pub(crate) fn var_type(k: usize) -> types::Type {
    if k == FCSR { I32 } else { I64 }
}

/// The unit holding FPR `r`'s single or word (or the double at `r`),
/// and whether it is the unit's high word.
fn unit(fr: bool, r: usize) -> (usize, bool) {
    let r = r & 31;
    if fr { (r, false) } else { (r >> 1, r & 1 != 0) }
}

/// The FPU variables (bit `k` for variable `k`) that the inline lowering
/// of `i` may use with Status.FR = `fr`, and those it may write: a
/// superset is fine, a missing variable is a translator error
/// (`lower_region` checks). A single is written into its unit, which is
/// read for the other word. Instructions `exec` runs need none.
pub(crate) fn cached(i: Insn, fr: bool) -> (u64, u64) {
    let fpu_branch = matches!(i.op, Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl);
    if !takes(i, fr) && !fpu_branch {
        return (0, 0);
    }
    let at = |r: usize| 1u64 << unit(fr, r).0;
    let (used, written) = match i.op {
        Op::Mfc1 => (at(i.fs()), 0),
        Op::Mtc1 => (0, at(i.fs())),
        Op::Lwc1 | Op::Ldc1 => (0, at(i.ft())),
        Op::Swc1 | Op::Sdc1 => (at(i.ft()), 0),
        Op::FMov | Op::FAbs | Op::FNeg => (at(i.fs()), at(i.fd())),
        Op::FMovz | Op::FMovn => (at(i.fs()) | at(i.fd()), at(i.fd())),
        Op::FMovcf => (at(i.fs()) | at(i.fd()) | 1 << FCSR, at(i.fd())),
        Op::FAdd | Op::FSub | Op::FMul | Op::FDiv => (at(i.fs()) | at(i.ft()) | 1 << FCSR, at(i.fd()) | 1 << FCSR),
        Op::Mfhc1 => (at(i.fs()), 0),
        Op::Mthc1 => (at(i.fs()), at(i.fs())),
        Op::FCmp => (at(i.fs()) | at(i.ft()) | 1 << FCSR, 1 << FCSR),
        Op::FCvtD | Op::FCvtS | Op::FTruncW | Op::FSqrt => (at(i.fs()) | 1 << FCSR, at(i.fd()) | 1 << FCSR),
        Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl => (1 << FCSR, 0),
        _ => (0, 0),
    };
    (used | written, written)
}

/// The single or word in FPR `r`.
fn get_single(l: &mut Lower<'_, '_>, fr: bool, r: usize) -> Value {
    let (k, high) = unit(fr, r);
    let v = l.fp_get(k);
    let v = if high { l.ins().ushr_imm_s(v, 32) } else { v };
    l.ins().ireduce(I32, v)
}

/// Writes the single or word `v` to FPR `r` (the rest of its unit kept).
fn put_single(l: &mut Lower<'_, '_>, fr: bool, r: usize, v: Value) {
    let (k, high) = unit(fr, r);
    let old = l.fp_get(k);
    let v = l.ins().uextend(I64, v);
    let new = if high {
        let kept = l.ins().band_imm_s(old, 0xffff_ffff);
        let v = l.ins().ishl_imm_s(v, 32);
        l.ins().bor(kept, v)
    } else {
        let kept = l.ins().band_imm_s(old, !0xffff_ffffi64);
        l.ins().bor(kept, v)
    };
    l.fp_put(k, new);
}

/// The double (its bits) in FPR `r`: with FR=0, the pair `r & 30`,
/// `r | 1` (as the interpreter reads an odd `ldc1`/`sdc1` register).
fn get_double(l: &mut Lower<'_, '_>, fr: bool, r: usize) -> Value {
    l.fp_get(unit(fr, r).0)
}

/// Writes the double (bits) `v` to FPR `r`.
fn put_double(l: &mut Lower<'_, '_>, fr: bool, r: usize, v: Value) {
    l.fp_put(unit(fr, r).0, v);
}

/// The 64-bit value of the words `lo` and `hi`.
fn join_words(l: &mut Lower<'_, '_>, lo: Value, hi: Value) -> Value {
    let lo = l.ins().uextend(I64, lo);
    let hi = l.ins().uextend(I64, hi);
    let hi = l.ins().ishl_imm_s(hi, 32);
    l.ins().bor(hi, lo)
}

/// The low and high words of the 64-bit `v`.
fn split_words(l: &mut Lower<'_, '_>, v: Value) -> (Value, Value) {
    let lo = l.ins().ireduce(I32, v);
    let hi = l.ins().ushr_imm_s(v, 32);
    (lo, l.ins().ireduce(I32, hi))
}
