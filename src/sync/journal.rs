//! Crash-safe writes. Every new file is staged inside the project, in
//! `.kitgen/`, with a journal of what will be replaced; the staging directory
//! becomes `.kitgen/txn` by one rename (the commit point), then each file is
//! moved into place, the lock last, and the transaction is removed. A run
//! killed at any step leaves either the old tree (nothing committed: the
//! staging directory is thrown away) or a journal the next run completes, or
//! rolls back if a file changed since. Each replacement first checks that the
//! file still holds what the plan read (compare-and-swap): an edit saved while
//! kitgen runs stops it, and everything already moved is put back.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::SyncError;
use crate::fileset::{check_path, check_writable};
use crate::lock::sha256;

/// kitgen's own directory in a project; it exists only while kitgen writes,
/// or after a kitgen run was killed mid-write.
pub const STATE_DIR: &str = ".kitgen";
const TXN: &str = "txn";
const JOURNAL: &str = "journal";
const JOURNAL_HEADER: &str = "kitgen journal 1";
/// Present in a transaction being rolled back.
const ROLLBACK: &str = "rollback";
/// A finished transaction is renamed to this (then removed), so that a kill
/// while removing it never leaves a transaction without its journal.
const DONE_PREFIX: &str = "done-";

/// One step of a transaction. Hashes are sha256 of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Op {
    /// A directory to create (its parent exists or comes first).
    Mkdir(String),
    /// Put the staged contents at `path`; `old` is the hash of what the plan
    /// read there (`None`: nothing was there).
    Write {
        path: String,
        old: Option<String>,
        new: String,
    },
    /// Remove `path`, which the plan read with hash `old`.
    Delete { path: String, old: String },
}

impl Op {
    fn path(&self) -> &str {
        match self {
            Op::Mkdir(p) | Op::Write { path: p, .. } | Op::Delete { path: p, .. } => p,
        }
    }
}

/// What a leftover journal came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The interrupted run was completed; this many files were in it.
    Completed(usize),
    /// A file (named when known) changed since the interrupted run planned
    /// it: everything was put back as it was before that run.
    RolledBack(Option<String>),
}

/// Test-only fault injection, compiled in so the real binary is what the
/// tests kill: `KITGEN_TEST_ABORT_AFTER=N` aborts the process (no cleanup, as
/// a SIGKILL) right after write step N; `KITGEN_TEST_PAUSE_AFTER=N` with
/// `KITGEN_TEST_PAUSE_FILE=F` creates `F.ready` after step N and waits (up to
/// a minute) until `F` exists. Not for users.
struct Steps {
    done: usize,
    abort_after: Option<usize>,
    pause: Option<(usize, PathBuf)>,
}

impl Steps {
    fn from_env() -> Steps {
        let number = |key: &str| std::env::var(key).ok().and_then(|v| v.parse().ok());
        Steps {
            done: 0,
            abort_after: number("KITGEN_TEST_ABORT_AFTER"),
            pause: number("KITGEN_TEST_PAUSE_AFTER")
                .zip(std::env::var_os("KITGEN_TEST_PAUSE_FILE").map(PathBuf::from)),
        }
    }

    fn step(&mut self) {
        self.done += 1;
        if self.abort_after == Some(self.done) {
            std::process::abort();
        }
        if let Some((n, file)) = &self.pause
            && *n == self.done
        {
            let mut ready = file.clone().into_os_string();
            ready.push(".ready");
            let _ = fs::write(ready, b"");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while !file.exists() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> SyncError {
    let context = context.into();
    move |source| SyncError::Io { context, source }
}

/// `path` exists as anything, a dangling link included.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// The hash of the file's bytes, as the plan read them.
fn hash_of(path: &Path) -> Option<String> {
    fs::read(path).ok().map(|b| sha256(&b))
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes renames durable; not every platform allows it.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Checks that `rel` may be written or removed under `root` (canonical): a
/// clean relative path whose existing directories are real directories inside
/// the project (a link to a directory inside is fine, one leading out is
/// not), and which is not itself a symlink, nor a directory.
pub(super) fn check_target(root: &Path, rel: &str) -> Result<(), SyncError> {
    check_entry(root, rel, false)
}

/// [`check_target`] for a file (`dir` false) or a directory to create.
fn check_entry(root: &Path, rel: &str, dir: bool) -> Result<(), SyncError> {
    check_path(rel)
        .and_then(|()| check_writable(rel))
        .map_err(|why| SyncError::Unsafe {
            path: rel.to_string(),
            why: why.to_string(),
        })?;
    let parts: Vec<&str> = rel.split('/').collect();
    let mut at = root.to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let Ok(meta) = fs::symlink_metadata(&at) else {
            return Ok(()); // the rest is created
        };
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            if last {
                return Err(SyncError::Unsafe {
                    path: rel.to_string(),
                    why: "it is a symbolic link; kitgen replaces no link by a file: \
                          make it a regular file, or let kitgen write the file it points to"
                        .to_string(),
                });
            }
            match fs::canonicalize(&at) {
                Ok(real) if real.starts_with(root) => at = real,
                Ok(real) => {
                    return Err(SyncError::Unsafe {
                        path: rel.to_string(),
                        why: format!(
                            "'{}' is a symbolic link to '{}', outside the project; kitgen never writes there",
                            parts[..=i].join("/"),
                            real.display()
                        ),
                    });
                }
                Err(_) => {
                    return Err(SyncError::Unsafe {
                        path: rel.to_string(),
                        why: format!("'{}' is a dangling symbolic link", parts[..=i].join("/")),
                    });
                }
            }
        } else if last && meta.is_dir() && !dir {
            return Err(SyncError::Unsafe {
                path: rel.to_string(),
                why: "a directory is in the way".to_string(),
            });
        } else if !last && !meta.is_dir() {
            return Err(SyncError::Unsafe {
                path: rel.to_string(),
                why: format!("'{}' is a file, not a directory", parts[..=i].join("/")),
            });
        }
    }
    Ok(())
}

/// The project directory, canonical, with kitgen's state directory checked.
fn root_of(dir: &Path) -> Result<PathBuf, SyncError> {
    let root = fs::canonicalize(dir).map_err(io_err(format!("opening '{}'", dir.display())))?;
    let state = root.join(STATE_DIR);
    if let Ok(meta) = fs::symlink_metadata(&state)
        && (meta.file_type().is_symlink() || !meta.is_dir())
    {
        return Err(SyncError::Unsafe {
            path: STATE_DIR.to_string(),
            why: "kitgen keeps its journal there, but it is not a plain directory; remove it"
                .to_string(),
        });
    }
    Ok(root)
}

/// Writes `writes` (path, bytes the plan read, new text), removes `deletes`
/// (path, bytes the plan read) and writes the `lock` (bytes the plan read,
/// new text) under `dir`, crash-safely, in this order: directories, writes,
/// deletes, then the lock: until it is in place, the previous lock describes
/// the tree, and a recovery completes the rest first.
pub(super) fn apply(
    dir: &Path,
    writes: &[(&str, Option<&[u8]>, &str)],
    deletes: &[(&str, &[u8])],
    lock: Option<(Option<&[u8]>, &str)>,
) -> Result<(), SyncError> {
    if writes.is_empty() && deletes.is_empty() && lock.is_none() {
        return Ok(());
    }
    let root = root_of(dir)?;
    let mut ops = Vec::new();
    let mut mkdirs: Vec<String> = Vec::new();
    for (path, old, new) in writes {
        check_target(&root, path)?;
        let mut prefix = String::new();
        for part in path.split('/').collect::<Vec<_>>().split_last().unwrap().1 {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !exists(&root.join(&prefix)) && !mkdirs.contains(&prefix) {
                mkdirs.push(prefix.clone());
            }
        }
        ops.push(Op::Write {
            path: path.to_string(),
            old: old.map(sha256),
            new: sha256(new.as_bytes()),
        });
    }
    for (path, old) in deletes {
        check_target(&root, path)?;
        ops.push(Op::Delete {
            path: path.to_string(),
            old: sha256(old),
        });
    }
    let lock_file = crate::lock::LOCK_FILE;
    if let Some((old, new)) = lock {
        check_target(&root, lock_file)?;
        ops.push(Op::Write {
            path: lock_file.to_string(),
            old: old.map(sha256),
            new: sha256(new.as_bytes()),
        });
    }
    let contents: std::collections::HashMap<&str, &str> = writes
        .iter()
        .map(|(p, _, n)| (*p, *n))
        .chain(lock.map(|(_, n)| (lock_file, n)))
        .collect();
    let mut all: Vec<Op> = mkdirs.into_iter().map(Op::Mkdir).collect();
    all.extend(ops);

    let mut steps = Steps::from_env();
    let state = root.join(STATE_DIR);
    let created_state = !state.exists();
    fs::create_dir_all(&state).map_err(io_err(format!("creating '{}'", state.display())))?;
    let staging = tempfile::Builder::new()
        .prefix("staging-")
        .tempdir_in(&state)
        .map_err(io_err(format!(
            "creating a staging directory in '{}'",
            state.display()
        )))?;
    let stage = || -> Result<(), SyncError> {
        fs::create_dir(staging.path().join("new")).map_err(io_err("staging"))?;
        fs::create_dir(staging.path().join("old")).map_err(io_err("staging"))?;
        for (i, op) in all.iter().enumerate() {
            if let Op::Write { path, .. } = op {
                let mut f = File::create(staging.path().join("new").join(i.to_string()))
                    .map_err(io_err(format!("staging '{path}'")))?;
                f.write_all(contents[path.as_str()].as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io_err(format!("staging '{path}'")))?;
            }
        }
        let mut journal =
            File::create(staging.path().join(JOURNAL)).map_err(io_err("writing the journal"))?;
        journal
            .write_all(encode(&all).as_bytes())
            .and_then(|()| journal.sync_all())
            .map_err(io_err("writing the journal"))?;
        sync_dir(staging.path());
        Ok(())
    };
    if let Err(e) = stage() {
        drop(staging);
        if created_state {
            let _ = fs::remove_dir(&state);
        }
        return Err(e);
    }
    steps.step();
    // The commit point: from here on the change happens, now or at the next run.
    let staging = staging.keep();
    let txn = state.join(TXN);
    fs::rename(&staging, &txn).map_err(io_err("committing the journal"))?;
    sync_dir(&state);
    steps.step();
    match forward(&root, &txn, &all, &mut steps) {
        Ok(()) => {
            finish(&root, &all, &mut steps);
            Ok(())
        }
        Err(e) => {
            rollback(&root, &txn, &all);
            Err(e)
        }
    }
}

fn encode(ops: &[Op]) -> String {
    let mut out = format!("{JOURNAL_HEADER}\n");
    for op in ops {
        match op {
            Op::Mkdir(p) => out.push_str(&format!("mkdir\t{p}\n")),
            Op::Write { path, old, new } => out.push_str(&format!(
                "write\t{}\t{new}\t{path}\n",
                old.as_deref().unwrap_or("-")
            )),
            Op::Delete { path, old } => out.push_str(&format!("delete\t{old}\t{path}\n")),
        }
    }
    out.push_str("end\n");
    out
}

fn decode(text: &str) -> Option<Vec<Op>> {
    let mut lines = text.lines();
    if lines.next()? != JOURNAL_HEADER {
        return None;
    }
    let mut ops = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let op = match fields.as_slice() {
            ["end"] => return Some(ops),
            ["mkdir", p] => Op::Mkdir(p.to_string()),
            ["write", old, new, p] => Op::Write {
                path: p.to_string(),
                old: (*old != "-").then(|| old.to_string()),
                new: new.to_string(),
            },
            ["delete", old, p] => Op::Delete {
                path: p.to_string(),
                old: old.to_string(),
            },
            _ => return None,
        };
        // The journal is read from disk: its paths are checked as the lock's are.
        check_path(op.path()).ok()?;
        check_writable(op.path()).ok()?;
        ops.push(op);
    }
    None
}

fn changed(path: &str) -> SyncError {
    SyncError::Changed(path.to_string())
}

/// Carries out every step not done yet. Each step can tell from the disk
/// whether it was done, so running this again after a crash is safe.
fn forward(root: &Path, txn: &Path, ops: &[Op], steps: &mut Steps) -> Result<(), SyncError> {
    for (i, op) in ops.iter().enumerate() {
        let target = root.join(op.path());
        let staged = txn.join("new").join(i.to_string());
        let backup = txn.join("old").join(i.to_string());
        match op {
            Op::Mkdir(p) => {
                check_entry(root, p, true)?;
                if !exists(&target) {
                    fs::create_dir(&target).map_err(io_err(format!("creating '{p}'")))?;
                    steps.step();
                }
            }
            Op::Write { path, old, new } => {
                if !exists(&staged) {
                    continue; // done
                }
                check_target(root, path)?;
                if exists(&target) && hash_of(&target).as_ref() == Some(new) {
                    // Linked into place before a crash: only the staged name is left.
                    fs::remove_file(&staged).map_err(io_err(format!("writing '{path}'")))?;
                    steps.step();
                    continue;
                }
                if !exists(&backup) {
                    match (exists(&target), old) {
                        (true, Some(old)) => {
                            if hash_of(&target).as_ref() != Some(old) {
                                return Err(changed(path));
                            }
                            fs::rename(&target, &backup)
                                .map_err(io_err(format!("replacing '{path}'")))?;
                            if hash_of(&backup).as_ref() != Some(old) {
                                // Saved between the check and the move.
                                let _ = fs::rename(&backup, &target);
                                return Err(changed(path));
                            }
                            steps.step();
                        }
                        (false, None) => {}
                        _ => return Err(changed(path)),
                    }
                } else if exists(&target) {
                    return Err(changed(path));
                }
                // A hard link never replaces: a file that appeared meanwhile stops us.
                match fs::hard_link(&staged, &target) {
                    Ok(()) => {
                        steps.step();
                        fs::remove_file(&staged).map_err(io_err(format!("writing '{path}'")))?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        return Err(changed(path));
                    }
                    Err(_) => {
                        fs::rename(&staged, &target)
                            .map_err(io_err(format!("writing '{path}'")))?;
                    }
                }
                steps.step();
            }
            Op::Delete { path, old } => {
                if exists(&backup) || !exists(&target) {
                    continue;
                }
                check_target(root, path)?;
                if hash_of(&target).as_ref() != Some(old) {
                    return Err(changed(path));
                }
                fs::rename(&target, &backup).map_err(io_err(format!("removing '{path}'")))?;
                steps.step();
            }
        }
    }
    Ok(())
}

/// Makes the new tree durable, then drops the transaction and the
/// directories deletions emptied.
fn finish(root: &Path, ops: &[Op], steps: &mut Steps) {
    let mut dirs: Vec<PathBuf> = ops
        .iter()
        .filter_map(|op| root.join(op.path()).parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        sync_dir(d);
    }
    let state = root.join(STATE_DIR);
    drop_txn(&state.join(TXN));
    steps.step();
    let _ = fs::remove_dir(&state);
    for op in ops {
        if let Op::Delete { path, .. } = op {
            // Directories a deletion emptied go too, as the generator made them.
            let mut parent = root.join(path);
            while parent.pop() && parent != root && fs::remove_dir(&parent).is_ok() {}
        }
    }
}

/// Puts back everything `forward` did, newest first, then drops the
/// transaction. The decision is recorded first, so that a rollback killed
/// midway is finished as a rollback, not taken forward again.
fn rollback(root: &Path, txn: &Path, ops: &[Op]) {
    if let Ok(f) = File::create(txn.join(ROLLBACK)) {
        let _ = f.sync_all();
        sync_dir(txn);
    }
    for (i, op) in ops.iter().enumerate().rev() {
        if check_entry(root, op.path(), matches!(op, Op::Mkdir(_))).is_err() {
            continue; // never acted on: nothing to put back
        }
        let target = root.join(op.path());
        let staged = txn.join("new").join(i.to_string());
        let backup = txn.join("old").join(i.to_string());
        match op {
            Op::Mkdir(_) => {
                let _ = fs::remove_dir(&target);
            }
            Op::Write { new, .. } => {
                let ours = exists(&target) && hash_of(&target).as_ref() == Some(new);
                let placed = !exists(&staged) || ours;
                if placed && ours {
                    // A file edited after kitgen placed it is the user's newest
                    // version, and stays.
                    let _ = if exists(&backup) {
                        fs::rename(&backup, &target)
                    } else {
                        fs::remove_file(&target)
                    };
                } else if !placed && exists(&backup) && !exists(&target) {
                    let _ = fs::rename(&backup, &target);
                }
            }
            Op::Delete { .. } => {
                if exists(&backup) && !exists(&target) {
                    let _ = fs::rename(&backup, &target);
                }
            }
        }
    }
    let state = root.join(STATE_DIR);
    drop_txn(txn);
    let _ = fs::remove_dir(&state);
}

/// Removes a transaction: first renamed aside in one step (a removal killed
/// midway would leave a transaction without its journal), then deleted.
fn drop_txn(txn: &Path) {
    let Some(state) = txn.parent() else { return };
    let done = state.join(format!("{DONE_PREFIX}{}", std::process::id()));
    let _ = fs::remove_dir_all(&done);
    if fs::rename(txn, &done).is_ok() {
        sync_dir(state);
        let _ = fs::remove_dir_all(&done);
    }
}

/// Whether `path` is a directory itself, not a link to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// A transaction's directories must be real directories holding regular
/// files only: a link there would move backups out of the project, or link
/// a file from outside into it.
fn txn_is_plain(txn: &Path) -> bool {
    if !is_real_dir(txn) {
        return false;
    }
    ["new", "old"].iter().all(|sub| {
        let dir = txn.join(sub);
        if !exists(&dir) {
            return true;
        }
        is_real_dir(&dir)
            && fs::read_dir(&dir).is_ok_and(|entries| {
                entries.flatten().all(|e| {
                    e.file_type().is_ok_and(|t| t.is_file())
                        && e.file_name()
                            .to_str()
                            .is_some_and(|n| n.parse::<usize>().is_ok())
                })
            })
    })
}

/// Finishes what a killed kitgen left: an uncommitted staging directory is
/// dropped, a committed journal is completed, or rolled back if a file it
/// would replace changed since. Run before anything else reads the project.
pub fn recover(dir: &Path) -> Result<Option<Recovered>, SyncError> {
    let state = dir.join(STATE_DIR);
    if !exists(&state) {
        return Ok(None);
    }
    let root = root_of(dir)?;
    let state = root.join(STATE_DIR);
    let entries = fs::read_dir(&state).map_err(io_err(format!("reading '{}'", state.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("staging-") || name.starts_with(DONE_PREFIX) {
            // Never committed (the tree is as it was before that run), or
            // finished (only its removal was interrupted).
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    let txn = state.join(TXN);
    let outcome = if exists(&txn) {
        if !txn_is_plain(&txn) {
            return Err(SyncError::Journal(txn));
        }
        let text = fs::read_to_string(txn.join(JOURNAL)).unwrap_or_default();
        let ops = decode(&text).ok_or_else(|| SyncError::Journal(txn.clone()))?;
        let mut steps = Steps::from_env();
        if exists(&txn.join(ROLLBACK)) {
            rollback(&root, &txn, &ops);
            let _ = fs::remove_dir(&state);
            return Ok(Some(Recovered::RolledBack(None)));
        }
        match forward(&root, &txn, &ops, &mut steps) {
            Ok(()) => {
                finish(&root, &ops, &mut steps);
                let files = ops.iter().filter(|o| !matches!(o, Op::Mkdir(_))).count();
                Some(Recovered::Completed(files))
            }
            Err(SyncError::Changed(path)) => {
                rollback(&root, &txn, &ops);
                Some(Recovered::RolledBack(Some(path)))
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let _ = fs::remove_dir(&state);
    Ok(outcome)
}

/// An advisory lock on the project directory, held while kitgen reads and
/// writes it; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct ProjectLock {
    _dir: Option<File>,
}

impl ProjectLock {
    /// No lock, for a directory that does not exist (nothing to protect).
    pub fn none() -> ProjectLock {
        ProjectLock { _dir: None }
    }
}

/// Takes the project's lock: exclusive to write, shared to read. Another
/// kitgen holding it is an error, not a wait.
pub fn lock_project(dir: &Path, exclusive: bool) -> Result<ProjectLock, SyncError> {
    #[cfg(unix)]
    {
        // flock(2) on the directory itself: no lock file to leave behind.
        let file = File::open(dir).map_err(io_err(format!("opening '{}'", dir.display())))?;
        let taken = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match taken {
            Ok(()) => Ok(ProjectLock { _dir: Some(file) }),
            Err(fs::TryLockError::WouldBlock) => Err(SyncError::Busy(dir.to_path_buf())),
            // A file system without locks: go on unlocked, as git does on NFS.
            Err(fs::TryLockError::Error(_)) => Ok(ProjectLock { _dir: None }),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, exclusive);
        Ok(ProjectLock { _dir: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_and_refuses_escapes() {
        let ops = vec![
            Op::Mkdir("pkg".into()),
            Op::Write {
                path: "pkg/a.go".into(),
                old: None,
                new: "h1".into(),
            },
            Op::Write {
                path: "kitgen.lock".into(),
                old: Some("h0".into()),
                new: "h2".into(),
            },
            Op::Delete {
                path: "pb/x.pb.go".into(),
                old: "h3".into(),
            },
        ];
        assert_eq!(decode(&encode(&ops)), Some(ops));
        let evil = format!("{JOURNAL_HEADER}\ndelete\th\t../outside\nend\n");
        assert_eq!(decode(&evil), None);
        let truncated = format!("{JOURNAL_HEADER}\nmkdir\tpkg\n");
        assert_eq!(decode(&truncated), None);
    }

    #[test]
    fn links_out_of_the_project_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(root.join("pkg")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("x"), "theirs").unwrap();
        let root = fs::canonicalize(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("pkg/service")).unwrap();
        std::os::unix::fs::symlink(root.join("pkg"), root.join("inside")).unwrap();
        std::os::unix::fs::symlink(outside.join("x"), root.join("file")).unwrap();
        let err = check_target(&root, "pkg/service/add.go")
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the project"), "{err}");
        assert!(check_target(&root, "inside/new.go").is_ok());
        let err = check_target(&root, "file").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(check_target(&root, "../x").is_err());
    }
}
