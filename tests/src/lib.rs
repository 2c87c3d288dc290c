//! The Pintos grading harness: the test catalogue ([`catalogue`]), expected-output specs
//! ([`spec`]), the checker that applies Pintos' pass/fail rules ([`check`], [`mlfqs`]),
//! the grader that weighs results by rubric ([`grade`]), the parallel runner behind
//! the `pintos-test` command ([`runner`]), and its reports ([`report`]: JSON, JUnit XML and
//! Chrome traces). See `tests/README.md`.

pub mod behaviour;
pub mod catalogue;
pub mod check;
pub mod diff;
pub mod grade;
pub mod mlfqs;
pub mod report;
pub mod runner;
pub mod spec;

pub use catalogue::{Project, Rubric, Test};
pub use check::{check, RunFacts, Verdict};
