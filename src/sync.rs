//! The only module that writes to disk. Writes are all-or-nothing: every file
//! is first staged next to the project, then moved into place; if anything
//! fails, what was moved is put back.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::fileset::{FileSet, Ownership};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("directory '{0}' is not empty; pass --force to write into it")]
    NotEmpty(PathBuf),
    #[error("'{0}' exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("{context}: {source}")]
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

/// Writes `files` and removes `deletes` under `dir`, all or nothing.
pub fn write_changes(dir: &Path, files: &FileSet, deletes: &[&str]) -> Result<(), SyncError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(format!("creating '{}'", parent.display())))?;
    // Staging beside the target keeps every move on one file system, where a
    // rename is atomic.
    let staging = tempfile::Builder::new()
        .prefix(".kitgen-staging-")
        .tempdir_in(&parent)
        .map_err(io_err(format!(
            "creating a staging directory in '{}'",
            parent.display()
        )))?;
    for (path, file) in files.iter() {
        let staged = staging.path().join("new").join(path);
        if let Some(p) = staged.parent() {
            fs::create_dir_all(p).map_err(io_err(format!("staging '{path}'")))?;
        }
        fs::write(&staged, &file.contents).map_err(io_err(format!("staging '{path}'")))?;
    }

    if !dir.exists() && deletes.is_empty() {
        // A new project appears at once, whole.
        return fs::rename(staging.path().join("new"), dir).map_err(io_err(format!(
            "moving the project into '{}'",
            dir.display()
        )));
    }

    let backup = staging.path().join("backup");
    let mut moved: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut removed: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        for (path, _) in files.iter() {
            let target = dir.join(path);
            let staged = staging.path().join("new").join(path);
            if let Some(p) = target.parent() {
                create_dirs(p, &mut created_dirs)
                    .map_err(io_err(format!("creating the directory of '{path}'")))?;
            }
            if target.is_dir() {
                // Never move a directory of the user's out of the way.
                return Err(SyncError::Io {
                    context: format!("writing '{path}'"),
                    source: io::Error::other("a directory is in the way"),
                });
            }
            let saved = if target.exists() {
                let b = backup.join(path);
                fs::create_dir_all(b.parent().expect("has parent"))
                    .map_err(io_err(format!("backing up '{path}'")))?;
                fs::rename(&target, &b).map_err(io_err(format!("backing up '{path}'")))?;
                Some(b)
            } else {
                None
            };
            moved.push((target.clone(), saved));
            fs::rename(&staged, &target).map_err(io_err(format!("writing '{path}'")))?;
        }
        for path in deletes {
            let target = dir.join(path);
            if !target.exists() {
                continue;
            }
            let b = backup.join(path);
            fs::create_dir_all(b.parent().expect("has parent"))
                .map_err(io_err(format!("removing '{path}'")))?;
            fs::rename(&target, &b).map_err(io_err(format!("removing '{path}'")))?;
            removed.push((target, b));
        }
        Ok(())
    })();
    if result.is_err() {
        // Put everything back as it was.
        for (target, saved) in removed.into_iter().rev() {
            let _ = fs::rename(saved, target);
        }
        for (target, saved) in moved.into_iter().rev() {
            let _ = fs::remove_file(&target);
            if let Some(b) = saved {
                let _ = fs::rename(b, &target);
            }
        }
        for d in created_dirs.into_iter().rev() {
            let _ = fs::remove_dir(d);
        }
    } else {
        // Directories a deletion emptied go too, as the generator made them.
        for path in deletes {
            let mut parent = dir.join(path);
            while parent.pop() && parent != dir && fs::remove_dir(&parent).is_ok() {}
        }
    }
    result
}

/// Creates `dir` and its missing parents, remembering which it made.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent, created)?;
    }
    fs::create_dir(dir)?;
    created.push(dir.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        write_changes(&dir, &set(&[("a/b.go", "x"), ("c.txt", "y")]), &[]).unwrap();
        assert_eq!(fs::read_to_string(dir.join("a/b.go")).unwrap(), "x");
        assert_eq!(fs::read_to_string(dir.join("c.txt")).unwrap(), "y");
        // No staging directory is left behind.
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("proj")]);
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
        // A file where a directory must go fails the second write after the
        // first one has already moved into place.
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
    /// User-owned files on disk that still hold conflict markers.
    pub unresolved: Vec<String>,
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

fn read_text(path: &Path) -> Option<String> {
    fs::read(path)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Three-way merge of a user-owned file: `base` is what kitgen last wrote,
/// `ours` what is on disk, `theirs` the fresh rendering.
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
    for (path, file) in files.iter() {
        let disk = read_text(&dir.join(path));
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
                let edited = match (&disk, previous) {
                    (Some(d), Some(p)) => {
                        p.sha256.as_deref() != Some(sha256(d.as_bytes()).as_str())
                            && *d != file.contents
                    }
                    // A file kitgen never wrote, in a project it already tracks.
                    (Some(d), None) => existing && *d != file.contents,
                    (None, _) => false,
                };
                if edited && !options.force {
                    plan.hand_edited.push(path.to_string());
                }
                if disk.as_deref() != Some(file.contents.as_str()) {
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
                match (existing, previous, disk.as_deref()) {
                    // A new project or a new file: the rendering as it is.
                    (false, _, _) | (true, None, None) => {
                        if disk.as_deref() != Some(file.contents.as_str()) {
                            plan.writes.push(change(ChangeKind::Create, &file.contents));
                        }
                        record(&file.contents, base, false);
                    }
                    (true, Some(p), None) if p.deleted || p.base.is_some() => {
                        // The user deleted it: it stays deleted.
                        plan.kept_deleted.push(path.to_string());
                        record("", base, true);
                    }
                    (true, None, Some(_)) if matches!(options.baseline, Baseline::Unlocked) => {
                        // No base to merge against: the user's file wins as is.
                        plan.adopted.push(path.to_string());
                        record("", base, false);
                    }
                    (true, previous, ours) => {
                        let ours = ours.unwrap_or_default();
                        // A file the user deleted and then recreated merges
                        // against nothing, like a file kitgen never wrote.
                        let old_base = previous
                            .filter(|p| !p.deleted)
                            .and_then(|p| p.base.clone())
                            .unwrap_or_default();
                        match merge3(&old_base, ours, &file.contents) {
                            Ok(merged) => {
                                if merged != ours {
                                    plan.writes.push(change(ChangeKind::Merge, &merged));
                                }
                                record(&merged, base, false);
                            }
                            Err(conflicted) => {
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
            let disk = read_text(&dir.join(&old.path));
            match (old.owner, disk) {
                (Owner::Generated, Some(d)) => {
                    if old.sha256.as_deref() != Some(sha256(d.as_bytes()).as_str())
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
    let old_lock = read_text(&dir.join(crate::lock::LOCK_FILE));
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

/// Applies a plan all or nothing.
pub fn apply(dir: &Path, plan: &Plan) -> Result<(), SyncError> {
    let mut files = FileSet::new();
    for change in &plan.writes {
        files.add(
            change.path.clone(),
            Ownership::Generated,
            change.new.clone().unwrap_or_default(),
        );
    }
    let deletes: Vec<&str> = plan.deletes.iter().map(|c| c.path.as_str()).collect();
    write_changes(dir, &files, &deletes)
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
    let patch = diffy::DiffOptions::new().create_patch(old, new);
    let text = patch.to_string();
    // diffy labels the sides "original" and "modified"; name the file instead.
    let from = if change.old.is_some() {
        format!("a/{}", change.path)
    } else {
        "/dev/null".to_string()
    };
    let to = if change.new.is_some() {
        format!("b/{}", change.path)
    } else {
        "/dev/null".to_string()
    };
    let body = text
        .split_once('\n')
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map_or("", |(_, rest)| rest);
    format!("--- {from}\n+++ {to}\n{body}")
}
