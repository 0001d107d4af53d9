/* Sockets in user-mode emulation: Unix socket pairs (stream and
 * datagram), descriptor passing with SCM_RIGHTS, TCP and UDP over the
 * loopback between a process and its child, socket options (MIPS numbers
 * SOL_SOCKET, its options and the socket types differently), and errors.
 * Prints no addresses or ports; mipsjit must print what qemu-mipsel does. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Also check what qemu-mipsel gets wrong (argument "strict"). */
static int strict;

static int opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    int r = getsockopt(fd, level, name, &v, &len);
    return r < 0 ? -errno : v;
}

static void unix_pairs(void)
{
    int sv[2];
    printf("socketpair stream: %d\n", socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    printf("type %d domain %d cloexec %d\n", opt(sv[0], SOL_SOCKET, SO_TYPE), opt(sv[0], SOL_SOCKET, SO_DOMAIN),
           (fcntl(sv[0], F_GETFD) & FD_CLOEXEC) != 0);
    char buf[32] = {0};
    printf("send %zd\n", send(sv[0], "ping", 4, 0));
    printf("recv %zd %s\n", recv(sv[1], buf, sizeof buf, 0), buf);
    printf("shutdown %d\n", shutdown(sv[0], SHUT_WR));
    printf("recv after shutdown %zd\n", recv(sv[1], buf, sizeof buf, 0));

    /* A pipe's read end travels over a datagram pair. */
    int dg[2], p[2];
    printf("socketpair dgram: %d type %d\n", socketpair(AF_UNIX, SOCK_DGRAM, 0, dg), opt(dg[0], SOL_SOCKET, SO_TYPE));
    pipe(p);
    char c = 'x';
    struct iovec iov = {&c, 1};
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.b;
    m.msg_controllen = sizeof ctl.b;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
    printf("sendmsg %zd\n", sendmsg(dg[0], &m, 0));
    close(p[0]);
    write(p[1], "through", 7);
    char got = 0;
    char two[8];
    struct iovec iov2[2] = {{&got, 1}, {two, sizeof two}};
    memset(&ctl, 0, sizeof ctl);
    struct msghdr r = {0};
    r.msg_iov = iov2;
    r.msg_iovlen = 2;
    r.msg_control = ctl.b;
    r.msg_controllen = sizeof ctl.b;
    printf("recvmsg %zd %c flags %d\n", recvmsg(dg[1], &r, 0), got, r.msg_flags);
    cm = CMSG_FIRSTHDR(&r);
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        int fd;
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        memset(buf, 0, sizeof buf);
        printf("passed descriptor reads %zd %s, controllen %d\n", read(fd, buf, 7), buf, (int)r.msg_controllen);
    } else {
        printf("no descriptor\n");
    }
    long args[3] = {AF_UNIX, SOCK_STREAM, 0};
    int s = syscall(SYS_socketcall, 1, args);
    printf("socketcall socket: %d type %d\n", s >= 0, opt(s, SOL_SOCKET, SO_TYPE));
}

static void tcp(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    printf("reuseaddr %d -> %d\n", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one),
           opt(l, SOL_SOCKET, SO_REUSEADDR) != 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    printf("bind %d\n", bind(l, (struct sockaddr *)&a, sizeof a));
    socklen_t len = sizeof a;
    printf("getsockname %d family %d len %d\n", getsockname(l, (struct sockaddr *)&a, &len), a.sin_family, len);
    printf("listen %d acceptconn %d\n", listen(l, 4), opt(l, SOL_SOCKET, SO_ACCEPTCONN));
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(1);
        int nodelay = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay);
        send(c, "hello", 5, 0);
        char b[16] = {0};
        recv(c, b, 6, MSG_WAITALL);
        _exit(strcmp(b, "world") == 0 ? 7 : 2);
    }
    struct sockaddr_in peer;
    len = sizeof peer;
    int s = accept4(l, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    printf("accept4 %d family %d len %d loopback %d\n", s >= 0, peer.sin_family, len,
           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    char b[16] = {0};
    printf("recv %zd %s\n", recv(s, b, 5, MSG_WAITALL), b);
    printf("nodelay on accepted %d\n", opt(s, IPPROTO_TCP, TCP_NODELAY));
    printf("sendto on stream %zd\n", sendto(s, "world", 6, 0, NULL, 0));
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    close(s);
    close(l);
    errno = 0;
    int c = socket(AF_INET, SOCK_STREAM, 0);
    printf("connect to closed port %d errno %d\n", connect(c, (struct sockaddr *)&a, sizeof a), errno);
    /* Non-blocking: the refusal comes later, through SO_ERROR. */
    int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    errno = 0;
    int r = connect(nb, (struct sockaddr *)&a, sizeof a);
    printf("non-blocking connect %d errno %s\n", r, errno == EINPROGRESS || errno == ECONNREFUSED ? "ok" : "other");
    struct pollfd p = {nb, POLLOUT, 0};
    poll(&p, 1, 5000);
    int e = opt(nb, SOL_SOCKET, SO_ERROR);
    if (strict) /* qemu-mipsel 7.2 gives the host's number */
        printf("SO_ERROR %d (ECONNREFUSED %d)\n", e, ECONNREFUSED);
}

static void udp(void)
{
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    printf("udp type %d\n", opt(a, SOL_SOCKET, SO_TYPE));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(b, (struct sockaddr *)&sa, sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(b, (struct sockaddr *)&sa, &len);
    errno = 0;
    char buf[16] = {0};
    printf("nonblocking recv %zd errno %d\n", recv(b, buf, sizeof buf, 0), errno);
    printf("sendto %zd\n", sendto(a, "datagram", 8, 0, (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_in from;
    socklen_t flen = sizeof from;
    usleep(10000);
    printf("recvfrom %zd %s family %d len %d\n", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen),
           buf, from.sin_family, flen);
    struct timeval tv = {0, 50000}, back;
    socklen_t tl = sizeof back;
    printf("rcvtimeo %d ", setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    printf("%d %ld.%06ld\n", getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &back, &tl), (long)back.tv_sec,
           (long)back.tv_usec);
    errno = 0;
    printf("timed out recv %zd errno %d\n", recv(a, buf, sizeof buf, 0), errno);
}

static void errors(void)
{
    errno = 0;
    printf("bad type %d errno %d\n", socket(AF_INET, 9, 0), errno);
    errno = 0;
    printf("bad family %d errno %d\n", socket(12345, SOCK_STREAM, 0), errno);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int v;
    socklen_t len = sizeof v;
    errno = 0;
    printf("bad option %d errno %d\n", getsockopt(s, SOL_SOCKET, 0x4000, &v, &len), errno);
    errno = 0;
    printf("not a socket %d errno %d\n", listen(1, 1), errno);
    errno = 0;
    printf("not connected %zd errno %d\n", send(s, "x", 1, MSG_NOSIGNAL), errno);
    errno = 0;
    printf("bad address %d errno %d\n", bind(s, (struct sockaddr *)8, 16), errno);
}

/* Network interfaces: glibc's if_nameindex (netlink), if_nametoindex and
 * if_indextoname (ioctls on a socket), SIOCGIFCONF's list, and one
 * interface's flags and MTU, through o32's 32-byte struct ifreq. */
static void interfaces(void)
{
    struct if_nameindex *ni = if_nameindex();
    int n = 0, agree = 1;
    char name[IF_NAMESIZE];
    for (struct if_nameindex *p = ni; p && p->if_index; p++, n++)
        agree &= if_nametoindex(p->if_name) == p->if_index && if_indextoname(p->if_index, name) &&
                 strcmp(name, p->if_name) == 0;
    printf("interfaces: %d, names and indexes agree %d\n", n, agree);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq reqs[16];
    struct ifconf conf = {.ifc_len = sizeof reqs, .ifc_req = reqs};
    int r = ioctl(s, SIOCGIFCONF, &conf);
    int lo = -1;
    for (int i = 0; i < conf.ifc_len / (int)sizeof reqs[0]; i++)
        if (strcmp(reqs[i].ifr_name, "lo") == 0)
            lo = i;
    struct sockaddr_in *a = (struct sockaddr_in *)&reqs[lo < 0 ? 0 : lo].ifr_addr;
    printf("SIOCGIFCONF: %d, entries of %zu bytes, lo at %s\n", r, sizeof reqs[0], lo < 0 ? "-" : inet_ntoa(a->sin_addr));
    struct ifreq q;
    memset(&q, 0, sizeof q);
    strcpy(q.ifr_name, "lo");
    r = ioctl(s, SIOCGIFFLAGS, &q);
    printf("SIOCGIFFLAGS lo: %d loopback %d up %d\n", r, !!(q.ifr_flags & IFF_LOOPBACK), !!(q.ifr_flags & IFF_UP));
    r = ioctl(s, SIOCGIFINDEX, &q);
    printf("SIOCGIFINDEX lo: %d index is if_nametoindex's %d\n", r, q.ifr_ifindex == (int)if_nametoindex("lo"));
    strcpy(q.ifr_name, "no-such-if");
    errno = 0;
    printf("SIOCGIFMTU of none: %d errno %d\n", ioctl(s, SIOCGIFMTU, &q), errno);
    if_freenameindex(ni);
    close(s);
}

int main(int argc, char **argv)
{
    strict = argc > 1 && strcmp(argv[1], "strict") == 0;
    setvbuf(stdout, NULL, _IONBF, 0);
    unix_pairs();
    tcp();
    udp();
    errors();
    interfaces();
    return 0;
}
