//! Scheduling, identity and limits: the `sched_*` calls (policies,
//! priorities, affinity, the round-robin interval), `getcpu`, `nice`, the
//! `set*uid`/`set*gid` pairs and triples, `setgroups`, resource limits,
//! capabilities, `personality`, `unshare` and `membarrier`, on the host's.
//!
//! Every green thread is the one host thread, so a guest thread id given
//! as a process here names the host process ([`Process::host_pid`]).
//! MIPS numbers the resource limits its own way, and the 32-bit
//! `getrlimit`/`setrlimit` say "unlimited" as 0x7fffffff.

use super::syscalls::check;
use super::*;

/// The o32 `RLIM_INFINITY` of the 32-bit calls.
const RLIM32_INFINITY: u32 = 0x7fff_ffff;
const RLIMIT_DATA: u32 = 2;
const RLIMIT_STACK: u32 = 3;
const RLIMIT_AS: u32 = 6;
/// `_LINUX_CAPABILITY_VERSION_1`: one 32-bit set of each kind (later
/// versions have two).
const CAPABILITY_VERSION_1: u32 = 0x1998_0330;

/// The host's number of MIPS resource limit `r`.
fn host_resource(r: u32) -> Option<i32> {
    Some(match r {
        0..=4 | 10..=15 => r as i32,
        5 => libc::RLIMIT_NOFILE as i32,
        6 => libc::RLIMIT_AS as i32,
        7 => libc::RLIMIT_RSS as i32,
        8 => libc::RLIMIT_NPROC as i32,
        9 => libc::RLIMIT_MEMLOCK as i32,
        _ => return None,
    })
}

/// A 32-bit limit as the host's (0x7fffffff and above: unlimited).
fn rlim_from32(v: u32) -> u64 {
    if v >= RLIM32_INFINITY { libc::RLIM_INFINITY } else { v as u64 }
}

/// A host limit as a 32-bit one (too big: unlimited).
fn rlim_to32(v: u64) -> u32 {
    v.min(RLIM32_INFINITY as u64) as u32
}

impl Process {
    /// The scheduling, identity and limit calls; `None` when `nr` is not one.
    pub(super) fn sched_syscall(&mut self, nr: u32, a: [u32; 4]) -> Option<SysResult> {
        const CALLS: [u32; 32] = [
            4034, 4070, 4071, 4075, 4076, 4081, 4124, 4136, 4138, 4139, 4158, 4159, 4160, 4161, 4163, 4164, 4165, 4185,
            4190, 4192, 4204, 4205, 4239, 4303, 4312, 4314, 4315, 4338, 4341, 4358, 4405, 4423,
        ];
        CALLS.contains(&nr).then(|| self.sched_call(nr, a))
    }

    fn sched_call(&mut self, nr: u32, a: [u32; 4]) -> SysResult {
        let int = |v: u32| v as i32;
        match nr {
            4158 | 4160 => {
                let param =
                    libc::sched_param { sched_priority: self.read_u32(a[if nr == 4158 { 1 } else { 2 }])? as i32 };
                let pid = self.host_pid(a[0]);
                // SAFETY: `param` is a valid sched_param, only read.
                check(unsafe {
                    if nr == 4158 {
                        libc::sched_setparam(pid, &param)
                    } else {
                        libc::sched_setscheduler(pid, int(a[1]), &param)
                    }
                } as i64)
            }
            4159 => {
                let mut param = libc::sched_param { sched_priority: 0 };
                // SAFETY: `param` is a valid sched_param to fill.
                check(unsafe { libc::sched_getparam(self.host_pid(a[0]), &mut param) } as i64)?;
                self.write_u32(a[1], param.sched_priority as u32)?;
                Ok(0)
            }
            // SAFETY: a host call with integer arguments only.
            4161 => check(unsafe { libc::sched_getscheduler(self.host_pid(a[0])) } as i64),
            // SAFETY: a host call with integer arguments only.
            4163 => check(unsafe { libc::sched_get_priority_max(int(a[0])) } as i64),
            // SAFETY: a host call with integer arguments only.
            4164 => check(unsafe { libc::sched_get_priority_min(int(a[0])) } as i64),
            4165 | 4423 => {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: `ts` is a valid timespec to fill.
                check(unsafe { libc::sched_rr_get_interval(self.host_pid(a[0]), &mut ts) } as i64)?;
                self.write_timespec(a[1], ts, nr == 4423)?;
                Ok(0)
            }
            4239 => {
                // The mask's bytes read the same in 32- and 64-bit words.
                let mut mask = self.read_mem(a[2], a[1].min(1024) as usize)?;
                mask.resize(mask.len().next_multiple_of(8), 0);
                // SAFETY: `mask` holds the `len` bytes the host reads.
                check(unsafe {
                    libc::syscall(libc::SYS_sched_setaffinity, self.host_pid(a[0]), mask.len(), mask.as_ptr())
                })
            }
            4312 => {
                let (mut cpu, mut node) = (0u32, 0u32);
                // SAFETY: `cpu` and `node` are valid to fill.
                check(unsafe { libc::syscall(libc::SYS_getcpu, &mut cpu, &mut node, 0usize) })?;
                for (at, v) in [(a[0], cpu), (a[1], node)] {
                    if at != 0 {
                        self.write_u32(at, v)?;
                    }
                }
                Ok(0)
            }
            4034 => self.nice(int(a[0])),
            // SAFETY: a host call with integer arguments only.
            4070 => check(unsafe { libc::syscall(libc::SYS_setreuid, a[0], a[1]) }),
            // SAFETY: a host call with integer arguments only.
            4071 => check(unsafe { libc::syscall(libc::SYS_setregid, a[0], a[1]) }),
            // SAFETY: a host call with integer arguments only.
            4185 => check(unsafe { libc::syscall(libc::SYS_setresuid, a[0], a[1], a[2]) }),
            // SAFETY: a host call with integer arguments only.
            4190 => check(unsafe { libc::syscall(libc::SYS_setresgid, a[0], a[1], a[2]) }),
            4081 => {
                if a[0] > 65536 {
                    return Err(EINVAL);
                }
                let b = self.read_mem(a[1], 4 * a[0] as usize)?;
                let gids: Vec<libc::gid_t> =
                    b.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect();
                // SAFETY: `gids` holds the `a[0]` ids the host reads.
                check(unsafe { libc::syscall(libc::SYS_setgroups, gids.len(), gids.as_ptr()) })
            }
            4075 => {
                let (cur, max) = (self.read_u32(a[1])?, self.read_u32(a[1].wrapping_add(4))?);
                self.set_rlimit(0, a[0], rlim_from32(cur), rlim_from32(max))
            }
            4076 => {
                let (cur, max) = self.get_rlimit(0, a[0])?;
                self.write_u32(a[1], rlim_to32(cur))?;
                self.write_u32(a[1].wrapping_add(4), rlim_to32(max))?;
                Ok(0)
            }
            4338 => self.prlimit64(a),
            4204 | 4205 => self.capability(nr == 4205, a[0], a[1]),
            4192 => self.prctl(a),
            // SAFETY: a host call with integer arguments only.
            4136 => check(unsafe { libc::personality(a[0] as libc::c_ulong) } as i64),
            // SAFETY: a host call with integer arguments only.
            4303 => check(unsafe { libc::unshare(int(a[0])) } as i64),
            // SAFETY: a host call with integer arguments only.
            4358 => check(unsafe { libc::syscall(libc::SYS_membarrier, int(a[0]), a[1], int(a[2])) }),
            // ioprio_set(which, who, ioprio) and ioprio_get(which, who); a
            // process (which 1) by its host id.
            4314 | 4315 => {
                let who = if a[0] == 1 { self.host_pid(a[1]) } else { int(a[1]) };
                // SAFETY: a host call with integer arguments only.
                check(unsafe {
                    match nr {
                        4314 => libc::syscall(libc::SYS_ioprio_set, int(a[0]), who, int(a[2])),
                        _ => libc::syscall(libc::SYS_ioprio_get, int(a[0]), who),
                    }
                })
            }
            // setfsuid and setfsgid answer the previous id, never an error.
            // The host's is per thread; mipsjit runs a process's threads on
            // one host thread, so they share it.
            // SAFETY: host calls with integer arguments only.
            4138 => Ok(unsafe { libc::setfsuid(a[0]) } as u32),
            // SAFETY: as above.
            4139 => Ok(unsafe { libc::setfsgid(a[0]) } as u32),
            4124 => self.clock_adjtime(libc::CLOCK_REALTIME, a[0], false),
            4341 => self.clock_adjtime(int(a[0]), a[1], false),
            4405 => self.clock_adjtime(int(a[0]), a[1], true),
            _ => Err(ENOSYS),
        }
    }

    /// `clock_adjtime(clock, buf)` (`adjtimex(buf)`: the realtime clock).
    /// With `time64` `buf` is the kernel's `struct __kernel_timex`, which
    /// is what the x86-64 host takes as it is; else o32's `struct timex`,
    /// each of its 21 fields (`time` two of them) one word, then 11 words
    /// of padding. As under qemu-mipsel, a guest with the right to may set
    /// the host's clock.
    fn clock_adjtime(&mut self, clock: i32, buf: u32, time64: bool) -> SysResult {
        /// Where o32's fields sit in `struct __kernel_timex`, and whether
        /// each is 64-bit there (the four `int`s are not).
        const FIELDS: [(usize, bool); 21] = [
            (0, false),
            (8, true),
            (16, true),
            (24, true),
            (32, true),
            (40, false),
            (48, true),
            (56, true),
            (64, true),
            (72, true),
            (80, true),
            (88, true),
            (96, true),
            (104, true),
            (112, false),
            (120, true),
            (128, true),
            (136, true),
            (144, true),
            (152, true),
            (160, false),
        ];
        const SIZE: usize = 208;
        let mut k = [0u8; SIZE];
        if time64 {
            k.copy_from_slice(&self.read_mem(buf, SIZE)?);
        } else {
            let b = self.read_mem(buf, 4 * FIELDS.len())?;
            for (w, &(at, wide)) in b.chunks_exact(4).zip(&FIELDS) {
                let v = i32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                if wide {
                    k[at..at + 8].copy_from_slice(&(v as i64).to_le_bytes());
                } else {
                    k[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        // SAFETY: `k` is a writable `struct __kernel_timex` of SIZE bytes.
        let state = check(unsafe { libc::syscall(libc::SYS_clock_adjtime, clock, k.as_mut_ptr()) })?;
        if time64 {
            self.write_mem(buf, &k)?;
        } else {
            // Each field truncated to its o32 word, as Linux's compat copy.
            let b: Vec<u8> = FIELDS.iter().flat_map(|&(at, _)| [k[at], k[at + 1], k[at + 2], k[at + 3]]).collect();
            self.write_mem(buf, &b)?;
        }
        Ok(state)
    }

    /// The host process id for guest process (or thread) id `pid`: one of
    /// this process's threads is the host process itself.
    pub(super) fn host_pid(&self, pid: u32) -> i32 {
        if pid != 0 && self.threads.is_ours(pid) { 0 } else { pid as i32 }
    }

    /// `prctl(option, arg2, ..)`: the options with integer arguments or
    /// results that concern only this process go to the host; the name
    /// (16 bytes) and the parent-death signal (a MIPS number) are
    /// translated; the FPU mode (MIPS's own options) is Status.FR. Options
    /// that would bind mipsjit itself (seccomp filters, the memory map)
    /// and unknown ones are EINVAL.
    fn prctl(&mut self, a: [u32; 4]) -> SysResult {
        const PR_SET_PDEATHSIG: u32 = 1;
        const PR_GET_PDEATHSIG: u32 = 2;
        const PR_SET_NAME: u32 = 15;
        const PR_GET_NAME: u32 = 16;
        const PR_GET_SECCOMP: u32 = 21;
        const PR_SET_FP_MODE: u32 = 45;
        const PR_GET_FP_MODE: u32 = 46;
        /// PR_FP_MODE_FR: 64-bit FP registers.
        const FP_MODE_FR: u32 = 1;
        // Options with integer arguments and results only: dumpable,
        // keepcaps, the capability bounding set, timer slack, setting the
        // child subreaper, no_new_privs, transparent huge pages, the
        // ptracer.
        const INT_OPTIONS: [u32; 14] = [3, 4, 7, 8, 23, 24, 29, 30, 36, 38, 39, 41, 42, 0x5961_6d61];
        let (option, arg) = (a[0], a[1]);
        match option {
            PR_SET_PDEATHSIG => {
                let sig = if arg == 0 { 0 } else { signal::host_sig(arg).ok_or(EINVAL)? };
                // SAFETY: a host call with integer arguments only.
                check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) } as i64)
            }
            PR_GET_PDEATHSIG => {
                let mut h: i32 = 0;
                // SAFETY: `h` is an int for the host to fill.
                check(unsafe { libc::prctl(libc::PR_GET_PDEATHSIG, &mut h as *mut i32) } as i64)?;
                let g = if h == 0 { 0 } else { signal::guest_sig(h).unwrap_or(0) };
                self.write_u32(arg, g)?;
                Ok(0)
            }
            PR_SET_NAME => {
                // At most 15 bytes, up to a NUL, as `strncpy_from_user`.
                let mut name = [0u8; 16];
                for (i, b) in name.iter_mut().take(15).enumerate() {
                    *b = self.read_mem(arg.wrapping_add(i as u32), 1)?[0];
                    if *b == 0 {
                        break;
                    }
                }
                // SAFETY: `name` is 16 bytes, NUL-terminated.
                check(unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) } as i64)
            }
            PR_GET_NAME => {
                let mut name = [0u8; 16];
                // SAFETY: `name` has room for the 16 bytes the host writes.
                check(unsafe { libc::prctl(libc::PR_GET_NAME, name.as_mut_ptr()) } as i64)?;
                self.write_mem(arg, &name)?;
                Ok(0)
            }
            // The guest installs no filter (mipsjit's system calls are not
            // its own), so it runs without: 0.
            PR_GET_SECCOMP => Ok(0),
            PR_GET_FP_MODE => Ok((self.machine.cpu.cp0.status & status::FR != 0) as u32 * FP_MODE_FR),
            PR_SET_FP_MODE => {
                // Unknown bits, and FRE (which the 24Kf lacks), are
                // EOPNOTSUPP as in Linux's `mips_set_process_fp_mode`.
                if arg & !FP_MODE_FR != 0 {
                    return Err(mips_errno(libc::EOPNOTSUPP));
                }
                let st = &mut self.machine.cpu.cp0.status;
                *st = if arg & FP_MODE_FR != 0 { *st | status::FR } else { *st & !status::FR };
                Ok(0)
            }
            o if INT_OPTIONS.contains(&o) => {
                let [x, y, z] = [a[1], a[2], a[3]].map(|v| v as libc::c_ulong);
                // SAFETY: a host call with integer arguments only.
                check(unsafe { libc::prctl(o as i32, x, y, z, 0 as libc::c_ulong) } as i64)
            }
            // PR_GET_CHILD_SUBREAPER: an int out.
            37 => {
                let mut out: i32 = 0;
                // SAFETY: `out` is an int for the host to fill.
                check(unsafe { libc::prctl(37, &mut out as *mut i32) } as i64)?;
                self.write_u32(arg, out as u32)?;
                Ok(0)
            }
            _ => Err(EINVAL),
        }
    }

    /// `nice(inc)`: 0, or EPERM where raising the priority is not allowed.
    fn nice(&mut self, inc: i32) -> SysResult {
        // The raw call answers 20 - nice, never negative.
        // SAFETY: a host call with integer arguments only.
        let raw = check(unsafe { libc::syscall(libc::SYS_getpriority, libc::PRIO_PROCESS, 0) })?;
        let new = (20 - raw as i32 + inc.clamp(-40, 40)).clamp(-20, 19);
        // SAFETY: a host call with integer arguments only.
        match check(unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, new) } as i64) {
            Err(e) if e == mips_errno(libc::EACCES) => Err(mips_errno(libc::EPERM)),
            r => r,
        }
    }

    /// Resource limit `res` (MIPS numbering) of process `pid`.
    fn get_rlimit(&self, pid: u32, res: u32) -> Result<(u64, u64), i32> {
        let r = host_resource(res).ok_or(EINVAL)?;
        let mut old = libc::rlimit64 { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `old` is a valid rlimit to fill; nothing is set.
        check(unsafe { libc::syscall(libc::SYS_prlimit64, self.host_pid(pid), r, 0usize, &mut old) })?;
        // The guest's stack is the size mipsjit gave it.
        if res == RLIMIT_STACK && self.host_pid(pid) == 0 {
            old.rlim_cur = old.rlim_cur.min(STACK_SIZE as u64);
        }
        Ok((old.rlim_cur, old.rlim_max))
    }

    /// Sets resource limit `res` of process `pid`. This process's address
    /// space, data and stack limits are taken and not applied, as
    /// qemu-mipsel does: they would bound mipsjit's own memory (its code
    /// cache, the guest's), not the guest's.
    fn set_rlimit(&mut self, pid: u32, res: u32, cur: u64, max: u64) -> SysResult {
        let r = host_resource(res).ok_or(EINVAL)?;
        if cur > max {
            return Err(EINVAL);
        }
        if self.host_pid(pid) == 0 && matches!(res, RLIMIT_AS | RLIMIT_DATA | RLIMIT_STACK) {
            return Ok(0);
        }
        let new = libc::rlimit64 { rlim_cur: cur, rlim_max: max };
        // SAFETY: `new` is a valid rlimit, only read.
        check(unsafe { libc::syscall(libc::SYS_prlimit64, self.host_pid(pid), r, &new, 0usize) })
    }

    /// `prlimit64(pid, resource, new, old)`: 64-bit limits (all ones is
    /// unlimited, as on the host).
    fn prlimit64(&mut self, a: [u32; 4]) -> SysResult {
        let old = self.get_rlimit(a[0], a[1])?;
        if a[2] != 0 {
            let b = self.read_mem(a[2], 16)?;
            let word = |i: usize| {
                u64::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]])
            };
            self.set_rlimit(a[0], a[1], word(0), word(8))?;
        }
        if a[3] != 0 {
            let mut b = old.0.to_le_bytes().to_vec();
            b.extend(old.1.to_le_bytes());
            self.write_mem(a[3], &b)?;
        }
        Ok(0)
    }

    /// `capget(header, data)` (`set`: `capset`): the structures are 32-bit
    /// words on both sides; version 1 has one set of each kind, later
    /// versions two.
    fn capability(&mut self, set: bool, header: u32, data: u32) -> SysResult {
        let mut hdr = [self.read_u32(header)?, self.read_u32(header.wrapping_add(4))?];
        hdr[1] = self.host_pid(hdr[1]) as u32;
        let words = if hdr[0] == CAPABILITY_VERSION_1 { 3 } else { 6 };
        let mut buf = [0u32; 6];
        if set {
            let b = self.read_mem(data, 4 * words)?;
            for (w, c) in buf.iter_mut().zip(b.chunks_exact(4)) {
                *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        let nr = if set { libc::SYS_capset } else { libc::SYS_capget };
        let data_ptr = if data == 0 { std::ptr::null_mut() } else { buf.as_mut_ptr() };
        // SAFETY: `hdr` and `buf` have room for what the host reads and
        // writes (a header, and at most two sets of three words).
        let r = unsafe { libc::syscall(nr, hdr.as_mut_ptr(), data_ptr) };
        let e = if r < 0 { std::io::Error::last_os_error().raw_os_error() } else { None };
        // The host writes its preferred version into a header it refuses.
        self.write_u32(header, hdr[0])?;
        if let Some(e) = e {
            return Err(mips_errno(e));
        }
        if !set && data != 0 {
            let b: Vec<u8> = buf[..words].iter().flat_map(|w| w.to_le_bytes()).collect();
            self.write_mem(data, &b)?;
        }
        Ok(0)
    }
}
