//! Randomized regeneration: random proto edits mixed with random user edits,
//! then `kitgen generate`. Whatever happens, no line the user wrote is lost:
//! it is in its file, merged or inside a reported conflict.

use std::fs;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

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
    (0..USER_FILES.len(), 0.0..1.0f64).prop_map(|(file, at)| UserEdit { file, at })
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

/// Inserts a uniquely numbered user line; returns (file, line).
fn apply_user_edit(dir: &Path, edit: &UserEdit, n: usize) -> Option<(String, String)> {
    let rel = USER_FILES[edit.file];
    let path = dir.join(rel);
    let text = fs::read_to_string(&path).ok()?;
    let mut lines: Vec<&str> = text.lines().collect();
    let at = ((lines.len() as f64) * edit.at) as usize;
    let marker = if rel.ends_with(".md") {
        format!("user note {n}")
    } else {
        format!("// user line {n}")
    };
    lines.insert(at.min(lines.len()), &marker);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    Some((rel.to_string(), marker))
}

/// Generations that ended in a reported conflict, to show the test reaches them.
static CONFLICTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn kitgen(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kitgen"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

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
            (prop::collection::vec(proto_edit(), 0..3), prop::collection::vec(user_edit(), 0..4)),
            1..4,
        )
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let out = kitgen(tmp.path(), &["new", "addsvc"]);
        prop_assert!(out.status.success());
        let dir = tmp.path().join("addsvc");
        let mut user_lines: Vec<(String, String)> = Vec::new();
        let mut n = 0;
        for (proto_edits, user_edits) in &rounds {
            for edit in user_edits {
                n += 1;
                if let Some(line) = apply_user_edit(&dir, edit, n) {
                    user_lines.push(line);
                }
            }
            for edit in proto_edits {
                apply_proto_edit(&dir, edit);
            }
            let out = kitgen(&dir, &["generate"]);
            let code = out.status.code();
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Success, or conflicts reported with exit 1; never anything else.
            prop_assert!(code == Some(0) || (code == Some(1) && stderr.contains("conflicts")), "generate: {code:?} {stderr}");
            if code == Some(1) {
                CONFLICTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            for (file, line) in &user_lines {
                let text = fs::read_to_string(dir.join(file)).unwrap();
                prop_assert!(
                    text.lines().any(|l| l == line),
                    "{file} lost {line:?} after {rounds:?}:\n{text}"
                );
            }
        }
        eprintln!(
            "{} user lines kept; {} conflicted generations so far",
            user_lines.len(),
            CONFLICTS.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
