/* The FPU at its edges: the four rounding modes (fesetround) under rint,
 * nearbyint, lrint and plain arithmetic and printf; NaN and infinity
 * (0/0, inf-inf, comparisons, propagation, signs, bit patterns);
 * exception flags; float/int and float/double conversions at their
 * limits, denormals. A test for `mipsjit user` against qemu-mipsel. */
#include <fenv.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double zero = 0.0, one = 1.0, three = 3.0, big = 1e10, tenth = 0.1;
static volatile float fzero = 0.0f, fthree = 3.0f, ften = 10.0f;

static uint64_t bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void flags(const char *what) {
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("%s flags:%s%s%s%s%s\n", what, f & FE_INEXACT ? " inexact" : "", f & FE_UNDERFLOW ? " underflow" : "",
           f & FE_OVERFLOW ? " overflow" : "", f & FE_DIVBYZERO ? " divbyzero" : "", f & FE_INVALID ? " invalid" : "");
    feclearexcept(FE_ALL_EXCEPT);
}

static void rounding(void) {
    static const struct { int mode; const char *name; } modes[] = {
        {FE_TONEAREST, "nearest"}, {FE_UPWARD, "upward"}, {FE_DOWNWARD, "downward"}, {FE_TOWARDZERO, "towardzero"},
    };
    static const double xs[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999999999996, -3.7, 1e15 + 0.5};
    for (unsigned m = 0; m < 4; m++) {
        if (fesetround(modes[m].mode) != 0) printf("fesetround failed\n");
        printf("== %s (fegetround ok: %d)\n", modes[m].name, fegetround() == modes[m].mode);
        for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            volatile double x = xs[i];
            printf("  %.17g: rint %.17g nearbyint %.17g lrint %ld llrint %lld (int) %d\n", x, rint(x), nearbyint(x),
                   lrint(x), llrint(x), (int)x);
        }
        double q = one / three, p = tenth * three, s = tenth + 0.2, d = one - 1e-17;
        float fq = 1.0f / fthree, fp = fq * ften;
        printf("  1/3 %a 0.1*3 %a 0.1+0.2 %a 1-1e-17 %a\n", q, p, s, d);
        printf("  1/3f %a 10/3f %a (float)0.1 %a (float)(1/3) %a\n", fq, fp, (float)tenth, (float)q);
        printf("  -1/3 %a sqrt2 %a sqrtf2 %a\n", -one / three, sqrt(2.0 * one), sqrtf(2.0f * (float)one));
        printf("  printf %.3f %.0f %.0f %.2e %g\n", 2.0005, 0.5 * one, 2.5 * one, 12345.678, one / three);
        printf("  strtod %a %a\n", strtod("0.1", NULL), strtod("1e-320", NULL));
        printf("  huge %a %a tiny %a\n", 1e308 * (big), -1e308 * big, 1e-308 / big);
    }
    fesetround(FE_TONEAREST);
}

static void nans(void) {
    double nan0 = zero / zero, ii = INFINITY * one - INFINITY * one, inf = one / zero, ninf = -one / zero;
    flags("after 0/0, inf-inf, 1/0");
    printf("0/0 %g isnan %d signbit %d bits %016llx\n", nan0, isnan(nan0), !!signbit(nan0), (unsigned long long)bits(nan0));
    printf("inf-inf %g bits %016llx inf*0 %g\n", ii, (unsigned long long)bits(ii), inf * zero);
    printf("1/0 %g -1/0 %g isinf %d %d\n", inf, ninf, isinf(inf), isinf(ninf));
    printf("sqrt(-1) %g bits %016llx\n", sqrt(-one), (unsigned long long)bits(sqrt(-one)));
    flags("after inf*0, sqrt(-1)");
    double q = NAN, nq = -NAN;
    printf("NAN bits %016llx -NAN bits %016llx %g %g\n", (unsigned long long)bits(q), (unsigned long long)bits(nq), q, nq);
    printf("nan+1 %g bits %016llx  -nan*2 %g\n", q + one, (unsigned long long)bits(q + one), nq * 2.0);
    printf("cmp == %d != %d < %d > %d <= %d >= %d\n", q == q, q != q, q < one, q > one, q <= one, q >= one);
    printf("isless %d isunordered %d isgreater %d\n", isless(q, one), isunordered(q, one), isgreater(inf, big));
    flags("after quiet comparisons");
    volatile int lt = q < one;
    (void)lt;
    flags("after q < 1");
    printf("fmax(nan,1) %g fmin(1,nan) %g copysign(nan,-1) signbit %d\n", fmax(q, one), fmin(one, q),
           !!signbit(copysign(q, -one)));
    printf("-0.0 %g signbit %d 1/-0 %g 0==-0 %d\n", -zero, !!signbit(-zero), one / -zero, zero == -zero);
    float fnan = fzero / fzero;
    printf("0/0f %g bits %08x nanf(\"\") bits %08x\n", fnan, fbits(fnan), fbits(nanf("")));
    printf("(float)nan bits %08x (double)nanf bits %016llx\n", fbits((float)nan0), (unsigned long long)bits((double)fnan));
    printf("nan(\"0x123\") %016llx\n", (unsigned long long)bits(nan("0x123")));
    flags("after nans");
}

static void conversions(void) {
    static const double xs[] = {0.0, -0.0, 0.99, -0.99, 2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0,
                                -2147483649.0, 4294967295.0, 4294967296.0, 1e10, -1e10, 9.2e18, 1e19, -1e19};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        volatile double x = xs[i];
        printf("%.17g: (int) %d (unsigned) %u (long long) %lld lround %ld llround %lld lrint %ld llrint %lld\n", x,
               (int)x, x >= 0 && x < 4294967296.0 ? (unsigned)x : 0u, x > -9.3e18 && x < 9.3e18 ? (long long)x : 0LL,
               lround(x), llround(x), lrint(x), llrint(x));
        flags("  ");
    }
    volatile double n = NAN, inf = INFINITY;
    printf("(int)nan %d (int)inf %d (int)-inf %d\n", (int)n, (int)inf, (int)-inf);
    printf("lrint(nan) %ld llrint(nan) %lld lround(inf) %ld\n", lrint(n), llrint(n), lround(inf));
    flags("after nan to int");
    volatile int imax = INT_MAX, imin = INT_MIN;
    volatile unsigned umax = UINT_MAX;
    volatile long long lmax = LLONG_MAX, lodd = (1LL << 53) + 1;
    printf("int->float %a %a unsigned->double %a ->float %a\n", (double)(float)imax, (double)(float)imin, (double)umax,
           (double)(float)umax);
    printf("ll->double %a %a ll->float %a\n", (double)lmax, (double)lodd, (double)(float)lodd);
    volatile float fs[] = {FLT_MAX, FLT_MIN, FLT_TRUE_MIN, 1e-45f, 0.1f, -3.4e38f, 16777217.0f};
    for (unsigned i = 0; i < sizeof fs / sizeof fs[0]; i++) {
        double d = fs[i];
        float back = (float)d;
        printf("float %.9g %a -> double %.17g -> float %a same %d (int) %d\n", fs[i], fs[i], d, back,
               fbits(back) == fbits(fs[i]), fs[i] > -2e9f && fs[i] < 2e9f ? (int)fs[i] : 0);
    }
    volatile double ds[] = {DBL_MAX, 1e39, -1e39, 1e-50, 3e-39, 1.4e-45, 0.7e-45, DBL_MIN, DBL_MIN / 4, 4.9e-324,
                            1.0 + DBL_EPSILON, 0.1};
    for (unsigned i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        float f = (float)ds[i];
        printf("double %.17g %a -> float %.9g %a fpclassify %d %d\n", ds[i], ds[i], f, f, fpclassify(ds[i]),
               fpclassify(f));
        flags("  ");
    }
    printf("denormal arithmetic %a %a %a\n", DBL_MIN / 3 * one, 4.9e-324 * 0.5 * one, 4.9e-324 * 3 * one);
    printf("float denormal %a %a\n", (double)(FLT_MIN / 3 * (float)one), (double)(FLT_TRUE_MIN * 0.5f * (float)one));
    flags("after denormals");
    printf("%f %e %g %.0f %.30f\n", 1e300 * one, -1.5e-300 * one, 123456789.0 * one, 0.5 * one, 0.1 * one);
    printf("%5.2f|%-8.3e|%+g|% g|%#g\n", 3.14159 * one, 2.71828 * one, one, -one, one);
    printf("%a %A %.3a %La\n", 1.0 / 3 * one, -0.1 * one, 1.0 / 3 * one, 0.75L);
}

int main(void) {
    feclearexcept(FE_ALL_EXCEPT);
    rounding();
    nans();
    conversions();
    return 0;
}
