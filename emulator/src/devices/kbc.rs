//! Intel 8042 keyboard controller (0x60 data, 0x64 status/command) with an attached MF2
//! keyboard that answers commands but never has key presses, plus System Control Port A
//! (port 0x92, "fast A20").
//!
//! Facts from the 8042 / PC AT keyboard controller documentation this model relies on:
//! * Status (read 0x64): OBF (0) output buffer full, IBF (1) input buffer full, SYS (2)
//!   system flag (command byte bit 2), A2 (3) last write was to 0x64, INH (4) 1 = keyboard
//!   not inhibited, AUXB (5) the output byte is from the auxiliary device, timeout (6),
//!   parity error (7).
//! * Command byte (controller RAM byte 0, read with 0x20, written with 0x60): INT (0) IRQ1
//!   on keyboard output, INT2 (1) IRQ12 on aux output, SYS (2), keyboard disable (4), aux
//!   disable (5), XLAT (6). Commands 0x20-0x3F / 0x60-0x7F read / write RAM bytes 0-31.
//! * 0xAA self-test answers 0x55; 0xAB keyboard interface test answers 0x00 (no error);
//!   0xA9 aux interface test answers 0x00; 0xAD / 0xAE disable / enable the keyboard
//!   (command byte bit 4); 0xA7 / 0xA8 disable / enable aux (bit 5).
//! * 0xD0 reads the output port; 0xD1 writes it with the next byte written to 0x60. Output
//!   port bit 0 is the CPU reset line (active low: writing 0 resets the CPU), bit 1 the A20
//!   gate, bits 4 and 5 the OBF (IRQ1) and aux OBF (IRQ12) lines.
//! * 0xD2 / 0xD3 place the next data byte in the output buffer as if from the keyboard /
//!   aux device; 0xD4 sends it to the aux device (none is attached here: it is dropped).
//! * 0xF0-0xFF pulse output port bits 3-0 low for those bits that are 0 in the command:
//!   bit 0 is reset, so 0xFE (and any even 0xFx) requests a CPU reset.
//! * Some controllers accept 0xDD / 0xDF to disable / enable A20; accepted here.
//! * Keyboard commands (bytes written to 0x60 with no controller command pending) are
//!   acknowledged with 0xFA: 0xFF reset (0xFA, then 0xAA self-test passed), 0xF2 identify
//!   (0xFA 0xAB 0x83, untranslated), 0xEE echo (0xEE), 0xED / 0xF0 / 0xF3 take an argument
//!   byte that is acknowledged too (0xF0 0x00 reports the scan code set), 0xF4 / 0xF5 enable /
//!   disable scanning, 0xFE resend (repeats the last byte sent). Unknown bytes get 0xFE.
//! * Port 0x92: bit 1 A20 gate, bit 0 fast reset (a 0 → 1 transition resets the CPU).
//!
//! Decisions: the controller processes every byte at once (IBF always reads 0). A20 is
//! enabled when either the 8042 output port bit 1 or port 0x92 bit 1 enables it (both gate
//! the same A20 line on a PC; we OR them so neither path can undo the other). The power-on
//! state is the one QEMU with its BIOS presents: output port 0x03 (reset inactive, A20
//! enabled), command byte 0x45 (XLAT, SYS, INT), port 0x92 0x00. A reset request is
//! reported by [`Kbc::take_reset_request`]; the machine performs it.
//!
//! Wide accesses are split into byte accesses at consecutive ports.

#[cfg(test)]
use super::PortDevice;
use std::collections::VecDeque;



pub const PORT_DATA: u16 = 0x60;
pub const PORT_STATUS_CMD: u16 = 0x64;
pub const PORT_SYSCTRL_A: u16 = 0x92;

const ST_OBF: u8 = 0x01;
const ST_SYS: u8 = 0x04;
const ST_A2: u8 = 0x08;
const ST_NOT_INHIBITED: u8 = 0x10;
const ST_AUXB: u8 = 0x20;

const CB_INT: u8 = 0x01;
const CB_INT2: u8 = 0x02;
const CB_SYS: u8 = 0x04;
const CB_KBD_DISABLE: u8 = 0x10;
const CB_AUX_DISABLE: u8 = 0x20;

const OP_RESET: u8 = 0x01;
const OP_A20: u8 = 0x02;
const OP_OBF: u8 = 0x10;
const OP_AUX_OBF: u8 = 0x20;

const P92_RESET: u8 = 0x01;
const P92_A20: u8 = 0x02;

const CMD_READ_RAM: u8 = 0x20;
const CMD_WRITE_RAM: u8 = 0x60;
const CMD_DISABLE_AUX: u8 = 0xA7;
const CMD_ENABLE_AUX: u8 = 0xA8;
const CMD_TEST_AUX: u8 = 0xA9;
const CMD_SELF_TEST: u8 = 0xAA;
const CMD_TEST_KBD: u8 = 0xAB;
const CMD_DISABLE_KBD: u8 = 0xAD;
const CMD_ENABLE_KBD: u8 = 0xAE;
const CMD_READ_INPUT: u8 = 0xC0;
const CMD_READ_OUTPUT: u8 = 0xD0;
const CMD_WRITE_OUTPUT: u8 = 0xD1;
const CMD_WRITE_KBD_OUT: u8 = 0xD2;
const CMD_WRITE_AUX_OUT: u8 = 0xD3;
const CMD_WRITE_AUX: u8 = 0xD4;
const CMD_A20_OFF: u8 = 0xDD;
const CMD_A20_ON: u8 = 0xDF;
const CMD_READ_TEST: u8 = 0xE0;
const CMD_PULSE: u8 = 0xF0;

const SELF_TEST_OK: u8 = 0x55;
const KBD_ACK: u8 = 0xFA;
const KBD_RESEND: u8 = 0xFE;
const KBD_BAT_OK: u8 = 0xAA;
const KBD_ECHO: u8 = 0xEE;
const KBD_SET_LEDS: u8 = 0xED;
const KBD_SCANCODE_SET: u8 = 0xF0;
const KBD_IDENTIFY: u8 = 0xF2;
const KBD_TYPEMATIC: u8 = 0xF3;
const KBD_ENABLE: u8 = 0xF4;
const KBD_DISABLE: u8 = 0xF5;
const KBD_RESEND_CMD: u8 = 0xFE;
const KBD_RESET: u8 = 0xFF;

/// What the next byte written to port 0x60 means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DataTarget {
    Keyboard,
    /// Controller RAM byte n (0 = command byte).
    Ram(u8),
    OutputPort,
    KeyboardOutput,
    AuxOutput,
    Aux,
    /// Argument of keyboard command (0xED, 0xF0 or 0xF3).
    KeyboardArg(u8),
}

/// A byte in the output buffer and whether it came from the aux device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutByte {
    pub value: u8,
    pub aux: bool,
}

/// The controller, its keyboard and port 0x92.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kbc {
    /// Controller RAM; byte 0 is the command byte.
    pub ram: [u8; 32],
    pub output_port: u8,
    pub port92: u8,
    /// Bytes waiting to be read from 0x60, oldest first.
    pub out: VecDeque<OutByte>,
    /// The last byte read from 0x60 (read again when the buffer is empty).
    pub last_out: u8,
    pub target: DataTarget,
    /// Status A2: the last write went to 0x64.
    pub last_was_command: bool,
    pub scanning: bool,
    pub scancode_set: u8,
    /// The keyboard's last byte, for its resend command.
    pub kbd_last: u8,
    pub reset_request: bool,
    pub misses: u64,
}

impl Default for Kbc {
    fn default() -> Self {
        Self::new()
    }
}

impl Kbc {
    pub fn new() -> Kbc {
        let mut ram = [0u8; 32];
        ram[0] = 0x45;
        Kbc {
            ram,
            output_port: OP_RESET | OP_A20,
            port92: 0,
            out: VecDeque::new(),
            last_out: 0,
            target: DataTarget::Keyboard,
            last_was_command: false,
            scanning: true,
            scancode_set: 2,
            kbd_last: 0,
            reset_request: false,
            misses: 0,
        }
    }

    pub fn reset(&mut self) {
        *self = Kbc::new();
    }

    /// The A20 line: enabled if the 8042 output port or port 0x92 enables it.
    pub fn a20_enabled(&self) -> bool {
        self.output_port & OP_A20 != 0 || self.port92 & P92_A20 != 0
    }

    /// Sets the gate as the BIOS's int 0x15 A20 functions do (through port 0x92 on
    /// current PCs).
    pub fn set_a20(&mut self, on: bool) {
        if on {
            self.port92 |= P92_A20;
        } else {
            self.port92 &= !P92_A20;
            self.output_port &= !OP_A20;
        }
    }

    /// Whether the guest asked for a CPU reset since the last call.
    pub fn take_reset_request(&mut self) -> bool {
        std::mem::take(&mut self.reset_request)
    }

    /// IRQ1: a keyboard byte is waiting and the command byte enables its interrupt.
    pub fn irq1(&self) -> bool {
        self.out.front().is_some_and(|b| !b.aux) && self.ram[0] & CB_INT != 0
    }

    /// IRQ12: an aux byte is waiting and its interrupt is enabled.
    pub fn irq12(&self) -> bool {
        self.out.front().is_some_and(|b| b.aux) && self.ram[0] & CB_INT2 != 0
    }

    pub fn command_byte(&self) -> u8 {
        self.ram[0]
    }

    fn push(&mut self, value: u8) {
        self.out.push_back(OutByte { value, aux: false });
    }

    fn kbd_send(&mut self, value: u8) {
        self.kbd_last = value;
        self.push(value);
    }

    fn status(&self) -> u8 {
        let mut s = ST_NOT_INHIBITED;
        if let Some(b) = self.out.front() {
            s |= ST_OBF;
            if b.aux {
                s |= ST_AUXB;
            }
        }
        if self.ram[0] & CB_SYS != 0 {
            s |= ST_SYS;
        }
        if self.last_was_command {
            s |= ST_A2;
        }
        s
    }

    fn read_output_port(&self) -> u8 {
        let mut v = self.output_port & !(OP_OBF | OP_AUX_OBF);
        match self.out.front() {
            Some(b) if b.aux => v |= OP_AUX_OBF,
            Some(_) => v |= OP_OBF,
            None => {}
        }
        v
    }

    fn write_output_port(&mut self, v: u8) {
        self.output_port = v;
        if v & OP_RESET == 0 {
            self.reset_request = true;
        }
    }

    fn command(&mut self, c: u8) {
        self.target = DataTarget::Keyboard;
        match c {
            0x20..=0x3F => self.push(self.ram[(c - CMD_READ_RAM) as usize]),
            0x60..=0x7F => self.target = DataTarget::Ram(c - CMD_WRITE_RAM),
            CMD_DISABLE_AUX => self.ram[0] |= CB_AUX_DISABLE,
            CMD_ENABLE_AUX => self.ram[0] &= !CB_AUX_DISABLE,
            CMD_TEST_AUX | CMD_TEST_KBD => self.push(0x00),
            CMD_SELF_TEST => {
                self.ram[0] |= CB_SYS;
                self.push(SELF_TEST_OK);
            }
            CMD_DISABLE_KBD => self.ram[0] |= CB_KBD_DISABLE,
            CMD_ENABLE_KBD => self.ram[0] &= !CB_KBD_DISABLE,
            // Input port: bit 7 keyboard not inhibited, bit 5 no manufacturing jumper.
            CMD_READ_INPUT => self.push(0xA0),
            CMD_READ_OUTPUT => self.push(self.read_output_port()),
            CMD_WRITE_OUTPUT => self.target = DataTarget::OutputPort,
            CMD_WRITE_KBD_OUT => self.target = DataTarget::KeyboardOutput,
            CMD_WRITE_AUX_OUT => self.target = DataTarget::AuxOutput,
            CMD_WRITE_AUX => self.target = DataTarget::Aux,
            CMD_A20_OFF => self.output_port &= !OP_A20,
            CMD_A20_ON => self.output_port |= OP_A20,
            CMD_READ_TEST => self.push(0x00),
            CMD_PULSE..=0xFF => {
                if c & OP_RESET == 0 {
                    self.reset_request = true;
                }
            }
            _ => self.misses += 1,
        }
    }

    fn data(&mut self, v: u8) {
        let target = std::mem::replace(&mut self.target, DataTarget::Keyboard);
        match target {
            DataTarget::Keyboard => self.keyboard_command(v),
            DataTarget::Ram(n) => self.ram[(n & 31) as usize] = v,
            DataTarget::OutputPort => self.write_output_port(v),
            DataTarget::KeyboardOutput => self.push(v),
            DataTarget::AuxOutput => self.out.push_back(OutByte { value: v, aux: true }),
            DataTarget::Aux => {}
            DataTarget::KeyboardArg(cmd) => {
                self.kbd_send(KBD_ACK);
                if cmd == KBD_SCANCODE_SET {
                    match v {
                        0 => self.kbd_send(self.scancode_set),
                        1..=3 => self.scancode_set = v,
                        _ => {}
                    }
                }
            }
        }
    }

    fn keyboard_command(&mut self, v: u8) {
        match v {
            KBD_RESET => {
                self.scanning = true;
                self.scancode_set = 2;
                self.kbd_send(KBD_ACK);
                self.kbd_send(KBD_BAT_OK);
            }
            KBD_IDENTIFY => {
                self.kbd_send(KBD_ACK);
                self.kbd_send(0xAB);
                self.kbd_send(0x83);
            }
            KBD_ECHO => self.kbd_send(KBD_ECHO),
            KBD_SET_LEDS | KBD_SCANCODE_SET | KBD_TYPEMATIC => {
                self.kbd_send(KBD_ACK);
                self.target = DataTarget::KeyboardArg(v);
            }
            KBD_ENABLE => {
                self.scanning = true;
                self.kbd_send(KBD_ACK);
            }
            KBD_DISABLE => {
                self.scanning = false;
                self.kbd_send(KBD_ACK);
            }
            KBD_RESEND_CMD => self.push(self.kbd_last),
            // Set defaults and the set-all / set-key typematic/make/break commands.
            0xF6..=0xFD => self.kbd_send(KBD_ACK),
            _ => self.kbd_send(KBD_RESEND),
        }
    }

    fn read8(&mut self, port: u16) -> u8 {
        match port {
            PORT_DATA => {
                if let Some(b) = self.out.pop_front() {
                    self.last_out = b.value;
                }
                self.last_out
            }
            PORT_STATUS_CMD => self.status(),
            PORT_SYSCTRL_A => self.port92,
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        match port {
            PORT_DATA => {
                self.last_was_command = false;
                self.data(v);
            }
            PORT_STATUS_CMD => {
                self.last_was_command = true;
                self.command(v);
            }
            PORT_SYSCTRL_A => {
                if self.port92 & P92_RESET == 0 && v & P92_RESET != 0 {
                    self.reset_request = true;
                }
                self.port92 = v;
            }
            _ => self.misses += 1,
        }
    }
}

byte_port_device!(Kbc);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pintos_a20_sequence_enables_a20() {
        let mut k = Kbc::new();
        k.write_output_port(OP_RESET); // start with A20 off
        assert!(!k.a20_enabled());
        assert_eq!(k.read(0x64, 1) & 0x02, 0, "input buffer empty");
        k.write(0x64, 1, 0xd1);
        assert_eq!(k.read(0x64, 1) & 0x02, 0);
        k.write(0x60, 1, 0xdf);
        assert!(k.a20_enabled());
        assert!(!k.take_reset_request());
    }

    #[test]
    fn test_power_on_a20_enabled() {
        assert!(Kbc::new().a20_enabled());
    }

    #[test]
    fn test_output_port_read_write() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xd1);
        k.write(0x60, 1, 0xcd);
        k.write(0x64, 1, 0xd0);
        assert_eq!(k.read(0x64, 1) & 0x01, 0x01);
        assert_eq!(k.read(0x60, 1), 0xcd);
        assert_eq!(k.read(0x64, 1) & 0x01, 0x00);
    }

    #[test]
    fn test_output_port_reset_bit_low_requests_reset() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xd1);
        k.write(0x60, 1, 0x02);
        assert!(k.take_reset_request());
        assert!(!k.take_reset_request());
    }

    #[test]
    fn test_pulse_output_line_fe_requests_reset() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xff);
        assert!(!k.take_reset_request());
        k.write(0x64, 1, 0xfe);
        assert!(k.take_reset_request());
    }

    #[test]
    fn test_command_byte_read_write() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0x20);
        assert_eq!(k.read(0x60, 1), 0x45);
        k.write(0x64, 1, 0x60);
        k.write(0x60, 1, 0x00);
        assert_eq!(k.command_byte(), 0);
        assert_eq!(k.read(0x64, 1) & 0x04, 0, "SYS follows the command byte");
    }

    #[test]
    fn test_self_test_answers_55() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xaa);
        assert_eq!(k.read(0x60, 1), 0x55);
    }

    #[test]
    fn test_interface_test_answers_00() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xab);
        assert_eq!(k.read(0x64, 1) & 1, 1);
        assert_eq!(k.read(0x60, 1), 0x00);
    }

    #[test]
    fn test_disable_enable_keyboard() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xad);
        assert_eq!(k.command_byte() & 0x10, 0x10);
        k.write(0x64, 1, 0xae);
        assert_eq!(k.command_byte() & 0x10, 0);
    }

    #[test]
    fn test_keyboard_commands_acknowledged() {
        let mut k = Kbc::new();
        k.write(0x60, 1, 0xf4);
        assert_eq!(k.read(0x60, 1), 0xfa);
        k.write(0x60, 1, 0xff);
        assert_eq!(k.read(0x60, 1), 0xfa);
        assert_eq!(k.read(0x60, 1), 0xaa);
        k.write(0x60, 1, 0xed);
        k.write(0x60, 1, 0x07);
        assert_eq!(k.read(0x60, 1), 0xfa);
        assert_eq!(k.read(0x60, 1), 0xfa);
        k.write(0x60, 1, 0xee);
        assert_eq!(k.read(0x60, 1), 0xee);
    }

    #[test]
    fn test_scancode_set_query() {
        let mut k = Kbc::new();
        k.write(0x60, 1, 0xf0);
        k.write(0x60, 1, 0x00);
        let got: Vec<u32> = (0..3).map(|_| k.read(0x60, 1)).collect();
        assert_eq!(got, [0xfa, 0xfa, 0x02]);
    }

    #[test]
    fn test_irq1_follows_output_buffer_and_int_bit() {
        let mut k = Kbc::new();
        assert!(!k.irq1());
        k.write(0x60, 1, 0xf4);
        assert!(k.irq1());
        k.read(0x60, 1);
        assert!(!k.irq1());
        k.write(0x64, 1, 0x60);
        k.write(0x60, 1, 0x44);
        k.write(0x60, 1, 0xf4);
        assert!(!k.irq1());
    }

    #[test]
    fn test_aux_output_sets_auxb() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xd3);
        k.write(0x60, 1, 0x12);
        assert_eq!(k.read(0x64, 1) & 0x21, 0x21);
        assert_eq!(k.read(0x60, 1), 0x12);
    }

    #[test]
    fn test_status_a2_tracks_last_port_written() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xae);
        assert_eq!(k.read(0x64, 1) & 0x08, 0x08);
        k.write(0x60, 1, 0xf4);
        assert_eq!(k.read(0x64, 1) & 0x08, 0);
    }

    #[test]
    fn test_empty_data_port_rereads_last_byte() {
        let mut k = Kbc::new();
        k.write(0x64, 1, 0xaa);
        k.read(0x60, 1);
        assert_eq!(k.read(0x60, 1), 0x55);
    }

    #[test]
    fn test_port92_a20_and_fast_reset() {
        let mut k = Kbc::new();
        k.write_output_port(OP_RESET);
        k.write(0x92, 1, 0x02);
        assert!(k.a20_enabled());
        assert!(!k.take_reset_request());
        assert_eq!(k.read(0x92, 1), 0x02);
        k.write(0x92, 1, 0x03);
        assert!(k.take_reset_request());
        k.write(0x92, 1, 0x03);
        assert!(!k.take_reset_request(), "only a 0 to 1 transition resets");
        k.write(0x92, 1, 0x00);
        assert!(!k.a20_enabled());
    }

    #[test]
    fn test_a20_is_or_of_both_gates() {
        let mut k = Kbc::new();
        k.write(0x92, 1, 0x00);
        assert!(k.a20_enabled(), "8042 output port still enables A20");
        k.write(0x64, 1, 0xdd);
        assert!(!k.a20_enabled());
        k.write(0x64, 1, 0xdf);
        assert!(k.a20_enabled());
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut k = Kbc::new();
        assert_eq!(k.read(0x61, 1), 0xff);
        k.write(0x65, 1, 0);
        assert_eq!(k.misses, 2);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut k = Kbc::new();
        super::super::testutil::hammer(&mut k, &[0x60, 0x64, 0x92], 0x8042, 30000, |k, _| {
            k.take_reset_request();
            let _ = (k.irq1(), k.irq12(), k.a20_enabled());
            if k.out.len() > 100 {
                k.out.clear();
            }
        });
    }
}
