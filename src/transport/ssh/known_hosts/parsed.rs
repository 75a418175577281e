//! The lines of a `known_hosts` file, read once per process (and again only when the file
//! changes) and indexed by host name, so that a login finds the few lines that can match
//! its host without walking the whole file.
//!
//! The index only narrows; libssh2 still makes the match. So it may offer too many lines
//! but never too few: plain names are looked up without regard to case, a hashed name
//! (`|1|salt|hash`, HMAC-SHA1 as `ssh-keygen -H` writes it) is offered when its hash
//! matches, and a line with wildcards, negations or a host field that cannot be read is
//! offered for every host.
//!
//! A file is read again when its size, modification time, inode or device differ from the
//! last reading; keys added under `accept-new` change its size.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::decode;

/// One host-key line, as written in the file.
pub(in crate::transport::ssh) struct Line {
    /// 1-based line number, for warnings.
    pub number: usize,
    pub text: String,
}

impl Line {
    /// The key type and the decoded key of the line.
    pub fn key(&self) -> Option<(String, Vec<u8>)> {
        let mut fields = self.text.split_whitespace().skip(1);
        let ty = fields.next()?;
        let key = decode(fields.next()?)?;
        Some((ty.to_string(), key))
    }
}

/// A hashed host name: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
struct Hashed {
    salt: Vec<u8>,
    hash: Vec<u8>,
    line: usize,
}

impl Hashed {
    fn read(field: &str, line: usize) -> Option<Hashed> {
        let mut parts = field.strip_prefix("|1|")?.split('|');
        let salt = decode(parts.next()?)?;
        let hash = decode(parts.next()?)?;
        (parts.next().is_none()).then_some(Hashed { salt, hash, line })
    }

    fn matches(&self, name: &str) -> bool {
        let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&self.salt) else {
            return true;
        };
        mac.update(name.as_bytes());
        mac.verify_slice(&self.hash).is_ok()
    }
}

/// A file's host-key lines with their index.
#[derive(Default)]
pub(in crate::transport::ssh) struct Parsed {
    lines: Vec<Line>,
    /// Lowercased plain host names (`addr` or `[addr]:port`) → lines naming them.
    by_name: HashMap<String, Vec<usize>>,
    hashed: Vec<Hashed>,
    /// Lines that may match any name: wildcards, negations, unreadable host fields.
    any: Vec<usize>,
    /// Keys (base64) marked `@revoked`.
    pub revoked: Vec<String>,
    /// Why the file could not be read (a missing file is just empty).
    pub unreadable: Option<String>,
}

impl Parsed {
    fn from_text(path: &Path, text: &str) -> Parsed {
        let mut parsed = Parsed::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            if line.starts_with('@') {
                if fields[0] == "@revoked" && fields.len() >= 4 {
                    parsed.revoked.push(fields[3].to_string());
                } else {
                    tracing::debug!("{}:{}: skipped `{}` line", path.display(), n + 1, fields[0]);
                }
                continue;
            }
            parsed.add(fields[0], n + 1, line);
        }
        parsed
    }

    fn add(&mut self, hosts: &str, number: usize, text: &str) {
        let i = self.lines.len();
        self.lines.push(Line {
            number,
            text: text.to_string(),
        });
        if hosts.starts_with('|') {
            match Hashed::read(hosts, i) {
                Some(hashed) => self.hashed.push(hashed),
                None => self.any.push(i),
            }
        } else if hosts.contains(['*', '?', '!']) {
            self.any.push(i);
        } else {
            for name in hosts.split(',') {
                self.by_name
                    .entry(name.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
        }
    }

    /// The lines that can match `name`, in file order.
    pub fn candidates(&self, name: &str) -> impl Iterator<Item = &Line> {
        let mut found: Vec<usize> = self
            .by_name
            .get(&name.to_ascii_lowercase())
            .into_iter()
            .flatten()
            .chain(&self.any)
            .copied()
            .chain(
                self.hashed
                    .iter()
                    .filter(|h| h.matches(name))
                    .map(|h| h.line),
            )
            .collect();
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.lines[i])
    }
}

/// What tells one reading of a file from the next.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

struct Cached {
    path: PathBuf,
    stamp: Option<Stamp>,
    parsed: Arc<Parsed>,
}

/// The file at `path`, from the process-wide cache when it has not changed since.
pub(in crate::transport::ssh) fn read(path: &Path) -> Arc<Parsed> {
    static FILES: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
    // Held while a file is read: logins that start together wait for one reading.
    let mut files = FILES.lock().unwrap_or_else(PoisonError::into_inner);
    let stamp = fs::metadata(path).ok().map(|m| Stamp {
        dev: m.dev(),
        ino: m.ino(),
        len: m.len(),
        mtime: (m.mtime(), m.mtime_nsec()),
    });
    if let Some(hit) = files.iter().find(|c| c.path == path && c.stamp == stamp) {
        return Arc::clone(&hit.parsed);
    }
    let parsed = Arc::new(match fs::read_to_string(path) {
        Ok(text) => Parsed::from_text(path, &text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Parsed::default(),
        Err(e) => Parsed {
            unreadable: Some(e.to_string()),
            ..Parsed::default()
        },
    });
    files.retain(|c| c.path != path);
    files.push(Cached {
        path: path.to_path_buf(),
        stamp,
        parsed: Arc::clone(&parsed),
    });
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(parsed: &Parsed, name: &str) -> Vec<usize> {
        parsed.candidates(name).map(|l| l.number).collect()
    }

    #[test]
    fn offers_the_lines_naming_the_host_and_every_pattern_line() {
        let text = "\
10.0.0.1,web-a ssh-ed25519 AAAA
# a comment
[10.0.0.1]:2222 ssh-ed25519 BBBB
10.0.0.* ssh-rsa CCCC
@revoked * ssh-ed25519 DDDD
WEB-B ssh-ed25519 EEEE
!10.0.0.9,10.0.0.* ecdsa-sha2-nistp256 FFFF
";
        let parsed = Parsed::from_text(Path::new("kh"), text);
        assert_eq!(numbers(&parsed, "10.0.0.1"), [1, 4, 7]);
        assert_eq!(numbers(&parsed, "[10.0.0.1]:2222"), [3, 4, 7]);
        assert_eq!(numbers(&parsed, "web-b"), [4, 6, 7]);
        assert_eq!(numbers(&parsed, "10.9.9.9"), [4, 7]);
        assert_eq!(parsed.revoked.as_slice(), ["DDDD"]);
    }

    #[test]
    fn a_hashed_name_is_offered_only_to_its_host() {
        // Written by `ssh-keygen -H` for the name `127.0.0.1`.
        let hashed = "|1|1sX0npEluM55m7pZZXuBfs13N2A=|aRg9Ae3k7VDP9TLoifx8WJCSKb4=";
        let text = format!("{hashed} ssh-ed25519 AAAA\n|1|garbage ssh-ed25519 BBBB\n");
        let parsed = Parsed::from_text(Path::new("kh"), &text);
        assert_eq!(numbers(&parsed, "127.0.0.1"), [1, 2]);
        assert_eq!(numbers(&parsed, "127.0.0.2"), [2]);
    }

    #[test]
    fn the_file_is_read_again_once_it_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("known_hosts");
        assert_eq!(numbers(&read(&path), "a"), Vec::<usize>::new());
        fs::write(&path, "a ssh-ed25519 AAAA\n").expect("write");
        let first = read(&path);
        assert_eq!(numbers(&first, "a"), [1]);
        assert!(
            Arc::ptr_eq(&first, &read(&path)),
            "unchanged: from the cache"
        );
        fs::write(&path, "b ssh-ed25519 AAAA\na ssh-ed25519 BBBB\n").expect("write");
        assert_eq!(numbers(&read(&path), "a"), [2]);
    }
}
