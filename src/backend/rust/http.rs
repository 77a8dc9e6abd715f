//! The HTTP transport of a Rust project: the route table of every
//! `google.api.http` binding, generated from the IR's parsed templates, over
//! a runtime (`transcode.rs`, the same in every project) with the Go
//! target's semantics.

use std::fmt::Write as _;

use askama::Template;

use super::model::{Method, Project, Service};
use crate::ir::binding::{self, Binding, Body};
use crate::ir::path_template::Segment;
use crate::ir::{self, Api, Cardinality, FieldType, Scalar};

/// The runtime of every project: path matching, binding, JSON, errors; the
/// same in every project, its code tables rendered from `ir::status`.
#[derive(Template)]
#[template(path = "rust/src/transport/http/transcode.rs", escape = "none")]
struct TranscodeRs {
    http_statuses: Vec<String>,
    codes_from_http: Vec<String>,
}

/// The HTTP client's runtime, the same in every project.
const CLIENT: &str = include_str!("../../../templates/rust/src/transport/http/client.rs");

/// The unit tests of the runtime and of the client, the same in every
/// project.
const TRANSCODE_TESTS: &str =
    include_str!("../../../templates/rust/src/transport/http/transcode/tests.rs");
const CLIENT_TESTS: &str =
    include_str!("../../../templates/rust/src/transport/http/client/tests.rs");

/// The runtime's text.
pub(super) fn transcode_rs() -> String {
    let mut out = TranscodeRs {
        http_statuses: super::status::http_status_arms(),
        codes_from_http: super::status::code_from_http_arms(),
    }
    .render()
    .expect("the runtime template renders");
    out.push('\n');
    out
}

/// rustfmt's line width.
const WIDTH: usize = 100;

/// One HTTP route in the router's order.
struct Route<'a> {
    service: &'a Service,
    method: &'a Method,
    ir_method: &'a ir::Method,
    binding: Binding,
}

impl Route<'_> {
    fn streams(&self) -> bool {
        self.method.server_streaming
    }
}

/// Every route of every service: per service, the methods' bindings in
/// order, then custom verbs first and longer verbs before shorter ones
/// (`{id}:custom:custom` before `{id}:custom`), as the Go router tries them.
fn routes<'a>(p: &'a Project, api: &'a Api) -> Vec<Route<'a>> {
    let mut out = Vec::new();
    for (service, ir_service) in p.services.iter().zip(&api.services) {
        let mut routes: Vec<Route<'a>> = Vec::new();
        for (method, ir_method) in service.methods.iter().zip(&ir_service.methods) {
            // Templates were validated by the frontend; one that does not
            // parse has no route rather than a broken one.
            let Ok(bindings) = binding::bindings(ir_service, ir_method) else {
                continue;
            };
            routes.extend(bindings.into_iter().map(|binding| Route {
                service,
                method,
                ir_method,
                binding,
            }));
        }
        routes.sort_by_cached_key(|r| {
            let verb = r.binding.template.verb.as_ref().map_or(0, String::len);
            (!r.binding.path.contains(':'), std::cmp::Reverse(verb))
        });
        out.extend(routes);
    }
    out
}

/// `package.Service.Method`, which names a method in every API.
fn full_method_name(service: &Service, method: &Method) -> String {
    format!("{}.{}", service.full_name, method.proto_name)
}

/// A Rust string literal.
fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A field `name: open…],` at `indent` (`open` is `&[` or `vec![`), on one
/// line, or with one item per line when it does not fit as rustfmt decides
/// (60 columns of items at most, a line of 100).
fn array_field(indent: usize, name: &str, open: &str, items: &[String]) -> String {
    let pad = " ".repeat(indent);
    let one = items.join(", ");
    let line = format!("{pad}{name}: {open}{one}],");
    if one.len() <= 60 && line.len() <= WIDTH {
        return line;
    }
    let mut out = format!("{pad}{name}: {open}\n");
    for item in items {
        let _ = writeln!(out, "{pad}    {item},");
    }
    let _ = write!(out, "{pad}],");
    out
}

/// The flattened segments of a template and the range each variable binds.
fn flatten(segments: &[Segment], out: &mut Vec<String>) {
    for s in segments {
        match s {
            Segment::Literal(l) => out.push(format!("Segment::Literal({})", quote(l))),
            Segment::Wildcard => out.push("Segment::Wildcard".into()),
            Segment::DeepWildcard => out.push("Segment::DeepWildcard".into()),
            Segment::Variable { segments, .. } => flatten(segments, out),
        }
    }
}

/// The `Rule { … }` literal of a route, its first line at `indent`
/// (written by the caller), the rest indented from there.
fn rule_literal(route: &Route<'_>, indent: usize) -> String {
    let b = &route.binding;
    let mut segments = Vec::new();
    let mut variables = Vec::new();
    for s in &b.template.segments {
        match s {
            Segment::Variable {
                field,
                segments: inner,
            } => {
                let start = segments.len();
                flatten(inner, &mut segments);
                variables.push(format!(
                    "Variable::new({}, {start}, {})",
                    quote(field),
                    segments.len()
                ));
            }
            other => flatten(std::slice::from_ref(other), &mut segments),
        }
    }
    let body = match &b.body {
        Body::None => "BodyRule::None".to_string(),
        Body::Whole => "BodyRule::Whole".to_string(),
        Body::Field(f) => format!("BodyRule::Field({})", quote(f)),
    };
    let response_body = match &b.response_body {
        Some(f) => format!("Some({})", quote(f)),
        None => "None".to_string(),
    };
    let verb = match &b.template.verb {
        Some(v) => format!("Some({})", quote(v)),
        None => "None".to_string(),
    };
    let pad = " ".repeat(indent);
    let mut out = String::from("Rule {\n");
    let _ = writeln!(out, "{pad}    method: {},", quote(&b.verb));
    let _ = writeln!(out, "{pad}    path: PathTemplate {{");
    let _ = writeln!(out, "{pad}        template: {},", quote(&b.path));
    out.push_str(&array_field(indent + 8, "segments", "vec![", &segments));
    out.push('\n');
    let _ = writeln!(out, "{pad}        verb: {verb},");
    out.push_str(&array_field(indent + 8, "variables", "vec![", &variables));
    out.push('\n');
    let _ = writeln!(out, "{pad}    }},");
    let _ = writeln!(out, "{pad}    body: {body},");
    let _ = writeln!(out, "{pad}    response_body: {response_body},");
    let _ = writeln!(out, "{pad}    input: {},", quote(&route.ir_method.input));
    let _ = writeln!(out, "{pad}    output: {},", quote(&route.ir_method.output));
    let _ = write!(out, "{pad}}}");
    out
}

/// The `transcoder.route(…)` statement of a route.
fn route_code(route: &Route<'_>) -> String {
    let mut out = String::new();
    out.push_str("    transcoder.route(\n        ");
    out.push_str(&rule_literal(route, 8));
    out.push_str(",\n");
    let kind = if route.streams() {
        "server_streaming"
    } else {
        "unary"
    };
    let endpoint = format!(
        "endpoints.{}.{}.clone()",
        route.service.field, route.method.name
    );
    let call = format!("        transcode::{kind}({endpoint}),");
    if call.len() <= WIDTH {
        out.push_str(&call);
    } else {
        let _ = write!(
            out,
            "        transcode::{kind}(\n            {endpoint},\n        ),"
        );
    }
    out.push_str("\n    );");
    out
}

/// The body of `client_rules()`: each unary method's first rule, by full
/// method name, in the services' and methods' order.
fn client_rules(p: &Project, api: &Api) -> String {
    let mut items = Vec::new();
    for (service, ir_service) in p.services.iter().zip(&api.services) {
        for (method, ir_method) in service.methods.iter().zip(&ir_service.methods) {
            if method.client_streaming || method.server_streaming {
                continue;
            }
            let Ok(bindings) = binding::bindings(ir_service, ir_method) else {
                continue;
            };
            let Some(binding) = bindings.into_iter().next() else {
                continue;
            };
            let route = Route {
                service,
                method,
                ir_method,
                binding,
            };
            items.push(format!(
                "        (\n            {},\n            {},\n        ),",
                quote(&full_method_name(service, method)),
                rule_literal(&route, 12)
            ));
        }
    }
    if items.is_empty() {
        return "    Vec::new()".to_string();
    }
    format!("    vec![\n{}\n    ]", items.join("\n"))
}

/// The `use transcode::{…};` line of the names the routes use.
fn imports(routes: &[Route<'_>]) -> String {
    if routes.is_empty() {
        return "use transcode::Rule;\n".to_string();
    }
    let mut names = vec!["BodyRule", "PathTemplate", "Rule", "Segment"];
    if routes.iter().any(|r| !r.binding.path_fields().is_empty()) {
        names.push("Variable");
    }
    format!("use transcode::{{{}}};\n", names.join(", "))
}

#[derive(Template)]
#[template(path = "rust/src/transport/http.rs", escape = "none")]
struct HttpRs {
    imports: String,
    routes: Vec<RouteView>,
    client_rules: String,
}

struct RouteView {
    comment: String,
    code: String,
}

#[derive(Template)]
#[template(path = "rust/src/transport/http/tests.rs", escape = "none")]
struct HttpTests {
    /// What the tests import from `service`.
    service_imports: String,
    services: Vec<FakeService>,
    /// `Services { … }` of the fake, as rustfmt lays it out.
    services_literal: String,
    /// The `CASES` and `STREAMS` arrays.
    cases: String,
    streams: String,
    has_streams: bool,
    /// Indexes into `CASES`: the first case, a GET one, one with a body.
    first_case: Option<usize>,
    head_case: Option<usize>,
    body_case: Option<usize>,
    /// Whether no template can match `/kitgen.test/…`.
    probe_404: bool,
}

/// A service the test's fake implements.
struct FakeService {
    trait_path: String,
    methods: Vec<FakeMethod>,
}

struct FakeMethod {
    /// `async fn name(&self, request: Request<…>) -> Result<…, Status> {`,
    /// wrapped as rustfmt wraps it.
    signature: String,
    label: String,
    client_streaming: bool,
    server_streaming: bool,
    /// `google.protobuf.Empty`, which prost spells `()`.
    unit_response: bool,
}

/// A request the generated tests send, and what the fake must receive.
struct TestCase {
    method: String,
    path: String,
    body: String,
    /// The method's full name, as the fake logs it.
    label: String,
    /// The request message's full name.
    input: String,
    /// Path fields of string type and the value the path gives them.
    strings: Vec<(String, String)>,
}

impl TestCase {
    /// The `Case { … }` literal at `indent`.
    fn literal(&self, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let strings: Vec<String> = self
            .strings
            .iter()
            .map(|(f, v)| format!("({}, {})", quote(f), quote(v)))
            .collect();
        let mut out = format!("{pad}Case {{\n");
        for (name, value) in [
            ("method", &self.method),
            ("path", &self.path),
            ("body", &self.body),
            ("reached", &self.label),
            ("input", &self.input),
        ] {
            let _ = writeln!(out, "{pad}    {name}: {},", quote(value));
        }
        out.push_str(&array_field(indent + 4, "strings", "&[", &strings));
        let _ = write!(out, "\n{pad}}}");
        out
    }
}

/// A `&[Case]` expression: `&[]`, or one case per line.
fn cases_array(cases: &[TestCase]) -> String {
    match cases {
        [] => return "&[]".to_string(),
        // rustfmt lets a lone struct literal overflow the brackets.
        [one] => return format!("&[{}]", one.literal(0).trim_start()),
        _ => {}
    }
    let mut out = String::from("&[\n");
    for c in cases {
        out.push_str(&c.literal(4));
        out.push_str(",\n");
    }
    out.push(']');
    out
}

/// The fake's method, `async fn` with full paths, as rustfmt wraps it.
fn fake_signature(m: &Method) -> String {
    let wrap = |ty: &str, stream: bool| {
        let ty = ty.to_string();
        if stream {
            format!("BoxStream<{ty}>")
        } else {
            ty
        }
    };
    let request = wrap(&m.input, m.client_streaming);
    let response = wrap(&m.output, m.server_streaming);
    let one = format!(
        "    async fn {}(&self, request: Request<{request}>) -> Result<{response}, Status> {{",
        m.name
    );
    if one.len() <= WIDTH {
        return one;
    }
    format!(
        "    async fn {}(\n        &self,\n        request: Request<{request}>,\n    ) -> Result<{response}, Status> {{",
        m.name
    )
}

/// Whether the template of `b` matches the unescaped sample `path` (which
/// holds no escapes): its segments, `*` one non-empty segment, `**` any
/// number of them, and its verb.
fn takes(b: &Binding, path: &str) -> bool {
    fn flat(segments: &[Segment], out: &mut Vec<Segment>) {
        for s in segments {
            match s {
                Segment::Variable { segments, .. } => flat(segments, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut pattern = Vec::new();
    flat(&b.template.segments, &mut pattern);
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = match &b.template.verb {
        Some(verb) => match path
            .strip_suffix(verb.as_str())
            .and_then(|p| p.strip_suffix(':'))
        {
            Some(stem) if !stem.is_empty() => stem,
            _ => return false,
        },
        None => path,
    };
    let parts: Vec<&str> = path.split('/').collect();
    fn walk(pattern: &[Segment], parts: &[&str]) -> bool {
        match pattern.split_first() {
            None => parts.is_empty(),
            Some((Segment::DeepWildcard, rest)) => {
                (0..=parts.len()).any(|n| walk(rest, &parts[n..]))
            }
            Some((segment, rest)) => match parts.split_first() {
                None => false,
                Some((part, more)) => {
                    let ok = match segment {
                        Segment::Literal(l) => l == part,
                        _ => !part.is_empty(),
                    };
                    ok && walk(rest, more)
                }
            },
        }
    }
    walk(&pattern, &parts)
}

/// A concrete path of a template: each `*` a number, each `**` two.
fn sample_path(b: &Binding) -> (String, Vec<(String, String)>) {
    fn fill(segments: &[Segment], counter: &mut usize, vars: &mut Vec<(String, String)>) -> String {
        segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => l.clone(),
                Segment::Wildcard => {
                    *counter += 1;
                    counter.to_string()
                }
                Segment::DeepWildcard => {
                    *counter += 2;
                    format!("{}/{}", *counter - 1, *counter)
                }
                Segment::Variable {
                    field,
                    segments: inner,
                } => {
                    let value = fill(inner, counter, vars);
                    vars.push((field.clone(), value.clone()));
                    value
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
    let mut counter = 0;
    let mut vars = Vec::new();
    let mut path = format!("/{}", fill(&b.template.segments, &mut counter, &mut vars));
    if let Some(verb) = &b.template.verb {
        path.push(':');
        path.push_str(verb);
    }
    (path, vars)
}

/// The type of the field at a dotted path of `input`.
fn field_type<'a>(api: &'a Api, input: &str, path: &str) -> Option<&'a ir::Field> {
    let mut message = api.message(input)?;
    let mut names = path.split('.').peekable();
    while let Some(name) = names.next() {
        let field = message.fields.iter().find(|f| f.name == name)?;
        if names.peek().is_none() {
            return Some(field);
        }
        match &field.ty {
            FieldType::Message(m) => message = api.message(m)?,
            _ => return None,
        }
    }
    None
}

/// The request of a route for the generated tests: its sample path, `{}`
/// for a body, and the string path fields to check. None when a path
/// variable's field takes no number (an enum, a timestamp): the sample
/// path would not decode.
fn test_case(route: &Route<'_>, api: &Api) -> Option<TestCase> {
    let (path, vars) = sample_path(&route.binding);
    let mut strings = Vec::new();
    for (field, value) in vars {
        let f = field_type(api, &route.ir_method.input, &field)?;
        if f.cardinality == Cardinality::Repeated {
            return None;
        }
        match &f.ty {
            FieldType::Scalar(Scalar::String) => strings.push((field, value)),
            FieldType::Scalar(
                Scalar::Int32
                | Scalar::Int64
                | Scalar::Uint32
                | Scalar::Uint64
                | Scalar::Sint32
                | Scalar::Sint64
                | Scalar::Fixed32
                | Scalar::Fixed64
                | Scalar::Sfixed32
                | Scalar::Sfixed64
                | Scalar::Double
                | Scalar::Float,
            ) if !value.contains('/') => {}
            _ => return None,
        }
    }
    let body = match route.binding.body {
        Body::None => String::new(),
        Body::Whole => "{}".to_string(),
        Body::Field(ref f) => match field_type(api, &route.ir_method.input, f) {
            Some(field)
                if field.cardinality != Cardinality::Repeated
                    && matches!(field.ty, FieldType::Message(_)) =>
            {
                "{}".to_string()
            }
            _ => return None,
        },
    };
    Some(TestCase {
        method: route.binding.verb.clone(),
        path,
        body,
        label: full_method_name(route.service, route.method),
        input: route.ir_method.input.clone(),
        strings,
    })
}

/// The generated files of the HTTP transport: the route table, the runtime
/// and the tests.
pub fn http_files(p: &Project, api: &Api) -> Vec<(String, String)> {
    let routes = routes(p, api);
    let views = routes
        .iter()
        .map(|r| RouteView {
            comment: format!(
                "{} {}: {}.{}",
                r.binding.verb, r.binding.path, r.service.full_name, r.method.proto_name
            ),
            code: route_code(r),
        })
        .collect();
    let http = HttpRs {
        imports: imports(&routes),
        routes: views,
        client_rules: client_rules(p, api),
    }
    .render()
    .expect("the HTTP template renders");
    // One request per route, additional bindings included, unless an
    // earlier route with the same HTTP method takes its sample path.
    let mut cases = Vec::new();
    let mut streams = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let (path, _) = sample_path(&route.binding);
        if routes[..i]
            .iter()
            .any(|r| r.binding.verb == route.binding.verb && takes(&r.binding, &path))
        {
            continue;
        }
        match test_case(route, api) {
            Some(case) if route.streams() => streams.push(case),
            Some(case) => cases.push(case),
            None => {}
        }
    }
    let services = p
        .services
        .iter()
        .map(|s| FakeService {
            // By its path: a service may be named like anything the
            // tests import (`Endpoints`, `Arc`, `Status`, …).
            trait_path: format!("crate::service::{}", s.name),
            methods: s
                .methods
                .iter()
                .map(|m| FakeMethod {
                    signature: fake_signature(m),
                    label: full_method_name(s, m),
                    client_streaming: m.client_streaming,
                    server_streaming: m.server_streaming,
                    unit_response: m.output == "()",
                })
                .collect(),
        })
        .collect();
    let mut names: Vec<String> = ["Code", "Request", "Status"].map(String::from).to_vec();
    if p.has_streaming() {
        names.push("BoxStream".into());
    }
    names.sort();
    let service_imports = format!("{{{}}}", names.join(", "));
    let probe_404 = routes
        .iter()
        .all(|r| matches!(r.binding.template.segments.first(), Some(Segment::Literal(l)) if l != "kitgen.test"));
    let fields: Vec<String> = p
        .services
        .iter()
        .map(|s| format!("{}: fake.clone()", s.field))
        .collect();
    // rustfmt keeps a struct literal on one line up to 18 columns of fields.
    let services_literal = if fields.join(", ").len() <= 18 {
        format!("Services {{ {} }}", fields.join(", "))
    } else {
        let mut out = String::from("Services {\n");
        for f in &fields {
            let _ = writeln!(out, "        {f},");
        }
        out.push_str("    }");
        out
    };
    let tests = HttpTests {
        services_literal,
        service_imports,
        services,
        first_case: (!cases.is_empty()).then_some(0),
        head_case: cases.iter().position(|c| c.method == "GET"),
        body_case: cases.iter().position(|c| !c.body.is_empty()),
        cases: cases_array(&cases),
        streams: cases_array(&streams),
        has_streams: !streams.is_empty(),
        probe_404,
    }
    .render()
    .expect("the HTTP test template renders");
    vec![
        ("src/transport/http.rs".to_string(), http + "\n"),
        (
            "src/transport/http/transcode.rs".to_string(),
            transcode_rs(),
        ),
        (
            "src/transport/http/client.rs".to_string(),
            CLIENT.to_string(),
        ),
        (
            "src/transport/http/transcode/tests.rs".to_string(),
            TRANSCODE_TESTS.to_string(),
        ),
        (
            "src/transport/http/client/tests.rs".to_string(),
            CLIENT_TESTS.to_string(),
        ),
        ("src/transport/http/tests.rs".to_string(), tests + "\n"),
    ]
}
