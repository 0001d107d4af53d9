//! Disassembly in the syntax of `mipsel-linux-gnu-objdump -d`.
//!
//! The text is what objdump prints in its instruction column: the mnemonic,
//! a tab, and the operands separated by `,`, with objdump's aliases (`nop`,
//! `move`, `b`, `li`, `beqz`, ...), register names (`zero`, `at`, ...,
//! `s8`, `ra`; `$f0`; `c0_status`) and number bases (hex for unsigned
//! fields, decimal for signed ones). Branch and jump targets are absolute, so
//! they depend on the instruction's address: [`Disasm`] carries it, and
//! [`Insn`]'s own `Display` assumes address 0. Words that decode to nothing
//! print as objdump prints them, `.word\t0x…`.
//!
//! The mnemonic and the operand format come from the decoder's table row
//! (`decode.rs`), so decoding and disassembly can never disagree on which
//! encoding a word is.

mod names;

use crate::decode::lookup;
use crate::insn::{Insn, Op};
use names::{FP_COND, GPR};
use std::fmt::{self, Write as _};

/// How a row's operands print. Each variant names the operands in printing
/// order and gives objdump's operand string (from `mips-opc.c`) in its doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operands {
    /// No operands (and no tab after the mnemonic).
    Nothing,
    /// `d`: mfhi/mflo.
    Rd,
    /// `s`: jr, jalr with rd = ra, mthi/mtlo.
    Rs,
    /// `t`: di/ei with a destination.
    Rt,
    /// `d,s`: move, jalr.
    RdRs,
    /// `d,w`: negu, wsbh/seb/seh, rdpgpr/wrpgpr.
    RdRt,
    /// `s,t`: mult, madd.
    RsRt,
    /// `z,s,t`: div/divu, which objdump prints with a `zero` destination.
    ZeroRsRt,
    /// `d,v,t`: three-register ALU.
    RdRsRt,
    /// `d,t,s`: variable shifts.
    RdRtRs,
    /// `d,w,<`: immediate shifts.
    RdRtSa,
    /// `d,s,N`: movf/movt on an FPU condition code.
    RdRsCc,
    /// `s,t` or `s,t,q`: register traps; the code prints only when non-zero.
    RsRtCode,
    /// `t,r,j`: signed-immediate ALU.
    RtRsSimm,
    /// `t,r,i`: unsigned-immediate logic.
    RtRsUimm,
    /// `t,j`: li from addiu.
    RtSimm,
    /// `t,i` / `t,u`: li from ori, lui, mfhc2/mthc2 with an immediate.
    RtUimm,
    /// `s,j`: immediate traps.
    RsSimm,
    /// `t,o(b)`: integer loads and stores.
    RtOffBase,
    /// `k,o(b)`: cache, pref.
    HintOffBase,
    /// `o(b)`: synci.
    OffBase,
    /// `p`: b, bal.
    Branch,
    /// `s,p`: one-register branches.
    RsBranch,
    /// `s,t,p`: beq/bne.
    RsRtBranch,
    /// `p` or `N,p`: bc1f/bc1t; the condition code prints only when non-zero.
    FccBranch,
    /// `p` or `N,p`: bc2f/bc2t, whose condition codes objdump calls `$ccN`.
    CcBranch,
    /// `a`: j/jal.
    Jump,
    /// `B`: syscall/sdbbp code.
    Code20,
    /// `c` or `c,q`: break codes; the second prints only when non-zero.
    BreakCode,
    /// `1`: the sync stype.
    Stype,
    /// `J`: the wait code.
    WaitCode,
    /// `t,G`, `t,+D` or `t,G,H`: mfc0/mtc0 with CP0 register names.
    RtCp0,
    /// `t,K`: rdhwr with hardware register names.
    RtHwr,
    /// `U,s`: clz/clo, whose destination is both rd and rt.
    ClzDest,
    /// `t,r,+A,+C`: ext position and size.
    ExtField,
    /// `t,r,+A,+B`: ins position and size.
    InsField,
    /// `C`: the 25-bit operation of c0/c1/c2.
    CopImm,
    /// `D,V,T`: three-FPR arithmetic.
    FdFsFt,
    /// `D,S`: two-FPR arithmetic and conversions.
    FdFs,
    /// `S,T` or `M,S,T`: c.cond.fmt; the condition code prints when non-zero.
    FpCmp,
    /// `t,S`: mfc1/mtc1/mfhc1/mthc1.
    RtFs,
    /// `t,G`: cfc1/ctc1 with FPU control register names.
    RtFcr,
    /// `D,S,N`: movf.fmt/movt.fmt.
    FdFsCc,
    /// `D,S,t`: movz.fmt/movn.fmt.
    FdFsRt,
    /// `T,o(b)`: FPU loads and stores.
    FtOffBase,
    /// `D,t(b)`: indexed FPU loads.
    FdIndexBase,
    /// `S,t(b)`: indexed FPU stores.
    FsIndexBase,
    /// `h,t(b)`: prefx.
    HintIndexBase,
    /// `D,R,S,T`: madd.fmt and friends.
    FdFrFsFt,
    /// `D,V,T,s`: alnv.ps.
    FdFsFtRs,
    /// `E,o(b)`: COP2 loads and stores.
    Cop2OffBase,
    /// `t,G`: cfc2/ctc2.
    RtCop,
    /// `t,G` or `t,G,H`: COP2 moves; the select prints only when non-zero.
    RtCopSel,
    /// The whole word in hex, after a `.word` mnemonic: COP2 encodings
    /// objdump does not know, which still decode to [`Op::Cop2`].
    Word,
}

/// An instruction at an address: its `Display` is the objdump text, with
/// branch and jump targets computed from `pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disasm {
    /// The instruction to print.
    pub insn: Insn,
    /// Its guest virtual address.
    pub pc: u32,
}

/// The objdump text of `insn` at address `pc`, e.g. `beqz\tv0,0x400334`.
pub fn disasm(insn: Insn, pc: u32) -> String {
    Disasm { insn, pc }.to_string()
}

impl fmt::Display for Insn {
    /// The objdump text at address 0; use [`Disasm`] for real addresses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Disasm { insn: *self, pc: 0 }.fmt(f)
    }
}

impl fmt::Display for Disasm {
    /// Prints from the word alone (its table row), so an `Insn` built by hand
    /// with a mismatched `op` still prints what the word encodes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.insn.word;
        let Some(row) = lookup(word) else {
            return write!(f, ".word\t0x{word:x}");
        };
        match row.name.strip_prefix("c.cond") {
            Some(fmt_suffix) if row.op == Op::FCmp => write!(f, "c.{}{fmt_suffix}", FP_COND[(word & 15) as usize])?,
            _ => f.write_str(row.name)?,
        }
        if row.operands != Operands::Nothing {
            f.write_char('\t')?;
            row.operands.write(f, self.insn, self.pc)?;
        }
        Ok(())
    }
}

/// A general-purpose register's name.
fn gpr(reg: usize) -> &'static str {
    GPR[reg]
}

/// Writes `prefix` and `n` when `n` is non-zero: objdump's optional operands.
fn write_nonzero(f: &mut fmt::Formatter<'_>, prefix: &str, n: u32, suffix: &str) -> fmt::Result {
    if n != 0 {
        write!(f, "{prefix}{n}{suffix}")?;
    }
    Ok(())
}

impl Operands {
    /// Writes the operands of `i`, sitting at `pc`, without a leading tab.
    fn write(self, f: &mut fmt::Formatter<'_>, i: Insn, pc: u32) -> fmt::Result {
        let w = i.word;
        let (rs, rt, rd) = (gpr(i.rs()), gpr(i.rt()), gpr(i.rd()));
        let (fs, ft, fd) = (i.fs(), i.ft(), i.fd());
        // Condition codes are read here, not through `Insn::cc`, so printing
        // depends on the word alone (see `Disasm`'s Display).
        let cc18 = (w >> 18) & 7;
        let (off, target) = (i.simm(), i.branch_target(pc));
        match self {
            Self::Nothing => Ok(()),
            Self::Rd => f.write_str(rd),
            Self::Rs => f.write_str(rs),
            Self::Rt => f.write_str(rt),
            Self::RdRs => write!(f, "{rd},{rs}"),
            Self::RdRt => write!(f, "{rd},{rt}"),
            Self::RsRt => write!(f, "{rs},{rt}"),
            Self::ZeroRsRt => write!(f, "zero,{rs},{rt}"),
            Self::RdRsRt => write!(f, "{rd},{rs},{rt}"),
            Self::RdRtRs => write!(f, "{rd},{rt},{rs}"),
            Self::RdRtSa => write!(f, "{rd},{rt},0x{:x}", i.sa()),
            Self::RdRsCc => write!(f, "{rd},{rs},$fcc{cc18}"),
            Self::RsRtCode => {
                write!(f, "{rs},{rt}")?;
                if i.code10() != 0 {
                    write!(f, ",0x{:x}", i.code10())?;
                }
                Ok(())
            }
            Self::RtRsSimm => write!(f, "{rt},{rs},{off}"),
            Self::RtRsUimm => write!(f, "{rt},{rs},0x{:x}", i.uimm()),
            Self::RtSimm => write!(f, "{rt},{off}"),
            Self::RtUimm => write!(f, "{rt},0x{:x}", i.uimm()),
            Self::RsSimm => write!(f, "{rs},{off}"),
            Self::RtOffBase => write!(f, "{rt},{off}({rs})"),
            Self::HintOffBase => write!(f, "0x{:x},{off}({rs})", i.rt()),
            Self::OffBase => write!(f, "{off}({rs})"),
            Self::Branch => write!(f, "0x{target:x}"),
            Self::RsBranch => write!(f, "{rs},0x{target:x}"),
            Self::RsRtBranch => write!(f, "{rs},{rt},0x{target:x}"),
            Self::FccBranch => {
                write_nonzero(f, "$fcc", cc18, ",")?;
                write!(f, "0x{target:x}")
            }
            Self::CcBranch => {
                write_nonzero(f, "$cc", cc18, ",")?;
                write!(f, "0x{target:x}")
            }
            Self::Jump => write!(f, "0x{:x}", i.jump_target(pc)),
            Self::Code20 => write!(f, "0x{:x}", i.code20()),
            Self::BreakCode => {
                write!(f, "0x{:x}", (w >> 16) & 0x3ff)?;
                if i.code10() != 0 {
                    write!(f, ",0x{:x}", i.code10())?;
                }
                Ok(())
            }
            Self::Stype => write!(f, "0x{:x}", i.sa()),
            Self::WaitCode => write!(f, "0x{:x}", (w >> 6) & 0x7_ffff),
            Self::RtCp0 => match names::cp0(i.rd(), i.sel()) {
                Some(name) => write!(f, "{rt},{name}"),
                None => write!(f, "{rt},${},{}", i.rd(), i.sel()),
            },
            Self::RtHwr => match names::hwr(i.rd()) {
                Some(name) => write!(f, "{rt},{name}"),
                None => write!(f, "{rt},${}", i.rd()),
            },
            Self::ClzDest => {
                // objdump shows both destination fields when they differ and
                // neither is $zero, since the result then depends on the CPU.
                match (i.rd(), i.rt()) {
                    (d, t) if d == t || t == 0 => f.write_str(gpr(d))?,
                    (0, t) => f.write_str(gpr(t))?,
                    (d, t) => write!(f, "{} or {}", gpr(d), gpr(t))?,
                }
                write!(f, ",{rs}")
            }
            Self::ExtField => write!(f, "{rt},{rs},0x{:x},0x{:x}", i.sa(), i.msb() + 1),
            Self::InsField => {
                // msb < lsb is UNPREDICTABLE; objdump prints the size wrapped.
                let size = i.msb().wrapping_sub(i.sa()).wrapping_add(1);
                write!(f, "{rt},{rs},0x{:x},0x{size:x}", i.sa())
            }
            Self::CopImm => write!(f, "0x{:x}", w & 0x01ff_ffff),
            Self::FdFsFt => write!(f, "$f{fd},$f{fs},$f{ft}"),
            Self::FdFs => write!(f, "$f{fd},$f{fs}"),
            Self::FpCmp => {
                write_nonzero(f, "$fcc", (w >> 8) & 7, ",")?;
                write!(f, "$f{fs},$f{ft}")
            }
            Self::RtFs => write!(f, "{rt},$f{fs}"),
            Self::RtFcr => match names::fcr(fs) {
                Some(name) => write!(f, "{rt},{name}"),
                None => write!(f, "{rt},${fs}"),
            },
            Self::FdFsCc => write!(f, "$f{fd},$f{fs},$fcc{cc18}"),
            Self::FdFsRt => write!(f, "$f{fd},$f{fs},{rt}"),
            Self::FtOffBase => write!(f, "$f{ft},{off}({rs})"),
            Self::FdIndexBase => write!(f, "$f{fd},{rt}({rs})"),
            Self::FsIndexBase => write!(f, "$f{fs},{rt}({rs})"),
            Self::HintIndexBase => write!(f, "0x{fs:x},{rt}({rs})"),
            Self::FdFrFsFt => write!(f, "$f{fd},$f{},$f{fs},$f{ft}", i.fr()),
            Self::FdFsFtRs => write!(f, "$f{fd},$f{fs},$f{ft},{rs}"),
            Self::Cop2OffBase => write!(f, "${},{off}({rs})", i.rt()),
            Self::RtCop => write!(f, "{rt},${}", i.rd()),
            Self::RtCopSel => {
                write!(f, "{rt},${}", i.rd())?;
                write_nonzero(f, ",", i.sel(), "")
            }
            Self::Word => write!(f, "0x{w:x}"),
        }
    }

    /// The bits of the word this format prints. The table test checks that
    /// they are exactly the bits a row's pattern leaves to fields, so a row's
    /// letters and its operand format cannot drift apart.
    #[cfg(test)]
    pub(crate) const fn fields(self) -> u32 {
        const RS: u32 = 0x03e0_0000;
        const RT: u32 = 0x001f_0000;
        const RD: u32 = 0x0000_f800;
        const SA: u32 = 0x0000_07c0;
        const IMM: u32 = 0x0000_ffff;
        const CC18: u32 = 0x001c_0000;
        match self {
            Self::Nothing => 0,
            Self::Rd => RD,
            Self::Rs => RS,
            Self::Rt => RT,
            Self::RdRs => RD | RS,
            Self::RdRt => RD | RT,
            Self::RsRt | Self::ZeroRsRt => RS | RT,
            Self::RdRsRt | Self::RdRtRs | Self::ClzDest => RD | RS | RT,
            Self::RdRtSa => RD | RT | SA,
            Self::RdRsCc => RD | RS | CC18,
            Self::RsRtCode => RS | RT | RD | SA,
            Self::RtRsSimm | Self::RtRsUimm | Self::RtOffBase | Self::HintOffBase => RT | RS | IMM,
            Self::RsRtBranch | Self::Cop2OffBase | Self::FtOffBase => RT | RS | IMM,
            Self::RtSimm | Self::RtUimm => RT | IMM,
            Self::RsSimm | Self::OffBase | Self::RsBranch => RS | IMM,
            Self::Branch => IMM,
            Self::FccBranch | Self::CcBranch => CC18 | IMM,
            Self::Jump | Self::Word => 0x03ff_ffff,
            Self::Code20 | Self::BreakCode => 0x03ff_ffc0,
            Self::Stype => SA,
            Self::WaitCode => 0x01ff_ffc0,
            Self::RtCp0 | Self::RtCopSel => RT | RD | 7,
            Self::RtHwr | Self::RtFs | Self::RtFcr | Self::RtCop => RT | RD,
            Self::ExtField | Self::InsField => RS | RT | RD | SA,
            Self::CopImm => 0x01ff_ffff,
            Self::FdFsFt => RT | RD | SA,
            Self::FdFs => RD | SA,
            Self::FpCmp => RT | RD | 0x700 | 0xf,
            Self::FdFsCc => CC18 | RD | SA,
            Self::FdFsRt => RT | RD | SA,
            Self::FdIndexBase => RS | RT | SA,
            Self::FsIndexBase | Self::HintIndexBase => RS | RT | RD,
            Self::FdFrFsFt | Self::FdFsFtRs => RS | RT | RD | SA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    /// Words and the text `mipsel-linux-gnu-objdump -D -b binary
    /// -m mips:isa32r2 -EL --adjust-vma=0x400000` printed for them, the
    /// k-th word sitting at 0x400000 + 4k.
    #[rustfmt::skip] // One word per line, as objdump lists them.
    const OBJDUMP: &[(u32, &str)] = &[
        (0x00000000, "nop"),
        (0x00000040, "ssnop"),
        (0x000000c0, "ehb"),
        (0x00000140, "pause"),
        (0x00021080, "sll\tv0,v0,0x2"),
        (0x00a01021, "move\tv0,a1"),
        (0x00808025, "move\ts0,a0"),
        (0x00041023, "negu\tv0,a0"),
        (0x2402ffff, "li\tv0,-1"),
        (0x34028000, "li\tv0,0x8000"),
        (0x3c1c0024, "lui\tgp,0x24"),
        (0x1000fffe, "b\t0x400028"),
        (0x10400004, "beqz\tv0,0x400044"),
        (0x04110001, "bal\t0x40003c"),
        (0x04100000, "bltzal\tzero,0x40003c"),
        (0x0320f809, "jalr\tt9"),
        (0x0320f009, "jalr\ts8,t9"),
        (0x03e00408, "jr.hb\tra"),
        (0x0320fc09, "jalr.hb\tt9"),
        (0x0000000c, "syscall"),
        (0x0007000d, "break\t0x7"),
        (0x0000004d, "break\t0x0,0x1"),
        (0x004001f4, "teq\tv0,zero,0x7"),
        (0x0000000f, "sync"),
        (0x0000010f, "sync_wmb"),
        (0x0000014f, "sync\t0x5"),
        (0x40026000, "mfc0\tv0,c0_status"),
        (0x40807007, "mtc0\tzero,$14,7"),
        (0x40028001, "mfc0\tv0,c0_config1"),
        (0x41606000, "di"),
        (0x41626020, "ei\tv0"),
        (0x42000018, "eret"),
        (0x42000060, "wait\t0x1"),
        (0x7c03e83b, "rdhwr\tv1,$29"),
        (0x7c02103b, "rdhwr\tv0,hwr_cc"),
        (0x7c851180, "ext\ta1,a0,0x6,0x3"),
        (0x7c4220c4, "ins\tv0,v0,0x3,0x2"),
        (0x7c4208c4, "ins\tv0,v0,0x3,0xffffffff"),
        (0x70430820, "clz\tat or v1,v0"),
        (0x4620a03c, "c.lt.d\t$f20,$f0"),
        (0x46020032, "c.eq.s\t$f0,$f2"),
        (0x45050004, "bc1t\t$fcc1,0x4000b8"),
        (0x45000004, "bc1f\t0x4000bc"),
        (0x4444f800, "cfc1\ta0,c1_fcsr"),
        (0x4c8208a1, "madd.d\t$f2,$f4,$f1,$f2"),
        (0x4c430000, "lwxc1\t$f0,v1(v0)"),
        (0x4c43000f, "prefx\t0x0,v1(v0)"),
        (0x46a00000, "c1\t0xa00000"),
        (0x42000000, "c0\t0x0"),
        (0x4a001234, "c2\t0x1234"),
        (0x48621234, "mfhc2\tv0,0x1234"),
        (0x49400000, ".word\t0x49400000"),
        (0xc8a20008, "lwc2\t$2,8(a1)"),
        (0xbca10004, "cache\t0x1,4(a1)"),
        (0xcca40040, "pref\t0x4,64(a1)"),
        (0x8fbf0010, "lw\tra,16(sp)"),
        (0x0810008c, "j\t0x400230"),
        (0x0085001a, "div\tzero,a0,a1"),
        (0x0065100b, "movn\tv0,v1,a1"),
        (0x00651001, "movt\tv0,v1,$fcc1"),
        (0x46221093, "movn.d\t$f2,$f2,v0"),
        (0x46c41080, "add.ps\t$f2,$f2,$f4"),
        (0x44841000, "mtc1\ta0,$f2"),
        (0x7c0210a0, "wsbh\tv0,v0"),
        (0x7c021420, "seb\tv0,v0"),
        (0x04bf0010, "synci\t16(a1)"),
        (0x0009100a, "movz\tv0,zero,t1"),
    ];

    #[test]
    fn prints_what_objdump_prints() {
        for (k, &(word, text)) in OBJDUMP.iter().enumerate() {
            let pc = 0x40_0000 + 4 * k as u32;
            assert_eq!(disasm(decode(word), pc), text, "{word:08x} at {pc:x}");
        }
    }

    #[test]
    fn undecodable_words_print_as_word_directives() {
        // jalx belongs to the MIPS16e/microMIPS ASE, which objdump decodes
        // and we do not.
        assert_eq!(decode(0x7400_0000).to_string(), ".word\t0x74000000");
        assert_eq!(decode(0x0000_0028).to_string(), ".word\t0x28");
    }

    #[test]
    fn insn_display_assumes_address_zero() {
        let insn = decode(0x1000_ffff); // b to itself
        assert_eq!(insn.to_string(), "b\t0x0");
        assert_eq!(Disasm { insn, pc: 0x8000_0100 }.to_string(), "b\t0x80000100");
    }

    #[test]
    fn printing_depends_on_the_word_not_the_op() {
        let insn = Insn { op: Op::Reserved, word: 0x8fbf_0010 };
        assert_eq!(insn.to_string(), "lw\tra,16(sp)");
    }
}
