//! The protobuf stubs recorded in kitgen.lock are reused wherever the same
//! plugin versions are found: a clone of a project on another machine
//! (plugins elsewhere, newer files, or none at all) runs no plugin in `check`.

#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod support;

const GO: &str = "protoc-gen-go";
const GRPC: &str = "protoc-gen-go-grpc";

/// kitgen with a controlled plugin environment: `path` is the whole PATH,
/// `overrides` the KITGEN_PROTOC_GEN_GO{,_GRPC} binaries, and the plugin cache is
/// `cache`.
fn kitgen(
    args: &[&str],
    cwd: &Path,
    path: &Path,
    cache: &Path,
    overrides: Option<(&Path, &Path)>,
) -> Output {
    let mut cmd = support::kitgen_command(args, cwd);
    cmd.env("PATH", path)
        .env("KITGEN_CACHE_DIR", cache)
        .env_remove("KITGEN_PROTOC_GEN_GO")
        .env_remove("KITGEN_PROTOC_GEN_GO_GRPC");
    if let Some((go, grpc)) = overrides {
        cmd.env("KITGEN_PROTOC_GEN_GO", go)
            .env("KITGEN_PROTOC_GEN_GO_GRPC", grpc);
    }
    support::run_kitgen(&mut cmd)
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The pinned plugins, built by kitgen itself into a cache of this test (the Go
/// build cache makes that quick after the first time), with only `go` on PATH.
fn pinned_plugins(tmp: &Path) -> (PathBuf, PathBuf) {
    let go = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("go"))
        .find(|p| p.is_file())
        .expect("go on PATH");
    let go_only = tmp.join("go-only");
    fs::create_dir_all(&go_only).unwrap();
    std::os::unix::fs::symlink(go, go_only.join("go")).unwrap();
    let cache = tmp.join("build-cache");
    let out = kitgen(&["new", "warmup"], tmp, &go_only, &cache, None);
    ok(&out, "building the pinned plugins");
    let bin = cache.join("bin");
    (
        bin.join(format!("{GO}@v1.36.12")),
        bin.join(format!("{GRPC}@v1.6.2")),
    )
}

/// Copies the two plugins into `dir` under their own names, with `mode`.
fn install(dir: &Path, (go, grpc): (&Path, &Path), mode: u32) -> (PathBuf, PathBuf) {
    fs::create_dir_all(dir).unwrap();
    let (to_go, to_grpc) = (dir.join(GO), dir.join(GRPC));
    fs::copy(go, &to_go).unwrap();
    fs::copy(grpc, &to_grpc).unwrap();
    chmod(&to_go, mode);
    chmod(&to_grpc, mode);
    (to_go, to_grpc)
}

#[test]
fn check_reuses_stubs_with_the_same_plugin_versions_found_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let (go, grpc) = pinned_plugins(tmp);
    let empty = tmp.join("empty");
    fs::create_dir_all(&empty).unwrap();

    // The laptop: the plugins on PATH.
    let laptop = install(&tmp.join("laptop/bin"), (&go, &grpc), 0o755);
    let out = kitgen(
        &["new", "addsvc"],
        tmp,
        laptop.0.parent().unwrap(),
        &empty,
        None,
    );
    ok(&out, "new with the plugins on PATH");
    let project = tmp.join("addsvc");
    let dir = ["--dir", project.to_str().unwrap()];

    // CI: no plugin on PATH, an empty plugin cache and no Go: it could
    // neither find nor build one, so a clean `check` proves none ran.
    let out = kitgen(&[&["check"][..], &dir].concat(), tmp, &empty, &empty, None);
    ok(&out, "check with the pinned versions, nothing installed");

    // Another machine: the same binaries elsewhere, newer, and not
    // executable, so that running one would fail.
    let elsewhere = install(&tmp.join("elsewhere"), (&go, &grpc), 0o644);
    let overrides = Some((elsewhere.0.as_path(), elsewhere.1.as_path()));
    let out = kitgen(
        &[&["check"][..], &dir].concat(),
        tmp,
        &empty,
        &empty,
        overrides,
    );
    ok(&out, "check with the same plugins elsewhere");

    // The test can fail: once the proto changes, those plugins must run, and cannot.
    let proto = project.join("proto/addsvc.proto");
    let text = fs::read_to_string(&proto).unwrap();
    fs::write(
        &proto,
        text.replace("message SumRequest", "// Edited.\nmessage SumRequest"),
    )
    .unwrap();
    let out = kitgen(
        &[&["check"][..], &dir].concat(),
        tmp,
        &empty,
        &empty,
        overrides,
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot run protoc-gen-go"), "{err}");
}

#[test]
fn plugins_of_unknown_version_are_known_by_their_contents() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    let (go, grpc) = pinned_plugins(tmp);
    let empty = tmp.join("empty");
    fs::create_dir_all(&empty).unwrap();
    let runs = tmp.join("runs");
    // Scripts carry no Go build info: they are keyed by their bytes.
    let wrapper = |dir: &Path, real: &Path, extra: &str| -> PathBuf {
        fs::create_dir_all(dir).unwrap();
        let script = dir.join(real.file_name().unwrap());
        fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n{extra}",
                runs.display(),
                real.display()
            ),
        )
        .unwrap();
        chmod(&script, 0o755);
        script
    };
    let count = || {
        fs::read_to_string(&runs)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };
    let first = (
        wrapper(&tmp.join("first"), &go, ""),
        wrapper(&tmp.join("first"), &grpc, ""),
    );
    let out = kitgen(
        &["new", "addsvc"],
        tmp,
        &empty,
        &empty,
        Some((&first.0, &first.1)),
    );
    ok(&out, "new with wrapped plugins");
    assert_eq!(count(), 2, "each plugin ran once");
    let project = tmp.join("addsvc");
    let check = ["check", "--dir", project.to_str().unwrap()];

    let copy = (
        wrapper(&tmp.join("copy"), &go, ""),
        wrapper(&tmp.join("copy"), &grpc, ""),
    );
    let out = kitgen(&check, tmp, &empty, &empty, Some((&copy.0, &copy.1)));
    ok(&out, "check with identical plugins elsewhere");
    assert_eq!(count(), 2, "no plugin ran");

    let changed = (
        wrapper(&tmp.join("changed"), &go, "# another build\n"),
        wrapper(&tmp.join("changed"), &grpc, "# another build\n"),
    );
    let out = kitgen(&check, tmp, &empty, &empty, Some((&changed.0, &changed.1)));
    ok(
        &out,
        "check with different plugins that give the same stubs",
    );
    assert_eq!(count(), 4, "different plugins ran again");
}
