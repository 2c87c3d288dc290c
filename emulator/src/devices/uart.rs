//! National Semiconductor 16550A UART (COM1 at 0x3f8 on IRQ4; the same type serves COM2 at
//! 0x2f8 on IRQ3).
//!
//! Facts from the 16550A datasheet this model relies on:
//! * Registers by offset: 0 RBR (read) / THR (write), 1 IER, 2 IIR (read) / FCR (write),
//!   3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR. With LCR bit 7 (DLAB) set, offsets 0 and 1 are the
//!   divisor latch LSB and MSB.
//! * IIR bit 0 is 0 while an interrupt is pending; bits 3-1 identify the source in priority
//!   order: 011 receiver line status, 010 received data available, 110 character timeout,
//!   001 THR empty, 000 modem status. Bits 7-6 are both set when FCR bit 0 enables the FIFOs.
//! * The THRE interrupt is set when THR empties with IER bit 1 set (and when IER bit 1 is
//!   set while THR is already empty); it is cleared by reading IIR when THRE is the source,
//!   or by writing THR.
//! * FCR: bit 0 enables the FIFOs (changing it clears both), bits 1 and 2 clear the receive
//!   and transmit FIFOs, bits 7-6 choose the receive trigger level (1, 4, 8, 14 bytes).
//! * LSR: DR (0), OE (1), PE (2), FE (3), BI (4), THRE (5), TEMT (6), error in FIFO (7);
//!   reading LSR clears bits 1-4.
//! * MCR: DTR (0), RTS (1), OUT1 (2), OUT2 (3), LOOP (4). In loopback the transmitter feeds
//!   the receiver, the serial input is ignored, and the modem inputs read the outputs:
//!   CTS = RTS, DSR = DTR, RI = OUT1, DCD = OUT2. The output pins are forced inactive.
//! * MSR bits 3-0 are the deltas of DCD, RI (trailing edge), DSR and CTS, cleared by reading
//!   MSR; bits 7-4 are DCD, RI, DSR, CTS.
//! * On a PC the interrupt reaches the PIC only while OUT2 is set (it enables the IRQ
//!   driver), so [`Uart::irq`] is the interrupt output gated by OUT2 (and off in loopback,
//!   where the OUT2 pin is inactive).
//!
//! Timing decisions (deterministic, documented): transmission completes instantly in
//! virtual time — a byte written to THR goes straight to the output buffer the machine
//! drains with [`Uart::take_output`], so THRE and TEMT always read 1. Received bytes come
//! from a host-side queue the machine fills with [`Uart::push_input`]; they move into the
//! receive FIFO (16 bytes in FIFO mode, the 1-byte RBR otherwise) as soon as there is room,
//! so input never overruns. With the FIFO enabled and fewer bytes than the trigger level
//! waiting, the character-timeout interrupt is reported at once (there is no character
//! time to wait for in a model without line timing).
//!
//! Wide accesses are split into byte accesses at consecutive ports.

#[cfg(test)]
use super::PortDevice;
use std::collections::VecDeque;



pub const COM1_BASE: u16 = 0x3f8;
pub const COM2_BASE: u16 = 0x2f8;
pub const COM1_IRQ: u8 = 4;
pub const COM2_IRQ: u8 = 3;

const REG_DATA: u16 = 0;
const REG_IER: u16 = 1;
const REG_IIR_FCR: u16 = 2;
const REG_LCR: u16 = 3;
const REG_MCR: u16 = 4;
const REG_LSR: u16 = 5;
const REG_MSR: u16 = 6;
const REG_SCR: u16 = 7;

const IER_RDA: u8 = 0x01;
const IER_THRE: u8 = 0x02;
const IER_RLS: u8 = 0x04;
const IER_MS: u8 = 0x08;
const IER_MASK: u8 = 0x0F;

const IIR_NONE: u8 = 0x01;
const IIR_RLS: u8 = 0x06;
const IIR_RDA: u8 = 0x04;
const IIR_TIMEOUT: u8 = 0x0C;
const IIR_THRE: u8 = 0x02;
const IIR_MS: u8 = 0x00;
const IIR_FIFO_ENABLED: u8 = 0xC0;

const FCR_ENABLE: u8 = 0x01;
const FCR_CLEAR_RX: u8 = 0x02;
const FCR_CLEAR_TX: u8 = 0x04;
const FCR_TRIGGER: u8 = 0xC0;

const LCR_DLAB: u8 = 0x80;

const MCR_DTR: u8 = 0x01;
const MCR_RTS: u8 = 0x02;
const MCR_OUT1: u8 = 0x04;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
const MCR_MASK: u8 = 0x1F;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_ERRORS: u8 = 0x1E;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MSR_CTS: u8 = 0x10;
const MSR_DSR: u8 = 0x20;
const MSR_RI: u8 = 0x40;
const MSR_DCD: u8 = 0x80;
const MSR_TERI: u8 = 0x04;

const FIFO_SIZE: usize = 16;

/// One 16550A.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Uart {
    /// First port (0x3f8 for COM1).
    pub base: u16,
    pub ier: u8,
    /// FCR bit 0 and the trigger bits 7-6 (bits 1-2 self-clear).
    pub fcr: u8,
    pub lcr: u8,
    pub mcr: u8,
    /// LSR error bits 1-4 waiting to be read.
    pub lsr_errors: u8,
    /// MSR delta bits 3-0.
    pub msr_delta: u8,
    /// Modem inputs from the (virtual) cable, MSR bit positions 7-4: DCD, DSR and CTS
    /// asserted, as a connected terminal would.
    pub modem_inputs: u8,
    pub scr: u8,
    pub dll: u8,
    pub dlm: u8,
    /// Receive FIFO (capacity 16 with the FIFO enabled, 1 otherwise).
    pub rx: VecDeque<u8>,
    /// Last byte read from RBR (an empty RBR reads it again).
    pub last_rx: u8,
    /// Bytes from the host not yet in the receive FIFO.
    pub input: VecDeque<u8>,
    /// Transmitted bytes not yet drained by the machine.
    pub output: Vec<u8>,
    /// THRE interrupt pending (before IER gating).
    pub thre_pending: bool,
    pub misses: u64,
}

impl Uart {
    /// A 16550A at `base` in its master-reset state, with the divisor and line format a
    /// PC BIOS sets (9600 baud: divisor 12; 8N1: LCR 0x03).
    pub fn new(base: u16) -> Uart {
        Uart {
            base,
            ier: 0,
            fcr: 0,
            lcr: 0x03,
            mcr: 0,
            lsr_errors: 0,
            msr_delta: 0,
            modem_inputs: MSR_DCD | MSR_DSR | MSR_CTS,
            scr: 0,
            dll: 12,
            dlm: 0,
            rx: VecDeque::new(),
            last_rx: 0,
            input: VecDeque::new(),
            output: Vec::new(),
            thre_pending: false,
            misses: 0,
        }
    }

    pub fn com1() -> Uart {
        Uart::new(COM1_BASE)
    }

    pub fn com2() -> Uart {
        Uart::new(COM2_BASE)
    }

    /// Master reset: registers back to reset values; pending host input and undrained
    /// output are kept (they belong to the host side).
    pub fn reset(&mut self) {
        let mut fresh = Uart::new(self.base);
        fresh.input = std::mem::take(&mut self.input);
        fresh.output = std::mem::take(&mut self.output);
        *self = fresh;
        self.fill_rx();
    }

    /// Bytes transmitted since the last call.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Queues bytes arriving on the serial line.
    pub fn push_input(&mut self, bytes: &[u8]) {
        self.input.extend(bytes.iter().copied());
        self.fill_rx();
    }

    /// The interrupt line as the PIC sees it (gated by OUT2).
    pub fn irq(&self) -> bool {
        self.mcr & MCR_OUT2 != 0 && self.mcr & MCR_LOOP == 0 && self.interrupt_id().is_some()
    }

    /// The divisor latch value.
    pub fn divisor(&self) -> u16 {
        u16::from_le_bytes([self.dll, self.dlm])
    }

    fn fifo_enabled(&self) -> bool {
        self.fcr & FCR_ENABLE != 0
    }

    fn loopback(&self) -> bool {
        self.mcr & MCR_LOOP != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_SIZE
        } else {
            1
        }
    }

    fn trigger_level(&self) -> usize {
        [1, 4, 8, 14][(self.fcr >> 6) as usize]
    }

    fn fill_rx(&mut self) {
        if self.loopback() {
            return;
        }
        while self.rx.len() < self.rx_capacity() {
            match self.input.pop_front() {
                Some(b) => self.rx.push_back(b),
                None => break,
            }
        }
    }

    /// The identification code of the highest-priority pending interrupt.
    fn interrupt_id(&self) -> Option<u8> {
        if self.ier & IER_RLS != 0 && self.lsr_errors != 0 {
            Some(IIR_RLS)
        } else if self.ier & IER_RDA != 0 && !self.rx.is_empty() {
            if self.fifo_enabled() && self.rx.len() < self.trigger_level() {
                Some(IIR_TIMEOUT)
            } else {
                Some(IIR_RDA)
            }
        } else if self.ier & IER_THRE != 0 && self.thre_pending {
            Some(IIR_THRE)
        } else if self.ier & IER_MS != 0 && self.msr_delta != 0 {
            Some(IIR_MS)
        } else {
            None
        }
    }

    /// MSR bits 7-4 as the chip sees them now.
    fn modem_status(&self) -> u8 {
        if self.loopback() {
            let m = self.mcr;
            ((m & MCR_RTS) << 3) | ((m & MCR_DTR) << 5) | ((m & MCR_OUT1) << 4) | ((m & MCR_OUT2) << 4)
        } else {
            self.modem_inputs
        }
    }

    fn set_mcr(&mut self, v: u8) {
        let before = self.modem_status();
        let was_loop = self.loopback();
        self.mcr = v & MCR_MASK;
        let after = self.modem_status();
        let changed = before ^ after;
        // Deltas: CTS/DSR/DCD on any change, RI on its trailing edge.
        self.msr_delta |= (changed & (MSR_CTS | MSR_DSR | MSR_DCD)) >> 4;
        if before & MSR_RI != 0 && after & MSR_RI == 0 {
            self.msr_delta |= MSR_TERI;
        }
        if was_loop && !self.loopback() {
            self.fill_rx();
        }
    }

    fn transmit(&mut self, b: u8) {
        self.thre_pending = false;
        if self.loopback() {
            if self.rx.len() < self.rx_capacity() {
                self.rx.push_back(b);
            } else {
                self.lsr_errors |= LSR_OE;
            }
        } else {
            self.output.push(b);
        }
        // The shift register finishes at once, so THR is empty again.
        self.thre_pending = true;
    }

    fn read8(&mut self, port: u16) -> u8 {
        let Some(off) = port.checked_sub(self.base).filter(|&o| o < 8) else {
            self.misses += 1;
            return 0xFF;
        };
        let dlab = self.lcr & LCR_DLAB != 0;
        match off {
            REG_DATA if dlab => self.dll,
            REG_DATA => {
                if let Some(b) = self.rx.pop_front() {
                    self.last_rx = b;
                }
                self.fill_rx();
                self.last_rx
            }
            REG_IER if dlab => self.dlm,
            REG_IER => self.ier,
            REG_IIR_FCR => {
                let id = self.interrupt_id();
                if id == Some(IIR_THRE) {
                    self.thre_pending = false;
                }
                let fifo = if self.fifo_enabled() { IIR_FIFO_ENABLED } else { 0 };
                id.unwrap_or(IIR_NONE) | fifo
            }
            REG_LCR => self.lcr,
            REG_MCR => self.mcr,
            REG_LSR => {
                let mut v = LSR_THRE | LSR_TEMT | self.lsr_errors;
                if !self.rx.is_empty() {
                    v |= LSR_DR;
                }
                self.lsr_errors &= !LSR_ERRORS;
                v
            }
            REG_MSR => {
                let v = self.modem_status() | self.msr_delta;
                self.msr_delta = 0;
                v
            }
            _ => self.scr,
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        let Some(off) = port.checked_sub(self.base).filter(|&o| o < 8) else {
            self.misses += 1;
            return;
        };
        let dlab = self.lcr & LCR_DLAB != 0;
        match off {
            REG_DATA if dlab => self.dll = v,
            REG_DATA => self.transmit(v),
            REG_IER if dlab => self.dlm = v,
            REG_IER => {
                let old = self.ier;
                self.ier = v & IER_MASK;
                if old & IER_THRE == 0 && self.ier & IER_THRE != 0 {
                    // THR is always empty here: enabling the interrupt raises it.
                    self.thre_pending = true;
                }
            }
            REG_IIR_FCR => {
                if (v ^ self.fcr) & FCR_ENABLE != 0 {
                    self.rx.clear();
                }
                if v & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
                // FCR_CLEAR_TX: the transmit FIFO is always empty.
                let _ = FCR_CLEAR_TX;
                self.fcr = v & (FCR_ENABLE | FCR_TRIGGER);
                self.fill_rx();
            }
            REG_LCR => self.lcr = v,
            REG_MCR => self.set_mcr(v),
            // LSR and MSR writes are for factory test only; ignored.
            REG_LSR | REG_MSR => {}
            REG_SCR => self.scr = v,
            _ => self.misses += 1,
        }
    }
}

byte_port_device!(Uart);

#[cfg(test)]
mod tests {
    use super::*;

    const B: u16 = COM1_BASE;

    /// Pintos' serial_init + interrupt mode: 9600 8N1, FIFO off, OUT2.
    fn pintos_uart() -> Uart {
        let mut u = Uart::com1();
        u.write(B + 1, 1, 0);
        u.write(B + 2, 1, 0);
        u.write(B + 3, 1, 0x83);
        u.write(B, 1, 12);
        u.write(B + 1, 1, 0);
        u.write(B + 3, 1, 0x03);
        u.write(B + 4, 1, 0x08);
        u
    }

    #[test]
    fn test_dlab_selects_divisor_latch() {
        let mut u = pintos_uart();
        u.write(B + 3, 1, 0x83);
        u.write(B, 1, 0x01);
        u.write(B + 1, 1, 0x02);
        assert_eq!(u.divisor(), 0x0201);
        assert_eq!(u.read(B, 1), 0x01);
        assert_eq!(u.read(B + 1, 1), 0x02);
        assert!(u.take_output().is_empty());
        u.write(B + 3, 1, 0x03);
        assert_eq!(u.read(B + 1, 1), 0x00); // IER again
    }

    #[test]
    fn test_thr_write_goes_to_output() {
        let mut u = pintos_uart();
        u.write(B, 1, b'h' as u32);
        u.write(B, 1, b'i' as u32);
        assert_eq!(u.take_output(), b"hi");
        assert!(u.take_output().is_empty());
    }

    #[test]
    fn test_lsr_reports_thr_empty_and_data_ready() {
        let mut u = pintos_uart();
        assert_eq!(u.read(B + 5, 1), 0x60);
        u.push_input(b"x");
        assert_eq!(u.read(B + 5, 1), 0x61);
        assert_eq!(u.read(B, 1), b'x' as u32);
        assert_eq!(u.read(B + 5, 1), 0x60);
    }

    #[test]
    fn test_thre_interrupt_raised_when_enabled() {
        let mut u = pintos_uart();
        assert!(!u.irq());
        u.write(B + 1, 1, 0x02);
        assert!(u.irq());
        assert_eq!(u.read(B + 2, 1), 0x02);
    }

    #[test]
    fn test_iir_read_clears_thre_interrupt() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x02);
        assert_eq!(u.read(B + 2, 1), 0x02);
        assert_eq!(u.read(B + 2, 1), 0x01);
        assert!(!u.irq());
    }

    #[test]
    fn test_thr_write_rearms_thre_interrupt() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x02);
        u.read(B + 2, 1);
        u.write(B, 1, b'a' as u32);
        assert!(u.irq(), "THR emptied again after the instant transmission");
    }

    #[test]
    fn test_received_data_interrupt() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x01);
        assert!(!u.irq());
        u.push_input(b"ab");
        assert!(u.irq());
        assert_eq!(u.read(B + 2, 1), 0x04);
        assert_eq!(u.read(B, 1), b'a' as u32);
        assert_eq!(u.read(B, 1), b'b' as u32);
        assert!(!u.irq());
        assert_eq!(u.read(B + 2, 1), 0x01);
    }

    #[test]
    fn test_interrupt_priority_order() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x0f);
        u.push_input(b"z");
        // Received data beats THRE.
        assert_eq!(u.read(B + 2, 1), 0x04);
        u.read(B, 1);
        assert_eq!(u.read(B + 2, 1), 0x02);
        // Modem status comes last.
        u.write(B + 4, 1, 0x18); // loop + OUT2: DCD input changes
        u.write(B + 4, 1, 0x08);
        assert_eq!(u.read(B + 2, 1), 0x00);
        u.read(B + 6, 1);
        assert_eq!(u.read(B + 2, 1), 0x01);
    }

    #[test]
    fn test_line_status_interrupt_on_overrun() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x05);
        u.write(B + 4, 1, 0x10);
        u.write(B, 1, 1);
        u.write(B, 1, 2); // RBR full in non-FIFO mode: overrun
        assert_eq!(u.read(B + 2, 1), 0x06);
        assert_eq!(u.read(B + 5, 1), 0x63);
        assert_eq!(u.read(B + 2, 1), 0x04);
    }

    #[test]
    fn test_irq_gated_by_out2() {
        let mut u = pintos_uart();
        u.write(B + 1, 1, 0x02);
        assert!(u.irq());
        u.write(B + 4, 1, 0x00);
        assert!(!u.irq());
        assert_eq!(u.read(B + 2, 1), 0x02, "the chip still has the interrupt pending");
    }

    #[test]
    fn test_fifo_enable_reflected_in_iir() {
        let mut u = pintos_uart();
        assert_eq!(u.read(B + 2, 1) & 0xc0, 0);
        u.write(B + 2, 1, 0x01);
        assert_eq!(u.read(B + 2, 1) & 0xc0, 0xc0);
        u.write(B + 2, 1, 0x00);
        assert_eq!(u.read(B + 2, 1) & 0xc0, 0);
    }

    #[test]
    fn test_fifo_holds_16_bytes_and_backlog_refills() {
        let mut u = pintos_uart();
        u.write(B + 2, 1, 0x01);
        u.push_input(&[7u8; 20]);
        assert_eq!(u.rx.len(), 16);
        assert_eq!(u.input.len(), 4);
        for _ in 0..20 {
            assert_eq!(u.read(B + 5, 1) & 1, 1);
            assert_eq!(u.read(B, 1), 7);
        }
        assert_eq!(u.read(B + 5, 1) & 1, 0);
    }

    #[test]
    fn test_non_fifo_mode_holds_one_byte() {
        let mut u = pintos_uart();
        u.push_input(b"abc");
        assert_eq!(u.rx.len(), 1);
    }

    #[test]
    fn test_fifo_trigger_level_and_timeout() {
        let mut u = pintos_uart();
        u.write(B + 2, 1, 0x81); // FIFO, trigger 8
        u.write(B + 1, 1, 0x01);
        u.push_input(&[1, 2, 3]);
        assert_eq!(u.read(B + 2, 1), 0xcc);
        u.push_input(&[0; 5]);
        assert_eq!(u.read(B + 2, 1), 0xc4);
    }

    #[test]
    fn test_fcr_clears_receive_fifo() {
        let mut u = pintos_uart();
        u.write(B + 2, 1, 0x01);
        u.push_input(b"abc");
        u.write(B + 2, 1, 0x03);
        assert!(u.rx.is_empty());
    }

    #[test]
    fn test_loopback_routes_thr_to_rbr() {
        let mut u = pintos_uart();
        u.write(B + 4, 1, 0x10);
        u.push_input(b"host");
        u.write(B, 1, 0x5a);
        assert!(u.take_output().is_empty());
        assert_eq!(u.read(B, 1), 0x5a);
        u.write(B + 4, 1, 0x00);
        assert_eq!(u.read(B, 1), b'h' as u32);
    }

    #[test]
    fn test_loopback_modem_lines_follow_mcr() {
        let mut u = pintos_uart();
        u.read(B + 6, 1);
        u.write(B + 4, 1, 0x10 | 0x01 | 0x02);
        assert_eq!(u.read(B + 6, 1) & 0xf0, 0x30);
        u.write(B + 4, 1, 0x10 | 0x04 | 0x08);
        assert_eq!(u.read(B + 6, 1) & 0xf0, 0xc0);
    }

    #[test]
    fn test_msr_read_clears_deltas() {
        let mut u = pintos_uart();
        u.write(B + 4, 1, 0x10);
        assert_ne!(u.read(B + 6, 1) & 0x0f, 0);
        assert_eq!(u.read(B + 6, 1) & 0x0f, 0);
    }

    #[test]
    fn test_msr_default_inputs_connected() {
        let mut u = pintos_uart();
        assert_eq!(u.read(B + 6, 1), 0xb0);
    }

    #[test]
    fn test_scratch_register_keeps_value() {
        let mut u = pintos_uart();
        u.write(B + 7, 1, 0xa5);
        assert_eq!(u.read(B + 7, 1), 0xa5);
    }

    #[test]
    fn test_lcr_and_mcr_read_back() {
        let mut u = pintos_uart();
        u.write(B + 3, 1, 0x1b);
        assert_eq!(u.read(B + 3, 1), 0x1b);
        u.write(B + 4, 1, 0xff);
        assert_eq!(u.read(B + 4, 1), 0x1f);
    }

    #[test]
    fn test_com2_base() {
        let mut u = Uart::com2();
        u.write(0x2f8, 1, b'2' as u32);
        assert_eq!(u.take_output(), b"2");
        assert_eq!(u.read(0x3f8, 1), 0xff);
        assert_eq!(u.misses, 1);
    }

    #[test]
    fn test_wide_write_splits_into_bytes() {
        let mut u = pintos_uart();
        u.write(B, 2, 0x0261); // THR 'a', IER 0x02
        assert_eq!(u.take_output(), b"a");
        assert_eq!(u.ier, 0x02);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut u = Uart::com1();
        let ports: Vec<u16> = (0x3f8..0x400).collect();
        super::super::testutil::hammer(&mut u, &ports, 0x16550, 30000, |u, rng| {
            if rng.next() % 7 == 0 {
                u.push_input(&[rng.next() as u8]);
            }
            let _ = u.irq();
            if u.output.len() > 1000 {
                u.take_output();
            }
        });
    }
}
