//! The `pintos` command: a drop-in for the Pintos-KAIST utility that runs the kernel on
//! our machine instead of QEMU.
//!
//! It follows the utility's conventions: `./os.dsk` from the working directory (or
//! `--os-disk`) is the boot disk (without either, the Rust kernel's os.dsk that
//! `cargo build` writes to `target/pintos/os.dsk`, see [`builtin_os_disk`]), and a copy of it gets the kernel command line written into
//! its boot sector; `./fs.dsk` and `./swap.dsk` are used when they exist; a disk given as a
//! number N is a fresh temporary disk of N × 0xfc000 bytes; put files travel on a
//! temporary scratch disk. Disks are attached as QEMU's `index=0..3`: hd0:0 boot,
//! hd0:1 file system, hd1:0 scratch, hd1:1 swap. The serial console goes to stdout.
//!
//! Exit statuses: 1 for a bad option, image or file (one line on stderr). Every guest
//! outcome exits 0 by default, as with the KAIST utility (which ignores QEMU's status):
//! the test Makefiles run without `-k`, so any other status would stop `make check` at
//! the first kernel that panics into a triple fault or times out. A get file the kernel
//! did not write is reported on stderr and skipped, also with status 0. With
//! `--exit-status`: 0 the guest powered off; 1 a get file is missing; 3 triple fault;
//! 4 halted forever (HLT with interrupts off, or idle with no timer); 5 the guest reset
//! the machine; 124 timeout (after printing `TIMEOUT`, as the KAIST utility does); for
//! isa-debug-exit, the status QEMU would give ((v << 1) | 1).

pub mod backtrace;
pub mod gdb;
pub mod gdb_arch;
pub mod options;
pub mod replay;
pub mod timetravel;
pub mod scratch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::devices::ide::Disk;
use crate::machine::{Config, Limits, Machine, Outcome};
use crate::observe::Observer;
pub use options::{DiskSpec, Options};

/// Room left on the scratch disk for files the kernel writes back with `get`.
const GET_ROOM: u64 = 16 << 20;

/// Exit statuses (see the module docs).
pub mod status {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const TRIPLE_FAULT: i32 = 3;
    pub const HALTED: i32 = 4;
    pub const RESET: i32 = 5;
    pub const TIMEOUT: i32 = 124;
}

fn open_disk(spec: &DiskSpec, what: &str) -> Result<Disk> {
    match spec {
        DiskSpec::File(p) => Disk::open(p, false).with_context(|| format!("{what} disk {}", p.display())),
        DiskSpec::Size(n) => {
            if *n == 0 || *n > 4096 {
                bail!("{what} disk size {n} is out of range (1..=4096 units of 0xfc000 bytes)");
            }
            Disk::zeroed(n * options::DISK_UNIT).with_context(|| format!("{what} disk of size {n}"))
        }
    }
}

/// Opens a file-system or swap disk, except that a named image file that does not exist
/// leaves the slot empty (with a note on stderr), as the KAIST utility does: it attaches
/// `--fs-disk=FILE` only if FILE exists, and the kernel then reports the missing disk
/// itself (e.g. `hd0:1 (hdb) not present`), which is what the test checkers expect.
fn attach_if_present(spec: DiskSpec, what: &str) -> Option<Result<Disk>> {
    if let DiskSpec::File(p) = &spec {
        if !p.exists() {
            eprintln!("pintos: {what} disk {} does not exist; not attached", p.display());
            return None;
        }
    }
    Some(open_disk(&spec, what))
}

/// `Some(spec)` as given, or the default file in the working directory if it exists.
fn default_disk(given: &Option<DiskSpec>, file: &str) -> Option<DiskSpec> {
    given.clone().or_else(|| Path::new(file).exists().then(|| DiskSpec::File(PathBuf::from(file))))
}

/// The boot disk `cargo build` makes (disk-images: our boot sector + the Rust Pintos
/// kernel), found relative to the executable `exe`: `<target>/pintos/os.dsk`, one level
/// up from `target/<profile>/pintos` or two levels up from `target/<triple>/<profile>/`
/// and `target/<profile>/deps/` (test executables).
pub fn builtin_os_disk(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    [dir.join("../pintos/os.dsk"), dir.join("../../pintos/os.dsk")].into_iter().find(|p| p.is_file())
}

/// The boot disk to use: `--os-disk`, else `./os.dsk` (as the KAIST utility), else the
/// built-in one (so `pintos -- -q run NAME` works anywhere after `cargo build`).
pub fn os_disk_path(opts: &Options) -> PathBuf {
    let local = PathBuf::from("os.dsk");
    if let Some(p) = &opts.os_disk {
        return p.clone();
    }
    if local.exists() {
        return local;
    }
    std::env::current_exe().ok().and_then(|exe| builtin_os_disk(&exe)).unwrap_or(local)
}

/// Whether `path` is the boot disk `cargo build` made next to this executable (our
/// kernel), however it was named.
fn is_builtin_os_disk(path: &Path) -> bool {
    let builtin = std::env::current_exe().ok().and_then(|exe| builtin_os_disk(&exe));
    match (builtin.and_then(|b| b.canonicalize().ok()), path.canonicalize().ok()) {
        (Some(b), Some(p)) => b == p,
        _ => false,
    }
}

/// What `prepare` set up that the run's end needs.
pub struct Prepared {
    pub config: Config,
    /// Bytes of PUT records at the start of the scratch disk (where GET records follow).
    pub scratch_start: usize,
}

/// Size (in 0xfc000-byte units) of the temporary file-system disk a run of our kernel with
/// files to put or get gets when it names none and there is no ./fs.dsk.
pub const TEMP_FS_UNITS: u64 = 2;

/// Builds the machine configuration from the options: disks, command line, puts.
pub fn prepare(opts: &Options) -> Result<Prepared> {
    let os_path = os_disk_path(opts);
    let mut os = std::fs::read(&os_path).with_context(|| format!("boot disk {} (run from a Pintos build directory or pass --os-disk)", os_path.display()))?;
    if os.len() < 512 {
        bail!("boot disk {} is smaller than one sector", os_path.display());
    }
    if os[510..512] != [0x55, 0xaa] {
        bail!("boot disk {} has no boot signature (0x55aa at offset 510)", os_path.display());
    }
    scratch::set_command_line(&mut os, &options::kernel_argv(opts))?;
    let os = Disk::from_bytes(os).context("boot disk")?;

    let mut fs = default_disk(&opts.fs_disk, "fs.dsk").and_then(|s| attach_if_present(s, "file-system")).transpose()?;
    if fs.is_none() && !(opts.put.is_empty() && opts.get.is_empty()) && is_builtin_os_disk(&os_path) {
        // Files to copy need a file system to copy them to: without any disk for it our
        // kernel could only panic, so `pintos -p PROG -- -q -f run PROG` gets a
        // temporary one (what `--fs-disk=2` gives). Other kernels get exactly the disks
        // the KAIST utility would attach (it attaches none here), since adding one
        // renumbers the BIOS drives they may count on.
        fs = Some(open_disk(&DiskSpec::Size(TEMP_FS_UNITS), "file-system")?);
    }
    let swap = default_disk(&opts.swap_disk, "swap.dsk").and_then(|s| attach_if_present(s, "swap")).transpose()?;

    let mut puts = Vec::new();
    for p in &opts.put {
        let data = std::fs::read(&p.host).with_context(|| format!("put file {}", p.host.display()))?;
        puts.push((p.guest.clone(), data));
    }
    let records = scratch::put_records(&puts)?;
    let scratch_start = records.len();
    let scratch = if !opts.put.is_empty() || !opts.get.is_empty() || opts.scratch_disk.is_some() {
        let min = match &opts.scratch_disk {
            Some(DiskSpec::Size(n)) => n * options::DISK_UNIT,
            Some(DiskSpec::File(p)) => bail!("a scratch disk file ({}) is not supported; give a size", p.display()),
            None => 0,
        };
        let want = (records.len() as u64 + if opts.get.is_empty() { 0 } else { GET_ROOM }).max(min).max(512);
        let mut bytes = records;
        bytes.resize(want.div_ceil(512) as usize * 512, 0);
        Some(Disk::from_bytes(bytes).context("scratch disk")?)
    } else {
        None
    };
    let config = Config {
        memory: opts.memory << 20,
        rate: opts.rate,
        epoch: opts.epoch,
        disks: [[Some(os), fs], [scratch, swap]],
        disk_timing: opts.disk_timing(),
    };
    Ok(Prepared { config, scratch_start })
}

/// How a run ended, for callers that keep the console and the diagnostics apart (the test
/// harness runs many machines at once and files each run's diagnostics with its output).
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The exit status the `pintos` command gives for this run (see the module docs).
    pub status: i32,
    /// Why the machine stopped.
    pub outcome: Outcome,
    /// Lines the `pintos` command prints on stderr (triple-fault dump, unimplemented
    /// instructions, a machine that can never continue).
    pub diagnostics: Vec<String>,
    /// What the hardware counted (benchmarks and the grader read them).
    pub figures: RunFigures,
}

/// What a run cost and what the emulated hardware saw.
#[derive(Clone, Debug, Default)]
pub struct RunFigures {
    pub instructions: u64,
    /// The clock rate: instructions per virtual second.
    pub rate: u64,
    /// Virtual time at the end, in nanoseconds.
    pub virtual_ns: u64,
    /// Host time the machine ran.
    pub host: Duration,
    /// Exceptions taken, by vector (14: page faults).
    pub exceptions: std::collections::BTreeMap<u8, u64>,
    /// Each drive's traffic, `[channel][master/slave]` (hd1:1 is the swap disk).
    pub disks: [[crate::devices::ide::DriveStats; 2]; 2],
}

/// Runs the kernel as the options say, streaming the console to `out`. Returns the exit
/// status; diagnostics go to stderr.
pub fn run(opts: &Options, out: &mut dyn Write) -> Result<i32> {
    let report = match &opts.record {
        Some(path) => replay::record(opts, out, path)?,
        None => run_report(opts, out)?,
    };
    for line in &report.diagnostics {
        eprintln!("pintos: {line}");
    }
    Ok(report.status)
}

/// The slowest host the default host-time guard allows for: instructions per second.
pub const SLOWEST_HOST_IPS: u64 = 50_000_000;

/// The host-time guard for a virtual timeout of `timeout` at `rate` instructions per
/// virtual second, when none is given: long enough for a host that runs only
/// SLOWEST_HOST_IPS to reach the virtual timeout, and never shorter than the timeout.
/// Every hang reaches the virtual timeout first (virtual time is instructions, and halted
/// time is skipped), so the guard only backs that up; tied to host speed, it would turn a
/// deterministic pass on a loaded host into a TIMEOUT (mlfqs-recent-1 computes for 190 of
/// its 480 virtual seconds: 76 G instructions at the default rate).
pub fn default_host_guard(timeout: Duration, rate: u64) -> Duration {
    let factor = (rate as f64 / SLOWEST_HOST_IPS as f64).max(1.0);
    timeout.mul_f64(factor)
}

/// Runs the kernel as the options say, streaming the console to `out`, and returns the
/// exit status, the outcome and the diagnostics instead of printing them.
pub fn run_report(opts: &Options, out: &mut dyn Write) -> Result<RunReport> {
    Ok(run_observed(opts, out, None)?.0)
}

/// [`run_report`] with `observer` watching the machine from power-on
/// ([`crate::observe`]); it is handed back after the run.
pub fn run_observed(opts: &Options, out: &mut dyn Write, observer: Option<Box<dyn Observer>>) -> Result<(RunReport, Option<Box<dyn Observer>>)> {
    run_prepared(opts, prepare(opts)?, out, observer)
}

/// The machine `opts` describe, built from `prepared`, with `observer` watching from
/// power-on, ready to run (replay's `--at` runs it to an instruction).
pub fn build_machine(opts: &Options, prepared: Prepared, observer: Option<Box<dyn Observer>>) -> Result<Machine> {
    let mut machine = Machine::new(prepared.config)?;
    if let Some(o) = observer {
        machine.observe(o);
    }
    if let Some(seed) = opts.jitter {
        machine.set_jitter(seed);
    }
    machine.cpu.spin_skip = !opts.no_spin_skip;
    machine.bus.com1.push_input(&opts.console_input);
    Ok(machine)
}

/// [`run_observed`] on a machine configuration `prepare` made from `opts` (recording and
/// replay look at the disks first).
pub fn run_prepared(opts: &Options, prepared: Prepared, out: &mut dyn Write, observer: Option<Box<dyn Observer>>) -> Result<(RunReport, Option<Box<dyn Observer>>)> {
    let started = std::time::Instant::now();
    let scratch_start = prepared.scratch_start;
    let mut machine = build_machine(opts, prepared, observer)?;
    let timeout = opts.timeout.map(Duration::from_secs);
    let host_time = match opts.host_timeout {
        Some(0) => None,
        Some(sec) => Some(Duration::from_secs(sec)),
        None => timeout.map(|t| default_host_guard(t, opts.rate)),
    };
    let limits = Limits { virtual_time: timeout, host_time, instructions: None };
    // Under gdb the user controls the run: no time limits (the KAIST utility also drops
    // its timeout with --gdb).
    let mut scan = backtrace::Scan::new(out);
    let outcome = if opts.gdb {
        let mut tt = timetravel::TimeTravel::live(machine);
        let outcome = gdb::serve(&mut tt, opts.gdb_port, &mut scan)?;
        machine = tt.into_machine();
        outcome
    } else {
        machine.run(limits, |bytes| {
            let _ = scan.write_all(bytes);
            let _ = scan.flush();
            true
        })
    };
    let stacks = std::mem::take(&mut scan.stacks);
    let out = scan.out;
    let mut diagnostics = Vec::new();
    // A kernel panic's backtrace, named, when the kernel's ELF is next to its os.dsk.
    let stacks = backtrace::call_stacks(&stacks);
    if let (false, Some(elf)) = (stacks.is_empty(), backtrace::kernel_elf(&os_disk_path(opts))) {
        for (i, addrs) in stacks.iter().enumerate() {
            diagnostics.push(format!("backtrace {} of {} (symbols from {}):", i + 1, stacks.len(), elf.display()));
            match backtrace::symbolise(&elf, addrs) {
                Ok(lines) => diagnostics.extend(lines.into_iter().map(|l| format!("  {l}"))),
                Err(e) => diagnostics.push(format!("  cannot read the kernel's symbols: {e}")),
            }
        }
    }
    let code = match &outcome {
        Outcome::PowerOff => status::OK,
        Outcome::DebugExit(c) => *c as i32,
        Outcome::Reset => status::RESET,
        Outcome::Timeout | Outcome::HostTimeout | Outcome::InstructionLimit => {
            let _ = out.write_all(b"TIMEOUT");
            let _ = out.flush();
            status::TIMEOUT
        }
        Outcome::TripleFault(dump) => {
            diagnostics.push(dump.trim_end().to_string());
            status::TRIPLE_FAULT
        }
        Outcome::HaltedForever | Outcome::Idle => {
            diagnostics.push("the guest halted with interrupts disabled and nothing pending; it can never continue".to_string());
            status::HALTED
        }
    };
    // Gaps in the emulator must be visible: every unimplemented instruction the guest hit
    // (each raised #UD in the guest) is listed.
    if !machine.cpu.stats.unimplemented.is_empty() {
        let list: Vec<String> = machine.cpu.stats.unimplemented.iter().map(|(code, n)| format!("{code} ×{n}")).collect();
        diagnostics.push(format!("unimplemented instructions hit (each raised #UD): {}", list.join(", ")));
    }
    if opts.stats {
        diagnostics.extend(stats_lines(&machine, started.elapsed()));
    }
    if !opts.get.is_empty() {
        let disk = machine.bus.ide.disk_mut(1, 0).context("scratch disk vanished")?;
        let mut bytes = Vec::with_capacity((disk.sectors() * 512) as usize);
        let mut sector = [0u8; 512];
        for lba in 0..disk.sectors() {
            disk.read_sector(lba, &mut sector).context("reading the scratch disk")?;
            bytes.extend_from_slice(&sector);
        }
        let names: Vec<String> = opts.get.iter().map(|g| g.guest.clone()).collect();
        match scratch::get_records(&bytes, scratch_start, &names) {
            Ok(files) => {
                for (g, data) in opts.get.iter().zip(files) {
                    std::fs::write(&g.host, data).with_context(|| format!("writing {}", g.host.display()))?;
                }
            }
            // The KAIST utility prints "bad signature on scratch disk" and carries on.
            Err(e) if !opts.exit_status => diagnostics.push(format!("{e:#}")),
            Err(e) => return Err(e.into()),
        }
    }
    // Like the KAIST utility, the command succeeds whatever the guest did, so `make check`
    // (run without -k) goes on past a crashed kernel; --exit-status gives the details.
    let status = if opts.exit_status { code } else { status::OK };
    let ide = &machine.bus.ide;
    let figures = RunFigures {
        instructions: machine.cpu.icount,
        rate: opts.rate,
        virtual_ns: machine.virtual_ns(),
        host: started.elapsed(),
        exceptions: machine.cpu.stats.exceptions.clone(),
        disks: [[ide.stats(0, 0), ide.stats(0, 1)], [ide.stats(1, 0), ide.stats(1, 1)]],
    };
    Ok((RunReport { status, outcome, diagnostics, figures }, machine.bus.observer.take()))
}

/// The `--stats` figures: where the run's virtual and host time went.
fn stats_lines(machine: &Machine, host: Duration) -> Vec<String> {
    let cpu = &machine.cpu;
    let rate = machine.bus.rate as f64;
    let secs = host.as_secs_f64();
    let mut lines = vec![
        format!(
            "stats: {} instructions in {:.3} s host time ({:.1} MIPS); virtual time {:.3} s ({:.3} s busy, {:.3} s halted)",
            cpu.icount,
            secs,
            cpu.icount as f64 / secs.max(1e-9) / 1e6,
            cpu.now() as f64 / rate,
            cpu.icount as f64 / rate,
            cpu.idle as f64 / rate
        ),
        format!(
            "stats: {} interrupts, exceptions {:?}, {} blocks decoded, {} code pages invalidated, {} TLB fills, {} TLB flushes, {} instructions skipped in recognised loops (busy waits, memset, memcpy)",
            cpu.stats.interrupts,
            cpu.stats.exceptions,
            cpu.stats.blocks_decoded,
            cpu.stats.code_invalidations,
            cpu.tlb.fills,
            cpu.tlb.flushes,
            cpu.stats.spin_skipped
        ),
    ];
    let timing = machine.bus.ide.timing();
    lines.push(format!(
        "stats: disks: {} µs per command, {} µs per sector; the CPU was halted waiting for a disk for {:.3} s",
        timing.command_ns as f64 / 1e3,
        timing.sector_ns as f64 / 1e3,
        machine.bus.ide.state().halted_wait_ns as f64 / 1e9
    ));
    for (channel, drive) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        let s = machine.bus.ide.stats(channel, drive);
        if s.commands > 0 {
            lines.push(format!(
                "stats: hd{channel}:{drive} {} commands, {} sectors read, {} written, {} errors; busy {:.3} s, CPU halted waiting for it {:.3} s",
                s.commands,
                s.sectors_read,
                s.sectors_written,
                s.errors,
                s.busy_ns as f64 / 1e9,
                s.halted_wait_ns as f64 / 1e9
            ));
        }
    }
    lines
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    #[test]
    fn host_guard_lets_a_slow_host_reach_the_virtual_timeout() {
        let t = Duration::from_secs(480);
        // 8 × -T at the default 400 M: 76 G instructions of mlfqs-recent-1 fit at 50 MIPS.
        assert_eq!(default_host_guard(t, options::DEFAULT_RATE), Duration::from_secs(8 * 480));
        assert_eq!(default_host_guard(t, 1_000_000_000), Duration::from_secs(20 * 480));
        // Never below the timeout itself, however low the rate.
        assert_eq!(default_host_guard(t, 1_000_000), t);
    }
}
