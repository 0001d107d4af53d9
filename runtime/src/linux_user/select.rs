//! Waits for descriptors that a guest signal can end: `ppoll`, `pselect6`
//! (each also with 64-bit times) and the o32 `select` (`_newselect`). The
//! host waits with its signals open only during the call (see
//! [`Process::guest_wait`]), and the time left is written back, as Linux
//! does.

use super::signal::{deadline, time_left};
use super::*;
use std::time::Instant;

/// The most descriptors a set may name (the host clamps to its own limit).
const MAX_FDS: u32 = 1 << 20;

impl Process {
    /// Poll and select calls; `None` when `nr` is not one.
    pub(super) fn select_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4302 => self.ppoll(a, a5[0], false),
            4414 => self.ppoll(a, a5[0], true),
            4301 => self.pselect6(a, a5, false),
            4413 => self.pselect6(a, a5, true),
            4142 => self.newselect(a, a5[0]),
            _ => return None,
        })
    }

    /// The guest mask a ppoll or pselect6 waits with: none given, the
    /// current one stays; else EINVAL unless `size` is a sigset's.
    pub(super) fn wait_mask(&self, at: u32, size: u32) -> Result<Option<u128>, i32> {
        if at == 0 {
            return Ok(None);
        }
        if size != 16 {
            return Err(EINVAL);
        }
        let b = self.read_mem(at, 16)?;
        let mut w = [0u8; 16];
        w.copy_from_slice(&b);
        Ok(Some(u128::from_le_bytes(w)))
    }

    /// Writes the time left until `end` back to `at` (not for a zero
    /// timeout, which Linux leaves alone). A failed write is ignored, as
    /// Linux does once the wait is over.
    fn write_time_left(&mut self, at: u32, end: Option<Instant>, wide: bool, timeval: bool) {
        let Some(end) = end else { return };
        let t = time_left(end);
        let _ = if timeval {
            let b: Vec<u8> =
                [t.tv_sec as u32, (t.tv_nsec / 1000) as u32].iter().flat_map(|w| w.to_le_bytes()).collect();
            self.write_mem(at, &b)
        } else {
            self.write_timespec(at, t, wide)
        };
    }

    /// `ppoll(fds, nfds, timeout, sigmask, sigsetsize)`.
    fn ppoll(&mut self, a: [u32; 4], sigsetsize: u32, wide: bool) -> SysResult {
        let (fds, n, tsp) = (a[0], a[1], a[2]);
        // Linux refuses too many descriptors before it reads anything.
        if n > 4096 {
            return Err(EINVAL);
        }
        let zero = |t: &libc::timespec| t.tv_sec == 0 && t.tv_nsec == 0;
        let (end, zero_timeout) = if tsp == 0 {
            (None, false)
        } else {
            let t = self.read_timespec(tsp, wide)?;
            (Some(deadline(t)?), zero(&t))
        };
        let mask = self.wait_mask(a[3], sigsetsize)?;
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let mut host = self.read_pollfds(fds, n)?;
        let r = self.guest_wait(mask, end, |tp, sm| {
            // SAFETY: `host` holds `n` pollfds; `tp` is null or a valid
            // timespec and `sm` a valid sigset (see guest_wait).
            unsafe { libc::ppoll(host.as_mut_ptr(), n as libc::nfds_t, tp, sm) as i64 }
        });
        if tsp != 0 && !zero_timeout && r != Err(threads::RETRY) {
            self.write_time_left(tsp, end, wide, false);
        }
        let r = r?;
        self.write_revents(fds, &host)?;
        Ok(r)
    }

    /// `pselect6(n, in, out, ex, timeout, {sigmask, sigsetsize})`.
    fn pselect6(&mut self, a: [u32; 4], a5: [u32; 2], wide: bool) -> SysResult {
        let (tsp, sig) = (a5[0], a5[1]);
        let (end, zero_timeout) = if tsp == 0 {
            (None, false)
        } else {
            let t = self.read_timespec(tsp, wide)?;
            (Some(deadline(t)?), t.tv_sec == 0 && t.tv_nsec == 0)
        };
        let mask = if sig == 0 {
            None
        } else {
            let (at, size) = (self.read_u32(sig)?, self.read_u32(sig.wrapping_add(4))?);
            self.wait_mask(at, size)?
        };
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let r = self.select(a, mask, end);
        if tsp != 0 && !zero_timeout && r != Err(threads::RETRY) {
            self.write_time_left(tsp, end, wide, false);
        }
        r
    }

    /// `_newselect(n, in, out, ex, timeout)`: an o32 `struct timeval`,
    /// whose microseconds Linux carries into seconds.
    fn newselect(&mut self, a: [u32; 4], tvp: u32) -> SysResult {
        let end = if tvp == 0 {
            None
        } else {
            let (sec, usec) = (self.read_u32(tvp)? as i32 as i64, self.read_u32(tvp.wrapping_add(4))? as i32 as i64);
            if sec < 0 || usec < 0 {
                return Err(EINVAL);
            }
            let t = libc::timespec { tv_sec: sec + usec / 1_000_000, tv_nsec: usec % 1_000_000 * 1000 };
            Some(deadline(t)?)
        };
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let r = self.select(a, None, end);
        if tvp != 0 && r != Err(threads::RETRY) {
            self.write_time_left(tvp, end, false, true);
        }
        r
    }

    /// Waits on the three sets of `a` (`n`, then guest `fd_set`
    /// addresses, null for none). An o32 `fd_set` is 32-bit words of
    /// bits, the host's 64-bit ones: little-endian, the bytes are the
    /// same bits. The sets are written back only on success.
    fn select(&mut self, a: [u32; 4], mask: Option<u128>, end: Option<Instant>) -> SysResult {
        let n = a[0] as i32;
        if n < 0 {
            return Err(EINVAL);
        }
        let n = (n as u32).min(MAX_FDS);
        let guest_bytes = n.div_ceil(32) as usize * 4;
        let host_bytes = n.div_ceil(64) as usize * 8;
        let mut sets: Vec<Option<Vec<u8>>> = Vec::with_capacity(3);
        for &at in &a[1..] {
            sets.push(if at == 0 {
                None
            } else {
                let mut b = self.read_mem(at, guest_bytes)?;
                b.resize(host_bytes, 0);
                Some(b)
            });
        }
        let ptrs: Vec<*mut u8> =
            sets.iter_mut().map(|s| s.as_mut().map_or(std::ptr::null_mut(), |b| b.as_mut_ptr())).collect();
        let r = self.guest_wait(mask, end, |tp, sm| {
            // The host's sixth argument: its mask and the mask's size.
            let sig = [sm as usize, 8];
            // SAFETY: each set is null or `host_bytes` long, covering `n`
            // descriptors; `tp` is null or a valid timespec (the host
            // updates it; it is made anew each time round).
            unsafe { libc::syscall(libc::SYS_pselect6, n as i32, ptrs[0], ptrs[1], ptrs[2], tp, sig.as_ptr()) }
        })?;
        for (s, &at) in sets.iter().zip(&a[1..]) {
            if let Some(b) = s {
                self.write_mem(at, &b[..guest_bytes])?;
            }
        }
        Ok(r)
    }
}
