//! `pintos`: run a Pintos kernel on the deterministic emulator (drop-in for the
//! Pintos-KAIST utility). See `emulator::pintos` for options and exit statuses.

use clap::Parser;
use emulator::pintos::{self, Options};

fn main() {
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
    match pintos::run(&opts, &mut stdout) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("pintos: {e:#}");
            std::process::exit(pintos::status::ERROR);
        }
    }
}
