//! How a method's request is taken apart over HTTP, as `google.api.http`
//! defines it and grpc-gateway v2 implements it: path variables first, then
//! the body (the whole request for `*`, one field otherwise), and every field
//! neither of them binds as a query parameter. Target-neutral, so every
//! backend's transcoder and the OpenAPI document agree on one answer.

use std::collections::HashMap;

use super::path_template::{self, PathTemplate};
use super::{Api, Cardinality, Field, FieldType, Message, Method, Service};
use crate::diagnostic::Diagnostic;

/// What the request body carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// No body: every field comes from the path or the query.
    None,
    /// `body: "*"`: the whole request message; no query parameters.
    Whole,
    /// `body: "field"`: that top-level field of the request.
    Field(String),
}

/// One HTTP binding of a unary method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Upper-case HTTP verb.
    pub verb: String,
    /// The template as written (or the default route).
    pub path: String,
    pub template: PathTemplate,
    pub body: Body,
    /// A field of the response sent instead of the whole response.
    pub response_body: Option<String>,
    /// True for the route a method without a rule gets:
    /// `POST /<package>.<Service>/<Method>` with the whole request as body.
    pub is_default: bool,
}

impl Binding {
    /// Field paths the path template binds.
    pub fn path_fields(&self) -> Vec<String> {
        self.template.variables()
    }

    /// True when `field_path` (dotted proto names) is taken by the path or
    /// the body, itself or through an enclosing field.
    pub fn binds(&self, field_path: &str) -> bool {
        let covers = |bound: &str| {
            field_path == bound
                || field_path
                    .strip_prefix(bound)
                    .is_some_and(|rest| rest.starts_with('.'))
        };
        match &self.body {
            Body::Whole => return true,
            Body::Field(f) if covers(f) => return true,
            _ => {}
        }
        self.path_fields().iter().any(|p| covers(p))
    }
}

/// The default route of a method without a rule: the path gRPC itself uses.
pub fn default_path(service: &Service, method: &Method) -> String {
    format!("/{}/{}", service.full_name, method.name)
}

/// Every HTTP binding of a method that is served over HTTP: the rules in
/// order, primary first, of a unary or server-streaming method (the latter
/// answers newline-delimited JSON), or a unary method's default route when it
/// has none. A method whose client streams has none: HTTP transcoding
/// carries no request stream. The rules' templates were parsed by the
/// frontend; fails with the default route's path when it does not parse.
pub fn bindings(service: &Service, method: &Method) -> Result<Vec<Binding>, (String, String)> {
    if method.client_streaming {
        return Ok(Vec::new());
    }
    if method.http.is_empty() {
        if method.server_streaming {
            return Ok(Vec::new());
        }
        let path = default_path(service, method);
        let template = path_template::parse(&path).map_err(|e| (path.clone(), e))?;
        return Ok(vec![Binding {
            verb: "POST".into(),
            path,
            template,
            body: Body::Whole,
            response_body: None,
            is_default: true,
        }]);
    }
    method
        .http
        .iter()
        .map(|rule| {
            Ok(Binding {
                verb: rule.verb.clone(),
                path: rule.path.clone(),
                template: rule.template.clone(),
                body: match rule.body.as_deref() {
                    None | Some("") => Body::None,
                    Some("*") => Body::Whole,
                    Some(f) => Body::Field(f.to_string()),
                },
                response_body: rule.response_body.clone().filter(|r| !r.is_empty()),
                is_default: false,
            })
        })
        .collect()
}

/// Paths the generated HTTP servers answer themselves.
const SERVER_PATHS: &[&str] = &["healthz", "readyz", "metrics"];

/// Refuses, for every target alike, two methods bound to one verb and path
/// (an HTTP server could answer only one of them: the second would never be
/// reached) and a route that would take a path the server answers itself.
/// A method's own rules may overlap: its first matching rule answers.
pub fn check_routes(api: &Api) -> Result<(), Diagnostic> {
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for service in api.services.iter().filter(|s| !s.methods.is_empty()) {
        for method in &service.methods {
            let at = |message: String| {
                Diagnostic::new(message).at_position(&service.file, method.position)
            };
            let label = format!("{}.{}", service.full_name, method.name);
            // A default route that does not parse is reported by the target.
            let Ok(bindings) = bindings(service, method) else {
                continue;
            };
            for b in bindings.iter().filter(|b| !b.is_default) {
                if let Some(own) = SERVER_PATHS.iter().find(|p| b.template.matches_segment(p)) {
                    return Err(at(format!(
                        "HTTP {} '{}' of {label} would take /{own}, which the server answers itself",
                        b.verb, b.path
                    ))
                    .with_help("put the route under a prefix such as /v1/"));
                }
                let key = (b.verb.clone(), b.template.shape());
                if let Some(other) = seen.insert(key, label.clone())
                    && other != label
                {
                    return Err(at(format!(
                        "HTTP {} '{}' of {label} matches the same requests as a route of {other}",
                        b.verb, b.path
                    ))
                    .with_help("give each method its own path"));
                }
            }
        }
    }
    Ok(())
}

/// One query parameter: a leaf field no path variable or body binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam<'a> {
    /// Dotted proto field names from the request, e.g. `book.title`. The
    /// transcoder also accepts the JSON names.
    pub name: String,
    pub field: &'a Field,
}

impl QueryParam<'_> {
    /// A repeated field: the parameter may be given several times.
    pub fn repeated(&self) -> bool {
        self.field.cardinality == Cardinality::Repeated
    }
}

/// Well-known messages whose JSON form is one string or number, so that they
/// fit in a path variable or a query parameter.
pub fn is_json_scalar_message(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// The query parameters of a binding, in field order, nested messages
/// flattened with dotted names. Maps, repeated messages and the well-known
/// messages without a scalar JSON form (Struct, Value, Any, …) cannot be
/// spelled in a query and are left out, as are fields of a message already
/// being expanded (recursive types).
pub fn query_params<'a>(
    api: &'a Api,
    input: &'a Message,
    binding: &Binding,
) -> Vec<QueryParam<'a>> {
    let mut out = Vec::new();
    if binding.body != Body::Whole {
        let mut stack = vec![input.full_name.as_str()];
        collect(api, input, "", binding, &mut stack, &mut out);
    }
    out
}

fn collect<'a>(
    api: &'a Api,
    msg: &'a Message,
    prefix: &str,
    binding: &Binding,
    stack: &mut Vec<&'a str>,
    out: &mut Vec<QueryParam<'a>>,
) {
    for field in &msg.fields {
        let name = format!("{prefix}{}", field.name);
        let bound_inside = binding
            .path_fields()
            .iter()
            .any(|p| p.starts_with(&format!("{name}.")));
        if binding.binds(&name) && !bound_inside {
            continue;
        }
        let repeated = field.cardinality == Cardinality::Repeated;
        match &field.ty {
            FieldType::Scalar(_) | FieldType::Enum(_) => {
                out.push(QueryParam { name, field });
            }
            FieldType::Map(..) => {}
            FieldType::Message(m) if is_json_scalar_message(m) => {
                out.push(QueryParam { name, field });
            }
            FieldType::Message(m) => {
                if repeated || m.starts_with("google.protobuf.") || stack.contains(&m.as_str()) {
                    continue;
                }
                let Some(nested) = api.message(m) else {
                    continue;
                };
                stack.push(&nested.full_name);
                collect(api, nested, &format!("{name}."), binding, stack, out);
                stack.pop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FieldBehavior, HttpRule, Scalar};

    fn field(name: &str, ty: FieldType) -> Field {
        Field {
            name: name.into(),
            number: 1,
            doc: String::new(),
            ty,
            cardinality: Cardinality::Single,
            oneof: None,
            synthetic_oneof: None,
            json_name: crate::ir::default_json_name(name),
            behavior: FieldBehavior::default(),
            position: None,
        }
    }

    fn message(full_name: &str, fields: Vec<Field>) -> Message {
        Message {
            name: full_name.rsplit('.').next().unwrap().into(),
            full_name: full_name.into(),
            file: "x.proto".into(),
            doc: String::new(),
            fields,
            oneofs: Vec::new(),
            map_entry: false,
            position: None,
        }
    }

    fn api() -> Api {
        let s = || FieldType::Scalar(Scalar::String);
        Api {
            messages: vec![
                message(
                    "p.Req",
                    vec![
                        field("name", s()),
                        field("book", FieldType::Message("p.Book".into())),
                        field("page_size", FieldType::Scalar(Scalar::Int32)),
                        field("labels", FieldType::Map(Scalar::String, Box::new(s()))),
                        field(
                            "when",
                            FieldType::Message("google.protobuf.Timestamp".into()),
                        ),
                        field("meta", FieldType::Message("google.protobuf.Struct".into())),
                    ],
                ),
                message(
                    "p.Book",
                    vec![
                        field("name", s()),
                        field("title", s()),
                        field("parent", FieldType::Message("p.Book".into())),
                    ],
                ),
            ],
            ..Api::default()
        }
    }

    fn method(rule: Option<(&str, &str, Option<&str>)>) -> (Service, Method) {
        let m = Method {
            name: "Get".into(),
            doc: String::new(),
            input: "p.Req".into(),
            output: "p.Req".into(),
            client_streaming: false,
            server_streaming: false,
            http: rule
                .map(|(verb, path, body)| HttpRule {
                    verb: verb.into(),
                    path: path.into(),
                    template: path_template::parse(path).unwrap(),
                    body: body.map(str::to_string),
                    response_body: None,
                })
                .into_iter()
                .collect(),
            idempotent: false,
            position: None,
        };
        let s = Service {
            name: "Lib".into(),
            full_name: "p.Lib".into(),
            package: "p".into(),
            file: "x.proto".into(),
            doc: String::new(),
            methods: vec![m.clone()],
            position: None,
        };
        (s, m)
    }

    fn names(rule: Option<(&str, &str, Option<&str>)>) -> Vec<String> {
        let api = api();
        let (s, m) = method(rule);
        let b = &bindings(&s, &m).unwrap()[0];
        query_params(&api, api.message("p.Req").unwrap(), b)
            .into_iter()
            .map(|q| q.name)
            .collect()
    }

    #[test]
    fn default_route_takes_the_whole_request() {
        let (s, m) = method(None);
        let b = bindings(&s, &m).unwrap();
        assert_eq!(b[0].path, "/p.Lib/Get");
        assert_eq!(b[0].body, Body::Whole);
        assert!(b[0].is_default);
        assert!(names(None).is_empty());
    }

    #[test]
    fn only_unbound_fields_are_query_parameters() {
        // Path binds name; no body: nested messages flatten, the recursive
        // Book.parent stops, maps and Struct cannot be spelled in a query.
        assert_eq!(
            names(Some(("GET", "/v1/{name=shelves/*}", None))),
            ["book.name", "book.title", "page_size", "when"]
        );
        // A body field takes the whole subtree.
        assert_eq!(
            names(Some(("PATCH", "/v1/{name}", Some("book")))),
            ["page_size", "when"]
        );
        // A path variable inside a message leaves its siblings to the query.
        assert_eq!(
            names(Some(("GET", "/v1/{book.name=books/*}", None))),
            ["name", "book.title", "page_size", "when"]
        );
        assert!(names(Some(("POST", "/v1/{name}", Some("*")))).is_empty());
    }

    #[test]
    fn server_streams_are_bound_by_their_rules_only_and_client_streams_never() {
        let rule = Some(("GET", "/v1/{name}", None));
        for (client, server, with_rule, without_rule) in [
            (false, false, 1, 1),
            (false, true, 1, 0),
            (true, false, 0, 0),
            (true, true, 0, 0),
        ] {
            for (r, want) in [(rule, with_rule), (None, without_rule)] {
                let (s, mut m) = method(r);
                m.client_streaming = client;
                m.server_streaming = server;
                assert_eq!(
                    bindings(&s, &m).unwrap().len(),
                    want,
                    "client {client}, server {server}, rule {r:?}"
                );
            }
        }
    }
}
