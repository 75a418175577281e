//! Writing an output file so that a reader never sees half of it: the bytes go to a
//! sibling temporary file, are flushed to disk, and the file is renamed over the target
//! (node_exporter's textfile collector, say, may read the target at any moment).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` in one step; on an error, `path` is untouched and the
/// temporary file is removed.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path)?;
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return written;
    }
    // The rename itself is durable once the directory is flushed; a file system that
    // cannot sync a directory still has the whole file in place.
    if let Ok(dir) = std::fs::File::open(parent(path)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `DIR/.NAME.PID.tmp`: in the same directory (a rename does not cross file systems),
/// hidden, and not ending in the target's extension (the textfile collector reads only
/// `*.prom`).
fn temporary(path: &Path) -> std::io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    Ok(parent(path).join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("m.prom");
        std::fs::write(&target, "old").expect("write");
        write(&target, b"new\n").expect("atomic write");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["m.prom"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("no/such/m.prom");
        assert!(write(&target, b"x").is_err());
        assert!(!target.exists());
    }
}
