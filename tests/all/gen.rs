//! MIPS32r2 instruction encoders and the seeded generator of random guest
//! programs for the differential tests (`diff.rs`).
//!
//! Every word the generator emits is checked against `frontend::decode`, so
//! an encoder slip shows up as a panic naming the word, not as a program
//! that silently tests something else.
#![allow(dead_code, reason = "encoders are a small library; not every test uses every one")]

use frontend::{Op, decode};
use rand::Rng;
use rand::rngs::StdRng;

#[path = "gen_fpu.rs"]
pub mod fpu;

// ---- registers -------------------------------------------------------------

pub const ZERO: u32 = 0;
pub const AT: u32 = 1;
pub const V0: u32 = 2;
pub const T0: u32 = 8;
pub const T1: u32 = 9;
pub const T2: u32 = 10;
pub const T3: u32 = 11;
pub const T5: u32 = 13;
pub const T6: u32 = 14;
pub const T7: u32 = 15;
pub const T8: u32 = 24;
pub const T9: u32 = 25;
/// Base register pointing into the scratch area through kseg0.
pub const S0: u32 = 16;
/// The same scratch area through kseg1 (another virtual page, same RAM).
pub const S1: u32 = 17;
/// A mapped (kuseg or kseg2/3) address: every access through it misses the
/// empty TLB.
pub const S2: u32 = 18;
pub const K0: u32 = 26;
pub const K1: u32 = 27;
pub const SP: u32 = 29;
/// Loop counter: every backward branch is `bgtz(l) $fp` with `addiu $fp, -1`.
pub const FP: u32 = 30;
pub const RA: u32 = 31;

// ---- the guest memory layout -------------------------------------------------

/// Guest RAM size of the test board.
pub const RAM_BYTES: usize = 1 << 20;
/// TLB refill vector (Status.BEV = 0, EBase = 0x8000_0000).
pub const REFILL_VECTOR: u32 = 0x8000_0000;
/// General exception vector.
pub const GENERAL_VECTOR: u32 = 0x8000_0180;
/// The handlers' exception counter (a word).
pub const EXC_COUNT: u32 = 0x8000_2000;
/// The handlers' log: 64 records of (EPC, Cause, BadVAddr, Status).
pub const EXC_LOG: u32 = 0x8000_3000;
/// Where programs are loaded.
pub const CODE: u32 = 0x8001_0000;
/// Initial `$s0`: the middle of the 64 KiB scratch area 0x20000..0x30000, so
/// any 16-bit offset stays inside it.
pub const SCRATCH_BASE: u32 = 0x8002_8000;
/// Initial `$sp`: the middle of the 64 KiB stack area 0x30000..0x40000.
pub const STACK_BASE: u32 = 0x8003_8000;
/// Physical range compared after a run: vectors, log, code, scratch, stack.
pub const COMPARED_PHYS: std::ops::Range<u64> = 0..0x4_0000;
/// Physical range filled with random bytes before a run.
pub const RANDOM_PHYS: std::ops::Range<u64> = 0x2_0000..0x4_0000;

/// Physical address of a kseg0/kseg1 address.
pub const fn phys(vaddr: u32) -> u64 {
    (vaddr & 0x1fff_ffff) as u64
}

// ---- formats -----------------------------------------------------------------

/// SPECIAL (opcode 0) R-type.
pub const fn r_type(rs: u32, rt: u32, rd: u32, sa: u32, funct: u32) -> u32 {
    rs << 21 | rt << 16 | rd << 11 | sa << 6 | funct
}
/// I-type: `op rs rt imm16`.
pub const fn i_type(op: u32, rs: u32, rt: u32, imm: i32) -> u32 {
    op << 26 | rs << 21 | rt << 16 | (imm as u32 & 0xffff)
}
/// J-type: `op instr_index` for the absolute address `addr`.
pub const fn j_type(op: u32, addr: u32) -> u32 {
    op << 26 | (addr >> 2) & 0x03ff_ffff
}
/// REGIMM (opcode 1): `rs code imm16`.
pub const fn regimm(rs: u32, code: u32, imm: i32) -> u32 {
    i_type(1, rs, code, imm)
}
/// SPECIAL2 (opcode 28).
pub const fn special2(rs: u32, rt: u32, rd: u32, sa: u32, funct: u32) -> u32 {
    28 << 26 | r_type(rs, rt, rd, sa, funct)
}
/// SPECIAL3 (opcode 31).
pub const fn special3(rs: u32, rt: u32, rd: u32, sa: u32, funct: u32) -> u32 {
    31 << 26 | r_type(rs, rt, rd, sa, funct)
}
/// COP0 (opcode 16): `rs-field rt rd low-11-bits`.
pub const fn cop0(rs_field: u32, rt: u32, rd: u32, low: u32) -> u32 {
    16 << 26 | rs_field << 21 | rt << 16 | rd << 11 | low
}

// ---- mnemonics the handlers and targeted tests use -----------------------------

pub const NOP: u32 = 0;
pub const ERET: u32 = 0x4200_0018;
pub const SYSCALL: u32 = 12;
pub const fn addiu(rt: u32, rs: u32, imm: i32) -> u32 {
    i_type(9, rs, rt, imm)
}
pub const fn addu(rd: u32, rs: u32, rt: u32) -> u32 {
    r_type(rs, rt, rd, 0, 33)
}
pub const fn andi(rt: u32, rs: u32, imm: u32) -> u32 {
    i_type(12, rs, rt, imm as i32)
}
pub const fn ori(rt: u32, rs: u32, imm: u32) -> u32 {
    i_type(13, rs, rt, imm as i32)
}
pub const fn lui(rt: u32, imm: u32) -> u32 {
    i_type(15, 0, rt, imm as i32)
}
pub const fn sll(rd: u32, rt: u32, sa: u32) -> u32 {
    r_type(0, rt, rd, sa, 0)
}
pub const fn srl(rd: u32, rt: u32, sa: u32) -> u32 {
    r_type(0, rt, rd, sa, 2)
}
pub const fn lw(rt: u32, off: i32, base: u32) -> u32 {
    i_type(35, base, rt, off)
}
pub const fn sw(rt: u32, off: i32, base: u32) -> u32 {
    i_type(43, base, rt, off)
}
pub const fn ll(rt: u32, off: i32, base: u32) -> u32 {
    i_type(48, base, rt, off)
}
pub const fn sc(rt: u32, off: i32, base: u32) -> u32 {
    i_type(56, base, rt, off)
}
/// `beq rs, rt` with an offset in words from the delay slot.
pub const fn beq(rs: u32, rt: u32, off: i32) -> u32 {
    i_type(4, rs, rt, off)
}
pub const fn bne(rs: u32, rt: u32, off: i32) -> u32 {
    i_type(5, rs, rt, off)
}
pub const fn bnel(rs: u32, rt: u32, off: i32) -> u32 {
    i_type(21, rs, rt, off)
}
pub const fn bgtz(rs: u32, off: i32) -> u32 {
    i_type(7, rs, 0, off)
}
pub const fn j(addr: u32) -> u32 {
    j_type(2, addr)
}
pub const fn jr(rs: u32) -> u32 {
    r_type(rs, 0, 0, 0, 8)
}
pub const fn mfc0(rt: u32, rd: u32) -> u32 {
    cop0(0, rt, rd, 0)
}
pub const fn mtc0(rt: u32, rd: u32) -> u32 {
    cop0(4, rt, rd, 0)
}

/// The exception handler placed at both vectors: counts the exception,
/// logs EPC, Cause, BadVAddr and Status, then returns past the faulting
/// instruction (past the branch and its slot when Cause.BD is set). Uses
/// only `$k0`/`$k1`.
pub fn handler() -> Vec<u32> {
    let log = (EXC_LOG & 0xffff) as i32;
    vec![
        lui(K1, 0x8000),
        lw(K0, (EXC_COUNT & 0xffff) as i32, K1),
        addiu(K0, K0, 1),
        sw(K0, (EXC_COUNT & 0xffff) as i32, K1),
        andi(K0, K0, 63),
        sll(K0, K0, 4),
        addu(K1, K1, K0),
        mfc0(K0, 14),
        sw(K0, log, K1),
        mfc0(K0, 13),
        sw(K0, log + 4, K1),
        mfc0(K0, 8),
        sw(K0, log + 8, K1),
        mfc0(K0, 12),
        sw(K0, log + 12, K1),
        // EPC += BD ? 8 : 4
        mfc0(K1, 13),
        srl(K1, K1, 31),
        sll(K1, K1, 2),
        mfc0(K0, 14),
        addu(K0, K0, K1),
        addiu(K0, K0, 4),
        mtc0(K0, 14),
        ERET,
    ]
}

/// Code that ends a run: writes 0x42 to the Malta SOFTRES register (the
/// run returns `Exit::Reset`), then spins.
pub fn reset_stub() -> Vec<u32> {
    vec![lui(K1, 0xbf00), ori(K0, ZERO, 0x42), sw(K0, 0x500, K1), beq(ZERO, ZERO, -1), NOP]
}

// ---- the generator -------------------------------------------------------------

/// A generated program and the initial register state it expects.
#[derive(Clone, Debug)]
pub struct Program {
    /// Words loaded at [`CODE`], ending with a jump to the reset stub and the stub.
    pub words: Vec<u32>,
    /// Initial GPRs (`$s0`, `$s1`, `$sp` point into the data areas).
    pub gpr: [u32; 32],
    pub hi: u32,
    pub lo: u32,
    /// Instruction limit for `Machine::run`.
    pub limit: u64,
}

/// Registers random instructions may write: all but `$zero`, the three
/// base registers, `$sp` and the loop counter.
const DEST: [u32; 26] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31];

/// Where a branch still needs its offset.
enum Fixup {
    /// PC-relative branch at `at` to index `target`.
    Branch { at: usize, target: usize },
    /// j/jal at `at` to index `target`.
    Jump { at: usize, target: usize },
    /// `lui`/`ori` pair at `at`, `at + 1` loading the address of `target`.
    Abs { at: usize, target: usize },
    /// Like `Abs`, but `target` moves to the next plain instruction (the
    /// word a self-modifying store replaces); `alias`: through kseg1.
    Patch { at: usize, target: usize, alias: bool },
}

struct Gen<'a> {
    rng: &'a mut StdRng,
    words: Vec<u32>,
    /// Whether control may be sent to this index (not inside a lui/ori/jr sequence).
    target_ok: Vec<bool>,
    /// Whether this index holds a lone non-branch instruction (not a delay
    /// slot, not part of a sequence): what self-modifying code may replace.
    plain: Vec<bool>,
    fixups: Vec<Fixup>,
    /// Index of the final `j stub`.
    end: usize,
    /// FPU programs (see `gen_fpu.rs`): the Status bits (CU1, FR) every
    /// generated Status write keeps. `None`: integer programs only.
    fpu: Option<u32>,
}

/// A value that is often a corner case.
pub fn interesting(rng: &mut StdRng) -> u32 {
    const CORNERS: [u32; 12] =
        [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fffe, 0x7fff, 0x8000, 0xffff, 0x1_0000, 0xffff_8000];
    match rng.gen_range(0..10) {
        0 | 1 => CORNERS[rng.gen_range(0..CORNERS.len())],
        2 => rng.gen_range(-16i32..16) as u32,
        3 => 1u32 << rng.gen_range(0..32),
        4 => (1u32 << rng.gen_range(0..32)).wrapping_sub(1),
        _ => rng.r#gen(),
    }
}

/// A 16-bit immediate that is often a corner case.
fn imm16(rng: &mut StdRng) -> i32 {
    match rng.gen_range(0..8) {
        0 => [0, 1, -1, 0x7fff, -0x8000, 0x8000 - 2][rng.gen_range(0..6)],
        1 | 2 => rng.gen_range(-16..16),
        _ => rng.gen_range(-0x8000..0x8000),
    }
}

impl Gen<'_> {
    fn dest(&mut self) -> u32 {
        DEST[self.rng.gen_range(0..DEST.len())]
    }

    fn src(&mut self) -> u32 {
        self.rng.gen_range(0..32)
    }

    /// Checks that `word` decodes to `op` (the encoders' self-test).
    fn check(word: u32, op: Op) -> u32 {
        let got = decode(word).op;
        assert_eq!(got, op, "encoder bug: {word:#010x} decodes to {got:?}, wanted {op:?}");
        word
    }

    fn push(&mut self, word: u32, op: Op, target_ok: bool) -> usize {
        self.words.push(Self::check(word, op));
        self.target_ok.push(target_ok);
        self.plain.push(false);
        self.words.len() - 1
    }

    /// An offset for a `size`-byte access from an aligned base: usually
    /// aligned, sometimes not (Address Error); small or anywhere in 16 bits.
    fn offset(&mut self, size: i32) -> i32 {
        let off =
            if self.rng.gen_bool(0.5) { self.rng.gen_range(-64..64) } else { self.rng.gen_range(-0x8000..0x8000) };
        if size > 1 && self.rng.gen_bool(0.85) { off & !(size - 1) } else { off }
    }

    /// A base register for an access that should reach RAM.
    fn good_base(&mut self) -> u32 {
        [S0, S0, S0, S1, SP][self.rng.gen_range(0..5)]
    }

    /// One random instruction that is not a branch.
    fn insn(&mut self) -> (u32, Op) {
        if self.fpu.is_some() && self.rng.gen_bool(0.6) {
            return fpu::insn(self);
        }
        let (d, s, t) = (self.dest(), self.src(), self.src());
        let k = self.rng.gen_range(0..100);
        match k {
            // Three-register ALU.
            0..=9 => {
                let (f, op) = [
                    (33, Op::Addu),
                    (35, Op::Subu),
                    (36, Op::And),
                    (37, Op::Or),
                    (38, Op::Xor),
                    (39, Op::Nor),
                    (42, Op::Slt),
                    (43, Op::Sltu),
                ][self.rng.gen_range(0..8)];
                (r_type(s, t, d, 0, f), op)
            }
            // add/sub: Integer Overflow.
            10..=13 => {
                let (f, op) = if self.rng.gen_bool(0.5) { (32, Op::Add) } else { (34, Op::Sub) };
                (r_type(s, t, d, 0, f), op)
            }
            // Shifts and rotates.
            14..=19 => {
                let sa = self.rng.gen_range(0..32);
                let (rs, sa_field, f, op) = [
                    (0, sa, 0, Op::Sll),
                    (0, sa, 2, Op::Srl),
                    (1, sa, 2, Op::Rotr),
                    (0, sa, 3, Op::Sra),
                    (s, 0, 4, Op::Sllv),
                    (s, 0, 6, Op::Srlv),
                    (s, 1, 6, Op::Rotrv),
                    (s, 0, 7, Op::Srav),
                ][self.rng.gen_range(0..8)];
                (r_type(rs, t, d, sa_field, f), op)
            }
            // Immediate ALU (addi overflows too).
            20..=27 => {
                let (opc, op) = [
                    (8, Op::Addi),
                    (9, Op::Addiu),
                    (10, Op::Slti),
                    (11, Op::Sltiu),
                    (12, Op::Andi),
                    (13, Op::Ori),
                    (14, Op::Xori),
                    (15, Op::Lui),
                ][self.rng.gen_range(0..8)];
                let rs = if op == Op::Lui { 0 } else { s };
                (i_type(opc, rs, d, imm16(self.rng)), op)
            }
            28..=29 => {
                let (f, op) = if self.rng.gen_bool(0.5) { (10, Op::Movz) } else { (11, Op::Movn) };
                (r_type(s, t, d, 0, f), op)
            }
            // Bit operations; ext/ins sometimes with the fields the manual
            // calls UNPREDICTABLE (both tiers: Reserved Instruction).
            30..=33 => match self.rng.gen_range(0..7) {
                0 => (special2(s, d, d, 0, 32), Op::Clz),
                1 => (special2(s, d, d, 0, 33), Op::Clo),
                2 => {
                    let lsb = self.rng.gen_range(0..32);
                    let size = if self.rng.gen_bool(0.9) {
                        self.rng.gen_range(1..=32 - lsb)
                    } else {
                        self.rng.gen_range(1..=32)
                    };
                    (special3(s, d, size - 1, lsb, 0), Op::Ext)
                }
                3 => {
                    let lsb = self.rng.gen_range(0..32);
                    let msb =
                        if self.rng.gen_bool(0.9) { self.rng.gen_range(lsb..32) } else { self.rng.gen_range(0..32) };
                    (special3(s, d, msb, lsb, 4), Op::Ins)
                }
                4 => (special3(0, t, d, 2, 32), Op::Wsbh),
                5 => (special3(0, t, d, 16, 32), Op::Seb),
                _ => (special3(0, t, d, 24, 32), Op::Seh),
            },
            // Multiply, divide, HI/LO.
            34..=39 => match self.rng.gen_range(0..13) {
                0 => (r_type(s, t, 0, 0, 24), Op::Mult),
                1 => (r_type(s, t, 0, 0, 25), Op::Multu),
                2 => (r_type(s, t, 0, 0, 26), Op::Div),
                3 => (r_type(s, t, 0, 0, 27), Op::Divu),
                4 => (special2(s, t, 0, 0, 0), Op::Madd),
                5 => (special2(s, t, 0, 0, 1), Op::Maddu),
                6 => (special2(s, t, 0, 0, 4), Op::Msub),
                7 => (special2(s, t, 0, 0, 5), Op::Msubu),
                8 => (special2(s, t, d, 0, 2), Op::Mul),
                9 => (r_type(0, 0, d, 0, 16), Op::Mfhi),
                10 => (r_type(0, 0, d, 0, 18), Op::Mflo),
                11 => (r_type(s, 0, 0, 0, 17), Op::Mthi),
                _ => (r_type(s, 0, 0, 0, 19), Op::Mtlo),
            },
            // Loads and stores into the scratch and stack areas.
            40..=53 => {
                let (opc, size, op) = [
                    (32, 1, Op::Lb),
                    (36, 1, Op::Lbu),
                    (33, 2, Op::Lh),
                    (37, 2, Op::Lhu),
                    (35, 4, Op::Lw),
                    (40, 1, Op::Sb),
                    (41, 2, Op::Sh),
                    (43, 4, Op::Sw),
                ][self.rng.gen_range(0..8)];
                let base = self.good_base();
                let off = self.offset(size);
                let rt = if opc >= 40 { t } else { d };
                (i_type(opc, base, rt, off), op)
            }
            54..=56 => {
                let (opc, op) = [(34, Op::Lwl), (38, Op::Lwr), (42, Op::Swl), (46, Op::Swr)][self.rng.gen_range(0..4)];
                let base = if self.rng.gen_bool(0.9) { self.good_base() } else { S2 };
                let off = self.offset(1);
                let rt = if opc >= 40 { t } else { d };
                (i_type(opc, base, rt, off), op)
            }
            // ll/sc on a few nearby words, so sc often meets its ll.
            57..=58 => {
                let off = [0, 4, 8, -4, 2][self.rng.gen_range(0..5)];
                if self.rng.gen_bool(0.5) { (ll(d, off, S0), Op::Ll) } else { (sc(d, off, S0), Op::Sc) }
            }
            // Accesses that fault: mapped addresses (TLB refill) or a random base.
            59..=61 => {
                let (opc, size, op) = [
                    (32, 1, Op::Lb),
                    (37, 2, Op::Lhu),
                    (35, 4, Op::Lw),
                    (40, 1, Op::Sb),
                    (41, 2, Op::Sh),
                    (43, 4, Op::Sw),
                ][self.rng.gen_range(0..6)];
                let base = if self.rng.gen_bool(0.7) { S2 } else { s };
                let off = self.offset(size);
                let rt = if opc >= 40 { t } else { d };
                (i_type(opc, base, rt, off), op)
            }
            // Traps, register and immediate forms.
            62..=64 => {
                if self.rng.gen_bool(0.5) {
                    let (f, op) =
                        [(48, Op::Tge), (49, Op::Tgeu), (50, Op::Tlt), (51, Op::Tltu), (52, Op::Teq), (54, Op::Tne)]
                            [self.rng.gen_range(0..6)];
                    let code = self.rng.gen_range(0..1024u32);
                    let t = if self.rng.gen_bool(0.2) { s } else { t };
                    (r_type(s, t, code >> 5, code & 31, f), op)
                } else {
                    let (c, op) = [
                        (8, Op::Tgei),
                        (9, Op::Tgeiu),
                        (10, Op::Tlti),
                        (11, Op::Tltiu),
                        (12, Op::Teqi),
                        (14, Op::Tnei),
                    ][self.rng.gen_range(0..6)];
                    (regimm(s, c, imm16(self.rng)), op)
                }
            }
            65 => {
                let code = self.rng.gen_range(0..1 << 20);
                if self.rng.gen_bool(0.5) { (code << 6 | 12, Op::Syscall) } else { (code << 6 | 13, Op::Break) }
            }
            66 => (self.reserved_word(), Op::Reserved),
            67..=68 => {
                const REGS: [(u32, u32); 17] = [
                    (14, 0),
                    (8, 0),
                    (12, 0),
                    (13, 0),
                    (9, 0),
                    (9, 0),
                    (15, 0),
                    (15, 1),
                    (16, 0),
                    (16, 1),
                    (11, 0),
                    (30, 0),
                    (31, 0),
                    (17, 0),
                    (4, 0),
                    (10, 0),
                    (12, 1),
                ];
                let (reg, sel) = if self.rng.gen_bool(0.9) {
                    REGS[self.rng.gen_range(0..REGS.len())]
                } else {
                    (self.rng.gen_range(0..32), self.rng.gen_range(0..8))
                };
                (cop0(0, d, reg, sel), Op::Mfc0)
            }
            // Coprocessor 1 and 2: Coprocessor Unusable.
            69 => match self.rng.gen_range(0..8) {
                0 => (0x4400_0000 | t << 16 | self.rng.gen_range(0..32) << 11, Op::Mfc1),
                1 => (0x4480_0000 | t << 16 | self.rng.gen_range(0..32) << 11, Op::Mtc1),
                2 => (0x4600_0000 | self.rng.gen_range(0..1u32 << 15) << 6, Op::FAdd),
                3 => (i_type(49, S0, self.rng.gen_range(0..32), self.offset(4)), Op::Lwc1),
                4 => (i_type(57, S0, self.rng.gen_range(0..32), self.offset(4)), Op::Swc1),
                5 => (i_type(53, S0, self.rng.gen_range(0..32), self.offset(8)), Op::Ldc1),
                6 => (i_type(50, S0, self.rng.gen_range(0..32), self.offset(4)), Op::Lwc2),
                _ => (0x4800_0000 | self.rng.gen_range(0..0x20_0000), Op::Cop2),
            },
            70 => {
                let rd = if self.rng.gen_bool(0.8) { self.rng.gen_range(0..4) } else { self.rng.gen_range(0..32) };
                (special3(0, d, rd, 0, 59), Op::Rdhwr)
            }
            // Hints, barriers, cache ops.
            71 => match self.rng.gen_range(0..6) {
                0 => (r_type(0, 0, 0, self.rng.gen_range(0..32), 15), Op::Sync),
                1 => (i_type(51, s, self.rng.gen_range(0..32), imm16(self.rng)), Op::Pref),
                2 => (i_type(47, s, self.rng.gen_range(0..32), imm16(self.rng)), Op::Cache),
                3 => (regimm(s, 31, imm16(self.rng)), Op::Synci),
                4 => (sll(0, 0, 1), Op::Sll),
                _ => (sll(0, 0, 3), Op::Sll),
            },
            // mtc0 to registers that cannot send control astray.
            72 => {
                const REGS: [(u32, u32); 13] = [
                    (14, 0),
                    (9, 0),
                    (30, 0),
                    (31, 0),
                    (11, 0),
                    (4, 0),
                    (10, 0),
                    (0, 0),
                    (2, 0),
                    (5, 0),
                    (6, 0),
                    (7, 0),
                    (13, 0),
                ];
                let (reg, sel) = REGS[self.rng.gen_range(0..REGS.len())];
                (cop0(4, s, reg, sel), Op::Mtc0)
            }
            // Rarely: stop the machine (sdbbp, wait), or a plain nop.
            73 => match self.rng.gen_range(0..40) {
                0 => (special2(0, 0, 0, 0, 63), Op::Sdbbp),
                1 => (0x4200_0020, Op::Wait),
                _ => (NOP, Op::Sll),
            },
            74..=79 => (i_type(9, s, d, imm16(self.rng)), Op::Addiu),
            _ => {
                // Register moves and constants: keep values flowing.
                match self.rng.gen_range(0..3) {
                    0 => (lui(d, self.rng.gen_range(0..0x10000)), Op::Lui),
                    1 => (ori(d, s, self.rng.gen_range(0..0x10000)), Op::Ori),
                    _ => (addu(d, s, 0), Op::Addu),
                }
            }
        }
    }

    /// A random word that decodes to [`Op::Reserved`].
    fn reserved_word(&mut self) -> u32 {
        for _ in 0..10_000 {
            let w: u32 = self.rng.r#gen();
            if decode(w).op == Op::Reserved {
                return w;
            }
        }
        // jalx: MIPS16 is absent, so Reserved Instruction.
        0x7400_0000
    }

    /// A forward branch or jump at the current position, targeting an index
    /// of at least `min_target` (fixed up later). Returns the op.
    fn forward_branch(&mut self, min_target: usize) -> Op {
        let at = self.words.len();
        let target = if self.rng.gen_bool(0.7) {
            (min_target + self.rng.gen_range(0..8)).min(self.end)
        } else {
            self.rng.gen_range(min_target..=self.end)
        };
        let s = self.src();
        let t = self.src();
        // *al branches: $ra as the condition register is UNPREDICTABLE.
        let s_al = if s == RA { T0 } else { s };
        let (word, op) = match self.rng.gen_range(0..24) {
            0 => (i_type(4, s, t, 0), Op::Beq),
            1 => (i_type(4, s, s, 0), Op::Beq),
            2 => (i_type(5, s, t, 0), Op::Bne),
            3 => (i_type(6, s, 0, 0), Op::Blez),
            4 => (i_type(7, s, 0, 0), Op::Bgtz),
            5 => (i_type(20, s, t, 0), Op::Beql),
            6 => (i_type(21, s, t, 0), Op::Bnel),
            7 => (i_type(22, s, 0, 0), Op::Blezl),
            8 => (i_type(23, s, 0, 0), Op::Bgtzl),
            9 => (regimm(s, 0, 0), Op::Bltz),
            10 => (regimm(s, 1, 0), Op::Bgez),
            11 => (regimm(s, 2, 0), Op::Bltzl),
            12 => (regimm(s, 3, 0), Op::Bgezl),
            13 => (regimm(s_al, 16, 0), Op::Bltzal),
            14 => (regimm(s_al, 17, 0), Op::Bgezal),
            15 => (regimm(s_al, 18, 0), Op::Bltzall),
            16 => (regimm(s_al, 19, 0), Op::Bgezall),
            17 => (regimm(0, 17, 0), Op::Bgezal), // bal
            18 => (i_type(4, 0, 0, 0), Op::Beq),  // b
            19 | 20 => {
                let (opc, op) = if self.rng.gen_bool(0.5) { (2, Op::J) } else { (3, Op::Jal) };
                self.push(opc << 26, op, true);
                self.fixups.push(Fixup::Jump { at, target });
                return op;
            }
            21..=23 if self.fpu.is_some() => {
                let (word, op) = [
                    (0x4500_0000, Op::Bc1f),
                    (0x4501_0000, Op::Bc1t),
                    (0x4502_0000, Op::Bc1fl),
                    (0x4503_0000, Op::Bc1tl),
                ][self.rng.gen_range(0..4)];
                (word | self.rng.gen_range(0..8) << 18, op)
            }
            21 if self.rng.gen_bool(0.3) => {
                let (word, op) = [(0x4500_0000, Op::Bc1f), (0x4501_0000, Op::Bc1t), (0x4502_0000, Op::Bc1fl)]
                    [self.rng.gen_range(0..3)];
                (word | self.rng.gen_range(0..8) << 18, op)
            }
            _ => (i_type(5, s, t, 0), Op::Bne),
        };
        self.push(word, op, true);
        self.fixups.push(Fixup::Branch { at, target });
        op
    }

    /// Generates the body up to `end`.
    fn body(&mut self) {
        while self.words.len() < self.end {
            let p = self.words.len();
            let room = self.end - p;
            let k = self.rng.gen_range(0..100);
            if room >= 2 && k < 16 {
                // A forward branch and a (non-branch) delay slot.
                self.forward_branch(p + 2);
                let (w, op) = self.insn();
                self.push(w, op, true);
            } else if room >= 2 && k < 19 {
                // A counted backward branch: all of them share $fp, so the
                // program still ends.
                let lo = p.saturating_sub(24);
                let candidates: Vec<usize> = (lo..=p).filter(|&i| i == p || self.target_ok[i]).collect();
                let target = candidates[self.rng.gen_range(0..candidates.len())];
                let off = target as i32 - (p as i32 + 1);
                if self.rng.gen_bool(0.5) {
                    self.push(bgtz(FP, off), Op::Bgtz, true);
                } else {
                    self.push(i_type(23, FP, 0, off), Op::Bgtzl, true);
                }
                self.push(addiu(FP, FP, -1), Op::Addiu, true);
            } else if room >= 6 && k < 21 && self.rng.gen_bool(0.3) {
                // A counted backward jr, as a loop through a jump table
                // makes (a region follows it inside, once `auto` mode saw
                // it): `blez $fp, past; addiu $fp, -1; lui/ori x; jr x`.
                let lo = p.saturating_sub(24);
                let candidates: Vec<usize> = (lo..p).filter(|&i| self.target_ok[i]).collect();
                let Some(&target) = candidates.get(self.rng.gen_range(0..candidates.len().max(1))) else { continue };
                let x = self.dest();
                self.push(i_type(6, FP, 0, 0), Op::Blez, true);
                self.fixups.push(Fixup::Branch { at: p, target: p + 6 });
                self.push(addiu(FP, FP, -1), Op::Addiu, true);
                self.push(lui(x, 0), Op::Lui, true);
                self.push(ori(x, x, 0), Op::Ori, false);
                self.fixups.push(Fixup::Abs { at: p + 2, target });
                self.push(jr(x), Op::Jr, false);
                let (w, op) = self.insn();
                self.push(w, op, true);
            } else if room >= 4 && k < 21 {
                // jr/jalr through a register loaded with lui/ori.
                let x = self.dest();
                let at = self.words.len();
                self.push(lui(x, 0), Op::Lui, true);
                self.push(ori(x, x, 0), Op::Ori, false);
                let (w, op) = match self.rng.gen_range(0..4) {
                    0 => (jr(x), Op::Jr),
                    1 => (r_type(x, 0, 0, 16, 8), Op::Jr), // jr.hb
                    _ => {
                        // jalr with rd == rs is UNPREDICTABLE: keep them apart.
                        let rd = if self.rng.gen_bool(0.5) { RA } else { self.dest() };
                        let rd = if rd == x { T0 } else { rd };
                        let rd = if rd == x { T1 } else { rd };
                        (r_type(x, 0, rd, 0, 9), Op::Jalr)
                    }
                };
                self.push(w, op, false);
                let min = at + 4;
                let target = if self.rng.gen_bool(0.7) {
                    (min + self.rng.gen_range(0..8)).min(self.end)
                } else {
                    self.rng.gen_range(min..=self.end)
                };
                self.fixups.push(Fixup::Abs { at, target });
                let (w, op) = self.insn();
                self.push(w, op, true);
            } else if room >= 3 && k < 22 {
                // A branch in a delay slot: Reserved Instruction (EPC = the
                // first branch, Cause.BD). The second branch is a branch of
                // its own when reached otherwise.
                self.forward_branch(p + 2);
                self.forward_branch(p + 3);
            } else if room >= 5 && k < 23 {
                // Self-modifying code: store a new instruction over a later
                // plain one (through kseg0 or its kseg1 alias).
                let (x, y) = (self.dest(), self.dest());
                let y = if y == x { if x == T0 { T1 } else { T0 } } else { y };
                let (new, op) = self.insn();
                let at = self.words.len();
                self.push(lui(x, 0), Op::Lui, true);
                self.push(ori(x, x, 0), Op::Ori, false);
                self.push(lui(y, new >> 16), Op::Lui, false);
                self.push(ori(y, y, new & 0xffff), Op::Ori, false);
                self.push(sw(y, 0, x), Op::Sw, false);
                let _ = op;
                let target = self.rng.gen_range(at + 5..=self.end);
                let alias = self.rng.gen_bool(0.3);
                self.fixups.push(Fixup::Patch { at, target, alias });
            } else if room >= 5 && k < 24 && self.rng.gen_bool(0.5) {
                // Interrupts: a software one (Cause.IP0/1) or the timer
                // (Compare = Count + a little), then Status.IE and IM (kernel
                // mode and the vectors stay). They arrive at slice
                // boundaries, which both tiers must place alike. The handler
                // does not acknowledge them, so they keep coming (each one
                // skips an instruction).
                let d = self.dest();
                let at = self.words.len();
                let (ip, delay, im) = (
                    self.rng.gen_range(1..4u32) << 8,
                    self.rng.gen_range(1..100),
                    self.rng.gen_range(0..0x100u32) << 8,
                );
                if self.rng.gen_bool(0.5) {
                    self.push(ori(d, ZERO, ip), Op::Ori, true);
                    self.push(mtc0(d, 13), Op::Mtc0, false);
                    self.push(NOP, Op::Sll, false);
                } else {
                    self.push(mfc0(d, 9), Op::Mfc0, true);
                    self.push(addiu(d, d, delay), Op::Addiu, false);
                    self.push(mtc0(d, 11), Op::Mtc0, false);
                }
                if let Some(keep) = self.fpu {
                    self.push(lui(d, keep >> 16), Op::Lui, false);
                    self.push(ori(d, d, 0x8301 | im), Op::Ori, false);
                } else {
                    self.push(ori(d, ZERO, 0x8301 | im), Op::Ori, false);
                }
                self.push(mtc0(d, 12), Op::Mtc0, false);
                debug_assert_eq!(self.words.len(), at + 5 + self.fpu.is_some() as usize);
            } else if self.fpu.is_some() && room >= 6 && k < 32 {
                fpu::sequence(self);
            } else {
                let (w, op) = self.insn();
                let at = self.push(w, op, true);
                self.plain[at] = true;
            }
        }
    }

    fn resolve(&mut self) {
        let first_ok =
            |target_ok: &[bool], t: usize| (t..target_ok.len()).find(|&i| target_ok[i]).expect("end is a target");
        for f in std::mem::take(&mut self.fixups) {
            match f {
                Fixup::Branch { at, target } => {
                    let t = first_ok(&self.target_ok, target);
                    let off = t as i32 - (at as i32 + 1);
                    assert!(off >= 1);
                    self.words[at] = (self.words[at] & 0xffff_0000) | (off as u32 & 0xffff);
                }
                Fixup::Jump { at, target } => {
                    let t = first_ok(&self.target_ok, target);
                    self.words[at] |= j_type(0, CODE + 4 * t as u32);
                }
                Fixup::Patch { at, target, alias } => {
                    // The nop after the final `j` is plain too.
                    let t = (target..self.words.len()).find(|&i| self.plain[i]).unwrap_or(self.end + 1);
                    let addr = (CODE + 4 * t as u32) | if alias { 0x2000_0000 } else { 0 };
                    self.words[at] |= addr >> 16;
                    self.words[at + 1] |= addr & 0xffff;
                }
                Fixup::Abs { at, target } => {
                    let t = first_ok(&self.target_ok, target);
                    let addr = CODE + 4 * t as u32;
                    self.words[at] |= addr >> 16;
                    self.words[at + 1] |= addr & 0xffff;
                }
            }
        }
    }
}

/// A random program of `len` instructions (plus the ending) from `rng`.
pub fn program(rng: &mut StdRng, len: usize) -> Program {
    program_with(rng, len, None)
}

/// [`program`], with FPU instructions mixed in when `fpu` holds the
/// Status bits (CU1, FR) that generated Status writes keep.
fn program_with(rng: &mut StdRng, len: usize, fpu: Option<u32>) -> Program {
    let len = len.max(4);
    let mut g =
        Gen { rng, words: Vec::new(), target_ok: Vec::new(), plain: Vec::new(), fixups: Vec::new(), end: len, fpu };
    g.body();
    let stub = CODE + 4 * (len as u32 + 2);
    g.push(j(stub), Op::J, true);
    g.push(NOP, Op::Sll, true);
    g.resolve();
    let mut words = g.words;
    words.extend(reset_stub());

    let mut gpr = [0u32; 32];
    for r in gpr.iter_mut().skip(1) {
        *r = interesting(rng);
    }
    gpr[S0 as usize] = SCRATCH_BASE;
    gpr[S1 as usize] = SCRATCH_BASE | 0x2000_0000;
    // kuseg, or kseg2/kseg3: both mapped, so every access misses the TLB.
    gpr[S2 as usize] =
        if rng.gen_bool(0.7) { rng.r#gen::<u32>() & 0x7fff_fff0 } else { rng.r#gen::<u32>() | 0xc000_0000 };
    gpr[SP as usize] = STACK_BASE;
    gpr[FP as usize] = rng.gen_range(0..=5);
    let (hi, lo) = (interesting(rng), interesting(rng));
    Program { words, gpr, hi, lo, limit: 5_000 }
}
