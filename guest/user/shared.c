/* MAP_SHARED: anonymous memory a forked child writes and its parent
 * reads; file mappings whose writes reach the file (at msync, munmap and
 * exit) without undoing write(2)s to bytes the mapping left alone; both
 * kinds moved and grown by mremap. A test for `mipsjit user` against
 * qemu-mipsel; it prints no addresses. With a second argument "in-place"
 * it grows a shared file mapping in place, which qemu-mipsel 7.2 cannot. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096

static char at(int fd, off_t off)
{
    char c = '?';
    if (pread(fd, &c, 1, off) != 1)
        return '!';
    return c;
}

/* A shared mapping of the file at `path` grown in place (no
 * MREMAP_MAYMOVE) into a page just unmapped, as Linux does it (qemu-mipsel
 * 7.2 says ENOMEM). */
static int grow_in_place(const char *path)
{
    int fd = open(path, O_RDWR);
    char *room = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *h = mmap(room, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    munmap(room + PG, PG);
    char *g = mremap(h, PG, 2 * PG, 0);
    if (g == MAP_FAILED) {
        printf("mremap shared file in place: failed\n");
        return 1;
    }
    printf("mremap shared file in place: %d %c %c\n", g == h, g[0], g[PG + 100]);
    g[PG + 2] = 'S';
    munmap(g, 2 * PG);
    printf("  written through the grown part: %c\n", at(fd, PG + 2));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 1;
    if (argc > 2 && strcmp(argv[2], "in-place") == 0)
        return grow_in_place(argv[1]);
    int *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *pr = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sh[0] = pr[0] = 1;
    pid_t pid = fork();
    if (pid == 0) {
        sh[0] = 42;
        sh[PG / 4 + 7] = 7;
        pr[0] = 42;
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("anonymous: shared %d %d, private %d\n", sh[0], sh[PG / 4 + 7], pr[0]);
    munmap(sh, 2 * PG);
    int *again = mmap(sh, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("remapped private: %d %d\n", again[0], again[PG / 4 + 7]);

    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    char buf[2 * PG + 100];
    memset(buf, 'a', sizeof buf);
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
        return 1;
    char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    m[0] = 'X';
    m[5000] = 'Y';
    m[2 * PG + 200] = 'T'; /* past the end of the file: never written */
    msync(m, 3 * PG, MS_SYNC);
    printf("after msync: %c %c\n", at(fd, 0), at(fd, 5000));
    m[10] = 'Z';
    if (pwrite(fd, "W", 1, 20) != 1) /* a byte the mapping never changes */
        return 1;
    munmap(m, 3 * PG);
    struct stat st;
    fstat(fd, &st);
    printf("after munmap: %c %c %c size %ld\n", at(fd, 10), at(fd, 20), at(fd, 1), (long)st.st_size);

    pid = fork();
    if (pid == 0) {
        char *c = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
        c[100] = 'Q';
        _exit(0); /* no munmap: the exit writes it back */
    }
    waitpid(pid, NULL, 0);
    printf("child's mapping at exit: %c\n", at(fd, PG + 100));

    char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    p[0] = 'P';
    munmap(p, PG);
    printf("private mapping: %c\n", at(fd, 0));

    /* mremap keeps shared memory shared: anonymous memory moved, then cut,
     * is still what a forked child writes (Linux does not grow it: its
     * pages past the original size raise SIGBUS), and a file mapping grown
     * shows the file's next bytes and writes to them. */
    int *a = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    a[1] = 3;
    char *room = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int *b = mremap(a, 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, room + PG);
    int *c = mremap(b, 3 * PG, 2 * PG, 0);
    pid = fork();
    if (pid == 0) {
        c[0] = 5;
        c[PG / 4 + 2] = 6;
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("mremap shared anonymous: moved %d, kept %d, child wrote %d %d\n", b == (int *)(room + PG), c[1], c[0],
           c[PG / 4 + 2]);
    char *f = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *g = mremap(f, PG, 2 * PG, MREMAP_MAYMOVE);
    printf("mremap shared file: %c %c\n", g[0], g[PG + 100]);
    g[PG + 1] = 'R';
    munmap(g, 2 * PG);
    printf("  written through the grown part: %c\n", at(fd, PG + 1));
    return 0;
}
