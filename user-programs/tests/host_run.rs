//! Runs the user programs on the host, before the kernel can: each program is started
//! under ptrace and its system calls are answered here as a Pintos kernel would (WRITE to
//! stdout is captured, EXIT prints `NAME: exit(N)`, HALT powers off), so the entry code,
//! argument passing, the test messages and the exit status are checked end to end.
//!
//! The host kernel loads the static ELF; the stub then sets up Pintos-KAIST's entry state
//! (rdi = argc, rsi = argv, a fake return address 0 at [rsp]) and turns every system call
//! into an invalid host one whose result it supplies.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::ffi::CString;
use std::path::Path;

use user_programs::path;

/// How a run ended.
#[derive(Debug, PartialEq)]
enum End {
    Exit(i32),
    Halt,
    /// A system call this stub does not answer.
    Unsupported(u64),
    /// Killed by a host signal (a fault).
    Signal(i32),
}

fn check(r: libc::c_long, what: &str) -> libc::c_long {
    assert!(r != -1, "{what}: {}", std::io::Error::last_os_error());
    r
}

fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    check(unsafe { libc::waitpid(pid, &mut status, 0) } as libc::c_long, "waitpid");
    status
}

fn regs(pid: libc::pid_t) -> libc::user_regs_struct {
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    check(unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, &mut r) }, "PTRACE_GETREGS");
    r
}

fn set_regs(pid: libc::pid_t, r: &libc::user_regs_struct) {
    check(unsafe { libc::ptrace(libc::PTRACE_SETREGS, pid, 0, r) }, "PTRACE_SETREGS");
}

/// `len` bytes of the tracee's memory at `addr`.
fn read_mem(pid: libc::pid_t, addr: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: len };
    let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: len };
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    assert_eq!(n, len as isize, "read {len} bytes at {addr:#x} from the program");
    buf
}

/// Ends the tracee and reaps it.
fn kill(pid: libc::pid_t) {
    unsafe { libc::kill(pid, libc::SIGKILL) };
    wait(pid);
}

/// Runs program `name` with `args` (argv[0] = name); returns its console output (with the
/// kernel's `NAME: exit(N)` line) and how it ended.
fn run(name: &str, args: &[&str]) -> (String, End) {
    let exe = CString::new(path(name).to_str().unwrap()).unwrap();
    assert!(Path::new(exe.to_str().unwrap()).is_file(), "{name} not built");
    let argv_c: Vec<CString> = std::iter::once(name).chain(args.iter().copied()).map(|a| CString::new(a).unwrap()).collect();
    let mut argv: Vec<*const libc::c_char> = argv_c.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];

    let pid = unsafe { libc::fork() };
    check(pid as libc::c_long, "fork");
    if pid == 0 {
        // The child: only async-signal-safe calls until exec.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::execve(exe.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    let status = wait(pid);
    assert!(libc::WIFSTOPPED(status) && libc::WSTOPSIG(status) == libc::SIGTRAP, "{name}: no ptrace stop at exec (wait status {status:#x}); these tests need ptrace");
    check(unsafe { libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_EXITKILL) }, "PTRACE_SETOPTIONS");

    // Pintos-KAIST's entry state: Linux left argc at [rsp] and argv right above it.
    let mut r = regs(pid);
    let argc = u64::from_le_bytes(read_mem(pid, r.rsp, 8).try_into().unwrap());
    assert_eq!(argc as usize, args.len() + 1);
    r.rdi = argc;
    r.rsi = r.rsp + 8;
    r.rsp -= 8;
    check(unsafe { libc::ptrace(libc::PTRACE_POKEDATA, pid, r.rsp, 0) }, "PTRACE_POKEDATA");
    set_regs(pid, &r);

    let mut out = Vec::new();
    let end = loop {
        check(unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0) }, "PTRACE_SYSCALL");
        let status = wait(pid);
        if libc::WIFEXITED(status) {
            panic!("{name}: the host ran a system call as its own and the program exited");
        }
        if libc::WIFSIGNALED(status) {
            break End::Signal(libc::WTERMSIG(status));
        }
        let sig = libc::WSTOPSIG(status);
        if sig != libc::SIGTRAP | 0x80 {
            kill(pid);
            break End::Signal(sig);
        }
        // System call entry: answer it ourselves, and let the host see an invalid number.
        let mut r = regs(pid);
        let result: u64 = match r.orig_rax {
            0 => {
                kill(pid);
                break End::Halt;
            }
            1 => {
                let status = r.rdi as i32;
                out.extend_from_slice(format!("{name}: exit({status})\n").as_bytes());
                kill(pid);
                break End::Exit(status);
            }
            10 if r.rdi == 1 => {
                out.extend(read_mem(pid, r.rsi, r.rdx as usize));
                r.rdx
            }
            n => {
                kill(pid);
                break End::Unsupported(n);
            }
        };
        r.orig_rax = u64::MAX;
        set_regs(pid, &r);
        check(unsafe { libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0) }, "PTRACE_SYSCALL");
        let status = wait(pid);
        assert!(libc::WIFSTOPPED(status), "{name}: no stop at system call exit");
        let mut r = regs(pid);
        r.rax = result;
        set_regs(pid, &r);
    };
    (String::from_utf8_lossy(&out).into_owned(), end)
}

/// What Pintos' args tests print for `argv` (program name first), then the exit line.
fn args_output(argv: &[&str]) -> String {
    let name = argv[0];
    let mut s = format!("({name}) begin\n({name}) argc = {}\n", argv.len());
    for (i, a) in argv.iter().enumerate() {
        s += &format!("({name}) argv[{i}] = '{a}'\n");
    }
    s + &format!("({name}) argv[{}] = null\n({name}) end\n{name}: exit(0)\n", argv.len())
}

/// `halt` and `c-halt` print `begin` and power off.
#[test]
fn halt_programs_halt_after_begin() {
    for name in ["halt", "c-halt"] {
        assert_eq!(run(name, &[]), (format!("({name}) begin\n"), End::Halt), "{name}");
    }
}

/// `exit` and `c-exit` print `begin` and exit with 57, as Pintos' `exit` test expects.
#[test]
fn exit_programs_exit_with_57() {
    for name in ["exit", "c-exit"] {
        assert_eq!(run(name, &[]), (format!("({name}) begin\n{name}: exit(57)\n"), End::Exit(57)), "{name}");
    }
}

/// `echo` and `c-args` print their arguments as Pintos' args-none/-single/-multiple do.
#[test]
fn args_programs_print_their_argument_vectors() {
    for name in ["echo", "c-args"] {
        for args in [&[][..], &["onearg"], &["some", "arguments", "for", "you!"]] {
            let argv: Vec<&str> = std::iter::once(name).chain(args.iter().copied()).collect();
            assert_eq!(run(name, args), (args_output(&argv), End::Exit(0)), "{name} {args:?}");
        }
    }
}

/// `check!`/`CHECK` print their message, and on a false condition `(NAME) MSG: FAILED`
/// and exit 1; the C `msg` formats Pintos' printf conversions.
#[test]
fn failed_checks_print_failed_and_exit_1() {
    let (out, end) = run("check-fail", &[]);
    let n = "check-fail";
    assert_eq!((out.as_str(), end), (format!("({n}) begin\n({n}) 2 + 2 = 4\n({n}) 2 + 2 = 5\n({n}) 2 + 2 = 5: FAILED\n{n}: exit(1)\n").as_str(), End::Exit(1)));
    let (out, end) = run("c-check", &[]);
    let n = "c-check";
    let want = format!(
        "({n}) begin\n({n}) -5 7 4000000000 beef str c % 12 -9000000000 0x400000\n({n}) 2 + 2 = 4\n({n}) 2 + 2 = 5\n({n}) 2 + 2 = 5: FAILED\n{n}: exit(1)\n"
    );
    assert_eq!((out, end), (want, End::Exit(1)));
}

/// A Rust panic prints where it happened and exits with -1, as a killed process does.
#[test]
fn panic_exits_with_minus_1() {
    let (out, end) = run("panic", &["x"]);
    assert_eq!(end, End::Exit(-1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "(panic) begin");
    assert!(lines[1].starts_with("User process ABORT at src/bin/panic.rs:") && lines[1].ends_with("on a `None` value"), "{}", lines[1]);
    assert_eq!(lines[2], "panic: exit(-1)");
}
