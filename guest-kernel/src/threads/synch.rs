//! Semaphores, locks and condition variables, with priority donation.
//!
//! Waiters are woken highest (effective) priority first, the earliest of equals; the
//! priority is read at wake-up time, so donations received while waiting count. A lock
//! is a binary semaphore plus a holder; the scheduler keeps lock → holder and thread →
//! awaited lock (see `thread`), from which it derives donated priorities; a release hands
//! the lock straight to its highest waiter (see `lock_release`). A condition
//! variable gives each waiter its own semaphore, as Pintos does, so a signal can never
//! be lost between releasing the lock and blocking. `Mutex` pairs a lock with the data
//! it guards, for thread-only state held across sleeps (the file system's).
//!
//! Every operation runs with interrupts off (one CPU), and never holds an `IrqCell`
//! across a block or a yield.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use super::interrupt;
use super::thread::{self, LockId, Tid};
use crate::arch::cell::IrqCell;
use crate::arch::cpu;

struct SemaState {
    value: u32,
    waiters: Vec<Tid>,
}

pub struct Semaphore {
    state: IrqCell<SemaState>,
}

impl Semaphore {
    /// `sema_init`.
    pub const fn new(value: u32) -> Semaphore {
        Semaphore { state: IrqCell::new(SemaState { value, waiters: Vec::new() }) }
    }

    pub fn value(&self) -> u32 {
        self.state.with(|s| s.value)
    }
}

/// Index of the highest-priority tid in `tids` (the first of equals).
fn highest(tids: impl Iterator<Item = Tid>) -> Option<usize> {
    let mut best: Option<(usize, i32)> = None;
    for (i, t) in tids.enumerate() {
        let p = thread::thread_priority_of(t);
        if best.is_none_or(|(_, bp)| p > bp) {
            best = Some((i, p));
        }
    }
    best.map(|(i, _)| i)
}

/// Decrements the value if it is positive (true); otherwise queues `me` as a waiter
/// (false), and the caller blocks.
fn take_or_wait(sema: &Semaphore, me: Tid) -> bool {
    sema.state.with(|s| {
        if s.value > 0 {
            s.value -= 1;
            true
        } else {
            s.waiters.push(me);
            false
        }
    })
}

/// Waits until the value is positive, then decrements it.
pub fn sema_down(sema: &Semaphore) {
    assert!(!interrupt::in_external(), "sema_down in an interrupt handler");
    cpu::without_interrupts(|| loop {
        if take_or_wait(sema, thread::thread_tid()) {
            return;
        }
        thread::thread_block();
    })
}

/// Decrements the value if it is positive; returns whether it did.
pub fn sema_try_down(sema: &Semaphore) -> bool {
    sema.state.with(|s| {
        if s.value > 0 {
            s.value -= 1;
            true
        } else {
            false
        }
    })
}

/// Increments the value and wakes the highest-priority waiter, yielding to it if it
/// outranks the caller. May be called from an interrupt handler.
pub fn sema_up(sema: &Semaphore) {
    cpu::without_interrupts(|| {
        let woken = sema.state.with(|s| {
            s.value += 1;
            let woken = highest(s.waiters.iter().copied()).map(|i| s.waiters.remove(i));
            if s.waiters.is_empty() {
                // An idle semaphore holds no heap memory (the leak checks count it).
                s.waiters = Vec::new();
            }
            woken
        });
        if let Some(t) = woken {
            thread::thread_unblock(t);
        }
        thread::preempt_check();
    })
}

static NEXT_LOCK: AtomicU64 = AtomicU64::new(1);

/// A lock: held by at most one thread, released only by its holder; not recursive.
pub struct Lock {
    id: LockId,
    sema: Semaphore,
}

impl Lock {
    /// `lock_init`.
    pub fn new() -> Lock {
        Lock { id: NEXT_LOCK.fetch_add(1, Ordering::Relaxed), sema: Semaphore::new(1) }
    }

    pub fn holder(&self) -> Option<Tid> {
        thread::lock_holder(self.id)
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

pub fn lock_held_by_current_thread(lock: &Lock) -> bool {
    lock.holder() == Some(thread::thread_tid())
}

/// Acquires `lock`, sleeping until it is free; while it waits, the caller donates its
/// priority to the holder (and on down the chain of holders).
pub fn lock_acquire(lock: &Lock) {
    assert!(!lock_held_by_current_thread(lock), "lock_acquire: already held");
    cpu::without_interrupts(|| {
        thread::donate_wait(lock.id);
        let me = thread::thread_tid();
        loop {
            if take_or_wait(&lock.sema, me) {
                thread::lock_taken(lock.id, me);
                return;
            }
            thread::thread_block();
            // Woken by `lock_release`, which handed the lock over.
            if thread::lock_holder(lock.id) == Some(me) {
                return;
            }
        }
    })
}

/// Acquires `lock` if it is free; returns whether it did.
pub fn lock_try_acquire(lock: &Lock) -> bool {
    assert!(!lock_held_by_current_thread(lock), "lock_try_acquire: already held");
    cpu::without_interrupts(|| {
        let ok = sema_try_down(&lock.sema);
        if ok {
            thread::lock_taken(lock.id, thread::thread_tid());
        }
        ok
    })
}

/// Releases `lock` (which the caller must hold): donations through it end, and the
/// highest-priority waiter gets it.
///
/// The lock is handed over: the waiter holds it from this moment, before it even runs,
/// so the releaser cannot take it back first. (Pintos' `sema_up` only wakes the waiter,
/// and a releaser of equal priority that runs on usually re-acquires the lock before the
/// waiter is scheduled, again and again: a thread reading a file byte by byte under the
/// file-system lock starves every other thread that wants the file system for as long as
/// it reads, and with a disk that takes time the waiters only wake to find the lock
/// taken again.) Handing over changes nothing when the waiter outranks the releaser, the
/// case the priority tests exercise: it runs at once either way.
pub fn lock_release(lock: &Lock) {
    assert!(lock_held_by_current_thread(lock), "lock_release: not the holder");
    cpu::without_interrupts(|| {
        thread::lock_dropped(lock.id);
        let next = lock.sema.state.with(|s| {
            let next = highest(s.waiters.iter().copied()).map(|i| s.waiters.remove(i));
            if s.waiters.is_empty() {
                s.waiters = Vec::new();
            }
            if next.is_none() {
                s.value += 1;
            }
            next
        });
        if let Some(t) = next {
            thread::lock_taken(lock.id, t);
            thread::thread_unblock(t);
        }
        thread::preempt_check();
    })
}

/// A condition variable: waiters each sleep on their own semaphore.
pub struct Condition {
    waiters: IrqCell<Vec<(Tid, Arc<Semaphore>)>>,
}

impl Condition {
    /// `cond_init`.
    pub const fn new() -> Condition {
        Condition { waiters: IrqCell::new(Vec::new()) }
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

/// Atomically releases `lock` and waits for a signal, then reacquires `lock`.
pub fn cond_wait(cond: &Condition, lock: &Lock) {
    assert!(lock_held_by_current_thread(lock), "cond_wait: lock not held");
    let sema = Arc::new(Semaphore::new(0));
    let me = thread::thread_tid();
    cond.waiters.with(|w| w.push((me, sema.clone())));
    lock_release(lock);
    sema_down(&sema);
    lock_acquire(lock);
}

/// Wakes the highest-priority waiter, if any. The caller must hold `lock`.
pub fn cond_signal(cond: &Condition, lock: &Lock) {
    assert!(lock_held_by_current_thread(lock), "cond_signal: lock not held");
    let woken = cond.waiters.with(|w| highest(w.iter().map(|(t, _)| *t)).map(|i| w.remove(i)));
    if let Some((_, sema)) = woken {
        sema_up(&sema);
    }
}

/// Wakes every waiter.
pub fn cond_broadcast(cond: &Condition, lock: &Lock) {
    while cond.waiters.with(|w| !w.is_empty()) {
        cond_signal(cond, lock);
    }
}

/// A lock that owns the data it guards, for state that is used only by threads and may
/// be held across a sleep (disk I/O), such as the file system's.
///
/// The data sits in an `IrqCell` only while nobody holds the lock: `lock` acquires the
/// `Lock` and then moves the data out into the guard, so the holder can block without
/// keeping interrupts off or an `IrqCell` borrowed, and no `unsafe` is needed. Keep `T`
/// small (a few pointers): it moves on every acquire and release.
pub struct Mutex<T> {
    lock: Lock,
    data: IrqCell<Option<T>>,
}

impl<T: Send> Mutex<T> {
    pub fn new(value: T) -> Mutex<T> {
        Mutex { lock: Lock::new(), data: IrqCell::new(Some(value)) }
    }

    /// Acquires the lock (sleeping, with priority donation, while another thread holds
    /// it). Acquiring it again from the holder panics, as `lock_acquire` does.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        lock_acquire(&self.lock);
        let value = self.data.with(|d| d.take()).expect("mutex data missing while the lock was free");
        MutexGuard { mutex: self, value: Some(value) }
    }
}

/// Access to a `Mutex`'s data; dropping it puts the data back and releases the lock.
pub struct MutexGuard<'a, T: Send> {
    mutex: &'a Mutex<T>,
    value: Option<T>,
}

impl<T: Send> core::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("guard emptied")
    }
}

impl<T: Send> core::ops::DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("guard emptied")
    }
}

impl<T: Send> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        let value = self.value.take();
        self.mutex.data.with(|d| *d = value);
        lock_release(&self.mutex.lock);
    }
}
