/* What the system-call test programs share: T(name, call) prints a call's
 * result and errno (0 when it succeeded), the line compared with
 * qemu-mipsel's. */
#include <errno.h>
#include <stdio.h>

#define T(name, call)                                                                                             \
    do {                                                                                                          \
        errno = 0;                                                                                                \
        long r_ = (long)(call);                                                                                   \
        printf("%s: %ld errno %d\n", name, r_, r_ < 0 ? errno : 0);                                               \
    } while (0)
