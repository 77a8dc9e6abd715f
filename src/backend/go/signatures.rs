//! Carrying a changed method signature into a Go file the user implemented,
//! before the line merge.
//!
//! kitgen's stub of a method is its signature line and a body. Once the user
//! wrote the body, a parameter added to the interface changes the line right
//! above their edit, and a line merge can only show both as a conflict. Read
//! with tree-sitter-go, a method whose signature the user left as kitgen
//! last wrote it (compared by its syntax, not its text) takes the new
//! signature in the user's file, and the new method in the base, so the
//! merge sees only the user's body edit. A signature the user changed, or
//! one whose results changed (the user's body returns the old ones and
//! would no longer build), is left to the merge: a conflict is then right.

use std::collections::BTreeMap;

use tree_sitter::{Node, Parser, Tree};

/// A parameter or result: its name (empty when unnamed) and its type as
/// tokens.
type Param = (String, String);

/// What a function's signature says, its receiver aside.
#[derive(Debug, PartialEq, Eq)]
struct Signature {
    name: String,
    type_params: String,
    params: Vec<Param>,
    results: Vec<Param>,
}

impl Signature {
    /// The same but for the names of parameters and results.
    fn same_types(&self, other: &Signature) -> bool {
        self.name == other.name
            && self.type_params == other.type_params
            && types(&self.params) == types(&other.params)
            && self.same_result_types(other)
    }

    /// The same result types: a body written for one returns the other.
    fn same_result_types(&self, other: &Signature) -> bool {
        types(&self.results) == types(&other.results)
    }
}

fn types(p: &[Param]) -> Vec<&str> {
    p.iter().map(|(_, t)| t.as_str()).collect()
}

/// One function or method declaration of a file.
struct Decl {
    signature: Signature,
    /// Byte offsets: where its name starts, its body, its end.
    name_start: usize,
    body: (usize, usize),
    end: usize,
}

fn parse(source: &str) -> Option<Tree> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_go::LANGUAGE.into()).ok()?;
    let tree = parser.parse(source, None)?;
    // A file that does not parse is left to the line merge.
    (!tree.root_node().has_error()).then_some(tree)
}

/// The tokens of a node, comments and spacing left out.
fn tokens(node: Node, source: &str, out: &mut Vec<String>) {
    if node.kind() == "comment" {
        return;
    }
    if node.child_count() == 0 {
        out.push(
            node.utf8_text(source.as_bytes())
                .unwrap_or_default()
                .to_string(),
        );
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        tokens(child, source, out);
    }
}

fn token_text(node: Option<Node>, source: &str) -> String {
    let mut out = Vec::new();
    if let Some(n) = node {
        tokens(n, source, &mut out);
    }
    out.join(" ")
}

/// The parameters of a parameter list, one per name: `a, b int` is two.
fn params(list: Node, source: &str) -> Vec<Param> {
    let mut out = Vec::new();
    let mut cursor = list.walk();
    for decl in list.named_children(&mut cursor) {
        let variadic = decl.kind() == "variadic_parameter_declaration";
        if decl.kind() != "parameter_declaration" && !variadic {
            continue;
        }
        let mut ty = token_text(decl.child_by_field_name("type"), source);
        if variadic {
            ty = format!("... {ty}");
        }
        let mut c = decl.walk();
        let names: Vec<String> = decl
            .children_by_field_name("name", &mut c)
            .map(|n| token_text(Some(n), source))
            .collect();
        if names.is_empty() {
            out.push((String::new(), ty));
        } else {
            out.extend(names.into_iter().map(|n| (n, ty.clone())));
        }
    }
    out
}

/// The receiver's type name of a method: `(s *basicAdd)` → `basicAdd`.
fn receiver_type(receiver: Node, source: &str) -> Option<String> {
    let mut cursor = receiver.walk();
    let decl = receiver
        .named_children(&mut cursor)
        .find(|n| n.kind() == "parameter_declaration")?;
    let mut ty = decl.child_by_field_name("type")?;
    while ty.kind() == "pointer_type" || ty.kind() == "parenthesized_type" {
        ty = ty.named_child(0)?;
    }
    if ty.kind() == "generic_type" {
        ty = ty.child_by_field_name("type")?;
    }
    Some(token_text(Some(ty), source))
}

/// Every function and method declaration of a file with a body, by
/// `Type.Method` or `Func`; None for a file that does not parse or declares
/// one twice.
fn declarations(source: &str) -> Option<BTreeMap<String, Decl>> {
    let tree = parse(source)?;
    let root = tree.root_node();
    let mut out = BTreeMap::new();
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        let key = match node.kind() {
            "function_declaration" => String::new(),
            "method_declaration" => {
                format!(
                    "{}.",
                    receiver_type(node.child_by_field_name("receiver")?, source)?
                )
            }
            _ => continue,
        };
        let (Some(name), Some(body), Some(list)) = (
            node.child_by_field_name("name"),
            node.child_by_field_name("body"),
            node.child_by_field_name("parameters"),
        ) else {
            continue;
        };
        let results = match node.child_by_field_name("result") {
            None => Vec::new(),
            Some(r) if r.kind() == "parameter_list" => params(r, source),
            Some(r) => vec![(String::new(), token_text(Some(r), source))],
        };
        let signature = Signature {
            name: token_text(Some(name), source),
            type_params: token_text(node.child_by_field_name("type_parameters"), source),
            params: params(list, source),
            results,
        };
        let key = format!("{key}{}", signature.name);
        let decl = Decl {
            signature,
            name_start: name.start_byte(),
            body: (body.start_byte(), body.end_byte()),
            end: node.end_byte(),
        };
        if out.insert(key, decl).is_some() {
            return None;
        }
    }
    Some(out)
}

/// `source` with byte ranges replaced (ranges do not overlap).
fn splice(source: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = source.to_string();
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    out
}

/// `(base, ours)` with every changed signature carried over where the user
/// implemented the method and left its signature as kitgen wrote it: in
/// `ours` the new signature (the user's parameter names kept when only
/// names changed, their receiver kept), in `base` the new method whole, so
/// the user's body is their only edit. Anything else is left as it is.
pub(super) fn carry(base: &str, ours: &str, theirs: &str) -> Option<(String, String)> {
    let (b, o, t) = (
        declarations(base)?,
        declarations(ours)?,
        declarations(theirs)?,
    );
    let mut base_edits = Vec::new();
    let mut ours_edits = Vec::new();
    for (key, bd) in &b {
        let (Some(od), Some(td)) = (o.get(key), t.get(key)) else {
            continue;
        };
        if td.signature == bd.signature || od.signature != bd.signature {
            continue;
        }
        // New results: the user's body still returns the old ones, so a
        // clean merge would not build. The conflict shows both.
        if !td.signature.same_result_types(&bd.signature) {
            continue;
        }
        // A body the user did not touch merges as kitgen renders it.
        if ours[od.body.0..od.body.1] == base[bd.body.0..bd.body.1] {
            continue;
        }
        // The base becomes the new method under the base's receiver.
        base_edits.push((
            bd.name_start,
            bd.end,
            theirs[td.name_start..td.end].to_string(),
        ));
        // Only names changed: the user's own names stay (their body uses
        // them, and Go does not ask an implementation for the interface's).
        if !td.signature.same_types(&bd.signature) {
            ours_edits.push((
                od.name_start,
                od.body.0,
                theirs[td.name_start..td.body.0].to_string(),
            ));
        }
    }
    if base_edits.is_empty() {
        return None;
    }
    Some((splice(base, base_edits), splice(ours, ours_edits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "package a\n\nfunc (s *impl) Sum(ctx context.Context, a, b int) (int, error) {\n\treturn 0, errors.New(\"todo\")\n}\n";

    fn ours() -> String {
        BASE.replace("return 0, errors.New(\"todo\")", "return a + b, nil")
    }

    #[test]
    fn an_added_parameter_is_carried_into_both() {
        let theirs = BASE.replace("a, b int)", "a, b, c int)");
        let (base, ours) = carry(BASE, &ours(), &theirs).unwrap();
        assert_eq!(base, theirs);
        assert!(
            ours.contains(
                "Sum(ctx context.Context, a, b, c int) (int, error) {\n\treturn a + b, nil"
            ),
            "{ours}"
        );
    }

    #[test]
    fn a_signature_the_user_changed_is_left_to_the_merge() {
        let theirs = BASE.replace("a, b int)", "a, b, c int)");
        let ours = ours().replace("a, b int)", "a, b int64)");
        assert!(carry(BASE, &ours, &theirs).is_none());
    }

    #[test]
    fn spacing_and_comments_are_no_change_of_the_user() {
        let theirs = BASE.replace("a, b int)", "a, b, c int)");
        let ours = ours().replace("a, b int)", "a,  b /* two */ int)");
        let (_, ours) = carry(BASE, &ours, &theirs).unwrap();
        assert!(
            ours.contains("Sum(ctx context.Context, a, b, c int) (int, error) {"),
            "{ours}"
        );
    }

    #[test]
    fn changed_results_are_left_to_the_merge() {
        let theirs = BASE.replace("(int, error)", "(int64, error)");
        assert!(carry(BASE, &ours(), &theirs).is_none());
        let theirs = BASE.replace("(int, error)", "(context.Context, error)");
        assert!(carry(BASE, &ours(), &theirs).is_none());
    }

    #[test]
    fn renamed_parameters_keep_the_users_names() {
        let theirs = BASE.replace("a, b int)", "x, y int)");
        let (base, ours) = carry(BASE, &ours(), &theirs).unwrap();
        assert_eq!(base, theirs);
        assert_eq!(ours, self::ours());
    }

    #[test]
    fn an_untouched_stub_or_a_broken_file_is_left_alone() {
        let theirs = BASE.replace("a, b int)", "a, b, c int)");
        assert!(carry(BASE, BASE, &theirs).is_none());
        assert!(carry(BASE, "package a\nfunc (", &theirs).is_none());
    }
}
