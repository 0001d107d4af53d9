/*
 * smc - self-modifying and run-time generated code.
 *
 *  1. generate `addiu v0,$0,N; jr ra; nop` in a RAM buffer, call it, rewrite
 *     N, call again (100 times) - with synci + jalr.hb, as the architecture
 *     requires;
 *  2. the same without any cache maintenance (Linux's zboot jumps to freshly
 *     written code without flushing; QEMU and mipsjit keep no I-cache);
 *  3. patch a hot function in .text (called 2000 times first, so a JIT has
 *     compiled it) through kseg0, then through the kseg1 (uncached) alias;
 *  4. copy two different functions alternately into the same buffer;
 *  5. a function that patches an instruction further down in itself
 *     (same page), then reaches it with jr.hb.
 */
#include "rt.h"

u32 call_hb(void *code, u32 arg);
void flush_icache(void *p, u32 len);
u32 patchme(u32);
u32 selfpatch(u32);
extern u32 patchme_insn[];
extern char fn_a[], fn_a_end[], fn_b[], fn_b_end[];

static u32 codebuf[64] ALIGNED(64);

#define ADDIU_V0_ZERO(n) (0x24020000u | ((n) & 0xffff))
#define JR_RA 0x03e00008u
#define NOP 0u

typedef u32 (*fn_t)(u32);

int main(void)
{
    puts("smc test (" ENDIAN_NAME ")");

    /* 1. generated code, properly flushed */
    u32 sum = 0;
    codebuf[1] = JR_RA;
    codebuf[2] = NOP;
    for (u32 n = 0; n < 100; n++) {
        codebuf[0] = ADDIU_V0_ZERO(n * 3);
        flush_icache(codebuf, 12);
        sum += call_hb(codebuf, 0);
    }
    check("generated code with synci: sum of 3n, n<100", sum, 14850);

    /* 2. generated code, no flush at all, plain jalr */
    sum = 0;
    for (u32 n = 0; n < 100; n++) {
        codebuf[0] = ADDIU_V0_ZERO(n + 1000);
        sum += ((fn_t)(void *)codebuf)(0);
    }
    check("generated code without flush: sum of n+1000, n<100", sum, 104950);

    /* 3. patch a hot function in .text */
    sum = 0;
    for (u32 i = 0; i < 2000; i++)
        sum += patchme(i);
    check("patchme before patching (x2000)", sum, 2000);
    u32 orig = patchme_insn[0];
    patchme_insn[0] = (orig & 0xffff0000u) | 2;
    flush_icache(patchme_insn, 4);
    sum = 0;
    for (u32 i = 0; i < 2000; i++)
        sum += patchme(i);
    check("patchme after patching via kseg0 (x2000)", sum, 4000);
    *(volatile u32 *)KSEG1(patchme_insn) = (orig & 0xffff0000u) | 3;
    sum = 0;
    for (u32 i = 0; i < 2000; i++)
        sum += patchme(i);
    check("patchme after patching via kseg1 alias (x2000)", sum, 6000);
    patchme_insn[0] = orig;
    check("patchme restored", patchme(0), 1);

    /* 4. different functions copied into the same buffer */
    sum = 0;
    for (u32 i = 0; i < 50; i++) {
        if (i & 1)
            memcpy(codebuf, fn_b, (u32)(fn_b_end - fn_b));
        else
            memcpy(codebuf, fn_a, (u32)(fn_a_end - fn_a));
        flush_icache(codebuf, sizeof(codebuf));
        u32 r = call_hb(codebuf, i);
        u32 exp = (i & 1) ? ((i ^ 0x55) + 7) : (i * 3 + 1);
        check_quiet("copied function result", r, exp);
        sum += r;
    }
    check("copied functions: sum of results", sum, 4316);

    /* 5. a function patching itself further down */
    sum = 0;
    for (u32 i = 0; i < 20; i++)
        sum += selfpatch(i * 100);
    check("selfpatch: sum of 100i, i<20", sum, 19000);

    return summary("smc");
}
