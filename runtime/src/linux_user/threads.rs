//! Threads (`clone` with CLONE_THREAD), as green threads: every guest
//! thread runs on the emulator's one host thread, taking turns of about a
//! millisecond of guest code ([`SIGNAL_POLL_INSNS`] instructions), and
//! handing over at once when the running one blocks: in `futex`, a sleep,
//! `sched_yield`, or a read or write that would block (a long write to a
//! pipe or socket goes in parts, see [`Process::write_in_turns`]).
//!
//! One thread at a time keeps everything else as it is for one thread:
//! `ll`/`sc` need no host atomics (a switch clears the LL bit, as the
//! kernel's `eret` does), the JIT and its code cache are shared without
//! locks, and a run stays reproducible. The price is no parallelism, and
//! a thread blocked in a call that does not hand over (`open` of a FIFO
//! with no other end, say; reads, writes, `poll`, `select`, `wait4`,
//! `flock`, `fcntl` lock waits, `connect` and the signal waits do) stops
//! the others until it returns.

use super::signal::ThreadSignals;
use super::*;
use crate::fpu::Fpu;
use std::collections::VecDeque;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Thread ids start here: above Linux's PID_MAX_LIMIT (2^22), so never a
/// host process's id, and below the futex owner-died and waiters bits.
const FIRST_TID: u32 = 0x40_0000;
/// [`SysResult`] error of a call that must run again later (its thread
/// waits until then): not an errno.
pub(super) const RETRY: i32 = -1;
/// How often a thread waiting in `poll`, `select`, `wait4` or a signal
/// wait looks again.
const POLL_AGAIN: Duration = Duration::from_millis(2);
/// How long the host sleeps at most while every thread waits, before it
/// looks at host signals and deadlines again.
const IDLE_SLICE: Duration = Duration::from_millis(20);
/// How often an idle process looks at futexes shared with other processes
/// when it cannot wait in the host for just one of them.
const ACROSS_SLICE: Duration = Duration::from_millis(1);

// futex operations (the low seven bits of `op`).
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_LOCK_PI2: u32 = 13;
/// A PI futex word: the owner's thread id in the low bits, and these.
const FUTEX_WAITERS: u32 = 0x8000_0000;
/// A futex of this process alone: no other process waits on or wakes it.
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_CLOCK_REALTIME: u32 = 256;

// `clone` flags a thread needs.
const CLONE_VM: u32 = 0x0000_0100;
const CLONE_SIGHAND: u32 = 0x0000_0800;
const CLONE_SETTLS: u32 = 0x0008_0000;
const CLONE_PARENT_SETTID: u32 = 0x0010_0000;
const CLONE_CHILD_CLEARTID: u32 = 0x0020_0000;
const CLONE_CHILD_SETTID: u32 = 0x0100_0000;

/// What a thread that is not running waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// Nothing: it runs when its turn comes.
    Ready,
    /// `FUTEX_WAIT` on `addr` for wakes matching `bitset`, until `deadline`
    /// (then ETIMEDOUT). `across`: a futex other processes share (a
    /// non-private one in shared memory), with the value waited on and the
    /// word's host address: a change of the word ends the wait too (a
    /// futex wait may end early; the caller looks again), and an idle
    /// process waits for it with a host futex wait (see [`Process::idle`]).
    Futex { addr: u32, bitset: u32, deadline: Option<Instant>, across: Option<(u32, usize)> },
    /// A sleep until then.
    Sleep(Instant),
    /// A read or write on `fd`, run again once `poll` sees `events`.
    Io { fd: i32, events: i16 },
    /// A call run again at that time (`wait4` for a child).
    Retry(Instant),
    /// `FUTEX_LOCK_PI` on `addr`, run again when its owner unlocks it, a
    /// signal arrives (Linux restarts the call after the handler), or
    /// `deadline` passes.
    PiLock { addr: u32, deadline: Option<Instant> },
}

/// A guest thread that is not running.
struct Thread {
    tid: u32,
    /// `set_tid_address`/CLONE_CHILD_CLEARTID: zeroed and woken at exit.
    clear_tid: u32,
    gpr: [u32; 32],
    hi: u32,
    lo: u32,
    pc: u32,
    fpu: Fpu,
    user_local: u32,
    sig: ThreadSignals,
    wait: Wait,
    /// See [`Threads::wait_end`].
    wait_end: Option<(u32, Option<Instant>)>,
    /// See [`Threads::progress`].
    progress: Option<(u32, u32)>,
}

/// The process's threads: the running one's id, and the others.
#[derive(Default)]
pub(super) struct Threads {
    /// The running thread; 0 for the first, whose id is the process id.
    tid: u32,
    /// The running thread's `clear_child_tid`.
    clear_tid: u32,
    others: VecDeque<Thread>,
    next_tid: u32,
    /// Set by a call that blocks the running thread: another runs next.
    block: Option<Wait>,
    /// Instruction count when the running thread's turn began.
    turn_start: u64,
    /// The running thread's poll or select that is waiting (run again
    /// until it is done): its syscall's address and when it times out, so
    /// that running it again does not start the timeout over.
    wait_end: Option<(u32, Option<Instant>)>,
    /// The running thread's write that is done in parts (see
    /// [`Process::write_in_turns`]): its syscall's address and the bytes
    /// written so far.
    progress: Option<(u32, u32)>,
}

impl Threads {
    /// Whether other threads exist (then blocking calls hand over).
    pub(super) fn shared(&self) -> bool {
        !self.others.is_empty()
    }

    /// Whether the running thread has just blocked.
    pub(super) fn blocked(&self) -> bool {
        self.block.is_some()
    }

    /// The running thread's id.
    pub(super) fn tid(&self) -> u32 {
        if self.tid == 0 { std::process::id() } else { self.tid }
    }

    /// Whether `tid` names one of this process's threads.
    pub(super) fn is_ours(&self, tid: u32) -> bool {
        tid == self.tid() || self.others.iter().any(|t| t.tid == tid)
    }

    /// The running thread runs its call again in [`POLL_AGAIN`], or at
    /// `end` if that is sooner (the call's own deadline): the call's result.
    pub(super) fn retry(&mut self, end: Option<Instant>) -> SysResult {
        let again = Instant::now() + POLL_AGAIN;
        self.block(Wait::Retry(end.map_or(again, |e| e.min(again))));
        Err(RETRY)
    }

    /// The signal state of thread `tid` if it is not the running one.
    pub(super) fn signals_of(&mut self, tid: u32) -> Option<&mut ThreadSignals> {
        self.others.iter_mut().find(|t| t.tid == tid).map(|t| &mut t.sig)
    }

    /// The signal states of the threads that are not running.
    pub(super) fn waiting_signals(&mut self) -> impl Iterator<Item = &mut ThreadSignals> {
        self.others.iter_mut().map(|t| &mut t.sig)
    }

    /// The running thread waits for `w` once its system call returns.
    pub(super) fn block(&mut self, w: Wait) {
        self.block = Some(w);
    }

    /// `set_tid_address`.
    pub(super) fn set_clear_tid(&mut self, addr: u32) -> u32 {
        self.clear_tid = addr;
        self.tid()
    }

    /// When the wait of the call at `pc` ends: `end` (from the guest's
    /// timeout) the first time, the same instant each time the call runs
    /// again.
    pub(super) fn wait_end(&mut self, pc: u32, end: Option<Instant>) -> Option<Instant> {
        match self.wait_end {
            Some((at, d)) if at == pc => d,
            _ => {
                self.wait_end = Some((pc, end));
                end
            }
        }
    }

    /// The running thread's call is done (it will not run again).
    pub(super) fn call_done(&mut self) {
        self.wait_end = None;
        self.progress = None;
    }

    /// How many bytes the call at `pc` has written in its earlier runs.
    pub(super) fn progress(&self, pc: u32) -> u32 {
        match self.progress {
            Some((at, done)) if at == pc => done,
            _ => 0,
        }
    }

    /// A signal handler is about to run on the running thread, which was
    /// waiting to go on with the write at `pc`: if part of it is written,
    /// the call ends now with that count (as Linux's does when a signal
    /// interrupts it after some data), which this returns.
    pub(super) fn take_partial(&mut self, pc: u32) -> Option<u32> {
        match self.progress {
            Some((at, done)) if at == pc && done > 0 => {
                self.call_done();
                Some(done)
            }
            _ => None,
        }
    }

    /// After `fork`: the child is one thread, the process's first.
    pub(super) fn after_fork(&mut self) {
        *self = Threads::default();
    }

    /// Wakes up to `n` threads waiting on the futex at `addr` with a
    /// bitset sharing bits with `bitset`; returns how many.
    fn wake(&mut self, addr: u32, n: u32, bitset: u32) -> u32 {
        let mut woken = 0;
        for t in self.others.iter_mut() {
            if woken == n {
                break;
            }
            if let Wait::Futex { addr: a, bitset: b, .. } = t.wait
                && a == addr
                && b & bitset != 0
            {
                t.wait = Wait::Ready;
                woken += 1;
            }
        }
        woken
    }

    /// Whether a thread waits to lock the PI futex at `addr`.
    fn pi_waiters(&self, addr: u32) -> bool {
        self.others.iter().any(|t| matches!(t.wait, Wait::PiLock { addr: a, .. } if a == addr))
    }

    /// The PI futex at `addr` was unlocked: its waiters try again.
    fn wake_pi(&mut self, addr: u32) {
        for t in self.others.iter_mut() {
            if matches!(t.wait, Wait::PiLock { addr: a, .. } if a == addr) {
                t.wait = Wait::Ready;
            }
        }
    }

    /// Moves up to `n` waiters from `from` to the futex at `to`.
    fn requeue(&mut self, from: u32, to: u32, n: u32) -> u32 {
        let mut moved = 0;
        for t in self.others.iter_mut() {
            if moved == n {
                break;
            }
            if let Wait::Futex { addr, .. } = &mut t.wait
                && *addr == from
            {
                *addr = to;
                moved += 1;
            }
        }
        moved
    }
}

/// Sign-extends the low 12 bits of `v` (FUTEX_WAKE_OP's fields).
fn sext12(v: u32) -> u32 {
    ((v << 20) as i32 >> 20) as u32
}

/// FUTEX_WAKE_OP's new value of the second word from its `old` one, by the
/// operation encoded in `val3` (as Linux: bits 28-30 set, add, or,
/// and-not or xor; bits 12-23 the operand, sign-extended, which bit 31
/// makes a shift count, `1 << operand`); `None` for an unknown operation.
fn wake_op_new(val3: u32, old: u32) -> Option<u32> {
    let mut arg = sext12(val3 >> 12);
    if val3 & 1 << 31 != 0 {
        // Linux masks an out-of-range shift (with a warning).
        arg = 1 << (arg & 31);
    }
    Some(match val3 >> 28 & 7 {
        0 => arg,
        1 => old.wrapping_add(arg),
        2 => old | arg,
        3 => old & !arg,
        4 => old ^ arg,
        _ => return None,
    })
}

/// Whether FUTEX_WAKE_OP's `old` value passes the comparison encoded in
/// `val3` (bits 24-27: ==, !=, <, <=, >, >=, signed, with bits 0-11
/// sign-extended); `None` for an unknown comparison.
fn wake_op_holds(val3: u32, old: u32) -> Option<bool> {
    let (old, arg) = (old as i32, sext12(val3) as i32);
    Some(match val3 >> 24 & 15 {
        0 => old == arg,
        1 => old != arg,
        2 => old < arg,
        3 => old <= arg,
        4 => old > arg,
        5 => old >= arg,
        _ => return None,
    })
}

impl Process {
    /// `clone` with CLONE_THREAD: a new thread sharing everything, which
    /// returns 0 from the call on its own stack `newsp` and takes its turn
    /// after the others.
    pub(super) fn spawn_thread(&mut self, flags: u32, newsp: u32, ptid: u32, tls: u32, ctid: u32) -> SysResult {
        if flags & (CLONE_VM | CLONE_SIGHAND) != CLONE_VM | CLONE_SIGHAND {
            return Err(EINVAL);
        }
        let th = &mut self.threads;
        th.next_tid = th.next_tid.max(FIRST_TID) + 1;
        let tid = th.next_tid;
        let mut t = self.save_thread(Wait::Ready);
        t.tid = tid;
        t.clear_tid = if flags & CLONE_CHILD_CLEARTID != 0 { ctid } else { 0 };
        // The creator runs on: its signal state (its queue, which saving
        // took out) goes back.
        let mine = std::mem::replace(&mut t.sig, self.sig.new_thread());
        self.sig.set_thread_state(mine);
        (t.wait_end, t.progress) = (None, None);
        // The child returns 0, after the syscall instruction.
        (t.gpr[2], t.gpr[7], t.pc) = (0, 0, t.pc.wrapping_add(4));
        if newsp != 0 {
            t.gpr[29] = newsp;
        }
        if flags & CLONE_SETTLS != 0 {
            t.user_local = tls;
        }
        if flags & CLONE_PARENT_SETTID != 0 {
            self.write_u32(ptid, tid)?;
        }
        if flags & CLONE_CHILD_SETTID != 0 {
            self.write_u32(ctid, tid)?;
        }
        self.threads.others.push_back(t);
        Ok(tid)
    }

    /// `exit`: the running thread ends (its `clear_child_tid` is zeroed
    /// and woken, which is how `pthread_join` learns of it), and another
    /// runs; the last thread's exit ends the process with `status`.
    pub(super) fn exit_thread(&mut self, status: u32) -> Option<u8> {
        if !self.threads.shared() {
            return Some(status as u8);
        }
        let clear = self.threads.clear_tid;
        if clear != 0 && self.write_u32(clear, 0).is_ok() {
            self.threads.wake(clear, 1, u32::MAX);
        }
        self.run_next();
        None
    }

    /// `futex(uaddr, op, val, timeout or val2, uaddr2, val3)`; `wide`: the
    /// time64 variant's timespec. The private and shared kinds are the
    /// same here (one process). Waits block only the calling thread.
    pub(super) fn futex(&mut self, a: [u32; 4], a5: [u32; 2], wide: bool) -> SysResult {
        let [uaddr, op, val, timeout] = a;
        let [uaddr2, val3] = a5;
        let cmd = op & 0x7f;
        if uaddr & 3 != 0 {
            return Err(EINVAL);
        }
        match cmd {
            FUTEX_WAIT | FUTEX_WAIT_BITSET => {
                let bitset = if cmd == FUTEX_WAIT { u32::MAX } else { val3 };
                if bitset == 0 {
                    return Err(EINVAL);
                }
                let deadline = match timeout {
                    0 => None,
                    t => {
                        let ts = self.read_timespec(t, wide)?;
                        // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's
                        // an absolute time on the monotonic or real-time clock.
                        Some(if cmd == FUTEX_WAIT {
                            signal::deadline(ts)?
                        } else {
                            let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                                libc::CLOCK_REALTIME
                            } else {
                                libc::CLOCK_MONOTONIC
                            };
                            absolute_deadline(clock, ts)?
                        })
                    }
                };
                if self.read_u32(uaddr)? != val {
                    return Err(mips_errno(libc::EAGAIN));
                }
                let across = if op & FUTEX_PRIVATE_FLAG == 0 { self.shared_host_word(uaddr) } else { None };
                self.threads.block(Wait::Futex { addr: uaddr, bitset, deadline, across: across.map(|h| (val, h)) });
                Ok(0)
            }
            FUTEX_WAKE | FUTEX_WAKE_BITSET => {
                let bitset = if cmd == FUTEX_WAKE { u32::MAX } else { val3 };
                if bitset == 0 {
                    return Err(EINVAL);
                }
                let woken = self.threads.wake(uaddr, val, bitset);
                // Waiters in other processes sleep in the host's futex.
                let host = if op & FUTEX_PRIVATE_FLAG == 0 { self.shared_host_word(uaddr) } else { None };
                Ok(woken + host.map_or(0, |h| host_futex_wake(h, val - woken.min(val), bitset)))
            }
            FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
                if cmd == FUTEX_CMP_REQUEUE && self.read_u32(uaddr)? != val3 {
                    return Err(mips_errno(libc::EAGAIN));
                }
                let woken = self.threads.wake(uaddr, val, u32::MAX);
                // The fourth argument is the number to requeue here.
                Ok(woken + self.threads.requeue(uaddr, uaddr2, timeout))
            }
            FUTEX_WAKE_OP => {
                if uaddr2 & 3 != 0 {
                    return Err(EINVAL);
                }
                // As Linux: the second word changes first (an unknown
                // operation fails before; an unknown comparison after, with
                // nobody woken), then waiters on the first wake, then, if
                // the old value passes, up to the fourth argument's number
                // on the second.
                let old = self.read_u32(uaddr2)?;
                let new = wake_op_new(val3, old).ok_or(ENOSYS)?;
                self.write_u32(uaddr2, new)?;
                let holds = wake_op_holds(val3, old).ok_or(ENOSYS)?;
                let woken = self.threads.wake(uaddr, val, u32::MAX);
                let also = if holds { self.threads.wake(uaddr2, timeout, u32::MAX) } else { 0 };
                Ok(woken + also)
            }
            FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
                // FUTEX_LOCK_PI's timeout is on the real-time clock;
                // FUTEX_LOCK_PI2's on the monotonic one unless asked.
                let realtime = cmd == FUTEX_LOCK_PI || op & FUTEX_CLOCK_REALTIME != 0;
                let clock = if realtime { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
                let end = match timeout {
                    0 => None,
                    t if cmd != FUTEX_TRYLOCK_PI => Some(absolute_deadline(clock, self.read_timespec(t, wide)?)?),
                    _ => None,
                };
                let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
                self.lock_pi(uaddr, cmd == FUTEX_TRYLOCK_PI, end)
            }
            FUTEX_UNLOCK_PI => {
                let v = self.read_u32(uaddr)?;
                if v & FUTEX_TID_MASK != self.threads.tid() {
                    return Err(mips_errno(libc::EPERM));
                }
                self.write_u32(uaddr, 0)?;
                self.threads.wake_pi(uaddr);
                Ok(0)
            }
            _ => {
                if self.warned.insert(0x1_0000 | cmd) {
                    eprintln!("mipsjit: futex operation {cmd} is not supported: returning ENOSYS");
                }
                Err(ENOSYS)
            }
        }
    }

    /// `FUTEX_LOCK_PI` (`try`: `FUTEX_TRYLOCK_PI`) on the word at `addr`:
    /// free (no owner), it becomes the caller's, marked as waited for if
    /// other threads wait; owned by another thread, the caller marks it
    /// so its owner's unlock comes here, and tries again after that
    /// unlock (every waiter does, and one wins), a signal, or `end`. An
    /// owner that is not one of this process's threads (a PI mutex in
    /// memory shared with another process) is polled for.
    fn lock_pi(&mut self, addr: u32, r#try: bool, end: Option<Instant>) -> SysResult {
        let v = self.read_u32(addr)?;
        let me = self.threads.tid();
        match v & FUTEX_TID_MASK {
            0 => {
                let waiters = if self.threads.pi_waiters(addr) { FUTEX_WAITERS } else { 0 };
                self.write_u32(addr, me | v & FUTEX_OWNER_DIED | waiters)?;
                Ok(0)
            }
            owner if owner == me => Err(mips_errno(libc::EDEADLK)),
            _ if r#try => Err(mips_errno(libc::EAGAIN)),
            _ if end.is_some_and(|e| e <= Instant::now()) => Err(mips_errno(libc::ETIMEDOUT)),
            owner => {
                self.write_u32(addr, v | FUTEX_WAITERS)?;
                if self.threads.is_ours(owner) {
                    self.threads.block(Wait::PiLock { addr, deadline: end });
                    Err(RETRY)
                } else {
                    self.threads.retry(end)
                }
            }
        }
    }

    /// With other threads, a call that would block on a descriptor (a
    /// read of an empty pipe, say) waits for it without stopping them:
    /// the wait, if `nr` is such a call and `fd` is not ready.
    pub(super) fn would_block(&self, nr: u32, a: [u32; 4]) -> Option<Wait> {
        if !self.threads.shared() {
            return None;
        }
        // MSG_DONTWAIT: a socket call that must not wait at all.
        const MSG_DONTWAIT: u32 = 0x40;
        let flags = match nr {
            4175 | 4176 | 4178 | 4180 | 4335 | 4343 | 4417 => a[3],
            4177 | 4179 => a[2],
            _ => 0,
        };
        if flags & MSG_DONTWAIT != 0 {
            return None;
        }
        let events = match nr {
            // read, readv, recv, recvfrom, recvmsg, accept, accept4,
            // recvmmsg (and its time64 twin)
            4003 | 4145 | 4175 | 4176 | 4177 | 4168 | 4334 | 4335 | 4417 => libc::POLLIN,
            // write, writev, send, sendto, sendmsg, sendmmsg
            4004 | 4146 | 4178 | 4180 | 4179 | 4343 => libc::POLLOUT,
            // wait4 and waitpid without WNOHANG: look again shortly.
            4114 | 4007 if a[2] & libc::WNOHANG as u32 == 0 => return self.no_child_ready(a[0] as i32, a[2]),
            // flock that may wait: another thread may hold the file
            // through its own open of it (the call takes the lock if it
            // can, and the real one then succeeds at once), else look again.
            4143 if a[1] & (libc::LOCK_NB | libc::LOCK_UN) as u32 == 0 => {
                // SAFETY: a host call with integer arguments only.
                let r = unsafe { libc::flock(a[0] as i32, a[1] as i32 | libc::LOCK_NB) };
                let busy = r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK);
                return busy.then(|| Wait::Retry(Instant::now() + POLL_AGAIN));
            }
            _ => return None,
        };
        let fd = a[0] as i32;
        // A signalfd's read waits for guest signals itself.
        if self.signalfd_mask(a[0]).is_some() {
            return None;
        }
        if is_nonblocking(fd) {
            return None;
        }
        let mut p = libc::pollfd { fd, events, revents: 0 };
        // SAFETY: one valid pollfd, no waiting.
        (unsafe { libc::poll(&mut p, 1, 0) } == 0).then_some(Wait::Io { fd, events })
    }

    /// A blocking write of `data` to `fd` (a `write`, `send` or `sendfile`,
    /// see [`Write`]), with other threads
    /// that may be the ones to drain it: a pipe, FIFO or socket is written
    /// without waiting, as far as it takes, and the rest after a wait for
    /// room, continuing where it stopped ([`Threads::progress`]), so the
    /// call returns once all is written, as the blocking call does, while
    /// the reader runs. `None` when this does not apply (one thread, a
    /// non-blocking descriptor, another kind of file): the caller makes
    /// the blocking call itself. A signal handler that runs once part is
    /// written ends the call with the part's count first
    /// ([`Threads::take_partial`]), as on Linux.
    fn write_in_turns(&mut self, fd: i32, data: Write<'_>) -> Option<SysResult> {
        if !self.threads.shared() {
            return None;
        }
        let kind = stream_kind(fd)?;
        let pc = self.machine.cpu.s.pc;
        let done = self.threads.progress(pc);
        let total = data.len();
        let r = match (kind, data) {
            // A `send` part says MSG_DONTWAIT itself; one the guest made so
            // is its own affair (EAGAIN, not a wait).
            (_, Write::Send { flags, .. }) if flags & libc::MSG_DONTWAIT != 0 => return None,
            (Stream::Socket, Write::Send { data, flags, to }) => {
                Write::Send { data, flags: flags | libc::MSG_DONTWAIT, to }.write(fd, done)
            }
            (Stream::Socket, _) => with_nonblocking(fd, |fd| data.write(fd, done)),
            (Stream::Pipe, _) => match nonblocking_twin(fd) {
                Some(twin) => data.write(twin.as_raw_fd(), done),
                None => return None,
            },
        };
        let done = match r {
            // `sendfile` at the input's end: all there was is written.
            Ok(0) => return Some(Ok(done)),
            Ok(n) => done + n,
            Err(libc::EAGAIN) => done,
            // Linux returns what was written before an error.
            Err(_) if done > 0 => return Some(Ok(done)),
            Err(e) => return Some(Err(mips_errno(e))),
        };
        if done >= total {
            return Some(Ok(done));
        }
        self.threads.progress = Some((pc, done));
        self.threads.block(Wait::Io { fd, events: libc::POLLOUT });
        Some(Err(RETRY))
    }

    /// A write of `data` to `fd` as the guest's call makes it: in parts
    /// while other threads run ([`write_in_turns`](Self::write_in_turns)),
    /// else at once, as the descriptor's mode says.
    pub(super) fn write_out(&mut self, fd: i32, data: Write<'_>) -> SysResult {
        self.write_in_turns(fd, data).unwrap_or_else(|| data.write(fd, 0).map_err(mips_errno))
    }

    /// `wait4(pid, .., options)` would block: no child it waits for has
    /// changed state (looked at with `waitid`, which can leave it be).
    fn no_child_ready(&self, pid: i32, options: u32) -> Option<Wait> {
        let (idtype, id) = match pid {
            -1 => (libc::P_ALL, 0),
            0 => (libc::P_PGID, 0),
            p if p < 0 => (libc::P_PGID, (-p) as u32),
            p => (libc::P_PID, p as u32),
        };
        let mut flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        if options & libc::WUNTRACED as u32 != 0 {
            flags |= libc::WSTOPPED;
        }
        if options & libc::WCONTINUED as u32 != 0 {
            flags |= libc::WCONTINUED;
        }
        // SAFETY: an all-zero siginfo is valid; waitid fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is valid to fill; WNOWAIT leaves the child be.
        let r = unsafe { libc::waitid(idtype, id, &mut info, flags) };
        // SAFETY: waitid filled the child fields (zero if none was ready).
        let none = r == 0 && unsafe { info.si_pid() } == 0;
        none.then(|| Wait::Retry(Instant::now() + POLL_AGAIN))
    }

    /// At the end of the running thread's turn: if it blocked, or has had
    /// its time, the next ready thread runs.
    pub(super) fn schedule(&mut self) {
        let block = self.threads.block.take();
        let turn_over = || self.machine.cpu.icount() - self.threads.turn_start >= SIGNAL_POLL_INSNS;
        if block.is_none() && (!self.threads.shared() || !turn_over()) {
            return;
        }
        let me = self.save_thread(block.unwrap_or(Wait::Ready));
        self.threads.others.push_back(me);
        self.run_next();
    }

    /// Takes the running thread's registers and signal state into a
    /// [`Thread`] waiting for `wait`.
    fn save_thread(&mut self, wait: Wait) -> Thread {
        let c = &self.machine.cpu;
        Thread {
            tid: self.threads.tid,
            clear_tid: self.threads.clear_tid,
            gpr: c.s.gpr,
            hi: c.s.hi,
            lo: c.s.lo,
            pc: c.s.pc,
            fpu: c.fpu.clone(),
            user_local: c.user_local,
            sig: self.sig.thread_state(),
            wait,
            wait_end: self.threads.wait_end,
            progress: self.threads.progress,
        }
    }

    /// Makes the first ready thread (in turn order) the running one,
    /// waiting on the host until one is.
    fn run_next(&mut self) {
        loop {
            if let Some(i) = self.first_ready() {
                let Some(t) = self.threads.others.remove(i) else { continue };
                let c = &mut self.machine.cpu;
                (c.s.gpr, c.s.hi, c.s.lo, c.s.pc) = (t.gpr, t.hi, t.lo, t.pc);
                c.fpu = t.fpu;
                c.user_local = t.user_local;
                // A switch goes through the kernel's eret, which clears it.
                c.llbit = false;
                (self.threads.tid, self.threads.clear_tid) = (t.tid, t.clear_tid);
                (self.threads.wait_end, self.threads.progress) = (t.wait_end, t.progress);
                self.threads.turn_start = c.icount();
                self.sig.set_thread_state(t.sig);
                return;
            }
            self.idle();
        }
    }

    /// The index of the first thread that can run, after ending the waits
    /// that are over: a passed deadline, a ready descriptor, or a signal
    /// the thread does not block (which interrupts a futex wait or a sleep
    /// with EINTR, and runs a read or write again after its handler).
    fn first_ready(&mut self) -> Option<usize> {
        self.route_thread_signals();
        let now = Instant::now();
        for i in 0..self.threads.others.len() {
            let interrupted = self.sig.pending_for(&self.threads.others[i].sig);
            // A futex shared with other processes: has its word changed?
            // (Read as the guest would: it may have been unmapped since.)
            let changed = match self.threads.others[i].wait {
                Wait::Futex { addr, across: Some((v, _)), .. } => self.read_u32(addr).ok().is_none_or(|w| w != v),
                _ => false,
            };
            let t = &mut self.threads.others[i];
            let fail = |t: &mut Thread, errno: i32| (t.gpr[2], t.gpr[7]) = (mips_errno(errno) as u32, 1);
            match t.wait {
                Wait::Ready => {}
                Wait::Futex { deadline, .. } => {
                    if interrupted {
                        fail(t, libc::EINTR);
                    } else if changed {
                        (t.gpr[2], t.gpr[7]) = (0, 0);
                    } else if deadline.is_some_and(|d| d <= now) {
                        fail(t, libc::ETIMEDOUT);
                    } else {
                        continue;
                    }
                }
                Wait::Sleep(d) => {
                    if interrupted {
                        fail(t, libc::EINTR);
                    } else if d > now {
                        continue;
                    }
                }
                Wait::Retry(d) if !interrupted && d > now => continue,
                Wait::PiLock { deadline, .. } if !interrupted && deadline.is_none_or(|d| d > now) => continue,
                Wait::PiLock { .. } => {}
                Wait::Retry(_) => {}
                Wait::Io { fd, events } => {
                    let mut p = libc::pollfd { fd, events, revents: 0 };
                    // SAFETY: one valid pollfd.
                    if !interrupted && unsafe { libc::poll(&mut p, 1, 0) } == 0 {
                        continue;
                    }
                }
            }
            t.wait = Wait::Ready;
            return Some(i);
        }
        None
    }

    /// Every thread waits: sleeps on the host until the nearest deadline,
    /// a descriptor some thread waits for, or [`IDLE_SLICE`] (host signals
    /// interrupt the sleep, or are seen at its end).
    fn idle(&self) {
        let now = Instant::now();
        let mut until = now + IDLE_SLICE;
        let mut fds = Vec::new();
        let mut across = Vec::new();
        for t in &self.threads.others {
            if let Wait::Futex { across: Some(w), .. } = t.wait {
                across.push(w);
            }
            match t.wait {
                Wait::Futex { deadline: Some(d), .. }
                | Wait::PiLock { deadline: Some(d), .. }
                | Wait::Sleep(d)
                | Wait::Retry(d) => until = until.min(d),
                Wait::Io { fd, events } => fds.push(libc::pollfd { fd, events, revents: 0 }),
                _ => {}
            }
        }
        // One futex another process will wake, and nothing else to watch:
        // the host's futex wait, which that wake ends. With more to watch,
        // a short sleep, so their changes are seen soon.
        if let ([(val, host)], true) = (across.as_slice(), fds.is_empty()) {
            let left = until.saturating_duration_since(now);
            let ts = libc::timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 };
            // SAFETY: `host` is the futex word in guest memory (mapped,
            // aligned); `ts` a valid relative timeout. A shared (not
            // private) wait, as the other process's wake is.
            unsafe { libc::syscall(libc::SYS_futex, *host, libc::FUTEX_WAIT, *val, &ts) };
            return;
        }
        if !across.is_empty() {
            until = until.min(now + ACROSS_SLICE);
        }
        let ms = until.saturating_duration_since(now).as_micros().div_ceil(1000) as i32;
        // SAFETY: `fds` is a valid array of pollfds (possibly empty).
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }
}

/// Wakes up to `n` waiters (matching `bitset`) on the host futex at host
/// address `host`, in whatever process they are; how many woke.
fn host_futex_wake(host: usize, n: u32, bitset: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    // SAFETY: `host` is a futex word in guest memory; the other arguments
    // are integers (FUTEX_WAKE_BITSET ignores the timeout and second word).
    let r = unsafe { libc::syscall(libc::SYS_futex, host, libc::FUTEX_WAKE_BITSET, n as i32, 0usize, 0usize, bitset) };
    r.max(0) as u32
}

/// When an absolute time `ts` on host clock `clock` comes, as an Instant.
pub(super) fn absolute_deadline(clock: libc::clockid_t, ts: libc::timespec) -> Result<Instant, i32> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(EINVAL);
    }
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to fill; a bad clock is an error.
    if unsafe { libc::clock_gettime(clock, &mut now) } != 0 {
        return Err(EINVAL);
    }
    let ns = |t: libc::timespec| t.tv_sec as i128 * 1_000_000_000 + t.tv_nsec as i128;
    let left = (ns(ts) - ns(now)).max(0) as u128;
    let left = Duration::from_nanos(left.min(u64::MAX as u128) as u64);
    Ok(Instant::now().checked_add(left).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 40)))
}

/// What [`Process::write_out`] writes.
#[derive(Clone, Copy)]
pub(super) enum Write<'a> {
    /// These bytes (`write`, `writev`).
    Bytes(&'a [u8]),
    /// `send`/`sendto` of these bytes with these flags (host numbers, the
    /// same as MIPS's), to this address if any.
    Send { data: &'a [u8], flags: i32, to: Option<&'a [u8]> },
    /// `sendfile`: up to `count` bytes of `file`, from `offset` if given
    /// (a host offset, moved on as bytes go).
    File { file: i32, offset: Option<&'a std::cell::Cell<i64>>, count: u32 },
}

impl Write<'_> {
    fn len(&self) -> u32 {
        match self {
            Write::Bytes(b) | Write::Send { data: b, .. } => b.len() as u32,
            Write::File { count, .. } => *count,
        }
    }

    /// Writes what is left after `done` bytes to `fd` (waiting only if `fd`
    /// blocks): bytes written, or the host errno.
    fn write(&self, fd: i32, done: u32) -> Result<u32, i32> {
        let n = match self {
            // SAFETY: the slice's bytes after `done` are readable.
            Write::Bytes(b) => unsafe {
                let rest = &b[(done as usize).min(b.len())..];
                libc::write(fd, rest.as_ptr().cast(), rest.len())
            },
            Write::Send { data, flags, to } => {
                let rest = &data[(done as usize).min(data.len())..];
                let (p, len) = to.map_or((std::ptr::null(), 0), |t| (t.as_ptr().cast(), t.len() as u32));
                // SAFETY: `rest` and `p` (or null) are readable for their lengths.
                unsafe { libc::sendto(fd, rest.as_ptr().cast(), rest.len(), *flags, p, len) }
            }
            Write::File { file, offset, count } => {
                let left = (count - done) as usize;
                match offset {
                    Some(cell) => {
                        let mut off = cell.get();
                        // SAFETY: `off` is a valid offset the host updates.
                        let n = unsafe { libc::sendfile(fd, *file, &mut off, left) };
                        cell.set(off);
                        n
                    }
                    // SAFETY: a host call with integer arguments and no offset.
                    None => unsafe { libc::sendfile(fd, *file, std::ptr::null_mut(), left) },
                }
            }
        };
        if n < 0 { Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)) } else { Ok(n as u32) }
    }
}

/// The kinds of descriptor [`Process::write_in_turns`] writes in parts.
enum Stream {
    Socket,
    Pipe,
}

/// Whether `fd` is in non-blocking mode (or not a descriptor).
pub(super) fn is_nonblocking(fd: i32) -> bool {
    // SAFETY: a host call with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags < 0 || flags & libc::O_NONBLOCK != 0
}

/// A blocking pipe, FIFO or socket at `fd`.
fn stream_kind(fd: i32) -> Option<Stream> {
    if is_nonblocking(fd) {
        return None;
    }
    // SAFETY: a host call on an integer descriptor and a stat to fill.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 {
            return None;
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFSOCK => Some(Stream::Socket),
            libc::S_IFIFO => Some(Stream::Pipe),
            _ => None,
        }
    }
}

/// Runs `f(fd)` with the socket at `fd` non-blocking for the moment.
pub(super) fn with_nonblocking<T>(fd: i32, f: impl FnOnce(i32) -> T) -> T {
    // SAFETY: host calls on an integer descriptor.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    let r = f(fd);
    // SAFETY: as above; restores the flags read.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
    r
}

/// A second, non-blocking open of the pipe or FIFO at `fd` for writing:
/// its own file description, so the guest's (which other processes may
/// share) keeps its blocking mode.
fn nonblocking_twin(fd: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let path = std::ffi::CString::new(format!("/proc/self/fd/{fd}")).ok()?;
    // SAFETY: `path` is a C string; the new descriptor is owned below.
    let twin = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    // SAFETY: `twin` is a fresh descriptor nothing else owns.
    (twin >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(twin) })
}
