/*
 * branches - every branch and jump, delay slots, branch-likely annulment,
 * linking (also when not taken), jalr rd != ra, jr.hb/jalr.hb, delay slots
 * that overwrite the branch's source register, page-crossing delay slots.
 * The routines are in branches.S; see the v0 bit encoding there:
 *   taken = 3, not taken = 9, likely not taken = 8, +4 if the link is right.
 */
#include "rt.h"

u32 t_beq(u32, u32), t_bne(u32, u32), t_beql(u32, u32), t_bnel(u32, u32);
u32 t_blez(u32), t_bgtz(u32), t_bltz(u32), t_bgez(u32);
u32 t_blezl(u32), t_bgtzl(u32), t_bltzl(u32), t_bgezl(u32);
u32 t_bltzal(u32), t_bgezal(u32), t_bltzall(u32), t_bgezall(u32);
u32 t_beq_same(u32), t_bne_same(u32);
u32 t_delay_src(void), t_jumps(void), t_jal_slot_ra(void);
u32 t_loop(u32), t_loop_likely(u32);
u32 t_pagecross(u32), t_pagecross_l(u32);

static const u32 vals[] = {
    0, 1, 2, 0xffffffff, 0x7fffffff, 0x80000000, 0x80000001, 0xdeadbeef, 0x00010000,
};
#define NV ARRAY_SIZE(vals)

static u32 expect(int taken, int likely, int link)
{
    u32 e = taken ? 3 : (likely ? 8 : 9);
    return link ? e | 4 : e;
}

static void show(const char *op, u32 a, u32 b, int two, u32 got, u32 exp)
{
    n_checks++;
    if (two)
        printf("%s %08x %08x -> %x", op, a, b, got);
    else
        printf("%s %08x -> %x", op, a, got);
    if (got != exp) {
        n_failures++;
        printf(" FAIL exp %x", exp);
    }
    uart_putc('\n');
}

int main(void)
{
    puts("branches test (" ENDIAN_NAME ")");

    for (unsigned i = 0; i < NV; i++)
        for (unsigned j = 0; j < NV; j++) {
            u32 a = vals[i], b = vals[j];
            show("beq", a, b, 1, t_beq(a, b), expect(a == b, 0, 0));
            show("bne", a, b, 1, t_bne(a, b), expect(a != b, 0, 0));
            show("beql", a, b, 1, t_beql(a, b), expect(a == b, 1, 0));
            show("bnel", a, b, 1, t_bnel(a, b), expect(a != b, 1, 0));
        }

    for (unsigned i = 0; i < NV; i++) {
        u32 a = vals[i];
        s32 s = (s32)a;
        show("blez", a, 0, 0, t_blez(a), expect(s <= 0, 0, 0));
        show("bgtz", a, 0, 0, t_bgtz(a), expect(s > 0, 0, 0));
        show("bltz", a, 0, 0, t_bltz(a), expect(s < 0, 0, 0));
        show("bgez", a, 0, 0, t_bgez(a), expect(s >= 0, 0, 0));
        show("blezl", a, 0, 0, t_blezl(a), expect(s <= 0, 1, 0));
        show("bgtzl", a, 0, 0, t_bgtzl(a), expect(s > 0, 1, 0));
        show("bltzl", a, 0, 0, t_bltzl(a), expect(s < 0, 1, 0));
        show("bgezl", a, 0, 0, t_bgezl(a), expect(s >= 0, 1, 0));
        /* linking branches: GPR31 is written whether or not the branch is taken */
        show("bltzal", a, 0, 0, t_bltzal(a), expect(s < 0, 0, 1));
        show("bgezal", a, 0, 0, t_bgezal(a), expect(s >= 0, 0, 1));
        show("bltzall", a, 0, 0, t_bltzall(a), expect(s < 0, 1, 1));
        show("bgezall", a, 0, 0, t_bgezall(a), expect(s >= 0, 1, 1));
        show("beq-same-reg", a, 0, 0, t_beq_same(a), expect(1, 0, 0));
        show("bne-same-reg", a, 0, 0, t_bne_same(a), expect(0, 0, 0));
        show("pagecross beq", a, 0, 0, t_pagecross(a), expect(a == 0, 0, 0));
        show("pagecross beql", a, 0, 0, t_pagecross_l(a), expect(a == 0, 1, 0));
    }

    check("delay slot overwrites branch source (bits)", t_delay_src(), 0x1f);
    check("jumps j/jal/jalr/jalr rd/jr.hb/jalr.hb/bal/b (bits)", t_jumps(), 0x3ff);
    check("jal with delay slot writing ra returns to slot value", t_jal_slot_ra(), 1);
    check("loop sum 1..100 (bne)", t_loop(100), 5050);
    check("loop sum 1..1000 (bnezl)", t_loop_likely(1000), 500500);
    check("loop sum 1..1 (bnezl, exits at once)", t_loop_likely(1), 1);
    check("loop sum 1..0", t_loop(0), 0);

    return summary("branches");
}
