//! User processes: creating the initial process, its state, exit.
//!
//! A process is a kernel thread plus a `Process` record in `PROCS` (by tid): its name
//! (the program name, for `NAME: exit(N)`), its page table, its open files and the
//! executable (kept open with writes denied). The thread's PML4 is recorded in the
//! scheduler, which loads CR3 on every switch. Records are only touched inside
//! `PROCS.with`, and `File`s are taken out of it before any file-system call (which may
//! sleep) or drop.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};

use super::load;
use crate::arch::cell::IrqCell;
use crate::arch::paging::PageTable;
use crate::arch::{cpu, user};
use crate::filesys::{self, file::File};
use crate::threads::synch::{sema_down, sema_up, Semaphore};
use crate::threads::thread::{self, Tid, PRI_DEFAULT};

/// First file descriptor `open` hands out (0 and 1 are the console).
pub const FIRST_FD: i32 = 2;

/// The parent's end of a child: signalled with the exit status when the child exits.
struct Waiter {
    done: Semaphore,
    status: AtomicI32,
}

pub struct Process {
    pub name: String,
    pub pt: PageTable,
    pub files: BTreeMap<i32, File>,
    pub next_fd: i32,
    exec: Option<File>,
    waiter: Arc<Waiter>,
}

pub static PROCS: IrqCell<BTreeMap<Tid, Process>> = IrqCell::new(BTreeMap::new());

/// Runs `with` on the running thread's process.
pub fn with_current<R>(f: impl FnOnce(&mut Process) -> R) -> R {
    let tid = thread::thread_tid();
    PROCS.with(|p| f(p.get_mut(&tid).expect("not a user process")))
}

/// Is the running thread a user process?
pub fn is_user_process() -> bool {
    let tid = thread::thread_tid();
    PROCS.with(|p| p.contains_key(&tid))
}

/// Runs the user program of `cmdline` ("PROG ARGS") in a new process and waits until it
/// exits; returns its exit status (`process_create_initd` + `process_wait`).
pub fn process_run(cmdline: &str) -> i32 {
    let args: Vec<String> = cmdline.split(' ').filter(|a| !a.is_empty()).map(String::from).collect();
    let Some(name) = args.first().cloned() else { return -1 };
    let waiter = Arc::new(Waiter { done: Semaphore::new(0), status: AtomicI32::new(-1) });
    let w = waiter.clone();
    thread::thread_create(&name, PRI_DEFAULT, move || start_process(args, w));
    sema_down(&waiter.done);
    waiter.status.load(Ordering::Relaxed)
}

/// The new process's thread: loads the program and enters user mode.
fn start_process(args: Vec<String>, waiter: Arc<Waiter>) {
    let name = args[0].clone();
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let Some(mut pt) = PageTable::new() else {
        finish(&name, -1, &waiter);
        return;
    };
    let file = filesys::filesys_open(&name);
    let loaded = match &file {
        None => Err("open failed"),
        Some(f) => load::load(&mut pt, f).and_then(|entry| load::setup_stack(&mut pt, &argv).map(|(sp, av)| (entry, sp, av))),
    };
    let (entry, sp, argv_at) = match loaded {
        Ok(x) => x,
        Err(why) => {
            println!("load: {name}: {why}");
            drop(pt);
            drop(file);
            finish(&name, -1, &waiter);
            return;
        }
    };
    let mut file = file.unwrap();
    file.deny_write();
    let root = pt.root();
    let tid = thread::thread_tid();
    let proc = Process { name: name.clone(), pt, files: BTreeMap::new(), next_fd: FIRST_FD, exec: Some(file), waiter };
    PROCS.with(|p| p.insert(tid, proc));
    thread::thread_set_pml4(root);
    let argc = argv.len() as u64;
    // enter_user never returns: free what this frame owns first.
    drop(argv);
    drop(args);
    drop(name);
    user::enter_user(entry, sp, argc, argv_at)
}

/// Prints the exit line and wakes the waiter.
fn finish(name: &str, status: i32, waiter: &Waiter) {
    println!("{name}: exit({status})");
    waiter.status.store(status, Ordering::Relaxed);
    sema_up(&waiter.done);
}

/// Ends the running process with `status`: prints `NAME: exit(STATUS)`, frees its
/// address space and files, wakes its parent and ends the thread.
pub fn process_exit(status: i32) -> ! {
    cpu::enable_interrupts();
    let tid = thread::thread_tid();
    let proc = PROCS.with(|p| p.remove(&tid)).expect("process_exit: not a user process");
    thread::thread_set_pml4(0);
    let Process { name, pt, files, exec, waiter, .. } = proc;
    drop(pt);
    drop(files);
    drop(exec);
    finish(&name, status, &waiter);
    thread::thread_exit()
}
