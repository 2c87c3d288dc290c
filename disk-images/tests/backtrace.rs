//! A kernel panic's backtrace comes out named (function and file:line) when the kernel's
//! ELF sits next to its os.dsk, as the built-in kernel's `kernel.elf` does.

use clap::Parser;
use emulator::pintos::{self, Options};

#[test]
fn a_panic_backtrace_is_symbolised() {
    let os = format!("--os-disk={}", disk_images::OS_DSK);
    let opts = Options::try_parse_from(["pintos", &os, "-T", "10", "--", "-q", "run", "nothing"]).unwrap();
    let mut console = Vec::new();
    let report = pintos::run_report(&opts, &mut console).unwrap();
    assert!(String::from_utf8_lossy(&console).contains("Call stack: 0x"));
    let d = report.diagnostics.join("\n");
    assert!(d.contains("backtrace 1 of 1 (symbols from ") && d.contains("kernel.elf"), "{d}");
    // The panic is raised in the test runner: its frame has a name and a source line.
    let frame = report.diagnostics.iter().find(|l| l.contains("kernel::tests::run_test+0x")).unwrap_or_else(|| panic!("{d}"));
    assert!(frame.contains("guest-kernel/src/tests/mod.rs:"), "{frame}");
}
