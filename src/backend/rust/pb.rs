//! The protobuf code of a Rust project, generated in process: prost-build's
//! `Config::generate` with tonic-prost-build's service generator, on the
//! descriptors protox compiled. No protoc, no build.rs: the output is checked
//! in under `src/pb/`, as `pb/` is for Go.

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use prost_build::Module;
use prost_types::{FileDescriptorProto, FileDescriptorSet};

use crate::diagnostic::Diagnostic;
use crate::ir::{self, Api};

/// Where the protobuf code lives in the project.
pub const PB_DIR: &str = "src/pb";

/// The generated files: `src/pb/mod.rs` (the package module tree and the
/// descriptor set), and one file per proto package.
pub fn generate(api: &Api, descriptor_set: &[u8]) -> Result<Vec<(String, String)>, Diagnostic> {
    let set = FileDescriptorSet::decode(descriptor_set)
        .map_err(|e| Diagnostic::new(format!("internal error: descriptor set: {e}")))?;
    check_names(api, &set)?;
    let wanted = files_to_generate(api);
    // prost-build reads the types of fields from the files it is given, so
    // it is given every file; the modules of packages with no wanted file
    // (the well-known types, from prost-types; annotations) are dropped.
    let requests: Vec<(Module, FileDescriptorProto)> = set
        .file
        .iter()
        .map(|f| (Module::from_protobuf_package_name(f.package()), f.clone()))
        .collect();
    let wanted_modules: BTreeSet<Module> = requests
        .iter()
        .filter(|(_, f)| wanted.contains(f.name()))
        .map(|(m, _)| m.clone())
        .collect();
    // prost-build and prettyplease assume descriptors protoc accepted; protox
    // accepted these, but a panic must never escape kitgen.
    let generated = std::panic::catch_unwind(move || {
        let mut config = prost_build::Config::new();
        config.service_generator(
            tonic_prost_build::configure()
                .build_client(true)
                .build_server(true)
                .build_transport(true)
                .service_generator(),
        );
        config.generate(requests)
    });
    let modules = match generated {
        Ok(Ok(modules)) => modules,
        Ok(Err(e)) => {
            return Err(Diagnostic::new(format!(
                "the protobuf code generator refused the API: {e}"
            )));
        }
        Err(_) => {
            return Err(Diagnostic::new(
                "internal error: the protobuf code generator panicked on this API",
            ));
        }
    };
    let modules: BTreeMap<Vec<String>, String> = modules
        .into_iter()
        .filter(|(module, _)| wanted_modules.contains(module))
        .map(|(module, code)| (module.parts().map(str::to_string).collect(), code))
        .collect();
    let mut files = Vec::new();
    for (parts, code) in &modules {
        files.push((format!("{PB_DIR}/{}", file_name(parts)), code.clone()));
    }
    files.push((format!("{PB_DIR}/mod.rs"), mod_rs(modules.keys())));
    files.push((format!("{PB_DIR}/descriptor.rs"), descriptor_rs(&set)));
    Ok(files)
}

/// Who declares a Rust module: a package, or a message (for its nested
/// types and oneofs).
#[derive(Clone)]
enum ModuleOwner {
    Package(String),
    Message(String),
}

/// Refuses, located, what prost-build would turn into Rust that does not
/// build, or into a panic: two types of one module with one Rust name
/// (`FooBar` and `Foo_Bar`, a nested `KindOneOf` beside a oneof `kind`
/// that prost-build calls `KindOneOf` for a nested `Kind`), a
/// message's module that is also a package's (`a.B` with nested types
/// beside package `a.b`), two values of an enum with one variant name
/// (`COLOR_RED` and `RED` in `Color`).
fn check_names(api: &Api, set: &FileDescriptorSet) -> Result<(), Diagnostic> {
    let files: Vec<&FileDescriptorProto> = set
        .file
        .iter()
        .filter(|f| !f.name().starts_with("google/protobuf/"))
        .collect();
    let mut modules: BTreeMap<Vec<String>, ModuleOwner> = BTreeMap::new();
    for f in &files {
        let parts: Vec<String> = Module::from_protobuf_package_name(f.package())
            .parts()
            .map(str::to_string)
            .collect();
        for n in 1..=parts.len() {
            let package: Vec<&str> = f.package().split('.').filter(|p| !p.is_empty()).collect();
            modules
                .entry(parts[..n].to_vec())
                .or_insert_with(|| ModuleOwner::Package(package[..n].join(".")));
        }
    }
    let mut types: BTreeMap<(Vec<String>, String), String> = BTreeMap::new();
    for f in &files {
        let module: Vec<String> = Module::from_protobuf_package_name(f.package())
            .parts()
            .map(str::to_string)
            .collect();
        let prefix = if f.package().is_empty() {
            String::new()
        } else {
            format!("{}.", f.package())
        };
        for e in &f.enum_type {
            check_enum(api, f, &format!("{prefix}{}", e.name()), e)?;
            check_type(
                api,
                f,
                &mut types,
                &module,
                e.name(),
                &format!("{prefix}{}", e.name()),
            )?;
        }
        for m in &f.message_type {
            check_message(api, f, &mut types, &mut modules, &module, &prefix, m)?;
        }
    }
    Ok(())
}

/// Where a type is declared, for a diagnostic.
fn locate(api: &Api, file: &FileDescriptorProto, full_name: &str, d: Diagnostic) -> Diagnostic {
    let position = api
        .message(full_name)
        .and_then(|m| m.position)
        .or_else(|| api.enum_type(full_name).and_then(|e| e.position));
    match position {
        Some((line, col)) => d.at_line_col(file.name(), line, col),
        None => d.at_file(file.name()),
    }
}

/// Records the Rust type `name` (a message, enum or oneof) in `module`.
fn check_type(
    api: &Api,
    file: &FileDescriptorProto,
    types: &mut BTreeMap<(Vec<String>, String), String>,
    module: &[String],
    name: &str,
    full_name: &str,
) -> Result<(), Diagnostic> {
    let rust = to_upper_camel(name);
    if let Some(other) = types.insert((module.to_vec(), rust.clone()), full_name.to_string()) {
        let d = Diagnostic::new(format!(
            "{other} and {full_name} are both {rust} in Rust (prost-build's names)"
        ))
        .with_help("rename one of them for the rust target");
        return Err(locate(api, file, full_name, d));
    }
    Ok(())
}

fn check_enum(
    api: &Api,
    file: &FileDescriptorProto,
    full_name: &str,
    e: &prost_types::EnumDescriptorProto,
) -> Result<(), Diagnostic> {
    let enum_name = to_upper_camel(e.name());
    let mut numbers = BTreeSet::new();
    let mut variants: BTreeMap<String, &str> = BTreeMap::new();
    for v in &e.value {
        // Aliases (allow_alias) share their number's variant.
        if !numbers.insert(v.number()) {
            continue;
        }
        let variant = strip_enum_prefix(&enum_name, &to_upper_camel(v.name()));
        if let Some(other) = variants.insert(variant.clone(), v.name()) {
            let d = Diagnostic::new(format!(
                "{full_name}: the values {other} and {} are both {variant} in Rust (prost-build strips the enum's name)",
                v.name()
            ))
            .with_help("rename one of them for the rust target");
            return Err(locate(api, file, full_name, d));
        }
    }
    Ok(())
}

fn check_message(
    api: &Api,
    file: &FileDescriptorProto,
    types: &mut BTreeMap<(Vec<String>, String), String>,
    modules: &mut BTreeMap<Vec<String>, ModuleOwner>,
    module: &[String],
    prefix: &str,
    m: &prost_types::DescriptorProto,
) -> Result<(), Diagnostic> {
    let full_name = format!("{prefix}{}", m.name());
    check_type(api, file, types, module, m.name(), &full_name)?;
    let nested: Vec<&prost_types::DescriptorProto> = m
        .nested_type
        .iter()
        .filter(|n| !n.options.as_ref().is_some_and(|o| o.map_entry()))
        .collect();
    // Oneofs with a field that is not proto3 `optional` (whose oneofs are
    // synthetic).
    let oneofs: Vec<&str> = m
        .oneof_decl
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            m.field
                .iter()
                .any(|f| f.oneof_index == Some(*i as i32) && !f.proto3_optional())
        })
        .map(|(_, o)| o.name())
        .collect();
    if nested.is_empty() && m.enum_type.is_empty() && oneofs.is_empty() {
        return Ok(());
    }
    let mut inner = module.to_vec();
    inner.push(to_snake(m.name()));
    if let Some(owner) = modules.insert(inner.clone(), ModuleOwner::Message(full_name.clone())) {
        let other = match owner {
            ModuleOwner::Package(p) => format!("package {p}"),
            ModuleOwner::Message(m) => format!("message {m}"),
        };
        let d = Diagnostic::new(format!(
            "{full_name}: the Rust module of its nested types, {}, is also {other}'s",
            inner.join("::")
        ))
        .with_help("rename the message or the package for the rust target");
        return Err(locate(api, file, &full_name, d));
    }
    let prefix = format!("{full_name}.");
    for e in &m.enum_type {
        let name = format!("{prefix}{}", e.name());
        check_enum(api, file, &name, e)?;
        check_type(api, file, types, &inner, e.name(), &name)?;
    }
    for o in oneofs {
        // prost-build's name of the oneof's enum: `OneOf` after it when a
        // nested type (map entries too) has its name. A oneof has no
        // position of its own: the message's is used.
        let mut rust = to_upper_camel(o);
        if m.nested_type
            .iter()
            .map(|n| n.name())
            .chain(m.enum_type.iter().map(|e| e.name()))
            .any(|n| to_upper_camel(n) == rust)
        {
            rust.push_str("OneOf");
        }
        let what = format!("the oneof {prefix}{o}");
        if let Some(other) = types.insert((inner.clone(), rust.clone()), what) {
            let d = Diagnostic::new(format!(
                "{other} and the oneof {prefix}{o} are both {rust} in Rust (prost-build's names)"
            ))
            .with_help("rename one of them for the rust target");
            return Err(locate(api, file, &full_name, d));
        }
    }
    for n in nested {
        check_message(api, file, types, modules, &inner, &prefix, n)?;
    }
    Ok(())
}

/// prost-build's variant name: the enum's name stripped from the value's
/// when it is a true prefix.
fn strip_enum_prefix(prefix: &str, name: &str) -> String {
    let stripped = name.strip_prefix(prefix).unwrap_or(name);
    let stripped = if stripped.starts_with(char::is_uppercase) {
        stripped
    } else {
        name
    };
    sanitize(stripped)
}

const ANY_PROTO: &str = "google/protobuf/any.proto";

/// `google/protobuf/any.proto`'s descriptor, from protox's copy.
fn any_descriptor() -> Option<FileDescriptorProto> {
    let mut compiler =
        protox::Compiler::with_file_resolver(protox::file::GoogleFileResolver::new());
    compiler.open_file(ANY_PROTO).ok()?;
    compiler
        .file_descriptor_set()
        .file
        .into_iter()
        .find(|f| f.name() == ANY_PROTO)
}

/// prost-build's file name for a module: its parts joined by dots, `_` for
/// the package-less one.
fn file_name(parts: &[String]) -> String {
    if parts.is_empty() {
        "_.rs".to_string()
    } else {
        let parts: Vec<&str> = parts
            .iter()
            .map(|p| p.strip_prefix("r#").unwrap_or(p))
            .collect();
        format!("{}.rs", parts.join("."))
    }
}

/// The proto files whose Rust code the project holds: those that declare a
/// service, the other files of a service's package, and every file holding a
/// message or enum these reach. The well-known types come from prost-types.
fn files_to_generate(api: &Api) -> BTreeSet<String> {
    let packages: BTreeSet<&str> = api.services.iter().map(|s| s.package.as_str()).collect();
    let mut files: BTreeSet<String> = api
        .files
        .iter()
        .filter(|f| {
            api.services.iter().any(|s| s.file == f.name) || packages.contains(f.package.as_str())
        })
        .map(|f| f.name.clone())
        .collect();
    let mut pending: Vec<String> = api
        .messages
        .iter()
        .filter(|m| files.contains(&m.file))
        .map(|m| m.full_name.clone())
        .chain(api.services.iter().flat_map(|s| {
            s.methods
                .iter()
                .flat_map(|m| [m.input.clone(), m.output.clone()])
        }))
        .collect();
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(m) = api.message(&name) {
            files.insert(m.file.clone());
            for field in &m.fields {
                let mut ty = &field.ty;
                if let ir::FieldType::Map(_, value) = ty {
                    ty = value;
                }
                match ty {
                    ir::FieldType::Message(n) => pending.push(n.clone()),
                    ir::FieldType::Enum(n) => {
                        if let Some(e) = api.enum_type(n) {
                            files.insert(e.file.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    files.retain(|f| !f.starts_with("google/protobuf/"));
    files
}

/// An identifier as prost-build spells it: keywords raw (`r#type`), the
/// ones that cannot be raw with `_` after (`self_`).
pub fn sanitize(ident: &str) -> String {
    match ident {
        "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for" | "if"
        | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub" | "ref"
        | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe" | "use"
        | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do" | "final" | "macro"
        | "override" | "priv" | "typeof" | "unsized" | "virtual" | "yield" | "async" | "await"
        | "try" | "gen" => format!("r#{ident}"),
        "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
        s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
        _ => ident.to_string(),
    }
}

/// prost-build's field, method and module names.
pub fn to_snake(name: &str) -> String {
    use heck::ToSnakeCase;
    sanitize(&name.to_snake_case())
}

/// prost-build's type names.
pub fn to_upper_camel(name: &str) -> String {
    use heck::ToUpperCamelCase;
    sanitize(&name.to_upper_camel_case())
}

/// The module tree: one nested `pub mod` per package part, each including
/// the file prost-build wrote for its package.
fn mod_rs<'a>(modules: impl Iterator<Item = &'a Vec<String>>) -> String {
    #[derive(Default)]
    struct Node {
        file: Option<String>,
        children: BTreeMap<String, Node>,
    }
    let mut root = Node::default();
    for parts in modules {
        let mut node = &mut root;
        for part in parts {
            node = node.children.entry(part.clone()).or_default();
        }
        node.file = Some(file_name(parts));
    }
    fn write(node: &Node, depth: usize, out: &mut String) {
        let indent = "    ".repeat(depth);
        if let Some(file) = &node.file {
            out.push_str(&format!("{indent}include!(\"{file}\");\n"));
        }
        for (name, child) in &node.children {
            out.push_str(&format!("{indent}pub mod {name} {{\n"));
            write(child, depth + 1, out);
            out.push_str(&format!("{indent}}}\n"));
        }
    }
    let mut out = String::from(
        "// Code generated by kitgen. DO NOT EDIT.\n\
         //\n\
         // The protobuf messages, tonic clients and servers of every proto\n\
         // package the API reaches (prost-build and tonic-prost-build, run by\n\
         // kitgen), and the descriptors of every file, for proto3 JSON.\n\n\
         mod descriptor;\n\
         pub use descriptor::{FILE_DESCRIPTOR_SET, descriptor_pool};\n\n",
    );
    write(&root, 0, &mut out);
    out
}

/// The encoded descriptors of every file the API reaches, without source
/// info (comments and positions change nothing on the wire or in JSON), as a
/// byte string: kitgen's files are text.
fn descriptor_rs(set: &FileDescriptorSet) -> String {
    let bytes = embedded_set(set).encode_to_vec();
    descriptor_text(&bytes)
}

/// The descriptors the project embeds: every file the API reaches and Any,
/// without source info.
fn embedded_set(set: &FileDescriptorSet) -> FileDescriptorSet {
    let mut set = set.clone();
    // Error details travel as `google.protobuf.Any`: the HTTP transport
    // writes them as JSON with their `@type`, which needs Any's descriptor
    // whether or not the API imports it.
    if !set.file.iter().any(|f| f.name() == ANY_PROTO)
        && let Some(any) = any_descriptor()
    {
        set.file.insert(0, any);
    }
    for file in &mut set.file {
        file.source_code_info = None;
    }
    set
}

fn descriptor_text(bytes: &[u8]) -> String {
    let mut out = String::from(
        "// Code generated by kitgen. DO NOT EDIT.\n\n\
         /// The encoded `google.protobuf.FileDescriptorSet` of every proto file\n\
         /// the API reaches, dependencies first: decode it once with\n\
         /// `prost_reflect::DescriptorPool::decode`.\n\
         pub const FILE_DESCRIPTOR_SET: &[u8] = b\"\\\n",
    );
    let tail = "\";\n\n\
        /// The descriptors of [`FILE_DESCRIPTOR_SET`], decoded once.\n\
        pub fn descriptor_pool() -> &'static prost_reflect::DescriptorPool {\n    \
            static POOL: std::sync::OnceLock<prost_reflect::DescriptorPool> = std::sync::OnceLock::new();\n    \
            POOL.get_or_init(|| {\n        \
                prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET)\n            \
                    .expect(\"kitgen wrote descriptors that decode\")\n    \
            })\n\
        }\n";
    for chunk in bytes.chunks(32) {
        for &b in chunk {
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                // A space or tab starting a line would be eaten by the
                // line continuation: escape them always.
                0x21..=0x7e => out.push(b as char),
                _ => out.push_str(&format!("\\x{b:02x}")),
            }
        }
        out.push_str("\\\n");
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_descriptors_hold_any_and_decode() {
        let compiled =
            crate::frontend::proto::compile_source("addsvc.proto", crate::pipeline::STARTER_PROTO)
                .unwrap();
        let set = FileDescriptorSet::decode(compiled.descriptor_set.as_slice()).unwrap();
        assert!(set.file.iter().all(|f| f.name() != ANY_PROTO));
        let embedded = embedded_set(&set);
        assert_eq!(embedded.file[0].name(), ANY_PROTO);
        assert!(embedded.file.iter().all(|f| f.source_code_info.is_none()));
        let pool = prost_reflect::DescriptorPool::from_file_descriptor_set(embedded).unwrap();
        assert!(pool.get_message_by_name("google.protobuf.Any").is_some());
        assert!(pool.get_service_by_name("addsvc.Add").is_some());
    }

    #[test]
    fn the_descriptor_text_is_a_byte_string_of_exactly_the_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = descriptor_text(&bytes);
        let start = text.find("b\"\\\n").unwrap() + 4;
        let end = text.rfind("\";").unwrap();
        let mut decoded = Vec::new();
        let mut chars = text[start..end].bytes().peekable();
        while let Some(c) = chars.next() {
            if c == b'\\' {
                match chars.next().unwrap() {
                    b'\n' => {}
                    b'x' => {
                        let hex = [chars.next().unwrap(), chars.next().unwrap()];
                        decoded.push(
                            u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap(),
                        );
                    }
                    other => decoded.push(other),
                }
            } else {
                decoded.push(c);
            }
        }
        assert_eq!(decoded, bytes);
    }
}
