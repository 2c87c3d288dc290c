//! Console input: the `pintos` launcher feeds its standard input to COM1, the kernel's
//! serial driver queues it by interrupt (devices/input.rs), and `read` on file descriptor
//! 0 returns it to a user program (`stdin-echo`), in order, with nothing lost even when
//! the input is far larger than the kernel's 64-byte queue.

mod common;

use clap::Parser;
use common::{executing_section, prog};
use emulator::machine::Outcome;
use emulator::pintos::{run_report, Options};

/// Runs `stdin-echo ARGS` with `input` on the console; returns the outcome and console.
fn run_with_input(args: &str, input: &[u8]) -> (Outcome, String) {
    let os = format!("--os-disk={}", disk_images::OS_DSK);
    let cmd = format!("stdin-echo {args}");
    let argv = ["pintos", &os, "-v", "-k", "-T", "10", "-m", "20", "--fs-disk=2", "-p", &prog("stdin-echo"), "--", "-q", "-f", "run", &cmd];
    let mut opts = Options::try_parse_from(argv).unwrap();
    opts.console_input = input.to_vec();
    let mut out = Vec::new();
    let report = run_report(&opts, &mut out).unwrap();
    (report.outcome, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn a_program_reads_console_input_from_stdin() {
    let input = b"hello, pintos\nsecond line\n";
    for chunk in ["", " 1", " 5"] {
        let (outcome, console) = run_with_input(&format!("26{chunk}"), input);
        assert_eq!(outcome, Outcome::PowerOff, "{console}");
        let section = executing_section(&console);
        let want = "(stdin-echo) read 26 bytes\nhello, pintos\nsecond line\n(stdin-echo) end\nstdin-echo: exit(0)\n";
        assert!(section.contains(want), "chunk{chunk}:\n{section}");
    }
}

#[test]
fn input_larger_than_the_kernel_queue_arrives_whole_and_in_order() {
    // 3000 bytes of varied printable text through a 64-byte queue and a 1-byte UART
    // receive register: the driver must stop taking input when the queue is full and
    // resume as readers drain it.
    let input: Vec<u8> = (0..3000u32).map(|i| b' ' + ((i * 7 + i / 95) % 95) as u8).collect();
    let (outcome, console) = run_with_input("3000 7", &input);
    assert_eq!(outcome, Outcome::PowerOff, "{console}");
    let text = String::from_utf8(input).unwrap();
    assert!(console.contains(&format!("(stdin-echo) read 3000 bytes\n{text}(stdin-echo) end\n")), "{console}");
}

#[test]
fn a_read_waits_for_input_that_never_comes() {
    // Pintos reads from stdin until it has every byte asked for: with 3 of 10 bytes
    // available the program sleeps, the kernel idles, and the run times out.
    let (outcome, console) = run_with_input("10", b"abc");
    assert_eq!(outcome, Outcome::Timeout, "{console}");
    assert!(!console.contains("(stdin-echo) read"), "{console}");
}
