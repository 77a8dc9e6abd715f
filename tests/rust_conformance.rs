//! Cross-language conformance of the HTTP transports: one proto generated
//! as a Go project and as a Rust project (library.proto, the httprules and
//! streaming fixtures, and the query parameters of every kind of
//! tests/transcoding/query.proto), and one request corpus (every
//! case of the grpc-gateway differential, `tests/gateway/oracle_test.go`:
//! every route, escaped and dot path values, query parameters of every
//! kind and their conflicts with path and body, wrong methods, HEAD,
//! OPTIONS, bad, empty and huge bodies) sent to both. The Go handler runs
//! in the Go test process; the Rust project's HTTP router serves on
//! 127.0.0.1 from a recording fake (`examples/conformance.rs`, written
//! here from the project's model). Compared: the status, the request the
//! service received, the JSON of a 200, the code and status of an error
//! body, the Allow header and the content type
//! (`tests/conformance/conformance_test.go`). Every difference is either
//! listed as deliberate there and in the README, or fails the test. Then
//! the Go project's generated HTTP client calls every unary method with a
//! rule on the Rust server, every field set: the Rust service must receive
//! the request as the client was given it, and the client must return the
//! response as the service sent it. Then the Rust project's HTTP client
//! (`transport::http::client`, driven by `examples/httpclient.rs`, written
//! here) calls every unary method against the Go handler and against the
//! Rust server, every field set, with the same checks; and its errors (a
//! base path no route serves, an empty path field) must read exactly as
//! the Go client's against the same server. Each Rust project's own HTTP
//! tests run too (`cargo test --lib transport::http`: every route of every
//! method, the runtime's and the client's unit tests).
//!
//! Needs `go` and `cargo` on PATH and the shared proto corpus at
//! `../shared/corpus`. The Rust projects share one CARGO_TARGET_DIR
//! (`$KITGEN_RUST_TARGET_DIR`, else `target/rust-e2e`).

mod support;

use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use kitgen::backend::rust;
use kitgen::frontend::proto;
use support::{
    GO_RECORDER, GO_TIMEOUT, cargo_rust, corpus, generate, go, run_ok, rust_target_dir, step,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Rust server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Counts one project's run printed.
#[derive(Debug, Default)]
struct Counts {
    requests: usize,
    identical: usize,
    deliberate: usize,
    unexplained: usize,
    reasons: String,
    /// Methods the Go HTTP client called on the Rust server, and how many
    /// round trips came back as they went.
    client_calls: usize,
    client_agree: usize,
    /// Comparisons of the Rust HTTP client against the Go handler and
    /// against the Rust server, and how many agreed.
    rust_client_methods: usize,
    rust_go_calls: usize,
    rust_go_agree: usize,
    rust_rust_calls: usize,
    rust_rust_agree: usize,
}

/// The fake server of a Rust project: every method records its request
/// (full method name and encoded message) and answers with the response
/// the test set for it (server streams send it twice, as Go's fakes do).
/// `/__conformance/responses` sets them, `/__conformance/received` drains
/// the log.
fn fake_server(p: &rust::Project) -> String {
    let krate = &p.crate_name;
    let external = |ty: &str| ty.replace("crate::", &format!("{krate}::"));
    let mut traits: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
    traits.sort_unstable();
    let mut out = format!(
        r#"//! The conformance fake, written by kitgen's tests/rust_conformance.rs.

use std::collections::HashMap;
use std::sync::{{Arc, Mutex}};

use axum::routing::post;
use prost::Message;
use {krate}::endpoint::{{Endpoints, Instrumentation, Services}};
#[allow(unused_imports)]
use {krate}::service::{{BoxStream, Request, Status, {traits}}};

#[derive(Clone, Default)]
struct Fake {{
    received: Arc<Mutex<Vec<String>>>,
    responses: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}}

fn hex(bytes: &[u8]) -> String {{
    bytes.iter().map(|b| format!("{{b:02x}}")).collect()
}}

fn unhex(s: &str) -> Vec<u8> {{
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}}

impl Fake {{
    fn record(&self, method: &str, request: &impl Message) {{
        let line = format!("{{method}} {{}}", hex(&request.encode_to_vec()));
        self.received.lock().unwrap().push(line);
    }}

    fn response<M: Message + Default>(&self, method: &str) -> M {{
        let responses = self.responses.lock().unwrap();
        responses
            .get(method)
            .map(|b| M::decode(b.as_slice()).expect("a response the test encoded"))
            .unwrap_or_default()
    }}
}}
"#,
        traits = traits.join(", ")
    );
    for s in &p.services {
        let _ = writeln!(out, "\nimpl {} for Fake {{", s.name);
        for m in &s.methods {
            let wrap = |ty: &str, stream: bool| {
                let ty = external(ty);
                if stream {
                    format!("BoxStream<{ty}>")
                } else {
                    ty
                }
            };
            let _ = writeln!(
                out,
                "    async fn {}(&self, request: Request<{}>) -> Result<{}, Status> {{",
                m.name,
                wrap(&m.input, m.client_streaming),
                wrap(&m.output, m.server_streaming)
            );
            // The full method name, which the Go side resolves.
            let label = &format!("{}.{}", s.full_name, m.proto_name);
            if m.client_streaming {
                out.push_str(
                    "        let _ = request;\n        Err(Status::unimplemented(\"not over HTTP\"))\n",
                );
            } else if m.server_streaming {
                let _ = writeln!(
                    out,
                    "        self.record({label:?}, request.get_ref());\n        let response: {} = self.response({label:?});\n        let responses = vec![Ok(response.clone()), Ok(response)];\n        Ok(Box::pin(tokio_stream::iter(responses)))",
                    external(&m.output)
                );
            } else {
                let _ = writeln!(
                    out,
                    "        self.record({label:?}, request.get_ref());\n        Ok(self.response({label:?}))"
                );
            }
            out.push_str("    }\n");
        }
        out.push_str("}\n");
    }
    out.push_str("\n#[tokio::main]\nasync fn main() {\n    let fake = Fake::default();\n    let services = Services {\n");
    for s in &p.services {
        let _ = writeln!(out, "        {}: fake.clone(),", s.field);
    }
    let _ = write!(
        out,
        r#"    }};
    let endpoints = Endpoints::new(&Instrumentation::default(), services);
    let (received, responses) = (fake.received.clone(), fake.responses.clone());
    let app = {krate}::transport::http::router(endpoints)
        .route(
            "/__conformance/received",
            post(move || {{
                let lines = std::mem::take(&mut *received.lock().unwrap());
                async move {{ lines.join("\n") }}
            }}),
        )
        .route(
            "/__conformance/responses",
            post(move |body: String| {{
                let mut map = responses.lock().unwrap();
                for line in body.lines() {{
                    let (method, data) = line.split_once(' ').expect("method and hex");
                    map.insert(method.to_string(), unhex(data));
                }}
                async {{ "" }}
            }}),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening {{}}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}}
"#
    );
    out
}

/// The driver of the Rust project's HTTP client: a line
/// `<base URL> <method> <hex request>` in, `OK <hex response>` or
/// `ERR <CODE> <JSON message>` out (tests/conformance/conformance_test.go
/// runs it).
fn client_driver(p: &rust::Project) -> String {
    let krate = &p.crate_name;
    format!(
        r#"//! The conformance client driver, written by kitgen's tests/rust_conformance.rs.

use std::io::BufRead;
use std::time::Duration;

use prost::Message;
use prost_reflect::DynamicMessage;
use {krate}::endpoint::code_name;
use {krate}::service::Status;
use {krate}::transport::http::client::Client;

fn hex(bytes: &[u8]) -> String {{
    bytes.iter().map(|b| format!("{{b:02x}}")).collect()
}}

fn unhex(s: &str) -> Vec<u8> {{
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}}

async fn call(base: &str, method: &str, data: &str) -> Result<Vec<u8>, Status> {{
    let pool = {krate}::pb::descriptor_pool();
    let (service, name) = method.rsplit_once('.').expect("a full method name");
    let input = pool
        .get_service_by_name(service)
        .and_then(|s| s.methods().find(|m| m.name() == name))
        .expect("a method of the pool")
        .input();
    let request = DynamicMessage::decode(input, unhex(data).as_slice()).expect("a request");
    let client = Client::new(base)?.with_timeout(Duration::from_secs(30));
    let response = client.call(method, tonic::Request::new(request)).await?;
    Ok(response.encode_to_vec())
}}

#[tokio::main]
async fn main() {{
    for line in std::io::stdin().lock().lines() {{
        let line = line.expect("a line");
        let mut fields = line.splitn(3, ' ');
        let (base, method) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        let data = fields.next().unwrap_or("");
        match call(base, method, data).await {{
            Ok(bytes) => println!("OK {{}}", hex(&bytes)),
            Err(s) => println!(
                "ERR {{}} {{}}",
                code_name(s.code()),
                serde_json::to_string(s.message()).expect("a string")
            ),
        }}
    }}
}}
"#
    )
}

/// The Go half: the HTTP handler over fresh fakes, and the services the
/// corpus covers (those with a rule).
fn go_glue(p: &kitgen::backend::go::Project) -> String {
    let mut out = format!(
        "package transport\n\nimport (\n\t\"net/http\"\n\t\"testing\"\n\n\t\"google.golang.org/protobuf/proto\"\n\t\"google.golang.org/protobuf/reflect/protoreflect\"\n\n\t\"{}/pkg/endpoints\"\n)\n\n",
        p.module
    );
    out.push_str("func conformanceSetup(t *testing.T) (http.Handler, []oracleService) {\n\tkit := newFakes()\n");
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
    let _ = writeln!(out, "\thandler := NewHTTPHandler({})", args.join(", "));
    out.push_str("\treturn handler, []oracleService{\n");
    for s in p.services.iter().filter(|s| s.has_http()) {
        let _ = writeln!(
            out,
            "\t\t{{name: \"{full}\", kitgen: kit.{l}.Requests, respond: func(r map[string]proto.Message) {{ kit.{l}.Responses = r }}}},",
            full = s.full_name,
            l = s.lower
        );
    }
    out.push_str("\t}\n}\n\n// conformanceClient is the generated HTTP client of a service.\nfunc conformanceClient(t *testing.T, baseURL string, service protoreflect.FullName) any {\n\tswitch service {\n");
    for s in p.services.iter().filter(|s| s.has_http()) {
        let _ = writeln!(
            out,
            "\tcase \"{}\":\n\t\tc, err := New{}HTTPClient(baseURL, nil)\n\t\tif err != nil {{\n\t\t\tt.Fatal(err)\n\t\t}}\n\t\treturn c",
            s.full_name, s.base
        );
    }
    out.push_str("\t}\n\tt.Fatalf(\"no client of %s\", service)\n\treturn nil\n}\n\n// oracleSetup is the grpc-gateway oracle's, which runs in tests/gateway.rs.\nfunc oracleSetup(t *testing.T) (http.Handler, http.Handler, []oracleService) {\n\tt.Skip(\"the grpc-gateway oracle runs in tests/gateway.rs\")\n\treturn nil, nil, nil\n}\n");
    out
}

/// Generates `name` from `protos` as a Go and a Rust project, serves the
/// Rust one and runs the Go conformance test against it.
fn conformance(name: &str, protos: &[PathBuf], includes: &[PathBuf]) -> Counts {
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
    let go_project = generate(tmp.path(), name, &arg_refs);

    let compiled = proto::compile(&proto::ProtoInput {
        files: protos.to_vec(),
        includes: includes.to_vec(),
    })
    .expect("the proto compiles");
    let rust_project = tmp.path().join(format!("{name}-rust"));
    let options = rust::Options {
        name: name.to_string(),
        starter: false,
        sources: Vec::new(),
        discovery: Vec::new(),
    };
    let files = rust::render(&compiled.api, &compiled.descriptor_set, &options)
        .unwrap_or_else(|d| panic!("{name}: {d:?}"));
    for (path, file) in files.iter() {
        let path = rust_project.join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, &file.contents).expect("write the Rust project");
    }
    let model = rust::model::build(&compiled.api, name, false, &[]).expect("the model builds");
    fs::create_dir_all(rust_project.join("examples")).expect("mkdir examples");
    fs::write(
        rust_project.join("examples/conformance.rs"),
        fake_server(&model),
    )
    .expect("write the fake server");
    fs::write(
        rust_project.join("examples/httpclient.rs"),
        client_driver(&model),
    )
    .expect("write the client driver");
    step(
        name,
        "cargo build --example conformance --example httpclient",
    );
    let target = rust_target_dir();
    cargo_rust(
        &rust_project,
        &[
            "build",
            "--locked",
            "--example",
            "conformance",
            "--example",
            "httpclient",
        ],
    );
    // The project's own HTTP tests: every route of every method (the
    // httprules fixture has additional bindings), and the runtime's and
    // the HTTP client's unit tests.
    step(name, "cargo test --lib transport::http");
    let tests = cargo_rust(
        &rust_project,
        &["test", "--locked", "--lib", "transport::http"],
    );
    let passed = tests
        .stdout
        .lines()
        .find(|l| l.starts_with("test result: ok."))
        .unwrap_or_else(|| panic!("{name}: no test result:\n{}", tests.stdout));
    eprintln!("{name}: HTTP tests: {passed}");
    let mut child = Command::new(target.join("debug/examples/conformance"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Rust server");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // The Go half: the corpus, the comparison and the Go handler.
    let rendered = kitgen::backend::go::render(
        &compiled.api,
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
    let transport = go_project.join("pkg/transport");
    for (from, to) in [
        ("tests/gateway/oracle_test.go", "oracle_test.go"),
        (
            "tests/conformance/conformance_test.go",
            "conformance_test.go",
        ),
    ] {
        fs::copy(repo().join(from), transport.join(to)).expect("copy a Go test");
    }
    fs::copy(GO_RECORDER, transport.join("exchanges_test.go")).expect("copy the recorder");
    fs::write(
        transport.join("conformance_glue_test.go"),
        go_glue(&rendered.0),
    )
    .expect("glue");
    step(name, format!("the conformance test against {addr}"));
    let out = run_ok(
        go(
            &go_project,
            &[
                "test",
                "-count=1",
                "-v",
                "-run",
                "^TestConformance$",
                "./pkg/transport",
            ],
        )
        .env("RUST_ADDR", &addr)
        .env("RUST_CLIENT", target.join("debug/examples/httpclient")),
        GO_TIMEOUT,
    );
    drop(server);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("CONFORMANCE "))
        .unwrap_or_else(|| panic!("no CONFORMANCE line:\n{}", out.stdout));
    eprintln!("{name}: {line}");
    let mut counts = Counts::default();
    for field in line.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=').expect("key=value");
        match key {
            "requests" => counts.requests = value.parse().expect("count"),
            "identical" => counts.identical = value.parse().expect("count"),
            "deliberate" => counts.deliberate = value.parse().expect("count"),
            "unexplained" => counts.unexplained = value.parse().expect("count"),
            "reasons" => counts.reasons = value.to_string(),
            _ => {}
        }
    }
    let client = out
        .stdout
        .lines()
        .find(|l| l.starts_with("GOCLIENT "))
        .unwrap_or_else(|| panic!("no GOCLIENT line:\n{}", out.stdout));
    eprintln!("{name}: {client}");
    for field in client.split_whitespace().skip(1) {
        let (key, value) = field.split_once('=').expect("key=value");
        match key {
            "calls" => counts.client_calls = value.parse().expect("count"),
            "agree" => counts.client_agree = value.parse().expect("count"),
            _ => {}
        }
    }
    for (prefix, calls, agree) in [
        (
            "RUSTCLIENT-GO ",
            &mut counts.rust_go_calls,
            &mut counts.rust_go_agree,
        ),
        (
            "RUSTCLIENT-RUST ",
            &mut counts.rust_rust_calls,
            &mut counts.rust_rust_agree,
        ),
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}line:\n{}", out.stdout));
        eprintln!("{name}: {line}");
        for field in line.split_whitespace().skip(1) {
            let (key, value) = field.split_once('=').expect("key=value");
            match key {
                "methods" => counts.rust_client_methods = value.parse().expect("count"),
                "calls" => *calls = value.parse().expect("count"),
                "agree" => *agree = value.parse().expect("count"),
                _ => {}
            }
        }
    }
    counts
}

fn fixture(path: &str) -> PathBuf {
    repo().join(path)
}

#[test]
fn go_and_rust_answer_http_alike() {
    let googleapis = corpus().join("googleapis");
    let projects: Vec<(&str, Vec<PathBuf>, Vec<PathBuf>)> = vec![
        (
            "library",
            vec![googleapis.join("google/example/library/v1/library.proto")],
            vec![googleapis.clone()],
        ),
        (
            "files",
            vec![fixture("fixtures/httprules/httprules.proto")],
            Vec::new(),
        ),
        (
            "chat",
            vec![fixture("fixtures/streaming/streaming.proto")],
            Vec::new(),
        ),
        // Query parameters of every kind.
        (
            "query",
            vec![fixture("tests/transcoding/query.proto")],
            Vec::new(),
        ),
    ];
    let only = std::env::var("KITGEN_CONFORMANCE_ONLY").ok();
    let mut total = Counts::default();
    for (name, protos, includes) in &projects {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let c = conformance(name, protos, includes);
        total.requests += c.requests;
        total.identical += c.identical;
        total.deliberate += c.deliberate;
        total.unexplained += c.unexplained;
        total.client_calls += c.client_calls;
        total.client_agree += c.client_agree;
        total.rust_client_methods += c.rust_client_methods;
        total.rust_go_calls += c.rust_go_calls;
        total.rust_go_agree += c.rust_go_agree;
        total.rust_rust_calls += c.rust_rust_calls;
        total.rust_rust_agree += c.rust_rust_agree;
    }
    eprintln!(
        "conformance total: {} requests, {} identical, {} deliberate differences, {} unexplained",
        total.requests, total.identical, total.deliberate, total.unexplained
    );
    eprintln!(
        "Go HTTP client against the Rust server: {} methods called, {} round trips equal",
        total.client_calls, total.client_agree
    );
    eprintln!(
        "Rust HTTP client against the Go server: {} methods, {} calls, {} equal (round trips, and errors as the Go client's)",
        total.rust_client_methods, total.rust_go_calls, total.rust_go_agree
    );
    eprintln!(
        "Rust HTTP client against the Rust server: {} methods, {} calls, {} equal (round trips, and errors as the Go client's)",
        total.rust_client_methods, total.rust_rust_calls, total.rust_rust_agree
    );
    assert_eq!(total.client_calls, total.client_agree);
    assert_eq!(total.rust_go_calls, total.rust_go_agree);
    assert_eq!(total.rust_rust_calls, total.rust_rust_agree);
    assert!(total.rust_go_calls > 0 && total.rust_rust_calls > 0);
    assert_eq!(total.unexplained, 0);
    assert_eq!(total.requests, total.identical + total.deliberate);
    assert!(total.requests > 0);
}
