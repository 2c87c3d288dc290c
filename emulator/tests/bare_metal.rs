//! Runs the bare-metal guest (real -> protected -> long mode, int3 and #PF handled with
//! iretq) and checks what it reported, and that two runs are identical.

use emulator::bare_metal::{self, Report::*};
use emulator::cpu::Exit;

const BUDGET: u64 = 100_000;

#[test]
fn guest_reports_every_stage() {
    let out = bare_metal::run(BUDGET).unwrap();
    assert_eq!(out.exit, Exit::HaltedForever, "reports so far: {:?}\n{}", out.bus.reports, out.cpu.dump());
    let after_int3 = bare_metal::after_int3().expect("int3 in the image") as u32;
    assert_eq!(
        out.bus.reports,
        vec![
            Stage(1),
            Stage(2),
            Stage(3),
            Stage(4),
            Value(after_int3),
            Stage(5),
            Stage(6),
            Value(0x50000),
            Value(0x2), // not present, write, supervisor
            Stage(7),
            Value(0xcafe),
            Stage(0xff),
        ]
    );
    assert!(out.cpu.is_64bit());
    assert_eq!(out.cpu.cr2, 0x50000);
    assert!(out.cpu.stats.unimplemented.is_empty(), "{:?}", out.cpu.stats.unimplemented);
}

#[test]
fn guest_runs_deterministically() {
    let a = bare_metal::run(BUDGET).unwrap();
    let b = bare_metal::run(BUDGET).unwrap();
    assert_eq!(a.bus.reports, b.bus.reports);
    assert_eq!(a.bus.events, b.bus.events);
    assert_eq!(a.cpu.icount, b.cpu.icount);
    assert_eq!(a.cpu.gpr, b.cpu.gpr);
}
