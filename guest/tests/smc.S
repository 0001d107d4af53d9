/*
 * smc.S - code that is written, patched or copied at run time
 * (driven by smc.c).  A DBT must notice stores to translated code.
 */
#include "regdef.h"

    .set    noreorder
    .set    noat
    .text

/* u32 call_hb(void *code, u32 arg): calls code(arg) with jalr.hb (clears
   the instruction hazard after synci, as the architecture requires). */
    .globl  call_hb
    .ent    call_hb
call_hb:
    addiu   sp, sp, -8
    sw      ra, 0(sp)
    move    t9, a0
    jalr.hb t9
     move   a0, a1
    lw      ra, 0(sp)
    jr      ra
     addiu  sp, sp, 8
    .end    call_hb

/* void flush_icache(void *p, u32 len): synci every SYNCI_Step bytes, sync */
    .globl  flush_icache
    .ent    flush_icache
flush_icache:
    rdhwr   t0, $1                  /* SYNCI_Step */
    beqz    t0, 2f
     addu   a1, a0, a1
    subu    t1, zero, t0
    and     a0, a0, t1              /* align down */
1:  synci   0(a0)
    addu    a0, a0, t0
    sltu    t2, a0, a1
    bnez    t2, 1b
     nop
2:  sync
    jr      ra
     nop
    .end    flush_icache

/* u32 patchme(u32): returns the immediate of its `addiu v0, zero, imm`
   (patched by smc.c; the instruction is at patchme_insn). */
    .globl  patchme
    .globl  patchme_insn
    .ent    patchme
patchme:
    jr      ra
patchme_insn:
     addiu  v0, zero, 1
    .end    patchme

/* Two small functions copied into a RAM buffer alternately. */
    .globl  fn_a
    .globl  fn_a_end
    .ent    fn_a
fn_a:                               /* a0 * 3 + 1 */
    sll     v0, a0, 1
    addu    v0, v0, a0
    jr      ra
     addiu  v0, v0, 1
fn_a_end:
    .end    fn_a

    .globl  fn_b
    .globl  fn_b_end
    .ent    fn_b
fn_b:                               /* (a0 ^ 0x55) + 7, via a loop of one */
    xori    v0, a0, 0x55
    li      t0, 7
1:  addiu   v0, v0, 1
    addiu   t0, t0, -1
    bnez    t0, 1b
     nop
    jr      ra
     nop
fn_b_end:
    .end    fn_b

/*
 * u32 selfpatch(u32 imm): rewrites the immediate of the instruction at
 * selfpatch_tgt (same function, same page) to imm, flushes it with synci,
 * and jumps there with jr.hb; returns what that instruction computed.
 */
    .globl  selfpatch
    .ent    selfpatch
selfpatch:
    la      t0, selfpatch_tgt
    lw      t1, 0(t0)
    lui     t2, 0xffff
    and     t1, t1, t2              /* keep opcode/rs/rt */
    andi    a0, a0, 0xffff
    or      t1, t1, a0
    sw      t1, 0(t0)
    synci   0(t0)
    sync
    jr.hb   t0
     nop
    nop
selfpatch_tgt:
    addiu   v0, zero, 0
    jr      ra
     nop
    .end    selfpatch
