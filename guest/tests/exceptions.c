/*
 * exceptions - synchronous exceptions, taken through our vector at
 * EBase+0x180 and a recording handler.  For each case we print:
 *   number of exceptions taken, vector offset, Cause.ExcCode, Cause.BD,
 *   Cause.CE (Coprocessor Unusable only: UNPREDICTABLE otherwise),
 *   EPC relative to the routine's NAME_x label, BadVAddr (address errors
 *   only), Status as seen by the handler (EXL must be 1), Status after
 *   eret (EXL must be 0), and the routine's return value (destination
 *   registers of faulting instructions must be unchanged, 5a5a5a5a).
 * Each case is also checked against the expected values from the manual.
 */
#include "rt.h"

#define POISON 0x5a5a5a5au

typedef u32 (*tfn)(u32, u32);

#define DECL(n) extern char n[], n##_x[]; /* routine and fault label */
#define DECLR(n) extern char n[], n##_x[], n##_r[];

DECL(x_add) DECL(x_addi_p) DECL(x_addi_n) DECL(x_addi_big) DECL(x_sub)
DECL(x_addu) DECL(x_addiu) DECL(x_subu)
DECL(x_teq) DECL(x_tne) DECL(x_tge) DECL(x_tgeu) DECL(x_tlt) DECL(x_tltu) DECL(x_teq_code)
DECL(x_teqi) DECL(x_tnei) DECL(x_tgei) DECL(x_tgeiu) DECL(x_tlti) DECL(x_tltiu)
DECL(x_lw) DECL(x_lw_off) DECL(x_lh) DECL(x_lhu) DECL(x_ll) DECL(x_sw) DECL(x_sh)
DECL(x_lb_ok) DECL(x_lwl_ok)
DECLR(x_jr_bad) DECLR(x_jalr_bad)
extern char x_jalr_bad_link[];
DECL(x_ri_op3b) DECL(x_ri_dadd) DECL(x_ri_ld) DECL(x_ri_rdhwr6) DECL(x_ri_sp2)
DECL(x_break) DECL(x_break_code) DECL(x_syscall) DECL(x_syscall_code)
DECL(x_cpu_mfc1) DECL(x_cpu_lwc1) DECL(x_cpu_swc1) DECL(x_cpu_cfc1) DECL(x_cpu_lwc2)
DECLR(x_bd_adel) DECLR(x_bd_break) DECLR(x_bd_ov) DECLR(x_bd_trap) DECLR(x_bd_sys)
DECLR(x_bd_ri) DECLR(x_bd_cpu)
DECLR(x_bdl_taken) DECL(x_bdl_nt) DECLR(x_bd_nt) DECLR(x_bd_jr) DECLR(x_bd_jal)
extern char x_bd_jal_link[];
DECLR(x_bd_bltzal) DECLR(x_bd_page) DECLR(x_nested_exl)
u32 x_eret_plain(void);
u32 x_eret_exl(void);

static u32 data[4] ALIGNED(16) = { 0x11111111, 0x22222222, 0x33333333, 0x44444444 };
#define D ((u32)data)

enum { F_BADVA = 1, F_CE = 2, F_RET = 4 };

struct expect {
    u32 count;      /* exceptions expected (0 or 1) */
    u32 code;
    u32 bd;
    s32 epc_rel;    /* EPC - NAME_x */
    u32 ce;
    u32 badva;
    u32 ret;
};

/* Run one case and print/check everything. */
static void run(const char *name, char *fn, char *x, char *resume, u32 a0, u32 a1,
                unsigned flags, struct expect e)
{
    exc_count = 0;
    exc_last.vector = 0xfff;
    exc_resume = (u32)resume;
    u32 ret = ((tfn)(void *)fn)(a0, a1);
    exc_resume = 0;
    u32 st_after = mfc0(12, 0);
    u32 c = exc_last.cause;

    int bad = 0;
    printf("%-16s a0=%08x a1=%08x: exc=%u", name, a0, a1, exc_count);
    bad |= exc_count != e.count;
    if (exc_count) {
        s32 rel = (s32)(exc_last.epc - (u32)x);
        printf(" vec=%03x code=%u bd=%u epc=x%c%d", exc_last.vector, CAUSE_EXCCODE(c),
               CAUSE_BD(c), rel < 0 ? '-' : '+', rel < 0 ? -rel : rel);
        bad |= exc_last.vector != 0x180 || CAUSE_EXCCODE(c) != e.code || CAUSE_BD(c) != e.bd ||
               rel != e.epc_rel;
        if (flags & F_CE) {
            printf(" ce=%u", CAUSE_CE(c));
            bad |= CAUSE_CE(c) != e.ce;
        }
        if (flags & F_BADVA) {
            printf(" badva=%08x", exc_last.badvaddr);
            bad |= exc_last.badvaddr != e.badva;
        }
        printf(" st=%08x", exc_last.status);
        bad |= !(exc_last.status & 2);
    }
    printf(" st_after=%08x", st_after);
    bad |= (st_after & 2) != 0;
    if (flags & F_RET) {
        printf(" ret=%08x", ret);
        bad |= ret != e.ret;
    }
    n_checks++;
    if (bad) {
        n_failures++;
        printf(" FAIL exp exc=%u code=%u bd=%u epc=x%c%d", e.count, e.code, e.bd,
               e.epc_rel < 0 ? '-' : '+', e.epc_rel < 0 ? -e.epc_rel : e.epc_rel);
        if (flags & F_CE) printf(" ce=%u", e.ce);
        if (flags & F_BADVA) printf(" badva=%08x", e.badva);
        if (flags & F_RET) printf(" ret=%08x", e.ret);
    }
    uart_putc('\n');
}

#define T(n, a0, a1, fl, ...) run(#n, n, n##_x, 0, a0, a1, fl, (struct expect){ __VA_ARGS__ })
#define TR(n, a0, a1, fl, ...) run(#n, n, n##_x, n##_r, a0, a1, fl, (struct expect){ __VA_ARGS__ })

#define NONE(ret_) .count = 0, .ret = (ret_)
#define EXC(code_, ...) .count = 1, .code = (code_), __VA_ARGS__

int main(void)
{
    puts("exceptions test (" ENDIAN_NAME ")");
    exc_hook = exc_record_hook;

    puts("-- integer overflow");
    T(x_add, 0x7fffffff, 1, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_add, 0x80000000, 0xffffffff, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_add, 0x7fffffff, 0x80000000, F_RET, NONE(0xffffffff));
    T(x_addi_p, 0x7fffffff, 0, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_addi_p, 0x7ffffffe, 0, F_RET, NONE(0x7fffffff));
    T(x_addi_n, 0x80000000, 0, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_addi_big, 0x7fff8001, 0, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_addi_big, 0x7fff8000, 0, F_RET, NONE(0x7fffffff));
    T(x_sub, 0x80000000, 1, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_sub, 0x7fffffff, 0xffffffff, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_sub, 0, 0x80000000, F_RET, EXC(EXC_OV, .ret = POISON));
    T(x_sub, 0xffffffff, 0x80000000, F_RET, NONE(0x7fffffff));
    T(x_addu, 0x7fffffff, 1, F_RET, NONE(0x80000000));
    T(x_addiu, 0x7fffffff, 0, F_RET, NONE(0x80000000));
    T(x_subu, 0x80000000, 1, F_RET, NONE(0x7fffffff));

    puts("-- traps");
    T(x_teq, 5, 5, 0, EXC(EXC_TR));
    T(x_teq, 5, 6, 0, NONE(0));
    T(x_teq_code, 0, 0, 0, EXC(EXC_TR));
    T(x_tne, 5, 6, 0, EXC(EXC_TR));
    T(x_tne, 7, 7, 0, NONE(0));
    T(x_tge, 1, 0xffffffff, 0, EXC(EXC_TR));         /* 1 >= -1 signed */
    T(x_tge, 0xffffffff, 1, 0, NONE(0));
    T(x_tge, 3, 3, 0, EXC(EXC_TR));
    T(x_tgeu, 0xffffffff, 1, 0, EXC(EXC_TR));        /* unsigned */
    T(x_tgeu, 1, 0xffffffff, 0, NONE(0));
    T(x_tlt, 0x80000000, 0x7fffffff, 0, EXC(EXC_TR));
    T(x_tlt, 0x7fffffff, 0x80000000, 0, NONE(0));
    T(x_tlt, 3, 3, 0, NONE(0));
    T(x_tltu, 0x7fffffff, 0x80000000, 0, EXC(EXC_TR));
    T(x_tltu, 0x80000000, 0x7fffffff, 0, NONE(0));
    T(x_teqi, 5, 0, 0, EXC(EXC_TR));
    T(x_teqi, 6, 0, 0, NONE(0));
    T(x_tnei, 6, 0, 0, EXC(EXC_TR));
    T(x_tnei, 5, 0, 0, NONE(0));
    T(x_tgei, 0, 0, 0, EXC(EXC_TR));                 /* 0 >= -1 */
    T(x_tgei, 0xfffffffe, 0, 0, NONE(0));
    T(x_tgeiu, 0xffffffff, 0, 0, EXC(EXC_TR));       /* >= 0xffffffff unsigned */
    T(x_tgeiu, 0xfffffffe, 0, 0, NONE(0));
    T(x_tlti, 0x80000000, 0, 0, EXC(EXC_TR));
    T(x_tlti, 0, 0, 0, NONE(0));
    T(x_tltiu, 0, 0, 0, EXC(EXC_TR));
    T(x_tltiu, 1, 0, 0, NONE(0));

    puts("-- address errors");
    T(x_lw, D + 1, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 1, .ret = POISON));
    T(x_lw, D + 2, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 2, .ret = POISON));
    T(x_lw, D + 3, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 3, .ret = POISON));
    T(x_lw, D + 4, 0, F_RET, NONE(0x22222222));
    T(x_lw_off, D, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 5, .ret = POISON));
    T(x_lh, D + 1, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 1, .ret = POISON));
    T(x_lhu, D + 3, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 3, .ret = POISON));
    T(x_lhu, D + 6, 0, F_RET, NONE(0x2222));
    T(x_ll, D + 2, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .badva = D + 2, .ret = POISON));
    T(x_sw, D + 9, 0xabcdef01, F_BADVA, EXC(EXC_ADES, .badva = D + 9));
    T(x_sw, D + 10, 0xabcdef01, F_BADVA, EXC(EXC_ADES, .badva = D + 10));
    T(x_sh, D + 13, 0xabcdef01, F_BADVA, EXC(EXC_ADES, .badva = D + 13));
    check("memory untouched by faulting stores [2]", data[2], 0x33333333);
    check("memory untouched by faulting stores [3]", data[3], 0x44444444);
    T(x_lb_ok, D + 3, 0, F_RET, NONE(0x11));
    T(x_lwl_ok, D + 1, 0, F_RET,
      NONE(GUEST_BIG_ENDIAN ? 0x1111115a : 0x11115a5a));
    TR(x_jr_bad, 0, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .epc_rel = 2, .badva = (u32)x_jr_bad_x + 2, .ret = POISON));
    TR(x_jalr_bad, 0, 0, F_BADVA | F_RET,
       EXC(EXC_ADEL, .epc_rel = 2, .badva = (u32)x_jalr_bad_x + 2, .ret = (u32)x_jalr_bad_link));

    puts("-- reserved instruction");
    T(x_ri_op3b, 0, 0, F_RET, EXC(EXC_RI, .ret = POISON));
    T(x_ri_dadd, 1, 2, F_RET, EXC(EXC_RI, .ret = POISON));
    T(x_ri_ld, D, 0, F_RET, EXC(EXC_RI, .ret = POISON));
    T(x_ri_rdhwr6, 0, 0, F_RET, EXC(EXC_RI, .ret = POISON));
    T(x_ri_sp2, 0, 0, 0, EXC(EXC_RI));

    puts("-- breakpoint, syscall");
    T(x_break, 0, 0, 0, EXC(EXC_BP));
    T(x_break_code, 0, 0, 0, EXC(EXC_BP));
    T(x_syscall, 0, 0, 0, EXC(EXC_SYS));
    T(x_syscall_code, 0, 0, 0, EXC(EXC_SYS));

    puts("-- coprocessor unusable (Status.CU1=CU2=0)");
    T(x_cpu_mfc1, 0, 0, F_CE | F_RET, EXC(EXC_CPU, .ce = 1, .ret = POISON));
    T(x_cpu_lwc1, D, 0, F_CE, EXC(EXC_CPU, .ce = 1));
    T(x_cpu_swc1, D, 0, F_CE, EXC(EXC_CPU, .ce = 1));
    T(x_cpu_cfc1, 0, 0, F_CE | F_RET, EXC(EXC_CPU, .ce = 1, .ret = POISON));
    T(x_cpu_lwc2, D, 0, F_CE, EXC(EXC_CPU, .ce = 2));
    check("Status.CU1 still 0", (mfc0(12, 0) >> 29) & 1, 0);

    puts("-- exceptions in branch delay slots (BD=1, EPC=branch)");
    TR(x_bd_adel, D, 0, F_BADVA | F_RET, EXC(EXC_ADEL, .bd = 1, .epc_rel = -4, .badva = D + 1, .ret = POISON));
    TR(x_bd_break, 0, 0, 0, EXC(EXC_BP, .bd = 1, .epc_rel = -4));
    TR(x_bd_ov, 0x7fffffff, 0x7fffffff, F_RET, EXC(EXC_OV, .bd = 1, .epc_rel = -4, .ret = POISON));
    TR(x_bd_trap, 0, 0, 0, EXC(EXC_TR, .bd = 1, .epc_rel = -4));
    TR(x_bd_sys, 0, 0, 0, EXC(EXC_SYS, .bd = 1, .epc_rel = -4));
    TR(x_bd_ri, 0, 0, 0, EXC(EXC_RI, .bd = 1, .epc_rel = -4));
    TR(x_bd_cpu, 0, 0, F_CE, EXC(EXC_CPU, .bd = 1, .epc_rel = -4, .ce = 1));
    TR(x_bdl_taken, D, 0x99, F_BADVA | F_RET, EXC(EXC_ADES, .bd = 1, .epc_rel = -4, .badva = D + 1, .ret = POISON));
    T(x_bdl_nt, 1, 0, F_RET, NONE(0x600d));
    TR(x_bd_nt, 0, 0, 0, EXC(EXC_TR, .bd = 1, .epc_rel = -4));
    TR(x_bd_jr, 0, 0, 0, EXC(EXC_SYS, .bd = 1, .epc_rel = -4));
    TR(x_bd_jal, 0, 0, F_RET, EXC(EXC_BP, .bd = 1, .epc_rel = -4, .ret = (u32)x_bd_jal_link));
    TR(x_bd_bltzal, 1, 0, 0, EXC(EXC_TR, .bd = 1, .epc_rel = -4));
    TR(x_bd_page, 0, 0, F_RET, EXC(EXC_BP, .bd = 1, .epc_rel = -4, .ret = POISON));

    puts("-- EXL and eret");
    check("eret with EXL=0 jumps to EPC, no delay slot", x_eret_plain(), 1);
    {
        u32 before, after;
        before = x_eret_exl();
        __asm__ __volatile__("move %0, $3" : "=r"(after));
        check("Status with EXL set by mtc0", before, 0x10000002);
        check("Status after eret", after, 0x10000000);
    }
    /* Leave Cause.BD = 0 (non-BD syscall), then fault with EXL=1 in a slot. */
    T(x_syscall, 0, 0, 0, EXC(EXC_SYS));
    TR(x_nested_exl, 0, 0, F_RET, EXC(EXC_SYS, .bd = 0, .epc_rel = 8, .ret = POISON));
    check("EPC after eret (last resume address)", mfc0(14, 0) - (u32)x_nested_exl_r, 0);

    exc_hook = 0;
    return summary("exceptions");
}
