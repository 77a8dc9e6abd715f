//! Services written as code: a Go interface and a Rust trait give the same IR
//! and the same project as the .proto they stand for, serve the same answers,
//! regenerate without losing user code, and every unsupported construct is
//! refused with file:line:col, exit 2 and nothing written.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use kitgen::frontend;
use kitgen::ir;
use kitgen::pipeline::{self, Settings, Source};
use support::{
    GO_TIMEOUT, Server, agent, assert_exchanges_match_openapi, generate, go, go_build, request,
    run, run_ok, step,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// The API with file names dropped, which differ by form.
fn shape(api: &ir::Api) -> (Vec<ir::Service>, Vec<ir::Message>, Vec<ir::Enum>) {
    let project: Vec<&str> = api
        .files
        .iter()
        .filter(|f| f.in_project)
        .map(|f| f.name.as_str())
        .collect();
    let services = api
        .services
        .iter()
        .map(|s| ir::Service {
            file: String::new(),
            position: None,
            methods: s
                .methods
                .iter()
                .map(|m| ir::Method {
                    position: None,
                    ..m.clone()
                })
                .collect(),
            ..s.clone()
        })
        .collect();
    let messages = api
        .messages
        .iter()
        .filter(|m| project.contains(&m.file.as_str()))
        .map(|m| ir::Message {
            file: String::new(),
            position: None,
            ..m.clone()
        })
        .collect();
    let enums = api
        .enums
        .iter()
        .filter(|e| project.contains(&e.file.as_str()))
        .map(|e| ir::Enum {
            file: String::new(),
            position: None,
            ..e.clone()
        })
        .collect();
    (services, messages, enums)
}

#[test]
fn the_builtin_proto_the_go_interface_and_the_rust_trait_give_the_same_ir() {
    let settings = Settings {
        name: "addsvc".into(),
        module: "addsvc".into(),
        addsvc_example: false,
        source_names: vec!["x".into()],
        go_packages: Vec::new(),
    };
    let builtin = pipeline::render(&Source::Starter, &settings)
        .unwrap()
        .compiled
        .api;
    let go = frontend::from_code(
        &fixture("interfaces/addsvc.go"),
        "addsvc.go",
        "addsvc",
        "addsvc.proto",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let rust = frontend::from_code(
        &fixture("interfaces/addsvc.rs"),
        "addsvc.rs",
        "addsvc",
        "addsvc.proto",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        shape(&go.compiled.api),
        shape(&builtin),
        "Go interface vs built-in proto"
    );
    assert_eq!(
        shape(&rust.compiled.api),
        shape(&builtin),
        "Rust trait vs built-in proto"
    );
    // The derived files differ only in the line naming their source.
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.contains("addsvc.go") && !l.contains("addsvc.rs"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&go.proto), strip(&rust.proto));
}

#[test]
fn the_inventory_fixtures_agree_across_languages() {
    let go = frontend::from_code(
        &fixture("interfaces/inventory.go"),
        "inventory.go",
        "inventory",
        "inventory.proto",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let rust = frontend::from_code(
        &fixture("interfaces/inventory.rs"),
        "inventory.rs",
        "inventory",
        "inventory.proto",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let (gs, gm, ge) = shape(&go.compiled.api);
    let (rs, rm, re) = shape(&rust.compiled.api);
    assert_eq!(gs, rs, "services");
    assert_eq!(ge, re, "enums");
    // Rust's Option<String> note is the one field Go has no spelling for.
    let item = |ms: &[ir::Message]| ms.iter().find(|m| m.name == "Item").unwrap().clone();
    let mut rust_item = item(&rm);
    let note = rust_item.fields.pop().unwrap();
    assert_eq!(
        (note.name.as_str(), note.cardinality),
        ("note", ir::Cardinality::Optional)
    );
    assert_eq!(rust_item, item(&gm));
}

/// Generates addsvc three ways, gives all three the built-in's working
/// implementation, and checks they answer every request identically.
#[test]
fn the_three_forms_of_addsvc_serve_identical_answers() {
    const T: &str = "equivalence";
    let tmp = tempfile::tempdir().unwrap();
    let forms = [
        ("builtin", vec![]),
        (
            "go",
            vec![
                "--from".to_string(),
                fixture("interfaces/addsvc.go").display().to_string(),
            ],
        ),
        (
            "rust",
            vec![
                "--from".to_string(),
                fixture("interfaces/addsvc.rs").display().to_string(),
            ],
        ),
    ];
    let mut projects = Vec::new();
    for (form, args) in &forms {
        let parent = tmp.path().join(form);
        fs::create_dir_all(&parent).unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        step(T, format_args!("kitgen new addsvc ({form})"));
        projects.push(generate(&parent, "addsvc", &args));
    }
    // Same IR, same Go: the built-in's implementation compiles in the others.
    let implementation = fs::read(projects[0].join("pkg/service/add.go")).unwrap();
    for project in &projects[1..] {
        fs::write(project.join("pkg/service/add.go"), &implementation).unwrap();
        run_ok(&mut go(project, &["vet", "./..."]), GO_TIMEOUT);
        run_ok(&mut go(project, &["test", "./..."]), GO_TIMEOUT);
    }
    let agent = agent();
    let mut answers: Vec<Vec<String>> = Vec::new();
    for (project, (form, _)) in projects.iter().zip(&forms) {
        step(T, format_args!("{form}: build and serve"));
        let server_bin = go_build(project, "addsvc");
        let cli_bin = go_build(project, "addcli");
        let server = Server::start(Command::new(&server_bin).args([
            "-http-addr",
            "127.0.0.1:0",
            "-grpc-addr",
            "127.0.0.1:0",
            "-debug-addr",
            "127.0.0.1:0",
        ]));
        let http = format!("http://{}", server.http());
        let mut seen = Vec::new();
        for (path, body) in [
            ("/sum", r#"{"a":1,"b":2}"#),
            ("/concat", r#"{"a":"foo","b":"bar"}"#),
            ("/sum", r#"{"a":9223372036854775807,"b":1}"#),
            ("/concat", r#"{"a":"0123456789","b":"x"}"#),
            ("/nope", "{}"),
        ] {
            let reply = request(&agent, "POST", &format!("{http}{path}"), Some(body));
            seen.push(format!(
                "HTTP {path} {body} -> {} {}",
                reply.status,
                reply.body.trim()
            ));
        }
        let grpc = server.grpc().to_string();
        for (method, body) in [
            ("Sum", r#"{"a":1,"b":2}"#),
            ("Concat", r#"{"a":"foo","b":"bar"}"#),
            ("Sum", r#"{"a":9223372036854775807,"b":1}"#),
        ] {
            let out = run(
                Command::new(&cli_bin).args(["-grpc-addr", &grpc, "-method", method, body]),
                std::time::Duration::from_secs(30),
            );
            seen.push(format!(
                "gRPC {method} {body} -> {:?} {} {}",
                out.status.code(),
                out.stdout.trim(),
                out.stderr.trim()
            ));
        }
        assert!(server.terminate().success());
        assert_exchanges_match_openapi(project, &http);
        answers.push(seen);
    }
    assert!(
        answers[0][0].ends_with(r#"200 {"result":"3"}"#),
        "{:?}",
        answers[0]
    );
    assert_eq!(answers[1], answers[0], "Go interface vs built-in");
    assert_eq!(answers[2], answers[0], "Rust trait vs built-in");
}

fn kitgen(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kitgen"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn editing_the_interface_regenerates_and_keeps_user_code() {
    for (file, fixture_file, add_method, add_param) in [
        (
            "service.go",
            "interfaces/addsvc.go",
            (
                "\t// Concat returns",
                "\t// Multiply returns the product of a and b.\n\tMultiply(ctx context.Context, a, b int64) (int64, error)\n\n\t// Concat returns",
            ),
            (
                "Sum(ctx context.Context, a, b int64) (int64, error)",
                "Sum(ctx context.Context, a, b, c int64) (int64, error)",
            ),
        ),
        (
            "service.rs",
            "interfaces/addsvc.rs",
            (
                "    /// Concat returns",
                "    /// Multiply returns the product of a and b.\n    async fn multiply(&self, a: i64, b: i64) -> Result<i64, Error>;\n\n    /// Concat returns",
            ),
            (
                "async fn sum(&self, a: i64, b: i64)",
                "async fn sum(&self, a: i64, b: i64, c: i64)",
            ),
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let source = tmp.path().join(file);
        fs::copy(fixture(fixture_file), &source).unwrap();
        let out = kitgen(&["new", "addsvc", "--from", file], tmp.path());
        assert!(out.status.success(), "{file}: {}", text(&out.stderr));
        let project = tmp.path().join("addsvc");
        assert!(
            fs::read_to_string(project.join("kitgen.toml"))
                .unwrap()
                .contains(&format!("from = \"../{file}\""))
        );

        // The user implements Sum.
        let impl_path = project.join("pkg/service/add.go");
        let stub = "\treturn nil, Errorf(CodeUnimplemented, \"Sum is not implemented yet\")";
        let mine = "\t// user: my sum\n\treturn &pb.SumResponse{Result: req.GetA() + req.GetB() + req.GetC()}, nil";
        let code = fs::read_to_string(&impl_path).unwrap();
        assert!(code.contains(stub), "{code}");
        fs::write(&impl_path, code.replace(stub, mine)).unwrap();

        // ... then adds a method and a parameter to the interface.
        let def = fs::read_to_string(&source).unwrap();
        fs::write(
            &source,
            def.replace(add_method.0, add_method.1)
                .replace(add_param.0, add_param.1),
        )
        .unwrap();
        assert_eq!(
            kitgen(&["check"], &project).status.code(),
            Some(1),
            "{file}: check sees the edit"
        );
        let out = kitgen(&["generate"], &project);
        assert!(
            out.status.success(),
            "{file}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let code = fs::read_to_string(&impl_path).unwrap();
        assert!(
            code.contains("// user: my sum"),
            "{file}: the user's code is kept:\n{code}"
        );
        assert!(
            code.contains("func (s *addService) Multiply("),
            "{file}: the new method's stub:\n{code}"
        );
        let proto = fs::read_to_string(project.join("proto/addsvc.proto")).unwrap();
        assert!(
            proto.contains("int64 c = 3;") && proto.contains("rpc Multiply(MultiplyRequest)"),
            "{proto}"
        );
        assert_eq!(
            kitgen(&["check"], &project).status.code(),
            Some(0),
            "{file}: clean after generate"
        );
        run_ok(&mut go(&project, &["vet", "./..."]), GO_TIMEOUT);
        run_ok(&mut go(&project, &["test", "./..."]), GO_TIMEOUT);
    }
}

/// `kitgen new x --from <file>` must fail with exit 2, the expected text, and
/// write nothing.
fn assert_refused(file: &str, source: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(file), source).unwrap();
    let out = kitgen(&["new", "x", "--from", file], tmp.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{file}:\n{source}\n{err}");
    for want in expected {
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"));
    assert!(!tmp.path().join("x").exists(), "nothing is written");
}

const GO_HEAD: &str = "package svc\n\nimport (\n\t\"context\"\n\t\"net/http\"\n)\n\n";

fn go_iface(method: &str) -> String {
    format!("{GO_HEAD}type S interface {{\n\t{method}\n}}\n")
}

#[test]
fn unsupported_go_constructs_are_refused_with_a_location() {
    for (method, expected) in [
        (
            "M(ctx context.Context, c chan int) error",
            "s.go:9:27: a channel (chan int) has no protobuf form",
        ),
        (
            "M(ctx context.Context, f func()) error",
            "s.go:9:27: a function (func()) has no protobuf form",
        ),
        (
            "M(ctx context.Context, v interface{}) error",
            "s.go:9:27: an interface (interface{}) has no protobuf form",
        ),
        (
            "M(ctx context.Context, v any) error",
            "s.go:9:27: an empty interface (any) has no protobuf form",
        ),
        (
            "M(a int) error",
            "s.go:9:4: method M must take a context.Context first",
        ),
        (
            "M(ctx context.Context) int",
            "s.go:9:25: method M must return an error last",
        ),
        (
            "M(ctx context.Context, r *http.Request) error",
            "s.go:9:28: type http.Request comes from another package",
        ),
        (
            "M(ctx context.Context, u User) error",
            "s.go:9:27: type 'User' is not declared in this file",
        ),
        (
            "M(ctx context.Context, xs ...int) error",
            "s.go:9:25: variadic parameters have no protobuf form",
        ),
    ] {
        assert_refused("s.go", &go_iface(method), &[expected, "help: "]);
    }
    // A generic interface, two methods that collide after renaming, a syntax error.
    assert_refused(
        "s.go",
        &format!("{GO_HEAD}type S[T any] interface {{\n\tM(ctx context.Context) error\n}}\n"),
        &["s.go:8:7: interface S is generic"],
    );
    assert_refused(
        "s.go",
        &go_iface("GetUser(ctx context.Context) error\n\tGet_user(ctx context.Context) error"),
        &["s.go:10:2: method 'Get_user' becomes the RPC 'GetUser', as 'GetUser' on line 9 does"],
    );
    assert_refused(
        "s.go",
        &format!("{GO_HEAD}type S interface {{\n"),
        &["s.go:", "syntax error"],
    );
    assert_refused("s.go", GO_HEAD, &["s.go: no service found"]);
}

const RUST_HEAD: &str = "pub struct User { pub name: String }\n\n";

fn rust_trait(method: &str) -> String {
    format!("{RUST_HEAD}pub trait S {{\n    {method}\n}}\n")
}

#[test]
fn unsupported_rust_constructs_are_refused_with_a_location() {
    for (method, expected) in [
        (
            "fn m(&self, f: fn()) -> Result<(), E>;",
            "s.rs:4:20: a function has no protobuf form",
        ),
        (
            "fn m(&self, v: Box<dyn Any>) -> Result<(), E>;",
            "s.rs:4:20: Box with these arguments has no protobuf form",
        ),
        (
            "fn m(&self, v: &dyn Any) -> Result<(), E>;",
            "s.rs:4:20: a reference has no protobuf form",
        ),
        (
            "fn m<T>(&self, v: T) -> Result<(), E>;",
            "s.rs:4:9: method m is generic",
        ),
        (
            "fn m(v: i64) -> Result<(), E>;",
            "s.rs:4:10: method m must take &self first",
        ),
        (
            "fn m(&self) -> i64;",
            "s.rs:4:20: method m must return a Result",
        ),
        (
            "fn m(&self, t: chrono::DateTime) -> Result<(), E>;",
            "s.rs:4:20: type chrono::DateTime comes from another module or crate",
        ),
        (
            "fn m(&self, x: Account) -> Result<(), E>;",
            "s.rs:4:20: type 'Account' is not declared in this file",
        ),
        (
            "fn m(&self, x: u8) -> Result<(), E>;",
            "s.rs:4:20: u8 has no protobuf form",
        ),
        (
            "fn get_user(&self) -> Result<(), E>;\n    fn getUser(&self) -> Result<(), E>;",
            "s.rs:5:8: method 'getUser' becomes the RPC 'GetUser', as 'get_user' on line 4 does",
        ),
    ] {
        assert_refused("s.rs", &rust_trait(method), &[expected, "help: "]);
    }
    assert_refused(
        "s.rs",
        &format!(
            "{RUST_HEAD}pub enum Shape {{ Circle(f64) }}\npub trait S {{ fn m(&self, s: Shape) -> Result<(), E>; }}\n"
        ),
        &["s.rs:3:18: variant Shape::Circle carries data"],
    );
    assert_refused("s.rs", "pub trait S {", &["s.rs:", "syntax error"]);
    assert_refused("s.rs", "pub struct X;", &["no service found"]);
    assert_refused(
        "s.txt",
        "whatever",
        &["s.txt is neither a .go nor a .rs file"],
    );
}
