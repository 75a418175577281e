//! One live run per runbook on a machine. The lock is an `flock` on a file named for
//! the runbook in a machine-wide folder, holding who has it (pid, user, start). The
//! kernel drops an `flock` when its process dies however it dies, so a lock left by a
//! crashed run is simply free: the next run takes it over, and since the file still
//! names the dead holder, that run's evidence says whose lock it took.
//!
//! The folder is `/run/lock/switchyard` when `/run/lock` exists (tmpfs, cleared at
//! boot), else `/tmp/switchyard-locks`: fixed paths, so that a run under `sudo` and one
//! without meet at the same lock whatever `TMPDIR` says. `$SWITCHYARD_LOCK_DIR` overrides
//! it explicitly. A folder switchyard creates is world-writable with the sticky bit, and
//! lock files are readable and writable by all, so that one user's run excludes another's.
//!
//! Other users can write there, so nothing in it is trusted blindly: a folder that is a
//! symbolic link, not owned by root or by us, or writable by others without the sticky
//! bit would let its owner (or anyone) remove or replace a running lock; a lock file that
//! is a symbolic link or a hard link would make a live run truncate and overwrite a file
//! of someone else's choosing. Both are refused, naming the path and why.

use std::fs::{File, Metadata, Permissions};
use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag, openat};
use nix::sys::stat::Mode;
use nix::unistd::{Uid, User, geteuid};

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

/// A lock some live process holds, seen from outside.
#[derive(Debug)]
pub struct Held {
    pub path: PathBuf,
    /// What the holder wrote in it: pid, user, start.
    pub holder: String,
}

fn folder() -> PathBuf {
    if let Some(dir) = std::env::var_os("SWITCHYARD_LOCK_DIR") {
        return PathBuf::from(dir);
    }
    if Path::new("/run/lock").is_dir() {
        PathBuf::from("/run/lock/switchyard")
    } else {
        PathBuf::from("/tmp/switchyard-locks")
    }
}

/// Takes the lock of `runbook` for this process; `Err` names the holder, or the lock
/// folder or file that is not safe to use.
pub fn acquire(runbook: &str, holder: &str) -> Result<RunLock, String> {
    acquire_in(&folder(), runbook, holder)
}

/// Who holds the lock of `runbook`, if a live process does. Only looks: it never takes,
/// creates or truncates the lock, so a running run goes on undisturbed. The folder is
/// not checked as [`acquire`] checks it: what it holds can at most make a run look
/// still in progress.
pub fn held(runbook: &str) -> Option<Held> {
    held_in(&folder(), runbook)
}

fn acquire_in(dir: &Path, runbook: &str, holder: &str) -> Result<RunLock, String> {
    let folder = open_folder(dir)?;
    let path = dir.join(format!("{runbook}.lock"));
    let file = open_lock(&folder, &path)?;
    // Whoever runs this runbook next, under any user, must be able to take the lock.
    let _ = file.set_permissions(Permissions::from_mode(0o666));
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(f) => f,
        Err((mut f, Errno::EWOULDBLOCK)) => {
            let who = read_holder(&mut f);
            return Err(format!(
                "another live run of `{runbook}` holds the lock `{}`: {}",
                path.display(),
                if who.is_empty() {
                    "(it has not written its name yet)"
                } else {
                    &who
                }
            ));
        }
        Err((_, e)) => return Err(format!("cannot lock `{}`: {e}", path.display())),
    };
    let previous = read_holder(&mut file);
    let write = |f: &mut Flock<File>| -> std::io::Result<()> {
        f.set_len(0)?;
        f.rewind()?;
        f.write_all(holder.as_bytes())?;
        f.sync_data()
    };
    write(&mut file).map_err(|e| format!("cannot write the lock `{}`: {e}", path.display()))?;
    Ok(RunLock {
        file,
        took_over: (!previous.is_empty()).then_some(previous),
    })
}

/// Creates the lock folder if it is missing, then opens it, refusing one that is not
/// safe to share. It is checked after creation, since another user may have created it
/// first.
fn open_folder(dir: &Path) -> Result<File, String> {
    let created = create(dir)?;
    let refuse = |why: String| format!("refusing the lock folder `{}`: {why}", dir.display());
    let checked = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot read the lock folder `{}`: {e}", dir.display()))?;
    trusted(&checked).map_err(refuse)?;
    let folder = File::options()
        .read(true)
        .custom_flags((OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW).bits())
        .open(dir)
        .map_err(|e| refuse(format!("cannot open it: {e}")))?;
    let opened = folder
        .metadata()
        .map_err(|e| refuse(format!("cannot read it: {e}")))?;
    if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
        return Err(refuse("it was replaced while being checked".into()));
    }
    if created {
        // Shared by every user of the machine, like /tmp: anyone may add a lock. Set on
        // the open folder, so it cannot land on anything put in its place.
        let _ = folder.set_permissions(Permissions::from_mode(0o1777));
    }
    Ok(folder)
}

/// Creates the folder (and its parents); returns whether this call created it. It is
/// private to its owner until checked, whatever the umask.
fn create(dir: &Path) -> Result<bool, String> {
    let cannot =
        |e: std::io::Error| format!("cannot create the lock folder `{}`: {e}", dir.display());
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(cannot)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(cannot(e)),
    }
}

/// Whether a lock folder, as `symlink_metadata` describes it, is safe to share; `Err`
/// says why not.
fn trusted(meta: &Metadata) -> Result<(), String> {
    if meta.file_type().is_symlink() {
        return Err("it is a symbolic link (the lock folder must be a real folder)".into());
    }
    if !meta.is_dir() {
        return Err("it is not a folder".into());
    }
    let me = geteuid();
    if meta.uid() != 0 && meta.uid() != me.as_raw() {
        let or_me = if me.is_root() {
            String::new()
        } else {
            format!(" or {}", user_name(me))
        };
        return Err(format!(
            "it is owned by {}, not by root{or_me}: its owner could remove or replace any run's lock",
            user_name(Uid::from_raw(meta.uid()))
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(format!(
            "its mode is {mode:04o}: others may write to it without the sticky bit, so anyone could remove or replace a run's lock (use 1777 to share it, or 0755)"
        ));
    }
    Ok(())
}

/// `alice (uid 1000)`, or `uid 1000` for a uid without a name.
fn user_name(uid: Uid) -> String {
    match User::from_uid(uid) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// Opens the lock file `path`, in the already checked `folder`, creating it if missing.
/// Never through a symbolic link, and only a regular file with no other name: the run
/// truncates and rewrites it.
fn open_lock(folder: &File, path: &Path) -> Result<File, String> {
    let refuse = |why: &str| format!("refusing the lock `{}`: {why}", path.display());
    let name = path.file_name().unwrap_or_default();
    let file = File::from(open_at(folder, name).map_err(|e| match e {
        Errno::ELOOP => refuse("it is a symbolic link (a lock is a plain file)"),
        e => format!("cannot open the lock `{}`: {e}", path.display()),
    })?);
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read the lock `{}`: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(refuse("it is not a regular file"));
    }
    if meta.nlink() != 1 {
        return Err(refuse("it has other names (hard links)"));
    }
    Ok(file)
}

/// Opens `name` in `folder` for reading and writing without following a symbolic link,
/// creating it when missing. An existing file is opened without `O_CREAT`: where
/// `fs.protected_regular` is on, `O_CREAT` on another user's file in a sticky folder is
/// refused, even to root.
fn open_at(folder: &File, name: &std::ffi::OsStr) -> nix::Result<OwnedFd> {
    // O_NONBLOCK: opening a FIFO planted under the lock's name must not hang the run.
    let flags = OFlag::O_RDWR | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let create = flags | OFlag::O_CREAT | OFlag::O_EXCL;
    match openat(folder, name, flags, Mode::empty()) {
        Err(Errno::ENOENT) => match openat(folder, name, create, Mode::from_bits_truncate(0o666)) {
            // Another run created it in between.
            Err(Errno::EEXIST) => openat(folder, name, flags, Mode::empty()),
            created => created,
        },
        opened => opened,
    }
}

fn held_in(dir: &Path, runbook: &str) -> Option<Held> {
    // A name from a journal: one with a `/` is no runbook switchyard runs.
    if runbook.contains('/') {
        return None;
    }
    let path = dir.join(format!("{runbook}.lock"));
    let file = File::options()
        .read(true)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK).bits())
        .open(&path)
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))?;
    // A shared lock is refused while a run holds the exclusive one; when it is granted,
    // dropping it at once releases it.
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Err((mut f, Errno::EWOULDBLOCK)) => Some(Held {
            holder: read_holder(&mut f),
            path,
        }),
        _ => None,
    }
}

/// The holder's description in a lock file, trimmed, with control characters (anyone
/// may write there) shown as `?`.
fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut text);
    text.trim()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
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

    #[test]
    fn a_held_lock_is_seen_without_being_taken_or_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(held_in(dir.path(), "payroll").is_none());
        assert!(
            !dir.path().join("payroll.lock").exists(),
            "looking created the lock"
        );
        let lock = acquire_in(dir.path(), "payroll", "pid 1 by ops@host").expect("free");
        let held = held_in(dir.path(), "payroll").expect("held");
        assert_eq!(held.holder, "pid 1 by ops@host");
        assert_eq!(held.path, dir.path().join("payroll.lock"));
        drop(lock);
        assert!(held_in(dir.path(), "payroll").is_none());
        acquire_in(dir.path(), "payroll", "pid 2").expect("looking did not keep it");
    }

    /// A lock folder `locks` in a fresh temporary folder, with `mode`, owned by `owner`.
    fn folder_with(mode: u32, owner: Option<Uid>) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("locks");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, Permissions::from_mode(mode)).expect("chmod");
        if let Some(uid) = owner {
            nix::unistd::chown(&dir, Some(uid), None).expect("chown (the tests run as root)");
        }
        (root, dir)
    }

    /// Whether this test can give a folder to another user. The tests run as root in
    /// `scripts/test` and CI; run without root (`cargo test --lib` as anyone), the two
    /// tests that need another owner say they were not run.
    fn can_chown() -> bool {
        let root = geteuid().is_root();
        if !root {
            eprintln!("not run: giving a folder to another user needs root");
        }
        root
    }

    fn refused(dir: &Path) -> String {
        acquire_in(dir, "payroll", "pid 1").err().expect("refused")
    }

    #[test]
    fn a_folder_owned_by_another_user_is_refused() {
        if !can_chown() {
            return;
        }
        let nobody = User::from_name("nobody").expect("users").expect("nobody");
        let (_root, dir) = folder_with(0o755, Some(nobody.uid));
        let err = refused(&dir);
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(err.contains("owned by nobody"), "{err}");
        assert!(!dir.join("payroll.lock").exists());
    }

    #[test]
    fn a_folder_anyone_may_write_without_the_sticky_bit_is_refused() {
        let (_root, dir) = folder_with(0o777, None);
        let err = refused(&dir);
        assert!(err.contains("its mode is 0777"), "{err}");
        assert!(err.contains("sticky"), "{err}");
    }

    #[test]
    fn a_shared_folder_of_root_with_the_sticky_bit_is_used() {
        if !can_chown() {
            return;
        }
        let (_root, dir) = folder_with(0o1777, Some(Uid::from_raw(0)));
        acquire_in(&dir, "payroll", "pid 1").expect("accepted");
    }

    #[test]
    fn a_folder_it_creates_is_shared_with_the_sticky_bit() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("new/locks");
        acquire_in(&dir, "payroll", "pid 1").expect("created");
        let mode = std::fs::metadata(&dir).expect("folder").mode() & 0o7777;
        assert_eq!(mode, 0o1777);
    }

    #[test]
    fn a_symlinked_folder_is_refused() {
        let (root, dir) = folder_with(0o755, None);
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).expect("symlink");
        let err = refused(&link);
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!dir.join("payroll.lock").exists());
    }

    #[test]
    fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
        let (root, dir) = folder_with(0o1777, None);
        let target = root.path().join("precious");
        std::fs::write(&target, "keep me").expect("target");
        std::fs::set_permissions(&target, Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink(&target, dir.join("payroll.lock")).expect("symlink");
        let err = refused(&dir);
        assert!(err.contains("payroll.lock"), "{err}");
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
        let mode = std::fs::metadata(&target).expect("target").mode() & 0o777;
        assert_eq!(mode, 0o600, "the target's mode was changed");
        assert!(held_in(&dir, "payroll").is_none());
    }

    #[test]
    fn a_hard_linked_lock_file_is_refused() {
        let (root, dir) = folder_with(0o1777, None);
        let target = root.path().join("precious");
        std::fs::write(&target, "keep me").expect("target");
        std::fs::hard_link(&target, dir.join("payroll.lock")).expect("link");
        assert!(refused(&dir).contains("hard links"));
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
    }
}
