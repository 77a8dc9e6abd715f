//! Trait first (`kitgen new --lang rust --from service.rs`): the user's
//! file stays the service layer as written (`src/<file>.rs`), and a
//! generated adapter (`src/adapter.rs`) serves each of its traits as the
//! generated service trait the endpoints call, converting between the
//! protobuf messages and the user's types. The implementation kitgen
//! writes (user-owned) implements the user's trait.

use std::collections::BTreeSet;
use std::fmt::Write;

use heck::ToUpperCamelCase;

use super::model::{Project, Service};
use super::pb::{sanitize, to_snake, to_upper_camel};
use crate::diagnostic::Diagnostic;
use crate::frontend::definition::{
    self, Definition, Field, Method, RustFile, RustMethod, Ty, field_names,
};

/// The modules kitgen writes (or a Rust crate must not shadow): the
/// user's file takes another name.
const RESERVED_MODULES: &[&str] = &[
    "adapter",
    "auth",
    "bin",
    "client",
    "endpoint",
    "lib",
    "main",
    "pb",
    "server",
    "service",
    "transport",
];

/// Where the user's file lives in the project: `src/<stem>.rs`, or
/// `src/api.rs` when its stem is no module name of its own.
pub fn module_for(stem: &str, definition: &Definition) -> String {
    let taken = |m: &str| {
        RESERVED_MODULES.contains(&m)
            || super::model::validate_name(m).is_err()
            || definition
                .services
                .iter()
                .any(|s| super::model::impl_names(&to_upper_camel(&s.name)).0 == m)
    };
    let plain = stem
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && sanitize(stem) == stem;
    if plain && !taken(stem) {
        return stem.to_string();
    }
    let mut module = "api".to_string();
    while taken(&module) {
        module.push('_');
    }
    module
}

/// What a trait-first project needs besides the proto-first one.
#[derive(Debug, Clone)]
pub struct TraitFirst {
    /// The user's module (`inventory` for `src/inventory.rs`).
    pub module: String,
    /// Whether a trait has an `async fn` (lib.rs allows `async_fn_in_trait`
    /// on the module: the adapter calls them on the implementation's own
    /// type, whose futures are known to be `Send`).
    pub asynchronous: bool,
}

/// The user's module named by a trait-first project's source (`src/x.rs`).
pub fn module_of_source(source: &str) -> Option<String> {
    let stem = source.strip_prefix("src/")?.strip_suffix(".rs")?;
    (!stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    .then(|| stem.to_string())
}

/// Refuses, where it is written, what the adapter cannot serve: an item it
/// names that is not `pub`, an error type it cannot spell.
pub fn check(definition: &Definition) -> Result<(), Diagnostic> {
    let rust = rust_file(definition);
    if let Some((what, pos)) = rust.private.first() {
        return Err(definition.error(
            *pos,
            format!("{what} is not pub: the generated adapter uses it from another module"),
            "make it pub (pub(crate) is enough)",
        ));
    }
    for s in &definition.services {
        for m in &s.methods {
            let r = rust_method(m);
            if r.error.is_none() || r.output.is_none() {
                return Err(definition.error(
                    r.error_pos,
                    format!("the error type of method {} is not a plain type path", m.name),
                    "return Result<T, E> with E a type such as tonic::Status or an error type of yours",
                ));
            }
            for f in m.params.iter().chain(&m.results) {
                if f.rust.as_ref().and_then(|r| r.text.as_ref()).is_none() {
                    return Err(definition.error(
                        f.pos,
                        "this type is not a plain type path",
                        "write the type as a path, such as Vec<String>",
                    ));
                }
            }
        }
    }
    Ok(())
}

fn rust_file(definition: &Definition) -> RustFile {
    definition.rust.clone().unwrap_or_default()
}

fn rust_method(m: &Method) -> RustMethod {
    m.rust.clone().unwrap_or(RustMethod {
        asynchronous: false,
        error: None,
        error_pos: m.pos,
        output: None,
    })
}

/// Renders `src/adapter.rs`.
pub fn adapter_rs(p: &Project, definition: &Definition, tf: &TraitFirst, package: &str) -> String {
    let mut g = Gen {
        d: definition,
        helpers: BTreeSet::new(),
    };
    let wire = package_module(package);
    let mut body = String::new();
    for s in &definition.services {
        let Some(service) = p
            .services
            .iter()
            .find(|ps| ps.name == to_upper_camel(&s.name))
        else {
            continue;
        };
        g.service(&mut body, s, service);
    }
    for st in &definition.structs {
        g.struct_conversions(&mut body, st);
    }
    for en in &definition.enums {
        g.enum_conversions(&mut body, en);
    }
    let mut out = String::new();
    out.push_str("// Code generated by kitgen. DO NOT EDIT.\n\n");
    let _ = writeln!(
        out,
        "//! The adapter between your service layer, [`crate::{m}`] (`src/{m}.rs`,\n\
         //! yours, as you wrote it), and the wire: each of your traits served as\n\
         //! the generated trait of [`crate::service`] that the endpoints call, with\n\
         //! conversions between the protobuf messages of [`crate::pb`] and your types.\n\
         //!\n\
         //! Requests convert with `TryFrom`: a value your types cannot hold (a number\n\
         //! your enum lacks, a negative duration, a timestamp out of range) answers\n\
         //! INVALID_ARGUMENT naming the field ([`Invalid`]). Responses convert with\n\
         //! `From`. An error your method returns becomes a [`Status`] by\n\
         //! `From<E> for Status`: its code decides the gRPC code and HTTP status.",
        m = tf.module
    );
    out.push('\n');
    let _ = writeln!(out, "use crate::{} as user;", tf.module);
    let _ = writeln!(out, "use {wire} as wire;");
    out.push_str("use crate::service::{Request, Status};\n");
    out.push_str(&body);
    out.push_str(INVALID);
    for h in &g.helpers {
        out.push_str(&g.helper(h));
    }
    out
}

fn package_module(package: &str) -> String {
    let mut path = vec!["crate".to_string(), "pb".to_string()];
    path.extend(package.split('.').filter(|p| !p.is_empty()).map(to_snake));
    path.join("::")
}

const INVALID: &str = r#"
/// A value of a request that your types cannot hold, and the field that
/// holds it: answered INVALID_ARGUMENT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field as protobuf names it (`item.state`, `items[2]`); empty at
    /// the value itself.
    pub field: String,
    pub problem: String,
}

impl Invalid {
    pub fn new(problem: impl Into<String>) -> Self {
        Self { field: String::new(), problem: problem.into() }
    }

    /// The same problem, in `field` of the value that holds it.
    pub fn within(mut self, field: &str) -> Self {
        self.field = if self.field.is_empty() {
            field.to_string()
        } else if self.field.starts_with('[') {
            format!("{field}{}", self.field)
        } else {
            format!("{field}.{}", self.field)
        };
        self
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.problem)
        } else {
            write!(f, "{}: {}", self.field, self.problem)
        }
    }
}

impl std::error::Error for Invalid {}

impl From<Invalid> for Status {
    fn from(invalid: Invalid) -> Self {
        Status::invalid_argument(invalid.to_string())
    }
}
"#;

/// A conversion from the wire to the user's type.
enum In {
    /// The value as it is.
    Same,
    /// `expr` of type `Result<U, Invalid>`; `func` when it is a function
    /// of the value alone (to pass to `map`).
    Fallible { expr: String, func: Option<String> },
}

/// A conversion from the user's type to the wire.
enum Out {
    Same,
    /// A function of the value.
    Func(String),
    /// Any expression of the value.
    Expr(String),
}

struct Gen<'a> {
    d: &'a Definition,
    /// The helper functions the conversions call.
    helpers: BTreeSet<String>,
}

impl Gen<'_> {
    fn is_struct(&self, name: &str) -> bool {
        self.d.structs.iter().any(|s| s.name == name)
    }

    /// An element of the wire form (a message is itself, not an `Option`).
    fn wire_to_user(&mut self, ty: &Ty, var: &str) -> In {
        let call = |func: String| In::Fallible {
            expr: format!("{func}({var})"),
            func: Some(func),
        };
        match ty {
            Ty::Scalar(_) => In::Same,
            Ty::Named(name) if self.is_struct(name) => call(format!("user::{name}::try_from")),
            Ty::Named(name) => {
                let f = format!("{}_in", enum_fn(name));
                self.helpers.insert(format!("enum_in {name}"));
                call(f)
            }
            Ty::Timestamp => {
                self.helpers.insert("timestamp_in".into());
                call("timestamp_in".into())
            }
            Ty::Duration => {
                self.helpers.insert("duration_in".into());
                call("duration_in".into())
            }
            Ty::List(inner) => match self.wire_to_user(inner, "v") {
                In::Same => In::Same,
                In::Fallible { expr, func } => {
                    self.helpers.insert("list_in".into());
                    let f = func.unwrap_or_else(|| format!("|v| {expr}"));
                    In::Fallible {
                        expr: format!("list_in({var}, {f})"),
                        func: None,
                    }
                }
            },
            Ty::Map(_, value) => match self.wire_to_user(value, "v") {
                In::Same => In::Same,
                In::Fallible { expr, func } => {
                    self.helpers.insert("map_in".into());
                    let f = func.unwrap_or_else(|| format!("|v| {expr}"));
                    In::Fallible {
                        expr: format!("map_in({var}, {f})"),
                        func: None,
                    }
                }
            },
            Ty::Optional(inner) => match self.wire_to_user(inner, "v") {
                In::Same => In::Same,
                In::Fallible { expr, func } => {
                    let f = func.unwrap_or_else(|| format!("|v| {expr}"));
                    In::Fallible {
                        expr: format!("{var}.map({f}).transpose()"),
                        func: None,
                    }
                }
            },
        }
    }

    /// Whether a field of this type is a message field (an `Option` in
    /// prost, absent read as the default).
    fn is_message(&self, ty: &Ty) -> bool {
        match ty {
            Ty::Named(name) => self.is_struct(name),
            Ty::Timestamp | Ty::Duration => true,
            _ => false,
        }
    }

    /// The expression of field `field` (the protobuf name) of the user's
    /// type, from `var` of the wire, `?` where it can fail.
    fn field_in(&mut self, ty: &Ty, var: &str, field: &str, btree: bool) -> String {
        let element = if self.is_message(ty) {
            format!("{var}.unwrap_or_default()")
        } else {
            var.to_string()
        };
        match self.wire_to_user(ty, &element) {
            In::Same if matches!(ty, Ty::Map(..)) && btree => {
                format!("{element}.into_iter().collect()")
            }
            In::Same => element,
            In::Fallible { expr, .. } => {
                format!("{expr}.map_err(|e| e.within(\"{field}\"))?")
            }
        }
    }

    fn user_to_wire(&mut self, ty: &Ty, var: &str) -> Out {
        match ty {
            Ty::Scalar(_) => Out::Same,
            Ty::Named(name) if self.is_struct(name) => {
                Out::Func(format!("wire::{}::from", to_upper_camel(name)))
            }
            Ty::Named(name) => {
                self.helpers.insert(format!("enum_out {name}"));
                Out::Func(format!("{}_out", enum_fn(name)))
            }
            Ty::Timestamp => Out::Func("prost_types::Timestamp::from".into()),
            Ty::Duration => {
                self.helpers.insert("duration_out".into());
                Out::Func("duration_out".into())
            }
            Ty::List(inner) => match self.user_to_wire(inner, "v") {
                Out::Same => Out::Same,
                Out::Func(f) => Out::Expr(format!("{var}.into_iter().map({f}).collect()")),
                Out::Expr(e) => Out::Expr(format!("{var}.into_iter().map(|v| {e}).collect()")),
            },
            Ty::Map(_, value) => match self.user_to_wire(value, "v") {
                Out::Same => Out::Same,
                Out::Func(f) => Out::Expr(format!(
                    "{var}.into_iter().map(|(k, v)| (k, {f}(v))).collect()"
                )),
                Out::Expr(e) => Out::Expr(format!(
                    "{var}.into_iter().map(|(k, v)| (k, {e})).collect()"
                )),
            },
            Ty::Optional(inner) => match self.user_to_wire(inner, "v") {
                Out::Same => Out::Same,
                Out::Func(f) => Out::Expr(format!("{var}.map({f})")),
                Out::Expr(e) => Out::Expr(format!("{var}.map(|v| {e})")),
            },
        }
    }

    fn field_out(&mut self, ty: &Ty, var: &str, btree: bool) -> String {
        let message = self.is_message(ty);
        let e = match self.user_to_wire(ty, var) {
            Out::Same if matches!(ty, Ty::Map(..)) && btree => {
                format!("{var}.into_iter().collect()")
            }
            Out::Same => var.to_string(),
            Out::Func(f) => format!("{f}({var})"),
            Out::Expr(e) => e,
        };
        if message { format!("Some({e})") } else { e }
    }

    fn service(&mut self, out: &mut String, s: &definition::Service, service: &Service) {
        let adapter = format!("{}Adapter", service.name);
        let imp = format!("crate::{}::{}", service.module, service.impl_struct);
        let _ = write!(
            out,
            "\n/// Serves your [`user::{trait_}`] as the generated\n\
             /// [`crate::service::{name}`], as your [`{short}`]({imp})\n\
             /// (`src/{module}.rs`) implements it.\n\
             pub struct {adapter}(pub {imp});\n\n\
             impl crate::service::{name} for {adapter} {{\n",
            trait_ = s.name,
            short = service.impl_struct,
            module = service.module,
            name = service.name,
        );
        for (i, (m, pm)) in s.methods.iter().zip(&service.methods).enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let r = rust_method(m);
            let request = if m.params.is_empty() {
                "_request"
            } else {
                "request"
            };
            let _ = writeln!(
                out,
                "    async fn {}(&self, {request}: Request<{}>) -> Result<{}, Status> {{",
                pm.name,
                wire_path(&pm.input),
                wire_path(&pm.output),
            );
            let param_names: Vec<String> =
                field_names(&m.params).iter().map(|n| to_snake(n)).collect();
            if !m.params.is_empty() {
                let _ = writeln!(
                    out,
                    "        let {} {{ {} }} = request.into_inner();",
                    wire_path(&pm.input),
                    param_names.join(", ")
                );
            }
            let mut args = vec!["&self.0".to_string()];
            for (f, name) in m.params.iter().zip(&param_names) {
                let value = self.field_in(&f.ty, name, &proto_name(name), btree(f));
                if value != *name {
                    let _ = writeln!(out, "        let {name} = {value};");
                }
                args.push(name.clone());
            }
            let call = format!(
                "user::{}::{}({}){}?",
                s.name,
                m.name,
                args.join(", "),
                if r.asynchronous { ".await" } else { "" }
            );
            let result_names: Vec<String> = field_names(&m.results)
                .iter()
                .map(|n| to_snake(n))
                .collect();
            let fields: Vec<String> = m
                .results
                .iter()
                .zip(&result_names)
                .map(|(f, name)| {
                    let value = self.field_out(&f.ty, name, btree(f));
                    if value == *name {
                        name.clone()
                    } else {
                        format!("{name}: {value}")
                    }
                })
                .collect();
            match result_names.as_slice() {
                [] => {
                    let _ = writeln!(out, "        {call};");
                }
                [one] => {
                    let _ = writeln!(out, "        let {one} = {call};");
                }
                many => {
                    let _ = writeln!(out, "        let ({}) = {call};", many.join(", "));
                }
            }
            let response = wire_path(&pm.output);
            let one_line = format!("        Ok({response} {{ {} }})", fields.join(", "));
            if fields.is_empty() {
                let _ = writeln!(out, "        Ok({response} {{}})");
            } else if one_line.len() <= 100 {
                let _ = writeln!(out, "{one_line}");
            } else {
                let _ = writeln!(out, "        Ok({response} {{");
                for f in &fields {
                    let _ = writeln!(out, "            {f},");
                }
                out.push_str("        })\n");
            }
            out.push_str("    }\n");
        }
        out.push_str("}\n");
    }

    fn struct_conversions(&mut self, out: &mut String, st: &definition::Struct) {
        let wire = format!("wire::{}", to_upper_camel(&st.name));
        let user = format!("user::{}", st.name);
        let names: Vec<String> = field_names(&st.fields)
            .iter()
            .map(|n| to_snake(n))
            .collect();
        let value = if st.fields.is_empty() {
            "_value"
        } else {
            "value"
        };
        let _ = write!(
            out,
            "\nimpl TryFrom<{wire}> for {user} {{\n    type Error = Invalid;\n\n    \
             fn try_from({value}: {wire}) -> Result<Self, Invalid> {{\n        Ok(Self {{"
        );
        self.fields(out, &st.fields, &names, true);
        let _ = write!(
            out,
            "}})\n    }}\n}}\n\nimpl From<{user}> for {wire} {{\n    \
             fn from({value}: {user}) -> Self {{\n        Self {{"
        );
        self.fields(out, &st.fields, &names, false);
        out.push_str("}\n    }\n}\n");
    }

    fn fields(&mut self, out: &mut String, fields: &[Field], wire_names: &[String], to_user: bool) {
        if fields.is_empty() {
            return;
        }
        out.push('\n');
        for (f, wire_name) in fields.iter().zip(wire_names) {
            let (target, source) = if to_user {
                (f.name.as_str(), wire_name.as_str())
            } else {
                (wire_name.as_str(), f.name.as_str())
            };
            let var = format!("value.{source}");
            let e = if to_user {
                self.field_in(&f.ty, &var, &proto_name(wire_name), btree(f))
            } else {
                self.field_out(&f.ty, &var, btree(f))
            };
            let _ = writeln!(out, "            {target}: {e},");
        }
        out.push_str("        ");
    }

    fn enum_conversions(&mut self, out: &mut String, en: &definition::Enum) {
        let wire = format!("wire::{}", to_upper_camel(&en.name));
        let user = format!("user::{}", en.name);
        let variant = |v: &str| wire_variant(&en.name, &definition::enum_value_name(&en.name, v));
        let _ = write!(
            out,
            "\nimpl TryFrom<{wire}> for {user} {{\n    type Error = Invalid;\n\n    \
             fn try_from(value: {wire}) -> Result<Self, Invalid> {{\n        match value {{\n"
        );
        for v in &en.values {
            let _ = writeln!(
                out,
                "            {wire}::{} => Ok(Self::{}),",
                variant(&v.name),
                v.name
            );
        }
        if !en.values.iter().any(|v| v.number == 0) {
            let unspecified = wire_variant(
                &en.name,
                &definition::enum_value_name(&en.name, "UNSPECIFIED"),
            );
            let _ = writeln!(
                out,
                "            {wire}::{unspecified} => Err(Invalid::new(\"{} has no value 0\")),",
                en.name
            );
        }
        let _ = write!(
            out,
            "        }}\n    }}\n}}\n\nimpl From<{user}> for {wire} {{\n    \
             fn from(value: {user}) -> Self {{\n        match value {{\n"
        );
        for v in &en.values {
            let _ = writeln!(
                out,
                "            {user}::{} => Self::{},",
                v.name,
                variant(&v.name)
            );
        }
        out.push_str("        }\n    }\n}\n");
    }

    fn helper(&self, name: &str) -> String {
        if let Some(en) = name.strip_prefix("enum_in ") {
            let f = enum_fn(en);
            let wire = format!("wire::{}", to_upper_camel(en));
            return format!(
                "\nfn {f}_in(value: i32) -> Result<user::{en}, Invalid> {{\n    \
                 {wire}::try_from(value)\n        \
                 .map_err(|_| Invalid::new(format!(\"{{value}} is not a value of {en}\")))?\n        \
                 .try_into()\n}}\n"
            );
        }
        if let Some(en) = name.strip_prefix("enum_out ") {
            let f = enum_fn(en);
            let wire = format!("wire::{}", to_upper_camel(en));
            return format!(
                "\nfn {f}_out(value: user::{en}) -> i32 {{\n    {wire}::from(value).into()\n}}\n"
            );
        }
        match name {
            "timestamp_in" => "
fn timestamp_in(value: prost_types::Timestamp) -> Result<std::time::SystemTime, Invalid> {
    std::time::SystemTime::try_from(value).map_err(|e| Invalid::new(e.to_string()))
}
"
            .into(),
            "duration_in" => "
fn duration_in(value: prost_types::Duration) -> Result<std::time::Duration, Invalid> {
    std::time::Duration::try_from(value).map_err(|e| Invalid::new(e.to_string()))
}
"
            .into(),
            "duration_out" => "
/// A duration as the wire holds it: protobuf's Duration reaches 10,000
/// years (315,576,000,000 seconds); a longer one is sent as the longest.
fn duration_out(value: std::time::Duration) -> prost_types::Duration {
    const MAX_SECONDS: u64 = 315_576_000_000;
    if value.as_secs() > MAX_SECONDS {
        return prost_types::Duration { seconds: MAX_SECONDS as i64, nanos: 999_999_999 };
    }
    prost_types::Duration { seconds: value.as_secs() as i64, nanos: value.subsec_nanos() as i32 }
}
"
            .into(),
            "list_in" => "
fn list_in<W, U>(
    values: Vec<W>,
    convert: impl Fn(W) -> Result<U, Invalid>,
) -> Result<Vec<U>, Invalid> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| convert(v).map_err(|e| e.within(&format!(\"[{i}]\"))))
        .collect()
}
"
            .into(),
            "map_in" => "
fn map_in<K: std::fmt::Display, W, U, M: FromIterator<(K, U)>>(
    values: std::collections::HashMap<K, W>,
    convert: impl Fn(W) -> Result<U, Invalid>,
) -> Result<M, Invalid> {
    values
        .into_iter()
        .map(|(k, v)| match convert(v) {
            Ok(u) => Ok((k, u)),
            Err(e) => Err(e.within(&format!(\"[{k}]\"))),
        })
        .collect()
}
"
            .into(),
            _ => String::new(),
        }
    }
}

fn btree(f: &Field) -> bool {
    f.rust.as_ref().is_some_and(|r| r.btree)
}

/// A protobuf field name from prost's Rust name (`r#type` is `type`).
fn proto_name(rust: &str) -> String {
    rust.strip_prefix("r#").unwrap_or(rust).to_string()
}

/// `state` for enum `State`: the stem of its helper functions.
fn enum_fn(name: &str) -> String {
    use heck::ToSnakeCase;
    let snake = name.to_snake_case();
    snake.trim_start_matches("r#").to_string()
}

/// `wire::X` for a message of the project's package.
fn wire_path(full: &str) -> String {
    match full.rsplit_once("::") {
        Some((_, short)) => format!("wire::{short}"),
        None => full.to_string(),
    }
}

/// prost-build's name of an enum value: the value in UpperCamelCase, the
/// enum's name stripped from its front.
fn wire_variant(enum_name: &str, value: &str) -> String {
    let prefix = to_upper_camel(enum_name);
    let name = value.to_upper_camel_case();
    let name = sanitize(&name);
    let stripped = name.strip_prefix(&prefix).unwrap_or(&name);
    let stripped = if stripped.chars().next().is_some_and(char::is_uppercase) {
        stripped
    } else {
        &name
    };
    sanitize(stripped)
}

/// The user-owned implementation of a trait: the user's trait, every
/// method answering UNIMPLEMENTED until written.
pub fn stub(
    definition: &Definition,
    s: &definition::Service,
    service: &Service,
    tf: &TraitFirst,
) -> String {
    let rust = rust_file(definition);
    // The names the signatures use, and where they come from.
    let mut from_user: BTreeSet<String> = BTreeSet::new();
    let mut imported: BTreeSet<(String, String)> = BTreeSet::new();
    from_user.insert(s.name.clone());
    let declared = |n: &str| {
        definition.structs.iter().any(|x| x.name == n)
            || definition.enums.iter().any(|x| x.name == n)
            || rust.errors.iter().any(|x| x == n)
            || definition.services.iter().any(|x| x.name == n)
    };
    let mut note = |text: &str| {
        for first in first_segments(text) {
            if declared(&first) {
                from_user.insert(first);
            } else if let Some((_, path)) = rust.uses.iter().find(|(n, _)| *n == first) {
                imported.insert((first, path.clone()));
            }
        }
    };
    let status_is_error = |m: &Method| {
        let e = rust_method(m).error.unwrap_or_default();
        e == "tonic::Status"
            || e == "::tonic::Status"
            || (e == "Status"
                && rust
                    .uses
                    .iter()
                    .any(|(n, p)| n == "Status" && p == "tonic::Status"))
    };
    let mut needs_status = false;
    for m in &s.methods {
        let r = rust_method(m);
        for f in &m.params {
            note(
                f.rust
                    .as_ref()
                    .and_then(|r| r.text.as_deref())
                    .unwrap_or(""),
            );
        }
        note(r.output.as_deref().unwrap_or(""));
        if !status_is_error(m) {
            needs_status = true;
        }
    }
    let status_taken = from_user.contains("Status")
        || imported
            .iter()
            .any(|(n, p)| n == "Status" && p != "tonic::Status");
    let status = if status_taken {
        "tonic::Status"
    } else {
        "Status"
    };
    if needs_status && !status_taken {
        imported.insert(("Status".into(), "tonic::Status".into()));
    }

    let mut out = String::new();
    let _ = write!(
        out,
        "//! Your implementation of [`{t}`], the trait of `src/{m}.rs`.\n\
         //!\n\
         //! This file is yours. kitgen's adapter (`src/adapter.rs`) serves\n\
         //! [`{imp}`] over HTTP and gRPC; `kitgen generate` merges a new\n\
         //! method in and keeps your lines.\n\n",
        t = s.name,
        m = tf.module,
        imp = service.impl_struct,
    );
    // `use` lines: other crates and std first, then the crate's, each
    // module's names in one line, sorted as rustfmt sorts them.
    let mut by_module: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, path) in &imported {
        let (module, last) = path.rsplit_once("::").unwrap_or(("", path));
        let entry = if last == name {
            last.to_string()
        } else {
            format!("{last} as {name}")
        };
        by_module.entry(module.to_string()).or_default().push(entry);
    }
    let mut lines: Vec<String> = by_module
        .iter()
        .filter(|(m, _)| !m.is_empty())
        .map(|(m, names)| super::rustfmt::use_line(m, names))
        .collect();
    lines.sort();
    if !lines.is_empty() {
        out.push_str(&lines.concat());
        out.push('\n');
    }
    let names: Vec<String> = from_user.into_iter().collect();
    out.push_str(&super::rustfmt::use_line(
        &format!("crate::{}", tf.module),
        &names,
    ));
    let _ = write!(
        out,
        "\n/// Implements [`{t}`]. Add the dependencies it needs (a database,\n\
         /// other clients) as fields.\n\
         #[derive(Debug, Default, Clone)]\n\
         pub struct {imp} {{}}\n\n\
         impl {t} for {imp} {{\n",
        t = s.name,
        imp = service.impl_struct,
    );
    for (i, m) in s.methods.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let r = rust_method(m);
        if m.doc.is_empty() {
            let _ = writeln!(out, "    /// Implements {}.", m.name);
        } else {
            for line in m.doc.lines() {
                let line = line.trim_end();
                if line.is_empty() {
                    out.push_str("    ///\n");
                } else {
                    let _ = writeln!(out, "    /// {line}");
                }
            }
        }
        let params: Vec<String> = m
            .params
            .iter()
            .map(|f| {
                let name = if f.name.starts_with('_') {
                    f.name.clone()
                } else {
                    format!("_{}", f.name.trim_start_matches("r#"))
                };
                format!(
                    "{name}: {}",
                    f.rust
                        .as_ref()
                        .and_then(|r| r.text.clone())
                        .unwrap_or_default()
                )
            })
            .collect();
        let head = format!(
            "    {}fn {}",
            if r.asynchronous { "async " } else { "" },
            m.name
        );
        let output = r.output.clone().unwrap_or_default();
        let mut all = vec!["&self".to_string()];
        all.extend(params);
        let one = format!("{head}({}) -> {output} {{", all.join(", "));
        if one.len() <= 100 {
            out.push_str(&one);
            out.push('\n');
        } else {
            let _ = writeln!(out, "{head}(");
            for p in &all {
                let _ = writeln!(out, "        {p},");
            }
            let _ = writeln!(out, "    ) -> {output} {{");
        }
        let message = format!("\"{} is not implemented yet\"", m.name);
        if status_is_error(m) {
            let e = rust_method(m).error.unwrap_or_default();
            let call = format!("{e}::unimplemented({message})");
            if call.len() <= 60 {
                let _ = writeln!(out, "        Err({call})");
            } else {
                let _ = writeln!(
                    out,
                    "        Err({e}::unimplemented(\n            {message},\n        ))"
                );
            }
        } else {
            let mut line = format!("        Err({status}::unimplemented({message}).into())");
            if line.len() > 100 {
                line =
                    format!("        Err({status}::unimplemented(\"not implemented yet\").into())");
            }
            let _ = writeln!(out, "{line}");
        }
        out.push_str("    }\n");
    }
    out.push_str("}\n");
    out
}

/// The first segment of every path in a type as written
/// (`HashMap<String, Item>`: `HashMap`, `String`, `Item`).
fn first_segments(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_alphanumeric() || c == '_') {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !rest[..start].ends_with("::") {
            out.push(tail[..end].to_string());
        }
        rest = &tail[end..];
    }
    out
}
