//! The one list of action kinds (`run`, `local`, `http`, `tcp`, `manual`, `sleep`): the
//! key that names each in a step, the keys only some kinds take, and where each runs.
//! A new kind is added here; every `match` on [`ActionKind`], on the raw action and on the
//! validated [`Action`](super::runbook::Action) then fails to compile until it learns it,
//! and the messages that list kinds are built from this list.

use std::fmt;

/// What a step does, as the key that says it (`run = "..."`, `sleep = "5s"`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// A command on each selected host (or locally with `on = "local"`).
    Run,
    /// A command once on the machine running switchyard.
    Local,
    Http,
    Tcp,
    Manual,
    Sleep,
}

/// How many times a kind of step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runs {
    /// Once per selected host.
    PerHost,
    /// Once per selected host when its target uses a `host.*` placeholder; else once.
    PerHostIfTargetUsesHost,
    /// Once, on no host.
    Once,
}

/// The keys only commands take.
const COMMAND_KEYS: &[&str] = &["expect_exit", "expect_stdout"];

/// The keys only `http` steps take.
const HTTP_KEYS: &[&str] = &[
    "method",
    "headers",
    "body",
    "expect_status",
    "expect_body",
    "ca_file",
    "insecure_tls",
];

impl ActionKind {
    /// Every kind, in the order messages list them.
    pub const ALL: [ActionKind; 6] = [
        ActionKind::Run,
        ActionKind::Local,
        ActionKind::Http,
        ActionKind::Tcp,
        ActionKind::Manual,
        ActionKind::Sleep,
    ];

    /// The key that names the kind in a step, and in the plan's JSON.
    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Run => "run",
            ActionKind::Local => "local",
            ActionKind::Http => "http",
            ActionKind::Tcp => "tcp",
            ActionKind::Manual => "manual",
            ActionKind::Sleep => "sleep",
        }
    }

    /// The kind's value is a shell command, so placeholders in it are shell-quoted.
    pub fn is_command(self) -> bool {
        match self {
            ActionKind::Run | ActionKind::Local => true,
            ActionKind::Http | ActionKind::Tcp | ActionKind::Manual | ActionKind::Sleep => false,
        }
    }

    /// The keys this kind takes that some other kind does not; every step key not in
    /// [`ActionKind::kind_keys`] applies to every kind.
    pub fn own_keys(self) -> &'static [&'static str] {
        match self {
            ActionKind::Run | ActionKind::Local => COMMAND_KEYS,
            ActionKind::Http => HTTP_KEYS,
            ActionKind::Tcp | ActionKind::Manual | ActionKind::Sleep => &[],
        }
    }

    pub fn runs(self) -> Runs {
        match self {
            ActionKind::Run => Runs::PerHost,
            ActionKind::Http | ActionKind::Tcp => Runs::PerHostIfTargetUsesHost,
            ActionKind::Local | ActionKind::Manual | ActionKind::Sleep => Runs::Once,
        }
    }

    /// For a key of another kind written on this one: what this kind uses instead, if
    /// it has a key for the same purpose.
    pub fn instead_of(self, key: &str) -> Option<&'static str> {
        match self {
            ActionKind::Http => (key == "expect_stdout")
                .then_some("an `http` step checks the response with `expect_body`"),
            ActionKind::Run | ActionKind::Local => (key == "expect_body")
                .then_some("a command's output is checked with `expect_stdout`"),
            ActionKind::Tcp | ActionKind::Manual | ActionKind::Sleep => None,
        }
    }

    /// Every key that only some kinds take, each once, in the order of [`ActionKind::ALL`].
    pub fn kind_keys() -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for key in Self::ALL.iter().flat_map(|k| k.own_keys()) {
            if !keys.contains(key) {
                keys.push(key);
            }
        }
        keys
    }

    /// The keys of the kinds that take `key`.
    pub fn taking(key: &str) -> Vec<&'static str> {
        Self::keys_where(|k| k.own_keys().contains(&key))
    }

    /// The keys of the kinds that run `runs`.
    pub fn running(runs: Runs) -> Vec<&'static str> {
        Self::keys_where(|k| k.runs() == runs)
    }

    fn keys_where(pick: impl Fn(ActionKind) -> bool) -> Vec<&'static str> {
        Self::ALL
            .into_iter()
            .filter(|k| pick(*k))
            .map(ActionKind::key)
            .collect()
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_listed_once() {
        let keys: Vec<&str> = ActionKind::ALL.into_iter().map(ActionKind::key).collect();
        assert_eq!(keys, ["run", "local", "http", "tcp", "manual", "sleep"]);
        assert_eq!(
            ActionKind::kind_keys(),
            [
                "expect_exit",
                "expect_stdout",
                "method",
                "headers",
                "body",
                "expect_status",
                "expect_body",
                "ca_file",
                "insecure_tls"
            ]
        );
    }

    #[test]
    fn which_kinds_take_a_key_and_how_they_run() {
        let table: &[(&str, &[&str])] = &[
            ("expect_exit", &["run", "local"]),
            ("expect_stdout", &["run", "local"]),
            ("expect_body", &["http"]),
            ("insecure_tls", &["http"]),
            ("timeout", &[]),
        ];
        for (key, kinds) in table {
            assert_eq!(ActionKind::taking(key), *kinds, "{key}");
        }
        assert_eq!(ActionKind::running(Runs::PerHost), ["run"]);
        assert_eq!(
            ActionKind::running(Runs::PerHostIfTargetUsesHost),
            ["http", "tcp"]
        );
        assert_eq!(
            ActionKind::running(Runs::Once),
            ["local", "manual", "sleep"]
        );
    }
}
