//! The .proto frontend: protox parses and links (no protoc), prost-reflect reads
//! custom options such as `google.api.http`, and source info gives doc comments.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use prost_reflect::{
    Cardinality as PbCardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind,
    MessageDescriptor, ServiceDescriptor, Value,
};
use protox::file::{
    ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver,
};

use prost_types::SourceCodeInfo;

use super::source_info::{self, SetAside, SlimResolver};
use crate::diagnostic::{self, Diagnostic};
use crate::ir;

/// google/api protos kitgen resolves without the user supplying them.
const EMBEDDED_GOOGLE_API: &[(&str, &str)] = &[
    (
        "google/api/annotations.proto",
        include_str!("google_api/google/api/annotations.proto"),
    ),
    (
        "google/api/http.proto",
        include_str!("google_api/google/api/http.proto"),
    ),
];

/// What the user asked to compile.
#[derive(Debug, Clone, Default)]
pub struct ProtoInput {
    /// `--proto` paths as given (on disk), or names relative to an include root.
    pub files: Vec<PathBuf>,
    /// `-I` roots. Empty means: each file's own directory.
    pub includes: Vec<PathBuf>,
}

/// A compiled proto input: the IR plus what the protobuf plugins need.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub api: ir::Api,
    /// Encoded FileDescriptorSet of every file, dependencies first, options and source info kept.
    pub descriptor_set: Vec<u8>,
    /// Proto file names but the protobuf runtime's own: the target decides
    /// which of them it generates and which it imports from published code.
    pub project_files: Vec<String>,
}

/// In-memory files (the built-in starter, the google/api protos).
struct EmbeddedResolver {
    files: Vec<(String, String)>,
}

impl FileResolver for EmbeddedResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.iter().find(|(n, _)| n == name) {
            Some((n, source)) => File::from_source(n, source),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Reads edition 2023 files that keep proto3's semantics as proto3.
///
/// protox does not parse editions yet (andrewhickman/protox#31). Edition 2023
/// with the file-wide feature `field_presence = IMPLICIT` and no other feature
/// is exactly proto3 (open enums, packed repeated fields, UTF-8 checks), so
/// such a file is rewritten in place, keeping every line where it was so that
/// diagnostics still point at the user's text. Any other use of editions is
/// refused with a located error rather than guessed at.
///
/// It wraps protox's include resolver, which parses as it opens, so the text
/// must be looked at before.
struct EditionsBridge {
    include: PathBuf,
    inner: IncludeFileResolver,
    /// protox's error type is opaque, so the located error travels here.
    refused: RefusedEdition,
}

type RefusedEdition = std::sync::Arc<std::sync::Mutex<Option<EditionError>>>;

impl FileResolver for EditionsBridge {
    fn resolve_path(&self, path: &Path) -> Option<String> {
        self.inner.resolve_path(path)
    }

    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        let Ok(source) = std::fs::read_to_string(self.include.join(name)) else {
            // Missing or unreadable: protox reports it its own way.
            return self.inner.open_file(name);
        };
        // A UTF-8 byte order mark is skipped, as protoc does.
        let bom = source.starts_with('\u{feff}');
        let source = source.strip_prefix('\u{feff}').unwrap_or(&source);
        match too_deep(source).map_or_else(|| bridge_edition(source), Err) {
            Ok(None) if bom => File::from_source(name, source),
            Ok(None) => self.inner.open_file(name),
            Ok(Some(rewritten)) => File::from_source(name, &rewritten),
            Err((offset, len, message)) => {
                let err = EditionError {
                    file: name.to_string(),
                    source: source.to_string(),
                    offset,
                    len,
                    message,
                };
                let opaque = protox::Error::new(err.message.clone());
                *self.refused.lock().expect("not poisoned") = Some(err);
                Err(opaque)
            }
        }
    }
}

/// An editions feature kitgen cannot read, located in its source.
#[derive(Debug)]
pub(crate) struct EditionError {
    pub file: String,
    pub source: String,
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// How deep braces, brackets and parentheses may nest in a .proto: real
/// files stay under 10; the parser recurses per level and would overflow
/// its stack thousands of levels down.
const MAX_NESTING: usize = 64;

/// The first bracket past [`MAX_NESTING`] levels, outside comments and
/// strings, as a refusal.
fn too_deep(source: &str) -> Option<(usize, usize, String)> {
    let bytes = source.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |n| i + 2 + n + 1);
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((i, 1, format!("nesting deeper than {MAX_NESTING} levels")));
                }
            }
            b'}' | b']' | b')' | b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Returns the proto3 rewrite of an edition file, `None` for other files, or
/// the offset, length and reason of what cannot be bridged.
fn bridge_edition(source: &str) -> Result<Option<String>, (usize, usize, String)> {
    let Some(edition_at) = find_statement(source, "edition") else {
        return Ok(None);
    };
    let statement_end = source[edition_at..]
        .find(';')
        .map_or(source.len(), |i| edition_at + i + 1);
    let statement = &source[edition_at..statement_end];
    if !statement.contains("\"2023\"") {
        return Err((
            edition_at,
            statement.len(),
            format!("kitgen reads edition 2023 only, not `{}`", statement.trim()),
        ));
    }
    let implicit = "option features.field_presence = IMPLICIT;";
    let Some(implicit_at) = source.find(implicit) else {
        return Err((
            edition_at,
            statement.len(),
            "edition 2023 files need `option features.field_presence = IMPLICIT;`: kitgen's \
             parser (protox) has no editions support yet, and only that form equals proto3"
                .to_string(),
        ));
    };
    let mut rewritten = String::with_capacity(source.len());
    rewritten.push_str(&source[..edition_at]);
    // Compact so that it fits in the place of `edition = "2023";`.
    rewritten.push_str(&pad_to("syntax=\"proto3\";", statement));
    rewritten.push_str(&source[statement_end..implicit_at]);
    rewritten.push_str(&" ".repeat(implicit.len()));
    rewritten.push_str(&source[implicit_at + implicit.len()..]);
    if let Some(other) = find_code(&rewritten, "features.") {
        return Err((
            other,
            "features.".len(),
            "kitgen reads edition 2023 files whose only feature is the file-wide \
             `field_presence = IMPLICIT`: protox, its parser, has no editions support yet"
                .to_string(),
        ));
    }
    Ok(Some(rewritten))
}

/// Replaces `original` by `text` padded to the same length, keeping its
/// newlines, so every later offset, line and column stays where it was.
fn pad_to(text: &str, original: &str) -> String {
    let newlines = original.matches('\n').count();
    let width = original.len().saturating_sub(newlines);
    format!("{text:<width$}{}", "\n".repeat(newlines))
}

/// The offset of a statement starting with `keyword` outside comments.
fn find_statement(source: &str, keyword: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_code(&source[from..], keyword).map(|i| i + from) {
        let before_ok = at == 0 || source[..at].ends_with(|c: char| c.is_whitespace() || c == ';');
        let after = source[at + keyword.len()..].trim_start();
        // `edition = "2023";` takes a string; `string edition = 17;` is a field.
        let value = after.strip_prefix('=').map(str::trim_start);
        if before_ok && value.is_some_and(|v| v.starts_with(['"', '\''])) {
            return Some(at);
        }
        from = at + keyword.len();
    }
    None
}

/// Finds `needle` outside comments and string literals.
fn find_code(source: &str, needle: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if source[i..].starts_with("//") {
            i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if source[i..].starts_with("/*") {
            i = source[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
        } else if bytes[i] == b'"' || bytes[i] == b'\'' {
            let quote = bytes[i];
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if source[i..].starts_with(needle) {
            return Some(i);
        } else {
            i += source[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// Compiles proto files from disk.
pub fn compile(input: &ProtoInput) -> Result<Compiled, Diagnostic> {
    compile_files(input, true)
}

/// `slim`: build the pool with the source info set aside (see source_info.rs).
fn compile_files(input: &ProtoInput, slim: bool) -> Result<Compiled, Diagnostic> {
    if input.files.is_empty() {
        return Err(Diagnostic::new("no .proto file given").with_help("pass --proto FILE"));
    }
    let mut includes = input.includes.clone();
    if includes.is_empty() {
        // protoc's rule without -I: each file's own directory is its root.
        for file in &input.files {
            let dir = file
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !includes.iter().any(|i| i == dir) {
                includes.push(dir.to_path_buf());
            }
        }
    }
    for include in &includes {
        if !include.is_dir() {
            return Err(Diagnostic::new(format!(
                "include directory '{}' does not exist",
                include.display()
            ))
            .with_help("-I takes a directory that holds .proto files"));
        }
    }
    for file in &input.files {
        if file.extension().and_then(|e| e.to_str()) != Some("proto") {
            return Err(
                Diagnostic::new(format!("'{}' is not a .proto file", file.display()))
                    .at_file(file.display().to_string()),
            );
        }
        if !file.is_file() && !includes.iter().any(|i| i.join(file).is_file()) {
            return Err(
                Diagnostic::new(format!("file '{}' not found", file.display())).with_help(
                    "check the path; --proto takes a file on disk or a name relative to an -I root",
                ),
            );
        }
    }
    let refused = RefusedEdition::default();
    let make_resolver = || {
        let mut resolver = ChainFileResolver::new();
        for include in &includes {
            resolver.add(EditionsBridge {
                include: include.clone(),
                inner: IncludeFileResolver::new(include.clone()),
                refused: std::sync::Arc::clone(&refused),
            });
        }
        resolver
    };
    compile_with(&make_resolver, &input.files, Vec::new(), &refused, slim)
        .map_err(|d| locate_eof(d, &includes))
}

/// protox reports an unexpected end of file without a span: point at the
/// file's last character, which is where the parser stopped.
fn locate_eof(d: Diagnostic, includes: &[PathBuf]) -> Diagnostic {
    let unlocated = d.location.as_ref().is_none_or(|l| l.line_col.is_none());
    if !unlocated || !d.message.ends_with("reached end of file") {
        return d;
    }
    let Some(file) = d.location.as_ref().map(|l| l.file.clone()) else {
        return d;
    };
    let Some(source) = includes
        .iter()
        .find_map(|i| std::fs::read_to_string(i.join(&file)).ok())
    else {
        return d;
    };
    let end = source.trim_end().len();
    let last = source[..end].chars().next_back().map_or(0, char::len_utf8);
    let help = d.help.clone();
    let mut located = Diagnostic::new(d.message).at_offset(&file, &source, end - last, last.max(1));
    located.help = help.or_else(|| Some("a '}' or ';' is probably missing".into()));
    located
}

/// Compiles a proto held in memory (the built-in starter) under the given name.
pub fn compile_source(name: &str, source: &str) -> Result<Compiled, Diagnostic> {
    compile_with(
        &ChainFileResolver::new,
        &[PathBuf::from(name)],
        vec![(name.to_string(), source.to_string())],
        &RefusedEdition::default(),
        true,
    )
}

fn compile_with(
    make_resolver: &dyn Fn() -> ChainFileResolver,
    files: &[PathBuf],
    extra: Vec<(String, String)>,
    refused: &RefusedEdition,
    slim: bool,
) -> Result<Compiled, Diagnostic> {
    let mut embedded: Vec<(String, String)> = extra;
    embedded.extend(
        EMBEDDED_GOOGLE_API
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string())),
    );
    let resolver = || {
        let mut resolver = make_resolver();
        resolver.add(EmbeddedResolver {
            files: embedded.clone(),
        });
        resolver.add(GoogleFileResolver::new());
        resolver
    };

    // The pool is built with the source info set aside (see source_info.rs),
    // which is linear; anything unusual takes protox's own way, which also
    // locates errors.
    let aside = SetAside::default();
    let fast = slim
        .then(|| {
            open_all(
                SlimResolver {
                    inner: resolver(),
                    aside: aside.clone(),
                },
                files,
                refused,
            )
        })
        .and_then(Result::ok)
        .filter(|_| !shadowed(&resolver(), &aside, files))
        .and_then(|compiler| {
            let pool = compiler.descriptor_pool();
            let infos = aside.merge(&pool)?;
            let set = source_info::splice(&compiler.encode_file_descriptor_set(), &infos)?;
            Some((compiler, pool, set, infos))
        });
    let (compiler, pool, descriptor_set, infos) = match fast {
        Some(fast) => fast,
        None => {
            refused.lock().expect("not poisoned").take();
            let compiler = open_all(resolver(), files, refused)?;
            let pool = compiler.descriptor_pool();
            let set = compiler.encode_file_descriptor_set();
            let infos = pool
                .files()
                .filter_map(|f| {
                    let info = f.file_descriptor_proto().source_code_info.clone()?;
                    Some((f.name().to_string(), info))
                })
                .collect();
            (compiler, pool, set, infos)
        }
    };
    let opened: Vec<String> = compiler
        .files()
        .filter(|meta| !meta.is_import())
        .map(|meta| meta.name().to_string())
        .collect();
    if let Some((file, path)) = too_deep_http_rule(&descriptor_set) {
        let d = Diagnostic::new(format!(
            "google.api.http rule nests more than {MAX_HTTP_RULE_DEPTH} levels deep"
        ))
        .with_help("additional_bindings may not have additional_bindings of their own");
        let span = infos.get(&file).and_then(|info| {
            info.location
                .iter()
                .find(|l| l.path == path && l.span.len() >= 2)
                .map(|l| (l.span[0] as usize + 1, l.span[1] as usize + 1))
        });
        return Err(d.at_position(file, span));
    }
    let project_files = project_files(&pool);
    let api = Lowering::new(&pool, &infos, &opened, &project_files).lower()?;
    Ok(Compiled {
        api,
        descriptor_set,
        project_files,
    })
}

/// Opens every file the user named.
fn open_all(
    resolver: impl FileResolver + 'static,
    files: &[PathBuf],
    refused: &RefusedEdition,
) -> Result<protox::Compiler, Diagnostic> {
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    for file in files {
        compiler.open_file(file).map_err(|e| {
            match refused.lock().expect("not poisoned").take() {
                Some(edition) => Diagnostic::new(edition.message).at_offset(
                    &edition.file,
                    &edition.source,
                    edition.offset,
                    edition.len,
                ),
                None => protox_diagnostic(&e, &file.display().to_string()),
            }
        })?;
    }
    Ok(compiler)
}

/// protox's check, skipped when it cannot see paths: a file named by its path
/// must be the one its name resolves to, not one of an earlier include root.
fn shadowed(resolver: &ChainFileResolver, aside: &SetAside, files: &[PathBuf]) -> bool {
    fn parts(p: &Path) -> Vec<std::path::Component<'_>> {
        p.components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect()
    }
    files.iter().any(|file| {
        resolver
            .resolve_path(file)
            .and_then(|name| aside.path_of(&name))
            .is_some_and(|found| parts(&found) != parts(file))
    })
}

/// How deep `additional_bindings` may nest before kitgen refuses the rule:
/// prost-reflect stops decoding options at 100 levels (with a panic).
const MAX_HTTP_RULE_DEPTH: usize = 32;

/// Finds a method whose `google.api.http` rule nests too deep, by reading
/// the encoded descriptors directly (decoding it would fail): the file and
/// the method's source path.
fn too_deep_http_rule(set: &[u8]) -> Option<(String, Vec<i32>)> {
    const HTTP_EXTENSION: u64 = 72295728;
    for file in wire_fields(set).filter(|(n, _)| *n == 1) {
        let fields: Vec<(u64, &[u8])> = wire_fields(file.1).collect();
        let name = fields
            .iter()
            .find(|(n, _)| *n == 1)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        for (si, service) in fields.iter().filter(|(n, _)| *n == 6).enumerate() {
            for (mi, method) in wire_fields(service.1).filter(|(n, _)| *n == 2).enumerate() {
                for options in wire_fields(method.1).filter(|(n, _)| *n == 4) {
                    for rule in wire_fields(options.1).filter(|(n, _)| *n == HTTP_EXTENSION) {
                        if http_rule_depth(rule.1, 0) > MAX_HTTP_RULE_DEPTH {
                            return Some((name, vec![6, si as i32, 2, mi as i32]));
                        }
                    }
                }
            }
        }
    }
    None
}

/// The nesting depth of an encoded HttpRule's additional_bindings (field
/// 11), counting no further than the limit.
fn http_rule_depth(rule: &[u8], depth: usize) -> usize {
    if depth > MAX_HTTP_RULE_DEPTH {
        return depth;
    }
    wire_fields(rule)
        .filter(|(n, _)| *n == 11)
        .map(|(_, b)| http_rule_depth(b, depth + 1))
        .max()
        .unwrap_or(depth)
}

/// The length-delimited fields of an encoded protobuf message, as (field
/// number, bytes); other wire types are skipped, and malformed input ends
/// the iteration.
fn wire_fields(mut buf: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = buf.split_first()?;
            *buf = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    std::iter::from_fn(move || {
        loop {
            let key = varint(&mut buf)?;
            match key & 7 {
                0 => {
                    varint(&mut buf)?;
                }
                1 => buf = buf.get(8..)?,
                5 => buf = buf.get(4..)?,
                2 => {
                    let len = usize::try_from(varint(&mut buf)?).ok()?;
                    let (field, rest) = (buf.get(..len)?, buf.get(len..)?);
                    buf = rest;
                    return Some((key >> 3, field));
                }
                _ => return None,
            }
        }
    })
}

fn protox_diagnostic(err: &protox::Error, fallback: &str) -> Diagnostic {
    let file = err.file().unwrap_or(fallback).to_string();
    let mut d = diagnostic::from_miette(err, Some(&file));
    if d.location.is_none() {
        d = d.at_file(file);
    }
    if err.is_file_not_found() && d.help.is_none() {
        d.help = Some("add the directory that holds it with -I DIR".into());
    }
    d
}

/// Every file in the pool but the protobuf runtime's own (the well-known
/// types): the backend decides which of them it generates and which it
/// imports from published code.
fn project_files(pool: &DescriptorPool) -> Vec<String> {
    pool.files()
        .filter(|f| !f.name().starts_with("google/protobuf/"))
        .map(|f| f.name().to_string())
        .collect()
}

/// Doc comments and declaration positions of one file, keyed by source path.
struct Comments(HashMap<Vec<i32>, String>, HashMap<Vec<i32>, (usize, usize)>);

impl Comments {
    fn of(info: Option<&SourceCodeInfo>) -> Self {
        let mut map = HashMap::new();
        let mut positions = HashMap::new();
        if let Some(info) = info {
            for loc in &info.location {
                if loc.span.len() >= 2 {
                    positions.insert(
                        loc.path.clone(),
                        (loc.span[0] as usize + 1, loc.span[1] as usize + 1),
                    );
                }
                if let Some(text) = &loc.leading_comments {
                    map.insert(loc.path.clone(), clean_comment(text));
                } else if let Some(text) = &loc.trailing_comments {
                    map.entry(loc.path.clone())
                        .or_insert_with(|| clean_comment(text));
                }
            }
        }
        Comments(map, positions)
    }

    fn get(&self, path: &[i32]) -> String {
        self.0.get(path).cloned().unwrap_or_default()
    }
}

/// Strips the single leading space protoc leaves on each comment line and
/// surrounding blank lines.
fn clean_comment(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |i| i + 1);
    lines[start..end].join("\n")
}

struct Lowering<'a> {
    pool: &'a DescriptorPool,
    /// Each file's source info (the pool may hold only part of it).
    infos: &'a HashMap<String, SourceCodeInfo>,
    opened: &'a [String],
    project_files: &'a [String],
    comments: HashMap<String, Comments>,
}

impl<'a> Lowering<'a> {
    fn new(
        pool: &'a DescriptorPool,
        infos: &'a HashMap<String, SourceCodeInfo>,
        opened: &'a [String],
        project_files: &'a [String],
    ) -> Self {
        let comments = pool
            .files()
            .map(|f| (f.name().to_string(), Comments::of(infos.get(f.name()))))
            .collect();
        Lowering {
            pool,
            infos,
            opened,
            project_files,
            comments,
        }
    }

    fn position(&self, file: &str, path: &[i32]) -> Option<(usize, usize)> {
        self.comments.get(file).and_then(|c| c.1.get(path).copied())
    }

    fn doc(&self, file: &str, path: &[i32]) -> String {
        self.comments
            .get(file)
            .map(|c| c.get(path))
            .unwrap_or_default()
    }

    fn lower(&self) -> Result<ir::Api, Diagnostic> {
        let mut api = ir::Api::default();
        for file in self.pool.files() {
            let mut options = Vec::new();
            let mut option_positions = Vec::new();
            let proto = file.file_descriptor_proto();
            if let Some(o) = &proto.options {
                // FileDescriptorProto.options is field 8; the numbers are FileOptions'.
                for (name, number, value) in [
                    ("go_package", 11, &o.go_package),
                    ("java_package", 1, &o.java_package),
                    ("csharp_namespace", 37, &o.csharp_namespace),
                    ("objc_class_prefix", 36, &o.objc_class_prefix),
                    ("php_namespace", 41, &o.php_namespace),
                    ("ruby_package", 45, &o.ruby_package),
                    ("swift_prefix", 39, &o.swift_prefix),
                ] {
                    if let Some(v) = value {
                        options.push((name.to_string(), v.clone()));
                        if let Some((line, col)) = self.position(file.name(), &[8, number]) {
                            option_positions.push((name.to_string(), line, col));
                        }
                    }
                }
            }
            options.sort();
            option_positions.sort();
            api.files.push(ir::SourceFile {
                name: file.name().to_string(),
                package: file.package_name().to_string(),
                imports: file.dependencies().map(|d| d.name().to_string()).collect(),
                in_project: self.project_files.iter().any(|n| n == file.name()),
                options,
                option_positions,
            });
        }
        for file in self.pool.files() {
            for message in file.messages() {
                self.lower_message(&message, &mut api);
            }
            for en in file.enums() {
                api.enums.push(self.lower_enum(&en));
            }
        }
        for file in self.pool.files() {
            // Services come only from the files the user named.
            if !self.opened.iter().any(|n| n == file.name()) {
                continue;
            }
            for service in file.services() {
                api.services.push(self.lower_service(&service)?);
            }
        }
        Ok(api)
    }

    fn lower_message(&self, message: &MessageDescriptor, api: &mut ir::Api) {
        let file = message.parent_file().name().to_string();
        let oneofs: Vec<_> = message.oneofs().filter(|o| !o.is_synthetic()).collect();
        let behavior_ext = self.pool.get_extension_by_name("google.api.field_behavior");
        let fields = message
            .fields()
            .map(|field| ir::Field {
                json_name: field.json_name().to_string(),
                behavior: field_behavior(&field, behavior_ext.as_ref()),
                name: field.name().to_string(),
                number: field.number() as i32,
                doc: self.doc(&file, field.path()),
                ty: field_type(&field),
                cardinality: cardinality(&field),
                oneof: field
                    .containing_oneof()
                    .filter(|o| !o.is_synthetic())
                    .and_then(|o| oneofs.iter().position(|x| x.full_name() == o.full_name())),
                synthetic_oneof: field
                    .containing_oneof()
                    .filter(|o| o.is_synthetic())
                    .map(|o| o.name().to_string()),
                position: self.position(&file, field.path()),
            })
            .collect();
        api.messages.push(ir::Message {
            name: message.name().to_string(),
            full_name: message.full_name().to_string(),
            file: file.clone(),
            doc: self.doc(&file, message.path()),
            fields,
            oneofs: oneofs
                .iter()
                .map(|o| ir::Oneof {
                    name: o.name().to_string(),
                    doc: self.doc(&file, o.path()),
                })
                .collect(),
            map_entry: message.is_map_entry(),
            position: self.position(&file, message.path()),
        });
        for nested in message.child_messages() {
            self.lower_message(&nested, api);
        }
        for en in message.child_enums() {
            api.enums.push(self.lower_enum(&en));
        }
    }

    fn lower_enum(&self, en: &EnumDescriptor) -> ir::Enum {
        let file = en.parent_file().name().to_string();
        ir::Enum {
            name: en.name().to_string(),
            full_name: en.full_name().to_string(),
            file: file.clone(),
            doc: self.doc(&file, en.path()),
            position: self.position(&file, en.path()),
            values: en
                .values()
                .map(|v| ir::EnumValue {
                    name: v.name().to_string(),
                    number: v.number(),
                    doc: self.doc(&file, v.path()),
                })
                .collect(),
        }
    }

    fn lower_service(&self, service: &ServiceDescriptor) -> Result<ir::Service, Diagnostic> {
        let file = service.parent_file();
        let file_name = file.name().to_string();
        let http_ext = self.pool.get_extension_by_name("google.api.http");
        let mut methods = Vec::new();
        for method in service.methods() {
            let mut http = Vec::new();
            if let Some(ext) = &http_ext {
                let options = method.options();
                if options.has_extension(ext)
                    && let Value::Message(rule) = options.get_extension(ext).as_ref()
                {
                    let locate = |msg: String| self.locate(&file_name, method.path(), msg);
                    let messages = (&method.input(), &method.output());
                    collect_http_rules(rule, &mut http, &locate, messages, false)?;
                }
            }
            methods.push(ir::Method {
                name: method.name().to_string(),
                doc: self.doc(&file_name, method.path()),
                input: method.input().full_name().to_string(),
                output: method.output().full_name().to_string(),
                client_streaming: method.is_client_streaming(),
                server_streaming: method.is_server_streaming(),
                http,
                // NO_SIDE_EFFECTS (1) or IDEMPOTENT (2).
                idempotent: method
                    .method_descriptor_proto()
                    .options
                    .as_ref()
                    .and_then(|o| o.idempotency_level)
                    .is_some_and(|level| level != 0),
                position: self.position(&file_name, method.path()),
            });
        }
        Ok(ir::Service {
            name: service.name().to_string(),
            full_name: service.full_name().to_string(),
            package: service.package_name().to_string(),
            file: file_name.clone(),
            doc: self.doc(&file_name, service.path()),
            methods,
            position: self.position(&file_name, service.path()),
        })
    }

    /// A diagnostic pointing at the declaration with the given source path.
    fn locate(&self, file: &str, path: &[i32], message: String) -> Diagnostic {
        let span = self.infos.get(file).and_then(|info| {
            info.location
                .iter()
                .find(|l| l.path == path)
                .map(|l| (l.span[0] as usize + 1, l.span[1] as usize + 1))
        });
        Diagnostic::new(message).at_position(file, span)
    }
}

fn collect_http_rules(
    rule: &prost_reflect::DynamicMessage,
    out: &mut Vec<ir::HttpRule>,
    locate: &dyn Fn(String) -> Diagnostic,
    (input, output): (&MessageDescriptor, &MessageDescriptor),
    nested: bool,
) -> Result<(), Diagnostic> {
    let string = |name: &str| {
        rule.get_field_by_name(name)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let mut binding = None;
    for verb in ["get", "put", "post", "delete", "patch"] {
        if rule.has_field_by_name(verb) {
            binding = Some((verb.to_ascii_uppercase(), string(verb)));
        }
    }
    if rule.has_field_by_name("custom")
        && let Some(Value::Message(custom)) = rule.get_field_by_name("custom").as_deref()
    {
        let get = |n: &str| {
            custom
                .get_field_by_name(n)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let kind = get("kind");
        // An HTTP method is a token (RFC 9110): no spaces, no separators.
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if kind.is_empty() || !kind.chars().all(token) {
            return Err(locate(format!(
                "google.api.http custom kind {kind:?} is not an HTTP method name"
            )));
        }
        binding = Some((kind.to_ascii_uppercase(), get("path")));
    }
    let Some((verb, path)) = binding else {
        return Err(locate(
            "google.api.http rule has no pattern (get, put, post, delete, patch or custom)".into(),
        ));
    };
    let body = Some(string("body")).filter(|b| !b.is_empty());
    let response_body = Some(string("response_body")).filter(|b| !b.is_empty());
    let parsed = crate::ir::path_template::parse(&path)
        .map_err(|e| locate(format!("invalid HTTP path template '{path}': {e}")))?;
    for var in &parsed.variables() {
        check_field_path(input, var, false)
            .map_err(|e| locate(format!("HTTP path '{path}' binds '{var}': {e}")))?;
    }
    if let Some(b) = body.as_deref().filter(|b| *b != "*") {
        if b.contains('.') {
            return Err(locate(format!(
                "HTTP body '{b}' must name a top-level field of the request"
            )));
        }
        check_field_path(input, b, true).map_err(|e| locate(format!("HTTP body '{b}': {e}")))?;
    }
    let variables = parsed.variables();
    let mut bound: Vec<&str> = variables.iter().map(String::as_str).collect();
    if let Some(b) = body.as_deref().filter(|b| *b != "*") {
        bound.push(b);
    }
    one_field_per_oneof(input, &bound).map_err(|e| locate(format!("HTTP path '{path}': {e}")))?;
    if body.is_some() && matches!(verb.as_str(), "GET" | "DELETE") {
        return Err(locate(format!(
            "HTTP {verb} '{path}' has a body: {verb} requests carry none, bind fields in the path or query"
        )));
    }
    if let Some(b) = response_body.as_deref() {
        if b.contains('.') {
            return Err(locate(format!(
                "HTTP response_body '{b}' must name a top-level field of the response"
            )));
        }
        if output.get_field_by_name(b).is_none() {
            return Err(locate(format!(
                "HTTP response_body '{b}': '{}' has no field '{b}'",
                output.full_name()
            )));
        }
    }
    out.push(ir::HttpRule {
        verb,
        path,
        template: parsed,
        body,
        response_body,
    });
    if let Some(Value::List(extra)) = rule.get_field_by_name("additional_bindings").as_deref() {
        if nested && !extra.is_empty() {
            // http.proto allows them at the top level only, which also
            // bounds the recursion.
            return Err(locate(
                "google.api.http additional_bindings may not have additional_bindings of their own"
                    .into(),
            ));
        }
        for value in extra {
            if let Value::Message(m) = value {
                collect_http_rules(m, out, locate, (input, output), true)?;
            }
        }
    }
    Ok(())
}

/// Refuses a rule whose path variables and body field set two fields of one
/// oneof (`{id}` and `{name}` of `oneof key`): a request holds only one of
/// them, so the route could never be called with both.
fn one_field_per_oneof(message: &MessageDescriptor, paths: &[&str]) -> Result<(), String> {
    // (path of the message, oneof) → the field path that set it.
    let mut set: HashMap<(String, String), (String, &str)> = HashMap::new();
    for path in paths {
        let mut current = message.clone();
        let mut prefix = String::new();
        for part in path.split('.') {
            let Some(field) = current.get_field_by_name(part) else {
                break;
            };
            if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
                let key = (prefix.clone(), oneof.name().to_string());
                match set.get(&key) {
                    Some((other, other_path)) if *other != field.name() => {
                        return Err(format!(
                            "'{other_path}' and '{path}' are both in oneof '{}' of '{}': a request sets only one of them",
                            oneof.name(),
                            current.full_name()
                        ));
                    }
                    _ => {
                        set.insert(key, (field.name().to_string(), path));
                    }
                }
            }
            if !prefix.is_empty() {
                prefix.push('.');
            }
            prefix.push_str(part);
            match field.kind() {
                Kind::Message(m) => current = m,
                _ => break,
            }
        }
    }
    Ok(())
}

/// Checks that a dotted field path names a singular field of `message`
/// (a message field when `want_message`, else a scalar or enum).
fn check_field_path(
    message: &MessageDescriptor,
    path: &str,
    allow_message: bool,
) -> Result<(), String> {
    let mut current = message.clone();
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let field = current
            .get_field_by_name(part)
            .ok_or_else(|| format!("'{}' has no field '{part}'", current.full_name()))?;
        let last = i + 1 == parts.len();
        if field.is_list() || field.is_map() {
            if last && allow_message {
                return Ok(());
            }
            return Err(format!("field '{part}' is repeated"));
        }
        match field.kind() {
            Kind::Message(m) if !last => current = m,
            // The well-known messages whose JSON form is a string or a
            // number (wrappers, Timestamp, Duration, FieldMask) fit in a
            // path segment, as grpc-gateway reads them.
            Kind::Message(m)
                if last
                    && !allow_message
                    && !crate::ir::binding::is_json_scalar_message(m.full_name()) =>
            {
                return Err(format!(
                    "field '{part}' is a message; path variables must be scalars \
                     or well-known types whose JSON is a string or number"
                ));
            }
            _ if !last => return Err(format!("field '{part}' is not a message")),
            _ => {}
        }
    }
    Ok(())
}

/// Reads `google.api.field_behavior` (a repeated enum option) when the pool
/// knows the extension, that is when the field's file imports it.
fn field_behavior(
    field: &FieldDescriptor,
    ext: Option<&prost_reflect::ExtensionDescriptor>,
) -> ir::FieldBehavior {
    let mut behavior = ir::FieldBehavior::default();
    let Some(ext) = ext else {
        return behavior;
    };
    let options = field.options();
    if !options.has_extension(ext) {
        return behavior;
    }
    if let Value::List(values) = options.get_extension(ext).as_ref() {
        for value in values {
            // REQUIRED = 2, OUTPUT_ONLY = 3, INPUT_ONLY = 4 in field_behavior.proto.
            match value.as_enum_number() {
                Some(2) => behavior.required = true,
                Some(3) => behavior.output_only = true,
                Some(4) => behavior.input_only = true,
                _ => {}
            }
        }
    }
    behavior
}

fn cardinality(field: &FieldDescriptor) -> ir::Cardinality {
    match field.cardinality() {
        PbCardinality::Repeated => ir::Cardinality::Repeated,
        PbCardinality::Required => ir::Cardinality::Required,
        PbCardinality::Optional => {
            if field.supports_presence()
                && !matches!(field.kind(), Kind::Message(_))
                && field.containing_oneof().is_none_or(|o| o.is_synthetic())
            {
                ir::Cardinality::Optional
            } else {
                ir::Cardinality::Single
            }
        }
    }
}

fn field_type(field: &FieldDescriptor) -> ir::FieldType {
    if field.is_map()
        && let Kind::Message(entry) = field.kind()
    {
        let key = entry.map_entry_key_field();
        let value = entry.map_entry_value_field();
        let key = match kind_type(&key.kind()) {
            ir::FieldType::Scalar(s) => s,
            _ => ir::Scalar::String,
        };
        return ir::FieldType::Map(key, Box::new(kind_type(&value.kind())));
    }
    kind_type(&field.kind())
}

fn kind_type(kind: &Kind) -> ir::FieldType {
    use ir::Scalar as S;
    ir::FieldType::Scalar(match kind {
        Kind::Double => S::Double,
        Kind::Float => S::Float,
        Kind::Int32 => S::Int32,
        Kind::Int64 => S::Int64,
        Kind::Uint32 => S::Uint32,
        Kind::Uint64 => S::Uint64,
        Kind::Sint32 => S::Sint32,
        Kind::Sint64 => S::Sint64,
        Kind::Fixed32 => S::Fixed32,
        Kind::Fixed64 => S::Fixed64,
        Kind::Sfixed32 => S::Sfixed32,
        Kind::Sfixed64 => S::Sfixed64,
        Kind::Bool => S::Bool,
        Kind::String => S::String,
        Kind::Bytes => S::Bytes,
        Kind::Message(m) => return ir::FieldType::Message(m.full_name().to_string()),
        Kind::Enum(e) => return ir::FieldType::Enum(e.full_name().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implicit_presence_edition_reads_as_proto3_on_the_same_lines() {
        let src = "// c\nedition = \"2023\";\n\noption features.field_presence = IMPLICIT;\nmessage A { int32 x = 1; }\n";
        let out = bridge_edition(src).unwrap().unwrap();
        assert!(out.contains("syntax=\"proto3\";"));
        assert_eq!(out.len(), src.len());
        assert!(!out.contains("features"));
        assert_eq!(out.lines().count(), src.lines().count());
        assert_eq!(out.lines().nth(4), src.lines().nth(4));
    }

    #[test]
    fn other_editions_are_refused_with_a_location() {
        let explicit = "edition = \"2023\";\nmessage A { int32 x = 1; }\n";
        let (at, _, msg) = bridge_edition(explicit).unwrap_err();
        assert_eq!(at, 0);
        assert!(msg.contains("field_presence = IMPLICIT"));
        let field_feature = "edition = \"2023\";\noption features.field_presence = IMPLICIT;\nmessage A { int32 x = 1 [features.field_presence = EXPLICIT]; }\n";
        let (at, _, _) = bridge_edition(field_feature).unwrap_err();
        assert_eq!(&field_feature[at..at + 9], "features.");
        let newer = "edition = \"2024\";\n";
        assert!(bridge_edition(newer).unwrap_err().2.contains("2023 only"));
    }

    /// Every .proto under `dir`, with `dir` as its include root.
    fn protos(dir: &Path) -> Vec<PathBuf> {
        walkdir::WalkDir::new(dir)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "proto"))
            .collect()
    }

    #[test]
    fn setting_source_info_aside_changes_nothing() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut inputs: Vec<ProtoInput> = protos(&root.join("fixtures"))
            .into_iter()
            .map(|file| ProtoInput {
                files: vec![file],
                includes: Vec::new(),
            })
            .collect();
        let googleapis = root.join("../shared/corpus/googleapis");
        for file in protos(&googleapis.join("google/example")) {
            inputs.push(ProtoInput {
                files: vec![file],
                includes: vec![googleapis.clone()],
            });
        }
        let mut compiled = 0;
        for input in &inputs {
            let (slim, plain) = (compile_files(input, true), compile_files(input, false));
            match (slim, plain) {
                (Ok(slim), Ok(plain)) => {
                    assert_eq!(slim.descriptor_set, plain.descriptor_set, "{input:?}");
                    assert_eq!(slim.api, plain.api, "{input:?}");
                    assert_eq!(slim.project_files, plain.project_files);
                    compiled += 1;
                }
                (Err(slim), Err(plain)) => assert_eq!(slim.to_string(), plain.to_string()),
                (slim, plain) => panic!("{input:?}: {:?} vs {:?}", slim.err(), plain.err()),
            }
        }
        assert!(compiled > 5, "only {compiled} compiled");
    }

    #[test]
    fn a_field_named_edition_is_not_an_editions_declaration() {
        let src = "syntax = \"proto3\";\nmessage A {\n  string edition = 17;\n  int32 x = 1 [json_name = \"e\"];\n  Edition edition_2 = 2;\n}\n";
        assert_eq!(bridge_edition(src).unwrap(), None);
    }

    #[test]
    fn proto3_files_are_untouched() {
        assert_eq!(
            bridge_edition("syntax = \"proto3\"; // edition = \"2023\"\n").unwrap(),
            None
        );
    }
}
