//! Sockets: the o32 socket calls (and `socketcall`) on host sockets.
//!
//! Socket addresses have the same layout on both sides (a little-endian
//! family, then the family's bytes), so they are copied as they are. What
//! MIPS numbers differently is translated: the socket types (SOCK_DGRAM
//! and SOCK_STREAM are swapped) and SOCK_NONBLOCK, the SOL_SOCKET level
//! and its options, and the 32-bit `msghdr`, `iovec`, `cmsghdr` and
//! `timeval` layouts. Calls block their thread as the host's do (see the
//! README on threads).

use super::*;
use syscalls::check;

/// `SOL_SOCKET` on MIPS.
const SOL_SOCKET: u32 = 0xffff;
/// MIPS `SOCK_NONBLOCK` (MIPS's O_NONBLOCK); SOCK_CLOEXEC is the host's.
const SOCK_NONBLOCK: u32 = 0x80;
const SOCK_CLOEXEC: u32 = 0x8_0000;
/// `ENOPROTOOPT` on MIPS.
const ENOPROTOOPT: i32 = 99;
/// Longest socket address the calls copy (a `sockaddr_storage`).
const MAX_ADDR: u32 = 128;
/// Most bytes one `sendmsg`/`recvmsg` moves.
const MAX_MSG: usize = 1 << 24;

/// `SOL_SOCKET` options: MIPS number, host number. `SO_*TIMEO` carry a
/// `timeval` (translated); the others an int, a `linger` or a `ucred`,
/// laid out alike.
const SOCKET_OPTIONS: [(u32, i32); 27] = [
    (0x0001, libc::SO_DEBUG),
    (0x0004, libc::SO_REUSEADDR),
    (0x0008, libc::SO_KEEPALIVE),
    (0x0010, libc::SO_DONTROUTE),
    (0x0020, libc::SO_BROADCAST),
    (0x0080, libc::SO_LINGER),
    (0x0100, libc::SO_OOBINLINE),
    (0x0200, libc::SO_REUSEPORT),
    (0x1001, libc::SO_SNDBUF),
    (0x1002, libc::SO_RCVBUF),
    (0x1003, libc::SO_SNDLOWAT),
    (0x1004, libc::SO_RCVLOWAT),
    (0x1005, libc::SO_SNDTIMEO),
    (0x1006, libc::SO_RCVTIMEO),
    (0x1007, libc::SO_ERROR),
    (0x1008, libc::SO_TYPE),
    (0x1009, libc::SO_ACCEPTCONN),
    (0x1028, libc::SO_PROTOCOL),
    (0x1029, libc::SO_DOMAIN),
    (11, libc::SO_NO_CHECK),
    (12, libc::SO_PRIORITY),
    (17, libc::SO_PASSCRED),
    (18, libc::SO_PEERCRED),
    (25, libc::SO_BINDTODEVICE),
    (31, libc::SO_SNDBUFFORCE),
    (33, libc::SO_RCVBUFFORCE),
    (36, libc::SO_MARK),
];

/// A guest socket type (with its flags) as the host's.
fn host_type(t: u32) -> Result<i32, i32> {
    let base = match t & 0xf {
        1 => libc::SOCK_DGRAM,
        2 => libc::SOCK_STREAM,
        // The others are numbered alike; the host refuses those it lacks
        // (with ESOCKTNOSUPPORT, as Linux below SOCK_MAX).
        n @ (0 | 3..=10) => n as i32,
        _ => return Err(EINVAL),
    };
    Ok(base | accept_flags(t)?)
}

/// Guest SOCK_NONBLOCK/SOCK_CLOEXEC flags (of `accept4`, or above a
/// socket type's four bits) as the host's.
fn accept_flags(f: u32) -> Result<i32, i32> {
    if f & !(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(EINVAL);
    }
    let nonblock = if f & SOCK_NONBLOCK != 0 { libc::SOCK_NONBLOCK } else { 0 };
    let cloexec = if f & SOCK_CLOEXEC != 0 { libc::SOCK_CLOEXEC } else { 0 };
    Ok(nonblock | cloexec)
}

/// A host socket type as the guest's (for `SO_TYPE`).
fn guest_type(t: i32) -> i32 {
    match t {
        libc::SOCK_DGRAM => 1,
        libc::SOCK_STREAM => 2,
        t => t,
    }
}

/// A guest (level, option) as the host's.
fn host_option(level: u32, opt: u32) -> Result<(i32, i32), i32> {
    if level != SOL_SOCKET {
        return Ok((level as i32, opt as i32));
    }
    let host = SOCKET_OPTIONS.iter().find(|&&(g, _)| g == opt).ok_or(ENOPROTOOPT)?.1;
    Ok((libc::SOL_SOCKET, host))
}

/// Bytes of o32 `struct ifreq`: a 16-byte name and a 16-byte union (a
/// socket address, an index, flags, an MTU...), laid out as the host's,
/// whose union is 24 bytes (a `struct ifmap` of 64-bit words).
const IFREQ_BYTES: usize = 32;
const HOST_IFREQ_BYTES: usize = 40;
/// SIOCGIFCONF: `struct ifconf` (a length and a pointer to `ifreq`s).
const SIOCGIFCONF: u32 = 0x8912;
/// The network-interface requests that take one `struct ifreq` whose
/// union is at most 16 bytes: the SIOCGIF* getters, and the setters of
/// flags, addresses, MTU, queue length and name. Their numbers are the
/// same on MIPS.
const IFREQ_REQUESTS: [u32; 21] = [
    0x8910, 0x8913, 0x8914, 0x8915, 0x8916, 0x8917, 0x8918, 0x8919, 0x891a, 0x891b, 0x891c, 0x891d, 0x891e, 0x8921,
    0x8922, 0x8923, 0x8924, 0x8927, 0x8933, 0x8942, 0x8943,
];

/// Whether `req` is a network-interface request [`Process::interface_ioctl`] knows.
pub(super) fn is_interface_request(req: u32) -> bool {
    req == SIOCGIFCONF || IFREQ_REQUESTS.contains(&req)
}

/// Whether a SOL_SOCKET option carries a `timeval`.
fn is_timeval(level: i32, opt: i32) -> bool {
    level == libc::SOL_SOCKET && (opt == libc::SO_SNDTIMEO || opt == libc::SO_RCVTIMEO)
}

impl Process {
    /// Socket calls; `None` when `nr` is not one.
    pub(super) fn net_syscall(&mut self, nr: u32, a: [u32; 4], a5: [u32; 2]) -> Option<SysResult> {
        Some(match nr {
            4102 => self.socketcall(a[0], a[1]),
            // recvmmsg_time64
            4417 => self.recvmmsg(a[0] as i32, a[1], a[2], a[3], a5[0], true),
            _ => self.socket_call(Self::direct_call(nr)?, [a[0], a[1], a[2], a[3], a5[0], a5[1]]),
        })
    }

    /// The `socketcall` number of the direct o32 call `nr`.
    fn direct_call(nr: u32) -> Option<u32> {
        Some(match nr {
            4183 => 1,  // socket
            4169 => 2,  // bind
            4170 => 3,  // connect
            4174 => 4,  // listen
            4168 => 5,  // accept
            4172 => 6,  // getsockname
            4171 => 7,  // getpeername
            4184 => 8,  // socketpair
            4178 => 9,  // send
            4175 => 10, // recv
            4180 => 11, // sendto
            4176 => 12, // recvfrom
            4182 => 13, // shutdown
            4181 => 14, // setsockopt
            4173 => 15, // getsockopt
            4179 => 16, // sendmsg
            4177 => 17, // recvmsg
            4334 => 18, // accept4
            4335 => 19, // recvmmsg
            4343 => 20, // sendmmsg
            _ => return None,
        })
    }

    /// A blocking `connect(fd, addr, len)` while other green threads
    /// run: it is made without blocking, and its thread waits without
    /// stopping the others. A TCP connection under way (EINPROGRESS, then
    /// EALREADY) is waited for until the socket is writable, and the call
    /// made again then gives what the blocking call would have: 0, or why
    /// the connection failed (the socket's error). A Unix socket whose
    /// listener's backlog is full (EAGAIN) is tried again after the other
    /// threads' turns. The socket is non-blocking for the moment of each
    /// call.
    fn connect_in_turns(&mut self, fd: i32, addr: u32, len: u32) -> SysResult {
        let addr = self.read_mem(addr, len.min(MAX_ADDR) as usize)?;
        let (p, len) = (addr.as_ptr().cast::<libc::sockaddr>(), addr.len() as libc::socklen_t);
        let (r, e) = threads::with_nonblocking(fd, |fd| {
            // SAFETY: `p` points at `len` readable bytes.
            let r = unsafe { libc::connect(fd, p, len) };
            (r, std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL))
        });
        match (r, e) {
            (0.., _) => Ok(0),
            (_, libc::EINPROGRESS | libc::EALREADY) => {
                self.threads.block(threads::Wait::Io { fd, events: libc::POLLOUT });
                Err(threads::RETRY)
            }
            (_, libc::EAGAIN) => self.threads.retry(None),
            _ => Err(mips_errno(e)),
        }
    }

    /// A network-interface `ioctl` ([`is_interface_request`]): one
    /// `struct ifreq` in and out, or (SIOCGIFCONF) the list of interfaces
    /// with addresses, as o32 `ifreq`s.
    pub(super) fn interface_ioctl(&mut self, fd: i32, req: u32, arg: u32) -> SysResult {
        if req == SIOCGIFCONF {
            let len = self.read_u32(arg)? as usize;
            let buf = self.read_u32(arg.wrapping_add(4))?;
            let count = len / IFREQ_BYTES;
            let mut host = vec![0u8; count * HOST_IFREQ_BYTES];
            // struct ifconf: an int length, then (8-aligned) the pointer.
            let mut conf = [0u64; 2];
            conf[0] = (count * HOST_IFREQ_BYTES) as u64;
            conf[1] = if buf == 0 { 0 } else { host.as_mut_ptr() as u64 };
            // SAFETY: `conf` is a host `struct ifconf` whose buffer (if
            // any) is `host`, of the length it says.
            check(unsafe { libc::ioctl(fd, SIOCGIFCONF as libc::Ioctl, conf.as_mut_ptr()) } as i64)?;
            let got = (conf[0] as u32 as usize) / HOST_IFREQ_BYTES;
            if buf != 0 {
                let out: Vec<u8> = host[..got * HOST_IFREQ_BYTES]
                    .chunks_exact(HOST_IFREQ_BYTES)
                    .flat_map(|r| r[..IFREQ_BYTES].to_vec())
                    .collect();
                self.write_mem(buf, &out)?;
            }
            self.write_u32(arg, (got * IFREQ_BYTES) as u32)?;
            return Ok(0);
        }
        let mut r = self.read_mem(arg, IFREQ_BYTES)?;
        r.resize(HOST_IFREQ_BYTES, 0);
        // SAFETY: `r` is a host `struct ifreq` (40 bytes) for the host to
        // read and fill.
        let n = check(unsafe { libc::ioctl(fd, req as libc::Ioctl, r.as_mut_ptr()) } as i64)?;
        self.write_mem(arg, &r[..IFREQ_BYTES])?;
        Ok(n)
    }

    /// `socketcall(call, args)`: the arguments are words at `args`.
    fn socketcall(&mut self, call: u32, args: u32) -> SysResult {
        const ARGS: [usize; 21] = [0, 3, 3, 3, 2, 3, 3, 3, 4, 4, 4, 6, 6, 2, 5, 5, 3, 3, 4, 5, 4];
        let n = *ARGS.get(call as usize).filter(|&&n| n > 0).ok_or(EINVAL)?;
        let mut v = [0u32; 6];
        for (i, w) in v.iter_mut().enumerate().take(n) {
            *w = self.read_u32(args.wrapping_add(4 * i as u32))?;
        }
        self.socket_call(call, v)
    }

    /// Socket call number `call` (as `socketcall` numbers them) with its
    /// arguments.
    fn socket_call(&mut self, call: u32, a: [u32; 6]) -> SysResult {
        let fd = a[0] as i32;
        match call {
            // SAFETY: host calls with integer arguments only.
            1 => check(unsafe { libc::socket(a[0] as i32, host_type(a[1])?, a[2] as i32) } as i64),
            3 if self.threads.shared() && !threads::is_nonblocking(fd) => self.connect_in_turns(fd, a[1], a[2]),
            2 | 3 => {
                let addr = self.read_mem(a[1], a[2].min(MAX_ADDR) as usize)?;
                let (p, len) = (addr.as_ptr().cast::<libc::sockaddr>(), addr.len() as libc::socklen_t);
                // SAFETY: `p` points at `len` readable bytes.
                let r = unsafe { if call == 2 { libc::bind(fd, p, len) } else { libc::connect(fd, p, len) } };
                check(r as i64)
            }
            // SAFETY: a host call with integer arguments only.
            4 => check(unsafe { libc::listen(fd, a[1] as i32) } as i64),
            5 | 18 => {
                let flags = if call == 18 { accept_flags(a[3])? } else { 0 };
                self.with_addr_out(a[1], a[2], |p, len| {
                    // SAFETY: `p` (or null) has room for `*len` bytes.
                    unsafe { libc::accept4(fd, p, len, flags) }
                })
            }
            6 | 7 => self.with_addr_out(a[1], a[2], |p, len| {
                // SAFETY: `p` has room for `*len` bytes.
                unsafe { if call == 6 { libc::getsockname(fd, p, len) } else { libc::getpeername(fd, p, len) } }
            }),
            8 => {
                let mut sv = [0i32; 2];
                // SAFETY: `sv` is an array of two ints.
                check(unsafe { libc::socketpair(a[0] as i32, host_type(a[1])?, a[2] as i32, sv.as_mut_ptr()) } as i64)?;
                let mut b = (sv[0] as u32).to_le_bytes().to_vec();
                b.extend((sv[1] as u32).to_le_bytes());
                self.write_mem(a[3], &b).inspect_err(|_| {
                    for fd in sv {
                        // SAFETY: closing a descriptor just made, owned by no one.
                        unsafe { libc::close(fd) };
                    }
                })?;
                Ok(0)
            }
            9 | 11 => {
                let data = self.read_mem(a[1], (a[2] as usize).min(MAX_MSG))?;
                let to = if call == 11 && a[4] != 0 {
                    Some(self.read_mem(a[4], a[5].min(MAX_ADDR) as usize)?)
                } else {
                    None
                };
                self.write_out(fd, threads::Write::Send { data: &data, flags: a[3] as i32, to: to.as_deref() })
            }
            10 | 12 => {
                let len = (a[2] as usize).min(MAX_MSG);
                if !self.allowed(a[1], len, page_perm::WRITE) {
                    return Err(EFAULT);
                }
                let mut buf = vec![0u8; len];
                let (from, fromlen) = if call == 12 { (a[4], a[5]) } else { (0, 0) };
                let n = self.with_addr_out(from, fromlen, |p, l| {
                    // SAFETY: `buf` is writable for its length, `p` (or null)
                    // for `*l` bytes.
                    unsafe { libc::recvfrom(fd, buf.as_mut_ptr().cast(), buf.len(), a[3] as i32, p, l) as i32 }
                })?;
                self.write_mem(a[1], &buf[..n as usize])?;
                Ok(n)
            }
            // SAFETY: a host call with integer arguments only.
            13 => check(unsafe { libc::shutdown(fd, a[1] as i32) } as i64),
            14 => self.setsockopt(fd, a[1], a[2], a[3], a[4]),
            15 => self.getsockopt(fd, a[1], a[2], a[3], a[4]),
            16 => self.sendmsg(fd, a[1], a[2]),
            17 => self.recvmsg(fd, a[1], a[2]),
            19 => self.recvmmsg(fd, a[1], a[2], a[3], a[4], false),
            20 => self.sendmmsg(fd, a[1], a[2], a[3]),
            _ => Err(EINVAL),
        }
    }

    /// Runs `f` with a host address buffer and its length for a call that
    /// returns a socket address at guest `addr` (none if 0), its length in
    /// and out at `lenp`; copies the address back, truncated to the
    /// guest's room, as Linux does.
    fn with_addr_out(
        &mut self,
        addr: u32,
        lenp: u32,
        f: impl FnOnce(*mut libc::sockaddr, *mut libc::socklen_t) -> i32,
    ) -> SysResult {
        if addr == 0 {
            return check(f(std::ptr::null_mut(), std::ptr::null_mut()) as i64);
        }
        let room = self.read_u32(lenp)?;
        if (room as i32) < 0 {
            return Err(EINVAL);
        }
        let mut buf = [0u8; MAX_ADDR as usize];
        let mut len = MAX_ADDR as libc::socklen_t;
        let r = check(f(buf.as_mut_ptr().cast(), &mut len) as i64)?;
        let n = (len as usize).min(room as usize).min(buf.len());
        self.write_mem(addr, &buf[..n])?;
        self.write_u32(lenp, len)?;
        Ok(r)
    }

    fn setsockopt(&mut self, fd: i32, level: u32, opt: u32, val: u32, len: u32) -> SysResult {
        let (level, opt) = host_option(level, opt)?;
        let mut v = self.read_mem(val, len.min(4096) as usize)?;
        if is_timeval(level, opt) {
            let w = |i: usize| v.get(4 * i..4 * i + 4).map_or(0, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            let mut tv = (w(0) as i64).to_le_bytes().to_vec();
            tv.extend((w(1) as i64).to_le_bytes());
            if len < 8 {
                return Err(EINVAL);
            }
            v = tv;
        }
        // SAFETY: `v` is readable for its length.
        check(unsafe { libc::setsockopt(fd, level, opt, v.as_ptr().cast(), v.len() as libc::socklen_t) } as i64)
    }

    fn getsockopt(&mut self, fd: i32, level: u32, opt: u32, val: u32, lenp: u32) -> SysResult {
        let (level, opt) = host_option(level, opt)?;
        let room = self.read_u32(lenp)?;
        if (room as i32) < 0 {
            return Err(EINVAL);
        }
        let mut buf = vec![0u8; (room as usize).clamp(16, 4096)];
        let mut len = buf.len() as libc::socklen_t;
        // SAFETY: `buf` is writable for `len` bytes.
        check(unsafe { libc::getsockopt(fd, level, opt, buf.as_mut_ptr().cast(), &mut len) } as i64)?;
        buf.truncate(len as usize);
        if is_timeval(level, opt) && buf.len() == 16 {
            let q = |i: usize| i64::from_le_bytes(buf[8 * i..8 * i + 8].try_into().unwrap_or_default()) as u32;
            let (s, us) = (q(0), q(1));
            buf = s.to_le_bytes().into_iter().chain(us.to_le_bytes()).collect();
        }
        if level == libc::SOL_SOCKET && opt == libc::SO_TYPE && buf.len() == 4 {
            let t = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
            buf = guest_type(t).to_le_bytes().to_vec();
        }
        // A pending error (a failed non-blocking connect's) is an errno:
        // MIPS numbers many its own way (ECONNREFUSED is 146, not 111).
        if level == libc::SOL_SOCKET && opt == libc::SO_ERROR && buf.len() == 4 {
            let e = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
            buf = mips_errno(e).to_le_bytes().to_vec();
        }
        let n = buf.len().min(room as usize);
        self.write_mem(val, &buf[..n])?;
        self.write_u32(lenp, n as u32)?;
        Ok(0)
    }

    /// The guest `msghdr` at `at`.
    fn read_msghdr(&self, at: u32) -> Result<MsgHdr, i32> {
        let h = self.read_mem(at, 28)?;
        let w = |i: usize| u32::from_le_bytes([h[4 * i], h[4 * i + 1], h[4 * i + 2], h[4 * i + 3]]);
        let (iov, iovlen) = (w(2), w(3));
        if iovlen > 1024 {
            return Err(EINVAL);
        }
        let v = self.read_mem(iov, 8 * iovlen as usize)?;
        let iovs = v
            .chunks_exact(8)
            .map(|c| (u32::from_le_bytes([c[0], c[1], c[2], c[3]]), u32::from_le_bytes([c[4], c[5], c[6], c[7]])))
            .collect();
        Ok(MsgHdr { name: w(0), namelen: w(1), iovs, control: w(4), controllen: w(5) })
    }

    fn sendmsg(&mut self, fd: i32, msg: u32, flags: u32) -> SysResult {
        let MsgHdr { name, namelen, iovs, control, controllen } = self.read_msghdr(msg)?;
        let mut data = Vec::new();
        for &(base, len) in &iovs {
            if data.len() + len as usize > MAX_MSG {
                return Err(EMSGSIZE);
            }
            data.extend(self.read_mem(base, len as usize)?);
        }
        let mut name = if name != 0 { self.read_mem(name, namelen.min(MAX_ADDR) as usize)? } else { Vec::new() };
        let mut ctl = host_cmsgs(&self.read_mem(control, controllen.min(1 << 16) as usize)?)?;
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
        // SAFETY: an all-zero msghdr is valid; the pointers set below
        // outlive the call.
        let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
        if !name.is_empty() {
            h.msg_name = name.as_mut_ptr().cast();
            h.msg_namelen = name.len() as u32;
        }
        h.msg_iov = &mut iov;
        h.msg_iovlen = 1;
        if !ctl.is_empty() {
            h.msg_control = ctl.as_mut_ptr().cast();
            h.msg_controllen = ctl.len();
        }
        // SAFETY: `h` points at live buffers of the lengths it gives.
        check(unsafe { libc::sendmsg(fd, &h, flags as i32) } as i64)
    }

    fn recvmsg(&mut self, fd: i32, msg: u32, flags: u32) -> SysResult {
        let MsgHdr { name, namelen, iovs, control, controllen } = self.read_msghdr(msg)?;
        let total: usize = iovs.iter().map(|&(_, l)| l as usize).sum();
        if total > MAX_MSG {
            return Err(EMSGSIZE);
        }
        if iovs.iter().any(|&(b, l)| !self.allowed(b, l as usize, page_perm::WRITE)) {
            return Err(EFAULT);
        }
        let mut data = vec![0u8; total];
        let mut addr = [0u8; MAX_ADDR as usize];
        // Host headers are 16 bytes against 12, and align to 8: twice the
        // guest's room is always enough.
        let mut ctl = vec![0u8; 2 * controllen.min(1 << 16) as usize];
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr().cast(), iov_len: data.len() };
        // SAFETY: an all-zero msghdr is valid; the pointers set below
        // outlive the call.
        let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
        if name != 0 {
            h.msg_name = addr.as_mut_ptr().cast();
            h.msg_namelen = MAX_ADDR;
        }
        h.msg_iov = &mut iov;
        h.msg_iovlen = 1;
        if !ctl.is_empty() {
            h.msg_control = ctl.as_mut_ptr().cast();
            h.msg_controllen = ctl.len();
        }
        // SAFETY: `h` points at live buffers of the lengths it gives.
        let n = check(unsafe { libc::recvmsg(fd, &mut h, flags as i32) } as i64)?;
        let mut left = &data[..n as usize];
        for &(base, len) in &iovs {
            let k = left.len().min(len as usize);
            self.write_mem(base, &left[..k])?;
            left = &left[k..];
        }
        let mut out_flags = h.msg_flags as u32;
        if name != 0 {
            let k = (h.msg_namelen as usize).min(namelen as usize);
            self.write_mem(name, &addr[..k])?;
            self.write_u32(msg + 4, h.msg_namelen)?;
        }
        let (guest_ctl, truncated) = guest_cmsgs(&ctl[..h.msg_controllen.min(ctl.len())], controllen as usize);
        if truncated {
            out_flags |= libc::MSG_CTRUNC as u32;
        }
        self.write_mem(control, &guest_ctl)?;
        self.write_u32(msg + 20, guest_ctl.len() as u32)?;
        self.write_u32(msg + 24, out_flags)?;
        Ok(n)
    }

    /// `sendmmsg(fd, vec, vlen, flags)`: `sendmsg` for each o32 `struct
    /// mmsghdr` (a msghdr and the `msg_len` it sets) in turn, up to 1024
    /// of them. As on Linux, an error after the first message ends the
    /// call with the count sent; on the first, it is the call's error.
    fn sendmmsg(&mut self, fd: i32, vec: u32, vlen: u32, flags: u32) -> SysResult {
        let mut sent = 0;
        while sent < vlen.min(UIO_MAXIOV) {
            let at = vec.wrapping_add(MMSGHDR * sent);
            match self.sendmsg(fd, at, flags).and_then(|n| self.write_u32(at.wrapping_add(28), n)) {
                Ok(()) => sent += 1,
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    /// `recvmmsg(fd, vec, vlen, flags, timeout)` (`wide`: the 64-bit
    /// `timespec` of `recvmmsg_time64`): `recvmsg` into each o32 `struct
    /// mmsghdr` in turn. MSG_WAITFORONE waits for the first message only.
    /// As on Linux, the timeout is looked at only after each message (a
    /// call that has some and waits for more waits on), and the time left
    /// is written back; an error after the first message ends the call
    /// with the count received. With other threads, only the first message
    /// is waited for: a later wait in the host would stop them.
    fn recvmmsg(&mut self, fd: i32, vec: u32, vlen: u32, flags: u32, timeout: u32, wide: bool) -> SysResult {
        // (MSG_ flags are the same on MIPS.)
        const MSG_WAITFORONE: u32 = libc::MSG_WAITFORONE as u32;
        const MSG_DONTWAIT: u32 = libc::MSG_DONTWAIT as u32;
        let end = if timeout != 0 { Some(signal::deadline(self.read_timespec(timeout, wide)?)?) } else { None };
        let (mut got, mut flags, mut left) = (0, flags, None);
        while got < vlen.min(UIO_MAXIOV) {
            let at = vec.wrapping_add(MMSGHDR * got);
            match self.recvmsg(fd, at, flags).and_then(|n| self.write_u32(at.wrapping_add(28), n)) {
                Ok(()) => got += 1,
                Err(e) if got == 0 => return Err(e),
                Err(_) => break,
            }
            if flags & MSG_WAITFORONE != 0 || self.threads.shared() {
                flags |= MSG_DONTWAIT;
            }
            if let Some(end) = end {
                let l = signal::time_left(end);
                left = Some(l);
                if l.tv_sec == 0 && l.tv_nsec == 0 {
                    break;
                }
            }
        }
        if let Some(l) = left {
            self.write_timespec(timeout, l, wide)?;
        }
        Ok(got)
    }
}

/// The most messages one `sendmmsg` or `recvmmsg` handles.
const UIO_MAXIOV: u32 = 1024;
/// `sizeof(struct mmsghdr)` for o32: a msghdr and `msg_len`.
const MMSGHDR: u32 = 32;

/// An o32 `struct msghdr`, its iovecs read (base, length each).
struct MsgHdr {
    name: u32,
    namelen: u32,
    iovs: Vec<(u32, u32)>,
    control: u32,
    controllen: u32,
}

/// `EMSGSIZE` on MIPS.
const EMSGSIZE: i32 = 97;

/// Guest control messages (12-byte headers, 4-byte alignment) as the
/// host's (16-byte headers, 8-byte alignment); SOL_SOCKET renumbered.
fn host_cmsgs(g: &[u8]) -> Result<Vec<u8>, i32> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= g.len() {
        let w = |i: usize| u32::from_le_bytes([g[at + i], g[at + i + 1], g[at + i + 2], g[at + i + 3]]);
        let (len, level, ty) = (w(0) as usize, w(4), w(8));
        if len < 12 || at + len > g.len() {
            return Err(EINVAL);
        }
        let level = if level == SOL_SOCKET { libc::SOL_SOCKET as u32 } else { level };
        let data = &g[at + 12..at + len];
        out.extend(((16 + data.len()) as u64).to_le_bytes());
        out.extend(level.to_le_bytes());
        out.extend(ty.to_le_bytes());
        out.extend(data);
        out.resize(out.len().next_multiple_of(8), 0);
        at += len.next_multiple_of(4);
    }
    Ok(out)
}

/// Host control messages as the guest's, in at most `room` bytes; says
/// whether some did not fit.
fn guest_cmsgs(h: &[u8], room: usize) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= h.len() {
        let len = u64::from_le_bytes(h[at..at + 8].try_into().unwrap_or_default()) as usize;
        if len < 16 || at + len > h.len() {
            break;
        }
        let level = i32::from_le_bytes(h[at + 8..at + 12].try_into().unwrap_or_default());
        let level = if level == libc::SOL_SOCKET { SOL_SOCKET } else { level as u32 };
        let data = &h[at + 16..at + len];
        if out.len() + 12 + data.len() > room {
            return (out, true);
        }
        out.extend(((12 + data.len()) as u32).to_le_bytes());
        out.extend(level.to_le_bytes());
        out.extend(&h[at + 12..at + 16]);
        out.extend(data);
        out.resize(out.len().next_multiple_of(4).min(room), 0);
        at += len.next_multiple_of(8);
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_messages_round_trip_between_layouts() {
        // SCM_RIGHTS with two descriptors, o32 layout.
        let mut g = 20u32.to_le_bytes().to_vec();
        g.extend(SOL_SOCKET.to_le_bytes());
        g.extend(1u32.to_le_bytes());
        g.extend(7u32.to_le_bytes());
        g.extend(9u32.to_le_bytes());
        let h = host_cmsgs(&g).unwrap();
        assert_eq!(h.len(), 24);
        assert_eq!(u64::from_le_bytes(h[..8].try_into().unwrap()), 24);
        assert_eq!(i32::from_le_bytes(h[8..12].try_into().unwrap()), libc::SOL_SOCKET);
        assert_eq!(guest_cmsgs(&h, 64), (g.clone(), false));
        assert_eq!(guest_cmsgs(&h, 16), (Vec::new(), true));
    }

    #[test]
    fn socket_types_swap_stream_and_datagram() {
        assert_eq!(host_type(2 | SOCK_CLOEXEC), Ok(libc::SOCK_STREAM | libc::SOCK_CLOEXEC));
        assert_eq!(host_type(1 | SOCK_NONBLOCK), Ok(libc::SOCK_DGRAM | libc::SOCK_NONBLOCK));
        assert_eq!(host_type(0x800), Err(EINVAL));
        assert_eq!(host_type(11), Err(EINVAL), "SOCK_MAX");
        assert_eq!(guest_type(libc::SOCK_STREAM), 2);
        assert_eq!(host_option(SOL_SOCKET, 4), Ok((libc::SOL_SOCKET, libc::SO_REUSEADDR)));
        assert_eq!(host_option(SOL_SOCKET, 0x4000), Err(ENOPROTOOPT));
        assert_eq!(host_option(6, 1), Ok((6, 1)), "IPPROTO_TCP options pass through");
    }
}
