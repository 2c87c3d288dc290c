//! End-to-end PC boot: `guests/pc_boot.S`, built into a disk image, boots through the
//! built-in BIOS from real to long mode, takes PIT interrupts through the PIC, does
//! interrupt-driven IDE PIO on both channels, prints over COM1 and powers off. The test
//! checks the console text line by line, the sectors the guest wrote, the IDE traffic, and
//! that the whole run is deterministic (same text, same instruction count), also at a
//! clock rate 30 times lower (different time slices, same text).

use std::time::Duration;

use emulator::devices::ide::{Disk, DiskTiming, SECTOR_SIZE};
use emulator::guests::{PC_BOOT_HD01_LBA, PC_BOOT_HD10_READ_LBA, PC_BOOT_HD10_WRITE_LBA, PC_BOOT_IMAGE};
use emulator::machine::{Config, Limits, Machine, Outcome, DEFAULT_EPOCH, DEFAULT_RATE};

const MEMORY: u64 = 32 << 20;
/// Virtual time is generous: the guest needs ~100 ms (10 ticks at 100 Hz) plus a little.
const VIRTUAL_LIMIT: Duration = Duration::from_secs(5);
/// A wall-clock guard so a broken emulator fails the test instead of hanging it.
const HOST_LIMIT: Duration = Duration::from_secs(60);

/// The pre-filled contents of hd1:0's sector `lba` (distinct per sector and byte).
fn hd10_sector(lba: u64) -> [u8; SECTOR_SIZE] {
    let mut s = [0u8; SECTOR_SIZE];
    for (i, b) in s.iter_mut().enumerate() {
        *b = (lba as usize * 37 + i * 13 + (i >> 8) * 101) as u8 ^ 0x5c;
    }
    s
}

/// The sector the guest writes to hd0:1: word i = i * 0x0203 + 0x1234 (mod 2^16).
fn hd01_pattern() -> [u8; SECTOR_SIZE] {
    let mut s = [0u8; SECTOR_SIZE];
    for i in 0..SECTOR_SIZE / 2 {
        let w = (i as u16).wrapping_mul(0x0203).wrapping_add(0x1234);
        s[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
    }
    s
}

fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ b as u32).wrapping_mul(0x0100_0193))
}

/// hd0:0 the image (whole sectors), hd0:1 zeroed scratch, hd1:0 pre-filled, hd1:1 a
/// zeroed disk (present, so the guest's master selection on channel 1 matters).
fn disks() -> [[Option<Disk>; 2]; 2] {
    let mut image = PC_BOOT_IMAGE.to_vec();
    image.resize(image.len().next_multiple_of(SECTOR_SIZE), 0);
    let hd10: Vec<u8> = (0..16).flat_map(hd10_sector).collect();
    [
        [Some(Disk::from_bytes(image).unwrap()), Some(Disk::zeroed(64 * SECTOR_SIZE as u64).unwrap())],
        [Some(Disk::from_bytes(hd10).unwrap()), Some(Disk::zeroed(8 * SECTOR_SIZE as u64).unwrap())],
    ]
}

fn expected_console() -> String {
    // The BIOS E820 map for MEMORY: 639 KiB below the EBDA, everything above 1 MiB usable.
    let usable_kib = 639 + (MEMORY - (1 << 20)) / 1024;
    let hash = fnv1a(&hd10_sector(PC_BOOT_HD10_READ_LBA));
    [
        "pc-boot: real mode".to_string(),
        "pc-boot: stage 2 loaded".into(),
        "pc-boot: a20 on".into(),
        "pc-boot: protected mode".into(),
        "pc-boot: long mode".into(),
        format!("pc-boot: e820 4 entries, {usable_kib} KiB usable"),
        "pc-boot: 10 timer ticks".into(),
        "pc-boot: hd0:1 write/read ok".into(),
        format!("pc-boot: hd1:0 read fnv1a {hash:08x}"),
        "pc-boot: hd1:0 write ok".into(),
        "pc-boot: power off".into(),
    ]
    .iter()
    .map(|l| format!("{l}\r\n"))
    .collect()
}

struct Run {
    outcome: Outcome,
    console: String,
    icount: u64,
    virtual_ns: u64,
    machine: Machine,
}

fn boot(rate: u64) -> Run {
    let mut machine = Machine::new(Config { memory: MEMORY, rate, epoch: DEFAULT_EPOCH, disks: disks(), disk_timing: DiskTiming::DEFAULT }).expect("machine");
    let mut console = Vec::new();
    let limits = Limits { virtual_time: Some(VIRTUAL_LIMIT), host_time: Some(HOST_LIMIT), instructions: None };
    let outcome = machine.run(limits, |bytes| {
        console.extend_from_slice(bytes);
        true
    });
    Run { outcome, console: String::from_utf8_lossy(&console).into_owned(), icount: machine.cpu.icount, virtual_ns: machine.virtual_ns(), machine }
}

/// Everything a successful run must show, whatever the clock rate.
fn check(run: &mut Run) {
    assert_eq!(run.outcome, Outcome::PowerOff, "console so far:\n{}", run.console);
    assert_eq!(run.console, expected_console());
    assert!(run.machine.cpu.stats.unimplemented.is_empty(), "{:?}", run.machine.cpu.stats.unimplemented);
    // Ten 10 ms ticks, and little else: the rest of the run is a few tens of thousands of
    // instructions. Much more would mean ticks were lost (e.g. a HLT sleeping past them
    // until a stale deadline, where the missed edges coalesce into one IRQ0).
    assert!(run.virtual_ns >= 100_000_000, "virtual time {} ns", run.virtual_ns);
    assert!(run.virtual_ns < 105_000_000, "virtual time {} ns", run.virtual_ns);

    let ide = &mut run.machine.bus.ide;
    let mut sector = [0u8; SECTOR_SIZE];
    ide.disk_mut(0, 1).unwrap().read_sector(PC_BOOT_HD01_LBA, &mut sector).unwrap();
    assert_eq!(sector, hd01_pattern(), "hd0:1 sector {PC_BOOT_HD01_LBA}");
    ide.disk_mut(1, 0).unwrap().read_sector(PC_BOOT_HD10_WRITE_LBA, &mut sector).unwrap();
    let inverted = hd10_sector(PC_BOOT_HD10_READ_LBA).map(|b| !b);
    assert_eq!(sector, inverted, "hd1:0 sector {PC_BOOT_HD10_WRITE_LBA}");
    // Nothing else changed: the read sector and its neighbours keep the pre-filled data.
    for lba in [PC_BOOT_HD10_READ_LBA, PC_BOOT_HD10_WRITE_LBA + 1] {
        ide.disk_mut(1, 0).unwrap().read_sector(lba, &mut sector).unwrap();
        assert_eq!(sector, hd10_sector(lba), "hd1:0 sector {lba}");
    }
    // The guest's IDE traffic: one write and one read-back on hd0:1, one read and one
    // write on hd1:0; the BIOS loaded hd0:0 behind the controller's back (no commands);
    // hd1:1 was never addressed.
    let s = |ch, d| ide.stats(ch, d);
    assert_eq!((s(0, 1).sectors_written, s(0, 1).sectors_read, s(0, 1).errors), (1, 1, 0));
    assert_eq!((s(1, 0).sectors_written, s(1, 0).sectors_read, s(1, 0).errors), (1, 1, 0));
    assert_eq!(s(0, 0).commands, 0);
    assert_eq!(s(1, 1).commands, 0);
    assert_eq!(ide.misses(), 0);
}

#[test]
fn pc_boot_image_is_a_boot_disk() {
    assert_eq!(PC_BOOT_IMAGE.len() % SECTOR_SIZE, 0);
    assert!(PC_BOOT_IMAGE.len() > SECTOR_SIZE, "a boot sector and stage 2");
    assert_eq!(&PC_BOOT_IMAGE[510..512], &[0x55, 0xaa]);
}

#[test]
fn pc_boots_to_long_mode_and_powers_off_deterministically() {
    let mut a = boot(DEFAULT_RATE);
    check(&mut a);
    let mut b = boot(DEFAULT_RATE);
    check(&mut b);
    assert_eq!(a.console, b.console);
    assert_eq!(a.icount, b.icount, "same image, same run: same instruction count");
    assert_eq!(a.virtual_ns, b.virtual_ns);
    eprintln!("pc_boot at the default rate: {} instructions, {} virtual ns", a.icount, a.virtual_ns);
}

#[test]
fn pc_boot_at_a_thirtieth_of_the_clock_rate() {
    // 30x fewer instructions per virtual second: each 10 ms tick is 30x fewer instructions
    // and the machine's slices fall elsewhere; the guest must see the same devices.
    let rate = DEFAULT_RATE / 30;
    let mut a = boot(rate);
    check(&mut a);
    let b = boot(rate);
    assert_eq!((a.console.as_str(), a.icount), (b.console.as_str(), b.icount));
    eprintln!("pc_boot at rate {rate}: {} instructions, {} virtual ns", a.icount, a.virtual_ns);
}
