/*
 * mem - loads and stores.
 *
 *   lb/lbu/lh/lhu/lw at every legal alignment (sign/zero extension),
 *   sb/sh/sw and the resulting byte image,
 *   lwl/lwr/swl/swr at all 4 byte offsets (results differ between el and eb:
 *   each endianness is compared with QEMU of the same endianness; the C
 *   reference models pick the formula by endianness),
 *   ulw/usw pairs, negative offsets, loads into $zero,
 *   ll/sc: success after ll; failure when an exception (syscall + eret)
 *   happened between ll and sc (eret clears LLbit); an ll/sc counter loop,
 *   kseg0/kseg1 aliasing of the same RAM, the last word of 256 MiB RAM,
 *   cache/pref/sync/synci executing as no-ops.
 */
#include "rt.h"

static u8 buf[32] ALIGNED(16);

static void fill(void)
{
    for (unsigned i = 0; i < 32; i++)
        buf[i] = (u8)(i < 16 ? i * 0x11 : (i * 0x11) ^ 0x5a);
}

static void show(const char *op, u32 off, u32 got, u32 exp)
{
    n_checks++;
    printf("%s +%u -> %08x", op, off, got);
    if (got != exp) {
        n_failures++;
        printf(" FAIL exp %08x", exp);
    }
    uart_putc('\n');
}

/* dump n bytes of buf as hex, with a check against an expected image */
static void show_bytes(const char *op, u32 off, const u8 *exp, unsigned n)
{
    n_checks++;
    printf("%s +%u -> mem", op, off);
    int bad = 0;
    for (unsigned i = 0; i < n; i++) {
        printf(" %02x", buf[i]);
        bad |= buf[i] != exp[i];
    }
    if (bad) {
        n_failures++;
        printf(" FAIL exp");
        for (unsigned i = 0; i < n; i++)
            printf(" %02x", exp[i]);
    }
    uart_putc('\n');
}

/* ---- loads ----------------------------------------------------------------- */
#define LOAD(fn, insn) \
    static NOINLINE u32 fn(const void *p) { u32 r; \
        __asm__ __volatile__(insn " %0, 0(%1)" : "=r"(r) : "r"(p) : "memory"); return r; }
LOAD(op_lb, "lb")
LOAD(op_lbu, "lbu")
LOAD(op_lh, "lh")
LOAD(op_lhu, "lhu")
LOAD(op_lw, "lw")

#define LOADLR(fn, insn) \
    static NOINLINE u32 fn(const void *p, u32 rt) { \
        __asm__ __volatile__(insn " %0, 0(%1)" : "+r"(rt) : "r"(p) : "memory"); return rt; }
LOADLR(op_lwl, "lwl")
LOADLR(op_lwr, "lwr")

#define STORE(fn, insn) \
    static NOINLINE void fn(void *p, u32 v) { \
        __asm__ __volatile__(insn " %1, 0(%0)" :: "r"(p), "r"(v) : "memory"); }
STORE(op_sb, "sb")
STORE(op_sh, "sh")
STORE(op_sw, "sw")
STORE(op_swl, "swl")
STORE(op_swr, "swr")

/* native-endian aligned word containing byte p */
static u32 word_at(const u8 *p)
{
    return *(const volatile u32 *)((u32)p & ~3u);
}

static u32 mask_lo(unsigned bits) { return bits ? (0xffffffffu >> (32 - bits)) : 0; }

static u32 ref_lwl(const u8 *p, u32 rt)
{
    unsigned k = (u32)p & 3;
    unsigned sh = GUEST_BIG_ENDIAN ? 8 * k : 8 * (3 - k);
    return (word_at(p) << sh) | (rt & mask_lo(sh));
}
static u32 ref_lwr(const u8 *p, u32 rt)
{
    unsigned k = (u32)p & 3;
    unsigned sh = GUEST_BIG_ENDIAN ? 8 * (3 - k) : 8 * k;
    return (word_at(p) >> sh) | (rt & ~(0xffffffffu >> sh));
}
static u32 ref_swl(const u8 *p, u32 w, u32 rt)
{
    unsigned k = (u32)p & 3;
    unsigned sh = GUEST_BIG_ENDIAN ? 8 * k : 8 * (3 - k);
    return (w & ~(0xffffffffu >> sh)) | (rt >> sh);
}
static u32 ref_swr(const u8 *p, u32 w, u32 rt)
{
    unsigned k = (u32)p & 3;
    unsigned sh = GUEST_BIG_ENDIAN ? 8 * (3 - k) : 8 * k;
    return (w & mask_lo(sh)) | (rt << sh);
}

static u32 bytes_to_word(const u8 *p)
{
    return GUEST_BIG_ENDIAN ? ((u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3])
                            : ((u32)p[3] << 24 | (u32)p[2] << 16 | (u32)p[1] << 8 | p[0]);
}

static void test_loads(void)
{
    fill();
    for (unsigned k = 0; k < 16; k++) {
        show("lb", k, op_lb(buf + k), (u32)(s32)(s8)buf[k]);
        show("lbu", k, op_lbu(buf + k), buf[k]);
    }
    for (unsigned k = 0; k < 16; k += 2) {
        u32 h = GUEST_BIG_ENDIAN ? (u32)buf[k] << 8 | buf[k + 1] : (u32)buf[k + 1] << 8 | buf[k];
        show("lh", k, op_lh(buf + k), (u32)(s32)(s16)h);
        show("lhu", k, op_lhu(buf + k), h);
    }
    for (unsigned k = 0; k < 32; k += 4)
        show("lw", k, op_lw(buf + k), bytes_to_word(buf + k));

    /* negative and large positive displacements */
    {
        u32 r1, r2;
        __asm__ __volatile__("lw %0, -4(%2)\n\tlw %1, 12(%2)" : "=&r"(r1), "=&r"(r2) : "r"(buf + 8) : "memory");
        show("lw -4(buf+8)", 4, r1, bytes_to_word(buf + 4));
        show("lw 12(buf+8)", 20, r2, bytes_to_word(buf + 20));
        __asm__ __volatile__("lbu %0, -1(%1)" : "=r"(r1) : "r"(buf + 16) : "memory");
        show("lbu -1(buf+16)", 15, r1, buf[15]);
    }

    /* a load into $zero is discarded */
    {
        u32 r;
        __asm__ __volatile__("lw $0, 0(%1)\n\tmove %0, $0" : "=r"(r) : "r"(buf + 4) : "memory");
        show("lw $0 then read $0", 4, r, 0);
    }

    /* lwl / lwr at every offset, merging into a preset register */
    static const u32 presets[] = { 0xcafebabe, 0x00000000, 0xffffffff };
    for (unsigned pi = 0; pi < ARRAY_SIZE(presets); pi++) {
        u32 rt = presets[pi];
        printf("rt preset %08x\n", rt);
        for (unsigned k = 0; k < 8; k++) {
            show(" lwl", k, op_lwl(buf + k, rt), ref_lwl(buf + k, rt));
            show(" lwr", k, op_lwr(buf + k, rt), ref_lwr(buf + k, rt));
        }
    }

    /* unaligned word load: the lwl/lwr pair (ulw) at every offset */
    for (unsigned k = 0; k < 8; k++) {
        u32 r = 0x5a5a5a5a;
#if GUEST_BIG_ENDIAN
        __asm__ __volatile__("lwl %0, 0(%1)\n\tlwr %0, 3(%1)" : "+r"(r) : "r"(buf + k) : "memory");
#else
        __asm__ __volatile__("lwl %0, 3(%1)\n\tlwr %0, 0(%1)" : "+r"(r) : "r"(buf + k) : "memory");
#endif
        show("ulw", k, r, bytes_to_word(buf + k));
    }
}

/* ---- stores ------------------------------------------------------------- */
static void test_stores(void)
{
    u8 exp[32];

    for (unsigned k = 0; k < 8; k++) {
        fill();
        memcpy(exp, buf, 12);
        op_sb(buf + k, 0xa5c3e1f0u + k);     /* only the low byte is stored */
        exp[k] = (u8)(0xf0 + k);
        show_bytes("sb", k, exp, 12);
    }
    for (unsigned k = 0; k < 8; k += 2) {
        fill();
        memcpy(exp, buf, 12);
        op_sh(buf + k, 0xdead8421u);
        exp[k + GUEST_BIG_ENDIAN * 0] = GUEST_BIG_ENDIAN ? 0x84 : 0x21;
        exp[k + 1] = GUEST_BIG_ENDIAN ? 0x21 : 0x84;
        show_bytes("sh", k, exp, 12);
    }
    for (unsigned k = 0; k < 8; k += 4) {
        fill();
        memcpy(exp, buf, 12);
        op_sw(buf + k, 0x8899aabbu);
        for (unsigned i = 0; i < 4; i++)
            exp[k + i] = (u8)(0x8899aabbu >> (GUEST_BIG_ENDIAN ? 24 - 8 * i : 8 * i));
        show_bytes("sw", k, exp, 12);
    }

    /* swl / swr at every offset */
    for (unsigned k = 0; k < 8; k++) {
        u32 rt = 0x8899aabbu;
        fill();
        memcpy(exp, buf, 12);
        u32 w = ref_swl(buf + k, word_at(buf + k), rt);
        memcpy(exp + ((k) & ~3u), &w, 4);
        op_swl(buf + k, rt);
        show_bytes("swl", k, exp, 12);

        fill();
        memcpy(exp, buf, 12);
        w = ref_swr(buf + k, word_at(buf + k), rt);
        memcpy(exp + ((k) & ~3u), &w, 4);
        op_swr(buf + k, rt);
        show_bytes("swr", k, exp, 12);
    }

    /* unaligned word store: the swl/swr pair (usw) at every offset */
    for (unsigned k = 0; k < 8; k++) {
        u32 v = 0x01234567u;
        fill();
        memcpy(exp, buf, 12);
        for (unsigned i = 0; i < 4; i++)
            exp[k + i] = (u8)(v >> (GUEST_BIG_ENDIAN ? 24 - 8 * i : 8 * i));
#if GUEST_BIG_ENDIAN
        __asm__ __volatile__("swl %1, 0(%0)\n\tswr %1, 3(%0)" :: "r"(buf + k), "r"(v) : "memory");
#else
        __asm__ __volatile__("swl %1, 3(%0)\n\tswr %1, 0(%0)" :: "r"(buf + k), "r"(v) : "memory");
#endif
        show_bytes("usw", k, exp, 12);
    }

    /* store then load through a different width (store-to-load forwarding) */
    {
        u32 r[4];
        fill();
        __asm__ __volatile__(
            "sw  %4, 0(%5)\n\t"
            "lbu %0, 1(%5)\n\t"
            "sb  %4, 2(%5)\n\t"
            "lw  %1, 0(%5)\n\t"
            "sh  %4, 4(%5)\n\t"
            "lh  %2, 4(%5)\n\t"
            "lhu %3, 4(%5)\n\t"
            : "=&r"(r[0]), "=&r"(r[1]), "=&r"(r[2]), "=&r"(r[3]) : "r"(0x1234f678u), "r"(buf) : "memory");
        show("sw;lbu 1", 1, r[0], GUEST_BIG_ENDIAN ? 0x34 : 0xf6);
        show("sb 2;lw", 0, r[1], GUEST_BIG_ENDIAN ? 0x12347878 : 0x1278f678);
        show("sh;lh", 4, r[2], 0xfffff678);
        show("sh;lhu", 4, r[3], 0x0000f678);
    }
}

/* ---- ll / sc -------------------------------------------------------------------- */
static volatile u32 llword ALIGNED(16);

static NOINLINE u32 ll_sc(volatile u32 *p, u32 v, u32 *old, int syscall_between)
{
    u32 o, f = v;
    if (syscall_between)
        __asm__ __volatile__("ll %0, 0(%2)\n\tsyscall\n\tsc %1, 0(%2)"
                             : "=&r"(o), "+r"(f) : "r"(p) : "memory");
    else
        __asm__ __volatile__("ll %0, 0(%2)\n\tsc %1, 0(%2)"
                             : "=&r"(o), "+r"(f) : "r"(p) : "memory");
    *old = o;
    return f;
}

static NOINLINE u32 atomic_add(volatile u32 *p, u32 v)
{
    u32 o, t;
    __asm__ __volatile__(
        "1: ll   %0, 0(%2)\n\t"
        "   addu %1, %0, %3\n\t"
        "   sc   %1, 0(%2)\n\t"
        "   beqz %1, 1b\n\t"
        "   nop"
        : "=&r"(o), "=&r"(t) : "r"(p), "r"(v) : "memory");
    return o;
}

static void test_llsc(void)
{
    u32 old, ok;

    exc_hook = exc_record_hook;
    exc_count = 0;

    llword = 0x11111111;
    ok = ll_sc(&llword, 0x22222222, &old, 0);
    check("ll value", old, 0x11111111);
    check("sc after ll: success flag", ok, 1);
    check("sc after ll: memory", llword, 0x22222222);

    ok = ll_sc(&llword, 0x33333333, &old, 1);
    check("ll value (2)", old, 0x22222222);
    check("sc after ll;syscall;eret: success flag", ok, 0);
    check("sc after ll;syscall;eret: memory unchanged", llword, 0x22222222);
    check("syscall exceptions taken", exc_count, 1);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_SYS);

    /* and ll/sc works again afterwards */
    ok = ll_sc(&llword, 0x44444444, &old, 0);
    check("sc after a fresh ll: success flag", ok, 1);
    check("sc after a fresh ll: memory", llword, 0x44444444);

    llword = 0;
    for (u32 i = 1; i <= 1000; i++)
        atomic_add(&llword, i);
    check("ll/sc add loop 1..1000", llword, 500500);

    exc_hook = 0;
}

/* ---- address aliasing, end of RAM, cache ops ------------------------------------------ */
static volatile u32 aliasw ALIGNED(16);

static void test_misc(void)
{
    volatile u32 *k1 = (volatile u32 *)KSEG1(&aliasw);
    aliasw = 0x13579bdf;
    check("kseg0 write, kseg1 read", *k1, 0x13579bdf);
    *k1 = 0x2468ace0;
    check("kseg1 write, kseg0 read", aliasw, 0x2468ace0);

    /* last word of 256 MiB of RAM, through kseg0 and kseg1 */
    volatile u32 *top0 = (volatile u32 *)0x8ffffffcu, *top1 = (volatile u32 *)0xaffffffcu;
    *top0 = 0xfeedf00d;
    check("last RAM word via kseg1", *top1, 0xfeedf00d);
    *(volatile u8 *)0xafffffffu = 0x42;
    check("last RAM byte via kseg0", *(volatile u8 *)0x8fffffffu, 0x42);

    /* cache maintenance, prefetch and sync are no-ops for the data */
    aliasw = 0x600dcafe;
    __asm__ __volatile__(
        "cache 0x15, 0(%0)\n\t"     /* Hit_Writeback_Inv_D */
        "cache 0x10, 0(%0)\n\t"     /* Hit_Invalidate_I */
        "cache 0x01, 0(%0)\n\t"     /* Index_Writeback_Inv_D */
        "cache 0x00, 0(%0)\n\t"     /* Index_Invalidate_I */
        "pref  0, 0(%0)\n\t"
        "pref  1, 64(%0)\n\t"
        "synci 0(%0)\n\t"
        "sync\n\t"
        "ssnop\n\t"
        "ehb"
        :: "r"(&aliasw) : "memory");
    check("data after cache/pref/synci/sync", aliasw, 0x600dcafe);
}

int main(void)
{
    puts("mem test (" ENDIAN_NAME ")");
    test_loads();
    test_stores();
    test_llsc();
    test_misc();
    return summary("mem");
}
