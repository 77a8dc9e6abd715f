//! The generated files are the product: one insta snapshot per file kitgen
//! renders, for each fixture, and one of the IR the frontend made of it.
//! Protobuf stubs come from the official plugins and are covered by the
//! end-to-end build, not snapshotted here.

use std::path::{Path, PathBuf};

use kitgen::pipeline::{self, Source};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn protos(files: &[&str], includes: &[&str]) -> (Source, Vec<String>) {
    let source = Source::Protos {
        files: files.iter().map(|f| fixtures().join(f)).collect(),
        includes: includes.iter().map(|i| fixtures().join(i)).collect(),
    };
    // As kitgen.toml would name them from a project beside fixtures/.
    let names = files.iter().map(|f| format!("../fixtures/{f}")).collect();
    (source, names)
}

/// Renders a fixture and snapshots each file under `<fixture>@<path>`.
fn snapshot_project(fixture: &str, source: (Source, Vec<String>), name: &str, module: &str) {
    snapshot_with(fixture, source, name, module, &[], &[]);
}

/// As [`snapshot_project`], with Go package overrides and service discovery
/// backends chosen.
fn snapshot_with(
    fixture: &str,
    (source, source_names): (Source, Vec<String>),
    name: &str,
    module: &str,
    go_packages: &[(&str, &str)],
    discovery: &[&str],
) {
    // kitgen.toml's [go] table, as `kitgen new --go-package` makes it.
    let mut go_package = toml::Table::new();
    for (proto, value) in go_packages {
        go_package.insert(proto.to_string(), toml::Value::String(value.to_string()));
    }
    let mut table = toml::Table::new();
    if !go_package.is_empty() {
        table.insert("go_package".into(), toml::Value::Table(go_package));
    }
    let rendered = pipeline::render(
        &source,
        &pipeline::Settings {
            name: name.into(),
            module: module.into(),
            target: &kitgen::backend::go::Go,
            starter: false,
            source_names,
            discovery: discovery.iter().map(|d| d.to_string()).collect(),
            table: kitgen::backend::Table {
                value: table,
                source: None,
            },
        },
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        // What the frontend made of the source, before any Go naming.
        insta::assert_snapshot!(format!("{fixture}@ir"), ir(&rendered.compiled.api));
        for (path, file) in rendered.files.iter() {
            insta::assert_snapshot!(snapshot_name(fixture, path), &file.contents);
        }
    });
}

/// Files that come out the same for every fixture, depending on nothing the
/// API, the project name or the module say: stored once, as
/// `common@<path>`, which every fixture's rendering must equal.
const COMMON: &[&str] = &["go.sum", "pkg/service/errors.go"];

/// Fixtures whose go.sum is their own: they import published modules beyond
/// those every project requires (overrides), link discovery backends
/// (services: etcd and Consul), or have no unary method, so no client
/// circuit breaker (streamonly).
const OWN_GO_SUM: &[&str] = &["overrides", "services", "streamonly"];

/// `<fixture>@<path>`, or `common@<path>` for a file of [`COMMON`].
fn snapshot_name(fixture: &str, path: &str) -> String {
    let own = path == "go.sum" && OWN_GO_SUM.contains(&fixture);
    let owner = if COMMON.contains(&path) && !own {
        "common"
    } else {
        fixture
    };
    format!("{owner}@{}", path.replace('/', "__"))
}

/// The IR of a fixture: its files, services, and the messages and enums it
/// declares (those of google/protobuf and google/api, the same for every
/// fixture, left out).
fn ir(api: &kitgen::ir::Api) -> String {
    let own =
        |file: &str| !file.starts_with("google/protobuf/") && !file.starts_with("google/api/");
    let files: Vec<(&str, bool)> = api
        .files
        .iter()
        .map(|f| (f.name.as_str(), f.in_project))
        .collect();
    let mut out = format!("files (name, in_project): {files:#?}\n");
    out.push_str(&format!("services: {:#?}\n", api.services));
    for message in api.messages.iter().filter(|m| own(&m.file)) {
        out.push_str(&format!("{message:#?}\n"));
    }
    for e in api.enums.iter().filter(|e| own(&e.file)) {
        out.push_str(&format!("{e:#?}\n"));
    }
    out
}

#[test]
fn starter() {
    let names = vec![pipeline::STARTER_PROTO_PATH.to_string()];
    snapshot_project("starter", (Source::Starter, names), "addsvc", "addsvc");
}

#[test]
fn imports() {
    snapshot_project(
        "imports",
        protos(&["imports/acme/orders/v1/orders.proto"], &["imports"]),
        "shop",
        "github.com/acme/shop",
    );
}

#[test]
fn several_services() {
    // With both discovery backends, to cover their code.
    snapshot_with(
        "services",
        protos(&["services/services.proto"], &[]),
        "directory",
        "example.com/directory",
        &[],
        &["etcd", "consul"],
    );
}

#[test]
fn well_known_types() {
    snapshot_project(
        "wellknown",
        protos(&["wellknown/wellknown.proto"], &[]),
        "events",
        "events",
    );
}

#[test]
fn enums_oneofs_maps() {
    snapshot_project(
        "types",
        protos(&["types/types.proto"], &[]),
        "inventory",
        "inventory",
    );
}

#[test]
fn streaming() {
    snapshot_project(
        "streaming",
        protos(&["streaming/streaming.proto"], &[]),
        "chat",
        "chat",
    );
}

#[test]
fn http_rules() {
    snapshot_project(
        "httprules",
        protos(&["httprules/httprules.proto"], &[]),
        "files",
        "files",
    );
}

#[test]
fn naming_clashes() {
    snapshot_project(
        "naming",
        protos(&["naming/acme/shop/v1/shop.proto"], &["naming"]),
        "shopnames",
        "example.com/shopnames",
    );
}

#[test]
fn streaming_only_after_an_empty_service() {
    snapshot_project(
        "streamonly",
        protos(&["streamonly/assist.proto"], &[]),
        "assist",
        "assist",
    );
}

#[test]
fn presence_and_oneofs() {
    snapshot_project(
        "presence",
        protos(&["presence/presence.proto"], &["presence"]),
        "presence",
        "example.com/presence",
    );
}

/// kitgen.toml's [go.go_package]: store.proto's package moved to
/// api/store/v1, common.proto's to internal/commonpb (named by its last
/// element), the vendored money.proto imported from genproto.
#[test]
fn go_package_overrides() {
    snapshot_with(
        "overrides",
        protos(&["overrides/acme/store/v1/store.proto"], &["overrides"]),
        "store",
        "example.com/store",
        &[
            (
                "acme/store/v1/store.proto",
                "example.com/store/api/store/v1;storev1",
            ),
            (
                "acme/common/v1/common.proto",
                "example.com/store/internal/commonpb",
            ),
            (
                "google/type/money.proto",
                "google.golang.org/genproto/googleapis/type/money;money",
            ),
        ],
        &[],
    );
}

fn code(file: &str) -> (Source, Vec<String>) {
    let source = Source::Code {
        path: fixtures().join(file),
        shown_as: format!("../fixtures/{file}"),
    };
    (source, vec![format!("../fixtures/{file}")])
}

#[test]
fn go_interface() {
    snapshot_project(
        "go_interface",
        code("interfaces/inventory.go"),
        "inventory",
        "inventory",
    );
}

#[test]
fn rust_trait() {
    snapshot_project(
        "rust_trait",
        code("interfaces/inventory.rs"),
        "inventory",
        "inventory",
    );
}

/// Interface first: the Go interface lives in the project (as `kitgen new`
/// places it), so the adapter and the stub in the user's package appear.
#[test]
fn go_interface_first() {
    let source = Source::Code {
        path: fixtures().join("interfaces/inventory.go"),
        shown_as: "internal/inventory/inventory.go".into(),
    };
    snapshot_project(
        "go_interface_first",
        (source, vec!["internal/inventory/inventory.go".into()]),
        "inventory",
        "inventory",
    );
}

/// go-kit's addservice: `type Service interface` on `int`.
#[test]
fn go_kit_addservice() {
    let source = Source::Code {
        path: fixtures().join("interfaces/addservice.go"),
        shown_as: "internal/addservice/addservice.go".into(),
    };
    snapshot_project(
        "go_kit_addservice",
        (source, vec!["internal/addservice/addservice.go".into()]),
        "addsvc",
        "addsvc",
    );
}
