//! Pintos `rox-child`: an executable is read-only only while it runs (child-rox, 1 deep).
#![no_std]
#![no_main]

#[path = "shared/rox.rs"]
mod rox;

user::test_main!(test_main);

fn test_main() {
    rox::run(1);
}
