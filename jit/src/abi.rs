//! The JIT ABI: the state translated code reads and writes, the helpers it
//! calls, and the exit codes it returns. This file is its single source of
//! truth.
//!
//! # Contract
//!
//! - **Block signature:** a compiled block is a Cranelift function with the
//!   `tail` calling convention, `fn(*mut JitState) -> u32`. Host code enters
//!   through the trampoline (`enter`), a `system_v` function that calls a
//!   block; blocks continue into each other with `return_call_indirect`, so
//!   the trampoline's caller sees the first exit that is not chained.
//! - **Return value:** an [`ExitReason`] as `u32`; never transmuted.
//! - **At every exit** all of `gpr`, `hi`, `lo` and `pc` are in sync: `pc`
//!   is the next instruction to execute.
//! - **`budget`:** a block subtracts its instruction count on entry, and
//!   never makes it negative. A function checks it only on entry and on
//!   loops inside it, each check asking for room for the longest run to
//!   the next; when that is short it returns [`ExitReason::Budget`] with
//!   `pc` at the block it was about to enter, nothing of it executed, and
//!   the budget maybe still positive (the runtime interprets the rest of
//!   the slice, so slices end at the same instruction in every tier).
//!   Early exits add back what they did not execute, so after any exit
//!   the instructions retired equal the budget consumed. An instruction that
//!   raises an exception is not retired, nor is an annulled delay slot.
//! - **`soft_tlb`:** owned by the runtime's soft-MMU, never null while code
//!   runs; its contents change only inside helpers.
//! - **Helpers** are `extern "C"` functions of the runtime; their addresses
//!   are baked into code as constants. Translated code reaches them through
//!   `preserve_all` shims whose one parameter is the state pointer: it
//!   writes the other arguments to `helper_args`, and `budget` and
//!   `pending` to the state, before the call, and reads `helper_ret` and
//!   `budget` back after it. A helper that raises a guest
//!   exception sets `pc` to the vector and returns a non-zero status, which
//!   the block returns as its exit reason after fixing the budget.

use softmmu::SoftTlbEntry;
use std::mem::offset_of;

/// Guest state that translated code touches. `runtime::Cpu` embeds it as
/// its first field, so helpers can reach the whole CPU from this pointer.
#[repr(C)]
#[derive(Debug)]
pub struct JitState {
    /// General-purpose registers; `gpr[0]` is always 0 (writes are dropped).
    pub gpr: [u32; 32],
    /// Multiply/divide result, high word.
    pub hi: u32,
    /// Multiply/divide result, low word.
    pub lo: u32,
    /// Address of the next instruction to execute, valid at every exit.
    pub pc: u32,
    /// Instructions that may still retire before returning to the dispatcher.
    pub budget: i32,
    /// The soft-TLB for the current mode.
    pub soft_tlb: *const SoftTlbEntry,
    /// After [`ExitReason::ChainMiss`]: the exit slot that wants filling.
    pub exit_slot: *mut usize,
    /// The jump cache for the current mode: where indirect jumps
    /// (`jr`, `jalr`) look up their target's code without leaving
    /// translated code. Owned by the runtime, never null while code runs.
    pub jump_cache: *const JumpCacheEntry,
    /// Where a helper's result travels back to translated code (helpers are
    /// called through shims that preserve every register, and such calls
    /// have no return values).
    pub helper_ret: u64,
    /// Instructions of the running block that were charged to the budget
    /// but have not retired yet, valid during a helper call: what keeps
    /// the instruction count (and so the virtual clock) exact inside a
    /// long block. Written before each helper call.
    pub pending: i32,
    /// After [`ExitReason::ChainMiss`]: the guest address of the block
    /// whose exit slot (`exit_slot`) wants filling.
    pub exit_from: u32,
    /// The generation of the current jump cache, in bits 63:32: an entry
    /// matches only if its tag is `jump_generation | pc`. Bumping the
    /// generation empties the cache at once (a TLB write or an ASID change
    /// remaps user code).
    pub jump_generation: u64,
    /// The arguments of a helper call after the state pointer, written by
    /// translated code before it calls a helper's shim. Passing them in
    /// memory keeps the slow paths free of fixed-register constraints, which
    /// would otherwise make the register allocator spill values of the fast
    /// path around them.
    pub helper_args: [u32; 4],
}

/// log2 of the number of [`JumpCacheEntry`]s in a jump cache.
pub const JUMP_CACHE_BITS: u32 = 12;

/// One entry of the direct-mapped jump cache, indexed by `(pc >> 2)`
/// modulo its size. An entry whose `code` is 0 never matches.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JumpCacheEntry {
    /// The cache's generation (bits 63:32) and the guest PC of the block.
    pub tag: u64,
    /// Its code address, or 0.
    pub code: usize,
}

/// Index of `pc` in a jump cache.
pub const fn jump_cache_index(pc: u32) -> usize {
    ((pc >> 2) as usize) & ((1 << JUMP_CACHE_BITS) - 1)
}

impl Default for JitState {
    fn default() -> Self {
        Self {
            gpr: [0; 32],
            hi: 0,
            lo: 0,
            pc: 0,
            budget: 0,
            soft_tlb: std::ptr::null(),
            exit_slot: std::ptr::null_mut(),
            jump_cache: std::ptr::null(),
            helper_ret: 0,
            pending: 0,
            exit_from: 0,
            jump_generation: 0,
            helper_args: [0; 4],
        }
    }
}

/// Byte offsets of [`JitState`] fields, for generated code.
pub mod offsets {
    use super::*;
    /// Offset of `gpr[r]`.
    pub const fn gpr(r: usize) -> i32 {
        (offset_of!(JitState, gpr) + 4 * r) as i32
    }
    /// Offset of `hi`.
    pub const HI: i32 = offset_of!(JitState, hi) as i32;
    /// Offset of `lo`.
    pub const LO: i32 = offset_of!(JitState, lo) as i32;
    /// Offset of `pc`.
    pub const PC: i32 = offset_of!(JitState, pc) as i32;
    /// Offset of `budget`.
    pub const BUDGET: i32 = offset_of!(JitState, budget) as i32;
    /// Offset of `soft_tlb`.
    pub const SOFT_TLB: i32 = offset_of!(JitState, soft_tlb) as i32;
    /// Offset of `exit_slot`.
    pub const EXIT_SLOT: i32 = offset_of!(JitState, exit_slot) as i32;
    /// Offset of `jump_cache`.
    pub const JUMP_CACHE: i32 = offset_of!(JitState, jump_cache) as i32;
    /// Offset of `helper_ret`.
    pub const HELPER_RET: i32 = offset_of!(JitState, helper_ret) as i32;
    /// Offset of `pending`.
    pub const PENDING: i32 = offset_of!(JitState, pending) as i32;
    /// Offset of `exit_from`.
    pub const EXIT_FROM: i32 = offset_of!(JitState, exit_from) as i32;
    /// Offset of `jump_generation`.
    pub const JUMP_GENERATION: i32 = offset_of!(JitState, jump_generation) as i32;
    /// Offset of `helper_args[i]`.
    pub const fn helper_arg(i: usize) -> i32 {
        (offset_of!(JitState, helper_args) + 4 * i) as i32
    }
    /// Offset of [`JumpCacheEntry::tag`].
    pub const JUMP_TAG: i32 = offset_of!(JumpCacheEntry, tag) as i32;
    /// Offset of [`JumpCacheEntry::code`].
    pub const JUMP_CODE: i32 = offset_of!(JumpCacheEntry, code) as i32;
    /// log2 of the size of a [`JumpCacheEntry`].
    pub const JUMP_ENTRY_SHIFT: u32 = size_of::<JumpCacheEntry>().trailing_zeros();
    const _: () = assert!(size_of::<JumpCacheEntry>() == 1 << JUMP_ENTRY_SHIFT);
}

const _: () = assert!(offsets::gpr(0) == 0 && offsets::gpr(31) == 124 && offsets::PC == 136);

/// Why a block (or a chain of blocks) returned to the dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitReason {
    /// Control left normally (indirect jump, mode change, block end): `pc` is next.
    Jump = 1,
    /// A guest exception was taken: `pc` is its vector.
    Exception = 2,
    /// A direct exit whose slot is empty: `pc` is the target, `exit_slot` the slot.
    ChainMiss = 3,
    /// The budget ran out before the block at `pc` started.
    Budget = 4,
    /// A helper asked the dispatcher to stop (a device action, `wait`, ...).
    Stop = 5,
    /// User-mode code reached a load or store its fast path does not cover
    /// (misaligned, or outside kuseg): `pc` is that instruction, or its
    /// branch if it sits in a delay slot, nothing from there on retired,
    /// and the dispatcher runs the block from `pc` in the interpreter once
    /// (which raises the exception, or emulates the access as Linux does).
    Interpret = 6,
    /// Translated code faulted on guest memory the host protects (user
    /// mode; see [`crate::catch_guest_faults`]): [`crate::take_guest_fault`]
    /// says where.
    /// Not precise: the guest state is that of an earlier exit.
    HostFault = 7,
    /// Inline FPU code met a Status it does not handle: Status.CU1 clear
    /// at an FPU instruction (`pc` is that instruction, or its branch, and
    /// nothing from there on retired), or, on entry, another Status.FR
    /// than the function was compiled for (`GuestBlock::fpu_mode`), or in
    /// user mode CU1 clear (`pc` is its start). The dispatcher runs the block from `pc` in the
    /// interpreter (which raises Coprocessor Unusable), and in the second
    /// case has it translated again.
    FpuMode = 8,
}

impl TryFrom<u32> for ExitReason {
    type Error = u32;
    fn try_from(v: u32) -> Result<Self, u32> {
        Ok(match v {
            1 => Self::Jump,
            2 => Self::Exception,
            3 => Self::ChainMiss,
            4 => Self::Budget,
            5 => Self::Stop,
            6 => Self::Interpret,
            7 => Self::HostFault,
            8 => Self::FpuMode,
            _ => return Err(v),
        })
    }
}

/// Status a helper returns when the block may go on (any other value is an
/// [`ExitReason`] to return).
pub const CONTINUE: u32 = 0;

/// A guest page's permission bit in [`crate::GuestConfig::flat_user_perms`]:
/// loads may use it.
pub const PAGE_READ: u8 = 1;
/// Stores may use the page (see [`PAGE_READ`]).
pub const PAGE_WRITE: u8 = 2;

/// Status the `exec` helper returns for a taken FPU branch (`bc1t`,
/// `bc1f`, ...: their condition lives in the runtime's FPU state, so the
/// interpreter evaluates it). The block goes on with the delay slot either
/// way; [`CONTINUE`] means not taken.
pub const BRANCH_TAKEN: u32 = 0x100;

/// `kind` argument of [`Helpers::load`]: size in bytes, plus this flag to
/// sign-extend.
pub const LOAD_SIGNED: u32 = 0x100;

/// `kind` flag of [`Helpers::load`]: load the aligned word that holds
/// `addr` (for `lwl`/`lwr`); a fault still reports `addr` in BadVAddr.
pub const LOAD_WORD_OF: u32 = 0x200;

/// Flag in the `kind` of [`Helpers::load`] and the `size` of
/// [`Helpers::store`]: the access has no soft-TLB probe inline (the
/// interpreter's profile saw it reach kseg0 RAM only). A helper that sees
/// such accesses reach mapped memory often has the block translated again
/// from a new profile.
pub const NO_INLINE_TLB: u32 = 0x400;

/// The guest PC of an instruction, with bit 0 set when it sits in a branch
/// delay slot: what helpers need to make an exception precise (EPC is the
/// branch and Cause.BD is set for a delay slot).
pub const fn pc_bd(pc: u32, delay_slot: bool) -> u32 {
    pc | delay_slot as u32
}

/// Slow paths that translated code calls, filled in by the runtime so that
/// `jit` never depends on it.
#[derive(Clone, Copy, Debug)]
pub struct Helpers {
    /// Loads after a soft-TLB miss: `(state, addr, pc_bd, kind) -> value`;
    /// the value is zero- or sign-extended to 32 bits; bits 63:32 hold a
    /// status ([`CONTINUE`] or an exit reason).
    pub load: unsafe extern "C" fn(*mut JitState, u32, u32, u32) -> u64,
    /// Stores after a soft-TLB miss: `(state, addr, value, pc_bd, size) -> status`.
    pub store: unsafe extern "C" fn(*mut JitState, u32, u32, u32, u32) -> u32,
    /// Interprets one instruction: `(state, word, pc_bd, hint) -> status`,
    /// `hint` being `frontend::decode_hint(word)`. Used for
    /// the rare and privileged ones. On [`CONTINUE`] the block goes on with the
    /// next instruction (the helper leaves `pc` alone); otherwise it has set `pc`.
    /// For an FPU branch outside a delay slot, [`BRANCH_TAKEN`] and
    /// [`CONTINUE`] give its outcome.
    pub exec: unsafe extern "C" fn(*mut JitState, u32, u32, u32) -> u32,
    /// Raises exception `exccode` for the instruction at `pc_bd`: `(state, exccode, pc_bd) -> status`.
    pub raise: unsafe extern "C" fn(*mut JitState, u32, u32) -> u32,
    /// CP0 registers that kernel-mode code reads and writes inline (see
    /// `frontend::cp0` for which and why).
    pub cp0: &'static [Cp0Slot],
    /// Where the FPU state lives, for inline FPU moves, loads and stores;
    /// `None`: every FPU instruction goes to `exec`.
    pub fpu: Option<FpuSlots>,
    /// Where user-mode emulation keeps UserLocal and the LL bit, for
    /// inline `rdhwr $29`, `ll` and `sc` in flat user memory.
    pub user: UserSlots,
}

/// Where the runtime's CPU state keeps what inline user-mode code needs
/// besides registers (byte offsets from the `*mut JitState`). Used only
/// with [`GuestConfig::flat_user_base`](crate::GuestConfig::flat_user_base):
/// there the emulated kernel has enabled `rdhwr $29` (HWREna bit 29 and
/// Config3.ULRI) for good, and memory is plain RAM, so `sc` never reaches
/// a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserSlots {
    /// The UserLocal register (a `u32`): the thread pointer.
    pub user_local: i32,
    /// The LL bit (a `bool`): set by `ll`, cleared by `sc`, exceptions and `eret`.
    pub llbit: i32,
    /// The word the last `ll` read (a `u32`): `sc` swaps only if memory
    /// still holds it, since other processes may share the word.
    pub llval: i32,
}

/// The biased exponents, `[low, top)`, of the results the FPU's fast path
/// takes for add, sub, mul, div (and sqrt), single then double; a
/// double dividend or square-root operand must not be below `low`
/// either. Below, tininess rules and error terms that could underflow;
/// the top binade holds the Overflow edge. The runtime's FPU takes
/// exactly this case on the host (with round to nearest, no exception
/// enabled, operands normal or zero), the JIT's inline arithmetic too
/// (but takes sums and products of any operands: see `lower_fpu`).
pub const FP_FAST_EXPONENTS: [(u32, u32); 2] = [(2, 254), (124, 2046)];

/// Where the FPU registers and CP0 Status live in the runtime's CPU state
/// (byte offsets from the `*mut JitState`). A function with inline FPU
/// code reads Status.CU1 and checks Status.FR (where FR=0 doubles are
/// pairs) on entry (see `lower_fpu` and [`ExitReason::FpuMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpuSlots {
    /// The 32 FPRs, `[u64; 32]` in host byte order; a single or word is
    /// the low half of its register.
    pub fpr: i32,
    /// CP0 Status (a `u32`).
    pub status: i32,
    /// FCSR (a `u32`): its layout is the architecture's.
    pub fcsr: i32,
}

/// Where a CP0 register lives in the runtime's CPU state, for inline
/// `mfc0`/`mtc0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cp0Slot {
    /// Register number.
    pub reg: u8,
    /// Select.
    pub sel: u8,
    /// Byte offset from the `*mut JitState` (the runtime's CPU struct
    /// starts with it, and the register lives further on).
    pub offset: i32,
    /// Bits a `mtc0` changes; the rest keep their value.
    pub write_mask: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        assert_eq!(offsets::gpr(5), 20);
        assert_eq!((offsets::HI, offsets::LO, offsets::PC, offsets::BUDGET), (128, 132, 136, 140));
        assert_eq!((offsets::SOFT_TLB, offsets::EXIT_SLOT, offsets::JUMP_CACHE), (144, 152, 160));
        assert_eq!((offsets::HELPER_RET, offsets::PENDING, offsets::EXIT_FROM), (168, 176, 180));
        assert_eq!((offsets::JUMP_TAG, offsets::JUMP_CODE, offsets::JUMP_ENTRY_SHIFT), (0, 8, 4));
        assert_eq!(offsets::JUMP_GENERATION, 184);
    }

    #[test]
    fn exit_reasons_round_trip() {
        use ExitReason::*;
        for r in [Jump, Exception, ChainMiss, Budget, Stop, Interpret] {
            assert_eq!(ExitReason::try_from(r as u32), Ok(r));
        }
        assert_eq!(ExitReason::try_from(0), Err(0));
    }
}
