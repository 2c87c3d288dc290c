//! Host-backed disks, host I/O errors, unsupported commands, misuse and hammering.

use super::*;

#[test]
fn file_backed_writes_are_visible_in_the_file_immediately() {
    let path = TempPath::new("ide-file");
    std::fs::write(&path.0, vec![0u8; 8 * SECTOR_SIZE]).unwrap();
    let mut c = IdeController::new([
        [Some(Disk::open(&path.0, false).unwrap()), None],
        [None, None],
    ]);
    issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 3, 2);
    write_words(&mut c, 0, &[0xab; SECTOR_SIZE]);
    // Before the command even completes, the first sector is in the file.
    let now = std::fs::read(&path.0).unwrap();
    assert!(now[3 * SECTOR_SIZE..4 * SECTOR_SIZE]
        .iter()
        .all(|&b| b == 0xab));
    assert!(now[4 * SECTOR_SIZE..].iter().all(|&b| b == 0));
    write_words(&mut c, 0, &[0xcd; SECTOR_SIZE]);
    let now = std::fs::read(&path.0).unwrap();
    assert!(now[4 * SECTOR_SIZE..5 * SECTOR_SIZE]
        .iter()
        .all(|&b| b == 0xcd));
    assert_eq!(now.len(), 8 * SECTOR_SIZE);
    // FLUSH CACHE succeeds and the content survives dropping the controller.
    issue(&mut c, 0, 0, CMD_FLUSH_CACHE, 0, 0);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    c.flush_all().unwrap();
    drop(c);
    let after = std::fs::read(&path.0).unwrap();
    assert_eq!(after, now);
}

#[test]
fn file_backed_partial_last_sector_reads_padded_and_guest_cannot_write_past_it() {
    let path = TempPath::new("ide-partial");
    std::fs::write(&path.0, vec![0x77u8; SECTOR_SIZE + 10]).unwrap();
    let mut c = IdeController::new([
        [Some(Disk::open(&path.0, false).unwrap()), None],
        [None, None],
    ]);
    assert_eq!(identify(&mut c, 0, 0)[60], 2);
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 1, 1);
    status(&mut c, 0);
    let data = read_words(&mut c, 0, 256);
    assert!(data[..10].iter().all(|&b| b == 0x77));
    assert!(data[10..].iter().all(|&b| b == 0));
    issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 2, 1);
    assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
    assert_eq!(std::fs::read(&path.0).unwrap().len(), SECTOR_SIZE + 10);
}

#[test]
fn host_io_errors_become_ata_errors() {
    let reads = Disk::new(Box::new(FailingDisk {
        fail_reads: true,
        fail_writes: false,
    }));
    let writes = Disk::new(Box::new(FailingDisk {
        fail_reads: false,
        fail_writes: true,
    }));
    let mut c = IdeController::new([[Some(reads), Some(writes)], [None, None]]);
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 5, 1);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_UNC);
    assert_eq!(c.stats(0, 0).host_errors, 1);
    issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 5, 2);
    write_words(&mut c, 0, &[0; SECTOR_SIZE]);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_ABRT);
    assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 2);
    issue(&mut c, 0, 1, CMD_FLUSH_CACHE, 0, 0);
    assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
    assert_eq!(c.stats(0, 1).host_errors, 2);
    assert_eq!(c.stats(0, 1).sectors_written, 0);
    assert!(c.flush_all().is_err());
    // A read-only memory disk refuses writes the same way.
    let ro = Disk::new(Box::new(MemoryDisk::zeroed(4096).unwrap().read_only()));
    let mut c = IdeController::new([[None, None], [Some(ro), None]]);
    issue(&mut c, 1, 0, CMD_WRITE_SECTORS, 0, 1);
    write_words(&mut c, 1, &[1; SECTOR_SIZE]);
    assert_eq!(status(&mut c, 1) & STATUS_ERR, STATUS_ERR);
}

#[test]
fn packet_reset_and_unknown_commands_abort_and_simple_commands_complete() {
    let mut c = four_disks();
    for cmd in [
        CMD_IDENTIFY_PACKET,
        CMD_PACKET,
        CMD_DEVICE_RESET,
        CMD_NOP,
        0xea,
        0xff,
        0x50,
    ] {
        issue(&mut c, 1, 1, cmd, 0, 1);
        assert!(c.irq(1), "command {cmd:#x} completes with an interrupt");
        assert_eq!(
            status(&mut c, 1),
            STATUS_DRDY | STATUS_DSC | STATUS_ERR,
            "{cmd:#x}"
        );
        assert_eq!(inb(&mut c, reg(1, REG_ERROR)), ERROR_ABRT);
    }
    for cmd in [
        CMD_SET_FEATURES,
        CMD_IDLE_IMMEDIATE,
        CMD_STANDBY_IMMEDIATE,
        CMD_IDLE,
        CMD_FLUSH_CACHE,
        CMD_RECALIBRATE,
        CMD_SEEK,
        CMD_READ_VERIFY,
        CMD_CHECK_POWER_MODE,
    ] {
        issue(&mut c, 1, 1, cmd, 0, 1);
        assert!(c.irq(1));
        assert_eq!(status(&mut c, 1), STATUS_DRDY | STATUS_DSC, "{cmd:#x}");
        assert_eq!(
            inb(&mut c, reg(1, REG_ERROR)),
            0,
            "error cleared by a new command"
        );
    }
    assert_eq!(
        inb(&mut c, reg(1, REG_SECTOR_COUNT)),
        0xff,
        "power mode: active"
    );
    // EXECUTE DEVICE DIAGNOSTIC: signature on both, master selected, interrupt.
    issue(&mut c, 1, 1, CMD_EXECUTE_DIAGNOSTIC, 9, 9);
    assert_eq!(c.state().channels[1].selected, 0);
    assert!(c.irq(1));
    assert_eq!(inb(&mut c, reg(1, REG_ERROR)), ERROR_DIAG_PASSED);
    assert_eq!(inb(&mut c, reg(1, REG_SECTOR_COUNT)), 1);
    assert_eq!(c.misses(), 0);
}
#[test]
fn misuse_is_counted_not_fatal() {
    let mut c = four_disks();
    c.read(reg(0, REG_DATA), 2); // no data phase
    c.write(reg(0, REG_DATA), 2, 0); // no data phase
    c.read(reg(0, REG_DATA), 1); // byte access to the data register
    assert_eq!(c.read(reg(0, REG_STATUS), 2), 0xffff); // word access to a byte register
    c.write(0x1e0, 1, 0); // not ours
    assert_eq!(c.read(0x3f7, 1), 0xff);
    assert_eq!(c.misses(), 6);
    assert!(!IdeController::claims_port(0x3f7));
    assert!(IdeController::claims_port(0x1f0) && IdeController::claims_port(0x376));
}

#[test]
fn commands_are_logged_and_traffic_counted() {
    let mut c = four_disks();
    issue(&mut c, 1, 1, CMD_READ_SECTORS, 0x123, 2);
    status(&mut c, 1);
    read_words(&mut c, 1, 512);
    issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 77, 0);
    let events = c.take_events();
    assert_eq!(
        events,
        vec![
            DiskEvent {
                channel: 1,
                drive: 1,
                command: CMD_READ_SECTORS,
                lba: 0x123,
                count: 2,
                at: 0
            },
            DiskEvent {
                channel: 0,
                drive: 1,
                command: CMD_WRITE_SECTORS,
                lba: 77,
                count: 256,
                at: 0
            },
        ]
    );
    assert!(c.take_events().is_empty(), "drained");
    assert_eq!(c.stats(1, 1).commands, 1);
    assert_eq!(c.stats(1, 1).sectors_read, 2);
    c.set_event_log(false);
    issue(&mut c, 0, 0, CMD_IDENTIFY, 0, 1);
    assert!(c.take_events().is_empty());
}
/// xorshift64*: a fixed-seed generator so the hammering is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_port_hammering_never_panics_and_is_deterministic() {
    let run = |seed: u64| {
        let mut c = IdeController::new([
            [Some(patterned_disk(1, 300)), None],
            [Some(patterned_disk(3, 50)), Some(patterned_disk(4, 2))],
        ]);
        let mut rng = Rng(seed);
        let ports: Vec<u16> = (0x1f0..0x1f8)
            .chain(0x170..0x178)
            .chain([0x3f6, 0x376, 0x3f7, 0x171])
            .collect();
        let interesting = [
            CMD_READ_SECTORS,
            CMD_WRITE_SECTORS,
            CMD_READ_MULTIPLE,
            CMD_WRITE_MULTIPLE,
            CMD_SET_MULTIPLE,
            CMD_IDENTIFY,
            CMD_INITIALIZE_PARAMETERS,
            CMD_EXECUTE_DIAGNOSTIC,
            CMD_READ_VERIFY,
            CMD_SEEK,
            CMD_FLUSH_CACHE,
        ];
        let mut trace = 0u64;
        for _ in 0..200_000 {
            let r = rng.next();
            let port = ports[(r % ports.len() as u64) as usize];
            let size = [1u8, 2, 4][((r >> 8) % 3) as usize];
            let mut value = (r >> 16) as u32;
            if port & 7 == 7 && port != 0x3f7 && (r >> 48).is_multiple_of(2) {
                value = interesting[((r >> 50) % interesting.len() as u64) as usize] as u32;
            }
            // Data-register traffic is what moves transfers along: bias toward it.
            let port = if (r >> 60).is_multiple_of(4) {
                port & !7
            } else {
                port
            };
            let size = if port & 7 == 0 && port != 0x3f6 && port != 0x376 && size == 1 {
                2
            } else {
                size
            };
            if (r >> 40).is_multiple_of(2) {
                trace = trace
                    .wrapping_mul(31)
                    .wrapping_add(c.read(port, size) as u64);
            } else {
                c.write(port, size, value);
            }
            trace = trace
                .wrapping_mul(31)
                .wrapping_add(c.irq(0) as u64 * 2 + c.irq(1) as u64);
        }
        let traffic: u64 = POSITIONS
            .iter()
            .map(|&(ch, dev)| c.stats(ch, dev).sectors_read + c.stats(ch, dev).sectors_written)
            .sum();
        (trace, c.state().clone(), c.take_events().len(), traffic)
    };
    let a = run(0x1234_5678_9abc_def1);
    let b = run(0x1234_5678_9abc_def1);
    assert_eq!(a, b, "same seed, same result");
    assert!(a.2 > 1000, "commands issued: {}", a.2);
    assert!(a.3 > 10, "sectors moved: {}", a.3);
}
