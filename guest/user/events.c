/* eventfd, timerfd and epoll in user-mode emulation: counter and semaphore
 * semantics, an epoll set over a pipe and an eventfd with its 64-bit data
 * (o32 pads struct epoll_event to 16 bytes), MOD and DEL, timeouts, a
 * wait a forked child's write ends, one another thread's eventfd write
 * ends, one a signal interrupts, and the errors. mipsjit must print what
 * qemu-mipsel does. With the argument "linux" it tries epoll_pwait2
 * instead, which qemu-mipsel 7.2 does not have, and prints what Linux
 * does. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int efd;

static void *poke(void *arg)
{
    (void)arg;
    usleep(20000);
    uint64_t one = 1;
    write(efd, &one, 8);
    return NULL;
}

static void on_alarm(int sig) { (void)sig; }

/* epoll_pwait2: a timespec timeout (64-bit in the system call), an event's
 * data, no timeout at all, and a mask that holds a signal off. */
static int pwait2_tests(void)
{
    int e = eventfd(0, 0), ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ull}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev);
    struct timespec t0, t1, tmo = {0, 30000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    int n = epoll_pwait2(ep, out, 2, &tmo, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    printf("pwait2 timeout: %d errno %d waited %d\n", n, errno, ms >= 29 && ms < 2000);
    uint64_t one = 1;
    write(e, &one, 8);
    n = epoll_pwait2(ep, out, 2, &tmo, NULL);
    printf("pwait2 ready: %d events %x data %llx\n", n, out[0].events, (unsigned long long)out[0].data.u64);
    n = epoll_pwait2(ep, out, 2, NULL, NULL);
    printf("pwait2 no timeout: %d\n", n);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    int ep2 = epoll_create1(0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    ualarm(10000, 0);
    errno = 0;
    n = epoll_pwait2(ep2, out, 2, &tmo, &block);
    printf("pwait2 masked: %d errno %d\n", n, errno);
    struct timespec bad = {0, 1000000000};
    errno = 0;
    n = epoll_pwait2(ep2, out, 2, &bad, NULL);
    printf("pwait2 bad timeout: %d errno %d\n", n, errno);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "linux") == 0)
        return pwait2_tests();
    uint64_t v = 3;
    int e = eventfd(2, EFD_NONBLOCK | EFD_CLOEXEC);
    write(e, &v, 8);
    v = 0;
    printf("eventfd read %zd value %llu\n", read(e, &v, 8), (unsigned long long)v);
    errno = 0;
    printf("empty read %zd errno %d\n", read(e, &v, 8), errno);
    int sem = eventfd(2, EFD_SEMAPHORE);
    read(sem, &v, 8);
    printf("semaphore reads %llu\n", (unsigned long long)v);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    int p[2];
    pipe(p);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.u64 = 0x1122334455667788ULL;
    printf("add pipe %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    ev.events = EPOLLIN;
    ev.data.u64 = 0xa5a5a5a5deadbeefULL;
    printf("add eventfd %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev));
    struct epoll_event out[4];
    memset(out, 0, sizeof out);
    printf("nothing ready: %d\n", epoll_wait(ep, out, 4, 10));
    write(p[1], "x", 1);
    int n = epoll_wait(ep, out, 4, 1000);
    printf("pipe ready: %d events %x data %llx\n", n, out[0].events, (unsigned long long)out[0].data.u64);
    v = 5;
    write(e, &v, 8);
    n = epoll_wait(ep, out, 4, 1000);
    printf("both ready: %d\n", n);
    for (int i = 0; i < n; i++)
        printf("  events %x data %llx\n", out[i].events, (unsigned long long)out[i].data.u64);
    ev.events = EPOLLOUT;
    ev.data.u64 = 42;
    printf("mod pipe to out %d\n", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    printf("del eventfd %d\n", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
    printf("after del and mod: %d\n", epoll_wait(ep, out, 4, 10));
    read(p[0], &v, 1);
    read(e, &v, 8);

    /* A blocking wait that a child's write ends. */
    int ep2 = epoll_create(1);
    ev.events = EPOLLIN;
    ev.data.u64 = 7;
    epoll_ctl(ep2, EPOLL_CTL_ADD, p[0], &ev);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(20000);
        write(p[1], "y", 1);
        _exit(0);
    }
    n = epoll_wait(ep2, out, 4, -1);
    printf("woken by child: %d data %llu\n", n, (unsigned long long)out[0].data.u64);
    waitpid(pid, NULL, 0);
    read(p[0], &v, 1);

    /* A blocking wait that another thread's eventfd write ends. */
    efd = eventfd(0, 0);
    int ep3 = epoll_create1(0);
    ev.data.u64 = 9;
    epoll_ctl(ep3, EPOLL_CTL_ADD, efd, &ev);
    pthread_t t;
    pthread_create(&t, NULL, poke, NULL);
    n = epoll_wait(ep3, out, 4, 5000);
    printf("woken by thread: %d data %llu\n", n, (unsigned long long)out[0].data.u64);
    pthread_join(t, NULL);

    /* A signal interrupts a wait; epoll_pwait's mask can hold it off. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    ualarm(20000, 0);
    errno = 0;
    printf("interrupted: %d errno %d\n", epoll_wait(ep2, out, 4, 2000), errno);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    ualarm(10000, 0);
    errno = 0;
    printf("masked: %d errno %d\n", epoll_pwait(ep2, out, 4, 50, &block), errno);

    /* A periodic timer, read directly and through epoll. */
    int tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    struct itimerspec its = {{0, 10000000}, {0, 20000000}}, old, cur;
    printf("timerfd settime %d ", timerfd_settime(tf, 0, &its, &old));
    printf("old %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec);
    timerfd_gettime(tf, &cur);
    printf("gettime interval %ld.%09ld armed %d\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec,
           cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0);
    ev.events = EPOLLIN;
    ev.data.u64 = 11;
    int ep4 = epoll_create1(0);
    epoll_ctl(ep4, EPOLL_CTL_ADD, tf, &ev);
    n = epoll_wait(ep4, out, 4, 2000);
    printf("timer ready: %d data %llu\n", n, (unsigned long long)out[0].data.u64);
    printf("expirations read %zd at least one %d\n", read(tf, &v, 8), v >= 1);
    struct itimerspec off = {{0, 0}, {0, 0}};
    timerfd_settime(tf, 0, &off, NULL);
    int tn = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    errno = 0;
    printf("disarmed nonblocking read %zd errno %d\n", read(tn, &v, 8), errno);
    errno = 0;
    printf("bad clock %d errno %d\n", timerfd_create(12345, 0), errno);

    errno = 0;
    printf("bad op %d errno %d\n", epoll_ctl(ep, 99, p[0], &ev), errno);
    errno = 0;
    printf("add twice %d errno %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), errno);
    errno = 0;
    printf("zero events %d errno %d\n", epoll_wait(ep, out, 0, 0), errno);
    errno = 0;
    printf("size 0 %d errno %d\n", epoll_create(0), errno);
    errno = 0;
    printf("bad flags %d errno %d\n", eventfd(0, 0x4), errno);
    return 0;
}
