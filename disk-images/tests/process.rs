//! Processes on the kernel, as Pintos-KAIST's project 2 runs them: fork (copies of
//! memory and files, return values, exit order), wait (statuses kept after the child
//! exits, once only, only for children), exec (with arguments, and of a missing
//! program), dup2 (console copies, closing stdout, shared positions), no page leaks
//! over many forks, and deterministic runs. The programs are user/src/bin/fk-*.rs.

mod common;

use common::{executing_section, pintos_console, prog};

/// `pintos ... -p PROG:PROG ... -- -q -f run 'CMDLINE'`; the whole console.
fn run_console(puts: &[&str], cmdline: &str) -> String {
    run_actions(puts, &["run", cmdline])
}

/// As `run_console` with kernel actions `actions` (e.g. two `run`s).
fn run_actions(puts: &[&str], actions: &[&str]) -> String {
    let puts: Vec<String> = puts.iter().map(|p| prog(p)).collect();
    pintos_console(&puts, actions)
}

/// The console between `Executing` and the statistics.
fn run(puts: &[&str], cmdline: &str) -> String {
    executing_section(&run_console(puts, cmdline))
}

/// What `run` prints around `lines` (which include the exit lines).
fn expect(cmdline: &str, lines: &[&str]) -> String {
    let mut s = format!("Executing '{cmdline}':\n");
    for l in lines {
        s += l;
        s += "\n";
    }
    s += &format!("Execution of '{cmdline}' complete.\n");
    s
}

/// The child gets 0 and copies of memory and files (its own position) and exits under
/// the name given to fork; the parent's wait returns its 81. (The child reads the shared
/// file first and blocks on the disk; the parent runs meanwhile, and `check!` prints
/// before it waits, so the child's exit line comes after the parent's wait line.)
#[test]
fn fork_returns_twice_and_wait_gets_the_status() {
    let got = run(&["fk-basic"], "fk-basic");
    let want = expect(
        "fk-basic",
        &[
            "(fk-basic) begin",
            "(fk-basic) create \"shared\"",
            "(fk-basic) write 8 bytes",
            "(fk-basic) child: fork returned 0, value 99",
            "(fk-basic) child: reads \"cde\" from the inherited fd",
            "(fk-basic) parent: fork returned a pid",
            "(fk-basic) parent: wait returned 81",
            "child: exit(81)",
            "(fk-basic) parent: own position and memory unchanged",
            "(fk-basic) end",
            "fk-basic: exit(0)",
        ],
    );
    assert_eq!(got, want);
}

/// A child that exits before its parent waits keeps its status; a second wait, a wait
/// on a non-child and on -1 return -1; a grandchild is not waited for by its exiting
/// parent (whose record of it is freed). (`check!` prints before it evaluates, so the
/// last check's line precedes the exits it waits for.)
#[test]
fn wait_gets_each_status_once() {
    let got = run(&["fk-wait"], "fk-wait");
    let want = expect(
        "fk-wait",
        &[
            "(fk-wait) begin",
            "early: exit(5)",
            "(fk-wait) spun",
            "(fk-wait) wait for the exited child returns 5",
            "(fk-wait) second wait returns -1",
            "(fk-wait) wait on a non-child returns -1",
            "(fk-wait) wait on -1 returns -1",
            "(fk-wait) wait for the running child returns 6",
            "grandchild: exit(7)",
            "late: exit(6)",
            "(fk-wait) end",
            "fk-wait: exit(0)",
        ],
    );
    assert_eq!(got, want);
}

/// Exec replaces the program (arguments passed); the process keeps its name, so the exit
/// line names the process as it was created (Pintos-KAIST's rule: exec-once exits as
/// `exec-once: exit(81)`). A forked child that execs is waited for with the new
/// program's status.
#[test]
fn exec_runs_a_program_with_arguments() {
    let echo = |args: &[&str], process: &str| {
        let mut v = vec!["(echo) begin".to_string(), format!("(echo) argc = {}", args.len())];
        for (i, a) in args.iter().enumerate() {
            v.push(format!("(echo) argv[{i}] = '{a}'"));
        }
        v.push(format!("(echo) argv[{}] = null", args.len()));
        v.push("(echo) end".to_string());
        v.push(format!("{process}: exit(0)"));
        v
    };
    let mut lines = vec!["(fk-exec) begin".to_string()];
    lines.extend(echo(&["echo", "exec'd", "arg"], "fk-exec"));
    let lines: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    assert_eq!(run(&["fk-exec", "echo"], "fk-exec"), expect("fk-exec", &lines));

    // The child's exec loads echo from the disk and blocks there; the parent prints its
    // check line (before waiting) meanwhile.
    let mut lines = vec!["(fk-exec) begin".to_string(), "(fk-exec) wait for the exec'd child returns 0".to_string()];
    lines.extend(echo(&["echo", "x", "y"], "fk-child"));
    lines.extend(["(fk-exec) end".to_string(), "fk-exec: exit(0)".to_string()]);
    let lines: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    assert_eq!(run(&["fk-exec", "echo"], "fk-exec fork"), expect("fk-exec fork", &lines));
}

/// Exec of a missing program: the loader's message, then exit(-1) under the old name.
#[test]
fn exec_of_a_missing_program_exits_minus_one() {
    let got = run(&["fk-exec-bad"], "fk-exec-bad");
    let want = expect("fk-exec-bad", &["(fk-exec-bad) begin", "load: no-such-file: open failed", "fk-exec-bad: exit(-1)"]);
    assert_eq!(got, want);
}

/// Dup2 to and from the console, writes to a closed stdout failing, dup'd files sharing
/// their position and surviving the original's close, bad and closed old fds.
#[test]
fn dup2_copies_descriptors() {
    let got = run(&["fk-dup2"], "fk-dup2");
    let want = expect(
        "fk-dup2",
        &[
            "(fk-dup2) begin",
            "(fk-dup2) dup2(1, 5) returns 5",
            "(fk-dup2) write to fd 5",
            "(fk-dup2) written to fd 5",
            "(fk-dup2) write to closed fd 1 fails",
            "(fk-dup2) dup2(5, 1) restores stdout",
            "(fk-dup2) create \"f\"",
            "(fk-dup2) dup2(fd, 9)",
            "(fk-dup2) dup'd fd shares the position",
            "(fk-dup2) seek on one moves the other",
            "(fk-dup2) the copy stays open after close",
            "(fk-dup2) dup2 of a bad fd fails",
            "(fk-dup2) dup2(fd, fd) returns fd",
            "(fk-dup2) dup2 of closed stdin fails",
            "(fk-dup2) opened next: 2",
            "(fk-dup2) end",
            "fk-dup2: exit(0)",
        ],
    );
    assert_eq!(got, want);
}

/// The `Palloc:` line printed at power-off.
fn free_pages(console: &str) -> String {
    console.lines().find(|l| l.starts_with("Palloc: ")).unwrap_or_else(|| panic!("no Palloc line:\n{console}")).to_string()
}

/// 20 fork + exit + wait rounds leave as many free kernel and user pages as one round.
#[test]
fn fork_and_wait_do_not_leak_pages() {
    let one = run_console(&["fk-loop"], "fk-loop 1");
    let many = run_console(&["fk-loop"], "fk-loop 20");
    assert!(one.contains("(fk-loop) 1 forks\nfk-loop: exit(0)\n"), "{one}");
    assert!(many.contains("fk-loop-child: exit(19)\n(fk-loop) 20 forks\nfk-loop: exit(0)\n"), "{many}");
    assert_eq!(free_pages(&one), free_pages(&many));
}

/// Two identical runs of the fork, exec and wait programs print the same console.
#[test]
fn process_runs_are_deterministic() {
    let a = run(&["fk-wait"], "fk-wait");
    let b = run(&["fk-wait"], "fk-wait");
    assert_eq!(a, b);
    let a = run_console(&["fk-exec", "echo"], "fk-exec fork");
    let b = run_console(&["fk-exec", "echo"], "fk-exec fork");
    assert_eq!(a, b);
}

/// A chain of forks until the kernel runs out of memory: fork returns -1 (the child's
/// copy failed) instead of the kernel panicking, every process exits with its child's
/// status + 1, and a second chain in the same boot leaves the same free pages as one.
#[test]
fn fork_fails_cleanly_when_memory_runs_out() {
    let once = run_actions(&["fk-deep"], &["run", "fk-deep"]);
    let twice = run_actions(&["fk-deep"], &["run", "fk-deep", "run", "fk-deep"]);
    let depth: i32 = once.split("fork failed at depth ").nth(1).and_then(|r| r.split('\n').next()).and_then(|d| d.parse().ok()).unwrap_or_else(|| panic!("{once}"));
    assert!(depth > 20, "{once}");
    assert!(once.contains("fk-deep: exit(0)\nfk-deep: exit(1)\n"), "{once}");
    assert!(once.contains(&format!("fk-deep: exit({depth})\nExecution of 'fk-deep' complete.\n")), "{once}");
    assert_eq!(twice.matches(&format!("fk-deep: exit({depth})\nExecution")).count(), 2, "{twice}");
    assert_eq!(free_pages(&once), free_pages(&twice));
}
