//! A deterministic x86-64 PC emulator for running Pintos.
//!
//! # Architecture
//!
//! * [`memory`] — guest physical memory (one host mapping) and the PC memory map.
//! * [`bus`] — the [`bus::Bus`] trait through which the CPU reaches ports, MMIO and the
//!   interrupt line; the machine (devices) implements it.
//! * [`mmu`] — the page walker for every paging mode, and the software TLB.
//! * [`observe`] — the observer interface: what the hardware saw (faults, disk commands
//!   with sector hashes, system calls, a kernel's claims), for the grader and tracers.
//! * [`cpu`] — architectural state ([`cpu::Cpu`]), the decode cache, the run loop, exception
//!   delivery, and instruction semantics grouped by family under `cpu/exec/`; breakpoints
//!   and watchpoints in `cpu/debug.rs`.
//! * [`machine`] — the PC: CPU, devices, firmware, virtual time and the event schedule.
//! * [`snapshot`] — the whole machine as one serialisable value; restoring one and running
//!   on gives the same run.
//! * [`pintos`] — the `pintos` command: the drop-in options, recording and replay,
//!   time travel (`pintos/timetravel.rs`) and the gdb stub (`pintos/gdb.rs`).
//!
//! ## How an instruction flows
//!
//! 1. **Fetch.** [`cpu::Cpu::run`] turns CS:RIP into a linear address and looks it up in the
//!    TLB (one tag compare; a miss walks the page tables). The physical address plus the code
//!    size (16/32/64) keys the decode cache.
//! 2. **Decode once.** On a miss, iced-x86 decodes a basic block (up to a control transfer,
//!    a mode-changing instruction, the end of the page, or 64 instructions). Each instruction
//!    becomes an [`cpu::decode::Op`]: operands resolved to register numbers, an addressing
//!    form and immediates, plus a handler chosen by the instruction family's *builder* for
//!    exactly that operand form and size (`alu::binary::<Add, Mem, Imm, 4>`). The block is
//!    cached per physical page; writing to that page drops it (self-modifying code and
//!    program loading stay correct).
//! 3. **Execute.** The loop calls each op's handler. Handlers use the shared operand layer
//!    (`cpu/operand.rs`) and memory access (`cpu/access.rs`: TLB hit = host pointer) and
//!    compute flags lazily (`cpu/flags.rs`). A fault is a value (`Err(Exception)`) carried
//!    back with `?`; the loop hands it to `cpu/interrupt.rs`, which delivers it (or escalates
//!    to #DF and a triple fault). Between blocks the loop samples the interrupt line.
//!
//! ## Adding an instruction
//!
//! Find its family under `cpu/exec/` (alu, shift, muldiv, bit, string, control, stack,
//! mov, system, sse, x87). Write the handler, generic over operand form and size where that
//! applies, and a builder that returns the instantiation for the decoded form; register the
//! builder for the iced `Mnemonic` in the file's `register`. Unregistered instructions raise
//! #UD in the guest and are listed in [`cpu::Stats::unimplemented`].
//!
//! ## Determinism
//!
//! Nothing here reads the host clock or host randomness. Time is [`cpu::Cpu::icount`], the
//! count of retired instructions; `rdtsc` derives from it. Where the machine cuts a run
//! into slices (device events, a debugger's steps, time travel's snapshot grid) never
//! changes the run: `disk-images/tests/snapshot.rs` holds that to account.

pub mod bare_metal;
pub mod bus;
pub mod cpu;
pub mod devices;
pub mod firmware;
pub mod guests;
pub mod machine;
pub mod memory;
pub mod mmu;
pub mod observe;
pub mod snapshot;
pub mod pintos;
pub mod testing;
