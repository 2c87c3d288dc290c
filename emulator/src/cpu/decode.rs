//! Decoding: iced-x86 instructions converted once into [`Op`]s, grouped in basic blocks and
//! cached per guest physical page.
//!
//! A block starts at a physical address and runs to the first control transfer, the first
//! op whose builder asks to stop (mode changes, I/O), the end of the page, or
//! [`MAX_BLOCK`] instructions. Blocks are keyed by physical address and code size, so two
//! virtual aliases of the same code share one block; ops therefore hold branch targets and
//! RIP-relative displacements relative to the next instruction, never absolute.
//!
//! A page that holds decoded code loses its TLB fast-write tags; the slow write path drops
//! every block on that page ([`CodeCache::invalidate_page`]) before the write lands.

use std::collections::HashMap;
use std::rc::Rc;

use iced_x86::{Decoder, DecoderError, DecoderOptions, FlowControl, Instruction, OpKind, Register};

use super::exception::Exception;
use super::{exec, reg, Cpu};
use crate::bus::Bus;
use crate::memory::Region;
use crate::mmu::Access;

/// Longest basic block decoded at once.
pub const MAX_BLOCK: usize = 64;

/// An instruction handler: executes one decoded op.
pub type Handler = fn(&mut Cpu, &mut dyn Bus, &Op) -> Result<(), Exception>;

/// A memory operand with its addressing resolved.
#[derive(Clone, Copy, Debug)]
pub struct MemAddr {
    /// Displacement (sign-extended).
    pub disp: u64,
    /// Base register number, [`reg::ZERO`] for none, [`reg::NEXT_RIP`] for RIP-relative.
    pub base: u8,
    /// Index register number or [`reg::ZERO`].
    pub index: u8,
    /// log2 of the index scale.
    pub scale: u8,
    /// Effective segment (after overrides and the SS default for RBP/RSP bases).
    pub seg: u8,
    /// Address-size mask (0xffff, 0xffff_ffff or all ones).
    pub amask: u64,
}

impl Default for MemAddr {
    fn default() -> Self {
        MemAddr { disp: 0, base: reg::ZERO, index: reg::ZERO, scale: 0, seg: super::segment::DS, amask: u64::MAX }
    }
}

/// A decoded instruction, ready to execute.
#[derive(Clone, Debug)]
pub struct Op {
    pub exec: Handler,
    /// Instruction length in bytes.
    pub len: u8,
    /// Address size in bytes (2, 4 or 8), also for string instructions' implicit operands.
    pub asize: u8,
    /// End the block after this op (mode changes, I/O, interrupt-flag changes).
    pub stop: bool,
    /// Register numbers of register operands, by operand position. GPRs use 0-15 (16-19
    /// are AH, CH, DH, BH for byte operands); segment, control, debug, XMM and x87 registers
    /// use their own numbering from 0.
    pub r: [u8; 4],
    pub mem: MemAddr,
    /// First immediate; for near branches, the target relative to the next instruction;
    /// for far pointers, the offset.
    pub imm: u64,
    /// Second immediate (ENTER's nesting level, a far pointer's selector).
    pub imm2: u64,
    /// The decoded instruction, for the rare handlers that need more than the above.
    pub ins: Instruction,
}

/// A decoded basic block.
pub struct Block {
    pub ops: Box<[Op]>,
    /// Whether the block is a busy-wait loop the run loop may skip ([`super::spin`]).
    pub spin: super::spin::Spin,
}

/// Number of slots in the direct-mapped block lookup cache.
const FAST_SLOTS: usize = 4096;

/// Number of slots in the jump cache (blocks by CS-relative RIP).
const JUMP_SLOTS: usize = 4096;

/// A jump-cache slot: the block that starts at `rip`, valid while `gen` equals the
/// current [`Cpu::fetch_gen`].
#[derive(Clone, Copy)]
struct JumpEntry {
    rip: u64,
    gen: u64,
    block: *const Block,
}

const JUMP_EMPTY: JumpEntry = JumpEntry { rip: u64::MAX, gen: u64::MAX, block: std::ptr::null() };

/// Decoded blocks by physical address, with per-page bookkeeping for invalidation.
///
/// In front of the physical lookup sits the *jump cache*, keyed by RIP alone. An entry is
/// valid only while the generation it was filled under is current: the generation is the
/// sum of [`CodeCache::gen`] (bumped whenever a block is dropped, and by mode and segment
/// changes, see [`CodeCache::bump`]) and [`Tlb::gen`](crate::mmu::tlb::Tlb::gen) (bumped by
/// every TLB fill and flush). Both only grow, so equal sums mean neither moved.
///
/// Blocks are reference counted; the jump cache and the run loop hold plain pointers. A
/// block dropped from the cache is moved to `retired` rather than freed, and `retired` is
/// only emptied between blocks ([`CodeCache::reap`]), so the block the loop is executing
/// stays alive even when one of its own ops invalidates it.
pub struct CodeCache {
    blocks: HashMap<u64, Rc<Block>>,
    by_page: HashMap<u64, Vec<u64>>,
    /// One bit per physical page of guest memory: the page holds decoded code.
    code_bits: Vec<u64>,
    fast: Vec<(u64, Option<Rc<Block>>)>,
    jump: Box<[JumpEntry; JUMP_SLOTS]>,
    /// Bumped whenever a cached block goes away or the fetch context (mode, CS, CPL) changes.
    gen: u64,
    /// Blocks dropped from the cache, kept alive until no block is executing.
    retired: Vec<Rc<Block>>,
    /// An uncached block (MMIO code, an instruction straddling pages) being executed.
    transient: Option<Rc<Block>>,
}

#[inline(always)]
fn slot(key: u64) -> usize {
    ((key ^ (key >> 12) ^ (key >> 56)) as usize) & (FAST_SLOTS - 1)
}

#[inline(always)]
fn jslot(rip: u64) -> usize {
    ((rip ^ (rip >> 12)) as usize) & (JUMP_SLOTS - 1)
}

impl CodeCache {
    pub fn new(mem_size: u64) -> Self {
        let pages = mem_size.div_ceil(4096) as usize;
        CodeCache {
            blocks: HashMap::new(),
            by_page: HashMap::new(),
            code_bits: vec![0; pages.div_ceil(64)],
            fast: vec![(u64::MAX, None); FAST_SLOTS],
            jump: Box::new([JUMP_EMPTY; JUMP_SLOTS]),
            gen: 0,
            retired: Vec::new(),
            transient: None,
        }
    }

    /// Invalidates the jump cache (the fetch context changed: mode, CS, CPL).
    #[inline]
    pub fn bump(&mut self) {
        self.gen += 1;
    }

    /// Frees retired blocks. Only call when no block is executing.
    #[inline]
    pub(crate) fn reap(&mut self) {
        if !self.retired.is_empty() {
            self.retired.clear();
        }
    }

    /// Whether physical page `page` (page-aligned) holds decoded code.
    #[inline(always)]
    pub fn is_code_page(&self, page: u64) -> bool {
        let n = (page >> 12) as usize;
        self.code_bits.get(n / 64).is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    #[inline(always)]
    fn get(&mut self, key: u64) -> Option<&Rc<Block>> {
        let s = slot(key);
        if self.fast[s].0 != key {
            let b = self.blocks.get(&key)?.clone();
            self.fast[s] = (key, Some(b));
        }
        self.fast[s].1.as_ref()
    }

    /// Caches a block; returns true if its page just became a code page.
    fn insert(&mut self, key: u64, page: u64, block: Rc<Block>) -> bool {
        self.fast[slot(key)] = (key, Some(block.clone()));
        self.blocks.insert(key, block);
        self.by_page.entry(page).or_default().push(key);
        let n = (page >> 12) as usize;
        if let Some(w) = self.code_bits.get_mut(n / 64) {
            let was = *w & (1 << (n % 64)) != 0;
            *w |= 1 << (n % 64);
            return !was;
        }
        false
    }

    /// Drops every block on physical page `page`; returns whether there were any.
    pub fn invalidate_page(&mut self, page: u64) -> bool {
        let n = (page >> 12) as usize;
        if let Some(w) = self.code_bits.get_mut(n / 64) {
            *w &= !(1 << (n % 64));
        }
        let Some(keys) = self.by_page.remove(&page) else { return false };
        self.gen += 1;
        for k in keys {
            if let Some(b) = self.blocks.remove(&k) {
                self.retired.push(b);
            }
            let s = &mut self.fast[slot(k)];
            if s.0 == k {
                *s = (u64::MAX, None);
            }
        }
        true
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.gen += 1;
        self.retired.extend(self.blocks.drain().map(|(_, b)| b));
        self.by_page.clear();
        self.code_bits.fill(0);
        self.fast.fill((u64::MAX, None));
    }

    /// Number of cached blocks.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

/// Our number for an iced register (see [`Op::r`]).
pub fn reg_number(r: Register) -> u8 {
    use Register::*;
    if r.is_gpr() {
        match r {
            AH => 16,
            CH => 17,
            DH => 18,
            BH => 19,
            _ => (r.full_register() as u32 - RAX as u32) as u8,
        }
    } else if r.is_segment_register() {
        (r as u32 - ES as u32) as u8
    } else if r.is_xmm() {
        (r as u32 - XMM0 as u32) as u8
    } else if r.is_cr() {
        (r as u32 - CR0 as u32) as u8
    } else if r.is_dr() {
        (r as u32 - DR0 as u32) as u8
    } else if r.is_st() {
        (r as u32 - ST0 as u32) as u8
    } else if r.is_mm() {
        (r as u32 - MM0 as u32) as u8
    } else {
        0
    }
}

/// Address size of an instruction in bytes, from the code size and a 0x67 prefix.
fn address_size(bits: u32, bytes: &[u8]) -> u8 {
    let mut has67 = false;
    for &b in bytes.iter().take(15) {
        match b {
            0x67 => has67 = true,
            0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0xf0 | 0xf2 | 0xf3 => {}
            0x40..=0x4f if bits == 64 => {}
            _ => break,
        }
    }
    match (bits, has67) {
        (64, false) => 8,
        (64, true) | (32, false) | (16, true) => 4,
        _ => 2,
    }
}

fn amask(asize: u8) -> u64 {
    match asize {
        2 => 0xffff,
        4 => 0xffff_ffff,
        _ => u64::MAX,
    }
}

/// Converts one decoded instruction into an op. `bytes` are its encoding.
pub fn convert(ins: &Instruction, bits: u32, bytes: &[u8]) -> Op {
    let asize = address_size(bits, bytes);
    let mut op = Op {
        exec: exec::unimplemented,
        len: ins.len() as u8,
        asize,
        stop: false,
        r: [0; 4],
        mem: MemAddr { amask: amask(asize), ..MemAddr::default() },
        imm: 0,
        imm2: 0,
        ins: *ins,
    };
    let mut seen_imm = false;
    for i in 0..ins.op_count().min(4) {
        match ins.op_kind(i) {
            OpKind::Register => op.r[i as usize] = reg_number(ins.op_register(i)),
            OpKind::Memory => {
                let base = ins.memory_base();
                op.mem.base = if base == Register::None {
                    reg::ZERO
                } else if base.is_ip() {
                    reg::NEXT_RIP
                } else {
                    reg_number(base)
                };
                let index = ins.memory_index();
                op.mem.index = if index == Register::None { reg::ZERO } else { reg_number(index) };
                op.mem.scale = ins.memory_index_scale().trailing_zeros() as u8;
                op.mem.seg = reg_number(ins.memory_segment());
                op.mem.disp = if base.is_ip() {
                    // iced folds RIP into the displacement; keep it relative to the next ip.
                    ins.memory_displacement64().wrapping_sub(ins.next_ip())
                } else {
                    ins.memory_displacement64()
                };
            }
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64 => {
                op.imm = ins.near_branch_target().wrapping_sub(ins.next_ip());
            }
            OpKind::FarBranch16 | OpKind::FarBranch32 => {
                op.imm = if ins.op_kind(i) == OpKind::FarBranch16 { ins.far_branch16() as u64 } else { ins.far_branch32() as u64 };
                op.imm2 = ins.far_branch_selector() as u64;
            }
            OpKind::Immediate8_2nd => op.imm2 = ins.immediate8_2nd() as u64,
            k @ (OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64) => {
                let v = match k {
                    OpKind::Immediate8to16 => ins.immediate8to16() as i64 as u64,
                    OpKind::Immediate8to32 => ins.immediate8to32() as i64 as u64,
                    OpKind::Immediate8to64 => ins.immediate8to64() as u64,
                    OpKind::Immediate32to64 => ins.immediate32to64() as u64,
                    _ => ins.immediate(i),
                };
                if seen_imm {
                    op.imm2 = v;
                } else {
                    op.imm = v;
                    seen_imm = true;
                }
            }
            _ => {}
        }
    }
    if ins.is_invalid() {
        op.exec = exec::invalid_opcode;
        op.stop = true;
        return op;
    }
    op.exec = exec::build(ins, &mut op);
    if !matches!(ins.flow_control(), FlowControl::Next) {
        op.stop = true;
    }
    op
}

impl Cpu {
    /// The generation jump-cache entries must carry to be valid.
    #[inline(always)]
    fn fetch_gen(&self) -> u64 {
        self.code.gen.wrapping_add(self.tlb.gen)
    }

    /// The decoded block at CS:RIP, from the cache or freshly decoded.
    ///
    /// The pointer stays valid until the next call of `fetch_block` (or the end of
    /// [`Cpu::run`]): blocks dropped in between are parked in the retired list.
    #[inline(always)]
    pub(crate) fn fetch_block(&mut self, bus: &mut dyn Bus) -> Result<*const Block, Exception> {
        let rip = self.rip;
        let j = &self.code.jump[jslot(rip)];
        if j.rip == rip && j.gen == self.fetch_gen() {
            return Ok(j.block);
        }
        self.fetch_block_slow(bus)
    }

    #[inline(never)]
    fn fetch_block_slow(&mut self, bus: &mut dyn Bus) -> Result<*const Block, Exception> {
        // No block is executing: retired blocks can go.
        self.code.reap();
        self.code.transient = None;
        let lin = if self.long64 {
            let l = self.rip;
            if ((l as i64) << 16 >> 16) as u64 != l {
                return Err(Exception::gp(0));
            }
            l
        } else {
            let cs = &self.seg[super::segment::CS as usize];
            if self.rip > cs.limit as u64 {
                return Err(Exception::gp(0));
            }
            (cs.base.wrapping_add(self.rip)) & 0xffff_ffff
        };
        let user = self.cpl == 3;
        let e = self.tlb.entry(lin);
        let pa = if e.fetch[user as usize] == lin & !0xfff {
            e.phys | (lin & 0xfff)
        } else {
            self.translate(bus, lin, Access::fetch(user))?
        };
        let key = pa | (self.bits as u64) << 56;
        let block = match self.code.get(key) {
            Some(b) => Rc::as_ptr(b),
            None => match self.decode_block(bus, lin, pa, key)? {
                Some(b) => b,
                None => {
                    // Uncached: executed once, never entered in the jump cache.
                    return Ok(self.code.transient.as_ref().map_or(std::ptr::null(), Rc::as_ptr));
                }
            },
        };
        // Fill the jump cache under the generation current *now* (the walk above may have
        // filled the TLB, which bumps it).
        let gen = self.fetch_gen();
        self.code.jump[jslot(self.rip)] = JumpEntry { rip: self.rip, gen, block };
        Ok(block)
    }

    #[inline(never)]
    /// Decodes the block at `pa`: `Some` if cached, `None` if it was left in
    /// `code.transient` (MMIO code, an instruction straddling pages).
    fn decode_block(&mut self, bus: &mut dyn Bus, lin: u64, pa: u64, key: u64) -> Result<Option<*const Block>, Exception> {
        let bits = self.bits as u32;
        if self.mem.region(pa) == Region::Mmio {
            // Code in device memory: decode one instruction at a time, never cached.
            let mut buf = [0u8; 15];
            let avail = (4096 - (pa & 0xfff)).min(15) as usize;
            for (i, b) in buf[..avail].iter_mut().enumerate() {
                *b = self.phys_read(bus, pa + i as u64, 1) as u8;
            }
            self.code.transient = Some(self.decode_straddling(bus, lin, &mut buf, avail)?);
            return Ok(None);
        }
        let page = pa & !0xfff;
        let end = page + 4096;
        let mut ops = Vec::new();
        {
            let bytes = &self.mem.as_slice()[pa as usize..end as usize];
            let mut dec = Decoder::with_ip(bits, bytes, self.rip, DecoderOptions::NONE);
            let mut ins = Instruction::default();
            let mut pos = 0usize;
            while ops.len() < MAX_BLOCK && dec.can_decode() {
                dec.decode_out(&mut ins);
                if ins.is_invalid() && dec.last_error() == DecoderError::NoMoreBytes {
                    break;
                }
                let n = ins.len();
                let op = convert(&ins, bits, &bytes[pos..pos + n]);
                pos += n;
                let stop = op.stop;
                ops.push(op);
                if stop {
                    break;
                }
            }
        }
        if ops.is_empty() {
            // The first instruction crosses into the next page.
            let mut buf = [0u8; 15];
            let avail = (end - pa) as usize;
            buf[..avail].copy_from_slice(&self.mem.as_slice()[pa as usize..end as usize]);
            self.code.transient = Some(self.decode_straddling(bus, lin, &mut buf, avail)?);
            return Ok(None);
        }
        self.stats.blocks_decoded += 1;
        let spin = super::spin::classify(&ops);
        let block = Rc::new(Block { ops: ops.into_boxed_slice(), spin });
        let ptr = Rc::as_ptr(&block);
        if self.code.insert(key, page, block) {
            self.tlb.protect_code_page(page);
        }
        Ok(Some(ptr))
    }

    /// Decodes a single instruction whose bytes continue on the next page (or come from
    /// MMIO). `buf[..avail]` holds the bytes of the first page. Not cached.
    fn decode_straddling(&mut self, bus: &mut dyn Bus, lin: u64, buf: &mut [u8; 15], avail: usize) -> Result<Rc<Block>, Exception> {
        let bits = self.bits as u32;
        let mut ins = Instruction::default();
        let mut have = avail;
        loop {
            let mut dec = Decoder::with_ip(bits, &buf[..have], self.rip, DecoderOptions::NONE);
            dec.decode_out(&mut ins);
            if !(ins.is_invalid() && dec.last_error() == DecoderError::NoMoreBytes) || have == 15 {
                break;
            }
            // Fetch the rest from the next page (this may fault, as on hardware).
            let next = (lin | 0xfff).wrapping_add(1);
            let next = if self.long_mode() { next } else { next & 0xffff_ffff };
            let pa2 = self.translate(bus, next, Access::fetch(self.cpl == 3))?;
            for i in have..15 {
                buf[i] = self.phys_read(bus, pa2 + (i - have) as u64, 1) as u8;
            }
            have = 15;
        }
        let op = convert(&ins, bits, &buf[..ins.len().max(1)]);
        Ok(Rc::new(Block { ops: vec![op].into_boxed_slice(), spin: super::spin::Spin::None }))
    }
}
