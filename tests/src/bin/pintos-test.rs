//! `pintos-test`: run catalogue tests on the emulator and check them as Pintos'
//! `make check` does (`pintos-test tests/threads/alarm --os-disk build/os.dsk`).
//! Also reached as `pintos test ...`: the `pintos` launcher hands that subcommand to this
//! executable (see emulator/src/bin/pintos.rs).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;
use pintos_tests::behaviour::CHECKS;
use pintos_tests::catalogue::Project;
use pintos_tests::report::{self, json, junit, trace, Report};
use pintos_tests::runner::{self, Partition, TestRun};
use pintos_tests::grade;

/// `print!` that stops quietly when stdout is gone (`pintos-test --list | head`): exit
/// status 141, as a process killed by SIGPIPE.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if write!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(141);
        }
    }};
}

/// `println!` that stops quietly when stdout is gone.
macro_rules! sayln {
    () => { say!("\n") };
    // One write for the line and its newline: worker threads print whole lines.
    ($($arg:tt)*) => { say!("{}\n", format_args!($($arg)*)) };
}

#[derive(Parser, Debug)]
#[command(name = "pintos-test", about = "Run Pintos tests on the deterministic emulator and check them like `make check`")]
struct Args {
    /// Run the tests whose path starts with one of these (e.g. tests/threads/alarm);
    /// default: every test of the project.
    prefixes: Vec<String>,
    /// Directory for tests/.../NAME.output, .errors and .result, plus `results` (and
    /// `grade` with --grade).
    #[arg(long, default_value = "pintos-test-out")]
    out: PathBuf,
    /// Tests to run at once (default: every core).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Boot disk with the kernel (default: ./os.dsk, else the built-in kernel that
    /// `cargo build` writes to target/pintos/os.dsk, as the `pintos` launcher does).
    #[arg(long = "os-disk")]
    os_disk: Option<PathBuf>,
    /// Which project's build this kernel is: decides the test set, the disks each run
    /// gets, the kernel flags and the grade weights. Default for the built-in kernel:
    /// userprog-extra when every prefix is under tests/userprog or tests/filesys, vm when
    /// every prefix is under tests/vm, else threads; for any other boot disk vm (a full
    /// KAIST build).
    #[arg(long, value_enum)]
    project: Option<Project>,
    /// Directory to search for test programs and put files (repeatable; default: the
    /// os.dsk's directory and the source tree two levels above it).
    #[arg(long = "search")]
    search: Vec<PathBuf>,
    /// Directory of built test programs, looked up by name (repeatable; default for the
    /// built-in kernel: the `user` directory next to its os.dsk, e.g. target/pintos/user).
    /// Lets another build of the built-in kernel run our programs.
    #[arg(long = "programs", value_name = "DIR")]
    programs: Vec<PathBuf>,
    /// An extra kernel command-line option for every run, after `-q` (repeatable), e.g.
    /// `--kernel-arg=-broken=race` for the test-only kernel with deliberate bugs.
    #[arg(long = "kernel-arg", value_name = "ARG", allow_hyphen_values = true)]
    kernel_args: Vec<String>,
    /// Host-time guard per test, as a multiple of its virtual timeout (0: none).
    #[arg(long = "host-timeout-factor", default_value_t = 20)]
    host_timeout_factor: u64,
    /// Run every test at this virtual clock rate (instructions per virtual second)
    /// instead of its own, like `pintos --rate`. Timer ticks come every rate/100
    /// instructions, so a lower rate gives the kernel shorter time slices: e.g. 13333333
    /// (400 M / 30) makes slices 30 times shorter than the default and shakes out races
    /// that only show up when a thread is preempted at an unlucky moment. Timeouts stay
    /// in virtual seconds.
    #[arg(long, value_name = "IPS", value_parser = clap::value_parser!(u64).range(1000..))]
    rate: Option<u64>,
    /// Every disk command takes NS virtual nanoseconds before its first sector moves,
    /// like `pintos --disk-latency` (0: an instant disk).
    #[arg(long = "disk-latency", value_name = "NS")]
    disk_latency: Option<u64>,
    /// Virtual nanoseconds per sector moved, like `pintos --disk-sector-time`.
    #[arg(long = "disk-sector-time", value_name = "NS")]
    disk_sector_time: Option<u64>,
    /// Also print the make-grade style report (and write it to OUT/grade). With
    /// --partition, grades only the tests that ran and says so.
    #[arg(long)]
    grade: bool,
    /// List the selected tests with their settings instead of running them.
    #[arg(long)]
    list: bool,
    /// List the behaviour checks (name, whether it needs the kernel's claims, what it
    /// checks) and exit.
    #[arg(long)]
    checks: bool,
    /// Run only slice K of N of the selection (1 <= K <= N): the selection's test i, in
    /// catalogue order, is in slice i % N + 1. For spreading a suite over CI machines.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// Write the results as JSON to FILE: {"format", "version", "project", "partition",
    /// "tests": [{"name", "verdict", "reason", "checks", "instructions", ...}]}.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the results as JUnit XML to FILE (one testcase per test).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Record every hardware event and write OUT/tests/.../NAME.trace.json per test, a
    /// Chrome trace (open it in ui.perfetto.dev or chrome://tracing).
    #[arg(long)]
    trace: bool,
    /// Run every test with `pintos --jitter SEED`: timer interrupts and disk completions
    /// land at other instructions, deterministically from the seed.
    #[arg(long, value_name = "SEED", conflicts_with = "seeds")]
    jitter: Option<u64>,
    /// Run the selected tests under jitter seeds 1 to N and list each test that fails
    /// under some seed, with the seed and the `pintos --record` command that reproduces
    /// it (each seed's files are in OUT/seed-K/).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..), conflicts_with_all = ["partition", "json", "junit", "trace", "grade", "list"])]
    seeds: Option<u64>,
    /// Run nothing: join these --json reports (the partitions of one suite), then list,
    /// grade (--grade) and write --json/--junit as for a run.
    #[arg(long, value_name = "REPORT", num_args = 1.., conflicts_with_all = ["prefixes", "partition", "list", "trace"])]
    merge: Vec<PathBuf>,
}

fn main() {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("pintos-test: {} (see pintos-test --help)", one_line(&e.to_string()));
            std::process::exit(2);
        }
    };
    match real_main(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("pintos-test: {}", one_line(&format!("{e:#}")));
            std::process::exit(2);
        }
    }
}

/// A clap error (or any message) as one line: its first line, plus the possible values
/// when clap lists them.
fn one_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut s = lines.next().unwrap_or("bad command line").trim_start_matches("error: ").to_string();
    if let Some(values) = lines.find(|l| l.starts_with("[possible values:")) {
        s.push(' ');
        s.push_str(values);
    }
    s
}

/// The boot disk and whether it is the built-in kernel: `--os-disk`, else `./os.dsk` (a
/// Pintos build directory), else the image `cargo build` made next to this executable
/// (the `pintos` launcher's rule, so `pintos test` and `pintos -- run` boot the same).
fn boot_disk(given: Option<PathBuf>) -> Result<(PathBuf, bool)> {
    if let Some(p) = given {
        if !p.is_file() {
            bail!("boot disk {} not found", p.display());
        }
        return Ok((p, false));
    }
    let local = PathBuf::from("os.dsk");
    if local.is_file() {
        return Ok((local, false));
    }
    match std::env::current_exe().ok().and_then(|exe| emulator::pintos::builtin_os_disk(&exe)) {
        Some(p) => Ok((p, true)),
        None => bail!("no ./os.dsk and no built-in kernel (target/pintos/os.dsk; run cargo build --release): run from a Pintos build directory or pass --os-disk"),
    }
}

/// `--checks`: the behaviour checks.
fn print_checks() {
    let width = CHECKS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    sayln!("{:<width$}  {:<6}  what it checks", "check", "claims");
    for c in CHECKS {
        sayln!("{:<width$}  {:<6}  {}", c.name, if c.needs_claims { "needs" } else { "-" }, c.summary);
    }
}

/// `--seeds N`: every selected test under jitter seeds 1..=N; each test that fails under
/// some seed is listed with the seed and the command that reproduces (and records) it.
fn seeds(setup: &runner::Setup, tests: &[&pintos_tests::Test], n: u64, jobs: Option<usize>) -> Result<i32> {
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let mut failures = Vec::new();
    for seed in 1..=n {
        let s = runner::Setup { jitter: Some(seed), out: setup.out.join(format!("seed-{seed}")), ..setup.clone() };
        let runs = runner::run_all(&s, tests, jobs, |_| {});
        let failed: Vec<_> = runs.iter().filter(|r| !r.verdict.pass).collect();
        sayln!("seed {seed}: {} of {} tests passed", runs.len() - failed.len(), runs.len());
        for r in failed {
            let test = tests.iter().find(|t| t.path == r.path).expect("a selected test");
            let mut cmd = vec!["pintos".to_string(), "--record".into(), format!("{}-seed{seed}.replay", test.name())];
            cmd.extend(runner::command_line(&s, test)?);
            failures.push((r.path.clone(), seed, r.verdict.messages.first().cloned().unwrap_or_default(), runner::shell_line(&cmd)));
        }
    }
    if failures.is_empty() {
        sayln!("All {} tests passed under every seed from 1 to {n}.", tests.len());
        return Ok(0);
    }
    sayln!();
    for (path, seed, why, cmd) in &failures {
        sayln!("FAIL {path} under seed {seed}: {why}");
        sayln!("  reproduce: {cmd}");
    }
    Ok(1)
}

fn real_main(args: Args) -> Result<i32> {
    if args.checks {
        print_checks();
        return Ok(0);
    }
    if !args.merge.is_empty() {
        return merge(&args);
    }
    // --list needs no boot disk; it only decides the default project.
    let disk = boot_disk(args.os_disk.clone());
    let builtin = matches!(disk, Ok((_, true)));
    // The built-in kernel runs kernel thread tests and, with its file system, user
    // programs: a selection wholly under tests/userprog and tests/filesys (the base file
    // system tests, graded with project 2) runs as the userprog project with the dup2
    // extra (which the kernel implements).
    let userprog_only = !args.prefixes.is_empty() && args.prefixes.iter().all(|p| p.starts_with("tests/userprog") || p.starts_with("tests/filesys"));
    // A selection under tests/vm runs as the VM project (the kernel has virtual memory).
    let vm_only = !args.prefixes.is_empty() && args.prefixes.iter().all(|p| p.starts_with("tests/vm"));
    let project = args.project.unwrap_or(match (builtin, userprog_only, vm_only) {
        (true, true, _) => Project::UserprogExtra,
        (true, _, true) => Project::Vm,
        (true, _, false) => Project::Threads,
        (false, _, _) => Project::Vm,
    });
    let mut tests = runner::select(project, &args.prefixes);
    if tests.is_empty() {
        bail!("no test of the {} project matches {} (pintos-test --list --project {} lists them)", report::project_name(project), args.prefixes.join(" "), report::project_name(project));
    }
    if let Some(p) = args.partition {
        let selected = tests.len();
        tests = p.pick(tests);
        if tests.is_empty() {
            bail!("partition {p} of the {selected} selected tests is empty (use at most {selected} partitions)");
        }
    }
    if args.list {
        match &disk {
            Ok((p, b)) => sayln!("boot disk {}{}, project {project:?}", p.display(), if *b { " (built-in kernel)" } else { "" }),
            Err(e) => sayln!("project {project:?} ({e:#})"),
        }
        for t in &tests {
            sayln!("{} weight={} timeout={} memory={} rate={} fs={} swap={} flags={:?} args={:?} puts={:?}", t.path, t.weight, t.timeout, t.memory, args.rate.or(t.rate).map_or("default".into(), |r| r.to_string()), t.fs_disk, t.swap_disk, t.kernel_flags, t.args, t.puts);
        }
        return Ok(0);
    }
    let (os_disk, builtin) = disk?;
    let search = if args.search.is_empty() { runner::Setup::default_search(&os_disk) } else { args.search.clone() };
    // The built-in kernel's programs are the ones `cargo build` makes (user/src/bin).
    let programs = if !args.programs.is_empty() {
        args.programs.clone()
    } else if builtin {
        runner::Setup::builtin_programs(&os_disk)
    } else {
        vec![]
    };
    let setup = runner::Setup {
        search,
        host_timeout_factor: args.host_timeout_factor,
        rate: args.rate,
        disk_latency: args.disk_latency,
        disk_sector_time: args.disk_sector_time,
        timeline: args.trace,
        jitter: args.jitter,
        kernel_args: args.kernel_args.clone(),
        ..runner::Setup::new(project, os_disk.clone(), programs, args.out.clone())
    };
    if let Some(n) = args.seeds {
        return seeds(&setup, &tests, n, args.jobs);
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    // Check the report files can be written before spending minutes on the tests.
    for f in [&args.json, &args.junit].into_iter().flatten() {
        std::fs::write(f, b"").with_context(|| format!("cannot write {}", f.display()))?;
    }

    // A progress bar on a terminal; plain lines otherwise (logs, CI).
    let bar = std::io::stdout().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(tests.len() as u64);
        b.set_style(indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {msg}").expect("a valid template").progress_chars("=> "));
        b
    });
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let runs = runner::run_all(&setup, &tests, jobs, |r: &mut TestRun| {
        if args.trace {
            write_trace(&args.out, r);
        }
        // Like the Pintos checkers: the verdict line, then the explanation of a failure.
        let mut s = format!("{} {}", if r.verdict.pass { "pass" } else { "FAIL" }, r.path);
        if !r.verdict.pass {
            failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for m in &r.verdict.messages {
                s.push('\n');
                s.push_str(m);
            }
        }
        match &bar {
            Some(b) => {
                b.println(s);
                b.inc(1);
                let f = failed.load(std::sync::atomic::Ordering::Relaxed);
                if f > 0 {
                    b.set_message(format!("{f} failed"));
                }
            }
            None => sayln!("{s}"),
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let report = Report::new(project, args.partition, &runs);
    if args.trace {
        sayln!("\nTraces: {} (open in ui.perfetto.dev or chrome://tracing)", trace::path_for(&args.out, "tests/.../NAME").display());
    }
    finish(&args, project, &report)
}

/// Writes `run`'s trace beside its output and lets its timeline go.
fn write_trace(out: &Path, run: &mut TestRun) {
    let Some(timeline) = run.timeline.take() else { return };
    let path = trace::path_for(out, &run.path);
    match trace::write(&path, &run.path, run.rate, &timeline) {
        Ok(s) if !s.dropped.is_empty() => eprintln!("pintos-test: {}: trace capped at {} events per track ({} left out)", path.display(), trace::TRACK_CAP, s.dropped.values().sum::<usize>()),
        Ok(_) => {}
        Err(e) => eprintln!("pintos-test: writing {}: {e}", path.display()),
    }
}

/// `--merge`: the partitions' reports as one.
fn merge(args: &Args) -> Result<i32> {
    let reports = args.merge.iter().map(|p| json::read(p).map(|r| (p.display().to_string(), r))).collect::<Result<Vec<_>>>()?;
    let report = json::merge(reports)?;
    let project = report::project_by_name(&report.project).context("the reports' project")?;
    if let Some(p) = args.project.filter(|&p| p != project) {
        bail!("the reports are of project {}, not {}", report.project, report::project_name(p));
    }
    finish(args, project, &report)
}

/// The results file, the final listing and totals, the reports and the grade.
fn finish(args: &Args, project: Project, report: &Report) -> Result<i32> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::write(args.out.join("results"), report.results_file()).context("writing the results file")?;
    // The results in catalogue order, output check and behaviour checks side by side.
    sayln!();
    say!("{}", report.listing());
    if let Some(line) = report.checks_line() {
        sayln!("{line}");
    }
    sayln!("{}", report.total_line());
    if let Some(f) = &args.json {
        json::write(f, report)?;
    }
    if let Some(f) = &args.junit {
        junit::write(f, report)?;
    }
    if args.grade {
        let verdicts = report.verdicts();
        let g = match &report.partition {
            Some(p) => grade::grade_ran(project, &verdicts, &format!("partition {p}")),
            None => grade::grade(project, &verdicts),
        };
        let text = g.render();
        std::fs::write(args.out.join("grade"), &text).context("writing the grade file")?;
        say!("\n{text}");
    }
    Ok(if report.failures() == 0 { 0 } else { 1 })
}
