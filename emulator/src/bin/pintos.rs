//! `pintos`: run a Pintos kernel on the deterministic emulator (drop-in for the
//! Pintos-KAIST utility). See `emulator::pintos` for options and exit statuses.
//!
//! `pintos replay FILE` re-runs a run recorded with `pintos --record FILE ...` and checks
//! it comes out the same (see `emulator::pintos::replay`).
//!
//! `pintos test ARGS...` runs the grading harness instead: it executes the sibling
//! `pintos-test` binary (crate `pintos-tests`) with ARGS. It is a separate executable
//! because the harness depends on this crate, so linking it in here would be a cycle.

use std::io::{IsTerminal, Read};

use clap::Parser;
use emulator::pintos::{self, Options};

/// Runs `pintos-test` from this executable's directory with `args`, inheriting stdio, and
/// exits with its status.
fn run_pintos_test(args: Vec<std::ffi::OsString>) -> ! {
    let exe = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(format!("pintos-test{}", std::env::consts::EXE_SUFFIX))));
    let Some(exe) = exe.filter(|p| p.is_file()) else {
        eprintln!("pintos: pintos-test not found next to pintos; run cargo build --release");
        std::process::exit(pintos::status::ERROR);
    };
    match std::process::Command::new(&exe).args(args).status() {
        // A signal death has no code; report it as the harness's set-up error status.
        Ok(status) => std::process::exit(status.code().unwrap_or(2)),
        Err(e) => {
            eprintln!("pintos: cannot run {}: {e}", exe.display());
            std::process::exit(pintos::status::ERROR);
        }
    }
}

/// `pintos replay FILE`: runs a recording again and checks it gives the same run.
fn replay(args: Vec<std::ffi::OsString>) -> ! {
    let usage = || -> ! {
        eprintln!("pintos: usage: pintos replay FILE [--at N | --until pf:ADDR | --until write:ADDR|SYMBOL | --until panic | --gdb[=PORT]] (FILE written by `pintos --record FILE ...`)");
        std::process::exit(pintos::status::ERROR);
    };
    let mut stdout = std::io::stdout().lock();
    let file = match args.as_slice() {
        [file] => file,
        [file, at, n] if at == "--at" => {
            let Some(n) = n.to_str().and_then(|s| s.parse::<u64>().ok()) else { usage() };
            match pintos::replay::state_at(std::path::Path::new(file), n, &mut stdout) {
                Ok(text) => {
                    eprint!("{text}");
                    std::process::exit(0);
                }
                Err(e) => {
                    eprintln!("pintos: {e:#}");
                    std::process::exit(pintos::status::ERROR);
                }
            }
        }
        [file, flag] if flag.to_str().is_some_and(|f| f == "--gdb" || f.starts_with("--gdb=")) => {
            let port = match flag.to_str().and_then(|f| f.strip_prefix("--gdb=")) {
                None => 1234,
                Some(p) => p.parse().unwrap_or_else(|_| usage()),
            };
            match pintos::replay::gdb(std::path::Path::new(file), port, &mut stdout) {
                Ok(_) => std::process::exit(0),
                Err(e) => {
                    eprintln!("pintos: {e:#}");
                    std::process::exit(pintos::status::ERROR);
                }
            }
        }
        [file, until, what] if until == "--until" => {
            let event: pintos::replay::Until = match what.to_str().unwrap_or("").parse() {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("pintos: --until: {e}");
                    std::process::exit(pintos::status::ERROR);
                }
            };
            let path = std::path::Path::new(file);
            let found = match event {
                pintos::replay::Until::Write(_) | pintos::replay::Until::WriteSymbol(_) => pintos::replay::until_write(path, &event, &mut stdout),
                _ => pintos::replay::find(path, event.clone()).and_then(|at| match at {
                    Some(n) => pintos::replay::state_at(path, n, &mut stdout).map(Some),
                    None => Ok(None),
                }),
            };
            match found {
                Ok(Some(text)) => {
                    eprint!("{text}");
                    std::process::exit(0);
                }
                Ok(None) => {
                    eprintln!("pintos: the recorded run has no such event ({event:?})");
                    std::process::exit(1);
                }
                Err(e) => {
                    eprintln!("pintos: {e:#}");
                    std::process::exit(pintos::status::ERROR);
                }
            }
        }
        _ => usage(),
    };
    match pintos::replay::replay(std::path::Path::new(file), &mut stdout) {
        Ok(pintos::replay::Verdict::Verified { instructions }) => {
            eprintln!("replay verified: {instructions} instructions, every hardware event and the console output identical");
            std::process::exit(0);
        }
        Ok(pintos::replay::Verdict::Diverged(why)) => {
            eprintln!("pintos: replay diverged: {why}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("pintos: {e:#}");
            std::process::exit(pintos::status::ERROR);
        }
    }
}

fn main() {
    let mut argv = std::env::args_os();
    let _ = argv.next();
    if let Some(first) = argv.next() {
        if first == "test" {
            run_pintos_test(argv.collect());
        }
        if first == "replay" {
            replay(argv.collect());
        }
    }
    let opts = match Options::try_parse() {
        Ok(o) => o,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            // One line, like every other error: clap's first line names the problem.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad command line").trim_start_matches("error: ");
            eprintln!("pintos: {first} (see `pintos --help`)");
            std::process::exit(pintos::status::ERROR);
        }
    };
    let mut stdout = std::io::stdout().lock();
    // Console input: all of stdin (up to 1 MiB) when it is a file or a pipe, read before the
    // run so that when the bytes arrive cannot depend on host timing. A terminal gives
    // none (interactive typing would make runs irreproducible).
    let mut opts = opts;
    if !std::io::stdin().is_terminal() {
        let mut input = Vec::new();
        if let Err(e) = std::io::stdin().lock().take(1 << 20).read_to_end(&mut input) {
            eprintln!("pintos: reading stdin: {e}");
            std::process::exit(pintos::status::ERROR);
        }
        opts.console_input = input;
    }
    match pintos::run(&opts, &mut stdout) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("pintos: {e:#}");
            std::process::exit(pintos::status::ERROR);
        }
    }
}
