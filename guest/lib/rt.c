/*
 * rt.c - console, formatting, checks and exception dispatch for guest programs.
 */
#include "rt.h"

/* ---- UART 16550 at ISA 0x3f8 ---------------------------------------- */
#define UART_BASE ((volatile u8 *)0xb80003f8u)
#define UART_THR 0
#define UART_LSR 5
#define LSR_THRE 0x20

void uart_putc(int c)
{
    while (!(UART_BASE[UART_LSR] & LSR_THRE))
        ;
    UART_BASE[UART_THR] = (u8)c;
}

void putstr(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

void puts(const char *s)
{
    putstr(s);
    uart_putc('\n');
}

static const char hexdig[] = "0123456789abcdef";

void put_hex32(u32 v)
{
    for (int i = 28; i >= 0; i -= 4)
        uart_putc(hexdig[(v >> i) & 15]);
}

void put_udec(u32 v)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        uart_putc(buf[--n]);
}

void put_dec(s32 v)
{
    if (v < 0) {
        uart_putc('-');
        put_udec(-(u32)v);
    } else {
        put_udec((u32)v);
    }
}

static void pad(int n, char c)
{
    while (n-- > 0)
        uart_putc(c);
}

void vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, width = 0;
        if (*fmt == '-') { left = 1; fmt++; }
        if (*fmt == '0') { zero = 1; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        char buf[16];
        const char *s = buf;
        int len = 0;
        switch (*fmt) {
        case 'd': {
            s32 v = va_arg(ap, s32);
            u32 u = v < 0 ? -(u32)v : (u32)v;
            char tmp[12];
            int n = 0;
            do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
            if (v < 0) tmp[n++] = '-';
            while (n) buf[len++] = tmp[--n];
            break;
        }
        case 'u': {
            u32 u = va_arg(ap, u32);
            char tmp[12];
            int n = 0;
            do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
            while (n) buf[len++] = tmp[--n];
            break;
        }
        case 'p':
            zero = 1; width = 8; /* fall through */
        case 'x':
        case 'X': {
            u32 u = va_arg(ap, u32);
            const char *dig = *fmt == 'X' ? "0123456789ABCDEF" : hexdig;
            char tmp[8];
            int n = 0;
            do { tmp[n++] = dig[u & 15]; u >>= 4; } while (u);
            while (n) buf[len++] = tmp[--n];
            break;
        }
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            len = 1;
            break;
        case 's':
            s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            len = (int)strlen(s);
            break;
        case '%':
            buf[0] = '%';
            len = 1;
            break;
        case 0:
            return;
        default:
            buf[0] = '%'; buf[1] = *fmt;
            len = 2;
            break;
        }
        if (!left)
            pad(width - len, zero ? '0' : ' ');
        for (int i = 0; i < len; i++)
            uart_putc(s[i]);
        if (left)
            pad(width - len, ' ');
    }
}

void printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* ---- checks ------------------------------------------------------------ */
u32 n_checks, n_failures;

void check(const char *label, u32 got, u32 exp)
{
    n_checks++;
    printf("%s = %08x", label, got);
    if (got != exp) {
        n_failures++;
        printf(" FAIL exp %08x", exp);
    }
    uart_putc('\n');
}

void check_quiet(const char *label, u32 got, u32 exp)
{
    n_checks++;
    if (got != exp) {
        n_failures++;
        printf("%s = %08x FAIL exp %08x\n", label, got, exp);
    }
}

void fail(const char *msg)
{
    n_checks++;
    n_failures++;
    printf("FAIL: %s\n", msg);
}

int summary(const char *prog)
{
    printf("%s: %u checks, %u failures\n", prog, n_checks, n_failures);
    printf("RESULT: %s\n", n_failures ? "FAIL" : "PASS");
    return (int)n_failures;
}

/* ---- exceptions ---------------------------------------------------------- */
volatile exc_hook_t exc_hook;
volatile struct exc_frame exc_last;
volatile u32 exc_count;
volatile u32 exc_resume;
static volatile int in_exception;

void exc_dump(const struct exc_frame *f)
{
    printf("vector=%03x ExcCode=%u BD=%u CE=%u EPC=%08x BadVAddr=%08x Status=%08x\n",
           f->vector, CAUSE_EXCCODE(f->cause), CAUSE_BD(f->cause), CAUSE_CE(f->cause),
           f->epc, f->badvaddr, f->status);
}

void exc_record_hook(struct exc_frame *f)
{
    exc_last = *f;
    exc_count++;
    if (exc_resume) {
        f->epc = exc_resume;
        exc_resume = 0;
    } else if (CAUSE_BD(f->cause)) {
        putstr("\n*** exception in a delay slot without exc_resume: ");
        exc_dump(f);
        _exit(1);
    } else {
        f->epc += 4;
    }
}

void exc_dispatch(struct exc_frame *f);
void exc_dispatch(struct exc_frame *f)
{
    if (in_exception) {
        putstr("\n*** nested exception: ");
        exc_dump(f);
        _exit(1);
    }
    in_exception = 1;
    exc_hook_t h = exc_hook;
    if (!h) {
        putstr("\n*** unexpected exception: ");
        exc_dump(f);
        puts("RESULT: FAIL");
        _exit(1);
    }
    h(f);
    in_exception = 0;
}
