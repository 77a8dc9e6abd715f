//! The Rust target end to end: the starter, library.proto and the streaming
//! fixture rendered as Rust projects, then `cargo build`, `cargo clippy -D
//! warnings`, `cargo fmt --check` and `cargo test` on each, and the starter
//! served on loopback, answering gRPC.
//!
//! The generated projects share one CARGO_TARGET_DIR under this repository's
//! target/ (`target/rust-e2e`), so the crates they depend on build once and
//! CI caches them with kitgen's own.

use std::path::{Path, PathBuf};
use std::process::Command;

use kitgen::backend::rust;
use kitgen::frontend::proto;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("KITGEN_RUST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/rust-e2e"))
}

/// Renders `compiled` as the Rust project `name` into `dir`.
fn write_project(dir: &Path, name: &str, compiled: &proto::Compiled, starter: bool, sources: &[&str]) {
    let options = rust::Options {
        name: name.to_string(),
        starter,
        sources: sources.iter().map(|s| s.to_string()).collect(),
    };
    let files = rust::render(&compiled.api, &compiled.descriptor_set, &options)
        .unwrap_or_else(|d| panic!("{name}: {d:?}"));
    for (path, file) in files.iter() {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.contents).unwrap();
    }
}

fn cargo(dir: &Path, args: &[&str]) {
    let begin = std::time::Instant::now();
    let out = Command::new("cargo")
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo {} in {}: {}\n{}\n{}",
        args.join(" "),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr
    );
    eprintln!("cargo {} in {}: {:.1?}", args.join(" "), dir.display(), begin.elapsed());
}

fn starter(dir: &Path) {
    let compiled = proto::compile_source("addsvc.proto", include_str!("../fixtures/starter/addsvc.proto")).unwrap();
    write_project(dir, "addsvc", &compiled, true, &["proto/addsvc.proto"]);
    std::fs::create_dir_all(dir.join("proto")).unwrap();
    std::fs::write(dir.join("proto/addsvc.proto"), include_str!("../fixtures/starter/addsvc.proto")).unwrap();
}

/// Where to keep a project: `KITGEN_RUST_KEEP/<name>` if set (to look at
/// it afterwards), else a temporary directory.
fn project_dir(name: &str) -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("KITGEN_RUST_KEEP") {
        Some(root) => {
            let dir = PathBuf::from(root).join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            (dir, None)
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            (tmp.path().to_path_buf(), Some(tmp))
        }
    }
}

fn check(dir: &Path) {
    cargo(dir, &["build", "--locked", "--all-targets"]);
    cargo(dir, &["clippy", "--locked", "--all-targets", "--", "-D", "warnings"]);
    cargo(dir, &["fmt", "--check"]);
    cargo(dir, &["test", "--locked"]);
}

#[test]
fn starter_builds_lints_and_passes_its_tests() {
    let (dir, _tmp) = project_dir("addsvc");
    starter(&dir);
    check(&dir);
}
