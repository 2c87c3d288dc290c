//! PC devices, each a register state machine behind [`PortDevice`].
//!
//! Conventions every device follows (so the machine can snapshot, replay and test them):
//! * The device's whole state is a plain `Clone + PartialEq + Debug` struct: no host file
//!   handles, no clocks, no threads inside it. Host-facing parts (disk image files, the
//!   console) live outside and are passed in or drained by the machine.
//! * Time is virtual: devices that depend on time are told the current virtual time in
//!   nanoseconds ([`Nanos`]) and report when they next need attention
//!   ([`Timed::next_event`]). Nothing reads the host clock.
//! * Interrupt outputs are levels the machine samples after every access and every event
//!   (`irq()` methods), and forwards to the PIC.
//! * A guest access the device does not understand (unknown register, wrong size) is
//!   counted in the device's `misses` and answered like hardware would (reads return all
//!   ones); it is never a panic.
//! * 8-bit devices answer a 16- or 32-bit port access as the ISA bus does: split into byte
//!   accesses at consecutive ports, least significant first ([`read_split`],
//!   [`write_split`]). Real 16-bit registers (ACPI PM1a control at 0x604) take the word.
//!
//! # Wiring (what the machine does with each device)
//! | device | ports / memory | interrupt | the machine calls |
//! |---|---|---|---|
//! | [`pic::Pic`] | 0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1 | INTR | `set_irq(line, level)` with every device level; `interrupt_pending()`, `acknowledge()` for the CPU |
//! | [`pit::Pit`] | 0x40-0x43, 0x61 | IRQ0 edges | `advance(now)` before each access and at `next_event()`; per edge from `take_irq0_edges()`: `set_irq(0, true)` then `set_irq(0, false)` |
//! | [`uart::Uart`] | 0x3F8-0x3FF (COM1), 0x2F8-0x2FF (COM2) | `irq()` → IRQ4 / IRQ3 | `take_output()`, `push_input(bytes)` |
//! | [`cmos::Cmos`] | 0x70-0x71 | `irq()` → IRQ8 | `advance(now)` before each access and at `next_event()` |
//! | [`kbc::Kbc`] | 0x60, 0x64, 0x92 | `irq1()`, `irq12()` | `a20_enabled()`, `take_reset_request()` |
//! | [`vga::Vga`] | 0x3B4-0x3B5, 0x3BA, 0x3C0-0x3CF, 0x3D4-0x3D5, 0x3DA; MMIO 0xA0000-0xBFFFF | — | `mmio_read`, `mmio_write`, `screen_text()` |
//! | [`power::Power`] | 0x604-0x605, 0x8900, 0x501, 0xCF9, 0x80, 0xE9 | — | `take_request()`, `take_debug_output()` |
//!
//! After every port access and every `advance`, sample the `irq` levels and pass them to
//! [`pic::Pic::set_irq`] (the PIC detects the edges).

/// Virtual time in nanoseconds since power-on.
pub type Nanos = u64;

/// A device reached through I/O ports. `port` is the absolute port number; `size` is 1, 2
/// or 4 bytes.
pub trait PortDevice {
    fn read(&mut self, port: u16, size: u8) -> u32;
    fn write(&mut self, port: u16, size: u8, value: u32);
}

/// A device whose state changes with the passage of virtual time.
pub trait Timed {
    /// Brings the device up to virtual time `now` (never earlier than the last call).
    fn advance(&mut self, now: Nanos);
    /// The next virtual time at which the device's outputs change on their own, if any.
    fn next_event(&self) -> Option<Nanos>;
}


/// Number of bytes a port access of `size` touches: 1, 2 or 4 as given; any other value
/// (a bug in the caller) is clamped into 1..=4 rather than trusted.
#[inline]
pub fn access_bytes(size: u8) -> u32 {
    match size {
        0 | 1 => 1,
        2 | 3 => 2,
        _ => 4,
    }
}

/// A multi-byte `in` from an 8-bit ISA device: the bus splits it into byte reads at
/// consecutive ports, least significant byte first (a 16-bit `in` from port p reads p then
/// p + 1). Every 8-bit device here answers wide accesses this way.
pub fn read_split(port: u16, size: u8, mut read8: impl FnMut(u16) -> u8) -> u32 {
    let mut value = 0u32;
    for i in 0..access_bytes(size) {
        value |= (read8(port.wrapping_add(i as u16)) as u32) << (8 * i);
    }
    value
}

/// Implements [`PortDevice`] for an 8-bit ISA device that has inherent
/// `read8(&mut self, port) -> u8` and `write8(&mut self, port, value)`: wide accesses are
/// split into byte accesses at consecutive ports ([`read_split`], [`write_split`]).
macro_rules! byte_port_device {
    ($t:ty) => {
        impl $crate::devices::PortDevice for $t {
            fn read(&mut self, port: u16, size: u8) -> u32 {
                $crate::devices::read_split(port, size, |p| self.read8(p))
            }
            fn write(&mut self, port: u16, size: u8, value: u32) {
                $crate::devices::write_split(port, size, value, |p, v| self.write8(p, v))
            }
        }
    };
}

// After the macro, so the device modules can use it.
/// The deterministic generator behind `--jitter` (SplitMix64): device state like any
/// other, so the same seed gives the same run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter { state: seed }
    }

    /// The next value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        if n == 0 {
            0
        } else {
            z % n
        }
    }
}

pub mod cmos;
pub mod ide;
pub mod kbc;
pub mod pic;
pub mod pit;
pub mod power;
pub mod uart;
pub mod vga;

/// A multi-byte `out` to an 8-bit ISA device, split like [`read_split`].
pub fn write_split(port: u16, size: u8, value: u32, mut write8: impl FnMut(u16, u8)) {
    for i in 0..access_bytes(size) {
        write8(port.wrapping_add(i as u16), (value >> (8 * i)) as u8);
    }
}

/// Test support shared by the device modules.
#[cfg(test)]
pub(crate) mod testutil {
    use super::PortDevice;

    /// A fixed-seed xorshift generator: the same sequence on every run and host.
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    /// Hammers `dev` with `n` pseudo-random reads and writes of every size (including the
    /// invalid sizes 0, 3 and 8) at `ports` and at random ports; the caller's test passes if
    /// nothing panics. `between` runs after every access (to advance time, ack interrupts).
    pub fn hammer<D: PortDevice>(
        dev: &mut D,
        ports: &[u16],
        seed: u64,
        n: usize,
        mut between: impl FnMut(&mut D, &mut Rng),
    ) {
        let mut rng = Rng(seed | 1);
        const SIZES: [u8; 6] = [1, 2, 4, 0, 3, 8];
        for _ in 0..n {
            let r = rng.next();
            let port = if r.is_multiple_of(8) { (r >> 8) as u16 } else { ports[(r >> 3) as usize % ports.len()] };
            let size = SIZES[((r >> 24) % 16) as usize % SIZES.len()];
            let size = if (r >> 30).is_multiple_of(4) { size } else { 1 };
            if (r >> 32) & 1 == 0 {
                let _ = dev.read(port, size);
            } else {
                dev.write(port, size, (r >> 33) as u32);
            }
            between(dev, &mut rng);
        }
    }
}
