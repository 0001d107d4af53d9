/*
 * fcntl against qemu-mipsel: record locks in both o32 layouts (struct
 * flock with 32-bit offsets, struct flock64) between a parent and a forked
 * child, F_SETLKW waiting for the other's unlock, EOVERFLOW for a lock a
 * 32-bit struct cannot describe, open-file-description locks contending
 * between two threads, the SIGIO owner and signal, pipe sizes, and an
 * unknown command. Then what must not stop the other threads: a thread's
 * blocking connect (a Unix socket whose listener's backlog is full, a TCP
 * connection, a refused one); and dup2 onto a signalfd's number.
 */
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char path[] = "/tmp/mipsjit-locks-XXXXXX";
/* Also check what qemu-mipsel gets wrong (argument "strict"). */
static int strict;

static int lock32(int fd, int cmd, short type, long start, long len)
{
    struct flock f = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &f);
}

static int lock64(int fd, int cmd, short type, long long start, long long len)
{
    struct flock64 f = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &f);
}

static void result(const char *what, int r)
{
    printf("%s: %d errno %d\n", what, r, r < 0 ? errno : 0);
}

/* The child's side of the process locks; `go` says when the parent holds
 * them, `done` reports back. */
static void child(int go, int done)
{
    char c;
    read(go, &c, 1);
    int fd = open(path, O_RDWR);
    struct flock f = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 50, .l_len = 10, .l_pid = 1234};
    int r = fcntl(fd, F_GETLK, &f);
    printf("child F_GETLK: %d type %d whence %d start %ld len %ld pid is parent %d\n", r, f.l_type, f.l_whence,
           (long)f.l_start, (long)f.l_len, f.l_pid == getppid());
    struct flock64 g = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    r = fcntl(fd, F_GETLK64, &g);
    printf("child F_GETLK64: %d type %d start %lld len %lld pid is parent %d\n", r, g.l_type, (long long)g.l_start,
           (long long)g.l_len, g.l_pid == getppid());
    struct flock free_range = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 200, .l_len = 5, .l_pid = 99};
    r = fcntl(fd, F_GETLK, &free_range);
    printf("child F_GETLK of a free range: %d type %d start %ld pid %d\n", r, free_range.l_type,
           (long)free_range.l_start, free_range.l_pid);
    r = lock32(fd, F_SETLK, F_WRLCK, 0, 10);
    printf("child F_SETLK on the parent's range: %d busy %d\n", r, r < 0 && (errno == EAGAIN || errno == EACCES));
    /* The parent's 64-bit lock past 2 GiB: a struct flock cannot say where,
     * and Linux says EOVERFLOW (qemu-mipsel 7.2 cuts the offset short). */
    if (strict)
        result("child F_GETLK of a lock past 2 GiB", lock32(fd, F_GETLK, F_WRLCK, 1000, 0));
    struct flock64 far = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1000, .l_len = 0};
    r = fcntl(fd, F_GETLK64, &far);
    printf("child F_GETLK64 past 2 GiB: %d type %d start %llx len %lld\n", r, far.l_type, (long long)far.l_start,
           (long long)far.l_len);
    c = 'w';
    write(done, &c, 1);
    /* Waits for the parent's unlock. */
    r = lock32(fd, F_SETLKW, F_WRLCK, 0, 10);
    result("child F_SETLKW after the parent's unlock", r);
    write(done, &c, 1);
    _exit(0);
}

static int ofd_a, ofd_b;
static volatile int ofd_step;
static void *ofd_waiter(void *arg)
{
    (void)arg;
    struct flock f = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    if (fcntl(ofd_b, F_OFD_SETLKW, &f) != 0)
        return (void *)-1L;
    long mine = ++ofd_step;
    f.l_type = F_UNLCK;
    fcntl(ofd_b, F_OFD_SETLK, &f);
    return (void *)mine;
}

static const char *unix_path = "/tmp/mipsjit-locks-sock";
static volatile int connecting, main_ran;
static void *unix_connector(void *arg)
{
    (void)arg;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, unix_path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    connecting = 1;
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    long seen = main_ran;
    close(s);
    return (void *)(r == 0 ? 10 + seen : -1L);
}

static int tcp_port;
static void *tcp_connector(void *arg)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(tcp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    long e = r < 0 ? errno : 0;
    /* A second connect on a connected socket. */
    int again = r == 0 ? connect(s, (struct sockaddr *)&a, sizeof a) : 0;
    long e2 = again < 0 ? errno : 0;
    close(s);
    (void)arg;
    return (void *)(r == 0 ? 1000 * e2 : -e);
}

static void *idle(void *arg)
{
    (void)arg;
    usleep(300000);
    return NULL;
}

int main(int argc, char **argv)
{
    strict = argc > 1 && strcmp(argv[1], "strict") == 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;

    /* Process locks: the parent holds [0, 100) for writing and a 64-bit
     * lock past 2 GiB, the child looks and waits. */
    result("F_SETLK", lock32(fd, F_SETLK, F_WRLCK, 0, 100));
    result("F_SETLK64 past 2 GiB", lock64(fd, F_SETLK64, F_WRLCK, 0x90000000LL, 16));
    int go[2], done[2];
    pipe(go);
    pipe(done);
    pid_t pid = fork();
    if (pid == 0)
        child(go[0], done[1]);
    char c = 'g';
    write(go[1], &c, 1);
    read(done[0], &c, 1);
    usleep(20000);
    int unlocked = lock32(fd, F_SETLK, F_UNLCK, 0, 100);
    read(done[0], &c, 1);
    /* Printed once the child has, for one order of the lines. */
    result("F_SETLK unlock", unlocked);
    int status;
    waitpid(pid, &status, 0);
    printf("child exit: %d\n", WEXITSTATUS(status));
    struct flock mine = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    result("own F_GETLK", fcntl(fd, F_GETLK, &mine));
    printf("  sees its own lock: %d\n", mine.l_type != F_UNLCK);
    close(fd);

    /* Open-file-description locks: two opens of the file contend, even in
     * one process; a thread waits for main's unlock while main runs. */
    ofd_a = open(path, O_RDWR);
    ofd_b = open(path, O_RDWR);
    struct flock f = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    result("F_OFD_SETLK", fcntl(ofd_a, F_OFD_SETLK, &f));
    struct flock q = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    int r = fcntl(ofd_b, F_OFD_GETLK, &q);
    printf("F_OFD_GETLK: %d type %d start %ld len %ld pid %d\n", r, q.l_type, (long)q.l_start, (long)q.l_len,
           q.l_pid);
    f.l_type = F_WRLCK;
    r = fcntl(ofd_b, F_OFD_SETLK, &f);
    printf("F_OFD_SETLK on the other open: %d busy %d\n", r, r < 0 && (errno == EAGAIN || errno == EACCES));
    pthread_t t;
    pthread_create(&t, NULL, ofd_waiter, NULL);
    usleep(5000);
    long unlocked_at = ++ofd_step;
    f.l_type = F_UNLCK;
    fcntl(ofd_a, F_OFD_SETLK, &f);
    void *got;
    pthread_join(t, &got);
    printf("F_OFD_SETLKW in a thread: waited for the unlock %d\n", (long)got > unlocked_at);
    close(ofd_a);
    close(ofd_b);
    unlink(path);

    /* SIGIO's owner and signal; pipe sizes; an unknown command. */
    int p[2];
    pipe(p);
    result("F_SETOWN", fcntl(p[0], F_SETOWN, getpid()));
    printf("F_GETOWN is me: %d\n", fcntl(p[0], F_GETOWN) == getpid());
    struct f_owner_ex ox;
    r = fcntl(p[0], F_GETOWN_EX, &ox);
    printf("F_GETOWN_EX: %d type %d is me %d\n", r, ox.type, ox.pid == getpid());
    result("F_SETSIG SIGUSR1", fcntl(p[0], F_SETSIG, SIGUSR1));
    printf("F_GETSIG: %d (SIGUSR1 %d)\n", fcntl(p[0], F_GETSIG), SIGUSR1);
    result("F_SETSIG 0", fcntl(p[0], F_SETSIG, 0));
    printf("F_GETSIG: %d\n", fcntl(p[0], F_GETSIG));
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[0], F_GETPIPE_SZ));
    result("F_SETPIPE_SZ", fcntl(p[0], F_SETPIPE_SZ, 1 << 17));
    printf("F_GETPIPE_SZ: %d\n", fcntl(p[0], F_GETPIPE_SZ));
    result("fcntl 8", fcntl(p[0], 8, 0));
    result("fcntl 1099", fcntl(p[0], 1099, 0));

    /* dup2 onto a signalfd's number: that number reads the pipe now. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK);
    write(p[1], "x", 1);
    dup2(p[0], sfd);
    char buf[4] = {0};
    r = read(sfd, buf, 1);
    printf("read after dup2 onto a signalfd: %d '%s'\n", r, buf);
    close(sfd);

    /* A thread's blocking connect to a Unix listener whose backlog is full
     * waits for main's accept, while main runs on. */
    struct sockaddr_un ua = {.sun_family = AF_UNIX};
    strcpy(ua.sun_path, unix_path);
    unlink(unix_path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&ua, sizeof ua) != 0 || listen(l, 0) != 0)
        return 2;
    int first = socket(AF_UNIX, SOCK_STREAM, 0);
    result("first connect", connect(first, (struct sockaddr *)&ua, sizeof ua));
    pthread_create(&t, NULL, unix_connector, NULL);
    while (!connecting)
        usleep(1000);
    usleep(20000);
    main_ran = 1;
    int acc = accept(l, NULL, NULL);
    pthread_join(t, &got);
    printf("blocking Unix connect in a thread: %ld (11: main ran meanwhile)\n", (long)got);
    close(acc);
    close(first);
    close(l);
    unlink(unix_path);

    /* TCP: a connection to a listener, and a refused one, from a thread
     * while another thread exists. */
    struct sockaddr_in ta = {.sin_family = AF_INET};
    ta.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int tl = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t tlen = sizeof ta;
    if (bind(tl, (struct sockaddr *)&ta, sizeof ta) != 0 || listen(tl, 4) != 0 ||
        getsockname(tl, (struct sockaddr *)&ta, &tlen) != 0)
        return 3;
    tcp_port = ntohs(ta.sin_port);
    pthread_t other;
    pthread_create(&other, NULL, idle, NULL);
    pthread_create(&t, NULL, tcp_connector, NULL);
    pthread_join(t, &got);
    printf("TCP connect in a thread: %ld (EISCONN %d)\n", (long)got, EISCONN);
    close(tl);
    pthread_create(&t, NULL, tcp_connector, NULL);
    pthread_join(t, &got);
    printf("refused TCP connect in a thread: %ld (ECONNREFUSED %d)\n", (long)got, ECONNREFUSED);
    pthread_join(other, NULL);
    return 0;
}
