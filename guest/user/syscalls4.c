/*
 * System calls that said ENOSYS, against qemu-mipsel: sendmmsg and
 * recvmmsg (glibc's DNS resolver sends its A and AAAA queries with one
 * sendmmsg), POSIX timers (timer_create with a signal, with none, and
 * glibc's SIGEV_THREAD; settime, gettime, getoverrun, delete, both
 * timespec widths), POSIX message queues (o32's struct mq_attr, priorities,
 * timeouts, a notification signal), mlockall and munlockall; real-time
 * signals queued; vmsplice; klogctl.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "check.h"

/* Also check what qemu-mipsel 7.2 gets wrong (argument "strict"). */
static int strict;

static volatile int got_sig, got_code, got_value, got_count;
/* When set, the handler reads this timer's overrun at its next signal
 * (later periods' signals, each with a smaller overrun, may follow before
 * the main line gets to look on a loaded machine). */
static timer_t overrun_timer;
static volatile int overrun_wanted, overrun_seen;
static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_count++;
    if (overrun_wanted) {
        overrun_seen = timer_getoverrun(overrun_timer);
        overrun_wanted = 0;
    }
}

static void handle(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
}

/* The time `ms` milliseconds from now on `clock`. */
static struct timespec in_ms(clockid_t clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000;
    t.tv_sec += t.tv_nsec / 1000000000;
    t.tv_nsec %= 1000000000;
    return t;
}

/* sendmmsg and recvmmsg over a Unix datagram pair and UDP on the loopback. */
static void mmsg(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    char a[] = "first", b[] = "second!", c[] = "3";
    struct iovec iov[3] = {{a, 5}, {b, 7}, {c, 1}};
    struct mmsghdr out[3];
    memset(out, 0, sizeof out);
    for (int i = 0; i < 3; i++) {
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
    }
    T("sendmmsg 3", sendmmsg(sv[0], out, 3, 0));
    printf("  msg_len %u %u %u\n", out[0].msg_len, out[1].msg_len, out[2].msg_len);
    char buf[4][16];
    struct iovec in_iov[4];
    struct mmsghdr in[4];
    memset(in, 0, sizeof in);
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 4; i++) {
        in_iov[i].iov_base = buf[i];
        in_iov[i].iov_len = i == 1 ? 4 : sizeof buf[i];
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
    }
    /* MSG_WAITFORONE: three are there, the fourth is not waited for. */
    T("recvmmsg WAITFORONE", recvmmsg(sv[1], in, 4, MSG_WAITFORONE, NULL));
    printf("  '%s' %u '%s' %u truncated %d '%s' %u\n", buf[0], in[0].msg_len, buf[1], in[1].msg_len,
           !!(in[1].msg_hdr.msg_flags & MSG_TRUNC), buf[2], in[2].msg_len);
    T("recvmmsg DONTWAIT, nothing there", recvmmsg(sv[1], in, 4, MSG_DONTWAIT, NULL));
    T("sendmmsg vlen 0", sendmmsg(sv[0], out, 0, 0));
    T("sendmmsg bad vector", sendmmsg(sv[0], (struct mmsghdr *)8, 2, 0));
    /* Linux checks the timeout only after each datagram (recvmmsg(2),
     * BUGS): the call with two there takes both, and writes the time left. */
    send(sv[0], "x", 1, 0);
    send(sv[0], "y", 1, 0);
    struct timespec ts = {5, 0};
    T("recvmmsg with a timeout", recvmmsg(sv[1], in, 2, 0, &ts));
    printf("  time left below 5 s %d\n", ts.tv_sec < 5 || (ts.tv_sec == 5 && ts.tv_nsec == 0));
    close(sv[0]);
    close(sv[1]);

    int s = socket(AF_INET, SOCK_DGRAM, 0), r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {0}, from[2];
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(r, (struct sockaddr *)&sa, sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(r, (struct sockaddr *)&sa, &len);
    for (int i = 0; i < 2; i++) {
        out[i].msg_hdr.msg_name = &sa;
        out[i].msg_hdr.msg_namelen = sizeof sa;
    }
    T("sendmmsg UDP with addresses", sendmmsg(s, out, 2, 0));
    memset(buf, 0, sizeof buf);
    for (int i = 0; i < 2; i++) {
        in[i].msg_hdr.msg_name = &from[i];
        in[i].msg_hdr.msg_namelen = sizeof from[i];
        in_iov[i].iov_len = sizeof buf[i];
    }
    T("recvmmsg UDP", recvmmsg(r, in, 2, MSG_WAITFORONE, NULL));
    printf("  '%s' '%s' from family %d %d namelen %u\n", buf[0], buf[1], from[0].sin_family, from[1].sin_family,
           in[1].msg_hdr.msg_namelen);
    close(s);
    close(r);
}

static void *thread_main(void *arg)
{
    (void)arg;
    return NULL;
}

static volatile int thread_value;
static void on_thread_timer(union sigval v)
{
    thread_value = v.sival_int;
}

static void timers(void)
{
    handle(SIGUSR1);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 1234;
    timer_t t;
    T("timer_create SIGEV_SIGNAL", timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct itimerspec its = {{0, 0}, {0, 20000000}}, cur;
    T("timer_settime 20 ms", timer_settime(t, 0, &its, NULL));
    T("timer_gettime", timer_gettime(t, &cur));
    printf("  armed %d, at most 20 ms left %d\n", cur.it_value.tv_nsec > 0 || cur.it_value.tv_sec > 0,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20000000);
    for (int i = 0; i < 200 && !got_sig; i++)
        usleep(1000);
    printf("  signal %d value %d\n", got_sig, got_value);
    if (strict) /* qemu-mipsel: the host's SI_TIMER (-2, MIPS's SI_ASYNCIO) */
        printf("  code %d (SI_TIMER %d)\n", got_code, SI_TIMER);
    T("timer_gettime after", timer_gettime(t, &cur));
    printf("  disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
    /* A periodic timer whose signal stays blocked: overruns. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    struct itimerspec fast = {{0, 2000000}, {0, 2000000}};
    T("timer_settime periodic", timer_settime(t, 0, &fast, NULL));
    usleep(60000);
    got_count = 0;
    overrun_timer = t;
    overrun_wanted = 1;
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int i = 0; i < 100 && !got_count; i++)
        usleep(1000);
    printf("  delivered %d, overrun counted %d\n", got_count > 0, overrun_seen > 5);
    /* The old value comes back from a settime. */
    struct itimerspec off = {{0, 0}, {0, 0}};
    T("timer_settime disarm", timer_settime(t, 0, &off, &cur));
    printf("  old interval %ld.%09ld\n", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    T("timer_delete", timer_delete(t));
    T("timer_delete again", timer_delete(t));
    T("timer_settime bad nsec", (timer_create(CLOCK_REALTIME, NULL, &t), its.it_value.tv_nsec = 1000000000,
                                 timer_settime(t, 0, &its, NULL)));
    timer_delete(t);

    /* No notification: the timer counts down on its own. */
    ev.sigev_notify = SIGEV_NONE;
    T("timer_create SIGEV_NONE", timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    now.tv_sec += 100;
    struct itimerspec abs = {{0, 0}, now};
    T("timer_settime ABSTIME", timer_settime(t, TIMER_ABSTIME, &abs, NULL));
    timer_gettime(t, &cur);
    printf("  about 100 s left %d\n", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100);
    timer_delete(t);
    T("timer_create bad clock", timer_create(12345, &ev, &t));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 200;
    T("timer_create bad signal", timer_create(CLOCK_MONOTONIC, &ev, &t));

    /* glibc's SIGEV_THREAD: a helper thread waits for the timer's signal,
     * sent to it by SIGEV_THREAD_ID, and runs the function. */
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_thread_timer;
    ev.sigev_value.sival_int = 99;
    T("timer_create SIGEV_THREAD", timer_create(CLOCK_MONOTONIC, &ev, &t));
    its.it_value.tv_nsec = 10000000;
    T("timer_settime", timer_settime(t, 0, &its, NULL));
    for (int i = 0; i < 500 && !thread_value; i++)
        usleep(1000);
    if (strict) /* qemu-mipsel: never runs */
        printf("  thread function ran with %d\n", thread_value);
    timer_delete(t);
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
}

/* A thread waits in mq_receive while the main thread sends: with green
 * threads the wait must let the sender run. */
static mqd_t shared_q;
static void *receiver(void *arg)
{
    static char msg[64];
    (void)arg;
    unsigned prio = 0;
    ssize_t n = mq_receive(shared_q, msg, sizeof msg, &prio);
    printf("  thread received %zd '%s' priority %u\n", n, n > 0 ? msg : "", prio);
    struct timespec when = in_ms(CLOCK_REALTIME, 20);
    errno = 0;
    n = mq_timedreceive(shared_q, msg, sizeof msg, &prio, &when);
    printf("  thread timed receive %zd errno %d\n", n, n < 0 ? errno : 0);
    return NULL;
}

static void queue_threads(void)
{
    char name[64]; /* this process's own: runs side by side do not meet */
    snprintf(name, sizeof name, "/mipsjit-test-queue2-%d", (int)getpid());
    mq_unlink(name);
    struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
    shared_q = mq_open(name, O_RDWR | O_CREAT, 0600, &attr);
    pthread_t th;
    pthread_create(&th, NULL, receiver, NULL);
    usleep(20000);
    int sent = mq_send(shared_q, "across", 7, 5);
    pthread_join(th, NULL);
    printf("main mq_send: %d\n", sent);
    mq_close(shared_q);
    mq_unlink(name);
}

static void queues(void)
{
    char name[64];
    snprintf(name, sizeof name, "/mipsjit-test-queue-%d", (int)getpid());
    mq_unlink(name);
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 32};
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK, 0600, &attr);
    printf("mq_open: %s errno %d\n", q == (mqd_t)-1 ? "failed" : "ok", q == (mqd_t)-1 ? errno : 0);
    if (q == (mqd_t)-1)
        return;
    T("mq_open O_EXCL again", mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr));
    struct mq_attr got;
    T("mq_getattr", mq_getattr(q, &got));
    printf("  maxmsg %ld msgsize %ld curmsgs %ld\n", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
    if (strict) /* qemu-mipsel: the host's O_NONBLOCK bit */
        printf("  flags nonblock %d\n", !!(got.mq_flags & O_NONBLOCK));
    T("mq_send low", mq_send(q, "low", 3, 1));
    T("mq_send high", mq_send(q, "high", 4, 7));
    T("mq_send too long", mq_send(q, "0123456789012345678901234567890123456789", 40, 1));
    char buf[64] = {0};
    unsigned prio = 0;
    T("mq_receive", mq_receive(q, buf, sizeof buf, &prio));
    printf("  '%s' priority %u\n", buf, prio);
    T("mq_receive small buffer", mq_receive(q, buf, 8, &prio));
    struct mq_attr blocking = {0}, old;
    T("mq_setattr", mq_setattr(q, &blocking, &old));
    printf("  old curmsgs %ld\n", old.mq_curmsgs);
    if (strict)
        printf("  old flags nonblock %d\n", !!(old.mq_flags & O_NONBLOCK));
    memset(buf, 0, sizeof buf);
    T("mq_receive", mq_receive(q, buf, sizeof buf, &prio));
    printf("  '%s' priority %u\n", buf, prio);
    struct timespec when = in_ms(CLOCK_REALTIME, 30);
    T("mq_timedreceive empty", mq_timedreceive(q, buf, sizeof buf, &prio, &when));
    /* A notification signal when a message arrives in the empty queue. */
    handle(SIGUSR2);
    got_sig = got_code = got_value = 0;
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR2;
    ev.sigev_value.sival_int = 4321;
    /* qemu-mipsel: no mq_notify */
    int first = mq_notify(q, &ev), e1 = errno, second = mq_notify(q, &ev), e2 = errno;
    if (strict)
        printf("mq_notify: %d errno %d, again %d errno %d\n", first, first ? e1 : 0, second, second ? e2 : 0);
    T("mq_timedsend", mq_timedsend(q, "wake", 4, 3, &when));
    for (int i = 0; i < 200 && !got_sig; i++)
        usleep(1000);
    if (strict)
        printf("  signal %d code %d (SI_MESGQ %d) value %d\n", got_sig, got_code, SI_MESGQ, got_value);
    /* glibc's SIGEV_THREAD: a netlink socket gets the kernel's cookie,
     * and glibc's helper thread runs the function. */
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_thread_timer;
    ev.sigev_value.sival_int = 55;
    char drain[64];
    mq_receive(q, drain, sizeof drain, NULL);
    thread_value = 0;
    first = mq_notify(q, &ev);
    e1 = errno;
    mq_send(q, "again", 5, 1);
    for (int i = 0; i < 500 && !thread_value; i++)
        usleep(1000);
    if (strict)
        printf("mq_notify SIGEV_THREAD: %d errno %d, function ran with %d\n", first, first ? e1 : 0, thread_value);
    T("mq_close", mq_close(q));
    T("mq_unlink", mq_unlink(name));
    T("mq_unlink again", mq_unlink(name));
    T("mq_open missing", mq_open(name, O_RDONLY));
    T("mq_unlink bad name", syscall(SYS_mq_unlink, (char *)8));
    attr.mq_msgsize = 0;
    T("mq_open bad attr", mq_open(name, O_RDWR | O_CREAT, 0600, &attr));
    queue_threads();
}

/* Real-time signals queue: each one sent while blocked is delivered, in
 * order, with its own value; a standard one is pending once. */
static volatile int rt_values[8], rt_count;
static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    if (rt_count < 8)
        rt_values[rt_count] = si->si_value.sival_int;
    rt_count++;
}

static void *second_timer_thread(void *arg)
{
    (void)arg;
    return NULL;
}

static volatile int timer_a, timer_b;
static void on_timer_a(union sigval v)
{
    timer_a = v.sival_int;
}
static void on_timer_b(union sigval v)
{
    timer_b = v.sival_int;
}

static void rt_queue(void)
{
    int sig = SIGRTMIN + 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(sig, &sa, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    for (int i = 1; i <= 3; i++)
        sigqueue(getpid(), sig, (union sigval){.sival_int = i * 10});
    /* A standard signal is pending once. */
    handle(SIGUSR1);
    got_count = 0;
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 1});
    sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 2});
    /* sigtimedwait takes the oldest. */
    siginfo_t si;
    struct timespec zero = {0, 0};
    int got = sigtimedwait(&set, &si, &zero);
    int first = si.si_value.sival_int;
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("rt queue: sigtimedwait %s value %d, then %d handled: %d %d %d; SIGUSR1 %d more\n",
           got == SIGUSR1 ? "SIGUSR1" : got == sig ? "rt" : "?", first, rt_count, rt_values[0], rt_values[1],
           rt_values[2], got_count);

    /* Two SIGEV_THREAD timers expiring together: glibc sends both to its
     * helper thread with one signal, so both must queue. */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_timer_a;
    ev.sigev_value.sival_int = 1;
    timer_t ta, tb;
    timer_create(CLOCK_MONOTONIC, &ev, &ta);
    ev.sigev_notify_function = on_timer_b;
    ev.sigev_value.sival_int = 2;
    timer_create(CLOCK_MONOTONIC, &ev, &tb);
    struct timespec now = in_ms(CLOCK_MONOTONIC, 10);
    struct itimerspec at = {{0, 0}, now};
    timer_settime(ta, TIMER_ABSTIME, &at, NULL);
    timer_settime(tb, TIMER_ABSTIME, &at, NULL);
    for (int i = 0; i < 500 && !(timer_a && timer_b); i++)
        usleep(1000);
    if (strict)
        printf("two SIGEV_THREAD timers at once: %d %d\n", timer_a, timer_b);
    timer_delete(ta);
    timer_delete(tb);
    pthread_t th;
    pthread_create(&th, NULL, second_timer_thread, NULL);
    pthread_join(th, NULL);
}

/* A signal pending for a waiting thread goes when its action becomes
 * "ignore", as on Linux (all threads' pending ones are flushed). */
static volatile int ignore_stage, usr2_handled;
static void on_usr2(int sig)
{
    (void)sig;
    usr2_handled++;
}
static void *blocked_thread(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ignore_stage = 1;
    while (ignore_stage != 2)
        usleep(1000);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return NULL;
}
static void ignore_flushes(void)
{
    signal(SIGUSR2, on_usr2);
    pthread_t th;
    pthread_create(&th, NULL, blocked_thread, NULL);
    while (ignore_stage != 1)
        usleep(1000);
    pthread_kill(th, SIGUSR2);
    usleep(5000);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGUSR2, on_usr2);
    ignore_stage = 2;
    pthread_join(th, NULL);
    printf("pending for a thread, then ignored: handled %d times\n", usr2_handled);
}

/* vmsplice: the guest's buffers into a pipe, and back out of it. */
static void vmsplice_pipe(void)
{
    int p[2];
    pipe(p);
    char a[] = "spliced ", b[] = "bytes";
    struct iovec in[2] = {{a, 8}, {b, 5}};
    T("vmsplice into the pipe", vmsplice(p[1], in, 2, 0));
    char x[6] = {0}, y[16] = {0};
    struct iovec out[2] = {{x, 5}, {y, sizeof y - 1}};
    T("vmsplice out of the pipe", vmsplice(p[0], out, 2, 0));
    printf("  '%s' '%s'\n", x, y);
    T("vmsplice empty, nonblocking", vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK));
    FILE *f = tmpfile();
    T("vmsplice to a file", vmsplice(fileno(f), in, 2, 0));
    fclose(f);
    close(p[0]);
    close(p[1]);
}

int main(int argc, char **argv)
{
    strict = argc > 1 && strcmp(argv[1], "strict") == 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    mmsg();
    timers();
    queues();
    rt_queue();
    vmsplice_pipe();
    ignore_flushes();
    T("mlockall", mlockall(MCL_CURRENT));
    T("munlockall", munlockall());
    T("mlockall bad flags", mlockall(0x100));
    /* The host kernel's log, as qemu-mipsel gives it (or EPERM for both). */
    char log[256];
    errno = 0;
    int size = klogctl(10, NULL, 0), all = klogctl(3, log, sizeof log);
    printf("klogctl: size %d read %d errno %d\n", size > 0 ? 1 : size, all > 0 ? 1 : all, errno);
    T("klogctl bad type", klogctl(99, NULL, 0));
    return 0;
}
