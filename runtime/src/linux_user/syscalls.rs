//! System calls: the guest's o32 calls translated to the host's.

use super::*;

/// Host errno → MIPS errno (the two differ from 35 on).
pub(super) fn mips_errno(e: i32) -> i32 {
    match e {
        libc::EDEADLK => 45,
        libc::ENAMETOOLONG => 78,
        libc::ENOLCK => 46,
        libc::ENOSYS => 89,
        libc::ENOTEMPTY => 93,
        libc::ELOOP => 90,
        libc::ENOMSG => 35,
        libc::EIDRM => 36,
        libc::EOVERFLOW => 79,
        libc::EILSEQ => 88,
        libc::ENOTSOCK => 95,
        libc::EDESTADDRREQ => 96,
        libc::EMSGSIZE => 97,
        libc::EPROTOTYPE => 98,
        libc::ENOPROTOOPT => 99,
        libc::EPROTONOSUPPORT => 120,
        libc::ESOCKTNOSUPPORT => 121,
        libc::EPFNOSUPPORT => 123,
        libc::EADDRNOTAVAIL => 126,
        libc::ENETDOWN => 127,
        libc::ENETUNREACH => 128,
        libc::ENETRESET => 129,
        libc::ECONNABORTED => 130,
        libc::ENOBUFS => 132,
        libc::EISCONN => 133,
        libc::ESHUTDOWN => 143,
        libc::ETOOMANYREFS => 144,
        libc::EHOSTDOWN => 147,
        libc::EHOSTUNREACH => 148,
        libc::EOPNOTSUPP => 122,
        libc::EAFNOSUPPORT => 124,
        libc::EADDRINUSE => 125,
        libc::ECONNRESET => 131,
        libc::ENOTCONN => 134,
        libc::ETIMEDOUT => 145,
        libc::ECONNREFUSED => 146,
        libc::EALREADY => 149,
        libc::EINPROGRESS => 150,
        libc::ESTALE => 151,
        libc::ECANCELED => 158,
        libc::EDQUOT => 1133,
        e => e,
    }
}

fn host_errno() -> i32 {
    mips_errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
}

/// A host call's return value as a guest result.
pub(super) fn check(r: i64) -> SysResult {
    if r < 0 { Err(host_errno()) } else { Ok(r as u32) }
}

/// MIPS open flags → host (x86/generic) open flags.
pub(super) fn open_flags(f: u32) -> i32 {
    let map = [
        (0x0008, libc::O_APPEND),
        (0x0010, libc::O_DSYNC),
        (0x0080, libc::O_NONBLOCK),
        (0x0100, libc::O_CREAT),
        (0x0200, libc::O_TRUNC),
        (0x0400, libc::O_EXCL),
        (0x0800, libc::O_NOCTTY),
        (0x4000, libc::O_SYNC),
        (0x8000, libc::O_DIRECT),
        (0x1_0000, libc::O_DIRECTORY),
        (0x2_0000, libc::O_NOFOLLOW),
        (0x4_0000, libc::O_NOATIME),
        (0x8_0000, libc::O_CLOEXEC),
        (0x20_0000, libc::O_PATH),
    ];
    map.iter().filter(|(m, _)| f & m != 0).fold((f & 3) as i32, |a, (_, h)| a | h)
}

/// Host open flags → MIPS (for F_GETFL).
pub(super) fn guest_open_flags(h: i32) -> u32 {
    let map = [
        (0x0008, libc::O_APPEND),
        (0x0080, libc::O_NONBLOCK),
        (0x8000, libc::O_DIRECT),
        (0x1_0000, libc::O_DIRECTORY),
        (0x2_0000, libc::O_NOFOLLOW),
        (0x4_0000, libc::O_NOATIME),
        (0x2000, libc::O_LARGEFILE),
    ];
    map.iter().filter(|(_, m)| h & m != 0).fold((h & 3) as u32, |a, (g, _)| a | g)
}

/// A guest `dirfd` argument (AT_FDCWD is -100 on both).
fn dirfd(v: u32) -> i32 {
    v as i32
}

impl Process {
    /// The o32 system-call argument `5 + i` (the fifth, sixth, seventh),
    /// which the caller leaves on its stack, above the 16 bytes it reserves
    /// for the four in registers.
    pub(super) fn stack_arg(&self, i: u32) -> Result<u32, i32> {
        self.read_u32(self.machine.cpu.s.gpr[29].wrapping_add(16 + 4 * i))
    }

    /// Handles the `syscall` at `pc`; returns the exit status if the guest exited.
    pub(super) fn syscall(&mut self, pc: u32) -> Option<u8> {
        let g = self.machine.cpu.s.gpr;
        let nr = g[2];
        let a = [g[4], g[5], g[6], g[7]];
        let r = match nr {
            4001 => return self.exit_thread(a[0]),
            4246 => return Some(a[0] as u8),
            // The registers come from the signal frame, not a result.
            4119 | 4193 => return self.sigreturn(nr == 4193),
            4042 => {
                // pipe: the two descriptors come back in v0 and v1.
                let mut fds = [0i32; 2];
                // SAFETY: `fds` is an array of two ints.
                match check(unsafe { libc::pipe(fds.as_mut_ptr()) } as i64) {
                    Ok(_) => {
                        self.machine.cpu.s.gpr[3] = fds[1] as u32;
                        Ok(fds[0] as u32)
                    }
                    Err(e) => Err(e),
                }
            }
            _ => {
                let a5 = [0, 1].map(|i| self.stack_arg(i).unwrap_or(0));
                self.dispatch(nr, a, a5)
            }
        };
        // A call that blocks its thread while others run: again later.
        if r == Err(threads::RETRY) {
            self.machine.cpu.s.pc = pc;
            return None;
        }
        self.threads.call_done();
        // Interrupted by a signal: run the call again after the handler
        // (or at once if no handler runs), unless the handler says not to.
        if r == Err(libc::EINTR) && self.should_restart(nr) {
            self.machine.cpu.s.pc = pc;
            return None;
        }
        let cpu = &mut self.machine.cpu;
        match r {
            Ok(v) => {
                cpu.s.gpr[2] = v;
                cpu.s.gpr[7] = 0;
            }
            Err(e) => {
                cpu.s.gpr[2] = e as u32;
                cpu.s.gpr[7] = 1;
            }
        }
        cpu.s.pc = pc.wrapping_add(4);
        None
    }

    fn dispatch(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let r = self.dispatch_call(nr, a, a5);
        // The call may have sent or taken signals, or seen host ones
        // arrive (waits sync as they go: see `guest_wait`).
        self.sync_signalfds();
        r
    }

    fn dispatch_call(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        if let Some(w) = self.would_block(nr, a) {
            self.threads.block(w);
            return Err(threads::RETRY);
        }
        if let Some(r) = self
            .signal_syscall(nr, a)
            .or_else(|| self.process_syscall(nr, a, a5))
            .or_else(|| self.select_syscall(nr, a, a5))
            .or_else(|| self.fs_syscall(nr, a, a5))
            .or_else(|| self.net_syscall(nr, a, a5))
            .or_else(|| self.events_syscall(nr, a, a5))
            .or_else(|| self.ipc_syscall(nr, a, a5))
            .or_else(|| self.sched_syscall(nr, a))
            .or_else(|| self.fileio_syscall(nr, a, a5))
            .or_else(|| self.timer_syscall(nr, a))
            .or_else(|| self.mq_syscall(nr, a, a5))
        {
            return r;
        }
        match nr {
            // cacheflush(addr, bytes, cache): code written there is stale.
            4147 => {
                let end = a[0].checked_add(a[1]).filter(|&e| (e as u64) <= MEM_SIZE).ok_or(EFAULT)?;
                if a[1] != 0 {
                    self.machine.cpu.code_written(a[0] >> 12, (end - 1) >> 12);
                }
                Ok(0)
            }
            4003 => match self.signalfd_mask(a[0]) {
                Some(mask) => self.read_signalfd(a[0], mask, a[1], a[2]),
                None => self.read(a[0], a[1], a[2]),
            },
            4004 => self.write(a[0], a[1], a[2]),
            4005 => self.openat(libc::AT_FDCWD, a[0], a[1], a[2]),
            4288 => self.openat(dirfd(a[0]), a[1], a[2], a[3]),
            4006 => {
                self.forget_signalfd(a[0]);
                // SAFETY: a host call with integer arguments only.
                check(unsafe { libc::close(a[0] as i32) } as i64)
            }
            4317 => self.signalfd(a[0], a[1], a[2], 0),
            4324 => self.signalfd(a[0], a[1], a[2], a[3]),
            // SAFETY: `p` is the C string `path_call` read.
            4010 => self.path_call(a[0], |p| unsafe { libc::unlink(p) }),
            4294 => {
                let path = self.read_cstr(a[1])?;
                // SAFETY: `path` is a valid C string.
                check(unsafe { libc::unlinkat(dirfd(a[0]), path.as_ptr(), a[2] as i32) } as i64)
            }
            // SAFETY: `p` is the C string `path_call` read.
            4012 => self.path_call(a[0], |p| unsafe { libc::chdir(p) }),
            // SAFETY: `p` is the C string `path_call` read.
            4061 => self.path_call(a[0], |p| unsafe { libc::chroot(p) }),
            // sethostname, setdomainname(name, len): the host's (as root).
            4074 | 4121 => {
                if a[1] > 64 {
                    return Err(EINVAL);
                }
                let name = self.read_mem(a[0], a[1] as usize)?;
                // SAFETY: `name` holds the `len` bytes the host reads.
                check(unsafe {
                    if nr == 4074 {
                        libc::sethostname(name.as_ptr().cast(), name.len())
                    } else {
                        libc::setdomainname(name.as_ptr().cast(), name.len())
                    }
                } as i64)
            }
            4013 => {
                // SAFETY: time(NULL) has no pointer arguments.
                let t = unsafe { libc::time(std::ptr::null_mut()) } as u32;
                if a[0] != 0 {
                    self.write_u32(a[0], t)?;
                }
                Ok(t)
            }
            // SAFETY: a host call with integer arguments only.
            4019 => check(unsafe { libc::lseek(a[0] as i32, a[1] as i32 as i64, a[2] as i32) }),
            4140 => {
                let off = ((a[1] as u64) << 32 | a[2] as u64) as i64;
                // SAFETY: a host call with integer arguments only.
                let pos = unsafe { libc::lseek(a[0] as i32, off, a5[0] as i32) };
                if pos < 0 {
                    return Err(host_errno());
                }
                self.write_mem(a[3], &(pos as u64).to_le_bytes())?;
                Ok(0)
            }
            4020 => Ok(std::process::id()),
            4222 => Ok(self.threads.tid()),
            4238 => self.futex(a, a5, false),
            4422 => self.futex(a, a5, true),
            // sched_yield: the next thread's turn.
            4162 => {
                self.threads.block(threads::Wait::Ready);
                Ok(0)
            }
            // SAFETY: a host call with integer arguments only.
            4064 => Ok(unsafe { libc::getppid() } as u32),
            // SAFETY: a host call with integer arguments only.
            4024 => Ok(unsafe { libc::getuid() }),
            // SAFETY: a host call with integer arguments only.
            4049 => Ok(unsafe { libc::geteuid() }),
            // SAFETY: a host call with integer arguments only.
            4047 => Ok(unsafe { libc::getgid() }),
            // SAFETY: a host call with integer arguments only.
            4023 => check(unsafe { libc::setuid(a[0]) } as i64),
            // SAFETY: a host call with integer arguments only.
            4046 => check(unsafe { libc::setgid(a[0]) } as i64),
            // SAFETY: a host call with integer arguments only.
            4050 => Ok(unsafe { libc::getegid() }),
            // SAFETY: `p` is the C string `path_call` read.
            4033 => self.path_call(a[0], |p| unsafe { libc::access(p, a[1] as i32) }),
            4300 | 4439 => {
                let path = self.read_cstr(a[1])?;
                // SAFETY: `path` is a valid C string.
                check(unsafe { libc::faccessat(dirfd(a[0]), path.as_ptr(), a[2] as i32, 0) } as i64)
            }
            // SAFETY: `p` is the C string `path_call` read.
            4039 => self.path_call(a[0], |p| unsafe { libc::mkdir(p, a[1]) }),
            // SAFETY: `p` is the C string `path_call` read.
            4040 => self.path_call(a[0], |p| unsafe { libc::rmdir(p) }),
            4038 => {
                let (from, to) = (self.read_cstr(a[0])?, self.read_cstr(a[1])?);
                // SAFETY: valid C strings.
                check(unsafe { libc::rename(from.as_ptr(), to.as_ptr()) } as i64)
            }
            4041 => {
                // SAFETY: a host call with integer arguments only.
                let new = check(unsafe { libc::dup(a[0] as i32) } as i64)?;
                self.dup_signalfd(a[0], new);
                Ok(new)
            }
            // dup2 and dup3 close what `newfd` was (unless it is `oldfd`),
            // and it becomes what `oldfd` is.
            4063 | 4327 => {
                // SAFETY: host calls with integer arguments only.
                let r = check(unsafe {
                    match nr {
                        4063 => libc::dup2(a[0] as i32, a[1] as i32),
                        _ => libc::dup3(a[0] as i32, a[1] as i32, open_flags(a[2])),
                    }
                } as i64)?;
                self.dup_signalfd(a[0], a[1]);
                Ok(r)
            }
            4328 => {
                let mut fds = [0i32; 2];
                // SAFETY: `fds` is an array of two ints.
                check(unsafe { libc::pipe2(fds.as_mut_ptr(), open_flags(a[1])) } as i64)?;
                self.write_u32(a[0], fds[0] as u32)?;
                self.write_u32(a[0].wrapping_add(4), fds[1] as u32)?;
                Ok(0)
            }
            4045 => Ok(self.brk(a[0])),
            4054 => self.ioctl(a[0], a[1], a[2]),
            4055 | 4220 => self.fcntl(a[0], a[1], a[2], nr == 4220),
            // SAFETY: a host call with integer arguments only.
            4060 => Ok(unsafe { libc::umask(a[0]) }),
            4078 => {
                let mut tv = libc::timeval { tv_sec: 0, tv_usec: 0 };
                // SAFETY: `tv` is a valid timeval; no timezone.
                unsafe { libc::gettimeofday(&mut tv, std::ptr::null_mut()) };
                if a[0] != 0 {
                    self.write_u32(a[0], tv.tv_sec as u32)?;
                    self.write_u32(a[0].wrapping_add(4), tv.tv_usec as u32)?;
                }
                Ok(0)
            }
            4263 | 4403 => {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: `ts` is a valid timespec.
                check(unsafe { libc::clock_gettime(a[0] as i32, &mut ts) } as i64)?;
                self.write_timespec(a[1], ts, nr == 4403)?;
                Ok(0)
            }
            4264 | 4406 => {
                let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
                // SAFETY: `ts` is a valid timespec.
                check(unsafe { libc::clock_getres(a[0] as i32, &mut ts) } as i64)?;
                if a[1] != 0 {
                    self.write_timespec(a[1], ts, nr == 4406)?;
                }
                Ok(0)
            }
            4262 | 4404 => {
                // The host decides: a bad clock or time is EINVAL, a
                // process without CAP_SYS_TIME gets EPERM.
                let ts = self.read_timespec(a[1], nr == 4404)?;
                // SAFETY: `ts` is a valid timespec.
                check(unsafe { libc::syscall(libc::SYS_clock_settime, a[0] as i32, &ts) })
            }
            4085 => self.readlinkat(libc::AT_FDCWD, a[0], a[1], a[2]),
            4298 => self.readlinkat(dirfd(a[0]), a[1], a[2], a[3]),
            4090 | 4210 => {
                let off = if nr == 4210 { a5[1] as u64 * PAGE as u64 } else { a5[1] as u64 };
                self.mmap(a[0], a[1], a[2], a[3], a5[0] as i32, off)
            }
            4091 => self.munmap(a[0], a[1]),
            4144 => self.msync(a[0], a[1], a[2]),
            4125 => self.mprotect(a[0], a[1], a[2]),
            4167 => self.mremap(a[0], a[1], a[2], a[3], a5[0]),
            4218 => Ok(0), // madvise: advice only
            4154 => self.mlock(a[0], a[1], Some(0)),
            4155 => self.mlock(a[0], a[1], None),
            4359 => self.mlock(a[0], a[1], Some(a[2])),
            4156 => self.mlockall(a[0]),
            4157 => Ok(0),
            4217 => self.mincore(a[0], a[1], a[2]),
            4434 => {
                // A thread of this process is the host process; PIDFD_NONBLOCK
                // is O_NONBLOCK (MIPS's number).
                let pid = if a[0] != 0 && self.threads.is_ours(a[0]) { std::process::id() } else { a[0] };
                // SAFETY: a host call with integer arguments only.
                check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, open_flags(a[1])) })
            }
            4200 => self.pread64(a[0], a[1], a[2], (a5[1] as u64) << 32 | a5[0] as u64),
            4122 => self.uname(a[0]),
            4146 => self.writev(a[0], a[1], a[2]),
            4145 => self.readv(a[0], a[1], a[2], false),
            4106 | 4213 => self.fstatat(libc::AT_FDCWD, a[0], a[1], 0, nr == 4106),
            4107 | 4214 => self.fstatat(libc::AT_FDCWD, a[0], a[1], libc::AT_SYMLINK_NOFOLLOW, nr == 4107),
            4108 | 4215 => self.fstat(a[0], a[1]),
            4293 => self.fstatat(dirfd(a[0]), a[1], a[2], a[3] as i32, false),
            4366 => self.statx(a, a5[0]),
            4203 => self.getcwd(a[0], a[1]),
            4219 => self.getdents64(a[0], a[1], a[2]),
            4141 => self.getdents(a[0], a[1], a[2]),
            4252 => Ok(self.threads.set_clear_tid(a[0])),
            4283 => {
                self.machine.cpu.user_local = a[0];
                Ok(0)
            }
            4353 => {
                let len = a[1].min(1 << 20) as usize;
                let mut buf = vec![0u8; len];
                // SAFETY: `buf` is a writable buffer of `len` bytes.
                let n = check(unsafe { libc::getrandom(buf.as_mut_ptr().cast(), len, 0) } as i64)?;
                self.write_mem(a[0], &buf[..n as usize])?;
                Ok(n)
            }
            4080 => self.getgroups(a[0], a[1]),
            // set_robust_list, rseq: glibc copes without them.
            // set_robust_list, rseq, clone3 (glibc then uses clone), as qemu-mipsel.
            4309 | 4367 | 4435 => Err(ENOSYS),
            4116 => self.sysinfo(a[0]),
            _ => {
                if self.warned.insert(nr) {
                    eprintln!("mipsjit: unsupported syscall {nr} ({}): returning ENOSYS", nr.wrapping_sub(4000));
                }
                Err(ENOSYS)
            }
        }
    }

    /// Reads an o32 `struct timespec` (32-bit seconds) or, when `wide`, a
    /// `struct __kernel_timespec` (64-bit seconds; the kernel keeps only
    /// the low half of a compat `tv_nsec`).
    pub(super) fn read_timespec(&self, at: u32, wide: bool) -> Result<libc::timespec, i32> {
        Ok(if wide {
            let b = self.read_mem(at, 12)?;
            let sec = i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            libc::timespec { tv_sec: sec, tv_nsec: i32::from_le_bytes([b[8], b[9], b[10], b[11]]) as i64 }
        } else {
            libc::timespec {
                tv_sec: self.read_u32(at)? as i32 as i64,
                tv_nsec: self.read_u32(at.wrapping_add(4))? as i32 as i64,
            }
        })
    }

    /// Writes `ts` as an o32 `struct timespec`, or a 64-bit one when `wide`.
    pub(super) fn write_timespec(&mut self, at: u32, ts: libc::timespec, wide: bool) -> Result<(), i32> {
        if wide {
            let mut b = ts.tv_sec.to_le_bytes().to_vec();
            b.extend(ts.tv_nsec.to_le_bytes());
            self.write_mem(at, &b)
        } else {
            let b: Vec<u8> = [ts.tv_sec as u32, ts.tv_nsec as u32].iter().flat_map(|w| w.to_le_bytes()).collect();
            self.write_mem(at, &b)
        }
    }

    fn path_call(&mut self, path: u32, f: impl FnOnce(*const libc::c_char) -> i32) -> SysResult {
        let path = self.read_cstr(path)?;
        check(f(path.as_ptr()) as i64)
    }

    fn read(&mut self, fd: u32, buf: u32, len: u32) -> SysResult {
        let len = len.min(1 << 24) as usize;
        // As Linux, a buffer the guest cannot write fails before any data
        // is consumed.
        if !self.allowed(buf, len, page_perm::WRITE) {
            return Err(EFAULT);
        }
        let mut tmp = vec![0u8; len];
        // SAFETY: `tmp` is a writable buffer of `len` bytes.
        let n = check(unsafe { libc::read(fd as i32, tmp.as_mut_ptr().cast(), len) } as i64)?;
        self.write_mem(buf, &tmp[..n as usize])?;
        Ok(n)
    }

    fn pread64(&mut self, fd: u32, buf: u32, len: u32, off: u64) -> SysResult {
        let len = len.min(1 << 24) as usize;
        // As Linux, a buffer the guest cannot write fails before any data
        // is consumed.
        if !self.allowed(buf, len, page_perm::WRITE) {
            return Err(EFAULT);
        }
        let mut tmp = vec![0u8; len];
        // SAFETY: `tmp` is a writable buffer of `len` bytes.
        let n = check(unsafe { libc::pread(fd as i32, tmp.as_mut_ptr().cast(), len, off as i64) } as i64)?;
        self.write_mem(buf, &tmp[..n as usize])?;
        Ok(n)
    }

    fn write(&mut self, fd: u32, buf: u32, len: u32) -> SysResult {
        let data = self.read_mem(buf, len.min(1 << 24) as usize)?;
        self.write_out(fd as i32, threads::Write::Bytes(&data))
    }

    pub(super) fn iovecs(&self, iov: u32, n: u32) -> Result<Vec<(u32, u32)>, i32> {
        if n > 1024 {
            return Err(EINVAL);
        }
        (0..n)
            .map(|i| {
                let at = iov.wrapping_add(8 * i);
                Ok((self.read_u32(at)?, self.read_u32(at.wrapping_add(4))?))
            })
            .collect()
    }

    pub(super) fn writev(&mut self, fd: u32, iov: u32, n: u32) -> SysResult {
        let data = self.gather(iov, n)?;
        self.write_out(fd as i32, threads::Write::Bytes(&data))
    }

    /// `readv(fd, iov, n)`; `nonblocking`: without waiting, whatever the
    /// descriptor's mode (`vmsplice` with SPLICE_F_NONBLOCK).
    pub(super) fn readv(&mut self, fd: u32, iov: u32, n: u32, nonblocking: bool) -> SysResult {
        let vecs = self.iovecs(iov, n)?;
        let total: usize = vecs.iter().map(|v| v.1 as usize).sum::<usize>().min(1 << 24);
        let mut tmp = vec![0u8; total];
        let mut read = |fd: i32| {
            // SAFETY: `tmp` is a writable buffer of `total` bytes.
            unsafe { libc::read(fd, tmp.as_mut_ptr().cast(), total) }
        };
        let r = if nonblocking { threads::with_nonblocking(fd as i32, read) } else { read(fd as i32) };
        let got = check(r as i64)? as usize;
        self.scatter(&vecs, &tmp[..got])?;
        Ok(got as u32)
    }

    /// Writes `data` across the guest buffers `vecs` (base, length), in order.
    pub(super) fn scatter(&mut self, vecs: &[(u32, u32)], data: &[u8]) -> Result<(), i32> {
        let mut done = 0;
        for &(base, len) in vecs {
            let k = (len as usize).min(data.len() - done);
            self.write_mem(base, &data[done..done + k])?;
            done += k;
        }
        Ok(())
    }

    /// The bytes of the guest's `iovec[n]` at `iov`, in order.
    pub(super) fn gather(&self, iov: u32, n: u32) -> Result<Vec<u8>, i32> {
        let mut data = Vec::new();
        for (base, len) in self.iovecs(iov, n)? {
            data.extend(self.read_mem(base, len.min(1 << 24) as usize)?);
        }
        Ok(data)
    }

    pub(super) fn openat(&mut self, dir: i32, path: u32, flags: u32, mode: u32) -> SysResult {
        let path = self.host_cpath(self.read_cstr(path)?);
        // SAFETY: `path` is a valid C string.
        check(unsafe { libc::openat(dir, path.as_ptr(), open_flags(flags), mode) } as i64)
    }

    fn readlinkat(&mut self, dir: i32, path: u32, buf: u32, len: u32) -> SysResult {
        let p = self.host_cpath(self.read_cstr(path)?);
        let target = if p.as_bytes() == b"/proc/self/exe" {
            self.exe.as_os_str().as_bytes().to_vec()
        } else {
            let mut tmp = vec![0u8; 4096];
            // SAFETY: `p` is a C string, `tmp` a writable buffer.
            let n = check(unsafe { libc::readlinkat(dir, p.as_ptr(), tmp.as_mut_ptr().cast(), tmp.len()) } as i64)?;
            tmp.truncate(n as usize);
            tmp
        };
        let n = target.len().min(len as usize);
        self.write_mem(buf, &target[..n])?;
        Ok(n as u32)
    }

    fn uname(&mut self, buf: u32) -> SysResult {
        // SAFETY: an all-zero utsname is valid, and uname fills it.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is a valid utsname.
        check(unsafe { libc::uname(&mut u) } as i64)?;
        let mut out = vec![0u8; 65 * 6];
        let fields = [&u.sysname, &u.nodename, &u.release, &u.version, &u.machine, &u.domainname];
        for (i, f) in fields.iter().enumerate() {
            let bytes: Vec<u8> = if i == 4 { b"mips".to_vec() } else { f.iter().map(|&c| c as u8).collect() };
            let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len()).min(64);
            out[65 * i..65 * i + n].copy_from_slice(&bytes[..n]);
        }
        self.write_mem(buf, &out)?;
        Ok(0)
    }

    /// Writes a host `stat` as the o32 `struct stat64` (or the older
    /// `struct stat` when `old`).
    fn put_stat(&mut self, at: u32, st: &libc::stat, old: bool) -> SysResult {
        let mut b = vec![0u8; if old { 144 } else { 104 }];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        let dev = |d: u64| -> u32 {
            // SAFETY: major/minor are arithmetic.
            let (ma, mi) = (libc::major(d), libc::minor(d));
            (mi & 0xff) | (ma & 0xfff) << 8 | (mi & !0xff) << 12
        };
        if old {
            // struct stat: dev, pad[3], ino, mode, nlink, uid, gid, rdev,
            // pad[2], size, pad, atime, ..., blksize, blocks.
            put(0, &dev(st.st_dev).to_le_bytes());
            put(16, &(st.st_ino as u32).to_le_bytes());
            put(20, &st.st_mode.to_le_bytes());
            put(24, &(st.st_nlink as u32).to_le_bytes());
            put(28, &st.st_uid.to_le_bytes());
            put(32, &st.st_gid.to_le_bytes());
            put(36, &dev(st.st_rdev).to_le_bytes());
            put(48, &(st.st_size as u32).to_le_bytes());
            put(56, &(st.st_atime as u32).to_le_bytes());
            put(60, &(st.st_atime_nsec as u32).to_le_bytes());
            put(64, &(st.st_mtime as u32).to_le_bytes());
            put(68, &(st.st_mtime_nsec as u32).to_le_bytes());
            put(72, &(st.st_ctime as u32).to_le_bytes());
            put(76, &(st.st_ctime_nsec as u32).to_le_bytes());
            put(80, &(st.st_blksize as u32).to_le_bytes());
            put(84, &(st.st_blocks as u32).to_le_bytes());
        } else {
            put(0, &dev(st.st_dev).to_le_bytes());
            put(16, &st.st_ino.to_le_bytes());
            put(24, &st.st_mode.to_le_bytes());
            put(28, &(st.st_nlink as u32).to_le_bytes());
            put(32, &st.st_uid.to_le_bytes());
            put(36, &st.st_gid.to_le_bytes());
            put(40, &dev(st.st_rdev).to_le_bytes());
            put(56, &st.st_size.to_le_bytes());
            put(64, &(st.st_atime as u32).to_le_bytes());
            put(68, &(st.st_atime_nsec as u32).to_le_bytes());
            put(72, &(st.st_mtime as u32).to_le_bytes());
            put(76, &(st.st_mtime_nsec as u32).to_le_bytes());
            put(80, &(st.st_ctime as u32).to_le_bytes());
            put(84, &(st.st_ctime_nsec as u32).to_le_bytes());
            put(88, &(st.st_blksize as u32).to_le_bytes());
            put(96, &st.st_blocks.to_le_bytes());
        }
        self.write_mem(at, &b)?;
        Ok(0)
    }

    fn fstat(&mut self, fd: u32, buf: u32) -> SysResult {
        // SAFETY: an all-zero stat is valid; fstat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid stat buffer.
        check(unsafe { libc::fstat(fd as i32, &mut st) } as i64)?;
        self.put_stat(buf, &st, false)
    }

    fn fstatat(&mut self, dir: i32, path: u32, buf: u32, flags: i32, old: bool) -> SysResult {
        let p = self.host_cpath(self.read_cstr(path)?);
        // SAFETY: an all-zero stat is valid; fstatat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `p` is a C string, `st` a valid stat buffer.
        check(unsafe { libc::fstatat(dir, p.as_ptr(), &mut st, flags) } as i64)?;
        self.put_stat(buf, &st, old)
    }

    /// `statx`: `struct statx` has the same layout on every architecture.
    fn statx(&mut self, a: [u32; 4], buf: u32) -> SysResult {
        let p = self.host_cpath(self.read_cstr(a[1])?);
        // SAFETY: an all-zero statx is valid; statx fills it.
        let mut st: libc::statx = unsafe { std::mem::zeroed() };
        // SAFETY: `p` is a C string, `st` a valid statx buffer.
        check(unsafe { libc::statx(dirfd(a[0]), p.as_ptr(), a[2] as i32, a[3], &mut st) } as i64)?;
        // SAFETY: statx is plain old data; view it as bytes (host and guest
        // are both little-endian).
        let bytes = unsafe {
            std::slice::from_raw_parts((&st as *const libc::statx).cast::<u8>(), std::mem::size_of::<libc::statx>())
        };
        let bytes = bytes.to_vec();
        self.write_mem(buf, &bytes)?;
        Ok(0)
    }

    /// `getgroups(size, list)`: 32-bit group ids.
    fn getgroups(&mut self, size: u32, list: u32) -> SysResult {
        let mut gids = vec![0 as libc::gid_t; 65536];
        let n = size.min(65536) as i32;
        // SAFETY: `gids` has room for `n` ids (at most its length).
        let got = check(unsafe { libc::getgroups(n, gids.as_mut_ptr()) } as i64)?;
        if size != 0 {
            let b: Vec<u8> = gids[..got as usize].iter().flat_map(|g| g.to_le_bytes()).collect();
            self.write_mem(list, &b)?;
        }
        Ok(got)
    }

    /// `sendfile64(out, in, *offset, count)`.
    /// `sysinfo`, in the o32 layout, in KiB units.
    fn sysinfo(&mut self, buf: u32) -> SysResult {
        // SAFETY: an all-zero sysinfo is valid; the host fills it.
        let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: `si` is a valid sysinfo buffer.
        check(unsafe { libc::sysinfo(&mut si) } as i64)?;
        let kib = |v: u64| (v.saturating_mul(si.mem_unit as u64) >> 10).min(u32::MAX as u64) as u32;
        let words = [
            si.uptime as u32,
            si.loads[0] as u32,
            si.loads[1] as u32,
            si.loads[2] as u32,
            kib(si.totalram),
            kib(si.freeram),
            kib(si.sharedram),
            kib(si.bufferram),
            kib(si.totalswap),
            kib(si.freeswap),
            si.procs as u32,
            0,
            0,
            1024,
        ];
        let mut b: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        b.resize(64, 0);
        self.write_mem(buf, &b)?;
        Ok(0)
    }

    fn getcwd(&mut self, buf: u32, len: u32) -> SysResult {
        let cwd = std::env::current_dir().map_err(|_| ENOENT)?;
        let mut b = cwd.as_os_str().as_bytes().to_vec();
        b.push(0);
        if b.len() > len as usize {
            return Err(ERANGE);
        }
        self.write_mem(buf, &b)?;
        Ok(b.len() as u32)
    }

    /// `getdents`, the older call: the host's `linux_dirent64` records as
    /// o32 `struct linux_dirent` (32-bit inode and offset, the name, then
    /// the type in the record's last byte). Each is no longer than its
    /// host record, so what the host read fits. An inode number past 32
    /// bits stops the listing there, with EOVERFLOW if it is the first, and
    /// the directory offset goes back to the entry that did not fit, as
    /// Linux's 32-bit `filldir` does (qemu-mipsel truncates the number).
    /// Offsets are truncated to 32 bits, as Linux stores them in `unsigned
    /// long`; a 64-bit host process gets ext4's 64-bit hash offsets, so a
    /// guest's `seekdir` to one may not find its entry.
    fn getdents(&mut self, fd: u32, buf: u32, len: u32) -> SysResult {
        let len = len.min(1 << 20) as usize;
        let mut tmp = vec![0u8; len];
        // SAFETY: host calls with integer arguments, and `tmp`, a writable
        // buffer of `len` bytes.
        let (before, n) = unsafe {
            let before = libc::lseek(fd as i32, 0, libc::SEEK_CUR);
            (before, check(libc::syscall(libc::SYS_getdents64, fd as i32, tmp.as_mut_ptr(), len))? as usize)
        };
        let mut out = Vec::with_capacity(n);
        let mut at = 0;
        let mut last_off = None;
        while at + 19 < n {
            let rec = &tmp[at..n];
            let word = |i: usize| u64::from_ne_bytes(rec[i..i + 8].try_into().unwrap_or_default());
            let (ino, off) = (word(0), word(8));
            let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
            if reclen < 20 || reclen > rec.len() {
                break; // not a record the host writes
            }
            let kind = rec[18];
            let name_area = &rec[19..reclen];
            let name = &name_area[..name_area.iter().position(|&c| c == 0).unwrap_or(name_area.len())];
            if ino > u32::MAX as u64 {
                if out.is_empty() {
                    // SAFETY: a host call with integer arguments only.
                    unsafe { libc::lseek(fd as i32, before, libc::SEEK_SET) };
                    return Err(mips_errno(libc::EOVERFLOW));
                }
                break;
            }
            let glen = (10 + name.len() + 2).next_multiple_of(4);
            let start = out.len();
            out.extend((ino as u32).to_le_bytes());
            out.extend((off as u32).to_le_bytes());
            out.extend((glen as u16).to_le_bytes());
            out.extend(name);
            out.resize(start + glen - 1, 0);
            out.push(kind);
            last_off = Some(off);
            at += reclen;
        }
        if let (true, Some(off)) = (at < n, last_off) {
            // SAFETY: a host call with integer arguments only.
            unsafe { libc::lseek(fd as i32, off as i64, libc::SEEK_SET) };
        }
        self.write_mem(buf, &out)?;
        Ok(out.len() as u32)
    }

    /// `getdents64`: `struct linux_dirent64` is the same on both sides.
    fn getdents64(&mut self, fd: u32, buf: u32, len: u32) -> SysResult {
        let len = len.min(1 << 20) as usize;
        let mut tmp = vec![0u8; len];
        // SAFETY: `tmp` is a writable buffer of `len` bytes.
        let n = check(unsafe { libc::syscall(libc::SYS_getdents64, fd as i32, tmp.as_mut_ptr(), len) })?;
        self.write_mem(buf, &tmp[..n as usize])?;
        Ok(n)
    }
}
