//! The Rust project's names, decided once from the IR: crate and binary
//! names, prost/tonic's names of messages, services and methods.

use heck::ToSnakeCase;

use super::pb::{to_snake, to_upper_camel};
use crate::diagnostic::Diagnostic;
use crate::ir::{self, Api};

#[derive(Debug, Clone)]
pub struct Project {
    /// Package and server binary name.
    pub name: String,
    /// The library crate's name (`-` as `_`).
    pub crate_name: String,
    /// `addcli` for `addsvc` (go-kit's naming), else `<name>cli`.
    pub cli_name: String,
    /// Prefix of the environment variables the binaries read, e.g. `ADDSVC`.
    pub env_prefix: String,
    /// Prometheus namespace: the name in snake case (as the Go target's).
    pub metrics_namespace: String,
    pub services: Vec<Service>,
    /// The proto files the project was made from, for the README.
    pub sources: Vec<String>,
    /// Trait first: the user's file is the service layer.
    pub trait_first: Option<super::adapter::TraitFirst>,
    /// `discovery = ["etcd"]`: servers register in etcd, and the balanced
    /// client (`src/discovery.rs`) is generated and linked. Off, the project
    /// has neither.
    pub etcd: bool,
}

#[derive(Debug, Clone)]
pub struct Service {
    /// `Add`: the trait kitgen writes, and tonic's server trait.
    pub name: String,
    /// `addsvc.Add`.
    pub full_name: String,
    /// `add`: the field of `Endpoints`, the variable.
    pub field: String,
    /// `add_service`: the user's module holding the implementation.
    pub module: String,
    /// `AddService`: the user's implementation.
    pub impl_struct: String,
    /// `crate::pb::addsvc`: the module of the service's package.
    pub pb_module: String,
    /// `add_server` / `add_client`: tonic's modules.
    pub server_mod: String,
    pub client_mod: String,
    pub doc: Vec<String>,
    pub methods: Vec<Method>,
}

#[derive(Debug, Clone)]
pub struct Method {
    /// The proto name, `Sum`.
    pub proto_name: String,
    /// `sum`: the trait method and the endpoint field.
    pub name: String,
    /// `Add.Sum`: the label of metrics and logs, as the Go target spells it
    /// (service and method, no package), so one dashboard serves both.
    pub label: String,
    /// Full Rust paths of the request and response messages.
    pub input: String,
    pub output: String,
    /// Short names, for files that import them.
    pub input_short: String,
    pub output_short: String,
    pub client_streaming: bool,
    pub server_streaming: bool,
    /// Safe to retry: `idempotency_level` `NO_SIDE_EFFECTS` or `IDEMPOTENT`,
    /// or a first HTTP rule that is a GET (the Go target's rule).
    pub idempotent: bool,
    pub doc: Vec<String>,
    /// The starter's logic, where the API still has addsvc's shape.
    pub example: Option<Example>,
    /// The name of its test over gRPC, `add_sum`, unique in the project.
    pub test_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Example {
    Sum,
    Concat,
}

impl Method {
    pub fn is_unary(&self) -> bool {
        !self.client_streaming && !self.server_streaming
    }
    /// The stub's body line, at 8 columns, as rustfmt writes it (a call
    /// wider than 60 columns takes its argument on a line of its own).
    pub fn unimplemented_body(&self) -> String {
        let message = format!("\"{} is not implemented yet\"", self.proto_name);
        let call = format!("Status::unimplemented({message})");
        if call.len() <= 60 {
            format!("        Err({call})")
        } else {
            format!("        Err(Status::unimplemented(\n            {message},\n        ))")
        }
    }
    /// An expression of the default request message.
    pub fn input_default(&self) -> String {
        default_of(&self.input)
    }
    /// An expression of the default response message.
    pub fn output_default(&self) -> String {
        default_of(&self.output)
    }
    pub fn output_is_unit(&self) -> bool {
        self.output == "()"
    }
    /// tonic's associated stream type of a server-streaming method.
    pub fn stream_type(&self) -> String {
        format!("{}Stream", self.proto_name.to_upper_camel())
    }
    fn wrap(ty: &str, stream: bool) -> String {
        if stream {
            format!("BoxStream<{ty}>")
        } else {
            ty.to_string()
        }
    }
    /// The endpoint's request and response types (full paths).
    pub fn request_type(&self) -> String {
        Self::wrap(&self.input, self.client_streaming)
    }
    pub fn response_type(&self) -> String {
        Self::wrap(&self.output, self.server_streaming)
    }
    /// The same with short names.
    pub fn request_short(&self) -> String {
        Self::wrap(&self.input_short, self.client_streaming)
    }
    pub fn response_short(&self) -> String {
        Self::wrap(&self.output_short, self.server_streaming)
    }
    /// The user's method, as `impl` writes it, at `indent`, wrapped as
    /// rustfmt wraps a signature longer than 100 columns.
    pub fn impl_signature(&self, indent: usize, param: &str) -> String {
        let pad = " ".repeat(indent);
        let one = format!(
            "{pad}async fn {}(&self, {param}: Request<{}>) -> Result<{}, Status> {{",
            self.name,
            self.request_short(),
            self.response_short()
        );
        if one.len() <= 100 {
            return one;
        }
        format!(
            "{pad}async fn {}(\n{pad}    &self,\n{pad}    {param}: Request<{}>,\n{pad}) -> Result<{}, Status> {{",
            self.name,
            self.request_short(),
            self.response_short()
        )
    }
}

fn default_of(ty: &str) -> String {
    if ty == "()" {
        "()".to_string()
    } else {
        format!("<{ty}>::default()")
    }
}

trait UpperCamel {
    fn to_upper_camel(&self) -> String;
}

impl UpperCamel for String {
    fn to_upper_camel(&self) -> String {
        to_upper_camel(self)
    }
}

impl Project {
    /// How the shared deploy tree's comments spell a flag: `--etcd-addr`,
    /// clap's (the Go binary's is `-etcd-addr`).
    pub fn flag_dash(&self) -> &'static str {
        "--"
    }
    pub fn has_client_streaming(&self) -> bool {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .any(|m| m.client_streaming)
    }
    pub fn has_streaming(&self) -> bool {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .any(|m| !m.is_unary())
    }
}

impl Service {
    /// The `use` lines of the user's file for the messages its methods
    /// name by their short names: one per module, sorted as rustfmt sorts
    /// them, each wrapped as rustfmt wraps it.
    pub fn use_messages(&self) -> String {
        let mut by_module: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for m in &self.methods {
            for (full, short) in [(&m.input, &m.input_short), (&m.output, &m.output_short)] {
                if full == short || !full.starts_with("crate::") {
                    continue;
                }
                let module = &full[..full.len() - short.len() - 2];
                let names = by_module.entry(module).or_default();
                if !names.contains(&short.as_str()) {
                    names.push(short);
                }
            }
        }
        let mut out = String::new();
        for (module, mut names) in by_module {
            names.sort();
            out.push_str(&super::rustfmt::use_line(module, &names));
        }
        out
    }
    /// Whether the short names of its messages are unambiguous and clash
    /// with no name the user's file uses (else full paths are written).
    fn short_names_unique(methods: &[Method], reserved: &[&str]) -> bool {
        let mut pairs: Vec<(&str, &str)> = methods
            .iter()
            .flat_map(|m| {
                [
                    (m.input_short.as_str(), m.input.as_str()),
                    (m.output_short.as_str(), m.output.as_str()),
                ]
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs.windows(2).all(|w| w[0].0 != w[1].0)
            && pairs
                .iter()
                .all(|(short, _)| !RESERVED_SHORT.contains(short) && !reserved.contains(short))
    }
    /// What the user's file imports from `crate::service`.
    pub fn use_service(&self) -> String {
        if self.methods.is_empty() {
            return format!("use crate::service::{};", self.name);
        }
        let mut names = vec![self.name.as_str(), "Request", "Status"];
        if self.methods.iter().any(|m| !m.is_unary()) {
            names.push("BoxStream");
        }
        super::rustfmt::use_line("crate::service", &names)
            .trim_end()
            .to_string()
    }
}

/// The inherent methods of the clients tonic-build generates: an RPC of
/// the same Rust name would be defined twice.
const TONIC_CLIENT_METHODS: &[&str] = &[
    "new",
    "connect",
    "with_origin",
    "with_interceptor",
    "send_compressed",
    "accept_compressed",
    "max_decoding_message_size",
    "max_encoding_message_size",
];

/// Names the user's file already uses, which a message's short name must not be.
const RESERVED_SHORT: &[&str] = &["Request", "Status", "BoxStream", "Result", "Option", "Box"];

/// Names a service's trait cannot take: what `service.rs` defines or
/// imports beside the traits, the types and traits of Rust's prelude (the
/// user's file imports the trait, which would shadow them), and `Self`
/// (prost-build's `Self_`, which tonic's module names do not follow).
const RESERVED_SERVICES: &[&str] = &[
    "BoxStream",
    "Code",
    "Future",
    "Pin",
    "Request",
    "Status",
    "Self_",
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Into",
    "IntoFuture",
    "IntoIterator",
    "Iterator",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// The Rust type of a message, as prost-build names it: the well-known
/// types from prost-types (`Empty` and the wrappers as Rust types), the
/// project's from `crate::pb`.
pub fn rust_type(api: &Api, full_name: &str) -> (String, String) {
    if let Some(wkt) = full_name.strip_prefix("google.protobuf.") {
        let prim = match wkt {
            "Empty" => Some("()"),
            "BoolValue" => Some("bool"),
            "BytesValue" => Some("::prost::alloc::vec::Vec<u8>"),
            "DoubleValue" => Some("f64"),
            "FloatValue" => Some("f32"),
            "Int32Value" => Some("i32"),
            "Int64Value" => Some("i64"),
            "StringValue" => Some("::prost::alloc::string::String"),
            "UInt32Value" => Some("u32"),
            "UInt64Value" => Some("u64"),
            _ => None,
        };
        if let Some(p) = prim {
            return (p.to_string(), p.to_string());
        }
        let ty = format!("::prost_types::{}", to_upper_camel(wkt));
        return (ty.clone(), ty);
    }
    let package = api
        .message(full_name)
        .and_then(|m| api.file(&m.file))
        .map(|f| f.package.clone())
        .unwrap_or_default();
    let relative = if package.is_empty() {
        full_name
    } else {
        full_name
            .strip_prefix(&package)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(full_name)
    };
    let mut path: Vec<String> = vec!["crate".into(), "pb".into()];
    path.extend(package.split('.').filter(|p| !p.is_empty()).map(to_snake));
    let parts: Vec<&str> = relative.split('.').collect();
    let (last, outer) = parts.split_last().expect("split gives one part");
    path.extend(outer.iter().map(|p| to_snake(p)));
    let short = to_upper_camel(last);
    path.push(short.clone());
    (path.join("::"), short)
}

/// A proto comment as the lines of a rustdoc comment, normalized as
/// prost-build normalizes the comments of `pb` (its `cleanup-markdown`
/// feature, which tonic-prost-build turns on): Markdown parsed and written
/// back by pulldown-cmark, so a list item's continuation lines are
/// indented (clippy's `doc_lazy_continuation`, seen on googleapis'
/// lineage.proto) and every code block, indented or fenced, is fenced as
/// `text`: a comment's example is never compiled as a doctest.
fn doc_lines(doc: &str) -> Vec<String> {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
    let events =
        Parser::new_ext(doc, Options::all() - Options::ENABLE_SMART_PUNCTUATION).map(|event| {
            match event {
                Event::Start(Tag::CodeBlock(_)) => {
                    Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced("text".into())))
                }
                e => e,
            }
        });
    let options = pulldown_cmark_to_cmark::Options {
        code_block_token_count: 3,
        ..Default::default()
    };
    let mut markdown = String::with_capacity(doc.len() + 64);
    let doc = match pulldown_cmark_to_cmark::cmark_with_options(events, &mut markdown, options) {
        Ok(_) => markdown.as_str(),
        Err(_) => doc,
    };
    let lines: Vec<String> = doc.lines().map(|l| l.trim_end().to_string()).collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].to_vec(),
        _ => Vec::new(),
    }
}

fn example_for(service: &ir::Service, m: &ir::Method, starter: bool) -> Option<Example> {
    if !starter || service.full_name != "addsvc.Add" || !m.is_unary() {
        return None;
    }
    match (m.name.as_str(), m.input.as_str(), m.output.as_str()) {
        ("Sum", "addsvc.SumRequest", "addsvc.SumResponse") => Some(Example::Sum),
        ("Concat", "addsvc.ConcatRequest", "addsvc.ConcatResponse") => Some(Example::Concat),
        _ => None,
    }
}

/// Names a Rust project refuses: keywords, and the crates a project links.
pub fn validate_name(name: &str) -> Result<(), Diagnostic> {
    let crate_name = name.replace('-', "_");
    let why = if super::pb::sanitize(&crate_name) != crate_name {
        Some("it is a Rust keyword")
    } else if [
        "std",
        "core",
        "alloc",
        "proc_macro",
        "test",
        "axum",
        "clap",
        "prometheus",
        "prost",
        "prost_reflect",
        "prost_types",
        "serde",
        "serde_json",
        "tokio",
        "tokio_stream",
        "tonic",
        "tonic_health",
        "tonic_prost",
        "tower",
        "tracing",
        "tracing_subscriber",
    ]
    .contains(&crate_name.as_str())
    {
        Some("it is the name of a crate the project uses")
    } else {
        None
    };
    match why {
        Some(why) => Err(Diagnostic::new(format!(
            "{name:?} cannot be the name of a Rust project: {why}"
        ))
        .with_help("the name becomes the crate and binary name; e.g. addsvc or order_service")),
        None => Ok(()),
    }
}

/// Refuses a message two of whose fields (or oneofs) prost-build would
/// give one Rust name (`reset` and a oneof `reset_`): the code would not
/// build.
fn check_field_names(api: &Api) -> Result<(), Diagnostic> {
    for m in &api.messages {
        if m.file.starts_with("google/protobuf/") {
            continue;
        }
        let mut seen: Vec<(String, &str)> = Vec::new();
        let oneofs = m.oneofs.iter().map(|o| (o.name.as_str(), None));
        let fields = m
            .fields
            .iter()
            .filter(|f| f.oneof.is_none())
            .map(|f| (f.name.as_str(), f.position));
        for (name, position) in fields.chain(oneofs) {
            let rust = to_snake(name);
            if let Some((_, other)) = seen.iter().find(|(r, _)| *r == rust) {
                let mut d = Diagnostic::new(format!(
                    "{}: {other} and {name} are both {rust} in Rust (prost-build's names)",
                    m.full_name
                ));
                if let Some((line, col)) = position.or(m.position) {
                    d = d.at_line_col(m.file.clone(), line, col);
                }
                return Err(d.with_help("rename one of them for the rust target"));
            }
            seen.push((rust, name));
        }
    }
    Ok(())
}

/// The user's module and type implementing service `trait_name`:
/// `LibraryService` is implemented by `LibraryServiceImpl` in
/// `library_service.rs`, `Add` by `AddService` in `add_service.rs`.
pub fn impl_names(trait_name: &str) -> (String, String) {
    let snake = trait_name.to_snake_case();
    if trait_name.ends_with("Service") && snake != "service" {
        (snake, format!("{trait_name}Impl"))
    } else {
        (format!("{snake}_service"), format!("{trait_name}Service"))
    }
}

pub fn build(
    api: &Api,
    name: &str,
    starter: bool,
    sources: &[String],
) -> Result<Project, Diagnostic> {
    validate_name(name)?;
    check_field_names(api)?;
    let cli_name = match name.strip_suffix("svc") {
        Some(stem) if !stem.is_empty() => format!("{stem}cli"),
        _ => format!("{name}cli"),
    };
    let mut services: Vec<Service> = Vec::new();
    for s in &api.services {
        let trait_name = to_upper_camel(&s.name);
        if RESERVED_SERVICES.contains(&trait_name.as_str()) {
            let mut d = Diagnostic::new(format!(
                "service {}: its Rust trait {trait_name} would clash with {} in the generated code",
                s.full_name,
                if trait_name == "Self_" {
                    "the keyword Self"
                } else {
                    "Rust's or tonic's name"
                }
            ));
            if let Some((line, col)) = s.position {
                d = d.at_line_col(s.file.clone(), line, col);
            }
            return Err(d.with_help("rename the service for the rust target"));
        }
        let snake = trait_name.to_snake_case();
        let mut methods: Vec<Method> = Vec::new();
        for m in &s.methods {
            let rust_name = to_snake(&m.name);
            if let Some(other) = methods.iter().find(|o| o.name == rust_name) {
                let mut d = Diagnostic::new(format!(
                    "{}: the RPCs {} and {} are both {rust_name} in Rust",
                    s.full_name, other.proto_name, m.name
                ));
                if let Some((line, col)) = m.position {
                    d = d.at_line_col(s.file.clone(), line, col);
                }
                return Err(d.with_help("rename one of them for the rust target"));
            }
            if TONIC_CLIENT_METHODS.contains(&rust_name.as_str()) {
                let mut d = Diagnostic::new(format!(
                    "{}.{}: tonic's client {}Client has a method {rust_name} of its own",
                    s.full_name, m.name, trait_name
                ));
                if let Some((line, col)) = m.position {
                    d = d.at_line_col(s.file.clone(), line, col);
                }
                return Err(d.with_help("rename the RPC for the rust target"));
            }
            let (input, input_short) = rust_type(api, &m.input);
            let (output, output_short) = rust_type(api, &m.output);
            methods.push(Method {
                proto_name: m.name.clone(),
                name: to_snake(&m.name),
                label: format!("{}.{}", s.name, m.name),
                input,
                output,
                input_short,
                output_short,
                client_streaming: m.client_streaming,
                server_streaming: m.server_streaming,
                idempotent: m.idempotent || m.http.first().is_some_and(|r| r.verb == "GET"),
                doc: doc_lines(&m.doc),
                example: example_for(s, m, starter),
                test_name: String::new(),
            });
        }
        let (module, impl_struct) = impl_names(&trait_name);
        if !Service::short_names_unique(&methods, &[&trait_name, &impl_struct]) {
            for m in &mut methods {
                m.input_short = m.input.clone();
                m.output_short = m.output.clone();
            }
        }
        let mut pb_module = vec!["crate".to_string(), "pb".to_string()];
        pb_module.extend(s.package.split('.').filter(|p| !p.is_empty()).map(to_snake));
        let service = Service {
            name: trait_name.clone(),
            full_name: s.full_name.clone(),
            field: to_snake(&s.name),
            module,
            impl_struct,
            pb_module: pb_module.join("::"),
            server_mod: format!("{snake}_server"),
            client_mod: format!("{snake}_client"),
            doc: doc_lines(&s.doc),
            methods,
        };
        if let Some(other) = services
            .iter()
            .find(|o| o.module == service.module || o.name == service.name)
        {
            let mut d = Diagnostic::new(format!(
                "services {} and {} have the same Rust name {}",
                other.full_name, service.full_name, service.name
            ));
            if let Some((line, col)) = s.position {
                d = d.at_line_col(s.file.clone(), line, col);
            }
            return Err(d.with_help("rename one of them"));
        }
        services.push(service);
    }
    // `<service>_<method>`, numbered where two meet (`A.BC` and `AB.C`).
    let mut taken = std::collections::BTreeSet::new();
    for s in &mut services {
        let stem = s.field.trim_start_matches("r#").to_string();
        for m in &mut s.methods {
            let base = format!("{stem}_{}", m.name.trim_start_matches("r#"));
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            m.test_name = name;
        }
    }
    Ok(Project {
        name: name.to_string(),
        crate_name: name.replace('-', "_"),
        cli_name,
        env_prefix: name.to_snake_case().to_ascii_uppercase(),
        metrics_namespace: name.to_snake_case(),
        services,
        sources: sources.to_vec(),
        trait_first: None,
        etcd: false,
    })
}

#[cfg(test)]
mod tests {
    use super::doc_lines;

    #[test]
    fn proto_comments_become_rustdoc_clippy_and_rustdoc_accept() {
        // googleapis' lineage.proto: a list item continued without indent.
        let doc = "\nFollowing permissions are required:\n* `a.get` permission for the project where the link is\nstored for entity-level lineage.\n* `b.get`\n\nExample:\n\n    {\n      \"x\": 1\n    }\n\n```\nfn main() {}\n```\n";
        let lines = doc_lines(doc);
        let text = lines.join("\n");
        assert_eq!(
            lines.first().map(String::as_str),
            Some("Following permissions are required:")
        );
        assert!(
            text.contains("* `a.get` permission for the project where the link is\n  stored for entity-level lineage."),
            "{text}"
        );
        // Both code blocks fenced as text: never a doctest.
        assert_eq!(text.matches("```text").count(), 2, "{text}");
        assert!(!text.contains("```\nfn"), "{text}");
        assert!(text.contains("  \"x\": 1"), "{text}");
        assert!(lines.last().is_some_and(|l| l == "```"), "{text}");
        assert!(doc_lines("  \n\n").is_empty());
    }
}
