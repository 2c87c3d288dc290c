//! The system gdb, in batch mode, against `pintos replay FILE --gdb=0`: the recorded run
//! stops before its first instruction, `stepi` moves through it, registers read right,
//! and `continue` runs it to its end; `reverse-stepi` gives back the previous instruction
//! with the previous registers and memory, and `reverse-continue` with a watchpoint stops
//! at the last instruction that wrote the watched address. (The project's set-up installs
//! Debian's gdb where it is missing; without gdb this test fails, it is not skipped.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use iced_x86::code_asm::*;

/// Records the boot sector `code` (real mode, at 0x7c00) in a fresh directory; returns it.
fn recorded(name: &str, code: Vec<u8>, console: &str) -> std::path::PathBuf {
    let mut disk = code;
    disk.resize(510, 0);
    disk.extend_from_slice(&[0x55, 0xaa]);
    let dir = std::env::temp_dir().join(format!("pintos-replay-gdb-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("os.dsk"), &disk).unwrap();
    let rec = Command::new(env!("CARGO_BIN_EXE_pintos")).args(["--record", "run.replay", "-v", "--", "run"]).current_dir(&dir).output().unwrap();
    assert!(rec.status.success(), "{}", String::from_utf8_lossy(&rec.stderr));
    assert_eq!(String::from_utf8_lossy(&rec.stdout), console);
    dir
}

/// Serves the replay in `dir` to gdb running `commands`; returns gdb's output and the
/// console the replay printed.
fn gdb_session(dir: &std::path::Path, commands: &[&str]) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pintos")).args(["replay", "run.replay", "--gdb=0"]).current_dir(dir).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    // The port is on the `waiting for gdb` line (a line naming the kernel's ELF may come first).
    while !line.contains("localhost:") {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the replay ended without offering a port");
        }
    }
    let port = line.split("localhost:").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next()).unwrap_or_else(|| panic!("no port in {line:?}")).to_string();
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx", "-ex", "set architecture i386:x86-64", "-ex", &format!("target remote localhost:{port}")]);
    for c in commands {
        gdb.args(["-ex", c]);
    }
    let out = gdb.output().expect("gdb (install it: apt-get install gdb)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(child.wait().unwrap().success(), "{text}");
    let mut console = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut console).unwrap();
    (text, console)
}

/// The values gdb printed with `p` (`$N = value`), in order.
fn printed(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with('$')).filter_map(|l| l.split_once(" = ").map(|(_, v)| v.trim())).collect()
}

/// 7c00 mov ax,1; 7c03 mov bx,2; 7c06 mov word [0x600],0x11; 7c0c mov cx,100;
/// 7c0f dec cx / jnz 7c0f; 7c12 mov word [0x600],0x22; 7c18 add ax,5;
/// 7c1b mov word [0x602],0x33 (next to the watch, not on it); print 'r'; power off.
fn writes_and_loops() -> Vec<u8> {
    let mut a = CodeAssembler::new(16).unwrap();
    let mut spin = a.create_label();
    a.mov(ax, 1u32).unwrap();
    a.mov(bx, 2u32).unwrap();
    a.mov(word_ptr(0x600), 0x11u32).unwrap();
    a.mov(cx, 100u32).unwrap();
    a.set_label(&mut spin).unwrap();
    a.dec(cx).unwrap();
    a.jnz(spin).unwrap();
    a.mov(word_ptr(0x600), 0x22u32).unwrap();
    a.add(ax, 5i32).unwrap();
    a.mov(word_ptr(0x602), 0x33u32).unwrap();
    a.mov(dx, 0x3f8u32).unwrap();
    a.mov(al, b'r' as u32).unwrap();
    a.out(dx, al).unwrap();
    a.mov(dx, 0x604u32).unwrap();
    a.mov(ax, 0x2000u32).unwrap();
    a.out(dx, ax).unwrap();
    a.hlt().unwrap();
    a.assemble(0x7c00).unwrap()
}

#[test]
fn gdb_goes_backwards_through_a_replay() {
    let dir = recorded("reverse", writes_and_loops(), "r");
    let (out, console) = gdb_session(
        &dir,
        &[
            "stepi 3",
            "p/x $pc",
            "p/x *(short*)0x600",
            // Back one instruction: the write is undone, the registers are as they were.
            "reverse-stepi",
            "p/x $pc",
            "p/x *(short*)0x600",
            "p/x $rbx",
            "reverse-stepi",
            "p/x $pc",
            "p/x $rbx",
            // Forward to the end of the recording, then back to the writes.
            "watch *(short*)0x600",
            "continue",
            "p/x $pc",
            "continue",
            "p/x $pc",
            "continue",
            "reverse-continue",
            "p/x $pc",
            "p/x *(short*)0x600",
            "p/x $rcx",
            "reverse-continue",
            "p/x $pc",
            "p/x $rbx",
            "reverse-continue",
            "p/x $pc",
        ],
    );
    let want = [
        "0x7c0c", "0x11", // after three steps: the first write done
        "0x7c06", "0x0", "0x2", // one back: before the write, bx already 2
        "0x7c03", "0x0", // two back: before mov bx,2
        "0x7c0c", // the watch fires after the first write
        "0x7c18", // and after the second
        "0x7c12", "0x11", "0x0", // back from the end: at the second write, cx is 0
        "0x7c06", "0x2", // back again: at the first write
        "0x7c00", // nothing earlier: the start of the recording
    ];
    assert_eq!(printed(&out), want, "gdb said:\n{out}");
    assert_eq!(out.matches("No more reverse-execution history").count(), 2, "{out}");
    assert!(out.contains("Old value = 34\nNew value = 17"), "{out}");
    assert_eq!(console, "r", "each console byte shows once, however often the run is re-run");
    let _ = std::fs::remove_dir_all(&dir);
}

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
    let dir = recorded("forward", a.assemble(0x7c00).unwrap(), "r");
    let (out, console) = gdb_session(&dir, &["p/x $pc", "stepi", "stepi", "p/x $pc", "p/x $rax", "p/x $rbx", "continue"]);
    assert_eq!(printed(&out), ["0x7c00", "0x7c06", "0x1", "0x2"], "gdb said:\n{out}");
    assert_eq!(console, "r", "the replay ran on to its end after continue");
    let _ = std::fs::remove_dir_all(&dir);
}

/// gdb's range stepping (`vCont;r`, what `next` sends for a source line): the loop at
/// 7c0f-7c11 runs to its end in one request, and the system registers read right.
#[test]
fn gdb_range_steps_and_reads_system_registers() {
    let dir = recorded("range", writes_and_loops(), "r");
    let (out, _) = gdb_session(&dir, &["stepi 4", "p/x $pc", "p/x $rcx", "maint packet vCont;r7c0f,7c12", "maintenance flush register-cache", "p/x $pc", "p/x $rcx", "p/x $cr0", "p/x $cr3", "monitor where"]);
    assert_eq!(printed(&out), ["0x7c0f", "0x64", "0x7c12", "0x0", "0x60000010", "0x0"], "gdb said:\n{out}");
    assert!(out.contains("step 204 (instruction 204"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
