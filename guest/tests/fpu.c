/*
 * fpu - the 24Kf's FPU (CP1 and COP1X): arithmetic in the four rounding
 * modes with FCSR Cause/Flags, legacy NaNs, conversions at the edges, the
 * 16 compare conditions, condition-code branches and moves, loads and
 * stores in both byte orders, FR=0 register pairs and FR=1, control
 * registers, and enabled exceptions (Floating Point, ExcCode 15).
 *
 * mipsjit-cpu: 24Kf (tests/all/guest.rs runs this program with
 * `--cpu 24Kf` and QEMU -cpu 24Kf; the others run on a 24Kc).
 *
 * Tables print every result with the whole FCSR after it; a few values are
 * also checked against the manual (or softfloat) where the answer is
 * known.  The program is built -msoft-float: the FPU is reached through
 * inline assembly that switches the assembler to hard float locally.
 */
#include "rt.h"

#define HF ".set push\n\t.set hardfloat\n\t.set fp=64\n\t"
#define HE "\n\t.set pop"
#define POISON 0x5a5a5a5au

#define ST_CU1 (1u << 29)
#define ST_FR (1u << 26)
#define ST_BASE 0x10000000u /* what start.S writes: CU0 */

#define EXC_FPE 15

u32 fp_branches(u32 fccr);
u32 fp_loop(u32 n);
u32 fpe_in_slot(u32 x);
extern char fpe_in_slot_x[], fpe_in_slot_r[];

static u32 get_fcsr(void)
{
    u32 v;
    __asm__ __volatile__(HF "cfc1 %0, $31" HE : "=r"(v));
    return v;
}

static void set_fcsr(u32 v)
{
    __asm__ __volatile__(HF "ctc1 %0, $31" HE ::"r"(v));
}

#define CFC1(n) ({ u32 __v; __asm__ __volatile__(HF "cfc1 %0, $" #n HE : "=r"(__v)); __v; })
#define CTC1(n, v) __asm__ __volatile__(HF "ctc1 %0, $" #n HE ::"r"((u32)(v)))

static void set_status(u32 v)
{
    mtc0(12, 0, v);
}

/* ---- instruction wrappers ---------------------------------------------- */
/* Operands go in $f2/$f4/$f8, the result comes from $f6, preset to POISON
 * so that a trapping instruction is seen to leave it alone.  mthc1/mfhc1
 * reach the high word of a double under both FR=0 (the odd register) and
 * FR=1 (the high half). */

typedef u32 (*s1_fn)(u32);
typedef u32 (*s2_fn)(u32, u32);
typedef u64 (*d1_fn)(u64);
typedef u64 (*d2_fn)(u64, u64);

#define LD_S(reg, v) "mtc1 %" #v ", $f" #reg "\n\t"
#define LD_D(reg, lo, hi) "mtc1 %" #lo ", $f" #reg "\n\tmthc1 %" #hi ", $f" #reg "\n\t"

#define S1(name, insn)                                                              \
    static NOINLINE u32 name(u32 a)                                                 \
    {                                                                               \
        u32 r;                                                                      \
        __asm__ __volatile__(HF LD_S(2, 1) LD_S(6, 2) insn " $f6, $f2\n\tmfc1 %0, $f6" HE \
                             : "=r"(r) : "r"(a), "r"(POISON));                     \
        return r;                                                                   \
    }

#define S2(name, insn)                                                                          \
    static NOINLINE u32 name(u32 a, u32 b)                                                      \
    {                                                                                           \
        u32 r;                                                                                  \
        __asm__ __volatile__(HF LD_S(2, 1) LD_S(4, 2) LD_S(6, 3) insn " $f6, $f2, $f4\n\tmfc1 %0, $f6" HE \
                             : "=r"(r) : "r"(a), "r"(b), "r"(POISON));                         \
        return r;                                                                               \
    }

/* double -> double */
#define D1(name, insn)                                                                   \
    static NOINLINE u64 name(u64 a)                                                      \
    {                                                                                    \
        u32 lo, hi;                                                                      \
        __asm__ __volatile__(HF LD_D(2, 2, 3) LD_D(6, 4, 4) insn " $f6, $f2\n\t"          \
                             "mfc1 %0, $f6\n\tmfhc1 %1, $f6" HE                          \
                             : "=&r"(lo), "=&r"(hi)                                      \
                             : "r"((u32)a), "r"((u32)(a >> 32)), "r"(POISON));           \
        return (u64)hi << 32 | lo;                                                       \
    }

#define D2(name, insn)                                                                             \
    static NOINLINE u64 name(u64 a, u64 b)                                                         \
    {                                                                                              \
        u32 lo, hi;                                                                                \
        __asm__ __volatile__(HF LD_D(2, 2, 3) LD_D(4, 4, 5) LD_D(6, 6, 6) insn " $f6, $f2, $f4\n\t" \
                             "mfc1 %0, $f6\n\tmfhc1 %1, $f6" HE                                    \
                             : "=&r"(lo), "=&r"(hi)                                                \
                             : "r"((u32)a), "r"((u32)(a >> 32)), "r"((u32)b), "r"((u32)(b >> 32)), \
                               "r"(POISON));                                                       \
        return (u64)hi << 32 | lo;                                                                 \
    }

/* single/word -> double/long */
#define SD(name, insn)                                                        \
    static NOINLINE u64 name(u32 a)                                           \
    {                                                                         \
        u32 lo, hi;                                                           \
        __asm__ __volatile__(HF LD_S(2, 2) LD_D(6, 3, 3) insn " $f6, $f2\n\t" \
                             "mfc1 %0, $f6\n\tmfhc1 %1, $f6" HE               \
                             : "=&r"(lo), "=&r"(hi) : "r"(a), "r"(POISON));  \
        return (u64)hi << 32 | lo;                                            \
    }

/* double/long -> single/word */
#define DS(name, insn)                                                                        \
    static NOINLINE u32 name(u64 a)                                                           \
    {                                                                                         \
        u32 r;                                                                                \
        __asm__ __volatile__(HF LD_D(2, 1, 2) LD_S(6, 3) insn " $f6, $f2\n\tmfc1 %0, $f6" HE \
                             : "=r"(r) : "r"((u32)a), "r"((u32)(a >> 32)), "r"(POISON));     \
        return r;                                                                             \
    }

/* madd family: fd = f(fs = $f2, ft = $f4, fr = $f8) */
#define S3(name, insn)                                                                                 \
    static NOINLINE u32 name(u32 s, u32 t, u32 r_)                                                     \
    {                                                                                                  \
        u32 r;                                                                                         \
        __asm__ __volatile__(HF LD_S(2, 1) LD_S(4, 2) LD_S(8, 3) LD_S(6, 4) insn " $f6, $f8, $f2, $f4\n\t" \
                             "mfc1 %0, $f6" HE                                                         \
                             : "=r"(r) : "r"(s), "r"(t), "r"(r_), "r"(POISON));                       \
        return r;                                                                                      \
    }

S2(add_s, "add.s") S2(sub_s, "sub.s") S2(mul_s, "mul.s") S2(div_s, "div.s")
S1(sqrt_s, "sqrt.s") S1(abs_s, "abs.s") S1(neg_s, "neg.s") S1(mov_s, "mov.s")
S1(recip_s, "recip.s") S1(rsqrt_s, "rsqrt.s")
S1(round_w_s, "round.w.s") S1(trunc_w_s, "trunc.w.s") S1(ceil_w_s, "ceil.w.s") S1(floor_w_s, "floor.w.s")
S1(cvt_w_s, "cvt.w.s") S1(cvt_s_w, "cvt.s.w")
D2(add_d, "add.d") D2(sub_d, "sub.d") D2(mul_d, "mul.d") D2(div_d, "div.d")
D1(sqrt_d, "sqrt.d") D1(abs_d, "abs.d") D1(neg_d, "neg.d") D1(mov_d, "mov.d")
D1(recip_d, "recip.d") D1(rsqrt_d, "rsqrt.d")
D1(round_l_d, "round.l.d") D1(trunc_l_d, "trunc.l.d") D1(ceil_l_d, "ceil.l.d") D1(floor_l_d, "floor.l.d")
D1(cvt_l_d, "cvt.l.d") D1(cvt_d_l, "cvt.d.l")
SD(cvt_d_s, "cvt.d.s") SD(cvt_d_w, "cvt.d.w") SD(cvt_l_s, "cvt.l.s") SD(round_l_s, "round.l.s")
SD(trunc_l_s, "trunc.l.s") SD(ceil_l_s, "ceil.l.s") SD(floor_l_s, "floor.l.s")
DS(cvt_s_d, "cvt.s.d") DS(cvt_w_d, "cvt.w.d") DS(round_w_d, "round.w.d") DS(trunc_w_d, "trunc.w.d")
DS(ceil_w_d, "ceil.w.d") DS(floor_w_d, "floor.w.d") DS(cvt_s_l, "cvt.s.l")
S3(madd_s, "madd.s") S3(msub_s, "msub.s") S3(nmadd_s, "nmadd.s") S3(nmsub_s, "nmsub.s")

/* the same, double: fs = $f2/$f3, ft = $f4/$f5, fr = $f8/$f9 */
#define D3(name, insn)                                                                               \
    static NOINLINE u64 name(u64 s, u64 t, u64 r_)                                                   \
    {                                                                                                \
        u32 lo, hi;                                                                                  \
        __asm__ __volatile__(HF LD_D(2, 2, 3) LD_D(4, 4, 5) LD_D(8, 6, 7) LD_D(6, 8, 8)              \
                             insn " $f6, $f8, $f2, $f4\n\t"                                          \
                             "mfc1 %0, $f6\n\tmfhc1 %1, $f6" HE                                     \
                             : "=&r"(lo), "=&r"(hi)                                                  \
                             : "r"((u32)s), "r"((u32)(s >> 32)), "r"((u32)t), "r"((u32)(t >> 32)),  \
                               "r"((u32)r_), "r"((u32)(r_ >> 32)), "r"(POISON));                     \
        return (u64)hi << 32 | lo;                                                                   \
    }

D3(madd_d, "madd.d") D3(nmsub_d, "nmsub.d")

/* ---- compares: one wrapper per condition, each on its own $fcc ---------- */
#define CMP(cond, n)                                                                                  \
    static NOINLINE u32 c_##cond##_s(u32 a, u32 b)                                                    \
    {                                                                                                 \
        u32 r;                                                                                        \
        __asm__ __volatile__(HF LD_S(2, 1) LD_S(4, 2) "c." #cond ".s $fcc" #n ", $f2, $f4\n\tcfc1 %0, $25" HE \
                             : "=r"(r) : "r"(a), "r"(b));                                            \
        return r;                                                                                     \
    }                                                                                                 \
    static NOINLINE u32 c_##cond##_d(u64 a, u64 b)                                                    \
    {                                                                                                 \
        u32 r;                                                                                        \
        __asm__ __volatile__(HF LD_D(2, 1, 2) LD_D(4, 3, 4) "c." #cond ".d $fcc" #n ", $f2, $f4\n\t"  \
                             "cfc1 %0, $25" HE                                                        \
                             : "=r"(r) : "r"((u32)a), "r"((u32)(a >> 32)), "r"((u32)b), "r"((u32)(b >> 32))); \
        return r;                                                                                     \
    }

CMP(f, 0) CMP(un, 1) CMP(eq, 2) CMP(ueq, 3) CMP(olt, 4) CMP(ult, 5) CMP(ole, 6) CMP(ule, 7)
CMP(sf, 0) CMP(ngle, 1) CMP(seq, 2) CMP(ngl, 3) CMP(lt, 4) CMP(nge, 5) CMP(le, 6) CMP(ngt, 7)

static u32 (*const cmp_s[16])(u32, u32) = {
    c_f_s, c_un_s, c_eq_s, c_ueq_s, c_olt_s, c_ult_s, c_ole_s, c_ule_s,
    c_sf_s, c_ngle_s, c_seq_s, c_ngl_s, c_lt_s, c_nge_s, c_le_s, c_ngt_s,
};
static u32 (*const cmp_d[16])(u64, u64) = {
    c_f_d, c_un_d, c_eq_d, c_ueq_d, c_olt_d, c_ult_d, c_ole_d, c_ule_d,
    c_sf_d, c_ngle_d, c_seq_d, c_ngl_d, c_lt_d, c_nge_d, c_le_d, c_ngt_d,
};
static const char *const cond_names[16] = {
    "f", "un", "eq", "ueq", "olt", "ult", "ole", "ule", "sf", "ngle", "seq", "ngl", "lt", "nge", "le", "ngt",
};

/* ---- operands ------------------------------------------------------------ */

static const u32 sv[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x40400000, 0x3eaaaaab, 0x7f7fffff, 0xff7fffff,
    0x00800000, 0x00800001, 0x007fffff, 0x00000001, 0x7f800000, 0xff800000, 0x7f800001, 0x7fc00000,
    0x4f000000, 0xcf000000, 0x4effffff, 0x3fc00000, 0xbfc00000, 0x40200000, 0x3f000000, 0x33800000,
};

static const u32 s_pairs[][2] = {
    { 0x3f800000, 0x40400000 }, /* 1, 3 */
    { 0xbf800000, 0x40400000 }, /* -1, 3 */
    { 0x3f800000, 0x33800000 }, /* 1, 2^-24: a tie */
    { 0x3f800000, 0xb3800000 },
    { 0x7f7fffff, 0x7f7fffff }, /* overflow */
    { 0xff7fffff, 0x7f7fffff },
    { 0x00800000, 0x3f000000 }, /* exact subnormal */
    { 0x00800001, 0x3f000000 }, /* inexact subnormal */
    { 0x00000001, 0x3f000000 }, /* to zero */
    { 0x00000003, 0x3e800000 },
    { 0x00800000, 0x00800000 }, /* underflow to zero */
    { 0x3f800000, 0x00000000 }, /* division by zero */
    { 0x00000000, 0x00000000 },
    { 0x80000000, 0x00000000 },
    { 0x7f800000, 0x7f800000 }, /* inf - inf */
    { 0x7f800000, 0x00000000 },
    { 0x7f800001, 0x3f800000 }, /* qNaN */
    { 0x3f800000, 0x7fc00000 }, /* sNaN */
    { 0x7fc00001, 0xffbfffff },
    { 0x3f800001, 0x3f7fffff },
    { 0x4b7fffff, 0x3f000000 },
    { 0x3f800000, 0x3f800000 },
};

static const u64 dv[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x4008000000000000ull, 0x3fd5555555555555ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
    0x000fffffffffffffull, 0x0000000000000001ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0x7ff0000000000001ull, 0x7ff8000000000000ull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
    0x41dfffffffffffffull, 0xc1e0000000200000ull, 0x41dfffffffe00000ull, 0x43e0000000000000ull,
    0xc3e0000000000000ull, 0x3ff8000000000000ull, 0xc004000000000000ull, 0x380fffffffc00000ull,
    0x380fffffe0000000ull, 0x380fffffe8000000ull, 0x47efffffe0000000ull, 0x47effffff0000000ull,
    0x47f0000000000000ull, 0x36a0000000000000ull, 0x3e4ffffffe000000ull,
};

static const u64 d_pairs[][2] = {
    { 0x3ff0000000000000ull, 0x4008000000000000ull }, /* 1, 3 */
    { 0xbff0000000000000ull, 0x4008000000000000ull },
    { 0x3fb999999999999aull, 0x3fc999999999999aull }, /* 0.1, 0.2 */
    { 0x3ff0000000000000ull, 0x3ca0000000000000ull }, /* 1, 2^-53: a tie */
    { 0x7fefffffffffffffull, 0x7fefffffffffffffull },
    { 0xffefffffffffffffull, 0x7fefffffffffffffull },
    { 0x0010000000000001ull, 0x3fe0000000000000ull },
    { 0x0000000000000001ull, 0x3fe0000000000000ull },
    { 0x0010000000000000ull, 0x3feffffffffffffeull },
    { 0x3ff0000000000000ull, 0x0000000000000000ull },
    { 0x7ff0000000000000ull, 0x7ff0000000000000ull },
    { 0x7ff0000000000001ull, 0x3ff0000000000000ull }, /* qNaN */
    { 0x3ff0000000000000ull, 0x7ff8000000000000ull }, /* sNaN */
    { 0x0000000000000000ull, 0x8000000000000000ull },
    { 0x4330000000000001ull, 0x3fe0000000000000ull },
};

static const u32 words[] = { 0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x01000001, 0xfeffffff, 12345678 };
static const u64 longs[] = {
    0, 1, 0xffffffffffffffffull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0x0020000000000001ull, 0x0000000001000001ull, 0xffffffffff000001ull,
};

#define N(a) ((int)ARRAY_SIZE(a))

/* ---- tables ---------------------------------------------------------------- */

static void table_s2(const char *name, s2_fn f)
{
    for (int i = 0; i < N(s_pairs); i++) {
        printf("%s %08x %08x:", name, s_pairs[i][0], s_pairs[i][1]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u32 r = f(s_pairs[i][0], s_pairs[i][1]);
            printf(" %08x/%08x", r, get_fcsr());
        }
        putstr("\n");
    }
}

static void table_d2(const char *name, d2_fn f)
{
    for (int i = 0; i < N(d_pairs); i++) {
        printf("%s %08x%08x %08x%08x:", name, (u32)(d_pairs[i][0] >> 32), (u32)d_pairs[i][0],
               (u32)(d_pairs[i][1] >> 32), (u32)d_pairs[i][1]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u64 r = f(d_pairs[i][0], d_pairs[i][1]);
            printf(" %08x%08x/%08x", (u32)(r >> 32), (u32)r, get_fcsr());
        }
        putstr("\n");
    }
}

static void table_s1(const char *name, s1_fn f, const u32 *v, int n)
{
    for (int i = 0; i < n; i++) {
        printf("%s %08x:", name, v[i]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u32 r = f(v[i]);
            printf(" %08x/%08x", r, get_fcsr());
        }
        putstr("\n");
    }
}

static void table_sd(const char *name, u64 (*f)(u32), const u32 *v, int n)
{
    for (int i = 0; i < n; i++) {
        printf("%s %08x:", name, v[i]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u64 r = f(v[i]);
            printf(" %08x%08x/%08x", (u32)(r >> 32), (u32)r, get_fcsr());
        }
        putstr("\n");
    }
}

static void table_ds(const char *name, u32 (*f)(u64), const u64 *v, int n)
{
    for (int i = 0; i < n; i++) {
        printf("%s %08x%08x:", name, (u32)(v[i] >> 32), (u32)v[i]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u32 r = f(v[i]);
            printf(" %08x/%08x", r, get_fcsr());
        }
        putstr("\n");
    }
}

static void table_d1(const char *name, d1_fn f, const u64 *v, int n)
{
    for (int i = 0; i < n; i++) {
        printf("%s %08x%08x:", name, (u32)(v[i] >> 32), (u32)v[i]);
        for (u32 rm = 0; rm < 4; rm++) {
            set_fcsr(rm);
            u64 r = f(v[i]);
            printf(" %08x%08x/%08x", (u32)(r >> 32), (u32)r, get_fcsr());
        }
        putstr("\n");
    }
}

/* ---- sections ---------------------------------------------------------------- */

static void test_ids(void)
{
    check("Config1", mfc0(16, 1), 0x9e190c8f);
    check("FIR", CFC1(0), 0x00739300);
    check("FCSR at reset", get_fcsr(), 0);
    /* Status: CU1 and FR are writable on the 24Kf. */
    set_status(0xffffffe0);
    u32 st = mfc0(12, 0);
    set_status(ST_BASE | ST_CU1);
    check("Status after writing ffffffe0", st, 0xffffffe0 & 0x3678ff1f);
    check("Status with CU1", mfc0(12, 0), ST_BASE | ST_CU1);
}

static void test_control(void)
{
    /* FCSR: bits 22:18 (NAN2008, ABS2008, ...) are read-only zero. */
    set_fcsr(0xffffffff & ~0x0003f000);
    check("FCSR after writing fffc0fff", get_fcsr(), 0xff800fff);
    check("FCCR", CFC1(25), 0xff);
    check("FEXR", CFC1(26), 0x7c);
    check("FENR", CFC1(28), 0xf87);
    check("cfc1 $1 (no UFR)", CFC1(1), 0);
    check("cfc1 $5", CFC1(5), 0);
    check("cfc1 $30 (reads FCSR)", CFC1(30), 0xff800fff);
    set_fcsr(0);
    CTC1(25, 0xa5);
    check("FCCR <- a5: FCSR", get_fcsr(), 0xa4800000);
    CTC1(25, 0x1a5); /* bits above 7: ignored */
    check("FCCR <- 1a5: FCSR", get_fcsr(), 0xa4800000);
    CTC1(26, 0x0001f07c & ~0x1f000); /* Flags only */
    check("FEXR <- 7c: FCSR", get_fcsr(), 0xa480007c);
    CTC1(26, 0x00040000); /* bit 18: ignored */
    check("FEXR <- 40000: FCSR", get_fcsr(), 0xa480007c);
    CTC1(28, 0x00000f86);
    check("FENR <- f86: FCSR", get_fcsr(), 0xa5800ffe);
    CTC1(30, 0x12345678); /* no such register: ignored */
    check("ctc1 $30: FCSR", get_fcsr(), 0xa5800ffe);
    set_fcsr(0);
    check("FCSR cleared", get_fcsr(), 0);
}

static void test_moves(void)
{
    u32 lo, hi, a, b;
    /* FR=0: a double is an even/odd pair; mthc1/mfhc1 reach the odd one. */
    __asm__ __volatile__(HF "mtc1 %2, $f10\n\tmthc1 %3, $f10\n\tmfc1 %0, $f11\n\tmfhc1 %1, $f10" HE
                         : "=&r"(a), "=&r"(b) : "r"(0x11111111), "r"(0x22222222));
    check("FR=0: mthc1 $f10 -> $f11", a, 0x22222222);
    check("FR=0: mfhc1 $f10", b, 0x22222222);
    __asm__ __volatile__(HF "mtc1 %2, $f12\n\tmtc1 %3, $f13\n\tmov.d $f14, $f12\n\tmfc1 %0, $f14\n\tmfc1 %1, $f15" HE
                         : "=&r"(lo), "=&r"(hi) : "r"(0x33333333), "r"(0x44444444));
    check("FR=0: mov.d low", lo, 0x33333333);
    check("FR=0: mov.d high", hi, 0x44444444);
    /* abs/neg are bit operations in legacy mode: no Cause, NaNs too. */
    set_fcsr(0x0003f000 & ~0x20000);
    check("abs.s sNaN", abs_s(0xffc00000), 0x7fc00000);
    check("neg.s qNaN", neg_s(0x7f800001), 0xff800001);
    check("neg.d -0", (u32)(neg_d(0x8000000000000000ull) >> 32), 0);
    check("mov.s", mov_s(0x7fc00000), 0x7fc00000);
    check("abs.d -inf (high)", (u32)(abs_d(0xfff0000000000000ull) >> 32), 0x7ff00000);
    check("mov.d sNaN (high)", (u32)(mov_d(0x7ff8000000000000ull) >> 32), 0x7ff80000);
    check("abs/neg/mov leave Cause", get_fcsr(), 0x0001f000);
    set_fcsr(0);
}

static void test_arith(void)
{
    table_s2("add.s", add_s);
    table_s2("sub.s", sub_s);
    table_s2("mul.s", mul_s);
    table_s2("div.s", div_s);
    table_s1("sqrt.s", sqrt_s, sv, N(sv));
    table_s1("recip.s", recip_s, sv, N(sv));
    table_s1("rsqrt.s", rsqrt_s, sv, N(sv));
    table_d2("add.d", add_d);
    table_d2("sub.d", sub_d);
    table_d2("mul.d", mul_d);
    table_d2("div.d", div_d);
    table_d1("sqrt.d", sqrt_d, dv, N(dv));
    table_d1("recip.d", recip_d, dv, N(dv));
    table_d1("rsqrt.d", rsqrt_d, dv, N(dv));
    /* Known answers (round to nearest, then the other modes). */
    set_fcsr(0);
    check("1/3 (RN)", div_s(0x3f800000, 0x40400000), 0x3eaaaaab);
    check("1/3 FCSR", get_fcsr(), 0x00001004);
    set_fcsr(1);
    check("1/3 (RZ)", div_s(0x3f800000, 0x40400000), 0x3eaaaaaa);
    set_fcsr(3);
    check("-1/3 (RM)", div_s(0xbf800000, 0x40400000), 0xbeaaaaab);
    set_fcsr(2);
    check("sqrt(2) (RP)", sqrt_s(0x40000000), 0x3fb504f4);
    set_fcsr(0);
    check("qNaN + 1", add_s(0x7f800001, 0x3f800000), 0x7fbfffff);
    check("qNaN + 1 FCSR", get_fcsr(), 0);
    check("1 * sNaN", mul_s(0x3f800000, 0x7fc00000), 0x7fbfffff);
    check("1 * sNaN FCSR", get_fcsr(), 0x00010040);
    check("inf - inf (double, high)", (u32)(sub_d(0x7ff0000000000000ull, 0x7ff0000000000000ull) >> 32), 0x7ff7ffff);
    set_fcsr(1);
    check("max * max (RZ)", mul_s(0x7f7fffff, 0x7f7fffff), 0x7f7fffff);
    check("max * max (RZ) FCSR", get_fcsr(), 0x00005015);
    set_fcsr(0);
}

static void test_convert(void)
{
    table_s1("cvt.w.s", cvt_w_s, sv, N(sv));
    table_s1("round.w.s", round_w_s, sv, N(sv));
    table_s1("trunc.w.s", trunc_w_s, sv, N(sv));
    table_s1("ceil.w.s", ceil_w_s, sv, N(sv));
    table_s1("floor.w.s", floor_w_s, sv, N(sv));
    table_s1("cvt.s.w", cvt_s_w, words, N(words));
    table_sd("cvt.d.s", cvt_d_s, sv, N(sv));
    table_sd("cvt.d.w", cvt_d_w, words, N(words));
    table_ds("cvt.s.d", cvt_s_d, dv, N(dv));
    table_ds("cvt.w.d", cvt_w_d, dv, N(dv));
    table_ds("round.w.d", round_w_d, dv, N(dv));
    table_ds("trunc.w.d", trunc_w_d, dv, N(dv));
    table_ds("ceil.w.d", ceil_w_d, dv, N(dv));
    table_ds("floor.w.d", floor_w_d, dv, N(dv));
    set_fcsr(0);
    check("cvt.w.s 2^31", cvt_w_s(0x4f000000), 0x7fffffff);
    check("cvt.w.s 2^31 FCSR", get_fcsr(), 0x00010040);
    check("trunc.w.d -2^31-1", trunc_w_d(0xc1e0000000200000ull), 0x7fffffff);
    check("trunc.w.d -2^31", trunc_w_d(0xc1e0000000000000ull), 0x80000000);
    check("cvt.w.s NaN", cvt_w_s(0x7f800001), 0x7fffffff);
    set_fcsr(0);
    check("cvt.s.d 2^-126(1-2^-30)", cvt_s_d(0x380fffffffc00000ull), 0x00800000);
    check("  FCSR (tiny after rounding: no U)", get_fcsr(), 0x00001004);
}

static void test_madd(void)
{
    static const u32 t[][3] = {
        { 0x3f800800, 0x3f800800, 0xbf801000 }, /* unfused: 0, fused: 2^-24 */
        { 0x40000000, 0x40400000, 0x3f800000 },
        { 0x7f7fffff, 0x40000000, 0xff800000 },
        { 0x7f800000, 0x00000000, 0x3f800000 }, /* inf * 0 */
        { 0x3f800000, 0x3f800000, 0x7fc00000 }, /* sNaN addend */
        { 0x7f800001, 0x3f800000, 0x3f800000 }, /* qNaN: the sign flips in nmadd */
        { 0x00800000, 0x3f000000, 0x00000000 },
    };
    for (int i = 0; i < N(t); i++) {
        for (u32 rm = 0; rm < 4; rm += 3) {
            u32 r[4], f[4];
            set_fcsr(rm);
            r[0] = madd_s(t[i][0], t[i][1], t[i][2]);
            f[0] = get_fcsr();
            set_fcsr(rm);
            r[1] = msub_s(t[i][0], t[i][1], t[i][2]);
            f[1] = get_fcsr();
            set_fcsr(rm);
            r[2] = nmadd_s(t[i][0], t[i][1], t[i][2]);
            f[2] = get_fcsr();
            set_fcsr(rm);
            r[3] = nmsub_s(t[i][0], t[i][1], t[i][2]);
            f[3] = get_fcsr();
            printf("madd/msub/nmadd/nmsub.s %08x %08x %08x rm=%u: %08x/%08x %08x/%08x %08x/%08x %08x/%08x\n",
                   t[i][0], t[i][1], t[i][2], rm, r[0], f[0], r[1], f[1], r[2], f[2], r[3], f[3]);
        }
    }
    set_fcsr(0);
    check("madd.s is not fused", madd_s(0x3f800800, 0x3f800800, 0xbf801000), 0);
    u64 r = madd_d(0x3ff0000000000001ull, 0x3ff0000000000001ull, 0xbff0000000000002ull);
    check("madd.d is not fused (high)", (u32)(r >> 32), 0);
    r = nmsub_d(0x4000000000000000ull, 0x4008000000000000ull, 0x3ff0000000000000ull);
    check("nmsub.d 2*3-1 (high)", (u32)(r >> 32), 0xc0140000);
    printf("madd.d %08x%08x, nmsub.d FCSR %08x\n", (u32)(r >> 32), (u32)r, get_fcsr());
}

static void test_compare(void)
{
    static const u32 sp[][2] = {
        { 0x3f800000, 0x40000000 }, { 0x40000000, 0x3f800000 }, { 0x3f800000, 0x3f800000 },
        { 0x80000000, 0x00000000 }, { 0xff800000, 0x7f800000 }, { 0x7f800001, 0x3f800000 },
        { 0x3f800000, 0x7fc00000 }, { 0x00000001, 0x00000002 },
    };
    static const u64 dp[][2] = {
        { 0x3ff0000000000000ull, 0x4000000000000000ull }, { 0x4000000000000000ull, 0x3ff0000000000000ull },
        { 0x8000000000000000ull, 0x0000000000000000ull }, { 0x7ff0000000000001ull, 0x3ff0000000000000ull },
        { 0x7ff8000000000000ull, 0x7ff8000000000000ull }, { 0x000fffffffffffffull, 0x0010000000000000ull },
    };
    for (int i = 0; i < N(sp); i++) {
        printf("c.cond.s %08x %08x:", sp[i][0], sp[i][1]);
        for (int c = 0; c < 16; c++) {
            set_fcsr(0);
            u32 fccr = cmp_s[c](sp[i][0], sp[i][1]);
            printf(" %s=%x/%05x", cond_names[c], fccr, get_fcsr() >> 12);
        }
        putstr("\n");
    }
    for (int i = 0; i < N(dp); i++) {
        printf("c.cond.d %08x%08x %08x%08x:", (u32)(dp[i][0] >> 32), (u32)dp[i][0], (u32)(dp[i][1] >> 32),
               (u32)dp[i][1]);
        for (int c = 0; c < 16; c++) {
            set_fcsr(0);
            u32 fccr = cmp_d[c](dp[i][0], dp[i][1]);
            printf(" %s=%x/%05x", cond_names[c], fccr, get_fcsr() >> 12);
        }
        putstr("\n");
    }
    set_fcsr(0);
    check("c.olt.s 1 < 2 -> FCC4", c_olt_s(0x3f800000, 0x40000000), 0x10);
    set_fcsr(0x00800000);
    check("c.eq.s qNaN clears FCC2 (FCC0 kept)", c_eq_s(0x7f800001, 0x7f800001), 0x01);
    check("  quiet compare of a qNaN: no Invalid", get_fcsr(), 0x00800000);
    check("c.seq.s qNaN -> Invalid", c_seq_s(0x7f800001, 0x3f800000), 0x01);
    check("  FCSR", get_fcsr(), 0x00810040);
    set_fcsr(0);
}

static void test_cc_moves_and_branches(void)
{
    /* $f31 = 1.0 for fp_branches' own compare. */
    __asm__ __volatile__(HF "mtc1 %0, $f31" HE ::"r"(0x3f800000));
    static const u32 fccr[] = { 0x00, 0x01, 0x08, 0x80, 0x89, 0xff };
    for (int i = 0; i < N(fccr); i++)
        printf("fp_branches(fccr=%02x) = %03x\n", fccr[i], fp_branches(fccr[i]));
    check("fp_loop(1000)", fp_loop(1000), 1000);
    check("fp_loop(1)", fp_loop(1), 1);

    /* movf/movt on GPRs, movf.fmt/movt.fmt, movz.fmt/movn.fmt */
    u32 t, f;
    CTC1(25, 0x04); /* FCC2 */
    __asm__ __volatile__(HF "move %0, $0\n\tmove %1, $0\n\tmovt %0, %2, $fcc2\n\tmovf %1, %2, $fcc2" HE
                         : "=&r"(t), "=&r"(f) : "r"(77));
    check("movt on FCC2=1", t, 77);
    check("movf on FCC2=1", f, 0);
    __asm__ __volatile__(HF "move %0, $0\n\tmove %1, $0\n\tmovt %0, %2, $fcc3\n\tmovf %1, %2, $fcc3" HE
                         : "=&r"(t), "=&r"(f) : "r"(77));
    check("movt on FCC3=0", t, 0);
    check("movf on FCC3=0", f, 77);
    __asm__ __volatile__(HF "mtc1 %2, $f20\n\tmtc1 $0, $f21\n\tmtc1 $0, $f22\n\t"
                         "movt.s $f21, $f20, $fcc2\n\tmovf.s $f22, $f20, $fcc2\n\t"
                         "mfc1 %0, $f21\n\tmfc1 %1, $f22" HE
                         : "=&r"(t), "=&r"(f) : "r"(0x12345678));
    check("movt.s on FCC2=1", t, 0x12345678);
    check("movf.s on FCC2=1", f, 0);
    __asm__ __volatile__(HF "mtc1 %2, $f20\n\tmtc1 $0, $f21\n\tmtc1 $0, $f22\n\t"
                         "movz.s $f21, $f20, $0\n\tmovn.s $f22, $f20, %3\n\t"
                         "mfc1 %0, $f21\n\tmfc1 %1, $f22" HE
                         : "=&r"(t), "=&r"(f) : "r"(0x12345678), "r"(0));
    check("movz.s with $0", t, 0x12345678);
    check("movn.s with rt=0", f, 0);
    __asm__ __volatile__(HF "mtc1 %2, $f24\n\tmtc1 %2, $f25\n\tmtc1 $0, $f26\n\tmtc1 $0, $f27\n\t"
                         "movt.d $f26, $f24, $fcc2\n\tmfc1 %0, $f26\n\tmfc1 %1, $f27" HE
                         : "=&r"(t), "=&r"(f) : "r"(0x0badf00d));
    check("movt.d low", t, 0x0badf00d);
    check("movt.d high", f, 0x0badf00d);
    set_fcsr(0);
}

static u64 mem[4] ALIGNED(16);

static void test_memory(void)
{
    u32 a, b, c, d;
    volatile u32 *w = (volatile u32 *)mem;
    w[0] = 0x11223344;
    w[1] = 0x55667788;
    w[2] = 0;
    w[3] = 0;
    /* ldc1: the first word in memory is the high word on big-endian. */
    __asm__ __volatile__(HF "ldc1 $f2, 0(%2)\n\tmfc1 %0, $f2\n\tmfc1 %1, $f3" HE
                         : "=&r"(a), "=&r"(b) : "r"(mem) : "memory");
    printf("ldc1: low %08x high %08x\n", a, b);
    check("ldc1 low word", a, GUEST_BIG_ENDIAN ? 0x55667788 : 0x11223344);
    __asm__ __volatile__(HF "sdc1 $f2, 8(%0)\n\tlwc1 $f4, 4(%0)\n\tswc1 $f4, 8(%0)" HE ::"r"(mem) : "memory");
    check("sdc1 + swc1: word 2", w[2], 0x55667788);
    check("sdc1 + swc1: word 3", w[3], 0x55667788);
    /* Indexed forms. */
    __asm__ __volatile__(HF "lwxc1 $f6, %2(%1)\n\tldxc1 $f8, %3(%1)\n\tmfc1 %0, $f6" HE
                         : "=&r"(a) : "r"(mem), "r"(4), "r"(8) : "memory");
    check("lwxc1", a, 0x55667788);
    __asm__ __volatile__(HF "swxc1 $f6, %1(%0)\n\tsdxc1 $f2, %2(%0)" HE ::"r"(mem), "r"(0), "r"(16) : "memory");
    check("swxc1", w[0], 0x55667788);
    c = w[4];
    d = w[5];
    printf("sdxc1: %08x %08x\n", c, d);
    /* Misaligned ldc1/sdc1: AdEL/AdES with BadVAddr. */
    exc_hook = exc_record_hook;
    exc_count = 0;
    a = 0;
    __asm__ __volatile__(HF "ldc1 $f2, 4(%0)" HE ::"r"(mem) : "memory");
    check("ldc1 at +4: exceptions", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_ADEL);
    check("  BadVAddr", exc_last.badvaddr - (u32)mem, 4);
    __asm__ __volatile__(HF "sdc1 $f2, 12(%0)" HE ::"r"(mem) : "memory");
    check("sdc1 at +12: exceptions", exc_count, 2);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_ADES);
    check("  BadVAddr", exc_last.badvaddr - (u32)mem, 12);
    exc_hook = 0;
    (void)b;
}

static void test_fr1(void)
{
    u32 lo, hi;
    set_status(ST_BASE | ST_CU1 | ST_FR);
    check("Status with FR", mfc0(12, 0), ST_BASE | ST_CU1 | ST_FR);
    /* Odd registers hold whole doubles. */
    __asm__ __volatile__(HF "mtc1 %2, $f1\n\tmthc1 %3, $f1\n\tadd.d $f3, $f1, $f1\n\t"
                         "mfc1 %0, $f3\n\tmfhc1 %1, $f3" HE
                         : "=&r"(lo), "=&r"(hi) : "r"(0), "r"(0x40140000));
    check("FR=1: add.d $f3, $f1, $f1 (high)", hi, 0x40240000);
    check("FR=1: low", lo, 0);
    table_d1("round.l.d", round_l_d, dv, N(dv));
    table_d1("trunc.l.d", trunc_l_d, dv, N(dv));
    table_d1("ceil.l.d", ceil_l_d, dv, N(dv));
    table_d1("floor.l.d", floor_l_d, dv, N(dv));
    table_d1("cvt.l.d", cvt_l_d, dv, N(dv));
    table_d1("cvt.d.l", cvt_d_l, longs, N(longs));
    table_ds("cvt.s.l", cvt_s_l, longs, N(longs));
    table_sd("cvt.l.s", cvt_l_s, sv, N(sv));
    table_sd("round.l.s", round_l_s, sv, N(sv));
    table_sd("trunc.l.s", trunc_l_s, sv, N(sv));
    table_sd("ceil.l.s", ceil_l_s, sv, N(sv));
    table_sd("floor.l.s", floor_l_s, sv, N(sv));
    /* luxc1/suxc1 ignore the low 3 address bits. */
    volatile u32 *w = (volatile u32 *)mem;
    w[0] = 0xaaaaaaaa;
    w[1] = 0xbbbbbbbb;
    __asm__ __volatile__(HF "luxc1 $f5, %2(%1)\n\tsuxc1 $f5, %3(%1)\n\tmfc1 %0, $f5" HE
                         : "=&r"(lo) : "r"(mem), "r"(5), "r"(13) : "memory");
    check("luxc1 low word", lo, GUEST_BIG_ENDIAN ? 0xbbbbbbbb : 0xaaaaaaaa);
    check("suxc1 word 2", w[2], 0xaaaaaaaa);
    check("suxc1 word 3", w[3], 0xbbbbbbbb);
    /* FR=1 does not move data: what was f0/f1 in pairs is f0's low half and f1's. */
    set_status(ST_BASE | ST_CU1);
    set_fcsr(0);
}

/* Runs f with FCSR = fcsr; prints exceptions taken, ExcCode, FCSR after,
 * and the result (the POISON destination when it trapped). */
static void trap(const char *what, u32 fcsr, u32 (*f)(u32, u32), u32 a, u32 b, u32 want_exc, u32 want)
{
    exc_count = 0;
    exc_last.cause = 0;
    set_fcsr(fcsr);
    u32 r = f(a, b);
    u32 after = get_fcsr();
    set_fcsr(0);
    printf("%-26s exc=%u code=%u fcsr=%08x result=%08x\n", what, exc_count, CAUSE_EXCCODE(exc_last.cause), after, r);
    check_quiet(what, exc_count, want_exc);
    check_quiet(what, r, want);
}

static u32 sqrt2(u32 a, u32 b) { (void)b; return sqrt_s(a); }
static u32 cvtw2(u32 a, u32 b) { (void)b; return cvt_w_s(a); }
static u32 ceq2(u32 a, u32 b) { return c_seq_s(a, b); }

static void test_traps(void)
{
    exc_hook = exc_record_hook;
    /* Enables: I=0x080 U=0x100 O=0x200 Z=0x400 V=0x800 */
    trap("sqrt.s -1, V enabled", 0x800, sqrt2, 0xbf800000, 0, 1, POISON);
    trap("sqrt.s -1, I enabled", 0x080, sqrt2, 0xbf800000, 0, 0, 0x7fbfffff);
    trap("div.s 1/0, Z enabled", 0x400, div_s, 0x3f800000, 0, 1, POISON);
    trap("mul.s max*2, O enabled", 0x200, mul_s, 0x7f7fffff, 0x40000000, 1, POISON);
    trap("mul.s max*2, I enabled", 0x080, mul_s, 0x7f7fffff, 0x40000000, 1, POISON);
    trap("mul.s tiny, U enabled", 0x100, mul_s, 0x00800001, 0x3f000000, 1, POISON);
    trap("mul.s exact tiny, U enabled", 0x100, mul_s, 0x00800000, 0x3f000000, 0, 0x00400000);
    trap("div.s 1/3, I enabled", 0x080, div_s, 0x3f800000, 0x40400000, 1, POISON);
    trap("div.s 1/3, I+flags", 0x07c | 0x080, div_s, 0x3f800000, 0x40400000, 1, POISON);
    trap("cvt.w.s NaN, V enabled", 0x800, cvtw2, 0x7f800001, 0, 1, POISON);
    trap("add.s 1+1, all enabled", 0xf80, add_s, 0x3f800000, 0x3f800000, 0, 0x40000000);
    /* A compare that traps leaves the condition codes. */
    exc_count = 0;
    set_fcsr(0x00800800);
    u32 fccr = ceq2(0x7f800001, 0x7f800001);
    u32 after = get_fcsr();
    set_fcsr(0);
    check("c.seq.s qNaN, V enabled: exceptions", exc_count, 1);
    check("  FCC0 kept", fccr, 1);
    check("  FCSR", after, 0x00810800);
    /* ctc1 that leaves an enabled Cause (or Unimplemented) traps, after writing. */
    exc_count = 0;
    set_fcsr(0x00001080);
    check("ctc1 with Cause I and I enabled: exceptions", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_FPE);
    check("  FCSR written", get_fcsr(), 0x00001080);
    set_fcsr(0x00020000);
    check("ctc1 with Cause E: exceptions", exc_count, 2);
    CTC1(26, 0); /* clear Cause through FEXR: no trap */
    check("FEXR <- 0: exceptions", exc_count, 2);
    set_fcsr(0);
    check("FCSR cleared", get_fcsr(), 0);
    /* An FPE in the delay slot of a taken bc1f: EPC = the branch, BD = 1. */
    exc_count = 0;
    exc_resume = (u32)fpe_in_slot_r;
    set_fcsr(0x800);
    u32 r = fpe_in_slot(0xbf800000);
    after = get_fcsr();
    set_fcsr(0);
    exc_resume = 0;
    check("FPE in a delay slot: exceptions", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_FPE);
    check("  BD", CAUSE_BD(exc_last.cause), 1);
    check("  EPC = the branch", exc_last.epc == (u32)fpe_in_slot_x, 1);
    check("  destination kept", r, POISON);
    check("  FCSR", after, 0x00010800);
    check("fpe_in_slot(4) = 2", fpe_in_slot(0x40800000), 0x40000000);
    /* FR=0 and an odd register in a double operation: Reserved Instruction. */
    exc_count = 0;
    __asm__ __volatile__(HF "add.d $f1, $f2, $f4" HE);
    check("add.d $f1 with FR=0: exceptions", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_RI);
    __asm__ __volatile__(HF "cvt.l.d $f2, $f4" HE);
    check("cvt.l.d with FR=0: ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_RI);
    /* With CU1 clear, the FPU is unusable again. */
    set_status(ST_BASE);
    exc_count = 0;
    u32 v = 0x5a5a5a5a;
    __asm__ __volatile__(HF "cfc1 %0, $31" HE : "+r"(v));
    set_status(ST_BASE | ST_CU1);
    check("cfc1 with CU1=0: exceptions", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_CPU);
    check("  CE", CAUSE_CE(exc_last.cause), 1);
    check("  rt kept", v, 0x5a5a5a5a);
    exc_hook = 0;
}

int main(void)
{
    puts("fpu: the 24Kf FPU");
    set_status(ST_BASE | ST_CU1);
    test_ids();
    test_control();
    test_moves();
    test_arith();
    test_convert();
    test_madd();
    test_compare();
    test_cc_moves_and_branches();
    test_memory();
    test_fr1();
    test_traps();
    return summary("fpu");
}
