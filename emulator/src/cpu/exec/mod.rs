//! Instruction semantics, one module per family, and the table from iced's `Mnemonic` to
//! each instruction's *builder*.
//!
//! A builder runs once per decoded instruction: it looks at the operand forms and size and
//! returns the handler instantiation for exactly that form (`alu::<Add, Mem, Imm, 4>`), or
//! `None` for a form we do not implement. Execution then calls the handler directly.
//!
//! Adding an instruction: write its handler in the family file, write a builder that picks
//! the instantiation, and register the builder in that file's `register` function.
//! Anything without a builder raises #UD in the guest and is counted in
//! [`Stats::unimplemented`](super::Stats).

pub mod alu;
pub mod bit;
pub mod control;
pub mod far;
pub mod mov;
pub mod msr;
pub mod muldiv;
pub mod shift;
pub mod sse;
pub mod stack;
pub mod string;
pub mod system;
pub mod x87;

use std::sync::OnceLock;

use iced_x86::{Instruction, Mnemonic, OpKind};

use super::decode::{Handler, Op};
use super::exception::Exception;
use super::Cpu;
use crate::bus::Bus;

/// Picks the handler for one decoded instruction (see the module docs).
pub type Builder = fn(&Instruction, &mut Op) -> Option<Handler>;

/// Builders by mnemonic.
pub struct Table {
    builders: Vec<Option<Builder>>,
}

impl Table {
    /// Registers `b` for mnemonic `m`.
    pub fn set(&mut self, m: Mnemonic, b: Builder) {
        let i = m as usize;
        if i >= self.builders.len() {
            self.builders.resize(i + 1, None);
        }
        self.builders[i] = Some(b);
    }

    /// Registers `b` for several mnemonics.
    pub fn set_all(&mut self, ms: &[Mnemonic], b: Builder) {
        for &m in ms {
            self.set(m, b);
        }
    }

    fn get(&self, m: Mnemonic) -> Option<Builder> {
        self.builders.get(m as usize).copied().flatten()
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table { builders: Vec::new() };
        alu::register(&mut t);
        bit::register(&mut t);
        control::register(&mut t);
        mov::register(&mut t);
        muldiv::register(&mut t);
        shift::register(&mut t);
        stack::register(&mut t);
        string::register(&mut t);
        system::register(&mut t);
        x87::register(&mut t);
        // Last: movsd and cmpsd are both string and SSE mnemonics; sse chains to the string
        // builders registered above for the string forms.
        sse::register(&mut t);
        t
    })
}

/// The handler for `ins` (or [`unimplemented`]).
pub fn build(ins: &Instruction, op: &mut Op) -> Handler {
    match table().get(ins.mnemonic()) {
        Some(b) => b(ins, op).unwrap_or(unimplemented as Handler),
        None => unimplemented,
    }
}

/// A valid instruction the emulator does not implement: #UD, and a note in the stats.
pub fn unimplemented(cpu: &mut Cpu, _: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    *cpu.stats.unimplemented.entry(format!("{:?}", op.ins.code())).or_insert(0) += 1;
    Err(Exception::ud())
}

/// Bytes that do not decode to any instruction: #UD.
pub fn invalid_opcode(_: &mut Cpu, _: &mut dyn Bus, _: &Op) -> Result<(), Exception> {
    Err(Exception::ud())
}

/// The operand size in bytes of operand `i` (register or memory).
pub fn operand_size(ins: &Instruction, i: u32) -> usize {
    match ins.op_kind(i) {
        OpKind::Register => ins.op_register(i).size(),
        OpKind::Memory => ins.memory_size().size(),
        _ => 0,
    }
}

/// Operand form of operand `i`, for builders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Reg,
    Mem,
    Imm,
    Other,
}

pub fn form(ins: &Instruction, i: u32) -> Form {
    if i >= ins.op_count() {
        return Form::Other;
    }
    match ins.op_kind(i) {
        OpKind::Register => Form::Reg,
        OpKind::Memory => Form::Mem,
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate64
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32
        | OpKind::Immediate8to64
        | OpKind::Immediate32to64 => Form::Imm,
        _ => Form::Other,
    }
}

/// Picks the instantiation of a handler generic over operand size (1, 2, 4, 8 bytes):
/// `sized!(size, alu::<Add, Reg0, Imm>)` yields `Some(alu::<Add, Reg0, Imm, N> as Handler)`.
#[macro_export]
macro_rules! sized {
    ($size:expr, $f:ident :: <$($g:tt),*>) => {
        match $size {
            1 => Some($f::<$($g,)* 1> as $crate::cpu::decode::Handler),
            2 => Some($f::<$($g,)* 2> as $crate::cpu::decode::Handler),
            4 => Some($f::<$($g,)* 4> as $crate::cpu::decode::Handler),
            8 => Some($f::<$($g,)* 8> as $crate::cpu::decode::Handler),
            _ => None,
        }
    };
    ($size:expr, $f:ident) => {
        match $size {
            1 => Some($f::<1> as $crate::cpu::decode::Handler),
            2 => Some($f::<2> as $crate::cpu::decode::Handler),
            4 => Some($f::<4> as $crate::cpu::decode::Handler),
            8 => Some($f::<8> as $crate::cpu::decode::Handler),
            _ => None,
        }
    };
}

/// Like [`sized!`] for handlers that only exist for 2, 4 and 8 bytes.
#[macro_export]
macro_rules! sized_wide {
    ($size:expr, $f:ident :: <$($g:tt),*>) => {
        match $size {
            2 => Some($f::<$($g,)* 2> as $crate::cpu::decode::Handler),
            4 => Some($f::<$($g,)* 4> as $crate::cpu::decode::Handler),
            8 => Some($f::<$($g,)* 8> as $crate::cpu::decode::Handler),
            _ => None,
        }
    };
    ($size:expr, $f:ident) => {
        match $size {
            2 => Some($f::<2> as $crate::cpu::decode::Handler),
            4 => Some($f::<4> as $crate::cpu::decode::Handler),
            8 => Some($f::<8> as $crate::cpu::decode::Handler),
            _ => None,
        }
    };
}
