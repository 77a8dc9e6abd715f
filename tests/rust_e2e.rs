//! The Rust target end to end (`kitgen new --lang rust`): the starter,
//! library.proto, the streaming fixture and two Rust traits
//! (fixtures/interfaces/inventory.rs and echo.rs, kept as the projects'
//! service layer, trait first) as Rust projects, each built
//! with `--locked`, linted (`cargo clippy -D warnings`), checked by
//! `cargo fmt --check` and tested (`cargo test`); the starter served on
//! loopback answers gRPC (through its own CLI) and HTTP (health, metrics),
//! and at SIGTERM reports not ready, keeps serving for the drain delay and
//! exits 0; the Go starter's CLI calls it and its CLI calls the Go
//! starter, with equal answers; then its proto gains a method and
//! `kitgen generate` carries it in, keeping the user's edit, and it builds.
//! The trait-first projects, implemented against the user's own trait and
//! types, answer over HTTP and gRPC (every conversion round trip, refusals
//! naming the field); then the trait gains a method and renames one, and
//! `kitgen generate` carries both into the implementation, keeping its
//! code.
//!
//! The generated projects share one CARGO_TARGET_DIR under this repository's
//! target/ (`target/rust-e2e`, or `$KITGEN_RUST_TARGET_DIR`), so the crates
//! they depend on build once and CI caches them with kitgen's own.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{
    Server, agent, cargo_rust, corpus, generate, go_build, keep_rust_binaries, kitgen, request,
    run, stderr, step,
};

const T: &str = "rust";

fn cargo(dir: &Path, args: &[&str]) {
    let begin = Instant::now();
    cargo_rust(dir, args);
    step(
        T,
        format_args!(
            "cargo {} in {}: {:.1?}",
            args.join(" "),
            dir.file_name().unwrap().to_string_lossy(),
            begin.elapsed()
        ),
    );
}

fn check(dir: &Path) {
    cargo(dir, &["build", "--locked", "--all-targets"]);
    keep_binaries(dir);
    cargo(
        dir,
        &[
            "clippy",
            "--locked",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    cargo(dir, &["fmt", "--check"]);
    cargo(dir, &["test", "--locked"]);
}

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

/// The binaries of the projects built so far, by name: copies taken right
/// after each build. Projects that share a name (every starter is `addsvc`)
/// share a binary path in the shared target dir, so another test or another
/// engineer's run could replace `debug/addsvc` while this one serves it.
static BINARIES: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());

/// Copies the binaries `dir`'s Cargo.toml declares out of the shared target
/// dir into `<dir>-bin/` beside the project (not in it: kitgen would see a
/// stray directory), and records them for [`bin`].
fn keep_binaries(dir: &Path) {
    let manifest: toml::Table = fs::read_to_string(dir.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let names = manifest["bin"].as_array().expect("[[bin]] tables");
    let names: Vec<&str> = names.iter().map(|b| b["name"].as_str().unwrap()).collect();
    let kept = dir.with_file_name(format!(
        "{}-bin",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let copies = keep_rust_binaries(&names, &kept);
    let mut binaries = BINARIES.lock().unwrap();
    for (name, to) in names.into_iter().zip(copies) {
        binaries.retain(|(n, _)| n != name);
        binaries.push((name.to_string(), to));
    }
}

/// The last built binary called `name` (see [`keep_binaries`]).
fn bin(name: &str) -> PathBuf {
    let binaries = BINARIES.lock().unwrap();
    let found = binaries.iter().rev().find(|(n, _)| n == name);
    found
        .unwrap_or_else(|| panic!("no project built a binary {name:?} yet"))
        .1
        .clone()
}

/// Calls the starter's CLI over gRPC; returns (success, stdout, stderr).
fn addcli(grpc: std::net::SocketAddr, method: &str, request: &str) -> (bool, String, String) {
    addcli_over("--grpc-addr", grpc, method, request)
}

/// Calls the starter's CLI with `flag` (`--grpc-addr`, `--http-addr`).
fn addcli_over(
    flag: &str,
    addr: std::net::SocketAddr,
    method: &str,
    request: &str,
) -> (bool, String, String) {
    let out = run(
        Command::new(bin("addcli")).args([flag, &addr.to_string(), "--method", method, request]),
        Duration::from_secs(30),
    );
    (out.status.success(), out.stdout, out.stderr)
}

fn serve_starter(dir: &Path) {
    let server = Server::start(Command::new(bin("addsvc")).current_dir(dir).args([
        "--http-addr",
        "127.0.0.1:0",
        "--grpc-addr",
        "127.0.0.1:0",
        "--debug-addr",
        "127.0.0.1:0",
        "--log-level",
        "debug",
        "--drain-delay",
        "2s",
    ]));
    let (ok, out, err) = addcli(server.grpc(), "Sum", r#"{"a":1,"b":2}"#);
    assert!(ok, "{err}");
    assert_eq!(out, "{\"result\":\"3\"}\n");
    let (ok, out, err) = addcli(server.grpc(), "Add.Concat", r#"{"a":"foo","b":"bar"}"#);
    assert!(ok, "{err}");
    assert_eq!(out, "{\"result\":\"foobar\"}\n");
    let (ok, _, err) = addcli(server.grpc(), "Sum", r#"{"a":"9223372036854775807","b":1}"#);
    assert!(!ok);
    assert!(
        err.contains("INVALID_ARGUMENT: 9223372036854775807 + 1 overflows int64"),
        "{err}"
    );
    // The same over HTTP, through the CLI's --http-addr.
    let http =
        |method: &str, request: &str| addcli_over("--http-addr", server.http(), method, request);
    let (ok, out, err) = http("Sum", r#"{"a":1,"b":2}"#);
    assert!(ok, "{err}");
    assert_eq!(out, "{\"result\":\"3\"}\n");
    let (ok, out, err) = http("Concat", r#"{"a":"foo","b":"bar"}"#);
    assert!(ok, "{err}");
    assert_eq!(out, "{\"result\":\"foobar\"}\n");
    let (ok, _, err) = http("Sum", r#"{"a":"9223372036854775807","b":1}"#);
    assert!(!ok);
    assert!(
        err.contains("INVALID_ARGUMENT: 9223372036854775807 + 1 overflows int64"),
        "{err}"
    );
    let agent = agent();
    let health = request(
        &agent,
        "GET",
        &format!("http://{}/healthz", server.http()),
        None,
    );
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = request(
        &agent,
        "GET",
        &format!("http://{}/readyz", server.http()),
        None,
    );
    assert_eq!(ready.status, 200);
    let metrics = request(
        &agent,
        "GET",
        &format!("http://{}/metrics", server.debug()),
        None,
    );
    assert_eq!(metrics.status, 200);
    for line in [
        r#"addsvc_requests_total{code="OK",method="Add.Sum"} 2"#,
        r#"addsvc_requests_total{code="INVALID_ARGUMENT",method="Add.Sum"} 2"#,
        r#"addsvc_requests_total{code="OK",method="Add.Concat"} 2"#,
    ] {
        assert!(metrics.body.contains(line), "{line}\n{}", metrics.body);
    }
    // At SIGTERM readiness drops, and the servers keep serving for the
    // drain delay, then exit 0.
    server.sigterm();
    std::thread::sleep(Duration::from_millis(500));
    let ready = request(
        &agent,
        "GET",
        &format!("http://{}/readyz", server.http()),
        None,
    );
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (503, "shutting down\n")
    );
    let (ok, out, err) = addcli(server.grpc(), "Sum", r#"{"a":2,"b":2}"#);
    assert!(ok, "during the drain: {err}");
    assert_eq!(out, "{\"result\":\"4\"}\n");
    let log = server.log();
    let status = server.wait(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{log}");
}

/// The Go and the Rust addsvc call each other over gRPC and HTTP: the Rust
/// CLI against the Go server, the Go CLI against the Rust server, with
/// equal answers and errors.
fn cross_language(root: &Path) {
    let go_parent = root.join("go");
    fs::create_dir_all(&go_parent).unwrap();
    let go_dir = generate(&go_parent, "addsvc", &[]);
    step(T, "go build the Go starter's addsvc and addcli");
    let go_server = go_build(&go_dir, "addsvc");
    let go_cli = go_build(&go_dir, "addcli");
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    let loopback = |dash: &str| {
        ["http-addr", "grpc-addr", "debug-addr"]
            .iter()
            .flat_map(|f| [format!("{dash}{f}"), "127.0.0.1:0".to_string()])
            .collect::<Vec<_>>()
    };

    let server = Server::start(Command::new(&go_server).args(loopback("-")));
    for (flag, addr) in [
        ("--grpc-addr", server.grpc()),
        ("--http-addr", server.http()),
    ] {
        let (ok, out, err) = addcli_over(flag, addr, "Sum", r#"{"a":1,"b":2}"#);
        assert!(ok, "Rust CLI {flag}, Go server: {err}");
        assert_eq!(out, "{\"result\":\"3\"}\n");
        let (ok, out, err) = addcli_over(flag, addr, "Concat", r#"{"a":"foo","b":"bar"}"#);
        assert!(ok, "Rust CLI {flag}, Go server: {err}");
        assert_eq!(out, "{\"result\":\"foobar\"}\n");
        let request = r#"{"a":"9223372036854775807","b":1}"#;
        let (ok, _, err) = addcli_over(flag, addr, "Sum", request);
        assert!(!ok);
        assert!(
            err.contains("INVALID_ARGUMENT: 9223372036854775807 + 1 overflows int64"),
            "Rust CLI {flag}, Go server: {err}"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));

    let server = Server::start(Command::new(bin("addsvc")).args(loopback("--")));
    for (flag, addr) in [("-grpc-addr", server.grpc()), ("-http-addr", server.http())] {
        let go_call = |method: &str, request: &str| {
            run(
                Command::new(&go_cli).args([flag, &addr.to_string(), "-method", method, request]),
                Duration::from_secs(30),
            )
        };
        let out = go_call("Sum", r#"{"a":1,"b":2}"#);
        assert!(
            out.status.success(),
            "Go CLI {flag}, Rust server: {}",
            out.stderr
        );
        assert_eq!(squash(&out.stdout), r#"{"result":"3"}"#);
        let out = go_call("Concat", r#"{"a":"foo","b":"bar"}"#);
        assert!(
            out.status.success(),
            "Go CLI {flag}, Rust server: {}",
            out.stderr
        );
        assert_eq!(squash(&out.stdout), r#"{"result":"foobar"}"#);
        let out = go_call("Sum", r#"{"a":"9223372036854775807","b":1}"#);
        assert!(!out.status.success());
        assert!(
            out.stderr
                .contains("9223372036854775807 + 1 overflows int64"),
            "Go CLI {flag}, Rust server: {}",
            out.stderr
        );
    }
    assert_eq!(server.terminate().code(), Some(0));
}

/// Adds a method to the starter's proto and an edit to the user's
/// implementation; `kitgen generate` keeps the edit, merges the new
/// method's stub in, `kitgen check` is then clean, and it builds; then the
/// method is renamed and removed, the stub following each time.
fn regenerate_starter(dir: &Path) {
    let impl_file = dir.join("src/add_service.rs");
    let edited = fs::read_to_string(&impl_file).unwrap().replace(
        "pub struct AddService {}",
        "pub struct AddService {}\n\n/// Kept across generations.\npub const KEPT: u32 = 1;",
    );
    fs::write(&impl_file, &edited).unwrap();
    let proto = dir.join("proto/addsvc.proto");
    let text = fs::read_to_string(&proto).unwrap().replace(
        "  // Concat returns",
        "  // Mul multiplies a and b.\n  rpc Mul(SumRequest) returns (SumResponse) {}\n\n  // Concat returns",
    );
    fs::write(&proto, text).unwrap();
    let out = kitgen(&["generate"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = fs::read_to_string(&impl_file).unwrap();
    assert!(merged.contains("pub const KEPT: u32 = 1;"), "{merged}");
    assert!(
        merged.contains("Err(Status::unimplemented(\"Mul is not implemented yet\"))"),
        "{merged}"
    );
    assert!(
        fs::read_to_string(dir.join("src/service.rs"))
            .unwrap()
            .contains("fn mul(")
    );
    let out = kitgen(&["check"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    check(dir);

    // Renamed, then removed: the stub follows, the user's lines stay.
    let text = fs::read_to_string(&proto).unwrap();
    fs::write(&proto, text.replace("rpc Mul(", "rpc Product(")).unwrap();
    let out = kitgen(&["generate"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = fs::read_to_string(&impl_file).unwrap();
    assert!(
        merged.contains("async fn product(") && !merged.contains("async fn mul("),
        "{merged}"
    );
    assert!(merged.contains("pub const KEPT: u32 = 1;"), "{merged}");
    let text = fs::read_to_string(&proto).unwrap();
    let start = text.find("  // Mul multiplies").unwrap();
    let end = text[start..].find("{}\n\n").unwrap() + start + 4;
    fs::write(&proto, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let out = kitgen(&["generate"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let merged = fs::read_to_string(&impl_file).unwrap();
    assert!(!merged.contains("async fn product("), "{merged}");
    assert!(merged.contains("pub const KEPT: u32 = 1;"), "{merged}");
    let out = kitgen(&["check"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    cargo(dir, &["build", "--locked", "--all-targets"]);
    keep_binaries(dir);
    cargo(dir, &["fmt", "--check"]);
}

#[test]
fn rust_projects_build_lint_pass_their_tests_and_serve() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let corpus = corpus();
    let library = corpus.join("googleapis/google/example/library/v1/library.proto");
    let streaming =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/streaming/streaming.proto");
    let projects: Vec<(&str, Vec<String>)> = vec![
        ("addsvc", vec![]),
        (
            "library",
            vec![
                "--proto".into(),
                library.display().to_string(),
                "-I".into(),
                corpus.join("googleapis").display().to_string(),
            ],
        ),
        (
            "chat",
            vec!["--proto".into(), streaming.display().to_string()],
        ),
        // A Rust trait, kept as the project's service layer (trait first).
        (
            "inventory",
            vec![
                "--from".into(),
                fixture("interfaces/inventory.rs").display().to_string(),
            ],
        ),
        // Every type a trait may use, through the adapter's conversions.
        (
            "echo",
            vec![
                "--from".into(),
                fixture("interfaces/echo.rs").display().to_string(),
            ],
        ),
    ];
    // KITGEN_RUST_E2E_ONLY=echo,inventory runs those projects alone (while
    // working on one; CI runs them all).
    let only = std::env::var("KITGEN_RUST_E2E_ONLY").unwrap_or_default();
    for (name, extra) in &projects {
        if !only.is_empty() && !only.split(',').any(|o| o == *name) {
            continue;
        }
        let mut args = vec!["--lang", "rust"];
        args.extend(extra.iter().map(String::as_str));
        step(T, format_args!("kitgen new {name} {}", args.join(" ")));
        let dir = generate(root, name, &args);
        check(&dir);
        if *name == "addsvc" {
            serve_starter(&dir);
            cross_language(root);
            regenerate_starter(&dir);
        }
        if *name == "inventory" {
            trait_first_inventory(&dir);
        }
        if *name == "echo" {
            trait_first_conversions(&dir);
        }
    }
}

/// Starts a project's server on loopback ports.
fn serve(dir: &Path, name: &str) -> Server {
    Server::start(Command::new(bin(name)).current_dir(dir).args([
        "--http-addr",
        "127.0.0.1:0",
        "--grpc-addr",
        "127.0.0.1:0",
        "--debug-addr",
        "127.0.0.1:0",
    ]))
}

/// POSTs `body` to `path`; returns the status and the body, trimmed.
fn post(server: &Server, path: &str, body: &str) -> (u16, String) {
    let reply = request(
        &agent(),
        "POST",
        &format!("http://{}{path}", server.http()),
        Some(body),
    );
    (reply.status, reply.body.trim_end().to_string())
}

/// Calls a project's CLI over gRPC; returns (success, stdout, stderr).
fn call_cli(
    cli: &str,
    grpc: std::net::SocketAddr,
    method: &str,
    body: &str,
) -> (bool, String, String) {
    let out = run(
        Command::new(bin(cli)).args(["--grpc-addr", &grpc.to_string(), "--method", method, body]),
        Duration::from_secs(30),
    );
    (out.status.success(), out.stdout, out.stderr)
}

/// Trait first: the user's file is kept unchanged and recorded; an
/// implementation written against the user's own Warehouse trait (ping
/// left as kitgen's stub) answers over HTTP and gRPC, its errors mapped
/// through `From<Error> for Status`; then the trait renames ping and gains
/// count, and `kitgen generate` carries both into the implementation,
/// keeping the user's code and leaving the trait file alone.
fn trait_first_inventory(dir: &Path) {
    let kept = dir.join("src/inventory.rs");
    assert_eq!(
        fs::read_to_string(&kept).unwrap(),
        fs::read_to_string(fixture("interfaces/inventory.rs")).unwrap(),
        "the user's file is copied unchanged"
    );
    let config = fs::read_to_string(dir.join("kitgen.toml")).unwrap();
    assert!(config.contains("from = \"src/inventory.rs\""), "{config}");
    let stub = fs::read_to_string(dir.join("src/warehouse_service.rs")).unwrap();
    assert!(
        stub.contains("impl Warehouse for WarehouseService {")
            && stub.contains("Err(Status::unimplemented(\"get is not implemented yet\").into())"),
        "{stub}"
    );
    let implementation =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/rust/warehouse_service.rs");
    fs::copy(&implementation, dir.join("src/warehouse_service.rs")).unwrap();
    cargo(dir, &["build", "--locked"]);
    keep_binaries(dir);

    let server = serve(dir, "inventory");
    let item = r#"{"sku":"apple","quantity":"3","state":"STATE_IN_STOCK","tags":["fruit"],"bins":{"a1":2},"photo":"anBn","weight":0.25,"fragile":false,"updated":"2023-11-14T22:13:20Z","note":"crisp"}"#;
    let adjusted = item.replace(r#""quantity":"3""#, r#""quantity":"5""#);
    for (path, body, want_status, want) in [
        ("/get", r#"{"sku":"apple"}"#, 200, format!(r#"{{"result":{item}}}"#)),
        (
            "/get",
            r#"{"sku":"pear"}"#,
            404,
            r#"{"error":{"code":404,"message":"no item pear","status":"NOT_FOUND"}}"#.to_string(),
        ),
        (
            "/list",
            r#"{"state":"STATE_IN_STOCK","limit":5}"#,
            200,
            format!(r#"{{"result":[{item}]}}"#),
        ),
        (
            "/list",
            r#"{"state":7}"#,
            400,
            r#"{"error":{"code":400,"message":"state: 7 is not a value of State","status":"INVALID_ARGUMENT"}}"#.to_string(),
        ),
        (
            "/adjust",
            r#"{"sku":"apple","delta":2,"reason":"restock"}"#,
            200,
            format!(r#"{{"result1":{adjusted},"result2":"90.500s"}}"#),
        ),
        (
            "/adjust",
            r#"{"sku":"apple","delta":2}"#,
            400,
            r#"{"error":{"code":400,"message":"say why","status":"FAILED_PRECONDITION"}}"#.to_string(),
        ),
        (
            "/ping",
            "{}",
            501,
            r#"{"error":{"code":501,"message":"ping is not implemented yet","status":"UNIMPLEMENTED"}}"#.to_string(),
        ),
    ] {
        let (status, got) = post(&server, path, body);
        assert_eq!((status, got.as_str()), (want_status, want.as_str()), "POST {path} {body}");
    }
    let (ok, out, err) = call_cli(
        "inventorycli",
        server.grpc(),
        "Adjust",
        r#"{"sku":"apple","delta":2,"reason":"restock"}"#,
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(r#""quantity":"5""#) && out.contains(r#""result2":"90.500s""#),
        "{out}"
    );
    let (ok, _, err) = call_cli("inventorycli", server.grpc(), "Get", r#"{"sku":"pear"}"#);
    assert!(!ok && err.contains("NOT_FOUND: no item pear"), "{err}");
    let (ok, _, err) = call_cli("inventorycli", server.grpc(), "List", r#"{"state":7}"#);
    assert!(
        !ok && err.contains("INVALID_ARGUMENT: state: 7 is not a value of State"),
        "{err}"
    );
    assert_eq!(server.terminate().code(), Some(0));

    // The trait renames ping and gains count: both reach the
    // implementation, whose code stays.
    let edited = fs::read_to_string(&kept).unwrap().replace(
        "    /// Ping checks that the service answers.\n    async fn ping(&self) -> Result<(), Error>;",
        "    /// Health checks that the service answers.\n    async fn health(&self) -> Result<(), Error>;\n\n    \
         /// Count says how many items are in a state.\n    async fn count(&self, state: State) -> Result<u64, Error>;",
    );
    assert!(edited.contains("fn health("));
    fs::write(&kept, &edited).unwrap();
    let out = kitgen(&["generate"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(&kept).unwrap(),
        edited,
        "generate leaves the trait alone"
    );
    let merged = fs::read_to_string(dir.join("src/warehouse_service.rs")).unwrap();
    for kept_line in [
        "fn apple() -> Item {",
        "_ => Err(Error::NotFound(sku)),",
        "item.quantity += i64::from(delta);",
        "async fn health(&self) -> Result<(), Error> {",
        "async fn count(&self, _state: State) -> Result<u64, Error> {",
        "Err(Status::unimplemented(\"count is not implemented yet\").into())",
    ] {
        assert!(merged.contains(kept_line), "{kept_line}\n{merged}");
    }
    assert!(!merged.contains("async fn ping("), "{merged}");
    let out = kitgen(&["check"], dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    check(dir);
}

/// Every conversion both ways: a shape with every kind of field is echoed
/// through the user's own types as it was sent (HTTP and gRPC), and values
/// the user's types cannot hold are refused with INVALID_ARGUMENT naming
/// the field.
fn trait_first_conversions(dir: &Path) {
    let implementation =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/rust/echo_service.rs");
    fs::copy(&implementation, dir.join("src/echo_service.rs")).unwrap();
    cargo(dir, &["build", "--locked"]);
    keep_binaries(dir);
    let server = serve(dir, "echo");
    let shape = r#"{"name":"tri","id":"18446744073709551615","count":7,"delta":-3,"big":"-9000000000","ratio":0.5,"on":true,"raw":"AAEC","kind":"KIND_FANCY","level":"LEVEL_HIGH","levels":["LEVEL_LOW","LEVEL_HIGH"],"origin":{"x":1.5,"y":-2.0},"corner":{"x":3.0,"y":0.0},"path":[{"x":1.0,"y":0.0},{"x":0.0,"y":2.0}],"named":{"a":{"x":4.0,"y":0.0}},"weights":{"7":0.25},"ranks":{"-5":"KIND_FANCY"},"labels":{"k":"v"},"at":"2024-02-29T12:00:00.500Z","seen":["1970-01-01T00:00:01Z"],"after":"2030-01-01T00:00:00Z","lasts":"3600.000000001s","timeout":"0.250s","nickname":"","score":0.0}"#;
    let (status, got) = post(&server, "/shape", &format!(r#"{{"shape":{shape}}}"#));
    assert_eq!((status, got), (200, format!(r#"{{"result":{shape}}}"#)));
    let (ok, out, err) = call_cli(
        "echocli",
        server.grpc(),
        "Shape",
        &format!(r#"{{"shape":{shape}}}"#),
    );
    assert!(ok, "{err}");
    // The CLI prints proto3 JSON without default values (HTTP emits them).
    let cli_shape = shape
        .replace(r#""corner":{"x":3.0,"y":0.0}"#, r#""corner":{"x":3.0}"#)
        .replace(
            r#""path":[{"x":1.0,"y":0.0},{"x":0.0,"y":2.0}]"#,
            r#""path":[{"x":1.0},{"y":2.0}]"#,
        )
        .replace(
            r#""named":{"a":{"x":4.0,"y":0.0}}"#,
            r#""named":{"a":{"x":4.0}}"#,
        );
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    assert_eq!(
        squash(&out),
        squash(&format!(r#"{{"result":{cli_shape}}}"#))
    );
    for (path, body, want) in [
        (
            "/many",
            format!(r#"{{"shapes":[{shape}],"byName":{{"s":{shape}}}}}"#),
            format!(r#"{{"result1":[{shape}],"result2":{{"s":{shape}}},"result3":2}}"#),
        ),
        (
            "/levels",
            r#"{"level":"LEVEL_LOW","more":["LEVEL_HIGH","LEVEL_LOW"]}"#.to_string(),
            r#"{"result1":"LEVEL_LOW","result2":["LEVEL_HIGH","LEVEL_LOW"]}"#.to_string(),
        ),
        (
            "/maybe",
            r#"{"point":{"x":1}}"#.to_string(),
            r#"{"result":{"x":1.0,"y":0.0}}"#.to_string(),
        ),
        ("/maybe", "{}".to_string(), "{}".to_string()),
    ] {
        let (status, got) = post(&server, path, &body);
        assert_eq!(
            (status, got.as_str()),
            (200, want.as_str()),
            "POST {path} {body}"
        );
    }
    for (path, body, message) in [
        ("/levels", "{}", "level: Level has no value 0"),
        (
            "/levels",
            r#"{"level":"LEVEL_LOW","more":["LEVEL_HIGH",0]}"#,
            "more[1]: Level has no value 0",
        ),
        (
            "/levels",
            r#"{"level":9}"#,
            "level: 9 is not a value of Level",
        ),
        (
            "/shape",
            r#"{"shape":{"level":"LEVEL_LOW","lasts":"-1s"}}"#,
            "shape.lasts: ",
        ),
        (
            "/many",
            r#"{"shapes":[{"level":"LEVEL_LOW"},{"levels":[0]}]}"#,
            "shapes[1].levels[0]: Level has no value 0",
        ),
        (
            "/many",
            r#"{"byName":{"k":{"level":"LEVEL_LOW","ranks":{"1":5}}}}"#,
            "by_name[k].ranks[1]: 5 is not a value of Kind",
        ),
    ] {
        let (status, got) = post(&server, path, body);
        assert_eq!(status, 400, "POST {path} {body}: {got}");
        assert!(
            got.contains(r#""status":"INVALID_ARGUMENT""#) && got.contains(message),
            "POST {path} {body}: {got}"
        );
    }
    assert_eq!(server.terminate().code(), Some(0));
}
