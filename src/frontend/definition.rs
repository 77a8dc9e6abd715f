//! What a service written as code (a Go interface, a Rust trait) declares,
//! and its lowering into the IR. Both code frontends fill a [`Definition`];
//! the rules that turn it into an API live here once.

use heck::{ToKebabCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

use crate::diagnostic::Diagnostic;
use crate::ir::{self, Cardinality, FieldType, Scalar};

/// A place in the source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A service definition read from code.
#[derive(Debug, Clone, Default)]
pub struct Definition {
    /// The source file as the user named it, for diagnostics and headers.
    pub file: String,
    pub services: Vec<Service>,
    pub structs: Vec<Struct>,
    pub enums: Vec<Enum>,
    /// What only a Go file has: its package and the names it declares.
    pub go: Option<GoFile>,
    /// What only a Rust file has: its imports, what is not `pub`, its error types.
    pub rust: Option<RustFile>,
}

/// What a Rust file says beyond the API, which a Rust project that keeps
/// the file as its service layer needs to name its types.
#[derive(Debug, Clone, Default)]
pub struct RustFile {
    /// The names the file's `use` items bring into scope, and their paths
    /// (`HashMap` and `std::collections::HashMap`).
    pub uses: Vec<(String, String)>,
    /// What the API needs and the file does not make `pub` (`trait
    /// Warehouse`, `field Item.sku`), where it is written.
    pub private: Vec<(String, Pos)>,
    /// Structs and enums declared in the file that are the error type of
    /// its methods (`Result<T, Error>`): not part of the API.
    pub errors: Vec<String>,
}

/// A Rust trait method as written, beyond its parameters and results.
#[derive(Debug, Clone)]
pub struct RustMethod {
    /// `async fn`, or a plain `fn` returning the `Result` itself.
    pub asynchronous: bool,
    /// The error type `E` of `Result<T, E>` as written (`Error`,
    /// `tonic::Status`); `None` when it is no plain path.
    pub error: Option<String>,
    pub error_pos: Pos,
    /// The whole return type as written (`Result<Item, Error>`).
    pub output: Option<String>,
}

/// A Rust type as written, for a file that implements the trait.
#[derive(Debug, Clone)]
pub struct RustType {
    /// The type as the trait spells it (`HashMap<String, i32>`), or `None`
    /// when it is no plain path or tuple.
    pub text: Option<String>,
    /// A map is a `BTreeMap` (else a `HashMap`).
    pub btree: bool,
}

/// A Go file's package clause and top-level names, which code generated
/// beside or around it must not take.
#[derive(Debug, Clone, Default)]
pub struct GoFile {
    pub package: String,
    pub package_pos: Pos,
    /// Every top-level name the file declares: types, functions, constants
    /// and variables.
    pub names: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub doc: String,
    pub pos: Pos,
    pub methods: Vec<Method>,
}

#[derive(Debug, Clone)]
pub struct Method {
    /// The name as written (`Sum`, `sum`).
    pub name: String,
    pub doc: String,
    pub pos: Pos,
    pub params: Vec<Field>,
    /// Named results; unnamed ones have an empty name.
    pub results: Vec<Field>,
    /// Go: the signature as written, from the parameter list to the end
    /// (`(ctx context.Context, a, b int) (int, error)`); empty otherwise.
    pub go_signature: String,
    /// Rust: what the trait says of the method beyond its types.
    pub rust: Option<RustMethod>,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub doc: String,
    pub ty: Ty,
    pub pos: Pos,
    /// Go: the type as written, which the generated conversions follow.
    pub go: Option<GoType>,
    /// Rust: the type as written.
    pub rust: Option<RustType>,
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub name: String,
    pub doc: String,
    pub pos: Pos,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct Enum {
    pub name: String,
    pub doc: String,
    pub pos: Pos,
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub name: String,
    pub doc: String,
    pub number: i32,
}

/// A supported type, as the frontends recognize them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Scalar(Scalar),
    /// A struct or enum declared in the same file.
    Named(String),
    Timestamp,
    Duration,
    List(Box<Ty>),
    Map(Scalar, Box<Ty>),
    /// Explicit presence: Rust `Option<T>`.
    Optional(Box<Ty>),
}

/// A Go type as the user wrote it, for the conversions between it and the
/// protobuf message field it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoType {
    /// `bool`, `string`, an integer or float type, `byte` or `rune`, as written.
    Basic(String),
    /// `[]byte` (or `[]uint8`).
    Bytes,
    /// A struct declared in the file.
    Struct(String),
    /// A named integer type declared in the file, with constants.
    Enum(String),
    /// `time.Time`.
    Time,
    /// `time.Duration`.
    Duration,
    Pointer(Box<GoType>),
    Slice(Box<GoType>),
    Map(Box<GoType>, Box<GoType>),
}

/// The protobuf name of value `value` of enum `name`: prefixed with the
/// enum's name, as the style guide has it (proto enum values share their
/// package's scope).
pub fn enum_value_name(name: &str, value: &str) -> String {
    let prefix = name.to_shouty_snake_case();
    let upper = value.to_shouty_snake_case();
    if upper.starts_with(&format!("{prefix}_")) {
        upper
    } else {
        format!("{prefix}_{upper}")
    }
}

/// The protobuf field name of each of `fields` (parameters, or results
/// where unnamed ones are `result` or `result_<n>`).
pub fn field_names(fields: &[Field]) -> Vec<String> {
    let unnamed = fields.iter().filter(|f| f.name.is_empty()).count();
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if !f.name.is_empty() {
                f.name.to_snake_case()
            } else if unnamed == 1 {
                "result".to_string()
            } else {
                format!("result_{}", i + 1)
            }
        })
        .collect()
}

impl Definition {
    pub fn error(
        &self,
        pos: Pos,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(message)
            .at_line_col(&self.file, pos.line, pos.column)
            .with_help(help)
    }

    /// Refuses, where it is written, a name that protobuf (and, for a Go
    /// package, a Go import path) cannot spell: only ASCII letters, digits
    /// and `_` (Go and Rust accept any Unicode letter).
    fn check_identifiers(&self) -> Result<(), Diagnostic> {
        let plain = |name: &str| {
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let refuse = |name: &str, pos: Pos, what: &str| {
            let needs = if what == "package" {
                "its import path"
            } else {
                "protobuf"
            };
            self.error(
                pos,
                format!("{what} '{name}' is not an ASCII identifier, which {needs} needs"),
                "use only ASCII letters, digits and _ in the names the API exposes",
            )
        };
        if let Some(go) = &self.go
            && !plain(&go.package)
        {
            return Err(refuse(&go.package, go.package_pos, "package"));
        }
        let fields = |fields: &[Field], what: &str| {
            fields
                .iter()
                .filter(|f| !f.name.is_empty() && !plain(&f.name))
                .map(|f| refuse(&f.name, f.pos, what))
                .next()
        };
        for s in &self.structs {
            if !plain(&s.name) {
                return Err(refuse(&s.name, s.pos, "struct"));
            }
            if let Some(e) = fields(&s.fields, "field") {
                return Err(e);
            }
        }
        for e in &self.enums {
            if !plain(&e.name) {
                return Err(refuse(&e.name, e.pos, "type"));
            }
            if let Some(v) = e.values.iter().find(|v| !plain(&v.name)) {
                return Err(refuse(&v.name, e.pos, &format!("a constant of {}", e.name)));
            }
        }
        for s in &self.services {
            if !plain(&s.name) {
                return Err(refuse(&s.name, s.pos, "interface"));
            }
            for m in &s.methods {
                if !plain(&m.name) {
                    return Err(refuse(&m.name, m.pos, "method"));
                }
                if let Some(e) =
                    fields(&m.params, "parameter").or_else(|| fields(&m.results, "result"))
                {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Lowers the definition into the IR of an API in proto package `package`.
    pub fn lower(&self, package: &str, proto_file: &str) -> Result<ir::Api, Diagnostic> {
        if self.services.is_empty() {
            return Err(Diagnostic::new("no service found")
                .at_file(&self.file)
                .with_help(
                    "declare an interface (Go) or trait (Rust) whose methods take a context first and return an error",
                ));
        }
        self.check_identifiers()?;
        let full = |name: &str| format!("{package}.{name}");
        let mut api = ir::Api::default();
        let mut imports = vec!["google/api/annotations.proto".to_string()];
        let mut message_names: Vec<(String, Pos)> = Vec::new();
        let mut claim = |name: String, pos: Pos, what: &str| -> Result<(), Diagnostic> {
            if let Some((_, other)) = message_names.iter().find(|(n, _)| *n == name) {
                return Err(self.error(
                    pos,
                    format!(
                        "{what} needs the message name '{name}', which line {} already uses",
                        other.line
                    ),
                    "rename one of the two",
                ));
            }
            message_names.push((name, pos));
            Ok(())
        };
        for s in &self.structs {
            claim(s.name.clone(), s.pos, &format!("struct {}", s.name))?;
        }
        for e in &self.enums {
            claim(e.name.clone(), e.pos, &format!("enum {}", e.name))?;
        }
        // Method names every service uses: a shared one gets its service in its route.
        let mut route_names: Vec<String> = Vec::new();
        for s in &self.services {
            for m in &s.methods {
                route_names.push(m.name.to_upper_camel_case());
            }
        }

        let mut messages = Vec::new();
        for s in &self.services {
            let mut methods: Vec<ir::Method> = Vec::new();
            for m in &s.methods {
                let name = m.name.to_upper_camel_case();
                if let Some(other) = s.methods.iter().find(|o| {
                    o.pos != m.pos
                        && o.name.to_upper_camel_case() == name
                        && o.pos.line < m.pos.line
                }) {
                    return Err(self.error(
                        m.pos,
                        format!(
                            "method '{}' becomes the RPC '{name}', as '{}' on line {} does",
                            m.name, other.name, other.pos.line
                        ),
                        "rename one of the two methods",
                    ));
                }
                let request = format!("{name}Request");
                let response = format!("{name}Response");
                claim(request.clone(), m.pos, &format!("method {}", m.name))?;
                claim(response.clone(), m.pos, &format!("method {}", m.name))?;
                messages.push(self.message(
                    package,
                    proto_file,
                    &request,
                    &format!("{request} is the request of {}.{name}.", s.name),
                    &m.params,
                    false,
                    &mut imports,
                )?);
                messages.push(self.message(
                    package,
                    proto_file,
                    &response,
                    &format!("{response} is the response of {}.{name}.", s.name),
                    &m.results,
                    true,
                    &mut imports,
                )?);
                let shared = route_names.iter().filter(|n| **n == name).count() > 1;
                let path = if shared {
                    format!("/{}/{}", s.name.to_kebab_case(), name.to_kebab_case())
                } else {
                    format!("/{}", name.to_kebab_case())
                };
                let template = crate::ir::path_template::parse(&path).map_err(|e| {
                    self.error(
                        m.pos,
                        format!("method '{}' gets the HTTP path '{path}', which is not a path template: {e}", m.name),
                        "rename the method",
                    )
                })?;
                methods.push(ir::Method {
                    name,
                    doc: m.doc.clone(),
                    input: full(&request),
                    output: full(&response),
                    client_streaming: false,
                    server_streaming: false,
                    http: vec![ir::HttpRule {
                        verb: "POST".into(),
                        path,
                        template,
                        body: Some("*".into()),
                        response_body: None,
                    }],
                    idempotent: false,
                    position: None,
                });
            }
            api.services.push(ir::Service {
                name: s.name.clone(),
                full_name: full(&s.name),
                package: package.to_string(),
                file: proto_file.to_string(),
                doc: s.doc.clone(),
                methods,
                position: None,
            });
        }
        for st in &self.structs {
            messages.push(self.message(
                package,
                proto_file,
                &st.name,
                &st.doc,
                &st.fields,
                false,
                &mut imports,
            )?);
        }
        for e in &self.enums {
            api.enums.push(self.lower_enum(package, proto_file, e)?);
        }
        api.messages = messages;
        imports.sort();
        imports.dedup();
        api.files.push(ir::SourceFile {
            name: proto_file.to_string(),
            package: package.to_string(),
            imports,
            in_project: true,
            options: Vec::new(),
            option_positions: Vec::new(),
        });
        Ok(api)
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &self,
        package: &str,
        proto_file: &str,
        name: &str,
        doc: &str,
        fields: &[Field],
        results: bool,
        imports: &mut Vec<String>,
    ) -> Result<ir::Message, Diagnostic> {
        let mut out: Vec<ir::Field> = Vec::new();
        for ((i, f), field_name) in fields.iter().enumerate().zip(field_names(fields)) {
            if let Some(other) = out.iter().find(|o| o.name == field_name) {
                return Err(self.error(
                    f.pos,
                    format!(
                        "'{}' becomes the field '{field_name}' of {name}, as another {} does",
                        if f.name.is_empty() {
                            "a result"
                        } else {
                            &f.name
                        },
                        if results { "result" } else { "field" },
                    ),
                    format!(
                        "rename one of the two (the other is field {} of {name})",
                        other.number
                    ),
                ));
            }
            let (ty, cardinality) = self.field_type(package, &f.ty, f.pos, imports)?;
            out.push(ir::Field {
                synthetic_oneof: (cardinality == Cardinality::Optional)
                    .then(|| format!("_{field_name}")),
                json_name: ir::default_json_name(&field_name),
                behavior: ir::FieldBehavior::default(),
                name: field_name,
                number: i as i32 + 1,
                doc: f.doc.clone(),
                ty,
                cardinality,
                oneof: None,
                // The derived .proto's positions are no use to the user:
                // diagnostics about code point into the code.
                position: None,
            });
        }
        Ok(ir::Message {
            name: name.to_string(),
            full_name: format!("{package}.{name}"),
            file: proto_file.to_string(),
            doc: doc.to_string(),
            fields: out,
            oneofs: Vec::new(),
            map_entry: false,
            position: None,
        })
    }

    fn field_type(
        &self,
        package: &str,
        ty: &Ty,
        pos: Pos,
        imports: &mut Vec<String>,
    ) -> Result<(FieldType, Cardinality), Diagnostic> {
        let single = |t: FieldType| Ok((t, Cardinality::Single));
        match ty {
            Ty::Scalar(s) => single(FieldType::Scalar(*s)),
            Ty::Named(name) => {
                if self.structs.iter().any(|s| s.name == *name) {
                    single(FieldType::Message(format!("{package}.{name}")))
                } else if self.enums.iter().any(|e| e.name == *name) {
                    single(FieldType::Enum(format!("{package}.{name}")))
                } else {
                    Err(self.error(
                        pos,
                        format!("type '{name}' is not declared in this file"),
                        "declare it in this file as a struct or an enum, or use a supported type (see the README)",
                    ))
                }
            }
            Ty::Timestamp => {
                imports.push("google/protobuf/timestamp.proto".into());
                single(FieldType::Message("google.protobuf.Timestamp".into()))
            }
            Ty::Duration => {
                imports.push("google/protobuf/duration.proto".into());
                single(FieldType::Message("google.protobuf.Duration".into()))
            }
            Ty::List(inner) => match inner.as_ref() {
                Ty::List(_) | Ty::Map(..) | Ty::Optional(_) => Err(self.error(
                    pos,
                    "a list of lists, maps or options has no protobuf form",
                    "wrap the inner value in a struct",
                )),
                other => {
                    let (t, _) = self.field_type(package, other, pos, imports)?;
                    Ok((t, Cardinality::Repeated))
                }
            },
            Ty::Map(key, value) => match value.as_ref() {
                Ty::List(_) | Ty::Map(..) | Ty::Optional(_) => Err(self.error(
                    pos,
                    "a map whose values are lists, maps or options has no protobuf form",
                    "wrap the value in a struct",
                )),
                other => {
                    let (t, _) = self.field_type(package, other, pos, imports)?;
                    Ok((FieldType::Map(*key, Box::new(t)), Cardinality::Single))
                }
            },
            Ty::Optional(inner) => match inner.as_ref() {
                Ty::Scalar(_) | Ty::Named(_) | Ty::Timestamp | Ty::Duration => {
                    let (t, _) = self.field_type(package, inner, pos, imports)?;
                    // Messages have presence already; scalars and enums get `optional`.
                    let cardinality = match t {
                        FieldType::Message(_) => Cardinality::Single,
                        _ => Cardinality::Optional,
                    };
                    Ok((t, cardinality))
                }
                _ => Err(self.error(
                    pos,
                    "an optional list or map has no protobuf form",
                    "use the list or map itself: empty means absent",
                )),
            },
        }
    }

    fn lower_enum(
        &self,
        package: &str,
        proto_file: &str,
        e: &Enum,
    ) -> Result<ir::Enum, Diagnostic> {
        // Proto enum values share their package's scope: prefix them, as the
        // style guide does, and make sure the first one is zero.
        let prefix = e.name.to_shouty_snake_case();
        let mut values: Vec<ir::EnumValue> = e
            .values
            .iter()
            .map(|v| ir::EnumValue {
                name: enum_value_name(&e.name, &v.name),
                number: v.number,
                doc: v.doc.clone(),
            })
            .collect();
        for (i, v) in values.iter().enumerate() {
            if let Some(other) = values[..i].iter().find(|o| o.number == v.number) {
                return Err(self.error(
                    e.pos,
                    format!(
                        "enum {}: {} and {} have the same value {}",
                        e.name, other.name, v.name, v.number
                    ),
                    "give every value its own number",
                ));
            }
        }
        values.sort_by_key(|v| v.number);
        if values.first().is_none_or(|v| v.number != 0) {
            values.insert(
                0,
                ir::EnumValue {
                    name: format!("{prefix}_UNSPECIFIED"),
                    number: 0,
                    doc: "The zero value proto3 requires.".into(),
                },
            );
        }
        Ok(ir::Enum {
            name: e.name.clone(),
            full_name: format!("{package}.{}", e.name),
            file: proto_file.to_string(),
            doc: e.doc.clone(),
            values,
            position: None,
        })
    }
}
