//! The Pintos grading harness: the test catalogue ([`catalogue`]), expected-output specs
//! ([`spec`]), the checker that applies Pintos' pass/fail rules ([`check`], [`mlfqs`]),
//! the grader that weighs results by rubric ([`grade`]), and the parallel runner behind
//! the `pintos-test` command ([`runner`]). See `tests/README.md`.

pub mod behaviour;
pub mod catalogue;
pub mod check;
pub mod diff;
pub mod grade;
pub mod mlfqs;
pub mod runner;
pub mod spec;

pub use catalogue::{Project, Rubric, Test};
pub use check::{check, RunFacts, Verdict};
