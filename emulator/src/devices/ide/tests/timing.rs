//! Commands that take virtual time: BSY, DRQ and the interrupt appear when the timing says,
//! at several latencies, and commands written while busy, resets and nIEN behave as ATA
//! says.

use super::*;
use crate::devices::Timed;

/// Timings the tests run under: a fast disk, the default, and a slow one with no
/// per-sector cost (1 ms per command).
const TIMINGS: [DiskTiming; 3] = [
    DiskTiming { command_ns: 10_000, sector_ns: 1_000 },
    DiskTiming::DEFAULT,
    DiskTiming { command_ns: 1_000_000, sector_ns: 0 },
];

fn timed(timing: DiskTiming) -> IdeController {
    let mut c = four_disks();
    c.set_timing(timing);
    c.advance(5_000); // not at time 0, so that `since` and `until` are checked as offsets
    c
}

fn sector(tag: u8, lba: u64) -> Vec<u8> {
    (0..SECTOR_SIZE).map(|i| pattern(tag, lba, i)).collect()
}

/// The drive reads BSY with no interrupt and no data until `until`, then shows `status`
/// with the interrupt up.
fn busy_until(c: &mut IdeController, ch: usize, until: Nanos, status_then: u8) {
    assert_eq!(c.next_event(), Some(until));
    assert_eq!(alt_status(c, ch), STATUS_BUSY);
    assert!(!c.irq(ch));
    let misses = c.misses();
    assert_eq!(c.read(reg(ch, REG_DATA), 2), 0xffff, "no data while BSY");
    assert_eq!(c.misses(), misses + 1);
    c.advance(until - 1);
    assert_eq!(alt_status(c, ch), STATUS_BUSY, "still busy 1 ns before");
    assert!(!c.irq(ch));
    c.advance(until);
    assert_eq!(alt_status(c, ch), status_then);
    assert!(c.irq(ch), "interrupt when the result shows");
    assert_eq!(c.next_event(), None);
}

#[test]
fn read_sectors_are_busy_then_drq_and_interrupt_per_sector() {
    for t in TIMINGS {
        let mut c = timed(t);
        let now = c.state().now;
        issue(&mut c, 0, 1, CMD_READ_SECTORS, 7, 3);
        assert!(c.take_rescheduled(), "{t:?}: the command is a new event");
        busy_until(&mut c, 0, now + t.command_ns + t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        for lba in 7..10u64 {
            assert_eq!(status(&mut c, 0) & STATUS_DRQ, STATUS_DRQ);
            assert!(!c.irq(0), "reading Status acknowledges");
            assert_eq!(read_words(&mut c, 0, 256), sector(2, lba), "{t:?} lba {lba}");
            if lba < 9 {
                // The next sector comes off the medium: BSY for one sector's time.
                let now = c.state().now;
                if t.sector_ns > 0 {
                    busy_until(&mut c, 0, now + t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
                }
            }
        }
        // No BSY and no interrupt after the last sector of a read.
        assert_eq!(alt_status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        assert_eq!(c.next_event(), None);
        assert!(!c.irq(0));
        assert_eq!(c.stats(0, 1).sectors_read, 3);
        assert_eq!(c.stats(0, 1).busy_ns, t.command_ns + 3 * t.sector_ns);
    }
}

#[test]
fn read_multiple_pays_the_command_once_and_each_block_by_its_sectors() {
    let t = DiskTiming { command_ns: 20_000, sector_ns: 3_000 };
    let mut c = timed(t);
    select(&mut c, 1, 0);
    outb(&mut c, reg(1, REG_SECTOR_COUNT), 4);
    outb(&mut c, reg(1, REG_STATUS), CMD_SET_MULTIPLE);
    let now = c.state().now;
    busy_until(&mut c, 1, now + t.command_ns, STATUS_DRDY | STATUS_DSC);
    status(&mut c, 1);
    let now = c.state().now;
    issue(&mut c, 1, 0, CMD_READ_MULTIPLE, 40, 6);
    busy_until(&mut c, 1, now + t.command_ns + 4 * t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    let first: Vec<u8> = (40..44).flat_map(|l| sector(3, l)).collect();
    assert_eq!(read_words(&mut c, 1, 4 * 256), first);
    // The last block holds the 2 sectors left.
    let now = c.state().now;
    busy_until(&mut c, 1, now + 2 * t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    let rest: Vec<u8> = (44..46).flat_map(|l| sector(3, l)).collect();
    assert_eq!(read_words(&mut c, 1, 2 * 256), rest);
    assert_eq!(c.next_event(), None);
}

#[test]
fn write_asks_for_data_at_once_then_is_busy_until_stored() {
    for t in TIMINGS {
        let mut c = timed(t);
        issue(&mut c, 1, 1, CMD_WRITE_SECTORS, 12, 2);
        // DRQ at once, no interrupt, nothing scheduled: the drive waits for the data.
        assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC | STATUS_DRQ, "{t:?}");
        assert!(!c.irq(1));
        assert_eq!(c.next_event(), None);
        assert!(!c.take_rescheduled());
        write_words(&mut c, 1, &[0xa1; SECTOR_SIZE]);
        assert!(c.take_rescheduled());
        let now = c.state().now;
        // First block: the command's time and its sector; then DRQ + interrupt for the next.
        busy_until(&mut c, 1, now + t.command_ns + t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        status(&mut c, 1);
        write_words(&mut c, 1, &[0xb2; SECTOR_SIZE]);
        let now = c.state().now;
        if t.sector_ns > 0 {
            // Later blocks pay only their sectors; the last one ends with the completion.
            busy_until(&mut c, 1, now + t.sector_ns, STATUS_DRDY | STATUS_DSC);
        } else {
            assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC);
            assert!(c.irq(1));
        }
        let disk = c.disk_mut(1, 1).unwrap();
        let mut buf = [0u8; SECTOR_SIZE];
        disk.read_sector(12, &mut buf).unwrap();
        assert_eq!(buf, [0xa1; SECTOR_SIZE]);
        disk.read_sector(13, &mut buf).unwrap();
        assert_eq!(buf, [0xb2; SECTOR_SIZE]);
        assert_eq!(c.stats(1, 1).busy_ns, t.command_ns + 2 * t.sector_ns);
    }
}

#[test]
fn identify_and_non_data_commands_take_the_command_time() {
    let t = DiskTiming::DEFAULT;
    let mut c = timed(t);
    select(&mut c, 0, 0);
    let now = c.state().now;
    outb(&mut c, reg(0, REG_STATUS), CMD_IDENTIFY);
    busy_until(&mut c, 0, now + t.command_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    let words = read_words(&mut c, 0, 256);
    assert_eq!(u16::from_le_bytes([words[120], words[121]]) as u64 | (u16::from_le_bytes([words[122], words[123]]) as u64) << 16, 100);
    let now = c.state().now;
    outb(&mut c, reg(0, REG_STATUS), CMD_FLUSH_CACHE);
    busy_until(&mut c, 0, now + t.command_ns, STATUS_DRDY | STATUS_DSC);
    // Verify pays for the sectors it checks.
    let now = c.state().now;
    issue(&mut c, 0, 0, CMD_READ_VERIFY, 0, 10);
    busy_until(&mut c, 0, now + t.command_ns + 10 * t.sector_ns, STATUS_DRDY | STATUS_DSC);
}

#[test]
fn failed_commands_show_the_error_after_the_command_time() {
    let t = DiskTiming { command_ns: 50_000, sector_ns: 1_000 };
    let mut c = timed(t);
    let now = c.state().now;
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 5_000, 1); // past the end of a 100-sector disk
    busy_until(&mut c, 0, now + t.command_ns, STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
    let now = c.state().now;
    select(&mut c, 0, 0);
    outb(&mut c, reg(0, REG_STATUS), 0x55); // not a command
    busy_until(&mut c, 0, now + t.command_ns, STATUS_DRDY | STATUS_DSC | STATUS_ERR);
}

#[test]
fn a_command_written_while_busy_is_ignored() {
    let t = DiskTiming::DEFAULT;
    let mut c = timed(t);
    let now = c.state().now;
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 3, 1);
    let misses = c.misses();
    c.advance(now + 1_000);
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 9, 1);
    assert_eq!(c.misses(), misses + 1);
    assert_eq!(c.stats(0, 1).commands, 1);
    busy_until(&mut c, 0, now + t.command_ns + t.sector_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    // The first command's data, although the address registers were rewritten meanwhile.
    assert_eq!(read_words(&mut c, 0, 256), sector(2, 3));
    // Diagnostics, which both drives execute, are ignored while either is busy.
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 3, 1);
    select(&mut c, 0, 0);
    outb(&mut c, reg(0, REG_STATUS), CMD_EXECUTE_DIAGNOSTIC);
    assert_eq!(c.stats(0, 0).commands, 0);
}

#[test]
fn software_reset_cancels_a_command_in_progress() {
    let t = DiskTiming { command_ns: 100_000, sector_ns: 0 };
    let mut c = timed(t);
    let now = c.state().now;
    issue(&mut c, 1, 0, CMD_READ_SECTORS, 1, 1);
    c.advance(now + 40_000);
    outb(&mut c, CONTROL_PORT[1], CONTROL_SRST);
    assert_eq!(alt_status(&mut c, 1), STATUS_BSY, "in reset");
    assert_eq!(c.next_event(), None, "the held result is gone");
    outb(&mut c, CONTROL_PORT[1], 0);
    assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC);
    assert_eq!(inb(&mut c, reg(1, REG_ERROR)), ERROR_DIAG_PASSED);
    c.advance(now + 200_000);
    assert!(!c.irq(1), "the cancelled command never completes");
    assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC);
    assert_eq!(c.read(reg(1, REG_DATA), 2), 0xffff, "its data is gone");
    assert_eq!(c.stats(1, 0).busy_ns, 40_000);
    // The drive takes commands again.
    let now = c.state().now;
    issue(&mut c, 1, 0, CMD_READ_SECTORS, 1, 1);
    busy_until(&mut c, 1, now + t.command_ns, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    assert_eq!(read_words(&mut c, 1, 256), sector(3, 1));
}

#[test]
fn nien_holds_the_line_down_and_a_completion_shows_when_it_clears() {
    let t = DiskTiming::DEFAULT;
    let mut c = timed(t);
    outb(&mut c, CONTROL_PORT[0], CONTROL_NIEN);
    let now = c.state().now;
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 2, 1);
    c.advance(now + t.command_ns + t.sector_ns);
    assert_eq!(alt_status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    assert!(!c.irq(0), "nIEN set: INTRQ not driven");
    outb(&mut c, CONTROL_PORT[0], 0);
    assert!(c.irq(0), "pending interrupt appears when nIEN clears");
}

#[test]
fn halted_time_counts_only_while_a_drive_is_busy() {
    let t = DiskTiming::DEFAULT;
    let mut c = timed(t);
    c.note_halted(1_000);
    assert_eq!(c.state().halted_wait_ns, 0);
    issue(&mut c, 1, 1, CMD_READ_SECTORS, 0, 1);
    c.note_halted(7_000);
    assert_eq!(c.state().halted_wait_ns, 7_000);
    assert_eq!(c.stats(1, 1).halted_wait_ns, 7_000);
    assert_eq!(c.stats(0, 0).halted_wait_ns, 0);
}

#[test]
fn instant_timing_schedules_nothing() {
    let mut c = four_disks();
    assert_eq!(c.timing(), DiskTiming::INSTANT);
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 0, 2);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    read_words(&mut c, 0, 512);
    issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 0, 1);
    write_words(&mut c, 0, &[0; SECTOR_SIZE]);
    assert!(c.irq(0));
    assert_eq!(c.next_event(), None);
    assert!(!c.take_rescheduled());
    assert_eq!(c.stats(0, 0).busy_ns, 0);
}

#[test]
fn commands_are_logged_with_their_time() {
    let mut c = timed(DiskTiming::DEFAULT);
    c.advance(123_456);
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 3, 1);
    assert_eq!(c.take_events()[0].at, 123_456);
}
