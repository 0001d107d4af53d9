/*
 * exceptions.S - routines that raise exceptions at known labels
 * (driven by exceptions.c, which installs a recording handler).
 *
 * Naming: NAME is the routine (u32 NAME(u32 a0, u32 a1)), NAME_x the
 * instruction expected to fault (EPC is printed relative to it), NAME_r the
 * resume address when the handler cannot simply skip the faulting
 * instruction (delay slots, bad instruction fetches).
 * Every routine returns v0 = t0, preset to 0x5a5a5a5a, so the C side can see
 * whether the faulting instruction wrote its destination (it must not).
 */
#include "regdef.h"
#include "fault.h"

    .set    noreorder
    .set    noat
    .text


/* The faulting instruction sits in the delay slot of a taken `beq $0,$0`. */
#define INSLOT(name, ...)               \
    .globl name; .globl name##_x; .globl name##_r; \
    .ent   name;                        \
name:                                   \
    li      t0, POISON;                 \
    beq     zero, zero, name##_r;       \
name##_x:                               \
     __VA_ARGS__;                       \
    li      t0, 0xdead;    /* not reached */ \
name##_r:                               \
    jr      ra;                         \
     move   v0, t0;                     \
    .end   name

/* ---- Integer Overflow (ExcCode 12); rd must not be written ------------- */
SIMPLE(x_add,      add   t0, a0, a1)
SIMPLE(x_addi_p,   addi  t0, a0, 1)
SIMPLE(x_addi_n,   addi  t0, a0, -1)
SIMPLE(x_addi_big, addi  t0, a0, 0x7fff)
SIMPLE(x_sub,      sub   t0, a0, a1)
SIMPLE(x_addu,     addu  t0, a0, a1)             /* never traps */
SIMPLE(x_addiu,    addiu t0, a0, 1)              /* never traps */
SIMPLE(x_subu,     subu  t0, a0, a1)             /* never traps */

/* ---- Traps (ExcCode 13) ------------------------------------------------ */
SIMPLE(x_teq,   teq  a0, a1)
SIMPLE(x_tne,   tne  a0, a1)
SIMPLE(x_tge,   tge  a0, a1)
SIMPLE(x_tgeu,  tgeu a0, a1)
SIMPLE(x_tlt,   tlt  a0, a1)
SIMPLE(x_tltu,  tltu a0, a1)
SIMPLE(x_teq_code, teq a0, a1, 0x3ff)            /* code field must not matter */
SIMPLE(x_teqi,  teqi  a0, 5)
SIMPLE(x_tnei,  tnei  a0, 5)
SIMPLE(x_tgei,  tgei  a0, -1)
SIMPLE(x_tgeiu, tgeiu a0, -1)                    /* imm sign-extended: >= 0xffffffff */
SIMPLE(x_tlti,  tlti  a0, 0)
SIMPLE(x_tltiu, tltiu a0, 1)

/* ---- Address errors (AdEL 4 / AdES 5, BadVAddr = effective address) ---- */
SIMPLE(x_lw,    lw   t0, 0(a0))
SIMPLE(x_lw_off, lw  t0, 5(a0))                  /* base aligned, offset not */
SIMPLE(x_lh,    lh   t0, 0(a0))
SIMPLE(x_lhu,   lhu  t0, 0(a0))
SIMPLE(x_ll,    ll   t0, 0(a0))
SIMPLE(x_sw,    sw   a1, 0(a0))
SIMPLE(x_sh,    sh   a1, 0(a0))
/* (No misaligned sc: QEMU 7.2 compares the address with LLAddr first and
   just fails the sc, without the AdES the manual specifies.) */
SIMPLE(x_lb_ok, lb   t0, 0(a0))                  /* byte loads never misalign */
SIMPLE(x_lwl_ok, lwl t0, 0(a0))                  /* lwl/lwr never misalign */

/*
 * Instruction fetch from a misaligned address: jr to x_jr_bad_x + 2.
 * EPC = BadVAddr = the bad target (no BD: the jr itself completed).
 */
    .globl  x_jr_bad
    .globl  x_jr_bad_x
    .globl  x_jr_bad_r
    .ent    x_jr_bad
x_jr_bad:
    li      t0, POISON
    la      t1, x_jr_bad_x + 2
    jr      t1
     nop
x_jr_bad_x:
    nop
    nop
x_jr_bad_r:
    jr      ra
     move   v0, t0
    .end    x_jr_bad

/* jalr to a misaligned target: the link is written before the fetch faults.
   Returns v0 = the link register value. */
    .globl  x_jalr_bad
    .globl  x_jalr_bad_x
    .globl  x_jalr_bad_r
    .globl  x_jalr_bad_link
    .ent    x_jalr_bad
x_jalr_bad:
    li      t2, POISON
    la      t1, x_jalr_bad_x + 2
    jalr    t2, t1
     nop
x_jalr_bad_link:
    nop
x_jalr_bad_x:
    nop
    nop
x_jalr_bad_r:
    jr      ra
     move   v0, t2
    .end    x_jalr_bad

/* ---- Reserved Instruction (ExcCode 10) ---------------------------------- */
SIMPLE(x_ri_op3b,    .word 0xec000000)           /* opcode 0x3b: reserved in MIPS32 */
SIMPLE(x_ri_dadd,    .word 0x0085402c)           /* SPECIAL DADD t0,a0,a1: 64-bit only */
SIMPLE(x_ri_ld,      .word 0xdc880000)           /* LD t0,0(a0): 64-bit only */
SIMPLE(x_ri_rdhwr6,  .word 0x7c08303b)           /* rdhwr t0,$6: reserved hw register */
/* (No rdhwr $29 here: in kernel mode QEMU 7.2 reads UserLocal even with
   Config3.ULRI=0; it raises RI only in user mode.) */
SIMPLE(x_ri_sp2,     .word 0x70000010)           /* SPECIAL2 function 0x10: reserved */

/* ---- Breakpoint (9) / Syscall (8) ---------------------------------------- */
SIMPLE(x_break,     break)
SIMPLE(x_break_code, break 0x3ff, 0x3ff)
SIMPLE(x_syscall,   syscall)
SIMPLE(x_syscall_code, syscall 0xfffff)

/* ---- Coprocessor Unusable (11), Cause.CE = coprocessor number ---------- */
    .set    push
    .set    hardfloat                    /* allow FPU mnemonics despite -msoft-float */
SIMPLE(x_cpu_mfc1,  mfc1 t0, $f0)
SIMPLE(x_cpu_lwc1,  lwc1 $f2, 0(a0))
SIMPLE(x_cpu_swc1,  swc1 $f2, 0(a0))
SIMPLE(x_cpu_cfc1,  cfc1 t0, $31)
/* (No COP2 (opcode 0x12) case: QEMU 7.2 decodes it as Loongson MMI and
   raises RI, not CpU with CE=2.  lwc2 does give CpU, CE=2.) */
SIMPLE(x_cpu_lwc2,  .word 0xc8880000)            /* lwc2 $8, 0(a0) */
    .set    pop

/* ---- Exceptions in branch delay slots: BD=1, EPC = the branch ----------- */
INSLOT(x_bd_adel,  lw    t0, 1(a0))
INSLOT(x_bd_break, break)
INSLOT(x_bd_ov,    add   t0, a0, a1)
INSLOT(x_bd_trap,  teq   zero, zero)
INSLOT(x_bd_sys,   syscall)
INSLOT(x_bd_ri,    .word 0xec000000)
INSLOT(x_bd_cpu,   .word 0x44080000)           /* mfc1 t0, $f0 */

/* In the delay slot of a taken branch-likely. */
    .globl  x_bdl_taken
    .globl  x_bdl_taken_x
    .globl  x_bdl_taken_r
    .ent    x_bdl_taken
x_bdl_taken:
    li      t0, POISON
    bnel    a0, zero, x_bdl_taken_r
x_bdl_taken_x:
     sw     a1, 1(a0)                /* AdES, BD=1 */
    li      t0, 0xdead
x_bdl_taken_r:
    jr      ra
     move   v0, t0
    .end    x_bdl_taken

/* Not-taken branch-likely: the faulting slot is annulled, no exception. */
    .globl  x_bdl_nt
    .globl  x_bdl_nt_x
    .ent    x_bdl_nt
x_bdl_nt:
    li      t0, POISON
    beql    a0, zero, 1f
x_bdl_nt_x:
     break
    li      t0, 0x600d               /* fall-through reached */
1:  jr      ra
     move   v0, t0
    .end    x_bdl_nt

/*
 * Not-taken ordinary branch (a0 = 0): the slot executes and faults; BD=1 and
 * EPC = branch still.  The condition must not be statically false: QEMU
 * 7.2 translates `bne rX,rX` / `bgtz $0` / `bltz $0` as NOPs, so a fault in
 * their "delay slot" gets BD=0, EPC = slot.
 */
    .globl  x_bd_nt
    .globl  x_bd_nt_x
    .globl  x_bd_nt_r
    .ent    x_bd_nt
x_bd_nt:
    li      t0, POISON
    bne     a0, zero, 1f
x_bd_nt_x:
     teq    zero, zero
1:
x_bd_nt_r:
    jr      ra
     move   v0, t0
    .end    x_bd_nt

/* In the slot of jr. */
    .globl  x_bd_jr
    .globl  x_bd_jr_x
    .globl  x_bd_jr_r
    .ent    x_bd_jr
x_bd_jr:
    li      t0, POISON
    la      t1, x_bd_jr_r
    jr      t1
x_bd_jr_x:
     syscall
    li      t0, 0xdead
x_bd_jr_r:
    jr      ra
     move   v0, t0
    .end    x_bd_jr

/* In the slot of jal: ra has been written; returns v0 = ra as seen at resume. */
    .globl  x_bd_jal
    .globl  x_bd_jal_x
    .globl  x_bd_jal_r
    .globl  x_bd_jal_link
    .ent    x_bd_jal
x_bd_jal:
    move    t9, ra
    jal     x_bd_jal_r
x_bd_jal_x:
     break
x_bd_jal_link:
    nop
x_bd_jal_r:
    move    v0, ra
    jr      t9
     nop
    .end    x_bd_jal

/* In the slot of a linking branch that is not taken (bltzal with a0 >= 0). */
    .globl  x_bd_bltzal
    .globl  x_bd_bltzal_x
    .globl  x_bd_bltzal_r
    .ent    x_bd_bltzal
x_bd_bltzal:
    move    t9, ra
    li      t0, POISON
    bltzal  a0, 1f
x_bd_bltzal_x:
     tne    zero, a0
1:
x_bd_bltzal_r:
    jr      t9
     move   v0, t0
    .end    x_bd_bltzal

/* Branch at the last word of a page, faulting delay slot on the next page. */
    .section .text.pagecross, "ax", @progbits
    .balign 4096
    .globl  x_bd_page
    .globl  x_bd_page_x
    .globl  x_bd_page_r
    .ent    x_bd_page
x_bd_page:
    li      t0, POISON                   /* 2 instructions */
    b       1f
     nop
    .space  4096 - 20
1:  beq     zero, zero, x_bd_page_r      /* page offset 0xffc */
x_bd_page_x:
     break                               /* next page, offset 0 */
    li      t0, 0xdead
x_bd_page_r:
    jr      ra
     move   v0, t0
    .end    x_bd_page
    .text

/* ---- EXL / eret behaviour ---------------------------------------------------- */

/*
 * x_eret_plain: eret outside an exception (EXL=0, ERL=0) jumps to EPC and
 * has no delay slot.  Returns 1 if we arrived at the EPC target and the
 * instruction after eret did not run.
 */
    .globl  x_eret_plain
    .ent    x_eret_plain
x_eret_plain:
    li      v0, 0
    la      t0, 1f
    mtc0    t0, $14
    ehb
    eret
    li      v0, 99                      /* must not execute (no delay slot) */
    nop
1:  jr      ra
     addiu  v0, v0, 1
    .end    x_eret_plain

/*
 * x_eret_exl: set Status.EXL by hand, eret: EXL is cleared, PC = EPC.
 * Returns v0 = Status read before eret, v1 = Status after.
 */
    .globl  x_eret_exl
    .ent    x_eret_exl
x_eret_exl:
    mfc0    t1, $12
    ori     t1, t1, 2                   /* EXL=1 (IE stays 0) */
    mtc0    t1, $12
    ehb
    mfc0    v0, $12
    la      t0, 1f
    mtc0    t0, $14
    ehb
    eret
    nop
1:  mfc0    v1, $12
    jr      ra
     nop
    .end    x_eret_exl

/*
 * x_nested_exl: with Status.EXL already 1, a syscall must NOT update EPC
 * (nor Cause.BD); it still vectors to +0x180 and sets ExcCode.
 * EPC is preset to x_nested_exl_r; the handler sees that value and erets
 * there.  The syscall sits in a branch delay slot, so a wrongly updated
 * Cause.BD would also show.
 */
    .globl  x_nested_exl
    .globl  x_nested_exl_x
    .globl  x_nested_exl_r
    .ent    x_nested_exl
x_nested_exl:
    li      t0, POISON
    la      t1, x_nested_exl_r
    mtc0    t1, $14
    mfc0    t1, $12
    ori     t1, t1, 2
    mtc0    t1, $12                     /* EXL=1 */
    ehb
    beq     zero, zero, 1f
x_nested_exl_x:
     syscall
1:  li      t0, 0xdead                  /* not reached: eret goes to EPC */
x_nested_exl_r:
    jr      ra
     move   v0, t0
    .end    x_nested_exl
