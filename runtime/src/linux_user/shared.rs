//! `MAP_SHARED` mappings. Guest memory is one private host mapping (see
//! `mm.rs`), so sharing is added where a mapping asks for it:
//! - anonymous: its pages become a host MAP_SHARED anonymous mapping at
//!   the same place, which the host's `fork` shares with the children the
//!   guest forks (memory shared with a child is what these are for);
//! - a file open for writing: the file itself, mapped shared at the same
//!   place, so other processes (and the guest's children) see writes at
//!   once, as on Linux: what POSIX semaphores (`sem_open`) and
//!   `shm_open` memory across processes rely on. A page past the file's
//!   end (a mapping longer than the file, or a file truncated under it)
//!   raises SIGBUS in the host wherever mipsjit touches it: the handler
//!   ([`on_lost_page`]) puts a private zero page there, so the access
//!   completes, and the guest gets its SIGBUS (BUS_ADRERR) at the next
//!   look at signals, slightly later than on Linux;
//! - a file the host will not map so (or one open only for reading, which
//!   the guest cannot write through): its pages hold a copy, as for a
//!   private mapping, and what the guest changed in them is written to
//!   the file on `msync`, on `munmap`, and when the process exits, execs
//!   or dies of a signal. Bytes the guest left alone are never written,
//!   so `write(2)`s to the file meanwhile survive.
//!
//! - a System V segment (`shmat`, in `ipc.rs`): the host's segment,
//!   attached at the same place, tracked like shared anonymous memory.
//!
//! `mremap` moves or grows the host-shared kinds (anonymous, a file mapped
//! for real, a System V segment) as the host's own mapping, so they stay
//! shared, and a grown file mapping shows the file's next bytes; a copied
//! file mapping it moves becomes private.

use super::vma::Mappings;
use super::*;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A shared file mapping: guest pages `[start, end)` copied from `fd` at
/// `off`, and what they held then.
struct FileMap {
    start: u32,
    end: u32,
    fd: Rc<OwnedFd>,
    off: u64,
    original: Vec<u8>,
}

/// The process's shared mappings.
#[derive(Default)]
pub(super) struct Shared {
    anonymous: Mappings,
    files: Vec<FileMap>,
    /// System V segments attached (`shmat`): where each starts and ends.
    sysv: Vec<(u32, u32)>,
}

impl Process {
    /// Makes the (mapped, zeroed) pages `[start, end)` shared anonymous memory.
    pub(super) fn share_anonymous(&mut self, start: u32, end: u32) -> Result<(), i32> {
        self.phys().set_ram_sharing(start as u64, (end - start) as usize, true).map_err(|_| ENOMEM)?;
        self.host_shared(start, end);
        Ok(())
    }

    /// `[start, end)` was just given shared host pages: it gets the
    /// guest's protection (the new mapping has the host's), code
    /// translated from what was there goes, and unmapping it later gives
    /// the range private memory back (see [`Self::unshare`]).
    fn host_shared(&mut self, start: u32, end: u32) {
        self.close_host(start, (end - start) as usize);
        self.machine.cpu.code_written(start >> 12, (end - 1) >> 12);
        self.shared.anonymous.insert(start, end);
    }

    /// Attaches the System V segment `shmid` at the (mapped, zeroed) pages
    /// `[start, end)`: unmapping them gives the range private memory back
    /// (which detaches the segment), and `shmdt` finds it by its start.
    pub(super) fn share_sysv(&mut self, start: u32, end: u32, shmid: i32, writable: bool) -> Result<(), i32> {
        self.phys().attach_sysv_shm(start as u64, (end - start) as usize, shmid, writable).map_err(|e| match e {
            softmmu::PhysMapError::Host(e) => mips_errno(e),
            _ => EINVAL,
        })?;
        self.host_shared(start, end);
        self.shared.sysv.push((start, end));
        Ok(())
    }

    /// The System V segment attached at `addr`: its range.
    pub(super) fn sysv_at(&self, addr: u32) -> Option<(u32, u32)> {
        self.shared.sysv.iter().copied().find(|s| s.0 == addr)
    }

    /// Maps the file `fd` from `off` shared over the (unmapped) pages
    /// `[start, end)`: unmapping them later gives the range private memory
    /// back. Fails, leaving the pages private and zero, where the host will
    /// not map the file so.
    pub(super) fn share_file_mapped(&mut self, start: u32, end: u32, fd: i32, off: u64) -> Result<(), i32> {
        let (base, _, _) = self.phys().ram_region(0).ok_or(ENOMEM)?;
        catch_lost_pages(base as usize);
        self.phys().map_file_shared(start as u64, (end - start) as usize, fd, off).map_err(|e| match e {
            softmmu::PhysMapError::Host(e) => mips_errno(e),
            _ => EINVAL,
        })?;
        self.host_shared(start, end);
        Ok(())
    }

    /// Whether `[start, end)` is all host-shared memory (anonymous, a file
    /// mapped for real, a System V segment), none of it a copied file
    /// mapping: what `mremap` moves as the host's mapping.
    pub(super) fn host_shared_whole(&self, start: u32, end: u32) -> bool {
        let ranges = self.shared.anonymous.overlapping(start, end);
        matches!(ranges[..], [(s, e)] if s <= start && end <= e)
            && !self.shared.files.iter().any(|f| f.start < end && start < f.end)
    }

    /// Moves the host-shared pages `[start, start + old_size)` to `to`,
    /// `new_size` bytes (see `PhysMap::move_shared`), keeping them shared;
    /// the caller has freed the new range, but for the old one.
    pub(super) fn move_shared(&mut self, start: u32, old_size: u32, to: u32, new_size: u32) -> Result<(), i32> {
        let (end, to_end) = (start + old_size, to + new_size);
        self.phys().move_shared(start as u64, old_size as usize, to as u64, new_size as usize).map_err(
            |e| match e {
                softmmu::PhysMapError::Host(e) => mips_errno(e),
                _ => EINVAL,
            },
        )?;
        self.shared.anonymous.remove(start, end);
        self.shared.anonymous.insert(to, to_end);
        for s in self.shared.sysv.iter_mut().filter(|s| s.0 == start) {
            *s = (to, to_end);
        }
        self.machine.cpu.code_written(start >> 12, (end - 1) >> 12);
        self.machine.cpu.code_written(to >> 12, (to_end - 1) >> 12);
        Ok(())
    }

    /// The host address of the word at `addr` if it lies in memory shared
    /// with other processes (any host-shared mapping): a futex there may
    /// have waiters and wakers in them.
    pub(super) fn shared_host_word(&mut self, addr: u32) -> Option<usize> {
        if self.shared.anonymous.overlapping(addr, addr.checked_add(4)?).is_empty() {
            return None;
        }
        let (base, _, _) = self.phys().ram_region(0)?;
        Some(base as usize + addr as usize)
    }

    /// Records `[start, end)`, just filled with `data` from `fd` at `off`,
    /// as a shared file mapping.
    pub(super) fn share_file(&mut self, start: u32, end: u32, fd: i32, off: u64, mut data: Vec<u8>) -> Result<(), i32> {
        // The copy is mipsjit's: it takes a number from the top half of
        // the descriptor limit, so the guest's next `open` gets the number
        // it would on Linux (a low copy would shift every later one).
        let floor = (super::fs::descriptor_limit() / 2).clamp(3, 1 << 16) as i32;
        // SAFETY: a host call with integer arguments; the new descriptor
        // is owned by the OwnedFd alone (close-on-exec: mipsjit's execve
        // must not leak it into the next image).
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, floor) };
        if dup < 0 {
            return Err(mips_errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EBADF)));
        }
        // SAFETY: `dup` is a fresh descriptor nothing else owns.
        let fd = Rc::new(unsafe { OwnedFd::from_raw_fd(dup) });
        data.resize((end - start) as usize, 0);
        self.shared.files.push(FileMap { start, end, fd, off, original: data });
        Ok(())
    }

    /// Before `[start, end)` is unmapped: writes shared file pages there
    /// back and forgets them, and makes shared anonymous pages private
    /// (and zero) again.
    pub(super) fn unshare(&mut self, start: u32, end: u32) -> Result<(), i32> {
        self.write_back(start, end, false);
        let mut kept = Vec::new();
        for f in std::mem::take(&mut self.shared.files) {
            if f.end <= start || end <= f.start {
                kept.push(f);
                continue;
            }
            // Keep the parts outside [start, end).
            let at = |a: u32| (a - f.start) as usize;
            if f.start < start {
                let original = f.original[..at(start)].to_vec();
                kept.push(FileMap { start: f.start, end: start, fd: f.fd.clone(), off: f.off, original });
            }
            if end < f.end {
                let original = f.original[at(end)..].to_vec();
                let off = f.off + at(end) as u64;
                kept.push(FileMap { start: end, end: f.end, fd: f.fd.clone(), off, original });
            }
        }
        self.shared.files = kept;
        for (s, e) in self.shared.anonymous.overlapping(start, end) {
            self.phys().set_ram_sharing(s as u64, (e - s) as usize, false).map_err(|_| ENOMEM)?;
            self.close_host(s, (e - s) as usize);
            self.machine.cpu.code_written(s >> 12, (e - 1) >> 12);
        }
        self.shared.anonymous.remove(start, end);
        self.shared.sysv.retain(|&(s, e)| e <= start || end <= s);
        Ok(())
    }

    /// `msync(addr, len, flags)`: writes the shared file pages in the range
    /// back now. ENOMEM where nothing is mapped, as Linux.
    pub(super) fn msync(&mut self, addr: u32, len: u32, flags: u32) -> SysResult {
        const MS_ASYNC: u32 = 1;
        const MS_INVALIDATE: u32 = 2;
        const MS_SYNC: u32 = 4;
        if !addr.is_multiple_of(PAGE) || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 {
            return Err(EINVAL);
        }
        if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
            return Err(EINVAL);
        }
        let end = addr.checked_add(len.next_multiple_of(PAGE)).filter(|&e| e as u64 <= MEM_SIZE).ok_or(ENOMEM)?;
        if self.maps.overlapping(addr, end).iter().map(|(s, e)| e - s).sum::<u32>() != end - addr {
            return Err(ENOMEM);
        }
        self.write_back(addr, end, true);
        Ok(0)
    }

    /// Writes every shared file mapping back: the process is ending (or
    /// becoming another program).
    pub(super) fn write_back_all(&mut self) {
        self.write_back(0, u32::MAX, true);
    }

    /// Writes what the guest changed in shared file pages within
    /// `[start, end)` to their files (what lies past a file's end is
    /// dropped, as Linux drops it); with `refresh`, the written contents
    /// become the new originals. Errors are ignored, as for Linux's
    /// write-back of dirty pages.
    fn write_back(&mut self, start: u32, end: u32, refresh: bool) {
        for i in 0..self.shared.files.len() {
            let f = &self.shared.files[i];
            let (s, e) = (start.max(f.start), end.min(f.end));
            if s >= e {
                continue;
            }
            let Ok(now) = self.peek_mem(s, (e - s) as usize) else { continue };
            let base = (s - f.start) as usize;
            // SAFETY: an all-zero stat is valid; fstat fills it.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: the descriptor is the FileMap's own; `st` is valid.
            let size = if unsafe { libc::fstat(f.fd.as_raw_fd(), &mut st) } == 0 { st.st_size as u64 } else { 0 };
            let mut k = 0;
            while k < now.len() {
                if now[k] == f.original[base + k] {
                    k += 1;
                    continue;
                }
                let run = now[k..].iter().zip(&f.original[base + k..]).take_while(|(a, b)| a != b).count();
                let at = f.off + (base + k) as u64;
                let n = (run as u64).min(size.saturating_sub(at)) as usize;
                if n > 0 {
                    // SAFETY: `now[k..k + n]` is a valid buffer; the descriptor is the FileMap's.
                    unsafe { libc::pwrite(f.fd.as_raw_fd(), now[k..].as_ptr().cast(), n, at as i64) };
                }
                k += run;
            }
            if refresh {
                self.shared.files[i].original[base..base + now.len()].copy_from_slice(&now);
            }
        }
    }
}

/// Guest memory's host address, once a file is mapped into it for real
/// (0 before): where [`on_lost_page`] owns host SIGBUS faults.
static GUEST_BASE: AtomicUsize = AtomicUsize::new(0);
/// A guest page that lost its file (see [`on_lost_page`]): its address
/// plus one, 0 for none.
static LOST_PAGE: AtomicU64 = AtomicU64::new(0);

/// Installs [`on_lost_page`] for guest memory at `base` (once).
fn catch_lost_pages(base: usize) {
    if GUEST_BASE.swap(base, Ordering::AcqRel) == base {
        return;
    }
    // SAFETY: an all-zero sigaction is valid; the handler below only
    // makes system calls and atomic stores.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_lost_page as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigfillset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
    }
}

/// The host SIGBUS handler: an access to a page of guest memory past its
/// file's end (by translated code, the interpreter or a system call's
/// copy) gets a private zero page there and completes; the guest learns
/// of it from [`take_lost_page`]. Any other SIGBUS is the host's own:
/// the default action, which ends the process.
extern "C" fn on_lost_page(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let base = GUEST_BASE.load(Ordering::Acquire);
    // SAFETY: the kernel passes a valid siginfo (SA_SIGINFO).
    let (addr, code) = unsafe { ((*info).si_addr() as usize, (*info).si_code) };
    if code > 0 && base != 0 && addr.wrapping_sub(base) < MEM_SIZE as usize {
        let page = addr & !(PAGE as usize - 1);
        // SAFETY: replaces one page of guest memory (inside the mapping
        // the PhysMap owns) with a private zeroed one; mmap is
        // async-signal-safe.
        let p = unsafe {
            libc::mmap(
                page as *mut libc::c_void,
                PAGE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            LOST_PAGE.store((addr - base) as u64 + 1, Ordering::Release);
            return;
        }
    }
    // SAFETY: back to the default action; the access faults again and the
    // process ends as it would have without this handler.
    unsafe { libc::signal(libc::SIGBUS, libc::SIG_DFL) };
}

/// The guest address whose page lost its file since the last call, if any.
pub(super) fn take_lost_page() -> Option<u32> {
    match LOST_PAGE.swap(0, Ordering::AcqRel) {
        0 => None,
        a => Some((a - 1) as u32),
    }
}
