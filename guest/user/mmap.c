/* Memory system calls as ld.so and malloc use them: private file mappings
 * at an offset, MAP_FIXED over a reservation, munmap and reuse (zeroed),
 * mremap (grow, shrink, move), mprotect, and their argument checks. A test
 * for `mipsjit user` against qemu-mipsel; it prints no addresses. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096

static int sum(const unsigned char *p, size_t n) {
    int s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

int main(int argc, char **argv) {
    if (argc < 2) return 1;
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; i < 3 * PG + 100; i++) {
        unsigned char b = (unsigned char)(i / PG + 1);
        if (write(fd, &b, 1) != 1) return 1;
    }
    /* A private mapping at an offset, to the file's end: the rest of its
     * last page reads as zero. */
    unsigned char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PG);
    printf("file map: %d %d %d tail %d\n", p != MAP_FAILED, p[0], p[PG], sum(p + 2 * PG, PG));
    p[0] = 99; /* private: the file stays as it was */
    unsigned char b;
    pread(fd, &b, 1, PG);
    printf("private write: mem %d file %d\n", p[0], b);

    /* Reserve, then map the file over the middle with MAP_FIXED. */
    unsigned char *r = mmap(NULL, 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(r, 0, 0); /* PROT_NONE: never touched */
    unsigned char *f = mmap(r + PG, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 2 * PG);
    printf("fixed: at %d value %d\n", f == r + PG, f[10]);
    printf("mprotect: %d ", mprotect(r, 4 * PG, PROT_READ | PROT_WRITE));
    r[0] = 5;
    printf("%d\n", r[0]);
    errno = 0;
    printf("mprotect unaligned: %d errno %d\n", mprotect(r + 1, PG, PROT_READ), errno);
    errno = 0;
    printf("mprotect bad prot: %d errno %d\n", mprotect(r, PG, 0x100), errno);

    /* munmap, then the same address again: zeroed. */
    memset(r, 0x55, 4 * PG);
    printf("munmap: %d\n", munmap(r, 4 * PG));
    unsigned char *again = mmap(r, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("remapped zero: %d %d\n", again == r, sum(again, 4 * PG));
    errno = 0;
    printf("munmap unaligned: %d errno %d\n", munmap(r + 3, PG), errno);
    errno = 0;
    printf("mmap len 0: %d errno %d\n", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED,
           errno);
    errno = 0;
    printf("mmap bad fd: %d errno %d\n", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 1000, 0) == MAP_FAILED, errno);
    errno = 0;
    printf("mmap unaligned offset: %d errno %d\n", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED,
           errno);

    /* mremap: shrink in place, grow (maybe moving), contents kept. */
    memset(again, 7, 4 * PG);
    unsigned char *s = mremap(again, 4 * PG, 2 * PG, 0);
    printf("shrink: %d %d\n", s == again, sum(s, 2 * PG) / 7);
    unsigned char *g = mremap(s, 2 * PG, 64 * PG, MREMAP_MAYMOVE);
    printf("grow: %d kept %d new %d\n", g != MAP_FAILED, sum(g, 2 * PG) / 7, sum(g + 2 * PG, 62 * PG));
    /* (Unknown mremap flags: Linux says EINVAL, qemu-mipsel 7.2 ENOMEM.) */

    /* malloc of big blocks goes through mmap and munmap. */
    long total = 0;
    for (int i = 0; i < 50; i++) {
        char *m = malloc(1 << 20);
        total += m[i * 1000];
        memset(m, i, 1 << 20);
        char *m2 = realloc(m, 3 << 20);
        total += m2[(1 << 20) - 1] + m2[(2 << 20) + 5];
        free(m2);
    }
    printf("malloc total %ld\n", total);
    close(fd);
    unlink(argv[1]);
    return 0;
}
