//! Busy-wait loop skipping (`cpu::spin`) must be invisible: the same program run with
//! skipping on and off reaches bit-identical states (registers, flags, memory, RIP,
//! instruction count) at every point the caller looks, whatever the budget boundaries and
//! whenever "interrupt handlers" change memory between runs.

use emulator::bus::TestBus;
use emulator::cpu::{Cpu, Exit};
use emulator::testing;
use iced_x86::code_asm::*;

const CODE: u64 = 0x10_0000;
const FRAME: u64 = 0x6_0000;
const FLAG: u64 = 0x5_0000;
/// Buffers for the memset/memcpy loops (they cross 4 KiB pages).
const BUF: u64 = 0x20_0000;
const BUF_LEN: usize = 0x8000;

/// Countdown loops as gcc -O0 and -O2 emit them, then a wait for `FLAG` to turn non-zero.
fn program() -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    let (mut l1, mut l2, mut l3, mut l4, mut l5, mut l6) =
        (a.create_label(), a.create_label(), a.create_label(), a.create_label(), a.create_label(), a.create_label());
    a.mov(rbp, FRAME).unwrap();
    // busy_wait(int64_t loops) at -O0: while (loops-- > 0) barrier ();
    a.mov(qword_ptr(rbp - 8), 100_003).unwrap();
    a.set_label(&mut l1).unwrap();
    a.mov(rax, qword_ptr(rbp - 8)).unwrap();
    a.lea(rdx, qword_ptr(rax - 1)).unwrap();
    a.mov(qword_ptr(rbp - 8), rdx).unwrap();
    a.test(rax, rax).unwrap();
    a.jg(l1).unwrap();
    // The same with a 32-bit counter and jne.
    a.mov(dword_ptr(rbp - 16), 77_777).unwrap();
    a.set_label(&mut l2).unwrap();
    a.mov(eax, dword_ptr(rbp - 16)).unwrap();
    a.lea(edx, qword_ptr(rax - 1)).unwrap();
    a.mov(dword_ptr(rbp - 16), edx).unwrap();
    a.test(eax, eax).unwrap();
    a.jne(l2).unwrap();
    // Register countdowns.
    a.mov(rcx, 55_555u64).unwrap();
    a.set_label(&mut l3).unwrap();
    a.sub(rcx, 1).unwrap();
    a.jne(l3).unwrap();
    a.mov(ecx, 33_333).unwrap();
    a.set_label(&mut l4).unwrap();
    a.dec(ecx).unwrap();
    a.jg(l4).unwrap();
    a.mov(esi, 44_444).unwrap();
    a.set_label(&mut l5).unwrap();
    a.sub(esi, 1).unwrap();
    a.ja(l5).unwrap();
    // Pintos' memset and memcpy as gcc -O0 compiles lib/string.c (the loop condition first).
    let memset = |a: &mut CodeAssembler, dst: u64, value: u32, n: u64| -> Result<(), IcedError> {
        a.mov(dword_ptr(rbp - 0x1c), value)?;
        byte_loop(a, &[(0x8, dst)], n, |a| {
            post_increment(a, 0x8, rax, rdx)?;
            a.mov(edx, dword_ptr(rbp - 0x1c))?;
            a.mov(byte_ptr(rax), dl)
        })
    };
    let memcpy = |a: &mut CodeAssembler, dst: u64, src: u64, n: u64| -> Result<(), IcedError> {
        byte_loop(a, &[(0x8, dst), (0x10, src)], n, |a| {
            post_increment(a, 0x10, rdx, rax)?;
            post_increment(a, 0x8, rax, rcx)?;
            a.movzx(edx, byte_ptr(rdx))?;
            a.mov(byte_ptr(rax), dl)
        })
    };
    memset(&mut a, BUF + 100, 0x1234_56a5, 10_000).unwrap();
    memset(&mut a, BUF + 0x3000, 7, 0).unwrap();
    memcpy(&mut a, BUF + 0x4007, BUF + 50, 9_000).unwrap();
    // Overlapping, forwards: replicates the first byte, as the byte loop does.
    memcpy(&mut a, BUF + 51, BUF + 50, 3_000).unwrap();
    // while (flag == 0) barrier (); as Pintos' too_many_loops waits for a tick.
    a.set_label(&mut l6).unwrap();
    a.mov(rax, FLAG).unwrap();
    a.mov(rax, qword_ptr(rax)).unwrap();
    a.cmp(rax, 0).unwrap();
    a.je(l6).unwrap();
    a.hlt().unwrap();
    a.assemble(CODE).unwrap()
}

/// `ptr = [rbp - slot]; [rbp - slot] = ptr + 1` as gcc -O0 emits `*p++`.
fn post_increment(a: &mut CodeAssembler, slot: i32, ptr: AsmRegister64, next: AsmRegister64) -> Result<(), IcedError> {
    a.mov(ptr, qword_ptr(rbp - slot))?;
    a.lea(next, qword_ptr(ptr + 1))?;
    a.mov(qword_ptr(rbp - slot), next)
}

/// `while (size-- > 0) body;` with the pointers' stack slots set to their values and the
/// count in `[rbp - 0x28]`, laid out as gcc -O0 does (condition first).
fn byte_loop(
    a: &mut CodeAssembler,
    slots: &[(i32, u64)],
    n: u64,
    body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> Result<(), IcedError> {
    let (mut top, mut cond) = (a.create_label(), a.create_label());
    for &(slot, value) in slots.iter().chain([(0x28, n)].iter()) {
        a.mov(rax, value)?;
        a.mov(qword_ptr(rbp - slot), rax)?;
    }
    a.jmp(cond)?;
    a.set_label(&mut top)?;
    body(a)?;
    a.set_label(&mut cond)?;
    a.mov(rax, qword_ptr(rbp - 0x28))?;
    a.lea(rdx, qword_ptr(rax - 1))?;
    a.mov(qword_ptr(rbp - 0x28), rdx)?;
    a.test(rax, rax)?;
    a.jne(top)
}

fn machine(skip: bool) -> Cpu {
    let mut cpu = testing::long_mode(8);
    let pattern: Vec<u8> = (0..BUF_LEN).map(|i| (i * 7 + 3) as u8).collect();
    cpu.mem.load(BUF, &pattern).unwrap();
    let code = program();
    cpu.mem.load(CODE, &code).unwrap();
    cpu.invalidate_code(CODE, code.len() as u64);
    cpu.rip = CODE;
    cpu.spin_skip = skip;
    cpu
}

/// Everything a later instruction or an interrupt handler could observe.
fn state(cpu: &Cpu) -> (Vec<u64>, u64, u64, u64, Vec<u8>, bool) {
    let mut frame = vec![0u8; 64];
    cpu.mem.read(FRAME - 64, &mut frame).unwrap();
    let mut buf = vec![0u8; BUF_LEN];
    cpu.mem.read(BUF, &mut buf).unwrap();
    // FNV-1a of the buffers keeps thousands of snapshots small.
    let hash = buf.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    frame.extend(hash.to_le_bytes());
    (cpu.gpr[..16].to_vec(), cpu.rip, cpu.flags.get(), cpu.icount, frame, cpu.halted)
}

/// Runs in chunks of `chunk` instructions, setting the flag once `set_at` instructions
/// have retired; returns the state seen after every chunk and the instructions skipped.
fn trace(skip: bool, chunk: u64, set_at: u64, max_runs: usize) -> (Vec<(Vec<u64>, u64, u64, u64, Vec<u8>, bool)>, u64) {
    let mut cpu = machine(skip);
    let mut bus = TestBus::default();
    let mut seen = Vec::new();
    for _ in 0..max_runs {
        if cpu.icount >= set_at {
            cpu.mem.write_u64(FLAG, 1).unwrap();
        }
        let exit = cpu.run(&mut bus, chunk);
        seen.push(state(&cpu));
        if exit != Exit::Budget {
            assert!(matches!(exit, Exit::Halted | Exit::HaltedForever), "{exit:?} {}", cpu.dump());
            break;
        }
    }
    (seen, cpu.stats.spin_skipped)
}

#[test]
fn skipping_is_invisible_at_every_budget_boundary() {
    for (chunk, set_at) in [(997, 1_500_000), (1, 1_200_000), (4_096, 1_300_000), (10_000_000, 1_000_000), (123_457, 1_250_001)] {
        if chunk == 1 {
            // Single steps never skip; keep this case short.
            let (a, _) = trace(false, 1, 1_000, 5_000);
            let (b, skipped) = trace(true, 1, 1_000, 5_000);
            assert_eq!(a.len(), b.len());
            assert_eq!(skipped, 0);
            continue;
        }
        let (plain, none) = trace(false, chunk, set_at, 100_000);
        let (fast, skipped) = trace(true, chunk, set_at, 100_000);
        assert_eq!(none, 0);
        assert!(skipped > 0, "chunk {chunk}: nothing skipped");
        assert_eq!(plain.len(), fast.len(), "chunk {chunk}");
        for (i, (p, f)) in plain.iter().zip(&fast).enumerate() {
            assert_eq!(p, f, "chunk {chunk}: state differs after run {i}");
        }
        let last = plain.last().unwrap();
        assert!(last.5, "the program ends halted");
    }
}

#[test]
fn most_of_a_countdown_is_skipped() {
    // 100k + 78k iterations of 5 instructions, 55k + 33k + 44k of 2, 10k of 10 and 12k
    // of 13, then the wait.
    let (runs, skipped) = trace(true, 50_000_000, 0, 100);
    let last = runs.last().unwrap();
    let total = last.3;
    assert!(total > 1_300_000, "{total}");
    assert!(skipped as f64 > 0.98 * total as f64, "skipped {skipped} of {total}");
}

/// A loader's poll of the disk's status: `in al,dx; test al,0x80; jnz` until BSY clears,
/// which the "device" does once `clear_at` instructions have retired (between runs, as a
/// device changes only at events). Returns the state after every run and the instructions
/// skipped.
fn poll_trace(skip: bool, stable: bool, chunk: u64, clear_at: u64) -> (Vec<(Vec<u64>, u64, u64, u64, Vec<u8>, bool)>, u64) {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut top = a.create_label();
    a.mov(edx, 0x1f7u32).unwrap();
    a.set_label(&mut top).unwrap();
    a.in_(al, dx).unwrap();
    a.test(al, 0x80).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(CODE).unwrap();
    let mut cpu = testing::long_mode(8);
    cpu.mem.load(CODE, &code).unwrap();
    cpu.invalidate_code(CODE, code.len() as u64);
    cpu.rip = CODE;
    cpu.spin_skip = skip;
    let mut bus = TestBus { stable_ports: if stable { vec![0x1f7] } else { vec![] }, ..TestBus::default() };
    bus.inputs.insert(0x1f7, 0xd0);
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        if cpu.icount >= clear_at {
            bus.inputs.insert(0x1f7, 0x58);
        }
        let exit = cpu.run(&mut bus, chunk);
        seen.push(state(&cpu));
        if exit != Exit::Budget {
            break;
        }
    }
    (seen, cpu.stats.spin_skipped)
}

#[test]
fn polls_of_a_stable_port_are_skipped_invisibly() {
    // (budget per run, when BSY clears, least share skipped): with a 7-instruction budget
    // each run's first iteration is real (it reads the port the skip relies on), so
    // only part of each run can be skipped.
    for (chunk, clear_at, least) in [(1_000, 300_000, 0.5), (4_099, 250_001, 0.5), (1_000_000, 2_000_000, 0.5), (7, 20_000, 0.2)] {
        let (plain, none) = poll_trace(false, true, chunk, clear_at);
        let (fast, skipped) = poll_trace(true, true, chunk, clear_at);
        assert_eq!(none, 0);
        assert!(skipped as f64 > clear_at as f64 * least, "chunk {chunk}: skipped only {skipped}");
        assert_eq!(plain, fast, "chunk {chunk}");
        assert!(plain.last().unwrap().5, "halted after BSY cleared");
        assert_eq!(plain.last().unwrap().0[0] & 0xff, 0x58, "AL holds the last status read");
    }
    // A port the device does not vouch for is read every time.
    let (_, skipped) = poll_trace(true, false, 1_000, 30_000);
    assert_eq!(skipped, 0);
}
