/* Signal delivery in user-mode emulation: faults caught with SA_SIGINFO
 * handlers, raise, masks, alarm, editing the ucontext, processes killed by
 * signals. Prints what it sees; mipsjit must print what qemu-mipsel does. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile sig_atomic_t got;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    printf("caught %d: si_signo=%d si_code=%d si_addr=%p\n", sig, si->si_signo, si->si_code, si->si_addr);
    siglongjmp(env, 1);
}

static void try(const char *what, void (*f)(void))
{
    if (sigsetjmp(env, 1) == 0) {
        f();
        printf("%s: no fault\n", what);
    } else {
        printf("%s: recovered\n", what);
    }
}

static void kseg_store(void) { *(volatile int *)0x80000010 = 1; }
static void kseg_load(void) { (void)*(volatile int *)0xc0001000; }
/* Linux (and QEMU) carry out misaligned loads and stores for the program. */
static void misaligned(void)
{
    static char buf[17] = "0123456789abcdef";
    volatile int *p = (volatile int *)(buf + 1);
    volatile short *h = (volatile short *)(buf + 5);
    *p = *p + 0x01010101;
    *h = *h + 1;
    printf("misaligned: %s %d\n", buf, h[0]);
}
/* Linux also emulates them in a branch delay slot, after which the branch
 * goes where it would have gone, decided on the registers before the load
 * writes one it reads (unaligned.c: compute_return_epc). qemu-mipsel sends
 * SIGBUS instead, so this runs on its own ("emulated"), checked against
 * Linux's behaviour rather than QEMU's. */
static void misaligned_in_delay_slot(void)
{
    static char buf[16] = "ABCDEFGHIJKLMNO";
    int skipped = 0, v = 0, h = 0;
    __asm__ volatile(".set push\n.set noreorder\n"
                     "beq %1, $0, 1f\n"
                     " lw %1, 1(%3)\n" /* taken: %1 was 0 */
                     "li %0, 1\n"
                     "1: bne $0, $0, 2f\n"
                     " lh %2, 3(%3)\n" /* not taken */
                     "2: .set pop\n"
                     : "+r"(skipped), "+r"(v), "+r"(h)
                     : "r"(buf)
                     : "memory");
    printf("delay slot: skipped=%d v=%08x h=%d\n", skipped, v, h);
}
/* Misaligned accesses the compiler does not know of (plain lw, lh, sw, sh)
 * in a loop the JIT compiles: its fast path leaves them to the interpreter,
 * which emulates them as Linux does. qemu-mipsel sends SIGBUS, so this runs
 * with "emulated"; the sum is what the same C gives natively on x86. */
static void misaligned_hot(void)
{
    static unsigned char buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (unsigned char)(i * 7);
    unsigned sum = 0;
    for (int n = 0; n < 5000; n++) {
        int off = n % 13;
        volatile unsigned *p = (volatile unsigned *)(buf + off);
        volatile unsigned short *h = (volatile unsigned short *)(buf + 20 + off);
        volatile short *sh = (volatile short *)(buf + 40 + off);
        unsigned v = *p;
        *p = v + (unsigned)n;
        *h = (unsigned short)(*h + v);
        sum = sum * 31 + v + *h + (unsigned)*sh;
    }
    printf("misaligned hot: %08x\n", sum);
}
/* A fault in a compiled loop. */
static void kseg_load_hot(void)
{
    static int x = 5;
    volatile int *p = &x;
    int s = 0;
    for (int i = 0; i < 5000; i++) {
        if (i == 4999)
            p = (volatile int *)0xc0001000;
        s += *p;
    }
    printf("%d\n", s);
}
/* Delay-slot loads in a hot loop: taken (lw) and not taken (lh) branches. */
static void misaligned_in_delay_slot_hot(void)
{
    static char buf[16] = "ABCDEFGHIJKLMNO";
    int n = 5000, v = 0, h = 0, sum = 0;
    __asm__ volatile(".set push\n.set noreorder\n"
                     "1: addiu %0, %0, -1\n"
                     "addu %3, %3, %1\n"
                     "addu %3, %3, %2\n"
                     "beq %0, $0, 2f\n"
                     " lh %2, 3(%4)\n" /* not taken until the end */
                     "bne %0, $0, 1b\n"
                     " lw %1, 1(%4)\n" /* taken */
                     "2: .set pop\n"
                     : "+r"(n), "+r"(v), "+r"(h), "+r"(sum)
                     : "r"(buf)
                     : "memory");
    printf("delay slot hot: n=%d v=%08x h=%d sum=%08x\n", n, v, h, sum);
}
static void illegal(void) { __asm__ volatile(".word 0x7c00003b | (5 << 11) | (1 << 6)"); /* rdhwr $5? no: reserved */ }
static void reserved(void) { __asm__ volatile(".word 0x0000003f"); }
static void divide(void)
{
    volatile int a = 1, b = 0;
    printf("%d\n", a / b);
}
static void overflow(void)
{
    int r;
    __asm__ volatile("add %0, %1, %2" : "=r"(r) : "r"(0x7fffffff), "r"(1));
    printf("%d\n", r);
}
static void breakpoint(void) { __asm__ volatile("break 3"); }

static void on_usr1(int sig) { printf("handler %d\n", sig); got++; }

/* Skips the faulting instruction: the handler moves pc past it. */
static void skip(int sig, siginfo_t *si, void *p)
{
    ucontext_t *uc = p;
    printf("skip %d at code %d, v0 before %d\n", sig, si->si_code, (int)uc->uc_mcontext.gregs[2]);
    uc->uc_mcontext.pc += 4;
    uc->uc_mcontext.gregs[2] = 42;
}

static void on_alarm(int sig) { got = sig; }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "die") == 0) {
        kill(getpid(), SIGTERM);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "segv") == 0) {
        *(volatile int *)16 = 1;
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "emulated") == 0) {
        misaligned_in_delay_slot();
        misaligned_in_delay_slot_hot();
        misaligned_hot();
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
    try("kseg store", kseg_store);
    try("kseg load", kseg_load);
    try("misaligned", misaligned);
    try("kseg load hot", kseg_load_hot);
    try("reserved", reserved);
    try("overflow", overflow);
    try("break", breakpoint);
    (void)illegal;

    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    printf("after raise: got=%d\n", got);

    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, &old);
    raise(SIGUSR1);
    sigset_t p;
    sigpending(&p);
    printf("blocked: got=%d pending=%d\n", got, sigismember(&p, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got=%d\n", got);

    sa.sa_sigaction = skip;
    sigaction(SIGSEGV, &sa, NULL);
    int v;
    __asm__ volatile("li $2, 7\n\tlui $3, 0x8000\n\tlw $3, 0($3)\n\tmove %0, $2" : "=r"(v) : : "$2", "$3");
    printf("skipped: v0=%d\n", v);

    signal(SIGALRM, on_alarm);
    alarm(1);
    while (!got || got == 2)
        pause();
    printf("alarm: got=%d\n", got);

    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGSEGV, SIG_DFL);
            if (i == 0)
                *(volatile int *)0x80000000 = 0;
            if (i == 1)
                kill(getpid(), SIGTERM);
            _exit(5);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("child: exited=%d status=%d signaled=%d sig=%d\n", WIFEXITED(st), WEXITSTATUS(st), WIFSIGNALED(st),
               WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    }
    return 3;
}
