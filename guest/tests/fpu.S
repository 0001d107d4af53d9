/*
 * fpu.S - FPU branches and a faulting delay slot (driven by fpu.c).
 * mipsjit-cpu: 24Kf (the harness runs this program on a 24Kf, with QEMU
 * -cpu 24Kf, like fpu.c says).
 *
 * The guest is built -msoft-float (the o32 soft-float ABI stays); these
 * routines switch the assembler to hard float and 64-bit FPRs locally.
 */
#include "regdef.h"
#undef fp /* regdef.h names $30 fp; here it is the assembler option */

    .set    noreorder
    .set    noat
    .set    hardfloat
    .set    fp=64
    .text

/*
 * u32 fp_branches(u32 fccr): sets FCCR (the condition codes) to a0, runs
 * bc1f/bc1t/bc1fl/bc1tl on $fcc0, $fcc3 and $fcc7 and returns one bit per
 * test: branch taken, and (likely forms) delay slot executed.  The delay
 * slots of the plain forms always run: they add their bit unconditionally.
 */
    .globl  fp_branches
    .ent    fp_branches
fp_branches:
    ctc1    a0, $25
    move    v0, zero
    /* bc1t $fcc0 */
    bc1t    $fcc0, 1f
     ori    v0, v0, 0x1             /* delay slot: always */
    b       2f
     nop
1:  ori     v0, v0, 0x2             /* taken */
2:  /* bc1f $fcc3 */
    bc1f    $fcc3, 1f
     ori    v0, v0, 0x4
    b       2f
     nop
1:  ori     v0, v0, 0x8
2:  /* bc1tl $fcc7: slot runs only when taken */
    bc1tl   $fcc7, 1f
     ori    v0, v0, 0x10
    b       2f
     nop
1:  ori     v0, v0, 0x20
2:  /* bc1fl $fcc0 */
    bc1fl   $fcc0, 1f
     ori    v0, v0, 0x40
    b       2f
     nop
1:  ori     v0, v0, 0x80
2:  /* bc1t $fcc5 with a compare just before (the block has both) */
    c.eq.s  $fcc5, $f31, $f31       /* $f31 = 1.0 (fpu.c): true */
    bc1t    $fcc5, 1f
     nop
    b       2f
     nop
1:  ori     v0, v0, 0x100
2:  jr      ra
     nop
    .end    fp_branches

/*
 * u32 fp_loop(u32 n): counts i = 0, 1, 2, ... as a double while i < n
 * (c.lt.d + bc1t at the bottom of the loop, a hot block for the JIT);
 * returns the count, converted back with trunc.w.d.
 */
    .globl  fp_loop
    .ent    fp_loop
fp_loop:
    mtc1    a0, $f0
    cvt.d.w $f0, $f0                /* n */
    mtc1    zero, $f2
    cvt.d.w $f2, $f2                /* i = 0 */
    li      t0, 1
    mtc1    t0, $f4
    cvt.d.w $f4, $f4                /* 1.0 */
1:  add.d   $f2, $f2, $f4
    c.lt.d  $fcc2, $f2, $f0
    bc1t    $fcc2, 1b
     nop
    trunc.w.d $f6, $f2
    jr      ra
     mfc1   v0, $f6
    .end    fp_loop

/*
 * u32 fpe_in_slot(u32 x): sqrt.s of x in the delay slot of a taken bc1t;
 * with Invalid enabled and x = -1 it faults there (EPC = the branch,
 * BD = 1); the handler resumes at fpe_in_slot_r.  Returns the destination,
 * preset to 0x5a5a5a5a.
 */
    .globl  fpe_in_slot
    .globl  fpe_in_slot_x
    .globl  fpe_in_slot_r
    .ent    fpe_in_slot
fpe_in_slot:
    li      t0, 0x5a5a5a5a
    mtc1    t0, $f4
    mtc1    a0, $f2
    c.un.s  $fcc1, $f2, $f2         /* false for -1 */
fpe_in_slot_x:
    bc1f    $fcc1, fpe_in_slot_r
     sqrt.s $f4, $f2
    nop
fpe_in_slot_r:
    jr      ra
     mfc1   v0, $f4
    .end    fpe_in_slot
