//! The Rust target's output, file by file: one insta snapshot per file
//! kitgen renders for each fixture, the protobuf code (prost-build and
//! tonic-prost-build run by kitgen, so kitgen's output too) included. Files
//! that depend on nothing the API says (the middleware, the server, the
//! transport module, the HTTP runtime) or only on its name (Cargo.lock, the Dockerfile and
//! the kustomize tree) are stored once, from the starter; the encoded
//! descriptor set (`src/pb/descriptor.rs`) is bytes, checked for
//! determinism instead.

use std::path::{Path, PathBuf};

use kitgen::fileset::FileSet;
use kitgen::pipeline::{self, Source};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn render(source: &Source, names: &[String], name: &str) -> FileSet {
    render_with(source, names, name, &[])
}

fn render_with(source: &Source, names: &[String], name: &str, discovery: &[&str]) -> FileSet {
    let settings = pipeline::Settings {
        source_names: names.to_vec(),
        discovery: discovery.iter().map(|d| d.to_string()).collect(),
        ..pipeline::Settings::new(&kitgen::backend::rust::Rust, name, name)
    };
    let rendered = pipeline::render(source, &settings).unwrap_or_else(|d| panic!("{d}"));
    pipeline::add_stubs(rendered, None).unwrap_or_else(|e| panic!("{e}"))
}

/// The same for every project: snapshotted once, from the starter.
const API_INDEPENDENT: &[&str] = &[
    "src/endpoint/middleware.rs",
    "src/server.rs",
    "src/transport.rs",
    "src/transport/http/client.rs",
    "src/transport/http/client/tests.rs",
    "src/transport/http/transcode.rs",
    "src/transport/http/transcode/tests.rs",
    ".dockerignore",
];

/// Files that depend on the project's name only: snapshotted for the starter.
fn name_only(path: &str) -> bool {
    path == "Cargo.lock" || path == "Dockerfile" || path.starts_with("deploy/")
}

fn snapshot(fixture: &str, source: Source, names: Vec<String>, name: &str) {
    snapshot_files(fixture, source, names, name, |_| true);
}

fn snapshot_files(
    fixture: &str,
    source: Source,
    names: Vec<String>,
    name: &str,
    only: impl Fn(&str) -> bool,
) {
    let files = render(&source, &names, name);
    let again = render(&source, &names, name);
    assert_eq!(files, again, "{fixture}: two renderings differ");
    for (path, file) in files.iter() {
        // The Rust binary serves no Go profiler: its deploy tree, shared
        // with Go, must not say it does.
        assert!(
            !file.contents.contains("pprof"),
            "{fixture}: {path} mentions pprof"
        );
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (path, file) in files.iter() {
            let common = API_INDEPENDENT.contains(&path);
            if path == "src/pb/descriptor.rs"
                || !only(path)
                || (common && fixture != "starter")
                || (name_only(path) && fixture != "starter")
            {
                continue;
            }
            let owner = if common { "common" } else { fixture };
            insta::assert_snapshot!(
                format!("rusttarget_{owner}@{}", path.replace('/', "__")),
                &file.contents
            );
        }
    });
}

fn protos(files: &[&str], includes: &[&str]) -> (Source, Vec<String>) {
    let source = Source::Protos {
        files: files.iter().map(|f| fixtures().join(f)).collect(),
        includes: includes.iter().map(|i| fixtures().join(i)).collect(),
    };
    let names = files.iter().map(|f| format!("../fixtures/{f}")).collect();
    (source, names)
}

#[test]
fn starter() {
    let names = vec![pipeline::STARTER_PROTO_PATH.to_string()];
    snapshot("starter", Source::Starter, names, "addsvc");
}

#[test]
fn streaming() {
    let (source, names) = protos(&["streaming/streaming.proto"], &[]);
    snapshot("streaming", source, names, "chat");
}

#[test]
fn several_services() {
    let (source, names) = protos(&["services/services.proto"], &[]);
    snapshot("services", source, names, "directory");
}

#[test]
fn well_known_types() {
    let (source, names) = protos(&["wellknown/wellknown.proto"], &[]);
    snapshot("wellknown", source, names, "events");
}

#[test]
fn enums_oneofs_maps() {
    let (source, names) = protos(&["types/types.proto"], &[]);
    snapshot("types", source, names, "inventory");
}

#[test]
fn naming_clashes() {
    let (source, names) = protos(&["naming/acme/shop/v1/shop.proto"], &["naming"]);
    snapshot("naming", source, names, "shopnames");
}

/// Trait first: a Rust trait kept in the project as `kitgen new --from`
/// places it (`src/<file>.rs`, recorded in kitgen.toml), so the adapter
/// (`src/adapter.rs`) and the user's implementation of their own trait
/// appear.
fn trait_first(file: &str) -> (Source, Vec<String>) {
    let kept = format!("src/{file}");
    let source = Source::Code {
        path: fixtures().join("interfaces").join(file),
        shown_as: kept.clone(),
    };
    (source, vec![kept])
}

#[test]
fn trait_first_inventory() {
    let (source, names) = trait_first("inventory.rs");
    snapshot("trait_first", source, names, "inventory");
}

/// Every type a trait may use, converted: only what differs from a
/// proto-first project (the adapter, the implementation, the crate root).
#[test]
fn trait_first_conversions() {
    let (source, names) = trait_first("echo.rs");
    snapshot_files("trait_first_echo", source, names, "echo", |path| {
        [
            "src/adapter.rs",
            "src/echo_service.rs",
            "src/lib.rs",
            "src/main.rs",
        ]
        .contains(&path)
    });
}

/// `discovery = ["etcd"]`: the files that differ from the same project
/// without it (registration, the balanced client, the etcd client, the
/// wiring, the dependencies), for the starter (no idempotent method) and the
/// streaming fixture (GET rules, streams that are never retried).
#[test]
fn etcd_discovery() {
    let starter = (
        Source::Starter,
        vec![pipeline::STARTER_PROTO_PATH.to_string()],
        "addsvc",
    );
    let (source, names) = protos(&["streaming/streaming.proto"], &[]);
    let streaming = (source, names, "chat");
    for (fixture, (source, names, name)) in [("etcd", starter), ("streaming_etcd", streaming)] {
        let plain = render(&source, &names, name);
        let files = render_with(&source, &names, name, &["etcd"]);
        assert_eq!(
            files,
            render_with(&source, &names, name, &["etcd"]),
            "{fixture}: two renderings differ"
        );
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        let mut changed = Vec::new();
        settings.bind(|| {
            for (path, file) in files.iter() {
                if plain.get(path).is_some_and(|p| p.contents == file.contents) {
                    continue;
                }
                // The etcd client, the lock and the deploy component do not
                // depend on the API.
                if fixture != "etcd"
                    && (path == "src/discovery/etcdpb.rs"
                        || path == "Cargo.lock"
                        || path.starts_with("deploy/"))
                {
                    continue;
                }
                changed.push(path.to_string());
                insta::assert_snapshot!(
                    format!("rusttarget_{fixture}@{}", path.replace('/', "__")),
                    &file.contents
                );
            }
        });
        for path in [
            "src/discovery.rs",
            "src/discovery/balance.rs",
            "src/main.rs",
            "Cargo.toml",
        ] {
            assert!(
                changed.iter().any(|c| c == path),
                "{fixture}: {path} is the same without discovery"
            );
        }
        for (path, _) in plain.iter() {
            assert!(
                files.get(path).is_some(),
                "{fixture}: {path} is gone with discovery"
            );
        }
    }
}
