//! Signed runs (spec §9): `manifest.txt` names every file of a run folder with its
//! SHA-256 and ends with the journal's last hash; `manifest.txt.sig` is an SSHSIG
//! signature over it (namespace `switchyard-evidence`), so that stock OpenSSH checks it:
//! `ssh-keygen -Y verify -f allowed_signers -I SIGNER -n switchyard-evidence -s
//! manifest.txt.sig < manifest.txt`.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::local_user::expand_tilde;

use super::folder;

/// The SSHSIG namespace of a run's signature.
pub const NAMESPACE: &str = "switchyard-evidence";
pub const MANIFEST: &str = "manifest.txt";
pub const SIGNATURE: &str = "manifest.txt.sig";
/// The manifest's last line's label.
const LAST_HASH: &str = "journal-last-hash";

/// A key, loaded and checked before a run starts: a private key file, or a key held by
/// ssh-agent.
pub struct Signer {
    key: Key,
    public: PublicKey,
    spec: String,
}

enum Key {
    File(Box<PrivateKey>),
    /// Signs through the agent at this socket (`$SSH_AUTH_SOCK`).
    Agent(PathBuf),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.fingerprint())
    }
}

impl Signer {
    /// Loads `spec`: an OpenSSH private key file, or `agent:PUBKEYFILE`, the key of
    /// ssh-agent (`$SSH_AUTH_SOCK`) whose public part is in that file. `Err` says why the
    /// key cannot sign.
    pub fn load(spec: &str) -> Result<Signer, String> {
        let signer = match spec.strip_prefix("agent:") {
            Some(file) => Signer::agent(spec, file)?,
            None => Signer::file(spec)?,
        };
        let algorithm = signer.public.algorithm();
        // A key whose algorithm cannot sign here is refused now, not after the run. RSA
        // key files fail in the ssh-key crate's 0.6 line (it rebuilds the key from the
        // wrong primes); ECDSA P-521 and security key files are not built in.
        signer.sign(b"switchyard").map_err(|e| {
            format!("--sign-with `{spec}`: a {algorithm} key cannot sign run folders here ({e}); use an Ed25519 key (ssh-keygen -t ed25519), or any key through ssh-agent (agent:PUBKEYFILE)")
        })?;
        Ok(signer)
    }

    fn file(spec: &str) -> Result<Signer, String> {
        let text = std::fs::read_to_string(expand_tilde(Path::new(spec)))
            .map_err(|e| format!("--sign-with `{spec}`: cannot read the key: {e}"))?;
        let key = PrivateKey::from_openssh(text.trim()).map_err(|e| {
            format!("--sign-with `{spec}`: not an OpenSSH private key ({e}); a public key or another format cannot sign")
        })?;
        if key.is_encrypted() {
            return Err(format!(
                "--sign-with `{spec}`: the key is protected by a passphrase; switchyard cannot ask for it: use a key without a passphrase, or load it into ssh-agent and give agent:PUBKEYFILE"
            ));
        }
        Ok(Signer {
            public: key.public_key().clone(),
            key: Key::File(Box::new(key)),
            spec: spec.to_string(),
        })
    }

    fn agent(spec: &str, file: &str) -> Result<Signer, String> {
        let text = std::fs::read_to_string(expand_tilde(Path::new(file)))
            .map_err(|e| format!("--sign-with `{spec}`: cannot read the public key: {e}"))?;
        let public = PublicKey::from_openssh(text.trim())
            .map_err(|e| format!("--sign-with `{spec}`: not an OpenSSH public key ({e})"))?;
        let socket = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                format!("--sign-with `{spec}`: SSH_AUTH_SOCK is not set: no ssh-agent to sign with")
            })?;
        let socket = PathBuf::from(socket);
        let held = ssh_agent_client_rs::Client::connect(&socket)
            .and_then(|mut c| c.list_all_identities())
            .map_err(|e| {
                format!(
                    "--sign-with `{spec}`: cannot reach ssh-agent at `{}`: {e}",
                    socket.display()
                )
            })?;
        if !held
            .iter()
            .any(|k| <&ssh_key::public::KeyData>::from(k) == public.key_data())
        {
            return Err(format!(
                "--sign-with `{spec}`: ssh-agent does not hold the key {} (ssh-add it first)",
                public.fingerprint(HashAlg::Sha256)
            ));
        }
        Ok(Signer {
            key: Key::Agent(socket),
            public,
            spec: spec.to_string(),
        })
    }

    /// `SHA256:...` of its public key.
    pub fn fingerprint(&self) -> String {
        self.public.fingerprint(HashAlg::Sha256).to_string()
    }

    fn sign(&self, msg: &[u8]) -> Result<String, String> {
        let failed = |e: &dyn std::fmt::Display| format!("cannot sign with `{}`: {e}", self.spec);
        let sig = match &self.key {
            Key::File(key) => key
                .sign(NAMESPACE, HashAlg::Sha512, msg)
                .map_err(|e| failed(&e))?,
            Key::Agent(socket) => {
                let data =
                    SshSig::signed_data(NAMESPACE, HashAlg::Sha512, msg).map_err(|e| failed(&e))?;
                let signature = ssh_agent_client_rs::Client::connect(socket)
                    .and_then(|mut c| c.sign(&self.public, &data))
                    .map_err(|e| failed(&e))?;
                SshSig::new(
                    self.public.key_data().clone(),
                    NAMESPACE,
                    HashAlg::Sha512,
                    signature,
                )
                .map_err(|e| failed(&e))?
            }
        };
        sig.to_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the signature: {e}"))
    }

    /// Writes `manifest.txt` for the run folder `dir`, whose journal ends in
    /// `last_hash`, and `manifest.txt.sig` over it.
    pub fn sign_folder(&self, dir: &Path, last_hash: &str) -> Result<(), String> {
        let manifest = manifest(dir, last_hash)?;
        let path = dir.join(MANIFEST);
        folder::write_synced(&path, manifest.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        let sig = self.sign(manifest.as_bytes())?;
        let path = dir.join(SIGNATURE);
        folder::write_synced(&path, sig.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    }
}

/// The manifest of the folder `dir` as it is now.
pub fn manifest(dir: &Path, last_hash: &str) -> Result<String, String> {
    let mut text = String::new();
    for rel in files(dir)? {
        let bytes =
            std::fs::read(dir.join(&rel)).map_err(|e| format!("{rel}: cannot read: {e}"))?;
        let hash = folder::hashed(rel, &bytes);
        text.push_str(&format!("{}  {}\n", hash.sha256, hash.path));
    }
    text.push_str(&format!("{LAST_HASH}  {last_hash}\n"));
    Ok(text)
}

/// Every file of the folder but the manifest and its signature (and a socket, which
/// holds nothing), relative, sorted.
fn files(dir: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = todo.pop() {
        let entries = std::fs::read_dir(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            let kind = entry
                .file_type()
                .map_err(|e| format!("{rel}: cannot read: {e}"))?;
            if kind.is_dir() {
                todo.push((entry.path(), format!("{rel}/")));
            } else if std::os::unix::fs::FileTypeExt::is_socket(&kind) {
                // `answer.sock` of a run in progress (or killed) is no evidence.
                continue;
            } else if rel != MANIFEST && rel != SIGNATURE {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Who signed a folder, as found in the allowed-signers file.
#[derive(Debug)]
pub struct Signed {
    pub principal: String,
    pub fingerprint: String,
}

/// What a folder's signature and manifest say.
#[derive(Debug)]
pub enum Signature {
    /// Neither manifest nor signature.
    Absent,
    /// Present, not checked (no allowed-signers file given).
    Unchecked,
    /// Checked and good.
    Good(Signed),
}

/// Checks the signature and manifest of `dir`, whose journal ends in `last_hash`,
/// against `allowed` (an allowed-signers file) when given; adds each problem found.
pub fn check(
    dir: &Path,
    last_hash: &str,
    allowed: Option<&Path>,
    problems: &mut Vec<String>,
) -> Signature {
    let sig_text = std::fs::read_to_string(dir.join(SIGNATURE)).ok();
    let manifest_text = std::fs::read_to_string(dir.join(MANIFEST)).ok();
    let Some(allowed) = allowed else {
        if let Some(manifest_text) = &manifest_text {
            check_manifest(dir, manifest_text, last_hash, problems);
        }
        return if sig_text.is_some() {
            Signature::Unchecked
        } else {
            Signature::Absent
        };
    };
    let Some(sig_text) = sig_text else {
        problems.push(format!(
            "{SIGNATURE}: missing (--allowed-signers was given: the run folder must be signed)"
        ));
        return Signature::Absent;
    };
    let Some(manifest_text) = manifest_text else {
        problems.push(format!("{MANIFEST}: missing, but {SIGNATURE} is there"));
        return Signature::Absent;
    };
    check_manifest(dir, &manifest_text, last_hash, problems);
    match check_signature(&sig_text, &manifest_text, allowed) {
        Ok(signed) => Signature::Good(signed),
        Err(problem) => {
            problems.push(problem);
            Signature::Absent
        }
    }
}

fn check_signature(sig_text: &str, manifest: &str, allowed: &Path) -> Result<Signed, String> {
    let sig = SshSig::from_pem(sig_text.trim())
        .map_err(|e| format!("{SIGNATURE}: not an SSH signature ({e})"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "{SIGNATURE}: signed for namespace `{}`, not `{NAMESPACE}`",
            sig.namespace()
        ));
    }
    let key = PublicKey::from(sig.public_key().clone());
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    let signers = allowed_signers(allowed)?;
    let principal = signers
        .iter()
        .find(|s| s.key.key_data() == key.key_data() && s.allows(NAMESPACE))
        .map(|s| s.principals.clone())
        .ok_or_else(|| {
            format!(
                "{SIGNATURE}: signed by {fingerprint}, a key that `{}` does not allow for namespace {NAMESPACE}",
                allowed.display()
            )
        })?;
    key.verify(NAMESPACE, manifest.as_bytes(), &sig).map_err(|e| {
        format!("{SIGNATURE}: does not verify over {MANIFEST} ({e}): the manifest was changed after signing")
    })?;
    Ok(Signed {
        principal,
        fingerprint,
    })
}

/// Every line of the manifest against the folder, and the folder against the manifest.
fn check_manifest(dir: &Path, text: &str, last_hash: &str, problems: &mut Vec<String>) {
    let mut listed = std::collections::BTreeMap::new();
    let mut signed_hash = None;
    for (n, line) in text.lines().enumerate() {
        let Some((hash, rel)) = line.split_once("  ") else {
            problems.push(format!("{MANIFEST} line {}: not `SHA256  PATH`", n + 1));
            continue;
        };
        if hash == LAST_HASH {
            signed_hash = Some(rel.to_string());
        } else {
            listed.insert(rel.to_string(), hash.to_string());
        }
    }
    match signed_hash {
        None => problems.push(format!("{MANIFEST}: no `{LAST_HASH}` line")),
        Some(h) if h != last_hash => problems.push(format!(
            "{MANIFEST}: {LAST_HASH} is {h}, but journal.jsonl ends in {last_hash} (the journal was changed after signing)"
        )),
        Some(_) => {}
    }
    let present = match files(dir) {
        Ok(present) => present,
        Err(e) => {
            problems.push(e);
            return;
        }
    };
    for rel in &present {
        let Some(hash) = listed.get(rel) else {
            problems.push(format!("{rel}: not in {MANIFEST} (added after signing)"));
            continue;
        };
        match std::fs::read(dir.join(rel)) {
            Ok(bytes) => {
                let actual = folder::hashed(String::new(), &bytes).sha256;
                if &actual != hash {
                    problems.push(format!(
                        "{rel}: its SHA-256 is {actual}, {MANIFEST} signed {hash} (the file was changed after signing)"
                    ));
                }
            }
            Err(e) => problems.push(format!("{rel}: cannot read: {e}")),
        }
    }
    for rel in listed.keys() {
        if !present.contains(rel) {
            problems.push(format!("{rel}: listed in {MANIFEST} but missing"));
        }
    }
}

/// One line of an OpenSSH allowed-signers file.
struct Allowed {
    principals: String,
    namespaces: Option<Vec<String>>,
    key: PublicKey,
}

impl Allowed {
    fn allows(&self, namespace: &str) -> bool {
        self.namespaces.as_ref().is_none_or(|ns| {
            ns.iter()
                .any(|n| glob::Pattern::new(n).is_ok_and(|p| p.matches(namespace)))
        })
    }
}

/// Whether `path` reads as an allowed-signers file with at least one key: checked once
/// before many folders are verified against it, so that a wrong path is one error.
pub fn check_allowed_signers(path: &Path) -> Result<(), String> {
    match allowed_signers(path)?.len() {
        0 => Err(format!(
            "`{}` allows no key: every signed folder would fail",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// Reads an allowed-signers file: `principals [options] keytype base64 [comment]`.
fn allowed_signers(path: &Path) -> Result<Vec<Allowed>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("`{}` line {}: {why}", path.display(), n + 1);
        let (principals, rest) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| bad("no key"))?;
        let rest = rest.trim_start();
        let (options, key_text) = if looks_like_key(rest) {
            ("", rest)
        } else {
            split_options(rest)
        };
        let key = PublicKey::from_openssh(key_text.trim())
            .map_err(|e| bad(&format!("not a public key ({e})")))?;
        out.push(Allowed {
            principals: principals.to_string(),
            namespaces: namespaces(options),
            key,
        });
    }
    Ok(out)
}

fn looks_like_key(s: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-"].iter().any(|p| s.starts_with(p))
}

/// Splits the options (up to the first blank outside quotes) from the key.
fn split_options(s: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&s[..i], s[i..].trim_start()),
            _ => {}
        }
    }
    (s, "")
}

/// The `namespaces="a,b"` option's list, if any.
fn namespaces(options: &str) -> Option<Vec<String>> {
    let start = options.to_ascii_lowercase().find("namespaces=\"")? + "namespaces=\"".len();
    let end = options[start..].find('"')? + start;
    Some(options[start..end].split(',').map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_namespaces() {
        assert_eq!(
            split_options("namespaces=\"a b,c\",cert-authority ssh-ed25519 AAAA"),
            ("namespaces=\"a b,c\",cert-authority", "ssh-ed25519 AAAA")
        );
        assert_eq!(
            namespaces("namespaces=\"git,switchyard-*\""),
            Some(vec!["git".to_string(), "switchyard-*".to_string()])
        );
        assert_eq!(namespaces("cert-authority"), None);
    }
}
