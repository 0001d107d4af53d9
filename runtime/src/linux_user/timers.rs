//! POSIX timers: `timer_create`, `timer_settime`, `timer_gettime`,
//! `timer_getoverrun`, `timer_delete` (and the time64 twins).
//!
//! A timer's signal is a guest signal, which the host cannot always send:
//! glibc's SIGEV_THREAD timers use signal 32 (the host's C library keeps
//! its own 32), MIPS has signals up to 128, and SIGEV_THREAD_ID names a
//! green thread. So mipsjit keeps each timer itself and decides when it
//! expires ([`Timers::expire`], from the signal poll), queueing the guest
//! signal with the `siginfo` Linux gives (SI_TIMER, the timer's id, its
//! overrun, the value). Each timer has a host twin on the same clock,
//! armed alike: it answers `timer_gettime`, gives Linux's errors for
//! clocks and values, and, for a timer that notifies, wakes mipsjit at
//! expiry with [`TIMER_WAKE`] sent to the thread that runs the guest, so a
//! guest waiting in a system call is interrupted as on Linux.

use super::*;

/// The host signal the twins send: SIGSTKFLT, which no guest signal maps to.
pub(super) const TIMER_WAKE: i32 = libc::SIGSTKFLT;
/// `sigev_notify` values (the same on MIPS).
pub(super) const SIGEV_SIGNAL: u32 = 0;
pub(super) const SIGEV_NONE: u32 = 1;
pub(super) const SIGEV_THREAD: u32 = 2;
const SIGEV_THREAD_ID: u32 = 4;

/// The fields of an o32 `struct sigevent` that timers and message queues
/// read: `sigev_value`, `sigev_signo`, `sigev_notify`, then the union's
/// first word (the thread id of SIGEV_THREAD_ID).
pub(super) struct SigEvent {
    pub(super) value: u32,
    pub(super) signo: u32,
    pub(super) notify: u32,
    pub(super) tid: u32,
}
/// The guest's SIGALRM: what a timer made without a `sigevent` sends.
const SIGALRM: u32 = 14;
/// MIPS's SI_TIMER.
pub(super) const SI_TIMER: i32 = -3;
/// `TIMER_ABSTIME`.
const TIMER_ABSTIME: i32 = 1;

/// One guest timer.
struct Timer {
    /// The host twin's kernel id.
    host: i32,
    clock: libc::clockid_t,
    /// The guest signal, its value, and the thread it is for (None: the
    /// process); None for SIGEV_NONE.
    notify: Option<(u32, u32, Option<u32>)>,
    /// The next expiry on `clock` in nanoseconds; None when disarmed.
    next: Option<i128>,
    /// The period in nanoseconds; 0 for a one-shot timer.
    interval: i128,
    /// The overrun the last signal taken carried (`timer_getoverrun`).
    overrun: i32,
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: deletes the host timer this guest timer owns.
        unsafe { libc::syscall(libc::SYS_timer_delete, self.host as libc::c_long) };
    }
}

/// An expiry to signal: the timer's id, its signal, value and thread, and
/// how many periods passed (1 + the overrun).
pub(super) struct Expiry {
    pub(super) id: u32,
    pub(super) sig: u32,
    pub(super) value: u32,
    pub(super) tid: Option<u32>,
    pub(super) periods: i128,
}

/// This process's timers; a timer's id is its index.
#[derive(Default)]
pub(super) struct Timers {
    list: Vec<Option<Timer>>,
    /// Some timer notifies: [`Timers::expire`] has work.
    any: bool,
}

/// The time on host clock `clock` in nanoseconds.
fn now_ns(clock: libc::clockid_t) -> i128 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(clock, &mut t) };
    ns(t)
}

fn ns(t: libc::timespec) -> i128 {
    t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128
}

impl Timers {
    /// Expiries since the last look: each due timer moves to its next
    /// period (or disarms). The caller queues the signals.
    pub(super) fn expire(&mut self) -> Vec<Expiry> {
        let mut out = Vec::new();
        if !self.any {
            return out;
        }
        for (id, t) in self.list.iter_mut().enumerate() {
            let Some(t) = t else { continue };
            let (Some(next), Some((sig, value, tid))) = (t.next, t.notify) else { continue };
            let now = now_ns(t.clock);
            if now < next {
                continue;
            }
            let periods = if t.interval > 0 { (now - next) / t.interval + 1 } else { 1 };
            t.next = (t.interval > 0).then(|| next + periods * t.interval);
            out.push(Expiry { id: id as u32, sig, value, tid, periods });
        }
        out
    }

    /// Records the overrun of timer `id`'s signal just taken.
    pub(super) fn set_overrun(&mut self, id: u32, overrun: i32) {
        if let Some(Some(t)) = self.list.get_mut(id as usize) {
            t.overrun = overrun;
        }
    }

    /// After `fork`: timers are not inherited.
    pub(super) fn clear(&mut self) {
        // The host twins belong to the parent: forget them undeleted.
        for t in self.list.drain(..).flatten() {
            std::mem::forget(t);
        }
        self.any = false;
    }

    fn get(&mut self, id: u32) -> Result<&mut Timer, i32> {
        self.list.get_mut(id as usize).and_then(|t| t.as_mut()).ok_or(EINVAL)
    }
}

impl Process {
    /// POSIX timer calls; `None` when `nr` is not one.
    pub(super) fn timer_syscall(&mut self, nr: u32, a: [u32; 4]) -> Option<SysResult> {
        Some(match nr {
            4257 => self.timer_create(a[0] as i32, a[1], a[2]),
            4258 => self.timer_settime(a[0], a[1] as i32, a[2], a[3], false),
            4409 => self.timer_settime(a[0], a[1] as i32, a[2], a[3], true),
            4259 => self.timer_gettime(a[0], a[1], false),
            4408 => self.timer_gettime(a[0], a[1], true),
            4260 => self.sig.timers.get(a[0]).map(|t| t.overrun as u32),
            4261 => {
                let t = self.sig.timers.list.get_mut(a[0] as usize).and_then(Option::take);
                t.map(drop).ok_or(EINVAL).map(|_| 0)
            }
            _ => return None,
        })
    }

    /// `timer_create(clock, sigevent, id)`: the o32 `struct sigevent` is
    /// `sigev_value`, `sigev_signo`, `sigev_notify`, then the thread id.
    fn timer_create(&mut self, clock: i32, event: u32, id_out: u32) -> SysResult {
        let SigEvent { value, signo: sig, notify: how, tid } = if event == 0 {
            let next = self.sig.timers.list.iter().position(Option::is_none).unwrap_or(self.sig.timers.list.len());
            SigEvent { value: next as u32, signo: SIGALRM, notify: SIGEV_SIGNAL, tid: 0 }
        } else {
            self.read_sigevent(event)?
        };
        // Linux's good_sigevent.
        let notify = match how {
            SIGEV_NONE => None,
            SIGEV_SIGNAL | SIGEV_THREAD | SIGEV_THREAD_ID if (1..=128).contains(&sig) => {
                if how == SIGEV_THREAD_ID && !self.threads.is_ours(tid) {
                    return Err(EINVAL);
                }
                Some((sig, value, (how == SIGEV_THREAD_ID).then_some(tid)))
            }
            _ => return Err(EINVAL),
        };
        // SAFETY: an all-zero sigevent is valid (SIGEV_SIGNAL, no signal).
        let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
        if notify.is_some() {
            ev.sigev_notify = libc::SIGEV_THREAD_ID;
            ev.sigev_signo = TIMER_WAKE;
            // SAFETY: a host call without arguments.
            ev.sigev_notify_thread_id = unsafe { libc::gettid() };
        } else {
            ev.sigev_notify = libc::SIGEV_NONE;
        }
        let mut host = 0i32;
        // SAFETY: `ev` and `host` are valid for the kernel to read and fill.
        let r = unsafe { libc::syscall(libc::SYS_timer_create, clock as libc::c_long, &ev, &mut host) };
        syscalls::check(r)?;
        let t = Timer { host, clock, notify, next: None, interval: 0, overrun: 0 };
        let list = &mut self.sig.timers.list;
        let id = list.iter().position(Option::is_none).unwrap_or(list.len());
        if id == list.len() {
            list.push(None);
        }
        list[id] = Some(t);
        self.sig.timers.any |= notify.is_some();
        if let Err(e) = self.write_u32(id_out, id as u32) {
            self.sig.timers.list[id] = None;
            return Err(e);
        }
        Ok(0)
    }

    /// `timer_settime(id, flags, new, old)`: the host twin first (its
    /// errors are Linux's), then the expiry mipsjit watches for, reckoned
    /// no later than the twin's.
    fn timer_settime(&mut self, id: u32, flags: i32, new: u32, old: u32, wide: bool) -> SysResult {
        if new == 0 {
            return Err(EINVAL);
        }
        let spec = self.read_itimerspec(new, wide)?;
        let t = self.sig.timers.get(id)?;
        let start = now_ns(t.clock);
        // SAFETY: an all-zero itimerspec is valid.
        let mut was: libc::itimerspec = unsafe { std::mem::zeroed() };
        // SAFETY: `spec` and `was` are valid for the kernel to read and fill.
        let r = unsafe {
            libc::syscall(libc::SYS_timer_settime, t.host as libc::c_long, flags as libc::c_long, &spec, &mut was)
        };
        syscalls::check(r)?;
        let value = ns(spec.it_value);
        t.next = match value {
            0 => None,
            v if flags & TIMER_ABSTIME != 0 => Some(v),
            v => Some(start + v),
        };
        t.interval = ns(spec.it_interval);
        t.overrun = 0;
        if old != 0 {
            self.write_itimerspec(old, was, wide)?;
        }
        Ok(0)
    }

    /// `timer_gettime(id, value)`: the host twin's.
    fn timer_gettime(&mut self, id: u32, out: u32, wide: bool) -> SysResult {
        let t = self.sig.timers.get(id)?;
        // SAFETY: an all-zero itimerspec is valid.
        let mut v: libc::itimerspec = unsafe { std::mem::zeroed() };
        // SAFETY: `v` is valid for the kernel to fill.
        syscalls::check(unsafe { libc::syscall(libc::SYS_timer_gettime, t.host as libc::c_long, &mut v) })?;
        self.write_itimerspec(out, v, wide)?;
        Ok(0)
    }

    /// The guest's `struct sigevent` at `at`.
    pub(super) fn read_sigevent(&self, at: u32) -> Result<SigEvent, i32> {
        let w = |i: u32| self.read_u32(at.wrapping_add(4 * i));
        Ok(SigEvent { value: w(0)?, signo: w(1)?, notify: w(2)?, tid: w(3)? })
    }

    /// Queues timer signals meant for one thread (SIGEV_THREAD_ID) with
    /// that thread; see [`Signals::poll_host`]. A thread that has exited
    /// loses them.
    pub(super) fn route_thread_signals(&mut self) {
        self.sig.poll_host();
        for (tid, sig, info) in std::mem::take(&mut self.sig.directed) {
            // The waiting threads first: during a switch the one that ran
            // last is among them, while its id is still the running one's.
            if let Some(t) = self.threads.signals_of(tid) {
                self.sig.queue_for_thread(Some(t), sig, info);
            } else if tid == self.threads.tid() {
                self.sig.queue_for_thread(None, sig, info);
            }
        }
    }
}
