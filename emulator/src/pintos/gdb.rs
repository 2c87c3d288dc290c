//! `pintos --gdb`: a GDB remote-protocol server, like QEMU's `-s -S`.
//!
//! The machine waits for gdb before its first instruction, then runs only when gdb says
//! so. Continuing runs ordinary slices ([`Machine::step_slice`]) so device timing is the
//! same as without a debugger; while software breakpoints are set it runs one instruction
//! at a time and stops when the linear address of the next instruction (CS base + RIP) is
//! one of them. Memory is read and written by virtual address through the guest's page
//! tables, with supervisor access.

use std::collections::BTreeSet;
use std::io::Write;
use std::marker::PhantomData;
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, Result};
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{DisconnectReason, GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::singlethread::{SingleThreadBase, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep, SingleThreadSingleStepOps};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{Breakpoints, BreakpointsOps, SwBreakpoint, SwBreakpointOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use gdbstub_arch::x86::reg::X86_64CoreRegs;
use gdbstub_arch::x86::X86_64_SSE;

use crate::cpu::reg;
use crate::cpu::segment::{CS, DS, ES, FS, GS, SS};
use crate::machine::{Machine, Outcome};
use crate::mmu::Access;

/// Instructions per slice when no breakpoint is set (between checks for a Ctrl-C).
const SLICE: u64 = 100_000;
/// Single instructions between checks for a Ctrl-C while breakpoints are set.
const STEPS_PER_POLL: u32 = 4096;

/// gdb's register order (RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8-R15) in ours.
const GDB_ORDER: [u8; 16] = [
    reg::RAX,
    reg::RBX,
    reg::RCX,
    reg::RDX,
    reg::RSI,
    reg::RDI,
    reg::RBP,
    reg::RSP,
    reg::R8,
    reg::R9,
    reg::R10,
    reg::R11,
    reg::R12,
    reg::R13,
    reg::R14,
    reg::R15,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Continue,
    Step,
}

/// The machine as gdb sees it.
struct Debuggee<'a> {
    machine: &'a mut Machine,
    out: &'a mut dyn Write,
    breakpoints: BTreeSet<u64>,
    mode: Mode,
    /// How the run ended, once it has.
    outcome: Option<Outcome>,
}

impl Debuggee<'_> {
    fn pc(&self) -> u64 {
        self.machine.cpu.seg[CS as usize].base.wrapping_add(self.machine.cpu.rip)
    }

    /// Runs one slice of at most `max` instructions and shows the console output.
    fn slice(&mut self, max: u64) -> Option<Outcome> {
        let o = self.machine.step_slice(max, None);
        let bytes = self.machine.take_console();
        if !bytes.is_empty() {
            let _ = self.out.write_all(&bytes);
            let _ = self.out.flush();
        }
        if let Some(o) = &o {
            self.outcome = Some(o.clone());
        }
        o
    }

    /// Physical address of virtual `lin`, or None if unmapped.
    fn phys(&mut self, lin: u64) -> Option<u64> {
        let m = &mut *self.machine;
        m.cpu.translate(&mut m.bus, lin, Access::read(false)).ok()
    }
}

/// The stop reason gdb gets for a finished run.
fn ended(o: &Outcome) -> SingleThreadStopReason<u64> {
    match o {
        Outcome::PowerOff => SingleThreadStopReason::Exited(0),
        Outcome::DebugExit(c) => SingleThreadStopReason::Exited(*c as u8),
        Outcome::Reset => SingleThreadStopReason::Terminated(Signal::SIGHUP),
        Outcome::TripleFault(_) => SingleThreadStopReason::Terminated(Signal::SIGSEGV),
        _ => SingleThreadStopReason::Terminated(Signal::SIGKILL),
    }
}

impl Target for Debuggee<'_> {
    type Arch = X86_64_SSE;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for Debuggee<'_> {
    fn read_registers(&mut self, regs: &mut X86_64CoreRegs) -> TargetResult<(), Self> {
        let cpu = &self.machine.cpu;
        for (i, &r) in GDB_ORDER.iter().enumerate() {
            regs.regs[i] = cpu.gpr[r as usize];
        }
        regs.rip = cpu.rip;
        regs.eflags = cpu.flags.get() as u32;
        let sel = |s: u8| cpu.seg[s as usize].selector as u32;
        regs.segments.cs = sel(CS);
        regs.segments.ss = sel(SS);
        regs.segments.ds = sel(DS);
        regs.segments.es = sel(ES);
        regs.segments.fs = sel(FS);
        regs.segments.gs = sel(GS);
        Ok(())
    }

    /// Writes the general registers, RIP and RFLAGS. Segment registers cannot be changed
    /// from gdb (their hidden descriptor state would go stale); other registers are ignored.
    fn write_registers(&mut self, regs: &X86_64CoreRegs) -> TargetResult<(), Self> {
        let cpu = &mut self.machine.cpu;
        for (i, &r) in GDB_ORDER.iter().enumerate() {
            cpu.gpr[r as usize] = regs.regs[i];
        }
        cpu.rip = regs.rip;
        let high = cpu.flags.get() & !0xffff_ffff;
        cpu.flags.set(high | regs.eflags as u64);
        Ok(())
    }

    fn read_addrs(&mut self, start: u64, data: &mut [u8]) -> TargetResult<usize, Self> {
        let mut done = 0;
        while done < data.len() {
            let lin = start.wrapping_add(done as u64);
            let n = ((0x1000 - (lin & 0xfff)) as usize).min(data.len() - done);
            let Some(pa) = self.phys(lin) else { break };
            if self.machine.cpu.mem.read(pa, &mut data[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        if done == 0 && !data.is_empty() {
            return Err(TargetError::Errno(14));
        }
        Ok(done)
    }

    fn write_addrs(&mut self, start: u64, data: &[u8]) -> TargetResult<(), Self> {
        // Translate every page first, so a failed write changes nothing.
        let mut pieces = Vec::new();
        let mut done = 0;
        while done < data.len() {
            let lin = start.wrapping_add(done as u64);
            let n = ((0x1000 - (lin & 0xfff)) as usize).min(data.len() - done);
            let pa = self.phys(lin).ok_or(TargetError::Errno(14))?;
            pieces.push((pa, done, n));
            done += n;
        }
        for (pa, off, n) in pieces {
            self.machine.cpu.mem.load(pa, &data[off..off + n]).map_err(|_| TargetError::Errno(14))?;
            self.machine.cpu.invalidate_code(pa, n as u64);
        }
        Ok(())
    }

    fn support_resume(&mut self) -> Option<SingleThreadResumeOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadResume for Debuggee<'_> {
    fn resume(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.mode = Mode::Continue;
        Ok(())
    }

    fn support_single_step(&mut self) -> Option<SingleThreadSingleStepOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadSingleStep for Debuggee<'_> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.mode = Mode::Step;
        Ok(())
    }
}

impl Breakpoints for Debuggee<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for Debuggee<'_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.breakpoints.insert(addr);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        Ok(self.breakpoints.remove(&addr))
    }
}

struct EventLoop<'a>(PhantomData<&'a ()>);

impl<'a> BlockingEventLoop for EventLoop<'a> {
    type Target = Debuggee<'a>;
    type Connection = TcpStream;
    type StopReason = SingleThreadStopReason<u64>;

    fn wait_for_stop_reason(
        target: &mut Debuggee<'a>,
        conn: &mut TcpStream,
    ) -> Result<Event<Self::StopReason>, WaitForStopReasonError<&'static str, std::io::Error>> {
        if let Some(o) = &target.outcome {
            return Ok(Event::TargetStopped(ended(o)));
        }
        if target.mode == Mode::Step {
            return Ok(Event::TargetStopped(match target.slice(1) {
                Some(o) => ended(&o),
                None => SingleThreadStopReason::DoneStep,
            }));
        }
        loop {
            if target.breakpoints.is_empty() {
                if let Some(o) = target.slice(SLICE) {
                    return Ok(Event::TargetStopped(ended(&o)));
                }
            } else {
                // Always retire at least one instruction, so continuing from a breakpoint
                // moves past it.
                for _ in 0..STEPS_PER_POLL {
                    if let Some(o) = target.slice(1) {
                        return Ok(Event::TargetStopped(ended(&o)));
                    }
                    if target.breakpoints.contains(&target.pc()) {
                        return Ok(Event::TargetStopped(SingleThreadStopReason::SwBreak(())));
                    }
                }
            }
            if conn.peek().map_err(WaitForStopReasonError::Connection)?.is_some() {
                let byte = ConnectionExt::read(conn).map_err(WaitForStopReasonError::Connection)?;
                return Ok(Event::IncomingData(byte));
            }
        }
    }

    fn on_interrupt(_target: &mut Debuggee<'a>) -> Result<Option<Self::StopReason>, &'static str> {
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

/// Listens on localhost:`port` (0: any free port), announces the port on stderr, waits for
/// gdb and serves it until the guest's run ends or gdb detaches (then the run goes on
/// without the debugger). Returns how the run ended.
pub fn serve(machine: &mut Machine, port: u16, out: &mut dyn Write) -> Result<Outcome> {
    let listener = TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("listening for gdb on localhost:{port}"))?;
    let port = listener.local_addr()?.port();
    eprintln!("pintos: waiting for gdb on localhost:{port} (target remote localhost:{port})");
    let (conn, _) = listener.accept().context("accepting the gdb connection")?;
    let _ = conn.set_nodelay(true);
    let mut target = Debuggee { machine, out, breakpoints: BTreeSet::new(), mode: Mode::Continue, outcome: None };
    let reason = GdbStub::new(conn).run_blocking::<EventLoop<'_>>(&mut target).map_err(|e| anyhow::anyhow!("gdb session: {e}"))?;
    if let Some(o) = target.outcome.take() {
        target.machine.finish();
        return Ok(o);
    }
    match reason {
        DisconnectReason::Kill => {
            target.machine.finish();
            Ok(Outcome::PowerOff)
        }
        // gdb detached (or went away): run on to the end, as QEMU does.
        _ => {
            let out = &mut *target.out;
            Ok(target.machine.run(Default::default(), |b| {
                let _ = out.write_all(b);
                let _ = out.flush();
                true
            }))
        }
    }
}
