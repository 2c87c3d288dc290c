//! `pintos-test`: run catalogue tests on the emulator and check them as Pintos'
//! `make check` does (`pintos-test tests/threads/alarm --os-disk build/os.dsk`).

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
    /// Boot disk with the kernel (default: ./os.dsk).
    #[arg(long = "os-disk", default_value = "os.dsk")]
    os_disk: PathBuf,
    /// Which project's build this kernel is: decides the test set, the disks each run
    /// gets, the kernel flags and the grade weights.
    #[arg(long, value_enum, default_value_t = Project::Vm)]
    project: Project,
    /// Directory to search for test programs and put files (repeatable; default: the
    /// os.dsk's directory and the source tree two levels above it).
    #[arg(long = "search")]
    search: Vec<PathBuf>,
    /// Host-time guard per test, as a multiple of its virtual timeout (0: none).
    #[arg(long = "host-timeout-factor", default_value_t = 20)]
    host_timeout_factor: u64,
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

fn real_main() -> Result<i32> {
    let args = Args::parse();
    let tests = runner::select(args.project, &args.prefixes);
    if tests.is_empty() {
        bail!("no test of the {:?} project matches {:?}", args.project, args.prefixes);
    }
    if args.list {
        for t in &tests {
            println!("{} weight={} timeout={} memory={} fs={} swap={} flags={:?} args={:?} puts={:?}", t.path, t.weight, t.timeout, t.memory, t.fs_disk, t.swap_disk, t.kernel_flags, t.args, t.puts);
        }
        return Ok(0);
    }
    if !args.os_disk.is_file() {
        bail!("boot disk {} not found (run from a Pintos build directory or pass --os-disk)", args.os_disk.display());
    }
    let search = if args.search.is_empty() { runner::Setup::default_search(&args.os_disk) } else { args.search.clone() };
    let setup = runner::Setup { project: args.project, os_disk: args.os_disk.clone(), search, out: args.out.clone(), host_timeout_factor: args.host_timeout_factor };
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
        let report = grade::grade(args.project, &verdicts).render();
        std::fs::write(args.out.join("grade"), &report).context("writing the grade file")?;
        print!("\n{report}");
    }
    Ok(if failures == 0 { 0 } else { 1 })
}
