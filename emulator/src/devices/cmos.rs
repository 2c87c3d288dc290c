//! CMOS RAM and real-time clock (Motorola MC146818 compatible) at ports 0x70/0x71.
//!
//! Port 0x70 selects a register (bits 6-0) and carries the NMI-disable bit (bit 7, stored
//! and reported by [`Cmos::nmi_disabled`]); it is write-only, reads return 0xFF. Port 0x71
//! reads and writes the selected register.
//!
//! Facts from the MC146818 datasheet (and PC convention for the bytes above 0x0D):
//! * Registers 0x00-0x09: seconds, seconds alarm, minutes, minutes alarm, hours, hours alarm,
//!   day of week (1 = Sunday), day of month, month, year (two digits). PC BIOSes keep the
//!   century in 0x32.
//! * Status A: bit 7 UIP (update in progress, read only), bits 6-4 divider, bits 3-0 rate
//!   select for the periodic interrupt. Status B: SET (7, halts updates so software can set
//!   the time; setting it clears UIE), PIE (6), AIE (5), UIE (4), SQWE (3), DM (2, 1 =
//!   binary, 0 = BCD), 24/12 (1, 1 = 24 hour), DSE (0). Status C (read only, cleared by
//!   reading): IRQF (7), PF (6), AF (5), UF (4). Status D: VRT (7, RAM and time valid).
//! * In 12-hour mode bit 7 of the hours byte is PM and hours run 1-12.
//! * An alarm byte with its two high bits set (0xC0-0xFF) is "don't care".
//! * UIP is set 244 µs before each update cycle: here it reads 1 during the last 244 µs of
//!   every virtual second (derived from virtual time, so deterministic), and the time
//!   registers step at the second boundary.
//! * The RESET pin clears PIE, AIE, UIE, SQWE and the status C flags; time and RAM survive.
//!
//! Time is `epoch` (Unix seconds, UTC; [`DEFAULT_EPOCH`] = 2026-01-01T00:00:00Z) plus the
//! virtual time, plus whatever offset the guest introduced by writing the clock. Nothing
//! reads the host clock. The machine calls [`Timed::advance`] before each access (port
//! accesses carry no time) and samples [`Cmos::irq`] for IRQ8.
//!
//! Every other byte is plain 128-byte NVRAM. The memory-size bytes are filled from the RAM
//! size as a PC BIOS does: 0x15/0x16 base memory in KiB (640), 0x17/0x18 and 0x30/0x31
//! extended memory above 1 MiB in KiB (at most 0xFFFF), 0x34/0x35 memory above 16 MiB in
//! 64 KiB units (at most 0xFFFF), and the standard checksum of 0x10-0x2D in 0x2E/0x2F.
//!
//! Wide accesses are split into byte accesses at consecutive ports.

#[cfg(test)]
use super::PortDevice;
use super::{Nanos, Timed};

pub const PORT_INDEX: u16 = 0x70;
pub const PORT_DATA: u16 = 0x71;

/// 2026-01-01T00:00:00Z in Unix seconds.
pub const DEFAULT_EPOCH: u64 = 1_767_225_600;
/// 9999-12-31T23:59:59Z, the last time the registers can show.
const MAX_EPOCH: u64 = 253_402_300_799;

const NS_PER_SEC: u64 = 1_000_000_000;
/// UIP reads 1 during this much of the end of every second.
const UIP_NS: u64 = 244_000;

const INDEX_NMI_DISABLE: u8 = 0x80;
const INDEX_MASK: u8 = 0x7F;

pub const REG_SECONDS: u8 = 0x00;
pub const REG_SECONDS_ALARM: u8 = 0x01;
pub const REG_MINUTES: u8 = 0x02;
pub const REG_MINUTES_ALARM: u8 = 0x03;
pub const REG_HOURS: u8 = 0x04;
pub const REG_HOURS_ALARM: u8 = 0x05;
pub const REG_WEEKDAY: u8 = 0x06;
pub const REG_DAY: u8 = 0x07;
pub const REG_MONTH: u8 = 0x08;
pub const REG_YEAR: u8 = 0x09;
pub const REG_A: u8 = 0x0A;
pub const REG_B: u8 = 0x0B;
pub const REG_C: u8 = 0x0C;
pub const REG_D: u8 = 0x0D;
pub const REG_BASE_MEM_LO: u8 = 0x15;
pub const REG_EXT_MEM_LO: u8 = 0x17;
pub const REG_CHECKSUM_HI: u8 = 0x2E;
pub const REG_EXT_MEM2_LO: u8 = 0x30;
pub const REG_CENTURY: u8 = 0x32;
pub const REG_HIGH_MEM_LO: u8 = 0x34;

const A_UIP: u8 = 0x80;
const A_RATE: u8 = 0x0F;
const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
const B_SQWE: u8 = 0x08;
const B_BINARY: u8 = 0x04;
const B_24H: u8 = 0x02;
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;
const D_VRT: u8 = 0x80;
const HOUR_PM: u8 = 0x80;
const ALARM_DONT_CARE: u8 = 0xC0;

/// Days since 1970-01-01 to (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// Inverse of [`civil_from_days`]; out-of-range days simply carry into the next month.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn to_bcd(v: u8) -> u8 {
    ((v / 10 % 10) << 4) | (v % 10)
}

fn from_bcd(v: u8) -> u8 {
    (v >> 4) * 10 + (v & 0xF)
}

/// Broken-down time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// 0 = Sunday.
    weekday: u32,
}

impl Civil {
    fn from_unix(secs: i64) -> Civil {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    fn to_unix(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + (self.hour * 3600 + self.minute * 60 + self.second) as i64
    }
}

/// The CMOS/RTC chip.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cmos {
    /// Selected register.
    pub index: u8,
    pub nmi_disabled: bool,
    /// NVRAM; the clock registers (0x00, 0x02, 0x04, 0x06-0x09, 0x32) and status C/D are
    /// computed instead of read from here.
    #[serde(with = "serde_big_array::BigArray")]
    pub ram: [u8; 128],
    /// Unix seconds at virtual time 0.
    pub epoch: u64,
    /// Seconds the guest moved the clock by.
    pub offset: i64,
    /// While status B SET is 1: the frozen clock (Unix seconds) the guest is editing.
    pub frozen: Option<i64>,
    /// Status C flags PF/AF/UF.
    pub flags: u8,
    /// Virtual time of the last `advance`.
    pub now: Nanos,
    pub misses: u64,
}

impl Cmos {
    /// A CMOS for a machine with `ram_bytes` of RAM whose clock reads `epoch` (Unix seconds)
    /// at virtual time 0. Epochs past year 9999 are clamped there (the clock has four
    /// decimal digits of year).
    pub fn new(ram_bytes: u64, epoch: u64) -> Cmos {
        let epoch = epoch.min(MAX_EPOCH);
        let mut ram = [0u8; 128];
        ram[REG_A as usize] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
        ram[REG_B as usize] = B_24H; // BCD, 24-hour, as a BIOS leaves it
        let put16 = |ram: &mut [u8; 128], reg: u8, v: u16| {
            ram[reg as usize..reg as usize + 2].copy_from_slice(&v.to_le_bytes());
        };
        put16(&mut ram, REG_BASE_MEM_LO, 640);
        let ext_kib = (ram_bytes.saturating_sub(1 << 20) / 1024).min(0xFFFF) as u16;
        put16(&mut ram, REG_EXT_MEM_LO, ext_kib);
        put16(&mut ram, REG_EXT_MEM2_LO, ext_kib);
        let high_64k = (ram_bytes.saturating_sub(16 << 20) / 65_536).min(0xFFFF) as u16;
        put16(&mut ram, REG_HIGH_MEM_LO, high_64k);
        let sum: u16 = ram[0x10..REG_CHECKSUM_HI as usize].iter().map(|&b| b as u16).sum();
        ram[REG_CHECKSUM_HI as usize..REG_CHECKSUM_HI as usize + 2].copy_from_slice(&sum.to_be_bytes());
        Cmos { index: 0, nmi_disabled: false, ram, epoch, offset: 0, frozen: None, flags: 0, now: 0, misses: 0 }
    }

    /// The RESET pin: interrupt enables and flags cleared; time and NVRAM kept.
    pub fn reset(&mut self) {
        self.ram[REG_B as usize] &= !(B_PIE | B_AIE | B_UIE | B_SQWE);
        self.flags = 0;
    }

    /// IRQ8 level: IRQF.
    pub fn irq(&self) -> bool {
        self.status_c() & C_IRQF != 0
    }

    fn b(&self) -> u8 {
        self.ram[REG_B as usize]
    }

    fn status_c(&self) -> u8 {
        let enabled = self.b() & (B_PIE | B_AIE | B_UIE);
        // PIE, AIE and UIE sit at the same bit positions as PF, AF and UF.
        let irqf = if self.flags & enabled != 0 { C_IRQF } else { 0 };
        irqf | self.flags
    }

    /// Unix seconds the clock shows at virtual time `t`.
    fn seconds_at(&self, t: Nanos) -> i64 {
        self.epoch as i64 + self.offset + (t / NS_PER_SEC) as i64
    }

    /// The time the registers show now.
    pub fn unix_time(&self) -> i64 {
        self.frozen.unwrap_or_else(|| self.seconds_at(self.now))
    }

    fn encode(&self, v: u32) -> u8 {
        let v = v as u8;
        if self.b() & B_BINARY != 0 {
            v
        } else {
            to_bcd(v)
        }
    }

    fn decode(&self, v: u8) -> u32 {
        (if self.b() & B_BINARY != 0 { v } else { from_bcd(v) }) as u32
    }

    fn encode_hour(&self, h: u32) -> u8 {
        if self.b() & B_24H != 0 {
            self.encode(h)
        } else {
            let h12 = if h.is_multiple_of(12) { 12 } else { h % 12 };
            self.encode(h12) | if h >= 12 { HOUR_PM } else { 0 }
        }
    }

    fn decode_hour(&self, v: u8) -> u32 {
        if self.b() & B_24H != 0 {
            self.decode(v) % 24
        } else {
            self.decode(v & !HOUR_PM) % 12 + if v & HOUR_PM != 0 { 12 } else { 0 }
        }
    }

    fn read_clock(&self, reg: u8) -> u8 {
        let c = Civil::from_unix(self.unix_time());
        match reg {
            REG_SECONDS => self.encode(c.second),
            REG_MINUTES => self.encode(c.minute),
            REG_HOURS => self.encode_hour(c.hour),
            REG_WEEKDAY => self.encode(c.weekday + 1),
            REG_DAY => self.encode(c.day),
            REG_MONTH => self.encode(c.month),
            REG_YEAR => self.encode(c.year.rem_euclid(100) as u32),
            _ => self.encode(c.year.div_euclid(100).clamp(0, 99) as u32),
        }
    }

    /// A guest write to a clock register: the clock jumps so that field reads `v`.
    /// Day-of-week writes are accepted and ignored (the weekday follows from the date).
    fn write_clock(&mut self, reg: u8, v: u8) {
        let mut c = Civil::from_unix(self.unix_time());
        match reg {
            REG_SECONDS => c.second = self.decode(v).min(59),
            REG_MINUTES => c.minute = self.decode(v).min(59),
            REG_HOURS => c.hour = self.decode_hour(v),
            REG_DAY => c.day = self.decode(v).clamp(1, 31),
            REG_MONTH => c.month = self.decode(v).clamp(1, 12),
            REG_YEAR => c.year = c.year.div_euclid(100) * 100 + self.decode(v).min(99) as i64,
            REG_CENTURY => c.year = self.decode(v).min(99) as i64 * 100 + c.year.rem_euclid(100),
            _ => return,
        }
        let secs = c.to_unix();
        match &mut self.frozen {
            Some(f) => *f = secs,
            None => self.offset += secs - self.seconds_at(self.now),
        }
    }

    fn update_in_progress(&self) -> bool {
        self.frozen.is_none() && self.now % NS_PER_SEC >= NS_PER_SEC - UIP_NS
    }

    /// Periodic interrupt rate in Hz for rate-select bits `rs` (32.768 kHz time base).
    fn periodic_hz(&self) -> Option<u64> {
        match self.ram[REG_A as usize] & A_RATE {
            0 => None,
            1 => Some(256),
            2 => Some(128),
            rs => Some(32_768 >> (rs - 1)),
        }
    }

    fn alarm_matches(&self, secs: i64) -> bool {
        let c = Civil::from_unix(secs);
        let check = |reg: u8, cur: u8| {
            let a = self.ram[reg as usize];
            a & ALARM_DONT_CARE == ALARM_DONT_CARE || a == cur
        };
        check(REG_SECONDS_ALARM, self.encode(c.second))
            && check(REG_MINUTES_ALARM, self.encode(c.minute))
            && check(REG_HOURS_ALARM, self.encode_hour(c.hour))
    }

    fn read8(&mut self, port: u16) -> u8 {
        match port {
            PORT_INDEX => 0xFF,
            PORT_DATA => match self.index {
                REG_SECONDS | REG_MINUTES | REG_HOURS | REG_WEEKDAY | REG_DAY | REG_MONTH | REG_YEAR | REG_CENTURY => {
                    self.read_clock(self.index)
                }
                REG_A => {
                    let uip = if self.update_in_progress() { A_UIP } else { 0 };
                    (self.ram[REG_A as usize] & !A_UIP) | uip
                }
                REG_C => {
                    let v = self.status_c();
                    self.flags = 0;
                    v
                }
                REG_D => D_VRT,
                i => self.ram[i as usize],
            },
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        match port {
            PORT_INDEX => {
                self.index = v & INDEX_MASK;
                self.nmi_disabled = v & INDEX_NMI_DISABLE != 0;
            }
            PORT_DATA => match self.index {
                REG_SECONDS | REG_MINUTES | REG_HOURS | REG_WEEKDAY | REG_DAY | REG_MONTH | REG_YEAR | REG_CENTURY => {
                    self.write_clock(self.index, v)
                }
                REG_A => self.ram[REG_A as usize] = v & !A_UIP,
                REG_B => {
                    let mut v = v;
                    if v & B_SET != 0 {
                        v &= !B_UIE;
                        if self.frozen.is_none() {
                            self.frozen = Some(self.seconds_at(self.now));
                        }
                    } else if let Some(f) = self.frozen.take() {
                        // Updates resume from the time the guest set.
                        self.offset += f - self.seconds_at(self.now);
                    }
                    self.ram[REG_B as usize] = v;
                }
                // Status C and D are read only.
                REG_C | REG_D => {}
                i => self.ram[i as usize] = v,
            },
            _ => self.misses += 1,
        }
    }
}

impl Timed for Cmos {
    fn advance(&mut self, now: Nanos) {
        if now <= self.now {
            return;
        }
        let old = self.now;
        self.now = now;
        if let Some(hz) = self.periodic_hz() {
            let ticks = |t: Nanos| t as u128 * hz as u128 / NS_PER_SEC as u128;
            if ticks(now) > ticks(old) {
                self.flags |= C_PF;
            }
        }
        if self.frozen.is_some() {
            return;
        }
        let (s_old, s_new) = (old / NS_PER_SEC, now / NS_PER_SEC);
        if s_new > s_old {
            self.flags |= C_UF;
            // Check every second the clock stepped through (at most a day's worth: an alarm
            // matches at least once a day).
            let first = (s_old + 1).max(s_new.saturating_sub(86_400));
            let base = self.epoch as i64 + self.offset;
            if (first..=s_new).any(|s| self.alarm_matches(base + s as i64)) {
                self.flags |= C_AF;
            }
        }
    }

    fn next_event(&self) -> Option<Nanos> {
        let b = self.b();
        let mut next: Option<Nanos> = None;
        if b & B_PIE != 0 && self.flags & C_PF == 0 {
            if let Some(hz) = self.periodic_hz() {
                let k = self.now as u128 * hz as u128 / NS_PER_SEC as u128 + 1;
                next = Some((k * NS_PER_SEC as u128).div_ceil(hz as u128) as u64);
            }
        }
        let wants_second = (b & B_UIE != 0 && self.flags & C_UF == 0) || (b & B_AIE != 0 && self.flags & C_AF == 0);
        if wants_second && self.frozen.is_none() {
            let t = (self.now / NS_PER_SEC + 1) * NS_PER_SEC;
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        next
    }
}

byte_port_device!(Cmos);

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(c: &mut Cmos, r: u8) -> u8 {
        c.write(0x70, 1, r as u32);
        c.read(0x71, 1) as u8
    }

    fn set(c: &mut Cmos, r: u8, v: u8) {
        c.write(0x70, 1, r as u32);
        c.write(0x71, 1, v as u32);
    }

    fn cmos() -> Cmos {
        Cmos::new(256 << 20, DEFAULT_EPOCH)
    }

    #[test]
    fn test_civil_conversion_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 1, 1) * 86_400, DEFAULT_EPOCH as i64);
        for d in [-1000i64, 0, 59, 60, 10_000, 20_454, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn test_default_epoch_reads_2026_01_01_bcd() {
        let mut c = cmos();
        assert_eq!(reg(&mut c, REG_SECONDS), 0x00);
        assert_eq!(reg(&mut c, REG_HOURS), 0x00);
        assert_eq!(reg(&mut c, REG_DAY), 0x01);
        assert_eq!(reg(&mut c, REG_MONTH), 0x01);
        assert_eq!(reg(&mut c, REG_YEAR), 0x26);
        assert_eq!(reg(&mut c, REG_CENTURY), 0x20);
        assert_eq!(reg(&mut c, REG_WEEKDAY), 5); // Thursday
    }

    #[test]
    fn test_time_advances_with_virtual_time() {
        let mut c = cmos();
        c.advance(3_723 * NS_PER_SEC + 5);
        assert_eq!(reg(&mut c, REG_SECONDS), 0x03);
        assert_eq!(reg(&mut c, REG_MINUTES), 0x02);
        assert_eq!(reg(&mut c, REG_HOURS), 0x01);
    }

    #[test]
    fn test_binary_mode_per_status_b_bit2() {
        let mut c = Cmos::new(1 << 20, DEFAULT_EPOCH + 59);
        set(&mut c, REG_B, 0x06);
        assert_eq!(reg(&mut c, REG_SECONDS), 59);
        assert_eq!(reg(&mut c, REG_YEAR), 26);
    }

    #[test]
    fn test_12_hour_mode_sets_pm_bit() {
        let mut c = Cmos::new(1 << 20, DEFAULT_EPOCH + 13 * 3600);
        set(&mut c, REG_B, 0x00);
        assert_eq!(reg(&mut c, REG_HOURS), 0x81);
        let mut c = cmos();
        set(&mut c, REG_B, 0x00);
        assert_eq!(reg(&mut c, REG_HOURS), 0x12, "midnight is 12 AM");
    }

    #[test]
    fn test_uip_set_in_last_244us_of_second() {
        let mut c = cmos();
        c.advance(NS_PER_SEC - UIP_NS - 1);
        assert_eq!(reg(&mut c, REG_A) & 0x80, 0);
        c.advance(NS_PER_SEC - UIP_NS);
        assert_eq!(reg(&mut c, REG_A), 0xa6);
        c.advance(NS_PER_SEC);
        assert_eq!(reg(&mut c, REG_A), 0x26);
    }

    #[test]
    fn test_status_d_reports_valid_ram() {
        let mut c = cmos();
        assert_eq!(reg(&mut c, REG_D), 0x80);
        set(&mut c, REG_D, 0);
        assert_eq!(reg(&mut c, REG_D), 0x80);
    }

    #[test]
    fn test_nvram_keeps_written_bytes() {
        let mut c = cmos();
        for r in [0x0e, 0x40, 0x7f] {
            set(&mut c, r, r ^ 0x5a);
            assert_eq!(reg(&mut c, r), r ^ 0x5a);
        }
    }

    #[test]
    fn test_nmi_disable_bit_selects_same_register() {
        let mut c = cmos();
        set(&mut c, 0x40, 0x11);
        c.write(0x70, 1, 0xc0);
        assert!(c.nmi_disabled);
        assert_eq!(c.read(0x71, 1), 0x11);
        assert_eq!(c.read(0x70, 1), 0xff);
    }

    #[test]
    fn test_memory_size_registers() {
        let mut c = Cmos::new(256 << 20, DEFAULT_EPOCH);
        assert_eq!(reg(&mut c, 0x15) as u16 | (reg(&mut c, 0x16) as u16) << 8, 640);
        assert_eq!(reg(&mut c, 0x17) as u16 | (reg(&mut c, 0x18) as u16) << 8, 0xFFFF);
        assert_eq!(reg(&mut c, 0x30) as u16 | (reg(&mut c, 0x31) as u16) << 8, 0xFFFF);
        assert_eq!(reg(&mut c, 0x34) as u16 | (reg(&mut c, 0x35) as u16) << 8, 3840);
        let mut c = Cmos::new(20 << 20, DEFAULT_EPOCH);
        assert_eq!(reg(&mut c, 0x17) as u16 | (reg(&mut c, 0x18) as u16) << 8, 19 * 1024);
        assert_eq!(reg(&mut c, 0x34) as u16 | (reg(&mut c, 0x35) as u16) << 8, 64);
    }

    #[test]
    fn test_checksum_covers_0x10_to_0x2d() {
        let mut c = Cmos::new(20 << 20, DEFAULT_EPOCH);
        let sum: u16 = (0x10..0x2e).map(|r| reg(&mut c, r) as u16).sum();
        assert_eq!((reg(&mut c, 0x2e) as u16) << 8 | reg(&mut c, 0x2f) as u16, sum);
    }

    #[test]
    fn test_writing_clock_moves_time() {
        let mut c = cmos();
        set(&mut c, REG_HOURS, 0x15);
        set(&mut c, REG_YEAR, 0x30);
        c.advance(2 * NS_PER_SEC);
        assert_eq!(reg(&mut c, REG_HOURS), 0x15);
        assert_eq!(reg(&mut c, REG_YEAR), 0x30);
        assert_eq!(reg(&mut c, REG_SECONDS), 0x02);
    }

    #[test]
    fn test_set_bit_freezes_clock_until_cleared() {
        let mut c = cmos();
        set(&mut c, REG_B, 0x82);
        set(&mut c, REG_MINUTES, 0x30);
        c.advance(5 * NS_PER_SEC);
        assert_eq!(reg(&mut c, REG_SECONDS), 0x00);
        assert_eq!(reg(&mut c, REG_MINUTES), 0x30);
        set(&mut c, REG_B, 0x02);
        c.advance(7 * NS_PER_SEC);
        assert_eq!(reg(&mut c, REG_SECONDS), 0x02);
        assert_eq!(reg(&mut c, REG_MINUTES), 0x30);
    }

    #[test]
    fn test_update_ended_interrupt_and_status_c_clear_on_read() {
        let mut c = cmos();
        set(&mut c, REG_A, 0x20); // no periodic flag to mix in
        set(&mut c, REG_B, 0x12);
        assert_eq!(c.next_event(), Some(NS_PER_SEC));
        c.advance(NS_PER_SEC);
        assert!(c.irq());
        assert_eq!(reg(&mut c, REG_C), 0x90);
        assert!(!c.irq());
        assert_eq!(reg(&mut c, REG_C), 0x00);
    }

    #[test]
    fn test_periodic_interrupt_at_rate() {
        let mut c = cmos();
        set(&mut c, REG_B, 0x42);
        assert_eq!(c.next_event(), Some(976_563)); // 1024 Hz
        c.advance(976_562);
        assert!(!c.irq());
        c.advance(976_563);
        assert!(c.irq());
        assert_eq!(reg(&mut c, REG_C), 0xc0);
    }

    #[test]
    fn test_alarm_interrupt_matches_time() {
        let mut c = cmos();
        set(&mut c, REG_SECONDS_ALARM, 0x05);
        set(&mut c, REG_MINUTES_ALARM, 0xff);
        set(&mut c, REG_HOURS_ALARM, 0xff);
        set(&mut c, REG_B, 0x22);
        c.advance(4 * NS_PER_SEC);
        assert!(!c.irq());
        c.advance(5 * NS_PER_SEC);
        assert!(c.irq());
        assert_eq!(reg(&mut c, REG_C) & 0xa0, 0xa0);
    }

    #[test]
    fn test_reset_clears_interrupt_enables_keeps_time() {
        let mut c = cmos();
        set(&mut c, REG_B, 0x72);
        c.advance(NS_PER_SEC);
        c.reset();
        assert!(!c.irq());
        assert_eq!(reg(&mut c, REG_B), 0x02);
        assert_eq!(reg(&mut c, REG_SECONDS), 0x01);
    }

    #[test]
    fn test_huge_epoch_clamped_to_year_9999() {
        let mut c = Cmos::new(1 << 20, u64::MAX);
        c.advance(u64::MAX);
        assert_eq!(reg(&mut c, REG_CENTURY), 0x99);
        assert_eq!(days_from_civil(9999, 12, 31) * 86_400 + 86_399, MAX_EPOCH as i64);
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut c = cmos();
        assert_eq!(c.read(0x72, 1), 0xff);
        c.write(0x73, 1, 0);
        assert_eq!(c.misses, 2);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut c = cmos();
        let mut now = 0u64;
        super::super::testutil::hammer(&mut c, &[0x70, 0x71], 0x146818, 30000, |c, rng| {
            now += rng.next() % 50_000_000;
            c.advance(now);
            let _ = (c.next_event(), c.irq());
        });
    }
}
