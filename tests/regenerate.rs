//! Regeneration scenarios: a real project, real user edits, a real proto
//! edit, then `kitgen generate`. Each checks that every line the user wrote is
//! still there (or inside a reported conflict), what `kitgen check` says, and
//! that the Go project still builds, vets and passes its tests.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

mod support;
use support::{MULTIPLY_RPC, PROTO, Project, kitgen, stderr, stdout};

impl Project {
    /// `kitgen new addsvc`: the starter, whose proto lives in the project.
    fn new() -> Project {
        Project::with_secret("secret\n")
    }

    fn kitgen(&self, args: &[&str]) -> Output {
        kitgen(args, &self.dir)
    }

    fn generate(&self) -> Output {
        self.kitgen(&["generate"])
    }

    fn check(&self) -> Output {
        self.kitgen(&["check"])
    }

    /// Every file and its contents, for before/after comparisons.
    fn tree(&self) -> Tree {
        Tree(
            support::read_tree(&self.dir)
                .into_iter()
                .map(|(path, bytes)| {
                    (
                        path.to_string_lossy().replace('\\', "/"),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// gofmt, vet, build and test: the bar every generated project meets.
    fn assert_go_ok(&self) {
        let gofmt = run(Command::new("gofmt")
            .args(["-l", "."])
            .current_dir(&self.dir));
        assert!(
            gofmt.status.success() && gofmt.stdout.is_empty(),
            "gofmt -l: {}",
            stdout(&gofmt)
        );
        for args in [&["vet", "./..."][..], &["test", "./..."][..]] {
            let out = run(Command::new("go").args(args).current_dir(&self.dir));
            assert!(
                out.status.success(),
                "go {args:?}:\n{}{}",
                stdout(&out),
                stderr(&out)
            );
        }
    }
}

/// A project's files, compared by listing the paths that differ.
#[derive(PartialEq, Eq)]
struct Tree(BTreeMap<String, String>);

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} files", self.0.len())
    }
}

#[track_caller]
fn assert_same(after: &Tree, before: &Tree, why: &str) {
    let changed: Vec<&String> = after
        .0
        .keys()
        .chain(before.0.keys())
        .filter(|k| after.0.get(*k) != before.0.get(*k))
        .collect();
    assert!(changed.is_empty(), "{why}: changed {changed:?}");
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("command runs")
}

#[test]
fn check_is_clean_on_a_new_project_and_generate_twice_is_a_no_op() {
    let p = Project::new();
    let check = p.check();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(stdout(&check).is_empty(), "a clean check prints no diff");
    p.user_edits();
    let before = p.tree();
    let first = p.generate();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("up to date"), "{}", stdout(&first));
    assert_same(
        &p.tree(),
        &before,
        "generate changed a project that matches its sources",
    );
    let second = p.generate();
    assert!(second.status.success());
    assert_same(&p.tree(), &before, "the second generate changed something");
    assert_eq!(p.check().status.code(), Some(0));
}

#[test]
fn adding_an_rpc_adds_its_stub_and_keeps_user_code() {
    let p = Project::new();
    p.user_edits();
    p.add_multiply();
    let check = p.check();
    assert_eq!(
        check.status.code(),
        Some(1),
        "check must fail after a proto edit"
    );
    let diff = stdout(&check);
    assert!(diff.contains("+++ b/pkg/service/service.go"), "{diff}");
    assert!(
        diff.contains(
            "+\tMultiply(ctx context.Context, req *pb.SumRequest) (*pb.SumResponse, error)"
        ),
        "{diff}"
    );
    let out = p.generate();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("merged  pkg/service/add.go"),
        "{}",
        stdout(&out)
    );
    assert!(
        p.read("pkg/service/add.go")
            .contains("func (s *addService) Multiply(")
    );
    assert!(
        p.read("pkg/service/middleware.go")
            .contains("func (mw addLogging) Multiply(")
    );
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn removing_an_rpc_the_user_never_touched_removes_it_everywhere() {
    let p = Project::new();
    p.add_multiply();
    assert!(p.generate().status.success());
    p.user_edits();
    p.edit(PROTO, MULTIPLY_RPC, "");
    let out = p.generate();
    assert!(out.status.success(), "{}", stderr(&out));
    for file in [
        "pkg/service/add.go",
        "pkg/service/middleware.go",
        "pkg/service/service.go",
    ] {
        assert!(
            !p.read(file).contains("Multiply"),
            "{file} still has Multiply"
        );
    }
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn removing_an_rpc_the_user_implemented_is_a_reported_conflict() {
    let p = Project::new();
    p.add_multiply();
    assert!(p.generate().status.success());
    p.edit(
        "pkg/service/add.go",
        "\treturn nil, Errorf(CodeUnimplemented, \"Multiply is not implemented yet\")",
        "\t// user: my multiplication\n\treturn &pb.SumResponse{Result: req.GetA() * req.GetB()}, nil",
    );
    p.edit(PROTO, MULTIPLY_RPC, "");
    let out = p.generate();
    assert_eq!(out.status.code(), Some(1), "a conflict exits 1");
    assert!(
        stdout(&out).contains("CONFLICT  pkg/service/add.go"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("pkg/service/add.go"),
        "{}",
        stderr(&out)
    );
    let text = p.read("pkg/service/add.go");
    let start = text.find("<<<<<<< ours").expect("conflict markers");
    let end = text.find(">>>>>>> theirs").expect("conflict markers");
    let mine = text
        .find("// user: my multiplication")
        .expect("the user's code is kept");
    assert!(
        start < mine && mine < end,
        "the user's code sits inside the conflict:\n{text}"
    );
    // Unresolved markers keep check failing.
    assert_eq!(p.check().status.code(), Some(1));
    // Resolving by dropping the method makes the project whole again.
    let resolved = {
        let head = &text[..start];
        let tail = &text[end..];
        let tail = &tail[tail.find('\n').map_or(tail.len(), |i| i + 1)..];
        format!("{head}{tail}")
    };
    p.write("pkg/service/add.go", &resolved);
    assert!(p.generate().status.success());
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn renaming_an_rpc_moves_the_stub() {
    let p = Project::new();
    p.add_multiply();
    assert!(p.generate().status.success());
    p.user_edits();
    p.edit(PROTO, "rpc Multiply(SumRequest)", "rpc Product(SumRequest)");
    p.edit(PROTO, "// Multiply returns", "// Product returns");
    let out = p.generate();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = p.read("pkg/service/add.go");
    assert!(
        text.contains("func (s *addService) Product(") && !text.contains("Multiply"),
        "{text}"
    );
    p.assert_user_lines();
    p.assert_go_ok();
}

#[test]
fn adding_renaming_and_retyping_fields_flows_into_generated_code() {
    let p = Project::new();
    p.user_edits();
    p.edit(PROTO, "message ConcatRequest {\n  string a = 1;\n  string b = 2;\n}", "message ConcatRequest {\n  string a = 1;\n  string b = 2;\n  // The separator to put between a and b.\n  string separator = 3;\n}");
    p.edit(
        PROTO,
        "message ConcatResponse {\n  string result = 1;\n}",
        "message ConcatResponse {\n  string joined = 1;\n}",
    );
    p.edit(
        PROTO,
        "message SumResponse {\n  int64 result = 1;\n}",
        "message SumResponse {\n  int64 result = 1;\n  double mean = 2;\n}",
    );
    // The user follows the rename in their own code, as they would.
    p.edit(
        "pkg/service/add.go",
        "&pb.ConcatResponse{Result: v}",
        "&pb.ConcatResponse{Joined: v}",
    );
    p.edit(
        "pkg/service/add_test.go",
        "resp.GetResult() != \"12\"",
        "resp.GetJoined() != \"12\"",
    );
    let out = p.generate();
    assert!(out.status.success(), "{}", stderr(&out));
    let pb = p.read("pb/addsvc.pb.go");
    assert!(
        pb.contains("Separator") && pb.contains("Joined") && pb.contains("Mean"),
        "fields reach the .pb.go"
    );
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn adding_a_service_adds_its_layers_and_implementation() {
    let p = Project::new();
    p.user_edits();
    let text = p.read(PROTO);
    p.write(
        PROTO,
        &format!(
            "{text}\n// Echo repeats what it hears.\nservice Echo {{\n  // Say returns its input.\n  rpc Say(ConcatRequest) returns (ConcatResponse) {{}}\n}}\n"
        ),
    );
    let out = p.generate();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains("created  pkg/service/echo.go"),
        "{}",
        stdout(&out)
    );
    assert!(
        p.read("pkg/endpoints/endpoints.go")
            .contains("type EchoSet struct")
    );
    // main.go is the user's: the new service is merged into it.
    let main = p.read("cmd/addsvc/main.go");
    assert!(main.contains("service.NewEchoService()"), "{main}");
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn adding_an_import_generates_its_package() {
    let p = Project::new();
    p.user_edits();
    p.write(
        "proto/common.proto",
        "syntax = \"proto3\";\n\npackage acme.common.v1;\n\n// Audit says who asked.\nmessage Audit {\n  string caller = 1;\n}\n",
    );
    p.edit(
        PROTO,
        "import \"google/api/annotations.proto\";",
        "import \"common.proto\";\nimport \"google/api/annotations.proto\";",
    );
    p.edit(PROTO, "message SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n}", "message SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n  acme.common.v1.Audit audit = 3;\n}");
    let out = p.generate();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(p.path("pb/commonv1/common.pb.go").is_file());
    // The services' package stays where user code imports it.
    assert!(p.path("pb/addsvc.pb.go").is_file());
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

/// kitgen.toml's [go.go_package] on an existing project: a local import
/// moved out of pb/, a vendored copy of google/type/money.proto imported
/// from genproto instead of generated; the project builds, vets and passes
/// its tests, and the user's lines stay.
#[test]
fn go_package_overrides_move_and_import_packages_on_generate() {
    let p = Project::new();
    p.user_edits();
    p.write(
        "proto/common.proto",
        "syntax = \"proto3\";\n\npackage acme.common.v1;\n\noption go_package = \"example.com/acme/common/v1;commonv1\";\n\n// Audit says who asked.\nmessage Audit {\n  string caller = 1;\n}\n",
    );
    fs::create_dir_all(p.path("proto/google/type")).unwrap();
    p.write(
        "proto/google/type/money.proto",
        "syntax = \"proto3\";\n\npackage google.type;\n\noption go_package = \"example.com/vendored/type/money;money\";\n\nmessage Money {\n  string currency_code = 1;\n  int64 units = 2;\n  int32 nanos = 3;\n}\n",
    );
    p.edit(
        PROTO,
        "import \"google/api/annotations.proto\";",
        "import \"common.proto\";\nimport \"google/api/annotations.proto\";\nimport \"google/type/money.proto\";",
    );
    p.edit(PROTO, "message SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n}", "message SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n  acme.common.v1.Audit audit = 3;\n  google.type.Money fee = 4;\n}");
    let config = fs::read_to_string(p.path("kitgen.toml")).unwrap();
    p.write(
        "kitgen.toml",
        &format!(
            "{config}\n[go.go_package]\n\
             \"common.proto\" = \"addsvc/internal/commonpb\"\n\
             \"google/type/money.proto\" = \"google.golang.org/genproto/googleapis/type/money;money\"\n"
        ),
    );
    let out = p.generate();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(p.path("internal/commonpb/common.pb.go").is_file());
    assert!(!p.path("pb/commonv1").exists());
    assert!(!p.path("pb/typepb").exists());
    let pb = fs::read_to_string(p.path("pb/addsvc.pb.go")).unwrap();
    assert!(pb.contains("\"google.golang.org/genproto/googleapis/type/money\""));
    assert!(pb.contains("\"addsvc/internal/commonpb\""));
    p.assert_user_lines();
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn a_hand_edited_generated_file_stops_generate_unless_forced() {
    let p = Project::new();
    p.edit(
        "pkg/transport/http.go",
        "func NewHTTPHandler(",
        "// hand edit\nfunc NewHTTPHandler(",
    );
    p.add_multiply();
    let before = p.tree();
    let out = p.generate();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("edited by hand") && stderr(&out).contains("pkg/transport/http.go"),
        "{}",
        stderr(&out)
    );
    assert_same(&p.tree(), &before, "nothing changes when generate stops");
    let check = p.check();
    assert_eq!(check.status.code(), Some(1));
    assert!(stderr(&check).contains("generated file edited by hand: pkg/transport/http.go"));
    assert!(
        stdout(&check).contains("-// hand edit"),
        "check shows the edit it would undo"
    );
    let forced = p.kitgen(&["generate", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!p.read("pkg/transport/http.go").contains("// hand edit"));
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn a_deleted_user_file_stays_deleted() {
    let p = Project::new();
    fs::remove_file(p.path("pkg/service/add_test.go")).unwrap();
    p.add_multiply();
    let out = p.generate();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pkg/service/add_test.go (you deleted it; it stays deleted)"),
        "{}",
        stdout(&out)
    );
    assert!(!p.path("pkg/service/add_test.go").exists());
    assert!(p.generate().status.success());
    assert!(!p.path("pkg/service/add_test.go").exists());
    assert_eq!(p.check().status.code(), Some(0));
    p.assert_go_ok();
}

#[test]
fn failures_leave_the_project_exactly_as_it_was() {
    let p = Project::new();
    p.user_edits();
    let before = p.tree();

    // A bad proto: exit 2, located, nothing written.
    let good = p.read(PROTO);
    p.write(
        PROTO,
        &good.replace("rpc Sum(SumRequest)", "rpc Sum(NoSuchType)"),
    );
    let bad_tree = p.tree();
    let out = p.generate();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("addsvc.proto:"), "{}", stderr(&out));
    assert_same(&p.tree(), &bad_tree, "a bad proto changed the project");
    p.write(PROTO, &good);

    // A plugin failure: exit 1, nothing written.
    p.add_multiply();
    let edited = p.tree();
    let out = support::kitgen_env(
        &["generate"],
        &p.dir,
        &[("KITGEN_PROTOC_GEN_GO", "/bin/false")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_same(&p.tree(), &edited, "a plugin failure changed the project");

    // A write that fails midway: a directory sits where a new file must go,
    // after other files were already moved into place.
    let text = p.read(PROTO);
    p.write(
        PROTO,
        &format!("{text}\nservice Zeta {{\n  rpc Z(SumRequest) returns (SumResponse) {{}}\n}}\n"),
    );
    fs::create_dir_all(p.path("pkg/service/zeta.go/blocker")).unwrap();
    let midway = p.tree();
    let out = p.generate();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_same(&p.tree(), &midway, "a failed write is rolled back");
    fs::remove_dir_all(p.path("pkg/service/zeta.go")).unwrap();
    let _ = before;
}

#[test]
fn a_project_without_a_lock_keeps_the_users_files_as_they_are() {
    let p = Project::new();
    p.user_edits();
    fs::remove_file(p.path("kitgen.lock")).unwrap();
    let out = p.generate();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("no kitgen.lock: your files were kept as they are"),
        "{}",
        stdout(&out)
    );
    assert!(p.path("kitgen.lock").is_file());
    p.assert_user_lines();
    // From then on, proto edits merge into the adopted files.
    p.add_multiply();
    assert!(p.generate().status.success());
    assert!(
        p.read("pkg/service/add.go")
            .contains("func (s *addService) Multiply(")
    );
    p.assert_user_lines();
}

#[test]
fn a_lock_from_another_kitgen_is_refused_and_nothing_changes() {
    let p = Project::new();
    let lock = p.read("kitgen.lock");
    p.write("kitgen.lock", &lock.replace("format = 1", "format = 2"));
    p.add_multiply();
    let before = p.tree();
    let out = p.generate();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("kitgen.lock was written by kitgen 0.1.0 in lock format 2"),
        "{}",
        stderr(&out)
    );
    assert_same(&p.tree(), &before, "a refused upgrade changed the project");
    assert_eq!(p.check().status.code(), Some(2));
}

/// Projects made before the .gitignore listed kitgen's staging directory
/// (`/.kitgen/`, present while kitgen writes or after a killed run) gain the
/// line on `generate`, by the three-way merge, keeping the user's own lines.
#[test]
fn an_older_gitignore_gains_the_staging_directory_and_keeps_user_lines() {
    let p = Project::new();
    let fresh = p.read(".gitignore");
    assert!(fresh.starts_with("/.kitgen/\n"), "{fresh}");
    // What an older kitgen wrote, as the lock's base and on disk, where the
    // user added lines of their own (the line goes first, so appending
    // lines, the usual edit, never conflicts with it).
    let older = fresh.replacen("/.kitgen/\n", "", 1);
    let lock = p.read("kitgen.lock");
    let entry = format!(
        "path = \".gitignore\"\nowner = \"user\"\nsha256 = \"{}\"\nbase = \"\"\"\n{fresh}\"\"\"",
        kitgen::lock::sha256(fresh.as_bytes())
    );
    assert!(
        lock.contains(&entry),
        "the lock's .gitignore entry moved:\n{lock}"
    );
    let older_entry = format!(
        "path = \".gitignore\"\nowner = \"user\"\nsha256 = \"{}\"\nbase = \"\"\"\n{older}\"\"\"",
        kitgen::lock::sha256(older.as_bytes())
    );
    p.write("kitgen.lock", &lock.replacen(&entry, &older_entry, 1));
    let user =
        older.replacen("/addsvc\n", "/addsvc\n/secrets.env\n", 1) + "# user: my editor\n/.idea/\n";
    assert_ne!(user, older.clone() + "# user: my editor\n/.idea/\n");
    p.write(".gitignore", &user);
    let check = p.check();
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    assert!(
        stdout(&check).contains("+/.kitgen/\n"),
        "{}",
        stdout(&check)
    );

    let out = p.generate();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(p.read(".gitignore"), format!("/.kitgen/\n{user}"));
    let lock = p.read("kitgen.lock");
    assert!(lock.contains(&entry), "the new base is recorded:\n{lock}");
    // And from then on it is settled.
    let before = p.tree();
    assert!(p.generate().status.success());
    assert_same(&p.tree(), &before, "a second generate changed the project");
}

/// A project the previous kitgen (07f7364: the server's wiring in the
/// generated pkg/server, go-kit/log, ff, discovery always linked) wrote:
/// its kitgen.toml, proto and kitgen.lock, and each user-owned file as the
/// lock's base records it. Generated files are left out: kitgen writes them.
fn project_from_07f7364() -> Project {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upgrade/07f7364");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("addsvc");
    fs::create_dir_all(dir.join("proto")).unwrap();
    for file in ["kitgen.toml", "kitgen.lock", "proto/addsvc.proto"] {
        fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
    let lock: toml::Value = toml::from_str(&fs::read_to_string(dir.join("kitgen.lock")).unwrap())
        .expect("kitgen.lock is TOML");
    let mut written = 0;
    for file in lock["file"].as_array().expect("files") {
        if let (Some(path), Some(base)) = (
            file["path"].as_str(),
            file.get("base").and_then(|b| b.as_str()),
        ) {
            if path == "kitgen.toml" || path == "proto/addsvc.proto" {
                continue;
            }
            let target = dir.join(path);
            fs::create_dir_all(target.parent().unwrap()).unwrap();
            fs::write(target, base).unwrap();
            written += 1;
        }
    }
    assert!(
        written > 20,
        "the lock holds the user-owned files: {written}"
    );
    Project { tmp, dir }
}

#[test]
fn a_project_of_the_previous_kitgen_takes_the_new_wiring_and_keeps_the_users_lines() {
    let p = project_from_07f7364();
    // The user's own service middleware, wired in where the old main.go
    // built the services, and defined at its end.
    p.edit(
        "cmd/addsvc/main.go",
        "\tadd = service.AddLoggingMiddleware(logger)(add)\n",
        "\tadd = service.AddLoggingMiddleware(logger)(add)\n\tadd = audited(add) // the user's own\n",
    );
    let main = p.read("cmd/addsvc/main.go")
        + "\n// audited is the user's own service middleware.\nfunc audited(next service.AddService) service.AddService {\n\treturn next\n}\n";
    p.write("cmd/addsvc/main.go", &main);
    // A test of the user's own.
    p.edit(
        "pkg/service/add_test.go",
        "package service\n",
        "package service\n\n// The user's note survives.\n",
    );

    let out = p.generate();
    assert!(
        out.status.success(),
        "kitgen generate: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let main = p.read("cmd/addsvc/main.go");
    for line in [
        "\tadd = audited(add) // the user's own",
        "func audited(next service.AddService) service.AddService {",
        // The new assembly arrived around them.
        "\tservers := server.Group{",
        "server.NewEndpoints(server.Services{",
    ] {
        assert!(main.contains(line), "main.go lacks {line:?}:\n{main}");
    }
    assert!(
        !main.contains("go-kit/log"),
        "main.go still uses go-kit/log:\n{main}"
    );
    assert!(
        p.read("pkg/service/add_test.go")
            .contains("// The user's note survives.")
    );
    // What the old kitgen generated and this one does not is gone; the
    // discovery components, user-owned, are the user's to delete.
    assert!(!p.path("pkg/server/discovery.go").exists());
    assert!(p.path("deploy/components/etcd/kustomization.yaml").exists());
    let check = p.check();
    assert!(
        check.status.success(),
        "kitgen check after generate: {}",
        stdout(&check)
    );
    p.assert_go_ok();
}

#[test]
fn a_completed_authenticate_of_the_previous_kitgen_is_a_marked_conflict() {
    // Authenticate now returns the context the service sees: a user who
    // completed the old one gets both versions side by side, and exit 1.
    let p = project_from_07f7364();
    p.edit(
        "pkg/endpoints/auth.go",
        "func Authenticate(ctx context.Context, method string) error {\n\treturn nil\n}",
        "func Authenticate(ctx context.Context, method string) error {\n\tif Credentials(ctx) == \"\" {\n\t\treturn ErrNoCredentials\n\t}\n\treturn nil\n}",
    );
    let out = p.generate();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("pkg/endpoints/auth.go"),
        "{}",
        stderr(&out)
    );
    let auth = p.read("pkg/endpoints/auth.go");
    for marker in [
        "<<<<<<< ours\nfunc Authenticate(ctx context.Context, method string) error {\n\tif Credentials(ctx) == \"\" {",
        "||||||| base\n",
        "=======\n",
        "func Authenticate(ctx context.Context, method string) (context.Context, error) {",
        ">>>>>>> theirs\n",
    ] {
        assert!(auth.contains(marker), "auth.go lacks {marker:?}:\n{auth}");
    }
    // Everything else merged: main.go is the new wiring.
    assert!(p.read("cmd/addsvc/main.go").contains("servers.Run(ctx)"));
}
