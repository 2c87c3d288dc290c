//! User processes: creating the initial process, fork, exec, wait, exit.
//!
//! A process is a kernel thread plus a `Process` record in `PROCS` (by tid, which is
//! also the pid): its name (for `NAME: exit(N)`), its page table, its fd table, the
//! executable (kept open with writes denied), the record its parent waits on and the
//! records of its own children. The thread's PML4 is recorded in the scheduler, which
//! loads CR3 on every switch. Records are only touched inside `PROCS.with`, and files
//! are taken out of it (as `Arc`s) before any file-system call (which may sleep) or drop.
//!
//! Exit statuses: a `Child` record is shared by the child (which stores its status and
//! signals it when it exits) and its parent (which keeps it in `children` until it waits
//! or exits), so a status outlives the child, and a parent that exits first frees it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use super::load;
use crate::arch::cell::IrqCell;
use crate::arch::paging::PageTable;
use crate::arch::{cpu, user};
use crate::filesys::{self, file::File};
use crate::threads::interrupt::IntrFrame;
use crate::threads::palloc;
use crate::threads::synch::{sema_down, sema_up, Mutex, Semaphore};
use crate::threads::thread::{self, Tid, PRI_DEFAULT};
use crate::vm::{self, Spt};

/// First file descriptor `open` may hand out (0 and 1 start as the console).
pub const FIRST_FD: i32 = 2;
/// Descriptors are 0..MAX_FD: `open` fails when all are in use and `dup2` refuses a
/// newfd outside, so a process's table (and what fork copies) stays bounded whatever
/// numbers a program asks for. (Pintos-KAIST's dup2-complex uses fd 0x1CE = 462.)
pub const MAX_FD: i32 = 512;

/// An entry of the fd table. `dup2` copies entries, so duplicated descriptors share
/// one `File` and its position, as in Pintos-KAIST.
#[derive(Clone)]
pub enum Fd {
    /// The keyboard (fd 0 at start; there is no keyboard input yet).
    Stdin,
    /// The console (fd 1 at start).
    Stdout,
    File(Arc<Mutex<File>>),
}

/// What a parent knows of one child: signalled with the exit status when it exits.
struct Child {
    done: Semaphore,
    status: AtomicI32,
}

impl Child {
    fn new() -> Arc<Child> {
        Arc::new(Child { done: Semaphore::new(0), status: AtomicI32::new(-1) })
    }
}

pub struct Process {
    pub name: String,
    pub pt: PageTable,
    /// The supplemental page table: every user page, resident or not (`vm`).
    pub spt: Spt,
    /// The user stack pointer at the last system call (a fault in the kernel's copy of
    /// a user buffer grows the stack against it).
    pub user_rsp: u64,
    pub files: BTreeMap<i32, Fd>,
    /// The executable, kept open with writes denied; its untouched pages read from it.
    exec: Option<Arc<File>>,
    /// This process's record in its parent (or in `process_run`).
    me: Arc<Child>,
    /// Children not yet waited for.
    children: BTreeMap<Tid, Arc<Child>>,
}

pub static PROCS: IrqCell<BTreeMap<Tid, Process>> = IrqCell::new(BTreeMap::new());

/// Set once a user process has run (power-off then reports free pages).
pub static RAN_USER: AtomicBool = AtomicBool::new(false);

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

/// Splits a command line at spaces (runs of spaces separate nothing).
fn split_args(cmdline: &str) -> Vec<String> {
    cmdline.split(' ').filter(|a| !a.is_empty()).map(String::from).collect()
}

/// A new address space for program `args[0]` with `args` on its stack.
struct Image {
    pt: PageTable,
    spt: Spt,
    exec: Arc<File>,
    entry: u64,
    sp: u64,
    argv: u64,
    /// The stack's frame, pinned until the process record holds `spt`.
    stack_frame: u64,
}

/// Loads program `args[0]` with `args` on its stack into a fresh address space. Prints
/// `load: PROG: REASON` on failure.
fn load_program(args: &[String]) -> Option<Image> {
    let name = args.first()?;
    let argv: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let Some(mut pt) = PageTable::new() else {
        println!("load: {name}: out of memory");
        return None;
    };
    let mut spt = Spt::new();
    let file = filesys::filesys_open(name).map(|mut f| {
        f.deny_write();
        Arc::new(f)
    });
    let loaded = match &file {
        None => Err("open failed"),
        Some(f) => load::load(&mut spt, f).and_then(|entry| load::setup_stack(&mut spt, &mut pt, &argv).map(|(sp, av, frame)| (entry, sp, av, frame))),
    };
    match loaded {
        Ok((entry, sp, argv, stack_frame)) => Some(Image { pt, spt, exec: file.unwrap(), entry, sp, argv, stack_frame }),
        Err(why) => {
            println!("load: {name}: {why}");
            vm::destroy(spt, None, thread::thread_tid());
            None
        }
    }
}

/// Runs the user program of `cmdline` ("PROG ARGS") in a new process and waits until it
/// exits; returns its exit status (`process_create_initd` + `process_wait`).
pub fn process_run(cmdline: &str) -> i32 {
    let args = split_args(cmdline);
    let Some(name) = args.first().cloned() else { return -1 };
    RAN_USER.store(true, Ordering::Relaxed);
    let me = Child::new();
    let w = me.clone();
    if thread::thread_create_user(&name, PRI_DEFAULT, move || start_process(args, w)).is_none() {
        return -1;
    }
    sema_down(&me.done);
    me.status.load(Ordering::Relaxed)
}

/// The initial process's thread: loads the program; returns the registers to enter
/// user mode with (None if loading failed).
fn start_process(args: Vec<String>, me: Arc<Child>) -> Option<IntrFrame> {
    let name = args[0].clone();
    let Some(img) = load_program(&args) else {
        finish(&name, -1, &me);
        return None;
    };
    let root = img.pt.root();
    let tid = thread::thread_tid();
    let files = BTreeMap::from([(0, Fd::Stdin), (1, Fd::Stdout)]);
    let proc = Process { name, pt: img.pt, spt: img.spt, user_rsp: img.sp, files, exec: Some(img.exec), me, children: BTreeMap::new() };
    PROCS.with(|p| p.insert(tid, proc));
    vm::install_done(&[img.stack_frame]);
    thread::thread_set_pml4(root);
    #[cfg(feature = "broken")]
    vm::broken::load_eagerly(img.sp);
    Some(user::user_frame(img.entry, img.sp, args.len() as u64, img.argv))
}

/// Prints the exit line and wakes the waiter.
fn finish(name: &str, status: i32, me: &Child) {
    println!("{name}: exit({status})");
    #[cfg(feature = "broken")]
    if vm::broken::wake_early(&me.done) {
        me.status.store(status, Ordering::Relaxed);
        return;
    }
    me.status.store(status, Ordering::Relaxed);
    sema_up(&me.done);
}

/// The parent's side of a fork: set by the child once it has copied the parent.
struct ForkDone {
    done: Semaphore,
    ok: AtomicBool,
}

/// Clones the running process into a new process (thread `name`) that resumes from
/// `frame` (the registers at the `fork` system call) with rax = 0. Returns the child's
/// pid once the child has copied the address space and files, or -1 if that failed.
pub fn process_fork(name: &str, frame: &IntrFrame) -> i64 {
    // Every heap allocation below is bounded (the fd table has at most MAX_FD entries),
    // and the pages claimed here cover it until the child has copied (see `palloc`);
    // page tables and the kernel stack fail cleanly on their own.
    let Some(claim) = palloc::claim_heap(palloc::FORK_HEAP_PAGES) else {
        return -1;
    };
    let parent = thread::thread_tid();
    let me = Child::new();
    let fork = Arc::new(ForkDone { done: Semaphore::new(0), ok: AtomicBool::new(false) });
    let mut regs = frame.clone();
    regs.rax = 0;
    let (c_me, c_fork, c_name) = (me.clone(), fork.clone(), String::from(name));
    let Some(tid) = thread::thread_create_user(name, thread::thread_get_priority(), move || {
        let regs = fork_child(parent, c_name, regs, c_me, c_fork);
        drop(claim);
        regs
    }) else {
        return -1;
    };
    sema_down(&fork.done);
    if !fork.ok.load(Ordering::Relaxed) {
        return -1;
    }
    with_current(|p| p.children.insert(tid, me));
    tid as i64
}

/// The forked child's thread: copies the (blocked) parent; returns the registers to
/// resume user mode with (None if copying failed).
fn fork_child(parent: Tid, name: String, regs: IntrFrame, me: Arc<Child>, fork: Arc<ForkDone>) -> Option<IntrFrame> {
    let fail = |me: &Child, fork: &ForkDone| {
        me.status.store(-1, Ordering::Relaxed);
        sema_up(&me.done);
        sema_up(&fork.done);
    };
    // The parent sleeps in `process_fork` until `fork.done`, so its record is stable.
    let copied = PROCS.with(|p| {
        let par = p.get_mut(&parent)?;
        Some((par.files.clone(), par.exec.clone(), par.user_rsp))
    });
    let Some((files, exec, user_rsp)) = copied else {
        fail(&me, &fork);
        return None;
    };
    let tid = thread::thread_tid();
    // Files are duplicated first (the file system may sleep); descriptors the parent
    // dup'd share one copy, as they share one file in the parent.
    let mut copies: BTreeMap<*const Mutex<File>, Arc<Mutex<File>>> = BTreeMap::new();
    let mut table = BTreeMap::new();
    for (fd, entry) in files {
        let new = match entry {
            Fd::File(f) => {
                let copy = copies.entry(Arc::as_ptr(&f)).or_insert_with(|| Arc::new(Mutex::new(f.lock().duplicate())));
                Fd::File(copy.clone())
            }
            other => other,
        };
        table.insert(fd, new);
    }
    drop(copies);
    // The child shares the executable (its untouched pages read from it, and it stays
    // write-denied while either process runs it). The VM lock is held until the child's
    // record is in PROCS (see `vm::copy_spt`).
    let vm_lock = vm::VmGuard::lock();
    let spt = PageTable::new().and_then(|mut pt| vm::copy_spt(&vm_lock, parent, tid, &mut pt).map(|spt| (pt, spt)));
    let Some((pt, spt)) = spt else {
        drop(vm_lock);
        drop(table);
        drop(exec);
        fail(&me, &fork);
        return None;
    };
    let root = pt.root();
    let frames = vm::frames_of(&spt);
    let proc = Process { name, pt, spt, user_rsp, files: table, exec, me, children: BTreeMap::new() };
    PROCS.with(|p| p.insert(tid, proc));
    drop(vm_lock);
    vm::install_done(&frames);
    drop(frames);
    thread::thread_set_pml4(root);
    fork.ok.store(true, Ordering::Relaxed);
    sema_up(&fork.done);
    Some(regs)
}

/// Replaces the running process's program with `cmdline` ("PROG ARGS"); the process
/// keeps its pid, its files and its name: as in Pintos-KAIST, the name is the thread's,
/// given when the process was created, so a process that execs child-simple still exits
/// as `exec-once: exit(81)` (what exec-once's check expects). Returns only if PROG could
/// not be loaded (with everything it allocated freed): the caller then ends the process
/// with exit(-1).
pub fn process_exec(cmdline: String) {
    let args = split_args(&cmdline);
    drop(cmdline);
    let Some(img) = load_program(&args) else { return };
    let root = img.pt.root();
    let argc = args.len() as u64;
    drop(args);
    let (old_pt, old_exec) = {
        // The old pages' frames name this thread too: they go while the clock cannot
        // look (it would find the new table under the same owner).
        let vm_lock = vm::VmGuard::lock();
        let (old_pt, old_spt, old_exec) = with_current(|p| {
            p.user_rsp = img.sp;
            (core::mem::replace(&mut p.pt, img.pt), core::mem::replace(&mut p.spt, img.spt), p.exec.replace(img.exec))
        });
        thread::thread_set_pml4(root);
        vm::destroy_locked(&vm_lock, old_spt, Some(&old_pt), thread::thread_tid());
        (old_pt, old_exec)
    };
    vm::install_done(&[img.stack_frame]);
    drop(old_pt);
    drop(old_exec);
    #[cfg(feature = "broken")]
    vm::broken::load_eagerly(img.sp);
    user::enter_user(img.entry, img.sp, argc, img.argv)
}

/// Waits for child `pid` to exit and returns its status; -1 if `pid` is not a child of
/// the running process or was already waited for.
pub fn process_wait(pid: Tid) -> i32 {
    let Some(child) = with_current(|p| p.children.remove(&pid)) else { return -1 };
    sema_down(&child.done);
    child.status.load(Ordering::Relaxed)
}

/// Ends the running process with `status`: prints `NAME: exit(STATUS)`, frees its
/// address space, files and children's records, wakes its parent and ends the thread.
pub fn process_exit(status: i32) -> ! {
    cpu::enable_interrupts();
    let tid = thread::thread_tid();
    // The record leaves PROCS and its frames are freed under the VM lock, so the clock
    // never finds a frame whose owner is gone.
    let vm_lock = vm::VmGuard::lock();
    let proc = PROCS
        .with(|p| {
            let proc = p.remove(&tid);
            if p.is_empty() {
                // Give back the map's last node: with no process left, the heap is back
                // where it was before the first one (the leak checks compare).
                *p = BTreeMap::new();
            }
            proc
        })
        .expect("process_exit: not a user process");
    thread::thread_set_pml4(0);
    let Process { name, pt, spt, user_rsp: _, files, exec, me, children } = proc;
    #[cfg(feature = "broken")]
    let spt = vm::broken::leak_frame(spt);
    vm::destroy_locked(&vm_lock, spt, Some(&pt), tid);
    drop(vm_lock);
    drop(pt);
    drop(files);
    drop(exec);
    drop(children);
    finish(&name, status, &me);
    drop(name);
    drop(me);
    thread::thread_exit()
}
