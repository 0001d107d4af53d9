//! The machine's one virtual clock: CP0 Count, the RTC and every other
//! timer derive from it (../shared/reference/malta-boot.md §5.5).
//!
//! In deterministic mode one retired instruction is one nanosecond, so two
//! runs see identical time. In real-time mode the clock follows the host's
//! monotonic clock, like QEMU's default. Both can be moved forward (a
//! "warp") when the guest only waits for time to pass: the RTC calibration
//! loop, and `wait` in deterministic mode.

use std::time::Instant;

/// How guest time relates to host time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeMode {
    /// Time advances with retired instructions (1 instruction = 1 ns).
    #[default]
    Deterministic,
    /// Time follows the host clock.
    RealTime,
}

/// Nanoseconds per CP0 Count tick: Count runs at 166.67 MHz, half the
/// 333 MHz CPU clock QEMU's Malta reports, so the kernel's messages match.
pub const NS_PER_COUNT: u64 = 6;

/// The virtual clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    mode: TimeMode,
    start: Instant,
    warp_ns: u64,
}

impl Clock {
    /// A clock at zero.
    pub fn new(mode: TimeMode) -> Self {
        Self { mode, start: Instant::now(), warp_ns: 0 }
    }

    /// The mode.
    pub fn mode(&self) -> TimeMode {
        self.mode
    }

    /// Nanoseconds since power-on, given the instructions retired so far.
    pub fn now(&self, icount: u64) -> u64 {
        let base = match self.mode {
            TimeMode::Deterministic => icount,
            TimeMode::RealTime => self.start.elapsed().as_nanos() as u64,
        };
        base + self.warp_ns
    }

    /// Moves the clock forward to `t` (never backward).
    pub fn warp_to(&mut self, icount: u64, t: u64) {
        let now = self.now(icount);
        if t > now {
            self.warp_ns += t - now;
        }
    }

    /// Total time skipped by warps, in nanoseconds.
    pub fn warped_ns(&self) -> u64 {
        self.warp_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_time_is_instructions_plus_warps() {
        let mut c = Clock::new(TimeMode::Deterministic);
        assert_eq!(c.now(1000), 1000);
        c.warp_to(1000, 5000);
        assert_eq!(c.now(1000), 5000);
        assert_eq!(c.now(1010), 5010);
        c.warp_to(1010, 10);
        assert_eq!(c.now(1010), 5010, "warps never go back");
        assert_eq!(c.warped_ns(), 4000);
    }

    #[test]
    fn real_time_moves_without_instructions() {
        let c = Clock::new(TimeMode::RealTime);
        let a = c.now(0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(c.now(0) >= a + 2_000_000);
    }
}
