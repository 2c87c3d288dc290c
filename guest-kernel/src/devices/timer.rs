//! The 8254 PIT, channel 0, interrupting TIMER_FREQ times a second on IRQ 0; each tick
//! drives the scheduler (`thread_tick`: time slices, sleepers, MLFQS).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::io::outb;
use crate::threads::interrupt::{self, IntrFrame};
use crate::threads::thread;

/// Timer interrupts per second.
pub const TIMER_FREQ: u64 = 100;
/// The PIT's input clock, in Hz.
const PIT_HZ: u64 = 1_193_180;

/// Timer ticks since boot.
static TICKS: AtomicU64 = AtomicU64::new(0);
/// Busy-wait iterations per tick, measured by `calibrate`.
static LOOPS_PER_TICK: AtomicU64 = AtomicU64::new(0);

/// Programs the PIT and registers the tick handler.
pub fn init() {
    // Round to the nearest divisor.
    let count = (PIT_HZ + TIMER_FREQ / 2) / TIMER_FREQ;
    // Channel 0, low byte then high byte, mode 2 (rate generator), binary.
    outb(0x43, 0x34);
    outb(0x40, count as u8);
    outb(0x40, (count >> 8) as u8);
    interrupt::register_ext(0x20, timer_interrupt, "8254 Timer");
}

pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Timer ticks since boot (`timer_ticks`).
pub fn timer_ticks() -> i64 {
    ticks() as i64
}

/// Ticks elapsed since `then` (a `timer_ticks` value).
pub fn timer_elapsed(then: i64) -> i64 {
    timer_ticks() - then
}

/// Sleeps for `ticks` timer ticks (nothing if `ticks` <= 0). The thread blocks on the
/// scheduler's sleeping list and the tick handler wakes it: no busy waiting.
pub fn timer_sleep(ticks: i64) {
    if ticks <= 0 {
        return;
    }
    assert!(crate::arch::cpu::interrupts_enabled(), "timer_sleep with interrupts off");
    crate::arch::cpu::without_interrupts(|| thread::thread_sleep_until(timer_ticks() + ticks));
}

/// Sleeps for about `ms` milliseconds.
pub fn timer_msleep(ms: i64) {
    real_time_sleep(ms, 1000);
}

/// Sleeps for about `us` microseconds.
pub fn timer_usleep(us: i64) {
    real_time_sleep(us, 1000 * 1000);
}

/// Sleeps for about `ns` nanoseconds.
pub fn timer_nsleep(ns: i64) {
    real_time_sleep(ns, 1000 * 1000 * 1000);
}

/// Sleeps for `num / denom` seconds: whole ticks by blocking, anything shorter by
/// spinning on the calibrated loop (a sub-tick sleep would otherwise last a whole tick).
fn real_time_sleep(num: i64, denom: i64) {
    let ticks = num * TIMER_FREQ as i64 / denom;
    assert!(crate::arch::cpu::interrupts_enabled(), "real_time_sleep with interrupts off");
    if ticks > 0 {
        timer_sleep(ticks);
    } else {
        // Scaled down by 1000 first so the product cannot overflow.
        assert!(denom % 1000 == 0);
        let loops = LOOPS_PER_TICK.load(Ordering::Relaxed) as i64 * num / 1000 * TIMER_FREQ as i64 / (denom / 1000);
        busy_wait(loops.max(0) as u64);
    }
}

fn timer_interrupt(_frame: &mut IntrFrame) {
    let now = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
    if THREADS_STARTED.load(Ordering::Relaxed) {
        thread::thread_tick(now as i64);
    }
}

/// Set once the scheduler exists, so ticks reach it.
pub static THREADS_STARTED: AtomicBool = AtomicBool::new(false);

/// Measures how many busy-wait loops fit in a tick (for sub-tick delays), as Pintos
/// does: the largest power of two that fits, then 8 more bits. Needs interrupts on.
pub fn calibrate() {
    assert!(crate::arch::cpu::interrupts_enabled());
    print!("Calibrating timer...  ");
    let mut loops: u64 = 1 << 10;
    while !too_many_loops(loops << 1) {
        loops <<= 1;
        assert!(loops != 0, "timer never ticks");
    }
    let high = loops;
    let mut bit = high >> 1;
    while bit != high >> 10 {
        if !too_many_loops(high | bit) {
            loops |= bit;
        }
        bit >>= 1;
    }
    LOOPS_PER_TICK.store(loops, Ordering::Relaxed);
    println!("{} loops/s.", crate::threads::init::thousands(loops * TIMER_FREQ));
}

/// True if `loops` iterations take more than one tick.
fn too_many_loops(loops: u64) -> bool {
    // Start at a tick boundary. Halting instead of spinning costs no instructions, which
    // the emulator's virtual clock counts.
    let start = ticks();
    while ticks() == start {
        crate::arch::cpu::wait_for_interrupt();
    }
    let start = ticks();
    busy_wait(loops);
    start != ticks()
}

/// Spins `loops` times.
#[inline(never)]
fn busy_wait(loops: u64) {
    crate::arch::cpu::countdown(loops);
}

/// The tick counter itself (for `arch::selftest`, which polls it from assembly).
pub fn ticks_counter() -> &'static AtomicU64 {
    &TICKS
}
