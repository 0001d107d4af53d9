/* MAP_SHARED file mappings are the file itself: a forked child's writes
 * are seen by its parent at once (through the mapping and through
 * read(2)), a POSIX semaphore (sem_open: a file in /dev/shm) and a
 * process-shared mutex in shm_open memory synchronise parent and child,
 * and a page past the file's end raises SIGBUS. A test for `mipsjit user`
 * against qemu-mipsel; it prints no addresses. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

int main(int argc, char **argv)
{
    if (argc < 2)
        return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (ftruncate(fd, 2 * PG) != 0)
        return 1;
    volatile char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    m[0] = 'p';
    pid_t pid = fork();
    if (pid == 0) {
        /* The child sees the parent's byte, writes its own, and waits for
         * the parent's answer through the same mapping. */
        char seen = m[0];
        m[PG + 1] = 'c';
        for (int i = 0; i < 5000 && m[2] != 'a'; i++)
            usleep(1000);
        _exit(seen == 'p' && m[2] == 'a' ? 0 : 1);
    }
    for (int i = 0; i < 5000 && m[PG + 1] != 'c'; i++)
        usleep(1000);
    char via_read = '?';
    pread(fd, &via_read, 1, PG + 1);
    printf("parent sees the child's write: mapping %c, read %c\n", m[PG + 1], via_read);
    m[2] = 'a';
    int st;
    waitpid(pid, &st, 0);
    printf("child saw the parent's bytes: %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* A named semaphore: the child posts, the parent waits. */
    char name[64]; /* this process's own: runs side by side do not meet */
    snprintf(name, sizeof name, "/mipsjit-test-sem-%d", (int)getpid());
    sem_unlink(name);
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    pid = fork();
    if (pid == 0) {
        usleep(20000);
        sem_post(s);
        sem_post(s);
        _exit(0);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    int a = sem_timedwait(s, &until), b = sem_timedwait(s, &until), v = -1;
    waitpid(pid, NULL, 0);
    sem_getvalue(s, &v);
    printf("sem_open across fork: %d %d, value %d\n", a, b, v);
    sem_close(s);
    sem_unlink(name);

    /* A process-shared mutex and counter in shm_open memory. */
    snprintf(name, sizeof name, "/mipsjit-test-shm-%d", (int)getpid());
    shm_unlink(name);
    int sfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (ftruncate(sfd, PG) != 0)
        return 1;
    struct shared {
        pthread_mutex_t lock;
        int count;
    } *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&sh->lock, &attr);
    pid_t kids[3];
    for (int k = 0; k < 3; k++)
        if ((kids[k] = fork()) == 0) {
            for (int i = 0; i < 2000; i++) {
                pthread_mutex_lock(&sh->lock);
                sh->count++;
                pthread_mutex_unlock(&sh->lock);
            }
            _exit(0);
        }
    for (int k = 0; k < 3; k++)
        waitpid(kids[k], NULL, 0);
    printf("shm_open counter of three children: %d\n", sh->count);
    shm_unlink(name);

    /* Past the end of the file: SIGBUS, BUS_ADRERR. */
    pid = fork();
    if (pid == 0) {
        if (ftruncate(fd, PG) != 0)
            _exit(3);
        volatile char c = m[PG + 5];
        (void)c;
        usleep(100000);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    printf("touching a page past the end: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    unlink(argv[1]);
    return 0;
}
