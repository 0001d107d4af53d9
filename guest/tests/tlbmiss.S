/*
 * tlbmiss.S - accesses to TLB-mapped segments with an empty TLB
 * (driven by tlbmiss.c).  Same conventions as exceptions.S: NAME_x is the
 * faulting instruction, NAME_r a resume label, v0 = t0 preset 0x5a5a5a5a.
 */
#include "regdef.h"
#include "fault.h"

    .set    noreorder
    .set    noat
    .text


SIMPLE(m_lw,  lw  t0, 0(a0))         /* load  -> TLBL (2) */
SIMPLE(m_lbu, lbu t0, 0(a0))
SIMPLE(m_sw,  sw  a1, 0(a0))         /* store -> TLBS (3) */
SIMPLE(m_sb,  sb  a1, 0(a0))

/* instruction fetch from a0: EPC = BadVAddr = a0, TLBL */
    .globl  m_fetch
    .globl  m_fetch_x
    .globl  m_fetch_r
    .ent    m_fetch
m_fetch:
    li      t0, POISON
m_fetch_x:
    jr      a0
     nop
m_fetch_r:
    jr      ra
     move   v0, t0
    .end    m_fetch

/* load in a delay slot: BD=1, EPC = branch */
    .globl  m_bd
    .globl  m_bd_x
    .globl  m_bd_r
    .ent    m_bd
m_bd:
    li      t0, POISON
    beq     zero, zero, m_bd_r
m_bd_x:
     lw     t0, 0(a0)
    nop
m_bd_r:
    jr      ra
     move   v0, t0
    .end    m_bd

/* With Status.EXL=1 a TLB miss goes to the general vector (+0x180), EPC is
   not written (preset to m_exl_r). */
    .globl  m_exl
    .globl  m_exl_x
    .globl  m_exl_r
    .ent    m_exl
m_exl:
    li      t0, POISON
    la      t1, m_exl_r
    mtc0    t1, $14
    mfc0    t1, $12
    ori     t1, t1, 2
    mtc0    t1, $12
    ehb
m_exl_x:
    lw      t0, 0(a0)
    li      t0, 0xdead
m_exl_r:
    jr      ra
     move   v0, t0
    .end    m_exl
