//! Checks that interrupts leave the red zone alone: fills the 128 bytes below RSP, spins
//! with interrupts on through several timer ticks, and checks the bytes are unchanged.
//! (Kernel code never uses the red zone, but the precompiled `core` may; see
//! `arch::intr` for the design this checks.)

use crate::arch::selftest::red_zone_survives;
use crate::devices::timer;

pub fn test_redzone() {
    let before = timer::ticks();
    let intact = red_zone_survives(5);
    let ticks = timer::ticks() - before;
    assert!(ticks >= 5, "only {ticks} timer ticks while spinning");
    assert!(intact, "an interrupt overwrote the red zone");
    msg!("128 bytes below RSP intact across {ticks} timer interrupts");
}
