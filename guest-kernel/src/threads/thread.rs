//! Kernel threads and the scheduler.
//!
//! # Design
//!
//! All scheduler state is one `Sched` in an `IrqCell`: the threads by tid (a `BTreeMap`,
//! so every iteration order is deterministic), the ready queue (tids in FIFO order), the
//! sleeping threads of `timer_sleep`, and which thread holds which lock (for donation).
//! A thread's kernel stack is `STACK_PAGES` pages from the kernel pool; its saved context
//! (callee-saved registers + FXSAVE area) is on that stack, its saved RSP in an
//! `arch::context` slot. The initial thread ("main") keeps running on the boot stack.
//!
//! `schedule` runs with interrupts off after the caller has set the running thread's new
//! status (ready, blocked or dying). It picks the highest-priority ready thread (the
//! first of equals, so equal priorities round-robin), points TSS.RSP0 at its stack, and
//! switches. Pages of dying threads are freed by whoever runs next (`schedule_tail`),
//! since a thread cannot free the stack it is running on. The idle thread is never on
//! the ready queue: it runs when the queue is empty and halts (`sti; hlt`), so virtual
//! time skips to the next interrupt.
//!
//! Preemption: the timer interrupt calls `thread_tick`, which counts the slice and asks
//! for a yield when it reaches `TIME_SLICE` ticks or a woken thread outranks the running
//! one. The yield happens in `interrupt::dispatch` after the EOI ("yield on return"):
//! the interrupt stub runs handlers on the interrupted thread's own stack, so switching
//! there is an ordinary switch, and the interrupted thread resumes through the stub's
//! `iretq` when it is scheduled again.
//!
//! Priorities: `priority` is the effective priority. Without `-mlfqs` it is the base
//! priority raised by donation: `recompute_priorities` sets every thread to its base and
//! then, until nothing changes, raises each lock holder to the priority of the threads
//! waiting for its locks. That covers nested and chained donation to any depth,
//! multiple locks, and donation removed on release, at O(threads²) per lock operation,
//! which is nothing at Pintos' thread counts. When no thread waits for a held lock and
//! no priority is raised (the common case: a lock nobody contends for), there is
//! nothing to recompute and it returns at once, so uncontended locks cost O(1) even
//! with hundreds of threads (multi-oom's chains of processes take the file-system lock
//! for every file they open, duplicate and close). With `-mlfqs` priorities come from the
//! 4.4BSD formulas instead (recomputed every 4 ticks, `load_avg` and `recent_cpu` every
//! second) and there is no donation.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::fixed_point::Fixed;
use super::interrupt::{self, IntrFrame};
use super::palloc::{self, Pool, PGSIZE};
use crate::arch::cell::IrqCell;
use crate::arch::context::{self, MAX_THREADS};
use crate::arch::{cpu, gdt, paging};
use crate::devices::timer::TIMER_FREQ;

pub type Tid = u64;

pub const PRI_MIN: i32 = 0;
pub const PRI_DEFAULT: i32 = 31;
pub const PRI_MAX: i32 = 63;
pub const NICE_MIN: i32 = -20;
pub const NICE_MAX: i32 = 20;
/// Timer ticks each thread gets before it is preempted.
pub const TIME_SLICE: u32 = 4;
/// Pages of each thread's kernel stack.
const STACK_PAGES: usize = 4;

/// Identifies a lock (for donation); see `synch`.
pub type LockId = u64;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Running,
    Ready,
    Blocked,
    Dying,
}

struct Thread {
    name: String,
    status: Status,
    /// Priority set by thread_create / thread_set_priority.
    base_priority: i32,
    /// Effective priority: base + donations, or the MLFQS priority.
    priority: i32,
    nice: i32,
    recent_cpu: Fixed,
    /// The lock this thread waits for, if any.
    waiting_lock: Option<LockId>,
    /// Tick at which `timer_sleep` wakes it.
    wake_tick: i64,
    /// Its `arch::context` slot.
    slot: usize,
    /// Bottom of its kernel stack (None for the initial thread's boot stack).
    stack: Option<u64>,
    /// Physical address of its process's PML4 (0: the boot page tables).
    pml4: u64,
    /// What to run, until it starts.
    func: Option<ThreadFn>,
}

struct Sched {
    threads: BTreeMap<Tid, Thread>,
    ready: VecDeque<Tid>,
    sleepers: Vec<Tid>,
    /// Lock → holder.
    lock_holders: BTreeMap<LockId, Tid>,
    current: Tid,
    idle: Option<Tid>,
    next_tid: Tid,
    free_slots: Vec<usize>,
    next_slot: usize,
    /// Threads that have exited and wait for `schedule_tail` to free them.
    dying: Vec<Tid>,
    /// Threads whose `waiting_lock` is set.
    lock_waiters: usize,
    /// Whether some thread's priority is above its base (a donation is in effect).
    raised: bool,
    /// Ticks the running thread has had in its slice.
    slice: u32,
    idle_ticks: u64,
    kernel_ticks: u64,
    user_ticks: u64,
    load_avg: Fixed,
    mlfqs: bool,
}

static SCHED: IrqCell<Sched> = IrqCell::new(Sched {
    threads: BTreeMap::new(),
    ready: VecDeque::new(),
    sleepers: Vec::new(),
    lock_holders: BTreeMap::new(),
    current: 0,
    idle: None,
    next_tid: 1,
    free_slots: Vec::new(),
    next_slot: 0,
    dying: Vec::new(),
    lock_waiters: 0,
    raised: false,
    slice: 0,
    idle_ticks: 0,
    kernel_ticks: 0,
    user_ticks: 0,
    load_avg: Fixed::ZERO,
    mlfqs: false,
});

impl Sched {
    fn cur(&mut self) -> &mut Thread {
        let cur = self.current;
        self.threads.get_mut(&cur).expect("no current thread")
    }

    fn alloc_slot(&mut self) -> usize {
        if let Some(s) = self.free_slots.pop() {
            return s;
        }
        assert!(self.next_slot < MAX_THREADS, "too many threads");
        self.next_slot += 1;
        self.next_slot - 1
    }

    /// Highest priority among ready threads.
    fn max_ready_priority(&self) -> Option<i32> {
        self.ready.iter().map(|t| self.threads[t].priority).max()
    }

    /// Would a ready thread run instead of the current one?
    fn should_preempt(&self) -> bool {
        if Some(self.current) == self.idle {
            return !self.ready.is_empty();
        }
        match self.max_ready_priority() {
            Some(p) => p > self.threads[&self.current].priority,
            None => false,
        }
    }

    /// Removes and returns the next thread to run: the first ready thread of the highest
    /// priority, else the idle thread.
    fn next_to_run(&mut self) -> Tid {
        match self.max_ready_priority() {
            Some(p) => {
                let i = self.ready.iter().position(|t| self.threads[t].priority == p).unwrap();
                self.ready.remove(i).unwrap()
            }
            None => self.idle.expect("nothing to run and no idle thread"),
        }
    }

    fn recompute_priorities(&mut self) {
        // With no waiter and no donation every priority already equals its base.
        if self.mlfqs || (self.lock_waiters == 0 && !self.raised) {
            return;
        }
        for t in self.threads.values_mut() {
            t.priority = t.base_priority;
        }
        loop {
            let mut raises = Vec::new();
            for (tid, t) in &self.threads {
                if let Some(holder) = t.waiting_lock.and_then(|l| self.lock_holders.get(&l)) {
                    if *holder != *tid && self.threads[holder].priority < t.priority {
                        raises.push((*holder, t.priority));
                    }
                }
            }
            if raises.is_empty() {
                break;
            }
            for (h, p) in raises {
                let h = self.threads.get_mut(&h).unwrap();
                h.priority = h.priority.max(p);
            }
        }
        self.raised = self.threads.values().any(|t| t.priority != t.base_priority);
    }

    fn unblock(&mut self, tid: Tid) {
        let t = self.threads.get_mut(&tid).expect("unblock: no such thread");
        assert_eq!(t.status, Status::Blocked, "unblock: thread {tid} not blocked");
        t.status = Status::Ready;
        self.ready.push_back(tid);
    }

    fn mlfqs_priority(t: &Thread) -> i32 {
        (PRI_MAX - t.recent_cpu.div_int(4).trunc() - t.nice * 2).clamp(PRI_MIN, PRI_MAX)
    }
}

/// Turns the running code into the initial thread "main". Called once at boot, with the
/// heap ready and interrupts off.
pub fn thread_init(mlfqs: bool) {
    SCHED.with(|s| {
        s.mlfqs = mlfqs;
        // The queues never hold more than MAX_THREADS tids: sized once here, they never
        // allocate again (not in interrupt handlers, not when memory is short), and the
        // heap's use returns to the same level whenever the same threads exist.
        s.ready.reserve_exact(MAX_THREADS);
        s.sleepers.reserve_exact(MAX_THREADS);
        s.free_slots.reserve_exact(MAX_THREADS);
        s.dying.reserve_exact(MAX_THREADS);
        let slot = s.alloc_slot();
        let tid = s.next_tid;
        s.next_tid += 1;
        s.threads.insert(tid, new_thread("main", PRI_DEFAULT, 0, Fixed::ZERO, slot, None));
        s.threads.get_mut(&tid).unwrap().status = Status::Running;
        s.current = tid;
    });
}

fn new_thread(name: &str, priority: i32, nice: i32, recent_cpu: Fixed, slot: usize, stack: Option<u64>) -> Thread {
    let mut t = Thread {
        name: String::from(name),
        status: Status::Blocked,
        base_priority: priority,
        priority,
        nice,
        recent_cpu,
        waiting_lock: None,
        wake_tick: 0,
        slot,
        stack,
        pml4: 0,
        func: None,
    };
    if crate::threads::init::THREAD_MLFQS.load(Ordering::Relaxed) {
        t.priority = Sched::mlfqs_priority(&t);
    }
    t
}

/// Starts preemptive scheduling: creates the idle thread and enables interrupts.
pub fn thread_start() {
    let idle = thread_create_blocked("idle", PRI_MIN, Box::new(|| {
        idle();
        None
    }))
    .expect("no memory for the idle thread");
    SCHED.with(|s| s.idle = Some(idle));
    cpu::enable_interrupts();
}

fn idle() {
    loop {
        cpu::disable_interrupts();
        thread_block();
        // STI's shadow covers HLT: an interrupt between them cannot be lost.
        cpu::wait_for_interrupt();
    }
}

/// Creates a thread named `name` at `priority` that runs `func`, and puts it on the
/// ready queue; yields at once if it outranks the caller. Returns its tid.
pub fn thread_create(name: &str, priority: i32, func: impl FnOnce() + Send + 'static) -> Tid {
    thread_create_user(name, priority, move || {
        func();
        None
    })
    .expect("thread_create: out of kernel pages or thread slots")
}

/// A thread's function: returns the user-mode registers to enter, if any, once its own
/// allocation has been freed (user mode never returns to it, so a box still alive then
/// would leak).
type ThreadFn = Box<dyn FnOnce() -> Option<IntrFrame> + Send>;

/// As `thread_create`, for a thread that may go to user mode: when `func` returns
/// `Some(frame)`, the thread enters user mode with those registers (a process, which
/// ends through `process_exit`); `None` ends the thread. None (and `func` dropped
/// unrun) when out of kernel pages or thread slots, so fork can fail instead of panicking.
pub fn thread_create_user(name: &str, priority: i32, func: impl FnOnce() -> Option<IntrFrame> + Send + 'static) -> Option<Tid> {
    assert!((PRI_MIN..=PRI_MAX).contains(&priority), "bad priority {priority}");
    let tid = thread_create_blocked(name, priority, Box::new(func))?;
    thread_unblock(tid);
    preempt_check();
    Some(tid)
}

fn thread_create_blocked(name: &str, priority: i32, func: ThreadFn) -> Option<Tid> {
    let stack = palloc::get_multiple(Pool::Kernel, STACK_PAGES, false)?;
    let created = SCHED.with(|s| {
        if s.free_slots.is_empty() && s.next_slot >= MAX_THREADS {
            return None;
        }
        let tid = s.next_tid;
        s.next_tid += 1;
        let slot = s.alloc_slot();
        // A new thread inherits nice and recent_cpu (used by the MLFQS).
        let (nice, recent) = { let c = s.cur(); (c.nice, c.recent_cpu) };
        let mut t = new_thread(name, priority, nice, recent, slot, Some(stack));
        t.func = Some(func);
        context::prepare(slot, stack + STACK_PAGES as u64 * PGSIZE, thread_entry, tid);
        s.threads.insert(tid, t);
        Some(tid)
    });
    if created.is_none() {
        palloc::free_multiple(stack, STACK_PAGES);
    }
    created
}

/// Where every new thread starts (on its own stack, interrupts off).
extern "C" fn thread_entry(tid: u64) -> ! {
    schedule_tail();
    let func = SCHED.with(|s| s.threads.get_mut(&tid).and_then(|t| t.func.take())).expect("thread started twice");
    cpu::enable_interrupts();
    if let Some(frame) = func() {
        crate::arch::user::resume_user(frame)
    }
    thread_exit()
}

/// Puts the running thread to sleep until `thread_unblock`. Interrupts must be off.
pub fn thread_block() {
    assert!(!cpu::interrupts_enabled(), "thread_block with interrupts on");
    assert!(!interrupt::in_external(), "thread_block in an interrupt handler");
    SCHED.with(|s| s.cur().status = Status::Blocked);
    schedule();
}

/// Makes blocked thread `tid` ready. Does not preempt the caller (see `preempt_check`).
pub fn thread_unblock(tid: Tid) {
    SCHED.with(|s| s.unblock(tid));
}

/// Yields the CPU if a ready thread outranks the running one; from an interrupt handler,
/// yields when the handler returns.
pub fn preempt_check() {
    if SCHED.with(|s| s.should_preempt()) {
        if interrupt::in_external() {
            interrupt::yield_on_return();
        } else {
            thread_yield();
        }
    }
}

/// Gives up the CPU; the thread stays ready and may be picked again at once.
pub fn thread_yield() {
    cpu::without_interrupts(|| {
        SCHED.with(|s| {
            let cur = s.current;
            if Some(cur) != s.idle {
                s.ready.push_back(cur);
            }
            s.cur().status = Status::Ready;
        });
        schedule();
    })
}

/// Ends the running thread; its stack is freed once another thread runs.
pub fn thread_exit() -> ! {
    cpu::disable_interrupts();
    SCHED.with(|s| {
        let cur = s.current;
        s.dying.push(cur);
        s.cur().status = Status::Dying;
    });
    schedule();
    unreachable!("a dying thread was scheduled")
}

fn schedule() {
    assert!(!cpu::interrupts_enabled());
    let switch = SCHED.with(|s| {
        let prev = s.current;
        let next = s.next_to_run();
        s.slice = 0;
        let n = s.threads.get_mut(&next).unwrap();
        n.status = Status::Running;
        if let Some(stack) = n.stack {
            gdt::set_kernel_stack(stack + STACK_PAGES as u64 * PGSIZE);
        }
        if next != prev {
            paging::load_cr3(n.pml4);
        }
        if next == prev {
            return None;
        }
        let to = n.slot;
        s.current = next;
        Some((s.threads[&prev].slot, to))
    });
    if let Some((from, to)) = switch {
        context::switch(from, to);
        schedule_tail();
    }
}

/// After a switch, in the thread switched to: frees dying threads.
fn schedule_tail() {
    loop {
        let dead = SCHED.with(|s| {
            let cur = s.current;
            let i = s.dying.iter().position(|&t| t != cur)?;
            let tid = s.dying.remove(i);
            let th = s.threads.remove(&tid).expect("dying thread not in the table");
            s.free_slots.push(th.slot);
            Some(th)
        });
        let Some(t) = dead else { break };
        if let Some(stack) = t.stack {
            palloc::free_multiple(stack, STACK_PAGES);
        }
    }
}

/// Called by the timer interrupt at each tick (`now` = ticks since boot): statistics, the
/// MLFQS bookkeeping, waking sleepers, and the time slice.
pub fn thread_tick(now: i64) {
    let preempt = SCHED.with(|s| {
        let cur = s.current;
        let idle = Some(cur) == s.idle;
        if idle {
            s.idle_ticks += 1;
        } else if s.cur().pml4 != 0 {
            s.user_ticks += 1;
        } else {
            s.kernel_ticks += 1;
        }
        if s.mlfqs {
            if !idle {
                let c = s.cur();
                c.recent_cpu = c.recent_cpu.add_int(1);
            }
            if now % TIMER_FREQ as i64 == 0 {
                let ready = s.ready.len() as i32 + if idle { 0 } else { 1 };
                s.load_avg = s.load_avg.mul(Fixed::from_int(59).div_int(60)).add(Fixed::from_int(ready).div_int(60));
                let twice = s.load_avg.mul_int(2);
                let coeff = twice.div(twice.add_int(1));
                let idle_tid = s.idle;
                for (tid, t) in s.threads.iter_mut() {
                    if Some(*tid) != idle_tid {
                        t.recent_cpu = coeff.mul(t.recent_cpu).add_int(t.nice);
                    }
                }
            }
            if now % 4 == 0 {
                let idle_tid = s.idle;
                for (tid, t) in s.threads.iter_mut() {
                    if Some(*tid) != idle_tid {
                        t.priority = Sched::mlfqs_priority(t);
                    }
                }
            }
        }
        // Wake the sleepers whose time has come, in the order they went to sleep.
        let mut i = 0;
        while i < s.sleepers.len() {
            let tid = s.sleepers[i];
            if s.threads[&tid].wake_tick <= now {
                s.sleepers.remove(i);
                s.unblock(tid);
            } else {
                i += 1;
            }
        }
        s.slice += 1;
        (s.slice >= TIME_SLICE && !s.ready.is_empty()) || s.should_preempt()
    });
    if preempt {
        interrupt::yield_on_return();
    }
}

/// Blocks the running thread until tick `wake`. Interrupts must be off.
pub fn thread_sleep_until(wake: i64) {
    assert!(!cpu::interrupts_enabled());
    SCHED.with(|s| {
        let cur = s.current;
        s.cur().wake_tick = wake;
        s.sleepers.push(cur);
    });
    thread_block();
}

/// Sets the running thread's address space (a PML4 physical address, 0 for the boot
/// tables) and loads it; `schedule` reloads it whenever the thread runs.
pub fn thread_set_pml4(root: u64) {
    SCHED.with(|s| s.cur().pml4 = root);
    paging::load_cr3(root);
}

pub fn thread_tid() -> Tid {
    SCHED.with(|s| s.current)
}

pub fn thread_name() -> String {
    SCHED.with(|s| s.cur().name.clone())
}

/// The effective priority of the running thread.
pub fn thread_get_priority() -> i32 {
    SCHED.with(|s| s.cur().priority)
}

/// The effective priority of thread `tid` (PRI_MIN if it is gone).
pub fn thread_priority_of(tid: Tid) -> i32 {
    SCHED.with(|s| s.threads.get(&tid).map_or(PRI_MIN, |t| t.priority))
}

/// Sets the running thread's base priority (ignored under the MLFQS) and yields if it no
/// longer has the highest priority.
pub fn thread_set_priority(priority: i32) {
    assert!((PRI_MIN..=PRI_MAX).contains(&priority), "bad priority {priority}");
    SCHED.with(|s| {
        if !s.mlfqs {
            let c = s.cur();
            c.base_priority = priority;
            // Without donations the effective priority is the base (the fast path of
            // `recompute_priorities` leaves it alone).
            c.priority = priority;
            s.recompute_priorities();
        }
    });
    preempt_check();
}

pub fn thread_get_nice() -> i32 {
    SCHED.with(|s| s.cur().nice)
}

/// Sets the running thread's nice value, recomputes its priority and yields if it no
/// longer has the highest priority.
pub fn thread_set_nice(nice: i32) {
    SCHED.with(|s| {
        let c = s.cur();
        c.nice = nice.clamp(NICE_MIN, NICE_MAX);
        if s.mlfqs {
            let c = s.cur();
            c.priority = Sched::mlfqs_priority(c);
        }
    });
    preempt_check();
}

/// 100 times the system load average, rounded.
pub fn thread_get_load_avg() -> i32 {
    SCHED.with(|s| s.load_avg.mul_int(100).round())
}

/// 100 times the running thread's recent_cpu, rounded.
pub fn thread_get_recent_cpu() -> i32 {
    SCHED.with(|s| s.cur().recent_cpu.mul_int(100).round())
}

/// Donation bookkeeping for `synch`: the running thread starts waiting for `lock`.
pub(super) fn donate_wait(lock: LockId) {
    SCHED.with(|s| {
        if s.lock_holders.contains_key(&lock) {
            if s.cur().waiting_lock.replace(lock).is_none() {
                s.lock_waiters += 1;
            }
            s.recompute_priorities();
        }
    });
}

/// Thread `tid` (running, or a waiter the lock was handed to) now holds `lock`.
pub(super) fn lock_taken(lock: LockId, tid: Tid) {
    SCHED.with(|s| {
        let t = s.threads.get_mut(&tid).expect("lock taken by an unknown thread");
        if t.waiting_lock.take().is_some() {
            s.lock_waiters -= 1;
        }
        s.lock_holders.insert(lock, tid);
        s.recompute_priorities();
    });
}

/// The running thread released `lock`: donations through it end.
pub(super) fn lock_dropped(lock: LockId) {
    SCHED.with(|s| {
        s.lock_holders.remove(&lock);
        s.recompute_priorities();
    });
}

/// The holder of `lock`, if any.
pub(super) fn lock_holder(lock: LockId) -> Option<Tid> {
    SCHED.with(|s| s.lock_holders.get(&lock).copied())
}

/// Prints the tick statistics (at power-off).
pub fn thread_print_stats() {
    if let Some((i, k, u)) = SCHED.try_with(|s| (s.idle_ticks, s.kernel_ticks, s.user_ticks)) {
        println!("Thread: {i} idle ticks, {k} kernel ticks, {u} user ticks");
    }
}
