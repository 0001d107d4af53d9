/*
 * branches.S - branch and jump test routines (driven by branches.c).
 *
 * Conditional branch routines return in v0 a bit mask:
 *   bit 0 (1): the delay-slot instruction executed
 *   bit 1 (2): the branch target was reached (taken)
 *   bit 2 (4): link register == address of the instruction after the delay slot
 *              (linking branches only; checked whether taken or not)
 *   bit 3 (8): the fall-through path (branch + 8) was reached
 * So: taken = 3, not taken = 9, likely not taken (slot annulled) = 8,
 * plus 4 for a correct link.
 */
#include "regdef.h"

    .set    noreorder
    .set    noat
    .text

/* `insn OPERANDS, target`: v0 = 1|2 if taken, 1|8 if not (bit 0: the
 * delay slot ran). */
#define BRANCH(name, insn, ...)  \
    .globl name;                 \
    .ent   name;                 \
name:                            \
    move    v0, zero;            \
    insn    __VA_ARGS__, 1f;     \
     ori    v0, v0, 1;           \
    jr      ra;                  \
     ori    v0, v0, 8;           \
1:  jr      ra;                  \
     ori    v0, v0, 2;           \
    .end   name

/* Two-register branch: v0 = f(a0, a1) */
#define BR2(name, insn) BRANCH(name, insn, a0, a1)

/* One-register branch: v0 = f(a0) */
#define BR1(name, insn) BRANCH(name, insn, a0)

/* Linking one-register branch (bltzal & co): GPR31 = branch + 8, taken or not. */
#define BRL(name, insn)          \
    .globl name;                 \
    .ent   name;                 \
name:                            \
    move    t9, ra;              \
    move    v0, zero;            \
    li      ra, 0x5a5a5a5a;      \
    insn    a0, 1f;              \
     ori    v0, v0, 1;           \
2:  b       3f;                  \
     ori    v0, v0, 8;           \
1:  ori     v0, v0, 2;           \
3:  la      t0, 2b;              \
    bne     ra, t0, 4f;          \
     nop;                        \
    ori     v0, v0, 4;           \
4:  jr      t9;                  \
     nop;                        \
    .end   name

BR2(t_beq,  beq)
BR2(t_bne,  bne)
BR2(t_beql, beql)
BR2(t_bnel, bnel)
BR1(t_blez,  blez)
BR1(t_bgtz,  bgtz)
BR1(t_bltz,  bltz)
BR1(t_bgez,  bgez)
BR1(t_blezl, blezl)
BR1(t_bgtzl, bgtzl)
BR1(t_bltzl, bltzl)
BR1(t_bgezl, bgezl)
BRL(t_bltzal,  bltzal)
BRL(t_bgezal,  bgezal)
BRL(t_bltzall, bltzall)
BRL(t_bgezall, bgezall)

/* beq/bne with the same register twice (always / never taken) */
    .globl  t_beq_same
    .ent    t_beq_same
t_beq_same:
    move    v0, zero
    beq     a0, a0, 1f
     ori    v0, v0, 1
    jr      ra
     ori    v0, v0, 8
1:  jr      ra
     ori    v0, v0, 2
    .end    t_beq_same

    .globl  t_bne_same
    .ent    t_bne_same
t_bne_same:
    move    v0, zero
    bne     a0, a0, 1f
     ori    v0, v0, 1
    jr      ra
     ori    v0, v0, 8
1:  jr      ra
     ori    v0, v0, 2
    .end    t_bne_same

/*
 * t_delay_src: the delay slot overwrites the branch's source register.
 * The branch must use the value read before the delay slot executes.
 * Returns v0 = bits: 1 bne taken with old t1; 2 t1 was updated by the slot;
 *                    4 beq not taken with old t1 (slot made them equal);
 *                    8 jr went to the old t2; 16 t2 updated by the jr slot.
 */
    .globl  t_delay_src
    .ent    t_delay_src
t_delay_src:
    move    v0, zero
    li      t1, 1
    bne     t1, zero, 1f            /* reads t1 = 1: taken */
     move   t1, zero                /* ... even though the slot zeroes it */
    b       2f                      /* not reached */
     nop
1:  ori     v0, v0, 1
2:  bnez    t1, 3f
     nop
    ori     v0, v0, 2               /* t1 == 0 now */
3:  li      t1, 5
    li      t3, 6
    beq     t1, t3, 4f              /* 5 != 6: not taken */
     li     t1, 6                   /* slot makes them equal: irrelevant */
    ori     v0, v0, 4
4:  la      t2, 5f
    jr      t2                      /* jumps to 5f */
     addiu  t2, t2, 8               /* ... not to 5f + 8 */
    b       7f                      /* not reached */
     nop
5:  ori     v0, v0, 8               /* target */
    la      t3, 5b + 8
    bne     t2, t3, 7f
     nop
    ori     v0, v0, 16
7:  jr      ra
     nop
    .end    t_delay_src

/*
 * t_jumps: j / jal / jalr / jalr rd!=ra / jr.hb / jalr.hb / bal / b.
 * Returns v0 = bit mask of reached checkpoints (expected 0x3ff).
 */
    .globl  t_jumps
    .ent    t_jumps
t_jumps:
    addiu   sp, sp, -16
    sw      ra, 0(sp)
    sw      s0, 4(sp)
    move    s0, zero

    j       1f                      /* j: plain jump */
     ori    s0, s0, 0x001           /* delay slot executes */
    b       99f
     nop
1:
    jal     t_leaf                  /* jal: ra = label 2 */
     nop
2:  la      t0, 2b
    bne     v1, t0, 3f              /* t_leaf returns the ra it saw in v1 */
     nop
    ori     s0, s0, 0x002
3:
    la      t1, t_leaf
    jalr    t1                      /* jalr (rd = ra) */
     nop
4:  la      t0, 4b
    bne     v1, t0, 5f
     nop
    ori     s0, s0, 0x004
5:
    la      t1, t_leaf_t2
    jalr    t2, t1                  /* jalr rd = t2: t2 = link, ra untouched */
     nop
6:  la      t0, 6b
    bne     t2, t0, 7f
     nop
    ori     s0, s0, 0x008
7:
    la      t1, 8f
    jr.hb   t1                      /* jr.hb */
     ori    s0, s0, 0x010
    b       99f
     nop
8:
    la      t1, t_leaf
    jalr.hb t1                      /* jalr.hb */
     nop
9:  la      t0, 9b
    bne     v1, t0, 10f
     nop
    ori     s0, s0, 0x020
10:
    bal     11f                     /* bal = bgezal $0: always taken, links */
     nop
12: b       13f
     nop
11: la      t0, 12b
    bne     ra, t0, 13f
     nop
    ori     s0, s0, 0x040
13:
    b       14f                     /* b = beq $0,$0 */
     nop
    b       99f
     nop
14: ori     s0, s0, 0x080
    /* the delay slot of jal sees the new ra */
    jal     t_leaf
     move   t3, ra
15: la      t0, 15b
    bne     t3, t0, 16f
     nop
    ori     s0, s0, 0x100
16:
    /* jalr t2 with the delay slot reading t2 sees the link */
    la      t1, t_leaf_t2
    jalr    t2, t1
     move   t3, t2
18: la      t0, 18b
    bne     t3, t0, 99f
     nop
    ori     s0, s0, 0x200
99:
    move    v0, s0
    lw      ra, 0(sp)
    lw      s0, 4(sp)
    jr      ra
     addiu  sp, sp, 16
    .end    t_jumps

/* leaf: returns v1 = ra as seen on entry */
    .ent    t_leaf
t_leaf:
    jr      ra
     move   v1, ra
    .end    t_leaf

    .ent    t_leaf_t2
t_leaf_t2:
    jr      t2
     move   v1, t2
    .end    t_leaf_t2

/* t_ret_ra: jal with a delay slot that writes ra; returns to the slot's value */
    .ent    t_ret_ra
t_ret_ra:
    jr      ra
     nop
    .end    t_ret_ra

/*
 * t_jal_slot_ra: jal whose delay slot overwrites ra.  The callee returns to
 * the value written by the slot (the link is written first, then the slot).
 * Returns v0 = 1 if we came back through label 2 (slot value), 2 if through
 * the normal link.
 */
    .globl  t_jal_slot_ra
    .ent    t_jal_slot_ra
t_jal_slot_ra:
    move    t9, ra
    la      t0, 2f
    jal     t_ret_ra
     move   ra, t0                  /* slot: ra = label 2 */
    /* normal link return lands here */
    b       3f
     li     v0, 2
    nop
2:  li      v0, 1
3:  jr      t9
     nop
    .end    t_jal_slot_ra

/* t_loop: sum 1..a0 with a backward bne; returns the sum */
    .globl  t_loop
    .ent    t_loop
t_loop:
    move    v0, zero
    beqz    a0, 2f
     nop
1:  addu    v0, v0, a0
    addiu   a0, a0, -1
    bnez    a0, 1b
     nop
2:  jr      ra
     nop
    .end    t_loop

/* t_loop_likely: same loop closed by a branch-likely with useful slot work */
    .globl  t_loop_likely
    .ent    t_loop_likely
t_loop_likely:
    move    v0, zero
    beqz    a0, 2f
     nop
    addu    v0, v0, a0
1:  addiu   a0, a0, -1
    bnezl   a0, 1b
     addu   v0, v0, a0              /* executed only when looping */
2:  jr      ra
     nop
    .end    t_loop_likely

/*
 * Branches whose delay slot is in the next 4 KiB page (translation blocks
 * usually end at page boundaries).  The branch sits at page offset 0xffc,
 * its delay slot at offset 0x000 of the next page.  Same v0 encoding as the
 * conditional branch routines.
 *   t_pagecross(a0):   beq  a0, zero
 *   t_pagecross_l(a0): beql a0, zero (slot annulled when not taken)
 */
    .section .text.pagecross, "ax", @progbits
    .balign 4096
    .globl  t_pagecross
    .ent    t_pagecross
t_pagecross:
    b       1f                      /* page offset 0x000 */
     move   v0, zero
    .space  4096 - 12               /* never executed */
1:  beq     a0, zero, 2f            /* page offset 0xffc */
     ori    v0, v0, 1               /* next page, offset 0x000 */
    jr      ra
     ori    v0, v0, 8
2:  jr      ra
     ori    v0, v0, 2
    .end    t_pagecross

    .balign 4096
    .globl  t_pagecross_l
    .ent    t_pagecross_l
t_pagecross_l:
    b       1f
     move   v0, zero
    .space  4096 - 12
1:  beql    a0, zero, 2f            /* page offset 0xffc */
     ori    v0, v0, 1               /* next page: annulled if not taken */
    jr      ra
     ori    v0, v0, 8
2:  jr      ra
     ori    v0, v0, 2
    .end    t_pagecross_l
