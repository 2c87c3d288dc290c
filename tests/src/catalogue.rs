//! The test catalogue: every Pintos-KAIST test we grade, with its rubric group, weight and
//! the machine settings its run gets.
//!
//! The names, weights, rubric groups and per-test settings mirror the KAIST test suite's
//! makefile fragments and rubrics (facts a grade must agree with); the table layout and
//! everything else is ours.

use std::sync::OnceLock;

/// Defaults every test gets unless the catalogue overrides them (the KAIST test makefiles'
/// values).
pub const DEFAULT_TIMEOUT: u64 = 60;
pub const DEFAULT_MEMORY: u64 = 20;
pub const DEFAULT_SWAP_DISK: u64 = 4;
pub const DEFAULT_FS_DISK: u64 = 10;
/// The mlfqs tests run with `-mlfqs` and this timeout.
pub const MLFQS_TIMEOUT: u64 = 480;
/// Virtual clock rate (instructions per virtual second) for the mlfqs tests, instead of
/// the launcher's default of 400 M (QEMU's pace). Why: they spin
/// for 30-190 virtual seconds, which at the default rate is minutes of host time each
/// (tens of minutes for the whole set). At 10 M/s each 10 ms timer tick is still 100 k
/// instructions, far more than the kernel's per-tick work (a few thousand), so the
/// scheduler sees the same ticks and the load and CPU shares the tests measure come out
/// the same: results were verified equal at 10 M and 20 M (and mlfqs-fair-2 at the
/// default rate). Our kernel calibrates its delay loop at boot, so any rate works.
pub const MLFQS_RATE: u64 = 10_000_000;

/// A rubric: a group of tests whose points are summed, then scaled by the group's share of
/// a project's grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rubric {
    Alarm,
    Priority,
    Mlfqs,
    UserprogFunctionality,
    UserprogRobustness,
    NoVm,
    Dup2,
    FilesysBase,
    VmFunctionality,
    VmRobustness,
    Cow,
}

impl Rubric {
    /// Where the KAIST tree keeps this rubric; make-grade prints it to name the test set.
    pub fn file(self) -> &'static str {
        match self {
            Rubric::Alarm => "tests/threads/Rubric.alarm",
            Rubric::Priority => "tests/threads/Rubric.priority",
            Rubric::Mlfqs => "tests/threads/mlfqs/Rubric",
            Rubric::UserprogFunctionality => "tests/userprog/Rubric.functionality",
            Rubric::UserprogRobustness => "tests/userprog/Rubric.robustness",
            Rubric::NoVm => "tests/userprog/no-vm/Rubric",
            Rubric::Dup2 => "tests/userprog/dup2/Rubric",
            Rubric::FilesysBase => "tests/filesys/base/Rubric",
            Rubric::VmFunctionality => "tests/vm/Rubric.functionality",
            Rubric::VmRobustness => "tests/vm/Rubric.robustness",
            Rubric::Cow => "tests/vm/cow/Rubric",
        }
    }

    /// The directory whose tests the rubric lists.
    pub fn dir(self) -> &'static str {
        let f = self.file();
        &f[..f.rfind('/').unwrap()]
    }

    /// A one-line description of the group.
    pub fn title(self) -> &'static str {
        match self {
            Rubric::Alarm => "Alarm clock",
            Rubric::Priority => "Priority scheduling and donation",
            Rubric::Mlfqs => "Multi-level feedback queue scheduler",
            Rubric::UserprogFunctionality => "System calls: functionality",
            Rubric::UserprogRobustness => "System calls: robustness",
            Rubric::NoVm => "Behaviour virtual memory could break",
            Rubric::Dup2 => "dup2 (extra)",
            Rubric::FilesysBase => "Base file system",
            Rubric::VmFunctionality => "Virtual memory: functionality",
            Rubric::VmRobustness => "Virtual memory: robustness",
            Rubric::Cow => "Copy-on-write (extra)",
        }
    }
}

/// How a test's output is judged.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Compare the core output with the acceptable forms in `expected/<path>.exp`.
    Expected,
    /// The alarm tests: five threads sleep `iterations` times; the products
    /// `duration × iteration` must appear in non-descending order.
    Alarm { iterations: u32 },
    /// priority-fifo: 16 identical `iteration:` lines, each a permutation of 0..16.
    PriorityFifo,
    /// mlfqs-load-1: the core output has the test's `PASS` line.
    MlfqsLoad1,
    /// mlfqs-load-60 / mlfqs-load-avg / mlfqs-recent-1: measured values against a curve.
    MlfqsCurve(crate::mlfqs::Curve),
    /// mlfqs-fair-* / mlfqs-nice-*: tick counts per thread against a simulation of the
    /// scheduler, within `max_diff` ticks.
    MlfqsFair { nice: Vec<i32>, max_diff: u32 },
    /// The process must begin, print `NAME: exit(-1)` and never reach its `end`.
    ProcessDeath,
    /// halt: the whole output has the `(halt) begin` line and no `(halt) fail` line. The
    /// run powers off from inside the process, so there is no core output to compare.
    Halt,
}

/// One test of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    /// `tests/threads/alarm-single` (the Pintos build-directory path, without suffix).
    pub path: String,
    pub rubric: Rubric,
    pub weight: u32,
    /// Virtual seconds before the run is stopped.
    pub timeout: u64,
    /// Guest memory in MB.
    pub memory: u64,
    /// Swap disk size in units of 0xfc000 bytes (projects with VM only).
    pub swap_disk: u64,
    /// File-system disk size (projects with user programs only).
    pub fs_disk: u64,
    /// Virtual clock rate for the run (`pintos --rate`); `None`: the launcher's default.
    pub rate: Option<u64>,
    /// Kernel flags before `run` (e.g. `-mlfqs`).
    pub kernel_flags: Vec<String>,
    /// Arguments after the program name in `run '...'`.
    pub args: Option<String>,
    /// Extra files put on the file system besides the test program itself (paths
    /// relative to the build or source directory).
    pub puts: Vec<String>,
    pub check: Check,
}

impl Test {
    /// The test's name: the last path component (what the kernel is told to `run`).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Whether the test is a kernel thread test (run by name inside the kernel) rather
    /// than a user program put on the file system.
    pub fn is_kernel_test(&self) -> bool {
        self.path.starts_with("tests/threads/")
    }

    /// The `run` action's argument: the name, plus arguments if any.
    pub fn run_command(&self) -> String {
        match &self.args {
            Some(a) => format!("{} {a}", self.name()),
            None => self.name().to_string(),
        }
    }
}

/// A test group in a compact form: directory, rubric, then `(name, weight)` pairs.
type Group = (&'static str, Rubric, &'static [(&'static str, u32)]);

const GROUPS: &[Group] = &[
    ("tests/threads", Rubric::Alarm, &[
        ("alarm-single", 1), ("alarm-multiple", 1), ("alarm-simultaneous", 1),
        ("alarm-priority", 2), ("alarm-zero", 1), ("alarm-negative", 1),
    ]),
    ("tests/threads", Rubric::Priority, &[
        ("priority-change", 1), ("priority-preempt", 1), ("priority-fifo", 1),
        ("priority-sema", 2), ("priority-condvar", 2), ("priority-donate-one", 2),
        ("priority-donate-multiple", 3), ("priority-donate-multiple2", 3),
        ("priority-donate-nest", 3), ("priority-donate-chain", 3),
        ("priority-donate-sema", 2), ("priority-donate-lower", 2),
    ]),
    ("tests/threads/mlfqs", Rubric::Mlfqs, &[
        ("mlfqs-load-1", 1), ("mlfqs-load-60", 1), ("mlfqs-load-avg", 1),
        ("mlfqs-recent-1", 1), ("mlfqs-fair-2", 1), ("mlfqs-fair-20", 1),
        ("mlfqs-nice-2", 1), ("mlfqs-nice-10", 1), ("mlfqs-block", 1),
    ]),
    ("tests/userprog", Rubric::UserprogFunctionality, &[
        ("args-none", 1), ("args-single", 1), ("args-multiple", 1), ("args-many", 1),
        ("args-dbl-space", 1), ("create-empty", 1), ("create-long", 1),
        ("create-normal", 1), ("create-exists", 1), ("open-missing", 1),
        ("open-normal", 1), ("open-twice", 1), ("read-normal", 1), ("read-zero", 1),
        ("write-normal", 1), ("write-zero", 1), ("close-normal", 1), ("fork-once", 1),
        ("fork-multiple", 1), ("fork-close", 2), ("fork-read", 2), ("exec-once", 1),
        ("exec-arg", 1), ("exec-read", 2), ("wait-simple", 1), ("wait-twice", 1),
        ("exit", 1), ("halt", 1), ("fork-recursive", 2), ("multi-recurse", 2),
        ("rox-simple", 1), ("rox-child", 2), ("rox-multichild", 2),
    ]),
    ("tests/userprog", Rubric::UserprogRobustness, &[
        ("close-bad-fd", 1), ("close-twice", 1), ("read-bad-fd", 1), ("read-stdout", 1),
        ("write-bad-fd", 1), ("write-stdin", 1), ("multi-child-fd", 2),
        ("create-bad-ptr", 1), ("exec-bad-ptr", 1), ("open-bad-ptr", 1),
        ("read-bad-ptr", 1), ("write-bad-ptr", 1), ("create-bound", 2),
        ("open-boundary", 2), ("read-boundary", 2), ("write-boundary", 2),
        ("fork-boundary", 2), ("exec-boundary", 2), ("create-null", 1), ("open-null", 1),
        ("open-empty", 1), ("exec-missing", 2), ("wait-bad-pid", 2), ("wait-killed", 2),
        ("bad-read", 1), ("bad-write", 1), ("bad-jump", 1), ("bad-read2", 1),
        ("bad-write2", 1), ("bad-jump2", 1),
    ]),
    ("tests/userprog/no-vm", Rubric::NoVm, &[("multi-oom", 3)]),
    ("tests/userprog/dup2", Rubric::Dup2, &[("dup2-simple", 1), ("dup2-complex", 3)]),
    ("tests/filesys/base", Rubric::FilesysBase, &[
        ("sm-create", 1), ("sm-full", 1), ("sm-random", 1), ("sm-seq-block", 1),
        ("sm-seq-random", 2), ("lg-create", 1), ("lg-full", 1), ("lg-random", 1),
        ("lg-seq-block", 1), ("lg-seq-random", 2), ("syn-read", 2), ("syn-write", 2),
        ("syn-remove", 1),
    ]),
    ("tests/vm", Rubric::VmFunctionality, &[
        ("pt-grow-stack", 2), ("pt-grow-stk-sc", 4), ("pt-big-stk-obj", 3),
        ("page-linear", 1), ("page-parallel", 4), ("page-shuffle", 2),
        ("page-merge-seq", 2), ("page-merge-par", 5), ("page-merge-mm", 5),
        ("page-merge-stk", 5), ("mmap-read", 1), ("mmap-write", 3), ("mmap-ro", 2),
        ("mmap-shuffle", 2), ("mmap-twice", 1), ("mmap-unmap", 2), ("mmap-exit", 2),
        ("mmap-clean", 3), ("mmap-close", 2), ("mmap-remove", 2), ("mmap-off", 1),
        ("swap-anon", 3), ("swap-file", 3), ("swap-iter", 6), ("swap-fork", 8),
        ("lazy-anon", 4), ("lazy-file", 4),
    ]),
    ("tests/vm", Rubric::VmRobustness, &[
        ("pt-bad-addr", 1), ("pt-bad-read", 3), ("pt-write-code", 1),
        ("pt-write-code2", 3), ("pt-grow-bad", 2), ("mmap-bad-fd", 1),
        ("mmap-bad-fd2", 1), ("mmap-bad-fd3", 1), ("mmap-inherit", 3), ("mmap-null", 1),
        ("mmap-zero", 1), ("mmap-zero-len", 2), ("mmap-misalign", 1),
        ("mmap-over-code", 1), ("mmap-over-data", 1), ("mmap-over-stk", 2),
        ("mmap-overlap", 1), ("mmap-bad-off", 1), ("mmap-kernel", 2),
    ]),
    ("tests/vm/cow", Rubric::Cow, &[("cow-simple", 1)]),
];

/// Per-test overrides of the defaults: (path, timeout, memory, swap disk).
const SETTINGS: &[(&str, Option<u64>, Option<u64>, Option<u64>)] = &[
    ("tests/userprog/no-vm/multi-oom", Some(600), Some(20), None),
    ("tests/filesys/base/syn-read", Some(300), None, None),
    ("tests/vm/page-linear", Some(300), None, None),
    ("tests/vm/page-shuffle", Some(600), Some(20), None),
    ("tests/vm/mmap-shuffle", Some(600), Some(20), None),
    ("tests/vm/page-merge-seq", Some(600), None, None),
    ("tests/vm/page-merge-par", Some(600), None, Some(10)),
    ("tests/vm/page-merge-stk", None, None, Some(10)),
    ("tests/vm/page-merge-mm", None, None, Some(10)),
    ("tests/vm/lazy-file", Some(600), None, None),
    ("tests/vm/swap-anon", Some(180), Some(10), Some(30)),
    ("tests/vm/swap-file", Some(180), Some(8), Some(10)),
    ("tests/vm/swap-iter", Some(180), Some(10), Some(50)),
    ("tests/vm/swap-fork", Some(600), Some(40), Some(200)),
];

/// Program arguments (the rest of the `run` action).
const ARGS: &[(&str, &str)] = &[
    ("tests/userprog/args-single", "onearg"),
    ("tests/userprog/args-multiple", "some arguments for you!"),
    ("tests/userprog/args-many", "a b c d e f g h i j k l m n o p q r s t u v"),
    ("tests/userprog/args-dbl-space", "two  spaces!"),
    ("tests/userprog/multi-recurse", "15"),
];

/// Files put on the file system besides the test program: (test, files).
const PUTS: &[(&str, &[&str])] = &[
    ("tests/userprog/open-normal", &["tests/userprog/sample.txt"]),
    ("tests/userprog/open-boundary", &["tests/userprog/sample.txt"]),
    ("tests/userprog/open-twice", &["tests/userprog/sample.txt"]),
    ("tests/userprog/close-normal", &["tests/userprog/sample.txt"]),
    ("tests/userprog/close-twice", &["tests/userprog/sample.txt"]),
    ("tests/userprog/read-normal", &["tests/userprog/sample.txt"]),
    ("tests/userprog/read-bad-ptr", &["tests/userprog/sample.txt"]),
    ("tests/userprog/read-boundary", &["tests/userprog/sample.txt"]),
    ("tests/userprog/read-zero", &["tests/userprog/sample.txt"]),
    ("tests/userprog/write-normal", &["tests/userprog/sample.txt"]),
    ("tests/userprog/write-bad-ptr", &["tests/userprog/sample.txt"]),
    ("tests/userprog/fork-read", &["tests/userprog/sample.txt"]),
    ("tests/userprog/fork-close", &["tests/userprog/sample.txt"]),
    ("tests/userprog/exec-read", &["tests/userprog/sample.txt", "tests/userprog/child-read"]),
    ("tests/userprog/write-boundary", &["tests/userprog/sample.txt"]),
    ("tests/userprog/write-zero", &["tests/userprog/sample.txt"]),
    ("tests/userprog/multi-child-fd", &["tests/userprog/sample.txt", "tests/userprog/child-close"]),
    ("tests/userprog/exec-boundary", &["tests/userprog/child-simple"]),
    ("tests/userprog/exec-once", &["tests/userprog/child-simple"]),
    ("tests/userprog/wait-simple", &["tests/userprog/child-simple"]),
    ("tests/userprog/wait-twice", &["tests/userprog/child-simple"]),
    ("tests/userprog/exec-arg", &["tests/userprog/child-args"]),
    ("tests/userprog/wait-killed", &["tests/userprog/child-bad"]),
    ("tests/userprog/rox-child", &["tests/userprog/child-rox"]),
    ("tests/userprog/rox-multichild", &["tests/userprog/child-rox"]),
    ("tests/userprog/dup2/dup2-complex", &["tests/userprog/dup2/sample.txt"]),
    ("tests/userprog/dup2/dup2-simple", &["tests/userprog/dup2/sample.txt"]),
    ("tests/filesys/base/syn-read", &["tests/filesys/base/child-syn-read"]),
    ("tests/filesys/base/syn-write", &["tests/filesys/base/child-syn-wrt"]),
    ("tests/vm/pt-bad-read", &["tests/vm/sample.txt"]),
    ("tests/vm/pt-write-code2", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-close", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-read", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-unmap", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-twice", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-ro", &["tests/vm/large.txt"]),
    ("tests/vm/mmap-overlap", &["tests/vm/zeros"]),
    ("tests/vm/mmap-exit", &["tests/vm/child-mm-wrt"]),
    ("tests/vm/page-parallel", &["tests/vm/child-linear"]),
    ("tests/vm/page-merge-seq", &["tests/vm/child-sort"]),
    ("tests/vm/page-merge-par", &["tests/vm/child-sort"]),
    ("tests/vm/page-merge-stk", &["tests/vm/child-qsort"]),
    ("tests/vm/page-merge-mm", &["tests/vm/child-qsort-mm"]),
    ("tests/vm/mmap-clean", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-inherit", &["tests/vm/sample.txt", "tests/vm/child-inherit"]),
    ("tests/vm/mmap-misalign", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-null", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-over-code", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-over-data", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-over-stk", &["tests/vm/sample.txt"]),
    ("tests/vm/mmap-remove", &["tests/vm/sample.txt"]),
    ("tests/vm/swap-file", &["tests/vm/large.txt"]),
    ("tests/vm/swap-iter", &["tests/vm/large.txt"]),
    ("tests/vm/swap-fork", &["tests/vm/child-swap"]),
    ("tests/vm/lazy-file", &["tests/vm/sample.txt", "tests/vm/small.txt"]),
    ("tests/vm/mmap-off", &["tests/vm/large.txt"]),
    ("tests/vm/mmap-bad-off", &["tests/vm/large.txt"]),
    ("tests/vm/mmap-kernel", &["tests/vm/sample.txt"]),
];

/// Data files the tests put, as this repository provides them (our own contents with the
/// properties the tests rely on; see tests/data/README.md): used when the search path
/// (a Pintos tree) has none.
/// The dup2 tests put `tests/userprog/dup2/sample.txt`, which in Pintos-KAIST is the same
/// file as `tests/userprog/sample.txt` (the programs compile in one `sample.inc`), so
/// both names carry our one sample text.
pub const DATA_FILES: &[(&str, &[u8])] = &[
    ("tests/userprog/sample.txt", include_bytes!("../data/userprog/sample.txt")),
    ("tests/userprog/dup2/sample.txt", include_bytes!("../data/userprog/sample.txt")),
    ("tests/vm/sample.txt", include_bytes!("../data/vm/sample.txt")),
    ("tests/vm/small.txt", include_bytes!("../data/vm/small.txt")),
    ("tests/vm/large.txt", include_bytes!("../data/vm/large.txt")),
];

/// The userprog tests the built-in kernel passes (paths under tests/userprog/): every
/// test of the userprog-extra project under tests/userprog, each with a program (and its
/// helper programs) in user/src/bin and a spec in expected/userprog.
pub const BUILTIN_USERPROG: &[&str] = &[
    "args-none", "args-single", "args-multiple", "args-many", "args-dbl-space", "halt", "exit",
    "create-normal", "create-empty", "create-null", "create-bad-ptr", "create-long",
    "create-exists", "create-bound", "open-normal", "open-missing", "open-boundary",
    "open-empty", "open-null", "open-bad-ptr", "open-twice", "close-normal", "close-twice",
    "close-bad-fd", "read-normal", "read-bad-ptr", "read-boundary", "read-zero",
    "read-stdout", "read-bad-fd", "write-normal", "write-bad-ptr", "write-boundary",
    "write-zero", "write-stdin", "write-bad-fd", "bad-read", "bad-write", "bad-jump",
    "bad-read2", "bad-write2", "bad-jump2", "wait-simple", "wait-twice", "wait-bad-pid",
    "wait-killed", "fork-once", "fork-multiple", "fork-close", "fork-read", "fork-recursive",
    "exec-once", "exec-arg", "exec-missing", "exec-bad-ptr", "fork-boundary",
    "exec-boundary", "exec-read", "multi-recurse", "multi-child-fd", "rox-simple",
    "rox-child", "rox-multichild", "no-vm/multi-oom", "dup2/dup2-simple", "dup2/dup2-complex",
];

/// The filesys base tests the built-in kernel passes (all 13), run as the userprog
/// project (`pintos test tests/filesys/base`): programs in user/src/bin (with the helpers
/// child-syn-read and child-syn-wrt), specs in expected/filesys/base.
pub const BUILTIN_FILESYS_BASE: &[&str] = &[
    "sm-create", "sm-full", "sm-random", "sm-seq-block", "sm-seq-random", "lg-create",
    "lg-full", "lg-random", "lg-seq-block", "lg-seq-random", "syn-read", "syn-write",
    "syn-remove",
];

/// The VM tests the built-in kernel passes (paths under tests/vm/): every vm functionality
/// and robustness test and the cow extra, with programs (and helper programs) in
/// user/src/bin and specs in expected/vm.
pub const BUILTIN_VM: &[&str] = &[
    "pt-grow-stack", "pt-grow-stk-sc", "pt-big-stk-obj", "page-linear", "page-parallel",
    "page-shuffle", "page-merge-seq", "page-merge-par", "page-merge-mm", "page-merge-stk",
    "mmap-read", "mmap-write", "mmap-ro", "mmap-shuffle", "mmap-twice", "mmap-unmap",
    "mmap-exit", "mmap-clean", "mmap-close", "mmap-remove", "mmap-off", "swap-anon",
    "swap-file", "swap-iter", "swap-fork", "lazy-anon", "lazy-file", "pt-bad-addr",
    "pt-bad-read", "pt-write-code", "pt-write-code2", "pt-grow-bad", "mmap-bad-fd",
    "mmap-bad-fd2", "mmap-bad-fd3", "mmap-inherit", "mmap-null", "mmap-zero",
    "mmap-zero-len", "mmap-misalign", "mmap-over-code", "mmap-over-data", "mmap-over-stk",
    "mmap-overlap", "mmap-bad-off", "mmap-kernel", "cow/cow-simple",
];

/// The file `tests/vm/zeros` is made by the KAIST makefile, not shipped: 6 KiB of zeros.
pub const GENERATED_ZEROS: (&str, usize) = ("tests/vm/zeros", 6 * 1024);

fn check_for(path: &str) -> Check {
    use crate::mlfqs::Curve;
    let name = path.rsplit('/').next().unwrap();
    match name {
        "alarm-single" => Check::Alarm { iterations: 1 },
        "alarm-multiple" => Check::Alarm { iterations: 7 },
        "priority-fifo" => Check::PriorityFifo,
        "mlfqs-load-1" => Check::MlfqsLoad1,
        "mlfqs-load-60" => Check::MlfqsCurve(Curve::Load60),
        "mlfqs-load-avg" => Check::MlfqsCurve(Curve::LoadAvg),
        "mlfqs-recent-1" => Check::MlfqsCurve(Curve::Recent1),
        "mlfqs-fair-2" => Check::MlfqsFair { nice: vec![0, 0], max_diff: 50 },
        "mlfqs-fair-20" => Check::MlfqsFair { nice: vec![0; 20], max_diff: 20 },
        "mlfqs-nice-2" => Check::MlfqsFair { nice: vec![0, 5], max_diff: 50 },
        "mlfqs-nice-10" => Check::MlfqsFair { nice: (0..10).collect(), max_diff: 25 },
        "pt-bad-addr" | "pt-write-code" => Check::ProcessDeath,
        "halt" => Check::Halt,
        _ => Check::Expected,
    }
}

/// The whole catalogue, in rubric order.
pub fn all() -> &'static [Test] {
    static CATALOGUE: OnceLock<Vec<Test>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut tests = Vec::new();
        for (dir, rubric, entries) in GROUPS {
            for (name, weight) in entries.iter() {
                let path = format!("{dir}/{name}");
                let mlfqs = *rubric == Rubric::Mlfqs;
                let mut t = Test {
                    rubric: *rubric,
                    weight: *weight,
                    timeout: if mlfqs { MLFQS_TIMEOUT } else { DEFAULT_TIMEOUT },
                    memory: DEFAULT_MEMORY,
                    swap_disk: DEFAULT_SWAP_DISK,
                    fs_disk: DEFAULT_FS_DISK,
                    rate: mlfqs.then_some(MLFQS_RATE),
                    kernel_flags: if mlfqs { vec!["-mlfqs".into()] } else { vec![] },
                    args: ARGS.iter().find(|(p, _)| *p == path).map(|(_, a)| a.to_string()),
                    puts: PUTS.iter().find(|(p, _)| *p == path).map(|(_, f)| f.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
                    check: check_for(&path),
                    path,
                };
                if let Some((_, timeout, memory, swap)) = SETTINGS.iter().find(|(p, ..)| *p == t.path) {
                    t.timeout = timeout.unwrap_or(t.timeout);
                    t.memory = memory.unwrap_or(t.memory);
                    t.swap_disk = swap.unwrap_or(t.swap_disk);
                }
                tests.push(t);
            }
        }
        tests
    })
}

/// The test at `path`, if the catalogue has it.
pub fn find(path: &str) -> Option<&'static Test> {
    all().iter().find(|t| t.path == path)
}

/// A Pintos project build: which tests it runs and how it runs them (the KAIST
/// `Make.vars` of each project directory), and how it weighs rubrics (its grading file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Project {
    /// Project 1: kernel threads only; no file system, no swap.
    Threads,
    /// Project 2: user programs with a file system.
    Userprog,
    /// Project 2 with the dup2 extra.
    UserprogExtra,
    /// Project 3: virtual memory (also runs the earlier projects' tests, and cow).
    Vm,
}

impl Project {
    /// The rubric groups this project runs and grades, with their share of the grade in
    /// percent.
    pub fn grading(self) -> &'static [(Rubric, f64)] {
        use Rubric::*;
        match self {
            Project::Threads => &[(Alarm, 20.0), (Priority, 50.0), (Mlfqs, 30.0)],
            Project::Userprog => &[
                (Alarm, 2.0), (Priority, 3.0), (UserprogFunctionality, 40.0),
                (UserprogRobustness, 30.0), (NoVm, 10.0), (FilesysBase, 15.0),
            ],
            Project::UserprogExtra => &[
                (Alarm, 2.0), (Priority, 3.0), (UserprogFunctionality, 40.0),
                (UserprogRobustness, 30.0), (NoVm, 10.0), (FilesysBase, 15.0), (Dup2, 20.0),
            ],
            Project::Vm => &[
                (Alarm, 1.0), (Priority, 1.0), (UserprogFunctionality, 8.0),
                (UserprogRobustness, 5.0), (VmFunctionality, 60.0), (VmRobustness, 20.0),
                (FilesysBase, 5.0), (Cow, 25.0),
            ],
        }
    }

    /// Whether the kernel has a file system (then every run gets a file-system disk, the
    /// program and its files are put on it, the kernel formats it with `-f`, and kernel
    /// thread tests are announced with `-threads-tests`).
    pub fn has_filesys(self) -> bool {
        self != Project::Threads
    }

    /// Whether the kernel has virtual memory (then every run gets a swap disk).
    pub fn has_vm(self) -> bool {
        self == Project::Vm
    }

    /// The tests this project's `make check` runs, in catalogue order.
    pub fn tests(self) -> Vec<&'static Test> {
        let groups = self.grading();
        all().iter().filter(|t| groups.iter().any(|(r, _)| *r == t.rubric)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_overrides_name_real_tests() {
        let mut paths: Vec<&str> = all().iter().map(|t| t.path.as_str()).collect();
        let n = paths.len();
        paths.sort();
        paths.dedup();
        assert_eq!(paths.len(), n, "duplicate test path");
        for (p, ..) in SETTINGS {
            assert!(find(p).is_some(), "{p}");
        }
        for (p, _) in ARGS {
            assert!(find(p).is_some(), "{p}");
        }
        for (p, _) in PUTS {
            assert!(find(p).is_some(), "{p}");
        }
    }

    #[test]
    fn catalogue_has_every_group_and_its_weights() {
        let count = |r: Rubric| all().iter().filter(|t| t.rubric == r).count();
        let points = |r: Rubric| all().iter().filter(|t| t.rubric == r).map(|t| t.weight).sum::<u32>();
        assert_eq!((count(Rubric::Alarm), points(Rubric::Alarm)), (6, 7));
        assert_eq!((count(Rubric::Priority), points(Rubric::Priority)), (12, 25));
        assert_eq!((count(Rubric::Mlfqs), points(Rubric::Mlfqs)), (9, 9));
        assert_eq!(count(Rubric::UserprogFunctionality), 33);
        assert_eq!(count(Rubric::UserprogRobustness), 30);
        assert_eq!(count(Rubric::FilesysBase), 13);
        assert_eq!(count(Rubric::VmFunctionality), 27);
        assert_eq!(count(Rubric::VmRobustness), 19);
    }

    /// The lists of what the built-in kernel passes name real tests of their directory,
    /// each with a spec when its check needs one.
    #[test]
    fn builtin_lists_name_catalogue_tests_with_specs() {
        for (dir, names, rubrics) in [
            ("tests/userprog", BUILTIN_USERPROG, &[Rubric::UserprogFunctionality, Rubric::UserprogRobustness, Rubric::NoVm, Rubric::Dup2][..]),
            ("tests/filesys/base", BUILTIN_FILESYS_BASE, &[Rubric::FilesysBase][..]),
            ("tests/vm", BUILTIN_VM, &[Rubric::VmFunctionality, Rubric::VmRobustness, Rubric::Cow][..]),
        ] {
            for name in names {
                let t = find(&format!("{dir}/{name}")).unwrap_or_else(|| panic!("{dir}/{name} is not in the catalogue"));
                assert!(rubrics.contains(&t.rubric), "{}", t.path);
                if t.check == Check::Expected {
                    crate::spec::for_test(&t.path).unwrap_or_else(|e| panic!("{}: {e}", t.path));
                }
            }
        }
        assert_eq!(BUILTIN_FILESYS_BASE.len(), all().iter().filter(|t| t.rubric == Rubric::FilesysBase).count());
        assert_eq!(BUILTIN_VM.len(), all().iter().filter(|t| t.path.starts_with("tests/vm/")).count());
        assert_eq!(BUILTIN_USERPROG.len(), all().iter().filter(|t| t.path.starts_with("tests/userprog/")).count());
    }

    #[test]
    fn per_test_settings() {
        let t = find("tests/threads/mlfqs/mlfqs-load-60").unwrap();
        assert_eq!((t.timeout, t.kernel_flags.as_slice(), t.rate), (480, &["-mlfqs".to_string()][..], Some(MLFQS_RATE)));
        let t = find("tests/vm/swap-fork").unwrap();
        assert_eq!((t.timeout, t.memory, t.swap_disk), (600, 40, 200));
        let t = find("tests/userprog/args-many").unwrap();
        assert_eq!(t.run_command().split(' ').count(), 23);
        let t = find("tests/threads/alarm-single").unwrap();
        assert_eq!((t.timeout, t.memory, t.run_command().as_str(), t.rate), (60, 20, "alarm-single", None));
        assert!(Project::Threads.tests().iter().all(|t| t.is_kernel_test()));
        assert_eq!(Project::Threads.tests().len(), 27);
    }
}
