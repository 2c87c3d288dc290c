//! The CPU's view of everything that is not RAM: I/O ports, MMIO, and the interrupt line.
//!
//! The machine (devices, PIC, timers) implements [`Bus`]; the CPU calls it for `in`/`out`,
//! for physical accesses that fall outside RAM and ROM, and to sample the INTR line. The
//! CPU re-samples [`Bus::interrupt_pending`] when a run starts and after every port access,
//! which are the only points where device state can change during a run.
//!
//! Every access carries `now`, the virtual time of the access in clock ticks
//! ([`crate::cpu::Cpu::now`]: instructions retired plus time skipped while halted), so that
//! time-dependent devices (a PIT counter read) see exactly when the guest looked.

/// Port and MMIO dispatch plus the external interrupt line.
pub trait Bus {
    /// `in` from `port`; `size` is 1, 2 or 4 bytes. Unclaimed ports read as all ones.
    fn port_read(&mut self, now: u64, port: u16, size: u8) -> u32;
    /// `out` to `port`; `size` is 1, 2 or 4 bytes.
    fn port_write(&mut self, now: u64, port: u16, size: u8, value: u32);
    /// A read of `size` bytes (1, 2, 4 or 8) at a physical address that is not RAM.
    fn mmio_read(&mut self, _now: u64, _addr: u64, size: u8) -> u64 {
        ones(size)
    }
    /// A write at a physical address that is not RAM. Unclaimed writes are dropped.
    fn mmio_write(&mut self, _now: u64, _addr: u64, _size: u8, _value: u64) {}
    /// Level of the INTR line (a maskable interrupt is waiting).
    fn interrupt_pending(&mut self) -> bool {
        false
    }
    /// The interrupt-acknowledge cycle: the vector of the interrupt being taken.
    fn acknowledge_interrupt(&mut self) -> u8 {
        0
    }
    /// State of the A20 gate (false wraps physical addresses at 1 MiB).
    fn a20_enabled(&self) -> bool {
        true
    }
    /// Asked after every port and MMIO write: the machine needs control back now (power-off,
    /// reset, a firmware call). The run returns [`crate::cpu::Exit::Stopped`] after the
    /// current instruction.
    fn stop_requested(&mut self) -> bool {
        false
    }
    /// Whether reading `port` again, any number of times before the next device event,
    /// would change no device state and return the value the last read returned. The
    /// CPU then skips polling loops on it ([`crate::cpu::spin`]) with exactly the result
    /// of running them. When unsure, false.
    fn port_read_is_stable(&mut self, _port: u16, _size: u8) -> bool {
        false
    }
    /// Observer hook: the CPU reports faults, interrupts, CR3 loads, system calls and the
    /// other [`CpuEvent`]s here, with the instruction count at which they happened and
    /// guest memory as it is at that instant.
    fn cpu_event(&mut self, _icount: u64, _event: &CpuEvent, _mem: &crate::memory::PhysMemory) {}
}

/// All ones for an access of `size` bytes.
#[inline]
pub fn ones(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size as u32 * 8)) - 1
    }
}

/// A bus with nothing attached, except a record of port writes and an interrupt source
/// that tests can drive.
#[derive(Default, Debug)]
pub struct TestBus {
    /// Every `out`, in order: (port, size, value).
    pub writes: Vec<(u16, u8, u32)>,
    /// Vector to deliver when `irq` is set.
    pub irq: Option<u8>,
    /// A20 gate state (defaults to enabled when `a20_disabled` is false).
    pub a20_disabled: bool,
    /// Values returned by `in`, per port; unset ports read all ones.
    pub inputs: std::collections::BTreeMap<u16, u32>,
    /// Every CPU event reported, in order.
    pub events: Vec<CpuEvent>,
    /// Ports whose reads the bus declares stable ([`Bus::port_read_is_stable`]): the test
    /// changes their `inputs` only between runs, as a device changes only at events.
    pub stable_ports: Vec<u16>,
}

impl Bus for TestBus {
    fn port_read(&mut self, _now: u64, port: u16, size: u8) -> u32 {
        self.inputs.get(&port).copied().unwrap_or(ones(size) as u32)
    }
    fn port_write(&mut self, _now: u64, port: u16, size: u8, value: u32) {
        self.writes.push((port, size, value));
    }
    fn interrupt_pending(&mut self) -> bool {
        self.irq.is_some()
    }
    fn acknowledge_interrupt(&mut self) -> u8 {
        self.irq.take().unwrap_or(0)
    }
    fn a20_enabled(&self) -> bool {
        !self.a20_disabled
    }
    fn cpu_event(&mut self, _icount: u64, event: &CpuEvent, _mem: &crate::memory::PhysMemory) {
        self.events.push(event.clone());
    }
    fn port_read_is_stable(&mut self, port: u16, _size: u8) -> bool {
        self.stable_ports.contains(&port)
    }
}

/// Something the CPU did that an observer (tracer, grader, debugger) may want to see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpuEvent {
    /// An exception is being delivered for the instruction at `rip`, which ran at
    /// privilege `cpl` with `rsp` in address space `cr3`; `address` is CR2 for a page
    /// fault.
    Exception { vector: u8, error_code: Option<u32>, rip: u64, address: u64, cpl: u8, cr3: u64, rsp: u64 },
    /// An external interrupt is being delivered.
    Interrupt { vector: u8, rip: u64 },
    /// CR3 was loaded.
    Cr3Load { value: u64 },
    /// `invlpg` dropped the translation of `address`.
    Invlpg { address: u64 },
    /// `syscall` at `rip` with `number` in RAX, the argument registers (RDI, RSI, RDX,
    /// R10, R8, R9) and the user's `rsp`.
    Syscall { number: u64, rip: u64, args: [u64; 6], rsp: u64 },
    /// `iret` or `sysret` returned to user mode (CPL 3) at `rip` with `rsp` (and `rax`,
    /// a system call's result): the next instruction is a user one.
    UserEntry { rip: u64, rsp: u64, rax: u64 },
    /// `int n` at `rip` with `rax` (Pintos-KAIST's `int 0x42` asks the kernel for the
    /// physical address of the user address in RAX).
    SoftwareInterrupt { vector: u8, rip: u64, rax: u64 },
    /// A single `out` instruction wrote `value` to `port` (reported before the device sees
    /// it; string `outs` is not reported). With `Cr3Load` this tells which address space
    /// (process) issued each device command, such as a disk read.
    PortOut { port: u16, size: u8, value: u32 },
    /// The processor shut down.
    TripleFault,
}
