/*
 * sort benchmark - 1M 32-bit ints from an LCG, sorted by a recursive
 * quicksort (median of three, insertion sort below 16) and by a top-down
 * mergesort; both results are verified and checksummed.  ROUNDS times,
 * each round with a new seed.
 */
#include "rt.h"

#ifndef ROUNDS
#define ROUNDS 3
#endif
#define N (1u << 20)

static u32 a[N], b[N], tmp[N];

static void insertion(u32 *v, int lo, int hi)
{
    for (int i = lo + 1; i <= hi; i++) {
        u32 x = v[i];
        int j = i - 1;
        while (j >= lo && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void quicksort(u32 *v, int lo, int hi)
{
    while (hi - lo >= 16) {
        int mid = lo + ((hi - lo) >> 1);
        /* median of three into v[mid] */
        if (v[mid] < v[lo]) { u32 t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (v[hi] < v[lo]) { u32 t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
        if (v[hi] < v[mid]) { u32 t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
        u32 p = v[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < p) i++;
            while (v[j] > p) j--;
            if (i <= j) {
                u32 t = v[i]; v[i] = v[j]; v[j] = t;
                i++; j--;
            }
        }
        /* recurse into the smaller part, loop on the larger */
        if (j - lo < hi - i) {
            quicksort(v, lo, j);
            lo = i;
        } else {
            quicksort(v, i, hi);
            hi = j;
        }
    }
    insertion(v, lo, hi);
}

static void mergesort(u32 *v, u32 *t, u32 n)
{
    if (n < 16) {
        insertion(v, 0, (int)n - 1);
        return;
    }
    u32 h = n >> 1;
    mergesort(v, t, h);
    mergesort(v + h, t, n - h);
    u32 i = 0, j = h, k = 0;
    while (i < h && j < n)
        t[k++] = v[i] <= v[j] ? v[i++] : v[j++];
    while (i < h)
        t[k++] = v[i++];
    while (j < n)
        t[k++] = v[j++];
    memcpy(v, t, n * 4);
}

int main(void)
{
    puts("bench sort (" ENDIAN_NAME ")");
    u32 total = 0;
    for (u32 r = 0; r < ROUNDS; r++) {
        u32 x = 12345u + r * 7919u;
        for (u32 i = 0; i < N; i++) {
            x = x * 1103515245u + 12345u;
            a[i] = b[i] = (x >> 8) ^ (x << 20);
        }
        quicksort(a, 0, (int)N - 1);
        mergesort(b, tmp, N);
        u32 sorted = 1, same = 1, sum = 0;
        for (u32 i = 0; i < N; i++) {
            if (i && a[i - 1] > a[i])
                sorted = 0;
            if (a[i] != b[i])
                same = 0;
            sum = sum * 31u + a[i];
        }
        printf("round %u: sorted=%u same=%u min=%08x max=%08x median=%08x hash=%08x\n",
               r, sorted, same, a[0], a[N - 1], a[N / 2], sum);
        total ^= sum + r;
    }
    printf("sort: checksum %08x\n", total);
    return 0;
}
