//! Processes: `fork`/`clone` (the host process forks as a whole), `wait4`,
//! `execve` (mipsjit runs itself on the new image), process groups.

use super::signal::{GUEST_CHILD, guest_sig};
use super::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::Ordering;

// `clone` flags.
const CLONE_VM: u32 = 0x0000_0100;
const CLONE_VFORK: u32 = 0x0000_4000;
const CLONE_THREAD: u32 = 0x0001_0000;
const CLONE_SETTLS: u32 = 0x0008_0000;
const CLONE_PARENT_SETTID: u32 = 0x0010_0000;
const CLONE_CHILD_SETTID: u32 = 0x0100_0000;
const ENOEXEC: i32 = 8;
const ECHILD: i32 = 10;

/// Arguments and environment: at most this many strings each.
const MAX_STRINGS: u32 = 1 << 16;

impl Process {
    /// Process system calls; `None` when `nr` is not one.
    pub(super) fn process_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4002 => self.clone(signal::SIGCHLD, 0, 0, 0, 0),
            4120 => self.clone(a[0], a[1], a[2], a[3], a5[0]),
            4114 => self.wait4(a[0] as i32, a[1], a[2], a[3]),
            4007 => self.wait4(a[0] as i32, a[1], a[2], 0),
            4011 => self.execve(a[0], a[1], a[2]),
            4356 => self.execveat(a[0] as i32, a[1], a[2], a[3], a5[0]),
            4278 => self.waitid(a[0], a[1] as i32, a[2], a[3], a5[0]),
            4077 => self.getrusage(a[0] as i32, a[1]),
            4043 => self.times(a[0]),
            // SAFETY: a host call with integer arguments only.
            4057 => syscalls::check(unsafe { libc::setpgid(a[0] as i32, a[1] as i32) } as i64),
            // SAFETY: a host call with integer arguments only.
            4132 => syscalls::check(unsafe { libc::getpgid(a[0] as i32) } as i64),
            // SAFETY: a host call with integer arguments only.
            4065 => syscalls::check(unsafe { libc::getpgrp() } as i64),
            // SAFETY: a host call with integer arguments only.
            4066 => syscalls::check(unsafe { libc::setsid() } as i64),
            // SAFETY: a host call with integer arguments only.
            4151 => syscalls::check(unsafe { libc::getsid(a[0] as i32) } as i64),
            _ => return None,
        })
    }

    /// `clone(flags, newsp, parent_tid, tls, child_tid)`: without
    /// CLONE_THREAD, a new process, made by forking the host process. The
    /// child's memory is a copy even with CLONE_VM; with CLONE_VFORK the
    /// parent waits until the child has called `execve` or exited.
    fn clone(&mut self, flags: u32, newsp: u32, ptid: u32, tls: u32, ctid: u32) -> SysResult {
        if flags & CLONE_THREAD != 0 {
            return self.spawn_thread(flags, newsp, ptid, tls, ctid);
        }
        let _ = CLONE_VM;
        // The vfork wait: the child holds the write end (closed by exec or
        // exit), the parent reads until end of file.
        let mut vfork_pipe = [-1i32; 2];
        if flags & CLONE_VFORK != 0 {
            // SAFETY: `vfork_pipe` is an array of two ints.
            syscalls::check(unsafe { libc::pipe2(vfork_pipe.as_mut_ptr(), libc::O_CLOEXEC) } as i64)?;
        }
        // Host signals wait in the host across the fork: one recorded
        // before it is the parent's (polled now), one sent to the child
        // right after it reaches the child's handler once its state is
        // reset, rather than being reset with it.
        let host_mask = signal::set_host_mask(!0);
        self.sig.poll_host();
        // SAFETY: the host forks as a whole; the child continues with only
        // this thread, and `after_fork` replaces what lived in the others.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            self.sig.after_fork();
        }
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &host_mask, std::ptr::null_mut()) };
        if pid < 0 {
            for fd in vfork_pipe.into_iter().filter(|&f| f >= 0) {
                // SAFETY: closes the pipe made above.
                unsafe { libc::close(fd) };
            }
            return syscalls::check(-1);
        }
        if pid == 0 {
            if vfork_pipe[0] >= 0 {
                // SAFETY: closes the read end, which only the parent uses.
                unsafe { libc::close(vfork_pipe[0]) };
            }
            self.machine.after_fork();
            self.threads.after_fork();
            GUEST_CHILD.store(true, Ordering::Relaxed);
            let me = std::process::id();
            if flags & CLONE_CHILD_SETTID != 0 {
                let _ = self.write_u32(ctid, me);
            }
            if flags & CLONE_SETTLS != 0 {
                self.machine.cpu.user_local = tls;
            }
            if newsp != 0 {
                self.machine.cpu.s.gpr[29] = newsp;
            }
            return Ok(0);
        }
        if flags & CLONE_PARENT_SETTID != 0 {
            let _ = self.write_u32(ptid, pid as u32);
        }
        if vfork_pipe[0] >= 0 {
            let mut b = [0u8; 1];
            // SAFETY: the pipe made above; `b` is a one-byte buffer.
            unsafe {
                libc::close(vfork_pipe[1]);
                while libc::read(vfork_pipe[0], b.as_mut_ptr().cast(), 1) != 0 {
                    if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                        break;
                    }
                }
                libc::close(vfork_pipe[0]);
            }
        }
        Ok(pid as u32)
    }

    /// `wait4(pid, status, options, rusage)`: the host's, with signal
    /// numbers in the status translated, and the o32 `struct rusage`.
    fn wait4(&mut self, pid: i32, status: u32, options: u32, rusage: u32) -> SysResult {
        let mut st = 0i32;
        // SAFETY: an all-zero rusage is valid; wait4 fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `st` and `ru` are valid for the host to fill.
        let got = unsafe { libc::wait4(pid, &mut st, options as i32, &mut ru) };
        if got < 0 {
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            return Err(if e == libc::ECHILD { ECHILD } else { syscalls::mips_errno(e) });
        }
        if got > 0 && status != 0 {
            self.write_u32(status, guest_wait_status(st))?;
        }
        if got > 0 && rusage != 0 {
            self.put_rusage(rusage, &ru)?;
        }
        Ok(got as u32)
    }

    /// Writes `ru` as the o32 `struct rusage`: two `timeval`s and fourteen
    /// longs, all 32-bit.
    fn put_rusage(&mut self, at: u32, ru: &libc::rusage) -> Result<(), i32> {
        let tv = |t: libc::timeval| [t.tv_sec as u32, t.tv_usec as u32];
        let mut w: Vec<u32> = tv(ru.ru_utime).into_iter().chain(tv(ru.ru_stime)).collect();
        w.extend(
            [
                ru.ru_maxrss,
                ru.ru_ixrss,
                ru.ru_idrss,
                ru.ru_isrss,
                ru.ru_minflt,
                ru.ru_majflt,
                ru.ru_nswap,
                ru.ru_inblock,
                ru.ru_oublock,
                ru.ru_msgsnd,
                ru.ru_msgrcv,
                ru.ru_nsignals,
                ru.ru_nvcsw,
                ru.ru_nivcsw,
            ]
            .iter()
            .map(|&v| v as u32),
        );
        let b: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write_mem(at, &b)
    }

    /// `getrusage(who, usage)`: the host's figures (the whole emulator's,
    /// for RUSAGE_SELF), in the o32 layout.
    fn getrusage(&mut self, who: i32, usage: u32) -> SysResult {
        // SAFETY: an all-zero rusage is valid; getrusage fills it.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is valid for the host to fill; a bad `who` is EINVAL.
        syscalls::check(unsafe { libc::getrusage(who, &mut ru) } as i64)?;
        self.put_rusage(usage, &ru)?;
        Ok(0)
    }

    /// `times(buf)`: the o32 `struct tms` is four 32-bit `clock_t`s; the
    /// result, clock ticks since an arbitrary point, is cut to 32 bits as
    /// a 32-bit kernel's is. Host and guest both count USER_HZ (100) ticks.
    fn times(&mut self, buf: u32) -> SysResult {
        // SAFETY: an all-zero tms is valid; times fills it.
        let mut t: libc::tms = unsafe { std::mem::zeroed() };
        // SAFETY: `t` is valid for the host to fill.
        let now = unsafe { libc::times(&mut t) };
        if now == -1i64 as libc::clock_t {
            return syscalls::check(-1);
        }
        if buf != 0 {
            let w = [t.tms_utime, t.tms_stime, t.tms_cutime, t.tms_cstime];
            let b: Vec<u8> = w.iter().flat_map(|&v| (v as u32).to_le_bytes()).collect();
            self.write_mem(buf, &b)?;
        }
        Ok(now as u32)
    }

    /// `waitid(idtype, id, infop, options, rusage)`: the host's. As Linux,
    /// it fills only `si_signo`, `si_errno`, `si_code`, `si_pid`, `si_uid`
    /// and `si_status` of `infop`, and with zeros when WNOHANG found no
    /// child (0 in `si_signo`). The id types and option bits are the same
    /// on both sides.
    fn waitid(&mut self, idtype: u32, id: i32, infop: u32, options: u32, rusage: u32) -> SysResult {
        // SAFETY: all-zero siginfo and rusage are valid; the host fills them.
        let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rp = if rusage != 0 { &mut ru as *mut libc::rusage } else { std::ptr::null_mut() };
        // SAFETY: `si` and `rp` (null or `ru`) are valid for the host to
        // fill; through syscall(2), as libc's waitid has no rusage.
        syscalls::check(unsafe {
            libc::syscall(libc::SYS_waitid, idtype as i32, id, &mut si as *mut libc::siginfo_t, options as i32, rp)
        })?;
        // SAFETY: the host filled the SIGCHLD fields (or left zeros).
        let (pid, uid, status) = unsafe { (si.si_pid(), si.si_uid(), si.si_status()) };
        if pid != 0 && rusage != 0 {
            self.put_rusage(rusage, &ru)?;
        }
        if infop != 0 {
            // CLD_KILLED, CLD_DUMPED, CLD_TRAPPED and CLD_STOPPED carry a
            // signal number.
            let status =
                if matches!(si.si_code, 2..=5) { guest_sig(status).unwrap_or(status as u32) } else { status as u32 };
            let signo = if pid != 0 { signal::SIGCHLD } else { 0 };
            // si_signo, then (MIPS order) si_code, si_errno.
            let w = [signo, si.si_code as u32, 0, pid as u32, uid, status];
            let b: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
            self.write_mem(infop, &b)?;
        }
        Ok(0)
    }

    /// A NULL-terminated array of guest strings.
    fn read_cstr_array(&self, at: u32) -> Result<Vec<CString>, i32> {
        let mut out = Vec::new();
        if at == 0 {
            return Ok(out);
        }
        for i in 0..MAX_STRINGS {
            let p = self.read_u32(at.wrapping_add(4 * i))?;
            if p == 0 {
                return Ok(out);
            }
            out.push(self.read_cstr(p)?);
        }
        Err(mips_errno(libc::E2BIG))
    }

    /// `execve(path, argv, envp)`: a MIPS executable (directly or as the
    /// interpreter of a `#!` script) runs in a new mipsjit, started on it
    /// with the same options; anything else is the host's to run. The path
    /// is used as given (no PATH search), as the kernel does.
    fn execve(&mut self, path: u32, argv: u32, envp: u32) -> SysResult {
        let path = self.read_cstr(path)?;
        self.exec_path(path, argv, envp)
    }

    /// `execveat(dirfd, path, argv, envp, flags)`: `execve` of `path`
    /// relative to directory `dirfd`, or (AT_EMPTY_PATH and an empty path)
    /// of the file open at `dirfd`, as `fexecve` uses it. The host path of
    /// a descriptor is its /proc link; a file without a path (a memfd, an
    /// unlinked file) is handed over as /proc/self/fd/N of a copy of the
    /// descriptor the new image inherits.
    fn execveat(&mut self, dirfd: i32, path: u32, argv: u32, envp: u32, flags: u32) -> SysResult {
        const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
        const AT_EMPTY_PATH: u32 = 0x1000;
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(EINVAL);
        }
        let rel = self.read_cstr(path)?;
        let fd_path = |fd: i32| std::fs::read_link(format!("/proc/self/fd/{fd}")).map_err(|_| mips_errno(libc::EBADF));
        let mut copy = None;
        let full: PathBuf = match rel.as_bytes() {
            [] if flags & AT_EMPTY_PATH == 0 => return Err(ENOENT),
            [] => match fd_path(dirfd)? {
                p if p.is_file() => p,
                _ => {
                    // SAFETY: a host call with integer arguments only.
                    let c = syscalls::check(unsafe { libc::fcntl(dirfd, libc::F_DUPFD, 3) } as i64)?;
                    copy = Some(c as i32);
                    PathBuf::from(format!("/proc/self/fd/{c}"))
                }
            },
            [b'/', ..] => PathBuf::from(OsStr::from_bytes(rel.as_bytes())),
            _ if dirfd == libc::AT_FDCWD => PathBuf::from(OsStr::from_bytes(rel.as_bytes())),
            _ => fd_path(dirfd)?.join(OsStr::from_bytes(rel.as_bytes())),
        };
        // The flag is about the path's last component; an empty path has none.
        let last_is_link = || full.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
        if flags & AT_SYMLINK_NOFOLLOW != 0 && !rel.as_bytes().is_empty() && last_is_link() {
            return Err(mips_errno(libc::ELOOP));
        }
        let full = CString::new(full.into_os_string().into_vec()).map_err(|_| ENOENT)?;
        let failed = self.exec_path(full, argv, envp);
        if let Some(c) = copy {
            // SAFETY: closes the copy made above, which the failed exec left.
            unsafe { libc::close(c) };
        }
        failed
    }

    /// `execve` of the host path `path`.
    fn exec_path(&mut self, mut path: CString, argv: u32, envp: u32) -> SysResult {
        if path.as_bytes() == b"/proc/self/exe" {
            path = CString::new(self.exe.as_os_str().as_bytes()).map_err(|_| ENOENT)?;
        }
        let mut argv = self.read_cstr_array(argv)?;
        let envp = self.read_cstr_array(envp)?;
        // SAFETY: `path` is a valid C string.
        syscalls::check(unsafe { libc::access(path.as_ptr(), libc::X_OK) } as i64)?;
        let mut prog = path.clone();
        let head = file_head(&prog)?;
        if head.starts_with(b"#!") {
            let line = head[2..].split(|&b| b == b'\n').next().unwrap_or_default();
            let mut words = line.split(|&b| b == b' ' || b == b'\t').filter(|w| !w.is_empty());
            let interp = CString::new(words.next().ok_or(ENOEXEC)?).map_err(|_| ENOEXEC)?;
            let rest: Vec<u8> = words.collect::<Vec<_>>().join(&b' ');
            let mut new_argv = vec![interp.clone()];
            if !rest.is_empty() {
                new_argv.push(CString::new(rest).map_err(|_| ENOEXEC)?);
            }
            new_argv.push(path.clone());
            new_argv.extend(argv.into_iter().skip(1));
            argv = new_argv;
            prog = interp;
        }
        let head = file_head(&prog)?;
        let mips =
            head.len() >= 20 && head.starts_with(b"\x7fELF\x01\x01") && u16::from_le_bytes([head[18], head[19]]) == 8;
        let (exe, host_argv) = if mips {
            let me = std::env::current_exe().map_err(|_| ENOENT)?;
            let me = CString::new(me.as_os_str().as_bytes()).map_err(|_| ENOENT)?;
            let jit = match self.mode {
                JitMode::Never => "never",
                JitMode::Always => "always",
                JitMode::Auto => "auto",
            };
            let mut v: Vec<CString> = ["user", "--jit", jit].iter().filter_map(|s| CString::new(*s).ok()).collect();
            v.insert(0, me.clone());
            if let Some(root) = &self.sysroot {
                v.extend(CString::new("-L").ok());
                v.extend(CString::new(root.as_os_str().as_bytes()).ok());
            }
            if GUEST_CHILD.load(Ordering::Relaxed) {
                v.extend(CString::new("--guest-child").ok());
            }
            // SAFETY: host calls with integer arguments only.
            let closed: Vec<String> =
                (0..3).filter(|&fd| unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0).map(|fd| fd.to_string()).collect();
            if !closed.is_empty() {
                v.extend(CString::new(format!("--closed-fds={}", closed.join(","))).ok());
            }
            if let Some(a0) = argv.first() {
                v.extend(CString::new("--argv0").ok());
                v.push(a0.clone());
            }
            v.push(prog);
            v.extend(argv.into_iter().skip(1));
            (me, v)
        } else if head.starts_with(b"\x7fELF") || head.starts_with(b"#!") {
            (prog, argv)
        } else {
            return Err(ENOEXEC);
        };
        let ptrs = |v: &[CString]| -> Vec<*const libc::c_char> {
            v.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
        };
        let (argp, envp_ptrs) = (ptrs(&host_argv), ptrs(&envp));
        // This image's shared file pages reach their files before it goes.
        self.write_back_all();
        // The new image inherits the guest's mask, as on Linux.
        let old = signal::set_host_mask(self.sig.blocked());
        // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
        unsafe { libc::execve(exe.as_ptr(), argp.as_ptr(), envp_ptrs.as_ptr()) };
        let err = syscalls::check(-1);
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        err
    }
}

/// The first bytes of a file, to tell what it is.
fn file_head(path: &CString) -> Result<Vec<u8>, i32> {
    let mut head = vec![0u8; 256];
    // SAFETY: `path` is a valid C string; `head` a writable buffer.
    let n = unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return syscalls::check(-1).map(|_| Vec::new());
        }
        let n = libc::read(fd, head.as_mut_ptr().cast(), head.len());
        libc::close(fd);
        n
    };
    head.truncate(n.max(0) as usize);
    Ok(head)
}

/// A host wait status with the signal numbers in it made the guest's.
fn guest_wait_status(st: i32) -> u32 {
    let sig = |h: i32| guest_sig(h).unwrap_or(h as u32);
    let low = st & 0x7f;
    if low == 0 {
        st as u32 // exited
    } else if low == 0x7f {
        (st as u32 & !0xff00) | sig((st >> 8) & 0xff) << 8 // stopped
    } else {
        (st as u32 & !0x7f) | sig(low) // killed
    }
}

#[cfg(test)]
mod tests {
    use super::super::signal::host_sig;
    use super::*;

    #[test]
    fn wait_statuses_carry_guest_signal_numbers() {
        assert_eq!(guest_wait_status(3 << 8), 3 << 8);
        assert_eq!(guest_wait_status(libc::SIGUSR1), 16);
        assert_eq!(guest_wait_status(libc::SIGSEGV | 0x80), 11 | 0x80);
        assert_eq!(guest_wait_status(libc::SIGCHLD << 8 | 0x7f), 18 << 8 | 0x7f);
        assert_eq!(host_sig(16), Some(libc::SIGUSR1));
    }
}
