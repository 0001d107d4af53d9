//! More file calls, on the host's: `creat`, `utime`, `fallocate`,
//! `readahead`, `fadvise64`, `sendfile` (32-bit offset), `splice`, `tee`,
//! `copy_file_range`, `preadv`/`pwritev` and their `2` forms,
//! `memfd_create`, `close_range`, and the extended-attribute calls.
//!
//! o32 passes a 64-bit argument in an aligned register pair (low word
//! first on little-endian), so a call's later arguments move to the
//! stack: `fadvise64`'s advice is its seventh word.

use super::fs::pair;
use super::syscalls::check;
use super::*;

/// Most bytes one call moves through a buffer of the emulator's.
const MAX_IO: usize = 1 << 24;
/// `close_range`'s CLOSE_RANGE_CLOEXEC: mark, do not close.
const CLOSE_RANGE_CLOEXEC: u32 = 4;
/// Longest extended attribute value or name list the calls copy (Linux's
/// XATTR_SIZE_MAX and XATTR_LIST_MAX).
const XATTR_MAX: u32 = 65536;

impl Process {
    /// The calls of this module; `None` when `nr` is not one.
    pub(super) fn fileio_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        let fd = a[0] as i32;
        Some(match nr {
            // creat: open with O_CREAT | O_WRONLY | O_TRUNC (MIPS numbers).
            4008 => self.openat(libc::AT_FDCWD, a[0], 0x100 | 1 | 0x200, a[1]),
            4030 => self.utime(a[0], a[1]),
            // SAFETY: a host call with integer arguments only.
            4320 => check(unsafe { libc::fallocate(fd, a[1] as i32, pair(a[2], a[3]), pair(a5[0], a5[1])) } as i64),
            // SAFETY: a host call with integer arguments only.
            4223 => check(unsafe { libc::readahead(fd, pair(a[2], a[3]), a5[0] as usize) } as i64),
            4254 => self.fadvise64(fd, pair(a[2], a[3]), pair(a5[0], a5[1])),
            4207 | 4237 => self.sendfile(a, nr == 4237),
            4304 => self.splice(a, a5),
            // SAFETY: a host call with integer arguments only.
            4306 => check(unsafe { libc::tee(fd, a[1] as i32, a[2] as usize, a[3]) } as i64),
            4360 => self.copy_file_range(a, a5),
            4330 | 4361 => self.preadv(a, a5, nr == 4361),
            4331 | 4362 => self.pwritev(a, a5, nr == 4362),
            4354 => self.read_cstr(a[0]).and_then(|name| {
                // SAFETY: `name` is a valid C string; the flags are the host's.
                check(unsafe { libc::syscall(libc::SYS_memfd_create, name.as_ptr(), a[1]) })
            }),
            4436 => {
                if a[2] & CLOSE_RANGE_CLOEXEC == 0 {
                    self.sig.signalfds.retain(|e| !(a[0]..=a[1]).contains(&(e.0 as u32)));
                }
                // SAFETY: a host call with integer arguments only.
                check(unsafe { libc::syscall(libc::SYS_close_range, a[0], a[1], a[2]) })
            }
            4224..=4235 => self.xattr(nr, a, a5[0]),
            4307 => self.vmsplice(fd, a[1], a[2], a[3]),
            4103 => self.syslog(a[0] as i32, a[1], a[2] as i32),
            _ => return None,
        })
    }

    /// `syslog(type, buf, len)` (glibc's `klogctl`): the host kernel's
    /// log, as qemu-mipsel gives it; the reads copy into the guest's buffer.
    fn syslog(&mut self, kind: i32, buf: u32, len: i32) -> SysResult {
        // SYSLOG_ACTION_READ, _READ_ALL, _READ_CLEAR.
        if !(2..=4).contains(&kind) || len <= 0 {
            // SAFETY: a host call with integer arguments (no buffer).
            return check(unsafe { libc::syscall(libc::SYS_syslog, kind, 0usize, len) });
        }
        let mut tmp = vec![0u8; (len as usize).min(1 << 24)];
        // SAFETY: `tmp` is writable for its length.
        let n = check(unsafe { libc::syscall(libc::SYS_syslog, kind, tmp.as_mut_ptr(), tmp.len()) })?;
        self.write_mem(buf, &tmp[..n as usize])?;
        Ok(n)
    }

    /// `vmsplice(fd, iov, n, flags)`: to a pipe's write end, the guest's
    /// buffers are written (as `writev`); from its read end, read into them
    /// (as `readv`). Linux may instead lend the pages to the pipe; the
    /// bytes are the same. SPLICE_F_NONBLOCK does not wait.
    fn vmsplice(&mut self, fd: i32, iov: u32, n: u32, flags: u32) -> SysResult {
        const SPLICE_F_NONBLOCK: u32 = 2;
        if n > 1024 {
            return Err(EINVAL);
        }
        // SAFETY: an all-zero stat is valid; fstat and fcntl take integers.
        let (is_pipe, mode) = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            let pipe = libc::fstat(fd, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFIFO;
            (pipe, libc::fcntl(fd, libc::F_GETFL) & libc::O_ACCMODE)
        };
        if !is_pipe || mode == libc::O_RDWR {
            return Err(EBADF);
        }
        let nonblocking = flags & SPLICE_F_NONBLOCK != 0;
        if mode == libc::O_RDONLY {
            return self.readv(fd as u32, iov, n, nonblocking);
        }
        if !nonblocking {
            return self.writev(fd as u32, iov, n);
        }
        let data = self.gather(iov, n)?;
        // SAFETY: `data` is readable for its length.
        let r = threads::with_nonblocking(fd, |fd| unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) });
        check(r as i64)
    }

    /// `utime(path, times)`: `struct utimbuf` is two 32-bit times; none
    /// means now.
    fn utime(&mut self, path: u32, times: u32) -> SysResult {
        let p = self.host_cpath(self.read_cstr(path)?);
        let ts = if times == 0 {
            None
        } else {
            let t = |s: u32| libc::timespec { tv_sec: s as i32 as i64, tv_nsec: 0 };
            Some([t(self.read_u32(times)?), t(self.read_u32(times.wrapping_add(4))?)])
        };
        let ptr = ts.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
        // SAFETY: `p` is a C string, `ptr` null or two timespecs.
        check(unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), ptr, 0) } as i64)
    }

    /// `fadvise64(fd, pad, offset, len, advice)`: the advice is the
    /// seventh argument word, on the stack. The call answers an errno
    /// itself (it does not set one).
    fn fadvise64(&mut self, fd: i32, off: i64, len: i64) -> SysResult {
        let advice = self.stack_arg(2)?;
        // SAFETY: a host call with integer arguments only.
        match unsafe { libc::posix_fadvise(fd, off, len, advice as i32) } {
            0 => Ok(0),
            e => Err(mips_errno(e)),
        }
    }

    /// `sendfile(out, in, offset, count)`, with a 32-bit `off_t` at
    /// `offset`, or (`wide`: `sendfile64`) a 64-bit one; the offset moves
    /// on by what was sent (also by the parts of one sent in turns).
    fn sendfile(&mut self, a: [u32; 4], wide: bool) -> SysResult {
        let offset = match (a[2], wide) {
            (0, _) => None,
            (at, true) => self.read_loff(at)?,
            (at, false) => Some(self.read_u32(at)? as i32 as i64),
        };
        let cell = offset.map(std::cell::Cell::new);
        let count = a[3].min(MAX_IO as u32);
        let r = self.write_out(a[0] as i32, threads::Write::File { file: a[1] as i32, offset: cell.as_ref(), count });
        // Written back on success, as Linux does, and while a call sent in
        // parts waits (the offset it goes on from).
        let moved = cell.map(std::cell::Cell::into_inner);
        if let Some(off) = moved.filter(|_| r.is_ok() || moved != offset) {
            if wide {
                self.write_mem(a[2], &off.to_le_bytes())?;
            } else {
                self.write_u32(a[2], off as u32)?;
            }
        }
        r
    }

    /// A `loff_t` at `at` (none if `at` is 0).
    pub(super) fn read_loff(&self, at: u32) -> Result<Option<i64>, i32> {
        if at == 0 {
            return Ok(None);
        }
        let b = self.read_mem(at, 8)?;
        Ok(Some(i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))
    }

    /// Runs `f` with host pointers to the offsets at guest `in_at` and
    /// `out_at` (null where those are 0), and writes the offsets back.
    fn with_offsets(&mut self, in_at: u32, out_at: u32, f: impl FnOnce(*mut i64, *mut i64) -> i64) -> SysResult {
        let (mut i, mut o) = (self.read_loff(in_at)?, self.read_loff(out_at)?);
        let ptr = |v: &mut Option<i64>| v.as_mut().map_or(std::ptr::null_mut(), |x| x as *mut i64);
        let n = check(f(ptr(&mut i), ptr(&mut o)))?;
        for (at, v) in [(in_at, i), (out_at, o)] {
            if let Some(v) = v {
                self.write_mem(at, &v.to_le_bytes())?;
            }
        }
        Ok(n)
    }

    /// `splice(in, in_offset, out, out_offset, len, flags)`.
    fn splice(&mut self, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let len = (a5[0] as usize).min(MAX_IO);
        // SAFETY: the offsets are null or valid for the host to update.
        self.with_offsets(a[1], a[3], |i, o| unsafe { libc::splice(a[0] as i32, i, a[2] as i32, o, len, a5[1]) as i64 })
    }

    /// `copy_file_range(in, in_offset, out, out_offset, len, flags)`.
    fn copy_file_range(&mut self, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let len = (a5[0] as usize).min(MAX_IO);
        // SAFETY: the offsets are null or valid for the host to update.
        self.with_offsets(a[1], a[3], |i, o| unsafe {
            libc::copy_file_range(a[0] as i32, i, a[2] as i32, o, len, a5[1]) as i64
        })
    }

    /// The position of `preadv`/`pwritev` (`v2`: their `2` forms, where -1
    /// means the file's own position), and the `2` forms' flags.
    fn vector_position(&self, a: [u32; 4], a5: [u32; 2], v2: bool) -> Result<(i64, i32), i32> {
        let pos = pair(a[3], a5[0]);
        if pos < 0 && !(v2 && pos == -1) {
            return Err(EINVAL);
        }
        Ok((pos, if v2 { a5[1] as i32 } else { 0 }))
    }

    /// `preadv(fd, iov, count, pos_lo, pos_hi)` and `preadv2(.., flags)`.
    fn preadv(&mut self, a: [u32; 4], a5: [u32; 2], v2: bool) -> SysResult {
        let (pos, flags) = self.vector_position(a, a5, v2)?;
        let vecs = self.iovecs(a[1], a[2])?;
        let total = vecs.iter().map(|v| v.1 as usize).sum::<usize>().min(MAX_IO);
        let mut tmp = vec![0u8; total];
        let iov = libc::iovec { iov_base: tmp.as_mut_ptr().cast(), iov_len: total };
        // SAFETY: `iov` describes `tmp`, writable for `total` bytes.
        let got = check(unsafe { libc::preadv2(a[0] as i32, &iov, 1, pos, flags) } as i64)? as usize;
        self.scatter(&vecs, &tmp[..got])?;
        Ok(got as u32)
    }

    /// `pwritev(fd, iov, count, pos_lo, pos_hi)` and `pwritev2(.., flags)`.
    fn pwritev(&mut self, a: [u32; 4], a5: [u32; 2], v2: bool) -> SysResult {
        let (pos, flags) = self.vector_position(a, a5, v2)?;
        let mut data = self.gather(a[1], a[2])?;
        data.truncate(MAX_IO);
        let iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
        // SAFETY: `iov` describes `data`, readable for its length.
        check(unsafe { libc::pwritev2(a[0] as i32, &iov, 1, pos, flags) } as i64)
    }

    /// The extended-attribute calls: `set`, `get`, `list` and `remove`,
    /// each on a path, a path without following a last link (`l`), and a
    /// descriptor (`f`). Names, values and lists are bytes on both sides.
    fn xattr(&mut self, nr: u32, a: [u32; 4], flags: u32) -> SysResult {
        let kind = (nr - 4224) / 3; // 0 set, 1 get, 2 list, 3 remove
        let target = (nr - 4224) % 3; // 0 path, 1 lpath, 2 fd
        let path = if target == 2 { None } else { Some(self.host_cpath(self.read_cstr(a[0])?)) };
        let name = if kind == 2 { None } else { Some(self.read_cstr(a[1])?) };
        let name_ptr = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
        let fd = a[0] as i32;
        let call = |p: *const libc::c_char, buf: *mut libc::c_void, size: usize| -> isize {
            // SAFETY: `p` and `name_ptr` are C strings (or null where the
            // call takes none), and `buf` holds the `size` bytes the call
            // reads, or has room for those it writes.
            unsafe {
                match (kind, target) {
                    (0, 0) => libc::setxattr(p, name_ptr, buf, size, flags as i32) as isize,
                    (0, 1) => libc::lsetxattr(p, name_ptr, buf, size, flags as i32) as isize,
                    (0, _) => libc::fsetxattr(fd, name_ptr, buf, size, flags as i32) as isize,
                    (1, 0) => libc::getxattr(p, name_ptr, buf, size),
                    (1, 1) => libc::lgetxattr(p, name_ptr, buf, size),
                    (1, _) => libc::fgetxattr(fd, name_ptr, buf, size),
                    (2, 0) => libc::listxattr(p, buf.cast(), size),
                    (2, 1) => libc::llistxattr(p, buf.cast(), size),
                    (2, _) => libc::flistxattr(fd, buf.cast(), size),
                    (_, 0) => libc::removexattr(p, name_ptr) as isize,
                    (_, 1) => libc::lremovexattr(p, name_ptr) as isize,
                    _ => libc::fremovexattr(fd, name_ptr) as isize,
                }
            }
        };
        let p = path.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        // set: (path, name, value, size, flags); get: (path, name, value,
        // size); list: (path, list, size).
        let (buf_at, size) = if kind == 2 { (a[1], a[2]) } else { (a[2], a[3]) };
        match kind {
            0 => {
                let mut value = self.read_mem(buf_at, size.min(XATTR_MAX) as usize)?;
                if size > XATTR_MAX {
                    return Err(mips_errno(libc::E2BIG));
                }
                check(call(p, value.as_mut_ptr().cast(), value.len()) as i64)
            }
            1 | 2 => {
                let mut out = vec![0u8; size.min(XATTR_MAX) as usize];
                let n = check(call(p, out.as_mut_ptr().cast(), out.len()) as i64)?;
                if size != 0 {
                    self.write_mem(buf_at, &out[..n as usize])?;
                }
                Ok(n)
            }
            _ => check(call(p, std::ptr::null_mut(), 0) as i64),
        }
    }
}
