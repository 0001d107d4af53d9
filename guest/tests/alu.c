/*
 * alu - integer ALU instructions over a table of edge values.
 *
 * Every instruction is issued through inline asm (so the compiler cannot fold
 * it) and its result is printed in hex as "op operands -> result".  Each
 * result is also compared with a C reference model written without the
 * instruction under test where practical (loops for clz/clo, shift/mask for
 * ext/ins/wsbh/rotr ...); a mismatch adds " FAIL exp <value>".
 *
 * Trapping add/addi/sub: an exception hook catches Integer Overflow
 * (ExcCode 12), the result register must keep its old value (0x5a5a5a5a)
 * and the line says "OVF".
 */
#include "rt.h"

static const u32 vals[] = {
    0x00000000, 0x00000001, 0x00000002, 0xffffffff, 0xfffffffe, 0x7fffffff,
    0x80000000, 0x80000001, 0xdeadbeef, 0x12345678, 0x0000ffff, 0xffff8000,
    0x00008000, 0x0000001f, 0x00000020, 0x55aa33cc,
};
#define NV ARRAY_SIZE(vals)

static void line3(const char *op, u32 a, u32 b, u32 r, u32 exp)
{
    n_checks++;
    printf("%s %08x %08x -> %08x", op, a, b, r);
    if (r != exp) {
        n_failures++;
        printf(" FAIL exp %08x", exp);
    }
    uart_putc('\n');
}

static void line4(const char *op, u32 a, u32 b, u32 c, u32 r, u32 exp)
{
    n_checks++;
    printf("%s %08x %08x %08x -> %08x", op, a, b, c, r);
    if (r != exp) {
        n_failures++;
        printf(" FAIL exp %08x", exp);
    }
    uart_putc('\n');
}

/* ---- Integer overflow hook ------------------------------------------- */
static volatile u32 ovf_count;
static void ovf_hook(struct exc_frame *f)
{
    if (CAUSE_EXCCODE(f->cause) != EXC_OV || CAUSE_BD(f->cause)) {
        putstr("\n*** alu: unexpected exception ");
        exc_dump(f);
        _exit(1);
    }
    ovf_count++;
    f->epc += 4;
}

#define POISON 0x5a5a5a5au

/* ---- three-register ops ---------------------------------------------- */
#define RRR(fn, insn) \
    static NOINLINE u32 fn(u32 a, u32 b) { \
        u32 r = POISON; \
        __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "r"(b)); \
        return r; }
RRR(op_add, "add")
RRR(op_addu, "addu")
RRR(op_sub, "sub")
RRR(op_subu, "subu")
RRR(op_and, "and")
RRR(op_or, "or")
RRR(op_xor, "xor")
RRR(op_nor, "nor")
RRR(op_slt, "slt")
RRR(op_sltu, "sltu")
/* variable shifts: rd = rt << rs[4:0]  (asm operand order rd, rt, rs) */
RRR(op_sllv, "sllv")
RRR(op_srlv, "srlv")
RRR(op_srav, "srav")
RRR(op_rotrv, "rotrv")

/* movn/movz: rd keeps c unless the condition holds */
static NOINLINE u32 op_movn(u32 a, u32 b, u32 c)
{
    __asm__ __volatile__("movn %0, %1, %2" : "+r"(c) : "r"(a), "r"(b));
    return c;
}
static NOINLINE u32 op_movz(u32 a, u32 b, u32 c)
{
    __asm__ __volatile__("movz %0, %1, %2" : "+r"(c) : "r"(a), "r"(b));
    return c;
}

/* ---- reference models ------------------------------------------------- */
static int add_ovf(u32 a, u32 b) { u32 r = a + b; return ((a ^ r) & (b ^ r)) >> 31; }
static int sub_ovf(u32 a, u32 b) { u32 r = a - b; return ((a ^ b) & (a ^ r)) >> 31; }

static u32 ref_sll(u32 a, unsigned s) { s &= 31; while (s--) a += a; return a; }
static u32 ref_srl(u32 a, unsigned s) { s &= 31; return s ? (a / (1u << s)) : a; }
static u32 ref_sra(u32 a, unsigned s)
{
    s &= 31;
    u32 r = ref_srl(a, s);
    if ((a & 0x80000000u) && s)
        r |= ~0u << (32 - s);
    return r;
}
static u32 ref_rotr(u32 a, unsigned s)
{
    s &= 31;
    for (unsigned i = 0; i < s; i++)
        a = (a >> 1) | ((a & 1) << 31);
    return a;
}
static u32 ref_clz(u32 a)
{
    u32 n = 0;
    for (u32 m = 0x80000000u; m && !(a & m); m >>= 1)
        n++;
    return n;
}
static u32 ref_ext(u32 a, unsigned pos, unsigned size)
{
    u32 r = 0;
    for (unsigned i = 0; i < size; i++)
        r |= ((a >> (pos + i)) & 1) << i;
    return r;
}
static u32 ref_ins(u32 rt, u32 rs, unsigned pos, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        u32 bit = (rs >> i) & 1;
        rt = (rt & ~(1u << (pos + i))) | (bit << (pos + i));
    }
    return rt;
}
static u32 ref_slt(u32 a, u32 b)
{
    /* compare as signed without slt: flip sign bits, unsigned compare */
    return (a ^ 0x80000000u) < (b ^ 0x80000000u);
}

static void test_rrr(void)
{
    static const struct {
        const char *name;
        u32 (*fn)(u32, u32);
        int kind;
    } ops[] = {
        { "add", op_add, 0 }, { "addu", op_addu, 1 }, { "sub", op_sub, 2 },
        { "subu", op_subu, 3 }, { "and", op_and, 4 }, { "or", op_or, 5 },
        { "xor", op_xor, 6 }, { "nor", op_nor, 7 }, { "slt", op_slt, 8 },
        { "sltu", op_sltu, 9 },
    };
    for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
        for (unsigned i = 0; i < NV; i++) {
            for (unsigned j = 0; j < NV; j++) {
                u32 a = vals[i], b = vals[j];
                u32 before = ovf_count;
                u32 r = ops[o].fn(a, b);
                int trapped = ovf_count != before;
                u32 exp = 0;
                int exp_trap = 0;
                switch (ops[o].kind) {
                case 0: exp_trap = add_ovf(a, b); exp = exp_trap ? POISON : a + b; break;
                case 1: exp = a + b; break;
                case 2: exp_trap = sub_ovf(a, b); exp = exp_trap ? POISON : a - b; break;
                case 3: exp = a - b; break;
                case 4: exp = a & b; break;
                case 5: exp = a | b; break;
                case 6: exp = a ^ b; break;
                case 7: exp = ~(a | b); break;
                case 8: exp = ref_slt(a, b); break;
                case 9: exp = a < b; break;
                }
                n_checks++;
                printf("%s %08x %08x -> %08x%s", ops[o].name, a, b, r, trapped ? " OVF" : "");
                if (r != exp || trapped != exp_trap) {
                    n_failures++;
                    printf(" FAIL exp %08x%s", exp, exp_trap ? " OVF" : "");
                }
                uart_putc('\n');
            }
        }
    }
}

/* ---- immediate forms --------------------------------------------------- */
static const s32 simm[] = { 0, 1, -1, 0x7fff, -0x8000, 0x1234, -2 };
static const u32 uimm[] = { 0, 1, 0xffff, 0x8000, 0x00ff, 0x1234, 0xa5a5 };

/* one function per immediate index, selected by a switch */
#define RRI_FN(fn, insn, immtab) \
    static NOINLINE u32 fn(u32 a, unsigned k) { \
        u32 r = POISON; \
        switch (k) { \
        case 0: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_0)); break; \
        case 1: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_1)); break; \
        case 2: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_2)); break; \
        case 3: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_3)); break; \
        case 4: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_4)); break; \
        case 5: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_5)); break; \
        case 6: __asm__ __volatile__(insn " %0, %1, %2" : "+r"(r) : "r"(a), "n"(immtab##_6)); break; \
        } \
        return r; }
#define S_0 0
#define S_1 1
#define S_2 (-1)
#define S_3 0x7fff
#define S_4 (-0x8000)
#define S_5 0x1234
#define S_6 (-2)
#define U_0 0
#define U_1 1
#define U_2 0xffff
#define U_3 0x8000
#define U_4 0x00ff
#define U_5 0x1234
#define U_6 0xa5a5
RRI_FN(op_addi, "addi", S)
RRI_FN(op_addiu, "addiu", S)
RRI_FN(op_slti, "slti", S)
RRI_FN(op_sltiu, "sltiu", S)
RRI_FN(op_andi, "andi", U)
RRI_FN(op_ori, "ori", U)
RRI_FN(op_xori, "xori", U)

static NOINLINE u32 op_lui(unsigned k)
{
    u32 r = POISON;
    switch (k) {
    case 0: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_0)); break;
    case 1: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_1)); break;
    case 2: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_2)); break;
    case 3: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_3)); break;
    case 4: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_4)); break;
    case 5: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_5)); break;
    case 6: __asm__ __volatile__("lui %0, %1" : "+r"(r) : "n"(U_6)); break;
    }
    return r;
}

static void test_imm(void)
{
    static const struct {
        const char *name;
        u32 (*fn)(u32, unsigned);
        int kind;
    } ops[] = {
        { "addi", op_addi, 0 }, { "addiu", op_addiu, 1 }, { "slti", op_slti, 2 },
        { "sltiu", op_sltiu, 3 }, { "andi", op_andi, 4 }, { "ori", op_ori, 5 },
        { "xori", op_xori, 6 },
    };
    for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
        for (unsigned i = 0; i < NV; i++) {
            for (unsigned k = 0; k < ARRAY_SIZE(simm); k++) {
                u32 a = vals[i];
                u32 si = (u32)simm[k], ui = uimm[k];
                u32 imm = ops[o].kind < 4 ? si : ui;
                u32 before = ovf_count;
                u32 r = ops[o].fn(a, k);
                int trapped = ovf_count != before;
                u32 exp = 0;
                int exp_trap = 0;
                switch (ops[o].kind) {
                case 0: exp_trap = add_ovf(a, si); exp = exp_trap ? POISON : a + si; break;
                case 1: exp = a + si; break;
                case 2: exp = ref_slt(a, si); break;
                case 3: exp = a < si; break; /* sign-extended imm, unsigned compare */
                case 4: exp = a & ui; break;
                case 5: exp = a | ui; break;
                case 6: exp = a ^ ui; break;
                }
                n_checks++;
                printf("%s %08x imm %08x -> %08x%s", ops[o].name, a, imm, r, trapped ? " OVF" : "");
                if (r != exp || trapped != exp_trap) {
                    n_failures++;
                    printf(" FAIL exp %08x%s", exp, exp_trap ? " OVF" : "");
                }
                uart_putc('\n');
            }
        }
    }
    for (unsigned k = 0; k < ARRAY_SIZE(uimm); k++)
        line3("lui", uimm[k], 0, op_lui(k), uimm[k] << 16);
}

/* ---- shifts by constant ----------------------------------------------------- */
static const unsigned shamts[] = { 0, 1, 4, 15, 16, 31 };
#define SH_FN(fn, insn) \
    static NOINLINE u32 fn(u32 a, unsigned k) { \
        u32 r = POISON; \
        switch (k) { \
        case 0: __asm__ __volatile__(insn " %0, %1, 0" : "+r"(r) : "r"(a)); break; \
        case 1: __asm__ __volatile__(insn " %0, %1, 1" : "+r"(r) : "r"(a)); break; \
        case 2: __asm__ __volatile__(insn " %0, %1, 4" : "+r"(r) : "r"(a)); break; \
        case 3: __asm__ __volatile__(insn " %0, %1, 15" : "+r"(r) : "r"(a)); break; \
        case 4: __asm__ __volatile__(insn " %0, %1, 16" : "+r"(r) : "r"(a)); break; \
        case 5: __asm__ __volatile__(insn " %0, %1, 31" : "+r"(r) : "r"(a)); break; \
        } \
        return r; }
SH_FN(op_sll, "sll")
SH_FN(op_srl, "srl")
SH_FN(op_sra, "sra")
SH_FN(op_rotr, "rotr")

static void test_shifts(void)
{
    static const char *names[] = { "sll", "srl", "sra", "rotr" };
    static u32 (*const fns[])(u32, unsigned) = { op_sll, op_srl, op_sra, op_rotr };
    static u32 (*const refs[])(u32, unsigned) = { ref_sll, ref_srl, ref_sra, ref_rotr };
    for (unsigned o = 0; o < 4; o++)
        for (unsigned i = 0; i < NV; i++)
            for (unsigned k = 0; k < ARRAY_SIZE(shamts); k++)
                line3(names[o], vals[i], shamts[k], fns[o](vals[i], k),
                      refs[o](vals[i], shamts[k]));

    /* variable shifts: only rs[4:0] counts (32 -> 0, 33 -> 1, -1 -> 31) */
    static const u32 amts[] = { 0, 1, 7, 16, 31, 32, 33, 0xffffffff, 0x80000004 };
    static const char *vnames[] = { "sllv", "srlv", "srav", "rotrv" };
    static u32 (*const vfns[])(u32, u32) = { op_sllv, op_srlv, op_srav, op_rotrv };
    for (unsigned o = 0; o < 4; o++)
        for (unsigned i = 0; i < NV; i++)
            for (unsigned k = 0; k < ARRAY_SIZE(amts); k++)
                line3(vnames[o], vals[i], amts[k], vfns[o](vals[i], amts[k]),
                      refs[o](vals[i], amts[k] & 31));
}

/* ---- clz/clo, wsbh/seb/seh -------------------------------------------------- */
#define RR(fn, insn) \
    static NOINLINE u32 fn(u32 a) { u32 r = POISON; \
        __asm__ __volatile__(insn " %0, %1" : "+r"(r) : "r"(a)); return r; }
RR(op_clz, "clz")
RR(op_clo, "clo")
RR(op_wsbh, "wsbh")
RR(op_seb, "seb")
RR(op_seh, "seh")

static void test_unary(void)
{
    static const u32 more[] = { 0x00000100, 0x0fffffff, 0xf0000000, 0xfffffff0, 0x000000ff, 0x0000007f, 0x00000080 };
    for (unsigned pass = 0; pass < 2; pass++) {
        const u32 *tab = pass ? more : vals;
        unsigned n = pass ? ARRAY_SIZE(more) : NV;
        for (unsigned i = 0; i < n; i++) {
            u32 a = tab[i];
            line3("clz", a, 0, op_clz(a), ref_clz(a));
            line3("clo", a, 0, op_clo(a), ref_clz(~a));
            line3("wsbh", a, 0, op_wsbh(a),
                  ((a & 0x00ff00ffu) << 8) | ((a >> 8) & 0x00ff00ffu));
            line3("seb", a, 0, op_seb(a), (a & 0x80) ? (a | 0xffffff00u) : (a & 0xff));
            line3("seh", a, 0, op_seh(a), (a & 0x8000) ? (a | 0xffff0000u) : (a & 0xffff));
        }
    }
}

/* ---- ext / ins ----------------------------------------------------------- */
static const unsigned bf[][2] = { /* pos, size */
    { 0, 1 }, { 0, 8 }, { 4, 8 }, { 8, 16 }, { 16, 16 }, { 31, 1 }, { 3, 29 }, { 0, 32 }, { 7, 5 },
};
#define BF_FN(fn, k) \
    case k: __asm__ __volatile__("ext %0, %1, %2, %3" : "+r"(r) : "r"(a), "n"(bf_pos_##k), "n"(bf_size_##k)); break;
#define bf_pos_0 0
#define bf_size_0 1
#define bf_pos_1 0
#define bf_size_1 8
#define bf_pos_2 4
#define bf_size_2 8
#define bf_pos_3 8
#define bf_size_3 16
#define bf_pos_4 16
#define bf_size_4 16
#define bf_pos_5 31
#define bf_size_5 1
#define bf_pos_6 3
#define bf_size_6 29
#define bf_pos_7 0
#define bf_size_7 32
#define bf_pos_8 7
#define bf_size_8 5

static NOINLINE u32 op_ext(u32 a, unsigned k)
{
    u32 r = POISON;
    switch (k) {
    BF_FN(ext, 0) BF_FN(ext, 1) BF_FN(ext, 2) BF_FN(ext, 3) BF_FN(ext, 4)
    BF_FN(ext, 5) BF_FN(ext, 6) BF_FN(ext, 7) BF_FN(ext, 8)
    }
    return r;
}
#define BI_FN(k) \
    case k: __asm__ __volatile__("ins %0, %1, %2, %3" : "+r"(rt) : "r"(rs), "n"(bf_pos_##k), "n"(bf_size_##k)); break;
static NOINLINE u32 op_ins(u32 rt, u32 rs, unsigned k)
{
    switch (k) {
    BI_FN(0) BI_FN(1) BI_FN(2) BI_FN(3) BI_FN(4) BI_FN(5) BI_FN(6) BI_FN(7) BI_FN(8)
    }
    return rt;
}

static void test_bitfield(void)
{
    char name[24];
    for (unsigned k = 0; k < ARRAY_SIZE(bf); k++) {
        unsigned pos = bf[k][0], size = bf[k][1];
        for (unsigned i = 0; i < NV; i++) {
            u32 a = vals[i];
            /* "ext p,s" label */
            name[0] = 0;
            {
                char *p = name;
                const char *t = "ext ";
                while (*t) *p++ = *t++;
                *p++ = (char)('0' + pos / 10); *p++ = (char)('0' + pos % 10); *p++ = ',';
                *p++ = (char)('0' + size / 10); *p++ = (char)('0' + size % 10); *p = 0;
            }
            line3(name, a, 0, op_ext(a, k), ref_ext(a, pos, size));
            name[0] = 'i'; name[1] = 'n'; name[2] = 's';
            u32 rt = vals[(i + 5) % NV];
            line3(name, rt, a, op_ins(rt, a, k), ref_ins(rt, a, pos, size));
        }
    }
}

/* ---- movn / movz ----------------------------------------------------------- */
static void test_movcond(void)
{
    static const u32 conds[] = { 0, 1, 0x80000000, 0xffffffff };
    for (unsigned i = 0; i < NV; i++)
        for (unsigned k = 0; k < ARRAY_SIZE(conds); k++) {
            u32 a = vals[i], c = conds[k], old = 0xc0ffee00u + i;
            line4("movn", a, c, old, op_movn(a, c, old), c ? a : old);
            line4("movz", a, c, old, op_movz(a, c, old), c ? old : a);
        }
}

/* ---- $zero as destination and source --------------------------------------- */
static void test_zero_reg(void)
{
    u32 r, s;
    /* writes to $0 are discarded; reading $0 gives 0 */
    __asm__ __volatile__(
        "addiu $0, $0, 123\n\t"
        "lui   $0, 0x1234\n\t"
        "move  %0, $0\n\t"
        "addu  %1, $0, $0"
        : "=r"(r), "=r"(s));
    line3("zero-dest", 123, 0x12340000, r, 0);
    line3("zero-src", 0, 0, s, 0);
}

int main(void)
{
    puts("alu test (" ENDIAN_NAME ")");
    exc_hook = ovf_hook;
    test_rrr();
    test_imm();
    test_shifts();
    test_unary();
    test_bitfield();
    test_movcond();
    test_zero_reg();
    exc_hook = 0;
    printf("overflow traps: %u\n", ovf_count);
    return summary("alu");
}
