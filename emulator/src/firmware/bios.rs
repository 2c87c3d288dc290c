//! A small PC BIOS, implemented in the emulator ("high-level emulation").
//!
//! At power-on [`Bios::install`] fills the interrupt vector table, the BIOS data area and a
//! ROM page of stubs, and [`Bios::boot`] loads sector 0 of the first hard disk to 0x7c00 and
//! starts it in real mode with DL = 0x80, as a PC BIOS does.
//!
//! Each BIOS service vector points at a two-byte stub in ROM, `hlt; iret`. When the guest
//! calls `int 0x13`, the CPU runs the stub's HLT and the run returns to the machine, which
//! calls [`Bios::service`]: it recognises the stub by CS:IP, performs the service on the
//! CPU's registers and memory, clears the halt, and lets the guest continue with the stub's
//! IRET. Results in FLAGS (CF, ZF) are written into the FLAGS image on the stack, which the
//! IRET restores. Nothing here depends on the host clock.
//!
//! Services: int 0x10 (teletype and a few video queries), 0x11, 0x12, 0x13 (CHS and
//! extended LBA read/write, drive parameters), 0x15 (E820, E801, 0x88, A20 functions),
//! 0x16 (no keyboard input: reads return no key), 0x1a (time from virtual time). Every
//! other vector points at a bare `iret`.

use crate::cpu::flags::{CF, ZF};
use crate::cpu::segment::{Segment, CS, DS, ES, SS};
use crate::cpu::{reg, Cpu};

/// Physical address of the ROM page holding the stubs (segment F000).
pub const STUB_BASE: u64 = 0xf_e000;
/// Offset of vector `v`'s stub: STUB_BASE + 2 * v.
const IRET_STUB: u64 = STUB_BASE + 0x400;
/// Where the boot sector is loaded and started.
pub const BOOT_ADDR: u64 = 0x7c00;
/// First hard disk number.
pub const HD0: u8 = 0x80;
/// Geometry reported for hard disks (heads, sectors per track).
const HEADS: u64 = 16;
const SPT: u64 = 63;

/// Vectors with a service routine.
const SERVICED: [u8; 8] = [0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x19, 0x1a];

/// What the BIOS needs from the machine.
pub trait BiosHost {
    /// Size in sectors of BIOS drive `drive` (0x80 = first hard disk), if present.
    fn disk_sectors(&self, drive: u8) -> Option<u64>;
    /// Reads one sector; false on an I/O error.
    fn disk_read(&mut self, drive: u8, lba: u64, buf: &mut [u8; 512]) -> bool;
    /// Writes one sector; false on an I/O error.
    fn disk_write(&mut self, drive: u8, lba: u64, buf: &[u8; 512]) -> bool;
    /// Teletype output.
    fn console(&mut self, byte: u8);
    /// The A20 gate.
    fn a20(&self) -> bool;
    fn set_a20(&mut self, on: bool);
    /// Current wall-clock time of the virtual machine, in seconds since the Unix epoch
    /// (the RTC's epoch plus virtual time), and the nanoseconds within that second.
    fn time(&self) -> (u64, u32);
}

/// Errors that stop the boot before the guest runs.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BootError {
    #[error("no boot disk attached")]
    NoDisk,
    #[error("could not read the boot sector")]
    ReadError,
    #[error("the boot sector has no 0x55aa signature: not a bootable disk")]
    NotBootable,
}

/// BIOS configuration.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Bios {
    /// Guest RAM size in bytes.
    pub mem_size: u64,
}

/// Status codes for int 0x13 (AH on return).
mod status {
    pub const OK: u8 = 0x00;
    pub const BAD_COMMAND: u8 = 0x01;
    pub const SECTOR_NOT_FOUND: u8 = 0x04;
    pub const BAD_DRIVE: u8 = 0x07;
    pub const READ_ERROR: u8 = 0x0c;
    pub const WRITE_ERROR: u8 = 0xcc;
}

impl Bios {
    pub fn new(mem_size: u64) -> Self {
        Bios { mem_size }
    }

    /// Writes the IVT, the BIOS data area and the ROM stubs into guest memory.
    pub fn install(&self, cpu: &mut Cpu, hard_disks: u8) {
        let mut rom = vec![0u8; 0x402];
        for v in 0..256usize {
            rom[2 * v] = 0xf4; // hlt
            rom[2 * v + 1] = 0xcf; // iret
        }
        rom[0x400] = 0xcf;
        let _ = cpu.mem.load(STUB_BASE, &rom);
        for v in 0..256u64 {
            let target = if SERVICED.contains(&(v as u8)) { STUB_BASE + 2 * v } else { IRET_STUB };
            let off = (target - 0xf_0000) as u32;
            let _ = cpu.mem.write_u32(v * 4, 0xf000 << 16 | off);
        }
        // BIOS data area (0x400): COM1 base, equipment, memory size, video, hard disks.
        let mut bda = [0u8; 0x100];
        bda[0x00..0x02].copy_from_slice(&0x3f8u16.to_le_bytes());
        bda[0x02..0x04].copy_from_slice(&0x2f8u16.to_le_bytes());
        bda[0x10..0x12].copy_from_slice(&0x0221u16.to_le_bytes()); // 80x25 colour, 1 serial port... 
        bda[0x13..0x15].copy_from_slice(&639u16.to_le_bytes());
        bda[0x49] = 3; // video mode 3
        bda[0x4a] = 80; // columns
        bda[0x63..0x65].copy_from_slice(&0x3d4u16.to_le_bytes()); // CRTC base
        bda[0x75] = hard_disks;
        bda[0x84] = 24; // rows - 1
        let _ = cpu.mem.load(0x400, &bda);
        cpu.invalidate_code(0, 0x500);
        cpu.invalidate_code(STUB_BASE, rom.len() as u64);
    }

    /// Loads the boot sector of the first hard disk and points the CPU at it.
    pub fn boot(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) -> Result<(), BootError> {
        host.disk_sectors(HD0).ok_or(BootError::NoDisk)?;
        let mut sector = [0u8; 512];
        if !host.disk_read(HD0, 0, &mut sector) {
            return Err(BootError::ReadError);
        }
        if sector[510..512] != [0x55, 0xaa] {
            return Err(BootError::NotBootable);
        }
        let _ = cpu.mem.load(BOOT_ADDR, &sector);
        cpu.invalidate_code(BOOT_ADDR, 512);
        for s in [ES, SS, DS] {
            let attr = cpu.seg[s as usize].attr;
            cpu.seg[s as usize] = Segment::real(0, attr);
        }
        let attr = cpu.seg[CS as usize].attr;
        cpu.seg[CS as usize] = Segment::real(0, attr);
        cpu.rip = BOOT_ADDR;
        cpu.gpr[reg::RSP as usize] = BOOT_ADDR;
        cpu.gpr[reg::RDX as usize] = HD0 as u64;
        cpu.flags.set(0x202);
        cpu.update_mode();
        Ok(())
    }

    /// If the CPU halted inside a service stub, performs the service and resumes the CPU.
    /// Returns whether it did.
    pub fn service(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) -> bool {
        if !cpu.halted || cpu.protected() {
            return false;
        }
        let lin = cpu.seg[CS as usize].base + cpu.rip;
        if !(STUB_BASE + 1..STUB_BASE + 0x200).contains(&lin) || (lin - STUB_BASE) % 2 != 1 {
            return false;
        }
        let vector = ((lin - STUB_BASE) / 2) as u8;
        cpu.halted = false;
        match vector {
            0x10 => self.video(cpu, host),
            0x11 => {
                let eq = cpu.mem.read_u32(0x410).unwrap_or(0) & 0xffff;
                cpu.set_reg::<2>(reg::RAX, eq as u64);
            }
            0x12 => cpu.set_reg::<2>(reg::RAX, 639),
            0x13 => self.disk(cpu, host),
            0x15 => self.system(cpu, host),
            0x16 => self.keyboard(cpu),
            0x1a => self.clock(cpu, host),
            _ => set_flag(cpu, CF, true),
        }
        true
    }

    fn video(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) {
        let ah = ah(cpu);
        match ah {
            0x0e => host.console(cpu.reg::<1>(reg::RAX) as u8),
            0x0f => {
                cpu.set_reg::<2>(reg::RAX, 80 << 8 | 3);
                cpu.set_reg::<1>(16 + reg::RBX, 0);
            }
            0x03 => {
                cpu.set_reg::<2>(reg::RCX, 0x0607);
                cpu.set_reg::<2>(reg::RDX, 0);
            }
            0x13 => {
                // Write string: ES:BP, CX characters.
                let base = cpu.seg[ES as usize].base + cpu.reg::<2>(reg::RBP);
                let n = cpu.reg::<2>(reg::RCX);
                let mut buf = vec![0u8; n as usize];
                if cpu.mem.read(base, &mut buf).is_ok() {
                    for b in buf {
                        host.console(b);
                    }
                }
            }
            _ => {}
        }
    }

    fn keyboard(&self, cpu: &mut Cpu) {
        match ah(cpu) {
            // Check for a keystroke: none is ever waiting.
            0x01 | 0x11 => set_flag(cpu, ZF, true),
            // Read a keystroke: there is no keyboard input; return 0 rather than block.
            0x00 | 0x10 => cpu.set_reg::<2>(reg::RAX, 0),
            0x02 | 0x12 => cpu.set_reg::<1>(reg::RAX, 0),
            _ => {}
        }
    }

    fn clock(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) {
        let (secs, nanos) = host.time();
        let day = secs % 86400;
        match ah(cpu) {
            0x00 => {
                // Ticks since midnight at 1193182 / 65536 Hz.
                let ns = day as u128 * 1_000_000_000 + nanos as u128;
                let ticks = (ns * 1_193_182 / 65_536 / 1_000_000_000) as u64;
                cpu.set_reg::<2>(reg::RCX, ticks >> 16);
                cpu.set_reg::<2>(reg::RDX, ticks & 0xffff);
                cpu.set_reg::<1>(reg::RAX, 0);
                set_flag(cpu, CF, false);
            }
            0x02 => {
                let (h, m, s) = (day / 3600, day / 60 % 60, day % 60);
                cpu.set_reg::<2>(reg::RCX, bcd(h) << 8 | bcd(m));
                cpu.set_reg::<2>(reg::RDX, bcd(s) << 8);
                set_flag(cpu, CF, false);
            }
            0x04 => {
                let (y, mo, d) = civil_from_days((secs / 86400) as i64);
                cpu.set_reg::<2>(reg::RCX, bcd(y as u64 / 100) << 8 | bcd(y as u64 % 100));
                cpu.set_reg::<2>(reg::RDX, bcd(mo as u64) << 8 | bcd(d as u64));
                set_flag(cpu, CF, false);
            }
            _ => set_flag(cpu, CF, true),
        }
    }

    fn system(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) {
        let ax = cpu.reg::<2>(reg::RAX);
        let above_1m = self.mem_size.saturating_sub(1 << 20);
        match ax {
            0xe820 if cpu.reg::<4>(reg::RDX) == 0x534d_4150 => {
                let map = self.e820();
                let i = cpu.reg::<4>(reg::RBX) as usize;
                let Some(&(base, len, ty)) = map.get(i) else {
                    set_flag(cpu, CF, true);
                    return;
                };
                let mut entry = [0u8; 20];
                entry[0..8].copy_from_slice(&base.to_le_bytes());
                entry[8..16].copy_from_slice(&len.to_le_bytes());
                entry[16..20].copy_from_slice(&ty.to_le_bytes());
                let at = cpu.seg[ES as usize].base + cpu.reg::<2>(reg::RDI);
                let _ = cpu.mem.load(at, &entry);
                cpu.invalidate_code(at, 20);
                cpu.set_reg::<4>(reg::RAX, 0x534d_4150);
                cpu.set_reg::<4>(reg::RCX, 20);
                cpu.set_reg::<4>(reg::RBX, if i + 1 < map.len() { i as u64 + 1 } else { 0 });
                set_flag(cpu, CF, false);
            }
            0xe801 => {
                let low = (above_1m.min(15 << 20) >> 10).min(0x3c00);
                let high = self.mem_size.saturating_sub(16 << 20) >> 16;
                cpu.set_reg::<2>(reg::RAX, low);
                cpu.set_reg::<2>(reg::RCX, low);
                cpu.set_reg::<2>(reg::RBX, high.min(0xffff));
                cpu.set_reg::<2>(reg::RDX, high.min(0xffff));
                set_flag(cpu, CF, false);
            }
            0x2400 | 0x2401 => {
                host.set_a20(ax == 0x2401);
                cpu.set_reg::<1>(16 + reg::RAX, 0);
                set_flag(cpu, CF, false);
            }
            0x2402 => {
                cpu.set_reg::<2>(reg::RAX, host.a20() as u64);
                set_flag(cpu, CF, false);
            }
            0x2403 => {
                cpu.set_reg::<1>(16 + reg::RAX, 0);
                cpu.set_reg::<2>(reg::RBX, 3);
                set_flag(cpu, CF, false);
            }
            _ if ax >> 8 == 0x88 => {
                cpu.set_reg::<2>(reg::RAX, (above_1m >> 10).min(0xffff));
                set_flag(cpu, CF, false);
            }
            _ if ax >> 8 == 0x86 => set_flag(cpu, CF, false),
            _ => {
                cpu.set_reg::<1>(16 + reg::RAX, 0x86);
                set_flag(cpu, CF, true);
            }
        }
    }

    /// The E820 map: (base, length, type), type 1 usable, 2 reserved.
    pub fn e820(&self) -> Vec<(u64, u64, u32)> {
        vec![
            (0, 0x9fc00, 1),
            (0x9fc00, 0x400, 2),
            (0xf0000, 0x10000, 2),
            (0x10_0000, self.mem_size.saturating_sub(0x10_0000), 1),
        ]
    }

    fn disk(&self, cpu: &mut Cpu, host: &mut dyn BiosHost) {
        let ah = ah(cpu);
        let drive = cpu.reg::<1>(reg::RDX) as u8;
        let sectors = host.disk_sectors(drive);
        let result = match (ah, sectors) {
            (0x00, _) | (0x01, _) | (0x0d, _) | (0x10, _) => Ok(()),
            (_, None) => Err(status::BAD_DRIVE),
            (0x02 | 0x03, Some(total)) => {
                let count = cpu.reg::<1>(reg::RAX);
                let cx = cpu.reg::<2>(reg::RCX);
                let (cyl, sec, head) = ((cx >> 8) | (cx & 0xc0) << 2, cx & 0x3f, cpu.reg::<1>(16 + reg::RDX));
                if sec == 0 {
                    Err(status::SECTOR_NOT_FOUND)
                } else {
                    let lba = (cyl * HEADS + head) * SPT + sec - 1;
                    let buf = cpu.seg[ES as usize].base + cpu.reg::<2>(reg::RBX);
                    let r = transfer(cpu, host, drive, lba, count, buf, total, ah == 0x03);
                    if r.is_ok() {
                        cpu.set_reg::<1>(reg::RAX, count);
                    }
                    r
                }
            }
            (0x08, Some(total)) => {
                let cyls = (total / (HEADS * SPT)).clamp(1, 1024);
                let c = cyls - 1;
                cpu.set_reg::<2>(reg::RCX, (c & 0xff) << 8 | (c >> 8) << 6 | SPT);
                let n = (0..4).filter(|i| host.disk_sectors(HD0 + i).is_some()).count() as u64;
                cpu.set_reg::<2>(reg::RDX, (HEADS - 1) << 8 | n);
                cpu.set_reg::<1>(reg::RBX, 0);
                Ok(())
            }
            (0x15, Some(total)) => {
                cpu.set_reg::<2>(reg::RCX, total >> 16);
                cpu.set_reg::<2>(reg::RDX, total & 0xffff);
                cpu.set_reg::<1>(16 + reg::RAX, 3); // fixed disk
                set_flag(cpu, CF, false);
                return;
            }
            (0x41, Some(_)) if cpu.reg::<2>(reg::RBX) == 0x55aa => {
                cpu.set_reg::<2>(reg::RBX, 0xaa55);
                cpu.set_reg::<2>(reg::RCX, 1);
                cpu.set_reg::<1>(16 + reg::RAX, 0x30);
                set_flag(cpu, CF, false);
                return;
            }
            (0x42 | 0x43, Some(total)) => {
                let dap = cpu.seg[DS as usize].base + cpu.reg::<2>(reg::RSI);
                let mut d = [0u8; 16];
                if cpu.mem.read(dap, &mut d).is_err() {
                    Err(status::BAD_COMMAND)
                } else {
                    let count = u16::from_le_bytes([d[2], d[3]]) as u64;
                    let off = u16::from_le_bytes([d[4], d[5]]) as u64;
                    let seg = u16::from_le_bytes([d[6], d[7]]) as u64;
                    let lba = u64::from_le_bytes(d[8..16].try_into().unwrap_or([0; 8]));
                    transfer(cpu, host, drive, lba, count, (seg << 4) + off, total, ah == 0x43)
                }
            }
            (0x48, Some(total)) => {
                let at = cpu.seg[DS as usize].base + cpu.reg::<2>(reg::RSI);
                let mut p = [0u8; 0x1a];
                p[0..2].copy_from_slice(&0x1au16.to_le_bytes());
                p[2..4].copy_from_slice(&2u16.to_le_bytes()); // CHS info valid
                let cyls = (total / (HEADS * SPT)).clamp(1, 1024) as u32;
                p[4..8].copy_from_slice(&cyls.to_le_bytes());
                p[8..12].copy_from_slice(&(HEADS as u32).to_le_bytes());
                p[12..16].copy_from_slice(&(SPT as u32).to_le_bytes());
                p[16..24].copy_from_slice(&total.to_le_bytes());
                p[24..26].copy_from_slice(&512u16.to_le_bytes());
                let _ = cpu.mem.load(at, &p);
                Ok(())
            }
            _ => Err(status::BAD_COMMAND),
        };
        let code = match result {
            Ok(()) => status::OK,
            Err(e) => e,
        };
        cpu.set_reg::<1>(16 + reg::RAX, code as u64);
        let _ = cpu.mem.load(0x474, &[code]);
        set_flag(cpu, CF, code != status::OK);
    }
}

/// Moves `count` sectors between disk and guest memory at physical `buf`.
#[allow(clippy::too_many_arguments)]
fn transfer(cpu: &mut Cpu, host: &mut dyn BiosHost, drive: u8, lba: u64, count: u64, buf: u64, total: u64, write: bool) -> Result<(), u8> {
    if lba.checked_add(count).is_none_or(|end| end > total) {
        return Err(status::SECTOR_NOT_FOUND);
    }
    let mut sector = [0u8; 512];
    for i in 0..count {
        let at = buf + i * 512;
        if write {
            cpu.mem.read(at, &mut sector).map_err(|_| status::WRITE_ERROR)?;
            if !host.disk_write(drive, lba + i, &sector) {
                return Err(status::WRITE_ERROR);
            }
        } else {
            if !host.disk_read(drive, lba + i, &mut sector) {
                return Err(status::READ_ERROR);
            }
            cpu.mem.load(at, &sector).map_err(|_| status::READ_ERROR)?;
            cpu.invalidate_code(at, 512);
        }
    }
    Ok(())
}

fn ah(cpu: &Cpu) -> u8 {
    cpu.reg::<1>(16 + reg::RAX) as u8
}

/// Sets a flag in the FLAGS image the stub's IRET will restore (SS:SP+4).
fn set_flag(cpu: &mut Cpu, bit: u64, on: bool) {
    let at = cpu.seg[SS as usize].base + (cpu.gpr[reg::RSP as usize] & 0xffff) + 4;
    let mut b = [0u8; 2];
    if cpu.mem.read(at, &mut b).is_ok() {
        let mut f = u16::from_le_bytes(b);
        if on {
            f |= bit as u16;
        } else {
            f &= !(bit as u16);
        }
        let _ = cpu.mem.load(at, &f.to_le_bytes());
    }
}

fn bcd(v: u64) -> u64 {
    ((v / 10 % 10) << 4) | (v % 10)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20454), (2026, 1, 1));
        assert_eq!(civil_from_days(11016), (2000, 2, 29));
    }

    #[test]
    fn e820_covers_memory() {
        let b = Bios::new(256 << 20);
        let m = b.e820();
        assert_eq!(m.last().unwrap(), &(0x10_0000, (256 << 20) - 0x10_0000, 1));
        assert_eq!(m[0], (0, 0x9fc00, 1));
    }
}
