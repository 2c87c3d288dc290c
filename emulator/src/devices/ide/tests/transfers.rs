//! IDENTIFY and the data-moving commands: reads, writes, multiple mode, addressing.

use super::*;

#[test]
fn identify_reports_capacity_geometry_strings_and_capabilities() {
    let mut c = four_disks();
    for (ch, dev) in POSITIONS {
        let n = ch * 2 + dev + 1;
        let w = identify(&mut c, ch, dev);
        let sectors = n as u32 * 100;
        assert_eq!(w[0], 0x0040);
        assert_eq!(w[60] as u32 | (w[61] as u32) << 16, sectors);
        assert_eq!(w[49] & 0x0200, 0x0200, "LBA supported");
        assert_eq!((w[1], w[3], w[6]), (1, 16, 63)); // fewer sectors than one cylinder
        assert_eq!(w[47], 0x8010);
        assert_eq!(w[59], 0, "multiple mode off at power-on");
        assert_eq!(ata_string(&w[27..47]), "QEMU HARDDISK");
        assert_eq!(ata_string(&w[10..20]), format!("QM0000{n}"));
        assert_eq!(ata_string(&w[23..27]), "2.5+");
        assert_eq!(w[80], 0x001e);
        assert_eq!(w[83] & 0xc000, 0x4000, "word 83 valid");
        // The model's first two characters: 'Q' in the high byte of word 27.
        assert_eq!(w[27], (b'Q' as u16) << 8 | b'E' as u16);
        // Data phase over: DRQ clear, no extra interrupt.
        assert_eq!(alt_status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
        assert!(!c.irq(ch));
    }
}

#[test]
fn identify_integrity_word_checksums_to_zero_and_big_disk_geometry() {
    let mut c = IdeController::new([
        [
            Some(
                Disk::zeroed(20 * PINTOS_DISK_UNIT)
                    .unwrap()
                    .with_model("Test Model X"),
            ),
            None,
        ],
        [None, None],
    ]);
    let w = identify(&mut c, 0, 0);
    assert_eq!(w[255] & 0xff, 0xa5);
    let sum = w.iter().fold(0u8, |s, &x| {
        s.wrapping_add(x as u8).wrapping_add((x >> 8) as u8)
    });
    assert_eq!(sum, 0);
    assert_eq!((w[1], w[3], w[6]), (40, 16, 63));
    assert_eq!((w[54], w[55], w[56]), (40, 16, 63));
    assert_eq!(w[57] as u32 | (w[58] as u32) << 16, 40 * 16 * 63);
    assert_eq!(w[60] as u32 | (w[61] as u32) << 16, 40320);
    assert_eq!(ata_string(&w[27..47]), "Test Model X");
}

#[test]
fn read_single_sector_on_all_four_drives() {
    let mut c = four_disks();
    for (ch, dev) in POSITIONS {
        let tag = (ch * 2 + dev + 1) as u8;
        issue(&mut c, ch, dev, CMD_READ_SECTORS, 42, 1);
        assert!(c.irq(ch), "data ready raises the interrupt");
        assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        let data = read_words(&mut c, ch, 256);
        assert!(data
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(tag, 42, i)));
        assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
        assert!(!c.irq(ch));
        assert_eq!(c.stats(ch, dev).sectors_read, 1);
    }
    assert_eq!(c.misses(), 0);
}

#[test]
fn write_single_sector_on_all_four_drives() {
    let mut c = four_disks();
    for (ch, dev) in POSITIONS {
        let data: Vec<u8> = (0..SECTOR_SIZE)
            .map(|i| (i as u8) ^ (ch * 2 + dev) as u8 ^ 0xc3)
            .collect();
        issue(&mut c, ch, dev, CMD_WRITE_SECTORS, 7, 1);
        assert!(!c.irq(ch), "PIO out: no interrupt before the first block");
        assert_eq!(
            alt_status(&mut c, ch),
            STATUS_DRDY | STATUS_DSC | STATUS_DRQ
        );
        write_words(&mut c, ch, &data);
        assert!(c.irq(ch), "interrupt at completion");
        assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
        assert_eq!(c.stats(ch, dev).sectors_written, 1);
        // Read back through the guest interface and through the backend.
        issue(&mut c, ch, dev, CMD_READ_SECTORS, 7, 1);
        status(&mut c, ch);
        assert_eq!(read_words(&mut c, ch, 256), data);
        let mut sector = [0u8; SECTOR_SIZE];
        c.disk_mut(ch, dev)
            .unwrap()
            .read_sector(7, &mut sector)
            .unwrap();
        assert_eq!(&sector[..], &data[..]);
        // Neighbours untouched.
        c.disk_mut(ch, dev)
            .unwrap()
            .read_sector(8, &mut sector)
            .unwrap();
        assert_eq!(sector[3], pattern((ch * 2 + dev + 1) as u8, 8, 3));
    }
    assert_eq!(c.misses(), 0);
}

#[test]
fn multi_sector_read_raises_an_interrupt_per_sector() {
    let mut c = four_disks();
    for (ch, dev) in POSITIONS {
        let tag = (ch * 2 + dev + 1) as u8;
        issue(&mut c, ch, dev, CMD_READ_SECTORS, 10, 3);
        for s in 0..3u64 {
            assert!(c.irq(ch), "sector {s} ready");
            assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
            assert!(!c.irq(ch));
            // Registers show the sector being transferred and the count still to come.
            assert_eq!(inb(&mut c, reg(ch, REG_LBA_LOW)), 10 + s as u8);
            assert_eq!(inb(&mut c, reg(ch, REG_SECTOR_COUNT)), 2 - s as u8);
            let data = read_words(&mut c, ch, 256);
            assert!(data
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(tag, 10 + s, i)));
        }
        assert!(!c.irq(ch), "no interrupt after the last PIO-in block");
        assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
        assert_eq!(c.stats(ch, dev).sectors_read, 3);
    }
}

#[test]
fn multi_sector_write_raises_an_interrupt_after_each_sector() {
    let mut c = four_disks();
    for (ch, dev) in POSITIONS {
        issue(&mut c, ch, dev, CMD_WRITE_SECTORS, 20, 3);
        for s in 0..3u8 {
            assert_eq!(
                alt_status(&mut c, ch),
                STATUS_DRDY | STATUS_DSC | STATUS_DRQ
            );
            write_words(&mut c, ch, &[s + 0x10; SECTOR_SIZE]);
            assert!(c.irq(ch), "sector {s} written");
            let st = status(&mut c, ch);
            if s < 2 {
                assert_eq!(st, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
            } else {
                assert_eq!(st, STATUS_DRDY | STATUS_DSC);
            }
            assert!(!c.irq(ch));
        }
        let disk = c.disk_mut(ch, dev).unwrap();
        for s in 0..3u8 {
            let mut sector = [0u8; SECTOR_SIZE];
            disk.read_sector(20 + s as u64, &mut sector).unwrap();
            assert!(sector.iter().all(|&b| b == s + 0x10));
        }
        assert_eq!(c.stats(ch, dev).sectors_written, 3);
        assert_eq!(inb(&mut c, reg(ch, REG_LBA_LOW)), 22, "last sector written");
        assert_eq!(inb(&mut c, reg(ch, REG_SECTOR_COUNT)), 0);
    }
}

#[test]
fn sector_count_zero_transfers_256_sectors() {
    let mut c = IdeController::new([[Some(patterned_disk(9, 600)), None], [None, None]]);
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 100, 0);
    let mut sectors = 0;
    while status(&mut c, 0) & STATUS_DRQ != 0 {
        let data = read_words(&mut c, 0, 256);
        assert_eq!(data[5], pattern(9, 100 + sectors, 5));
        sectors += 1;
    }
    assert_eq!(sectors, 256);
    assert_eq!(c.stats(0, 0).sectors_read, 256);
}

#[test]
fn read_and_write_multiple_use_blocks_of_the_multiple_setting() {
    let mut c = IdeController::new([[Some(patterned_disk(5, 100)), None], [None, None]]);
    // Without SET MULTIPLE, READ MULTIPLE aborts.
    issue(&mut c, 0, 0, CMD_READ_MULTIPLE, 0, 4);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_ABRT);
    // A non-power-of-two block is refused.
    issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 3);
    assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
    issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 4);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    assert_eq!(identify(&mut c, 0, 0)[59], 0x0104);
    // 6 sectors in blocks of 4: two interrupts, 4 then 2 sectors.
    issue(&mut c, 0, 0, CMD_READ_MULTIPLE, 30, 6);
    assert!(c.irq(0));
    status(&mut c, 0);
    let first = read_words(&mut c, 0, 4 * 256);
    assert_eq!(first[3 * 512 + 1], pattern(5, 33, 1));
    assert!(c.irq(0));
    status(&mut c, 0);
    let second = read_words(&mut c, 0, 2 * 256);
    assert_eq!(second[512 + 9], pattern(5, 35, 9));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    // WRITE MULTIPLE: one interrupt per block.
    issue(&mut c, 0, 0, CMD_WRITE_MULTIPLE, 50, 5);
    assert!(!c.irq(0));
    write_words(&mut c, 0, &[0xee; 4 * SECTOR_SIZE]);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    write_words(&mut c, 0, &[0xdd; SECTOR_SIZE]);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    let mut sector = [0u8; SECTOR_SIZE];
    c.disk_mut(0, 0)
        .unwrap()
        .read_sector(53, &mut sector)
        .unwrap();
    assert_eq!(sector[0], 0xee);
    c.disk_mut(0, 0)
        .unwrap()
        .read_sector(54, &mut sector)
        .unwrap();
    assert_eq!(sector[0], 0xdd);
    assert_eq!(c.stats(0, 0).sectors_written, 5);
    assert_eq!(c.misses(), 0);
}
#[test]
fn out_of_range_lba_reports_idnf_and_abrt() {
    let mut c = four_disks(); // hd0:0 has 100 sectors
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 100, 1);
    assert!(c.irq(0), "error completion interrupts");
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
    assert_eq!(c.stats(0, 0).sectors_read, 0);
    // Starting inside, running off the end: the good sectors transfer, then the error,
    // with the registers at the failing sector.
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 98, 4);
    status(&mut c, 0);
    read_words(&mut c, 0, 256);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    read_words(&mut c, 0, 256);
    assert!(c.irq(0));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
    assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 100);
    assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 2);
    assert_eq!(c.stats(0, 0).sectors_read, 2);
    // Writes past the end never store anything.
    issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 0x0fff_ffff, 1);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
    // Verify and seek check the range too.
    issue(&mut c, 0, 0, CMD_READ_VERIFY, 99, 2);
    assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
    issue(&mut c, 0, 0, CMD_READ_VERIFY, 98, 2);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    issue(&mut c, 0, 0, CMD_SEEK, 100, 1);
    assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
    assert_eq!(c.stats(0, 0).errors, 5);
    assert_eq!(c.stats(0, 0).sectors_written, 0);
}

#[test]
fn chs_addressing_translates_with_16_heads_and_63_sectors() {
    let mut c = IdeController::new([[Some(patterned_disk(3, 3000)), None], [None, None]]);
    // Cylinder 2, head 5, sector 7 → (2 × 16 + 5) × 63 + 6 = 2337.
    let read_chs = |c: &mut IdeController, cyl: u16, head: u8, sector: u8, count: u8| {
        outb(c, reg(0, REG_DEVICE), 0xa0 | head);
        outb(c, reg(0, REG_SECTOR_COUNT), count);
        outb(c, reg(0, REG_LBA_LOW), sector);
        outb(c, reg(0, REG_LBA_MID), cyl as u8);
        outb(c, reg(0, REG_LBA_HIGH), (cyl >> 8) as u8);
        outb(c, reg(0, REG_STATUS), CMD_READ_SECTORS);
        status(c, 0)
    };
    assert_eq!(
        read_chs(&mut c, 2, 5, 7, 1),
        STATUS_DRDY | STATUS_DSC | STATUS_DRQ
    );
    let data = read_words(&mut c, 0, 256);
    assert!(data
        .iter()
        .enumerate()
        .all(|(i, &b)| b == pattern(3, 2337, i)));
    // Crossing a track boundary: head 0 sector 63 then head 1 sector 1; registers follow
    // in CHS form.
    assert_eq!(
        read_chs(&mut c, 0, 0, 63, 2),
        STATUS_DRDY | STATUS_DSC | STATUS_DRQ
    );
    assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 62, 0));
    status(&mut c, 0);
    assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 63, 0));
    assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 1);
    assert_eq!(inb(&mut c, reg(0, REG_DEVICE)) & 0x0f, 1);
    assert_eq!(c.take_events().last().unwrap().lba, 62);
    // Sector 0 does not exist in CHS.
    assert_eq!(
        read_chs(&mut c, 0, 0, 0, 1),
        STATUS_DRDY | STATUS_DSC | STATUS_ERR
    );
    assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
    // INITIALIZE DEVICE PARAMETERS changes the translation: 4 heads × 17 sectors.
    outb(&mut c, reg(0, REG_DEVICE), 0xa0 | 3);
    outb(&mut c, reg(0, REG_SECTOR_COUNT), 17);
    outb(&mut c, reg(0, REG_STATUS), CMD_INITIALIZE_PARAMETERS);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    // Cylinder 1, head 2, sector 3 → (1 × 4 + 2) × 17 + 2 = 104.
    assert_eq!(
        read_chs(&mut c, 1, 2, 3, 1),
        STATUS_DRDY | STATUS_DSC | STATUS_DRQ
    );
    assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 104, 0));
    let w = identify(&mut c, 0, 0);
    assert_eq!((w[54], w[55], w[56]), (3000 / 68, 4, 17));
    assert_eq!(
        (w[1], w[3], w[6]),
        (2, 16, 63),
        "default geometry unchanged"
    );
}
#[test]
fn thirty_two_bit_data_accesses_move_two_words() {
    let mut c = four_disks();
    issue(&mut c, 0, 0, CMD_READ_SECTORS, 1, 1);
    status(&mut c, 0);
    let mut data = Vec::new();
    for _ in 0..128 {
        data.extend_from_slice(&c.read(reg(0, REG_DATA), 4).to_le_bytes());
    }
    assert!(data.iter().enumerate().all(|(i, &b)| b == pattern(1, 1, i)));
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 2, 1);
    for i in 0..128u32 {
        c.write(reg(0, REG_DATA), 4, i * 0x0101_0101);
    }
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    let mut sector = [0u8; SECTOR_SIZE];
    c.disk_mut(0, 0)
        .unwrap()
        .read_sector(2, &mut sector)
        .unwrap();
    assert_eq!(&sector[8..12], &[2, 2, 2, 2]);
    assert_eq!(c.misses(), 0);
}
