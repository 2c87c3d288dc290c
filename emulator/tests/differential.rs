//! Differential tests: every instruction form runs natively on the host (inline asm) and in
//! the emulator over the same generated inputs, and the registers, scratch memory and
//! flags must agree wherever the architecture defines them.
//!
//! Each form is written once, as assembly text. The native side executes it between
//! `popfq` and `pushfq`; the emulator side runs the very same machine code, which the
//! `form!` macro takes from the host's own copy of the instruction (placed behind a jump
//! in a second asm block), followed by `hlt`. So both sides always run identical encodings.
//!
//! Operands live in fixed registers: rax (a), rsi (b), rcx (count), rdx, r8, r9, and rdi
//! points into a scratch buffer holding `a` at `[rdi]` and `b` at `[rdi+8]`.
//!
//! What is compared (`compare.rs`): each suite's mask function says, per input, which
//! flags, register bits and memory the SDM defines. The emulator gives the undefined ones
//! the values AMD processors give (one fixed model, whatever the host), so on an AMD host
//! everything is compared, on any other host (Intel) only the defined part. Chains of
//! instructions get their mask from their code: an undefined flag copied into a register
//! (`setcc`, `adc`, `cmovcc`) makes that register undefined too. And on every host,
//! `masks_never_compare_undefined` checks each mask against what the code certainly leaves
//! undefined, so a mask that would fail on Intel fails on AMD as well.
//! `DIFF_ALL_FLAGS=1` compares everything on any host and prints per-flag mismatch counts,
//! for exploring a new host; `DIFF_DETAIL=n` lists up to n mismatching cases per form.

#![cfg(target_arch = "x86_64")]

use std::arch::asm;

use emulator::bus::TestBus;
use emulator::cpu::{reg, Cpu, Exit};
use emulator::testing;

#[path = "differential/compare.rs"]
mod compare;
use compare::{compared, defined_by_code, modelled, violations, written, Compare, Host, AF, ARITH, CF, OF, ZF};

/// Bytes of scratch memory, and where rdi points in it (16-byte aligned for cmpxchg16b).
const MEM: usize = 128;
const OFF: usize = 48;

/// Machine state visible to a test instruction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(C, align(16))]
struct St {
    mem: [u8; MEM],
    rax: u64,
    rcx: u64,
    rdx: u64,
    rsi: u64,
    r8: u64,
    r9: u64,
    flags: u64,
}

impl St {
    fn a(&self) -> u64 {
        u64::from_le_bytes(self.mem[OFF..OFF + 8].try_into().unwrap())
    }
    fn set_mem(&mut self, at: usize, v: u64) {
        self.mem[OFF + at..OFF + at + 8].copy_from_slice(&v.to_le_bytes());
    }
}

/// One instruction form: its text, a native runner, and its machine code.
struct Form {
    text: &'static str,
    native: fn(&mut St),
    code: Vec<u8>,
}

macro_rules! form {
    ($ins:expr) => {{
        fn native(s: &mut St) {
            let p = s.mem.as_mut_ptr().wrapping_add(OFF);
            // SAFETY: the instruction only uses the registers bound here, the flags and
            // memory through rdi inside `s.mem` (the generators keep offsets in range). The
            // red zone is skipped before the flags are pushed, and the stack is balanced.
            unsafe {
                asm!(
                    "lea rsp, [rsp - 128]",
                    "push {f}",
                    "popfq",
                    $ins,
                    "pushfq",
                    "pop {f}",
                    "lea rsp, [rsp + 128]",
                    f = inout(reg) s.flags,
                    inout("rax") s.rax,
                    inout("rcx") s.rcx,
                    inout("rdx") s.rdx,
                    inout("rsi") s.rsi,
                    inout("rdi") p => _,
                    inout("r8") s.r8,
                    inout("r9") s.r9,
                );
            }
        }
        fn code() -> Vec<u8> {
            let (start, end): (usize, usize);
            // SAFETY: only takes two addresses; the instruction is jumped over.
            unsafe {
                asm!(
                    "lea {s}, [rip + 2f]",
                    "lea {e}, [rip + 3f]",
                    "jmp 3f",
                    "2:",
                    $ins,
                    "3:",
                    s = out(reg) start,
                    e = out(reg) end,
                    options(nomem, nostack, preserves_flags),
                );
            }
            // SAFETY: [start, end) is machine code of this function, mapped readable.
            unsafe { std::slice::from_raw_parts(start as *const u8, end - start) }.to_vec()
        }
        Form { text: $ins, native, code: code() }
    }};
}

/// The four sizes of a `op dst, src` form with the given operand names.
macro_rules! sizes {
    ($op:literal, $d8:literal, $d16:literal, $d32:literal, $d64:literal) => {
        vec![form!(concat!($op, " ", $d8)), form!(concat!($op, " ", $d16)), form!(concat!($op, " ", $d32)), form!(concat!($op, " ", $d64))]
    };
}

/// Register-register, memory-register and register-memory forms in all sizes.
macro_rules! binary_forms {
    ($op:literal) => {{
        let mut v = sizes!($op, "al, sil", "ax, si", "eax, esi", "rax, rsi");
        v.extend(sizes!($op, "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
        v.extend(sizes!($op, "al, byte ptr [rdi+8]", "ax, word ptr [rdi+8]", "eax, dword ptr [rdi+8]", "rax, qword ptr [rdi+8]"));
        v.extend(sizes!($op, "al, 0x81", "ax, -3", "eax, 0x7fffffff", "rax, -0x80000000"));
        v.extend(sizes!($op, "byte ptr [rdi], 1", "word ptr [rdi], 0x8000", "dword ptr [rdi], -1", "qword ptr [rdi], 0x7f"));
        v.push(form!(concat!($op, " ah, cl")));
        v
    }};
}

macro_rules! unary_forms {
    ($op:literal) => {{
        let mut v = sizes!($op, "al", "ax", "eax", "rax");
        v.extend(sizes!($op, "byte ptr [rdi]", "word ptr [rdi]", "dword ptr [rdi]", "qword ptr [rdi]"));
        v.push(form!(concat!($op, " ch")));
        v
    }};
}

macro_rules! shift_forms {
    ($op:literal) => {{
        let mut v = sizes!($op, "al, cl", "ax, cl", "eax, cl", "rax, cl");
        v.extend(sizes!($op, "byte ptr [rdi], cl", "word ptr [rdi], cl", "dword ptr [rdi], cl", "qword ptr [rdi], cl"));
        v.extend(sizes!($op, "al, 1", "ax, 1", "eax, 1", "rax, 1"));
        v.extend(sizes!($op, "byte ptr [rdi], 1", "word ptr [rdi], 1", "dword ptr [rdi], 1", "qword ptr [rdi], 1"));
        v.extend(sizes!($op, "al, 9", "ax, 17", "eax, 31", "rax, 63"));
        v.extend(sizes!($op, "byte ptr [rdi], 3", "word ptr [rdi], 0", "dword ptr [rdi], 32", "qword ptr [rdi], 64"));
        v
    }};
}

macro_rules! double_forms {
    ($op:literal) => {{
        let mut v = sizes!($op, "ax, si, cl", "word ptr [rdi], si, cl", "eax, esi, cl", "rax, rsi, cl");
        v.extend(sizes!($op, "ax, si, 1", "word ptr [rdi], si, 20", "dword ptr [rdi], esi, cl", "qword ptr [rdi], rsi, cl"));
        v.extend(sizes!($op, "ax, si, 3", "ax, si, 16", "eax, esi, 1", "rax, rsi, 63"));
        v
    }};
}

// ----- inputs -----------------------------------------------------------------------------

/// xorshift64*: a fixed-seed generator, so every run tests the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

const EDGES: [u64; 26] = [
    0,
    1,
    2,
    0xf,
    0x10,
    0x7f,
    0x80,
    0x81,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0x8001,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0x8000_0001,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0x8000_0000_0000_0001,
    u64::MAX - 1,
    u64::MAX,
    0xffff_ffff_ffff_ff80,
];

/// A state with random registers, scratch memory and status flags (CF alternating with
/// `i`), holding `a` and `b`.
fn state(rng: &mut Rng, i: usize, a: u64, b: u64) -> St {
    let mut mem = [0u8; MEM];
    for c in mem.chunks_mut(8) {
        c.copy_from_slice(&rng.next().to_le_bytes());
    }
    let flags = (rng.next() & ARITH & !CF) | (i as u64 & 1) | 2;
    let mut s = St { mem, rax: a, rcx: rng.next(), rdx: rng.next(), rsi: b, r8: rng.next(), r9: rng.next(), flags };
    s.set_mem(0, a);
    s.set_mem(8, b);
    s
}

/// Edge values crossed with edge values, plus random pairs (biased towards small
/// magnitudes in some cases, so byte and word forms see interesting values too).
fn pairs(seed: u64) -> Vec<St> {
    let mut rng = Rng(seed);
    let mut v = Vec::new();
    let mut i = 0;
    for &a in &EDGES {
        for &b in &EDGES {
            v.push(state(&mut rng, i, a, b));
            i += 1;
        }
    }
    for _ in 0..600 {
        let (mut a, mut b) = (rng.next(), rng.next());
        if i % 3 == 0 {
            a >>= rng.next() % 64;
            b >>= rng.next() % 64;
        }
        v.push(state(&mut rng, i, a, b));
        i += 1;
    }
    v
}

/// Values crossed with counts 0..=65 (in CL, with garbage above) and both carries.
fn shifts(seed: u64) -> Vec<St> {
    let mut rng = Rng(seed);
    let mut vals: Vec<u64> = EDGES.to_vec();
    vals.extend((0..10).map(|_| rng.next()));
    let mut v = Vec::new();
    let mut i = 0;
    for &a in &vals {
        for c in 0..=65u64 {
            for _cf in 0..2 {
                let b = rng.next();
                let mut s = state(&mut rng, i, a, b);
                s.rcx = (rng.next() & !0xff) | c;
                v.push(s);
                i += 1;
            }
        }
    }
    v
}

// ----- the emulator side ------------------------------------------------------------------

const CODE: u64 = 0x10_0000;
const DE_HANDLER: u64 = 0x10_8000;
const DATA: u64 = 0x20_0000;

struct Emu {
    cpu: Cpu,
    bus: TestBus,
}

/// What happened to one case in the emulator.
enum Outcome {
    Done(St),
    /// The instruction raised an exception with this vector (its handler halted).
    Fault(u8),
}

impl Emu {
    fn new() -> Self {
        let mut cpu = testing::long_mode(4);
        testing::set_gate(&mut cpu, 0, DE_HANDLER, 0, 0, false);
        testing::load(&mut cpu, DE_HANDLER, &[0xf4]);
        Emu { cpu, bus: TestBus::default() }
    }

    fn load(&mut self, code: &[u8]) {
        let mut c = code.to_vec();
        c.push(0xf4); // hlt
        testing::load(&mut self.cpu, CODE, &c);
    }

    fn run(&mut self, s: &St) -> Outcome {
        let cpu = &mut self.cpu;
        cpu.gpr = [0; 32];
        cpu.gpr[reg::RAX as usize] = s.rax;
        cpu.gpr[reg::RCX as usize] = s.rcx;
        cpu.gpr[reg::RDX as usize] = s.rdx;
        cpu.gpr[reg::RSI as usize] = s.rsi;
        cpu.gpr[reg::RDI as usize] = DATA + OFF as u64;
        cpu.gpr[reg::R8 as usize] = s.r8;
        cpu.gpr[reg::R9 as usize] = s.r9;
        cpu.gpr[reg::RBX as usize] = 0x5a5a_5a5a_5a5a_5a5a;
        cpu.gpr[reg::RSP as usize] = testing::STACK_TOP;
        cpu.mem.load(DATA, &s.mem).unwrap();
        cpu.flags.set(s.flags);
        cpu.halted = false;
        cpu.rip = CODE;
        let before = cpu.stats.exceptions.clone();
        let exit = cpu.run(&mut self.bus, 100);
        assert_eq!(exit, Exit::HaltedForever, "emulator did not reach hlt");
        assert!(cpu.stats.unimplemented.is_empty(), "unimplemented: {:?}", cpu.stats.unimplemented);
        if let Some((&v, _)) = cpu.stats.exceptions.iter().find(|(v, n)| before.get(v) != Some(n)) {
            return Outcome::Fault(v);
        }
        let mut out = St {
            mem: [0; MEM],
            rax: cpu.gpr[reg::RAX as usize],
            rcx: cpu.gpr[reg::RCX as usize],
            rdx: cpu.gpr[reg::RDX as usize],
            rsi: cpu.gpr[reg::RSI as usize],
            r8: cpu.gpr[reg::R8 as usize],
            r9: cpu.gpr[reg::R9 as usize],
            flags: cpu.flags.get(),
        };
        cpu.mem.read(DATA, &mut out.mem).unwrap();
        Outcome::Done(out)
    }
}

// ----- comparison -------------------------------------------------------------------------

/// What the architecture defines of a form's outcome for an input.
type MaskFn = fn(&Form, &St) -> Compare;

/// Whether native execution of the input would raise #DE (the host would die of SIGFPE).
type FaultFn = fn(&Form, &St) -> bool;

fn never(_: &Form, _: &St) -> bool {
    false
}

/// Forms, the inputs they all run on, what is defined, and which inputs fault.
struct Suite {
    forms: Vec<Form>,
    inputs: Vec<St>,
    mask: MaskFn,
    faults: FaultFn,
}

fn suite(forms: Vec<Form>, inputs: Vec<St>, mask: MaskFn) -> Suite {
    Suite { forms, inputs, mask, faults: never }
}

/// Runs every suite; panics with a list of mismatches.
fn run(suites: Vec<Suite>) {
    let n: usize = suites.iter().map(check).sum();
    println!("{n} cases");
}

/// Runs every form over every input on both sides; returns the number of cases compared.
/// Panics with a list of mismatches.
fn check(suite: &Suite) -> usize {
    let mut emu = Emu::new();
    let mut bad = Vec::new();
    let mut count = 0;
    let explore = std::env::var_os("DIFF_ALL_FLAGS").is_some();
    let host = Host::this();
    let detail: usize = std::env::var("DIFF_DETAIL").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    for f in &suite.forms {
        emu.load(&f.code);
        let model = modelled(&f.code, &host);
        let mut n_bad = 0;
        let mut per_flag = [0usize; 12];
        let mut cases = 0;
        for s in &suite.inputs {
            let m = compared((suite.mask)(f, s), model, explore);
            let out = emu.run(s);
            count += 1;
            let fault = (suite.faults)(f, s);
            let msg = match (out, fault) {
                (Outcome::Fault(0), true) => continue,
                (Outcome::Fault(v), _) => format!("emulator raised exception {v}"),
                (Outcome::Done(_), true) => "emulator did not raise #DE".to_string(),
                (Outcome::Done(e), false) => {
                    let mut n = *s;
                    (f.native)(&mut n);
                    cases += 1;
                    for (b, c) in per_flag.iter_mut().enumerate() {
                        *c += (((n.flags ^ e.flags) & m.flags) >> b & 1) as usize;
                    }
                    let same_flags = (n.flags ^ e.flags) & m.flags == 0;
                    let mut d = String::new();
                    for (r, name, x, y) in [(reg::RAX, "rax", n.rax, e.rax), (reg::RCX, "rcx", n.rcx, e.rcx), (reg::RDX, "rdx", n.rdx, e.rdx), (reg::RSI, "rsi", n.rsi, e.rsi), (reg::R8, "r8", n.r8, e.r8), (reg::R9, "r9", n.r9, e.r9)] {
                        let bits = m.regs[r as usize];
                        if (x ^ y) & bits != 0 {
                            d += &format!(" {name}: host {x:#x} emu {y:#x} (compared bits {bits:#x});");
                        }
                    }
                    if m.mem && n.mem != e.mem {
                        d += &format!(" [rdi]: host {:#x} emu {:#x};", n.a(), e.a());
                    }
                    if !same_flags {
                        d += &format!(" flags (mask {:#x}): host {:#x} emu {:#x} diff {:#x};", m.flags, n.flags & ARITH, e.flags & ARITH, (n.flags ^ e.flags) & m.flags);
                    }
                    if d.is_empty() {
                        continue;
                    }
                    d
                }
            };
            n_bad += 1;
            if n_bad <= detail {
                bad.push(format!("{}: in rax={:#x} rsi={:#x} rcx={:#x} rdx={:#x} [rdi]={:#x} flags={:#x}:{}", f.text, s.rax, s.rsi, s.rcx, s.rdx, s.a(), s.flags & ARITH, msg));
            }
        }
        if per_flag.iter().any(|&c| c > 0) {
            let names = [(0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (11, "OF")];
            let d: Vec<String> = names.iter().filter(|(b, _)| per_flag[*b] > 0).map(|(b, n)| format!("{n} {}", per_flag[*b])).collect();
            eprintln!("flag mismatches in {} of {cases}: {}", f.text, d.join(", "));
        }
        if n_bad > detail {
            bad.push(format!("{}: ... {} mismatches in all", f.text, n_bad));
        }
    }
    assert!(bad.is_empty(), "{} mismatches (host {host:?}):\n{}", bad.len(), bad.join("\n"));
    count
}

/// The operand size of a form in bits, from its first operand's name.
fn width(f: &Form) -> u32 {
    let t = f.text;
    let first = t.split_once(' ').map_or("", |p| p.1);
    if first.starts_with("byte") || ["al", "ah", "ch", "cl", "sil"].iter().any(|r| first.starts_with(r) && !first[r.len()..].starts_with(|c: char| c.is_alphanumeric())) {
        8
    } else if first.starts_with("word") || ["ax", "si", "cx", "dx"].iter().any(|r| first.starts_with(r) && !first[r.len()..].starts_with(|c: char| c.is_alphanumeric())) {
        16
    } else if first.starts_with("dword") || first.starts_with('e') || first.starts_with("r8d") {
        32
    } else {
        64
    }
}

/// The count a shift form uses: its immediate, or CL.
fn shift_count(f: &Form, s: &St) -> u32 {
    let last = f.text.rsplit(", ").next().unwrap_or("");
    let c = if last == "cl" { s.rcx & 0xff } else { last.parse::<u64>().unwrap() };
    (c & if width(f) == 64 { 63 } else { 31 }) as u32
}

fn all(_: &Form, _: &St) -> Compare {
    Compare::ALL
}

fn no_af(_: &Form, _: &St) -> Compare {
    Compare::flags(ARITH & !AF)
}

/// For sequences: what their code defines, whatever the input.
fn by_code(f: &Form, _: &St) -> Compare {
    defined_by_code(&f.code)
}

// ----- tests ------------------------------------------------------------------------------

/// by_code: AF of the logic forms (lock and/or/xor) is undefined.
fn alu_arithmetic_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    for f in [binary_forms!("add"), binary_forms!("adc"), binary_forms!("sub"), binary_forms!("sbb"), binary_forms!("cmp")] {
        forms.extend(f);
    }
    for f in [unary_forms!("inc"), unary_forms!("dec"), unary_forms!("neg"), unary_forms!("not")] {
        forms.extend(f);
    }
    forms.extend(sizes!("lock add", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.extend(sizes!("lock", "adc qword ptr [rdi], rsi", "sbb dword ptr [rdi], esi", "sub word ptr [rdi], 5", "neg qword ptr [rdi]"));
    forms.extend(sizes!("lock", "inc dword ptr [rdi]", "dec byte ptr [rdi]", "not qword ptr [rdi]", "and word ptr [rdi], si"));
    forms.extend(sizes!("lock", "or byte ptr [rdi], sil", "xor qword ptr [rdi], rsi", "add dword ptr [rdi], -1", "sbb qword ptr [rdi], 1"));
    vec![suite(forms, pairs(1), by_code)]
}

/// Sequences that mix the lazily evaluated flags (add, sub, logic, inc, dec) with the
/// eager writers and readers, so flags cross from one representation to the other.
fn flag_chain_suites() -> Vec<Suite> {
    let forms = vec![
        form!("add eax, esi\nrcl rcx, 1\nadc rdx, r8"),
        form!("sub sil, al\nrcr ecx, cl\nsetc r9b\nsbb r8d, edx"),
        form!("inc rax\nshl rsi, cl\nadc rax, rsi"),
        form!("dec cx\nrol edx, 1\nadc ecx, eax\ncmc\nrcr r8, 1"),
        form!("xor eax, esi\nbt rcx, rdx\nadc rax, 0"),
        form!("cmp rax, rsi\nlahf\ninc rcx\nsahf\nsbb rdx, rcx"),
        form!("test al, sil\nstc\ninc r8\nadc r9, 0"),
        form!("add rax, rsi\nmul rcx\nadc rdx, 0\nsetz cl\nsets ch"),
        form!("sub esi, eax\nmovzx eax, al\ndiv r8b\nsetz cl\nsetp ch\nseto dl\nsetc dh"),
        form!("neg rsi\nbsf rax, rsi\ninc rcx\nsetc dl\nseto dh"),
        form!("dec esi\npopcnt eax, esi\nsetz cl\nadc edx, 0"),
        form!("add al, sil\nxadd cl, al\ncmovc r8, rsi\ncmovo r9, rax"),
        form!("cmp rax, rsi\ncmpxchg rcx, rdx\nsetz r8b\nsetb r9b"),
        form!("inc eax\nshld ecx, esi, 1\nsetc dl\nseto dh\nsbb eax, eax"),
    ];
    let mut inputs = pairs(15);
    for s in inputs.iter_mut() {
        // Keep div r8b from faulting: AX is at most 0xff there (movzx), the divisor >= 0x80.
        s.r8 |= 0x80;
    }
    // The DIV and BSF chains read undefined flags; `by_code` leaves out what they touch.
    vec![suite(forms, inputs, by_code)]
}

fn alu_logic_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    for f in [binary_forms!("and"), binary_forms!("or"), binary_forms!("xor")] {
        forms.extend(f);
    }
    forms.extend(sizes!("test", "al, sil", "ax, si", "eax, esi", "rax, rsi"));
    forms.extend(sizes!("test", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.extend(sizes!("test", "al, 0x81", "ax, 0x8000", "eax, 0x80000001", "rax, -2"));
    forms.extend(sizes!("xor", "al, al", "ax, ax", "eax, eax", "rax, rax"));
    forms.extend(sizes!("sub", "al, al", "ax, ax", "eax, eax", "rax, rax"));
    vec![suite(forms, pairs(2), no_af)]
}

/// shl/shr/sar: OF only for count 1, AF never (undefined), CF of shl and shr only while
/// the count is inside the operand (sar's fills with the sign).
fn shift_mask(f: &Form, s: &St) -> Compare {
    let c = shift_count(f, s);
    let past = c >= width(f) && !f.text.starts_with("sar");
    Compare::flags(match c {
        0 => ARITH,
        1 => ARITH & !AF,
        _ if past => ARITH & !AF & !OF & !CF,
        _ => ARITH & !AF & !OF,
    })
}

fn shift_and_rotate_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    for f in [shift_forms!("shl"), shift_forms!("shr"), shift_forms!("sar")] {
        forms.extend(f);
    }
    let mut rot = Vec::new();
    for f in [shift_forms!("rol"), shift_forms!("ror"), shift_forms!("rcl"), shift_forms!("rcr")] {
        rot.extend(f);
    }
    vec![suite(forms, shifts(3), shift_mask), suite(rot, shifts(4), rotate_mask)]
}

/// Rotates: CF when the masked count is not 0, OF for count 1; the rest unchanged.
fn rotate_mask(f: &Form, s: &St) -> Compare {
    Compare::flags(if shift_count(f, s) > 1 { ARITH & !OF } else { ARITH })
}

/// shld/shrd: a 16-bit count above 16 leaves result and flags undefined.
fn double_mask(f: &Form, s: &St) -> Compare {
    let c = shift_count(f, s);
    if width(f) == 16 && c > 16 {
        // Result and flags are undefined (the emulator models AMD's).
        return Compare::flags(0).without(&written(&f.code));
    }
    Compare::flags(match c {
        0 => ARITH,
        1 => ARITH & !AF,
        _ => ARITH & !AF & !OF,
    })
}

fn double_shift_suites() -> Vec<Suite> {
    let mut forms = double_forms!("shld");
    forms.extend(double_forms!("shrd"));
    vec![suite(forms, shifts(5), double_mask)]
}

/// mul/imul: CF and OF only.
fn mul_mask(_: &Form, _: &St) -> Compare {
    Compare::flags(CF | OF)
}

fn multiply_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    forms.extend(sizes!("mul", "sil", "si", "esi", "rsi"));
    forms.extend(sizes!("mul", "byte ptr [rdi+8]", "word ptr [rdi+8]", "dword ptr [rdi+8]", "qword ptr [rdi+8]"));
    forms.extend(sizes!("imul", "sil", "si", "esi", "rsi"));
    forms.extend(sizes!("imul", "byte ptr [rdi+8]", "word ptr [rdi+8]", "dword ptr [rdi+8]", "qword ptr [rdi+8]"));
    forms.extend(sizes!("imul", "ax, si", "eax, esi", "rax, rsi", "ax, word ptr [rdi+8]"));
    forms.extend(sizes!("imul", "eax, dword ptr [rdi+8]", "rax, qword ptr [rdi+8]", "ax, si, -3", "eax, esi, 0x7fffffff"));
    forms.extend(sizes!("imul", "rax, rsi, -0x80000000", "rax, qword ptr [rdi+8], 127", "eax, dword ptr [rdi+8], -128", "cx, word ptr [rdi], 0x4000"));
    forms.push(form!("mul ch"));
    vec![suite(forms, pairs(6), mul_mask)]
}

/// Whether a div/idiv form faults on this input (the model the host cannot run).
fn div_faults(f: &Form, s: &St) -> bool {
    let w = width(f);
    let signed = f.text.starts_with("idiv");
    let m = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let d = if f.text.contains("[rdi+8]") { u64::from_le_bytes(s.mem[OFF + 8..OFF + 16].try_into().unwrap()) } else { s.rsi } & m;
    let (hi, lo) = if w == 8 { ((s.rax >> 8) & 0xff, s.rax & 0xff) } else { (s.rdx & m, s.rax & m) };
    if d == 0 {
        return true;
    }
    let n = (hi as u128) << w | lo as u128;
    if signed {
        let sh = 128 - 2 * w;
        let n = ((n << sh) as i128) >> sh;
        let d = ((d as i128) << (128 - w)) >> (128 - w);
        match n.checked_div(d) {
            None => true,
            Some(q) => q < -(1i128 << (w - 1)) || q >= 1i128 << (w - 1),
        }
    } else {
        n / d as u128 > m as u128
    }
}

/// Inputs for division: dividends whose high half is often small or a sign extension, so
/// most cases do not overflow, plus edge divisors.
fn divisions(seed: u64) -> Vec<St> {
    let mut v = pairs(seed);
    let mut rng = Rng(seed ^ 0xd1d1);
    for (i, s) in v.iter_mut().enumerate() {
        s.rdx = match i % 4 {
            0 => 0,
            1 => u64::MAX,
            2 => rng.next() % 4,
            _ => rng.next(),
        };
        if i % 5 == 0 {
            // The byte form divides AX: make AH small too.
            s.rax &= !0xff00 | ((rng.next() % 3) << 8);
        }
    }
    v
}

fn divide_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    forms.extend(sizes!("div", "sil", "si", "esi", "rsi"));
    forms.extend(sizes!("div", "byte ptr [rdi+8]", "word ptr [rdi+8]", "dword ptr [rdi+8]", "qword ptr [rdi+8]"));
    forms.extend(sizes!("idiv", "sil", "si", "esi", "rsi"));
    forms.extend(sizes!("idiv", "byte ptr [rdi+8]", "word ptr [rdi+8]", "dword ptr [rdi+8]", "qword ptr [rdi+8]"));
    // Every status flag is undefined.
    vec![Suite { forms, inputs: divisions(7), mask: |_, _| Compare::flags(0), faults: div_faults }]
}

/// bt*: CF is the bit, ZF unchanged; OF, SF, AF and PF undefined.
fn bt_mask(_: &Form, _: &St) -> Compare {
    Compare::flags(CF | ZF)
}

/// Bit offsets for bt* with a register offset into memory: within ±255 bits of [rdi],
/// which stays inside the scratch buffer.
fn bit_offsets(seed: u64) -> Vec<St> {
    let mut v = pairs(seed);
    let mut rng = Rng(seed);
    for s in v.iter_mut() {
        s.rsi = (rng.next() % 511).wrapping_sub(255);
    }
    v
}

fn bit_test_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    for op in [0, 1, 2, 3] {
        let v = match op {
            0 => {
                let mut v = sizes!("bt", "ax, si", "eax, esi", "rax, rsi", "word ptr [rdi], 15");
                v.extend(sizes!("bt", "ax, 17", "eax, 31", "rax, 63", "dword ptr [rdi], 33"));
                v
            }
            1 => {
                let mut v = sizes!("bts", "ax, si", "eax, esi", "rax, rsi", "word ptr [rdi], 15");
                v.extend(sizes!("bts", "ax, 17", "eax, 31", "rax, 63", "qword ptr [rdi], 65"));
                v
            }
            2 => {
                let mut v = sizes!("btr", "ax, si", "eax, esi", "rax, rsi", "word ptr [rdi], 15");
                v.extend(sizes!("btr", "ax, 17", "eax, 31", "rax, 63", "dword ptr [rdi], 7"));
                v
            }
            _ => {
                let mut v = sizes!("btc", "ax, si", "eax, esi", "rax, rsi", "word ptr [rdi], 15");
                v.extend(sizes!("btc", "ax, 17", "eax, 31", "rax, 63", "qword ptr [rdi], 3"));
                v
            }
        };
        forms.extend(v);
    }
    // Register offsets into memory, reaching below and above the operand.
    let mut mem = Vec::new();
    mem.extend(sizes!("bt", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi", "word ptr [rdi+8], si"));
    mem.extend(sizes!("bts", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi", "dword ptr [rdi+8], esi"));
    mem.extend(sizes!("btr", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi", "qword ptr [rdi+8], rsi"));
    mem.extend(sizes!("btc", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi", "word ptr [rdi-8], si"));
    mem.extend(sizes!("lock", "bts word ptr [rdi], si", "btr dword ptr [rdi], esi", "btc qword ptr [rdi], rsi", "bts qword ptr [rdi+8], 40"));
    vec![suite(forms, pairs(8), bt_mask), suite(mem, bit_offsets(9), bt_mask)]
}

/// bsf/bsr: only ZF is defined, and the destination only for a non-zero source (AMD
/// leaves it unchanged, Intel documents it as undefined).
fn bit_scan_mask(f: &Form, s: &St) -> Compare {
    let w = width(f);
    let src = if w == 64 { s.rsi } else { s.rsi & ((1 << w) - 1) };
    let m = Compare::flags(ZF);
    if src == 0 {
        m.without(&written(&f.code))
    } else {
        m
    }
}

fn bit_scan_and_count_suites() -> Vec<Suite> {
    let mut forms = Vec::new();
    forms.extend(sizes!("bsf", "ax, si", "eax, esi", "rax, rsi", "eax, dword ptr [rdi+8]"));
    forms.extend(sizes!("bsr", "ax, si", "eax, esi", "rax, rsi", "rax, qword ptr [rdi+8]"));
    let mut inputs = pairs(10);
    for (i, s) in inputs.iter_mut().enumerate() {
        if i % 7 == 0 {
            s.rsi = 0; // the zero-source case, with garbage in the destination
        }
    }
    let mut suites = vec![suite(forms, inputs.clone(), bit_scan_mask)];
    if is_x86_feature_detected!("popcnt") {
        let counts = sizes!("popcnt", "ax, si", "eax, esi", "rax, rsi", "ax, word ptr [rdi+8]");
        suites.push(suite(counts, inputs.clone(), all));
    }
    // Without lzcnt or bmi1 the host runs these encodings as bsr and bsf.
    let mut counts = Vec::new();
    if is_x86_feature_detected!("lzcnt") {
        counts.extend(sizes!("lzcnt", "ax, si", "eax, esi", "rax, rsi", "eax, dword ptr [rdi+8]"));
    }
    if is_x86_feature_detected!("bmi1") {
        counts.extend(sizes!("tzcnt", "ax, si", "eax, esi", "rax, rsi", "rax, qword ptr [rdi+8]"));
    }
    // lzcnt/tzcnt: CF and ZF defined.
    suites.push(suite(counts, inputs, |_, _| Compare::flags(CF | ZF)));
    suites
}

fn byte_swap_and_exchange_suites() -> Vec<Suite> {
    let mut forms = vec![form!("bswap eax"), form!("bswap rax"), form!("bswap esi"), form!(".byte 0x66, 0x0f, 0xc8")];
    forms.extend(sizes!("xadd", "al, sil", "ax, si", "eax, esi", "rax, rsi"));
    forms.extend(sizes!("xadd", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.extend(sizes!("lock xadd", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.push(form!("xadd eax, eax"));
    if is_x86_feature_detected!("movbe") {
        forms.extend(sizes!("movbe", "ax, word ptr [rdi+8]", "eax, dword ptr [rdi+8]", "rax, qword ptr [rdi+8]", "word ptr [rdi], si"));
        forms.extend(sizes!("movbe", "dword ptr [rdi], esi", "qword ptr [rdi], rsi", "r8d, dword ptr [rdi]", "r9w, word ptr [rdi+1]"));
    }
    forms.extend(sizes!("cmpxchg", "cl, sil", "cx, si", "ecx, esi", "rcx, rsi"));
    forms.extend(sizes!("cmpxchg", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.extend(sizes!("lock cmpxchg", "byte ptr [rdi], sil", "word ptr [rdi], si", "dword ptr [rdi], esi", "qword ptr [rdi], rsi"));
    forms.push(form!("mov r9, rbx\nmov rbx, r8\ncmpxchg8b qword ptr [rdi]\nmov rbx, r9\nmov r9d, 0"));
    forms.push(form!("mov r9, rbx\nmov rbx, r8\nlock cmpxchg16b xmmword ptr [rdi]\nmov rbx, r9\nmov r9d, 0"));
    let mut inputs = pairs(11);
    for (i, s) in inputs.iter_mut().enumerate() {
        // Make the comparisons succeed half of the time.
        if i % 2 == 0 {
            s.rax = s.a();
            s.rcx = s.a();
            s.rdx = u64::from_le_bytes(s.mem[OFF + 8..OFF + 16].try_into().unwrap());
        } else if i % 4 == 1 {
            s.rax = s.a() ^ 1 << (i % 64);
        }
    }
    // by_code: the 16-bit bswap's result is undefined (AMD and the emulator clear it).
    vec![suite(forms, inputs, by_code)]
}

fn flag_instruction_suites() -> Vec<Suite> {
    let forms = vec![form!("clc"), form!("stc"), form!("cmc"), form!("lahf"), form!("sahf"), form!("sahf\nlahf")];
    let mut inputs = pairs(12);
    for (i, s) in inputs.iter_mut().enumerate() {
        s.rax = s.rax & !0xff00 | (i as u64 & 0xff) << 8;
    }
    let mut suites = vec![suite(forms, inputs.clone(), all)];
    // xlat reads [rbx + al]: point rbx at the buffer and keep al inside it.
    let x = vec![form!("mov r9, rbx\nlea rbx, [rdi - 48]\nxlatb\nmov rbx, r9\nmov r9d, 0")];
    for s in inputs.iter_mut() {
        s.rax = s.rax & !0xff | s.rax & 0x7f;
    }
    suites.push(suite(x, inputs, all));
    suites
}

#[test]
fn alu_arithmetic() {
    run(alu_arithmetic_suites());
}

/// Sequences that mix the lazily evaluated flags (add, sub, logic, inc, dec) with the
/// eager writers and readers, so flags cross from one representation to the other.
#[test]
fn flag_chains() {
    run(flag_chain_suites());
}

#[test]
fn alu_logic() {
    run(alu_logic_suites());
}

#[test]
fn shifts_and_rotates() {
    run(shift_and_rotate_suites());
}

#[test]
fn double_shifts() {
    run(double_shift_suites());
}

#[test]
fn multiply() {
    run(multiply_suites());
}

#[test]
fn divide() {
    run(divide_suites());
}

#[test]
fn bit_test() {
    run(bit_test_suites());
}

#[test]
fn bit_scan_and_count() {
    run(bit_scan_and_count_suites());
}

#[test]
fn byte_swap_and_exchange() {
    run(byte_swap_and_exchange_suites());
}

#[test]
fn flag_instructions() {
    run(flag_instruction_suites());
}

/// On any host: no mask compares what its code certainly leaves undefined for that input,
/// so a mask that only an AMD host would forgive (as `all` on the DIV chain was) fails
/// here on AMD too.
#[test]
fn masks_never_compare_undefined() {
    let groups = [
        alu_arithmetic_suites(),
        flag_chain_suites(),
        alu_logic_suites(),
        shift_and_rotate_suites(),
        double_shift_suites(),
        multiply_suites(),
        divide_suites(),
        bit_test_suites(),
        bit_scan_and_count_suites(),
        byte_swap_and_exchange_suites(),
        flag_instruction_suites(),
    ];
    let mut bad = Vec::new();
    let mut cases = 0;
    for suite in groups.iter().flatten() {
        for f in &suite.forms {
            let first = suite.inputs.iter().map(|s| violations(&(suite.mask)(f, s), &f.code)).find(|v| !v.is_empty());
            cases += suite.inputs.len();
            if let Some(v) = first {
                bad.push(format!("{}: the mask compares {v}", f.text.replace('\n', "; ")));
            }
        }
    }
    assert!(bad.is_empty(), "masks that compare undefined results:\n{}", bad.join("\n"));
    // The check can fail: the old `all` mask on the DIV chain.
    let div = form!("sub esi, eax\nmovzx eax, al\ndiv r8b\nsetz cl\nsetp ch\nseto dl\nsetc dh");
    let v = violations(&Compare::ALL, &div.code);
    assert_eq!(v.flags, ARITH);
    assert_eq!((v.regs[reg::RCX as usize], v.regs[reg::RDX as usize]), (0xffff, 0xffff));
    println!("{cases} cases");
}

/// The emulator-only checks that the host cannot run: #DE on every kind of overflow, and
/// cmpxchg16b's alignment rule.
#[test]
fn faults() {
    let mut emu = Emu::new();
    let f = form!("idiv rsi");
    emu.load(&f.code);
    let mut s = state(&mut Rng(13), 0, 0, u64::MAX);
    s.rdx = 1 << 63; // INT128_MIN / -1 overflows even 128 bits
    s.rax = 0;
    assert!(matches!(emu.run(&s), Outcome::Fault(0)));
    s.rdx = u64::MAX;
    s.rax = 1 << 63; // INT64_MIN / -1
    assert!(matches!(emu.run(&s), Outcome::Fault(0)));
    let f = form!("div sil");
    emu.load(&f.code);
    s.rax = 0x100;
    s.rsi = 1;
    assert!(matches!(emu.run(&s), Outcome::Fault(0)));
    s.rsi = 0;
    assert!(matches!(emu.run(&s), Outcome::Fault(0)));
    assert_eq!(emu.cpu.gpr[reg::RAX as usize], 0x100, "a faulting divide writes nothing");

    // A lock prefix on an instruction that cannot take it (here a register destination)
    // is #UD.
    let mut emu = Emu::new();
    testing::set_gate(&mut emu.cpu, 6, DE_HANDLER, 0, 0, false);
    emu.load(&[0xf0, 0x01, 0xf0]); // lock add eax, esi
    let s = state(&mut Rng(14), 0, 1, 2);
    assert!(matches!(emu.run(&s), Outcome::Fault(6)), "lock add eax, esi must raise #UD");
    assert_eq!(emu.cpu.gpr[reg::RAX as usize], 1);

    // cmpxchg16b on an address that is 8 but not 16 aligned: #GP(0).
    let f = form!("cmpxchg16b xmmword ptr [rdi+8]");
    let mut emu = Emu::new();
    testing::set_gate(&mut emu.cpu, 13, DE_HANDLER, 0, 0, false);
    emu.load(&f.code);
    let before = emu.cpu.stats.exceptions.get(&13).copied().unwrap_or(0);
    let cpu = &mut emu.cpu;
    cpu.gpr[reg::RDI as usize] = DATA;
    cpu.gpr[reg::RSP as usize] = testing::STACK_TOP;
    cpu.rip = CODE;
    cpu.halted = false;
    cpu.run(&mut emu.bus, 10);
    assert_eq!(cpu.stats.exceptions.get(&13).copied().unwrap_or(0), before + 1);
}
