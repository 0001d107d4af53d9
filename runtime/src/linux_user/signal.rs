//! Signals: the guest's dispositions, mask and pending set, delivery on
//! the o32 signal frames Linux builds (`arch/mips/kernel/signal.c`), guest
//! faults as signals, and host signals forwarded to guest handlers.
//!
//! Host signals reach the guest through [`on_host_signal`], which only
//! records them; the run loop polls the record after every system call and
//! every few hundred thousand instructions. A guest disposition of "ignore"
//! becomes the host's too (so it survives `execve`, as on Linux), and a
//! guest handler becomes the recording host handler. Default actions stay
//! the host's, except for the signals mipsjit raises itself (faults).

use super::*;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

// Guest (MIPS) signal numbers used by name.
pub(super) const SIGILL: u32 = 4;
pub(super) const SIGTRAP: u32 = 5;
pub(super) const SIGFPE: u32 = 8;
pub(super) const SIGKILL: u32 = 9;
pub(super) const SIGBUS: u32 = 10;
pub(super) const SIGSEGV: u32 = 11;
pub(super) const SIGCHLD: u32 = 18;
const SIGSTOP: u32 = 23;

/// The highest guest signal (`_NSIG` is 128 on MIPS).
const NSIG: u32 = 128;
/// `sizeof(sigset_t)` for the kernel: 128 bits.
pub(super) const SIGSET_BYTES: u32 = 16;

// `sa_flags` bits (MIPS values).
const SA_SIGINFO: u32 = 0x0000_0008;
const SA_ONSTACK: u32 = 0x0800_0000;
const SA_RESTART: u32 = 0x1000_0000;
const SA_NODEFER: u32 = 0x4000_0000;
const SA_RESETHAND: u32 = 0x8000_0000;
const SIG_DFL: u32 = 0;
const SIG_IGN: u32 = 1;
/// For [`set_host_action`]: the host records the signal (any handler
/// address would do).
const RECORD: u32 = 2;
const SS_ONSTACK: u32 = 1;
const SS_DISABLE: u32 = 2;
const MINSIGSTKSZ: u32 = 2048;
const EINTR: i32 = 4;
const EAGAIN: i32 = 11;
/// `sigaltstack` flag: disable the stack while a handler runs on it.
const SS_AUTODISARM: u32 = 1 << 31;
/// `sizeof(siginfo_t)`.
const SIGINFO_BYTES: usize = 128;

// `si_code` values (MIPS numbering where it differs).
const SI_USER: i32 = 0;
const SI_KERNEL: i32 = 0x80;
const SI_TKILL: i32 = -6;

/// Guest signal numbers and their host equivalents (SIGEMT has none).
const HOST_SIGNALS: [(u32, i32); 30] = [
    (1, libc::SIGHUP),
    (2, libc::SIGINT),
    (3, libc::SIGQUIT),
    (4, libc::SIGILL),
    (5, libc::SIGTRAP),
    (6, libc::SIGABRT),
    (8, libc::SIGFPE),
    (9, libc::SIGKILL),
    (10, libc::SIGBUS),
    (11, libc::SIGSEGV),
    (12, libc::SIGSYS),
    (13, libc::SIGPIPE),
    (14, libc::SIGALRM),
    (15, libc::SIGTERM),
    (16, libc::SIGUSR1),
    (17, libc::SIGUSR2),
    (18, libc::SIGCHLD),
    (19, libc::SIGPWR),
    (20, libc::SIGWINCH),
    (21, libc::SIGURG),
    (22, libc::SIGIO),
    (23, libc::SIGSTOP),
    (24, libc::SIGTSTP),
    (25, libc::SIGCONT),
    (26, libc::SIGTTIN),
    (27, libc::SIGTTOU),
    (28, libc::SIGVTALRM),
    (29, libc::SIGPROF),
    (30, libc::SIGXCPU),
    (31, libc::SIGXFSZ),
];

/// The host signal for guest signal `g`: the table, then real-time signals
/// 34..=64 as themselves (32 and 33 belong to the host's C library).
pub(super) fn host_sig(g: u32) -> Option<i32> {
    if let Some(&(_, h)) = HOST_SIGNALS.iter().find(|(s, _)| *s == g) {
        return Some(h);
    }
    (34..=64).contains(&g).then_some(g as i32)
}

/// The guest signal for host signal `h` (0 stays 0).
pub(super) fn guest_sig(h: i32) -> Option<u32> {
    if h == 0 {
        return Some(0);
    }
    if let Some(&(g, _)) = HOST_SIGNALS.iter().find(|(_, s)| *s == h) {
        return Some(g);
    }
    (34..=64).contains(&h).then_some(h as u32)
}

/// The bit of signal `sig` in a set.
pub(super) fn bit(sig: u32) -> u128 {
    1u128 << (sig - 1)
}

/// Signals that can be neither caught nor blocked.
pub(super) fn unblockable() -> u128 {
    bit(SIGKILL) | bit(SIGSTOP)
}

/// What a signal's default action does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DefaultAction {
    Ignore,
    Stop,
    Terminate,
    Core,
}

fn default_action(sig: u32) -> DefaultAction {
    match sig {
        18 | 20 | 21 | 25 => DefaultAction::Ignore, // CHLD, WINCH, URG, CONT
        23 | 24 | 26 | 27 => DefaultAction::Stop,   // STOP, TSTP, TTIN, TTOU
        3..=8 | 10..=12 | 30 | 31 => DefaultAction::Core,
        _ => DefaultAction::Terminate,
    }
}

/// The name the shell prints for a signal.
fn name(sig: u32) -> &'static str {
    match sig {
        4 => "Illegal instruction",
        5 => "Trace/breakpoint trap",
        6 => "Aborted",
        8 => "Floating point exception",
        10 => "Bus error",
        11 => "Segmentation fault",
        _ => "Killed",
    }
}

/// A guest `struct sigaction`.
#[derive(Clone, Copy, Default)]
struct Action {
    handler: u32,
    flags: u32,
    mask: u128,
}

/// A queued signal's `siginfo`: the code and the four words after the
/// preamble (`si_addr`, or `si_pid`, `si_uid`, `si_status`/value, ...).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct SigInfo {
    pub(super) code: i32,
    pub(super) words: [u32; 4],
}

/// The first real-time signal on MIPS (the kernel's SIGRTMIN).
const SIGRTMIN: u32 = 32;
/// How many signals one queue holds (Linux's RLIMIT_SIGPENDING is per
/// user, usually thousands): past it, a real-time signal is lost, and
/// `sigqueue` says EAGAIN.
const QUEUE_LIMIT: usize = 4096;

/// Pending signals with their `siginfo`, oldest first: a standard signal
/// is pending once (another of it while it is only adds nothing), a
/// real-time one as often as it was sent, as on Linux.
#[derive(Clone, Default, Debug)]
pub(super) struct Queue(Vec<(u32, SigInfo)>);

impl Queue {
    /// Adds `sig`; false if it was lost (a full queue).
    /// A timer's signal (SI_TIMER) while that timer's last one is still
    /// queued adds its expiries to that one's overrun instead: a timer has
    /// at most one queued, as its preallocated sigqueue on Linux.
    fn push(&mut self, sig: u32, info: SigInfo) -> bool {
        if info.code == timers::SI_TIMER
            && let Some((_, queued)) =
                self.0.iter_mut().find(|(s, i)| *s == sig && i.code == timers::SI_TIMER && i.words[0] == info.words[0])
        {
            let overrun = queued.words[1] as u64 + info.words[1] as u64 + 1;
            queued.words[1] = overrun.min(i32::MAX as u64) as u32;
            return true;
        }
        if sig < SIGRTMIN && self.0.iter().any(|&(s, _)| s == sig) {
            return true;
        }
        if self.0.len() >= QUEUE_LIMIT {
            return false;
        }
        self.0.push((sig, info));
        true
    }

    /// Takes the oldest `sig`; also says whether another is left.
    fn take(&mut self, sig: u32) -> (Option<SigInfo>, bool) {
        let Some(i) = self.0.iter().position(|&(s, _)| s == sig) else { return (None, false) };
        let (_, info) = self.0.remove(i);
        (Some(info), self.0[i..].iter().any(|&(s, _)| s == sig))
    }

    /// Drops every `sig`.
    fn discard(&mut self, sig: u32) {
        self.0.retain(|&(s, _)| s != sig);
    }
}

/// The guest's signal state.
pub(super) struct Signals {
    actions: Vec<Action>,
    blocked: u128,
    /// Pending for the process: any thread not blocking one takes it.
    pending: u128,
    /// Pending for the running thread only (`tkill`, `tgkill`).
    own: u128,
    /// The process's pending signals with their `siginfo`.
    queue: Queue,
    /// The running thread's own (`tkill`, `tgkill`, a thread's timer).
    own_queue: Queue,
    /// `sigaltstack`: base, size (0: disabled), and SS_AUTODISARM if it
    /// was asked for (a handler's frame then disarms the stack).
    altstack: (u32, u32, u32),
    /// The mask to restore after a `sigsuspend` (the frame records it).
    saved_mask: Option<u128>,
    /// Blocked signals of default disposition that the host records
    /// instead of acting on: see [`Signals::sync_host`].
    held: u128,
    /// Descriptors `signalfd` made, and their copies (`dup` and the
    /// like): descriptor, mask, and which signalfd it is (copies share
    /// it, and their mask). See `signalfd.rs`.
    pub(super) signalfds: Vec<(i32, u128, u32)>,
    /// The number the next new signalfd gets in `signalfds`.
    pub(super) next_signalfd: u32,
    /// POSIX timers, whose expiries the poll turns into signals.
    pub(super) timers: timers::Timers,
    /// Timer signals for one thread (SIGEV_THREAD_ID), for the process to
    /// route ([`Process::route_thread_signals`]): thread, signal, info.
    pub(super) directed: Vec<(u32, u32, SigInfo)>,
}

/// The part of [`Signals`] each thread has of its own: what a thread
/// switch swaps (pending signals and dispositions are the process's).
#[derive(Clone, Debug)]
pub(super) struct ThreadSignals {
    blocked: u128,
    own: u128,
    own_queue: Queue,
    altstack: (u32, u32, u32),
    saved_mask: Option<u128>,
}

impl ThreadSignals {
    /// Every pending `sig` of this (waiting) thread goes.
    pub(super) fn discard(&mut self, sig: u32) {
        self.own &= !bit(sig);
        self.own_queue.discard(sig);
    }
}

/// Host signals recorded by [`on_host_signal`], one bit per host number.
static HOST_PENDING: AtomicU64 = AtomicU64::new(0);
/// Per host signal: `si_code`, `si_pid`, `si_uid`, and `si_status` (of
/// SIGCHLD) or `si_value`.
static HOST_INFO: [[AtomicI32; 4]; 65] = [const { [const { AtomicI32::new(0) }; 4] }; 65];
/// This process is the child of a guest (a `fork`, or an image it
/// `execve`d): a deadly signal kills the host process with that signal,
/// so the guest parent's `wait` sees it as Linux would report it.
pub(super) static GUEST_CHILD: AtomicBool = AtomicBool::new(false);

/// The host handler for signals the guest handles: records the signal.
/// Only async-signal-safe work (atomic stores).
extern "C" fn on_host_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    if !(1..=64).contains(&sig) {
        return;
    }
    let slot = &HOST_INFO[sig as usize];
    if !info.is_null() {
        // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO; the
        // union fields read are those of kill/sigqueue/SIGCHLD senders.
        unsafe {
            slot[0].store((*info).si_code, Ordering::Relaxed);
            slot[1].store((*info).si_pid(), Ordering::Relaxed);
            slot[2].store((*info).si_uid() as i32, Ordering::Relaxed);
            // A child's status, or a value queued with the signal (its
            // low word: the guest's values are 32-bit).
            let fourth =
                if sig == libc::SIGCHLD { (*info).si_status() } else { (*info).si_value().sival_ptr as usize as i32 };
            slot[3].store(fourth, Ordering::Relaxed);
        }
    }
    HOST_PENDING.fetch_or(1 << (sig - 1), Ordering::Release);
}

/// Says on stderr that the guest dies of `what` (a signal), unless this
/// process is a guest's child: there, as on Linux, only the parent's
/// `wait` learns it (its shell says so if it wants).
pub(super) fn report_death(what: std::fmt::Arguments<'_>) {
    if !GUEST_CHILD.load(Ordering::Relaxed) {
        eprintln!("mipsjit: guest killed by {what}");
    }
}

/// Signals mipsjit raises itself when the guest faults: the host keeps
/// its own handling of these (a real host fault must not be swallowed).
fn host_owned(h: i32) -> bool {
    [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP, libc::SIGKILL, libc::SIGSTOP].contains(&h)
}

/// Makes the host disposition of guest signal `g` follow the guest's.
fn set_host_action(g: u32, handler: u32) {
    let Some(h) = host_sig(g) else { return };
    if host_owned(h) {
        return;
    }
    // SAFETY: an all-zero sigaction is valid; the fields are set below.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = match handler {
        SIG_DFL => libc::SIG_DFL,
        SIG_IGN => libc::SIG_IGN,
        _ => {
            sa.sa_flags = libc::SA_SIGINFO;
            on_host_signal as *const () as usize
        }
    };
    // SAFETY: `sa.sa_mask` is a valid sigset; `sa` is a valid action whose
    // handler (if any) only stores to atomics.
    unsafe {
        libc::sigfillset(&mut sa.sa_mask);
        libc::sigaction(h, &sa, std::ptr::null_mut());
    }
}

/// Sets the host's blocked mask to `set` (guest numbering) and returns
/// the old host mask.
pub(super) fn set_host_mask(set: u128) -> libc::sigset_t {
    // SAFETY: plain sigset manipulation on local, initialised sets.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        if set == !0 {
            libc::sigaddset(&mut s, timers::TIMER_WAKE);
        }
        for g in 1..=NSIG {
            if set & bit(g) != 0
                && let Some(h) = host_sig(g)
            {
                libc::sigaddset(&mut s, h);
            }
        }
        libc::sigprocmask(libc::SIG_SETMASK, &s, &mut old);
        old
    }
}

/// Guest `si_code` for a host one (MIPS swaps three of the negative codes).
fn guest_si_code(c: i32) -> i32 {
    match c {
        -2 => -3, // SI_TIMER
        -3 => -4, // SI_MESGQ
        -4 => -2, // SI_ASYNCIO
        c => c,
    }
}

impl Signals {
    /// The state a new image starts with: dispositions "ignore" and the
    /// blocked mask inherited from the host (as `execve` keeps them), the
    /// rest default. The host's own mask is cleared: the guest's is kept
    /// here.
    pub(super) fn inherit() -> Self {
        let mut s = Self {
            actions: vec![Action::default(); NSIG as usize + 1],
            blocked: 0,
            pending: 0,
            own: 0,
            queue: Queue::default(),
            own_queue: Queue::default(),
            altstack: (0, 0, 0),
            saved_mask: None,
            held: 0,
            signalfds: Vec::new(),
            next_signalfd: 0,
            timers: timers::Timers::default(),
            directed: Vec::new(),
        };
        // SAFETY: queries and resets of this process's signal state with
        // valid, initialised structures.
        unsafe {
            // Rust ignores SIGPIPE before main; the guest expects the default.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            // Timers wake the guest's thread with this one (no SA_RESTART:
            // a wait in the host ends, and the call sees if a signal is due).
            let mut wake: libc::sigaction = std::mem::zeroed();
            wake.sa_sigaction = on_host_signal as *const () as usize;
            wake.sa_flags = libc::SA_SIGINFO;
            libc::sigfillset(&mut wake.sa_mask);
            libc::sigaction(timers::TIMER_WAKE, &wake, std::ptr::null_mut());
            let mut old: libc::sigset_t = std::mem::zeroed();
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, &mut old);
            for g in 1..=64 {
                let Some(h) = host_sig(g) else { continue };
                if libc::sigismember(&old, h) == 1 {
                    s.blocked |= bit(g);
                }
                let mut sa: libc::sigaction = std::mem::zeroed();
                if h != libc::SIGPIPE
                    && libc::sigaction(h, std::ptr::null(), &mut sa) == 0
                    && sa.sa_sigaction == libc::SIG_IGN
                {
                    s.actions[g as usize].handler = SIG_IGN;
                }
            }
        }
        s.blocked &= !unblockable();
        s.sync_host();
        s
    }

    /// A blocked signal stays pending on Linux even when its action is the
    /// default (to kill, or to be ignored), for `sigwait` or its unblocking
    /// to find; the host would act on it at once. So while the guest
    /// blocks a signal of default disposition, the host records it like a
    /// handled one. Called whenever the mask or a disposition may have
    /// changed; sets only what changed.
    fn sync_host(&mut self) {
        let mut want = 0u128;
        for g in 1..=64 {
            if self.actions[g as usize].handler == SIG_DFL {
                want |= bit(g);
            }
        }
        want &= self.blocked & !unblockable();
        let changed = want ^ self.held;
        for g in (1..=64).filter(|&g| changed & bit(g) != 0) {
            if want & bit(g) != 0 {
                set_host_action(g, RECORD);
            } else if self.actions[g as usize].handler == SIG_DFL {
                set_host_action(g, SIG_DFL);
            }
        }
        self.held = want;
    }

    /// The running thread's mask and alternate stack.
    /// Takes them out: a thread switch installs another's next.
    pub(super) fn thread_state(&mut self) -> ThreadSignals {
        ThreadSignals {
            blocked: self.blocked,
            own: self.own,
            own_queue: std::mem::take(&mut self.own_queue),
            altstack: self.altstack,
            saved_mask: self.saved_mask,
        }
    }

    /// Makes `t` the running thread's mask and alternate stack.
    pub(super) fn set_thread_state(&mut self, t: ThreadSignals) {
        (self.blocked, self.own, self.altstack, self.saved_mask) = (t.blocked, t.own, t.altstack, t.saved_mask);
        self.own_queue = t.own_queue;
        self.sync_host();
    }

    /// A new thread's: the creator's mask, and no alternate stack (as
    /// Linux's `clone` with CLONE_VM).
    pub(super) fn new_thread(&self) -> ThreadSignals {
        ThreadSignals {
            blocked: self.blocked,
            own: 0,
            own_queue: Queue::default(),
            altstack: (0, 0, 0),
            saved_mask: None,
        }
    }

    /// Whether a signal the thread `t` does not block is pending.
    pub(super) fn pending_for(&mut self, t: &ThreadSignals) -> bool {
        self.poll_host();
        (self.pending | t.own) & !t.blocked != 0
    }

    /// Signals pending for the running thread: its own and the process's.
    pub(super) fn all_pending(&self) -> u128 {
        self.pending | self.own
    }

    /// Takes the running thread's next `sig` (its own first, then the
    /// process's, as Linux's dequeue): its `siginfo`.
    pub(super) fn take(&mut self, sig: u32) -> SigInfo {
        let (bits, queue) = if self.own & bit(sig) != 0 {
            (&mut self.own, &mut self.own_queue)
        } else {
            (&mut self.pending, &mut self.queue)
        };
        let (info, more) = queue.take(sig);
        if !more {
            *bits &= !bit(sig);
        }
        let info = info.unwrap_or_default();
        // `timer_getoverrun` gives the overrun of the timer's last signal
        // taken, as Linux's it_overrun_last.
        if info.code == timers::SI_TIMER {
            self.timers.set_overrun(info.words[0], info.words[1] as i32);
        }
        info
    }

    /// Every pending `sig` of the running thread and the process goes (its
    /// action became "ignore"; see [`ThreadSignals::discard`] for the others).
    pub(super) fn discard(&mut self, sig: u32) {
        self.pending &= !bit(sig);
        self.own &= !bit(sig);
        self.queue.discard(sig);
        self.own_queue.discard(sig);
    }

    /// Queues `sig` with `info` for the thread whose signal state is `t`
    /// (the running thread's when `None`); false if it was lost.
    pub(super) fn queue_for_thread(&mut self, t: Option<&mut ThreadSignals>, sig: u32, info: SigInfo) -> bool {
        if !(1..=NSIG).contains(&sig) {
            return false;
        }
        let (bits, queue) = match t {
            Some(t) => (&mut t.own, &mut t.own_queue),
            None => (&mut self.own, &mut self.own_queue),
        };
        let queued = queue.push(sig, info);
        *bits |= bit(sig) * queued as u128;
        queued
    }

    /// After `fork`: the child has no pending signals.
    pub(super) fn after_fork(&mut self) {
        (self.pending, self.own) = (0, 0);
        (self.queue, self.own_queue) = (Queue::default(), Queue::default());
        HOST_PENDING.store(0, Ordering::Relaxed);
        self.timers.clear();
        self.directed.clear();
    }

    /// The host mask a new image should inherit; see [`set_host_mask`].
    pub(super) fn blocked(&self) -> u128 {
        self.blocked
    }

    /// Queues `sig` with `info` for the process; false if it was lost.
    pub(super) fn queue(&mut self, sig: u32, info: SigInfo) -> bool {
        if !(1..=NSIG).contains(&sig) {
            return false;
        }
        let queued = self.queue.push(sig, info);
        self.pending |= bit(sig) * queued as u128;
        queued
    }

    /// Moves host signals recorded since the last poll into the pending set.
    pub(super) fn poll_host(&mut self) {
        let bits = HOST_PENDING.swap(0, Ordering::Acquire);
        for h in 1..=64i32 {
            if bits & (1 << (h - 1)) == 0 {
                continue;
            }
            let Some(g) = guest_sig(h) else { continue };
            let slot = &HOST_INFO[h as usize];
            let code = slot[0].load(Ordering::Relaxed);
            let fourth = slot[3].load(Ordering::Relaxed);
            let third = match (h, code) {
                // CLD_KILLED, CLD_DUMPED, CLD_STOPPED carry a signal number.
                (libc::SIGCHLD, 2 | 3 | 5) => guest_sig(fourth).unwrap_or(fourth as u32),
                (libc::SIGCHLD, _) => fourth as u32,
                // SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO: `si_value`.
                (_, -4..=-1) => fourth as u32,
                _ => 0,
            };
            let words = [slot[1].load(Ordering::Relaxed) as u32, slot[2].load(Ordering::Relaxed) as u32, third, 0];
            self.queue(g, SigInfo { code: guest_si_code(code), words });
        }
        if bits & 1 << (timers::TIMER_WAKE - 1) != 0 {
            self.expire_timers();
        }
        // A page of a shared file mapping past the file's end was touched:
        // SIGBUS, BUS_ADRERR, as Linux sends.
        if let Some(addr) = shared::take_lost_page() {
            self.queue(SIGBUS, SigInfo { code: 2, words: [addr, 0, 0, 0] });
        }
    }

    /// Signals for the timers that have expired (one whose last signal is
    /// still queued adds to its overrun: see [`Queue::push`]).
    fn expire_timers(&mut self) {
        for e in self.timers.expire() {
            let overrun = (e.periods - 1).min(i32::MAX as i128) as u32;
            let info = SigInfo { code: timers::SI_TIMER, words: [e.id, overrun, e.value, 0] };
            match e.tid {
                None => {
                    self.queue(e.sig, info);
                }
                Some(tid) => self.directed.push((tid, e.sig, info)),
            }
        }
    }

    /// The next signal to deliver, if any (lowest number first).
    pub(super) fn next(&mut self) -> Option<u32> {
        self.poll_host();
        let ready = self.all_pending() & !self.blocked;
        (ready != 0).then(|| ready.trailing_zeros() + 1)
    }
}

/// Calls a signal handler interrupts for good (EINTR even with
/// SA_RESTART): pause, sigsuspend, sleeps, select and poll (also their
/// 64-bit time variants), sigtimedwait, and the System V waits (`ipc`,
/// msgsnd, msgrcv, semtimedop).
const NEVER_RESTARTED: [u32; 19] =
    [4029, 4072, 4199, 4166, 4265, 4407, 4142, 4188, 4301, 4302, 4250, 4413, 4414, 4197, 4421, 4117, 4400, 4401, 4420];

/// When a wait of `ts` from now ends: EINVAL for a negative time or
/// nanoseconds out of range, as Linux's `timespec64_valid`.
pub(super) fn deadline(ts: libc::timespec) -> Result<Instant, i32> {
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(EINVAL);
    }
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    // A deadline past what Instant holds is as good as none.
    Ok(Instant::now().checked_add(d).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 40)))
}

/// The time left until `d` (zero once it has passed), as a host timespec.
pub(super) fn time_left(d: Instant) -> libc::timespec {
    let left = d.saturating_duration_since(Instant::now());
    libc::timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 }
}

/// An empty host signal set.
fn no_host_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set.
    unsafe {
        let mut s: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut s);
        s
    }
}

impl Process {
    /// Signal-related system calls; `None` when `nr` is not one.
    pub(super) fn signal_syscall(&mut self, nr: u32, a: [u32; 4]) -> Option<SysResult> {
        Some(match nr {
            4194 => self.rt_sigaction(a[0], a[1], a[2], a[3]),
            4067 => self.sigaction_old(a[0], a[1], a[2]),
            4195 => self.rt_sigprocmask(a[0], a[1], a[2], a[3]),
            4126 => self.sigprocmask_old(a[0], a[1], a[2]),
            4196 => self.rt_sigpending(a[0], a[1]),
            4073 => self.sigpending_old(a[0]),
            4198 => self.sigqueueinfo(a[0] as i32, None, a[1], a[2]),
            4332 => self.sigqueueinfo(a[0] as i32, Some(a[1]), a[2], a[3]),
            4424 => self.pidfd_send_signal(a[0] as i32, a[1], a[2], a[3]),
            4199 => self.rt_sigsuspend(a[0], a[1]),
            4029 => self.sigsuspend_with(self.sig.blocked),
            4206 => self.sigaltstack(a[0], a[1]),
            4197 => self.rt_sigtimedwait(a[0], a[1], a[2], a[3], false),
            4421 => self.rt_sigtimedwait(a[0], a[1], a[2], a[3], true),
            4037 => self.kill(a[0] as i32, a[1], SI_USER),
            4236 => self.tkill(a[0], a[1]),
            4266 => self.tkill(a[1], a[2]),
            // SAFETY: a host call with an integer argument only.
            4027 => Ok(unsafe { libc::alarm(a[0]) }),
            4166 => self.nanosleep(libc::CLOCK_REALTIME, 0, a[0], a[1], false),
            4265 => self.nanosleep(a[0] as i32, a[1] as i32, a[2], a[3], false),
            4407 => self.nanosleep(a[0] as i32, a[1] as i32, a[2], a[3], true),
            4104 => self.setitimer(a[0], a[1], a[2]),
            4105 => self.setitimer(a[0], 0, a[1]),
            _ => return None,
        })
    }

    pub(super) fn read_sigset(&self, at: u32) -> Result<u128, i32> {
        let b = self.read_mem(at, SIGSET_BYTES as usize)?;
        let mut w = [0u8; 16];
        w.copy_from_slice(&b);
        Ok(u128::from_le_bytes(w))
    }

    fn rt_sigaction(&mut self, sig: u32, act: u32, oact: u32, size: u32) -> SysResult {
        if size != SIGSET_BYTES {
            return Err(EINVAL);
        }
        self.sigaction(sig, act, oact, true)
    }

    fn sigaction_old(&mut self, sig: u32, act: u32, oact: u32) -> SysResult {
        self.sigaction(sig, act, oact, false)
    }

    /// `sigaction`: the o32 `struct sigaction` is `sa_flags`, `sa_handler`,
    /// then a 128-bit `sa_mask` (the old call uses its first word only).
    fn sigaction(&mut self, sig: u32, act: u32, oact: u32, rt: bool) -> SysResult {
        if !(1..=NSIG).contains(&sig) || (act != 0 && (sig == SIGKILL || sig == SIGSTOP)) {
            return Err(EINVAL);
        }
        let new = if act != 0 {
            let flags = self.read_u32(act)?;
            let handler = self.read_u32(act.wrapping_add(4))?;
            let mut mask = self.read_sigset(act.wrapping_add(8))?;
            if !rt {
                mask &= 0xffff_ffff;
            }
            Some(Action { handler, flags, mask: mask & !unblockable() })
        } else {
            None
        };
        if oact != 0 {
            let old = self.sig.actions[sig as usize];
            let mask = if rt { old.mask } else { old.mask & 0xffff_ffff };
            let mut b = Vec::with_capacity(24);
            b.extend(old.flags.to_le_bytes());
            b.extend(old.handler.to_le_bytes());
            b.extend(mask.to_le_bytes());
            self.write_mem(oact, &b)?;
        }
        if let Some(new) = new {
            self.sig.actions[sig as usize] = new;
            if sig == SIGSEGV && new.handler != SIG_DFL && new.handler != SIG_IGN {
                // The handler must see the exact state of a fault, which
                // the host's protection of guest memory cannot give.
                self.machine.check_user_memory();
            }
            let ignored =
                new.handler == SIG_IGN || (new.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore);
            if ignored {
                // Pending ones go, in every thread (Linux's flush of them).
                self.sig.discard(sig);
                for t in self.threads.waiting_signals() {
                    t.discard(sig);
                }
            }
            set_host_action(sig, new.handler);
            // The host action is the new one now: sync_host sees afresh
            // whether a blocked default one should be recorded.
            self.sig.held &= !bit(sig);
            self.sig.sync_host();
        }
        Ok(0)
    }

    fn change_mask(&mut self, how: u32, set: u128) -> Result<(), i32> {
        let b = &mut self.sig.blocked;
        match how {
            1 => *b |= set,
            2 => *b &= !set,
            3 => *b = set,
            _ => return Err(EINVAL),
        }
        *b &= !unblockable();
        Ok(())
    }

    fn rt_sigprocmask(&mut self, how: u32, set: u32, oset: u32, size: u32) -> SysResult {
        if size != SIGSET_BYTES {
            return Err(EINVAL);
        }
        let old = self.sig.blocked;
        if set != 0 {
            let s = self.read_sigset(set)?;
            self.change_mask(how, s)?;
        }
        if oset != 0 {
            self.write_mem(oset, &old.to_le_bytes())?;
        }
        Ok(0)
    }

    fn sigprocmask_old(&mut self, how: u32, set: u32, oset: u32) -> SysResult {
        let old = self.sig.blocked;
        if set != 0 {
            let s = self.read_u32(set)?;
            let keep_high = if how == 3 { old & !0xffff_ffff } else { 0 };
            self.change_mask(how, s as u128 | keep_high)?;
        }
        if oset != 0 {
            self.write_u32(oset, old as u32)?;
        }
        Ok(0)
    }

    fn rt_sigpending(&mut self, set: u32, size: u32) -> SysResult {
        if size != SIGSET_BYTES {
            return Err(EINVAL);
        }
        self.sig.poll_host();
        let p = self.sig.all_pending() & self.sig.blocked;
        self.write_mem(set, &p.to_le_bytes())?;
        Ok(0)
    }

    /// `sigpending(set)`: the old one-word `sigset_t` (signals 1 to 32).
    fn sigpending_old(&mut self, set: u32) -> SysResult {
        self.sig.poll_host();
        let p = self.sig.all_pending() & self.sig.blocked;
        self.write_u32(set, p as u32)?;
        Ok(0)
    }

    /// `rt_sigqueueinfo(pid, sig, info)` and, with a thread id,
    /// `rt_tgsigqueueinfo(pid, tid, sig, info)`: `sig` with the caller's
    /// siginfo (its code, and the sender and value words). To this process
    /// it is queued as it is; to another the host sends it, which lets a
    /// process make up only codes below 0 (SI_QUEUE and the like).
    fn sigqueueinfo(&mut self, pid: i32, tid: Option<u32>, sig: u32, at: u32) -> SysResult {
        if sig > NSIG {
            return Err(EINVAL);
        }
        let info = self.guest_siginfo(at)?;
        let me = std::process::id() as i32;
        let ours = match tid {
            Some(t) => pid == me && self.threads.is_ours(t),
            None => pid == me || (pid > 0 && self.threads.is_ours(pid as u32)),
        };
        if ours {
            // Signal 0 only asks whether the target exists.
            let queued = match tid {
                _ if sig == 0 => true,
                Some(t) => {
                    let target = self.threads.signals_of(t);
                    self.sig.queue_for_thread(target, sig, info)
                }
                None => self.sig.queue(sig, info),
            };
            // A full queue: the real-time signal is not sent.
            return if queued { Ok(0) } else { Err(EAGAIN) };
        }
        let h = if sig == 0 { 0 } else { host_sig(sig).ok_or(EINVAL)? };
        let host = self.host_siginfo(h, at)?;
        // SAFETY: `host` is a 128-byte siginfo, only read.
        syscalls::check(unsafe {
            match tid {
                Some(t) => libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, t as i32, h, host.as_ptr()),
                None => libc::syscall(libc::SYS_rt_sigqueueinfo, pid, h, host.as_ptr()),
            }
        })
    }

    /// `pidfd_send_signal(pidfd, sig, info, flags)`: to this process (the
    /// pidfd's `Pid:` in /proc is ours) it is queued as `kill` or
    /// `rt_sigqueueinfo` would; to another the host sends it.
    fn pidfd_send_signal(&mut self, pidfd: i32, sig: u32, info: u32, flags: u32) -> SysResult {
        if sig > NSIG {
            return Err(EINVAL);
        }
        let fdinfo =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{pidfd}")).map_err(|_| mips_errno(libc::EBADF))?;
        let pid = fdinfo.lines().find_map(|l| l.strip_prefix("Pid:")).and_then(|v| v.trim().parse::<i32>().ok());
        let me = std::process::id() as i32;
        if pid == Some(me) && flags == 0 {
            return match info {
                0 => self.kill(me, sig, SI_USER),
                at => self.sigqueueinfo(me, None, sig, at),
            };
        }
        let h = if sig == 0 { 0 } else { host_sig(sig).ok_or(EINVAL)? };
        let host = if info == 0 { None } else { Some(self.host_siginfo(h, info)?) };
        let ptr = host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr());
        // SAFETY: `ptr` is null or a 128-byte siginfo, only read.
        syscalls::check(unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd, h, ptr, flags) })
    }

    /// The guest's siginfo at `at` as the host's (x86-64: signo, errno,
    /// code, then the union from byte 16: pid, uid, and the value, an int
    /// or a pointer's low word), for host signal `h`.
    fn host_siginfo(&self, h: i32, at: u32) -> Result<[u32; 32], i32> {
        let info = self.guest_siginfo(at)?;
        let mut host = [0u32; 32];
        (host[0], host[2]) = (h as u32, info.code as u32);
        (host[4], host[5], host[6]) = (info.words[0], info.words[1], info.words[2]);
        Ok(host)
    }

    /// The code and union words of the guest's siginfo at `at` (o32:
    /// signo, code, errno, then the union from byte 12).
    fn guest_siginfo(&self, at: u32) -> Result<SigInfo, i32> {
        let b = self.read_mem(at, 28)?;
        let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Ok(SigInfo { code: word(4) as i32, words: [word(12), word(16), word(20), word(24)] })
    }

    fn rt_sigsuspend(&mut self, mask: u32, size: u32) -> SysResult {
        if size != SIGSET_BYTES {
            return Err(EINVAL);
        }
        let m = self.read_sigset(mask)?;
        self.sigsuspend_with(m)
    }

    /// Waits with `mask` blocked until a signal is to be delivered; returns
    /// EINTR, and the old mask comes back when the handler returns.
    fn sigsuspend_with(&mut self, mask: u128) -> SysResult {
        let old = self.sig.blocked;
        self.sig.blocked = mask & !unblockable();
        self.sig.sync_host();
        if self.threads.shared() {
            // Let the other threads run, and look again shortly.
            if self.sig.next().is_some() {
                self.sig.saved_mask = Some(old);
                return Err(EINTR);
            }
            self.sig.blocked = old;
            self.sig.sync_host();
            return self.threads.retry(None);
        }
        // Block every host signal while checking, then wait with all of
        // them open: one arriving between the check and the wait still
        // ends the wait.
        let host_old = set_host_mask(!0);
        while self.sig.next().is_none() {
            // SAFETY: a valid, empty set; sigsuspend returns on any signal.
            unsafe {
                let mut none: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut none);
                libc::sigsuspend(&none);
            }
        }
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &host_old, std::ptr::null_mut()) };
        self.sig.saved_mask = Some(old);
        Err(EINTR)
    }

    /// `sigaltstack`: the o32 `stack_t` is `ss_sp`, `ss_size`, `ss_flags`.
    fn sigaltstack(&mut self, ss: u32, oss: u32) -> SysResult {
        let (base, size, autodisarm) = self.sig.altstack;
        let sp = self.machine.cpu.s.gpr[29];
        if oss != 0 {
            let flags = autodisarm
                | if size == 0 {
                    SS_DISABLE
                } else if sp.wrapping_sub(base) < size {
                    SS_ONSTACK
                } else {
                    0
                };
            let b: Vec<u8> = [base, size, flags].iter().flat_map(|w| w.to_le_bytes()).collect();
            self.write_mem(oss, &b)?;
        }
        if ss != 0 {
            let (nbase, nsize, nflags) =
                (self.read_u32(ss)?, self.read_u32(ss.wrapping_add(4))?, self.read_u32(ss.wrapping_add(8))?);
            self.set_altstack(nbase, nsize, nflags, sp)?;
        }
        Ok(0)
    }

    /// Installs an alternate signal stack, as Linux's `do_sigaltstack`
    /// with the stack pointer at `sp`: not while running on the current
    /// one (EPERM).
    fn set_altstack(&mut self, base: u32, size: u32, flags: u32, sp: u32) -> Result<(), i32> {
        let (old_base, old_size, _) = self.sig.altstack;
        if old_size != 0 && sp.wrapping_sub(old_base) < old_size {
            return Err(EPERM);
        }
        match flags & !SS_AUTODISARM {
            SS_DISABLE => self.sig.altstack = (0, 0, 0),
            0 | SS_ONSTACK if size < MINSIGSTKSZ => return Err(ENOMEM),
            0 | SS_ONSTACK => self.sig.altstack = (base, size, flags & SS_AUTODISARM),
            _ => return Err(EINVAL),
        }
        Ok(())
    }

    /// `rt_sigtimedwait(set, info, timeout, sigsetsize)` (`wide`: 64-bit
    /// `timespec`): takes a pending signal of `set` (lowest first) and
    /// returns it with its `siginfo`, waiting at most `timeout` (forever
    /// if null) for one to come: then EAGAIN. A signal outside `set` that
    /// the guest handles ends the wait with EINTR.
    fn rt_sigtimedwait(&mut self, set: u32, info: u32, timeout: u32, size: u32, wide: bool) -> SysResult {
        if size != SIGSET_BYTES {
            return Err(EINVAL);
        }
        let want = self.read_sigset(set)? & !unblockable();
        let end = if timeout == 0 { None } else { Some(deadline(self.read_timespec(timeout, wide)?)?) };
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        let sig = self.wait_pending(want, end)?;
        self.take_waited(sig, info)
    }

    /// Waits until a signal in `want` is pending, blocked or not: the
    /// lowest such. EAGAIN once `end` passes, EINTR if a signal is to be
    /// delivered first; with other threads it looks once and has the call
    /// run again ([`threads::RETRY`]; `end` from
    /// [`threads::Threads::wait_end`]).
    pub(super) fn wait_pending(&mut self, want: u128, end: Option<Instant>) -> SysResult {
        if self.threads.shared() {
            // Look once; if nothing came, let the other threads run and
            // look again shortly (until `end`, kept across the re-runs).
            self.route_thread_signals();
            let ready = self.sig.all_pending() & want;
            let now = Instant::now();
            if ready == 0 {
                if end.is_some_and(|e| e <= now) {
                    return Err(EAGAIN);
                }
                if self.sig.next().is_some() {
                    return Err(EINTR);
                }
                return self.threads.retry(end);
            }
            return Ok(ready.trailing_zeros() + 1);
        }
        // Host signals stay blocked except inside ppoll, so one arriving
        // between the look at the pending set and the wait ends the wait.
        let host_old = set_host_mask(!0);
        let none = no_host_signals();
        let got = loop {
            self.route_thread_signals();
            let ready = self.sig.all_pending() & want;
            if ready != 0 {
                break Ok(ready.trailing_zeros() + 1);
            }
            let left = end.map(time_left);
            if left.is_some_and(|t| t.tv_sec == 0 && t.tv_nsec == 0) {
                break Err(EAGAIN);
            }
            if self.sig.next().is_some() {
                break Err(EINTR);
            }
            let tp = left.as_ref().map_or(std::ptr::null(), |t| t as *const libc::timespec);
            // SAFETY: no descriptors; `tp` is null or a valid timespec,
            // `none` a valid set. It returns at the deadline or on a signal.
            unsafe { libc::ppoll(std::ptr::null_mut(), 0, tp, &none) };
        };
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &host_old, std::ptr::null_mut()) };
        got
    }

    /// `sig`, which a `sigtimedwait` waited for, stops being pending; its
    /// `siginfo` goes to `info` if not null.
    fn take_waited(&mut self, sig: u32, info: u32) -> SysResult {
        let si = self.sig.take(sig);
        if info != 0 {
            let mut b = vec![0u8; SIGINFO_BYTES];
            // MIPS puts si_code before si_errno.
            b[..4].copy_from_slice(&sig.to_le_bytes());
            b[4..8].copy_from_slice(&si.code.to_le_bytes());
            for (i, w) in si.words.iter().enumerate() {
                b[12 + 4 * i..16 + 4 * i].copy_from_slice(&w.to_le_bytes());
            }
            self.write_mem(info, &b)?;
        }
        Ok(sig)
    }

    /// Runs a host wait `f(timeout, host mask)` (ppoll, pselect6) with the
    /// guest mask `mask` in force if given, until it returns, `end` passes,
    /// or a guest signal is to be delivered: then EINTR, and the handler's
    /// frame records the old mask, as Linux's `set_restore_sigmask` does.
    /// Ready descriptors win over a pending signal, as on Linux.
    ///
    /// With other threads, it only looks (a zero timeout) and, if nothing
    /// is ready, has the call run again shortly ([`threads::RETRY`]), so
    /// the others run meanwhile; `end` must then come from
    /// [`threads::Threads::wait_end`].
    pub(super) fn guest_wait(
        &mut self,
        mask: Option<u128>,
        end: Option<Instant>,
        mut f: impl FnMut(*mut libc::timespec, *const libc::sigset_t) -> i64,
    ) -> SysResult {
        if self.threads.shared() {
            self.sync_signalfds();
            let mut zero = libc::timespec { tv_sec: 0, tv_nsec: 0 };
            let none = no_host_signals();
            let n = f(&mut zero, &none);
            if n < 0 {
                return Err(syscalls::mips_errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)));
            }
            let now = Instant::now();
            if n > 0 || end.is_some_and(|e| e <= now) {
                return Ok(n as u32);
            }
            // A signal the wait's mask lets through ends it, as below.
            let old = self.sig.blocked;
            if let Some(m) = mask {
                self.sig.blocked = m & !unblockable();
            }
            if self.sig.next().is_some() {
                if mask.is_some() {
                    self.sig.saved_mask = Some(old);
                    self.sig.sync_host();
                }
                return Err(EINTR);
            }
            self.sig.blocked = old;
            return self.threads.retry(end);
        }
        let old = self.sig.blocked;
        if let Some(m) = mask {
            self.sig.blocked = m & !unblockable();
            self.sig.sync_host();
        }
        // As in rt_sigtimedwait: host signals open only inside the wait.
        let host_old = set_host_mask(!0);
        let none = no_host_signals();
        let r = loop {
            // A host signal ended the last wait: a signalfd may be ready.
            self.sync_signalfds();
            let signalled = self.sig.next().is_some();
            let mut left = if signalled { Some(libc::timespec { tv_sec: 0, tv_nsec: 0 }) } else { end.map(time_left) };
            let tp = left.as_mut().map_or(std::ptr::null_mut(), |t| t as *mut libc::timespec);
            let n = f(tp, &none);
            if n > 0 || (n == 0 && !signalled) {
                break Ok(n as u32);
            }
            if n == 0 {
                break Err(EINTR);
            }
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
            if e != libc::EINTR {
                break Err(syscalls::mips_errno(e));
            }
        };
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &host_old, std::ptr::null_mut()) };
        if r == Err(EINTR) && mask.is_some() {
            self.sig.saved_mask = Some(old);
        } else {
            self.sig.blocked = old;
        }
        r
    }

    /// `kill`: to this process, queued here (its mask and handlers decide);
    /// to others, sent by the host.
    fn kill(&mut self, pid: i32, sig: u32, code: i32) -> SysResult {
        if sig > NSIG {
            return Err(EINVAL);
        }
        let me = std::process::id() as i32;
        // A thread of this process: the process takes it (any thread not
        // blocking it handles it).
        if pid == me || (pid > 0 && self.threads.is_ours(pid as u32)) {
            if sig != 0 {
                // SAFETY: a host call without arguments.
                let uid = unsafe { libc::getuid() };
                self.sig.queue(sig, SigInfo { code, words: [me as u32, uid, 0, 0] });
            }
            return Ok(0);
        }
        let h = host_sig(sig).ok_or(EINVAL)?;
        // SAFETY: a host call with integer arguments only.
        syscalls::check(unsafe { libc::kill(pid, h) } as i64)
    }

    /// `tkill`/`tgkill`: to a thread of this process, queued for that
    /// thread alone; to others, sent by the host.
    fn tkill(&mut self, tid: u32, sig: u32) -> SysResult {
        if sig > NSIG {
            return Err(EINVAL);
        }
        if !self.threads.is_ours(tid) {
            return self.kill(tid as i32, sig, SI_TKILL);
        }
        if sig != 0 {
            let me = std::process::id();
            // SAFETY: a host call without arguments.
            let info = SigInfo { code: SI_TKILL, words: [me, unsafe { libc::getuid() }, 0, 0] };
            let target = self.threads.signals_of(tid);
            self.sig.queue_for_thread(target, sig, info);
        }
        Ok(0)
    }

    /// `setitimer(which, new, old)` (and `getitimer` with no new value):
    /// the host's timers, with o32 `struct itimerval` (four words).
    fn setitimer(&mut self, which: u32, new: u32, old: u32) -> SysResult {
        let tv = |s: u32, u: u32| libc::timeval { tv_sec: s as i32 as i64, tv_usec: u as i32 as i64 };
        // SAFETY: an all-zero itimerval is valid.
        let mut o: libc::itimerval = unsafe { std::mem::zeroed() };
        if new != 0 {
            let w: Vec<u32> = (0..4).map(|i| self.read_u32(new.wrapping_add(4 * i))).collect::<Result<_, _>>()?;
            let n = libc::itimerval { it_interval: tv(w[0], w[1]), it_value: tv(w[2], w[3]) };
            // SAFETY: valid itimervals.
            syscalls::check(unsafe { libc::setitimer(which as i32, &n, &mut o) } as i64)?;
        } else {
            // SAFETY: a valid itimerval to fill.
            syscalls::check(unsafe { libc::getitimer(which as i32, &mut o) } as i64)?;
        }
        if old != 0 {
            let w = [o.it_interval.tv_sec, o.it_interval.tv_usec, o.it_value.tv_sec, o.it_value.tv_usec];
            let b: Vec<u8> = w.iter().flat_map(|&v| (v as u32).to_le_bytes()).collect();
            self.write_mem(old, &b)?;
        }
        Ok(0)
    }

    /// `nanosleep` and `clock_nanosleep` (`wide`: 64-bit `timespec`); a
    /// signal ends the sleep early with EINTR and the time left.
    fn nanosleep(&mut self, clock: i32, flags: i32, req: u32, rem: u32, wide: bool) -> SysResult {
        let t = self.read_timespec(req, wide)?;
        if self.threads.shared() {
            // The other threads run meanwhile.
            let d = if flags & libc::TIMER_ABSTIME != 0 { threads::absolute_deadline(clock, t)? } else { deadline(t)? };
            self.threads.block(threads::Wait::Sleep(d));
            return Ok(0);
        }
        let (mut t, mut left) = (t, libc::timespec { tv_sec: 0, tv_nsec: 0 });
        let r = loop {
            // SAFETY: valid timespecs.
            let r = unsafe { libc::clock_nanosleep(clock, flags, &t, &mut left) };
            // Woken for no signal the guest takes now (a timer's, blocked,
            // say): sleep on for what is left, as Linux's restart does.
            if r != libc::EINTR || self.sig.next().is_some() {
                break r;
            }
            if flags & libc::TIMER_ABSTIME == 0 {
                t = left;
            }
        };
        if r == 0 {
            return Ok(0);
        }
        if r == libc::EINTR && rem != 0 && flags == 0 {
            self.write_timespec(rem, left, wide)?;
        }
        Err(syscalls::mips_errno(r))
    }

    /// A system call returned EINTR: whether to run it again once the
    /// signal is handled (no handler will run, or it has SA_RESTART).
    pub(super) fn should_restart(&mut self, nr: u32) -> bool {
        let Some(sig) = self.sig.next() else { return true };
        let act = self.sig.actions[sig as usize];
        match act.handler {
            SIG_DFL | SIG_IGN => true,
            _ => act.flags & SA_RESTART != 0 && !NEVER_RESTARTED.contains(&nr),
        }
    }

    /// A guest fault becomes its signal, delivered to the guest's handler;
    /// a blocked or ignored one kills, as Linux's `force_sig` does.
    /// Returns the exit status if the guest died.
    pub(super) fn fault(&mut self, e: UserException) -> Option<u8> {
        if matches!(e.code, ExcCode::AdEL | ExcCode::AdES) && self.emulate_unaligned(e) {
            return None;
        }
        let (sig, info) = self.fault_signal(e);
        let act = self.sig.actions[sig as usize];
        // An inexact fault cannot be handled; it only happens when the guest
        // has no handler (see `sigaction`).
        if act.handler == SIG_DFL || act.handler == SIG_IGN || self.sig.blocked & bit(sig) != 0 || e.inexact {
            return Some(self.die(e));
        }
        // The handler sees (and returns to) the faulting instruction, or
        // its branch when it sits in a delay slot.
        self.machine.cpu.s.pc = if e.bd { e.pc.wrapping_sub(4) } else { e.pc };
        self.sig.queue(sig, info);
        self.deliver()
    }

    /// Carries out a misaligned load or store byte by byte, as Linux does
    /// for user programs (`arch/mips/kernel/unaligned.c`): halfwords,
    /// words, and FPU words and doublewords, in delay slots too. Returns
    /// whether it did.
    fn emulate_unaligned(&mut self, e: UserException) -> bool {
        if e.bad_vaddr.is_none_or(|a| a >= MEM_SIZE as u32) {
            return false;
        }
        let Ok(w) = self.read_u32(e.pc) else { return false };
        // In a delay slot the branch says where to go on, as Linux's
        // `compute_return_epc` does: it is evaluated again on the registers
        // as they are, before the emulated load may overwrite one it reads.
        // Its link register write, if any, only repeats itself.
        let next = if e.bd {
            let branch_pc = e.pc.wrapping_sub(4);
            let Ok(b) = self.read_u32(branch_pc) else { return false };
            match crate::interp::exec(&mut self.machine.cpu, frontend::decode(b), branch_pc, false) {
                crate::interp::Flow::Branch { taken: true, target } => target,
                crate::interp::Flow::Branch { taken: false, .. } => e.pc.wrapping_add(4),
                _ => return false,
            }
        } else {
            e.pc.wrapping_add(4)
        };
        let (op, base, rt) = (w >> 26, (w >> 21 & 31) as usize, (w >> 16 & 31) as usize);
        let addr = self.machine.cpu.s.gpr[base].wrapping_add(w as u16 as i16 as u32);
        let fr = self.machine.cpu.cp0.status & status::FR != 0;
        let load = |p: &Self, n: usize| -> Option<u64> {
            let b = p.read_mem(addr, n).ok()?;
            Some(b.iter().rev().fold(0u64, |v, &x| v << 8 | x as u64))
        };
        let done = match op {
            0x21 | 0x23 | 0x25 => {
                let n = if op == 0x23 { 4 } else { 2 };
                let Some(v) = load(self, n) else { return false };
                let v = match op {
                    0x21 => v as u16 as i16 as u32,
                    _ => v as u32,
                };
                if rt != 0 {
                    self.machine.cpu.s.gpr[rt] = v;
                }
                true
            }
            0x31 | 0x35 => {
                let Some(v) = load(self, if op == 0x31 { 4 } else { 8 }) else { return false };
                let fpu = &mut self.machine.cpu.fpu;
                if op == 0x31 {
                    fpu.set_single(rt, v as u32)
                } else {
                    fpu.set_double(rt, v, fr)
                }
                true
            }
            0x29 | 0x2b | 0x39 | 0x3d => {
                let cpu = &self.machine.cpu;
                let (v, n) = match op {
                    0x29 => (cpu.s.gpr[rt] as u64, 2),
                    0x2b => (cpu.s.gpr[rt] as u64, 4),
                    0x39 => (cpu.fpu.single(rt) as u64, 4),
                    _ => (cpu.fpu.double(rt, fr), 8),
                };
                self.write_mem(addr, &v.to_le_bytes()[..n]).is_ok()
            }
            _ => false,
        };
        if done {
            self.machine.cpu.s.pc = next;
        }
        done
    }

    /// The signal and `siginfo` for a fault, as qemu-mipsel reports them.
    pub(super) fn fault_signal(&self, e: UserException) -> (u32, SigInfo) {
        let at = |code: i32, addr: u32| SigInfo { code, words: [addr, 0, 0, 0] };
        match e.code {
            ExcCode::AdEL | ExcCode::AdES => match e.bad_vaddr {
                // In kuseg only a misaligned access faults: SIGBUS, BUS_ADRALN.
                Some(a) if a < MEM_SIZE as u32 => (SIGBUS, at(1, a)),
                a => (SIGSEGV, at(1, a.unwrap_or(0))),
            },
            // SEGV_ACCERR where something is mapped, else SEGV_MAPERR.
            ExcCode::TlbL | ExcCode::TlbS | ExcCode::Mod => {
                let a = e.bad_vaddr.unwrap_or(0);
                let pages = &self.machine.cpu.user_pages;
                let mapped = pages.get(a as usize >> 12).is_some_and(|p| p & page_perm::MAPPED != 0);
                (SIGSEGV, at(if mapped { 2 } else { 1 }, a))
            }
            ExcCode::Ibe | ExcCode::Dbe => (SIGBUS, at(2, e.bad_vaddr.unwrap_or(0))),
            ExcCode::Ri | ExcCode::CpU => (SIGILL, SigInfo { code: SI_KERNEL, words: [0; 4] }),
            ExcCode::Ov => (SIGFPE, at(2, e.pc)), // FPE_INTOVF
            ExcCode::Fpe => {
                let cause = self.machine.cpu.fpu.fcsr >> 12;
                let code = [(16, 7), (15, 3), (14, 4), (13, 5), (12, 6)]
                    .iter()
                    .find(|(b, _)| cause & (1 << (b - 12)) != 0)
                    .map_or(14, |&(_, c)| c);
                (SIGFPE, at(code, e.pc))
            }
            ExcCode::Bp | ExcCode::Tr => match self.trap_code(e) {
                Some(6) => (SIGFPE, at(2, e.pc)), // overflow
                Some(7) => (SIGFPE, at(1, e.pc)), // divide by zero
                _ if e.code == ExcCode::Tr => (SIGTRAP, SigInfo { code: SI_KERNEL, words: [0; 4] }),
                _ => (SIGTRAP, at(1, e.pc)), // TRAP_BRKPT
            },
            _ => (SIGTRAP, at(1, e.pc)),
        }
    }

    /// Delivers pending, unblocked signals: runs default actions, or builds
    /// a frame for the handler. Returns the exit status if the guest died.
    pub(super) fn deliver(&mut self) -> Option<u8> {
        self.route_thread_signals();
        while let Some(sig) = self.sig.next() {
            let info = self.sig.take(sig);
            let act = self.sig.actions[sig as usize];
            match act.handler {
                SIG_IGN => {}
                SIG_DFL => match default_action(sig) {
                    DefaultAction::Ignore => {}
                    DefaultAction::Stop => {
                        // SAFETY: a host call with integer arguments only.
                        unsafe { libc::kill(libc::getpid(), libc::SIGSTOP) };
                    }
                    d => {
                        if d == DefaultAction::Core {
                            report_death(format_args!("signal {sig} ({})", name(sig)));
                        }
                        return Some(self.exit_by_signal(sig));
                    }
                },
                _ => {
                    // A write done in parts (see `write_in_turns`) that the
                    // handler interrupts returns what it wrote.
                    let pc = self.machine.cpu.s.pc;
                    if let Some(done) = self.threads.take_partial(pc) {
                        let s = &mut self.machine.cpu.s;
                        (s.gpr[2], s.gpr[7], s.pc) = (done, 0, pc.wrapping_add(4));
                    }
                    let old_mask = self.sig.saved_mask.take().unwrap_or(self.sig.blocked);
                    if self.push_frame(sig, act, info, old_mask).is_err() {
                        // No room for the frame: Linux kills with SIGSEGV.
                        report_death(format_args!("signal 11: no room for the signal {sig} frame"));
                        return Some(self.exit_by_signal(SIGSEGV));
                    }
                    self.sig.blocked |= act.mask;
                    if act.flags & SA_NODEFER == 0 {
                        self.sig.blocked |= bit(sig);
                    }
                    self.sig.blocked &= !unblockable();
                    if act.flags & SA_RESETHAND != 0 {
                        self.sig.actions[sig as usize] = Action::default();
                        set_host_action(sig, SIG_DFL);
                        self.sig.held &= !bit(sig);
                    }
                }
            }
        }
        if let Some(m) = self.sig.saved_mask.take() {
            self.sig.blocked = m;
        }
        self.sig.sync_host();
        None
    }

    /// Ends the process for signal `sig`: a guest's child dies of the host
    /// signal (its parent's `wait` sees that); the top process exits with
    /// 128 + `sig`.
    pub(super) fn exit_by_signal(&mut self, sig: u32) -> u8 {
        // Linux writes dirty shared pages back however a process ends.
        self.write_back_all();
        if GUEST_CHILD.load(Ordering::Relaxed)
            && let Some(h) = host_sig(sig)
        {
            // SAFETY: host calls on this process's own state, with valid
            // structures; no core file, as qemu-mipsel does.
            unsafe {
                let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                libc::setrlimit(libc::RLIMIT_CORE, &none);
                libc::signal(h, libc::SIG_DFL);
                let mut s: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut s);
                libc::sigaddset(&mut s, h);
                libc::sigprocmask(libc::SIG_UNBLOCK, &s, std::ptr::null_mut());
                libc::kill(libc::getpid(), h);
            }
        }
        128u32.saturating_add(sig).min(255) as u8
    }

    /// Builds the signal frame for `sig` on the guest stack and points the
    /// CPU at the handler: an `rt_sigframe` (argument save area, two
    /// padding words, `siginfo`, `ucontext`) with SA_SIGINFO, else a
    /// `sigframe` (save area, padding, `sigcontext`, mask).
    fn push_frame(&mut self, sig: u32, act: Action, info: SigInfo, old_mask: u128) -> Result<(), i32> {
        let rt = act.flags & SA_SIGINFO != 0;
        let size: u32 = if rt { 24 + 128 + 632 } else { 24 + SIGCONTEXT_BYTES + 16 };
        let sp = self.machine.cpu.s.gpr[29];
        let (base, ss_size, autodisarm) = self.sig.altstack;
        let on_alt = ss_size != 0 && sp.wrapping_sub(base) < ss_size;
        let top = if act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt { base.wrapping_add(ss_size) } else { sp };
        // Linux leaves 32 bytes below the stack pointer, and aligns to 8.
        let frame = top.wrapping_sub(32).wrapping_sub(size) & !7;
        if !Self::in_user(frame, size as usize) || frame > top {
            return Err(EFAULT);
        }
        let sc = self.sigcontext();
        let mut b = vec![0u8; size as usize];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        if rt {
            put(24, &sig.to_le_bytes());
            put(28, &info.code.to_le_bytes());
            for (i, w) in info.words.iter().enumerate() {
                put(36 + 4 * i, &w.to_le_bytes());
            }
            let uc = 152;
            let ss_flags = if ss_size == 0 {
                SS_DISABLE
            } else if on_alt {
                SS_ONSTACK
            } else {
                0
            };
            put(uc + 8, &base.to_le_bytes());
            put(uc + 12, &ss_size.to_le_bytes());
            put(uc + 16, &(ss_flags | autodisarm).to_le_bytes());
            put(uc + 24, &sc);
            put(uc + 24 + SIGCONTEXT_BYTES as usize, &old_mask.to_le_bytes());
        } else {
            put(24, &sc);
            put(24 + SIGCONTEXT_BYTES as usize, &old_mask.to_le_bytes());
        }
        self.write_mem(frame, &b)?;
        if rt && autodisarm != 0 {
            // The handler runs with no alternate stack; its uc_stack,
            // restored by sigreturn, re-arms it (Linux's __save_altstack).
            self.sig.altstack = (0, 0, 0);
        }
        let g = &mut self.machine.cpu.s.gpr;
        g[4] = sig;
        g[5] = if rt { frame + 24 } else { 0 };
        g[6] = if rt { frame + 152 } else { frame + 24 };
        g[29] = frame;
        g[31] = if rt { TRAMPOLINE + 8 } else { TRAMPOLINE };
        g[25] = act.handler;
        self.machine.cpu.s.pc = act.handler;
        Ok(())
    }

    /// The o32 `struct sigcontext` for the current registers.
    fn sigcontext(&self) -> Vec<u8> {
        let cpu = &self.machine.cpu;
        let mut b = vec![0u8; SIGCONTEXT_BYTES as usize];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(8, &(cpu.s.pc as u64).to_le_bytes());
        for i in 1..32 {
            put(16 + 8 * i, &(cpu.s.gpr[i] as u64).to_le_bytes());
        }
        for i in 0..32 {
            put(272 + 8 * i, &cpu.fpu.fpr[i].to_le_bytes());
        }
        put(532, &cpu.fpu.fcsr.to_le_bytes());
        put(540, &1u32.to_le_bytes()); // sc_used_math
        put(552, &(cpu.s.hi as u64).to_le_bytes());
        put(560, &(cpu.s.lo as u64).to_le_bytes());
        b
    }

    /// `sigreturn` (`rt`: `rt_sigreturn`): restores the registers and mask
    /// saved in the frame at the stack pointer. Registers are not written
    /// with a system call result. A bad frame kills with SIGSEGV.
    pub(super) fn sigreturn(&mut self, rt: bool) -> Option<u8> {
        let frame = self.machine.cpu.s.gpr[29];
        let sc = if rt { frame.wrapping_add(152 + 24) } else { frame.wrapping_add(24) };
        let restored = self.read_mem(sc, SIGCONTEXT_BYTES as usize + 16);
        let Ok(b) = restored else {
            report_death(format_args!("signal 11: bad signal frame at {frame:#010x}"));
            return Some(self.exit_by_signal(SIGSEGV));
        };
        let u64_at = |off: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[off..off + 8]);
            u64::from_le_bytes(w)
        };
        let u32_at = |off: usize| u64_at(off) as u32;
        let cpu = &mut self.machine.cpu;
        cpu.s.pc = u32_at(8);
        for i in 1..32 {
            cpu.s.gpr[i] = u32_at(16 + 8 * i);
        }
        cpu.s.hi = u32_at(552);
        cpu.s.lo = u32_at(560);
        if u32_at(540) != 0 {
            for i in 0..32 {
                cpu.fpu.fpr[i] = u64_at(272 + 8 * i);
            }
            cpu.fpu.fcsr = u32_at(532);
        }
        let mut m = [0u8; 16];
        m.copy_from_slice(&b[SIGCONTEXT_BYTES as usize..]);
        self.sig.blocked = u128::from_le_bytes(m) & !unblockable();
        if rt {
            // The handler may have changed `uc_stack`: it becomes the
            // alternate stack, as `sigaltstack` called with the restored
            // stack pointer (Linux's `restore_altstack`; its errors, such
            // as EPERM when the interrupted code ran on the alternate
            // stack, are ignored).
            let ss = frame.wrapping_add(152 + 8);
            let Ok(w) = (0..3).map(|i| self.read_u32(ss.wrapping_add(4 * i))).collect::<Result<Vec<_>, _>>() else {
                report_death(format_args!("signal 11: bad signal frame at {frame:#010x}"));
                return Some(self.exit_by_signal(SIGSEGV));
            };
            let sp = self.machine.cpu.s.gpr[29];
            let _ = self.set_altstack(w[0], w[1], w[2], sp);
        }
        None
    }
}

/// `sizeof(struct sigcontext)` for o32.
const SIGCONTEXT_BYTES: u32 = 592;

/// Where the return trampolines live: `sigreturn` at +0, `rt_sigreturn`
/// at +8, in the page above the stack (the vDSO's place on Linux).
pub(super) const TRAMPOLINE: u32 = STACK_TOP;

/// The trampoline code: `li v0, NR; syscall` for both returns.
pub(super) fn trampoline_code() -> Vec<u8> {
    [0x2402_0000 | 4119, 0x0000_000c, 0x2402_0000 | 4193, 0x0000_000c]
        .iter()
        .flat_map(|w: &u32| w.to_le_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(v: u32) -> SigInfo {
        SigInfo { code: -1, words: [0, 0, v, 0] }
    }

    #[test]
    fn standard_signals_pend_once_and_real_time_ones_queue_in_order() {
        let mut q = Queue::default();
        assert!(q.push(16, info(1)) && q.push(16, info(2)));
        for v in [10, 20, 30] {
            assert!(q.push(SIGRTMIN + 2, info(v)));
        }
        assert_eq!(q.take(16), (Some(info(1)), false));
        assert_eq!(q.take(16), (None, false));
        assert_eq!(q.take(SIGRTMIN + 2), (Some(info(10)), true));
        assert_eq!(q.take(SIGRTMIN + 2), (Some(info(20)), true));
        assert_eq!(q.take(SIGRTMIN + 2), (Some(info(30)), false));
    }

    #[test]
    fn a_queued_timer_signal_counts_overruns_and_a_full_queue_loses_signals() {
        let mut q = Queue::default();
        let t = SigInfo { code: timers::SI_TIMER, words: [3, 0, 7, 0] };
        assert!(q.push(SIGRTMIN, t));
        // Two more expiries of timer 3 (one with an overrun of 1 itself):
        // overrun 3, one signal; timer 4's is its own.
        assert!(q.push(SIGRTMIN, SigInfo { words: [3, 0, 7, 0], ..t }));
        assert!(q.push(SIGRTMIN, SigInfo { words: [3, 1, 7, 0], ..t }));
        assert!(q.push(SIGRTMIN, SigInfo { words: [4, 0, 8, 0], ..t }));
        assert_eq!(q.take(SIGRTMIN), (Some(SigInfo { words: [3, 3, 7, 0], ..t }), true));
        assert_eq!(q.take(SIGRTMIN), (Some(SigInfo { words: [4, 0, 8, 0], ..t }), false));
        for _ in 0..QUEUE_LIMIT {
            assert!(q.push(SIGRTMIN + 1, info(0)));
        }
        assert!(!q.push(SIGRTMIN + 1, info(0)));
    }
}
