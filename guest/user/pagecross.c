/*
 * A hot loop whose branch is the last word of a page, so its delay slot is
 * the first word of the next: the JIT can only compile the block with that
 * slot inside it (the runtime fetches it from the next page in user mode).
 * Prints what the loop adds up; the test also checks, with --stats, that
 * `--jit always` did not leave the loop to the interpreter.
 */
#include <stdio.h>

unsigned cross_loop(unsigned n);

__asm__(".section .text.pagecross,\"ax\",@progbits\n"
        ".set push\n.set noreorder\n"
        ".balign 4096\n"
        ".globl cross_loop\n"
        "cross_loop:\n"
        "  b 1f\n"
        "  move $2, $0\n"
        /* Pad to the page's last three words: 0xff4, 0xff8, 0xffc. */
        "  .fill (4096 - 8 - 12) / 4, 4, 0\n"
        "1: addu $2, $2, $4\n"
        "  addiu $4, $4, -1\n"
        "  bnez $4, 1b\n"
        "  addiu $2, $2, 1\n" /* the delay slot, on the next page */
        "  jr $31\n"
        "  nop\n"
        ".set pop\n"
        ".previous\n");

int main(void)
{
    /* n(n+1)/2 from the addu, n from the delay slot. */
    printf("cross: %u\n", cross_loop(5000));
    return 0;
}
