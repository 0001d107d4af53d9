/*
 * tlbmiss - kuseg (0x00000000-0x7fffffff) and kseg2/3 (0xc0000000-) go
 * through the TLB.  We never write a TLB entry, so (in kernel mode) a load,
 * store or instruction fetch there raises a TLB Refill exception:
 *   vector EBase+0x000 (EXL=0), ExcCode 2 (TLBL, load/fetch) or 3 (TLBS),
 *   BadVAddr = the address, EPC = the instruction (or the branch, BD=1),
 *   EntryHi.VPN2 = VA[31:13] and Context.BadVPN2 = VA[31:13] (Linux relies
 *   on both).  With EXL=1 the same miss goes to EBase+0x180 and leaves EPC.
 * Addresses below 0x2000 are avoided on purpose: QEMU's reset TLB entries
 * are all zero (VPN2 0, ASID 0, V=0) and would match them (TLB Invalid).
 */
#include "rt.h"

#define POISON 0x5a5a5a5au
typedef u32 (*tfn)(u32, u32);

extern char m_lw[], m_lw_x[], m_lbu[], m_lbu_x[], m_sw[], m_sw_x[], m_sb[], m_sb_x[];
extern char m_fetch[], m_fetch_x[], m_fetch_r[], m_bd[], m_bd_x[], m_bd_r[];
extern char m_exl[], m_exl_x[], m_exl_r[];

static void run(const char *name, char *fn, char *x, char *resume, u32 a0, u32 a1,
                u32 evec, u32 ecode, u32 ebd, s32 eepc, u32 eret)
{
    exc_count = 0;
    exc_last.vector = 0xfff;
    exc_resume = (u32)resume;
    mtc0(10, 0, 0);                 /* EntryHi = 0 (VPN2 0, ASID 0) */
    mtc0(4, 0, 0);                  /* Context = 0 */
    u32 ret = ((tfn)(void *)fn)(a0, a1);
    exc_resume = 0;
    u32 c = exc_last.cause;
    u32 ehi = mfc0(10, 0), ctx = mfc0(4, 0);
    s32 rel = (s32)(exc_last.epc - (u32)x);

    printf("%-8s addr=%08x: exc=%u vec=%03x code=%u bd=%u epc=x%c%d badva=%08x ret=%08x\n",
           name, a0, exc_count, exc_last.vector, CAUSE_EXCCODE(c), CAUSE_BD(c),
           rel < 0 ? '-' : '+', rel < 0 ? -rel : rel, exc_last.badvaddr, ret);
    n_checks++;
    if (exc_count != 1 || exc_last.vector != evec || CAUSE_EXCCODE(c) != ecode ||
        CAUSE_BD(c) != ebd || rel != eepc || exc_last.badvaddr != a0 || ret != eret) {
        n_failures++;
        printf("  FAIL exp exc=1 vec=%03x code=%u bd=%u epc=x%c%d badva=%08x ret=%08x\n",
               evec, ecode, ebd, eepc < 0 ? '-' : '+', eepc < 0 ? -eepc : eepc, a0, eret);
    }
    if (evec == 0) {
        check("  EntryHi.VPN2", ehi & 0xffffe000u, a0 & 0xffffe000u);
        check("  Context.BadVPN2", ctx & 0x007ffff0u, (a0 >> 9) & 0x007ffff0u);
    }
}

int main(void)
{
    puts("tlbmiss test (" ENDIAN_NAME ")");
    exc_hook = exc_record_hook;

    run("lw", m_lw, m_lw_x, 0, 0x00400000, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    run("lw", m_lw, m_lw_x, 0, 0x7ffffffc, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    run("lw", m_lw, m_lw_x, 0, 0xc0001000, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    run("lw", m_lw, m_lw_x, 0, 0xfffff000, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    run("lbu", m_lbu, m_lbu_x, 0, 0x12345677, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    run("sw", m_sw, m_sw_x, 0, 0x00402000, 1, 0x000, EXC_TLBS, 0, 0, POISON);
    run("sb", m_sb, m_sb_x, 0, 0xd0000003, 1, 0x000, EXC_TLBS, 0, 0, POISON);
    run("fetch", m_fetch, (char *)0x00500000, m_fetch_r, 0x00500000, 0, 0x000, EXC_TLBL, 0, 0, POISON);
    /* (after a BD=0 exception: Cause.BD is not updated when EXL=1) */
    run("exl", m_exl, m_exl_r, m_exl_r, 0x00700000, 0, 0x180, EXC_TLBL, 0, 0, POISON);
    run("bd", m_bd, m_bd_x, m_bd_r, 0x00600000, 0, 0x000, EXC_TLBL, 1, -4, POISON);
    check("Status after eret", mfc0(12, 0), 0x10000000);

    exc_hook = 0;
    return summary("tlbmiss");
}
