//! The only module that writes to disk. Writes are all-or-nothing: every file
//! is first staged next to the project, then moved into place; if anything
//! fails, what was moved is put back.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::fileset::FileSet;

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

/// Writes every file of `files` under `dir`, all or nothing.
pub fn write_all(dir: &Path, files: &FileSet) -> Result<(), SyncError> {
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

    if !dir.exists() {
        // A new project appears at once, whole.
        return fs::rename(staging.path().join("new"), dir).map_err(io_err(format!(
            "moving the project into '{}'",
            dir.display()
        )));
    }

    let backup = staging.path().join("backup");
    let mut moved: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for (path, _) in files.iter() {
            let target = dir.join(path);
            let staged = staging.path().join("new").join(path);
            if let Some(p) = target.parent() {
                create_dirs(p, &mut created_dirs)
                    .map_err(io_err(format!("creating the directory of '{path}'")))?;
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
        Ok(())
    })();
    if result.is_err() {
        // Put everything back as it was.
        for (target, saved) in moved.into_iter().rev() {
            let _ = fs::remove_file(&target);
            if let Some(b) = saved {
                let _ = fs::rename(b, &target);
            }
        }
        for d in created_dirs.into_iter().rev() {
            let _ = fs::remove_dir(d);
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
    use crate::fileset::Ownership;

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
        write_all(&dir, &set(&[("a/b.go", "x"), ("c.txt", "y")])).unwrap();
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
        let err = write_all(
            &dir,
            &set(&[("a.txt", "new"), ("blocker/b.txt", "x"), ("c.txt", "z")]),
        );
        assert!(err.is_err());
        assert_eq!(fs::read_to_string(dir.join("a.txt")).unwrap(), "old");
        assert_eq!(fs::read_to_string(dir.join("blocker")).unwrap(), "a file");
        assert!(!dir.join("c.txt").exists());
        let entries = fs::read_dir(&dir).unwrap().count();
        assert_eq!(entries, 2);
    }
}
