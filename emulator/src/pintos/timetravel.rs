//! Moving through a run in both directions: what gdb's reverse execution stands on.
//!
//! A run is deterministic, so any earlier instant can be reached again by restoring a
//! snapshot taken before it and running forward. [`TimeTravel`] drives a machine that way:
//! going forward it takes a snapshot ([`crate::snapshot`]) every `interval` steps of new
//! ground; going back to step `n` it restores the last snapshot at or before `n` and runs
//! on to exactly `n`. Positions are steps ([`crate::cpu::Cpu::steps`]: instructions plus
//! faults and interrupts delivered), so every position is reachable and stepping back
//! once undoes exactly one step forward.
//!
//! `reverse-continue` looks for the last breakpoint or watchpoint hit before the current
//! position: it re-runs the interval before it with the debugger's hooks on, remembering
//! the last hit, and moves one interval further back while there is none. A write to a
//! watched address is found at the step before the writing instruction, as a reversed
//! data breakpoint should: the instruction that did it is the next one.
//!
//! The console shows each byte once: re-running ground already covered prints nothing.

use std::io::Write;

use crate::cpu::debug::{Debug, WatchHit};
use crate::machine::{ns_to_ticks, DebugStop, Machine, Outcome};
use crate::snapshot::Snapshot;

/// Steps between snapshots at first; doubled whenever more than [`MAX_SNAPSHOTS`] are held.
pub const DEFAULT_INTERVAL: u64 = 1 << 20;
/// Snapshots kept before the interval doubles (every other one is then dropped).
pub const MAX_SNAPSHOTS: usize = 256;
/// How far before a backward target [`TimeTravel::goto`] keeps an extra snapshot.
const NEAR: u64 = 4096;
/// Steps per slice when nothing else bounds it (between checks for a gdb interrupt).
const SLICE: u64 = 200_000;

/// Why moving through the run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The requested step was reached (a step, or a `goto`).
    Reached,
    /// Before the instruction at this linear address, which has a breakpoint.
    Breakpoint(u64),
    /// A watchpoint fired (going forward: after the access; going back: before it).
    Watch(WatchHit),
    /// The run ended here (going forward).
    Ended(Outcome),
    /// The start of the run (going back with nothing found).
    Start,
    /// The caller asked to stop (gdb's Ctrl-C).
    Interrupted,
}

/// A machine that can go back ([`TimeTravel::replay`]) or only forward ([`TimeTravel::live`]).
pub struct TimeTravel {
    pub machine: Machine,
    /// Snapshots by ascending step; empty for a forward-only run.
    snapshots: Vec<(Snapshot, usize)>,
    reverse: bool,
    interval: u64,
    /// A snapshot off the grid, just before where the last backward move went.
    recent: Option<(Snapshot, usize)>,
    /// Virtual-time deadline in ticks (the run's `-T`), if any.
    deadline: Option<u64>,
    /// Where and how the run ended, once it has.
    end: Option<(u64, Outcome)>,
    /// Console output up to the furthest step reached; `console_at` of it is where the
    /// machine is now.
    console: Vec<u8>,
    console_at: usize,
    /// Re-running printed something else once (reported once).
    diverged: bool,
    /// Snapshots taken and restores made, and the bytes the snapshots added (for the bench).
    pub stats: TravelStats,
}

/// What time travel cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct TravelStats {
    pub snapshots_taken: u64,
    pub restores: u64,
    /// Memory pages and disk sectors the snapshots copied, in bytes.
    pub snapshot_bytes: u64,
    /// Steps executed again after a restore.
    pub replayed_steps: u64,
}

impl TimeTravel {
    /// Forward only (a live `--gdb` run: its disks are the user's files).
    pub fn live(machine: Machine) -> TimeTravel {
        TimeTravel { machine, snapshots: Vec::new(), reverse: false, interval: DEFAULT_INTERVAL, recent: None, deadline: None, end: None, console: Vec::new(), console_at: 0, diverged: false, stats: TravelStats::default() }
    }

    /// Both directions, on a machine fresh from power-on: the disks go copy-on-write and
    /// the first snapshot is taken now. `timeout` is the run's virtual-time limit, so the
    /// run ends where the recorded one did.
    pub fn replay(mut machine: Machine, timeout: Option<std::time::Duration>, interval: u64) -> Result<TimeTravel, crate::snapshot::SnapshotError> {
        machine.disks_copy_on_write();
        let rate = machine.bus.rate;
        let deadline = timeout.map(|t| ns_to_ticks(t.as_nanos().min(u64::MAX as u128) as u64, rate));
        let mut t = TimeTravel { machine, snapshots: Vec::new(), reverse: true, interval: interval.max(1), recent: None, deadline, end: None, console: Vec::new(), console_at: 0, diverged: false, stats: TravelStats::default() };
        t.take_snapshot()?;
        Ok(t)
    }

    /// The machine back, wherever it is now.
    pub fn into_machine(self) -> Machine {
        self.machine
    }

    pub fn can_reverse(&self) -> bool {
        self.reverse
    }

    /// The current position.
    pub fn steps(&self) -> u64 {
        self.machine.cpu.steps()
    }

    /// Where the run ended, if it has been run that far.
    pub fn end(&self) -> Option<&(u64, Outcome)> {
        self.end.as_ref()
    }

    /// Snapshots held and the interval between them.
    pub fn snapshot_count(&self) -> (usize, u64) {
        (self.snapshots.len(), self.interval)
    }

    fn take_snapshot(&mut self) -> Result<(), crate::snapshot::SnapshotError> {
        let before = self.snapshots.last().map(|(s, _)| s);
        let snap = self.machine.snapshot()?;
        self.stats.snapshots_taken += 1;
        self.stats.snapshot_bytes += snap.memory.unshared_bytes(before.map(|s| &s.memory));
        self.snapshots.push((snap, self.console_at));
        if self.snapshots.len() > MAX_SNAPSHOTS {
            self.interval *= 2;
            let iv = self.interval;
            // Keep the first, every one on the new grid, and the newest.
            let last = self.snapshots.len() - 1;
            let mut i = 0;
            self.snapshots.retain(|(s, _)| {
                let keep = i == 0 || i == last || s.steps().is_multiple_of(iv);
                i += 1;
                keep
            });
        }
        Ok(())
    }

    /// Moves console output produced since the last call into the record, showing what
    /// is new ground.
    fn drain_console(&mut self, out: &mut dyn Write) {
        let bytes = self.machine.take_console();
        if bytes.is_empty() {
            return;
        }
        let known = self.console.len() - self.console_at;
        let same = bytes.len().min(known);
        if bytes[..same] != self.console[self.console_at..self.console_at + same] && !self.diverged {
            // Re-running covered ground must print what it printed the first time; if it
            // does not, say so once rather than show a history that never happened.
            self.diverged = true;
            eprintln!("pintos: internal error: re-running the recorded run printed other console output at step {} (please report it with the replay file)", self.machine.cpu.steps());
        }
        if bytes.len() > known {
            let fresh = &bytes[known..];
            let _ = out.write_all(fresh);
            let _ = out.flush();
            self.console.extend_from_slice(fresh);
        }
        self.console_at += bytes.len();
    }

    /// Runs forward to step `target` (or forever), stopping at debugger hooks when
    /// `hooks`, and at the run's end. `interrupted` is polled between slices.
    fn run_forward(&mut self, target: Option<u64>, hooks: bool, out: &mut dyn Write, interrupted: &mut dyn FnMut() -> bool) -> Stop {
        let saved = if hooks { None } else { Some(self.hide_hooks()) };
        let stop = loop {
            let now = self.steps();
            if let Some((at, o)) = &self.end {
                if now >= *at {
                    break Stop::Ended(o.clone());
                }
            }
            if target.is_some_and(|t| now >= t) {
                break Stop::Reached;
            }
            if interrupted() {
                break Stop::Interrupted;
            }
            let mut max = SLICE;
            if let Some(t) = target {
                max = max.min(t - now);
            }
            let frontier = self.snapshots.last().map_or(0, |(s, _)| s.steps());
            if self.reverse {
                // Land exactly on the snapshot grid in new ground.
                let next = (now / self.interval + 1) * self.interval;
                max = max.min(next - now);
            }
            if let Some(d) = self.deadline {
                if self.machine.cpu.now() >= d {
                    self.end = Some((now, Outcome::Timeout));
                    continue;
                }
            }
            let outcome = self.machine.step_slice(max, self.deadline);
            self.drain_console(out);
            let after = self.steps();
            if now < frontier {
                self.stats.replayed_steps += after.min(frontier) - now;
            }
            if let Some(o) = outcome {
                self.end = Some((after, o.clone()));
                self.machine.finish();
                break Stop::Ended(o);
            }
            if self.reverse && after > frontier && after.is_multiple_of(self.interval) {
                if let Err(e) = self.take_snapshot() {
                    eprintln!("pintos: snapshot failed: {e}");
                }
            }
            match self.machine.take_debug_stop() {
                Some(DebugStop::Breakpoint(pc)) => break Stop::Breakpoint(pc),
                Some(DebugStop::Watch(hit)) => break Stop::Watch(hit),
                None => {}
            }
        };
        if let Some(d) = saved {
            self.show_hooks(d);
        }
        stop
    }

    /// Takes the debugger's hooks out of the CPU (while it re-runs ground to get somewhere).
    fn hide_hooks(&mut self) -> Debug {
        let d = std::mem::take(&mut self.machine.cpu.debug);
        self.machine.cpu.flush_fast_paths();
        d
    }

    fn show_hooks(&mut self, d: Debug) {
        self.machine.cpu.debug = d;
        self.machine.cpu.debug.hit = None;
        self.machine.cpu.flush_fast_paths();
    }

    /// One step forward (gdb's stepi): a breakpoint at the current instruction does not
    /// stop it; a watchpoint it hits is reported.
    pub fn step(&mut self, out: &mut dyn Write) -> Stop {
        let target = self.steps() + 1;
        self.machine.cpu.resume_over_breakpoint();
        match self.run_forward(Some(target), true, out, &mut || false) {
            // A breakpoint stop before the step means an interrupt went first: finish it.
            Stop::Breakpoint(_) if self.steps() < target => self.run_forward(Some(target), false, out, &mut || false),
            s => s,
        }
    }

    /// Runs forward until a breakpoint, a watchpoint, the end, or `interrupted`.
    pub fn cont(&mut self, out: &mut dyn Write, interrupted: &mut dyn FnMut() -> bool) -> Stop {
        self.machine.cpu.resume_over_breakpoint();
        self.run_forward(None, true, out, interrupted)
    }

    /// Range stepping (gdb's `next` and `step` over a line): runs at least one step, and
    /// on while the next instruction is in `[start, end)`; stops there, or at a
    /// breakpoint, a watchpoint, the end or `interrupted`.
    pub fn step_range(&mut self, start: u64, end: u64, out: &mut dyn Write, interrupted: &mut dyn FnMut() -> bool) -> Stop {
        let first = self.step(out);
        if first != Stop::Reached || !(start..end).contains(&self.machine.cpu.pc()) {
            return first;
        }
        self.machine.cpu.set_step_range(Some((start, end)));
        let stop = self.cont(out, interrupted);
        self.machine.cpu.set_step_range(None);
        match stop {
            // Left the range: a completed step, unless a real breakpoint is there too.
            Stop::Breakpoint(pc) if !self.machine.cpu.debug.breakpoints().contains(&pc) => Stop::Reached,
            s => s,
        }
    }

    /// Runs forward until step `target`, a breakpoint, a watchpoint or the end.
    pub fn cont_until(&mut self, target: u64, out: &mut dyn Write) -> Stop {
        self.machine.cpu.resume_over_breakpoint();
        self.run_forward(Some(target), true, out, &mut || false)
    }

    /// Moves to step `target` (either direction), ignoring breakpoints and watchpoints.
    pub fn goto(&mut self, target: u64, out: &mut dyn Write) -> Stop {
        let now = self.steps();
        if target < now {
            if !self.reverse {
                return Stop::Start;
            }
            let i = self.snapshots.partition_point(|(s, _)| s.steps() <= target);
            let i = i.max(1) - 1;
            let grid = &self.snapshots[i];
            let (snap, console_at) = match &self.recent {
                Some(r) if r.0.steps() <= target && r.0.steps() > grid.0.steps() => r,
                _ => grid,
            };
            let console_at = *console_at;
            if let Err(e) = self.machine.restore(snap) {
                eprintln!("pintos: restoring a snapshot failed: {e}");
                return Stop::Start;
            }
            self.stats.restores += 1;
            self.console_at = console_at;
            // Going back, the same stretch is visited again and again (reverse-stepi
            // through a function): keep a snapshot just before the target, so the next
            // steps back re-run a few thousand steps, not up to a whole interval.
            if target - self.steps() > 2 * NEAR {
                self.run_forward(Some(target - NEAR), false, out, &mut || false);
                if let Ok(snap) = self.machine.snapshot() {
                    self.recent = Some((snap, self.console_at));
                }
            }
        }
        self.run_forward(Some(target), false, out, &mut || false)
    }

    /// One step back (gdb's reverse-stepi).
    pub fn step_back(&mut self, out: &mut dyn Write) -> Stop {
        let now = self.steps();
        if now == 0 || !self.reverse {
            return Stop::Start;
        }
        self.goto(now - 1, out)
    }

    /// Back to the last breakpoint or watchpoint hit before now (gdb's reverse-continue);
    /// to the start of the run if there is none.
    pub fn cont_back(&mut self, out: &mut dyn Write) -> Stop {
        if !self.reverse {
            return Stop::Start;
        }
        let mut until = self.steps();
        loop {
            // The last snapshot strictly before `until`.
            let i = self.snapshots.partition_point(|(s, _)| s.steps() < until);
            if i == 0 {
                self.goto(0, out);
                return Stop::Start;
            }
            let from = self.snapshots[i - 1].0.steps();
            self.goto(from, out);
            // Re-run [from, until) with the hooks on; remember the last hit. A breakpoint
            // on the snapshot's own instruction counts (nothing before `from` saw it).
            let mut last: Option<(u64, Stop)> = None;
            let mut first = true;
            while self.steps() < until {
                if !std::mem::take(&mut first) {
                    self.machine.cpu.resume_over_breakpoint();
                }
                match self.run_forward(Some(until), true, out, &mut || false) {
                    Stop::Breakpoint(pc) => last = Some((self.steps(), Stop::Breakpoint(pc))),
                    // The write happened in the step that ended here: stop before it.
                    Stop::Watch(hit) => last = Some((self.steps() - 1, Stop::Watch(hit))),
                    _ => break,
                }
            }
            if let Some((at, why)) = last {
                self.goto(at, out);
                return why;
            }
            until = from;
        }
    }
}
