/* A floating-point workload for scripts/bench-user.py (user mode only;
 * the bare-metal kernels build without an FPU): a double-precision matrix
 * product (mul.d, add.d, ldc1, sdc1), square roots and divisions, and a
 * single-precision recurrence (mul.s, add.s, div.s). Prints checksums
 * that must match natively and under qemu-mipsel. */
#include <math.h>
#include <stdio.h>

#define N 128

static double a[N][N], b[N][N], c[N][N];

int main(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (i * 3 + j) * 0.5;
            b[i][j] = (i - j) * 0.25;
        }
    double s = 0;
    for (int r = 0; r < 20; r++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double t = 0;
                for (int k = 0; k < N; k++)
                    t += a[i][k] * b[k][j];
                c[i][j] = t;
            }
        for (int i = 0; i < N; i++) {
            s += sqrt(fabs(c[i][i])) + c[i][(i * 7) % N] / (1.0 + r);
            a[i][r] += 1e-3 * s;
        }
    }
    float f = 1.0f;
    for (int i = 0; i < 3000000; i++)
        f = f * 1.0000001f + 0.5f / (f + 1.0f);
    printf("fpbench: %.6f %.6f\n", s, (double)f);
    return 0;
}
