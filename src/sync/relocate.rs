//! Finding a user's Go file that was renamed: by what it declares (its types
//! and their methods, read with tree-sitter-go), not by its name.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use tree_sitter::{Node, Parser};

/// Top-level declarations of a Go file: `type T`, `func F`, `func (T) M`.
fn declarations(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_go::LANGUAGE.into())
        .is_err()
    {
        return out;
    }
    let Some(tree) = parser.parse(source, None) else {
        return out;
    };
    let text = |n: Node| {
        n.utf8_text(source.as_bytes())
            .unwrap_or_default()
            .to_string()
    };
    let root = tree.root_node();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        match node.kind() {
            "type_declaration" => {
                let mut c = node.walk();
                for spec in node.named_children(&mut c) {
                    if let Some(name) = spec.child_by_field_name("name") {
                        out.insert(format!("type {}", text(name)));
                    }
                }
            }
            "function_declaration" => {
                if let Some(name) = node.child_by_field_name("name") {
                    out.insert(format!("func {}", text(name)));
                }
            }
            "method_declaration" => {
                let receiver = node
                    .child_by_field_name("receiver")
                    .map(|r| {
                        // `(s *addService)` → `addService`
                        let t = text(r);
                        t.trim_matches(|c| c == '(' || c == ')')
                            .split_whitespace()
                            .last()
                            .unwrap_or_default()
                            .trim_start_matches('*')
                            .to_string()
                    })
                    .unwrap_or_default();
                if let Some(name) = node.child_by_field_name("name") {
                    out.insert(format!("func ({receiver}) {}", text(name)));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether a Go file declares a type: other code depends on it, so losing
/// what kitgen adds to it breaks the build.
pub(super) fn declares_types(source: &str) -> bool {
    declarations(source).iter().any(|d| d.starts_with("type "))
}

/// The methods `rendered` (kitgen's rendering of `rel`) declares that no Go
/// file of `rel`'s directory on disk declares.
pub(super) fn undeclared(dir: &Path, rel: &str, rendered: &str) -> Vec<String> {
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let mut on_disk = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(dir.join(parent)) {
        for e in entries.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().ends_with(".go")
                && let Ok(text) = fs::read_to_string(e.path())
            {
                on_disk.extend(declarations(&text));
            }
        }
    }
    declarations(rendered)
        .into_iter()
        .filter(|d| d.starts_with("func (") && !on_disk.contains(d))
        .collect()
}

/// The file in `rel`'s directory (relative to `dir`) that now holds what
/// `base` (kitgen's last rendering of `rel`) declared: it must declare every
/// type `base` declares, and the file sharing most declarations wins.
/// `taken` files (kitgen's own, or tracked) are not candidates.
pub(super) fn find_moved(
    dir: &Path,
    rel: &str,
    base: &str,
    taken: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    let wanted = declarations(base);
    let types: Vec<&String> = wanted.iter().filter(|d| d.starts_with("type ")).collect();
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
        .filter(|n| n.ends_with(".go"))
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
        let found = declarations(&text);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_types_functions_and_methods() {
        let src = "package service\n\ntype addService struct{}\n\nfunc NewAddService() AddService { return &addService{} }\n\nfunc (s *addService) Sum(a int) int { return a }\n";
        let d = declarations(src);
        assert!(d.contains("type addService"), "{d:?}");
        assert!(d.contains("func NewAddService"), "{d:?}");
        assert!(d.contains("func (addService) Sum"), "{d:?}");
    }
}
