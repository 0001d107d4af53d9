//! The guest console on the host terminal: raw mode when stdin is a
//! terminal (so the guest's line discipline sees every key), with QEMU's
//! escape `Ctrl-A X` to quit; plain byte pipes otherwise.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// The terminal settings to restore at exit (only set in raw mode).
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Ctrl-A: QEMU's escape character.
const ESCAPE: u8 = 0x01;

/// Puts the terminal back as it was (idempotent).
pub fn restore_terminal() {
    let saved = SAVED.lock().ok().and_then(|mut s| s.take());
    if let Some(t) = saved {
        // SAFETY: tcsetattr on fd 0 with settings tcgetattr returned earlier.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
}

/// Host input for the guest's UART; survives board resets.
#[derive(Debug, Clone)]
pub struct Input {
    to_guest: Arc<Mutex<Sender<u8>>>,
}

impl Input {
    /// A fresh receiving end for a new board; the previous one gets nothing more.
    pub fn receiver(&self) -> Receiver<u8> {
        let (tx, rx) = channel();
        if let Ok(mut s) = self.to_guest.lock() {
            *s = tx;
        }
        rx
    }
}

/// Starts forwarding stdin to the guest. In raw mode, `Ctrl-A X` quits,
/// `Ctrl-A Ctrl-A` sends one Ctrl-A.
pub fn start_input() -> Input {
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(0) } == 1;
    if tty {
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: as above; the pointer is to a live local.
        if unsafe { libc::tcgetattr(0, &mut t) } == 0 {
            if let Ok(mut s) = SAVED.lock() {
                *s = Some(t);
            }
            let mut raw = t;
            // SAFETY: cfmakeraw edits the struct in place.
            unsafe { libc::cfmakeraw(&mut raw) };
            // Keep output processing so host-side messages still start
            // at the left margin.
            raw.c_oflag |= libc::OPOST | libc::ONLCR;
            // SAFETY: tcsetattr on fd 0 with a valid termios.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &raw) };
        }
    }
    let (tx, _) = channel();
    let input = Input { to_guest: Arc::new(Mutex::new(tx)) };
    let to_guest = input.to_guest.clone();
    std::thread::Builder::new()
        .name("console-input".into())
        .spawn(move || forward(&to_guest, tty))
        .map(drop)
        .unwrap_or_else(|e| eprintln!("mipsjit: no console input: {e}"));
    input
}

fn forward(to_guest: &Mutex<Sender<u8>>, tty: bool) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 256];
    let mut escaped = false;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if tty && escaped {
                escaped = false;
                match b {
                    b'x' | b'X' => {
                        restore_terminal();
                        eprintln!("\r\nmipsjit: terminated (Ctrl-A X)");
                        std::process::exit(0);
                    }
                    ESCAPE => {}
                    _ => continue,
                }
            } else if tty && b == ESCAPE {
                escaped = true;
                continue;
            }
            // A board being reset has no receiver: the byte is lost, as on
            // hardware.
            if let Ok(tx) = to_guest.lock() {
                let _ = tx.send(b);
            }
        }
    }
}
