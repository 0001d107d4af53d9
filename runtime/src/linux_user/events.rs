//! Event descriptors: `eventfd`, `timerfd`, `epoll` and `inotify`, on the
//! host's.
//!
//! The guest's descriptors are the host's, so an epoll set watches them
//! directly. What differs is layout and flags: o32 aligns `struct
//! epoll_event`'s 64-bit `data` to 8 (16 bytes; x86-64 packs it into 12),
//! and MIPS's O_NONBLOCK (behind EFD_NONBLOCK) is 0x80. A wait ends on a
//! guest signal and lets other guest threads run, as `ppoll` does (see
//! [`Process::guest_wait`]). inotify's events read the same on both.

use super::signal::deadline;
use super::*;
use std::time::{Duration, Instant};
use syscalls::check;

/// `EFD_SEMAPHORE`, the same on both.
const EFD_SEMAPHORE: u32 = 1;
/// MIPS `EFD_NONBLOCK`, `TFD_NONBLOCK` and `IN_NONBLOCK` (O_NONBLOCK).
const EFD_NONBLOCK: u32 = 0x80;
/// `EFD_CLOEXEC`, `TFD_CLOEXEC`, `EPOLL_CLOEXEC` and `IN_CLOEXEC`: O_CLOEXEC, the same
/// on both.
const CLOEXEC: u32 = 0x8_0000;
/// Size of an o32 `struct epoll_event`.
const EVENT_BYTES: usize = 16;
/// Most events one wait returns (Linux: INT_MAX / sizeof(event)).
const MAX_EVENTS: u32 = i32::MAX as u32 / EVENT_BYTES as u32;

fn zero_time() -> libc::timespec {
    libc::timespec { tv_sec: 0, tv_nsec: 0 }
}

impl Process {
    /// eventfd and epoll calls; `None` when `nr` is not one.
    pub(super) fn events_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4319 => self.eventfd(a[0], 0),
            4325 => self.eventfd(a[0], a[1]),
            4248 if (a[0] as i32) <= 0 => Err(EINVAL),
            4248 => self.epoll_create(0),
            4326 => self.epoll_create(a[0]),
            4249 => self.epoll_ctl(a),
            4250 => self.epoll_wait(a, None, None),
            4313 => self.epoll_wait(a, None, Some(a5)),
            4441 => self.epoll_pwait2(a, a5),
            4321 => self.timerfd_create(a[0], a[1]),
            4323 => self.timerfd_settime(a, false),
            4411 => self.timerfd_settime(a, true),
            4322 => self.timerfd_gettime(a[0], a[1], false),
            4410 => self.timerfd_gettime(a[0], a[1], true),
            4284 => self.inotify_init(0),
            4329 => self.inotify_init(a[0]),
            4285 => self.inotify_add_watch(a[0], a[1], a[2]),
            // SAFETY: a host call with integer arguments only.
            4286 => check(unsafe { libc::inotify_rm_watch(a[0] as i32, a[1] as i32) } as i64),
            _ => return None,
        })
    }

    fn eventfd(&mut self, init: u32, flags: u32) -> SysResult {
        if flags & !(EFD_SEMAPHORE | EFD_NONBLOCK | CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let mut host = (flags & EFD_SEMAPHORE) as i32;
        if flags & EFD_NONBLOCK != 0 {
            host |= libc::EFD_NONBLOCK;
        }
        if flags & CLOEXEC != 0 {
            host |= libc::EFD_CLOEXEC;
        }
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::eventfd(init, host) } as i64)
    }

    fn inotify_init(&mut self, flags: u32) -> SysResult {
        if flags & !(EFD_NONBLOCK | CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let nonblock = if flags & EFD_NONBLOCK != 0 { libc::IN_NONBLOCK } else { 0 };
        let cloexec = if flags & CLOEXEC != 0 { libc::IN_CLOEXEC } else { 0 };
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::inotify_init1(nonblock | cloexec) } as i64)
    }

    fn inotify_add_watch(&mut self, fd: u32, path: u32, mask: u32) -> SysResult {
        let path = self.host_cpath(self.read_cstr(path)?);
        // SAFETY: `path` is a C string that outlives the call.
        check(unsafe { libc::inotify_add_watch(fd as i32, path.as_ptr(), mask) } as i64)
    }

    fn timerfd_create(&mut self, clock: u32, flags: u32) -> SysResult {
        if flags & !(EFD_NONBLOCK | CLOEXEC) != 0 {
            return Err(EINVAL);
        }
        let nonblock = if flags & EFD_NONBLOCK != 0 { libc::TFD_NONBLOCK } else { 0 };
        let cloexec = if flags & CLOEXEC != 0 { libc::TFD_CLOEXEC } else { 0 };
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::timerfd_create(clock as i32, nonblock | cloexec) } as i64)
    }

    /// An o32 `struct itimerspec` (64-bit times when `wide`).
    pub(super) fn read_itimerspec(&self, at: u32, wide: bool) -> Result<libc::itimerspec, i32> {
        let half = if wide { 16 } else { 8 };
        Ok(libc::itimerspec {
            it_interval: self.read_timespec(at, wide)?,
            it_value: self.read_timespec(at.wrapping_add(half), wide)?,
        })
    }

    pub(super) fn write_itimerspec(&mut self, at: u32, t: libc::itimerspec, wide: bool) -> Result<(), i32> {
        let half = if wide { 16 } else { 8 };
        self.write_timespec(at, t.it_interval, wide)?;
        self.write_timespec(at.wrapping_add(half), t.it_value, wide)
    }

    /// `timerfd_settime(fd, flags, new, old)`.
    fn timerfd_settime(&mut self, a: [u32; 4], wide: bool) -> SysResult {
        let new = self.read_itimerspec(a[2], wide)?;
        let mut old = libc::itimerspec { it_interval: zero_time(), it_value: zero_time() };
        // SAFETY: `new` and `old` are valid itimerspecs.
        check(unsafe { libc::timerfd_settime(a[0] as i32, a[1] as i32, &new, &mut old) } as i64)?;
        if a[3] != 0 {
            self.write_itimerspec(a[3], old, wide)?;
        }
        Ok(0)
    }

    fn timerfd_gettime(&mut self, fd: u32, at: u32, wide: bool) -> SysResult {
        let mut cur = libc::itimerspec { it_interval: zero_time(), it_value: zero_time() };
        // SAFETY: `cur` is a valid itimerspec to fill.
        check(unsafe { libc::timerfd_gettime(fd as i32, &mut cur) } as i64)?;
        self.write_itimerspec(at, cur, wide)?;
        Ok(0)
    }

    fn epoll_create(&mut self, flags: u32) -> SysResult {
        if flags & !CLOEXEC != 0 {
            return Err(EINVAL);
        }
        let host = if flags & CLOEXEC != 0 { libc::EPOLL_CLOEXEC } else { 0 };
        // SAFETY: a host call with an integer argument only.
        check(unsafe { libc::epoll_create1(host) } as i64)
    }

    /// `epoll_ctl(epfd, op, fd, event)`.
    fn epoll_ctl(&mut self, a: [u32; 4]) -> SysResult {
        let (epfd, op, fd, at) = (a[0] as i32, a[1] as i32, a[2] as i32, a[3]);
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // EPOLL_CTL_DEL takes no event (older kernels wanted one, unread).
        if op != libc::EPOLL_CTL_DEL {
            let b = self.read_mem(at, EVENT_BYTES)?;
            ev.events = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            ev.u64 = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
        }
        // SAFETY: `ev` is a valid event for the call to read.
        check(unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) } as i64)
    }

    /// `epoll_pwait2(epfd, events, maxevents, timeout, sigmask,
    /// sigsetsize)`: the timeout is a 64-bit `timespec`.
    fn epoll_pwait2(&mut self, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let end = if a[3] == 0 { None } else { Some(deadline(self.read_timespec(a[3], true)?)?) };
        self.epoll_wait(a, Some(end), Some(a5))
    }

    /// `epoll_wait(epfd, events, maxevents, timeout_ms)`, and with `sig`
    /// (the stack arguments: sigmask, sigsetsize) `epoll_pwait`; `end`
    /// is `epoll_pwait2`'s deadline (outer `None`: the milliseconds in
    /// `a[3]` say).
    fn epoll_wait(&mut self, a: [u32; 4], end: Option<Option<Instant>>, sig: Option<[u32; 2]>) -> SysResult {
        let (epfd, at, max) = (a[0] as i32, a[1], a[2]);
        if max == 0 || max > MAX_EVENTS {
            return Err(EINVAL);
        }
        if !self.allowed(at, max as usize * EVENT_BYTES, page_perm::WRITE) {
            return Err(EFAULT);
        }
        let end = match end {
            Some(e) => e,
            None if (a[3] as i32) < 0 => None,
            None => Some(Instant::now() + Duration::from_millis(a[3] as u64)),
        };
        let mask = match sig {
            Some([set, size]) => self.wait_mask(set, size)?,
            None => None,
        };
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let mut host = vec![libc::epoll_event { events: 0, u64: 0 }; max as usize];
        let n = self.guest_wait(mask, end, |tp, sm| {
            // Milliseconds, rounded up (epoll_pwait2 would take the
            // timespec, but hosts before Linux 5.11 lack it).
            // SAFETY: `tp` is null or a valid timespec (see guest_wait).
            let ms = unsafe { tp.as_ref() }.map_or(-1, |t| {
                (t.tv_sec.saturating_mul(1000) + (t.tv_nsec + 999_999) / 1_000_000).min(i32::MAX as i64) as i32
            });
            // SAFETY: `host` holds `max` events and `sm` is a valid sigset.
            unsafe { libc::epoll_pwait(epfd, host.as_mut_ptr(), max as i32, ms, sm) as i64 }
        })?;
        let mut b = Vec::with_capacity(n as usize * EVENT_BYTES);
        for e in &host[..n as usize] {
            let (events, data) = (e.events, e.u64);
            b.extend(events.to_le_bytes());
            b.extend([0; 4]);
            b.extend(data.to_le_bytes());
        }
        self.write_mem(at, &b)?;
        Ok(n)
    }
}
