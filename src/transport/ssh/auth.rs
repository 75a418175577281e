//! Public-key authentication, in the order of the inventory's promise: the host's
//! `identity_file` if set, then every key ssh-agent holds, then the default key files
//! that exist. A failure says what each of them gave, so that "permission denied" never
//! has to be guessed at. Also the local user's name and home, as `ssh` finds them.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ssh2::Session;

/// The default key files, in OpenSSH's order, under `~/.ssh/`.
const DEFAULT_KEYS: &[&str] = &["id_ed25519", "id_ecdsa", "id_rsa"];

/// Authenticates `session` as `user`, or says what was tried and why each failed.
pub(super) fn authenticate(
    session: &Session,
    user: &str,
    identity_file: Option<&Path>,
) -> Result<(), String> {
    match session.auth_methods(user) {
        Ok(methods) if !methods.split(',').any(|m| m == "publickey") => {
            return Err(format!(
                "the server offers only `{methods}`; switchyard logs in with public keys"
            ));
        }
        Ok(_) => {}
        // `none` was accepted: nothing more to do.
        Err(_) if session.authenticated() => return Ok(()),
        Err(e) => return Err(format!("cannot ask for the login methods: {}", e.message())),
    }
    let mut tried = Vec::new();
    let try_file = |path: &Path, what: &str, tried: &mut Vec<String>| -> bool {
        match session.userauth_pubkey_file(user, None, path, None) {
            Ok(()) => true,
            Err(e) => {
                tried.push(format!("{what} {} ({})", path.display(), key_failure(&e)));
                false
            }
        }
    };
    if let Some(path) = identity_file {
        if !path.exists() {
            tried.push(format!("identity file {} (no such file)", path.display()));
        } else if try_file(path, "identity file", &mut tried) {
            return Ok(());
        }
    }
    match try_agent(session, user) {
        Ok(()) => return Ok(()),
        Err(why) => tried.push(format!("ssh-agent ({why})")),
    }
    let defaults: Vec<PathBuf> = home()
        .map(|h| {
            DEFAULT_KEYS
                .iter()
                .map(|k| h.join(".ssh").join(k))
                .collect()
        })
        .unwrap_or_default();
    let mut found = false;
    for path in defaults.iter().filter(|p| p.exists()) {
        found = true;
        if Some(path.as_path()) != identity_file && try_file(path, "default key", &mut tried) {
            return Ok(());
        }
    }
    if !found {
        tried.push("default keys (none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists)".into());
    }
    Err(format!("tried {}", tried.join("; ")))
}

/// Offers every key the agent holds.
fn try_agent(session: &Session, user: &str) -> Result<(), String> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err("not running: SSH_AUTH_SOCK is not set".into());
    }
    let mut agent = session.agent().map_err(|e| e.message().to_string())?;
    agent
        .connect()
        .map_err(|e| format!("cannot connect: {}", e.message()))?;
    agent
        .list_identities()
        .map_err(|e| format!("cannot list keys: {}", e.message()))?;
    let keys = agent.identities().map_err(|e| e.message().to_string())?;
    let result = if keys.is_empty() {
        Err("it holds no keys".to_string())
    } else if keys.iter().any(|k| agent.userauth(user, k).is_ok()) {
        Ok(())
    } else {
        Err(format!("{} key(s) refused", keys.len()))
    };
    let _ = agent.disconnect();
    result
}

/// Why a key file did not get us in, in words.
fn key_failure(e: &ssh2::Error) -> String {
    match e.code() {
        // LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED
        ssh2::ErrorCode::Session(-18 | -19) => "refused by the server".into(),
        // LIBSSH2_ERROR_FILE: unreadable, or encrypted (use ssh-agent for those)
        ssh2::ErrorCode::Session(-16) => format!(
            "cannot use the key: {}; encrypted keys must be loaded into ssh-agent",
            e.message()
        ),
        _ => e.message().to_string(),
    }
}

/// The local user's name, as `ssh` uses it when no `user` is configured.
pub(super) fn local_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|u| !u.is_empty())
        .or_else(|| passwd_entry().map(|(name, _)| name))
}

/// The local user's home: `$HOME`, else the password database's.
pub(super) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| passwd_entry().map(|(_, home)| home))
}

/// `~` and `~/...` made absolute with [`home`]; other paths unchanged.
pub(super) fn expand_tilde(path: &Path) -> PathBuf {
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
        assert!(local_user().is_some_and(|u| !u.is_empty()));
        assert!(passwd_entry().is_some());
    }
}
