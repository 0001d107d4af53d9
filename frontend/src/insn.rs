//! The decoded instruction: an operation plus the raw word.
//!
//! MIPS32 keeps every operand field at a fixed bit position, so a decoded
//! instruction is just [`Op`] (found once, by the table in `decode.rs`) and
//! the word itself; operands are read with accessors named after the
//! manual's field names (`rs`, `rt`, `rd`, `sa`, `offset`, ...), the way
//! rustation does it. Executors match on `op` and read only the fields the
//! operation has.

/// One MIPS32 Release 2 operation (FPU operations included: the runtime's
/// `fpu` module executes them). Names follow the manual's mnemonics.
#[allow(missing_docs, reason = "each variant is the manual mnemonic of the same name")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Op {
    // SPECIAL: shifts
    Sll,
    Srl,
    Rotr,
    Sra,
    Sllv,
    Srlv,
    Rotrv,
    Srav,
    // SPECIAL: jumps
    Jr,
    Jalr,
    // SPECIAL: conditional moves
    Movz,
    Movn,
    /// movf/movt on an FPU condition code (SPECIAL MOVCI).
    Movci,
    // SPECIAL: system
    Syscall,
    Break,
    Sync,
    // SPECIAL: HI/LO
    Mfhi,
    Mthi,
    Mflo,
    Mtlo,
    Mult,
    Multu,
    Div,
    Divu,
    // SPECIAL: ALU
    Add,
    Addu,
    Sub,
    Subu,
    And,
    Or,
    Xor,
    Nor,
    Slt,
    Sltu,
    // SPECIAL: register traps
    Tge,
    Tgeu,
    Tlt,
    Tltu,
    Teq,
    Tne,
    // REGIMM
    Bltz,
    Bgez,
    Bltzl,
    Bgezl,
    Tgei,
    Tgeiu,
    Tlti,
    Tltiu,
    Teqi,
    Tnei,
    Bltzal,
    Bgezal,
    Bltzall,
    Bgezall,
    Synci,
    // Primary opcodes
    J,
    Jal,
    Beq,
    Bne,
    Blez,
    Bgtz,
    Addi,
    Addiu,
    Slti,
    Sltiu,
    Andi,
    Ori,
    Xori,
    Lui,
    Beql,
    Bnel,
    Blezl,
    Bgtzl,
    Lb,
    Lh,
    Lwl,
    Lw,
    Lbu,
    Lhu,
    Lwr,
    Sb,
    Sh,
    Swl,
    Sw,
    Swr,
    Cache,
    Ll,
    Pref,
    Sc,
    // SPECIAL2
    Madd,
    Maddu,
    Mul,
    Msub,
    Msubu,
    Clz,
    Clo,
    Sdbbp,
    // SPECIAL3
    Ext,
    Ins,
    Wsbh,
    Seb,
    Seh,
    Rdhwr,
    // COP0
    Mfc0,
    Mtc0,
    Rdpgpr,
    Wrpgpr,
    Di,
    Ei,
    Tlbr,
    Tlbwi,
    Tlbwr,
    Tlbp,
    Eret,
    Deret,
    Wait,
    // COP1 moves and branches
    Mfc1,
    Mfhc1,
    Cfc1,
    Mtc1,
    Mthc1,
    Ctc1,
    Bc1f,
    Bc1t,
    Bc1fl,
    Bc1tl,
    // COP1 arithmetic; the format (S, D, W, L, PS) is [`Insn::fmt`].
    FAdd,
    FSub,
    FMul,
    FDiv,
    FSqrt,
    FAbs,
    FMov,
    FNeg,
    FRoundL,
    FTruncL,
    FCeilL,
    FFloorL,
    FRoundW,
    FTruncW,
    FCeilW,
    FFloorW,
    /// movf.fmt / movt.fmt
    FMovcf,
    FMovz,
    FMovn,
    FRecip,
    FRsqrt,
    FCvtS,
    FCvtD,
    FCvtW,
    FCvtL,
    FCvtPsS,
    FCvtSPl,
    FCvtSPu,
    FPll,
    FPlu,
    FPul,
    FPuu,
    /// c.cond.fmt; the condition is [`Insn::fp_cond`].
    FCmp,
    // COP1 loads and stores
    Lwc1,
    Ldc1,
    Swc1,
    Sdc1,
    // COP1X
    Lwxc1,
    Ldxc1,
    Luxc1,
    Swxc1,
    Sdxc1,
    Suxc1,
    Prefx,
    FMadd,
    FMsub,
    FNmadd,
    FNmsub,
    FAlnvPs,
    // COP2 (absent on the 24K: Coprocessor Unusable)
    Cop2,
    Lwc2,
    Ldc2,
    Swc2,
    Sdc2,
    /// An encoding the architecture does not define: Reserved Instruction.
    Reserved,
}

/// A decoded instruction: the operation and the original word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    /// What the instruction does.
    pub op: Op,
    /// The raw instruction word, from which operand fields are read.
    pub word: u32,
}

impl Insn {
    /// Field `rs`, bits 25:21 (also `base` of loads/stores, `fmt` of COP1).
    pub const fn rs(self) -> usize {
        ((self.word >> 21) & 31) as usize
    }
    /// Field `rt`, bits 20:16.
    pub const fn rt(self) -> usize {
        ((self.word >> 16) & 31) as usize
    }
    /// Field `rd`, bits 15:11.
    pub const fn rd(self) -> usize {
        ((self.word >> 11) & 31) as usize
    }
    /// Field `sa`, bits 10:6 (also `lsb` of ext/ins).
    pub const fn sa(self) -> u32 {
        (self.word >> 6) & 31
    }
    /// Field `funct`, bits 5:0.
    pub const fn funct(self) -> u32 {
        self.word & 63
    }
    /// The 16-bit immediate sign-extended (`offset`, `immediate`).
    pub const fn simm(self) -> i32 {
        self.word as u16 as i16 as i32
    }
    /// The 16-bit immediate zero-extended (`andi`, `ori`, `xori`).
    pub const fn uimm(self) -> u32 {
        self.word & 0xffff
    }
    /// The 26-bit `instr_index` of j/jal.
    pub const fn instr_index(self) -> u32 {
        self.word & 0x03ff_ffff
    }
    /// The CP0 register select, bits 2:0 of mfc0/mtc0.
    pub const fn sel(self) -> u32 {
        self.word & 7
    }
    /// The `code` field of syscall/break (bits 25:6).
    pub const fn code20(self) -> u32 {
        (self.word >> 6) & 0xf_ffff
    }
    /// The `code` field of the register-trap instructions (bits 15:6).
    pub const fn code10(self) -> u32 {
        (self.word >> 6) & 0x3ff
    }
    /// `msbd`/`msb` field (bits 15:11) of ext/ins.
    pub const fn msb(self) -> u32 {
        (self.word >> 11) & 31
    }
    /// The hazard-barrier hint (bit 10) of jr.hb/jalr.hb.
    pub const fn hb(self) -> bool {
        self.word & (1 << 10) != 0
    }
    /// COP1 `fmt` field, bits 25:21 (16=S, 17=D, 20=W, 21=L, 22=PS).
    pub const fn fmt(self) -> u32 {
        (self.word >> 21) & 31
    }
    /// COP1 `ft`, bits 20:16.
    pub const fn ft(self) -> usize {
        self.rt()
    }
    /// COP1 `fs`, bits 15:11.
    pub const fn fs(self) -> usize {
        self.rd()
    }
    /// COP1 `fd`, bits 10:6.
    pub const fn fd(self) -> usize {
        self.sa() as usize
    }
    /// COP1X `fr`, bits 25:21.
    pub const fn fr(self) -> usize {
        self.rs()
    }
    /// FPU condition code number: bits 20:18 for bc1x/movci, 10:8 for c.cond.fmt.
    pub const fn cc(self) -> u32 {
        match self.op {
            Op::FCmp => (self.word >> 8) & 7,
            _ => (self.word >> 18) & 7,
        }
    }
    /// The condition of c.cond.fmt (bits 3:0).
    pub const fn fp_cond(self) -> u32 {
        self.word & 15
    }
    /// True (t) or false (f) sense of movci / bc1x / movcf (bit 16).
    pub const fn tf(self) -> bool {
        self.word & (1 << 16) != 0
    }

    /// Target of a PC-relative branch whose delay slot is at `pc + 4`.
    pub const fn branch_target(self, pc: u32) -> u32 {
        pc.wrapping_add(4).wrapping_add((self.simm() << 2) as u32)
    }
    /// Target of j/jal at `pc`: the 256 MB region of the delay slot.
    pub const fn jump_target(self, pc: u32) -> u32 {
        (pc.wrapping_add(4) & 0xf000_0000) | (self.instr_index() << 2)
    }

    /// For the plain loads and stores (lb/lbu/lh/lhu/lw/ll, sb/sh/sw/sc):
    /// the access size in bytes and whether a load sign-extends.
    pub const fn mem_access(self) -> Option<(u32, bool)> {
        Some(match self.op {
            Op::Lb => (1, true),
            Op::Lbu | Op::Sb => (1, false),
            Op::Lh => (2, true),
            Op::Lhu | Op::Sh => (2, false),
            Op::Lw | Op::Ll | Op::Sw | Op::Sc => (4, false),
            _ => return None,
        })
    }

    /// Whether this instruction has a delay slot (every branch and jump).
    pub const fn has_delay_slot(self) -> bool {
        matches!(
            self.op,
            Op::J
                | Op::Jal
                | Op::Jr
                | Op::Jalr
                | Op::Beq
                | Op::Bne
                | Op::Blez
                | Op::Bgtz
                | Op::Beql
                | Op::Bnel
                | Op::Blezl
                | Op::Bgtzl
                | Op::Bltz
                | Op::Bgez
                | Op::Bltzl
                | Op::Bgezl
                | Op::Bltzal
                | Op::Bgezal
                | Op::Bltzall
                | Op::Bgezall
                | Op::Bc1f
                | Op::Bc1t
                | Op::Bc1fl
                | Op::Bc1tl
        )
    }

    /// Branch-likely: the delay slot is annulled when the branch is not taken.
    pub const fn is_likely(self) -> bool {
        matches!(
            self.op,
            Op::Beql
                | Op::Bnel
                | Op::Blezl
                | Op::Bgtzl
                | Op::Bltzl
                | Op::Bgezl
                | Op::Bltzall
                | Op::Bgezall
                | Op::Bc1fl
                | Op::Bc1tl
        )
    }

    /// Whether a translated block must end after this instruction (and its
    /// delay slot, if it has one): control flow, or a change of mode or
    /// translation state that the next instruction must observe.
    pub fn ends_block(self) -> bool {
        self.has_delay_slot()
            || (self.op == Op::Mtc0 && crate::cp0::mtc0_ends_block(self.rd() as u32, self.sel()))
            || matches!(
                self.op,
                Op::Syscall
                    | Op::Break
                    | Op::Sdbbp
                    | Op::Eret
                    | Op::Deret
                    | Op::Wait
                    | Op::Di
                    | Op::Ei
                    | Op::Tlbwi
                    | Op::Tlbwr
                    | Op::Tlbr
                    | Op::Tlbp
                    | Op::Cache
                    | Op::Synci
                    | Op::Wrpgpr
                    | Op::Reserved
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_fixed_positions() {
        // lw $ra, 16($sp) = 0x8fbf0010
        let i = Insn { op: Op::Lw, word: 0x8fbf_0010 };
        assert_eq!((i.rs(), i.rt(), i.simm()), (29, 31, 16));
        // addiu $sp, $sp, -32 = 0x27bdffe0
        let i = Insn { op: Op::Addiu, word: 0x27bd_ffe0 };
        assert_eq!(i.simm(), -32);
        assert_eq!(i.uimm(), 0xffe0);
    }

    #[test]
    fn branch_and_jump_targets() {
        // beq with offset -1 branches to itself
        let i = Insn { op: Op::Beq, word: 0x1000_ffff };
        assert_eq!(i.branch_target(0x8000_0100), 0x8000_0100);
        // j 0x0400000 (index 0x100000) from the last word of a 256 MB region
        let i = Insn { op: Op::J, word: 0x0810_0000 };
        assert_eq!(i.jump_target(0x8fff_fffc), 0x9040_0000);
    }
}
