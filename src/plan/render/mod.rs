//! The plan as people and programs read it: text, JSON, DOT and Mermaid.

mod canary;
mod describe;
mod graph;
mod invariants;
mod json;
mod text;
mod warnings;

pub use canary::{CanaryShown, canary};
pub use describe::{describe, describe_action, describe_in, executions};
pub use graph::{dot, mermaid};
pub use json::{json, json_predicted};
pub use text::{text, text_predicted};
pub use warnings::{insecure_tls, predicted, warnings};
