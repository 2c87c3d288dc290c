//! Boots the built os.dsk on the emulator and checks what the kernel prints and leaves
//! behind: the Pintos boot lines, timer ticks, power-off, panics, the interrupt set-up
//! that protects the red zone, and the IDE driver (disk detection, sector I/O, counters).

use std::time::Duration;

use emulator::devices::ide::{Disk, DiskTiming, PINTOS_DISK_UNIT, SECTOR_SIZE};
use emulator::machine::{Config, Limits, Machine, Outcome, DEFAULT_EPOCH, DEFAULT_RATE};
use emulator::pintos::scratch::set_command_line;

const KERN_BASE: u64 = 0x80_0400_0000;

/// Boots os.dsk with `args` on its command line in 20 MB (the Pintos tests' default);
/// returns the machine, how the run ended and the console text.
fn boot(args: &[&str]) -> (Machine, Outcome, String) {
    boot_with(args, true)
}

/// [`boot`], choosing whether the CPU skips busy-wait loop iterations.
fn boot_with(args: &[&str], spin_skip: bool) -> (Machine, Outcome, String) {
    boot_disks(args, spin_skip, [None, None, None])
}

/// [`boot`] with disks at hd0:1, hd1:0 and hd1:1 (`extra`, in that order) besides os.dsk
/// at hd0:0.
fn boot_disks(args: &[&str], spin_skip: bool, extra: [Option<Disk>; 3]) -> (Machine, Outcome, String) {
    let mut os = std::fs::read(disk_images::OS_DSK).expect("read os.dsk");
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    set_command_line(&mut os, &argv).unwrap();
    let [hd01, hd10, hd11] = extra;
    let config = Config { memory: 20 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(Disk::from_bytes(os).unwrap()), hd01], [hd10, hd11]], disk_timing: DiskTiming::DEFAULT };
    let mut m = Machine::new(config).unwrap();
    m.cpu.spin_skip = spin_skip;
    let mut console = Vec::new();
    let limits = Limits { virtual_time: Some(Duration::from_secs(30)), host_time: Some(Duration::from_secs(120)), instructions: None };
    let outcome = m.run(limits, |b| {
        console.extend_from_slice(b);
        true
    });
    (m, outcome, String::from_utf8_lossy(&console).into_owned())
}

/// The number in the line "Timer: N ticks".
fn timer_ticks(console: &str) -> u64 {
    let line = console.lines().find(|l| l.starts_with("Timer: ")).unwrap_or_else(|| panic!("no Timer line in:\n{console}"));
    line.trim_start_matches("Timer: ").trim_end_matches(" ticks").parse().unwrap()
}

/// `-q` alone: the boot lines Pintos' checkers need, the E820 areas, timer interrupts
/// during calibration, and a clean power-off.
#[test]
fn boots_and_powers_off() {
    let (m, outcome, console) = boot(&["-q"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    for want in ["Kernel command line: -q\n", "Pintos booting with: \n", "\tbase_mem: 0x0 ~ 0x9fc00 (Usable: 639 kB)\n", "\text_mem: 0x100000 ~ ", "Calibrating timer...  ", "Boot complete.\n", "Powering off...\n"] {
        assert!(console.contains(want), "missing {want:?} in:\n{console}");
    }
    assert_eq!(console.matches("Pintos booting").count(), 1);
    assert!(!console.contains("PANIC"), "{console}");
    assert!(timer_ticks(&console) > 0, "the timer never ticked:\n{console}");
    assert!(m.cpu.stats.unimplemented.is_empty(), "unimplemented instructions: {:?}", m.cpu.stats.unimplemented);
}

/// The timer calibration's delay loop is skipped by the CPU, and the run is identical to
/// executing every iteration: same console (including the loops/s figure), same
/// instruction count, same virtual time.
#[test]
fn calibration_loop_skipping_changes_nothing() {
    let (fast, outcome, console) = boot_with(&["-q"], true);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    let (slow, outcome2, console2) = boot_with(&["-q"], false);
    assert_eq!(outcome2, Outcome::PowerOff);
    assert_eq!(console, console2);
    assert_eq!((fast.cpu.icount, fast.cpu.idle), (slow.cpu.icount, slow.cpu.idle));
    assert_eq!(slow.cpu.stats.spin_skipped, 0);
    // Calibration runs its delay loop for about a tick at a time: most of the boot's
    // instructions are skipped ones.
    assert!(fast.cpu.stats.spin_skipped * 2 > fast.cpu.icount, "{} of {}", fast.cpu.stats.spin_skipped, fast.cpu.icount);
}

/// An unknown test panics as Pintos does ("no test named ..."), with a backtrace, and
/// `-q` still powers off with the statistics.
#[test]
fn unknown_test_panics_and_powers_off() {
    let (_, outcome, console) = boot(&["-q", "run", "nothing"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("Executing 'nothing':\n"), "{console}");
    assert!(console.contains("Kernel PANIC at ") && console.contains("no test named \"nothing\""), "{console}");
    assert!(console.contains("Powering off...\n"), "{console}");
    // The backtrace symbolises on the host: its first frame is in `run_test`.
    let stack = console.lines().find(|l| l.starts_with("Call stack: 0x")).unwrap_or_else(|| panic!("no backtrace:\n{console}"));
    // Return addresses: the call is the byte before each. After a call that never returns
    // (a panic at the end of a function) the return address may already be the next
    // function's first byte.
    let addrs: Vec<String> = stack.trim_start_matches("Call stack: ").trim_end_matches('.').split(' ').map(|a| format!("{:#x}", u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap() - 1)).collect();
    let out = std::process::Command::new("addr2line").args(["-f", "-C", "-e", disk_images::KERNEL_ELF]).args(&addrs).output().expect("addr2line (binutils)");
    let symbols = String::from_utf8_lossy(&out.stdout);
    assert!(symbols.contains("run_test"), "{stack}\n{symbols}");
}

/// An unhandled exception prints the vector, a register dump and a panic.
#[test]
fn unhandled_exception_dumps_registers_and_panics() {
    let (_, outcome, console) = boot(&["-q", "run", "exception"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("Interrupt 0x03 (#BP Breakpoint Exception) at rip="), "{console}");
    assert!(console.contains("rax ") && console.contains("r15 ") && console.contains("rflags "), "{console}");
    assert!(console.contains("Kernel PANIC at ") && console.contains("Unexpected interrupt 0x03"), "{console}");
    assert!(!console.contains("FAIL"), "{console}");
}

/// Same image and command line, same run: console and instruction count are identical
/// (virtual time only; nothing from the host reaches the guest).
#[test]
fn boot_is_deterministic() {
    let (a, _, out_a) = boot(&["-q", "run", "redzone"]);
    let (b, _, out_b) = boot(&["-q", "run", "redzone"]);
    assert_eq!(out_a, out_b);
    assert_eq!(a.cpu.icount, b.cpu.icount);
}

/// A threads test that switches threads and sleeps: three runs give identical console
/// output and instruction count. (Whether each threads test passes is checked by the
/// harness: tests/tests/builtin_kernel.rs runs all 27 through `pintos-test`.)
#[test]
fn threads_tests_are_deterministic() {
    let runs: Vec<(Machine, Outcome, String)> = (0..3).map(|_| boot(&["-q", "run", "alarm-multiple"])).collect();
    assert_eq!(runs[0].1, Outcome::PowerOff, "console:\n{}", runs[0].2);
    assert!(runs[0].2.contains("(alarm-multiple) end\n"), "{}", runs[0].2);
    for r in &runs[1..] {
        assert_eq!(r.2, runs[0].2);
        assert_eq!(r.0.cpu.icount, runs[0].0.cpu.icount);
    }
}

/// The red-zone argument (guest-kernel/src/arch/intr.rs), checked on the linked kernel:
/// after boot all 256 IDT gates are present interrupt gates that switch to an IST stack,
/// so the CPU never pushes onto the interrupted stack; and the kernel's `redzone` test
/// shows the 128 bytes below a spinning RSP survive timer interrupts (which the stub
/// moves below the red zone).
#[test]
fn interrupts_spare_the_red_zone() {
    let (m, outcome, console) = boot(&["-q", "run", "redzone"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("(redzone) 128 bytes below RSP intact across"), "{console}");
    assert!(console.contains("(redzone) end\n"), "{console}");
    assert!(!console.contains("PANIC"), "{console}");

    let idtr = m.cpu.idtr;
    assert_eq!(idtr.limit, 256 * 16 - 1);
    assert!(idtr.base >= KERN_BASE);
    let mut idt = vec![0u8; 256 * 16];
    m.cpu.mem.read(idtr.base - KERN_BASE, &mut idt).unwrap();
    for (vec, gate) in idt.chunks(16).enumerate() {
        let ist = gate[4] & 7;
        let attr = gate[5];
        assert_eq!(attr & 0x9f, 0x8e, "vector {vec:#x}: not a present 64-bit interrupt gate");
        assert_ne!(ist, 0, "vector {vec:#x} has no IST stack: the CPU would push on the interrupted stack");
    }
}

/// The `pintos` launcher, run where there is no ./os.dsk and without --os-disk, boots the
/// built-in image that the build copied to target/pintos/os.dsk.
#[test]
fn launcher_finds_the_built_in_image() {
    use clap::Parser;
    let exe = std::env::current_exe().unwrap();
    let found = emulator::pintos::builtin_os_disk(&exe).expect("target/pintos/os.dsk");
    assert_eq!(std::fs::read(&found).unwrap(), std::fs::read(disk_images::OS_DSK).unwrap());
    assert!(!std::path::Path::new("os.dsk").exists(), "tests run in disk-images/, which has no os.dsk");
    let opts = emulator::pintos::Options::try_parse_from(["pintos", "-T", "30", "-m", "20", "--", "-q"]).unwrap();
    let mut out = Vec::new();
    let code = emulator::pintos::run(&opts, &mut out).unwrap();
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Boot complete.\n") && out.contains("Powering off...\n"), "{out}");
}

/// The kernel's `malloc` test: page pools split between kernel and user, heap blocks of
/// every size class intact, multi-page blocks returned to the pool.
#[test]
fn heap_and_page_pools_work() {
    let (_, outcome, console) = boot(&["-q", "run", "malloc"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("(malloc) end\n"), "{console}");
    assert!(!console.contains("PANIC"), "{console}");
}

/// os.dsk's size in sectors (what the kernel must detect at hd0:0).
fn os_sectors() -> u64 {
    std::fs::metadata(disk_images::OS_DSK).unwrap().len().div_ceil(SECTOR_SIZE as u64)
}

/// The detection lines Pintos-KAIST prints, for the disks of a QEMU-like machine.
fn detected_os_line() -> String {
    let n = os_sectors();
    assert!(n > 2 && n <= 2048, "os.dsk's size changed unit: adjust this test ({n} sectors)");
    format!("hd0:0: detected {n} sector ({} kB) disk, model \"QEMU HARDDISK\", serial \"QM00001\"\n", n / 2)
}

/// A disk in each position: the driver prints one detection line per disk, in probe
/// order, with the capacity (thousands separators, Pintos' unit rounding), model and
/// serial from IDENTIFY (the defaults QEMU gives, or the ones a disk was built with),
/// and at power-off one counter line per disk, between the thread and console
/// statistics, as Pintos-KAIST's `print_stats` orders them. The blank hd0:1 costs one
/// read: the file system looks for its free-map inode there and reports none.
#[test]
fn ide_detects_every_attached_disk() {
    let fs = Disk::zeroed(2 * PINTOS_DISK_UNIT).unwrap();
    let scratch = Disk::zeroed(100 * SECTOR_SIZE as u64).unwrap();
    let swap = Disk::zeroed(2 * SECTOR_SIZE as u64).unwrap().with_model("Pintos swap disk").with_serial("SW-7");
    let (_, outcome, console) = boot_disks(&["-q"], true, [Some(fs), Some(scratch), Some(swap)]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    let detected = [
        detected_os_line(),
        "hd0:1: detected 4,032 sector (1 MB) disk, model \"QEMU HARDDISK\", serial \"QM00002\"\n".to_string(),
        "hd1:0: detected 100 sector (50 kB) disk, model \"QEMU HARDDISK\", serial \"QM00003\"\n".to_string(),
        "hd1:1: detected 2 sector (1024 byte) disk, model \"Pintos swap disk\", serial \"SW-7\"\n".to_string(),
        "filesys: hd0:1 holds no file system (no free map inode); format it with -f\n".to_string(),
        "Boot complete.\n".to_string(),
    ]
    .concat();
    assert!(console.contains(&detected), "missing, in this order:\n{detected}in:\n{console}");
    let stats = "hd0:0: 0 reads, 0 writes\nhd0:1: 1 reads, 0 writes\nhd1:0: 0 reads, 0 writes\nhd1:1: 0 reads, 0 writes\nConsole: ";
    assert!(console.contains(&format!(" user ticks\n{stats}")), "missing the disk counters:\n{console}");
    for bad in ["unexpected interrupt", "timeout", "busy, waiting", "PANIC"] {
        assert!(!console.contains(bad), "{bad:?} in:\n{console}");
    }
}

/// Absent positions are not reported, even a missing master in front of a present slave
/// (hd1:1 alone, which Pintos' probe still finds) or a wholly empty channel; the default
/// machine (os.dsk only) shows hd0:0 alone.
#[test]
fn ide_reports_no_absent_drive() {
    let swap = Disk::zeroed(4 * PINTOS_DISK_UNIT).unwrap();
    let (_, outcome, console) = boot_disks(&["-q"], true, [None, None, Some(swap)]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    let want = format!("{}hd1:1: detected 8,064 sector (3 MB) disk, model \"QEMU HARDDISK\", serial \"QM00004\"\nBoot complete.\n", detected_os_line());
    assert!(console.contains(&want), "missing:\n{want}in:\n{console}");
    assert!(console.contains(" user ticks\nhd0:0: 0 reads, 0 writes\nhd1:1: 0 reads, 0 writes\nConsole: "), "{console}");
    assert!(!console.contains("hd0:1") && !console.contains("hd1:0"), "{console}");

    let (_, outcome, console) = boot(&["-q"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert_eq!(console.matches("detected").count(), 1, "{console}");
    assert!(console.contains(&format!("{}Boot complete.\n", detected_os_line())), "{console}");
    assert!(console.contains(" user ticks\nhd0:0: 0 reads, 0 writes\nConsole: "), "{console}");
    assert!(!console.contains("hd0:1") && !console.contains("hd1:"), "{console}");
    assert!(!console.contains("unexpected interrupt"), "{console}");
}

/// Byte `i` of the pattern `block-rw` writes to `sector` (guest-kernel/src/tests/block.rs).
fn block_rw_pattern(sector: u64, i: usize) -> u8 {
    (sector as usize * 251 + i * 7 + 1) as u8
}

/// The kernel's `block-rw` test writes a pattern through the driver to five scratch-disk
/// sectors (the last one included) and reads it back; afterwards the pattern is in the
/// disk image itself, the sectors around it are untouched, and the kernel's counters
/// (printed at power-off) agree with what the emulated drives saw. Interrupt-driven disk
/// I/O stays deterministic: a second run is identical.
#[test]
fn block_rw_writes_reach_the_scratch_disk() {
    let sectors = 64u64;
    let run = || {
        let scratch = Disk::from_bytes(vec![0xee; sectors as usize * SECTOR_SIZE]).unwrap();
        boot_disks(&["-q", "run", "block-rw"], true, [None, Some(scratch), None])
    };
    let (mut m, outcome, console) = run();
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    let (again, _, console_again) = run();
    assert_eq!((console_again.as_str(), again.cpu.icount), (console.as_str(), m.cpu.icount));
    for want in ["(block-rw) begin\n", "(block-rw) hd1:0: 64 sectors\n", "(block-rw) wrote and read back sectors [0, 1, 2, 7, 63]\n", "(block-rw) int 0x43/0x44: 5 reads, 5 writes\n", "(block-rw) hd0:0 sector 0 is the boot sector\n", "(block-rw) end\n"] {
        assert!(console.contains(want), "missing {want:?} in:\n{console}");
    }
    assert!(!console.contains("FAIL") && !console.contains("PANIC"), "{console}");
    assert!(console.contains(" user ticks\nhd0:0: 1 reads, 0 writes\nhd1:0: 5 reads, 5 writes\nConsole: "), "{console}");

    let written = [0, 1, 2, 7, sectors - 1];
    let disk = m.bus.ide.disk_mut(1, 0).expect("scratch disk");
    let mut buf = [0u8; SECTOR_SIZE];
    for s in 0..sectors {
        disk.read_sector(s, &mut buf).unwrap();
        if written.contains(&s) {
            assert!(buf.iter().enumerate().all(|(i, &b)| b == block_rw_pattern(s, i)), "sector {s} lacks the pattern");
        } else {
            assert!(buf.iter().all(|&b| b == 0xee), "sector {s} was overwritten");
        }
    }
    let st = m.bus.ide.stats(1, 0);
    assert_eq!((st.sectors_read, st.sectors_written, st.errors), (5, 5, 0));
}

/// Without a scratch disk, `block-rw` fails the Pintos way (a FAIL line, then a panic).
#[test]
fn block_rw_needs_a_scratch_disk() {
    let (_, outcome, console) = boot(&["-q", "run", "block-rw"]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("(block-rw) FAIL: no scratch disk"), "{console}");
}

/// The kernel's `vm-units` test: page-table bits as the emulated MMU sets them, the
/// frame table's clock, and swap slots with a page's round trip through the swap disk
/// (hd1:1); without a swap disk the swap part says so.
#[test]
fn vm_units_pass_with_and_without_a_swap_disk() {
    let swap = Disk::from_bytes(vec![0; 64 * SECTOR_SIZE]).unwrap();
    let (_, outcome, console) = boot_disks(&["-q", "run", "vm-units"], true, [None, None, Some(swap)]);
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    for want in [
        "(vm-units) page table: map, translate, accessed and dirty bits, unmap\n",
        "(vm-units) frame table: clock skips pinned frames, shared frames count owners\n",
        "(vm-units) swap: 8 slots, counts and a page's round trip\n",
        "(vm-units) end\n",
    ] {
        assert!(console.contains(want), "missing {want:?} in:\n{console}");
    }
    assert!(!console.contains("FAIL") && !console.contains("PANIC"), "{console}");
    let (_, _, console) = boot(&["-q", "run", "vm-units"]);
    assert!(console.contains("(vm-units) swap: no swap disk\n(vm-units) end\n"), "{console}");
}
