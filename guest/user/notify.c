/*
 * inotify and FUTEX_WAKE_OP, against qemu-mipsel.
 *
 * inotify: MIPS numbers IN_NONBLOCK (O_NONBLOCK) its own way; the events
 * a directory's changes produce, their names and rename cookies, EAGAIN
 * when none are queued, IN_IGNORED after inotify_rm_watch, the errors.
 *
 * FUTEX_WAKE_OP: every operation and comparison on the second word, the
 * shift-count flag, unknown encodings (ENOSYS, before or after the write
 * as Linux), a misaligned word, and wakes of a waiting thread through
 * either word.
 *
 * PI futexes: glibc's PTHREAD_PRIO_INHERIT mutexes under contention,
 * trylock and a timed lock that times out, and the raw calls' errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, uintptr_t val2, uint32_t *uaddr2, uint32_t val3)
{
    return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static void show_events(int fd)
{
    char buf[4096] __attribute__((aligned(8)));
    uint32_t first_cookie = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            printf("  read: errno %s\n", errno == EAGAIN ? "EAGAIN" : strerror(errno));
            return;
        }
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            /* Cookies are arbitrary: print whether a rename's pair match. */
            const char *cookie = "";
            if (e->mask & IN_MOVED_FROM)
                first_cookie = e->cookie, cookie = e->cookie ? " cookie set" : " cookie 0";
            if (e->mask & IN_MOVED_TO)
                cookie = e->cookie == first_cookie ? " cookie matches" : " cookie differs";
            printf("  event mask %#x name '%s' len>=name %d%s\n", e->mask, e->len ? e->name : "",
                   e->len == 0 || e->len > strlen(e->name), cookie);
            p += sizeof *e + e->len;
        }
    }
}

static void inotify_test(int strict)
{
    char dir[] = "/tmp/mipsjit-notify-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    if (strict) {
        /* Linux refuses unknown flags; qemu-mipsel 7.2 drops them. */
        int bad = inotify_init1(0x4);
        printf("inotify_init1(bad flags): %d errno %d\n", bad, bad < 0 ? errno : 0);
    }
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    printf("inotify_init1: %s, O_NONBLOCK %d, FD_CLOEXEC %d\n", fd >= 0 ? "ok" : strerror(errno),
           !!(fcntl(fd, F_GETFL) & O_NONBLOCK), !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
    int wd = inotify_add_watch(fd, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE);
    printf("add_watch: %s\n", wd >= 0 ? "ok" : strerror(errno));
    int missing = inotify_add_watch(fd, "/nonexistent/mipsjit", IN_CREATE);
    printf("add_watch(missing): %d errno %d\n", missing, missing < 0 ? errno : 0);
    printf("nothing yet:\n");
    show_events(fd);

    char a[64], b[64];
    snprintf(a, sizeof a, "%s/alpha", dir);
    snprintf(b, sizeof b, "%s/beta-longer-name", dir);
    int f = open(a, O_CREAT | O_WRONLY, 0644);
    if (write(f, "hello", 5) != 5)
        perror("write");
    close(f);
    rename(a, b);
    unlink(b);
    printf("after create, write, close, rename, unlink:\n");
    show_events(fd);

    printf("rm_watch: %d\n", inotify_rm_watch(fd, wd));
    show_events(fd);
    int again = inotify_rm_watch(fd, wd);
    printf("rm_watch again: %d errno %d\n", again, again < 0 ? errno : 0);
    close(fd);

    /* A blocking descriptor from the old call reads once an event is queued. */
    fd = inotify_init();
    wd = inotify_add_watch(fd, dir, IN_CREATE);
    close(open(a, O_CREAT | O_WRONLY, 0644));
    char buf[512] __attribute__((aligned(8)));
    ssize_t n = read(fd, buf, sizeof buf);
    struct inotify_event *e = (struct inotify_event *)buf;
    printf("blocking read: %s mask %#x name '%s'\n", n > 0 ? "ok" : strerror(errno), e->mask, n > 0 ? e->name : "");
    unlink(a);
    close(fd);
    rmdir(dir);
}

static uint32_t word_a, word_b, word_c;

/* Waits on word_a (which stays 0), then on word_b (which the main thread
 * keeps changing): each wait ends only when woken, not on EAGAIN. */
static void *waiter(void *arg)
{
    (void)arg;
    while (futex(&word_a, FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0) != 0)
        ;
    for (;;) {
        uint32_t v = __atomic_load_n(&word_b, __ATOMIC_SEQ_CST);
        if (futex(&word_b, FUTEX_WAIT_PRIVATE, v, 0, NULL, 0) == 0)
            break;
    }
    return NULL;
}

static void wake_op_test(void)
{
    static const char *ops[] = { "set", "add", "or", "andn", "xor" };
    static const char *cmps[] = { "eq", "ne", "lt", "le", "gt", "ge" };
    uint32_t a = 0, b;
    for (int op = 0; op < 5; op++)
        for (int cmp = 0; cmp < 6; cmp++) {
            b = 0x0f0;
            long r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b, FUTEX_OP(op, 0x0cc, cmp, 0x0f0));
            printf("%s %s: %ld b=%#x\n", ops[op], cmps[cmp], r, b);
        }
    b = 0xffff0000;
    long r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b, FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 5, FUTEX_OP_CMP_LT, -1));
    printf("or shift 5, negative operand: %ld b=%#x\n", r, b);
    b = 7;
    r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b, FUTEX_OP(FUTEX_OP_ADD, -3, FUTEX_OP_CMP_GE, -2048));
    printf("add -3: %ld b=%u\n", r, b);
    b = 7;
    r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b, 6u << 28);
    printf("unknown op: %ld errno %d b=%u\n", r, r < 0 ? errno : 0, b);
    b = 7;
    r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &b, FUTEX_OP(FUTEX_OP_ADD, 1, 9, 0));
    printf("unknown comparison: %ld errno %d b=%u\n", r, r < 0 ? errno : 0, b);
    r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)((char *)&b + 1), 0);
    printf("misaligned: %ld errno %d\n", r, r < 0 ? errno : 0);
    r = futex(&a, FUTEX_WAKE_OP_PRIVATE, 1, 1, (uint32_t *)8, 0);
    printf("unmapped: %ld errno %d\n", r, r < 0 ? errno : 0);

    /* Until the thread waits, a wake finds nobody: retry until one wakes.
     * First through the first word (the operation on word_c, failing its
     * comparison, wakes nobody there), then through the second. */
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    long woken;
    while ((woken = futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, 1, &word_c,
                          FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_LT, 0))) == 0)
        sched_yield();
    printf("woken through the first word: %ld\n", woken);
    while ((woken = futex(&word_c, FUTEX_WAKE_OP_PRIVATE, 1, 1, &word_b,
                          FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GE, 0))) == 0)
        sched_yield();
    printf("woken through the second word: %ld\n", woken);
    pthread_join(t, NULL);
    printf("waiter done\n");
}

static pthread_mutex_t pi_mutex;
static long pi_counter;
static volatile int holding, release;
static volatile uint32_t holder_tid;

static void *pi_adder(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&pi_mutex);
        pi_counter++;
        if (i % 1000 == 0)
            sched_yield(); /* let the others find it locked */
        pthread_mutex_unlock(&pi_mutex);
    }
    return NULL;
}

/* Holds pi_mutex until told to let go. */
static void *pi_holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pi_mutex);
    holder_tid = (uint32_t)syscall(SYS_gettid);
    holding = 1;
    while (!release)
        sched_yield();
    pthread_mutex_unlock(&pi_mutex);
    return NULL;
}

static void pi_test(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    int r = pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    printf("PI mutex: setprotocol %d init %d\n", r, pthread_mutex_init(&pi_mutex, &attr));
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, pi_adder, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    int first = pthread_mutex_trylock(&pi_mutex), again = pthread_mutex_trylock(&pi_mutex);
    pthread_mutex_unlock(&pi_mutex);
    printf("PI mutex: counter %ld, trylock %d then %d\n", pi_counter, first, again);

    pthread_t h;
    pthread_create(&h, NULL, pi_holder, NULL);
    while (!holding)
        sched_yield();
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 20 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000)
        until.tv_sec++, until.tv_nsec -= 1000000000;
    int timed = pthread_mutex_timedlock(&pi_mutex, &until);
    int busy = pthread_mutex_trylock(&pi_mutex);
    /* The raw calls on a word the holder owns, and on the caller's own. */
    uint32_t word = holder_tid;
    long tl = futex(&word, FUTEX_TRYLOCK_PI, 0, 0, NULL, 0);
    int tl_errno = errno;
    long ul = futex(&word, FUTEX_UNLOCK_PI, 0, 0, NULL, 0);
    int ul_errno = errno;
    uint32_t mine = (uint32_t)syscall(SYS_gettid);
    long dl = futex(&mine, FUTEX_LOCK_PI, 0, 0, NULL, 0);
    int dl_errno = errno;
    long own = futex(&mine, FUTEX_UNLOCK_PI, 0, 0, NULL, 0);
    printf("PI held elsewhere: timedlock %d, trylock %d, raw trylock %ld/%d, unlock %ld/%d\n", timed, busy, tl,
           tl_errno, ul, ul_errno);
    printf("PI own word: lock %ld/%d, unlock %ld, word %u\n", dl, dl_errno, own, mine);
    release = 1;
    pthread_join(h, NULL);
    printf("PI mutex after the holder: lock %d\n", pthread_mutex_lock(&pi_mutex));
    pthread_mutex_unlock(&pi_mutex);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    inotify_test(argc > 1 && strcmp(argv[1], "strict") == 0);
    wake_op_test();
    pi_test();
    return 0;
}
