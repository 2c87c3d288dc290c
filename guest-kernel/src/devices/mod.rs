//! Device drivers, named as in Pintos.

pub mod serial;
pub mod timer;
pub mod vga;
