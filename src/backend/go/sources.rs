//! What a Go file of the user's declares (its types, functions and
//! methods, read with tree-sitter-go), by which sync finds one that was
//! renamed; and go.sum's merge as a set of lines.

use std::collections::BTreeSet;

use tree_sitter::{Node, Parser};

use crate::backend::{Declaration, DeclarationKind};

/// Top-level declarations of a Go file: `type T`, `func F`, `func (T) M`.
pub(super) fn declarations(source: &str) -> BTreeSet<Declaration> {
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
                        out.insert(Declaration {
                            text: format!("type {}", text(name)),
                            kind: DeclarationKind::Type,
                        });
                    }
                }
            }
            "function_declaration" => {
                if let Some(name) = node.child_by_field_name("name") {
                    out.insert(Declaration {
                        text: format!("func {}", text(name)),
                        kind: DeclarationKind::Function,
                    });
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
                    out.insert(Declaration {
                        text: format!("func ({receiver}) {}", text(name)),
                        kind: DeclarationKind::Method,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// go.sum is a set of lines: the user's additions (lines not in the base)
/// join the fresh rendering, sorted as `go mod tidy` keeps them.
pub(super) fn merge_go_sum(base: &str, ours: &str, theirs: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reads_types_functions_and_methods() {
        let src = "package service\n\ntype addService struct{}\n\nfunc NewAddService() AddService { return &addService{} }\n\nfunc (s *addService) Sum(a int) int { return a }\n";
        let d: Vec<(String, DeclarationKind)> = declarations(src)
            .into_iter()
            .map(|d| (d.text, d.kind))
            .collect();
        assert_eq!(
            d,
            [
                ("func (addService) Sum".to_string(), DeclarationKind::Method),
                ("func NewAddService".to_string(), DeclarationKind::Function),
                ("type addService".to_string(), DeclarationKind::Type),
            ]
        );
    }
}
