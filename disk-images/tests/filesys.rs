//! The kernel's file system seen from outside, through the `pintos` launcher as users run
//! it: `-f` formats, `put` and `get` carry files through the scratch disk byte for byte
//! (empty, one sector, several sectors), a file system written by one run is found by the
//! next without `-f`, a disk that holds none is refused, `ls`/`rm`/`cat` work, the
//! kernel's own file-system tests pass, and runs are deterministic.

use std::path::{Path, PathBuf};

use clap::Parser;
use emulator::devices::ide::PINTOS_DISK_UNIT;
use emulator::machine::Outcome;
use emulator::pintos::{run_report, Options};

mod common;

use common::boot_with_fs;

/// A fresh, empty directory for one test's files.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("disk-images-fs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `pintos --os-disk OS_DSK -v -k -T 60 -m 20 ARGS` and returns the console; panics
/// unless the kernel powered off without a panic.
fn pintos(args: &[String]) -> String {
    let os = format!("--os-disk={}", disk_images::OS_DSK);
    let argv = ["pintos", &os, "-v", "-k", "-T", "60", "-m", "20", "--exit-status"].into_iter().map(String::from).chain(args.iter().cloned());
    let opts = Options::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let report = run_report(&opts, &mut out).unwrap();
    let console = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(report.outcome, Outcome::PowerOff, "console:\n{console}\ndiagnostics: {:?}", report.diagnostics);
    assert_eq!(report.status, 0, "console:\n{console}\ndiagnostics: {:?}", report.diagnostics);
    assert!(!console.contains("PANIC"), "{console}");
    console
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Deterministic bytes that differ in every position of a sector.
fn contents(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 256 + seed as usize) as u8).collect()
}

/// Files of 0 bytes, a partial sector, exactly one sector, several sectors (with a
/// partial last one) and 300 kB go in with `put` and come back identical with `get`.
#[test]
fn put_and_get_round_trip() {
    let dir = workdir("roundtrip");
    let files = [("empty", 0), ("small", 12), ("onesector", 512), ("several", 5 * 512 + 100), ("large", 300_000)];
    let mut a = vec![];
    for (i, (name, len)) in files.iter().enumerate() {
        std::fs::write(dir.join(name), contents(*len, i as u8)).unwrap();
        a.extend(["-p".into(), format!("{}:{name}", path(&dir.join(name)))]);
        a.extend(["-g".into(), format!("{name}:{}", path(&dir.join(format!("{name}.out"))))]);
    }
    a.extend(args(&["--fs-disk=2", "--", "-q", "-f"]));
    let console = pintos(&a);
    assert!(console.contains("Formatting file system...done.\n"), "{console}");
    for (name, _) in files {
        assert!(console.contains(&format!("Putting '{name}' into the file system...\n")), "{console}");
        assert!(console.contains(&format!("Getting '{name}' from the file system...\n")), "{console}");
        let (sent, got) = (std::fs::read(dir.join(name)).unwrap(), std::fs::read(dir.join(format!("{name}.out"))).unwrap());
        assert!(sent == got, "{name}: sent {} bytes, got back {} bytes (different)", sent.len(), got.len());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ls` lists the root directory in entry order, `rm` removes a file, `cat` hex-dumps one.
#[test]
fn ls_rm_and_cat() {
    let dir = workdir("lsrmcat");
    let mut a = vec![];
    for (i, name) in ["one", "two", "three"].into_iter().enumerate() {
        std::fs::write(dir.join(name), contents(512, i as u8)).unwrap();
        a.extend(["-p".into(), format!("{}:{name}", path(&dir.join(name)))]);
    }
    a.extend(args(&["--fs-disk=2", "--", "-q", "-f", "ls", "rm", "two", "ls", "cat", "three"]));
    let console = pintos(&a);
    assert!(console.contains("Files in the root directory:\none\ntwo\nthree\nEnd of listing.\n"), "{console}");
    assert!(console.contains("Deleting 'two'...\nFiles in the root directory:\none\nthree\nEnd of listing.\n"), "{console}");
    assert!(console.contains("Printing 'three' to the console...\n0000000000000000  02 09 10 17 1e 25 2c 33-3a 41 48 4f 56 5d 64 6b |.....%,3:AHOV]dk|\n"), "{console}");
    assert_eq!(console.matches("\n00000000000001f0  ").count(), 1, "{console}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file system written by one run (`-f put`) is found by the next on the same fs.dsk,
/// without `-f`: `get` returns the same bytes and `ls` the same names.
#[test]
fn file_system_persists_between_runs() {
    let dir = workdir("persist");
    let fs = dir.join("fs.dsk");
    std::fs::write(&fs, vec![0u8; 2 * PINTOS_DISK_UNIT as usize]).unwrap();
    let data = contents(3 * 512 + 7, 42);
    std::fs::write(dir.join("x"), &data).unwrap();
    let fs_arg = format!("--fs-disk={}", path(&fs));
    let console = pintos(&[fs_arg.clone(), "-p".into(), format!("{}:x", path(&dir.join("x"))), "--".into(), "-q".into(), "-f".into()]);
    assert!(console.contains("Formatting file system...done.\n") && console.contains("Putting 'x' into the file system...\n"), "{console}");

    let out = dir.join("x.out");
    let console = pintos(&[fs_arg, "-g".into(), format!("x:{}", path(&out)), "--".into(), "-q".into(), "ls".into()]);
    assert!(!console.contains("Formatting"), "{console}");
    assert!(console.contains("Files in the root directory:\nx\nEnd of listing.\n"), "{console}");
    assert!(console.contains("Getting 'x' from the file system...\n"), "{console}");
    assert!(std::fs::read(&out).unwrap() == data, "x came back different");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without `-f`, a disk that holds no file system is reported and left alone; the kernel
/// still boots and runs what needs no file system.
#[test]
fn blank_disk_without_format_is_refused() {
    let dir = workdir("blank");
    let fs = dir.join("fs.dsk");
    std::fs::write(&fs, vec![0u8; PINTOS_DISK_UNIT as usize]).unwrap();
    let console = pintos(&[format!("--fs-disk={}", path(&fs)), "--".into(), "-q".into()]);
    assert!(console.contains("filesys: hd0:1 holds no file system (no free map inode); format it with -f\n"), "{console}");
    assert!(console.contains("Boot complete.\n"), "{console}");
    assert!(std::fs::read(&fs).unwrap().iter().all(|&b| b == 0), "the blank disk was written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Our kernel, files to put, but no file-system disk named and no ./fs.dsk: the run gets
/// a temporary one, so `pintos -p PROG -- -q -f run PROG` works as the by-hand recipe
/// says. (Other kernels keep the KAIST utility's disks: emulator/tests/pintos_cli.rs.)
#[test]
fn put_without_a_file_system_disk_gets_a_temporary_one() {
    let dir = workdir("no-fs");
    let host = dir.join("data");
    std::fs::write(&host, b"x").unwrap();
    let put = format!("{}:data", path(&host));
    // No --os-disk and no ./os.dsk or ./fs.dsk here (the package directory): the
    // launcher boots the built-in kernel, as `pintos -p PROG -- -q -f run PROG` does.
    assert!(!Path::new("os.dsk").exists() && !Path::new("fs.dsk").exists());
    let opts = Options::try_parse_from(["pintos", "-v", "-k", "-T", "10", "-p", &put, "--", "-q", "-f", "ls"]).unwrap();
    let mut out = Vec::new();
    let report = run_report(&opts, &mut out).unwrap();
    let console = String::from_utf8_lossy(&out);
    assert_eq!(report.outcome, Outcome::PowerOff, "{console}");
    assert!(!console.contains("PANIC") && !console.contains("not present"), "{console}");
    assert!(console.contains("hd0:1: detected"), "{console}");
    assert!(console.contains("Putting 'data' into the file system...") && console.contains("\ndata\n"), "{console}");
    // Without files to copy, nothing is attached: the kernel reports no hd0:1.
    let opts = Options::try_parse_from(["pintos", "-v", "-k", "-T", "10", "--", "-q", "run", "alarm-zero"]).unwrap();
    let mut out = Vec::new();
    run_report(&opts, &mut out).unwrap();
    assert!(!String::from_utf8_lossy(&out).contains("hd0:1: detected"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The kernel's `fs-basic` test (single-threaded contract) passes on a fresh disk.
#[test]
fn fs_basic_passes() {
    let console = pintos(&args(&["--fs-disk=2", "--", "-q", "-f", "run", "fs-basic"]));
    assert!(console.contains("(fs-basic) begin\n") && console.contains("(fs-basic) end\n"), "{console}");
    assert!(!console.contains("FAIL"), "{console}");
}

/// The kernel's `fs-threads` test (threads using the file system at once) passes.
#[test]
fn fs_threads_passes() {
    let console = pintos(&args(&["--fs-disk=2", "--", "-q", "-f", "run", "fs-threads"]));
    assert!(console.contains("(fs-threads) every file has its writer's contents\n(fs-threads) end\n"), "{console}");
}

/// Boots os.dsk with `argv`, a fresh 2-unit file-system disk and `puts` on the scratch
/// disk; returns the console, instructions retired and the file-system disk's bytes.
fn boot_fs(argv: &[&str], puts: &[(String, Vec<u8>)]) -> (String, u64, Vec<u8>) {
    let (mut m, console) = boot_with_fs(argv, puts);
    let disk = m.bus.ide.disk_mut(0, 1).unwrap();
    let mut bytes = vec![0u8; (disk.sectors() * 512) as usize];
    for (lba, chunk) in bytes.chunks_mut(512).enumerate() {
        disk.read_sector(lba as u64, chunk.try_into().unwrap()).unwrap();
    }
    (console, m.cpu.icount, bytes)
}

/// Format, put, concurrent file-system threads and get, twice: the same console, the
/// same instruction count and the same file-system disk, byte for byte.
#[test]
fn file_system_runs_are_deterministic() {
    let puts = vec![("a".to_string(), contents(2000, 1))];
    let argv = ["-q", "-f", "put", "a", "run", "fs-threads", "get", "a"];
    let (c1, n1, d1) = boot_fs(&argv, &puts);
    let (c2, n2, d2) = boot_fs(&argv, &puts);
    assert!(c1.contains("(fs-threads) end\n") && c1.contains("Getting 'a' from the file system...\n"), "{c1}");
    assert!(!c1.contains("PANIC"), "{c1}");
    assert_eq!(c1, c2);
    assert_eq!(n1, n2, "instruction counts differ");
    assert!(d1 == d2, "file-system disks differ");
}
