//! Runs arbitrary bytes as guest code. The first byte picks the mode (real, 32-bit protected,
//! 64-bit at CPL 0/3, compatibility mode) and whether descriptor and page tables get random
//! bytes too; see `emulator::testing::machine_from_bytes`. Any panic is a bug, as is a run
//! that retires more instructions than its budget.

#![no_main]

use emulator::bus::TestBus;
use emulator::testing;
use libfuzzer_sys::fuzz_target;

// Repeats retire one instruction per chunk of up to 4096 elements (see string.rs), so a
// modest budget still covers a lot of work per input.
const BUDGET: u64 = 5_000;

fuzz_target!(|data: &[u8]| {
    let mut cpu = testing::machine_from_bytes(data);
    let mut bus = TestBus::default();
    bus.inputs.insert(0x60, 0x1234_5678);
    cpu.run(&mut bus, BUDGET);
    assert!(cpu.icount <= BUDGET);
});
