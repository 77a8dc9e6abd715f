//! Finding a user's source file that was renamed: by what it declares (its
//! types and their methods, as the target reads them), not by its name.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::backend::{Declaration, DeclarationKind, Target};

/// Whether a source file declares a type: other code depends on it, so
/// losing what kitgen adds to it breaks the build.
pub(super) fn declares_types(target: &dyn Target, source: &str) -> bool {
    target
        .declarations(source)
        .iter()
        .any(|d| d.kind == DeclarationKind::Type)
}

/// The methods `rendered` (kitgen's rendering of `rel`) declares that no
/// source file of `rel`'s directory on disk declares.
pub(super) fn undeclared(
    target: &dyn Target,
    dir: &Path,
    rel: &str,
    rendered: &str,
) -> Vec<String> {
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let mut on_disk = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(dir.join(parent)) {
        for e in entries.flatten() {
            let name = e.file_name();
            if target.source_file(&name.to_string_lossy())
                && let Ok(text) = fs::read_to_string(e.path())
            {
                on_disk.extend(target.declarations(&text));
            }
        }
    }
    target
        .declarations(rendered)
        .into_iter()
        .filter(|d| d.kind == DeclarationKind::Method && !on_disk.contains(d))
        .map(|d| d.text)
        .collect()
}

/// The file in `rel`'s directory (relative to `dir`) that now holds what
/// `base` (kitgen's last rendering of `rel`) declared: it must declare every
/// type `base` declares, and the file sharing most declarations wins.
/// `taken` files (kitgen's own, or tracked) are not candidates.
pub(super) fn find_moved(
    target: &dyn Target,
    dir: &Path,
    rel: &str,
    base: &str,
    taken: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    let wanted = target.declarations(base);
    let types: Vec<&Declaration> = wanted
        .iter()
        .filter(|d| d.kind == DeclarationKind::Type)
        .collect();
    if types.is_empty() {
        return None;
    }
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let entries = fs::read_dir(dir.join(parent)).ok()?;
    let mut best: Option<(usize, String, String)> = None;
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| target.source_file(n))
        .collect();
    names.sort();
    for name in names {
        let candidate = if parent.is_empty() {
            name
        } else {
            format!("{parent}/{name}")
        };
        if candidate == rel || taken(&candidate) {
            continue;
        }
        // Never through a link out of the project.
        let Some(text) = super::read_inside(dir, &candidate)
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            continue;
        };
        let found = target.declarations(&text);
        if !types.iter().all(|t| found.contains(*t)) {
            continue;
        }
        let shared = wanted.intersection(&found).count();
        if best.as_ref().is_none_or(|(n, _, _)| shared > *n) {
            best = Some((shared, candidate, text));
        }
    }
    best.map(|(_, path, text)| (path, text))
}
