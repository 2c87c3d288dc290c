//! The built-in kernel's whole catalogue as one test target, one trial per Pintos test
//! (the vm project's 141: alarm, priority, userprog, filesys base, vm and cow), each run
//! with the catalogue's settings and checked as `pintos test` checks it, behaviour checks
//! included. A failing trial fails with the verdict's explanation.
//!
//! It speaks libtest's protocol (libtest-mimic), so the usual filters work, trials run in
//! parallel (`--test-threads`, default every core), and `cargo nextest run -p
//! pintos-tests --test catalogue --partition count:1/4` spreads the suite over machines:
//!
//!     cargo test --release -p pintos-tests --test catalogue -- tests/vm/swap
//!     cargo test --release -p pintos-tests --test catalogue -- --list

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use pintos_tests::catalogue::Project;
use pintos_tests::runner::{self, Setup};

fn setup() -> Setup {
    let os_disk = PathBuf::from(disk_images::OS_DSK);
    // Each process its own output directory (nextest runs every trial as its own process).
    let out = std::env::temp_dir().join(format!("pintos-tests-catalogue-{}", std::process::id()));
    Setup::new(Project::Vm, os_disk, vec![PathBuf::from(user_programs::USER_DIR)], out)
}

fn main() {
    let args = Arguments::from_args();
    let setup = Arc::new(setup());
    let trials = runner::select(Project::Vm, &[])
        .into_iter()
        .map(|test| {
            let setup = Arc::clone(&setup);
            Trial::test(test.path.as_str(), move || {
                if !Path::new(&setup.os_disk).is_file() {
                    return Err(Failed::from(format!("no built-in kernel at {}", setup.os_disk.display())));
                }
                let run = runner::run_one(&setup, test);
                if run.verdict.pass {
                    Ok(())
                } else {
                    Err(Failed::from(run.verdict.messages.join("\n")))
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    let _ = std::fs::remove_dir_all(&setup.out);
    conclusion.exit();
}
