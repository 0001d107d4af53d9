/*
 * string.c - memcpy & co.  GCC may emit calls to memcpy/memset/memmove/memcmp
 * even with -ffreestanding; this file is compiled with
 * -fno-tree-loop-distribute-patterns so these loops are not turned back
 * into calls to themselves.
 */
#include "rt.h"

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if ((((u32)dp | (u32)sp) & 3) == 0) {
        while (n >= 4) {
            *(u32 *)dp = *(const u32 *)sp;
            dp += 4; sp += 4; n -= 4;
        }
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

void *memset(void *d, int c, size_t n)
{
    u8 *dp = d;
    if (((u32)dp & 3) == 0) {
        u32 w = (u8)c * 0x01010101u;
        while (n >= 4) {
            *(u32 *)dp = w;
            dp += 4; n -= 4;
        }
    }
    while (n--)
        *dp++ = (u8)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (u8)*a - (u8)*b;
}
