//! Code memory: one arena for all translated code.
//!
//! Cranelift's stock providers protect memory per function (an `mprotect`
//! and a cross-core pipeline flush for each), and the arena provider scans
//! its segment list on every allocation, so compiling the Nth block costs
//! O(N). Blocks are small and many, so this provider reserves one large
//! read-write-execute mapping up front and bump-allocates from it:
//! finalizing is free. x86-64 keeps instruction and data caches coherent,
//! so no cache maintenance is needed; other hosts use Cranelift's arena.
//!
//! The mapping is never unmapped while code may run (see `Jit`'s Drop).

use cranelift_jit::{BranchProtection, JITMemoryKind, JITMemoryProvider};
use cranelift_module::ModuleResult;
use std::io;

/// Bump allocator over one RWX mapping.
pub(crate) struct CodeArena {
    base: *mut u8,
    size: usize,
    used: usize,
}

// SAFETY: the arena is plain memory owned by the compiler thread; the raw
// pointer is only an address and carries no thread affinity.
unsafe impl Send for CodeArena {}

impl CodeArena {
    /// Reserves `size` bytes of address space (committed lazily by the OS).
    pub(crate) fn new(size: usize) -> io::Result<Self> {
        // SAFETY: an anonymous private mapping with no fixed address; it
        // does not alias any existing memory.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        crate::fault::register_code(p as usize, size);
        Ok(Self { base: p.cast(), size, used: 0 })
    }
}

impl JITMemoryProvider for CodeArena {
    fn allocate(&mut self, size: usize, align: u64, _kind: JITMemoryKind) -> io::Result<*mut u8> {
        let align = usize::try_from(align).unwrap_or(usize::MAX).max(1);
        let start = self.used.checked_next_multiple_of(align).unwrap_or(usize::MAX);
        let end = start.saturating_add(size);
        if end > self.size {
            return Err(io::Error::new(io::ErrorKind::OutOfMemory, "JIT code arena is full"));
        }
        self.used = end;
        // SAFETY: `start + size <= self.size`, inside the mapping.
        Ok(unsafe { self.base.add(start) })
    }

    unsafe fn free_memory(&mut self) {
        // Code addresses may still be held by callers: keep the mapping.
    }

    fn finalize(&mut self, _branch_protection: BranchProtection) -> ModuleResult<()> {
        Ok(())
    }
}
