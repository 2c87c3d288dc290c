//! The PC's two cascaded Intel 8259A programmable interrupt controllers.
//!
//! The master answers at ports 0x20/0x21 and takes IRQ 0-7; the slave answers at 0xA0/0xA1,
//! takes IRQ 8-15 and drives the master's IR2 input. ELCR (edge/level control, ports
//! 0x4d0/0x4d1) is stored only.
//!
//! Facts from the 8259A datasheet this model relies on:
//! * A write with A0 = 0 and D4 = 1 is ICW1; it starts the initialisation sequence ICW2
//!   (vector T7-T3), ICW3 (only when SNGL = 0) and ICW4 (only when IC4 = 1). ICW1 clears the
//!   IMR, gives IR7 the lowest priority, clears special mask mode and selects IRR for status
//!   reads; if IC4 = 0 every ICW4 function is zero (so no auto-EOI).
//! * With A0 = 0 and D4 = 0, D3 = 0 selects OCW2 (R, SL, EOI in D7-D5, level in D2-D0) and
//!   D3 = 1 selects OCW3 (ESMM/SMM in D6-D5, poll in D2, RR/RIS in D1-D0). With A0 = 1 after
//!   initialisation a write is OCW1, the IMR.
//! * Reads with A0 = 1 return the IMR; with A0 = 0 they return IRR or ISR as chosen by OCW3,
//!   or the poll word (D7 = interrupt, D2-D0 = level) after a poll command.
//! * A request is serviced only when its priority is higher than every level in service
//!   (fully nested mode); in special mask mode masked in-service levels don't inhibit.
//!   Priorities rotate: after a rotation the level just serviced becomes the lowest.
//! * If no request remains at INTA time the chip answers with IR7 (a spurious interrupt) and
//!   sets no ISR bit. A spurious slave interrupt (IRQ15) still sets ISR bit 2 on the master,
//!   which serviced a real request on IR2.
//!
//! Edge detection: in edge mode (the PC's mode) a rising edge on an IR line latches its IRR
//! bit, which then stays set until the interrupt is acknowledged, even if the line falls
//! first. (The datasheet asks devices to hold the line until INTA; keeping the latch means a
//! device that pulses its line, like our PIT, never loses a tick.) In level mode (LTIM) the
//! IRR bit follows the line. The master's IR2 follows the slave's INT output as a level, so a
//! slave request can never be lost to edge timing.
//!
//! Multi-byte port accesses are split into byte accesses at consecutive ports (ISA bus).



#[cfg(test)]
use super::PortDevice;
pub const MASTER_CMD: u16 = 0x20;
pub const MASTER_DATA: u16 = 0x21;
pub const SLAVE_CMD: u16 = 0xA0;
pub const SLAVE_DATA: u16 = 0xA1;
pub const ELCR1: u16 = 0x4d0;
pub const ELCR2: u16 = 0x4d1;

/// ICW1 is recognised by D4 = 1 on the command port.
const ICW1_SELECT: u8 = 0x10;
const ICW1_IC4: u8 = 0x01;
const ICW1_SNGL: u8 = 0x02;
const ICW1_LTIM: u8 = 0x08;
/// With D4 = 0, D3 selects OCW3 (1) or OCW2 (0).
const OCW3_SELECT: u8 = 0x08;
const OCW3_RIS: u8 = 0x01;
const OCW3_RR: u8 = 0x02;
const OCW3_POLL: u8 = 0x04;
const OCW3_SMM: u8 = 0x20;
const OCW3_ESMM: u8 = 0x40;
/// OCW2 R (rotate), SL (specific level) and EOI bits.
const OCW2_R: u8 = 0x80;
const OCW2_SL: u8 = 0x40;
const OCW2_EOI: u8 = 0x20;
const ICW4_AEOI: u8 = 0x02;
const ICW4_SFNM: u8 = 0x10;
/// The master's IR line the slave's INT output is wired to on a PC.
const CASCADE_IR: u8 = 2;

/// Where a chip is in its initialisation sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InitStep {
    Ready,
    Icw2,
    Icw3,
    Icw4,
}

/// One 8259A.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Chip {
    pub irr: u8,
    pub isr: u8,
    pub imr: u8,
    /// Input line levels, for edge detection.
    pub lines: u8,
    pub step: InitStep,
    pub icw1: u8,
    /// ICW2 with T2-T0 cleared: the vector of IR0.
    pub vector_base: u8,
    pub icw3: u8,
    pub icw4: u8,
    /// OCW3 RIS: status reads return ISR (true) or IRR (false).
    pub read_isr: bool,
    /// A poll command is waiting for the next read.
    pub poll: bool,
    pub special_mask: bool,
    /// The level with the lowest priority (7 after initialisation: IR0 highest).
    pub lowest: u8,
    /// Rotate in automatic EOI mode (OCW2 100/000).
    pub rotate_aeoi: bool,
    pub is_master: bool,
}

impl Chip {
    /// The state after the ICW sequence a PC BIOS issues (edge triggered, cascade, 8086 mode,
    /// vectors from `vector_base`), every line masked except the cascade.
    fn bios(is_master: bool, vector_base: u8) -> Chip {
        Chip {
            irr: 0,
            isr: 0,
            imr: if is_master { !(1 << CASCADE_IR) } else { 0xFF },
            lines: 0,
            step: InitStep::Ready,
            icw1: ICW1_SELECT | ICW1_IC4,
            vector_base,
            icw3: if is_master { 1 << CASCADE_IR } else { CASCADE_IR },
            icw4: 0x01,
            read_isr: false,
            poll: false,
            special_mask: false,
            lowest: 7,
            rotate_aeoi: false,
            is_master,
        }
    }

    fn level_triggered(&self) -> bool {
        self.icw1 & ICW1_LTIM != 0
    }

    fn auto_eoi(&self) -> bool {
        self.icw1 & ICW1_IC4 != 0 && self.icw4 & ICW4_AEOI != 0
    }

    /// Priority rank of level `ir`: 0 is the highest.
    fn rank(&self, ir: u8) -> u8 {
        ir.wrapping_sub(self.lowest).wrapping_sub(1) & 7
    }

    /// The highest-priority level set in `bits`.
    fn highest(&self, bits: u8) -> Option<u8> {
        (0..8u8).map(|i| (self.lowest + 1 + i) & 7).find(|&ir| bits & (1 << ir) != 0)
    }

    /// Drives input line `ir` to `level`; returns whether the chip's state changed.
    fn set_line(&mut self, ir: u8, level: bool) -> bool {
        let before = (self.irr, self.lines);
        let bit = 1u8 << (ir & 7);
        if self.level_triggered() {
            if level {
                self.irr |= bit;
            } else {
                self.irr &= !bit;
            }
        } else if level && self.lines & bit == 0 {
            self.irr |= bit;
        }
        if level {
            self.lines |= bit;
        } else {
            self.lines &= !bit;
        }
        before != (self.irr, self.lines)
    }

    /// The level the chip would interrupt with now: the highest unmasked request that beats
    /// every level in service.
    fn pending(&self) -> Option<u8> {
        let ir = self.highest(self.irr & !self.imr)?;
        let mut in_service = self.isr;
        if self.special_mask {
            in_service &= !self.imr;
        }
        if self.is_master && self.icw4 & ICW4_SFNM != 0 && self.icw3 & (1 << ir) != 0 {
            // Special fully nested mode: a slave in service doesn't block its own slave's
            // higher-priority requests.
            in_service &= !(1 << ir);
        }
        match self.highest(in_service) {
            Some(s) if self.rank(s) <= self.rank(ir) => None,
            _ => Some(ir),
        }
    }

    /// The INTA sequence on this chip: Some(level) moved from IRR to ISR, or None when the
    /// request went away (the caller answers with IR7, spurious).
    fn ack(&mut self) -> Option<u8> {
        let ir = self.pending()?;
        let bit = 1u8 << ir;
        if !self.level_triggered() {
            self.irr &= !bit;
        }
        if self.auto_eoi() {
            if self.rotate_aeoi {
                self.lowest = ir;
            }
        } else {
            self.isr |= bit;
        }
        Some(ir)
    }

    fn write_cmd(&mut self, v: u8) {
        if v & ICW1_SELECT != 0 {
            self.icw1 = v;
            self.step = InitStep::Icw2;
            self.imr = 0;
            self.isr = 0;
            self.irr = 0;
            // Edge detection restarts: a line already high needs a new rising edge.
            self.lowest = 7;
            self.special_mask = false;
            self.read_isr = false;
            self.poll = false;
            self.rotate_aeoi = false;
            if v & ICW1_IC4 == 0 {
                self.icw4 = 0;
            }
            if self.level_triggered() {
                self.irr = self.lines;
            }
        } else if v & OCW3_SELECT != 0 {
            if v & OCW3_ESMM != 0 {
                self.special_mask = v & OCW3_SMM != 0;
            }
            if v & OCW3_RR != 0 {
                self.read_isr = v & OCW3_RIS != 0;
            }
            self.poll = v & OCW3_POLL != 0;
        } else {
            self.ocw2(v);
        }
    }

    fn ocw2(&mut self, v: u8) {
        let level = v & 7;
        match v & (OCW2_R | OCW2_SL | OCW2_EOI) {
            // Non-specific EOI (rotating or not): clear the highest-priority ISR bit.
            x if x == OCW2_EOI || x == OCW2_R | OCW2_EOI => {
                if let Some(ir) = self.highest(self.isr) {
                    self.isr &= !(1 << ir);
                    if x & OCW2_R != 0 {
                        self.lowest = ir;
                    }
                }
            }
            // Specific EOI, optionally rotating with the given level becoming lowest.
            x if x == OCW2_SL | OCW2_EOI || x == OCW2_R | OCW2_SL | OCW2_EOI => {
                self.isr &= !(1 << level);
                if x & OCW2_R != 0 {
                    self.lowest = level;
                }
            }
            // Set priority: `level` becomes the lowest.
            x if x == OCW2_R | OCW2_SL => self.lowest = level,
            x if x == OCW2_R => self.rotate_aeoi = true,
            0 => self.rotate_aeoi = false,
            // OCW2_SL alone: no operation.
            _ => {}
        }
    }

    fn write_data(&mut self, v: u8) {
        match self.step {
            InitStep::Ready => self.imr = v,
            InitStep::Icw2 => {
                self.vector_base = v & 0xF8;
                self.step = if self.icw1 & ICW1_SNGL == 0 {
                    InitStep::Icw3
                } else if self.icw1 & ICW1_IC4 != 0 {
                    InitStep::Icw4
                } else {
                    InitStep::Ready
                };
            }
            InitStep::Icw3 => {
                self.icw3 = v;
                self.step = if self.icw1 & ICW1_IC4 != 0 { InitStep::Icw4 } else { InitStep::Ready };
            }
            InitStep::Icw4 => {
                self.icw4 = v;
                self.step = InitStep::Ready;
            }
        }
    }

    fn read_cmd_status(&self) -> u8 {
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }
}

/// The master/slave pair plus ELCR.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pic {
    pub master: Chip,
    pub slave: Chip,
    /// ELCR1/ELCR2 as written (stored only; triggering follows ICW1 LTIM).
    pub elcr: [u8; 2],
    pub misses: u64,
}

impl Default for Pic {
    fn default() -> Self {
        Self::new()
    }
}

impl Pic {
    /// The pair as a PC BIOS leaves it: master vectors 0x08-0x0F, slave 0x70-0x77, cascade
    /// on IR2, edge triggered, 8086 mode, every IRQ masked (the guest reprograms it anyway).
    pub fn new() -> Pic {
        Pic { master: Chip::bios(true, 0x08), slave: Chip::bios(false, 0x70), elcr: [0; 2], misses: 0 }
    }

    pub fn reset(&mut self) {
        *self = Pic::new();
    }

    /// Drives IRQ line `line` (0-15) to `level`. Line 2 is the cascade input and is ignored
    /// (ISA IRQ2 is wired to IRQ9 on a PC); lines above 15 are counted as misses.
    pub fn set_irq(&mut self, line: u8, level: bool) {
        // Devices re-drive every line after each port access; only a change can move the
        // cascade (acknowledge and register writes update it themselves).
        let changed = match line {
            CASCADE_IR => false,
            0..=7 => self.master.set_line(line, level),
            8..=15 => self.slave.set_line(line - 8, level),
            _ => {
                self.misses += 1;
                false
            }
        };
        if changed {
            self.update_cascade();
        }
    }

    /// Recomputes the master's IR2 input from the slave's INT output.
    fn update_cascade(&mut self) {
        let slave_int = self.slave.pending().is_some();
        let bit = 1u8 << CASCADE_IR;
        if slave_int {
            self.master.irr |= bit;
            self.master.lines |= bit;
        } else {
            self.master.irr &= !bit;
            self.master.lines &= !bit;
        }
    }

    /// The master's INT output: the CPU's INTR line.
    pub fn interrupt_pending(&self) -> bool {
        self.master.pending().is_some()
    }

    /// The INTA cycle: the vector to deliver. Moves the request from IRR to ISR on the chips
    /// involved (or not, in auto-EOI mode); answers IR7 / IR15 when the request vanished.
    pub fn acknowledge(&mut self) -> u8 {
        let vector = match self.master.ack() {
            Some(CASCADE_IR) if self.master.icw1 & ICW1_SNGL == 0 => {
                let ir = self.slave.ack().unwrap_or(7);
                self.slave.vector_base | ir
            }
            Some(ir) => self.master.vector_base | ir,
            None => self.master.vector_base | 7,
        };
        self.update_cascade();
        vector
    }

    /// Poll command read: acts as an INTA on `chip` and returns the poll word.
    fn poll_read(&mut self, slave: bool) -> u8 {
        let chip = if slave { &mut self.slave } else { &mut self.master };
        chip.poll = false;
        let word = match chip.ack() {
            Some(ir) => 0x80 | ir,
            None => 0,
        };
        self.update_cascade();
        word
    }

    fn read8(&mut self, port: u16) -> u8 {
        match port {
            MASTER_CMD if self.master.poll => self.poll_read(false),
            SLAVE_CMD if self.slave.poll => self.poll_read(true),
            MASTER_CMD => self.master.read_cmd_status(),
            SLAVE_CMD => self.slave.read_cmd_status(),
            MASTER_DATA => self.master.imr,
            SLAVE_DATA => self.slave.imr,
            ELCR1 => self.elcr[0],
            ELCR2 => self.elcr[1],
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        match port {
            MASTER_CMD => self.master.write_cmd(v),
            SLAVE_CMD => self.slave.write_cmd(v),
            MASTER_DATA => self.master.write_data(v),
            SLAVE_DATA => self.slave.write_data(v),
            ELCR1 => self.elcr[0] = v,
            ELCR2 => self.elcr[1] = v,
            _ => self.misses += 1,
        }
        self.update_cascade();
    }
}

byte_port_device!(Pic);

#[cfg(test)]
mod tests {
    use super::*;

    /// The sequence Pintos' pic_init issues: vectors 0x20/0x28, all masked.
    fn pintos_init() -> Pic {
        let mut p = Pic::new();
        for (port, v) in [
            (0x21, 0xff),
            (0xa1, 0xff),
            (0x20, 0x11),
            (0x21, 0x20),
            (0x21, 0x04),
            (0x21, 0x01),
            (0xa0, 0x11),
            (0xa1, 0x28),
            (0xa1, 0x02),
            (0xa1, 0x01),
            (0x21, 0x00),
            (0xa1, 0x00),
        ] {
            p.write(port, 1, v);
        }
        p
    }

    #[test]
    fn test_icw_sequence_sets_vector_offsets() {
        let mut p = pintos_init();
        assert_eq!(p.master.vector_base, 0x20);
        assert_eq!(p.slave.vector_base, 0x28);
        assert_eq!(p.master.step, InitStep::Ready);
        p.set_irq(0, true);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x20);
        p.set_irq(14, true);
        p.write(0x20, 1, 0x20);
        assert_eq!(p.acknowledge(), 0x2e);
    }

    #[test]
    fn test_icw1_clears_masks_and_requests() {
        let mut p = pintos_init();
        p.write(0x21, 1, 0x5a);
        p.set_irq(1, true);
        p.write(0x20, 1, 0x11);
        assert_eq!(p.master.imr, 0);
        assert_eq!(p.master.irr, 0);
        assert_eq!(p.master.step, InitStep::Icw2);
    }

    #[test]
    fn test_icw_sequence_without_icw4_or_icw3() {
        let mut p = Pic::new();
        p.write(0x20, 1, 0x12); // single, no ICW4
        p.write(0x21, 1, 0x40);
        assert_eq!(p.master.step, InitStep::Ready);
        assert_eq!(p.master.icw4, 0);
        p.write(0x21, 1, 0x33); // now OCW1
        assert_eq!(p.read(0x21, 1), 0x33);
    }

    #[test]
    fn test_ocw1_masks_requests() {
        let mut p = pintos_init();
        p.write(0x21, 1, 0x01);
        p.set_irq(0, true);
        assert!(!p.interrupt_pending());
        assert_eq!(p.read(0x21, 1), 0x01);
        p.write(0x21, 1, 0x00);
        assert!(p.interrupt_pending());
    }

    #[test]
    fn test_edge_latches_request_until_acknowledged() {
        let mut p = pintos_init();
        p.set_irq(0, true);
        p.set_irq(0, false);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x20);
        // A level held high doesn't re-request without a new edge.
        p.write(0x20, 1, 0x20);
        p.set_irq(3, true);
        p.acknowledge();
        p.write(0x20, 1, 0x20);
        p.set_irq(3, true);
        assert!(!p.interrupt_pending());
        p.set_irq(3, false);
        p.set_irq(3, true);
        assert!(p.interrupt_pending());
    }

    #[test]
    fn test_non_specific_eoi_clears_highest_in_service() {
        let mut p = pintos_init();
        p.set_irq(3, true);
        assert_eq!(p.acknowledge(), 0x23);
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x21); // higher priority nests
        assert_eq!(p.master.isr, 0x0a);
        p.write(0x20, 1, 0x20);
        assert_eq!(p.master.isr, 0x08);
    }

    #[test]
    fn test_specific_eoi_clears_named_level() {
        let mut p = pintos_init();
        p.set_irq(3, true);
        p.acknowledge();
        p.set_irq(1, true);
        p.acknowledge();
        p.write(0x20, 1, 0x63);
        assert_eq!(p.master.isr, 0x02);
    }

    #[test]
    fn test_in_service_blocks_lower_priority() {
        let mut p = pintos_init();
        p.set_irq(1, true);
        p.acknowledge();
        p.set_irq(4, true);
        assert!(!p.interrupt_pending());
        p.write(0x20, 1, 0x20);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x24);
    }

    #[test]
    fn test_rotate_on_eoi_makes_serviced_level_lowest() {
        let mut p = pintos_init();
        p.set_irq(0, true);
        p.acknowledge();
        p.write(0x20, 1, 0xa0); // rotate on non-specific EOI
        assert_eq!(p.master.lowest, 0);
        p.set_irq(0, false);
        p.set_irq(0, true);
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x25);
    }

    #[test]
    fn test_set_priority_command() {
        let mut p = pintos_init();
        p.write(0x20, 1, 0xc4); // IR4 lowest, IR5 highest
        p.set_irq(1, true);
        p.set_irq(6, true);
        assert_eq!(p.acknowledge(), 0x26);
    }

    #[test]
    fn test_ocw3_selects_irr_or_isr() {
        let mut p = pintos_init();
        p.write(0x21, 1, 0x10);
        p.set_irq(4, true);
        p.set_irq(1, true);
        p.acknowledge();
        assert_eq!(p.read(0x20, 1), 0x10);
        p.write(0x20, 1, 0x0b);
        assert_eq!(p.read(0x20, 1), 0x02);
        p.write(0x20, 1, 0x0a);
        assert_eq!(p.read(0x20, 1), 0x10);
    }

    #[test]
    fn test_poll_command_acknowledges() {
        let mut p = pintos_init();
        p.set_irq(5, true);
        p.write(0x20, 1, 0x0c);
        assert_eq!(p.read(0x20, 1), 0x85);
        assert_eq!(p.master.isr, 0x20);
        assert_eq!(p.read(0x20, 1), 0x00); // IRR again
    }

    #[test]
    fn test_slave_cascades_through_irq2() {
        let mut p = pintos_init();
        p.set_irq(8, true);
        assert_eq!(p.master.irr & 0x04, 0x04);
        assert!(p.interrupt_pending());
        assert_eq!(p.acknowledge(), 0x28);
        assert_eq!(p.master.isr, 0x04);
        assert_eq!(p.slave.isr, 0x01);
        // Master IR2 in service blocks IRQ3-7 but not IRQ0/1.
        p.set_irq(3, true);
        assert!(!p.interrupt_pending());
        p.set_irq(0, true);
        assert_eq!(p.acknowledge(), 0x20);
    }

    #[test]
    fn test_slave_masked_line_does_not_reach_master() {
        let mut p = pintos_init();
        p.write(0xa1, 1, 0x01);
        p.set_irq(8, true);
        assert!(!p.interrupt_pending());
        p.write(0xa1, 1, 0x00);
        assert!(p.interrupt_pending());
    }

    #[test]
    fn test_spurious_irq7_when_request_vanishes() {
        let mut p = pintos_init();
        p.write(0x20, 1, 0x19); // ICW1: level mode on master
        p.write(0x21, 1, 0x20);
        p.write(0x21, 1, 0x04);
        p.write(0x21, 1, 0x01);
        p.set_irq(4, true);
        assert!(p.interrupt_pending());
        p.set_irq(4, false);
        assert_eq!(p.acknowledge(), 0x27);
        assert_eq!(p.master.isr, 0);
    }

    #[test]
    fn test_spurious_irq15_sets_master_cascade_in_service() {
        // The slave's request is masked after the master latched IR2 (no port write, so
        // the cascade input isn't recomputed before INTA).
        let mut q = pintos_init();
        q.set_irq(9, true);
        q.slave.imr = 0xff; // masked without a port write, so the master still requests
        assert_eq!(q.acknowledge(), 0x2f);
        assert_eq!(q.master.isr, 0x04);
        assert_eq!(q.slave.isr, 0);
    }

    #[test]
    fn test_auto_eoi_leaves_isr_clear() {
        let mut p = Pic::new();
        p.write(0x20, 1, 0x11);
        p.write(0x21, 1, 0x20);
        p.write(0x21, 1, 0x04);
        p.write(0x21, 1, 0x03); // 8086 + AEOI
        p.write(0x21, 1, 0x00);
        p.set_irq(1, true);
        assert_eq!(p.acknowledge(), 0x21);
        assert_eq!(p.master.isr, 0);
    }

    #[test]
    fn test_rotate_in_auto_eoi_mode() {
        let mut p = Pic::new();
        for v in [0x11, 0x20, 0x04, 0x03, 0x00] {
            p.write(if v == 0x11 { 0x20 } else { 0x21 }, 1, v);
        }
        p.write(0x20, 1, 0x80);
        p.set_irq(3, true);
        p.acknowledge();
        assert_eq!(p.master.lowest, 3);
        p.write(0x20, 1, 0x00);
        assert!(!p.master.rotate_aeoi);
    }

    #[test]
    fn test_special_mask_mode_allows_lower_levels() {
        let mut p = pintos_init();
        p.set_irq(1, true);
        p.acknowledge();
        p.write(0x21, 1, 0x02); // mask the in-service level
        p.write(0x20, 1, 0x68); // set special mask mode
        p.set_irq(5, true);
        assert_eq!(p.acknowledge(), 0x25);
    }

    #[test]
    fn test_elcr_stored() {
        let mut p = Pic::new();
        p.write(0x4d0, 1, 0x20);
        p.write(0x4d1, 1, 0x0e);
        assert_eq!(p.read(0x4d0, 2), 0x0e20);
    }

    #[test]
    fn test_wide_access_splits_into_bytes() {
        let mut p = pintos_init();
        p.write(0x21, 1, 0x12);
        assert_eq!(p.read(0x20, 2), 0x1200);
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut p = Pic::new();
        assert_eq!(p.read(0x22, 1), 0xff);
        p.write(0x23, 1, 0);
        p.set_irq(16, true);
        assert_eq!(p.misses, 3);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut p = Pic::new();
        super::super::testutil::hammer(&mut p, &[0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1], 0x8259, 20000, |p, rng| {
            let r = rng.next();
            p.set_irq((r % 20) as u8, r & 0x100 != 0);
            if p.interrupt_pending() && r & 0x200 != 0 {
                p.acknowledge();
            }
        });
    }
}
