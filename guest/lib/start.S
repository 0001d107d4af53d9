/*
 * start.S - start-up code and exception entry for mipsjit guest programs.
 *
 * Platform contract (QEMU -M malta -kernel, and mipsjit):
 *   - entered in kernel mode, Status.BEV=1, from QEMU's boot stub;
 *   - we set EBase=0x80000000, then Status = CU0 (BEV=0, EXL=ERL=IE=0, IM=0);
 *   - the vectors below are linked at 0x80000000 (section .vectors);
 *   - after main() returns we write 0x42 to the Malta FPGA SOFTRES register
 *     (kseg1 0xbf000500), which makes QEMU -no-reboot (and mipsjit) exit.
 *
 * Exception entry saves every GPR, HI/LO and EPC/Cause/Status/BadVAddr into
 * the static `exc_frame` (layout: struct exc_frame in rt.h), switches to a
 * private stack and calls exc_dispatch(frame).  On return, GPRs/HI/LO/EPC are
 * reloaded from the frame (so a handler may change them) and we eret.
 * k0 is clobbered, k1 holds the vector offset on entry.
 */
#include "regdef.h"

#define FR_HI    128
#define FR_LO    132
#define FR_EPC   136
#define FR_CAUSE 140
#define FR_STAT  144
#define FR_BADVA 148
#define FR_VEC   152

    .set    noreorder
    .set    noat

/* ------------------------------------------------------------------ */
/* Exception vectors at EBase (0x80000000).                            */
/* Each vector: k1 = vector offset, then jump to the common entry.     */
/* ------------------------------------------------------------------ */
    .section .vectors, "ax", @progbits
    .globl  __vectors
__vectors:
    .org    0x000                   /* TLB refill (EXL=0) */
    j       exc_common
     ori    k1, zero, 0x000
    .org    0x100                   /* cache error (unused) */
    j       exc_common
     ori    k1, zero, 0x100
    .org    0x180                   /* general exception */
    j       exc_common
     ori    k1, zero, 0x180
    .org    0x200                   /* interrupt when Cause.IV=1 */
    j       exc_common
     ori    k1, zero, 0x200
    .org    0x280

/* ------------------------------------------------------------------ */
    .section .text.start, "ax", @progbits
    .globl  _start
    .ent    _start
_start:
    /* EBase first (matters only once BEV=0). */
    lui     t0, 0x8000
    mtc0    t0, $15, 1
    ehb
    /* Status: CU0=1, BEV=0, IM=0, KSU=0 (kernel), ERL=EXL=IE=0. */
    lui     t0, 0x1000
    mtc0    t0, $12
    ehb
    /* Cause: IV=0, software interrupt bits clear. */
    mtc0    zero, $13
    /* Config0.K0 = 3 (cacheable), as Linux does; QEMU keeps K0 writable. */
    mfc0    t0, $16
    ori     t0, t0, 7
    xori    t0, t0, 4
    mtc0    t0, $16
    ehb

    /* Stack and GP (gp unused with -G0, but keep it deterministic). */
    la      sp, __stack_top
    move    gp, zero
    move    fp, zero

    /* Clear .bss (16-byte aligned both ends, see link.ld). */
    la      t0, __bss_start
    la      t1, __bss_end
    beq     t0, t1, 2f
     nop
1:  sw      zero, 0(t0)
    sw      zero, 4(t0)
    sw      zero, 8(t0)
    addiu   t0, t0, 16
    bne     t0, t1, 1b
     sw     zero, -4(t0)
2:
    move    a0, zero
    move    a1, zero
    jal     main
     move   a2, zero
    jal     _exit
     move   a0, v0
    .end    _start

/* void _exit(int code): SOFTRES <- 0x42 and spin until the emulator stops. */
    .text
    .globl  _exit
    .ent    _exit
_exit:
    lui     t0, 0xbf00
    li      t1, 0x42
    sw      t1, 0x500(t0)
    sync
1:  b       1b
     nop
    .end    _exit

/* ------------------------------------------------------------------ */
/* Common exception entry.                                             */
/* ------------------------------------------------------------------ */
    .globl  exc_common
    .ent    exc_common
exc_common:
    lui     k0, %hi(exc_frame)
    addiu   k0, k0, %lo(exc_frame)
    sw      $0,   0(k0)
    sw      $1,   4(k0)
    sw      $2,   8(k0)
    sw      $3,  12(k0)
    sw      $4,  16(k0)
    sw      $5,  20(k0)
    sw      $6,  24(k0)
    sw      $7,  28(k0)
    sw      $8,  32(k0)
    sw      $9,  36(k0)
    sw      $10, 40(k0)
    sw      $11, 44(k0)
    sw      $12, 48(k0)
    sw      $13, 52(k0)
    sw      $14, 56(k0)
    sw      $15, 60(k0)
    sw      $16, 64(k0)
    sw      $17, 68(k0)
    sw      $18, 72(k0)
    sw      $19, 76(k0)
    sw      $20, 80(k0)
    sw      $21, 84(k0)
    sw      $22, 88(k0)
    sw      $23, 92(k0)
    sw      $24, 96(k0)
    sw      $25, 100(k0)
    sw      $0,  104(k0)            /* k0: clobbered, record 0 */
    sw      $0,  108(k0)            /* k1: clobbered, record 0 */
    sw      $28, 112(k0)
    sw      $29, 116(k0)
    sw      $30, 120(k0)
    sw      $31, 124(k0)
    sw      k1, FR_VEC(k0)
    mfhi    t0
    sw      t0, FR_HI(k0)
    mflo    t0
    sw      t0, FR_LO(k0)
    mfc0    t0, $14                 /* EPC */
    sw      t0, FR_EPC(k0)
    mfc0    t0, $13                 /* Cause */
    sw      t0, FR_CAUSE(k0)
    mfc0    t0, $12                 /* Status */
    sw      t0, FR_STAT(k0)
    mfc0    t0, $8                  /* BadVAddr */
    sw      t0, FR_BADVA(k0)

    la      sp, __exc_stack_top
    jal     exc_dispatch
     move   a0, k0

    lui     k0, %hi(exc_frame)
    addiu   k0, k0, %lo(exc_frame)
    lw      t0, FR_EPC(k0)
    mtc0    t0, $14
    lw      t0, FR_HI(k0)
    mthi    t0
    lw      t0, FR_LO(k0)
    mtlo    t0
    lw      $1,   4(k0)
    lw      $2,   8(k0)
    lw      $3,  12(k0)
    lw      $4,  16(k0)
    lw      $5,  20(k0)
    lw      $6,  24(k0)
    lw      $7,  28(k0)
    lw      $8,  32(k0)
    lw      $9,  36(k0)
    lw      $10, 40(k0)
    lw      $11, 44(k0)
    lw      $12, 48(k0)
    lw      $13, 52(k0)
    lw      $14, 56(k0)
    lw      $15, 60(k0)
    lw      $16, 64(k0)
    lw      $17, 68(k0)
    lw      $18, 72(k0)
    lw      $19, 76(k0)
    lw      $20, 80(k0)
    lw      $21, 84(k0)
    lw      $22, 88(k0)
    lw      $23, 92(k0)
    lw      $24, 96(k0)
    lw      $25, 100(k0)
    lw      $28, 112(k0)
    lw      $29, 116(k0)
    lw      $30, 120(k0)
    lw      $31, 124(k0)
    move    k1, zero
    ehb                             /* mtc0 EPC -> eret hazard */
    eret
    .end    exc_common

    .bss
    .balign 16
    .globl  exc_frame
exc_frame:
    .space  160
