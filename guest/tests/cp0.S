/*
 * cp0.S - an alternative exception vector page for the EBase test.
 * When EBase points here, a general exception enters at alt_ebase+0x180 and
 * reaches the common handler with vector id 0x1180 (instead of 0x180), so
 * the C side can tell which vector page was used.
 */
#include "regdef.h"

    .set    noreorder
    .set    noat
    .section .text.altvec, "ax", @progbits
    .balign 4096
    .globl  alt_ebase
alt_ebase:
    .org    0x000
    j       exc_common
     ori    k1, zero, 0x1000
    .org    0x180
    j       exc_common
     ori    k1, zero, 0x1180
    .org    0x200
    j       exc_common
     ori    k1, zero, 0x1200
    .org    0x280

    .text
/* u32 do_syscall(void): one syscall, returns 0 */
    .globl  do_syscall
    .ent    do_syscall
do_syscall:
    syscall
    jr      ra
     move   v0, zero
    .end    do_syscall
