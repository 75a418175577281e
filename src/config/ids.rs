//! Names of halls, hosts and services as distinct types, so one is never passed for another.

use std::fmt;

use serde::Serialize;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A data hall, like `a` or `north`.
    HallId
);
id_type!(
    /// A host in the inventory, like `db-a1`.
    HostId
);
id_type!(
    /// A service in a runbook, like `db`.
    ServiceId
);

/// Whether `s` is a name of lowercase letters, digits, `-` and `_` (as services and halls
/// are named), starting with a letter or digit.
pub fn is_simple_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Host names may also have dots and capitals, as DNS names do.
pub fn is_host_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Host addresses are DNS names or IP addresses (`fe80::1%eth0` included), never
/// starting with `-`: commands that take `{{host.address}}` as an argument would read
/// it as an option (`-oProxyCommand=...`). Nor do they ever need shell quoting.
pub fn is_address(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:%".contains(c))
}

/// Tags: letters, digits, `_` and `-`.
pub fn is_tag_name(s: &str) -> bool {
    is_var_name(&s.replace('-', "_"))
}

/// Variable and secret names, as templates refer to them.
pub fn is_var_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
