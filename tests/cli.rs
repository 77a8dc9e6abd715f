//! The command line as a user meets it: bad input gets a located diagnostic,
//! exit code 2 and nothing written; existing work is never touched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod support;
use support::{kitgen, stderr, stderr_golden, tree};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The whole of what kitgen printed to stderr, with the temporary directory
/// `tmp` and the fixtures named, for a golden.
fn golden(out: &Output, tmp: &Path) -> String {
    stderr_golden(out, &[("tmp", tmp), ("fixtures", &fixtures())])
}

fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
        .display()
        .to_string()
}

/// Runs `kitgen new x --proto <fixture>` in an empty directory and checks the
/// diagnostic, the exit code and that the directory stayed empty.
fn assert_rejected(proto: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(&["new", "x", "--proto", &fixture(proto)], tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{proto}: {err}");
    for want in expected {
        assert!(err.contains(want), "{proto}: want {want:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    let name = proto.trim_end_matches(".proto").replace('/', "_");
    insta::assert_snapshot!(format!("rejected_{name}"), golden(&out, tmp.path()));
    let written: Vec<PathBuf> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(written.is_empty(), "{proto}: wrote {written:?}");
}

#[test]
fn malformed_proto_is_located_at_the_end_of_the_file() {
    assert_rejected(
        "bad/malformed.proto",
        &[
            "error: malformed.proto:6:18: expected a message field",
            "but reached end of file",
            "6 |   string name = 1;",
        ],
    );
}

#[test]
fn unknown_import_is_located_at_the_import() {
    assert_rejected(
        "bad/unknown_import.proto",
        &[
            "error: unknown_import.proto:3:1: import 'does/not/exist.proto' not found",
            "help: add the directory that holds it with -I DIR",
        ],
    );
}

#[test]
fn unknown_type_is_located_at_its_use() {
    assert_rejected(
        "bad/unknown_type.proto",
        &[
            "error: unknown_type.proto:6:23: name 'Missing' is not defined",
            "^^^^^^^",
        ],
    );
}

#[test]
fn a_proto_without_services_is_refused() {
    assert_rejected(
        "bad/no_service.proto",
        &["error: no_service.proto: the input declares no service"],
    );
}

#[test]
fn an_http_rule_naming_a_missing_field_is_refused() {
    assert_rejected(
        "bad/bad_http_rule.proto",
        &[
            "error: bad_http_rule.proto:8:3: HTTP path '/v1/{nosuch}' binds 'nosuch': 'bad.Req' has no field 'nosuch'",
        ],
    );
}

#[test]
fn a_go_package_that_is_not_an_import_path_never_becomes_code() {
    assert_rejected(
        "bad/gopackage/main.proto",
        &["inject/inject.proto:6:1:", "is not a Go import path"],
    );
}

#[test]
fn names_protoc_gen_go_grpc_would_declare_twice_are_refused_where_they_are() {
    assert_rejected(
        "bad/name_clash.proto",
        &[
            "name_clash.proto:5:1:",
            "service 'clash.v1.Store' and message 'clash.v1.StoreClient'",
            "'StoreClient'",
        ],
    );
}

#[test]
fn two_rpcs_on_one_route_are_refused() {
    assert_rejected(
        "bad/http_invalid.proto",
        &[
            "http_invalid.proto:12:3:",
            "matches the same requests as a route of invalid.v1.Shelf.Get",
        ],
    );
}

/// A proto whose one RPC, on line 5, has the google.api.http rule `rule`;
/// its message M has `fields`.
fn rule_proto(rule: &str, fields: &str) -> String {
    format!(
        "syntax = \"proto3\";\npackage r.v1;\nimport \"google/api/annotations.proto\";\n\
         service S {{\n  rpc X(M) returns (M) {{ option (google.api.http) = {{ {rule} }}; }}\n}}\n\
         message M {{ {fields} }}\n"
    )
}

/// A proto whose rule nests `depth` additional_bindings.
fn nested_rule_proto(depth: usize) -> String {
    let rule = format!(
        "get: \"/v1/a\" {}{}",
        "additional_bindings { get: \"/v1/b\" ".repeat(depth),
        "}".repeat(depth)
    );
    rule_proto(&rule, "string name = 1;")
}

/// Each invalid google.api.http rule is refused at its RPC (file:line:col,
/// exit 2, nothing written).
#[test]
fn invalid_http_rules_are_refused() {
    let cases = [
        (r#"get: "/v1/x" body: "*""#, "has a body"),
        (r#"delete: "/v1/x" body: "*""#, "has a body"),
        (
            r#"post: "/v1/x" body: "*" response_body: "nope""#,
            "has no field 'nope'",
        ),
        (r#"get: "/healthz""#, "would take /healthz"),
        (r#"get: "/{name}""#, "would take /healthz"),
        (r#"post: "/metrics" body: "*""#, "would take /metrics"),
        (
            r#"custom: {kind: "MY VERB" path: "/v1/x"}"#,
            "not an HTTP method",
        ),
        (r#"get: "/v1/a b""#, "unexpected ' '"),
        (r#"get: "/v1/{name=**}/{id=**}""#, "only one '**'"),
        (
            r#"get: "/v1/a" additional_bindings {get: "/v1/b" additional_bindings {get: "/v1/c"}}"#,
            "may not have additional_bindings",
        ),
    ];
    let mut goldens = String::new();
    for (rule, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let proto = tmp.path().join("rule.proto");
        fs::write(&proto, rule_proto(rule, "string name = 1; string id = 2;")).unwrap();
        let out = kitgen(&["new", "x", "--proto", "rule.proto"], tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{rule}: {err}");
        assert!(err.contains("rule.proto:5:3:"), "{rule}: {err}");
        assert!(err.contains(want), "{rule}: want {want:?} in {err}");
        assert!(!tmp.path().join("x").exists(), "{rule}: wrote a project");
        goldens.push_str(&format!("--- {rule}\n{}\n", golden(&out, tmp.path())));
    }
    insta::assert_snapshot!("invalid_http_rules", goldens);
    // Nesting past what the descriptor decoder takes is refused, not a panic.
    let tmp = tempfile::tempdir().unwrap();
    let depth = 3000;
    fs::write(tmp.path().join("deep.proto"), nested_rule_proto(depth)).unwrap();
    let out = kitgen(&["new", "x", "--proto", "deep.proto"], tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("deep.proto:5:"), "{err}");
    assert!(err.contains("nesting deeper than"), "{err}");
    // Within what the parser takes, the rule itself is refused.
    fs::write(tmp.path().join("deep.proto"), nested_rule_proto(40)).unwrap();
    let out = kitgen(&["new", "x", "--proto", "deep.proto"], tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("deep.proto:5:3: google.api.http rule nests more than"),
        "{err}"
    );
    insta::assert_snapshot!("http_rule_nesting", golden(&out, tmp.path()));
}

#[test]
fn editions_beyond_proto3_semantics_are_refused_with_the_reason() {
    assert_rejected(
        "bad/explicit_edition.proto",
        &[
            "error: explicit_edition.proto:1:1: edition 2023 files need `option features.field_presence = IMPLICIT;`",
        ],
    );
}

#[test]
fn rpcs_whose_handler_fields_clash_are_refused() {
    assert_rejected(
        "bad/handler_clash.proto",
        &[
            "handler_clash.proto:9:3: rpc 'clash.Things.Get_' and rpc 'clash.Things.Get' both become the Go name 'thingsGRPCServer.get' in package transport",
        ],
    );
}

#[test]
fn a_missing_proto_file_is_bad_input() {
    assert_rejected("bad/nope.proto", &["file '", "nope.proto' not found"]);
}

#[test]
fn project_names_that_are_not_identifiers_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, why) in [
        (
            "my-svc",
            "\"my-svc\" cannot be a project name: '-' is not allowed",
        ),
        ("9lives", "must start with a lowercase letter"),
        ("type", "Go keyword"),
    ] {
        let out = kitgen(&["new", name], tmp.path());
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(why), "{name}: {}", stderr(&out));
        insta::assert_snapshot!(format!("project_name_{name}"), golden(&out, tmp.path()));
    }
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn discovery_backends_are_chosen_at_new_and_kept_in_kitgen_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(
        &["new", "addsvc", "--discovery", "etcd,zookeeper"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown discovery backend \"zookeeper\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing written"
    );

    let out = kitgen(&["new", "addsvc", "--discovery", "etcd"], tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tmp.path().join("addsvc");
    let toml = fs::read_to_string(dir.join("kitgen.toml")).unwrap();
    assert!(toml.contains("discovery = [\"etcd\"]"), "{toml}");
    assert!(dir.join("pkg/discovery/etcd.go").exists());
    assert!(!dir.join("pkg/discovery/consul.go").exists());
    assert!(
        !fs::read_to_string(dir.join("go.mod"))
            .unwrap()
            .contains("consul")
    );

    // Choosing Consul too in kitgen.toml generates it; a typo is located.
    fs::write(
        dir.join("kitgen.toml"),
        toml.replace("[\"etcd\"]", "[\"etcd\", \"consul\"]"),
    )
    .unwrap();
    let out = kitgen(&["generate"], &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("pkg/discovery/consul.go").exists());
    assert!(
        fs::read_to_string(dir.join("go.mod"))
            .unwrap()
            .contains("github.com/hashicorp/consul/api")
    );
    fs::write(
        dir.join("kitgen.toml"),
        toml.replace("[\"etcd\"]", "[\"etcd\", \"consl\"]"),
    )
    .unwrap();
    let out = kitgen(&["generate"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("kitgen.toml:"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown discovery backend \"consl\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_non_empty_directory_is_never_touched_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("addsvc");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = kitgen(&["new", "addsvc"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not empty; pass --force to write into it"),
        "{}",
        stderr(&out)
    );
    insta::assert_snapshot!("non_empty_directory", golden(&out, tmp.path()));
    let entries: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("notes.txt")]);
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn force_writes_beside_existing_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("addsvc");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = kitgen(&["new", "addsvc", "--force"], tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert!(dir.join("pkg/service/service.go").is_file());
    assert!(dir.join("pb/addsvc.pb.go").is_file());
}

#[test]
fn dry_run_lists_files_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(&["new", "addsvc", "--dry-run"], tmp.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("would write"), "{stdout}");
    assert!(stdout.contains("pkg/service/add.go  (yours)"), "{stdout}");
    assert!(
        stdout.contains("pb/addsvc_grpc.pb.go  (generated)"),
        "{stdout}"
    );
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn dir_and_module_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(
        &[
            "new",
            "addsvc",
            "--dir",
            "nested/place",
            "--module",
            "github.com/acme/addsvc",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let go_mod = fs::read_to_string(tmp.path().join("nested/place/go.mod")).unwrap();
    assert!(
        go_mod.starts_with("module github.com/acme/addsvc\n"),
        "{go_mod}"
    );
    let main = fs::read_to_string(tmp.path().join("nested/place/cmd/addsvc/main.go")).unwrap();
    assert!(main.contains("\"github.com/acme/addsvc/pkg/server\""));
}

#[test]
fn include_without_proto_is_bad_usage() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(&["new", "addsvc", "-I", "."], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-I needs a --proto file"));
    insta::assert_snapshot!("include_without_proto", golden(&out, tmp.path()));
}

#[test]
fn unknown_flags_are_bad_usage_and_help_documents_every_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(&["new", "addsvc", "--bogus"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("unknown_flag", golden(&out, tmp.path()));
    let help = kitgen(&["new", "--help"], tmp.path());
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--proto <FILE>",
        "-I, --include <DIR>",
        "--module <PATH>",
        "--dir <DIR>",
        "--force",
        "--dry-run",
    ] {
        assert!(text.contains(flag), "help lacks {flag}:\n{text}");
    }
}

#[test]
fn proto_names_resolve_against_include_roots_like_protoc() {
    // With -I, the file's name is relative to the root that holds it, so the
    // import of acme/common/v1/money.proto resolves.
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(
        &[
            "new",
            "shop",
            "--proto",
            &fixture("imports/acme/orders/v1/orders.proto"),
            "-I",
            &fixture("imports"),
            "--dry-run",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pb/commonv1/money.pb.go"), "{stdout}");
    assert!(stdout.contains("pb/orders_grpc.pb.go"), "{stdout}");
    // Without -I the file's own directory is the root, so the import fails, located.
    let out = kitgen(
        &[
            "new",
            "shop",
            "--proto",
            &fixture("imports/acme/orders/v1/orders.proto"),
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("orders.proto:6:1: import 'acme/common/v1/money.proto' not found"),
        "{}",
        stderr(&out)
    );
    insta::assert_snapshot!("import_without_include_root", golden(&out, tmp.path()));
}

#[test]
fn without_go_or_plugins_the_error_says_what_to_install() {
    let tmp = tempfile::tempdir().unwrap();
    let out = support::run_kitgen(
        support::kitgen_command(&["new", "addsvc"], tmp.path())
            .env_clear()
            .env("HOME", tmp.path())
            .env("PATH", tmp.path().join("empty-path"))
            .env("KITGEN_CACHE_DIR", tmp.path().join("cache")),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("install Go from https://go.dev/dl"), "{err}");
    assert!(
        err.contains("protoc-gen-go v1.36.12 and protoc-gen-go-grpc v1.6.2 on PATH"),
        "{err}"
    );
    assert!(!tmp.path().join("addsvc").exists(), "nothing is written");
}

/// Writes `text` as `t.proto` in a fresh directory and runs `kitgen new x`
/// on it: the diagnostic must hold each of `want`, exit 2, nothing written.
/// Returns the whole of stderr, for a golden.
fn assert_proto_rejected(text: &str, want: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("t.proto"), text).unwrap();
    let out = kitgen(&["new", "x", "--proto", "t.proto"], tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
    for w in want {
        assert!(err.contains(w), "want {w:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!tmp.path().join("x").exists(), "{text}: wrote a project");
    golden(&out, tmp.path())
}

#[test]
fn rules_binding_two_fields_of_one_oneof_are_refused() {
    let proto = |rule: &str| {
        format!(
            "syntax = \"proto3\";\npackage o.v1;\nimport \"google/api/annotations.proto\";\n\
             service S {{\n  rpc X(M) returns (M) {{ option (google.api.http) = {{ {rule} }}; }}\n}}\n\
             message M {{ oneof key {{ string name = 1; string id = 2; N n = 3; }} }}\n\
             message N {{ oneof k {{ string a = 1; string b = 2; }} }}\n"
        )
    };
    let goldens = [
        assert_proto_rejected(
            &proto(r#"get: "/v1/{name}/{id}""#),
            &[
                "t.proto:5:3:",
                "'name' and 'id' are both in oneof 'key' of 'o.v1.M': a request sets only one of them",
            ],
        ),
        assert_proto_rejected(
            &proto(r#"post: "/v1/{id}" body: "n""#),
            &["t.proto:5:3:", "'id' and 'n' are both in oneof 'key'"],
        ),
        assert_proto_rejected(
            &proto(r#"get: "/v1/{n.a}/{n.b}""#),
            &[
                "t.proto:5:3:",
                "'n.a' and 'n.b' are both in oneof 'k' of 'o.v1.N'",
            ],
        ),
    ];
    insta::assert_snapshot!("oneof_rules", goldens.join("\n"));
}

#[test]
fn a_oneof_wrapper_type_taken_by_a_message_is_refused() {
    // protoc-gen-go declares Req_Id for the oneof field id: a top-level
    // message named Req_Id would be declared twice.
    let golden = assert_proto_rejected(
        "syntax = \"proto3\";\npackage o.v1;\n\
         service S {\n  rpc X(Req) returns (Req);\n}\n\
         message Req { oneof key { string id = 1; } }\n\
         message Req_Id { string v = 1; }\n",
        &[
            "t.proto:",
            "'Req_Id'",
            "oneof field 'o.v1.Req.id'",
            "message 'o.v1.Req_Id'",
        ],
    );
    insta::assert_snapshot!("oneof_wrapper_taken", golden);
}

/// A project made from the overrides fixture without overrides, and the
/// path of its kitgen.toml.
fn overrides_project(tmp: &Path) -> PathBuf {
    let out = kitgen(
        &[
            "new",
            "store",
            "--proto",
            &fixture("overrides/acme/store/v1/store.proto"),
            "-I",
            &fixture("overrides"),
            "--module",
            "example.com/store",
        ],
        tmp,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    tmp.join("store")
}

#[test]
fn go_package_overrides_in_kitgen_toml_are_honoured_by_generate_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let project = overrides_project(tmp.path());
    let dir = project.to_str().unwrap();
    assert!(project.join("pb/commonv1/common.pb.go").exists());
    assert!(project.join("pb/typepb/money.pb.go").exists());
    let config = project.join("kitgen.toml");
    let original = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!(
            "{original}\n[go.go_package]\n\
             \"acme/common/v1/common.proto\" = \"example.com/store/internal/commonpb\"\n\
             \"google/type/money.proto\" = \"google.golang.org/genproto/googleapis/type/money;money\"\n"
        ),
    )
    .unwrap();
    // Stale until generated.
    let out = kitgen(&["check", "--dir", dir], tmp.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = kitgen(&["generate", "--dir", dir], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(project.join("internal/commonpb/common.pb.go").exists());
    assert!(!project.join("pb/commonv1").exists());
    // Imported from genproto, not generated; go.mod requires it.
    assert!(!project.join("pb/typepb").exists());
    let types = fs::read_to_string(project.join("pb/types.pb.go")).unwrap();
    assert!(
        types.contains("\"google.golang.org/genproto/googleapis/type/money\""),
        "{types}"
    );
    let go_mod = fs::read_to_string(project.join("go.mod")).unwrap();
    assert!(go_mod.contains("google.golang.org/genproto v"), "{go_mod}");
    let out = kitgen(&["check", "--dir", dir], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Each hostile or wrong `[go.go_package]` entry is refused at the key or
/// value that is wrong (kitgen.toml:line:col), exit 2, the project unchanged.
#[test]
fn bad_go_package_overrides_are_refused_where_they_are_written() {
    let tmp = tempfile::tempdir().unwrap();
    let project = overrides_project(tmp.path());
    let dir = project.to_str().unwrap();
    let config = project.join("kitgen.toml");
    let original = fs::read_to_string(&config).unwrap();
    let line = original.lines().count() + 3;
    let m = "example.com/store";
    let cases: Vec<(String, &str)> = vec![
        (
            r#""nope/x.proto" = "example.com/x""#.into(),
            "none of the project's proto files",
        ),
        (
            r#""google/protobuf/descriptor.proto" = "example.com/ts""#.into(),
            "belongs to the protobuf runtime",
        ),
        (
            r#""acme/common/v1/common.proto" = "../outside;x""#.into(),
            "is not a Go import path",
        ),
        (
            r#""acme/common/v1/common.proto" = "/abs/common""#.into(),
            "is not a Go import path",
        ),
        (
            r#""acme/common/v1/common.proto" = "example.com/a,Mfoo.proto=evil""#.into(),
            "is not a Go import path",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/internal/type""#),
            "cannot be a Go package name",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/internal/c;main""#),
            "cannot be a Go package name",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/pkg/service""#),
            "a package kitgen writes itself",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/cmd/storecli;c""#),
            "a package kitgen writes itself",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/pb/common""#),
            "inside pb/",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/vendor/common""#),
            "treats specially",
        ),
        (
            r#""acme/store/v1/store.proto" = "google.golang.org/genproto/googleapis/type/money""#
                .into(),
            "declares services",
        ),
        // A local file pointed at the package a generated file declares.
        (
            r#""acme/common/v1/common.proto" = "example.com/acme/store/v1""#.into(),
            "the program would link two copies of 'acme/store/v1/store.proto'",
        ),
        // An imported file that imports a generated one.
        (
            format!(
                "\"acme/store/v1/types.proto\" = \"example.com/other/types\"\n\
                 \"google/type/money.proto\" = \"{m}/internal/money\""
            ),
            "whose Go code the project generates",
        ),
        // Two overrides: one import path, two package names.
        (
            format!(
                "\"acme/common/v1/common.proto\" = \"{m}/internal/shared;a\"\n\
                 \"google/type/money.proto\" = \"{m}/internal/shared;b\""
            ),
            "one import path holds one package",
        ),
        // The same, for two imported packages.
        (
            "\"acme/store/v1/types.proto\" = \"example.com/other/x;a\"\n\
             \"google/type/money.proto\" = \"example.com/other/x;b\""
                .into(),
            "one import path holds one package",
        ),
        // A package where kitgen writes a file.
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/go.mod/common""#),
            "where kitgen writes the file go.mod",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/kitgen.lock;lock""#),
            "where kitgen writes the file kitgen.lock",
        ),
        (
            format!(r#""acme/common/v1/common.proto" = "{m}/README.md;readme""#),
            "where kitgen writes the file README.md",
        ),
        (
            r#""acme/common/v1/common.proto" = "common""#.into(),
            "with a '.' or a '/'",
        ),
    ];
    let before = tree(&project);
    let mut goldens = String::new();
    for (entry, want) in cases {
        fs::write(&config, format!("{original}\n[go.go_package]\n{entry}\n")).unwrap();
        let before_config = tree(&project);
        for command in ["generate", "check"] {
            let out = kitgen(&[command, "--dir", dir], tmp.path());
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{entry}: {err}");
            assert!(err.contains(want), "{entry}: want {want:?} in:\n{err}");
            assert!(err.contains("kitgen.toml:"), "{entry}: {err}");
            // The last entry is the culprit where two are given.
            let at = if entry.contains('\n') && !want.contains("two copies") {
                line + 1
            } else {
                line
            };
            let located = err.contains(&format!("kitgen.toml:{at}:"))
                || err.contains(&format!("kitgen.toml:{}:", at - 1));
            assert!(located, "{entry}: not at line {at}:\n{err}");
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(
                tree(&project),
                before_config,
                "{entry}: changed the project"
            );
            if command == "generate" {
                goldens.push_str(&format!("--- {entry}\n{}\n", golden(&out, tmp.path())));
            }
        }
    }
    insta::assert_snapshot!("bad_go_package_overrides", goldens);
    fs::write(&config, &original).unwrap();
    assert_eq!(tree(&project), before);
}

#[test]
fn go_package_flags_of_new_are_checked_and_kept_in_kitgen_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let proto = fixture("overrides/acme/store/v1/store.proto");
    let include = fixture("overrides");
    let base = ["new", "store", "--proto", &proto, "-I", &include];
    let mut goldens = String::new();
    for (flag, want) in [
        ("acme/common/v1/common.proto", "expected FILE=IMPORT_PATH"),
        (
            "acme/common/v1/common.proto=store/internal/c;type",
            "--go-package \"acme/common/v1/common.proto=store/internal/c;type\": go_package",
        ),
        ("nope.proto=store/x", "none of the project's proto files"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--go-package", flag]);
        let out = kitgen(&args, tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains(want), "{flag}: want {want:?} in:\n{err}");
        assert!(
            !tmp.path().join("store").exists(),
            "{flag}: wrote a project"
        );
        goldens.push_str(&format!("--- {flag}\n{}\n", golden(&out, tmp.path())));
    }
    insta::assert_snapshot!("bad_go_package_flags", goldens);
    let mut args = base.to_vec();
    args.extend([
        "--go-package",
        "acme/common/v1/common.proto=store/internal/commonpb",
    ]);
    let out = kitgen(&args, tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let toml = fs::read_to_string(tmp.path().join("store/kitgen.toml")).unwrap();
    assert!(
        toml.contains(
            "[go.go_package]\n\"acme/common/v1/common.proto\" = \"store/internal/commonpb\""
        ),
        "{toml}"
    );
    assert!(
        tmp.path()
            .join("store/internal/commonpb/common.pb.go")
            .exists()
    );
    let out = kitgen(&["check", "--dir", "store"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Placements the plugins or the go command cannot take: two files of one
/// name in one package, and Go packages that would import each other.
#[test]
fn go_package_overrides_that_collide_or_cycle_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = tmp.path().join("api").join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    write(
        "a/x.proto",
        "syntax = \"proto3\";\npackage a;\nmessage A {}\n",
    );
    write(
        "b/x.proto",
        "syntax = \"proto3\";\npackage b;\nmessage B {}\n",
    );
    write(
        "s.proto",
        "syntax = \"proto3\";\npackage s;\nimport \"a/x.proto\";\nimport \"b/x.proto\";\n\
         import \"p/one.proto\";\nimport \"q/two.proto\";\n\
         service S { rpc Get(a.A) returns (b.B); }\n",
    );
    // one.proto (p) imports q's three.proto; two.proto (q) imports p's four.proto.
    write(
        "p/four.proto",
        "syntax = \"proto3\";\npackage p;\nmessage Four {}\n",
    );
    write(
        "q/three.proto",
        "syntax = \"proto3\";\npackage q;\nmessage Three {}\n",
    );
    write(
        "p/one.proto",
        "syntax = \"proto3\";\npackage p;\nimport \"q/three.proto\";\nmessage One { q.Three t = 1; }\n",
    );
    write(
        "q/two.proto",
        "syntax = \"proto3\";\npackage q;\nimport \"p/four.proto\";\nmessage Two { p.Four f = 1; }\n",
    );
    let goldens = std::cell::RefCell::new(Vec::new());
    let run = |flags: &[&str]| {
        let mut args = vec!["new", "x", "--proto", "api/s.proto", "-I", "api"];
        for f in flags {
            args.extend(["--go-package", f]);
        }
        let out = kitgen(&args, tmp.path());
        assert!(!tmp.path().join("x").exists(), "wrote a project");
        goldens.borrow_mut().push(golden(&out, tmp.path()));
        (out.status.code(), stderr(&out))
    };
    let (code, err) = run(&["a/x.proto=x/internal/x", "b/x.proto=x/internal/x"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "'a/x.proto' and 'b/x.proto' would both be generated as x.pb.go in x/internal/x"
        ),
        "{err}"
    );
    // p and q are one package each: p/one imports q, q/two imports p.
    let (code, err) = run(&[
        "p/one.proto=x/internal/p",
        "p/four.proto=x/internal/p",
        "q/two.proto=x/internal/q",
        "q/three.proto=x/internal/q",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("would import each other"), "{err}");
    assert!(
        err.contains("x/internal/p → x/internal/q → x/internal/p"),
        "{err}"
    );
    insta::assert_snapshot!("go_packages_collide_or_cycle", goldens.take().join("\n"));
}

/// Proto file names that protoc-gen-go's output or parameter cannot take.
#[test]
fn proto_file_names_the_plugins_or_go_cannot_take_are_refused() {
    let mut goldens = Vec::new();
    for (name, want) in [
        (
            "a,Mx=y.proto",
            "error: a,Mx=y.proto: the file name 'a,Mx=y.proto' cannot be given to protoc-gen-go",
        ),
        (
            "s_grpc.proto",
            "'s_grpc.proto' and 's.proto' would both be generated as s_grpc.pb.go",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(
            tmp.path().join(name),
            "syntax = \"proto3\";\npackage c;\nmessage M {}\n",
        )
        .unwrap();
        fs::write(
            tmp.path().join("s.proto"),
            format!(
                "syntax = \"proto3\";\npackage c;\nimport \"{name}\";\nservice S {{ rpc Get(M) returns (M); }}\n"
            ),
        )
        .unwrap();
        let out = kitgen(&["new", "x", "--proto", "s.proto"], tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: want {want:?} in:\n{err}");
        assert!(!tmp.path().join("x").exists(), "{name}: wrote a project");
        goldens.push(golden(&out, tmp.path()));
    }
    // Names Go reads as a build constraint or ignores are renamed (see
    // README, "Names"), and a name that takes the renamed one is refused.
    let tmp = tempfile::tempdir().unwrap();
    for (name, message) in [("arm_arm.proto", "Arm"), ("_hidden.proto", "Hidden")] {
        fs::write(
            tmp.path().join(name),
            format!("syntax = \"proto3\";\npackage c;\nmessage {message} {{}}\n"),
        )
        .unwrap();
    }
    fs::write(
        tmp.path().join("s.proto"),
        "syntax = \"proto3\";\npackage c;\nimport \"arm_arm.proto\";\nimport \"_hidden.proto\";\n\
         service S { rpc Get(Arm) returns (Hidden); }\n",
    )
    .unwrap();
    let out = kitgen(&["new", "x", "--proto", "s.proto"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(tmp.path().join("x/pb/arm_arm_pb.pb.go").exists());
    assert!(tmp.path().join("x/pb/pb_hidden.pb.go").exists());
    assert!(!tmp.path().join("x/pb/arm_arm.pb.go").exists());
    fs::write(
        tmp.path().join("arm_arm_pb.proto"),
        "syntax = \"proto3\";\npackage c;\nmessage Other {}\n",
    )
    .unwrap();
    fs::write(
        tmp.path().join("s.proto"),
        "syntax = \"proto3\";\npackage c;\nimport \"arm_arm.proto\";\nimport \"arm_arm_pb.proto\";\n\
         service S { rpc Get(Arm) returns (Other); }\n",
    )
    .unwrap();
    let out = kitgen(&["new", "y", "--proto", "s.proto"], tmp.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("would both be generated as arm_arm_pb.pb.go"),
        "{err}"
    );
    goldens.push(golden(&out, tmp.path()));
    insta::assert_snapshot!("proto_file_names_refused", goldens.join("\n"));
}

#[test]
fn two_services_of_one_go_name_are_refused_at_the_second() {
    let golden = assert_proto_rejected(
        "syntax = \"proto3\";\npackage x;\n\
         service Library {\n  rpc Get(M) returns (M);\n}\n\
         service LibraryService {\n  rpc Put(M) returns (M);\n}\n\
         message M {}\n",
        &[
            "error: t.proto:6:1: services 'x.Library' and 'x.LibraryService' both map to the Go name 'LibraryService'",
        ],
    );
    insta::assert_snapshot!("two_services_one_go_name", golden);
}

/// Refusals of a project's own files name kitgen.toml or kitgen.lock with
/// the line and column of what is wrong; nothing is changed.
#[test]
fn bad_project_files_are_refused_at_their_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let out = kitgen(&["new", "addsvc"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let project = tmp.path().join("addsvc");
    let config = fs::read_to_string(project.join("kitgen.toml")).unwrap();
    let lock = fs::read_to_string(project.join("kitgen.lock")).unwrap();
    let line_of = |text: &str, prefix: &str| {
        text.lines()
            .position(|l| l.starts_with(prefix))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    let target = line_of(&config, "target");
    let source = line_of(&config, "[source]");
    let format = line_of(&lock, "format");
    let cases: Vec<(&str, String, String)> = vec![
        (
            "kitgen.toml",
            config.replace("target = \"go\"", "target = \"cobol\""),
            format!("kitgen.toml:{target}:10: unknown target 'cobol'"),
        ),
        (
            "kitgen.toml",
            config.replace("target = \"go\"\n", "target = \"go\"\ncobol = 1\n"),
            format!("kitgen.toml:{}:1: unknown field `cobol`", target + 1),
        ),
        (
            "kitgen.toml",
            config.replace("target = \"go\"\n", "target = \"go\"\ngo = 1\n"),
            format!("kitgen.toml:{}:1: `go` must be a table ([go])", target + 1),
        ),
        (
            "kitgen.toml",
            format!("{config}\n[rust]\nedition = \"2024\"\n"),
            format!(
                "kitgen.toml:{}:2: unknown field `rust`",
                config.lines().count() + 2
            ),
        ),
        (
            "kitgen.toml",
            format!("{config}\n[go]\ngo_packages = {{}}\n"),
            format!(
                "kitgen.toml:{}:1: invalid kitgen.toml: unknown field `go_packages`",
                config.lines().count() + 3
            ),
        ),
        (
            "kitgen.toml",
            config.replace("protos = [\"proto/addsvc.proto\"]\n", ""),
            format!(
                "kitgen.toml:{source}:1: kitgen.toml must name either [source] protos or [source] from"
            ),
        ),
        (
            "kitgen.lock",
            lock.replacen("format = ", "format = \"x\" #", 1),
            format!("kitgen.lock:{format}:"),
        ),
        (
            "kitgen.lock",
            lock.replacen("format = ", "format = 999 #", 1),
            format!("kitgen.lock:{format}:1: kitgen.lock was written by"),
        ),
    ];
    let before = tree(&project);
    let mut goldens = String::new();
    for (file, text, want) in cases {
        let original = fs::read_to_string(project.join(file)).unwrap();
        fs::write(project.join(file), &text).unwrap();
        let changed = tree(&project);
        let out = kitgen(&["generate", "--dir", "addsvc"], tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(&want), "{file}: want {want:?} in:\n{err}");
        assert_eq!(tree(&project), changed, "{file}: changed the project");
        goldens.push_str(&format!("--- {file}\n{}\n", golden(&out, tmp.path())));
        fs::write(project.join(file), original).unwrap();
    }
    insta::assert_snapshot!("bad_project_files", goldens);
    assert_eq!(tree(&project), before);
}

/// `kitgen new --lang` picks the target; a target this kitgen does not
/// have is refused before anything is written, and so is kitgen.toml's
/// `target` naming one, located at its value.
#[test]
fn lang_names_a_target_this_kitgen_has() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = |lang: &str, want: &str| {
        let out = kitgen(&["new", "x", "--lang", lang], tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{lang}: {err}");
        assert!(err.contains(want), "{lang}: want {want:?} in:\n{err}");
        assert!(
            err.contains("help: the only target today is \"go\"")
                || err.contains("help: the targets are"),
            "{err}"
        );
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "{lang}: wrote"
        );
    };
    refused("cobol", "error: --lang cobol: unknown target 'cobol'");
    refused("", "error: --lang : unknown target ''");
    for planned in kitgen::backend::PLANNED {
        refused(
            planned,
            &format!(
                "error: --lang {planned}: the {planned} target is not available in this kitgen yet"
            ),
        );
    }
    let out = kitgen(&["new", "x", "--lang", "go", "--dry-run"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "dry run wrote"
    );

    let out = kitgen(&["new", "x"], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let toml = tmp.path().join("x/kitgen.toml");
    let config = fs::read_to_string(&toml).unwrap();
    assert!(config.contains("target = \"go\"\n"), "{config}");
    for planned in kitgen::backend::PLANNED {
        fs::write(
            &toml,
            config.replace("target = \"go\"", &format!("target = \"{planned}\"")),
        )
        .unwrap();
        let before = tree(&tmp.path().join("x"));
        let out = kitgen(&["generate", "--dir", "x"], tmp.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "kitgen.toml:6:10: the {planned} target is not available in this kitgen yet"
            )),
            "{err}"
        );
        assert_eq!(tree(&tmp.path().join("x")), before, "changed the project");
    }
}

/// Files of one proto package whose imports would make its Go package
/// import itself through another (grafeas v1beta1's common.proto) are
/// grouped by the go_package each declares instead.
#[test]
fn a_proto_package_split_by_go_package_where_one_go_package_would_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = tmp.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    write(
        "a/common.proto",
        "syntax = \"proto3\";\npackage a;\noption go_package = \"example.com/a/common;common\";\nmessage Common {}\n",
    );
    write(
        "b/b.proto",
        "syntax = \"proto3\";\npackage b;\nimport \"a/common.proto\";\noption go_package = \"example.com/b;b\";\nmessage B { a.Common c = 1; }\n",
    );
    write(
        "a/a.proto",
        "syntax = \"proto3\";\npackage a;\nimport \"b/b.proto\";\noption go_package = \"example.com/a;a\";\nservice S { rpc Get(b.B) returns (b.B); }\n",
    );
    let out = kitgen(&["new", "x", "--proto", "a/a.proto", "-I", "."], tmp.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let project = tmp.path().join("x");
    assert!(project.join("pb/a.pb.go").exists());
    assert!(project.join("pb/b/b.pb.go").exists());
    assert!(project.join("pb/common/common.pb.go").exists());
}
