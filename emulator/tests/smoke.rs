//! End-to-end smoke tests of the run loop on tiny 64-bit programs.

use emulator::bus::TestBus;
use emulator::cpu::{reg, Exit};
use emulator::testing;
use iced_x86::code_asm::*;

fn assemble(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>, at: u64) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    f(&mut a).unwrap();
    a.assemble(at).unwrap()
}

#[test]
fn sum_loop_runs_to_hlt() {
    let code = assemble(
        |a| {
            let mut top = a.create_label();
            a.mov(rcx, 1000u64)?;
            a.xor(eax, eax)?;
            a.set_label(&mut top)?;
            a.add(rax, rcx)?;
            a.dec(rcx)?;
            a.jnz(top)?;
            a.hlt()?;
            Ok(())
        },
        0x10_0000,
    );
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, 0x10_0000, &code);
    let mut bus = TestBus::default();
    let exit = cpu.run(&mut bus, 1_000_000);
    assert_eq!(exit, Exit::HaltedForever);
    assert_eq!(cpu.gpr[reg::RAX as usize], 500500);
    assert_eq!(cpu.icount, 2 + 3 * 1000 + 1);
}

#[test]
fn call_ret_and_memory() {
    let code = assemble(
        |a| {
            let mut f = a.create_label();
            let mut done = a.create_label();
            a.mov(rdi, 0x20_0000u64)?;
            a.mov(qword_ptr(rdi), 41)?;
            a.call(f)?;
            a.mov(rax, qword_ptr(rdi))?;
            a.jmp(done)?;
            a.set_label(&mut f)?;
            a.add(qword_ptr(rdi), 1)?;
            a.ret()?;
            a.set_label(&mut done)?;
            a.out(0x80, al)?;
            a.hlt()?;
            Ok(())
        },
        0x10_0000,
    );
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, 0x10_0000, &code);
    let mut bus = TestBus::default();
    cpu.run(&mut bus, 1000);
    assert_eq!(cpu.gpr[reg::RAX as usize], 42);
    assert_eq!(bus.writes, vec![(0x80, 1, 42)]);
    assert_eq!(cpu.gpr[reg::RSP as usize], testing::STACK_TOP);
}
