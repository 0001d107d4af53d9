/* Terminal ioctls through a pseudo-terminal: termios both ways (MIPS
 * flag bits and c_cc indices differ from the host's), window size,
 * FIONREAD, flushing, isatty on a pipe. A test for `mipsjit user` against
 * qemu-mipsel; it prints no pty numbers or process ids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void show(const char *what, const struct termios *t) {
    printf("%s: iflag=%#o oflag=%#o cflag=%#o lflag=%#o\n", what, t->c_iflag, t->c_oflag, t->c_cflag, t->c_lflag);
    printf("  icanon=%d echo=%d isig=%d iexten=%d tostop=%d opost=%d icrnl=%d cs8=%d\n", !!(t->c_lflag & ICANON),
           !!(t->c_lflag & ECHO), !!(t->c_lflag & ISIG), !!(t->c_lflag & IEXTEN), !!(t->c_lflag & TOSTOP),
           !!(t->c_oflag & OPOST), !!(t->c_iflag & ICRNL), (t->c_cflag & CSIZE) == CS8);
    printf("  intr=%d quit=%d erase=%d kill=%d eof=%d eol=%d eol2=%d min=%d time=%d susp=%d start=%d stop=%d "
           "werase=%d lnext=%d\n",
           t->c_cc[VINTR], t->c_cc[VQUIT], t->c_cc[VERASE], t->c_cc[VKILL], t->c_cc[VEOF], t->c_cc[VEOL],
           t->c_cc[VEOL2], t->c_cc[VMIN], t->c_cc[VTIME], t->c_cc[VSUSP], t->c_cc[VSTART], t->c_cc[VSTOP],
           t->c_cc[VWERASE], t->c_cc[VLNEXT]);
    printf("  speed out=%u in=%u\n", (unsigned)cfgetospeed(t), (unsigned)cfgetispeed(t));
}

int main(void) {
    int p[2];
    if (pipe(p) != 0) return 1;
    errno = 0;
    printf("isatty(pipe)=%d errno=%s\n", isatty(p[0]), strerror(errno));
    printf("isatty(-1)=%d errno=%s\n", isatty(-1), strerror(errno));

    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
        printf("no pty: %s\n", strerror(errno));
        return 0;
    }
    const char *name = ptsname(m);
    printf("ptsname: %s\n", name && strncmp(name, "/dev/pts/", 9) == 0 ? "/dev/pts/N" : "?");
    int s = open(name, O_RDWR | O_NOCTTY);
    if (s < 0) return 2;
    printf("isatty(master)=%d isatty(slave)=%d\n", isatty(m), isatty(s));

    struct termios t;
    if (tcgetattr(s, &t) != 0) return 3;
    show("default", &t);

    /* Change one of each kind, then read it back. */
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 7;
    t.c_cc[VEOF] = 'D' - '@';
    t.c_cc[VEOL] = '#';
    t.c_cc[VEOL2] = '%';
    t.c_lflag |= TOSTOP;
    t.c_lflag &= ~IEXTEN;
    cfsetspeed(&t, B9600);
    printf("set drain=%d\n", tcsetattr(s, TCSADRAIN, &t));
    struct termios u;
    tcgetattr(s, &u);
    show("changed", &u);

    cfmakeraw(&t);
    printf("set raw=%d\n", tcsetattr(s, TCSAFLUSH, &t));
    tcgetattr(s, &u);
    show("raw", &u);

    /* Raw: bytes pass unchanged, no echo. */
    const char msg[] = "ab\r\ncd\x03";
    printf("write master=%zd\n", write(m, msg, sizeof msg - 1));
    usleep(50000);
    int n = -1;
    printf("FIONREAD=%d n=%d\n", ioctl(s, FIONREAD, &n), n);
    char buf[64];
    ssize_t k = read(s, buf, sizeof buf);
    printf("read slave=%zd:", k);
    for (ssize_t i = 0; i < k; i++) printf(" %02x", (unsigned char)buf[i]);
    printf("\n");
    printf("write slave=%zd\n", write(s, "xy\n", 3));
    usleep(50000);
    n = -1;
    ioctl(m, FIONREAD, &n);
    k = read(m, buf, sizeof buf);
    printf("master got n=%d read=%zd: %.*s", n, k, (int)k, buf);

    /* Back to cooked: output processing turns \n into \r\n. */
    tcgetattr(s, &t);
    t.c_oflag |= OPOST | ONLCR;
    t.c_lflag |= ICANON;
    printf("set now=%d\n", tcsetattr(s, TCSANOW, &t));
    write(s, "z\n", 2);
    usleep(50000);
    k = read(m, buf, sizeof buf);
    printf("cooked master read=%zd:", k);
    for (ssize_t i = 0; i < k; i++) printf(" %02x", (unsigned char)buf[i]);
    printf("\n");

    struct winsize ws = {.ws_row = 33, .ws_col = 101, .ws_xpixel = 5, .ws_ypixel = 6}, got = {0};
    printf("TIOCSWINSZ=%d ", ioctl(m, TIOCSWINSZ, &ws));
    printf("TIOCGWINSZ=%d %d %d %d %d\n", ioctl(s, TIOCGWINSZ, &got), got.ws_row, got.ws_col, got.ws_xpixel,
           got.ws_ypixel);

    write(m, "pending", 7);
    usleep(50000);
    printf("tcflush=%d ", tcflush(s, TCIFLUSH));
    n = -1;
    ioctl(s, FIONREAD, &n);
    printf("after flush n=%d\n", n);
    printf("tcdrain=%d tcflow=%d tcsendbreak=%d\n", tcdrain(s), tcflow(s, TCOON), tcsendbreak(s, 0));
    n = -1;
    printf("TIOCOUTQ=%d n=%d\n", ioctl(s, TIOCOUTQ, &n), n);

    int on = 1;
    printf("FIONBIO=%d ", ioctl(s, FIONBIO, &on));
    errno = 0;
    k = read(s, buf, sizeof buf);
    printf("nonblocking read=%zd %s O_NONBLOCK=%d\n", k, strerror(errno), !!(fcntl(s, F_GETFL) & O_NONBLOCK));

    /* Not our controlling terminal (O_NOCTTY, and no session here). */
    errno = 0;
    printf("tcgetpgrp(slave)=%d %s\n", tcgetpgrp(s) > 0 ? 1 : tcgetpgrp(s), strerror(errno));
    errno = 0;
    printf("tcgetsid(slave)=%d %s\n", (int)tcgetsid(s), strerror(errno));
    errno = 0;
    printf("tcgetattr(pipe)=%d %s\n", tcgetattr(p[1], &t), strerror(errno));
    errno = 0;
    printf("TIOCGWINSZ(pipe)=%d %s\n", ioctl(p[1], TIOCGWINSZ, &ws), strerror(errno));
    errno = 0;
    printf("FIONREAD(pipe)=%d ", ioctl(p[0], FIONREAD, &n));
    write(p[1], "12345", 5);
    ioctl(p[0], FIONREAD, &n);
    printf("n=%d\n", n);

    /* A new session takes the slave as its controlling terminal. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        printf("child setsid=%d ", setsid() > 0);
        printf("TIOCSCTTY=%d ", ioctl(s, TIOCSCTTY, 0));
        /* (qemu-mipsel's TIOCGSID leaves the id unwritten: only its sign.) */
        printf("pgrp ok=%d sid ok=%d ", tcgetpgrp(s) == getpgrp(), tcgetsid(s) > 0);
        printf("tcsetpgrp=%d ", tcsetpgrp(s, getpgrp()));
        /* A session leader giving up its terminal hangs up its group. */
        signal(SIGHUP, SIG_IGN);
        printf("TIOCNOTTY=%d\n", ioctl(s, TIOCNOTTY));
        fflush(stdout);
        _exit(5);
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("child exit=%d signal=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}
