//! The Rust trait frontend: syn parses the file; every trait whose methods
//! take `&self` and return `Result<T, E>` becomes a service.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, Fields, FnArg, GenericArgument, Item, Lit, Meta, Pat, PathArguments,
    ReturnType, TraitItem, Type,
};

use super::definition::{
    Definition, Enum, EnumValue, Field, Method, Pos, RustFile, RustMethod, RustType, Service,
    Struct, Ty,
};
use crate::diagnostic::Diagnostic;
use crate::ir::Scalar;

const HELP_TYPES: &str = "supported: bool, i32, i64, u32, u64, f32, f64, String, Vec<u8>, Vec<T>, \
     HashMap/BTreeMap with string or integer keys, Option<T>, std::time::{SystemTime, Duration}, \
     and structs and unit-only enums declared in this file";

const MAX_NESTING: usize = 64;

/// The offset of the first `<`, `(`, `[` or `{` past [`MAX_NESTING`] open
/// ones (comments and strings are not told apart: a false alarm needs 64
/// unclosed brackets in them).
fn too_deep(source: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in source.bytes().enumerate() {
        match b {
            b'<' | b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'>' | b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

pub fn parse(file: &str, source: &str) -> Result<Definition, Diagnostic> {
    let mut def = Definition {
        file: file.to_string(),
        ..Definition::default()
    };
    // syn recurses per level of nesting and would overflow the stack on
    // `Vec<Vec<…>>` thousands deep: refuse past a depth no API needs.
    if let Some(at) = too_deep(source) {
        return Err(
            Diagnostic::new(format!("nesting deeper than {MAX_NESTING} levels"))
                .at_offset(file, source, at, 1)
                .with_help("types and expressions nest a few levels in a service trait"),
        );
    }
    let syntax = syn::parse_file(source).map_err(|e| {
        let p = pos(e.span());
        Diagnostic::new(format!("syntax error: {e}"))
            .at_line_col(file, p.line, p.column)
            .with_help("the file must be valid Rust")
    })?;
    // The error type of the methods (`Result<T, Error>`), when the file
    // declares it, is the implementation's business, not the API's.
    let errors: Vec<String> = syntax
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Trait(t) => Some(t),
            _ => None,
        })
        .flat_map(|t| &t.items)
        .filter_map(|ti| match ti {
            TraitItem::Fn(f) => match &f.sig.output {
                ReturnType::Type(_, ty) => result_err(ty),
                ReturnType::Default => None,
            },
            _ => None,
        })
        .filter_map(|e| match e {
            Type::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        })
        .filter(|name| {
            syntax.items.iter().any(|item| match item {
                Item::Struct(s) => s.ident == name,
                Item::Enum(e) => e.ident == name,
                _ => false,
            })
        })
        .fold(Vec::new(), |mut all, name| {
            if !all.contains(&name) {
                all.push(name);
            }
            all
        });
    let declared: Vec<String> = syntax
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Struct(s) => Some(s.ident.to_string()),
            Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .filter(|name| !errors.contains(name))
        .collect();
    let mut rust = RustFile {
        errors: errors.clone(),
        ..RustFile::default()
    };
    for item in &syntax.items {
        if let Item::Use(u) = item {
            uses(&u.tree, &mut Vec::new(), &mut rust.uses);
        }
    }
    let reader = Reader {
        declared: &declared,
        errors: &errors,
    };
    for item in &syntax.items {
        match item {
            Item::Trait(t) => {
                if !t.generics.params.is_empty() {
                    return Err(def.error(
                        pos(t.generics.span()),
                        format!("trait {} is generic", t.ident),
                        "a service has concrete types: remove the type parameters",
                    ));
                }
                if !is_pub(&t.vis) {
                    rust.private
                        .push((format!("trait {}", t.ident), pos(t.ident.span())));
                }
                let mut methods = Vec::new();
                for ti in &t.items {
                    if let TraitItem::Fn(f) = ti {
                        methods.push(reader.method(&def, f)?);
                    }
                }
                if methods.is_empty() {
                    return Err(def.error(
                        pos(t.ident.span()),
                        format!("trait {} has no methods", t.ident),
                        "add methods such as async fn sum(&self, a: i64, b: i64) -> Result<i64, Error>",
                    ));
                }
                def.services.push(Service {
                    name: t.ident.to_string(),
                    doc: doc(&t.attrs),
                    pos: pos(t.ident.span()),
                    methods,
                });
            }
            Item::Struct(s) if errors.iter().any(|e| s.ident == e) => {}
            Item::Enum(e) if errors.iter().any(|n| e.ident == n) => {}
            Item::Struct(s) => {
                if !is_pub(&s.vis) {
                    rust.private
                        .push((format!("struct {}", s.ident), pos(s.ident.span())));
                }
                if !s.generics.params.is_empty() {
                    return Err(def.error(
                        pos(s.generics.span()),
                        format!("struct {} is generic", s.ident),
                        "use concrete field types",
                    ));
                }
                let named: Vec<&syn::Field> = match &s.fields {
                    Fields::Named(named) => named.named.iter().collect(),
                    // A unit struct is a message without fields.
                    Fields::Unit => Vec::new(),
                    Fields::Unnamed(_) => {
                        return Err(def.error(
                            pos(s.ident.span()),
                            format!("struct {} has unnamed fields", s.ident),
                            "name the fields: struct Point { x: i32, y: i32 }",
                        ));
                    }
                };
                let mut fields = Vec::new();
                for f in named {
                    let ident = f.ident.as_ref().expect("named field");
                    if !is_pub(&f.vis) {
                        rust.private
                            .push((format!("field {}.{ident}", s.ident), pos(ident.span())));
                    }
                    fields.push(Field {
                        name: ident.to_string(),
                        doc: doc(&f.attrs),
                        ty: reader.ty(&def, &f.ty)?,
                        pos: pos(ident.span()),
                        go: None,
                        rust: Some(rust_type(&f.ty)),
                    });
                }
                def.structs.push(Struct {
                    name: s.ident.to_string(),
                    doc: doc(&s.attrs),
                    pos: pos(s.ident.span()),
                    fields,
                });
            }
            Item::Enum(e) => {
                if !is_pub(&e.vis) {
                    rust.private
                        .push((format!("enum {}", e.ident), pos(e.ident.span())));
                }
                let mut values = Vec::new();
                let mut next: i64 = 0;
                for v in &e.variants {
                    if !matches!(v.fields, Fields::Unit) {
                        return Err(def.error(
                            pos(v.ident.span()),
                            format!("variant {}::{} carries data", e.ident, v.ident),
                            "only unit-only enums become protobuf enums; use a struct for data",
                        ));
                    }
                    if let Some((_, expr)) = &v.discriminant {
                        next = match expr {
                            Expr::Lit(ExprLit {
                                lit: Lit::Int(i), ..
                            }) => i.base10_parse().map_err(|_| {
                                def.error(
                                    pos(expr.span()),
                                    "discriminant out of range",
                                    "use an i32 value",
                                )
                            })?,
                            _ => {
                                return Err(def.error(
                                    pos(expr.span()),
                                    "the discriminant is not an integer literal",
                                    "write = 3, or leave it out",
                                ));
                            }
                        };
                    }
                    let number = i32::try_from(next).map_err(|_| {
                        def.error(
                            pos(v.ident.span()),
                            format!("{next} does not fit an enum value"),
                            "use an i32 value",
                        )
                    })?;
                    values.push(EnumValue {
                        name: v.ident.to_string(),
                        doc: doc(&v.attrs),
                        number,
                    });
                    next += 1;
                }
                def.enums.push(Enum {
                    name: e.ident.to_string(),
                    doc: doc(&e.attrs),
                    pos: pos(e.ident.span()),
                    values,
                });
            }
            _ => {}
        }
    }
    def.rust = Some(rust);
    Ok(def)
}

/// Whether an item is visible outside its module (`pub`, `pub(crate)`, …).
fn is_pub(vis: &syn::Visibility) -> bool {
    !matches!(vis, syn::Visibility::Inherited)
}

/// The names a `use` tree brings into scope, with their paths.
fn uses(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    let path = |prefix: &[String], last: &str| {
        let mut all = prefix.to_vec();
        all.push(last.to_string());
        all.join("::")
    };
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            uses(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                out.push((last.clone(), prefix.join("::")));
            }
        }
        syn::UseTree::Name(n) => {
            out.push((n.ident.to_string(), path(prefix, &n.ident.to_string())))
        }
        syn::UseTree::Rename(r) => {
            out.push((r.rename.to_string(), path(prefix, &r.ident.to_string())));
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => {
            for t in &g.items {
                uses(t, prefix, out);
            }
        }
    }
}

/// A type as written, when it is a plain path (generic arguments
/// included) or a tuple: what a file implementing the trait writes.
pub fn print_type(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let mut out = String::new();
            if p.path.leading_colon.is_some() {
                out.push_str("::");
            }
            for (i, segment) in p.path.segments.iter().enumerate() {
                if i > 0 {
                    out.push_str("::");
                }
                out.push_str(&segment.ident.to_string());
                match &segment.arguments {
                    PathArguments::None => {}
                    PathArguments::AngleBracketed(a) => {
                        let args = a
                            .args
                            .iter()
                            .map(|g| match g {
                                GenericArgument::Type(t) => print_type(t),
                                _ => None,
                            })
                            .collect::<Option<Vec<_>>>()?;
                        out.push('<');
                        out.push_str(&args.join(", "));
                        out.push('>');
                    }
                    PathArguments::Parenthesized(_) => return None,
                }
            }
            Some(out)
        }
        Type::Tuple(t) => {
            let elems = t.elems.iter().map(print_type).collect::<Option<Vec<_>>>()?;
            Some(match elems.as_slice() {
                [one] => format!("({one},)"),
                _ => format!("({})", elems.join(", ")),
            })
        }
        Type::Paren(p) => print_type(&p.elem),
        _ => None,
    }
}

fn rust_type(ty: &Type) -> RustType {
    let btree = matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "BTreeMap"));
    RustType {
        text: print_type(ty),
        btree,
    }
}

fn pos(span: Span) -> Pos {
    let start = span.start();
    Pos {
        line: start.line,
        column: start.column + 1,
    }
}

/// The `///` doc comment of an item.
fn doc(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => {
                    let v = s.value();
                    Some(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_string())
                }
                _ => None,
            },
            _ => None,
        })
        .collect();
    lines.join("\n")
}

struct Reader<'a> {
    declared: &'a [String],
    /// The methods' error types declared in the file.
    errors: &'a [String],
}

impl Reader<'_> {
    fn method(&self, def: &Definition, f: &syn::TraitItemFn) -> Result<Method, Diagnostic> {
        let sig = &f.sig;
        let name = sig.ident.to_string();
        if !sig.generics.params.is_empty() {
            return Err(def.error(
                pos(sig.generics.span()),
                format!("method {name} is generic"),
                "a service method has concrete types: remove the type parameters",
            ));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
            other => {
                let at = other.map_or(pos(sig.ident.span()), |a| pos(a.span()));
                return Err(def.error(
                    at,
                    format!("method {name} must take &self first"),
                    format!("write fn {name}(&self, …)"),
                ));
            }
        }
        let mut params = Vec::new();
        for arg in inputs {
            let FnArg::Typed(typed) = arg else { continue };
            let Pat::Ident(ident) = typed.pat.as_ref() else {
                return Err(def.error(
                    pos(typed.pat.span()),
                    "a parameter must be a plain name",
                    "write name: Type",
                ));
            };
            params.push(Field {
                name: ident.ident.to_string(),
                doc: String::new(),
                ty: self.ty(def, &typed.ty)?,
                pos: pos(ident.ident.span()),
                go: None,
                rust: Some(rust_type(&typed.ty)),
            });
        }
        let ok = match &sig.output {
            ReturnType::Type(_, ty) => result_ok(ty),
            ReturnType::Default => None,
        };
        let Some(ok) = ok else {
            let at = match &sig.output {
                ReturnType::Type(_, ty) => pos(ty.span()),
                ReturnType::Default => pos(sig.ident.span()),
            };
            return Err(def.error(
                at,
                format!("method {name} must return a Result"),
                format!("write fn {name}(…) -> Result<T, Error>"),
            ));
        };
        let results = match ok {
            Type::Tuple(t) if t.elems.is_empty() => Vec::new(),
            Type::Tuple(t) => t
                .elems
                .iter()
                .map(|e| {
                    Ok(Field {
                        name: String::new(),
                        doc: String::new(),
                        ty: self.ty(def, e)?,
                        pos: pos(e.span()),
                        go: None,
                        rust: Some(rust_type(e)),
                    })
                })
                .collect::<Result<_, Diagnostic>>()?,
            other => vec![Field {
                name: String::new(),
                doc: String::new(),
                ty: self.ty(def, other)?,
                pos: pos(other.span()),
                go: None,
                rust: Some(rust_type(other)),
            }],
        };
        let (error, error_pos) = match &sig.output {
            ReturnType::Type(_, ty) => match result_err(ty) {
                Some(e) => (print_type(e), pos(e.span())),
                None => (None, pos(ty.span())),
            },
            ReturnType::Default => (None, pos(sig.ident.span())),
        };
        Ok(Method {
            name,
            doc: doc(&f.attrs),
            pos: pos(sig.ident.span()),
            params,
            results,
            go_signature: String::new(),
            rust: Some(RustMethod {
                asynchronous: sig.asyncness.is_some(),
                error,
                error_pos,
                output: match &sig.output {
                    ReturnType::Type(_, ty) => print_type(ty),
                    ReturnType::Default => None,
                },
            }),
        })
    }

    fn ty(&self, def: &Definition, ty: &Type) -> Result<Ty, Diagnostic> {
        let at = pos(ty.span());
        let unsupported = |what: &str, help: &str| {
            Err(def.error(at, format!("{what} has no protobuf form"), help))
        };
        match ty {
            Type::Path(p) if p.qself.is_none() => {
                let segments: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let last = p.path.segments.last().expect("a path has a segment");
                let args: Vec<&Type> = match &last.arguments {
                    PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            GenericArgument::Type(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let path = segments.join("::");
                let std_path =
                    |allowed: &[&str]| segments.len() == 1 || allowed.contains(&path.as_str());
                match (last.ident.to_string().as_str(), args.as_slice()) {
                    ("bool", []) => Ok(Ty::Scalar(Scalar::Bool)),
                    ("i32", []) => Ok(Ty::Scalar(Scalar::Int32)),
                    ("i64", []) => Ok(Ty::Scalar(Scalar::Int64)),
                    ("u32", []) => Ok(Ty::Scalar(Scalar::Uint32)),
                    ("u64", []) => Ok(Ty::Scalar(Scalar::Uint64)),
                    ("f32", []) => Ok(Ty::Scalar(Scalar::Float)),
                    ("f64", []) => Ok(Ty::Scalar(Scalar::Double)),
                    ("String", []) if std_path(&["std::string::String"]) => {
                        Ok(Ty::Scalar(Scalar::String))
                    }
                    ("i8" | "i16" | "u8" | "u16" | "i128" | "u128" | "isize" | "usize", []) => {
                        unsupported(&path, "use i32, i64, u32 or u64")
                    }
                    ("SystemTime", []) if std_path(&["std::time::SystemTime"]) => Ok(Ty::Timestamp),
                    ("Duration", []) if std_path(&["std::time::Duration"]) => Ok(Ty::Duration),
                    ("Vec", [inner]) if std_path(&["std::vec::Vec"]) => {
                        if is_u8(inner) {
                            return Ok(Ty::Scalar(Scalar::Bytes));
                        }
                        Ok(Ty::List(Box::new(self.ty(def, inner)?)))
                    }
                    ("Option", [inner]) if std_path(&["std::option::Option"]) => {
                        Ok(Ty::Optional(Box::new(self.ty(def, inner)?)))
                    }
                    ("HashMap" | "BTreeMap", [k, v])
                        if std_path(&[
                            "std::collections::HashMap",
                            "std::collections::BTreeMap",
                        ]) =>
                    {
                        let key = self.ty(def, k)?;
                        match key {
                            Ty::Scalar(s)
                                if !matches!(s, Scalar::Float | Scalar::Double | Scalar::Bytes) =>
                            {
                                Ok(Ty::Map(s, Box::new(self.ty(def, v)?)))
                            }
                            _ => unsupported(
                                "a map whose key is not a string or integer",
                                "key the map by String or an integer",
                            ),
                        }
                    }
                    (name, []) if segments.len() == 1 && self.errors.iter().any(|d| d == name) => {
                        Err(def.error(
                            at,
                            format!("type '{name}' is the error type of the trait's methods: it cannot be data too"),
                            "use another type for the data, or another error type",
                        ))
                    }
                    (name, [])
                        if segments.len() == 1 && self.declared.iter().any(|d| d == name) =>
                    {
                        Ok(Ty::Named(name.to_string()))
                    }
                    (name, []) if segments.len() == 1 => Err(def.error(
                        at,
                        format!("type '{name}' is not declared in this file"),
                        "declare it in this file as a struct or a unit-only enum",
                    )),
                    _ if segments.len() > 1 => Err(def.error(
                        at,
                        format!("type {path} comes from another module or crate"),
                        "declare the type in this file, or use std::time::SystemTime or Duration",
                    )),
                    _ => unsupported(&format!("{path} with these arguments"), HELP_TYPES),
                }
            }
            Type::Reference(_) => unsupported("a reference", "take owned values: String, not &str"),
            Type::TraitObject(_) | Type::ImplTrait(_) => {
                unsupported("a trait object", "use a concrete type or a struct")
            }
            Type::BareFn(_) => unsupported("a function", "pass data, not behaviour"),
            Type::Array(_) | Type::Slice(_) => unsupported("an array or slice", "use Vec<T>"),
            Type::Tuple(_) => unsupported("a tuple", "use a struct"),
            _ => unsupported("this type", HELP_TYPES),
        }
    }
}

fn is_u8(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("u8"))
}

/// `E` of `Result<T, E>`.
fn result_err(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(1)
}

/// `T` of `Result<T, E>` (any `E`: the error type is the implementation's).
fn result_ok(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

#[cfg(test)]
mod nesting_tests {
    #[test]
    fn types_nested_thousands_deep_are_refused_not_a_stack_overflow() {
        let deep = format!(
            "pub trait Add {{\n    fn sum(&self, a: {}i64{}) -> Result<i64, String>;\n}}\n",
            "Vec<".repeat(5000),
            ">".repeat(5000)
        );
        let err = super::parse("deep.rs", &deep).unwrap_err().to_string();
        assert!(
            err.contains("deep.rs:2:") && err.contains("nesting deeper than 64"),
            "{err}"
        );
    }
}
