#define _GNU_SOURCE
/* libm through the FPU: transcendental and other functions of libm over
 * ordinary, huge, tiny, denormal, signed-zero, infinite and NaN inputs,
 * printed exactly (%.17g and %a). A test for `mipsjit user` against
 * qemu-mipsel: both must print the same. */
#include <math.h>
#include <stdio.h>
#include <string.h>

static const double in[] = {
    0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.0, 3.0, 3.141592653589793, 10.0, -10.0, 100.0, 0.1, 1e-8,
    1e-300, 4.9e-324, 2.2250738585072014e-308, 1e300, 700.0, -745.0, 1e22, INFINITY, -INFINITY, NAN,
};
#define N (sizeof in / sizeof in[0])

typedef double (*fn1)(double);
typedef double (*fn2)(double, double);
typedef float (*fn1f)(float);

static void show(const char *what, double x, double y) {
    printf("%s(%.17g) = %.17g %a\n", what, x, y, y);
}

int main(void) {
    static const struct { const char *name; fn1 f; } one[] = {
        {"sin", sin},     {"cos", cos},       {"tan", tan},       {"asin", asin},   {"acos", acos},
        {"atan", atan},   {"sinh", sinh},     {"cosh", cosh},     {"tanh", tanh},   {"asinh", asinh},
        {"acosh", acosh}, {"atanh", atanh},   {"exp", exp},       {"exp2", exp2},   {"expm1", expm1},
        {"log", log},     {"log2", log2},     {"log10", log10},   {"log1p", log1p}, {"sqrt", sqrt},
        {"cbrt", cbrt},   {"erf", erf},       {"erfc", erfc},     {"tgamma", tgamma}, {"lgamma", lgamma},
        {"floor", floor}, {"ceil", ceil},     {"round", round},   {"trunc", trunc}, {"rint", rint},
        {"fabs", fabs},   {"logb", logb},
    };
    for (unsigned i = 0; i < sizeof one / sizeof one[0]; i++)
        for (unsigned j = 0; j < N; j++)
            show(one[i].name, in[j], one[i].f(in[j]));

    static const struct { const char *name; fn2 f; } two[] = {
        {"pow", pow},     {"atan2", atan2}, {"hypot", hypot}, {"fmod", fmod},         {"remainder", remainder},
        {"fmax", fmax},   {"fmin", fmin},   {"fdim", fdim},   {"copysign", copysign}, {"nextafter", nextafter},
    };
    static const double in2[] = {0.0, -0.0, 0.5, -1.0, 2.0, 3.0, -7.25, 1e300, 1e-310, INFINITY, -INFINITY, NAN};
    for (unsigned i = 0; i < sizeof two / sizeof two[0]; i++)
        for (unsigned j = 0; j < sizeof in2 / sizeof in2[0]; j++)
            for (unsigned k = 0; k < sizeof in2 / sizeof in2[0]; k++) {
                double r = two[i].f(in2[j], in2[k]);
                printf("%s(%g, %g) = %.17g %a\n", two[i].name, in2[j], in2[k], r, r);
            }

    static const struct { const char *name; fn1f f; } onef[] = {
        {"sinf", sinf}, {"cosf", cosf}, {"tanf", tanf}, {"expf", expf}, {"logf", logf},
        {"sqrtf", sqrtf}, {"cbrtf", cbrtf}, {"atanf", atanf},
    };
    static const float inf_[] = {0.0f, -0.0f, 0.5f, 1.0f, -2.5f, 3.14159265f, 88.0f, 1e-40f, 1e30f, INFINITY, NAN};
    for (unsigned i = 0; i < sizeof onef / sizeof onef[0]; i++)
        for (unsigned j = 0; j < sizeof inf_ / sizeof inf_[0]; j++) {
            float r = onef[i].f(inf_[j]);
            printf("%s(%.9g) = %.9g %a\n", onef[i].name, inf_[j], r, r);
        }
    printf("powf %.9g %.9g\n", powf(2.0f, 0.5f), powf(-8.0f, 1.0f / 3.0f));

    for (unsigned j = 0; j < N; j++) {
        int e;
        double m = frexp(in[j], &e), ip, fp = modf(in[j], &ip);
        printf("frexp %a %d modf %a %a ldexp %a scalbn %a ilogb %d\n", m, isfinite(in[j]) ? e : 0, fp, ip,
               ldexp(in[j], 3), scalbn(in[j], -1030), isfinite(in[j]) && in[j] != 0 ? ilogb(in[j]) : 0);
    }
    double s, c;
    sincos(0.7, &s, &c);
    printf("sincos %a %a\n", s, c);
    int sign;
    double lg = lgamma_r(-2.5, &sign);
    printf("lgamma_r %a %d\n", lg, sign);
    printf("fma %a %a\n", fma(0.1, 10.0, -1.0), fma(1e308, 10.0, -INFINITY));
    return 0;
}
