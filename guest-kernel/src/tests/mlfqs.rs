//! The MLFQS tests (run with `-mlfqs`): load average and recent_cpu follow the 4.4BSD
//! formulas, CPU time is shared fairly and by nice value, and a thread blocked on a lock
//! keeps its priority low while it does not run.

use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, Ordering};

use super::{pass, require_mlfqs};
use crate::devices::timer::{timer_elapsed, timer_sleep, timer_ticks, TIMER_FREQ};
use crate::threads::synch::{lock_acquire, lock_release, Lock};
use crate::threads::thread::{thread_create, thread_get_load_avg, thread_get_recent_cpu, thread_set_nice, PRI_DEFAULT};

const FREQ: i64 = TIMER_FREQ as i64;

pub fn test_mlfqs_load_1() {
    require_mlfqs(true);
    msg!("spinning for up to 45 seconds, please wait...");
    let start = timer_ticks();
    let elapsed;
    loop {
        let load_avg = thread_get_load_avg();
        let e = timer_elapsed(start) / FREQ;
        if load_avg > 100 {
            fail!("load average is {}.{:02} but should be between 0 and 1 (after {e} seconds)", load_avg / 100, load_avg % 100);
        } else if load_avg > 50 {
            elapsed = e;
            break;
        } else if e > 45 {
            fail!("load average stayed below 0.5 for more than 45 seconds");
        }
    }
    if elapsed < 38 {
        fail!("load average took only {elapsed} seconds to rise above 0.5");
    }
    msg!("load average rose to 0.5 after {elapsed} seconds");
    msg!("sleeping for another 10 seconds, please wait...");
    timer_sleep(FREQ * 10);
    let load_avg = thread_get_load_avg();
    if load_avg < 0 {
        fail!("load average fell below 0");
    }
    if load_avg > 50 {
        fail!("load average stayed above 0.5 for more than 10 seconds");
    }
    msg!("load average fell back below 0.5 (to {}.{:02})", load_avg / 100, load_avg % 100);
    pass();
}

/// Prints the load average every 2 seconds for 180 seconds, starting 10 s after `start`.
fn report_load(start: i64) {
    for i in 0..90 {
        timer_sleep(start + FREQ * (2 * i + 10) - timer_ticks());
        let load_avg = thread_get_load_avg();
        msg!("After {} seconds, load average={}.{:02}.", i * 2, load_avg / 100, load_avg % 100);
    }
}

pub fn test_mlfqs_load_60() {
    const THREAD_CNT: i64 = 60;
    require_mlfqs(true);
    let start = timer_ticks();
    msg!("Starting {THREAD_CNT} niced load threads...");
    for i in 0..THREAD_CNT {
        thread_create(&format!("load {i}"), PRI_DEFAULT, move || {
            let sleep_time = 10 * FREQ;
            let spin_time = sleep_time + 60 * FREQ;
            let exit_time = spin_time + 60 * FREQ;
            thread_set_nice(20);
            timer_sleep(sleep_time - timer_elapsed(start));
            while timer_elapsed(start) < spin_time {}
            timer_sleep(exit_time - timer_elapsed(start));
        });
    }
    msg!("Starting threads took {} seconds.", timer_elapsed(start) / FREQ);
    report_load(start);
}

pub fn test_mlfqs_load_avg() {
    const THREAD_CNT: i64 = 60;
    require_mlfqs(true);
    let start = timer_ticks();
    msg!("Starting {THREAD_CNT} load threads...");
    for seq in 0..THREAD_CNT {
        thread_create(&format!("load {seq}"), PRI_DEFAULT, move || {
            let sleep_time = FREQ * (10 + seq);
            let spin_time = sleep_time + FREQ * THREAD_CNT;
            let exit_time = FREQ * (THREAD_CNT * 2);
            timer_sleep(sleep_time - timer_elapsed(start));
            while timer_elapsed(start) < spin_time {}
            timer_sleep(exit_time - timer_elapsed(start));
        });
    }
    msg!("Starting threads took {} seconds.", timer_elapsed(start) / FREQ);
    thread_set_nice(-20);
    report_load(start);
}

pub fn test_mlfqs_recent_1() {
    require_mlfqs(true);
    loop {
        msg!("Sleeping 10 seconds to allow recent_cpu to decay, please wait...");
        let start = timer_ticks();
        timer_sleep((start + FREQ - 1) / FREQ - start + 10 * FREQ);
        if thread_get_recent_cpu() <= 700 {
            break;
        }
    }
    let start = timer_ticks();
    let mut last_elapsed = 0;
    loop {
        let elapsed = timer_elapsed(start);
        if elapsed % (FREQ * 2) == 0 && elapsed > last_elapsed {
            let recent_cpu = thread_get_recent_cpu();
            let load_avg = thread_get_load_avg();
            let secs = elapsed / FREQ;
            msg!("After {secs} seconds, recent_cpu is {}.{:02}, load_avg is {}.{:02}.", recent_cpu / 100, recent_cpu % 100, load_avg / 100, load_avg % 100);
            if secs >= 180 {
                break;
            }
        }
        last_elapsed = elapsed;
    }
}

pub fn test_mlfqs_fair_2() {
    test_mlfqs_fair(2, 0, 0);
}

pub fn test_mlfqs_fair_20() {
    test_mlfqs_fair(20, 0, 0);
}

pub fn test_mlfqs_nice_2() {
    test_mlfqs_fair(2, 0, 5);
}

pub fn test_mlfqs_nice_10() {
    test_mlfqs_fair(10, 0, 1);
}

/// `thread_cnt` threads with nice values from `nice_min` in steps of `nice_step` spin for
/// 30 seconds, each counting the ticks it sees.
fn test_mlfqs_fair(thread_cnt: usize, nice_min: i32, nice_step: i32) {
    require_mlfqs(true);
    thread_set_nice(-20);
    let start = timer_ticks();
    msg!("Starting {thread_cnt} threads...");
    let counts: Arc<Vec<AtomicI64>> = Arc::new((0..thread_cnt).map(|_| AtomicI64::new(0)).collect());
    for i in 0..thread_cnt {
        let nice = nice_min + i as i32 * nice_step;
        let counts = counts.clone();
        thread_create(&format!("load {i}"), PRI_DEFAULT, move || {
            let sleep_time = 5 * FREQ;
            let spin_time = sleep_time + 30 * FREQ;
            let mut last = 0;
            thread_set_nice(nice);
            timer_sleep(sleep_time - timer_elapsed(start));
            while timer_elapsed(start) < spin_time {
                let now = timer_ticks();
                if now != last {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                }
                last = now;
            }
        });
    }
    msg!("Starting threads took {} ticks.", timer_elapsed(start));
    msg!("Sleeping 40 seconds to let threads run, please wait...");
    timer_sleep(40 * FREQ);
    for (i, c) in counts.iter().enumerate() {
        msg!("Thread {i} received {} ticks.", c.load(Ordering::Relaxed));
    }
}

pub fn test_mlfqs_block() {
    require_mlfqs(true);
    msg!("Main thread acquiring lock.");
    let lock = Arc::new(Lock::new());
    lock_acquire(&lock);
    msg!("Main thread creating block thread, sleeping 25 seconds...");
    let l = lock.clone();
    thread_create("block", PRI_DEFAULT, move || {
        msg!("Block thread spinning for 20 seconds...");
        let start = timer_ticks();
        while timer_elapsed(start) < 20 * FREQ {}
        msg!("Block thread acquiring lock...");
        lock_acquire(&l);
        msg!("...got it.");
    });
    timer_sleep(25 * FREQ);
    msg!("Main thread spinning for 5 seconds...");
    let start = timer_ticks();
    while timer_elapsed(start) < 5 * FREQ {}
    msg!("Main thread releasing lock.");
    lock_release(&lock);
    msg!("Block thread should have already acquired lock.");
}
