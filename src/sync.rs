//! The only module that writes to disk. Writes are all-or-nothing and
//! crash-safe (see [`journal`]): every file is staged inside the project,
//! journaled, then moved into place, the lock last.

mod journal;
mod plan;
mod relocate;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::backend::{PreMerge, Target};

pub use journal::{ProjectLock, Recovered, STATE_DIR, lock_project, recover};
pub use plan::{
    Baseline, Change, ChangeKind, Decision, Finding, Found, Mode, OnDisk, Plan, PlanOptions,
    Record, Removal, decide, decide_removal, plan,
};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("directory '{0}' is not empty; pass --force to write into it")]
    NotEmpty(PathBuf),
    #[error("'{0}' exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("another kitgen is running in '{0}'; wait for it to finish")]
    Busy(PathBuf),
    #[error("'{0}' changed while kitgen was running; nothing was changed: run kitgen again")]
    Changed(String),
    #[error("refusing to write '{path}': {why}")]
    Unsafe { path: String, why: String },
    #[error("kitgen's journal '{}' is damaged; remove the directory (your files are as before the interrupted run, or partly updated)", .0.display())]
    Journal(PathBuf),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> SyncError {
    let context = context.into();
    move |source| SyncError::Io { context, source }
}

/// Checks that a new project may be written to `dir`.
pub fn check_target(dir: &Path, force: bool) -> Result<(), SyncError> {
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(SyncError::NotADirectory(dir.to_path_buf())),
        Ok(_) => {
            let mut entries =
                fs::read_dir(dir).map_err(io_err(format!("reading '{}'", dir.display())))?;
            if entries.next().is_some() && !force {
                Err(SyncError::NotEmpty(dir.to_path_buf()))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format!("reading '{}'", dir.display()))(e)),
    }
}

/// What reading one project file found.
pub(crate) enum Read {
    /// Nothing is there (or a directory, or a dangling link).
    Absent,
    File(Vec<u8>),
    /// A file kitgen will not read, with why.
    Refused(String),
}

/// Reads the project file `rel` in `dir`. A file that is no regular file
/// inside the project is refused unread, with why: what a link leading out
/// points to is none of kitgen's business (`diff` would print it), and a
/// device or FIFO may never end. Any other error reading it is an error.
pub(crate) fn read_file(dir: &Path, rel: &str) -> Result<Read, SyncError> {
    let path = dir.join(rel);
    let failed = || io_err(format!("reading '{}'", path.display()));
    // Not there: nothing, or something that is no directory above it.
    let absent = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
        )
    };
    match fs::symlink_metadata(&path) {
        Ok(_) => {}
        Err(e) if absent(&e) => return Ok(Read::Absent),
        Err(e) => return Err(failed()(e)),
    }
    let root = fs::canonicalize(dir).map_err(failed())?;
    let real = match fs::canonicalize(&path) {
        Ok(real) => real,
        // A dangling link.
        Err(e) if absent(&e) => return Ok(Read::Absent),
        Err(e) => return Err(failed()(e)),
    };
    if !real.starts_with(&root) {
        // Name the link that leads out: the file itself or a directory above.
        let mut at = dir.to_path_buf();
        let mut shown = Vec::new();
        for part in rel.split('/') {
            at.push(part);
            shown.push(part);
            if fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                let to = fs::canonicalize(&at).unwrap_or_else(|_| real.clone());
                if !to.starts_with(&root) {
                    return Ok(Read::Refused(format!(
                        "'{}' is a symbolic link to '{}', outside the project; \
                         kitgen neither reads nor writes there",
                        shown.join("/"),
                        to.display()
                    )));
                }
            }
        }
        return Ok(Read::Refused(format!(
            "it leads to '{}', outside the project",
            real.display()
        )));
    }
    let meta = fs::metadata(&real).map_err(failed())?;
    if meta.is_dir() {
        return Ok(Read::Absent);
    }
    if !meta.is_file() {
        return Ok(Read::Refused(
            "it is not a regular file (a device, FIFO or socket)".to_string(),
        ));
    }
    fs::read(&real).map(Read::File).map_err(failed())
}

/// Reads the project file `rel` in `dir`, as [`read_file`]; `Ok(None)` when
/// there is none, `Err(why)` when it is refused or cannot be read.
pub fn read_inside(dir: &Path, rel: &str) -> Result<Option<Vec<u8>>, String> {
    match read_file(dir, rel) {
        Ok(Read::Absent) => Ok(None),
        Ok(Read::File(bytes)) => Ok(Some(bytes)),
        Ok(Read::Refused(why)) => Err(why),
        Err(SyncError::Io { source, .. }) => Err(format!("cannot read it: {source}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Three-way merge of a user-owned file: `base` is what kitgen last wrote,
/// `ours` what is on disk, `theirs` the fresh rendering. Conflicts are
/// marked `<<<<<<< ours`, `||||||| base`, `=======`, `>>>>>>> theirs`.
pub fn merge3(base: &str, ours: &str, theirs: &str) -> Result<String, String> {
    if ours == base {
        return Ok(theirs.to_string());
    }
    if theirs == base || ours == theirs {
        return Ok(ours.to_string());
    }
    diffy::MergeOptions::new()
        .set_conflict_style(diffy::ConflictStyle::Diff3)
        .set_incomplete_hunk_style(diffy::IncompleteHunkStyle::Git)
        .merge(base, ours, theirs)
        .map_err(|conflicted| {
            // diffy names the base "original" and has no option to name it
            // otherwise; the README (and git) say "base".
            let mut out = String::with_capacity(conflicted.len());
            for line in conflicted.split_inclusive('\n') {
                match line.strip_prefix("||||||| original") {
                    Some(rest) if rest.trim_end().is_empty() => {
                        out.push_str("||||||| base");
                        out.push_str(rest);
                    }
                    _ => out.push_str(line),
                }
            }
            out
        })
}

/// Merges one user-owned file: the target's own merge first (see
/// [`Target::premerge`]), then the lines.
fn merge_file(
    target: &dyn Target,
    path: &str,
    base: &str,
    ours: &str,
    theirs: &str,
) -> Result<String, String> {
    match target.premerge(path, base, ours, theirs) {
        PreMerge::Merged(merged) => Ok(merged),
        PreMerge::Carried { base, ours } => merge3(&base, &ours, theirs),
        PreMerge::Lines => merge3(base, ours, theirs),
    }
}

/// Text with `\r\n` line ends made `\n`: files are compared and merged on
/// normalized lines, so a CRLF checkout (git's autocrlf) is no edit.
fn lf(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Whether most of a file's line ends are `\r\n`.
fn is_crlf(text: &str) -> bool {
    let crlf = text.matches("\r\n").count();
    crlf > 0 && crlf * 2 >= text.matches('\n').count()
}

/// `text` (normalized) with the line ends `like` uses.
fn with_endings_of(text: String, like: &str) -> String {
    if is_crlf(like) {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// Applies a plan all or nothing, crash-safely; a file that changed since
/// the plan read it stops the run and puts everything back.
pub fn apply(dir: &Path, plan: &Plan) -> Result<(), SyncError> {
    fs::create_dir_all(dir).map_err(io_err(format!("creating '{}'", dir.display())))?;
    let writes: Vec<(&str, Option<&[u8]>, &str)> = plan
        .writes
        .iter()
        .map(|c| {
            (
                c.path.as_str(),
                c.old.as_deref(),
                c.new.as_deref().unwrap_or_default(),
            )
        })
        .collect();
    let deletes: Vec<(&str, &[u8])> = plan
        .deletes
        .iter()
        .map(|c| (c.path.as_str(), c.old.as_deref().unwrap_or_default()))
        .collect();
    let lock = plan
        .lock_write
        .as_ref()
        .map(|c| (c.old.as_deref(), c.new.as_deref().unwrap_or_default()));
    journal::apply(dir, &writes, &deletes, lock)
}

/// Lines that mark an unresolved conflict left by an earlier generation.
pub fn has_conflict_markers(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("<<<<<<< ours") || l.starts_with(">>>>>>> theirs"))
}

/// A unified diff of one change, for `check` and `diff`.
pub fn unified_diff(change: &Change) -> String {
    // A file that is not UTF-8 is shown as best it can be.
    let old = String::from_utf8_lossy(change.old.as_deref().unwrap_or_default());
    let new = change.new.as_deref().unwrap_or("");
    let side = |present: bool, prefix: &str| {
        if present {
            format!("{prefix}/{}", change.path)
        } else {
            "/dev/null".to_string()
        }
    };
    diffy::DiffOptions::new()
        .set_original_filename(side(change.old.is_some(), "a"))
        .set_modified_filename(side(change.new.is_some(), "b"))
        .create_patch(&old, new)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fileset::{FileSet, Ownership};

    /// Writes `files` and removes `deletes` under `dir` (which must exist), all
    /// or nothing, without checking what was there before.
    fn write_changes(dir: &Path, files: &FileSet, deletes: &[&str]) -> Result<(), SyncError> {
        let read = |p: &str| match read_file(dir, p) {
            Ok(Read::File(bytes)) => Some(bytes),
            _ => None,
        };
        let current: Vec<Option<Vec<u8>>> = files.iter().map(|(p, _)| read(p)).collect();
        let writes: Vec<(&str, Option<&[u8]>, &str)> = files
            .iter()
            .zip(&current)
            .map(|((p, f), old)| (p, old.as_deref(), f.contents.as_str()))
            .collect();
        let olds: Vec<Option<Vec<u8>>> = deletes.iter().map(|p| read(p)).collect();
        let deletes: Vec<(&str, &[u8])> = deletes
            .iter()
            .zip(&olds)
            .filter_map(|(p, o)| Some((*p, o.as_deref()?)))
            .collect();
        journal::apply(dir, &writes, &deletes, None)
    }

    fn set(files: &[(&str, &str)]) -> FileSet {
        let mut s = FileSet::new();
        for (p, c) in files {
            s.add(*p, Ownership::Generated, *c);
        }
        s
    }

    #[test]
    fn writes_a_new_project_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proj");
        fs::create_dir(&dir).unwrap();
        write_changes(&dir, &set(&[("a/b.go", "x"), ("c.txt", "y")]), &[]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a/b.go")).unwrap(), "x");
        assert_eq!(fs::read_to_string(dir.join("c.txt")).unwrap(), "y");
        // No staging directory is left behind, inside or beside the project.
        let mut leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        leftovers.sort();
        assert_eq!(leftovers, ["a", "c.txt"]);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn io_errors_are_printed_once() {
        let err = anyhow::Error::new(SyncError::Io {
            context: "writing 'a.go'".into(),
            source: io::Error::from_raw_os_error(1),
        })
        .context("writing the project");
        let text = format!("{err:#}");
        assert_eq!(text.matches("os error 1").count(), 1, "{text}");
    }

    #[test]
    fn merges_mark_the_base_as_the_readme_says() {
        let conflicted = merge3("a\nb\nc\n", "a\nB1\nc\n", "a\nB2\nc\n").unwrap_err();
        let markers: Vec<&str> = conflicted
            .lines()
            .filter(|l| l.starts_with(['<', '|', '=', '>']))
            .collect();
        assert_eq!(
            markers,
            ["<<<<<<< ours", "||||||| base", "=======", ">>>>>>> theirs"]
        );
    }

    #[test]
    fn line_ends_follow_the_file() {
        assert_eq!(with_endings_of("a\nb\n".into(), "x\r\ny\r\n"), "a\r\nb\r\n");
        assert_eq!(with_endings_of("a\nb\n".into(), "x\ny\n"), "a\nb\n");
        assert_eq!(lf("a\r\nb\n"), "a\nb\n");
    }

    #[test]
    fn refuses_a_non_empty_directory_without_force() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
        assert!(matches!(
            check_target(tmp.path(), false),
            Err(SyncError::NotEmpty(_))
        ));
        assert!(check_target(tmp.path(), true).is_ok());
        assert!(check_target(&tmp.path().join("absent"), false).is_ok());
    }

    #[test]
    fn a_failed_write_restores_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proj");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("a.txt"), "old").unwrap();
        // A file where a directory must go is refused before anything moves.
        fs::write(dir.join("blocker"), "a file").unwrap();
        let err = write_changes(
            &dir,
            &set(&[("a.txt", "new"), ("blocker/b.txt", "x"), ("c.txt", "z")]),
            &[],
        );
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(fs::read_to_string(dir.join("blocker")).unwrap(), "a file");
        assert!(!dir.join("c.txt").exists());
        let entries = fs::read_dir(&dir).unwrap().count();
        assert_eq!(entries, 2);
    }

    #[test]
    fn deletions_remove_files_and_the_directories_they_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("proj");
        fs::create_dir_all(dir.join("pb/old")).unwrap();
        fs::write(dir.join("pb/old/x.pb.go"), "old").unwrap();
        fs::write(dir.join("keep.go"), "mine").unwrap();
        write_changes(&dir, &set(&[("pb/new.pb.go", "new")]), &["pb/old/x.pb.go"]).unwrap();
        assert!(!dir.join("pb/old").exists(), "the emptied directory goes");
        assert_eq!(fs::read_to_string(dir.join("pb/new.pb.go")).unwrap(), "new");
        assert_eq!(fs::read_to_string(dir.join("keep.go")).unwrap(), "mine");
        assert!(!dir.join(STATE_DIR).exists());
    }
}
