//! Register and condition names, as `mipsel-linux-gnu-objdump` (binutils
//! 2.40, `-m mips:isa32r2`) prints them. The CP0 and FCR tables were read
//! off objdump's output for every register number, not typed from the
//! manual, because objdump names only some of them.

/// GPR names (o32 ABI); objdump calls `$30` `s8`, not `fp`.
pub(super) const GPR: [&str; 32] = [
    "zero", "at", "v0", "v1", "a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "s0", "s1", "s2",
    "s3", "s4", "s5", "s6", "s7", "t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra",
];

/// CP0 register names for select 0; objdump has no name for 21 and 22.
const CP0: [&str; 32] = [
    "c0_index",
    "c0_random",
    "c0_entrylo0",
    "c0_entrylo1",
    "c0_context",
    "c0_pagemask",
    "c0_wired",
    "c0_hwrena",
    "c0_badvaddr",
    "c0_count",
    "c0_entryhi",
    "c0_compare",
    "c0_status",
    "c0_cause",
    "c0_epc",
    "c0_prid",
    "c0_config",
    "c0_lladdr",
    "c0_watchlo",
    "c0_watchhi",
    "c0_xcontext",
    "$21",
    "$22",
    "c0_debug",
    "c0_depc",
    "c0_perfcnt",
    "c0_errctl",
    "c0_cacheerr",
    "c0_taglo",
    "c0_taghi",
    "c0_errorepc",
    "c0_desave",
];

/// CP0 names for select 1..=7, as `(register, select, name)`; objdump
/// prints any other pair as `$reg,sel`.
const CP0_SELECT: &[(u8, u8, &str)] = &[
    (0, 1, "c0_mvpcontrol"),
    (0, 2, "c0_mvpconf0"),
    (0, 3, "c0_mvpconf1"),
    (1, 1, "c0_vpecontrol"),
    (1, 2, "c0_vpeconf0"),
    (1, 3, "c0_vpeconf1"),
    (1, 4, "c0_yqmask"),
    (1, 5, "c0_vpeschedule"),
    (1, 6, "c0_vpeschefback"),
    (2, 1, "c0_tcstatus"),
    (2, 2, "c0_tcbind"),
    (2, 3, "c0_tcrestart"),
    (2, 4, "c0_tchalt"),
    (2, 5, "c0_tccontext"),
    (2, 6, "c0_tcschedule"),
    (2, 7, "c0_tcschefback"),
    (4, 1, "c0_contextconfig"),
    (5, 1, "c0_pagegrain"),
    (6, 1, "c0_srsconf0"),
    (6, 2, "c0_srsconf1"),
    (6, 3, "c0_srsconf2"),
    (6, 4, "c0_srsconf3"),
    (6, 5, "c0_srsconf4"),
    (12, 1, "c0_intctl"),
    (12, 2, "c0_srsctl"),
    (12, 3, "c0_srsmap"),
    (15, 1, "c0_ebase"),
    (16, 1, "c0_config1"),
    (16, 2, "c0_config2"),
    (16, 3, "c0_config3"),
    (18, 1, "c0_watchlo,1"),
    (18, 2, "c0_watchlo,2"),
    (18, 3, "c0_watchlo,3"),
    (18, 4, "c0_watchlo,4"),
    (18, 5, "c0_watchlo,5"),
    (18, 6, "c0_watchlo,6"),
    (18, 7, "c0_watchlo,7"),
    (19, 1, "c0_watchhi,1"),
    (19, 2, "c0_watchhi,2"),
    (19, 3, "c0_watchhi,3"),
    (19, 4, "c0_watchhi,4"),
    (19, 5, "c0_watchhi,5"),
    (19, 6, "c0_watchhi,6"),
    (19, 7, "c0_watchhi,7"),
    (23, 1, "c0_tracecontrol"),
    (23, 2, "c0_tracecontrol2"),
    (23, 3, "c0_usertracedata"),
    (23, 4, "c0_tracebpc"),
    (25, 1, "c0_perfcnt,1"),
    (25, 2, "c0_perfcnt,2"),
    (25, 3, "c0_perfcnt,3"),
    (25, 4, "c0_perfcnt,4"),
    (25, 5, "c0_perfcnt,5"),
    (25, 6, "c0_perfcnt,6"),
    (25, 7, "c0_perfcnt,7"),
    (27, 1, "c0_cacheerr,1"),
    (27, 2, "c0_cacheerr,2"),
    (27, 3, "c0_cacheerr,3"),
    (28, 1, "c0_datalo"),
    (28, 2, "c0_taglo1"),
    (28, 3, "c0_datalo1"),
    (28, 4, "c0_taglo2"),
    (28, 5, "c0_datalo2"),
    (28, 6, "c0_taglo3"),
    (28, 7, "c0_datalo3"),
    (29, 1, "c0_datahi"),
    (29, 2, "c0_taghi1"),
    (29, 3, "c0_datahi1"),
    (29, 4, "c0_taghi2"),
    (29, 5, "c0_datahi2"),
    (29, 6, "c0_taghi3"),
    (29, 7, "c0_datahi3"),
];

/// The name objdump gives CP0 register `reg`, select `sel`, or `None`
/// when it prints the pair as numbers.
pub(super) fn cp0(reg: usize, sel: u32) -> Option<&'static str> {
    if sel == 0 {
        return Some(CP0[reg]);
    }
    CP0_SELECT.iter().find(|&&(r, s, _)| usize::from(r) == reg && u32::from(s) == sel).map(|&(_, _, name)| name)
}

/// The name of FPU control register `reg` (cfc1/ctc1), if objdump has one.
pub(super) fn fcr(reg: usize) -> Option<&'static str> {
    Some(match reg {
        0 => "c1_fir",
        1 => "c1_ufr",
        4 => "c1_unfr",
        25 => "c1_fccr",
        26 => "c1_fexr",
        28 => "c1_fenr",
        31 => "c1_fcsr",
        _ => return None,
    })
}

/// The name of hardware register `reg` (rdhwr), if objdump has one.
pub(super) fn hwr(reg: usize) -> Option<&'static str> {
    ["hwr_cpunum", "hwr_synci_step", "hwr_cc", "hwr_ccres"].get(reg).copied()
}

/// The conditions of c.cond.fmt, by the `cond` field (bits 3:0).
pub(super) const FP_COND: [&str; 16] =
    ["f", "un", "eq", "ueq", "olt", "ult", "ole", "ule", "sf", "ngle", "seq", "ngl", "lt", "nge", "le", "ngt"];
