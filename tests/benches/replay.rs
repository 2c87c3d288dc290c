//! What recording and replaying cost: one heavy test on the built-in kernel run plainly,
//! with `--record`, and replayed with verification (best of 3 host times each), plus the
//! size of the replay file and how many events it hashed.
//!
//!     cargo bench -p pintos-tests --bench replay              (swap-iter)
//!     cargo bench -p pintos-tests --bench replay -- syn-write
//!
//! Figures only, no thresholds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use emulator::pintos::replay::{self, Recording, Verdict};
use emulator::pintos::{self, Options};
use pintos_tests::catalogue::{find, Project};
use pintos_tests::runner::{self, Setup};

fn main() {
    let name = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "swap-iter".into());
    let test = find(&format!("tests/vm/{name}")).or_else(|| find(&format!("tests/filesys/base/{name}"))).or_else(|| find(&format!("tests/userprog/{name}"))).unwrap_or_else(|| panic!("no catalogue test named {name}"));
    let os_disk = PathBuf::from(disk_images::OS_DSK);
    let out = std::env::temp_dir().join(format!("pintos-replay-bench-{}", std::process::id()));
    // Figures of the run alone: no watcher.
    let setup = Setup { behaviour: false, ..Setup::new(Project::Vm, os_disk, vec![PathBuf::from(user_programs::USER_DIR)], out.clone()) };
    let args = runner::command_line(&setup, test).expect("the test's command line");
    let opts = Options::try_parse_from(std::iter::once("pintos".to_string()).chain(args.iter().cloned())).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("run.replay");
    let best = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let plain = best(&mut || {
        pintos::run_report(&opts, &mut std::io::sink()).unwrap();
    });
    let recorded = best(&mut || {
        replay::record_args(&opts, args.clone(), &mut std::io::sink(), &file).unwrap();
    });
    let replayed = best(&mut || {
        assert!(matches!(replay::replay(&file, &mut std::io::sink()).unwrap(), Verdict::Verified { .. }));
    });
    let text = std::fs::read_to_string(&file).unwrap();
    let rec = Recording::parse(&text).unwrap();
    println!("{}, best of 3 host times:", test.path);
    println!("  plain run          {plain:>8.3} s");
    println!("  --record           {recorded:>8.3} s  {:>+6.1}%", (recorded / plain - 1.0) * 100.0);
    println!("  replay (verified)  {replayed:>8.3} s  {:>+6.1}%", (replayed / plain - 1.0) * 100.0);
    println!("  {} instructions, {} events hashed, {} checkpoints, replay file {} bytes", rec.instructions, rec.events, rec.checkpoints.len(), text.len());
    let _ = std::fs::remove_dir_all(&out);
}
