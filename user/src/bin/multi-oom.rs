//! Pintos `multi-oom` (tests/userprog/no-vm): forks a chain of processes until fork
//! fails; the last one exits with its depth and every process above it passes that
//! status up. Each process in the chain first opens the same file as often as it can
//! (leaving the descriptors open); from depth 6 on, each also forks a child that does the
//! same and then dies in one of five bad ways (writing or reading address 0 or the
//! kernel, or passing a kernel pointer to open) and must be reported as -1. The chain is
//! run eleven times: the depth may never fall below the first run's, so the kernel has
//! to give back everything dead processes held, and fail fork and open cleanly when
//! memory runs out.
//!
//! This is the variant Pintos-KAIST builds for the dup2 extra (`EXTRA2`): while opening,
//! a process also randomly dup2()s descriptors to numbers 126 above. The random numbers
//! are Pintos' `random_ulong` (ARC4 keyed with the 4-byte seed, `random_init(0)` on
//! first use), reseeded with the loop level as the original does.
//! Expected output: tests/expected/userprog/no-vm/multi-oom.exp.
#![no_std]
#![no_main]

use user::arc4::Arc4;
use user::syscall::{dup2, exit, fork, open, raw, wait};
use user::{check, fail, msg, Args};

user::main!(main);

/// Depth every run must reach.
const EXPECTED_DEPTH_TO_PASS: i32 = 10;
/// Runs after the first.
const EXPECTED_REPETITIONS: i32 = 10;
/// Descriptors each process tries to open.
const FDMAX: i32 = 126;
/// Pintos-KAIST's KERN_BASE: user access there faults.
const KERN_BASE: u64 = 0x80_0400_0000;

/// Pintos' `lib/random.c`: an ARC4 keystream keyed with the seed's bytes.
struct Random {
    arc4: Option<Arc4>,
}

impl Random {
    fn init(&mut self, seed: u32) {
        self.arc4 = Some(Arc4::new(&seed.to_le_bytes()));
    }

    fn ulong(&mut self) -> u64 {
        let arc4 = self.arc4.get_or_insert_with(|| Arc4::new(&0u32.to_le_bytes()));
        let mut v = 0u64;
        for k in 0..8 {
            v |= (arc4.next_byte() as u64) << (8 * k);
        }
        v
    }
}

/// Opens the test's own executable as often as it can, up to FDMAX times, sometimes
/// dup2()ing a lower descriptor number 126 up first; stops at the first failure (the
/// kernel may refuse when it is short of memory, which must not kill the process).
fn consume_some_resources(rng: &mut Random) {
    for fd in 0..FDMAX {
        if fd != 0 && rng.ulong() & 1 != 0 {
            let old = (rng.ulong() % fd as u64) as i32;
            if dup2(old, fd + FDMAX) == -1 || open(c"multi-oom") == -1 {
                break;
            }
        }
    }
}

/// Consumes resources, then dies in a way chosen at random.
#[inline(never)]
fn consume_some_resources_and_die(rng: &mut Random) -> i32 {
    consume_some_resources(rng);
    let null = core::ptr::null_mut::<i32>();
    let kern = KERN_BASE as *mut i32;
    // SAFETY: none; each access is meant to fault and end the process.
    unsafe {
        match rng.ulong() % 5 {
            0 => core::ptr::write_volatile(null, 42),
            1 => return core::ptr::read_volatile(null),
            2 => return core::ptr::read_volatile(kern),
            3 => core::ptr::write_volatile(kern, 42),
            _ => {
                raw::syscall1(user::syscall::nr::OPEN, KERN_BASE);
                exit(-1);
            }
        }
    }
    0
}

/// `child_N_S`, NUL-terminated, in `buf`.
fn child_name(buf: &mut [u8; 32], level: i32, suffix: u8) -> &core::ffi::CStr {
    user::fmt::snprintf(buf, "child_{}_{}", &[&level, &(suffix as char)])
}

/// One run of the chain; returns the depth reached (in the first process; the others
/// exit with it).
fn make_children(rng: &mut Random) -> i32 {
    let mut i = 0;
    let mut name = [0u8; 32];
    let pid = loop {
        if i > EXPECTED_DEPTH_TO_PASS / 2 {
            let pid = fork(child_name(&mut name, i, b'X'));
            if pid > 0 && wait(pid) != -1 {
                fail!("crashed child should return -1.");
            } else if pid == 0 {
                consume_some_resources_and_die(rng);
                fail!("Unreachable");
            }
        }
        let pid = fork(child_name(&mut name, i, b'O'));
        if pid < 0 {
            exit(i);
        } else if pid == 0 {
            consume_some_resources(rng);
        } else {
            break pid;
        }
        rng.init(i as u32);
        i += 1;
    };
    let depth = wait(pid);
    if depth < 0 {
        fail!("Should return > 0.");
    }
    if i == 0 {
        depth
    } else {
        exit(depth)
    }
}

fn main(_args: Args) -> i32 {
    let mut rng = Random { arc4: None };
    msg!("begin");
    let first_run_depth = make_children(&mut rng);
    check!(first_run_depth >= EXPECTED_DEPTH_TO_PASS, "Spawned at least {} children.", EXPECTED_DEPTH_TO_PASS);
    for _ in 0..EXPECTED_REPETITIONS {
        let current_run_depth = make_children(&mut rng);
        if current_run_depth < first_run_depth {
            fail!("should have forked at least {} times, but {} times forked", first_run_depth, current_run_depth);
        }
    }
    msg!("success. Program forked {} iterations.", EXPECTED_REPETITIONS);
    msg!("end");
    0
}
