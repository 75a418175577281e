//! From a validated runbook, a direction and a mode to the step graph that the engine
//! runs and that `switchyard plan` shows. Pure: no I/O.

pub mod bindings;
pub mod graph;
pub mod predict;
pub mod render;

pub use graph::{Node, Plan, PlannedStep, build, build_only};
