//! File-system calls that change files or ask about them: links, modes,
//! owners, times, sizes, `statfs`, `sync`; and `poll`, `flock`,
//! `sched_getaffinity`, `getresuid`. Busybox's `cp -a`, `tar x`, `touch`,
//! `ln`, `df`, `truncate`, `mkfifo` and `nproc` need them.

use super::syscalls::check;
use super::*;
use std::ffi::CStr;
use std::time::{Duration, Instant};

/// A 64-bit value from an o32 register pair (little-endian: low word first).
pub(super) fn pair(lo: u32, hi: u32) -> i64 {
    ((hi as u64) << 32 | lo as u64) as i64
}

/// A guest (o32 `new_encode_dev`) device number → host.
fn host_dev(d: u32) -> libc::dev_t {
    libc::makedev((d >> 8) & 0xfff, (d & 0xff) | ((d >> 12) & 0xf_ff00))
}

/// The process's descriptor limit (RLIMIT_NOFILE's soft one).
pub(super) fn descriptor_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `limit` is a valid rlimit to fill.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    limit.rlim_cur
}

/// MIPS `poll` events → host: only POLLWRNORM and POLLWRBAND differ.
fn poll_to_host(g: u16) -> i16 {
    let mut h = g & !(0x100 | 0x200);
    if g & 0x100 != 0 {
        h |= libc::POLLWRBAND as u16;
    }
    h as i16
}

fn poll_to_guest(h: i16) -> u16 {
    let h = h as u16;
    let mut g = h & !(libc::POLLWRNORM as u16 | libc::POLLWRBAND as u16);
    if h & libc::POLLWRNORM as u16 != 0 {
        g |= libc::POLLOUT as u16;
    }
    if h & libc::POLLWRBAND as u16 != 0 {
        g |= 0x100;
    }
    g
}

impl Process {
    /// File-system calls; `None` when `nr` is not one.
    pub(super) fn fs_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        let cwd = libc::AT_FDCWD;
        let dir = |v: u32| v as i32;
        Some(match nr {
            4009 => self.linkat(cwd, a[0], cwd, a[1], 0),
            4296 => self.linkat(dir(a[0]), a[1], dir(a[2]), a[3], a5[0] as i32),
            4083 => self.symlinkat(a[0], cwd, a[1]),
            4297 => self.symlinkat(a[0], dir(a[1]), a[2]),
            4295 => self.renameat2(dir(a[0]), a[1], dir(a[2]), a[3], 0),
            4351 => self.renameat2(dir(a[0]), a[1], dir(a[2]), a[3], a5[0]),
            // SAFETY: `p` is the C string `at_path` read.
            4289 => self.at_path(dir(a[0]), a[1], |d, p| unsafe { libc::mkdirat(d, p, a[2]) }),
            // SAFETY: `p` is the C string `at_path` read.
            4014 => self.at_path(cwd, a[0], |d, p| unsafe { libc::mknodat(d, p, a[1], host_dev(a[2])) }),
            // SAFETY: `p` is the C string `at_path` read.
            4290 => self.at_path(dir(a[0]), a[1], |d, p| unsafe { libc::mknodat(d, p, a[2], host_dev(a[3])) }),
            // SAFETY: `p` is the C string `at_path` read.
            4015 => self.at_path(cwd, a[0], |d, p| unsafe { libc::fchmodat(d, p, a[1], 0) }),
            // SAFETY: `p` is the C string `at_path` read.
            4299 => self.at_path(dir(a[0]), a[1], |d, p| unsafe { libc::fchmodat(d, p, a[2], 0) }),
            // SAFETY: `p` is the C string `at_path` read.
            4202 => self.at_path(cwd, a[0], |d, p| unsafe { libc::fchownat(d, p, a[1], a[2], 0) }),
            4016 => {
                let nofollow = libc::AT_SYMLINK_NOFOLLOW;
                // SAFETY: `p` is the C string `at_path` read.
                self.at_path(cwd, a[0], |d, p| unsafe { libc::fchownat(d, p, a[1], a[2], nofollow) })
            }
            // SAFETY: `p` is the C string `at_path` read.
            4291 => self.at_path(dir(a[0]), a[1], |d, p| unsafe { libc::fchownat(d, p, a[2], a[3], a5[0] as i32) }),
            // SAFETY: `p` is the C string `at_path` read.
            4092 => self.at_path(cwd, a[0], |_, p| unsafe { libc::truncate(p, a[1] as i32 as i64) }),
            // SAFETY: `p` is the C string `at_path` read.
            4211 => self.at_path(cwd, a[0], |_, p| unsafe { libc::truncate(p, pair(a[2], a[3])) }),
            // SAFETY: host calls with integer arguments only.
            4094 => check(unsafe { libc::fchmod(a[0] as i32, a[1]) } as i64),
            // SAFETY: as above.
            4095 => check(unsafe { libc::fchown(a[0] as i32, a[1], a[2]) } as i64),
            // SAFETY: as above.
            4093 => check(unsafe { libc::ftruncate(a[0] as i32, a[1] as i32 as i64) } as i64),
            // SAFETY: as above.
            4212 => check(unsafe { libc::ftruncate(a[0] as i32, pair(a[2], a[3])) } as i64),
            // SAFETY: as above.
            4133 => check(unsafe { libc::fchdir(a[0] as i32) } as i64),
            // SAFETY: as above.
            4118 => check(unsafe { libc::fsync(a[0] as i32) } as i64),
            // SAFETY: as above.
            4152 => check(unsafe { libc::fdatasync(a[0] as i32) } as i64),
            // SAFETY: as above.
            4143 => check(unsafe { libc::flock(a[0] as i32, a[1] as i32) } as i64),
            4036 => {
                // SAFETY: sync takes no arguments.
                unsafe { libc::sync() };
                Ok(0)
            }
            4316 => self.utimensat(dir(a[0]), a[1], a[2], a[3] as i32, false),
            4412 => self.utimensat(dir(a[0]), a[1], a[2], a[3] as i32, true),
            4267 => self.utimes(cwd, a[0], a[1]),
            4292 => self.utimes(dir(a[0]), a[1], a[2]),
            // SAFETY: a host call with an integer argument.
            4342 => check(unsafe { libc::syncfs(a[0] as i32) } as i64),
            4305 => self.sync_file_range(a, a5),
            4099 | 4255 => {
                let p = match self.read_cstr(a[0]) {
                    Ok(p) => self.host_cpath(p),
                    Err(e) => return Some(Err(e)),
                };
                let mut st = [0u64; 15];
                // SAFETY: `p` is a C string, `st` as large as the host's
                // struct statfs (fifteen 64-bit words).
                let r = check(unsafe { libc::syscall(libc::SYS_statfs, p.as_ptr(), st.as_mut_ptr()) });
                let (size, buf) = if nr == 4255 { (Some(a[1]), a[2]) } else { (None, a[1]) };
                r.and_then(|_| self.put_statfs(&st, size, buf))
            }
            4100 | 4256 => {
                let mut st = [0u64; 15];
                // SAFETY: `st` is as large as the host's struct statfs.
                let r = check(unsafe { libc::syscall(libc::SYS_fstatfs, a[0] as i32, st.as_mut_ptr()) });
                let (size, buf) = if nr == 4256 { (Some(a[1]), a[2]) } else { (None, a[1]) };
                r.and_then(|_| self.put_statfs(&st, size, buf))
            }
            4188 => self.poll(a[0], a[1], a[2] as i32),
            4240 => self.sched_getaffinity(a[0], a[1], a[2]),
            4186 => {
                let mut ids = [0; 3];
                let [r, e, s] = &mut ids;
                // SAFETY: three writable ids.
                unsafe { libc::getresuid(r, e, s) };
                self.put_ids(&a[..3], ids)
            }
            4191 => {
                let mut ids = [0; 3];
                let [r, e, s] = &mut ids;
                // SAFETY: three writable ids.
                unsafe { libc::getresgid(r, e, s) };
                self.put_ids(&a[..3], ids)
            }
            // SAFETY: host calls with integer arguments only; the raw
            // getpriority returns 20 - nice, as the guest's kernel would.
            4096 => check(unsafe { libc::syscall(libc::SYS_getpriority, a[0] as i32, a[1] as i32) }),
            // SAFETY: as above.
            4097 => check(unsafe { libc::setpriority(a[0], a[1], a[2] as i32) } as i64),
            4201 => self.pwrite64(a[0], a[1], a[2], pair(a5[0], a5[1])),
            _ => return None,
        })
    }

    /// Reads `path`, then calls `f(dirfd, path)`.
    fn at_path(&mut self, dir: i32, path: u32, f: impl FnOnce(i32, *const libc::c_char) -> i32) -> SysResult {
        let path = self.read_cstr(path)?;
        check(f(dir, path.as_ptr()) as i64)
    }

    fn linkat(&mut self, od: i32, old: u32, nd: i32, new: u32, flags: i32) -> SysResult {
        let (old, new) = (self.read_cstr(old)?, self.read_cstr(new)?);
        // SAFETY: valid C strings.
        check(unsafe { libc::linkat(od, old.as_ptr(), nd, new.as_ptr(), flags) } as i64)
    }

    fn symlinkat(&mut self, target: u32, nd: i32, new: u32) -> SysResult {
        let (target, new) = (self.read_cstr(target)?, self.read_cstr(new)?);
        // SAFETY: valid C strings.
        check(unsafe { libc::symlinkat(target.as_ptr(), nd, new.as_ptr()) } as i64)
    }

    fn renameat2(&mut self, od: i32, old: u32, nd: i32, new: u32, flags: u32) -> SysResult {
        let (old, new) = (self.read_cstr(old)?, self.read_cstr(new)?);
        // SAFETY: valid C strings; renameat2 through syscall(2) for old glibc.
        check(unsafe { libc::syscall(libc::SYS_renameat2, od, old.as_ptr(), nd, new.as_ptr(), flags) })
    }

    /// `utimensat(dir, path, times, flags)`; `times` holds two o32
    /// `timespec`s (32-bit seconds), or two 64-bit ones when `time64`. A
    /// null `path` means `dir` itself (futimens).
    fn utimensat(&mut self, dir: i32, path: u32, times: u32, flags: i32, time64: bool) -> SysResult {
        let path = if path == 0 { None } else { Some(self.read_cstr(path)?) };
        let ts = if times == 0 {
            None
        } else if time64 {
            let b = self.read_mem(times, 32)?;
            let q = |i: usize| {
                i64::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]])
            };
            // The kernel reads only the low half of a compat tv_nsec.
            Some([(q(0), q(8) as i32 as i64), (q(16), q(24) as i32 as i64)])
        } else {
            let w = [0, 1, 2, 3].map(|i| self.read_u32(times.wrapping_add(4 * i)).map(|v| v as i32 as i64));
            let [s0, n0, s1, n1] = w;
            Some([(s0?, n0?), (s1?, n1?)])
        };
        self.host_utimensat(dir, path.as_deref(), ts, flags)
    }

    /// `futimesat(dir, path, times)` (`utimes` with `AT_FDCWD`): two o32
    /// `timeval`s, or null for now. A null `path` means `dir` itself.
    fn utimes(&mut self, dir: i32, path: u32, times: u32) -> SysResult {
        let path = if path == 0 { None } else { Some(self.read_cstr(path)?) };
        let ts = if times == 0 {
            None
        } else {
            let w = [0, 1, 2, 3].map(|i| self.read_u32(times.wrapping_add(4 * i)).map(|v| v as i32 as i64));
            let [s0, u0, s1, u1] = w;
            let (u0, u1) = (u0?, u1?);
            if !(0..1_000_000).contains(&u0) || !(0..1_000_000).contains(&u1) {
                return Err(EINVAL);
            }
            Some([(s0?, u0 * 1000), (s1?, u1 * 1000)])
        };
        self.host_utimensat(dir, path.as_deref(), ts, 0)
    }

    /// `sync_file_range(fd, offset, nbytes, flags)`: o32 passes the 64-bit
    /// offset in an aligned register pair (a2, a3), `nbytes` in the first
    /// two stack words and `flags` in the third, the seventh argument.
    fn sync_file_range(&mut self, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let flags = self.stack_arg(2)?;
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::sync_file_range(a[0] as i32, pair(a[2], a[3]), pair(a5[0], a5[1]), flags) } as i64)
    }

    fn host_utimensat(&mut self, dir: i32, path: Option<&CStr>, ts: Option<[(i64, i64); 2]>, flags: i32) -> SysResult {
        // (UTIME_NOW and UTIME_OMIT have the same values on both sides.)
        let ts = ts.map(|t| t.map(|(s, n)| libc::timespec { tv_sec: s, tv_nsec: n }));
        let tp = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
        let pp = path.map_or(std::ptr::null(), |p| p.as_ptr());
        // SAFETY: `pp` is null or a C string, `tp` null or two timespecs;
        // through syscall(2), since glibc's wrapper refuses a null path.
        check(unsafe { libc::syscall(libc::SYS_utimensat, dir, pp, tp, flags) })
    }

    /// Writes a host (x86-64) `struct statfs`, fifteen words: type, bsize,
    /// blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags,
    /// spare; as the o32 `struct statfs64` (given its size) or, without,
    /// the older `struct statfs`. Both put files and ffree before bavail.
    fn put_statfs(&mut self, st: &[u64; 15], size64: Option<u32>, at: u32) -> SysResult {
        let mut b = Vec::with_capacity(92);
        let w = |b: &mut Vec<u8>, v: u64| b.extend((v as u32).to_le_bytes());
        for v in [st[0], st[1], st[9]] {
            w(&mut b, v);
        }
        let counts = [st[2], st[3], st[5], st[6], st[4]];
        if let Some(size) = size64 {
            if size < 88 {
                return Err(EINVAL);
            }
            w(&mut b, 0);
            for v in counts {
                b.extend(v.to_le_bytes());
            }
        } else {
            // 32-bit counts, saturated.
            for v in counts {
                w(&mut b, v.min(u32::MAX as u64));
            }
        }
        b.extend(st[7].to_le_bytes());
        w(&mut b, st[8]);
        w(&mut b, st[10]);
        b.resize(b.len() + 20, 0);
        if let Some(size) = size64 {
            b.truncate(size as usize);
        }
        self.write_mem(at, &b)?;
        Ok(0)
    }

    /// `poll(fds, n, timeout)`: `struct pollfd` is the same, two event bits
    /// are not. A wait that guest signals end, like `ppoll` without a mask.
    fn poll(&mut self, fds: u32, n: u32, timeout: i32) -> SysResult {
        let mut host = self.read_pollfds(fds, n)?;
        let end = (timeout >= 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let r = self.guest_wait(None, end, |tp, sm| {
            // SAFETY: `host` holds `n` pollfds; `tp` is null or a valid
            // timespec and `sm` a valid sigset (see guest_wait).
            unsafe { libc::ppoll(host.as_mut_ptr(), n as libc::nfds_t, tp, sm) as i64 }
        })?;
        self.write_revents(fds, &host)?;
        Ok(r)
    }

    /// The guest's `struct pollfd[n]` at `fds`, as host pollfds (EINVAL
    /// for more than the descriptor limit, as Linux says).
    pub(super) fn read_pollfds(&self, fds: u32, n: u32) -> Result<Vec<libc::pollfd>, i32> {
        if n as u64 > descriptor_limit().min(1 << 20) {
            return Err(EINVAL);
        }
        let raw = self.read_mem(fds, 8 * n as usize)?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| libc::pollfd {
                fd: i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                events: poll_to_host(u16::from_le_bytes([c[4], c[5]])),
                revents: 0,
            })
            .collect())
    }

    /// Writes the host's `revents` back into the guest's pollfds at `fds`.
    pub(super) fn write_revents(&mut self, fds: u32, host: &[libc::pollfd]) -> Result<(), i32> {
        for (i, p) in host.iter().enumerate() {
            self.write_mem(fds.wrapping_add(8 * i as u32 + 6), &poll_to_guest(p.revents).to_le_bytes())?;
        }
        Ok(())
    }

    /// `sched_getaffinity(pid, len, mask)`: the host's mask, as bytes.
    fn sched_getaffinity(&mut self, pid: u32, len: u32, mask: u32) -> SysResult {
        let len = len.min(1024) as usize;
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` is a writable buffer of `len` bytes.
        let n = check(unsafe { libc::syscall(libc::SYS_sched_getaffinity, pid as i32, len, buf.as_mut_ptr()) })?;
        self.write_mem(mask, &buf[..n as usize])?;
        Ok(n)
    }

    fn put_ids(&mut self, at: &[u32], ids: [u32; 3]) -> SysResult {
        for (&p, id) in at.iter().zip(ids) {
            self.write_u32(p, id)?;
        }
        Ok(0)
    }

    fn pwrite64(&mut self, fd: u32, buf: u32, len: u32, off: i64) -> SysResult {
        let data = self.read_mem(buf, len.min(1 << 24) as usize)?;
        // SAFETY: `data` is a readable buffer of its length.
        check(unsafe { libc::pwrite(fd as i32, data.as_ptr().cast(), data.len(), off) } as i64)
    }
}
