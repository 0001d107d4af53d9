//! Lowering of the non-branch instructions, one small function per family.
//!
//! [`lower`] is the index: an exhaustive `match` with no wildcard, so a new
//! [`Op`] does not compile until someone decides how it is lowered. The
//! rare and privileged instructions go to the `exec` helper, which runs the
//! interpreter's implementation of them.

use crate::lower::Lower;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use frontend::cp0::Cp0Path;
use frontend::{Insn, Op};

const I32: types::Type = types::I32;
const I64: types::Type = types::I64;
const EXC_OV: u32 = 12;
const EXC_TR: u32 = 13;

/// Lowers instruction `i` (not a branch) with precise-exception info `pcbd`.
pub(crate) fn lower(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    use Op::*;
    match i.op {
        Sll | Srl | Sra | Rotr => shift_imm(l, i),
        Sllv | Srlv | Srav | Rotrv => shift_var(l, i),
        Addu | Subu | And | Or | Xor | Nor | Slt | Sltu | Mul => alu3(l, i),
        Add | Sub => alu3_trapping(l, i, pcbd, idx),
        Addiu | Slti | Sltiu | Andi | Ori | Xori | Lui => alu_imm(l, i),
        Addi => addi(l, i, pcbd, idx),
        Movz | Movn => conditional_move(l, i),
        Mfhi | Mflo | Mthi | Mtlo => hilo_move(l, i),
        Mult | Multu | Madd | Maddu | Msub | Msubu => multiply(l, i),
        Div | Divu => divide(l, i),
        Clz | Clo | Wsbh | Seb | Seh => bit_op(l, i),
        Ext | Ins => bit_field(l, i, pcbd, idx),
        Tge | Tgeu | Tlt | Tltu | Teq | Tne | Tgei | Tgeiu | Tlti | Tltiu | Teqi | Tnei => trap(l, i, pcbd, idx),
        Lb | Lbu | Lh | Lhu | Lw => load(l, i, pcbd, idx),
        Lwl | Lwr => load_partial(l, i, pcbd, idx),
        Sb | Sh | Sw => store(l, i, pcbd, idx),
        // Hints and barriers: nothing to do in a sequentially consistent,
        // cache-less model.
        // Except `synci` where stores do not find translated code themselves.
        Synci if l.is_flat() => l.exec_helper(i, pcbd, idx),
        Sync | Pref | Synci => {}
        // Control flow is lowered by `Lower::lower_branch`; reaching here means
        // a branch sits in a delay slot, which `exec` reports.
        J | Jal | Jr | Jalr | Beq | Bne | Blez | Bgtz | Beql | Bnel | Blezl | Bgtzl | Bltz | Bgez | Bltzl | Bgezl
        | Bltzal | Bgezal | Bltzall | Bgezall | Bc1f | Bc1t | Bc1fl | Bc1tl => l.exec_helper(i, pcbd, idx),
        // Rare, privileged or always-faulting, and the FPU (its state and
        // rounding are the runtime's): the interpreter's semantics.
        Mfc0 => mfc0(l, i, pcbd, idx),
        // FPU moves, loads and stores: inline when Status allows.
        Lwc1 | Swc1 | Ldc1 | Sdc1 | Mfc1 | Mtc1 | Mfhc1 | Mthc1 | FMov | FAdd | FSub | FMul | FDiv | FCmp | FCvtD
        | FCvtS | FTruncW | FSqrt | FAbs | FNeg | FMovz | FMovn | FMovcf => crate::lower_fpu::lower(l, i, pcbd, idx),
        Mtc0 => mtc0(l, i, pcbd, idx),
        // In flat user memory: plain RAM and a fixed UserLocal.
        Ll | Sc | Swl | Swr | Rdhwr if l.user_slots().is_some() => user_op(l, i, pcbd, idx),
        Ll | Sc | Swl | Swr | Syscall | Break | Sdbbp | Rdhwr | Rdpgpr | Wrpgpr | Di | Ei | Tlbr | Tlbwi | Tlbwr
        | Tlbp | Eret | Deret | Wait | Cache | Movci | Cfc1 | Ctc1 | FRoundL | FTruncL | FCeilL | FFloorL | FRoundW
        | FCeilW | FFloorW | FRecip | FRsqrt | FCvtW | FCvtL | FCvtPsS | FCvtSPl | FCvtSPu | FPll | FPlu | FPul
        | FPuu | Lwxc1 | Ldxc1 | Luxc1 | Swxc1 | Sdxc1 | Suxc1 | Prefx | FMadd | FMsub | FNmadd | FNmsub | FAlnvPs
        | Cop2 | Lwc2 | Ldc2 | Swc2 | Sdc2 | Reserved => l.exec_helper(i, pcbd, idx),
    }
}

// MFC0 rt, rd, sel: a load from the CPU state where `frontend::cp0` allows.
fn mfc0(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let inline = frontend::cp0::cp0_reg(i.rd() as u32, i.sel()).is_some_and(|r| r.read == Cp0Path::Inline);
    match l.cp0_slot(i.rd() as u32, i.sel()).filter(|_| inline) {
        Some(slot) => {
            let v = l.load_state(slot.offset);
            l.set_reg(i.rt(), v);
        }
        None => l.exec_helper(i, pcbd, idx),
    }
}

// MTC0 rt, rd, sel: a masked store into the CPU state where allowed.
fn mtc0(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let inline = frontend::cp0::cp0_reg(i.rd() as u32, i.sel()).is_some_and(|r| r.write == Cp0Path::Inline);
    match l.cp0_slot(i.rd() as u32, i.sel()).filter(|_| inline) {
        Some(slot) => {
            let rt = l.rt(i);
            let v = if slot.write_mask == u32::MAX {
                rt
            } else {
                let old = l.load_state(slot.offset);
                let keep = l.ins().band_imm_s(old, !slot.write_mask as i32 as i64);
                let new = l.ins().band_imm_s(rt, slot.write_mask as i32 as i64);
                l.ins().bor(keep, new)
            };
            l.store_state(v, slot.offset);
        }
        None => l.exec_helper(i, pcbd, idx),
    }
}

// LWL/LWR rt, off(base): the aligned word holding the address, merged into
// rt; which bytes depends on the byte order (MIPS32 Vol. II, LWL/LWR).
fn load_partial(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let addr = l.address(i);
    let rt = l.rt(i);
    let word = l.load_word_of(addr, pcbd, idx);
    let left = i.op == Op::Lwl;
    let sh = lane_shift(l, addr, left);
    // LWL moves the word up into rt, LWR down.
    let v = merge_shifted(l, rt, word, sh, left);
    l.set_reg(i.rt(), v);
}

/// `new` shifted by `sh` over `old`, keeping the bytes of `old` it does
/// not cover: `(old & ((1 << sh) - 1)) | (new << sh)` moving `up`, else
/// `(old & !(u32::MAX >> sh)) | (new >> sh)`.
fn merge_shifted(l: &mut Lower<'_, '_>, old: Value, new: Value, sh: Value, up: bool) -> Value {
    let (keep, moved) = if up {
        let one = l.konst(1);
        let bit = l.ins().ishl(one, sh);
        let mask = l.ins().iadd_imm_s(bit, -1);
        (l.ins().band(old, mask), l.ins().ishl(new, sh))
    } else {
        let all = l.konst(u32::MAX);
        let low_part = l.ins().ushr(all, sh);
        (l.ins().band_not(old, low_part), l.ins().ushr(new, sh))
    };
    l.ins().bor(keep, moved)
}

/// The shift that lines up the bytes of an unaligned access at `addr`
/// (MIPS32 Vol. II, LWL/LWR/SWL/SWR): `(3 - b) * 8` for the left forms,
/// `b * 8` for the right ones, `b` being the byte lane of the address
/// counted from the word's low end (big-endian memory numbers its bytes
/// from the other end).
fn lane_shift(l: &mut Lower<'_, '_>, addr: Value, left: bool) -> Value {
    let low = l.ins().band_imm_s(addr, 3);
    let k = if left != l.is_big_endian() {
        let three = l.konst(3);
        l.ins().isub(three, low)
    } else {
        low
    };
    l.ins().ishl_imm_s(k, 3)
}

// LL, SC, SWL, SWR, RDHWR in flat user memory (see `Lower::user_slots`).
fn user_op(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let Some(slots) = l.user_slots() else { return l.exec_helper(i, pcbd, idx) };
    let set_llbit = |l: &mut Lower<'_, '_>, v: u32| {
        let (v, state) = (l.ins().iconst(types::I8, v as i64), l.state);
        l.ins().store(MemFlagsData::trusted(), v, state, slots.llbit);
    };
    match i.op {
        Op::Ll => {
            load(l, i, pcbd, idx);
            let v = l.rt(i);
            l.store_state(v, slots.llval);
            set_llbit(l, 1);
        }
        Op::Sc => {
            let addr = l.address(i);
            let v = l.rt(i);
            let state = l.state;
            let bit = l.ins().uload8(I32, MemFlagsData::trusted(), state, slots.llbit);
            let expected = l.load_state(slots.llval);
            l.store_conditional(addr, v, bit, expected, i.rt(), pcbd, idx);
            // As the interpreter: one ll pairs with one sc.
            set_llbit(l, 0);
        }
        // UserLocal, which the emulated kernel lets user code read.
        Op::Rdhwr if i.rd() == 29 => {
            let v = l.load_state(slots.user_local);
            l.set_reg(i.rt(), v);
        }
        Op::Swl | Op::Swr => {
            let addr = l.address(i);
            let rt = l.rt(i);
            let left = i.op == Op::Swl;
            let sh = lane_shift(l, addr, left);
            // SWL moves rt down into the word, SWR up.
            l.update_word_of(addr, pcbd, idx, &|l, word| merge_shifted(l, word, rt, sh, !left));
        }
        _ => l.exec_helper(i, pcbd, idx),
    }
}

// SLL/SRL/SRA/ROTR rd, rt, sa
fn shift_imm(l: &mut Lower<'_, '_>, i: Insn) {
    if i.rd() == 0 {
        return; // nop, ssnop, ehb
    }
    let rt = l.rt(i);
    let sa = i.sa() as i64;
    let v = match i.op {
        Op::Sll => l.ins().ishl_imm_s(rt, sa),
        Op::Srl => l.ins().ushr_imm_s(rt, sa),
        Op::Sra => l.ins().sshr_imm_s(rt, sa),
        _ => l.ins().rotr_imm_s(rt, sa),
    };
    l.set_reg(i.rd(), v);
}

// SLLV/SRLV/SRAV/ROTRV rd, rt, rs: the shift amount is rs[4:0]
fn shift_var(l: &mut Lower<'_, '_>, i: Insn) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    let sa = l.ins().band_imm_s(rs, 31);
    let v = match i.op {
        Op::Sllv => l.ins().ishl(rt, sa),
        Op::Srlv => l.ins().ushr(rt, sa),
        Op::Srav => l.ins().sshr(rt, sa),
        _ => l.ins().rotr(rt, sa),
    };
    l.set_reg(i.rd(), v);
}

// ADDU/SUBU/AND/OR/XOR/NOR/SLT/SLTU/MUL rd, rs, rt
fn alu3(l: &mut Lower<'_, '_>, i: Insn) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    // `move` and friends: an operand is $zero, so the result is the other
    // register's value, with no host instruction (nothing optimises the IR).
    let v = match (i.op, i.rs(), i.rt()) {
        (Op::Addu | Op::Or | Op::Xor | Op::Subu, _, 0) => Some(rs),
        (Op::Addu | Op::Or | Op::Xor, 0, _) => Some(rt),
        _ => None,
    };
    if let Some(v) = v {
        return l.set_reg(i.rd(), v);
    }
    let v = match i.op {
        Op::Addu => l.ins().iadd(rs, rt),
        Op::Subu => l.ins().isub(rs, rt),
        Op::And => l.ins().band(rs, rt),
        Op::Or => l.ins().bor(rs, rt),
        Op::Xor => l.ins().bxor(rs, rt),
        Op::Nor => {
            let o = l.ins().bor(rs, rt);
            l.ins().bnot(o)
        }
        Op::Slt => set_cond(l, IntCC::SignedLessThan, rs, rt),
        Op::Sltu => set_cond(l, IntCC::UnsignedLessThan, rs, rt),
        _ => l.ins().imul(rs, rt),
    };
    l.set_reg(i.rd(), v);
}

fn set_cond(l: &mut Lower<'_, '_>, cc: IntCC, a: Value, b: Value) -> Value {
    let c = l.ins().icmp(cc, a, b);
    l.ins().uextend(I32, c)
}

/// Signed overflow of `a + b = r` (or of `a - b = r` when `sub`): the sign of
/// the result differs from what both operands agree on (MIPS32 ADD, SUB).
fn overflowed(l: &mut Lower<'_, '_>, a: Value, b: Value, r: Value, sub: bool) -> Value {
    let x = l.ins().bxor(a, r);
    let y = if sub { l.ins().bxor(a, b) } else { l.ins().bxor(b, r) };
    let both = l.ins().band(x, y);
    l.ins().icmp_imm_s(IntCC::SignedLessThan, both, 0)
}

// ADD/SUB rd, rs, rt: Integer Overflow leaves rd unchanged
fn alu3_trapping(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    let sub = i.op == Op::Sub;
    let r = if sub { l.ins().isub(rs, rt) } else { l.ins().iadd(rs, rt) };
    let ov = overflowed(l, rs, rt, r, sub);
    l.raise_when(ov, EXC_OV, pcbd, idx);
    l.set_reg(i.rd(), r);
}

// ADDI rt, rs, immediate
fn addi(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let rs = l.rs(i);
    let imm = l.konst(i.simm() as u32);
    let r = l.ins().iadd(rs, imm);
    let ov = overflowed(l, rs, imm, r, false);
    l.raise_when(ov, EXC_OV, pcbd, idx);
    l.set_reg(i.rt(), r);
}

// ADDIU/SLTI/SLTIU rt, rs, simm; ANDI/ORI/XORI rt, rs, uimm; LUI rt, uimm
fn alu_imm(l: &mut Lower<'_, '_>, i: Insn) {
    let simm = i.simm() as i64;
    let uimm = i.uimm() as i64;
    // `li` (from $zero) is a constant, and adding or or-ing 0 a copy.
    let v = match (i.op, i.rs(), uimm) {
        (Op::Addiu, 0, _) => Some(l.konst(simm as u32)),
        (Op::Ori | Op::Xori, 0, _) => Some(l.konst(uimm as u32)),
        (Op::Addiu | Op::Ori | Op::Xori, _, 0) => Some(l.rs(i)),
        _ => None,
    };
    if let Some(v) = v {
        return l.set_reg(i.rt(), v);
    }
    let v = match i.op {
        Op::Lui => l.konst(i.uimm() << 16),
        Op::Addiu => {
            let rs = l.rs(i);
            l.ins().iadd_imm_s(rs, simm)
        }
        Op::Slti | Op::Sltiu => {
            let rs = l.rs(i);
            let cc = if i.op == Op::Slti { IntCC::SignedLessThan } else { IntCC::UnsignedLessThan };
            let c = l.ins().icmp_imm_s(cc, rs, simm);
            l.ins().uextend(I32, c)
        }
        Op::Andi => {
            let rs = l.rs(i);
            l.ins().band_imm_s(rs, uimm)
        }
        Op::Ori => {
            let rs = l.rs(i);
            l.ins().bor_imm_s(rs, uimm)
        }
        _ => {
            let rs = l.rs(i);
            l.ins().bxor_imm_s(rs, uimm)
        }
    };
    l.set_reg(i.rt(), v);
}

// MOVZ/MOVN rd, rs, rt
fn conditional_move(l: &mut Lower<'_, '_>, i: Insn) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    let old = l.rd_value(i);
    let v = if i.op == Op::Movz { l.ins().select(rt, old, rs) } else { l.ins().select(rt, rs, old) };
    l.set_reg(i.rd(), v);
}

// MFHI/MFLO rd; MTHI/MTLO rs
fn hilo_move(l: &mut Lower<'_, '_>, i: Insn) {
    match i.op {
        Op::Mfhi => {
            let v = l.hi();
            l.set_reg(i.rd(), v)
        }
        Op::Mflo => {
            let v = l.lo();
            l.set_reg(i.rd(), v)
        }
        Op::Mthi => {
            let v = l.rs(i);
            l.set_hi(v)
        }
        _ => {
            let v = l.rs(i);
            l.set_lo(v)
        }
    }
}

// MULT/MULTU rs, rt; MADD/MADDU/MSUB/MSUBU rs, rt: HI:LO (+|-)= rs * rt
fn multiply(l: &mut Lower<'_, '_>, i: Insn) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    let signed = matches!(i.op, Op::Mult | Op::Madd | Op::Msub);
    let (a, b) = if signed {
        (l.ins().sextend(I64, rs), l.ins().sextend(I64, rt))
    } else {
        (l.ins().uextend(I64, rs), l.ins().uextend(I64, rt))
    };
    let mut p = l.ins().imul(a, b);
    if !matches!(i.op, Op::Mult | Op::Multu) {
        let (hi, lo) = (l.hi(), l.lo());
        let hi = l.ins().uextend(I64, hi);
        let hi = l.ins().ishl_imm_s(hi, 32);
        let lo = l.ins().uextend(I64, lo);
        let acc = l.ins().bor(hi, lo);
        p = if matches!(i.op, Op::Madd | Op::Maddu) { l.ins().iadd(acc, p) } else { l.ins().isub(acc, p) };
    }
    let lo = l.ins().ireduce(I32, p);
    let hi = l.ins().ushr_imm_s(p, 32);
    let hi = l.ins().ireduce(I32, hi);
    l.set_lo(lo);
    l.set_hi(hi);
}

// DIV/DIVU rs, rt. Division by zero is UNPREDICTABLE: like QEMU (and the
// interpreter) divide by 1 instead; INT_MIN / -1 likewise.
fn divide(l: &mut Lower<'_, '_>, i: Insn) {
    let (rs, rt) = (l.rs(i), l.rt(i));
    let one = l.konst(1);
    let zero = l.ins().icmp_imm_s(IntCC::Equal, rt, 0);
    let (q, r) = if i.op == Op::Div {
        let min = l.ins().icmp_imm_s(IntCC::Equal, rs, i32::MIN as i64);
        let m1 = l.ins().icmp_imm_s(IntCC::Equal, rt, -1);
        let ovf = l.ins().band(min, m1);
        let bad = l.ins().bor(zero, ovf);
        let d = l.ins().select(bad, one, rt);
        (l.ins().sdiv(rs, d), l.ins().srem(rs, d))
    } else {
        let d = l.ins().select(zero, one, rt);
        (l.ins().udiv(rs, d), l.ins().urem(rs, d))
    };
    l.set_lo(q);
    l.set_hi(r);
}

// CLZ/CLO rd, rs; WSBH/SEB/SEH rd, rt
fn bit_op(l: &mut Lower<'_, '_>, i: Insn) {
    let v = match i.op {
        Op::Clz => {
            let rs = l.rs(i);
            l.ins().clz(rs)
        }
        Op::Clo => {
            let rs = l.rs(i);
            let n = l.ins().bnot(rs);
            l.ins().clz(n)
        }
        Op::Wsbh => {
            let rt = l.rt(i);
            let a = l.ins().band_imm_s(rt, 0x00ff_00ff);
            let a = l.ins().ishl_imm_s(a, 8);
            let b = l.ins().ushr_imm_s(rt, 8);
            let b = l.ins().band_imm_s(b, 0x00ff_00ff);
            l.ins().bor(a, b)
        }
        Op::Seb => {
            let rt = l.rt(i);
            let b = l.ins().ireduce(types::I8, rt);
            l.ins().sextend(I32, b)
        }
        _ => {
            let rt = l.rt(i);
            let h = l.ins().ireduce(types::I16, rt);
            l.ins().sextend(I32, h)
        }
    };
    l.set_reg(i.rd(), v);
}

fn mask(bits: u32) -> u32 {
    if bits >= 32 { u32::MAX } else { (1 << bits) - 1 }
}

// EXT rt, rs, pos, size; INS rt, rs, pos, size. Encodings the manual calls
// UNPREDICTABLE (QEMU: Reserved Instruction) go to `exec`.
fn bit_field(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let (lsb, msb) = (i.sa(), i.msb());
    if (i.op == Op::Ext && lsb + msb + 1 > 32) || (i.op == Op::Ins && msb < lsb) {
        return l.exec_helper(i, pcbd, idx);
    }
    let rs = l.rs(i);
    let v = if i.op == Op::Ext {
        let s = l.ins().ushr_imm_s(rs, lsb as i64);
        l.ins().band_imm_s(s, mask(msb + 1) as i64)
    } else {
        let m = mask(msb - lsb + 1) << lsb;
        let rt = l.rt(i);
        let keep = l.ins().band_imm_s(rt, !m as i32 as i64);
        let put = l.ins().ishl_imm_s(rs, lsb as i64);
        let put = l.ins().band_imm_s(put, m as i32 as i64);
        l.ins().bor(keep, put)
    };
    l.set_reg(i.rt(), v);
}

// TEQ/TNE/TGE/TGEU/TLT/TLTU rs, rt; TEQI/.../TLTIU rs, simm
fn trap(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let rs = l.rs(i);
    let b = match i.op {
        Op::Tge | Op::Tgeu | Op::Tlt | Op::Tltu | Op::Teq | Op::Tne => l.rt(i),
        _ => l.konst(i.simm() as u32),
    };
    let cc = match i.op {
        Op::Tge | Op::Tgei => IntCC::SignedGreaterThanOrEqual,
        Op::Tgeu | Op::Tgeiu => IntCC::UnsignedGreaterThanOrEqual,
        Op::Tlt | Op::Tlti => IntCC::SignedLessThan,
        Op::Tltu | Op::Tltiu => IntCC::UnsignedLessThan,
        Op::Teq | Op::Teqi => IntCC::Equal,
        _ => IntCC::NotEqual,
    };
    let c = l.ins().icmp(cc, rs, b);
    l.raise_when(c, EXC_TR, pcbd, idx);
}

// LB/LBU/LH/LHU/LW rt, offset(base)
fn load(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let addr = l.address(i);
    let (size, signed) = i.mem_access().unwrap_or((4, false));
    let v = l.load(addr, size, signed, pcbd, idx);
    l.set_reg(i.rt(), v);
}

// SB/SH/SW rt, offset(base)
fn store(l: &mut Lower<'_, '_>, i: Insn, pcbd: u32, idx: usize) {
    let addr = l.address(i);
    let v = l.rt(i);
    let (size, _) = i.mem_access().unwrap_or((4, false));
    l.store(addr, v, size, pcbd, idx);
}
