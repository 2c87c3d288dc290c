//! Disk commands take time on our kernel as on a PC: a thread that reads the disk sleeps
//! and others run meanwhile. Seen from the hardware: which address space (process) wrote
//! each disk command (the CPU's `out` and CR3 events), and how long the CPU sat halted
//! while a disk was busy.

mod common;

use common::boot_with_fs_timed;
use emulator::bus::CpuEvent;
use emulator::devices::ide::{DiskTiming, CMD_READ_SECTORS, CMD_WRITE_SECTORS, COMMAND_BASE};

fn program(name: &str) -> (String, Vec<u8>) {
    (name.to_string(), std::fs::read(user_programs::path(name)).unwrap())
}

/// What the hardware saw of syn-read's disk commands at `timing`, counting only the
/// commands a process issued (not the kernel's own, such as mounting the file system):
/// how many times the process issuing consecutive commands changed, how many processes
/// issued any, and how many commands the issuer slept through (another address space,
/// if only the idle thread's, was loaded before the command's completion interrupt).
struct SynRead {
    switches: usize,
    processes: usize,
    slept: usize,
    commands: usize,
}

fn syn_read(timing: DiskTiming) -> SynRead {
    let puts = [program("syn-read"), program("child-syn-read")];
    let argv = ["-q", "-f", "put", "syn-read", "put", "child-syn-read", "run", "syn-read"];
    let (mut m, console) = boot_with_fs_timed(&argv, &puts, timing, true);
    assert!(console.contains("(syn-read) end\n") && !console.contains("FAIL"), "{console}");
    // The kernel maps the IDE channels' IRQs 14 and 15 at 0x20 + IRQ, as Pintos does.
    let ide_vectors = [0x2e, 0x2f];
    let mut cr3 = 0;
    let mut kernel = None;
    // The process waiting for a command, and whether it left the CPU meanwhile.
    let mut waiting: Option<(u64, bool)> = None;
    let (mut slept, mut issuers) = (0, Vec::new());
    let recorder = emulator::observe::downcast::<emulator::observe::Recorder>(m.bus.observer.take().unwrap()).unwrap();
    for (_, e) in recorder.cpu {
        match e {
            CpuEvent::Cr3Load { value } => {
                cr3 = value;
                if let Some((issuer, left)) = &mut waiting {
                    *left |= value != *issuer;
                }
            }
            CpuEvent::PortOut { port, value, .. } if COMMAND_BASE.iter().any(|b| port == b + 7) && matches!(value as u8, CMD_READ_SECTORS | CMD_WRITE_SECTORS) => {
                // The first disk command comes from the kernel (mounting the file system).
                let k = *kernel.get_or_insert(cr3);
                waiting = (cr3 != k).then_some((cr3, false));
                if cr3 != k {
                    issuers.push(cr3);
                }
            }
            CpuEvent::Interrupt { vector, .. } if ide_vectors.contains(&vector) => {
                if let Some((_, true)) = waiting.take() {
                    slept += 1;
                }
            }
            _ => {}
        }
    }
    let switches = issuers.windows(2).filter(|w| w[0] != w[1]).count();
    let commands = issuers.len();
    issuers.sort();
    issuers.dedup();
    SynRead { switches, processes: issuers.len(), slept, commands }
}

/// At the default timing the syn-read children's reads interleave inside the file
/// system: a child that waits for its sector sleeps (holding the file-system lock), and
/// when its read ends the lock passes to the next child in line, so consecutive disk
/// commands come from different children thousands of times. With an instant disk a
/// command completes on the instruction after it, nobody ever sleeps on the disk, and
/// each child reads on until its time slice ends: the children run one after another.
#[test]
fn syn_read_children_interleave_inside_the_file_system() {
    let instant = syn_read(DiskTiming::INSTANT);
    let timed = syn_read(DiskTiming::DEFAULT);
    for (name, r) in [("instant", &instant), ("default", &timed)] {
        eprintln!("{name}: {} commands from {} processes, issuer changed {} times, issuer slept through {}", r.commands, r.processes, r.switches, r.slept);
    }
    // Ten children reading 1 KiB a byte at a time, besides the parent's own commands.
    // (A process's page-table root is a freed page that the next process may get again,
    // so with the children one after another few distinct roots appear.)
    assert!(timed.processes >= 11, "syn-read's parent and children all read the disk at once: {} address spaces", timed.processes);
    assert!(timed.commands >= 10 * 1024 && instant.commands >= 10 * 1024);
    assert_eq!(instant.slept, 0, "an instant disk completes before the issuer could sleep");
    assert!(timed.slept * 10 >= timed.commands * 9, "the issuer slept through {} of {} commands", timed.slept, timed.commands);
    assert!(timed.switches >= 5000, "children interleave at the default timing: {} changes", timed.switches);
    assert!(instant.switches < 100, "with an instant disk the children read one after another: {} changes", instant.switches);
}

/// A single process that reads and writes a large file spends halted time waiting for the
/// disk at the default timing, and none with an instant disk; the disk's busy time covers
/// every command.
#[test]
fn a_disk_heavy_process_waits_halted_for_the_disk() {
    let puts = [program("lg-random")];
    let argv = ["-q", "-f", "put", "lg-random", "run", "lg-random"];
    for (timing, waits) in [(DiskTiming::INSTANT, false), (DiskTiming::DEFAULT, true)] {
        let (m, console) = boot_with_fs_timed(&argv, &puts, timing, false);
        assert!(console.contains("(lg-random) end\n") && !console.contains("FAIL"), "{console}");
        let ide = &m.bus.ide;
        let fs = ide.stats(0, 1);
        let halted = ide.state().halted_wait_ns;
        eprintln!("{timing:?}: fs disk {} commands, busy {} ns; halted waiting {halted} ns", fs.commands, fs.busy_ns);
        assert_eq!(halted > 0, waits, "halted time waiting for the disk: {halted} ns");
        assert!(fs.halted_wait_ns <= fs.busy_ns);
        if waits {
            // Every command was busy at least its own time.
            assert!(fs.busy_ns >= fs.commands * timing.command_ns, "{fs:?}");
            // Most of the busy time nothing else could run.
            assert!(fs.halted_wait_ns * 2 > fs.busy_ns, "{fs:?}");
        } else {
            assert_eq!(fs.busy_ns, 0);
        }
    }
}

/// Same images and options, same run: the timed disk changes nothing about determinism.
#[test]
fn timed_runs_are_identical() {
    let puts = [program("syn-read"), program("child-syn-read")];
    let argv = ["-q", "-f", "put", "syn-read", "put", "child-syn-read", "run", "syn-read"];
    let run = || {
        let (m, console) = boot_with_fs_timed(&argv, &puts, DiskTiming::DEFAULT, false);
        (console, m.cpu.icount, m.virtual_ns(), m.bus.ide.state().clone())
    };
    let a = run();
    let b = run();
    assert_eq!(a.0, b.0);
    assert_eq!((a.1, a.2), (b.1, b.2), "instruction counts and virtual time");
    assert!(a.3 == b.3, "controller state differs");
}
