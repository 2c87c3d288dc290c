//! Leak checks: after processes exit, the kernel's free pages (both pools) and its heap
//! use (bytes and blocks) are exactly what they were before the first user program ran.
//! The kernel prints both figures before the first program (`Palloc before user
//! programs: ...`, `Heap before user programs: ...`) and at power-off (`Palloc: ...`,
//! `Heap: ...`, taken once the actions are done). `leak-loop` (user/src/bin) forks,
//! execs (also failing: a missing program, arguments too big for the stack, a command
//! line too long to read), opens and dup2()s files it never closes, dies on a bad
//! pointer, and leaves orphans, many times over; `fk-bomb` runs the kernel out of memory
//! with many forks in flight.
//!
//! Mutation check: a kernel that leaked one kernel page per fork (a `palloc::get_page`
//! in `fork_child` never freed) made `leak_loop_gives_back_every_page_and_heap_block`
//! fail with the free kernel pages 83 short after 10 rounds (8 forks a round and 3
//! more), and one that leaked an 8-byte box per fork with the heap 664 bytes in 83
//! blocks over.

mod common;

use common::{pintos_console, prog};

/// The figures of the line starting with `prefix`: every number in it.
fn figures(console: &str, prefix: &str) -> Vec<u64> {
    let line = console.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` line:\n{console}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect()
}

/// (free kernel pages, free user pages, heap bytes, heap blocks, frames in use, free swap
/// slots, swap slots) before the first program and at power-off.
fn before_and_after(console: &str) -> (Vec<u64>, Vec<u64>) {
    let mut before = figures(console, "Palloc before user programs: ");
    before.extend(figures(console, "Heap before user programs: "));
    before.extend(figures(console, "Frames before user programs: "));
    let mut after = figures(console, "Palloc: ");
    after.extend(figures(console, "Heap: "));
    after.extend(figures(console, "Frames: "));
    assert_eq!(before.len(), 7, "{console}");
    assert_eq!(after.len(), 7, "{console}");
    (before, after)
}

#[test]
fn leak_loop_gives_back_every_page_and_heap_block() {
    let console = pintos_console(&[prog("leak-loop")], &["run", "leak-loop 10"]);
    assert!(console.contains("(leak-loop) 10 rounds\nleak-loop: exit(0)\n"), "{console}");
    // Each round's failing execs said why, and the killed ones exited -1.
    assert_eq!(console.matches("load: no-such-program: open failed\n").count(), 10, "{console}");
    assert_eq!(console.matches("load: leak-loop: arguments too long\n").count(), 10, "{console}");
    assert_eq!(console.matches("huge-cmd: exit(-1)\n").count(), 10, "{console}");
    assert_eq!(console.matches("crasher: exit(-1)\n").count(), 10, "{console}");
    assert_eq!(console.matches("orphan: exit(9)\n").count(), 10, "{console}");
    let (before, after) = before_and_after(&console);
    assert_eq!(before, after, "memory before the first process vs at power-off\n{console}");
}

/// Two runs in one boot: the second ends where the first began.
#[test]
fn two_runs_give_back_everything() {
    let console = pintos_console(&[prog("leak-loop"), prog("fk-deep")], &["run", "leak-loop 3", "run", "fk-deep"]);
    assert!(console.contains("(fk-deep) fork failed at depth "), "{console}");
    let (before, after) = before_and_after(&console);
    assert_eq!(before, after, "{console}");
}

/// A tree of processes that fork two children each before waiting, every one holding
/// as many open files as it can get: forks are in flight together when the kernel pool
/// reaches its reserve. Forks and opens fail cleanly (the run ends normally, without a
/// panic), fewer than all 511 processes run, and everything comes back. (How many run
/// depends on how many forks wait at once, each holding its claim on the kernel pool:
/// children copying copy-on-write wait for the VM lock, so about 46 run.)
#[test]
fn fork_bomb_runs_out_of_memory_cleanly_and_gives_everything_back() {
    let console = pintos_console(&[prog("fk-bomb")], &["run", "fk-bomb 8"]);
    let ran: u32 = console.split("(fk-bomb) ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{console}"));
    assert!(ran > 30 && ran < 511, "{ran} processes ran\n{console}");
    assert!(console.contains("fk-bomb: exit(0)\nExecution of 'fk-bomb 8' complete.\n"), "{console}");
    let (before, after) = before_and_after(&console);
    assert_eq!(before, after, "{console}");
}
