//! Record and replay (`pintos --record FILE`, `pintos replay FILE`) on the built-in kernel:
//! a multi-process file-system test and a run with serial input replay bit for bit; a
//! truncated or corrupted file and a changed disk are refused with a clear message.

use std::path::{Path, PathBuf};

use clap::Parser;
use emulator::pintos::replay::{self, Recording, Verdict};
use emulator::pintos::Options;

fn user(name: &str) -> String {
    format!("{}:{name}", Path::new(user_programs::USER_DIR).join(name).display())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pintos-replay-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Records `args` (with `input` on the console) into DIR/run.replay; returns the console.
fn record(dir: &Path, args: &[String], input: &[u8]) -> (PathBuf, Vec<u8>) {
    let mut opts = Options::try_parse_from(std::iter::once("pintos".to_string()).chain(args.iter().cloned())).unwrap();
    opts.console_input = input.to_vec();
    let file = dir.join("run.replay");
    let mut console = Vec::new();
    replay::record_args(&opts, args.to_vec(), &mut console, &file).unwrap();
    (file, console)
}

fn os_disk() -> String {
    format!("--os-disk={}", disk_images::OS_DSK)
}

#[test]
fn a_multi_process_test_replays_bit_for_bit() {
    let dir = scratch("syn-write");
    let args: Vec<String> = [os_disk().as_str(), "-k", "-T", "60", "--fs-disk=10", "-p", &user("syn-write"), "-p", &user("child-syn-wrt"), "--swap-disk=4", "--", "-q", "-f", "run", "syn-write"].map(String::from).to_vec();
    let (file, console) = record(&dir, &args, b"");
    assert!(String::from_utf8_lossy(&console).contains("(syn-write) end"));
    let rec = Recording::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(rec.events > 10_000 && !rec.checkpoints.is_empty(), "{} events", rec.events);
    let mut again = Vec::new();
    assert_eq!(replay::replay(&file, &mut again).unwrap(), Verdict::Verified { instructions: rec.instructions });
    assert_eq!(again, console);

    // The same run with a different clock rate is another run: the checkpoints say where
    // they part.
    let text = std::fs::read_to_string(&file).unwrap();
    let other = text.replace(&format!("arg {}\n", hex("-k")), &format!("arg {}\narg {}\n", hex("-k"), hex("--rate=300000000")));
    std::fs::write(&file, other).unwrap();
    match replay::replay(&file, &mut Vec::new()).unwrap() {
        Verdict::Diverged(why) => assert!(why.starts_with("the runs diverged") && why.contains("event"), "{why}"),
        v => panic!("a different rate replayed as {v:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn serial_input_is_recorded_and_replayed() {
    let dir = scratch("stdin");
    let args: Vec<String> = [os_disk().as_str(), "-T", "30", "--fs-disk=2", "-p", &user("stdin-echo"), "--", "-q", "-f", "run", "stdin-echo 6"].map(String::from).to_vec();
    let (file, console) = record(&dir, &args, b"hello\n");
    assert!(String::from_utf8_lossy(&console).contains("hello"), "{}", String::from_utf8_lossy(&console));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("input 0 {}\n", hex("hello\n"))), "{text}");
    let mut again = Vec::new();
    assert!(matches!(replay::replay(&file, &mut again).unwrap(), Verdict::Verified { .. }));
    assert_eq!(again, console);
    // Other input is another run.
    std::fs::write(&file, text.replace(&hex("hello\n"), &hex("HELLO\n"))).unwrap();
    assert!(matches!(replay::replay(&file, &mut Vec::new()).unwrap(), Verdict::Diverged(_)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_files_and_changed_disks_are_refused() {
    let dir = scratch("bad");
    let fs = dir.join("fs.dsk");
    std::fs::write(&fs, vec![0u8; 2 * 0xfc000]).unwrap();
    let args: Vec<String> = [os_disk(), "-T".into(), "30".into(), format!("--fs-disk={}", fs.display()), "--".into(), "-q".into(), "-f".into(), "run".into(), "alarm-zero".into()].to_vec();
    let (file, _) = record(&dir, &args, b"");
    // The run formatted the file-system disk: it is not the disk the run started with.
    let err = replay::replay(&file, &mut Vec::new()).unwrap_err().to_string();
    assert!(err.starts_with("disk hd0:1 has changed since the run was recorded") && err.contains("refusing to replay"), "{err}");

    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let err = format!("{:#}", replay::replay(&file, &mut Vec::new()).unwrap_err());
    assert!(err.contains("truncated") || err.contains("malformed"), "{err}");
    std::fs::write(&file, text.replace("rate ", "rate x")).unwrap();
    let err = format!("{:#}", replay::replay(&file, &mut Vec::new()).unwrap_err());
    assert!(err.contains("malformed `rate x"), "{err}");
    std::fs::write(&file, b"\x00\x01binary").unwrap();
    assert!(format!("{:#}", replay::replay(&file, &mut Vec::new()).unwrap_err()).contains("not a replay file"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn jitter_seeds_give_other_schedules_and_the_same_seed_the_same_run() {
    let run = |seed: u64, name: &str| {
        let dir = scratch(name);
        let args: Vec<String> = [os_disk(), "-k".into(), "-T".into(), "60".into(), format!("--jitter={seed}"), "--fs-disk=10".into(), "-p".into(), user("syn-read"), "-p".into(), user("child-syn-read"), "--swap-disk=4".into(), "--".into(), "-q".into(), "-f".into(), "run".into(), "syn-read".into()].to_vec();
        let (file, console) = record(&dir, &args, b"");
        let console = String::from_utf8_lossy(&console).into_owned();
        assert!(console.contains("(syn-read) end") && !console.contains("FAIL"), "seed {seed}:\n{console}");
        let rec = Recording::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(rec.jitter, Some(seed));
        let verdict = replay::replay(&file, &mut Vec::new()).unwrap();
        assert_eq!(verdict, Verdict::Verified { instructions: rec.instructions });
        let _ = std::fs::remove_dir_all(&dir);
        rec
    };
    let a = run(1, "j1a");
    let b = run(1, "j1b");
    let c = run(2, "j2");
    assert_eq!((a.event_hash, a.instructions, a.console_hash), (b.event_hash, b.instructions, b.console_hash), "the same seed, the same run");
    assert_ne!(a.event_hash, c.event_hash, "another seed, another schedule");
}

#[test]
fn the_state_at_any_instruction_of_a_recording() {
    let dir = scratch("at");
    let args: Vec<String> = [os_disk().as_str(), "-T", "10", "--", "-q", "run", "alarm-single"].map(String::from).to_vec();
    let (file, _) = record(&dir, &args, b"");
    let rec = Recording::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let n = rec.instructions / 2;
    let text = replay::state_at(&file, n, &mut Vec::new()).unwrap();
    assert!(text.starts_with(&format!("at instruction {n}:\n")), "{text}");
    assert!(text.contains(&format!("icount={n}")) && text.contains("next instruction: 0x"), "{text}");
    // Frames named from kernel.elf next to the os.dsk.
    assert!(text.contains("call stack (frame pointers):\n  0x") && text.contains("kernel::"), "{text}");
    // The same instruction, the same state.
    assert_eq!(replay::state_at(&file, n, &mut Vec::new()).unwrap(), text);
    let err = replay::state_at(&file, rec.instructions + 1, &mut Vec::new()).unwrap_err().to_string();
    assert!(err.contains("there is no instruction"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn until_stops_at_the_first_page_fault_write_or_panic() {
    use emulator::pintos::replay::Until;
    let dir = scratch("until");
    // A user program: its first instruction faults on its text page.
    let args: Vec<String> = [os_disk().as_str(), "-T", "30", "--fs-disk=2", "-p", &user("args-single"), "--", "-q", "-f", "run", "args-single onearg"].map(String::from).to_vec();
    let (file, _) = record(&dir, &args, b"");
    let at = replay::find(&file, Until::PageFault(0x400000)).unwrap().expect("args-single faults on its text page");
    let text = replay::state_at(&file, at, &mut Vec::new()).unwrap();
    assert!(text.contains("cpl=3"), "the faulting instruction is the user's:\n{text}");
    assert_eq!(replay::find(&file, Until::PageFault(0x7000_0000)).unwrap(), None);
    // The first write to the timer's tick count, by symbol from kernel.elf and by address:
    // it is in the BSS, so the boot code clearing the BSS writes it first; the state is
    // shown just before that instruction.
    let text = replay::until_write(&file, &Until::WriteSymbol("TICKS".into()), &mut Vec::new()).unwrap().expect("the timer ticks");
    assert!(text.contains("cpl=0") && text.contains("rep stosb"), "{text}");
    let addr = u64::from_str_radix(text.split("writes 0x").nth(1).unwrap().split(' ').next().unwrap(), 16).unwrap();
    assert_eq!(replay::until_write(&file, &Until::Write(addr), &mut Vec::new()).unwrap().as_deref(), Some(text.as_str()));
    let first: u64 = text.split("instruction ").nth(1).and_then(|s| s.split(' ').next()).unwrap().parse().unwrap();
    assert!(first > 0 && first < at, "the first tick ({first}) comes before the program's first fault ({at})");
    assert_eq!(replay::until_write(&file, &Until::Write(0x7000_0000), &mut Vec::new()).unwrap(), None);
    let err = replay::until_write(&file, &Until::WriteSymbol("no_such_symbol".into()), &mut Vec::new()).unwrap_err().to_string();
    assert!(err.contains("no symbol `no_such_symbol`"), "{err}");
    // A kernel panic: the stack at the panic message leads back to the test runner.
    let args: Vec<String> = [os_disk().as_str(), "-T", "10", "--", "-q", "run", "nothing"].map(String::from).to_vec();
    let (file, _) = record(&dir, &args, b"");
    let at = replay::find(&file, Until::Panic).unwrap().expect("`run nothing` panics");
    let text = replay::state_at(&file, at, &mut Vec::new()).unwrap();
    assert!(text.contains("kernel::tests::run_test"), "{text}");
    assert_eq!("pf:0x401000".parse::<Until>(), Ok(Until::PageFault(0x401000)));
    assert_eq!("write:0x10".parse::<Until>(), Ok(Until::Write(0x10)));
    assert_eq!("write:ticks".parse::<Until>(), Ok(Until::WriteSymbol("ticks".into())));
    assert!("read:0x10".parse::<Until>().is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
