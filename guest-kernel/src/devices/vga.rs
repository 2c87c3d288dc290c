//! The VGA text screen (80 × 25 at 0xb8000), with a cursor that follows the output.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::arch::io::{outb, vga_read_cell, vga_write_cell};

const COLS: usize = 80;
const ROWS: usize = 25;
/// Light grey on black.
const ATTR: u16 = 0x0700;

/// Cursor position (cell index). Only touched with interrupts off (from the console).
static POS: AtomicUsize = AtomicUsize::new(0);

pub fn init() {
    for i in 0..COLS * ROWS {
        vga_write_cell(i, ATTR | b' ' as u16);
    }
    POS.store(0, Ordering::Relaxed);
    move_cursor(0);
}

pub fn putc(b: u8) {
    let mut pos = POS.load(Ordering::Relaxed);
    match b {
        b'\n' => pos = (pos / COLS + 1) * COLS,
        b'\r' => pos -= pos % COLS,
        b'\t' => pos = (pos / 8 + 1) * 8,
        0x08 => pos = pos.saturating_sub(1),
        _ => {
            vga_write_cell(pos, ATTR | b as u16);
            pos += 1;
        }
    }
    if pos >= COLS * ROWS {
        scroll();
        pos = (ROWS - 1) * COLS;
    }
    POS.store(pos, Ordering::Relaxed);
    move_cursor(pos);
}

fn scroll() {
    for i in 0..COLS * (ROWS - 1) {
        vga_write_cell(i, vga_read_cell(i + COLS));
    }
    for i in COLS * (ROWS - 1)..COLS * ROWS {
        vga_write_cell(i, ATTR | b' ' as u16);
    }
}

/// Moves the hardware cursor (CRTC registers 0x0e/0x0f, cursor location high/low).
fn move_cursor(pos: usize) {
    outb(0x3d4, 0x0e);
    outb(0x3d5, (pos >> 8) as u8);
    outb(0x3d4, 0x0f);
    outb(0x3d5, pos as u8);
}
