/*
 * More system calls against qemu-mipsel: scheduling (policies,
 * priorities, affinity, getcpu, nice), identities, resource limits in
 * both o32 forms, capabilities, personality, membarrier, close_range;
 * file calls (creat, utime, utimensat_time64, fallocate, readahead,
 * fadvise64, sendfile, splice, tee, copy_file_range, preadv/pwritev and
 * their 2 forms, memfd_create, extended attributes); mlock, mincore; clock_getres;
 * sigpending, sigqueue to this process, a thread and a child; pidfd_open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "check.h"

static volatile int got_sig, got_code, got_value;
static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
}

static pthread_t main_thread;
static void *thread_queue(void *arg)
{
    (void)arg;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR2;
    si.si_code = SI_QUEUE;
    si.si_pid = getpid();
    si.si_uid = getuid();
    si.si_value.sival_int = 77;
    /* To this thread itself; the handler runs here. */
    long r = syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2, &si);
    return (void *)(r == 0 ? (long)got_value : -1L);
}

extern char **environ;

/* Run again by fexecve (argument "fexecve-child") or after closing its
 * standard input ("stdin-closed"). */
static int child_mode(const char *mode)
{
    if (strcmp(mode, "fexecve-child") == 0)
        return 7;
    if (strcmp(mode, "memfd-child") == 0)
        return 9;
    struct stat st;
    if (strcmp(mode, "stdin-closed") == 0)
        return fstat(0, &st) < 0 && errno == EBADF ? 8 : 1;
    return -1;
}

/* Runs this program again in a child: by fexecve of `fd`, or (fd < 0) by
 * execve after closing descriptor 0. Returns the child's exit status. */
static int run_again(const char *self, int fd, const char *mode)
{
    char *args[] = {(char *)self, (char *)mode, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        /* A memfd has no path to run it by; the flag is about a path's
         * last component, and an empty path has none. */
        if (fd >= 0 && strcmp(mode, "memfd-child") == 0)
            syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
        else if (fd >= 0)
            fexecve(fd, args, environ);
        else {
            close(0);
            execve(self, args, environ);
        }
        _exit(99);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && child_mode(argv[1]) >= 0)
        return child_mode(argv[1]);
    /* Also check what qemu-mipsel gets wrong (argument "strict"). */
    int strict = argc > 1 && strcmp(argv[1], "strict") == 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    main_thread = pthread_self();

    /* Scheduling. */
    T("sched_getscheduler", sched_getscheduler(0));
    T("sched_get_priority_max FIFO", sched_get_priority_max(SCHED_FIFO));
    T("sched_get_priority_min RR", sched_get_priority_min(SCHED_RR));
    T("sched_get_priority_max 77", sched_get_priority_max(77));
    struct sched_param sp = {.sched_priority = 5};
    T("sched_getparam", sched_getparam(0, &sp));
    printf("  priority %d\n", sp.sched_priority);
    sp.sched_priority = 0;
    T("sched_setscheduler BATCH", sched_setscheduler(0, SCHED_BATCH, &sp));
    T("sched_getscheduler", sched_getscheduler(0));
    T("sched_setparam", sched_setparam(0, &sp));
    T("sched_setscheduler OTHER", sched_setscheduler(0, SCHED_OTHER, &sp));
    T("sched_getscheduler of pid -1", sched_getscheduler(-1));
    struct timespec ts;
    T("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
    cpu_set_t cs;
    CPU_ZERO(&cs);
    sched_getaffinity(0, sizeof cs, &cs);
    T("sched_setaffinity", sched_setaffinity(0, sizeof cs, &cs));
    unsigned cpu = 12345, node = 12345;
    T("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    printf("  cpu is one we may run on %d, node %u\n", CPU_ISSET(cpu, &cs), node);
    T("nice(0)", nice(0));
    T("nice(2)", nice(2));
    T("getpriority", getpriority(PRIO_PROCESS, 0));

    /* Identities. */
    T("setreuid(-1, -1)", setreuid(-1, -1));
    T("setregid(-1, -1)", setregid(-1, -1));
    T("setresuid(-1, -1, -1)", setresuid(-1, -1, -1));
    T("setresgid(-1, -1, -1)", setresgid(-1, -1, -1));
    gid_t groups[64];
    int ng = getgroups(64, groups);
    T("setgroups(same)", setgroups(ng, groups));
    T("setgroups(too many)", syscall(SYS_setgroups, 70000, groups));

    /* Resource limits: the 32-bit calls and prlimit64. */
    struct rlimit rl;
    T("getrlimit NOFILE", getrlimit(RLIMIT_NOFILE, &rl));
    struct rlimit want = {.rlim_cur = 100, .rlim_max = rl.rlim_max};
    T("setrlimit NOFILE 100", setrlimit(RLIMIT_NOFILE, &want));
    unsigned long old32[2];
    T("getrlimit NOFILE (32-bit)", syscall(SYS_getrlimit, RLIMIT_NOFILE, old32));
    printf("  cur %lu\n", old32[0]);
    struct rlimit64 r64;
    T("prlimit64 NOFILE", prlimit64(0, RLIMIT_NOFILE, NULL, &r64));
    printf("  cur %llu max is the old max %d\n", (unsigned long long)r64.rlim_cur, r64.rlim_max == rl.rlim_max);
    want.rlim_cur = 200;
    want.rlim_max = 100;
    T("setrlimit cur > max", setrlimit(RLIMIT_NOFILE, &want));
    T("getrlimit 99", getrlimit(99, &rl));
    T("getrlimit CORE", getrlimit(RLIMIT_CORE, &rl));
    T("getrlimit NPROC", getrlimit(RLIMIT_NPROC, &rl));
    T("getrlimit MEMLOCK", getrlimit(RLIMIT_MEMLOCK, &rl));

    /* Capabilities, personality, unshare, membarrier. */
    unsigned hdr[2] = {0x20080522, 0}, data[6];
    T("capget v3", syscall(SYS_capget, hdr, data));
    unsigned bad[2] = {0x1234, 0};
    T("capget bad version", syscall(SYS_capget, bad, NULL));
    printf("  version written %#x\n", bad[0]);
    T("personality query", personality(0xffffffff));
    T("unshare(0)", unshare(0));
    T("membarrier query", syscall(SYS_membarrier, 0, 0, 0));

    /* prctl: the name, the parent-death signal, the FPU mode. */
    char name[16] = {0};
    T("PR_SET_NAME", prctl(PR_SET_NAME, "guest-name-that-is-long"));
    T("PR_GET_NAME", prctl(PR_GET_NAME, name));
    printf("  name '%s'\n", name);
    int ds = -1;
    T("PR_SET_PDEATHSIG SIGUSR2", prctl(PR_SET_PDEATHSIG, SIGUSR2));
    T("PR_GET_PDEATHSIG", prctl(PR_GET_PDEATHSIG, &ds));
    printf("  signal %d (SIGUSR2 %d)\n", ds, SIGUSR2);
    prctl(PR_SET_PDEATHSIG, 0);
    T("PR_GET_DUMPABLE", prctl(PR_GET_DUMPABLE));
    T("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    /* Linux starts an FPXX program with FR=0 since 5.12; qemu-mipsel 7.2
     * with FR=1. */
    if (strict)
        T("PR_GET_FP_MODE at start", prctl(PR_GET_FP_MODE));
    T("PR_SET_FP_MODE FR", prctl(PR_SET_FP_MODE, PR_FP_MODE_FR));
    T("PR_GET_FP_MODE", prctl(PR_GET_FP_MODE));
    T("PR_SET_FP_MODE FRE", prctl(PR_SET_FP_MODE, PR_FP_MODE_FR | PR_FP_MODE_FRE));
    T("PR_SET_FP_MODE 8", prctl(PR_SET_FP_MODE, 8));
    T("PR_SET_FP_MODE 0", prctl(PR_SET_FP_MODE, 0));
    T("prctl 9999", prctl(9999, 0, 0, 0, 0));

    /* File calls. */
    char path[] = "/tmp/mipsjit-sys3-XXXXXX";
    int tmp = mkstemp(path);
    close(tmp);
    unlink(path);
    int fd = creat(path, 0600);
    T("creat", fd >= 0);
    T("write", write(fd, "hello, world\n", 13));
    struct utimbuf ut = {.actime = 1000, .modtime = 2000};
    T("utime", utime(path, &ut));
    struct stat st;
    stat(path, &st);
    printf("  mtime %ld atime %ld\n", (long)st.st_mtime, (long)st.st_atime);
    T("utime now", utime(path, NULL));
    /* glibc's utimensat tries utimensat_time64 (4412) first: two 64-bit
     * timespecs (struct __kernel_timespec: 64-bit seconds and nanoseconds). */
    long long t64[4] = {2000000000LL, 5, 2100000000LL, 7};
    T("utimensat_time64", syscall(4412, AT_FDCWD, path, t64, 0));
    stat(path, &st);
    printf("  mtime %lld.%09ld atime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
    T("fallocate", fallocate(fd, 0, 0, 8192));
    fstat(fd, &st);
    printf("  size %ld\n", (long)st.st_size);
    close(fd);
    fd = open(path, O_RDWR);
    T("readahead", readahead(fd, 0, 4096));
    T("posix_fadvise", posix_fadvise(fd, 0, 100, POSIX_FADV_WILLNEED));
    T("posix_fadvise bad advice", posix_fadvise(fd, 0, 100, 99));
    int p[2];
    pipe(p);
    off_t off = 7;
    T("sendfile", sendfile(p[1], fd, &off, 5));
    printf("  offset %ld\n", (long)off);
    char buf[64] = {0};
    read(p[0], buf, 5);
    printf("  read '%s'\n", buf);
    loff_t loff = 0;
    T("splice", splice(fd, &loff, p[1], NULL, 6, 0));
    printf("  offset %lld\n", (long long)loff);
    int q[2];
    pipe(q);
    T("tee", tee(p[0], q[1], 64, SPLICE_F_NONBLOCK));
    memset(buf, 0, sizeof buf);
    read(q[0], buf, 6);
    printf("  teed '%s'\n", buf);
    memset(buf, 0, sizeof buf);
    read(p[0], buf, 6);
    printf("  still in the first pipe '%s'\n", buf);
    char path2[] = "/tmp/mipsjit-sys3b-XXXXXX";
    int fd2 = mkstemp(path2);
    loff_t in_off = 7, out_off = 2;
    T("copy_file_range", copy_file_range(fd, &in_off, fd2, &out_off, 5, 0));
    printf("  offsets %lld %lld\n", (long long)in_off, (long long)out_off);
    char a1[4], a2[5];
    struct iovec iov[2] = {{a1, 4}, {a2, 5}};
    T("preadv", preadv(fd, iov, 2, 2));
    printf("  '%.4s' '%.5s'\n", a1, a2);
    lseek(fd, 1, SEEK_SET);
    T("preadv2 at the file position", preadv2(fd, iov, 2, -1, 0));
    printf("  '%.4s' '%.5s' position %ld\n", a1, a2, (long)lseek(fd, 0, SEEK_CUR));
    T("preadv at -1", preadv(fd, iov, 2, -1));
    struct iovec w[2] = {{"AB", 2}, {"CDE", 3}};
    T("pwritev", pwritev(fd2, w, 2, 10));
    T("pwritev2", pwritev2(fd2, w, 1, 20, 0));
    memset(buf, 0, sizeof buf);
    pread(fd2, buf, 30, 0);
    for (int i = 0; i < 22; i++)
        if (!buf[i])
            buf[i] = '.';
    printf("  second file '%.22s'\n", buf);
    int m = memfd_create("mipsjit", MFD_CLOEXEC);
    T("memfd_create", m >= 0);
    T("  write", write(m, "memfd!", 6));
    T("  FD_CLOEXEC", fcntl(m, F_GETFD));
    memset(buf, 0, sizeof buf);
    pread(m, buf, 6, 0);
    printf("  read back '%s'\n", buf);
    T("setxattr", setxattr(path, "user.mipsjit", "v1", 2, 0));
    if (errno == 0) {
        memset(buf, 0, sizeof buf);
        T("getxattr", getxattr(path, "user.mipsjit", buf, sizeof buf));
        printf("  value '%s'\n", buf);
        T("fgetxattr size", fgetxattr(fd, "user.mipsjit", NULL, 0));
        T("listxattr", listxattr(path, buf, sizeof buf));
        T("lremovexattr", lremovexattr(path, "user.mipsjit"));
        T("getxattr removed", getxattr(path, "user.mipsjit", buf, sizeof buf));
    }
    T("getxattr of a missing file", getxattr("/nonexistent/x", "user.a", buf, sizeof buf));
    close(fd2);
    unlink(path2);

    /* close_range: close, or only mark close-on-exec. */
    int d1 = dup(fd), d2 = dup(fd);
    T("close_range CLOEXEC", syscall(SYS_close_range, d1, d2, 4));
    printf("  FD_CLOEXEC %d %d\n", fcntl(d1, F_GETFD), fcntl(d2, F_GETFD));
    T("close_range", syscall(SYS_close_range, d1, d2, 0));
    T("  F_GETFD after", fcntl(d1, F_GETFD));
    close(fd);
    unlink(path);

    /* Memory. */
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    T("mlock", mlock(page, 100));
    T("munlock", munlock(page, 100));
    unsigned char vec[2] = {9, 9};
    T("mincore", mincore(page, 8192, vec));
    printf("  first page resident %d\n", vec[0] & 1);
    T("mincore misaligned", mincore(page + 1, 10, vec));
    munmap(page + 4096, 4096);
    T("mincore unmapped", mincore(page, 8192, vec));
    T("mlock unmapped", mlock(page + 4096, 10));
    munmap(page, 4096);

    /* Clocks. */
    T("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &ts));
    printf("  %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    T("clock_getres NULL", clock_getres(CLOCK_REALTIME, NULL));
    T("clock_getres 99", clock_getres(99, &ts));

    /* Signals: sigpending, sigqueue to this process, a thread, a child. */
    struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    union sigval v = {.sival_int = 42};
    T("sigqueue to myself", sigqueue(getpid(), SIGUSR1, v));
    unsigned long pending = 0;
    T("sigpending (old)", syscall(SYS_sigpending, &pending));
    printf("  SIGUSR1 pending %d\n", (int)((pending >> (SIGUSR1 - 1)) & 1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("  handler: sig %d code %d value %d\n", got_sig, got_code, got_value);
    T("sigqueue signal 0", sigqueue(getpid(), 0, v));
    T("sigqueue signal 200", sigqueue(getpid(), 200, v));
    pthread_t t;
    void *ret;
    pthread_create(&t, NULL, thread_queue, NULL);
    pthread_join(t, &ret);
    printf("rt_tgsigqueueinfo to a thread: value %ld\n", (long)ret);
    sigprocmask(SIG_BLOCK, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        _exit(sig == SIGUSR1 && si.si_code == SI_QUEUE && si.si_pid == getppid() ? si.si_value.sival_int : 1);
    }
    v.sival_int = 9;
    T("sigqueue to a child", sigqueue(child, SIGUSR1, v));
    int pidfd = syscall(SYS_pidfd_open, child, 0);
    T("pidfd_open", pidfd >= 0);
    struct pollfd pf = {.fd = pidfd, .events = POLLIN};
    T("poll on the pidfd", poll(&pf, 1, 5000));
    int status;
    waitpid(child, &status, 0);
    printf("  child: value %d\n", WEXITSTATUS(status));
    T("pidfd_open bad flags", syscall(SYS_pidfd_open, getpid(), 1));

    /* execveat: fexecve of a close-on-exec descriptor; a child that closed
     * its standard input finds it closed after execve. (qemu-mipsel runs
     * only host programs on execve, without binfmt_misc.) */
    if (strict) {
        int self = open(argv[0], O_RDONLY | O_CLOEXEC);
        printf("fexecve: child status %d\n", run_again(argv[0], self, "fexecve-child"));
        close(self);
        int copy = memfd_create("self", MFD_CLOEXEC), in = open(argv[0], O_RDONLY);
        char chunk[65536];
        ssize_t n;
        while ((n = read(in, chunk, sizeof chunk)) > 0)
            write(copy, chunk, n);
        close(in);
        printf("execveat of a memfd: child status %d\n", run_again(argv[0], copy, "memfd-child"));
        close(copy);
        printf("execve with fd 0 closed: child status %d\n", run_again(argv[0], -1, "stdin-closed"));
    }

    /* A shared file mapping keeps no descriptor the guest can see: the
     * next open gets the closed one's number. */
    int mf = open(argv[0], O_RDONLY);
    void *shared = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mf, 0);
    close(mf);
    int next = open(argv[0], O_RDONLY);
    printf("open after a shared mapping's close: same number %d\n", next == mf && shared != MAP_FAILED);
    errno = 0;
    void *writable = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, next, 0);
    printf("writable shared mapping of a read-only file: %s errno %d\n", writable == MAP_FAILED ? "failed" : "mapped", errno);
    close(next);

    /* poll takes as many descriptors as the limit allows. */
    struct rlimit nofile;
    getrlimit(RLIMIT_NOFILE, &nofile);
    nofile.rlim_cur = nofile.rlim_max < 6000 ? nofile.rlim_max : 6000;
    setrlimit(RLIMIT_NOFILE, &nofile);
    static struct pollfd many[6001];
    for (int i = 0; i < 6001; i++)
        many[i].fd = -1;
    T("poll 5000 descriptors", poll(many, 5000, 0));
    T("poll past the limit", poll(many, nofile.rlim_cur + 1, 0));
    /* pidfd_send_signal to this process: the handler has run on return. */
    int me = syscall(SYS_pidfd_open, getpid(), 0);
    got_sig = 0;
    T("pidfd_send_signal to myself", syscall(SYS_pidfd_send_signal, me, SIGUSR2, NULL, 0));
    printf("  handler: sig %d code %d\n", got_sig, got_code);
    return 0;
}
