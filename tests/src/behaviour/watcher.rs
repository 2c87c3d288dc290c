//! The observer that collects a test's facts while it runs.

use emulator::memory::PhysMemory;
use emulator::observe::{Event, Observer, Recorder};

use super::{CheckResult, CheckSpec};
use crate::catalogue::{Project, Test};

/// What the run showed (filled in by [`Watcher`]).
#[derive(Debug, Default)]
pub struct Facts {
    pub page_faults: u64,
}

/// Watches one run.
pub struct Watcher {
    facts: Facts,
    timeline: Option<Recorder>,
}

impl Watcher {
    /// `executables`: (guest name, ELF bytes) of every program the test puts.
    /// `timeline`: also keep every event (for `--trace`).
    pub fn new(_executables: Vec<(String, Vec<u8>)>, timeline: bool) -> Watcher {
        Watcher { facts: Facts::default(), timeline: timeline.then(Recorder::default) }
    }

    /// The facts, and the timeline when one was asked for.
    pub fn finish(self) -> (Facts, Option<Recorder>) {
        (self.facts, self.timeline)
    }
}

impl Observer for Watcher {
    fn event(&mut self, icount: u64, event: Event<'_>, mem: Option<&PhysMemory>) {
        if let Some(t) = &mut self.timeline {
            t.event(icount, event, mem);
        }
    }
}

/// The verdict of every check that concerns `test`.
pub fn evaluate(_test: &Test, _project: Project, _facts: &Facts, _checks: &[&CheckSpec]) -> Vec<CheckResult> {
    Vec::new()
}
