//! The Go view of an API: every name, import and route a template prints is
//! decided here, so templates only lay text out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::diagnostic::Diagnostic;
use crate::ir::binding;
use crate::ir::path_template::{self, PathTemplate, Segment};
use crate::ir::sample::{self, Sample, ScalarValue};
use crate::ir::{self, Api, Cardinality, FieldType, Scalar};

use super::naming::{self, go_camel_case, go_type_name, service_base, snake, unexported};
use super::overrides::{self, GoPackageOverride};

/// Where a proto file's Go code lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPackage {
    pub import_path: String,
    /// The identifier code uses to refer to it.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Project {
    /// The project name, e.g. `addsvc`.
    pub name: String,
    pub module: String,
    /// `addcli` for `addsvc` (go-kit's naming), else `<name>cli`.
    pub cli_name: String,
    /// Prefix of the environment variables the binaries read, e.g. `ADDSVC`.
    pub env_prefix: String,
    /// Prometheus namespace: the name in snake case.
    pub metrics_namespace: String,
    pub services: Vec<Service>,
    /// proto file name → Go package, for every file the project generates.
    pub proto_packages: BTreeMap<String, GoPackage>,
    /// Packages of published modules the protobuf code imports: go.mod
    /// requires their modules.
    pub published_imports: BTreeSet<String>,
    /// Imported packages no module kitgen pins holds (a kitgen.toml
    /// override named them): the user requires their modules.
    pub unpinned_imports: BTreeSet<String>,
    /// Import path → package clause of generated packages kitgen's code
    /// calls by another name.
    pub package_clauses: BTreeMap<String, String>,
    /// Imported proto files a kitgen.toml override placed, with their
    /// package clause: the plugins are told, as protoc's `M` option.
    pub imported_overrides: BTreeMap<String, GoPackage>,
    /// Go packages of imported protobuf types (well-known types and such).
    pub external_packages: Vec<GoPackage>,
    pub pad_service_fields: usize,
    /// Width of the longest `lower`: it differs from `base` in length when
    /// `base` has a '_' (`Foo_Baz` → `fooBaz`) or `lower` takes one (`type_`).
    pub pad_service_lower: usize,
    /// The service discovery backends chosen: only they are generated and
    /// linked.
    pub discovery: Discovery,
}

/// Service discovery backends a project links, as kitgen.toml's
/// `discovery` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Discovery {
    pub etcd: bool,
    pub consul: bool,
}

impl Discovery {
    /// The names kitgen.toml accepts.
    pub const NAMES: [&'static str; 2] = ["etcd", "consul"];

    /// Whether any backend is chosen.
    pub fn any(&self) -> bool {
        self.etcd || self.consul
    }

    /// Width of the longest field of client.Discovery, for gofmt's
    /// alignment: EtcdAddrs, ConsulAddr (when chosen), DNSSRV, Instances.
    pub fn field_width(&self) -> usize {
        if self.consul { 10 } else { 9 }
    }

    /// Width of the longest flag variable of addcli's main (grpcAddr,
    /// etcdAddrs, consulAddr).
    pub fn cli_var_width(&self) -> usize {
        if self.consul {
            10
        } else if self.etcd {
            9
        } else {
            8
        }
    }

    /// Width of the longest key of addcli's client.Discovery literal
    /// (EtcdAddrs, ConsulAddr when chosen, DNSSRV), colon included.
    pub fn key_width(&self) -> usize {
        if self.consul {
            11
        } else if self.etcd {
            10
        } else {
            7
        }
    }

    /// Turns on the backend `name`; false when there is no such backend.
    pub fn choose(&mut self, name: &str) -> bool {
        match name {
            "etcd" => self.etcd = true,
            "consul" => self.consul = true,
            _ => return false,
        }
        true
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub proto_name: String,
    pub full_name: String,
    pub doc: Vec<String>,
    /// `Library` for `LibraryService`.
    pub base: String,
    /// lowerCamel base, for unexported names.
    pub lower: String,
    /// `LibraryService`: the interface in package service.
    pub iface: String,
    /// The endpoint set: go-kit's `Set` for a one-service API, else `LibrarySet`.
    pub endpoints: String,
    /// The Go package of the generated protobuf code for this service.
    pub pb: GoPackage,
    /// protoc-gen-go-grpc's Go name of the service.
    pub grpc_name: String,
    /// The user-owned implementation file, e.g. `pkg/service/library.go`.
    pub impl_file: String,
    /// The expression `main.go` builds the service with.
    pub construct: String,
    pub methods: Vec<Method>,
    /// Width to pad `XxxEndpoint` fields to, for gofmt's alignment.
    pub pad_endpoint_fields: usize,
    /// Width to pad unexported gRPC handler fields to.
    pub pad_handler_fields: usize,
    /// The gRPC server's field holding the endpoint set for streaming RPCs:
    /// `streams`, or `streams_` beside a unary RPC whose handler field is
    /// `streams` (an RPC named Streams).
    pub streams_field: String,
    /// Width to pad `Key:` of an endpoint set literal to.
    pub pad_literal_keys: usize,
}

impl Service {
    pub fn has_starter(&self) -> bool {
        self.methods.iter().any(|m| m.starter.is_some())
    }
    pub fn unary_methods(&self) -> Vec<&Method> {
        self.methods.iter().filter(|m| m.is_unary()).collect()
    }
    pub fn stream_methods(&self) -> Vec<&Method> {
        self.methods.iter().filter(|m| !m.is_unary()).collect()
    }
    pub fn has_unary(&self) -> bool {
        self.methods.iter().any(Method::is_unary)
    }
    pub fn has_streams(&self) -> bool {
        self.methods.iter().any(|m| !m.is_unary())
    }
    /// Whether any method is served over HTTP: every unary method is, and
    /// server-streaming methods with a google.api.http rule.
    pub fn has_http(&self) -> bool {
        self.methods.iter().any(|m| !m.routes.is_empty())
    }
    /// Unary methods' routes, custom verbs first and longer verbs before
    /// shorter ones: the router takes the first match, `/v1/{name=**}`
    /// would otherwise swallow `…:merge`, and `{id}:custom` would take
    /// `1:custom:custom` from `{id}:custom:custom`.
    pub fn http_routes(&self) -> Vec<(&Method, &Route)> {
        let mut routes: Vec<(&Method, &Route)> = self
            .methods
            .iter()
            .flat_map(|m| m.routes.iter().map(move |r| (m, r)))
            .collect();
        routes.sort_by_cached_key(|(_, r)| {
            let verb = r.parsed.verb.as_ref().map_or(0, |v| v.len());
            (!r.template.contains(':'), std::cmp::Reverse(verb))
        });
        routes
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streaming {
    Unary,
    Server,
    Client,
    Bidi,
}

#[derive(Debug, Clone)]
pub struct Method {
    pub proto_name: String,
    pub name: String,
    /// The endpoint set's field: `SumEndpoint`, or `ChatStream` for a
    /// streaming method (`_` added if a method of the service has that name).
    pub field: String,
    pub lower: String,
    pub doc: Vec<String>,
    pub streaming: Streaming,
    /// Qualified Go types, e.g. `*pb.SumRequest` is `pb.SumRequest` here.
    pub input: String,
    pub output: String,
    /// `Add.Sum`: the label metrics and logs use.
    pub label: String,
    /// `MakeSumEndpoint`, with the service in it when the API has several.
    pub make_endpoint: String,
    /// Names addcli accepts for the method.
    pub cli_names: Vec<String>,
    /// Safe to retry: its primary HTTP rule is a GET, or its
    /// `idempotency_level` says it has no side effects or is idempotent.
    pub idempotent: bool,
    pub routes: Vec<Route>,
    /// The built-in starter's method whose working go-kit addsvc logic
    /// kitgen writes.
    pub starter: Option<Starter>,
    /// A request literal used by generated tests (`&pb.SumRequest{A: 7}`).
    pub sample_input: String,
    /// A response literal used by generated tests.
    pub sample_output: String,
}

impl Method {
    pub fn is_unary(&self) -> bool {
        self.streaming == Streaming::Unary
    }
    pub fn is_server_streaming(&self) -> bool {
        self.streaming == Streaming::Server
    }
    pub fn is_client_streaming(&self) -> bool {
        self.streaming == Streaming::Client
    }
    pub fn is_bidi(&self) -> bool {
        self.streaming == Streaming::Bidi
    }
    /// The Go signature after the method name, as in the service interface.
    pub fn signature(&self) -> String {
        let (i, o) = (&self.input, &self.output);
        match self.streaming {
            Streaming::Unary => format!("(ctx context.Context, req *{i}) (*{o}, error)"),
            Streaming::Server => {
                format!("(ctx context.Context, req *{i}, send func(*{o}) error) error")
            }
            Streaming::Client => {
                format!("(ctx context.Context, recv func() (*{i}, error)) (*{o}, error)")
            }
            Streaming::Bidi => format!(
                "(ctx context.Context, recv func() (*{i}, error), send func(*{o}) error) error"
            ),
        }
    }
    /// The signature as a func type, for the endpoint set's stream fields.
    pub fn func_type(&self) -> String {
        format!("func{}", self.signature())
    }
    /// The signature with named results, for middleware that inspects them.
    pub fn named_result_signature(&self) -> String {
        let (i, o) = (&self.input, &self.output);
        match self.streaming {
            Streaming::Unary => format!("(ctx context.Context, req *{i}) (resp *{o}, err error)"),
            Streaming::Server => {
                format!("(ctx context.Context, req *{i}, send func(*{o}) error) (err error)")
            }
            Streaming::Client => {
                format!("(ctx context.Context, recv func() (*{i}, error)) (resp *{o}, err error)")
            }
            Streaming::Bidi => format!(
                "(ctx context.Context, recv func() (*{i}, error), send func(*{o}) error) (err error)"
            ),
        }
    }
    /// The constructor of a streaming method's middleware-wrapped function,
    /// named like the unary methods' `Make…Endpoint`.
    pub fn make_stream(&self) -> String {
        let stem = self
            .make_endpoint
            .strip_suffix("Endpoint")
            .unwrap_or(&self.make_endpoint);
        format!("{stem}Stream")
    }
    pub fn first_route(&self) -> &Route {
        &self.routes[0]
    }
    /// The signature with unnamed parameters, for stubs that ignore them.
    pub fn unnamed_signature(&self) -> String {
        let (i, o) = (&self.input, &self.output);
        match self.streaming {
            Streaming::Unary => format!("(context.Context, *{i}) (*{o}, error)"),
            Streaming::Server => format!("(context.Context, *{i}, func(*{o}) error) error"),
            Streaming::Client => format!("(context.Context, func() (*{i}, error)) (*{o}, error)"),
            Streaming::Bidi => {
                format!("(context.Context, func() (*{i}, error), func(*{o}) error) error")
            }
        }
    }
    /// `"Sum", "Add.Sum"` for a switch case.
    pub fn cli_names_quoted(&self) -> String {
        self.cli_names
            .iter()
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// The argument list that forwards the parameters of `signature`.
    pub fn call_args(&self) -> &'static str {
        match self.streaming {
            Streaming::Unary => "ctx, req",
            Streaming::Server => "ctx, req, send",
            Streaming::Client => "ctx, recv",
            Streaming::Bidi => "ctx, recv, send",
        }
    }
    pub fn kind_doc(&self) -> &'static str {
        match self.streaming {
            Streaming::Unary => "unary",
            Streaming::Server => "server-streaming",
            Streaming::Client => "client-streaming",
            Streaming::Bidi => "bidirectional-streaming",
        }
    }
}

/// A method of the built-in starter whose go-kit addsvc logic, and its
/// test, kitgen writes (templates/go/service/impl.go and starter_test.go).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starter {
    Sum,
    Concat,
}

/// The starter's logic applies where the API still has addsvc's shape.
fn starter_for(service: &ir::Service, m: &ir::Method, project_pb: &str) -> Option<Starter> {
    if service.full_name != "addsvc.Add" || project_pb != "pb" || !m.is_unary() {
        return None;
    }
    match (m.name.as_str(), m.input.as_str(), m.output.as_str()) {
        ("Sum", "addsvc.SumRequest", "addsvc.SumResponse") => Some(Starter::Sum),
        ("Concat", "addsvc.ConcatRequest", "addsvc.ConcatResponse") => Some(Starter::Concat),
        _ => None,
    }
}

/// One HTTP route of a unary method.
#[derive(Debug, Clone)]
pub struct Route {
    pub verb: String,
    /// The template as written in the proto (or the default route).
    pub template: String,
    /// The parsed template as a Go `pathPattern` literal.
    pub pattern: String,
    /// `*`, a field path, or empty for no body.
    pub body: String,
    pub response_body: String,
    /// A concrete URL path matching the route, for tests and docs.
    pub sample_path: String,
    /// The template, parsed.
    pub parsed: PathTemplate,
    /// True for the route kitgen made up because the method has no rule.
    pub is_default: bool,
}

impl Route {
    pub fn has_body(&self) -> bool {
        !self.body.is_empty()
    }
    /// A curl command line for the README.
    pub fn curl(&self, port: u16, body: impl std::fmt::Display) -> String {
        let method = match (self.verb.as_str(), self.has_body()) {
            ("GET", false) | ("POST", true) => String::new(),
            (verb, _) => format!("-X {verb} "),
        };
        let data = if self.has_body() {
            format!(" -d '{body}'")
        } else {
            String::new()
        };
        format!("curl {method}localhost:{port}{}{data}", self.sample_path)
    }
}

impl Project {
    /// How the shared deploy tree's comments spell a flag: `-etcd-addr`,
    /// Go's flag package (the Rust binary's is `--etcd-addr`).
    pub fn flag_dash(&self) -> &'static str {
        "-"
    }
    /// What the debug port serves, as the deploy tree's comments name it.
    pub fn debug_paths(&self) -> &'static str {
        "/metrics and /debug/pprof/"
    }
    pub fn has_unary(&self) -> bool {
        self.services.iter().any(Service::has_unary)
    }
    pub fn has_http(&self) -> bool {
        self.services.iter().any(Service::has_http)
    }
    /// Whether a server-streaming method is served over HTTP.
    pub fn has_http_streams(&self) -> bool {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .any(|m| m.is_server_streaming() && !m.routes.is_empty())
    }
    pub fn has_streams(&self) -> bool {
        self.services.iter().any(Service::has_streams)
    }
    /// Any method whose client sends a stream (client or bidirectional).
    pub fn has_client_streams(&self) -> bool {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .any(|m| matches!(m.streaming, Streaming::Client | Streaming::Bidi))
    }
    /// The first unary method, which the generated cross-cutting tests use.
    pub fn first_unary(&self) -> Option<(&Service, &Method)> {
        self.services
            .iter()
            .flat_map(|s| s.methods.iter().map(move |m| (s, m)))
            .find(|(_, m)| m.is_unary())
    }
    pub fn first_stream(&self) -> Option<(&Service, &Method)> {
        self.services
            .iter()
            .flat_map(|s| s.methods.iter().map(move |m| (s, m)))
            .find(|(_, m)| !m.is_unary())
    }
    pub fn first_method(&self) -> (&Service, &Method) {
        self.first_unary()
            .unwrap_or((&self.services[0], &self.services[0].methods[0]))
    }
    /// The label of the first method, for examples in comments.
    pub fn first_label(&self) -> String {
        self.first_method().1.label.clone()
    }
    pub fn first_method_name(&self) -> String {
        self.first_method().1.cli_names[0].clone()
    }
    /// An example request for the first method, for docs.
    pub fn first_method_example(&self) -> String {
        let (s, m) = self.first_method();
        self.example_request(s, m)
    }
    /// An example JSON request: real values for the starter, `{}` otherwise.
    pub fn example_request(&self, s: &Service, m: &Method) -> String {
        match (s.full_name.as_str(), m.proto_name.as_str()) {
            ("addsvc.Add", "Sum") => r#"{"a":1,"b":2}"#.to_string(),
            ("addsvc.Add", "Concat") => r#"{"a":"foo","b":"bar"}"#.to_string(),
            _ => "{}".to_string(),
        }
    }
    /// The name as Kubernetes objects take it (DNS-1123: no '_').
    pub fn k8s_name(&self) -> String {
        self.name.replace('_', "-")
    }
    pub fn cli_env_prefix(&self) -> String {
        super::naming::snake(&self.cli_name).to_ascii_uppercase()
    }
    /// Arguments of transport.NewHTTPHandler in server.go.
    /// Arguments of NewHTTPHandler in package server: the endpoint sets
    /// of the services with HTTP routes, as fields of `Endpoints` `e`.
    pub fn http_handler_args(&self) -> String {
        self.services
            .iter()
            .filter(|s| s.has_http())
            .map(|s| format!("e.{}", s.base))
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// Arguments of NewHTTPHandler in the transport tests.
    pub fn test_http_handler_args(&self) -> String {
        self.services
            .iter()
            .filter(|s| s.has_http())
            .map(|s| {
                format!(
                    "endpoints.New{}(f.{}, endpoints.Instrumentation{{}})",
                    s.endpoints, s.lower
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
    /// Every Go package of protobuf code the project may refer to.
    pub fn go_packages(&self) -> Vec<GoPackage> {
        let mut out: Vec<GoPackage> = self.proto_packages.values().cloned().collect();
        out.extend(self.external_packages.iter().cloned());
        out
    }
}

/// Decides every Go name for `api`.
pub fn build(
    api: &Api,
    name: &str,
    module: &str,
    starter: bool,
    go_package_overrides: &[GoPackageOverride],
) -> Result<Project, Diagnostic> {
    let cli_name = match name.strip_suffix("svc") {
        Some(stem) if !stem.is_empty() => format!("{stem}cli"),
        _ => format!("{name}cli"),
    };
    let own_dirs: Vec<String> = [
        "pkg/service",
        "pkg/service/servicetest",
        "pkg/endpoints",
        "pkg/transport",
        "pkg/server",
        "pkg/client",
        "pkg/openapi",
    ]
    .iter()
    .map(|d| d.to_string())
    .chain([format!("cmd/{name}"), format!("cmd/{cli_name}")])
    .collect();
    let placement = place_files(api, module, go_package_overrides, &own_dirs)?;
    let proto_packages = placement.local.clone();
    let mut resolver = TypeResolver::new(api, &placement);
    let mut services = Vec::new();
    let mut base_names: HashMap<String, String> = HashMap::new();
    // Method names seen in more than one service cannot be called by their bare name.
    let mut method_count: HashMap<String, usize> = HashMap::new();
    // A service without methods has nothing to serve (a user may comment
    // out every RPC of one): it gets no code.
    let with_methods: Vec<&ir::Service> = api
        .services
        .iter()
        .filter(|s| !s.methods.is_empty())
        .collect();
    let several = with_methods.len() > 1;
    for s in &with_methods {
        for m in &s.methods {
            *method_count.entry(m.name.clone()).or_default() += 1;
        }
    }
    for s in with_methods.iter().copied() {
        let grpc_name = go_camel_case(&s.name);
        let base = service_base(&grpc_name);
        if let Some(other) = base_names.insert(base.clone(), s.full_name.clone()) {
            let d = Diagnostic::new(format!(
                "services '{other}' and '{}' both map to the Go name '{base}Service'",
                s.full_name
            ));
            let d = d.at_position(&s.file, s.position);
            return Err(d.with_help("rename one of the services"));
        }
        let pb = proto_packages
            .get(&s.file)
            .cloned()
            .expect("services come from project files");
        let mut methods = Vec::new();
        for m in &s.methods {
            let mut method = build_method(api, s, m, &mut resolver, &method_count, several)?;
            if starter {
                method.starter = starter_for(s, m, &pb.name);
            }
            methods.push(method);
        }
        name_fields(&mut methods);
        let pad_endpoint_fields = methods
            .iter()
            .filter(|m| m.is_unary())
            .map(|m| m.field.len())
            .max()
            .unwrap_or(0);
        let streams_field = if methods.iter().any(|m| m.is_unary() && m.lower == "streams") {
            "streams_"
        } else {
            "streams"
        };
        let pad_handler_fields = methods
            .iter()
            .filter(|m| m.is_unary())
            .map(|m| m.lower.len())
            .chain(
                methods
                    .iter()
                    .any(|m| !m.is_unary())
                    .then_some(streams_field.len()),
            )
            .max()
            .unwrap_or(0);
        let pad_literal_keys = methods.iter().map(|m| m.field.len() + 1).max().unwrap_or(0);
        services.push(Service {
            pad_literal_keys,
            proto_name: s.name.clone(),
            full_name: s.full_name.clone(),
            doc: doc_lines(&s.doc),
            lower: naming::service_var(&base),
            iface: format!("{base}Service"),
            endpoints: if !several {
                "Set".to_string()
            } else {
                format!("{base}Set")
            },
            impl_file: impl_file(&base),
            construct: format!("service.New{base}Service()"),
            base,
            pb,
            grpc_name,
            methods,
            pad_endpoint_fields,
            pad_handler_fields,
            streams_field: streams_field.to_string(),
        });
    }
    api.check_has_methods()?;
    check_names(api, &placement, &services, &with_methods)?;
    binding::check_routes(api)?;
    let pad_service_fields = services.iter().map(|s| s.base.len()).max().unwrap_or(0);
    let pad_service_lower = services.iter().map(|s| s.lower.len()).max().unwrap_or(0);
    let external_packages = resolver.external_packages();
    Ok(Project {
        name: name.to_string(),
        module: module.to_string(),
        cli_name,
        env_prefix: snake(name).to_ascii_uppercase(),
        metrics_namespace: snake(name),
        services,
        proto_packages,
        published_imports: placement.published_imports.clone(),
        unpinned_imports: placement.unpinned_imports.clone(),
        package_clauses: placement.package_clauses.clone(),
        imported_overrides: placement.imported_overrides.clone(),
        external_packages,
        pad_service_fields,
        pad_service_lower,
        discovery: Discovery::default(),
    })
}

/// Names the endpoint set's fields. The set has a method per RPC too, so a
/// field that would take an RPC's name (`CreateIndexEndpoint` for
/// `CreateIndex` beside an RPC `CreateIndexEndpoint`) gets a `_`.
fn name_fields(methods: &mut [Method]) {
    let mut taken: HashSet<String> = methods.iter().map(|m| m.name.clone()).collect();
    for m in methods.iter_mut() {
        let suffix = if m.is_unary() { "Endpoint" } else { "Stream" };
        let mut field = format!("{}{suffix}", m.name);
        while taken.contains(&field) {
            field.push('_');
        }
        taken.insert(field.clone());
        m.field = field;
    }
}

/// The user's implementation file: `pkg/service/<service>.go`, with `_impl`
/// added where that name is kitgen's own file or one Go treats specially
/// (`add_test.go` is a test, `store_windows.go` builds only on Windows).
fn impl_file(base: &str) -> String {
    let stem = snake(base);
    let own = ["service", "errors", "middleware", "doc"];
    if own.contains(&stem.as_str()) || naming::special_file_stem(&stem) {
        format!("pkg/service/{stem}_impl.go")
    } else {
        format!("pkg/service/{stem}.go")
    }
}

/// The naming pass: every Go name the project declares (kitgen's, and the
/// ones protoc-gen-go and protoc-gen-go-grpc write into the pb packages) is
/// unique in its package, or the second declaration is refused where it is.
fn check_names(
    api: &Api,
    placement: &Placement,
    services: &[Service],
    sources: &[&ir::Service],
) -> Result<(), Diagnostic> {
    let mut ns = naming::Namespaces::default();
    for (pkg, names) in naming::KITGEN_DECLARED {
        ns.reserve(pkg, names);
    }
    let messages: HashSet<&str> = api.messages.iter().map(|m| m.full_name.as_str()).collect();
    let package_of_file: HashMap<&str, &str> = api
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.package.as_str()))
        .collect();
    let origin = |what: String, file: &str, position| naming::Origin {
        what,
        file: file.to_string(),
        position,
    };
    // protoc-gen-go: messages, enums and enum values.
    for m in api.messages.iter().filter(|m| !m.map_entry) {
        let Some(pkg) = placement.local.get(&m.file) else {
            continue;
        };
        let proto_pkg = package_of_file.get(m.file.as_str()).copied().unwrap_or("");
        let o = origin(format!("message '{}'", m.full_name), &m.file, m.position);
        ns.declare(&pkg.import_path, go_type_name(&m.full_name, proto_pkg), &o)?;
    }
    // The wrapper type of each oneof field (`Msg_Field`).
    let nested = nested_types(api);
    for m in api.messages.iter().filter(|m| !m.map_entry) {
        let Some(pkg) = placement.local.get(&m.file) else {
            continue;
        };
        if m.oneofs.is_empty() {
            continue;
        }
        let proto_pkg = package_of_file.get(m.file.as_str()).copied().unwrap_or("");
        let names = message_field_names(m, proto_pkg, &nested);
        for (f, wrapper) in m.fields.iter().zip(&names.wrappers) {
            if wrapper.is_empty() {
                continue;
            }
            let o = origin(
                format!("oneof field '{}.{}'", m.full_name, f.name),
                &m.file,
                m.position,
            );
            ns.declare(&pkg.import_path, wrapper.clone(), &o)?;
        }
    }
    for e in &api.enums {
        let Some(pkg) = placement.local.get(&e.file) else {
            continue;
        };
        let proto_pkg = package_of_file.get(e.file.as_str()).copied().unwrap_or("");
        let go = go_type_name(&e.full_name, proto_pkg);
        let o = origin(format!("enum '{}'", e.full_name), &e.file, e.position);
        ns.declare(&pkg.import_path, go.clone(), &o)?;
        ns.declare(&pkg.import_path, format!("{go}_name"), &o)?;
        ns.declare(&pkg.import_path, format!("{go}_value"), &o)?;
        // A nested enum's values are prefixed by the message, not the enum.
        let prefix = match e.full_name.rsplit_once('.') {
            Some((parent, _)) if messages.contains(parent) => go_type_name(parent, proto_pkg),
            _ => go.clone(),
        };
        for v in &e.values {
            let o = origin(
                format!("enum value '{}.{}'", e.full_name, v.name),
                &e.file,
                e.position,
            );
            ns.declare(&pkg.import_path, format!("{prefix}_{}", v.name), &o)?;
        }
    }
    // protoc-gen-go-grpc, and kitgen's names for each service and method.
    for (s, src) in services.iter().zip(sources) {
        let o = origin(
            format!("service '{}'", s.full_name),
            &src.file,
            src.position,
        );
        let g = &s.grpc_name;
        let pb = &s.pb.import_path;
        for name in [
            format!("{g}Client"),
            format!("{g}Server"),
            format!("New{g}Client"),
            format!("Register{g}Server"),
            format!("Unimplemented{g}Server"),
            format!("Unsafe{g}Server"),
            format!("{g}_ServiceDesc"),
        ] {
            ns.declare(pb, name, &o)?;
        }
        let (b, l) = (&s.base, &s.lower);
        for (pkg, name) in [
            ("service", s.iface.clone()),
            ("service", format!("New{}", s.iface)),
            ("service", format!("{l}Service")),
            ("service", format!("{b}Middleware")),
            ("service", format!("{b}LoggingMiddleware")),
            ("service", format!("{l}Logging")),
            ("servicetest", b.clone()),
            ("endpoints", s.endpoints.clone()),
            ("endpoints", format!("New{}", s.endpoints)),
            ("transport", format!("New{b}GRPCClient")),
            ("transport", format!("New{b}GRPCEndpoints")),
            ("transport", format!("New{b}GRPCServer")),
            ("transport", format!("New{b}HTTPClient")),
            ("transport", format!("{l}GRPCServer")),
            ("transport", format!("{l}GRPCStreams")),
            ("transport", format!("{l}HTTPStreams")),
            ("client", format!("balanced{b}")),
        ] {
            ns.declare(pkg, name, &o)?;
        }
        // Members of the unexported transport types: a struct's fields and
        // methods share one namespace (the gRPC server's handler fields, the
        // stream adapters' methods beside their client field).
        ns.reserve(
            "transport",
            &[
                &format!("{l}GRPCServer.{}", s.streams_field),
                &format!("{l}GRPCStreams.client"),
            ],
        );
        for (m, msrc) in s.methods.iter().zip(&src.methods) {
            let o = origin(
                format!("rpc '{}.{}'", s.full_name, m.proto_name),
                &src.file,
                msrc.position,
            );
            let n = &m.name;
            ns.declare(pb, format!("{g}_{n}_FullMethodName"), &o)?;
            if !m.is_unary() {
                ns.declare(pb, format!("{g}_{n}Client"), &o)?;
                ns.declare(pb, format!("{g}_{n}Server"), &o)?;
            }
            // The endpoint set's methods and fields share one namespace.
            let set = format!("{}.", s.endpoints);
            ns.declare("endpoints", format!("{set}{n}"), &o)?;
            ns.declare("endpoints", format!("{set}{}", m.field), &o)?;
            if m.is_unary() {
                ns.declare("transport", format!("{l}GRPCServer.{}", m.lower), &o)?;
            } else {
                ns.declare("transport", format!("{l}GRPCStreams.{}", m.lower), &o)?;
                ns.declare("transport", format!("{l}HTTPStreams.{}", m.lower), &o)?;
            }
            if m.is_unary() {
                ns.declare("endpoints", m.make_endpoint.clone(), &o)?;
                ns.declare("endpoints", format!("Test{b}{n}Endpoint"), &o)?;
                ns.declare("transport", format!("TestHTTP{b}{n}"), &o)?;
                ns.declare("transport", format!("TestGRPC{b}{n}"), &o)?;
            }
        }
    }
    Ok(())
}

fn build_method(
    api: &Api,
    service: &ir::Service,
    m: &ir::Method,
    resolver: &mut TypeResolver<'_>,
    method_count: &HashMap<String, usize>,
    several: bool,
) -> Result<Method, Diagnostic> {
    let streaming = match (m.client_streaming, m.server_streaming) {
        (false, false) => Streaming::Unary,
        (false, true) => Streaming::Server,
        (true, false) => Streaming::Client,
        (true, true) => Streaming::Bidi,
    };
    let name = go_camel_case(&m.name);
    // Unary methods are served over HTTP, at a default route without a rule;
    // server-streaming ones only with a rule, as newline-delimited JSON.
    let bindings = binding::bindings(service, m).map_err(|(template, e)| {
        at_method(
            service,
            m,
            format!("invalid default route '{template}': {e}"),
        )
    })?;
    let routes: Vec<Route> = bindings
        .into_iter()
        .map(|b| Route {
            pattern: go_pattern(&b.path, &b.template),
            sample_path: if b.is_default {
                b.path.clone()
            } else {
                sample::path(&b.template)
            },
            body: match b.body {
                binding::Body::None => String::new(),
                binding::Body::Whole => "*".into(),
                binding::Body::Field(f) => f,
            },
            response_body: b.response_body.unwrap_or_default(),
            is_default: b.is_default,
            verb: b.verb,
            template: b.path,
            parsed: b.template,
        })
        .collect();
    // The sample request fills the path variables of the first route so that
    // generated HTTP tests hit a real route, plus one plain field.
    let first = routes.first().filter(|r| !r.is_default).map(|r| &r.parsed);
    let sample_input = resolver.literal(&m.input, &sample::request(api, m, first));
    let sample_output = resolver.literal(&m.output, &sample::response(api, m));
    let mut cli_names = vec![format!("{}.{}", service.name, m.name)];
    if method_count.get(&m.name).copied().unwrap_or(0) == 1 {
        cli_names.insert(0, m.name.clone());
    }
    Ok(Method {
        proto_name: m.name.clone(),
        field: String::new(),
        lower: unexported(&name),
        doc: doc_lines(&m.doc),
        streaming,
        input: resolver.qualified(&m.input),
        output: resolver.qualified(&m.output),
        label: format!("{}.{}", service.name, m.name),
        starter: None,
        make_endpoint: if several {
            format!(
                "Make{}{name}Endpoint",
                service_base(&go_camel_case(&service.name))
            )
        } else {
            format!("Make{name}Endpoint")
        },
        cli_names,
        idempotent: m.idempotent || m.http.first().is_some_and(|r| r.verb == "GET"),
        routes,
        sample_input,
        sample_output,
        name,
    })
}

/// A diagnostic at an rpc, or at its file.
fn at_method(service: &ir::Service, m: &ir::Method, message: String) -> Diagnostic {
    Diagnostic::new(message).at_position(&service.file, m.position)
}

/// Writes a parsed template as the Go `pathPattern` the router and the HTTP
/// client share: flat segments (literals, `*`, `**`) and the range of
/// segments each variable binds.
fn go_pattern(template: &str, t: &path_template::PathTemplate) -> String {
    let mut segments = Vec::new();
    let mut vars = Vec::new();
    for seg in &t.segments {
        match seg {
            Segment::Variable {
                field,
                segments: inner,
            } => {
                let start = segments.len();
                flatten_segments(inner, &mut segments);
                vars.push(format!(
                    "{{{}, {start}, {}}}",
                    super::quote(field),
                    segments.len()
                ));
            }
            other => flatten_segments(std::slice::from_ref(other), &mut segments),
        }
    }
    let mut out = format!(
        "pathPattern{{template: {}, segments: []string{{{}}}",
        super::quote(template),
        segments
            .iter()
            .map(super::quote)
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(verb) = &t.verb {
        out.push_str(&format!(", verb: {}", super::quote(verb)));
    }
    if !vars.is_empty() {
        out.push_str(&format!(", vars: []pathVar{{{}}}", vars.join(", ")));
    }
    out.push('}');
    out
}

fn flatten_segments(segments: &[Segment], out: &mut Vec<String>) {
    for s in segments {
        match s {
            Segment::Literal(l) => out.push(l.clone()),
            Segment::Wildcard => out.push("*".into()),
            Segment::DeepWildcard => out.push("**".into()),
            Segment::Variable { segments, .. } => flatten_segments(segments, out),
        }
    }
}

/// Splits a doc comment into lines for `//` comments.
///
/// Leading indentation is dropped: gofmt reads indented comment lines as Go
/// doc lists and code blocks and re-lays them out, so indented proto comments
/// would not be gofmt-identical. Flush-left lines are plain paragraphs, which
/// gofmt keeps as they are.
pub fn doc_lines(doc: &str) -> Vec<String> {
    if doc.trim().is_empty() {
        return Vec::new();
    }
    doc.lines().map(|l| l.trim().to_string()).collect()
}

fn go_package_option(file: &ir::SourceFile) -> Option<&str> {
    file.options
        .iter()
        .find(|(k, _)| k == "go_package")
        .map(|(_, v)| v.as_str())
}

/// A diagnostic at a file's `option <name>`, or at the file.
fn at_option(file: &ir::SourceFile, option: &str, message: String) -> Diagnostic {
    match file.option_positions.iter().find(|(k, _, _)| k == option) {
        Some((_, line, col)) => Diagnostic::new(message).at_line_col(&file.name, *line, *col),
        None => Diagnostic::new(message).at_file(&file.name),
    }
}

/// Parses and validates a `go_package` option, `path;name` or `path`: the
/// text reaches Go import blocks and the plugins, so it must be exactly an
/// import path and an identifier.
fn parse_go_package(file: &ir::SourceFile, option: &str) -> Result<GoPackage, Diagnostic> {
    let (path, name) = match option.split_once(';') {
        Some((path, name)) => (path, name.to_string()),
        None => {
            // As protoc-gen-go derives it; a keyword is renamed where used.
            let last = option.rsplit('/').next().unwrap_or(option);
            let mut name = last.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                name.insert(0, '_');
            }
            (option, name)
        }
    };
    if let Err(why) = naming::check_import_path(path) {
        return Err(at_option(
            file,
            "go_package",
            format!("go_package {option:?} is not a Go import path: {why}"),
        )
        .with_help("write `option go_package = \"example.com/path/to/pkg;name\";`"));
    }
    if !naming::is_identifier(&name) {
        return Err(at_option(
            file,
            "go_package",
            format!(
                "go_package {option:?} names the package {name:?}, which is not a Go identifier"
            ),
        )
        .with_help("give the package name after ';', e.g. \"example.com/pkg;pkgpb\""));
    }
    Ok(GoPackage {
        import_path: path.to_string(),
        name,
    })
}

/// Decides which proto files the project generates and where every file's
/// Go code lives.
///
/// A file whose `go_package` is a package of a published module kitgen pins
/// (googleapis' common types, longrunning, IAM, …) is imported from it, as
/// protoc users and buf do; every other file is generated under
/// `<module>/pb`. Files with services are always generated, and so is any
/// file that shares a Go package with, or imports, a generated one: the
/// published package would register the same proto a second time, which
/// panics at start-up.
///
/// kitgen.toml's `[go.go_package]` overrides decide for the files they
/// name: an import path inside the module places the generated package
/// there, any other imports the file from it. `own_dirs` are the
/// directories of kitgen's own packages, which no override may take.
fn place_files(
    api: &Api,
    module: &str,
    overrides: &[GoPackageOverride],
    own_dirs: &[String],
) -> Result<Placement, Diagnostic> {
    let service_files: BTreeSet<&str> = api.services.iter().map(|s| s.file.as_str()).collect();
    // Each file name reaches the plugins' parameter (`M<file>=<path>`),
    // which ',' and '=' would cut into other parameters.
    if let Some(f) = api
        .files
        .iter()
        .find(|f| f.in_project && f.name.contains([',', '=']))
    {
        return Err(Diagnostic::new(format!(
            "the file name '{}' cannot be given to protoc-gen-go: ',' and '=' separate its parameters",
            f.name
        ))
        .at_file(&f.name)
        .with_help("rename the file (and its imports) without ',' or '='"));
    }
    // The validated overrides, by file.
    let mut chosen: HashMap<&str, (&GoPackageOverride, overrides::Target)> = HashMap::new();
    for o in overrides {
        let Some(file) = api.file(&o.proto) else {
            return Err(o
                .at_key(Diagnostic::new(format!(
                    "go_package names '{}', which is none of the project's proto files or their imports",
                    o.proto
                )))
                .with_help(
                    "name a file as imports spell it, relative to its include root (e.g. acme/money/v1/money.proto)",
                ));
        };
        if !file.in_project {
            return Err(o
                .at_key(Diagnostic::new(format!(
                    "'{}' belongs to the protobuf runtime: its Go package is google.golang.org/protobuf's own",
                    o.proto
                )))
                .with_help("remove this entry"));
        }
        if chosen.contains_key(file.name.as_str()) {
            return Err(o.at_key(Diagnostic::new(format!(
                "'{}' is given a go_package twice",
                o.proto
            ))));
        }
        let target = o.target(module)?;
        if let Some(dir) = &target.local_dir
            && own_dirs.contains(dir)
        {
            return Err(o
                .at_value(Diagnostic::new(format!(
                    "go_package {:?} puts protobuf code into {}, a package kitgen writes itself",
                    o.value,
                    if dir.is_empty() {
                        "the module's root".to_string()
                    } else {
                        format!("{dir}/")
                    }
                )))
                .with_help(
                    "choose a directory of its own, such as internal/<name>pb or api/<name>",
                ));
        }
        if target.local_dir.is_none() && service_files.contains(file.name.as_str()) {
            return Err(o
                .at_value(Diagnostic::new(format!(
                    "'{}' declares services, whose Go code kitgen generates: its go_package must be inside the module '{module}'",
                    o.proto
                )))
                .with_help(format!("use an import path such as {module}/api/<name>, or remove this entry")));
        }
        chosen.insert(file.name.as_str(), (o, target));
    }
    let mut external: HashMap<&str, GoPackage> = HashMap::new();
    for f in &api.files {
        // Every go_package is checked, used or not: it is text from outside.
        let declared = go_package_option(f)
            .map(|o| parse_go_package(f, o))
            .transpose()?;
        if !f.in_project {
            // The protobuf runtime's own files (well-known types).
            let pkg = declared.ok_or_else(|| {
                Diagnostic::new("a well-known type's file has no go_package").at_file(&f.name)
            })?;
            external.insert(&f.name, pkg);
        } else if let Some((_, target)) = chosen.get(f.name.as_str()) {
            if target.local_dir.is_none() {
                external.insert(
                    &f.name,
                    GoPackage {
                        import_path: target.import_path.clone(),
                        name: target.name.clone(),
                    },
                );
            }
        } else if let Some(pkg) = declared
            && !service_files.contains(f.name.as_str())
            && super::deps::is_published(&pkg.import_path)
        {
            external.insert(&f.name, pkg);
        }
    }
    // A published package that imports or shares a package with a
    // generated file must be generated too; one the user chose to import
    // is refused instead.
    loop {
        let local_paths: HashMap<&str, &str> = api
            .files
            .iter()
            .filter(|f| !external.contains_key(f.name.as_str()))
            .filter_map(|f| {
                go_package_option(f).map(|o| (o.split(';').next().unwrap_or(o), f.name.as_str()))
            })
            .collect();
        let mut demoted: Vec<(&str, String)> = Vec::new();
        for f in api.files.iter().filter(|f| f.in_project) {
            let Some(pkg) = external.get(f.name.as_str()) else {
                continue;
            };
            let path = pkg.import_path.as_str();
            if let Some(other) = local_paths.get(path) {
                demoted.push((
                    &f.name,
                    format!(
                        "'{}' is imported from {path}, but the project generates '{other}', whose go_package is {path} too: the program would link two copies of '{other}'",
                        f.name
                    ),
                ));
            } else if let Some(i) = f
                .imports
                .iter()
                .find(|i| !external.contains_key(i.as_str()))
            {
                demoted.push((
                    &f.name,
                    format!(
                        "'{}' is imported from {path}, but it imports '{i}', whose Go code the project generates: a package outside the project cannot refer to it",
                        f.name
                    ),
                ));
            }
        }
        if demoted.is_empty() {
            break;
        }
        for (name, why) in demoted {
            if let Some((o, _)) = chosen.get(name) {
                return Err(o.at_value(Diagnostic::new(why)).with_help(format!(
                    "give it an import path inside the module '{module}' (or remove this entry) to generate it"
                )));
            }
            external.remove(name);
        }
    }
    // One import path holds one package: an imported file's name (declared
    // or chosen) must agree with every other file at its path, or the
    // plugins refuse the request.
    let mut names_at: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut ordered: Vec<&ir::SourceFile> = api
        .files
        .iter()
        .filter(|f| external.contains_key(f.name.as_str()))
        .collect();
    // Overridden files last, so that a refusal lands on kitgen.toml.
    ordered.sort_by_key(|f| chosen.contains_key(f.name.as_str()));
    for f in ordered {
        let pkg = &external[f.name.as_str()];
        match names_at.get(pkg.import_path.as_str()) {
            Some((name, other)) if *name != pkg.name => {
                let message = format!(
                    "'{}' is in the Go package {} named {:?}, but '{other}' names it {name:?}",
                    f.name, pkg.import_path, pkg.name
                );
                let d = match chosen.get(f.name.as_str()) {
                    Some((o, _)) => o.at_value(Diagnostic::new(message)),
                    None => at_option(f, "go_package", message),
                };
                return Err(
                    d.with_help("one import path holds one package: give both the same name")
                );
            }
            Some(_) => {}
            None => {
                names_at.insert(&pkg.import_path, (&pkg.name, &f.name));
            }
        }
    }
    let moved: HashMap<&str, &(&GoPackageOverride, overrides::Target)> = chosen
        .iter()
        .filter(|(_, (_, t))| t.local_dir.is_some())
        .map(|(f, c)| (*f, c))
        .collect();
    // Files of one proto package share a Go package, unless that makes Go
    // packages import each other (grafeas v1beta1's common.proto, imported
    // by a package grafeas.proto imports): then the package's files are
    // grouped by the go_package each declares, as their authors did.
    let mut split: BTreeSet<String> = BTreeSet::new();
    let (local, package_clauses) = loop {
        let (local, clauses) = proto_packages(api, module, &external, &moved, &split)?;
        let Some((cycle, _)) = import_cycle(api, &local) else {
            break (local, clauses);
        };
        let more: BTreeSet<String> = api
            .files
            .iter()
            .filter(|f| !moved.contains_key(f.name.as_str()) && !split.contains(&f.package))
            .filter(|f| {
                local
                    .get(&f.name)
                    .is_some_and(|p| cycle.contains(&p.import_path.as_str()))
            })
            .map(|f| f.package.clone())
            .collect();
        if more.is_empty() {
            break (local, clauses);
        }
        split.extend(more);
    };
    check_local_packages(api, &local, &chosen)?;
    // Imported code gets an identifier no other package and no name of
    // kitgen's own code takes.
    let mut used: BTreeSet<String> = local.values().map(|p| p.name.clone()).collect();
    let mut by_path: BTreeMap<String, String> = BTreeMap::new();
    let mut files = HashMap::new();
    for f in &api.files {
        let Some(pkg) = external.get(f.name.as_str()) else {
            continue;
        };
        let name = by_path
            .entry(pkg.import_path.clone())
            .or_insert_with(|| {
                let name = naming::package_name(&pkg.name, &used);
                used.insert(name.clone());
                name
            })
            .clone();
        files.insert(
            f.name.clone(),
            GoPackage {
                import_path: pkg.import_path.clone(),
                name,
            },
        );
    }
    // The plugins read an imported file's package from its go_package
    // unless told otherwise: an override tells them.
    let imported_overrides: BTreeMap<String, GoPackage> = chosen
        .iter()
        .filter(|(f, (_, t))| t.local_dir.is_none() && external.contains_key(*f))
        .map(|(f, (_, t))| {
            (
                f.to_string(),
                GoPackage {
                    import_path: t.import_path.clone(),
                    name: t.name.clone(),
                },
            )
        })
        .collect();
    let mut published_imports = BTreeSet::new();
    let mut unpinned_imports = BTreeSet::new();
    for f in api.files.iter().filter(|f| local.contains_key(&f.name)) {
        for import in &f.imports {
            if let Some(pkg) = files.get(import) {
                if super::deps::is_published(&pkg.import_path) {
                    published_imports.insert(pkg.import_path.clone());
                } else if api.file(import).is_some_and(|i| i.in_project) {
                    unpinned_imports.insert(pkg.import_path.clone());
                }
            }
        }
    }
    Ok(Placement {
        local,
        external: files,
        published_imports,
        unpinned_imports,
        package_clauses,
        imported_overrides,
    })
}

/// Refuses local placements the plugins or the go command cannot take: two
/// files whose `.pb.go` would have one name in one package, and Go packages
/// that would import each other.
fn check_local_packages(
    api: &Api,
    local: &BTreeMap<String, GoPackage>,
    chosen: &HashMap<&str, (&GoPackageOverride, overrides::Target)>,
) -> Result<(), Diagnostic> {
    let at = |file: &str, message: String| match chosen.get(file) {
        Some((o, _)) => o.at_value(Diagnostic::new(message)),
        None => Diagnostic::new(message).at_file(file),
    };
    // protoc-gen-go names a file's output after the file's base name:
    // `<stem>.pb.go`, and `<stem>_grpc.pb.go` with services.
    let service_files: HashSet<&str> = api.services.iter().map(|s| s.file.as_str()).collect();
    let mut outputs: HashMap<(String, String), &str> = HashMap::new();
    for (file, pkg) in local {
        let base = file.rsplit('/').next().unwrap_or(file);
        let stem = base.strip_suffix(".proto").unwrap_or(base).to_string();
        // As kitgen writes them (see naming::stub_path).
        let mut names = vec![naming::stub_path(&format!("{stem}.pb.go"))];
        if service_files.contains(file.as_str()) {
            names.push(naming::stub_path(&format!("{stem}_grpc.pb.go")));
        }
        for name in names {
            if let Some(other) = outputs.insert((pkg.import_path.clone(), name.clone()), file) {
                let (first, second) = if chosen.contains_key(file.as_str()) {
                    (other, file.as_str())
                } else {
                    (file.as_str(), other)
                };
                return Err(at(
                    second,
                    format!(
                        "'{first}' and '{second}' would both be generated as {name} in {}",
                        pkg.import_path
                    ),
                )
                .with_help(
                    "rename one of them, or give one a go_package of its own in kitgen.toml",
                ));
            }
        }
    }
    if let Some((cycle, files)) = import_cycle(api, local) {
        let culprit = files
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .find(|f| chosen.contains_key(f))
            .or(files.first().map(|(a, _)| *a))
            .unwrap_or_default();
        let how = files
            .iter()
            .map(|(a, b)| format!("'{a}' imports '{b}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(at(
            culprit,
            format!(
                "the Go packages {} would import each other ({how})",
                cycle.join(" → ")
            ),
        )
        .with_help("put files that import each other's packages in one Go package"));
    }
    Ok(())
}

/// A cycle of Go packages that would import each other, if any: the
/// packages in order (the first again at the end) and, for each step, a file
/// and the import that makes it.
#[allow(clippy::type_complexity)]
fn import_cycle<'a>(
    api: &'a Api,
    local: &'a BTreeMap<String, GoPackage>,
) -> Option<(Vec<&'a str>, Vec<(&'a str, &'a str)>)> {
    // Go packages, and which files make each import which.
    let mut edges: BTreeMap<&str, BTreeMap<&str, (&str, &str)>> = BTreeMap::new();
    for f in &api.files {
        let Some(from) = local.get(&f.name) else {
            continue;
        };
        for i in &f.imports {
            if let Some(to) = local.get(i)
                && to.import_path != from.import_path
            {
                edges
                    .entry(from.import_path.as_str())
                    .or_default()
                    .entry(to.import_path.as_str())
                    .or_insert((f.name.as_str(), i.as_str()));
            }
        }
    }
    // Depth-first search for a cycle, in a deterministic order.
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeMap<&'a str, (&'a str, &'a str)>>,
        state: &mut HashMap<&'a str, bool>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let start = stack.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node);
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node, false);
        stack.push(node);
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            if let Some(cycle) = visit(next, edges, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node, true);
        None
    }
    let mut state = HashMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut state, &mut Vec::new()) {
            let files: Vec<(&str, &str)> = cycle
                .windows(2)
                .filter_map(|w| edges.get(w[0]).and_then(|e| e.get(w[1])).copied())
                .collect();
            return Some((cycle, files));
        }
    }
    None
}

struct Placement {
    local: BTreeMap<String, GoPackage>,
    external: HashMap<String, GoPackage>,
    published_imports: BTreeSet<String>,
    /// Imported packages outside the project that no pinned module holds:
    /// the user requires their modules in go.mod.
    unpinned_imports: BTreeSet<String>,
    /// Import path → package clause, where kitgen's code calls a package
    /// by another name (an override named it `grpc`, which kitgen imports).
    package_clauses: BTreeMap<String, String>,
    /// Imported files an override placed: file → import path and clause.
    imported_overrides: BTreeMap<String, GoPackage>,
}

/// Places every generated proto package under `<module>/pb`. The package of
/// the services is `pb` itself, so importing another package later does not
/// move the code users import; every other package gets a sub-package named
/// as buf names them (`commonv1`), never a Go keyword or a name kitgen's
/// code uses (`typepb` for `google.type`). With services in several
/// packages, all of them get sub-packages. Files an override moves go where
/// it says, under a name kitgen's code can use.
#[allow(clippy::type_complexity)]
fn proto_packages(
    api: &Api,
    module: &str,
    external: &HashMap<&str, GoPackage>,
    moved: &HashMap<&str, &(&GoPackageOverride, overrides::Target)>,
    split: &BTreeSet<String>,
) -> Result<(BTreeMap<String, GoPackage>, BTreeMap<String, String>), Diagnostic> {
    let mut used = BTreeSet::from(["pb".to_string()]);
    // Overrides first, in file order: one import path, one package clause.
    let mut clause_of: BTreeMap<&str, (&str, &GoPackageOverride)> = BTreeMap::new();
    let mut moved_packages: BTreeMap<&str, GoPackage> = BTreeMap::new();
    let mut clauses = BTreeMap::new();
    let mut ordered: Vec<(&&str, &&(&GoPackageOverride, overrides::Target))> =
        moved.iter().collect();
    ordered.sort_by_key(|(f, _)| **f);
    for (file, (o, target)) in ordered {
        let path = target.import_path.as_str();
        if let Some((clause, first)) = clause_of.get(path) {
            if *clause != target.name {
                return Err(o
                    .at_value(Diagnostic::new(format!(
                        "go_package {:?} names the package {:?}, but '{}' puts the package {clause:?} at {path}",
                        o.value, target.name, first.proto
                    )))
                    .with_help("one import path holds one package: use the same name for both"));
            }
        } else {
            clause_of.insert(path, (&target.name, o));
        }
        let pkg = moved_packages
            .entry(path)
            .or_insert_with(|| {
                let name = naming::package_name(&target.name, &used);
                used.insert(name.clone());
                if name != target.name {
                    clauses.insert(path.to_string(), target.name.clone());
                }
                GoPackage {
                    import_path: path.to_string(),
                    name,
                }
            })
            .clone();
        moved_packages.insert(file, pkg);
    }
    let local = |f: &&ir::SourceFile| {
        f.in_project
            && !external.contains_key(f.name.as_str())
            && !moved.contains_key(f.name.as_str())
    };
    // A file's group: its proto package, and for a package `split` names,
    // the go_package it declares too (after a '#').
    let group = |f: &ir::SourceFile| -> String {
        if split.contains(&f.package) {
            let declared = go_package_option(f).unwrap_or("");
            let declared = declared.split(';').next().unwrap_or(declared);
            format!("{}#{declared}", f.package)
        } else {
            f.package.clone()
        }
    };
    let packages: BTreeSet<String> = api.files.iter().filter(local).map(group).collect();
    let service_packages: BTreeSet<String> = api
        .services
        .iter()
        .filter(|s| !moved.contains_key(s.file.as_str()))
        .filter_map(|s| api.file(&s.file).map(group))
        .collect();
    let root = match (service_packages.len(), packages.len()) {
        (_, 1) => packages.iter().next().cloned(),
        (1, _) => service_packages.iter().next().cloned(),
        _ => None,
    };
    let mut by_package: BTreeMap<String, GoPackage> = BTreeMap::new();
    for pkg in &packages {
        if Some(pkg) == root.as_ref() {
            by_package.insert(
                pkg.clone(),
                GoPackage {
                    import_path: format!("{module}/pb"),
                    name: "pb".into(),
                },
            );
            continue;
        }
        // A split group is named after its declared package first.
        let (proto_package, declared) = pkg.split_once('#').unwrap_or((pkg, ""));
        let mut parts: Vec<&str> = proto_package.split('.').filter(|p| !p.is_empty()).collect();
        if let Some(last) = declared.rsplit('/').next().filter(|l| !l.is_empty()) {
            parts.push(last);
        }
        let is_version = |p: &str| {
            p.len() > 1 && p.starts_with('v') && p[1..2].chars().all(|c| c.is_ascii_digit())
        };
        let mut take = if parts.len() > 1 && is_version(parts[parts.len() - 1]) {
            2
        } else {
            1
        };
        let mut name;
        loop {
            name = parts[parts.len().saturating_sub(take)..]
                .concat()
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "");
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                name = format!("pkg{name}");
            }
            if !used.contains(&name) || take >= parts.len() {
                break;
            }
            take += 1;
        }
        let name = naming::package_name(&name, &used);
        used.insert(name.clone());
        by_package.insert(
            pkg.clone(),
            GoPackage {
                import_path: format!("{module}/pb/{name}"),
                name,
            },
        );
    }
    let mut out: BTreeMap<String, GoPackage> = api
        .files
        .iter()
        .filter(local)
        .filter_map(|f| {
            by_package
                .get(&group(f))
                .map(|p| (f.name.clone(), p.clone()))
        })
        .collect();
    for (file, pkg) in moved_packages {
        if moved.contains_key(file) {
            out.insert(file.to_string(), pkg);
        }
    }
    Ok((out, clauses))
}

/// The messages and enums declared directly inside each message, by the
/// message's full name.
fn nested_types(api: &Api) -> HashMap<&str, Vec<&str>> {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::new();
    for name in api
        .messages
        .iter()
        .map(|m| m.full_name.as_str())
        .chain(api.enums.iter().map(|e| e.full_name.as_str()))
    {
        if let Some((parent, _)) = name.rsplit_once('.') {
            out.entry(parent).or_default().push(name);
        }
    }
    out
}

/// protoc-gen-go's names for the fields of `msg`, declared in the proto
/// package `package` (see [`naming::field_names`]).
fn message_field_names(
    msg: &ir::Message,
    package: &str,
    nested: &HashMap<&str, Vec<&str>>,
) -> naming::FieldNames {
    let nested: HashSet<String> = nested
        .get(msg.full_name.as_str())
        .into_iter()
        .flatten()
        .map(|n| go_type_name(n, package))
        .collect();
    naming::field_names(msg, &go_type_name(&msg.full_name, package), &nested)
}

/// Resolves proto type names to qualified Go types and records the imports used.
pub struct TypeResolver<'a> {
    api: &'a Api,
    /// Every file's Go package, generated or imported.
    packages: HashMap<&'a str, &'a GoPackage>,
    /// Type full name → (file, package).
    types: HashMap<&'a str, (&'a str, &'a str)>,
    /// Imported packages the code refers to.
    used_external: BTreeMap<String, String>,
    local: &'a BTreeMap<String, GoPackage>,
    /// protoc-gen-go's field names, by message full name.
    field_names: HashMap<String, naming::FieldNames>,
    nested: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> TypeResolver<'a> {
    fn new(api: &'a Api, placement: &'a Placement) -> Self {
        let mut packages: HashMap<&str, &GoPackage> = HashMap::new();
        for (file, pkg) in &placement.local {
            packages.insert(file, pkg);
        }
        for (file, pkg) in &placement.external {
            packages.insert(file, pkg);
        }
        let file_package: HashMap<&str, &str> = api
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.package.as_str()))
            .collect();
        let mut types = HashMap::new();
        for (name, file) in api
            .messages
            .iter()
            .map(|m| (m.full_name.as_str(), m.file.as_str()))
            .chain(
                api.enums
                    .iter()
                    .map(|e| (e.full_name.as_str(), e.file.as_str())),
            )
        {
            types.insert(name, (file, file_package.get(file).copied().unwrap_or("")));
        }
        TypeResolver {
            api,
            packages,
            types,
            used_external: BTreeMap::new(),
            local: &placement.local,
            field_names: HashMap::new(),
            nested: nested_types(api),
        }
    }

    fn external_packages(&self) -> Vec<GoPackage> {
        self.used_external
            .iter()
            .map(|(path, name)| GoPackage {
                import_path: path.clone(),
                name: name.clone(),
            })
            .collect()
    }

    pub fn package_of(&mut self, full_name: &str) -> (GoPackage, String) {
        let (file, package) = self.types.get(full_name).copied().unwrap_or(("", ""));
        let go_name = go_type_name(full_name, package);
        let pkg = match self.packages.get(file) {
            Some(p) => (*p).clone(),
            None => GoPackage {
                import_path: String::new(),
                name: "pb".into(),
            },
        };
        if !self.local.contains_key(file) {
            self.used_external
                .insert(pkg.import_path.clone(), pkg.name.clone());
        }
        (pkg, go_name)
    }

    /// `pb.SumRequest`
    pub fn qualified(&mut self, full_name: &str) -> String {
        let (pkg, name) = self.package_of(full_name);
        format!("{}.{}", pkg.name, name)
    }

    /// protoc-gen-go's names for the fields of a message (see
    /// [`naming::field_names`]).
    fn field_names(&mut self, msg: &ir::Message) -> naming::FieldNames {
        if let Some(names) = self.field_names.get(&msg.full_name) {
            return names.clone();
        }
        let (_, package) = self
            .types
            .get(msg.full_name.as_str())
            .copied()
            .unwrap_or(("", ""));
        let names = message_field_names(msg, package, &self.nested);
        self.field_names
            .insert(msg.full_name.clone(), names.clone());
        names
    }

    /// The qualified Go name of an enum's first non-zero value
    /// (`pb.Kind_KIND_A`):
    /// protoc-gen-go prefixes a nested enum's values with the message.
    fn enum_value(&mut self, full_name: &str) -> Option<String> {
        let e = self.api.enum_type(full_name)?;
        // A value other than the zero one, which proto3 does not send.
        let value = e
            .values
            .iter()
            .find(|v| v.number != 0)
            .or(e.values.first())?
            .name
            .clone();
        let (pkg, go) = self.package_of(full_name);
        let (_, package) = self.types.get(full_name).copied().unwrap_or(("", ""));
        let prefix = match full_name.rsplit_once('.') {
            Some((parent, _)) if self.api.message(parent).is_some() => {
                go_type_name(parent, package)
            }
            _ => go,
        };
        Some(format!("{}.{prefix}_{value}", pkg.name))
    }

    /// A one-line composite literal `&pkg.Msg{Field: value}` for tests.
    ///
    /// A field with explicit presence (proto3 `optional`, proto2) is a
    /// pointer (`proto.String(…)`); a field of a oneof is set through its
    /// wrapper (`Kind: &pkg.Msg_Id{Id: …}`), one field per oneof.
    fn literal(&mut self, full_name: &str, assignments: &[(String, Sample)]) -> String {
        self.literal_at(full_name, assignments, 0)
    }

    fn literal_at(
        &mut self,
        full_name: &str,
        assignments: &[(String, Sample)],
        depth: usize,
    ) -> String {
        let mut tree: BTreeMap<String, Vec<(String, Sample)>> = BTreeMap::new();
        for (path, sample) in assignments {
            let (head, rest) = match path.split_once('.') {
                Some((h, r)) => (h.to_string(), r.to_string()),
                None => (path.clone(), String::new()),
            };
            tree.entry(head).or_default().push((rest, sample.clone()));
        }
        let mut parts = Vec::new();
        if let Some(msg) = self.api.message(full_name).cloned() {
            // proto2's required fields must be set, or the message does not
            // marshal (a required message without them can never be; the
            // depth bounds that).
            if depth < 8 {
                for f in msg
                    .fields
                    .iter()
                    .filter(|f| f.cardinality == Cardinality::Required)
                {
                    tree.entry(f.name.clone())
                        .or_insert_with(|| vec![(String::new(), Sample::Default)]);
                }
            }
            let names = self.field_names(&msg);
            let mut oneofs_set = HashSet::new();
            // Keep field declaration order, as a person would write it.
            for (i, field) in msg.fields.iter().enumerate() {
                let Some(items) = tree.get(&field.name) else {
                    continue;
                };
                let repeated = field.cardinality == Cardinality::Repeated;
                if repeated && !matches!(field.ty, FieldType::Scalar(_)) {
                    continue;
                }
                let go_field = &names.fields[i];
                let pointer = field.oneof.is_none()
                    && matches!(
                        field.cardinality,
                        Cardinality::Optional | Cardinality::Required
                    );
                let value = match &field.ty {
                    FieldType::Message(inner) => {
                        let nested: Vec<(String, Sample)> = items
                            .iter()
                            .filter(|(p, _)| !p.is_empty())
                            .cloned()
                            .collect();
                        self.literal_at(inner, &nested, depth + 1)
                    }
                    FieldType::Scalar(s) if repeated => format!(
                        "[]{}{{{}}}",
                        scalar_go_type(*s),
                        scalar_literal(*s, &items[0].1, &field.name, false)
                    ),
                    FieldType::Scalar(s) => scalar_literal(*s, &items[0].1, &field.name, pointer),
                    // Enums set where they must be: proto2's required ones,
                    // and path variables (a zero value is no value there).
                    FieldType::Enum(e)
                        if !repeated
                            && (field.cardinality == Cardinality::Required
                                || matches!(items[0].1, Sample::PathValue(_))) =>
                    {
                        match self.enum_value(e) {
                            Some(v) if pointer => format!("{v}.Enum()"),
                            Some(v) => v,
                            None => continue,
                        }
                    }
                    FieldType::Enum(_) | FieldType::Map(..) => continue,
                };
                match field.oneof {
                    Some(o) => {
                        // A oneof holds one field: the first assigned wins.
                        if !oneofs_set.insert(o) {
                            continue;
                        }
                        let (pkg, _) = self.package_of(full_name);
                        parts.push(format!(
                            "{}: &{}.{}{{{go_field}: {value}}}",
                            names.oneofs[o], pkg.name, names.wrappers[i]
                        ));
                    }
                    None => parts.push(format!("{go_field}: {value}")),
                }
            }
        }
        format!("&{}{{{}}}", self.qualified(full_name), parts.join(", "))
    }
}

/// protoc-gen-go's Go type of a scalar.
fn scalar_go_type(s: Scalar) -> &'static str {
    match s {
        Scalar::Bytes => "[]byte",
        Scalar::String => "string",
        Scalar::Bool => "bool",
        Scalar::Double => "float64",
        Scalar::Float => "float32",
        Scalar::Int32 | Scalar::Sint32 | Scalar::Sfixed32 => "int32",
        Scalar::Int64 | Scalar::Sint64 | Scalar::Sfixed64 => "int64",
        Scalar::Uint32 | Scalar::Fixed32 => "uint32",
        Scalar::Uint64 | Scalar::Fixed64 => "uint64",
    }
}

/// A Go expression of scalar type `s` for a sample: a pointer to it (through
/// google.golang.org/protobuf/proto's helpers) when `pointer`, as
/// protoc-gen-go declares scalars with explicit presence (bytes excepted).
fn scalar_literal(s: Scalar, sample: &Sample, field: &str, pointer: bool) -> String {
    let helper = match s {
        Scalar::String => "String",
        Scalar::Bool => "Bool",
        Scalar::Double => "Float64",
        Scalar::Float => "Float32",
        Scalar::Int32 | Scalar::Sint32 | Scalar::Sfixed32 => "Int32",
        Scalar::Int64 | Scalar::Sint64 | Scalar::Sfixed64 => "Int64",
        Scalar::Uint32 | Scalar::Fixed32 => "Uint32",
        Scalar::Uint64 | Scalar::Fixed64 => "Uint64",
        Scalar::Bytes => "",
    };
    let value = match sample::scalar(s, sample, field) {
        ScalarValue::String(v) => format!("{v:?}"),
        // protoc-gen-go's bytes are a slice, presence or not.
        ScalarValue::Bytes(b) => return format!("[]byte({b:?})"),
        ScalarValue::Bool(b) => b.to_string(),
        ScalarValue::Float(f) => format!("{f:?}"),
        ScalarValue::Int(i) => i.to_string(),
    };
    if pointer {
        format!("proto.{helper}({value})")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_flatten_variables_into_segment_ranges() {
        let t = "/v1/{name=shelves/*/books/*}:move";
        let parsed = path_template::parse(t).unwrap();
        assert_eq!(
            go_pattern(t, &parsed),
            r#"pathPattern{template: "/v1/{name=shelves/*/books/*}:move", segments: []string{"v1", "shelves", "*", "books", "*"}, verb: "move", vars: []pathVar{{"name", 1, 5}}}"#
        );
        let t = "/v1/{parent=folders/*}/files/{name=**}";
        let parsed = path_template::parse(t).unwrap();
        assert_eq!(
            go_pattern(t, &parsed),
            r#"pathPattern{template: "/v1/{parent=folders/*}/files/{name=**}", segments: []string{"v1", "folders", "*", "files", "**"}, vars: []pathVar{{"parent", 1, 3}, {"name", 4, 5}}}"#
        );
        let t = "/pkg.Service/Method";
        let parsed = path_template::parse(t).unwrap();
        assert_eq!(
            go_pattern(t, &parsed),
            r#"pathPattern{template: "/pkg.Service/Method", segments: []string{"pkg.Service", "Method"}}"#
        );
    }
}
