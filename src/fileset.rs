//! The whole rendered project in memory: relative path → contents + ownership.
//! Rendering never touches the disk; only [`crate::sync`] writes.

use std::collections::BTreeMap;

/// Who owns a file, which decides how regeneration treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
        debug_assert!(
            !path.starts_with('/') && !path.contains('\\') && !path.split('/').any(|p| p == "..")
        );
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
