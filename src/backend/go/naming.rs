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
/// nesting level camel-cased and joined by `_` unless the inner name starts
/// lowercase (protoc-gen-go's rule).
pub fn go_type_name(full_name: &str, package: &str) -> String {
    let relative = if package.is_empty() {
        full_name
    } else {
        full_name
            .strip_prefix(package)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(full_name)
    };
    // One pass over the dotted name: a '.' before a lowercase letter keeps no
    // separator (`req.resp` → `ReqResp`), as in protoc-gen-go.
    go_camel_case(relative)
}

/// The getter protoc-gen-go emits for a field.
pub fn getter(field: &str) -> String {
    format!("Get{}", go_camel_case(field))
}

/// protoc-gen-go's Go names for a message's fields and oneofs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    /// The struct field (and `Get…` getter stem) of each field, in order.
    pub fields: Vec<String>,
    /// The interface-typed struct field of each real oneof.
    pub oneofs: Vec<String>,
    /// For a field of a real oneof, its wrapper type (`Msg_Field`), without
    /// the package; empty for the others.
    pub wrappers: Vec<String>,
}

/// Names a message's fields as protogen does: each field, then (at its first
/// field) each oneof, synthetic ones included, takes its camel-cased name
/// with `_` added until it clashes with no method of a message (`Reset`,
/// `String`, `Descriptor`, …), no earlier name and no earlier getter; a
/// oneof field's wrapper type `Msg_Field` gets `_` added while a nested
/// message or enum of the message has that name.
///
/// `go_message` is the message's Go name; `nested` the Go names of the
/// messages and enums declared directly inside it.
pub fn field_names(
    message: &crate::ir::Message,
    go_message: &str,
    nested: &std::collections::HashSet<String>,
) -> FieldNames {
    // name → whether a getter comes with it, as protogen's usedNames.
    let mut used: std::collections::HashMap<String, bool> = [
        "Reset",
        "String",
        "ProtoMessage",
        "Marshal",
        "Unmarshal",
        "ExtensionRangeArray",
        "ExtensionMap",
        "Descriptor",
    ]
    .iter()
    .map(|n| (n.to_string(), true))
    .collect();
    let mut unique = |name: String, getter: bool| {
        let mut name = name;
        while used.get(&name) == Some(&true)
            || (getter && used.get(&format!("Get{name}")) == Some(&true))
        {
            name.push('_');
        }
        used.insert(name.clone(), true);
        used.insert(format!("Get{name}"), getter);
        name
    };
    let mut fields = Vec::new();
    let mut oneofs = vec![String::new(); message.oneofs.len()];
    let mut seen_oneofs = std::collections::HashSet::new();
    for f in &message.fields {
        fields.push(unique(go_camel_case(&f.name), true));
        // The oneof is named at its first field, synthetic ones too.
        let oneof = match (&f.oneof, &f.synthetic_oneof) {
            (Some(i), _) => message.oneofs.get(*i).map(|o| (Some(*i), o.name.clone())),
            (None, Some(name)) => Some((None, name.clone())),
            (None, None) => None,
        };
        if let Some((index, name)) = oneof {
            let key = index.map_or_else(|| format!("synthetic {name}"), |i| i.to_string());
            if seen_oneofs.insert(key) {
                let go = unique(go_camel_case(&name), false);
                if let Some(i) = index {
                    oneofs[i] = go;
                }
            }
        }
    }
    let wrappers = message
        .fields
        .iter()
        .zip(&fields)
        .map(|(f, go)| {
            if f.oneof.is_none() {
                return String::new();
            }
            let mut wrapper = format!("{go_message}_{go}");
            while nested.contains(&wrapper) {
                wrapper.push('_');
            }
            wrapper
        })
        .collect();
    FieldNames {
        fields,
        oneofs,
        wrappers,
    }
}

/// `lowerCamel` for unexported Go identifiers, avoiding Go keywords.
pub fn unexported(name: &str) -> String {
    let s = name.to_lower_camel_case();
    if GO_KEYWORDS.contains(&s.as_str())
        || PREDECLARED.contains(&s.as_str())
        || KITGEN_PACKAGES.contains(&s.as_str())
    {
        format!("{s}_")
    } else {
        s
    }
}

/// A service's unexported name, which templates also use as a variable:
/// besides what [`unexported`] avoids, never one of their local variables,
/// nor any other identifier kitgen's Go templates spell (see
/// [`template_identifiers`]).
pub fn service_var(name: &str) -> String {
    let s = unexported(name);
    if TEMPLATE_LOCALS.contains(&s.as_str()) || template_identifiers().contains(s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

/// The path kitgen writes a protoc-gen-go output at: its own, unless Go
/// would read the name (up to its first '.') as a build constraint
/// (`experiment_arm.pb.go` builds on ARM only) or ignore it (`_x.pb.go`):
/// then `_pb` goes after that part (`experiment_arm_pb.pb.go`), or `pb`
/// before a leading `_` or `.` (`pb_x.pb.go`). The Go code does not depend
/// on its file's name.
pub fn stub_path(path: &str) -> String {
    let (dir, name) = match path.rsplit_once('/') {
        Some((dir, name)) => (Some(dir), name),
        None => (None, path),
    };
    let (stem, rest) = name.split_at(name.find('.').unwrap_or(name.len()));
    let renamed = if name.starts_with(['_', '.']) {
        format!("pb{name}")
    } else if !stem.ends_with("_test") && special_file_stem(stem) {
        format!("{stem}_pb{rest}")
    } else {
        name.to_string()
    };
    match dir {
        Some(dir) => format!("{dir}/{renamed}"),
        None => renamed,
    }
}

/// kitgen's Go templates, whose identifiers a service's variable avoids.
const GO_TEMPLATES: &[&str] = &[
    include_str!("../../../templates/go/client/balanced.go"),
    include_str!("../../../templates/go/client/client.go"),
    include_str!("../../../templates/go/client/client_test.go"),
    include_str!("../../../templates/go/cmd/cli_main.go"),
    include_str!("../../../templates/go/cmd/server_main.go"),
    include_str!("../../../templates/go/discovery/consul.go"),
    include_str!("../../../templates/go/discovery/discovery.go"),
    include_str!("../../../templates/go/discovery/etcd.go"),
    include_str!("../../../templates/go/endpoints/auth.go"),
    include_str!("../../../templates/go/endpoints/endpoints.go"),
    include_str!("../../../templates/go/endpoints/endpoints_test.go"),
    include_str!("../../../templates/go/endpoints/middleware.go"),
    include_str!("../../../templates/go/envflag/envflag.go"),
    include_str!("../../../templates/go/openapi/openapi.go"),
    include_str!("../../../templates/go/server/server.go"),
    include_str!("../../../templates/go/server/tracing.go"),
    include_str!("../../../templates/go/service/errors.go"),
    include_str!("../../../templates/go/service/starter_test.go"),
    include_str!("../../../templates/go/service/impl.go"),
    include_str!("../../../templates/go/service/middleware.go"),
    include_str!("../../../templates/go/service/service.go"),
    include_str!("../../../templates/go/servicetest/fake.go"),
    include_str!("../../../templates/go/transport/credentials.go"),
    include_str!("../../../templates/go/transport/errors.go"),
    include_str!("../../../templates/go/transport/grpc.go"),
    include_str!("../../../templates/go/transport/http.go"),
    include_str!("../../../templates/go/transport/httprule.go"),
    include_str!("../../../templates/go/transport/transport_test.go"),
];

/// Every lowercase identifier kitgen's Go templates spell outside template
/// tags, comments and strings, and not after a `.`: their local variables,
/// parameters, package-level names and packages. A service's variable
/// (`config` for `service Config`) that took one would shadow it or be
/// declared twice, so it avoids them all, whatever a template change adds.
pub fn template_identifiers() -> &'static std::collections::HashSet<&'static str> {
    static IDENTS: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    IDENTS.get_or_init(|| {
        GO_TEMPLATES
            .iter()
            .flat_map(|t| identifiers_of(t))
            .collect()
    })
}

fn identifiers_of(template: &'static str) -> Vec<&'static str> {
    let b = template.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_to = |from: usize, end: &str| {
        template[from..]
            .find(end)
            .map_or(template.len(), |k| from + k + end.len())
    };
    while i < b.len() {
        let rest = &template[i..];
        if rest.starts_with("{{") {
            i = skip_to(i + 2, "}}");
        } else if rest.starts_with("{%") {
            i = skip_to(i + 2, "%}");
        } else if rest.starts_with("{#") {
            i = skip_to(i + 2, "#}");
        } else if rest.starts_with("//") {
            i = skip_to(i, "\n");
        } else if rest.starts_with("/*") {
            i = skip_to(i + 2, "*/");
        } else if b[i] == b'"' || b[i] == b'`' || b[i] == b'\'' {
            let quote = b[i];
            i += 1;
            while i < b.len() && b[i] != quote && b[i] != b'\n' {
                if b[i] == b'\\' && quote != b'`' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            // A selector (x.field) declares nothing; an identifier glued to
            // a template tag (`{{ s.lower }}Logging`) is part of a name.
            let after_dot = start > 0 && b[start - 1] == b'.';
            let glued = (start > 0 && b[start - 1] == b'}') || template[i..].starts_with("{{");
            if !after_dot && !glued && b[start].is_ascii_lowercase() {
                out.push(&template[start..i]);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Local variables kitgen's templates declare: a service's unexported
/// name, used as a variable beside them, must not take one.
const TEMPLATE_LOCALS: &[&str] = &[
    "a",
    "addr",
    "advertiseAddr",
    "api",
    "args",
    "attrs",
    "b",
    "back",
    "balancer",
    "base",
    "begin",
    "bound",
    "c",
    "call",
    "cancel",
    "client",
    "clients",
    "code",
    "conn",
    "consulAddr",
    "counts",
    "credentials",
    "ctx",
    "data",
    "deadline",
    "debugAddr",
    "debugListener",
    "decode",
    "discovery",
    "done",
    "drainDelay",
    "duration",
    "e",
    "enc",
    "encode",
    "end",
    "err",
    "etcdAddrs",
    "ev",
    "exporter",
    "f",
    "factory",
    "failed",
    "fake",
    "fakeInstance",
    "families",
    "family",
    "fd",
    "fields",
    "fs",
    "given",
    "got",
    "grpcAddr",
    "grpcListener",
    "grpcOptions",
    "grpcServer",
    "h",
    "healthServer",
    "httpAddr",
    "httpClient",
    "httpListener",
    "httpReq",
    "httpServer",
    "i",
    "in",
    "instance",
    "instancer",
    "instances",
    "instrumentation",
    "l",
    "label",
    "labels",
    "level",
    "limit",
    "limited",
    "limiters",
    "list",
    "listener",
    "listeners",
    "logger",
    "logLevel",
    "m",
    "md",
    "metric",
    "msg",
    "msgs",
    "mu",
    "mux",
    "n",
    "name",
    "names",
    "ok",
    "open",
    "options",
    "otlpEndpoint",
    "path",
    "probes",
    "protected",
    "provider",
    "query",
    "r",
    "rateBurst",
    "rateLimit",
    "recorder",
    "registrar",
    "registrars",
    "registry",
    "req",
    "reqs",
    "requests",
    "requestTimeout",
    "resp",
    "response",
    "retry",
    "routes",
    "s",
    "sendErr",
    "sent",
    "server",
    "services",
    "servers",
    "set",
    "shutdownTimeout",
    "span",
    "spans",
    "srv",
    "st",
    "start",
    "stop",
    "stopCtx",
    "stopTracing",
    "stream",
    "streams",
    "svc",
    "targets",
    "timer",
    "tracer",
    "trip",
    "v",
    "value",
    "values",
    "want",
    "wg",
];

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

/// Whether `s` is a Go identifier (ASCII letters, digits, `_`; no digit first).
pub fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a Go import path as `go` does (golang.org/x/mod's
/// `CheckImportPath`): slash-separated non-empty elements of letters,
/// digits and `-._~+`, none `.`-led or `.`-ended. Anything else could
/// carry code into an import block.
pub fn check_import_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("it is empty".into());
    }
    for elem in path.split('/') {
        if elem.is_empty() {
            return Err("it has an empty path element (a leading, trailing or double '/')".into());
        }
        if let Some(c) = elem
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~+".contains(*c)))
        {
            return Err(format!("it contains {c:?}"));
        }
        if elem.starts_with('.') || elem.ends_with('.') {
            return Err(format!("the element '{elem}' starts or ends with a dot"));
        }
    }
    Ok(())
}

/// A package identifier for kitgen's files: `name` unless it is a Go keyword,
/// a predeclared identifier, a package or variable name kitgen's own code
/// uses, or already `taken`; then `<name>pb`, then `<name>pb2`, ….
pub fn package_name(name: &str, taken: &std::collections::BTreeSet<String>) -> String {
    let reserved = |n: &str| {
        GO_KEYWORDS.contains(&n)
            || PREDECLARED.contains(&n)
            || KITGEN_PACKAGES.contains(&n)
            || taken.contains(n)
    };
    if !reserved(name) {
        return name.to_string();
    }
    let base = format!("{name}pb");
    let mut candidate = base.clone();
    let mut n = 1;
    while reserved(&candidate) {
        n += 1;
        candidate = format!("{base}{n}");
    }
    candidate
}

/// Package names kitgen's generated files import or declare: an imported
/// protobuf package must not take one.
const KITGEN_PACKAGES: &[&str] = &[
    "main",
    "pb",
    "service",
    "servicetest",
    "endpoints",
    "transport",
    "server",
    "client",
    "context",
    "json",
    "errors",
    "flag",
    "fmt",
    "io",
    "math",
    "net",
    "http",
    "httptest",
    "pprof",
    "url",
    "os",
    "signal",
    "strconv",
    "strings",
    "sync",
    "atomic",
    "syscall",
    "testing",
    "time",
    "endpoint",
    "grpctransport",
    "httptransport",
    "log",
    "level",
    "mux",
    "run",
    "ff",
    "prometheus",
    "collectors",
    "promhttp",
    "rate",
    "grpc",
    "insecure",
    "encoding",
    "mem",
    "health",
    "healthpb",
    "reflection",
    "bufconn",
    "protojson",
    "proto",
    "metadata",
    "circuitbreaker",
    "kitratelimit",
    "sd",
    "lb",
    "consulsd",
    "dnssrv",
    "etcdv3",
    "consul",
    "gobreaker",
    "otel",
    "attribute",
    "otlptracegrpc",
    "propagation",
    "resource",
    "sdktrace",
    "tracetest",
    "trace",
    "otelhttp",
    "otelgrpc",
    "codes",
    "status",
    "envflag",
    "discovery",
    "slog",
    "bytes",
    "connectivity",
    "kitlog",
];

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

/// Go's predeclared identifiers, and the local names kitgen's code uses.
const PREDECLARED: &[&str] = &[
    "any",
    "append",
    "bool",
    "byte",
    "cap",
    "clear",
    "close",
    "comparable",
    "complex",
    "complex64",
    "complex128",
    "copy",
    "delete",
    "error",
    "false",
    "float32",
    "float64",
    "imag",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "iota",
    "len",
    "make",
    "max",
    "min",
    "new",
    "nil",
    "panic",
    "print",
    "println",
    "real",
    "recover",
    "rune",
    "string",
    "true",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "ctx",
    "req",
    "resp",
    "err",
    "svc",
    "send",
    "recv",
    "logger",
    "options",
    "opts",
    "set",
    "f",
    "t",
    "s",
    "m",
    "r",
    "w",
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
    fn stub_files_never_take_a_name_go_reads_as_a_constraint() {
        for (path, want) in [
            ("pb/experiment_arm.pb.go", "pb/experiment_arm_pb.pb.go"),
            ("pb/store_windows.pb.go", "pb/store_windows_pb.pb.go"),
            ("pb/x_linux_amd64.pb.go", "pb/x_linux_amd64_pb.pb.go"),
            ("pb/store_windows.v1.pb.go", "pb/store_windows_pb.v1.pb.go"),
            ("pb/_hidden.pb.go", "pb/pb_hidden.pb.go"),
            ("pb/.dot.pb.go", "pb/pb.dot.pb.go"),
            ("pb/store_windows_grpc.pb.go", "pb/store_windows_grpc.pb.go"),
            ("pb/experiment.pb.go", "pb/experiment.pb.go"),
            ("pb/store_test.pb.go", "pb/store_test.pb.go"),
            ("arm.pb.go", "arm.pb.go"),
        ] {
            assert_eq!(stub_path(path), want, "{path}");
        }
    }

    #[test]
    fn service_variables_avoid_every_template_identifier() {
        let idents = template_identifiers();
        // Locals and parameters of server.go, http.go and client.go.
        for local in ["config", "opts", "conn", "logger", "instrumentation"] {
            assert!(idents.contains(local), "{local}");
        }
        // Not the template's own expressions nor selectors.
        for not in ["lower", "endpoints_", "pb_name"] {
            assert!(!idents.contains(not), "{not}");
        }
        assert_eq!(service_var("Config"), "config_");
        assert_eq!(service_var("Library"), "library");
    }

    #[test]
    fn field_names_follow_protogen() {
        use crate::ir::{Cardinality, Field, FieldBehavior, FieldType, Message, Oneof, Scalar};
        let field = |name: &str, oneof: Option<usize>, synthetic: Option<&str>| Field {
            name: name.into(),
            number: 1,
            doc: String::new(),
            ty: FieldType::Scalar(Scalar::String),
            cardinality: if synthetic.is_some() {
                Cardinality::Optional
            } else {
                Cardinality::Single
            },
            oneof,
            synthetic_oneof: synthetic.map(str::to_string),
            json_name: String::new(),
            behavior: FieldBehavior::default(),
            position: None,
        };
        let oneof = |name: &str| Oneof {
            name: name.into(),
            doc: String::new(),
        };
        let msg = Message {
            name: "Req".into(),
            full_name: "p.Req".into(),
            file: "p.proto".into(),
            doc: String::new(),
            fields: vec![
                field("reset", None, Some("_reset")),
                field("string", None, None),
                field("x_reset", Some(0), None),
                field("get_name", None, None),
                field("name", None, None),
                field("id", Some(1), None),
            ],
            oneofs: vec![oneof("reset_"), oneof("kind")],
            map_entry: false,
            position: None,
        };
        let nested = std::collections::HashSet::from(["Req_Id".to_string()]);
        let names = field_names(&msg, "Req", &nested);
        // reset → Reset_ (a method); its synthetic oneof _reset takes XReset,
        // so x_reset is XReset_; the oneof reset_ finds Reset_ taken; name
        // would have the getter GetName of get_name.
        assert_eq!(
            names.fields,
            ["Reset_", "String_", "XReset_", "GetName", "Name_", "Id"]
        );
        assert_eq!(names.oneofs, ["Reset__", "Kind"]);
        // The wrapper of id takes a '_': a nested message is Req_Id.
        assert_eq!(names.wrappers, ["", "", "Req_XReset_", "", "", "Req_Id_"]);
    }

    #[test]
    fn nested_type_names() {
        assert_eq!(go_type_name("a.b.Outer.Inner", "a.b"), "Outer_Inner");
        assert_eq!(go_type_name("Top", ""), "Top");
        assert_eq!(go_type_name("pkg.route_note", "pkg"), "RouteNote");
        assert_eq!(go_type_name("pkg.req.resp", "pkg"), "ReqResp");
    }

    #[test]
    fn import_paths_are_checked_as_go_does() {
        for ok in [
            "google.golang.org/genproto/googleapis/type/date",
            "example.com/a-b/c_d/v2",
            "x",
        ] {
            assert_eq!(check_import_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/abs",
            "a//b",
            "a/",
            "a b",
            "a\"\n//go:generate sh",
            "a/../b",
            "a/.hidden",
        ] {
            assert!(check_import_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn package_names_avoid_keywords_and_kitgen_names() {
        let taken = std::collections::BTreeSet::from(["datepb".to_string()]);
        assert_eq!(package_name("type", &taken), "typepb");
        assert_eq!(package_name("package", &taken), "packagepb");
        assert_eq!(package_name("status", &taken), "statuspb");
        assert_eq!(package_name("date", &taken), "date");
        let taken = std::collections::BTreeSet::from(["date".to_string(), "datepb".to_string()]);
        assert_eq!(package_name("date", &taken), "datepb2");
    }

    #[test]
    fn unexported_avoids_keywords() {
        assert_eq!(unexported("Type"), "type_");
        assert_eq!(unexported("GetFeature"), "getFeature");
    }
}

/// What declared a Go name: a proto element (file and position) or kitgen's
/// own code.
#[derive(Debug, Clone)]
pub struct Origin {
    /// How the message says it: "message 'a.B'".
    pub what: String,
    pub file: String,
    pub position: Option<(usize, usize)>,
}

/// Every Go name kitgen's output declares, by package, so that two
/// declarations of one name are refused where the second comes from
/// instead of giving code that does not compile.
#[derive(Debug, Default)]
pub struct Namespaces {
    seen: std::collections::HashMap<(String, String), Origin>,
}

impl Namespaces {
    /// Names kitgen's own templates declare in `package`.
    pub fn reserve(&mut self, package: &str, names: &[&str]) {
        for name in names {
            self.seen.insert(
                (package.to_string(), name.to_string()),
                Origin {
                    what: String::new(),
                    file: String::new(),
                    position: None,
                },
            );
        }
    }

    pub fn declare(
        &mut self,
        package: &str,
        name: String,
        origin: &Origin,
    ) -> Result<(), crate::diagnostic::Diagnostic> {
        use std::collections::hash_map::Entry;
        match self.seen.entry((package.to_string(), name)) {
            Entry::Vacant(v) => {
                v.insert(origin.clone());
                Ok(())
            }
            Entry::Occupied(o) if o.get().what == origin.what && o.get().file == origin.file => {
                Ok(())
            }
            Entry::Occupied(o) => {
                let name = &o.key().1;
                let other = if o.get().what.is_empty() {
                    "kitgen's own code".to_string()
                } else {
                    o.get().what.clone()
                };
                let message = format!(
                    "{} and {other} both become the Go name '{name}' in package {package}",
                    origin.what
                );
                let d = crate::diagnostic::Diagnostic::new(message);
                let d = d.at_position(&origin.file, origin.position);
                Err(d.with_help("rename one of them (see \"Names\" in kitgen's README)"))
            }
        }
    }
}

/// Names kitgen's templates declare, by the directory of their package.
pub const KITGEN_DECLARED: &[(&str, &[&str])] = &[
    (
        "service",
        &[
            "Code",
            "CodeOf",
            "Error",
            "Errorf",
            "MessageOf",
            "ParseCode",
            "Public",
            "RemoteError",
            "codeNames",
            "coded",
            "errorCode",
        ],
    ),
    ("servicetest", &["recorder"]),
    (
        "endpoints",
        &[
            "AuthMiddleware",
            "Authenticate",
            "ContextWithCredentials",
            "Credentials",
            "EachMethod",
            "Instrumentation",
            "InstrumentingMiddleware",
            "LoggingMiddleware",
            "Metrics",
            "NewMetrics",
            "RateLimitMiddleware",
            "RecoveryMiddleware",
            "TimeoutMiddleware",
            "TracingMiddleware",
            "answered",
            "credentialsKey",
            "serverFault",
        ],
    ),
    (
        "transport",
        &[
            "HTTPStatus",
            "NewHTTPHandler",
            "StreamAuthInterceptor",
            "fakes",
            "newFakes",
            "messages",
            "marshaler",
            "notFound",
        ],
    ),
    (
        "client",
        &[
            "Client",
            "Discovery",
            "Instancer",
            "Methods",
            "NewBalanced",
            "NewGRPC",
            "NewHTTP",
            "Options",
            "balance",
            "balanceInstances",
            "breaker",
            "instance",
        ],
    ),
];

/// Whether a file stem is one Go treats specially: a test file, or one
/// built only for an OS or architecture (`x_test`, `x_windows`, `x_arm64`,
/// `x_linux_amd64`), or one it ignores (`_x`, `.x`).
pub fn special_file_stem(stem: &str) -> bool {
    const GOOS: &[&str] = &[
        "aix",
        "android",
        "darwin",
        "dragonfly",
        "freebsd",
        "hurd",
        "illumos",
        "ios",
        "js",
        "linux",
        "nacl",
        "netbsd",
        "openbsd",
        "plan9",
        "solaris",
        "wasip1",
        "windows",
        "zos",
    ];
    const GOARCH: &[&str] = &[
        "386",
        "amd64",
        "amd64p32",
        "arm",
        "armbe",
        "arm64",
        "arm64be",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "mips64p32",
        "mips64p32le",
        "ppc",
        "ppc64",
        "ppc64le",
        "riscv",
        "riscv64",
        "s390",
        "s390x",
        "sparc",
        "sparc64",
        "wasm",
    ];
    if stem.starts_with('_') || stem.starts_with('.') || stem.ends_with("_test") {
        return true;
    }
    let parts: Vec<&str> = stem.split('_').collect();
    let n = parts.len();
    let last = parts[n - 1];
    (n >= 2 && (GOOS.contains(&last) || GOARCH.contains(&last)))
        || (n >= 3 && GOOS.contains(&parts[n - 2]) && GOARCH.contains(&last))
}

#[cfg(test)]
mod file_name_tests {
    use super::*;

    #[test]
    fn special_stems() {
        for s in [
            "add_test",
            "store_windows",
            "x_arm64",
            "x_linux_amd64",
            "_x",
        ] {
            assert!(special_file_stem(s), "{s}");
        }
        for s in ["windows", "test", "library", "add_tester", "linux_box"] {
            assert!(!special_file_stem(s), "{s}");
        }
    }
}
