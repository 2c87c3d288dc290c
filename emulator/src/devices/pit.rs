//! Intel 8254 programmable interval timer (ports 0x40-0x43) and System Control Port B
//! (port 0x61: channel 2 gate, speaker enable, refresh toggle, channel 2 output).
//!
//! The counters run at 1 193 182 Hz derived from virtual nanoseconds: the counter clock
//! tick index at time `t` is `floor(t * 1193182 / 10^9)`, and tick `m` happens at
//! `ceil(m * 10^9 / 1193182)` ns. Everything is computed from the tick at which a count
//! was loaded, so reading a counter at any time is exact and no per-tick work is done.
//!
//! Facts from the 8254 datasheet this model relies on:
//! * Control word (port 0x43): SC1-SC0 (D7-D6) select the counter, 11 = read-back;
//!   RW1-RW0 (D5-D4): 00 counter latch, 01 LSB, 10 MSB, 11 LSB then MSB; M2-M0 (D3-D1)
//!   mode (6 and 7 are modes 2 and 3); BCD (D0). Writing a control word resets the
//!   counter's logic; OUT goes low in mode 0 and high in every other mode.
//! * An initial count of 0 means 2^16 (10^4 in BCD).
//! * Mode 0: OUT rises when the count reaches 0 and stays high; the counter keeps
//!   wrapping. Mode 4: OUT pulses low for one clock at count 0. Modes 1 and 5 are the same
//!   but triggered by a rising edge of GATE. Mode 2: OUT goes low for one clock when the
//!   count reaches 1, then the count reloads (period N). Mode 3: OUT high for ceil(N/2)
//!   clocks, low for floor(N/2), the counter steps by 2.
//! * In modes 2 and 3 a new count written while counting takes effect at the end of the
//!   current period; in mode 0 and 4 it takes effect at once.
//! * GATE low suspends counting in modes 0 and 4; in modes 2 and 3 it stops counting and
//!   forces OUT high, and its rising edge reloads the counter.
//! * Counter latch: the count is frozen for reading until read; a second latch before the
//!   read is ignored. Read-back (11 /COUNT /STATUS CNT2 CNT1 CNT0 0) latches counts and/or
//!   status bytes (OUT, NULL COUNT, RW, mode, BCD); a latched status is read first.
//!
//! Simplifications (documented, deterministic): a count is loaded on the tick at which it is
//! written (the datasheet loads it on the next CLK); the mode 3 read-back value for odd
//! counts is approximate; OUT transitions caused by writing a control word don't count as
//! IRQ0 edges.
//!
//! # IRQ0
//! Channel 0's OUT drives IRQ0. Its rising edges happen at exact virtual times (ticks
//! `start + k*N` in modes 2 and 3). [`Pit::advance`] counts the edges whose tick lies in
//! `(tick(previous now), tick(now)]`, so each edge is counted exactly once however the calls
//! are spaced, and accumulates them; [`Pit::take_irq0_edges`] hands the count to the
//! machine and clears it. [`Timed::next_event`] is the time of the next edge. A machine that
//! runs the CPU no further than `next_event()` before calling `advance` sees at most one edge
//! per call and raises IRQ0 on the PIC once per period (`set_irq(0, true)` then
//! `set_irq(0, false)` per edge: the PIC latches the rising edge). If `advance` is called
//! late, the missed edges are still counted (none lost or duplicated in the count); the PIC
//! can only latch one of them, as on hardware when the CPU doesn't acknowledge in time.
//!
//! Port accesses don't carry time: the machine calls `advance(now)` before every access so
//! counter reads and port 0x61 see the time of the access. Wide accesses are split into
//! byte accesses at consecutive ports.

#[cfg(test)]
use super::PortDevice;
use super::{Nanos, Timed};

/// The 8254's input clock on a PC.
pub const PIT_HZ: u64 = 1_193_182;
const NS_PER_SEC: u128 = 1_000_000_000;

pub const PORT_CH0: u16 = 0x40;
pub const PORT_CH1: u16 = 0x41;
pub const PORT_CH2: u16 = 0x42;
pub const PORT_CONTROL: u16 = 0x43;
pub const PORT_B: u16 = 0x61;

const CW_SC_SHIFT: u8 = 6;
const CW_SC_READBACK: u8 = 3;
const CW_RW_SHIFT: u8 = 4;
const CW_RW_LATCH: u8 = 0;
const CW_MODE_SHIFT: u8 = 1;
const CW_BCD: u8 = 0x01;
/// Read-back: D5 = 0 latches counts, D4 = 0 latches status, D1-D3 select counters.
const RB_NO_COUNT: u8 = 0x20;
const RB_NO_STATUS: u8 = 0x10;
const STATUS_OUT: u8 = 0x80;
const STATUS_NULL_COUNT: u8 = 0x40;

const ACCESS_LSB: u8 = 1;
const ACCESS_MSB: u8 = 2;
const ACCESS_LOHI: u8 = 3;

/// Port 0x61 bits: timer 2 gate and speaker data (read/write), refresh toggle and timer 2
/// output (read only); bits 2-3 are stored (parity / IOCHK enables), bits 6-7 read 0 (no
/// parity or channel check errors).
const PB_GATE2: u8 = 0x01;
const PB_WRITABLE: u8 = 0x0F;
const PB_REFRESH: u8 = 0x10;
const PB_OUT2: u8 = 0x20;
/// The refresh request toggles with channel 1's output, which a BIOS programs to a count
/// of 18 (15.08 µs); derived from the PIT clock so it's deterministic.
const REFRESH_TICKS: u64 = 18;

/// The counter-clock tick index at virtual time `t`.
pub fn tick_at(t: Nanos) -> u64 {
    (t as u128 * PIT_HZ as u128 / NS_PER_SEC) as u64
}

/// The first virtual time at which tick `m` has happened.
pub fn time_of_tick(m: u64) -> Nanos {
    let num = m as u128 * NS_PER_SEC;
    let t = num.div_ceil(PIT_HZ as u128);
    t.min(u64::MAX as u128) as u64
}

fn from_bcd(v: u16) -> u32 {
    let d = |s: u32| ((v as u32 >> s) & 0xF).min(9);
    d(12) * 1000 + d(8) * 100 + d(4) * 10 + d(0)
}

fn to_bcd(v: u32) -> u16 {
    let v = v % 10000;
    (((v / 1000) << 12) | ((v / 100 % 10) << 8) | ((v / 10 % 10) << 4) | (v % 10)) as u16
}

/// One counter.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Channel {
    /// Mode 0-5 (6 and 7 are stored as 2 and 3).
    pub mode: u8,
    /// RW field: 1 LSB, 2 MSB, 3 LSB then MSB.
    pub access: u8,
    pub bcd: bool,
    /// The initial count N in clocks (1..=65536, or 1..=10000 in BCD).
    pub reload: u32,
    /// A count has been written since the control word.
    pub loaded: bool,
    /// Counting has begun (modes 1 and 5: GATE has triggered; modes 2 and 3: GATE is high).
    pub triggered: bool,
    /// Tick at which the current count began.
    pub start: u64,
    /// Modes 0 and 4 with GATE low: elapsed ticks frozen at the value when GATE fell.
    pub paused_at: Option<u64>,
    /// Modes 2 and 3: a count written while counting and the tick it takes effect.
    pub pending_reload: Option<(u32, u64)>,
    /// Count shown while not counting.
    pub frozen: u16,
    /// OUT while not counting.
    pub out_idle: bool,
    pub gate: bool,
    /// LSB of a two-byte count, waiting for the MSB.
    pub write_lsb: Option<u8>,
    /// Two-byte access: the next unlatched read returns the MSB.
    pub read_msb_next: bool,
    /// Latched count and whether its MSB is the next byte to read.
    pub latch: Option<(u16, bool)>,
    pub status_latch: Option<u8>,
    pub null_count: bool,
}

impl Channel {
    fn new(gate: bool) -> Channel {
        Channel {
            mode: 0,
            access: ACCESS_LOHI,
            bcd: false,
            reload: 0x10000,
            loaded: false,
            triggered: false,
            start: 0,
            paused_at: None,
            pending_reload: None,
            frozen: 0,
            out_idle: false,
            gate,
            write_lsb: None,
            read_msb_next: false,
            latch: None,
            status_latch: None,
            null_count: true,
        }
    }

    fn counting(&self) -> bool {
        self.loaded && self.triggered
    }

    /// Ticks counted since the count began, at tick `t`.
    fn elapsed(&self, t: u64) -> u64 {
        self.paused_at.unwrap_or(t.saturating_sub(self.start))
    }

    /// Applies a pending modes 2/3 reload whose time has come.
    fn settle(&mut self, t: u64) {
        if let Some((n, at)) = self.pending_reload {
            if t >= at {
                self.reload = n;
                self.start = at;
                self.pending_reload = None;
            }
        }
    }

    fn modulus(&self) -> i64 {
        if self.bcd {
            10000
        } else {
            0x10000
        }
    }

    /// The counting element at tick `t` (after `settle`), as read (BCD-encoded in BCD mode).
    fn count(&self, t: u64) -> u16 {
        if !self.counting() {
            return self.frozen;
        }
        let n = self.reload as u64;
        let e = self.elapsed(t);
        let v = match self.mode {
            2 => n - e % n,
            3 => {
                let p = e % n;
                let high = n.div_ceil(2);
                if p < high {
                    n - 2 * p
                } else {
                    n - 1 - 2 * (p - high)
                }
            }
            _ => (n as i64 - e as i64).rem_euclid(self.modulus()) as u64,
        } as u32;
        let v = v % self.modulus() as u32;
        if self.bcd {
            to_bcd(v)
        } else {
            v as u16
        }
    }

    /// OUT at tick `t` (after `settle`).
    fn out(&self, t: u64) -> bool {
        if !self.counting() {
            return self.out_idle;
        }
        let n = self.reload as u64;
        let e = self.elapsed(t);
        match self.mode {
            0 | 1 => e >= n,
            2 => e % n != n - 1,
            3 => e % n < n.div_ceil(2),
            _ => e != n,
        }
    }

    /// Number of OUT rising edges in elapsed ticks (0, e] of the current count.
    fn edges_upto(&self, e: u64) -> u64 {
        let n = self.reload as u64;
        match self.mode {
            0 | 1 => (e >= n) as u64,
            2 | 3 => e / n,
            _ => (e > n) as u64,
        }
    }

    /// Rising edges with tick in (from, to].
    fn edges_between(&mut self, from: u64, to: u64) -> u64 {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut from = from;
        if let Some((_, at)) = self.pending_reload {
            if at <= to {
                if self.counting() && at > from {
                    total += self.edges_upto(self.elapsed(at)) - self.edges_upto(self.elapsed(from));
                }
                self.settle(at);
                from = from.max(at);
            }
        }
        if self.counting() {
            total += self.edges_upto(self.elapsed(to)) - self.edges_upto(self.elapsed(from));
        }
        total
    }

    /// The tick of the next rising edge after tick `t`.
    fn next_edge_tick(&self, t: u64) -> Option<u64> {
        if !self.counting() || self.paused_at.is_some() {
            return None;
        }
        let n = self.reload as u64;
        let e = self.elapsed(t);
        let next = match self.mode {
            2 | 3 => (e / n + 1) * n,
            0 | 1 if e < n => n,
            4 | 5 if e <= n => n + 1,
            _ => return None,
        };
        Some(self.start + next)
    }

    fn control_word(&mut self, access: u8, mode: u8, bcd: bool) {
        self.access = access;
        self.mode = if mode >= 6 { mode - 4 } else { mode };
        self.bcd = bcd;
        self.loaded = false;
        self.triggered = false;
        self.paused_at = None;
        self.pending_reload = None;
        self.out_idle = self.mode != 0;
        self.write_lsb = None;
        self.read_msb_next = false;
        self.latch = None;
        self.status_latch = None;
        self.null_count = true;
    }

    /// A complete count `v` written at tick `t`.
    fn load(&mut self, v: u16, t: u64) {
        let n = if self.bcd {
            match from_bcd(v) {
                0 => 10000,
                x => x,
            }
        } else if v == 0 {
            0x10000
        } else {
            v as u32
        };
        let was_counting = self.counting() && self.loaded;
        self.loaded = true;
        self.null_count = false;
        match self.mode {
            2 | 3 if was_counting => {
                // The new count takes effect when the current period ends.
                let cur = self.reload as u64;
                let e = self.elapsed(t);
                self.pending_reload = Some((n, self.start + (e / cur + 1) * cur));
            }
            2 | 3 => {
                self.reload = n;
                self.start = t;
                self.triggered = self.gate;
                self.frozen = (n % self.modulus() as u32) as u16;
            }
            1 | 5 => {
                // Waits for a GATE rising edge.
                self.reload = n;
                self.frozen = (n % self.modulus() as u32) as u16;
            }
            _ => {
                self.reload = n;
                self.start = t;
                self.triggered = true;
                self.paused_at = if self.gate { None } else { Some(0) };
            }
        }
    }

    fn set_gate(&mut self, level: bool, t: u64) {
        if level == self.gate {
            return;
        }
        self.settle(t);
        self.gate = level;
        match self.mode {
            0 | 4 => {
                if level {
                    if let Some(e) = self.paused_at.take() {
                        self.start = t.saturating_sub(e);
                    }
                } else if self.counting() {
                    self.paused_at = Some(self.elapsed(t));
                }
            }
            2 | 3 => {
                if level {
                    if self.loaded {
                        self.start = t;
                        self.triggered = true;
                    }
                } else if self.counting() {
                    self.frozen = self.count(t);
                    self.triggered = false;
                    self.pending_reload = None;
                    self.out_idle = true;
                }
            }
            _ => {
                if level && self.loaded {
                    self.start = t;
                    self.triggered = true;
                }
            }
        }
    }

    fn status(&self, t: u64) -> u8 {
        let mut s = (self.access << CW_RW_SHIFT) | (self.mode << CW_MODE_SHIFT);
        if self.bcd {
            s |= CW_BCD;
        }
        if self.out(t) {
            s |= STATUS_OUT;
        }
        if self.null_count {
            s |= STATUS_NULL_COUNT;
        }
        s
    }

    fn latch_count(&mut self, t: u64) {
        if self.latch.is_none() {
            self.latch = Some((self.count(t), self.access == ACCESS_MSB));
        }
    }

    fn read_data(&mut self, t: u64) -> u8 {
        if let Some(s) = self.status_latch.take() {
            return s;
        }
        if let Some((v, msb)) = self.latch {
            let byte = if msb { (v >> 8) as u8 } else { v as u8 };
            self.latch = if self.access == ACCESS_LOHI && !msb { Some((v, true)) } else { None };
            return byte;
        }
        let v = self.count(t);
        match self.access {
            ACCESS_LSB => v as u8,
            ACCESS_MSB => (v >> 8) as u8,
            _ => {
                let msb = self.read_msb_next;
                self.read_msb_next = !msb;
                if msb {
                    (v >> 8) as u8
                } else {
                    v as u8
                }
            }
        }
    }

    fn write_data(&mut self, b: u8, t: u64) {
        match self.access {
            ACCESS_LSB => self.load(b as u16, t),
            ACCESS_MSB => self.load((b as u16) << 8, t),
            _ => match self.write_lsb.take() {
                None => {
                    self.write_lsb = Some(b);
                    if self.mode == 0 {
                        // Writing the first byte stops a mode 0 count.
                        self.frozen = self.count(t);
                        self.loaded = false;
                        self.out_idle = false;
                    }
                }
                Some(lsb) => self.load(lsb as u16 | (b as u16) << 8, t),
            },
        }
    }
}

/// The 8254 plus port 0x61.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pit {
    pub channels: [Channel; 3],
    /// Port 0x61 bits 0-3 as written.
    pub port_b: u8,
    /// Virtual time of the last `advance`.
    pub now: Nanos,
    /// IRQ0 rising edges counted and not yet taken.
    pub irq0_edges: u64,
    pub misses: u64,
}

impl Default for Pit {
    fn default() -> Self {
        Self::new()
    }
}

impl Pit {
    /// The PIT as a PC BIOS leaves it: channel 0 in mode 2 with count 65536 (18.2 Hz),
    /// counting from time 0; channel 2 unprogrammed with its gate low.
    pub fn new() -> Pit {
        let mut ch0 = Channel::new(true);
        ch0.control_word(ACCESS_LOHI, 2, false);
        ch0.load(0, 0);
        let ch1 = Channel::new(true);
        let ch2 = Channel::new(false);
        Pit { channels: [ch0, ch1, ch2], port_b: 0, now: 0, irq0_edges: 0, misses: 0 }
    }

    pub fn reset(&mut self) {
        *self = Pit::new();
    }

    fn tick(&self) -> u64 {
        tick_at(self.now)
    }

    /// IRQ0 rising edges since the last call (see the module docs).
    pub fn take_irq0_edges(&mut self) -> u64 {
        std::mem::take(&mut self.irq0_edges)
    }

    /// OUT of `channel` (0-2) at the last `advance` time.
    pub fn out(&self, channel: usize) -> bool {
        let t = self.tick();
        self.channels.get(channel).is_some_and(|c| {
            let mut c = c.clone();
            c.settle(t);
            c.out(t)
        })
    }

    fn control(&mut self, v: u8) {
        let t = self.tick();
        let sc = v >> CW_SC_SHIFT;
        if sc == CW_SC_READBACK {
            for (i, ch) in self.channels.iter_mut().enumerate() {
                if v & (2 << i) == 0 {
                    continue;
                }
                ch.settle(t);
                if v & RB_NO_COUNT == 0 {
                    ch.latch_count(t);
                }
                if v & RB_NO_STATUS == 0 && ch.status_latch.is_none() {
                    ch.status_latch = Some(ch.status(t));
                }
            }
            return;
        }
        let ch = &mut self.channels[sc as usize];
        ch.settle(t);
        let rw = (v >> CW_RW_SHIFT) & 3;
        if rw == CW_RW_LATCH {
            ch.latch_count(t);
        } else {
            ch.control_word(rw, (v >> CW_MODE_SHIFT) & 7, v & CW_BCD != 0);
        }
    }

    fn read_port_b(&mut self) -> u8 {
        let t = self.tick();
        let mut v = self.port_b & PB_WRITABLE;
        if (t / REFRESH_TICKS) & 1 != 0 {
            v |= PB_REFRESH;
        }
        let ch2 = &mut self.channels[2];
        ch2.settle(t);
        if ch2.out(t) {
            v |= PB_OUT2;
        }
        v
    }

    fn read8(&mut self, port: u16) -> u8 {
        let t = self.tick();
        match port {
            PORT_CH0 | PORT_CH1 | PORT_CH2 => {
                let ch = &mut self.channels[(port - PORT_CH0) as usize];
                ch.settle(t);
                ch.read_data(t)
            }
            // The control word register is write-only (reads float).
            PORT_CONTROL => 0xFF,
            PORT_B => self.read_port_b(),
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        let t = self.tick();
        match port {
            PORT_CH0 | PORT_CH1 | PORT_CH2 => {
                let ch = &mut self.channels[(port - PORT_CH0) as usize];
                ch.settle(t);
                ch.write_data(v, t);
            }
            PORT_CONTROL => self.control(v),
            PORT_B => {
                self.port_b = v & PB_WRITABLE;
                self.channels[2].set_gate(v & PB_GATE2 != 0, t);
            }
            _ => self.misses += 1,
        }
    }
}

impl Timed for Pit {
    fn advance(&mut self, now: Nanos) {
        if now <= self.now {
            return;
        }
        let (from, to) = (tick_at(self.now), tick_at(now));
        self.irq0_edges += self.channels[0].edges_between(from, to);
        for ch in &mut self.channels[1..] {
            ch.settle(to);
        }
        self.now = now;
    }

    fn next_event(&self) -> Option<Nanos> {
        let t = self.tick();
        let mut ch0 = self.channels[0].clone();
        ch0.settle(t);
        ch0.next_edge_tick(t).map(time_of_tick)
    }
}

byte_port_device!(Pit);

#[cfg(test)]
mod tests {
    use super::*;

    /// Pintos' timer_init: channel 0, LSB then MSB, mode 2, 100 Hz.
    fn pintos_timer(p: &mut Pit) -> u32 {
        let count = 11932u32;
        p.write(0x43, 1, 0x34);
        p.write(0x40, 1, count & 0xff);
        p.write(0x40, 1, count >> 8);
        count
    }

    #[test]
    fn test_tick_time_conversion_round_trips() {
        for m in [0u64, 1, 2, 11932, 1_193_182, 123_456_789] {
            assert_eq!(tick_at(time_of_tick(m)), m);
            if m > 0 {
                assert_eq!(tick_at(time_of_tick(m) - 1), m - 1);
            }
        }
    }

    #[test]
    fn test_mode2_irq0_edges_once_per_period() {
        let mut p = Pit::new();
        pintos_timer(&mut p);
        let mut edges = 0;
        let mut prev = 0;
        // Step exactly to each next event for one virtual second.
        while let Some(t) = p.next_event() {
            if t > 1_000_000_000 {
                break;
            }
            assert!(t > prev);
            prev = t;
            p.advance(t);
            assert_eq!(p.take_irq0_edges(), 1);
            edges += 1;
        }
        assert_eq!(edges, 1_193_182 / 11932);
    }

    #[test]
    fn test_late_advance_counts_every_edge() {
        let mut a = Pit::new();
        pintos_timer(&mut a);
        let mut b = a.clone();
        let mut total = 0;
        for i in 1..=1000u64 {
            a.advance(i * 3_333_337);
            total += a.take_irq0_edges();
        }
        b.advance(1000 * 3_333_337);
        assert_eq!(b.take_irq0_edges(), total);
        assert_eq!(total, tick_at(1000 * 3_333_337) / 11932);
    }

    #[test]
    fn test_reload_zero_means_65536() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0x34);
        p.write(0x40, 1, 0);
        p.write(0x40, 1, 0);
        assert_eq!(p.channels[0].reload, 65536);
        assert_eq!(p.next_event(), Some(time_of_tick(65536)));
    }

    #[test]
    fn test_counter_counts_down_with_virtual_time() {
        let mut p = Pit::new();
        pintos_timer(&mut p);
        p.advance(time_of_tick(100));
        p.write(0x43, 1, 0x00); // latch channel 0
        let lo = p.read(0x40, 1);
        let hi = p.read(0x40, 1);
        assert_eq!(lo | hi << 8, 11932 - 100);
    }

    #[test]
    fn test_latch_freezes_value_until_read() {
        let mut p = Pit::new();
        pintos_timer(&mut p);
        p.advance(time_of_tick(10));
        p.write(0x43, 1, 0x00);
        p.advance(time_of_tick(500));
        p.write(0x43, 1, 0x00); // ignored: already latched
        assert_eq!(p.read(0x40, 1) | p.read(0x40, 1) << 8, 11932 - 10);
        // Unlatched reads see the live count.
        assert_eq!(p.read(0x40, 1) | p.read(0x40, 1) << 8, 11932 - 500);
    }

    #[test]
    fn test_lobyte_and_hibyte_access_modes() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0xa0); // channel 2, MSB only, mode 0
        p.write(0x61, 1, 0x01);
        p.write(0x42, 1, 0x12);
        assert_eq!(p.channels[2].reload, 0x1200);
        assert_eq!(p.read(0x42, 1), 0x12);
        p.write(0x43, 1, 0x94); // channel 2, LSB only, mode 2
        p.write(0x42, 1, 0x34);
        assert_eq!(p.channels[2].reload, 0x34);
        assert_eq!(p.read(0x42, 1), 0x34);
    }

    #[test]
    fn test_mode0_interrupt_on_terminal_count() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0x30);
        p.write(0x40, 1, 100);
        assert!(!p.out(0));
        p.write(0x40, 1, 0);
        assert_eq!(p.next_event(), Some(time_of_tick(100)));
        p.advance(time_of_tick(99));
        assert!(!p.out(0));
        p.advance(time_of_tick(100));
        assert!(p.out(0));
        assert_eq!(p.take_irq0_edges(), 1);
        assert_eq!(p.next_event(), None);
        p.advance(time_of_tick(1_000_000));
        assert_eq!(p.take_irq0_edges(), 0);
    }

    #[test]
    fn test_mode4_strobe_pulses_low_once() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0x38);
        p.write(0x40, 1, 50);
        p.write(0x40, 1, 0);
        p.advance(time_of_tick(50));
        assert!(!p.out(0));
        assert_eq!(p.take_irq0_edges(), 0);
        p.advance(time_of_tick(51));
        assert!(p.out(0));
        assert_eq!(p.take_irq0_edges(), 1);
        assert_eq!(p.next_event(), None);
    }

    #[test]
    fn test_mode3_square_wave_duty_cycle() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0x36);
        p.write(0x40, 1, 10);
        p.write(0x40, 1, 0);
        let outs: Vec<bool> = (0..10)
            .map(|i| {
                p.advance(time_of_tick(i));
                p.out(0)
            })
            .collect();
        assert_eq!(outs, [true, true, true, true, true, false, false, false, false, false]);
        p.advance(time_of_tick(25));
        assert_eq!(p.take_irq0_edges(), 2);
    }

    #[test]
    fn test_mode2_new_count_waits_for_period_end() {
        let mut p = Pit::new();
        pintos_timer(&mut p);
        p.advance(time_of_tick(100));
        p.write(0x40, 1, 100);
        p.write(0x40, 1, 0);
        assert_eq!(p.next_event(), Some(time_of_tick(11932)));
        p.advance(time_of_tick(11932));
        assert_eq!(p.take_irq0_edges(), 1);
        assert_eq!(p.next_event(), Some(time_of_tick(11932 + 100)));
    }

    #[test]
    fn test_readback_latches_status_then_count() {
        let mut p = Pit::new();
        pintos_timer(&mut p);
        p.advance(time_of_tick(5));
        p.write(0x43, 1, 0xc2); // read-back count and status of channel 0
        assert_eq!(p.read(0x40, 1), 0x80 | 0x30 | 0x04);
        assert_eq!(p.read(0x40, 1) | p.read(0x40, 1) << 8, 11932 - 5);
    }

    #[test]
    fn test_status_reports_null_count_until_loaded() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0xb0); // channel 2, lohi, mode 0
        p.write(0x43, 1, 0xe8); // read-back status only, channel 2
        assert_eq!(p.read(0x42, 1), 0x40 | 0x30);
    }

    #[test]
    fn test_bcd_counting() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0x31); // mode 0 BCD
        p.write(0x40, 1, 0x00);
        p.write(0x40, 1, 0x10); // 1000 decimal
        assert_eq!(p.channels[0].reload, 1000);
        p.advance(time_of_tick(1));
        p.write(0x43, 1, 0x00);
        assert_eq!(p.read(0x40, 1) | p.read(0x40, 1) << 8, 0x0999);
    }

    #[test]
    fn test_channel2_gate_and_output_on_port_61() {
        let mut p = Pit::new();
        p.write(0x43, 1, 0xb0); // channel 2 mode 0
        p.write(0x42, 1, 0xe8);
        p.write(0x42, 1, 0x03); // 1000
        p.advance(time_of_tick(2000));
        assert_eq!(p.read(0x61, 1) & 0x20, 0, "gate low: no counting");
        p.write(0x61, 1, 0x01);
        p.advance(time_of_tick(2999));
        assert_eq!(p.read(0x61, 1) & 0x20, 0);
        p.advance(time_of_tick(3000));
        assert_eq!(p.read(0x61, 1) & 0x21, 0x21);
    }

    #[test]
    fn test_gate_low_pauses_mode0() {
        let mut p = Pit::new();
        p.write(0x61, 1, 0x01);
        p.write(0x43, 1, 0xb0);
        p.write(0x42, 1, 100);
        p.write(0x42, 1, 0);
        p.advance(time_of_tick(40));
        p.write(0x61, 1, 0x00);
        p.advance(time_of_tick(1000));
        p.write(0x61, 1, 0x01);
        p.advance(time_of_tick(1059));
        assert!(!p.out(2));
        p.advance(time_of_tick(1060));
        assert!(p.out(2));
    }

    #[test]
    fn test_port_61_refresh_bit_toggles() {
        let mut p = Pit::new();
        let a = p.read(0x61, 1) & 0x10;
        p.advance(time_of_tick(REFRESH_TICKS));
        let b = p.read(0x61, 1) & 0x10;
        assert_ne!(a, b);
        p.write(0x61, 1, 0xff);
        assert_eq!(p.read(0x61, 1) & 0xcf, 0x0f);
    }

    #[test]
    fn test_bios_default_runs_at_18_2_hz() {
        let mut p = Pit::new();
        p.advance(1_000_000_000);
        assert_eq!(p.take_irq0_edges(), 1_193_182 / 65536);
    }

    #[test]
    fn test_irq0_edges_drive_pic_once_per_period() {
        use crate::devices::pic::Pic;
        let mut pic = Pic::new();
        for (port, v) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xfe)] {
            pic.write(port, 1, v);
        }
        let mut pit = Pit::new();
        pintos_timer(&mut pit);
        let mut delivered = 0;
        // The machine's loop: run to the next event, advance, raise one edge per tick, let
        // the CPU take the interrupt and EOI it.
        for _ in 0..50 {
            let t = pit.next_event().unwrap();
            pit.advance(t);
            for _ in 0..pit.take_irq0_edges() {
                pic.set_irq(0, true);
                pic.set_irq(0, false);
            }
            while pic.interrupt_pending() {
                assert_eq!(pic.acknowledge(), 0x20);
                pic.write(0x20, 1, 0x20);
                delivered += 1;
            }
        }
        assert_eq!(delivered, 50);
        assert_eq!(pit.now, time_of_tick(50 * 11932));
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut p = Pit::new();
        assert_eq!(p.read(0x44, 1), 0xff);
        p.write(0x45, 1, 0);
        assert_eq!(p.misses, 2);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut p = Pit::new();
        let mut now = 0u64;
        super::super::testutil::hammer(&mut p, &[0x40, 0x41, 0x42, 0x43, 0x61], 0x8254, 30000, |p, rng| {
            now += rng.next() % 5000;
            p.advance(now);
            let _ = p.next_event();
            p.take_irq0_edges();
        });
    }
}
