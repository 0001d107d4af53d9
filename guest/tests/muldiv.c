/*
 * muldiv - HI/LO multiply/divide unit.
 *
 *   mult/multu      HI:LO = rs * rt (64-bit product)
 *   div/divu        LO = quotient, HI = remainder (truncating division)
 *   mul             rd = low 32 bits (HI/LO are UNPREDICTABLE afterwards: not printed)
 *   madd/maddu/msub/msubu   HI:LO +/-= rs * rt, starting from a preset HI:LO
 *   mthi/mtlo/mfhi/mflo     round trips
 *
 * References use shift-and-add / restoring division in C (no mult/div).
 * Division by zero and INT_MIN / -1 are UNPREDICTABLE in the manual: the
 * results are NOT printed; we only check that no exception is raised.
 * (GCC's own -mcheck-zero-division `teq` is not involved: the divisions
 * are issued through inline asm.)
 */
#include "rt.h"

static const u32 vals[] = {
    0x00000000, 0x00000001, 0x00000002, 0x00000003, 0xffffffff, 0xfffffffe,
    0x7fffffff, 0x80000000, 0x80000001, 0xdeadbeef, 0x12345678, 0x0000ffff,
    0x00010000, 0xffff0000, 0x00000007, 0xfffffff9,
};
#define NV ARRAY_SIZE(vals)

/* ---- reference models (no mult/div instructions) ---------------------------- */
static u64 ref_multu(u32 a, u32 b)
{
    u64 acc = 0, aa = a;
    for (int i = 0; i < 32; i++) {
        if (b & 1)
            acc += aa;
        aa += aa;
        b >>= 1;
    }
    return acc;
}
static u64 ref_mult(u32 a, u32 b)
{
    int neg = 0;
    if ((s32)a < 0) { a = -a; neg ^= 1; }
    if ((s32)b < 0) { b = -b; neg ^= 1; }
    u64 p = ref_multu(a, b);
    return neg ? (u64)0 - p : p;
}
static void ref_divu(u32 n, u32 d, u32 *q, u32 *r)
{
    u32 qq = 0, rr = 0;
    for (int i = 31; i >= 0; i--) {
        rr = (rr << 1) | ((n >> i) & 1);
        if (rr >= d) {
            rr -= d;
            qq |= 1u << i;
        }
    }
    *q = qq;
    *r = rr;
}
static void ref_div(u32 n, u32 d, u32 *q, u32 *r)
{
    int nn = (s32)n < 0, dn = (s32)d < 0;
    u32 qq, rr;
    ref_divu(nn ? -n : n, dn ? -d : d, &qq, &rr);
    *q = (nn ^ dn) ? -qq : qq;
    *r = nn ? -rr : rr;
}

/* ---- instruction wrappers ----------------------------------------------------- */
#define HILO_OP(fn, insn) \
    static NOINLINE void fn(u32 a, u32 b, u32 *hi, u32 *lo) { \
        u32 h, l; \
        __asm__ __volatile__(insn " %2, %3\n\tmfhi %0\n\tmflo %1" \
                             : "=r"(h), "=r"(l) : "r"(a), "r"(b) : "hi", "lo"); \
        *hi = h; *lo = l; }
HILO_OP(op_mult, "mult")
HILO_OP(op_multu, "multu")
/* "div $0, rs, rt" is the assembler spelling of the bare DIV (no macro expansion) */
HILO_OP(op_div, "div $0,")
HILO_OP(op_divu, "divu $0,")

#define ACC_OP(fn, insn) \
    static NOINLINE void fn(u32 a, u32 b, u32 *hi, u32 *lo) { \
        u32 h = *hi, l = *lo; \
        __asm__ __volatile__("mthi %0\n\tmtlo %1\n\t" insn " %2, %3\n\tmfhi %0\n\tmflo %1" \
                             : "+r"(h), "+r"(l) : "r"(a), "r"(b) : "hi", "lo"); \
        *hi = h; *lo = l; }
ACC_OP(op_madd, "madd")
ACC_OP(op_maddu, "maddu")
ACC_OP(op_msub, "msub")
ACC_OP(op_msubu, "msubu")

static NOINLINE u32 op_mul(u32 a, u32 b)
{
    u32 r;
    __asm__ __volatile__("mul %0, %1, %2" : "=r"(r) : "r"(a), "r"(b) : "hi", "lo");
    return r;
}

static void show2(const char *op, u32 a, u32 b, u32 hi, u32 lo, u32 ehi, u32 elo)
{
    n_checks++;
    printf("%s %08x %08x -> hi %08x lo %08x", op, a, b, hi, lo);
    if (hi != ehi || lo != elo) {
        n_failures++;
        printf(" FAIL exp hi %08x lo %08x", ehi, elo);
    }
    uart_putc('\n');
}

/* ---- unexpected-exception guard -------------------------------------------------- */
static volatile u32 exc_seen;
static void guard_hook(struct exc_frame *f)
{
    exc_seen++;
    printf("*** exception ExcCode %u at EPC %08x\n", CAUSE_EXCCODE(f->cause), f->epc);
    f->epc += 4;
}

int main(void)
{
    puts("muldiv test (" ENDIAN_NAME ")");
    exc_hook = guard_hook;

    for (unsigned i = 0; i < NV; i++)
        for (unsigned j = 0; j < NV; j++) {
            u32 a = vals[i], b = vals[j], hi, lo;
            u64 p = ref_mult(a, b), pu = ref_multu(a, b);
            op_mult(a, b, &hi, &lo);
            show2("mult", a, b, hi, lo, (u32)(p >> 32), (u32)p);
            op_multu(a, b, &hi, &lo);
            show2("multu", a, b, hi, lo, (u32)(pu >> 32), (u32)pu);

            u32 r = op_mul(a, b);
            n_checks++;
            printf("mul %08x %08x -> %08x", a, b, r);
            if (r != (u32)p) { n_failures++; printf(" FAIL exp %08x", (u32)p); }
            uart_putc('\n');

            if (b != 0) {
                u32 q, rem;
                if (!(a == 0x80000000u && b == 0xffffffffu)) {
                    ref_div(a, b, &q, &rem);
                    op_div(a, b, &hi, &lo);
                    show2("div", a, b, hi, lo, rem, q);
                }
                ref_divu(a, b, &q, &rem);
                op_divu(a, b, &hi, &lo);
                show2("divu", a, b, hi, lo, rem, q);
            }
        }

    /* multiply-accumulate from a few preset accumulators */
    static const u32 acc[][2] = {
        { 0, 0 }, { 0, 0xffffffff }, { 0xffffffff, 0xffffffff }, { 0x7fffffff, 0xffffffff },
        { 0x80000000, 0 }, { 0x12345678, 0x9abcdef0 },
    };
    for (unsigned k = 0; k < ARRAY_SIZE(acc); k++)
        for (unsigned i = 0; i < NV; i += 3)
            for (unsigned j = 1; j < NV; j += 2) {
                u32 a = vals[i], b = vals[j];
                u64 h0 = ((u64)acc[k][0] << 32) | acc[k][1];
                u64 p = ref_mult(a, b), pu = ref_multu(a, b), e;
                u32 hi, lo;
                printf("acc %08x:%08x\n", acc[k][0], acc[k][1]);
                hi = acc[k][0]; lo = acc[k][1]; op_madd(a, b, &hi, &lo);
                e = h0 + p;  show2(" madd", a, b, hi, lo, (u32)(e >> 32), (u32)e);
                hi = acc[k][0]; lo = acc[k][1]; op_maddu(a, b, &hi, &lo);
                e = h0 + pu; show2(" maddu", a, b, hi, lo, (u32)(e >> 32), (u32)e);
                hi = acc[k][0]; lo = acc[k][1]; op_msub(a, b, &hi, &lo);
                e = h0 - p;  show2(" msub", a, b, hi, lo, (u32)(e >> 32), (u32)e);
                hi = acc[k][0]; lo = acc[k][1]; op_msubu(a, b, &hi, &lo);
                e = h0 - pu; show2(" msubu", a, b, hi, lo, (u32)(e >> 32), (u32)e);
            }

    /* mthi/mtlo/mfhi/mflo round trips, and HI/LO independence */
    for (unsigned i = 0; i < NV; i++) {
        u32 h, l, v = vals[i], w = ~vals[i];
        __asm__ __volatile__("mthi %2\n\tmtlo %3\n\tmfhi %0\n\tmflo %1"
                             : "=&r"(h), "=&r"(l) : "r"(v), "r"(w) : "hi", "lo");
        show2("mthi/mtlo", v, w, h, l, v, w);
    }

    /* UNPREDICTABLE results: only check that nothing traps (values not printed). */
    for (unsigned i = 0; i < NV; i++) {
        u32 hi, lo;
        op_div(vals[i], 0, &hi, &lo);
        op_divu(vals[i], 0, &hi, &lo);
    }
    {
        u32 hi, lo;
        op_div(0x80000000u, 0xffffffffu, &hi, &lo);
    }
    check("exceptions from div/0 and INT_MIN/-1", exc_seen, 0);

    /* mul does not trap and only its low word matters, also with HI/LO live. */
    {
        u32 h, l, r;
        __asm__ __volatile__("mthi %3\n\tmtlo %3\n\tmul %2, %4, %4\n\tmfhi %0\n\tmflo %1"
                             : "=&r"(h), "=&r"(l), "=&r"(r) : "r"(5u), "r"(0x10001u) : "hi", "lo");
        check("mul 0x10001^2", r, 0x00020001);
    }

    exc_hook = 0;
    return summary("muldiv");
}
