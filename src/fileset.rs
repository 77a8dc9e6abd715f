//! The whole rendered project in memory: relative path → contents + ownership.
//! Rendering never touches the disk; only [`crate::sync`] writes.

use std::collections::BTreeMap;

/// Who owns a file, which decides how regeneration treats it (and how
/// `kitgen.lock` names it: `generated` or `user`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Ownership {
    /// Rewritten on every generation; carries a DO NOT EDIT header.
    Generated,
    /// Written once, then the user's: later generations merge into it.
    User,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub contents: String,
    pub ownership: Ownership,
    /// Output of the protobuf plugins (always generated).
    pub stub: bool,
}

/// Relative paths use `/` and are kept sorted, so iteration is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSet {
    files: BTreeMap<String, OutputFile>,
}

impl FileSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; a path added twice is a backend bug.
    pub fn add(
        &mut self,
        path: impl Into<String>,
        ownership: Ownership,
        contents: impl Into<String>,
    ) {
        let path = path.into();
        debug_assert!(check_path(&path).is_ok(), "{path}");
        let previous = self.files.insert(
            path.clone(),
            OutputFile {
                contents: contents.into(),
                ownership,
                stub: false,
            },
        );
        assert!(previous.is_none(), "file {path} rendered twice");
    }

    /// Adds a file the protobuf plugins produced.
    pub fn add_stub(&mut self, path: impl Into<String>, contents: impl Into<String>) {
        let path = path.into();
        self.add(path.clone(), Ownership::Generated, contents);
        self.files.get_mut(&path).expect("just added").stub = true;
    }

    pub fn get(&self, path: &str) -> Option<&OutputFile> {
        self.files.get(path)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &OutputFile)> {
        self.files.iter().map(|(p, f)| (p.as_str(), f))
    }
}

/// Why `path` is not a clean relative path inside a project, if it is not.
///
/// Every path kitgen did not compute itself (from the lock, kitgen.toml, a
/// plugin's response, the journal) passes this before it is joined to the
/// project directory: no `..`, no absolute path, no empty or `.` component,
/// no backslash (a separator on Windows), no NUL or other control character.
pub fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("it is empty");
    }
    if path.starts_with('/') {
        return Err("it is absolute");
    }
    if path.contains('\\') {
        return Err("it contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return Err("it contains a control character");
    }
    for part in path.split('/') {
        match part {
            "" => return Err("it has an empty component"),
            "." => return Err("it has a '.' component"),
            ".." => return Err("it leads out of the project ('..')"),
            _ if part.len() == 2 && part.ends_with(':') => return Err("it names a drive"),
            _ => {}
        }
    }
    Ok(())
}

/// Why kitgen may not write or remove `path` (a [`check_path`]-clean path),
/// if it may not: nothing in a `.git` directory (its hooks are code git
/// runs) nor the `.git` file of a worktree, and nothing in kitgen's own
/// `.kitgen`. Compared as case-insensitive file systems (and Windows, which
/// drops trailing dots and spaces) would.
pub fn check_writable(path: &str) -> Result<(), &'static str> {
    let is = |part: &str, name: &str| part.trim_end_matches(['.', ' ']).eq_ignore_ascii_case(name);
    if path.split('/').any(|part| is(part, ".git")) {
        return Err("kitgen never writes into .git");
    }
    if path
        .split('/')
        .next()
        .is_some_and(|first| is(first, ".kitgen"))
    {
        return Err("it is kitgen's own state directory");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_and_kitgens_state_are_never_written() {
        for bad in [
            ".git",
            ".git/hooks/pre-commit",
            ".GIT/hooks/pre-commit",
            ".git./config",
            "sub/.git/hooks/x",
            ".kitgen/txn/journal",
            ".KitGen",
        ] {
            assert!(check_writable(bad).is_err(), "{bad:?}");
        }
        for good in [
            ".gitignore",
            ".github/workflows/ci.yml",
            "a/.kitgen",
            "kitgen.lock",
        ] {
            assert_eq!(check_writable(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn only_clean_relative_paths_pass() {
        for good in ["a", "pkg/service/add.go", ".gitignore", "a/.b/c..d"] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "./a",
            "a/",
            "a\\..\\b",
            "a\0b",
            "a\nb",
            "c:/x",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
    }
}
