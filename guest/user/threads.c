/* Threads (clone with CLONE_THREAD, through glibc's pthreads): a mutex
 * under contention, atomics from several threads, a condition variable
 * ping-pong, thread-local storage and errno, a reader blocked in read()
 * on a pipe another thread fills, a semaphore, pthread_exit, detached
 * threads. The output does not depend on how the threads interleave. */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 4
#define ITERS 100000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int atomic_counter;
static __thread int tls = 100;
static pid_t tids[N + 1];

static void *adder(void *arg)
{
    int id = (int)(long)arg;
    tls += id;
    tids[id] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&m);
        counter++;
        pthread_mutex_unlock(&m);
        __atomic_fetch_add(&atomic_counter, 1, __ATOMIC_SEQ_CST);
    }
    /* errno is per thread. */
    errno = 0;
    if (close(-1 - id) == 0 || errno != EBADF)
        return (void *)-1L;
    return (void *)(long)(tls * 10);
}

static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *pong(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&m);
        while (turn != 1)
            pthread_cond_wait(&cv, &m);
        turn = 0;
        rounds++;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *reader(void *arg)
{
    int fd = *(int *)arg;
    char buf[64];
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    return (void *)total;
}

static sem_t sem;

static void *poster(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        sem_post(&sem);
    pthread_exit((void *)7L);
}

/* Spins until main, which only sleeps, sets the flag: needs turns. */
static volatile int flag;
static void *spinner(void *arg)
{
    (void)arg;
    long spins = 0;
    while (!flag)
        spins++;
    return (void *)(spins > 0);
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep(10); /* a cancellation point */
    return NULL;
}

static volatile pthread_t handled_by;
static void on_usr1(int sig)
{
    (void)sig;
    handled_by = pthread_self();
}
static volatile int usr1_ready;
static void *target(void *arg)
{
    (void)arg;
    usr1_ready = 1;
    while (!handled_by)
        usleep(1000);
    return NULL;
}

static void *forker(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0)
        _exit(5);
    int st;
    waitpid(pid, &st, 0);
    return (void *)(long)WEXITSTATUS(st);
}

/* poll() with no timeout on a pipe main fills later; select() that times out. */
static void *poller(void *arg)
{
    int fd = *(int *)arg;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, -1);
    char c = 0;
    if (read(fd, &c, 1) != 1)
        return (void *)-1L;
    return (void *)(long)(r * 1000 + c);
}

static void *timed_select(void *arg)
{
    int fd = *(int *)arg;
    fd_set s;
    FD_ZERO(&s);
    FD_SET(fd, &s);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
    return (void *)(long)select(fd + 1, &s, NULL, NULL, &tv);
}

/* A thread dedicated to sigwait, and one in sigsuspend, while main runs. */
static void *signal_waiter(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    sigwait(set, &sig);
    return (void *)(long)sig;
}

static volatile int suspended_got;
static void on_usr2(int sig) { suspended_got = sig; }
static void *suspender(void *arg)
{
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    while (!suspended_got)
        sigsuspend(&none);
    return NULL;
}

/* ppoll with a mask that lets SIGUSR2 through, which another thread sends:
 * EINTR, the handler ran, and the thread's own mask is back. */
static int pp_fds[2];
static void *masked_ppoll(void *arg)
{
    (void)arg;
    sigset_t none, cur;
    sigemptyset(&none);
    struct pollfd p = {.fd = pp_fds[0], .events = POLLIN};
    int r = ppoll(&p, 1, NULL, &none);
    int e = errno;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    return (void *)(long)(r == -1 && e == EINTR ? 100 + sigismember(&cur, SIGUSR2) : r);
}

/* flock on its own open of a file main holds locked: it waits for main's
 * unlock, while main runs on. */
/* One blocking write of more than a pipe or socket holds, whose reader is
 * another thread: it must not stop that reader (mode 0: write to a pipe,
 * 1: writev to a socket, 2: sendfile from a file to a socket, 3: send). */
#define BIG (1 << 20)
static int big_fds[2], big_mode, big_file;
static void *big_writer(void *arg)
{
    (void)arg;
    static char data[BIG];
    for (int i = 0; i < BIG; i++)
        data[i] = (char)(i * 7);
    long n;
    if (big_mode == 0)
        n = write(big_fds[1], data, BIG);
    else if (big_mode == 1) {
        struct iovec v[2] = {{data, BIG / 2}, {data + BIG / 2, BIG / 2}};
        n = writev(big_fds[1], v, 2);
    } else if (big_mode == 3)
        n = send(big_fds[1], data, BIG, MSG_NOSIGNAL);
    else {
        /* More than the file holds: it ends at the file's end. */
        off_t off = 0;
        n = sendfile(big_fds[1], big_file, &off, BIG + 5000);
        n = n == off ? n : -2;
    }
    close(big_fds[1]);
    return (void *)n;
}

static void big_write(int mode)
{
    big_mode = mode;
    if (mode == 0)
        pipe(big_fds);
    else
        socketpair(AF_UNIX, SOCK_STREAM, 0, big_fds);
    pthread_t t;
    pthread_create(&t, NULL, big_writer, NULL);
    char buf[8192];
    long total = 0, sum = 0;
    ssize_t n;
    while ((n = read(big_fds[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; i++, total++)
            sum += (unsigned char)buf[i] ^ (unsigned char)(total * 7);
    void *wrote;
    pthread_join(t, &wrote);
    close(big_fds[0]);
    printf("big %s in a thread: wrote %ld, read %ld, all as written %d\n",
           mode == 0   ? "pipe write"
           : mode == 1 ? "socket writev"
           : mode == 3 ? "socket send"
                       : "sendfile",
           (long)wrote, total, sum == 0);
}

/* send with MSG_DONTWAIT from a thread, to a socket nobody reads: EAGAIN
 * once it is full, never a wait. */
static void *dontwait_sender(void *arg)
{
    int fd = *(int *)arg;
    static char chunk[4096];
    for (int i = 0; i < 100000; i++)
        if (send(fd, chunk, sizeof chunk, MSG_DONTWAIT) < 0)
            return (void *)(long)errno;
    return (void *)0L;
}

/* A signal handler interrupts a long pipe write after part of it: the
 * write returns the part's count (and the writer writes the rest). */
static int part_fds[2];
static volatile int part_handled;
static void on_part_signal(int sig)
{
    (void)sig;
    part_handled = 1;
}
static void *part_writer(void *arg)
{
    (void)arg;
    static char data[BIG];
    ssize_t first = write(part_fds[1], data, BIG);
    long total = first > 0 ? first : 0;
    while (total < BIG) {
        ssize_t n = write(part_fds[1], data + total, BIG - total);
        if (n <= 0)
            break;
        total += n;
    }
    close(part_fds[1]);
    return (void *)(long)(first > 0 && first < BIG && part_handled ? total : -first);
}

static void partial_write(void)
{
    struct sigaction sa = {.sa_handler = on_part_signal, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    pipe(part_fds);
    pthread_t t;
    pthread_create(&t, NULL, part_writer, NULL);
    char buf[8192];
    long got = 0;
    ssize_t n;
    while (got < 100000 && (n = read(part_fds[0], buf, sizeof buf)) > 0)
        got += n;
    usleep(20000); /* the writer fills the pipe and waits */
    pthread_kill(t, SIGUSR1);
    while ((n = read(part_fds[0], buf, sizeof buf)) > 0)
        got += n;
    void *r;
    pthread_join(t, &r);
    close(part_fds[0]);
    printf("write interrupted after part: returned part, then the rest: %ld, read %ld\n", (long)r, got);
}

static const char *lock_path;
static volatile int lock_step;
static void *locker(void *arg)
{
    (void)arg;
    int fd = open(lock_path, O_RDWR);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        return (void *)-1L;
    long mine = ++lock_step;
    flock(fd, LOCK_UN);
    close(fd);
    return (void *)mine;
}

static void *last_one(void *arg)
{
    (void)arg;
    usleep(5000);
    printf("last thread: main has exited\n");
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    tids[0] = (pid_t)syscall(SYS_gettid);
    pthread_t t[N];
    for (long i = 0; i < N; i++)
        if (pthread_create(&t[i], NULL, adder, (void *)(i + 1)) != 0)
            return 1;
    long sum = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(t[i], &r);
        sum += (long)r;
    }
    int distinct = 1;
    for (int i = 0; i <= N; i++)
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j];
    printf("mutex: counter=%ld atomic=%d results=%ld main tls=%d distinct tids=%d main is pid=%d\n", counter,
           atomic_counter, sum, tls, distinct, tids[0] == getpid());

    pthread_t p;
    pthread_create(&p, NULL, pong, NULL);
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&m);
        while (turn != 0)
            pthread_cond_wait(&cv, &m);
        turn = 1;
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&m);
    }
    pthread_join(p, NULL);
    printf("condvar: rounds=%d\n", rounds);

    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    pthread_t r;
    pthread_create(&r, NULL, reader, &fds[0]);
    usleep(20000); /* the reader is blocked in read() by now */
    char block[100];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 10; i++) {
        if (write(fds[1], block, sizeof block) != (ssize_t)sizeof block)
            return 1;
        usleep(1000);
    }
    close(fds[1]);
    void *got;
    pthread_join(r, &got);
    printf("pipe: reader got %ld bytes\n", (long)got);

    sem_init(&sem, 0, 0);
    pthread_t q;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_create(&q, NULL, poster, NULL);
    for (int i = 0; i < 50; i++)
        sem_wait(&sem);
    pthread_join(q, &got);
    printf("semaphore: 50 waits done, exit value %ld\n", (long)got);

    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < 3; i++)
        pthread_create(&q, &attr, poster, NULL);
    for (int i = 0; i < 150; i++)
        sem_wait(&sem);
    printf("detached: 150 waits done\n");

    pthread_create(&q, NULL, spinner, NULL);
    usleep(5000);
    flag = 1;
    pthread_join(q, &got);
    printf("spinner: stopped, spun=%ld\n", (long)got);

    pthread_create(&q, NULL, sleeper, NULL);
    usleep(2000);
    pthread_cancel(q);
    pthread_join(q, &got);
    printf("cancel: %s\n", got == PTHREAD_CANCELED ? "canceled" : "not canceled");

    signal(SIGUSR1, on_usr1);
    pthread_create(&q, NULL, target, NULL);
    while (!usr1_ready)
        usleep(1000);
    pthread_kill(q, SIGUSR1);
    pthread_join(q, NULL);
    printf("pthread_kill: handled by the target=%d\n", pthread_equal(handled_by, q));

    pthread_create(&q, NULL, forker, NULL);
    pthread_join(q, &got);
    printf("fork from a thread: child status %ld\n", (long)got);

    if (pipe(fds) != 0)
        return 1;
    pthread_create(&q, NULL, poller, &fds[0]);
    usleep(5000);
    if (write(fds[1], "x", 1) != 1)
        return 1;
    pthread_join(q, &got);
    pthread_create(&q, NULL, timed_select, &fds[0]);
    void *sel;
    pthread_join(q, &sel);
    printf("poll in a thread: %ld, select timing out: %ld\n", (long)got, (long)sel);

    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    pthread_create(&q, NULL, signal_waiter, &usr2);
    usleep(3000);
    kill(getpid(), SIGUSR2);
    pthread_join(q, &got);
    signal(SIGUSR2, on_usr2);
    pthread_create(&q, NULL, suspender, NULL);
    usleep(3000);
    pthread_kill(q, SIGUSR2);
    pthread_join(q, NULL);
    printf("sigwait in a thread: %ld, sigsuspend in a thread: %d\n", (long)got, suspended_got);

    if (pipe(pp_fds) != 0)
        return 1;
    suspended_got = 0;
    pthread_create(&q, NULL, masked_ppoll, NULL);
    usleep(3000);
    pthread_kill(q, SIGUSR2);
    pthread_join(q, &got);
    printf("ppoll with a mask in a thread: %ld, handler %d\n", (long)got, suspended_got);

    big_write(0);
    big_write(1);
    big_write(3);
    static char big_path[] = "/tmp/mipsjit-big-XXXXXX";
    big_file = mkstemp(big_path);
    static char content[BIG];
    for (int i = 0; i < BIG; i++)
        content[i] = (char)(i * 7);
    write(big_file, content, BIG);
    big_write(2);
    close(big_file);
    unlink(big_path);

    partial_write();

    int dw[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, dw);
    pthread_create(&q, NULL, dontwait_sender, &dw[0]);
    pthread_join(q, &got);
    printf("MSG_DONTWAIT in a thread: errno %ld\n", (long)got);
    close(dw[0]);
    close(dw[1]);

    static char path[] = "/tmp/mipsjit-flock-XXXXXX";
    int lfd = mkstemp(path);
    lock_path = path;
    if (lfd < 0 || flock(lfd, LOCK_EX) != 0)
        return 1;
    pthread_create(&q, NULL, locker, NULL);
    usleep(5000);
    long unlocked_at = ++lock_step;
    flock(lfd, LOCK_UN);
    pthread_join(q, &got);
    printf("flock in a thread: waited for the unlock %d\n", (long)got > unlocked_at);
    close(lfd);
    unlink(path);

    pthread_create(&q, NULL, last_one, NULL);
    pthread_exit(NULL);
}
