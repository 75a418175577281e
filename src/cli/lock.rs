//! One live run per runbook on a machine. The lock is an `flock` on a file named for
//! the runbook in a machine-wide folder, holding who has it (pid, user, start, run
//! folder). The kernel drops an `flock` when its process dies however it dies, so a
//! lock left by a crashed run is simply free: the next run takes it over, and since
//! the file still names the dead holder, that run's evidence says whose lock it took.
//!
//! The folder is `$SWITCHYARD_LOCK_DIR`, else `/run/lock/switchyard` when `/run/lock`
//! exists (tmpfs, cleared at boot), else `switchyard-locks` in the temporary folder. It is
//! made world-writable with the sticky bit, and lock files readable and writable by all,
//! so that one user's run excludes another's.

use std::fs::{File, Permissions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use nix::fcntl::{Flock, FlockArg};

/// A held lock; dropping it empties the file and releases it.
pub struct RunLock {
    file: Flock<File>,
    /// The dead holder whose stale lock this one took over, as the file named it.
    pub took_over: Option<String>,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

fn folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("SWITCHYARD_LOCK_DIR") {
        return PathBuf::from(dir);
    }
    let run_lock = PathBuf::from("/run/lock");
    if run_lock.is_dir() {
        return run_lock.join("switchyard");
    }
    std::env::temp_dir().join("switchyard-locks")
}

/// Takes the lock of `runbook` for this process; `Err` names the holder.
pub fn acquire(runbook: &str, holder: &str) -> Result<RunLock, String> {
    acquire_in(&folder(), runbook, holder)
}

fn acquire_in(dir: &std::path::Path, runbook: &str, holder: &str) -> Result<RunLock, String> {
    if !dir.is_dir() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the lock folder `{}`: {e}", dir.display()))?;
        // Shared by every user of the machine, like /tmp: anyone may add a lock.
        let _ = std::fs::set_permissions(dir, Permissions::from_mode(0o1777));
    }
    let path = dir.join(format!("{runbook}.lock"));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(&path)
        .map_err(|e| format!("cannot open the lock `{}`: {e}", path.display()))?;
    // Whoever runs this runbook next, under any user, must be able to take the lock.
    let _ = file.set_permissions(Permissions::from_mode(0o666));
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(f) => f,
        Err((mut f, nix::errno::Errno::EWOULDBLOCK)) => {
            let mut who = String::new();
            let _ = f.read_to_string(&mut who);
            return Err(format!(
                "another live run of `{runbook}` holds the lock `{}`: {}",
                path.display(),
                if who.trim().is_empty() {
                    "(it has not written its name yet)".to_string()
                } else {
                    who.trim().to_string()
                }
            ));
        }
        Err((_, e)) => return Err(format!("cannot lock `{}`: {e}", path.display())),
    };
    let mut previous = String::new();
    let _ = file.read_to_string(&mut previous);
    let write = |f: &mut Flock<File>| -> std::io::Result<()> {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(holder.as_bytes())?;
        f.sync_data()
    };
    write(&mut file).map_err(|e| format!("cannot write the lock `{}`: {e}", path.display()))?;
    Ok(RunLock {
        file,
        took_over: (!previous.trim().is_empty()).then(|| previous.trim().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_names_its_holder_and_a_released_one_is_free() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = acquire_in(dir.path(), "payroll", "pid 1 by ops@host").expect("free");
        assert_eq!(first.took_over, None);
        let err = acquire_in(dir.path(), "payroll", "pid 2")
            .err()
            .expect("held");
        assert!(err.contains("pid 1 by ops@host"), "{err}");
        drop(first);
        let again = acquire_in(dir.path(), "payroll", "pid 3").expect("released");
        assert_eq!(
            again.took_over, None,
            "a clean release leaves no holder behind"
        );
    }
}
