//! String instructions: movs, stos, lods, cmps, scas, ins, outs, in every operand size,
//! with and without rep/repe/repne.
//!
//! # Operands
//!
//! The source is `seg:rSI` (DS unless overridden), the destination `ES:rDI` (never
//! overridable). The address size (16/32/64, from the mode and a 0x67 prefix) picks SI/ESI/
//! RSI, DI/EDI/RDI and CX/ECX/RCX; the index registers wrap at the address size, and writing
//! them back follows the register-write rules of that size (a 32-bit write zeroes the upper
//! half, a 16-bit write merges). DF picks the direction.
//!
//! # Repeats: chunks, restarts and the instruction count
//!
//! A repeated instruction runs at most [`CHUNK`] iterations per handler call. If the count
//! is not exhausted (and, for cmps/scas, the repe/repne condition still holds) the handler
//! leaves RIP at the instruction (`set_next_rip(rip)`) and ends the block, so the run loop
//! comes back to it after checking the budget and the interrupt line. Each chunk therefore
//! retires as **one instruction** in [`Cpu::icount`]: a `rep movsb` of 1 MiB counts 256.
//! That is deterministic (chunk boundaries depend only on the count and addresses), bounds
//! the interrupt latency to one chunk, and keeps `run`'s budget meaningful.
//!
//! A fault in the middle of a repeat leaves RCX/RSI/RDI describing exactly the elements
//! already done and RIP at the instruction, so the instruction restarts where it stopped once
//! the fault handler returns (as on hardware). The registers are kept in locals while the loop
//! runs and written back on every exit, including the fault path.
//!
//! # Fast paths
//!
//! `rep movs` and `rep stos` (either direction) move whole runs with host memory operations:
//! a run ends at the first page boundary (source or destination), the address-size wrap, the
//! count or the chunk, and is only taken when both pages have fast TLB tags (read for the source,
//! write for the destination). The fast write tag is withheld for ROM, MMIO, clean pages and
//! pages holding decoded code, so writes that must invalidate code or reach a device always
//! take the per-element path; after one slow element has refilled the TLB, the rest of the
//! page goes fast again. Overlapping copies reproduce the element-by-element result exactly
//! (see [`copy_elements`]).
//!
//! `ins`/`outs` go through the bus one element at a time; the I/O permission check is done
//! once per call (the port is DX, which the instruction does not change) and the bus is
//! re-sampled (`after_port_io`) once at the end, so one call of `rep insw` moves an IDE
//! sector (256 words) without leaving the handler.

use std::sync::OnceLock;

use iced_x86::{Code, Instruction, Mnemonic, OpKind};

use super::{Builder, Table};
use crate::bus::Bus;
use crate::cpu::decode::{reg_number, Handler, Op};
use crate::cpu::exception::Exception;
use crate::cpu::segment::{DS, ES};
use crate::cpu::{reg, Cpu};
use crate::sized;

/// Most iterations one handler call performs before handing control back to the run loop.
pub const CHUNK: u64 = 4096;

// Instruction kinds (const generic parameter of the handler).
const MOVS: u8 = 0;
const STOS: u8 = 1;
const LODS: u8 = 2;
const CMPS: u8 = 3;
const SCAS: u8 = 4;
const INS: u8 = 5;
const OUTS: u8 = 6;

// Repeat prefixes.
const NONE: u8 = 0;
/// `rep` (movs, stos, lods, ins, outs; F2 acts like F3 there) or `repe` (cmps, scas).
const REPE: u8 = 1;
/// `repne` (cmps, scas).
const REPNE: u8 = 2;

const fn uses_si(k: u8) -> bool {
    matches!(k, MOVS | LODS | CMPS | OUTS)
}

const fn uses_di(k: u8) -> bool {
    matches!(k, MOVS | STOS | CMPS | SCAS | INS)
}

/// The string registers while a (repeated) instruction runs, masked to the address size.
struct Regs {
    si: u64,
    di: u64,
    cx: u64,
    /// Signed step of one element (S or -S), as a wrapping u64.
    step: u64,
    amask: u64,
}

impl Regs {
    #[inline(always)]
    fn advance_si(&mut self) {
        self.si = self.si.wrapping_add(self.step) & self.amask;
    }
    #[inline(always)]
    fn advance_di(&mut self) {
        self.di = self.di.wrapping_add(self.step) & self.amask;
    }
}

/// Writes an index/count register as an `asize`-byte register write.
#[inline(always)]
fn put(cpu: &mut Cpu, r: u8, v: u64, asize: u8) {
    match asize {
        2 => cpu.set_reg::<2>(r, v),
        4 => cpu.set_reg::<4>(r, v),
        _ => cpu.set_reg::<8>(r, v),
    }
}

/// One iteration of kind `K`, size `S`. Advances the index registers in `st` only once the
/// element is complete, so a fault leaves them pointing at the faulting element.
#[inline(always)]
fn element<const K: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op, st: &mut Regs) -> Result<(), Exception> {
    let seg = op.mem.seg;
    match K {
        MOVS => {
            let v = cpu.read_seg::<S>(bus, seg, st.si)?;
            cpu.write_seg::<S>(bus, ES, st.di, v)?;
            st.advance_si();
            st.advance_di();
        }
        STOS => {
            let v = cpu.reg::<S>(reg::RAX);
            cpu.write_seg::<S>(bus, ES, st.di, v)?;
            st.advance_di();
        }
        LODS => {
            let v = cpu.read_seg::<S>(bus, seg, st.si)?;
            cpu.set_reg::<S>(reg::RAX, v);
            st.advance_si();
        }
        CMPS => {
            let a = cpu.read_seg::<S>(bus, seg, st.si)?;
            let b = cpu.read_seg::<S>(bus, ES, st.di)?;
            cpu.flags.sub::<S>(a, b);
            st.advance_si();
            st.advance_di();
        }
        SCAS => {
            let a = cpu.reg::<S>(reg::RAX);
            let b = cpu.read_seg::<S>(bus, ES, st.di)?;
            cpu.flags.sub::<S>(a, b);
            st.advance_di();
        }
        INS => {
            // Prove the destination writable before reading the port: a fault must not
            // consume device data, or the restarted instruction would lose it.
            let lin = cpu.linear(ES, st.di, S, true)?;
            cpu.probe_write::<S>(bus, lin)?;
            let v = bus.port_read(cpu.now(), cpu.gpr[reg::RDX as usize] as u16, S as u8);
            cpu.write_lin::<S>(bus, lin, v as u64)?;
            st.advance_di();
        }
        _ => {
            let v = cpu.read_seg::<S>(bus, seg, st.si)?;
            bus.port_write(cpu.now(), cpu.gpr[reg::RDX as usize] as u16, S as u8, v as u32);
            st.advance_si();
        }
    }
    Ok(())
}

/// Number of whole `S`-byte elements from offset `off` in the direction of travel before the
/// offset wraps at the address size (0 if the first element itself straddles the wrap).
#[inline(always)]
fn before_wrap<const S: usize>(off: u64, amask: u64, down: bool) -> u64 {
    let last_start = amask - (S as u64 - 1);
    // Saturating: a whole 64-bit address space of bytes is one more than u64 holds (the
    // callers clamp the result to a chunk anyway).
    if off > last_start {
        0
    } else if down {
        (off / S as u64).saturating_add(1)
    } else {
        ((last_start - off) / S as u64).saturating_add(1)
    }
}

/// Number of whole `S`-byte elements from linear `lin` in the direction of travel that stay
/// inside its page (0 if the first element crosses the page end).
#[inline(always)]
fn in_page<const S: usize>(lin: u64, down: bool) -> u64 {
    let o = lin & 0xfff;
    if o + S as u64 > 4096 {
        0
    } else if down {
        o / S as u64 + 1
    } else {
        (4096 - o) / S as u64
    }
}

/// Host pointer for a fast access at `lin`, if the TLB has the fast tag for it.
#[inline(always)]
fn fast_ptr(cpu: &Cpu, lin: u64, write: bool) -> Option<usize> {
    let u = (cpu.cpl == 3) as usize;
    let e = cpu.tlb.entry(lin);
    let tag = if write { e.write[u] } else { e.read[u] };
    (tag == lin & !0xfff).then(|| e.addend.wrapping_add(lin as usize))
}

/// For a run of `n` elements whose first element is at `off`: checks the segment (the
/// limits are intervals, so the first and the last element cover the run) and returns the
/// run's lowest linear address (the first element's going up, the last one's going down).
/// The caller has made sure the run neither wraps nor leaves the first element's page.
#[inline(always)]
fn run_linear<const S: usize>(cpu: &Cpu, seg: u8, off: u64, n: u64, write: bool, down: bool) -> Option<u64> {
    let span = (n - 1) * S as u64;
    let first = cpu.linear(seg, off, S, write).ok()?;
    let last = cpu.linear(seg, if down { off - span } else { off + span }, S, write).ok()?;
    Some(first.min(last))
}

/// Copies `len` bytes from `src` to `dst` with exactly the result of moving `S`-byte
/// elements one at a time, in ascending order (`down` false) or descending order, whatever
/// the overlap.
///
/// # Safety
/// `src` must be valid for `len` bytes of reads and `dst` for `len` bytes of writes.
unsafe fn copy_elements<const S: usize>(src: *const u8, dst: *mut u8, len: usize, down: bool) {
    // How far the destination lies ahead of the source in the direction of travel.
    let d = if down { (src as usize).wrapping_sub(dst as usize) } else { (dst as usize).wrapping_sub(src as usize) };
    // SAFETY (for the whole body): every access stays inside `src..src+len` or
    // `dst..dst+len`, which the caller guarantees are valid.
    unsafe {
        if d == 0 {
            // Copying a range onto itself changes nothing.
        } else if d >= len {
            // Disjoint, or the destination trails the source: every byte is read before it
            // is overwritten, which is what memmove does.
            std::ptr::copy(src, dst, len);
        } else if d >= S && !down {
            // The destination starts d bytes ahead: the ascending loop replicates the first
            // d bytes. Pieces of at most d bytes (whole elements) never overlap themselves
            // and see the bytes earlier pieces wrote, exactly as the loop does.
            let piece = d - d % S;
            let mut off = 0;
            while off < len {
                let k = piece.min(len - off);
                std::ptr::copy_nonoverlapping(src.add(off), dst.add(off), k);
                off += k;
            }
        } else {
            // Element by element (descending replication, or elements that overlap their own
            // destination); rare enough not to need anything cleverer.
            let mut tmp = [0u8; 8];
            for i in 0..len / S {
                let off = if down { len - S - i * S } else { i * S };
                std::ptr::copy_nonoverlapping(src.add(off), tmp.as_mut_ptr(), S);
                std::ptr::copy_nonoverlapping(tmp.as_ptr(), dst.add(off), S);
            }
        }
    }
}

/// `rep movs`/`rep stos` fast path: moves the longest run of at most `max` elements that
/// stays inside one source and one destination page (and does not wrap), through host
/// memory. Returns the number of elements done; 0 means "take one slow element instead".
#[inline(always)]
fn fast_run<const K: u8, const S: usize>(cpu: &mut Cpu, op: &Op, st: &mut Regs, max: u64) -> u64 {
    let down = st.step != S as u64;
    let mut n = max.min(before_wrap::<S>(st.di, st.amask, down));
    if K == MOVS {
        n = n.min(before_wrap::<S>(st.si, st.amask, down));
    }
    if n == 0 {
        return 0;
    }
    let Ok(dst_first) = cpu.linear(ES, st.di, S, true) else { return 0 };
    n = n.min(in_page::<S>(dst_first, down));
    if K == MOVS {
        let Ok(src_first) = cpu.linear(op.mem.seg, st.si, S, false) else { return 0 };
        n = n.min(in_page::<S>(src_first, down));
    }
    if n == 0 {
        return 0;
    }
    let Some(dst_low) = run_linear::<S>(cpu, ES, st.di, n, true, down) else { return 0 };
    let Some(dst) = fast_ptr(cpu, dst_low, true) else { return 0 };
    let len = (n * S as u64) as usize;
    if K == MOVS {
        let Some(src_low) = run_linear::<S>(cpu, op.mem.seg, st.si, n, false, down) else { return 0 };
        let Some(src) = fast_ptr(cpu, src_low, false) else { return 0 };
        // SAFETY: both fast tags are set, so each pointer addresses a RAM (or, for the
        // source, ROM) page inside guest memory, and each run stays inside its page.
        unsafe { copy_elements::<S>(src as *const u8, dst as *mut u8, len, down) };
        st.si = st.si.wrapping_add(st.step.wrapping_mul(n)) & st.amask;
    } else {
        let v = cpu.reg::<S>(reg::RAX);
        let bytes = v.to_le_bytes();
        let dst = dst as *mut u8;
        // SAFETY: the fast write tag is set, so `dst..dst+len` lies in one writable RAM
        // page inside guest memory without decoded code. Every element gets the same value,
        // so the direction does not matter.
        unsafe {
            if bytes[..S].iter().all(|&b| b == bytes[0]) {
                std::ptr::write_bytes(dst, bytes[0], len);
            } else {
                let mut off = 0;
                while off < len {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.add(off), S);
                    off += S;
                }
            }
        }
    }
    st.di = st.di.wrapping_add(st.step.wrapping_mul(n)) & st.amask;
    n
}

/// The handler of every string instruction: kind `K`, repeat prefix `REP`, element size `S`.
fn string<const K: u8, const REP: u8, const S: usize>(cpu: &mut Cpu, bus: &mut dyn Bus, op: &Op) -> Result<(), Exception> {
    let amask = op.mem.amask;
    let step = if cpu.flags.df() { (S as u64).wrapping_neg() } else { S as u64 };
    let mut st = Regs { si: cpu.gpr[reg::RSI as usize] & amask, di: cpu.gpr[reg::RDI as usize] & amask, cx: 0, step, amask };
    let io = K == INS || K == OUTS;

    if REP == NONE {
        if io {
            super::system::check_io(cpu, bus, cpu.gpr[reg::RDX as usize] as u16, S as u8)?;
        }
        let r = element::<K, S>(cpu, bus, op, &mut st);
        if io {
            cpu.after_port_io(bus);
        }
        r?;
        write_back::<K>(cpu, op, &st, false);
        return Ok(());
    }

    st.cx = cpu.gpr[reg::RCX as usize] & amask;
    if st.cx == 0 {
        return Ok(());
    }
    if io {
        super::system::check_io(cpu, bus, cpu.gpr[reg::RDX as usize] as u16, S as u8)?;
    }
    let fast = K == MOVS || K == STOS;
    let mut done = 0u64;
    let r = loop {
        if fast {
            let max = st.cx.min(CHUNK - done);
            let n = fast_run::<K, S>(cpu, op, &mut st, max);
            st.cx -= n;
            done += n;
            if n != 0 {
                if st.cx == 0 {
                    break Ok(());
                }
                if done >= CHUNK {
                    cpu.set_next_rip(cpu.rip);
                    cpu.end_block = true;
                    break Ok(());
                }
                continue;
            }
        }
        if let Err(e) = element::<K, S>(cpu, bus, op, &mut st) {
            break Err(e);
        }
        st.cx = st.cx.wrapping_sub(1);
        done += 1;
        if st.cx == 0 {
            break Ok(());
        }
        if K == CMPS || K == SCAS {
            let zf = cpu.flags.zf();
            if (REP == REPE && !zf) || (REP == REPNE && zf) {
                break Ok(());
            }
        }
        if done >= CHUNK {
            // Come back to this instruction after the run loop's checks (see module docs).
            cpu.set_next_rip(cpu.rip);
            cpu.end_block = true;
            break Ok(());
        }
    };
    write_back::<K>(cpu, op, &st, true);
    if io {
        cpu.after_port_io(bus);
    }
    r
}

/// Stores the registers the instruction kind uses back into the register file.
#[inline(always)]
fn write_back<const K: u8>(cpu: &mut Cpu, op: &Op, st: &Regs, rep: bool) {
    if uses_si(K) {
        put(cpu, reg::RSI, st.si, op.asize);
    }
    if uses_di(K) {
        put(cpu, reg::RDI, st.di, op.asize);
    }
    if rep {
        put(cpu, reg::RCX, st.cx, op.asize);
    }
}

fn is_string_operand(k: OpKind) -> bool {
    matches!(k, OpKind::MemorySegSI | OpKind::MemorySegESI | OpKind::MemorySegRSI | OpKind::MemoryESDI | OpKind::MemoryESEDI | OpKind::MemoryESRDI)
}

fn build<const K: u8, const S: usize>(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if !(0..ins.op_count()).any(|i| is_string_operand(ins.op_kind(i))) {
        return None;
    }
    // The source segment (DS or an override); ES:rDI is fixed.
    op.mem.seg = if uses_si(K) { reg_number(ins.memory_segment()) } else { DS };
    if K == INS || K == OUTS {
        // Port I/O may change device state and the interrupt line.
        op.stop = true;
    }
    let rep = if K == CMPS || K == SCAS {
        if ins.has_repne_prefix() {
            REPNE
        } else if ins.has_repe_prefix() {
            REPE
        } else {
            NONE
        }
    } else if ins.has_rep_prefix() || ins.has_repne_prefix() {
        // F2 on a non-comparing string instruction repeats like F3.
        REPE
    } else {
        NONE
    };
    match rep {
        NONE => sized!(S, string::<K, NONE>),
        REPE => sized!(S, string::<K, REPE>),
        _ => sized!(S, string::<K, REPNE>),
    }
}

/// Builders that sse.rs registered for `movsd`/`cmpsd` before us: iced uses one mnemonic for
/// the string instruction and the SSE2 scalar-double instruction.
static SSE_MOVSD: OnceLock<Option<Builder>> = OnceLock::new();
static SSE_CMPSD: OnceLock<Option<Builder>> = OnceLock::new();

fn build_movsd(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if ins.code() == Code::Movsd_m32_m32 {
        return build::<MOVS, 4>(ins, op);
    }
    SSE_MOVSD.get().copied().flatten().and_then(|b| b(ins, op))
}

fn build_cmpsd(ins: &Instruction, op: &mut Op) -> Option<Handler> {
    if ins.code() == Code::Cmpsd_m32_m32 {
        return build::<CMPS, 4>(ins, op);
    }
    SSE_CMPSD.get().copied().flatten().and_then(|b| b(ins, op))
}

/// Registers the string builders. Runs after `sse::register` (see `exec::table`), whose
/// `movsd`/`cmpsd` builders stay reachable for the SSE forms.
pub fn register(t: &mut Table) {
    let _ = SSE_MOVSD.set(t.get(Mnemonic::Movsd));
    let _ = SSE_CMPSD.set(t.get(Mnemonic::Cmpsd));
    t.set(Mnemonic::Movsb, build::<MOVS, 1>);
    t.set(Mnemonic::Movsw, build::<MOVS, 2>);
    t.set(Mnemonic::Movsd, build_movsd);
    t.set(Mnemonic::Movsq, build::<MOVS, 8>);
    t.set(Mnemonic::Stosb, build::<STOS, 1>);
    t.set(Mnemonic::Stosw, build::<STOS, 2>);
    t.set(Mnemonic::Stosd, build::<STOS, 4>);
    t.set(Mnemonic::Stosq, build::<STOS, 8>);
    t.set(Mnemonic::Lodsb, build::<LODS, 1>);
    t.set(Mnemonic::Lodsw, build::<LODS, 2>);
    t.set(Mnemonic::Lodsd, build::<LODS, 4>);
    t.set(Mnemonic::Lodsq, build::<LODS, 8>);
    t.set(Mnemonic::Cmpsb, build::<CMPS, 1>);
    t.set(Mnemonic::Cmpsw, build::<CMPS, 2>);
    t.set(Mnemonic::Cmpsd, build_cmpsd);
    t.set(Mnemonic::Cmpsq, build::<CMPS, 8>);
    t.set(Mnemonic::Scasb, build::<SCAS, 1>);
    t.set(Mnemonic::Scasw, build::<SCAS, 2>);
    t.set(Mnemonic::Scasd, build::<SCAS, 4>);
    t.set(Mnemonic::Scasq, build::<SCAS, 8>);
    t.set(Mnemonic::Insb, build::<INS, 1>);
    t.set(Mnemonic::Insw, build::<INS, 2>);
    t.set(Mnemonic::Insd, build::<INS, 4>);
    t.set(Mnemonic::Outsb, build::<OUTS, 1>);
    t.set(Mnemonic::Outsw, build::<OUTS, 2>);
    t.set(Mnemonic::Outsd, build::<OUTS, 4>);
}
