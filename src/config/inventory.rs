//! Pass 2 for inventories: halls, hosts and groups merged from several files into one
//! validated [`Inventory`], with host selectors (`name`, `tag:NAME`, `group:NAME`) resolved.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::ids::{HallId, HostId, is_address, is_host_name, is_simple_name};
use super::model::{HostKeyChecking, Transport};
use super::notify::{self, Notify};
use super::raw::{RawInventory, RawSecret, RawSsh};
use super::runbook::SecretSource;
use super::source::{Sp, Span};

#[derive(Clone, Debug)]
pub struct Hall {
    pub name: HallId,
    pub description: Option<String>,
    /// The jump host of the hall's hosts, as written (see [`super::jumps`]).
    pub jump: Option<Sp<String>>,
}

/// How to reach a host over SSH, with the file's defaults and the host's overrides applied.
#[derive(Clone, Debug)]
pub struct SshSettings {
    /// `None`: the local user's name, as `ssh` does.
    pub user: Option<String>,
    pub port: u16,
    /// `None`: ssh-agent, then the default key files.
    pub identity_file: Option<PathBuf>,
    pub known_hosts: PathBuf,
    pub host_key_checking: HostKeyChecking,
    pub connect_timeout: Duration,
    /// `None`: no keepalives (`keepalive = "0s"`).
    pub keepalive: Option<Duration>,
    pub max_sessions: u32,
    /// The inventory host this one is reached through (see [`super::jumps`]); `None`:
    /// directly.
    pub jump: Option<HostId>,
}

#[derive(Clone, Debug)]
pub struct Host {
    pub name: HostId,
    pub hall: HallId,
    pub transport: Transport,
    /// For SSH hosts, the address to connect to; for local hosts, what `host.address` gives.
    pub address: String,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub ssh: SshSettings,
    pub span: Span,
}

/// Index of a host in [`Inventory::hosts`].
pub type HostIdx = usize;

/// One inventory file as read, with the tier it belongs to: files named with
/// `--inventory` (tier 1) override same-named entries of the runbook's own files (tier 0).
pub struct InventoryFile {
    pub raw: RawInventory,
    pub path: PathBuf,
    pub tier: u8,
}

/// The merged, validated inventory.
#[derive(Debug, Default)]
pub struct Inventory {
    pub halls: Vec<Hall>,
    /// Sorted by name.
    pub hosts: Vec<Host>,
    by_name: HashMap<String, HostIdx>,
    by_tag: HashMap<String, Vec<HostIdx>>,
    groups: HashMap<String, Vec<HostIdx>>,
    /// `[evidence] sign_with`, a key file's path taken relative to the file that sets it
    /// (`agent:PUBKEYFILE` likewise): of an `--inventory` file if one sets it, else of
    /// the first of the runbook's own files that does.
    pub sign_with: Option<String>,
    /// Every file's `[[notify]]`, file after file.
    pub notify: Vec<Notify>,
}

struct Defined<T> {
    item: T,
    span: Span,
    tier: u8,
}

/// Inserts `item` under `name`, reporting a same-tier duplicate against the first definition.
fn define<T>(
    map: &mut BTreeMap<String, Defined<T>>,
    diags: &mut Diagnostics,
    what: &str,
    name: &Sp<String>,
    tier: u8,
    item: T,
) {
    if let Some(prev) = map.get(&name.value) {
        if prev.tier == tier {
            diags.push(
                Diagnostic::error(
                    name.span.clone(),
                    format!("{what} `{}` is defined twice", name.value),
                )
                .with_label("second definition")
                .with_note(prev.span.clone(), "first defined here")
                .with_help("rename one of them, or pass the overriding file with --inventory"),
            );
            return;
        }
        if prev.tier > tier {
            return;
        }
    }
    map.insert(
        name.value.clone(),
        Defined {
            item,
            span: name.span.clone(),
            tier,
        },
    );
}

/// A path written in `base`, made relative to where `base` is (`~` is left for later).
pub fn expand_path(base: &Path, p: &str) -> PathBuf {
    if p == "~" || p.starts_with("~/") || Path::new(p).is_absolute() {
        return PathBuf::from(p);
    }
    normalize(&base.parent().unwrap_or(Path::new("")).join(p))
}

/// `runbooks/../inventory/site.toml` reads better as `inventory/site.toml`.
pub fn normalize(joined: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir
                if matches!(
                    out.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
            {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn ssh_settings(file: &Path, defaults: &RawSsh, host: &RawSsh) -> SshSettings {
    macro_rules! pick {
        ($field:ident) => {
            host.$field
                .as_ref()
                .or(defaults.$field.as_ref())
                .map(|v| v.value.clone())
        };
    }
    SshSettings {
        user: pick!(user),
        port: pick!(port)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(22),
        identity_file: pick!(identity_file).map(|p| expand_path(file, &p)),
        known_hosts: expand_path(
            file,
            &pick!(known_hosts).unwrap_or_else(|| "~/.ssh/known_hosts".into()),
        ),
        host_key_checking: pick!(host_key_checking).unwrap_or(HostKeyChecking::Strict),
        connect_timeout: pick!(connect_timeout).unwrap_or(Duration::from_secs(10)),
        keepalive: Some(pick!(keepalive).unwrap_or(Duration::from_secs(15)))
            .filter(|d| !d.is_zero()),
        max_sessions: pick!(max_sessions)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(4),
        // Chosen and checked once every host is known.
        jump: None,
    }
}

/// `[evidence] sign_with` of the files: an `--inventory` file (a higher tier) wins, then
/// the first file.
fn sign_with(files: &[InventoryFile]) -> Option<String> {
    let f = files
        .iter()
        .rev()
        .filter(|f| f.raw.sign_with.is_some())
        .max_by_key(|f| f.tier)?;
    let spec = &f.raw.sign_with.as_ref()?.value;
    Some(match spec.strip_prefix("agent:") {
        Some(p) => format!("agent:{}", expand_path(&f.path, p).display()),
        None => expand_path(&f.path, spec).display().to_string(),
    })
}

/// A file's validated `[[notify]]`, its webhooks' secrets read from its `[secrets]`.
fn notify_of(diags: &mut Diagnostics, f: &InventoryFile) -> Vec<Notify> {
    let secrets = f
        .raw
        .secrets
        .iter()
        .filter_map(|(name, s)| {
            let source = match s {
                RawSecret::Env(e) => SecretSource::Env(e.value.clone()),
                RawSecret::File(p) => SecretSource::File(expand_path(&f.path, &p.value)),
                RawSecret::Invalid => return None,
            };
            Some((name.value.clone(), source))
        })
        .collect();
    notify::validate(diags, &f.raw.notify, &secrets)
}

impl Inventory {
    /// Merges and validates inventory files, pushing every problem into `diags`.
    pub fn build(files: &[InventoryFile], diags: &mut Diagnostics) -> Inventory {
        let mut halls = BTreeMap::new();
        let mut hosts = BTreeMap::new();
        let mut groups = BTreeMap::new();
        for f in files {
            for h in &f.raw.halls {
                check_name(diags, "hall", &h.name, is_simple_name);
                let hall = Hall {
                    name: HallId::new(h.name.value.clone()),
                    description: h.description.as_ref().map(|d| d.value.clone()),
                    jump: h.jump.clone(),
                };
                define(&mut halls, diags, "hall", &h.name, f.tier, hall);
            }
            for h in &f.raw.hosts {
                define(&mut hosts, diags, "host", &h.name, f.tier, (h, f));
            }
            for (name, members) in &f.raw.groups {
                define(&mut groups, diags, "group", name, f.tier, members);
            }
        }
        if halls.is_empty() {
            let at = files.first().map(|f| f.raw.top.clone());
            let msg = "the inventory defines no halls";
            diags.push(match at {
                Some(span) => Diagnostic::error(span, msg)
                    .with_label("expected `[halls.a]` and `[halls.b]` tables in an inventory file"),
                None => Diagnostic::global(msg),
            });
            // Every host would now be in an unknown hall; that says nothing new.
            return Inventory::default();
        }
        let hall_names: Vec<&str> = halls.keys().map(String::as_str).collect();
        let mut inv = Inventory {
            halls: halls.values().map(|d| d.item.clone()).collect(),
            sign_with: sign_with(files),
            notify: files.iter().flat_map(|f| notify_of(diags, f)).collect(),
            ..Inventory::default()
        };
        let mut jumps = Vec::new();
        for (name, def) in &hosts {
            let (raw, file) = def.item;
            if let Some(host) = build_host(diags, &hall_names, raw, file) {
                let levels = super::jumps::Levels {
                    own: raw.ssh.jump.as_ref(),
                    hall: halls
                        .get(host.hall.as_str())
                        .and_then(|h| h.item.jump.as_ref()),
                    file: file.raw.ssh.jump.as_ref(),
                };
                if let Some(jump) = super::jumps::wanted(diags, &raw.name, host.transport, &levels)
                {
                    jumps.push((inv.hosts.len(), jump));
                }
                inv.by_name.insert(name.clone(), inv.hosts.len());
                for tag in &host.tags {
                    inv.by_tag
                        .entry(tag.clone())
                        .or_default()
                        .push(inv.hosts.len());
                }
                inv.hosts.push(host);
            }
        }
        super::jumps::resolve(diags, &mut inv.hosts, &hall_names, &jumps);
        let group_defs: BTreeMap<&str, _> =
            groups.iter().map(|(k, d)| (k.as_str(), d.item)).collect();
        for name in group_defs.keys() {
            let mut stack = Vec::new();
            if let Some(members) = inv.resolve_group(diags, &group_defs, name, &mut stack) {
                inv.groups.insert((*name).to_string(), members);
            }
        }
        inv
    }

    fn resolve_group(
        &mut self,
        diags: &mut Diagnostics,
        defs: &BTreeMap<&str, &Sp<Vec<Sp<String>>>>,
        name: &str,
        stack: &mut Vec<String>,
    ) -> Option<Vec<HostIdx>> {
        if let Some(done) = self.groups.get(name) {
            return Some(done.clone());
        }
        let def = defs.get(name)?;
        stack.push(name.to_string());
        let mut out = Vec::new();
        for member in &def.value {
            if let Some(inner) = member.value.strip_prefix("group:") {
                if let Some(at) = stack.iter().position(|g| g == inner) {
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(inner.to_string());
                    diags.push(
                        Diagnostic::error(
                            member.span.clone(),
                            "groups include each other in a cycle",
                        )
                        .with_label(format!("cycle: {}", cycle.join(" -> "))),
                    );
                    continue;
                }
                if defs.contains_key(inner) {
                    out.extend(
                        self.resolve_group(diags, defs, inner, stack)
                            .unwrap_or_default(),
                    );
                    continue;
                }
            }
            match self.select_in(member, defs) {
                Ok(hosts) => out.extend(hosts),
                Err(d) => diags.push(*d),
            }
        }
        stack.pop();
        out.sort_unstable();
        out.dedup();
        self.groups.insert(name.to_string(), out.clone());
        Some(out)
    }

    /// Resolves a selector inside a group definition, where groups may not be resolved yet.
    fn select_in(
        &self,
        sel: &Sp<String>,
        defs: &BTreeMap<&str, &Sp<Vec<Sp<String>>>>,
    ) -> Result<Vec<HostIdx>, Box<Diagnostic>> {
        self.select_with(sel, || defs.keys().copied().collect())
    }

    /// The hosts a selector (`NAME`, `tag:NAME`, `group:NAME`) stands for; never empty.
    pub fn select(&self, sel: &Sp<String>) -> Result<Vec<HostIdx>, Box<Diagnostic>> {
        self.select_with(sel, || self.groups.keys().map(String::as_str).collect())
    }

    fn select_with<'s>(
        &'s self,
        sel: &Sp<String>,
        group_names: impl FnOnce() -> Vec<&'s str>,
    ) -> Result<Vec<HostIdx>, Box<Diagnostic>> {
        let s = sel.value.as_str();
        let none = |what: &str, prefix: &str, known: Vec<&str>, found: &str| {
            let mut d =
                Diagnostic::error(sel.span.clone(), format!("selector `{s}` matches no host"))
                    .with_label(format!("no {what} `{found}` in the inventory"));
            if let Some(close) = did_you_mean(found, known) {
                d = d.with_help(format!("did you mean `{prefix}{close}`?"));
            }
            Box::new(d)
        };
        if s.trim().is_empty() {
            return Err(Box::new(
                Diagnostic::error(sel.span.clone(), "empty host selector")
                    .with_label("expected a host name, `tag:NAME` or `group:NAME`"),
            ));
        }
        if let Some(tag) = s.strip_prefix("tag:") {
            return match self.by_tag.get(tag) {
                Some(h) => Ok(h.clone()),
                None => Err(none(
                    "host has the tag",
                    "tag:",
                    self.by_tag.keys().map(String::as_str).collect(),
                    tag,
                )),
            };
        }
        if let Some(group) = s.strip_prefix("group:") {
            return match self.groups.get(group) {
                Some(h) if !h.is_empty() => Ok(h.clone()),
                Some(_) => Err(Box::new(
                    Diagnostic::error(sel.span.clone(), format!("group `{group}` has no hosts"))
                        .with_label("this group's members match no host"),
                )),
                None => Err(none("group", "group:", group_names(), group)),
            };
        }
        if let Some((kind, _)) = s.split_once(':') {
            return Err(Box::new(
                Diagnostic::error(sel.span.clone(), format!("unknown selector kind `{kind}:`"))
                    .with_label("expected a host name, `tag:NAME` or `group:NAME`")
                    .suggest(kind, ["tag", "group"]),
            ));
        }
        match self.by_name.get(s) {
            Some(&i) => Ok(vec![i]),
            None if self.by_tag.contains_key(s) => Err(Box::new(
                Diagnostic::error(sel.span.clone(), format!("selector `{s}` matches no host"))
                    .with_label(format!("no host `{s}` in the inventory, but a tag `{s}`"))
                    .with_help(format!("to select the hosts tagged `{s}`, write `tag:{s}`")),
            )),
            None => Err(none(
                "host",
                "",
                self.hosts.iter().map(|h| h.name.as_str()).collect(),
                s,
            )),
        }
    }

    /// Several validated inventories as one (a site's runbooks'), and for each of them
    /// where its hosts went. A host several of them define is taken once, from the first:
    /// the site's validation has made sure they agree. Only halls and hosts are merged:
    /// selectors (tags, groups) were resolved when each runbook was validated, and
    /// nothing selects hosts after that. An inventory given more than once (runbooks
    /// that share their inventory files share it) is read once.
    pub fn merged(parts: &[&Inventory]) -> (Inventory, Vec<Vec<HostIdx>>) {
        // Per part, the first part that is the same inventory.
        let mut first: HashMap<*const Inventory, usize> = HashMap::new();
        let same: Vec<usize> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| *first.entry(std::ptr::from_ref(*p)).or_insert(i))
            .collect();
        let mut halls: Vec<Hall> = Vec::new();
        let mut hosts: BTreeMap<&str, &Host> = BTreeMap::new();
        for (i, inv) in parts.iter().enumerate() {
            if same[i] != i {
                continue;
            }
            for hall in &inv.halls {
                if !halls.iter().any(|h| h.name == hall.name) {
                    halls.push(hall.clone());
                }
            }
            for host in &inv.hosts {
                hosts.entry(host.name.as_str()).or_insert(host);
            }
        }
        let mut merged = Inventory {
            halls,
            hosts: hosts.into_values().cloned().collect(),
            sign_with: parts.iter().find_map(|inv| inv.sign_with.clone()),
            notify: parts.iter().flat_map(|inv| inv.notify.clone()).collect(),
            ..Inventory::default()
        };
        for (i, host) in merged.hosts.iter().enumerate() {
            merged.by_name.insert(host.name.as_str().to_string(), i);
        }
        let mut moved: Vec<Vec<HostIdx>> = Vec::with_capacity(parts.len());
        for (i, inv) in parts.iter().enumerate() {
            let to = if same[i] == i {
                inv.hosts
                    .iter()
                    .map(|h| merged.by_name[h.name.as_str()])
                    .collect()
            } else {
                moved[same[i]].clone()
            };
            moved.push(to);
        }
        (merged, moved)
    }

    /// The host called `name`.
    pub fn host_named(&self, name: &str) -> Option<HostIdx> {
        self.by_name.get(name).copied()
    }

    pub fn hall(&self, name: &str) -> Option<&Hall> {
        self.halls.iter().find(|h| h.name.as_str() == name)
    }

    pub fn hall_names(&self) -> Vec<&str> {
        self.halls.iter().map(|h| h.name.as_str()).collect()
    }
}

fn check_name(
    diags: &mut Diagnostics,
    what: &str,
    name: &Sp<String>,
    ok: fn(&str) -> bool,
) -> bool {
    if ok(&name.value) {
        return true;
    }
    diags.push(
        Diagnostic::error(
            name.span.clone(),
            format!("`{}` is not a valid {what} name", name.value),
        )
        .with_label(if what == "host" {
            "expected letters, digits, `.`, `-` and `_`, starting with a letter or digit"
        } else {
            "expected lowercase letters, digits, `-` and `_`, starting with a letter or digit"
        }),
    );
    false
}

fn address_error(host: &str, address: &Sp<String>) -> Diagnostic {
    let span = address.span.clone();
    if address.value.starts_with('-') {
        Diagnostic::error(
            span,
            format!("host `{host}` has an address starting with `-`"),
        )
        .with_label("expected a DNS name or an IP address")
        .with_help("a command given `{{host.address}}` would read it as an option")
    } else {
        Diagnostic::error(span, format!("host `{host}` has an invalid address")).with_label(
            "expected a DNS name or an IP address: letters, digits, `.`, `-`, `_`, `:` and `%`",
        )
    }
}

fn build_host(
    diags: &mut Diagnostics,
    halls: &[&str],
    raw: &super::raw::RawHost,
    file: &InventoryFile,
) -> Option<Host> {
    let name_ok = check_name(diags, "host", &raw.name, is_host_name);
    let transport = raw.transport.as_ref().map_or(Transport::Ssh, |t| t.value);
    let hall = match &raw.hall {
        // A misspelt or mistyped key was reported already.
        None if !raw.clean => None,
        None => {
            diags.push(
                Diagnostic::error(
                    raw.span.clone(),
                    format!("host `{}` has no hall", raw.name.value),
                )
                .with_label(format!(
                    "add `hall = ...` naming {}",
                    super::reader::one_of(halls)
                )),
            );
            None
        }
        Some(h) if !halls.contains(&h.value.as_str()) => {
            diags.push(
                Diagnostic::error(
                    h.span.clone(),
                    format!(
                        "host `{}` is in an unknown hall `{}`",
                        raw.name.value, h.value
                    ),
                )
                .with_label(format!("expected {}", super::reader::one_of(halls)))
                .suggest(&h.value, halls.iter().copied()),
            );
            None
        }
        Some(h) => Some(HallId::new(h.value.clone())),
    };
    let address = match (&raw.address, transport) {
        (Some(a), _) if !is_address(&a.value) => {
            diags.push(address_error(&raw.name.value, a));
            None
        }
        (Some(a), _) => Some(a.value.clone()),
        (None, Transport::Local) => Some("127.0.0.1".to_string()),
        (None, Transport::Ssh) if !raw.clean => None,
        (None, Transport::Ssh) => {
            diags.push(
                Diagnostic::error(
                    raw.span.clone(),
                    format!("host `{}` has no address", raw.name.value),
                )
                .with_label("SSH hosts need `address = \"...\"` (or set `transport = \"local\"`)"),
            );
            None
        }
    };
    let mut tags_ok = true;
    for t in &raw.tags {
        tags_ok &= check_name(diags, "tag", t, super::ids::is_tag_name);
    }
    let ssh = ssh_settings(&file.path, &file.raw.ssh, &raw.ssh);
    if !(name_ok && tags_ok) {
        return None;
    }
    Some(Host {
        name: HostId::new(raw.name.value.clone()),
        hall: hall?,
        transport,
        address: address?,
        tags: raw.tags.iter().map(|t| t.value.clone()).collect(),
        description: raw.description.as_ref().map(|d| d.value.clone()),
        ssh,
        span: raw.name.span.clone(),
    })
}
