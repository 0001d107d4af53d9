//! `extern "C"` functions that translated code calls: the slow paths of
//! memory access and the interpreter for rare instructions.
//!
//! Every helper receives the `*mut JitState` that the block was entered
//! with. That pointer is the first field of a live, `repr(C)` [`Cpu`]
//! (`Machine::run_compiled` only ever enters code with `&mut cpu.s`), so
//! casting it back to `*mut Cpu` is sound, and no other reference to the
//! CPU exists while translated code runs.

use crate::cpu::Cpu;
use crate::exception::{ExcCode, Exception};
use crate::interp::{Flow, exec};
use frontend::{Op, decode_with_hint};
use jit::abi::{
    BRANCH_TAKEN, CONTINUE, ExitReason, FpuSlots, Helpers, JitState, LOAD_SIGNED, LOAD_WORD_OF, NO_INLINE_TLB,
    UserSlots,
};

/// # Safety
/// `state` must be the `s` field of a live `Cpu` with no other borrow.
unsafe fn cpu<'a>(state: *mut JitState) -> &'a mut Cpu {
    // SAFETY: see the module comment; `JitState` is the first field of the
    // repr(C) `Cpu`, so the pointers are equal.
    unsafe { &mut *(state as *mut Cpu) }
}

unsafe extern "C" fn load(state: *mut JitState, addr: u32, pc_bd: u32, kind: u32) -> u64 {
    // SAFETY: translated code passes its state pointer, per the ABI.
    let cpu = unsafe { cpu(state) };
    let size = kind & 7;
    if kind & NO_INLINE_TLB != 0 {
        cpu.uninlined_access(addr, pc_bd);
    }
    if kind & LOAD_WORD_OF != 0 {
        // lwl/lwr: the word holding `addr`; faults name `addr` itself.
        return match cpu.load(addr & !3, 4) {
            Ok(v) => v as u64,
            Err(e) => {
                cpu.raise(Exception { bad_vaddr: e.bad_vaddr.map(|_| addr), ..e }, pc_bd);
                (ExitReason::Exception as u64) << 32
            }
        };
    }
    match cpu.load_slow(addr, size) {
        Ok(v) => match (size, kind & LOAD_SIGNED != 0) {
            (1, true) => v as u8 as i8 as u32 as u64,
            (2, true) => v as u16 as i16 as u32 as u64,
            _ => v as u64,
        },
        Err(e) => {
            cpu.raise(e, pc_bd);
            (ExitReason::Exception as u64) << 32
        }
    }
}

unsafe extern "C" fn store(state: *mut JitState, addr: u32, value: u32, pc_bd: u32, size: u32) -> u32 {
    // SAFETY: translated code passes its state pointer, per the ABI.
    let cpu = unsafe { cpu(state) };
    if size & NO_INLINE_TLB != 0 {
        cpu.uninlined_access(addr, pc_bd);
    }
    match cpu.store_slow(addr, size & 7, value) {
        Ok(()) => CONTINUE,
        Err(e) => {
            cpu.raise(e, pc_bd);
            ExitReason::Exception as u32
        }
    }
}

unsafe extern "C" fn exec_one(state: *mut JitState, word: u32, pc_bd: u32, hint: u32) -> u32 {
    // SAFETY: translated code passes its state pointer, per the ABI.
    let cpu = unsafe { cpu(state) };
    let insn = decode_with_hint(word, hint);
    let (pc, bd) = (pc_bd & !3, pc_bd & 1 != 0);
    // The COP1 and COP1X opcodes are all the FPU's (what `exec` would
    // find after trying everything else), but for its branches, which
    // `exec` checks for a delay slot.
    let flow = if matches!(word >> 26, 0x11 | 0x13) && !insn.has_delay_slot() {
        crate::fpu::exec(cpu, insn, pc, bd)
    } else {
        exec(cpu, insn, pc, bd)
    };
    match flow {
        Flow::Next => CONTINUE,
        Flow::Exit(r) => r as u32,
        // The translator evaluates FPU branch conditions here (the FPU
        // state is the runtime's); it lowers the jump itself.
        Flow::Branch { taken, .. } if matches!(insn.op, Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl) => {
            if taken {
                BRANCH_TAKEN
            } else {
                CONTINUE
            }
        }
        // Other branches are lowered inline; one reaching here is in a
        // delay slot, which `exec` turns into Reserved Instruction.
        Flow::Branch { .. } => {
            cpu.raise(Exception::new(ExcCode::Ri), pc_bd);
            ExitReason::Exception as u32
        }
    }
}

unsafe extern "C" fn raise(state: *mut JitState, code: u32, pc_bd: u32) -> u32 {
    // SAFETY: translated code passes its state pointer, per the ABI.
    let cpu = unsafe { cpu(state) };
    let code = ExcCode::from_u32(code).unwrap_or(ExcCode::Ri);
    cpu.raise(Exception::new(code), pc_bd);
    ExitReason::Exception as u32
}

/// The helper table handed to the translator.
pub fn table() -> Helpers {
    use std::mem::offset_of as at;
    let fpu = FpuSlots {
        fpr: at!(Cpu, fpu.fpr) as i32,
        status: at!(Cpu, cp0.status) as i32,
        fcsr: at!(Cpu, fpu.fcsr) as i32,
    };
    let user = UserSlots {
        user_local: at!(Cpu, user_local) as i32,
        llbit: at!(Cpu, llbit) as i32,
        llval: at!(Cpu, llval) as i32,
    };
    Helpers { load, store, exec: exec_one, raise, cp0: crate::cpu::CP0_INLINE, fpu: Some(fpu), user }
}
