//! The only module that writes to disk. Writes are all-or-nothing and
//! crash-safe (see [`journal`]): every file is staged inside the project,
//! journaled, then moved into place, the lock last.

mod journal;
mod relocate;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use journal::{ProjectLock, Recovered, STATE_DIR, lock_project, recover};

use crate::fileset::{FileSet, Ownership};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` and removes `deletes` under `dir` (which must exist), all
    /// or nothing, without checking what was there before.
    fn write_changes(dir: &Path, files: &FileSet, deletes: &[&str]) -> Result<(), SyncError> {
        let current: Vec<(String, Option<String>)> = files
            .iter()
            .map(|(p, _)| (p.to_string(), read_text(&dir.join(p))))
            .collect();
        let writes: Vec<(&str, Option<&str>, &str)> = files
            .iter()
            .zip(&current)
            .map(|((p, f), (_, old))| (p, old.as_deref(), f.contents.as_str()))
            .collect();
        let olds: Vec<String> = deletes
            .iter()
            .map(|p| read_text(&dir.join(p)).unwrap_or_default())
            .collect();
        let deletes: Vec<(&str, &str)> = deletes
            .iter()
            .zip(&olds)
            .filter(|(p, _)| fs::symlink_metadata(dir.join(p)).is_ok())
            .map(|(p, o)| (*p, o.as_str()))
            .collect();
        journal::apply(dir, &writes, &deletes)
    }

    fn read_text(path: &Path) -> Option<String> {
        fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
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
    fn go_sum_keeps_the_users_lines() {
        let base = "a v1 h1:x\nb v1 h1:y\n";
        let ours = "a v1 h1:x\nb v1 h1:y\nc v1 h1:z\n";
        let theirs = "a v1 h1:x\nd v1 h1:w\n";
        assert_eq!(
            merge_go_sum(base, ours, theirs),
            "a v1 h1:x\nc v1 h1:z\nd v1 h1:w\n"
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

/// What a generation changes, decided in memory before anything is written.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to write, with their new contents (conflicted files included).
    pub writes: Vec<Change>,
    /// Files kitgen generated before and no longer does.
    pub deletes: Vec<Change>,
    /// User-owned files whose merge has conflicts (written with markers).
    pub conflicts: Vec<String>,
    /// Generated files that were edited by hand: the generation stops unless forced.
    pub hand_edited: Vec<String>,
    /// User-owned files the user deleted; they stay deleted.
    pub kept_deleted: Vec<String>,
    /// User-owned files kitgen no longer renders; they are kept as they are.
    pub orphaned: Vec<String>,
    /// User-owned files taken as they are because no lock existed.
    pub adopted: Vec<String>,
    /// Adopted Go files lacking methods kitgen renders for them (a new
    /// RPC's stub), which no file of their directory declares.
    pub lacking: Vec<(String, Vec<String>)>,
    /// User-owned files on disk that still hold conflict markers.
    pub unresolved: Vec<String>,
    /// User-owned Go files found renamed, by what they declare: (kitgen's
    /// path, the file that now holds it).
    pub moved: Vec<(String, String)>,
    /// User-owned Go files that kitgen has new code for but that are gone,
    /// with no file declaring their types: the new code would be lost.
    pub missing: Vec<String>,
    /// Files kitgen will not read, with why (links leading out of the
    /// project, devices, unreadable files): nothing is written while any is.
    pub refused: Vec<(String, String)>,
    /// The lock after the generation.
    pub lock: crate::lock::Lock,
}

/// One file's change: what is on disk now, and what will be.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    /// A generated file rewritten.
    Update,
    /// A user-owned file that took the new rendering through a clean merge.
    Merge,
    Conflict,
    Delete,
}

impl Plan {
    /// Whether the project is what its sources generate, with no conflict
    /// left to resolve.
    pub fn is_clean(&self) -> bool {
        self.writes.iter().all(|c| c.path == crate::lock::LOCK_FILE)
            && self.deletes.is_empty()
            && self.conflicts.is_empty()
            && self.hand_edited.is_empty()
            && self.unresolved.is_empty()
            && self.missing.is_empty()
            && self.refused.is_empty()
    }
}

/// What the project on disk is measured against.
#[derive(Debug, Clone, Copy)]
pub enum Baseline<'a> {
    /// A new project: everything is written as rendered.
    New,
    /// A project without a lock (lost, or older than locks): its user-owned
    /// files are taken as they are, there being nothing to merge against.
    Unlocked,
    /// The lock of the last generation.
    Locked(&'a crate::lock::Lock),
}

/// How `plan` treats the project on disk.
pub struct PlanOptions<'a> {
    pub baseline: Baseline<'a>,
    /// Overwrite generated files edited by hand.
    pub force: bool,
    pub stubs_key: String,
    /// Files written once and never tracked (the starter's .proto, kitgen.toml).
    pub untracked: &'a [&'a str],
}

/// Reads the project file `rel` in `dir`; `Ok(None)` when there is none (or
/// a directory, or a dangling link, is in its place). A file that is no
/// regular file inside the project is refused unread, with why: what a link
/// leading out points to is none of kitgen's business (`diff` would print
/// it), and a device or FIFO may never end.
pub fn read_inside(dir: &Path, rel: &str) -> Result<Option<Vec<u8>>, String> {
    let path = dir.join(rel);
    if fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    let (Ok(root), Ok(real)) = (fs::canonicalize(dir), fs::canonicalize(&path)) else {
        return Ok(None);
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
                    return Err(format!(
                        "'{}' is a symbolic link to '{}', outside the project; \
                         kitgen neither reads nor writes there",
                        shown.join("/"),
                        to.display()
                    ));
                }
            }
        }
        return Err(format!(
            "it leads to '{}', outside the project",
            real.display()
        ));
    }
    let meta = fs::metadata(&real).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.is_dir() {
        return Ok(None);
    }
    if !meta.is_file() {
        return Err("it is not a regular file (a device, FIFO or socket)".to_string());
    }
    fs::read(&real)
        .map(Some)
        .map_err(|e| format!("cannot read it: {e}"))
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

/// go.sum is a set of lines: the user's additions (lines not in the base)
/// join the fresh rendering, sorted as `go mod tidy` keeps them.
fn merge_go_sum(base: &str, ours: &str, theirs: &str) -> String {
    let base: std::collections::HashSet<&str> = base.lines().collect();
    let mut lines: Vec<&str> = theirs
        .lines()
        .chain(ours.lines().filter(|l| !base.contains(l)))
        .filter(|l| !l.trim().is_empty())
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Merges one user-owned file by its kind.
fn merge_file(path: &str, base: &str, ours: &str, theirs: &str) -> Result<String, String> {
    if path == "go.sum" && ours != base {
        return Ok(merge_go_sum(base, ours, theirs));
    }
    merge3(base, ours, theirs)
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

/// Decides every change that writing `files` into `dir` makes.
pub fn plan(dir: &Path, files: &FileSet, options: &PlanOptions<'_>) -> Plan {
    use crate::lock::{FORMAT, Lock, LockedFile, Owner, sha256};

    let lock = match options.baseline {
        Baseline::Locked(lock) => Some(lock),
        Baseline::New | Baseline::Unlocked => None,
    };
    let existing = !matches!(options.baseline, Baseline::New);
    let mut plan = Plan::default();
    let mut locked_files = Vec::new();
    let mut refused = Vec::new();
    // Files that are not UTF-8: read lossily, fine for comparing, but a merge
    // written back would replace the user's bytes with U+FFFD.
    let mut lossy = std::collections::HashSet::new();
    let mut read = |rel: &str| match read_inside(dir, rel) {
        Ok(bytes) => bytes.map(|b| {
            String::from_utf8(b).unwrap_or_else(|e| {
                lossy.insert(rel.to_string());
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            })
        }),
        Err(why) => {
            refused.push((rel.to_string(), why));
            None
        }
    };
    for (path, file) in files.iter() {
        let disk = read(path);
        let previous = lock.and_then(|l| l.get(path));
        // Generated files are locked by hash, user-owned ones by their base:
        // a user's own edits never change the lock.
        let mut record = |contents: &str, base: Option<String>, deleted: bool| {
            if options.untracked.contains(&path) {
                return;
            }
            let generated = file.ownership == Ownership::Generated;
            let hashed = if generated {
                contents
            } else {
                base.as_deref().unwrap_or_default()
            };
            locked_files.push(LockedFile {
                path: path.to_string(),
                owner: file.ownership.into(),
                sha256: Some(sha256(hashed.as_bytes())),
                stub: file.stub,
                base: if generated { None } else { base },
                deleted,
            });
        };
        let change = |kind, new: &str| Change {
            path: path.to_string(),
            old: disk.clone(),
            new: Some(new.to_string()),
            kind,
        };
        match file.ownership {
            Ownership::Generated => {
                // Line ends do not count: a CRLF checkout is not an edit.
                let same = disk.as_deref().is_some_and(|d| lf(d) == file.contents);
                let edited = match (&disk, previous) {
                    (Some(d), Some(p)) => {
                        p.sha256.as_deref() != Some(sha256(lf(d).as_bytes()).as_str()) && !same
                    }
                    // A file kitgen never wrote, in a project it already
                    // tracks. Without a lock, files are adopted: a stale
                    // generated file is simply regenerated.
                    (Some(_), None) => matches!(options.baseline, Baseline::Locked(_)) && !same,
                    (None, _) => false,
                };
                if edited && !options.force {
                    plan.hand_edited.push(path.to_string());
                }
                if !same {
                    let kind = if disk.is_some() {
                        ChangeKind::Update
                    } else {
                        ChangeKind::Create
                    };
                    plan.writes.push(change(kind, &file.contents));
                }
                record(&file.contents, None, false);
            }
            Ownership::User => {
                if disk.as_deref().is_some_and(has_conflict_markers) {
                    plan.unresolved.push(path.to_string());
                }
                let base = Some(file.contents.clone());
                let same = disk.as_deref().is_some_and(|d| lf(d) == file.contents);
                match (existing, previous, disk.as_deref()) {
                    // `new --force` over a file of the user's: theirs is kept,
                    // never replaced; later generations merge into it.
                    (false, _, Some(_)) if !same => {
                        plan.adopted.push(path.to_string());
                        record("", base, false);
                    }
                    // A new project or a new file: the rendering as it is.
                    (false, _, _) | (true, None, None) => {
                        if !same {
                            plan.writes.push(change(ChangeKind::Create, &file.contents));
                        }
                        record(&file.contents, base, false);
                    }
                    (true, Some(p), None) if p.deleted || p.base.is_some() => {
                        let old_base = p.base.clone().unwrap_or_default();
                        let tracked = |c: &str| {
                            files.get(c).is_some() || lock.is_some_and(|l| l.get(c).is_some())
                        };
                        let moved = if path.ends_with(".go") {
                            relocate::find_moved(dir, path, &old_base, &tracked)
                        } else {
                            None
                        };
                        match moved {
                            // Renamed: merged where it now lives.
                            Some((moved_path, raw)) => {
                                let ours = lf(&raw);
                                let (kind, text) =
                                    match merge_file(path, &old_base, &ours, &file.contents) {
                                        Ok(merged) => {
                                            (ChangeKind::Merge, with_endings_of(merged, &raw))
                                        }
                                        Err(conflicted) => {
                                            plan.conflicts.push(moved_path.clone());
                                            (
                                                ChangeKind::Conflict,
                                                with_endings_of(conflicted, &raw),
                                            )
                                        }
                                    };
                                if has_conflict_markers(&raw) {
                                    plan.unresolved.push(moved_path.clone());
                                }
                                if text != raw {
                                    plan.writes.push(Change {
                                        path: moved_path.clone(),
                                        old: Some(raw.clone()),
                                        new: Some(text),
                                        kind,
                                    });
                                }
                                plan.moved.push((path.to_string(), moved_path));
                                record("", base, false);
                            }
                            // Gone, with new code for it that other code will
                            // need: say so rather than lose it silently.
                            None if !p.deleted
                                && !options.force
                                && old_base != file.contents
                                && relocate::declares_types(&old_base) =>
                            {
                                plan.missing.push(path.to_string());
                                record("", Some(old_base), false);
                            }
                            // The user deleted it: it stays deleted.
                            None => {
                                plan.kept_deleted.push(path.to_string());
                                record("", base, true);
                            }
                        }
                    }
                    (true, None, Some(_)) if matches!(options.baseline, Baseline::Unlocked) => {
                        // No base to merge against: the user's file wins as is.
                        plan.adopted.push(path.to_string());
                        if path.ends_with(".go") {
                            let lacking = relocate::undeclared(dir, path, &file.contents);
                            if !lacking.is_empty() {
                                plan.lacking.push((path.to_string(), lacking));
                            }
                        }
                        record("", base, false);
                    }
                    (true, previous, ours) => {
                        let raw = ours.unwrap_or_default();
                        // Merged on normalized lines, written back with the
                        // file's own line ends.
                        let ours = lf(raw);
                        // A file the user deleted and then recreated merges
                        // against nothing, like a file kitgen never wrote.
                        let old_base = previous
                            .filter(|p| !p.deleted)
                            .and_then(|p| p.base.clone())
                            .unwrap_or_default();
                        match merge_file(path, &old_base, &ours, &file.contents) {
                            Ok(merged) => {
                                let merged = with_endings_of(merged, raw);
                                if merged != raw {
                                    plan.writes.push(change(ChangeKind::Merge, &merged));
                                }
                                record(&merged, base, false);
                            }
                            Err(conflicted) => {
                                let conflicted = with_endings_of(conflicted, raw);
                                plan.conflicts.push(path.to_string());
                                plan.writes.push(change(ChangeKind::Conflict, &conflicted));
                                record(&conflicted, base, false);
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(lock) = lock {
        for old in &lock.files {
            if files.get(&old.path).is_some() {
                continue;
            }
            let disk = read(&old.path);
            match (old.owner, disk) {
                (Owner::Generated, Some(d)) => {
                    if old.sha256.as_deref() != Some(sha256(lf(&d).as_bytes()).as_str())
                        && !options.force
                    {
                        plan.hand_edited.push(old.path.clone());
                    }
                    plan.deletes.push(Change {
                        path: old.path.clone(),
                        old: Some(d),
                        new: None,
                        kind: ChangeKind::Delete,
                    });
                }
                (Owner::User, Some(_)) => plan.orphaned.push(old.path.clone()),
                (_, None) => {}
            }
        }
    }
    plan.hand_edited.sort();
    plan.lock = Lock {
        format: FORMAT,
        kitgen: env!("CARGO_PKG_VERSION").to_string(),
        stubs_key: options.stubs_key.clone(),
        files: locked_files,
    };
    let lock_text = plan.lock.to_toml();
    let old_lock = read(crate::lock::LOCK_FILE);
    for change in &plan.writes {
        let user = files
            .get(&change.path)
            .is_none_or(|f| f.ownership == Ownership::User);
        if user && lossy.contains(&change.path) {
            refused.push((
                change.path.clone(),
                "it is not UTF-8 text, and kitgen has changes to merge into it: \
                 convert it to UTF-8, then run kitgen again"
                    .to_string(),
            ));
        }
    }
    plan.refused = refused;
    if old_lock.as_deref() != Some(lock_text.as_str()) {
        plan.writes.push(Change {
            path: crate::lock::LOCK_FILE.to_string(),
            new: Some(lock_text),
            kind: if old_lock.is_some() {
                ChangeKind::Update
            } else {
                ChangeKind::Create
            },
            old: old_lock,
        });
    }
    plan
}

/// Applies a plan all or nothing, crash-safely; a file that changed since
/// the plan read it stops the run and puts everything back.
pub fn apply(dir: &Path, plan: &Plan) -> Result<(), SyncError> {
    fs::create_dir_all(dir).map_err(io_err(format!("creating '{}'", dir.display())))?;
    let writes: Vec<(&str, Option<&str>, &str)> = plan
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
    let deletes: Vec<(&str, &str)> = plan
        .deletes
        .iter()
        .map(|c| (c.path.as_str(), c.old.as_deref().unwrap_or_default()))
        .collect();
    journal::apply(dir, &writes, &deletes)
}

/// Lines that mark an unresolved conflict left by an earlier generation.
pub fn has_conflict_markers(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("<<<<<<< ours") || l.starts_with(">>>>>>> theirs"))
}

/// A unified diff of one change, for `check` and `diff`.
pub fn unified_diff(change: &Change) -> String {
    let old = change.old.as_deref().unwrap_or("");
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
        .create_patch(old, new)
        .to_string()
}
