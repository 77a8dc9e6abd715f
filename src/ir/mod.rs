//! The language-neutral description of an API that every frontend produces and
//! every backend consumes. Nothing here knows about Go or Rust naming: names are
//! kept exactly as the source spelled them.

pub mod binding;
pub mod path_template;
pub mod sample;
pub mod status;

use std::collections::HashMap;
use std::sync::OnceLock;

/// A whole API: the services to generate and every type they can reach.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Api {
    /// Every source file the API reaches, dependencies first.
    pub files: Vec<SourceFile>,
    /// Services in source order.
    pub services: Vec<Service>,
    /// Every message reachable from the project, including imported ones,
    /// in a stable order (file order, then declaration order).
    pub messages: Vec<Message>,
    /// Every enum reachable from the project, same order rules as messages.
    pub enums: Vec<Enum>,
    /// Lookups by name, built on first use so that every lookup is O(1).
    index: Index,
}

impl Api {
    /// Refuses an API with nothing to serve, for every target alike: no
    /// service, or services without a single rpc (located at the first).
    pub fn check_has_methods(&self) -> Result<(), crate::diagnostic::Diagnostic> {
        use crate::diagnostic::Diagnostic;
        if self.services.iter().any(|s| !s.methods.is_empty()) {
            return Ok(());
        }
        if let Some(s) = self.services.first() {
            let d = Diagnostic::new(format!("service '{}' declares no rpc", s.full_name));
            return Err(d
                .at_position(&s.file, s.position)
                .with_help("kitgen generates a service project: add an rpc to a service"));
        }
        let file = self
            .files
            .iter()
            .rfind(|f| f.in_project)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        Err(Diagnostic::new("the input declares no service")
            .at_file(file)
            .with_help("kitgen generates a service project: add a `service` with at least one rpc"))
    }
}

/// One source file (a .proto, or later a trait definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Name relative to its include root, e.g. `google/example/library/v1/library.proto`.
    pub name: String,
    /// Dotted package, possibly empty.
    pub package: String,
    /// Files this one imports, by name.
    pub imports: Vec<String>,
    /// False for the protobuf runtime's own files (the well-known types);
    /// backends decide which of the others they generate or import.
    pub in_project: bool,
    /// File-level string options as written (`go_package`, `java_package`, …),
    /// sorted by name. Backends read the ones meant for them.
    pub options: Vec<(String, String)>,
    /// Where each of `options` is written: (name, line, column), 1-based.
    pub option_positions: Vec<(String, usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// Fully qualified name without a leading dot, e.g. `pb.Add`.
    pub full_name: String,
    pub package: String,
    /// The source file that declares the service.
    pub file: String,
    pub doc: String,
    pub methods: Vec<Method>,
    /// Where it is declared: (line, column), 1-based, when known.
    pub position: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    pub name: String,
    pub doc: String,
    /// Full name of the request message.
    pub input: String,
    /// Full name of the response message.
    pub output: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
    /// HTTP bindings: the primary rule first, then additional bindings.
    /// Empty when the source declares none.
    pub http: Vec<HttpRule>,
    /// Declared free of side effects or idempotent (the method option
    /// `idempotency_level`): safe to retry.
    pub idempotent: bool,
    /// Where it is declared: (line, column), 1-based, when known.
    pub position: Option<(usize, usize)>,
}

impl Method {
    pub fn is_unary(&self) -> bool {
        !self.client_streaming && !self.server_streaming
    }
}

/// One HTTP binding of a method, as in `google.api.http`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRule {
    /// Upper-case HTTP verb: GET, POST, PUT, PATCH, DELETE or a custom one.
    pub verb: String,
    /// The path template as written, e.g. `/v1/{name=shelves/*}:merge`.
    pub path: String,
    /// `path`, parsed (and its variables checked against the request) by
    /// the frontend.
    pub template: path_template::PathTemplate,
    /// `*` for the whole request, a field path, or `None` for no body.
    pub body: Option<String>,
    /// A field of the response to send instead of the whole response.
    pub response_body: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub name: String,
    pub full_name: String,
    pub file: String,
    pub doc: String,
    pub fields: Vec<Field>,
    /// Real oneofs (not the synthetic ones of proto3 `optional`).
    pub oneofs: Vec<Oneof>,
    /// True for the synthetic entry message of a map field.
    pub map_entry: bool,
    /// Where it is declared: (line, column), 1-based, when known.
    pub position: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oneof {
    pub name: String,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub number: i32,
    pub doc: String,
    pub ty: FieldType,
    pub cardinality: Cardinality,
    /// Index into the message's `oneofs`.
    pub oneof: Option<usize>,
    /// A proto3 `optional` field: explicit presence (`Optional`) through a
    /// synthetic oneof of this name (`_field`), which protoc-gen-go names
    /// too. `None` for every other field.
    pub synthetic_oneof: Option<String>,
    /// The field's name in the proto3 JSON mapping (`json_name`, by default
    /// the lowerCamelCase of `name`).
    pub json_name: String,
    /// `google.api.field_behavior` annotations that change how the field is
    /// described (required, output only, input only).
    pub behavior: FieldBehavior,
    /// Where it is declared in the message's file: (line, column), 1-based,
    /// when known.
    pub position: Option<(usize, usize)>,
}

/// The parts of `google.api.field_behavior` that describe an API's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldBehavior {
    pub required: bool,
    pub output_only: bool,
    pub input_only: bool,
}

/// protoc's default `json_name`: underscores dropped, the letter after one
/// upper-cased.
pub fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// A single value with implicit presence (proto3 default).
    Single,
    /// A single value with explicit presence (proto2 optional, proto3 `optional`, editions).
    Optional,
    Required,
    Repeated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Scalar(Scalar),
    /// Full name of a message.
    Message(String),
    /// Full name of an enum.
    Enum(String),
    /// A map; the value is never itself a map.
    Map(Scalar, Box<FieldType>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    pub name: String,
    pub full_name: String,
    pub file: String,
    pub doc: String,
    pub values: Vec<EnumValue>,
    /// Where it is declared: (line, column), 1-based, when known.
    pub position: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    pub name: String,
    pub number: i32,
    pub doc: String,
}

impl Api {
    pub fn message(&self, full_name: &str) -> Option<&Message> {
        self.index()
            .map_or_else(
                || self.messages.iter().position(|m| m.full_name == full_name),
                |maps| maps.messages.get(full_name).copied(),
            )
            .map(|i| &self.messages[i])
    }

    pub fn file(&self, name: &str) -> Option<&SourceFile> {
        self.index()
            .map_or_else(
                || self.files.iter().position(|f| f.name == name),
                |maps| maps.files.get(name).copied(),
            )
            .map(|i| &self.files[i])
    }

    pub fn enum_type(&self, full_name: &str) -> Option<&Enum> {
        self.index()
            .map_or_else(
                || self.enums.iter().position(|e| e.full_name == full_name),
                |maps| maps.enums.get(full_name).copied(),
            )
            .map(|i| &self.enums[i])
    }

    /// The index, unless entries were added since it was built (frontends
    /// build an `Api` by pushing; lookups come after): then `None`, and the
    /// caller scans.
    fn index(&self) -> Option<&Maps> {
        let maps = self.index.0.get_or_init(|| Maps::of(self));
        (maps.lens == Maps::lens_of(self)).then_some(maps)
    }
}

/// Name → position maps of an [`Api`]. Not part of its value: two APIs are
/// equal whether or not either was looked into.
#[derive(Default)]
struct Index(OnceLock<Maps>);

impl Clone for Index {
    fn clone(&self) -> Self {
        Index::default()
    }
}

impl PartialEq for Index {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Index {}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Index")
    }
}

struct Maps {
    lens: (usize, usize, usize),
    files: HashMap<String, usize>,
    messages: HashMap<String, usize>,
    enums: HashMap<String, usize>,
}

impl Maps {
    fn lens_of(api: &Api) -> (usize, usize, usize) {
        (api.files.len(), api.messages.len(), api.enums.len())
    }

    /// The first entry of a name wins, as a scan would find it.
    fn of(api: &Api) -> Maps {
        fn positions<'a>(names: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
            let mut map = HashMap::new();
            for (i, name) in names.enumerate() {
                map.entry(name.clone()).or_insert(i);
            }
            map
        }
        Maps {
            lens: Maps::lens_of(api),
            files: positions(api.files.iter().map(|f| &f.name)),
            messages: positions(api.messages.iter().map(|m| &m.full_name)),
            enums: positions(api.enums.iter().map(|e| &e.full_name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(full_name: &str, file: &str) -> Message {
        Message {
            name: full_name.rsplit('.').next().unwrap().into(),
            full_name: full_name.into(),
            file: file.into(),
            doc: String::new(),
            fields: Vec::new(),
            oneofs: Vec::new(),
            map_entry: false,
            position: None,
        }
    }

    #[test]
    fn lookups_see_entries_added_after_the_first_lookup() {
        let mut api = Api::default();
        api.messages.push(message("p.A", "a.proto"));
        assert_eq!(api.message("p.A").map(|m| m.file.as_str()), Some("a.proto"));
        assert!(api.message("p.B").is_none());
        api.messages.push(message("p.B", "b.proto"));
        assert_eq!(api.message("p.B").map(|m| m.file.as_str()), Some("b.proto"));
        // A copy indexes itself afresh, and the index is no part of equality.
        let copy = api.clone();
        assert_eq!(
            copy.message("p.B").map(|m| m.file.as_str()),
            Some("b.proto")
        );
        assert_eq!(copy, api);
        assert!(api.enum_type("p.A").is_none() && api.file("a.proto").is_none());
    }
}
