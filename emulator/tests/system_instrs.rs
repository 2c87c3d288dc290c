//! Individual system instructions: cpuid, rdtsc, MSRs, swapgs, popf privilege rules,
//! far returns to an outer level, and real- and protected-mode interrupts and far calls.

use emulator::bus::TestBus;
use emulator::cpu::segment::*;
use emulator::cpu::{reg, Cpu, DescTable, Exit};
use emulator::memory::PhysMemory;
use emulator::mmu::*;
use emulator::testing::{self, set_gate, USER_CS, USER_DS};
use iced_x86::code_asm::*;

const CODE: u64 = 0x10_0000;

fn asm(bits: u32, at: u64, f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(bits).unwrap();
    f(&mut a).unwrap();
    a.assemble(at).unwrap()
}

fn run64(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> (Cpu, TestBus, Exit) {
    let mut cpu = testing::long_mode(4);
    let code = asm(64, CODE, f);
    testing::load(&mut cpu, CODE, &code);
    let mut bus = TestBus::default();
    let exit = cpu.run(&mut bus, 10_000);
    (cpu, bus, exit)
}

#[test]
fn cpuid_reports_qemu64_like_cpu() {
    let (cpu, _, exit) = run64(|a| {
        a.xor(eax, eax)?;
        a.cpuid()?;
        a.mov(r8, rbx)?;
        a.mov(r9, rdx)?;
        a.mov(r10, rcx)?;
        a.mov(eax, 0x8000_0001u32)?;
        a.cpuid()?;
        a.hlt()
    });
    assert_eq!(exit, Exit::HaltedForever);
    let mut vendor = Vec::new();
    for r in [reg::R8, reg::R9, reg::R10] {
        vendor.extend_from_slice(&(cpu.gpr[r as usize] as u32).to_le_bytes());
    }
    assert_eq!(&vendor, b"AuthenticAMD");
    let ext = cpu.gpr[reg::RDX as usize];
    assert_ne!(ext & (1 << 29), 0, "LM");
    assert_ne!(ext & (1 << 20), 0, "NX");
    assert_ne!(ext & (1 << 11), 0, "SYSCALL");
    assert_ne!(ext & (1 << 26), 0, "PDPE1GB");
}

#[test]
fn tsc_write_sets_the_counter_and_rdtsc_follows_icount() {
    let (cpu, _, _) = run64(|a| {
        a.mov(ecx, 0x10)?;
        a.mov(eax, 1000)?;
        a.xor(edx, edx)?;
        a.wrmsr()?;
        a.nop()?;
        a.rdtsc()?;
        a.hlt()
    });
    // The counter reads 1000 as wrmsr executes and advances one per retired instruction:
    // wrmsr and nop retire before rdtsc samples it.
    assert_eq!(cpu.gpr[reg::RAX as usize], 1002);
    assert_eq!(cpu.gpr[reg::RDX as usize], 0);
}

#[test]
fn swapgs_and_segment_base_msrs() {
    let (cpu, _, _) = run64(|a| {
        a.mov(ecx, 0xc000_0101u32)?; // GS_BASE
        a.mov(eax, 0x20_0000)?;
        a.xor(edx, edx)?;
        a.wrmsr()?;
        a.mov(ecx, 0xc000_0102u32)?; // KERNEL_GS_BASE
        a.mov(eax, 0x30_0000)?;
        a.wrmsr()?;
        a.swapgs()?;
        a.mov(qword_ptr(0).gs(), 0x77)?;
        a.mov(ecx, 0xc000_0101u32)?;
        a.rdmsr()?;
        a.hlt()
    });
    assert_eq!(cpu.gpr[reg::RAX as usize], 0x30_0000);
    assert_eq!(cpu.msr.kernel_gs_base, 0x20_0000);
    assert_eq!(cpu.mem.read_u64(0x30_0000).unwrap(), 0x77);
}

#[test]
fn unknown_msr_and_cpl3_privileged_instructions_fault() {
    let (cpu, _, _) = run64(|a| {
        a.mov(ecx, 0x1234_5678)?;
        a.rdmsr()?;
        a.hlt()
    });
    assert_eq!(cpu.stats.exceptions.get(&13), Some(&1));
    assert!(cpu.shutdown.is_some(), "no IDT entries: the #GP escalates to a triple fault");
}

/// Enters CPL 3 at `user` with IOPL 0 and IF set via `retfq` to an outer level.
#[test]
fn retf_to_outer_level_and_popf_rules_at_cpl3() {
    let mut cpu = testing::long_mode(4);
    let done = 0x12_0000;
    testing::load(&mut cpu, done, &asm(64, done, |a| a.hlt()));
    set_gate(&mut cpu, 0x80, done, 3, 0, false);
    cpu.mem.write_u64(testing::TSS + 4, 0x6_8000).unwrap();
    let code = asm(64, CODE, |a| {
        let mut user = a.create_label();
        a.sti()?;
        a.push(USER_DS as i32)?;
        a.push(0x6_0000)?;
        a.push(USER_CS as i32)?;
        a.lea(rax, ptr(user))?;
        a.push(rax)?;
        a.db(&[0x48, 0xcb])?; // retfq
        a.set_label(&mut user)?;
        a.mov(rax, rsp)?;
        a.mov(qword_ptr(0x5_0000), rax)?;
        a.push(0x3000 | 0x1)?; // IOPL 3, IF clear, CF set
        a.popfq()?;
        a.pushfq()?;
        a.pop(rax)?;
        a.mov(qword_ptr(0x5_0008), rax)?;
        a.int(0x80)
    });
    testing::load(&mut cpu, CODE, &code);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(cpu.mem.read_u64(0x5_0000).unwrap(), 0x6_0000, "user RSP from the retf frame");
    let f = cpu.mem.read_u64(0x5_0008).unwrap();
    assert_eq!(f & 1, 1, "CF loaded");
    assert_ne!(f & 0x200, 0, "IF kept: CPL > IOPL");
    assert_eq!(f & 0x3000, 0, "IOPL kept: CPL != 0");
}

/// A CPU in real mode at 0000:7C00 with 2 MiB of memory.
fn real_mode() -> Cpu {
    let mem = PhysMemory::new(2 << 20).unwrap();
    let mut cpu = Cpu::new(mem);
    let attr = cpu.seg[CS as usize].attr;
    cpu.seg[CS as usize] = Segment::real(0, attr);
    cpu.rip = 0x7c00;
    cpu.update_mode();
    cpu
}

#[test]
fn real_mode_int_iret_far_call_and_stack_ops() {
    let mut cpu = real_mode();
    // IVT[0x21] -> 0000:8000 (mov bx, 0x55; iret).
    cpu.mem.write_u32(0x21 * 4, 0x0000_8000).unwrap();
    let h = asm(16, 0x8000, |a| {
        a.mov(bx, 0x55)?;
        a.iret()
    });
    cpu.mem.load(0x8000, &h).unwrap();
    // 0800:0010 = linear 0x8010: mov cx, 0x66; retf.
    let f = asm(16, 0x10, |a| {
        a.mov(cx, 0x66)?;
        a.retf()
    });
    cpu.mem.load(0x8010, &f).unwrap();
    let code = asm(16, 0x7c00, |a| {
        a.xor(ax, ax)?;
        a.mov(ss, ax)?;
        a.mov(sp, 0x7000)?;
        a.mov(ax, 0x1234)?;
        a.mov(es, ax)?;
        a.int(0x21)?;
        a.db(&[0x9a, 0x10, 0x00, 0x00, 0x08])?; // call far 0800:0010
        a.push(es)?;
        a.pop(ds)?;
        a.mov(si, 0x4444)?;
        a.pusha()?;
        a.mov(si, 0)?;
        a.popa()?;
        a.mov(bp, 0x1111)?;
        a.enter(8, 1)?;
        a.mov(di, bp)?;
        a.leave()?;
        a.hlt()
    });
    cpu.mem.load(0x7c00, &code).unwrap();
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(cpu.gpr[reg::RBX as usize] & 0xffff, 0x55);
    assert_eq!(cpu.gpr[reg::RCX as usize] & 0xffff, 0x66);
    assert_eq!(cpu.gpr[reg::RSI as usize] & 0xffff, 0x4444);
    assert_eq!(cpu.seg[DS as usize].selector, 0x1234);
    assert_eq!(cpu.seg[DS as usize].base, 0x12340);
    assert_eq!(cpu.gpr[reg::RSP as usize], 0x7000);
    assert_eq!(cpu.gpr[reg::RBP as usize], 0x1111);
    // enter 8,1: push bp (sp 0x6ffe), push frame pointer (0x6ffc); bp = 0x6ffe.
    assert_eq!(cpu.gpr[reg::RDI as usize] & 0xffff, 0x6ffe);
    assert_eq!(cpu.seg[CS as usize].selector, 0);
    assert_eq!(cpu.rip, 0x7c00 + code.len() as u64);
}

#[test]
fn protected_mode_far_jump_interrupt_and_iretd() {
    // 32-bit protected mode, no paging, flat segments from the testing GDT.
    let mut cpu = testing::long_mode(4);
    cpu.cr0 = CR0_PE | CR0_ET;
    cpu.cr4 = 0;
    cpu.efer = 0;
    cpu.seg[CS as usize] = Segment::from_descriptor(testing::CODE32, testing::GDT_ENTRIES[5]);
    cpu.update_mode();
    cpu.flush_tlb();
    // 32-bit interrupt gate for vector 0x30 -> CODE32:0x120000 in an 8-byte IDT at 0x9000.
    let h = 0x12_0000u64;
    let gate = (h & 0xffff) | (testing::CODE32 as u64) << 16 | 0x8e_u64 << 40 | (h >> 16) << 48;
    cpu.mem.write_u64(0x9000 + 0x30 * 8, gate).unwrap();
    cpu.idtr = DescTable { base: 0x9000, limit: 0x7ff };
    testing::load(
        &mut cpu,
        h,
        &asm(32, h, |a| {
            a.mov(ebx, dword_ptr(esp))?; // return EIP
            a.iretd()
        }),
    );
    let target = 0x13_0000u64;
    testing::load(
        &mut cpu,
        target,
        &asm(32, target, |a| {
            a.int(0x30)?;
            a.hlt()
        }),
    );
    let code = asm(32, CODE, |a| {
        a.mov(esp, 0x7_0000)?;
        a.db(&[0xea])?; // jmp far CODE32:target
        a.dd(&[target as u32])?;
        a.dw(&[testing::CODE32])
    });
    testing::load(&mut cpu, CODE, &code);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}\n{:?}", cpu.dump(), bus.events);
    assert_eq!(cpu.gpr[reg::RBX as usize], target + 2);
    assert_eq!(cpu.gpr[reg::RSP as usize], 0x7_0000);
    assert_eq!(cpu.code_bits(), 32);
    assert_eq!(cpu.rip, target + 3);
}
