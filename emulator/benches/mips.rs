//! Guest MIPS (millions of guest instructions retired per host second) on three CPU-bound
//! workloads in 64-bit long mode with paging on:
//!
//! * `arith`  — an integer arithmetic and branch loop;
//! * `memory` — loads and stores over 8 MiB through the page tables;
//! * `calls`  — recursive function calls (naive Fibonacci).
//!
//! Run with `cargo bench -p emulator --bench mips`. Each workload runs a few times and the
//! best run is reported, since the machine may be shared.
//!
//! # Where the time goes
//!
//! Wall-clock MIPS are noisy on a shared machine; the stable figure is host instructions
//! per guest instruction under callgrind: `MIPS_QUICK=1 valgrind --tool=callgrind <bench
//! binary> NAME`, minus the Ir of a run with the argument `none` (start-up: assembling the
//! workloads), divided by the guest instructions retired. Note that the `none` run does not
//! include the one-time costs of a real run (iced's decoder tables, about 2.9 M Ir, building
//! the CPU, decoding the blocks), which matters for the short `calls` run (0.46 M guest
//! instructions): about 7 of its host instructions per guest instruction are such fixed cost.
//!
//! | workload | before | after | change |
//! |----------|-------:|------:|-------:|
//! | arith    |   50.9 |  40.3 |   -21% |
//! | memory   |   64.6 |  55.5 |   -14% |
//! | calls    |   99.7 |  82.0 |   -18% |
//!
//! What remains, per guest instruction (arith, after): the op loop costs about 17 host
//! instructions (compute NEXT_RIP, the indirect call, the result test, RIP and icount
//! updates, the `end_block` test); each block adds about 35 (the between-block test, the
//! jump-cache lookup by RIP, loop setup), spread over ~5.5 ops; a register ALU handler is
//! 10-15, a memory operand adds about 35 more (effective address, segment and canonical
//! checks, TLB tag compare). Changes that got here: a jump cache keyed by RIP and validated
//! by a generation counter (TLB fills/flushes, code invalidation, mode and segment changes)
//! instead of translate + hash per block; blocks referenced by pointer with deferred freeing
//! instead of an `Rc` clone per block; rare between-block conditions folded into one test
//! and `stop`/`shutdown` checked only when a block ends early; the lazy-flag kind and width
//! packed into one store, logical ops storing only the result, inc/dec not storing the
//! constant operand, and cmp-based `jbe`/`jl`/`jle` evaluated as direct comparisons.

use std::time::Instant;

use emulator::bus::TestBus;
use emulator::cpu::{reg, Cpu, Exit};
use emulator::testing;
use iced_x86::code_asm::*;

const CODE: u64 = 0x10_0000;
const DATA: u64 = 0x40_0000;

fn assemble(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    f(&mut a).unwrap();
    a.assemble(CODE).unwrap()
}

fn arith() -> Vec<u8> {
    assemble(|a| {
        let mut top = a.create_label();
        let mut skip = a.create_label();
        a.mov(rcx, 20_000_000u64 / scale())?;
        a.xor(eax, eax)?;
        a.xor(ebx, ebx)?;
        a.xor(esi, esi)?;
        a.set_label(&mut top)?;
        a.add(rax, rcx)?;
        a.mov(rdx, rax)?;
        a.xor(rdx, rbx)?;
        a.sub(rbx, 3)?;
        a.and(edx, 0xff)?;
        a.lea(rdi, qword_ptr(rax + rdx * 2 + 5))?;
        a.cmp(edx, 7)?;
        a.jne(skip)?;
        a.inc(rsi)?;
        a.set_label(&mut skip)?;
        a.or(rdi, rsi)?;
        a.dec(rcx)?;
        a.jnz(top)?;
        a.hlt()?;
        Ok(())
    })
}

fn memory() -> Vec<u8> {
    assemble(|a| {
        let mut outer = a.create_label();
        let mut inner = a.create_label();
        a.mov(rbx, 12u64 / scale().min(12))?;
        a.set_label(&mut outer)?;
        a.mov(rsi, DATA)?;
        a.mov(rcx, (8u64 << 20) / 8)?;
        a.set_label(&mut inner)?;
        a.mov(rax, qword_ptr(rsi))?;
        a.add(rax, rcx)?;
        a.mov(qword_ptr(rsi), rax)?;
        a.add(rsi, 8)?;
        a.dec(rcx)?;
        a.jnz(inner)?;
        a.dec(rbx)?;
        a.jnz(outer)?;
        a.hlt()?;
        Ok(())
    })
}

fn calls() -> Vec<u8> {
    assemble(|a| {
        let mut fib = a.create_label();
        let mut base = a.create_label();
        let mut done = a.create_label();
        a.mov(edi, if scale() > 1 { 22u32 } else { 30u32 })?;
        a.call(fib)?;
        a.jmp(done)?;
        a.set_label(&mut fib)?;
        a.cmp(rdi, 2)?;
        a.jb(base)?;
        a.push(rdi)?;
        a.dec(rdi)?;
        a.call(fib)?;
        a.pop(rdi)?;
        a.push(rax)?;
        a.sub(rdi, 2)?;
        a.call(fib)?;
        a.pop(rdx)?;
        a.add(rax, rdx)?;
        a.ret()?;
        a.set_label(&mut base)?;
        a.mov(rax, rdi)?;
        a.ret()?;
        a.set_label(&mut done)?;
        a.hlt()?;
        Ok(())
    })
}

/// `MIPS_QUICK=1` shrinks every workload (for instruction-count profiling under callgrind,
/// where host instructions per guest instruction is the stable figure).
fn scale() -> u64 {
    if std::env::var_os("MIPS_QUICK").is_some() {
        20
    } else {
        1
    }
}

fn run(name: &str, code: &[u8], check: impl Fn(&Cpu)) -> f64 {
    // `cargo bench -p emulator --bench mips -- NAME` runs only the named workloads.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !only.is_empty() && !only.iter().any(|o| o == name) {
        return 0.0;
    }
    let mut best = 0f64;
    for _ in 0..if scale() > 1 { 1 } else { 3 } {
        let mut cpu = testing::long_mode(64);
        testing::load(&mut cpu, CODE, code);
        let mut bus = TestBus::default();
        let t = Instant::now();
        let exit = cpu.run(&mut bus, u64::MAX);
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(exit, Exit::HaltedForever, "{name} did not finish: {}", cpu.dump());
        assert!(cpu.stats.unimplemented.is_empty(), "{name}: {:?}", cpu.stats.unimplemented);
        check(&cpu);
        let mips = cpu.icount as f64 / secs / 1e6;
        best = best.max(mips);
        println!("  {name:<7} {:>11} instructions in {:>7.3} s  = {:>6.1} MIPS", cpu.icount, secs, mips);
    }
    best
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("guest MIPS, 64-bit long mode, paging on (best of 3):");
    let a = run("arith", &arith(), |_| {});
    let m = run("memory", &memory(), |_| {});
    let c = run("calls", &calls(), |cpu| assert_eq!(cpu.gpr[reg::RAX as usize], if scale() > 1 { 17711 } else { 832040 }));
    println!("best: arith {a:.1} MIPS, memory {m:.1} MIPS, calls {c:.1} MIPS");
}
