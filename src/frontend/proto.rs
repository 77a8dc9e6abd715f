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

/// Go packages that already exist as modules the generated project depends on;
/// files that declare them are imported, never generated into the project.
const EXTERNAL_GO_PACKAGE_PREFIXES: &[&str] = &[
    "google.golang.org/protobuf/",
    "google.golang.org/genproto/googleapis/api/",
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
    /// Proto file names whose Go code belongs in the project.
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

/// Compiles proto files from disk.
pub fn compile(input: &ProtoInput) -> Result<Compiled, Diagnostic> {
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
    let mut resolver = ChainFileResolver::new();
    for include in &includes {
        resolver.add(IncludeFileResolver::new(include.clone()));
    }
    compile_with(resolver, &input.files, Vec::new())
}

/// Compiles a proto held in memory (the built-in starter) under the given name.
pub fn compile_source(name: &str, source: &str) -> Result<Compiled, Diagnostic> {
    compile_with(
        ChainFileResolver::new(),
        &[PathBuf::from(name)],
        vec![(name.to_string(), source.to_string())],
    )
}

fn compile_with(
    mut resolver: ChainFileResolver,
    files: &[PathBuf],
    extra: Vec<(String, String)>,
) -> Result<Compiled, Diagnostic> {
    let mut embedded: Vec<(String, String)> = extra;
    embedded.extend(
        EMBEDDED_GOOGLE_API
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string())),
    );
    resolver.add(EmbeddedResolver { files: embedded });
    resolver.add(GoogleFileResolver::new());

    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    let mut opened = Vec::new();
    for file in files {
        compiler
            .open_file(file)
            .map_err(|e| protox_diagnostic(&e, &file.display().to_string()))?;
    }
    for meta in compiler.files() {
        if !meta.is_import() {
            opened.push(meta.name().to_string());
        }
    }
    let pool = compiler.descriptor_pool();
    let descriptor_set = compiler.encode_file_descriptor_set();
    let project_files = project_files(&pool);
    let api = Lowering::new(&pool, &opened, &project_files).lower()?;
    Ok(Compiled {
        api,
        descriptor_set,
        project_files,
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

/// Every file in the pool whose Go code the project must contain.
fn project_files(pool: &DescriptorPool) -> Vec<String> {
    pool.files()
        .filter(|f| {
            let go_package = f
                .file_descriptor_proto()
                .options
                .as_ref()
                .and_then(|o| o.go_package.clone());
            let external = match &go_package {
                Some(pkg) => EXTERNAL_GO_PACKAGE_PREFIXES
                    .iter()
                    .any(|p| pkg.starts_with(p)),
                None => false,
            };
            !external && !f.name().starts_with("google/protobuf/")
        })
        .map(|f| f.name().to_string())
        .collect()
}

/// Doc comments of one file, keyed by source path.
struct Comments(HashMap<Vec<i32>, String>);

impl Comments {
    fn of(file: &prost_types::FileDescriptorProto) -> Self {
        let mut map = HashMap::new();
        if let Some(info) = &file.source_code_info {
            for loc in &info.location {
                if let Some(text) = &loc.leading_comments {
                    map.insert(loc.path.clone(), clean_comment(text));
                } else if let Some(text) = &loc.trailing_comments {
                    map.entry(loc.path.clone())
                        .or_insert_with(|| clean_comment(text));
                }
            }
        }
        Comments(map)
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
    opened: &'a [String],
    project_files: &'a [String],
    comments: HashMap<String, Comments>,
}

impl<'a> Lowering<'a> {
    fn new(pool: &'a DescriptorPool, opened: &'a [String], project_files: &'a [String]) -> Self {
        let comments = pool
            .files()
            .map(|f| {
                (
                    f.name().to_string(),
                    Comments::of(f.file_descriptor_proto()),
                )
            })
            .collect();
        Lowering {
            pool,
            opened,
            project_files,
            comments,
        }
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
            if let Some(o) = &file.file_descriptor_proto().options {
                for (name, value) in [
                    ("go_package", &o.go_package),
                    ("java_package", &o.java_package),
                    ("csharp_namespace", &o.csharp_namespace),
                    ("objc_class_prefix", &o.objc_class_prefix),
                    ("php_namespace", &o.php_namespace),
                    ("ruby_package", &o.ruby_package),
                    ("swift_prefix", &o.swift_prefix),
                ] {
                    if let Some(v) = value {
                        options.push((name.to_string(), v.clone()));
                    }
                }
            }
            options.sort();
            api.files.push(ir::SourceFile {
                name: file.name().to_string(),
                package: file.package_name().to_string(),
                imports: file.dependencies().map(|d| d.name().to_string()).collect(),
                in_project: self.project_files.iter().any(|n| n == file.name()),
                options,
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
        let fields = message
            .fields()
            .map(|field| ir::Field {
                name: field.name().to_string(),
                number: field.number() as i32,
                doc: self.doc(&file, field.path()),
                ty: field_type(&field),
                cardinality: cardinality(&field),
                oneof: field
                    .containing_oneof()
                    .filter(|o| !o.is_synthetic())
                    .and_then(|o| oneofs.iter().position(|x| x.full_name() == o.full_name())),
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
                if options.has_extension(ext) {
                    if let Value::Message(rule) = options.get_extension(ext).as_ref() {
                        let locate = |msg: String| self.locate(&file_name, method.path(), msg);
                        collect_http_rules(rule, &mut http, &locate, &method.input())?;
                    }
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
            });
        }
        Ok(ir::Service {
            name: service.name().to_string(),
            full_name: service.full_name().to_string(),
            package: service.package_name().to_string(),
            file: file_name.clone(),
            doc: self.doc(&file_name, service.path()),
            methods,
        })
    }

    /// A diagnostic pointing at the declaration with the given source path.
    fn locate(&self, file: &str, path: &[i32], message: String) -> Diagnostic {
        let span = self.pool.get_file_by_name(file).and_then(|f| {
            f.file_descriptor_proto()
                .source_code_info
                .as_ref()
                .and_then(|i| i.location.iter().find(|l| l.path == path))
                .map(|l| (l.span[0] as usize + 1, l.span[1] as usize + 1))
        });
        match span {
            Some((line, col)) => Diagnostic::new(message).at_line_col(file, line, col),
            None => Diagnostic::new(message).at_file(file),
        }
    }
}

fn collect_http_rules(
    rule: &prost_reflect::DynamicMessage,
    out: &mut Vec<ir::HttpRule>,
    locate: &dyn Fn(String) -> Diagnostic,
    input: &MessageDescriptor,
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
    if rule.has_field_by_name("custom") {
        if let Some(Value::Message(custom)) = rule.get_field_by_name("custom").as_deref() {
            let get = |n: &str| {
                custom
                    .get_field_by_name(n)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            binding = Some((get("kind").to_ascii_uppercase(), get("path")));
        }
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
    if let Some(b) = &body {
        if b != "*" {
            check_field_path(input, b, true)
                .map_err(|e| locate(format!("HTTP body '{b}': {e}")))?;
        }
    }
    out.push(ir::HttpRule {
        verb,
        path,
        body,
        response_body,
    });
    if let Some(Value::List(extra)) = rule.get_field_by_name("additional_bindings").as_deref() {
        for value in extra {
            if let Value::Message(m) = value {
                collect_http_rules(m, out, locate, input)?;
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
            Kind::Message(_) if last && !allow_message => {
                return Err(format!(
                    "field '{part}' is a message; path variables must be scalars"
                ));
            }
            _ if !last => return Err(format!("field '{part}' is not a message")),
            _ => {}
        }
    }
    Ok(())
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
    if field.is_map() {
        if let Kind::Message(entry) = field.kind() {
            let key = entry.map_entry_key_field();
            let value = entry.map_entry_value_field();
            let key = match kind_type(&key.kind()) {
                ir::FieldType::Scalar(s) => s,
                _ => ir::Scalar::String,
            };
            return ir::FieldType::Map(key, Box::new(kind_type(&value.kind())));
        }
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
