//! Terminal ioctls: the MIPS request numbers and `struct termios` layout
//! (arch/mips/include/uapi/asm/{ioctls,termbits}.h) translated to the
//! host's.
//!
//! The MIPS `c_iflag`, `c_oflag` and `c_cflag` bits are the generic ones,
//! as on the host; `c_lflag` has IEXTEN, TOSTOP and FLUSHO elsewhere, and
//! `c_cc` orders its characters differently (VMIN at 4, VEOF at 16).

use super::syscalls::{check, open_flags};
use super::*;

// MIPS request numbers. The `_IOR`/`_IOW` ones have the direction in the
// top three bits (read 2, write 4, none 1) and the size in the 13 below.
const TCGETA: u32 = 0x5401;
const TCSETA: u32 = 0x5402;
const TCSETAW: u32 = 0x5403;
const TCSETAF: u32 = 0x5404;
const TCSBRK: u32 = 0x5405;
const TCXONC: u32 = 0x5406;
const TCFLSH: u32 = 0x5407;
const TCGETS: u32 = 0x540d;
const TCSETS: u32 = 0x540e;
const TCSETSW: u32 = 0x540f;
const TCSETSF: u32 = 0x5410;
const TIOCEXCL: u32 = 0x740d;
const TIOCNXCL: u32 = 0x740e;
const TIOCOUTQ: u32 = 0x7472;
const TIOCSTI: u32 = 0x5472;
const TIOCSWINSZ: u32 = 0x8008_7467;
const TIOCGWINSZ: u32 = 0x4008_7468;
const TIOCNOTTY: u32 = 0x5471;
const TIOCGETD: u32 = 0x7400;
const TIOCSETD: u32 = 0x7401;
const FIOCLEX: u32 = 0x6601;
const FIONCLEX: u32 = 0x6602;
const FIOASYNC: u32 = 0x667d;
const FIONBIO: u32 = 0x667e;
const TIOCSPGRP: u32 = 0x8004_7476;
const TIOCGPGRP: u32 = 0x4004_7477;
const FIONREAD: u32 = 0x467f;
const TIOCGSID: u32 = 0x7416;
const TIOCGPTN: u32 = 0x4004_5430;
const TIOCSPTLCK: u32 = 0x8004_5431;
const TIOCGPTLCK: u32 = 0x4004_5439;
const TIOCGPTPEER: u32 = 0x2000_5441;
const TIOCSCTTY: u32 = 0x5480;
const TCSBRKP: u32 = 0x5486;
const TIOCVHANGUP: u32 = 0x5437;

/// Size of the o32 `struct termios`: four flag words, `c_line`, 23 `c_cc`.
const TERMIOS_SIZE: usize = 40;
/// Size of the o32 `struct termio`: four 16-bit flags, `c_line`, 8 `c_cc`
/// (and a byte of padding).
const TERMIO_SIZE: usize = 18;

/// `c_lflag` bits: (MIPS, host).
const LFLAGS: [(u32, libc::tcflag_t); 16] = [
    (0x0_0001, libc::ISIG),
    (0x0_0002, libc::ICANON),
    (0x0_0004, libc::XCASE),
    (0x0_0008, libc::ECHO),
    (0x0_0010, libc::ECHOE),
    (0x0_0020, libc::ECHOK),
    (0x0_0040, libc::ECHONL),
    (0x0_0080, libc::NOFLSH),
    (0x0_0100, libc::IEXTEN),
    (0x0_0200, libc::ECHOCTL),
    (0x0_0400, libc::ECHOPRT),
    (0x0_0800, libc::ECHOKE),
    (0x0_2000, libc::FLUSHO),
    (0x0_4000, libc::PENDIN),
    (0x0_8000, libc::TOSTOP),
    (0x1_0000, libc::EXTPROC),
];

/// `c_cc` indices: (MIPS, host). MIPS index 11 (VDSUSP) has no host twin.
const CC: [(usize, usize); 17] = [
    (0, libc::VINTR),
    (1, libc::VQUIT),
    (2, libc::VERASE),
    (3, libc::VKILL),
    (4, libc::VMIN),
    (5, libc::VTIME),
    (6, libc::VEOL2),
    (7, libc::VSWTC),
    (8, libc::VSTART),
    (9, libc::VSTOP),
    (10, libc::VSUSP),
    (12, libc::VREPRINT),
    (13, libc::VDISCARD),
    (14, libc::VWERASE),
    (15, libc::VLNEXT),
    (16, libc::VEOF),
    (17, libc::VEOL),
];

fn lflag_to_guest(h: libc::tcflag_t) -> u32 {
    LFLAGS.iter().filter(|(_, m)| h & m != 0).fold(0, |a, (g, _)| a | g)
}

fn lflag_to_host(g: u32) -> libc::tcflag_t {
    LFLAGS.iter().filter(|(m, _)| g & m != 0).fold(0, |a, (_, h)| a | h)
}

/// A host `termios` in the o32 layout.
fn termios_to_guest(t: &libc::termios) -> [u8; TERMIOS_SIZE] {
    let mut b = [0u8; TERMIOS_SIZE];
    let words = [t.c_iflag, t.c_oflag, t.c_cflag, lflag_to_guest(t.c_lflag)];
    for (i, w) in words.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    b[16] = t.c_line;
    for &(g, h) in &CC {
        b[17 + g] = t.c_cc[h];
    }
    b
}

/// An o32 `termios` over the host's `t` (which keeps its speeds and any
/// control characters MIPS lacks).
fn termios_to_host(b: &[u8; TERMIOS_SIZE], t: &mut libc::termios) {
    let word = |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    t.c_iflag = word(0);
    t.c_oflag = word(1);
    t.c_cflag = word(2);
    t.c_lflag = lflag_to_host(word(3));
    t.c_line = b[16];
    for &(g, h) in &CC {
        t.c_cc[h] = b[17 + g];
    }
}

/// The o32 `termio` view of an o32 `termios`: the low halves of the flags
/// and the first eight control characters.
fn termios_to_termio(b: &[u8; TERMIOS_SIZE]) -> [u8; TERMIO_SIZE] {
    let mut o = [0u8; TERMIO_SIZE];
    for i in 0..4 {
        o[2 * i..2 * i + 2].copy_from_slice(&b[4 * i..4 * i + 2]);
    }
    o[8..17].copy_from_slice(&b[16..25]);
    o
}

/// A `termio` set over an o32 `termios`: as the kernel does, it replaces
/// only the low halves of the flags and the first eight characters.
fn termio_over_termios(o: &[u8], b: &mut [u8; TERMIOS_SIZE]) {
    for i in 0..4 {
        b[4 * i..4 * i + 2].copy_from_slice(&o[2 * i..2 * i + 2]);
    }
    b[16..25].copy_from_slice(&o[8..17]);
}

/// What a request's argument is, for the requests passed to the host.
enum Arg {
    /// An integer, passed as it is.
    Value,
    /// A pointer to an int the host fills.
    OutInt,
    /// A pointer to an int the host reads.
    InInt,
}

/// The host request for a guest one that needs no translation beyond its
/// number and argument kind.
fn plain(req: u32) -> Option<(libc::Ioctl, Arg)> {
    use Arg::*;
    Some(match req {
        TCSBRK => (libc::TCSBRK, Value),
        TCSBRKP => (libc::TCSBRKP, Value),
        TCXONC => (libc::TCXONC, Value),
        TCFLSH => (libc::TCFLSH, Value),
        TIOCSCTTY => (libc::TIOCSCTTY, Value),
        TIOCNOTTY => (libc::TIOCNOTTY, Value),
        TIOCEXCL => (libc::TIOCEXCL, Value),
        TIOCNXCL => (libc::TIOCNXCL, Value),
        TIOCVHANGUP => (libc::TIOCVHANGUP, Value),
        FIOCLEX => (libc::FIOCLEX, Value),
        FIONCLEX => (libc::FIONCLEX, Value),
        TIOCGPGRP => (libc::TIOCGPGRP, OutInt),
        TIOCGSID => (libc::TIOCGSID, OutInt),
        FIONREAD => (libc::FIONREAD, OutInt),
        TIOCOUTQ => (libc::TIOCOUTQ, OutInt),
        TIOCGPTN => (libc::TIOCGPTN, OutInt),
        TIOCGPTLCK => (libc::TIOCGPTLCK, OutInt),
        TIOCGETD => (libc::TIOCGETD, OutInt),
        TIOCSPGRP => (libc::TIOCSPGRP, InInt),
        FIONBIO => (libc::FIONBIO, InInt),
        FIOASYNC => (libc::FIOASYNC, InInt),
        TIOCSPTLCK => (libc::TIOCSPTLCK, InInt),
        TIOCSETD => (libc::TIOCSETD, InInt),
        _ => return None,
    })
}

impl Process {
    /// `ioctl(fd, req, arg)` for terminals (and FIONREAD, FIONBIO on
    /// anything, and network interfaces' requests on sockets, see
    /// `net.rs`); other requests fail with ENOTTY, as for a file.
    pub(super) fn ioctl(&mut self, fd: u32, req: u32, arg: u32) -> SysResult {
        let fd = fd as i32;
        if let Some((host, kind)) = plain(req) {
            return match kind {
                // SAFETY: these requests take an integer argument.
                Arg::Value => check(unsafe { libc::ioctl(fd, host, arg as libc::c_ulong) } as i64),
                Arg::OutInt => {
                    let mut v: libc::c_int = 0;
                    // SAFETY: `v` is an int for the host to fill.
                    let r = check(unsafe { libc::ioctl(fd, host, &mut v) } as i64)?;
                    self.write_u32(arg, v as u32)?;
                    Ok(r)
                }
                Arg::InInt => {
                    let v = self.read_u32(arg)? as libc::c_int;
                    // SAFETY: `v` is an int for the host to read.
                    check(unsafe { libc::ioctl(fd, host, &v) } as i64)
                }
            };
        }
        match req {
            TCGETS => {
                let t = host_termios(fd)?;
                self.write_mem(arg, &termios_to_guest(&t))?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF => {
                let b = self.read_mem(arg, TERMIOS_SIZE)?;
                let b: [u8; TERMIOS_SIZE] = b.try_into().map_err(|_| EFAULT)?;
                let mut t = host_termios(fd)?;
                termios_to_host(&b, &mut t);
                set_host_termios(fd, req - TCSETS, &t)
            }
            TCGETA => {
                let t = host_termios(fd)?;
                self.write_mem(arg, &termios_to_termio(&termios_to_guest(&t)))?;
                Ok(0)
            }
            TCSETA | TCSETAW | TCSETAF => {
                let o = self.read_mem(arg, TERMIO_SIZE)?;
                let mut t = host_termios(fd)?;
                let mut b = termios_to_guest(&t);
                termio_over_termios(&o, &mut b);
                termios_to_host(&b, &mut t);
                set_host_termios(fd, req - TCSETA, &t)
            }
            TIOCGWINSZ => {
                // SAFETY: an all-zero winsize is valid, and the host fills it.
                let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
                // SAFETY: `ws` is a valid winsize for TIOCGWINSZ.
                check(unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } as i64)?;
                let b: Vec<u8> =
                    [ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel].iter().flat_map(|v| v.to_le_bytes()).collect();
                self.write_mem(arg, &b)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let b = self.read_mem(arg, 8)?;
                let half = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
                let ws = libc::winsize { ws_row: half(0), ws_col: half(1), ws_xpixel: half(2), ws_ypixel: half(3) };
                // SAFETY: `ws` is a valid winsize for TIOCSWINSZ.
                check(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } as i64)
            }
            TIOCSTI => {
                let c = self.read_mem(arg, 1)?;
                // SAFETY: `c` holds the one byte TIOCSTI reads.
                check(unsafe { libc::ioctl(fd, libc::TIOCSTI, c.as_ptr()) } as i64)
            }
            // SAFETY: the argument is open flags, translated.
            TIOCGPTPEER => check(unsafe { libc::ioctl(fd, libc::TIOCGPTPEER, open_flags(arg)) } as i64),
            _ if super::net::is_interface_request(req) => self.interface_ioctl(fd, req, arg),
            _ => {
                // Not a terminal request: ENOTTY, as for a plain file, once
                // the descriptor is known to be open.
                // SAFETY: fcntl F_GETFD only checks the descriptor.
                if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                    return Err(EBADF);
                }
                Err(ENOTTY)
            }
        }
    }
}

fn host_termios(fd: i32) -> Result<libc::termios, i32> {
    // SAFETY: an all-zero termios is valid, and the host fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `t` is at least as large as the kernel's termios.
    check(unsafe { libc::ioctl(fd, libc::TCGETS, &mut t) } as i64)?;
    Ok(t)
}

/// TCSETS, TCSETSW or TCSETSF (`which` 0, 1 or 2).
fn set_host_termios(fd: i32, which: u32, t: &libc::termios) -> SysResult {
    let req = [libc::TCSETS, libc::TCSETSW, libc::TCSETSF][which as usize];
    // SAFETY: `t` is at least as large as the kernel's termios.
    check(unsafe { libc::ioctl(fd, req, t) } as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termios_round_trips_and_moves_what_differs() {
        // SAFETY: an all-zero termios is valid.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        t.c_iflag = libc::ICRNL | libc::IXON;
        t.c_lflag = libc::ICANON | libc::IEXTEN | libc::TOSTOP;
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VEOF] = 4;
        let b = termios_to_guest(&t);
        assert_eq!(u32::from_le_bytes([b[0], b[1], b[2], b[3]]), 0o2400);
        assert_eq!(u32::from_le_bytes([b[12], b[13], b[14], b[15]]), 0x2 | 0x100 | 0x8000);
        assert_eq!((b[17 + 4], b[17 + 16]), (1, 4));
        // SAFETY: an all-zero termios is valid.
        let mut back: libc::termios = unsafe { std::mem::zeroed() };
        termios_to_host(&b, &mut back);
        assert_eq!((back.c_iflag, back.c_lflag), (t.c_iflag, t.c_lflag));
        assert_eq!(back.c_cc, t.c_cc);
    }

    #[test]
    fn termio_sets_only_the_low_halves() {
        let mut b = [0u8; TERMIOS_SIZE];
        b[12..16].copy_from_slice(&0x1_0002u32.to_le_bytes());
        let mut o = termios_to_termio(&b);
        o[6] = 0x08;
        o[9 + 4] = 9;
        termio_over_termios(&o, &mut b);
        assert_eq!(u32::from_le_bytes([b[12], b[13], b[14], b[15]]), 0x1_0008);
        assert_eq!(b[17 + 4], 9);
    }
}
