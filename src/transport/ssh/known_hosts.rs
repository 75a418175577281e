//! Host keys checked against an OpenSSH `known_hosts` file the way `ssh` checks them.
//!
//! - A host on port 22 is looked up as `addr`, on any other port as `[addr]:port` only.
//! - libssh2 gives up on a whole file at the first line it cannot parse (`@cert-authority`,
//!   a key type it does not know, garbage), which would hide every line after it. So the
//!   file is read line by line here and each line handed over alone; lines it rejects are
//!   skipped with a warning. `@revoked` lines are honoured: such a key is refused for
//!   every host.
//! - Before the handshake, the key types already recorded for the host are put first in
//!   the host-key algorithm preferences, as OpenSSH does: otherwise a host known by its
//!   ed25519 key but offering ECDSA too would look like a changed key.
//! - Under `accept-new` an unknown key is appended (`NAME TYPE BASE64`); a changed key
//!   fails under both settings.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ssh2::{CheckResult, HashType, KnownHostFileKind, KnownHosts, Session};

use crate::config::model::HostKeyChecking;
use crate::transport::TransportError;

mod parsed;

/// Serialises check-then-append under `accept-new`, so that sessions opened to a new host
/// at the same time add its key once.
static APPEND: Mutex<()> = Mutex::new(());

/// The name a host's keys are recorded under.
pub(super) fn lookup_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// One `known_hosts` file as it bears on one host: the lines that can match its name,
/// handed to libssh2 for the check.
pub(super) struct KnownHostsFile {
    known: KnownHosts,
    kept: Kept,
}

/// What a [`KnownHostsFile`] keeps when its libssh2 store is let go (that store cannot
/// move between threads, and a login waits for the host between the two uses of it):
/// enough to make the same store again with [`Kept::reopen`].
pub(super) struct Kept {
    path: PathBuf,
    /// The candidate lines libssh2 accepted, in file order.
    lines: Vec<String>,
    /// The key type and key of each of those lines.
    keys: Vec<(String, Vec<u8>)>,
    /// The whole file as read: its `@revoked` keys, or why it could not be read.
    parsed: Arc<parsed::Parsed>,
}

impl KnownHostsFile {
    /// The lines of the file at `path` that can match `name`, read into `session`'s
    /// libssh2 store. Only those: libssh2 looks a name up by walking every line it
    /// holds, so a store of the whole file made each of 1,000 logins walk 1,000 lines
    /// once per key (`preferred_algorithms`), which took most of a 1,000-host run's CPU.
    pub(super) fn load(
        session: &Session,
        path: &Path,
        name: &str,
    ) -> Result<KnownHostsFile, ssh2::Error> {
        let parsed = parsed::read(path);
        let mut file = KnownHostsFile {
            known: session.known_hosts()?,
            kept: Kept {
                path: path.to_path_buf(),
                lines: Vec::new(),
                keys: Vec::new(),
                parsed: Arc::clone(&parsed),
            },
        };
        for line in parsed.candidates(name) {
            match file.known.read_str(&line.text, KnownHostFileKind::OpenSSH) {
                Ok(()) => {
                    if let Some(key) = line.key() {
                        file.kept.keys.push(key);
                    }
                    file.kept.lines.push(line.text.clone());
                }
                Err(e) => tracing::warn!(
                    "{}:{}: skipped a line that cannot be read ({})",
                    path.display(),
                    line.number,
                    e.message()
                ),
            }
        }
        Ok(file)
    }

    /// Lets libssh2's store go, keeping what makes it again.
    pub(super) fn keep(self) -> Kept {
        self.kept
    }

    /// Host-key algorithms for `method_pref`: those of the key types recorded for `name`
    /// first, then every other one libssh2 supports (certificates excluded: they cannot
    /// be checked against plain keys).
    pub(super) fn preferred_algorithms(&self, name: &str, supported: &[&str]) -> String {
        let mut types: Vec<&str> = Vec::new();
        for (ty, key) in &self.kept.keys {
            if !types.contains(&ty.as_str())
                && matches!(self.known.check(name, key), CheckResult::Match)
            {
                types.push(ty);
            }
        }
        let mut prefs: Vec<&str> = Vec::new();
        for ty in types {
            let algs: &[&str] = if ty == "ssh-rsa" {
                &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
            } else {
                &[ty]
            };
            prefs.extend(algs.iter().filter(|a| supported.contains(a)));
        }
        for alg in supported {
            if !alg.contains("-cert-") && !prefs.contains(alg) {
                prefs.push(alg);
            }
        }
        prefs.join(",")
    }

    /// Checks the key `session` was offered (after the handshake) against the file.
    pub(super) fn verify(
        &self,
        session: &Session,
        name: &str,
        checking: HostKeyChecking,
    ) -> Result<(), TransportError> {
        let Some((key, _)) = session.host_key() else {
            return Err(TransportError::Session {
                address: name.to_string(),
                reason: "the server sent no host key".into(),
            });
        };
        let fail = |reason: String| TransportError::HostKey {
            address: name.to_string(),
            key_type: key_type(key),
            fingerprint: encode(session.host_key_hash(HashType::Sha256).unwrap_or_default())
                .trim_end_matches('=')
                .to_string(),
            reason,
        };
        let path = self.kept.path.display();
        if let Some(e) = &self.kept.parsed.unreadable {
            return Err(fail(format!("cannot read {path}: {e}")));
        }
        if self.kept.parsed.revoked.contains(&encode(key)) {
            return Err(fail(format!("the key is marked @revoked in {path}")));
        }
        match self.known.check(name, key) {
            CheckResult::Match => Ok(()),
            CheckResult::Mismatch => Err(fail(format!(
                "it differs from the key recorded for `{name}` in {path} (reinstalled host, \
                 or someone in the middle); a changed key is never accepted"
            ))),
            CheckResult::NotFound if checking == HostKeyChecking::AcceptNew => {
                self.accept_new(session, name, key).map_err(&fail)
            }
            CheckResult::NotFound => Err(fail(format!(
                "no key for `{name}` in {path}, and host_key_checking is \"strict\""
            ))),
            CheckResult::Failure => Err(fail(format!("cannot check it against {path}"))),
        }
    }

    /// Appends an unknown key, unless a session opened at the same time just did.
    fn accept_new(&self, session: &Session, name: &str, key: &[u8]) -> Result<(), String> {
        let _guard = APPEND.lock().unwrap_or_else(PoisonError::into_inner);
        let path = &self.kept.path;
        let now = KnownHostsFile::load(session, path, name).map_err(|e| e.to_string())?;
        match now.known.check(name, key) {
            CheckResult::Match => return Ok(()),
            CheckResult::Mismatch => {
                return Err(format!(
                    "it differs from the key just recorded for `{name}` in {}",
                    path.display()
                ));
            }
            CheckResult::NotFound | CheckResult::Failure => {}
        }
        append(path, &format!("{name} {} {}\n", key_type(key), encode(key)))
            .map_err(|e| format!("cannot add it to {}: {e}", path.display()))?;
        tracing::info!(
            "added the {} host key of {name} to {}",
            key_type(key),
            path.display()
        );
        Ok(())
    }
}

impl Kept {
    /// The same store as before, in `session` (the lines were read once already, and
    /// every one of them accepted).
    pub(super) fn reopen(self, session: &Session) -> Result<KnownHostsFile, ssh2::Error> {
        let mut known = session.known_hosts()?;
        for line in &self.lines {
            known.read_str(line, KnownHostFileKind::OpenSSH)?;
        }
        Ok(KnownHostsFile { known, kept: self })
    }
}

/// Appends `line` to the file, creating it (and its folder) private to the user, and
/// first ending a last line that has no newline.
fn append(path: &Path, line: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let ends_open = fs::read(path).is_ok_and(|b| b.last().is_some_and(|&c| c != b'\n'));
    let mut file = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    if ends_open {
        file.write_all(b"\n")?;
    }
    file.write_all(line.as_bytes())
}

/// The key type named at the start of an SSH public key blob (`ssh-ed25519`, ...).
pub(super) fn key_type(key: &[u8]) -> String {
    let name = key
        .get(..4)
        .and_then(|len| {
            let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
            key.get(4..4 + len)
        })
        .unwrap_or(b"unknown");
    String::from_utf8_lossy(name).into_owned()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding, as in `known_hosts`.
pub(super) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_pads_like_openssh() {
        for (raw, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
        ] {
            assert_eq!(encode(raw), text);
            assert_eq!(decode(text).as_deref(), Some(raw));
        }
        assert_eq!(decode("not base64!"), None);
    }

    #[test]
    fn reads_the_key_type_from_the_blob() {
        let mut blob = 11u32.to_be_bytes().to_vec();
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        assert_eq!(key_type(&blob), "ssh-ed25519");
        assert_eq!(key_type(&[0, 0]), "unknown");
    }

    #[test]
    fn non_default_ports_are_looked_up_in_brackets() {
        assert_eq!(lookup_name("10.0.0.1", 22), "10.0.0.1");
        assert_eq!(lookup_name("10.0.0.1", 2222), "[10.0.0.1]:2222");
    }
}
