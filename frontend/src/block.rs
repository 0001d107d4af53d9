//! Guest basic-block discovery.

use crate::decode::decode;
use crate::insn::Insn;

/// The most instructions one block holds (a branch's delay slot may add one).
pub const MAX_BLOCK_INSNS: usize = 64;

/// Instructions a block holds without a heap allocation: most blocks.
pub const INLINE_INSNS: usize = 6;

/// The instructions of a block: inline when there are few, so that the
/// interpreter finds them next to the rest of the block's metadata instead
/// of in another cache line far away.
pub type Insns = smallvec::SmallVec<[Insn; INLINE_INSNS]>;

/// [`GuestBlock::fpu_mode`] for code that assumes no FPU mode: its FPU
/// instructions run in the interpreter.
pub const FPU_MODE_ANY: u32 = u32::MAX;

/// A guest basic block: instructions from `start`, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestBlock {
    /// Guest virtual address of the first instruction.
    pub start: u32,
    /// The decoded instructions; a branch is always followed by its delay slot
    /// unless the slot would cross a page (see [`scan_block`]).
    pub insns: Insns,
    /// A profile for the translator: bit `i` (63 for all from 63 on) set
    /// when instruction `i` accessed memory outside kseg0 RAM while
    /// interpreted. Kernel code gets the soft-TLB probe inline only for
    /// those; the rest reach other segments through the slow path. All
    /// set (no profile) unless the runtime fills it in.
    pub mapped_access: u64,
    /// A profile for the translator: where the block's register jump
    /// (`jr`, `jalr`) went while interpreted, most frequent first. A
    /// region takes those on its page in, and the jump tests for them
    /// before the jump cache. Empty unless the runtime fills it in.
    pub indirect_targets: Vec<u32>,
    /// For the translator: Status.FR (the other bits clear) as inline FPU
    /// code may assume it, checked on the function's entry (with the
    /// other FR the block goes back to the runtime, see
    /// `jit::ExitReason::FpuMode`); or [`FPU_MODE_ANY`], the default, for
    /// no inline FPU code.
    pub fpu_mode: u32,
}

impl GuestBlock {
    /// Guest address just past the last instruction.
    pub fn end(&self) -> u32 {
        self.start.wrapping_add(4 * self.insns.len() as u32)
    }

    /// Whether the block ends in a register jump (`jr`, `jalr`) with its
    /// delay slot: the jumps [`indirect_targets`](Self::indirect_targets)
    /// profiles.
    pub fn ends_in_register_jump(&self) -> bool {
        let n = self.insns.len();
        n >= 2 && matches!(self.insns[n - 2].op, crate::Op::Jr | crate::Op::Jalr) && !self.insns[n - 1].has_delay_slot()
    }

    /// Where control can go after the block, as far as its code says
    /// without running it: the target of a branch or jump with a constant
    /// target, and the fall-through. None for register jumps, for a block
    /// that ends on an instruction returning to the dispatcher (`syscall`,
    /// `eret`, some `mtc0`), or for a branch whose delay slot was left out.
    pub fn successors(&self) -> [Option<u32>; 2] {
        use crate::Op;
        let n = self.insns.len();
        let last = match self.insns.last() {
            Some(&i) => i,
            None => return [None, None],
        };
        if !last.has_delay_slot() && n >= 2 && self.insns[n - 2].has_delay_slot() {
            let (branch, pc) = (self.insns[n - 2], self.start.wrapping_add(4 * (n as u32 - 2)));
            let fall = pc.wrapping_add(8);
            return match branch.op {
                Op::J | Op::Jal => [Some(branch.jump_target(pc)), None],
                Op::Jr | Op::Jalr => [None, None],
                _ => [Some(branch.branch_target(pc)), Some(fall)],
            };
        }
        if last.has_delay_slot() || last.ends_block() {
            return [None, None];
        }
        [Some(self.end()), None]
    }
}

/// Scans the block at `start`, fetching words with `fetch`.
///
/// The block ends after a branch and its delay slot, after an instruction
/// that [`Insn::ends_block`], at the end of the 4 KiB page, or at
/// [`MAX_BLOCK_INSNS`]. A delay slot on the next page is left out: the
/// executor fetches it separately, so a fault on that page is raised with
/// the right EPC and Cause.BD. `fetch` returning `Err` ends the block
/// before that word; if the first fetch fails the error is returned, so
/// the caller raises the instruction-fetch exception.
pub fn scan_block<E>(start: u32, mut fetch: impl FnMut(u32) -> Result<u32, E>) -> Result<GuestBlock, E> {
    let mut insns = Insns::new();
    let mut pc = start;
    loop {
        let word = match fetch(pc) {
            Ok(w) => w,
            Err(e) if insns.is_empty() => return Err(e),
            Err(_) => break,
        };
        let insn = decode(word);
        insns.push(insn);
        pc = pc.wrapping_add(4);
        if insn.has_delay_slot() {
            if pc & 0xfff != 0
                && let Ok(w) = fetch(pc)
            {
                insns.push(decode(w));
            }
            break;
        }
        if insn.ends_block() || pc & 0xfff == 0 || insns.len() >= MAX_BLOCK_INSNS {
            break;
        }
    }
    Ok(GuestBlock { start, insns, mapped_access: u64::MAX, indirect_targets: Vec::new(), fpu_mode: FPU_MODE_ANY })
}
