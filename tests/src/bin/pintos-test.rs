//! `pintos-test`: run catalogue tests on the emulator and check them as Pintos'
//! `make check` does (`pintos-test tests/threads/alarm --os-disk build/os.dsk`).
//! Also reached as `pintos test ...`: the `pintos` launcher hands that subcommand to this
//! executable (see emulator/src/bin/pintos.rs).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use pintos_tests::catalogue::Project;
use pintos_tests::{grade, runner};

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
    /// userprog-extra when every prefix is under tests/userprog or tests/filesys, else
    /// threads; for any other boot disk vm (a full KAIST build).
    #[arg(long, value_enum)]
    project: Option<Project>,
    /// Directory to search for test programs and put files (repeatable; default: the
    /// os.dsk's directory and the source tree two levels above it).
    #[arg(long = "search")]
    search: Vec<PathBuf>,
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
    /// Also print the make-grade style report (and write it to OUT/grade).
    #[arg(long)]
    grade: bool,
    /// List the selected tests with their settings instead of running them.
    #[arg(long)]
    list: bool,
}

fn main() {
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("pintos-test: {e:#}");
            std::process::exit(2);
        }
    }
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

fn real_main() -> Result<i32> {
    let args = Args::parse();
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
    let tests = runner::select(project, &args.prefixes);
    if tests.is_empty() {
        bail!("no test of the {project:?} project matches {:?}", args.prefixes);
    }
    if args.list {
        match &disk {
            Ok((p, b)) => println!("boot disk {}{}, project {project:?}", p.display(), if *b { " (built-in kernel)" } else { "" }),
            Err(e) => println!("project {project:?} ({e:#})"),
        }
        for t in &tests {
            println!("{} weight={} timeout={} memory={} rate={} fs={} swap={} flags={:?} args={:?} puts={:?}", t.path, t.weight, t.timeout, t.memory, args.rate.or(t.rate).map_or("default".into(), |r| r.to_string()), t.fs_disk, t.swap_disk, t.kernel_flags, t.args, t.puts);
        }
        return Ok(0);
    }
    let (os_disk, builtin) = disk?;
    let search = if args.search.is_empty() { runner::Setup::default_search(&os_disk) } else { args.search.clone() };
    // The built-in kernel's programs are the ones `cargo build` makes (user/src/bin).
    let programs = if builtin { runner::Setup::builtin_programs(&os_disk) } else { vec![] };
    let setup = runner::Setup { project, os_disk: os_disk.clone(), programs, search, out: args.out.clone(), host_timeout_factor: args.host_timeout_factor, rate: args.rate, disk_latency: args.disk_latency, disk_sector_time: args.disk_sector_time, behaviour: true, timeline: false };
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

    let runs = runner::run_all(&setup, &tests, jobs, |r| {
        // Like the Pintos checkers: the verdict line, then the explanation of a failure.
        let mut s = format!("{} {}\n", if r.verdict.pass { "pass" } else { "FAIL" }, r.path);
        if !r.verdict.pass {
            for m in &r.verdict.messages {
                s.push_str(m);
                s.push('\n');
            }
        }
        print!("{s}");
    });

    // The results file, in catalogue order, then the total, as `make check` prints them.
    let mut results = String::new();
    for r in &runs {
        results.push_str(&format!("{} {}\n", if r.verdict.pass { "pass" } else { "FAIL" }, r.path));
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::write(args.out.join("results"), &results).context("writing the results file")?;
    println!();
    print!("{results}");
    let failures = runs.iter().filter(|r| !r.verdict.pass).count();
    if failures == 0 {
        println!("All {} tests passed.", runs.len());
    } else {
        println!("{failures} of {} tests failed.", runs.len());
    }
    if args.grade {
        let verdicts: BTreeMap<String, bool> = runs.iter().map(|r| (r.path.clone(), r.verdict.pass)).collect();
        let report = grade::grade(project, &verdicts).render();
        std::fs::write(args.out.join("grade"), &report).context("writing the grade file")?;
        print!("\n{report}");
    }
    Ok(if failures == 0 { 0 } else { 1 })
}
