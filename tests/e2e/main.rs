//! End-to-end tests: the real `switchyard` binary run on files in temporary directories.

mod docs;
mod evidence;
mod fuzz;
mod http;
mod invalid;
mod order;
mod plan;
mod run;
mod run_ssh;
mod ssh;
mod sshd;
mod util;
