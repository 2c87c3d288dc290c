//! The alarm tests: `timer_sleep` wakes threads on time, in order, on the same tick when
//! due together, highest priority first, and returns at once for 0 or negative ticks.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{pass, require_mlfqs};
use crate::arch::cell::IrqCell;
use crate::devices::timer::{timer_elapsed, timer_sleep, timer_ticks, TIMER_FREQ};
use crate::threads::synch::{lock_acquire, lock_release, sema_down, sema_up, Lock, Semaphore};
use crate::threads::thread::{thread_create, thread_name, thread_set_priority, thread_yield, PRI_DEFAULT, PRI_MIN};

pub fn test_alarm_single() {
    test_sleep(5, 1);
}

pub fn test_alarm_multiple() {
    test_sleep(5, 7);
}

struct SleepTest {
    start: i64,
    iterations: i64,
    output_lock: Lock,
    /// Ids of the threads in wake-up order (guarded by `output_lock`).
    output: IrqCell<Vec<usize>>,
}

/// `thread_cnt` threads sleep `iterations` times each, thread i for (i+1)*10 ticks.
fn test_sleep(thread_cnt: usize, iterations: i64) {
    require_mlfqs(false);
    msg!("Creating {thread_cnt} threads to sleep {iterations} times each.");
    msg!("Thread 0 sleeps 10 ticks each time,");
    msg!("thread 1 sleeps 20 ticks each time, and so on.");
    msg!("If successful, product of iteration count and");
    msg!("sleep duration will appear in nondescending order.");
    let test = Arc::new(SleepTest { start: timer_ticks() + 100, iterations, output_lock: Lock::new(), output: IrqCell::new(Vec::new()) });
    for id in 0..thread_cnt {
        let test = test.clone();
        let duration = (id as i64 + 1) * 10;
        thread_create(&format!("thread {id}"), PRI_DEFAULT, move || {
            for i in 1..=test.iterations {
                let sleep_until = test.start + i * duration;
                timer_sleep(sleep_until - timer_ticks());
                lock_acquire(&test.output_lock);
                test.output.with(|o| o.push(id));
                lock_release(&test.output_lock);
            }
        });
    }
    timer_sleep(100 + thread_cnt as i64 * iterations * 10 + 100);
    lock_acquire(&test.output_lock);
    let output = test.output.with(|o| o.clone());
    let mut counts = alloc::vec![0i64; thread_cnt];
    let mut product = 0;
    for id in output {
        counts[id] += 1;
        let duration = (id as i64 + 1) * 10;
        let new_prod = counts[id] * duration;
        msg!("thread {id}: duration={duration}, iteration={}, product={new_prod}", counts[id]);
        if new_prod >= product {
            product = new_prod;
        } else {
            fail!("thread {id} woke up out of order ({product} > {new_prod})!");
        }
    }
    for (i, c) in counts.iter().enumerate() {
        if *c != iterations {
            fail!("thread {i} woke up {c} times instead of {iterations}");
        }
    }
    lock_release(&test.output_lock);
}

pub fn test_alarm_simultaneous() {
    require_mlfqs(false);
    let (thread_cnt, iterations) = (3i64, 5i64);
    msg!("Creating {thread_cnt} threads to sleep {iterations} times each.");
    msg!("Each thread sleeps 10 ticks each time.");
    msg!("Within an iteration, all threads should wake up on the same tick.");
    let start = timer_ticks() + 100;
    let output: Arc<IrqCell<Vec<i64>>> = Arc::new(IrqCell::new(Vec::new()));
    for i in 0..thread_cnt {
        let output = output.clone();
        thread_create(&format!("thread {i}"), PRI_DEFAULT, move || {
            // Start at the beginning of a tick.
            timer_sleep(1);
            for it in 1..=iterations {
                timer_sleep(start + it * 10 - timer_ticks());
                output.with(|o| o.push(timer_ticks() - start));
                thread_yield();
            }
        });
    }
    timer_sleep(100 + iterations * 10 + 100);
    let out = output.with(|o| o.clone());
    msg!("iteration 0, thread 0: woke up after {} ticks", out[0]);
    for i in 1..out.len() {
        msg!("iteration {}, thread {}: woke up {} ticks later", i as i64 / thread_cnt, i as i64 % thread_cnt, out[i] - out[i - 1]);
    }
}

pub fn test_alarm_priority() {
    require_mlfqs(false);
    let wake_time = timer_ticks() + 5 * TIMER_FREQ as i64;
    let wait_sema = Arc::new(Semaphore::new(0));
    for i in 0..10 {
        let priority = PRI_DEFAULT - (i + 5) % 10 - 1;
        let wait_sema = wait_sema.clone();
        thread_create(&format!("priority {priority}"), priority, move || {
            // Busy-wait to the start of a tick, so the sleep below cannot race a tick.
            let start = timer_ticks();
            while timer_elapsed(start) == 0 {}
            timer_sleep(wake_time - timer_ticks());
            msg!("Thread {} woke up.", thread_name());
            sema_up(&wait_sema);
        });
    }
    thread_set_priority(PRI_MIN);
    for _ in 0..10 {
        sema_down(&wait_sema);
    }
}

pub fn test_alarm_zero() {
    timer_sleep(0);
    pass();
}

pub fn test_alarm_negative() {
    timer_sleep(-100);
    pass();
}
