/*
 * rt.h - tiny freestanding runtime for mipsjit guest programs.
 *
 * Console: 16550 UART at ISA port 0x3f8 (kseg1 0xb80003f8), byte accesses.
 * Exit:    Malta FPGA SOFTRES (kseg1 0xbf000500) <- 0x42.
 * Nothing here uses interrupts, the FPU, the TLB or other devices.
 * With -DRT_LINUX, a hosted build instead (see below).
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#define NOINLINE __attribute__((noinline))
#define ALIGNED(n) __attribute__((aligned(n)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__MIPSEB__)
#define GUEST_BIG_ENDIAN 1
#define ENDIAN_NAME "eb"
#else
#define GUEST_BIG_ENDIAN 0
#define ENDIAN_NAME "el"
#endif

#ifdef RT_LINUX
/*
 * The same programs as Linux processes (`make -C guest linux`, used by
 * scripts/bench-user.py): the C library provides printf, puts, the string
 * functions and _exit, and there is no CP0 or exception frame. Only what
 * the benchmark kernels use is available.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#else

/* ---- console --------------------------------------------------------- */
void uart_putc(int c);
void putstr(const char *s);           /* no newline appended */
void puts(const char *s);             /* appends '\n' */
void put_hex32(u32 v);                /* exactly 8 lowercase hex digits */
void put_dec(s32 v);
void put_udec(u32 v);
void printf(const char *fmt, ...);    /* %d %u %x %X %s %c %p %%, [-][0][width], 'l' ignored */
void vprintf(const char *fmt, va_list ap);

/* ---- exit ------------------------------------------------------------- */
void _exit(int code) __attribute__((noreturn));

/* ---- string ----------------------------------------------------------- */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* ---- checks ----------------------------------------------------------- */
/* check(): prints "<label> = <got>" and, if got != exp, " FAIL exp <exp>". */
void check(const char *label, u32 got, u32 exp);
/* check_quiet(): counts, prints only on failure. */
void check_quiet(const char *label, u32 got, u32 exp);
/* Records a failure that is not a value mismatch. */
void fail(const char *msg);
/* Prints "<prog>: <n> checks, <f> failures" and "RESULT: PASS|FAIL", returns f. */
int summary(const char *prog);
extern u32 n_checks, n_failures;

/* ---- exceptions ------------------------------------------------------- */
struct exc_frame {
    u32 regs[32];   /* 0..124; k0/k1 recorded as 0 */
    u32 hi, lo;     /* 128, 132 */
    u32 epc;        /* 136: written back to EPC before eret */
    u32 cause;      /* 140 */
    u32 status;     /* 144 */
    u32 badvaddr;   /* 148 */
    u32 vector;     /* 152: 0x000 / 0x100 / 0x180 / 0x200 (offset from EBase) */
    u32 pad;
};

/* The handler hook: called with the saved frame; may modify regs/hi/lo/epc.
 * NULL -> print the frame and exit (unexpected exception). */
typedef void (*exc_hook_t)(struct exc_frame *f);
extern volatile exc_hook_t exc_hook;
void exc_dump(const struct exc_frame *f);

/* A generic recording hook (exc_record_hook): stores the frame in exc_last,
 * bumps exc_count, then resumes at exc_resume if non-zero (and clears it),
 * otherwise at EPC+4 (or, if Cause.BD, exits with an error: a BD resume
 * needs an explicit exc_resume). */
void exc_record_hook(struct exc_frame *f);
extern volatile struct exc_frame exc_last;
extern volatile u32 exc_count;
extern volatile u32 exc_resume;

#define CAUSE_EXCCODE(c) (((c) >> 2) & 0x1f)
#define CAUSE_BD(c)      ((c) >> 31)
#define CAUSE_CE(c)      (((c) >> 28) & 3)

enum {
    EXC_INT = 0, EXC_MOD = 1, EXC_TLBL = 2, EXC_TLBS = 3, EXC_ADEL = 4, EXC_ADES = 5,
    EXC_IBE = 6, EXC_DBE = 7, EXC_SYS = 8, EXC_BP = 9, EXC_RI = 10, EXC_CPU = 11,
    EXC_OV = 12, EXC_TR = 13,
};

/* ---- CP0 ---------------------------------------------------------------- */
#define mfc0(reg, sel) ({ u32 __v; \
    __asm__ __volatile__("mfc0 %0, $" #reg ", " #sel : "=r"(__v)); __v; })
#define mtc0(reg, sel, v) do { \
    __asm__ __volatile__("mtc0 %z0, $" #reg ", " #sel "\n\tehb" :: "Jr"((u32)(v)) : "memory"); \
} while (0)

#define KSEG1(p) ((void *)((u32)(p) | 0xa0000000u))

#endif /* RT_LINUX */

#endif
