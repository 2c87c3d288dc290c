//! SSE/SSE2, minimal x87 and fxsave/fxrstor, checked against the host CPU: every
//! instruction runs in the emulator and natively (inline asm) on the same inputs (edge
//! values plus fixed-seed random), and results, flags and MXCSR.IE/ZE must agree.
#![cfg(target_arch = "x86_64")]

use std::arch::asm;
use std::arch::x86_64::__m128i;

use emulator::bus::TestBus;
use emulator::cpu::{reg, Cpu, Exit};
use emulator::mmu::{CR0_EM, CR0_MP, CR0_TS, CR4_OSFXSR};
use emulator::testing;
use iced_x86::code_asm::*;

const CODE: u64 = 0x10_0000;
const DATA: u64 = 0x20_0000;
const HANDLERS: u64 = 0x18_0000;
const DEFAULT_MXCSR: u32 = 0x1f80;

type Prog = fn(&mut CodeAssembler) -> Result<(), IcedError>;

struct Emu {
    cpu: Cpu,
    bus: TestBus,
    next_code: u64,
}

impl Emu {
    fn new() -> Self {
        let mut cpu = testing::long_mode(4);
        // Exception stubs: vector v's handler is a `hlt` at HANDLERS + 16 * v.
        for v in [6u8, 7, 13, 14] {
            let at = HANDLERS + 16 * v as u64;
            cpu.mem.load(at, &[0xf4]).unwrap();
            testing::set_gate(&mut cpu, v, at, 0, 0, false);
        }
        Emu { cpu, bus: TestBus::default(), next_code: CODE }
    }

    /// Assembles `f` followed by `hlt` into fresh code memory; returns its address.
    fn load(&mut self, f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> u64 {
        let mut a = CodeAssembler::new(64).unwrap();
        f(&mut a).unwrap();
        a.hlt().unwrap();
        let at = self.next_code;
        let bytes = a.assemble(at).unwrap();
        self.cpu.mem.load(at, &bytes).unwrap();
        self.cpu.invalidate_code(at, bytes.len() as u64);
        self.next_code = (at + bytes.len() as u64 + 15) & !15;
        at
    }

    /// Runs the program at `at` to its `hlt` (or an exception stub's).
    fn run(&mut self, at: u64) {
        self.cpu.rip = at;
        self.cpu.halted = false;
        self.cpu.gpr[reg::RSP as usize] = testing::STACK_TOP;
        assert_eq!(self.cpu.run(&mut self.bus, 1000), Exit::HaltedForever);
    }

    /// The vector whose stub the last run stopped in, if any.
    fn faulted(&self) -> Option<u8> {
        let r = self.cpu.rip.wrapping_sub(1);
        (HANDLERS..HANDLERS + 16 * 256).contains(&r).then(|| ((r - HANDLERS) / 16) as u8)
    }

    fn write(&mut self, at: u64, data: &[u8]) {
        self.cpu.mem.load(at, data).unwrap();
    }

    fn read(&self, at: u64, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.cpu.mem.read(at, &mut v).unwrap();
        v
    }
}

// ----- inputs ---------------------------------------------------------------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const F32_EDGE: &[u32] = &[
    0, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x3fc0_0000, 0x4020_0000, 0xc020_0000, 0x3f00_0000, 0xbf00_0000,
    0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0xffc0_0000, 0x7fc1_2345, 0x7f80_0001, 0xff81_2345, 0x0000_0001, 0x8000_0001,
    0x007f_ffff, 0x7f7f_ffff, 0xff7f_ffff, 0x0080_0000, 0x4f00_0000, 0xcf00_0000, 0x4eff_ffff, 0x5f00_0000, 0xdf00_0000,
    0x4f80_0000, 0x4b80_0001, 0x4040_0000, 0x40a0_0000, 0x3eaa_aaab,
];
const F64_EDGE: &[u64] = &[
    0, 0x8000_0000_0000_0000, 0x3ff0_0000_0000_0000, 0xbff0_0000_0000_0000, 0x4004_0000_0000_0000, 0xc004_0000_0000_0000,
    0x3fe0_0000_0000_0000, 0x7ff0_0000_0000_0000, 0xfff0_0000_0000_0000, 0x7ff8_0000_0000_0000, 0xfff8_0000_0000_0000,
    0x7ff8_0000_1234_5678, 0x7ff0_0000_0000_0001, 0xfff4_0000_0000_0001, 0x0000_0000_0000_0001, 0x800f_ffff_ffff_ffff,
    0x7fef_ffff_ffff_ffff, 0x41e0_0000_0000_0000, 0xc1e0_0000_0000_0000, 0x41df_ffff_ffff_ffff, 0x41df_ffff_ffc0_0000,
    0xc1e0_0000_0010_0000, 0x43e0_0000_0000_0000, 0xc3e0_0000_0000_0000, 0x43df_ffff_ffff_ffff, 0x3690_0000_0000_0000,
    0x47ef_ffff_f000_0000, 0x3ff0_0000_1000_0000, 0x3ff0_0000_3000_0000, 0x4009_21fb_5444_2d18,
];
const BYTE_EDGE: &[u8] = &[0, 1, 2, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x40, 0xc0];

fn lanes32(f: impl FnMut(usize) -> u32) -> u128 {
    let v: Vec<u32> = (0..4).map(f).collect();
    v.iter().enumerate().fold(0, |acc, (i, &x)| acc | (x as u128) << (32 * i))
}
fn lanes64(mut f: impl FnMut(usize) -> u64) -> u128 {
    f(0) as u128 | (f(1) as u128) << 64
}

/// A random "normal-ish" float lane: moderate exponent so arithmetic rounds visibly.
fn rand_f32(r: &mut Rng) -> u32 {
    let x = r.next();
    (x as u32 & 0x807f_ffff) | ((120 + (x >> 40) % 16) as u32) << 23
}
fn rand_f64(r: &mut Rng) -> u64 {
    let x = r.next();
    (x & 0x800f_ffff_ffff_ffff) | (1015 + (x >> 52) % 16) << 52
}

fn value(r: &mut Rng) -> u128 {
    match r.next() % 8 {
        0 => (r.next() as u128) << 64 | r.next() as u128,
        1 => lanes32(|_| r.pick(F32_EDGE)),
        2 => lanes64(|_| r.pick(F64_EDGE)),
        3 => u128::from_le_bytes(std::array::from_fn(|_| r.pick(BYTE_EDGE))),
        4 => lanes32(|_| rand_f32(r)),
        5 => lanes64(|_| rand_f64(r)),
        6 => lanes32(|_| if r.next().is_multiple_of(2) { r.pick(F32_EDGE) } else { rand_f32(r) }),
        _ => lanes64(|_| if r.next().is_multiple_of(2) { r.pick(F64_EDGE) } else { rand_f64(r) }),
    }
}

/// Input pairs: edge/random values, equal pairs, and small shift counts.
fn inputs(seed: u64) -> Vec<(u128, u128)> {
    let mut r = Rng(seed);
    let mut v = Vec::new();
    for i in 0..300 {
        let a = value(&mut r);
        let b = match i % 6 {
            0 => a,
            1 => (r.pick(&[0u64, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1 << 40]) as u128) | (r.next() as u128) << 64,
            _ => value(&mut r),
        };
        v.push((a, b));
    }
    v
}

fn to_m(v: u128) -> __m128i {
    // SAFETY: both are 16 plain bytes.
    unsafe { std::mem::transmute::<u128, __m128i>(v) }
}
fn from_m(v: __m128i) -> u128 {
    // SAFETY: both are 16 plain bytes.
    unsafe { std::mem::transmute::<__m128i, u128>(v) }
}

/// IE and ZE, the MXCSR flags the emulator accumulates.
const MX_CHECKED: u32 = 0b101;

/// Runs `xmm0 = OP(xmm0, xmm1)` (`reg`) and `xmm9 = OP(xmm9, [rdi])` (`mem`) in the
/// emulator and `host` natively for every input and MXCSR value; all must agree.
fn check_bin(name: &str, reg: Prog, mem: Prog, host: fn(u128, u128, u32) -> (u128, u32), mxcsrs: &[u32]) {
    let mut e = Emu::new();
    let (pr, pm) = (e.load(reg), e.load(mem));
    let mut n = 0;
    for (a, b) in inputs(name.len() as u64 * 7919 + 1) {
        for &mx in mxcsrs {
            let (want, want_mx) = host(a, b, mx);
            e.cpu.sse.xmm[0] = a;
            e.cpu.sse.xmm[1] = b;
            e.cpu.sse.mxcsr = mx;
            e.run(pr);
            assert_eq!(e.faulted(), None, "{name}");
            let (got, got_mx) = (e.cpu.sse.xmm[0], e.cpu.sse.mxcsr);
            assert_eq!(got, want, "{name} reg a={a:032x} b={b:032x} mxcsr={mx:x}: got {got:032x} want {want:032x}");
            assert_eq!(got_mx & MX_CHECKED, want_mx & MX_CHECKED, "{name} mxcsr a={a:032x} b={b:032x}");
            e.cpu.sse.xmm[9] = a;
            e.cpu.sse.mxcsr = mx;
            e.write(DATA, &b.to_le_bytes());
            e.cpu.gpr[reg::RDI as usize] = DATA;
            e.run(pm);
            assert_eq!(e.faulted(), None, "{name}");
            assert_eq!(e.cpu.sse.xmm[9], want, "{name} mem a={a:032x} b={b:032x} mxcsr={mx:x}");
            n += 1;
        }
    }
    assert!(n >= 300);
}

/// A host implementation of `OP xmm_a, xmm_b` run under MXCSR `mx`, returning the result
/// and the MXCSR after it.
macro_rules! host {
    ($($t:tt)*) => {{
        fn h(a: u128, b: u128, mx: u32) -> (u128, u32) {
            let mut a = to_m(a);
            let b = to_m(b);
            let mut io = mx;
            let mut saved = 0u32;
            // SAFETY: runs one SSE instruction on registers under a temporary MXCSR, which
            // is restored before the block ends; the pointers are to live locals.
            unsafe {
                asm!(
                    "stmxcsr [{s}]",
                    "ldmxcsr [{io}]",
                    concat!($($t)*),
                    "stmxcsr [{io}]",
                    "ldmxcsr [{s}]",
                    a = inout(xmm_reg) a,
                    b = in(xmm_reg) b,
                    io = in(reg) &mut io,
                    s = in(reg) &mut saved,
                    options(nostack),
                );
            }
            (from_m(a), io)
        }
        h as fn(u128, u128, u32) -> (u128, u32)
    }};
}

/// `bin!(mnemonic [as assembler_method] [, imm], mem_operand_fn [, rc])`: emulator and host
/// for one `xmm, xmm/m` op (with `rc`, under every MXCSR rounding mode).
macro_rules! bin {
    ($m:ident, $mem:ident) => { bin!(@ $m, $m, $mem, [], "", &[DEFAULT_MXCSR]) };
    ($m:ident, $mem:ident, rc) => { bin!(@ $m, $m, $mem, [], "", &[DEFAULT_MXCSR, 0x3f80, 0x5f80, 0x7f80]) };
    ($m:ident, $imm:literal, $mem:ident) => { bin!(@ $m, $m, $mem, [, $imm], concat!(", ", stringify!($imm)), &[DEFAULT_MXCSR]) };
    ($m:ident as $f:ident, $mem:ident) => { bin!(@ $m, $f, $mem, [], "", &[DEFAULT_MXCSR]) };
    ($m:ident as $f:ident, $imm:literal, $mem:ident) => { bin!(@ $m, $f, $mem, [, $imm], concat!(", ", stringify!($imm)), &[DEFAULT_MXCSR]) };
    (@ $m:ident, $f:ident, $mem:ident, [$($imm:tt)*], $ims:expr, $mx:expr) => {
        check_bin(
            concat!(stringify!($m), $ims),
            |a| a.$f(xmm0, xmm1 $($imm)*),
            |a| a.$f(xmm9, $mem(rdi) $($imm)*),
            host!(stringify!($m), " {a}, {b}", $ims),
            $mx,
        )
    };
}

#[test]
fn integer_arith() {
    bin!(paddb, xmmword_ptr);
    bin!(paddw, xmmword_ptr);
    bin!(paddd, xmmword_ptr);
    bin!(paddq, xmmword_ptr);
    bin!(psubb, xmmword_ptr);
    bin!(psubw, xmmword_ptr);
    bin!(psubd, xmmword_ptr);
    bin!(psubq, xmmword_ptr);
    bin!(paddusb, xmmword_ptr);
    bin!(paddusw, xmmword_ptr);
    bin!(paddsb, xmmword_ptr);
    bin!(paddsw, xmmword_ptr);
    bin!(psubusb, xmmword_ptr);
    bin!(psubusw, xmmword_ptr);
    bin!(psubsb, xmmword_ptr);
    bin!(psubsw, xmmword_ptr);
    bin!(pmullw, xmmword_ptr);
    bin!(pmulhw, xmmword_ptr);
    bin!(pmulhuw, xmmword_ptr);
    bin!(pmuludq, xmmword_ptr);
    bin!(pmaddwd, xmmword_ptr);
    bin!(pminub, xmmword_ptr);
    bin!(pmaxub, xmmword_ptr);
    bin!(pminsw, xmmword_ptr);
    bin!(pmaxsw, xmmword_ptr);
    bin!(pavgb, xmmword_ptr);
    bin!(pavgw, xmmword_ptr);
    bin!(psadbw, xmmword_ptr);
}

#[test]
fn integer_logic_compare_pack() {
    bin!(pand, xmmword_ptr);
    bin!(por, xmmword_ptr);
    bin!(pxor, xmmword_ptr);
    bin!(pandn, xmmword_ptr);
    bin!(pcmpeqb, xmmword_ptr);
    bin!(pcmpeqw, xmmword_ptr);
    bin!(pcmpeqd, xmmword_ptr);
    bin!(pcmpgtb, xmmword_ptr);
    bin!(pcmpgtw, xmmword_ptr);
    bin!(pcmpgtd, xmmword_ptr);
    bin!(packsswb, xmmword_ptr);
    bin!(packssdw, xmmword_ptr);
    bin!(packuswb, xmmword_ptr);
    bin!(punpcklbw, xmmword_ptr);
    bin!(punpcklwd, xmmword_ptr);
    bin!(punpckldq, xmmword_ptr);
    bin!(punpcklqdq, xmmword_ptr);
    bin!(punpckhbw, xmmword_ptr);
    bin!(punpckhwd, xmmword_ptr);
    bin!(punpckhdq, xmmword_ptr);
    bin!(punpckhqdq, xmmword_ptr);
}

#[test]
fn shuffles_and_shifts() {
    bin!(pshufd, 0x1b, xmmword_ptr);
    bin!(pshufd, 0xa6, xmmword_ptr);
    bin!(pshuflw, 0x4e, xmmword_ptr);
    bin!(pshufhw, 0x93, xmmword_ptr);
    bin!(shufps, 0x4e, xmmword_ptr);
    bin!(shufps, 0xb1, xmmword_ptr);
    bin!(shufpd, 1, xmmword_ptr);
    bin!(shufpd, 2, xmmword_ptr);
    bin!(psllw, xmmword_ptr);
    bin!(pslld, xmmword_ptr);
    bin!(psllq, xmmword_ptr);
    bin!(psrlw, xmmword_ptr);
    bin!(psrld, xmmword_ptr);
    bin!(psrlq, xmmword_ptr);
    bin!(psraw, xmmword_ptr);
    bin!(psrad, xmmword_ptr);
    bin!(unpcklps, xmmword_ptr);
    bin!(unpckhps, xmmword_ptr);
    bin!(unpcklpd, xmmword_ptr);
    bin!(unpckhpd, xmmword_ptr);
    bin!(andps, xmmword_ptr);
    bin!(andpd, xmmword_ptr);
    bin!(orps, xmmword_ptr);
    bin!(orpd, xmmword_ptr);
    bin!(xorps, xmmword_ptr);
    bin!(xorpd, xmmword_ptr);
    bin!(andnps, xmmword_ptr);
    bin!(andnpd, xmmword_ptr);
}

/// Shifts by immediate: every count from 0 to 69 for each width. The host reference is the
/// same shift with the count in a register (identical semantics for counts below 256);
/// the byte shifts, which have no such form, are checked against u128 shifts.
#[test]
fn shift_immediates() {
    macro_rules! imm_shift {
        ($m:ident, $host:expr) => {{
            let mut e = Emu::new();
            for c in 0..70u32 {
                let p = e.load(|a| a.$m(xmm3, c));
                for (x, _) in inputs(c as u64 + 5).into_iter().take(20) {
                    e.cpu.sse.xmm[3] = x;
                    e.run(p);
                    let want: u128 = $host(x, c);
                    assert_eq!(e.cpu.sse.xmm[3], want, "{} {c} on {x:032x}", stringify!($m));
                }
            }
        }};
        ($m:ident) => {
            imm_shift!($m, |x: u128, c: u32| {
                let mut h = to_m(x);
                // SAFETY: one register-only SSE shift.
                unsafe { asm!(concat!(stringify!($m), " {x}, {c}"), x = inout(xmm_reg) h, c = in(xmm_reg) to_m(c as u128), options(pure, nomem, nostack)) };
                from_m(h)
            })
        };
    }
    imm_shift!(psllw);
    imm_shift!(pslld);
    imm_shift!(psllq);
    imm_shift!(psrlw);
    imm_shift!(psrld);
    imm_shift!(psrlq);
    imm_shift!(psraw);
    imm_shift!(psrad);
    imm_shift!(pslldq, |x: u128, c: u32| if c > 15 { 0 } else { x << (8 * c) });
    imm_shift!(psrldq, |x: u128, c: u32| if c > 15 { 0 } else { x >> (8 * c) });
}

#[test]
fn float_arith() {
    bin!(addss, dword_ptr);
    bin!(addsd, qword_ptr);
    bin!(addps, xmmword_ptr);
    bin!(addpd, xmmword_ptr);
    bin!(subss, dword_ptr);
    bin!(subsd, qword_ptr);
    bin!(subps, xmmword_ptr);
    bin!(subpd, xmmword_ptr);
    bin!(mulss, dword_ptr);
    bin!(mulsd, qword_ptr);
    bin!(mulps, xmmword_ptr);
    bin!(mulpd, xmmword_ptr);
    bin!(divss, dword_ptr);
    bin!(divsd, qword_ptr);
    bin!(divps, xmmword_ptr);
    bin!(divpd, xmmword_ptr);
    bin!(sqrtss, dword_ptr);
    bin!(sqrtsd, qword_ptr);
    bin!(sqrtps, xmmword_ptr);
    bin!(sqrtpd, xmmword_ptr);
    bin!(minss, dword_ptr);
    bin!(minsd, qword_ptr);
    bin!(minps, xmmword_ptr);
    bin!(minpd, xmmword_ptr);
    bin!(maxss, dword_ptr);
    bin!(maxsd, qword_ptr);
    bin!(maxps, xmmword_ptr);
    bin!(maxpd, xmmword_ptr);
}

#[test]
fn float_compare_predicates() {
    bin!(cmpps, 0, xmmword_ptr);
    bin!(cmpps, 1, xmmword_ptr);
    bin!(cmpps, 2, xmmword_ptr);
    bin!(cmpps, 3, xmmword_ptr);
    bin!(cmpps, 4, xmmword_ptr);
    bin!(cmpps, 5, xmmword_ptr);
    bin!(cmpps, 6, xmmword_ptr);
    bin!(cmpps, 7, xmmword_ptr);
    bin!(cmppd, 1, xmmword_ptr);
    bin!(cmppd, 4, xmmword_ptr);
    bin!(cmpss, 2, dword_ptr);
    bin!(cmpss, 3, dword_ptr);
    bin!(cmpsd as cmpsd_3, 0, qword_ptr);
    bin!(cmpsd as cmpsd_3, 6, qword_ptr);
}

#[test]
fn float_conversions() {
    bin!(cvtss2sd, dword_ptr);
    bin!(cvtsd2ss, qword_ptr, rc);
    bin!(cvtps2pd, qword_ptr);
    bin!(cvtpd2ps, xmmword_ptr, rc);
    bin!(cvtdq2ps, xmmword_ptr, rc);
    bin!(cvtdq2pd, qword_ptr);
    bin!(cvtps2dq, xmmword_ptr, rc);
    bin!(cvttps2dq, xmmword_ptr, rc);
    bin!(cvtpd2dq, xmmword_ptr, rc);
    bin!(cvttpd2dq, xmmword_ptr, rc);
}

/// comiss and friends: ZF/PF/CF and the cleared OF/SF/AF, against the host's RFLAGS.
#[test]
fn comis_flags() {
    macro_rules! comis {
        ($m:ident) => {{
            let mut e = Emu::new();
            let p = e.load(|a| a.$m(xmm2, xmm7));
            for (x, y) in inputs(99) {
                e.cpu.sse.xmm[2] = x;
                e.cpu.sse.xmm[7] = y;
                e.cpu.sse.mxcsr = DEFAULT_MXCSR;
                // Pre-set all arithmetic flags so clearing is observable.
                e.cpu.flags.set(e.cpu.flags.get() | 0x8d5);
                e.run(p);
                let got = e.cpu.flags.get() & 0x8d5;
                let flags: u64;
                let mut io = DEFAULT_MXCSR;
                let mut saved = 0u32;
                // SAFETY: one compare on registers, flags read back through the stack, and
                // MXCSR restored before the block ends.
                unsafe {
                    asm!(
                        "stmxcsr [{s}]",
                        "ldmxcsr [{io}]",
                        "pushfq",
                        "or qword ptr [rsp], 0x8d5",
                        "popfq",
                        concat!(stringify!($m), " {x}, {y}"),
                        "pushfq",
                        "pop {f}",
                        "stmxcsr [{io}]",
                        "ldmxcsr [{s}]",
                        x = in(xmm_reg) to_m(x),
                        y = in(xmm_reg) to_m(y),
                        f = out(reg) flags,
                        io = in(reg) &mut io,
                        s = in(reg) &mut saved,
                    );
                }
                assert_eq!(got, flags & 0x8d5, "{} {x:032x} {y:032x}", stringify!($m));
                assert_eq!(e.cpu.sse.mxcsr & MX_CHECKED, io & MX_CHECKED, "{} mxcsr {x:032x} {y:032x}", stringify!($m));
            }
        }};
    }
    comis!(comiss);
    comis!(ucomiss);
    comis!(comisd);
    comis!(ucomisd);
}

/// Float to integer in GPRs, every rounding mode, 32- and 64-bit destinations.
#[test]
fn float_to_gpr() {
    macro_rules! f2i {
        ($m:ident, $r:ident, $fmt:literal) => {{
            let mut e = Emu::new();
            let p = e.load(|a| a.$m($r, xmm5));
            let pm = e.load(|a| a.$m($r, if stringify!($m).contains("ss") { dword_ptr(rdi) } else { qword_ptr(rdi) }));
            for (x, _) in inputs(1234) {
                for mx in [DEFAULT_MXCSR, 0x3f80, 0x5f80, 0x7f80] {
                    e.cpu.sse.xmm[5] = x;
                    e.cpu.sse.mxcsr = mx;
                    e.cpu.gpr[reg::RAX as usize] = 0x5555_5555_5555_5555;
                    e.run(p);
                    let got = e.cpu.gpr[reg::RAX as usize];
                    let got_mx = e.cpu.sse.mxcsr;
                    e.write(DATA, &x.to_le_bytes());
                    e.cpu.gpr[reg::RDI as usize] = DATA;
                    e.cpu.gpr[reg::RAX as usize] = 0x5555_5555_5555_5555;
                    e.run(pm);
                    assert_eq!(e.cpu.gpr[reg::RAX as usize], got);
                    let mut out: u64 = 0x5555_5555_5555_5555;
                    let mut io = mx;
                    let mut saved = 0u32;
                    // SAFETY: one conversion on registers under a temporary MXCSR.
                    unsafe {
                        asm!(
                            "stmxcsr [{s}]",
                            "ldmxcsr [{io}]",
                            concat!(stringify!($m), " ", $fmt, ", {x}"),
                            "stmxcsr [{io}]",
                            "ldmxcsr [{s}]",
                            x = in(xmm_reg) to_m(x),
                            o = inout(reg) out,
                            io = in(reg) &mut io,
                            s = in(reg) &mut saved,
                            options(nostack),
                        );
                    }
                    assert_eq!(got, out, "{} {x:032x} mxcsr {mx:x}", stringify!($m));
                    assert_eq!(got_mx & MX_CHECKED, io & MX_CHECKED, "{} mxcsr {x:032x}", stringify!($m));
                }
            }
        }};
    }
    f2i!(cvttss2si, eax, "{o:e}");
    f2i!(cvttss2si, rax, "{o}");
    f2i!(cvtss2si, eax, "{o:e}");
    f2i!(cvtss2si, rax, "{o}");
    f2i!(cvttsd2si, eax, "{o:e}");
    f2i!(cvttsd2si, rax, "{o}");
    f2i!(cvtsd2si, eax, "{o:e}");
    f2i!(cvtsd2si, rax, "{o}");
}

/// Integer to float, every rounding mode, from 32- and 64-bit GPRs and memory.
#[test]
fn gpr_to_float() {
    macro_rules! i2f {
        ($m:ident, $r:ident, $fmt:literal, $ptr:ident) => {{
            let mut e = Emu::new();
            let p = e.load(|a| a.$m(xmm4, $r));
            let pm = e.load(|a| a.$m(xmm4, $ptr(rdi)));
            let mut rng = Rng(77);
            let mut vals: Vec<u64> = vec![0, 1, u64::MAX, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0x0100_0001, 0x1_0000_0003, 0x20_0000_0000_0001];
            vals.extend((0..200).map(|i| rng.next() >> (i % 60)));
            for v in vals {
                for mx in [DEFAULT_MXCSR, 0x3f80, 0x5f80, 0x7f80] {
                    let init = 0x1122_3344_5566_7788_99aa_bbcc_ddee_ff00u128;
                    e.cpu.sse.xmm[4] = init;
                    e.cpu.sse.mxcsr = mx;
                    e.cpu.gpr[reg::RAX as usize] = v;
                    e.run(p);
                    let got = e.cpu.sse.xmm[4];
                    e.cpu.sse.xmm[4] = init;
                    e.write(DATA, &v.to_le_bytes());
                    e.cpu.gpr[reg::RDI as usize] = DATA;
                    e.run(pm);
                    assert_eq!(e.cpu.sse.xmm[4], got);
                    let mut h = to_m(init);
                    let mut io = mx;
                    let mut saved = 0u32;
                    // SAFETY: one conversion on registers under a temporary MXCSR.
                    unsafe {
                        asm!(
                            "stmxcsr [{s}]",
                            "ldmxcsr [{io}]",
                            concat!(stringify!($m), " {x}, ", $fmt),
                            "ldmxcsr [{s}]",
                            x = inout(xmm_reg) h,
                            g = in(reg) v,
                            io = in(reg) &mut io,
                            s = in(reg) &mut saved,
                            options(nostack),
                        );
                    }
                    assert_eq!(got, from_m(h), "{} {v:x} mxcsr {mx:x}", stringify!($m));
                }
            }
        }};
    }
    i2f!(cvtsi2ss, eax, "{g:e}", dword_ptr);
    i2f!(cvtsi2ss, rax, "{g}", qword_ptr);
    i2f!(cvtsi2sd, eax, "{g:e}", dword_ptr);
    i2f!(cvtsi2sd, rax, "{g}", qword_ptr);
}

/// pmovmskb, movmskps/pd, pextrw, pinsrw, movd/movq against the host.
#[test]
fn gpr_exchange() {
    macro_rules! x2g {
        ($asm:literal, $f:expr) => {{
            let mut e = Emu::new();
            let p = e.load($f);
            for (x, _) in inputs(5) {
                e.cpu.sse.xmm[1] = x;
                e.cpu.gpr[reg::RAX as usize] = u64::MAX;
                e.run(p);
                let mut out = u64::MAX;
                // SAFETY: one register-only instruction.
                unsafe { asm!($asm, x = in(xmm_reg) to_m(x), o = inout(reg) out, options(pure, nomem, nostack)) };
                assert_eq!(e.cpu.gpr[reg::RAX as usize], out, "{} {x:032x}", $asm);
            }
        }};
    }
    x2g!("pmovmskb {o:e}, {x}", |a| a.pmovmskb(eax, xmm1));
    x2g!("movmskps {o:e}, {x}", |a| a.movmskps(eax, xmm1));
    x2g!("movmskpd {o:e}, {x}", |a| a.movmskpd(eax, xmm1));
    x2g!("pextrw {o:e}, {x}, 5", |a| a.pextrw(eax, xmm1, 5));
    x2g!("pextrw {o:e}, {x}, 0", |a| a.pextrw(eax, xmm1, 0));
    x2g!("movd {o:e}, {x}", |a| a.movd(eax, xmm1));
    x2g!("movq {o}, {x}", |a| a.movq(rax, xmm1));

    macro_rules! g2x {
        ($asm:literal, $f:expr) => {{
            let mut e = Emu::new();
            let p = e.load($f);
            for (x, y) in inputs(6) {
                let g = y as u64;
                e.cpu.sse.xmm[1] = x;
                e.cpu.gpr[reg::RAX as usize] = g;
                e.run(p);
                let mut h = to_m(x);
                // SAFETY: one register-only instruction.
                unsafe { asm!($asm, x = inout(xmm_reg) h, g = in(reg) g, options(pure, nomem, nostack)) };
                assert_eq!(e.cpu.sse.xmm[1], from_m(h), "{} {x:032x} {g:x}", $asm);
            }
        }};
    }
    g2x!("pinsrw {x}, {g:e}, 3", |a| a.pinsrw(xmm1, eax, 3));
    g2x!("pinsrw {x}, {g:e}, 7", |a| a.pinsrw(xmm1, eax, 7));
    g2x!("movd {x}, {g:e}", |a| a.movd(xmm1, eax));
    g2x!("movq {x}, {g}", |a| a.movq(xmm1, rax));
}

/// Memory moves: aligned and unaligned, zero-extending loads, merging half loads, stores.
#[test]
fn memory_moves() {
    let mut e = Emu::new();
    let pat: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
    let at = DATA + 0x1000 - 24; // the unaligned accesses below cross a page boundary
    e.write(at, &pat);
    let v = |off: usize, n: usize| -> u128 {
        let mut b = [0u8; 16];
        b[..n].copy_from_slice(&pat[off..off + n]);
        u128::from_le_bytes(b)
    };
    let old = 0xdead_beef_cafe_f00d_0123_4567_89ab_cdefu128;
    e.cpu.gpr[reg::RSI as usize] = at;
    let cases: Vec<(Prog, u128)> = vec![
        (|a| a.movdqu(xmm3, xmmword_ptr(rsi + 17)), v(17, 16)),
        (|a| a.movups(xmm3, xmmword_ptr(rsi + 20)), v(20, 16)),
        (|a| a.movupd(xmm3, xmmword_ptr(rsi + 19)), v(19, 16)),
        (|a| a.lddqu(xmm3, xmmword_ptr(rsi + 21)), v(21, 16)),
        (|a| a.movdqa(xmm3, xmmword_ptr(rsi + 8)), v(8, 16)),
        (|a| a.movaps(xmm3, xmmword_ptr(rsi + 24)), v(24, 16)),
        (|a| a.movd(xmm3, dword_ptr(rsi + 22)), v(22, 4)),
        (|a| a.movq(xmm3, qword_ptr(rsi + 22)), v(22, 8)),
        (|a| a.movss(xmm3, dword_ptr(rsi + 23)), v(23, 4)),
        (|a| a.movsd_2(xmm3, qword_ptr(rsi + 23)), v(23, 8)),
        (|a| a.movlps(xmm3, qword_ptr(rsi + 3)), (old & !(u64::MAX as u128)) | v(3, 8)),
        (|a| a.movlpd(xmm3, qword_ptr(rsi + 3)), (old & !(u64::MAX as u128)) | v(3, 8)),
        (|a| a.movhps(xmm3, qword_ptr(rsi + 5)), (old & u64::MAX as u128) | v(5, 8) << 64),
        (|a| a.movhpd(xmm3, qword_ptr(rsi + 5)), (old & u64::MAX as u128) | v(5, 8) << 64),
        (|a| a.movq(xmm3, xmm3), old & u64::MAX as u128),
    ];
    for (i, (p, want)) in cases.into_iter().enumerate() {
        let p = e.load(p);
        e.cpu.sse.xmm[3] = old;
        e.run(p);
        assert_eq!(e.faulted(), None, "case {i}");
        assert_eq!(e.cpu.sse.xmm[3], want, "case {i}: {:032x}", e.cpu.sse.xmm[3]);
    }
    // Stores: each writes into a clean buffer; compare the touched bytes.
    let x = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128 | 0x8080_0000_8000_0080_0000_8080_0080_0000u128;
    let stores: Vec<(Prog, usize, usize, u128)> = vec![
        (|a| a.movdqu(xmmword_ptr(rsi + 13), xmm6), 13, 16, 0),
        (|a| a.movups(xmmword_ptr(rsi + 13), xmm6), 13, 16, 0),
        (|a| a.movdqa(xmmword_ptr(rsi + 8), xmm6), 8, 16, 0),
        (|a| a.movntdq(xmmword_ptr(rsi + 8), xmm6), 8, 16, 0),
        (|a| a.movntps(xmmword_ptr(rsi + 24), xmm6), 24, 16, 0),
        (|a| a.movd(dword_ptr(rsi + 22), xmm6), 22, 4, 0),
        (|a| a.movq(qword_ptr(rsi + 22), xmm6), 22, 8, 0),
        (|a| a.movss(dword_ptr(rsi + 22), xmm6), 22, 4, 0),
        (|a| a.movsd_2(qword_ptr(rsi + 22), xmm6), 22, 8, 0),
        (|a| a.movlps(qword_ptr(rsi + 22), xmm6), 22, 8, 0),
        (|a| a.movhps(qword_ptr(rsi + 22), xmm6), 22, 8, 64),
        (|a| a.movhpd(qword_ptr(rsi + 22), xmm6), 22, 8, 64),
        (|a| a.movnti(qword_ptr(rsi + 22), rbx), 22, 8, 0),
        (|a| a.movnti(dword_ptr(rsi + 22), ebx), 22, 4, 0),
    ];
    for (i, (p, off, n, shift)) in stores.into_iter().enumerate() {
        let p = e.load(p);
        e.write(at, &[0xaa; 64]);
        e.cpu.sse.xmm[6] = x;
        e.cpu.gpr[reg::RBX as usize] = x as u64;
        e.run(p);
        assert_eq!(e.faulted(), None, "store {i}");
        let got = e.read(at, 64);
        let mut want = vec![0xaau8; 64];
        want[off..off + n].copy_from_slice(&(x >> shift).to_le_bytes()[..n]);
        assert_eq!(got, want, "store {i}");
    }
    // maskmovdqu: only bytes whose mask byte has bit 7 set are written.
    let p = e.load(|a| a.maskmovdqu(xmm6, xmm7));
    e.write(at, &[0xaa; 64]);
    e.cpu.sse.xmm[6] = 0x1111_2222_3333_4444_5555_6666_7777_8888;
    e.cpu.sse.xmm[7] = x;
    e.cpu.gpr[reg::RDI as usize] = at + 20;
    e.run(p);
    let got = e.read(at + 20, 16);
    for (i, &g) in got.iter().enumerate() {
        let m = (x >> (8 * i)) as u8 & 0x80 != 0;
        let want = if m { (e.cpu.sse.xmm[6] >> (8 * i)) as u8 } else { 0xaa };
        assert_eq!(g, want, "maskmovdqu byte {i}");
    }
}

/// For ops checked in register form only (movhlps/movlhps have no memory form, and movss/
/// movsd loads zero-extend rather than merge): the "memory" program reuses xmm1.
#[allow(non_snake_case)]
fn xmmword_ptr_unused(_: AsmRegister64) -> AsmRegisterXmm {
    xmm1
}

#[test]
fn movlhps_and_movhlps() {
    bin!(movlhps, xmmword_ptr_unused);
    bin!(movhlps, xmmword_ptr_unused);
    bin!(movss, xmmword_ptr_unused);
    bin!(movsd as movsd_2, xmmword_ptr_unused);
    bin!(movq, xmmword_ptr_unused);
}

// ----- exceptions -----------------------------------------------------------------------

#[test]
fn alignment_faults() {
    let mut e = Emu::new();
    let cases: &[(Prog, bool)] = &[
        (|a| a.movdqa(xmm0, xmmword_ptr(rdi)), true),
        (|a| a.movaps(xmmword_ptr(rdi), xmm0), true),
        (|a| a.movapd(xmm0, xmmword_ptr(rdi)), true),
        (|a| a.paddb(xmm0, xmmword_ptr(rdi)), true),
        (|a| a.addps(xmm0, xmmword_ptr(rdi)), true),
        (|a| a.pshufd(xmm0, xmmword_ptr(rdi), 0), true),
        (|a| a.movntdq(xmmword_ptr(rdi), xmm0), true),
        (|a| a.fxsave64(ptr(rdi)), true),
        (|a| a.fxrstor64(ptr(rdi)), true),
        (|a| a.movdqu(xmm0, xmmword_ptr(rdi)), false),
        (|a| a.movups(xmmword_ptr(rdi), xmm0), false),
        (|a| a.movq(xmm0, qword_ptr(rdi)), false),
        (|a| a.addss(xmm0, dword_ptr(rdi)), false),
        (|a| a.addsd(xmm0, qword_ptr(rdi)), false),
        (|a| a.movsd_2(xmm0, qword_ptr(rdi)), false),
        (|a| a.cvtdq2pd(xmm0, qword_ptr(rdi)), false),
    ];
    for (i, &(p, faults)) in cases.iter().enumerate() {
        for off in [0u64, 4, 8] {
            let p = e.load(p);
            e.cpu.stats.exceptions.clear();
            e.cpu.gpr[reg::RDI as usize] = DATA + off;
            e.run(p);
            let want = (faults && off != 0).then_some(13);
            assert_eq!(e.faulted(), want, "case {i} offset {off}");
            if want.is_some() {
                assert_eq!(e.cpu.stats.exceptions.get(&13), Some(&1));
                // Error code 0 on the handler's stack.
                assert_eq!(e.cpu.mem.read_u64(testing::STACK_TOP - 48).unwrap(), 0);
            }
        }
    }
}

#[test]
fn nm_and_ud() {
    let mut e = Emu::new();
    let sse_ops: &[Prog] = &[
        |a| a.addps(xmm0, xmm1),
        |a| a.movaps(xmm0, xmm1),
        |a| a.pxor(xmm2, xmm2),
        |a| a.movd(eax, xmm1),
        |a| a.ldmxcsr(dword_ptr(rdi)),
        |a| a.cvtsi2sd(xmm0, rax),
        |a| a.comisd(xmm0, xmm1),
    ];
    let base_cr0 = e.cpu.cr0;
    let base_cr4 = e.cpu.cr4;
    e.write(DATA, &DEFAULT_MXCSR.to_le_bytes());
    e.cpu.gpr[reg::RDI as usize] = DATA;
    for (i, &p) in sse_ops.iter().enumerate() {
        let p = e.load(p);
        for (c0, c4, want) in [
            (base_cr0, base_cr4, None),
            (base_cr0 | CR0_TS, base_cr4, Some(7)),
            (base_cr0, base_cr4 & !CR4_OSFXSR, Some(6)),
            (base_cr0 | CR0_EM, base_cr4, Some(6)),
            (base_cr0 | CR0_EM | CR0_TS, base_cr4, Some(6)),
        ] {
            e.cpu.cr0 = c0;
            e.cpu.cr4 = c4;
            e.run(p);
            assert_eq!(e.faulted(), want, "sse op {i} cr0={c0:x} cr4={c4:x}");
        }
    }
    // x87: #NM with EM or TS; fwait only with MP and TS together.
    let x87_ops: &[Prog] = &[|a| a.fnstcw(word_ptr(rdi)), |a| a.fninit(), |a| a.fxsave64(ptr(rdi))];
    for (i, &p) in x87_ops.iter().enumerate() {
        let p = e.load(p);
        for (c0, want) in [(base_cr0, None), (base_cr0 | CR0_TS, Some(7)), (base_cr0 | CR0_EM, Some(7))] {
            e.cpu.cr0 = c0;
            e.cpu.cr4 = base_cr4;
            e.run(p);
            assert_eq!(e.faulted(), want, "x87 op {i} cr0={c0:x}");
        }
    }
    let p = e.load(|a| a.wait());
    for (c0, want) in [(base_cr0, None), (base_cr0 | CR0_TS, Some(7)), ((base_cr0 | CR0_TS) & !CR0_MP, None), (base_cr0 & !CR0_MP | CR0_EM, None)] {
        e.cpu.cr0 = c0;
        e.run(p);
        assert_eq!(e.faulted(), want, "fwait cr0={c0:x}");
    }
    e.cpu.cr0 = base_cr0;
    // ldmxcsr with a reserved bit: #GP(0), MXCSR unchanged.
    let p = e.load(|a| a.ldmxcsr(dword_ptr(rdi)));
    e.write(DATA, &0x1_1f80u32.to_le_bytes());
    e.cpu.sse.mxcsr = 0x1f80;
    e.run(p);
    assert_eq!(e.faulted(), Some(13));
    assert_eq!(e.cpu.sse.mxcsr, 0x1f80);
    // ... and a valid one loads (DAZ included: MXCSR_MASK is 0xFFFF).
    e.write(DATA, &0x7fc0u32.to_le_bytes());
    e.run(p);
    assert_eq!(e.faulted(), None);
    assert_eq!(e.cpu.sse.mxcsr, 0x7fc0);
    // An MMX-register form is not implemented: #UD, and recorded.
    let p = e.load(|a| a.paddb(mm0, mm1));
    e.run(p);
    assert_eq!(e.faulted(), Some(6));
    assert!(e.cpu.stats.unimplemented.keys().any(|k| k.contains("Paddb_mm")));
}

// ----- x87 control and fxsave -----------------------------------------------------------

#[test]
fn x87_control_words() {
    let mut e = Emu::new();
    let p = e.load(|a| {
        a.fninit()?;
        a.fnstcw(word_ptr(rdi))?;
        a.fnstsw(word_ptr(rdi + 2))?;
        a.mov(word_ptr(rdi + 4), 0x0e7fu32)?;
        a.fldcw(word_ptr(rdi + 4))?;
        a.fnstcw(word_ptr(rdi + 6))?;
        a.fstcw(word_ptr(rdi + 8))?;
        a.fnstsw(ax)?;
        a.fnclex()?;
        a.emms()?;
        Ok(())
    });
    e.cpu.gpr[reg::RDI as usize] = DATA;
    e.cpu.fpu.fsw = 0xb8a5;
    e.cpu.fpu.ftw = 0xff;
    e.cpu.gpr[reg::RAX as usize] = 0xffff_ffff_ffff_ffff;
    e.run(p);
    assert_eq!(e.faulted(), None);
    let m = e.read(DATA, 10);
    assert_eq!(u16::from_le_bytes([m[0], m[1]]), 0x037f);
    assert_eq!(u16::from_le_bytes([m[2], m[3]]), 0);
    assert_eq!(u16::from_le_bytes([m[6], m[7]]), 0x0e7f);
    assert_eq!(u16::from_le_bytes([m[8], m[9]]), 0x0e7f);
    assert_eq!(e.cpu.gpr[reg::RAX as usize], 0xffff_ffff_ffff_0000);
    assert_eq!(e.cpu.fpu.ftw, 0);
    // fnclex clears the exception, SF, ES and busy bits and keeps TOP and C0-C3.
    e.cpu.fpu.fsw = 0xffff;
    let p = e.load(|a| a.fnclex());
    e.run(p);
    assert_eq!(e.cpu.fpu.fsw, 0x7f00);
}

#[repr(C, align(16))]
struct Area([u8; 512]);

/// A test image: every field set to something distinctive and valid.
fn fx_test_image(seed: u64) -> Area {
    let mut r = Rng(seed);
    let mut b = [0u8; 512];
    for x in b.iter_mut() {
        *x = r.next() as u8;
    }
    // FCW: RC=up, PC=double, all masked but PE, which is pending in FSW: an unmasked
    // pending exception (FSW.ES) makes AMD parts save FOP/FIP/FDP, which they otherwise
    // store as zero; Intel parts and the emulator always save them.
    b[0..2].copy_from_slice(&0x0a5fu16.to_le_bytes());
    b[2..4].copy_from_slice(&0x3b21u16.to_le_bytes()); // FSW: TOP=7, C3/C1, PE, IE
    b[4] = 0x81;
    b[5] = 0;
    b[6..8].copy_from_slice(&0x0123u16.to_le_bytes());
    // FIP and FDP are linear addresses; hardware keeps them canonical.
    b[8..16].copy_from_slice(&(0x0000_7fff_0000_0000 | r.next() & 0xffff_ffff).to_le_bytes());
    b[16..24].copy_from_slice(&(0xffff_8000_0000_0000 | r.next() & 0xffff_ffff).to_le_bytes());
    b[24..28].copy_from_slice(&(0x1f80u32 | 0x4000 | 0x21).to_le_bytes());
    for i in 0..8 {
        // The six reserved bytes after each 80-bit register are not restored.
        b[42 + 16 * i..48 + 16 * i].fill(0);
    }
    Area(b)
}

/// fxrstor64 then fxsave64 on the host and in the emulator give the same first 416 bytes.
#[test]
fn fxsave_matches_host() {
    for seed in [1u64, 2, 3] {
        let img = fx_test_image(seed);
        let mut host_out = Area([0; 512]);
        let mut saved = Area([0; 512]);
        // SAFETY: saves the host's x87/SSE state, loads the test image, saves it back out
        // and restores the original state before the block ends; all areas are 16-byte
        // aligned and 512 bytes.
        unsafe {
            asm!(
                "fxsave64 [{s}]",
                "fxrstor64 [{i}]",
                "fxsave64 [{o}]",
                "fxrstor64 [{s}]",
                s = in(reg) saved.0.as_mut_ptr(),
                i = in(reg) img.0.as_ptr(),
                o = in(reg) host_out.0.as_mut_ptr(),
                options(nostack),
            );
        }
        let mut e = Emu::new();
        e.write(DATA, &img.0);
        e.write(DATA + 0x1000, &[0; 512]);
        let p = e.load(|a| {
            a.fxrstor64(ptr(rdi))?;
            a.fxsave64(ptr(rsi))?;
            Ok(())
        });
        e.cpu.gpr[reg::RDI as usize] = DATA;
        e.cpu.gpr[reg::RSI as usize] = DATA + 0x1000;
        e.run(p);
        assert_eq!(e.faulted(), None);
        let emu_out = e.read(DATA + 0x1000, 512);
        // MXCSR_MASK is the one field that describes the CPU rather than the state: the
        // emulator reports qemu's 0xFFFF (DAZ supported); hosts may report more (AMD parts
        // with misaligned-SSE mode set bit 17), but always at least that.
        assert_eq!(u32::from_le_bytes(emu_out[28..32].try_into().unwrap()), 0xffff);
        assert_eq!(u32::from_le_bytes(host_out.0[28..32].try_into().unwrap()) & 0xffff, 0xffff);
        for i in (0..28).chain(32..416) {
            assert_eq!(emu_out[i], host_out.0[i], "seed {seed} byte {i}: emu {:02x} host {:02x}", emu_out[i], host_out.0[i]);
        }
        // The emulator's view of the restored state.
        assert_eq!(e.cpu.fpu.fcw, 0x0a5f);
        assert_eq!(e.cpu.fpu.fsw, 0xbba1, "ES and B recomputed");
        assert_eq!(e.cpu.sse.mxcsr, 0x1f80 | 0x4000 | 0x21);
        for x in 0..16 {
            let want = u128::from_le_bytes(img.0[160 + 16 * x..176 + 16 * x].try_into().unwrap());
            assert_eq!(e.cpu.sse.xmm[x], want);
        }
        // The reserved tail is left alone.
        assert!(emu_out[416..].iter().all(|&b| b == 0));
    }
}

/// State set by instructions lands at the documented offsets; fxrstor with a reserved
/// MXCSR bit faults; the legacy format round-trips.
#[test]
fn fxsave_layout_and_errors() {
    let mut e = Emu::new();
    let p = e.load(|a| {
        a.fninit()?;
        a.fldcw(word_ptr(rdi))?;
        a.ldmxcsr(dword_ptr(rdi + 4))?;
        a.movdqu(xmm0, xmmword_ptr(rdi + 16))?;
        a.movdqu(xmm15, xmmword_ptr(rdi + 32))?;
        a.fxsave64(ptr(rsi))?;
        a.fxsave(ptr(rsi + 512))?;
        Ok(())
    });
    let x0 = 0x0011_2233_4455_6677_8899_aabb_ccdd_eeffu128;
    let x15 = 0xfedc_ba98_7654_3210_0123_4567_89ab_cdefu128;
    e.write(DATA, &0x027fu16.to_le_bytes());
    e.write(DATA + 4, &0x3fa0u32.to_le_bytes());
    e.write(DATA + 16, &x0.to_le_bytes());
    e.write(DATA + 32, &x15.to_le_bytes());
    e.cpu.gpr[reg::RDI as usize] = DATA;
    e.cpu.gpr[reg::RSI as usize] = DATA + 0x1000;
    e.run(p);
    assert_eq!(e.faulted(), None);
    for base in [DATA + 0x1000, DATA + 0x1200] {
        let m = e.read(base, 512);
        assert_eq!(&m[0..8], &[0x7f, 0x02, 0, 0, 0, 0, 0, 0]);
        assert_eq!(u32::from_le_bytes(m[24..28].try_into().unwrap()), 0x3fa0);
        assert_eq!(u32::from_le_bytes(m[28..32].try_into().unwrap()), 0xffff);
        assert_eq!(u128::from_le_bytes(m[160..176].try_into().unwrap()), x0);
        assert_eq!(u128::from_le_bytes(m[400..416].try_into().unwrap()), x15);
    }
    // Legacy format round trip: FIP/FDP low 48 bits survive (FCS/FDS carry bits 32-47).
    e.cpu.fpu.fip = 0x0000_1234_5678_9abc;
    e.cpu.fpu.fdp = 0x0000_4321_8765_cba9;
    e.cpu.fpu.fop = 0x7ff;
    e.cpu.fpu.st[3] = 0x1234_5678_9abc_def0_1122;
    let p = e.load(|a| {
        a.fxsave(ptr(rsi))?;
        a.fninit()?;
        a.pxor(xmm3, xmm3)?;
        a.fxrstor(ptr(rsi))?;
        Ok(())
    });
    e.cpu.sse.xmm[3] = x0;
    e.run(p);
    assert_eq!(e.faulted(), None);
    assert_eq!((e.cpu.fpu.fip, e.cpu.fpu.fdp, e.cpu.fpu.fop, e.cpu.fpu.fcw), (0x1234_5678_9abc, 0x4321_8765_cba9, 0x7ff, 0x027f));
    assert_eq!(e.cpu.fpu.st[3], 0x1234_5678_9abc_def0_1122);
    assert_eq!(e.cpu.sse.xmm[3], x0);
    // A reserved MXCSR bit in the image: #GP(0), nothing restored.
    let mut bad = fx_test_image(9).0;
    bad[24..28].copy_from_slice(&0x0002_1f80u32.to_le_bytes());
    e.write(DATA + 0x2000, &bad);
    let p = e.load(|a| a.fxrstor64(ptr(rdi)));
    e.cpu.gpr[reg::RDI as usize] = DATA + 0x2000;
    e.cpu.fpu.fcw = 0x37f;
    e.run(p);
    assert_eq!(e.faulted(), Some(13));
    assert_eq!(e.cpu.fpu.fcw, 0x37f);
}

/// A tiny compiled-style kernel: dot product of f64 arrays with SSE2, as rustc emits it.
#[test]
fn small_program_dot_product() {
    let mut e = Emu::new();
    let xs: Vec<f64> = (0..64).map(|i| (i as f64) * 0.37 - 3.0).collect();
    let ys: Vec<f64> = (0..64).map(|i| 1.0 / (i as f64 + 1.5)).collect();
    let bytes = |v: &[f64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    e.write(DATA, &bytes(&xs));
    e.write(DATA + 0x1000, &bytes(&ys));
    let p = e.load(|a| {
        let mut top = a.create_label();
        a.xorpd(xmm0, xmm0)?;
        a.xorpd(xmm1, xmm1)?;
        a.xor(eax, eax)?;
        a.set_label(&mut top)?;
        a.movupd(xmm2, xmmword_ptr(rdi + rax * 8))?;
        a.movupd(xmm3, xmmword_ptr(rsi + rax * 8))?;
        a.mulpd(xmm2, xmm3)?;
        a.addpd(xmm0, xmm2)?;
        a.add(rax, 2)?;
        a.cmp(rax, 64)?;
        a.jne(top)?;
        a.movapd(xmm1, xmm0)?;
        a.unpckhpd(xmm1, xmm1)?;
        a.addsd(xmm0, xmm1)?;
        a.cvttsd2si(rbx, xmm0)?;
        Ok(())
    });
    e.cpu.gpr[reg::RDI as usize] = DATA;
    e.cpu.gpr[reg::RSI as usize] = DATA + 0x1000;
    e.run(p);
    let (mut even, mut odd) = (0.0f64, 0.0f64);
    for i in (0..64).step_by(2) {
        even += xs[i] * ys[i];
        odd += xs[i + 1] * ys[i + 1];
    }
    let want = even + odd;
    assert_eq!(f64::from_bits(e.cpu.sse.xmm[0] as u64), want);
    assert_eq!(e.cpu.gpr[reg::RBX as usize], want as i64 as u64);
}

/// movsd and cmpsd share their mnemonics with the string instructions: the string forms
/// must not reach the SSE handlers (they either run as string moves, once the string
/// family implements them, or are recorded as unimplemented string codes).
#[test]
fn string_movsd_is_not_sse() {
    let mut e = Emu::new();
    let p = e.load(|a| a.movsd());
    e.write(DATA, &0x1234_5678u32.to_le_bytes());
    e.write(DATA + 0x100, &[0; 4]);
    e.cpu.gpr[reg::RSI as usize] = DATA;
    e.cpu.gpr[reg::RDI as usize] = DATA + 0x100;
    let xmm = e.cpu.sse.xmm;
    e.run(p);
    assert_eq!(e.cpu.sse.xmm, xmm);
    let moved = e.faulted().is_none() && e.read(DATA + 0x100, 4) == 0x1234_5678u32.to_le_bytes() && e.cpu.gpr[reg::RSI as usize] == DATA + 4;
    let unimplemented = e.faulted() == Some(6) && e.cpu.stats.unimplemented.contains_key("Movsd_m32_m32");
    assert!(moved || unimplemented, "{:?}", e.cpu.stats.unimplemented);
}
