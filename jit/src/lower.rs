//! Lowering one decoded guest block to Cranelift IR.
//!
//! Guest registers live in Cranelift variables for the length of a block:
//! the entry loads the registers the block reads from
//! [`JitState`](crate::abi::JitState), and writes stay in the variables
//! until control leaves the function. Every exit goes through an exit block
//! that stores back the registers written before it (all the block's
//! writes, if the block loops inside its function). The memory helpers
//! never look at guest registers, so slow paths need no flush; the `exec`
//! helper (the interpreter) does, so the block flushes before it and
//! reloads what it may have changed after.
//!
//! Helpers are reached through `preserve_all` shims (see `engine.rs`) that
//! take only the state pointer, the function's parameter, which stays in a
//! register for the whole function: a slow-path call in the middle of a
//! block does not push the block's values to the stack.

use crate::abi::{BRANCH_TAKEN, ExitReason, JUMP_CACHE_BITS, LOAD_SIGNED, LOAD_WORD_OF, NO_INLINE_TLB, offsets, pc_bd};
use crate::lower_fpu::VarLayout;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, SigRef, Signature, Type, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use frontend::{GuestBlock, Insn, Op};
use softmmu::soft_tlb::{SOFT_TLB_BITS, offsets as tlb};

const I32: Type = types::I32;
const I64: Type = types::I64;

/// The signature of every compiled block: `tail fn(*mut JitState) -> u32`.
pub(crate) fn block_signature() -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::new(I64));
    sig.returns.push(AbiParam::new(I32));
    sig
}

/// Whether the translator takes this block. A branch whose delay slot is on
/// the next page stays in the interpreter, which fetches the slot itself.
pub fn compilable(b: &GuestBlock) -> bool {
    b.insns.last().is_some_and(|i| !i.has_delay_slot())
        || b.insns.len() >= 2 && b.insns[b.insns.len() - 2].has_delay_slot()
}

/// Addresses of the register-preserving shims in front of each helper
/// (see `engine.rs`): translated code calls these, so values stay in
/// registers across slow paths instead of being spilled around every call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shims {
    pub(crate) load: usize,
    pub(crate) store: usize,
    pub(crate) exec: usize,
    /// The `exec` helper itself, called without a shim (see `Lower::exec`).
    pub(crate) exec_direct: usize,
    pub(crate) raise: usize,
    pub(crate) cp0: &'static [crate::abi::Cp0Slot],
    pub(crate) fpu: Option<crate::abi::FpuSlots>,
    pub(crate) user: crate::abi::UserSlots,
}

/// The parameter types of each helper (all return through `helper_ret`).
pub(crate) const LOAD_PARAMS: &[Type] = &[I64, I32, I32, I32];
pub(crate) const STORE_PARAMS: &[Type] = &[I64, I32, I32, I32, I32];
pub(crate) const EXEC_PARAMS: &[Type] = &[I64, I32, I32, I32];
pub(crate) const RAISE_PARAMS: &[Type] = &[I64, I32, I32];

/// A signature with `params` and an optional result, in calling convention `cc`.
pub(crate) fn helper_signature(cc: CallConv, params: &[Type], ret: Option<Type>) -> Signature {
    let mut s = Signature::new(cc);
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.extend(ret.map(AbiParam::new));
    s
}

/// Signatures imported into the function being built.
struct Sigs {
    /// Every helper shim: the state pointer (the other arguments are in
    /// `JitState::helper_args`), no results (`JitState::helper_ret`).
    shim: SigRef,
    /// Compiled blocks, for tail calls.
    block: SigRef,
    /// The `exec` helper called directly (system_v).
    exec: SigRef,
}

/// Per-block lowering state.
pub(crate) struct Lower<'a, 'b> {
    b: &'a mut FunctionBuilder<'b>,
    /// The `*mut JitState`: the function's parameter.
    pub(crate) state: Value,
    helpers: &'a Shims,
    sigs: Sigs,
    big_endian: bool,
    /// [`GuestConfig::flat_user_base`](crate::GuestConfig::flat_user_base).
    flat: Option<usize>,
    /// [`GuestConfig::flat_user_perms`](crate::GuestConfig::flat_user_perms).
    flat_perms: Option<usize>,
    /// [`GuestConfig::kseg0_ram`](crate::GuestConfig::kseg0_ram).
    kseg0: Option<crate::Kseg0Ram>,
    /// Guest registers (32 GPRs, HI, LO) as SSA variables: loaded on block
    /// entry, written back only when control leaves the function.
    vars: [Variable; 34],
    /// `JitState::budget` as a variable: charged and refunded in a
    /// register, stored at exits and around helper calls (which read the
    /// instruction count and may end the slice), reloaded after them.
    budget: Variable,
    /// Registers read anywhere in the block (loaded on entry).
    read: u64,
    /// Registers written so far.
    dirty: u64,
    /// Exit blocks by the registers they store back: `(status, refund)`
    /// params; they flush, refund the budget and return. Filled in last.
    exits: Vec<(u64, Block)>,
    /// Tail-call blocks by the registers they store back: `(code)` param.
    chains: Vec<(u64, Block)>,
    /// Whether the block loops back to its own start inside the function
    /// (then every exit stores every register the block writes).
    looped: bool,
    /// The entry's path into `body`, filled in last (it loads what is read).
    charge: Block,
    /// The budget left after charging this block on entry.
    charged: Value,
    /// For each guest block `j` of the function, the instructions of
    /// blocks `j..`: the most that can retire from entering `j` to the next
    /// budget check. Checks sit only at the entry and on backward edges
    /// (to a block of no greater index), since every cycle has one; a
    /// path of forward edges visits each later block at most once. So a
    /// check asks for `reserve[j]`, the blocks between charge without a
    /// compare, and the budget never goes negative.
    reserve: Vec<i32>,
    /// Whether an `exec` helper call was lowered (it needs memory to be in
    /// sync, so such a block never loops inside its function).
    exec_seen: bool,
    /// Instructions in the block (the budget charged on entry).
    n: i32,
    /// Exit slots of the function: two per guest block, `[taken or
    /// fall-through, not taken]`.
    slots: usize,
    /// The exit slots of the guest block being lowered: `2 * its index`.
    slot_base: usize,
    /// [`GuestBlock::mapped_access`] of the guest block being lowered.
    mapped_access: u64,
    /// [`GuestBlock::indirect_targets`] of the guest block being lowered.
    indirect_targets: Vec<u32>,
    /// Guest address of the block being lowered.
    start: u32,
    /// The units of the function: its guest blocks (a region when more
    /// than one), then the copies of inner loop heads (see
    /// [`inner_loop_copies`]): start address, instruction count, and the
    /// IR block of the body.
    region: Vec<(u32, i32, Block)>,
    /// Index in `region` of the unit being lowered.
    unit: usize,
    /// Whether the unit being lowered calls a helper: one may end the
    /// slice (`Cpu::request_exit` zeroes the budget: code was written, an
    /// interrupt was enabled), which must stop the function at the next
    /// block, so every edge out of this unit checks the budget.
    called: bool,
    /// `(block, its copy, from)`: an edge to guest block `block` from a
    /// unit that is (a copy of) a block in the mask `from` goes to the
    /// unit `its copy` instead.
    redirect: Vec<(usize, usize, u64)>,
    /// In a region, every register any of its instructions may write
    /// (a superset): control can reach a block from several others, so
    /// the entry loads these, and every exit and `exec` call stores them.
    region_writes: u64,
    /// Instructions from the one being lowered to the block's end: what a
    /// helper call stores in `JitState::pending`.
    pending: i32,
    /// The FPU state inline FPU instructions work on, as variables (see
    /// [`crate::lower_fpu::FP_VARS`]): FPRs and FCSR.
    fp_vars: [Variable; crate::lower_fpu::FP_VARS],
    /// The FPU variables the function's inline FPU instructions may use
    /// (a superset): loaded on entry and after every `exec` call, which
    /// works on the state in memory.
    fp_used: u64,
    /// Those they may write: stored at every exit and before every `exec`
    /// call.
    fp_written: u64,
    /// The FPU variables actually used and written, checked against the
    /// two above when the function is done.
    fp_seen: (u64, u64),
    /// Status.FR for the inline FPU code (checked on entry when
    /// `fp_used` is not empty).
    fp_fr: bool,
    /// Whether FPU instructions may be inlined (see `lower_fpu`).
    fp_inline: bool,
    /// Whether Status.CU1 is set (an `I8`), read on entry.
    fp_cu1: Variable,
}

const HI: usize = 32;
const LO: usize = 33;

fn reg_offset(r: usize) -> i32 {
    match r {
        HI => offsets::HI,
        LO => offsets::LO,
        r => offsets::gpr(r),
    }
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Builds the body of `func` (whose builder is `b`) for the guest blocks
/// `region`: its entry is `region[0]`, and direct jumps between its blocks
/// stay inside the function (each block still charges the budget when
/// entered). Guest block `j` uses exit slots `2j` and `2j + 1` at `slots`.
/// Fails on a translator bug that would make the code wrong (the blocks
/// then stay interpreted).
pub(crate) fn lower_region(
    b: &mut FunctionBuilder<'_>,
    region: &[GuestBlock],
    helpers: &Shims,
    guest: crate::GuestConfig,
    slots: usize,
) -> Result<(), String> {
    let g = &region[0];
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let state = b.block_params(entry)[0];
    let sigs = import_signatures(b);
    let n = g.insns.len() as i32;

    let copies = if region.len() > 1 { inner_loop_copies(region) } else { Vec::new() };
    // The function's units: the region's blocks, then the copies.
    let units: Vec<usize> = (0..region.len()).chain(copies.iter().map(|c| c.0)).collect();
    // Only the entry and backward edges check the budget (see `reserve`):
    // give up before doing anything if the longest run to the next check
    // would not fit, else charge the entry block.
    let mut reserve: Vec<i32> = units.iter().map(|&o| region[o].insns.len() as i32).collect();
    for j in (0..reserve.len().saturating_sub(1)).rev() {
        reserve[j] += reserve[j + 1];
    }
    let budget = b.ins().load(I32, flags(), state, offsets::BUDGET);
    let left = b.ins().iadd_imm_s(budget, -(n as i64));
    // `budget < reserve` rather than `budget - reserve < 0`: one `cmp`
    // (the budget is a slice's length, far from overflowing either way).
    let spent = b.ins().icmp_imm_s(IntCC::SignedLessThan, budget, reserve[0] as i64);
    let (out, charge, body) = (b.create_block(), b.create_block(), b.create_block());
    b.ins().brif(spent, out, &[], charge, &[]);
    b.seal_block(out);
    b.seal_block(charge);
    b.switch_to_block(out);
    let pc = b.ins().iconst(I32, g.start as i64);
    b.ins().store(flags(), pc, state, offsets::PC);
    let r = b.ins().iconst(I32, ExitReason::Budget as i64);
    b.ins().return_(&[r]);
    let vars = std::array::from_fn(|_| b.declare_var(I32));
    let budget_var = b.declare_var(I32);
    let mut bodies = vec![(g.start, n, body)];
    for &o in &units[1..] {
        bodies.push((region[o].start, region[o].insns.len() as i32, b.create_block()));
    }
    let redirect = copies.iter().enumerate().map(|(k, &(o, from))| (o, region.len() + k, from)).collect();
    let region_writes = if region.len() > 1 {
        region.iter().flat_map(|r| r.insns.iter()).fold(0, |m, &i| m | written_registers(i))
    } else {
        0
    };

    // The FPU state the inline FPU instructions of every unit may touch.
    let fp_fr = crate::lower_fpu::mode_fr(g.fpu_mode);
    let fp_inline = helpers.fpu.is_some() && g.fpu_mode != frontend::FPU_MODE_ANY;
    let (fp_used, fp_written) = match fp_inline {
        true => units.iter().flat_map(|&o| region[o].insns.iter()).fold((0, 0), |(u, w), &i| {
            let (iu, iw) = crate::lower_fpu::cached(i, fp_fr);
            (u | iu, w | iw)
        }),
        false => (0, 0),
    };
    let fp_vars = std::array::from_fn(|k| b.declare_var(crate::lower_fpu::var_type(k)));
    let fp_cu1 = b.declare_var(types::I8);

    let mut l = Lower {
        b,
        state,
        helpers,
        sigs,
        big_endian: guest.big_endian,
        flat: guest.flat_user_base,
        flat_perms: guest.flat_user_perms.filter(|_| guest.flat_user_base.is_some()),
        kseg0: guest.kseg0_ram,
        vars,
        budget: budget_var,
        read: 0,
        dirty: 0,
        exits: Vec::new(),
        chains: Vec::new(),
        charge,
        charged: left,
        reserve,
        exec_seen: false,
        n,
        slots,
        slot_base: 0,
        mapped_access: u64::MAX,
        indirect_targets: Vec::new(),
        start: g.start,
        region: bodies,
        unit: 0,
        called: false,
        redirect,
        region_writes,
        looped: region.len() > 1,
        pending: n,
        fp_vars,
        fp_used,
        fp_written,
        fp_seen: (0, 0),
        fp_fr,
        fp_inline,
        fp_cu1,
    };
    for (u, &o) in units.iter().enumerate() {
        let (start, n, body) = l.region[u];
        let r = &region[o];
        (l.start, l.n, l.pending, l.slot_base, l.mapped_access) = (start, n, n, 2 * o, r.mapped_access);
        l.indirect_targets.clone_from(&r.indirect_targets);
        (l.unit, l.called) = (u, false);
        l.b.switch_to_block(body);
        l.lower_insns(r);
    }
    l.finish();
    // Sealed last: jumps between the region's blocks (or a loop back to the
    // block's own start) go here.
    for j in 0..l.region.len() {
        let body = l.region[j].2;
        l.b.seal_block(body);
    }
    // `exec` calls store `region_writes`: it must cover every register the
    // lowering wrote, or the interpreter would read stale ones.
    let missed = l.dirty & !l.region_writes;
    if l.region_writes != 0 && missed != 0 {
        return Err(format!("written_registers misses registers {missed:#x}"));
    }
    // Likewise `lower_fpu::cached` for the FPU variables: one it missed
    // would be read before any definition (as zero) or never stored.
    let (used, written) = l.fp_seen;
    if used & !l.fp_used != 0 || written & !l.fp_written != 0 {
        return Err(format!("lower_fpu::cached misses FPU variables {used:#x}/{written:#x}"));
    }
    Ok(())
}

/// Inner loops that share their head with an outer one, as `(head, the
/// inner loop's blocks)`: a loop that comes back to the block it left
/// from (`for (i...) for (j...)` compiled with the inner loop first, and
/// the region starting at its hot head) makes one natural loop of both,
/// so the register allocator, which weighs uses by loop depth, sees the
/// inner loop's registers as no hotter than the outer one's, and spills
/// them. Lowering the head a second time, as the target of the inner
/// loop's own back edge, nests the loops. Indices are into `region`.
fn inner_loop_copies(region: &[GuestBlock]) -> Vec<(usize, u64)> {
    let n = region.len().min(64);
    let index = |t: Option<u32>| t.and_then(|t| region[..n].iter().position(|g| g.start == t));
    let succs: Vec<Vec<usize>> =
        region[..n].iter().map(|g| g.successors().into_iter().filter_map(&index).collect()).collect();
    let preds: Vec<Vec<usize>> = (0..n).map(|j| (0..n).filter(|&p| succs[p].contains(&j)).collect()).collect();
    // Dominators as bit masks, from the entry (block 0).
    let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    let mut dom = vec![all; n];
    dom[0] = 1;
    let mut changed = true;
    while changed {
        changed = false;
        for j in 1..n {
            let d = preds[j].iter().fold(all, |m, &p| m & dom[p]) | 1 << j;
            if d != dom[j] {
                (dom[j], changed) = (d, true);
            }
        }
    }
    let mut copies = Vec::new();
    for h in 0..n {
        // The natural loop of each back edge `x -> h`: `h` and whatever
        // reaches `x` without passing `h`.
        let mut loops: Vec<u64> = Vec::new();
        for &x in preds[h].iter().filter(|&&x| dom[x] & 1 << h != 0) {
            let mut body = 1u64 << h | 1 << x;
            let mut work = if x == h { vec![] } else { vec![x] };
            while let Some(y) = work.pop() {
                for &p in &preds[y] {
                    if body & 1 << p == 0 {
                        body |= 1 << p;
                        work.push(p);
                    }
                }
            }
            loops.push(body);
        }
        let union = loops.iter().fold(0, |m, l| m | l);
        if let Some(&inner) = loops.iter().min_by_key(|l| l.count_ones())
            && inner != union
        {
            copies.push((h, inner));
        }
    }
    copies
}

/// FPU instructions whose `exec` reads and writes FPU state only (and may
/// raise an exception; the FPU branches read FCSR's condition codes):
/// translated code need not store registers before them nor reload any
/// after, and may loop around them in one function.
fn fpu_registers_only(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        Bc1f | Bc1t
            | Bc1fl
            | Bc1tl
            | FAdd
            | FSub
            | FMul
            | FDiv
            | FSqrt
            | FAbs
            | FNeg
            | FMov
            | FRecip
            | FRsqrt
            | FRoundL
            | FTruncL
            | FCeilL
            | FFloorL
            | FRoundW
            | FTruncW
            | FCeilW
            | FFloorW
            | FCvtS
            | FCvtD
            | FCvtW
            | FCvtL
            | FCmp
            | FMovcf
            | FMadd
            | FMsub
            | FNmadd
            | FNmsub
    )
}

/// The registers an instruction may touch, by its encoding format (a
/// superset is fine): what to reload after the `exec` helper ran it.
/// Bits 0..32 are GPRs, 32 is HI, 33 is LO.
fn touched_registers(i: Insn) -> u64 {
    let (rs, rt, rd) = (1u64 << i.rs(), 1u64 << i.rt(), 1u64 << i.rd());
    let hilo = 3u64 << 32;
    let m = match i.word >> 26 {
        0x00 | 0x1c => rs | rt | rd | hilo, // SPECIAL, SPECIAL2
        0x1f => rs | rt | rd,               // SPECIAL3
        0x01 => rs | 1 << 31,               // REGIMM (bltzal links)
        0x02 => 0,                          // j
        0x03 => 1 << 31,                    // jal
        0x10 => rt | rd,                    // COP0
        0x11..=0x13 => rs | rt | rd,        // coprocessors: exec helper
        _ => rs | rt,                       // I-type
    };
    m & !1
}

/// The registers an instruction may write (same bits as
/// [`touched_registers`]), exactly for the common instructions and as
/// [`touched_registers`] for the rest: what a region's exits store.
fn written_registers(i: Insn) -> u64 {
    let (rt, rd) = (1u64 << i.rt(), 1u64 << i.rd());
    let hilo = 3u64 << 32;
    let m = match i.op {
        Op::Sll | Op::Srl | Op::Rotr | Op::Sra | Op::Sllv | Op::Srlv | Op::Rotrv | Op::Srav => rd,
        Op::Movz | Op::Movn | Op::Movci | Op::Mfhi | Op::Mflo | Op::Jalr => rd,
        Op::Add | Op::Addu | Op::Sub | Op::Subu | Op::And | Op::Or | Op::Xor | Op::Nor | Op::Slt | Op::Sltu => rd,
        Op::Mul | Op::Clz | Op::Clo | Op::Wsbh | Op::Seb | Op::Seh => rd,
        Op::Mthi | Op::Mtlo | Op::Mult | Op::Multu | Op::Div | Op::Divu => hilo,
        Op::Madd | Op::Maddu | Op::Msub | Op::Msubu => hilo,
        Op::Addi | Op::Addiu | Op::Slti | Op::Sltiu | Op::Andi | Op::Ori | Op::Xori | Op::Lui => rt,
        Op::Lb | Op::Lh | Op::Lwl | Op::Lw | Op::Lbu | Op::Lhu | Op::Lwr | Op::Ll | Op::Sc => rt,
        Op::Ext | Op::Ins | Op::Rdhwr | Op::Mfc0 | Op::Mfc1 | Op::Mfhc1 | Op::Cfc1 | Op::Di | Op::Ei => rt,
        Op::Jal | Op::Bltzal | Op::Bgezal | Op::Bltzall | Op::Bgezall => 1 << 31,
        Op::Jr | Op::J | Op::Beq | Op::Bne | Op::Blez | Op::Bgtz | Op::Beql | Op::Bnel | Op::Blezl | Op::Bgtzl => 0,
        Op::Bltz | Op::Bgez | Op::Bltzl | Op::Bgezl | Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl => 0,
        Op::Sb | Op::Sh | Op::Sw | Op::Swl | Op::Swr | Op::Sync | Op::Pref | Op::Cache | Op::Synci => 0,
        Op::Lwc1 | Op::Ldc1 | Op::Swc1 | Op::Sdc1 | Op::Mtc1 | Op::Mthc1 | Op::Ctc1 | Op::Mtc0 => 0,
        _ => return touched_registers(i),
    };
    m & !1
}

fn import_signatures(b: &mut FunctionBuilder<'_>) -> Sigs {
    // Shims take their arguments from `JitState::helper_args`.
    let shim = b.import_signature(helper_signature(CallConv::PreserveAll, &[I64], None));
    let exec = b.import_signature(helper_signature(CallConv::SystemV, EXEC_PARAMS, Some(I32)));
    Sigs { shim, block: b.import_signature(block_signature()), exec }
}

impl<'b> Lower<'_, 'b> {
    // ---- registers -------------------------------------------------------

    fn get(&mut self, r: usize) -> Value {
        if r == 0 {
            return self.b.ins().iconst(I32, 0);
        }
        // Read before any write in the block: the entry must load it. (The
        // lowering is one straight path with side exits, so a write earlier
        // on it dominates every later read.)
        if self.dirty & (1 << r) == 0 {
            self.read |= 1 << r;
        }
        self.b.use_var(self.vars[r])
    }

    /// Writes register `r` (dropped for `$zero`).
    fn set(&mut self, r: usize, v: Value) {
        if r == 0 {
            return;
        }
        self.b.def_var(self.vars[r], v);
        self.dirty |= 1 << r;
    }

    /// Stores the registers in `mask` back into the state.
    fn flush(&mut self, mask: u64) {
        for r in (1..34).filter(|r| mask & (1 << r) != 0) {
            let v = self.b.use_var(self.vars[r]);
            self.b.ins().store(flags(), v, self.state, reg_offset(r));
        }
    }

    /// Reloads the registers instruction `i` may have changed (after `exec`).
    fn reload(&mut self, i: Insn) {
        let mask = touched_registers(i);
        for r in (1..34).filter(|r| mask & (1 << r) != 0) {
            let v = self.b.ins().load(I32, flags(), self.state, reg_offset(r));
            self.b.def_var(self.vars[r], v);
        }
    }

    /// Stores the FPU variables the function may write.
    fn fp_flush(&mut self) {
        let Some(slots) = self.helpers.fpu else { return };
        for k in (0..crate::lower_fpu::FP_VARS).filter(|k| self.fp_written & 1 << k != 0) {
            let v = self.b.use_var(self.fp_vars[k]);
            match crate::lower_fpu::var_layout(slots, self.fp_fr, k) {
                VarLayout::Word(at) => _ = self.b.ins().store(flags(), v, self.state, at),
                VarLayout::Pair(lo_at, hi_at) => {
                    let lo = self.b.ins().ireduce(I32, v);
                    let hi = self.b.ins().ushr_imm_s(v, 32);
                    let hi = self.b.ins().ireduce(I32, hi);
                    self.b.ins().store(flags(), lo, self.state, lo_at);
                    self.b.ins().store(flags(), hi, self.state, hi_at);
                }
            }
        }
    }

    /// Loads the FPU variables the function may use.
    fn fp_reload(&mut self) {
        let Some(slots) = self.helpers.fpu else { return };
        for k in (0..crate::lower_fpu::FP_VARS).filter(|k| self.fp_used & 1 << k != 0) {
            let v = match crate::lower_fpu::var_layout(slots, self.fp_fr, k) {
                VarLayout::Word(at) => self.b.ins().load(I32, flags(), self.state, at),
                VarLayout::Pair(lo_at, hi_at) => {
                    let lo = self.b.ins().uload32(flags(), self.state, lo_at);
                    let hi = self.b.ins().uload32(flags(), self.state, hi_at);
                    let hi = self.b.ins().ishl_imm_s(hi, 32);
                    self.b.ins().bor(hi, lo)
                }
            };
            self.b.def_var(self.fp_vars[k], v);
        }
    }

    /// FPU variable `k` (see [`crate::lower_fpu::FP_VARS`]).
    pub(crate) fn fp_get(&mut self, k: usize) -> Value {
        self.fp_seen.0 |= 1 << k;
        self.b.use_var(self.fp_vars[k])
    }

    /// Sets FPU variable `k`.
    pub(crate) fn fp_put(&mut self, k: usize, v: Value) {
        self.fp_seen.0 |= 1 << k;
        self.fp_seen.1 |= 1 << k;
        self.b.def_var(self.fp_vars[k], v);
    }

    /// The exit block in `list` that stores back the registers written so
    /// far, made with `params` on first use.
    fn exit_for(&mut self, chains: bool, params: &[Type]) -> Block {
        // In a region every exit stores the same registers.
        let dirty = if self.region_writes != 0 { self.region_writes } else { self.dirty };
        let list = if chains { &self.chains } else { &self.exits };
        if let Some(&(_, b)) = list.iter().find(|(m, _)| *m == dirty) {
            return b;
        }
        let b = self.b.create_block();
        for &t in params {
            self.b.append_block_param(b, t);
        }
        if chains {
            self.chains.push((dirty, b))
        } else {
            self.exits.push((dirty, b))
        }
        b
    }

    /// Leaves the function with `status`, refunding `refund` instructions.
    fn leave(&mut self, status: Value, refund: Value) {
        let exit = self.exit_for(false, &[I32, I32]);
        self.b.ins().jump(exit, &[status.into(), refund.into()]);
    }

    /// Tail-calls the block at `code`.
    fn chain(&mut self, code: Value) {
        let chain = self.exit_for(true, &[I64]);
        self.b.ins().jump(chain, &[code.into()]);
    }

    /// Fills in the exits and the entry now that every read and write is
    /// known. An exit stores what was written before it; in a block that
    /// loops, a register written late in one pass is live at every exit of
    /// the next, so exits store everything the block writes and the entry
    /// loads it.
    fn finish(&mut self) {
        let always = if self.looped { self.dirty | self.region_writes } else { 0 };
        for (mask, exit) in std::mem::take(&mut self.exits) {
            self.b.seal_block(exit);
            self.b.switch_to_block(exit);
            let (status, refund) = (self.b.block_params(exit)[0], self.b.block_params(exit)[1]);
            self.flush(mask | always);
            self.fp_flush();
            self.add_to_budget(refund);
            self.store_budget();
            self.b.ins().return_(&[status]);
        }
        for (mask, chain) in std::mem::take(&mut self.chains) {
            self.b.seal_block(chain);
            self.b.switch_to_block(chain);
            let code = self.b.block_params(chain)[0];
            self.flush(mask | always);
            self.fp_flush();
            self.store_budget();
            let state = self.state;
            self.b.ins().return_call_indirect(self.sigs.block, code, &[state]);
        }
        self.b.switch_to_block(self.charge);
        if self.fp_used != 0
            && let Some(slots) = self.helpers.fpu
        {
            // Inline FPU code is for one mode: in any other, back to the
            // runtime (see `lower_fpu`).
            let status = self.load_state(slots.status);
            let flat = self.flat.is_some();
            let mode = self.b.ins().band_imm_s(status, crate::lower_fpu::entry_mask(flat) as i64);
            let want = crate::lower_fpu::entry_mode(self.fp_fr, flat);
            let other = self.b.ins().icmp_imm_s(IntCC::NotEqual, mode, want as i64);
            let (out, go) = self.split(other);
            self.b.set_cold_block(out);
            self.b.switch_to_block(out);
            let pc = self.iconst(self.region[0].0);
            self.b.ins().store(flags(), pc, self.state, offsets::PC);
            let r = self.iconst(ExitReason::FpuMode as u32);
            self.b.ins().return_(&[r]);
            self.b.switch_to_block(go);
            let cu1 = self.b.ins().band_imm_s(status, crate::lower_fpu::CU1 as i64);
            let cu1 = self.b.ins().icmp_imm_s(IntCC::NotEqual, cu1, 0);
            self.b.def_var(self.fp_cu1, cu1);
        }
        self.b.def_var(self.budget, self.charged);
        let load = self.read | always;
        for r in (1..34).filter(|r| load & (1 << r) != 0) {
            let v = self.b.ins().load(I32, flags(), self.state, reg_offset(r));
            self.b.def_var(self.vars[r], v);
        }
        self.fp_reload();
        let entry_body = self.region[0].2;
        self.b.ins().jump(entry_body, &[]);
    }

    fn leave_with(&mut self, reason: ExitReason, refund: i32) {
        let (r, n) = (self.iconst(reason as u32), self.iconst(refund as u32));
        self.leave(r, n);
    }

    fn iconst(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, v as i32 as i64)
    }

    // ---- exits -----------------------------------------------------------

    /// Branches on `cond` to two new (sealed) blocks: (if true, if false).
    fn split(&mut self, cond: Value) -> (Block, Block) {
        let (yes, no) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, yes, &[], no, &[]);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        (yes, no)
    }

    /// Returns `reason` after refunding `refund` unexecuted instructions.
    fn exit_with(&mut self, reason: Value, refund: i32) {
        let n = self.iconst(refund as u32);
        self.leave(reason, n);
    }

    /// Leaves to `pc` without chaining (mode may have changed).
    fn exit_jump(&mut self, pc: Value, refund: i32) {
        self.b.ins().store(flags(), pc, self.state, offsets::PC);
        self.leave_with(ExitReason::Jump, refund);
    }

    /// Gives `refund` instructions that did not retire back to the budget.
    fn refund_now(&mut self, refund: i32) {
        if refund != 0 {
            let n = self.iconst(refund as u32);
            self.add_to_budget(n);
        }
    }

    /// `budget += delta`.
    fn add_to_budget(&mut self, delta: Value) {
        let budget = self.b.use_var(self.budget);
        let budget = self.b.ins().iadd(budget, delta);
        self.b.def_var(self.budget, budget);
    }

    /// Writes the budget variable to the state.
    fn store_budget(&mut self) {
        let budget = self.b.use_var(self.budget);
        self.b.ins().store(flags(), budget, self.state, offsets::BUDGET);
    }

    /// A jump to the start of guest block `j` of this function (a tight
    /// loop, or an edge inside a region): charge the budget (checking it
    /// on a backward edge, as the entry does) and jump to its body, with
    /// no tail call and no frame setup. Registers stay in their variables.
    fn enter_block(&mut self, j: usize) {
        self.looped = true;
        let (start, n, body) = self.region[j];
        let budget = self.b.use_var(self.budget);
        let left = self.b.ins().iadd_imm_s(budget, -(n as i64));
        if j > self.unit && !self.called {
            // A forward edge: `reserve` at the last check covered it.
            self.b.def_var(self.budget, left);
            self.b.ins().jump(body, &[]);
            return;
        }
        let spent = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, budget, self.reserve[j] as i64);
        let (out, again) = self.split(spent);
        self.b.switch_to_block(out);
        let pc = self.iconst(start);
        self.b.ins().store(flags(), pc, self.state, offsets::PC);
        self.leave_with(ExitReason::Budget, 0);
        self.b.switch_to_block(again);
        self.b.def_var(self.budget, left);
        self.b.ins().jump(body, &[]);
    }

    /// The register jump (jr, jalr) to `pc`: in a region, the targets the
    /// interpreter saw it take (see [`GuestBlock::indirect_targets`]) that
    /// are blocks of the region are tested for first, most frequent first,
    /// and entered like a direct edge; anything else leaves.
    fn exit_register_jump(&mut self, pc: Value, refund: i32) {
        for t in self.indirect_targets.clone() {
            let Some(j) = self.unit_for(t) else { continue };
            let is_t = self.b.ins().icmp_imm_s(IntCC::Equal, pc, t as i64);
            let (enter, next) = self.split(is_t);
            self.b.switch_to_block(enter);
            self.refund_now(refund);
            self.enter_block(j);
            self.b.switch_to_block(next);
        }
        self.exit_indirect(pc, refund);
    }

    /// Leaves to the address `pc`: a tail call through the jump cache if it
    /// knows the target, else back to the dispatcher.
    fn exit_indirect(&mut self, pc: Value, refund: i32) {
        self.b.ins().store(flags(), pc, self.state, offsets::PC);
        self.refund_now(refund);
        let cache = self.b.ins().load(I64, flags(), self.state, offsets::JUMP_CACHE);
        // (pc >> 2) mod size, scaled by the entry size (16 = 4 << 2).
        let shift = offsets::JUMP_ENTRY_SHIFT as i64 - 2;
        let off = self.b.ins().ishl_imm_s(pc, shift);
        let off = self.b.ins().band_imm_s(off, ((1i64 << JUMP_CACHE_BITS) - 1) << offsets::JUMP_ENTRY_SHIFT);
        let off = self.b.ins().uextend(I64, off);
        let entry = self.b.ins().iadd(cache, off);
        let tag = self.b.ins().load(I64, flags(), entry, offsets::JUMP_TAG);
        let code = self.b.ins().load(I64, flags(), entry, offsets::JUMP_CODE);
        let generation = self.b.ins().load(I64, flags(), self.state, offsets::JUMP_GENERATION);
        let pc64 = self.b.ins().uextend(I64, pc);
        let want = self.b.ins().bor(generation, pc64);
        let same = self.b.ins().icmp(IntCC::Equal, tag, want);
        let known = self.b.ins().icmp_imm_s(IntCC::NotEqual, code, 0);
        let hit = self.b.ins().band(same, known);
        let (chain, miss) = self.split(hit);
        self.b.switch_to_block(chain);
        self.chain(code);
        self.b.switch_to_block(miss);
        self.leave_with(ExitReason::Jump, 0);
    }

    /// The unit of the function an edge from the block being lowered to
    /// guest address `target` enters, if it stays inside: in a region,
    /// `exec` calls store every register the region may write, so any edge
    /// between its blocks can.
    fn unit_for(&self, target: u32) -> Option<usize> {
        if self.region_writes == 0 {
            return None;
        }
        let j = self.region.iter().position(|r| r.0 == target)?;
        let from = self.slot_base / 2;
        Some(match self.redirect.iter().find(|r| r.0 == j && r.2 & 1 << from != 0) {
            Some(r) => r.1,
            None => j,
        })
    }

    /// Leaves to the constant `target` through exit slot `slot`: a tail call
    /// into the successor if the runtime has linked it, else back to the
    /// dispatcher with [`ExitReason::ChainMiss`].
    fn exit_direct(&mut self, target: u32, slot: usize, refund: i32) {
        if let Some(j) = self.unit_for(target) {
            self.refund_now(refund);
            return self.enter_block(j);
        } else if self.region_writes == 0 && target == self.start && refund == 0 && !self.exec_seen {
            return self.enter_block(0);
        }
        let mapped = |a: u32| a >> 30 != 2;
        if mapped(target) && target >> 12 != self.start >> 12 && self.flat.is_none() {
            // The runtime chains slots only where the mapping cannot
            // change under them (unmapped code, or the same page, or flat
            // user memory); for mapped code elsewhere, the jump cache, whose
            // generation changes with the guest TLB, is the fast way.
            let pc = self.iconst(target);
            return self.exit_indirect(pc, refund);
        }
        self.refund_now(refund);
        let slot_addr = self.b.ins().iconst(I64, (self.slots + 8 * (self.slot_base + slot)) as i64);
        let code = self.b.ins().load(I64, flags(), slot_addr, 0);
        let (chain, miss) = self.split(code);
        self.b.switch_to_block(chain);
        self.chain(code);
        self.b.switch_to_block(miss);
        let pc = self.iconst(target);
        self.b.ins().store(flags(), pc, self.state, offsets::PC);
        self.b.ins().store(flags(), slot_addr, self.state, offsets::EXIT_SLOT);
        let from = self.iconst(self.start);
        self.b.ins().store(flags(), from, self.state, offsets::EXIT_FROM);
        self.leave_with(ExitReason::ChainMiss, 0);
    }

    /// If `status` is not [`CONTINUE`](crate::abi::CONTINUE), return it (refunding `refund`, plus
    /// one more when the status says the instruction did not retire).
    fn exit_unless_continue(&mut self, status: Value, refund_if_retired: i32) {
        let (exit, cont) = self.split(status);
        self.b.switch_to_block(exit);
        // Jump (eret) retired the instruction; Exception and Stop did not.
        let jump = self.b.ins().icmp_imm_s(IntCC::Equal, status, ExitReason::Jump as i64);
        let (n, n1) = (self.iconst(refund_if_retired as u32), self.iconst(refund_if_retired as u32 + 1));
        let refund = self.b.ins().select(jump, n, n1);
        self.leave(status, refund);
        self.b.switch_to_block(cont);
    }

    /// Raises `code` for the instruction at `pcbd` when `cond` holds.
    fn raise_if(&mut self, cond: Value, code: u32, pcbd: u32, idx: usize) {
        let (raise, cont) = self.split(cond);
        self.b.switch_to_block(raise);
        let args = [self.state, self.iconst(code), self.iconst(pcbd)];
        let status = self.call_helper(self.helpers.raise, &args, I32);
        self.exit_with(status, self.n - idx as i32);
        self.b.switch_to_block(cont);
    }

    /// Calls the shim at `shim` and reads the helper's result (of type `ty`).
    fn call_helper(&mut self, shim: usize, args: &[Value], ty: Type) -> Value {
        let state = self.state;
        // args[0] is the state pointer, the shim's parameter.
        for (i, &a) in args.iter().enumerate().skip(1) {
            self.b.ins().store(flags(), a, state, offsets::helper_arg(i - 1));
        }
        self.around_call(|l| {
            let f = l.b.ins().iconst(I64, shim as i64);
            l.b.ins().call_indirect(l.sigs.shim, f, &[state]);
        });
        self.b.ins().load(ty, flags(), state, offsets::HELPER_RET)
    }

    /// Emits `call`, a helper call, with what every helper needs around
    /// it: `JitState::pending` and the budget stored before (they count
    /// instructions), the budget reloaded after (the helper may end the
    /// slice).
    fn around_call<T>(&mut self, call: impl FnOnce(&mut Self) -> T) -> T {
        let (pending, state) = (self.iconst(self.pending as u32), self.state);
        self.b.ins().store(flags(), pending, state, offsets::PENDING);
        self.store_budget();
        let r = call(self);
        let budget = self.load_state(offsets::BUDGET);
        self.b.def_var(self.budget, budget);
        self.called = true;
        r
    }

    fn call_exec(&mut self, insn: Insn, pcbd: u32, idx: usize) {
        self.pending = self.n - idx as i32;
        // The interpreter reads and writes registers in the state, except
        // for FPU operations on FPU registers alone.
        let gprs = !fpu_registers_only(insn.op);
        if gprs {
            self.exec_seen = true;
            self.flush(self.dirty | self.region_writes);
        }
        let status = self.exec(insn, pcbd);
        self.exit_unless_continue(status, self.n - idx as i32 - 1);
        if gprs {
            self.reload(insn);
        }
    }

    /// Calls the `exec` helper on `insn` (decoded already: the helper
    /// gets its decoding-table row too); returns its status. FPU
    /// operations on FPU registers call it directly rather than through
    /// its shim: FPU-heavy loops call it all the time, and the shim saves
    /// every host register, the 16 vector ones included, which translated
    /// code never uses; a plain call spills only the block's live values.
    /// The FPU variables are stored before and reloaded after, on every
    /// path (an FPU exception leaves its Cause in FCSR).
    fn exec(&mut self, insn: Insn, pcbd: u32) -> Value {
        let hint = frontend::decode_hint(insn.word);
        let args = [self.state, self.iconst(insn.word), self.iconst(pcbd), self.iconst(hint)];
        self.fp_flush();
        let status = if !fpu_registers_only(insn.op) {
            self.call_helper(self.helpers.exec, &args, I32)
        } else {
            self.around_call(|l| {
                let f = l.b.ins().iconst(I64, l.helpers.exec_direct as i64);
                let call = l.b.ins().call_indirect(l.sigs.exec, f, &args);
                l.b.inst_results(call)[0]
            })
        };
        self.fp_reload();
        status
    }

    // ---- the block -------------------------------------------------------

    fn lower_insns(&mut self, g: &GuestBlock) {
        let mut idx = 0;
        while idx < g.insns.len() {
            let insn = g.insns[idx];
            let pc = g.start.wrapping_add(4 * idx as u32);
            if insn.has_delay_slot() {
                self.lower_branch(g, idx, insn, pc);
                return;
            }
            self.lower_insn(insn, pc, false, idx);
            idx += 1;
        }
        let next = g.end();
        let last = g.insns.last().copied();
        if last.is_some_and(|i| i.ends_block()) {
            // Mode or translation state may have changed: back to the dispatcher.
            let pc = self.iconst(next);
            self.exit_jump(pc, 0);
        } else {
            self.exit_direct(next, 0, 0);
        }
    }

    /// A branch or jump at index `idx`, with its delay slot at `idx + 1`.
    fn lower_branch(&mut self, g: &GuestBlock, idx: usize, insn: Insn, pc: u32) {
        let slot = g.insns[idx + 1];
        let slot_pc = pc.wrapping_add(4);
        let fall = pc.wrapping_add(8);
        let zero = self.iconst(0);
        let fpu_branch = matches!(insn.op, Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl);
        // Only read the fields that are registers: in j/jal they are target
        // bits, in REGIMM `rt` is the operation, in bc1x `rs` is the
        // operation (and none of them is loaded on entry).
        let rs = if matches!(insn.op, Op::J | Op::Jal) || fpu_branch { zero } else { self.get(insn.rs()) };
        let rt = if matches!(insn.op, Op::Beq | Op::Beql | Op::Bne | Op::Bnel) { self.get(insn.rt()) } else { zero };
        let link = |l: &mut Self, r: usize| {
            let v = l.iconst(fall);
            l.set(r, v);
        };
        // (condition, or None for always; constant target, or None for register)
        let (cond, target): (Option<Value>, Option<u32>) = match insn.op {
            Op::J => (None, Some(insn.jump_target(pc))),
            Op::Jal => {
                link(self, 31);
                (None, Some(insn.jump_target(pc)))
            }
            Op::Jr => (None, None),
            Op::Jalr => {
                link(self, insn.rd());
                (None, None)
            }
            Op::Beq | Op::Beql => (Some(self.b.ins().icmp(IntCC::Equal, rs, rt)), None),
            Op::Bne | Op::Bnel => (Some(self.b.ins().icmp(IntCC::NotEqual, rs, rt)), None),
            Op::Blez | Op::Blezl => (Some(self.b.ins().icmp(IntCC::SignedLessThanOrEqual, rs, zero)), None),
            Op::Bgtz | Op::Bgtzl => (Some(self.b.ins().icmp(IntCC::SignedGreaterThan, rs, zero)), None),
            Op::Bltz | Op::Bltzl => (Some(self.b.ins().icmp(IntCC::SignedLessThan, rs, zero)), None),
            Op::Bgez | Op::Bgezl => (Some(self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, rs, zero)), None),
            Op::Bltzal | Op::Bltzall => {
                let c = self.b.ins().icmp(IntCC::SignedLessThan, rs, zero);
                link(self, 31);
                (Some(c), None)
            }
            Op::Bgezal | Op::Bgezall => {
                let c = self.b.ins().icmp(IntCC::SignedGreaterThanOrEqual, rs, zero);
                link(self, 31);
                (Some(c), None)
            }
            // bc1f/bc1t and friends: condition code from FCSR's variable,
            // or the interpreter tests it (or raises Coprocessor Unusable).
            Op::Bc1f | Op::Bc1t | Op::Bc1fl | Op::Bc1tl => {
                let c = match crate::lower_fpu::branch_condition(self, insn, pc, idx) {
                    Some(c) => c,
                    None => self.fpu_branch_condition(insn, pc, idx),
                };
                (Some(c), None)
            }
            // Not reached: `has_delay_slot` holds only for the ops above.
            _ => {
                self.call_exec(insn, pc_bd(pc, false), idx);
                let r = self.iconst(pc);
                self.exit_jump(r, 0);
                return;
            }
        };
        let target = match (insn.op, target) {
            (_, Some(t)) => Some(t),
            (Op::Jr | Op::Jalr, None) => None,
            _ => Some(insn.branch_target(pc)),
        };
        let rest = self.n - idx as i32 - 2;
        if let (Some(c), true) = (cond, insn.is_likely()) {
            // Branch-likely: the delay slot runs only when the branch is taken.
            let (taken, not_taken) = self.split(c);
            self.b.switch_to_block(not_taken);
            self.exit_direct(fall, 1, rest + 1);
            self.b.switch_to_block(taken);
            self.lower_slot(slot, slot_pc, idx + 1);
            self.exit_direct(target.unwrap_or(fall), 0, rest);
            return;
        }
        self.lower_slot(slot, slot_pc, idx + 1);
        match (cond, target) {
            (None, Some(t)) => self.exit_direct(t, 0, rest),
            (None, None) => self.exit_register_jump(rs, rest),
            (Some(c), t) => {
                let (taken, not_taken) = self.split(c);
                self.b.switch_to_block(taken);
                self.exit_direct(t.unwrap_or(fall), 0, rest);
                self.b.switch_to_block(not_taken);
                self.exit_direct(fall, 1, rest);
            }
        }
    }

    /// The condition of an FPU branch at index `idx`: the `exec` helper
    /// evaluates it (the FPU state is the runtime's) and answers
    /// [`BRANCH_TAKEN`] or [`CONTINUE`](crate::abi::CONTINUE); anything
    /// else is an exception (Coprocessor Unusable), and the block leaves
    /// with the branch not retired.
    fn fpu_branch_condition(&mut self, insn: Insn, pc: u32, idx: usize) -> Value {
        // It reads FCSR alone: no registers to flush.
        let status = self.exec(insn, pc_bd(pc, false));
        let taken = self.b.ins().icmp_imm_s(IntCC::Equal, status, BRANCH_TAKEN as i64);
        let zero = self.iconst(0);
        let exit_status = self.b.ins().select(taken, zero, status);
        self.exit_unless_continue(exit_status, self.n - idx as i32 - 1);
        taken
    }

    fn lower_slot(&mut self, slot: Insn, slot_pc: u32, idx: usize) {
        if slot.has_delay_slot() {
            // A branch in a delay slot: `exec` raises Reserved Instruction.
            self.call_exec(slot, pc_bd(slot_pc, true), idx);
        } else {
            self.lower_insn(slot, slot_pc, true, idx);
        }
    }

    /// Lowers a non-branch instruction at `pc`, index `idx` in the block.
    fn lower_insn(&mut self, i: Insn, pc: u32, bd: bool, idx: usize) {
        self.pending = self.n - idx as i32;
        let pcbd = pc_bd(pc, bd);
        crate::lower_ops::lower(self, i, pcbd, idx);
    }

    // ---- pieces used by the instruction families -------------------------

    /// The register file, for family lowerings.
    pub(crate) fn rs(&mut self, i: Insn) -> Value {
        self.get(i.rs())
    }
    pub(crate) fn rt(&mut self, i: Insn) -> Value {
        self.get(i.rt())
    }
    /// `offset(base)` of a load or store: no add for offset 0 (blocks that
    /// do not loop compile without the optimiser, which would fold it).
    pub(crate) fn address(&mut self, i: Insn) -> Value {
        let base = self.rs(i);
        match i.simm() {
            0 => base,
            off => self.b.ins().iadd_imm_s(base, off as i64),
        }
    }
    pub(crate) fn rd_value(&mut self, i: Insn) -> Value {
        self.get(i.rd())
    }
    pub(crate) fn hi(&mut self) -> Value {
        self.get(HI)
    }
    pub(crate) fn lo(&mut self) -> Value {
        self.get(LO)
    }
    pub(crate) fn set_reg(&mut self, r: usize, v: Value) {
        self.set(r, v)
    }
    pub(crate) fn set_hi(&mut self, v: Value) {
        self.set(HI, v)
    }
    pub(crate) fn set_lo(&mut self, v: Value) {
        self.set(LO, v)
    }
    pub(crate) fn ins(&mut self) -> cranelift_frontend::FuncInstBuilder<'_, 'b> {
        self.b.ins()
    }
    pub(crate) fn konst(&mut self, v: u32) -> Value {
        self.iconst(v)
    }
    /// Whether memory is flat (see [`crate::GuestConfig::flat_user_base`]).
    pub(crate) fn is_flat(&self) -> bool {
        self.flat.is_some()
    }
    pub(crate) fn is_big_endian(&self) -> bool {
        self.big_endian
    }
    pub(crate) fn raise_when(&mut self, cond: Value, code: u32, pcbd: u32, idx: usize) {
        self.raise_if(cond, code, pcbd, idx)
    }
    pub(crate) fn exec_helper(&mut self, i: Insn, pcbd: u32, idx: usize) {
        self.call_exec(i, pcbd, idx)
    }
    /// Where CP0 register `reg`/`sel` can be accessed inline, if it can
    /// here: only blocks in kseg0 and above, which run only in kernel
    /// mode, where CP0 is always usable.
    pub(crate) fn cp0_slot(&self, reg: u32, sel: u32) -> Option<crate::abi::Cp0Slot> {
        if self.start < 0x8000_0000 {
            return None;
        }
        self.helpers.cp0.iter().copied().find(|s| s.reg as u32 == reg && s.sel as u32 == sel)
    }
    /// Where UserLocal and the LL bit live, if `rdhwr $29`, `ll` and `sc`
    /// may be inlined: in flat user memory only (see [`crate::abi::UserSlots`]).
    pub(crate) fn user_slots(&self) -> Option<crate::abi::UserSlots> {
        self.flat.map(|_| self.helpers.user)
    }
    /// Whether FPU instructions may be inlined: the runtime gave the FPU
    /// state's layout and a mode to compile for.
    pub(crate) fn fpu_inline(&self) -> bool {
        self.fp_inline
    }
    /// Status.FR as inline FPU code may assume it (see `lower_fpu`).
    pub(crate) fn fpu_fr(&self) -> bool {
        self.fp_fr
    }
    /// Unless Status.CU1 (read on entry: see `lower_fpu`) is set, leaves
    /// with [`ExitReason::FpuMode`] for the interpreter to run the FPU
    /// instruction at `pcbd` (index `idx`), which raises Coprocessor
    /// Unusable: a side exit, not an `exec` call, so that values live
    /// across it need not leave their registers.
    /// (In user mode the entry checks it: see `lower_fpu::entry_mask`.)
    pub(crate) fn leave_unless_fpu_usable(&mut self, pcbd: u32, idx: usize) {
        if self.flat.is_some() {
            return;
        }
        let usable = self.b.use_var(self.fp_cu1);
        let (yes, no) = self.split(usable);
        self.b.set_cold_block(no);
        self.b.switch_to_block(no);
        self.leave_at(ExitReason::FpuMode, pcbd, idx);
        self.b.switch_to_block(yes);
    }
    /// Lowers `fast` where `cond` holds and runs `i` in the `exec` helper
    /// (a cold path) where it does not; both go on after `i`.
    pub(crate) fn fast_or_exec(&mut self, cond: Value, i: Insn, pcbd: u32, idx: usize, fast: impl FnOnce(&mut Self)) {
        let (yes, no) = self.split(cond);
        self.fast_and_exec(yes, no, i, pcbd, idx, fast);
    }
    /// [`fast_or_exec`](Self::fast_or_exec) for a fast case that is
    /// `cond` or, rarely, `second`: `second` is computed in a cold block of
    /// its own, where `cond` does not hold, off the fast path.
    pub(crate) fn fast_or_exec_either(
        &mut self,
        cond: Value,
        second: impl FnOnce(&mut Self) -> Value,
        i: Insn,
        pcbd: u32,
        idx: usize,
        fast: impl FnOnce(&mut Self),
    ) {
        let (yes, check, no) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        self.b.ins().brif(cond, yes, &[], check, &[]);
        self.b.seal_block(check);
        self.b.set_cold_block(check);
        self.b.switch_to_block(check);
        let c = second(self);
        self.b.ins().brif(c, yes, &[], no, &[]);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        self.fast_and_exec(yes, no, i, pcbd, idx, fast);
    }
    /// Fills in `yes` (sealed, empty) with `fast` and `no` with `i` run
    /// in the `exec` helper, as a cold path; both go on after `i`.
    fn fast_and_exec(&mut self, yes: Block, no: Block, i: Insn, pcbd: u32, idx: usize, fast: impl FnOnce(&mut Self)) {
        let join = self.b.create_block();
        self.b.set_cold_block(no);
        self.b.switch_to_block(no);
        self.call_exec(i, pcbd, idx);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(yes);
        fast(self);
        self.b.ins().jump(join, &[]);
        self.continue_in(join);
    }
    pub(crate) fn load_state(&mut self, offset: i32) -> Value {
        self.b.ins().load(I32, flags(), self.state, offset)
    }
    pub(crate) fn store_state(&mut self, v: Value, offset: i32) {
        self.b.ins().store(flags(), v, self.state, offset);
    }

    /// A `size`-byte load at `addr`: the soft-TLB probe inline, the helper on a miss.
    pub(crate) fn load(&mut self, addr: Value, size: u32, signed: bool, pcbd: u32, idx: usize) -> Value {
        let ty = match size {
            1 => types::I8,
            2 => types::I16,
            _ => I32,
        };
        let (miss, join, uninlined) = self.probe(addr, size, tlb::READ_TAG, idx, &|l, host| {
            let ins = l.b.ins();
            Some(match (size, signed, l.big_endian) {
                (4, _, false) => ins.load(I32, flags(), host, 0),
                (4, _, true) => {
                    let v = ins.load(I32, flags(), host, 0);
                    l.b.ins().bswap(v)
                }
                // An extending load is one `movzx`/`movsx`; a narrow load
                // and then an extend would be two instructions.
                (1, false, _) => ins.uload8(I32, flags(), host, 0),
                (1, true, _) => ins.sload8(I32, flags(), host, 0),
                (_, false, false) => ins.uload16(I32, flags(), host, 0),
                (_, true, false) => ins.sload16(I32, flags(), host, 0),
                (_, _, true) => {
                    let v = ins.load(ty, flags(), host, 0);
                    let v = l.b.ins().bswap(v);
                    if signed { l.b.ins().sextend(I32, v) } else { l.b.ins().uextend(I32, v) }
                }
            })
        });
        // miss: the helper returns value | status << 32
        self.b.switch_to_block(miss);
        if self.flat.is_some() {
            self.side_exit(pcbd, idx, join);
            return self.b.block_params(join)[0];
        }
        let kind = size | uninlined | if signed { LOAD_SIGNED } else { 0 };
        self.load_miss(addr, kind, pcbd, idx, join)
    }

    /// A load's slow path, in the `miss` block the probe made: the helper
    /// (value | status << 32), an exit unless it continued, then the value
    /// to `join`, where the load's result is.
    fn load_miss(&mut self, addr: Value, kind: u32, pcbd: u32, idx: usize, join: Block) -> Value {
        let args = [self.state, addr, self.iconst(pcbd), self.iconst(kind)];
        let r = self.call_helper(self.helpers.load, &args, I64);
        let status = self.b.ins().ushr_imm_s(r, 32);
        let status = self.b.ins().ireduce(I32, status);
        self.exit_unless_continue(status, self.n - idx as i32 - 1);
        let v = self.b.ins().ireduce(I32, r);
        self.b.ins().jump(join, &[v.into()]);
        self.continue_in(join);
        self.b.block_params(join)[0]
    }

    /// The aligned word holding `addr` (for `lwl`/`lwr`): the soft-TLB probe
    /// inline on the aligned address, the helper on a miss, which reports
    /// faults at `addr` itself, as the interpreter does.
    pub(crate) fn load_word_of(&mut self, addr: Value, pcbd: u32, idx: usize) -> Value {
        let aligned = self.b.ins().band_imm_s(addr, !3);
        let (miss, join, uninlined) = self.probe(aligned, 4, tlb::READ_TAG, idx, &|l, host| {
            let v = l.b.ins().load(I32, flags(), host, 0);
            Some(if l.big_endian { l.b.ins().bswap(v) } else { v })
        });
        self.b.switch_to_block(miss);
        if self.flat.is_some() {
            self.side_exit(pcbd, idx, join);
            return self.b.block_params(join)[0];
        }
        self.load_miss(addr, 4 | LOAD_WORD_OF | uninlined, pcbd, idx, join)
    }

    /// A `size`-byte store of `v` at `addr`.
    pub(crate) fn store(&mut self, addr: Value, v: Value, size: u32, pcbd: u32, idx: usize) {
        let (miss, join, uninlined) = self.probe(addr, size, tlb::WRITE_TAG, idx, &|l, host| {
            let mut x = match size {
                1 => l.b.ins().ireduce(types::I8, v),
                2 => l.b.ins().ireduce(types::I16, v),
                _ => v,
            };
            if l.big_endian && size > 1 {
                x = l.b.ins().bswap(x);
            }
            l.b.ins().store(flags(), x, host, 0);
            None
        });
        self.b.switch_to_block(miss);
        if self.flat.is_some() {
            return self.side_exit(pcbd, idx, join);
        }
        let args = [self.state, addr, v, self.iconst(pcbd), self.iconst(size | uninlined)];
        let status = self.call_helper(self.helpers.store, &args, I32);
        self.exit_unless_continue(status, self.n - idx as i32 - 1);
        self.b.ins().jump(join, &[]);
        self.continue_in(join);
    }

    /// The doubleword at `addr` (`ldc1` in flat user memory) as the
    /// 64-bit value of an FPR: one host access, since an aligned
    /// doubleword stays on its page. A misaligned or faulting one leaves
    /// for the interpreter, as other accesses do.
    pub(crate) fn load_double(&mut self, addr: Value, pcbd: u32, idx: usize) -> Value {
        debug_assert!(self.flat.is_some(), "flat user memory only");
        let (miss, join, _) = self.probe(addr, 8, tlb::READ_TAG, idx, &|l, host| {
            let v = l.b.ins().load(I64, flags(), host, 0);
            // Big-endian: the word at `addr` is the high one.
            Some(if l.big_endian { l.b.ins().bswap(v) } else { v })
        });
        self.b.switch_to_block(miss);
        self.side_exit(pcbd, idx, join);
        self.b.block_params(join)[0]
    }

    /// Stores `v`, the 64-bit value of an FPR, as the doubleword at `addr`
    /// (`sdc1` in flat user memory; see [`load_double`](Self::load_double)).
    pub(crate) fn store_double(&mut self, addr: Value, v: Value, pcbd: u32, idx: usize) {
        debug_assert!(self.flat.is_some(), "flat user memory only");
        let (miss, join, _) = self.probe(addr, 8, tlb::WRITE_TAG, idx, &|l, host| {
            let x = if l.big_endian { l.b.ins().bswap(v) } else { v };
            l.b.ins().store(flags(), x, host, 0);
            None
        });
        self.b.switch_to_block(miss);
        self.side_exit(pcbd, idx, join);
    }

    /// `sc`'s store of `v` at `addr`, made only if `llbit` (an I32 that is
    /// 0 or 1) is set and the word still holds `expected` (what `ll` read:
    /// other processes may share it, so this is a host compare-and-swap,
    /// as `Cpu::store_conditional`); the address is checked either way, as
    /// `sc` does. Register `rt` gets 1 if it stored, else 0. Flat user
    /// memory only (a miss leaves for the interpreter).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn store_conditional(
        &mut self,
        addr: Value,
        v: Value,
        llbit: Value,
        expected: Value,
        rt: usize,
        pcbd: u32,
        idx: usize,
    ) {
        let (miss, join, _) = self.probe(addr, 4, tlb::WRITE_TAG, idx, &|l, host| {
            let (swap, done) = (l.b.create_block(), l.b.create_block());
            l.b.append_block_param(done, I32);
            let zero = l.iconst(0);
            l.b.ins().brif(llbit, swap, &[], done, &[zero.into()]);
            l.b.seal_block(swap);
            l.b.switch_to_block(swap);
            let (e, x) = if l.big_endian { (l.b.ins().bswap(expected), l.b.ins().bswap(v)) } else { (expected, v) };
            let old = l.b.ins().atomic_cas(flags(), host, e, x);
            let same = l.b.ins().icmp(IntCC::Equal, old, e);
            let stored = l.b.ins().uextend(I32, same);
            l.b.ins().jump(done, &[stored.into()]);
            l.b.seal_block(done);
            l.b.switch_to_block(done);
            let r = l.b.block_params(done)[0];
            l.set(rt, r);
            None
        });
        self.b.switch_to_block(miss);
        self.side_exit(pcbd, idx, join);
    }

    /// Replaces the aligned word holding `addr` with `merge` of it (`swl`,
    /// `swr`). Flat user memory only: elsewhere the read could reach a
    /// device, and the interpreter does these.
    pub(crate) fn update_word_of(
        &mut self,
        addr: Value,
        pcbd: u32,
        idx: usize,
        merge: &dyn Fn(&mut Self, Value) -> Value,
    ) {
        let aligned = self.b.ins().band_imm_s(addr, !3);
        let (miss, join, _) = self.probe(aligned, 4, tlb::WRITE_TAG, idx, &|l, host| {
            let mut w = l.b.ins().load(I32, flags(), host, 0);
            if l.big_endian {
                w = l.b.ins().bswap(w);
            }
            let mut new = merge(l, w);
            if l.big_endian {
                new = l.b.ins().bswap(new);
            }
            l.b.ins().store(flags(), new, host, 0);
            None
        });
        self.b.switch_to_block(miss);
        self.side_exit(pcbd, idx, join);
    }

    /// The miss path of an access in flat user memory, where a miss means a
    /// fault or a misaligned access Linux would emulate: leave with
    /// [`ExitReason::Interpret`] for the interpreter to run it (from its
    /// branch, if it sits in a delay slot; the branch has only computed
    /// its condition and written a link register, which running it again
    /// rewrites alike). No value flows back into the block, so the fast
    /// path's registers stay where they are instead of merging with a
    /// helper's result (matmul in user mode: 1.27 -> 0.73 s). Then goes
    /// on in `join`, the access's continuation.
    fn side_exit(&mut self, pcbd: u32, idx: usize, join: Block) {
        self.leave_at(ExitReason::Interpret, pcbd, idx);
        self.continue_in(join);
    }

    /// Leaves with `reason` for the dispatcher to run the instruction at
    /// `pcbd` (index `idx`) in the interpreter, from its branch if it sits
    /// in a delay slot: nothing from there on has retired.
    fn leave_at(&mut self, reason: ExitReason, pcbd: u32, idx: usize) {
        let bd = pcbd & 1 != 0;
        let restart = (pcbd & !1).wrapping_sub(if bd { 4 } else { 0 });
        let pc = self.iconst(restart);
        self.b.ins().store(flags(), pc, self.state, offsets::PC);
        self.leave_with(reason, self.n - idx as i32 + bd as i32);
    }

    /// Goes on in `join`, an access's continuation, now that all its
    /// predecessors are known.
    fn continue_in(&mut self, join: Block) {
        self.b.seal_block(join);
        self.b.switch_to_block(join);
    }

    /// Emits the checks that let a `size`-byte access at `addr` go straight
    /// to host memory, with `access` (given the host address; returning the
    /// loaded value, for loads) on each path that does, each then jumping
    /// to `join` (which takes the loaded value as a parameter for loads).
    /// The access sits in the block that computed its address, so a
    /// constant base folds into the instruction's displacement. Returns
    /// (miss, join, [`NO_INLINE_TLB`] if the soft-TLB probe was left out,
    /// else 0); the miss block, the helper's, is left to the caller.
    /// `tag_offset` says which soft-TLB tag (read or write) the access needs;
    /// `idx` is the instruction's index in its guest block.
    fn probe(
        &mut self,
        addr: Value,
        size: u32,
        tag_offset: i32,
        idx: usize,
        access: &dyn Fn(&mut Self, Value) -> Option<Value>,
    ) -> (Block, Block, u32) {
        let (miss, join) = (self.b.create_block(), self.b.create_block());
        if tag_offset == tlb::READ_TAG {
            // A doubleword (`load_double`) comes whole.
            self.b.append_block_param(join, if size == 8 { I64 } else { I32 });
        }
        self.b.set_cold_block(miss);
        let finish = |l: &mut Self, host: Value| {
            let v = access(l, host);
            let args: Vec<BlockArg> = v.into_iter().map(Into::into).collect();
            l.b.ins().jump(join, &args);
        };
        if let Some(base) = self.flat {
            // Everything in kuseg is memory: only the segment and the
            // alignment need checking.
            let bad = self.b.ins().band_imm_s(addr, (0x8000_0000u32 | (size - 1)) as i32 as i64);
            let hit = self.b.create_block();
            self.b.ins().brif(bad, miss, &[], hit, &[]);
            self.b.seal_block(hit);
            self.b.switch_to_block(hit);
            if let Some(perms) = self.flat_perms {
                // One byte per page says what the guest may do there; an
                // aligned access stays on its page.
                let need = if tag_offset == tlb::READ_TAG { crate::abi::PAGE_READ } else { crate::abi::PAGE_WRITE };
                let page = self.b.ins().ushr_imm_s(addr, 12);
                let page = self.b.ins().uextend(I64, page);
                let table = self.b.ins().iconst(I64, perms as i64);
                let at = self.b.ins().iadd(table, page);
                let p = self.b.ins().uload8(I32, flags(), at, 0);
                let ok = self.b.ins().band_imm_s(p, need as i64);
                let allowed = self.b.create_block();
                self.b.ins().brif(ok, allowed, &[], miss, &[]);
                self.b.seal_block(allowed);
                self.b.switch_to_block(allowed);
            }
            self.b.seal_block(miss);
            let base = self.b.ins().iconst(I64, base as i64);
            let a64 = self.b.ins().uextend(I64, addr);
            let host = self.b.ins().iadd(base, a64);
            finish(self, host);
            return (miss, join, 0);
        }
        // Kernel code reaching kseg0 RAM directly (the soft-TLB path then
        // goes out of line).
        let kseg0 = self.kseg0.filter(|_| self.start >= 0x8000_0000);
        if let Some(k) = kseg0 {
            // A kernel block accessing kseg0 RAM: the segment is a fixed
            // window on physical memory, so no soft-TLB is needed. A store
            // first checks the page holds no translated code (the soft-TLB's
            // slow path finds which blocks a store into code drops). Kernel
            // code mostly reaches kseg0, so the soft-TLB path is out of line.
            let off = self.b.ins().bxor_imm_s(addr, 0x8000_0000u32 as i32 as i64);
            let bad = self.b.ins().band_imm_s(off, (!(k.len as u32 - 1) | (size - 1)) as i32 as i64);
            let (direct, tlb_path) = (self.b.create_block(), self.b.create_block());
            self.b.set_cold_block(tlb_path);
            self.b.ins().brif(bad, tlb_path, &[], direct, &[]);
            self.b.seal_block(direct);
            self.b.switch_to_block(direct);
            let off = self.b.ins().uextend(I64, off);
            if tag_offset != tlb::READ_TAG {
                let page = self.b.ins().ushr_imm_s(off, 12);
                let map = self.b.ins().iconst(I64, k.code_map as i64);
                let at = self.b.ins().iadd(map, page);
                let code = self.b.ins().uload8(I32, flags(), at, 0);
                let store = self.b.create_block();
                self.b.ins().brif(code, tlb_path, &[], store, &[]);
                self.b.seal_block(store);
                self.b.switch_to_block(store);
            }
            self.b.seal_block(tlb_path);
            let base = self.b.ins().iconst(I64, k.base as i64);
            let host = self.b.ins().iadd(base, off);
            finish(self, host);
            self.b.switch_to_block(tlb_path);
            if self.mapped_access & 1 << idx.min(63) == 0 {
                // The interpreter saw this access reach kseg0 RAM only: other
                // segments take the helper, and the function stays small
                // (quicker to compile, and to fetch).
                self.b.ins().jump(miss, &[]);
                self.b.seal_block(miss);
                return (miss, join, NO_INLINE_TLB);
            }
        }
        // Byte offset of the entry: the page number's low bits, scaled by the
        // entry size, in one shift and one mask.
        let shift = 12 - tlb::ENTRY_SHIFT as i64;
        let off = self.b.ins().ushr_imm_s(addr, shift);
        let off = self.b.ins().band_imm_s(off, ((1i64 << SOFT_TLB_BITS) - 1) << tlb::ENTRY_SHIFT);
        let off = self.b.ins().uextend(I64, off);
        // Loaded at each access rather than kept live across helper calls.
        let tlb_base = self.b.ins().load(I64, flags(), self.state, offsets::SOFT_TLB);
        let entry = self.b.ins().iadd(tlb_base, off);
        let tag = self.b.ins().load(I32, flags(), entry, tag_offset);
        let want = self.b.ins().band_imm_s(addr, (!0xfffu32 | (size - 1)) as i32 as i64);
        let hit_cond = self.b.ins().icmp(IntCC::Equal, tag, want);
        let tlb_hit = self.b.create_block();
        if kseg0.is_some() {
            self.b.set_cold_block(tlb_hit);
        }
        self.b.ins().brif(hit_cond, tlb_hit, &[], miss, &[]);
        self.b.seal_block(tlb_hit);
        self.b.seal_block(miss);
        self.b.switch_to_block(tlb_hit);
        let addend = self.b.ins().load(I64, flags(), entry, tlb::ADDEND);
        let a64 = self.b.ins().uextend(I64, addr);
        let host = self.b.ins().iadd(addend, a64);
        finish(self, host);
        (miss, join, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::inner_loop_copies;
    use frontend::{GuestBlock, scan_block};

    fn addiu(rt: u32, rs: u32, imm: i16) -> u32 {
        0x2400_0000 | rs << 21 | rt << 16 | imm as u16 as u32
    }
    fn bne(rs: u32, rt: u32, off: i16) -> u32 {
        0x1400_0000 | rs << 21 | rt << 16 | off as u16 as u32
    }

    /// `for (t0 = 4; t0; t0--) for (t1 = 5; t1; t1--) t2++;` laid out
    /// with the inner loop's head H at 0x1008, the outer loop's head A at
    /// 0x1004 (falling into H) and its tail B at 0x1018.
    fn blocks(starts: &[u32]) -> Vec<GuestBlock> {
        let (t0, t1, t2) = (8, 9, 10);
        let words = [
            addiu(t0, 0, 4),  // 0x1000
            addiu(t1, 0, 5),  // 0x1004: A
            addiu(t2, t2, 1), // 0x1008: H
            addiu(t1, t1, -1),
            bne(t1, 0, -3), // -> H
            0,
            addiu(t0, t0, -1), // 0x1018: B
            bne(t0, 0, -7),    // -> A
            0,
            0,
        ];
        let fetch = |a: u32| words.get(((a - 0x1000) / 4) as usize).copied().ok_or(());
        starts.iter().map(|&s| scan_block(s, fetch).expect("in the program")).collect()
    }

    #[test]
    fn an_inner_loop_headed_like_its_outer_loop_gets_a_copy_of_the_head() {
        // Headed at H, both loops come back to block 0: copy H for the
        // inner loop, which is H alone.
        assert_eq!(inner_loop_copies(&blocks(&[0x1008, 0x1018, 0x1004])), [(0, 0b001)]);
        // Headed at A, the loops have heads of their own: nothing to copy.
        assert!(inner_loop_copies(&blocks(&[0x1004, 0x1008, 0x1018])).is_empty());
        // One loop: nothing to nest.
        assert!(inner_loop_copies(&blocks(&[0x1008])).is_empty());
    }
}
