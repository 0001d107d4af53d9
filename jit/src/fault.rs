//! Guest memory faults in translated code, caught by the host.
//!
//! In user-mode emulation translated code reaches guest memory with one
//! plain host access (see [`GuestConfig::flat_user_base`]). The runtime
//! keeps the host protection of each guest page equal to the guest's
//! (unmapped pages inaccessible, read-only ones read-only), so a guest
//! access the guest may not make faults in the host. This module turns that
//! host `SIGSEGV` into a return from [`Jit::enter`] with
//! [`ExitReason::HostFault`], instead of the host process dying.
//!
//! [`Jit::enter`] goes through a small assembly frame that saves the
//! host's callee-saved registers and records its stack pointer. When
//! translated code faults on guest memory, the signal handler points the
//! interrupted context back at that frame's return path with the exit code
//! in `rax`, as if the code had returned. The fault is not precise: guest
//! registers the code held in host registers are lost, and the guest state
//! is that of some earlier exit. The runtime only uses this where the guest
//! dies of the fault (no guest handler for `SIGSEGV`); a guest that
//! handles it gets code with software checks instead.
//!
//! Only x86-64 Linux hosts have this ([`catch_guest_faults`] says whether);
//! elsewhere the entry calls the trampoline directly.
//!
//! [`GuestConfig::flat_user_base`]: crate::GuestConfig::flat_user_base
//! [`Jit::enter`]: crate::Jit::enter
//! [`ExitReason::HostFault`]: crate::abi::ExitReason::HostFault

/// A guest access that faulted in the host, from translated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestFault {
    /// The guest address.
    pub addr: u32,
    /// Whether the access was a store.
    pub write: bool,
}

/// Makes host faults of translated code on `[base, base + len)` return
/// from [`crate::Jit::enter`] with [`crate::abi::ExitReason::HostFault`]:
/// installs the host `SIGSEGV` handler (once per process; faults it does
/// not own go to the handler that was there before). One guest range per
/// process: a later call replaces it. Returns false, and does nothing, on
/// hosts without this support.
pub fn catch_guest_faults(base: *mut u8, len: usize) -> bool {
    imp::catch_guest_faults(base as usize, len)
}

/// The fault behind the last [`crate::abi::ExitReason::HostFault`] on this
/// thread, taken (later calls return `None` until the next one).
pub fn take_guest_fault() -> Option<GuestFault> {
    imp::take()
}

/// Records `[start, start + len)` as translated code: only faults there
/// are the guest's.
pub(crate) fn register_code(start: usize, len: usize) {
    imp::register_code(start, len);
}

/// Calls `trampoline(state, code)` through the frame a fault returns to.
///
/// # Safety
/// As [`crate::Jit::enter`]: `trampoline` is the JIT's entry stub and its
/// arguments are valid for it.
pub(crate) unsafe fn enter(
    trampoline: unsafe extern "C" fn(*mut crate::abi::JitState, usize) -> u32,
    state: *mut crate::abi::JitState,
    code: usize,
) -> u32 {
    // SAFETY: forwarded from the caller.
    unsafe { imp::enter(trampoline, state, code) }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod imp {
    use super::GuestFault;
    use crate::abi::{ExitReason, JitState};
    use std::cell::Cell;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    thread_local! {
        /// The stack pointer `mipsjit_enter` saved on this thread; 0 when
        /// no translated code runs here.
        static ENTRY_SP: Cell<usize> = const { Cell::new(0) };
        /// The fault that ended the last run, until taken.
        static FAULT: Cell<Option<GuestFault>> = const { Cell::new(None) };
    }

    /// The watched guest range: base and length (0: none).
    static GUEST: [AtomicUsize; 2] = [const { AtomicUsize::new(0) }; 2];
    /// Code arenas, `[start, end)`: a process has a few (one per `Jit`,
    /// kept for the process's life). Slots past the last stay 0.
    static CODE: [[AtomicUsize; 2]; 64] = [const { [const { AtomicUsize::new(0) }; 2] }; 64];
    static CODE_COUNT: AtomicUsize = AtomicUsize::new(0);
    /// The `SIGSEGV` action before ours, for faults that are not ours;
    /// `None` if ours could not be installed.
    static PREVIOUS: OnceLock<Option<Action>> = OnceLock::new();

    struct Action(libc::sigaction);
    // SAFETY: a sigaction is plain data (a handler address, flags, a mask).
    unsafe impl Send for Action {}
    // SAFETY: as above; it is never written after it is set.
    unsafe impl Sync for Action {}

    // mipsjit_enter(state, code, trampoline, &ENTRY_SP) -> u32: saves the
    // callee-saved registers, records the stack pointer in *ENTRY_SP and
    // calls trampoline(state, code). mipsjit_enter_resume is where both a
    // normal return and a fault (with the exit code in eax and rsp set to
    // the recorded value) come back. The stack is 16-byte aligned at the
    // call: 8 (return address) + 7 pushes of 8.
    std::arch::global_asm!(
        ".text",
        ".p2align 4",
        ".globl mipsjit_enter",
        ".hidden mipsjit_enter",
        ".globl mipsjit_enter_resume",
        ".hidden mipsjit_enter_resume",
        "mipsjit_enter:",
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "push rcx",
        "mov [rcx], rsp",
        "call rdx",
        "mipsjit_enter_resume:",
        "pop rcx",
        "mov qword ptr [rcx], 0",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
    );

    unsafe extern "C" {
        fn mipsjit_enter(
            state: *mut JitState,
            code: usize,
            trampoline: unsafe extern "C" fn(*mut JitState, usize) -> u32,
            sp: *mut usize,
        ) -> u32;
        static mipsjit_enter_resume: u8;
    }

    pub(super) unsafe fn enter(
        trampoline: unsafe extern "C" fn(*mut JitState, usize) -> u32,
        state: *mut JitState,
        code: usize,
    ) -> u32 {
        // SAFETY: mipsjit_enter preserves the System V callee-saved
        // registers and the stack, and only calls `trampoline` with the
        // caller's arguments; the slot is this thread's ENTRY_SP, which
        // outlives the call.
        ENTRY_SP.with(|sp| unsafe { mipsjit_enter(state, code, trampoline, sp.as_ptr()) })
    }

    pub(super) fn take() -> Option<GuestFault> {
        FAULT.with(|f| f.take())
    }

    pub(super) fn register_code(start: usize, len: usize) {
        let i = CODE_COUNT.fetch_add(1, Ordering::AcqRel);
        if let Some(slot) = CODE.get(i) {
            slot[1].store(start + len, Ordering::Release);
            slot[0].store(start, Ordering::Release);
        }
    }

    fn in_code(pc: usize) -> bool {
        let n = CODE_COUNT.load(Ordering::Acquire).min(CODE.len());
        CODE[..n].iter().any(|s| {
            let (start, end) = (s[0].load(Ordering::Acquire), s[1].load(Ordering::Acquire));
            (start..end).contains(&pc)
        })
    }

    pub(super) fn catch_guest_faults(base: usize, len: usize) -> bool {
        GUEST[1].store(0, Ordering::Release);
        GUEST[0].store(base, Ordering::Release);
        GUEST[1].store(len, Ordering::Release);
        PREVIOUS
            .get_or_init(|| {
                // SAFETY: queries and sets this process's SIGSEGV action with
                // valid, initialised structures; the handler below is
                // async-signal-safe (atomics, thread-local cells, sigaction).
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    let mut sa: libc::sigaction = std::mem::zeroed();
                    sa.sa_sigaction = on_sigsegv as *const () as usize;
                    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                    libc::sigemptyset(&mut sa.sa_mask);
                    (libc::sigaction(libc::SIGSEGV, &sa, &mut old) == 0).then_some(Action(old))
                }
            })
            .is_some()
    }

    /// The host `SIGSEGV` handler. A fault of translated code (its pc in a
    /// code arena, a `mipsjit_enter` frame live on this thread) on the
    /// watched guest range returns through that frame with
    /// [`ExitReason::HostFault`]; anything else is handed back to the
    /// previous action by reinstalling it: returning re-runs the access,
    /// which faults again into it.
    extern "C" fn on_sigsegv(_sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo and a
        // ucontext_t for this thread's interrupted context, which the
        // handler may edit; SIGSEGV's si_addr is the faulting address.
        unsafe {
            let addr = (*info).si_addr() as usize;
            let uc = &mut *(ctx as *mut libc::ucontext_t);
            let g = &mut uc.uc_mcontext.gregs;
            let pc = g[libc::REG_RIP as usize] as usize;
            let sp = ENTRY_SP.try_with(|c| c.get()).unwrap_or(0);
            let (base, len) = (GUEST[0].load(Ordering::Acquire), GUEST[1].load(Ordering::Acquire));
            if sp != 0 && addr.wrapping_sub(base) < len && in_code(pc) {
                let write = g[libc::REG_ERR as usize] & 2 != 0;
                let fault = GuestFault { addr: (addr - base) as u32, write };
                let _ = FAULT.try_with(|f| f.set(Some(fault)));
                g[libc::REG_RSP as usize] = sp as i64;
                g[libc::REG_RIP as usize] = &raw const mipsjit_enter_resume as i64;
                g[libc::REG_RAX as usize] = ExitReason::HostFault as i64;
                return;
            }
            if let Some(Some(old)) = PREVIOUS.get() {
                libc::sigaction(libc::SIGSEGV, &old.0, std::ptr::null_mut());
            }
        }
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
mod imp {
    use super::GuestFault;
    use crate::abi::JitState;

    pub(super) unsafe fn enter(
        trampoline: unsafe extern "C" fn(*mut JitState, usize) -> u32,
        state: *mut JitState,
        code: usize,
    ) -> u32 {
        // SAFETY: forwarded from the caller.
        unsafe { trampoline(state, code) }
    }

    pub(super) fn take() -> Option<GuestFault> {
        None
    }

    pub(super) fn register_code(_start: usize, _len: usize) {}

    pub(super) fn catch_guest_faults(_base: usize, _len: usize) -> bool {
        false
    }
}
