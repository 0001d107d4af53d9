/* Instructions the JIT inlines only in user mode, in loops hot enough to
 * compile: ll/sc (atomic builtins), swl/swr (stores through packed,
 * misaligned fields) and rdhwr $29 (thread-local variables). Each loop's
 * result depends on every pass; mipsjit must print what qemu-mipsel does. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct __attribute__((packed)) rec {
    uint8_t tag;
    uint32_t a;
    uint16_t pad;
    uint32_t b;
};

static __thread unsigned tls_counter = 7;

/* Not inlined, so every call finds the variable through rdhwr again. */
static __attribute__((noinline)) void bump(unsigned n) { tls_counter = tls_counter * 3 + n; }

int main(void)
{
    /* ll/sc: add, exchange, and a compare-and-swap that fails half the time. */
    static int shared;
    unsigned sum = 0;
    for (int n = 0; n < 20000; n++) {
        int old = __atomic_fetch_add(&shared, n, __ATOMIC_SEQ_CST);
        int expect = (n & 1) ? old : old + 1;
        int ok = __atomic_compare_exchange_n(&shared, &expect, expect ^ 0x5a5a, 0, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST);
        sum = sum * 33 + (unsigned)old + (unsigned)ok * 7 + (unsigned)expect;
    }
    printf("atomics: shared=%d sum=%08x\n", shared, sum);

    /* One ll pairs with one sc: a second sc fails and stores nothing. */
    int first = 0, second = 0;
    for (int n = 0; n < 20000; n++) {
        int v, a, b;
        __asm__ volatile(".set push\n.set noreorder\n"
                         "ll %0, 0(%3)\n"
                         "addiu %1, %0, 1\n"
                         "sc %1, 0(%3)\n"
                         "addiu %2, %0, 100\n"
                         "sc %2, 0(%3)\n"
                         ".set pop\n"
                         : "=&r"(v), "=&r"(a), "=&r"(b)
                         : "r"(&shared)
                         : "memory");
        first += a;
        second += b;
    }
    printf("pairs: first=%d second=%d shared=%d\n", first, second, shared);

    /* swl/swr: stores to misaligned packed fields at every byte lane. */
    static unsigned char buf[64 + sizeof(struct rec)];
    unsigned h = 0;
    for (int n = 0; n < 20000; n++) {
        struct rec *r = (struct rec *)(buf + (n % 61));
        r->a = (uint32_t)n * 2654435761u;
        r->b = r->a ^ (uint32_t)(n << 3);
        r->tag = (uint8_t)n;
        h = (h ^ r->a ^ r->b) * 16777619u;
    }
    for (unsigned i = 0; i < sizeof buf; i++)
        h = (h ^ buf[i]) * 16777619u;
    printf("partial stores: %08x\n", h);

    /* rdhwr $29: each access to a __thread variable reads the thread pointer. */
    for (int n = 0; n < 20000; n++)
        bump((unsigned)n);
    printf("tls: %08x\n", tls_counter);
    return 0;
}
