//! User programs on the kernel, as Pintos-KAIST's project 2 runs them: the built programs
//! (user-programs) go into a fresh file system with `put`, and `run 'PROG ARGS'` loads
//! and runs one as a process. Exit lines, argument passing (Rust and C programs), halt,
//! the file system calls, processes killed for bad pointers or faults without harm to the
//! kernel, refused executables, and deterministic runs.

mod common;

use common::{boot_with_fs, executing_section, pintos_console, prog};

/// `pintos ... -p PUT ... -- -q -f run 'CMDLINE'` (puts are `HOST:GUEST`, see [`prog`]);
/// the console between `Executing` and the statistics.
fn run(puts: &[String], cmdline: &str) -> String {
    executing_section(&pintos_console(puts, &["run", cmdline]))
}

/// What `run` prints around a process that ran to exit(status) after `lines`.
fn expect(cmdline: &str, lines: &[&str], status: i32) -> String {
    let name = cmdline.split(' ').next().unwrap();
    let mut s = format!("Executing '{cmdline}':\n");
    for l in lines {
        s += l;
        s += "\n";
    }
    s += &format!("{name}: exit({status})\nExecution of '{cmdline}' complete.\n");
    s
}

/// `exit` prints begin and exits with 57; the kernel prints `exit: exit(57)`.
#[test]
fn exit_prints_its_status() {
    assert_eq!(run(&[prog("exit")], "exit"), expect("exit", &["(exit) begin"], 57));
    assert_eq!(run(&[prog("c-exit")], "c-exit"), expect("c-exit", &["(c-exit) begin"], 57));
}

/// `halt` powers the machine off from user mode: no exit line, no "complete" line.
#[test]
fn halt_powers_off() {
    for name in ["halt", "c-halt"] {
        assert_eq!(run(&[prog(name)], name), format!("Executing '{name}':\n({name}) begin\n"));
    }
}

/// Arguments reach `_start(argc, argv)` in Pintos-KAIST's layout: argv[0] is the program
/// name, extra spaces separate nothing, and argv[argc] is NULL.
#[test]
fn arguments_are_passed() {
    let got = run(&[prog("echo")], "echo a b c");
    let want = expect(
        "echo a b c",
        &["(echo) begin", "(echo) argc = 4", "(echo) argv[0] = 'echo'", "(echo) argv[1] = 'a'", "(echo) argv[2] = 'b'", "(echo) argv[3] = 'c'", "(echo) argv[4] = null", "(echo) end"],
        0,
    );
    assert_eq!(got, want);
    let got = run(&[prog("c-args")], "c-args x  y");
    let want = expect(
        "c-args x  y",
        &["(c-args) begin", "(c-args) argc = 3", "(c-args) argv[0] = 'c-args'", "(c-args) argv[1] = 'x'", "(c-args) argv[2] = 'y'", "(c-args) argv[3] = null", "(c-args) end"],
        0,
    );
    assert_eq!(got, want);
    // Pintos' args-many: 22 one-letter arguments.
    let many = "echo a b c d e f g h i j k l m n o p q r s t u v";
    let got = run(&[prog("echo")], many);
    assert!(got.contains("(echo) argc = 23\n") && got.contains("(echo) argv[22] = 'v'\n(echo) argv[23] = null\n"), "{got}");
    assert!(got.ends_with("echo: exit(0)\nExecution of 'echo a b c d e f g h i j k l m n o p q r s t u v' complete.\n"), "{got}");
}

/// A Rust panic in the program ends it with -1 after its ABORT line.
#[test]
fn user_panic_exits_minus_one() {
    let got = run(&[prog("panic")], "panic");
    assert!(got.contains("User process ABORT at") && got.ends_with("panic: exit(-1)\nExecution of 'panic' complete.\n"), "{got}");
}

/// A store to NULL (a user page fault), `write` from an unmapped buffer and `write` from
/// a kernel address each kill the process with exit(-1); the kernel carries on and
/// powers off normally (checked by `run`).
#[test]
fn bad_pointers_kill_the_process() {
    for name in ["bad-write", "write-kern-ptr"] {
        assert_eq!(run(&[prog(name)], name), expect(name, &[&format!("({name}) begin")], -1));
    }
}

/// create/open/write/filesize/seek/tell/read/close/remove through the system calls.
#[test]
fn file_system_calls_work() {
    let got = run(&[prog("file-calls")], "file-calls");
    assert!(got.contains("(file-calls) read back \"world\"\n"), "{got}");
    assert!(!got.contains("FAILED"), "{got}");
    assert!(got.ends_with("(file-calls) end\nfile-calls: exit(0)\nExecution of 'file-calls' complete.\n"), "{got}");
}

/// A missing program and a file that is not an ELF executable fail to load: the
/// process exits with -1 and the kernel goes on.
#[test]
fn bad_executables_are_refused() {
    let got = run(&[], "nosuch");
    assert_eq!(got, "Executing 'nosuch':\nload: nosuch: open failed\nnosuch: exit(-1)\nExecution of 'nosuch' complete.\n");
    let dir = std::env::temp_dir().join(format!("disk-images-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("text");
    std::fs::write(&text, b"#!/bin/sh\necho this is not an ELF file, but long enough to read a header from\n").unwrap();
    let got = run(&[format!("{}:notelf", text.display())], "notelf");
    assert!(got.starts_with("Executing 'notelf':\nload: notelf: ") && got.ends_with("notelf: exit(-1)\nExecution of 'notelf' complete.\n"), "{got}");
    // A real executable with its program headers cut off.
    let exe = std::fs::read(user_programs::path("exit")).unwrap();
    let cut = dir.join("cut");
    std::fs::write(&cut, &exe[..100]).unwrap();
    let got = run(&[format!("{}:cut", cut.display())], "cut");
    assert!(got.starts_with("Executing 'cut':\nload: cut: ") && got.ends_with("cut: exit(-1)\nExecution of 'cut' complete.\n"), "{got}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Boots with the command line `argv` and `puts` on the scratch disk; returns the
/// console and the instructions retired.
fn boot(argv: &[&str], puts: &[(String, Vec<u8>)]) -> (String, u64) {
    let (m, console) = boot_with_fs(argv, puts);
    (console, m.cpu.icount)
}

/// Two identical runs of user programs (one killed by a fault) give the same console and
/// the same instruction count.
#[test]
fn user_program_runs_are_deterministic() {
    let puts: Vec<(String, Vec<u8>)> = ["echo", "bad-write", "file-calls"].iter().map(|n| (n.to_string(), std::fs::read(user_programs::path(n)).unwrap())).collect();
    let argv = ["-q", "-f", "put", "echo", "put", "bad-write", "put", "file-calls", "run", "echo x y", "run", "bad-write", "run", "file-calls"];
    let (c1, n1) = boot(&argv, &puts);
    let (c2, n2) = boot(&argv, &puts);
    assert!(c1.contains("echo: exit(0)\n") && c1.contains("bad-write: exit(-1)\n") && c1.contains("file-calls: exit(0)\n"), "{c1}");
    assert!(!c1.contains("PANIC"), "{c1}");
    assert_eq!(c1, c2);
    assert_eq!(n1, n2, "instruction counts differ");
}

/// A hand-made ELF64 executable: segments (type, flags, file offset, vaddr, filesz,
/// memsz) over the bytes `file`, entry `entry`.
fn elf(segments: &[(u32, u32, u64, u64, u64, u64)], entry: u64, body: &[(usize, &[u8])]) -> Vec<u8> {
    let mut f = vec![0u8; 0x200];
    f[0..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    f[16..18].copy_from_slice(&2u16.to_le_bytes());
    f[18..20].copy_from_slice(&0x3eu16.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    f[58..60].copy_from_slice(&64u16.to_le_bytes());
    for (i, &(ty, flags, off, va, filesz, memsz)) in segments.iter().enumerate() {
        let p = 64 + i * 56;
        f[p..p + 4].copy_from_slice(&ty.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
        for (j, v) in [off, va, va, filesz, memsz, 0x1000].iter().enumerate() {
            f[p + 8 + j * 8..p + 16 + j * 8].copy_from_slice(&v.to_le_bytes());
        }
    }
    for (at, bytes) in body {
        f[*at..*at + bytes.len()].copy_from_slice(bytes);
    }
    f
}

/// Code at 0x400100: write(1, 0x400180, 3); exit([0x401100] + 42) after storing to
/// 0x401101 (bss on the page after the data).
const SHARED_CODE: &[u8] = &[
    0xb8, 0x0a, 0, 0, 0, // mov eax, WRITE
    0xbf, 0x01, 0, 0, 0, // mov edi, 1
    0xbe, 0x80, 0x01, 0x40, 0x00, // mov esi, 0x400180
    0xba, 0x03, 0, 0, 0, // mov edx, 3
    0x0f, 0x05, // syscall
    0x8b, 0x3c, 0x25, 0x00, 0x11, 0x40, 0x00, // mov edi, [0x401100]
    0x83, 0xc7, 0x2a, // add edi, 42
    0xc6, 0x04, 0x25, 0x01, 0x11, 0x40, 0x00, 0x01, // mov byte [0x401101], 1
    0xb8, 0x01, 0, 0, 0, // mov eax, EXIT
    0x0f, 0x05, // syscall
];

/// Three PT_LOAD segments in one page — a read-only one over the ELF header, the code,
/// and read-write data whose bss runs into the next page — all load: the data is there,
/// the bss reads zero and takes a store, and the program exits with 42. A segment that
/// reaches kernel space, or a dynamic executable, is refused.
#[test]
fn segments_sharing_a_page_load() {
    let dir = std::env::temp_dir().join(format!("disk-images-up-elf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let segs = [(1, 4, 0, 0x400000, 0xe8, 0xe8), (1, 5, 0x100, 0x400100, 0x40, 0x40), (1, 6, 0x180, 0x400180, 3, 0x1000)];
    let good = elf(&segs, 0x400100, &[(0x100, SHARED_CODE), (0x180, b"hi\n")]);
    std::fs::write(dir.join("shared"), &good).unwrap();
    let got = run(&[format!("{}:sharedpg", dir.join("shared").display())], "sharedpg");
    assert_eq!(got, "Executing 'sharedpg':\nhi\nsharedpg: exit(42)\nExecution of 'sharedpg' complete.\n");

    let mut kernel = segs;
    kernel[2].3 = 0x80_0400_0000;
    let bad = elf(&kernel, 0x400100, &[(0x100, SHARED_CODE)]);
    std::fs::write(dir.join("kernel"), &bad).unwrap();
    let got = run(&[format!("{}:kernseg", dir.join("kernel").display())], "kernseg");
    assert_eq!(got, "Executing 'kernseg':\nload: kernseg: bad segment\nkernseg: exit(-1)\nExecution of 'kernseg' complete.\n");

    let mut dynamic = segs;
    dynamic[0].0 = 3; // PT_INTERP
    let bad = elf(&dynamic, 0x400100, &[(0x100, SHARED_CODE)]);
    std::fs::write(dir.join("dynamic"), &bad).unwrap();
    let got = run(&[format!("{}:dynamic", dir.join("dynamic").display())], "dynamic");
    assert!(got.starts_with("Executing 'dynamic':\nload: dynamic: ") && got.ends_with("dynamic: exit(-1)\nExecution of 'dynamic' complete.\n"), "{got}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A user program that computes for about 3 timer ticks is interrupted in user mode
/// (the timer, on TSS.RSP0's stack) and resumes with its registers intact: it counts to
/// 10,000,000 and exits with count - 9,999,993 = 7, and the ticks show as user ticks.
#[test]
fn user_mode_survives_timer_interrupts() {
    let code: &[u8] = &[
        0x31, 0xc0, // xor eax, eax
        0xb9, 0x80, 0x96, 0x98, 0x00, // mov ecx, 10000000
        0xff, 0xc0, // 1: inc eax
        0x39, 0xc8, // cmp eax, ecx
        0x75, 0xfa, // jne 1b
        0x89, 0xc7, // mov edi, eax
        0x81, 0xef, 0x79, 0x96, 0x98, 0x00, // sub edi, 9999993
        0xb8, 0x01, 0, 0, 0, // mov eax, EXIT
        0x0f, 0x05, // syscall
    ];
    let exe = elf(&[(1, 5, 0x100, 0x400100, code.len() as u64, code.len() as u64)], 0x400100, &[(0x100, code)]);
    let (console, _) = boot(&["-q", "-f", "put", "spin", "run", "spin"], &[("spin".to_string(), exe)]);
    assert!(console.contains("Executing 'spin':\nspin: exit(7)\nExecution of 'spin' complete.\n"), "{console}");
    let user: u64 = console.split(" kernel ticks, ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    assert!(user >= 2, "user ticks: {user}\n{console}");
}

/// A running executable is write-protected (Pintos' rox-simple): writing to it through
/// an fd writes nothing.
#[test]
fn running_executable_cannot_be_written() {
    let got = run(&[prog("rox-self")], "rox-self");
    let want = expect("rox-self", &["(rox-self) begin", "(rox-self) open \"rox-self\"", "(rox-self) read \"rox-self\"", "(rox-self) try to write \"rox-self\"", "(rox-self) end"], 0);
    assert_eq!(got, want);
}
