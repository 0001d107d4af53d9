//! System V IPC: semaphores, message queues and shared memory, on the
//! host's (so they are shared with other processes, emulated or not).
//!
//! o32 glibc reaches them through the `ipc` multiplexer; newer libraries
//! use the direct calls (4393-4402). What differs from the host is layout:
//! o32's `long` is 4 bytes (a message's `mtype`, the `*_ds` structures,
//! `shminfo`), and the `*id64_ds` structures split times in two words.
//! Only the IPC_64 forms of the structures exist here (glibc's); the old
//! ones fail with EINVAL. The host calls are raw system calls on the
//! kernel's x86-64 layouts, declared below.
//!
//! A call that would wait (a semaphore operation that cannot proceed, a
//! full queue, no message) is made with IPC_NOWAIT and run again after
//! the other threads had a turn, so a green thread waiting does not stop
//! the one that would let it go on; a signal ends the wait with EINTR
//! (these calls are never restarted, as on Linux). Shared memory is
//! attached into guest memory with the host's `shmat` (see
//! [`PhysMap::attach_sysv_shm`]), where `fork`ed children share it.

use super::*;
use std::time::Instant;
use syscalls::check;

const IPC_RMID: u32 = 0;
const IPC_SET: u32 = 1;
const IPC_STAT: u32 = 2;
const IPC_INFO: u32 = 3;
/// The flag glibc adds to every `*ctl` command: the 64-bit structures.
const IPC_64: u32 = 0x100;
const IPC_NOWAIT: u32 = 0o4000;
const GETPID: u32 = 11;
const GETVAL: u32 = 12;
const GETALL: u32 = 13;
const GETNCNT: u32 = 14;
const GETZCNT: u32 = 15;
const SETVAL: u32 = 16;
const SETALL: u32 = 17;
const SEM_STAT: u32 = 18;
const SEM_INFO: u32 = 19;
const SEM_STAT_ANY: u32 = 20;
const MSG_STAT: u32 = 11;
const MSG_INFO: u32 = 12;
const MSG_STAT_ANY: u32 = 13;
const SHM_LOCK: u32 = 11;
const SHM_UNLOCK: u32 = 12;
const SHM_STAT: u32 = 13;
const SHM_INFO: u32 = 14;
const SHM_STAT_ANY: u32 = 15;
const SHM_RDONLY: u32 = 0o10000;
const SHM_RND: u32 = 0o20000;
const SHM_REMAP: u32 = 0o40000;
const SHM_EXEC: u32 = 0o100000;
/// MIPS's SHMLBA: attach addresses are multiples of it (cache colouring),
/// and MIPS enforces it (`__ARCH_FORCE_SHMLBA`).
const SHMLBA: u32 = 0x4_0000;
/// Most bytes one message carries here; the host's limit (msgmax, 8 KiB
/// by default) is far lower, so a bigger one fails there anyway.
const MAX_MESSAGE: u32 = 1 << 24;
/// Bytes of an o32 `struct ipc64_perm`.
const PERM_BYTES: usize = 36;

/// The host kernel's `struct ipc64_perm` (x86-64).
#[repr(C)]
#[derive(Default)]
struct HostPerm {
    key: i32,
    uid: u32,
    gid: u32,
    cuid: u32,
    cgid: u32,
    mode: u32,
    seq: u16,
    pad: u16,
    unused: [u64; 2],
}

/// The host kernel's `struct semid64_ds`.
#[repr(C)]
#[derive(Default)]
struct HostSemid {
    perm: HostPerm,
    otime: i64,
    unused1: u64,
    ctime: i64,
    unused2: u64,
    nsems: u64,
    unused: [u64; 2],
}

/// The host kernel's `struct msqid64_ds`.
#[repr(C)]
#[derive(Default)]
struct HostMsqid {
    perm: HostPerm,
    stime: i64,
    rtime: i64,
    ctime: i64,
    cbytes: u64,
    qnum: u64,
    qbytes: u64,
    lspid: i32,
    lrpid: i32,
    unused: [u64; 2],
}

/// The host kernel's `struct shmid64_ds`.
#[repr(C)]
#[derive(Default)]
struct HostShmid {
    perm: HostPerm,
    segsz: u64,
    atime: i64,
    dtime: i64,
    ctime: i64,
    cpid: i32,
    lpid: i32,
    nattch: u64,
    unused: [u64; 2],
}

const _: () = assert!(std::mem::size_of::<HostPerm>() == 48);
const _: () = assert!(std::mem::size_of::<HostSemid>() == 104);
const _: () = assert!(std::mem::size_of::<HostMsqid>() == 120);
const _: () = assert!(std::mem::size_of::<HostShmid>() == 112);

/// Little-endian words, as the guest's structures are written.
fn words(w: &[u32]) -> Vec<u8> {
    w.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An o32 `struct ipc64_perm`.
fn guest_perm(p: &HostPerm) -> Vec<u8> {
    let mut b = words(&[p.key as u32, p.uid, p.gid, p.cuid, p.cgid, p.mode]);
    b.extend(p.seq.to_le_bytes());
    b.extend([0; 10]);
    b
}

/// The low and high words of a host time.
fn split(t: i64) -> [u32; 2] {
    [t as u32, (t >> 32) as u32]
}

/// A raw host `semctl(id, num, cmd, arg)`, `msgctl(id, cmd, buf)` or
/// `shmctl(id, cmd, buf)` (the kernel's x86-64 layouts, declared above).
fn host_ctl(nr: libc::c_long, id: u32, b: usize, c: usize, d: usize) -> SysResult {
    // SAFETY: the arguments are integers, or point to a buffer of the
    // structure the command fills or reads, which the caller owns for the
    // call.
    check(unsafe { libc::syscall(nr, id as i32, b, c, d) })
}

/// A pointer to `v` as a system call argument.
fn arg<T>(v: &mut T) -> usize {
    v as *mut T as usize
}

impl Process {
    /// System V IPC calls; `None` when `nr` is not one.
    pub(super) fn ipc_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4117 => self.ipc(a, a5),
            4393 => self.semget(a[0], a[1], a[2]),
            4394 => self.semctl(a[0], a[1], a[2], a[3]),
            4395 => self.shmget(a[0], a[1], a[2]),
            4396 => self.shmctl(a[0], a[1], a[2]),
            4397 => self.shmat(a[0], a[1], a[2]),
            4398 => self.shmdt(a[0]),
            4399 => self.msgget(a[0], a[1]),
            4400 => self.msgsnd(a[0], a[1], a[2], a[3]),
            4401 => self.msgrcv(a[0], a[1], a[2], a[3], a5[0]),
            4402 => self.msgctl(a[0], a[1], a[2]),
            4420 => self.semtimedop(a[0], a[1], a[2], a[3], true),
            _ => return None,
        })
    }

    /// `ipc(call, first, second, third, ptr, fifth)`, as Linux's
    /// `ksys_ipc` takes its arguments apart.
    fn ipc(&mut self, a: [u32; 4], a5: [u32; 2]) -> SysResult {
        let [call, first, second, third] = a;
        let [ptr, fifth] = a5;
        let version = call >> 16;
        match call & 0xffff {
            1 => self.semtimedop(first, ptr, second, 0, false),
            2 => self.semget(first, second, third),
            3 => {
                if ptr == 0 {
                    return Err(EINVAL);
                }
                let arg = self.read_u32(ptr)?;
                self.semctl(first, second, third, arg)
            }
            4 => self.semtimedop(first, ptr, second, fifth, false),
            11 => self.msgsnd(first, ptr, second, third),
            // Version 0 passes the buffer and type in a two-word struct.
            12 if version == 0 => {
                if ptr == 0 {
                    return Err(EINVAL);
                }
                let (msgp, typ) = (self.read_u32(ptr)?, self.read_u32(ptr.wrapping_add(4))?);
                self.msgrcv(first, msgp, second, typ, third)
            }
            12 => self.msgrcv(first, ptr, second, fifth, third),
            13 => self.msgget(first, second),
            14 => self.msgctl(first, second, ptr),
            21 if version == 1 => Err(EINVAL),
            21 => {
                let at = self.shmat(first, ptr, second)?;
                self.write_u32(third, at)?;
                Ok(0)
            }
            22 => self.shmdt(ptr),
            23 => self.shmget(first, second, third),
            24 => self.shmctl(first, second, ptr),
            _ => Err(ENOSYS),
        }
    }

    /// A call that cannot proceed yet and may wait: EINTR if a signal is
    /// pending, `timed_out` once `end` passed, else it runs again later.
    fn ipc_wait(&mut self, end: Option<Instant>, timed_out: i32) -> SysResult {
        if self.sig.next().is_some() {
            return Err(libc::EINTR);
        }
        if end.is_some_and(|e| e <= Instant::now()) {
            return Err(timed_out);
        }
        self.threads.retry(end)
    }

    fn semget(&mut self, key: u32, nsems: u32, flags: u32) -> SysResult {
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::semget(key as i32, nsems as i32, flags as i32) } as i64)
    }

    /// `semop` (`timeout` 0) and `semtimedop` (`wide`: a 64-bit timespec).
    fn semtimedop(&mut self, id: u32, sops: u32, nsops: u32, timeout: u32, wide: bool) -> SysResult {
        // Linux's limits: at least one, at most SEMOPM (500 by default;
        // the host says E2BIG past its own).
        if nsops == 0 {
            return Err(EINVAL);
        }
        if nsops > 0x1_0000 {
            return Err(mips_errno(libc::E2BIG));
        }
        let raw = self.read_mem(sops, 6 * nsops as usize)?;
        let mut ops: Vec<libc::sembuf> = raw
            .chunks_exact(6)
            .map(|c| libc::sembuf {
                sem_num: u16::from_le_bytes([c[0], c[1]]),
                sem_op: i16::from_le_bytes([c[2], c[3]]),
                sem_flg: i16::from_le_bytes([c[4], c[5]]),
            })
            .collect();
        let end = match timeout {
            0 => None,
            t => Some(signal::deadline(self.read_timespec(t, wide)?)?),
        };
        let end = self.threads.wait_end(self.machine.cpu.s.pc, end);
        // Whether the guest lets the call wait: the host cannot say which
        // operation would have, so one without IPC_NOWAIT lets it.
        let may_wait = ops.iter().any(|o| o.sem_flg as u32 & IPC_NOWAIT == 0);
        for o in &mut ops {
            o.sem_flg |= IPC_NOWAIT as i16;
        }
        // SAFETY: `ops` holds `ops.len()` sembufs.
        let r = unsafe { libc::semop(id as i32, ops.as_mut_ptr(), ops.len()) };
        match check(r as i64) {
            Err(e) if may_wait && e == mips_errno(libc::EAGAIN) => self.ipc_wait(end, e),
            r => r,
        }
    }

    /// `semctl(id, num, cmd, arg)`: `arg` is the union's word (a value for
    /// SETVAL, else a pointer).
    fn semctl(&mut self, id: u32, num: u32, cmd: u32, val: u32) -> SysResult {
        let (c, wide) = (cmd & !IPC_64, cmd & IPC_64 != 0);
        match c {
            IPC_RMID | GETPID | GETVAL | GETNCNT | GETZCNT => {
                host_ctl(libc::SYS_semctl, id, num as usize, c as usize, 0)
            }
            SETVAL => host_ctl(libc::SYS_semctl, id, num as usize, c as usize, val as i32 as usize),
            IPC_SET if wide => {
                let mut ds = HostSemid { perm: self.read_perm(val)?, ..Default::default() };
                host_ctl(libc::SYS_semctl, id, 0, c as usize, arg(&mut ds))
            }
            IPC_STAT | SEM_STAT | SEM_STAT_ANY if wide => {
                let mut ds = HostSemid::default();
                let r = host_ctl(libc::SYS_semctl, id, num as usize, c as usize, arg(&mut ds))?;
                let mut b = guest_perm(&ds.perm);
                let ([ot, oth], [ct, cth]) = (split(ds.otime), split(ds.ctime));
                b.extend(words(&[ot, ct, ds.nsems as u32, oth, cth]));
                self.write_mem(val, &b)?;
                Ok(r)
            }
            // struct seminfo: ten ints on both.
            IPC_INFO | SEM_INFO => {
                let mut info = [0i32; 10];
                let r = host_ctl(libc::SYS_semctl, id, num as usize, c as usize, info.as_mut_ptr() as usize)?;
                self.write_mem(val, &words(&info.map(|v| v as u32)))?;
                Ok(r)
            }
            GETALL | SETALL => {
                let mut ds = HostSemid::default();
                host_ctl(libc::SYS_semctl, id, 0, IPC_STAT as usize, arg(&mut ds))?;
                let n = ds.nsems as usize;
                if c == GETALL {
                    let mut vals = vec![0u16; n];
                    let r = host_ctl(libc::SYS_semctl, id, 0, c as usize, vals.as_mut_ptr() as usize)?;
                    let b: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
                    self.write_mem(val, &b)?;
                    Ok(r)
                } else {
                    let b = self.read_mem(val, 2 * n)?;
                    let mut vals: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
                    host_ctl(libc::SYS_semctl, id, 0, c as usize, vals.as_mut_ptr() as usize)
                }
            }
            _ => Err(EINVAL),
        }
    }

    /// The owner and mode fields of an o32 `struct ipc64_perm` at `at`
    /// (what IPC_SET changes).
    fn read_perm(&self, at: u32) -> Result<HostPerm, i32> {
        let b = self.read_mem(at, PERM_BYTES)?;
        let w = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
        Ok(HostPerm { uid: w(1), gid: w(2), mode: w(5), ..Default::default() })
    }

    fn msgget(&mut self, key: u32, flags: u32) -> SysResult {
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::msgget(key as i32, flags as i32) } as i64)
    }

    /// `msgsnd`: the o32 message (a 4-byte `mtype`, then the text) made
    /// the host's (an 8-byte one).
    fn msgsnd(&mut self, id: u32, msgp: u32, size: u32, flags: u32) -> SysResult {
        if size > MAX_MESSAGE {
            return Err(EINVAL);
        }
        let mtype = self.read_u32(msgp)? as i32 as i64;
        let mut buf = mtype.to_le_bytes().to_vec();
        buf.extend(self.read_mem(msgp.wrapping_add(4), size as usize)?);
        // SAFETY: `buf` holds the 8-byte type and `size` bytes of text.
        let r = unsafe { libc::msgsnd(id as i32, buf.as_ptr().cast(), size as usize, (flags | IPC_NOWAIT) as i32) };
        match check(r as i64) {
            Err(e) if flags & IPC_NOWAIT == 0 && e == mips_errno(libc::EAGAIN) => self.ipc_wait(None, e),
            r => r,
        }
    }

    /// `msgrcv`: the host's message written as o32's.
    fn msgrcv(&mut self, id: u32, msgp: u32, size: u32, typ: u32, flags: u32) -> SysResult {
        if size > MAX_MESSAGE {
            return Err(EINVAL);
        }
        // As Linux, a buffer the guest cannot write fails before the
        // message is taken off the queue.
        if !self.allowed(msgp, 4 + size as usize, page_perm::WRITE) {
            return Err(EFAULT);
        }
        let mut buf = vec![0u8; 8 + size as usize];
        let host_flags = (flags | IPC_NOWAIT) as i32;
        // SAFETY: `buf` has room for the type and `size` bytes of text.
        let n =
            unsafe { libc::msgrcv(id as i32, buf.as_mut_ptr().cast(), size as usize, typ as i32 as i64, host_flags) };
        let n = match check(n as i64) {
            Err(e) if flags & IPC_NOWAIT == 0 && e == mips_errno(libc::ENOMSG) => return self.ipc_wait(None, e),
            r => r?,
        };
        let mut out = buf[..4].to_vec();
        out.extend(&buf[8..8 + n as usize]);
        self.write_mem(msgp, &out)?;
        Ok(n)
    }

    fn msgctl(&mut self, id: u32, cmd: u32, buf: u32) -> SysResult {
        let (c, wide) = (cmd & !IPC_64, cmd & IPC_64 != 0);
        match c {
            IPC_RMID => host_ctl(libc::SYS_msgctl, id, c as usize, 0, 0),
            IPC_SET if wide => {
                // msg_qbytes follows the perm and six time words.
                let qbytes = self.read_u32(buf.wrapping_add(PERM_BYTES as u32 + 32))?;
                let mut ds = HostMsqid { perm: self.read_perm(buf)?, qbytes: qbytes as u64, ..Default::default() };
                host_ctl(libc::SYS_msgctl, id, c as usize, arg(&mut ds), 0)
            }
            IPC_STAT | MSG_STAT | MSG_STAT_ANY if wide => {
                let mut ds = HostMsqid::default();
                let r = host_ctl(libc::SYS_msgctl, id, c as usize, arg(&mut ds), 0)?;
                let mut b = guest_perm(&ds.perm);
                let ([s, sh], [r_, rh], [ct, ch]) = (split(ds.stime), split(ds.rtime), split(ds.ctime));
                let (cbytes, qnum, qbytes) = (ds.cbytes as u32, ds.qnum as u32, ds.qbytes as u32);
                b.extend(words(&[s, sh, r_, rh, ct, ch, cbytes, qnum, qbytes, ds.lspid as u32, ds.lrpid as u32, 0, 0]));
                self.write_mem(buf, &b)?;
                Ok(r)
            }
            // struct msginfo: seven ints and a short on both.
            IPC_INFO | MSG_INFO => {
                let mut info = [0u8; 32];
                let r = host_ctl(libc::SYS_msgctl, id, c as usize, info.as_mut_ptr() as usize, 0)?;
                info[30..].fill(0);
                self.write_mem(buf, &info)?;
                Ok(r)
            }
            _ => Err(EINVAL),
        }
    }

    fn shmget(&mut self, key: u32, size: u32, flags: u32) -> SysResult {
        // SAFETY: a host call with integer arguments only.
        check(unsafe { libc::shmget(key as i32, size as usize, flags as i32) } as i64)
    }

    /// `shmat`: the segment attached at `addr` (or where there is room),
    /// with the host's memory, so writes reach every process that has it.
    fn shmat(&mut self, id: u32, addr: u32, flags: u32) -> SysResult {
        let mut ds = HostShmid::default();
        host_ctl(libc::SYS_shmctl, id, IPC_STAT as usize, arg(&mut ds), 0)?;
        let size = u32::try_from(ds.segsz).ok().and_then(|s| s.checked_next_multiple_of(PAGE)).ok_or(EINVAL)?;
        let at = if addr == 0 {
            // The highest free range that holds an SHMLBA-aligned start.
            let room = size.checked_add(SHMLBA).ok_or(ENOMEM)?;
            let s = self.maps.find_free(room, self.mmap_floor(), MMAP_TOP).ok_or(ENOMEM)?;
            (s + SHMLBA) & !(SHMLBA - 1)
        } else if !addr.is_multiple_of(SHMLBA) && flags & SHM_RND == 0 {
            return Err(EINVAL);
        } else {
            addr & !(SHMLBA - 1)
        };
        let end = at.checked_add(size).filter(|&e| e as u64 <= MEM_SIZE && at != 0).ok_or(EINVAL)?;
        if flags & SHM_REMAP == 0 && !self.maps.is_free(at, end) {
            return Err(EINVAL);
        }
        self.unmap(at, end)?;
        let writable = flags & SHM_RDONLY == 0;
        self.share_sysv(at, end, id as i32, writable)?;
        self.maps.insert(at, end);
        let prot = 1 | if writable { 2 } else { 0 } | if flags & SHM_EXEC != 0 { 4 } else { 0 };
        self.set_pages(at, end, mm::perm_of(prot));
        Ok(at)
    }

    /// `shmdt`: the segment attached at `addr` goes (EINVAL if none).
    fn shmdt(&mut self, addr: u32) -> SysResult {
        let (start, end) = self.sysv_at(addr).ok_or(EINVAL)?;
        self.unmap(start, end)?;
        Ok(0)
    }

    fn shmctl(&mut self, id: u32, cmd: u32, buf: u32) -> SysResult {
        let (c, wide) = (cmd & !IPC_64, cmd & IPC_64 != 0);
        match c {
            IPC_RMID | SHM_LOCK | SHM_UNLOCK => host_ctl(libc::SYS_shmctl, id, c as usize, 0, 0),
            IPC_SET if wide => {
                let mut ds = HostShmid { perm: self.read_perm(buf)?, ..Default::default() };
                host_ctl(libc::SYS_shmctl, id, c as usize, arg(&mut ds), 0)
            }
            IPC_STAT | SHM_STAT | SHM_STAT_ANY if wide => {
                let mut ds = HostShmid::default();
                let r = host_ctl(libc::SYS_shmctl, id, c as usize, arg(&mut ds), 0)?;
                let mut b = guest_perm(&ds.perm);
                let ([at, ah], [dt, dh], [ct, ch]) = (split(ds.atime), split(ds.dtime), split(ds.ctime));
                b.extend(words(&[ds.segsz as u32, at, dt, ct, ds.cpid as u32, ds.lpid as u32, ds.nattch as u32]));
                b.extend(words(&[ah & 0xffff | dh << 16, ch & 0xffff]));
                self.write_mem(buf, &b)?;
                Ok(r)
            }
            // struct shminfo64: nine longs.
            IPC_INFO => {
                let mut info = [0u64; 9];
                let r = host_ctl(libc::SYS_shmctl, id, c as usize, info.as_mut_ptr() as usize, 0)?;
                self.write_mem(buf, &words(&info.map(|v| v.min(u32::MAX as u64) as u32)))?;
                Ok(r)
            }
            // struct shm_info: an int, then five longs.
            SHM_INFO => {
                let mut info = [0u64; 6];
                let r = host_ctl(libc::SYS_shmctl, id, c as usize, info.as_mut_ptr() as usize, 0)?;
                // The int's padding is not the kernel's to fill.
                let w: Vec<u32> = info
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| if i == 0 { v as u32 } else { v.min(u32::MAX as u64) as u32 })
                    .collect();
                self.write_mem(buf, &words(&w))?;
                Ok(r)
            }
            _ => Err(EINVAL),
        }
    }
}
