//! The system gdb, in batch mode, against `pintos replay FILE --gdb=0`: the recorded run
//! stops before its first instruction, `stepi` moves through it, registers read right,
//! and `continue` runs it to its end. (The project's set-up installs Debian's gdb where
//! it is missing; without gdb this test fails, it is not skipped.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use iced_x86::code_asm::*;

#[test]
fn gdb_steps_through_a_replay() {
    // 7c00: mov ax,1; 7c03: mov bx,2; 7c06: print 'r'; power off.
    let mut a = CodeAssembler::new(16).unwrap();
    a.mov(ax, 1u32).unwrap();
    a.mov(bx, 2u32).unwrap();
    a.mov(dx, 0x3f8u32).unwrap();
    a.mov(al, b'r' as u32).unwrap();
    a.out(dx, al).unwrap();
    a.mov(dx, 0x604u32).unwrap();
    a.mov(ax, 0x2000u32).unwrap();
    a.out(dx, ax).unwrap();
    a.hlt().unwrap();
    let mut disk = a.assemble(0x7c00).unwrap();
    disk.resize(510, 0);
    disk.extend_from_slice(&[0x55, 0xaa]);
    let dir = std::env::temp_dir().join(format!("pintos-replay-gdb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("os.dsk"), &disk).unwrap();
    let pintos = env!("CARGO_BIN_EXE_pintos");
    let rec = Command::new(pintos).args(["--record", "run.replay", "-v", "--", "run"]).current_dir(&dir).output().unwrap();
    assert!(rec.status.success(), "{}", String::from_utf8_lossy(&rec.stderr));
    assert_eq!(String::from_utf8_lossy(&rec.stdout), "r");

    let mut child = Command::new(pintos).args(["replay", "run.replay", "--gdb=0"]).current_dir(&dir).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let port = line.split("localhost:").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).unwrap_or_else(|| panic!("no port in {line:?}")).to_string();
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "set architecture i386:x86-64", "-ex", &format!("target remote localhost:{port}")])
        .args(["-ex", "p/x $pc", "-ex", "stepi", "-ex", "stepi", "-ex", "p/x $pc", "-ex", "p/x $rax", "-ex", "p/x $rbx", "-ex", "continue"])
        .output()
        .expect("gdb (install it: apt-get install gdb)");
    let out = String::from_utf8_lossy(&gdb.stdout);
    let values: Vec<&str> = out.lines().filter_map(|l| l.split_once(" = ").map(|(_, v)| v.trim())).collect();
    assert_eq!(values, ["0x7c00", "0x7c06", "0x1", "0x2"], "gdb said:\n{out}\n{}", String::from_utf8_lossy(&gdb.stderr));
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut console = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut console).unwrap();
    assert_eq!(console, "r", "the replay ran on to its end after continue");
    let _ = std::fs::remove_dir_all(&dir);
}
