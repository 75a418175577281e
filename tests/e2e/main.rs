//! End-to-end tests: the real `switchyard` binary run on files in temporary directories.

mod docs;
mod fuzz;
mod invalid;
mod order;
mod plan;
mod util;
