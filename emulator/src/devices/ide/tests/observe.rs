//! Observed commands: each command that moves sectors is reported once, by disk role,
//! with a hash of every sector as it moved.

use super::*;
use crate::observe::{hash64, DiskCommand, DiskRole};

fn sector_of(tag: u8, lba: u64) -> Vec<u8> {
    (0..SECTOR_SIZE).map(|i| pattern(tag, lba, i)).collect()
}

#[test]
fn reads_and_writes_are_reported_with_sector_hashes() {
    let mut c = four_disks();
    c.set_observe(true);
    // A 3-sector read from the file-system disk (hd0:1, tag 2).
    select(&mut c, 0, 1);
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 5, 3);
    let data = read_words(&mut c, 0, 3 * 256);
    assert_eq!(data[..SECTOR_SIZE], sector_of(2, 5)[..]);
    let want = DiskCommand { role: DiskRole::Fs, lba: 5, write: false, hashes: (5..8).map(|l| hash64(&sector_of(2, l))).collect() };
    assert_eq!(c.take_observed(), [want]);
    // A 2-sector write to the swap disk (hd1:1).
    select(&mut c, 1, 1);
    issue(&mut c, 1, 1, CMD_WRITE_SECTORS, 40, 2);
    let block: Vec<u8> = (0..2 * SECTOR_SIZE).map(|i| (i * 3) as u8).collect();
    write_words(&mut c, 1, &block[..SECTOR_SIZE]);
    assert!(c.take_observed().is_empty(), "reported only when its last sector moved");
    write_words(&mut c, 1, &block[SECTOR_SIZE..]);
    let want = DiskCommand { role: DiskRole::Swap, lba: 40, write: true, hashes: block.chunks(SECTOR_SIZE).map(hash64).collect() };
    assert_eq!(c.take_observed(), [want]);
}

#[test]
fn nothing_is_kept_unless_observed_and_identify_moves_no_sectors() {
    let mut c = four_disks();
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 1, 1);
    read_words(&mut c, 0, 256);
    assert!(c.take_observed().is_empty());
    c.set_observe(true);
    identify(&mut c, 0, 0);
    assert!(c.take_observed().is_empty());
}

#[test]
fn a_command_cut_short_reports_what_moved() {
    let mut c = four_disks();
    c.set_observe(true);
    // Ask for 4 sectors from the last 2 of the scratch disk (hd1:0, 300 sectors): 2 move,
    // then the drive aborts; the next command reports the two.
    select(&mut c, 1, 0);
    issue(&mut c, 1, 0, CMD_READ_SECTORS, 298, 4);
    read_words(&mut c, 1, 2 * 256);
    issue(&mut c, 1, 0, CMD_READ_SECTORS, 0, 1);
    read_words(&mut c, 1, 256);
    let got = c.take_observed();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].role, got[0].lba, got[0].count()), (DiskRole::Scratch, 298, 2));
    assert_eq!((got[1].lba, got[1].count()), (0, 1));
}
