//! `fcntl` and `fcntl64`: descriptor flags, record locks (process-owned
//! and open-file-description ones), the owner and signal of SIGIO,
//! leases, directory notification, pipe sizes and seals.
//!
//! MIPS numbers three commands its own way (F_GETLK 14, F_GETOWN 23,
//! F_SETOWN 24), and o32 has two lock layouts: `struct flock`, with 32-bit
//! offsets (and an `l_sysid` and padding), for the `fcntl` call's locks and
//! `fcntl64`'s F_GETLK/F_SETLK/F_SETLKW; `struct flock64`, with 64-bit
//! ones, for `fcntl64`'s F_*LK64 and F_OFD_*LK. The commands above 1024
//! have the host's numbers and arguments.
//!
//! A lock that must wait (F_SETLKW and friends) waits in the host when
//! the process has one thread. With green threads (see `threads.rs`) it
//! is tried without waiting instead, and tried again after the other
//! threads' turns while the range is busy: another process may hold it,
//! and for open-file-description locks another thread of this one.

use super::signal::{guest_sig, host_sig};
use super::syscalls::{check, guest_open_flags, open_flags};
use super::*;

const F_DUPFD: u32 = 0;
const F_DUPFD_CLOEXEC: u32 = 1030;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_SETLK: u32 = 6;
const F_SETLKW: u32 = 7;
const F_SETSIG: u32 = 10;
const F_GETSIG: u32 = 11;
const F_GETLK: u32 = 14;
const F_SETOWN_EX: u32 = 15;
const F_GETOWN_EX: u32 = 16;
const F_GETOWN: u32 = 23;
const F_SETOWN: u32 = 24;
const F_GETLK64: u32 = 33;
const F_SETLK64: u32 = 34;
const F_SETLKW64: u32 = 35;
const F_OFD_GETLK: u32 = 36;
const F_OFD_SETLK: u32 = 37;
const F_OFD_SETLKW: u32 = 38;
/// F_SETLEASE, F_GETLEASE, F_NOTIFY; F_SETPIPE_SZ, F_GETPIPE_SZ,
/// F_ADD_SEALS, F_GET_SEALS: the host's numbers and arguments (integers).
const SAME_AS_HOST: [u32; 7] = [1024, 1025, 1026, 1031, 1032, 1033, 1034];

/// Bytes of o32 `struct flock`: type, whence (16-bit), start, len, sysid,
/// pid (32-bit), four words of padding.
const FLOCK_BYTES: usize = 36;
/// Bytes of o32 `struct flock64`: type, whence, padding to 8, start, len
/// (64-bit), pid, padding to 8.
const FLOCK64_BYTES: usize = 32;

/// What a lock command does, and with which layout.
#[derive(Clone, Copy)]
struct LockCmd {
    /// The host command (F_GETLK, F_SETLK, F_SETLKW or an F_OFD_ one).
    host: i32,
    /// The o32 `struct flock64` rather than `struct flock`.
    wide: bool,
}

/// The lock command `cmd` of `fcntl` (`wide_call`: `fcntl64`), if it is one.
fn lock_cmd(cmd: u32, wide_call: bool) -> Option<LockCmd> {
    let (host, wide) = match cmd {
        F_GETLK => (libc::F_GETLK, false),
        F_SETLK => (libc::F_SETLK, false),
        F_SETLKW => (libc::F_SETLKW, false),
        F_GETLK64 => (libc::F_GETLK, true),
        F_SETLK64 => (libc::F_SETLK, true),
        F_SETLKW64 => (libc::F_SETLKW, true),
        // `fcntl` reads these as `struct flock`, `fcntl64` as `flock64`.
        F_OFD_GETLK => (libc::F_OFD_GETLK, wide_call),
        F_OFD_SETLK => (libc::F_OFD_SETLK, wide_call),
        F_OFD_SETLKW => (libc::F_OFD_SETLKW, wide_call),
        _ => return None,
    };
    Some(LockCmd { host, wide })
}

impl Process {
    /// `fcntl(fd, cmd, arg)` (`wide`: `fcntl64`).
    pub(super) fn fcntl(&mut self, fd: u32, cmd: u32, arg: u32, wide: bool) -> SysResult {
        let fd = fd as i32;
        if let Some(lock) = lock_cmd(cmd, wide) {
            return self.lock(fd, lock, arg);
        }
        // SAFETY: a host fcntl with integer arguments only.
        let host = |c: i32, v: i32| check(unsafe { libc::fcntl(fd, c, v) } as i64);
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let c = if cmd == F_DUPFD { libc::F_DUPFD } else { libc::F_DUPFD_CLOEXEC };
                let new = host(c, arg as i32)?;
                self.dup_signalfd(fd as u32, new);
                Ok(new)
            }
            F_GETFD => host(libc::F_GETFD, 0),
            F_SETFD => host(libc::F_SETFD, arg as i32),
            F_GETFL => host(libc::F_GETFL, 0).map(|f| guest_open_flags(f as i32)),
            F_SETFL => host(libc::F_SETFL, open_flags(arg)),
            F_GETOWN => host(libc::F_GETOWN, 0),
            F_SETOWN => host(libc::F_SETOWN, arg as i32),
            // 0 means SIGIO on both; other numbers are the guest's. The
            // command's number is the host's too (libc does not name it).
            F_SETSIG => {
                let sig = if arg == 0 { 0 } else { host_sig(arg).ok_or(EINVAL)? };
                host(F_SETSIG as i32, sig)
            }
            F_GETSIG => match host(F_GETSIG as i32, 0)? {
                0 => Ok(0),
                h => guest_sig(h as i32).ok_or(EINVAL),
            },
            // `struct f_owner_ex` (two ints) is laid out alike, and the
            // commands have the host's numbers.
            F_GETOWN_EX => {
                let mut o = [0i32; 2];
                // SAFETY: `o` has room for the `struct f_owner_ex` written.
                check(unsafe { libc::fcntl(fd, F_GETOWN_EX as i32, o.as_mut_ptr()) } as i64)?;
                let b: Vec<u8> = o.iter().flat_map(|v| v.to_le_bytes()).collect();
                self.write_mem(arg, &b)?;
                Ok(0)
            }
            F_SETOWN_EX => {
                let b = self.read_mem(arg, 8)?;
                let word = |i: usize| i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                let o = [word(0), word(4)];
                // SAFETY: `o` is a `struct f_owner_ex`, only read.
                check(unsafe { libc::fcntl(fd, F_SETOWN_EX as i32, o.as_ptr()) } as i64)
            }
            c if SAME_AS_HOST.contains(&c) => host(c as i32, arg as i32),
            _ => Err(EINVAL),
        }
    }

    /// A record-lock command with the guest's `struct flock(64)` at `at`.
    fn lock(&mut self, fd: i32, cmd: LockCmd, at: u32) -> SysResult {
        let mut raw = self.read_mem(at, if cmd.wide { FLOCK64_BYTES } else { FLOCK_BYTES })?;
        let half = |i: usize| i16::from_le_bytes([raw[i], raw[i + 1]]);
        let word = |i: usize| i32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
        let dword = |i: usize| word(i) as u32 as i64 | (word(i + 4) as i64) << 32;
        // SAFETY: an all-zero flock is valid.
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = half(0);
        fl.l_whence = half(2);
        // The 32-bit layout's offsets are signed, as the kernel's `off_t`.
        (fl.l_start, fl.l_len) = if cmd.wide { (dword(8), dword(16)) } else { (word(4) as i64, word(8) as i64) };
        fl.l_pid = word(if cmd.wide { 24 } else { 16 });

        let waits = cmd.host == libc::F_SETLKW || cmd.host == libc::F_OFD_SETLKW;
        if waits && self.threads.shared() {
            let now = if cmd.host == libc::F_SETLKW { libc::F_SETLK } else { libc::F_OFD_SETLK };
            // SAFETY: `fl` is a valid flock.
            let r = unsafe { libc::fcntl(fd, now, &mut fl) };
            let e = std::io::Error::last_os_error().raw_os_error();
            return match (r, e) {
                (0.., _) => Ok(0),
                (_, Some(libc::EAGAIN | libc::EACCES)) => self.threads.retry(None),
                _ => Err(mips_errno(e.unwrap_or(libc::EINVAL))),
            };
        }
        // SAFETY: `fl` is a valid flock.
        check(unsafe { libc::fcntl(fd, cmd.host, &mut fl) } as i64)?;
        if cmd.host != libc::F_GETLK && cmd.host != libc::F_OFD_GETLK {
            return Ok(0);
        }
        // F_GETLK writes back the conflicting lock, or only F_UNLCK; the
        // rest of the structure is the caller's, as the kernel leaves it.
        raw[0..2].copy_from_slice(&fl.l_type.to_le_bytes());
        if fl.l_type != libc::F_UNLCK as i16 {
            raw[2..4].copy_from_slice(&fl.l_whence.to_le_bytes());
            if cmd.wide {
                raw[8..16].copy_from_slice(&fl.l_start.to_le_bytes());
                raw[16..24].copy_from_slice(&fl.l_len.to_le_bytes());
                raw[24..28].copy_from_slice(&fl.l_pid.to_le_bytes());
            } else {
                // A lock past 2 GiB does not fit `struct flock`.
                let end = if fl.l_len == 0 { fl.l_start } else { fl.l_start + fl.l_len - 1 };
                if fl.l_start > i32::MAX as i64 || end > i32::MAX as i64 {
                    return Err(mips_errno(libc::EOVERFLOW));
                }
                raw[4..8].copy_from_slice(&(fl.l_start as i32).to_le_bytes());
                raw[8..12].copy_from_slice(&(fl.l_len as i32).to_le_bytes());
                raw[16..20].copy_from_slice(&fl.l_pid.to_le_bytes());
            }
        }
        self.write_mem(at, &raw)?;
        Ok(0)
    }
}
