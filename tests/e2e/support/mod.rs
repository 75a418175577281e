//! What the end-to-end tests share: the [`util::Test`] builder that runs the real binary,
//! real servers to run against ([`sshd`], [`http`]), runs in the background ([`runs`]),
//! a finished run to inspect ([`evidence`]), and folders of bad input
//! ([`fixtures`]). No tests here.

pub mod evidence;
pub mod fixtures;
pub mod http;
pub mod runs;
pub mod sshd;
pub mod util;
