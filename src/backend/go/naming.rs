//! Go identifiers, following protoc-gen-go's rules so that the names kitgen
//! writes match the ones in the `.pb.go` files the official plugins produce.

use heck::{ToLowerCamelCase, ToSnakeCase};

/// protoc-gen-go's `GoCamelCase`: `foo_bar` → `FooBar`, `foo.bar` → `Foo_Bar`,
/// a leading `_` becomes `X`.
pub fn go_camel_case(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_lowercase() {
            // ".x" keeps no separator
        } else if c == b'.' {
            out.push('_');
        } else if c == b'_' && (i == 0 || b[i - 1] == b'.') {
            out.push('X');
        } else if c == b'_' && i + 1 < b.len() && b[i + 1].is_ascii_lowercase() {
            // "_x" starts a new word
        } else if c.is_ascii_digit() {
            out.push(c as char);
        } else {
            out.push(c.to_ascii_uppercase() as char);
            while i + 1 < b.len() && b[i + 1].is_ascii_lowercase() {
                i += 1;
                out.push(b[i] as char);
            }
        }
        i += 1;
    }
    out
}

/// The Go name of a message or enum: its name relative to the package, each
/// nesting level camel-cased and joined by `_` (protoc-gen-go's rule).
pub fn go_type_name(full_name: &str, package: &str) -> String {
    let relative = if package.is_empty() {
        full_name
    } else {
        full_name
            .strip_prefix(package)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(full_name)
    };
    relative
        .split('.')
        .map(go_camel_case)
        .collect::<Vec<_>>()
        .join("_")
}

/// The getter protoc-gen-go emits for a field.
pub fn getter(field: &str) -> String {
    format!("Get{}", go_camel_case(field))
}

/// `lowerCamel` for unexported Go identifiers, avoiding Go keywords.
pub fn unexported(name: &str) -> String {
    let s = name.to_lower_camel_case();
    if GO_KEYWORDS.contains(&s.as_str()) || PREDECLARED.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

pub fn snake(name: &str) -> String {
    name.to_snake_case()
}

/// Service base name: `LibraryService` → `Library`, `Add` → `Add`.
pub fn service_base(go_service: &str) -> String {
    match go_service.strip_suffix("Service") {
        Some(base) if !base.is_empty() => base.to_string(),
        _ => go_service.to_string(),
    }
}

pub const GO_KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

const PREDECLARED: &[&str] = &[
    "any", "bool", "byte", "error", "string", "len", "cap", "new", "make", "nil", "true", "false",
    "int", "uint", "append", "copy", "close", "delete", "panic", "recover", "print", "println",
    "ctx", "req", "resp", "err", "svc", "send", "recv", "logger",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_matches_protoc_gen_go() {
        for (input, want) in [
            ("foo_bar", "FooBar"),
            ("fooBar", "FooBar"),
            ("_foo", "XFoo"),
            ("foo__bar", "Foo_Bar"),
            ("foo_1bar", "Foo_1Bar"),
            ("foo.bar", "FooBar"),
            ("Foo.Bar", "Foo_Bar"),
            ("page_size", "PageSize"),
            ("HTTPRule", "HTTPRule"),
            ("v1", "V1"),
        ] {
            assert_eq!(go_camel_case(input), want, "{input}");
        }
    }

    #[test]
    fn nested_type_names() {
        assert_eq!(go_type_name("a.b.Outer.Inner", "a.b"), "Outer_Inner");
        assert_eq!(go_type_name("Top", ""), "Top");
        assert_eq!(go_type_name("pkg.route_note", "pkg"), "RouteNote");
    }

    #[test]
    fn unexported_avoids_keywords() {
        assert_eq!(unexported("Type"), "type_");
        assert_eq!(unexported("GetFeature"), "getFeature");
    }
}
