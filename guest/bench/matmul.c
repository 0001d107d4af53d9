/*
 * matmul benchmark - 200x200 integer (u32, wrapping) matrix products.
 * Each round computes C = A * B (i-k-j loop order), hashes C, then feeds C
 * back into A (so no round can be skipped).  Hot loop: lw, mul, addu, sw.
 */
#include "rt.h"

#ifndef ROUNDS
#define ROUNDS 80
#endif
#define DIM 200

static u32 A[DIM][DIM], B[DIM][DIM], C[DIM][DIM];

int main(void)
{
    puts("bench matmul (" ENDIAN_NAME ")");
    u32 x = 1;
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            x = x * 1664525u + 1013904223u;
            A[i][j] = x >> 24;
            x = x * 1664525u + 1013904223u;
            B[i][j] = x >> 24;
        }

    u32 total = 0;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < DIM; i++) {
            u32 *ci = C[i];
            for (int j = 0; j < DIM; j++)
                ci[j] = 0;
            for (int k = 0; k < DIM; k++) {
                u32 aik = A[i][k];
                const u32 *bk = B[k];
                for (int j = 0; j < DIM; j++)
                    ci[j] += aik * bk[j];
            }
        }
        u32 h = 0;
        for (int i = 0; i < DIM; i++)
            for (int j = 0; j < DIM; j++) {
                h = (h ^ C[i][j]) * 16777619u;
                A[i][j] = (C[i][j] >> 13) & 0xff;
            }
        if (r % 10 == 0 || r == ROUNDS - 1)
            printf("round %d: C[0][0]=%08x C[199][199]=%08x hash=%08x\n", r, C[0][0], C[DIM - 1][DIM - 1], h);
        total = total * 31u + h;
    }
    printf("matmul: checksum %08x\n", total);
    return 0;
}
