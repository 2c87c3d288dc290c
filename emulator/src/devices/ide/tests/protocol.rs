//! Interrupts, nIEN, resets, absent drives and what a Pintos-style driver sees.

use super::*;

#[test]
fn status_read_clears_interrupt_but_alternate_status_does_not() {
    let mut c = four_disks();
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 0, 1);
    assert!(c.irq(0));
    assert_eq!(alt_status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    assert!(c.irq(0), "alternate status leaves the interrupt pending");
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    assert!(!c.irq(0), "status read acknowledges it");
    assert!(!c.irq(1), "the other channel is unaffected");
    // Writing a new command also clears a pending interrupt before executing.
    issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 0, 1);
    assert!(!c.irq(0));
}

#[test]
fn nien_suppresses_the_interrupt_line() {
    let mut c = four_disks();
    outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
    issue(&mut c, 1, 0, CMD_READ_SECTORS, 3, 1);
    assert!(!c.irq(1), "nIEN set: line not driven");
    assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    // The interrupt is still pending inside the drive and appears once nIEN is cleared.
    outb(&mut c, CONTROL_PORT[1], 0);
    assert!(c.irq(1));
    status(&mut c, 1);
    assert!(!c.irq(1));
    // Polling with nIEN: a whole transfer without the line ever rising.
    outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
    read_words(&mut c, 1, 256);
    issue(&mut c, 1, 0, CMD_WRITE_SECTORS, 3, 2);
    write_words(&mut c, 1, &[1; 2 * SECTOR_SIZE]);
    assert!(!c.irq(1));
    assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC);
}

#[test]
fn srst_sets_signature_and_selects_master() {
    let mut c = four_disks();
    // Disturb the registers, select the slave, leave a transfer half done.
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 0x123456, 4);
    outb(&mut c, reg(0, REG_ERROR), 0x77);
    outb(&mut c, CONTROL_PORT[0], CONTROL_SRST);
    assert_eq!(alt_status(&mut c, 0), STATUS_BSY, "busy while SRST is held");
    assert!(!c.irq(0));
    outb(&mut c, CONTROL_PORT[0], 0);
    assert_eq!(c.state().channels[0].selected, 0);
    for dev in [1, 0] {
        select(&mut c, 0, dev);
        assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 1);
        assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 1);
        assert_eq!(inb(&mut c, reg(0, REG_LBA_MID)), 0);
        assert_eq!(inb(&mut c, reg(0, REG_LBA_HIGH)), 0);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_DIAG_PASSED);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    }
    assert!(!c.irq(0), "reset raises no interrupt");
    // The aborted transfer is gone: data reads are misuse.
    let misses = c.misses();
    c.read(reg(0, REG_DATA), 2);
    assert_eq!(c.misses(), misses + 1);
    // After reset the master is selected and the Device register reads 00h.
    let mut c = four_disks();
    select(&mut c, 1, 1);
    outb(&mut c, CONTROL_PORT[1], CONTROL_SRST | CONTROL_NIEN);
    outb(&mut c, CONTROL_PORT[1], 0);
    assert_eq!(inb(&mut c, reg(1, REG_DEVICE)), 0);
    assert_eq!(c.state().channels[1].selected, 0);
}

#[test]
fn absent_channel_reads_all_ones() {
    let mut c = IdeController::new([[Some(patterned_disk(1, 10)), None], [None, None]]);
    for r in 1..8 {
        assert_eq!(inb(&mut c, reg(1, r)), 0xff);
    }
    assert_eq!(c.read(reg(1, REG_DATA), 2), 0xffff);
    assert_eq!(c.read(reg(1, REG_DATA), 4), 0xffff_ffff);
    assert_eq!(alt_status(&mut c, 1), 0xff);
    // Writes (including a probe's test patterns and commands) go nowhere.
    outb(&mut c, reg(1, REG_SECTOR_COUNT), 0x55);
    outb(&mut c, reg(1, REG_STATUS), CMD_IDENTIFY);
    outb(&mut c, CONTROL_PORT[1], CONTROL_SRST);
    assert_eq!(inb(&mut c, reg(1, REG_SECTOR_COUNT)), 0xff);
    assert!(!c.irq(1));
    assert!(c.take_events().is_empty());
    assert_eq!(c.misses(), 0, "probing an empty channel is not misuse");
}

#[test]
fn absent_slave_reads_zero_and_ignores_commands() {
    let mut c = IdeController::new([[Some(patterned_disk(1, 10)), None], [None, None]]);
    select(&mut c, 0, 1);
    outb(&mut c, reg(0, REG_SECTOR_COUNT), 0x55);
    outb(&mut c, reg(0, REG_LBA_LOW), 0xaa);
    for r in 1..8 {
        assert_eq!(inb(&mut c, reg(0, r)), 0, "register {r}");
    }
    assert_eq!(alt_status(&mut c, 0), 0);
    outb(&mut c, reg(0, REG_STATUS), CMD_IDENTIFY);
    assert_eq!(status(&mut c, 0), 0);
    assert!(!c.irq(0));
    assert!(c.take_events().is_empty());
    // The master received the register writes too (ATA: writes reach both devices).
    select(&mut c, 0, 0);
    assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 0x55);
    assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 0xaa);
    assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
}

/// Probes a channel the way Pintos' driver does (a write/read-back presence test, a soft
/// reset, then the error/status/signature check) and returns which positions are ATA
/// disks and their IDENTIFY capacities.
#[allow(clippy::needless_range_loop)] // positions index several parallel arrays
fn pintos_style_probe(c: &mut IdeController, ch: usize) -> [Option<u32>; 2] {
    let mut present = [false; 2];
    for dev in 0..2 {
        select(c, ch, dev);
        alt_status(c, ch);
        for (a, b) in [(0x55, 0xaa), (0xaa, 0x55), (0x55, 0xaa)] {
            outb(c, reg(ch, REG_SECTOR_COUNT), a);
            outb(c, reg(ch, REG_LBA_LOW), b);
        }
        present[dev] =
            inb(c, reg(ch, REG_SECTOR_COUNT)) == 0x55 && inb(c, reg(ch, REG_LBA_LOW)) == 0xaa;
    }
    outb(c, CONTROL_PORT[ch], 0);
    outb(c, CONTROL_PORT[ch], CONTROL_SRST);
    outb(c, CONTROL_PORT[ch], 0);
    if present[0] {
        select(c, ch, 0);
        assert_eq!(alt_status(c, ch) & STATUS_BSY, 0);
    }
    if present[1] {
        select(c, ch, 1);
        assert_eq!(inb(c, reg(ch, REG_SECTOR_COUNT)), 1);
        assert_eq!(inb(c, reg(ch, REG_LBA_LOW)), 1);
        assert_eq!(alt_status(c, ch) & STATUS_BSY, 0);
    }
    let mut is_ata = [false; 2];
    for dev in 0..2 {
        select(c, ch, dev);
        let error = inb(c, reg(ch, REG_ERROR));
        let mid = inb(c, reg(ch, REG_LBA_MID));
        let high = inb(c, reg(ch, REG_LBA_HIGH));
        let st = status(c, ch);
        let diag_ok = error == 1 || (error == 0x81 && dev == 0);
        if !diag_ok || st & STATUS_DRDY == 0 || st & STATUS_BSY != 0 {
            if dev == 0 && error == 0x81 {
                break; // no slave possible
            }
            continue;
        }
        is_ata[dev] = mid == 0 && high == 0;
    }
    let mut out = [None; 2];
    for dev in 0..2 {
        if is_ata[dev] {
            let w = identify(c, ch, dev);
            out[dev] = Some(w[60] as u32 | (w[61] as u32) << 16);
        }
    }
    out
}

#[test]
#[allow(clippy::needless_range_loop)]
fn pintos_style_probe_finds_exactly_the_attached_disks() {
    for mask in 0u8..16 {
        let d = |bit: u8| (mask & 1 << bit != 0).then(|| patterned_disk(bit, 10 + bit as u64));
        let mut c = IdeController::new([[d(0), d(1)], [d(2), d(3)]]);
        for ch in 0..2 {
            let found = pintos_style_probe(&mut c, ch);
            for dev in 0..2 {
                let bit = (ch * 2 + dev) as u8;
                let expect = (mask & 1 << bit != 0).then_some(10 + bit as u32);
                assert_eq!(found[dev], expect, "mask {mask:04b} hd{ch}:{dev}");
            }
        }
    }
}
#[test]
fn hardware_reset_restores_power_on_state() {
    let mut c = four_disks();
    let initial = c.state().clone();
    issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 8);
    issue(&mut c, 0, 1, CMD_READ_SECTORS, 5, 3);
    outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
    c.reset();
    let mut after = c.state().clone();
    // Counters are statistics, not device state: they survive the reset.
    for ch in &mut after.channels {
        for d in &mut ch.drives {
            d.stats = DriveStats::default();
        }
    }
    for (a, b) in after.channels.iter().zip(&initial.channels) {
        for (x, y) in a.drives.iter().zip(&b.drives) {
            assert_eq!(x.regs, y.regs);
            assert_eq!(x.multiple, y.multiple);
            assert_eq!(x.intrq, y.intrq);
        }
        assert_eq!((a.selected, a.control), (b.selected, b.control));
    }
}

/// Counts rising edges of a channel's IRQ line across port accesses, as an
/// edge-triggered 8259 would see them, and runs an "interrupt handler" (a Status read)
/// on each edge, like Pintos' handler does.
struct EdgeBus {
    c: IdeController,
    ch: usize,
    level: bool,
    edges: u32,
}

impl EdgeBus {
    fn sample(&mut self) {
        let now = self.c.irq(self.ch);
        if now && !self.level {
            self.edges += 1;
            self.level = now;
            inb(&mut self.c, reg(self.ch, REG_STATUS)); // acknowledge
            self.level = self.c.irq(self.ch);
        } else {
            self.level = now;
        }
    }
    fn inb(&mut self, port: u16) -> u8 {
        let v = inb(&mut self.c, port);
        self.sample();
        v
    }
    fn outb(&mut self, port: u16, v: u8) {
        outb(&mut self.c, port, v);
        self.sample();
    }
    fn inw(&mut self) -> u16 {
        let v = self.c.read(reg(self.ch, REG_DATA), 2) as u16;
        self.sample();
        v
    }
    fn outw(&mut self, v: u16) {
        self.c.write(reg(self.ch, REG_DATA), 2, v as u32);
        self.sample();
    }
    /// Select with idle waits before and after, then the LBA28 address of one sector.
    fn select_sector(&mut self, dev: usize, lba: u32) {
        let ch = self.ch;
        assert_eq!(self.inb(reg(ch, REG_STATUS)) & (STATUS_BSY | STATUS_DRQ), 0);
        self.outb(reg(ch, REG_DEVICE), 0xa0 | (dev as u8) << 4);
        self.inb(CONTROL_PORT[ch]);
        assert_eq!(self.inb(reg(ch, REG_STATUS)) & (STATUS_BSY | STATUS_DRQ), 0);
        self.outb(reg(ch, REG_SECTOR_COUNT), 1);
        self.outb(reg(ch, REG_LBA_LOW), lba as u8);
        self.outb(reg(ch, REG_LBA_MID), (lba >> 8) as u8);
        self.outb(reg(ch, REG_LBA_HIGH), (lba >> 16) as u8);
        self.outb(
            reg(ch, REG_DEVICE),
            0xe0 | (dev as u8) << 4 | (lba >> 24) as u8,
        );
    }
}

#[test]
fn pintos_style_sector_io_sees_exactly_one_interrupt_edge_per_operation() {
    for (ch, dev) in POSITIONS {
        let mut bus = EdgeBus {
            c: four_disks(),
            ch,
            level: false,
            edges: 0,
        };
        let tag = (ch * 2 + dev + 1) as u8;
        for round in 0..5u32 {
            // Read: command, wait for the interrupt, check DRQ on Alternate Status, read.
            let lba = round * 13 % 90;
            bus.select_sector(dev, lba);
            bus.outb(reg(ch, REG_STATUS), CMD_READ_SECTORS);
            assert_eq!(bus.edges, 2 * round + 1, "read completion interrupt");
            assert_eq!(
                bus.inb(CONTROL_PORT[ch]) & (STATUS_BSY | STATUS_DRQ),
                STATUS_DRQ
            );
            let mut data = Vec::new();
            for _ in 0..256 {
                data.extend_from_slice(&bus.inw().to_le_bytes());
            }
            assert!(data
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(tag, lba as u64, i)));
            // Write: command, DRQ without interrupt, data, then the interrupt.
            bus.select_sector(dev, lba + 1);
            bus.outb(reg(ch, REG_STATUS), CMD_WRITE_SECTORS);
            assert_eq!(bus.edges, 2 * round + 1, "no interrupt before write data");
            assert_eq!(
                bus.inb(CONTROL_PORT[ch]) & (STATUS_BSY | STATUS_DRQ),
                STATUS_DRQ
            );
            for i in 0..256u16 {
                bus.outw(i ^ round as u16);
            }
            assert_eq!(bus.edges, 2 * round + 2, "write completion interrupt");
        }
        assert_eq!(bus.c.stats(ch, dev).sectors_read, 5);
        assert_eq!(bus.c.stats(ch, dev).sectors_written, 5);
        assert_eq!(bus.c.misses(), 0);
    }
}
