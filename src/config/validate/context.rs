//! What validating a step needs to know about the runbook around it: a leaf the
//! subject modules share, so that none of them imports another for it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::ids::HallId;
use crate::config::inventory::Inventory;

/// What step validation needs to know about the runbook around it.
pub(super) struct StepCx<'a> {
    pub(super) inventory: Option<&'a Inventory>,
    pub(super) halls: Option<&'a [HallId; 2]>,
    /// Every declared variable and secret, valid or not.
    pub(super) vars: &'a [String],
    /// The valid variables' values.
    pub(super) var_values: &'a BTreeMap<String, String>,
    pub(super) secrets: &'a [String],
    pub(super) path: &'a Path,
}
