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

pub mod ide;
