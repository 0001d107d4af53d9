/*
 * cp0 - CP0 registers that a bare-metal program and the Linux kernel use.
 *
 * Printed values are compared with QEMU -cpu 24Kc (see scripts/run-qemu.sh);
 * the expected values in the checks are the 24Kc values QEMU 7.2 reports
 * (/work/shared/reference/malta-boot.md section 1.1).  Nothing time-dependent
 * is printed: Count is only checked for "advances" / "frozen by Cause.DC".
 */
#include "rt.h"

extern char alt_ebase[];
u32 do_syscall(void);

#define ST_BASE 0x10000000u      /* what start.S writes: CU0 */

static void test_ids(void)
{
    check("PRId", mfc0(15, 0), 0x00019300);
    /* start.S set Config0.K0 = 3; BE bit 15 is set for big-endian */
    check("Config0", mfc0(16, 0), 0x80000483 | (GUEST_BIG_ENDIAN << 15));
    check("Config1", mfc0(16, 1), 0x9e190c8e);
    check("Config2", mfc0(16, 2), 0x80000000);
    check("Config3", mfc0(16, 3), 0x00000000);
    check("EBase", mfc0(15, 1), 0x80000000);
    check("Status", mfc0(12, 0), ST_BASE);

    /* Config0: only K0 (bits 2:0) is writable */
    u32 c0 = mfc0(16, 0);
    mtc0(16, 0, 0x7ffffffa);
    check("Config0 after writing 7ffffffa", mfc0(16, 0), 0x80000482 | (GUEST_BIG_ENDIAN << 15));
    mtc0(16, 0, c0);
    check("Config0 restored", mfc0(16, 0), c0);
}

static void test_status(void)
{
    /* Writable Status bits on the 24Kc: 0x1278ff1f (CU1 not: no FPU).
       Write everything except KSU/ERL/EXL/IE (bits 4:0). */
    mtc0(12, 0, 0xffffffe0);
    u32 s = mfc0(12, 0);
    mtc0(12, 0, ST_BASE);
    check("Status after writing ffffffe0", s, 0xffffffe0 & 0x1278ff1f);
    check("Status restored", mfc0(12, 0), ST_BASE);

    /* di / ei return the old Status; IM=0 so IE=1 cannot take interrupts */
    u32 o1, o2, s1, s2;
    __asm__ __volatile__("ei %0\n\tehb\n\tmfc0 %1, $12" : "=r"(o1), "=r"(s1) :: "memory");
    __asm__ __volatile__("di %0\n\tehb\n\tmfc0 %1, $12" : "=r"(o2), "=r"(s2) :: "memory");
    check("ei: old Status", o1, ST_BASE);
    check("ei: new Status", s1, ST_BASE | 1);
    check("di: old Status", o2, ST_BASE | 1);
    check("di: new Status", s2, ST_BASE);
    /* ei/di with $0 as destination */
    __asm__ __volatile__("ei\n\tehb\n\tmfc0 %0, $12\n\tdi\n\tehb\n\tmfc0 %1, $12"
                         : "=r"(s1), "=r"(s2) :: "memory");
    check("ei (no rt): Status", s1, ST_BASE | 1);
    check("di (no rt): Status", s2, ST_BASE);
}

static void test_cause_epc_badvaddr(void)
{
    /* Cause: IV(23), DC(27) and IP1:0 are writable here; WP is avoided.
       Hardware interrupt bits IP7:2 are masked out of what we print:
       they may be pending (QEMU's PIT raises IP2) but IM=0, IE=0. */
    mtc0(13, 0, 0x08800300);
    u32 c = mfc0(13, 0) & 0x08c00300;
    mtc0(13, 0, 0);
    check("Cause after writing 08800300 (masked 08c00300)", c, 0x08800300);
    check("Cause after writing 0 (masked 08c00300)", mfc0(13, 0) & 0x08c00300, 0);

    mtc0(14, 0, 0x12345678);
    check("EPC read back", mfc0(14, 0), 0x12345678);
    mtc0(14, 0, 0x80000001);
    check("EPC read back (odd)", mfc0(14, 0), 0x80000001);

    u32 b0 = mfc0(8, 0);
    mtc0(8, 0, b0 ^ 0x12345678);
    check("BadVAddr is read-only (unchanged after mtc0)", mfc0(8, 0) == b0, 1);
}

static NOINLINE void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

static void test_count(void)
{
    u32 a = mfc0(9, 0);
    spin(20000);
    u32 b = mfc0(9, 0);
    check("Count advances", a != b, 1);

    /* Cause.DC = 1 stops Count */
    mtc0(13, 0, 1u << 27);
    a = mfc0(9, 0);
    spin(20000);
    b = mfc0(9, 0);
    mtc0(13, 0, 0);
    check("Count frozen while Cause.DC=1", a == b, 1);
    spin(20000);
    check("Count runs again after DC=0", mfc0(9, 0) != b, 1);

    /* Count is writable */
    mtc0(9, 0, 0x40000000);
    b = mfc0(9, 0);
    check("Count after writing 40000000 is near it", b - 0x40000000u < 0x10000000u, 1);

    /* Compare reads back (IM7=0, IE=0: no timer interrupt can be taken) */
    u32 cmp = mfc0(9, 0) - 16;  /* far in the future */
    mtc0(11, 0, cmp);
    check("Compare read back", mfc0(11, 0) == cmp, 1);
    check("Cause.TI clear after writing Compare", (mfc0(13, 0) >> 30) & 1, 0);
}

static void test_ebase(void)
{
    /* bits 31:30 fixed (10), 29:12 writable, 11:10 0, 9:0 CPUNum (0) */
    mtc0(15, 1, 0xffffffff);
    u32 e = mfc0(15, 1);
    mtc0(15, 1, 0x80000000);
    check("EBase after writing ffffffff", e, 0xbffff000);
    check("EBase restored", mfc0(15, 1), 0x80000000);

    exc_hook = exc_record_hook;

    exc_count = 0;
    do_syscall();
    check("syscall with EBase=80000000: vector id", exc_last.vector, 0x180);

    mtc0(15, 1, (u32)alt_ebase);
    check("EBase = alt_ebase", mfc0(15, 1) == (u32)alt_ebase, 1);
    do_syscall();
    check("syscall with EBase=alt_ebase: vector id", exc_last.vector, 0x1180);
    check("  ExcCode", CAUSE_EXCCODE(exc_last.cause), EXC_SYS);

    /* the kseg1 alias of the same page works as EBase too */
    mtc0(15, 1, (u32)KSEG1(alt_ebase));
    do_syscall();
    check("syscall with EBase=kseg1 alias: vector id", exc_last.vector, 0x1180);

    mtc0(15, 1, 0x80000000);
    do_syscall();
    check("syscall with EBase restored: vector id", exc_last.vector, 0x180);
    check("syscalls taken", exc_count, 4);
    exc_hook = 0;
}

static void test_hwr(void)
{
    u32 r0, r1, r3, cc;
    /* rdhwr is always allowed in kernel mode, whatever HWREna says */
    __asm__ __volatile__("rdhwr %0, $0\n\trdhwr %1, $1\n\trdhwr %2, $3\n\trdhwr %3, $2"
                         : "=r"(r0), "=r"(r1), "=r"(r3), "=r"(cc));
    (void)cc;   /* CC (= Count) is time-dependent: not printed */
    check("rdhwr $0 CPUNum", r0, 0);
    check("rdhwr $1 SYNCI_Step", r1, 32);
    check("rdhwr $3 CCRes", r3, 2);

    check("HWREna at reset", mfc0(7, 0), 0);
    mtc0(7, 0, 0xffffffff);
    check("HWREna after writing ffffffff", mfc0(7, 0), 0x0000000f);
    mtc0(7, 0, 0);
}

int main(void)
{
    puts("cp0 test (" ENDIAN_NAME ")");
    test_ids();
    test_status();
    test_cause_epc_badvaddr();
    test_count();
    test_ebase();
    test_hwr();
    return summary("cp0");
}
