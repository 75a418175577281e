//! `switchyard demo`: a full live drill on this machine with nothing to set up.
//!
//! A drill needs hosts to switch and services to check. The demo brings its own: a
//! temporary lab of two halls whose hosts are local (`transport = "local"`) and whose
//! services are small HTTP health endpoints served by this same binary
//! (`switchyard serve-http`, see [`server`]), on loopback ports. The bundled runbook then
//! switches them from hall a to hall b through the same code path as `switchyard run
//! --live`, so what a new user sees — progress, evidence, report — is what a real drill
//! gives. [`lab`] writes the files and owns the processes.
//!
//! `switchyard demo --site` does the same for a site ([`lab::Drill::Site`]): four small
//! runbooks of one town — DNS, a directory, a database and a permits portal that requires
//! the other three — on a lab of their own, switched as one run, as `switchyard run SITE`
//! does.

pub mod lab;
pub mod server;

pub use lab::Lab;
