//! `switchyard import-inventory ansible`: an Ansible inventory — INI, YAML, or the JSON
//! of `ansible-inventory --list` — as a switchyard inventory. Teams that run Ansible
//! already keep their hosts, addresses and groups there; importing them keeps one source
//! of truth instead of two lists drifting apart.
//!
//! The pipeline, one module a step: [`detect`] the format, parse it ([`ini`], [`yaml`],
//! [`json`]; host ranges by [`range`]) into the one [`model`], resolve the group tree
//! ([`groups`]) and each host's hall, tags and mapped variables ([`resolve`]), and
//! [`render`] the TOML. Only `ansible_host`, `ansible_port` and `ansible_user` are read;
//! what cannot be carried over faithfully (vaulted values, Jinja templates, dynamic
//! inventories, names switchyard rejects) is a [`Problem`], never a silent drop.
//! docs/ansible.md is the user's side of this.

mod detect;
mod groups;
mod ini;
mod json;
mod model;
mod problem;
mod range;
mod render;
mod resolve;
#[cfg(test)]
mod tests;
mod yaml;

pub use detect::Format;
pub use problem::{Problem, Problems, dynamic};
pub use resolve::HallGroup;

/// An imported inventory: its TOML, and the format it was read as.
#[derive(Debug)]
pub struct Imported {
    pub toml: String,
    pub format: Format,
    pub hosts: usize,
}

/// Imports the Ansible inventory `text`, read from `file` (as the output's comment and
/// every problem name it), with hosts put in halls by `halls`.
pub fn import(file: &str, text: &str, halls: &[HallGroup]) -> Result<Imported, Problems> {
    let fail = |items| Problems {
        file: file.to_string(),
        items,
    };
    let format = detect::detect(file, text).map_err(|p| fail(vec![p]))?;
    let inventory = match format {
        Format::Ini => ini::parse(text),
        Format::Yaml => yaml::parse(file, text),
        Format::Json => json::parse(text),
    }
    .map_err(fail)?;
    let hosts = resolve::hosts(&inventory, halls).map_err(fail)?;
    Ok(Imported {
        toml: render::render(file, format, halls, &hosts),
        format,
        hosts: hosts.len(),
    })
}
