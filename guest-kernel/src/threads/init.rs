//! Kernel start-up (`main`), the command line, and power-off.
//!
//! The command line is in the boot sector, which stays at physical 0x7c00: argc (u32) at
//! offset 0x17a and 128 bytes of NUL-separated arguments at 0x17e (the `pintos` launcher
//! writes them). Options come first (`-q`, `-f`, `-mlfqs`, `-rs=SEED`, `-ul=N`,
//! `-threads-tests`), then actions (`run NAME` for a kernel test, `run 'PROG ARGS'` for a user program in
//! the file system, and the file-system actions `put NAME`,
//! `get NAME`, `ls`, `cat NAME`, `rm NAME`).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::cell::IrqCell;
use crate::arch::{cpu, gdt, io};
use crate::devices::{block, ide, serial, timer, vga};
use crate::filesys::{self, fsutil};
use crate::threads::{interrupt, palloc, thread};

const LOADER_ARGS_PA: u64 = 0x7c00 + 0x17e;
const LOADER_ARG_CNT_PA: u64 = 0x7c00 + 0x17a;
const LOADER_ARGS_LEN: usize = 128;

/// `-q`: power off when the actions are done (or on a panic).
static POWER_OFF_WHEN_DONE: AtomicBool = AtomicBool::new(false);
/// `-f`: format the file system on hd0:1.
pub static FORMAT_FILESYS: AtomicBool = AtomicBool::new(false);
/// `-mlfqs`: use the multi-level feedback queue scheduler.
pub static THREAD_MLFQS: AtomicBool = AtomicBool::new(false);
/// `-threads-tests`: run the threads tests under the userprog kernel.
pub static THREAD_TESTS: AtomicBool = AtomicBool::new(false);
/// `-rs=SEED`: seed for the kernel's random numbers.
pub static RANDOM_SEED: AtomicU64 = AtomicU64::new(0);

/// The kernel's Rust entry, called by `arch::boot` on the boot stack with interrupts off.
pub extern "C" fn main() -> ! {
    gdt::init();
    serial::init();
    vga::init();

    let mut buf = [0u8; LOADER_ARGS_LEN];
    io::read_phys(LOADER_ARGS_PA, &mut buf);
    let mut count = [0u8; 4];
    io::read_phys(LOADER_ARG_CNT_PA, &mut count);
    let mut argv: [&str; LOADER_ARGS_LEN / 2 + 1] = [""; LOADER_ARGS_LEN / 2 + 1];
    let argc = split_command_line(&buf, u32::from_le_bytes(count) as usize, &mut argv);
    let argv = &argv[..argc];
    print!("Kernel command line:");
    for a in argv {
        if a.contains(' ') {
            print!(" '{a}'");
        } else {
            print!(" {a}");
        }
    }
    println!();
    let (user_page_limit, actions) = parse_options(argv);

    palloc::init(user_page_limit);
    thread::thread_init(THREAD_MLFQS.load(Ordering::Relaxed));
    interrupt::init();
    serial::init_queue();
    crate::userprog::init();
    timer::init();
    timer::THREADS_STARTED.store(true, Ordering::Relaxed);
    thread::thread_start();
    timer::calibrate();
    // Pintos-KAIST probes the disks only in kernels built with FILESYS; the disks cost
    // nothing when absent, so this kernel always does.
    ide::init();
    filesys::filesys_init(FORMAT_FILESYS.load(Ordering::Relaxed));
    crate::vm::init();
    println!("Boot complete.");

    run_actions(actions);
    // The figures power-off reports, taken before unmounting frees the open-inode table
    // (which existed before the first process too).
    MEMORY_AFTER_ACTIONS.with(|m| *m = Some(memory_figures()));
    filesys::filesys_done();
    shutdown();
}

/// Splits the boot sector's arguments into `argv`; returns argc.
fn split_command_line<'a>(buf: &'a [u8; LOADER_ARGS_LEN], argc: usize, argv: &mut [&'a str]) -> usize {
    let mut n = 0;
    for (i, arg) in buf.split(|&b| b == 0).take(argc).enumerate() {
        match core::str::from_utf8(arg) {
            Ok(s) if i < argv.len() => argv[i] = s,
            Ok(_) => panic!("command line has too many arguments"),
            Err(_) => panic!("command line argument {i} is not UTF-8"),
        }
        n = i + 1;
    }
    assert!(n == argc, "command line arguments overflow");
    n
}

/// Applies the options at the front of `argv`; returns the user page limit and the
/// rest (the actions).
fn parse_options<'a>(argv: &'a [&'a str]) -> (usize, &'a [&'a str]) {
    let mut user_page_limit = usize::MAX;
    let mut i = 0;
    while i < argv.len() && argv[i].starts_with('-') {
        let (name, value) = match argv[i].split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (argv[i], None),
        };
        match (name, value) {
            ("-h", None) => usage(),
            ("-q", None) => POWER_OFF_WHEN_DONE.store(true, Ordering::Relaxed),
            ("-f", None) => FORMAT_FILESYS.store(true, Ordering::Relaxed),
            ("-mlfqs", None) => THREAD_MLFQS.store(true, Ordering::Relaxed),
            ("-threads-tests", None) => THREAD_TESTS.store(true, Ordering::Relaxed),
            ("-rs", Some(v)) => RANDOM_SEED.store(v.parse().unwrap_or_else(|_| panic!("bad seed `{v}'")), Ordering::Relaxed),
            ("-ul", Some(v)) => user_page_limit = v.parse().unwrap_or_else(|_| panic!("bad user page limit `{v}'")),
            // A deliberate bug, in kernels built for testing the grader (vm::broken).
            #[cfg(feature = "broken")]
            ("-broken", Some(v)) => crate::vm::broken::select(v),
            _ => panic!("unknown option `{}' (use -h for help)", argv[i]),
        }
        i += 1;
    }
    (user_page_limit, &argv[i..])
}

fn usage() -> ! {
    println!(
        "\nCommand line syntax: [OPTION...] [ACTION...]\n\
         Options must precede actions.\n\
         Actions are executed in the order specified.\n\
         \nAvailable actions:\n  run TEST           Run TEST.\n\
         \x20 ls                 Show the names in the root directory.\n\
         \x20 cat FILE           Hex-dump FILE on the console.\n\
         \x20 rm FILE            Remove FILE.\n\
         \x20 put FILE           Copy FILE from the scratch disk in (pintos -p).\n\
         \x20 get FILE           Copy FILE out to the scratch disk (pintos -g).\n\
         \nOptions:\n  -h                 Print this help message and power off.\n\
         \x20 -q                 Power off VM after actions or on panic.\n\
         \x20 -f                 Format file system disk during startup.\n\
         \x20 -rs=SEED           Set random number seed to SEED.\n\
         \x20 -mlfqs             Use multi-level feedback queue scheduler.\n\
         \x20 -ul=COUNT          Limit user memory to COUNT pages."
    );
    power_off()
}

fn run_actions(mut actions: &[&str]) {
    while let Some(&action) = actions.first() {
        match action {
            "run" => {
                let Some(&name) = actions.get(1) else { panic!("action `run' requires 1 argument") };
                let prog = name.split(' ').find(|a| !a.is_empty()).unwrap_or("");
                // A kernel test by that name, or without a file system to load a program
                // from, runs as a kernel test (an unknown name then panics, as in
                // Pintos' threads kernel); anything else is a user program.
                let kernel_test = crate::tests::has_test(prog) || THREAD_TESTS.load(Ordering::Relaxed) || !filesys::filesys_mounted();
                if !kernel_test && !crate::userprog::process::RAN_USER.load(Ordering::Relaxed) {
                    // The baseline the power-off figures are compared with (leak checks),
                    // also claimed on the claims port.
                    let figures = memory_figures();
                    print_memory(" before user programs", figures);
                    claim_frames(figures);
                }
                println!("Executing '{name}':");
                if kernel_test {
                    crate::tests::run_test(name);
                } else {
                    crate::userprog::process::process_run(name);
                }
                println!("Execution of '{name}' complete.");
                actions = &actions[2..];
            }
            "ls" => {
                fsutil::fsutil_ls();
                actions = &actions[1..];
            }
            "put" | "get" | "cat" | "rm" => {
                let Some(&name) = actions.get(1) else { panic!("action `{action}' requires 1 argument") };
                match action {
                    "put" => fsutil::fsutil_put(name),
                    "get" => fsutil::fsutil_get(name),
                    "cat" => fsutil::fsutil_cat(name),
                    _ => fsutil::fsutil_rm(name),
                }
                actions = &actions[2..];
            }
            _ => panic!("unknown action `{action}' (use -h for help)"),
        }
    }
}

/// What the kernel does when it is done (or has panicked): power off with `-q`,
/// otherwise idle forever.
pub fn shutdown() -> ! {
    if POWER_OFF_WHEN_DONE.load(Ordering::Relaxed) {
        power_off();
    }
    loop {
        cpu::wait_for_interrupt();
    }
}

/// Prints statistics and powers the machine off (QEMU's PIIX4 PM port: SLP_EN).
pub fn power_off() -> ! {
    println!("Timer: {} ticks", timer::ticks());
    thread::thread_print_stats();
    block::print_stats();
    println!("Console: {} characters output", crate::console::chars_written());
    if crate::userprog::process::RAN_USER.load(core::sync::atomic::Ordering::Relaxed) {
        let figures = MEMORY_AFTER_ACTIONS.try_with(|m| *m).flatten().unwrap_or_else(memory_figures);
        print_memory("", figures);
        claim_frames(figures);
    }
    println!("Powering off...");
    io::outw(0x604, 0x2000);
    cpu::halt_forever()
}

/// Free kernel pages, free user pages, heap bytes and blocks in use, user frames in use,
/// free swap slots and all swap slots.
type MemoryFigures = (usize, usize, u64, u64, usize, usize, usize);

/// The memory figures once the actions are done (power-off reports them).
static MEMORY_AFTER_ACTIONS: IrqCell<Option<MemoryFigures>> = IrqCell::new(None);

fn memory_figures() -> MemoryFigures {
    let (kernel, user) = palloc::free_counts();
    let (bytes, blocks) = crate::threads::malloc::heap_stats();
    let (frames, swap_free, swap_all) = crate::vm::stats();
    (kernel, user, bytes, blocks, frames, swap_free, swap_all)
}

/// Prints the free pages of each pool and the heap in use:
/// `Palloc{label}: K free kernel pages, U free user pages` and
/// `Heap{label}: B bytes in N blocks` and
/// `Frames{label}: F in use, S of T swap slots free`. Before the first user program
/// (label " before user programs") and at power-off (no label: the figures after the
/// last action, or now if a program halted the machine) they let tests check that
/// processes give back every page, heap block, frame and swap slot.
fn print_memory(label: &str, figures: MemoryFigures) {
    let (kernel, user, bytes, blocks, frames, swap_free, swap_all) = figures;
    println!("Palloc{label}: {kernel} free kernel pages, {user} free user pages");
    println!("Heap{label}: {bytes} bytes in {blocks} blocks");
    println!("Frames{label}: {frames} in use, {swap_free} of {swap_all} swap slots free");
}

/// The `frames` claim (docs/claims.md) of the figures a `Frames` line prints.
fn claim_frames(figures: MemoryFigures) {
    let (_, _, _, _, frames, swap_free, _) = figures;
    crate::vm::claims::frames(frames, swap_free);
}

/// `n` with commas every three digits, as Pintos prints memory sizes and rates.
pub fn thousands(n: u64) -> impl core::fmt::Display {
    struct T(u64);
    impl core::fmt::Display for T {
        fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
            if self.0 >= 1000 {
                write!(f, "{},{:03}", thousands(self.0 / 1000), self.0 % 1000)
            } else {
                write!(f, "{}", self.0)
            }
        }
    }
    T(n)
}
