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
    GO_TIMEOUT, Server, agent, assert_exchanges_match_openapi, generate, go as go_cmd, go_build,
    kitgen, request, run, run_ok, step, take_exchanges,
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
        target: &kitgen::backend::go::Go,
        starter: false,
        source_names: vec!["x".into()],
        discovery: Vec::new(),
        table: Default::default(),
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

/// go-kit addsvc's logic, written against a user's interface: `iface`
/// with integers of type `int`, in package `pkg` of module `module`.
fn addsvc_impl(pkg: &str, module: &str, iface: &str, int: &str, max: &str, min: &str) -> String {
    format!(
        r#"package {pkg}

import (
	"context"
	"math"

	"{module}/pkg/service"
)

// New{iface} returns go-kit addsvc's logic.
func New{iface}() {iface} {{
	return basic{iface}{{}}
}}

type basic{iface} struct{{}}

func (basic{iface}) Sum(_ context.Context, a, b {int}) ({int}, error) {{
	if (b > 0 && a > {max}-b) || (b < 0 && a < {min}-b) {{
		return 0, service.Errorf(service.CodeInvalidArgument, "%d + %d overflows int64", a, b)
	}}
	return a + b, nil
}}

func (basic{iface}) Concat(_ context.Context, a, b string) (string, error) {{
	const maxLen = 10 // as in go-kit's addsvc
	v := a + b
	if len(v) > maxLen {{
		return "", service.Errorf(service.CodeInvalidArgument, "the result is longer than %d bytes", maxLen)
	}}
	return v, nil
}}
"#
    )
}

/// A Go test in the user's package: the user's interface, called through
/// the adapter's client and server in process, answers as the
/// implementation does, errors included.
fn addsvc_test(pkg: &str, module: &str, iface: &str) -> String {
    format!(
        r#"package {pkg}_test

import (
	"testing"

	"{module}/internal/{pkg}"
	"{module}/pkg/adapter"
	"{module}/pkg/service"
)

func TestThroughTheAdapter(t *testing.T) {{
	var svc {pkg}.{iface} = adapter.New{iface}Client(adapter.New{iface}({pkg}.New{iface}()))
	if v, err := svc.Sum(t.Context(), 1, 2); err != nil || v != 3 {{
		t.Fatalf("Sum(1, 2) = %v, %v; want 3", v, err)
	}}
	if v, err := svc.Concat(t.Context(), "a", "b"); err != nil || v != "ab" {{
		t.Fatalf("Concat = %q, %v; want ab", v, err)
	}}
	if _, err := svc.Concat(t.Context(), "abcdef", "ghijkl"); service.CodeOf(err) != service.CodeInvalidArgument {{
		t.Fatalf("Concat over the limit: %v, want INVALID_ARGUMENT", err)
	}}
}}
"#
    )
}

/// Generates addsvc four ways: the built-in proto (proto first), the Go
/// interface fixture and go-kit's own addservice interface (interface
/// first, each implemented against the user's interface), and the Rust
/// trait (proto first, derived). All answer a corpus of HTTP and gRPC
/// requests byte-identically.
#[test]
fn the_forms_of_addsvc_serve_identical_answers() {
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
            "gokit",
            vec![
                "--from".to_string(),
                fixture("interfaces/addservice.go").display().to_string(),
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
    // Interface first: the implementation is written against the user's
    // interface, in the user's package, replacing kitgen's stub.
    let go = &projects[1];
    assert!(go.join("internal/addsvc/addsvc.go").is_file());
    fs::write(
        go.join("internal/addsvc/add_impl.go"),
        addsvc_impl(
            "addsvc",
            "addsvc",
            "Add",
            "int64",
            "math.MaxInt64",
            "math.MinInt64",
        ),
    )
    .unwrap();
    fs::write(
        go.join("internal/addsvc/add_test.go"),
        addsvc_test("addsvc", "addsvc", "Add"),
    )
    .unwrap();
    let gokit = &projects[2];
    assert!(gokit.join("internal/addservice/addservice.go").is_file());
    fs::write(
        gokit.join("internal/addservice/service_impl.go"),
        addsvc_impl(
            "addservice",
            "addsvc",
            "Service",
            "int",
            "math.MaxInt",
            "math.MinInt",
        ),
    )
    .unwrap();
    fs::write(
        gokit.join("internal/addservice/service_test.go"),
        addsvc_test("addservice", "addsvc", "Service"),
    )
    .unwrap();
    // The Rust trait's project is proto first: the built-in's implementation
    // compiles in it.
    let implementation = fs::read(projects[0].join("pkg/service/add.go")).unwrap();
    fs::write(projects[3].join("pkg/service/add.go"), &implementation).unwrap();
    for project in &projects[1..] {
        run_ok(&mut go_cmd(project, &["vet", "./..."]), GO_TIMEOUT);
        let out = run_ok(&mut go_cmd(project, &["test", "./..."]), GO_TIMEOUT);
        if project != &projects[3] {
            assert!(
                out.stdout.contains("ok  \taddsvc/internal/"),
                "{}",
                out.stdout
            );
        }
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
        let mut send = |corpus: &[(&str, &str, &str)]| {
            for (method, path, body) in corpus {
                let reply = request(
                    &agent,
                    method,
                    &format!("{http}{path}"),
                    (*method == "POST").then_some(*body),
                );
                // protobuf-go's error texts put a space or a no-break space
                // after "proto:", chosen per binary on purpose (its detrand),
                // so that nobody depends on them: compare them as one.
                seen.push(format!(
                    "HTTP {method} {path} {body} -> {} {}",
                    reply.status,
                    reply.body.trim().replace('\u{a0}', " ")
                ));
            }
        };
        // Requests the OpenAPI document describes, and their answers...
        send(&[
            ("POST", "/sum", r#"{"a":1,"b":2}"#),
            ("POST", "/concat", r#"{"a":"foo","b":"bar"}"#),
            ("POST", "/sum", r#"{"a":9223372036854775807,"b":1}"#),
            ("POST", "/sum", r#"{"a":"-5","b":"7"}"#),
            ("POST", "/sum", r#"{}"#),
            ("POST", "/concat", r#"{"a":"0123456789","b":"x"}"#),
            ("POST", "/concat", r#"{"a":"\u00e9","b":"\n"}"#),
        ]);
        assert_exchanges_match_openapi(project, &http);
        // ... then malformed ones, whose errors must match as well.
        send(&[
            ("POST", "/sum", r#"{"a":1.5}"#),
            ("POST", "/sum", r#"{"a":1,"c":2}"#),
            ("POST", "/sum", r#"{"a":"#),
            ("POST", "/sum", ""),
            ("POST", "/concat", r#"{"a":1}"#),
            ("GET", "/sum", ""),
            ("POST", "/nope", "{}"),
            ("POST", "/sum?a=4", r#"{"b":1}"#),
        ]);
        take_exchanges(&http);
        let grpc = server.grpc().to_string();
        for (method, body) in [
            ("Sum", r#"{"a":1,"b":2}"#),
            ("Concat", r#"{"a":"foo","b":"bar"}"#),
            ("Sum", r#"{"a":9223372036854775807,"b":1}"#),
            ("Sum", r#"{"a":-9223372036854775808,"b":-1}"#),
            ("Concat", r#"{"a":"0123456789","b":"x"}"#),
            ("Sum", r#"{}"#),
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
        answers.push(seen);
    }
    assert!(
        answers[0][0].ends_with(r#"200 {"result":"3"}"#),
        "{:?}",
        answers[0]
    );
    assert!(
        answers[0][2].contains(" 400 ") && answers[0][2].contains("overflows int64"),
        "{:?}",
        answers[0]
    );
    assert_eq!(answers[1], answers[0], "Go interface vs built-in");
    assert_eq!(answers[2], answers[0], "go-kit's addservice vs built-in");
    assert_eq!(answers[3], answers[0], "Rust trait vs built-in");
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Interface first: the user implements a method against their own
/// interface, then adds a method, adds a parameter and changes a type.
/// `generate` keeps every line of theirs and adds the new method's stub; a
/// signature changed under a body they wrote is carried over it.
#[test]
fn editing_a_go_interface_regenerates_and_keeps_user_code() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("service.go");
    fs::copy(fixture("interfaces/addsvc.go"), &source).unwrap();
    let out = kitgen(&["new", "addsvc", "--from", "service.go"], tmp.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let project = tmp.path().join("addsvc");
    assert!(
        fs::read_to_string(project.join("kitgen.toml"))
            .unwrap()
            .contains("from = \"internal/addsvc/service.go\"")
    );
    let iface = project.join("internal/addsvc/service.go");
    assert_eq!(
        fs::read(&iface).unwrap(),
        fs::read(&source).unwrap(),
        "copied as written"
    );

    // The user implements Sum against their interface.
    let impl_path = project.join("internal/addsvc/add_impl.go");
    let stub =
        "\treturn 0, service.Errorf(service.CodeUnimplemented, \"Sum is not implemented yet\")";
    let mine = "\t// user: my sum\n\treturn a + b, nil";
    let code = fs::read_to_string(&impl_path).unwrap();
    assert!(code.contains(stub), "{code}");
    fs::write(&impl_path, code.replace(stub, mine)).unwrap();

    // ... then adds a method, a parameter to Concat and changes a type.
    let def = fs::read_to_string(&iface).unwrap();
    fs::write(
        &iface,
        def.replace(
            "\t// Concat returns",
            "\t// Multiply returns the product of a and b.\n\tMultiply(ctx context.Context, a, b int32) (int64, error)\n\n\t// Concat returns",
        )
        .replace(
            "Concat(ctx context.Context, a, b string) (string, error)",
            "Concat(ctx context.Context, a, b, sep string) ([]byte, error)",
        ),
    )
    .unwrap();
    assert_eq!(
        kitgen(&["check"], &project).status.code(),
        Some(1),
        "check sees the edit"
    );
    let out = kitgen(&["generate"], &project);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let code = fs::read_to_string(&impl_path).unwrap();
    assert!(
        code.contains("// user: my sum\n\treturn a + b, nil"),
        "{code}"
    );
    assert!(
        code.contains(
            "func (s *basicAdd) Multiply(ctx context.Context, a, b int32) (int64, error) {"
        ),
        "the new method's stub:\n{code}"
    );
    assert!(
        code.contains(
            "func (s *basicAdd) Concat(ctx context.Context, a, b, sep string) ([]byte, error) {\n\treturn nil, service.Errorf("
        ),
        "the stub follows the new parameter and result type:\n{code}"
    );
    let proto = fs::read_to_string(project.join("proto/addsvc.proto")).unwrap();
    assert!(
        proto.contains("string sep = 3;")
            && proto.contains("int32 a = 1;")
            && proto.contains("bytes result = 1;"),
        "{proto}"
    );
    assert_eq!(
        kitgen(&["check"], &project).status.code(),
        Some(0),
        "clean after generate"
    );
    run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);
    run_ok(&mut go_cmd(&project, &["test", "./..."]), GO_TIMEOUT);

    // The user implements Multiply too, and the checkout is CRLF. Then the
    // interface changes under both methods they wrote: Sum gains a
    // parameter, Multiply's result type changes. Each new signature is
    // carried over their body: no conflict, every line of theirs kept.
    let multiply_stub = "\treturn 0, service.Errorf(service.CodeUnimplemented, \"Multiply is not implemented yet\")";
    let code = fs::read_to_string(&impl_path).unwrap();
    assert!(code.contains(multiply_stub), "{code}");
    let code = code.replace(
        multiply_stub,
        "\t// user: a constant product\n\tif a == 0 {\n\t\treturn 0, service.Errorf(service.CodeInvalidArgument, \"a is 0\")\n\t}\n\treturn 6, nil",
    );
    fs::write(&impl_path, code.replace('\n', "\r\n")).unwrap();
    let edit_interface = |from: &str, to: &str| {
        let def = fs::read_to_string(&iface).unwrap();
        assert!(def.contains(from), "{def}");
        fs::write(&iface, def.replace(from, to)).unwrap();
    };
    edit_interface(
        "Sum(ctx context.Context, a, b int64) (int64, error)",
        "Sum(ctx context.Context, a, b, c int64) (int64, error)",
    );
    let generate_ok = || {
        let out = kitgen(&["generate"], &project);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let crlf = fs::read_to_string(&impl_path).unwrap();
        assert!(
            !crlf.replace("\r\n", "").contains('\n'),
            "CRLF kept:\n{crlf}"
        );
        crlf.replace("\r\n", "\n")
    };
    let code = generate_ok();
    assert!(
        code.contains("func (s *basicAdd) Sum(ctx context.Context, a, b, c int64) (int64, error) {\n\t// user: my sum\n\treturn a + b, nil\n}"),
        "{code}"
    );

    // A result type changed under the user's body: the body returns the
    // old results, so a clean merge could leave code that does not build.
    // It is a conflict showing both; resolved by keeping the user's side
    // with the new result type.
    edit_interface(
        "Multiply(ctx context.Context, a, b int32) (int64, error)",
        "Multiply(ctx context.Context, a, b int32) (float64, error)",
    );
    let out = kitgen(&["generate"], &project);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let code = fs::read_to_string(&impl_path)
        .unwrap()
        .replace("\r\n", "\n");
    let (before, rest) = code
        .split_once("<<<<<<< ours\n")
        .unwrap_or_else(|| panic!("a conflict:\n{code}"));
    let (ours, rest) = rest.split_once("||||||| base\n").unwrap();
    let (_, after) = rest.split_once(">>>>>>> theirs\n").unwrap();
    assert!(ours.contains("// user: a constant product"), "{code}");
    assert!(rest.contains("(float64, error)"), "{code}");
    let resolved = format!("{before}{ours}{after}").replace(
        "Multiply(ctx context.Context, a, b int32) (int64, error)",
        "Multiply(ctx context.Context, a, b int32) (float64, error)",
    );
    fs::write(&impl_path, resolved.replace('\n', "\r\n")).unwrap();
    let code = generate_ok();
    assert!(
        code.contains("func (s *basicAdd) Multiply(ctx context.Context, a, b int32) (float64, error) {\n\t// user: a constant product\n\tif a == 0 {"),
        "{code}"
    );

    // Parameters renamed in the interface: the user's body uses their
    // names, which Go does not ask to match, so they stay.
    edit_interface(
        "Sum(ctx context.Context, a, b, c int64)",
        "Sum(ctx context.Context, x, y, z int64)",
    );
    let code = generate_ok();
    assert!(
        code.contains("func (s *basicAdd) Sum(ctx context.Context, a, b, c int64) (int64, error) {\n\t// user: my sum\n\treturn a + b, nil\n}"),
        "{code}"
    );
    assert_eq!(kitgen(&["check"], &project).status.code(), Some(0));
    run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);

    // A method the user implemented, removed from the interface: their
    // code may still be needed, so it is a conflict showing it, never lost.
    edit_interface(
        "\n\t// Concat returns the concatenation of a and b.\n\tConcat(ctx context.Context, a, b, sep string) ([]byte, error)\n",
        "",
    );
    let code = fs::read_to_string(&impl_path).unwrap();
    let concat_stub = "\treturn nil, service.Errorf(service.CodeUnimplemented, \"Concat is not implemented yet\")";
    assert!(code.contains(concat_stub), "{code}");
    fs::write(
        &impl_path,
        code.replace(
            concat_stub,
            "\t// user: my concat\r\n\treturn []byte(a + sep + b), nil",
        ),
    )
    .unwrap();
    let out = kitgen(&["generate"], &project);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("internal/addsvc/add_impl.go"));
    let code = fs::read_to_string(&impl_path)
        .unwrap()
        .replace("\r\n", "\n");
    let ours = code
        .split_once("<<<<<<< ours\n")
        .and_then(|(_, rest)| rest.split_once("||||||| base\n"))
        .map(|(ours, _)| ours)
        .unwrap_or_else(|| panic!("a conflict:\n{code}"));
    assert!(
        ours.contains("// user: my concat\n\treturn []byte(a + sep + b), nil"),
        "{code}"
    );
    // Resolved by keeping theirs (the user's method, now unused).
    let (before, rest) = code.split_once("<<<<<<< ours\n").unwrap();
    let (_, after) = rest.split_once(">>>>>>> theirs\n").unwrap();
    fs::write(&impl_path, format!("{before}{ours}{after}")).unwrap();
    let out = kitgen(&["generate"], &project);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(kitgen(&["check"], &project).status.code(), Some(0));
    run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);
    run_ok(&mut go_cmd(&project, &["test", "./..."]), GO_TIMEOUT);
}

#[test]
#[allow(clippy::single_element_loop)] // the Go interface has its own test above
fn editing_the_interface_regenerates_and_keeps_user_code() {
    for (file, fixture_file, add_method, add_param) in [(
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
    )] {
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
        run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);
        run_ok(&mut go_cmd(&project, &["test", "./..."]), GO_TIMEOUT);
    }
}

/// `kitgen new x --from <file>` must fail with exit 2, the expected text, and
/// write nothing; the whole of stderr is appended to `goldens`.
fn assert_refused(goldens: &mut String, file: &str, source: &str, expected: &[&str]) {
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
    let golden = support::stderr_golden(&out, &[("tmp", tmp.path())]);
    goldens.push_str(&format!("--- {file}:\n{source}\n{golden}\n"));
}

const GO_HEAD: &str = "package svc\n\nimport (\n\t\"context\"\n\t\"net/http\"\n)\n\n";

fn go_iface(method: &str) -> String {
    format!("{GO_HEAD}type S interface {{\n\t{method}\n}}\n")
}

#[test]
fn unsupported_go_constructs_are_refused_with_a_location() {
    let goldens = &mut String::new();
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
        assert_refused(goldens, "s.go", &go_iface(method), &[expected, "help: "]);
    }
    // A generic interface, two methods that collide after renaming, a syntax error.
    assert_refused(
        goldens,
        "s.go",
        &format!("{GO_HEAD}type S[T any] interface {{\n\tM(ctx context.Context) error\n}}\n"),
        &["s.go:8:7: interface S is generic"],
    );
    assert_refused(
        goldens,
        "s.go",
        &go_iface("GetUser(ctx context.Context) error\n\tGet_user(ctx context.Context) error"),
        &["s.go:10:2: method 'Get_user' becomes the RPC 'GetUser', as 'GetUser' on line 9 does"],
    );
    assert_refused(
        goldens,
        "s.go",
        &format!("{GO_HEAD}type S interface {{\n"),
        &["s.go:", "syntax error"],
    );
    assert_refused(goldens, "s.go", GO_HEAD, &["s.go: no service found"]);
    insta::assert_snapshot!("refused_go_interfaces", goldens);
}

const RUST_HEAD: &str = "pub struct User { pub name: String }\n\n";

fn rust_trait(method: &str) -> String {
    format!("{RUST_HEAD}pub trait S {{\n    {method}\n}}\n")
}

#[test]
fn unsupported_rust_constructs_are_refused_with_a_location() {
    let goldens = &mut String::new();
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
        assert_refused(goldens, "s.rs", &rust_trait(method), &[expected, "help: "]);
    }
    assert_refused(
        goldens,
        "s.rs",
        &format!(
            "{RUST_HEAD}pub enum Shape {{ Circle(f64) }}\npub trait S {{ fn m(&self, s: Shape) -> Result<(), E>; }}\n"
        ),
        &["s.rs:3:18: variant Shape::Circle carries data"],
    );
    assert_refused(goldens, "s.rs", "pub trait S {", &["s.rs:", "syntax error"]);
    assert_refused(goldens, "s.rs", "pub struct X;", &["no service found"]);
    assert_refused(
        goldens,
        "s.txt",
        "whatever",
        &["s.txt is neither a .go nor a .rs file"],
    );
    insta::assert_snapshot!("refused_rust_traits", goldens);
}

/// The catalog fixture has every conversion: a Go test in the generated
/// project sends a value with every field set through the user's interface,
/// the protobuf wire form (binary and JSON) and back, in both directions.
#[test]
fn every_conversion_round_trips_through_the_wire_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let project = generate(
        tmp.path(),
        "cat",
        &[
            "--from",
            &fixture("interfaces/catalog.go").display().to_string(),
        ],
    );
    fs::write(
        project.join("internal/catalog/catalog_impl.go"),
        CATALOG_IMPL,
    )
    .unwrap();
    fs::write(
        project.join("internal/catalog/roundtrip_test.go"),
        CATALOG_TEST,
    )
    .unwrap();
    run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);
    let out = run_ok(
        &mut go_cmd(&project, &["test", "-v", "./internal/..."]),
        GO_TIMEOUT,
    );
    assert!(
        out.stdout.contains("--- PASS: TestRoundTrip"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("--- PASS: TestNilsAndErrors"),
        "{}",
        out.stdout
    );
}

const CATALOG_IMPL: &str = r#"package catalog

import (
	"context"
	"time"

	"cat/pkg/service"
)

// NewCatalog returns an in-memory catalog.
func NewCatalog() Catalog {
	return &memory{products: map[string]*Product{}}
}

type memory struct {
	products map[string]*Product
}

func (s *memory) Put(_ context.Context, products []Product, at time.Time) (int, time.Time, error) {
	for i := range products {
		s.products[products[i].ID] = &products[i]
	}
	return len(products), at, nil
}

func (s *memory) Find(_ context.Context, id string, kind *Kind) (*Product, bool, error) {
	p, ok := s.products[id]
	if !ok {
		return nil, false, service.Errorf(service.CodeNotFound, "no product %q", id)
	}
	if kind != nil && p.Kind != *kind {
		return nil, false, nil
	}
	return p, true, nil
}

func (s *memory) Index(context.Context) (map[string]*Product, error) {
	return s.products, nil
}
"#;

const CATALOG_TEST: &str = r#"package catalog_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"cat/internal/catalog"
	"cat/pb"
	"cat/pkg/adapter"
	"cat/pkg/service"
)

// wire sends every request and response through the protobuf binary and
// JSON encodings, as the transports do.
type wire struct {
	next service.CatalogService
}

func through[M proto.Message](t *testing.T, m M, fresh M) M {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, fresh); err != nil {
		t.Fatal(err)
	}
	j, err := protojson.Marshal(fresh)
	if err != nil {
		t.Fatal(err)
	}
	out := fresh.ProtoReflect().New().Interface().(M)
	if err := protojson.Unmarshal(j, out); err != nil {
		t.Fatal(err)
	}
	return out
}

var tb *testing.T

func (w wire) Put(ctx context.Context, req *pb.PutRequest) (*pb.PutResponse, error) {
	resp, err := w.next.Put(ctx, through(tb, req, &pb.PutRequest{}))
	if err != nil {
		return nil, err
	}
	return through(tb, resp, &pb.PutResponse{}), nil
}

func (w wire) Find(ctx context.Context, req *pb.FindRequest) (*pb.FindResponse, error) {
	resp, err := w.next.Find(ctx, through(tb, req, &pb.FindRequest{}))
	if err != nil {
		return nil, err
	}
	return through(tb, resp, &pb.FindResponse{}), nil
}

func (w wire) Index(ctx context.Context, req *pb.IndexRequest) (*pb.IndexResponse, error) {
	resp, err := w.next.Index(ctx, through(tb, req, &pb.IndexRequest{}))
	if err != nil {
		return nil, err
	}
	return through(tb, resp, &pb.IndexResponse{}), nil
}

func client(t *testing.T) catalog.Catalog {
	tb = t
	return adapter.NewCatalogClient(wire{next: adapter.NewCatalog(catalog.NewCatalog())})
}

func full() catalog.Product {
	stock, label, flag := 7, "label", catalog.KindMusic
	expires := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	part := catalog.Product{ID: "part", Kind: catalog.KindBook, Sizes: []uint16{1}}
	return catalog.Product{
		ID:        "p1",
		Kind:      catalog.KindMusic,
		Price:     catalog.Money{Currency: "EUR", Units: -12, Nanos: 500},
		Discount:  &catalog.Money{Currency: "EUR", Units: 1},
		Stock:     &stock,
		Label:     &label,
		Flag:      &flag,
		Sizes:     []uint16{38, 65535},
		Kinds:     []catalog.Kind{catalog.KindBook, catalog.KindMusic},
		Parts:     []*catalog.Product{&part},
		Related:   []catalog.Product{part},
		Prices:    map[string]catalog.Money{"usd": {Currency: "USD", Units: 3}},
		Names:     map[int]string{-1: "minus one", 1 << 40: "big"},
		Ratings:   map[string]float32{"a": 4.5},
		Added:     time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC),
		Expires:   &expires,
		Shelf:     90 * time.Minute,
		Thumbnail: []byte{0, 1, 254},
	}
}

func TestRoundTrip(t *testing.T) {
	svc := client(t)
	p := full()
	at := time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC)
	n, when, err := svc.Put(t.Context(), []catalog.Product{p}, at)
	if err != nil || n != 1 || !when.Equal(at) {
		t.Fatalf("Put = %v, %v, %v", n, when, err)
	}
	kind := catalog.KindMusic
	got, ok, err := svc.Find(t.Context(), "p1", &kind)
	if err != nil || !ok {
		t.Fatalf("Find = %v, %v, %v", got, ok, err)
	}
	if !reflect.DeepEqual(*got, p) {
		t.Errorf("Find:\n got %+v\nwant %+v", *got, p)
	}
	index, err := svc.Index(t.Context())
	if err != nil || len(index) != 1 || !reflect.DeepEqual(*index["p1"], p) {
		t.Errorf("Index = %+v, %v", index, err)
	}
}

func TestNilsAndErrors(t *testing.T) {
	svc := client(t)
	if _, _, err := svc.Put(t.Context(), []catalog.Product{{ID: "bare"}}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	book := catalog.KindBook
	got, ok, err := svc.Find(t.Context(), "bare", nil)
	if err != nil || !ok || !reflect.DeepEqual(*got, catalog.Product{ID: "bare"}) {
		t.Fatalf("Find(bare) = %+v, %v, %v", got, ok, err)
	}
	got, ok, err = svc.Find(t.Context(), "bare", &book)
	if err != nil || ok || got != nil {
		t.Fatalf("Find(bare, book) = %+v, %v, %v", got, ok, err)
	}
	_, _, err = svc.Find(t.Context(), "missing", nil)
	if service.CodeOf(err) != service.CodeNotFound {
		t.Fatalf("Find(missing) error = %v, want NOT_FOUND", err)
	}
}
"#;

/// The inventory fixture, implemented against the user's `Warehouse`
/// interface, builds, passes `go test`, and answers over HTTP and gRPC with
/// the user's values converted, errors mapped as in proto-first projects.
#[test]
fn the_inventory_interface_serves_over_http_and_grpc() {
    const T: &str = "inventory";
    let tmp = tempfile::tempdir().unwrap();
    step(T, "kitgen new inventory --from inventory.go");
    let project = generate(
        tmp.path(),
        "inventory",
        &[
            "--from",
            &fixture("interfaces/inventory.go").display().to_string(),
        ],
    );
    let stub = project.join("internal/inventory/warehouse_impl.go");
    assert!(
        fs::read_to_string(&stub)
            .unwrap()
            .contains("func (s *basicWarehouse) Adjust(ctx context.Context, sku string, delta int32, reason string) (item Item, restockIn time.Duration, err error) {"),
    );
    fs::write(&stub, WAREHOUSE_IMPL).unwrap();
    run_ok(&mut go_cmd(&project, &["vet", "./..."]), GO_TIMEOUT);
    run_ok(&mut go_cmd(&project, &["test", "./..."]), GO_TIMEOUT);
    let server_bin = go_build(&project, "inventory");
    let cli_bin = go_build(&project, "inventorycli");
    let server = Server::start(Command::new(&server_bin).args([
        "-http-addr",
        "127.0.0.1:0",
        "-grpc-addr",
        "127.0.0.1:0",
        "-debug-addr",
        "127.0.0.1:0",
    ]));
    let http = format!("http://{}", server.http());
    let agent = agent();
    let post = |path: &str, body: &str| {
        let reply = request(&agent, "POST", &format!("{http}{path}"), Some(body));
        (reply.status, compact(&reply.body))
    };
    let (status, body) = post("/adjust", r#"{"sku":"A1","delta":5,"reason":"delivery"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        r#"{"item":{"sku":"A1","quantity":"5","state":"STATE_IN_STOCK","tags":["delivery"],"bins":{"a":5},"photo":"AAH+","weight":1.5,"fragile":true,"updated":"2024-05-06T07:08:09Z"},"restockIn":"5400s"}"#
    );
    let (status, body) = post("/get", r#"{"sku":"A1"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(r#"{"result":{"sku":"A1","quantity":"5""#),
        "{body}"
    );
    let (status, body) = post("/get", r#"{"sku":"nope"}"#);
    assert_eq!(
        (status, body.as_str()),
        (
            404,
            r#"{"error":{"code":404,"status":"NOT_FOUND","message":"no item \"nope\""}}"#
        )
    );
    let (status, body) = post("/list", r#"{"state":"STATE_IN_STOCK","limit":10}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(r#"{"result":[{"sku":"A1""#), "{body}");
    let (status, body) = post("/list", r#"{"state":"STATE_BACKORDERED"}"#);
    assert_eq!((status, body.as_str()), (200, r#"{"result":[]}"#));
    let (status, body) = post("/ping", "{}");
    assert_eq!((status, body.as_str()), (200, "{}"));
    assert_exchanges_match_openapi(&project, &http);

    let grpc = server.grpc().to_string();
    let cli = |method: &str, body: &str| {
        run(
            Command::new(&cli_bin).args(["-grpc-addr", &grpc, "-method", method, body]),
            std::time::Duration::from_secs(30),
        )
    };
    let out = cli("Get", r#"{"sku":"A1"}"#);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert!(out.stdout.contains(r#""quantity":"5""#), "{}", out.stdout);
    let out = cli("Get", r#"{"sku":"nope"}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.contains("NOT_FOUND: no item \"nope\""),
        "{}",
        out.stderr
    );
    let out = cli("Adjust", r#"{"sku":"A1","delta":-5}"#);
    assert_eq!(out.status.code(), Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(r#""state":"STATE_BACKORDERED""#),
        "{}",
        out.stdout
    );
    assert!(server.terminate().success());
}

/// JSON without the whitespace between tokens, which protojson varies per
/// binary on purpose.
fn compact(json: &str) -> String {
    let mut out = String::new();
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

const WAREHOUSE_IMPL: &str = r#"package inventory

import (
	"context"
	"sort"
	"sync"
	"time"

	"inventory/pkg/service"
)

// NewWarehouse returns an in-memory warehouse.
func NewWarehouse() Warehouse {
	return &memory{items: map[string]Item{}}
}

type memory struct {
	mu    sync.Mutex
	items map[string]Item
}

func (s *memory) Get(_ context.Context, sku string) (*Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	item, ok := s.items[sku]
	if !ok {
		return nil, service.Errorf(service.CodeNotFound, "no item %q", sku)
	}
	return &item, nil
}

func (s *memory) Adjust(_ context.Context, sku string, delta int32, reason string) (Item, time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	item := s.items[sku]
	item.SKU = sku
	item.Quantity += int64(delta)
	item.State = StateInStock
	if item.Quantity <= 0 {
		item.State = StateBackordered
	}
	if reason != "" {
		item.Tags = append(item.Tags, reason)
	}
	item.Bins = map[string]int32{"a": int32(item.Quantity)}
	item.Photo = []byte{0, 1, 254}
	item.Weight = 1.5
	item.Fragile = true
	item.Updated = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s.items[sku] = item
	return item, 90 * time.Minute, nil
}

func (s *memory) List(_ context.Context, state State, limit uint32) ([]Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Item
	for _, item := range s.items {
		if item.State == state && (limit == 0 || uint32(len(out)) < limit) {
			out = append(out, item)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out, nil
}

func (s *memory) Ping(context.Context) error {
	return nil
}
"#;

/// Interface first, the generated code lives in other packages than the
/// user's: what it cannot name or convert is refused where it is written.
#[test]
fn interface_first_refuses_what_other_packages_cannot_use() {
    let goldens = &mut String::new();
    for (source, expected) in [
        (
            "package main\n\nimport \"context\"\n\ntype S interface {\n\tM(ctx context.Context) error\n}\n"
                .to_string(),
            "s.go:1:9: package main cannot hold the service interface",
        ),
        (
            "package internal\n\nimport \"context\"\n\ntype S interface {\n\tM(ctx context.Context) error\n}\n"
                .to_string(),
            "s.go:1:9: package internal cannot hold the service interface",
        ),
        // Go takes Unicode letters in names, protobuf and import paths do
        // not: refused in the user's file, not in the derived .proto.
        (
            "package café\n\nimport \"context\"\n\ntype S interface {\n\tM(ctx context.Context) error\n}\n"
                .to_string(),
            "s.go:1:9: package 'café' is not an ASCII identifier",
        ),
        (
            format!(
                "{GO_HEAD}type Größe struct {{\n\tWert int64\n}}\n\ntype S interface {{\n\tM(ctx context.Context, g Größe) error\n}}\n"
            ),
            "s.go:8:6: struct 'Größe' is not an ASCII identifier",
        ),
        (
            format!(
                "{GO_HEAD}type Item struct {{\n\tÑame string\n}}\n\ntype S interface {{\n\tM(ctx context.Context, i Item) error\n}}\n"
            ),
            "s.go:9:2: field 'Ñame' is not an ASCII identifier",
        ),
        (
            go_iface("Grüß(ctx context.Context, größe int64) error"),
            "s.go:9:2: method 'Grüß' is not an ASCII identifier",
        ),
        (
            go_iface("M(ctx context.Context, größe int64) error"),
            "s.go:9:25: parameter 'größe' is not an ASCII identifier",
        ),
        (
            go_iface_named("s", "M(ctx context.Context) error"),
            "s.go:8:6: interface s is unexported",
        ),
        (
            go_iface("m(ctx context.Context) error"),
            "s.go:9:2: method m is unexported",
        ),
        (
            format!(
                "{GO_HEAD}type user struct {{\n\tName string\n}}\n\ntype S interface {{\n\tM(ctx context.Context, u user) error\n}}\n"
            ),
            "s.go:13:25: type user is unexported",
        ),
        (
            format!(
                "{GO_HEAD}import \"time\"\n\ntype S interface {{\n\tM(ctx context.Context, ts []*time.Time) error\n}}\n"
            ),
            "s.go:11:25: a slice of pointers to values other than structs has no conversion",
        ),
        (
            format!(
                "{GO_HEAD}type Foo interface {{\n\tM(ctx context.Context) error\n}}\n\ntype FooClient interface {{\n\tN(ctx context.Context) error\n}}\n"
            ),
            "s.go:12:6: the generated adapter would declare 'NewFooClient' for this and for line 8",
        ),
    ] {
        assert_refused(goldens, "s.go", &source, &[expected, "help: "]);
    }
    insta::assert_snapshot!("refused_interface_first", goldens);
}

fn go_iface_named(name: &str, method: &str) -> String {
    format!("{GO_HEAD}type {name} interface {{\n\t{method}\n}}\n")
}

/// Mutated Go interfaces through the interface-first path: each renders or
/// is refused with a diagnostic, never a panic.
#[test]
fn mutated_interfaces_never_panic_interface_first() {
    let tmp = tempfile::tempdir().unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut below = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    const TOKENS: &[&str] = &[
        "*",
        "[]",
        "map[string]",
        "map[int]",
        "time.Time",
        "time.Duration",
        "int",
        "uint8",
        "Item",
        "State",
        "string",
        "error",
        ", ",
        "(",
        ")",
        "{",
        "}",
        "\n",
        "type X struct{}\n",
        "func",
        "_",
        "package main\n",
        "package service\n",
        "a",
        "A",
        "Service",
    ];
    let (mut projects, mut diagnostics) = (0, 0);
    for fixture_name in ["catalog.go", "inventory.go", "addservice.go"] {
        let src: Vec<char> = fs::read_to_string(fixture(&format!("interfaces/{fixture_name}")))
            .unwrap()
            .chars()
            .collect();
        for _ in 0..120 {
            let mut text = src.clone();
            for _ in 0..=below(3) {
                let at = below(text.len() + 1);
                match below(3) {
                    0 if at < text.len() => {
                        let end = (at + below(12)).min(text.len());
                        text.drain(at..end);
                    }
                    _ => {
                        let token = TOKENS[below(TOKENS.len())];
                        for (i, c) in token.chars().enumerate() {
                            text.insert((at + i).min(text.len()), c);
                        }
                    }
                }
            }
            let text: String = text.into_iter().collect();
            let path = tmp.path().join("m.go");
            fs::write(&path, &text).unwrap();
            let settings = Settings {
                name: "fuzz".into(),
                module: "fuzz".into(),
                target: &kitgen::backend::go::Go,
                starter: false,
                source_names: vec!["internal/fuzz/m.go".into()],
                discovery: Vec::new(),
                table: Default::default(),
            };
            let source = Source::Code {
                path: path.clone(),
                shown_as: "internal/fuzz/m.go".into(),
            };
            let result = std::panic::catch_unwind(|| pipeline::render(&source, &settings));
            match result {
                Ok(Ok(_)) => projects += 1,
                Ok(Err(d)) => {
                    let d = d.to_string();
                    assert!(d.contains("m.go"), "a located diagnostic: {d}\n{text}");
                    diagnostics += 1;
                }
                Err(_) => panic!("kitgen panicked on:\n{text}"),
            }
        }
    }
    eprintln!("{projects} projects, {diagnostics} diagnostics");
    assert!(projects > 0 && diagnostics > 0);
}
