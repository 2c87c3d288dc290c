//! `pintos --gdb` and `pintos replay FILE --gdb`: a GDB remote-protocol server, like
//! QEMU's `-s -S`.
//!
//! The machine waits for gdb before its first instruction, then runs only when gdb says
//! so, through [`TimeTravel`]: continuing runs ordinary slices, so device timing is the
//! same as without a debugger. Breakpoints (software and hardware alike: nothing is
//! written into guest memory) and watchpoints are the CPU's own ([`crate::cpu::debug`]),
//! so a debugged run keeps its speed. On a replay, gdb can also go backwards:
//! `reverse-stepi`, `reverse-step`, `reverse-continue` and reverse watchpoints; reaching
//! either end of the recording stops with gdb's "no more reverse-execution history".
//! Memory is read and written by virtual address through the guest's page tables, with
//! supervisor access. `monitor help` lists the extra commands (system registers, the
//! position in the run).

use std::collections::BTreeSet;
use std::io::Write;
use std::marker::PhantomData;
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, Result};
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::run_blocking::{BlockingEventLoop, Event, WaitForStopReasonError};
use gdbstub::stub::{DisconnectReason, GdbStub, SingleThreadStopReason};
use gdbstub::target::ext::base::reverse_exec::{ReplayLogPosition, ReverseCont, ReverseContOps, ReverseStep, ReverseStepOps};
use gdbstub::target::ext::base::singlethread::{SingleThreadBase, SingleThreadRangeStepping, SingleThreadRangeSteppingOps, SingleThreadResume, SingleThreadResumeOps, SingleThreadSingleStep, SingleThreadSingleStepOps};
use gdbstub::target::ext::base::BaseOps;
use gdbstub::target::ext::breakpoints::{Breakpoints, BreakpointsOps, HwBreakpoint, HwBreakpointOps, HwWatchpoint, HwWatchpointOps, SwBreakpoint, SwBreakpointOps, WatchKind};
use gdbstub::target::ext::monitor_cmd::{ConsoleOutput, MonitorCmd, MonitorCmdOps};
use gdbstub::target::{Target, TargetError, TargetResult};
use super::gdb_arch::{SysRegs, X86_64Sys};

use super::timetravel::{Stop, TimeTravel};
use crate::cpu::debug::{Watch, WatchKind as CpuWatchKind};
use crate::cpu::reg;
use crate::cpu::segment::{CS, DS, ES, FS, GS, SS};
use crate::machine::Outcome;
use crate::mmu::Access;

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

/// What gdb asked for last.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Continue,
    Step,
    /// Step while the next instruction is in `[start, end)` (gdb's `next` over a line).
    RangeStep(u64, u64),
    ReverseContinue,
    ReverseStep,
}

/// The machine as gdb sees it.
struct Debuggee<'a> {
    tt: &'a mut TimeTravel,
    out: &'a mut dyn Write,
    /// Breakpoints gdb set as hardware ones (reported as such).
    hw_breakpoints: BTreeSet<u64>,
    mode: Mode,
}

impl Debuggee<'_> {
    /// Physical address of virtual `lin`, or None if unmapped.
    fn phys(&mut self, lin: u64) -> Option<u64> {
        let m = &mut self.tt.machine;
        m.cpu.translate(&mut m.bus, lin, Access::read(false)).ok()
    }

    /// The stop gdb gets for `stop`.
    fn reason(&self, stop: Stop) -> SingleThreadStopReason<u64> {
        match stop {
            Stop::Reached => SingleThreadStopReason::DoneStep,
            Stop::Breakpoint(pc) if self.hw_breakpoints.contains(&pc) => SingleThreadStopReason::HwBreak(()),
            Stop::Breakpoint(_) => SingleThreadStopReason::SwBreak(()),
            Stop::Watch(hit) => SingleThreadStopReason::Watch {
                tid: (),
                kind: match hit.watch.kind {
                    CpuWatchKind::Write => WatchKind::Write,
                    CpuWatchKind::Read => WatchKind::Read,
                    CpuWatchKind::Access => WatchKind::ReadWrite,
                },
                addr: hit.watch.addr,
            },
            // On a replay the end is the end of the history, which gdb can go back from.
            Stop::Ended(_) if self.tt.can_reverse() => SingleThreadStopReason::ReplayLog { tid: None, pos: ReplayLogPosition::End },
            Stop::Ended(o) => ended(&o),
            Stop::Start => SingleThreadStopReason::ReplayLog { tid: None, pos: ReplayLogPosition::Begin },
            Stop::Interrupted => SingleThreadStopReason::Signal(Signal::SIGINT),
        }
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
    type Arch = X86_64Sys;
    type Error = &'static str;

    fn base_ops(&mut self) -> BaseOps<'_, Self::Arch, Self::Error> {
        BaseOps::SingleThread(self)
    }

    fn support_breakpoints(&mut self) -> Option<BreakpointsOps<'_, Self>> {
        Some(self)
    }

    fn support_monitor_cmd(&mut self) -> Option<MonitorCmdOps<'_, Self>> {
        Some(self)
    }
}

impl SingleThreadBase for Debuggee<'_> {
    fn read_registers(&mut self, sys: &mut SysRegs) -> TargetResult<(), Self> {
        let cpu = &self.tt.machine.cpu;
        sys.fs_base = cpu.seg[FS as usize].base;
        sys.gs_base = cpu.seg[GS as usize].base;
        sys.k_gs_base = cpu.msr.kernel_gs_base;
        (sys.cr0, sys.cr2, sys.cr3, sys.cr4, sys.cr8, sys.efer) = (cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4, cpu.cr8, cpu.efer);
        let regs = &mut sys.core;
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
        regs.xmm = cpu.sse.xmm;
        regs.mxcsr = cpu.sse.mxcsr;
        Ok(())
    }

    /// Writes the general registers, RIP, RFLAGS and the XMM registers. Segment, control
    /// and model-specific registers cannot be changed from gdb (the CPU's derived state,
    /// its TLB and its mode would go stale); gdb's writes of them are ignored.
    fn write_registers(&mut self, sys: &SysRegs) -> TargetResult<(), Self> {
        let regs = &sys.core;
        let cpu = &mut self.tt.machine.cpu;
        cpu.sse.xmm = regs.xmm;
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
            if self.tt.machine.cpu.mem.read(pa, &mut data[done..done + n]).is_err() {
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
            self.tt.machine.cpu.mem.load(pa, &data[off..off + n]).map_err(|_| TargetError::Errno(14))?;
            self.tt.machine.cpu.invalidate_code(pa, n as u64);
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

    fn support_range_step(&mut self) -> Option<SingleThreadRangeSteppingOps<'_, Self>> {
        Some(self)
    }

    fn support_reverse_step(&mut self) -> Option<ReverseStepOps<'_, (), Self>> {
        if self.tt.can_reverse() {
            Some(self)
        } else {
            None
        }
    }

    fn support_reverse_cont(&mut self) -> Option<ReverseContOps<'_, (), Self>> {
        if self.tt.can_reverse() {
            Some(self)
        } else {
            None
        }
    }
}

impl SingleThreadSingleStep for Debuggee<'_> {
    fn step(&mut self, _signal: Option<Signal>) -> Result<(), Self::Error> {
        self.mode = Mode::Step;
        Ok(())
    }
}

impl SingleThreadRangeStepping for Debuggee<'_> {
    fn resume_range_step(&mut self, start: u64, end: u64) -> Result<(), Self::Error> {
        self.mode = Mode::RangeStep(start, end);
        Ok(())
    }
}

impl ReverseStep<()> for Debuggee<'_> {
    fn reverse_step(&mut self, _tid: ()) -> Result<(), Self::Error> {
        self.mode = Mode::ReverseStep;
        Ok(())
    }
}

impl ReverseCont<()> for Debuggee<'_> {
    fn reverse_cont(&mut self) -> Result<(), Self::Error> {
        self.mode = Mode::ReverseContinue;
        Ok(())
    }
}

impl Breakpoints for Debuggee<'_> {
    fn support_sw_breakpoint(&mut self) -> Option<SwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_breakpoint(&mut self) -> Option<HwBreakpointOps<'_, Self>> {
        Some(self)
    }

    fn support_hw_watchpoint(&mut self) -> Option<HwWatchpointOps<'_, Self>> {
        Some(self)
    }
}

impl SwBreakpoint for Debuggee<'_> {
    fn add_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.tt.machine.cpu.add_breakpoint(addr);
        Ok(true)
    }

    fn remove_sw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        if self.hw_breakpoints.contains(&addr) {
            return Ok(true);
        }
        Ok(self.tt.machine.cpu.remove_breakpoint(addr))
    }
}

impl HwBreakpoint for Debuggee<'_> {
    fn add_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.hw_breakpoints.insert(addr);
        self.tt.machine.cpu.add_breakpoint(addr);
        Ok(true)
    }

    fn remove_hw_breakpoint(&mut self, addr: u64, _kind: usize) -> TargetResult<bool, Self> {
        self.hw_breakpoints.remove(&addr);
        Ok(self.tt.machine.cpu.remove_breakpoint(addr))
    }
}

fn watch(addr: u64, len: u64, kind: WatchKind) -> Watch {
    let kind = match kind {
        WatchKind::Write => CpuWatchKind::Write,
        WatchKind::Read => CpuWatchKind::Read,
        WatchKind::ReadWrite => CpuWatchKind::Access,
    };
    Watch { addr, len, kind }
}

impl HwWatchpoint for Debuggee<'_> {
    fn add_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        Ok(self.tt.machine.cpu.add_watch(watch(addr, len, kind)))
    }

    fn remove_hw_watchpoint(&mut self, addr: u64, len: u64, kind: WatchKind) -> TargetResult<bool, Self> {
        Ok(self.tt.machine.cpu.remove_watch(watch(addr, len, kind)))
    }
}

impl MonitorCmd for Debuggee<'_> {
    fn handle_monitor_cmd(&mut self, cmd: &[u8], mut out: ConsoleOutput<'_>) -> Result<(), Self::Error> {
        let cmd = String::from_utf8_lossy(cmd);
        let cpu = &self.tt.machine.cpu;
        match cmd.trim() {
            "regs" | "registers" => gdbstub::outputln!(out, "{}", cpu.dump()),
            "where" | "steps" => {
                gdbstub::outputln!(out, "step {} (instruction {}, {} faults and interrupts delivered), virtual time {} ns", cpu.steps(), cpu.icount, cpu.deliveries, self.tt.machine.virtual_ns());
                if let Some((at, o)) = self.tt.end() {
                    gdbstub::outputln!(out, "the run ends at step {at}: {o:?}");
                }
                if self.tt.can_reverse() {
                    let (n, interval) = self.tt.snapshot_count();
                    gdbstub::outputln!(out, "{n} snapshots, one every {interval} steps");
                }
            }
            _ => {
                gdbstub::outputln!(out, "pintos monitor commands:");
                gdbstub::outputln!(out, "  monitor regs   every register, with segments, descriptor tables and control registers");
                gdbstub::outputln!(out, "  monitor where  the position in the run (steps, instructions, virtual time)");
            }
        }
        Ok(())
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
        let stop = match target.mode {
            Mode::Step => target.tt.step(target.out),
            Mode::ReverseStep => target.tt.step_back(target.out),
            Mode::ReverseContinue => target.tt.cont_back(target.out),
            Mode::Continue => {
                let mut poll = || conn.peek().ok().flatten().is_some();
                target.tt.cont(target.out, &mut poll)
            }
            Mode::RangeStep(start, end) => {
                let mut poll = || conn.peek().ok().flatten().is_some();
                target.tt.step_range(start, end, target.out, &mut poll)
            }
        };
        if stop == Stop::Interrupted {
            let byte = ConnectionExt::read(conn).map_err(WaitForStopReasonError::Connection)?;
            return Ok(Event::IncomingData(byte));
        }
        Ok(Event::TargetStopped(target.reason(stop)))
    }

    fn on_interrupt(_target: &mut Debuggee<'a>) -> Result<Option<Self::StopReason>, &'static str> {
        Ok(Some(SingleThreadStopReason::Signal(Signal::SIGINT)))
    }
}

/// Listens on localhost:`port` (0: any free port), announces the port on stderr, waits for
/// gdb and serves it until the guest's run ends or gdb detaches (then the run goes on
/// without the debugger). Returns how the run ended.
pub fn serve(tt: &mut TimeTravel, port: u16, out: &mut dyn Write) -> Result<Outcome> {
    let listener = TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("listening for gdb on localhost:{port}"))?;
    let port = listener.local_addr()?.port();
    eprintln!("pintos: waiting for gdb on localhost:{port} (target remote localhost:{port})");
    let (conn, _) = listener.accept().context("accepting the gdb connection")?;
    let _ = conn.set_nodelay(true);
    let mut target = Debuggee { tt, out, hw_breakpoints: BTreeSet::new(), mode: Mode::Continue };
    let reason = GdbStub::new(conn).run_blocking::<EventLoop<'_>>(&mut target).map_err(|e| anyhow::anyhow!("gdb session: {e}"))?;
    let Debuggee { tt, out, .. } = target;
    tt.machine.cpu.clear_debug();
    match reason {
        DisconnectReason::Kill => {
            tt.machine.finish();
            Ok(tt.end().map_or(Outcome::PowerOff, |(_, o)| o.clone()))
        }
        // gdb detached (or went away), or the run ended: run on to the end, as QEMU does.
        _ => match tt.cont(out, &mut || false) {
            Stop::Ended(o) => Ok(o),
            other => anyhow::bail!("the run stopped unexpectedly after gdb left: {other:?}"),
        },
    }
}
