/* Page permissions in user-mode emulation: faults where nothing is mapped
 * and where the protection forbids the access, caught by a SIGSEGV
 * handler (cold, and in hot loops that run as translated code), and
 * EFAULT from system calls. With an argument it installs no handler and
 * dies of the named fault, as a test of the fast path without checks.
 * Prints what it sees, without addresses that differ between emulators;
 * mipsjit must print what qemu-mipsel does. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096

static sigjmp_buf env;
static char *base; /* what si_addr is printed relative to */

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    printf("  caught %d code %d at base%+ld\n", sig, si->si_code, (long)((char *)si->si_addr - base));
    siglongjmp(env, 1);
}

static void try(const char *what, void (*f)(void))
{
    printf("%s:\n", what);
    if (sigsetjmp(env, 1) == 0) {
        f();
        printf("  no fault\n");
    }
}

static volatile int *target;
static volatile int sink;

static void load(void) { sink = *target; }
static void store(void) { *target = 1; }
/* The same access after thousands of harmless ones: compiled code faults. */
static void hot(int write)
{
    static int ok;
    volatile int *p = &ok;
    for (int i = 0; i < 20000; i++) {
        if (i == 19999)
            p = target;
        if (write)
            *p = i;
        else
            sink += *p;
    }
}
static void call_null(void)
{
    void (*volatile f)(void) = 0;
    f();
}
static void hot_load(void) { hot(0); }
static void hot_store(void) { hot(1); }

static void at(char *b, long off)
{
    base = b;
    target = (volatile int *)(b + off);
}

static void die_of(const char *how)
{
    char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(m + PG, PG, PROT_READ);
    printf("dying of %s\n", how);
    fflush(stdout);
    if (strcmp(how, "null") == 0)
        at(0, 0x10), load();
    else if (strcmp(how, "hot-null") == 0)
        at(0, 0x10), hot_load();
    else if (strcmp(how, "hot-readonly") == 0)
        at(m + PG, 8), hot_store();
    else if (strcmp(how, "hot-unmapped") == 0)
        munmap(m, PG), at(m, 12), hot_load();
    printf("still alive\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        die_of(argv[1]);
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(m, 7, 4 * PG);
    mprotect(m + PG, PG, PROT_READ);
    mprotect(m + 2 * PG, PG, PROT_NONE);
    munmap(m + 3 * PG, PG);

    at(0, 0x20);
    try("null load", load);
    try("null store", store);
    try("null hot load", hot_load);
    at(m + PG, 4);
    try("read-only load", load);
    try("read-only store", store);
    try("read-only hot store", hot_store);
    at(m + 2 * PG, 8);
    try("none load", load);
    try("none hot load", hot_load);
    at(m + 3 * PG, 12);
    try("unmapped load", load);
    try("unmapped hot store", hot_store);
    at((char *)main, 0);
    try("text store", store);
    at(0, 0);
    try("call null", call_null);
    at(m + PG, 4);
    mprotect(m + PG, PG, PROT_READ | PROT_WRITE);
    try("store after mprotect rw", store);
    printf("  value %d\n", *target);

    errno = 0;
    int fds[2];
    pipe(fds);
    printf("write from none: %zd errno %d\n", write(fds[1], m + 2 * PG, 4), errno);
    write(fds[1], "abcd", 4);
    mprotect(m + PG, PG, PROT_READ);
    errno = 0;
    printf("read into read-only: %zd errno %d\n", read(fds[0], m + PG, 4), errno);
    errno = 0;
    printf("read into unmapped: %zd errno %d\n", read(fds[0], m + 3 * PG, 4), errno);
    printf("read into rw: %zd %c\n", read(fds[0], m, 4), m[0]);
    return 0;
}
