//! Spin-loop skipping: busy-wait loops executed as arithmetic instead of one iteration at
//! a time, with exactly the result of running them.
//!
//! Kernels spend a surprising share of their instructions in two kinds of one-block loops
//! that cannot end before the next device event or a known iteration count: waiting for a
//! variable an interrupt handler changes (Pintos' `while (ticks == start)` in the timer
//! calibration) and counting down (Pintos' `busy_wait`, which the calibration runs for
//! about one timer tick at a time, 10 M instructions at the default clock). Virtual time
//! is the instruction count, so these loops cost host time in proportion to the clock rate;
//! on a Pintos-KAIST boot they are most of the work.
//!
//! A block qualifies when it ends in a conditional branch back to its own first
//! instruction and its body is one of:
//!
//! * [`Spin::Idle`]: no memory writes, no instruction with side effects, and no register or
//!   flag carried from one iteration to the next (everything it reads is either written
//!   earlier in the same iteration or never written). Each iteration then leaves exactly
//!   the state the previous one left, until an interrupt changes memory.
//! * [`Spin::CountMem`]: gcc -O0's countdown, `mov r1,[m]; lea r2,[r1-1]; mov [m],r2;
//!   test r1,r1; jg/jne/ja` (the counter lives on the stack).
//! * [`Spin::CountReg`]: a register countdown, `sub r,1` / `dec r` / `add r,-1` then
//!   `jne`/`jg` (or `ja` after `sub`/`add`).
//! * [`Spin::Memset`] and [`Spin::Memcpy`]: the byte loops of Pintos' `lib/string.c` as
//!   gcc -O0 compiles them (pointers and count in stack slots), which zero and copy every
//!   page a Pintos kernel allocates, swaps or reads, at 10-13 instructions a byte. A skip
//!   stays inside one page of each buffer, and only where the TLB already grants plain
//!   host access (RAM, dirty, no decoded code), so it has no effect but the bytes.
//!
//! After a qualifying block has run once and branched back to itself, the run loop asks
//! [`Cpu::skip_spin`] how many further iterations it may account for at once: never more
//! than fit in the instruction budget (which ends at the next device event, so no
//! interrupt can land inside the skipped stretch) and never more than the loop would run
//! before its exit condition. A counting loop's counter is advanced by the skipped
//! iterations, and one more full iteration is always left to real execution, which
//! rewrites the scratch registers and flags the skipped iterations would have written.
//! Instruction count, registers, flags and memory therefore end up bit for bit as if every
//! iteration had executed, so runs stay deterministic and identical with skipping off
//! ([`Cpu::spin_skip`]).

use iced_x86::{ConditionCode, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register};

use super::decode::{Block, MemAddr, Op};
use super::{reg, Cpu};
use crate::bus::Bus;

/// How a block may be skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spin {
    /// Not a skippable loop.
    None,
    /// Every iteration leaves the same state.
    Idle,
    /// A counter in memory at the first op's memory operand, `size` bytes.
    CountMem { size: u8, cond: Exit },
    /// A counter in register `r`, `size` bytes (4 or 8).
    CountReg { r: u8, size: u8, cond: Exit },
    /// Pintos' `memset` at -O0: `*dst++ = value` while `size-- > 0`, all three in stack
    /// slots (ops 0, 3 and 5 address them).
    Memset,
    /// Pintos' `memcpy` at -O0: `*dst++ = *src++` while `size-- > 0` (slots at ops 3, 0
    /// and 8).
    Memcpy,
    /// Polling a device register: `in al/ax/eax, dx|imm8` then an idle body. Skipped
    /// only while the device says reading that port again changes nothing and returns
    /// the same value until its next event ([`Bus::port_read_is_stable`]), e.g. IDE
    /// Status while a command is in progress.
    Poll { port: PollPort, size: u8 },
}

/// Where a polling loop's port number comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollPort {
    Dx,
    Imm(u16),
}

/// The loop's continue condition, as a function of the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Continue while the tested value is non-zero (`jne`, or `ja` after `test`).
    NonZero,
    /// Continue while the tested value is greater than zero, signed (`jg`).
    Positive,
    /// Continue while the value before `sub 1` is above one, unsigned (`ja` after `sub`).
    AboveOne,
}

/// Mnemonics an idle loop's body may use: pure register/memory-read computation.
fn pure(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Mov | Movzx | Movsx | Movsxd | Cmp | Test | And | Or | Xor | Add | Sub | Lea | Nop | Pause | Not | Neg
    )
}

/// Classifies a decoded block.
pub fn classify(ops: &[Op]) -> Spin {
    let Some(last) = ops.last() else { return Spin::None };
    if !is_self_loop(ops, last) {
        return Spin::None;
    }
    let body = &ops[..ops.len() - 1];
    if let Some(s) = count_mem(body, last) {
        return s;
    }
    if let Some(s) = count_reg(body, last) {
        return s;
    }
    if let Some(s) = byte_loop(body, last) {
        return s;
    }
    if idle(body, last, (0, 0, 0)) {
        return Spin::Idle;
    }
    if let Some(s) = poll(body, last) {
        return s;
    }
    Spin::None
}

/// `in al/ax/eax, dx|imm8` followed by an idle body. Every iteration's `in` overwrites
/// the accumulator's low part with the same value (the device promises that before the
/// loop is skipped) and the rest of RAX is never touched, so the analysis treats RAX as
/// written in full by the `in`; DX, if it gives the port, is read first.
fn poll(body: &[Op], last: &Op) -> Option<Spin> {
    let (first, rest) = body.split_first()?;
    let i = &first.ins;
    if i.mnemonic() != Mnemonic::In || i.op0_kind() != OpKind::Register {
        return None;
    }
    let size = match i.op0_register() {
        Register::AL => 1,
        Register::AX => 2,
        Register::EAX => 4,
        _ => return None,
    };
    let (port, carried) = match i.op1_kind() {
        OpKind::Register if i.op1_register() == Register::DX => (PollPort::Dx, 1u32 << reg::RDX),
        OpKind::Immediate8 => (PollPort::Imm(i.immediate8() as u16), 0),
        _ => return None,
    };
    let rax = 1u32 << reg::RAX;
    idle(rest, last, (rax, carried, rax)).then_some(Spin::Poll { port, size })
}

/// The block ends in a conditional near branch to its own first byte.
fn is_self_loop(ops: &[Op], last: &Op) -> bool {
    if !last.ins.is_jcc_short_or_near() {
        return false;
    }
    let total: u64 = ops.iter().map(|o| o.len as u64).sum();
    last.imm.wrapping_add(total) == 0
}

fn gpr_size(r: Register) -> Option<(u8, u8)> {
    if !r.is_gpr() || matches!(r, Register::AH | Register::CH | Register::DH | Register::BH) {
        return None;
    }
    Some((super::decode::reg_number(r), r.size() as u8))
}

/// `mov r1,[m]; lea r2,[r1-1]; mov [m],r2; test r1,r1; jcc`.
fn count_mem(body: &[Op], last: &Op) -> Option<Spin> {
    let [load, lea, store, test] = body else { return None };
    let (l, e, s, t) = (&load.ins, &lea.ins, &store.ins, &test.ins);
    if l.mnemonic() != Mnemonic::Mov || l.op0_kind() != OpKind::Register || l.op1_kind() != OpKind::Memory {
        return None;
    }
    let (r1, size) = gpr_size(l.op0_register())?;
    let mask = if size == 8 { u64::MAX } else { 0xffff_ffff };
    // `lea r2,[r1-1]`: with a 32-bit result the address size does not matter.
    if size < 4
        || e.mnemonic() != Mnemonic::Lea
        || e.memory_base().full_register() != l.op0_register().full_register()
        || e.memory_index() != Register::None
        || lea.mem.disp & mask != mask
        || (size == 8 && lea.asize != 8)
    {
        return None;
    }
    let (r2, size2) = gpr_size(e.op0_register())?;
    if size2 != size || r2 == r1 {
        return None;
    }
    if s.mnemonic() != Mnemonic::Mov || s.op0_kind() != OpKind::Memory || s.op1_kind() != OpKind::Register || s.op1_register() != e.op0_register() {
        return None;
    }
    let (lm, sm) = (&load.mem, &store.mem);
    if (lm.disp, lm.base, lm.index, lm.scale, lm.seg, lm.amask) != (sm.disp, sm.base, sm.index, sm.scale, sm.seg, sm.amask) {
        return None;
    }
    // The counter's address must not depend on the registers the loop writes.
    if [lm.base, lm.index].iter().any(|&x| x == r1 || x == r2 || x == reg::NEXT_RIP) {
        return None;
    }
    if t.mnemonic() != Mnemonic::Test || t.op0_kind() != OpKind::Register || t.op1_kind() != OpKind::Register || t.op0_register() != l.op0_register() || t.op1_register() != l.op0_register() {
        return None;
    }
    let cond = match last.ins.condition_code() {
        ConditionCode::g => Exit::Positive,
        ConditionCode::ne | ConditionCode::a => Exit::NonZero,
        _ => return None,
    };
    Some(Spin::CountMem { size, cond })
}

/// `mov r,[m]` of `size` bytes into a general register: (register, slot).
fn load(op: &Op, size: u32) -> Option<(Register, &MemAddr)> {
    let i = &op.ins;
    (i.mnemonic() == Mnemonic::Mov && i.op0_kind() == OpKind::Register && i.op1_kind() == OpKind::Memory && i.op0_register().is_gpr() && i.op0_register().size() as u32 == size)
        .then(|| (i.op0_register(), &op.mem))
}

/// `mov [m],r` of `size` bytes from a general register: (slot, register).
fn store(op: &Op, size: u32) -> Option<(&MemAddr, Register)> {
    let i = &op.ins;
    (i.mnemonic() == Mnemonic::Mov && i.op0_kind() == OpKind::Memory && i.op1_kind() == OpKind::Register && i.op1_register().is_gpr() && i.op1_register().size() as u32 == size)
        .then(|| (&op.mem, i.op1_register()))
}

/// `lea r64,[src+delta]` (64-bit addressing): the destination register.
fn lea(op: &Op, src: Register, delta: u64) -> Option<Register> {
    let i = &op.ins;
    (i.mnemonic() == Mnemonic::Lea
        && op.asize == 8
        && i.op0_register().size() == 8
        && i.memory_base() == src
        && i.memory_index() == Register::None
        && op.mem.disp == delta)
        .then(|| i.op0_register())
}

fn same(a: &MemAddr, b: &MemAddr) -> bool {
    (a.disp, a.base, a.index, a.scale, a.seg, a.amask) == (b.disp, b.base, b.index, b.scale, b.seg, b.amask)
}

/// A stack slot: `[base + disp]` with a base register the loop never writes.
fn slot(m: &MemAddr, written: &[Register]) -> bool {
    m.index == reg::ZERO && m.base < 16 && !written.iter().any(|r| super::decode::reg_number(r.full_register()) == m.base)
}

/// `*dst++ = byte` where `dst` lives in a slot: `mov a,[P]; lea b,[a+1]; mov [P],b`.
fn post_increment(ops: &[Op]) -> Option<(Register, Register, &MemAddr)> {
    let (a, p) = load(&ops[0], 8)?;
    let b = lea(&ops[1], a, 1)?;
    let (p2, b2) = store(&ops[2], 8)?;
    (same(p, p2) && b2 == b && a != b).then_some((a, b, p))
}

/// The memset and memcpy byte loops of Pintos' lib/string.c at -O0 (see the module docs).
fn byte_loop(body: &[Op], last: &Op) -> Option<Spin> {
    if last.ins.condition_code() != ConditionCode::ne {
        return None;
    }
    // Both end with the count's `mov a,[N]; lea b,[a-1]; mov [N],b; test a,a`.
    let tail = body.len().checked_sub(4)?;
    if !matches!(count_mem(&body[tail..], last), Some(Spin::CountMem { size: 8, cond: Exit::NonZero })) {
        return None;
    }
    let n = &body[tail].mem;
    let regs_of = |ops: &[Op]| -> Vec<Register> { ops.iter().filter(|o| o.ins.op0_kind() == OpKind::Register).map(|o| o.ins.op0_register()).collect() };
    let written = regs_of(body);
    let head = &body[..tail];
    let spin = match head.len() {
        // mov a,[P]; lea b,[a+1]; mov [P],b; mov c32,[V]; mov [a],c8
        5 => {
            let (a, _, p) = post_increment(head)?;
            let (c, v) = load(&head[3], 4)?;
            let i = &head[4].ins;
            let (dst, byte) = store(&head[4], 1)?;
            if byte.full_register() != c.full_register() || i.memory_base() != a || dst.index != reg::ZERO || dst.disp != 0 {
                return None;
            }
            if ![p, v, n].iter().all(|m| slot(m, &written)) || p.base != v.base || p.base != n.base {
                return None;
            }
            Spin::Memset
        }
        // mov s,[S]; lea x,[s+1]; mov [S],x; mov d,[P]; lea y,[d+1]; mov [P],y;
        // movzx c32,byte [s]; mov [d],c8
        8 => {
            let (s, _, src_slot) = post_increment(&head[..3])?;
            let (d, _, dst_slot) = post_increment(&head[3..6])?;
            let l = &head[6].ins;
            if l.mnemonic() != Mnemonic::Movzx || l.op0_kind() != OpKind::Register || l.op1_kind() != OpKind::Memory || l.memory_size().size() != 1 {
                return None;
            }
            if l.memory_base() != s || l.memory_index() != Register::None || head[6].mem.disp != 0 || head[6].mem.seg != head[7].mem.seg {
                return None;
            }
            let (dst, byte) = store(&head[7], 1)?;
            if byte.full_register() != l.op0_register().full_register() || head[7].ins.memory_base() != d || dst.index != reg::ZERO || dst.disp != 0 {
                return None;
            }
            if ![src_slot, dst_slot, n].iter().all(|m| slot(m, &written)) || src_slot.base != dst_slot.base || src_slot.base != n.base {
                return None;
            }
            Spin::Memcpy
        }
        _ => return None,
    };
    Some(spin)
}

/// `sub r,1` / `add r,-1` / `dec r`, then `jne`, `jg` or (not after `dec`) `ja`.
fn count_reg(body: &[Op], last: &Op) -> Option<Spin> {
    let [step] = body else { return None };
    let i = &step.ins;
    if i.op0_kind() != OpKind::Register {
        return None;
    }
    let (r, size) = gpr_size(i.op0_register())?;
    if size < 4 {
        return None;
    }
    let mask = if size == 4 { 0xffff_ffff } else { u64::MAX };
    let dec = match i.mnemonic() {
        Mnemonic::Dec => true,
        Mnemonic::Sub if i.op_count() == 2 && step.imm & mask == 1 && i.op1_kind() != OpKind::Register => false,
        Mnemonic::Add if i.op_count() == 2 && step.imm & mask == mask && i.op1_kind() != OpKind::Register => false,
        _ => return None,
    };
    // `add r,-1` sets CF unlike `sub r,1`, so only jne/jg (which ignore CF) after it.
    let cond = match last.ins.condition_code() {
        ConditionCode::ne => Exit::NonZero,
        ConditionCode::g => Exit::Positive,
        ConditionCode::a if i.mnemonic() == Mnemonic::Sub => Exit::AboveOne,
        _ => return None,
    };
    let _ = dec;
    Some(Spin::CountReg { r, size, cond })
}

/// No memory writes, only pure mnemonics, and nothing carried between iterations.
/// `(full, carried, written)`: register bits already written in full, read before being
/// written, and written at all by what comes before `body` in the iteration.
fn idle(body: &[Op], last: &Op, before: (u32, u32, u32)) -> bool {
    let mut factory = InstructionInfoFactory::new();
    // Registers (by full-register number) written in full so far, read before being
    // written, and written at all; the same for flags.
    let (mut full, mut carried, mut written) = before;
    let (mut flags_set, mut flags_carried, mut flags_written) = (0u32, 0u32, 0u32);
    for op in body.iter().chain(std::iter::once(last)) {
        let ins = &op.ins;
        let is_last = std::ptr::eq(op, last);
        if !is_last && (!pure(ins.mnemonic()) || ins.has_lock_prefix()) {
            return false;
        }
        let info = factory.info(ins);
        if info.used_memory().iter().any(|m| !matches!(m.access(), OpAccess::Read | OpAccess::NoMemAccess)) {
            return false;
        }
        for u in info.used_registers() {
            let r = u.register();
            let only_read = u.access() == OpAccess::Read;
            if only_read && (r.is_segment_register() || r.is_ip()) {
                continue;
            }
            // Only whole general-purpose registers and their low parts take part.
            if matches!(r, Register::AH | Register::CH | Register::DH | Register::BH) {
                return false;
            }
            let Some((n, _)) = gpr_size(r.full_register()) else { return false };
            let bit = 1u32 << n;
            let reads = matches!(u.access(), OpAccess::Read | OpAccess::CondRead | OpAccess::ReadWrite | OpAccess::ReadCondWrite);
            let writes = matches!(u.access(), OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite);
            // A write of 1 or 2 bytes keeps the rest of the register: it reads it too.
            let partial = writes && r.size() < 4;
            if (reads || partial) && full & bit == 0 {
                carried |= bit;
            }
            if writes {
                written |= bit;
                if u.access() == OpAccess::Write && !partial {
                    full |= bit;
                }
            }
        }
        let read = ins.rflags_read();
        flags_carried |= read & !flags_set;
        // A flag the SDM leaves undefined counts as written (it may change) but not as set
        // (it may also keep the previous iteration's value).
        flags_written |= ins.rflags_modified();
        flags_set |= ins.rflags_written() | ins.rflags_cleared() | ins.rflags_set();
    }
    carried & written == 0 && flags_carried & flags_written == 0
}

impl Cpu {
    /// Called after `block` (which started at `start`) ran in full with `left` instructions
    /// of budget remaining: accounts for as many further iterations as are safe and returns
    /// the number of instructions skipped.
    #[inline(never)]
    pub(crate) fn skip_spin(&mut self, bus: &mut dyn Bus, block: &Block, start: u64, left: u64) -> u64 {
        // A pending interrupt ends the loop only if it can be taken: with IF clear (a
        // loader polling the disk with interrupts off) it waits, and no loop body here
        // changes IF.
        if !self.spin_skip || self.rip != start || (self.intr && self.flags.iff()) {
            return 0;
        }
        let n = block.ops.len() as u64;
        let fit = left / n;
        let iters = match block.spin {
            Spin::None => return 0,
            Spin::Idle => fit,
            Spin::Poll { port, size } => {
                let port = match port {
                    PollPort::Dx => self.gpr[reg::RDX as usize] as u16,
                    PollPort::Imm(p) => p,
                };
                // The iteration that just ran read the port; the next ones would read it
                // again before the next device event, which the budget never passes.
                if !bus.port_read_is_stable(port, size) {
                    return 0;
                }
                fit
            }
            Spin::CountMem { size, cond } => {
                // One full iteration stays real (see the module docs).
                let want = fit.saturating_sub(1);
                if want == 0 {
                    return 0;
                }
                let op = &block.ops[0];
                let done = if size == 8 {
                    self.skip_count_mem::<8>(bus, op, cond, want)
                } else {
                    self.skip_count_mem::<4>(bus, op, cond, want)
                };
                match done {
                    Some(k) => k,
                    None => return 0,
                }
            }
            Spin::Memset | Spin::Memcpy => {
                let want = fit.saturating_sub(1);
                if want == 0 {
                    return 0;
                }
                match self.skip_byte_loop(bus, block, want) {
                    Some(k) => k,
                    None => return 0,
                }
            }
            Spin::CountReg { r, size, cond } => {
                let want = fit.saturating_sub(1);
                let mask = if size == 8 { u64::MAX } else { 0xffff_ffff };
                let c = self.gpr[r as usize] & mask;
                let k = want.min(reg_room(c, size, cond));
                self.gpr[r as usize] = c.wrapping_sub(k) & mask;
                k
            }
        };
        let skipped = iters * n;
        self.icount += skipped;
        self.stats.spin_skipped += skipped;
        skipped
    }

    fn skip_count_mem<const S: usize>(&mut self, bus: &mut dyn Bus, op: &Op, cond: Exit, want: u64) -> Option<u64> {
        let lin = self.mem_lin::<S>(op, false).ok()?;
        let c = self.read_lin::<S>(bus, lin).ok()?;
        // Iterations that continue: each tests the counter before decrementing it.
        let room = match cond {
            Exit::Positive => {
                let signed = if S == 8 { c as i64 } else { c as u32 as i32 as i64 };
                signed.max(0) as u64
            }
            Exit::NonZero | Exit::AboveOne => c,
        };
        let k = want.min(room);
        if k > 0 {
            let mask = if S == 8 { u64::MAX } else { 0xffff_ffff };
            self.write_lin::<S>(bus, lin, c.wrapping_sub(k) & mask).ok()?;
        }
        Some(k)
    }
}

impl Cpu {
    /// Host address of `len` bytes at linear `lin` if they lie in one page the TLB lets
    /// this privilege access directly (`write`: RAM, dirty, writable, no decoded code).
    fn direct(&self, lin: u64, len: u64, write: bool) -> Option<usize> {
        if len == 0 || (lin & 0xfff) + len > 4096 {
            return None;
        }
        let u = (self.cpl == 3) as usize;
        let e = self.tlb.entry(lin);
        let tag = if write { e.write[u] } else { e.read[u] };
        (tag == lin & !0xfff).then(|| e.addend.wrapping_add(lin as usize))
    }

    /// Memset/memcpy skipping: `want` iterations at most; returns those done.
    fn skip_byte_loop(&mut self, bus: &mut dyn Bus, block: &Block, want: u64) -> Option<u64> {
        let ops = &block.ops;
        let memcpy = block.spin == Spin::Memcpy;
        let (dst_op, src_op, count_op) = if memcpy { (&ops[3], Some(&ops[0]), &ops[8]) } else { (&ops[0], None, &ops[5]) };
        let slot_lin = |cpu: &Self, op: &Op| cpu.mem_lin::<8>(op, true).ok();
        let (dst_slot, count_slot) = (slot_lin(self, dst_op)?, slot_lin(self, count_op)?);
        let src_slot = match src_op {
            Some(op) => Some(slot_lin(self, op)?),
            None => None,
        };
        let n = self.read_lin::<8>(bus, count_slot).ok()?;
        let dst = self.read_lin::<8>(bus, dst_slot).ok()?;
        let src = match src_slot {
            Some(s) => Some(self.read_lin::<8>(bus, s).ok()?),
            None => None,
        };
        // The byte accesses use the segment of the store (and load) op.
        let store_seg = ops[if memcpy { 7 } else { 4 }].mem.seg;
        let dst_lin = self.linear(store_seg, dst, 1, true).ok()?;
        let src_lin = match src {
            Some(s) => Some(self.linear(ops[6].mem.seg, s, 1, false).ok()?),
            None => None,
        };
        let mut k = want.min(n).min(4096 - (dst_lin & 0xfff));
        if let Some(s) = src_lin {
            k = k.min(4096 - (s & 0xfff));
        }
        // The bytes must not touch the loop's own slots (their values change as it runs).
        let mut slots = vec![dst_slot, count_slot];
        slots.extend(src_slot);
        if !memcpy {
            slots.push(self.mem_lin::<4>(&ops[3], false).ok()?);
        }
        let clear = |lin: u64| slots.iter().all(|&s| s + 8 <= lin || lin + k <= s);
        if k == 0 || !clear(dst_lin) || src_lin.is_some_and(|s| !clear(s)) {
            return None;
        }
        // Nothing may fail once bytes have landed.
        for &s in &slots {
            self.probe_write::<8>(bus, s).ok()?;
        }
        let to = self.direct(dst_lin, k, true)?;
        match src_lin {
            Some(s) => {
                let from = self.direct(s, k, false)?;
                for i in 0..k as usize {
                    // SAFETY: `direct` checked that both k-byte ranges lie in guest RAM pages
                    // the TLB maps for host access. Byte by byte, forwards, as the guest
                    // loop copies (overlapping buffers give the same bytes).
                    unsafe { *((to + i) as *mut u8) = *((from + i) as *const u8) };
                }
            }
            None => {
                let value = self.read_lin::<4>(bus, self.mem_lin::<4>(&ops[3], false).ok()?).ok()? as u8;
                // SAFETY: as above, for the destination range.
                unsafe { std::ptr::write_bytes(to as *mut u8, value, k as usize) };
            }
        }
        self.write_lin::<8>(bus, dst_slot, dst.wrapping_add(k)).ok()?;
        if let (Some(slot), Some(s)) = (src_slot, src) {
            self.write_lin::<8>(bus, slot, s.wrapping_add(k)).ok()?;
        }
        self.write_lin::<8>(bus, count_slot, n - k).ok()?;
        Some(k)
    }
}

/// Iterations of `sub r,1; jcc` that continue, counting from counter value `c`.
fn reg_room(c: u64, size: u8, cond: Exit) -> u64 {
    let signed = if size == 8 { c as i64 } else { c as u32 as i32 as i64 };
    match cond {
        // Continues while the new value is non-zero: c-1 iterations (c == 0 wraps round).
        Exit::NonZero => c.wrapping_sub(1) & if size == 8 { u64::MAX } else { 0xffff_ffff },
        Exit::Positive => (signed - 1).max(0) as u64,
        Exit::AboveOne => c.saturating_sub(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::decode::convert;
    use iced_x86::code_asm::*;
    use iced_x86::{Decoder, DecoderOptions};

    /// Assembles a loop body at 0x1000 followed by `jcc` back to its start, then decodes
    /// it into ops as the block decoder would.
    fn block(body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>, jcc: fn(&mut CodeAssembler, CodeLabel) -> Result<(), IcedError>) -> Vec<Op> {
        let mut a = CodeAssembler::new(64).unwrap();
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        body(&mut a).unwrap();
        jcc(&mut a, top).unwrap();
        let bytes = a.assemble(0x1000).unwrap();
        let mut dec = Decoder::with_ip(64, &bytes, 0x1000, DecoderOptions::NONE);
        let mut ops = Vec::new();
        let mut pos = 0;
        for ins in &mut dec {
            ops.push(convert(&ins, 64, &bytes[pos..pos + ins.len()]));
            pos += ins.len();
        }
        ops
    }

    fn jg(a: &mut CodeAssembler, l: CodeLabel) -> Result<(), IcedError> {
        a.jg(l)
    }
    fn jne(a: &mut CodeAssembler, l: CodeLabel) -> Result<(), IcedError> {
        a.jne(l)
    }
    fn je(a: &mut CodeAssembler, l: CodeLabel) -> Result<(), IcedError> {
        a.je(l)
    }
    fn ja(a: &mut CodeAssembler, l: CodeLabel) -> Result<(), IcedError> {
        a.ja(l)
    }
    fn jb(a: &mut CodeAssembler, l: CodeLabel) -> Result<(), IcedError> {
        a.jb(l)
    }

    #[test]
    fn recognises_gcc_countdowns() {
        let o0 = |a: &mut CodeAssembler| {
            a.mov(rax, qword_ptr(rbp - 8))?;
            a.lea(rdx, qword_ptr(rax - 1))?;
            a.mov(qword_ptr(rbp - 8), rdx)?;
            a.test(rax, rax)
        };
        assert_eq!(classify(&block(o0, jg)), Spin::CountMem { size: 8, cond: Exit::Positive });
        assert_eq!(classify(&block(o0, ja)), Spin::CountMem { size: 8, cond: Exit::NonZero });
        assert_eq!(classify(&block(o0, jb)), Spin::None, "jb after test never loops usefully");
        let o0_32 = |a: &mut CodeAssembler| {
            a.mov(eax, dword_ptr(rbp - 4))?;
            a.lea(edx, qword_ptr(rax - 1))?;
            a.mov(dword_ptr(rbp - 4), edx)?;
            a.test(eax, eax)
        };
        assert_eq!(classify(&block(o0_32, jne)), Spin::CountMem { size: 4, cond: Exit::NonZero });
        assert_eq!(classify(&block(|a| a.sub(rdi, 1), jne)), Spin::CountReg { r: 7, size: 8, cond: Exit::NonZero });
        assert_eq!(classify(&block(|a| a.dec(ecx), jg)), Spin::CountReg { r: 1, size: 4, cond: Exit::Positive });
        assert_eq!(classify(&block(|a| a.sub(esi, 1), ja)), Spin::CountReg { r: 6, size: 4, cond: Exit::AboveOne });
        assert_eq!(classify(&block(|a| a.dec(ecx), ja)), Spin::None, "dec keeps CF, which ja reads");
        assert_eq!(classify(&block(|a| a.sub(rdi, 2), jne)), Spin::None);
        assert_eq!(classify(&block(|a| a.dec(cx), jne)), Spin::None, "16-bit counters are not skipped");
    }

    fn count_tail(a: &mut CodeAssembler) -> Result<(), IcedError> {
        a.mov(rax, qword_ptr(rbp - 0x28))?;
        a.lea(rdx, qword_ptr(rax - 1))?;
        a.mov(qword_ptr(rbp - 0x28), rdx)?;
        a.test(rax, rax)
    }

    #[test]
    fn recognises_pintos_memset_and_memcpy() {
        let memset = |store_disp: i32| {
            move |a: &mut CodeAssembler| {
                a.mov(rax, qword_ptr(rbp - 0x8))?;
                a.lea(rdx, qword_ptr(rax + 1))?;
                a.mov(qword_ptr(rbp - 0x8), rdx)?;
                a.mov(edx, dword_ptr(rbp - 0x1c))?;
                a.mov(byte_ptr(rax + store_disp), dl)?;
                count_tail(a)
            }
        };
        assert_eq!(classify(&block(memset(0), jne)), Spin::Memset);
        assert_eq!(classify(&block(memset(1), jne)), Spin::None, "stores somewhere else");
        assert_eq!(classify(&block(memset(0), jg)), Spin::None, "a signed count is another loop");
        let memcpy = |src_step: i32| {
            move |a: &mut CodeAssembler| {
                a.mov(rdx, qword_ptr(rbp - 0x10))?;
                a.lea(rax, qword_ptr(rdx + src_step))?;
                a.mov(qword_ptr(rbp - 0x10), rax)?;
                a.mov(rax, qword_ptr(rbp - 0x8))?;
                a.lea(rcx, qword_ptr(rax + 1))?;
                a.mov(qword_ptr(rbp - 0x8), rcx)?;
                a.movzx(edx, byte_ptr(rdx))?;
                a.mov(byte_ptr(rax), dl)?;
                count_tail(a)
            }
        };
        assert_eq!(classify(&block(memcpy(1), jne)), Spin::Memcpy);
        assert_eq!(classify(&block(memcpy(-1), jne)), Spin::None, "copies backwards");
    }

    #[test]
    fn counter_address_must_not_move() {
        // The counter's base register is the loaded register itself: not a countdown.
        let moving = |a: &mut CodeAssembler| {
            a.mov(rax, qword_ptr(rax - 8))?;
            a.lea(rdx, qword_ptr(rax - 1))?;
            a.mov(qword_ptr(rax - 8), rdx)?;
            a.test(rax, rax)
        };
        assert_eq!(classify(&block(moving, jg)), Spin::None);
    }

    #[test]
    fn recognises_waits_for_memory_to_change() {
        let wait = |a: &mut CodeAssembler| {
            a.mov(rax, 0x8004262e00u64)?;
            a.mov(rax, qword_ptr(rax))?;
            a.cmp(qword_ptr(rbp - 8), rax)
        };
        assert_eq!(classify(&block(wait, je)), Spin::Idle);
        let rip_relative = |a: &mut CodeAssembler| {
            a.db(&[0x8b, 0x05, 0x00, 0x01, 0x00, 0x00])?; // mov eax,[rip+0x100]
            a.test(al, 1)?;
            a.pause()
        };
        assert_eq!(classify(&block(rip_relative, je)), Spin::Idle);
    }

    #[test]
    fn recognises_polls_of_a_port() {
        // The loaders' wait for BSY to clear, and for DRQ.
        assert_eq!(classify(&block(|a| { a.in_(al, dx)?; a.test(al, 0x80) }, jne)), Spin::Poll { port: PollPort::Dx, size: 1 });
        assert_eq!(classify(&block(|a| { a.in_(al, dx)?; a.and(al, 0x88)?; a.cmp(al, 0x08) }, jne)), Spin::Poll { port: PollPort::Dx, size: 1 });
        assert_eq!(classify(&block(|a| { a.in_(ax, 0x64)?; a.test(ax, 2) }, jne)), Spin::Poll { port: PollPort::Imm(0x64), size: 2 });
        // Something carried besides the port value: not a poll.
        assert_eq!(classify(&block(|a| { a.in_(al, dx)?; a.add(ebx, 1)?; a.test(al, 0x80) }, jne)), Spin::None);
    }

    #[test]
    fn rejects_loops_that_carry_state_or_have_effects() {
        // A register carried between iterations.
        assert_eq!(classify(&block(|a| { a.add(rbx, rax)?; a.cmp(rbx, 100) }, jne)), Spin::None);
        // A partial write keeps the rest of the register: carried.
        assert_eq!(classify(&block(|a| { a.mov(al, byte_ptr(rbx))?; a.cmp(rax, 0) }, je)), Spin::None);
        // A memory write.
        assert_eq!(classify(&block(|a| { a.mov(qword_ptr(rbx), rax)?; a.cmp(rax, 0) }, je)), Spin::None);
        // Port input anywhere but first: its value would feed the next iteration.
        assert_eq!(classify(&block(|a| { a.test(al, 0x80)?; a.in_(al, dx) }, jne)), Spin::None);
        // A poll that moves the port it reads.
        assert_eq!(classify(&block(|a| { a.in_(al, dx)?; a.inc(dx)?; a.test(al, 0x80) }, jne)), Spin::None);
        // Time moves: rdtsc differs every iteration.
        assert_eq!(classify(&block(|a| { a.rdtsc()?; a.cmp(eax, 0) }, jne)), Spin::None);
        // A flag read before the loop writes it (adc), with the flag also written.
        assert_eq!(classify(&block(|a| { a.adc(rax, 0)?; a.cmp(rax, 5) }, jne)), Spin::None);
        // The branch goes elsewhere.
        let mut a = CodeAssembler::new(64).unwrap();
        let mut other = a.create_label();
        a.mov(rax, qword_ptr(rbx)).unwrap();
        a.set_label(&mut other).unwrap();
        a.cmp(rax, 0).unwrap();
        a.je(other).unwrap();
        let bytes = a.assemble(0x1000).unwrap();
        let ops: Vec<Op> = Decoder::with_ip(64, &bytes, 0x1000, DecoderOptions::NONE)
            .into_iter()
            .scan(0usize, |pos, ins| {
                let op = convert(&ins, 64, &bytes[*pos..*pos + ins.len()]);
                *pos += ins.len();
                Some(op)
            })
            .collect();
        assert_eq!(classify(&ops), Spin::None);
    }
}
