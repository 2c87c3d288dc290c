//! Robustness: random bytes run as guest code in every mode (real, 32-bit protected,
//! 64-bit at CPL 0 and 3, compatibility mode), sometimes over random descriptor and page
//! tables. The run must return (no panic, no hang) within its budget, and running the same
//! input twice must end in the same state.
//!
//! The set-up is `testing::machine_from_bytes`, shared with the `run_bytes` fuzz target
//! (`fuzz/`), which runs the same thing for longer.

use emulator::bus::TestBus;
use emulator::cpu::{Cpu, Exit};
use emulator::testing;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const BUDGET: u64 = 3000;

/// Everything observable after a run, for the determinism check.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    exit: Exit,
    gpr: Vec<u64>,
    rip: u64,
    rflags: u64,
    segs: String,
    cr: [u64; 5],
    icount: u64,
    shutdown: Option<String>,
    mem: Memory,
    writes: Vec<(u16, u8, u32)>,
    events: usize,
    exceptions: Vec<(u8, u64)>,
}

/// Guest memory after a run (compared in full, printed as a summary).
#[derive(PartialEq, Eq)]
struct Memory(Vec<u8>);

impl std::fmt::Debug for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sum = self.0.iter().enumerate().fold(0u64, |h, (i, &b)| h.wrapping_mul(31).wrapping_add(b as u64 ^ i as u64));
        write!(f, "<{} bytes, checksum {sum:#x}>", self.0.len())
    }
}

fn run(data: &[u8], budget: u64) -> Outcome {
    let mut cpu: Cpu = testing::machine_from_bytes(data);
    let mut bus = TestBus::default();
    // A port that reads something other than all ones, for `in`/`ins`.
    bus.inputs.insert(0x60, 0x1234_5678);
    let exit = cpu.run(&mut bus, budget);
    assert!(cpu.icount <= budget, "ran {} instructions on a budget of {budget}", cpu.icount);
    if exit == Exit::TripleFault {
        assert!(cpu.shutdown.is_some());
    }
    Outcome {
        exit,
        gpr: cpu.gpr[..16].to_vec(),
        rip: cpu.rip,
        rflags: cpu.flags.get(),
        segs: format!("{:?}", cpu.seg),
        cr: [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4, cpu.efer],
        icount: cpu.icount,
        shutdown: cpu.shutdown.clone(),
        mem: Memory(cpu.mem.as_slice().to_vec()),
        writes: bus.writes,
        events: bus.events.len(),
        exceptions: cpu.stats.exceptions.iter().map(|(&v, &n)| (v, n)).collect(),
    }
}

fn check(data: &[u8]) {
    check_with(data, BUDGET)
}

fn check_with(data: &[u8], budget: u64) {
    let a = run(data, budget);
    if std::env::var("RC_STATS").is_ok() {
        eprintln!("STAT mode={} exit={:?} icount={} exc={:?}", data.first().map_or(0, |m| m & 7), a.exit, a.icount, a.exceptions);
    }
    let b = run(data, budget);
    assert_eq!(a, b, "the same input ended in different states");
}

/// A runner with a fixed seed. `RANDOM_CODE_CASES` and `RANDOM_CODE_SEED` override the
/// case count and the seed for longer local runs (the fuzz target goes further).
fn runner(cases: u32, seed: u8) -> TestRunner {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    let cases = env("RANDOM_CODE_CASES").unwrap_or(cases);
    let seed = env("RANDOM_CODE_SEED").map_or(seed, |s| s as u8);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]))
}

/// Inputs for one mode selector: the selector byte, register seeds, then the code.
fn inputs(modes: std::ops::Range<u8>) -> impl Strategy<Value = Vec<u8>> {
    (modes, 0u8..8, proptest::collection::vec(any::<u8>(), 64..1600)).prop_map(|(mode, extra, mut v)| {
        v.insert(0, mode | extra << 3);
        v
    })
}

#[test]
fn random_code_in_every_mode() {
    let mut r = runner(300, 1);
    r.run(&inputs(0..8), |data| {
        check(&data);
        Ok(())
    })
    .unwrap();
}

/// Random code made mostly of instructions that touch memory through the registers
/// (string instructions, push/pop, mov through pointers), which the uniform bytes above
/// reach less often.
#[test]
fn random_memory_heavy_code() {
    const PIECES: &[&[u8]] = &[
        &[0xf3, 0xa4], &[0xf3, 0x48, 0xa5], &[0xf3, 0xaa], &[0xf3, 0x48, 0xab], &[0xfd], &[0xfc],
        &[0xf3, 0xa6], &[0xf2, 0xae], &[0xac], &[0x67, 0xf3, 0xa4], &[0xf3, 0x6c], &[0xf3, 0x6e],
        &[0x48, 0x89, 0x07], &[0x48, 0x8b, 0x06], &[0x50], &[0x5b], &[0x48, 0xff, 0xc9],
        &[0x48, 0x01, 0xce], &[0x64, 0xa4], &[0x66, 0xba, 0x60, 0x00], &[0xf3, 0x66, 0x6d],
    ];
    let strat = (0u8..8, 0u8..8, proptest::collection::vec(any::<u8>(), 64), proptest::collection::vec(0..PIECES.len(), 1..200)).prop_map(|(mode, extra, seeds, picks)| {
        let mut v = vec![mode | extra << 3];
        v.extend(seeds);
        for p in picks {
            v.extend_from_slice(PIECES[p]);
        }
        v
    });
    // Repeats with huge random counts move up to 16 KiB per retired chunk: a small budget
    // keeps this test fast.
    let mut r = runner(200, 2);
    r.run(&strat, |data| {
        check_with(&data, 300);
        Ok(())
    })
    .unwrap();
}

#[test]
fn degenerate_inputs() {
    check(&[]);
    check(&[3]);
    for mode in 0..32u8 {
        check(&[mode; 100]);
        check(&[&[mode][..], &[0u8; 64], &[0xff; 64]].concat());
    }
}

#[test]
fn regressions() {
    // Found by `random_memory_heavy_code`: rep stosb at RDI = 0 going up in 64-bit mode
    // (RCX = FUZZ_CODE from the seeds): the count of elements before the address wraps at
    // 2^64 overflowed in the string fast path.
    check(&[&[2u8, 0, 0, 0, 0, 0, 0, 0, 64][..], &[0u8; 56], &[0xf3, 0xaa]].concat());
}
