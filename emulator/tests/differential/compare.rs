//! What a differential case compares, and on which host.
//!
//! The SDM leaves some results undefined: status flags after `div`, `mul`, `bsf`, shifts by
//! counts other than 1, and a few whole results (`bsf` of zero, 16-bit `bswap`, 16-bit
//! `shld`/`shrd` by more than 16). The emulator gives them one fixed value, the one AMD
//! processors give ([`MODELLED`]), whatever host it runs on. So a case compares:
//!
//! * on every host, exactly what the architecture defines ([`Compare`], from the tests'
//!   mask functions), and
//! * on a host of the modelled vendor, everything, since the emulator reproduces that
//!   vendor's undefined behaviour too ([`compared`]).
//!
//! Undefined values do not stay in the flags: `setcc`, `adc`, `cmovcc` or `lahf` copy an
//! undefined flag into a register, and from there it spreads. [`undefined_after`] follows
//! that through a sequence of instructions with iced-x86's per-instruction flag and
//! register information, so a chain's mask is derived from its code, and every hand-written
//! mask can be checked against what is certainly undefined ([`violations`]) on any host,
//! AMD included.

use iced_x86::{Decoder, DecoderOptions, Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register, RflagsBits};

pub use emulator::cpu::flags::{AF, ARITH, CF, OF, PF, SF, ZF};

/// Host processor vendors, as far as undefined behaviour goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Vendor {
    Amd,
    Intel,
    /// Anyone else (Hygon, Zhaoxin, VIA, ...): only what the architecture defines is compared.
    Other,
}

/// The vendor whose undefined results the emulator reproduces (AMD; the differential tests
/// were first written on an AMD EPYC). A fixed choice: guests never see the host.
pub const MODELLED: Vendor = Vendor::Amd;

impl Vendor {
    /// From the 12-byte vendor string of CPUID leaf 0 (EBX, EDX, ECX).
    pub fn from_cpuid(id: &[u8; 12]) -> Vendor {
        match id {
            b"AuthenticAMD" => Vendor::Amd,
            b"GenuineIntel" => Vendor::Intel,
            _ => Vendor::Other,
        }
    }
}

/// The host processor: vendor and (display) family and model.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Host {
    pub vendor: Vendor,
    pub family: u32,
    pub model: u32,
}

impl Host {
    /// From CPUID leaf 0's vendor string and leaf 1's EAX.
    pub fn from_cpuid(id: &[u8; 12], leaf1_eax: u32) -> Host {
        let base_family = leaf1_eax >> 8 & 0xf;
        let base_model = leaf1_eax >> 4 & 0xf;
        let family = if base_family == 0xf { base_family + (leaf1_eax >> 20 & 0xff) } else { base_family };
        let model = if base_family >= 0x6 { base_model | (leaf1_eax >> 16 & 0xf) << 4 } else { base_model };
        Host { vendor: Vendor::from_cpuid(id), family, model }
    }

    pub fn this() -> Host {
        static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();
        *HOST.get_or_init(|| {
            let r = std::arch::x86_64::__cpuid(0);
            let mut id = [0u8; 12];
            for (i, w) in [r.ebx, r.edx, r.ecx].into_iter().enumerate() {
                id[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
            }
            Host::from_cpuid(&id, std::arch::x86_64::__cpuid(1).eax)
        })
    }

    /// Whether the emulator's model of `m`'s undefined results is not what this host does.
    /// Only the modelled vendor is modelled at all, and its generations differ too: AMD
    /// family 17h (Zen 1, seen on an EPYC of model 01h) leaves CF, PF, AF, SF and OF
    /// unchanged on bsf/bsr, where the model (a later EPYC) clears CF, AF, SF and OF and
    /// sets PF from the index.
    pub fn unmodelled(&self, m: Mnemonic) -> bool {
        match self.vendor {
            Vendor::Amd if self.family == 0x17 => matches!(m, Mnemonic::Bsf | Mnemonic::Bsr),
            Vendor::Amd => false,
            _ => true,
        }
    }
}

/// The parts of a case's outcome to compare: status flags, bits of each general register
/// (indexed as `emulator::cpu::reg`), and the scratch memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Compare {
    pub flags: u64,
    pub regs: [u64; 16],
    pub mem: bool,
}

impl Compare {
    pub const ALL: Compare = Compare { flags: ARITH, regs: [u64::MAX; 16], mem: true };
    pub const NOTHING: Compare = Compare { flags: 0, regs: [0; 16], mem: false };

    /// Every register and memory, and these flags.
    pub const fn flags(flags: u64) -> Compare {
        Compare { flags, ..Compare::ALL }
    }

    /// This, without the locations `u` marks.
    pub fn without(self, u: &Undefined) -> Compare {
        let mut c = self;
        c.flags &= !u.flags;
        for (r, x) in c.regs.iter_mut().zip(u.regs) {
            *r &= !x;
        }
        c.mem &= !u.mem;
        c
    }

    pub fn union(self, o: Compare) -> Compare {
        let mut c = self;
        c.flags |= o.flags;
        for (r, x) in c.regs.iter_mut().zip(o.regs) {
            *r |= x;
        }
        c.mem |= o.mem;
        c
    }

    /// What this compares of the undefined locations `u` (empty when the two are disjoint).
    pub fn overlap(&self, u: &Undefined) -> Undefined {
        let mut o = Undefined { flags: self.flags & u.flags, mem: self.mem && u.mem, ..Undefined::default() };
        for i in 0..16 {
            o.regs[i] = self.regs[i] & u.regs[i];
        }
        o
    }
}

/// What the emulator's model of undefined results matches on `host` when running `code`:
/// everything but what the host's unmodelled instructions leave undefined (and what is
/// computed from it).
pub fn modelled(code: &[u8], host: &Host) -> Compare {
    if host.vendor != MODELLED {
        return Compare::NOTHING;
    }
    Compare::ALL.without(&undefined_from(code, Certainty::Maybe, |m| host.unmodelled(m)))
}

/// What to compare for a case whose architecturally defined part is `defined` and whose
/// undefined part the model matches on this host as far as `modelled`. `explore`
/// (DIFF_ALL_FLAGS=1) compares everything, to survey a new host.
pub fn compared(defined: Compare, modelled: Compare, explore: bool) -> Compare {
    if explore {
        Compare::ALL
    } else {
        defined.union(modelled)
    }
}

/// Locations holding undefined values: flags, register bits, scratch memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Undefined {
    pub flags: u64,
    pub regs: [u64; 16],
    pub mem: bool,
}

impl Undefined {
    pub fn is_empty(&self) -> bool {
        self.flags == 0 && self.regs.iter().all(|&r| r == 0) && !self.mem
    }
}

impl std::fmt::Display for Undefined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 16] = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
        let mut parts = Vec::new();
        for (bit, name) in [(CF, "CF"), (PF, "PF"), (AF, "AF"), (ZF, "ZF"), (SF, "SF"), (OF, "OF")] {
            if self.flags & bit != 0 {
                parts.push(name.to_string());
            }
        }
        for (i, &m) in self.regs.iter().enumerate() {
            if m != 0 {
                parts.push(format!("{} bits {m:#x}", NAMES[i]));
            }
        }
        if self.mem {
            parts.push("memory".into());
        }
        write!(f, "{}", parts.join(", "))
    }
}

/// How sure an analysis must be before it calls a location undefined.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Certainty {
    /// Undefined for every input: what no mask may ever compare.
    Sure,
    /// Undefined for some input (a shift count in CL may be 1 or not, a `bsf` source may be
    /// zero): what a mask derived without seeing the inputs must leave out.
    Maybe,
}

/// RFLAGS bit positions of iced-x86's `RflagsBits`.
fn rflags(b: u32) -> u64 {
    [(RflagsBits::CF, CF), (RflagsBits::PF, PF), (RflagsBits::AF, AF), (RflagsBits::ZF, ZF), (RflagsBits::SF, SF), (RflagsBits::OF, OF)]
        .iter()
        .filter(|(i, _)| b & i != 0)
        .map(|(_, r)| r)
        .sum()
}

/// A general register as (index, bits).
fn gpr(r: Register) -> Option<(usize, u64)> {
    if !r.is_gpr() {
        return None;
    }
    let i = r.full_register() as usize - Register::RAX as usize;
    let bits = match r {
        Register::AH | Register::CH | Register::DH | Register::BH => 0xff00,
        _ => match r.size() {
            1 => 0xff,
            2 => 0xffff,
            4 => 0xffff_ffff,
            _ => u64::MAX,
        },
    };
    Some((i, bits))
}

fn reads(a: OpAccess) -> bool {
    matches!(a, OpAccess::Read | OpAccess::ReadWrite | OpAccess::CondRead | OpAccess::ReadCondWrite)
}

fn writes(a: OpAccess) -> bool {
    matches!(a, OpAccess::Write | OpAccess::ReadWrite | OpAccess::CondWrite | OpAccess::ReadCondWrite)
}

/// The shift and rotate family, whose undefined flags depend on the count.
fn is_shift(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr | Shld | Shrd)
}

/// The count of a shift or rotate: an immediate (masked as the CPU masks it) or CL.
fn shift_count(ins: &Instruction) -> Option<Option<u32>> {
    if !is_shift(ins.mnemonic()) {
        return None;
    }
    let width = ins.op0_register().size().max(ins.memory_size().size()) as u32 * 8;
    let last = ins.op_count() - 1;
    Some(match ins.op_kind(last) {
        OpKind::Immediate8 => Some(ins.immediate8() as u32 & if width == 64 { 63 } else { 31 }),
        _ if ins.op_register(last) == Register::CL => None,
        // The implicit count of 1 (D0/D1 forms).
        _ => Some(1),
    })
}

/// What one instruction leaves undefined by itself: flags, and whether its destination's
/// value is undefined too.
fn own_undefined(ins: &Instruction, c: Certainty) -> (u64, bool) {
    let iced = rflags(ins.rflags_undefined());
    let m = ins.mnemonic();
    if let Some(count) = shift_count(ins) {
        let width = ins.op0_register().size().max(ins.memory_size().size()) as u32 * 8;
        let plain = matches!(m, Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr);
        let double = matches!(m, Mnemonic::Shld | Mnemonic::Shrd);
        return match (count, c) {
            // A count in CL may be 0 (nothing changes) or 1 (OF defined): nothing is sure.
            (None, Certainty::Sure) => (0, false),
            (None, Certainty::Maybe) => {
                // 8- and 16-bit counts can pass the operand (CF of shl/shr undefined), and
                // a 16-bit double shift by more than 16 leaves everything undefined.
                let past_width = plain && width < 32;
                let double16 = double && width == 16;
                (iced | OF | if past_width { CF } else { 0 } | if double16 { ARITH } else { 0 }, double16)
            }
            (Some(0), _) => (0, false),
            (Some(n), _) => {
                let of = if n == 1 { 0 } else { OF };
                let cf = if plain && n >= width { CF } else { 0 };
                if double && width == 16 && n > 16 {
                    (ARITH, true)
                } else {
                    (iced & !OF | of | cf, false)
                }
            }
        };
    }
    match m {
        // A zero source leaves the destination undefined (AMD: unchanged).
        Mnemonic::Bsf | Mnemonic::Bsr => (iced, c == Certainty::Maybe),
        Mnemonic::Bswap if ins.op0_register().size() == 2 => (iced, true),
        _ => (iced, false),
    }
}

/// The locations the code leaves undefined when it runs from a fully defined state:
/// each instruction's own undefined flags and results, and every value computed from an
/// undefined one (flags read, registers or memory read, addresses formed).
pub fn undefined_after(code: &[u8], c: Certainty) -> Undefined {
    undefined_from(code, c, |_| true)
}

/// As [`undefined_after`], counting only the undefined results of the instructions `source`
/// selects (and what is computed from them).
pub fn undefined_from(code: &[u8], c: Certainty, source: impl Fn(Mnemonic) -> bool) -> Undefined {
    let mut u = Undefined::default();
    let mut factory = InstructionInfoFactory::new();
    for ins in Decoder::with_ip(64, code, 0, DecoderOptions::NONE) {
        assert!(!ins.is_invalid(), "undecodable code in a differential form: {code:02x?}");
        let info = factory.info(&ins);
        let mut tainted_in = rflags(ins.rflags_read()) & u.flags != 0;
        for r in info.used_registers() {
            if let (true, Some((i, bits))) = (reads(r.access()), gpr(r.register())) {
                tainted_in |= u.regs[i] & bits != 0;
            }
        }
        let mem_read = info.used_memory().iter().any(|m| reads(m.access()));
        let mem_written = info.used_memory().iter().any(|m| writes(m.access()));
        tainted_in |= mem_read && u.mem;

        let (own_flags, own_dest) = if source(ins.mnemonic()) { own_undefined(&ins, c) } else { (0, false) };
        let dest_undefined = tainted_in || own_dest;
        for r in info.used_registers() {
            let Some((i, bits)) = gpr(r.register()) else { continue };
            match r.access() {
                OpAccess::Write | OpAccess::ReadWrite => {
                    u.regs[i] = if dest_undefined { u.regs[i] | bits } else { u.regs[i] & !bits };
                }
                // A conditional write may keep the old value, defined or not.
                OpAccess::CondWrite | OpAccess::ReadCondWrite if dest_undefined => u.regs[i] |= bits,
                _ => {}
            }
        }
        if mem_written && dest_undefined {
            u.mem = true;
        }
        let written = rflags(ins.rflags_written());
        let constant = rflags(ins.rflags_cleared() | ins.rflags_set());
        // A shift by 0 changes no flag; one by CL may not (count 0), so its flags may keep
        // old undefined values, but they are not surely still undefined.
        let overwritten = u.flags & !(written | constant | rflags(ins.rflags_undefined()));
        let mut flags = match (shift_count(&ins), c) {
            (Some(Some(0)), _) => u.flags,
            (Some(None), Certainty::Maybe) => u.flags,
            _ => overwritten,
        };
        if tainted_in {
            flags |= written;
        }
        u.flags = flags | own_flags;
    }
    u
}

/// Every location the code writes (registers, memory; not flags), defined or not: what a
/// mask leaves out when an input makes the result itself undefined.
pub fn written(code: &[u8]) -> Undefined {
    let mut w = Undefined::default();
    let mut factory = InstructionInfoFactory::new();
    for ins in Decoder::with_ip(64, code, 0, DecoderOptions::NONE) {
        let info = factory.info(&ins);
        for r in info.used_registers() {
            if writes(r.access()) {
                if let Some((i, bits)) = gpr(r.register()) {
                    w.regs[i] |= bits;
                }
            }
        }
        w.mem |= info.used_memory().iter().any(|m| writes(m.access()));
    }
    w
}

/// The architecturally defined part of running `code`, for any input.
pub fn defined_by_code(code: &[u8]) -> Compare {
    Compare::ALL.without(&undefined_after(code, Certainty::Maybe))
}

/// Where a mask compares what the code certainly leaves undefined (empty if nowhere).
pub fn violations(mask: &Compare, code: &[u8]) -> Undefined {
    mask.overlap(&undefined_after(code, Certainty::Sure))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::code_asm::*;

    fn code(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
        let mut a = CodeAssembler::new(64).unwrap();
        f(&mut a).unwrap();
        a.assemble(0).unwrap()
    }

    fn regs(list: &[(usize, u64)]) -> [u64; 16] {
        let mut r = [0; 16];
        for &(i, m) in list {
            r[i] |= m;
        }
        r
    }

    const INTEL: Host = Host { vendor: Vendor::Intel, family: 6, model: 0x55 };
    const ZEN1: Host = Host { vendor: Vendor::Amd, family: 0x17, model: 0x01 };
    const ZEN3: Host = Host { vendor: Vendor::Amd, family: 0x19, model: 0x01 };
    const HYGON: Host = Host { vendor: Vendor::Other, family: 0x18, model: 0 };

    #[test]
    fn hosts_from_cpuid() {
        assert_eq!(Vendor::from_cpuid(b"AuthenticAMD"), Vendor::Amd);
        assert_eq!(Vendor::from_cpuid(b"GenuineIntel"), Vendor::Intel);
        assert_eq!(Vendor::from_cpuid(b"HygonGenuine"), Vendor::Other);
        assert_eq!(MODELLED, Vendor::Amd);
        // EPYC 7xx1 (Zen 1): family 0xf + 8, model 0x01. Xeon Skylake-SP: family 6, model 0x55.
        assert_eq!(Host::from_cpuid(b"AuthenticAMD", 0x0080_0f12), ZEN1);
        assert_eq!(Host::from_cpuid(b"GenuineIntel", 0x0005_0654), INTEL);
        assert_eq!(Host::from_cpuid(b"AuthenticAMD", 0x00a0_0f11), ZEN3);
    }

    /// The chain Intel hosts failed on: DIV leaves every status flag undefined and the
    /// setcc copies them into CL, CH, DL and DH.
    #[test]
    fn div_chain_on_each_vendor() {
        let c = code(|a| {
            a.sub(esi, eax)?;
            a.movzx(eax, al)?;
            a.div(r8b)?;
            a.setz(cl)?;
            a.setp(ch)?;
            a.seto(dl)?;
            a.setc(dh)
        });
        let u = undefined_after(&c, Certainty::Maybe);
        assert_eq!(u, Undefined { flags: ARITH, regs: regs(&[(1, 0xffff), (2, 0xffff)]), mem: false });
        assert_eq!(undefined_after(&c, Certainty::Sure), u, "nothing here depends on the input");
        let defined = defined_by_code(&c);
        for host in [INTEL, HYGON] {
            let m = compared(defined, modelled(&c, &host), false);
            assert_eq!(m.flags, 0, "{host:?}");
            assert_eq!((m.regs[0], m.regs[1], m.regs[2]), (u64::MAX, !0xffff, !0xffff), "{host:?}");
            assert!(m.mem);
            assert_eq!(compared(defined, modelled(&c, &host), true), Compare::ALL, "explore");
        }
        for host in [ZEN1, ZEN3] {
            assert_eq!(compared(defined, modelled(&c, &host), false), Compare::ALL, "{host:?}");
        }
        // The mistake itself: comparing everything there is caught on any host.
        assert_eq!(violations(&Compare::ALL, &c), u);
        assert!(violations(&defined, &c).is_empty());
    }

    /// bsf's undefined flags differ between AMD generations: compared on the modelled ones
    /// only, and so is the register a setc copies them into.
    #[test]
    fn bsf_chain_on_each_generation() {
        let c = code(|a| {
            a.neg(rsi)?;
            a.bsf(rax, rsi)?;
            a.inc(rcx)?;
            a.setc(dl)?;
            a.seto(dh)
        });
        let defined = defined_by_code(&c);
        assert_eq!(defined.flags, ARITH & !CF);
        assert_eq!((defined.regs[0], defined.regs[2]), (0, !0xff), "rax if rsi is 0, DL = CF");
        assert_eq!(compared(defined, modelled(&c, &ZEN3), false), Compare::ALL);
        assert_eq!(compared(defined, modelled(&c, &ZEN1), false), defined);
        assert_eq!(compared(defined, modelled(&c, &INTEL), false), defined);
        // Zen 1 still compares a div chain whole.
        let d = code(|a| { a.div(r8b)?; a.setz(cl) });
        assert_eq!(compared(defined_by_code(&d), modelled(&d, &ZEN1), false), Compare::ALL);
    }

    #[test]
    fn defined_chains_stay_fully_compared() {
        let chains = [
            code(|a| {
                a.add(rax, rsi)?;
                a.mul(rcx)?;
                a.adc(rdx, 0)?; // CF and OF of mul are defined
                a.setz(cl)?;
                a.sets(ch)
            }),
            code(|a| {
                a.inc(rax)?;
                a.shl(rsi, cl)?; // 64-bit: CF defined for every count, unchanged for 0
                a.adc(rax, rsi)
            }),
            code(|a| {
                a.xor(eax, esi)?;
                a.bt(rcx, rdx)?;
                a.adc(rax, 0)
            }),
            code(|a| {
                a.inc(eax)?;
                a.shld(ecx, esi, 1)?;
                a.setc(dl)?;
                a.seto(dh)?;
                a.sbb(eax, eax)
            }),
        ];
        for c in chains {
            assert_eq!(undefined_after(&c, Certainty::Maybe), Undefined::default(), "{c:02x?}");
        }
    }

    #[test]
    fn counts_and_results() {
        // shl by 5 leaves OF and AF undefined; by 1 only AF; by 0 nothing.
        assert_eq!(undefined_after(&code(|a| a.shl(eax, 5)), Certainty::Sure).flags, OF | AF);
        assert_eq!(undefined_after(&code(|a| a.shl(eax, 1)), Certainty::Sure).flags, AF);
        assert_eq!(undefined_after(&code(|a| a.shl(eax, 32)), Certainty::Sure).flags, 0);
        // An 8-bit shl by 9 shifts past the operand: CF undefined as well.
        assert_eq!(undefined_after(&code(|a| a.shl(al, 9)), Certainty::Sure).flags, OF | AF | CF);
        // By CL: maybe all of that, surely nothing.
        assert_eq!(undefined_after(&code(|a| a.shr(al, cl)), Certainty::Maybe).flags, OF | AF | CF);
        assert_eq!(undefined_after(&code(|a| a.shr(al, cl)), Certainty::Sure), Undefined::default());
        // 16-bit shld by 20: result and flags undefined.
        let u = undefined_after(&code(|a| a.shld(ax, si, 20)), Certainty::Sure);
        assert_eq!((u.flags, u.regs[0]), (ARITH, 0xffff));
        let u = undefined_after(&code(|a| a.shld(word_ptr(rdi), si, 20)), Certainty::Sure);
        assert!(u.mem);
        // bsf: the destination only maybe (zero source); 16-bit bswap always.
        assert_eq!(undefined_after(&code(|a| a.bsf(rax, rsi)), Certainty::Maybe).regs[0], u64::MAX);
        assert_eq!(undefined_after(&code(|a| a.bsf(rax, rsi)), Certainty::Sure).regs[0], 0);
        assert_eq!(undefined_after(&[0x66, 0x0f, 0xc8], Certainty::Sure).regs[0], 0xffff);
        // A flag overwritten by a defined writer is defined again; a cmov on an undefined
        // condition is not.
        assert_eq!(undefined_after(&code(|a| { a.div(rsi)?; a.add(rax, rcx) }), Certainty::Sure), Undefined::default());
        let u = undefined_after(&code(|a| { a.mul(rsi)?; a.cmovz(r8, rcx) }), Certainty::Sure);
        assert_eq!(u.regs[8], u64::MAX);
    }
}
