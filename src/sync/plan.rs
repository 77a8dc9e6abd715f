//! What a generation changes, decided in memory before anything is written:
//! a read step gathers what is on disk (its IO errors propagate), then
//! [`decide`], a pure function, settles each file from its rendering, what is
//! on disk and what the lock remembers.

use std::path::Path;

use super::{
    Read, SyncError, has_conflict_markers, lf, merge_file, read_file, relocate, with_endings_of,
};
use crate::backend::Target;
use crate::fileset::{FileSet, OutputFile, Ownership};
use crate::lock::{LOCK_FILE, Lock, LockedFile, sha256};

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
    /// project, devices), or will not merge into (not UTF-8): nothing is
    /// written while any is.
    pub refused: Vec<(String, String)>,
    /// The lock after the generation.
    pub lock: Lock,
    /// Writing the lock, when it changes; written after everything else.
    pub lock_write: Option<Change>,
}

/// One file's change: what is on disk now, and what will be.
#[derive(Debug, Clone)]
pub struct Change {
    pub path: String,
    /// The bytes the plan read (not necessarily UTF-8).
    pub old: Option<Vec<u8>>,
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
    /// left to resolve (a lock to rewrite alone changes nothing).
    pub fn is_clean(&self) -> bool {
        self.writes.is_empty()
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
    Locked(&'a Lock),
}

/// How `plan` treats the project on disk.
pub struct PlanOptions<'a> {
    /// The project's target: how its files of the user's merge, and which
    /// are source files whose declarations find one that was renamed.
    pub target: &'a dyn Target,
    pub baseline: Baseline<'a>,
    /// Overwrite generated files edited by hand.
    pub force: bool,
    pub stubs_key: String,
    /// Files written once and never tracked (the starter's .proto, kitgen.toml).
    pub untracked: &'a [&'a str],
}

/// What is at one path of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDisk {
    /// Nothing (or a directory, or a dangling link, is in its place).
    Absent,
    Text(String),
    /// Not UTF-8: compared by its bytes, never merged into.
    Binary(Vec<u8>),
}

impl OnDisk {
    fn from_bytes(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => OnDisk::Text(text),
            Err(e) => OnDisk::Binary(e.into_bytes()),
        }
    }

    fn bytes(&self) -> Option<&[u8]> {
        match self {
            OnDisk::Absent => None,
            OnDisk::Text(t) => Some(t.as_bytes()),
            OnDisk::Binary(b) => Some(b),
        }
    }

    fn is_present(&self) -> bool {
        !matches!(self, OnDisk::Absent)
    }

    /// Whether it is `rendered`, line ends aside: a CRLF checkout is no edit.
    fn is(&self, rendered: &str) -> bool {
        matches!(self, OnDisk::Text(t) if lf(t) == rendered)
    }

    /// The hash a lock entry is compared with: of the text with `\n` line ends.
    fn hash(&self) -> Option<String> {
        match self {
            OnDisk::Absent => None,
            OnDisk::Text(t) => Some(sha256(lf(t).as_bytes())),
            OnDisk::Binary(b) => Some(sha256(b)),
        }
    }

    /// Whether it still holds conflict markers (looked for in any bytes).
    fn has_conflict_markers(&self) -> bool {
        self.bytes()
            .is_some_and(|b| has_conflict_markers(&String::from_utf8_lossy(b)))
    }
}

/// What the read step found for one rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub disk: OnDisk,
    /// A user-owned Go file gone from its path, found renamed by what it
    /// declares: (where it is now, its text).
    pub moved: Option<(String, String)>,
    /// The methods kitgen renders for an adopted Go file that no Go file of
    /// its directory declares.
    pub undeclared: Vec<String>,
}

impl Found {
    pub fn at(disk: OnDisk) -> Self {
        Found {
            disk,
            moved: None,
            undeclared: Vec::new(),
        }
    }
}

/// What the project is measured against, without the lock itself: the
/// decision for one file needs only that file's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    New,
    Unlocked,
    Locked,
}

/// What kitgen does with one rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The contents to write, unless the disk already holds them.
    pub write: Option<(ChangeKind, String)>,
    /// Where the user's file is now, when it was found renamed: the write
    /// and any finding but `KeptDeleted`/`Missing` are about that path.
    pub moved_to: Option<String>,
    /// What the lock records for the file.
    pub record: Record,
    pub findings: Vec<Finding>,
}

/// What the lock records for a file: the hash of the rendering for a
/// generated file, the rendering as the merge base for a user-owned one (so
/// a user's own edits never change the lock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// The fresh rendering.
    Rendered,
    /// The fresh rendering, for a file the user deleted: it stays deleted.
    Deleted,
    /// The previous base, unchanged: the file is missing, with new code for it.
    PreviousBase,
}

/// What the user hears about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A generated file edited by hand (and no `--force`).
    HandEdited,
    /// A user-owned file that still holds conflict markers.
    Unresolved,
    /// The merge into a user-owned file conflicts.
    Conflict,
    /// A user-owned file taken as it is.
    Adopted,
    /// An adopted Go file lacks these methods.
    Lacking(Vec<String>),
    /// A user-owned file the user deleted stays deleted.
    KeptDeleted,
    /// A user-owned Go file is gone, with new code for it.
    Missing,
    /// A user-owned file that is not UTF-8 would take a merge.
    NotUtf8,
}

/// Decides what happens to the file at `path`, rendered as `rendered`, given
/// what the read step `found` and the lock's entry `previous`.
pub fn decide(
    target: &dyn Target,
    path: &str,
    rendered: &OutputFile,
    found: &Found,
    previous: Option<&LockedFile>,
    mode: Mode,
    force: bool,
) -> Decision {
    let theirs = rendered.contents.as_str();
    let disk = &found.disk;
    let same = disk.is(theirs);
    let mut decision = Decision {
        write: None,
        moved_to: None,
        record: Record::Rendered,
        findings: Vec::new(),
    };
    match rendered.ownership {
        Ownership::Generated => {
            let edited = match (disk.hash(), previous) {
                (Some(hash), Some(p)) => p.sha256.as_deref() != Some(hash.as_str()) && !same,
                // A file kitgen never wrote, in a project it already tracks.
                // Without a lock, files are adopted: a stale generated file
                // is simply regenerated.
                (Some(_), None) => mode == Mode::Locked && !same,
                (None, _) => false,
            };
            if edited && !force {
                decision.findings.push(Finding::HandEdited);
            }
            if !same {
                let kind = if disk.is_present() {
                    ChangeKind::Update
                } else {
                    ChangeKind::Create
                };
                decision.write = Some((kind, theirs.to_string()));
            }
        }
        Ownership::User => {
            if disk.has_conflict_markers() {
                decision.findings.push(Finding::Unresolved);
            }
            match (mode, previous, disk) {
                // `new --force` over a file of the user's: theirs is kept,
                // never replaced; later generations merge into it.
                (Mode::New, _, d) if d.is_present() && !same => {
                    decision.findings.push(Finding::Adopted);
                }
                // A new project or a new file: the rendering as it is.
                (Mode::New, _, _) | (_, None, OnDisk::Absent) => {
                    if !same {
                        decision.write = Some((ChangeKind::Create, theirs.to_string()));
                    }
                }
                (_, Some(p), OnDisk::Absent) if p.deleted || p.base.is_some() => {
                    let old_base = p.base.as_deref().unwrap_or_default();
                    match &found.moved {
                        // Renamed: merged where it now lives.
                        Some((moved, raw)) => {
                            let (kind, text) =
                                match merge_file(target, path, old_base, &lf(raw), theirs) {
                                    Ok(merged) => (ChangeKind::Merge, with_endings_of(merged, raw)),
                                    Err(conflicted) => {
                                        decision.findings.push(Finding::Conflict);
                                        (ChangeKind::Conflict, with_endings_of(conflicted, raw))
                                    }
                                };
                            if has_conflict_markers(raw) {
                                decision.findings.push(Finding::Unresolved);
                            }
                            if &text != raw {
                                decision.write = Some((kind, text));
                            }
                            decision.moved_to = Some(moved.clone());
                        }
                        // Gone, with new code for it that other code will
                        // need: say so rather than lose it silently.
                        None if !p.deleted
                            && !force
                            && old_base != theirs
                            && relocate::declares_types(target, old_base) =>
                        {
                            decision.findings.push(Finding::Missing);
                            decision.record = Record::PreviousBase;
                        }
                        // The user deleted it: it stays deleted.
                        None => {
                            decision.findings.push(Finding::KeptDeleted);
                            decision.record = Record::Deleted;
                        }
                    }
                }
                (Mode::Unlocked, None, _) => {
                    // No base to merge against: the user's file wins as is.
                    decision.findings.push(Finding::Adopted);
                    if !found.undeclared.is_empty() {
                        decision
                            .findings
                            .push(Finding::Lacking(found.undeclared.clone()));
                    }
                }
                (_, _, ours) => {
                    // A file the user deleted and then recreated merges
                    // against nothing, like a file kitgen never wrote.
                    let old_base = previous
                        .filter(|p| !p.deleted)
                        .and_then(|p| p.base.as_deref())
                        .unwrap_or_default();
                    let raw = match ours {
                        OnDisk::Text(raw) => raw.as_str(),
                        OnDisk::Absent => "",
                        // Its bytes would not survive a merge: unless the
                        // rendering is unchanged, there is nothing to do.
                        OnDisk::Binary(_) => {
                            if old_base != theirs {
                                decision.findings.push(Finding::NotUtf8);
                            }
                            return decision;
                        }
                    };
                    // Merged on normalized lines, written back with the
                    // file's own line ends.
                    match merge_file(target, path, old_base, &lf(raw), theirs) {
                        Ok(merged) => {
                            let merged = with_endings_of(merged, raw);
                            if merged != raw {
                                decision.write = Some((ChangeKind::Merge, merged));
                            }
                        }
                        Err(conflicted) => {
                            decision.findings.push(Finding::Conflict);
                            decision.write =
                                Some((ChangeKind::Conflict, with_endings_of(conflicted, raw)));
                        }
                    }
                }
            }
        }
    }
    decision
}

/// What happens to a file the lock lists and kitgen no longer renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// It is gone already.
    Nothing,
    /// A generated file: deleted (and edited by hand, unless forced).
    Delete { hand_edited: bool },
    /// A user-owned file: kept as it is.
    Orphaned,
}

/// Decides what happens to `old`, a file kitgen no longer renders, given
/// what is on disk.
pub fn decide_removal(old: &LockedFile, disk: &OnDisk, force: bool) -> Removal {
    match (old.owner, disk.hash()) {
        (_, None) => Removal::Nothing,
        (Ownership::Generated, Some(hash)) => Removal::Delete {
            hand_edited: old.sha256.as_deref() != Some(hash.as_str()) && !force,
        },
        (Ownership::User, Some(_)) => Removal::Orphaned,
    }
}

/// Reads what the decisions need, then decides every change that writing
/// `files` into `dir` makes. Files that are no regular file inside the
/// project are refused (listed in the plan, treated as absent); any other
/// error reading the project stops the plan.
pub fn plan(dir: &Path, files: &FileSet, options: &PlanOptions<'_>) -> Result<Plan, SyncError> {
    let (lock, mode) = match options.baseline {
        Baseline::New => (None, Mode::New),
        Baseline::Unlocked => (None, Mode::Unlocked),
        Baseline::Locked(lock) => (Some(lock), Mode::Locked),
    };
    let mut plan = Plan::default();
    let mut refused = Vec::new();
    let mut read = |rel: &str| -> Result<OnDisk, SyncError> {
        Ok(match read_file(dir, rel)? {
            Read::Absent => OnDisk::Absent,
            Read::File(bytes) => OnDisk::from_bytes(bytes),
            Read::Refused(why) => {
                refused.push((rel.to_string(), why));
                OnDisk::Absent
            }
        })
    };
    let tracked = |c: &str| files.get(c).is_some() || lock.is_some_and(|l| l.get(c).is_some());
    let mut not_utf8 = Vec::new();
    let mut locked_files = Vec::new();
    for (path, file) in files.iter() {
        let previous = lock.and_then(|l| l.get(path));
        let mut found = Found::at(read(path)?);
        let target = options.target;
        let user_source = file.ownership == Ownership::User && target.source_file(path);
        if user_source && !found.disk.is_present() {
            if let Some(p) = previous.filter(|p| p.deleted || p.base.is_some()) {
                let old_base = p.base.as_deref().unwrap_or_default();
                found.moved = relocate::find_moved(target, dir, path, old_base, &tracked);
            }
        } else if user_source && mode == Mode::Unlocked {
            found.undeclared = relocate::undeclared(target, dir, path, &file.contents);
        }
        let decision = decide(target, path, file, &found, previous, mode, options.force);
        let at = decision.moved_to.as_deref().unwrap_or(path);
        for finding in decision.findings {
            match finding {
                Finding::HandEdited => plan.hand_edited.push(path.to_string()),
                Finding::Unresolved => plan.unresolved.push(at.to_string()),
                Finding::Conflict => plan.conflicts.push(at.to_string()),
                Finding::Adopted => plan.adopted.push(path.to_string()),
                Finding::Lacking(methods) => plan.lacking.push((path.to_string(), methods)),
                Finding::KeptDeleted => plan.kept_deleted.push(path.to_string()),
                Finding::Missing => plan.missing.push(path.to_string()),
                Finding::NotUtf8 => not_utf8.push(path.to_string()),
            }
        }
        if let Some((kind, text)) = decision.write {
            let old = match &found.moved {
                Some((_, raw)) if decision.moved_to.is_some() => Some(raw.as_bytes().to_vec()),
                _ => found.disk.bytes().map(<[u8]>::to_vec),
            };
            plan.writes.push(Change {
                path: at.to_string(),
                old,
                new: Some(text),
                kind,
            });
        }
        if let Some(moved) = decision.moved_to {
            plan.moved.push((path.to_string(), moved));
        }
        if options.untracked.contains(&path) {
            continue;
        }
        let generated = file.ownership == Ownership::Generated;
        let base = match decision.record {
            _ if generated => None,
            Record::Rendered | Record::Deleted => Some(file.contents.clone()),
            Record::PreviousBase => previous.and_then(|p| p.base.clone()),
        };
        let hashed = if generated {
            file.contents.as_str()
        } else {
            base.as_deref().unwrap_or_default()
        };
        locked_files.push(LockedFile {
            path: path.to_string(),
            owner: file.ownership,
            sha256: Some(sha256(hashed.as_bytes())),
            stub: file.stub,
            deleted: decision.record == Record::Deleted,
            base,
        });
    }
    for old in lock.iter().flat_map(|l| &l.files) {
        if files.get(&old.path).is_some() {
            continue;
        }
        let disk = read(&old.path)?;
        match decide_removal(old, &disk, options.force) {
            Removal::Nothing => {}
            Removal::Delete { hand_edited } => {
                if hand_edited {
                    plan.hand_edited.push(old.path.clone());
                }
                plan.deletes.push(Change {
                    path: old.path.clone(),
                    old: disk.bytes().map(<[u8]>::to_vec),
                    new: None,
                    kind: ChangeKind::Delete,
                });
            }
            Removal::Orphaned => plan.orphaned.push(old.path.clone()),
        }
    }
    plan.hand_edited.sort();
    plan.lock = Lock::new(options.stubs_key.clone(), locked_files);
    let lock_text = plan.lock.to_toml();
    let old_lock = read(LOCK_FILE)?;
    if old_lock.bytes() != Some(lock_text.as_bytes()) {
        plan.lock_write = Some(Change {
            path: LOCK_FILE.to_string(),
            kind: if old_lock.is_present() {
                ChangeKind::Update
            } else {
                ChangeKind::Create
            },
            old: old_lock.bytes().map(<[u8]>::to_vec),
            new: Some(lock_text),
        });
    }
    refused.extend(not_utf8.into_iter().map(|path| {
        (
            path,
            "it is not UTF-8 text, and kitgen has changes to merge into it: \
             convert it to UTF-8, then run kitgen again"
                .to_string(),
        )
    }));
    plan.refused = refused;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Go target: its go.sum and signature merges, its source files.
    fn go() -> &'static dyn Target {
        crate::backend::target("go").unwrap()
    }

    /// What kitgen rendered last time (a user-owned file's merge base).
    const BASE: &str = "package a\n\nfunc A() {}\n";
    /// The fresh rendering: a new function at the end.
    const FRESH: &str = "package a\n\nfunc A() {}\n\nfunc B() {}\n";
    /// The user's edit, at the top: merges cleanly with the rendering.
    const MINE: &str = "// mine\npackage a\n\nfunc A() {}\n";
    const MINE_MERGED: &str = "// mine\npackage a\n\nfunc A() {}\n\nfunc B() {}\n";
    /// The user's edit where the rendering changes too: a conflict.
    const CLASH: &str = "package a\n\nfunc A() {}\n\nfunc C() {}\n";
    /// A base declaring a type: other code depends on it.
    const TYPED: &str = "package a\n\ntype T struct{}\n";

    fn crlf(text: &str) -> String {
        text.replace('\n', "\r\n")
    }

    fn text(t: &str) -> Found {
        Found::at(OnDisk::Text(t.to_string()))
    }

    fn absent() -> Found {
        Found::at(OnDisk::Absent)
    }

    /// `MINE` with a Latin-1 byte: not UTF-8.
    fn latin1() -> Found {
        let mut bytes = MINE.as_bytes().to_vec();
        bytes.extend_from_slice(b"// caf\xe9\n");
        Found::at(OnDisk::Binary(bytes))
    }

    fn rendered(ownership: Ownership, contents: &str) -> OutputFile {
        OutputFile {
            contents: contents.to_string(),
            ownership,
            stub: false,
        }
    }

    fn locked(ownership: Ownership, base: &str, deleted: bool) -> LockedFile {
        let generated = ownership == Ownership::Generated;
        LockedFile {
            path: "a/a.go".into(),
            owner: ownership,
            sha256: Some(sha256(base.as_bytes())),
            stub: false,
            base: (!generated).then(|| base.to_string()),
            deleted,
        }
    }

    fn decision(
        write: Option<(ChangeKind, &str)>,
        record: Record,
        findings: &[Finding],
    ) -> Decision {
        Decision {
            write: write.map(|(k, t)| (k, t.to_string())),
            moved_to: None,
            record,
            findings: findings.to_vec(),
        }
    }

    use ChangeKind::{Conflict, Create, Merge, Update};
    use Finding::{Adopted, HandEdited, KeptDeleted, Lacking, Missing, NotUtf8, Unresolved};
    use Mode::{Locked, New, Unlocked};
    use Ownership::{Generated, User};
    use Record::{Deleted, PreviousBase, Rendered};

    /// A case: its name, the rendering's owner and text, what is on disk,
    /// the lock's entry, the mode, --force, and the decision.
    type Row<'a> = (
        &'a str,
        Ownership,
        &'a str,
        Found,
        Option<&'a LockedFile>,
        Mode,
        bool,
        Decision,
    );

    #[test]
    fn decisions() {
        let gen_base = locked(Generated, BASE, false);
        let gen_mine = locked(Generated, MINE, false);
        let user_base = locked(User, BASE, false);
        let user_typed = locked(User, TYPED, false);
        let user_deleted = locked(User, BASE, true);
        let markers = format!("{BASE}<<<<<<< ours\nx\n=======\ny\n>>>>>>> theirs\n");
        let crlf_merged = crlf(MINE_MERGED);
        let lacking = Found {
            undeclared: vec!["func (T) B".to_string()],
            ..text(MINE)
        };
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            // Generated files: rewritten unless edited by hand.
            ("gen absent", Generated, FRESH, absent(), Some(&gen_base), Locked, false,
                decision(Some((Create, FRESH)), Rendered, &[])),
            ("gen stale", Generated, FRESH, text(BASE), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen stale crlf is no edit", Generated, FRESH, text(&crlf(BASE)), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen current", Generated, FRESH, text(FRESH), Some(&gen_base), Locked, false,
                decision(None, Rendered, &[])),
            ("gen current crlf", Generated, FRESH, text(&crlf(FRESH)), Some(&gen_base), Locked, false,
                decision(None, Rendered, &[])),
            ("gen edited", Generated, FRESH, text(MINE), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[HandEdited])),
            ("gen edited crlf", Generated, FRESH, text(&crlf(MINE)), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[HandEdited])),
            ("gen edited forced", Generated, FRESH, text(MINE), Some(&gen_base), Locked, true,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen edited to the rendering", Generated, BASE, text(BASE), Some(&gen_mine), Locked, false,
                decision(None, Rendered, &[])),
            ("gen not utf-8", Generated, FRESH, latin1(), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[HandEdited])),
            ("gen not utf-8 forced", Generated, FRESH, latin1(), Some(&gen_base), Locked, true,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen with markers is just edited", Generated, FRESH, text(&markers), Some(&gen_base), Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[HandEdited])),
            ("gen never written, tracked project", Generated, FRESH, text(MINE), None, Locked, false,
                decision(Some((Update, FRESH)), Rendered, &[HandEdited])),
            ("gen no lock: regenerated", Generated, FRESH, text(MINE), None, Unlocked, false,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen new --force over a file", Generated, FRESH, text(MINE), None, New, true,
                decision(Some((Update, FRESH)), Rendered, &[])),
            ("gen new", Generated, FRESH, absent(), None, New, false,
                decision(Some((Create, FRESH)), Rendered, &[])),
            // User-owned files: three-way merged, never replaced.
            ("user untouched", User, FRESH, text(BASE), Some(&user_base), Locked, false,
                decision(Some((Merge, FRESH)), Rendered, &[])),
            ("user untouched crlf", User, FRESH, text(&crlf(BASE)), Some(&user_base), Locked, false,
                decision(Some((Merge, &crlf(FRESH))), Rendered, &[])),
            ("user edited", User, FRESH, text(MINE), Some(&user_base), Locked, false,
                decision(Some((Merge, MINE_MERGED)), Rendered, &[])),
            ("user edited crlf", User, FRESH, text(&crlf(MINE)), Some(&user_base), Locked, false,
                decision(Some((Merge, &crlf_merged)), Rendered, &[])),
            ("user edited, rendering unchanged", User, BASE, text(MINE), Some(&user_base), Locked, false,
                decision(None, Rendered, &[])),
            ("user current", User, FRESH, text(FRESH), Some(&user_base), Locked, false,
                decision(None, Rendered, &[])),
            ("user with markers", User, BASE, text(&markers), Some(&user_base), Locked, false,
                decision(None, Rendered, &[Unresolved])),
            ("user not utf-8, changes to merge", User, FRESH, latin1(), Some(&user_base), Locked, false,
                decision(None, Rendered, &[NotUtf8])),
            ("user not utf-8, nothing to merge", User, BASE, latin1(), Some(&user_base), Locked, false,
                decision(None, Rendered, &[])),
            ("user not utf-8, no lock", User, FRESH, latin1(), None, Unlocked, false,
                decision(None, Rendered, &[Adopted])),
            ("user deleted, no types", User, FRESH, absent(), Some(&user_base), Locked, false,
                decision(None, Deleted, &[KeptDeleted])),
            ("user deleted, declaring types", User, FRESH, absent(), Some(&user_typed), Locked, false,
                decision(None, PreviousBase, &[Missing])),
            ("user deleted, declaring types, forced", User, FRESH, absent(), Some(&user_typed), Locked, true,
                decision(None, Deleted, &[KeptDeleted])),
            ("user deleted, declaring types, rendering unchanged", User, TYPED, absent(), Some(&user_typed), Locked, false,
                decision(None, Deleted, &[KeptDeleted])),
            ("user deleted before", User, FRESH, absent(), Some(&user_deleted), Locked, false,
                decision(None, Deleted, &[KeptDeleted])),
            ("user recreated after deleting", User, FRESH, text(FRESH), Some(&user_deleted), Locked, false,
                decision(None, Rendered, &[])),
            ("user recreated differently: merged against nothing", User, FRESH, text(CLASH), Some(&user_deleted), Locked, false,
                decision(Some((Conflict, "<<<<<<< ours\npackage a\n\nfunc A() {}\n\nfunc C() {}\n||||||| base\n=======\npackage a\n\nfunc A() {}\n\nfunc B() {}\n>>>>>>> theirs\n")), Rendered, &[Finding::Conflict])),
            ("user conflicting edit", User, FRESH, text(CLASH), Some(&user_base), Locked, false,
                decision(Some((Conflict, "package a\n\nfunc A() {}\n<<<<<<< ours\n\nfunc C() {}\n||||||| base\n=======\n\nfunc B() {}\n>>>>>>> theirs\n")), Rendered, &[Finding::Conflict])),
            ("user new file in a tracked project", User, FRESH, absent(), None, Locked, false,
                decision(Some((Create, FRESH)), Rendered, &[])),
            ("user file kitgen never wrote, tracked project", User, FRESH, text(MINE), None, Locked, false,
                decision(Some((Conflict, "<<<<<<< ours\n// mine\npackage a\n\nfunc A() {}\n||||||| base\n=======\npackage a\n\nfunc A() {}\n\nfunc B() {}\n>>>>>>> theirs\n")), Rendered, &[Finding::Conflict])),
            // No lock: the user's files are adopted as they are.
            ("no lock: adopted", User, FRESH, text(MINE), None, Unlocked, false,
                decision(None, Rendered, &[Adopted])),
            ("no lock: adopted, lacking methods", User, FRESH, lacking, None, Unlocked, false,
                decision(None, Rendered, &[Adopted, Lacking(vec!["func (T) B".into()])])),
            ("no lock: absent", User, FRESH, absent(), None, Unlocked, false,
                decision(Some((Create, FRESH)), Rendered, &[])),
            ("no lock: with markers", User, FRESH, text(&markers), None, Unlocked, false,
                decision(None, Rendered, &[Unresolved, Adopted])),
            // A new project.
            ("new", User, FRESH, absent(), None, New, false,
                decision(Some((Create, FRESH)), Rendered, &[])),
            ("new --force over the user's file", User, FRESH, text(MINE), None, New, true,
                decision(None, Rendered, &[Adopted])),
            ("new --force over the same file", User, FRESH, text(&crlf(FRESH)), None, New, true,
                decision(None, Rendered, &[])),
        ];
        for (name, ownership, fresh, found, previous, mode, force, expected) in table {
            let got = decide(
                go(),
                "a/a.go",
                &rendered(ownership, fresh),
                &found,
                previous,
                mode,
                force,
            );
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn a_renamed_file_is_merged_where_it_is() {
        let found = Found {
            moved: Some(("a/renamed.go".into(), crlf(MINE))),
            ..absent()
        };
        let got = decide(
            go(),
            "a/a.go",
            &rendered(User, FRESH),
            &found,
            Some(&locked(User, BASE, false)),
            Locked,
            false,
        );
        assert_eq!(
            got,
            Decision {
                write: Some((Merge, crlf(MINE_MERGED))),
                moved_to: Some("a/renamed.go".into()),
                record: Rendered,
                findings: vec![],
            }
        );
        let clash = Found {
            moved: Some(("a/renamed.go".into(), CLASH.into())),
            ..absent()
        };
        let got = decide(
            go(),
            "a/a.go",
            &rendered(User, FRESH),
            &clash,
            Some(&locked(User, BASE, false)),
            Locked,
            false,
        );
        assert_eq!(got.moved_to.as_deref(), Some("a/renamed.go"));
        assert_eq!(got.findings, [Finding::Conflict]);
        assert!(matches!(got.write, Some((Conflict, _))));
    }

    #[test]
    fn go_sum_keeps_the_users_lines() {
        let got = decide(
            go(),
            "go.sum",
            &rendered(User, "a v1 h1:x\nd v1 h1:w\n"),
            &text("a v1 h1:x\nb v1 h1:y\nc v1 h1:z\n"),
            Some(&locked(User, "a v1 h1:x\nb v1 h1:y\n", false)),
            Locked,
            false,
        );
        assert_eq!(
            got.write,
            Some((Merge, "a v1 h1:x\nc v1 h1:z\nd v1 h1:w\n".to_string()))
        );
    }

    /// Every combination of ownership, what is on disk, what the lock
    /// remembers, the mode and --force: the rules that hold for all.
    #[test]
    fn every_combination_keeps_the_rules() {
        let disks = || {
            [
                absent(),
                text(BASE),
                text(&crlf(BASE)),
                text(FRESH),
                text(&crlf(FRESH)),
                text(MINE),
                text(&crlf(MINE)),
                text(CLASH),
                text(&format!("{MINE}<<<<<<< ours\n>>>>>>> theirs\n")),
                latin1(),
            ]
        };
        let mut cases = 0;
        for ownership in [Generated, User] {
            let previous = [
                None,
                Some(locked(ownership, BASE, false)),
                Some(locked(ownership, BASE, true)),
                Some(locked(ownership, TYPED, false)),
            ];
            for fresh in [BASE, FRESH] {
                for found in disks() {
                    for prev in &previous {
                        for mode in [New, Unlocked, Locked] {
                            if mode != Locked && prev.is_some() {
                                continue;
                            }
                            for force in [false, true] {
                                cases += 1;
                                let d = decide(
                                    go(),
                                    "a/a.go",
                                    &rendered(ownership, fresh),
                                    &found,
                                    prev.as_ref(),
                                    mode,
                                    force,
                                );
                                let why = format!(
                                    "{ownership:?} {fresh:?} {found:?} {prev:?} {mode:?} {force}"
                                );
                                let same = found.disk.is(fresh);
                                if force {
                                    assert!(!d.findings.contains(&HandEdited), "{why}");
                                    assert!(!d.findings.contains(&Missing), "{why}");
                                }
                                // Whatever is already there is never written again.
                                if same {
                                    assert_eq!(d.write, None, "{why}");
                                }
                                let conflict = matches!(d.write, Some((Conflict, _)));
                                assert_eq!(
                                    conflict,
                                    d.findings.contains(&Finding::Conflict),
                                    "{why}"
                                );
                                if let (Some((_, new)), OnDisk::Text(old)) = (&d.write, &found.disk)
                                    && ownership == User
                                {
                                    assert_eq!(
                                        super::super::is_crlf(new),
                                        super::super::is_crlf(old),
                                        "line ends kept: {why}"
                                    );
                                }
                                match ownership {
                                    Generated => {
                                        assert!(
                                            d.findings.iter().all(|f| *f == HandEdited),
                                            "{why}"
                                        );
                                        assert_eq!(d.record, Rendered, "{why}");
                                        let expected = (!same).then(|| fresh.to_string());
                                        assert_eq!(d.write.map(|(_, t)| t), expected, "{why}");
                                    }
                                    User => {
                                        assert!(!d.findings.contains(&HandEdited), "{why}");
                                        // The user's bytes are never merged into lossily.
                                        if let OnDisk::Binary(_) = found.disk {
                                            assert_eq!(d.write, None, "{why}");
                                        }
                                        // A new project or a file kitgen has no base
                                        // for is written only where nothing is.
                                        if mode != Locked && found.disk.is_present() {
                                            assert_eq!(d.write, None, "{why}");
                                        }
                                        let markers = found.disk.has_conflict_markers();
                                        assert_eq!(
                                            d.findings.contains(&Unresolved),
                                            markers,
                                            "{why}"
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(cases, 2 * 2 * 10 * (3 + 3) * 2);
    }

    #[test]
    fn removals() {
        let gen_base = locked(Generated, BASE, false);
        let user_base = locked(User, BASE, false);
        let on = |t: &str| OnDisk::Text(t.to_string());
        let table = [
            (
                &gen_base,
                on(BASE),
                false,
                Removal::Delete { hand_edited: false },
            ),
            (
                &gen_base,
                on(&crlf(BASE)),
                false,
                Removal::Delete { hand_edited: false },
            ),
            (
                &gen_base,
                on(MINE),
                false,
                Removal::Delete { hand_edited: true },
            ),
            (
                &gen_base,
                on(MINE),
                true,
                Removal::Delete { hand_edited: false },
            ),
            (
                &gen_base,
                latin1().disk,
                false,
                Removal::Delete { hand_edited: true },
            ),
            (&gen_base, OnDisk::Absent, false, Removal::Nothing),
            (&user_base, on(MINE), false, Removal::Orphaned),
            (&user_base, on(BASE), true, Removal::Orphaned),
            (&user_base, OnDisk::Absent, false, Removal::Nothing),
        ];
        for (i, (old, disk, force, expected)) in table.into_iter().enumerate() {
            assert_eq!(decide_removal(old, &disk, force), expected, "row {i}");
        }
    }

    fn files(entries: &[(&str, Ownership, &str)]) -> FileSet {
        let mut set = FileSet::new();
        for (path, ownership, contents) in entries {
            set.add(*path, *ownership, *contents);
        }
        set
    }

    fn options<'a>(baseline: Baseline<'a>, force: bool) -> PlanOptions<'a> {
        PlanOptions {
            target: go(),
            baseline,
            force,
            stubs_key: "k".into(),
            untracked: &[],
        }
    }

    #[test]
    fn the_lock_is_planned_apart_and_written_last() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let set = files(&[("a.go", Generated, FRESH), ("b.go", User, BASE)]);
        let first = plan(dir, &set, &options(Baseline::New, false)).unwrap();
        let paths: Vec<&str> = first.writes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["a.go", "b.go"]);
        let lock = first.lock_write.as_ref().expect("a new project's lock");
        assert_eq!((lock.path.as_str(), lock.kind), (LOCK_FILE, Create));
        assert!(!first.is_clean(), "files to write");
        super::super::apply(dir, &first).unwrap();
        assert_eq!(Lock::load(dir).unwrap().as_ref(), Some(&first.lock));
        // Regenerated unchanged: nothing to write, the lock included.
        let again = plan(dir, &set, &options(Baseline::Locked(&first.lock), false)).unwrap();
        assert!(again.writes.is_empty() && again.lock_write.is_none());
        assert!(again.is_clean());
        // A lock that differs only in what it records is rewritten, and a
        // project that differs in nothing else is still clean.
        std::fs::write(dir.join(LOCK_FILE), "# stale\n").unwrap();
        let relock = plan(dir, &set, &options(Baseline::Locked(&first.lock), false)).unwrap();
        assert_eq!(relock.lock_write.as_ref().map(|c| c.kind), Some(Update));
        assert!(relock.is_clean());
    }

    /// A generated file that is not UTF-8 is replaced when forced: the plan
    /// keeps the bytes it read, so the write's check that nothing changed
    /// since holds.
    #[test]
    fn a_generated_file_that_is_not_utf8_is_replaced_when_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let set = files(&[("a.go", Generated, FRESH)]);
        let first = plan(dir, &set, &options(Baseline::New, false)).unwrap();
        super::super::apply(dir, &first).unwrap();
        std::fs::write(dir.join("a.go"), b"caf\xe9\n").unwrap();
        let edited = plan(dir, &set, &options(Baseline::Locked(&first.lock), false)).unwrap();
        assert_eq!(edited.hand_edited, ["a.go"]);
        let forced = plan(dir, &set, &options(Baseline::Locked(&first.lock), true)).unwrap();
        assert_eq!(forced.writes[0].old.as_deref(), Some(&b"caf\xe9\n"[..]));
        super::super::apply(dir, &forced).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.go")).unwrap(), FRESH);
    }

    /// A file the plan cannot read stops it with the error, rather than
    /// being taken for absent and written over.
    #[cfg(unix)]
    #[test]
    fn io_errors_reading_the_project_propagate() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // A link that leads to itself cannot be resolved.
        symlink("a.go", dir.join("a.go")).unwrap();
        let set = files(&[("a.go", Generated, FRESH)]);
        let err = plan(dir, &set, &options(Baseline::Unlocked, false)).unwrap_err();
        assert!(matches!(err, SyncError::Io { .. }), "{err}");
        assert!(err.to_string().contains("a.go"), "{err}");
        // A file where a directory is expected is nothing at that path.
        std::fs::remove_file(dir.join("a.go")).unwrap();
        std::fs::write(dir.join("pb"), "a file").unwrap();
        let set = files(&[("pb/x.pb.go", Generated, FRESH)]);
        let p = plan(dir, &set, &options(Baseline::Unlocked, false)).unwrap();
        assert_eq!(p.writes[0].kind, Create);
    }
}
