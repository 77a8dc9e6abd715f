//! An OpenAPI 3.1 document of the HTTP API, from the IR alone, so that every
//! target serves the same description of the same routes.
//!
//! - One operation per HTTP binding (`additional_bindings` included, and the
//!   default `POST /<package>.<Service>/<Method>` of a unary method without a
//!   rule). A server-streaming method with a rule answers newline-delimited
//!   JSON (`application/x-ndjson`), one `{"result": …}` line per message and
//!   an error after the first line as a last line in the error body's shape:
//!   described, as the OpenAPI media type registry models sequential JSON,
//!   as an array of its lines. Methods whose client streams are gRPC only
//!   (HTTP transcoding carries no request stream) and have none.
//! - Parameters exactly as [`crate::ir::binding`] takes a request apart: path
//!   variables, the body, and every other field as a query parameter.
//! - Schemas in the proto3 JSON mapping: JSON names, 64-bit integers as
//!   strings (numbers accepted), enums by name, bytes as base64, the
//!   well-known types in their JSON forms, maps as objects, a oneof as "at
//!   most one of".
//! - Path variables that span segments (`{name=shelves/*}`) cannot be one
//!   OpenAPI parameter (a parameter never holds a `/`), so each wildcard
//!   becomes its own parameter in a path with the literals kept:
//!   `/v1/shelves/{name}`; the parameter's description says how the field is
//!   assembled.
//!
//! The output is deterministic: keys in a fixed order, operations in source
//! order, schemas sorted by full name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::diagnostic::Diagnostic;
use crate::ir::binding::{self, Binding, Body};
use crate::ir::path_template::Segment;
use crate::ir::{Api, Cardinality, Field, FieldType, Message, Scalar};

/// The path item extension that holds operations of HTTP methods OpenAPI
/// 3.1 cannot name, keyed by method, as OpenAPI 3.2's `additionalOperations`.
pub const CUSTOM_METHODS: &str = "x-additionalOperations";

/// Marks a path parameter that may span several segments (a `**`), slashes
/// included, which an OpenAPI 3.1 parameter cannot say: its description
/// says it too.
pub const SPANS_SEGMENTS: &str = "x-spans-segments";

/// Where the generated project serves the document.
pub const SERVED_AT: &str = "/openapi.json";

/// A JSON value whose objects keep their keys in insertion order.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

fn s(v: impl Into<String>) -> Json {
    Json::Str(v.into())
}

fn obj<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Obj(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

impl Json {
    fn push(&mut self, key: &str, value: Json) {
        if let Json::Obj(entries) = self {
            entries.push((key.to_string(), value));
        }
    }

    fn set(&mut self, key: &str, value: Json) {
        if let Json::Obj(entries) = self
            && let Some(entry) = entries.iter_mut().find(|(k, _)| k == key)
        {
            entry.1 = value;
        }
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n("  ", n));
        match self {
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(text) => write_string(out, text),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(entries) if entries.is_empty() => out.push_str("{}"),
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    pad(out, indent + 1);
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push(']');
            }
            Json::Obj(entries) => {
                out.push_str("{\n");
                for (i, (key, value)) in entries.iter().enumerate() {
                    pad(out, indent + 1);
                    write_string(out, key);
                    out.push_str(": ");
                    value.write(out, indent + 1);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                pad(out, indent);
                out.push('}');
            }
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders the document for `api`, titled after the project.
pub fn render(api: &Api, title: &str) -> Result<String, Diagnostic> {
    let mut doc = Document {
        api,
        wanted: BTreeSet::new(),
        pending: Vec::new(),
    };
    let mut out = String::new();
    doc.build(title)?.write(&mut out, 0);
    out.push('\n');
    Ok(out)
}

struct Document<'a> {
    api: &'a Api,
    /// Messages and enums the operations reference, by full name.
    wanted: BTreeSet<String>,
    /// Those of `wanted` whose schema is still to be written.
    pending: Vec<String>,
}

impl<'a> Document<'a> {
    fn build(&mut self, title: &str) -> Result<Json, Diagnostic> {
        let api = self.api;
        let mut paths: Vec<(String, Json)> = Vec::new();
        // OpenAPI paths that differ only in parameter names are one path.
        let mut shapes: BTreeMap<String, String> = BTreeMap::new();
        // Where each path sits in `paths`, which keeps the order of first use.
        let mut path_at: HashMap<String, usize> = HashMap::new();
        let mut operation_ids = BTreeSet::new();
        let mut tags = Vec::new();
        let error_name = if api.message("Error").is_some() {
            "kitgen.Error"
        } else {
            "Error"
        };
        let error_ref = obj([("$ref", s(format!("#/components/schemas/{error_name}")))]);
        for service in &api.services {
            let mut tag = obj([("name", s(&service.name))]);
            if !service.doc.is_empty() {
                tag.push("description", s(&service.doc));
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
            // The routes of a service in the order the generated router
            // tries them, the first match serving: custom verbs first, longer
            // ones before shorter (or `/v1/{name=*/*}` would take
            // `…/x:undelete`, and `{name}:b` take `x:ab`). Paths keep that
            // order, so a tool that also takes the first matching path (as
            // openapi-core does among paths of as many parameters) agrees.
            let mut routes = Vec::new();
            for method in &service.methods {
                let bindings = binding::bindings(service, method).map_err(|(path, e)| {
                    let d = Diagnostic::new(format!("invalid HTTP path template '{path}': {e}"));
                    d.at_position(&service.file, method.position)
                })?;
                routes.extend(
                    bindings
                        .into_iter()
                        .enumerate()
                        .map(|(i, b)| (method, i, b)),
                );
            }
            routes.sort_by_key(|(_, _, b)| {
                let verb = b.template.verb.as_ref().map_or(0, String::len);
                (b.template.verb.is_none(), std::cmp::Reverse(verb))
            });
            for (method, i, b) in &routes {
                let (method, i) = (*method, *i);
                let (path, mut path_params) = self.path(b, &method.input);
                let shape = shape_of(&path);
                let path = shapes.entry(shape).or_insert(path).clone();
                // Same shape, other names: take the path's names, in order.
                for (param, name) in path_params.iter_mut().zip(param_names(&path)) {
                    param.set("name", s(name));
                }
                let mut id = format!("{}.{}", service.full_name, method.name);
                if i > 0 {
                    id = format!("{id}_{}", i + 1);
                }
                if !operation_ids.insert(id.clone()) {
                    continue;
                }
                let op = self.operation(&id, &service.name, method, b, path_params, &error_ref);
                let at = *path_at.entry(path.clone()).or_insert_with(|| {
                    paths.push((path.clone(), Json::Obj(Vec::new())));
                    paths.len() - 1
                });
                let item = &mut paths[at].1;
                let Json::Obj(ops) = item else {
                    unreachable!("path items are objects")
                };
                // A method OpenAPI 3.1 has no field for (`custom: {kind:
                // "SEARCH"}`) goes where OpenAPI 3.2 puts it, under
                // additionalOperations, as an extension.
                let ops = match openapi_verb(&b.verb) {
                    Some(_) => ops,
                    None => {
                        let at = match ops.iter().position(|(k, _)| k == CUSTOM_METHODS) {
                            Some(at) => at,
                            None => {
                                ops.push((CUSTOM_METHODS.to_string(), Json::Obj(Vec::new())));
                                ops.len() - 1
                            }
                        };
                        let Json::Obj(custom) = &mut ops[at].1 else {
                            unreachable!("an object")
                        };
                        custom
                    }
                };
                let verb = openapi_verb(&b.verb).map_or(b.verb.clone(), str::to_string);
                // The router serves the first route of a path and verb.
                if !ops.iter().any(|(v, _)| *v == verb) {
                    ops.push((verb, op));
                }
            }
        }
        let mut schemas = self.schemas();
        schemas.push((error_name.to_string(), error_schema()));
        schemas.sort_by(|a, b| a.0.cmp(&b.0));
        let info = obj([
            ("title", s(title)),
            ("version", s(api_version(api))),
            (
                "description",
                s(format!(
                    "The HTTP API of {title}, as google.api.http transcodes it onto the gRPC \
                     service. Generated by kitgen; do not edit."
                )),
            ),
        ]);
        let mut root = obj([("openapi", s("3.1.0")), ("info", info)]);
        if !tags.is_empty() {
            root.push("tags", Json::Arr(tags));
        }
        root.push("paths", Json::Obj(paths));
        let responses = obj([(
            "Error",
            obj([
                (
                    "description",
                    s("An error: the HTTP status follows the gRPC code, named in `status`."),
                ),
                (
                    "content",
                    obj([("application/json", obj([("schema", error_ref)]))]),
                ),
            ]),
        )]);
        root.push(
            "components",
            obj([("schemas", Json::Obj(schemas)), ("responses", responses)]),
        );
        Ok(root)
    }

    /// The OpenAPI path of a binding and its path parameters. Parameter
    /// names are the field paths with `_` for `.` (tools read a dot in a
    /// parameter name as a lookup), plus the literal before the wildcard
    /// for a variable of several wildcards, made unique within the path.
    fn path(&mut self, b: &Binding, input: &str) -> (String, Vec<Json>) {
        let mut path = String::new();
        let mut params = Vec::new();
        let mut taken: Vec<String> = Vec::new();
        let mut unique = |base: String| {
            let mut name = base.clone();
            let mut n = 1;
            while taken.contains(&name) {
                n += 1;
                name = format!("{base}_{n}");
            }
            taken.push(name.clone());
            name
        };
        let mut anonymous = 0;
        for seg in &b.template.segments {
            path.push('/');
            match seg {
                Segment::Literal(l) => path.push_str(l),
                Segment::Wildcard => {
                    anonymous += 1;
                    let name = unique(format!("segment_{anonymous}"));
                    let _ = write!(path, "{{{name}}}");
                    params.push(path_param(
                        &name,
                        obj([("type", s("string"))]),
                        "A path segment the route matches but does not bind.".into(),
                    ));
                }
                Segment::DeepWildcard => {
                    anonymous += 1;
                    let name = unique(format!("segment_{anonymous}"));
                    let _ = write!(path, "{{{name}}}");
                    let mut param = path_param(
                        &name,
                        obj([("type", s("string"))]),
                        "Path segments the route matches but does not bind: one or more.".into(),
                    );
                    param.push(SPANS_SEGMENTS, Json::Bool(true));
                    params.push(param);
                }
                Segment::Variable { field, segments } => {
                    let flat = field.replace('.', "_");
                    if matches!(segments.as_slice(), [Segment::Wildcard]) {
                        let name = unique(flat);
                        let _ = write!(path, "{{{name}}}");
                        let (schema, doc) = match self.field_at(input, field) {
                            Some(f) if f.cardinality != Cardinality::Repeated => {
                                (self.param_schema(&f.ty), f.doc.clone())
                            }
                            _ => (obj([("type", s("string"))]), String::new()),
                        };
                        let doc = if name == *field {
                            doc
                        } else {
                            format!("The field `{field}`. {doc}").trim_end().to_string()
                        };
                        params.push(path_param(&name, schema, doc));
                        continue;
                    }
                    let wildcards = segments
                        .iter()
                        .filter(|s| matches!(s, Segment::Wildcard | Segment::DeepWildcard))
                        .count();
                    let mut pattern = Vec::new();
                    let mut names = Vec::new();
                    let mut previous: Option<&str> = None;
                    for inner in segments {
                        match inner {
                            Segment::Literal(l) => {
                                pattern.push(l.clone());
                                previous = Some(l);
                            }
                            Segment::Wildcard | Segment::DeepWildcard => {
                                let base = match previous {
                                    _ if wildcards == 1 => flat.clone(),
                                    Some(l) => format!("{flat}_{l}"),
                                    None => format!("{flat}_{}", names.len() + 1),
                                };
                                let name = unique(base);
                                pattern.push(format!("{{{name}}}"));
                                names.push((name, matches!(inner, Segment::DeepWildcard)));
                                previous = None;
                            }
                            Segment::Variable { .. } => {}
                        }
                    }
                    path.push_str(&pattern.join("/"));
                    let raw = segments
                        .iter()
                        .map(|s| match s {
                            Segment::Literal(l) => l.as_str(),
                            Segment::Wildcard => "*",
                            _ => "**",
                        })
                        .collect::<Vec<_>>()
                        .join("/");
                    for (k, (name, deep)) in names.into_iter().enumerate() {
                        let doc = if wildcards == 1 {
                            let symbol = if deep { "**" } else { "*" };
                            format!("The `{symbol}` of the field `{field}`, which matches `{raw}`.")
                        } else {
                            format!(
                                "Wildcard {} of {wildcards} of the field `{field}`, which matches `{raw}`.",
                                k + 1
                            )
                        };
                        let spans = if deep {
                            " It may span several segments."
                        } else {
                            ""
                        };
                        let mut param = path_param(
                            &name,
                            obj([("type", s("string"))]),
                            format!("{doc}{spans}"),
                        );
                        if deep {
                            param.push(SPANS_SEGMENTS, Json::Bool(true));
                        }
                        params.push(param);
                    }
                }
            }
        }
        if let Some(verb) = &b.template.verb {
            let _ = write!(path, ":{verb}");
        }
        (path, params)
    }

    fn operation(
        &mut self,
        id: &str,
        tag: &str,
        method: &crate::ir::Method,
        b: &Binding,
        mut parameters: Vec<Json>,
        error_ref: &Json,
    ) -> Json {
        let api = self.api;
        let mut op = obj([("operationId", s(id)), ("tags", Json::Arr(vec![s(tag)]))]);
        if let Some(summary) = summary(&method.doc) {
            op.push("summary", s(summary));
        }
        if !method.doc.is_empty() {
            op.push("description", s(&method.doc));
        }
        let input = api.message(&method.input).expect("linked by the frontend");
        for q in binding::query_params(api, input, b) {
            let mut schema = self.param_schema(&q.field.ty);
            if q.repeated() {
                schema = obj([("type", s("array")), ("items", schema)]);
            }
            let mut param = obj([("name", s(&q.name)), ("in", s("query"))]);
            if q.field.behavior.required {
                param.push("required", Json::Bool(true));
            }
            if !q.field.doc.is_empty() {
                param.push("description", s(&q.field.doc));
            }
            param.push("schema", schema);
            if empty_is_a_value(&q.field.ty) {
                // `?page_token=` is the empty string, which the HTTP client
                // sends for a set optional or oneof field; `?mask=` the
                // empty mask.
                param.push("allowEmptyValue", Json::Bool(true));
            }
            if q.repeated() {
                param.push("style", s("form"));
                param.push("explode", Json::Bool(true));
            }
            parameters.push(param);
        }
        if !parameters.is_empty() {
            op.push("parameters", Json::Arr(parameters));
        }
        let body_schema = match &b.body {
            Body::None => None,
            Body::Whole => Some(self.whole_body(input, b)),
            Body::Field(f) => Some(match input.fields.iter().find(|x| &x.name == f) {
                Some(field) => self.field_schema(field),
                None => obj([]),
            }),
        };
        if let Some(schema) = body_schema {
            // The transcoder reads no body as an empty one, as grpc-gateway
            // does: the body is optional, whatever its fields require.
            op.push(
                "requestBody",
                obj([
                    (
                        "description",
                        s("The request's JSON body. An empty body sets no field."),
                    ),
                    ("content", json_content(schema)),
                ]),
            );
        }
        let output = api.message(&method.output).expect("linked by the frontend");
        let response_field = b
            .response_body
            .as_ref()
            .map(|f| output.fields.iter().find(|x| &x.name == f));
        let response = match response_field {
            Some(Some(field)) => self.field_schema(field),
            Some(None) => obj([]),
            None => self.reference(&output.full_name),
        };
        let absent = response_field.flatten().is_some_and(may_be_absent);
        let ok = if method.server_streaming {
            stream_response(&output.full_name, response, absent, error_ref)
        } else {
            // The server writes nothing for an unset response_body field.
            let description = if absent {
                "OK. The body is empty when the field is unset."
            } else {
                "OK"
            };
            obj([
                ("description", s(description)),
                ("content", json_content(response)),
            ])
        };
        op.push(
            "responses",
            obj([
                ("200", ok),
                (
                    "default",
                    obj([("$ref", s("#/components/responses/Error"))]),
                ),
            ]),
        );
        op
    }

    /// The body of a `body: "*"` route: the request, less the top-level
    /// fields the path already binds (grpc-gateway ignores them in the body).
    fn whole_body(&mut self, input: &'a Message, b: &Binding) -> Json {
        let path_fields = b.path_fields();
        if !path_fields
            .iter()
            .any(|p| input.fields.iter().any(|f| &f.name == p))
        {
            return self.reference(&input.full_name);
        }
        let kept: Vec<&Field> = input
            .fields
            .iter()
            .filter(|f| !path_fields.contains(&f.name))
            .collect();
        self.object_schema(input, &kept)
    }

    fn field_at(&self, message: &str, path: &str) -> Option<&'a Field> {
        let mut msg = self.api.message(message)?;
        let mut names = path.split('.').peekable();
        while let Some(name) = names.next() {
            let field = msg.fields.iter().find(|f| f.name == name)?;
            if names.peek().is_none() {
                return Some(field);
            }
            match &field.ty {
                FieldType::Message(m) => msg = self.api.message(m)?,
                _ => return None,
            }
        }
        None
    }

    fn reference(&mut self, full_name: &str) -> Json {
        if self.wanted.insert(full_name.to_string()) {
            self.pending.push(full_name.to_string());
        }
        obj([("$ref", s(format!("#/components/schemas/{full_name}")))])
    }

    /// The schema of one value of a field's type (an element when repeated).
    fn value_schema(&mut self, ty: &FieldType) -> Json {
        match ty {
            FieldType::Scalar(sc) => scalar_schema(*sc),
            FieldType::Enum(e) | FieldType::Message(e) => self.reference(e),
            FieldType::Map(key, value) => {
                let mut map = obj([
                    ("type", s("object")),
                    ("additionalProperties", self.value_schema(value)),
                ]);
                let keys = match key {
                    Scalar::String => None,
                    Scalar::Bool => Some(obj([("enum", Json::Arr(vec![s("true"), s("false")]))])),
                    _ => Some(obj([("pattern", s("^-?[0-9]+$"))])),
                };
                if let Some(keys) = keys {
                    map.push("propertyNames", keys);
                }
                map
            }
        }
    }

    /// The schema of a path or query parameter's value. A 64-bit integer
    /// (or its wrapper) is its decimal text: in a URL every value is text,
    /// and a parameter of two types (`["string", "integer"]`) is one that
    /// tools such as openapi-core cannot read. An enum is a value's name or
    /// its number, which must be one the enum declares.
    fn param_schema(&mut self, ty: &FieldType) -> Json {
        let wide = match ty {
            FieldType::Scalar(Scalar::Int64 | Scalar::Sint64 | Scalar::Sfixed64) => Some(true),
            FieldType::Message(m) if m == "google.protobuf.Int64Value" => Some(true),
            FieldType::Scalar(Scalar::Uint64 | Scalar::Fixed64) => Some(false),
            FieldType::Message(m) if m == "google.protobuf.UInt64Value" => Some(false),
            _ => None,
        };
        if let FieldType::Enum(e) = ty
            && let Some(en) = self.api.enum_type(e)
        {
            // By name, or by the number of a value the enum declares.
            let mut numbers: Vec<Json> = Vec::new();
            for v in &en.values {
                if !numbers.contains(&s(v.number.to_string())) {
                    numbers.push(s(v.number.to_string()));
                }
            }
            let by_name = self.reference(e);
            return obj([
                ("type", s("string")),
                (
                    "anyOf",
                    Json::Arr(vec![by_name, obj([("enum", Json::Arr(numbers))])]),
                ),
            ]);
        }
        match wide {
            Some(signed) => obj([
                ("type", s("string")),
                ("format", s(if signed { "int64" } else { "uint64" })),
                ("pattern", s(if signed { "^-?[0-9]+$" } else { "^[0-9]+$" })),
            ]),
            None => self.value_schema(ty),
        }
    }

    /// The schema of a field, with its description and behavior.
    fn field_schema(&mut self, field: &Field) -> Json {
        let value = self.value_schema(&field.ty);
        // A map field is repeated entries in the descriptor, but one JSON object.
        let mut schema = if field.cardinality == Cardinality::Repeated
            && !matches!(field.ty, FieldType::Map(..))
        {
            obj([("type", s("array")), ("items", value)])
        } else {
            value
        };
        if !field.doc.is_empty() {
            schema.push("description", s(&field.doc));
        }
        if field.behavior.output_only {
            schema.push("readOnly", Json::Bool(true));
        }
        if field.behavior.input_only {
            schema.push("writeOnly", Json::Bool(true));
        }
        schema
    }

    fn object_schema(&mut self, msg: &Message, fields: &[&Field]) -> Json {
        let mut schema = obj([("type", s("object"))]);
        if !msg.doc.is_empty() {
            schema.push("description", s(&msg.doc));
        }
        let mut properties = Vec::new();
        let mut required = Vec::new();
        for field in fields {
            properties.push((field.json_name.clone(), self.field_schema(field)));
            if field.behavior.required {
                required.push(s(&field.json_name));
            }
        }
        if !properties.is_empty() {
            schema.push("properties", Json::Obj(properties));
        }
        if !required.is_empty() {
            schema.push("required", Json::Arr(required));
        }
        // A oneof: at most one of its fields is set.
        let mut one_ofs = Vec::new();
        for index in 0..msg.oneofs.len() {
            let members: Vec<&str> = fields
                .iter()
                .filter(|f| f.oneof == Some(index))
                .map(|f| f.json_name.as_str())
                .collect();
            if members.len() < 2 {
                continue;
            }
            let has = |name: &str| obj([("required", Json::Arr(vec![s(name)]))]);
            let mut choices: Vec<Json> = members.iter().map(|m| has(m)).collect();
            choices.push(obj([(
                "not",
                obj([("anyOf", Json::Arr(members.iter().map(|m| has(m)).collect()))]),
            )]));
            one_ofs.push(obj([("oneOf", Json::Arr(choices))]));
        }
        if !one_ofs.is_empty() {
            schema.push("allOf", Json::Arr(one_ofs));
        }
        schema
    }

    /// Every referenced message and enum, and what they reference in turn.
    fn schemas(&mut self) -> Vec<(String, Json)> {
        let api = self.api;
        let mut out = Vec::new();
        // Each schema written may want more; the caller sorts them.
        while let Some(name) = self.pending.pop() {
            let schema = if let Some(schema) = well_known_schema(&name) {
                schema
            } else if let Some(msg) = api.message(&name) {
                let fields: Vec<&Field> = msg.fields.iter().collect();
                self.object_schema(msg, &fields)
            } else if let Some(en) = api.enum_type(&name) {
                // Written by name; read by name or by number, as the proto3
                // JSON mapping says (an open enum takes unknown numbers too).
                let mut values: Vec<Json> = Vec::new();
                for v in &en.values {
                    // Aliases share a number; the JSON form is the first name.
                    if !values.contains(&s(&v.name)) {
                        values.push(s(&v.name));
                    }
                }
                let mut schema = obj([]);
                if !en.doc.is_empty() {
                    schema.push("description", s(&en.doc));
                }
                schema.push(
                    "anyOf",
                    Json::Arr(vec![
                        obj([("type", s("string")), ("enum", Json::Arr(values))]),
                        obj([
                            ("type", s("integer")),
                            ("format", s("int32")),
                            (
                                "description",
                                s("A value's number, which requests may send instead of its name."),
                            ),
                        ]),
                    ]),
                );
                schema
            } else {
                obj([])
            };
            out.push((name, schema));
        }
        out
    }
}

/// The first sentence of a doc comment's first paragraph.
fn summary(doc: &str) -> Option<String> {
    let paragraph = doc
        .split("\n\n")
        .next()?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let sentence = match paragraph.find(". ") {
        Some(end) => &paragraph[..=end],
        None => &paragraph,
    };
    (!sentence.is_empty()).then(|| sentence.to_string())
}

/// The 200 response of a server-streaming method: newline-delimited JSON,
/// as the generated server writes it (serverStreamHandler): each message a
/// line `{"result": …}` (`null` for an unset `response_body` field), an
/// error after the first line a last line in the error body's shape. The
/// OpenAPI media type registry models sequential JSON in OpenAPI 3.1 with
/// `schema` as if the stream were a JSON array of its lines.
fn stream_response(output: &str, result: Json, absent: bool, error_ref: &Json) -> Json {
    let result = if absent {
        obj([("anyOf", Json::Arr(vec![result, obj([("type", s("null"))])]))])
    } else {
        result
    };
    let line = obj([(
        "oneOf",
        Json::Arr(vec![
            obj([
                ("type", s("object")),
                ("title", s(format!("Stream result of {output}"))),
                ("properties", obj([("result", result)])),
                ("required", Json::Arr(vec![s("result")])),
                ("additionalProperties", Json::Bool(false)),
            ]),
            error_ref.clone(),
        ]),
    )]);
    obj([
        (
            "description",
            s(
                "Newline-delimited JSON, one line per message the method sends, each \
               flushed as it is sent: {\"result\": …}. An error after the first line \
               ends the stream with one more line in the error body's shape \
               ({\"error\": {…}}), the 200 status being sent already; an error before \
               the first line is an ordinary error response. An empty body: the method \
               sent no message.",
            ),
        ),
        (
            "content",
            obj([(
                "application/x-ndjson",
                obj([(
                    "schema",
                    obj([
                        ("type", s("array")),
                        (
                            "description",
                            s("The lines of the stream, in order, each one item."),
                        ),
                        ("items", line),
                    ]),
                )]),
            )]),
        ),
    ])
}

/// Whether the JSON of a message may lack `field` (the server writes default
/// values, so only fields with presence may be absent).
fn may_be_absent(field: &Field) -> bool {
    field.cardinality == Cardinality::Optional
        || field.oneof.is_some()
        || matches!(
            (&field.ty, field.cardinality),
            (
                FieldType::Message(_),
                Cardinality::Single | Cardinality::Required
            )
        )
}

fn json_content(schema: Json) -> Json {
    obj([("application/json", obj([("schema", schema)]))])
}

fn path_param(name: &str, schema: Json, doc: String) -> Json {
    let mut param = obj([
        ("name", s(name)),
        ("in", s("path")),
        ("required", Json::Bool(true)),
    ]);
    if !doc.is_empty() {
        param.push("description", s(doc));
    }
    param.push("schema", schema);
    param
}

/// The parameter names of an OpenAPI path, in order.
fn param_names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

/// `/v1/shelves/{name}` and `/v1/shelves/{parent}` are the same OpenAPI path.
fn shape_of(path: &str) -> String {
    let mut shape = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                shape.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => shape.push(c),
            _ => {}
        }
    }
    shape
}

fn openapi_verb(verb: &str) -> Option<&'static str> {
    Some(match verb {
        "GET" => "get",
        "PUT" => "put",
        "POST" => "post",
        "DELETE" => "delete",
        "PATCH" => "patch",
        "HEAD" => "head",
        "OPTIONS" => "options",
        "TRACE" => "trace",
        _ => return None,
    })
}

/// The version of the API: the `v1` of a versioned proto package, else the
/// package itself.
fn api_version(api: &Api) -> String {
    let packages: BTreeSet<&str> = api.services.iter().map(|s| s.package.as_str()).collect();
    let versions: BTreeSet<&str> = packages
        .iter()
        .filter_map(|p| p.rsplit('.').next())
        .filter(|last| {
            last.strip_prefix('v')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    match versions.len() {
        1 => versions.into_iter().next().expect("one").to_string(),
        _ => "unversioned".into(),
    }
}

fn scalar_schema(sc: Scalar) -> Json {
    let typed = |ty: &str, format: &str| obj([("type", s(ty)), ("format", s(format))]);
    // Proto3 JSON writes 64-bit integers as strings and reads numbers too.
    let wide = |format: &str| {
        obj([
            ("type", Json::Arr(vec![s("string"), s("integer")])),
            ("format", s(format)),
        ])
    };
    match sc {
        Scalar::Double => typed("number", "double"),
        Scalar::Float => typed("number", "float"),
        Scalar::Int32 | Scalar::Sint32 | Scalar::Sfixed32 => typed("integer", "int32"),
        Scalar::Uint32 | Scalar::Fixed32 => obj([
            ("type", s("integer")),
            ("format", s("uint32")),
            ("minimum", Json::Num(0)),
        ]),
        Scalar::Int64 | Scalar::Sint64 | Scalar::Sfixed64 => wide("int64"),
        Scalar::Uint64 | Scalar::Fixed64 => wide("uint64"),
        Scalar::Bool => obj([("type", s("boolean"))]),
        Scalar::String => obj([("type", s("string"))]),
        Scalar::Bytes => obj([
            ("type", s("string")),
            ("format", s("byte")),
            ("contentEncoding", s("base64")),
        ]),
    }
}

/// The well-known types' JSON forms.
fn well_known_schema(full_name: &str) -> Option<Json> {
    let described = |mut schema: Json, doc: &str| {
        schema.push("description", s(doc));
        schema
    };
    let wrapper = |sc| Some(scalar_schema(sc));
    match full_name {
        "google.protobuf.Timestamp" => Some(described(
            obj([("type", s("string")), ("format", s("date-time"))]),
            "An RFC 3339 time in UTC, e.g. 2024-01-02T15:04:05.5Z.",
        )),
        "google.protobuf.Duration" => Some(described(
            obj([
                ("type", s("string")),
                ("pattern", s("^-?[0-9]+(\\.[0-9]{1,9})?s$")),
            ]),
            "Seconds with up to nine fractional digits and an s suffix, e.g. 1.5s.",
        )),
        "google.protobuf.FieldMask" => Some(described(
            obj([("type", s("string"))]),
            "Comma-separated field paths in lowerCamelCase, e.g. title,author.name.",
        )),
        "google.protobuf.DoubleValue" => wrapper(Scalar::Double),
        "google.protobuf.FloatValue" => wrapper(Scalar::Float),
        "google.protobuf.Int64Value" => wrapper(Scalar::Int64),
        "google.protobuf.UInt64Value" => wrapper(Scalar::Uint64),
        "google.protobuf.Int32Value" => wrapper(Scalar::Int32),
        "google.protobuf.UInt32Value" => wrapper(Scalar::Uint32),
        "google.protobuf.BoolValue" => wrapper(Scalar::Bool),
        "google.protobuf.StringValue" => wrapper(Scalar::String),
        "google.protobuf.BytesValue" => wrapper(Scalar::Bytes),
        "google.protobuf.Struct" => {
            Some(described(obj([("type", s("object"))]), "Any JSON object."))
        }
        "google.protobuf.Value" => Some(obj([("description", s("Any JSON value."))])),
        "google.protobuf.ListValue" => {
            Some(described(obj([("type", s("array"))]), "Any JSON array."))
        }
        "google.protobuf.NullValue" => Some(obj([("type", s("null"))])),
        "google.protobuf.Empty" => {
            Some(described(obj([("type", s("object"))]), "An empty object."))
        }
        "google.protobuf.Any" => Some(described(
            obj([
                ("type", s("object")),
                ("properties", obj([("@type", obj([("type", s("string"))]))])),
                ("required", Json::Arr(vec![s("@type")])),
            ]),
            "A message of any type: its type URL in @type, then its fields (or its JSON \
             form in value, for a well-known type).",
        )),
        _ => None,
    }
}

/// The shared error body both transports map errors to.
fn error_schema() -> Json {
    obj([
        ("type", s("object")),
        (
            "description",
            s("The error body of every failed HTTP call."),
        ),
        (
            "properties",
            obj([(
                "error",
                obj([
                    ("type", s("object")),
                    (
                        "properties",
                        obj([
                            (
                                "code",
                                obj([
                                    ("type", s("integer")),
                                    ("description", s("The HTTP status.")),
                                ]),
                            ),
                            (
                                "status",
                                obj([
                                    ("type", s("string")),
                                    ("description", s("The gRPC status code's name.")),
                                    (
                                        "enum",
                                        Json::Arr(
                                            crate::ir::status::CODES
                                                .iter()
                                                .map(|c| s(c.name))
                                                .collect(),
                                        ),
                                    ),
                                ]),
                            ),
                            (
                                "message",
                                obj([
                                    ("type", s("string")),
                                    ("description", s("What went wrong, for a developer.")),
                                ]),
                            ),
                            (
                                "details",
                                obj([
                                    ("type", s("array")),
                                    (
                                        "description",
                                        s(
                                            "google.rpc.Status details, each a google.protobuf.Any in its JSON form.",
                                        ),
                                    ),
                                    (
                                        "items",
                                        well_known_schema("google.protobuf.Any").expect("Any"),
                                    ),
                                ]),
                            ),
                        ]),
                    ),
                    (
                        "required",
                        Json::Arr(vec![s("code"), s("status"), s("message")]),
                    ),
                ]),
            )]),
        ),
        ("required", Json::Arr(vec![s("error")])),
    ])
}

/// Whether an empty query value is a value of a field of type `ty`: a
/// string's, bytes', or the string form of a wrapper or a FieldMask.
fn empty_is_a_value(ty: &FieldType) -> bool {
    match ty {
        FieldType::Scalar(Scalar::String | Scalar::Bytes) => true,
        FieldType::Message(m) => matches!(
            m.as_str(),
            "google.protobuf.StringValue"
                | "google.protobuf.BytesValue"
                | "google.protobuf.FieldMask"
        ),
        _ => false,
    }
}
