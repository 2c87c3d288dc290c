//! Behaviour checks: grading what the emulated hardware saw, not only what the kernel
//! printed. A [`Watcher`] observes the machine during a test (page faults, page tables,
//! disk sectors and their hashes, system calls, the kernel's claims from the claims port,
//! docs/claims.md) and each named check in [`CHECKS`] turns those facts into a verdict
//! with a one-line reason a student can act on.

use emulator::observe::DiskRole;

/// A behaviour check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckVerdict {
    Pass,
    Fail,
    /// The check does not apply or cannot run (e.g. it needs claims and the kernel made
    /// none); the reason says why. Never counted as a pass.
    Skipped,
}

impl CheckVerdict {
    pub fn name(self) -> &'static str {
        match self {
            CheckVerdict::Pass => "pass",
            CheckVerdict::Fail => "fail",
            CheckVerdict::Skipped => "skipped",
        }
    }
}

/// One check's result for one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub name: &'static str,
    pub verdict: CheckVerdict,
    /// Why it failed or was skipped (e.g. `lazy-load: page 0x401000 present before its
    /// first access`); for a pass, what was checked.
    pub reason: String,
}

/// What the hardware counted in one run, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figures {
    pub instructions: u64,
    pub virtual_ns: u64,
    pub page_faults: u64,
    /// Sectors (read, written) per disk role.
    pub sectors: [(DiskRole, u64, u64); 4],
}

pub mod checks;
pub mod elf;
mod watcher;

pub use checks::{CheckSpec, CHECKS};
pub use watcher::{evaluate, Facts, Watcher};
#[cfg(test)]
mod tests;
