//! The run's spool folder: where a command's output past
//! [`INLINE_MAX`](super::child::INLINE_MAX) goes, and the only place the
//! parent reads or removes a command's output file.
//!
//! The parent creates the folder, private (mode 0700) and new (creating it
//! fails if the name exists), once per run, and removes it with everything
//! in it when the run ends. A worker names each file it writes there
//! `<seq>-<pid>-<n>-<stdout|stderr>` and sends back only that name, never a
//! path. The parent believes a name only if it is one plain file name of
//! that shape, for the item's own `seq`, of a regular file (not a link) in
//! its own folder ([`SpoolDir::resolve`]): a worker's answer, or anything an
//! input put in it, cannot point the parent at another file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The folder of this process's run, while it exists: the one place
/// [`resolve`] looks.
static CURRENT: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The parent's spool folder, removed with everything in it when dropped.
#[derive(Debug)]
pub(super) struct SpoolDir(PathBuf);

impl SpoolDir {
    /// Creates a new private folder under the temp folder (`$TMPDIR`), or
    /// says why it cannot (then output past the in-memory limit fails the
    /// item, naming the limit).
    pub(super) fn create() -> Option<SpoolDir> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("mproc-run-{}-{nanos:08x}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => {
                *CURRENT.lock().unwrap_or_else(|p| p.into_inner()) = Some(path.clone());
                Some(SpoolDir(path))
            }
            Err(e) => {
                tracing::warn!(
                    "cannot create a spool folder {} ({}): an item whose output passes {} MiB fails",
                    path.display(),
                    crate::errors::io_message(&e),
                    super::child::INLINE_MAX >> 20
                );
                None
            }
        }
    }

    /// The folder.
    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SpoolDir {
    fn drop(&mut self) {
        let mut current = CURRENT.lock().unwrap_or_else(|p| p.into_inner());
        if current.as_deref() == Some(self.0.as_path()) {
            *current = None;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The name a worker gives the spool file of item `seq`'s stream `stream`.
pub(super) fn file_name(seq: u64, n: u64, stream: &str) -> String {
    format!("{seq}-{}-{n}-{stream}", std::process::id())
}

/// The path of spool file `name` of item `seq`, if `name` is one this
/// run's workers could have written for that item and it is a regular file
/// in `dir` (or, with no `dir`, in the folder this process created).
/// Anything else is `Err` with a message naming what was refused.
pub(super) fn resolve(dir: Option<&Path>, name: &str, seq: u64) -> Result<PathBuf, String> {
    let refused = |why: &str| format!("refused spool file name {name:?} of item {seq}: {why}");
    if !well_formed(name, seq) {
        return Err(refused("not a spool file of this item"));
    }
    let dir = match dir {
        Some(dir) => dir.to_path_buf(),
        None => CURRENT
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| refused("this run has no spool folder"))?,
    };
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_file() => Ok(path),
        Ok(_) => Err(refused("not a regular file")),
        Err(e) => Err(refused(&crate::errors::io_message(&e))),
    }
}

/// `<seq>-<pid>-<n>-<stdout|stderr>`, digits only, for this `seq`.
fn well_formed(name: &str, seq: u64) -> bool {
    let mut parts = name.split('-');
    let digits = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let seq_text = seq.to_string();
    parts.next() == Some(seq_text.as_str())
        && digits(parts.next())
        && digits(parts.next())
        && matches!(parts.next(), Some("stdout" | "stderr"))
        && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_items_plain_file_names_are_believed() {
        assert!(well_formed("12-345-0-stdout", 12));
        assert!(well_formed("12-345-9-stderr", 12));
        for bad in [
            "13-345-0-stdout",
            "12-345-0-stdout/../x",
            "../12-345-0-stdout",
            "12-345-0-passwd",
            "12--0-stdout",
            "12-345-0-stdout-x",
            "/etc/passwd",
            "",
        ] {
            assert!(!well_formed(bad, 12), "{bad}");
        }
    }

    #[test]
    fn a_link_in_the_folder_is_refused() {
        let dir = std::env::temp_dir().join(format!("mproc-spool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        std::fs::write(&target, "x").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("1-2-3-stdout")).unwrap();
        std::fs::write(dir.join("1-2-4-stdout"), "y").unwrap();
        let link = resolve(Some(&dir), "1-2-3-stdout", 1);
        let file = resolve(Some(&dir), "1-2-4-stdout", 1);
        let missing = resolve(Some(&dir), "1-2-5-stdout", 1);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(link.unwrap_err().contains("not a regular file"));
        assert_eq!(file.unwrap(), dir.join("1-2-4-stdout"));
        assert!(missing.is_err());
    }
}
