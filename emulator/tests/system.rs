//! System-level behaviour through real execution: mode switches, paging faults and their
//! error codes, TLB semantics, exception delivery with privilege changes, IST, external
//! interrupts, double and triple faults, syscall/sysret.

use emulator::bare_metal;
use emulator::bus::TestBus;
use emulator::cpu::segment::*;
use emulator::cpu::{reg, Cpu, Exit};
use emulator::mmu::*;
use emulator::testing::{self, set_gate, IDT, TSS, USER_CS, USER_DS};
use iced_x86::code_asm::*;

const CODE: u64 = 0x10_0000;
/// Handlers are assembled one per 4 KiB page from here.
const HANDLERS: u64 = 0x11_0000;
/// A page table for linear 0x200000-0x3fffff (PD entry 1), so tests can use 4 KiB pages.
const PT: u64 = 0x2_0000;
const USER_STACK: u64 = 0x6_0000;
const RSP0: u64 = 0x6_8000;
const REPORT: u16 = 0xea;

fn asm(at: u64, f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    f(&mut a).unwrap();
    a.assemble(at).unwrap()
}

fn handler_addr(i: u64) -> u64 {
    HANDLERS + i * 0x1000
}

/// A long-mode CPU with 8 MiB, TSS.RSP0 set, and linear 2-4 MiB mapped through [`PT`]
/// with every PTE absent (tests fill what they need).
fn rig() -> Cpu {
    let mut cpu = testing::long_mode(8);
    cpu.mem.write_u64(0x3000 + 8, PT | 7).unwrap();
    cpu.mem.write_u64(TSS + 4, RSP0).unwrap();
    cpu.flush_tlb();
    cpu
}

fn load(cpu: &mut Cpu, at: u64, code: &[u8]) {
    cpu.mem.load(at, code).unwrap();
    cpu.invalidate_code(at, code.len() as u64);
}

fn pte(lin: u64) -> u64 {
    PT + ((lin >> 12) & 0x1ff) * 8
}

fn reports(bus: &TestBus) -> Vec<u64> {
    bus.writes.iter().filter(|w| w.0 == REPORT).map(|w| w.2 as u64).collect()
}

/// Switches to CPL 3 at `target` with the user stack, through an iretq frame.
fn to_user(a: &mut CodeAssembler, target: CodeLabel, rflags: u64) -> Result<(), IcedError> {
    a.push(USER_DS as i32)?;
    a.push(USER_STACK as i32)?;
    a.push(rflags as i32)?;
    a.push(USER_CS as i32)?;
    a.lea(rax, ptr(target))?;
    a.push(rax)?;
    a.iretq()
}

#[test]
fn real_mode_to_long_mode() {
    let out = bare_metal::run(100_000).unwrap();
    let cpu = &out.cpu;
    assert_eq!(out.exit, Exit::HaltedForever);
    assert!(cpu.is_64bit() && cpu.long_mode() && cpu.protected());
    assert_eq!(cpu.seg[CS as usize].selector, 0x18);
    assert_eq!(cpu.code_bits(), 64);
    assert_ne!(cpu.efer & EFER_LMA, 0);
    assert_ne!(cpu.efer & EFER_LME, 0);
    assert_eq!(cpu.cr0 & (CR0_PG | CR0_PE), CR0_PG | CR0_PE);
    assert_ne!(cpu.cr4 & CR4_PAE, 0);
    assert_eq!(cpu.cr3, 0x10000);
    assert!(out.bus.events.iter().any(|(_, e)| *e == emulator::bus::CpuEvent::Cr3Load { value: 0x10000 }));
}

#[test]
fn enabling_paging_with_lme_but_no_pae_faults() {
    // 32-bit protected mode, paging off, EFER.LME set, CR4.PAE clear.
    let mut cpu = testing::long_mode(4);
    cpu.cr0 = CR0_PE | CR0_ET;
    cpu.cr4 = 0;
    cpu.efer = EFER_LME;
    cpu.seg[CS as usize] = Segment::from_descriptor(testing::CODE32, testing::GDT_ENTRIES[5]);
    cpu.update_mode();
    cpu.flush_tlb();
    let mut a = CodeAssembler::new(32).unwrap();
    a.mov(eax, cr0).unwrap();
    a.or(eax, 0x8000_0000u32 as i32).unwrap();
    a.mov(cr0, eax).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(CODE).unwrap();
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    cpu.run(&mut bus, 100);
    assert_eq!(cpu.stats.exceptions.get(&13), Some(&1));
    assert_eq!(cpu.cr0 & CR0_PG, 0);
    assert_eq!(cpu.efer & EFER_LMA, 0);
}

/// #PF handler: reports CR2, the error code and the CS of the frame, then stores R14 at
/// [R15] (the test's fix for the PTE), invalidates CR2 and returns to retry.
fn pf_fixer(cpu: &mut Cpu) {
    let h = handler_addr(14);
    let code = asm(h, |a| {
        a.mov(rax, cr2)?;
        a.out(REPORT as u32, eax)?;
        a.mov(rax, qword_ptr(rsp))?;
        a.out(REPORT as u32, eax)?;
        a.mov(rax, qword_ptr(rsp + 16))?;
        a.out(REPORT as u32, eax)?;
        a.mov(qword_ptr(r15), r14)?;
        a.mov(rax, cr2)?;
        a.invlpg(ptr(rax))?;
        a.add(rsp, 8)?;
        a.iretq()
    });
    load(cpu, h, &code);
    set_gate(cpu, 14, h, 0, 0, false);
}

#[test]
fn page_faults_report_error_codes_and_restart() {
    let mut cpu = rig();
    pf_fixer(&mut cpu);
    // Handler for int 0x80 (DPL 3): the user part is done.
    let done = handler_addr(0x80);
    load(&mut cpu, done, &asm(done, |a| a.hlt()));
    set_gate(&mut cpu, 0x80, done, 3, 0, false);

    let (np, ro, sup, nx, rsvd) = (0x20_0000u64, 0x20_1000u64, 0x20_2000u64, 0x20_3000u64, 0x20_4000u64);
    let phys = |lin: u64| lin + 0x10_0000; // backing pages at 3 MiB
    cpu.mem.write_u64(pte(ro), phys(ro) | 5).unwrap(); // present, user, read-only
    cpu.mem.write_u64(pte(sup), phys(sup) | 3).unwrap(); // present, supervisor
    cpu.mem.write_u64(pte(nx), phys(nx) | 3 | 1 << 63).unwrap(); // no-execute
    cpu.mem.write_u64(pte(rsvd), phys(rsvd) | 3 | 1 << 51).unwrap(); // reserved bit
    cpu.mem.write_u64(phys(np), 0x1111).unwrap();
    cpu.mem.write_u64(phys(sup), 0x3333).unwrap();
    cpu.mem.write_u64(phys(rsvd), 0x5555).unwrap();
    cpu.mem.load(phys(nx), &[0xc3]).unwrap(); // ret

    let code = asm(CODE, |a| {
        let mut user = a.create_label();
        // Not present, supervisor read.
        a.mov(r15, pte(np))?;
        a.mov(r14, phys(np) | 7)?;
        a.mov(rdi, np)?;
        a.mov(rax, qword_ptr(rdi))?;
        a.out(REPORT as u32, eax)?;
        // NX fetch.
        a.mov(r15, pte(nx))?;
        a.mov(r14, phys(nx) | 3)?;
        a.mov(rax, nx)?;
        a.call(rax)?;
        // Reserved bit.
        a.mov(r15, pte(rsvd))?;
        a.mov(r14, phys(rsvd) | 3)?;
        a.mov(rdi, rsvd)?;
        a.mov(rax, qword_ptr(rdi))?;
        a.out(REPORT as u32, eax)?;
        to_user(a, user, 0x3202)?; // IOPL 3 so user code can report
        a.set_label(&mut user)?;
        // Write to a read-only page at CPL 3.
        a.mov(r15, pte(ro))?;
        a.mov(r14, phys(ro) | 7)?;
        a.mov(rdi, ro)?;
        a.mov(qword_ptr(rdi), 0x2222)?;
        a.mov(rax, qword_ptr(rdi))?;
        a.out(REPORT as u32, eax)?;
        // User read of a supervisor page.
        a.mov(r15, pte(sup))?;
        a.mov(r14, phys(sup) | 7)?;
        a.mov(rdi, sup)?;
        a.mov(rax, qword_ptr(rdi))?;
        a.out(REPORT as u32, eax)?;
        a.int(0x80)
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    let exit = cpu.run(&mut bus, 10_000);
    assert_eq!(exit, Exit::HaltedForever, "{}", cpu.dump());
    let k = KERNEL_CS_U64;
    let u = USER_CS as u64;
    assert_eq!(
        reports(&bus),
        vec![
            np, 0, k, 0x1111, // not present, read, supervisor
            nx, 0x11, k, // present, instruction fetch
            rsvd, 0x9, k, 0x5555, // present, reserved bit
            ro, 0x7, u, 0x2222, // present, write, user
            sup, 0x5, u, 0x3333, // present, user
        ]
    );
    assert_eq!(cpu.cr2, sup);
    assert_eq!(cpu.stats.exceptions.get(&14), Some(&5));
}

const KERNEL_CS_U64: u64 = testing::KERNEL_CS as u64;

#[test]
fn tlb_keeps_stale_entries_until_invalidated() {
    let mut cpu = rig();
    let (a_page, b_page) = (0x30_0000u64, 0x30_1000u64);
    cpu.mem.write_u64(a_page, 0xaaaa).unwrap();
    cpu.mem.write_u64(b_page, 0xbbbb).unwrap();
    let (l1, glob, nonglob) = (0x21_0000u64, 0x21_1000u64, 0x21_2000u64);
    cpu.mem.write_u64(pte(l1), a_page | 3).unwrap();
    cpu.mem.write_u64(pte(glob), a_page | 3 | 0x100).unwrap();
    cpu.mem.write_u64(pte(nonglob), a_page | 3).unwrap();
    let code = asm(CODE, |a| {
        let read = |a: &mut CodeAssembler, lin: u64| -> Result<(), IcedError> {
            a.mov(rdi, lin)?;
            a.mov(rax, qword_ptr(rdi))?;
            a.out(REPORT as u32, eax)
        };
        let set_pte = |a: &mut CodeAssembler, lin: u64, v: u64| -> Result<(), IcedError> {
            a.mov(rsi, pte(lin))?;
            a.mov(rax, v)?;
            a.mov(qword_ptr(rsi), rax)
        };
        // Stale until invlpg.
        read(a, l1)?;
        set_pte(a, l1, b_page | 3)?;
        read(a, l1)?;
        a.mov(rdi, l1)?;
        a.invlpg(ptr(rdi))?;
        read(a, l1)?;
        // Global entries survive a CR3 load, others do not.
        a.mov(rax, cr4)?;
        a.or(rax, CR4_PGE as i32)?;
        a.mov(cr4, rax)?;
        read(a, glob)?;
        read(a, nonglob)?;
        set_pte(a, glob, b_page | 3 | 0x100)?;
        set_pte(a, nonglob, b_page | 3)?;
        a.mov(rax, cr3)?;
        a.mov(cr3, rax)?;
        read(a, glob)?;
        read(a, nonglob)?;
        // Toggling CR4.PGE flushes globals too.
        a.mov(rax, cr4)?;
        a.and(rax, !(CR4_PGE as i32))?;
        a.mov(cr4, rax)?;
        a.or(rax, CR4_PGE as i32)?;
        a.mov(cr4, rax)?;
        read(a, glob)?;
        a.hlt()
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(reports(&bus), vec![0xaaaa, 0xaaaa, 0xbbbb, 0xaaaa, 0xaaaa, 0xaaaa, 0xbbbb, 0xbbbb]);
}

/// A handler that reports RSP and the six qwords above it, then halts.
fn frame_reporter(cpu: &mut Cpu, vector: u8, ist: u8, dpl: u8) {
    let h = handler_addr(vector as u64);
    let code = asm(h, |a| {
        a.mov(rax, rsp)?;
        a.out(REPORT as u32, eax)?;
        for i in 0..6 {
            a.mov(rax, qword_ptr(rsp + 8 * i))?;
            a.out(REPORT as u32, eax)?;
        }
        a.hlt()
    });
    load(cpu, h, &code);
    set_gate(cpu, vector, h, dpl, ist, false);
}

#[test]
fn user_fault_switches_to_rsp0_with_full_frame() {
    let mut cpu = rig();
    frame_reporter(&mut cpu, 13, 0, 0);
    let code = asm(CODE, |a| {
        let mut user = a.create_label();
        to_user(a, user, 0x202)?;
        a.set_label(&mut user)?;
        a.mov(rax, cr0)?; // #GP(0) at CPL 3
        a.hlt()
    });
    // The faulting instruction is 3 bytes (0f 20 c0) before the final hlt.
    let fault_at = CODE + code.len() as u64 - 4;
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    let r = reports(&bus);
    assert_eq!(r[0], RSP0 - 48, "handler runs on TSS.RSP0 with 6 qwords pushed");
    assert_eq!(r[1], 0, "error code");
    assert_eq!(r[2], fault_at, "RIP of the faulting instruction");
    assert_eq!(r[3], USER_CS as u64);
    assert_eq!(r[4] & 0x202, 0x202, "RFLAGS");
    assert_eq!(r[5], USER_STACK);
    assert_eq!(r[6], USER_DS as u64);
    assert_eq!(cpu.cpl(), 0);
    assert_eq!(cpu.seg[SS as usize].selector, 0, "null SS at CPL 0 after a privilege change");
}

#[test]
fn ist_stack_and_trap_versus_fault_rip() {
    let mut cpu = rig();
    let ist1 = 0x6_4000u64;
    cpu.mem.write_u64(TSS + 0x24, ist1).unwrap();
    frame_reporter(&mut cpu, 3, 1, 0);
    let code = asm(CODE, |a| {
        a.nop()?;
        a.int3()?;
        a.hlt()
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
    let r = reports(&bus);
    assert_eq!(r[0], ist1 - 40, "IST1 stack, no error code");
    assert_eq!(r[1], CODE + 2, "a trap reports the next instruction");
    assert_eq!(r[2], KERNEL_CS_U64);

    // A fault (#UD) reports the faulting instruction itself.
    let mut cpu = rig();
    frame_reporter(&mut cpu, 6, 0, 0);
    let code = asm(CODE, |a| {
        a.nop()?;
        a.ud2()
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    cpu.run(&mut bus, 1000);
    let r = reports(&bus);
    assert_eq!(r[0], testing::STACK_TOP - 40);
    assert_eq!(r[1], CODE + 1);
}

#[test]
fn int_n_respects_gate_dpl() {
    let mut cpu = rig();
    frame_reporter(&mut cpu, 13, 0, 0);
    // int 0x40 from CPL 3 through a DPL 0 gate: #GP(0x40 * 8 + 2).
    let h = handler_addr(0x40);
    load(&mut cpu, h, &asm(h, |a| a.hlt()));
    set_gate(&mut cpu, 0x40, h, 0, 0, false);
    let code = asm(CODE, |a| {
        let mut user = a.create_label();
        to_user(a, user, 0x202)?;
        a.set_label(&mut user)?;
        a.int(0x40)
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    cpu.run(&mut bus, 1000);
    let r = reports(&bus);
    assert_eq!(r[1], 0x40 * 8 + 2);
    assert_eq!(r[2], CODE + code.len() as u64 - 2, "reported at the int instruction");
}

#[test]
fn external_interrupt_wakes_sti_hlt() {
    let mut cpu = rig();
    let h = handler_addr(0x30);
    load(
        &mut cpu,
        h,
        &asm(h, |a| {
            a.mov(rax, qword_ptr(rsp))?;
            a.out(REPORT as u32, eax)?;
            a.iretq()
        }),
    );
    set_gate(&mut cpu, 0x30, h, 0, 0, false);
    let code = asm(CODE, |a| {
        a.sti()?;
        a.hlt()?;
        a.mov(eax, 0x99)?;
        a.out(REPORT as u32, eax)?;
        a.cli()?;
        a.hlt()
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus { irq: Some(0x30), ..TestBus::default() };
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    // The interrupt is taken after the hlt in the sti shadow, returning past it.
    assert_eq!(reports(&bus), vec![CODE + 2, 0x99]);
    assert_eq!(cpu.stats.interrupts, 1);
}

#[test]
fn fault_while_delivering_becomes_double_fault_then_triple() {
    let mut cpu = rig();
    // #GP gate not present: delivering #GP raises #NP, which escalates to #DF.
    let at = IDT + 13 * 16;
    set_gate(&mut cpu, 13, handler_addr(13), 0, 0, false);
    let gate = cpu.mem.read_u64(at).unwrap() & !(1 << 47);
    cpu.mem.write_u64(at, gate).unwrap();
    frame_reporter(&mut cpu, 8, 0, 0);
    let code = asm(CODE, |a| {
        a.mov(rax, 0x8000_0000_0000_0000u64)?;
        a.mov(rax, qword_ptr(rax))?; // non-canonical: #GP
        a.hlt()
    });
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    let r = reports(&bus);
    assert_eq!(r[1], 0, "#DF error code");
    assert_eq!(r[2], CODE + 10, "#DF reports the instruction that faulted");
    assert_eq!(cpu.stats.exceptions.get(&8), Some(&1));

    // Without a #DF handler the processor shuts down.
    let mut cpu = rig();
    let gate = cpu.mem.read_u64(at).unwrap();
    assert_eq!(gate, 0);
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::TripleFault);
    let why = cpu.shutdown.as_deref().unwrap();
    assert!(why.contains("triple fault") && why.contains("rip="), "{why}");
    assert_eq!(cpu.run(&mut bus, 1000), Exit::TripleFault);
}

#[test]
fn syscall_sysret_round_trip() {
    let mut cpu = rig();
    let entry = handler_addr(0x50);
    load(
        &mut cpu,
        entry,
        &asm(entry, |a| {
            a.mov(eax, cs)?;
            a.out(REPORT as u32, eax)?;
            a.mov(rax, rcx)?;
            a.out(REPORT as u32, eax)?;
            a.mov(rax, r11)?;
            a.out(REPORT as u32, eax)?;
            a.pushfq()?;
            a.pop(rax)?;
            a.out(REPORT as u32, eax)?;
            a.hlt()
        }),
    );
    let code = asm(CODE, |a| {
        let mut user = a.create_label();
        // STAR: syscall CS 0x08 / SS 0x10; sysret base 0x10 -> CS 0x23, SS 0x1b (SDM: +16, +8).
        a.mov(ecx, 0xc000_0081u32)?;
        a.xor(eax, eax)?;
        a.mov(edx, 0x0010_0008)?;
        a.wrmsr()?;
        a.mov(ecx, 0xc000_0082u32)?;
        a.mov(eax, entry as u32)?;
        a.xor(edx, edx)?;
        a.wrmsr()?;
        a.mov(ecx, 0xc000_0084u32)?;
        a.mov(eax, 0x200)?; // SFMASK: clear IF
        a.wrmsr()?;
        a.lea(rcx, ptr(user))?;
        a.mov(r11, 0x3202u64)?;
        a.sysretq()?;
        a.set_label(&mut user)?;
        a.mov(eax, cs)?;
        a.out(REPORT as u32, eax)?;
        a.mov(eax, 9u32)?;
        a.mov(edi, 0x1234u32)?;
        a.syscall()?;
        a.hlt()
    });
    let ret_at = CODE + code.len() as u64 - 1; // after syscall: the final hlt
    load(&mut cpu, CODE, &code);
    cpu.rip = CODE;
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    let r = reports(&bus);
    assert_eq!(r[0], 0x23, "user CS after sysretq");
    assert_eq!(r[1], 0x08, "kernel CS after syscall");
    assert_eq!(r[2], ret_at, "RCX = return address");
    assert_eq!(r[3] & 0x3202, 0x3202, "R11 = user RFLAGS");
    assert_eq!(r[4] & 0x200, 0, "SFMASK cleared IF");
    assert_eq!(cpu.cpl(), 0);
    assert_eq!(cpu.seg[SS as usize].selector, 0x10);
    assert_eq!(cpu.gpr[reg::RSP as usize], testing::STACK_TOP, "syscall does not switch stacks");
    // The observer saw the return to user mode and the system call with its arguments.
    use emulator::bus::CpuEvent;
    let seen: Vec<&CpuEvent> = bus.events.iter().filter(|e| matches!(e, CpuEvent::UserEntry { .. } | CpuEvent::Syscall { .. })).collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(seen[0], CpuEvent::UserEntry { rsp: stack, .. } if *stack == testing::STACK_TOP), "{seen:?}");
    assert!(matches!(seen[1], CpuEvent::Syscall { number: 9, args, rsp: stack, rip: at } if args[0] == 0x1234 && *stack == testing::STACK_TOP && *at == ret_at - 2), "{seen:?}");
}
