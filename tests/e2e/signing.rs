//! Signed runs (spec §9): `--sign-with KEY` writes `manifest.txt` and an SSHSIG
//! `manifest.txt.sig` that stock `ssh-keygen -Y verify` accepts, and `verify-evidence
//! --allowed-signers` checks and names the signer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::evidence::independent_check;
use crate::support::runs::{kill_when, project, runbook};
use crate::support::sshd::keygen;
use crate::support::util::{LIVE, LOCAL_INVENTORY, Output, Test, run_dir};

const BODY: &str = r#"
[services.db]
hosts = ["node-a", "node-b"]
[[services.db.stop]]
run = "echo stopped"
[[services.db.start]]
run = "echo started"
"#;

/// A fresh key pair of type `ty` in `dir`, and an allowed-signers file naming
/// `principal` for it; returns (private key, allowed-signers file).
fn key(dir: &Path, name: &str, ty: &str, principal: &str) -> (PathBuf, PathBuf) {
    let path = dir.join(name);
    let public = keygen(&path, ty);
    let allowed = dir.join(format!("{name}.allowed"));
    std::fs::write(
        &allowed,
        format!("{principal} namespaces=\"switchyard-evidence\" {public}\n"),
    )
    .expect("allowed signers");
    (path, allowed)
}

/// A signed live run of [`BODY`]; returns its output (kept alive), the run folder and
/// the allowed-signers file of its key.
fn signed_run(ty: &str) -> (Output, PathBuf, PathBuf) {
    let t = project(LOCAL_INVENTORY, "abort", BODY);
    let (private, allowed) = key(t.path(), "signer", ty, "auditor@example.org");
    let out = t
        .args(LIVE)
        .args(&["--sign-with", &private.display().to_string()])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let dir = run_dir(&out);
    (out, dir, allowed)
}

fn verify_with(dir: &Path, allowed: &Path) -> Output {
    Test::reuse(dir)
        .args(&[
            "verify-evidence",
            ".",
            "--allowed-signers",
            &allowed.display().to_string(),
        ])
        .run()
}

/// Stock OpenSSH's verdict on the folder's signature.
fn ssh_keygen_verifies(dir: &Path, allowed: &Path, principal: &str) -> bool {
    let manifest = std::fs::File::open(dir.join("manifest.txt")).expect("manifest");
    Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", principal, "-n", "switchyard-evidence", "-s"])
        .arg(dir.join("manifest.txt.sig"))
        .stdin(manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ssh-keygen")
        .success()
}

fn fingerprint(public: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public)
        .output()
        .expect("ssh-keygen -l");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_string()
}

#[test]
fn a_signed_run_verifies_with_stock_ssh_keygen_and_verify_evidence() {
    let (out, dir, allowed) = signed_run("ed25519");
    let manifest = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest");
    let lines: Vec<&str> = manifest.lines().collect();
    for name in [
        "journal.jsonl",
        "summary.json",
        "report.html",
        "report.md",
        "junit.xml",
    ] {
        assert!(
            lines.iter().any(|l| l.ends_with(&format!("  {name}"))),
            "{name} not in the manifest:\n{manifest}"
        );
    }
    assert!(lines.iter().any(|l| l.contains("  output/")), "{manifest}");
    assert!(lines.iter().any(|l| l.contains("  inputs/")), "{manifest}");
    let paths: Vec<&str> = lines[..lines.len() - 1]
        .iter()
        .map(|l| l.split_once("  ").expect("two spaces").1)
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "the manifest is sorted");
    assert!(
        lines
            .last()
            .expect("a line")
            .starts_with("journal-last-hash  ")
    );
    let sig = std::fs::read_to_string(dir.join("manifest.txt.sig")).expect("signature");
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"), "{sig}");
    assert!(ssh_keygen_verifies(&dir, &allowed, "auditor@example.org"));
    // The journal names the key before the run ends.
    let fp = fingerprint(&out.root.join("signer.pub"));
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    let started = journal.lines().next().expect("run_started");
    assert!(
        started.contains(&format!(r#""signed_by":"{fp}""#)),
        "{started}"
    );
    let v = verify_with(&dir, &allowed);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    assert!(
        v.stdout
            .contains(&format!("signed by auditor@example.org ({fp})")),
        "{}",
        v.stdout
    );
    // Without --allowed-signers the signature is said to be there, unchecked.
    let plain = Test::reuse(&dir).args(&["verify-evidence", "."]).run();
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    assert!(plain.stdout.contains("not checked"), "{}", plain.stdout);
}

#[test]
fn an_ecdsa_key_signs_too() {
    let (_out, dir, allowed) = signed_run("ecdsa");
    assert!(ssh_keygen_verifies(&dir, &allowed, "auditor@example.org"));
    assert_eq!(verify_with(&dir, &allowed).code, 0);
}

/// RSA keys cannot sign with the ssh-key crate's 0.6 line: refused before the run.
#[test]
fn an_rsa_key_is_refused_before_the_run() {
    let t = project(LOCAL_INVENTORY, "abort", BODY);
    let (private, _) = key(t.path(), "signer", "rsa", "auditor@example.org");
    let out = t
        .args(LIVE)
        .args(&["--sign-with", &private.display().to_string()])
        .run();
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("use an Ed25519 key"), "{}", out.stderr);
    assert!(!out.root.join("evidence").exists(), "a run folder was made");
}

#[test]
fn tampering_or_another_key_fails() {
    let (out, dir, allowed) = signed_run("ed25519");
    let (_, other) = key(&out.root, "other", "ed25519", "auditor@example.org");
    let v = verify_with(&dir, &other);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains("does not allow"), "{}", v.stdout);
    assert!(!ssh_keygen_verifies(&dir, &other, "auditor@example.org"));

    let output = std::fs::read_dir(dir.join("output"))
        .expect("output")
        .next()
        .expect("an output file")
        .expect("entry")
        .path();
    let output = output
        .strip_prefix(&dir)
        .expect("relative")
        .display()
        .to_string();
    for (name, needle) in [
        ("report.html", "report.html: its SHA-256"),
        (output.as_str(), "the file was changed after signing"),
        ("journal.jsonl", "journal.jsonl"),
        ("manifest.txt", "manifest.txt"),
    ] {
        let path = dir.join(name);
        let before = std::fs::read(&path).expect("read");
        let mut changed = before.clone();
        changed.extend_from_slice(b"\n");
        std::fs::write(&path, &changed).expect("tamper");
        let v = verify_with(&dir, &allowed);
        assert_eq!(v.code, 1, "{name}: {}", v.stdout);
        assert!(v.stdout.contains(needle), "{name}: {}", v.stdout);
        // Without switchyard too: the manifest covers what no re-rendering checks.
        let (code, said) = independent_check(&dir);
        assert_eq!(code, 1, "{name}: {said}");
        if name == "manifest.txt" {
            assert!(!ssh_keygen_verifies(&dir, &allowed, "auditor@example.org"));
        }
        std::fs::write(&path, &before).expect("restore");
        assert_eq!(verify_with(&dir, &allowed).code, 0, "{name} restored");
        let (code, said) = independent_check(&dir);
        assert_eq!(code, 0, "{name} restored: {said}");
        assert!(said.contains("manifest checked"), "{said}");
    }
    // A file added after signing, and a missing signature.
    std::fs::write(dir.join("output/extra.txt"), "x").expect("add");
    let v = verify_with(&dir, &allowed);
    assert!(v.stdout.contains("output/extra.txt"), "{}", v.stdout);
    std::fs::remove_file(dir.join("output/extra.txt")).expect("remove");
    std::fs::remove_file(dir.join("manifest.txt.sig")).expect("remove");
    let v = verify_with(&dir, &allowed);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("manifest.txt.sig: missing"),
        "{}",
        v.stdout
    );
}

#[test]
fn a_passphrase_protected_key_is_refused_before_any_step_runs() {
    let t = project(
        LOCAL_INVENTORY,
        "abort",
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.stop]]\nrun = \"touch ran\"\n",
    );
    let key = t.path().join("locked");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "secret phrase", "-f"])
        .arg(&key)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let root = t.path().to_path_buf();
    let out = t
        .args(LIVE)
        .args(&["--sign-with", &key.display().to_string()])
        .run();
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("passphrase"), "{}", out.stderr);
    assert!(!root.join("ran").exists(), "a step ran");
    assert!(!root.join("evidence").exists(), "a run folder was made");
    // A public key is no signing key either.
    let out = Test::reuse(&root)
        .args(LIVE)
        .args(&["--sign-with", &format!("{}.pub", key.display())])
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("not an OpenSSH private key"),
        "{}",
        out.stderr
    );
}

#[test]
fn resume_signs_the_run_again() {
    let t = project(LOCAL_INVENTORY, "abort", "");
    let started = t.path().join("started");
    let body = format!(
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.stop]]\nrun = \"echo x\"\n[[services.db.start]]\nrun = \"touch {}; sleep 2\"\n",
        started.display()
    );
    let t = runbook(t, "abort", &body);
    let (private, allowed) = key(t.path(), "signer", "ed25519", "ops@example.org");
    let sign = private.display().to_string();
    let args = [LIVE, &["--sign-with", sign.as_str()]].concat();
    let dir = kill_when(&t, &args, "db.start.1", |_| started.exists());
    assert!(!dir.join("manifest.txt.sig").exists());
    // The run locks stay out of the run folder, whose every file is signed.
    let locks = t.path().join(".locks").display().to_string();
    let out = Test::reuse(&dir)
        .env("SWITCHYARD_LOCK_DIR", &locks)
        .args(&[
            "--no-progress",
            "resume",
            ".",
            "--yes",
            "--sign-with",
            &sign,
        ])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    let resumed = journal
        .lines()
        .find(|l| l.contains(r#""event":"resumed""#))
        .expect("resumed");
    assert!(resumed.contains(r#""signed_by":"SHA256:"#), "{resumed}");
    assert!(ssh_keygen_verifies(&dir, &allowed, "ops@example.org"));
    let v = verify_with(&dir, &allowed);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(
        v.stdout.contains("signed by ops@example.org"),
        "{}",
        v.stdout
    );
}

/// An ssh-agent of the test's own, killed when dropped.
struct Agent {
    pid: i32,
    socket: PathBuf,
}

impl Agent {
    fn start(dir: &Path) -> Agent {
        let socket = dir.join("agent.sock");
        let out = Command::new("ssh-agent")
            .arg("-a")
            .arg(&socket)
            .arg("-s")
            .stdin(Stdio::null())
            .output()
            .expect("run ssh-agent");
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text
            .split("SSH_AGENT_PID=")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("ssh-agent said {text}"));
        Agent { pid, socket }
    }

    fn add(&self, key: &Path) {
        let status = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("ssh-add");
        assert!(status.success(), "ssh-add {}", key.display());
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

#[test]
fn ssh_agent_signs_ed25519_and_rsa_keys() {
    for ty in ["ed25519", "rsa"] {
        let t = project(LOCAL_INVENTORY, "abort", BODY);
        let agent = Agent::start(t.path());
        let (private, allowed) = key(t.path(), "held", ty, "ops@example.org");
        let public = format!("agent:{}.pub", private.display());
        let sock = agent.socket.display().to_string();
        // Not in the agent yet: refused before the run.
        let root = t.path().to_path_buf();
        let out = Test::reuse(&root)
            .env("SSH_AUTH_SOCK", &sock)
            .args(LIVE)
            .args(&["--sign-with", &public])
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains("does not hold the key"),
            "{}",
            out.stderr
        );
        assert!(!root.join("evidence").exists());
        agent.add(&private);
        let out = t
            .env("SSH_AUTH_SOCK", &sock)
            .args(LIVE)
            .args(&["--sign-with", &public])
            .run();
        assert_eq!(out.code, 0, "{ty}: {}\n{}", out.stdout, out.stderr);
        let dir = run_dir(&out);
        assert!(
            ssh_keygen_verifies(&dir, &allowed, "ops@example.org"),
            "{ty}"
        );
        let v = verify_with(&dir, &allowed);
        assert_eq!(v.code, 0, "{ty}: {}", v.stdout);
        assert!(
            v.stdout.contains("signed by ops@example.org"),
            "{}",
            v.stdout
        );
    }
}

/// A run stopped by Ctrl-C is signed as it stops; resumed without `--sign-with`, that
/// signature goes (it would no longer match) and the operator is told.
#[test]
fn resume_without_a_key_removes_the_earlier_signature() {
    let t = project(LOCAL_INVENTORY, "abort", "");
    let started = t.path().join("started");
    let body = format!(
        "[services.db]\nhosts = [\"node-a\", \"node-b\"]\n[[services.db.start]]\nrun = \"touch {}; sleep 5\"\n",
        started.display()
    );
    let t = runbook(t, "abort", &body);
    let (private, allowed) = key(t.path(), "signer", "ed25519", "ops@example.org");
    let sign = private.display().to_string();
    let args = [LIVE, &["--sign-with", sign.as_str(), "--grace", "0s"]].concat();
    let (dir, out) = crate::support::runs::signal_when(
        &t,
        &args,
        "db.start.1",
        |_| started.exists(),
        nix::sys::signal::Signal::SIGINT,
    );
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert_eq!(
        verify_with(&dir, &allowed).code,
        0,
        "the stopped run is signed"
    );
    let locks = t.path().join(".locks").display().to_string();
    let out = Test::reuse(&dir)
        .env("SWITCHYARD_LOCK_DIR", &locks)
        .args(&["--no-progress", "resume", ".", "--yes"])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("ends unsigned"), "{}", out.stderr);
    assert!(!dir.join("manifest.txt").exists());
    assert!(!dir.join("manifest.txt.sig").exists());
    let v = verify_with(&dir, &allowed);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("manifest.txt.sig: missing"),
        "{}",
        v.stdout
    );
}

/// `[evidence] sign_with` in an inventory file signs every run, the key's path taken
/// relative to that file; `--sign-with` would win over it.
#[test]
fn an_inventory_can_name_the_signing_key() {
    let inventory = format!("{LOCAL_INVENTORY}\n[evidence]\nsign_with = \"../signer\"\n");
    let t = project(&inventory, "abort", BODY);
    let (_, allowed) = key(t.path(), "signer", "ed25519", "ops@example.org");
    let out = t.args(LIVE).run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let dir = run_dir(&out);
    assert!(ssh_keygen_verifies(&dir, &allowed, "ops@example.org"));
    assert_eq!(verify_with(&dir, &allowed).code, 0);
    // A value that is not a string is an error in the file, with its place.
    let bad = format!("{LOCAL_INVENTORY}\n[evidence]\nsign_with = 3\n");
    let out = project(&bad, "abort", BODY).args(LIVE).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("inventory/site.toml:"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("sign_with"), "{}", out.stderr);
    // A key that is not there is refused before the run.
    let missing = format!("{LOCAL_INVENTORY}\n[evidence]\nsign_with = \"../nokey\"\n");
    let out = project(&missing, "abort", BODY).args(LIVE).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("cannot read the key"), "{}", out.stderr);
}

/// `status` and `history` with `--allowed-signers` count only the run folders signed by an
/// allowed key: an unsigned drill, or one signed by another key, is untrusted.
#[test]
fn status_with_allowed_signers_counts_only_signed_drills() {
    let (out, signed, allowed) = signed_run("ed25519");
    let root = out.root.clone();
    let status = |signers: &Path, code: i32| {
        Test::reuse(&root)
            .args(&[
                "status",
                "runbooks/test.toml",
                "--format",
                "json",
                "--allowed-signers",
                &signers.display().to_string(),
            ])
            .run()
            .code(code)
            .json()
    };
    let state = |s: &serde_json::Value, to: &str| {
        s["directions"]
            .as_array()
            .expect("directions")
            .iter()
            .find(|d| d["to"] == to)
            .expect("direction")["state"]
            .clone()
    };
    let s = status(&allowed, 1);
    assert_eq!(state(&s, "b"), "ok", "{s:#}");
    assert_eq!(s["untrusted"], serde_json::json!([]), "{s:#}");

    // An unsigned drill the other way is not counted once signatures are required.
    let back = Test::reuse(&root)
        .args(&[
            "--no-progress",
            "run",
            "runbooks/test.toml",
            "--to",
            "a",
            "--live",
            "--yes",
        ])
        .run()
        .code(0);
    let unsigned = run_dir(&back);
    let s = status(&allowed, 1);
    assert_eq!(state(&s, "a"), "never", "{s:#}");
    let untrusted = s["untrusted"].as_array().expect("untrusted");
    assert_eq!(untrusted.len(), 1, "{s:#}");
    assert!(
        untrusted[0]["problems"][0]
            .as_str()
            .expect("problem")
            .contains("manifest.txt.sig: missing"),
        "{s:#}"
    );
    assert_eq!(
        untrusted[0]["folder"].as_str().map(Path::new),
        Some(unsigned.strip_prefix(&root).unwrap_or(&unsigned)),
        "{s:#}"
    );

    // Another key's signers file trusts neither.
    let (_, other) = key(&root, "other", "ed25519", "auditor@example.org");
    let s = status(&other, 1);
    assert_eq!(state(&s, "b"), "never", "{s:#}");
    assert_eq!(s["untrusted"].as_array().map(Vec::len), Some(2), "{s:#}");

    // history says the same per folder.
    let h = Test::reuse(&root)
        .args(&[
            "history",
            "test",
            "--format",
            "json",
            "--allowed-signers",
            &allowed.display().to_string(),
        ])
        .run()
        .code(0)
        .json();
    let trusted: Vec<bool> = h["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["trusted"].as_bool().expect("trusted"))
        .collect();
    assert_eq!(trusted, [true, false], "{h:#}");
    assert!(signed.exists());

    // A signers file that cannot be read is bad input, not a register of untrusted runs.
    Test::reuse(&root)
        .args(&[
            "status",
            "runbooks/test.toml",
            "--allowed-signers",
            "no-such-file",
        ])
        .run()
        .code(2)
        .stderr_has("no-such-file");
}
