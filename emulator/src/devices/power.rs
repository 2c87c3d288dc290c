//! Power-off, reset, exit and debug ports the guest (and test kernels) use to talk to the
//! machine:
//! * 0x604-0x605: QEMU's ACPI PM1a control register (16 bits). Writing SLP_EN (bit 13) with
//!   SLP_TYP (bits 12-10) = 0, QEMU's S5 sleep type, requests power-off — this is what
//!   Pintos does with `outw(0x604, 0x2000)`. SLP_EN is write-only and reads 0; the other
//!   bits are stored. Byte writes to 0x604/0x605 update the matching half.
//! * 0x8900: the Bochs/QEMU shutdown port: the bytes "Shutdown" written in sequence request
//!   power-off (a wrong byte restarts the match, an 'S' starts a new one).
//! * 0x501: QEMU's isa-debug-exit: writing value v requests exit with status (v << 1) | 1,
//!   the status QEMU exits with (v is the value as written, of the access's size).
//! * 0xCF9: the PC reset control register: writing with bit 2 (RST_CPU) set requests a
//!   reset; the other bits are stored (bit 1 SYS_RST selects a hard reset on chipsets).
//! * 0x80: POST code, the last value written is kept (and read back).
//! * 0xE9: Bochs debug console: written bytes are collected for the machine; reads return
//!   0xE9, the value Bochs and QEMU use to announce the port.
//!
//! Only the first request is kept until the machine takes it with [`Power::take_request`]:
//! once the guest asked to stop, later requests in the same run don't change the outcome.
//! Wide accesses to 8-bit ports are split into bytes at consecutive ports; 0x604 takes 1-
//! and 2-byte (and 4-byte, low half) accesses as a 16-bit register.

use super::{read_split, write_split, PortDevice};

pub const PORT_PM1A_CNT: u16 = 0x604;
pub const PORT_SHUTDOWN: u16 = 0x8900;
pub const PORT_DEBUG_EXIT: u16 = 0x501;
pub const PORT_RESET_CONTROL: u16 = 0xCF9;
pub const PORT_POST: u16 = 0x80;
pub const PORT_DEBUG_CONSOLE: u16 = 0xE9;

const PM1_SLP_EN: u16 = 1 << 13;
const PM1_SLP_TYP_MASK: u16 = 7 << 10;
/// The SLP_TYP value QEMU's firmware tables give S5 (soft off).
const PM1_SLP_TYP_S5: u16 = 0;
const RCR_RST_CPU: u8 = 0x04;
const SHUTDOWN_STRING: &[u8; 8] = b"Shutdown";
const DEBUG_CONSOLE_ID: u8 = 0xE9;

/// What the guest asked the machine to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PowerRequest {
    PowerOff,
    /// isa-debug-exit: the process exit status QEMU would report.
    Exit(u32),
    Reset,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Power {
    /// PM1a control as stored (SLP_EN never kept).
    pub pm1a_cnt: u16,
    /// How many bytes of "Shutdown" have been matched.
    pub shutdown_matched: u8,
    pub reset_control: u8,
    pub post_code: u8,
    /// Bytes written to 0xE9 not yet taken.
    pub debug_output: Vec<u8>,
    pub request: Option<PowerRequest>,
    pub misses: u64,
}

impl Default for Power {
    fn default() -> Self {
        Self::new()
    }
}

impl Power {
    pub fn new() -> Power {
        Power {
            pm1a_cnt: 0,
            shutdown_matched: 0,
            reset_control: 0,
            post_code: 0,
            debug_output: Vec::new(),
            request: None,
            misses: 0,
        }
    }

    /// Clears the registers; collected debug output and an untaken request are kept (they
    /// belong to the machine).
    pub fn reset(&mut self) {
        let debug_output = std::mem::take(&mut self.debug_output);
        let request = self.request;
        *self = Power { debug_output, request, ..Power::new() };
    }

    /// The guest's first pending request, if any.
    pub fn take_request(&mut self) -> Option<PowerRequest> {
        self.request.take()
    }

    /// Bytes written to the 0xE9 debug console since the last call.
    pub fn take_debug_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.debug_output)
    }

    fn raise(&mut self, r: PowerRequest) {
        if self.request.is_none() {
            self.request = Some(r);
        }
    }

    fn write_pm1a(&mut self, v: u16) {
        if v & PM1_SLP_EN != 0 && v & PM1_SLP_TYP_MASK == PM1_SLP_TYP_S5 {
            self.raise(PowerRequest::PowerOff);
        }
        self.pm1a_cnt = v & !PM1_SLP_EN;
    }

    fn shutdown_byte(&mut self, b: u8) {
        let i = self.shutdown_matched as usize;
        if b == SHUTDOWN_STRING[i] {
            self.shutdown_matched += 1;
            if self.shutdown_matched as usize == SHUTDOWN_STRING.len() {
                self.shutdown_matched = 0;
                self.raise(PowerRequest::PowerOff);
            }
        } else {
            self.shutdown_matched = (b == SHUTDOWN_STRING[0]) as u8;
        }
    }

    fn read8(&mut self, port: u16) -> u8 {
        match port {
            PORT_PM1A_CNT => self.pm1a_cnt as u8,
            p if p == PORT_PM1A_CNT + 1 => (self.pm1a_cnt >> 8) as u8,
            PORT_RESET_CONTROL => self.reset_control,
            PORT_POST => self.post_code,
            PORT_DEBUG_CONSOLE => DEBUG_CONSOLE_ID,
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        match port {
            PORT_PM1A_CNT => self.write_pm1a((self.pm1a_cnt & 0xFF00) | v as u16),
            p if p == PORT_PM1A_CNT + 1 => self.write_pm1a((self.pm1a_cnt & 0x00FF) | (v as u16) << 8),
            PORT_SHUTDOWN => self.shutdown_byte(v),
            PORT_DEBUG_EXIT => self.raise(PowerRequest::Exit(((v as u32) << 1) | 1)),
            PORT_RESET_CONTROL => {
                if v & RCR_RST_CPU != 0 {
                    self.raise(PowerRequest::Reset);
                }
                self.reset_control = v & !RCR_RST_CPU;
            }
            PORT_POST => self.post_code = v,
            PORT_DEBUG_CONSOLE => self.debug_output.push(v),
            _ => self.misses += 1,
        }
    }
}

impl PortDevice for Power {
    fn read(&mut self, port: u16, size: u8) -> u32 {
        if port == PORT_PM1A_CNT && size >= 2 {
            return self.pm1a_cnt as u32;
        }
        read_split(port, size, |p| self.read8(p))
    }

    fn write(&mut self, port: u16, size: u8, value: u32) {
        match port {
            PORT_PM1A_CNT if size >= 2 => self.write_pm1a(value as u16),
            // isa-debug-exit takes the whole value written.
            PORT_DEBUG_EXIT => {
                let bits = 8 * super::access_bytes(size);
                let v = if bits >= 32 { value } else { value & ((1 << bits) - 1) };
                self.raise(PowerRequest::Exit(v.wrapping_shl(1) | 1));
            }
            _ => write_split(port, size, value, |p, v| self.write8(p, v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pm1a_word_write_0x2000_powers_off() {
        let mut p = Power::new();
        p.write(0x604, 2, 0x2000);
        assert_eq!(p.take_request(), Some(PowerRequest::PowerOff));
        assert_eq!(p.take_request(), None);
    }

    #[test]
    fn test_pm1a_other_sleep_type_does_not_power_off() {
        let mut p = Power::new();
        p.write(0x604, 2, 0x2000 | (5 << 10));
        assert_eq!(p.take_request(), None);
        p.write(0x604, 2, 0x0001);
        assert_eq!(p.take_request(), None);
        assert_eq!(p.read(0x604, 2), 0x0001);
    }

    #[test]
    fn test_pm1a_byte_writes_assemble_register() {
        let mut p = Power::new();
        p.write(0x604, 1, 0x00);
        p.write(0x605, 1, 0x20);
        assert_eq!(p.take_request(), Some(PowerRequest::PowerOff));
        assert_eq!(p.read(0x604, 2) & 0x2000, 0, "SLP_EN reads 0");
    }

    #[test]
    fn test_shutdown_string_powers_off() {
        let mut p = Power::new();
        for &b in b"ShutShutdown" {
            assert_eq!(p.request, None);
            p.write(0x8900, 1, b as u32);
        }
        assert_eq!(p.take_request(), Some(PowerRequest::PowerOff));
    }

    #[test]
    fn test_shutdown_string_mismatch_restarts() {
        let mut p = Power::new();
        for &b in b"Shutdxwn" {
            p.write(0x8900, 1, b as u32);
        }
        assert_eq!(p.take_request(), None);
    }

    #[test]
    fn test_debug_exit_reports_shifted_status() {
        let mut p = Power::new();
        p.write(0x501, 1, 0x10);
        assert_eq!(p.take_request(), Some(PowerRequest::Exit(0x21)));
        p.write(0x501, 4, 0x1234);
        assert_eq!(p.take_request(), Some(PowerRequest::Exit(0x2469)));
    }

    #[test]
    fn test_first_request_wins() {
        let mut p = Power::new();
        p.write(0x501, 1, 0);
        p.write(0x604, 2, 0x2000);
        assert_eq!(p.take_request(), Some(PowerRequest::Exit(1)));
        assert_eq!(p.take_request(), None);
    }

    #[test]
    fn test_reset_control_rst_cpu_requests_reset() {
        let mut p = Power::new();
        p.write(0xcf9, 1, 0x02);
        assert_eq!(p.take_request(), None);
        p.write(0xcf9, 1, 0x06);
        assert_eq!(p.take_request(), Some(PowerRequest::Reset));
        assert_eq!(p.read(0xcf9, 1), 0x02);
    }

    #[test]
    fn test_post_code_keeps_last_value() {
        let mut p = Power::new();
        p.write(0x80, 1, 0x12);
        p.write(0x80, 1, 0x34);
        assert_eq!(p.post_code, 0x34);
        assert_eq!(p.read(0x80, 1), 0x34);
    }

    #[test]
    fn test_debug_console_collects_bytes() {
        let mut p = Power::new();
        for &b in b"ok\n" {
            p.write(0xe9, 1, b as u32);
        }
        assert_eq!(p.take_debug_output(), b"ok\n");
        assert!(p.take_debug_output().is_empty());
        assert_eq!(p.read(0xe9, 1), 0xe9);
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut p = Power::new();
        assert_eq!(p.read(0x8901, 1), 0xff);
        p.write(0x606, 1, 0);
        assert_eq!(p.misses, 2);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut p = Power::new();
        let ports = [0x604, 0x605, 0x8900, 0x501, 0xcf9, 0x80, 0xe9];
        super::super::testutil::hammer(&mut p, &ports, 0x604, 30000, |p, _| {
            p.take_request();
            p.take_debug_output();
        });
    }
}
