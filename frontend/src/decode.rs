//! The table-driven MIPS32 Release 2 decoder.
//!
//! Every encoding is one [`Row`] of [`TABLE`]: a 32-character bit pattern in
//! decodetree/Dynarmic notation (`0`/`1` are fixed bits, lower-case letters
//! are operand fields, spaces are ignored), the [`Op`] it decodes to, the
//! mnemonic objdump prints and how objdump prints its operands. Patterns are
//! parsed by a `const fn` while `TABLE` is evaluated, so a malformed row is a
//! compile error, and so is a table whose rows are not grouped by primary
//! opcode (the 64-bucket index [`BUCKETS`] is built from that grouping, also
//! at compile time).
//!
//! Within a bucket the first matching row wins, so the most specific rows
//! come first: objdump's aliases (`nop`, `move`, `b`, `li`, ...) precede the
//! rows they specialise and decode to the same [`Op`]. Fields the manual says
//! must be zero are fixed `0` bits, so a word with them set matches no row
//! and decodes to [`Op::Reserved`]; where the manual merely calls a result
//! UNPREDICTABLE (`ins` with `msb < lsb`, `clz` with `rt != rd`) we decode
//! the word, as objdump does. Catch-all rows at the end of the coprocessor
//! groups make undefined operations print as objdump prints them: `c0` and
//! `c1` decode to [`Op::Reserved`], while every COP2 word (`c2`, and `.word`
//! for the encodings objdump does not know) decodes to [`Op::Cop2`], since
//! hardware without COP2 raises Coprocessor Unusable for the whole opcode.

use crate::disasm::Operands as O;
use crate::insn::{Insn, Op};

/// One encoding: its bit pattern, what it decodes to and how it prints.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row {
    /// The mnemonic as objdump prints it; `c.cond.*` rows have the
    /// condition filled in from the word when printed.
    pub(crate) name: &'static str,
    /// The operation words matching this row decode to.
    pub(crate) op: Op,
    /// The bits the pattern fixes.
    pub(crate) mask: u32,
    /// The values of the fixed bits (zero outside `mask`).
    pub(crate) bits: u32,
    /// How the operands print.
    pub(crate) operands: O,
}

impl Row {
    /// Whether `word` is an instance of this row's pattern.
    pub(crate) const fn matches(&self, word: u32) -> bool {
        word & self.mask == self.bits
    }
}

/// Parses a pattern into `(mask, bits)`; panics (a compile error, since it
/// runs while `TABLE` is evaluated) unless it has exactly 32 bit characters
/// and fixes the primary opcode.
const fn parse(pattern: &str) -> (u32, u32) {
    let chars = pattern.as_bytes();
    let (mut i, mut n, mut mask, mut bits) = (0, 0, 0u32, 0u32);
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == b' ' {
            continue;
        }
        assert!(n < 32, "pattern has more than 32 bits");
        let bit = 1u32 << (31 - n);
        match c {
            b'0' => mask |= bit,
            b'1' => {
                mask |= bit;
                bits |= bit;
            }
            b'a'..=b'z' => {}
            _ => panic!("pattern characters are 0, 1, lower-case field letters and spaces"),
        }
        n += 1;
    }
    assert!(n == 32, "pattern has fewer than 32 bits");
    // The bucket index assumes every row fixes bits 31:26.
    assert!(mask >> 26 == 0x3f, "pattern must fix the primary opcode");
    (mask, bits)
}

/// Builds a row; see [`parse`] for what makes a pattern malformed.
const fn row(name: &'static str, pattern: &str, op: Op, operands: O) -> Row {
    let (mask, bits) = parse(pattern);
    Row { name, op, mask, bits, operands }
}

/// The MIPS32r2 encoding table: grouped by primary opcode, most specific
/// rows first within a group. Operand field letters follow the manual:
/// `s t d` GPRs, `f` FPRs (`r` for COP1X `fr`), `a` shift amount, `i`
/// immediate or offset, `b`/`x` base and index, `c` code, select, condition
/// or coprocessor operation, `h` hint, `l`/`m` lsb/msb(d), `n` FPU condition
/// code, `j` jump target.
#[rustfmt::skip] // One row per line, columns aligned: the table reads like the opcode map.
pub(crate) static TABLE: &[Row] = &[
    // SPECIAL. The no-operand sll forms are objdump's aliases.
    row("nop",          "000000 00000 00000 00000 00000 000000",   Op::Sll,      O::Nothing),
    row("ssnop",        "000000 00000 00000 00000 00001 000000",   Op::Sll,      O::Nothing),
    row("ehb",          "000000 00000 00000 00000 00011 000000",   Op::Sll,      O::Nothing),
    row("pause",        "000000 00000 00000 00000 00101 000000",   Op::Sll,      O::Nothing),
    row("sll",          "000000 00000 ttttt ddddd aaaaa 000000",   Op::Sll,      O::RdRtSa),
    row("movf",         "000000 sssss nnn00 ddddd 00000 000001",   Op::Movci,    O::RdRsCc),
    row("movt",         "000000 sssss nnn01 ddddd 00000 000001",   Op::Movci,    O::RdRsCc),
    row("srl",          "000000 00000 ttttt ddddd aaaaa 000010",   Op::Srl,      O::RdRtSa),
    row("ror",          "000000 00001 ttttt ddddd aaaaa 000010",   Op::Rotr,     O::RdRtSa),
    row("sra",          "000000 00000 ttttt ddddd aaaaa 000011",   Op::Sra,      O::RdRtSa),
    row("sllv",         "000000 sssss ttttt ddddd 00000 000100",   Op::Sllv,     O::RdRtRs),
    row("srlv",         "000000 sssss ttttt ddddd 00000 000110",   Op::Srlv,     O::RdRtRs),
    row("rorv",         "000000 sssss ttttt ddddd 00001 000110",   Op::Rotrv,    O::RdRtRs),
    row("srav",         "000000 sssss ttttt ddddd 00000 000111",   Op::Srav,     O::RdRtRs),
    row("jr",           "000000 sssss 00000 00000 00000 001000",   Op::Jr,       O::Rs),
    row("jr.hb",        "000000 sssss 00000 00000 10000 001000",   Op::Jr,       O::Rs),
    row("jalr",         "000000 sssss 00000 11111 00000 001001",   Op::Jalr,     O::Rs),
    row("jalr",         "000000 sssss 00000 ddddd 00000 001001",   Op::Jalr,     O::RdRs),
    row("jalr.hb",      "000000 sssss 00000 11111 10000 001001",   Op::Jalr,     O::Rs),
    row("jalr.hb",      "000000 sssss 00000 ddddd 10000 001001",   Op::Jalr,     O::RdRs),
    row("movz",         "000000 sssss ttttt ddddd 00000 001010",   Op::Movz,     O::RdRsRt),
    row("movn",         "000000 sssss ttttt ddddd 00000 001011",   Op::Movn,     O::RdRsRt),
    row("syscall",      "000000 00000 00000 00000 00000 001100",   Op::Syscall,  O::Nothing),
    row("syscall",      "000000 ccccc ccccc ccccc ccccc 001100",   Op::Syscall,  O::Code20),
    row("break",        "000000 00000 00000 00000 00000 001101",   Op::Break,    O::Nothing),
    row("break",        "000000 ccccc ccccc ccccc ccccc 001101",   Op::Break,    O::BreakCode),
    row("sync",         "000000 00000 00000 00000 00000 001111",   Op::Sync,     O::Nothing),
    row("sync_wmb",     "000000 00000 00000 00000 00100 001111",   Op::Sync,     O::Nothing),
    row("sync_mb",      "000000 00000 00000 00000 10000 001111",   Op::Sync,     O::Nothing),
    row("sync_acquire", "000000 00000 00000 00000 10001 001111",   Op::Sync,     O::Nothing),
    row("sync_release", "000000 00000 00000 00000 10010 001111",   Op::Sync,     O::Nothing),
    row("sync_rmb",     "000000 00000 00000 00000 10011 001111",   Op::Sync,     O::Nothing),
    row("sync",         "000000 00000 00000 00000 ccccc 001111",   Op::Sync,     O::Stype),
    row("mfhi",         "000000 00000 00000 ddddd 00000 010000",   Op::Mfhi,     O::Rd),
    row("mthi",         "000000 sssss 00000 00000 00000 010001",   Op::Mthi,     O::Rs),
    row("mflo",         "000000 00000 00000 ddddd 00000 010010",   Op::Mflo,     O::Rd),
    row("mtlo",         "000000 sssss 00000 00000 00000 010011",   Op::Mtlo,     O::Rs),
    row("mult",         "000000 sssss ttttt 00000 00000 011000",   Op::Mult,     O::RsRt),
    row("multu",        "000000 sssss ttttt 00000 00000 011001",   Op::Multu,    O::RsRt),
    row("div",          "000000 sssss ttttt 00000 00000 011010",   Op::Div,      O::ZeroRsRt),
    row("divu",         "000000 sssss ttttt 00000 00000 011011",   Op::Divu,     O::ZeroRsRt),
    row("neg",          "000000 00000 ttttt ddddd 00000 100010",   Op::Sub,      O::RdRt),
    row("negu",         "000000 00000 ttttt ddddd 00000 100011",   Op::Subu,     O::RdRt),
    row("move",         "000000 sssss 00000 ddddd 00000 100001",   Op::Addu,     O::RdRs),
    row("move",         "000000 sssss 00000 ddddd 00000 100101",   Op::Or,       O::RdRs),
    row("add",          "000000 sssss ttttt ddddd 00000 100000",   Op::Add,      O::RdRsRt),
    row("addu",         "000000 sssss ttttt ddddd 00000 100001",   Op::Addu,     O::RdRsRt),
    row("sub",          "000000 sssss ttttt ddddd 00000 100010",   Op::Sub,      O::RdRsRt),
    row("subu",         "000000 sssss ttttt ddddd 00000 100011",   Op::Subu,     O::RdRsRt),
    row("and",          "000000 sssss ttttt ddddd 00000 100100",   Op::And,      O::RdRsRt),
    row("or",           "000000 sssss ttttt ddddd 00000 100101",   Op::Or,       O::RdRsRt),
    row("xor",          "000000 sssss ttttt ddddd 00000 100110",   Op::Xor,      O::RdRsRt),
    row("nor",          "000000 sssss ttttt ddddd 00000 100111",   Op::Nor,      O::RdRsRt),
    row("slt",          "000000 sssss ttttt ddddd 00000 101010",   Op::Slt,      O::RdRsRt),
    row("sltu",         "000000 sssss ttttt ddddd 00000 101011",   Op::Sltu,     O::RdRsRt),
    row("tge",          "000000 sssss ttttt ccccc ccccc 110000",   Op::Tge,      O::RsRtCode),
    row("tgeu",         "000000 sssss ttttt ccccc ccccc 110001",   Op::Tgeu,     O::RsRtCode),
    row("tlt",          "000000 sssss ttttt ccccc ccccc 110010",   Op::Tlt,      O::RsRtCode),
    row("tltu",         "000000 sssss ttttt ccccc ccccc 110011",   Op::Tltu,     O::RsRtCode),
    row("teq",          "000000 sssss ttttt ccccc ccccc 110100",   Op::Teq,      O::RsRtCode),
    row("tne",          "000000 sssss ttttt ccccc ccccc 110110",   Op::Tne,      O::RsRtCode),
    // REGIMM. `b` and `bal` are bgez/bgezal on $zero.
    row("bltz",         "000001 sssss 00000 iiiiiiiiiiiiiiii",     Op::Bltz,     O::RsBranch),
    row("b",            "000001 00000 00001 iiiiiiiiiiiiiiii",     Op::Bgez,     O::Branch),
    row("bgez",         "000001 sssss 00001 iiiiiiiiiiiiiiii",     Op::Bgez,     O::RsBranch),
    row("bltzl",        "000001 sssss 00010 iiiiiiiiiiiiiiii",     Op::Bltzl,    O::RsBranch),
    row("bgezl",        "000001 sssss 00011 iiiiiiiiiiiiiiii",     Op::Bgezl,    O::RsBranch),
    row("tgei",         "000001 sssss 01000 iiiiiiiiiiiiiiii",     Op::Tgei,     O::RsSimm),
    row("tgeiu",        "000001 sssss 01001 iiiiiiiiiiiiiiii",     Op::Tgeiu,    O::RsSimm),
    row("tlti",         "000001 sssss 01010 iiiiiiiiiiiiiiii",     Op::Tlti,     O::RsSimm),
    row("tltiu",        "000001 sssss 01011 iiiiiiiiiiiiiiii",     Op::Tltiu,    O::RsSimm),
    row("teqi",         "000001 sssss 01100 iiiiiiiiiiiiiiii",     Op::Teqi,     O::RsSimm),
    row("tnei",         "000001 sssss 01110 iiiiiiiiiiiiiiii",     Op::Tnei,     O::RsSimm),
    row("bltzal",       "000001 sssss 10000 iiiiiiiiiiiiiiii",     Op::Bltzal,   O::RsBranch),
    row("bal",          "000001 00000 10001 iiiiiiiiiiiiiiii",     Op::Bgezal,   O::Branch),
    row("bgezal",       "000001 sssss 10001 iiiiiiiiiiiiiiii",     Op::Bgezal,   O::RsBranch),
    row("bltzall",      "000001 sssss 10010 iiiiiiiiiiiiiiii",     Op::Bltzall,  O::RsBranch),
    row("bgezall",      "000001 sssss 10011 iiiiiiiiiiiiiiii",     Op::Bgezall,  O::RsBranch),
    row("synci",        "000001 bbbbb 11111 iiiiiiiiiiiiiiii",     Op::Synci,    O::OffBase),
    // Jumps and branches.
    row("j",            "000010 jjjjjjjjjjjjjjjjjjjjjjjjjj",       Op::J,        O::Jump),
    row("jal",          "000011 jjjjjjjjjjjjjjjjjjjjjjjjjj",       Op::Jal,      O::Jump),
    row("b",            "000100 00000 00000 iiiiiiiiiiiiiiii",     Op::Beq,      O::Branch),
    row("beqz",         "000100 sssss 00000 iiiiiiiiiiiiiiii",     Op::Beq,      O::RsBranch),
    row("beq",          "000100 sssss ttttt iiiiiiiiiiiiiiii",     Op::Beq,      O::RsRtBranch),
    row("bnez",         "000101 sssss 00000 iiiiiiiiiiiiiiii",     Op::Bne,      O::RsBranch),
    row("bne",          "000101 sssss ttttt iiiiiiiiiiiiiiii",     Op::Bne,      O::RsRtBranch),
    row("blez",         "000110 sssss 00000 iiiiiiiiiiiiiiii",     Op::Blez,     O::RsBranch),
    row("bgtz",         "000111 sssss 00000 iiiiiiiiiiiiiiii",     Op::Bgtz,     O::RsBranch),
    // Immediate ALU. `li` is addiu/ori from $zero.
    row("addi",         "001000 sssss ttttt iiiiiiiiiiiiiiii",     Op::Addi,     O::RtRsSimm),
    row("li",           "001001 00000 ttttt iiiiiiiiiiiiiiii",     Op::Addiu,    O::RtSimm),
    row("addiu",        "001001 sssss ttttt iiiiiiiiiiiiiiii",     Op::Addiu,    O::RtRsSimm),
    row("slti",         "001010 sssss ttttt iiiiiiiiiiiiiiii",     Op::Slti,     O::RtRsSimm),
    row("sltiu",        "001011 sssss ttttt iiiiiiiiiiiiiiii",     Op::Sltiu,    O::RtRsSimm),
    row("andi",         "001100 sssss ttttt iiiiiiiiiiiiiiii",     Op::Andi,     O::RtRsUimm),
    row("li",           "001101 00000 ttttt iiiiiiiiiiiiiiii",     Op::Ori,      O::RtUimm),
    row("ori",          "001101 sssss ttttt iiiiiiiiiiiiiiii",     Op::Ori,      O::RtRsUimm),
    row("xori",         "001110 sssss ttttt iiiiiiiiiiiiiiii",     Op::Xori,     O::RtRsUimm),
    row("lui",          "001111 00000 ttttt iiiiiiiiiiiiiiii",     Op::Lui,      O::RtUimm),
    // COP0. `c0` catches the undefined CO-bit operations, as objdump does.
    row("mfc0",         "010000 00000 ttttt ddddd 00000000 ccc",   Op::Mfc0,     O::RtCp0),
    row("mtc0",         "010000 00100 ttttt ddddd 00000000 ccc",   Op::Mtc0,     O::RtCp0),
    row("rdpgpr",       "010000 01010 ttttt ddddd 00000 000000",   Op::Rdpgpr,   O::RdRt),
    row("di",           "010000 01011 00000 01100 00000 000000",   Op::Di,       O::Nothing),
    row("di",           "010000 01011 ttttt 01100 00000 000000",   Op::Di,       O::Rt),
    row("ei",           "010000 01011 00000 01100 00000 100000",   Op::Ei,       O::Nothing),
    row("ei",           "010000 01011 ttttt 01100 00000 100000",   Op::Ei,       O::Rt),
    row("wrpgpr",       "010000 01110 ttttt ddddd 00000 000000",   Op::Wrpgpr,   O::RdRt),
    row("tlbr",         "010000 1 0000000000000000000 000001",     Op::Tlbr,     O::Nothing),
    row("tlbwi",        "010000 1 0000000000000000000 000010",     Op::Tlbwi,    O::Nothing),
    row("tlbwr",        "010000 1 0000000000000000000 000110",     Op::Tlbwr,    O::Nothing),
    row("tlbp",         "010000 1 0000000000000000000 001000",     Op::Tlbp,     O::Nothing),
    row("eret",         "010000 1 0000000000000000000 011000",     Op::Eret,     O::Nothing),
    row("deret",        "010000 1 0000000000000000000 011111",     Op::Deret,    O::Nothing),
    row("wait",         "010000 1 0000000000000000000 100000",     Op::Wait,     O::Nothing),
    row("wait",         "010000 1 ccccccccccccccccccc 100000",     Op::Wait,     O::WaitCode),
    row("c0",           "010000 1 ccccccccccccccccccccccccc",      Op::Reserved, O::CopImm),
    // COP1 moves and branches.
    row("mfc1",         "010001 00000 ttttt fffff 00000000000",    Op::Mfc1,     O::RtFs),
    row("cfc1",         "010001 00010 ttttt fffff 00000000000",    Op::Cfc1,     O::RtFcr),
    row("mfhc1",        "010001 00011 ttttt fffff 00000000000",    Op::Mfhc1,    O::RtFs),
    row("mtc1",         "010001 00100 ttttt fffff 00000000000",    Op::Mtc1,     O::RtFs),
    row("ctc1",         "010001 00110 ttttt fffff 00000000000",    Op::Ctc1,     O::RtFcr),
    row("mthc1",        "010001 00111 ttttt fffff 00000000000",    Op::Mthc1,    O::RtFs),
    row("bc1f",         "010001 01000 nnn00 iiiiiiiiiiiiiiii",     Op::Bc1f,     O::FccBranch),
    row("bc1t",         "010001 01000 nnn01 iiiiiiiiiiiiiiii",     Op::Bc1t,     O::FccBranch),
    row("bc1fl",        "010001 01000 nnn10 iiiiiiiiiiiiiiii",     Op::Bc1fl,    O::FccBranch),
    row("bc1tl",        "010001 01000 nnn11 iiiiiiiiiiiiiiii",     Op::Bc1tl,    O::FccBranch),
    // COP1 arithmetic, one row per valid format; `c1` catches the rest, as objdump does.
    row("add.s",        "010001 10000 ttttt fffff fffff 000000",   Op::FAdd,     O::FdFsFt),
    row("add.d",        "010001 10001 ttttt fffff fffff 000000",   Op::FAdd,     O::FdFsFt),
    row("add.ps",       "010001 10110 ttttt fffff fffff 000000",   Op::FAdd,     O::FdFsFt),
    row("sub.s",        "010001 10000 ttttt fffff fffff 000001",   Op::FSub,     O::FdFsFt),
    row("sub.d",        "010001 10001 ttttt fffff fffff 000001",   Op::FSub,     O::FdFsFt),
    row("sub.ps",       "010001 10110 ttttt fffff fffff 000001",   Op::FSub,     O::FdFsFt),
    row("mul.s",        "010001 10000 ttttt fffff fffff 000010",   Op::FMul,     O::FdFsFt),
    row("mul.d",        "010001 10001 ttttt fffff fffff 000010",   Op::FMul,     O::FdFsFt),
    row("mul.ps",       "010001 10110 ttttt fffff fffff 000010",   Op::FMul,     O::FdFsFt),
    row("div.s",        "010001 10000 ttttt fffff fffff 000011",   Op::FDiv,     O::FdFsFt),
    row("div.d",        "010001 10001 ttttt fffff fffff 000011",   Op::FDiv,     O::FdFsFt),
    row("sqrt.s",       "010001 10000 00000 fffff fffff 000100",   Op::FSqrt,    O::FdFs),
    row("sqrt.d",       "010001 10001 00000 fffff fffff 000100",   Op::FSqrt,    O::FdFs),
    row("abs.s",        "010001 10000 00000 fffff fffff 000101",   Op::FAbs,     O::FdFs),
    row("abs.d",        "010001 10001 00000 fffff fffff 000101",   Op::FAbs,     O::FdFs),
    row("abs.ps",       "010001 10110 00000 fffff fffff 000101",   Op::FAbs,     O::FdFs),
    row("mov.s",        "010001 10000 00000 fffff fffff 000110",   Op::FMov,     O::FdFs),
    row("mov.d",        "010001 10001 00000 fffff fffff 000110",   Op::FMov,     O::FdFs),
    row("mov.ps",       "010001 10110 00000 fffff fffff 000110",   Op::FMov,     O::FdFs),
    row("neg.s",        "010001 10000 00000 fffff fffff 000111",   Op::FNeg,     O::FdFs),
    row("neg.d",        "010001 10001 00000 fffff fffff 000111",   Op::FNeg,     O::FdFs),
    row("neg.ps",       "010001 10110 00000 fffff fffff 000111",   Op::FNeg,     O::FdFs),
    row("round.l.s",    "010001 10000 00000 fffff fffff 001000",   Op::FRoundL,  O::FdFs),
    row("round.l.d",    "010001 10001 00000 fffff fffff 001000",   Op::FRoundL,  O::FdFs),
    row("trunc.l.s",    "010001 10000 00000 fffff fffff 001001",   Op::FTruncL,  O::FdFs),
    row("trunc.l.d",    "010001 10001 00000 fffff fffff 001001",   Op::FTruncL,  O::FdFs),
    row("ceil.l.s",     "010001 10000 00000 fffff fffff 001010",   Op::FCeilL,   O::FdFs),
    row("ceil.l.d",     "010001 10001 00000 fffff fffff 001010",   Op::FCeilL,   O::FdFs),
    row("floor.l.s",    "010001 10000 00000 fffff fffff 001011",   Op::FFloorL,  O::FdFs),
    row("floor.l.d",    "010001 10001 00000 fffff fffff 001011",   Op::FFloorL,  O::FdFs),
    row("round.w.s",    "010001 10000 00000 fffff fffff 001100",   Op::FRoundW,  O::FdFs),
    row("round.w.d",    "010001 10001 00000 fffff fffff 001100",   Op::FRoundW,  O::FdFs),
    row("trunc.w.s",    "010001 10000 00000 fffff fffff 001101",   Op::FTruncW,  O::FdFs),
    row("trunc.w.d",    "010001 10001 00000 fffff fffff 001101",   Op::FTruncW,  O::FdFs),
    row("ceil.w.s",     "010001 10000 00000 fffff fffff 001110",   Op::FCeilW,   O::FdFs),
    row("ceil.w.d",     "010001 10001 00000 fffff fffff 001110",   Op::FCeilW,   O::FdFs),
    row("floor.w.s",    "010001 10000 00000 fffff fffff 001111",   Op::FFloorW,  O::FdFs),
    row("floor.w.d",    "010001 10001 00000 fffff fffff 001111",   Op::FFloorW,  O::FdFs),
    row("movf.s",       "010001 10000 nnn00 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movf.d",       "010001 10001 nnn00 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movf.ps",      "010001 10110 nnn00 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movt.s",       "010001 10000 nnn01 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movt.d",       "010001 10001 nnn01 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movt.ps",      "010001 10110 nnn01 fffff fffff 010001",   Op::FMovcf,   O::FdFsCc),
    row("movz.s",       "010001 10000 ttttt fffff fffff 010010",   Op::FMovz,    O::FdFsRt),
    row("movz.d",       "010001 10001 ttttt fffff fffff 010010",   Op::FMovz,    O::FdFsRt),
    row("movz.ps",      "010001 10110 ttttt fffff fffff 010010",   Op::FMovz,    O::FdFsRt),
    row("movn.s",       "010001 10000 ttttt fffff fffff 010011",   Op::FMovn,    O::FdFsRt),
    row("movn.d",       "010001 10001 ttttt fffff fffff 010011",   Op::FMovn,    O::FdFsRt),
    row("movn.ps",      "010001 10110 ttttt fffff fffff 010011",   Op::FMovn,    O::FdFsRt),
    row("recip.s",      "010001 10000 00000 fffff fffff 010101",   Op::FRecip,   O::FdFs),
    row("recip.d",      "010001 10001 00000 fffff fffff 010101",   Op::FRecip,   O::FdFs),
    row("rsqrt.s",      "010001 10000 00000 fffff fffff 010110",   Op::FRsqrt,   O::FdFs),
    row("rsqrt.d",      "010001 10001 00000 fffff fffff 010110",   Op::FRsqrt,   O::FdFs),
    row("cvt.s.d",      "010001 10001 00000 fffff fffff 100000",   Op::FCvtS,    O::FdFs),
    row("cvt.s.w",      "010001 10100 00000 fffff fffff 100000",   Op::FCvtS,    O::FdFs),
    row("cvt.s.l",      "010001 10101 00000 fffff fffff 100000",   Op::FCvtS,    O::FdFs),
    row("cvt.s.pu",     "010001 10110 00000 fffff fffff 100000",   Op::FCvtSPu,  O::FdFs),
    row("cvt.d.s",      "010001 10000 00000 fffff fffff 100001",   Op::FCvtD,    O::FdFs),
    row("cvt.d.w",      "010001 10100 00000 fffff fffff 100001",   Op::FCvtD,    O::FdFs),
    row("cvt.d.l",      "010001 10101 00000 fffff fffff 100001",   Op::FCvtD,    O::FdFs),
    row("cvt.w.s",      "010001 10000 00000 fffff fffff 100100",   Op::FCvtW,    O::FdFs),
    row("cvt.w.d",      "010001 10001 00000 fffff fffff 100100",   Op::FCvtW,    O::FdFs),
    row("cvt.l.s",      "010001 10000 00000 fffff fffff 100101",   Op::FCvtL,    O::FdFs),
    row("cvt.l.d",      "010001 10001 00000 fffff fffff 100101",   Op::FCvtL,    O::FdFs),
    row("cvt.ps.s",     "010001 10000 ttttt fffff fffff 100110",   Op::FCvtPsS,  O::FdFsFt),
    row("cvt.s.pl",     "010001 10110 00000 fffff fffff 101000",   Op::FCvtSPl,  O::FdFs),
    row("pll.ps",       "010001 10110 ttttt fffff fffff 101100",   Op::FPll,     O::FdFsFt),
    row("plu.ps",       "010001 10110 ttttt fffff fffff 101101",   Op::FPlu,     O::FdFsFt),
    row("pul.ps",       "010001 10110 ttttt fffff fffff 101110",   Op::FPul,     O::FdFsFt),
    row("puu.ps",       "010001 10110 ttttt fffff fffff 101111",   Op::FPuu,     O::FdFsFt),
    row("c.cond.s",     "010001 10000 ttttt fffff nnn 00 11 cccc", Op::FCmp,     O::FpCmp),
    row("c.cond.d",     "010001 10001 ttttt fffff nnn 00 11 cccc", Op::FCmp,     O::FpCmp),
    row("c.cond.ps",    "010001 10110 ttttt fffff nnn 00 11 cccc", Op::FCmp,     O::FpCmp),
    row("c1",           "010001 1 ccccccccccccccccccccccccc",      Op::Reserved, O::CopImm),
    // COP2: absent on our CPUs, decoded only to raise Coprocessor Unusable.
    row("mfc2",         "010010 00000 ttttt ddddd 00000000 ccc",   Op::Cop2,     O::RtCopSel),
    row("cfc2",         "010010 00010 ttttt ddddd 00000000000",    Op::Cop2,     O::RtCop),
    row("mfhc2",        "010010 00011 ttttt ddddd 00000000 ccc",   Op::Cop2,     O::RtCopSel),
    row("mfhc2",        "010010 00011 ttttt iiiiiiiiiiiiiiii",     Op::Cop2,     O::RtUimm),
    row("mtc2",         "010010 00100 ttttt ddddd 00000000 ccc",   Op::Cop2,     O::RtCopSel),
    row("ctc2",         "010010 00110 ttttt ddddd 00000000000",    Op::Cop2,     O::RtCop),
    row("mthc2",        "010010 00111 ttttt ddddd 00000000 ccc",   Op::Cop2,     O::RtCopSel),
    row("mthc2",        "010010 00111 ttttt iiiiiiiiiiiiiiii",     Op::Cop2,     O::RtUimm),
    row("bc2f",         "010010 01000 nnn00 iiiiiiiiiiiiiiii",     Op::Cop2,     O::CcBranch),
    row("bc2t",         "010010 01000 nnn01 iiiiiiiiiiiiiiii",     Op::Cop2,     O::CcBranch),
    row("bc2fl",        "010010 01000 nnn10 iiiiiiiiiiiiiiii",     Op::Cop2,     O::CcBranch),
    row("bc2tl",        "010010 01000 nnn11 iiiiiiiiiiiiiiii",     Op::Cop2,     O::CcBranch),
    row("c2",           "010010 1 ccccccccccccccccccccccccc",      Op::Cop2,     O::CopImm),
    // Hardware without COP2 raises Coprocessor Unusable for the whole
    // opcode, so the encodings objdump does not know are Cop2 too.
    row(".word",        "010010 cccccccccccccccccccccccccc",       Op::Cop2,     O::Word),
    // COP1X.
    row("lwxc1",        "010011 bbbbb xxxxx 00000 fffff 000000",   Op::Lwxc1,    O::FdIndexBase),
    row("ldxc1",        "010011 bbbbb xxxxx 00000 fffff 000001",   Op::Ldxc1,    O::FdIndexBase),
    row("luxc1",        "010011 bbbbb xxxxx 00000 fffff 000101",   Op::Luxc1,    O::FdIndexBase),
    row("swxc1",        "010011 bbbbb xxxxx fffff 00000 001000",   Op::Swxc1,    O::FsIndexBase),
    row("sdxc1",        "010011 bbbbb xxxxx fffff 00000 001001",   Op::Sdxc1,    O::FsIndexBase),
    row("suxc1",        "010011 bbbbb xxxxx fffff 00000 001101",   Op::Suxc1,    O::FsIndexBase),
    row("prefx",        "010011 bbbbb xxxxx hhhhh 00000 001111",   Op::Prefx,    O::HintIndexBase),
    row("alnv.ps",      "010011 sssss fffff fffff fffff 011110",   Op::FAlnvPs,  O::FdFsFtRs),
    row("madd.s",       "010011 rrrrr fffff fffff fffff 100000",   Op::FMadd,    O::FdFrFsFt),
    row("madd.d",       "010011 rrrrr fffff fffff fffff 100001",   Op::FMadd,    O::FdFrFsFt),
    row("madd.ps",      "010011 rrrrr fffff fffff fffff 100110",   Op::FMadd,    O::FdFrFsFt),
    row("msub.s",       "010011 rrrrr fffff fffff fffff 101000",   Op::FMsub,    O::FdFrFsFt),
    row("msub.d",       "010011 rrrrr fffff fffff fffff 101001",   Op::FMsub,    O::FdFrFsFt),
    row("msub.ps",      "010011 rrrrr fffff fffff fffff 101110",   Op::FMsub,    O::FdFrFsFt),
    row("nmadd.s",      "010011 rrrrr fffff fffff fffff 110000",   Op::FNmadd,   O::FdFrFsFt),
    row("nmadd.d",      "010011 rrrrr fffff fffff fffff 110001",   Op::FNmadd,   O::FdFrFsFt),
    row("nmadd.ps",     "010011 rrrrr fffff fffff fffff 110110",   Op::FNmadd,   O::FdFrFsFt),
    row("nmsub.s",      "010011 rrrrr fffff fffff fffff 111000",   Op::FNmsub,   O::FdFrFsFt),
    row("nmsub.d",      "010011 rrrrr fffff fffff fffff 111001",   Op::FNmsub,   O::FdFrFsFt),
    row("nmsub.ps",     "010011 rrrrr fffff fffff fffff 111110",   Op::FNmsub,   O::FdFrFsFt),
    // Branch likely.
    row("beqzl",        "010100 sssss 00000 iiiiiiiiiiiiiiii",     Op::Beql,     O::RsBranch),
    row("beql",         "010100 sssss ttttt iiiiiiiiiiiiiiii",     Op::Beql,     O::RsRtBranch),
    row("bnezl",        "010101 sssss 00000 iiiiiiiiiiiiiiii",     Op::Bnel,     O::RsBranch),
    row("bnel",         "010101 sssss ttttt iiiiiiiiiiiiiiii",     Op::Bnel,     O::RsRtBranch),
    row("blezl",        "010110 sssss 00000 iiiiiiiiiiiiiiii",     Op::Blezl,    O::RsBranch),
    row("bgtzl",        "010111 sssss 00000 iiiiiiiiiiiiiiii",     Op::Bgtzl,    O::RsBranch),
    // SPECIAL2.
    row("madd",         "011100 sssss ttttt 00000 00000 000000",   Op::Madd,     O::RsRt),
    row("maddu",        "011100 sssss ttttt 00000 00000 000001",   Op::Maddu,    O::RsRt),
    row("mul",          "011100 sssss ttttt ddddd 00000 000010",   Op::Mul,      O::RdRsRt),
    row("msub",         "011100 sssss ttttt 00000 00000 000100",   Op::Msub,     O::RsRt),
    row("msubu",        "011100 sssss ttttt 00000 00000 000101",   Op::Msubu,    O::RsRt),
    row("clz",          "011100 sssss ttttt ddddd 00000 100000",   Op::Clz,      O::ClzDest),
    row("clo",          "011100 sssss ttttt ddddd 00000 100001",   Op::Clo,      O::ClzDest),
    row("sdbbp",        "011100 00000 00000 00000 00000 111111",   Op::Sdbbp,    O::Nothing),
    row("sdbbp",        "011100 ccccc ccccc ccccc ccccc 111111",   Op::Sdbbp,    O::Code20),
    // SPECIAL3.
    row("ext",          "011111 sssss ttttt mmmmm lllll 000000",   Op::Ext,      O::ExtField),
    row("ins",          "011111 sssss ttttt mmmmm lllll 000100",   Op::Ins,      O::InsField),
    row("wsbh",         "011111 00000 ttttt ddddd 00010 100000",   Op::Wsbh,     O::RdRt),
    row("seb",          "011111 00000 ttttt ddddd 10000 100000",   Op::Seb,      O::RdRt),
    row("seh",          "011111 00000 ttttt ddddd 11000 100000",   Op::Seh,      O::RdRt),
    row("rdhwr",        "011111 00000 ttttt ddddd 00000 111011",   Op::Rdhwr,    O::RtHwr),
    // Loads and stores.
    row("lb",           "100000 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lb,       O::RtOffBase),
    row("lh",           "100001 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lh,       O::RtOffBase),
    row("lwl",          "100010 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lwl,      O::RtOffBase),
    row("lw",           "100011 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lw,       O::RtOffBase),
    row("lbu",          "100100 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lbu,      O::RtOffBase),
    row("lhu",          "100101 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lhu,      O::RtOffBase),
    row("lwr",          "100110 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lwr,      O::RtOffBase),
    row("sb",           "101000 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sb,       O::RtOffBase),
    row("sh",           "101001 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sh,       O::RtOffBase),
    row("swl",          "101010 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Swl,      O::RtOffBase),
    row("sw",           "101011 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sw,       O::RtOffBase),
    row("swr",          "101110 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Swr,      O::RtOffBase),
    row("cache",        "101111 bbbbb hhhhh iiiiiiiiiiiiiiii",     Op::Cache,    O::HintOffBase),
    row("ll",           "110000 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Ll,       O::RtOffBase),
    row("lwc1",         "110001 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lwc1,     O::FtOffBase),
    row("lwc2",         "110010 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Lwc2,     O::Cop2OffBase),
    row("pref",         "110011 bbbbb hhhhh iiiiiiiiiiiiiiii",     Op::Pref,     O::HintOffBase),
    row("ldc1",         "110101 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Ldc1,     O::FtOffBase),
    row("ldc2",         "110110 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Ldc2,     O::Cop2OffBase),
    row("sc",           "111000 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sc,       O::RtOffBase),
    row("swc1",         "111001 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Swc1,     O::FtOffBase),
    row("swc2",         "111010 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Swc2,     O::Cop2OffBase),
    row("sdc1",         "111101 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sdc1,     O::FtOffBase),
    row("sdc2",         "111110 bbbbb ttttt iiiiiiiiiiiiiiii",     Op::Sdc2,     O::Cop2OffBase),
];

/// For each primary opcode, the `start..end` range of its rows in [`TABLE`].
static BUCKETS: [(u16, u16); 64] = buckets(TABLE);

/// Builds [`BUCKETS`]; panics (a compile error) if the rows of one primary
/// opcode are not contiguous, since a row outside its group would be skipped.
const fn buckets(table: &[Row]) -> [(u16, u16); 64] {
    assert!(table.len() <= u16::MAX as usize, "the table outgrew u16 indices");
    let mut buckets = [(0u16, 0u16); 64];
    let mut i = 0;
    while i < table.len() {
        let opcode = (table[i].bits >> 26) as usize;
        assert!(buckets[opcode].1 == 0, "rows of one primary opcode must be contiguous");
        let start = i;
        while i < table.len() && (table[i].bits >> 26) as usize == opcode {
            i += 1;
        }
        buckets[opcode] = (start as u16, i as u16);
    }
    buckets
}

/// The row `word` matches, if any: the first match in its opcode's bucket.
pub(crate) fn lookup(word: u32) -> Option<&'static Row> {
    TABLE.get(decode_hint(word) as usize)
}

/// Where `word` sits in the decoding table, for [`decode_with_hint`]: a
/// translator that hands an instruction to the interpreter later can
/// spare it the search (the table's FPU rows are many).
pub fn decode_hint(word: u32) -> u32 {
    let (start, end) = BUCKETS[(word >> 26) as usize];
    let at = TABLE[usize::from(start)..usize::from(end)].iter().position(|row| row.matches(word));
    at.map_or(u32::MAX, |i| u32::from(start) + i as u32)
}

/// [`decode`] given [`decode_hint`] of the same word: its row, checked to
/// match (any other hint is ignored).
pub fn decode_with_hint(word: u32, hint: u32) -> Insn {
    match TABLE.get(hint as usize) {
        Some(row) if row.matches(word) => Insn { op: row.op, word },
        _ => decode(word),
    }
}

/// Decodes one instruction word. Never fails: words no row claims (and the
/// undefined coprocessor operations objdump prints as `c0`/`c1`) become
/// [`Op::Reserved`].
pub fn decode(word: u32) -> Insn {
    let op = lookup(word).map_or(Op::Reserved, |row| row.op);
    Insn { op, word }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every word matching `b` also matches `a`.
    fn covers(a: &Row, b: &Row) -> bool {
        a.mask & b.mask == a.mask && b.bits & a.mask == a.bits
    }

    /// A small deterministic generator (xorshift32): the crate has no
    /// dependencies, and the words only need to be spread out.
    fn words(count: usize) -> impl Iterator<Item = u32> {
        let mut x = 0x2545_f491_u32;
        (0..count).map(move |_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        })
    }

    #[test]
    fn a_hint_decodes_as_the_word_does() {
        for w in words(200_000) {
            assert_eq!(decode_with_hint(w, decode_hint(w)), decode(w), "{w:#010x}");
            // A hint for another word is ignored where its row does not match.
            let other = decode_hint(w.rotate_left(7));
            if TABLE.get(other as usize).is_none_or(|r| !r.matches(w)) {
                assert_eq!(decode_with_hint(w, other), decode(w), "{w:#010x}");
            }
        }
    }

    #[test]
    fn no_row_is_shadowed() {
        for (j, later) in TABLE.iter().enumerate() {
            for earlier in &TABLE[..j] {
                assert!(
                    !covers(earlier, later),
                    "{} ({:08x}/{:08x}) is unreachable behind {} ({:08x}/{:08x})",
                    later.name,
                    later.bits,
                    later.mask,
                    earlier.name,
                    earlier.bits,
                    earlier.mask,
                );
            }
        }
    }

    #[test]
    fn every_row_is_consistent() {
        for row in TABLE {
            assert_eq!(row.bits & !row.mask, 0, "{}: bits outside the mask", row.name);
            assert!(row.matches(row.bits), "{}", row.name);
            // The operand format prints exactly the pattern's letter fields.
            assert_eq!(row.operands.fields(), !row.mask, "{}: fields vs operands", row.name);
            assert_eq!(row.op == Op::FCmp, row.name.starts_with("c.cond."), "{}", row.name);
        }
    }

    #[test]
    fn buckets_hold_exactly_their_opcode() {
        let mut seen = 0;
        for (opcode, &(start, end)) in BUCKETS.iter().enumerate() {
            for row in &TABLE[usize::from(start)..usize::from(end)] {
                assert_eq!(row.bits >> 26, opcode as u32, "{}", row.name);
            }
            seen += usize::from(end - start);
        }
        assert_eq!(seen, TABLE.len());
    }

    #[test]
    #[should_panic(expected = "fewer than 32 bits")]
    fn short_patterns_are_rejected() {
        // In `TABLE` this panic is a compile error; here it runs at run time.
        parse("000000 sssss ttttt ddddd 00000 10000");
    }

    #[test]
    #[should_panic(expected = "pattern characters")]
    fn unknown_pattern_characters_are_rejected() {
        parse("000000 sssss ttttt ddddd 00000 10000X");
    }

    #[test]
    fn known_words_decode() {
        #[rustfmt::skip] // One word per line, with its meaning.
        let cases = [
            (0x8fbf_0010, Op::Lw),      // lw ra,16(sp)
            (0x27bd_ffe0, Op::Addiu),   // addiu sp,sp,-32
            (0x2402_ffff, Op::Addiu),   // li v0,-1
            (0x3402_8000, Op::Ori),     // li v0,0x8000
            (0x0000_0000, Op::Sll),     // nop
            (0x0000_00c0, Op::Sll),     // ehb
            (0x00a0_1021, Op::Addu),    // move v0,a1
            (0x0080_8025, Op::Or),      // move s0,a0
            (0x0004_1023, Op::Subu),    // negu v0,a0
            (0x1000_fffe, Op::Beq),     // b
            (0x1040_0004, Op::Beq),     // beqz v0
            (0x0411_0001, Op::Bgezal),  // bal
            (0x0401_0003, Op::Bgez),    // b (bgez zero)
            (0x5040_0003, Op::Beql),    // beqzl v0
            (0x0412_0003, Op::Bltzall), // bltzall zero
            (0x0320_f809, Op::Jalr),    // jalr t9
            (0x0320_fc09, Op::Jalr),    // jalr.hb t9
            (0x03e0_0408, Op::Jr),      // jr.hb ra
            (0x0022_1002, Op::Rotr),    // ror v0,v0,0
            (0x0022_1046, Op::Rotrv),   // rorv v0,v0,at
            (0x0045_0001, Op::Movci),   // movf zero,v0,$fcc1
            (0x0000_044f, Op::Sync),    // sync_acquire
            (0x0085_001a, Op::Div),     // div zero,a0,a1
            (0x0040_01f4, Op::Teq),     // teq v0,zero,0x7
            (0x7043_0820, Op::Clz),     // clz (rd != rt: UNPREDICTABLE, decoded)
            (0x7c85_1180, Op::Ext),     // ext a1,a0,6,3
            (0x7c42_08c4, Op::Ins),     // ins with msb < lsb: UNPREDICTABLE, decoded
            (0x7c02_1420, Op::Seb),     // seb v0,v0
            (0x7c03_e83b, Op::Rdhwr),   // rdhwr v1,$29
            (0x7000_007f, Op::Sdbbp),   // sdbbp 0x1
            (0x4002_6000, Op::Mfc0),    // mfc0 v0,c0_status
            (0x4080_7007, Op::Mtc0),    // mtc0 zero,$14,7
            (0x4160_6000, Op::Di),      // di
            (0x4162_6020, Op::Ei),      // ei v0
            (0x4140_0800, Op::Rdpgpr),  // rdpgpr at,zero
            (0x4200_0018, Op::Eret),    // eret
            (0x4200_001f, Op::Deret),   // deret
            (0x4200_0060, Op::Wait),    // wait 0x1
            (0x4200_0008, Op::Tlbp),    // tlbp
            (0x4444_f800, Op::Cfc1),    // cfc1 a0,c1_fcsr
            (0x4505_0004, Op::Bc1t),    // bc1t $fcc1
            (0x4620_a03c, Op::FCmp),    // c.lt.d $f20,$f0
            (0x4622_1093, Op::FMovn),   // movn.d $f2,$f2,v0
            (0x4601_1091, Op::FMovcf),  // movt.s $f2,$f2,$fcc0
            (0x46c0_0028, Op::FCvtSPl), // cvt.s.pl $f0,$f0
            (0x4680_0021, Op::FCvtD),   // cvt.d.w $f0,$f0
            (0x4c82_08a1, Op::FMadd),   // madd.d
            (0x4c43_0005, Op::Luxc1),   // luxc1 $f0,v1(v0)
            (0x4c43_000d, Op::Suxc1),   // suxc1 $f0,v1(v0)
            (0x4c00_001e, Op::FAlnvPs), // alnv.ps
            (0xd4a2_0008, Op::Ldc1),    // ldc1 $f2,8(a1)
            (0xc8a2_0008, Op::Lwc2),    // lwc2 $2,8(a1)
            (0x4a00_1234, Op::Cop2),    // c2 0x1234
            (0x4940_0000, Op::Cop2),    // COP2, rs = 10: objdump has no name for it
            (0x04bf_0010, Op::Synci),   // synci 16(a1)
            (0xbca1_0004, Op::Cache),   // cache 0x1,4(a1)
        ];
        for (word, op) in cases {
            assert_eq!(decode(word), Insn { op, word }, "{word:08x}");
        }
    }

    #[test]
    fn must_be_zero_fields_make_words_reserved() {
        #[rustfmt::skip] // One word per line, with the field that is set.
        let reserved = [
            0x0020_0000, // sll with rs != 0
            0x0040_0048, // jr with hint 1
            0x0002_0011, // mthi with rt != 0
            0x0046_0001, // movci with bit 17 set
            0x0000_0818, // mult with rd != 0 (a DSP accumulator)
            0x3c22_0001, // lui with rs != 0
            0x041c_0000, // REGIMM rt = 0x1c (bposge32, DSP ASE)
            0x4002_6008, // mfc0 with bits 10:3 set
            0x4680_0000, // add.w: W is not a format of add
            0x4600_00f0, // c.f.s with bits 7:6 set
            0x4c00_0002, // COP1X function 2
            0x7400_0000, // jalx (MIPS16e/microMIPS ASE)
            0x7c03_e8fb, // rdhwr with sel != 0
            0x4200_0000, // COP0 function 0 (objdump: "c0 0x0")
            0x4200_0021, // wait with bit 0 set
            0xec00_0000, // opcode 0x3b
        ];
        for word in reserved {
            assert_eq!(decode(word).op, Op::Reserved, "{word:08x}");
        }
    }

    #[test]
    fn the_index_agrees_with_a_linear_scan() {
        for word in words(200_000) {
            let scanned = TABLE.iter().find(|row| row.matches(word));
            assert_eq!(lookup(word).map(|r| r.name), scanned.map(|r| r.name), "{word:08x}");
        }
    }

    #[test]
    fn decode_and_disassembly_never_panic() {
        let mut text = String::new();
        for word in words(1_000_000).chain([0, u32::MAX]) {
            let insn = decode(word);
            text.clear();
            std::fmt::Write::write_fmt(&mut text, format_args!("{insn}")).unwrap();
            assert!(!text.is_empty());
        }
    }
}
