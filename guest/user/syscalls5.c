/*
 * Calls that said ENOSYS, against qemu-mipsel: futimesat, syncfs,
 * sync_file_range (o32 passes its flags as the seventh argument, on the
 * stack), mlock2, the older getdents (o32 struct linux_dirent: 32-bit
 * inode and offset, the type in the record's last byte), listed by hand
 * over several calls; ioprio_get/set, setfsuid/setfsgid, and adjtimex
 * reading the clock's state through each of its three calls (glibc's
 * clock_adjtime64, then o32's 32-bit clock_adjtime and adjtimex). With the argument "linux" it prints instead what
 * Linux does and qemu-mipsel 7.2 does not (mlock2's MLOCK_ONFAULT, which
 * qemu-mipsel refuses).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static void linux_only(void)
{
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T("mlock2 onfault", mlock2(m, 8192, MLOCK_ONFAULT));
    unsigned char v[2];
    mincore(m, 8192, v);
    printf("  untouched pages resident %d %d\n", v[0] & 1, v[1] & 1);
    T("munlock", munlock(m, 8192));
}

/* Lists `d` with getdents in `size`-byte calls: the test files' count and
 * the sum of their numbers, and whether every type was right. */
static void list(int d, size_t size)
{
    char buf[512];
    int seen = 0, sum = 0, calls = 0, types_ok = 1;
    long n;
    while ((n = syscall(SYS_getdents, d, buf, size)) > 0) {
        calls++;
        for (long at = 0; at < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + at + 8, 2);
            const char *name = buf + at + 10;
            unsigned char type = buf[at + reclen - 1];
            if (name[0] == 'e') {
                seen++;
                sum += atoi(name + 1);
                types_ok &= type == DT_REG;
            } else if (strcmp(name, "sub") == 0 || strcmp(name, ".") == 0) {
                types_ok &= type == DT_DIR;
            }
            at += reclen;
        }
    }
    printf("getdents by %zu: end %ld, %d files sum %d, types right %d, several calls %d\n", size, n, seen, sum,
           types_ok, calls > 1);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "linux") == 0) {
        linux_only();
        return 0;
    }
    char dir[] = "/tmp/mipsjit-sys5-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    int fd = openat(d, "f", O_CREAT | O_RDWR, 0600);
    write(fd, "hello", 5);

    struct timeval tv[2] = {{1000, 5}, {2000, 7}};
    T("futimesat", syscall(SYS_futimesat, d, "f", tv));
    struct stat st;
    fstat(fd, &st);
    printf("  mtime %ld.%09ld atime %ld.%09ld\n", (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
           (long)st.st_atim.tv_sec, st.st_atim.tv_nsec);
    struct timeval bad[2] = {{1, 1000000}, {2, 0}};
    T("futimesat bad microseconds", syscall(SYS_futimesat, d, "f", bad));
    T("futimesat missing file", syscall(SYS_futimesat, d, "nope", tv));

    T("syncfs", syncfs(fd));
    T("syncfs bad fd", syncfs(-1));
    T("sync_file_range", sync_file_range(fd, 0, 5, SYNC_FILE_RANGE_WRITE));
    T("sync_file_range bad flags", sync_file_range(fd, 0, 5, 0x100));
    T("sync_file_range negative offset", sync_file_range(fd, -1, 5, SYNC_FILE_RANGE_WRITE));
    T("sync_file_range negative length", sync_file_range(fd, 0, -1, SYNC_FILE_RANGE_WRITE));

    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T("mlock2", mlock2(m, 8192, 0));
    T("munlock", munlock(m, 8192));
    T("mlock2 bad flags", mlock2(m, 8192, 2));
    T("mlock2 unmapped", mlock2((void *)0x1000, 4096, 0));

    for (int i = 0; i < 40; i++) {
        char n[16];
        snprintf(n, sizeof n, "e%02d", i);
        close(openat(d, n, O_CREAT | O_WRONLY, 0600));
    }
    mkdirat(d, "sub", 0700);
    list(d, 512);
    lseek(d, 0, SEEK_SET);
    list(d, 64);
    lseek(d, 0, SEEK_SET);
    T("getdents buffer too small", syscall(SYS_getdents, d, &st, 8));
    T("getdents on a file", syscall(SYS_getdents, fd, &st, sizeof st));
    T("getdents bad buffer", syscall(SYS_getdents, d, (void *)16, 512));

    for (int i = 0; i < 40; i++) {
        char n[16];
        snprintf(n, sizeof n, "e%02d", i);
        unlinkat(d, n, 0);
    }
    unlinkat(d, "sub", AT_REMOVEDIR);
    unlinkat(d, "f", 0);
    rmdir(dir);

    T("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
    T("ioprio_set best-effort 4", syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4));
    T("ioprio_get again", syscall(SYS_ioprio_get, 1, 0));
    T("ioprio_get bad which", syscall(SYS_ioprio_get, 9, 0));
    printf("setfsuid(-1) is the effective uid %d\n", setfsuid(-1) == (int)geteuid());
    printf("setfsgid(-1) is the effective gid %d\n", setfsgid(-1) == (int)getegid());
    /* Read only (modes 0): a root test must not set the host's clock. The
     * state (TIME_OK .. TIME_ERROR) is the host's, which NTP may change. */
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    int state = adjtimex(&tx);
    printf("adjtimex: a state %d, a tick %d\n", state >= 0 && state <= 5, tx.tick > 0);
    int old[32];
    memset(old, 0, sizeof old);
    state = syscall(SYS_clock_adjtime, CLOCK_REALTIME, old);
    printf("clock_adjtime, 32-bit: a state %d, the same tick %d\n", state >= 0 && state <= 5, old[11] == tx.tick);
    memset(old, 0, sizeof old);
    state = syscall(SYS_adjtimex, old);
    printf("adjtimex, 32-bit: a state %d, the same tick %d\n", state >= 0 && state <= 5, old[11] == tx.tick);
    T("clock_adjtime bad clock", clock_adjtime(12345, &tx));
    return 0;
}
