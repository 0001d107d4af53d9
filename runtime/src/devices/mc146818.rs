//! The MC146818 real-time clock and CMOS RAM (malta-boot.md §3.9, §5.5).
//!
//! The time is `base_unix_secs` plus the machine's virtual clock, so the
//! kernel's CPU-frequency estimate (Count ticks between two UIP edges one
//! RTC second apart) measures exactly the Count rate. UIP is set during the
//! last 244 µs of every virtual second. A guest polling register A (as
//! `estimate_frequencies` does millions of times) is answered with a clock
//! warp to the next UIP edge. Alarms and the periodic and update interrupts
//! are left out: the kernel registers IRQ 8 but never needs it to fire.

use softmmu::{BusCtx, MmioDevice};

const REG_SECONDS: u8 = 0;
const REG_MINUTES: u8 = 2;
const REG_HOURS: u8 = 4;
const REG_WEEKDAY: u8 = 6;
const REG_DAY: u8 = 7;
const REG_MONTH: u8 = 8;
const REG_YEAR: u8 = 9;
const REG_A: u8 = 0x0a;
const REG_B: u8 = 0x0b;
const REG_C: u8 = 0x0c;
const REG_D: u8 = 0x0d;
/// Where QEMU (and the PC convention) keeps the century.
const REG_CENTURY: u8 = 0x32;

const A_UIP: u8 = 0x80;
const B_SET: u8 = 0x80;
const B_BINARY: u8 = 0x04;
const B_24H: u8 = 0x02;
const C_UF: u8 = 0x10;
const D_VRT: u8 = 0x80;

const NS_PER_SEC: u64 = 1_000_000_000;
/// UIP is set for the last 244 µs of each second.
const UIP_START_NS: u64 = NS_PER_SEC - 244_000;
/// Consecutive reads of register A after which the guest is taken to be
/// busy-waiting for a UIP edge.
const POLL_RUN: u32 = 4;

/// Days since 1970-01-01 of a proleptic Gregorian date (`month` 1..12).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Counting years from March puts the leap day at the end of the year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `(year, month 1..12, day 1..31)` that is
/// `days` days after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Calendar {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Calendar {
    fn from_unix(secs: i64) -> Self {
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let rem = secs.rem_euclid(86_400) as u32;
        Self { year, month, day, hour: rem / 3600, minute: rem / 60 % 60, second: rem % 60 }
    }

    /// `None` for a date the registers can hold but the calendar cannot.
    fn to_unix(self) -> Option<i64> {
        let valid = (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        if !valid {
            return None;
        }
        let seconds = i64::from(self.hour * 3600 + self.minute * 60 + self.second);
        // Checked: a host-given base far in the future must not overflow.
        days_from_civil(self.year, self.month, self.day).checked_mul(86_400)?.checked_add(seconds)
    }

    fn weekday(&self) -> u32 {
        // 1970-01-01 was a Thursday; the RTC counts Sunday as 1.
        let days = self.to_unix().unwrap_or(0).div_euclid(86_400);
        (days + 4).rem_euclid(7) as u32 + 1
    }
}

/// The RTC: index port at offset 0 (I/O 0x70), data port at offset 1 (0x71).
#[derive(Clone, Debug)]
pub struct Mc146818 {
    cmos: [u8; 128],
    index: u8,
    base_unix_secs: u64,
    /// Seconds added by guest writes to the time registers.
    adjust_secs: i64,
    /// The time being set while B.SET is on; applied when it goes off.
    setting: Option<Calendar>,
    a_reads: u32,
    /// The virtual second in which register C was last read, so that UF
    /// reports whether an update cycle ended since.
    c_read_second: u64,
}

impl Mc146818 {
    /// An RTC showing `base_unix_secs` (UTC) at virtual time 0.
    pub fn new(base_unix_secs: u64) -> Self {
        let mut cmos = [0u8; 128];
        cmos[REG_A as usize] = 0x26;
        cmos[REG_B as usize] = B_24H;
        Self { cmos, index: 0, base_unix_secs, adjust_secs: 0, setting: None, a_reads: 0, c_read_second: 0 }
    }

    fn now_unix(&self, now_ns: u64) -> i64 {
        let base = i64::try_from(self.base_unix_secs).unwrap_or(i64::MAX);
        let elapsed = i64::try_from(now_ns / NS_PER_SEC).unwrap_or(i64::MAX);
        base.saturating_add(elapsed).saturating_add(self.adjust_secs)
    }

    fn calendar(&self, now_ns: u64) -> Calendar {
        self.setting.unwrap_or_else(|| Calendar::from_unix(self.now_unix(now_ns)))
    }

    fn encode(&self, v: u32) -> u8 {
        let v = (v % 100) as u8;
        if self.cmos[REG_B as usize] & B_BINARY != 0 { v } else { (v / 10) << 4 | (v % 10) }
    }

    fn decode(&self, v: u8) -> u32 {
        if self.cmos[REG_B as usize] & B_BINARY != 0 {
            u32::from(v)
        } else {
            u32::from(v >> 4) * 10 + u32::from(v & 0x0f)
        }
    }

    fn encode_hour(&self, hour: u32) -> u8 {
        if self.cmos[REG_B as usize] & B_24H != 0 {
            return self.encode(hour);
        }
        let h12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        self.encode(h12) | if hour >= 12 { 0x80 } else { 0 }
    }

    fn decode_hour(&self, v: u8) -> u32 {
        if self.cmos[REG_B as usize] & B_24H != 0 {
            return self.decode(v);
        }
        self.decode(v & 0x7f) % 12 + if v & 0x80 != 0 { 12 } else { 0 }
    }

    fn uip(now_ns: u64) -> bool {
        now_ns % NS_PER_SEC >= UIP_START_NS
    }

    /// When UIP next changes: it sets at `UIP_START_NS` into a second and
    /// clears at the next second boundary.
    fn next_uip_edge(now_ns: u64) -> u64 {
        let second = now_ns - now_ns % NS_PER_SEC;
        let edge = if Self::uip(now_ns) { NS_PER_SEC } else { UIP_START_NS };
        second.saturating_add(edge)
    }

    fn read_data(&mut self, ctx: &mut BusCtx) -> u8 {
        let reg = self.index;
        if reg == REG_A {
            self.a_reads += 1;
            if self.a_reads >= POLL_RUN {
                // Start a new run after each warp, so that the read right
                // after the edge (whose Count the kernel takes) is not
                // itself warped past the next one.
                self.a_reads = 0;
                ctx.warp_to_ns = Some(Self::next_uip_edge(ctx.now_ns));
            }
        } else {
            self.a_reads = 0;
        }
        let t = self.calendar(ctx.now_ns);
        match reg {
            REG_SECONDS => self.encode(t.second),
            REG_MINUTES => self.encode(t.minute),
            REG_HOURS => self.encode_hour(t.hour),
            REG_WEEKDAY => self.encode(t.weekday()),
            REG_DAY => self.encode(t.day),
            REG_MONTH => self.encode(t.month),
            REG_YEAR => self.encode(t.year.rem_euclid(100) as u32),
            REG_CENTURY => self.encode(t.year.div_euclid(100).rem_euclid(100) as u32),
            REG_A => {
                let uip = self.setting.is_none() && Self::uip(ctx.now_ns);
                self.cmos[REG_A as usize] & !A_UIP | if uip { A_UIP } else { 0 }
            }
            REG_C => {
                let second = ctx.now_ns / NS_PER_SEC;
                let uf = second != self.c_read_second;
                self.c_read_second = second;
                if uf { C_UF } else { 0 }
            }
            REG_D => D_VRT,
            _ => self.cmos[usize::from(reg & 0x7f)],
        }
    }

    fn write_data(&mut self, v: u8, ctx: &mut BusCtx) {
        self.a_reads = 0;
        let reg = self.index;
        match reg {
            REG_SECONDS | REG_MINUTES | REG_HOURS | REG_DAY | REG_MONTH | REG_YEAR | REG_CENTURY => {
                let mut t = self.calendar(ctx.now_ns);
                match reg {
                    REG_SECONDS => t.second = self.decode(v),
                    REG_MINUTES => t.minute = self.decode(v),
                    REG_HOURS => t.hour = self.decode_hour(v),
                    REG_DAY => t.day = self.decode(v),
                    REG_MONTH => t.month = self.decode(v),
                    REG_YEAR => t.year = t.year.div_euclid(100) * 100 + i64::from(self.decode(v) % 100),
                    _ => t.year = i64::from(self.decode(v)) * 100 + t.year.rem_euclid(100),
                }
                if self.setting.is_some() {
                    // Fields are written one by one while SET holds the
                    // clock; the date may be inconsistent until the last.
                    self.setting = Some(t);
                } else {
                    self.set_time(t, ctx.now_ns);
                }
            }
            REG_A => self.cmos[REG_A as usize] = v & !A_UIP,
            REG_B => {
                let was_set = self.cmos[REG_B as usize] & B_SET != 0;
                let t = self.calendar(ctx.now_ns);
                self.cmos[REG_B as usize] = v;
                match (was_set, v & B_SET != 0) {
                    (false, true) => self.setting = Some(t),
                    (true, false) => {
                        self.setting = None;
                        self.set_time(t, ctx.now_ns);
                    }
                    _ => {}
                }
            }
            REG_C | REG_D => {}
            _ => self.cmos[usize::from(reg & 0x7f)] = v,
        }
    }

    fn set_time(&mut self, t: Calendar, now_ns: u64) {
        if let Some(target) = t.to_unix() {
            let running = self.now_unix(now_ns).saturating_sub(self.adjust_secs);
            self.adjust_secs = target.saturating_sub(running);
        }
    }
}

impl MmioDevice for Mc146818 {
    fn read(&mut self, offset: u64, _size: u32, ctx: &mut BusCtx) -> u64 {
        match offset {
            1 => self.read_data(ctx).into(),
            _ => 0xff,
        }
    }

    fn write(&mut self, offset: u64, _size: u32, value: u64, ctx: &mut BusCtx) {
        match offset {
            // Bit 7 of the index is the NMI mask on a PC: not ours.
            0 => self.index = value as u8 & 0x7f,
            1 => self.write_data(value as u8, ctx),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-02-29 23:59:58 UTC, a Thursday.
    const LEAP_EVE: u64 = 1_709_251_198;

    fn ctx(now_ns: u64) -> BusCtx {
        BusCtx { now_ns, ..BusCtx::default() }
    }

    fn reg(r: &mut Mc146818, i: u8, now_ns: u64) -> u8 {
        let mut c = ctx(now_ns);
        r.write(0, 1, i.into(), &mut c);
        r.read(1, 1, &mut c) as u8
    }

    fn set(r: &mut Mc146818, i: u8, v: u8, now_ns: u64) {
        let mut c = ctx(now_ns);
        r.write(0, 1, i.into(), &mut c);
        r.write(1, 1, v.into(), &mut c);
    }

    #[test]
    fn date_conversion_round_trips_known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(47_482), (2100, 1, 1));
        assert_eq!(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28), 1, "2100 is not a leap year");
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn time_registers_show_base_plus_virtual_time_in_bcd() {
        let mut r = Mc146818::new(LEAP_EVE);
        assert_eq!(reg(&mut r, REG_A, 0), 0x26);
        assert_eq!(reg(&mut r, REG_B, 0), 0x02);
        assert_eq!(reg(&mut r, REG_D, 0), 0x80);
        let t = 1_500_000_000; // 1.5 s in: 23:59:59
        let got: Vec<u8> = [0, 2, 4, 6, 7, 8, 9, 0x32].iter().map(|&i| reg(&mut r, i, t)).collect();
        assert_eq!(got, [0x59, 0x59, 0x23, 0x05, 0x29, 0x02, 0x24, 0x20]);
        let t = 2_000_000_000; // midnight: March 1st, Friday
        let got: Vec<u8> = [0, 2, 4, 6, 7, 8, 9].iter().map(|&i| reg(&mut r, i, t)).collect();
        assert_eq!(got, [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24]);
    }

    #[test]
    fn binary_and_12_hour_modes() {
        let mut r = Mc146818::new(LEAP_EVE);
        set(&mut r, REG_B, B_BINARY, 0);
        assert_eq!(reg(&mut r, REG_HOURS, 0), 0x80 | 11, "11 PM, binary");
        assert_eq!(reg(&mut r, REG_SECONDS, 0), 58);
        set(&mut r, REG_B, B_24H, 0);
        assert_eq!(reg(&mut r, REG_HOURS, 2_000_000_000), 0x00);
        set(&mut r, REG_B, 0, 0);
        assert_eq!(reg(&mut r, REG_HOURS, 2_000_000_000), 0x12, "midnight is 12 AM");
    }

    #[test]
    fn uip_is_set_in_the_last_244_us_of_each_second() {
        let mut r = Mc146818::new(0);
        for (t, uip) in [
            (0, false),
            (999_755_999, false),
            (999_756_000, true),
            (999_999_999, true),
            (1_000_000_000, false),
            (5_999_800_000, true),
        ] {
            // Alternate with another register so no warp run builds up.
            reg(&mut r, REG_SECONDS, t);
            assert_eq!(reg(&mut r, REG_A, t) & A_UIP != 0, uip, "at {t} ns");
        }
    }

    #[test]
    fn repeated_reads_of_a_ask_for_a_warp_to_the_next_edge() {
        let mut r = Mc146818::new(0);
        let mut c = ctx(300_000_000);
        r.write(0, 1, REG_A.into(), &mut c);
        for _ in 0..3 {
            r.read(1, 1, &mut c);
            assert_eq!(c.warp_to_ns, None, "isolated reads do not warp");
        }
        r.read(1, 1, &mut c);
        assert_eq!(c.warp_to_ns, Some(999_756_000), "UIP clear: warp to when it sets");
        let mut c = ctx(999_800_000);
        for _ in 0..3 {
            r.read(1, 1, &mut c);
        }
        assert_eq!(c.warp_to_ns, None, "a new run starts after each warp");
        r.read(1, 1, &mut c);
        assert_eq!(c.warp_to_ns, Some(1_000_000_000), "UIP set: warp to when it clears");
    }

    #[test]
    fn other_registers_break_the_polling_run() {
        let mut r = Mc146818::new(0);
        let mut c = ctx(0);
        for _ in 0..10 {
            for _ in 0..3 {
                r.write(0, 1, REG_A.into(), &mut c);
                r.read(1, 1, &mut c);
            }
            r.write(0, 1, REG_SECONDS.into(), &mut c);
            r.read(1, 1, &mut c);
        }
        assert_eq!(c.warp_to_ns, None);
    }

    #[test]
    fn estimate_frequencies_sees_edges_one_second_apart() {
        // The kernel's loop, with the machine honouring every warp.
        let mut r = Mc146818::new(0);
        let mut now = 123_456_789u64;
        let read_a = |r: &mut Mc146818, now: &mut u64| {
            *now += 100;
            let mut c = ctx(*now);
            r.write(0, 1, REG_A.into(), &mut c);
            let v = r.read(1, 1, &mut c) as u8;
            if let Some(t) = c.warp_to_ns {
                assert!(t > *now);
                *now = t;
            }
            v & A_UIP != 0
        };
        while read_a(&mut r, &mut now) {}
        while !read_a(&mut r, &mut now) {}
        let start = now;
        while read_a(&mut r, &mut now) {}
        let s1 = reg(&mut r, REG_SECONDS, now);
        while !read_a(&mut r, &mut now) {}
        let end = now;
        while read_a(&mut r, &mut now) {}
        let s2 = reg(&mut r, REG_SECONDS, now);
        assert_eq!(end - start, NS_PER_SEC);
        assert_eq!(s2, s1 + 1);
    }

    #[test]
    fn register_c_reports_update_ended_once_per_second() {
        let mut r = Mc146818::new(0);
        assert_eq!(reg(&mut r, REG_C, 1_200_000_000), C_UF);
        assert_eq!(reg(&mut r, REG_C, 1_300_000_000), 0);
        assert_eq!(reg(&mut r, REG_C, 2_000_000_000), C_UF);
    }

    #[test]
    fn setting_the_time_with_set_moves_the_clock() {
        let mut r = Mc146818::new(LEAP_EVE);
        set(&mut r, REG_B, B_SET | B_24H, 0);
        // Linux's order: year, month, day, hours, minutes, seconds.
        for (i, v) in [(REG_YEAR, 0x25), (REG_MONTH, 0x04), (REG_DAY, 0x30), (REG_HOURS, 0x12), (REG_MINUTES, 0x34)] {
            set(&mut r, i, v, 0);
        }
        set(&mut r, REG_SECONDS, 0x56, 0);
        assert_eq!(reg(&mut r, REG_SECONDS, 3_000_000_000), 0x56, "frozen while SET");
        set(&mut r, REG_B, B_24H, 3_000_000_000);
        let t = 4_000_000_000;
        let got: Vec<u8> = [9, 8, 7, 4, 2, 0].iter().map(|&i| reg(&mut r, i, t)).collect();
        assert_eq!(got, [0x25, 0x04, 0x30, 0x12, 0x34, 0x57]);
        // Nonsense is ignored rather than trusted.
        set(&mut r, REG_MONTH, 0x99, t);
        assert_eq!(reg(&mut r, REG_MONTH, t), 0x04);
    }

    #[test]
    fn extreme_clocks_do_not_panic() {
        let mut r = Mc146818::new(u64::MAX);
        for i in 0..128u8 {
            reg(&mut r, i, u64::MAX);
            set(&mut r, i, 0xff, u64::MAX);
            set(&mut r, REG_B, B_SET, u64::MAX);
            set(&mut r, i, 0x99, u64::MAX);
            set(&mut r, REG_B, 0, u64::MAX);
        }
    }

    #[test]
    fn cmos_bytes_are_storage_and_index_ignores_nmi_bit() {
        let mut r = Mc146818::new(0);
        set(&mut r, 0x80 | 0x40, 0xa5, 0);
        assert_eq!(reg(&mut r, 0x40, 0), 0xa5);
        assert_eq!(r.read(0, 1, &mut ctx(0)), 0xff);
    }
}
