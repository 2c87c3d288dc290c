//! The run loop: blocks, interrupts, exceptions and the instruction budget.

use super::exception::{vector, Exception};
use super::interrupt::EventKind;
use super::decode::Op;
use super::{reg, Cpu};
use crate::bus::Bus;

/// Why [`Cpu::run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The instruction budget is used up.
    Budget,
    /// HLT with no interrupt to wake it (`halted` stays set; run again after an event).
    Halted,
    /// HLT with interrupts disabled: nothing can ever wake the CPU.
    HaltedForever,
    /// A triple fault shut the processor down; [`Cpu::shutdown`] says why.
    TripleFault,
    /// The bus asked for control back ([`Bus::stop_requested`]) after an I/O access, or
    /// a watchpoint fired ([`super::debug`]).
    Stopped,
    /// The next instruction is at a breakpoint ([`super::debug`]); it has not executed.
    Breakpoint,
}

/// Exception class for double-fault detection (SDM vol. 3, table 6-5).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Benign,
    Contributory,
    PageFault,
}

fn class(v: u8) -> Class {
    match v {
        vector::DE | vector::TS | vector::NP | vector::SS | vector::GP => Class::Contributory,
        vector::PF => Class::PageFault,
        _ => Class::Benign,
    }
}

impl Cpu {
    /// Runs until `budget` instructions have retired, the CPU halts, or it shuts down.
    ///
    /// Exceptions delivered also consume budget, so a guest stuck in a fault loop still
    /// returns control to the caller.
    pub fn run(&mut self, bus: &mut dyn Bus, budget: u64) -> Exit {
        if self.shutdown.is_some() {
            return Exit::TripleFault;
        }
        self.intr = bus.interrupt_pending();
        self.sync_a20(bus);
        // The caller may have changed CS, the mode or memory between runs.
        self.code.bump();
        let exit = self.run_blocks(bus, budget);
        self.code.reap();
        exit
    }

    #[inline(always)]
    fn run_blocks(&mut self, bus: &mut dyn Bus, budget: u64) -> Exit {
        let mut left = budget;
        while left > 0 {
            // One test for the rare cases: a pending interrupt, HLT, an interrupt shadow.
            let single = if self.intr | self.halted | self.shadow {
                if self.intr && !self.shadow && self.flags.iff() {
                    self.halted = false;
                    self.take_interrupt(bus);
                    self.deliveries += 1;
                    if self.shutdown.is_some() {
                        return Exit::TripleFault;
                    }
                    left -= 1;
                    if self.stop {
                        // A watchpoint on the stack the interrupt frame went to.
                        self.stop = false;
                        self.end_block = false;
                        return Exit::Stopped;
                    }
                    continue;
                }
                if self.halted {
                    return if self.flags.iff() { Exit::Halted } else { Exit::HaltedForever };
                }
                self.shadow
            } else {
                false
            };
            let block = match self.fetch_block(bus) {
                Ok(b) => b,
                Err(e) => {
                    self.exception(bus, e);
                    self.deliveries += 1;
                    if self.shutdown.is_some() {
                        return Exit::TripleFault;
                    }
                    left -= 1;
                    if self.stop {
                        self.stop = false;
                        self.end_block = false;
                        return Exit::Stopped;
                    }
                    continue;
                }
            };
            // SAFETY: `fetch_block` returns a block owned by the code cache (or its transient
            // slot). Blocks the cache drops are parked in its retired list, which is only
            // emptied by `fetch_block`'s slow path and at the end of `run`, never while this
            // reference is alive, so the block outlives the loop below even if one of its
            // ops invalidates it. Blocks are never mutated after creation.
            let ops: &[Op] = unsafe { &(*block).ops };
            let mut cut = usize::MAX;
            if self.debug.checks_code() {
                match self.breakpoint_in(self.pc(), ops.iter().map(|op| op.len)) {
                    Some(0) => return Exit::Breakpoint,
                    Some(i) => cut = i,
                    None => {}
                }
            }
            let n = if single {
                // One instruction runs in the interrupt shadow, then interrupts are checked.
                self.shadow = false;
                1
            } else {
                ops.len().min(left.min(usize::MAX as u64) as usize).min(cut)
            };
            let full = n == ops.len();
            let ops = &ops[..n];
            let start = self.rip;
            let mut rip = start;
            let mut done = n;
            let mut clean = true;
            let mut it = ops.iter();
            while let Some(op) = it.next() {
                self.gpr[reg::NEXT_RIP as usize] = rip.wrapping_add(op.len as u64) & self.ip_mask;
                match (op.exec)(self, bus, op) {
                    Ok(()) => {
                        rip = self.gpr[reg::NEXT_RIP as usize];
                        self.rip = rip;
                        self.icount += 1;
                        if self.end_block {
                            // Rare: I/O, SMC, HLT, a bus stop request. `stop` and
                            // `shutdown` are only ever raised together with `end_block`
                            // or by exception delivery, so they are checked only here.
                            self.end_block = false;
                            if self.stop {
                                self.stop = false;
                                return Exit::Stopped;
                            }
                            done = n - it.len();
                            clean = false;
                            break;
                        }
                    }
                    Err(e) => {
                        self.end_block = false;
                        clean = false;
                        self.exception(bus, e);
                        self.deliveries += 1;
                        // The faulting instruction consumes budget too.
                        done = n - it.len();
                        if self.shutdown.is_some() {
                            return Exit::TripleFault;
                        }
                        if self.stop {
                            self.stop = false;
                            return Exit::Stopped;
                        }
                        break;
                    }
                }
            }
            left = left.saturating_sub(done as u64);
            // SAFETY: as above, the block is still alive.
            let block = unsafe { &*block };
            if block.spin != super::spin::Spin::None && full && clean {
                left -= self.skip_spin(bus, block, start, left);
            }
        }
        Exit::Budget
    }

    /// Re-reads the A20 gate; a change flushes translations and decoded code.
    pub(crate) fn sync_a20(&mut self, bus: &mut dyn Bus) {
        let a20 = bus.a20_enabled();
        if a20 != self.a20 {
            self.a20 = a20;
            self.tlb.flush_all();
            self.code.clear();
        }
    }

    /// Called after a single `in`: like [`Cpu::after_port_io`], but the block goes on
    /// when nothing the run loop looks at between blocks changed (the interrupt line, A20,
    /// a stop request), so that a polling loop runs as one block and can be skipped.
    pub(crate) fn after_port_read(&mut self, bus: &mut dyn Bus) {
        let (intr, a20) = (self.intr, self.a20);
        self.intr = bus.interrupt_pending();
        self.sync_a20(bus);
        if bus.stop_requested() {
            self.stop = true;
        }
        if self.stop || self.intr != intr || self.a20 != a20 {
            self.end_block = true;
        }
    }

    /// Called by port-I/O handlers: device state may have changed.
    pub(crate) fn after_port_io(&mut self, bus: &mut dyn Bus) {
        self.intr = bus.interrupt_pending();
        self.sync_a20(bus);
        if bus.stop_requested() {
            self.stop = true;
        }
        self.end_block = true;
    }

    fn take_interrupt(&mut self, bus: &mut dyn Bus) {
        let v = bus.acknowledge_interrupt();
        self.intr = bus.interrupt_pending();
        self.stats.interrupts += 1;
        bus.cpu_event(self.icount, &crate::bus::CpuEvent::Interrupt { vector: v, rip: self.rip }, &self.mem);
        if let Err(e) = self.deliver(bus, v, None, EventKind::External, self.rip) {
            self.exception(bus, e);
        }
    }

    /// Delivers exception `e` raised by the instruction at RIP, escalating to a double
    /// fault or a triple fault as the SDM prescribes.
    pub(crate) fn exception(&mut self, bus: &mut dyn Bus, e: Exception) {
        let mut cur = e;
        // Bounded: each step either succeeds, escalates one level, or shuts down.
        for _ in 0..4 {
            *self.stats.exceptions.entry(cur.vector()).or_insert(0) += 1;
            if cur.vector() == vector::PF {
                self.cr2 = cur.address;
            }
            let event = crate::bus::CpuEvent::Exception { vector: cur.vector(), error_code: cur.error_code(), rip: self.rip, address: cur.address, cpl: self.cpl, cr3: self.cr3, rsp: self.gpr[crate::cpu::reg::RSP as usize] };
            bus.cpu_event(self.icount, &event, &self.mem);
            let second = match self.deliver(bus, cur.vector(), cur.error_code(), EventKind::Exception, self.rip) {
                Ok(()) => return,
                Err(s) => s,
            };
            if cur.vector() == vector::DF {
                self.triple_fault(bus, format!("{} while delivering #DF", second.name()));
                return;
            }
            let (c1, c2) = (class(cur.vector()), class(second.vector()));
            let double = (c1 == Class::Contributory && c2 == Class::Contributory) || (c1 == Class::PageFault && c2 != Class::Benign);
            cur = if double {
                Exception::with_code(vector::DF, 0)
            } else {
                second
            };
        }
        self.triple_fault(bus, "exception delivery kept faulting".into());
    }

    fn triple_fault(&mut self, bus: &mut dyn Bus, why: String) {
        let msg = format!("triple fault: {why}\n{}", self.dump());
        bus.cpu_event(self.icount, &crate::bus::CpuEvent::TripleFault, &self.mem);
        self.shutdown = Some(msg);
    }
}
