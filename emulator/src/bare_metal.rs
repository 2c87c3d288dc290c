//! The bare-metal guest (`guests/bare_metal.S`, assembled by `build.rs`) and a runner
//! that boots it the way the tests and `bare-metal-demo` need: real mode at 0000:7C00,
//! with a bus that records what the guest reports on its debug ports.

use crate::bus::{Bus, CpuEvent};
use crate::cpu::segment::{Segment, CS};
use crate::cpu::{Cpu, Exit};
use crate::memory::{MemoryError, PhysMemory};

/// The guest as a flat binary, to be loaded at [`LOAD_ADDR`].
pub const IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bare_metal.bin"));
/// Where the guest is loaded and started (the boot-sector address).
pub const LOAD_ADDR: u64 = 0x7c00;
/// Port receiving one stage marker byte at a time.
pub const STAGE_PORT: u16 = 0xe9;
/// Port receiving 32-bit values for the checker.
pub const VALUE_PORT: u16 = 0xea;
/// The marker the guest sends last.
pub const DONE: u8 = 0xff;

/// Something the guest reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Stage(u8),
    Value(u32),
}

/// A bus that records the guest's reports and the CPU's events.
#[derive(Default, Debug)]
pub struct ReportBus {
    pub reports: Vec<Report>,
    pub events: Vec<(u64, CpuEvent)>,
}

impl Bus for ReportBus {
    fn port_read(&mut self, _now: u64, _port: u16, size: u8) -> u32 {
        crate::bus::ones(size) as u32
    }
    fn port_write(&mut self, _now: u64, port: u16, _size: u8, value: u32) {
        match port {
            STAGE_PORT => self.reports.push(Report::Stage(value as u8)),
            VALUE_PORT => self.reports.push(Report::Value(value)),
            _ => {}
        }
    }
    fn cpu_event(&mut self, icount: u64, event: &CpuEvent, _mem: &crate::memory::PhysMemory) {
        self.events.push((icount, event.clone()));
    }
}

/// The outcome of a run.
pub struct Outcome {
    pub cpu: Cpu,
    pub bus: ReportBus,
    pub exit: Exit,
}

/// A CPU with 2 MiB of memory and the guest loaded, at 0000:7C00 in real mode.
pub fn boot() -> Result<Cpu, MemoryError> {
    let mut mem = PhysMemory::new(2 << 20)?;
    mem.load(LOAD_ADDR, IMAGE)?;
    let mut cpu = Cpu::new(mem);
    let attr = cpu.seg[CS as usize].attr;
    cpu.seg[CS as usize] = Segment::real(0, attr);
    cpu.rip = LOAD_ADDR;
    cpu.update_mode();
    Ok(cpu)
}

/// Boots the guest and runs it for at most `budget` instructions.
pub fn run(budget: u64) -> Result<Outcome, MemoryError> {
    let mut cpu = boot()?;
    let mut bus = ReportBus::default();
    let exit = cpu.run(&mut bus, budget);
    Ok(Outcome { cpu, bus, exit })
}

/// Symbol addresses the checker needs, found by scanning the image for their code (so the
/// checks do not depend on exact instruction sizes): the address following `int3` (0xCC).
pub fn after_int3() -> Option<u64> {
    // `int3` is the only 0xCC byte followed by `mov al, 5` (b0 05).
    IMAGE.windows(3).position(|w| w == [0xcc, 0xb0, 0x05]).map(|i| LOAD_ADDR + i as u64 + 1)
}
