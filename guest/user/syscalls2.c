/* Waiting and accounting system calls in user-mode emulation:
 * rt_sigtimedwait, waitid, ppoll, pselect6, select, times, getrusage,
 * clock_settime, and the alternate signal stack a handler's uc_stack sets.
 * Both the calls glibc makes and, through syscall(), the other variants
 * (32- and 64-bit times). Prints only what does not depend on timing;
 * mipsjit must print what qemu-mipsel does. With the argument "linux" it
 * prints instead what Linux does and qemu-mipsel 7.2 does not. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* The kernel's o32 timespec, and its 64-bit one (nanoseconds in the low half). */
struct ts32 {
    int32_t sec, nsec;
};
struct ts64 {
    int64_t sec;
    int32_t nsec, pad;
};

static const char *err(int r)
{
    static char buf[64];
    if (r >= 0)
        return "ok";
    snprintf(buf, sizeof buf, "%s", strerrorname_np(errno));
    return buf;
}

static volatile sig_atomic_t handled;
static void on_sig(int sig) { handled = sig; }

static void handle(int sig, void (*f)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = f;
    sigaction(sig, &sa, NULL);
}

static void alarm_in_ms(int ms)
{
    struct itimerval it = {{0, 0}, {0, ms * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void sigtimedwait_tests(void)
{
    sigset_t set, alrm;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGALRM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t si;
    struct timespec t = {0, 50000000}, zero = {0, 0}, five = {5, 0};

    int r = sigtimedwait(&set, &si, &t);
    printf("sigtimedwait timeout: %d %s\n", r, err(r));
    r = sigtimedwait(&set, &si, &zero);
    printf("sigtimedwait zero: %d %s\n", r, err(r));

    /* Pending blocked signals come out lowest first, with their siginfo. */
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    memset(&si, 0, sizeof si);
    r = sigtimedwait(&set, &si, &t);
    printf("sigtimedwait pending: %d si_signo=%d si_code=%d from me=%d\n", r, si.si_signo, si.si_code,
           si.si_pid == getpid());
    struct ts32 t32 = {0, 50000000};
    memset(&si, 0, sizeof si);
    r = syscall(SYS_rt_sigtimedwait, &set, &si, &t32, 16);
    printf("rt_sigtimedwait: %d si_signo=%d si_code=%d\n", r, si.si_signo, si.si_code);
    struct ts64 t64 = {0, 20000000, 0};
    r = syscall(SYS_rt_sigtimedwait_time64, &set, NULL, &t64, 16);
    printf("rt_sigtimedwait_time64 timeout: %d %s\n", r, err(r));
    t32.nsec = 1000000000;
    r = syscall(SYS_rt_sigtimedwait, &set, NULL, &t32, 16);
    printf("rt_sigtimedwait bad nsec: %d %s\n", r, err(r));
    r = syscall(SYS_rt_sigtimedwait, &set, NULL, NULL, 8);
    printf("rt_sigtimedwait bad size: %d %s\n", r, err(r));

    /* A signal that comes during the wait: the timer's, from the kernel. */
    alarm_in_ms(50);
    memset(&si, 0, sizeof si);
    r = sigtimedwait(&set, &si, &five);
    printf("sigtimedwait timer: %d si_signo=%d si_code=%d\n", r, si.si_signo, si.si_code);

    /* One from another process, waited for without a timeout. */
    pid_t pid = fork();
    if (pid == 0) {
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&set, &si);
    printf("sigwaitinfo: %d si_code=%d from child=%d\n", r, si.si_code, si.si_pid == pid);
    waitpid(pid, NULL, 0);

    /* A handled signal outside the set ends the wait: EINTR. */
    handle(SIGALRM, on_sig);
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    sigdelset(&set, SIGALRM);
    alarm_in_ms(50);
    r = sigtimedwait(&set, &si, &five);
    printf("sigtimedwait interrupted: %d %s handled=%d\n", r, err(r), handled);
    handled = 0;
}

static void show_waitid(const char *what, int r, siginfo_t *si, pid_t pid)
{
    printf("waitid %s: %d %s si_signo=%d si_code=%d si_status=%d si_pid ok=%d\n", what, r, err(r), si->si_signo,
           si->si_code, si->si_status, si->si_pid == pid);
}

static void waitid_tests(int linux_only)
{
    siginfo_t si;
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, pid, &si, WEXITED);
    show_waitid("exited", r, &si, pid);

    pid = fork();
    if (pid == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        signal(SIGUSR1, SIG_DFL);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        kill(getpid(), SIGUSR1);
        _exit(1);
    }
    memset(&si, 0, sizeof si);
    r = waitid(P_ALL, 0, &si, WEXITED);
    show_waitid("killed", r, &si, pid);

    /* A child still running: WNOHANG finds nothing. */
    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(3);
    }
    close(p[0]);
    if (linux_only) {
        /* Linux zeroes si_signo, si_code, si_pid, si_status: qemu-mipsel
         * leaves infop alone. */
        memset(&si, 0x55, sizeof si);
        r = waitid(P_PID, pid, &si, WEXITED | WNOHANG);
        show_waitid("nohang", r, &si, 0);
    } else {
        memset(&si, 0, sizeof si);
        r = waitid(P_PID, pid, &si, WEXITED | WNOHANG);
        show_waitid("nohang", r, &si, 0);
    }
    close(p[1]);
    memset(&si, 0, sizeof si);
    if (linux_only) {
        /* The fifth argument: qemu-mipsel passes no rusage to the host. */
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        r = syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru);
        printf("waitid rusage: %d maxrss>0=%d\n", r, ru.ru_maxrss > 0);
    } else {
        r = waitid(P_PID, pid, &si, WEXITED);
    }
    show_waitid("after nohang", r, &si, pid);

    r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
    printf("waitid no child: %d %s\n", r, err(r));
    r = waitid(P_ALL, 0, &si, 0);
    printf("waitid no options: %d %s\n", r, err(r));
}

static void poll_tests(int linux_only)
{
    int p[2];
    char c;
    pipe(p);
    struct pollfd fd = {p[0], POLLIN, 0};
    struct timespec t = {0, 50000000};
    int r = ppoll(&fd, 1, &t, NULL);
    printf("ppoll timeout: %d revents=%d\n", r, fd.revents);
    /* The kernel writes back the time left: none. */
    struct ts32 t32 = {0, 30000000};
    r = syscall(SYS_ppoll, &fd, 1, &t32, NULL, 16);
    printf("ppoll raw timeout: %d left=%d.%09d\n", r, t32.sec, t32.nsec);
    write(p[1], "x", 1);
    r = ppoll(&fd, 1, &t, NULL);
    printf("ppoll ready: %d revents=%d\n", r, fd.revents);
    struct ts64 t64 = {1, 0, 0};
    fd.events = POLLIN | POLLOUT;
    struct pollfd both[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT | POLLWRNORM, 0}};
    r = syscall(SYS_ppoll_time64, both, 2, &t64, NULL, 16);
    printf("ppoll_time64: %d revents=%d,%d left<=1s=%d\n", r, both[0].revents, both[1].revents,
           t64.sec == 0 || (t64.sec == 1 && t64.nsec == 0));
    read(p[0], &c, 1);
    t32.nsec = -1;
    r = syscall(SYS_ppoll, &fd, 1, &t32, NULL, 16);
    printf("ppoll bad time: %d %s\n", r, err(r));

    /* A sigmask that lets a pending signal in: EINTR, the handler runs
     * with it, and the old mask comes back. */
    sigset_t usr1, none, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    handle(SIGUSR1, on_sig);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    kill(getpid(), SIGUSR1);
    fd.events = POLLIN;
    struct timespec five = {5, 0};
    r = ppoll(&fd, 1, &five, &none);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("ppoll sigmask: %d %s handled=%d still blocked=%d\n", r, err(r), handled, sigismember(&now, SIGUSR1));
    handled = 0;
    r = syscall(SYS_ppoll, &fd, 1, NULL, &none, 8);
    printf("ppoll bad sigsetsize: %d %s\n", r, err(r));

    /* select: a descriptor above 64 takes more than one host word. */
    int hi = dup2(p[0], 70);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(hi, &rs);
    struct timeval tv = {0, 50000};
    r = select(hi + 1, &rs, NULL, NULL, &tv);
    printf("select timeout: %d isset=%d left=%ld.%06ld\n", r, FD_ISSET(hi, &rs), (long)tv.tv_sec, (long)tv.tv_usec);
    write(p[1], "y", 1);
    FD_ZERO(&rs);
    FD_SET(hi, &rs);
    FD_SET(p[0], &rs);
    fd_set ws;
    FD_ZERO(&ws);
    FD_SET(p[1], &ws);
    tv.tv_sec = 1;
    r = select(hi + 1, &rs, &ws, NULL, &tv);
    printf("select ready: %d r=%d,%d w=%d\n", r, FD_ISSET(hi, &rs), FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws));
    /* The o32 select. */
    struct {
        int32_t sec, usec;
    } tv32 = {1, 500000};
    FD_ZERO(&rs);
    FD_SET(hi, &rs);
    r = syscall(SYS__newselect, hi + 1, &rs, NULL, NULL, &tv32);
    printf("_newselect: %d isset=%d left<=1.5s=%d\n", r, FD_ISSET(hi, &rs), tv32.sec * 1000000 + tv32.usec <= 1500000);
    /* Linux carries microseconds past a second over; qemu-mipsel 7.2
     * refuses them (EINVAL). */
    tv32.sec = 0;
    tv32.usec = 1500000;
    FD_ZERO(&rs);
    FD_SET(hi, &rs);
    if (linux_only) {
        r = syscall(SYS__newselect, hi + 1, &rs, NULL, NULL, &tv32);
        printf("_newselect carry: %d %s isset=%d\n", r, err(r), FD_ISSET(hi, &rs));
        return;
    }
    tv32.usec = -1;
    r = syscall(SYS__newselect, hi + 1, &rs, NULL, NULL, &tv32);
    printf("_newselect bad time: %d %s\n", r, err(r));
    r = syscall(SYS__newselect, -1, NULL, NULL, NULL, NULL);
    printf("_newselect bad n: %d %s\n", r, err(r));
    read(p[0], &c, 1);

    t32.sec = 0;
    t32.nsec = 30000000;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    r = syscall(SYS_pselect6, p[0] + 1, &rs, NULL, NULL, &t32, NULL);
    printf("pselect6 timeout: %d isset=%d left=%d.%09d\n", r, FD_ISSET(p[0], &rs), t32.sec, t32.nsec);
    struct {
        const sigset_t *set;
        uint32_t size;
    } sm = {&none, 16};
    kill(getpid(), SIGUSR1);
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    t64.sec = 5;
    t64.nsec = 0;
    r = syscall(SYS_pselect6_time64, p[0] + 1, &rs, NULL, NULL, &t64, &sm);
    sigprocmask(SIG_BLOCK, NULL, &now);
    printf("pselect6_time64 sigmask: %d %s handled=%d still blocked=%d\n", r, err(r), handled,
           sigismember(&now, SIGUSR1));
    handled = 0;
    r = pselect(p[0] + 1, &rs, NULL, NULL, &(struct timespec){0, 20000000}, &none);
    printf("pselect timeout: %d\n", r);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    close(hi);
    close(p[0]);
    close(p[1]);
}

static void spin_until_cpu_ms(int ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        long us = ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L +
                  ru.ru_stime.tv_usec;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (us >= ms * 1000L || now.tv_sec - start.tv_sec > 5)
            return;
    }
}

static void accounting_tests(void)
{
    struct tms a, b;
    clock_t t0 = times(&a);
    spin_until_cpu_ms(30);
    clock_t t1 = times(&b);
    printf("times: ok=%d monotonic=%d cpu=%d null ok=%d\n", t0 != (clock_t)-1, (long)(t1 - t0) >= 0,
           b.tms_utime + b.tms_stime >= a.tms_utime + a.tms_stime && b.tms_utime + b.tms_stime > 0,
           times(NULL) != (clock_t)-1);

    struct rusage ru;
    int r = getrusage(RUSAGE_SELF, &ru);
    printf("getrusage self: %d cpu>=30ms=%d usec ok=%d maxrss>0=%d\n", r,
           ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L +
                   ru.ru_stime.tv_usec >=
               30000,
           ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000, ru.ru_maxrss > 0);
    r = getrusage(RUSAGE_CHILDREN, &ru);
    printf("getrusage children: %d maxrss>0=%d\n", r, ru.ru_maxrss > 0);
    r = getrusage(5, &ru);
    printf("getrusage bad who: %d %s\n", r, err(r));
    /* The o32 struct rusage is 72 bytes: 18 words. */
    unsigned char buf[80];
    memset(buf, 0xaa, sizeof buf);
    r = syscall(SYS_getrusage, RUSAGE_SELF, buf);
    printf("getrusage size: %d untouched after 72=%d\n", r, buf[72] == 0xaa && buf[79] == 0xaa);
}

static void clock_settime_tests(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int r = clock_settime(CLOCK_MONOTONIC, &now);
    printf("clock_settime monotonic: %d %s\n", r, err(r));
    struct ts32 bad = {0, 2000000000};
    r = syscall(SYS_clock_settime, CLOCK_REALTIME, &bad);
    printf("clock_settime bad nsec: %d %s\n", r, err(r));
    bad.sec = -1;
    bad.nsec = 0;
    r = syscall(SYS_clock_settime, CLOCK_REALTIME, &bad);
    printf("clock_settime negative: %d %s\n", r, err(r));
    struct ts64 t64 = {1, 0, 0};
    r = syscall(SYS_clock_settime64, 100, &t64);
    printf("clock_settime64 bad clock: %d %s\n", r, err(r));
    /* A valid time, as an unprivileged user (this test may run as root:
     * the child gives that up first, so the clock is never set). */
    pid_t pid = fork();
    if (pid == 0) {
        setgid(65534);
        setuid(65534);
        if (getuid() == 0) {
            printf("clock_settime unprivileged: cannot drop root\n");
            _exit(0);
        }
        clock_gettime(CLOCK_REALTIME, &now);
        r = clock_settime(CLOCK_REALTIME, &now);
        printf("clock_settime unprivileged: %d %s\n", r, err(r));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static char alt1[16384], alt2[16384];
static volatile int on_alt, flags_inside, eperm_inside;

/* Runs on the alternate stack; points uc_stack elsewhere (or disables it). */
static void on_stack(int sig, siginfo_t *si, void *p)
{
    ucontext_t *uc = p;
    char here;
    (void)si;
    stack_t cur, other = {.ss_sp = alt2, .ss_size = sizeof alt2};
    on_alt = &here >= alt1 && &here < alt1 + sizeof alt1;
    sigaltstack(NULL, &cur);
    flags_inside = cur.ss_flags;
    eperm_inside = sigaltstack(&other, NULL) == -1 && errno == EPERM;
    if (sig == SIGUSR1) {
        uc->uc_stack.ss_sp = alt2;
        uc->uc_stack.ss_size = sizeof alt2;
    } else {
        uc->uc_stack.ss_flags = SS_DISABLE;
    }
}

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31) /* Linux 4.7; glibc 2.36 does not name it */
#endif

static volatile unsigned disarmed_flags;
static volatile int disarmed_size;

static void on_disarmed(int sig, siginfo_t *si, void *p)
{
    char here;
    (void)sig;
    (void)si;
    (void)p;
    stack_t cur;
    on_alt = &here >= alt1 && &here < alt1 + sizeof alt1;
    sigaltstack(NULL, &cur);
    disarmed_flags = (unsigned)cur.ss_flags;
    disarmed_size = (int)cur.ss_size;
}

/* SS_AUTODISARM (Linux 4.7): no alternate stack while the handler runs
 * on it, and back, with the flag, once it returns. qemu-mipsel 7.2 refuses
 * the flag (EINVAL), so this runs with "linux". */
static void autodisarm_test(void)
{
    sigset_t usr;
    sigemptyset(&usr);
    sigaddset(&usr, SIGUSR1);
    sigprocmask(SIG_UNBLOCK, &usr, NULL);
    stack_t ss = {.ss_sp = alt1, .ss_size = sizeof alt1, .ss_flags = (int)SS_AUTODISARM}, old;
    int r = sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_disarmed;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaltstack(NULL, &old);
    printf("autodisarm: %d on alt=%d inside flags=%#x size=%d after flags=%#x size=%d\n", r, on_alt, disarmed_flags,
           disarmed_size, (unsigned)old.ss_flags, (int)old.ss_size);
    signal(SIGUSR1, SIG_DFL);
}

static void altstack_tests(void)
{
    sigset_t usr;
    sigemptyset(&usr);
    sigaddset(&usr, SIGUSR1);
    sigaddset(&usr, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &usr, NULL);
    stack_t ss = {.ss_sp = alt1, .ss_size = sizeof alt1}, old;
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stack;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR1);
    sigaltstack(NULL, &old);
    printf("altstack: on alt=%d flags inside=%d EPERM inside=%d after: sp=%s size=%d flags=%d\n", on_alt,
           flags_inside, eperm_inside, old.ss_sp == alt2 ? "alt2" : old.ss_sp == alt1 ? "alt1" : "?", (int)old.ss_size,
           old.ss_flags);
    on_alt = 0;
    ss.ss_sp = alt1;
    sigaltstack(&ss, NULL);
    raise(SIGUSR2);
    sigaltstack(NULL, &old);
    printf("altstack disabled by handler: on alt=%d flags=%d\n", on_alt, old.ss_flags);
    ss.ss_size = 100;
    int r = sigaltstack(&ss, NULL);
    printf("altstack too small: %d %s\n", r, err(r));
    ss.ss_size = sizeof alt1;
    ss.ss_flags = 4;
    r = sigaltstack(&ss, NULL);
    printf("altstack bad flags: %d %s\n", r, err(r));
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "linux") == 0) {
        waitid_tests(1);
        poll_tests(1);
        autodisarm_test();
        return 0;
    }
    sigtimedwait_tests();
    waitid_tests(0);
    poll_tests(0);
    accounting_tests();
    clock_settime_tests();
    altstack_tests();
    return 0;
}
