//! `pintos`: run a Pintos kernel on the deterministic emulator (drop-in for the
//! Pintos-KAIST utility). See `emulator::pintos` for options and exit statuses.

use clap::Parser;
use emulator::pintos::{self, Options};

fn main() {
    let opts = match Options::try_parse() {
        Ok(o) => o,
        Err(e) => {
            let code = if e.use_stderr() { pintos::status::ERROR } else { 0 };
            let _ = e.print();
            std::process::exit(code);
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
