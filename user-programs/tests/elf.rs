//! Checks every built user program (Rust and C) against what Pintos-KAIST's loader and the
//! no-SSE user ABI require, on the ELF files themselves: the kernel cannot run them yet.

use std::collections::BTreeSet;

use goblin::elf::header::{EM_X86_64, ET_EXEC};
use goblin::elf::program_header::{PF_X, PT_DYNAMIC, PT_INTERP, PT_LOAD};
use goblin::elf::section_header::{SHF_EXECINSTR, SHT_REL, SHT_RELA};
use goblin::elf::sym::{STB_GLOBAL, STT_FUNC};
use goblin::elf::Elf;
use iced_x86::{Code, Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};
use user_programs::{all_programs, c_programs, path, rust_programs};

/// Where Pintos-KAIST links user programs.
const USER_BASE: u64 = 0x40_0000;
/// The top of the user stack; its page is [USER_STACK - PGSIZE, USER_STACK).
const USER_STACK: u64 = 0x4748_0000;
/// Every address at or above it is kernel space.
const KERN_BASE: u64 = 0x80_0400_0000;
const PGSIZE: u64 = 4096;

/// Pintos' system call numbers the checks refer to.
const SYS_HALT: u64 = 0;
const SYS_EXIT: u64 = 1;
const SYS_WRITE: u64 = 10;
const SYS_MAX: u64 = 24;

struct Program {
    name: &'static str,
    bytes: Vec<u8>,
}

fn programs() -> Vec<Program> {
    all_programs()
        .into_iter()
        .map(|name| Program { name, bytes: std::fs::read(path(name)).unwrap_or_else(|e| panic!("read {name}: {e}")) })
        .collect()
}

fn parse(p: &Program) -> Elf<'_> {
    Elf::parse(&p.bytes).unwrap_or_else(|e| panic!("{}: not an ELF file: {e}", p.name))
}

/// The function symbol containing `addr`, for messages.
fn symbol_at(elf: &Elf, addr: u64) -> String {
    elf.syms
        .iter()
        .filter(|s| s.st_type() == STT_FUNC && s.st_value <= addr && addr < s.st_value + s.st_size.max(1))
        .filter_map(|s| elf.strtab.get_at(s.st_name))
        .next()
        .unwrap_or("?")
        .to_string()
}

/// Every instruction of every executable section.
fn instructions(p: &Program, elf: &Elf) -> Vec<Instruction> {
    let mut out = Vec::new();
    for sh in elf.section_headers.iter().filter(|s| s.sh_flags & u64::from(SHF_EXECINSTR) != 0) {
        let range = sh.file_range().unwrap_or_else(|| panic!("{}: executable section without file data", p.name));
        let mut decoder = Decoder::with_ip(64, &p.bytes[range], sh.sh_addr, DecoderOptions::NONE);
        let mut insn = Instruction::default();
        while decoder.can_decode() {
            decoder.decode_out(&mut insn);
            assert!(!insn.is_invalid(), "{}: undecodable bytes at {:#x} in {}", p.name, insn.ip(), symbol_at(elf, insn.ip()));
            out.push(insn);
        }
    }
    assert!(!out.is_empty(), "{}: no code", p.name);
    out
}

/// The registers an instruction names (operands and memory base/index).
fn registers(insn: &Instruction) -> impl Iterator<Item = Register> + '_ {
    let ops = (0..insn.op_count()).filter(|&i| insn.op_kind(i) == OpKind::Register).map(|i| insn.op_register(i));
    ops.chain([insn.memory_base(), insn.memory_index()])
}

/// The value in rax at each `syscall` instruction, when a nearby instruction sets it to a
/// constant (`mov eax, imm` or `xor eax, eax`) and nothing writes rax in between.
fn syscall_numbers(insns: &[Instruction]) -> (usize, BTreeSet<u64>) {
    let mut count = 0;
    let mut numbers = BTreeSet::new();
    for (i, insn) in insns.iter().enumerate() {
        if insn.mnemonic() != Mnemonic::Syscall {
            continue;
        }
        count += 1;
        for prev in insns[i.saturating_sub(8)..i].iter().rev() {
            let writes_rax = prev.op_count() > 0 && prev.op0_kind() == OpKind::Register && prev.op0_register().full_register() == Register::RAX;
            if !writes_rax {
                continue;
            }
            match prev.code() {
                Code::Mov_r32_imm32 | Code::Mov_r64_imm64 | Code::Mov_rm64_imm32 | Code::Mov_rm32_imm32 => {
                    numbers.insert(prev.immediate(1));
                }
                Code::Xor_r32_rm32 | Code::Xor_rm32_r32 if prev.op1_register() == prev.op0_register() => {
                    numbers.insert(0);
                }
                _ => {}
            }
            break;
        }
    }
    (count, numbers)
}

/// The build made the three Rust programs and the three C programs asked for.
#[test]
fn all_programs_are_built() {
    for name in ["echo", "exit", "halt"] {
        assert!(rust_programs().contains(&name), "Rust program {name} missing: {:?}", rust_programs());
    }
    for name in ["c-args", "c-exit", "c-halt"] {
        assert!(c_programs().contains(&name), "C program {name} missing: {:?}", c_programs());
    }
    for name in all_programs() {
        assert!(path(name).is_file(), "{} not built", path(name).display());
    }
}

/// ELF64, little-endian, x86-64, ET_EXEC (not PIE), with an entry point in user space.
#[test]
fn programs_are_x86_64_executables_with_user_entry() {
    for p in programs() {
        let elf = parse(&p);
        assert!(elf.is_64 && elf.little_endian, "{}: not ELF64 little-endian", p.name);
        assert_eq!(elf.header.e_machine, EM_X86_64, "{}: not x86-64", p.name);
        assert_eq!(elf.header.e_type, ET_EXEC, "{}: not ET_EXEC", p.name);
        let entry = elf.entry;
        assert!((USER_BASE..USER_STACK - PGSIZE).contains(&entry), "{}: entry {entry:#x} outside the user image range", p.name);
        let in_code = elf.program_headers.iter().any(|ph| ph.p_type == PT_LOAD && ph.p_flags & PF_X != 0 && ph.vm_range().contains(&(entry as usize)));
        assert!(in_code, "{}: entry {entry:#x} not in an executable PT_LOAD", p.name);
    }
}

/// Every PT_LOAD lies in [0x400000, KERN_BASE), below the stack page, and is loadable by
/// Pintos (file offset and address agree modulo the page size, filesz <= memsz).
#[test]
fn load_segments_are_in_the_user_address_space() {
    for p in programs() {
        let elf = parse(&p);
        let loads: Vec<_> = elf.program_headers.iter().filter(|ph| ph.p_type == PT_LOAD).collect();
        assert!(!loads.is_empty(), "{}: no PT_LOAD", p.name);
        for ph in loads {
            let (start, end) = (ph.p_vaddr, ph.p_vaddr + ph.p_memsz);
            assert!(start >= USER_BASE, "{}: segment at {start:#x} below {USER_BASE:#x}", p.name);
            assert!(end <= KERN_BASE, "{}: segment [{start:#x}, {end:#x}) reaches kernel space", p.name);
            assert!(end <= USER_STACK - PGSIZE, "{}: segment [{start:#x}, {end:#x}) overlaps the stack page", p.name);
            assert_eq!(ph.p_offset % PGSIZE, ph.p_vaddr % PGSIZE, "{}: segment at {start:#x}: offset and address differ within a page", p.name);
            assert!(ph.p_filesz <= ph.p_memsz, "{}: segment at {start:#x}: filesz > memsz", p.name);
        }
    }
}

/// Static: no interpreter, no dynamic section, no relocation sections.
#[test]
fn programs_are_static() {
    for p in programs() {
        let elf = parse(&p);
        for ph in &elf.program_headers {
            assert_ne!(ph.p_type, PT_INTERP, "{}: has PT_INTERP", p.name);
            assert_ne!(ph.p_type, PT_DYNAMIC, "{}: has PT_DYNAMIC", p.name);
        }
        assert!(elf.dynamic.is_none(), "{}: has a dynamic section", p.name);
        assert!(elf.interpreter.is_none(), "{}: has an interpreter", p.name);
        for sh in &elf.section_headers {
            assert!(sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL, "{}: has relocation section {:?}", p.name, elf.shdr_strtab.get_at(sh.sh_name));
        }
    }
}

/// The entry point is the global function `_start`.
#[test]
fn entry_symbol_is_start() {
    for p in programs() {
        let elf = parse(&p);
        let at_entry: Vec<_> = elf
            .syms
            .iter()
            .filter(|s| s.st_value == elf.entry && s.st_type() == STT_FUNC)
            .filter_map(|s| Some((elf.strtab.get_at(s.st_name)?, s.st_bind())))
            .collect();
        assert!(at_entry.iter().any(|&(name, bind)| name == "_start" && bind == STB_GLOBAL), "{}: symbols at entry {:#x}: {at_entry:?}", p.name, elf.entry);
    }
}

/// No instruction in any executable section uses an XMM/YMM/ZMM register: the programs
/// are built without SSE, as Pintos user code is (-mno-sse).
#[test]
fn code_uses_no_sse_registers() {
    for p in programs() {
        let elf = parse(&p);
        let insns = instructions(&p, &elf);
        let bad: Vec<String> = insns
            .iter()
            .filter(|i| registers(i).any(|r| r.is_xmm() || r.is_ymm() || r.is_zmm()))
            .take(5)
            .map(|i| format!("{:#x} {} in {}", i.ip(), i, symbol_at(&elf, i.ip())))
            .collect();
        assert!(bad.is_empty(), "{}: SSE instructions: {bad:#?}", p.name);
    }
}

/// The system calls go through the `syscall` instruction with their number in rax:
/// every program exits (EXIT = 1) after writing (WRITE = 10), halt programs halt
/// (HALT = 0), and no constant number is outside Pintos' table.
#[test]
fn syscalls_use_the_syscall_instruction_with_pintos_numbers() {
    for p in programs() {
        let elf = parse(&p);
        let (count, numbers) = syscall_numbers(&instructions(&p, &elf));
        assert!(count > 0, "{}: no syscall instruction", p.name);
        assert!(numbers.contains(&SYS_EXIT), "{}: no syscall with rax = EXIT; numbers seen: {numbers:?}", p.name);
        assert!(numbers.contains(&SYS_WRITE), "{}: no syscall with rax = WRITE; numbers seen: {numbers:?}", p.name);
        if p.name.ends_with("halt") {
            assert!(numbers.contains(&SYS_HALT), "{}: no syscall with rax = HALT; numbers seen: {numbers:?}", p.name);
        }
        assert!(numbers.iter().all(|&n| n <= SYS_MAX), "{}: unknown system call numbers {numbers:?}", p.name);
    }
}

/// The checks above would notice: a hand-made `mov eax, 1; syscall` is read as EXIT, and
/// an SSE instruction is seen as using XMM registers.
#[test]
fn checks_recognise_syscall_numbers_and_sse() {
    let code = [0xb8, 0x01, 0x00, 0x00, 0x00, 0x48, 0x89, 0xdf, 0x0f, 0x05, 0x31, 0xc0, 0x0f, 0x05];
    let insns: Vec<Instruction> = Decoder::with_ip(64, &code, 0x400000, DecoderOptions::NONE).into_iter().collect();
    assert_eq!(syscall_numbers(&insns), (2, BTreeSet::from([0, 1])));
    let sse = [0x66, 0x0f, 0xef, 0xc0]; // pxor xmm0, xmm0
    let insn = Decoder::with_ip(64, &sse, 0, DecoderOptions::NONE).decode();
    assert!(registers(&insn).any(|r| r.is_xmm()));
}
