//! kitgen as an attacker and a careless user meet it: paths from files kitgen
//! did not compute never lead out of the project, kitgen.toml is held to the
//! rules of `new`, symlinks are not followed out, a kill at any write step or
//! an edit saved mid-run loses no line, two runs do not race, `--force`
//! replaces generated files only, and line ends do not count as edits.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{MULTIPLY_RPC, PROTO, Project, assert_same, kitgen_env, stderr, stdout, tree};

const ZETA: &str =
    "\n// Zeta goes away.\nservice Zeta {\n  rpc Z(SumRequest) returns (SumResponse) {}\n}\n";

impl Project {
    /// The starter project, beside `<tmp>/outside`, a directory kitgen must
    /// never touch.
    fn new() -> Project {
        Project::with_secret("secret\n")
    }
}

// ---- 1. Lock paths -------------------------------------------------------

#[test]
fn a_lock_naming_a_file_outside_the_project_is_refused() {
    let p = Project::new();
    let secret_hash = {
        use std::fmt::Write;
        let out = Command::new("sha256sum")
            .arg(p.outside().join("secret.txt"))
            .output()
            .unwrap();
        let mut s = String::new();
        write!(s, "{}", String::from_utf8_lossy(&out.stdout)).unwrap();
        s.split_whitespace().next().unwrap().to_string()
    };
    let lock = p.read("kitgen.lock");
    for (path, force) in [
        ("../../outside/secret.txt", false),
        ("../../outside/secret.txt", true),
        ("/etc/hostname", true),
        ("pkg//x.go", false),
    ] {
        let args: &[&str] = if force {
            &["generate", "--force"]
        } else {
            &["generate"]
        };
        p.assert_bad_input(
            "kitgen.lock",
            &format!("{lock}\n[[file]]\npath = {path:?}\nowner = \"generated\"\nsha256 = \"{secret_hash}\"\n"),
            args,
            "kitgen.lock:",
            "refuses",
        );
        assert_eq!(p.run(&["check"]).status.code(), Some(2));
    }
    assert_eq!(
        fs::read_to_string(p.outside().join("secret.txt")).unwrap(),
        "secret\n"
    );
}

// ---- 2. kitgen.toml is validated on generate -----------------------------

/// Each of `bads` as the value of `key` in kitgen.toml (instead of `good`)
/// is refused at `located`, saying `says`, and changes nothing.
fn assert_config_values_refused(
    key: &str,
    good: &str,
    bads: &[&str],
    located: &str,
    says: &str,
) -> Project {
    let p = Project::new();
    let config = p.read("kitgen.toml");
    for bad in bads {
        p.assert_bad_input(
            "kitgen.toml",
            &config.replace(&format!("{key} = {good:?}"), &format!("{key} = {bad:?}")),
            &["generate"],
            located,
            says,
        );
    }
    p
}

#[test]
fn kitgen_toml_name_is_held_to_the_rules_of_new() {
    let p = assert_config_values_refused(
        "name",
        "addsvc",
        &["../../escaped", "", "func", "My-Svc", "a/b"],
        "kitgen.toml:4:8: ",
        "cannot be a project name",
    );
    assert!(!p.tmp.path().join("escaped").exists());
}

// ---- 3. module reaches neither the plugins nor go.mod raw ----------------

#[test]
fn kitgen_toml_module_must_be_a_go_module_path() {
    let p = assert_config_values_refused(
        "module",
        "addsvc",
        &["../PLUGESC,module=,M=", "a b", "a\nb", "x=y", "-x"],
        "kitgen.toml:5:10: ",
        "is not a valid Go module path",
    );
    assert!(!p.tmp.path().join("work/PLUGESC").exists());
}

// ---- 5. Symlinks ---------------------------------------------------------

#[test]
fn a_symlinked_directory_leading_out_is_never_written_through() {
    let p = Project::new();
    // pkg/service moved outside and linked back.
    let moved = p.outside().join("service");
    fs::rename(p.path("pkg/service"), &moved).unwrap();
    std::os::unix::fs::symlink(&moved, p.path("pkg/service")).unwrap();
    p.add_multiply();
    let before = p.everything();
    let out = p.run(&["generate"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is a symbolic link to") && err.contains("outside the project"),
        "{err}"
    );
    assert_same(&p.everything(), &before, "nothing written through the link");
    // A link inside the project is fine.
    fs::remove_file(p.path("pkg/service")).unwrap();
    fs::rename(&moved, p.path("pkg/real_service")).unwrap();
    std::os::unix::fs::symlink("real_service", p.path("pkg/service")).unwrap();
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        fs::read_to_string(p.path("pkg/real_service/add.go"))
            .unwrap()
            .contains("Multiply(")
    );
    assert!(
        fs::symlink_metadata(p.path("pkg/service"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_symlinked_user_file_is_never_replaced_by_a_regular_file() {
    let p = Project::new();
    fs::create_dir_all(p.path("mine")).unwrap();
    fs::rename(p.path("pkg/service/add.go"), p.path("mine/add.go")).unwrap();
    std::os::unix::fs::symlink("../../mine/add.go", p.path("pkg/service/add.go")).unwrap();
    p.add_multiply();
    let before = p.everything();
    let out = p.run(&["generate"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pkg/service/add.go") && err.contains("symbolic link"),
        "{err}"
    );
    assert_same(&p.everything(), &before, "the link and its file stay");
}

// ---- 6. A kill at any write step -----------------------------------------

/// Kills `generate` after each write step in turn (a test hook that aborts
/// the process, as SIGKILL would: no destructor runs), then runs kitgen
/// again: the tree must end exactly as an uninterrupted run leaves it, no
/// user line lost, nothing left in `.kitgen/`, and `check` clean.
#[test]
fn a_kill_at_any_write_step_loses_nothing_and_the_next_run_converges() {
    let base = Project::new();
    // A second service that the change removes, so that deletions are
    // killed too, not only writes.
    let proto = base.read(PROTO);
    base.write(PROTO, &format!("{proto}{ZETA}"));
    let out = base.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    base.user_edits();
    base.add_multiply();
    base.edit(PROTO, ZETA, "");
    let reference = base.copy();
    let out = reference.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = reference.project_tree();
    reference.assert_user_lines();

    let mut killed = 0;
    for n in 1.. {
        let p = base.copy();
        let out = p.generate_killed_after(n);
        if out.status.success() {
            assert_same(&p.project_tree(), &want, "an uninterrupted run");
            break;
        }
        assert_eq!(
            out.status.code(),
            None,
            "step {n}: killed by a signal: {}",
            stderr(&out)
        );
        killed += 1;
        assert_same(
            &tree(p.tmp.path().join("outside").as_path()),
            &tree(base.tmp.path().join("outside").as_path()),
            "outside",
        );
        // Any command finishes the interrupted run first: check on odd steps.
        if n % 2 == 1 {
            let committed = p.path(".kitgen/txn").exists();
            let check = p.run(&["check"]);
            assert!(
                stderr(&check).contains("interrupted kitgen run") || !committed,
                "step {n}: {}",
                stderr(&check)
            );
            assert!(!p.path(".kitgen").exists(), "step {n}: check recovered");
        }
        let out = p.run(&["generate"]);
        assert!(out.status.success(), "step {n}: {}", stderr(&out));
        assert_same(&p.project_tree(), &want, &format!("killed after step {n}"));
        p.assert_user_lines();
        assert_eq!(p.run(&["check"]).status.code(), Some(0), "step {n}");
        assert!(n < 200, "the write never finishes");
    }
    assert!(killed > 20, "only {killed} steps were killed");
    eprintln!("killed at each of {killed} write steps; every run converged");
}

// ---- 7. An edit saved while generate runs ---------------------------------

/// Starts `generate` paused after write step `n` (a test hook); returns the
/// child and the file whose creation lets it go on.
fn paused_generate(p: &Project, n: usize) -> (Child, PathBuf) {
    let gate = p.tmp.path().join(format!("gate-{n}"));
    let child = support::kitgen_command(&["generate"], &p.dir)
        .env("KITGEN_TEST_PAUSE_AFTER", n.to_string())
        .env("KITGEN_TEST_PAUSE_FILE", &gate)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = PathBuf::from(format!("{}.ready", gate.display()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "generate never reached step {n}");
        std::thread::sleep(Duration::from_millis(10));
    }
    fs::remove_file(&ready).unwrap();
    (child, gate)
}

#[test]
fn an_edit_saved_while_generate_runs_stops_it_and_everything_is_put_back() {
    let p = Project::new();
    p.user_edits();
    p.add_multiply();
    let before = p.project_tree();
    // Paused after some files were already moved into place.
    let (child, gate) = paused_generate(&p, 8);
    // Staging is inside the project, never beside it.
    assert!(p.path(".kitgen/txn").is_dir());
    assert_eq!(fs::read_dir(p.tmp.path().join("work")).unwrap().count(), 1);
    let text = p.read("pkg/service/middleware.go");
    p.write(
        "pkg/service/middleware.go",
        &format!("{text}// user: saved mid-run\n"),
    );
    fs::write(&gate, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("'pkg/service/middleware.go' changed while kitgen was running"),
        "{err}"
    );
    let mut want = before.clone();
    want.insert(
        "pkg/service/middleware.go".into(),
        format!("{text}// user: saved mid-run\n").into_bytes(),
    );
    assert_same(&p.project_tree(), &want, "rolled back, the new edit kept");
    // The next run merges the edit in.
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        p.read("pkg/service/middleware.go")
            .contains("// user: saved mid-run")
    );
    p.assert_user_lines();
}

// ---- 8. Two runs at once --------------------------------------------------

#[test]
fn a_second_kitgen_says_another_is_running() {
    let p = Project::new();
    p.add_multiply();
    let (child, gate) = paused_generate(&p, 1);
    for args in [&["generate"][..], &["check"][..]] {
        let out = p.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("another kitgen is running"),
            "{}",
            stderr(&out)
        );
    }
    fs::write(&gate, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
}

// ---- 9. --force replaces generated files only -----------------------------

#[test]
fn new_force_keeps_the_users_own_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("svc");
    fs::create_dir_all(&dir).unwrap();
    let mine = [
        ("README.md", "# my notes\n"),
        ("Makefile", "all:\n\techo mine\n"),
        (".gitignore", "/secret\n"),
    ];
    for (f, t) in mine {
        fs::write(dir.join(f), t).unwrap();
    }
    let out = kitgen_env(
        &["new", "addsvc", "--dir", "svc", "--force"],
        tmp.path(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (f, t) in mine {
        assert_eq!(fs::read_to_string(dir.join(f)).unwrap(), t, "{f}");
        assert!(
            stdout(&out).contains(&format!("kept  {f}")),
            "{}",
            stdout(&out)
        );
    }
    assert!(dir.join("pkg/service/add.go").is_file());

    // Over an existing project: the implementation is the user's and stays.
    let p = Project::new();
    p.user_edits();
    let out = kitgen_env(
        &["new", "addsvc", "--force"],
        &p.tmp.path().join("work"),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    p.assert_user_lines();
}

#[test]
fn requirements_a_user_adds_to_go_mod_survive_generate_force() {
    let p = Project::new();
    // What `go mod edit -require=example.com/extra@v1.2.3` and `go get` add.
    p.edit(
        "go.mod",
        "\nrequire (\n",
        "\nrequire example.com/extra v1.2.3\n\nrequire (\n",
    );
    let sum = p.read("go.sum");
    p.write(
        "go.sum",
        &format!(
            "{sum}example.com/extra v1.2.3 h1:AAAA=\nexample.com/extra v1.2.3/go.mod h1:BBBB=\n"
        ),
    );
    p.add_multiply();
    for args in [&["generate"][..], &["generate", "--force"][..]] {
        let out = p.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            p.read("go.mod")
                .contains("require example.com/extra v1.2.3")
        );
        assert!(
            p.read("go.sum")
                .contains("example.com/extra v1.2.3 h1:AAAA=")
        );
        assert!(
            p.read("go.sum")
                .contains("example.com/extra v1.2.3/go.mod h1:BBBB=")
        );
    }
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
}

// ---- 10. Conflict markers --------------------------------------------------

#[test]
fn unresolved_conflict_markers_fail_generate_as_check() {
    let p = Project::new();
    p.add_multiply();
    assert!(p.run(&["generate"]).status.success());
    p.edit(
        "pkg/service/add.go",
        "\treturn nil, Errorf(CodeUnimplemented, \"Multiply is not implemented yet\")",
        "\t// user: mine\n\treturn &pb.SumResponse{Result: req.GetA() * req.GetB()}, nil",
    );
    p.edit(PROTO, MULTIPLY_RPC, "");
    let out = p.run(&["generate"]);
    assert_eq!(out.status.code(), Some(1));
    let text = p.read("pkg/service/add.go");
    // The markers the README documents.
    for marker in ["<<<<<<< ours", "||||||| base", "=======", ">>>>>>> theirs"] {
        assert!(
            text.lines().any(|l| l == marker),
            "{marker} missing:\n{text}"
        );
    }
    let before = p.everything();
    let out = p.run(&["generate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("conflict markers are still in")
            && stderr(&out).contains("pkg/service/add.go"),
        "{}",
        stderr(&out)
    );
    assert_same(
        &p.everything(),
        &before,
        "nothing changes while markers remain",
    );
    assert_eq!(p.run(&["check"]).status.code(), Some(1));
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("||||||| base"));
}

// ---- 12. No lock and a proto change ---------------------------------------

#[test]
fn without_a_lock_stale_generated_files_are_regenerated_not_called_edited() {
    let p = Project::new();
    p.user_edits();
    fs::remove_file(p.path("kitgen.lock")).unwrap();
    p.add_multiply();
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("edited by hand"), "{}", stderr(&out));
    assert!(p.read("pkg/endpoints/endpoints.go").contains("Multiply"));
    // The kept implementation has no Multiply stub: said, not left silent.
    assert!(
        stderr(&out).contains("pkg/service/add.go was kept as it is")
            && stderr(&out).contains("func (addService) Multiply"),
        "{}",
        stderr(&out)
    );
    p.assert_user_lines();
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
}

// ---- 13. CRLF -------------------------------------------------------------

fn to_crlf(p: &Project) {
    for (rel, bytes) in p.project_tree() {
        if rel.ends_with('/') || rel == "kitgen.lock" {
            continue;
        }
        let text = String::from_utf8(bytes).unwrap();
        p.write(&rel, &text.replace('\n', "\r\n"));
    }
}

#[test]
fn a_crlf_checkout_is_no_edit_and_user_files_keep_their_line_ends() {
    let p = Project::new();
    to_crlf(&p);
    let out = p.run(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    p.edit(
        "pkg/service/add.go",
        "\treturn &pb.SumResponse{Result: a + b}, nil",
        "\t// user: crlf line\r\n\treturn &pb.SumResponse{Result: a + b}, nil",
    );
    p.add_multiply();
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("CONFLICT"), "{}", stdout(&out));
    let add = p.read("pkg/service/add.go");
    assert!(add.contains("// user: crlf line\r\n"));
    assert!(add.contains("Multiply("), "the stub is merged in");
    assert_eq!(
        add.matches('\n').count(),
        add.matches("\r\n").count(),
        "every line end stays CRLF"
    );
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
}

// ---- 16. Messages -----------------------------------------------------------

#[test]
fn an_empty_lock_says_so() {
    let p = Project::new();
    p.write("kitgen.lock", "");
    let out = p.run(&["generate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("kitgen.lock is empty"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("unknown kitgen"), "{}", stderr(&out));
}

#[test]
fn a_proto_with_a_byte_order_mark_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let proto = tmp.path().join("bom.proto");
    fs::write(
        &proto,
        "\u{feff}syntax = \"proto3\";\npackage bom;\nmessage A { string s = 1; }\nservice B { rpc C(A) returns (A); }\n",
    )
    .unwrap();
    let out = kitgen_env(&["new", "bom", "--proto", "bom.proto"], tmp.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let config = tmp.path().join("bom/kitgen.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("\u{feff}{text}")).unwrap();
    let out = kitgen_env(&["check"], &tmp.path().join("bom"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

// ---- 15. Plugin output is bounded ------------------------------------------

#[test]
fn a_plugin_flooding_stderr_is_summarized() {
    let p = Project::new();
    let script = p.tmp.path().join("noisy-plugin");
    fs::write(
        &script,
        "#!/bin/sh\ncat >/dev/null\ni=0\nwhile [ $i -lt 20000 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    p.add_multiply();
    let out = kitgen_env(
        &["generate"],
        &p.dir,
        &[("KITGEN_PROTOC_GEN_GO", script.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.len() < 16 * 1024, "{} bytes echoed", err.len());
    assert!(
        err.contains("noise line 0") && err.contains("more lines"),
        "{err}"
    );
}

// ---- 11. A renamed implementation file -------------------------------------

#[test]
fn a_renamed_implementation_is_found_by_what_it_declares() {
    let p = Project::new();
    p.user_edits();
    fs::rename(
        p.path("pkg/service/add.go"),
        p.path("pkg/service/add_impl.go"),
    )
    .unwrap();
    p.add_multiply();
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("pkg/service/add.go (found renamed as pkg/service/add_impl.go)"),
        "{}",
        stdout(&out)
    );
    let text = p.read("pkg/service/add_impl.go");
    assert!(text.contains("func (s *addService) Multiply("), "{text}");
    assert!(text.contains("// user: sums are audited elsewhere"));
    assert!(!p.path("pkg/service/add.go").exists());
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
    // Found again on the next change.
    p.edit(
        PROTO,
        "rpc Multiply(",
        "rpc Divide(SumRequest) returns (SumResponse);\n  rpc Multiply(",
    );
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        p.read("pkg/service/add_impl.go")
            .contains("func (s *addService) Divide(")
    );
}

#[test]
fn a_deleted_implementation_with_new_code_for_it_is_reported() {
    let p = Project::new();
    fs::remove_file(p.path("pkg/service/add.go")).unwrap();
    p.add_multiply();
    let out = p.run(&["generate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no other file in their directory declares their types")
            && stderr(&out).contains("pkg/service/add.go"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.run(&["check"]).status.code(), Some(1));
    let out = p.run(&["generate", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("pkg/service/add.go (you deleted it; it stays deleted)"));
}

#[test]
fn a_killed_run_is_rolled_back_when_a_file_changed_since() {
    let p = Project::new();
    p.user_edits();
    p.add_multiply();
    let before = p.project_tree();
    // Killed after the commit and a first file; then the user saves a file
    // the run had not reached yet.
    let out = p.generate_killed_after(4);
    assert_eq!(out.status.code(), None, "{}", stderr(&out));
    assert!(p.path(".kitgen/txn").is_dir());
    let text = p.read("pkg/service/middleware.go");
    p.write(
        "pkg/service/middleware.go",
        &format!("{text}// user: after the kill\n"),
    );
    let out = p.run(&["diff"]);
    assert!(
        stderr(&out).contains("rolled back (pkg/service/middleware.go changed since)"),
        "{}",
        stderr(&out)
    );
    let mut want = before.clone();
    want.insert(
        "pkg/service/middleware.go".into(),
        format!("{text}// user: after the kill\n").into_bytes(),
    );
    assert_same(
        &p.project_tree(),
        &want,
        "rolled back to the old tree, the edit kept",
    );
    let out = p.run(&["generate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        p.read("pkg/service/middleware.go")
            .contains("// user: after the kill")
    );
    p.assert_user_lines();
    assert_eq!(p.run(&["check"]).status.code(), Some(0));
}
