//! The priority tests: the highest-priority thread runs; creation, unblocking and
//! lowering one's own priority preempt at once; equal priorities round-robin in FIFO
//! order; semaphore and condition waiters wake highest first; and priority donation
//! through locks (one, multiple, nested, chained, through a semaphore, base lowered
//! while donated to).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::require_mlfqs;
use crate::arch::cell::IrqCell;
use crate::threads::synch::{cond_signal, cond_wait, lock_acquire, lock_release, sema_down, sema_up, Condition, Lock, Semaphore};
use crate::threads::thread::{thread_create, thread_get_priority, thread_name, thread_set_priority, thread_yield, PRI_DEFAULT, PRI_MIN};

pub fn test_priority_change() {
    require_mlfqs(false);
    msg!("Creating a high-priority thread 2.");
    thread_create("thread 2", PRI_DEFAULT + 1, || {
        msg!("Thread 2 now lowering priority.");
        thread_set_priority(PRI_DEFAULT - 1);
        msg!("Thread 2 exiting.");
    });
    msg!("Thread 2 should have just lowered its priority.");
    thread_set_priority(PRI_DEFAULT - 2);
    msg!("Thread 2 should have just exited.");
}

pub fn test_priority_preempt() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    thread_create("high-priority", PRI_DEFAULT + 1, || {
        for i in 0..5 {
            msg!("Thread {} iteration {i}", thread_name());
            thread_yield();
        }
        msg!("Thread {} done!", thread_name());
    });
    msg!("The high-priority thread should have already completed.");
}

pub fn test_priority_fifo() {
    const THREAD_CNT: usize = 16;
    const ITER_CNT: usize = 16;
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    msg!("{THREAD_CNT} threads will iterate {ITER_CNT} times in the same order each time.");
    msg!("If the order varies then there is a bug.");
    let lock = Arc::new(Lock::new());
    let output: Arc<IrqCell<Vec<usize>>> = Arc::new(IrqCell::new(Vec::new()));
    thread_set_priority(PRI_DEFAULT + 2);
    for id in 0..THREAD_CNT {
        let (lock, output) = (lock.clone(), output.clone());
        thread_create(&format!("{id}"), PRI_DEFAULT + 1, move || {
            for _ in 0..ITER_CNT {
                lock_acquire(&lock);
                output.with(|o| o.push(id));
                lock_release(&lock);
                thread_yield();
            }
        });
    }
    thread_set_priority(PRI_DEFAULT);
    // All the other threads have run to completion by now.
    assert!(lock.holder().is_none());
    let out = output.with(|o| o.clone());
    for line in out.chunks(THREAD_CNT) {
        let mut s = String::from("iteration:");
        for id in line {
            s += &format!(" {id}");
        }
        msg!("{s}");
    }
}

pub fn test_priority_sema() {
    require_mlfqs(false);
    let sema = Arc::new(Semaphore::new(0));
    thread_set_priority(PRI_MIN);
    for i in 0..10 {
        let priority = PRI_DEFAULT - (i + 3) % 10 - 1;
        let sema = sema.clone();
        thread_create(&format!("priority {priority}"), priority, move || {
            sema_down(&sema);
            msg!("Thread {} woke up.", thread_name());
        });
    }
    for _ in 0..10 {
        sema_up(&sema);
        msg!("Back in main thread.");
    }
}

pub fn test_priority_condvar() {
    require_mlfqs(false);
    let lock = Arc::new(Lock::new());
    let cond = Arc::new(Condition::new());
    thread_set_priority(PRI_MIN);
    for i in 0..10 {
        let priority = PRI_DEFAULT - (i + 7) % 10 - 1;
        let (lock, cond) = (lock.clone(), cond.clone());
        thread_create(&format!("priority {priority}"), priority, move || {
            msg!("Thread {} starting.", thread_name());
            lock_acquire(&lock);
            cond_wait(&cond, &lock);
            msg!("Thread {} woke up.", thread_name());
            lock_release(&lock);
        });
    }
    for _ in 0..10 {
        lock_acquire(&lock);
        msg!("Signaling...");
        cond_signal(&cond, &lock);
        lock_release(&lock);
    }
}

/// A thread that takes `lock`, says so as NAME, releases it and says it is done.
fn acquirer(lock: &Arc<Lock>, got: &'static str, done: &'static str) -> impl FnOnce() + Send + 'static {
    let lock = lock.clone();
    move || {
        lock_acquire(&lock);
        msg!("{got}");
        lock_release(&lock);
        msg!("{done}");
    }
}

pub fn test_priority_donate_one() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let lock = Arc::new(Lock::new());
    lock_acquire(&lock);
    thread_create("acquire1", PRI_DEFAULT + 1, acquirer(&lock, "acquire1: got the lock", "acquire1: done"));
    msg!("This thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 1, thread_get_priority());
    thread_create("acquire2", PRI_DEFAULT + 2, acquirer(&lock, "acquire2: got the lock", "acquire2: done"));
    msg!("This thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 2, thread_get_priority());
    lock_release(&lock);
    msg!("acquire2, acquire1 must already have finished, in that order.");
    msg!("This should be the last line before finishing this test.");
}

pub fn test_priority_donate_multiple() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let (a, b) = (Arc::new(Lock::new()), Arc::new(Lock::new()));
    lock_acquire(&a);
    lock_acquire(&b);
    thread_create("a", PRI_DEFAULT + 1, acquirer(&a, "Thread a acquired lock a.", "Thread a finished."));
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 1, thread_get_priority());
    thread_create("b", PRI_DEFAULT + 2, acquirer(&b, "Thread b acquired lock b.", "Thread b finished."));
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 2, thread_get_priority());
    lock_release(&b);
    msg!("Thread b should have just finished.");
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 1, thread_get_priority());
    lock_release(&a);
    msg!("Thread a should have just finished.");
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT, thread_get_priority());
}

pub fn test_priority_donate_multiple2() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let (a, b) = (Arc::new(Lock::new()), Arc::new(Lock::new()));
    lock_acquire(&a);
    lock_acquire(&b);
    thread_create("a", PRI_DEFAULT + 3, acquirer(&a, "Thread a acquired lock a.", "Thread a finished."));
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 3, thread_get_priority());
    thread_create("c", PRI_DEFAULT + 1, || msg!("Thread c finished."));
    thread_create("b", PRI_DEFAULT + 5, acquirer(&b, "Thread b acquired lock b.", "Thread b finished."));
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 5, thread_get_priority());
    lock_release(&a);
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 5, thread_get_priority());
    lock_release(&b);
    msg!("Threads b, a, c should have just finished, in that order.");
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT, thread_get_priority());
}

pub fn test_priority_donate_nest() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let (a, b) = (Arc::new(Lock::new()), Arc::new(Lock::new()));
    lock_acquire(&a);
    let (ma, mb) = (a.clone(), b.clone());
    thread_create("medium", PRI_DEFAULT + 1, move || {
        lock_acquire(&mb);
        lock_acquire(&ma);
        msg!("Medium thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 2, thread_get_priority());
        msg!("Medium thread got the lock.");
        lock_release(&ma);
        thread_yield();
        lock_release(&mb);
        thread_yield();
        msg!("High thread should have just finished.");
        msg!("Middle thread finished.");
    });
    thread_yield();
    msg!("Low thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 1, thread_get_priority());
    thread_create("high", PRI_DEFAULT + 2, acquirer(&b, "High thread got the lock.", "High thread finished."));
    thread_yield();
    msg!("Low thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 2, thread_get_priority());
    lock_release(&a);
    thread_yield();
    msg!("Medium thread should just have finished.");
    msg!("Low thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT, thread_get_priority());
}

pub fn test_priority_donate_sema() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let ls = Arc::new((Lock::new(), Semaphore::new(0)));
    let l = ls.clone();
    thread_create("low", PRI_DEFAULT + 1, move || {
        lock_acquire(&l.0);
        msg!("Thread L acquired lock.");
        sema_down(&l.1);
        msg!("Thread L downed semaphore.");
        lock_release(&l.0);
        msg!("Thread L finished.");
    });
    let m = ls.clone();
    thread_create("med", PRI_DEFAULT + 3, move || {
        sema_down(&m.1);
        msg!("Thread M finished.");
    });
    let h = ls.clone();
    thread_create("high", PRI_DEFAULT + 5, move || {
        lock_acquire(&h.0);
        msg!("Thread H acquired lock.");
        sema_up(&h.1);
        lock_release(&h.0);
        msg!("Thread H finished.");
    });
    sema_up(&ls.1);
    msg!("Main thread finished.");
}

pub fn test_priority_donate_lower() {
    require_mlfqs(false);
    assert_eq!(thread_get_priority(), PRI_DEFAULT);
    let lock = Arc::new(Lock::new());
    lock_acquire(&lock);
    thread_create("acquire", PRI_DEFAULT + 10, acquirer(&lock, "acquire: got the lock", "acquire: done"));
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 10, thread_get_priority());
    msg!("Lowering base priority...");
    thread_set_priority(PRI_DEFAULT - 10);
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT + 10, thread_get_priority());
    lock_release(&lock);
    msg!("acquire must already have finished.");
    msg!("Main thread should have priority {}.  Actual priority: {}.", PRI_DEFAULT - 10, thread_get_priority());
}

pub fn test_priority_donate_chain() {
    const NESTING_DEPTH: usize = 8;
    require_mlfqs(false);
    thread_set_priority(PRI_MIN);
    let locks: Arc<Vec<Lock>> = Arc::new((0..NESTING_DEPTH - 1).map(|_| Lock::new()).collect());
    lock_acquire(&locks[0]);
    msg!("{} got lock.", thread_name());
    for i in 1..NESTING_DEPTH {
        let thread_priority = PRI_MIN + i as i32 * 3;
        let l = locks.clone();
        // Thread i holds lock i (if any) and waits for lock i-1.
        thread_create(&format!("thread {i}"), thread_priority, move || {
            let first = (i < NESTING_DEPTH - 1).then(|| &l[i]);
            let second = &l[i - 1];
            if let Some(f) = first {
                lock_acquire(f);
            }
            lock_acquire(second);
            msg!("{} got lock", thread_name());
            lock_release(second);
            msg!("{} should have priority {}. Actual priority: {}", thread_name(), (NESTING_DEPTH - 1) * 3, thread_get_priority());
            if let Some(f) = first {
                lock_release(f);
            }
            msg!("{} finishing with priority {}.", thread_name(), thread_get_priority());
        });
        msg!("{} should have priority {}.  Actual priority: {}.", thread_name(), thread_priority, thread_get_priority());
        thread_create(&format!("interloper {i}"), thread_priority - 1, || msg!("{} finished.", thread_name()));
    }
    lock_release(&locks[0]);
    msg!("{} finishing with priority {}.", thread_name(), thread_get_priority());
}
