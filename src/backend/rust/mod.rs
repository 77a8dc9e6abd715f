//! The Rust backend: the same three layers as the Go target in the Rust
//! ecosystem's terms (a service trait, endpoints as `tower::Service`s with
//! middleware as `tower::Layer`s, tonic for gRPC, axum for HTTP), with the
//! protobuf code generated in process by prost-build and tonic-prost-build.

mod adapter;
mod deps;
mod etcd;
mod http;
pub mod model;
pub mod pb;
mod rustfmt;
mod status;
mod target;

pub use target::Rust;

use askama::Template;

use crate::diagnostic::Diagnostic;
use crate::fileset::{FileSet, Ownership};
use crate::ir::Api;

pub use model::Project;
use model::{Example, Service};

/// What the user chose for the project.
#[derive(Debug, Clone)]
pub struct Options {
    /// Project name: package, binary and env prefix.
    pub name: String,
    /// The built-in addsvc starter gets a working implementation.
    pub starter: bool,
    /// Where the API comes from, for the docs ("proto/addsvc.proto").
    pub sources: Vec<String>,
    /// Service discovery backends (kitgen.toml's `discovery`): `etcd` or none.
    pub discovery: Vec<String>,
}

/// The user's Rust file a trait-first project keeps as its service layer.
#[derive(Debug, Clone)]
pub struct TraitFirstSource {
    pub definition: crate::frontend::definition::Definition,
    /// Its module (`inventory` for `src/inventory.rs`).
    pub module: String,
    /// The proto package the derived `.proto` declares.
    pub package: String,
}

macro_rules! template {
    ($name:ident, $path:literal $(, $field:ident: $ty:ty)*) => {
        #[derive(Template)]
        #[template(path = $path, escape = "none")]
        struct $name<'a> {
            p: &'a Project,
            $($field: $ty,)*
        }
    };
}

template!(CargoToml, "rust/Cargo.toml");
template!(LibRs, "rust/src/lib.rs");
template!(ServiceRs, "rust/src/service.rs");
#[derive(Template)]
#[template(path = "rust/src/service_impl.rs", escape = "none")]
struct ServiceImplRs<'a> {
    s: &'a Service,
}
template!(AuthRs, "rust/src/auth.rs");
template!(EndpointRs, "rust/src/endpoint.rs");
template!(GrpcRs, "rust/src/transport/grpc.rs");
/// The endpoint middleware: the same in every project, its code names
/// rendered from `ir::status`.
#[derive(Template)]
#[template(path = "rust/src/endpoint/middleware.rs", escape = "none")]
struct MiddlewareRs {
    code_names: Vec<String>,
}
template!(ClientRs, "rust/src/client.rs");
template!(DiscoveryRs, "rust/src/discovery.rs");
template!(BalanceRs, "rust/src/discovery/balance.rs");
template!(MainRs, "rust/src/main.rs");
template!(CliRs, "rust/src/bin/cli.rs");
template!(GrpcTestRs, "rust/src/transport/grpc_test.rs");
template!(Readme, "rust/README.md");
template!(Dockerfile, "rust/Dockerfile");
// The kustomize tree is the Go target's: it names the binary, its env
// variables and ports, which the Rust binary shares; what differs (the
// debug port's paths) comes from `Project`.
template!(BaseKustomization, "go/deploy/base/kustomization.yaml");
template!(ServiceAccount, "go/deploy/base/serviceaccount.yaml");
template!(ConfigMap, "go/deploy/base/configmap.yaml");
template!(Deployment, "go/deploy/base/deployment.yaml");
template!(K8sService, "go/deploy/base/service.yaml");
template!(Hpa, "go/deploy/base/hpa.yaml");
template!(Pdb, "go/deploy/base/pdb.yaml");
template!(NetworkPolicy, "go/deploy/base/networkpolicy.yaml");
template!(DevOverlay, "go/deploy/overlays/dev/kustomization.yaml");
template!(ProdOverlay, "go/deploy/overlays/prod/kustomization.yaml");
template!(
    OtlpComponent,
    "go/deploy/components/otlp/kustomization.yaml"
);
template!(OtlpPolicy, "go/deploy/components/otlp/networkpolicy.yaml");
template!(
    EtcdComponent,
    "go/deploy/components/etcd/kustomization.yaml"
);
template!(EtcdPolicy, "go/deploy/components/etcd/networkpolicy.yaml");

/// Renders a template; the templates are compiled in, so only a bug can
/// make one fail.
fn text(t: impl Template) -> String {
    let mut out = t.render().expect("templates render");
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The endpoint middleware's text.
fn middleware_rs() -> String {
    text(MiddlewareRs {
        code_names: status::code_name_arms(),
    })
}

/// Renders every file of the project, the protobuf code included.
pub fn render(api: &Api, descriptor_set: &[u8], options: &Options) -> Result<FileSet, Diagnostic> {
    let mut files = render_without_stubs(api, options)?;
    for (path, contents) in pb::generate(api, descriptor_set)? {
        files.add_stub(path, contents);
    }
    Ok(files)
}

/// Renders every file of the project but the protobuf code.
pub fn render_without_stubs(api: &Api, options: &Options) -> Result<FileSet, Diagnostic> {
    render_project(api, options, None)
}

/// Renders every file of the project but the protobuf code; with
/// `trait_first`, the user's Rust file, kept as `src/<module>.rs`, is the
/// service layer, served through a generated adapter.
pub fn render_project(
    api: &Api,
    options: &Options,
    trait_first: Option<&TraitFirstSource>,
) -> Result<FileSet, Diagnostic> {
    // What every target refuses, before the Rust names are checked.
    api.check_has_methods()?;
    crate::ir::binding::check_routes(api)?;
    let mut project = model::build(api, &options.name, options.starter, &options.sources)?;
    if let Some(source) = trait_first {
        adapter::check(&source.definition)?;
        project.trait_first = Some(adapter::TraitFirst {
            module: source.module.clone(),
            asynchronous: source
                .definition
                .services
                .iter()
                .flat_map(|s| &s.methods)
                .any(|m| m.rust.as_ref().is_some_and(|r| r.asynchronous)),
        });
    }
    project.etcd = options.discovery.iter().any(|d| d == "etcd");
    let p = &project;
    let gen_ = Ownership::Generated;
    let user = Ownership::User;
    let mut files = FileSet::new();
    files.add("Cargo.toml", user, text(CargoToml { p }));
    files.add("Cargo.lock", user, deps::cargo_lock(&p.name, p.etcd));
    files.add("src/lib.rs", gen_, text(LibRs { p }));
    files.add("src/service.rs", gen_, text(ServiceRs { p }));
    match (trait_first, &p.trait_first) {
        (Some(source), Some(tf)) => {
            let d = &source.definition;
            files.add(
                "src/adapter.rs",
                gen_,
                adapter::adapter_rs(p, d, tf, &source.package),
            );
            for (ds, s) in d.services.iter().zip(&p.services) {
                files.add(
                    format!("src/{}.rs", s.module),
                    user,
                    adapter::stub(d, ds, s, tf),
                );
            }
        }
        _ => {
            for s in &p.services {
                files.add(
                    format!("src/{}.rs", s.module),
                    user,
                    text(ServiceImplRs { s }),
                );
            }
        }
    }
    files.add("src/auth.rs", user, text(AuthRs { p }));
    files.add("src/endpoint.rs", gen_, text(EndpointRs { p }));
    files.add("src/endpoint/middleware.rs", gen_, middleware_rs());
    files.add(
        "src/transport.rs",
        gen_,
        include_str!("../../../templates/rust/src/transport.rs"),
    );
    let mut grpc = text(GrpcRs { p });
    grpc.push('\n');
    grpc.push_str(&text(GrpcTestRs { p }));
    files.add("src/transport/grpc.rs", gen_, grpc);
    for (path, contents) in http::http_files(p, api) {
        files.add(path, gen_, contents);
    }
    files.add(
        "src/server.rs",
        gen_,
        include_str!("../../../templates/rust/src/server.rs"),
    );
    files.add("src/client.rs", gen_, text(ClientRs { p }));
    if p.etcd {
        files.add("src/discovery.rs", gen_, text(DiscoveryRs { p }));
        files.add("src/discovery/balance.rs", gen_, text(BalanceRs { p }));
        files.add("src/discovery/etcdpb.rs", gen_, etcd::client_code()?);
        // The Go target's component: egress to etcd, for an overlay that
        // sets <NAME>_ETCD_ADDR.
        files.add(
            "deploy/components/etcd/kustomization.yaml",
            user,
            text(EtcdComponent { p }),
        );
        files.add(
            "deploy/components/etcd/networkpolicy.yaml",
            user,
            text(EtcdPolicy { p }),
        );
    }
    files.add("src/main.rs", user, text(MainRs { p }));
    files.add(
        format!("src/bin/{}.rs", p.cli_name),
        user,
        text(CliRs { p }),
    );
    files.add("README.md", user, text(Readme { p }));
    files.add("Dockerfile", user, text(Dockerfile { p }));
    for (path, contents) in [
        (
            "deploy/base/kustomization.yaml",
            text(BaseKustomization { p }),
        ),
        (
            "deploy/base/serviceaccount.yaml",
            text(ServiceAccount { p }),
        ),
        ("deploy/base/configmap.yaml", text(ConfigMap { p })),
        ("deploy/base/deployment.yaml", text(Deployment { p })),
        ("deploy/base/service.yaml", text(K8sService { p })),
        ("deploy/base/hpa.yaml", text(Hpa { p })),
        ("deploy/base/pdb.yaml", text(Pdb { p })),
        ("deploy/base/networkpolicy.yaml", text(NetworkPolicy { p })),
        (
            "deploy/overlays/dev/kustomization.yaml",
            text(DevOverlay { p }),
        ),
        (
            "deploy/overlays/prod/kustomization.yaml",
            text(ProdOverlay { p }),
        ),
        (
            "deploy/components/otlp/kustomization.yaml",
            text(OtlpComponent { p }),
        ),
        (
            "deploy/components/otlp/networkpolicy.yaml",
            text(OtlpPolicy { p }),
        ),
    ] {
        files.add(path, user, contents);
    }
    files.add(
        ".dockerignore",
        user,
        "/target/\n/.git/\n/deploy/\n".to_string(),
    );
    files.add(
        ".gitignore",
        user,
        format!("/{}/\n/target/\n", crate::sync::STATE_DIR),
    );
    Ok(files)
}

impl Project {
    /// What the debug port serves, as the deploy tree's comments name it:
    /// no `/debug/pprof/`, which is Go's.
    pub fn debug_paths(&self) -> &'static str {
        "/metrics"
    }
    pub fn first_service(&self) -> &Service {
        &self.services[0]
    }
    pub fn first_method(&self) -> &model::Method {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .next()
            .expect("a service has a method")
    }
    /// The user's modules, as rustfmt orders them.
    pub fn user_modules(&self) -> Vec<String> {
        let mut modules: Vec<String> = self.services.iter().map(|s| s.module.clone()).collect();
        modules.push("auth".to_string());
        if let Some(tf) = &self.trait_first {
            modules.push(tf.module.clone());
        }
        modules.sort();
        modules
    }
    /// The name as Kubernetes objects take it (DNS-1123: no '_').
    pub fn k8s_name(&self) -> String {
        self.name.replace('_', "-")
    }
    /// The field of `Services` in main.rs that makes service `s`, as
    /// rustfmt lays it out (the value on a line of its own past 100 columns).
    pub fn services_field(&self, s: &Service) -> String {
        let value = format!(
            "{}::{}::{}::default()",
            self.crate_name, s.module, s.impl_struct
        );
        if self.trait_first.is_some() {
            // The user's implementation, served through the adapter.
            let adapter = format!("{}::adapter::{}Adapter", self.crate_name, s.name);
            let line = format!("        {}: {adapter}({value}),", s.field);
            if line.len() <= 100 {
                return line;
            }
            return format!(
                "        {}: {adapter}(\n            {value},\n        ),",
                s.field
            );
        }
        rustfmt::default_field(&s.field, &value)
    }
    /// Whether `module` is the user's trait file with an `async fn` in a
    /// trait (lib.rs allows `async_fn_in_trait` on it).
    pub fn allows_async_fn_in_trait(&self, module: &str) -> bool {
        self.trait_first
            .as_ref()
            .is_some_and(|tf| tf.module == module && tf.asynchronous)
    }
    /// The tonic client of the first service, as a user's crate names it.
    pub fn first_client_path(&self) -> String {
        let s = self.first_service();
        let module = s.pb_module.replacen("crate", &self.crate_name, 1);
        format!("{module}::{}::{}Client", s.client_mod, s.name)
    }
    pub fn cli_env_prefix(&self) -> String {
        self.cli_name.replace('-', "_").to_ascii_uppercase()
    }
    /// An example JSON request: real values for the starter, `{}` otherwise.
    pub fn first_method_example(&self) -> String {
        match self.first_method().example {
            Some(Example::Sum) => r#"{"a":1,"b":2}"#.to_string(),
            Some(Example::Concat) => r#"{"a":"foo","b":"bar"}"#.to_string(),
            None => "{}".to_string(),
        }
    }
}

impl Service {
    pub fn has_examples(&self) -> bool {
        self.methods.iter().any(|m| m.example.is_some())
    }
}
