//! Guest physical memory: RAM regions backed by host memory, and MMIO devices.

use std::fmt;
use std::ptr::NonNull;

/// What a device asks of the machine after an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceAction {
    /// Nothing: carry on.
    #[default]
    None,
    /// Board reset requested (e.g. Malta SOFTRES).
    Reset,
    /// Power-off requested.
    PowerOff,
}

/// What the bus tells a device about one access, and what the device asks
/// of the machine in return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusCtx {
    /// The machine's virtual clock, in nanoseconds since power-on: the one
    /// clock every timer derives from (CP0 Count, the RTC).
    pub now_ns: u64,
    /// Set by a device that wants a reset or power-off.
    pub action: DeviceAction,
    /// Set by a device that sees the guest busy-waiting for a clock edge
    /// (the RTC's update-in-progress bit): the machine may move the virtual
    /// clock forward to this time instead of running the loop.
    pub warp_to_ns: Option<u64>,
}

/// A memory-mapped device. It is given offsets from its base only, so it
/// does not care where it sits (as in Firecracker's `BusDevice`).
pub trait MmioDevice {
    /// Reads `size` (1, 2 or 4) bytes at `offset`.
    fn read(&mut self, offset: u64, size: u32, ctx: &mut BusCtx) -> u64;
    /// Writes the low `size` bytes of `value` at `offset`.
    fn write(&mut self, offset: u64, size: u32, value: u64, ctx: &mut BusCtx);
    /// The CPU interrupt lines this device drives now: bit n is IPn
    /// (a Malta i8259 pair drives IP2, so it returns `1 << 2` when its
    /// output is high). Read after every access and between time slices.
    fn irq_lines(&self) -> u8 {
        0
    }
    /// Called between time slices: take host input, run timers up to
    /// `ctx.now_ns`.
    fn poll(&mut self, _ctx: &mut BusCtx) {}
}

/// Errors building or loading into a [`PhysMap`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhysMapError {
    /// The new range overlaps one already mapped.
    #[error("physical range {0:#x}+{1:#x} overlaps an existing region")]
    Overlap(u64, u64),
    /// Host memory for guest RAM could not be allocated.
    #[error("cannot allocate {0} bytes of guest RAM")]
    OutOfMemory(usize),
    /// A copy touched physical memory that is not RAM.
    #[error("physical range {0:#x}+{1:#x} is not guest RAM")]
    NotRam(u64, u64),
    /// A host call on guest RAM failed with this errno.
    #[error("host call on guest RAM failed: errno {0}")]
    Host(i32),
}

/// A RAM region: host memory that guest code reads and writes directly.
///
/// All guest-visible accesses go through raw pointers (translated code
/// writes it too), so no Rust reference to the contents is ever formed.
pub struct Ram {
    ptr: NonNull<u8>,
    len: usize,
    gpa: u64,
    writable: bool,
    /// One byte per page, not 0 where the page may hold translated code:
    /// translated stores that skip the soft-TLB look here first. Read by
    /// translated code through a raw pointer, so it too is only ever
    /// accessed through raw pointers.
    code: NonNull<u8>,
}

impl fmt::Debug for Ram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ram({:#x}+{:#x}, writable={})", self.gpa, self.len, self.writable)
    }
}

impl Ram {
    /// Maps `len` bytes of zeroed anonymous memory. The OS supplies zero
    /// pages on first touch, so a large guest RAM costs nothing until used
    /// (the global allocator would memset it all for a page alignment).
    fn new(gpa: u64, len: usize, writable: bool) -> Result<Self, PhysMapError> {
        if len == 0 || !len.is_multiple_of(4096) {
            return Err(PhysMapError::OutOfMemory(len));
        }
        let ptr = map_anonymous(len)?;
        let code = match map_anonymous((len / 4096).next_multiple_of(4096)) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: mapped just above with this length, never shared.
                unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
                return Err(e);
            }
        };
        Ok(Self { ptr, len, gpa, writable, code })
    }

    fn contains(&self, gpa: u64) -> bool {
        gpa >= self.gpa && gpa - self.gpa < self.len as u64
    }
}

/// Where guest memory is placed if the host has room: below 2 GiB, so that
/// translated code reaches it with a 32-bit displacement instead of a
/// 64-bit constant loaded into a register for every access.
const LOW_START: usize = 0x1000_0000;
const LOW_END: usize = 0x8000_0000;
const LOW_STEP: usize = 0x1000_0000;

/// `len` bytes of zeroed anonymous memory, low (see [`LOW_START`]) if it
/// can be.
fn map_anonymous(len: usize) -> Result<NonNull<u8>, PhysMapError> {
    let mut at = LOW_START;
    while at < LOW_END {
        // SAFETY: an anonymous private mapping at `at`, which
        // MAP_FIXED_NOREPLACE keeps from replacing anything mapped there.
        let p = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p as usize == at {
            return NonNull::new(p.cast()).ok_or(PhysMapError::OutOfMemory(len));
        }
        if p != libc::MAP_FAILED {
            // A kernel without MAP_FIXED_NOREPLACE took `at` as a hint only.
            // SAFETY: mapped just above with this length, never shared.
            unsafe { libc::munmap(p, len) };
            break;
        }
        at += len.next_multiple_of(LOW_STEP);
    }
    // SAFETY: an anonymous private mapping at an address of the kernel's
    // choosing; it aliases nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(PhysMapError::OutOfMemory(len));
    }
    NonNull::new(p.cast()).ok_or(PhysMapError::OutOfMemory(len))
}

impl Drop for Ram {
    fn drop(&mut self) {
        // SAFETY: both mapped in `Ram::new` with these lengths; translated
        // code that could still point into them is gone with the machine
        // that owns it.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
            libc::munmap(self.code.as_ptr().cast(), (self.len / 4096).next_multiple_of(4096));
        }
    }
}

struct Mapping {
    base: u64,
    len: u64,
    device: Box<dyn MmioDevice>,
}

/// Where a guest physical address leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// RAM: `host_page` is the host address of the 4 KiB page holding it.
    Ram {
        /// Host address of the start of the guest page.
        host_page: *mut u8,
        /// Whether guest stores may go there (false for ROM).
        writable: bool,
    },
    /// Device number `device` at `offset` from its base.
    Mmio {
        /// Index of the device in the map.
        device: usize,
        /// Offset within the device.
        offset: u64,
    },
    /// Nothing is mapped here.
    Unassigned,
}

/// The guest physical address space.
#[derive(Default)]
pub struct PhysMap {
    rams: Vec<Ram>,
    devices: Vec<Mapping>,
}

impl fmt::Debug for PhysMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhysMap").field("rams", &self.rams).field("devices", &self.devices.len()).finish()
    }
}

impl PhysMap {
    fn check_free(&self, base: u64, len: u64) -> Result<(), PhysMapError> {
        let end = base + len;
        let clash = self.rams.iter().any(|r| base < r.gpa + r.len as u64 && r.gpa < end)
            || self.devices.iter().any(|d| base < d.base + d.len && d.base < end);
        if clash { Err(PhysMapError::Overlap(base, len)) } else { Ok(()) }
    }

    /// The host address of the RAM pages `[gpa, gpa + len)`: page-aligned,
    /// inside one RAM region (else NotRam), for the calls below that
    /// replace whole pages of it.
    fn whole_ram_pages(&self, gpa: u64, len: usize) -> Result<*mut u8, PhysMapError> {
        let misaligned = !gpa.is_multiple_of(4096) || !len.is_multiple_of(4096);
        let r = self.rams.iter().find(|r| r.contains(gpa)).ok_or(PhysMapError::NotRam(gpa, len as u64))?;
        let off = (gpa - r.gpa) as usize;
        if misaligned || off + len > r.len {
            return Err(PhysMapError::NotRam(gpa, len as u64));
        }
        // SAFETY: `off + len <= r.len`, inside the Ram's mapping.
        Ok(unsafe { r.ptr.as_ptr().add(off) })
    }

    /// Makes the RAM pages `[gpa, gpa + len)` zero again, and shared with
    /// the processes this one forks from now on (`shared`: as a host
    /// MAP_SHARED anonymous mapping, so the guest's `fork` children write
    /// where their parent reads), or private (not `shared`). Page-aligned,
    /// inside one RAM region.
    pub fn set_ram_sharing(&mut self, gpa: u64, len: usize, shared: bool) -> Result<(), PhysMapError> {
        let at = self.whole_ram_pages(gpa, len)?;
        let kind = if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE | libc::MAP_NORESERVE };
        // SAFETY: replaces whole pages inside the mapping this Ram owns with
        // fresh zeroed memory at the same address (MAP_FIXED), so every
        // pointer into it stays valid; guest memory is only ever accessed
        // through raw pointers, and its callers want these pages zeroed.
        let p = unsafe {
            libc::mmap(
                at.cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                kind | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED { Err(PhysMapError::OutOfMemory(len)) } else { Ok(()) }
    }

    /// Makes the RAM pages at `gpa..gpa + len` the host file `fd` from
    /// byte `off`, mapped shared (readable and writable: `fd` must be open
    /// for both), so other processes that map it, and the children the
    /// host forks, see the same bytes. An access to a page past the file's
    /// end raises SIGBUS in the host, which the caller must be ready for.
    /// [`set_ram_sharing`] (`shared: false`) later gives the range private
    /// memory back. Page-aligned, inside one RAM region.
    ///
    /// [`set_ram_sharing`]: Self::set_ram_sharing
    pub fn map_file_shared(&mut self, gpa: u64, len: usize, fd: i32, off: u64) -> Result<(), PhysMapError> {
        let at = self.whole_ram_pages(gpa, len)?;
        let off = libc::off_t::try_from(off).map_err(|_| PhysMapError::Host(libc::EINVAL))?;
        // SAFETY: replaces whole pages inside the mapping this Ram owns with
        // the file's, at the same address (MAP_FIXED), so every pointer
        // into it stays valid; guest memory is only ever accessed through
        // raw pointers.
        let p = unsafe {
            libc::mmap(at.cast(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_FIXED, fd, off)
        };
        if p == libc::MAP_FAILED {
            // MAP_FIXED may have removed the pages: private zeroed ones again.
            let e = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
            self.set_ram_sharing(gpa, len, false)?;
            return Err(PhysMapError::Host(e));
        }
        Ok(())
    }

    /// Moves the host-shared RAM pages at `from..from + old_len` (made so
    /// by [`set_ram_sharing`], [`map_file_shared`] or [`attach_sysv_shm`])
    /// to `to..to + new_len`, as the host's `mremap` moves a mapping: the
    /// same shared memory or file, cut or grown at its end (growing a file
    /// mapping shows the file's next bytes). What was replaced at the new
    /// place is gone; the old pages outside the new range become private
    /// and zero. The new range may start at `from` (growing in place) or
    /// lie apart from the old one. Page-aligned, inside one RAM region.
    /// Should the host fail the second of its two steps, the old pages are
    /// left private and zero, and the error returned.
    ///
    /// [`set_ram_sharing`]: Self::set_ram_sharing
    /// [`map_file_shared`]: Self::map_file_shared
    /// [`attach_sysv_shm`]: Self::attach_sysv_shm
    pub fn move_shared(&mut self, from: u64, old_len: usize, to: u64, new_len: usize) -> Result<(), PhysMapError> {
        let src = self.whole_ram_pages(from, old_len)?;
        let dst = self.whole_ram_pages(to, new_len)?;
        if from == to && old_len == new_len {
            return Ok(());
        }
        let errno = || PhysMapError::Host(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL));
        // SAFETY: both steps move whole pages of the mapping this Ram owns,
        // first wherever the host finds room (outside the Ram, which is
        // mapped throughout) and then back into it at `dst` (MREMAP_FIXED,
        // replacing the pages there), so every pointer into the Ram stays
        // valid. Two steps, because MREMAP_FIXED refuses a new range that
        // overlaps the old one. Guest memory is only ever accessed through
        // raw pointers, and nothing touches these pages in between.
        let moved = unsafe {
            let tmp = libc::mremap(src.cast(), old_len, new_len, libc::MREMAP_MAYMOVE);
            if tmp == libc::MAP_FAILED {
                return Err(errno());
            }
            let at = libc::mremap(tmp, new_len, new_len, libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED, dst);
            if at == libc::MAP_FAILED {
                let e = errno();
                if tmp != src.cast() {
                    libc::munmap(tmp, new_len);
                }
                self.set_ram_sharing(from, old_len, false)?;
                return Err(e);
            }
            at
        };
        debug_assert_eq!(moved, dst.cast());
        // The old pages the new range does not cover: private zero ones.
        let (end, to_end) = (from + old_len as u64, to + new_len as u64);
        for (s, e) in [(from, end.min(to)), (from.max(to_end), end)] {
            if s < e {
                self.set_ram_sharing(s, (e - s) as usize, false)?;
            }
        }
        Ok(())
    }

    /// Makes the RAM pages at `gpa..gpa + len` the host System V shared
    /// memory segment `shmid` (`shmat` with SHM_REMAP; read-only if not
    /// `writable`), shared with every process that attaches it. The
    /// segment must span `len`, page-rounded; [`set_ram_sharing`]
    /// (`shared: false`) later gives the range private memory back (and
    /// so detaches it). Page-aligned, inside one RAM region.
    ///
    /// [`set_ram_sharing`]: Self::set_ram_sharing
    pub fn attach_sysv_shm(&mut self, gpa: u64, len: usize, shmid: i32, writable: bool) -> Result<(), PhysMapError> {
        let at = self.whole_ram_pages(gpa, len)?;
        let flags = libc::SHM_REMAP | if writable { 0 } else { libc::SHM_RDONLY };
        // SAFETY: replaces whole pages inside the mapping this Ram owns
        // with the segment's, at the same address (SHM_REMAP), so every
        // pointer into it stays valid; guest memory is only ever accessed
        // through raw pointers.
        let p = unsafe { libc::shmat(shmid, at.cast(), flags) };
        if p as isize == -1 {
            return Err(PhysMapError::Host(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL)));
        }
        Ok(())
    }

    /// Adds zeroed RAM (or ROM, if not `writable`) of `len` bytes at `gpa`;
    /// both must be 4 KiB aligned.
    pub fn add_ram(&mut self, gpa: u64, len: usize, writable: bool) -> Result<(), PhysMapError> {
        self.check_free(gpa, len as u64)?;
        self.rams.push(Ram::new(gpa, len, writable)?);
        Ok(())
    }

    /// Maps `device` at `base..base + len`.
    pub fn add_device(&mut self, base: u64, len: u64, device: Box<dyn MmioDevice>) -> Result<(), PhysMapError> {
        self.check_free(base, len)?;
        self.devices.push(Mapping { base, len, device });
        Ok(())
    }

    /// The RAM region holding `gpa`, if any: its host address, guest
    /// physical start and length in bytes.
    pub fn ram_region(&self, gpa: u64) -> Option<(*mut u8, u64, usize)> {
        self.rams.iter().find(|r| r.contains(gpa)).map(|r| (r.ptr.as_ptr(), r.gpa, r.len))
    }

    /// The code map of the RAM region holding `gpa`: one byte per page from
    /// the region's start, not 0 where the page may hold translated code
    /// (see [`set_code_page`](Self::set_code_page)). It stays at this
    /// address for the region's life.
    pub fn code_map(&self, gpa: u64) -> Option<*const u8> {
        self.rams.iter().find(|r| r.contains(gpa)).map(|r| r.code.as_ptr() as *const u8)
    }

    /// Records whether the RAM page holding `gpa` may hold translated code
    /// (nothing happens outside RAM). Saying so too often only sends
    /// stores to the slow path; too rarely would let them miss code.
    pub fn set_code_page(&mut self, gpa: u64, code: bool) {
        if let Some(r) = self.rams.iter().find(|r| r.contains(gpa)) {
            let page = ((gpa - r.gpa) >> 12) as usize;
            // SAFETY: `page < r.len / 4096`, inside the code map, which is
            // only accessed through raw pointers.
            unsafe { r.code.as_ptr().add(page).write(code as u8) };
        }
    }

    /// Resolves a guest physical address.
    pub fn lookup(&self, gpa: u64) -> Target {
        if let Some(r) = self.rams.iter().find(|r| r.contains(gpa)) {
            let off = ((gpa - r.gpa) & !0xfff) as usize;
            // SAFETY: `off < r.len` because `r.contains(gpa)`, so the result
            // stays inside the allocation.
            let host_page = unsafe { r.ptr.as_ptr().add(off) };
            return Target::Ram { host_page, writable: r.writable };
        }
        match self.devices.iter().position(|d| gpa >= d.base && gpa - d.base < d.len) {
            Some(device) => Target::Mmio { device, offset: gpa - self.devices[device].base },
            None => Target::Unassigned,
        }
    }

    /// Reads from device number `device` (from [`Target::Mmio`]).
    pub fn mmio_read(&mut self, device: usize, offset: u64, size: u32, ctx: &mut BusCtx) -> u64 {
        self.devices[device].device.read(offset, size, ctx)
    }

    /// Writes to device number `device` (from [`Target::Mmio`]).
    pub fn mmio_write(&mut self, device: usize, offset: u64, size: u32, value: u64, ctx: &mut BusCtx) {
        self.devices[device].device.write(offset, size, value, ctx)
    }

    /// The CPU interrupt lines all devices drive (bit n = IPn).
    pub fn irq_lines(&self) -> u8 {
        self.devices.iter().fold(0, |a, d| a | d.device.irq_lines())
    }

    /// Polls every device (between time slices).
    pub fn poll(&mut self, ctx: &mut BusCtx) {
        for d in &mut self.devices {
            d.device.poll(ctx);
        }
    }

    fn ram_range(&self, gpa: u64, len: usize) -> Result<(&Ram, usize), PhysMapError> {
        let r = self.rams.iter().find(|r| r.contains(gpa)).ok_or(PhysMapError::NotRam(gpa, len as u64))?;
        let off = (gpa - r.gpa) as usize;
        if len > r.len - off {
            return Err(PhysMapError::NotRam(gpa, len as u64));
        }
        Ok((r, off))
    }

    /// Copies `data` into RAM (or ROM) at `gpa` (for loaders).
    pub fn write_bytes(&mut self, gpa: u64, data: &[u8]) -> Result<(), PhysMapError> {
        let (r, off) = self.ram_range(gpa, data.len())?;
        // SAFETY: `ram_range` checked that `off..off + data.len()` lies in the
        // allocation; `data` is a separate Rust slice, so they do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), r.ptr.as_ptr().add(off), data.len()) };
        Ok(())
    }

    /// Copies RAM at `gpa` into `buf` (for tests and debuggers).
    pub fn read_bytes(&self, gpa: u64, buf: &mut [u8]) -> Result<(), PhysMapError> {
        let (r, off) = self.ram_range(gpa, buf.len())?;
        // SAFETY: as in `write_bytes`, the range is inside the allocation.
        unsafe { std::ptr::copy_nonoverlapping(r.ptr.as_ptr().add(off), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_ram_is_mapped_low_while_there_is_room() {
        // Low enough for a 32-bit displacement (this host has the room),
        // two regions at once without overlap, and again after one is gone.
        let a = map_anonymous(1 << 20).unwrap().as_ptr() as usize;
        let b = map_anonymous(1 << 20).unwrap().as_ptr() as usize;
        assert!(a < LOW_END && b < LOW_END && a != b, "{a:#x} {b:#x}");
        // SAFETY: mapped just above with this length, not used after.
        unsafe { libc::munmap(a as *mut libc::c_void, 1 << 20) };
        let c = map_anonymous(1 << 20).unwrap().as_ptr() as usize;
        assert!(c < LOW_END && c != b, "{c:#x}");
        // SAFETY: as above.
        unsafe {
            libc::munmap(b as *mut libc::c_void, 1 << 20);
            libc::munmap(c as *mut libc::c_void, 1 << 20);
        }
    }

    struct Probe(u64);
    impl MmioDevice for Probe {
        fn read(&mut self, offset: u64, _size: u32, _ctx: &mut BusCtx) -> u64 {
            offset + self.0
        }
        fn write(&mut self, _offset: u64, _size: u32, value: u64, ctx: &mut BusCtx) {
            self.0 = value;
            ctx.action = DeviceAction::Reset;
        }
    }

    #[test]
    fn regions_reject_overlap() {
        let mut m = PhysMap::default();
        m.add_ram(0, 0x10000, true).unwrap();
        assert_eq!(m.add_ram(0xf000, 0x1000, true), Err(PhysMapError::Overlap(0xf000, 0x1000)));
        assert!(m.add_device(0x1000_0000, 8, Box::new(Probe(0))).is_ok());
        assert!(m.add_device(0x1000_0004, 8, Box::new(Probe(0))).is_err());
    }

    #[test]
    fn lookup_finds_ram_devices_and_holes() {
        let mut m = PhysMap::default();
        m.add_ram(0, 0x10000, true).unwrap();
        m.add_device(0x1f00_0000, 0x1000, Box::new(Probe(5))).unwrap();
        assert!(matches!(m.lookup(0x1234), Target::Ram { writable: true, .. }));
        assert_eq!(m.lookup(0x1f00_0500), Target::Mmio { device: 0, offset: 0x500 });
        assert_eq!(m.lookup(0x2000_0000), Target::Unassigned);
        let mut ctx = BusCtx::default();
        assert_eq!(m.mmio_read(0, 3, 4, &mut ctx), 8);
        m.mmio_write(0, 0, 4, 1, &mut ctx);
        assert_eq!(ctx.action, DeviceAction::Reset);
    }

    #[test]
    fn byte_copies_stay_inside_ram() {
        let mut m = PhysMap::default();
        m.add_ram(0, 0x2000, true).unwrap();
        m.write_bytes(0x1ffe, &[1, 2]).unwrap();
        let mut b = [0; 2];
        m.read_bytes(0x1ffe, &mut b).unwrap();
        assert_eq!(b, [1, 2]);
        assert!(m.write_bytes(0x1fff, &[1, 2]).is_err());
        assert!(m.write_bytes(0x5000, &[1]).is_err());
    }
}
