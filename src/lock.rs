//! `kitgen.lock`: what kitgen last wrote. Commit it. It lets `generate` tell
//! a hand edit from a stale file, gives the three-way merge its base, and lets
//! `check` skip the protobuf plugins when their input has not changed.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diagnostic::Diagnostic;
use crate::fileset::Ownership;

pub const LOCK_FILE: &str = "kitgen.lock";

/// The lock layout this kitgen reads and writes. A lock with another number
/// came from another kitgen and is refused rather than half-understood.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub format: u32,
    /// The kitgen version that wrote the lock.
    pub kitgen: String,
    /// Hash of everything the protobuf plugins' output depends on.
    pub stubs_key: String,
    #[serde(default, rename = "file")]
    pub files: Vec<LockedFile>,
    /// `files` by path, built on the first [`Lock::get`].
    #[serde(skip)]
    index: PathIndex,
}

/// Path → position in a lock's files. No part of the lock's value: two
/// locks are equal whether or not either was looked into.
#[derive(Default)]
struct PathIndex(std::sync::OnceLock<(usize, std::collections::HashMap<String, usize>)>);

impl Clone for PathIndex {
    fn clone(&self) -> Self {
        PathIndex::default()
    }
}

impl PartialEq for PathIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for PathIndex {}

impl std::fmt::Debug for PathIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathIndex")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedFile {
    pub path: String,
    pub owner: Ownership,
    /// sha256 of what kitgen rendered: the bytes it wrote for a generated
    /// file, the base for a user-owned one (so your edits never change it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Protobuf plugin output, reusable while `stubs_key` holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stub: bool,
    /// For user-owned files: kitgen's own rendering, the merge base of the
    /// next generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// A user-owned file the user deleted: it stays deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

impl Lock {
    /// The entry of `path`: indexed, unless files were added since the
    /// index was built (then a scan; the first entry of a path wins).
    pub fn get(&self, path: &str) -> Option<&LockedFile> {
        let (len, map) = self.index.0.get_or_init(|| {
            let mut map = std::collections::HashMap::new();
            for (i, f) in self.files.iter().enumerate() {
                map.entry(f.path.clone()).or_insert(i);
            }
            (self.files.len(), map)
        });
        if *len == self.files.len() {
            map.get(path).map(|&i| &self.files[i])
        } else {
            self.files.iter().find(|f| f.path == path)
        }
    }

    /// A lock of `files`, written by this kitgen.
    pub fn new(stubs_key: String, files: Vec<LockedFile>) -> Lock {
        Lock {
            format: FORMAT,
            kitgen: env!("CARGO_PKG_VERSION").to_string(),
            stubs_key,
            files,
            index: PathIndex::default(),
        }
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("lock serializes");
        format!("# Written by kitgen: what it last generated. Commit it; do not edit it.\n\n{body}")
    }

    /// Reads the lock of the project in `dir`; `None` when there is none.
    pub fn load(dir: &Path) -> Result<Option<Lock>, Diagnostic> {
        let path = dir.join(LOCK_FILE);
        // Not through a link out of the project: an error would quote it.
        let text = match crate::sync::read_inside(dir, LOCK_FILE) {
            Ok(Some(bytes)) => String::from_utf8(bytes).map_err(|_| {
                Diagnostic::new(format!("{LOCK_FILE} is not UTF-8 text"))
                    .at_file(path.display().to_string())
                    .with_help("restore it from version control")
            })?,
            Ok(None) => return Ok(None),
            Err(why) => {
                return Err(
                    Diagnostic::new(format!("refusing to read {}: {why}", path.display()))
                        .at_file(path.display().to_string()),
                );
            }
        };
        // Editors on Windows may save a byte order mark; it means nothing here.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if text.trim().is_empty() {
            return Err(Diagnostic::new(format!("{LOCK_FILE} is empty"))
                .at_file(path.display().to_string())
                .with_help("restore it from version control, or delete it: kitgen then adopts the files as they are"));
        }
        // Look at the format first, so a lock from another kitgen gets a clear
        // message instead of a parse error about fields it does not know.
        #[derive(Deserialize)]
        struct Header {
            format: Option<u32>,
            kitgen: Option<String>,
        }
        let corrupt = |e: toml::de::Error| {
            let d = Diagnostic::new(format!("{LOCK_FILE} is corrupt: {}", e.message()))
                .with_help("restore it from version control");
            match e.span() {
                Some(span) => d.at_offset(path.display().to_string(), text, span.start, span.len()),
                None => d.at_file(path.display().to_string()),
            }
        };
        let header: Header = toml::from_str(text).map_err(corrupt)?;
        if header.format != Some(FORMAT) {
            let by = header
                .kitgen
                .map_or("an unknown kitgen".to_string(), |v| format!("kitgen {v}"));
            let format = header
                .format
                .map_or("no lock format".to_string(), |f| format!("lock format {f}"));
            let d = Diagnostic::new(format!(
                "{LOCK_FILE} was written by {by} in {format}; this kitgen {} reads format {FORMAT} only",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_help("use the kitgen version that made the project; nothing was changed");
            // At the format line, where there is one.
            let at = text
                .lines()
                .scan(0, |offset, line| {
                    let here = *offset;
                    *offset += line.len() + 1;
                    Some((here, line))
                })
                .find(|(_, line)| line.trim_start().starts_with("format"))
                .map(|(offset, line)| (offset, line.trim_end().len()));
            return Err(match at {
                Some((offset, len)) => d.at_offset(path.display().to_string(), text, offset, len),
                None => d.at_file(path.display().to_string()),
            });
        }
        let lock: Lock = toml::from_str(text).map_err(corrupt)?;
        // The lock names the files kitgen deletes and merges into: a path that
        // leads out of the project would let an edited lock touch anything.
        let mut seen = std::collections::HashSet::new();
        for file in &lock.files {
            let why = match crate::fileset::check_path(&file.path) {
                Err(why) => Some(why),
                Ok(()) if !seen.insert(file.path.as_str()) => Some("it is listed twice"),
                // Compared as a case-insensitive file system would.
                Ok(())
                    if file.path.eq_ignore_ascii_case(LOCK_FILE)
                        || file.path.eq_ignore_ascii_case(crate::config::CONFIG_FILE) =>
                {
                    Some("kitgen never tracks it in the lock")
                }
                Ok(()) => crate::fileset::check_writable(&file.path).err(),
            };
            if let Some(why) = why {
                let needle = format!("path = {:?}", file.path);
                let d = Diagnostic::new(format!(
                    "{LOCK_FILE} names the file {:?}, which kitgen refuses: {why}",
                    file.path
                ))
                .with_help("restore kitgen.lock from version control; nothing was changed");
                return Err(match text.find(&needle) {
                    Some(at) => d.at_offset(path.display().to_string(), text, at, needle.len()),
                    None => d.at_file(path.display().to_string()),
                });
            }
        }
        Ok(Some(lock))
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_finds_entries_added_after_the_first_lookup() {
        let mut lock = lock();
        assert!(lock.get("pkg/service/add.go").is_some());
        assert!(lock.get("a.go").is_none());
        let mut added = lock.files[0].clone();
        added.path = "a.go".into();
        lock.files.push(added);
        assert_eq!(lock.get("a.go").map(|f| f.path.as_str()), Some("a.go"));
        assert_eq!(
            lock.clone().get("a.go").map(|f| f.path.as_str()),
            Some("a.go")
        );
    }

    fn lock() -> Lock {
        Lock {
            format: FORMAT,
            kitgen: "0.1.0".into(),
            stubs_key: "k".into(),
            files: vec![
                LockedFile {
                    path: "pkg/service/add.go".into(),
                    owner: Ownership::User,
                    sha256: None,
                    stub: false,
                    deleted: false,
                    base: Some("package service\n\n// '''quotes''' and \"\"\"more\"\"\"\n".into()),
                },
                LockedFile {
                    path: "pb/x.pb.go".into(),
                    owner: Ownership::Generated,
                    sha256: Some(sha256(b"y")),
                    stub: true,
                    base: None,
                    deleted: false,
                },
            ],
            index: PathIndex::default(),
        }
    }

    #[test]
    fn round_trips_any_content() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), lock().to_toml()).unwrap();
        assert_eq!(Lock::load(dir.path()).unwrap(), Some(lock()));
    }

    #[test]
    fn paths_leading_out_or_into_kitgens_own_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../outside/secret.txt",
            "/etc/passwd",
            "a/../../b",
            ".git/config",
            "kitgen.toml",
            ".kitgen/txn/journal",
            // A worktree's .git is a file a lock could name; case-insensitive
            // file systems see these as .git and the lock itself.
            ".git",
            ".GIT/config",
            "KITGEN.LOCK",
            "pb/x.pb.go",
        ] {
            let mut l = lock();
            // The last case lists a path twice.
            l.files[0].path = bad.into();
            std::fs::write(dir.path().join(LOCK_FILE), l.to_toml()).unwrap();
            let err = Lock::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains("which kitgen refuses"), "{bad}: {err}");
            assert!(err.contains("kitgen.lock:"), "{bad}: located: {err}");
        }
        std::fs::write(dir.path().join(LOCK_FILE), "\n").unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("kitgen.lock is empty"), "{err}");
    }

    #[test]
    fn a_lock_from_another_format_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let text = lock()
            .to_toml()
            .replace("format = 1", "format = 7")
            .replace("extra", "");
        std::fs::write(dir.path().join(LOCK_FILE), text).unwrap();
        let err = Lock::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("lock format 7; this kitgen"), "{err}");
        assert_eq!(
            Lock::load(tempfile::tempdir().unwrap().path()).unwrap(),
            None
        );
    }
}
