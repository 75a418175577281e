//! A real `ansible-inventory`, from ansible-core on PyPI, in a Python virtual environment
//! kept under the target folder: installed once (a few seconds, under a file lock, so
//! concurrent test processes do not install it twice), reused by later runs.

use std::path::PathBuf;
use std::process::Command;

/// The ansible-core releases the import is tested against.
const ANSIBLE_CORE: &str = "ansible-core>=2.16,<2.20";

/// `ansible-inventory`, or `None` (with the reason printed) when PyPI cannot be reached.
pub fn inventory_command() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ansible-venv");
    let tool = root.join("bin/ansible-inventory");
    let done = root.join("installed");
    std::fs::create_dir_all(env!("CARGO_TARGET_TMPDIR")).expect("target tmp dir");
    let lock_file = std::fs::File::create(root.with_extension("lock")).expect("lock file");
    let _lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusive)
        .expect("lock the ansible venv");
    if done.exists() {
        return Some(tool);
    }
    let _ = std::fs::remove_dir_all(&root);
    let venv = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&root)
        .output()
        .expect("run python3 -m venv");
    assert!(
        venv.status.success(),
        "python3 -m venv failed (scripts/test installs python3-venv):\n{}",
        String::from_utf8_lossy(&venv.stderr)
    );
    let pip = Command::new(root.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--retries",
            "2",
            ANSIBLE_CORE,
        ])
        .output()
        .expect("run pip");
    if !pip.status.success() {
        let err = String::from_utf8_lossy(&pip.stderr);
        let offline = [
            "NewConnectionError",
            "Max retries exceeded",
            "Temporary failure in name resolution",
            "(from versions: none)",
        ]
        .iter()
        .any(|s| err.contains(s));
        assert!(offline, "pip install {ANSIBLE_CORE} failed:\n{err}");
        // Past the test harness's capture (which takes `eprintln!`), so that the skip is
        // seen in the test run's output.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("SKIPPED: PyPI cannot be reached, so there is no real ansible-inventory to compare with:\n{err}\n").as_bytes(),
        );
        return None;
    }
    std::fs::write(&done, ANSIBLE_CORE).expect("mark the venv installed");
    Some(tool)
}
