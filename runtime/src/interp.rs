//! The tier-0 interpreter: the reference semantics of every instruction.
//!
//! [`exec`] runs one decoded instruction. Translated code lowers the common
//! instructions itself and calls back into [`exec`] (through the `exec`
//! helper) for the rest, so the two tiers share this file for everything
//! rare or privileged. Differential tests hold the JIT to it for the rest.

use crate::cp0::status;
use crate::cpu::{Cpu, StopRequest};
use crate::exception::{ExcCode, Exception};
use frontend::{Insn, Op};
use jit::abi::{ExitReason, pc_bd};

/// What happens after an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next instruction.
    Next,
    /// A branch: run the delay slot (unless a not-taken branch-likely annuls
    /// it), then continue at `target` if `taken`.
    Branch {
        /// Whether the branch is taken.
        taken: bool,
        /// Where it goes if taken.
        target: u32,
    },
    /// Leave the block with this reason; `pc` is set. After
    /// [`ExitReason::Jump`] (eret) the instruction retired; after
    /// [`ExitReason::Exception`] or [`ExitReason::Stop`] (sdbbp) it did not.
    Exit(ExitReason),
}

fn raise(cpu: &mut Cpu, e: Exception, pc: u32, bd: bool) -> Flow {
    cpu.raise(e, pc_bd(pc, bd));
    Flow::Exit(ExitReason::Exception)
}

fn set(cpu: &mut Cpu, r: usize, v: u32) {
    if r != 0 {
        cpu.s.gpr[r] = v;
    }
}

/// Config3.ULRI: the UserLocal register is implemented.
const CONFIG3_ULRI: u32 = 1 << 13;

/// Coprocessor 0 is usable: kernel mode, or CU0 set.
fn cp0_usable(cpu: &Cpu) -> bool {
    !cpu.cp0.user_mode() || cpu.cp0.status & status::CU0 != 0
}

/// Executes `i` if it is a plain register operation (no memory, no
/// control flow, no exception possible), and says whether it was. The block
/// loop tries this first, so the common instructions skip [`exec`]'s setup.
#[inline(always)]
pub fn exec_register_op(cpu: &mut Cpu, i: Insn) -> bool {
    let rs = cpu.s.gpr[i.rs()];
    let rt = cpu.s.gpr[i.rt()];
    let imm = i.simm() as u32;
    match i.op {
        Op::Sll => set(cpu, i.rd(), rt << i.sa()),
        Op::Srl => set(cpu, i.rd(), rt >> i.sa()),
        Op::Rotr => set(cpu, i.rd(), rt.rotate_right(i.sa())),
        Op::Sra => set(cpu, i.rd(), ((rt as i32) >> i.sa()) as u32),
        Op::Sllv => set(cpu, i.rd(), rt << (rs & 31)),
        Op::Srlv => set(cpu, i.rd(), rt >> (rs & 31)),
        Op::Rotrv => set(cpu, i.rd(), rt.rotate_right(rs & 31)),
        Op::Srav => set(cpu, i.rd(), ((rt as i32) >> (rs & 31)) as u32),
        Op::Movz => {
            if rt == 0 {
                set(cpu, i.rd(), rs)
            }
        }
        Op::Movn => {
            if rt != 0 {
                set(cpu, i.rd(), rs)
            }
        }
        Op::Mfhi => set(cpu, i.rd(), cpu.s.hi),
        Op::Mthi => cpu.s.hi = rs,
        Op::Mflo => set(cpu, i.rd(), cpu.s.lo),
        Op::Mtlo => cpu.s.lo = rs,
        Op::Addu => set(cpu, i.rd(), rs.wrapping_add(rt)),
        Op::Subu => set(cpu, i.rd(), rs.wrapping_sub(rt)),
        Op::And => set(cpu, i.rd(), rs & rt),
        Op::Or => set(cpu, i.rd(), rs | rt),
        Op::Xor => set(cpu, i.rd(), rs ^ rt),
        Op::Nor => set(cpu, i.rd(), !(rs | rt)),
        Op::Slt => set(cpu, i.rd(), ((rs as i32) < (rt as i32)) as u32),
        Op::Sltu => set(cpu, i.rd(), (rs < rt) as u32),
        Op::Addiu => set(cpu, i.rt(), rs.wrapping_add(imm)),
        Op::Slti => set(cpu, i.rt(), ((rs as i32) < (imm as i32)) as u32),
        Op::Sltiu => set(cpu, i.rt(), (rs < imm) as u32),
        Op::Andi => set(cpu, i.rt(), rs & i.uimm()),
        Op::Ori => set(cpu, i.rt(), rs | i.uimm()),
        Op::Xori => set(cpu, i.rt(), rs ^ i.uimm()),
        Op::Lui => set(cpu, i.rt(), i.uimm() << 16),
        Op::Mult => set_hilo(cpu, (rs as i32 as i64).wrapping_mul(rt as i32 as i64) as u64),
        Op::Multu => set_hilo(cpu, rs as u64 * rt as u64),
        Op::Mul => set(cpu, i.rd(), rs.wrapping_mul(rt)),
        Op::Clz => set(cpu, i.rd(), rs.leading_zeros()),
        Op::Clo => set(cpu, i.rd(), rs.leading_ones()),
        _ => return false,
    }
    true
}

/// Executes `i` if it is a load or store (not `ll`, `sc` or the unaligned
/// ones) whose access is a plain RAM hit ([`Cpu::load_fast`],
/// [`Cpu::store_fast`]), which can raise nothing; says whether it was.
/// The block loop tries this before [`exec_other`], whose general path
/// (address errors, TLB refills, devices) it would otherwise take.
#[inline(always)]
pub fn exec_memory_hit(cpu: &mut Cpu, i: Insn) -> bool {
    let addr = cpu.s.gpr[i.rs()].wrapping_add(i.simm() as u32);
    match i.op {
        Op::Lb | Op::Lh | Op::Lw | Op::Lbu | Op::Lhu => {
            let (size, signed) = i.mem_access().unwrap_or((4, false));
            let Some(v) = cpu.load_fast(addr, size) else { return false };
            set(cpu, i.rt(), extend(v, size, signed));
        }
        Op::Sb | Op::Sh | Op::Sw => {
            let (size, _) = i.mem_access().unwrap_or((4, false));
            return cpu.store_fast(addr, size, cpu.s.gpr[i.rt()]);
        }
        _ => return false,
    }
    true
}

/// A loaded value of `size` bytes, sign-extended if `signed`.
fn extend(v: u32, size: u32, signed: bool) -> u32 {
    match (size, signed) {
        (1, true) => v as u8 as i8 as u32,
        (2, true) => v as u16 as i16 as u32,
        _ => v,
    }
}

/// Evaluates `i` if it is a branch or jump (not in a delay slot): writes its
/// link register and returns where it goes. The block loop calls this
/// before [`exec_other`], which calls it too.
#[inline(always)]
pub fn branch_op(cpu: &mut Cpu, i: Insn, pc: u32) -> Option<Flow> {
    let rs = cpu.s.gpr[i.rs()];
    let rt = cpu.s.gpr[i.rt()];
    let branch = |taken: bool| Some(Flow::Branch { taken, target: i.branch_target(pc) });
    match i.op {
        Op::Jr => Some(Flow::Branch { taken: true, target: rs }),
        Op::Jalr => {
            set(cpu, i.rd(), pc.wrapping_add(8));
            Some(Flow::Branch { taken: true, target: rs })
        }
        Op::Bltz | Op::Bltzl => branch((rs as i32) < 0),
        Op::Bgez | Op::Bgezl => branch((rs as i32) >= 0),
        Op::Bltzal | Op::Bltzall => {
            cpu.s.gpr[31] = pc.wrapping_add(8);
            branch((rs as i32) < 0)
        }
        Op::Bgezal | Op::Bgezall => {
            cpu.s.gpr[31] = pc.wrapping_add(8);
            branch((rs as i32) >= 0)
        }
        Op::J => Some(Flow::Branch { taken: true, target: i.jump_target(pc) }),
        Op::Jal => {
            cpu.s.gpr[31] = pc.wrapping_add(8);
            Some(Flow::Branch { taken: true, target: i.jump_target(pc) })
        }
        Op::Beq | Op::Beql => branch(rs == rt),
        Op::Bne | Op::Bnel => branch(rs != rt),
        Op::Blez | Op::Blezl => branch((rs as i32) <= 0),
        Op::Bgtz | Op::Bgtzl => branch((rs as i32) > 0),
        _ => None,
    }
}

/// Executes `i`, the instruction at `pc` (`bd`: in a branch delay slot).
pub fn exec(cpu: &mut Cpu, i: Insn, pc: u32, bd: bool) -> Flow {
    if exec_register_op(cpu, i) || exec_memory_hit(cpu, i) {
        return Flow::Next;
    }
    exec_other(cpu, i, pc, bd)
}

/// [`exec`] for an instruction [`exec_register_op`] declined: what the
/// block loop calls after trying that itself.
pub fn exec_other(cpu: &mut Cpu, i: Insn, pc: u32, bd: bool) -> Flow {
    if bd && i.has_delay_slot() {
        // A branch in a delay slot is UNPREDICTABLE in MIPS32; QEMU raises
        // Reserved Instruction, and so do we.
        return raise(cpu, Exception::new(ExcCode::Ri), pc, bd);
    }
    if let Some(flow) = branch_op(cpu, i, pc) {
        return flow;
    }
    let rs = cpu.s.gpr[i.rs()];
    let rt = cpu.s.gpr[i.rt()];
    let imm = i.simm() as u32;
    match i.op {
        // Done by `exec_register_op` (see `exec`) and `branch_op`.
        Op::Mult | Op::Multu | Op::Mul | Op::Clz | Op::Clo => {}
        Op::Jr | Op::Jalr | Op::J | Op::Jal | Op::Beq | Op::Beql | Op::Bne | Op::Bnel => {}
        Op::Bltz | Op::Bltzl | Op::Bgez | Op::Bgezl | Op::Bltzal | Op::Bltzall | Op::Bgezal | Op::Bgezall => {}
        Op::Blez | Op::Blezl | Op::Bgtz | Op::Bgtzl => {}
        Op::Sll | Op::Srl | Op::Rotr | Op::Sra | Op::Sllv | Op::Srlv | Op::Rotrv | Op::Srav => {}
        Op::Movz | Op::Movn | Op::Mfhi | Op::Mthi | Op::Mflo | Op::Mtlo => {}
        Op::Addu | Op::Subu | Op::And | Op::Or | Op::Xor | Op::Nor | Op::Slt | Op::Sltu => {}
        Op::Addiu | Op::Slti | Op::Sltiu | Op::Andi | Op::Ori | Op::Xori | Op::Lui => {}
        Op::Syscall => return raise(cpu, Exception::new(ExcCode::Sys), pc, bd),
        Op::Break => return raise(cpu, Exception::new(ExcCode::Bp), pc, bd),
        // In user-mode emulation stores do not look for translated code (see
        // `jit::GuestConfig::flat_user_base`): `synci` is how the guest says
        // it wrote some, so its line's page is translated again, from the
        // next block on.
        Op::Synci if cpu.linux_user => {
            let page = rs.wrapping_add(i.simm() as u32) >> 12;
            cpu.code_written(page, page);
            cpu.request_exit();
        }
        Op::Sync | Op::Pref | Op::Synci => {}
        Op::Div => {
            // Division by zero is UNPREDICTABLE; like QEMU we divide by 1
            // instead, and INT_MIN / -1 gives INT_MIN with remainder 0.
            let (a, b) = (rs as i32, rt as i32);
            let b = if b == 0 || (a == i32::MIN && b == -1) { 1 } else { b };
            cpu.s.lo = (a / b) as u32;
            cpu.s.hi = (a % b) as u32;
        }
        Op::Divu => {
            let b = if rt == 0 { 1 } else { rt };
            cpu.s.lo = rs / b;
            cpu.s.hi = rs % b;
        }
        Op::Add => match (rs as i32).checked_add(rt as i32) {
            Some(v) => set(cpu, i.rd(), v as u32),
            None => return raise(cpu, Exception::new(ExcCode::Ov), pc, bd),
        },
        Op::Sub => match (rs as i32).checked_sub(rt as i32) {
            Some(v) => set(cpu, i.rd(), v as u32),
            None => return raise(cpu, Exception::new(ExcCode::Ov), pc, bd),
        },
        Op::Tge | Op::Tgeu | Op::Tlt | Op::Tltu | Op::Teq | Op::Tne => {
            if trap_condition(i.op, rs, rt) {
                return raise(cpu, Exception::new(ExcCode::Tr), pc, bd);
            }
        }
        Op::Tgei | Op::Tgeiu | Op::Tlti | Op::Tltiu | Op::Teqi | Op::Tnei => {
            if trap_condition(i.op, rs, imm) {
                return raise(cpu, Exception::new(ExcCode::Tr), pc, bd);
            }
        }
        Op::Addi => match (rs as i32).checked_add(imm as i32) {
            Some(v) => set(cpu, i.rt(), v as u32),
            None => return raise(cpu, Exception::new(ExcCode::Ov), pc, bd),
        },
        Op::Lb | Op::Lh | Op::Lw | Op::Lbu | Op::Lhu | Op::Ll => {
            let addr = rs.wrapping_add(imm);
            let (size, signed) = i.mem_access().unwrap_or((4, false));
            match cpu.load(addr, size) {
                Ok(v) => {
                    set(cpu, i.rt(), extend(v, size, signed));
                    if i.op == Op::Ll {
                        cpu.llbit = true;
                        cpu.llval = v;
                        cpu.cp0.lladdr = cpu.translate(addr, softmmu::Access::Load).unwrap_or(0) as u32;
                    }
                }
                Err(e) => return raise(cpu, e, pc, bd),
            }
        }
        Op::Sb | Op::Sh | Op::Sw => {
            let (size, _) = i.mem_access().unwrap_or((4, false));
            if let Err(e) = cpu.store(rs.wrapping_add(imm), size, rt) {
                return raise(cpu, e, pc, bd);
            }
        }
        Op::Sc => {
            let mut done = false;
            if cpu.llbit {
                match cpu.store_conditional(rs.wrapping_add(imm), cpu.llval, rt) {
                    Ok(d) => done = d,
                    Err(e) => return raise(cpu, e, pc, bd),
                }
            } else if let Err(e) = cpu.translate(rs.wrapping_add(imm), softmmu::Access::Store) {
                // A failing sc still checks its address.
                return raise(cpu, e, pc, bd);
            }
            set(cpu, i.rt(), done as u32);
            // As QEMU: one ll pairs with one sc (a second sc fails).
            cpu.llbit = false;
        }
        Op::Lwl | Op::Lwr | Op::Swl | Op::Swr => return unaligned(cpu, i, rs.wrapping_add(imm), rt, pc, bd),
        Op::Madd => set_hilo(cpu, hilo(cpu).wrapping_add((rs as i32 as i64 * rt as i32 as i64) as u64)),
        Op::Maddu => set_hilo(cpu, hilo(cpu).wrapping_add(rs as u64 * rt as u64)),
        Op::Msub => set_hilo(cpu, hilo(cpu).wrapping_sub((rs as i32 as i64 * rt as i32 as i64) as u64)),
        Op::Msubu => set_hilo(cpu, hilo(cpu).wrapping_sub(rs as u64 * rt as u64)),
        Op::Ext => {
            let (lsb, size) = (i.sa(), i.msb() + 1);
            if lsb + size > 32 {
                return raise(cpu, Exception::new(ExcCode::Ri), pc, bd);
            }
            set(cpu, i.rt(), (rs >> lsb) & mask(size));
        }
        Op::Ins => {
            let (lsb, msb) = (i.sa(), i.msb());
            if msb < lsb {
                return raise(cpu, Exception::new(ExcCode::Ri), pc, bd);
            }
            let m = mask(msb - lsb + 1) << lsb;
            set(cpu, i.rt(), (rt & !m) | ((rs << lsb) & m));
        }
        Op::Wsbh => set(cpu, i.rd(), ((rt & 0x00ff_00ff) << 8) | ((rt >> 8) & 0x00ff_00ff)),
        Op::Seb => set(cpu, i.rd(), rt as u8 as i8 as u32),
        Op::Seh => set(cpu, i.rd(), rt as u16 as i16 as u32),
        Op::Rdhwr => {
            let r = i.rd();
            let allowed = cp0_usable(cpu) || ((r < 4 || r == 29) && cpu.cp0.hwrena & (1 << r) != 0);
            let v = match r {
                0 => 0,  // CPUNum
                1 => 32, // SYNCI_Step: the 24K's cache line
                2 => cpu.count(),
                3 => 2, // CCRes
                // UserLocal, when Config3.ULRI says it exists.
                29 if cpu.cp0.config3 & CONFIG3_ULRI != 0 => cpu.user_local,
                _ => return raise(cpu, Exception::new(ExcCode::Ri), pc, bd),
            };
            if !allowed {
                return raise(cpu, Exception::new(ExcCode::Ri), pc, bd);
            }
            set(cpu, i.rt(), v);
        }
        Op::Sdbbp => {
            cpu.stop_with(StopRequest::DebugBreakpoint(pc));
            cpu.s.pc = pc;
            return Flow::Exit(ExitReason::Stop);
        }
        Op::Mfc0
        | Op::Mtc0
        | Op::Rdpgpr
        | Op::Wrpgpr
        | Op::Di
        | Op::Ei
        | Op::Tlbr
        | Op::Tlbwi
        | Op::Tlbwr
        | Op::Tlbp
        | Op::Eret
        | Op::Deret
        | Op::Wait
        | Op::Cache => return privileged(cpu, i, pc, bd),
        Op::Movci
        | Op::Mfc1
        | Op::Mfhc1
        | Op::Cfc1
        | Op::Mtc1
        | Op::Mthc1
        | Op::Ctc1
        | Op::Bc1f
        | Op::Bc1t
        | Op::Bc1fl
        | Op::Bc1tl
        | Op::FAdd
        | Op::FSub
        | Op::FMul
        | Op::FDiv
        | Op::FSqrt
        | Op::FAbs
        | Op::FMov
        | Op::FNeg
        | Op::FRoundL
        | Op::FTruncL
        | Op::FCeilL
        | Op::FFloorL
        | Op::FRoundW
        | Op::FTruncW
        | Op::FCeilW
        | Op::FFloorW
        | Op::FMovcf
        | Op::FMovz
        | Op::FMovn
        | Op::FRecip
        | Op::FRsqrt
        | Op::FCvtS
        | Op::FCvtD
        | Op::FCvtW
        | Op::FCvtL
        | Op::FCvtPsS
        | Op::FCvtSPl
        | Op::FCvtSPu
        | Op::FPll
        | Op::FPlu
        | Op::FPul
        | Op::FPuu
        | Op::FCmp
        | Op::Lwc1
        | Op::Ldc1
        | Op::Swc1
        | Op::Sdc1
        | Op::Lwxc1
        | Op::Ldxc1
        | Op::Luxc1
        | Op::Swxc1
        | Op::Sdxc1
        | Op::Suxc1
        | Op::Prefx
        | Op::FMadd
        | Op::FMsub
        | Op::FNmadd
        | Op::FNmsub
        | Op::FAlnvPs => {
            // The FPU; on the 24Kc, and while Status.CU1 is clear, these are
            // Coprocessor Unusable (the kernel emulates floating point then).
            return crate::fpu::exec(cpu, i, pc, bd);
        }
        Op::Cop2 | Op::Lwc2 | Op::Ldc2 | Op::Swc2 | Op::Sdc2 => return raise(cpu, Exception::cpu(2), pc, bd),
        Op::Reserved => {
            // Undefined encodings in the COP1/COP1X opcode space trap as
            // Coprocessor Unusable while the FPU is unusable, so the
            // kernel's FPU emulator sees them (and decides SIGILL itself);
            // with a usable FPU they are Reserved Instruction.
            if matches!(i.word >> 26, 0x11 | 0x13) {
                return crate::fpu::exec(cpu, i, pc, bd);
            }
            return raise(cpu, Exception::new(ExcCode::Ri), pc, bd);
        }
    }
    Flow::Next
}

/// The trap instructions' conditions (`b` is rt or the sign-extended immediate).
pub fn trap_condition(op: Op, a: u32, b: u32) -> bool {
    match op {
        Op::Tge | Op::Tgei => a as i32 >= b as i32,
        Op::Tgeu | Op::Tgeiu => a >= b,
        Op::Tlt | Op::Tlti => (a as i32) < b as i32,
        Op::Tltu | Op::Tltiu => a < b,
        Op::Teq | Op::Teqi => a == b,
        _ => a != b,
    }
}

fn mask(bits: u32) -> u32 {
    if bits >= 32 { u32::MAX } else { (1 << bits) - 1 }
}

fn hilo(cpu: &Cpu) -> u64 {
    ((cpu.s.hi as u64) << 32) | cpu.s.lo as u64
}

fn set_hilo(cpu: &mut Cpu, v: u64) {
    cpu.s.hi = (v >> 32) as u32;
    cpu.s.lo = v as u32;
}

/// lwl/lwr/swl/swr: the aligned word holding `addr`, merged with rt.
/// The byte lanes depend on the byte order (MIPS32 Vol. II, LWL).
fn unaligned(cpu: &mut Cpu, i: Insn, addr: u32, rt: u32, pc: u32, bd: bool) -> Flow {
    let b = if cpu.big_endian { 3 - (addr & 3) } else { addr & 3 };
    let word = match cpu.load(addr & !3, 4) {
        Ok(w) => w,
        Err(e) => {
            let e = Exception { bad_vaddr: e.bad_vaddr.map(|_| addr), ..e };
            let e = if i.op == Op::Swl || i.op == Op::Swr { as_store(e) } else { e };
            return raise(cpu, e, pc, bd);
        }
    };
    match i.op {
        Op::Lwl => {
            let sh = (3 - b) * 8;
            set(cpu, i.rt(), (rt & mask(sh)) | (word << sh));
        }
        Op::Lwr => {
            let sh = b * 8;
            set(cpu, i.rt(), (rt & !(u32::MAX >> sh)) | (word >> sh));
        }
        _ => {
            let v = if i.op == Op::Swl {
                let sh = (3 - b) * 8;
                (word & !(u32::MAX >> sh)) | (rt >> sh)
            } else {
                let sh = b * 8;
                (word & mask(sh)) | (rt << sh)
            };
            if let Err(e) = cpu.store(addr & !3, 4, v) {
                return raise(cpu, Exception { bad_vaddr: e.bad_vaddr.map(|_| addr), ..e }, pc, bd);
            }
        }
    }
    Flow::Next
}

/// A load-side fault seen while doing a store's read half becomes the store's fault.
fn as_store(e: Exception) -> Exception {
    let code = match e.code {
        ExcCode::AdEL => ExcCode::AdES,
        ExcCode::TlbL => ExcCode::TlbS,
        c => c,
    };
    Exception { code, ..e }
}

/// Instructions that need Coprocessor 0 to be usable.
fn privileged(cpu: &mut Cpu, i: Insn, pc: u32, bd: bool) -> Flow {
    if !cp0_usable(cpu) {
        return raise(cpu, Exception::cpu(0), pc, bd);
    }
    let rt = cpu.s.gpr[i.rt()];
    match i.op {
        Op::Mfc0 => {
            let v = cpu.mfc0(i.rd(), i.sel());
            set(cpu, i.rt(), v);
        }
        Op::Mtc0 => cpu.mtc0(i.rd(), i.sel(), rt),
        Op::Rdpgpr => set(cpu, i.rd(), rt),
        Op::Wrpgpr => set(cpu, i.rd(), rt),
        Op::Di | Op::Ei => {
            let old = cpu.cp0.status;
            set(cpu, i.rt(), old);
            cpu.set_status(if i.op == Op::Ei { old | status::IE } else { old & !status::IE });
        }
        Op::Eret => {
            cpu.eret();
            return Flow::Exit(ExitReason::Jump);
        }
        Op::Deret => return raise(cpu, Exception::new(ExcCode::Ri), pc, bd),
        Op::Wait => {
            // Like QEMU, `wait` sleeps until an enabled interrupt arrives;
            // with interrupts disabled (or all masked) nothing can ever
            // wake the CPU, so the machine reports it halted.
            let st = cpu.cp0.status;
            let enabled = st & (status::IE | status::EXL | status::ERL) == status::IE;
            if !cpu.cp0.interrupt_pending() {
                if enabled && st & 0xfc00 != 0 {
                    cpu.waiting = true;
                    cpu.request_exit();
                } else {
                    cpu.stop_with(StopRequest::Halted);
                }
            }
        }
        Op::Tlbp => cpu.tlb_probe(),
        Op::Tlbr => cpu.tlb_read(),
        Op::Tlbwi => cpu.tlb_write(false),
        Op::Tlbwr => cpu.tlb_write(true),
        // No caches are modelled; code coherence comes from write protection.
        Op::Cache => {}
        _ => unreachable!("privileged() called for {:?}", i.op),
    }
    Flow::Next
}
