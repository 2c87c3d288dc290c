//! String instructions against a simple reference model: every kind and size, both
//! directions, rep counts 0/1/many, overlapping copies, faults in the middle of a repeat,
//! address-size wrapping, rep insw and self-modifying code.

use emulator::bus::TestBus;
use emulator::cpu::flags::DF;
use emulator::cpu::segment::*;
use emulator::cpu::{reg, Cpu, Exit};
use emulator::testing;

const CODE: u64 = 0x10_0000;
const SRC: u64 = 0x20_0000;
const DST: u64 = 0x28_0000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Movs,
    Stos,
    Lods,
    Cmps,
    Scas,
}

const KINDS: [K; 5] = [K::Movs, K::Stos, K::Lods, K::Cmps, K::Scas];

/// Encodes one string instruction: `rep` 0 = none, 1 = F3, 2 = F2; `a32` adds 0x67.
fn enc(k: K, size: usize, rep: u8, a32: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if a32 {
        v.push(0x67);
    }
    match rep {
        1 => v.push(0xf3),
        2 => v.push(0xf2),
        _ => {}
    }
    if size == 2 {
        v.push(0x66);
    }
    if size == 8 {
        v.push(0x48);
    }
    let base = match k {
        K::Movs => 0xa4,
        K::Cmps => 0xa6,
        K::Stos => 0xaa,
        K::Lods => 0xac,
        K::Scas => 0xae,
    };
    v.push(base + (size > 1) as u8);
    v
}

/// Architectural state the model tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Regs {
    si: u64,
    di: u64,
    cx: u64,
    ax: u64,
}

fn rd(mem: &[u8], a: u64, s: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..s].copy_from_slice(&mem[a as usize..a as usize + s]);
    u64::from_le_bytes(b)
}

fn wr(mem: &mut [u8], a: u64, s: usize, v: u64) {
    mem[a as usize..a as usize + s].copy_from_slice(&v.to_le_bytes()[..s]);
}

/// The reference: the SDM's pseudo-code, one element at a time, on a flat memory image
/// (64-bit addressing, segment bases 0). Returns the last compare's operands, if any.
fn model(k: K, s: usize, rep: u8, df: bool, mem: &mut [u8], r: &mut Regs) -> Option<(u64, u64)> {
    let m = if s == 8 { u64::MAX } else { (1u64 << (8 * s)) - 1 };
    let step = if df { (s as u64).wrapping_neg() } else { s as u64 };
    let mut last = None;
    loop {
        if rep != 0 && r.cx == 0 {
            break;
        }
        match k {
            K::Movs => {
                let v = rd(mem, r.si, s);
                wr(mem, r.di, s, v);
                r.si = r.si.wrapping_add(step);
                r.di = r.di.wrapping_add(step);
            }
            K::Stos => {
                wr(mem, r.di, s, r.ax & m);
                r.di = r.di.wrapping_add(step);
            }
            K::Lods => {
                let v = rd(mem, r.si, s);
                r.ax = if s == 4 { v } else { (r.ax & !m) | v };
                r.si = r.si.wrapping_add(step);
            }
            K::Cmps => {
                last = Some((rd(mem, r.si, s), rd(mem, r.di, s)));
                r.si = r.si.wrapping_add(step);
                r.di = r.di.wrapping_add(step);
            }
            K::Scas => {
                last = Some((r.ax & m, rd(mem, r.di, s)));
                r.di = r.di.wrapping_add(step);
            }
        }
        if rep == 0 {
            break;
        }
        r.cx -= 1;
        if let Some((a, b)) = last {
            if (rep == 1 && a != b) || (rep == 2 && a == b) {
                break;
            }
        }
    }
    last
}

fn pattern(i: u64, seed: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(seed * 7) % 251) as u8
}

/// Runs `code` + HLT at CODE in 64-bit mode after `setup`; expects it to halt.
fn run64(code: &[u8], setup: impl FnOnce(&mut Cpu)) -> (Cpu, TestBus) {
    let mut cpu = testing::long_mode(4);
    let mut c = code.to_vec();
    c.push(0xf4);
    testing::load(&mut cpu, CODE, &c);
    setup(&mut cpu);
    let mut bus = TestBus::default();
    let exit = cpu.run(&mut bus, 1_000_000);
    assert_eq!(exit, Exit::HaltedForever, "{}", cpu.dump());
    (cpu, bus)
}

fn snapshot(cpu: &Cpu) -> Vec<u8> {
    cpu.mem.as_slice().to_vec()
}

fn set_regs(cpu: &mut Cpu, r: &Regs, df: bool) {
    cpu.gpr[reg::RSI as usize] = r.si;
    cpu.gpr[reg::RDI as usize] = r.di;
    cpu.gpr[reg::RCX as usize] = r.cx;
    cpu.gpr[reg::RAX as usize] = r.ax;
    if df {
        cpu.flags.set(cpu.flags.get() | DF);
    }
}

fn regs_of(cpu: &Cpu) -> Regs {
    Regs { si: cpu.gpr[reg::RSI as usize], di: cpu.gpr[reg::RDI as usize], cx: cpu.gpr[reg::RCX as usize], ax: cpu.gpr[reg::RAX as usize] }
}

/// Compares one instruction run by the emulator against the model.
fn check(k: K, s: usize, rep: u8, df: bool, init: Regs, prepare: impl Fn(&mut Cpu)) {
    let code = enc(k, s, rep, false);
    let mut expect_mem = Vec::new();
    let mut expect = init;
    let (cpu, _) = run64(&code, |cpu| {
        prepare(cpu);
        set_regs(cpu, &init, df);
        expect_mem = snapshot(cpu);
    });
    let last = model(k, s, rep, df, &mut expect_mem, &mut expect);
    let what = format!("{k:?} size {s} rep {rep} df {df} init {init:x?}");
    assert_eq!(regs_of(&cpu), expect, "{what}");
    // Above 1 MiB: the page tables below get accessed/dirty bits the model does not track.
    let lo = 0x10_0000;
    let got = &cpu.mem.as_slice()[lo..];
    if let Some(i) = (got != &expect_mem[lo..]).then(|| (lo..expect_mem.len()).find(|&i| cpu.mem.as_slice()[i] != expect_mem[i])).flatten() {
        panic!("{what}: memory differs at {i:#x}: {:#x} != {:#x}", cpu.mem.as_slice()[i], expect_mem[i]);
    }
    if let Some((a, b)) = last {
        let m = if s == 8 { u64::MAX } else { (1u64 << (8 * s)) - 1 };
        assert_eq!(cpu.flags.zf(), a == b, "{what}: ZF");
        assert_eq!(cpu.flags.cf(), a < b, "{what}: CF");
        assert_eq!(cpu.flags.sf(), a.wrapping_sub(b) & m & (1 << (8 * s - 1)) != 0, "{what}: SF");
    }
}

/// Fills the source area with a pattern and the destination with the same pattern up to
/// `same` bytes, different afterwards (so repe/repne stop somewhere interesting).
fn fill(cpu: &mut Cpu, len: u64, same: u64) {
    let src: Vec<u8> = (0..len).map(|i| pattern(i, 1)).collect();
    let dst: Vec<u8> = (0..len).map(|i| if i < same { pattern(i, 1) } else { pattern(i, 2) ^ 0x55 }).collect();
    cpu.mem.load(SRC - len / 2, &src).unwrap();
    cpu.mem.load(DST - len / 2, &dst).unwrap();
}

#[test]
fn every_kind_size_direction_and_count() {
    for k in KINDS {
        for s in [1usize, 2, 4, 8] {
            for df in [false, true] {
                for (rep, counts) in [(0u8, &[5u64][..]), (1, &[0, 1, 2, 37, 1000, 9000][..]), (2, &[0, 1, 37, 1000][..])] {
                    if rep == 2 && !matches!(k, K::Cmps | K::Scas) {
                        continue;
                    }
                    for &cx in counts {
                        // Equal for a while, then different: repe stops at the first
                        // difference, repne runs until the count or an equal element.
                        let same = 100 + cx * s as u64 / 3;
                        let ax = if k == K::Scas { u64::from_le_bytes([pattern(0, 1); 8]) } else { 0x1122_3344_5566_7788 };
                        let init = Regs { si: SRC + 3, di: DST + 3, cx, ax };
                        check(k, s, rep, df, init, |cpu| fill(cpu, 0x20000, same));
                    }
                }
            }
        }
    }
}

#[test]
fn overlapping_copies_match_the_element_loop() {
    for s in [1usize, 2, 4, 8] {
        for d in -20i64..=20 {
            for &cx in &[1u64, 3, 17, 700, 5000] {
                for df in [false, true] {
                    // Near a page boundary so runs split at pages.
                    let si = SRC + 0xf00 + 5;
                    let init = Regs { si, di: si.wrapping_add(d as u64), cx, ax: 0 };
                    check(K::Movs, s, 1, df, init, |cpu| fill(cpu, 0x10000, 0));
                }
            }
        }
    }
}

#[test]
fn long_repeat_runs_in_chunks_and_restarts() {
    let code = enc(K::Movs, 1, 1, false);
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
    fill(&mut cpu, 0x20000, 0);
    set_regs(&mut cpu, &Regs { si: SRC, di: DST, cx: 10_000, ax: 0 }, false);
    let mut bus = TestBus::default();
    // One instruction of budget: one chunk, and RIP stays on the instruction.
    assert_eq!(cpu.run(&mut bus, 1), Exit::Budget);
    assert_eq!(cpu.rip, CODE);
    assert_eq!(cpu.icount, 1);
    let done = 10_000 - cpu.gpr[reg::RCX as usize];
    assert!(done > 0 && done <= 4096, "{done}");
    assert_eq!(cpu.gpr[reg::RSI as usize], SRC + done);
    assert_eq!(cpu.gpr[reg::RDI as usize], DST + done);
    assert_eq!(cpu.run(&mut bus, 100), Exit::HaltedForever);
    assert_eq!(cpu.gpr[reg::RCX as usize], 0);
    let mut a = vec![0u8; 10_000];
    let mut b = vec![0u8; 10_000];
    cpu.mem.read(SRC, &mut a).unwrap();
    cpu.mem.read(DST, &mut b).unwrap();
    assert_eq!(a, b);
    // 10000 bytes in chunks of at most 4096, plus the HLT.
    assert_eq!(cpu.icount, 3 + 1);
}

/// Unmaps the 2 MiB page at 0x20_0000 (page directory entry 1 of the identity map).
fn unmap_2m(cpu: &mut Cpu) {
    cpu.mem.write_u64(0x3000 + 8, 0).unwrap();
    cpu.flush_tlb();
}

#[test]
fn fault_in_the_middle_of_rep_movs_is_restartable() {
    for s in [1usize, 2, 4, 8] {
        let code = enc(K::Movs, s, 1, false);
        let mut cpu = testing::long_mode(4);
        testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
        testing::load(&mut cpu, CODE + 0x1000, &[0xf4]); // #PF handler: hlt
        testing::set_gate(&mut cpu, 14, CODE + 0x1000, 0, 0, false);
        cpu.rip = CODE;
        let src = 0x1f_ff00u64; // 0x100 bytes before the unmapped 2 MiB page
        let data: Vec<u8> = (0..0x400).map(|i| pattern(i, 3)).collect();
        cpu.mem.load(src, &data).unwrap();
        let count = 0x300 / s as u64;
        set_regs(&mut cpu, &Regs { si: src, di: 0x18_0000, cx: count, ax: 0 }, false);
        unmap_2m(&mut cpu);
        let mut bus = TestBus::default();
        assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
        // Exactly the elements before the page boundary are done.
        let done = 0x100 / s as u64;
        assert_eq!(cpu.cr2, 0x20_0000);
        assert_eq!(cpu.gpr[reg::RCX as usize], count - done);
        assert_eq!(cpu.gpr[reg::RSI as usize], 0x20_0000);
        assert_eq!(cpu.gpr[reg::RDI as usize], 0x18_0100);
        let mut got = vec![0u8; 0x100];
        cpu.mem.read(0x18_0000, &mut got).unwrap();
        assert_eq!(got, data[..0x100]);
        let rsp = cpu.gpr[reg::RSP as usize];
        assert_eq!(cpu.mem.read_u64(rsp).unwrap(), 0, "error code: not present, read, supervisor");
        assert_eq!(cpu.mem.read_u64(rsp + 8).unwrap(), CODE, "the frame returns to the rep instruction");
        // "Handle" the fault: map the page again and return to the instruction.
        cpu.mem.write_u64(0x3000 + 8, 0x20_0000 | 0x87).unwrap();
        cpu.flush_tlb();
        cpu.gpr[reg::RSP as usize] = cpu.mem.read_u64(rsp + 32).unwrap();
        cpu.rip = CODE;
        cpu.halted = false;
        assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
        assert_eq!(cpu.gpr[reg::RCX as usize], 0);
        let mut got = vec![0u8; 0x300];
        cpu.mem.read(0x18_0000, &mut got).unwrap();
        assert_eq!(got, data[..0x300]);
    }
}

#[test]
fn fault_on_the_destination_side_of_rep_stos() {
    let code = enc(K::Stos, 4, 1, false);
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
    testing::load(&mut cpu, CODE + 0x1000, &[0xf4]);
    testing::set_gate(&mut cpu, 14, CODE + 0x1000, 0, 0, false);
    cpu.rip = CODE;
    // DF = 1, going down from the unmapped page into the mapped one would never fault;
    // go up instead, ending inside the hole.
    set_regs(&mut cpu, &Regs { si: 0, di: 0x1f_fff0 + 2, cx: 100, ax: 0xabcd_ef01 }, false);
    unmap_2m(&mut cpu);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
    // Elements at ...f2, f6, fa are done; the one at ...fe straddles into the hole.
    assert_eq!(cpu.gpr[reg::RCX as usize], 97);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x1f_fffe);
    assert_eq!(cpu.cr2, 0x20_0000);
    let rsp = cpu.gpr[reg::RSP as usize];
    assert_eq!(cpu.mem.read_u64(rsp).unwrap(), 2, "error code: not present, write");
    assert_eq!(cpu.mem.read_u32(0x1f_fffa).unwrap(), 0xabcd_ef01);
    // Nothing of the straddling element was written.
    assert_eq!(&cpu.mem.as_slice()[0x1f_fffe..0x20_0000], &[0, 0]);
}

#[test]
fn address_size_32_wraps_in_64_bit_mode() {
    // Map 0xffe0_0000.. (the top 2 MiB below 4 GiB) to physical 0x20_0000.
    let map_top = |cpu: &mut Cpu| {
        cpu.mem.write_u64(0x2000 + 3 * 8, 0x4000 | 7).unwrap();
        cpu.mem.write_u64(0x4000 + 511 * 8, 0x20_0000 | 0x87).unwrap();
        cpu.flush_tlb();
        cpu.mem.load(0x3f_fffe, &[0xaa, 0xbb]).unwrap();
        cpu.mem.load(0, &[0xcc, 0xdd]).unwrap();
    };
    // 67 F3 A4: rep movsb with ESI/EDI/ECX; the upper halves are ignored and zeroed.
    let code = enc(K::Movs, 1, 1, true);
    let (cpu, _) = run64(&code, |cpu| {
        map_top(cpu);
        set_regs(cpu, &Regs { si: 0xdead_0000_ffff_fffe, di: 0x7777_0000_0018_0000, cx: 0x1_0000_0004, ax: 0 }, false);
    });
    assert_eq!(&cpu.mem.as_slice()[0x18_0000..0x18_0004], &[0xaa, 0xbb, 0xcc, 0xdd]);
    assert_eq!(cpu.gpr[reg::RSI as usize], 2);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x18_0004);
    assert_eq!(cpu.gpr[reg::RCX as usize], 0);
    // The same backwards with 32-bit stosw through zero.
    let code = [&[0xfdu8][..], &enc(K::Stos, 2, 1, true)].concat();
    let (cpu, _) = run64(&code, |cpu| {
        map_top(cpu);
        set_regs(cpu, &Regs { si: 0, di: 0x1_0000_0002, cx: 3, ax: 0x1234 }, false);
    });
    // di = 2, 0, 0xfffffffe.
    assert_eq!(cpu.mem.read_u32(0).unwrap(), 0x1234_1234);
    assert_eq!(cpu.mem.read_u32(0x3f_fffc).unwrap() >> 16, 0x1234);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0xffff_fffc);
}

/// Runs `code` + HLT in real mode at 0000:7c00 after `setup`.
fn run_real(code: &[u8], setup: impl FnOnce(&mut Cpu)) -> Cpu {
    let mut cpu = testing::real_mode(4);
    testing::load(&mut cpu, 0x7c00, &[code, &[0xf4]].concat());
    setup(&mut cpu);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 100_000), Exit::HaltedForever, "{}", cpu.dump());
    cpu
}

fn set_seg_real(cpu: &mut Cpu, s: u8, sel: u16) {
    let attr = cpu.seg[s as usize].attr;
    cpu.seg[s as usize] = Segment::real(sel, attr);
    cpu.update_mode();
}

#[test]
fn address_size_16_wraps_in_real_mode() {
    // rep movsw: DS=0x1000, SI=0xfffe -> wraps to 0; ES=0x2000, DI=0x0000.
    let code = [0xf3, 0xa5];
    let cpu = run_real(&code, |cpu| {
        set_seg_real(cpu, DS, 0x1000);
        set_seg_real(cpu, ES, 0x2000);
        cpu.mem.load(0x1fffe, &[1, 2]).unwrap();
        cpu.mem.load(0x10000, &[3, 4, 5, 6]).unwrap();
        set_regs(cpu, &Regs { si: 0xabcd_fffe, di: 0x5555_0000, cx: 0x7777_0003, ax: 0 }, false);
    });
    assert_eq!(&cpu.mem.as_slice()[0x20000..0x20006], &[1, 2, 3, 4, 5, 6]);
    // 16-bit writes merge into the upper bits.
    assert_eq!(cpu.gpr[reg::RSI as usize], 0xabcd_0004);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x5555_0006);
    assert_eq!(cpu.gpr[reg::RCX as usize], 0x7777_0000);
    // A segment override on the source: FS.
    let code = [0x64, 0xa4];
    let cpu = run_real(&code, |cpu| {
        set_seg_real(cpu, FS, 0x3000);
        cpu.mem.load(0x30010, &[0x99]).unwrap();
        set_regs(cpu, &Regs { si: 0x10, di: 0x500, cx: 0, ax: 0 }, false);
    });
    assert_eq!(cpu.mem.as_slice()[0x500], 0x99);
    // A word straddling the segment end faults (#GP in real mode -> IVT vector 13, which
    // points at 0000:0000 here; we only check that nothing was written and SI is intact).
    let code = [0xa5];
    let mut cpu = testing::real_mode(4);
    testing::load(&mut cpu, 0x7c00, &[&code[..], &[0xf4]].concat());
    cpu.mem.load(0, &[0u8; 0x400]).unwrap();
    cpu.mem.write_u32(13 * 4, 0x0000_7d00).unwrap();
    testing::load(&mut cpu, 0x7d00, &[0xf4]);
    cpu.rip = 0x7c00;
    set_regs(&mut cpu, &Regs { si: 0xffff, di: 0x600, cx: 0, ax: 0 }, false);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 100), Exit::HaltedForever);
    assert_eq!(cpu.rip, 0x7d01);
    assert_eq!(cpu.gpr[reg::RSI as usize], 0xffff);
    assert_eq!(cpu.mem.read_u32(0x600).unwrap(), 0);
}

#[test]
fn address_size_16_via_prefix_in_protected_mode() {
    let mut cpu = testing::protected_mode(4);
    // 67 F3 AA: rep stosb with DI/CX in 32-bit code.
    testing::load(&mut cpu, CODE, &[0x67, 0xf3, 0xaa, 0xf4]);
    set_regs(&mut cpu, &Regs { si: 0, di: 0x1234_fffe, cx: 0xffff_0004, ax: 0x5a }, false);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(&cpu.mem.as_slice()[0xfffe..0x10000], &[0x5a, 0x5a]);
    assert_eq!(&cpu.mem.as_slice()[0..2], &[0x5a, 0x5a]);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x1234_0002);
    assert_eq!(cpu.gpr[reg::RCX as usize], 0xffff_0000);
}

#[test]
fn rep_insw_reads_a_sector_from_a_port() {
    // mov dx, 0x1f0; rep insw
    let code = [0x66, 0xba, 0xf0, 0x01, 0xf3, 0x66, 0x6d];
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
    set_regs(&mut cpu, &Regs { si: 0, di: DST, cx: 256, ax: 0 }, false);
    let mut bus = TestBus::default();
    bus.inputs.insert(0x1f0, 0xbeef);
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
    assert_eq!(cpu.gpr[reg::RCX as usize], 0);
    assert_eq!(cpu.gpr[reg::RDI as usize], DST + 512);
    assert!(cpu.mem.as_slice()[DST as usize..DST as usize + 512].chunks(2).all(|w| w == [0xef, 0xbe]));
    assert_eq!(cpu.mem.as_slice()[DST as usize + 512], 0);
    // mov dx, imm; rep insw; hlt: the whole sector moves in one instruction.
    assert_eq!(cpu.icount, 3);
}

#[test]
fn outs_and_lods_ins_single() {
    // mov dx, 0x80; outsb; outsw (with fs override); outsd; insb; hlt
    let code = [0x66, 0xba, 0x80, 0x00, 0x6e, 0x64, 0x66, 0x6f, 0x6f, 0x6c];
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
    cpu.mem.load(SRC, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
    set_regs(&mut cpu, &Regs { si: SRC, di: DST, cx: 0, ax: 0 }, false);
    let mut bus = TestBus::default();
    bus.inputs.insert(0x80, 0x42);
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
    assert_eq!(bus.writes, vec![(0x80, 1, 1), (0x80, 2, 0x0302), (0x80, 4, 0x0706_0504)]);
    assert_eq!(cpu.gpr[reg::RSI as usize], SRC + 7);
    assert_eq!(cpu.mem.as_slice()[DST as usize], 0x42);
    assert_eq!(cpu.gpr[reg::RDI as usize], DST + 1);
}

#[test]
fn rep_outsb_at_user_level_needs_io_permission() {
    // At CPL 3 with IOPL 0 and no I/O bitmap bits granted (the TSS limit 0x67 leaves no
    // bitmap), outs raises #GP before touching anything.
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[0xf3, 0x6e, 0xf4]);
    testing::load(&mut cpu, CODE + 0x1000, &[0xf4]);
    testing::set_gate(&mut cpu, 13, CODE + 0x1000, 0, 0, false);
    cpu.rip = CODE;
    testing::enter_user(&mut cpu, 0x6_0000);
    set_regs(&mut cpu, &Regs { si: SRC, di: 0, cx: 5, ax: 0 }, false);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever);
    assert!(bus.writes.is_empty());
    assert_eq!(cpu.gpr[reg::RCX as usize], 5);
    assert_eq!(cpu.stats.exceptions.get(&13), Some(&1));
}

#[test]
fn rep_stosb_over_upcoming_code_is_seen_by_the_decoder() {
    // lea rdi, [rip + patch]; mov ecx, 5; mov al, 0x90; rep stosb; patch: 5 x int3
    // (would raise #BP, which has no gate: a triple fault); then mov eax, 7; hlt.
    let mut code = vec![0x48, 0x8d, 0x3d, 0, 0, 0, 0]; // lea rdi, [rip+disp32]
    code.extend([0xb9, 5, 0, 0, 0]); // mov ecx, 5
    code.extend([0xb0, 0x90]); // mov al, 0x90
    code.extend([0xf3, 0xaa]); // rep stosb
    let patch = code.len();
    code.extend([0xcc; 5]);
    code.extend([0xb8, 7, 0, 0, 0, 0xf4]);
    let disp = (patch - 7) as u32;
    code[3..7].copy_from_slice(&disp.to_le_bytes());
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &code);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(cpu.gpr[reg::RAX as usize], 7);
    assert!(cpu.stats.code_invalidations >= 1);
    // A long fill over the rest of its own page: the first element takes the slow path
    // (the page holds decoded code) and invalidates it, the rest goes fast; the filled
    // area then runs as NOPs into the next page.
    let mut cpu = testing::long_mode(4);
    let start = CODE + 0x800;
    let mut c = vec![0x48, 0xbf];
    c.extend(start.to_le_bytes()); // mov rdi, start
    c.push(0xb9);
    c.extend(((CODE + 0x1000 - start) as u32).to_le_bytes()); // mov ecx, bytes to page end
    c.extend([0xb0, 0x90, 0xf3, 0xaa]); // mov al, 0x90; rep stosb
    let rel = (start - (CODE + c.len() as u64 + 5)) as u32;
    c.push(0xe9);
    c.extend(rel.to_le_bytes()); // jmp start
    let mut page = vec![0xccu8; 0x1000];
    page[..c.len()].copy_from_slice(&c);
    testing::load(&mut cpu, CODE, &page);
    testing::load(&mut cpu, CODE + 0x1000, &[0xb8, 9, 0, 0, 0, 0xf4]);
    cpu.rip = CODE;
    assert_eq!(cpu.run(&mut bus, 100_000), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(cpu.gpr[reg::RAX as usize], 9);
    assert!(cpu.mem.as_slice()[start as usize..(CODE + 0x1000) as usize].iter().all(|&b| b == 0x90));
}

/// A bus whose interrupt line rises after the first port write.
#[derive(Default)]
struct IrqAfterWrite {
    writes: u64,
    acked: bool,
}

impl emulator::bus::Bus for IrqAfterWrite {
    fn port_read(&mut self, _: u64, _: u16, _: u8) -> u32 {
        0
    }
    fn port_write(&mut self, _: u64, _: u16, _: u8, _: u32) {
        self.writes += 1;
    }
    fn interrupt_pending(&mut self) -> bool {
        self.writes > 0 && !self.acked
    }
    fn acknowledge_interrupt(&mut self) -> u8 {
        self.acked = true;
        0x20
    }
}

#[test]
fn interrupt_is_taken_between_chunks_of_a_long_repeat() {
    let mut cpu = testing::long_mode(4);
    testing::load(&mut cpu, CODE, &[0xf3, 0x6e, 0xf4]); // rep outsb; hlt
    testing::load(&mut cpu, CODE + 0x1000, &[0xf4]);
    testing::set_gate(&mut cpu, 0x20, CODE + 0x1000, 0, 0, false);
    cpu.rip = CODE;
    set_regs(&mut cpu, &Regs { si: SRC, di: 0, cx: 10_000, ax: 0 }, false);
    cpu.flags.set(cpu.flags.get() | emulator::cpu::flags::IF);
    let mut bus = IrqAfterWrite::default();
    assert_eq!(cpu.run(&mut bus, 100), Exit::HaltedForever);
    // One chunk ran, then the interrupt was delivered with the rep as the return address.
    assert_eq!(bus.writes, 4096);
    assert_eq!(cpu.gpr[reg::RCX as usize], 10_000 - 4096);
    assert_eq!(cpu.gpr[reg::RSI as usize], SRC + 4096);
    let rsp = cpu.gpr[reg::RSP as usize];
    assert_eq!(cpu.mem.read_u64(rsp).unwrap(), CODE);
    assert_eq!(cpu.stats.interrupts, 1);
}

#[test]
fn segment_limit_fault_in_the_middle_of_rep_stos() {
    // 32-bit protected mode, ES limit ends inside the run: #GP after four elements (no IDT
    // gates here, so it ends in a triple fault that leaves the registers as they were).
    let mut cpu = testing::protected_mode(4);
    testing::load(&mut cpu, CODE, &[0xf3, 0xab, 0xf4]); // rep stosd
    cpu.seg[ES as usize].limit = 0x20_0fff;
    set_regs(&mut cpu, &Regs { si: 0, di: 0x20_0ff0, cx: 10, ax: 0x0102_0304 }, false);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 100), Exit::TripleFault);
    assert_eq!(cpu.stats.exceptions.get(&13), Some(&1));
    assert_eq!(cpu.gpr[reg::RCX as usize], 6);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x20_1000);
    assert_eq!(cpu.rip, CODE);
    assert_eq!(cpu.mem.read_u32(0x20_0ffc).unwrap(), 0x0102_0304);
    assert_eq!(cpu.mem.read_u32(0x20_1000).unwrap(), 0);
}

#[test]
fn rom_source_and_mmio_destination_take_the_bus_paths() {
    // rep movsb from the ROM window into the legacy video window (MMIO, unclaimed: the
    // writes are dropped), then rep stosb into ROM (dropped too), then a copy of ROM to RAM.
    let mut cpu = testing::long_mode(4);
    cpu.mem.load(0xc0000, &(0..=255u8).collect::<Vec<_>>()).unwrap();
    let code = [
        0xf3, 0xa4, // rep movsb (ROM -> MMIO)
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x0c, 0x00, // mov rdi, 0xc0000
        0xb9, 0x00, 0x01, 0x00, 0x00, // mov ecx, 256
        0xf3, 0xaa, // rep stosb (-> ROM)
        0x48, 0xc7, 0xc6, 0x00, 0x00, 0x0c, 0x00, // mov rsi, 0xc0000
        0x48, 0xc7, 0xc7, 0x00, 0x00, 0x28, 0x00, // mov rdi, DST
        0xb9, 0x00, 0x01, 0x00, 0x00, // mov ecx, 256
        0xf3, 0xa4, // rep movsb (ROM -> RAM)
    ];
    testing::load(&mut cpu, CODE, &[&code[..], &[0xf4]].concat());
    set_regs(&mut cpu, &Regs { si: 0xc0000, di: 0xa0000, cx: 256, ax: 0xee }, false);
    let mut bus = TestBus::default();
    assert_eq!(cpu.run(&mut bus, 100), Exit::HaltedForever, "{}", cpu.dump());
    assert_eq!(cpu.gpr[reg::RCX as usize], 0);
    assert_eq!(cpu.gpr[reg::RSI as usize], 0xc0100);
    assert_eq!(cpu.gpr[reg::RDI as usize], DST + 256);
    assert_eq!(&cpu.mem.as_slice()[DST as usize..DST as usize + 256], &(0..=255u8).collect::<Vec<_>>()[..]);
}

#[test]
fn fault_in_the_middle_of_a_backward_rep_movs() {
    for s in [1usize, 2, 4, 8] {
        let mut cpu = testing::long_mode(8);
        testing::load(&mut cpu, CODE, &[&[0xfd][..], &enc(K::Movs, s, 1, false), &[0xf4]].concat());
        testing::load(&mut cpu, CODE + 0x1000, &[0xf4]);
        testing::set_gate(&mut cpu, 14, CODE + 0x1000, 0, 0, false);
        cpu.rip = CODE;
        let data: Vec<u8> = (0..0x100).map(|i| pattern(i, 4)).collect();
        cpu.mem.load(0x40_0000, &data).unwrap();
        let first = 0x40_0100 - s as u64; // the highest element
        set_regs(&mut cpu, &Regs { si: first, di: 0x18_0000 + 0x1000 - s as u64, cx: 0x300, ax: 0 }, false);
        unmap_2m(&mut cpu); // 0x20_0000..0x40_0000 goes away
        let mut bus = TestBus::default();
        assert_eq!(cpu.run(&mut bus, 1000), Exit::HaltedForever, "{}", cpu.dump());
        let done = 0x100 / s as u64;
        assert_eq!(cpu.cr2, 0x40_0000 - s as u64, "size {s}");
        assert_eq!(cpu.gpr[reg::RCX as usize], 0x300 - done);
        assert_eq!(cpu.gpr[reg::RSI as usize], 0x40_0000 - s as u64);
        assert_eq!(cpu.gpr[reg::RDI as usize], 0x18_1000 - s as u64 - 0x100);
        assert_eq!(&cpu.mem.as_slice()[0x18_0f00..0x18_1000], &data[..]);
        assert_eq!(cpu.mem.read_u64(cpu.gpr[reg::RSP as usize] + 8).unwrap(), CODE + 1);
    }
}

#[test]
fn rep_stos_from_address_zero_in_64_bit_mode() {
    // The whole 64-bit space lies ahead of offset 0: the run length must not overflow.
    let (cpu, _) = run64(&enc(K::Stos, 1, 1, false), |cpu| set_regs(cpu, &Regs { si: 0, di: 0, cx: 0x10, ax: 0x77 }, false));
    assert_eq!(cpu.gpr[reg::RCX as usize], 0);
    assert_eq!(cpu.gpr[reg::RDI as usize], 0x10);
    assert_eq!(&cpu.mem.as_slice()[..0x10], &[0x77; 0x10]);
}
