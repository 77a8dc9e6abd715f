//! The differential test against grpc-gateway v2, the reference
//! implementation of google.api.http.
//!
//! For each proto, kitgen generates a project; `protoc-gen-grpc-gateway`
//! (built at a pinned version from the Go module proxy) runs as a plugin on
//! the same CodeGeneratorRequest kitgen gives protoc-gen-go, through
//! `kitgen::backend::go::plugins::run_external`, and its reverse proxy is added to a copy
//! of the project, with `tests/gateway/oracle_test.go` and a glue file. That
//! Go test sends the same systematically generated requests to kitgen's HTTP
//! handler and to grpc-gateway's mux in front of kitgen's gRPC server, both
//! over the same recording fakes, and compares status, the request the
//! service received, and the response JSON. Nothing leaves the process but
//! an in-memory gRPC connection. Every request sent to kitgen's handler and
//! its reply is recorded (tests/support/exchanges_test.go) and checked
//! against the project's OpenAPI document.
//!
//! Needs `go` on PATH (and the Go module proxy, the first time), and the
//! googleapis corpus at /work/corpora/googleapis or `$KITGEN_GOOGLEAPIS`.

mod support;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use kitgen::backend::go::plugins::{self, StubRequest};
use kitgen::pipeline::{self, Settings, Source};
use support::{
    GO_RECORDER, GO_TIMEOUT, assert_logged_exchanges_match_openapi, corpus, generate, go, run_ok,
    step,
};

/// The grpc-gateway release the oracle is built from.
const GATEWAY_VERSION: &str = "v2.32.0";
const GATEWAY_MODULE: &str = "github.com/grpc-ecosystem/grpc-gateway/v2";

fn googleapis() -> PathBuf {
    std::env::var_os("KITGEN_GOOGLEAPIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/corpora/googleapis"))
}

/// `protoc-gen-grpc-gateway` at the pinned version, built once into
/// `target/test-tools`.
fn gateway_plugin() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-tools");
    let exe = dir.join(format!("protoc-gen-grpc-gateway@{GATEWAY_VERSION}"));
    if exe.is_file() {
        return exe;
    }
    let bin = tempfile::tempdir_in({
        fs::create_dir_all(&dir).expect("create target/test-tools");
        &dir
    })
    .expect("temp dir");
    run_ok(
        Command::new("go")
            .args([
                "install",
                &format!("{GATEWAY_MODULE}/protoc-gen-grpc-gateway@{GATEWAY_VERSION}"),
            ])
            .env("GOBIN", bin.path()),
        GO_TIMEOUT,
    );
    fs::rename(bin.path().join("protoc-gen-grpc-gateway"), &exe).expect("install the plugin");
    exe
}

/// Counts the oracle reported for one project.
#[derive(Debug, Default)]
struct Counts {
    requests: usize,
    agree: usize,
    deliberate: usize,
    reasons: String,
    /// Exchanges with kitgen checked against the OpenAPI document.
    exchanges: usize,
}

/// Generates `name` from `protos` (with include roots), adds grpc-gateway's
/// proxy and the oracle, and runs it.
fn oracle(name: &str, protos: &[PathBuf], includes: &[PathBuf]) -> Counts {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut args: Vec<String> = Vec::new();
    for p in protos {
        args.push("--proto".into());
        args.push(p.to_string_lossy().into_owned());
    }
    for i in includes {
        args.push("-I".into());
        args.push(i.to_string_lossy().into_owned());
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let project = generate(tmp.path(), name, &arg_refs);

    // The same request kitgen gave protoc-gen-go, to protoc-gen-grpc-gateway.
    let rendered = pipeline::render(
        &Source::Protos {
            files: protos.to_vec(),
            includes: includes.to_vec(),
        },
        &Settings {
            name: name.to_string(),
            module: name.to_string(),
            target: &kitgen::backend::go::Go,
            starter: false,
            source_names: Vec::new(),
            discovery: Vec::new(),
            table: Default::default(),
        },
    )
    .expect("the proto compiles");
    // The Go backend's package model, which the oracle's glue reads.
    let (go_project, _) = kitgen::backend::go::render(
        &rendered.compiled.api,
        &kitgen::backend::go::Options {
            name: name.to_string(),
            module: name.to_string(),
            starter: false,
            sources: Vec::new(),
            go_packages: Vec::new(),
            interface: None,
            discovery: Default::default(),
        },
    )
    .expect("the Go backend renders");
    let parameter = kitgen::backend::go::plugin_parameter(&go_project);
    let files = plugins::run_external(
        &gateway_plugin(),
        &StubRequest {
            descriptor_set: &rendered.compiled.descriptor_set,
            files_to_generate: &rendered.compiled.project_files,
            parameter: &parameter,
        },
    )
    .expect("protoc-gen-grpc-gateway runs");
    assert!(!files.is_empty(), "grpc-gateway generated nothing");
    for f in &files {
        let path = project.join(&f.path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, &f.content).expect("write the gateway");
    }
    let transport = project.join("pkg/transport");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gateway/oracle_test.go"),
        transport.join("oracle_test.go"),
    )
    .expect("copy the oracle");
    fs::copy(GO_RECORDER, transport.join("exchanges_test.go")).expect("copy the recorder");
    fs::write(transport.join("oracle_glue_test.go"), glue(&go_project)).expect("glue");

    step(name, format!("go get {GATEWAY_MODULE}@{GATEWAY_VERSION}"));
    run_ok(
        &mut go(
            &project,
            &["get", &format!("{GATEWAY_MODULE}@{GATEWAY_VERSION}")],
        ),
        GO_TIMEOUT,
    );
    step(name, "the oracle");
    let log = tmp.path().join("exchanges.jsonl");
    let out = run_ok(
        go(
            &project,
            &[
                "test",
                "-count=1",
                "-v",
                "-run",
                "^TestOracle$",
                "./pkg/transport",
            ],
        )
        .env("KITGEN_EXCHANGES", &log),
        GO_TIMEOUT,
    );
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("ORACLE "))
        .unwrap_or_else(|| panic!("no ORACLE line:\n{}", out.stdout));
    eprintln!("{name}: {line}");
    let mut counts = Counts::default();
    for field in line.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=').expect("key=value");
        match key {
            "requests" => counts.requests = value.parse().expect("count"),
            "agree" => counts.agree = value.parse().expect("count"),
            "deliberate" => counts.deliberate = value.parse().expect("count"),
            "reasons" => counts.reasons = value.to_string(),
            _ => {}
        }
    }
    // Every request sent to kitgen and its reply, against the document.
    let (exchanges, report) = assert_logged_exchanges_match_openapi(&project, &log);
    eprintln!("{name}: OpenAPI: {report}");
    assert_eq!(
        exchanges, counts.requests,
        "one exchange with kitgen per request"
    );
    assert!(
        report.starts_with(&format!("{exchanges} exchanges, 0 invalid")),
        "{report}"
    );
    counts.exchanges = exchanges;
    counts
}

/// The project-specific half of the oracle: both servers over fresh fakes.
fn glue(p: &kitgen::backend::go::Project) -> String {
    let served: Vec<_> = p
        .services
        .iter()
        .filter(|s| {
            s.methods
                .iter()
                .any(|m| m.routes.iter().any(|r| !r.is_default))
        })
        .collect();
    let mut imports = std::collections::BTreeSet::new();
    for s in &served {
        imports.insert(format!("{} \"{}\"", s.pb.name, s.pb.import_path));
    }
    let mut out = String::from(
        "package transport\n\nimport (\n\t\"net/http\"\n\t\"testing\"\n\n\t\"github.com/grpc-ecosystem/grpc-gateway/v2/runtime\"\n\t\"google.golang.org/protobuf/proto\"\n\n",
    );
    for i in &imports {
        let _ = writeln!(out, "\t{i}");
    }
    let _ = writeln!(out, "\t\"{}/pkg/endpoints\"\n)\n", p.module);
    out.push_str(
        "func oracleSetup(t *testing.T) (http.Handler, http.Handler, []oracleService) {\n\tkit, gw := newFakes(), newFakes()\n",
    );
    let args: Vec<String> = p
        .services
        .iter()
        .filter(|s| s.has_http())
        .map(|s| {
            format!(
                "endpoints.New{}(kit.{}, endpoints.Instrumentation{{}})",
                s.endpoints, s.lower
            )
        })
        .collect();
    let _ = writeln!(out, "\tkitgen := NewHTTPHandler({})", args.join(", "));
    out.push_str("\tconn := startGRPC(t, gw)\n\tmux := runtime.NewServeMux()\n");
    for s in &served {
        let _ = writeln!(
            out,
            "\tif err := {}.Register{}Handler(t.Context(), mux, conn); err != nil {{\n\t\tt.Fatal(err)\n\t}}",
            s.pb.name, s.grpc_name
        );
    }
    out.push_str("\treturn kitgen, mux, []oracleService{\n");
    for s in &served {
        let _ = writeln!(
            out,
            "\t\t{{name: \"{full}\", kitgen: kit.{l}.Requests, gateway: gw.{l}.Requests, respond: func(r map[string]proto.Message) {{ kit.{l}.Responses, gw.{l}.Responses = r, r }}}},",
            full = s.full_name,
            l = s.lower
        );
    }
    out.push_str("\t}\n}\n");
    out
}

#[test]
fn kitgen_answers_as_grpc_gateway_does() {
    let googleapis = googleapis();
    // protoc-gen-grpc-gateway v2.32.0 emits Go that does not parse for a
    // custom HTTP method (`custom: {kind: "SEARCH"}`), so its oracle sees the
    // fixture with that one rule as a GET; tests/transcoding.rs covers SEARCH.
    let fixtures = tempfile::tempdir().expect("temp dir");
    let fixture = fixtures.path().join("httprules.proto");
    let original = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/httprules/httprules.proto"),
    )
    .expect("read the fixture");
    let custom = r#"custom: {kind: "SEARCH" path: "/v1/files:search"}"#;
    assert!(original.contains(custom), "the fixture's custom rule moved");
    fs::write(
        &fixture,
        original.replace(custom, r#"get: "/v1/files:search""#),
    )
    .expect("write the fixture copy");
    let projects: Vec<(&str, Vec<PathBuf>, Vec<PathBuf>)> = vec![
        (
            "library",
            vec![corpus().join("googleapis/google/example/library/v1/library.proto")],
            vec![corpus().join("googleapis")],
        ),
        ("files", vec![fixture], Vec::new()),
        // Server streams answer newline-delimited JSON on both.
        (
            "chat",
            vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/streaming/streaming.proto")],
            Vec::new(),
        ),
        (
            "accessapproval",
            vec![googleapis.join("google/cloud/accessapproval/v1/accessapproval.proto")],
            vec![googleapis.clone()],
        ),
        (
            "metastore",
            vec![googleapis.join("google/cloud/bigquery/biglake/v1/metastore.proto")],
            vec![googleapis.clone()],
        ),
        (
            "schema",
            vec![googleapis.join("google/pubsub/v1/schema.proto")],
            vec![googleapis.clone()],
        ),
    ];
    let mut total = Counts::default();
    for (name, protos, includes) in &projects {
        let c = oracle(name, protos, includes);
        total.requests += c.requests;
        total.agree += c.agree;
        total.deliberate += c.deliberate;
        total.exchanges += c.exchanges;
    }
    eprintln!(
        "oracle total: {} requests, {} agree, {} deliberate differences; {} exchanges with kitgen match the OpenAPI document",
        total.requests, total.agree, total.deliberate, total.exchanges
    );
    assert!(total.requests >= 500, "only {} requests", total.requests);
    assert_eq!(total.requests, total.agree + total.deliberate);
}
