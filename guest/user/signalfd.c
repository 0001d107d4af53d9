/*
 * signalfd against qemu-mipsel: blocked signals read as struct
 * signalfd_siginfo (MIPS numbers, si_code, sender), a non-blocking one
 * says EAGAIN, a blocking one waits for a child's kill, poll and epoll see
 * it readable exactly while one of its signals is pending, a child's exit
 * comes with its status, and the mask can be changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, int fd)
{
    struct signalfd_siginfo si[4];
    ssize_t n = read(fd, si, sizeof si);
    if (n < 0) {
        printf("%s: errno %d\n", what, errno);
        return;
    }
    printf("%s: %zd bytes\n", what, n);
    for (int i = 0; i < n / (ssize_t)sizeof si[0]; i++)
        printf("  signo %u code %d from me %d uid is mine %d status %d\n", si[i].ssi_signo, si[i].ssi_code,
               si[i].ssi_pid == (unsigned)getpid(), si[i].ssi_uid == getuid(), si[i].ssi_status);
}

static int poll_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);

    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    printf("signalfd: %s, cloexec %d\n", fd >= 0 ? "ok" : strerror(errno), fcntl(fd, F_GETFD) & FD_CLOEXEC);
    show("nothing pending", fd);
    printf("poll before: %d\n", poll_now(fd));
    kill(getpid(), SIGUSR2);
    raise(SIGUSR1);
    printf("poll after: %d\n", poll_now(fd));
    show("two pending", fd);
    printf("poll once read: %d\n", poll_now(fd));

    char small[16];
    kill(getpid(), SIGUSR1);
    ssize_t n = read(fd, small, sizeof small);
    printf("read into 16 bytes: %zd errno %d\n", n, n < 0 ? errno : 0);
    sigset_t pending;
    sigpending(&pending);
    printf("still pending: %d\n", sigismember(&pending, SIGUSR1));
    show("taken", fd);

    /* Blocking: a child sends the signal later. */
    int bfd = signalfd(-1, &set, 0);
    pid_t parent = getpid(), child = fork();
    if (child == 0) {
        usleep(20000);
        kill(parent, SIGUSR2);
        _exit(0);
    }
    show("blocking read", bfd);
    waitpid(child, NULL, 0);

    /* epoll, and a new mask: SIGCHLD from a child's exit. */
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("new mask: same fd %d\n", signalfd(fd, &set, 0) == fd);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 77};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    child = fork();
    if (child == 0)
        _exit(3);
    struct epoll_event got;
    int r = epoll_wait(ep, &got, 1, 5000);
    printf("epoll_wait: %d data %u\n", r, got.data.u32);
    struct signalfd_siginfo si;
    n = read(fd, &si, sizeof si);
    printf("child exit: %zd signo %u code %d pid is the child %d status %d\n", n, si.ssi_signo, si.ssi_code,
           si.ssi_pid == (unsigned)child, si.ssi_status);
    waitpid(child, NULL, 0);

    r = signalfd(-1, &set, 0x4);
    printf("bad flags: %d errno %d\n", r, r < 0 ? errno : 0);
    r = signalfd(0, &set, 0);
    printf("not a signalfd: %d errno %d\n", r, r < 0 ? errno : 0);
    /* Copies of a signalfd are the same signalfd: they read signals, and
     * a new mask through one holds for all. */
    int copy = dup(fd), copy2 = fcntl(fd, F_DUPFD_CLOEXEC, 40), copy3 = 50;
    dup2(fd, copy3);
    kill(getpid(), SIGUSR1);
    n = read(copy, &si, sizeof si);
    printf("read through dup: %zd signo %u\n", n, si.ssi_signo);
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    signalfd(copy2, &only2, 0);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    n = read(copy3, &si, sizeof si);
    printf("read through dup2 after a new mask through F_DUPFD_CLOEXEC: %zd signo %u\n", n, si.ssi_signo);
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    printf("SIGUSR1 is not its signal now: poll %d\n", poll(&pf, 1, 0));
    sigwaitinfo(&set, NULL);
    close(copy);
    close(copy2);
    close(copy3);

    printf("close: %d %d\n", close(fd), close(bfd));
    return 0;
}
