//! RFLAGS with lazily computed arithmetic flags.
//!
//! The hot arithmetic instructions (add, sub, cmp, and/or/xor/test, inc, dec) do not compute
//! CF, PF, AF, ZF, SF and OF; they record their operands and result, and each flag is derived
//! when something reads it (a `jcc`, `setcc`, `pushf`, ...). Everything else (shifts, multiply,
//! adc/sbb, ...) writes flags eagerly with [`Flags::set_arith`]. Non-arithmetic bits (DF, IF,
//! TF, IOPL, ...) always live in `bits`.

/// Carry.
pub const CF: u64 = 1 << 0;
/// Always one.
pub const FIXED1: u64 = 1 << 1;
/// Parity of the low result byte.
pub const PF: u64 = 1 << 2;
/// Auxiliary carry (out of bit 3).
pub const AF: u64 = 1 << 4;
pub const ZF: u64 = 1 << 6;
pub const SF: u64 = 1 << 7;
pub const TF: u64 = 1 << 8;
pub const IF: u64 = 1 << 9;
pub const DF: u64 = 1 << 10;
pub const OF: u64 = 1 << 11;
pub const IOPL: u64 = 3 << 12;
pub const NT: u64 = 1 << 14;
pub const RF: u64 = 1 << 16;
pub const VM: u64 = 1 << 17;
pub const AC: u64 = 1 << 18;
pub const VIF: u64 = 1 << 19;
pub const VIP: u64 = 1 << 20;
pub const ID: u64 = 1 << 21;
/// The six arithmetic status flags.
pub const ARITH: u64 = CF | PF | AF | ZF | SF | OF;
/// Bits software can ever see set (everything else reads as zero, bit 1 reads as one).
pub const SUPPORTED: u64 = ARITH | TF | IF | DF | IOPL | NT | RF | VM | AC | VIF | VIP | ID;

/// Which operation produced the lazily held status flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Lazy {
    /// The status flags are in `bits`.
    None,
    Add,
    Sub,
    Logic,
    /// CF is in `bits` (inc does not touch it).
    Inc,
    /// CF is in `bits` (dec does not touch it).
    Dec,
}

/// The lazy operation and its width, packed so that a producer records both with one store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[repr(C, align(2))]
struct State {
    lazy: Lazy,
    /// Operand size in bits of the lazy operation.
    width: u8,
}

/// RFLAGS. Operands and results are stored already truncated to `size` bytes.
///
/// Which of `a`, `b` and `res` are meaningful depends on the lazy operation: all three for
/// add and sub, `a` and `res` for inc and dec (`b` is implicitly 1), `res` alone for the
/// logical operations. Readers only look at the fields their operation defines.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Flags {
    bits: u64,
    st: State,
    a: u64,
    b: u64,
    res: u64,
}

impl Default for Flags {
    fn default() -> Self {
        Self { bits: FIXED1, st: State { lazy: Lazy::None, width: 8 }, a: 0, b: 0, res: 0 }
    }
}

/// Mask for an operand of `S` bytes.
#[inline(always)]
pub const fn mask<const S: usize>() -> u64 {
    if S >= 8 {
        u64::MAX
    } else {
        (1u64 << (S * 8)) - 1
    }
}

/// Sign bit for an operand of `S` bytes.
#[inline(always)]
pub const fn sign<const S: usize>() -> u64 {
    1u64 << (S * 8 - 1)
}

/// Sign-extends an `S`-byte value to 64 bits.
#[inline(always)]
pub const fn sext<const S: usize>(v: u64) -> i64 {
    let shift = 64 - S as u32 * 8;
    ((v << shift) as i64) >> shift
}

#[inline(always)]
fn parity(v: u64) -> bool {
    (v as u8).count_ones().is_multiple_of(2)
}

impl Flags {
    /// Whether the lazy state is one the CPU can produce (a snapshot read from bytes is
    /// checked with this before it is trusted).
    pub fn is_valid(&self) -> bool {
        matches!(self.st.width, 8 | 16 | 32 | 64)
    }

    // ----- lazy producers -------------------------------------------------------------

    /// `a + b`, flags as ADD.
    #[inline(always)]
    pub fn add<const S: usize>(&mut self, a: u64, b: u64) -> u64 {
        let r = a.wrapping_add(b) & mask::<S>();
        self.set_lazy::<S>(Lazy::Add, a, b, r);
        r
    }

    /// `a - b`, flags as SUB/CMP.
    #[inline(always)]
    pub fn sub<const S: usize>(&mut self, a: u64, b: u64) -> u64 {
        let r = a.wrapping_sub(b) & mask::<S>();
        self.set_lazy::<S>(Lazy::Sub, a, b, r);
        r
    }

    /// Flags of a logical result (AND/OR/XOR/TEST): CF = OF = 0, AF = 0.
    #[inline(always)]
    pub fn logic<const S: usize>(&mut self, r: u64) -> u64 {
        let r = r & mask::<S>();
        self.st = State { lazy: Lazy::Logic, width: S as u8 * 8 };
        self.res = r;
        r
    }

    /// `a + 1`, CF preserved.
    #[inline(always)]
    pub fn inc<const S: usize>(&mut self, a: u64) -> u64 {
        self.keep_cf();
        let r = a.wrapping_add(1) & mask::<S>();
        self.set_lazy_unary::<S>(Lazy::Inc, a, r);
        r
    }

    /// `a - 1`, CF preserved.
    #[inline(always)]
    pub fn dec<const S: usize>(&mut self, a: u64) -> u64 {
        self.keep_cf();
        let r = a.wrapping_sub(1) & mask::<S>();
        self.set_lazy_unary::<S>(Lazy::Dec, a, r);
        r
    }

    /// `a + b + CF`, flags as ADC (computed eagerly).
    pub fn adc<const S: usize>(&mut self, a: u64, b: u64) -> u64 {
        let c = self.cf() as u64;
        let m = mask::<S>();
        let r = a.wrapping_add(b).wrapping_add(c) & m;
        let cf = if S == 8 {
            let (x, c1) = a.overflowing_add(b);
            let (_, c2) = x.overflowing_add(c);
            c1 | c2
        } else {
            (a & m) + (b & m) + c > m
        };
        let of = (a ^ r) & (b ^ r) & sign::<S>() != 0;
        let af = (a ^ b ^ r) & 0x10 != 0;
        self.set_arith(cf, parity(r), af, r == 0, r & sign::<S>() != 0, of);
        r
    }

    /// `a - b - CF`, flags as SBB (computed eagerly).
    pub fn sbb<const S: usize>(&mut self, a: u64, b: u64) -> u64 {
        let c = self.cf() as u64;
        let m = mask::<S>();
        let r = a.wrapping_sub(b).wrapping_sub(c) & m;
        let cf = (a as u128) < (b as u128) + c as u128;
        let of = (a ^ b) & (a ^ r) & sign::<S>() != 0;
        let af = (a ^ b ^ r) & 0x10 != 0;
        self.set_arith(cf, parity(r), af, r == 0, r & sign::<S>() != 0, of);
        r
    }

    #[inline(always)]
    fn set_lazy<const S: usize>(&mut self, op: Lazy, a: u64, b: u64, r: u64) {
        self.st = State { lazy: op, width: S as u8 * 8 };
        self.a = a & mask::<S>();
        self.b = b & mask::<S>();
        self.res = r;
    }

    /// Inc and dec: `b` is implicitly 1 and not stored.
    #[inline(always)]
    fn set_lazy_unary<const S: usize>(&mut self, op: Lazy, a: u64, r: u64) {
        self.st = State { lazy: op, width: S as u8 * 8 };
        self.a = a & mask::<S>();
        self.res = r;
    }

    /// Moves the current CF into `bits` (for inc/dec, which leave it alone).
    #[inline(always)]
    fn keep_cf(&mut self) {
        // None, Inc and Dec already hold CF in `bits`.
        match self.st.lazy {
            Lazy::Add => self.bits = (self.bits & !CF) | (self.res < self.a) as u64,
            Lazy::Sub => self.bits = (self.bits & !CF) | (self.a < self.b) as u64,
            Lazy::Logic => self.bits &= !CF,
            Lazy::None | Lazy::Inc | Lazy::Dec => {}
        }
    }

    // ----- eager writers --------------------------------------------------------------

    /// Sets all six status flags at once.
    #[inline]
    pub fn set_arith(&mut self, cf: bool, pf: bool, af: bool, zf: bool, sf: bool, of: bool) {
        self.bits = (self.bits & !ARITH)
            | cf as u64
            | (pf as u64) << 2
            | (af as u64) << 4
            | (zf as u64) << 6
            | (sf as u64) << 7
            | (of as u64) << 11;
        self.st.lazy = Lazy::None;
    }

    /// Sets ZF, SF and PF from an `S`-byte result and CF/OF/AF as given.
    #[inline]
    pub fn set_result<const S: usize>(&mut self, r: u64, cf: bool, of: bool, af: bool) {
        let r = r & mask::<S>();
        self.set_arith(cf, parity(r), af, r == 0, r & sign::<S>() != 0, of);
    }

    /// Replaces the flags selected by `which` with those in `value`.
    #[inline]
    pub fn set_masked(&mut self, which: u64, value: u64) {
        self.materialize();
        self.bits = (self.bits & !which) | (value & which);
    }

    /// Sets or clears one flag bit.
    #[inline]
    pub fn set_bit(&mut self, bit: u64, on: bool) {
        if bit & ARITH != 0 {
            self.materialize();
        }
        if on {
            self.bits |= bit;
        } else {
            self.bits &= !bit;
        }
    }

    fn materialize(&mut self) {
        if self.st.lazy != Lazy::None {
            let (cf, pf, af, zf, sf, of) = (self.cf(), self.pf(), self.af(), self.zf(), self.sf(), self.of());
            self.set_arith(cf, pf, af, zf, sf, of);
        }
    }

    // ----- readers --------------------------------------------------------------------

    /// The whole RFLAGS value.
    pub fn get(&self) -> u64 {
        let mut f = self.bits;
        if self.st.lazy != Lazy::None {
            f &= !ARITH;
            f |= self.cf() as u64
                | (self.pf() as u64) << 2
                | (self.af() as u64) << 4
                | (self.zf() as u64) << 6
                | (self.sf() as u64) << 7
                | (self.of() as u64) << 11;
        }
        f
    }

    /// Loads RFLAGS wholesale (reserved bits forced to their fixed values).
    pub fn set(&mut self, v: u64) {
        self.bits = (v & SUPPORTED) | FIXED1;
        self.st.lazy = Lazy::None;
    }

    #[inline(always)]
    fn sign_bit(&self) -> u64 {
        1u64 << (self.st.width - 1)
    }

    #[inline]
    pub fn cf(&self) -> bool {
        match self.st.lazy {
            Lazy::None | Lazy::Inc | Lazy::Dec => self.bits & CF != 0,
            Lazy::Add => self.res < self.a,
            Lazy::Sub => self.a < self.b,
            Lazy::Logic => false,
        }
    }

    #[inline]
    pub fn zf(&self) -> bool {
        match self.st.lazy {
            Lazy::None => self.bits & ZF != 0,
            _ => self.res == 0,
        }
    }

    #[inline]
    pub fn sf(&self) -> bool {
        match self.st.lazy {
            Lazy::None => self.bits & SF != 0,
            _ => self.res & self.sign_bit() != 0,
        }
    }

    #[inline]
    pub fn of(&self) -> bool {
        let s = self.sign_bit();
        match self.st.lazy {
            Lazy::None => self.bits & OF != 0,
            Lazy::Add => (self.a ^ self.res) & (self.b ^ self.res) & s != 0,
            Lazy::Sub => (self.a ^ self.b) & (self.a ^ self.res) & s != 0,
            Lazy::Logic => false,
            Lazy::Inc => self.res == s,
            Lazy::Dec => self.res == s - 1,
        }
    }

    #[inline]
    pub fn pf(&self) -> bool {
        match self.st.lazy {
            Lazy::None => self.bits & PF != 0,
            _ => parity(self.res),
        }
    }

    #[inline]
    pub fn af(&self) -> bool {
        match self.st.lazy {
            Lazy::None => self.bits & AF != 0,
            Lazy::Logic => false,
            Lazy::Inc | Lazy::Dec => (self.a ^ 1 ^ self.res) & 0x10 != 0,
            Lazy::Add | Lazy::Sub => (self.a ^ self.b ^ self.res) & 0x10 != 0,
        }
    }

    #[inline(always)]
    pub fn df(&self) -> bool {
        self.bits & DF != 0
    }

    #[inline(always)]
    pub fn iff(&self) -> bool {
        self.bits & IF != 0
    }

    #[inline(always)]
    pub fn tf(&self) -> bool {
        self.bits & TF != 0
    }

    /// I/O privilege level.
    #[inline(always)]
    pub fn iopl(&self) -> u8 {
        ((self.bits >> 12) & 3) as u8
    }

    /// Evaluates condition code `cc` (the low nibble of the Jcc/SETcc/CMOVcc opcode).
    #[inline]
    pub fn cond(&self, cc: u8) -> bool {
        let class = cc >> 1;
        if matches!(class, 3 | 6 | 7) && self.st.lazy == Lazy::Sub {
            // After cmp/sub these are plain comparisons of the operands.
            let sh = 64 - self.st.width as u32;
            let (sa, sb) = ((self.a << sh) as i64, (self.b << sh) as i64);
            let r = match class {
                3 => self.a <= self.b,
                6 => sa < sb,
                _ => sa <= sb,
            };
            return r ^ (cc & 1 != 0);
        }
        let r = match class {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        r ^ (cc & 1 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_sets_borrow_and_overflow() {
        let mut f = Flags::default();
        let r = f.sub::<1>(0x80, 1);
        assert_eq!(r, 0x7f);
        assert!(!f.cf() && f.of() && !f.zf() && !f.sf() && f.af());
        f.sub::<4>(0, 1);
        assert!(f.cf() && f.sf() && !f.of());
    }

    #[test]
    fn inc_keeps_carry() {
        let mut f = Flags::default();
        f.sub::<8>(0, 1); // CF = 1
        let r = f.inc::<2>(0x7fff);
        assert_eq!(r, 0x8000);
        assert!(f.cf() && f.of() && f.sf());
        assert_eq!(f.get() & CF, CF);
    }

    #[test]
    fn get_and_set_round_trip() {
        let mut f = Flags::default();
        f.set(0xffff_ffff);
        assert_eq!(f.get(), SUPPORTED | FIXED1);
        f.logic::<1>(0);
        assert_eq!(f.get() & ARITH, ZF | PF);
    }

    #[test]
    fn conditions() {
        let mut f = Flags::default();
        f.sub::<8>(1, 2);
        assert!(f.cond(0x2)); // b
        assert!(f.cond(0xc)); // l
        assert!(!f.cond(0x4)); // z
        assert!(f.cond(0x6)); // be
        assert!(f.cond(0xe)); // le
        assert!(!f.cond(0xf)); // g
    }
}
