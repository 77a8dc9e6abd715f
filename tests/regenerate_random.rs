//! Randomized regeneration: random proto edits mixed with random user edits,
//! then `kitgen generate`. Whatever happens, no line the user wrote is lost:
//! it is in its file, merged or inside a reported conflict.

use std::fs;
use std::path::Path;

use proptest::prelude::*;

mod support;
use support::{kitgen, kitgen_killed_after};

const PROTO: &str = "proto/addsvc.proto";

/// Files that are the user's, where user lines are inserted.
const USER_FILES: &[&str] = &[
    "pkg/service/add.go",
    "pkg/service/middleware.go",
    "cmd/addsvc/main.go",
    "cmd/addcli/main.go",
    "README.md",
];

#[derive(Debug, Clone)]
enum ProtoEdit {
    AddRpc(usize),
    RemoveRpc(usize),
    AddField(usize),
    AddService(usize),
}

#[derive(Debug, Clone)]
struct UserEdit {
    file: usize,
    /// Where to insert, as a fraction of the file's lines.
    at: f64,
    /// Also: 1 converts the file to CRLF line ends, 2 renames it (the
    /// implementation only: kitgen must find it by what it declares).
    twist: u8,
}

/// How a generation runs: to the end, or killed after write step N (a
/// test hook), then run again.
#[derive(Debug, Clone)]
enum Run {
    Whole,
    KilledAfter(usize),
}

fn run_kind() -> impl Strategy<Value = Run> {
    prop_oneof![
        2 => Just(Run::Whole),
        1 => (1..60usize).prop_map(Run::KilledAfter),
    ]
}

fn proto_edit() -> impl Strategy<Value = ProtoEdit> {
    prop_oneof![
        (0..4usize).prop_map(ProtoEdit::AddRpc),
        (0..4usize).prop_map(ProtoEdit::RemoveRpc),
        (0..3usize).prop_map(ProtoEdit::AddField),
        (0..2usize).prop_map(ProtoEdit::AddService),
    ]
}

fn user_edit() -> impl Strategy<Value = UserEdit> {
    (
        0..USER_FILES.len(),
        0.0..1.0f64,
        prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
    )
        .prop_map(|(file, at, twist)| UserEdit { file, at, twist })
}

const RPC_NAMES: &[&str] = &["Multiply", "Subtract", "Divide", "Repeat"];

fn apply_proto_edit(dir: &Path, edit: &ProtoEdit) {
    let path = dir.join(PROTO);
    let text = fs::read_to_string(&path).unwrap();
    let text = match edit {
        ProtoEdit::AddRpc(i) => {
            let name = RPC_NAMES[*i];
            if text.contains(&format!("rpc {name}(")) {
                return;
            }
            text.replacen(
                "  // Concat returns",
                &format!("  // {name} does some arithmetic.\n  rpc {name}(SumRequest) returns (SumResponse) {{}}\n\n  // Concat returns"),
                1,
            )
        }
        ProtoEdit::RemoveRpc(i) => {
            let name = RPC_NAMES[*i];
            text.replacen(
                &format!("  // {name} does some arithmetic.\n  rpc {name}(SumRequest) returns (SumResponse) {{}}\n\n"),
                "",
                1,
            )
        }
        ProtoEdit::AddField(i) => {
            let field = ["c", "scale", "note"][*i];
            if text.contains(&format!(" {field} = ")) {
                return;
            }
            let ty = ["int64", "double", "string"][*i];
            text.replacen(
                "message SumRequest {\n  int64 a = 1;\n  int64 b = 2;\n",
                &format!(
                    "message SumRequest {{\n  int64 a = 1;\n  int64 b = 2;\n  {ty} {field} = {};\n",
                    3 + i
                ),
                1,
            )
        }
        ProtoEdit::AddService(i) => {
            let name = ["Echo", "Audit"][*i];
            if text.contains(&format!("service {name} ")) {
                return;
            }
            format!(
                "{text}\n// {name} is another service.\nservice {name} {{\n  rpc Call{name}(ConcatRequest) returns (ConcatResponse) {{}}\n}}\n"
            )
        }
    };
    fs::write(path, text).unwrap();
}

/// Where the implementation goes when a user renames it.
const RENAMED: &str = "pkg/service/add_impl.go";

/// The file a user file lives in now (the implementation may be renamed).
fn current(dir: &Path, rel: &str) -> String {
    if rel == USER_FILES[0] && dir.join(RENAMED).exists() {
        RENAMED.to_string()
    } else {
        rel.to_string()
    }
}

/// Inserts a uniquely numbered user line, keeping the file's line ends;
/// returns (file, line).
fn apply_user_edit(dir: &Path, edit: &UserEdit, n: usize) -> Option<(String, String)> {
    let rel = current(dir, USER_FILES[edit.file]);
    let path = dir.join(&rel);
    let text = fs::read_to_string(&path).ok()?;
    let crlf = text.contains("\r\n") || edit.twist == 1;
    let mut lines: Vec<&str> = text.lines().collect();
    let at = ((lines.len() as f64) * edit.at) as usize;
    let marker = if rel.ends_with(".md") {
        format!("user note {n}")
    } else {
        format!("// user line {n}")
    };
    lines.insert(at.min(lines.len()), &marker);
    let end = if crlf { "\r\n" } else { "\n" };
    fs::write(&path, lines.join(end) + end).unwrap();
    if edit.twist == 2 && edit.file == 0 && rel != RENAMED {
        fs::rename(&path, dir.join(RENAMED)).unwrap();
    }
    Some((USER_FILES[edit.file].to_string(), marker))
}

/// Generations that ended in a reported conflict, to show the test reaches them.
static CONFLICTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs that were killed mid-write, to show the test reaches them.
static KILLED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    // KITGEN_RANDOM_CASES runs more cases on demand.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("KITGEN_RANDOM_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_user_line_is_ever_lost(
        rounds in prop::collection::vec(
            (
                prop::collection::vec(proto_edit(), 0..3),
                prop::collection::vec(user_edit(), 0..4),
                run_kind(),
            ),
            1..4,
        )
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let out = kitgen(&["new", "addsvc"], tmp.path());
        prop_assert!(out.status.success());
        let dir = tmp.path().join("addsvc");
        let mut user_lines: Vec<(String, String)> = Vec::new();
        let mut n = 0;
        for (proto_edits, user_edits, run) in &rounds {
            for edit in user_edits {
                n += 1;
                if let Some(line) = apply_user_edit(&dir, edit, n) {
                    user_lines.push(line);
                }
            }
            for edit in proto_edits {
                apply_proto_edit(&dir, edit);
            }
            if let Run::KilledAfter(step) = run {
                let out = kitgen_killed_after(&dir, *step);
                if out.status.code().is_none() {
                    KILLED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            let out = kitgen(&["generate"], &dir);
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Success, or conflicts reported with exit 1; never anything else.
            prop_assert!(code == Some(0) || (code == Some(1) && (stderr.contains("conflicts") || stderr.contains("conflict markers are still in"))), "generate: {code:?} {stderr}");
            if code == Some(1) {
                CONFLICTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            prop_assert!(!dir.join(".kitgen").exists(), "a journal was left behind");
            for (file, line) in &user_lines {
                let text = fs::read_to_string(dir.join(current(&dir, file))).unwrap();
                prop_assert!(
                    text.lines().any(|l| l == line),
                    "{file} lost {line:?} after {rounds:?}:\n{text}"
                );
            }
        }
        eprintln!(
            "{} user lines kept; {} conflicted generations, {} killed mid-write so far",
            user_lines.len(),
            CONFLICTS.load(std::sync::atomic::Ordering::Relaxed),
            KILLED.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
