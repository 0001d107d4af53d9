/* Self-modifying code in user mode: code written into an executable
 * mapping runs as written once the guest flushes the instruction cache,
 * with synci, __builtin___clear_cache (cacheflush(2) in glibc) or
 * cacheflush(2) itself. Each
 * version is called often enough to be compiled by the JIT. */
#include <stdio.h>
#include <stdint.h>
#include <sys/cachectl.h>
#include <sys/mman.h>

typedef int (*fn)(int);

static void emit(uint32_t *code, int k) {
    code[0] = 0x24820000u | (uint16_t)k; /* addiu v0, a0, k */
    code[1] = 0x03e00008u;               /* jr ra */
    code[2] = 0;                         /* nop */
}

int main(void) {
    uint32_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        return 1;
    for (int k = 1; k <= 6; k++) {
        emit(code, k * 100);
        if (k % 3 == 0)
            __asm__ volatile("synci 0(%0)\n\tsync" : : "r"(code) : "memory");
        else if (k % 3 == 1)
            __builtin___clear_cache((char *)code, (char *)(code + 3));
        else
            cacheflush(code, 12, BCACHE);
        long sum = 0;
        for (int i = 0; i < 3000; i++)
            sum += ((fn)code)(i);
        printf("version %d: sum %ld\n", k, sum);
    }
    return 0;
}
