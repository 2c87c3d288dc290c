//! Device drivers, named as in Pintos.

pub mod block;
pub mod ide;
pub mod input;
pub mod serial;
pub mod timer;
pub mod vga;
