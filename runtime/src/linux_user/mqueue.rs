//! POSIX message queues: `mq_open`, `mq_unlink`, `mq_timedsend`,
//! `mq_timedreceive` (and their time64 twins), `mq_notify`,
//! `mq_getsetattr`, on the host's queues.
//!
//! The guest's structures are 32-bit (`struct mq_attr` is eight longs) and
//! its O_NONBLOCK is 0x80. With other green threads, a send to a full queue
//! or a receive from an empty one looks once and runs again after their
//! turns, until the guest's deadline, rather than stopping them in the host.

use super::timers::{SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD};
use super::*;
use std::time::Instant;

/// The largest message Linux allows (HARD_MSGSIZEMAX).
const MAX_MSG: usize = 16 << 20;
/// The bytes of the cookie a SIGEV_THREAD notification sends to its
/// netlink socket (how glibc implements it).
const NOTIFY_COOKIE_LEN: usize = 32;
/// MIPS's O_NONBLOCK, in `mq_flags`.
const GUEST_NONBLOCK: u32 = 0x80;

impl Process {
    /// Message queue calls; `None` when `nr` is not one.
    pub(super) fn mq_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4271 => self.mq_open(a[0], a[1], a[2], a[3]),
            4272 => self.read_cstr(a[0]).and_then(|name| {
                // SAFETY: `name` is a NUL-terminated string.
                syscalls::check(unsafe { libc::syscall(libc::SYS_mq_unlink, name.as_ptr()) })
            }),
            4273 | 4418 => self.mq_transfer(true, a, a5[0], nr == 4418),
            4274 | 4419 => self.mq_transfer(false, a, a5[0], nr == 4419),
            4275 => self.mq_notify(a[0] as i32, a[1]),
            4276 => self.mq_getsetattr(a[0] as i32, a[1], a[2]),
            _ => return None,
        })
    }

    /// An o32 `struct mq_attr` as the host's.
    fn read_mq_attr(&self, at: u32) -> Result<libc::mq_attr, i32> {
        let w: Vec<u32> = (0..4).map(|i| self.read_u32(at.wrapping_add(4 * i))).collect::<Result<_, _>>()?;
        // SAFETY: an all-zero mq_attr is valid.
        let mut m: libc::mq_attr = unsafe { std::mem::zeroed() };
        m.mq_flags = if w[0] & GUEST_NONBLOCK != 0 { libc::O_NONBLOCK as _ } else { 0 };
        (m.mq_maxmsg, m.mq_msgsize, m.mq_curmsgs) = (w[1] as i32 as _, w[2] as i32 as _, w[3] as i32 as _);
        Ok(m)
    }

    fn write_mq_attr(&mut self, at: u32, m: &libc::mq_attr) -> Result<(), i32> {
        let flags = if m.mq_flags & libc::O_NONBLOCK as libc::c_long != 0 { GUEST_NONBLOCK } else { 0 };
        let w = [flags, m.mq_maxmsg as u32, m.mq_msgsize as u32, m.mq_curmsgs as u32, 0, 0, 0, 0];
        let b: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.write_mem(at, &b)
    }

    /// `mq_open(name, oflag, mode, attr)`.
    fn mq_open(&mut self, name: u32, oflag: u32, mode: u32, attr: u32) -> SysResult {
        let name = self.read_cstr(name)?;
        let flags = syscalls::open_flags(oflag);
        let attr = if attr != 0 && flags & libc::O_CREAT != 0 { Some(self.read_mq_attr(attr)?) } else { None };
        let p = attr.as_ref().map_or(std::ptr::null(), |a| a as *const libc::mq_attr);
        // SAFETY: `name` is NUL-terminated; `p` is null or a valid mq_attr.
        syscalls::check(unsafe {
            libc::syscall(libc::SYS_mq_open, name.as_ptr(), flags as libc::c_long, mode as libc::c_long, p)
        })
    }

    /// `mq_getsetattr(mqd, new, old)`: only O_NONBLOCK can change.
    fn mq_getsetattr(&mut self, mqd: i32, new: u32, old: u32) -> SysResult {
        let new = if new != 0 { Some(self.read_mq_attr(new)?) } else { None };
        let p = new.as_ref().map_or(std::ptr::null(), |a| a as *const libc::mq_attr);
        // SAFETY: an all-zero mq_attr is valid.
        let mut was: libc::mq_attr = unsafe { std::mem::zeroed() };
        // SAFETY: `p` is null or a valid mq_attr; `was` is one to fill.
        syscalls::check(unsafe { libc::syscall(libc::SYS_mq_getsetattr, mqd as libc::c_long, p, &mut was) })?;
        if old != 0 {
            self.write_mq_attr(old, &was)?;
        }
        Ok(0)
    }

    /// `mq_timedsend(mqd, msg, len, prio, abs_timeout)` (`send`) or
    /// `mq_timedreceive(mqd, msg, len, prio_out, abs_timeout)`; `wide`: a
    /// 64-bit `timespec`.
    fn mq_transfer(&mut self, send: bool, a: [u32; 4], timeout: u32, wide: bool) -> SysResult {
        let (mqd, msg, len, prio) = (a[0] as i32, a[1], a[2] as usize, a[3]);
        if send && len > MAX_MSG {
            return Err(mips_errno(libc::EMSGSIZE));
        }
        let ts = if timeout != 0 { Some(self.read_timespec(timeout, wide)?) } else { None };
        let mut buf = if send { self.read_mem(msg, len)? } else { vec![0u8; len.min(MAX_MSG)] };
        // With other threads, a call that would wait only looks (a past
        // deadline), and runs again after their turns.
        let shared = self.threads.shared();
        let past = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let tp = if shared { &past as *const libc::timespec } else { ts.as_ref().map_or(std::ptr::null(), |t| t) };
        let mut got_prio = 0u32;
        // SAFETY: `buf` is valid for its length, `tp` null or a timespec,
        // `got_prio` a u32 to fill.
        let r = unsafe {
            if send {
                libc::syscall(
                    libc::SYS_mq_timedsend,
                    mqd as libc::c_long,
                    buf.as_ptr(),
                    buf.len(),
                    prio as libc::c_long,
                    tp,
                )
            } else {
                libc::syscall(
                    libc::SYS_mq_timedreceive,
                    mqd as libc::c_long,
                    buf.as_mut_ptr(),
                    buf.len(),
                    &mut got_prio,
                    tp,
                )
            }
        };
        let r = match syscalls::check(r) {
            Err(e) if shared && e == mips_errno(libc::ETIMEDOUT) => {
                // It would have waited: until the guest's deadline, if any.
                let end = match ts {
                    Some(t) => Some(threads::absolute_deadline(libc::CLOCK_REALTIME, t)?),
                    None => None,
                };
                let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
                if end.is_some_and(|e| e <= Instant::now()) {
                    return Err(e);
                }
                if self.sig.next().is_some() {
                    return Err(libc::EINTR);
                }
                return self.threads.retry(end);
            }
            r => r?,
        };
        if !send {
            self.write_mem(msg, &buf[..r as usize])?;
            if prio != 0 {
                self.write_u32(prio, got_prio)?;
            }
        }
        Ok(r)
    }

    /// `mq_notify(mqd, sigevent)`: a signal (a guest one the host has),
    /// nothing, or glibc's SIGEV_THREAD (its cookie to a netlink socket);
    /// a null `sigevent` removes the registration.
    fn mq_notify(&mut self, mqd: i32, event: u32) -> SysResult {
        // SAFETY: an all-zero sigevent is valid.
        let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
        let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
        let p = if event == 0 {
            std::ptr::null()
        } else {
            let timers::SigEvent { value, signo, notify, .. } = self.read_sigevent(event)?;
            ev.sigev_notify = notify as i32;
            match notify {
                SIGEV_NONE => {}
                SIGEV_SIGNAL => {
                    ev.sigev_signo = if signo == 0 { 0 } else { signal::host_sig(signo).ok_or(EINVAL)? };
                    ev.sigev_value = libc::sigval { sival_ptr: value as usize as *mut libc::c_void };
                }
                SIGEV_THREAD => {
                    // The kernel copies the cookie at this call.
                    cookie.copy_from_slice(&self.read_mem(value, NOTIFY_COOKIE_LEN)?);
                    ev.sigev_signo = signo as i32;
                    ev.sigev_value = libc::sigval { sival_ptr: cookie.as_mut_ptr().cast() };
                }
                _ => return Err(EINVAL),
            }
            &ev as *const libc::sigevent
        };
        // SAFETY: `p` is null or a valid sigevent whose pointer (if any)
        // is `cookie`, alive across the call.
        syscalls::check(unsafe { libc::syscall(libc::SYS_mq_notify, mqd as libc::c_long, p) })
    }
}
