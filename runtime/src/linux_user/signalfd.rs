//! `signalfd`: a descriptor that reads the guest's pending signals.
//!
//! Guest signals are emulated (see `signal.rs`), so the host's signalfd
//! cannot see them. Each guest signalfd is a host eventfd instead, so that
//! `poll`, `select` and `epoll` watch it like any descriptor: it is kept
//! readable exactly while a signal of its mask is pending
//! ([`Process::sync_signalfds`], run after every system call and before
//! each host wait, which a host signal ends), and a `read` of it takes the pending
//! signals as `struct signalfd_siginfo`s. Its O_NONBLOCK is the eventfd's.
//!
//! A copy of one (`dup`, `dup2`, `dup3`, F_DUPFD) is the same signalfd,
//! sharing its mask. One that crosses `execve` is a bare eventfd there.

use super::signal::{SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGSEGV, SIGSET_BYTES, SIGTRAP, SigInfo, unblockable};
use super::*;
use syscalls::check;

/// MIPS `SFD_NONBLOCK` (O_NONBLOCK) and `SFD_CLOEXEC` (O_CLOEXEC).
const SFD_NONBLOCK: u32 = 0x80;
const SFD_CLOEXEC: u32 = 0x8_0000;
/// Bytes of a `struct signalfd_siginfo` (the same on every architecture).
const SSI_BYTES: usize = 128;

/// The `struct signalfd_siginfo` of `sig`, queued with `si`.
fn signalfd_info(sig: u32, si: SigInfo) -> [u8; SSI_BYTES] {
    let mut b = [0u8; SSI_BYTES];
    let mut put = |at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(0, sig);
    put(8, si.code as u32);
    let fault = matches!(sig, SIGILL | SIGTRAP | SIGBUS | SIGFPE | SIGSEGV) && si.code > 0;
    if fault {
        // ssi_addr.
        put(72, si.words[0]);
    } else {
        // ssi_pid and ssi_uid; then a child's status, or a queued value
        // (ssi_int, and ssi_ptr's low word).
        put(12, si.words[0]);
        put(16, si.words[1]);
        if sig == SIGCHLD {
            put(40, si.words[2]);
        } else {
            put(44, si.words[2]);
            put(48, si.words[2]);
        }
    }
    b
}

/// Whether `fd` is readable now.
fn readable(fd: i32) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd, no waiting.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

impl Process {
    /// `signalfd(fd, mask, size)` and `signalfd4(.., flags)`: a new
    /// descriptor for the signals in `mask` (`fd` -1), or a new mask for
    /// the one at `fd`.
    pub(super) fn signalfd(&mut self, fd: u32, mask: u32, size: u32, flags: u32) -> SysResult {
        if size != SIGSET_BYTES || flags & !(SFD_NONBLOCK | SFD_CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let mask = self.read_sigset(mask)? & !unblockable();
        let fd = match fd as i32 {
            -1 => {
                let nonblock = if flags & SFD_NONBLOCK != 0 { libc::EFD_NONBLOCK } else { 0 };
                let cloexec = if flags & SFD_CLOEXEC != 0 { libc::EFD_CLOEXEC } else { 0 };
                // SAFETY: a host call with integer arguments only.
                let new = check(unsafe { libc::eventfd(0, nonblock | cloexec) } as i64)? as i32;
                let id = self.sig.next_signalfd;
                self.sig.next_signalfd += 1;
                self.sig.signalfds.push((new, mask, id));
                new
            }
            fd => {
                let id = self.sig.signalfds.iter().find(|e| e.0 == fd).ok_or(EINVAL)?.2;
                for e in self.sig.signalfds.iter_mut().filter(|e| e.2 == id) {
                    e.1 = mask;
                }
                fd
            }
        };
        Ok(fd as u32)
    }

    /// The mask of the signalfd at `fd`, if it is one.
    pub(super) fn signalfd_mask(&self, fd: u32) -> Option<u128> {
        self.sig.signalfds.iter().find(|e| e.0 == fd as i32).map(|e| e.1)
    }

    /// The guest closed `fd` (`close`, or `dup2`/`dup3` onto it): if it
    /// was a signalfd, it stops being one.
    pub(super) fn forget_signalfd(&mut self, fd: u32) {
        self.sig.signalfds.retain(|e| e.0 != fd as i32);
    }

    /// `new` was made a copy of `old` (whatever `new` was is closed): if
    /// `old` is a signalfd, `new` is the same one.
    pub(super) fn dup_signalfd(&mut self, old: u32, new: u32) {
        if old == new {
            return;
        }
        self.forget_signalfd(new);
        if let Some(&(_, mask, id)) = self.sig.signalfds.iter().find(|e| e.0 == old as i32) {
            self.sig.signalfds.push((new as i32, mask, id));
        }
    }

    /// Makes each signalfd readable if and only if a signal of its mask is
    /// pending (for the running thread).
    pub(super) fn sync_signalfds(&mut self) {
        if self.sig.signalfds.is_empty() {
            return;
        }
        self.sig.poll_host();
        let pending = self.sig.all_pending();
        for &(fd, mask, _) in &self.sig.signalfds {
            let (want, set) = (pending & mask != 0, readable(fd));
            let mut v = 1u64;
            // SAFETY: 8-byte reads and writes of `v` on an eventfd; the
            // read only when it is readable, so it never blocks.
            unsafe {
                if set && !want {
                    libc::read(fd, (&mut v as *mut u64).cast(), 8);
                } else if want && !set {
                    libc::write(fd, (&v as *const u64).cast(), 8);
                }
            }
        }
    }

    /// `read` of the signalfd at `fd` (mask `mask`): as many pending
    /// signals of the mask as `len` holds, lowest first, which stop being
    /// pending; waits for one unless the descriptor is non-blocking.
    pub(super) fn read_signalfd(&mut self, fd: u32, mask: u128, buf: u32, len: u32) -> SysResult {
        if (len as usize) < SSI_BYTES {
            return Err(EINVAL);
        }
        if !self.allowed(buf, SSI_BYTES, page_perm::WRITE) {
            return Err(EFAULT);
        }
        self.sig.poll_host();
        if self.sig.all_pending() & mask == 0 {
            // SAFETY: a host call with integer arguments only.
            let nonblocking = unsafe { libc::fcntl(fd as i32, libc::F_GETFL) } & libc::O_NONBLOCK != 0;
            if nonblocking {
                return Err(mips_errno(libc::EAGAIN));
            }
            self.wait_pending(mask, None)?;
        }
        // As many as fit, lowest signal first (a real-time one as often as
        // it is queued).
        let mut out = Vec::new();
        while out.len() + SSI_BYTES <= len as usize {
            let ready = self.sig.all_pending() & mask;
            if ready == 0 {
                break;
            }
            let sig = ready.trailing_zeros() + 1;
            out.extend(signalfd_info(sig, self.sig.take(sig)));
        }
        self.write_mem(buf, &out)?;
        Ok(out.len() as u32)
    }
}
