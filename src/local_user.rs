//! Who runs switchyard on this machine: the user's name and home, from the environment
//! and else the password database, as OpenSSH finds them. SSH logins use them (the
//! default user, `~` in key and known_hosts paths), and so does signing (`~` in a key
//! path).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The local user's name, as `ssh` uses it when no `user` is configured.
pub fn name() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .or_else(|| passwd_entry().map(|(user, _)| user))
}

/// The local user's home: `$HOME`, else the password database's.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| passwd_entry().map(|(_, home)| home))
}

/// `~` and `~/...` made absolute with [`home`]; other paths unchanged.
pub fn expand_tilde(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), home()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// This process's user's name and home from `/etc/passwd`.
fn passwd_entry() -> Option<(String, PathBuf)> {
    let uid = std::fs::metadata("/proc/self").ok()?.uid().to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 6 && f[2] == uid).then(|| (f[0].to_string(), PathBuf::from(f[5])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_only_a_leading_tilde() {
        let home = home().expect("tests run with a home");
        assert_eq!(expand_tilde(Path::new("~/.ssh/kh")), home.join(".ssh/kh"));
        assert_eq!(expand_tilde(Path::new("~")), home);
        assert_eq!(expand_tilde(Path::new("/etc/~/x")), Path::new("/etc/~/x"));
        assert_eq!(expand_tilde(Path::new("~other/x")), Path::new("~other/x"));
    }

    #[test]
    fn finds_a_local_user_name() {
        assert!(name().is_some_and(|u| !u.is_empty()));
        assert!(passwd_entry().is_some());
    }
}
