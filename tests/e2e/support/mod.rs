//! What the end-to-end tests share: the [`util::Test`] builder that runs the real binary,
//! real servers to run against ([`sshd`], [`http`], the PostgreSQL lab [`pglab`]), runs
//! in the background, killed or interrupted, and resumed ([`runs`]), a real
//! `ansible-inventory` ([`ansible`]), a finished run to
//! inspect ([`evidence`]), and folders of bad input ([`fixtures`]). No tests here.

pub mod ansible;
pub mod evidence;
pub mod fixtures;
pub mod http;
pub mod pglab;
pub mod runs;
pub mod sshd;
pub mod util;
