//! Attacks on kitgen's safety that tests/safety.rs did not cover: a journal
//! or state directory left in a cloned repository (kitgen's own files are
//! untrusted input too), and files that are links leading out of the project
//! (their contents are never read, so `check`/`diff` never print them).

use std::fs;
use std::os::unix::fs::symlink;
use std::process::Command;

mod support;
use support::{Project, stderr, stdout};

/// The starter project, beside `<tmp>/outside`.
fn project() -> Project {
    Project::with_secret("TOP-SECRET-LINE\n")
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin({
            let tmp = tempfile::NamedTempFile::new().unwrap();
            fs::write(tmp.path(), bytes).unwrap();
            fs::File::open(tmp.path()).unwrap()
        })
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Plants a committed transaction in `.kitgen/txn` whose journal says `line`
/// (one op), with `staged` as its first staged file.
fn plant_journal(p: &Project, line: &str, staged: Option<&[u8]>) {
    let txn = p.path(".kitgen/txn");
    fs::create_dir_all(txn.join("new")).unwrap();
    fs::create_dir_all(txn.join("old")).unwrap();
    if let Some(staged) = staged {
        fs::write(txn.join("new/0"), staged).unwrap();
    }
    fs::write(
        txn.join("journal"),
        format!("kitgen journal 1\n{line}\nend\n"),
    )
    .unwrap();
}

/// A repository can carry a `.kitgen/txn` (committed by mistake or by an
/// attacker): the journal is as untrusted as the lock. Completing it must
/// never write into `.git` (a hook there is code that git runs), nor into
/// kitgen's own state.
#[test]
fn a_journal_never_writes_into_git_or_kitgens_state() {
    let hook = b"#!/bin/sh\necho pwned\n";
    for target in [
        ".git/hooks/pre-commit",
        ".git",
        ".GIT/hooks/pre-commit",
        ".kitgen/txn/journal",
    ] {
        let p = project();
        fs::create_dir_all(p.path(".git/hooks")).unwrap();
        let line = format!("write\t-\t{}\t{target}", sha256_hex(hook));
        plant_journal(&p, &line, Some(hook));
        let out = p.run(&["check"]);
        assert!(!out.status.success(), "{target}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("journal"),
            "{target}: {}",
            stderr(&out)
        );
        assert!(
            !p.path(".git/hooks/pre-commit").exists() && !p.path(".GIT").exists(),
            "{target}: the journal wrote a git hook"
        );
        assert!(p.path(".git").is_dir(), "{target}");
    }
}

/// `.kitgen/txn` (or its `old`/`new`) a link to a directory outside: the
/// backups of the files a journal removes would be moved out there, and
/// staged files read from there.
#[test]
fn a_journal_directory_linking_out_is_refused() {
    for linked in ["txn", "txn/old", "txn/new"] {
        let p = project();
        let readme = fs::read(p.path("README.md")).unwrap();
        let line = format!("delete\t{}\tREADME.md", sha256_hex(&readme));
        plant_journal(&p, &line, None);
        let inside = p.path(&format!(".kitgen/{linked}"));
        let out_dir = p.outside().join("txn");
        fs::rename(&inside, &out_dir).unwrap();
        symlink(&out_dir, &inside).unwrap();
        let before = p.everything();
        let out = p.run(&["check"]);
        assert!(!out.status.success(), "{linked}: {}", stderr(&out));
        assert_eq!(
            fs::read(p.path("README.md")).ok().as_deref(),
            Some(readme.as_slice()),
            "{linked}: README.md moved"
        );
        let outside_after: Vec<String> = p
            .everything()
            .into_keys()
            .filter(|k| k.starts_with("outside"))
            .collect();
        let outside_before: Vec<String> = before
            .into_keys()
            .filter(|k| k.starts_with("outside"))
            .collect();
        assert_eq!(outside_after, outside_before, "{linked}: written outside");
    }
}

/// A user file (or a generated one) replaced by a link to a file outside the
/// project: `diff` and `check` must not print what it points to (a pull
/// request in CI could point it at a credentials file), nor read a device.
#[test]
fn files_linking_out_are_never_read_nor_printed() {
    for rel in ["pkg/service/add.go", "pkg/transport/http.go", "kitgen.lock"] {
        let p = project();
        fs::remove_file(p.path(rel)).unwrap();
        symlink(p.outside().join("secret.txt"), p.path(rel)).unwrap();
        let before = p.everything();
        for args in [
            &["diff"][..],
            &["check"],
            &["generate"],
            &["generate", "--force"],
        ] {
            let out = p.run(args);
            let all = format!("{}{}", stdout(&out), stderr(&out));
            // `diff` shows drift without failing; the others stop.
            assert!(
                args == ["diff"] || !out.status.success(),
                "{rel} {args:?}: {all}"
            );
            assert!(
                !all.contains("TOP-SECRET-LINE"),
                "{rel} {args:?} printed it: {all}"
            );
            assert!(all.contains(rel), "{rel} {args:?}: {all}");
            assert_eq!(p.everything(), before, "{rel} {args:?} wrote");
        }
    }
}

/// A kill while a finished transaction is being removed: removing it in
/// place (journal first, backups after) left a `.kitgen/txn` without its
/// journal, which every later run called damaged (found by `kill -9` after
/// random sleeps: 2 of 120 runs). It is now renamed aside in one step first,
/// so such a kill leaves a `done-*` directory, which the next run drops.
#[test]
fn a_kill_while_removing_a_finished_transaction_leaves_nothing_to_repair() {
    let p = project();
    let before = p.everything();
    let done = p.path(".kitgen/done-4242");
    fs::create_dir_all(done.join("old")).unwrap();
    fs::create_dir_all(done.join("new")).unwrap();
    fs::write(done.join("old/3"), "a backup").unwrap();
    let out = p.run(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !p.path(".kitgen").exists(),
        "the finished transaction stays"
    );
    assert_eq!(p.everything(), before);
}

/// A user file that is not UTF-8 (a Latin-1 `é`): a merge into it wrote it
/// back read lossily, every such byte replaced by U+FFFD. kitgen refuses
/// to merge into it, and changes nothing; with nothing to merge it is fine.
#[test]
fn a_user_file_that_is_not_utf8_is_never_rewritten_lossily() {
    let p = project();
    let mut readme = fs::read(p.path("README.md")).unwrap();
    readme.extend_from_slice(b"user: caf\xe9\n");
    fs::write(p.path("README.md"), &readme).unwrap();
    let out = p.run(&["check"]);
    assert!(out.status.success(), "nothing to merge: {}", stderr(&out));
    let proto = fs::read_to_string(p.path("proto/addsvc.proto")).unwrap();
    fs::write(
        p.path("proto/addsvc.proto"),
        proto.replacen(
            "  // Concat returns",
            "  rpc Multiply(SumRequest) returns (SumResponse) {}\n  // Concat returns",
            1,
        ),
    )
    .unwrap();
    let before = p.everything();
    let out = p.run(&["generate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("README.md") && stderr(&out).contains("not UTF-8"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.everything(), before, "nothing written");
    assert!(!p.run(&["check"]).status.success());
}

/// A worktree's (or submodule's) `.git` is a file: a lock naming it, with
/// its hash, made `generate` delete it, cutting the checkout off its
/// repository. Such a lock is refused on load, located, as `.git/…` is.
#[test]
fn a_lock_naming_a_worktrees_git_file_is_refused() {
    let p = project();
    let gitfile = b"gitdir: /somewhere/.git/worktrees/addsvc\n";
    fs::write(p.path(".git"), gitfile).unwrap();
    let lock = fs::read_to_string(p.path("kitgen.lock")).unwrap();
    for path in [".git", ".GIT/config"] {
        p.assert_bad_input(
            "kitgen.lock",
            &format!(
                "{lock}\n[[file]]\npath = {path:?}\nowner = \"generated\"\nsha256 = \"{}\"\n",
                sha256_hex(gitfile)
            ),
            &["generate", "--force"],
            "kitgen.lock:",
            "which kitgen refuses",
        );
    }
}
