//! Inline lowering of the commonest FPU instructions: the loads and stores
//! (`lwc1`, `swc1`, `ldc1`, `sdc1`, through the soft-TLB like the integer
//! ones), `mfc1`/`mtc1` and `mov.s`/`mov.d`. None of them computes, so none
//! touches FCSR: they are bit copies between guest memory, GPRs and FPRs.
//!
//! Each one checks at run time what the interpreter (`runtime::fpu`)
//! checks, and hands the instruction to the `exec` helper (a cold path)
//! when the check fails, so faults come from one place: Status.CU1 clear
//! (Coprocessor Unusable), a misaligned doubleword (Address Error), and
//! `mov.d` of an odd register with Status.FR = 0 (Reserved Instruction).
//! Status.FR decides where a double lives: the whole register (FR=1), or
//! the low halves of an even/odd pair (FR=0).

use crate::abi::FpuSlots;
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
            let base = l.rs(i);
            let addr = l.ins().iadd_imm_s(base, i.simm() as i64);
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
            let base = l.rs(i);
            let addr = l.ins().iadd_imm_s(base, i.simm() as i64);
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
        _ => l.exec_helper(i, pcbd, idx),
    }
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
