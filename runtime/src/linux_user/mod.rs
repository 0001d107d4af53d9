//! User-mode emulation: runs an o32 little-endian MIPS Linux program on
//! this host, as `qemu-mipsel` does, translating its system calls. Static
//! and dynamic (through the program interpreter, looked up in a sysroot)
//! executables, fixed-address or position-independent.
//!
//! Guest virtual memory is kuseg mapped 1:1 onto 2 GiB of guest physical
//! RAM (see [`Cpu::linux_user`]), with the permissions of the guest's
//! mappings (see `mm.rs`): an access outside them is a fault, as on
//! Linux. Guest file descriptors are host file descriptors.

use crate::cp0::status;
use crate::cpu::{Cpu, CpuModel, UserException, page_perm};
use crate::exception::ExcCode;
use crate::machine::{Exit, JitMode, Machine};
use softmmu::PhysMap;
use std::collections::HashSet;
use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

mod elf;
mod events;
mod fcntl;
mod fileio;
mod fs;
mod ipc;
mod mm;
mod mqueue;
mod net;
mod process;
mod sched;
mod select;
mod shared;
mod signal;
mod signalfd;
mod syscalls;
mod threads;
mod timers;
mod tty;
mod vma;

use elf::Elf;
use syscalls::mips_errno;
use vma::Mappings;

/// Guest memory: kuseg, 2 GiB.
const MEM_SIZE: u64 = 0x8000_0000;
/// Top of the initial stack (just below the highest user page Linux uses).
const STACK_TOP: u32 = 0x7fff_0000;
/// Room reserved for the stack below [`STACK_TOP`].
const STACK_SIZE: u32 = 8 << 20;
/// `mmap` allocates downwards from here.
const MMAP_TOP: u32 = STACK_TOP - STACK_SIZE - 0x1_0000;
const PAGE: u32 = 4096;
/// Host buffer size for bulk copies into guest memory.
const CHUNK: usize = 1 << 20;
/// Instructions between looks at host signals (about a millisecond).
const SIGNAL_POLL_INSNS: u64 = 1 << 20;

// Auxiliary vector types.
const AT_NULL: u32 = 0;
const AT_PHDR: u32 = 3;
const AT_PHENT: u32 = 4;
const AT_PHNUM: u32 = 5;
const AT_PAGESZ: u32 = 6;
const AT_BASE: u32 = 7;
const AT_FLAGS: u32 = 8;
const AT_ENTRY: u32 = 9;
const AT_UID: u32 = 11;
const AT_EUID: u32 = 12;
const AT_GID: u32 = 13;
const AT_EGID: u32 = 14;
const AT_HWCAP: u32 = 16;
const AT_CLKTCK: u32 = 17;
const AT_SECURE: u32 = 23;
const AT_RANDOM: u32 = 25;
const AT_EXECFN: u32 = 31;

// MIPS errno values used directly.
const EPERM: i32 = 1;
const ENOENT: i32 = 2;
const EBADF: i32 = 9;
const ENOMEM: i32 = 12;
const EFAULT: i32 = 14;
const EINVAL: i32 = 22;
const ENOTTY: i32 = 25;
const ERANGE: i32 = 34;
const ENOSYS: i32 = 89;

/// How `mipsjit user` runs a program.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Which execution tier runs guest code.
    pub jit: JitMode,
    /// Where the guest's absolute paths are looked up first (the program
    /// interpreter, the libraries it opens): `-L`, as in qemu-user.
    pub sysroot: Option<PathBuf>,
    /// The guest's `argv[0]`, when not the program path (as qemu's `-0`).
    pub argv0: Option<OsString>,
    /// The process is a guest's child (started by a guest `execve` in a
    /// forked process): a deadly signal kills it with that host signal, so
    /// the guest parent's `wait` sees it, instead of exiting 128 + signal.
    pub guest_child: bool,
    /// Print the instruction count and the machine's counters on stderr
    /// when the program exits (as `mipsjit run --stats`).
    pub stats: bool,
    /// Which of descriptors 0, 1 and 2 the guest had closed when its
    /// `execve` started this process. The host runtime opens /dev/null on
    /// a closed one at start; they are closed again before the program
    /// runs, so it finds them closed, as on Linux.
    pub closed_fds: Vec<i32>,
}

impl Options {
    /// `sysroot` if given, else `$QEMU_LD_PREFIX`, else
    /// [`DEFAULT_SYSROOT`] if it exists.
    pub fn new(jit: JitMode, sysroot: Option<PathBuf>) -> Options {
        let sysroot = sysroot
            .or_else(|| std::env::var_os("QEMU_LD_PREFIX").filter(|v| !v.is_empty()).map(PathBuf::from))
            .or_else(|| Some(PathBuf::from(DEFAULT_SYSROOT)).filter(|p| p.is_dir()));
        Options { jit, sysroot, ..Options::default() }
    }
}

/// Where Debian's `libc6-mipsel-cross` puts the o32 mipsel libraries.
pub const DEFAULT_SYSROOT: &str = "/usr/mipsel-linux-gnu";

/// Runs `program` with arguments `args`; returns the exit status (the
/// guest's, or 128 + signal when a signal kills it, or 2 when it cannot
/// start).
pub fn run_program(program: &Path, args: &[OsString], opts: &Options) -> u8 {
    if opts.guest_child {
        signal::GUEST_CHILD.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    match start(program, args, opts) {
        Ok(mut p) => {
            for &fd in opts.closed_fds.iter().filter(|fd| (0..3).contains(*fd)) {
                // SAFETY: closes a standard descriptor mipsjit does not use.
                unsafe { libc::close(fd) };
            }
            let status = p.run();
            p.write_back_all();
            if opts.stats {
                eprintln!("mipsjit: {} instructions, {:?}", p.machine.cpu.icount(), p.machine.stats);
            }
            status
        }
        Err(msg) => {
            eprintln!("mipsjit: {}: {msg}", program.display());
            2
        }
    }
}

fn start(program: &Path, args: &[OsString], opts: &Options) -> Result<Process, String> {
    let bytes = std::fs::read(program).map_err(|e| e.to_string())?;
    let exe = Elf::parse(&bytes)?;
    let mut phys = PhysMap::default();
    phys.add_ram(0, MEM_SIZE as usize, true).map_err(|e| e.to_string())?;
    let mut cpu = Cpu::with_model(phys, false, CpuModel::Mips24Kf);
    cpu.linux_user = true;
    cpu.cp0.status = status::KSU_USER | status::CU1;
    cpu.cp0.config3 |= 1 << 13; // ULRI
    cpu.cp0.hwrena |= 1 << 29;
    let mut p = Process {
        machine: Machine::new(cpu, opts.jit).map_err(|e| e.to_string())?,
        brk_start: 0,
        brk: 0,
        maps: Mappings::default(),
        sysroot: opts.sysroot.clone(),
        exe: std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf()),
        warned: HashSet::new(),
        mode: opts.jit,
        sig: signal::Signals::inherit(),
        threads: threads::Threads::default(),
        shared: shared::Shared::default(),
        host_base: None,
    };
    p.protect_guest_memory();
    p.fill_mem(signal::TRAMPOLINE, &signal::trampoline_code()).map_err(|_| "no room for the signal trampoline")?;
    p.set_pages(signal::TRAMPOLINE, signal::TRAMPOLINE + PAGE, mm::CODE_PAGE);
    let argv0 = opts.argv0.as_deref().unwrap_or(program.as_os_str());
    let mut argv: Vec<Vec<u8>> = vec![argv0.as_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    p.exec(&exe, &bytes, &argv, &env)?;
    // The trampoline page is taken: no mmap may land on it.
    p.maps.insert(signal::TRAMPOLINE, signal::TRAMPOLINE + PAGE);
    Ok(p)
}

/// A running guest process.
struct Process {
    machine: Machine,
    brk_start: u32,
    brk: u32,
    /// Which pages are mapped (segments, stack, heap, `mmap`s).
    maps: Mappings,
    /// See [`Options::sysroot`].
    sysroot: Option<PathBuf>,
    exe: std::path::PathBuf,
    warned: HashSet<u32>,
    /// The tier, for the images `execve` starts.
    mode: JitMode,
    /// Signal dispositions, mask, pending signals.
    sig: signal::Signals,
    /// The threads besides the running one.
    threads: threads::Threads,
    /// `MAP_SHARED` mappings.
    shared: shared::Shared,
    /// Where guest memory is in the host, when the host protects it as the
    /// guest's mappings say (see [`Process::protect_guest_memory`]).
    host_base: Option<usize>,
}

/// The result of a system call: a value, or a (MIPS) errno.
type SysResult = Result<u32, i32>;

impl Process {
    /// Starts enforcing the guest's page permissions, with nothing mapped:
    /// in the interpreter and the emulator's own accesses through
    /// [`Cpu::user_pages`]; in translated code through the host's
    /// protection of guest memory, whose faults the JIT catches, or, on
    /// hosts where it cannot, through checks in the code.
    fn protect_guest_memory(&mut self) {
        self.machine.cpu.user_pages = vec![0; (MEM_SIZE / PAGE as u64) as usize].into_boxed_slice();
        match self.machine.cpu.phys.ram_region(0) {
            Some((base, 0, len)) if len as u64 >= MEM_SIZE && jit::catch_guest_faults(base, MEM_SIZE as usize) => {
                self.host_base = Some(base as usize);
                self.host_protect(0, MEM_SIZE as u32, 0);
            }
            _ => self.machine.check_user_memory(),
        }
    }

    fn phys(&mut self) -> &mut PhysMap {
        &mut self.machine.cpu.phys
    }

    fn in_user(addr: u32, len: usize) -> bool {
        (addr as u64) + (len as u64) <= MEM_SIZE
    }

    /// `len` bytes of guest memory at `addr`, as the kernel's
    /// `copy_from_user` reads them: EFAULT unless every page is readable.
    fn read_mem(&self, addr: u32, len: usize) -> Result<Vec<u8>, i32> {
        if !self.allowed(addr, len, page_perm::READ) {
            return Err(EFAULT);
        }
        self.peek_mem(addr, len)
    }

    /// Writes `data` to guest memory at `addr`, as the kernel's
    /// `copy_to_user` does: EFAULT unless every page is writable.
    fn write_mem(&mut self, addr: u32, data: &[u8]) -> Result<(), i32> {
        if !self.allowed(addr, data.len(), page_perm::WRITE) {
            return Err(EFAULT);
        }
        self.fill_mem(addr, data)
    }

    /// Whether the guest may access every page of `[addr, addr + len)` as
    /// `need` ([`page_perm`] bits) says.
    fn allowed(&self, addr: u32, len: usize, need: u8) -> bool {
        if !Self::in_user(addr, len) {
            return false;
        }
        if len == 0 {
            return true;
        }
        let (first, last) = (addr as usize >> 12, (addr as usize + len - 1) >> 12);
        let pages = &self.machine.cpu.user_pages;
        pages.is_empty() || pages[first..=last].iter().all(|&p| p & need != 0)
    }

    /// Reads guest memory whatever its protection: for the emulator's own
    /// work on mappings (`mremap`, write-back of shared pages).
    fn peek_mem(&self, addr: u32, len: usize) -> Result<Vec<u8>, i32> {
        if !Self::in_user(addr, len) {
            return Err(EFAULT);
        }
        let mut v = vec![0; len];
        // The host protects guest memory as the guest's permissions say:
        // pages the guest cannot read are opened for the copy.
        let closed = !self.allowed(addr, len, page_perm::READ);
        if closed {
            self.open_host(addr, len);
        }
        let r = self.machine.cpu.phys.read_bytes(addr as u64, &mut v);
        if closed {
            self.close_host(addr, len);
        }
        r.map_err(|_| EFAULT)?;
        Ok(v)
    }

    /// Writes guest memory whatever its protection, as the kernel fills a
    /// mapping: loading segments, file mappings, zeroing.
    fn fill_mem(&mut self, addr: u32, data: &[u8]) -> Result<(), i32> {
        if !Self::in_user(addr, data.len()) {
            return Err(EFAULT);
        }
        let closed = !self.allowed(addr, data.len(), page_perm::WRITE);
        if closed {
            self.open_host(addr, data.len());
        }
        let r = self.phys().write_bytes(addr as u64, data);
        if closed {
            self.close_host(addr, data.len());
        }
        r.map_err(|_| EFAULT)?;
        // Translated code from the written pages is stale now.
        if !data.is_empty() {
            self.machine.cpu.code_written(addr >> 12, (addr + (data.len() as u32 - 1)) >> 12);
        }
        Ok(())
    }

    /// Where the guest's path `path` is on the host: under the sysroot if
    /// it is absolute and exists there (as qemu-user looks it up), else as is.
    fn host_path(&self, path: &[u8]) -> PathBuf {
        let plain = PathBuf::from(std::ffi::OsStr::from_bytes(path));
        match (&self.sysroot, path.strip_prefix(b"/")) {
            (Some(root), Some(rel)) if !rel.is_empty() => {
                let p = root.join(std::ffi::OsStr::from_bytes(rel));
                if p.symlink_metadata().is_ok() { p } else { plain }
            }
            _ => plain,
        }
    }

    /// [`Self::host_path`] of a guest C string, as a C string.
    fn host_cpath(&self, path: CString) -> CString {
        if self.sysroot.is_none() || !path.as_bytes().starts_with(b"/") {
            return path;
        }
        CString::new(self.host_path(path.as_bytes()).into_os_string().into_vec()).unwrap_or(path)
    }

    fn read_u32(&self, addr: u32) -> Result<u32, i32> {
        let b = self.read_mem(addr, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn write_u32(&mut self, addr: u32, v: u32) -> Result<(), i32> {
        self.write_mem(addr, &v.to_le_bytes())
    }

    /// A NUL-terminated guest string (at most 4096 bytes).
    fn read_cstr(&self, addr: u32) -> Result<CString, i32> {
        let mut out = Vec::new();
        let mut a = addr;
        while out.len() < 4096 {
            let b = self.read_mem(a, 1)?[0];
            if b == 0 {
                return CString::new(out).map_err(|_| EFAULT);
            }
            out.push(b);
            a = a.wrapping_add(1);
        }
        Err(mips_errno(libc::ENAMETOOLONG))
    }
}

impl Process {
    /// Runs the guest to its end; returns the exit status.
    fn run(&mut self) -> u8 {
        loop {
            // Return now and then to look at host signals.
            match self.machine.run(Some(SIGNAL_POLL_INSNS)) {
                Exit::GuestException | Exit::InstructionLimit => {}
                other => {
                    eprintln!("mipsjit: unexpected stop: {other:?}");
                    return 1;
                }
            }
            if let Some(e) = self.machine.cpu.user_exception.take() {
                let done = if e.code == ExcCode::Sys && !e.bd { self.syscall(e.pc) } else { self.fault(e) };
                if let Some(status) = done {
                    return status;
                }
            }
            if let Some(status) = self.deliver() {
                return status;
            }
            if self.threads.shared() || self.threads.blocked() {
                // Another thread may run now, with its own signals to take.
                self.schedule();
                if let Some(status) = self.deliver() {
                    return status;
                }
            }
        }
    }

    /// The guest dies of a fault: one line naming the signal (see
    /// [`signal::report_death`]), then the signal's death (see
    /// [`Process::exit_by_signal`]).
    fn die(&mut self, e: UserException) -> u8 {
        let (sig, _) = self.fault_signal(e);
        let name = match sig {
            signal::SIGSEGV => "Segmentation fault",
            signal::SIGBUS => "Bus error",
            signal::SIGILL => "Illegal instruction",
            signal::SIGFPE => "Floating point exception",
            _ => "Trace/breakpoint trap",
        };
        let addr = e.bad_vaddr.map(|a| format!(" address {a:#010x}")).unwrap_or_default();
        let at = if e.inexact {
            format!("in translated code entered at {:#010x}", e.pc)
        } else {
            format!("at pc {:#010x}{}", e.pc, if e.bd { " (delay slot)" } else { "" })
        };
        signal::report_death(format_args!("signal {sig} ({name}): {:?} {at}{addr}", e.code));
        self.exit_by_signal(sig)
    }

    /// The code field of the `break` or trap instruction that raised `e`.
    fn trap_code(&self, e: UserException) -> Option<u32> {
        let w = self.read_u32(e.pc).ok()?;
        match (w >> 26, w & 0x3f) {
            (0, 0x0d) => Some((w >> 16) & 0x3ff),
            (0, 0x30..=0x36) => Some((w >> 6) & 0x3ff),
            _ => None,
        }
    }
}
