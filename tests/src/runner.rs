//! Runs catalogue tests on the emulator, in parallel, and files each run's output,
//! errors and result in the Pintos build-directory layout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use clap::Parser;
use emulator::machine::Outcome;
use emulator::pintos::{self, Options};
use thiserror::Error;

use crate::behaviour::{self, CheckResult, CheckVerdict, Figures, Watcher};
use crate::catalogue::{Project, Test, DATA_FILES, GENERATED_ZEROS};
use emulator::observe::{Observer, Recorder};
use crate::check::{self, RunFacts, Verdict};

/// Errors setting up a run (before the machine starts).
#[derive(Debug, Error)]
pub enum RunError {
    #[error("{test}: file to put `{file}` not found (looked in {looked})")]
    MissingPut { test: String, file: String, looked: String },
    #[error("{test}: bad launcher options: {message}")]
    Options { test: String, message: String },
    #[error("{test}: {source:#}")]
    Launcher { test: String, source: anyhow::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Where things are.
#[derive(Clone, Debug)]
pub struct Setup {
    pub project: Project,
    /// The boot disk.
    pub os_disk: PathBuf,
    /// Directories searched, in order, for test programs and the files they put
    /// (`tests/userprog/args-many`, `tests/userprog/sample.txt`): by default the build
    /// directory (the os.dsk's) and the source tree two levels up, as in the KAIST layout.
    pub search: Vec<PathBuf>,
    /// Directories holding test programs by bare name (`args-many`), searched before
    /// `search`: the built-in kernel's programs are in `target/pintos/user/`
    /// (`user_programs::USER_DIR`), next to its os.dsk.
    pub programs: Vec<PathBuf>,
    /// Where `tests/.../NAME.output|.errors|.result` go.
    pub out: PathBuf,
    /// The host-time guard as a multiple of the test's (virtual) timeout; 0 for none.
    /// Virtual time alone decides TIMEOUT deterministically; the guard only catches an
    /// emulator that stops making progress, so it is loose: tests run in parallel on a
    /// shared host may run slower than real time.
    pub host_timeout_factor: u64,
    /// Virtual clock rate for every run, replacing each test's own (`pintos-test
    /// --rate`): a lower rate means fewer instructions per timer tick, so shorter time
    /// slices, to shake out kernel races. `None`: each test's catalogue rate or the
    /// launcher's default.
    pub rate: Option<u64>,
    /// Disk command latency and per-sector time for every run (`pintos --disk-latency`,
    /// `--disk-sector-time`); `None`: the launcher's default.
    pub disk_latency: Option<u64>,
    pub disk_sector_time: Option<u64>,
    /// Run the behaviour checks ([`crate::behaviour`]) for the tests they concern.
    pub behaviour: bool,
    /// Keep every hardware event of each run ([`TestRun::timeline`], for `--trace`).
    pub timeline: bool,
    /// Extra kernel command-line options, after `-q` (a test kernel's `-broken=eager`).
    pub kernel_args: Vec<String>,
    /// `pintos --jitter SEED` for every run (`pintos test --seeds`).
    pub jitter: Option<u64>,
}

impl Setup {
    /// A run of `project`'s tests on `os_disk`, programs looked up first in `programs`,
    /// files filed under `out`; everything else as `pintos test` has it by default
    /// (behaviour checks on, the launcher's clock rate and disk timing, no jitter).
    pub fn new(project: Project, os_disk: PathBuf, programs: Vec<PathBuf>, out: PathBuf) -> Setup {
        Setup {
            project,
            search: Setup::default_search(&os_disk),
            os_disk,
            programs,
            out,
            host_timeout_factor: 20,
            rate: None,
            disk_latency: None,
            disk_sector_time: None,
            behaviour: true,
            timeline: false,
            kernel_args: vec![],
            jitter: None,
        }
    }

    /// The default search path for an os.dsk: its directory and that directory's `../..`.
    pub fn default_search(os_disk: &Path) -> Vec<PathBuf> {
        let build = os_disk.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
        vec![build.clone(), build.join("..").join("..")]
    }

    /// The built-in kernel's program directory: `user/` next to its os.dsk.
    pub fn builtin_programs(os_disk: &Path) -> Vec<PathBuf> {
        os_disk.parent().map(|d| vec![d.join("user")]).unwrap_or_default()
    }

    fn find(&self, test: &Test, rel: &str) -> Result<PathBuf, RunError> {
        // The test's program, or a helper program it puts (child-simple, ...): looked up
        // by file name in the built-in kernel's program directory.
        let name = if rel == test.path { test.name() } else { rel.rsplit('/').next().unwrap_or(rel) };
        for dir in &self.programs {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
        for dir in &self.search {
            let p = dir.join(rel);
            if p.is_file() {
                return Ok(p);
            }
        }
        if rel == GENERATED_ZEROS.0 {
            let p = self.out.join(rel);
            write_file(&p, &vec![0u8; GENERATED_ZEROS.1])?;
            return Ok(p);
        }
        if let Some((_, data)) = DATA_FILES.iter().find(|(p, _)| *p == rel) {
            // Tests running in parallel share the file: write a private copy and rename it
            // into place, so a reader never sees it half written.
            let p = self.out.join(rel);
            let tmp = self.out.join(format!("{rel}.{}.tmp", test.name()));
            write_file(&tmp, data)?;
            std::fs::rename(&tmp, &p).map_err(|source| RunError::Io { path: p.clone(), source })?;
            return Ok(p);
        }
        let looked = self.programs.iter().chain(&self.search).map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
        Err(RunError::MissingPut { test: test.path.clone(), file: rel.to_string(), looked })
    }
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), RunError> {
    let io = |source| RunError::Io { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, data).map_err(io)
}

/// The `pintos` command line the KAIST makefiles would use for this test in this project
/// (without the program name).
pub fn command_line(setup: &Setup, test: &Test) -> Result<Vec<String>, RunError> {
    let mut a: Vec<String> = vec!["-v".into(), "-k".into(), "-T".into(), test.timeout.to_string(), "-m".into(), test.memory.to_string()];
    a.push(format!("--host-timeout={}", test.timeout * setup.host_timeout_factor));
    a.push(format!("--os-disk={}", setup.os_disk.display()));
    if let Some(rate) = setup.rate.or(test.rate) {
        a.push(format!("--rate={rate}"));
    }
    if let Some(seed) = setup.jitter {
        a.push(format!("--jitter={seed}"));
    }
    if let Some(ns) = setup.disk_latency {
        a.push(format!("--disk-latency={ns}"));
    }
    if let Some(ns) = setup.disk_sector_time {
        a.push(format!("--disk-sector-time={ns}"));
    }
    let fs = setup.project.has_filesys();
    if fs {
        a.push(format!("--fs-disk={}", test.fs_disk));
        let mut puts = Vec::new();
        if !test.is_kernel_test() {
            puts.push(test.path.clone());
        }
        puts.extend(test.puts.iter().cloned());
        for rel in puts {
            let host = setup.find(test, &rel)?;
            let guest = rel.rsplit('/').next().unwrap_or(&rel);
            a.push("-p".into());
            a.push(format!("{}:{guest}", host.display()));
        }
    }
    if setup.project.has_vm() {
        a.push(format!("--swap-disk={}", test.swap_disk));
    }
    a.push("--".into());
    a.push("-q".into());
    a.extend(setup.kernel_args.iter().cloned());
    a.extend(test.kernel_flags.iter().cloned());
    if fs && test.is_kernel_test() {
        a.push("-threads-tests".into());
    }
    if fs {
        a.push("-f".into());
    }
    a.push("run".into());
    a.push(test.run_command());
    Ok(a)
}

/// One finished test.
#[derive(Debug)]
pub struct TestRun {
    pub path: String,
    /// The output check's verdict (Pintos' rules), with the behaviour checks' failures
    /// folded in: a test passes only when its output and every behaviour check pass.
    pub verdict: Verdict,
    /// The output check alone.
    pub output_pass: bool,
    /// Behaviour checks that concern this test, in [`crate::behaviour::CHECKS`] order.
    pub checks: Vec<CheckResult>,
    /// What the hardware counted (absent when the machine never ran).
    pub figures: Option<Figures>,
    /// Every hardware event, when [`Setup::timeline`] asked for them.
    pub timeline: Option<Recorder>,
    /// The clock rate of the run (instructions per virtual second).
    pub rate: u64,
    /// Virtual instructions are deterministic; host time is for the curious.
    pub host_seconds: f64,
}

/// Runs one test, writes `.output`, `.errors` and `.result` under `setup.out`, and
/// returns its verdict. Set-up problems (a missing program) are failures, not errors: the
/// test did not pass.
pub fn run_one(setup: &Setup, test: &Test) -> TestRun {
    let start = std::time::Instant::now();
    let base = setup.out.join(&test.path);
    let concerned: Vec<_> = if setup.behaviour { behaviour::CHECKS.iter().filter(|c| (c.applies)(test, setup.project)).collect() } else { Vec::new() };
    let watch = !concerned.is_empty() || setup.timeline;
    let (mut checks, mut figures, mut timeline, mut rate) = (Vec::new(), None, None, 0);
    let (output, errors, verdict) = match run_watched(setup, test, watch) {
        Ok((output, report, watcher)) => {
            let facts = RunFacts { triple_fault: matches!(report.outcome, Outcome::TripleFault(_)) };
            let text = String::from_utf8_lossy(&output).into_owned();
            let verdict = check::check(test, &text, facts);
            let errors: String = report.diagnostics.iter().map(|d| format!("pintos: {d}\n")).collect();
            let f = &report.figures;
            let roles = emulator::observe::DiskRole::ALL;
            let disk = |r: emulator::observe::DiskRole| {
                let (c, d) = match r {
                    emulator::observe::DiskRole::Os => (0, 0),
                    emulator::observe::DiskRole::Fs => (0, 1),
                    emulator::observe::DiskRole::Scratch => (1, 0),
                    emulator::observe::DiskRole::Swap => (1, 1),
                };
                (r, f.disks[c][d].sectors_read, f.disks[c][d].sectors_written)
            };
            figures = Some(Figures { instructions: f.instructions, virtual_ns: f.virtual_ns, page_faults: f.exceptions.get(&14).copied().unwrap_or(0), sectors: roles.map(disk) });
            rate = f.rate;
            if let Some(w) = watcher {
                let (facts, tl) = w.finish();
                checks = behaviour::evaluate(test, setup.project, &facts, &concerned);
                timeline = tl;
            }
            (output, errors, verdict)
        }
        Err(e) => {
            let msg = format!("harness: {e}");
            (Vec::new(), format!("{msg}\n"), Verdict { pass: false, messages: vec![msg] })
        }
    };
    let output_pass = verdict.pass;
    let mut verdict = verdict;
    // A behaviour check that fails fails the test, with its reason under the output's.
    for c in checks.iter().filter(|c| c.verdict == CheckVerdict::Fail) {
        verdict.pass = false;
        verdict.messages.push(c.reason.clone());
    }
    for (ext, data) in [("output", output.as_slice()), ("errors", errors.as_bytes()), ("result", verdict.result_file().as_bytes())] {
        if let Err(e) = write_file(&base.with_extension(ext), data) {
            verdict.pass = false;
            verdict.messages.push(format!("harness: {e}"));
        }
    }
    TestRun { path: test.path.clone(), verdict, output_pass, checks, figures, timeline, rate, host_seconds: start.elapsed().as_secs_f64() }
}

/// The [`Watcher`] for `test`: it gets the files the test puts, by their guest names, so
/// it knows what each process's executable should hold and which sectors are which
/// file's.
pub fn watcher(setup: &Setup, test: &Test, timeline: bool) -> Result<Watcher, RunError> {
    let opts = options(setup, test)?;
    Ok(watcher_from(&opts, timeline))
}

fn watcher_from(opts: &Options, timeline: bool) -> Watcher {
    let files = opts.put.iter().filter_map(|p| std::fs::read(&p.host).ok().map(|b| (p.guest.clone(), b))).collect();
    Watcher::new(files, timeline)
}

fn options(setup: &Setup, test: &Test) -> Result<Options, RunError> {
    let args = command_line(setup, test)?;
    Options::try_parse_from(std::iter::once("pintos".to_string()).chain(args)).map_err(|e| RunError::Options { test: test.path.clone(), message: e.to_string() })
}

/// [`run_machine`], with a [`Watcher`] on the machine when `watch`.
fn run_watched(setup: &Setup, test: &Test, watch: bool) -> Result<(Vec<u8>, pintos::RunReport, Option<Box<Watcher>>), RunError> {
    let opts = options(setup, test)?;
    let watcher = watch.then(|| Box::new(watcher_from(&opts, setup.timeline)) as Box<dyn Observer>);
    let (output, report, observer) = run_opts(test, &opts, watcher)?;
    Ok((output, report, observer.and_then(emulator::observe::downcast::<Watcher>)))
}

/// Boots `test` as `setup` says with `observer` on the machine: (the console, the
/// launcher's report, the observer back). The observer benchmark uses it.
pub fn run_observed(setup: &Setup, test: &Test, observer: Option<Box<dyn Observer>>) -> Result<(Vec<u8>, pintos::RunReport, Option<Box<dyn Observer>>), RunError> {
    run_opts(test, &options(setup, test)?, observer)
}

fn run_opts(test: &Test, opts: &Options, observer: Option<Box<dyn Observer>>) -> Result<(Vec<u8>, pintos::RunReport, Option<Box<dyn Observer>>), RunError> {
    let mut output = Vec::new();
    let (report, observer) = pintos::run_observed(opts, &mut output, observer).map_err(|source| RunError::Launcher { test: test.path.clone(), source })?;
    Ok((output, report, observer))
}

/// Boots `test` as `setup` says: (the console, the launcher's report with the run's
/// figures). `run_one` checks and files the result; benchmarks read the figures.
pub fn run_machine(setup: &Setup, test: &Test) -> Result<(Vec<u8>, pintos::RunReport), RunError> {
    let (output, report, _) = run_observed(setup, test, None)?;
    Ok((output, report))
}

/// `args` as one shell command line (single-quoting what needs it), for printing a
/// command a user can paste.
pub fn shell_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `tests` on `jobs` threads. `on_done` sees each test as it finishes (in finishing
/// order), on the thread that ran it, and may take out what it has finished with (the
/// `--trace` writer takes the timeline, so a suite's timelines are never all in memory at
/// once); the result is in the order of `tests`.
pub fn run_all(setup: &Setup, tests: &[&Test], jobs: usize, on_done: impl Fn(&mut TestRun) + Sync) -> Vec<TestRun> {
    let next = AtomicUsize::new(0);
    let done: Mutex<BTreeMap<usize, TestRun>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(tests.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(test) = tests.get(i) else { break };
                let mut r = run_one(setup, test);
                on_done(&mut r);
                done.lock().unwrap().insert(i, r);
            });
        }
    });
    done.into_inner().unwrap().into_values().collect()
}

/// Catalogue tests of the project whose path starts with any of `prefixes` (all of the
/// project's tests when there are none).
pub fn select(project: Project, prefixes: &[String]) -> Vec<&'static Test> {
    project.tests().into_iter().filter(|t| prefixes.is_empty() || prefixes.iter().any(|p| t.path.starts_with(p.as_str()))).collect()
}

/// One of N slices of a selection (`pintos-test --partition K/N`), for spreading a suite
/// over machines: the test at index i of the selection, in catalogue order, goes to slice
/// `i % N + 1`. The split is stable (it depends only on the selection), every test is in
/// exactly one slice, and neighbours in the catalogue (often of similar cost) land in
/// different slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The slice, 1-based.
    pub k: usize,
    /// How many slices.
    pub n: usize,
}

impl Partition {
    /// The tests of `tests` in this slice, in their order.
    pub fn pick<T>(self, tests: Vec<T>) -> Vec<T> {
        tests.into_iter().enumerate().filter(|(i, _)| i % self.n + 1 == self.k).map(|(_, t)| t).collect()
    }
}

impl std::str::FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let bad = |why: &str| format!("bad partition `{s}`: {why} (expected K/N with 1 <= K <= N, e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let k: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 {
            return Err(bad("N is 0"));
        }
        if k == 0 || k > n {
            return Err(bad("K is out of range"));
        }
        Ok(Partition { k, n })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find;

    fn setup(project: Project, dir: &Path) -> Setup {
        Setup { search: vec![dir.to_path_buf()], ..Setup::new(project, dir.join("os.dsk"), vec![], dir.join("out")) }
    }

    #[test]
    fn threads_project_command_line() {
        let s = setup(Project::Threads, Path::new("/b"));
        let a = command_line(&s, find("tests/threads/mlfqs/mlfqs-load-1").unwrap()).unwrap();
        assert_eq!(a, ["-v", "-k", "-T", "480", "-m", "20", "--host-timeout=9600", "--os-disk=/b/os.dsk", "--rate=10000000", "--", "-q", "-mlfqs", "run", "mlfqs-load-1"]);
        // No rate of its own: the launcher's default.
        assert!(!command_line(&s, find("tests/threads/alarm-single").unwrap()).unwrap().iter().any(|a| a.starts_with("--rate")));
        // A run-wide rate replaces every test's own.
        let s = Setup { rate: Some(33_333_333), ..s };
        for t in ["tests/threads/mlfqs/mlfqs-load-1", "tests/threads/alarm-single"] {
            let a = command_line(&s, find(t).unwrap()).unwrap();
            assert_eq!(a.iter().filter(|a| a.starts_with("--rate")).collect::<Vec<_>>(), ["--rate=33333333"], "{t}");
        }
    }

    #[test]
    fn disk_timing_passes_through() {
        let s = setup(Project::Threads, Path::new("/b"));
        let t = find("tests/threads/alarm-single").unwrap();
        assert!(!command_line(&s, t).unwrap().iter().any(|a| a.starts_with("--disk")));
        let s = Setup { disk_latency: Some(1_000_000), disk_sector_time: Some(0), ..s };
        let a = command_line(&s, t).unwrap();
        assert_eq!(a.iter().filter(|a| a.starts_with("--disk")).collect::<Vec<_>>(), ["--disk-latency=1000000", "--disk-sector-time=0"]);
    }

    #[test]
    fn vm_project_command_line_puts_program_and_files() {
        let dir = std::env::temp_dir().join(format!("pintos-tests-cl-{}", std::process::id()));
        for f in ["tests/userprog/args-many", "tests/vm/swap-fork", "tests/vm/child-swap", "tests/vm/mmap-overlap"] {
            write_file(&dir.join(f), b"x").unwrap();
        }
        let s = setup(Project::Vm, &dir);
        let a = command_line(&s, find("tests/userprog/args-many").unwrap()).unwrap();
        let d = dir.display();
        assert_eq!(a, [
            "-v", "-k", "-T", "60", "-m", "20", "--host-timeout=1200", &format!("--os-disk={d}/os.dsk"), "--fs-disk=10",
            "-p", &format!("{d}/tests/userprog/args-many:args-many"), "--swap-disk=4", "--", "-q", "-f", "run",
            "args-many a b c d e f g h i j k l m n o p q r s t u v",
        ]);
        let a = command_line(&s, find("tests/vm/swap-fork").unwrap()).unwrap();
        assert!(a.windows(2).any(|w| w == ["-p", &format!("{d}/tests/vm/child-swap:child-swap")]));
        assert!(a.contains(&"--swap-disk=200".to_string()) && a.contains(&"40".to_string()));
        // The zeros file is generated when the tree does not have it.
        let a = command_line(&s, find("tests/vm/mmap-overlap").unwrap()).unwrap();
        assert!(a.contains(&format!("{d}/out/tests/vm/zeros:zeros")));
        assert_eq!(std::fs::read(dir.join("out/tests/vm/zeros")).unwrap().len(), 6144);
        let a = command_line(&s, find("tests/threads/alarm-zero").unwrap()).unwrap();
        assert_eq!(&a[a.len() - 5..], ["-q", "-threads-tests", "-f", "run", "alarm-zero"]);
        assert!(matches!(command_line(&s, find("tests/userprog/halt").unwrap()), Err(RunError::MissingPut { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn builtin_programs_by_name_and_embedded_sample() {
        let dir = std::env::temp_dir().join(format!("pintos-tests-prog-{}", std::process::id()));
        write_file(&dir.join("user/read-normal"), b"x").unwrap();
        let mut s = setup(Project::Userprog, &dir);
        s.programs = Setup::builtin_programs(&dir.join("os.dsk"));
        let a = command_line(&s, find("tests/userprog/read-normal").unwrap()).unwrap();
        let d = dir.display();
        assert!(a.windows(2).any(|w| w == ["-p", &format!("{d}/user/read-normal:read-normal")]), "{a:?}");
        // sample.txt is not in the search path: the repository's copy is written out.
        assert!(a.windows(2).any(|w| w == ["-p", &format!("{d}/out/tests/userprog/sample.txt:sample.txt")]), "{a:?}");
        assert_eq!(std::fs::read(dir.join("out/tests/userprog/sample.txt")).unwrap(), DATA_FILES[0].1);
        assert_eq!(&a[a.len() - 4..], ["-q", "-f", "run", "read-normal"]);
        assert!(a.contains(&"--fs-disk=10".to_string()) && !a.iter().any(|x| x.starts_with("--swap-disk")));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn selection_by_prefix() {
        let t = select(Project::Threads, &["tests/threads/alarm".into()]);
        assert_eq!(t.len(), 6);
        assert_eq!(select(Project::Threads, &[]).len(), 27);
        assert!(select(Project::Vm, &["tests/threads/mlfqs".into()]).is_empty());
    }

    #[test]
    fn partitions_split_the_selection_stably_and_completely() {
        let all = select(Project::Vm, &[]);
        let slices: Vec<Vec<&Test>> = (1..=4).map(|k| Partition { k, n: 4 }.pick(all.clone())).collect();
        assert_eq!(slices.iter().map(Vec::len).sum::<usize>(), all.len());
        assert!(slices.iter().all(|s| s.len() == all.len() / 4 || s.len() == all.len() / 4 + 1));
        // Slice 2 of 4 holds the selection's tests 1, 5, 9, ...
        assert_eq!(slices[1][0].path, all[1].path);
        assert_eq!(slices[1][1].path, all[5].path);
        let mut merged: Vec<&str> = slices.iter().flatten().map(|t| t.path.as_str()).collect();
        merged.sort();
        let mut want: Vec<&str> = all.iter().map(|t| t.path.as_str()).collect();
        want.sort();
        assert_eq!(merged, want);
        assert_eq!("3/4".parse::<Partition>(), Ok(Partition { k: 3, n: 4 }));
        assert_eq!(Partition { k: 1, n: 1 }.pick(vec![1, 2, 3]), [1, 2, 3]);
        for bad in ["0/4", "5/4", "1/0", "4", "a/4", "1/b", ""] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(e.starts_with(&format!("bad partition `{bad}`")) && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn a_missing_boot_disk_is_a_failed_test_with_files_written() {
        let dir = std::env::temp_dir().join(format!("pintos-tests-run-{}", std::process::id()));
        let s = setup(Project::Threads, &dir);
        let runs = run_all(&s, &[find("tests/threads/alarm-zero").unwrap()], 2, |_| {});
        assert_eq!(runs.len(), 1);
        assert!(!runs[0].verdict.pass);
        assert!(runs[0].verdict.messages[0].contains("boot disk"), "{:?}", runs[0].verdict);
        let result = std::fs::read_to_string(dir.join("out/tests/threads/alarm-zero.result")).unwrap();
        assert!(result.starts_with("FAIL\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
