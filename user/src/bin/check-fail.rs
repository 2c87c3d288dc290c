//! Exercises the test helpers' failure path: one `check!` that holds, one that does not.
//! Expected: `(check-fail) begin`, `(check-fail) 2 + 2 = 4`,
//! `(check-fail) 2 + 2 = 5`, `(check-fail) 2 + 2 = 5: FAILED`, exit status 1.
#![no_std]
#![no_main]

use user::check;

user::test_main!(test_main);

fn test_main() {
    let two = core::hint::black_box(2);
    check!(two + two == 4, "{} + {} = {}", two, two, 4);
    check!(two + two == 5, "{} + {} = {}", two, two, 5);
}
