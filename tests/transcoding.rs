//! google.api.http transcoding, the error model and streaming middleware,
//! tested in generated projects: the Go tests in `tests/transcoding/` are
//! copied into a generated project's `pkg/transport` and run there with the
//! project's own tests (which cover streams and errors on both transports).
//! Every exchange of those tests with the HTTP handler is recorded
//! (tests/support/exchanges_test.go) and checked against the project's
//! OpenAPI document, refused requests included.
//!
//! `server_test.go` goes to the library project's `pkg/server`: raw
//! requests over loopback to the server `Run` starts, as an adversary sends
//! them.
//!
//! These need `go` on PATH and the shared proto corpus at `../shared/corpus`.

mod support;

use std::fs;
use std::path::Path;

use support::{
    GO_RECORDER, GO_TIMEOUT, assert_logged_exchanges_match_openapi, corpus, generate, go, run_ok,
    step,
};

/// Generates `name` from `args`, adds each Go test file `(test, package)`
/// to the package directory, then vets and tests those packages, the added
/// tests included.
fn check(name: &str, args: &[String], tests: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let project = generate(tmp.path(), name, &args);
    let mut packages: Vec<String> = Vec::new();
    for (test, package) in tests {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/transcoding")
            .join(test);
        fs::copy(&source, project.join(package).join(test)).expect("copy the Go test");
        let package = format!("./{package}");
        if !packages.contains(&package) {
            packages.push(package);
        }
    }
    // The transport tests' exchanges with the handler are recorded; the
    // server tests' raw requests (many no HTTP at all) are not.
    fs::copy(GO_RECORDER, project.join("pkg/transport/exchanges_test.go"))
        .expect("copy the recorder");
    let packages: Vec<&str> = packages.iter().map(String::as_str).collect();
    step(name, format!("go vet and go test {}", packages.join(" ")));
    run_ok(
        &mut go(&project, &[&["vet"], &packages[..]].concat()),
        GO_TIMEOUT,
    );
    let log = tmp.path().join("exchanges.jsonl");
    let out = run_ok(
        go(
            &project,
            &[&["test", "-count=1", "-v"], &packages[..]].concat(),
        )
        .env("KITGEN_EXCHANGES", &log),
        GO_TIMEOUT,
    );
    let stdout = &out.stdout;
    let passed = stdout
        .lines()
        .filter(|l| {
            l.starts_with("--- PASS: TestTranscoding") || l.starts_with("--- PASS: TestAdversarial")
        })
        .count();
    assert!(
        passed >= tests.len(),
        "the added tests did not run:\n{stdout}"
    );
    assert!(!stdout.contains("--- FAIL"), "{stdout}");
    // Every exchange of the transcoding tests, against the OpenAPI document.
    let (count, report) = assert_logged_exchanges_match_openapi(&project, &log);
    step(name, format_args!("OpenAPI: {report}"));
    assert!(
        report.starts_with(&format!("{count} exchanges, 0 invalid")),
        "{report}"
    );
}

#[test]
fn library_transcoding() {
    let corpus = corpus();
    let args = vec![
        "--proto".to_string(),
        corpus
            .join("googleapis/google/example/library/v1/library.proto")
            .to_string_lossy()
            .into_owned(),
        "-I".into(),
        corpus.join("googleapis").to_string_lossy().into_owned(),
        "--module".into(),
        "example.com/library".into(),
    ];
    check(
        "library",
        &args,
        &[
            ("library_test.go", "pkg/transport"),
            ("adversary_test.go", "pkg/transport"),
            ("server_test.go", "pkg/server"),
        ],
    );
}

#[test]
fn httprules_transcoding() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/httprules/httprules.proto");
    let args = vec!["--proto".to_string(), proto.to_string_lossy().into_owned()];
    check("files", &args, &[("files_test.go", "pkg/transport")]);
}

#[test]
fn streaming_transcoding() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/streaming/streaming.proto");
    let args = vec!["--proto".to_string(), proto.to_string_lossy().into_owned()];
    check("chat", &args, &[("streaming_test.go", "pkg/transport")]);
}

#[test]
fn query_round_trip() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcoding/query.proto");
    let args = vec!["--proto".to_string(), proto.to_string_lossy().into_owned()];
    check("query", &args, &[("query_test.go", "pkg/transport")]);
}
