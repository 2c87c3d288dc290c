//! One IDE channel: two drive positions sharing a register interface, the device
//! selection and the device control register (SRST, nIEN).

use super::disk::Disk;
use super::drive::DriveState;
use super::regs::*;
use crate::devices::Nanos;

/// One channel: two drive positions, the selection and the device control register.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelState {
    pub drives: [DriveState; 2],
    /// 0 = master, 1 = slave (the DEV bit last written).
    pub selected: usize,
    /// Last value written to Device Control.
    pub control: u8,
}

impl ChannelState {
    pub(super) fn new(disks: &[Option<Disk>; 2], channel: usize) -> ChannelState {
        let drive = |d: usize| match &disks[d] {
            Some(disk) => DriveState::new(disk, channel * 2 + d),
            None => DriveState::absent(),
        };
        ChannelState {
            drives: [drive(0), drive(1)],
            selected: 0,
            control: 0,
        }
    }

    /// Whether anything drives this channel's bus.
    pub fn present(&self) -> bool {
        self.drives[0].present || self.drives[1].present
    }

    pub(super) fn in_reset(&self) -> bool {
        self.control & CONTROL_SRST != 0
    }

    pub(super) fn power_on(&mut self) {
        self.selected = 0;
        self.control = 0;
        for d in &mut self.drives {
            d.power_on();
        }
    }

    pub(super) fn write_control(&mut self, value: u8, now: Nanos) {
        let was_reset = self.in_reset();
        self.control = value;
        let now_reset = self.in_reset();
        if now_reset && !was_reset {
            // SRST asserted: both devices stop whatever they were doing and are busy until
            // it is released.
            for d in self.drives.iter_mut().filter(|d| d.present) {
                d.cancel_busy(now);
                d.end_transfer();
                d.intrq = false;
                d.regs.status = STATUS_BSY;
            }
        } else if was_reset && !now_reset {
            // SRST released: the reset completes at once (no virtual delay) with the
            // signature, and device 0 is selected (the Device register reads 00h).
            for d in self.drives.iter_mut().filter(|d| d.present) {
                d.soft_reset();
            }
            self.selected = 0;
        }
    }

    /// The value read from a command block register other than data, or Alternate Status.
    pub(super) fn read_register(&mut self, reg: u16, clear_interrupt: bool) -> u8 {
        let drive = &mut self.drives[self.selected];
        if !drive.present {
            // Device 0 answers for an absent device 1 (and vice versa) with 00h.
            return 0;
        }
        let r = &drive.regs;
        match reg {
            REG_ERROR => r.error,
            REG_SECTOR_COUNT => r.sector_count,
            REG_LBA_LOW => r.lba_low,
            REG_LBA_MID => r.lba_mid,
            REG_LBA_HIGH => r.lba_high,
            REG_DEVICE => r.device,
            _ => {
                let status = r.status;
                // ATA: reading Status (not Alternate Status) acknowledges the interrupt.
                if clear_interrupt {
                    drive.intrq = false;
                }
                status
            }
        }
    }

    pub(super) fn write_register(&mut self, reg: u16, value: u8) {
        // ATA: command block writes reach both devices.
        for d in &mut self.drives {
            let r = &mut d.regs;
            match reg {
                REG_ERROR => r.features = value,
                REG_SECTOR_COUNT => r.sector_count = value,
                REG_LBA_LOW => r.lba_low = value,
                REG_LBA_MID => r.lba_mid = value,
                REG_LBA_HIGH => r.lba_high = value,
                _ => r.device = value,
            }
        }
        if reg == REG_DEVICE {
            self.selected = usize::from(value & DEVICE_DEV != 0);
        }
    }
}
