//! Interface first: a Go interface given with `--from` stays the service
//! layer, with the user's own types.
//!
//! The user's file lives in the project as their package (`internal/<pkg>`),
//! untouched. Everything the proto-first project has is generated as usual
//! from the derived `.proto` (its `service.<X>Service` is the wire-level
//! interface the transports serve), and `pkg/adapter` joins the two the Go kit
//! way: a request and a response struct per method on the user's types, a
//! `Make…Endpoint` calling the user's interface, and the field-by-field
//! conversions between those structs and the protobuf messages, in both
//! directions (serving, and calling a remote service through the user's
//! interface). The implementation stub kitgen writes, in the user's package,
//! implements the user's interface.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write;

use heck::{ToLowerCamelCase, ToSnakeCase, ToUpperCamelCase};

use super::model::{Project, Service as GoService};
use super::naming::{self, GO_KEYWORDS, go_camel_case};
use crate::diagnostic::Diagnostic;
use crate::frontend::definition::{self, Definition, Field, GoType, Pos};

/// Where the user's interface lives in the project.
#[derive(Debug, Clone)]
pub struct Placement {
    pub definition: Definition,
    /// Its directory, relative to the project: `internal/addservice`.
    pub dir: String,
    /// The file's name in that directory: `service.go`.
    pub file: String,
}

/// The directory a package goes to in a new project: `internal/<package>`.
/// kitgen generates nothing under `internal/`, so no package name (not even
/// `service` or `transport`) can meet one of kitgen's directories there, and
/// Go keeps the business logic private to the module.
pub fn package_dir(package: &str) -> String {
    format!("internal/{package}")
}

/// The name the adapter package is imported as by default.
const ADAPTER: &str = "adapter";
/// The directory of the generated adapter package.
pub const ADAPTER_DIR: &str = "pkg/adapter";

/// Everything interface-first adds to a project.
pub struct Rendered {
    /// Generated files, relative to the project.
    pub generated: Vec<(String, String)>,
    /// The implementation stubs, the user's from then on.
    pub user: Vec<(String, String)>,
    /// Per service (in project order): the expression `main.go` builds the
    /// wire-level service with, and the imports (name, path) it needs.
    pub construct: Vec<String>,
    pub main_imports: Vec<(String, String)>,
}

/// Checks what the Go frontend accepted against what code in another
/// package can use, and renders the adapter and the stubs.
pub fn render(p: &Project, place: &Placement) -> Result<Rendered, Diagnostic> {
    let def = &place.definition;
    let go = def.go.clone().unwrap_or_default();
    check(def, &go)?;
    let import_path = if place.dir.is_empty() {
        p.module.clone()
    } else {
        format!("{}/{}", p.module, place.dir)
    };
    let mut gen_ = Gen::new(p, def, &go.package);
    gen_.collect()?;
    // The user's package, as the adapter and main.go import it: its own
    // name unless code there uses that name for something else.
    let mut reserved: HashSet<String> = gen_.declared.iter().cloned().collect();
    reserved.extend(LOCALS.iter().map(|s| s.to_string()));
    reserved.extend(
        [
            "adapter",
            "service",
            "endpoint",
            "context",
            "time",
            "timestamppb",
            "durationpb",
            "server",
        ]
        .map(String::from),
    );
    reserved.extend(p.go_packages().into_iter().map(|g| g.name));
    reserved.extend(p.services.iter().map(|s| s.lower.clone()));
    let taken_in_main = |n: &str| reserved.contains(n) || naming::service_var(n) != n;
    let user = fresh(&go.package, "svc", &taken_in_main);
    let adapter = {
        let services: HashSet<&str> = p.services.iter().map(|s| s.lower.as_str()).collect();
        fresh(ADAPTER, "pkg", &|n: &str| {
            services.contains(n) || n == user || naming::service_var(n) != n && n != ADAPTER
        })
    };
    gen_.user = user.clone();
    let adapter_go = gen_.adapter_file(&import_path);
    let convert_go = gen_.convert_file(&import_path, &adapter_go);

    let mut construct = Vec::new();
    for ds in &def.services {
        construct.push(format!(
            "{adapter}.New{}({user}.{}())",
            ds.name,
            gen_.constructor(&ds.name, &go.names)
        ));
    }
    let mut stubs = Vec::new();
    let mut files_taken: BTreeSet<String> = BTreeSet::from([place.file.clone()]);
    for ds in &def.services {
        let stem = format!("{}_impl", ds.name.to_snake_case());
        let mut name = format!("{stem}.go");
        let mut n = 1;
        while files_taken.contains(&name) {
            n += 1;
            name = format!("{stem}{n}.go");
        }
        files_taken.insert(name.clone());
        let path = if place.dir.is_empty() {
            name
        } else {
            format!("{}/{name}", place.dir)
        };
        stubs.push((path, gen_.stub(ds, &go)));
    }
    Ok(Rendered {
        generated: vec![
            (format!("{ADAPTER_DIR}/adapter.go"), adapter_go),
            (format!("{ADAPTER_DIR}/convert.go"), convert_go),
        ],
        user: stubs,
        construct,
        main_imports: vec![
            (adapter, format!("{}/{ADAPTER_DIR}", p.module)),
            (user, import_path),
        ],
    })
}

/// Local variables and helpers of the adapter's code: the user's package
/// is never imported under one of these names.
const LOCALS: &[&str] = &[
    "ctx",
    "request",
    "req",
    "resp",
    "err",
    "svc",
    "s",
    "c",
    "m",
    "v",
    "in",
    "out",
    "f",
    "k",
    "u",
    "ok",
    "key",
    "value",
    "ts",
    "d",
    "t",
    "r",
    "cast",
    "same",
    "number",
    "sliceOf",
    "mapOf",
    "ptrOf",
    "messageOf",
    "optionalOf",
    "timestampOf",
    "timeOf",
    "durationpbOf",
    "durationOf",
    "pb",
];

/// `base`, else `base + suffix`, else numbered, whichever is free.
fn fresh(base: &str, suffix: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    let mut candidate = format!("{base}{suffix}");
    let mut n = 1;
    while taken(&candidate) {
        n += 1;
        candidate = format!("{base}{suffix}{n}");
    }
    candidate
}

/// What another package cannot use is refused where it is written.
fn check(def: &Definition, go: &definition::GoFile) -> Result<(), Diagnostic> {
    let exported = |n: &str| n.starts_with(|c: char| c.is_uppercase());
    if go.package == "main" {
        return Err(def.error(
            go.package_pos,
            "package main cannot hold the service interface: Go cannot import it",
            "declare the interface in a package of its own, such as `package addservice`",
        ));
    }
    // internal/internal is importable from internal/ only, not from the
    // generated packages beside it.
    if go.package == "internal" {
        return Err(def.error(
            go.package_pos,
            "package internal cannot hold the service interface: Go lets only internal/ import internal/internal",
            "declare the interface in a package of another name, such as `package addservice`",
        ));
    }
    for s in &def.services {
        if !exported(&s.name) {
            return Err(def.error(
                s.pos,
                format!(
                    "interface {} is unexported: the generated code cannot name it",
                    s.name
                ),
                format!("export it: {}", upper_first(&s.name)),
            ));
        }
        for m in &s.methods {
            if !exported(&m.name) {
                return Err(def.error(
                    m.pos,
                    format!(
                        "method {} is unexported: the generated code cannot call it",
                        m.name
                    ),
                    format!("export it: {}", upper_first(&m.name)),
                ));
            }
            for f in m.params.iter().chain(&m.results) {
                check_type(def, f)?;
            }
        }
    }
    for st in &def.structs {
        for f in &st.fields {
            check_type(def, f)?;
        }
    }
    Ok(())
}

fn check_type(def: &Definition, f: &Field) -> Result<(), Diagnostic> {
    let Some(ty) = &f.go else { return Ok(()) };
    let mut named = Vec::new();
    collect_named(ty, &mut named);
    for n in named {
        if !n.starts_with(|c: char| c.is_uppercase()) {
            return Err(def.error(
                f.pos,
                format!("type {n} is unexported: the generated code cannot name it"),
                format!("export it: {}", upper_first(n)),
            ));
        }
    }
    let nested_pointer = |t: &GoType| match t {
        GoType::Pointer(inner) => !matches!(inner.as_ref(), GoType::Struct(_)),
        _ => false,
    };
    match ty {
        GoType::Slice(e) if nested_pointer(e) => Err(def.error(
            f.pos,
            "a slice of pointers to values other than structs has no conversion",
            "use a slice of the values",
        )),
        GoType::Map(_, v) if nested_pointer(v) => Err(def.error(
            f.pos,
            "a map of pointers to values other than structs has no conversion",
            "use a map of the values",
        )),
        _ => Ok(()),
    }
}

fn collect_named<'a>(ty: &'a GoType, out: &mut Vec<&'a str>) {
    match ty {
        GoType::Struct(n) | GoType::Enum(n) => out.push(n),
        GoType::Pointer(t) | GoType::Slice(t) => collect_named(t, out),
        GoType::Map(k, v) => {
            collect_named(k, out);
            collect_named(v, out);
        }
        _ => {}
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A struct whose fields convert one by one: a method's request or
/// response, or a struct of the user's.
struct Record {
    /// The Go type on the user's side: `SumRequest` (in the adapter) or
    /// `addservice.Item`.
    domain: String,
    /// The protobuf message's Go type: `pb.SumRequest`.
    pb: String,
    /// The converters' stem: `sumRequest`, `item`.
    stem: String,
    /// (field on the user's side, field of the message, type).
    fields: Vec<(String, String, GoType)>,
    /// Whether the user's side is a struct of the user's package (else the
    /// adapter's own request/response struct).
    users: bool,
}

struct Gen<'a> {
    p: &'a Project,
    def: &'a Definition,
    /// The user's package name as imported.
    user: String,
    pb: String,
    records: Vec<Record>,
    /// Package-level names the adapter declares.
    declared: Vec<String>,
}

impl<'a> Gen<'a> {
    fn new(p: &'a Project, def: &'a Definition, package: &str) -> Self {
        let pb = p
            .services
            .first()
            .map(|s| s.pb.name.clone())
            .unwrap_or_else(|| "pb".into());
        Gen {
            p,
            def,
            user: package.to_string(),
            pb,
            records: Vec::new(),
            declared: Vec::new(),
        }
    }

    /// The records and every package-level name, refusing a clash.
    fn collect(&mut self) -> Result<(), Diagnostic> {
        let mut names: Vec<(String, Pos)> = Vec::new();
        for s in &self.def.services {
            for n in [
                format!("New{}", s.name),
                format!("New{}Client", s.name),
                format!("{}Server", s.name.to_lower_camel_case()),
                format!("{}Client", s.name.to_lower_camel_case()),
            ] {
                names.push((n, s.pos));
            }
            for m in &s.methods {
                let name = m.name.to_upper_camel_case();
                for n in [
                    format!("{name}Request"),
                    format!("{name}Response"),
                    format!("Make{name}Endpoint"),
                ] {
                    names.push((n, m.pos));
                }
                for (suffix, fields) in [("Request", &m.params), ("Response", &m.results)] {
                    let message = format!("{name}{suffix}");
                    let record = Record {
                        domain: message.clone(),
                        pb: format!("{}.{}", self.pb, go_camel_case(&message)),
                        stem: message.to_lower_camel_case(),
                        fields: definition::field_names(fields)
                            .iter()
                            .zip(fields.iter())
                            .map(|(n, f)| {
                                (
                                    go_camel_case(n),
                                    go_camel_case(n),
                                    f.go.clone().expect("a Go field"),
                                )
                            })
                            .collect(),
                        users: false,
                    };
                    for conv in ["ToPB", "FromPB"] {
                        names.push((format!("{}{conv}", record.stem), m.pos));
                    }
                    self.records.push(record);
                }
            }
        }
        for st in &self.def.structs {
            let record = Record {
                domain: st.name.clone(),
                pb: format!("{}.{}", self.pb, go_camel_case(&st.name)),
                stem: st.name.to_lower_camel_case(),
                fields: st
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            f.name.clone(),
                            go_camel_case(&f.name.to_snake_case()),
                            f.go.clone().expect("a Go field"),
                        )
                    })
                    .collect(),
                users: true,
            };
            for conv in ["ToPB", "FromPB", "PtrToPB", "PtrFromPB"] {
                names.push((format!("{}{conv}", record.stem), st.pos));
            }
            self.records.push(record);
        }
        let helpers: HashSet<&str> = LOCALS.iter().copied().collect();
        let mut seen: Vec<(String, Pos)> = Vec::new();
        for (n, pos) in names {
            if helpers.contains(n.as_str()) {
                return Err(self.def.error(
                    pos,
                    format!("the generated adapter would declare '{n}' twice"),
                    "rename the interface, method or type",
                ));
            }
            if let Some((_, other)) = seen.iter().find(|(o, _)| *o == n) {
                return Err(self.def.error(
                    pos,
                    format!(
                        "the generated adapter would declare '{n}' for this and for line {}",
                        other.line
                    ),
                    "rename one of the two",
                ));
            }
            seen.push((n, pos));
        }
        self.declared = seen.into_iter().map(|(n, _)| n).collect();
        Ok(())
    }

    /// The stub's constructor: `New<Interface>`, unless the file declares it.
    fn constructor(&self, iface: &str, names: &[String]) -> String {
        let taken = |n: &str| names.iter().any(|x| x == n);
        fresh(&format!("New{iface}"), "Impl", &taken)
    }

    /// The user's side of a type, as the adapter names it.
    fn domain_type(&self, ty: &GoType) -> String {
        match ty {
            GoType::Basic(b) => b.clone(),
            GoType::Bytes => "[]byte".into(),
            GoType::Struct(n) | GoType::Enum(n) => format!("{}.{n}", self.user),
            GoType::Time => "time.Time".into(),
            GoType::Duration => "time.Duration".into(),
            GoType::Pointer(t) => format!("*{}", self.domain_type(t)),
            GoType::Slice(t) => format!("[]{}", self.domain_type(t)),
            GoType::Map(k, v) => format!("map[{}]{}", self.domain_type(k), self.domain_type(v)),
        }
    }

    /// The Go type of the message field a type becomes.
    fn pb_type(&self, ty: &GoType) -> String {
        match ty {
            GoType::Basic(b) => pb_basic(b).to_string(),
            GoType::Bytes => "[]byte".into(),
            GoType::Struct(n) => format!("*{}.{}", self.pb, go_camel_case(n)),
            GoType::Enum(n) => format!("{}.{}", self.pb, go_camel_case(n)),
            GoType::Time => "*timestamppb.Timestamp".into(),
            GoType::Duration => "*durationpb.Duration".into(),
            GoType::Pointer(t) => match t.as_ref() {
                GoType::Basic(_) | GoType::Enum(_) => format!("*{}", self.pb_type(t)),
                _ => self.pb_type(t),
            },
            GoType::Slice(t) => format!("[]{}", self.pb_type(t)),
            GoType::Map(k, v) => format!("map[{}]{}", self.pb_type(k), self.pb_type(v)),
        }
    }

    /// A number or enum: converted with a Go conversion (none if the types
    /// are one).
    fn numeric(&self, ty: &GoType) -> bool {
        matches!(ty, GoType::Basic(b) if b != "string" && b != "bool")
            || matches!(ty, GoType::Enum(_))
    }

    fn same(&self, ty: &GoType) -> bool {
        match ty {
            GoType::Basic(b) => canonical(b) == pb_basic(b),
            GoType::Bytes => true,
            GoType::Pointer(t) => matches!(t.as_ref(), GoType::Basic(_)) && self.same(t),
            GoType::Slice(t) => self.same(t),
            GoType::Map(k, v) => self.same(k) && self.same(v),
            _ => false,
        }
    }

    /// A function value converting one value to the message's form, or
    /// None where no conversion is needed.
    fn message_func(&self, ty: &GoType) -> Option<String> {
        if self.same(ty) {
            return None;
        }
        Some(match ty {
            t if self.numeric(t) => format!("cast[{}, {}]", self.pb_type(t), self.domain_type(t)),
            GoType::Struct(n) => format!("{}ToPB", n.to_lower_camel_case()),
            GoType::Pointer(t) if matches!(t.as_ref(), GoType::Struct(_)) => {
                let GoType::Struct(n) = t.as_ref() else {
                    unreachable!()
                };
                format!("{}PtrToPB", n.to_lower_camel_case())
            }
            GoType::Time => "timestampOf".into(),
            GoType::Duration => "durationpbOf".into(),
            // Refused by `check`: slices and maps do not nest.
            _ => "same".into(),
        })
    }

    fn domain_func(&self, ty: &GoType) -> Option<String> {
        if self.same(ty) {
            return None;
        }
        Some(match ty {
            t if self.numeric(t) => format!("cast[{}, {}]", self.domain_type(t), self.pb_type(t)),
            GoType::Struct(n) => format!("{}FromPB", n.to_lower_camel_case()),
            GoType::Pointer(t) if matches!(t.as_ref(), GoType::Struct(_)) => {
                let GoType::Struct(n) = t.as_ref() else {
                    unreachable!()
                };
                format!("{}PtrFromPB", n.to_lower_camel_case())
            }
            GoType::Time => "timeOf".into(),
            GoType::Duration => "durationOf".into(),
            _ => "same".into(),
        })
    }

    /// `x` of the user's type as the message field's value.
    fn message_expr(&self, ty: &GoType, x: &str) -> String {
        self.convert_expr(ty, x, Direction::ToMessage)
    }

    /// `x`, a message field's value, as the user's type.
    fn domain_expr(&self, ty: &GoType, x: &str) -> String {
        self.convert_expr(ty, x, Direction::ToDomain)
    }

    /// `x` converted one way: the two directions differ only in the
    /// conversion functions, the target type and the helper for an optional
    /// non-numeric value.
    fn convert_expr(&self, ty: &GoType, x: &str, to: Direction) -> String {
        if self.same(ty) {
            return x.to_string();
        }
        let func = |t: &GoType| match to {
            Direction::ToMessage => self.message_func(t),
            Direction::ToDomain => self.domain_func(t),
        };
        let target = |t: &GoType| match to {
            Direction::ToMessage => self.pb_type(t),
            Direction::ToDomain => self.domain_type(t),
        };
        let optional = match to {
            Direction::ToMessage => "messageOf",
            Direction::ToDomain => "optionalOf",
        };
        match ty {
            t if self.numeric(t) => format!("{}({x})", target(t)),
            GoType::Pointer(t) => match t.as_ref() {
                GoType::Struct(_) => format!("{}({x})", func(ty).expect("converts")),
                inner => format!(
                    "{}({x}, {})",
                    if self.numeric(inner) {
                        "ptrOf"
                    } else {
                        optional
                    },
                    func(inner).expect("converts")
                ),
            },
            GoType::Slice(e) => format!("sliceOf({x}, {})", func(e).expect("converts")),
            GoType::Map(k, v) => format!(
                "mapOf({x}, {}, {})",
                func(k).unwrap_or_else(|| format!("same[{}]", target(k))),
                func(v).unwrap_or_else(|| format!("same[{}]", target(v)))
            ),
            _ => format!("{}({x})", func(ty).expect("converts")),
        }
    }

    fn service(&self, name: &str) -> &'a GoService {
        let i = self
            .def
            .services
            .iter()
            .position(|s| s.name == name)
            .expect("a service");
        &self.p.services[i]
    }

    /// A client method's parameter for a request field: never a name its
    /// body or signature uses otherwise.
    fn param_name(&self, field: &str) -> String {
        let s = field.to_lower_camel_case();
        let taken = |n: &str| {
            GO_KEYWORDS.contains(&n)
                || LOCALS.contains(&n)
                || self.declared.iter().any(|d| d == n)
                || n == self.user
                || n == self.pb
                || [
                    "r",
                    "service",
                    "context",
                    "time",
                    "timestamppb",
                    "durationpb",
                    "endpoint",
                ]
                .contains(&n)
        };
        fresh(&s, "_", &taken)
    }

    /// `pkg/adapter/adapter.go`: the endpoints on the user's types, the
    /// wire-level service serving the user's, and the user's interface
    /// calling a wire-level one.
    fn adapter_file(&self, import_path: &str) -> String {
        let u = &self.user;
        let mut o = String::new();
        let _ = write!(
            o,
            "// Package adapter serves {u}'s interfaces the Go kit way. Each method\n\
             // has a request and a response struct on {u}'s own types and an\n\
             // endpoint calling the interface; the wire-level services of package\n\
             // service, which the transports serve, convert the protobuf messages\n\
             // into those structs and back, field by field (convert.go). {u} stays\n\
             // as written: it is the source of truth, and `kitgen generate` reads it.\n\
             package adapter\n\nimport (\n{}\n)\n",
            super::IMPORTS_PLACEHOLDER
        );
        for ds in &self.def.services {
            let s = self.service(&ds.name);
            let lower = ds.name.to_lower_camel_case();
            let iface = format!("{u}.{}", ds.name);
            // Endpoints.
            for m in &ds.methods {
                let name = m.name.to_upper_camel_case();
                for (suffix, fields, what) in [
                    ("Request", &m.params, "parameters"),
                    ("Response", &m.results, "results"),
                ] {
                    let record = self
                        .records
                        .iter()
                        .find(|r| !r.users && r.domain == format!("{name}{suffix}"))
                        .expect("a record");
                    let _ = writeln!(
                        o,
                        "\n// {name}{suffix} holds the {what} of {iface}.{}.",
                        m.name
                    );
                    if fields.is_empty() {
                        let _ = writeln!(o, "type {name}{suffix} struct{{}}");
                        continue;
                    }
                    let _ = writeln!(o, "type {name}{suffix} struct {{");
                    let width = record.fields.iter().map(|f| f.0.len()).max().unwrap_or(0);
                    for (field, _, ty) in &record.fields {
                        let _ =
                            writeln!(o, "\t{} {}", super::pad(field, width), self.domain_type(ty));
                    }
                    o.push_str("}\n");
                }
                let request = &self
                    .records
                    .iter()
                    .find(|r| !r.users && r.domain == format!("{name}Request"))
                    .expect("a record")
                    .fields;
                let response = &self
                    .records
                    .iter()
                    .find(|r| !r.users && r.domain == format!("{name}Response"))
                    .expect("a record")
                    .fields;
                let _ = write!(
                    o,
                    "\n// Make{name}Endpoint returns an endpoint that calls svc.{m_name} with\n\
                     // {a} {name}Request and answers {a} {name}Response.\n\
                     func Make{name}Endpoint(svc {iface}) endpoint.Endpoint {{\n\
                     \treturn func(ctx context.Context, request any) (any, error) {{\n\
                     {}",
                    if request.is_empty() {
                        String::new()
                    } else {
                        format!("\t\treq := request.({name}Request)\n")
                    },
                    m_name = m.name,
                    a = article(&name),
                );
                let call_args: String = request
                    .iter()
                    .map(|(f, _, _)| format!(", req.{f}"))
                    .collect();
                if response.is_empty() {
                    let _ = write!(
                        o,
                        "\t\tif err := svc.{}(ctx{call_args}); err != nil {{\n\
                         \t\t\treturn nil, err\n\t\t}}\n\
                         \t\treturn {name}Response{{}}, nil\n",
                        m.name
                    );
                } else {
                    let targets: Vec<String> = response
                        .iter()
                        .map(|(f, _, _)| format!("resp.{f}"))
                        .collect();
                    let _ = write!(
                        o,
                        "\t\tvar resp {name}Response\n\
                         \t\tvar err error\n\
                         \t\t{}, err = svc.{}(ctx{call_args})\n\
                         \t\tif err != nil {{\n\
                         \t\t\treturn nil, err\n\t\t}}\n\
                         \t\treturn resp, nil\n",
                        targets.join(", "),
                        m.name
                    );
                }
                o.push_str("\t}\n}\n");
            }
            // The wire-level service.
            let _ = write!(
                o,
                "\n// New{n} serves svc as service.{wire}, the interface the\n\
                 // transports serve: each call's protobuf request becomes the request\n\
                 // struct of its endpoint, and the endpoint's response struct becomes\n\
                 // the protobuf response.\n\
                 func New{n}(svc {iface}) service.{wire} {{\n\
                 \treturn {lower}Server{{\n",
                n = ds.name,
                wire = s.iface,
            );
            let width = ds
                .methods
                .iter()
                .map(|m| m.name.to_lower_camel_case().len() + 1)
                .max()
                .unwrap_or(0);
            for m in &ds.methods {
                let _ = writeln!(
                    o,
                    "\t\t{} Make{}Endpoint(svc),",
                    super::pad(format!("{}:", field_name(&m.name)), width),
                    m.name.to_upper_camel_case()
                );
            }
            o.push_str("\t}\n}\n\n");
            let _ = writeln!(
                o,
                "// {lower}Server implements service.{} with the endpoints of {iface}.",
                s.iface
            );
            let _ = writeln!(o, "type {lower}Server struct {{");
            let width = ds
                .methods
                .iter()
                .map(|m| field_name(&m.name).len())
                .max()
                .unwrap_or(0);
            for m in &ds.methods {
                let _ = writeln!(
                    o,
                    "\t{} endpoint.Endpoint",
                    super::pad(field_name(&m.name), width)
                );
            }
            o.push_str("}\n");
            for (m, wm) in ds.methods.iter().zip(&s.methods) {
                let name = m.name.to_upper_camel_case();
                let stem = name.to_lower_camel_case();
                let _ = write!(
                    o,
                    "\n// {w} converts req, calls the {name} endpoint and converts its response.\n\
                     func (s {lower}Server) {w}(ctx context.Context, req *{input}) (*{output}, error) {{\n\
                     \tresp, err := s.{field}(ctx, {stem}RequestFromPB(req))\n\
                     \tif err != nil {{\n\t\treturn nil, err\n\t}}\n\
                     \treturn {stem}ResponseToPB(resp.({name}Response)), nil\n}}\n",
                    w = wm.name,
                    input = wm.input,
                    output = wm.output,
                    field = field_name(&m.name),
                );
            }
            // The user's interface over a wire-level service.
            let _ = write!(
                o,
                "\n// New{n}Client returns {a} {iface} that calls svc, such as\n\
                 // transport.New{base}GRPCClient(conn) for a remote {n}, converting\n\
                 // each call's arguments into the protobuf request and the\n\
                 // protobuf response into its results.\n\
                 func New{n}Client(svc service.{wire}) {iface} {{\n\
                 \treturn {lower}Client{{svc: svc}}\n}}\n\n\
                 // {lower}Client implements {iface} over service.{wire}.\n\
                 type {lower}Client struct {{\n\tsvc service.{wire}\n}}\n",
                n = ds.name,
                base = s.base,
                wire = s.iface,
                a = article(u),
            );
            for (m, wm) in ds.methods.iter().zip(&s.methods) {
                let name = m.name.to_upper_camel_case();
                let stem = name.to_lower_camel_case();
                let request = &self
                    .records
                    .iter()
                    .find(|r| !r.users && r.domain == format!("{name}Request"))
                    .expect("a record")
                    .fields;
                let response = &self
                    .records
                    .iter()
                    .find(|r| !r.users && r.domain == format!("{name}Response"))
                    .expect("a record")
                    .fields;
                // Parameters are named after their request fields, kept
                // apart from the method's own names.
                let params: Vec<String> = request
                    .iter()
                    .zip(&m.params)
                    .map(|((f, _, ty), _)| {
                        format!("{} {}", self.param_name(f), self.domain_type(ty))
                    })
                    .collect();
                let mut results: Vec<String> = response
                    .iter()
                    .map(|(_, _, ty)| self.domain_type(ty))
                    .collect();
                results.push("error".into());
                let results = if results.len() == 1 {
                    "error".to_string()
                } else {
                    format!("({})", results.join(", "))
                };
                let literal = if request.is_empty() {
                    format!("{name}Request{{}}")
                } else {
                    let keys: Vec<String> = request
                        .iter()
                        .map(|(f, _, _)| format!("{f}: {}", self.param_name(f)))
                        .collect();
                    format!("{name}Request{{{}}}", keys.join(", "))
                };
                let _ = write!(
                    o,
                    "\n// {n} calls {w} of the wire-level service.\n\
                     func (c {lower}Client) {n}(ctx context.Context{params}) {results} {{\n",
                    n = m.name,
                    w = wm.name,
                    params = params.iter().map(|p| format!(", {p}")).collect::<String>(),
                );
                if response.is_empty() {
                    let _ = write!(
                        o,
                        "\t_, err := c.svc.{w}(ctx, {stem}RequestToPB({literal}))\n\treturn err\n}}\n",
                        w = wm.name
                    );
                } else {
                    let outs: Vec<String> =
                        response.iter().map(|(f, _, _)| format!("r.{f}")).collect();
                    let _ = write!(
                        o,
                        "\tresp, err := c.svc.{w}(ctx, {stem}RequestToPB({literal}))\n\
                         \t// A nil response converts to zero values, returned with err.\n\
                         \tr := {stem}ResponseFromPB(resp)\n\
                         \treturn {}, err\n}}\n",
                        outs.join(", "),
                        w = wm.name
                    );
                }
            }
        }
        let mut extra: Vec<(String, String)> = vec![(self.user.clone(), import_path.to_string())];
        extra.extend(self.wkt_imports());
        let imports = super::imports_with(&o, self.p, &["service"], &extra);
        o.replacen(super::IMPORTS_PLACEHOLDER, &imports, 1)
    }

    fn wkt_imports(&self) -> Vec<(String, String)> {
        vec![
            (
                "timestamppb".into(),
                "google.golang.org/protobuf/types/known/timestamppb".into(),
            ),
            (
                "durationpb".into(),
                "google.golang.org/protobuf/types/known/durationpb".into(),
            ),
        ]
    }

    /// `pkg/adapter/convert.go`: one function each way per request,
    /// response and struct, and the generic helpers they share.
    fn convert_file(&self, import_path: &str, adapter: &str) -> String {
        let mut body = String::new();
        for r in &self.records {
            let domain = if r.users {
                format!("{}.{}", self.user, r.domain)
            } else {
                r.domain.clone()
            };
            let what = format!("{} {domain}", article(&r.domain));
            // To the message.
            let _ = writeln!(
                body,
                "\n// {}ToPB converts {what} into its protobuf message.",
                r.stem
            );
            let _ = writeln!(body, "func {}ToPB(v {domain}) *{} {{", r.stem, r.pb);
            let fields: Vec<(String, String)> = r
                .fields
                .iter()
                .map(|(d, m, ty)| (m.clone(), self.message_expr(ty, &format!("v.{d}"))))
                .collect();
            literal(&mut body, &format!("&{}", r.pb), &fields);
            body.push_str("}\n");
            // From the message.
            let _ = writeln!(
                body,
                "\n// {}FromPB converts a protobuf message into {what}; nil gives the zero value.",
                r.stem
            );
            let _ = writeln!(body, "func {}FromPB(m *{}) {domain} {{", r.stem, r.pb);
            // An optional field's getter answers the value, not whether it
            // is set: those read the field itself, behind a nil check.
            let optional = |ty: &GoType| matches!(ty, GoType::Pointer(t) if matches!(t.as_ref(), GoType::Basic(_) | GoType::Enum(_)));
            if r.fields.iter().any(|(_, _, ty)| optional(ty)) {
                let _ = writeln!(body, "\tif m == nil {{\n\t\treturn {domain}{{}}\n\t}}");
            }
            let fields: Vec<(String, String)> = r
                .fields
                .iter()
                .map(|(d, m, ty)| {
                    let read = if optional(ty) {
                        format!("m.{m}")
                    } else {
                        format!("m.Get{m}()")
                    };
                    (d.clone(), self.domain_expr(ty, &read))
                })
                .collect();
            literal(&mut body, &domain, &fields);
            body.push_str("}\n");
            if r.users {
                let _ = write!(
                    body,
                    "\n// {s}PtrToPB converts a *{domain}; nil stays nil.\n\
                     func {s}PtrToPB(v *{domain}) *{pb} {{\n\
                     \tif v == nil {{\n\t\treturn nil\n\t}}\n\
                     \treturn {s}ToPB(*v)\n}}\n\
                     \n// {s}PtrFromPB converts a protobuf message into a *{domain}; nil stays nil.\n\
                     func {s}PtrFromPB(m *{pb}) *{domain} {{\n\
                     \tif m == nil {{\n\t\treturn nil\n\t}}\n\
                     \tv := {s}FromPB(m)\n\treturn &v\n}}\n",
                    s = r.stem,
                    pb = r.pb,
                );
            }
        }
        body.push_str(HELPERS);
        // Keep only what is used: functions no other code calls go, until
        // nothing changes (a struct's converters may be the only users of
        // another's).
        let body = prune(&body, adapter);
        let mut o = String::new();
        let _ = write!(
            o,
            "package adapter\n\nimport (\n{}\n)\n{body}",
            super::IMPORTS_PLACEHOLDER
        );
        let mut extra: Vec<(String, String)> = vec![(self.user.clone(), import_path.to_string())];
        extra.extend(self.wkt_imports());
        let imports = super::imports_with(&o, self.p, &[], &extra);
        o.replacen(super::IMPORTS_PLACEHOLDER, &imports, 1)
    }

    /// The implementation stub of one interface, in the user's package.
    fn stub(&self, ds: &definition::Service, go: &definition::GoFile) -> String {
        let names: HashSet<&str> = go.names.iter().map(String::as_str).collect();
        let constructor = self.constructor(&ds.name, &go.names);
        let impl_type = fresh(&format!("basic{}", ds.name), "Impl", &|n: &str| {
            names.contains(n)
        });
        // kitgen's error model, imported under a name the file and the
        // signatures leave free.
        let mut params: HashSet<String> = HashSet::new();
        for m in &ds.methods {
            for f in m.params.iter().chain(&m.results) {
                params.insert(f.name.clone());
            }
        }
        let errors = fresh("service", "kit", &|n: &str| {
            names.contains(n) || params.contains(n) || n == go.package
        });
        let receiver = ["s", "svc", "impl", "basic"]
            .into_iter()
            .find(|r| !params.contains(*r) && !names.contains(*r))
            .unwrap_or("self_");
        let mut o = String::new();
        let _ = write!(
            o,
            "package {pkg}\n\nimport (\n{imports}\n)\n\n\
             // {constructor} returns the implementation of {i}.\n\
             func {constructor}() {i} {{\n\treturn &{impl_type}{{}}\n}}\n\n\
             // {impl_type} implements {i}. Add the dependencies it needs (a database,\n\
             // other clients) as fields and take them in {constructor}.\n\
             type {impl_type} struct{{}}\n",
            pkg = go.package,
            imports = super::IMPORTS_PLACEHOLDER,
            i = ds.name,
        );
        for m in &ds.methods {
            o.push('\n');
            if m.doc.is_empty() {
                let _ = writeln!(o, "// {} implements {}.", m.name, ds.name);
            } else {
                for line in m.doc.lines() {
                    if line.is_empty() {
                        o.push_str("//\n");
                    } else {
                        let _ = writeln!(o, "// {line}");
                    }
                }
            }
            let named = m.results.iter().any(|f| !f.name.is_empty());
            let mut values: Vec<String> = m
                .results
                .iter()
                .map(|f| {
                    if named {
                        f.name.clone()
                    } else {
                        zero(f.go.as_ref().expect("a Go field"))
                    }
                })
                .collect();
            values.push(format!(
                "{errors}.Errorf({errors}.CodeUnimplemented, \"{} is not implemented yet\")",
                m.name
            ));
            let _ = write!(
                o,
                "func ({receiver} *{impl_type}) {}{} {{\n\treturn {}\n}}\n",
                m.name,
                one_line(&m.go_signature),
                values.join(", ")
            );
        }
        let extra = vec![(errors, format!("{}/pkg/service", self.p.module))];
        let imports = super::imports_with(&o, self.p, &[], &extra);
        o.replacen(super::IMPORTS_PLACEHOLDER, &imports, 1)
    }
}

/// The adapter server's endpoint field of a method.
fn field_name(method: &str) -> String {
    let s = method.to_lower_camel_case();
    if GO_KEYWORDS.contains(&s.as_str()) {
        format!("{s}_")
    } else {
        s
    }
}

/// "a" or "an" before `word`.
fn article(word: &str) -> &'static str {
    if word.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// A signature written over several lines, on one, as gofmt prints a
/// function declaration's.
fn one_line(signature: &str) -> String {
    if !signature.contains('\n') {
        return signature.to_string();
    }
    let joined = signature
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    joined
        .replace("( ", "(")
        .replace(", )", ")")
        .replace(" )", ")")
}

/// The zero value of a type, for the stub's unnamed results.
fn zero(ty: &GoType) -> String {
    match ty {
        GoType::Basic(b) if b == "string" => "\"\"".into(),
        GoType::Basic(b) if b == "bool" => "false".into(),
        GoType::Basic(_) | GoType::Enum(_) | GoType::Duration => "0".into(),
        GoType::Struct(n) => format!("{n}{{}}"),
        GoType::Time => "time.Time{}".into(),
        GoType::Bytes | GoType::Pointer(_) | GoType::Slice(_) | GoType::Map(..) => "nil".into(),
    }
}

/// A Go basic type's name without aliases.
fn canonical(b: &str) -> &str {
    match b {
        "byte" => "uint8",
        "rune" => "int32",
        other => other,
    }
}

/// The Go type protoc-gen-go gives the field a basic type becomes.
fn pb_basic(b: &str) -> &'static str {
    match b {
        "bool" => "bool",
        "string" => "string",
        "int" | "int64" => "int64",
        "int8" | "int16" | "int32" | "rune" => "int32",
        "uint" | "uint64" => "uint64",
        "float32" => "float32",
        "float64" => "float64",
        _ => "uint32",
    }
}

/// `return T{…}` with one field a line, aligned as gofmt aligns them.
fn literal(out: &mut String, ty: &str, fields: &[(String, String)]) {
    if fields.is_empty() {
        let _ = writeln!(out, "\treturn {ty}{{}}");
        return;
    }
    let width = fields.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    // gofmt aligns keys up to 40 characters long; longer ones get one line
    // each without alignment, which never happens with names this short.
    let _ = writeln!(out, "\treturn {ty}{{");
    for (k, v) in fields {
        if k.len() > 40 {
            let _ = writeln!(out, "\t\t{k}: {v},");
        } else {
            let _ = writeln!(out, "\t\t{} {v},", super::pad(format!("{k}:"), width));
        }
    }
    out.push_str("\t}\n");
}

/// Drops the top-level functions and types of `code` that nothing else in
/// it refers to, repeatedly. Each declaration starts at a doc comment and
/// ends at the `}` closing it.
fn prune(code: &str, also: &str) -> String {
    let mut decls: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in code.split_inclusive('\n') {
        current.push_str(line);
        if line == "}\n" || (line.starts_with("type ") && line.ends_with("}\n")) {
            decls.push(std::mem::take(&mut current));
        }
    }
    let tail = current;
    let name_of = |d: &str| -> Option<String> {
        let line = d
            .lines()
            .find(|l| l.starts_with("func ") || l.starts_with("type "))?;
        let rest = line.split_once(' ')?.1;
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    loop {
        let mut keep = Vec::new();
        let mut changed = false;
        for (i, d) in decls.iter().enumerate() {
            let Some(name) = name_of(d) else {
                keep.push(d.clone());
                continue;
            };
            let used = uses(also, &name)
                || decls.iter().enumerate().any(|(j, other)| {
                    j != i && {
                        let code: String = other
                            .lines()
                            .filter(|l| !l.trim_start().starts_with("//"))
                            .collect::<Vec<_>>()
                            .join("\n");
                        uses(&code, &name)
                    }
                });
            if used {
                keep.push(d.clone());
            } else {
                changed = true;
            }
        }
        decls = keep;
        if !changed {
            break;
        }
    }
    let mut out: String = decls.concat();
    out.push_str(&tail);
    out
}

/// Whether `code` uses the identifier `name`.
fn uses(code: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(name).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The generic conversions the converters share; [`prune`] drops the
/// unused ones.
const HELPERS: &str = r#"
// number is every Go type a protobuf number or enum converts from and to.
type number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// cast converts a number (or a named integer type: an enum) into another.
func cast[T, F number](v F) T {
	return T(v)
}

// same is the conversion of a value that needs none.
func same[T any](v T) T {
	return v
}

// sliceOf converts each element of in; nil stays nil.
func sliceOf[F, T any](in []F, f func(F) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// mapOf converts each key and value of in; nil stays nil.
func mapOf[FK, TK comparable, FV, TV any](in map[FK]FV, k func(FK) TK, f func(FV) TV) map[TK]TV {
	if in == nil {
		return nil
	}
	out := make(map[TK]TV, len(in))
	for key, value := range in {
		out[k(key)] = f(value)
	}
	return out
}

// ptrOf converts the value a pointer points to; nil stays nil.
func ptrOf[F, T any](in *F, f func(F) T) *T {
	if in == nil {
		return nil
	}
	out := f(*in)
	return &out
}

// messageOf converts the value a pointer points to into a message; nil
// stays nil.
func messageOf[F, T any](in *F, f func(F) *T) *T {
	if in == nil {
		return nil
	}
	return f(*in)
}

// optionalOf converts a message into a pointer to a value; nil stays nil.
func optionalOf[F, T any](m *F, f func(*F) T) *T {
	if m == nil {
		return nil
	}
	out := f(m)
	return &out
}

// timestampOf converts a time.Time; the zero time is no timestamp.
func timestampOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// timeOf converts a timestamp into a time.Time in UTC; none is the zero time.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// durationpbOf converts a time.Duration; zero is no duration.
func durationpbOf(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

// durationOf converts a duration into a time.Duration; none is zero.
func durationOf(d *durationpb.Duration) time.Duration {
	return d.AsDuration()
}
"#;

/// Which way a field is converted: into the protobuf message or into the
/// user's type.
#[derive(Clone, Copy)]
enum Direction {
    ToMessage,
    ToDomain,
}
