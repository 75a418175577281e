//! Public-key authentication, in the order of the inventory's promise: the host's
//! `identity_file` if set, then every key ssh-agent holds, then the default key files
//! that exist. A failure says what each of them gave, so that "permission denied" never
//! has to be guessed at. Also the local user's name and home, as `ssh` finds them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::known_hosts;
use super::watched::Watched;

/// The default key files, in OpenSSH's order, under `~/.ssh/`.
const DEFAULT_KEYS: &[&str] = &["id_ed25519", "id_ecdsa", "id_rsa"];

/// Authenticates the watched session as `user`, or says what was tried and why each
/// failed. Each exchange with the server may take `within`, as libssh2's session
/// timeout allows a blocking call.
pub(super) async fn authenticate(
    watched: &Watched,
    user: &str,
    identity_file: Option<&Path>,
    within: Duration,
) -> Result<(), String> {
    let session = watched.session();
    let methods = watched
        .complete(Some(within), || {
            session.auth_methods(user).map(str::to_owned)
        })
        .await;
    match methods {
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
    let try_file = async |path: &Path, what: &str, tried: &mut Vec<String>| -> bool {
        let offered = match with_public_key(path) {
            Some((private, public)) => {
                watched
                    .complete(Some(within), || {
                        session.userauth_pubkey_memory(user, Some(&public), &private, None)
                    })
                    .await
            }
            None => {
                watched
                    .complete(Some(within), || {
                        session.userauth_pubkey_file(user, None, path, None)
                    })
                    .await
            }
        };
        match offered {
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
        } else if try_file(path, "identity file", &mut tried).await {
            return Ok(());
        }
    }
    match try_agent(watched, user, within).await {
        Ok(()) => return Ok(()),
        Err(why) => tried.push(format!("ssh-agent ({why})")),
    }
    let defaults: Vec<PathBuf> = crate::local_user::home()
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
        if Some(path.as_path()) != identity_file && try_file(path, "default key", &mut tried).await
        {
            return Ok(());
        }
    }
    if !found {
        tried.push("default keys (none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists)".into());
    }
    Err(format!("tried {}", tried.join("; ")))
}

/// Offers every key the agent holds. (The agent is local and answers at once; only the
/// offers go to the server.)
async fn try_agent(watched: &Watched, user: &str, within: Duration) -> Result<(), String> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err("not running: SSH_AUTH_SOCK is not set".into());
    }
    let mut agent = watched
        .session()
        .agent()
        .map_err(|e| e.message().to_string())?;
    agent
        .connect()
        .map_err(|e| format!("cannot connect: {}", e.message()))?;
    agent
        .list_identities()
        .map_err(|e| format!("cannot list keys: {}", e.message()))?;
    let keys = agent.identities().map_err(|e| e.message().to_string())?;
    let result = if keys.is_empty() {
        Err("it holds no keys".to_string())
    } else {
        let mut accepted = false;
        for key in &keys {
            if watched
                .complete(Some(within), || agent.userauth(user, key))
                .await
                .is_ok()
            {
                accepted = true;
                break;
            }
        }
        if accepted {
            Ok(())
        } else {
            Err(format!("{} key(s) refused", keys.len()))
        }
    };
    let _ = agent.disconnect();
    result
}

/// An unencrypted OpenSSH key file's text, with its public key as a `.pub` line
/// (`TYPE BASE64`) taken from the file's own header. Given no public key, libssh2 works
/// it out by loading the private key a second time (besides once for the signature),
/// which costs a login as much as the signature does. `None` for other files (PEM keys,
/// encrypted ones, unreadable ones), which libssh2 reads itself.
fn with_public_key(path: &Path) -> Option<(String, String)> {
    let private = std::fs::read_to_string(path).ok()?;
    let public = public_line(&private)?;
    Some((private, public))
}

/// The public key in the header of an `openssh-key-v1` file that holds one unencrypted
/// key (OpenSSH's PROTOCOL.key).
fn public_line(private: &str) -> Option<String> {
    fn string<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
        let field = data.get(4..4 + len)?;
        *data = &data[4 + len..];
        Some(field)
    }
    let body: String = private
        .trim()
        .strip_prefix("-----BEGIN OPENSSH PRIVATE KEY-----")?
        .strip_suffix("-----END OPENSSH PRIVATE KEY-----")?
        .split_whitespace()
        .collect();
    let raw = known_hosts::decode(&body)?;
    let mut rest = raw.strip_prefix(b"openssh-key-v1\0")?;
    let (cipher, _kdf, _kdf_options) = (string(&mut rest)?, string(&mut rest)?, string(&mut rest)?);
    let keys = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
    rest = &rest[4..];
    if cipher != b"none" || keys != 1 {
        return None;
    }
    let public = string(&mut rest)?;
    let key_type = known_hosts::key_type(public);
    (key_type != "unknown").then(|| format!("{key_type} {}", known_hosts::encode(public)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_public_key_from_an_openssh_key_file_header() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let keygen = |name: &str, args: &[&str]| {
            let path = dir.path().join(name);
            let made = std::process::Command::new("ssh-keygen")
                .args(["-q", "-C", "a comment", "-f"])
                .arg(&path)
                .args(args)
                .status()
                .expect("ssh-keygen runs");
            assert!(made.success());
            let private = std::fs::read_to_string(&path).expect("private key");
            let public = std::fs::read_to_string(path.with_extension("pub")).expect("public");
            let public: Vec<&str> = public.split_whitespace().take(2).collect();
            (public_line(&private), public.join(" "))
        };
        for ty in ["ed25519", "ecdsa", "rsa"] {
            let (read, expected) = keygen(ty, &["-t", ty, "-N", ""]);
            assert_eq!(read.as_deref(), Some(expected.as_str()), "{ty}");
        }
        // Left to libssh2: an encrypted key, and the older PEM format.
        assert_eq!(
            keygen("encrypted", &["-t", "ed25519", "-N", "secret"]).0,
            None
        );
        assert_eq!(keygen("pem", &["-t", "rsa", "-m", "PEM", "-N", ""]).0, None);
        assert_eq!(public_line("not a key"), None);
    }
}
