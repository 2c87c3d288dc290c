//! Firmware built into the emulator: a BIOS that boots sector 0 like a PC.
pub mod bios;
