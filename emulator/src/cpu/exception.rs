//! Exceptions as values.
//!
//! Every instruction handler, memory access and descriptor load returns
//! `Result<_, Exception>`; the `?` operator carries a fault to the run loop, which is the one
//! place that delivers it (see `interrupt.rs`). A fault leaves RIP at the faulting
//! instruction, so it restarts after the handler returns.

use std::num::NonZeroU64;

/// Vector numbers (Intel SDM vol. 3, table 6-1).
pub mod vector {
    pub const DE: u8 = 0;
    pub const DB: u8 = 1;
    pub const NMI: u8 = 2;
    pub const BP: u8 = 3;
    pub const OF: u8 = 4;
    pub const BR: u8 = 5;
    pub const UD: u8 = 6;
    pub const NM: u8 = 7;
    pub const DF: u8 = 8;
    pub const TS: u8 = 10;
    pub const NP: u8 = 11;
    pub const SS: u8 = 12;
    pub const GP: u8 = 13;
    pub const PF: u8 = 14;
    pub const MF: u8 = 16;
    pub const AC: u8 = 17;
    pub const MC: u8 = 18;
    pub const XM: u8 = 19;
}

/// A CPU exception on its way to delivery.
///
/// Two machine words, so that `Result<(), Exception>`, which every handler returns, travels
/// in two registers instead of through memory: it is on the hottest path of the
/// interpreter. `info` packs the vector and the error code; its top bit is always set, which
/// gives `Result` its niche.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Exception {
    /// For #PF: the faulting linear address, loaded into CR2 when the fault is delivered.
    pub address: u64,
    info: NonZeroU64,
}

const INFO_SET: u64 = 1 << 63;
const INFO_HAS_CODE: u64 = 1 << 62;

impl std::fmt::Debug for Exception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(c) = self.error_code() {
            write!(f, "({c:#x})")?;
        }
        if self.vector() == vector::PF {
            write!(f, " at {:#x}", self.address)?;
        }
        Ok(())
    }
}

impl Exception {
    const fn pack(vector: u8, code: Option<u32>, address: u64) -> Self {
        let mut info = INFO_SET | (vector as u64) << 32;
        if let Some(c) = code {
            info |= INFO_HAS_CODE | c as u64;
        }
        match NonZeroU64::new(info) {
            Some(info) => Self { address, info },
            None => unreachable!(),
        }
    }
    #[inline]
    pub const fn new(vector: u8) -> Self {
        Self::pack(vector, None, 0)
    }
    #[inline]
    pub const fn with_code(vector: u8, code: u32) -> Self {
        Self::pack(vector, Some(code), 0)
    }
    /// The exception vector.
    #[inline]
    pub const fn vector(&self) -> u8 {
        (self.info.get() >> 32) as u8
    }
    /// The error code pushed on the handler's stack, for vectors that have one.
    #[inline]
    pub const fn error_code(&self) -> Option<u32> {
        if self.info.get() & INFO_HAS_CODE != 0 {
            Some(self.info.get() as u32)
        } else {
            None
        }
    }
    /// #UD invalid opcode.
    #[inline]
    pub const fn ud() -> Self {
        Self::new(vector::UD)
    }
    /// #GP with an error code (usually 0 or a selector).
    #[inline]
    pub const fn gp(code: u32) -> Self {
        Self::with_code(vector::GP, code)
    }
    /// #SS with an error code.
    #[inline]
    pub const fn ss(code: u32) -> Self {
        Self::with_code(vector::SS, code)
    }
    /// #NP segment not present.
    #[inline]
    pub const fn np(code: u32) -> Self {
        Self::with_code(vector::NP, code)
    }
    /// #TS invalid TSS.
    #[inline]
    pub const fn ts(code: u32) -> Self {
        Self::with_code(vector::TS, code)
    }
    /// #DE divide error.
    #[inline]
    pub const fn de() -> Self {
        Self::new(vector::DE)
    }
    /// #NM device not available.
    #[inline]
    pub const fn nm() -> Self {
        Self::new(vector::NM)
    }
    /// #PF at `address` with the page-fault error code.
    #[inline]
    pub const fn pf(address: u64, code: u32) -> Self {
        Self::pack(vector::PF, Some(code), address)
    }

    /// Short mnemonic name ("#GP") for dumps and traces.
    pub fn name(&self) -> &'static str {
        name(self.vector())
    }
}

/// Mnemonic of an exception vector.
pub fn name(v: u8) -> &'static str {
    match v {
        0 => "#DE",
        1 => "#DB",
        2 => "NMI",
        3 => "#BP",
        4 => "#OF",
        5 => "#BR",
        6 => "#UD",
        7 => "#NM",
        8 => "#DF",
        9 => "CSO",
        10 => "#TS",
        11 => "#NP",
        12 => "#SS",
        13 => "#GP",
        14 => "#PF",
        16 => "#MF",
        17 => "#AC",
        18 => "#MC",
        19 => "#XM",
        20 => "#VE",
        21 => "#CP",
        _ => "INT",
    }
}

/// Page-fault error code bits.
pub mod pf {
    /// The fault was a protection violation (page present).
    pub const P: u32 = 1 << 0;
    /// The access was a write.
    pub const W: u32 = 1 << 1;
    /// The access came from user mode (CPL 3).
    pub const U: u32 = 1 << 2;
    /// A reserved bit was set in a paging structure.
    pub const RSVD: u32 = 1 << 3;
    /// The access was an instruction fetch.
    pub const I: u32 = 1 << 4;
}
